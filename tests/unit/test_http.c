/* The HTTP request parser.  Every input is placed so that its last byte is
 * the last byte before an unmapped page: a read past the end faults. */
#include "http.h"
#include "listing.h"
#include "tap.h"

#include <stdio.h>
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
	ok(parse(two, &r) == 29 && r.method == HTTP_HEAD,
	   "pipelined: only the first head is taken");
	ok(parse("POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\n", &r) > 0 &&
		   r.method == HTTP_OTHER && r.has_body,
	   "other methods parse; a body is noticed");
	ok(parse("GET /a HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n", &r) > 0 && !r.has_body,
	   "Content-Length: 0 is no body");
	ok(parse("GET /a HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n", &r) > 0 &&
		   r.has_body,
	   "Transfer-Encoding is a body");
	ok(parse("GET /a HTTP/1.0\r\n\r\n", &r) > 0 && r.minor == 0 && !r.keep_alive,
	   "HTTP/1.0 needs no Host and closes by default");
	ok(parse("GET /a HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", &r) > 0 && r.keep_alive,
	   "HTTP/1.0 with Connection: keep-alive stays open");
	ok(parse("GET /a HTTP/1.1\r\nHost: a\r\nConnection: foo, close\r\n\r\n", &r) > 0 &&
		   !r.keep_alive,
	   "Connection: close in a list closes");
	ok(parse("GET http://example/x/y?q=1 HTTP/1.1\r\nHost: a\r\n\r\n", &r) > 0 &&
		   span_eq(r.path, "/x/y"),
	   "absolute-form: the path, without the query");
	/* RFC 9112, 3.2.2: a server must accept the absolute form; RFC 9110,
	 * 4.2.3: an empty path is "/"; RFC 3986, 3.2: the authority ends at
	 * the first '/' or '?'. */
	static const struct {
		const char *target, *path;
	} absolute[] = {
		{ "https://h/plain.txt", "/plain.txt" },
		{ "HTTPS://h/plain.txt", "/plain.txt" },
		{ "hTtP://h:8080/a%3Fb?x", "/a%3Fb" },
		{ "http://h", "/" },
		{ "http://h?q/plain.txt", "/" },
		{ "https://user@h:1/", "/" },
		{ "http://", "/" },
		{ "ftp://h/plain.txt", "ftp://h/plain.txt" },
		{ "http:/plain.txt", "http:/plain.txt" },
	};
	for (size_t i = 0; i < sizeof(absolute) / sizeof(absolute[0]); i++) {
		char req[128];
		snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: a\r\n\r\n",
			 absolute[i].target);
		ok(parse(req, &r) > 0 && span_eq(r.path, absolute[i].path), "target %s: path %s",
		   absolute[i].target, absolute[i].path);
	}
	ok(parse("\r\nGET /a HTTP/1.1\nHost: a\n\n", &r) > 0 && span_eq(r.path, "/a"),
	   "a leading blank line and bare LF line ends are accepted");
	ok(parse("GET /a HTTP/1.1\r\nhost:a\r\nIf-None-Match:  \"x\" \r\n\r\n", &r) > 0 &&
		   r.if_none_match.n == 1 && span_eq(r.if_none_match.line[0], "\"x\""),
	   "header names are case-blind; values are trimmed");
}

