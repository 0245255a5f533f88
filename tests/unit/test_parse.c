/* The command-line parsers: sizes, durations, addresses, --allow blocks. */
#include "net.h"
#include "parse.h"
#include "tap.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

static void sizes(void)
{
	static const struct {
		const char *in;
		int rc;
		uint64_t want;
	} t[] = {
		{ "0", 0, 0 },
		{ "4096", 0, 4096 },
		{ "64K", 0, 64 << 10 },
		{ "64k", 0, 64 << 10 },
		{ "64M", 0, 64 << 20 },
		{ "1G", 0, 1ull << 30 },
		{ "2T", 0, 2ull << 40 },
		{ "512KiB", 0, 512 << 10 },
		{ "3MB", 0, 3 << 20 },
		{ "10B", 0, 10 },
		/* decimals with a unit: exact, to the nearest byte, a half up */
		{ "1.5M", 0, 1572864 },
		{ "0.5G", 0, 1ull << 29 },
		{ "2.25k", 0, 2304 },
		{ "1.5MiB", 0, 1572864 },
		{ "1.5mb", 0, 1572864 },
		{ "0.1K", 0, 102 },         /* 102.4 */
		{ "0.3K", 0, 307 },         /* 307.2 */
		{ "0.7K", 0, 717 },         /* 716.8 */
		{ "0.0005K", 0, 1 },        /* 0.512 */
		{ "0.00048828125K", 0, 1 }, /* exactly 0.5 byte: a half rounds up... */
		{ "0.00048828124K", 0, 0 }, /* ...and a hair below it, down */
		{ "0.001953125K", 0, 2 },   /* exactly 2 */
		{ "1.0000000000000000001T", 0, 1ull << 40 }, /* 19 decimals */
		{ "007.50K", 0, 7680 },
		{ "1.0", 0, 1 }, /* a whole number of bytes after all */
		{ "16.0", 0, 16 },
		{ "1.5", -EDOM, 0 }, /* a fraction of a byte */
		{ "1.5B", -EDOM, 0 },
		{ "0.1", -EDOM, 0 },
		{ "", -EINVAL, 0 },
		{ "M", -EINVAL, 0 },
		{ "-1", -EINVAL, 0 },
		{ "-1.5M", -EINVAL, 0 },
		{ " 1", -EINVAL, 0 },
		{ ".5M", -EINVAL, 0 },
		{ "1.M", -EINVAL, 0 },
		{ "1.", -EINVAL, 0 },
		{ "1..5M", -EINVAL, 0 },
		{ "1.2.3M", -EINVAL, 0 },
		{ "1,5M", -EINVAL, 0 },
		{ "1e3", -EINVAL, 0 },
		{ "1.5 M", -EINVAL, 0 },
		{ "1.00000000000000000001T", -EOVERFLOW, 0 }, /* 20 decimals: too fine... */
		{ "1.00000000000000000000", -EOVERFLOW, 0 },  /* ...even when zeros */
		{ "0.000000000000000000001Q", -EINVAL, 0 },   /* the form first */
		{ "1.5 ", -EINVAL, 0 },
		{ "12Q", -EINVAL, 0 },
		{ "1MM", -EINVAL, 0 },
		{ "1Mi", -EINVAL, 0 },
		{ "1iB", -EINVAL, 0 },
		/* the edge of 64 bits */
		{ "18446744073709551615", 0, UINT64_MAX },
		{ "18446744073709551616", -ERANGE, 0 },
		{ "99999999999999999999", -ERANGE, 0 },
		{ "99999999999999999999Q", -EINVAL, 0 }, /* the form first */
		{ "16777215.999999999T", 0, 18446744073709550516ull },
		{ "16777216T", -ERANGE, 0 },
		{ "17179869183.9999999995G", 0, UINT64_MAX }, /* 2^64 - 1.46: 2^64 - 1 */
		{ "17179869183.9999999996G", -ERANGE, 0 },    /* 2^64 - 0.43: rounds to 2^64 */
		{ "15.99999999999999999M", 0, 16ull << 20 },
		{ "17179869184G", -ERANGE, 0 },
		{ "16383.9999999999999999P", -EINVAL, 0 },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		uint64_t v = 0;
		int rc = parse_size(t[i].in, &v);
		ok(rc == t[i].rc && (rc || v == t[i].want), "size '%s' -> %d %llu", t[i].in, rc,
		   (unsigned long long)v);
	}
}

