#include "cli.h"
#include "src.h"
#include "text.h"
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
	      "  -o, --output DEST      a destination: HOST:PORT, [IPv6]:PORT or tcp://HOST:PORT\n"
	      "                         (repeatable; positional DESTs work the same)\n"
	      "      --dests-from FILE  one DEST per line (# comments; -: standard input)\n"
	      "      --ring-size SIZE   ring size, like 16M or 1.5G: K, M, G, T (default 64M)\n"
	      "      --chunk SIZE       largest single send (default 256K)\n"
	      "      --mlock MODE       auto, on or off: lock the ring in memory (default auto)\n"
	      "      --transport NAME   auto, uring, msgzc, sendfile or copy (default auto)\n"
	      "  -4, --ipv4             IPv4 only, for every address: DESTs, -l, and tcp://,\n"
	      "                         tcp-listen:// and URL sources\n"
	      "  -6, --ipv6             IPv6 only, likewise\n"
	      "      --grace DURATION   after SIGINT/SIGTERM, drain for this long, like 10s,\n"
	      "                         1.5m or 500ms (default 10s; 0: reset at once)\n"
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
	      "      --rate RATE        read the source at most RATE bytes/s, like 1.5M (pv -L)\n"
	      "  -s, --size SIZE        the stream's expected size, for -P's percentage and\n"
	      "                         ETA when the source cannot tell (a pipe; like pv -s)\n"
	      "      --serve            serve BLOBs to clients instead of pushing a stream\n"
	      "  -l, --listen [HOST:]PORT  take subscribers (or --serve clients) there (PORT\n"
	      "                         or :PORT: every address; 0: a free port); the\n"
	      "                         address is printed on stderr\n"
	      "      --min-subscribers N  hold the source until N subscribers are connected\n"
	      "                         (default 1; 0 when DESTs are given too)\n"
	      "      --max-subscribers N  turn away subscribers beyond N (default: no limit)\n"
	      "      --wait-timeout DURATION  wait this long for --min-subscribers, then\n"
	      "                         start with those connected (default and 0: for ever)\n"
	      "      --join WHERE       where a late subscriber starts: start (byte 0, or\n"
	      "                         refused once the ring lost it; the default), live\n"
	      "                         (at the head) or oldest (the oldest byte in the ring)\n"
	      "      --allow CIDR       only peers in this block may connect to -l; others\n"
	      "                         are reset (repeatable; default: anyone)\n"
	      "      --http             speak HTTP/1.1 (GET, HEAD, ranges); default raw TCP:\n"
	      "                         each client gets the one BLOB, then the end\n"
	      "      --unpack           serve each regular member of archive BLOBs as a blob\n"
	      "                         named by its path inside the archive\n"
	      "      --max-clients N    clients at once (default 10000); at the limit the one\n"
	      "                         idle longest makes room, else the rest wait\n"
	      "      --max-header SIZE  largest HTTP request head (default 8K; larger: 431)\n"
	      "      --header-timeout DURATION  close clients that take longer to send a\n"
	      "                         request head (default 10s; 0: never)\n"
	      "      --idle-timeout DURATION  close idle keep-alive connections and stalled\n"
	      "                         readers (default 60s; 0: never)\n"
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
	char line[512], shown[4 * sizeof(line)];

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* Escaped as every message is (util.c): a --dests-from line is a file's. */
	fprintf(stderr, "ringcast: %s\nTry 'ringcast --help' for more information.\n",
		text_escape(line, shown, sizeof(shown)));
	exit(2);
}

/* The modes a run is in, for option_modes. */
enum {
	M_PUSH = 1, /* a stream, without -l: DESTs only */
	M_SUB = 2,  /* a stream with -l: subscribers, and DESTs if given */
	M_RAW = 4,  /* --serve without --http */
	M_HTTP = 8, /* --serve --http */
	M_STREAM = M_PUSH | M_SUB,
	M_SERVE = M_RAW | M_HTTP,
	M_ANY = M_STREAM | M_SERVE,
};

#define FOR_STREAMS "is for streams: --serve does not use it"
#define TO_CLIENTS "is for streams: --serve sends only to clients that connect to -l"
#define LOADS_WHOLE "is for streams: --serve loads each BLOB as it is (see --unpack)"
#define SERVE_STATS "is for streams: serve mode prints its statistics at exit and on SIGUSR1"
#define FOR_SUBSCRIBERS "is for subscribers: it needs -l [HOST:]PORT without --serve"

