#include "parse.h"
#include "net.h"
#include "src.h"
#include "util.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

/* A decimal number as typed, DIGITS or DIGITS.DIGITS, held exactly: its
 * value is whole + frac / scale. */
struct decimal {
	uint64_t whole, frac, scale;
	int big;      /* the whole part is past UINT64_MAX (whole is then not it) */
	int too_fine; /* more than 19 decimals (frac and scale hold the first 19) */
};

/* Read a decimal at *s and move *s past it (past every decimal, even those
 * beyond the 19 that frac and scale can hold in 64 bits: too_fine says so).
 * 0, or -EINVAL: no digit first (".5", "-1", " 1"), or a dot without a
 * digit after it ("1.", "1.M"). */
static int read_decimal(const char **s, struct decimal *d)
{
	const char *p = *s;

	*d = (struct decimal){ .scale = 1 };
	if (!isdigit((unsigned char)*p))
		return -EINVAL;
	for (; isdigit((unsigned char)*p); p++) {
		unsigned digit = (unsigned)(*p - '0');

		if (d->whole > (UINT64_MAX - digit) / 10)
			d->big = 1;
		else
			d->whole = d->whole * 10 + digit;
	}
	if (*p == '.') {
		if (!isdigit((unsigned char)*++p))
			return -EINVAL;
		for (; isdigit((unsigned char)*p); p++) {
			if (d->scale > UINT64_MAX / 10) {
				d->too_fine = 1;
				continue;
			}
			d->frac = d->frac * 10 + (uint64_t)(*p - '0');
			d->scale *= 10;
		}
	}
	*s = p;
	return 0;
}

/* d times unit into *out, rounded to the nearest whole number (a half up),
 * in exact integer arithmetic: "1.5M" is 1572864, never 1572863.99.
 * 0, or -ERANGE above max. */
static int scale_decimal(const struct decimal *d, uint64_t unit, uint64_t max, uint64_t *out)
{
	unsigned __int128 v = (unsigned __int128)d->whole * unit +
		((unsigned __int128)d->frac * unit + d->scale / 2) / d->scale;

	if (d->big || v > max)
		return -ERANGE;
	*out = (uint64_t)v;
	return 0;
}

int parse_size(const char *s, uint64_t *out)
{
	struct decimal d;
	unsigned shift = 0;

	if (read_decimal(&s, &d) < 0)
		return -EINVAL;
	switch (toupper((unsigned char)*s)) {
	case 'K':
		shift = 10;
		s++;
		break;
	case 'M':
		shift = 20;
		s++;
		break;
	case 'G':
		shift = 30;
		s++;
		break;
	case 'T':
		shift = 40;
		s++;
		break;
	}
	if (shift && (s[0] == 'i' || s[0] == 'I') && (s[1] == 'B' || s[1] == 'b'))
		s += 2;
	else if (*s == 'B' || *s == 'b')
		s++;
	if (*s)
		return -EINVAL;
	if (d.too_fine)
		return -EOVERFLOW;
	if (!shift && d.frac)
		return -EDOM;
	return scale_decimal(&d, (uint64_t)1 << shift, UINT64_MAX, out);
}

int parse_duration_ms(const char *s, uint64_t *out)
{
	struct decimal d;
	uint64_t unit;

	if (read_decimal(&s, &d) < 0)
		return -EINVAL;
	/* Any case, as sizes: within durations "M" can only be minutes. */
	if (!*s || !strcasecmp(s, "s"))
		unit = 1000;
	else if (!strcasecmp(s, "ms"))
		unit = 1;
	else if (!strcasecmp(s, "m"))
		unit = 60000;
	else if (!strcasecmp(s, "h"))
		unit = 3600000;
	else
		return -EINVAL;
	if (d.too_fine)
		return -EOVERFLOW;
	int rc = scale_decimal(&d, unit, MAX_DURATION_MS, out);
	if (rc == 0 && *out == 0 && (d.whole || d.frac))
		return -EDOM; /* above 0, but under half a millisecond */
	return rc;
}

