#include "cli.h"
#include "src.h"
#include "util.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define DEFAULT_RING (64u << 20)
#define DEFAULT_CHUNK (256u << 10)
#define MIN_RING (64u << 10)
#define MAX_RING ((uint64_t)1 << 40)

enum {
	OPT_RING_SIZE = 256,
	OPT_CHUNK,
	OPT_MLOCK,
	OPT_TRANSPORT,
	OPT_GRACE,
	OPT_RATE,
	OPT_NETRC,
	OPT_EXTRACT,
	OPT_UNPACK,
	OPT_STALL_TIMEOUT,
	OPT_SERVE,
	OPT_HTTP,
	OPT_MAX_CLIENTS,
	OPT_MAX_HEADER,
	OPT_HEADER_TIMEOUT,
	OPT_IDLE_TIMEOUT,
	OPT_RETRY,
	OPT_CONNECT_TIMEOUT,
	OPT_SLOW,
	OPT_MAX_LAG,
	OPT_MIN_SUBSCRIBERS,
	OPT_MAX_SUBSCRIBERS,
	OPT_WAIT_TIMEOUT,
	OPT_JOIN,
	OPT_DESTS_FROM,
	OPT_STATS,
	OPT_ALLOW,
};

static const struct option longopts[] = {
	{ "input", required_argument, NULL, 'i' },
	{ "output", required_argument, NULL, 'o' },
	{ "dests-from", required_argument, NULL, OPT_DESTS_FROM },
	{ "ring-size", required_argument, NULL, OPT_RING_SIZE },
	{ "chunk", required_argument, NULL, OPT_CHUNK },
	{ "mlock", required_argument, NULL, OPT_MLOCK },
	{ "transport", required_argument, NULL, OPT_TRANSPORT },
	{ "ipv4", no_argument, NULL, '4' },
	{ "ipv6", no_argument, NULL, '6' },
	{ "grace", required_argument, NULL, OPT_GRACE },
	{ "stall-timeout", required_argument, NULL, OPT_STALL_TIMEOUT },
	{ "slow", required_argument, NULL, OPT_SLOW },
	{ "max-lag", required_argument, NULL, OPT_MAX_LAG },
	{ "retry", required_argument, NULL, OPT_RETRY },
	{ "connect-timeout", required_argument, NULL, OPT_CONNECT_TIMEOUT },
	{ "threads", required_argument, NULL, 'j' },
	{ "rate", required_argument, NULL, OPT_RATE },
	{ "size", required_argument, NULL, 's' },
	{ "header", required_argument, NULL, 'H' },
	{ "user", required_argument, NULL, 'u' },
	{ "netrc", no_argument, NULL, OPT_NETRC },
	{ "extract", required_argument, NULL, OPT_EXTRACT },
	{ "decompress", no_argument, NULL, 'z' },
	{ "serve", no_argument, NULL, OPT_SERVE },
	{ "listen", required_argument, NULL, 'l' },
	{ "min-subscribers", required_argument, NULL, OPT_MIN_SUBSCRIBERS },
	{ "max-subscribers", required_argument, NULL, OPT_MAX_SUBSCRIBERS },
	{ "wait-timeout", required_argument, NULL, OPT_WAIT_TIMEOUT },
	{ "join", required_argument, NULL, OPT_JOIN },
	{ "allow", required_argument, NULL, OPT_ALLOW },
	{ "http", no_argument, NULL, OPT_HTTP },
	{ "unpack", no_argument, NULL, OPT_UNPACK },
	{ "max-clients", required_argument, NULL, OPT_MAX_CLIENTS },
	{ "max-header", required_argument, NULL, OPT_MAX_HEADER },
	{ "header-timeout", required_argument, NULL, OPT_HEADER_TIMEOUT },
	{ "idle-timeout", required_argument, NULL, OPT_IDLE_TIMEOUT },
	{ "progress", no_argument, NULL, 'P' },
	{ "stats", required_argument, NULL, OPT_STATS },
	{ "verbose", no_argument, NULL, 'v' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

static void usage(FILE *f)
{
	fputs("usage: ringcast [-46Pqv] [-i SOURCE] [-o DEST]... [OPTIONS] [DEST...]\n"
	      "       ringcast [-46Pqv] [-i SOURCE] [OPTIONS] -l [HOST:]PORT [DEST...]\n"
	      "       ringcast --serve [--http] [OPTIONS] -l [HOST:]PORT BLOB...\n"
	      "\n"
	      "Read SOURCE once into a locked shared-memory ring and send it, complete and\n"
	      "in order, to every DEST at once; with -l, also to every subscriber that\n"
	      "connects.  With --serve, load each BLOB once into sealed shared memory and\n"
	      "send it to every client that connects.\n"
	      "\n"
	      "  -i, --input SOURCE     - (stdin, the default), a file, a FIFO, a device,\n"
	      "                         tcp://HOST:PORT, tcp-listen://[HOST:]PORT, or a URL\n"
	      "                         (http, https, ftp, ftps, file, sftp, scp) via libcurl\n"
	      "  -H, --header LINE      an extra request header for a URL source (repeatable)\n"
	      "  -u, --user USER:PASSWORD  credentials for a URL source\n"
	      "      --netrc            take URL credentials from ~/.netrc\n"
	      "      --extract MEMBER   send one member of an archive SOURCE (tar, zip, cpio,\n"
	      "                         7z, ... compressed or not) instead of the archive\n"
	      "  -z, --decompress       decode a gzip, bzip2, xz, zstd or lz4 SOURCE\n"
	      "  -o, --output DEST      a destination: HOST:PORT, [IPV6]:PORT or tcp://HOST:PORT\n"
	      "                         (repeatable; positional DESTs work the same)\n"
	      "      --dests-from FILE  one DEST per line (# comments; -: standard input)\n"
	      "      --ring-size SIZE   ring size, K/M/G suffixes (default 64M)\n"
	      "      --chunk SIZE       largest single send (default 256K)\n"
	      "      --mlock MODE       auto, on or off: lock the ring in memory (default auto)\n"
	      "      --transport NAME   auto, uring, msgzc, sendfile or copy (default auto)\n"
	      "  -4, --ipv4             resolve destinations to IPv4 only\n"
	      "  -6, --ipv6             resolve destinations to IPv6 only\n"
	      "      --grace DURATION   after SIGINT/SIGTERM, drain for this long (default 10s)\n"
	      "      --stall-timeout DURATION  drop a destination that accepts nothing for\n"
	      "                         this long (default 60s; 0: never)\n"
	      "      --slow POLICY      block (wait for the slowest, the default) or drop\n"
	      "                         (disconnect a destination that holds the others back)\n"
	      "      --max-lag SIZE     with --slow drop: drop only a destination this far\n"
	      "                         behind the head (default: the ring size)\n"
	      "      --retry N          retry connecting a DEST N times, with backoff\n"
	      "                         (default 0)\n"
	      "      --connect-timeout DURATION  give up a connect try after this long\n"
	      "                         (default 10s; 0: the kernel's)\n"
	      "  -j, --threads N        send from N threads, each with its share of the DESTs\n"
	      "                         (default: one per 256 DESTs, at most one per CPU)\n"
	      "      --rate RATE        read the source at most RATE bytes/s (K/M/G, like pv -L)\n"
	      "  -s, --size SIZE        the stream's expected size, for -P's percentage and\n"
	      "                         ETA when the source cannot tell (a pipe; like pv -s)\n"
	      "      --serve            serve BLOBs to clients instead of pushing a stream\n"
	      "  -l, --listen [HOST:]PORT  take subscribers (or --serve clients) there (PORT\n"
	      "                         alone: every address; 0: a free port); the\n"
	      "                         address is printed on stderr\n"
	      "      --min-subscribers N  hold the source until N subscribers are connected\n"
	      "                         (default 1; 0 when DESTs are given too)\n"
	      "      --max-subscribers N  turn away subscribers beyond N (default: no limit)\n"
	      "      --wait-timeout DURATION  wait this long for --min-subscribers, then\n"
	      "                         start with those connected (default: for ever)\n"
	      "      --join WHERE       where a late subscriber starts: start (byte 0, or\n"
	      "                         refused once the ring lost it; the default), live\n"
	      "                         (at the head) or oldest (the oldest byte in the ring)\n"
	      "      --allow CIDR       only peers in this block may connect to -l; others\n"
	      "                         are reset (repeatable; default: anyone)\n"
	      "      --http             speak HTTP/1.1 (GET, HEAD, ranges); default raw TCP:\n"
	      "                         each client gets the first BLOB, then the end\n"
	      "      --unpack           serve each regular member of archive BLOBs as a blob\n"
	      "                         named by its path inside the archive\n"
	      "      --max-clients N    clients at once (default 10000); at the limit the one\n"
	      "                         idle longest makes room, else the rest wait\n"
	      "      --max-header SIZE  largest HTTP request head (default 8K; larger: 431)\n"
	      "      --header-timeout DURATION  close clients that take longer to send a\n"
	      "                         request head (default 10s)\n"
	      "      --idle-timeout DURATION  close idle keep-alive connections (default 60s)\n"
	      "  -P, --progress         a progress line on stderr (default when it is a\n"
	      "                         terminal)\n"
	      "      --stats FILE       write the run's statistics as JSON to FILE (-: stderr)\n"
	      "  -v, --verbose          say what is chosen and why; statistics at exit\n"
	      "  -q, --quiet            print errors only\n"
	      "  -h, --help             this help\n"
	      "  -V, --version          version and the transports this kernel supports\n"
	      "\n"
	      "A destination ends with a FIN only when it has the whole stream; any other\n"
	      "end (an interrupt, a failed or corrupt source, a late subscriber, a drop)\n"
	      "is a reset and a message naming it.\n"
	      "Exit status: 0 every destination got the whole stream, 1 some did not,\n"
	      "2 usage or configuration error (nothing sent).  See ringcast(1).\n",
	      f);
}

static void __attribute__((noreturn, format(printf, 1, 2))) usage_error(const char *fmt, ...)
{
	va_list ap;
	char line[512];

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "ringcast: %s\nTry 'ringcast --help' for more information.\n", line);
	exit(2);
}

static void __attribute__((noreturn)) version(void)
{
	printf("ringcast %s\ntransports:", RINGCAST_VERSION);
	for (int k = TX_URING; k < TX_NKINDS; k++)
		if (tx_ops_for(k)->probe() == 0)
			printf(" %s", tx_kind_name(k));
	const char *sep = "\nnot available: ";
	for (int k = TX_URING; k < TX_NKINDS; k++) {
		int e = tx_ops_for(k)->probe();

		if (e) {
			printf("%s%s (%s)", sep, tx_kind_name(k), strerror(-e));
			sep = ", ";
		}
	}
	printf("\n");
	exit(0);
}

int parse_size(const char *s, uint64_t *out)
{
	char *end;
	uint64_t mul = 1;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno)
		return -ERANGE;
	switch (toupper((unsigned char)*end)) {
	case 'K': mul = 1ull << 10; end++; break;
	case 'M': mul = 1ull << 20; end++; break;
	case 'G': mul = 1ull << 30; end++; break;
	case 'T': mul = 1ull << 40; end++; break;
	}
	if (mul > 1 && (end[0] == 'i' || end[0] == 'I') && (end[1] == 'B' || end[1] == 'b'))
		end += 2;
	else if (*end == 'B' || *end == 'b')
		end++;
	if (*end)
		return -EINVAL;
	if (v > UINT64_MAX / mul)
		return -ERANGE;
	*out = v * mul;
	return 0;
}

