/* The framed protocol's encoders and parsers (src/frame.c).  Every input is
 * placed so that its last byte is the last byte before an unmapped page: a
 * read past the end faults.  Headers and verdicts are built here byte by
 * byte, so that the layout is checked against doc/PROTOCOL.md, not only
 * against the encoder. */
#include "frame.h"
#include "tap.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define ROOM (FRAME_FIXED + FRAME_FIELDS_MAX + 4096)

static uint8_t *guard_end; /* the first byte of the PROT_NONE page */

/* Copy s (n bytes) to end right before the guard page; returns the copy. */
static const uint8_t *guarded(const void *s, size_t n)
{
	uint8_t *p = guard_end - n;

	memcpy(p, s, n);
	return p;
}

/* Bytes built by hand: big-endian integers, fields, the fields' length. */
struct bytes {
	uint8_t b[ROOM];
	size_t n;
};

static void add(struct bytes *b, const void *p, size_t n)
{
	memcpy(b->b + b->n, p, n);
	b->n += n;
}

static void add_be(struct bytes *b, uint64_t v, int width)
{
	for (int i = width - 1; i >= 0; i--)
		b->b[b->n++] = (uint8_t)(v >> (8 * i));
}

/* "RINGCAST", version, flags and a fields length that seal() sets. */
static struct bytes *header(unsigned version, unsigned flags)
{
	static struct bytes b;

	b.n = 0;
	add(&b, "RINGCAST", 8);
	add_be(&b, version, 2);
	add_be(&b, flags, 2);
	add_be(&b, 0, 4);
	return &b;
}

static void field(struct bytes *b, unsigned type, const void *v, size_t n)
{
	add_be(b, type, 2);
	add_be(b, n, 2);
	add(b, v, n);
}

/* Set the fields length to what follows the fixed part. */
static struct bytes *seal(struct bytes *b)
{
	uint32_t f = (uint32_t)(b->n - FRAME_FIXED);

	for (int i = 0; i < 4; i++)
		b->b[12 + i] = (uint8_t)(f >> (24 - 8 * i));
	return b;
}

static const uint8_t sha_a[32] = { 0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40,
				   0xde, 0x5d, 0xae, 0x22, 0x23, 0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17,
				   0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad };

static ssize_t hparse(const void *s, size_t n, struct frame_header *h, unsigned *code,
		      const char **why)
{
	*code = 99;
	*why = NULL;
	return frame_header_parse(guarded(s, n), n, h, code, why);
}

/* Does the header b fail with code, with a reason holding word? */
static int rejected(const struct bytes *b, unsigned code, const char *word)
{
	struct frame_header h;
	unsigned c;
	const char *why;

	return hparse(b->b, b->n, &h, &c, &why) == -1 && c == code && why && strstr(why, word);
}

