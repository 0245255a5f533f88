/* The command line: cli.h's table of options expanded into the getopt_long
 * table, --help and the parsing into struct config, and the checks that
 * options and modes agree.  Usage errors print here and exit 2. */
#include "cli.h"
#include "digest.h"
#include "src.h"
#include "text.h"
#include "util.h"

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

#define DEFAULT_RING  (64u << 20)
#define DEFAULT_CHUNK (256u << 10)

/* OPT_INPUT, OPT_HEADER, ...: an option's index in opts and longopts. */
#define OPT_ID(id, ...) OPT_##id,
enum {
	RINGCAST_OPTIONS(OPT_ID) NOPTS
};

/* getopt_long's val: the short letter, or past every letter. */
#define OPT_VAL(id, letter) ((letter) ? (letter) : 256 + OPT_##id)
#define OPT_HAS_ARG(kind)   ((kind) == K_FLAG || (kind) == K_NOARG ? no_argument : required_argument)

#define F(member) offsetof(struct config, member), sizeof(((struct config *)0)->member)
#define NOFIELD   0, 0

/* Tables filled from RINGCAST_OPTIONS, laid out by hand. */
/* clang-format off */
static const struct opt {
	const char *name;
	int val; /* as getopt_long returns it */
	enum opt_kind kind;
	size_t off, width; /* the field in struct config; width 0: none */
	uint64_t lo, hi;
	unsigned modes;
	const char *wrong;
	const char *help;
} opts[] = {
#define OPT_ROW(id, letter, name, kind, field, lo, hi, modes, wrong, help) \
	{ name, OPT_VAL(id, letter), kind, field, lo, hi, modes, wrong, help },
	RINGCAST_OPTIONS(OPT_ROW)
};

static const struct option longopts[] = {
#define OPT_LONG(id, letter, name, kind, ...) { name, OPT_HAS_ARG(kind), NULL, OPT_VAL(id, letter) },
	RINGCAST_OPTIONS(OPT_LONG)
	{ NULL, 0, NULL, 0 },
};
/* clang-format on */

/* The order check_modes refuses in. */
static const unsigned char check_order[] = { RINGCAST_OPTIONS_CHECKED(OPT_ID) };
_Static_assert(sizeof(check_order) == NOPTS, "RINGCAST_OPTIONS_CHECKED has every group");

/* What cli_parse keeps about argv while it reads it. */
struct given {
	unsigned char seen[NOPTS]; /* by option index */
	const char *arg[NOPTS];    /* the last argument given, for messages */
	int dests_from_stdin;      /* --dests-from - */
};

static void usage(FILE *f)
{
	fputs(RINGCAST_USAGE, f);
	for (size_t k = 0; k < NOPTS; k++)
		fputs(opts[k].help, f);
	fputs(RINGCAST_USAGE_END, f);
}

void cli_usage_error(const char *fmt, ...)
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

/* getopt_long's short options: ':' (report a missing argument as such),
 * then each letter, with ':' after one that takes an argument. */
static const char *short_options(void)
{
	static char s[2 + 2 * NOPTS];
	size_t n = 0;

	s[n++] = ':';
	for (size_t k = 0; k < NOPTS; k++) {
		if (opts[k].val >= 256)
			continue;
		s[n++] = (char)opts[k].val;
		if (longopts[k].has_arg)
			s[n++] = ':';
	}
	s[n] = '\0';
	return s;
}

/* The index in opts of the option getopt_long returned as val, or -1. */
static int opt_index(int val)
{
	for (size_t i = 0; i < NOPTS; i++)
		if (opts[i].val == val)
			return (int)i;
	return -1;
}

/* opts[k] as messages name it, "-j" or "--slow", in buf. */
static const char *opt_label(size_t k, char *buf, size_t len)
{
	if (opts[k].val < 256)
		snprintf(buf, len, "-%c", opts[k].val);
	else
		snprintf(buf, len, "--%s", opts[k].name);
	return buf;
}

/* If option k was given, refuse it (exit 2): its label, then why. */
static void refuse_given(const struct given *g, size_t k, const char *why)
{
	char label[32];

	if (g->seen[k])
		cli_usage_error("%s %s", opt_label(k, label, sizeof(label)), why);
}