/* RFC 9110, 5.3: lines of one field combine into one comma-separated list. */
static void repeated_fields(void)
{
	struct http_req r;

	ok(parse("GET /a HTTP/1.1\r\nHost: a\r\nConnection: close\r\nConnection: x-foo\r\n\r\n",
		 &r) > 0 &&
		   !r.keep_alive,
	   "Connection: close, then another Connection line: still close");
	ok(parse("GET /a HTTP/1.1\r\nHost: a\r\nConnection: x-foo\r\nConnection: Close\r\n\r\n",
		 &r) > 0 &&
		   !r.keep_alive,
	   "close on the second Connection line closes");
	ok(parse("GET /a HTTP/1.0\r\nConnection: keep-alive\r\nConnection: x-foo\r\n\r\n", &r) >
			   0 &&
		   r.keep_alive,
	   "1.0: keep-alive on the first of two Connection lines keeps it open");
	ok(parse("GET /a HTTP/1.0\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n", &r) >
			   0 &&
		   !r.keep_alive,
	   "1.0: keep-alive and close on two lines: close wins");
	ok(parse("GET /a HTTP/1.1\r\nHost: a\r\nIf-Match: E\r\nIf-Match: \"e\"\r\n\r\n", &r) > 0 &&
		   r.if_match.n == 2 && span_eq(r.if_match.line[0], "E") &&
		   span_eq(r.if_match.line[1], "\"e\""),
	   "two If-Match lines: both kept");
	ok(parse("GET /a HTTP/1.1\r\nHost: a\r\nRange: bytes=0-1\r\nRange: bytes=0-1\r\n\r\n", &r) >
			   0 &&
		   span_eq(r.range, ","),
	   "Range on two lines is a list, no valid Range: ','");
	ok(parse("GET /a HTTP/1.1\r\nHost: a\r\nIf-Modified-Since: "
		 "Sun, 06 Nov 1994 08:49:37 GMT"
		 "\r\nIf-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT\r\n\r\n",
		 &r) > 0 &&
		   span_eq(r.if_modified_since, ",") &&
		   http_parse_date(r.if_modified_since, 0) == HTTP_NO_DATE,
	   "If-Modified-Since on two lines is no date (RFC 9110, 13.1.3)");

	char lines[512] = "GET /a HTTP/1.1\r\nHost: a\r\n", req[600];
	for (int i = 0; i < HTTP_LIST_LINES; i++)
		strcat(lines, "If-None-Match: \"x\"\r\n");
	snprintf(req, sizeof(req), "%s\r\n", lines);
	ok(parse(req, &r) > 0 && r.if_none_match.n == HTTP_LIST_LINES,
	   "%d If-None-Match lines are taken", HTTP_LIST_LINES);
	snprintf(req, sizeof(req), "%sIf-None-Match: \"x\"\r\n\r\n", lines);
	ok(parse(req, &r) == -431, "one more: 431");
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
		{ "GET /a HTTP/1.1\r\nHost: a\r\nX: 1\r\n  folded\r\n\r\n", -400,
		  "obsolete line folding" },
		{ "GET /a HTTP/1.1\r\nHost : a\r\n\r\n", -400, "space before the colon" },
		{ "GET /a HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n", -400,
		  "a header line without a colon" },
		{ "GET /a HTTP/1.1\r\nHost: a\x01\r\n\r\n", -400,
		  "a control character in a value" },
		{ "GET /a HTTP/1.1\r\nHost: a\r\nContent-Length: 1x\r\n\r\n", -400,
		  "Content-Length not a number" },
		{ "GET /a HTTP/2.0\r\nHost: a\r\n\r\n", -505,
		  "HTTP/2.0 in an HTTP/1 request line" },
		{ "GET /a FTP/1.1\r\nHost: a\r\n\r\n", -400, "not HTTP" },
		{ "GET  /a HTTP/1.1\r\nHost: a\r\n\r\n", -400, "two spaces" },
		{ "GET /a\r\n\r\n", -400, "no version" },
		{ " GET /a HTTP/1.1\r\n\r\n", -400, "a leading space" },
		{ "G(T /a HTTP/1.1\r\n\r\n", -400, "a method that is not a token" },
		{ "GET /a\x7f HTTP/1.1\r\nHost: a\r\n\r\n", -400, "DEL in the target" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		ok(parse(cases[i].in, &r) == cases[i].want, "%s: %d", cases[i].what, cases[i].want);

	/* RFC 9112, 3: a target longer than the server will parse is 414. */
	char big[300];
	memset(big, 'a', sizeof(big));
	memcpy(big, "GET /", 5);
	ok(http_parse(guarded(big, sizeof(big)), sizeof(big), 256, &r) == -414 &&
		   r.method == HTTP_GET,
	   "a request line whose target does not end within max_head: 414");
	memcpy(big, "HEAD /", 6);
	ok(http_parse(guarded(big, 256), 256, 256, &r) == -414 && r.method == HTTP_HEAD,
	   "the same for HEAD, which is known from the first bytes (its 414 goes without a body)");
	memcpy(big + 250, " HTTP/1.1\r\n", 11);
	ok(http_parse(guarded(big, 261), 261, 256, &r) == -414 && r.method == HTTP_HEAD,
	   "a whole request line longer than max_head: 414");
	memcpy(big + 100, " HTT", 4);
	ok(http_parse(guarded(big, 256), 256, 256, &r) == -400,
	   "a target that ended, then no end of line: 400");
	memset(big, 'A', sizeof(big));
	ok(http_parse(guarded(big, 256), 256, 256, &r) == -400 && r.method == HTTP_OTHER,
	   "a method that fills max_head: 400");
	memset(big, '\n', 256);
	ok(http_parse(guarded(big, 256), 256, 256, &r) == -400, "max_head blank lines: 400");
	const char *lng =
		"GET /a HTTP/1.1\r\nHost: a\r\nX: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n";
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
	ok(http_etag_match((struct http_span){ NULL, 0 }, "\"1-2\"", 0) == 0,
	   "no If-None-Match: no match");
	ok(http_range(R("bytes=0-99"), 1000, &a, &b) == 1 && a == 0 && b == 99, "0-99");
	ok(http_range(R("bytes=900-"), 1000, &a, &b) == 1 && a == 900 && b == 999, "900-");
	ok(http_range(R("bytes=-100"), 1000, &a, &b) == 1 && a == 900 && b == 999,
	   "-100: the last 100");
	ok(http_range(R("bytes=-5000"), 1000, &a, &b) == 1 && a == 0 && b == 999,
	   "a suffix longer than the blob");
	ok(http_range(R("bytes=10-5000"), 1000, &a, &b) == 1 && a == 10 && b == 999,
	   "an end past the blob is clamped");
	ok(http_range(R("bytes=1000-"), 1000, &a, &b) == -416, "starting at the end: 416");
	ok(http_range(R("bytes=-0"), 1000, &a, &b) == -416, "an empty suffix: 416");
	ok(http_range(R("bytes=0-0"), 0, &a, &b) == -416, "any range of an empty blob: 416");
	ok(http_range(R("bytes=5-2"), 1000, &a, &b) == 0, "last before first: ignored");
	ok(http_range(R("bytes=0-1,5-6"), 1000, &a, &b) == 0, "several ranges: ignored");
	ok(http_range(R("items=0-1"), 1000, &a, &b) == 0, "another unit: ignored");
	ok(http_range(R("bytes=x-1"), 1000, &a, &b) == 0, "not numbers: ignored");
	ok(http_range(R("bytes=99999999999999999999-"), 1000, &a, &b) == 0,
	   "an overflowing number: ignored");
	ok(http_range((struct http_span){ 0 }, 1000, &a, &b) == 0, "no Range header");
}

static void etags_and_dates(void)
{
	struct http_span s;
	char d[32];

	ok(http_etag_match(R("\"abc\""), "\"abc\"", 0), "an exact ETag matches");
	ok(http_etag_match(R("W/\"abc\""), "\"abc\"", 0), "a weak one matches (weak comparison)");
	ok(http_etag_match(R("\"x\", \"abc\""), "\"abc\"", 0), "in a list");
	ok(http_etag_match(R("*"), "\"abc\"", 0), "* matches anything");
	ok(!http_etag_match(R("\"abcd\""), "\"abc\"", 0), "another does not");
	ok(!http_etag_match((struct http_span){ 0 }, "\"abc\"", 0), "no header, no match");
	/* RFC 9110, 8.8.3.2's table: W/"1" and "1" match weakly, never strongly. */
	ok(http_etag_match(R("\"abc\""), "\"abc\"", 1), "strong: the same strong tag matches");
	ok(!http_etag_match(R("W/\"abc\""), "\"abc\"", 1), "strong: a weak tag never matches");
	ok(http_etag_match(R("W/\"abc\" , \"abc\""), "\"abc\"", 1),
	   "strong: the strong one after a weak one in a list matches");
	ok(http_etag_match(R("*"), "\"abc\"", 1), "strong: * matches any current representation");
	ok(!http_etag_match(R("abc"), "\"abc\"", 1), "an unquoted tag is not the quoted one");

	http_fmt_date(784111777, d);
	ok(!strcmp(d, "Sun, 06 Nov 1994 08:49:37 GMT"), "IMF-fixdate of 784111777: %s", d);
}

/* RFC 9110, 5.6.7: every form a recipient must take, and values that are
 * no dates, which 13.1.3 and 13.1.4 ask to ignore. */
static void dates(void)
{
	const int64_t now = 1767225600; /* Thu, 01 Jan 2026 00:00:00 GMT */
	static const struct {
		const char *in;
		int64_t want;
		const char *what;
	} cases[] = {
		{ "Sun, 06 Nov 1994 08:49:37 GMT", 784111777, "IMF-fixdate" },
		{ "Sunday, 06-Nov-94 08:49:37 GMT", 784111777, "RFC 850" },
		{ "Sun Nov  6 08:49:37 1994", 784111777, "asctime, a one-digit day" },
		{ "Sun Nov 06 08:49:37 1994", 784111777, "asctime, a two-digit day" },
		{ "Fri Jan  1 00:00:00 2021", 1609459200, "asctime in 2021" },
		{ "Saturday, 01-Jan-00 00:00:00 GMT", 946684800,
		  "RFC 850 '00: 2000, in now's century" },
		{ "Wednesday, 01-Jan-76 00:00:00 GMT", 3345062400,
		  "'76: 2076, just 50 years ahead of 2026" },
		{ "Saturday, 01-Jan-77 00:00:00 GMT", 220924800,
		  "'77: not 2077, more than 50 years ahead: 1977" },
		{ "Friday, 31-Dec-99 23:59:59 GMT", 946684799, "'99: 1999" },
		{ "Thu, 01 Jan 1970 00:00:00 GMT", 0, "the epoch" },
		{ "Wed, 31 Dec 1969 23:59:59 GMT", -1, "a second before the epoch is a date too" },
		{ "Thu, 29 Feb 2024 12:00:00 GMT", 1709208000, "29 February of a leap year" },
		{ "Tue, 29 Feb 2000 00:00:00 GMT", 951782400, "2000 is a leap year" },
		{ "Sat, 31 Dec 2016 23:59:60 GMT", 1483228800, "a leap second" },
		{ "Mon, 06 Nov 1994 08:49:37 GMT", 784111777,
		  "a day name that is not the date's is taken" },
		{ "Xyz, 01 Jan 2021 00:00:00 GMT", HTTP_NO_DATE, "a day name that is none" },
		{ "sun, 06 Nov 1994 08:49:37 GMT", HTTP_NO_DATE, "names are case-sensitive" },
		{ "Sun, 06 nov 1994 08:49:37 GMT", HTTP_NO_DATE, "month names too" },
		{ "Sun, 06 Nov 1994 08:49:37 gmt", HTTP_NO_DATE, "and GMT" },
		{ "Sun, 31 Feb 2021 00:00:00 GMT", HTTP_NO_DATE, "31 February" },
		{ "Fri, 29 Feb 2021 00:00:00 GMT", HTTP_NO_DATE, "29 February of a common year" },
		{ "Fri, 29 Feb 1900 00:00:00 GMT", HTTP_NO_DATE, "1900 is no leap year" },
		{ "Thu, 31 Apr 2021 00:00:00 GMT", HTTP_NO_DATE, "31 April" },
		{ "Sun, 00 Nov 1994 08:49:37 GMT", HTTP_NO_DATE, "day 0" },
		{ "Sun, 06 Nov 1994 25:49:37 GMT", HTTP_NO_DATE, "hour 25" },
		{ "Sun, 06 Nov 1994 08:60:37 GMT", HTTP_NO_DATE, "minute 60" },
		{ "Sun, 06 Nov 1994 08:49:61 GMT", HTTP_NO_DATE, "second 61" },
		{ "Sun, 06 Foo 1994 08:49:37 GMT", HTTP_NO_DATE, "an unknown month" },
		{ "Sun, 06 Nov 1994 08:49:37 UTC", HTTP_NO_DATE, "another zone than GMT" },
		{ "Sun, 06 Nov 1994 08:49:37 GMT ", HTTP_NO_DATE, "a trailing space" },
		{ "Sun, 6 Nov 1994 08:49:37 GMT", HTTP_NO_DATE,
		  "IMF-fixdate with a one-digit day" },
		{ "Sun, 06 Nov 94 08:49:37 GMT", HTTP_NO_DATE,
		  "IMF-fixdate with a two-digit year" },
		{ "Sun, 06-Nov-94 08:49:37 GMT", HTTP_NO_DATE, "RFC 850 with a short day name" },
		{ "Sundae, 06-Nov-94 08:49:37 GMT", HTTP_NO_DATE, "RFC 850 with no day name" },
		{ "Sunday, 06-Nov-1994 08:49:37 GMT", HTTP_NO_DATE,
		  "RFC 850 with a four-digit year" },
		{ "Sunday, 06 Nov 94 08:49:37 GMT", HTTP_NO_DATE, "RFC 850 without its dashes" },
		{ "Sunday Nov  6 08:49:37 1994", HTTP_NO_DATE, "asctime with a long day name" },
		{ "Sun Nov  0 08:49:37 1994", HTTP_NO_DATE, "asctime, day 0" },
		{ "Sun Nov 6  08:49:37 1994", HTTP_NO_DATE, "asctime, the day's space after it" },
		{ "Sun Nov  6 08:49:37 1994 GMT", HTTP_NO_DATE, "asctime with a zone" },
		{ "", HTTP_NO_DATE, "nothing" },
		{ ",", HTTP_NO_DATE, "a list (a field on two lines)" },
	};
	struct http_span s;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t t = http_parse_date(R(cases[i].in), now);
		ok(t == cases[i].want, "%s: '%s' is %lld", cases[i].what, cases[i].in,
		   (long long)t);
	}
	ok(http_parse_date((struct http_span){ NULL, 0 }, now) == HTTP_NO_DATE,
	   "no field, no date");
	/* The two-digit year follows the clock: in 2090, years are taken in
	 * the 2000s, none of which is more than 50 years ahead. */
	ok(http_parse_date(R("Friday, 01-Jan-10 00:00:00 GMT"), 3786912000) == 1262304000,
	   "in 2090, '10 is 2010");
	ok(http_parse_date(R("Thursday, 01-Jan-99 00:00:00 GMT"), 3786912000) == 4070908800,
	   "in 2090, '99 is 2099");
}