/* Every proper prefix of the n bytes at s asks for more. */
static int header_prefixes_wait(const uint8_t *s, size_t n)
{
	struct frame_header h;
	unsigned code;
	const char *why;

	for (size_t i = 0; i < n; i++)
		if (hparse(s, i, &h, &code, &why) != 0)
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

static void header_layout(void)
{
	struct frame_header h = { .version = 7, .has_size = 1, .size = 0x0102030405060708ull };
	uint8_t buf[FRAME_HEADER_MAX];
	uint8_t size[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };

	strcpy(h.name, "disk.img");
	h.has_expect = 1;
	memcpy(h.expect, sha_a, 32);
	struct bytes *b = header(1, 0);
	field(b, FRAME_F_NAME, "disk.img", 8);
	field(b, FRAME_F_SIZE, size, 8);
	field(b, FRAME_F_EXPECT_SHA256, sha_a, 32);
	seal(b);
	ssize_t n = frame_header_encode(&h, buf, sizeof(buf));
	ok(n == (ssize_t)b->n && !memcmp(buf, b->b, b->n),
	   "a header is RINGCAST, version 1 (whatever h says), flags 0, fields length, then "
	   "NAME, SIZE, EXPECT_SHA256 as type, length, value, big-endian");

	struct frame_header none = { 0 };
	n = frame_header_encode(&none, buf, sizeof(buf));
	ok(n == FRAME_FIXED && !memcmp(buf, "RINGCAST\0\1\0\0\0\0\0\0", 16),
	   "no name, no size, no digest: the 16 fixed bytes alone");
	ok(frame_header_encode(&h, buf, (size_t)b->n - 1) == -ENOSPC,
	   "a buffer a byte short: -ENOSPC");
	ok(frame_header_encode(&h, buf, b->n) == (ssize_t)b->n, "a buffer just long enough");
	ok(frame_header_encode(&none, buf, 15) == -ENOSPC, "15 bytes hold no header");
}

static void header_round_trips(void)
{
	uint8_t buf[FRAME_HEADER_MAX + 100];
	int all_ok = 1, prefixes_ok = 1, trailing_ok = 1;

	for (int i = 0; i < 8; i++) {
		struct frame_header h = { 0 }, got;
		unsigned code;
		const char *why;
		if (i & 1)
			strcpy(h.name, "backups/2026-12-01 \xc3\xa9t\xc3\xa9.tar");
		h.has_size = !!(i & 2);
		h.size = i & 2 ? UINT64_MAX - (uint64_t)i : 0;
		h.has_expect = !!(i & 4);
		if (i & 4)
			memcpy(h.expect, sha_a, 32);
		h.version = FRAME_VERSION;
		ssize_t n = frame_header_encode(&h, buf, sizeof(buf));
		if (n <= 0 || hparse(buf, (size_t)n, &got, &code, &why) != n ||
		    !header_eq(&h, &got))
			all_ok = 0;
		if (!header_prefixes_wait(buf, (size_t)n))
			prefixes_ok = 0;
		memset(buf + n, 'x', 100); /* the stream's first bytes */
		if (hparse(buf, (size_t)n + 100, &got, &code, &why) != n || !header_eq(&h, &got))
			trailing_ok = 0;
	}
	ok(all_ok, "encode then parse gives the header back, with and without each field");
	ok(prefixes_ok, "every proper prefix of a valid header asks for more, never -1");
	ok(trailing_ok, "a header followed by the stream: the header's length");
}

static void names(void)
{
	static struct frame_header h, got;
	uint8_t buf[FRAME_HEADER_MAX];
	unsigned code;
	const char *why;

	memset(h.name, 'a', sizeof(h.name)); /* 1025 bytes, no NUL */
	ssize_t n = frame_header_encode(&h, buf, sizeof(buf));
	ok(n == FRAME_FIXED + 4 + FRAME_NAME_MAX &&
		   hparse(buf, (size_t)n, &got, &code, &why) == n &&
		   strlen(got.name) == FRAME_NAME_MAX,
	   "a name filling the array without a NUL is cut to 1024 bytes");
	memcpy(h.name + 1023, "\xc3\xa9", 2); /* a 2-byte character across the limit */
	n = frame_header_encode(&h, buf, sizeof(buf));
	ok(n > 0 && hparse(buf, (size_t)n, &got, &code, &why) == n && strlen(got.name) == 1023,
	   "a 2-byte character across the limit goes whole or not at all");
	memcpy(h.name + 1022, "\xe2\x82\xac", 3);
	n = frame_header_encode(&h, buf, sizeof(buf));
	ok(n > 0 && hparse(buf, (size_t)n, &got, &code, &why) == n && strlen(got.name) == 1022,
	   "and a 3-byte one");
	memcpy(h.name + 1021, "\xe2\x82\xac", 4); /* ends at 1024, then the NUL */
	n = frame_header_encode(&h, buf, sizeof(buf));
	ok(n > 0 && hparse(buf, (size_t)n, &got, &code, &why) == n && strlen(got.name) == 1024 &&
		   !memcmp(got.name + 1021, "\xe2\x82\xac", 3),
	   "a character that ends at the limit is kept");
	strcpy(h.name, "a\nb\x1b[2J\x7f");
	n = frame_header_encode(&h, buf, sizeof(buf));
	ok(n > 0 && hparse(buf, (size_t)n, &got, &code, &why) == n && !strcmp(got.name, "a?b?[2J?"),
	   "control bytes in a name go as '?', so that the header is one a receiver takes");
	ok(frame_header_encode(&h, buf, FRAME_HEADER_MAX) > 0, "FRAME_HEADER_MAX holds any header");
	memset(h.name, 'a', sizeof(h.name));
	h.has_size = h.has_expect = 1;
	ok(frame_header_encode(&h, buf, FRAME_HEADER_MAX) == FRAME_HEADER_MAX,
	   "the largest header is FRAME_HEADER_MAX bytes");
}

static void bad_fixed_part(void)
{
	struct frame_header h;
	unsigned code;
	const char *why;

	ssize_t r = hparse("GET / HTTP/1.1\r\n\r\n", 18, &h, &code, &why);
	ok(r == -1 && code == FRAME_BAD_HEADER && strstr(why, "not a ringcast stream"),
	   "HTTP: a bad header: %s", why);
	ok(hparse("GE", 2, &h, &code, &why) == -1 && code == FRAME_BAD_HEADER,
	   "a stranger is told as soon as a byte of the magic differs");
	ok(hparse("RINGCASX\0\1\0\0\0\0\0\0", 16, &h, &code, &why) == -1 &&
		   code == FRAME_BAD_HEADER,
	   "the magic's last byte wrong");
	ok(rejected(seal(header(2, 0)), FRAME_REFUSED, "version 1"),
	   "version 2 is refused, naming the version spoken");
	ok(rejected(seal(header(0, 0)), FRAME_REFUSED, "protocol version not supported"),
	   "version 0 is refused");
	ok(hparse("RINGCAST\0\2", 10, &h, &code, &why) == -1 && code == FRAME_REFUSED,
	   "the version is decided on its own 10 bytes: a later layout is never read");
	ok(rejected(seal(header(1, 1)), FRAME_BAD_HEADER, "flags"), "flags 1: a bad header");
	ok(rejected(seal(header(1, 0x8000)), FRAME_BAD_HEADER, "flags"), "flags 0x8000 too");

	struct bytes *b = header(1, 0);
	b->n = 12;
	add_be(b, FRAME_FIELDS_MAX + 1, 4);
	ok(rejected(b, FRAME_BAD_HEADER, "64 KiB"),
	   "fields of 64 KiB + 1: a bad header, said from the 16 fixed bytes alone");
	b->n = 12;
	add_be(b, 0xffffffffu, 4);
	ok(rejected(b, FRAME_BAD_HEADER, "64 KiB"), "fields of 4 GiB: the same");
	b->n = 12;
	add_be(b, FRAME_FIELDS_MAX, 4);
	ok(hparse(b->b, b->n, &h, &code, &why) == 0, "fields of 64 KiB: wait for them");
	uint8_t *skip = calloc(1, FRAME_FIELDS_MAX);
	field(b, 0x7fff, skip, FRAME_FIELDS_MAX - 4);
	ok(hparse(b->b, b->n, &h, &code, &why) == FRAME_FIXED + FRAME_FIELDS_MAX && !h.name[0],
	   "and they are taken when they are all there");
	free(skip);
}

static void bad_fields(void)
{
	uint8_t name[FRAME_NAME_MAX + 1];
	struct bytes *b;

	b = header(1, 0);
	add_be(b, FRAME_F_NAME, 2);
	add_be(b, 1, 1);
	ok(rejected(seal(b), FRAME_BAD_HEADER, "runs past"), "a field cut in its type and length");
	b = header(1, 0);
	field(b, FRAME_F_NAME, "abc", 3);
	b->n--;
	ok(rejected(seal(b), FRAME_BAD_HEADER, "runs past"), "a value running past the fields");
	b = header(1, 0);
	field(b, 0x1234, "abc", 3);
	b->n--;
	ok(rejected(seal(b), FRAME_BAD_HEADER, "runs past"), "an unknown field running past too");

	b = header(1, 0);
	field(b, FRAME_F_NAME, "", 0);
	ok(rejected(seal(b), FRAME_BAD_HEADER, "empty"), "an empty NAME");
	memset(name, 'n', sizeof(name));
	b = header(1, 0);
	field(b, FRAME_F_NAME, name, FRAME_NAME_MAX + 1);
	ok(rejected(seal(b), FRAME_BAD_HEADER, "longer than 1024"), "a NAME of 1025 bytes");
	static const struct {
		const char *s;
		size_t n;
		const char *what;
	} controls[] = {
		{ "a\0b", 3, "a NUL" },
		{ "a\nb", 3, "a newline" },
		{ "a\rb", 3, "a carriage return" },
		{ "\x1b[2J", 4, "an escape" },
		{ "a\x7f", 2, "a DEL" },
		{ "\t", 1, "a tab" },
	};
	for (size_t i = 0; i < sizeof(controls) / sizeof(controls[0]); i++) {
		b = header(1, 0);
		field(b, FRAME_F_NAME, controls[i].s, controls[i].n);
		ok(rejected(seal(b), FRAME_BAD_HEADER, "control"), "a NAME holding %s",
		   controls[i].what);
	}
}

static void field_lengths(void)
{
	uint8_t zero[40] = { 0 };
	struct bytes *b;
	int sizes_ok = 1;
	for (size_t n = 0; n <= 16; n++) {
		b = header(1, 0);
		field(b, FRAME_F_SIZE, zero, n);
		if (n != 8 && !rejected(seal(b), FRAME_BAD_HEADER, "SIZE"))
			sizes_ok = 0;
	}
	ok(sizes_ok, "a SIZE of 0..16 bytes but 8: a bad header");
	static const size_t shalen[] = { 0, 1, 31, 33, 40 };
	for (size_t i = 0; i < sizeof(shalen) / sizeof(shalen[0]); i++) {
		b = header(1, 0);
		field(b, FRAME_F_EXPECT_SHA256, zero, shalen[i]);
		ok(rejected(seal(b), FRAME_BAD_HEADER, "EXPECT_SHA256"), "an EXPECT_SHA256 of %zu",
		   shalen[i]);
	}
}

static void repeated_and_unknown(void)
{
	uint8_t v[32] = { 0 };
	static const size_t len[] = { 0, 4, 8, 32 };
	struct frame_header h;
	unsigned code;
	const char *why;
	struct bytes *b;

	for (unsigned t = FRAME_F_NAME; t <= FRAME_F_EXPECT_SHA256; t++) {
		b = header(1, 0);
		unsigned other = t == FRAME_F_SIZE ? FRAME_F_EXPECT_SHA256 : FRAME_F_SIZE;
		field(b, t, t == FRAME_F_NAME ? (const void *)"abcd" : v, len[t]);
		field(b, other, v, len[other]); /* not next to each other */
		field(b, t, t == FRAME_F_NAME ? (const void *)"abcd" : v, len[t]);
		ok(rejected(seal(b), FRAME_BAD_HEADER, "twice"), "field %u given twice", t);
	}

	b = header(1, 0);
	field(b, 0x4242, "whatever", 8);
	field(b, FRAME_F_NAME, "x", 1);
	field(b, 0x7fff, "", 0);
	seal(b);
	ok(hparse(b->b, b->n, &h, &code, &why) == (ssize_t)b->n && !strcmp(h.name, "x"),
	   "unknown fields without the critical bit are skipped, the rest taken");
	b = header(1, 0);
	field(b, 0x4242, "a", 1);
	field(b, 0x4242, "b", 1);
	seal(b);
	ok(hparse(b->b, b->n, &h, &code, &why) == (ssize_t)b->n,
	   "an unknown field twice is skipped twice");
	b = header(1, 0);
	field(b, FRAME_F_NAME, "x", 1);
	field(b, FRAME_CRITICAL | 0x42, "", 0);
	ok(rejected(seal(b), FRAME_REFUSED, "critical"),
	   "an unknown critical field: refused, not bad");
	b = header(1, 0);
	field(b, FRAME_CRITICAL | FRAME_F_NAME, "x", 1);
	ok(rejected(seal(b), FRAME_REFUSED, "critical"),
	   "the critical bit is part of the type: 0x8001 is not NAME");
}

/* The valid header and verdict, byte by byte garbled, over every prefix
 * length against the guard page: a result never longer than the input,
 * a reason always given with -1. */
static void garbled(void)
{
	struct frame_header h = { .has_size = 1, .size = 12345, .has_expect = 1 }, got;
	struct frame_verdict v = { .code = FRAME_MISMATCH, .bytes = 99 }, vgot;
	uint8_t hb[FRAME_HEADER_MAX], vb[FRAME_VERDICT_MAX], x[FRAME_VERDICT_MAX];
	static const uint8_t flips[] = { 0xff, 0x01, 0x80, 0x20 };
	int hok = 1, vok = 1;

	strcpy(h.name, "name \xc3\xa9");
	strcpy(v.reason, "the SHA-256 is not the trailer's");
	size_t hn = (size_t)frame_header_encode(&h, hb, sizeof(hb));
	size_t vn = (size_t)frame_verdict_encode(&v, vb, sizeof(vb));
	for (size_t f = 0; f < sizeof(flips); f++) {
		for (size_t at = 0; at < hn; at++) {
			memcpy(x, hb, hn);
			x[at] ^= flips[f];
			for (size_t n = 0; n <= hn; n++) {
				unsigned code = 99;
				const char *why = NULL;
				ssize_t r = frame_header_parse(guarded(x, n), n, &got, &code, &why);
				if (r > (ssize_t)n ||
				    (r < 0 &&
				     (r != -1 || !why ||
				      (code != FRAME_BAD_HEADER && code != FRAME_REFUSED))))
					hok = 0;
			}
		}
		for (size_t at = 0; at < vn; at++) {
			memcpy(x, vb, vn);
			x[at] ^= flips[f];
			for (size_t n = 0; n <= vn; n++) {
				const char *why = NULL;
				ssize_t r = frame_verdict_parse(guarded(x, n), n, &vgot, &why);
				if (r > (ssize_t)n || (r < 0 && (r != -1 || !why)))
					vok = 0;
			}
		}
	}
	ok(hok, "garbled headers, every prefix, at a guard page: no overread, sane results");
	ok(vok, "garbled verdicts, every prefix, at a guard page: the same");
}

static void trailers(void)
{
	uint8_t buf[FRAME_TRAILER_LEN], sha[32];
	uint64_t len = 0;
	const char *why = NULL;
	static struct bytes b;

	frame_trailer_encode(0x1122334455667788ull, sha_a, buf);
	add(&b, "RINGCEND", 8);
	add_be(&b, 0x1122334455667788ull, 8);
	add(&b, sha_a, 32);
	ok(!memcmp(buf, b.b, FRAME_TRAILER_LEN), "a trailer is RINGCEND, u64 length, SHA-256");
	ok(frame_trailer_parse(guarded(buf, FRAME_TRAILER_LEN), &len, sha, &why) == 0 &&
		   len == 0x1122334455667788ull && !memcmp(sha, sha_a, 32),
	   "and reads back");
	buf[7] = 'X';
	int r = frame_trailer_parse(guarded(buf, FRAME_TRAILER_LEN), &len, sha, &why);
	ok(r == -1 && why && strstr(why, "trailer"), "a wrong magic is no trailer: %s", why);
}

static ssize_t vparse(const void *s, size_t n, struct frame_verdict *v, const char **why)
{
	*why = NULL;
	return frame_verdict_parse(guarded(s, n), n, v, why);
}

/* "RINGCVRD", version, code, bytes, sha_a, then a reason of rlen bytes. */
static struct bytes *verdict(unsigned version, unsigned code, size_t rlen, const char *reason)
{
	static struct bytes b;

	b.n = 0;
	add(&b, "RINGCVRD", 8);
	add_be(&b, version, 2);
	add_be(&b, code, 2);
	add_be(&b, 0x0102030405060708ull, 8);
	add(&b, sha_a, 32);
	add_be(&b, rlen, 2);
	add(&b, reason, strlen(reason));
	return &b;
}

static void verdict_layout(void)
{
	struct frame_verdict v = { .version = 3,
				   .code = FRAME_MISMATCH,
				   .bytes = 0x0102030405060708ull },
			     got;
	uint8_t buf[FRAME_VERDICT_MAX + 10];
	const char *why;

	memcpy(v.sha256, sha_a, 32);
	strcpy(v.reason, "length 10, trailer says 11");
	struct bytes *b = verdict(1, FRAME_MISMATCH, 26, "length 10, trailer says 11");
	add_be(b, 0, 4); /* no host records */
	ssize_t n = frame_verdict_encode(&v, buf, sizeof(buf));
	ok(n == (ssize_t)b->n && !memcmp(buf, b->b, b->n),
	   "a verdict is RINGCVRD, version 1, code, bytes, SHA-256, reason length, reason, "
	   "0 host records");
	ok(vparse(buf, (size_t)n, &got, &why) == n && got.version == 1 && got.code == v.code &&
		   got.bytes == v.bytes && !memcmp(got.sha256, sha_a, 32) &&
		   !strcmp(got.reason, v.reason),
	   "and reads back");
	int waits = 1;
	for (ssize_t i = 0; i < n; i++)
		if (vparse(buf, (size_t)i, &got, &why) != 0)
			waits = 0;
	ok(waits, "every proper prefix of a verdict asks for more, never -1");
	memset(buf + n, 'z', 10);
	ok(vparse(buf, (size_t)n + 10, &got, &why) == n, "bytes after a verdict are not its own");
	ok(frame_verdict_encode(&v, buf, (size_t)n - 1) == -ENOSPC, "a byte short: -ENOSPC");

	v.reason[0] = '\0';
	v.code = 77;
	n = frame_verdict_encode(&v, buf, sizeof(buf));
	ok(n == FRAME_VERDICT_FIXED + 4 && vparse(buf, (size_t)n, &got, &why) == n &&
		   got.code == 77 && !got.reason[0],
	   "an empty reason; a code this build does not know is kept");
	memset(v.reason, 'r', sizeof(v.reason)); /* 513 bytes, no NUL */
	ok(frame_verdict_encode(&v, buf, sizeof(buf)) == FRAME_VERDICT_MAX,
	   "a reason past 512 bytes is cut there: FRAME_VERDICT_MAX");
	memcpy(v.reason + 511, "\xc3\xa9", 2);
	n = frame_verdict_encode(&v, buf, sizeof(buf));
	ok(n == FRAME_VERDICT_MAX - 1 && vparse(buf, (size_t)n, &got, &why) == n &&
		   strlen(got.reason) == 511,
	   "at a UTF-8 boundary");
}

static void bad_verdicts(void)
{
	struct frame_verdict v;
	const char *why;
	char reason[FRAME_REASON_MAX + 2];
	struct bytes *b;

	b = verdict(1, FRAME_REFUSED, 8, "a\nb\x1b[\tc\x7f");
	add_be(b, 0, 4);
	ok(vparse(b->b, b->n, &v, &why) == (ssize_t)b->n && !strcmp(v.reason, "a?b?[?c?"),
	   "control characters in the reason become '?'");
	b = verdict(1, FRAME_REFUSED, 3, "");
	add(b, "a\0b", 3);
	add_be(b, 0, 4);
	ok(vparse(b->b, b->n, &v, &why) == (ssize_t)b->n && !strcmp(v.reason, "a?b"),
	   "a NUL in the reason too: it is a string of all its bytes");
	memset(reason, 'r', sizeof(reason) - 1);
	reason[sizeof(reason) - 1] = '\0';
	b = verdict(1, FRAME_VERIFIED, FRAME_REASON_MAX + 1, "");
	ssize_t r = vparse(b->b, b->n, &v, &why);
	ok(r == -1 && strstr(why, "512"), "a reason of 513 bytes: -1 from the fixed part: %s", why);
	b = verdict(1, FRAME_VERIFIED, FRAME_REASON_MAX, reason + 1);
	add_be(b, 0, 4);
	ok(vparse(b->b, b->n, &v, &why) == (ssize_t)b->n && strlen(v.reason) == FRAME_REASON_MAX,
	   "a reason of 512 bytes is whole");
	b = verdict(2, FRAME_VERIFIED, 0, "");
	r = vparse(b->b, b->n, &v, &why);
	ok(r == -1 && !strcmp(why, "verdict of an unknown protocol version"),
	   "a verdict of version 2: %s", why);
	b = verdict(0, FRAME_VERIFIED, 0, "");
	ok(vparse(b->b, b->n, &v, &why) == -1, "of version 0 too");
	r = vparse("HTTP/1.1 400 Bad Request\r\n", 26, &v, &why);
	ok(r == -1 && strstr(why, "verdict"), "an answer that is no verdict: %s", why);
	ok(vparse("RINGCAST", 8, &v, &why) == -1, "a header is no verdict");
	ok(vparse("R", 1, &v, &why) == 0, "one right byte: wait");
}

/* PLAN, MAC and a verdict's host records: what --tree and --key-file add. */
static void plans(void)
{
	const char *hosts[] = { "10.0.0.1:9000", "[::1]:9", "h.example:1" };
	uint8_t plan[256], buf[FRAME_HEADER_ROOM(256)];
	char host[FRAME_HOST_MAX + 1];
	const char *why;
	unsigned k, code;
	size_t n, off = 0;

	ssize_t len = frame_plan_encode(3, hosts, 3, plan, sizeof(plan));
	ok(len == 2 + 3 * 2 + 13 + 7 + 11 &&
		   frame_plan_parse(guarded(plan, (size_t)len), (size_t)len, &k, &n, &why) == 0 &&
		   k == 3 && n == 3,
	   "a plan: K, then each host with its length");
	int same = 1;
	for (size_t i = 0; i < 3; i++) {
		frame_plan_host(plan, &off, host);
		same &= !strcmp(host, hosts[i]);
	}
	ok(same && off == (size_t)len, "and its hosts read back in order");
	const char *bad[] = { "a b:1" };
	ok(frame_plan_encode(1, bad, 1, plan, sizeof(plan)) == -EINVAL &&
		   frame_plan_encode(0, hosts, 1, plan, sizeof(plan)) == -EINVAL,
	   "a host with a blank, or a fan-out of 0, is not encoded");
	uint8_t empty[] = { 0, 2, 0, 0 }, nok[] = { 0, 0 }, over[] = { 0, 1, 0, 9, 'a' };
	ok(frame_plan_parse(guarded(empty, 4), 4, &k, &n, &why) == -1 &&
		   frame_plan_parse(guarded(nok, 2), 2, &k, &n, &why) == -1 &&
		   frame_plan_parse(guarded(over, 5), 5, &k, &n, &why) == -1,
	   "an empty host, a fan-out of 0, a host past the end: -1 (%s)", why);

	struct frame_header h = { .plan = plan, .plan_len = (size_t)len, .has_mac = 1 }, got;
	strcpy(h.name, "disk.img");
	ssize_t hn = frame_header_encode(&h, buf, sizeof(buf));
	ok(hn > 0 && hparse(buf, (size_t)hn, &got, &code, &why) == hn &&
		   got.plan_len == (size_t)len &&
		   !memcmp(got.plan, buf + hn - FRAME_MAC_LEN - 4 - len, (size_t)len) &&
		   got.has_mac && got.mac_off == (size_t)hn - FRAME_MAC_LEN,
	   "a header with PLAN and MAC: the MAC last, its offset told");
	struct bytes *b = header(1, 0);
	field(b, FRAME_F_MAC, plan, 32);
	field(b, FRAME_F_NAME, "x", 1);
	ok(rejected(seal(b), FRAME_BAD_HEADER, "last"), "a MAC that is not the last field");
	b = header(1, 0);
	field(b, FRAME_F_MAC, plan, 31);
	ok(rejected(seal(b), FRAME_BAD_HEADER, "32"), "a MAC of 31 bytes");
	b = header(1, 0);
	field(b, FRAME_F_PLAN, empty, 4);
	ok(rejected(seal(b), FRAME_BAD_HEADER, "PLAN"), "a PLAN with an empty host");
}

/* STREAM_ID and RESUME, and the receiver's answer to a RESUME (repair). */
static void resumes(void)
{
	struct frame_header h = { .has_id = 1, .resume = 1 }, got;
	uint8_t buf[FRAME_HEADER_ROOM(0)], ans[FRAME_RESUME_LEN];
	const char *why;
	unsigned code;
	uint64_t off = 0;

	memset(h.id, 0xab, sizeof(h.id));
	ssize_t n = frame_header_encode(&h, buf, sizeof(buf));
	ok(n == FRAME_FIXED + 4 + FRAME_ID_LEN + 4 &&
		   hparse(buf, (size_t)n, &got, &code, &why) == n && got.has_id &&
		   !memcmp(got.id, h.id, FRAME_ID_LEN) && got.resume,
	   "a header with STREAM_ID and RESUME reads back");
	frame_resume_encode(0x0102030405060708ull, ans);
	ok(!memcmp(ans, "RINGCRES", 8) &&
		   frame_resume_parse(guarded(ans, sizeof(ans)), &off) == 0 &&
		   off == 0x0102030405060708ull,
	   "the resume answer: RINGCRES and the offset");
	ok(frame_resume_parse(guarded("RINGCVRD\0\0\0\0\0\0\0\0", 16), &off) == -1,
	   "a verdict is no resume answer");
	struct bytes *b = header(1, 0);
	field(b, FRAME_F_RESUME, "x", 1);
	ok(rejected(seal(b), FRAME_BAD_HEADER, "RESUME"), "a RESUME that is not empty");
	b = header(1, 0);
	field(b, FRAME_F_STREAM_ID, "short", 5);
	ok(rejected(seal(b), FRAME_BAD_HEADER, "STREAM_ID"), "a STREAM_ID of 5 bytes");
}

static void asks(void)
{
	uint8_t buf[FRAME_ASK_MAX + 1];
	char host[FRAME_HOST_MAX + 1], big[FRAME_HOST_MAX + 2];
	const char *why;
	uint64_t off = 0;
	ssize_t n = frame_ask_encode(0x0102030405060708ull, "10.0.0.3:9000", buf);

	ok(n == FRAME_ASK_FIXED + 13 && !memcmp(buf, "RINGCASK\1\2\3\4\5\6\7\x08\0\x0d", 18) &&
		   !memcmp(buf + 18, "10.0.0.3:9000", 13),
	   "an ask: RINGCASK, the offset, the host's length and the host");
	ok(frame_ask_parse(guarded(buf, (size_t)n), (size_t)n, &off, host, &why) == n &&
		   off == 0x0102030405060708ull && !strcmp(host, "10.0.0.3:9000"),
	   "an ask reads back");
	int need_more = 1;
	for (size_t i = 0; i < (size_t)n; i++)
		need_more &= frame_is_ask(guarded(buf, i), i) == (i > 0) &&
			frame_ask_parse(guarded(buf, i), i, &off, host, &why) == 0;
	ok(need_more, "every prefix of an ask asks for more");
	ok(!frame_is_ask(guarded("RINGCVRD", 8), 8) && frame_is_ask(guarded("RINGCA", 6), 6),
	   "a verdict is no ask; RINGCA may still be one");
	memcpy(buf + 16, "\0\0", 2);
	ok(frame_ask_parse(guarded(buf, 18), 18, &off, host, &why) == -1, "an ask without a host");
	memcpy(buf + 16,
	       "\0\x03"
	       "a b",
	       5);
	ok(frame_ask_parse(guarded(buf, 21), 21, &off, host, &why) == -1,
	   "an ask whose host holds a blank");
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ok(frame_ask_encode(1, big, buf) == -EINVAL && frame_ask_encode(1, "", buf) == -EINVAL,
	   "no ask for a host a plan could not hold");
	buf[16] = 0x01, buf[17] = 0x06; /* 262 bytes */
	ok(frame_ask_parse(guarded(buf, 18), 18, &off, host, &why) == -1,
	   "an ask whose host is longer than a plan's");
}

static void host_records(void)
{
	struct frame_host hs[2] = { { .code = FRAME_VERIFIED, .bytes = 7 },
				    { .code = FRAME_UNANSWERED, .bytes = 3, .resumed_from = 2 } };
	struct frame_verdict v = { .code = FRAME_VERIFIED, .hosts = hs, .nhosts = 2 }, got;
	uint8_t buf[4096];
	const char *why;

	strcpy(hs[0].address, "10.0.0.2:9000");
	strcpy(hs[1].address, "10.0.0.3:9000");
	strcpy(hs[1].reason, "its relay 10.0.0.2:9000 gave no\nverdict");
	ssize_t n = frame_verdict_encode(&v, buf, sizeof(buf));
	ok(n == (ssize_t)frame_verdict_size(&v) && vparse(buf, (size_t)n, &got, &why) == n &&
		   got.nhosts == 2,
	   "a verdict with two host records reads back whole");
	struct frame_host h[2];
	size_t off = got.hosts_off;
	frame_host_parse(buf, &off, &h[0]);
	frame_host_parse(buf, &off, &h[1]);
	ok(off == (size_t)n && !strcmp(h[0].address, hs[0].address) && h[0].code == 0 &&
		   h[0].bytes == 7 &&
		   !strcmp(h[1].reason, "its relay 10.0.0.2:9000 gave no?verdict") &&
		   h[1].code == FRAME_UNANSWERED && h[1].resumed_from == 2,
	   "each record as it was sent, a control byte of a reason as '?'");
	int waits = 1;
	for (ssize_t i = 0; i < n; i++)
		waits &= vparse(buf, (size_t)i, &got, &why) == 0;
	ok(waits, "every proper prefix of it asks for more");
	ok(frame_verdict_encode(&v, buf, (size_t)n - 1) == -ENOSPC, "a byte short: -ENOSPC");
	size_t at = (size_t)n - frame_verdict_size(&v) + FRAME_VERDICT_FIXED + 4;
	buf[at] = 0;
	buf[at + 1] = 0; /* the first record's address length */
	ok(vparse(buf, (size_t)n, &got, &why) == -1 && strstr(why, "address"),
	   "a record with an empty address: %s", why);
	struct bytes *b = verdict(1, 0, 0, "");
	add_be(b, FRAME_HOSTS_MAX + 1, 4);
	ok(vparse(b->b, b->n, &got, &why) == -1 && strstr(why, "8192"), "8193 records: %s", why);
}

static void code_names(void)
{
	ok(!strcmp(frame_code_name(FRAME_VERIFIED), "verified") &&
		   !strcmp(frame_code_name(FRAME_MISMATCH), "digest mismatch") &&
		   !strcmp(frame_code_name(FRAME_TRUNCATED), "truncated") &&
		   !strcmp(frame_code_name(FRAME_OUTPUT_FAILED), "output failed") &&
		   !strcmp(frame_code_name(FRAME_BAD_HEADER), "bad header") &&
		   !strcmp(frame_code_name(FRAME_REFUSED), "refused") &&
		   !strcmp(frame_code_name(FRAME_UNANSWERED), "no verdict") &&
		   !strcmp(frame_code_name(FRAME_BUSY), "busy"),
	   "the codes' names");
	ok(!strcmp(frame_code_name(8), "unknown verdict") &&
		   !strcmp(frame_code_name(0xffff), "unknown verdict") &&
		   !strcmp(frame_code_name(~0u), "unknown verdict"),
	   "a code this build does not know");
}

int main(void)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t room = (ROOM + page - 1) / page * page;
	uint8_t *base = mmap(NULL, room + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			     -1, 0);

	if (base == MAP_FAILED || mprotect(base + room, page, PROT_NONE) < 0)
		return 1;
	guard_end = base + room;
	header_layout();
	header_round_trips();
	names();
	bad_fixed_part();
	bad_fields();
	field_lengths();
	repeated_and_unknown();
	garbled();
	trailers();
	verdict_layout();
	bad_verdicts();
	code_names();
	plans();
	resumes();
	asks();
	host_records();
	return tap_done();
}
