/* libFuzzer target for the HTTP request parser and the helpers that read the
 * spans it returns: ranges, ETags, dates (all three forms), preconditions,
 * path decoding; then the answer to the request and its head.
 * `make fuzz` builds it with ASan and UBSan and runs it; FUZZ_TIME=seconds
 * sets how long. */
#include "http.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The head of a: it fits HTTP_HEAD_MAX, and it is one string that ends
 * with the blank line (or, for an error but 416 and not to a HEAD, the
 * text after it). */
static void check_head(const struct http_answer *a, const struct http_rep *rep)
{
	char buf[HTTP_HEAD_MAX];
	size_t n = http_head(buf, sizeof(buf), a, rep, "Date: Thu, 01 Jan 2026 00:00:00 GMT\r\n");

	if (n >= sizeof(buf) - 1 || strlen(buf) != n || strncmp(buf, "HTTP/1.1 ", 9))
		abort();
	if ((a->status < 400 || a->status == 416 || a->head_only) &&
	    (n < 4 || memcmp(buf + n - 4, "\r\n\r\n", 4)))
		abort();
}

/* The answer to r from a blob of 1000 bytes, or none (404), and its head:
 * its status is one of those http.h lists and its bytes are the blob's. */
static void answer(const struct http_req *r, int path_ok)
{
	static const struct http_rep blob = { .size = 1000,
					      .mtime = 784111777,
					      .mtime_strong = 1,
					      .etag = "\"1-2\"",
					      .type = "text/plain" };
	struct http_answer a;

	for (int found = 0; found < 2; found++) {
		int st = http_answer(r, path_ok, found ? &blob : NULL, 1767225600, &a);
		if (st != a.status || a.first > a.end || a.end > 1000 ||
		    (a.end > a.first && st != 200 && st != 206) || (!found && st < 400) ||
		    !strchr("2345", '0' + st / 100))
			abort();
		check_head(&a, found ? &blob : NULL);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_req r;
	/* A copy of exactly `size` bytes, so ASan sees any read past the end. */
	char *buf = malloc(size ? size : 1);
	uint64_t a, b;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	int n = http_parse(buf, size, 4096, &r);
	if (n > 0) {
		if ((size_t)n > size || n > 4096)
			abort();
		http_range(r.range, 1000, &a, &b);
		if (http_range(r.range, 1000, &a, &b) == 1 && (a > b || b >= 1000))
			abort();
		if (r.if_match.n > HTTP_LIST_LINES || r.if_none_match.n > HTTP_LIST_LINES)
			abort();
		for (int i = 0; i < r.if_none_match.n; i++)
			http_etag_match(r.if_none_match.line[i], "\"1-2\"", 0);
		http_parse_date(r.if_modified_since, 1767225600);
		http_parse_date(r.if_unmodified_since, 4102444800);
		int c = http_preconditions(&r, "\"1-2\"", 784111777, 1767225600);
		if (c != 0 && c != 304 && c != 412)
			abort();
		http_if_range(&r, "\"1-2\"", 784111777, 1, 1767225600);
		/* A path decodes into path.len + 1 bytes, to no longer a string. */
		char *path = malloc(r.path.len + 1);
		if (!path)
			abort();
		int n2 = http_decode_path(r.path, path, r.path.len + 1);
		if (n2 > (int)r.path.len || (n2 >= 0 && strlen(path) != (size_t)n2))
			abort();
		free(path);
		answer(&r, n2 >= 0);
	} else if (n != 0 && n != -400 && n != -414 && n != -431 && n != -505) {
		abort();
	} else if (n < 0) {
		struct http_answer a;
		http_answer_bad(n, &r, &a);
		check_head(&a, NULL);
	}
	free(buf);
	return 0;
}