/* RFC 9110, 13.2.2 against a blob with ETag "e" modified at 784111777
 * (Sun, 06 Nov 1994 08:49:37 GMT), on a server whose clock says NOW. */
#define NOW 1767225600
static int cond(const char *head)
{
	struct http_req r;
	char req[512];

	snprintf(req, sizeof(req), "GET /b HTTP/1.1\r\nHost: a\r\n%s\r\n", head);
	if (parse(req, &r) <= 0)
		return -1;
	return http_preconditions(&r, "\"e\"", 784111777, NOW);
}

#define OLD "Sat, 05 Nov 1994 08:49:37 GMT"
#define LM  "Sun, 06 Nov 1994 08:49:37 GMT"
#define NEW "Mon, 07 Nov 1994 08:49:37 GMT"

static void preconditions(void)
{
	static const struct {
		const char *head;
		int want;
		const char *what;
	} cases[] = {
		{ "", 0, "no condition: go on" },
		{ "If-Match: \"e\"\r\n", 0, "If-Match with the ETag holds" },
		{ "If-Match: \"x\", \"e\"\r\n", 0, "If-Match with it in a list holds" },
		{ "If-Match: *\r\n", 0, "If-Match: * holds for a blob that exists" },
		{ "If-Match: \"nomatch\"\r\n", 412, "If-Match with another: 412" },
		{ "If-Match: W/\"e\"\r\n", 412, "If-Match compares strongly: a weak tag fails" },
		{ "If-Unmodified-Since: " OLD "\r\n", 412, "modified since an older date: 412" },
		{ "If-Unmodified-Since: " LM "\r\n", 0, "not modified since its own date" },
		{ "If-Unmodified-Since: " NEW "\r\n", 0, "nor since a later one" },
		{ "If-Unmodified-Since: yesterday\r\n", 0,
		  "an If-Unmodified-Since not a date is ignored" },
		{ "If-Match: \"e\"\r\nIf-Unmodified-Since: " OLD "\r\n", 0,
		  "If-Unmodified-Since is not looked at when If-Match is there" },
		{ "If-Match: \"x\"\r\nIf-None-Match: \"e\"\r\n", 412,
		  "a failed If-Match comes before If-None-Match" },
		{ "If-None-Match: \"e\"\r\n", 304, "If-None-Match with the ETag: 304" },
		{ "If-None-Match: W/\"e\"\r\n", 304, "If-None-Match compares weakly" },
		{ "If-None-Match: *\r\n", 304, "If-None-Match: * on a blob that exists: 304" },
		{ "If-None-Match: \"x\"\r\n", 0, "If-None-Match with another: go on" },
		{ "If-Modified-Since: " LM "\r\n", 304, "not modified since its own date: 304" },
		{ "If-Modified-Since: " OLD "\r\n", 0, "modified since an older one: go on" },
		{ "If-None-Match: \"x\"\r\nIf-Modified-Since: " NEW "\r\n", 0,
		  "If-Modified-Since is not looked at when If-None-Match is there" },
		{ "If-Match: \"e\"\r\nIf-None-Match: \"e\"\r\n", 304,
		  "If-Match holds, then If-None-Match: 304" },
		{ "If-Unmodified-Since: " NEW "\r\nIf-Modified-Since: " LM "\r\n", 304,
		  "If-Unmodified-Since holds, then If-Modified-Since: 304" },
		/* RFC 9110, 5.3: a list field's lines make one list. */
		{ "If-Match: E\r\nIf-Match: \"e\"\r\n", 0,
		  "If-Match on two lines, the ETag on the second: holds" },
		{ "If-Match: \"e\"\r\nIf-Match: \"x\"\r\n", 0,
		  "the ETag on the first of two: holds" },
		{ "If-Match: \"x\"\r\nIf-Match: \"y\"\r\n", 412, "on neither line: 412" },
		{ "If-None-Match: \"e\"\r\nIf-None-Match: \"x\"\r\n", 304,
		  "If-None-Match on two lines, the ETag on the first: 304" },
		{ "If-None-Match: \"x\"\r\nIf-None-Match: W/\"e\"\r\n", 304, "on the second: 304" },
		{ "If-None-Match: \"x\"\r\nIf-None-Match: \"y\"\r\n", 0, "on neither: go on" },
		/* Dates in the obsolete forms count (RFC 9110, 5.6.7); a date field
		 * on two lines is a list, no date, and is ignored (13.1.3, 13.1.4). */
		{ "If-Modified-Since: Sunday, 06-Nov-94 08:49:37 GMT\r\n", 304,
		  "If-Modified-Since in RFC 850 form" },
		{ "If-Modified-Since: Sun Nov  6 08:49:37 1994\r\n", 304,
		  "If-Modified-Since in asctime form" },
		{ "If-Unmodified-Since: Saturday, 05-Nov-94 08:49:37 GMT\r\n", 412,
		  "If-Unmodified-Since in RFC 850 form, older: 412" },
		{ "If-Unmodified-Since: Sat Nov  5 08:49:37 1994\r\n", 412,
		  "in asctime form: 412" },
		{ "If-Modified-Since: Sun, 31 Feb 2021 00:00:00 GMT\r\n", 0,
		  "an impossible date is ignored" },
		{ "If-Modified-Since: Xyz, 01 Jan 2021 00:00:00 GMT\r\n", 0,
		  "a bad day name is ignored" },
		{ "If-Modified-Since: " LM "\r\nIf-Modified-Since: " LM "\r\n", 0,
		  "If-Modified-Since on two lines is ignored" },
		{ "If-Unmodified-Since: " OLD "\r\nIf-Unmodified-Since: " OLD "\r\n", 0,
		  "If-Unmodified-Since on two lines is ignored" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		ok(cond(cases[i].head) == cases[i].want, "%s: %d", cases[i].what, cases[i].want);

	struct http_req r;
	ok(parse("DELETE /b HTTP/1.1\r\nHost: a\r\nIf-None-Match: \"e\"\r\n\r\n", &r) > 0 &&
		   http_preconditions(&r, "\"e\"", 784111777, NOW) == 412,
	   "If-None-Match fails for a method other than GET and HEAD: 412");
	ok(parse("DELETE /b HTTP/1.1\r\nHost: a\r\nIf-Modified-Since: " LM "\r\n\r\n", &r) > 0 &&
		   http_preconditions(&r, "\"e\"", 784111777, NOW) == 0,
	   "If-Modified-Since is for GET and HEAD only");
}

/* RFC 9110, 13.1.5: does the Range of a request with this If-Range value hold? */
static int if_range(const char *v, int mtime_strong)
{
	struct http_req r;
	char req[512];

	snprintf(req, sizeof(req), "GET /b HTTP/1.1\r\nHost: a\r\nRange: bytes=0-1\r\n%s%s%s\r\n",
		 v ? "If-Range: " : "", v ? v : "", v ? "\r\n" : "");
	if (parse(req, &r) <= 0)
		return -1;
	return http_if_range(&r, "\"e\"", 784111777, mtime_strong, NOW);
}

static void if_ranges(void)
{
	ok(if_range(NULL, 0) == 1, "no If-Range: the Range holds");
	ok(if_range("\"e\"", 0) == 1, "If-Range with the ETag: the Range holds");
	ok(if_range("\"old\"", 0) == 0, "If-Range with a stale ETag: the whole blob");
	ok(if_range("W/\"e\"", 0) == 0, "If-Range with a weak ETag never holds");
	ok(if_range(LM, 1) == 1, "If-Range with exactly Last-Modified, a strong one: holds");
	ok(if_range(LM, 0) == 0, "with a weak Last-Modified (a load time): the whole blob");
	ok(if_range(NEW, 1) == 0, "a later date is not Last-Modified: the whole blob");
	ok(if_range(OLD, 1) == 0, "nor an earlier one");
	ok(if_range("Wed, 09 Nov 1994 08:49:37 GMT", 1) == 0,
	   "a date on a Wednesday is a date, not a weak tag, and not ours");
	ok(if_range("someday", 1) == 0, "neither a tag nor a date: the whole blob");
	ok(if_range("*", 1) == 0, "* is not a validator: the whole blob");
	ok(if_range("Sunday, 06-Nov-94 08:49:37 GMT", 1) == 1,
	   "Last-Modified in RFC 850 form holds");
	ok(if_range("Sun Nov  6 08:49:37 1994", 1) == 1, "in asctime form too");

	struct http_req r;
	ok(parse("GET /b HTTP/1.1\r\nHost: a\r\nRange: bytes=0-1\r\nIf-Range: \"e\"\r\n"
		 "If-Range: \"e\"\r\n\r\n",
		 &r) > 0 &&
		   http_if_range(&r, "\"e\"", 784111777, 1, NOW) == 0,
	   "If-Range on two lines is a list, no validator: the whole blob");
}

/* http_answer: what a request gets from a blob of 1000 bytes, ETag "e",
 * Last-Modified LM (strong). */
static const struct http_rep blob = {
	.size = 1000, .mtime = 784111777, .mtime_strong = 1, .etag = "\"e\"", .type = "text/plain"
};

static int answer(const char *req, int path_ok, const struct http_rep *rep, struct http_answer *a)
{
	struct http_req r;

	if (parse(req, &r) <= 0)
		return -1;
	return http_answer(&r, path_ok, rep, NOW, a);
}

static void answers(void)
{
	struct http_answer a;

	ok(answer("GET /b HTTP/1.1\r\nHost: a\r\n\r\n", 1, &blob, &a) == 200 && a.first == 0 &&
		   a.end == 1000 && !a.close && a.minor == 1 && !a.head_only,
	   "GET: 200, every byte, kept open");
	ok(answer("HEAD /b HTTP/1.1\r\nHost: a\r\n\r\n", 1, &blob, &a) == 200 && a.end == 0 &&
		   a.head_only,
	   "HEAD: 200 without body bytes");
	ok(answer("GET /b HTTP/1.1\r\nHost: a\r\nRange: bytes=10-19\r\n\r\n", 1, &blob, &a) ==
			   206 &&
		   a.first == 10 && a.end == 20,
	   "a range: 206 with its bytes");
	ok(answer("HEAD /b HTTP/1.1\r\nHost: a\r\nRange: bytes=10-19\r\n\r\n", 1, &blob, &a) == 200,
	   "a HEAD's Range is ignored (ranges are for GET)");
	ok(answer("GET /b HTTP/1.1\r\nHost: a\r\nRange: bytes=2000-\r\n\r\n", 1, &blob, &a) ==
			   416 &&
		   a.first == a.end && !a.close,
	   "a range past the end: 416, no body, the connection stays");
	ok(answer("GET /b HTTP/1.1\r\nHost: a\r\nRange: bytes=10-19\r\nIf-Range: \"old\"\r\n\r\n",
		  1, &blob, &a) == 200 &&
		   a.end == 1000,
	   "a stale If-Range: the whole blob");
	ok(answer("GET /b HTTP/1.1\r\nHost: a\r\nIf-None-Match: \"e\"\r\n\r\n", 1, &blob, &a) ==
			   304 &&
		   a.first == a.end,
	   "If-None-Match with the ETag: 304, no body");
	ok(answer("GET /b HTTP/1.1\r\nHost: a\r\nIf-Match: \"x\"\r\n\r\n", 1, &blob, &a) == 412,
	   "If-Match with another: 412");
	ok(answer("POST /b HTTP/1.1\r\nHost: a\r\n\r\n", 1, &blob, &a) == 405 && !a.close,
	   "another method: 405; without a body the stream reads on");
	ok(answer("POST /b HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\n", 0, NULL, &a) == 405 &&
		   a.close,
	   "another method with a body: 405 first, and the connection ends");
	ok(answer("GET /b HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\n", 1, &blob, &a) == 413 &&
		   a.close,
	   "a GET with a body: 413, and the connection ends");
	ok(answer("GET /b HTTP/1.1\r\nHost: a\r\n\r\n", 0, &blob, &a) == 400 && !a.close,
	   "a path that did not decode: 400");
	ok(answer("GET /b HTTP/1.1\r\nHost: a\r\n\r\n", 1, NULL, &a) == 404 && !a.close,
	   "a path that names nothing: 404");
	ok(answer("HEAD /b HTTP/1.1\r\nHost: a\r\n\r\n", 1, NULL, &a) == 404 && a.head_only,
	   "a HEAD's 404 goes without its text");
	ok(answer("GET /b HTTP/1.0\r\n\r\n", 1, &blob, &a) == 200 && a.close && a.minor == 0,
	   "HTTP/1.0: the connection ends after it");
	ok(answer("GET /b HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", 1, &blob, &a) == 200 &&
		   a.close,
	   "Connection: close ends it");

	struct http_req r;
	http_answer_bad(parse("HEAD /a HTTP/2.0\r\n\r\n", &r), &r, &a);
	ok(a.status == 505 && a.close && a.minor == 1 && a.head_only && a.first == a.end,
	   "a request http_parse refused: its error, the end of the connection, a HEAD's without text");
}

#define DATE "Date: " LM "\r\n"

/* The head of answer a about rep, as a string. */
static const char *head(const struct http_answer *a, const struct http_rep *rep)
{
	static char buf[HTTP_HEAD_MAX];
	size_t n = http_head(buf, sizeof(buf), a, rep, DATE);

	return n < sizeof(buf) && n == strlen(buf) ? buf : "(cut or not terminated)";
}

static void heads(void)
{
	struct http_answer a = { .status = 404, .minor = 1 };

	ok(!strcmp(head(&a, NULL),
		   "HTTP/1.1 404 Not Found\r\nServer: ringcast\r\n"
		   "Content-Type: text/plain\r\nContent-Length: 14\r\n" DATE "\r\n"
		   "404 Not Found\n"),
	   "an error: a text body of Content-Length bytes");
	a.head_only = 1;
	ok(!strcmp(head(&a, NULL),
		   "HTTP/1.1 404 Not Found\r\nServer: ringcast\r\n"
		   "Content-Type: text/plain\r\nContent-Length: 14\r\n" DATE "\r\n"),
	   "a HEAD's: the same head, without the body");
	a = (struct http_answer){ .status = 405, .minor = 1, .close = 1 };
	ok(!strcmp(head(&a, NULL),
		   "HTTP/1.1 405 Method Not Allowed\r\nServer: ringcast\r\n"
		   "Content-Type: text/plain\r\nContent-Length: 23\r\n"
		   "Allow: GET, HEAD\r\n" DATE "Connection: close\r\n\r\n"
		   "405 Method Not Allowed\n"),
	   "405 says Allow; close says so");
	a = (struct http_answer){ .status = 431, .minor = 1, .close = 1 };
	ok(strstr(head(&a, NULL), "431 Request Header Fields Too Large\r\n") != NULL,
	   "431's reason phrase");
	a = (struct http_answer){ .status = 206, .minor = 0, .first = 10, .end = 20 };
	ok(!strcmp(head(&a, &blob),
		   "HTTP/1.1 206 Partial Content\r\nServer: ringcast\r\n"
		   "Content-Type: text/plain\r\nContent-Range: bytes 10-19/1000\r\n"
		   "Content-Length: 10\r\nLast-Modified: " LM "\r\nETag: \"e\"\r\n" DATE
		   "Connection: keep-alive\r\n\r\n"),
	   "206: Content-Range and Content-Length; an HTTP/1.0 client kept open hears so");
	a = (struct http_answer){ .status = 416, .minor = 1 };
	ok(!strcmp(head(&a, &blob),
		   "HTTP/1.1 416 Range Not Satisfiable\r\nServer: ringcast\r\n"
		   "Content-Range: bytes */1000\r\nContent-Length: 0\r\n" DATE "\r\n"),
	   "416: the size in Content-Range, no body");
	a = (struct http_answer){ .status = 304, .minor = 1 };
	ok(!strcmp(head(&a, &blob),
		   "HTTP/1.1 304 Not Modified\r\nServer: ringcast\r\n"
		   "ETag: \"e\"\r\nLast-Modified: " LM "\r\n" DATE "\r\n"),
	   "304: the validators, no body");
	a = (struct http_answer){ .status = 200, .minor = 1, .end = 1000 };
	const char *ok200 = "HTTP/1.1 200 OK\r\nServer: ringcast\r\nContent-Type: text/plain\r\n"
			    "Content-Length: 1000\r\nLast-Modified: " LM "\r\nETag: \"e\"\r\n"
			    "Accept-Ranges: bytes\r\n";
	char want[HTTP_HEAD_MAX];
	snprintf(want, sizeof(want), "%s" DATE "\r\n", ok200);
	ok(!strcmp(head(&a, &blob), want), "200: built when the blob has no head of its own");
	struct http_rep built = blob;
	built.ok_head = http_ok_head(&blob, &built.ok_head_len);
	ok(built.ok_head && !strcmp(built.ok_head, ok200) && built.ok_head_len == strlen(ok200),
	   "http_ok_head: the same, but for Date and Connection");
	ok(!strcmp(head(&a, &built), want), "200 from the blob's own head");
	free((char *)built.ok_head);

	char small[16];
	a = (struct http_answer){ .status = 404, .minor = 1 };
	size_t n = http_head(small, sizeof(small), &a, NULL, DATE);
	ok(n == sizeof(small) - 1 && strlen(small) == n,
	   "a head that does not fit is cut, terminated");
}

static void paths(void)
{
	struct http_req r;
	struct http_span s;
	char out[64];

	ok(parse("GET /a%3Fb.txt?x=1?y HTTP/1.1\r\nHost: a\r\n\r\n", &r) > 0 &&
		   span_eq(r.path, "/a%3Fb.txt"),
	   "the path ends at the first '?'");
	ok(parse("GET /a%23b HTTP/1.1\r\nHost: a\r\n\r\n", &r) > 0 && span_eq(r.path, "/a%23b"),
	   "an encoded '#' is part of the path");
	ok(parse("GET /c#d.txt HTTP/1.1\r\nHost: a\r\n\r\n", &r) == -400,
	   "a raw '#' in a target is malformed: a fragment is never sent");
	ok(parse("HEAD /c#d HTTP/1.1\r\nHost: a\r\n\r\n", &r) == -400 && r.method == HTTP_HEAD,
	   "after such an error the method is still known (a HEAD's 400 has no body)");

	ok(http_decode_path(R("/a%3Fb.txt"), out, sizeof(out)) == 8 && !strcmp(out, "/a?b.txt"),
	   "decoded once: %%3F is '?'");
	ok(http_decode_path(R("/a%253F"), out, sizeof(out)) == 5 && !strcmp(out, "/a%3F"),
	   "only once: %%253F is %%3F, not '?'");
	ok(http_decode_path(R("/%c3%A9 x+"), out, sizeof(out)) == 6 && !strcmp(out, "/\xc3\xa9 x+"),
	   "either case of hex digits; '+' is itself");
	ok(http_decode_path(R("/a%2"), out, sizeof(out)) == -1, "a cut escape: malformed");
	ok(http_decode_path(R("/a%zz"), out, sizeof(out)) == -1, "a non-hex escape: malformed");
	ok(http_decode_path(R("/a%00b"), out, sizeof(out)) == -1,
	   "%%00: malformed (no name holds NUL)");
	ok(http_decode_path(R("/abc"), out, 4) == -1 && http_decode_path(R("/abc"), out, 5) == 4,
	   "a buffer too small is an error; path length + 1 is enough");
}

static void listing(void)
{
	char *h = listing_href("a?b #%&\"<>'\\:\xc3\xa9~._-/Z9");
	ok(h && !strcmp(h, "/a%3Fb%20%23%25%26%22%3C%3E%27%5C%3A%C3%A9~._-/Z9"),
	   "href: all but unreserved bytes and '/' percent-encoded: %s", h ? h : "(none)");
	struct http_span s;
	char out[128];
	ok(h && http_decode_path(R(h), out, sizeof(out)) > 0 &&
		   !strcmp(out, "/a?b #%&\"<>'\\:\xc3\xa9~._-/Z9"),
	   "and decoded once, it is the name again");
	free(h);

	struct listing_item items[] = {
		{ "a&b <i>\"q\".txt", 10, "text/plain; charset=utf-8" },
		{ "bad\xff\x01\xc0\xaf\xed\xa0\x80\xc2\x85\xef\xbf\xbf.bin", 0,
		  "application/octet-stream" },
		{ "caf\xc3\xa9 \xf0\x9f\x93\x80", 12345678901ULL, "application/octet-stream" },
	};
	size_t len = 0;
	char *doc = listing_html(items, 3, &len);
	ok(doc && len == strlen(doc), "a page of %zu bytes", len);
	ok(doc &&
		   strstr(doc,
			  "<a href=\"/a%26b%20%3Ci%3E%22q%22.txt\">a&amp;b &lt;i&gt;&quot;q&quot;.txt</a>"
			  "</td><td class=\"size\">10</td><td>text/plain; charset=utf-8</td>"),
	   "a name is percent-encoded in its link and HTML-escaped as text; size and type follow");
	ok(doc &&
		   strstr(doc,
			  "<a href=\"/bad%FF%01%C0%AF%ED%A0%80%C2%85%EF%BF%BF.bin\">bad"
			  "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
			  "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd.bin</a>"),
	   "invalid UTF-8 (a stray byte, an overlong, a surrogate), a control, a C1 control and a "
	   "noncharacter show as U+FFFD, one each per byte or character; the link keeps every byte");
	ok(doc &&
		   strstr(doc,
			  ">caf\xc3\xa9 \xf0\x9f\x93\x80</a></td><td class=\"size\">12345678901<"),
	   "valid UTF-8 is shown as it is; sizes past 4 GiB in full");
	ok(doc && strstr(doc, "<title>ringcast: 3 blobs</title>") &&
		   !strncmp(doc, "<!DOCTYPE html>\n", 16) &&
		   strstr(doc, "<meta charset=\"utf-8\" />"),
	   "an HTML5 document, UTF-8, titled with the count");
	free(doc);
	doc = listing_html(items, 1, &len);
	ok(doc && strstr(doc, "<h1>1 blob</h1>"), "one blob, singular");
	free(doc);
}

int main(void)
{
	page = (size_t)sysconf(_SC_PAGESIZE);
	guard_base = mmap(NULL, page * 3, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
			  0);
	if (guard_base == MAP_FAILED || mprotect(guard_base + page * 2, page, PROT_NONE) < 0)
		return 1;
	requests();
	repeated_fields();
	bad_requests();
	ranges();
	etags_and_dates();
	dates();
	preconditions();
	if_ranges();
	answers();
	heads();
	paths();
	listing();
	return tap_done();
}
