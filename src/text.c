#include "text.h"

#include <stdio.h>
#include <string.h>

size_t text_utf8_seq(const unsigned char *p, size_t n, unsigned *cp)
{
	unsigned char c = p[0], lo = 0x80, hi = 0xbf;
	size_t len;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		*cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		lo = c == 0xe0 ? 0xa0 : 0x80;
		hi = c == 0xed ? 0x9f : 0xbf;
		*cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		lo = c == 0xf0 ? 0x90 : 0x80;
		hi = c == 0xf4 ? 0x8f : 0xbf;
		*cp = c & 0x07;
	} else {
		return 0;
	}
	if (n < len || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
		*cp = *cp << 6 | (p[i] & 0x3f);
	}
	return len;
}

/* Is code point cp shown as escapes (text.h says which)? */
static int escaped(unsigned cp)
{
	return cp < 0x20 || cp == '\\' || (cp >= 0x7f && cp <= 0x9f) ||
		(cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

/* The short escape of an ASCII character ("\n"), or NULL. */
static const char *short_escape(unsigned cp)
{
	switch (cp) {
	case '\\':
		return "\\\\";
	case '\t':
		return "\\t";
	case '\n':
		return "\\n";
	case '\r':
		return "\\r";
	}
	return NULL;
}

const char *text_escape(const char *s, char *buf, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t left = strlen(s), o = 0;

	while (left > 0) {
		unsigned cp = 0;
		size_t n = text_utf8_seq(p, left, &cp);
		char esc[4 * 4 + 1]; /* a sequence of up to 4 bytes, "\xNN" each */
		const char *out = (const char *)p;
		size_t outlen = n;

		if (n == 0 || escaped(cp)) {
			n = n ? n : 1; /* a byte that is not UTF-8: alone */
			if ((out = n == 1 ? short_escape(p[0]) : NULL)) {
				outlen = 2;
			} else {
				for (size_t i = 0; i < n; i++)
					snprintf(esc + 4 * i, 5, "\\x%02x", p[i]);
				out = esc;
				outlen = 4 * n;
			}
		}
		if (o + outlen >= len)
			break;
		memcpy(buf + o, out, outlen);
		o += outlen;
		p += n;
		left -= n;
	}
	buf[o] = 0;
	return buf;
}
