/*
 * Archives and compressed streams: --extract MEMBER streams one member of
 * any archive libarchive reads (tar, zip, cpio, 7z, ...), -z decodes a
 * gzip, bzip2, xz, zstd or lz4 stream, both recognised by content, never by
 * name, and both over any other source.
 *
 * libarchive pulls its input and blocks, so it runs in a thread of its own
 * over the inner source (with its own event loop when that is a URL) and
 * writes what it decodes into a pipe; the fan-out reads the pipe like any
 * other descriptor, and a full ring stops the thread through the pipe.
 *
 * Three layers, so that every integrity field a format carries is checked
 * before the pipe ends (a failure ends it with x->err set, and the fan-out
 * resets every destination):
 * - gzip is decoded with zlib, member after member, right over the inner
 *   source, every member's CRC-32 and ISIZE checked (archive_gz.c).  gzip
 *   is recognised as the outermost layer only:
 *   libarchive's gzip reader, which checks nothing, is never enabled, so a
 *   gzip stream inside another filter is left as it is.
 * - "filt", a libarchive reader with every other filter and the raw format,
 *   turns that into the decoded stream, and is always read to its very end:
 *   xz, zstd and lz4 keep their check at the end of a block or frame (one for
 *   a whole file), and --extract used to stop reading once its member was
 *   out, delivering a tar.xz, tar.zst or tar.lz4 member with a flipped byte
 *   as whole, with exit status 0.
 * - "fmt" (--extract and --unpack), a second reader with the archive formats
 *   and no filters, reads the archive from filt's stream.
 *
 * What libarchive 3.6.2 (Debian 12) checks, found by flipping one byte in
 * the middle of 4 MiB of random data compressed by the usual tool, and by
 * flipping one byte of the check field alone:
 * - gzip: neither CRC-32 nor ISIZE, in any member; a flipped byte in a stored
 *   block, a wrong ISIZE, a corrupt second member all decode as whole.
 *   Hence zlib, above.
 * - bzip2: every block's CRC and the stream's: "bzip decompression failed".
 * - xz: the block check (CRC64 by default) through liblzma: "Lzma library
 *   error: Corrupted input data".
 * - zstd: the frame's content checksum, which zstd(1) writes by default:
 *   "Zstd decompression failed: Restored data doesn't match checksum".
 * - lz4: the frame's content checksum, which lz4(1) sets by default (also
 *   with --content-size): "lz4 stream checksum error"; block checksums
 *   (lz4 -BX): "malformed lz4 data".  A frame made with --no-frame-crc and no
 *   block checksums carries nothing to check.
 * - zip: each member's CRC-32, stored or deflated: "ZIP bad CRC: 0x... should
 *   be 0x...".
 * So the filters' errors are libarchive's own, prefixed with the filter's
 * name.  Not measured: the checks of 7z, rar, lzip and the formats libarchive
 * hands to an outside program (lrzip, grzip, lzop); compress (.Z), lzma-alone,
 * uu, tar, cpio and ar carry no checksum of the data.
 */
#include "archive_gz.h"
#include "loop.h"
#include "src.h"
#include "util.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BLOCK       (1 << 20)
#define NAMES_SHOWN 8

struct arc {
	struct source inner;
	struct source_opts opts; /* the inner source's; its own loop for URLs */
	const char *member;      /* --extract, or NULL for -z */
	int out;                 /* the pipe's write end, the thread's */
	pthread_t thread;
	int started;
	uint8_t *in, *data; /* the raw input block; decoded bytes */
	struct gz gz;
	struct archive *filt; /* filters over the gzip layer, raw format */
	struct archive *fmt;  /* archive formats over filt's stream */
	int filt_end;         /* filt has given its last byte */
	char err[512];        /* why the thread failed: the first reason */
};

/* Record why the decoding failed.  The first reason is the one told, since
 * what fails after it fails because of it.  Returns -1 to pass on. */
static int __attribute__((format(printf, 2, 3))) arc_fail(struct arc *x, const char *fmt, ...)
{
	va_list ap;

	if (x->err[0])
		return -1;
	va_start(ap, fmt);
	vsnprintf(x->err, sizeof(x->err), fmt, ap);
	va_end(ap);
	return -1;
}