/* Refuse (exit 2) the first option, in check_order, that was given but
 * means nothing in mode (its row's MODES). */
static void check_modes(const struct given *g, unsigned mode)
{
	for (size_t i = 0; i < NOPTS; i++)
		if (!(opts[check_order[i]].modes & mode))
			refuse_given(g, check_order[i], opts[check_order[i]].wrong);
}

#define FOR_DESTS "is for DESTs, and none is given: subscribers connect by themselves"

/* Refuse (exit 2), as check_modes does, an option that the mode takes but
 * that the other options, the SOURCE or the BLOBs leave nothing to do. */
static void check_needs(const struct given *g, const struct config *cfg)
{
	char not_url[200];
	int url = 0,
	    listening = !strncasecmp(cfg->input, "tcp-listen://", 13) ||
		!strncasecmp(cfg->input, "ringcast-listen://", 18);

	if (cfg->serve) {
		for (size_t i = 0; i < cfg->nblobs; i++)
			url |= src_curl_is_url(cfg->blobs[i]);
		snprintf(not_url, sizeof(not_url), "is for URL BLOBs, and no BLOB is a URL");
	} else {
		url = src_curl_is_url(cfg->input);
		snprintf(not_url, sizeof(not_url),
			 "is for a URL source, and the source (%.100s) is not one",
			 strcmp(cfg->input, "-") ? cfg->input : "standard input");
	}
	const struct {
		size_t opt;
		int met;
		const char *wrong;
	} need[] = {
		{ OPT_HEADER, url, not_url },
		{ OPT_USER, url, not_url },
		{ OPT_NETRC, url, not_url },
		{ OPT_MAX_LAG, cfg->slow_drop, "only applies with --slow drop" },
		{ OPT_RETRY, cfg->ndests > 0, FOR_DESTS },
		{ OPT_CONNECT_TIMEOUT, cfg->ndests > 0, FOR_DESTS },
		/* fanout.c's thread_count; subscribers are the main thread's */
		{ OPT_THREADS, cfg->ndests > 0,
		  "shares the DESTs out among sending threads, and none "
		  "is given: subscribers are sent to by the main thread" },
		{ OPT_ALLOW, cfg->serve || cfg->have_listen || listening,
		  "restricts who may connect to -l or to a listening SOURCE "
		  "(tcp-listen://, ringcast-listen://); there is neither" },
		{ OPT_WAIT_TIMEOUT, cfg->min_subscribers > 0,
		  "has nothing to wait for with "
		  "--min-subscribers 0 (the default when DESTs are given)" },
	};
	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++)
		if (!need[i].met)
			refuse_given(g, need[i].opt, need[i].wrong);
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
		cli_usage_error(
			"%s '%s': not a size (a number of bytes, optionally with K, M, G or T "
			"for powers of 1024: 4096, 64M, 1.5G)",
			opt, arg);
	if (rc == -EOVERFLOW)
		cli_usage_error("%s '%s': too many decimals (at most 19)", opt, arg);
	if (rc == -EDOM)
		cli_usage_error(
			"%s '%s': not a whole number of bytes (a fraction needs K, M, G or T)", opt,
			arg);
	if (rc == -ERANGE || v < lo || v > hi)
		cli_usage_error("%s '%s': must be between %s and %s", opt, arg,
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
		cli_usage_error("%s '%s': too long (at most %llu s)", opt, arg,
				MAX_DURATION_MS / 1000);
	if (rc == -EDOM) /* else it would turn into 0, which means something else */
		cli_usage_error("%s '%s': rounds to 0 ms; the smallest is 1ms", opt, arg);
	if (rc == -EOVERFLOW)
		cli_usage_error("%s '%s': too many decimals (at most 19)", opt, arg);
	if (rc < 0)
		cli_usage_error("%s '%s': not a duration (like 10s, 1.5s, 500ms, 2m)", opt, arg);
	return ms;
}