/* The characters of a URL scheme after its first letter (RFC 3986 section 3.1). */
#define SCHEME_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-."
/* White space, which no address has. */
#define BLANKS " \t\n\v\f\r"

#define DEST_FORMS                                                                                 \
	"HOST:PORT, [IPv6]:PORT, tcp://HOST:PORT, ringcast://HOST:PORT, file:PATH or - "           \
	"(standard output)"

/* What each place that takes an address accepts.  Every message about a bad
 * one ends with the forms.  -l and tcp-listen:// take the same forms. */
static const struct addr_form {
	const char *scheme; /* taken off first, in any case: the scheme this place speaks */
	int scheme_needed;  /* 0: it may be left out */
	int listen;         /* PORT alone, or HOST left empty (":PORT"): every address */
	unsigned long minport;
	const char *forms;
} addr_forms[] = {
	[ADDR_DEST] = { "tcp://", 0, 0, 1, DEST_FORMS },
	[ADDR_LISTEN] = { NULL, 0, 1, 0, "PORT, HOST:PORT or [IPv6]:PORT" },
	[ADDR_TCP_SOURCE] = { "tcp://", 1, 0, 1, "tcp://HOST:PORT or tcp://[IPv6]:PORT" },
	[ADDR_TCP_LISTEN_SOURCE] = { "tcp-listen://", 1, 1, 0,
				     "tcp-listen://PORT, tcp-listen://HOST:PORT or "
				     "tcp-listen://[IPv6]:PORT" },
	[ADDR_FRAMED] = { "ringcast://", 1, 0, 1, DEST_FORMS },
	[ADDR_FRAMED_LISTEN_SOURCE] = { "ringcast-listen://", 1, 1, 0,
					"ringcast-listen://PORT, ringcast-listen://HOST:PORT or "
					"ringcast-listen://[IPv6]:PORT" },
};

/* *why = the message, then " (expected FORMS)" unless forms is NULL; the
 * text lives in a per-thread buffer until the next call.  Returns -EINVAL. */
static int __attribute__((format(printf, 3, 4)))
addr_error(const char **why, const char *forms, const char *fmt, ...)
{
	static _Thread_local char buf[320];
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (forms && n >= 0 && (size_t)n < sizeof(buf))
		snprintf(buf + n, sizeof(buf) - (size_t)n, " (expected %s)", forms);
	*why = buf;
	return -EINVAL;
}

size_t url_scheme_len(const char *s)
{
	size_t n;

	if (!isalpha((unsigned char)*s))
		return 0;
	n = 1 + strspn(s + 1, SCHEME_CHARS);
	if (s[n] != ':' || s[n + 1] != '/')
		return 0;
	return s[n + 2] == '/' ? n + 3 : n + 1;
}

/* The length of the "tcp:" or "tcp-listen:" that s starts with, in any case
 * (RFC 3986 section 3.1), with the "//" after it if there; or 0.  *listen
 * (unless NULL): which of the two. */
static size_t tcp_scheme_len(const char *s, int *listen)
{
	size_t n = !strncasecmp(s, "tcp:", 4) ? 4 : !strncasecmp(s, "tcp-listen:", 11) ? 11 : 0;

	if (listen)
		*listen = n == 11;
	if (n && !strncmp(s + n, "//", 2))
		n += 2;
	return n;
}

/* A decimal port of at least minport into out.  0, or -EINVAL with *why. */
static int parse_port(const char *port, unsigned long minport, const char *forms, char out[6],
		      const char **why)
{
	size_t digits = strspn(port, "0123456789");
	unsigned long p = 0;

	if (!*port)
		return addr_error(why, forms, "missing port");
	if (port[digits] && digits)
		return addr_error(why, forms, "unexpected '%.40s' after port %.*s", port + digits,
				  (int)MIN(digits, 20), port);
	if (port[digits])
		return addr_error(why, forms, "port '%.40s' is not a number", port);
	for (size_t i = 0; i < digits; i++)
		if (p <= 65535)
			p = p * 10 + (unsigned long)(port[i] - '0');
	if (p < minport || p > 65535)
		return addr_error(why, NULL, "port out of range (%lu-65535)", minport);
	snprintf(out, 6, "%lu", p);
	return 0;
}