int parse_duration_ms(const char *s, uint64_t *out)
{
	char *end;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || v < 0)
		return -ERANGE;
	double mul;
	if (!*end || !strcmp(end, "s"))
		mul = 1000;
	else if (!strcmp(end, "ms"))
		mul = 1;
	else if (!strcmp(end, "m"))
		mul = 60000;
	else if (!strcmp(end, "h"))
		mul = 3600000;
	else
		return -EINVAL;
	v *= mul;
	if (v > 1e15)
		return -ERANGE;
	*out = (uint64_t)(v + 0.5);
	return 0;
}

/* A decimal port of at least minport into out.  0, or -EINVAL with *why. */
static int parse_port(const char *port, unsigned long minport, char out[6], const char **why)
{
	unsigned long p = 0;

	for (const char *c = port; *c; c++) {
		if (!isdigit((unsigned char)*c)) {
			*why = "port is not a number";
			return -EINVAL;
		}
		if (p <= 65535)
			p = p * 10 + (unsigned long)(*c - '0');
	}
	if (p < minport || p > 65535) {
		*why = minport ? "port out of range (1-65535)" : "port out of range (0-65535)";
		return -EINVAL;
	}
	snprintf(out, 6, "%lu", p);
	return 0;
}

/* HOST:PORT or [V6]:PORT with a port of at least minport. */
static int hostport(const char *s, struct dest_spec *out, const char **why, unsigned long minport)
{
	const char *host, *port;
	size_t hostlen;

	*out = (struct dest_spec){ 0 };
	if (!*s) {
		*why = "empty (expected HOST:PORT)";
		return -EINVAL;
	}
	if (*s == '[') {
		const char *close = strchr(s, ']');
		if (!close) {
			*why = "missing ']' after IPv6 address";
			return -EINVAL;
		}
		host = s + 1;
		hostlen = (size_t)(close - host);
		if (close[1] != ':') {
			*why = "missing port (expected [IPV6]:PORT)";
			return -EINVAL;
		}
		port = close + 2;
	} else {
		const char *colon = strrchr(s, ':');
		if (!colon) {
			*why = "missing port (expected HOST:PORT)";
			return -EINVAL;
		}
		if (memchr(s, ':', (size_t)(colon - s))) {
			*why = "IPv6 addresses need brackets: [ADDRESS]:PORT";
			return -EINVAL;
		}
		host = s;
		hostlen = (size_t)(colon - s);
		port = colon + 1;
	}
	if (hostlen == 0) {
		*why = "missing host (expected HOST:PORT)";
		return -EINVAL;
	}
	if (!*port) {
		*why = "missing port (expected HOST:PORT)";
		return -EINVAL;
	}
	if (parse_port(port, minport, out->port, why) < 0)
		return -EINVAL;
	out->host = strndup(host, hostlen);
	out->text = strdup(s);
	if (!out->host || !out->text) {
		free(out->host);
		free(out->text);
		*why = strerror(ENOMEM);
		return -ENOMEM;
	}
	return 0;
}