static size_t count_arg(const char *opt, const char *arg, size_t lo, size_t hi)
{
	char *end;

	errno = 0;
	unsigned long long v = strtoull(arg, &end, 10);
	if (!isdigit((unsigned char)*arg) || *end)
		cli_usage_error("%s '%s': not a number", opt, arg);
	if (errno || v < lo || v > hi)
		cli_usage_error("%s '%s': must be between %zu and %zu", opt, arg, lo, hi);
	return (size_t)v;
}

/* What is left of the command line in serve mode: the blobs. */
static void serve_args(struct config *cfg, int n, const char **args)
{
	if (!cfg->have_listen)
		cli_usage_error("--serve needs -l [HOST:]PORT");
	if (n == 0)
		cli_usage_error("--serve needs at least one BLOB");
	if (n > 1 && !cfg->http)
		cli_usage_error(
			"--serve without --http sends each client the first BLOB only, and %d "
			"are given: add --http to serve each by its name",
			n);
	cfg->blobs = args;
	cfg->nblobs = (size_t)n;
}

/* arg, one of the NULL-ended words, for option opt: its index, or a usage
 * error that lists them as expected. */
static int pick(const char *opt, const char *arg, const char *const *words, const char *expected)
{
	for (int i = 0; words[i]; i++)
		if (!strcmp(arg, words[i]))
			return i;
	cli_usage_error("%s '%s': expected %s", opt, arg, expected);
}

/* Option k of a plain kind (K_FLAG to K_TIMEOUT) into its field of cfg.
 * Returns 0, or -1 when k is not of those kinds. */
static int take_plain(struct config *cfg, size_t k, const char *arg)
{
	const struct opt *o = &opts[k];
	char *field = (char *)cfg + o->off, label[32];
	const char *l = opt_label(k, label, sizeof(label));
	uint64_t v;

	switch (o->kind) {
	case K_FLAG:
		v = 1;
		break;
	case K_TEXT:
		memcpy(field, &arg, sizeof(arg));
		return 0;
	case K_SIZE:
		v = size_arg(l, arg, o->lo, o->hi);
		break;
	case K_COUNT:
		v = count_arg(l, arg, (size_t)o->lo, (size_t)o->hi);
		break;
	case K_MS:
	case K_TIMEOUT:
		v = duration_arg(l, arg);
		if (!v && o->kind == K_TIMEOUT)
			v = MAX_DURATION_MS; /* 0: never */
		break;
	default:
		return -1;
	}
	if (o->width == sizeof(uint64_t)) {
		memcpy(field, &v,
		       sizeof(v)); /* size_t, uint64_t, or int64_t (HI at most INT64_MAX) */
	} else {
		unsigned u = (unsigned)v; /* an int flag, or an unsigned count */
		memcpy(field, &u, sizeof(u));
	}
	return 0;
}

static void add_header(struct config *cfg, const char *arg)
{
	const char **n = realloc(cfg->headers, (cfg->nheaders + 1) * sizeof(*n));

	if (!n)
		cli_usage_error("%s", strerror(ENOMEM));
	cfg->headers = n;
	if (!strchr(arg, ':'))
		cli_usage_error("-H '%s': expected NAME: VALUE", arg);
	cfg->headers[cfg->nheaders++] = arg;
}

static void add_allow(struct config *cfg, const char *arg)
{
	const char *why;
	struct cidr *n = realloc(cfg->allow, (cfg->nallow + 1) * sizeof(*n));

	if (!n)
		cli_usage_error("%s", strerror(ENOMEM));
	cfg->allow = n;
	if (parse_cidr(arg, &cfg->allow[cfg->nallow], &why) < 0)
		cli_usage_error("--allow '%s': %s", arg, why);
	cfg->nallow++;
}