static const char *lib_error(struct archive *a)
{
	const char *e = archive_error_string(a);

	return e ? e : "libarchive failed without saying why";
}

/* Bytes of the inner source into buf: their count, 0 at its end, or -1
 * with x->err saying why it failed. */
static ssize_t inner_read(struct arc *x, uint8_t *buf, size_t len)
{
	ssize_t n = source_read_wait(&x->inner, x->opts.loop, x->out, buf, len);

	if (n >= 0)
		return n;
	return arc_fail(x, "%s", x->inner.why ? x->inner.why : strerror((int)-n));
}

/* gz's pull: the inner source's bytes, or -1 with x->err. */
static ssize_t gz_pull(void *arg, uint8_t *buf, size_t len)
{
	return inner_read(arg, buf, len);
}

/* The gzip layer's next decoded bytes (gz_read), or -1 with x->err. */
static la_ssize_t gz_next(struct arc *x, const void **block)
{
	const char *why;
	ssize_t n = gz_read(&x->gz, gz_pull, x, block, &why);

	if (n < 0 && why)
		arc_fail(x, "%s", why);
	return n;
}

/* filt wants the next block of input: the inner source's bytes, or, when
 * they start with gzip's magic (1f 8b), what zlib decodes from them. */
static la_ssize_t in_cb(struct archive *a, void *arg, const void **block)
{
	struct arc *x = arg;
	struct gz *g = &x->gz;
	ssize_t n = 0;

	switch (g->state) {
	case GZ_PROBE:
		while (g->have < 2 && (n = inner_read(x, x->in + g->have, BLOCK - g->have)) > 0)
			g->have += (size_t)n;
		if (n < 0)
			break;
		if (g->have >= 2 && x->in[0] == 0x1f && x->in[1] == 0x8b) {
			const char *why;
			g->in = x->in;
			g->in_size = BLOCK;
			if (gz_start(g, n == 0, &why) < 0)
				n = arc_fail(x, "%s", why);
			else
				n = gz_next(x, block);
			break;
		}
		g->state = GZ_PLAIN;
		*block = x->in;
		n = (ssize_t)g->have;
		break;
	case GZ_PLAIN:
		*block = x->in;
		n = inner_read(x, x->in, BLOCK);
		break;
	default:
		n = gz_next(x, block);
	}
	if (n < 0)
		archive_set_error(a, EIO, "%s", x->err);
	return n;
}

/* filt failed: its reason, with the filter's name, unless what lies under
 * it (the gzip layer, the inner source) has already said why.  -1. */
static int filt_failed(struct arc *x)
{
	if (archive_filter_count(x->filt) > 1)
		return arc_fail(x, "%s: %s", archive_filter_name(x->filt, 0), lib_error(x->filt));
	return arc_fail(x, "%s", lib_error(x->filt));
}

/* fmt wants the next block of the archive: the next of filt's stream. */
static la_ssize_t filt_cb(struct archive *a, void *arg, const void **block)
{
	struct arc *x = arg;
	size_t size = 0;
	la_int64_t off;

	while (!x->filt_end && !size) {
		int rc = archive_read_data_block(x->filt, block, &size, &off);
		if (rc == ARCHIVE_EOF) {
			x->filt_end = 1;
			size = 0;
		} else if (rc != ARCHIVE_OK) {
			filt_failed(x);
			archive_set_error(a, EIO, "%s", x->err);
			return -1;
		}
	}
	return (la_ssize_t)size;
}

/* Read filt to its very end, so that every check its filters keep there,
 * and every gzip trailer, is verified however early fmt stopped (a member
 * found, a tar's end marker).  Plain input holds nothing to verify and is
 * not read further.  0, or -1 with x->err. */
