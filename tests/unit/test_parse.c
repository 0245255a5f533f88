/* The command-line parsers: sizes, durations, destinations. */
#include "cli.h"
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
		{ "", -EINVAL, 0 },
		{ "M", -EINVAL, 0 },
		{ "-1", -EINVAL, 0 },
		{ " 1", -EINVAL, 0 },
		{ "1.5M", -EINVAL, 0 },
		{ "12Q", -EINVAL, 0 },
		{ "1MM", -EINVAL, 0 },
		{ "1Mi", -EINVAL, 0 },
		{ "99999999999999999999", -ERANGE, 0 },
		{ "17179869184G", -ERANGE, 0 },
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
		{ "10", 0, 10000 },   { "10s", 0, 10000 }, { "1.5s", 0, 1500 },
		{ "500ms", 0, 500 },  { "2m", 0, 120000 }, { "1h", 0, 3600000 },
		{ "0", 0, 0 },        { "", -EINVAL, 0 },  { "s", -EINVAL, 0 },
		{ "-1s", -EINVAL, 0 }, { "10x", -EINVAL, 0 }, { "1e30h", -ERANGE, 0 },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		uint64_t v = 0;
		int rc = parse_duration_ms(t[i].in, &v);
		ok(rc == t[i].rc && (rc || v == t[i].want), "duration '%s' -> %d %llu", t[i].in, rc,
		   (unsigned long long)v);
	}
}

static void dests(void)
{
	static const struct {
		const char *in, *host, *port, *why;
	} t[] = {
		{ "127.0.0.1:9000", "127.0.0.1", "9000", NULL },
		{ "tcp://example.org:80", "example.org", "80", NULL },
		{ "[::1]:9000", "::1", "9000", NULL },
		{ "tcp://[fe80::1%eth0]:1", "fe80::1%eth0", "1", NULL },
		{ "h:65535", "h", "65535", NULL },
		{ "h:007", "h", "7", NULL },
		{ "", NULL, NULL, "empty (expected HOST:PORT)" },
		{ "tcp://", NULL, NULL, "empty (expected HOST:PORT)" },
		{ "host", NULL, NULL, "missing port (expected HOST:PORT)" },
		{ "host:", NULL, NULL, "missing port (expected HOST:PORT)" },
		{ ":80", NULL, NULL, "missing host (expected HOST:PORT)" },
		{ "h:0", NULL, NULL, "port out of range (1-65535)" },
		{ "h:65536", NULL, NULL, "port out of range (1-65535)" },
		{ "h:70000", NULL, NULL, "port out of range (1-65535)" },
		{ "h:123456789012345678901234567890", NULL, NULL, "port out of range (1-65535)" },
		{ "h:8o", NULL, NULL, "port is not a number" },
		{ "h:-1", NULL, NULL, "port is not a number" },
		{ "::1:80", NULL, NULL, "IPv6 addresses need brackets: [ADDRESS]:PORT" },
		{ "[::1]", NULL, NULL, "missing port (expected [IPV6]:PORT)" },
		{ "[::1:80", NULL, NULL, "missing ']' after IPv6 address" },
		{ "[]:80", NULL, NULL, "missing host (expected HOST:PORT)" },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct dest_spec d;
		const char *why = NULL;
		int rc = parse_dest(t[i].in, &d, &why);

		if (t[i].why)
			ok(rc == -EINVAL && why && !strcmp(why, t[i].why), "dest '%s' rejected: %s",
			   t[i].in, why ? why : "(accepted)");
		else
			ok(rc == 0 && !strcmp(d.host, t[i].host) && !strcmp(d.port, t[i].port),
			   "dest '%s' -> host '%s' port '%s'", t[i].in, rc ? "?" : d.host,
			   rc ? "?" : d.port);
		if (rc == 0) {
			free(d.host);
			free(d.text);
		}
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
	ok(net_allowed((struct sockaddr *)&v6, c, 2), "::ffff:10.1.0.9 (IPv4 on a dual-stack socket) is");
	inet_pton(AF_INET6, "fdff::1", &v6.sin6_addr);
	ok(net_allowed((struct sockaddr *)&v6, c, 2), "fdff::1 is in fd00::/8");
	inet_pton(AF_INET6, "fe80::1", &v6.sin6_addr);
	ok(!net_allowed((struct sockaddr *)&v6, c, 2), "fe80::1 is not");
	ok(net_allowed((struct sockaddr *)&v6, c, 0), "with no blocks, anyone is");
	ok(parse_cidr("10.0.0.7/29", &c[0], &why) == 0, "10.0.0.7/29 parses");
	inet_pton(AF_INET, "10.0.0.1", &v4.sin_addr);
	ok(net_allowed((struct sockaddr *)&v4, c, 1), "a prefix that is not a whole byte: 10.0.0.1 is in 10.0.0.7/29");
	inet_pton(AF_INET, "10.0.0.8", &v4.sin_addr);
	ok(!net_allowed((struct sockaddr *)&v4, c, 1), "10.0.0.8 is not");
	ok(parse_cidr("127.0.0.1", &c[0], &why) == 0 && c[0].bits == 32, "a bare address is /32");
	ok(parse_cidr("10.0.0.0/33", &c[0], &why) == -EINVAL && !strcmp(why, "prefix length must be 0-32"),
	   "/33 is refused for IPv4");
	ok(parse_cidr("::/129", &c[0], &why) == -EINVAL, "/129 for IPv6");
	ok(parse_cidr("[::1]", &c[0], &why) == -EINVAL && !strcmp(why, "not an IPv4 or IPv6 address"),
	   "brackets are not part of --allow's form");
	ok(parse_cidr("10.0.0.0/", &c[0], &why) == -EINVAL, "a slash without bits");
	ok(parse_cidr("", &c[0], &why) == -EINVAL, "an empty block");
}

int main(void)
{
	sizes();
	durations();
	dests();
	cidrs();
	return tap_done();
}