/* Option k of kind K_ARG or K_NOARG: what no field of the table says. */
static void take_other(struct config *cfg, struct given *g, size_t k, const char *arg)
{
	const char *why;
	int kind; /* a transport, or an address family */

	switch (k) {
	case OPT_OUTPUT:
		cli_add_dest(cfg, arg);
		break;
	case OPT_DESTS_FROM:
		cli_dests_from(cfg, arg);
		g->dests_from_stdin |= !strcmp(arg, "-");
		break;
	case OPT_LISTEN:
		if (parse_listen(arg, &cfg->listen, &why) < 0)
			cli_usage_error("-l '%s': %s", arg, why);
		cfg->have_listen = 1;
		break;
	case OPT_HEADER:
		add_header(cfg, arg);
		break;
	case OPT_ALLOW:
		add_allow(cfg, arg);
		break;
	case OPT_SLOW:
		cfg->slow_drop = pick("--slow", arg, (const char *[]){ "block", "drop", NULL },
				      "block or drop");
		break;
	case OPT_JOIN: /* in enum join_mode's order */
		cfg->join = (enum join_mode)pick(
			"--join", arg, (const char *[]){ "start", "live", "oldest", NULL },
			"start, live or oldest");
		break;
	case OPT_MLOCK: /* in enum mlock_mode's order */
		cfg->mlock = (enum mlock_mode)pick("--mlock", arg,
						   (const char *[]){ "auto", "on", "off", NULL },
						   "auto, on or off");
		break;
	case OPT_FILE_PAGES:
		cfg->file_pages_off = pick("--file-pages", arg,
					   (const char *[]){ "auto", "off", NULL }, "auto or off");
		break;
	case OPT_TRANSPORT:
		if ((kind = tx_kind_parse(arg)) < 0)
			cli_usage_error(
				"--transport '%s': expected auto, uring, msgzc, sendfile or copy",
				arg);
		cfg->transport = (enum tx_kind)kind;
		break;
	case OPT_IPV4:
	case OPT_IPV6:
		kind = k == OPT_IPV4 ? AF_INET : AF_INET6;
		if (cfg->family != AF_UNSPEC && cfg->family != kind)
			cli_usage_error("-4 and -6 contradict each other");
		cfg->family = kind;
		break;
	case OPT_VERBOSE:
		cfg->verbose++;
		break;
	case OPT_HELP:
		usage(stdout);
		exit(0);
	case OPT_VERSION:
		version();
	}
}

/* Read the options of argv into cfg and g; optind is then the first of
 * the rest (DESTs or BLOBs). */
static void read_options(struct config *cfg, struct given *g, int argc, char **argv)
{
	const char *shorts = short_options();
	int c;

	opterr = 0; /* our own messages: getopt's would name argv[0] as typed */
	optind = 0; /* glibc: from the start, even on a second parse in one process */
	while ((c = getopt_long(argc, argv, shorts, longopts, NULL)) != -1) {
		int k = opt_index(c);
		char label[32];

		if (c == ':')
			cli_usage_error("option '%s' needs an argument", argv[optind - 1]);
		if (k < 0 && optopt)
			cli_usage_error("unknown option '-%c'", optopt);
		if (k < 0)
			cli_usage_error("unknown option '%s'", argv[optind - 1]);
		/* Where a second one is most likely a mistake (which source? which
		 * address?); other options take the last value given. */
		if (g->seen[k] && (k == OPT_INPUT || k == OPT_LISTEN || k == OPT_STATS))
			cli_usage_error("%s given twice",
					opt_label((size_t)k, label, sizeof(label)));
		g->seen[k] = 1;
		g->arg[k] = optarg;
		if (take_plain(cfg, (size_t)k, optarg) < 0)
			take_other(cfg, g, (size_t)k, optarg);
	}
}

/* After the options, in a stream: the DESTs, and what needs them all. */
static void stream_args(struct config *cfg, const struct given *g, int n, char **args)
{
	for (int i = 0; i < n; i++)
		cli_add_dest(cfg, args[i]);
	if (cfg->progress < 0)
		cfg->progress = !cfg->quiet && isatty(STDERR_FILENO);
	if (g->dests_from_stdin && !strcmp(cfg->input, "-"))
		cli_usage_error(
			"--dests-from - and the source both read standard input; give the source with -i");
	cli_warn_duplicates(cfg);
	if (cfg->ndests == 0 && !cfg->have_listen)
		cli_usage_error(
			"no destination given (expected DEST..., -o DEST or -l [HOST:]PORT)");
	if (!g->seen[OPT_MIN_SUBSCRIBERS])
		cfg->min_subscribers = cfg->ndests ? 0 : 1;
	if (cfg->max_subscribers && cfg->min_subscribers > cfg->max_subscribers)
		cli_usage_error("--min-subscribers %zu is more than --max-subscribers %zu",
				cfg->min_subscribers, cfg->max_subscribers);
	check_needs(g, cfg);
}