static void durations(void)
{
	static const struct {
		const char *in;
		int rc;
		uint64_t want;
	} t[] = {
		{ "10", 0, 10000 },
		{ "10s", 0, 10000 },
		{ "1.5s", 0, 1500 },
		{ "1.5", 0, 1500 },
		{ "0.25m", 0, 15000 },
		{ "1.5h", 0, 5400000 },
		{ "500ms", 0, 500 },
		{ "2m", 0, 120000 },
		{ "1h", 0, 3600000 },
		{ "0.0005s", 0, 1 },
		{ "1.5ms", 0, 2 }, /* a half up */
		{ "0.001", 0, 1 },
		{ "0", 0, 0 },
		{ "0.000", 0, 0 },
		{ "0ms", 0, 0 },
		/* above 0 but under half a millisecond: never silently 0 */
		{ "0.0004s", -EDOM, 0 },
		{ "0.4ms", -EDOM, 0 },
		{ "0.0000001h", -EDOM, 0 },
		{ "0.0000002h", 0, 1 }, /* 0.72 ms */
		/* units in any case: within durations M can only be minutes */
		{ "1S", 0, 1000 },
		{ "500MS", 0, 500 },
		{ "500Ms", 0, 500 },
		{ "2M", 0, 120000 },
		{ "1H", 0, 3600000 },
		{ "1.5mS", 0, 2 },
		{ "1.00000000000000000001s", -EOVERFLOW, 0 }, /* 20 decimals */
		{ "1.0000000000000000001s", 0, 1000 },        /* 19 */
		{ "1sec", -EINVAL, 0 },
		{ "1min", -EINVAL, 0 },
		{ "1 ms", -EINVAL, 0 },
		{ "1000000000000s", 0, 1000000000000000ull }, /* the longest */
		{ "1000000000000.001s", -ERANGE, 0 },
		{ "99999999999999999999h", -ERANGE, 0 },
		{ "", -EINVAL, 0 },
		{ "s", -EINVAL, 0 },
		{ "-1s", -EINVAL, 0 },
		{ "10x", -EINVAL, 0 },
		{ "1e3", -EINVAL, 0 },
		{ "0x10", -EINVAL, 0 },
		{ ".5s", -EINVAL, 0 },
		{ "1.s", -EINVAL, 0 },
		{ "1.2.3s", -EINVAL, 0 },
		{ "1 s", -EINVAL, 0 },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		uint64_t v = 0;
		int rc = parse_duration_ms(t[i].in, &v);
		ok(rc == t[i].rc && (rc || v == t[i].want), "duration '%s' -> %d %llu", t[i].in, rc,
		   (unsigned long long)v);
	}
}

#define DEST_FORMS                                                                                 \
	" (expected HOST:PORT, [IPv6]:PORT, tcp://HOST:PORT, ringcast://HOST:PORT, file:PATH or - (standard output))"
#define LISTEN_FORMS " (expected PORT, HOST:PORT or [IPv6]:PORT)"
#define TLS_FORMS                                                                                  \
	" (expected tcp-listen://PORT, tcp-listen://HOST:PORT or tcp-listen://[IPv6]:PORT)"

/* Each place that takes an address: what it accepts, and for what it does
 * not, the reason with the forms it accepts. */
