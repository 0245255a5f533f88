/* The stream's SHA-256 (src/digest.c): FIPS 180-4's examples, fed whole and
 * in pieces as the ring hands them over, and the hex --expect-digest takes. */
#include "digest.h"
#include "tap.h"

#include <string.h>

static const char *sha(const char *s, size_t piece)
{
	static struct digest d;
	const char *why;
	size_t n = strlen(s);

	if (digest_open(&d, &why) < 0)
		return why;
	for (size_t i = 0; i < n; i += piece)
		digest_update(&d, s + i, n - i < piece ? n - i : piece);
	return digest_final(&d);
}

int main(void)
{
	/* FIPS 180-4 (NIST's examples): "abc", the empty message, and the
	 * 448-bit message that spans two blocks. */
	static const struct {
		const char *in, *want;
	} v[] = {
		{ "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
		{ "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
		{ "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
		  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
	};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		ok(!strcmp(sha(v[i].in, 64), v[i].want), "SHA-256 of \"%.10s...\" whole", v[i].in);
		ok(!strcmp(sha(v[i].in, 1), v[i].want), "and a byte at a time");
		ok(!strcmp(sha(v[i].in, 7), v[i].want), "and in pieces that cross the block edge");
	}

	struct digest d = { 0 };
	ok(digest_final(&d) == NULL, "a digest never opened has no value");
	digest_free(&d);
	ok(d.ctx == NULL, "and freeing it is safe");

	ok(digest_valid_hex(v[0].want), "64 lower-case hex digits are a SHA-256");
	ok(digest_valid_hex("BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD"),
	   "and upper-case ones");
	ok(!digest_valid_hex("ba7816bf"), "8 digits are not");
	ok(!digest_valid_hex(""), "nothing is not");
	ok(!digest_valid_hex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad0"),
	   "65 digits are not");
	ok(!digest_valid_hex("ga7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
	   "a letter past f is not");
	ok(!digest_valid_hex(" a7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
	   "white space is not");
	return tap_done();
}
