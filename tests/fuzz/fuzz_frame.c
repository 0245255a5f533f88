/* libFuzzer target for the framed protocol (src/frame.c): the input is read
 * as a header, as a verdict and (its first 48 bytes) as a trailer, and is
 * made into a header to encode.  What is parsed must be what frame.h
 * promises: a length no longer than the input, a name that can be printed,
 * and the same struct again after encode and parse.
 * `make fuzz` builds it with ASan and UBSan and runs it; FUZZ_TIME=seconds
 * sets how long. */
#include "frame.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int printable(const char *s, size_t max)
{
	size_t n = strnlen(s, max + 1);

	if (n > max)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((uint8_t)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	return 1;
}

static int header_eq(const struct frame_header *a, const struct frame_header *b)
{
	return a->version == b->version && !strcmp(a->name, b->name) &&
		a->has_size == b->has_size && (!a->has_size || a->size == b->size) &&
		a->has_expect == b->has_expect &&
		(!a->has_expect || !memcmp(a->expect, b->expect, 32));
}

/* A parsed header: its name printable, and parse(encode(h)) is h. */
static void check_header(const struct frame_header *h)
{
	static uint8_t buf[FRAME_HEADER_MAX];
	static struct frame_header again;
	unsigned code;
	const char *why;

	if (h->version != FRAME_VERSION || !printable(h->name, FRAME_NAME_MAX))
		abort();
	ssize_t n = frame_header_encode(h, buf, sizeof(buf));
	if (n < FRAME_FIXED || n > FRAME_HEADER_MAX)
		abort();
	if (frame_header_parse(buf, (size_t)n, &again, &code, &why) != n || !header_eq(h, &again))
		abort();
}

/* A verdict parsed from in, its host records read out and written again:
 * the same verdict, record for record. */
static void check_verdict(const uint8_t *in, struct frame_verdict *v)
{
	static struct frame_verdict again;
	static struct frame_host h;
	struct frame_host *hosts = calloc(v->nhosts ? v->nhosts : 1, sizeof(*hosts));
	const char *why;
	size_t off = v->hosts_off;

	if (!hosts)
		return;
	if (v->version != FRAME_VERSION || !printable(v->reason, FRAME_REASON_MAX) ||
	    !frame_code_name(v->code) || v->nhosts > FRAME_HOSTS_MAX)
		abort();
	for (size_t i = 0; i < v->nhosts; i++) {
		frame_host_parse(in, &off, &hosts[i]);
		if (!hosts[i].address[0] || !printable(hosts[i].address, FRAME_HOST_MAX) ||
		    !printable(hosts[i].reason, FRAME_REASON_MAX))
			abort();
	}
	v->hosts = hosts;
	size_t size = frame_verdict_size(v);
	uint8_t *buf = malloc(size);
	ssize_t n = buf ? frame_verdict_encode(v, buf, size) : (ssize_t)size;
	if (n != (ssize_t)size || frame_verdict_parse(buf, (size_t)n, &again, &why) != n ||
	    again.code != v->code || again.bytes != v->bytes || again.nhosts != v->nhosts ||
	    memcmp(again.sha256, v->sha256, 32) || strcmp(again.reason, v->reason))
		abort();
	off = again.hosts_off;
	for (size_t i = 0; i < v->nhosts; i++) {
		frame_host_parse(buf, &off, &h);
		if (strcmp(h.address, hosts[i].address) || strcmp(h.reason, hosts[i].reason) ||
		    h.code != hosts[i].code || h.bytes != hosts[i].bytes ||
		    h.resumed_from != hosts[i].resumed_from)
			abort();
	}
	free(buf);
	free(hosts);
}

/* Any header the encoder writes, whatever its name, is one a receiver
 * takes, with the name cut to a prefix of what it was given. */
static void check_encode(const uint8_t *data, size_t size)
{
	static struct frame_header h, got;
	static uint8_t buf[FRAME_HEADER_MAX];
	unsigned code;
	const char *why;

	memset(&h, 0, sizeof(h));
	size_t n = size < sizeof(h.name) ? size : sizeof(h.name);
	memcpy(h.name, data, n); /* maybe no NUL: the encoder must stop at 1025 */
	h.has_size = size & 1;
	h.has_expect = size & 2;
	ssize_t len = frame_header_encode(&h, buf, sizeof(buf));
	if (len < FRAME_FIXED || frame_header_parse(buf, (size_t)len, &got, &code, &why) != len)
		abort();
	/* All of the name, or (past FRAME_NAME_MAX) a cut before a character. */
	size_t gn = strlen(got.name), hn = strnlen(h.name, sizeof(h.name));
	if (hn <= FRAME_NAME_MAX ? gn != hn : gn > FRAME_NAME_MAX || (h.name[gn] & 0xc0) == 0x80)
		abort();
	for (size_t i = 0; i < gn; i++) {
		uint8_t c = (uint8_t)h.name[i];
		if (got.name[i] != (c < 0x20 || c == 0x7f ? '?' : h.name[i]))
			abort();
	}
}

/* An ask read from buf: a printable host, and the same bytes written again. */
static void check_ask(const uint8_t *buf, size_t size)
{
	static char host[FRAME_HOST_MAX + 1];
	static uint8_t again[FRAME_ASK_MAX];
	const char *why = NULL;
	uint64_t off;

	if (!frame_is_ask(buf, size))
		return;
	ssize_t n = frame_ask_parse(buf, size, &off, host, &why);
	if (n > (ssize_t)size || n < -1 || (n > 0 && n < FRAME_ASK_FIXED + 1) || (n == -1 && !why))
		abort();
	if (n > 0 &&
	    (!printable(host, FRAME_HOST_MAX) || frame_ask_encode(off, host, again) != n ||
	     memcmp(again, buf, (size_t)n)))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct frame_header h;
	static struct frame_verdict v;
	/* A copy of exactly `size` bytes, so ASan sees any read past the end. */
	uint8_t *buf = malloc(size ? size : 1);
	unsigned code = 99;
	const char *why = NULL;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	ssize_t n = frame_header_parse(buf, size, &h, &code, &why);
	if (n > (ssize_t)size || n < -1 || (n > 0 && n < FRAME_FIXED))
		abort();
	if (n == -1 && (!why || (code != FRAME_BAD_HEADER && code != FRAME_REFUSED)))
		abort();
	if (n > 0)
		check_header(&h);
	why = NULL;
	n = frame_verdict_parse(buf, size, &v, &why);
	if (n > (ssize_t)size || n < -1 || (n > 0 && n < FRAME_VERDICT_FIXED) || (n == -1 && !why))
		abort();
	if (n > 0)
		check_verdict(buf, &v);
	if (size >= FRAME_TRAILER_LEN) {
		uint64_t len;
		uint8_t sha[32], again[FRAME_TRAILER_LEN];
		if (frame_trailer_parse(buf, &len, sha, &why) == 0) {
			frame_trailer_encode(len, sha, again);
			if (memcmp(again, buf, FRAME_TRAILER_LEN))
				abort();
		}
	}
	check_ask(buf, size);
	check_encode(data, size);
	free(buf);
	return 0;
}