static void addresses(void)
{
	static const struct {
		enum addr_use use;
		const char *in, *host, *port, *why;
	} t[] = {
		{ ADDR_DEST, "127.0.0.1:9000", "127.0.0.1", "9000", NULL },
		{ ADDR_DEST, "tcp://example.org:80", "example.org", "80", NULL },
		{ ADDR_DEST, "[::1]:9000", "::1", "9000", NULL },
		{ ADDR_DEST, "tcp://[fe80::1%eth0]:1", "fe80::1%eth0", "1", NULL },
		{ ADDR_DEST, "h:65535", "h", "65535", NULL },
		{ ADDR_DEST, "h:007", "h", "7", NULL },
		{ ADDR_DEST, "", NULL, NULL, "empty" DEST_FORMS },
		{ ADDR_DEST, "tcp://", NULL, NULL, "missing host and port" DEST_FORMS },
		{ ADDR_DEST, "host", NULL, NULL, "missing port" DEST_FORMS },
		{ ADDR_DEST, "host:", NULL, NULL, "missing port" DEST_FORMS },
		{ ADDR_DEST, "9000", NULL, NULL,
		  "missing host; to listen on port 9000, use -l 9000" DEST_FORMS },
		{ ADDR_DEST, ":80", NULL, NULL, "missing host" DEST_FORMS },
		{ ADDR_DEST, "h:0", NULL, NULL, "port out of range (1-65535)" },
		{ ADDR_DEST, "h:65536", NULL, NULL, "port out of range (1-65535)" },
		{ ADDR_DEST, "h:70000", NULL, NULL, "port out of range (1-65535)" },
		{ ADDR_DEST, "h:123456789012345678901234567890", NULL, NULL,
		  "port out of range (1-65535)" },
		{ ADDR_DEST, "h:http", NULL, NULL, "port 'http' is not a number" DEST_FORMS },
		{ ADDR_DEST, "h:-1", NULL, NULL, "port '-1' is not a number" DEST_FORMS },
		{ ADDR_DEST, "h:8o", NULL, NULL, "unexpected 'o' after port 8" DEST_FORMS },
		{ ADDR_DEST, "tcp://127.0.0.1:1/", NULL, NULL,
		  "unexpected '/' after port 1" DEST_FORMS },
		{ ADDR_DEST, "h:80/x/y?z", NULL, NULL,
		  "unexpected '/x/y?z' after port 80" DEST_FORMS },
		{ ADDR_DEST, "::1:80", NULL, NULL, "an IPv6 address needs brackets" DEST_FORMS },
		{ ADDR_DEST, "fe80::1:80", NULL, NULL,
		  "an IPv6 address needs brackets" DEST_FORMS },
		{ ADDR_DEST, "fe80::1%eth0:80", NULL, NULL,
		  "an IPv6 address needs brackets" DEST_FORMS },
		{ ADDR_DEST, "2001:db8:0:0:1:0:0:1:9", NULL, NULL,
		  "an IPv6 address needs brackets" DEST_FORMS },
		{ ADDR_DEST, "::1", NULL, NULL, "an IPv6 address needs brackets" DEST_FORMS },
		/* more colons, but no IPv6 address: what follows the port is named */
		{ ADDR_DEST, "127.0.0.1:9000:1", NULL, NULL,
		  "unexpected ':1' after port 9000" DEST_FORMS },
		{ ADDR_DEST, "h:9000:1", NULL, NULL, "unexpected ':1' after port 9000" DEST_FORMS },
		{ ADDR_DEST, "127.0.0.1:9 127.0.0.1:10", NULL, NULL,
		  "unexpected ' 127.0.0.1:10' after port 9" DEST_FORMS },
		/* white space: never part of an address */
		{ ADDR_DEST, " 127.0.0.1:9000", NULL, NULL,
		  "unexpected ' ' at the start" DEST_FORMS },
		{ ADDR_DEST, "\t h:1", NULL, NULL, "unexpected '\t ' at the start" DEST_FORMS },
		{ ADDR_DEST, "127.0.0.1:9000 ", NULL, NULL,
		  "unexpected ' ' after port 9000" DEST_FORMS },
		{ ADDR_DEST, "a b:9", NULL, NULL, "unexpected ' ' in the host" DEST_FORMS },
		{ ADDR_DEST, "[ ::1]:9", NULL, NULL, "unexpected ' ' in the host" DEST_FORMS },
		/* brackets are for IPv6 */
		{ ADDR_DEST, "[127.0.0.1]:9", NULL, NULL,
		  "brackets are for IPv6 addresses only" DEST_FORMS },
		{ ADDR_DEST, "[localhost]:9", NULL, NULL,
		  "brackets are for IPv6 addresses only" DEST_FORMS },
		{ ADDR_DEST, "[::ffff:127.0.0.1]:9", "::ffff:127.0.0.1", "9", NULL },
		{ ADDR_DEST, "[::1]", NULL, NULL, "missing port" DEST_FORMS },
		{ ADDR_DEST, "[::1]:", NULL, NULL, "missing port" DEST_FORMS },
		{ ADDR_DEST, "[::1]80", NULL, NULL, "unexpected '80' after ']'" DEST_FORMS },
		{ ADDR_DEST, "[::1:80", NULL, NULL,
		  "missing ']' after the IPv6 address" DEST_FORMS },
		{ ADDR_DEST, "[]:80", NULL, NULL, "missing host" DEST_FORMS },
		/* schemes */
		{ ADDR_DEST, "udp://127.0.0.1:9000", NULL, NULL,
		  "unsupported scheme 'udp://'" DEST_FORMS },
		{ ADDR_DEST, "unix:/tmp/x.sock", NULL, NULL,
		  "unsupported scheme 'unix:'" DEST_FORMS },
		{ ADDR_DEST, "UDP:127.0.0.1:9000", NULL, NULL,
		  "unsupported scheme 'UDP:'" DEST_FORMS },
		{ ADDR_DEST, "tcp://udp://h:1", NULL, NULL,
		  "unsupported scheme 'udp://'" DEST_FORMS },
		/* schemes in any case (RFC 3986 section 3.1) */
		{ ADDR_DEST, "TCP://127.0.0.1:1", "127.0.0.1", "1", NULL },
		{ ADDR_DEST, "Tcp://[::1]:1", "::1", "1", NULL },
		{ ADDR_DEST, "Tcp-Listen://0", NULL, NULL,
		  "Tcp-Listen:// is for a source (-i), not a destination" DEST_FORMS },
		{ ADDR_DEST, "HTTPS://h/x", NULL, NULL,
		  "HTTPS:// is for a source (-i), not a destination" DEST_FORMS },
		/* tcp: without its //: what was meant, when the rest is an address */
		{ ADDR_DEST, "tcp:127.0.0.1:9", NULL, NULL,
		  "did you mean tcp://127.0.0.1:9?" DEST_FORMS },
		{ ADDR_DEST, "TCP:[::1]:9", NULL, NULL, "did you mean tcp://[::1]:9?" DEST_FORMS },
		{ ADDR_DEST, "tcp:h:x", NULL, NULL, "port 'x' is not a number" DEST_FORMS },
		{ ADDR_DEST, "tcp:9000", "tcp", "9000", NULL }, /* a host named tcp */
		{ ADDR_DEST, "tcp-listen:0:1", NULL, NULL,
		  "tcp-listen: is for a source (-i), not a destination" DEST_FORMS },
		{ ADDR_DEST, "http://h/x", NULL, NULL,
		  "http:// is for a source (-i), not a destination" DEST_FORMS },
		{ ADDR_DEST, "tcp-listen://9000", NULL, NULL,
		  "tcp-listen:// is for a source (-i), not a destination" DEST_FORMS },
		{ ADDR_DEST, "file:///x", NULL, NULL,
		  "file:// is for a source (-i), not a destination" DEST_FORMS },
		/* -l */
		{ ADDR_LISTEN, "9000", NULL, "9000", NULL },
		{ ADDR_LISTEN, "0", NULL, "0", NULL },
		{ ADDR_LISTEN, "127.0.0.1:0", "127.0.0.1", "0", NULL },
		{ ADDR_LISTEN, "[::]:9000", "::", "9000", NULL },
		{ ADDR_LISTEN, ":9000", NULL, "9000", NULL }, /* an empty HOST: every address */
		{ ADDR_LISTEN, "[::ffff:127.0.0.1]:0", "::ffff:127.0.0.1", "0", NULL },
		/* a word that is no number: a host without its port */
		{ ADDR_LISTEN, "abc", NULL, NULL, "missing port" LISTEN_FORMS },
		{ ADDR_LISTEN, "127.0.0.1", NULL, NULL, "missing port" LISTEN_FORMS },
		{ ADDR_LISTEN, "localhost", NULL, NULL, "missing port" LISTEN_FORMS },
		{ ADDR_LISTEN, "9000x", NULL, NULL, "missing port" LISTEN_FORMS },
		{ ADDR_LISTEN, "[::1]", NULL, NULL, "missing port" LISTEN_FORMS },
		{ ADDR_LISTEN, "9000/", NULL, NULL, "unexpected '/' after port 9000" LISTEN_FORMS },
		{ ADDR_LISTEN, "127.0.0.1:0:1", NULL, NULL,
		  "unexpected ':1' after port 0" LISTEN_FORMS },
		{ ADDR_LISTEN, "::1", NULL, NULL, "an IPv6 address needs brackets" LISTEN_FORMS },
		{ ADDR_LISTEN, "[127.0.0.1]:0", NULL, NULL,
		  "brackets are for IPv6 addresses only" LISTEN_FORMS },
		{ ADDR_LISTEN, " 9000", NULL, NULL, "unexpected ' ' at the start" LISTEN_FORMS },
		{ ADDR_LISTEN, "70000", NULL, NULL, "port out of range (0-65535)" },
		{ ADDR_LISTEN, "", NULL, NULL, "empty" LISTEN_FORMS },
		/* -l takes no scheme: what was meant, when the rest is what -l takes */
		{ ADDR_LISTEN, "tcp://h:1", NULL, NULL,
		  "-l takes no scheme: did you mean -l h:1?" LISTEN_FORMS },
		{ ADDR_LISTEN, "tcp-listen://127.0.0.1:9000", NULL, NULL,
		  "-l takes no scheme: did you mean -l 127.0.0.1:9000?" LISTEN_FORMS },
		{ ADDR_LISTEN, "TCP-LISTEN://0", NULL, NULL,
		  "-l takes no scheme: did you mean -l 0?" LISTEN_FORMS },
		{ ADDR_LISTEN, "tcp:127.0.0.1:9", NULL, NULL,
		  "-l takes no scheme: did you mean -l 127.0.0.1:9?" LISTEN_FORMS },
		{ ADDR_LISTEN, "tcp://abc", NULL, NULL, "-l takes no scheme" LISTEN_FORMS },
		{ ADDR_LISTEN, "udp://0:9", NULL, NULL,
		  "unsupported scheme 'udp://'" LISTEN_FORMS },
		/* -i tcp:// and tcp-listen:// */
		{ ADDR_TCP_SOURCE, "tcp://h:1", "h", "1", NULL },
		{ ADDR_TCP_SOURCE, "TCP://h:1", "h", "1", NULL },
		{ ADDR_TCP_SOURCE, "tcp://9000", NULL, NULL,
		  "missing host (expected tcp://HOST:PORT or tcp://[IPv6]:PORT)" },
		{ ADDR_TCP_SOURCE, "tcp://h:1/", NULL, NULL,
		  "unexpected '/' after port 1 (expected tcp://HOST:PORT or tcp://[IPv6]:PORT)" },
		{ ADDR_TCP_SOURCE, "tcp://h", NULL, NULL,
		  "missing port (expected tcp://HOST:PORT or tcp://[IPv6]:PORT)" },
		{ ADDR_TCP_LISTEN_SOURCE, "tcp-listen://9000", NULL, "9000", NULL },
		{ ADDR_TCP_LISTEN_SOURCE, "tcp-listen://:9000", NULL, "9000", NULL },
		{ ADDR_TCP_LISTEN_SOURCE, "tcp-listen://[::1]:0", "::1", "0", NULL },
		{ ADDR_TCP_LISTEN_SOURCE, "Tcp-Listen://0", NULL, "0", NULL },
		/* the same forms as -l, with the same reasons */
		{ ADDR_TCP_LISTEN_SOURCE, "tcp-listen://abc", NULL, NULL,
		  "missing port" TLS_FORMS },
		{ ADDR_TCP_LISTEN_SOURCE, "tcp-listen://127.0.0.1", NULL, NULL,
		  "missing port" TLS_FORMS },
		{ ADDR_TCP_LISTEN_SOURCE, "tcp-listen://::1", NULL, NULL,
		  "an IPv6 address needs brackets" TLS_FORMS },
		{ ADDR_TCP_LISTEN_SOURCE, "tcp-listen://127.0.0.1:0:1", NULL, NULL,
		  "unexpected ':1' after port 0" TLS_FORMS },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct dest_spec d;
		const char *why = NULL;
		int rc = parse_addr(t[i].in, t[i].use, &d, &why);

		if (t[i].why)
			ok(rc == -EINVAL && why && !strcmp(why, t[i].why),
			   "address %d '%s' rejected: %s", t[i].use, t[i].in,
			   why ? why : "(accepted)");
		else
			ok(rc == 0 &&
				   (t[i].host ? d.host && !strcmp(d.host, t[i].host) : !d.host) &&
				   !strcmp(d.port, t[i].port),
			   "address %d '%s' -> host '%s' port '%s'", t[i].use, t[i].in,
			   rc || !d.host ? "-" : d.host, rc ? "?" : d.port);
		if (rc == 0) {
			free(d.host);
			free(d.text);
		}
	}
}