int parse_dest(const char *s, struct dest_spec *out, const char **why)
{
	return hostport(strncmp(s, "tcp://", 6) ? s : s + 6, out, why, 1);
}

int parse_listen(const char *s, struct dest_spec *out, const char **why)
{
	if (*s && strspn(s, "0123456789") == strlen(s)) { /* PORT: every address */
		*out = (struct dest_spec){ 0 };
		if (parse_port(s, 0, out->port, why) < 0)
			return -EINVAL;
		if (!(out->text = strdup(s))) {
			*why = strerror(ENOMEM);
			return -ENOMEM;
		}
		return 0;
	}
	return hostport(s, out, why, 0);
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
			*why = out->family == AF_INET ? "prefix length must be 0-32" : "prefix length must be 0-128";
			return -EINVAL;
		}
		out->bits = (unsigned)bits;
	}
	return 0;
}

static uint64_t size_arg(const char *opt, const char *arg, uint64_t lo, uint64_t hi)
{
	uint64_t v;
	char a[32], b[32];

	if (parse_size(arg, &v) < 0)
		usage_error("%s '%s': not a size (use a number with K, M or G)", opt, arg);
	if (v < lo || v > hi)
		usage_error("%s '%s': must be between %s and %s", opt, arg,
			    fmt_bytes(lo, a, sizeof(a)), fmt_bytes(hi, b, sizeof(b)));
	return v;
}

