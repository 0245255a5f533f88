/* Text from outside as a terminal or a log line shows it (src/text.c). */
#include "tap.h"
#include "text.h"

#include <string.h>

static void escapes(void)
{
	static const struct {
		const char *in, *want, *what;
	} cases[] = {
		{ "plain name.txt", "plain name.txt", "printable ASCII as it is" },
		{ "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x93\x80",
		  "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x93\x80",
		  "printable UTF-8 as it is" },
		{ "esc\x1b[31mred", "esc\\x1b[31mred", "ESC (a colour change)" },
		{ "\x1b]0;PWNED\x07", "\\x1b]0;PWNED\\x07", "an OSC title change and BEL" },
		{ "nl\nname", "nl\\nname", "a newline" },
		{ "a\tb\rc", "a\\tb\\rc", "tab and carriage return" },
		{ "back\\slash", "back\\\\slash",
		  "a backslash, doubled so that escapes stay unambiguous" },
		{ "\x01\x1f\x7f", "\\x01\\x1f\\x7f", "other C0 controls and DEL" },
		{ "c1 \xc2\x9b"
		  "2J",
		  "c1 \\xc2\\x9b2J", "a C1 control (CSI) encoded in UTF-8, byte by byte" },
		{ "raw \x9b"
		  "2J",
		  "raw \\x9b2J", "a lone C1 byte, which is no UTF-8" },
		{ "bidi \xe2\x80\xae"
		  "txt.exe",
		  "bidi \\xe2\\x80\\xaetxt.exe", "a right-to-left override" },
		{ "iso \xe9t\xe9", "iso \\xe9t\\xe9", "Latin-1 bytes, which are no UTF-8" },
		{ "\xc0\xaf \xed\xa0\x80 \xf4\x90\x80\x80",
		  "\\xc0\\xaf \\xed\\xa0\\x80 \\xf4\\x90\\x80\\x80",
		  "an overlong form, a surrogate, past U+10FFFF" },
		{ "cut \xe6\x97", "cut \\xe6\\x97", "a sequence cut short" },
		{ "", "", "nothing" },
	};
	char buf[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *got = text_escape(cases[i].in, buf, sizeof(buf));
		ok(got == buf && !strcmp(buf, cases[i].want), "%s", cases[i].what);
	}
}

static void bounds(void)
{
	char buf[8];

	memset(buf, 'z', sizeof(buf));
	text_escape("abcdefghij", buf, sizeof(buf));
	ok(!strcmp(buf, "abcdefg"), "cut to fit, NUL-terminated: %s", buf);
	text_escape("abcde\x1b", buf, sizeof(buf));
	ok(!strcmp(buf, "abcde"), "an escape that does not fit whole is left out: %s", buf);
	text_escape("abcd\xc3\xa9\xc3\xa9", buf, sizeof(buf));
	ok(!strcmp(buf, "abcd\xc3\xa9"), "a UTF-8 character is never cut");
	text_escape("abc", buf, 1);
	ok(buf[0] == 0, "a one-byte buffer holds the NUL");
}

static void utf8(void)
{
	unsigned cp = 0;

	ok(text_utf8_seq((const unsigned char *)"\xf0\x9f\x93\x80", 4, &cp) == 4 && cp == 0x1f4c0,
	   "a 4-byte sequence: U+1F4C0");
	ok(text_utf8_seq((const unsigned char *)"\xf0\x9f\x93\x80", 3, &cp) == 0,
	   "cut short by n: invalid");
	ok(text_utf8_seq((const unsigned char *)"\xe0\x80\x80", 3, &cp) == 0, "overlong: invalid");
}

int main(void)
{
	escapes();
	bounds();
	utf8();
	return tap_done();
}