/* A --dests-from line goes through the same parser. */
static void dest_lines(void)
{
	struct dest_spec d;
	const char *why = NULL;
	char l1[] = "  10.0.0.1:9000  # rack 1\n", l2[] = "# nothing\n", l3[] = "udp://h:1\n";
	char l4[] = "127.0.0.1:9 127.0.0.1:10\n", l5[] = "\th:1\t# tabs\n";

	ok(parse_dest_line(l1, &d, &why) == 1 && !strcmp(d.host, "10.0.0.1") &&
		   !strcmp(d.text, "10.0.0.1:9000"),
	   "a line with blanks and a comment");
	free(d.host);
	free(d.text);
	ok(parse_dest_line(l2, &d, &why) == 0, "a comment line");
	ok(parse_dest_line(l3, &d, &why) == -EINVAL &&
		   !strcmp(why, "unsupported scheme 'udp://'" DEST_FORMS),
	   "a scheme on a line: %s", why);
	ok(parse_dest_line(l4, &d, &why) == -EINVAL &&
		   !strcmp(why,
			   "unexpected '127.0.0.1:10' after '127.0.0.1:9' (one DEST per line)"),
	   "two DESTs on a line: %s", why);
	ok(parse_dest_line(l5, &d, &why) == 1 && !strcmp(d.text, "h:1"), "tabs around a DEST");
	free(d.host);
	free(d.text);
}

