/*
 * Archives and compressed streams through libarchive: --extract MEMBER
 * streams one member of any archive libarchive reads (tar, zip, cpio, 7z,
 * ...), -z decodes a gzip, bzip2, xz, zstd or lz4 stream, both recognised by
 * content, never by name, and both over any other source.
 *
 * libarchive pulls its input and blocks, so it runs in a thread of its own
 * over the inner source (with its own event loop when that is a URL) and
 * writes what it decodes into a pipe; the fan-out reads the pipe like any
 * other descriptor, and a full ring stops the thread through the pipe.
 */
#include "loop.h"
#include "src.h"
#include "util.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BLOCK (1 << 20)
#define NAMES_SHOWN 8

struct arc {
	struct source inner;
	struct source_opts opts; /* the inner source's; its own loop for URLs */
	const char *member;      /* --extract, or NULL for -z */
	int out;                 /* the pipe's write end, the thread's */
	pthread_t thread;
	int started;
	uint8_t *in, *data;      /* libarchive's input block; decoded bytes */
	char err[512];           /* set by the thread when it fails */
};

/* libarchive wants the next block of input. */
static la_ssize_t in_cb(struct archive *a, void *arg, const void **block)
{
	struct arc *x = arg;
	ssize_t n = source_read_wait(&x->inner, x->opts.loop, x->in, BLOCK);

	if (n >= 0) {
		*block = x->in;
		return n;
	}
	archive_set_error(a, (int)-n, "%s", x->inner.err_text ? x->inner.err_text : strerror((int)-n));
	return -1;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1; /* the reader went away (EPIPE) */
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* The current entry's data into the pipe.  0, or -1 with x->err set. */
static int copy_entry(struct arc *x, struct archive *a)
{
	for (;;) {
		la_ssize_t n = archive_read_data(a, x->data, BLOCK);
		if (n == 0)
			return 0;
		if (n < 0) {
			snprintf(x->err, sizeof(x->err), "%s", archive_error_string(a));
			return -1;
		}
		if (write_all(x->out, x->data, (size_t)n) < 0)
			return 0; /* nobody reads any more: stop quietly */
	}
}

const char *archive_member_plain(const char *name)
{
	while (name[0] == '.' && name[1] == '/')
		name += 2;
	return name;
}

/* Find --extract's member and stream it, or say what the archive has. */
static int extract(struct arc *x, struct archive *a)
{
	struct archive_entry *e;
	char names[256] = "";
	size_t count = 0, len = 0;
	int rc;

	while ((rc = archive_read_next_header(a, &e)) == ARCHIVE_OK || rc == ARCHIVE_WARN) {
		const char *name = archive_entry_pathname(e);
		if (!name)
			continue;
		if (!strcmp(archive_member_plain(name), archive_member_plain(x->member))) {
			if (archive_entry_filetype(e) != AE_IFREG) {
				snprintf(x->err, sizeof(x->err), "'%s' is not a regular file in the archive",
					 x->member);
				return -1;
			}
			return copy_entry(x, a);
		}
		if (count++ < NAMES_SHOWN && len < sizeof(names) - 1)
			len += (size_t)snprintf(names + len, sizeof(names) - len, "%s%s",
						len ? ", " : "", name);
		archive_read_data_skip(a);
	}
	if (rc != ARCHIVE_EOF) {
		snprintf(x->err, sizeof(x->err), "%s", archive_error_string(a));
		return -1;
	}
	snprintf(x->err, sizeof(x->err), "no member '%s' in the archive; it has %zu: %s%s",
		 x->member, count, count ? names : "(nothing)", count > NAMES_SHOWN ? ", ..." : "");
	return -1;
}

/* Every archive format but the text ones: mtree would read any text file
 * as a list of entries, and open the files it names on this machine. */
static void support_archives(struct archive *a)
{
	archive_read_support_format_7zip(a);
	archive_read_support_format_ar(a);
	archive_read_support_format_cab(a);
	archive_read_support_format_cpio(a);
	archive_read_support_format_iso9660(a);
	archive_read_support_format_lha(a);
	archive_read_support_format_rar(a);
	archive_read_support_format_rar5(a);
	archive_read_support_format_tar(a);
	archive_read_support_format_xar(a);
	archive_read_support_format_zip(a);
}

static void *run(void *arg)
{
	struct arc *x = arg;
	struct archive *a = archive_read_new();
	struct archive_entry *e;

	archive_read_support_filter_all(a);
	if (x->member) {
		support_archives(a);
	} else {
		archive_read_support_format_raw(a); /* -z: the decoded stream itself */
		archive_read_support_format_empty(a);
	}
	if (archive_read_open(a, x, NULL, in_cb, NULL) != ARCHIVE_OK) {
		snprintf(x->err, sizeof(x->err), "%s", archive_error_string(a));
	} else if (x->member) {
		extract(x, a);
	} else {
		int rc = archive_read_next_header(a, &e);
		if (rc == ARCHIVE_OK || rc == ARCHIVE_WARN) {
			if (archive_filter_count(a) < 2) /* just "none": nothing to decode */
				snprintf(x->err, sizeof(x->err),
					 "-z: not compressed with gzip, bzip2, xz, zstd, lz4 or another "
					 "filter libarchive knows");
			else
				copy_entry(x, a);
		} else if (rc != ARCHIVE_EOF) {
			snprintf(x->err, sizeof(x->err), "%s", archive_error_string(a));
		}
	}
	archive_read_free(a);
	close(x->out);
	x->out = -1;
	return NULL;
}

static ssize_t arc_read(struct source *s, void *buf, size_t len)
{
	struct arc *x = s->priv;
	ssize_t n = src_fd_ops.read(s, buf, len);

	if (n != 0)
		return n;
	/* The pipe ended: the thread is done, for better or worse. */
	if (x->started) {
		pthread_join(x->thread, NULL);
		x->started = 0;
	}
	if (x->err[0]) {
		s->err_text = x->err;
		return -EIO;
	}
	return 0;
}

static void arc_close(struct source *s)
{
	struct arc *x = s->priv;

	if (s->fd >= 0)
		close(s->fd); /* a thread still writing gets EPIPE and ends */
	s->fd = -1;
	if (x->started) {
		/* One still waiting for input (a stopped run) is cancelled at
		 * that wait; one that has finished is merely joined. */
		pthread_cancel(x->thread);
		pthread_join(x->thread, NULL);
	}
	x->inner.ops->close(&x->inner);
	if (x->opts.loop)
		loop_free(x->opts.loop);
	free(x->in);
	free(x->data);
	free(x);
}

static const struct source_ops arc_ops = {
	.read = arc_read,
	.close = arc_close,
};

int src_archive_open(struct source *s, const char *spec, const struct source_opts *o,
		     const char *member, const char **why)
{
	struct arc *x = calloc(1, sizeof(*x));
	int p[2], rc;

	*s = (struct source){ .ops = &arc_ops, .fd = -1, .size = -1, .desc = spec };
	if (!x || !(x->in = malloc(BLOCK)) || !(x->data = malloc(BLOCK))) {
		if (x) {
			free(x->in);
			free(x);
		}
		return -ENOMEM;
	}
	x->member = member;
	x->out = -1;
	/* The inner source runs in the thread: a loop of its own, and no
	 * writing into the ring behind the fan-out's back. */
	x->opts = *o;
	x->opts.room = NULL;
	x->opts.commit = NULL;
	if (!(x->opts.loop = loop_new())) {
		rc = -errno;
		goto fail;
	}
	if ((rc = source_open_plain(&x->inner, spec, &x->opts, why)) < 0)
		goto fail;
	if (pipe2(p, O_CLOEXEC) < 0) {
		rc = -errno;
		x->inner.ops->close(&x->inner);
		goto fail;
	}
	fcntl(p[0], F_SETPIPE_SZ, BLOCK);
	x->out = p[1];
	s->fd = p[0];
	s->priv = x;
	/* The thread must not take the signals the event loop reads. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rc = -pthread_create(&x->thread, NULL, run, x);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc) {
		close(p[1]);
		x->out = -1;
		arc_close(s);
		return rc;
	}
	x->started = 1;
	return 0;
fail:
	if (x->opts.loop)
		loop_free(x->opts.loop);
	free(x->in);
	free(x->data);
	free(x);
	return rc;
}

/* ---- serve mode's --unpack: every regular member, one at a time ---- */

struct walk {
	struct arc x; /* for in_cb: the inner source and its loop */
	struct archive *a;
};

static ssize_t member_read(void *ctx, void *buf, size_t len)
{
	struct walk *w = ctx;
	la_ssize_t n = archive_read_data(w->a, buf, len);

	if (n < 0)
		snprintf(w->x.err, sizeof(w->x.err), "%s", archive_error_string(w->a));
	return n < 0 ? -EIO : (ssize_t)n;
}

char *archive_member_name(const char *path)
{
	char *out = malloc(strlen(path) + 1), *o = out;

	if (!out || path[0] == '/') {
		free(out);
		return NULL;
	}
	while (*path) {
		size_t n = strcspn(path, "/");
		if (n == 2 && path[0] == '.' && path[1] == '.') {
			free(out);
			return NULL;
		}
		if (n && !(n == 1 && path[0] == '.')) {
			if (o != out)
				*o++ = '/';
			memcpy(o, path, n);
			o += n;
		}
		path += n + (path[n] == '/');
	}
	*o = 0;
	if (o == out) {
		free(out);
		return NULL;
	}
	return out;
}

int archive_members(const char *spec, const struct source_opts *o, member_fn each, void *arg)
{
	struct walk w = { .x = { .out = -1 } };
	struct archive_entry *e;
	const char *why = NULL;
	int rc;

	w.x.opts = *o;
	w.x.opts.extract = NULL;
	w.x.opts.decompress = 0;
	w.x.opts.room = NULL;
	w.x.opts.commit = NULL;
	if (!(w.x.in = malloc(BLOCK)) || !(w.x.opts.loop = loop_new())) {
		free(w.x.in);
		errmsg("%s: %s", spec, strerror(ENOMEM));
		return -ENOMEM;
	}
	if ((rc = source_open_plain(&w.x.inner, spec, &w.x.opts, &why)) < 0) {
		errmsg("%s: %s", spec, why ? why : strerror(-rc));
		goto out;
	}
	w.a = archive_read_new();
	archive_read_support_filter_all(w.a);
	support_archives(w.a);
	if (archive_read_open(w.a, &w.x, NULL, in_cb, NULL) != ARCHIVE_OK) {
		errmsg("%s: --unpack: %s", spec, archive_error_string(w.a));
		rc = -EINVAL;
	} else {
		while ((rc = archive_read_next_header(w.a, &e)) == ARCHIVE_OK || rc == ARCHIVE_WARN) {
			const char *path = archive_entry_pathname(e);
			if (archive_entry_filetype(e) != AE_IFREG || !path)
				continue;
			char *name = archive_member_name(path);
			if (!name) {
				warnmsg("%s: skipping member '%s': it names a place outside the archive",
					spec, path);
				continue;
			}
			rc = each(arg, name, (int64_t)archive_entry_mtime(e), member_read, &w);
			if (rc < 0) {
				if (w.x.err[0])
					errmsg("%s: %s: %s", spec, path, w.x.err);
				goto close;
			}
		}
		if (rc == ARCHIVE_EOF) {
			rc = 0;
		} else {
			errmsg("%s: --unpack: %s", spec, archive_error_string(w.a));
			rc = -EINVAL;
		}
	}
close:
	archive_read_free(w.a);
	w.x.inner.ops->close(&w.x.inner);
out:
	loop_free(w.x.opts.loop);
	free(w.x.in);
	return rc;
}