static uint64_t duration_arg(const char *opt, const char *arg)
{
	uint64_t ms;

	if (parse_duration_ms(arg, &ms) < 0)
		usage_error("%s '%s': not a duration (like 10s, 500ms, 2m)", opt, arg);
	return ms;
}

static size_t count_arg(const char *opt, const char *arg, size_t lo, size_t hi)
{
	char *end;

	errno = 0;
	unsigned long long v = strtoull(arg, &end, 10);
	if (!isdigit((unsigned char)*arg) || *end)
		usage_error("%s '%s': not a number", opt, arg);
	if (errno || v < lo || v > hi)
		usage_error("%s '%s': must be between %zu and %zu", opt, arg, lo, hi);
	return (size_t)v;
}

static void push_dest(struct config *cfg, const struct dest_spec *d)
{
	static size_t cap;

	if (cfg->ndests == cap) {
		cap = cap ? 2 * cap : 16;
		struct dest_spec *n = realloc(cfg->dests, cap * sizeof(*n));
		if (!n)
			usage_error("%s", strerror(ENOMEM));
		cfg->dests = n;
	}
	cfg->dests[cfg->ndests++] = *d;
}

static void add_dest(struct config *cfg, const char *arg)
{
	struct dest_spec d;
	const char *why;

	if (parse_dest(arg, &d, &why) < 0)
		usage_error("destination '%s': %s", arg, why);
	push_dest(cfg, &d);
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
	return parse_dest(start, out, why) < 0 ? -EINVAL : 1;
}