/* Whether the n bytes at s are an IPv6 address (a zone after '%' aside) or,
 * if loose, look like one: only hex digits, colons and dots, with "::" or
 * at least two colons (HOST:PORT has one, and "127.0.0.1:9000" is not). */
static int looks_ipv6(const char *s, size_t n, int loose)
{
	char a[INET6_ADDRSTRLEN];
	struct in6_addr in;
	const char *zone = memchr(s, '%', n);
	size_t len = zone ? (size_t)(zone - s) : n, colons = 0;

	if (len < sizeof(a)) {
		memcpy(a, s, len);
		a[len] = '\0';
		if (inet_pton(AF_INET6, a, &in) == 1)
			return 1;
	}
	if (!loose)
		return 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == ':')
			colons++;
		else if (!isxdigit((unsigned char)s[i]) && s[i] != '.')
			return 0;
	}
	return colons >= 2 || memmem(s, len, "::", 2);
}

/* HOST:PORT or [IPv6]:PORT (for f->listen, also :PORT: host NULL). */
static int hostport(const char *s, const struct addr_form *f, struct dest_spec *out,
		    const char **why)
{
	const char *host, *port;
	size_t hostlen;

	if (*s == '[') {
		const char *close = strchr(s, ']');
		if (!close)
			return addr_error(why, f->forms, "missing ']' after the IPv6 address");
		host = s + 1;
		hostlen = (size_t)(close - host);
		if (close[1] && close[1] != ':')
			return addr_error(why, f->forms, "unexpected '%.40s' after ']'", close + 1);
		if (hostlen == 0)
			return addr_error(why, f->forms, "missing host");
		if (!memchr(host, ':', hostlen))
			return addr_error(why, f->forms, "brackets are for IPv6 addresses only");
		port = close[1] ? close + 2 : close + 1;
	} else {
		const char *colon = strrchr(s, ':');
		size_t first = strcspn(s, ":");

		if (!colon && s[strspn(s, "0123456789")])
			return addr_error(why, f->forms, "missing port");
		if (!colon && f == &addr_forms[ADDR_DEST]) /* a port without its host */
			return addr_error(why, f->forms,
					  "missing host; to listen on port %.20s, "
					  "use -l %.20s",
					  s, s);
		if (!colon)
			return addr_error(why, f->forms, "missing host");
		if (s + first != colon) {
			/* More colons than HOST:PORT has: an IPv6 address without
			 * brackets, socat's UDP:HOST:PORT, or more after the port. */
			if (looks_ipv6(s, (size_t)(colon - s), 1) || looks_ipv6(s, strlen(s), 0))
				return addr_error(why, f->forms, "an IPv6 address needs brackets");
			size_t digits = strspn(s + first + 1, "0123456789");
			int port_next = digits && s[first + 1 + digits] == ':'; /* HOST:PORT:... */
			if (isalpha((unsigned char)*s) &&
			    strspn(s, "0123456789abcdefABCDEF") < first &&
			    1 + strspn(s + 1, SCHEME_CHARS) >= first && !port_next)
				return addr_error(why, f->forms, "unsupported scheme '%.*s:'",
						  (int)MIN(first, 40), s);
			colon = s + first; /* what follows the port is named below */
		}
		host = s;
		hostlen = (size_t)(colon - s);
		port = colon + 1;
	}
	if (hostlen == 0 && !f->listen)
		return addr_error(why, f->forms, "missing host");
	for (size_t i = 0; i < hostlen; i++)
		if (isspace((unsigned char)host[i]))
			return addr_error(why, f->forms, "unexpected '%c' in the host", host[i]);
	if (parse_port(port, f->minport, f->forms, out->port, why) < 0)
		return -EINVAL;
	if (hostlen && !(out->host = strndup(host, hostlen))) {
		*why = strerror(ENOMEM);
		return -ENOMEM;
	}
	return 0;
}