/* Which modes take each option of longopts (issue 16): one given in any
 * other mode means nothing there, and is a usage error with the message
 * that follows the option's name.  Every option has a line here, one a line
 * (tests/errors.bats reads them to try each in every other mode). */
static const struct option_mode {
	const char *name; /* as in longopts */
	unsigned modes;
	const char *wrong;
} option_modes[] = {
	{ "input", M_STREAM, "is for streams: --serve takes BLOB... instead" },
	{ "output", M_STREAM, TO_CLIENTS },
	{ "dests-from", M_STREAM, TO_CLIENTS },
	{ "ring-size", M_STREAM, FOR_STREAMS },
	{ "chunk", M_STREAM, FOR_STREAMS },
	{ "mlock", M_STREAM, FOR_STREAMS },
	{ "transport", M_STREAM, "is for streams: --serve always sends with sendfile" },
	{ "ipv4", M_ANY, NULL },
	{ "ipv6", M_ANY, NULL },
	{ "grace", M_ANY, NULL },
	{ "stall-timeout", M_STREAM, "is for streams: --serve uses --idle-timeout" },
	{ "slow", M_STREAM, FOR_STREAMS },
	{ "max-lag", M_STREAM, FOR_STREAMS },
	{ "retry", M_STREAM, FOR_STREAMS },
	{ "connect-timeout", M_STREAM, FOR_STREAMS },
	{ "threads", M_STREAM, "is for streams: serve mode runs one thread" },
	{ "rate", M_STREAM, FOR_STREAMS },
	{ "header", M_ANY, NULL },
	{ "user", M_ANY, NULL },
	{ "netrc", M_ANY, NULL },
	{ "extract", M_STREAM, LOADS_WHOLE },
	{ "decompress", M_STREAM, LOADS_WHOLE },
	{ "serve", M_ANY, NULL },
	{ "listen", M_ANY, NULL },
	{ "min-subscribers", M_SUB, FOR_SUBSCRIBERS },
	{ "max-subscribers", M_SUB, FOR_SUBSCRIBERS },
	{ "wait-timeout", M_SUB, FOR_SUBSCRIBERS },
	{ "join", M_SUB, FOR_SUBSCRIBERS },
	{ "allow", M_SUB | M_SERVE, "restricts who may connect to -l; there is no -l" },
	{ "http", M_SERVE, "needs --serve" },
	{ "unpack", M_SERVE, "needs --serve" },
	{ "max-clients", M_SERVE, "needs --serve (subscribers: --max-subscribers)" },
	{ "max-header", M_HTTP, "needs --serve --http" },
	{ "header-timeout", M_HTTP, "needs --serve --http" },
	{ "idle-timeout", M_SERVE, "needs --serve (streams: --stall-timeout)" },
	{ "size", M_STREAM, FOR_STREAMS },
	{ "progress", M_STREAM, SERVE_STATS },
	{ "stats", M_STREAM, SERVE_STATS },
	{ "verbose", M_ANY, NULL },
	{ "quiet", M_ANY, NULL },
	{ "help", M_ANY, NULL },
	{ "version", M_ANY, NULL },
};

#define NOPTS (sizeof(longopts) / sizeof(longopts[0]) - 1)

/* The index in longopts of the option getopt_long returned as val, or -1. */
static int opt_index(int val)
{
	for (size_t i = 0; i < NOPTS; i++)
		if (longopts[i].val == val)
			return (int)i;
	return -1;
}

/* longopts[k] as messages name it, "-j" or "--slow", in buf. */
static const char *opt_label(size_t k, char *buf, size_t len)
{
	if (longopts[k].val < 256)
		snprintf(buf, len, "-%c", longopts[k].val);
	else
		snprintf(buf, len, "--%s", longopts[k].name);
	return buf;
}

/* If the option of longopts named name was given (seen, by longopts
 * index), refuse it (exit 2): its label, then why. */
static void refuse_given(const unsigned char *seen, const char *name, const char *why)
{
	char label[32];

	for (size_t k = 0; k < NOPTS; k++)
		if (seen[k] && !strcmp(longopts[k].name, name))
			usage_error("%s %s", opt_label(k, label, sizeof(label)), why);
}

/* Refuse (exit 2) the first option of option_modes that was given (seen,
 * by longopts index) but means nothing in mode. */
static void check_modes(const unsigned char *seen, unsigned mode)
{
	for (size_t i = 0; i < sizeof(option_modes) / sizeof(option_modes[0]); i++)
		if (!(option_modes[i].modes & mode))
			refuse_given(seen, option_modes[i].name, option_modes[i].wrong);
}

