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
	struct http_span path;  /* the target's path, still percent-encoded, without the query */
	int minor;              /* HTTP/1.<minor> */
	int keep_alive;         /* from the version and Connection */
	struct http_span range; /* the Range value, unparsed */
	/* The conditional fields (RFC 9110, 13.1), unparsed.  A field sent on
	 * several lines is the last of them: clients send each on one line. */
	struct http_span if_match;
	struct http_span if_unmodified_since;
	struct http_span if_none_match;
	struct http_span if_modified_since;
	struct http_span if_range;
	int has_body;           /* Content-Length > 0 or Transfer-Encoding */
};

/* Parse one request head from buf[0, len).  Returns its length (through the
 * blank line) when complete, 0 when more bytes are needed, or -status when
 * it can never be valid: -400 malformed (a '#' in the target among others:
 * a fragment is never sent, RFC 9112 3.2), -431 longer than max_head (or a
 * line that cannot fit), -505 not HTTP/1.x.  After an error r->method is
 * still the request's when its request line got that far (a HEAD's error
 * then goes without a body). */
int http_parse(const char *buf, size_t len, size_t max_head, struct http_req *r);

/* A single "bytes=" range against a blob of `size` bytes.  Returns 1 with
 * [*first, *last] set, 0 when the header is not one we honour (ignore it and
 * send the whole blob), or -416 when no byte of it exists. */
int http_range(struct http_span range, uint64_t size, uint64_t *first, uint64_t *last);

/* Does an If-Match or If-None-Match value list `etag` (or "*")?  etag is
 * ours, quoted and strong.  strong: RFC 9110 8.8.3.2's strong comparison,
 * where a weak tag (W/"...") never matches (If-Match); else the weak one,
 * where it may (If-None-Match).  0 when the span is absent. */
int http_etag_match(struct http_span list, const char *etag, int strong);

/* RFC 9110 13.2.2's steps 1 to 4 for a representation that exists, with
 * strong ETag etag and Last-Modified mtime (seconds): 412 when If-Match, or
 * without it If-Unmodified-Since, is false; 304 (GET, HEAD; 412 for other
 * methods) when If-None-Match, or without it If-Modified-Since (GET, HEAD
 * only), is false; else 0, and the request goes on.  A date that is not an
 * IMF-fixdate is ignored, as 13.1.3 and 13.1.4 ask. */
int http_preconditions(const struct http_req *r, const char *etag, int64_t mtime);

/* Step 5, If-Range (RFC 9110 13.1.5): 1 when Range is to be honoured (no
 * If-Range, or one that holds), 0 when the whole representation is to be
 * sent instead.  An entity-tag holds if it is strongly equal to etag; a date
 * only if mtime_strong (Last-Modified is a strong validator, 8.8.2.2) and it
 * equals mtime exactly. */
int http_if_range(const struct http_req *r, const char *etag, int64_t mtime, int mtime_strong);

/* Percent-decode a request path, once, into out (cap bytes, NUL-terminated).
 * Returns the decoded length, or -1 if a '%' is not followed by two hex
 * digits, if it decodes to NUL (no name holds one), or if out is too small
 * (cap > path.len always suffices). */
int http_decode_path(struct http_span path, char *out, size_t cap);

/* An IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT") as seconds since the
 * epoch, or -1 if it is not one. */
int64_t http_parse_date(struct http_span s);
/* The IMF-fixdate of t into buf (at least 30 bytes). */
void http_fmt_date(int64_t t, char *buf);

#endif