/* --dests-from FILE ("-": standard input): one DEST a line. */
static void dests_from(struct config *cfg, const char *path)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
	char *line = NULL;
	size_t cap = 0;
	unsigned n = 0;

	if (!f)
		usage_error("--dests-from %s: %s", path, strerror(errno));
	while (getline(&line, &cap, f) >= 0) {
		struct dest_spec d;
		const char *why;
		int rc = parse_dest_line(line, &d, &why);

		n++;
		if (rc < 0)
			usage_error("--dests-from %s: line %u: destination '%s': %s", path, n,
				    line + strspn(line, " \t"), why);
		if (rc > 0)
			push_dest(cfg, &d);
	}
	if (ferror(f))
		usage_error("--dests-from %s: %s", path, strerror(errno));
	free(line);
	if (f != stdin)
		fclose(f);
}

static int by_address(const void *a, const void *b)
{
	const struct dest_spec *x = *(struct dest_spec *const *)a, *y = *(struct dest_spec *const *)b;
	int c = strcasecmp(x->host, y->host);

	return c ? c : strcmp(x->port, y->port);
}

/* The same destination twice is allowed (it gets the stream twice), but
 * is most likely a mistake in a long list: say so. */
static void warn_duplicates(const struct config *cfg)
{
	const struct dest_spec **v = malloc(cfg->ndests * sizeof(*v));

	if (!v)
		return;
	for (size_t i = 0; i < cfg->ndests; i++)
		v[i] = &cfg->dests[i];
	qsort(v, cfg->ndests, sizeof(*v), by_address);
	for (size_t i = 0, j; i < cfg->ndests; i = j) {
		for (j = i + 1; j < cfg->ndests && by_address(&v[i], &v[j]) == 0; j++)
			;
		if (j - i > 1)
			warnmsg("destination %s is given %zu times; it will get the stream %zu times",
				v[i]->text, j - i, j - i);
	}
	free(v);
}

/* What is left of the command line in serve mode: the blobs. */
static void serve_args(struct config *cfg, int input_given, int n, const char **args)
{
	if (input_given || cfg->ndests)
		usage_error("--serve takes BLOB... (not -i or -o)");
	if (!cfg->have_listen)
		usage_error("--serve needs -l [HOST:]PORT");
	if (n == 0)
		usage_error("--serve needs at least one BLOB");
	cfg->blobs = args;
	cfg->nblobs = (size_t)n;
}

