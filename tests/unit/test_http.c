/* The HTTP request parser.  Every input is placed so that its last byte is
 * the last byte before an unmapped page: a read past the end faults. */
#include "http.h"
#include "tap.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static char *guard_base;
static size_t page;

/* Copy s (n bytes) to end right before the guard page; returns the copy. */
static const char *guarded(const char *s, size_t n)
{
	char *p = guard_base + page * 2 - n;

	memcpy(p, s, n);
	return p;
}

static int parse(const char *s, struct http_req *r)
{
	size_t n = strlen(s);

	return http_parse(guarded(s, n), n, 8192, r);
}

static int span_eq(struct http_span s, const char *lit)
{
	return s.p && s.len == strlen(lit) && !memcmp(s.p, lit, s.len);
}

static void requests(void)
{
	struct http_req r;
	const char *get = "GET /disk.img HTTP/1.1\r\nHost: a\r\nRange: bytes=0-9\r\n\r\n";

	ok(parse(get, &r) == (int)strlen(get), "a whole GET: its head's length");
	ok(r.method == HTTP_GET && span_eq(r.path, "/disk.img") && r.minor == 1 && r.keep_alive,
	   "method, path, version, keep-alive by default in 1.1");
	ok(span_eq(r.range, "bytes=0-9"), "the Range value is kept");

	int prefixes_ok = 1;
	for (size_t n = 0; n < strlen(get); n++)
		if (http_parse(guarded(get, n), n, 8192, &r) != 0)
			prefixes_ok = 0;
	ok(prefixes_ok, "every proper prefix of a request asks for more bytes");

	const char *two = "HEAD /a HTTP/1.1\r\nHost: a\r\n\r\nGET /b HTTP/1.1\r\n";
	ok(parse(two, &r) == 29 && r.method == HTTP_HEAD, "pipelined: only the first head is taken");
	ok(parse("POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\n", &r) > 0 &&
	   r.method == HTTP_OTHER && r.has_body, "other methods parse; a body is noticed");
	ok(parse("GET /a HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n", &r) > 0 && !r.has_body,
	   "Content-Length: 0 is no body");
	ok(parse("GET /a HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n", &r) > 0 &&
	   r.has_body, "Transfer-Encoding is a body");
	ok(parse("GET /a HTTP/1.0\r\n\r\n", &r) > 0 && r.minor == 0 && !r.keep_alive,
	   "HTTP/1.0 needs no Host and closes by default");
	ok(parse("GET /a HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", &r) > 0 && r.keep_alive,
	   "HTTP/1.0 with Connection: keep-alive stays open");
	ok(parse("GET /a HTTP/1.1\r\nHost: a\r\nConnection: foo, close\r\n\r\n", &r) > 0 &&
	   !r.keep_alive, "Connection: close in a list closes");
	ok(parse("GET http://example/x/y?q=1 HTTP/1.1\r\nHost: a\r\n\r\n", &r) > 0 &&
	   span_eq(r.path, "/x/y"), "absolute-form: the path, without the query");
	ok(parse("\r\nGET /a HTTP/1.1\nHost: a\n\n", &r) > 0 && span_eq(r.path, "/a"),
	   "a leading blank line and bare LF line ends are accepted");
	ok(parse("GET /a HTTP/1.1\r\nhost:a\r\nIf-None-Match:  \"x\" \r\n\r\n", &r) > 0 &&
	   span_eq(r.if_none_match, "\"x\""), "header names are case-blind; values are trimmed");
}