static int filt_drain(struct arc *x)
{
	const void *b;
	size_t size;
	la_int64_t off;

	if (!gz_active(&x->gz) && archive_filter_count(x->filt) < 2)
		return 0;
	while (!x->filt_end) {
		int rc = archive_read_data_block(x->filt, &b, &size, &off);
		if (rc == ARCHIVE_EOF)
			x->filt_end = 1;
		else if (rc != ARCHIVE_OK)
			return filt_failed(x);
	}
	return 0;
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

/* The current entry's data (fmt's member, or filt's whole stream) into the
 * pipe.  0 at its end, 1 when nobody reads any more (stop quietly), or -1
 * with x->err set. */
static int copy_entry(struct arc *x, struct archive *a)
{
	for (;;) {
		la_ssize_t n = archive_read_data(a, x->data, BLOCK);
		if (n == 0)
			return 0;
		if (n < 0)
			return a == x->filt ? filt_failed(x) : arc_fail(x, "%s", lib_error(a));
		if (write_all(x->out, x->data, (size_t)n) < 0)
			return 1;
	}
}

/* Find --extract's member in fmt and stream it, or say what the archive
 * has.  0 when it is out, 1 when nobody reads any more, -1 with x->err. */
static int extract(struct arc *x)
{
	struct archive *a = x->fmt;
	struct archive_entry *e;
	char names[256] = "";
	size_t count = 0, len = 0;
	int rc;

	while ((rc = archive_read_next_header(a, &e)) == ARCHIVE_OK || rc == ARCHIVE_WARN) {
		const char *name = archive_entry_pathname(e);
		if (!name)
			continue;
		if (!strcmp(archive_member_plain(name), archive_member_plain(x->member))) {
			if (archive_entry_filetype(e) != AE_IFREG)
				return arc_fail(x, "'%s' is not a regular file in the archive",
						x->member);
			return copy_entry(x, a);
		}
		if (count++ < NAMES_SHOWN && len < sizeof(names) - 1)
			len += (size_t)snprintf(names + len, sizeof(names) - len, "%s%s",
						len ? ", " : "", name);
		archive_read_data_skip(a);
	}
	if (rc != ARCHIVE_EOF)
		return arc_fail(x, "%s", lib_error(a));
	return arc_fail(x, "no member '%s' in the archive; it has %zu: %s%s", x->member, count,
			count ? names : "(nothing)", count > NAMES_SHOWN ? ", ..." : "");
}

/* Every filter libarchive has but gzip, which zlib decodes under them, as
 * libarchive's gzip reader checks nothing.  lrzip, grzip (and lzop without
 * liblzo2) work through their programs, when those are installed. */
static void support_filters(struct archive *a)
{
	archive_read_support_filter_bzip2(a);
	archive_read_support_filter_compress(a);
	archive_read_support_filter_grzip(a);
	archive_read_support_filter_lrzip(a);
	archive_read_support_filter_lz4(a);
	archive_read_support_filter_lzip(a);
	archive_read_support_filter_lzma(a);
	archive_read_support_filter_lzop(a);
	archive_read_support_filter_rpm(a);
	archive_read_support_filter_uu(a);
	archive_read_support_filter_xz(a);
	archive_read_support_filter_zstd(a);
	archive_clear_error(a); /* "using an outside program": not an error */
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

/* The readers over x's inner source: filt (its one raw entry opened, or
 * filt_end set for empty input) and, with formats, fmt over filt.  0, or -1
 * with x->err. */
static int chain_open(struct arc *x, int formats)
{
	struct archive_entry *e;
	int rc;

	if (!(x->filt = archive_read_new()))
		return arc_fail(x, "%s", strerror(ENOMEM));
	support_filters(x->filt);
	archive_read_support_format_raw(x->filt);
	archive_read_support_format_empty(x->filt);
	if (archive_read_open(x->filt, x, NULL, in_cb, NULL) != ARCHIVE_OK)
		return filt_failed(x);
	rc = archive_read_next_header(x->filt, &e);
	if (rc == ARCHIVE_EOF)
		x->filt_end = 1;
	else if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN)
		return filt_failed(x);
	if (!formats)
		return 0;
	if (!(x->fmt = archive_read_new()))
		return arc_fail(x, "%s", strerror(ENOMEM));
	support_archives(x->fmt);
	if (archive_read_open(x->fmt, x, NULL, filt_cb, NULL) != ARCHIVE_OK)
		return arc_fail(x, "%s", lib_error(x->fmt));
	return 0;
}

/* Free what chain_open made; also after the thread was cancelled in it. */
static void chain_close(struct arc *x)
{
	if (x->fmt)
		archive_read_free(x->fmt);
	if (x->filt)
		archive_read_free(x->filt);
	x->fmt = x->filt = NULL;
	gz_end(&x->gz);
}

static void *run(void *arg)
{
	struct arc *x = arg;

	if (chain_open(x, x->member != NULL) < 0) {
		/* x->err says why */
	} else if (x->member) {
		if (extract(x) == 0)
			filt_drain(x);
	} else if (!gz_active(&x->gz) && archive_filter_count(x->filt) < 2 && x->filt_end) {
		/* Not even a compressed empty stream: a producer that failed
		 * before writing anything must not look like a whole one. */
		arc_fail(x, "-z: the input is empty, not compressed data");
	} else if (!gz_active(&x->gz) && archive_filter_count(x->filt) < 2) {
		arc_fail(x,
			 "-z: not compressed with gzip, bzip2, xz, zstd, lz4 or another "
			 "filter libarchive knows");
	} else if (!x->filt_end) {
		copy_entry(x, x->filt); /* to filt's end: every check verified */
	}
	chain_close(x);
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
		s->why = x->err;
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
		/* One still waiting for input (a stopped run) sees its pipe's
		 * reader gone and ends (source_read_wait's stop_fd); one still
		 * writing gets EPIPE.  No pthread_cancel: unwinding a thread
		 * out of poll() is what AddressSanitizer reports as a stack
		 * underflow, and it leaves nothing to reason about. */
		pthread_join(x->thread, NULL);
		chain_close(x);
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
	x->opts.sink = (struct source_sink){ 0 };
	if (!(x->opts.loop = loop_new())) {
		rc = -errno;
		goto fail;
	}
	if ((rc = source_open_plain(&x->inner, spec, &x->opts, why)) < 0)
		goto fail;
	s->desc = x->inner.desc; /* "stdin" for "-", as without -z */
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

static ssize_t member_read(void *ctx, void *buf, size_t len)
{
	struct arc *x = ctx;
	la_ssize_t n = archive_read_data(x->fmt, buf, len);

	if (n < 0) {
		arc_fail(x, "%s", lib_error(x->fmt));
		return -EIO;
	}
	return (ssize_t)n;
}

/* archive_members' *why when it says more than x.err: "--unpack: ..." or
 * "MEMBER: ...". */
static const char *__attribute__((format(printf, 1, 2))) members_why(const char *fmt, ...)
{
	static _Thread_local char buf[8192];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return buf;
}

int archive_members(const char *spec, const struct source_opts *o, member_fn each, void *arg,
		    const char **why)
{
	struct arc x = { .out = -1 }; /* no thread, no pipe: the readers only */
	struct archive_entry *e;
	int rc;

	*why = NULL;
	x.opts = *o;
	x.opts.extract = NULL;
	x.opts.decompress = 0;
	x.opts.sink = (struct source_sink){ 0 };
	if (!(x.in = malloc(BLOCK)) || !(x.opts.loop = loop_new())) {
		free(x.in);
		*why = strerror(ENOMEM);
		return -ENOMEM;
	}
	if ((rc = source_open_plain(&x.inner, spec, &x.opts, why)) < 0) {
		if (!*why)
			*why = strerror(-rc);
		goto out;
	}
	if (chain_open(&x, 1) < 0) {
		*why = members_why("--unpack: %s", x.err);
		rc = -EINVAL;
		goto close;
	}
	while ((rc = archive_read_next_header(x.fmt, &e)) == ARCHIVE_OK || rc == ARCHIVE_WARN) {
		const char *path = archive_entry_pathname(e);
		if (archive_entry_filetype(e) != AE_IFREG || !path)
			continue;
		char *name = archive_member_name(path);
		if (!name) {
			warnmsg("%s: skipping member '%s': it names a place outside the archive",
				spec, path);
			continue;
		}
		rc = each(arg, name, (int64_t)archive_entry_mtime(e), member_read, &x);
		if (rc < 0) {
			if (x.err[0])
				*why = members_why("%s: %s", path, x.err);
			goto close;
		}
	}
	if (rc != ARCHIVE_EOF)
		arc_fail(&x, "%s", lib_error(x.fmt));
	else
		filt_drain(&x); /* the members are whole only if the stream is */
	if (x.err[0]) {
		*why = members_why("--unpack: %s", x.err);
		rc = -EINVAL;
	} else {
		rc = 0;
	}
close:
	chain_close(&x);
	x.inner.ops->close(&x.inner);
out:
	loop_free(x.opts.loop);
	free(x.in);
	return rc;
}
