/*
 * The HTTP/1.1 request parser for serve mode: a pure function over a buffer,
 * with no allocation and no I/O, so it can be unit-tested and fuzzed alone.
 * Only what serving static blobs needs is kept; other headers are skipped.
 */
#ifndef RINGCAST_HTTP_H
#define RINGCAST_HTTP_H

#include <stddef.h>
#include <stdint.h>

enum http_method { HTTP_GET, HTTP_HEAD, HTTP_OTHER };

struct http_span {
	const char *p; /* into the parsed buffer; NULL when absent */
	size_t len;
};

struct http_req {
	enum http_method method;
	struct http_span path;  /* the target's path, without a query */
	int minor;              /* HTTP/1.<minor> */
	int keep_alive;         /* from the version and Connection */
	struct http_span range; /* the Range value, unparsed */
	struct http_span if_none_match;
	struct http_span if_modified_since;
	struct http_span if_range;
	int has_body;           /* Content-Length > 0 or Transfer-Encoding */
};

/* Parse one request head from buf[0, len).  Returns its length (through the
 * blank line) when complete, 0 when more bytes are needed, or -status when
 * it can never be valid: -400 malformed, -431 longer than max_head (or a
 * line that cannot fit), -505 not HTTP/1.x. */
int http_parse(const char *buf, size_t len, size_t max_head, struct http_req *r);

/* A single "bytes=" range against a blob of `size` bytes.  Returns 1 with
 * [*first, *last] set, 0 when the header is not one we honour (ignore it and
 * send the whole blob), or -416 when no byte of it exists. */
int http_range(struct http_span range, uint64_t size, uint64_t *first, uint64_t *last);

/* Does an If-None-Match value list `etag` (or "*")? */
int http_etag_match(struct http_span inm, const char *etag);

/* An IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT") as seconds since the
 * epoch, or -1 if it is not one. */
int64_t http_parse_date(struct http_span s);
/* The IMF-fixdate of t into buf (at least 30 bytes). */
void http_fmt_date(int64_t t, char *buf);

#endif
