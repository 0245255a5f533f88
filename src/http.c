#include "http.h"
#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* RFC 9110 token characters. */
static int is_tchar(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return 1;
	return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static int is_ows(char c)
{
	return c == ' ' || c == '\t';
}

static int span_is(struct http_span s, const char *lit)
{
	size_t n = strlen(lit);

	return s.len == n && strncasecmp(s.p, lit, n) == 0;
}

/* The '\n' ending the line that starts at p, or NULL. */
static const char *line_end(const char *p, const char *end)
{
	return memchr(p, '\n', (size_t)(end - p));
}

/* Trim a line [p, nl) of its CR and of optional whitespace at both ends. */
static struct http_span trim(const char *p, const char *nl)
{
	if (nl > p && nl[-1] == '\r')
		nl--;
	while (p < nl && is_ows(*p))
		p++;
	while (nl > p && is_ows(nl[-1]))
		nl--;
	return (struct http_span){ p, (size_t)(nl - p) };
}

/* Does a comma-separated list contain token tok? */
static int list_has(struct http_span v, const char *tok)
{
	const char *p = v.p, *end = v.p + v.len;

	while (p < end) {
		const char *c = memchr(p, ',', (size_t)(end - p));
		const char *e = c ? c : end;
		struct http_span item = trim(p, e);
		if (span_is(item, tok))
			return 1;
		p = e + 1;
	}
	return 0;
}

/* The method token at the start of a request line [p, end), into r: the
 * position after it and the space that ends it, or NULL if there is none. */
static const char *parse_method(const char *p, const char *end, struct http_req *r)
{
	const char *m = p;

	while (p < end && is_tchar((unsigned char)*p))
		p++;
	if (p == m || p == end || *p != ' ')
		return NULL;
	size_t mlen = (size_t)(p - m);
	r->method = mlen == 3 && !memcmp(m, "GET", 3) ? HTTP_GET
		: mlen == 4 && !memcmp(m, "HEAD", 4)  ? HTTP_HEAD
						      : HTTP_OTHER;
	return p + 1;
}

/* The path of the request target [t, tend) (RFC 9112, 3.2): origin-form as
 * it is; absolute-form, which a server must accept (3.2.2), for the http
 * and https schemes in any case: "scheme://" and the authority, which ends
 * at the first '/' or '?' (RFC 3986, 3.2), are skipped, and an empty path
 * is "/" (RFC 9110, 4.2.3).  Any other target is kept as it is: it does not
 * start with '/', so it names no blob.  The query is cut off either way. */
static struct http_span target_path(const char *t, const char *tend)
{
	size_t n = (size_t)(tend - t), skip = 0;

	if (n >= 7 && !strncasecmp(t, "http://", 7))
		skip = 7;
	else if (n >= 8 && !strncasecmp(t, "https://", 8))
		skip = 8;
	for (t += skip; skip && t < tend && *t != '/' && *t != '?'; t++)
		;
	const char *q = memchr(t, '?', (size_t)(tend - t));
	const char *e = q ? q : tend;
	if (skip && e == t)
		return (struct http_span){ "/", 1 };
	return (struct http_span){ t, (size_t)(e - t) };
}

static int parse_request_line(const char *p, const char *nl, struct http_req *r)
{
	const char *end = nl > p && nl[-1] == '\r' ? nl - 1 : nl;

	if (!(p = parse_method(p, end, r)))
		return -400;
	const char *t = p;
	while (p < end && *p != ' ') {
		/* A fragment is never sent (RFC 9112, 3.2): '#' cannot be in a target. */
		if ((unsigned char)*p <= 0x20 || *p == 0x7f || *p == '#')
			return -400;
		p++;
	}
	if (p == t || p == end)
		return -400;
	const char *tend = p++;
	if (end - p != 8 || memcmp(p, "HTTP/", 5) || p[6] != '.' || p[5] < '0' || p[5] > '9' ||
	    p[7] < '0' || p[7] > '9')
		return -400;
	if (p[5] != '1')
		return -505;
	r->minor = p[7] - '0';
	r->path = target_path(t, tend);
	return 0;
}

/* A request line [p, end) longer than max_head: 414 if it is its target
 * that makes it so, running to the end or followed by no more than a
 * version (" HTTP/1.1\r") (RFC 9112, 3), else 400 (a method or version that
 * long is no HTTP).  Its method goes into r all the same. */
static int long_request_line(const char *p, const char *end, struct http_req *r)
{
	const char *t = parse_method(p, end, r);
	const char *sp = t && t < end ? memchr(t, ' ', (size_t)(end - t)) : NULL;

	return t && t < end && (!sp || end - sp <= 10) ? -414 : -400;
}

/* A field that is not a list (RFC 9110, 5.3) has value v on one more line:
 * the first is kept; from a second on, the combination, a list, is no
 * valid value, and "," stands for it (http.h). */
static void set_single(struct http_span *f, struct http_span v)
{
	*f = f->p ? (struct http_span){ ",", 1 } : v;
}

/* One more line of a list field: 0, or -431 past HTTP_LIST_LINES. */
static int add_line(struct http_list *l, struct http_span v)
{
	if (l->n == HTTP_LIST_LINES)
		return -431;
	l->line[l->n++] = v;
	return 0;
}

int http_parse(const char *buf, size_t len, size_t max_head, struct http_req *r)
{
	const char *p = buf, *end = buf + len;

	*r = (struct http_req){ .method = HTTP_OTHER };
	/* A client may send blank lines before a request (RFC 9112, 2.2). */
	while (p < end && (*p == '\r' || *p == '\n'))
		p++;

	const char *nl = line_end(p, end);
	if (nl && (size_t)(nl - buf) >= max_head)
		return long_request_line(p, nl, r);
	if (!nl)
		return len < max_head ? 0 : long_request_line(p, end, r);
	int rc = parse_request_line(p, nl, r);
	if (rc)
		return rc;

	int hosts = 0, conn_close = 0, keep_alive = 0;
	for (p = nl + 1;; p = nl + 1) {
		if ((size_t)(p - buf) > max_head)
			return -431;
		nl = line_end(p, end);
		if (!nl)
			return len >= max_head ? -431 : 0;
		if (nl == p || (nl == p + 1 && *p == '\r'))
			break; /* the blank line */
		if (is_ows(*p))
			return -400; /* obsolete line folding */
		const char *n = p;
		while (n < nl && is_tchar((unsigned char)*n))
			n++;
		if (n == p || n == nl || *n != ':')
			return -400;
		struct http_span name = { p, (size_t)(n - p) };
		struct http_span v = trim(n + 1, nl);
		for (const char *c = v.p; c < v.p + v.len; c++)
			if (((unsigned char)*c < 0x20 && *c != '\t') || *c == 0x7f)
				return -400;

		if (span_is(name, "Host")) {
			hosts++;
		} else if (span_is(name, "Connection")) {
			/* A list: its lines add up (RFC 9110, 5.3). */
			conn_close |= list_has(v, "close");
			keep_alive |= list_has(v, "keep-alive");
		} else if (span_is(name, "Range")) {
			set_single(&r->range, v);
		} else if (span_is(name, "If-Match")) {
			if ((rc = add_line(&r->if_match, v)) < 0)
				return rc;
		} else if (span_is(name, "If-Unmodified-Since")) {
			set_single(&r->if_unmodified_since, v);
		} else if (span_is(name, "If-None-Match")) {
			if ((rc = add_line(&r->if_none_match, v)) < 0)
				return rc;
		} else if (span_is(name, "If-Modified-Since")) {
			set_single(&r->if_modified_since, v);
		} else if (span_is(name, "If-Range")) {
			set_single(&r->if_range, v);
		} else if (span_is(name, "Transfer-Encoding")) {
			r->has_body = 1;
		} else if (span_is(name, "Content-Length")) {
			if (v.len == 0)
				return -400;
			for (size_t i = 0; i < v.len; i++) {
				if (v.p[i] < '0' || v.p[i] > '9')
					return -400;
				if (v.p[i] != '0')
					r->has_body = 1;
			}
		}
	}
	if (r->minor >= 1 && hosts != 1)
		return -400; /* RFC 9112, 3.2: exactly one Host in HTTP/1.1 */
	/* RFC 9112, 9.3: 1.1 stays open unless "close"; 1.0 only with "keep-alive". */
	r->keep_alive = !conn_close && (r->minor >= 1 || keep_alive);
	size_t head = (size_t)(nl + 1 - buf);
	return head > max_head ? -431 : (int)head;
}

/* Decimal digits [p, e) into *out; 0, or -1 if empty, not digits or too big. */
static int parse_u64(const char *p, const char *e, uint64_t *out)
{
	uint64_t v = 0;

	if (p == e)
		return -1;
	for (; p < e; p++) {
		if (*p < '0' || *p > '9' || v > (UINT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	*out = v;
	return 0;
}

int http_range(struct http_span range, uint64_t size, uint64_t *first, uint64_t *last)
{
	const char *p = range.p, *end;

	if (!p || range.len < 6 || strncasecmp(p, "bytes=", 6))
		return 0; /* no header (p is NULL: no arithmetic on it) or not bytes */
	end = p + range.len;
	p += 6;
	while (p < end && is_ows(*p))
		p++;
	while (end > p && is_ows(end[-1]))
		end--;
	if (memchr(p, ',', (size_t)(end - p)))
		return 0; /* several ranges: we may ignore the header, and do */
	const char *dash = memchr(p, '-', (size_t)(end - p));
	if (!dash)
		return 0;
	uint64_t a, b;
	if (dash == p) { /* -N: the last N bytes */
		if (parse_u64(dash + 1, end, &b) < 0)
			return 0;
		if (b == 0 || size == 0)
			return -416;
		*first = b >= size ? 0 : size - b;
		*last = size - 1;
		return 1;
	}
	if (parse_u64(p, dash, &a) < 0)
		return 0;
	if (dash + 1 == end) {
		b = UINT64_MAX;
	} else if (parse_u64(dash + 1, end, &b) < 0 || b < a) {
		return 0;
	}
	if (a >= size)
		return -416;
	*first = a;
	*last = b >= size ? size - 1 : b;
	return 1;
}

int http_etag_match(struct http_span list, const char *etag, int strong)
{
	const char *p = list.p, *end;
	size_t elen = strlen(etag);

	if (!p)
		return 0;
	end = p + list.len;
	while (p < end) {
		const char *c = memchr(p, ',', (size_t)(end - p));
		const char *e = c ? c : end;
		struct http_span t = trim(p, e);
		if (t.len == 1 && t.p[0] == '*')
			return 1;
		if (t.len > 2 && t.p[0] == 'W' && t.p[1] == '/') {
			if (strong)
				goto next; /* a weak tag never matches strongly */
			t.p += 2;
			t.len -= 2;
		}
		if (t.len == elen && !memcmp(t.p, etag, elen))
			return 1;
	next:
		p = e + 1;
	}
	return 0;
}

/* Does any line of an If-Match or If-None-Match field list etag? */
static int list_match(const struct http_list *l, const char *etag, int strong)
{
	for (int i = 0; i < l->n; i++)
		if (http_etag_match(l->line[i], etag, strong))
			return 1;
	return 0;
}

int http_preconditions(const struct http_req *r, const char *etag, int64_t mtime, int64_t now)
{
	int get = r->method == HTTP_GET || r->method == HTTP_HEAD;

	if (r->if_match.n) {
		if (!list_match(&r->if_match, etag, 1))
			return 412;
	} else {
		int64_t t = http_parse_date(r->if_unmodified_since, now);
		if (t != HTTP_NO_DATE && mtime > t)
			return 412;
	}
	if (r->if_none_match.n) {
		if (list_match(&r->if_none_match, etag, 0))
			return get ? 304 : 412;
	} else if (get) {
		int64_t t = http_parse_date(r->if_modified_since, now);
		if (t != HTTP_NO_DATE && mtime <= t)
			return 304;
	}
	return 0;
}

int http_if_range(const struct http_req *r, const char *etag, int64_t mtime, int mtime_strong,
		  int64_t now)
{
	struct http_span v = r->if_range;

	if (!v.p)
		return 1;
	if (v.len > 0 && v.p[0] == '"') /* an entity-tag, compared strongly */
		return v.len == strlen(etag) && !memcmp(v.p, etag, v.len);
	if (v.len > 1 && v.p[0] == 'W' && v.p[1] == '/')
		return 0; /* a weak entity-tag never matches strongly */
	int64_t t = http_parse_date(v, now);
	return mtime_strong && t != HTTP_NO_DATE && t == mtime;
}

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'f')
		return (ch | 0x20) - 'a' + 10;
	return -1;
}

int http_decode_path(struct http_span path, char *out, size_t cap)
{
	size_t o = 0;

	for (size_t i = 0; i < path.len; i++) {
		char ch = path.p[i];
		if (ch == '%') {
			int hi = i + 2 < path.len ? hexval(path.p[i + 1]) : -1;
			int lo = hi >= 0 ? hexval(path.p[i + 2]) : -1;
			if (lo < 0 || (hi == 0 && lo == 0))
				return -1;
			ch = (char)(hi * 16 + lo);
			i += 2;
		}
		if (o + 1 >= cap)
			return -1;
		out[o++] = ch;
	}
	if (cap == 0)
		return -1;
	out[o] = 0;
	return (int)o;
}

/* ---- responses ---- */

static void answer_error(struct http_answer *a, int status, int broken)
{
	a->status = status;
	a->close = a->close || broken;
	a->first = a->end = 0;
}

int http_answer(const struct http_req *r, int path_ok, const struct http_rep *rep, int64_t now,
		struct http_answer *a)
{
	uint64_t first = 0, last = 0;

	*a = (struct http_answer){ .minor = r->minor,
				   .close = !r->keep_alive,
				   .head_only = r->method == HTTP_HEAD };
	if (r->method == HTTP_OTHER)
		answer_error(a, 405, r->has_body);
	else if (r->has_body)
		answer_error(a, 413, 1);
	else if (!path_ok)
		answer_error(a, 400, 0);
	else if (!rep)
		answer_error(a, 404, 0);
	if (a->status)
		return a->status;
	/* RFC 9110, 13.2.2: the preconditions, then If-Range, then Range. */
	int cond = http_preconditions(r, rep->etag, rep->mtime, now);
	if (cond) {
		answer_error(a, cond, 0);
		return cond;
	}
	/* Ranges are for GET only (RFC 9110, 14.2). */
	int rr = r->method == HTTP_GET &&
			http_if_range(r, rep->etag, rep->mtime, rep->mtime_strong, now)
		? http_range(r->range, rep->size, &first, &last)
		: 0;
	if (rr < 0) {
		answer_error(a, 416, 0);
	} else if (rr > 0) {
		a->status = 206;
		a->first = first;
		a->end = last + 1;
	} else {
		a->status = 200;
		a->end = a->head_only ? 0 : rep->size;
	}
	return a->status;
}

void http_answer_bad(int rc, const struct http_req *r, struct http_answer *a)
{
	/* The version is not known: no "Connection: keep-alive" for 1.0. */
	*a = (struct http_answer){
		.status = -rc, .minor = 1, .close = 1, .head_only = r->method == HTTP_HEAD
	};
}

static const char *reason(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 206:
		return "Partial Content";
	case 304:
		return "Not Modified";
	case 400:
		return "Bad Request";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 412:
		return "Precondition Failed";
	case 413:
		return "Content Too Large";
	case 414:
		return "URI Too Long";
	case 416:
		return "Range Not Satisfiable";
	case 431:
		return "Request Header Fields Too Large";
	case 505:
		return "HTTP Version Not Supported";
	}
	return "Error";
}

/* A head being built in a buffer of fixed size, cut when it is full. */
struct head {
	char *p;
	size_t cap, len;
};

static void add(struct head *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(struct head *h, const char *fmt, ...)
{
	va_list ap;
	size_t room = h->cap - h->len;

	va_start(ap, fmt);
	int n = vsnprintf(h->p + h->len, room, fmt, ap);
	va_end(ap);
	if (n > 0 && room)
		h->len += MIN((size_t)n, room - 1);
}

/* The 200 head but for Date and Connection; snprintf's count. */
static int fmt_ok(char *buf, size_t cap, const struct http_rep *rep)
{
	char lm[32];

	http_fmt_date(rep->mtime, lm);
	return snprintf(buf, cap,
			"HTTP/1.1 200 OK\r\nServer: ringcast\r\nContent-Type: %s\r\n"
			"Content-Length: %llu\r\nLast-Modified: %s\r\nETag: %s\r\n"
			"Accept-Ranges: bytes\r\n",
			rep->type, (unsigned long long)rep->size, lm, rep->etag);
}

char *http_ok_head(const struct http_rep *rep, size_t *len)
{
	int n = fmt_ok(NULL, 0, rep);
	char *p = n < 0 ? NULL : malloc((size_t)n + 1);

	if (p)
		*len = (size_t)fmt_ok(p, (size_t)n + 1, rep);
	return p;
}

/* Everything of the head between the status line and Date. */
static void add_fields(struct head *h, const struct http_answer *a, const struct http_rep *rep)
{
	char lm[32];
	const char *why = reason(a->status);

	switch (a->status) {
	case 200:
		if (rep->ok_head && rep->ok_head_len < h->cap) {
			memcpy(h->p, rep->ok_head, rep->ok_head_len);
			h->len = rep->ok_head_len;
		} else {
			h->len = MIN((size_t)MAX(fmt_ok(h->p, h->cap, rep), 0), h->cap - 1);
		}
		return;
	case 206:
		http_fmt_date(rep->mtime, lm);
		add(h,
		    "HTTP/1.1 206 Partial Content\r\nServer: ringcast\r\nContent-Type: %s\r\n"
		    "Content-Range: bytes %llu-%llu/%llu\r\nContent-Length: %llu\r\n"
		    "Last-Modified: %s\r\nETag: %s\r\n",
		    rep->type, (unsigned long long)a->first, (unsigned long long)(a->end - 1),
		    (unsigned long long)rep->size, (unsigned long long)(a->end - a->first), lm,
		    rep->etag);
		return;
	case 304:
		http_fmt_date(rep->mtime, lm);
		add(h,
		    "HTTP/1.1 304 Not Modified\r\nServer: ringcast\r\nETag: %s\r\n"
		    "Last-Modified: %s\r\n",
		    rep->etag, lm);
		return;
	case 416:
		add(h,
		    "HTTP/1.1 416 Range Not Satisfiable\r\nServer: ringcast\r\n"
		    "Content-Range: bytes */%llu\r\nContent-Length: 0\r\n",
		    (unsigned long long)rep->size);
		return;
	}
	/* An error with a one-line text body; a HEAD's has none (RFC 9110,
	 * 9.3.2; its Content-Length is still the GET's). */
	add(h,
	    "HTTP/1.1 %d %s\r\nServer: ringcast\r\nContent-Type: text/plain\r\n"
	    "Content-Length: %zu\r\n%s",
	    a->status, why, strlen(why) + 5, a->status == 405 ? "Allow: GET, HEAD\r\n" : "");
}

size_t http_head(char *buf, size_t cap, const struct http_answer *a, const struct http_rep *rep,
		 const char *date)
{
	struct head h = { buf, cap, 0 };

	if (!cap)
		return 0;
	buf[0] = 0;
	add_fields(&h, a, rep);
	/* Every response says when the connection ends after it, and an
	 * HTTP/1.0 client that asked for keep-alive hears that it stays open
	 * (RFC 9112, 9.3). */
	add(&h, "%s%s\r\n", date,
	    a->close                ? "Connection: close\r\n"
		    : a->minor == 0 ? "Connection: keep-alive\r\n"
				    : "");
	if (a->status >= 400 && a->status != 416 && !a->head_only)
		add(&h, "%d %s\n", a->status, reason(a->status));
	return h.len;
}