/* The DESTs that are not plain TCP peers: outputs and framed receivers. */
static void test_dest_kinds(void)
{
	static const struct {
		const char *in;
		int kind;
		const char *path, *host, *err;
	} t[] = {
		{ "-", DEST_STDOUT, NULL, NULL, NULL },
		{ "file:/srv/disk.img", DEST_FILE, "/srv/disk.img", NULL, NULL },
		{ "file:disk.img", DEST_FILE, "disk.img", NULL, NULL },
		{ "FILE:///srv/x", DEST_FILE, "/srv/x", NULL, NULL },
		{ "file://host/x", 0, NULL, NULL,
		  "file:// takes a path on this host (file:///PATH)" DEST_FORMS },
		{ "file:", 0, NULL, NULL, "file: without a path" DEST_FORMS },
		{ "ringcast://10.0.0.1:9000", DEST_FRAMED, NULL, "10.0.0.1", NULL },
		{ "RingCast://[::1]:9", DEST_FRAMED, NULL, "::1", NULL },
		{ "ringcast://h", 0, NULL, NULL, "missing port" DEST_FORMS },
		{ "ringcast-listen://9000", 0, NULL, NULL,
		  "ringcast-listen:// is for a source (-i), not a destination" DEST_FORMS },
		{ "h:1", DEST_TCP, NULL, "h", NULL },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct dest_spec d;
		const char *why = NULL;
		int rc = parse_dest(t[i].in, &d, &why);

		if (t[i].err) {
			ok(rc == -EINVAL && why && !strcmp(why, t[i].err), "DEST '%s' rejected: %s",
			   t[i].in, why ? why : "(accepted)");
			continue;
		}
		ok(rc == 0 && (int)d.kind == t[i].kind && !strcmp(d.text, t[i].in) &&
			   (!t[i].path || (d.path && !strcmp(d.path, t[i].path))) &&
			   (!t[i].host || (d.host && !strcmp(d.host, t[i].host))),
		   "DEST '%s' is kind %d", t[i].in, t[i].kind);
		free(d.host);
		free(d.text);
	}
}