/* -l's (and tcp-listen://'s) PORT alone, s having no ':' nor '[': every
 * address.  A word that is not a number is a host without its port. */
static int port_alone(const char *s, const struct addr_form *f, struct dest_spec *out,
		      const char **why)
{
	size_t digits = strspn(s, "0123456789");
	char c = s[digits];

	if (c && (!digits || isalnum((unsigned char)c) || c == '.' || c == '-' || c == '_'))
		return addr_error(why, f->forms, "missing port");
	return parse_port(s, f->minport, f->forms, out->port, why);
}

/* A scheme at the start of s (after the one use speaks, if any, was taken
 * off) that does not belong there: -EINVAL with *why naming it and, where
 * it can tell, what was meant; 0 when s starts with none. */
static int scheme_error(const char *s, enum addr_use use, const char **why)
{
	const struct addr_form *f = &addr_forms[use];
	struct dest_spec d;
	const char *w;
	int listen;
	size_t tcp = tcp_scheme_len(s, &listen), len = url_scheme_len(s);
	const char *rest = s + tcp;
	/* the rest alone, when it has no scheme of its own: what was meant */
	int plain = tcp && !tcp_scheme_len(rest, NULL) && !url_scheme_len(rest);

	/* Without "//", "tcp:9000" is HOST:PORT; "tcp:h:9000" is a scheme. */
	if (tcp && s[tcp - 1] != '/' && !strchr(rest, ':'))
		tcp = 0;
	if (tcp && use == ADDR_LISTEN) {
		if (plain && parse_addr(rest, ADDR_LISTEN, &d, &w) == 0) {
			free(d.host);
			free(d.text);
			return addr_error(why, f->forms,
					  "-l takes no scheme: did you mean -l %.60s?", rest);
		}
		return addr_error(why, f->forms, "-l takes no scheme");
	}
	if (tcp && !listen && use == ADDR_DEST && plain) {
		if (parse_addr(rest, ADDR_DEST, &d, why) < 0)
			return -EINVAL; /* what is wrong after it says more */
		free(d.host);
		free(d.text);
		return addr_error(why, f->forms, "did you mean tcp://%.60s?", rest);
	}
	if (!len)
		len = tcp;
	if (!len)
		return 0;
	/* A source's URL where a DEST goes: most likely -i left out */
	if (use == ADDR_DEST &&
	    (src_curl_is_url(s) || !strncasecmp(s, "file:", 5) || (tcp && listen)))
		return addr_error(why, f->forms, "%.*s is for a source (-i), not a destination",
				  (int)MIN(len, 40), s);
	return addr_error(why, f->forms, "unsupported scheme '%.*s'", (int)MIN(len, 40), s);
}

int parse_addr(const char *s, enum addr_use use, struct dest_spec *out, const char **why)
{
	const struct addr_form *f = &addr_forms[use];
	size_t len = f->scheme ? strlen(f->scheme) : 0, blank;
	int rc;

	*out = (struct dest_spec){ 0 };
	if (len && !strncasecmp(s, f->scheme, len))
		s += len;
	else if (f->scheme_needed)
		return addr_error(why, f->forms, "not a %s address", f->scheme);
	else if (!*s)
		return addr_error(why, f->forms, "empty");
	if (!*s)
		return addr_error(why, f->forms, "missing host and port");
	if ((blank = strspn(s, BLANKS)))
		return addr_error(why, f->forms, "unexpected '%.*s' at the start",
				  (int)MIN(blank, 40), s);
	if ((rc = scheme_error(s, use, why)))
		return rc;
	if (f->listen && *s != '[' && !strchr(s, ':'))
		rc = port_alone(s, f, out, why);
	else
		rc = hostport(s, f, out, why);
	if (rc < 0)
		return rc;
	if (!(out->text = strdup(s))) {
		free(out->host);
		*out = (struct dest_spec){ 0 };
		*why = strerror(ENOMEM);
		return -ENOMEM;
	}
	return 0;
}

