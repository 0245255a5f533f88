#include "blob.h"
#include "http.h"
#include "loop.h"
#include "src.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define LOAD_BUF (1 << 20)

/* Extension, then Content-Type. */
static const char *const types[][2] = {
	{ ".html", "text/html; charset=utf-8" },
	{ ".htm", "text/html; charset=utf-8" },
	{ ".txt", "text/plain; charset=utf-8" },
	{ ".css", "text/css" },
	{ ".js", "text/javascript" },
	{ ".json", "application/json" },
	{ ".xml", "application/xml" },
	{ ".svg", "image/svg+xml" },
	{ ".png", "image/png" },
	{ ".jpg", "image/jpeg" },
	{ ".jpeg", "image/jpeg" },
	{ ".gif", "image/gif" },
	{ ".webp", "image/webp" },
	{ ".ico", "image/x-icon" },
	{ ".pdf", "application/pdf" },
	{ ".wasm", "application/wasm" },
	{ ".mp4", "video/mp4" },
	{ ".webm", "video/webm" },
	{ ".zip", "application/zip" },
	{ ".gz", "application/gzip" },
	{ ".tgz", "application/gzip" },
	{ ".xz", "application/x-xz" },
	{ ".zst", "application/zstd" },
	{ ".bz2", "application/x-bzip2" },
	{ ".tar", "application/x-tar" },
	{ ".iso", "application/x-iso9660-image" },
};

const char *blob_type(const char *name)
{
	const char *dot = strrchr(name, '.');

	if (dot && dot != name)
		for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
			if (!strcasecmp(dot, types[i][0]))
				return types[i][1];
	return "application/octet-stream";
}

/* The last '/'-separated segment of [p, end): a pointer into it. */
static const char *last_segment(const char *p, const char *end)
{
	const char *start = p;

	for (; p < end; p++)
		if (*p == '/')
			start = p + 1;
	return start;
}

/* The name a request path finds a blob by: for a file, its file name, every
 * byte of it (a '?', '#', '%' or space is part of the name, not URL syntax);
 * for a URL, its last path segment without the query, percent-decoded once
 * as a request path is (kept as it is if it would decode to '/', NUL, "." or
 * ".."); "stdin" for -; "index" when that leaves nothing (a URL that ends in
 * '/').  Never empty, so no blob ever takes the path '/' (serve.c lists the
 * blobs there); "." or ".." (a URL's raw last segment) are refused by the
 * caller.  NULL when out of memory. */
static char *blob_name(const char *spec)
{
	const char *end = spec + strlen(spec), *start;

	if (!strcmp(spec, "-"))
		return strdup("stdin");
	if (src_curl_is_url(spec)) {
		end = spec + strcspn(spec, "?#");
		start = last_segment(spec, end);
		size_t n = (size_t)(end - start);
		char *dec = malloc(n + 1);
		int len = dec ? http_decode_path((struct http_span){ start, n }, dec, n + 1) : -1;
		if (len > 0 && !memchr(dec, '/', (size_t)len) && strcmp(dec, ".") &&
		    strcmp(dec, ".."))
			return dec;
		free(dec);
	} else {
		start = last_segment(spec, end);
	}
	return start == end ? strdup("index") : strndup(start, (size_t)(end - start));
}

/* Last-Modified of a blob whose content was read by now, from a file or
 * archive member modified at t (seconds) when known (known), else at now.
 * Never later than now: an origin server must not send a Last-Modified
 * later than its Date, and a future time is replaced (RFC 9110, 8.8.2.1);
 * the load time is what replaces it, since the blob never changes after it
 * and every Date sent is later, and so the same value is sent and compared
 * (If-Modified-Since, If-Range) for as long as the blob is served.  Strong
 * (8.8.2.2) only for a known time whose second had passed by then: a file
 * changed again within its mtime's second, after we read it, would keep it;
 * a load time, or a future time replaced by it, is weak. */
static void set_mtime(struct blob *b, int64_t t, int known)
{
	int64_t now = (int64_t)time(NULL);

	b->mtime = known ? MIN(t, now) : now;
	b->mtime_strong = known && b->mtime < now;
}

/* FNV-1a, 64 bits: the content's part of the ETag. */
static uint64_t fnv1a(uint64_t h, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	return h;
}

/* A source as a reader for copy_in. */
struct src_reader {
	struct source *s;
	struct loop *loop;
};

static ssize_t source_rd(void *ctx, void *buf, size_t len)
{
	struct src_reader *r = ctx;

	return source_read_wait(r->s, r->loop, -1, buf, len);
}

/* Everything rd gives into fd, with its FNV-1a hash.  0 or -errno. */
static int copy_in(ssize_t (*rd)(void *, void *, size_t), void *ctx, int fd, uint64_t *size,
		   uint64_t *hash)
{
	uint8_t *buf = malloc(LOAD_BUF);
	uint64_t h = 0xcbf29ce484222325ULL, n = 0;
	int rc = 0;

	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t r = rd(ctx, buf, LOAD_BUF);
		if (r <= 0) {
			rc = (int)r;
			break;
		}
		for (ssize_t off = 0; off < r;) {
			ssize_t w = write(fd, buf + off, (size_t)(r - off));
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0) {
				rc = -errno;
				goto out;
			}
			off += w;
		}
		h = fnv1a(h, buf, (size_t)r);
		n += (uint64_t)r;
	}
out:
	free(buf);
	*size = n;
	*hash = h;
	return rc;
}

