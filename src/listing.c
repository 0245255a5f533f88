#include "listing.h"
#include "text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int is_unreserved(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		c == '-' || c == '.' || c == '_' || c == '~';
}

char *listing_href(const char *name)
{
	static const char hex[] = "0123456789ABCDEF";
	char *out = malloc(strlen(name) * 3 + 2), *o = out;

	if (!out)
		return NULL;
	*o++ = '/';
	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		if (is_unreserved(*p) || *p == '/') {
			*o++ = (char)*p;
		} else {
			*o++ = '%';
			*o++ = hex[*p >> 4];
			*o++ = hex[*p & 15];
		}
	}
	*o = 0;
	return out;
}

/* Characters an HTML document may not hold as text (HTML's "control" and
 * "noncharacter" input stream errors). */
static int shows_as_replacement(unsigned cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp < 0xa0) || (cp >= 0xfdd0 && cp <= 0xfdef) ||
		(cp & 0xfffe) == 0xfffe;
}

/* s as HTML text (and attribute value) into f. */
static void put_text(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s);

	while (n > 0) {
		unsigned cp;
		size_t len = text_utf8_seq(p, n, &cp);
		if (len == 0 || shows_as_replacement(cp)) {
			fputs("\xef\xbf\xbd", f); /* U+FFFD, for one byte or one character */
			len = len ? len : 1;
		} else if (cp == '&') {
			fputs("&amp;", f);
		} else if (cp == '<') {
			fputs("&lt;", f);
		} else if (cp == '>') {
			fputs("&gt;", f);
		} else if (cp == '"') {
			fputs("&quot;", f);
		} else if (cp == '\'') {
			fputs("&#39;", f);
		} else {
			fwrite(p, 1, len, f);
		}
		p += len;
		n -= len;
	}
}

char *listing_html(const struct listing_item *items, size_t n, size_t *len)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);
	int ok = 1;

	if (!f)
		return NULL;
	fprintf(f,
		"<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\" />\n"
		"<title>ringcast: %zu blob%s</title>\n"
		"<style>td { padding-right: 2em } td.size { text-align: right }</style>\n"
		"</head>\n<body>\n<h1>%zu blob%s</h1>\n<table>\n"
		"<thead><tr><th>Name</th><th>Size (bytes)</th><th>Type</th></tr></thead>\n"
		"<tbody>\n",
		n, n == 1 ? "" : "s", n, n == 1 ? "" : "s");
	for (size_t i = 0; i < n; i++) {
		char *href = listing_href(items[i].name);
		if (!href) {
			ok = 0;
			break;
		}
		fputs("<tr><td><a href=\"", f);
		put_text(f, href); /* all ASCII, none of it escaped: as it is */
		fputs("\">", f);
		put_text(f, items[i].name);
		fprintf(f, "</a></td><td class=\"size\">%llu</td><td>",
			(unsigned long long)items[i].size);
		put_text(f, items[i].type);
		fputs("</td></tr>\n", f);
		free(href);
	}
	fputs("</tbody>\n</table>\n</body>\n</html>\n", f);
	if (fclose(f) != 0 || !ok) {
		free(buf);
		return NULL;
	}
	*len = size;
	return buf;
}