#define FOR_DESTS "is for DESTs, and none is given: subscribers connect by themselves"

/* Refuse (exit 2), as check_modes does, an option that the mode takes but
 * that the other options, the SOURCE or the BLOBs leave nothing to do. */
static void check_needs(const unsigned char *seen, const struct config *cfg)
{
	char not_url[200];
	int url = 0;

	if (cfg->serve) {
		for (size_t i = 0; i < cfg->nblobs; i++)
			url |= src_curl_is_url(cfg->blobs[i]);
		snprintf(not_url, sizeof(not_url), "is for URL BLOBs, and no BLOB is a URL");
	} else {
		url = src_curl_is_url(cfg->input);
		snprintf(not_url, sizeof(not_url), "is for a URL source, and the source (%.100s) is not one",
			 strcmp(cfg->input, "-") ? cfg->input : "standard input");
	}
	const struct {
		const char *name;
		int met;
		const char *wrong;
	} need[] = {
		{ "header", url, not_url },
		{ "user", url, not_url },
		{ "netrc", url, not_url },
		{ "max-lag", cfg->slow_drop, "only applies with --slow drop" },
		{ "retry", cfg->ndests > 0, FOR_DESTS },
		{ "connect-timeout", cfg->ndests > 0, FOR_DESTS },
		/* fanout.c's thread_count; subscribers are the main thread's */
		{ "threads", cfg->ndests > 0, "shares the DESTs out among sending threads, and none "
					       "is given: subscribers are sent to by the main thread" },
		{ "wait-timeout", cfg->min_subscribers > 0, "has nothing to wait for with "
			"--min-subscribers 0 (the default when DESTs are given)" },
	};
	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++)
		if (!need[i].met)
			refuse_given(seen, need[i].name, need[i].wrong);
}

/* The ring as the user asked for it (arg, or NULL for the default) and
 * what it came to (ring bytes, rounded up to pages from asked), for messages. */
