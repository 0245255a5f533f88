#include "http.h"

#include <string.h>
#include <strings.h>
#include <time.h>

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

static int parse_request_line(const char *p, const char *nl, struct http_req *r)
{
	const char *end = nl > p && nl[-1] == '\r' ? nl - 1 : nl;
	const char *m = p;

	while (p < end && is_tchar((unsigned char)*p))
		p++;
	if (p == m || p == end || *p != ' ')
		return -400;
	size_t mlen = (size_t)(p - m);
	r->method = mlen == 3 && !memcmp(m, "GET", 3)    ? HTTP_GET
		    : mlen == 4 && !memcmp(m, "HEAD", 4) ? HTTP_HEAD
							 : HTTP_OTHER;
	const char *t = ++p;
	while (p < end && *p != ' ') {
		/* A fragment is never sent (RFC 9112, 3.2): '#' cannot be in a target. */
		if ((unsigned char)*p <= 0x20 || *p == 0x7f || *p == '#')
			return -400;
		p++;
	}
	if (p == t || p == end)
		return -400;
	const char *tend = p++;
	if (end - p != 8 || memcmp(p, "HTTP/", 5) || p[6] != '.' ||
	    p[5] < '0' || p[5] > '9' || p[7] < '0' || p[7] > '9')
		return -400;
	if (p[5] != '1')
		return -505;
	r->minor = p[7] - '0';

	/* absolute-form: skip scheme://authority */
	if (*t != '/' && tend - t > 7 && !strncasecmp(t, "http://", 7)) {
		const char *s = memchr(t + 7, '/', (size_t)(tend - t - 7));
		t = s ? s : tend;
	}
	/* The path ends at the first '?'; the query is not ours to read. */
	const char *q = memchr(t, '?', (size_t)(tend - t));
	r->path = (struct http_span){ t, (size_t)((q ? q : tend) - t) };
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
	if (!nl)
		return len >= max_head ? -431 : 0;
	int rc = parse_request_line(p, nl, r);
	if (rc)
		return rc;

	int hosts = 0;
	struct http_span conn = { 0 };
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

		if (span_is(name, "Host"))
			hosts++;
		else if (span_is(name, "Connection"))
			conn = v;
		else if (span_is(name, "Range"))
			r->range = v;
		else if (span_is(name, "If-Match"))
			r->if_match = v;
		else if (span_is(name, "If-Unmodified-Since"))
			r->if_unmodified_since = v;
		else if (span_is(name, "If-None-Match"))
			r->if_none_match = v;
		else if (span_is(name, "If-Modified-Since"))
			r->if_modified_since = v;
		else if (span_is(name, "If-Range"))
			r->if_range = v;
		else if (span_is(name, "Transfer-Encoding"))
			r->has_body = 1;
		else if (span_is(name, "Content-Length")) {
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
	if (conn.p)
		r->keep_alive = r->minor >= 1 ? !list_has(conn, "close") : list_has(conn, "keep-alive");
	else
		r->keep_alive = r->minor >= 1;
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

int http_preconditions(const struct http_req *r, const char *etag, int64_t mtime)
{
	int get = r->method == HTTP_GET || r->method == HTTP_HEAD;

	if (r->if_match.p) {
		if (!http_etag_match(r->if_match, etag, 1))
			return 412;
	} else {
		int64_t t = http_parse_date(r->if_unmodified_since);
		if (t >= 0 && mtime > t)
			return 412;
	}
	if (r->if_none_match.p) {
		if (http_etag_match(r->if_none_match, etag, 0))
			return get ? 304 : 412;
	} else if (get) {
		int64_t t = http_parse_date(r->if_modified_since);
		if (t >= 0 && mtime <= t)
			return 304;
	}
	return 0;
}

int http_if_range(const struct http_req *r, const char *etag, int64_t mtime, int mtime_strong)
{
	struct http_span v = r->if_range;

	if (!v.p)
		return 1;
	if (v.len > 0 && v.p[0] == '"') /* an entity-tag, compared strongly */
		return v.len == strlen(etag) && !memcmp(v.p, etag, v.len);
	if (v.len > 1 && v.p[0] == 'W' && v.p[1] == '/')
		return 0; /* a weak entity-tag never matches strongly */
	int64_t t = http_parse_date(v);
	return mtime_strong && t >= 0 && t == mtime;
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

static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
				    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

static int two(const char *p)
{
	if (p[0] < '0' || p[0] > '9' || p[1] < '0' || p[1] > '9')
		return -1;
	return (p[0] - '0') * 10 + p[1] - '0';
}

int64_t http_parse_date(struct http_span s)
{
	/* "Sun, 06 Nov 1994 08:49:37 GMT" */
	const char *p = s.p;
	struct tm tm = { .tm_mon = -1 };

	if (!p || s.len != 29 || p[3] != ',' || p[4] != ' ' || p[7] != ' ' || p[11] != ' ' ||
	    p[16] != ' ' || p[19] != ':' || p[22] != ':' || memcmp(p + 25, " GMT", 4))
		return -1;
	for (int i = 0; i < 12; i++)
		if (!memcmp(p + 8, months[i], 3))
			tm.tm_mon = i;
	int yh = two(p + 12), yl = two(p + 14);
	tm.tm_mday = two(p + 5);
	tm.tm_hour = two(p + 17);
	tm.tm_min = two(p + 20);
	tm.tm_sec = two(p + 23);
	if (tm.tm_mon < 0 || tm.tm_mday < 1 || tm.tm_mday > 31 || yh < 0 || yl < 0 ||
	    tm.tm_hour < 0 || tm.tm_hour > 23 || tm.tm_min < 0 || tm.tm_min > 59 ||
	    tm.tm_sec < 0 || tm.tm_sec > 60)
		return -1;
	tm.tm_year = yh * 100 + yl - 1900;
	return (int64_t)timegm(&tm);
}

void http_fmt_date(int64_t t, char *buf)
{
	time_t tt = (time_t)t;
	struct tm tm;

	/* The C locale's names are HTTP's; ringcast never calls setlocale. */
	strftime(buf, 30, "%a, %d %b %Y %H:%M:%S GMT", gmtime_r(&tt, &tm));
}