/* file:PATH or file:///PATH (RFC 8089: an empty authority; no other host). */
static int parse_file_dest(const char *s, struct dest_spec *out, const char **why)
{
	const char *path = s + 5;

	if (!strncmp(path, "//", 2)) {
		path += 2;
		if (*path != '/')
			return addr_error(why, DEST_FORMS,
					  "file:// takes a path on this host (file:///PATH)");
	}
	if (!*path)
		return addr_error(why, DEST_FORMS, "file: without a path");
	if (!(out->text = strdup(s))) {
		*why = strerror(ENOMEM);
		return -ENOMEM;
	}
	out->kind = DEST_FILE;
	out->path = out->text + (path - s);
	return 0;
}

int parse_dest(const char *s, struct dest_spec *out, const char **why)
{
	int rc;

	*out = (struct dest_spec){ 0 };
	if (!strcmp(s, "-")) {
		out->kind = DEST_STDOUT;
		out->text = strdup("-");
	} else if (!strncasecmp(s, "file:", 5)) {
		return parse_file_dest(s, out, why);
	} else if (!strncasecmp(s, "ringcast-listen://", 18)) {
		return addr_error(why, DEST_FORMS,
				  "ringcast-listen:// is for a source (-i), not a destination");
	} else if (!strncasecmp(s, "ringcast://", 11)) {
		if ((rc = parse_addr(s, ADDR_FRAMED, out, why)) < 0)
			return rc;
		free(out->text);
		out->kind = DEST_FRAMED;
		out->text = strdup(s);
	} else {
		return parse_addr(s, ADDR_DEST, out, why);
	}
	if (!out->text) {
		free(out->host);
		*out = (struct dest_spec){ 0 };
		*why = strerror(ENOMEM);
		return -ENOMEM;
	}
	return 0;
}

int parse_listen(const char *s, struct dest_spec *out, const char **why)
{
	return parse_addr(s, ADDR_LISTEN, out, why);
}

int parse_cidr(const char *s, struct cidr *out, const char **why)
{
	char host[64];
	const char *slash = strchr(s, '/');
	size_t len = slash ? (size_t)(slash - s) : strlen(s);

	*out = (struct cidr){ 0 };
	if (len == 0 || len >= sizeof(host)) {
		*why = "expected ADDRESS or ADDRESS/BITS";
		return -EINVAL;
	}
	memcpy(host, s, len);
	host[len] = '\0';
	if (inet_pton(AF_INET, host, out->addr) == 1) {
		out->family = AF_INET;
		out->bits = 32;
	} else if (inet_pton(AF_INET6, host, out->addr) == 1) {
		out->family = AF_INET6;
		out->bits = 128;
	} else {
		*why = "not an IPv4 or IPv6 address";
		return -EINVAL;
	}
	if (slash) {
		char *end;
		unsigned long bits = strtoul(slash + 1, &end, 10);
		if (!isdigit((unsigned char)slash[1]) || *end || bits > out->bits) {
			*why = out->family == AF_INET ? "prefix length must be 0-32"
						      : "prefix length must be 0-128";
			return -EINVAL;
		}
		out->bits = (unsigned)bits;
	}
	return 0;
}

int parse_dest_line(char *line, struct dest_spec *out, const char **why)
{
	char *end = line + strcspn(line, "#\r\n"), *start = line;

	while (end > start && isspace((unsigned char)end[-1]))
		end--;
	while (start < end && isspace((unsigned char)*start))
		start++;
	*end = '\0';
	if (!*start)
		return 0;
	size_t word = strcspn(start, BLANKS);
	if (start[word]) /* most likely two DESTs */
		return addr_error(why, NULL, "unexpected '%.40s' after '%.*s' (one DEST per line)",
				  start + word + strspn(start + word, BLANKS), (int)MIN(word, 60),
				  start);
	return parse_dest(start, out, why) < 0 ? -EINVAL : 1;
}