static const char *ring_given(char *buf, size_t len, const char *arg, uint64_t asked, size_t ring)
{
	if (!arg)
		snprintf(buf, len, "the default --ring-size (%zu bytes)", ring);
	else if (asked != ring)
		snprintf(buf, len, "--ring-size %s (%zu bytes, rounded up to whole pages)", arg, ring);
	else
		snprintf(buf, len, "--ring-size %s (%zu bytes)", arg, ring);
	return buf;
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


static uint64_t size_arg(const char *opt, const char *arg, uint64_t lo, uint64_t hi)
{
	uint64_t v;
	char a[32], b[32];

	int rc = parse_size(arg, &v);

	if (rc == -EINVAL)
		usage_error("%s '%s': not a size (a number of bytes, optionally with K, M, G or T "
			    "for powers of 1024: 4096, 64M, 1.5G)", opt, arg);
	if (rc == -EOVERFLOW)
		usage_error("%s '%s': too many decimals (at most 19)", opt, arg);
	if (rc == -EDOM)
		usage_error("%s '%s': not a whole number of bytes (a fraction needs K, M, G or T)", opt, arg);
	if (rc == -ERANGE || v < lo || v > hi)
		usage_error("%s '%s': must be between %s and %s", opt, arg,
			    fmt_bytes(lo, a, sizeof(a)), fmt_bytes(hi, b, sizeof(b)));
	return v;
}

/* A duration option's value in ms.  What 0 means is the option's: for the
 * --*-timeout options, no timeout; for --grace, none at all. */
static uint64_t duration_arg(const char *opt, const char *arg)
{
	uint64_t ms;

	int rc = parse_duration_ms(arg, &ms);

	if (rc == -ERANGE)
		usage_error("%s '%s': too long (at most %llu s)", opt, arg, MAX_DURATION_MS / 1000);
	if (rc == -EDOM) /* else it would turn into 0, which means something else */
		usage_error("%s '%s': rounds to 0 ms; the smallest is 1ms", opt, arg);
	if (rc == -EOVERFLOW)
		usage_error("%s '%s': too many decimals (at most 19)", opt, arg);
	if (rc < 0)
		usage_error("%s '%s': not a duration (like 10s, 1.5s, 500ms, 2m)", opt, arg);
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
static void serve_args(struct config *cfg, int n, const char **args)
{
	if (!cfg->have_listen)
		usage_error("--serve needs -l [HOST:]PORT");
	if (n == 0)
		usage_error("--serve needs at least one BLOB");
	if (n > 1 && !cfg->http)
		usage_error("--serve without --http sends each client the first BLOB only, and %d "
			    "are given: add --http to serve each by its name", n);
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
	const char *ring_arg = NULL, *chunk_arg = NULL, *lag_arg = NULL; /* as given */
	uint64_t ring_asked = DEFAULT_RING;
	unsigned char seen[NOPTS] = { 0 }; /* by longopts index: given */

	opterr = 0; /* our own messages: getopt's would name argv[0] as typed */
	while ((c = getopt_long(argc, argv, ":46hH:i:j:l:o:Pqs:u:vVz", longopts, NULL)) != -1) {
		int given = opt_index(c);
		char label[32];

		/* Where a second one is most likely a mistake (which source? which
		 * address?); other options take the last value given. */
		if (given >= 0 && seen[given] && (c == 'i' || c == 'l' || c == OPT_STATS))
			usage_error("%s given twice", opt_label((size_t)given, label, sizeof(label)));
		if (given >= 0)
			seen[given] = 1;
		switch (c) {
		case 'i':
			cfg->input = optarg;
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
			lag_arg = optarg;
			break;
		case OPT_RETRY:
			cfg->retries = (unsigned)count_arg("--retry", optarg, 0, 1000);
			break;
		case OPT_CONNECT_TIMEOUT:
			cfg->connect_ms = duration_arg("--connect-timeout", optarg);
			break;
		case OPT_MIN_SUBSCRIBERS:
			cfg->min_subscribers = count_arg("--min-subscribers", optarg, 0, 1000000);
			min_given = 1;
			break;
		case OPT_MAX_SUBSCRIBERS:
			cfg->max_subscribers = count_arg("--max-subscribers", optarg, 1, 1000000);
			break;
		case OPT_WAIT_TIMEOUT:
			cfg->wait_timeout_ms = duration_arg("--wait-timeout", optarg);
			break;
		case OPT_JOIN:
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
			if (!cfg->header_timeout_ms)
				cfg->header_timeout_ms = MAX_DURATION_MS; /* 0: never */
			break;
		case OPT_IDLE_TIMEOUT:
			cfg->idle_timeout_ms = duration_arg("--idle-timeout", optarg);
			if (!cfg->idle_timeout_ms)
				cfg->idle_timeout_ms = MAX_DURATION_MS; /* 0: never */
			break;
		case OPT_RING_SIZE:
			cfg->ring_size = ring_asked = size_arg("--ring-size", optarg, MIN_RING, MAX_RING);
			ring_arg = optarg;
			cfg->ring_given = 1;
			break;
		case OPT_CHUNK:
			cfg->chunk = size_arg("--chunk", optarg, 1, 1u << 30);
			chunk_arg = optarg;
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
	unsigned mode = cfg->serve ? (cfg->http ? M_HTTP : M_RAW) : cfg->have_listen ? M_SUB : M_PUSH;
	check_modes(seen, mode);
	if (cfg->quiet && cfg->verbose)
		usage_error("-q and -v contradict each other");
	if (cfg->quiet && cfg->progress == 1)
		usage_error("-q and -P contradict each other");
	log_level = cfg->quiet ? -1 : cfg->verbose;
	if (cfg->extract && cfg->decompress)
		usage_error("--extract already decodes compressed archives; drop -z");
	if (cfg->serve) {
		serve_args(cfg, argc - optind, (const char **)argv + optind);
		check_needs(seen, cfg);
		return;
	}
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
	check_needs(seen, cfg);
	cfg->ring_size = (cfg->ring_size + (size_t)page - 1) / (size_t)page * (size_t)page;
	uint64_t phys = (uint64_t)sysconf(_SC_PHYS_PAGES) * (uint64_t)page;
	char ring[128], a[32];
	ring_given(ring, sizeof(ring), ring_arg, ring_asked, cfg->ring_size);
	if (cfg->ring_size > phys / 2)
		usage_error("%s is more than half of this machine's memory (%s)", ring,
			    fmt_bytes(phys, a, sizeof(a)));
	/* The default chunk is a quarter of a small ring, so that the source
	 * can fill one part while the destinations send the others. */
	if (!chunk_arg)
		cfg->chunk = MIN(cfg->chunk, cfg->ring_size / 4);
	else if (cfg->chunk > cfg->ring_size)
		usage_error("--chunk %s (%zu bytes) exceeds %s", chunk_arg, cfg->chunk, ring);
	if (cfg->max_lag > cfg->ring_size)
		usage_error("--max-lag %s (%llu bytes) exceeds %s: no destination can fall further "
			    "behind than the ring holds", lag_arg, (unsigned long long)cfg->max_lag, ring);
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
		.family = cfg->family,
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