/* Seal b's memfd, map it and give it its ETag.  0 or -errno after a message. */
static int finish(struct blob *b, uint64_t hash, const char *spec)
{
	if (fcntl(b->fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) <
	    0) {
		int e = errno;
		errmsg("%s: cannot seal: %s", spec, strerror(e));
		return -e;
	}
	if (b->size) {
		void *m = mmap(NULL, b->size, PROT_READ, MAP_SHARED, b->fd, 0);
		if (m == MAP_FAILED) {
			int e = errno;
			errmsg("%s: mmap: %s", spec, strerror(e));
			return -e;
		}
		b->map = m;
	}
	snprintf(b->etag, sizeof(b->etag), "\"%llx-%016llx\"", (unsigned long long)b->size,
		 (unsigned long long)hash);
	return 0;
}

int blob_load(struct blob *b, const char *spec, const struct source_opts *opts)
{
	struct source s;
	const char *why = NULL;
	struct stat st;
	uint64_t hash = 0;
	struct source_opts o = *opts;

	*b = (struct blob){ .fd = -1 };
	if (!(b->name = blob_name(spec))) {
		errmsg("%s: %s", spec, strerror(ENOMEM));
		return -ENOMEM;
	}
	/* A URL's last segment may be "." or "..", and a link to such a name
	 * would not fetch it: a client resolves dot segments away (RFC 3986,
	 * 5.2.4), "/.." to "/".  Refused before it is fetched.  (A path that
	 * ends so is a directory, which source_open refuses.) */
	if (src_curl_is_url(spec) && (!strcmp(b->name, ".") || !strcmp(b->name, ".."))) {
		errmsg("%s: cannot serve a BLOB named '%s' (its last path segment): a client "
		       "would fetch / instead; give the URL without the dot segment",
		       spec, b->name);
		blob_free(b);
		return -EINVAL;
	}
	b->type = blob_type(b->name);
	/* Its own loop: loading happens before serving starts. */
	if (!(o.loop = loop_new())) {
		int e = errno;
		blob_free(b);
		return -e;
	}
	int rc = source_open(&s, spec, &o, &why);
	if (rc < 0) {
		errmsg("%s: %s", spec, why ? why : strerror(-rc));
		loop_free(o.loop);
		blob_free(b);
		return rc;
	}
	int file = fstat(s.fd, &st) == 0 && S_ISREG(st.st_mode);
	b->fd = memfd_create("ringcast-blob", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	struct src_reader r = { &s, o.loop };
	rc = b->fd < 0 ? -errno : copy_in(source_rd, &r, b->fd, &b->size, &hash);
	if (rc < 0)
		errmsg("%s: %s", spec, s.why ? s.why : strerror(-rc));
	s.ops->close(&s);
	loop_free(o.loop);
	set_mtime(b, file ? (int64_t)st.st_mtime : 0, file);
	if (rc < 0 || (rc = finish(b, hash, spec)) < 0)
		goto fail;
	return 0;
fail:
	blob_free(b);
	return rc;
}

void blob_free(struct blob *b)
{
	free((char *)b->name);
	if (b->map)
		munmap((void *)b->map, b->size);
	if (b->fd >= 0)
		close(b->fd);
	*b = (struct blob){ .fd = -1 };
}

struct unpack {
	const char *spec;
	int (*add)(void *arg, struct blob *b);
	void *arg;
};

static int add_member(void *arg, char *name, int64_t mtime,
		      ssize_t (*rd)(void *ctx, void *buf, size_t len), void *ctx)
{
	struct unpack *u = arg;
	struct blob b = { .fd = -1, .name = name, .type = blob_type(name) };
	uint64_t hash = 0;
	int rc;

	b.fd = memfd_create("ringcast-blob", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	rc = b.fd < 0 ? -errno : copy_in(rd, ctx, b.fd, &b.size, &hash);
	set_mtime(&b, mtime, 1);
	if (rc == 0)
		rc = finish(&b, hash, u->spec);
	if (rc == 0)
		rc = u->add(u->arg, &b);
	if (rc < 0)
		blob_free(&b);
	return rc;
}

int blob_unpack(const char *spec, const struct source_opts *opts,
		int (*add)(void *arg, struct blob *b), void *arg)
{
	struct unpack u = { spec, add, arg };
	const char *why;
	int rc = archive_members(spec, opts, add_member, &u, &why);

	if (rc < 0 && why)
		errmsg("%s: %s", spec, why);
	return rc;
}

/* A reader over bytes in memory, for copy_in. */
struct mem_reader {
	const char *p;
	size_t left;
};

static ssize_t mem_rd(void *ctx, void *buf, size_t len)
{
	struct mem_reader *m = ctx;
	size_t n = MIN(len, m->left);

	memcpy(buf, m->p, n);
	m->p += n;
	m->left -= n;
	return (ssize_t)n;
}

int blob_from_mem(struct blob *b, const char *name, const char *type, const void *data, size_t len)
{
	struct mem_reader m = { data, len };
	const char *what = name[0] ? name : "/"; /* for messages */
	uint64_t hash = 0;
	int rc;

	*b = (struct blob){ .fd = -1, .type = type, .mtime = (int64_t)time(NULL) };
	b->name = strdup(name);
	b->fd = memfd_create("ringcast-blob", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	rc = !b->name ? -ENOMEM : b->fd < 0 ? -errno : copy_in(mem_rd, &m, b->fd, &b->size, &hash);
	if (rc < 0)
		errmsg("%s: %s", what, strerror(-rc));
	else
		rc = finish(b, hash, what);
	if (rc < 0)
		blob_free(b);
	return rc;
}