static void bad_requests(void)
{
	struct http_req r;
	static const struct {
		const char *in;
		int want;
		const char *what;
	} cases[] = {
		{ "GET /a HTTP/1.1\r\n\r\n", -400, "HTTP/1.1 without Host" },
		{ "GET /a HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", -400, "two Host headers" },
		{ "GET /a HTTP/1.1\r\nHost: a\r\nX: 1\r\n  folded\r\n\r\n", -400, "obsolete line folding" },
		{ "GET /a HTTP/1.1\r\nHost : a\r\n\r\n", -400, "space before the colon" },
		{ "GET /a HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n", -400, "a header line without a colon" },
		{ "GET /a HTTP/1.1\r\nHost: a\x01\r\n\r\n", -400, "a control character in a value" },
		{ "GET /a HTTP/1.1\r\nHost: a\r\nContent-Length: 1x\r\n\r\n", -400, "Content-Length not a number" },
		{ "GET /a HTTP/2.0\r\nHost: a\r\n\r\n", -505, "HTTP/2.0 in an HTTP/1 request line" },
		{ "GET /a FTP/1.1\r\nHost: a\r\n\r\n", -400, "not HTTP" },
		{ "GET  /a HTTP/1.1\r\nHost: a\r\n\r\n", -400, "two spaces" },
		{ "GET /a\r\n\r\n", -400, "no version" },
		{ " GET /a HTTP/1.1\r\n\r\n", -400, "a leading space" },
		{ "G(T /a HTTP/1.1\r\n\r\n", -400, "a method that is not a token" },
		{ "GET /a\x7f HTTP/1.1\r\nHost: a\r\n\r\n", -400, "DEL in the target" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		ok(parse(cases[i].in, &r) == cases[i].want, "%s: %d", cases[i].what, cases[i].want);

	char big[300];
	memset(big, 'a', sizeof(big));
	memcpy(big, "GET /", 5);
	ok(http_parse(guarded(big, sizeof(big)), sizeof(big), 256, &r) == -431,
	   "no end of head within max_head: 431");
	const char *lng = "GET /a HTTP/1.1\r\nHost: a\r\nX: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n";
	ok(http_parse(guarded(lng, strlen(lng)), strlen(lng), 40, &r) == -431,
	   "a whole head longer than max_head: 431");
}

static void ranges(void)
{
	uint64_t a = 7, b = 7;
	struct http_span s;
#define R(str) (s = (struct http_span){ guarded(str, strlen(str)), strlen(str) })

	ok(http_range((struct http_span){ NULL, 0 }, 1000, &a, &b) == 0,
	   "no Range header: the whole blob (and no arithmetic on its NULL span, which UBSan checks)");
	ok(http_etag_match((struct http_span){ NULL, 0 }, "\"1-2\"") == 0, "no If-None-Match: no match");
	ok(http_range(R("bytes=0-99"), 1000, &a, &b) == 1 && a == 0 && b == 99, "0-99");
	ok(http_range(R("bytes=900-"), 1000, &a, &b) == 1 && a == 900 && b == 999, "900-");
	ok(http_range(R("bytes=-100"), 1000, &a, &b) == 1 && a == 900 && b == 999, "-100: the last 100");
	ok(http_range(R("bytes=-5000"), 1000, &a, &b) == 1 && a == 0 && b == 999, "a suffix longer than the blob");
	ok(http_range(R("bytes=10-5000"), 1000, &a, &b) == 1 && a == 10 && b == 999, "an end past the blob is clamped");
	ok(http_range(R("bytes=1000-"), 1000, &a, &b) == -416, "starting at the end: 416");
	ok(http_range(R("bytes=-0"), 1000, &a, &b) == -416, "an empty suffix: 416");
	ok(http_range(R("bytes=0-0"), 0, &a, &b) == -416, "any range of an empty blob: 416");
	ok(http_range(R("bytes=5-2"), 1000, &a, &b) == 0, "last before first: ignored");
	ok(http_range(R("bytes=0-1,5-6"), 1000, &a, &b) == 0, "several ranges: ignored");
	ok(http_range(R("items=0-1"), 1000, &a, &b) == 0, "another unit: ignored");
	ok(http_range(R("bytes=x-1"), 1000, &a, &b) == 0, "not numbers: ignored");
	ok(http_range(R("bytes=99999999999999999999-"), 1000, &a, &b) == 0, "an overflowing number: ignored");
	ok(http_range((struct http_span){ 0 }, 1000, &a, &b) == 0, "no Range header");
}

static void etags_and_dates(void)
{
	struct http_span s;
	char d[32];

	ok(http_etag_match(R("\"abc\""), "\"abc\""), "an exact ETag matches");
	ok(http_etag_match(R("W/\"abc\""), "\"abc\""), "a weak one matches (weak comparison)");
	ok(http_etag_match(R("\"x\", \"abc\""), "\"abc\""), "in a list");
	ok(http_etag_match(R("*"), "\"abc\""), "* matches anything");
	ok(!http_etag_match(R("\"abcd\""), "\"abc\""), "another does not");
	ok(!http_etag_match((struct http_span){ 0 }, "\"abc\""), "no header, no match");

	http_fmt_date(784111777, d);
	ok(!strcmp(d, "Sun, 06 Nov 1994 08:49:37 GMT"), "IMF-fixdate of 784111777: %s", d);
	ok(http_parse_date(R("Sun, 06 Nov 1994 08:49:37 GMT")) == 784111777, "and back");
	ok(http_parse_date(R("Sunday, 06-Nov-94 08:49:37 GMT")) == -1, "the obsolete RFC 850 form is refused");
	ok(http_parse_date(R("Sun, 06 Nov 1994 25:49:37 GMT")) == -1, "hour 25 is refused");
	ok(http_parse_date(R("Sun, 06 Foo 1994 08:49:37 GMT")) == -1, "an unknown month is refused");
}

int main(void)
{
	page = (size_t)sysconf(_SC_PAGESIZE);
	guard_base = mmap(NULL, page * 3, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (guard_base == MAP_FAILED || mprotect(guard_base + page * 2, page, PROT_NONE) < 0)
		return 1;
	requests();
	bad_requests();
	ranges();
	etags_and_dates();
	return tap_done();
}
