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

/* The lines of an If-Match or If-None-Match field kept, at most: a field
 * sent on several lines is one comma-separated list (RFC 9110, 5.3), so
 * each line counts; a request with more lines of one gets 431. */
#define HTTP_LIST_LINES 8

struct http_list {
	struct http_span line[HTTP_LIST_LINES]; /* each line's value, unparsed */
	int n;                                  /* 0: the field is absent */
};

/* http_parse_date's answer for a value that is not a date. */
#define HTTP_NO_DATE INT64_MIN

struct http_req {
	enum http_method method;
	/* The target's path, still percent-encoded, without the query; of an
	 * absolute-form target (RFC 9112, 3.2.2) with the http or https scheme,
	 * the path after the authority, "/" when empty (RFC 9110, 4.2.3). */
	struct http_span path;
	int minor;              /* HTTP/1.<minor> */
	int keep_alive;         /* from the version and every Connection line */
	/* The fields below that are not lists (RFC 9110, 5.3), unparsed: one
	 * sent on several lines is their combination, a list, which none of them
	 * may be, and its span is then "," so that it is no valid value either
	 * (a Range then ignored, 14.2; a date ignored, 13.1.3 and 13.1.4; an
	 * If-Range that does not hold, 13.1.5). */
	struct http_span range;
	struct http_span if_unmodified_since;
	struct http_span if_modified_since;
	struct http_span if_range;
	/* The conditional fields that are lists (RFC 9110, 13.1.1 and 13.1.2). */
	struct http_list if_match;
	struct http_list if_none_match;
	int has_body;           /* Content-Length > 0 or Transfer-Encoding */
};

/* Parse one request head from buf[0, len).  Returns its length (through the
 * blank line) when complete, 0 when more bytes are needed, or -status when
 * it can never be valid: -400 malformed (a '#' in the target among others:
 * a fragment is never sent, RFC 9112 3.2), -414 a request line that does not
 * end within max_head bytes while its target goes on (RFC 9112, 3), -431 a
 * head longer than max_head (or more than HTTP_LIST_LINES lines of a list
 * field), -505 not HTTP/1.x.  After an error r->method is still the
 * request's when its method got through (a HEAD's error then goes without
 * a body, RFC 9110 9.3.2), even from a request line that never ended. */
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
 * strong ETag etag and Last-Modified mtime (seconds; the value sent): 412
 * when If-Match, or without it If-Unmodified-Since, is false; 304 (GET,
 * HEAD; 412 for other methods) when If-None-Match, or without it
 * If-Modified-Since (GET, HEAD only), is false; else 0, and the request
 * goes on.  A date that http_parse_date does not take (now: the server's
 * clock, for it) is ignored, as 13.1.3 and 13.1.4 ask. */
int http_preconditions(const struct http_req *r, const char *etag, int64_t mtime, int64_t now);

/* Step 5, If-Range (RFC 9110 13.1.5): 1 when Range is to be honoured (no
 * If-Range, or one that holds), 0 when the whole representation is to be
 * sent instead.  An entity-tag holds if it is strongly equal to etag; a date
 * only if mtime_strong (Last-Modified is a strong validator, 8.8.2.2) and it
 * equals mtime exactly. */
int http_if_range(const struct http_req *r, const char *etag, int64_t mtime, int mtime_strong,
		  int64_t now);

/* Percent-decode a request path, once, into out (cap bytes, NUL-terminated).
 * Returns the decoded length, or -1 if a '%' is not followed by two hex
 * digits, if it decodes to NUL (no name holds one), or if out is too small
 * (cap > path.len always suffices). */
int http_decode_path(struct http_span path, char *out, size_t cap);

/* An HTTP-date as seconds since the epoch, or HTTP_NO_DATE if s is not one.
 * All three forms are taken, as RFC 9110 5.6.7 requires of a recipient:
 * IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"), the obsolete RFC 850 form
 * ("Sunday, 06-Nov-94 08:49:37 GMT", whose two-digit year is taken in the
 * century of now, or in the one before when that is more than 50 years
 * ahead of now, as 5.6.7 says) and asctime's ("Sun Nov  6 08:49:37 1994").  Names are matched
 * case-sensitively, as the grammar has them; the day must exist in its
 * month.  The day name must be one of the seven, but need not be the
 * date's: 5.6.7 asks recipients to be robust, the date fields say which day
 * it is, and common servers (nginx, Apache httpd) do not check it either. */
int64_t http_parse_date(struct http_span s, int64_t now);
/* The IMF-fixdate of t into buf (at least 30 bytes). */
void http_fmt_date(int64_t t, char *buf);

#endif