void cli_parse(struct config *cfg, int argc, char **argv)
{
	int c;
	long page = sysconf(_SC_PAGESIZE);

	*cfg = (struct config){
		.input = "-",
		.ring_size = DEFAULT_RING,
		.chunk = DEFAULT_CHUNK,
		.mlock = MLOCK_AUTO,
		.transport = TX_AUTO,
		.family = AF_UNSPEC,
		.grace_ms = 10000,
		.stall_ms = 60000,
		.connect_ms = 10000,
		.progress = -1,
		.size = -1,
		.max_clients = 10000,
		.max_header = 8192,
		.header_timeout_ms = 10000,
		.idle_timeout_ms = 60000,
	};
	int min_given = 0, dests_from_stdin = 0;
	const char *sub_opt = NULL; /* a subscribe mode option given */

	opterr = 0; /* our own messages: getopt's would name argv[0] as typed */
	int input_given = 0;
	while ((c = getopt_long(argc, argv, ":46hH:i:j:l:o:Pqs:u:vVz", longopts, NULL)) != -1) {
		switch (c) {
		case 'i':
			cfg->input = optarg;
			input_given = 1;
			break;
		case 'o':
			add_dest(cfg, optarg);
			break;
		case OPT_DESTS_FROM:
			dests_from(cfg, optarg);
			dests_from_stdin |= !strcmp(optarg, "-");
			break;
		case 'P':
			cfg->progress = 1;
			break;
		case 'j':
			cfg->threads = count_arg("-j", optarg, 1, 1024);
			break;
		case OPT_STATS:
			cfg->stats_path = optarg;
			break;
		case 'l': {
			const char *why;
			if (cfg->have_listen)
				usage_error("-l given twice");
			if (parse_listen(optarg, &cfg->listen, &why) < 0)
				usage_error("-l '%s': %s", optarg, why);
			cfg->have_listen = 1;
			break;
		}
		case 'H': {
			const char **n = realloc(cfg->headers, (cfg->nheaders + 1) * sizeof(*n));
			if (!n)
				usage_error("%s", strerror(ENOMEM));
			cfg->headers = n;
			if (!strchr(optarg, ':'))
				usage_error("-H '%s': expected NAME: VALUE", optarg);
			cfg->headers[cfg->nheaders++] = optarg;
			break;
		}
		case 'u':
			cfg->user = optarg;
			break;
		case OPT_NETRC:
			cfg->netrc = 1;
			break;
		case OPT_EXTRACT:
			cfg->extract = optarg;
			break;
		case 'z':
			cfg->decompress = 1;
			break;
		case OPT_STALL_TIMEOUT:
			cfg->stall_ms = duration_arg("--stall-timeout", optarg);
			break;
		case OPT_ALLOW: {
			const char *why;
			struct cidr *n = realloc(cfg->allow, (cfg->nallow + 1) * sizeof(*n));
			if (!n)
				usage_error("%s", strerror(ENOMEM));
			cfg->allow = n;
			if (parse_cidr(optarg, &cfg->allow[cfg->nallow], &why) < 0)
				usage_error("--allow '%s': %s", optarg, why);
			cfg->nallow++;
			break;
		}
		case OPT_SLOW:
			if (!strcmp(optarg, "block") || !strcmp(optarg, "drop"))
				cfg->slow_drop = optarg[0] == 'd';
			else
				usage_error("--slow '%s': expected block or drop", optarg);
			break;
		case OPT_MAX_LAG:
			cfg->max_lag = size_arg("--max-lag", optarg, 4096, MAX_RING);
			break;
		case OPT_RETRY:
			cfg->retries = (unsigned)count_arg("--retry", optarg, 0, 1000);
			break;
		case OPT_CONNECT_TIMEOUT:
			cfg->connect_ms = duration_arg("--connect-timeout", optarg);
			break;
		case OPT_MIN_SUBSCRIBERS:
			sub_opt = "--min-subscribers";
			cfg->min_subscribers = count_arg("--min-subscribers", optarg, 0, 1000000);
			min_given = 1;
			break;
		case OPT_MAX_SUBSCRIBERS:
			sub_opt = "--max-subscribers";
			cfg->max_subscribers = count_arg("--max-subscribers", optarg, 1, 1000000);
			break;
		case OPT_WAIT_TIMEOUT:
			sub_opt = "--wait-timeout";
			cfg->wait_timeout_ms = duration_arg("--wait-timeout", optarg);
			break;
		case OPT_JOIN:
			sub_opt = "--join";
			if (!strcmp(optarg, "start"))
				cfg->join = JOIN_START;
			else if (!strcmp(optarg, "live"))
				cfg->join = JOIN_LIVE;
			else if (!strcmp(optarg, "oldest"))
				cfg->join = JOIN_OLDEST;
			else
				usage_error("--join '%s': expected start, live or oldest", optarg);
			break;
		case OPT_RATE:
			cfg->rate = size_arg("--rate", optarg, 1, MAX_RING);
			break;
		case 's':
			cfg->size = (int64_t)size_arg("-s", optarg, 0, INT64_MAX);
			break;
		case OPT_SERVE:
			cfg->serve = 1;
			break;
		case OPT_HTTP:
			cfg->http = 1;
			break;
		case OPT_UNPACK:
			cfg->unpack = 1;
			break;
		case OPT_MAX_CLIENTS:
			cfg->max_clients = count_arg("--max-clients", optarg, 1, 1000000);
			break;
		case OPT_MAX_HEADER:
			cfg->max_header = size_arg("--max-header", optarg, 256, 1 << 20);
			break;
		case OPT_HEADER_TIMEOUT:
			cfg->header_timeout_ms = duration_arg("--header-timeout", optarg);
			break;
		case OPT_IDLE_TIMEOUT:
			cfg->idle_timeout_ms = duration_arg("--idle-timeout", optarg);
			break;
		case OPT_RING_SIZE:
			cfg->ring_size = size_arg("--ring-size", optarg, MIN_RING, MAX_RING);
			cfg->ring_given = 1;
			break;
		case OPT_CHUNK:
			cfg->chunk = size_arg("--chunk", optarg, 1, 1u << 30);
			cfg->chunk_given = 1;
			break;
		case OPT_MLOCK:
			if (!strcmp(optarg, "auto"))
				cfg->mlock = MLOCK_AUTO;
			else if (!strcmp(optarg, "on"))
				cfg->mlock = MLOCK_ON;
			else if (!strcmp(optarg, "off"))
				cfg->mlock = MLOCK_OFF;
			else
				usage_error("--mlock '%s': expected auto, on or off", optarg);
			break;
		case OPT_TRANSPORT: {
			int k = tx_kind_parse(optarg);
			if (k < 0)
				usage_error("--transport '%s': expected auto, uring, msgzc, sendfile or copy", optarg);
			cfg->transport = (enum tx_kind)k;
			break;
		}
		case '4':
		case '6': {
			int fam = c == '4' ? AF_INET : AF_INET6;
			if (cfg->family != AF_UNSPEC && cfg->family != fam)
				usage_error("-4 and -6 contradict each other");
			cfg->family = fam;
			break;
		}
		case OPT_GRACE:
			cfg->grace_ms = duration_arg("--grace", optarg);
			break;
		case 'v':
			cfg->verbose++;
			break;
		case 'q':
			cfg->quiet = 1;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case 'V':
			version();
		case ':':
			usage_error("option '%s' needs an argument", argv[optind - 1]);
		default:
			if (optopt)
				usage_error("unknown option '-%c'", optopt);
			usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (cfg->quiet && cfg->verbose)
		usage_error("-q and -v contradict each other");
	if (cfg->quiet && cfg->progress == 1)
		usage_error("-q and -P contradict each other");
	log_level = cfg->quiet ? -1 : cfg->verbose;
	if (cfg->extract && cfg->decompress)
		usage_error("--extract already decodes compressed archives; drop -z");
	if (cfg->nallow && !cfg->have_listen)
		usage_error("--allow restricts who may connect to -l; there is no -l");
	if (sub_opt && (cfg->serve || !cfg->have_listen))
		usage_error("%s is for subscribers: it needs -l [HOST:]PORT without --serve", sub_opt);
	if (cfg->serve) {
		if (cfg->threads)
			usage_error("-j is for streams: serve mode runs one thread");
		if (cfg->stats_path || cfg->progress == 1)
			usage_error("%s is for streams: serve mode prints its statistics at exit and on SIGUSR1",
				    cfg->stats_path ? "--stats" : "-P");
		serve_args(cfg, input_given, argc - optind, (const char **)argv + optind);
		return;
	}
	if (cfg->http)
		usage_error("--http needs --serve");
	if (cfg->unpack)
		usage_error("--unpack needs --serve");
	for (int i = optind; i < argc; i++)
		add_dest(cfg, argv[i]);
	if (cfg->progress < 0)
		cfg->progress = !cfg->quiet && isatty(STDERR_FILENO);
	if (dests_from_stdin && !strcmp(cfg->input, "-"))
		usage_error("--dests-from - and the source both read standard input; give the source with -i");
	warn_duplicates(cfg);
	if (cfg->ndests == 0 && !cfg->have_listen)
		usage_error("no destination given (expected DEST..., -o DEST or -l [HOST:]PORT)");
	if (!min_given)
		cfg->min_subscribers = cfg->ndests ? 0 : 1;
	if (cfg->max_subscribers && cfg->min_subscribers > cfg->max_subscribers)
		usage_error("--min-subscribers %zu is more than --max-subscribers %zu",
			    cfg->min_subscribers, cfg->max_subscribers);
	if (cfg->max_lag && !cfg->slow_drop)
		usage_error("--max-lag only applies with --slow drop");
	cfg->ring_size = (cfg->ring_size + (size_t)page - 1) / (size_t)page * (size_t)page;
	uint64_t phys = (uint64_t)sysconf(_SC_PHYS_PAGES) * (uint64_t)page;
	if (cfg->ring_size > phys / 2) {
		char a[32];
		usage_error("--ring-size: more than half of this machine's memory (%s)",
			    fmt_bytes(phys, a, sizeof(a)));
	}
	/* The default chunk is a quarter of a small ring, so that the source
	 * can fill one part while the destinations send the others. */
	if (!cfg->chunk_given)
		cfg->chunk = MIN(cfg->chunk, cfg->ring_size / 4);
	else if (cfg->chunk > cfg->ring_size)
		usage_error("--chunk must not exceed --ring-size");
	if (cfg->max_lag > cfg->ring_size)
		usage_error("--max-lag must not exceed --ring-size: no destination can fall further "
			    "behind than the ring holds");
}

int cli_fit_ring(struct config *cfg, uint64_t size)
{
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
	uint64_t want = MAX(MAX(size + 1, (uint64_t)MIN_RING), cfg->max_lag);

	if (cfg->chunk_given)
		want = MAX(want, cfg->chunk);
	want = (want + page - 1) / page * page;
	if (cfg->ring_given || want >= cfg->ring_size)
		return 0;
	cfg->ring_size = (size_t)want;
	if (!cfg->chunk_given)
		cfg->chunk = MIN(cfg->chunk, cfg->ring_size / 4);
	return 1;
}

void cli_source_opts(const struct config *cfg, struct source_opts *o)
{
	*o = (struct source_opts){
		.headers = cfg->headers,
		.nheaders = cfg->nheaders,
		.user = cfg->user,
		.netrc = cfg->netrc,
		.extract = cfg->extract,
		.decompress = cfg->decompress,
	};
}

void cli_free(struct config *cfg)
{
	free(cfg->headers);
	free(cfg->allow);
	free(cfg->listen.host);
	free(cfg->listen.text);
	for (size_t i = 0; i < cfg->ndests; i++) {
		free(cfg->dests[i].host);
		free(cfg->dests[i].text);
	}
	free(cfg->dests);
	cfg->dests = NULL;
	cfg->ndests = 0;
}
