/*
 * gzip decoded with zlib, member after member, right over the inner source:
 * inflateInit2 with 15 + 16 reads only the gzip wrapper and checks each
 * member's CRC-32 and ISIZE (and a header CRC-16 when there is one),
 * inflateReset starts the next member.  After the last member only zeros
 * may follow (padding, which gzip(1) ignores too); any other byte is an
 * error, because a damaged header of a further member looks just like
 * "trailing garbage", and ignoring it would hand out the members before it
 * as the whole stream.
 */
#include "archive_gz.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OUT_BLOCK (1 << 20)

/* zlib's reason for a bad member, in RFC 1952's terms where it has them
 * (zlib's own words otherwise: "invalid block type" and the like). */
static const char *gz_reason(const z_stream *z, int rc)
{
	if (rc == Z_MEM_ERROR)
		return strerror(ENOMEM);
	if (!z->msg)
		return "corrupt data";
	if (!strcmp(z->msg, "incorrect data check"))
		return "CRC-32 mismatch";
	if (!strcmp(z->msg, "incorrect length check"))
		return "ISIZE mismatch";
	if (!strcmp(z->msg, "header crc mismatch"))
		return "header CRC-16 mismatch";
	return z->msg;
}

int gz_start(struct gz *g, int eof, const char **why)
{
	if (!(g->out = malloc(OUT_BLOCK)))
		return fail_why(g->why, sizeof(g->why), why, "%s", strerror(ENOMEM));
	if (inflateInit2(&g->z, 15 + 16) != Z_OK)
		return fail_why(g->why, sizeof(g->why), why, "gzip: %s",
				g->z.msg ? g->z.msg : strerror(ENOMEM));
	g->z_ready = 1;
	g->z.next_in = g->in;
	g->z.avail_in = (uInt)g->have;
	g->in_eof = eof;
	g->member = 1;
	g->state = GZ_MEMBER;
	return 0;
}

/* GZ_BETWEEN: skip zeros; at another member's magic start it.  0 to go on
 * (the state says where), or -1 with *why. */
static int gz_between(struct gz *g, const char **why)
{
	z_stream *z = &g->z;

	while (z->avail_in && !*z->next_in) {
		z->next_in++;
		z->avail_in--;
		g->zeros = 1;
	}
	if (!z->avail_in) {
		if (g->in_eof)
			g->state = GZ_END;
		return 0;
	}
	if (g->zeros || *z->next_in != 0x1f)
		return fail_why(g->why, sizeof(g->why), why,
				"gzip: bytes after member %u are not a gzip member", g->member);
	inflateReset(z);
	g->member++;
	g->state = GZ_MEMBER;
	return 0;
}

ssize_t gz_read(struct gz *g, gz_pull_fn pull, void *arg, const void **block, const char **why)
{
	z_stream *z = &g->z;

	*why = NULL;
	for (;;) {
		if (g->state == GZ_END)
			return 0;
		if (!z->avail_in && !g->in_eof) {
			ssize_t n = pull(arg, g->in, g->in_size);
			if (n < 0)
				return -1;
			g->in_eof = n == 0;
			z->next_in = g->in;
			z->avail_in = (uInt)n;
		}
		if (g->state == GZ_BETWEEN) {
			if (gz_between(g, why) < 0)
				return -1;
			if (g->state != GZ_MEMBER)
				continue;
		}
		z->next_out = g->out;
		z->avail_out = OUT_BLOCK;
		int rc = inflate(z, Z_NO_FLUSH);
		size_t got = OUT_BLOCK - z->avail_out;
		if (rc == Z_STREAM_END)
			g->state = GZ_BETWEEN;
		else if (rc != Z_OK && rc != Z_BUF_ERROR)
			return fail_why(g->why, sizeof(g->why), why, "gzip: %s (member %u)",
					gz_reason(z, rc), g->member);
		else if (!got && !z->avail_in && g->in_eof)
			return fail_why(g->why, sizeof(g->why), why,
					"gzip: truncated input (member %u)", g->member);
		if (got) {
			*block = g->out;
			return (ssize_t)got;
		}
	}
}

int gz_active(const struct gz *g)
{
	return g->state != GZ_PROBE && g->state != GZ_PLAIN;
}

void gz_end(struct gz *g)
{
	if (g->z_ready)
		inflateEnd(&g->z);
	g->z_ready = 0;
	free(g->out);
	g->out = NULL;
}
