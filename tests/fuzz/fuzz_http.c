/* libFuzzer target for the HTTP request parser and the helpers that read the
 * spans it returns: ranges, ETags, dates (all three forms), preconditions,
 * path decoding.
 * `make fuzz` builds it with ASan and UBSan and runs it; FUZZ_TIME=seconds
 * sets how long. */
#include "http.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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
	} else if (n != 0 && n != -400 && n != -414 && n != -431 && n != -505) {
		abort();
	}
	free(buf);
	return 0;
}