static void cidrs(void)
{
	struct cidr c[2];
	const char *why;
	struct sockaddr_in v4 = { .sin_family = AF_INET };
	struct sockaddr_in6 v6 = { .sin6_family = AF_INET6 };

	ok(parse_cidr("10.1.0.0/16", &c[0], &why) == 0 && c[0].family == AF_INET && c[0].bits == 16,
	   "10.1.0.0/16 is an IPv4 block of 16 bits");
	ok(parse_cidr("fd00::/8", &c[1], &why) == 0 && c[1].family == AF_INET6 && c[1].bits == 8,
	   "fd00::/8 is an IPv6 block of 8 bits");
	inet_pton(AF_INET, "10.1.200.3", &v4.sin_addr);
	ok(net_allowed((struct sockaddr *)&v4, c, 2), "10.1.200.3 is in 10.1.0.0/16");
	inet_pton(AF_INET, "10.2.0.1", &v4.sin_addr);
	ok(!net_allowed((struct sockaddr *)&v4, c, 2), "10.2.0.1 is not");
	inet_pton(AF_INET6, "::ffff:10.1.0.9", &v6.sin6_addr);
	ok(net_allowed((struct sockaddr *)&v6, c, 2),
	   "::ffff:10.1.0.9 (IPv4 on a dual-stack socket) is");
	inet_pton(AF_INET6, "fdff::1", &v6.sin6_addr);
	ok(net_allowed((struct sockaddr *)&v6, c, 2), "fdff::1 is in fd00::/8");
	inet_pton(AF_INET6, "fe80::1", &v6.sin6_addr);
	ok(!net_allowed((struct sockaddr *)&v6, c, 2), "fe80::1 is not");
	ok(net_allowed((struct sockaddr *)&v6, c, 0), "with no blocks, anyone is");
	ok(parse_cidr("10.0.0.7/29", &c[0], &why) == 0, "10.0.0.7/29 parses");
	inet_pton(AF_INET, "10.0.0.1", &v4.sin_addr);
	ok(net_allowed((struct sockaddr *)&v4, c, 1),
	   "a prefix that is not a whole byte: 10.0.0.1 is in 10.0.0.7/29");
	inet_pton(AF_INET, "10.0.0.8", &v4.sin_addr);
	ok(!net_allowed((struct sockaddr *)&v4, c, 1), "10.0.0.8 is not");
	ok(parse_cidr("127.0.0.1", &c[0], &why) == 0 && c[0].bits == 32, "a bare address is /32");
	ok(parse_cidr("10.0.0.0/33", &c[0], &why) == -EINVAL &&
		   !strcmp(why, "prefix length must be 0-32"),
	   "/33 is refused for IPv4");
	ok(parse_cidr("::/129", &c[0], &why) == -EINVAL, "/129 for IPv6");
	ok(parse_cidr("[::1]", &c[0], &why) == -EINVAL &&
		   !strcmp(why, "not an IPv4 or IPv6 address"),
	   "brackets are not part of --allow's form");
	ok(parse_cidr("10.0.0.0/", &c[0], &why) == -EINVAL, "a slash without bits");
	ok(parse_cidr("", &c[0], &why) == -EINVAL, "an empty block");
}

int main(void)
{
	sizes();
	durations();
	addresses();
	dest_lines();
	test_dest_kinds();
	cidrs();
	return tap_done();
}
