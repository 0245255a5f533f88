/*
 * HTTP/1.1 for serve mode: the request parser, the conditional and range
 * rules, and the response heads.  Pure functions over buffers, with no I/O
 * (and no allocation but http_ok_head's), so they can be unit-tested and
 * fuzzed alone.  Only what serving static blobs needs is kept; other
 * headers are skipped.
 */
#ifndef RINGCAST_HTTP_H
#define RINGCAST_HTTP_H

#include <stddef.h>
#include <stdint.h>

enum http_method {
	HTTP_GET,
	HTTP_HEAD,
	HTTP_OTHER
};

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
	int minor;      /* HTTP/1.<minor> */
	int keep_alive; /* from the version and every Connection line */
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
	int has_body; /* Content-Length > 0 or Transfer-Encoding */
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

/* What serve mode knows of a representation (a blob), for http_answer and
 * http_head. */
struct http_rep {
	uint64_t size;    /* bytes */
	int64_t mtime;    /* Last-Modified, seconds since the epoch */
	int mtime_strong; /* Last-Modified is a strong validator (blob.h) */
	const char *etag; /* ETag: quoted and strong */
	const char *type; /* Content-Type */
	/* Its 200 head but for Date and Connection (http_ok_head), or NULL
	 * to have http_head build it each time. */
	const char *ok_head;
	size_t ok_head_len;
};

/* A response, as http_answer (or http_answer_bad) decides it. */
struct http_answer {
	int status; /* 200, 206, 304, or an error (400 to 505) */
	int minor;  /* HTTP/1.<minor> of the request, for Connection */
	/* The connection ends after it: the request asked so, or the stream
	 * cannot be read on (a head that did not parse, a body not skipped).
	 * A caller may set it (a server that stops) before http_head. */
	int close;
	int head_only;       /* HEAD: an error goes without its text body */
	uint64_t first, end; /* the representation's bytes [first, end) after the head */
};

/* The response to request r, which http_parse took, in RFC 9110's order:
 * 405 for a method other than GET and HEAD, 413 for a request with a body,
 * 400 when its path did not decode (path_ok 0), 404 when it names nothing
 * (rep NULL), then the preconditions (412, 304, 13.2.2), If-Range and
 * Range, for GET only (416, 206, 14.2), else 200 (a HEAD's without body
 * bytes).  now is the server's clock (seconds), for dates.  Pure; returns
 * a->status. */
int http_answer(const struct http_req *r, int path_ok, const struct http_rep *rep, int64_t now,
		struct http_answer *a);

/* The answer to a request http_parse refused with rc (-400, -414, -431,
 * -505; r as it left it): that error, and the connection ends after it. */
void http_answer_bad(int rc, const struct http_req *r, struct http_answer *a);

/* The head of answer a into buf (cap bytes; HTTP_HEAD_MAX always
 * suffices): the status line, "Server: ringcast", the headers its status
 * needs about rep (NULL for 400, 404, 405, 413 and the errors of
 * http_answer_bad), date (the whole "Date: ...\r\n" line, as the caller
 * keeps it), Connection when it is not the version's default, the blank
 * line, and for an error other than 416 a one-line text body unless
 * a->head_only.  Returns its length; a head that does not fit is cut. */
size_t http_head(char *buf, size_t cap, const struct http_answer *a, const struct http_rep *rep,
		 const char *date);
#define HTTP_HEAD_MAX 512

/* rep's 200 head but for Date and Connection (rep->ok_head is ignored), for
 * http_rep.ok_head: malloc'd, its length in *len, or NULL when out of memory. */
char *http_ok_head(const struct http_rep *rep, size_t *len);

/* Dates, in http_date.c.  An HTTP-date as seconds since the epoch, or HTTP_NO_DATE if s is not one.
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