/* The ring rounded up to pages, and what must fit in it and it in memory. */
static void check_ring(struct config *cfg, const struct given *g)
{
	long page = sysconf(_SC_PAGESIZE);
	uint64_t asked = cfg->ring_size;

	cfg->ring_size = (cfg->ring_size + (size_t)page - 1) / (size_t)page * (size_t)page;
	uint64_t phys = (uint64_t)sysconf(_SC_PHYS_PAGES) * (uint64_t)page;
	const char *arg = g->arg[OPT_RING_SIZE];
	char ring[128], a[32]; /* the ring as asked for and as it came to, for messages */
	if (!arg)
		snprintf(ring, sizeof(ring), "the default --ring-size (%zu bytes)", cfg->ring_size);
	else
		snprintf(ring, sizeof(ring), "--ring-size %s (%zu bytes%s)", arg, cfg->ring_size,
			 asked != cfg->ring_size ? ", rounded up to whole pages" : "");
	if (cfg->ring_size > phys / 2)
		cli_usage_error("%s is more than half of this machine's memory (%s)", ring,
				fmt_bytes(phys, a, sizeof(a)));
	/* The default chunk is a quarter of a small ring, so that the source
	 * can fill one part while the destinations send the others. */
	if (!cfg->chunk_given)
		cfg->chunk = MIN(cfg->chunk, cfg->ring_size / 4);
	else if (cfg->chunk > cfg->ring_size)
		cli_usage_error("--chunk %s (%zu bytes) exceeds %s", g->arg[OPT_CHUNK], cfg->chunk,
				ring);
	if (cfg->max_lag > cfg->ring_size)
		cli_usage_error(
			"--max-lag %s (%llu bytes) exceeds %s: no destination can fall further "
			"behind than the ring holds",
			g->arg[OPT_MAX_LAG], (unsigned long long)cfg->max_lag, ring);
}

void cli_parse(struct config *cfg, int argc, char **argv)
{
	struct given g = { 0 };

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
	read_options(cfg, &g, argc, argv);
	cfg->stall_set = g.seen[OPT_STALL_TIMEOUT];
	cfg->ring_given = g.seen[OPT_RING_SIZE];
	cfg->chunk_given = g.seen[OPT_CHUNK];
	check_modes(&g,
		    cfg->serve                 ? (cfg->http ? M_HTTP : M_RAW)
			    : cfg->have_listen ? M_SUB
					       : M_PUSH);
	if (cfg->quiet && cfg->verbose)
		cli_usage_error("-q and -v contradict each other");
	if (cfg->quiet && cfg->progress == 1)
		cli_usage_error("-q and -P contradict each other");
	log_level = cfg->quiet ? -1 : cfg->verbose;
	if (cfg->extract && cfg->decompress)
		cli_usage_error("--extract already decodes compressed archives; drop -z");
	if (cfg->serve) {
		serve_args(cfg, argc - optind, (const char **)argv + optind);
		check_needs(&g, cfg);
		return;
	}
	stream_args(cfg, &g, argc - optind, argv + optind);
	check_ring(cfg, &g);
	if (cfg->expect_digest && !digest_valid_hex(cfg->expect_digest))
		cli_usage_error("--expect-digest '%s': not a SHA-256 (64 hexadecimal digits)",
				cfg->expect_digest);
	cfg->digest |= cfg->expect_digest != NULL;
	cli_check_fleet(cfg);
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
		.allow = cfg->allow,
		.nallow = cfg->nallow,
		.key = cfg->key,
		.keylen = cfg->keylen,
	};
}

void cli_free(struct config *cfg)
{
	free(cfg->headers);
	free(cfg->allow);
	free(cfg->key);
	free(cfg->listen.host);
	free(cfg->listen.text);
	for (size_t i = 0; i < cfg->ndests; i++) {
		free(cfg->dests[i].host);
		free(cfg->dests[i].text);
	}
	free(cfg->dests);
	*cfg = (struct config){ 0 };
}
