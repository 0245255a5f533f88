/* The command line: struct config, the table of options (RINGCAST_OPTIONS),
 * and what the run asks of them (cli_fit_ring, cli_source_opts).  The pure
 * parsers of the arguments are parse.h's. */
#ifndef RINGCAST_CLI_H
#define RINGCAST_CLI_H

#include <stddef.h>
#include <stdint.h>

#include "net.h"
#include "parse.h"
#include "ring.h"
#include "tx.h"
#include "version.h"

#define MIN_RING (64u << 10)
#define MAX_RING ((uint64_t)1 << 40)

struct config {
	const char *input;
	struct dest_spec *dests;
	size_t ndests;
	size_t dests_cap; /* dests' allocated length; cli_free resets it */
	size_t ring_size;
	size_t chunk;
	int ring_given, chunk_given; /* --ring-size, --chunk: not to be changed */
	int64_t size;                /* -s: the stream's expected size, for progress; -1: none */
	enum mlock_mode mlock;
	int file_pages_off; /* --file-pages off: read a regular file into the ring */
	enum tx_kind transport;
	int family;           /* AF_UNSPEC, AF_INET or AF_INET6 */
	uint64_t grace_ms;    /* --grace, 0: reset at once */
	uint64_t stall_ms;    /* --stall-timeout, 0: never */
	int stall_set;        /* it was given (a tree has a default of its own) */
	uint64_t rate;        /* --rate: source bytes per second, 0 unlimited */
	const char **headers; /* -H, for URL sources */
	size_t nheaders;
	const char *user; /* -u USER:PASSWORD */
	int netrc;
	const char *extract; /* --extract MEMBER */
	int decompress;      /* -z */
	int verbose;
	int quiet;
	int progress;              /* -P: 1 on, 0 off, -1 when stderr is a terminal */
	const char *stats_path;    /* --stats FILE, "-": stderr */
	int digest;                /* --digest (or --expect-digest): the stream's SHA-256 */
	const char *expect_digest; /* --expect-digest HEX: 64 hex digits, checked */
	unsigned tree;             /* --tree K: relay through the DESTs, K per node; 0: a star */
	const char *key_file;      /* --key-file FILE: the fleet's key */
	uint8_t *key;              /* its bytes, keylen of them (cli_check_fleet) */
	size_t keylen;
	/* push destinations */
	unsigned retries;    /* --retry */
	uint64_t connect_ms; /* --connect-timeout per try, 0: the kernel's */
	size_t threads;      /* -j: sending threads, 0: by CPUs and destinations */
	/* delivery policy */
	int slow_drop;    /* --slow drop */
	uint64_t max_lag; /* --max-lag (default: the ring size) */
	/* subscribe mode: -l without --serve */
	size_t min_subscribers;
	size_t max_subscribers;   /* 0: no limit */
	uint64_t wait_timeout_ms; /* 0: wait for ever */
	enum join_mode {
		JOIN_START,  /* from byte 0, or refused once the ring lost it */
		JOIN_LIVE,   /* at the head: a live feed's tail is its stream */
		JOIN_OLDEST, /* at the oldest byte the ring holds, likewise */
	} join;
	/* serve mode */
	int serve;
	int http;
	int unpack;         /* --unpack: each member of archive BLOBs is a blob */
	struct cidr *allow; /* --allow: who may connect to -l; none: anyone */
	size_t nallow;
	int have_listen;
	struct dest_spec listen; /* host NULL: every address (serve and subscribe) */
	const char **blobs;
	size_t nblobs;
	size_t max_clients;
	size_t max_header;
	uint64_t header_timeout_ms; /* --header-timeout; its 0 (never) is MAX_DURATION_MS */
	uint64_t idle_timeout_ms;   /* --idle-timeout, likewise */
};

/* The modes a run is in, for each option's modes. */
enum {
	M_PUSH = 1, /* a stream, without -l: DESTs only */
	M_SUB = 2,  /* a stream with -l: subscribers, and DESTs if given */
	M_RAW = 4,  /* --serve without --http */
	M_HTTP = 8, /* --serve --http */
	M_STREAM = M_PUSH | M_SUB,
	M_SERVE = M_RAW | M_HTTP,
	M_ANY = M_STREAM | M_SERVE,
};

#define FOR_STREAMS     "is for streams: --serve does not use it"
#define TO_CLIENTS      "is for streams: --serve sends only to clients that connect to -l"
#define LOADS_WHOLE     "is for streams: --serve loads each BLOB as it is (see --unpack)"
#define SERVE_STATS     "is for streams: serve mode prints its statistics at exit and on SIGUSR1"
#define FOR_SUBSCRIBERS "is for subscribers: it needs -l [HOST:]PORT without --serve"

/* What an option takes, and for the plain kinds how cli_parse stores it in
 * its field of struct config. */
enum opt_kind {
	K_FLAG,    /* no argument: the int field is set to 1 */
	K_TEXT,    /* the argument itself, into a const char * field */
	K_SIZE,    /* parse_size, LO to HI bytes, into a size_t, uint64_t or int64_t */
	K_COUNT,   /* a decimal number, LO to HI, into a size_t or unsigned */
	K_MS,      /* parse_duration_ms, into a uint64_t; 0 is kept */
	K_TIMEOUT, /* likewise, but 0 (never) is stored as MAX_DURATION_MS */
	K_ARG,     /* an argument that cli.c's own code takes (no field) */
	K_NOARG,   /* no argument, and cli.c's own code */
};

/* --help: this, each option's HELP in the table's order, then the end. */
#define RINGCAST_USAGE                                                                             \
	"usage: ringcast [-46Pqv] [-i SOURCE] [-o DEST]... [OPTIONS] [DEST...]\n"                  \
	"       ringcast [-46Pqv] [-i SOURCE] [OPTIONS] -l [HOST:]PORT [DEST...]\n"                \
	"       ringcast --serve [--http] [OPTIONS] -l [HOST:]PORT BLOB...\n"                      \
	"\n"                                                                                       \
	"Read SOURCE once into a locked shared-memory ring and send it, complete and\n"            \
	"in order, to every DEST at once; with -l, also to every subscriber that\n"                \
	"connects.  With --serve, load each BLOB once into sealed shared memory and\n"             \
	"send it to every client that connects.\n"                                                 \
	"\n"
#define RINGCAST_USAGE_END                                                                         \
	"\n"                                                                                       \
	"A destination ends with a FIN only when it has the whole stream; any other\n"             \
	"end (an interrupt, a failed or corrupt source, a late subscriber, a drop)\n"              \
	"is a reset and a message naming it.\n"                                                    \
	"Exit status: 0 every destination got the whole stream, 1 some did not,\n"                 \
	"2 usage or configuration error (nothing sent).  See ringcast(1).\n"

/*
 * Every option, one row each, in --help's order:
 *
 *	X(ID, SHORT, NAME, KIND, FIELD, LO, HI, MODES, WRONG, HELP)
 *
 * ID names it in cli.c (OPT_ID); SHORT is its letter or 0; NAME its long
 * name; KIND and FIELD (F(member) of struct config, or NOFIELD) how it is
 * stored, LO and HI the limits of a K_SIZE or K_COUNT; MODES the modes that
 * take it: given in another, it is refused with its label (-j, --slow) and
 * WRONG (issue 16; tests/errors.bats tries each); HELP its lines of --help.
 * A new plain option is a row here, its consumer, a line in man/ringcast.1
 * and one in completions/ringcast.options (tests/docs.bats checks them).
 *
 * The rows come in groups so that check_modes can refuse in the order it
 * always has (RINGCAST_OPTIONS_CHECKED): when two options are wrong in a
 * mode, the first of that order is the one named.
 */
/* The table is laid out by hand. */
/* clang-format off */
/* the source */
#define RINGCAST_OPTIONS_SOURCE(X) \
	X(INPUT, 'i', "input", K_TEXT, F(input), 0, 0, M_STREAM, \
	  "is for streams: --serve takes BLOB... instead", \
	  "  -i, --input SOURCE     - (stdin, the default), a file, a FIFO, a device,\n" \
	  "                         tcp://HOST:PORT, tcp-listen://[HOST:]PORT, a URL\n" \
	  "                         (http, https, ftp, ftps, file, sftp, scp) via libcurl,\n" \
	  "                         or ringcast-listen://[HOST:]PORT: receive one stream\n" \
	  "                         from a ringcast:// sender, verify it, answer\n")

/* how the source is read */
#define RINGCAST_OPTIONS_READ(X) \
	X(HEADER, 'H', "header", K_ARG, NOFIELD, 0, 0, M_ANY, NULL, \
	  "  -H, --header LINE      an extra request header for a URL source (repeatable)\n") \
	X(USER, 'u', "user", K_TEXT, F(user), 0, 0, M_ANY, NULL, \
	  "  -u, --user USER:PASSWORD  credentials for a URL source\n") \
	X(NETRC, 0, "netrc", K_FLAG, F(netrc), 0, 0, M_ANY, NULL, \
	  "      --netrc            take URL credentials from ~/.netrc\n") \
	X(EXTRACT, 0, "extract", K_TEXT, F(extract), 0, 0, M_STREAM, LOADS_WHOLE, \
	  "      --extract MEMBER   send one member of an archive SOURCE (tar, zip, cpio,\n" \
	  "                         7z, ... compressed or not) instead of the archive\n") \
	X(DECOMPRESS, 'z', "decompress", K_FLAG, F(decompress), 0, 0, M_STREAM, LOADS_WHOLE, \
	  "  -z, --decompress       decode a gzip, bzip2, xz, zstd or lz4 SOURCE\n")

/* destinations, the ring, the delivery policy */
#define RINGCAST_OPTIONS_PUSH(X) \
	X(OUTPUT, 'o', "output", K_ARG, NOFIELD, 0, 0, M_STREAM, TO_CLIENTS, \
	  "  -o, --output DEST      a destination: HOST:PORT, [IPv6]:PORT, tcp://HOST:PORT,\n" \
	  "                         ringcast://HOST:PORT (a ringcast receiver: verified),\n" \
	  "                         file:PATH (via PATH.part) or - (standard output)\n" \
	  "                         (repeatable; positional DESTs work the same)\n") \
	X(DESTS_FROM, 0, "dests-from", K_ARG, NOFIELD, 0, 0, M_STREAM, TO_CLIENTS, \
	  "      --dests-from FILE  one DEST per line (# comments; -: standard input)\n") \
	X(RING_SIZE, 0, "ring-size", K_SIZE, F(ring_size), MIN_RING, MAX_RING, M_STREAM, \
	  FOR_STREAMS, \
	  "      --ring-size SIZE   ring size, like 16M or 1.5G: K, M, G, T (default 64M)\n") \
	X(CHUNK, 0, "chunk", K_SIZE, F(chunk), 1, 1u << 30, M_STREAM, FOR_STREAMS, \
	  "      --chunk SIZE       largest single send (default 256K)\n") \
	X(MLOCK, 0, "mlock", K_ARG, NOFIELD, 0, 0, M_STREAM, FOR_STREAMS, \
	  "      --mlock MODE       auto, on or off: lock the ring in memory (default auto)\n") \
	X(FILE_PAGES, 0, "file-pages", K_ARG, NOFIELD, 0, 0, M_STREAM, FOR_STREAMS, \
	  "      --file-pages MODE  auto or off: send a regular file SOURCE from its own\n" \
	  "                         pages instead of a ring (default auto)\n") \
	X(TRANSPORT, 0, "transport", K_ARG, NOFIELD, 0, 0, M_STREAM, \
	  "is for streams: --serve always sends with sendfile", \
	  "      --transport NAME   auto, uring, msgzc, sendfile or copy (default auto)\n") \
	X(IPV4, '4', "ipv4", K_NOARG, NOFIELD, 0, 0, M_ANY, NULL, \
	  "  -4, --ipv4             IPv4 only, for every address: DESTs, -l, and tcp://,\n" \
	  "                         tcp-listen:// and URL sources\n") \
	X(IPV6, '6', "ipv6", K_NOARG, NOFIELD, 0, 0, M_ANY, NULL, \
	  "  -6, --ipv6             IPv6 only, likewise\n") \
	X(GRACE, 0, "grace", K_MS, F(grace_ms), 0, 0, M_ANY, NULL, \
	  "      --grace DURATION   after SIGINT/SIGTERM, drain for this long, like 10s,\n" \
	  "                         1.5m or 500ms (default 10s; 0: reset at once)\n") \
	X(STALL_TIMEOUT, 0, "stall-timeout", K_MS, F(stall_ms), 0, 0, M_STREAM, \
	  "is for streams: --serve uses --idle-timeout", \
	  "      --stall-timeout DURATION  drop a destination that accepts nothing for\n" \
	  "                         this long (default 60s, 5s in a tree; 0: never)\n") \
	X(SLOW, 0, "slow", K_ARG, NOFIELD, 0, 0, M_STREAM, FOR_STREAMS, \
	  "      --slow POLICY      block (wait for the slowest, the default) or drop\n" \
	  "                         (disconnect a destination that holds the others back)\n") \
	X(MAX_LAG, 0, "max-lag", K_SIZE, F(max_lag), 4096, MAX_RING, M_STREAM, FOR_STREAMS, \
	  "      --max-lag SIZE     with --slow drop: drop only a destination this far\n" \
	  "                         behind the head (default: the ring size)\n") \
	X(RETRY, 0, "retry", K_COUNT, F(retries), 0, 1000, M_STREAM, FOR_STREAMS, \
	  "      --retry N          retry connecting a DEST N times, with backoff\n" \
	  "                         (default 0)\n") \
	X(CONNECT_TIMEOUT, 0, "connect-timeout", K_MS, F(connect_ms), 0, 0, M_STREAM, FOR_STREAMS, \
	  "      --connect-timeout DURATION  give up a connect try after this long\n" \
	  "                         (default 10s; 0: the kernel's)\n") \
	X(THREADS, 'j', "threads", K_COUNT, F(threads), 1, 1024, M_STREAM, \
	  "is for streams: serve mode runs one thread", \
	  "  -j, --threads N        send from N threads, each with its share of the DESTs\n" \
	  "                         (default: one per 256 DESTs, at most one per CPU)\n") \
	X(RATE, 0, "rate", K_SIZE, F(rate), 1, MAX_RING, M_STREAM, FOR_STREAMS, \
	  "      --rate RATE        read the source at most RATE bytes/s, like 1.5M (pv -L)\n")

/* the stream's expected size */
#define RINGCAST_OPTIONS_SIZE(X) \
	X(SIZE, 's', "size", K_SIZE, F(size), 0, INT64_MAX, M_STREAM, FOR_STREAMS, \
	  "  -s, --size SIZE        the stream's expected size, for -P's percentage and\n" \
	  "                         ETA when the source cannot tell (a pipe; like pv -s)\n")

/* -l: subscribers, and serve mode */
#define RINGCAST_OPTIONS_LISTEN(X) \
	X(SERVE, 0, "serve", K_FLAG, F(serve), 0, 0, M_ANY, NULL, \
	  "      --serve            serve BLOBs to clients instead of pushing a stream\n") \
	X(LISTEN, 'l', "listen", K_ARG, NOFIELD, 0, 0, M_ANY, NULL, \
	  "  -l, --listen [HOST:]PORT  take subscribers (or --serve clients) there (PORT\n" \
	  "                         or :PORT: every address; 0: a free port); the\n" \
	  "                         address is printed on stderr\n") \
	X(MIN_SUBSCRIBERS, 0, "min-subscribers", K_COUNT, F(min_subscribers), 0, 1000000, M_SUB, \
	  FOR_SUBSCRIBERS, \
	  "      --min-subscribers N  hold the source until N subscribers are connected\n" \
	  "                         (default 1; 0 when DESTs are given too)\n") \
	X(MAX_SUBSCRIBERS, 0, "max-subscribers", K_COUNT, F(max_subscribers), 1, 1000000, M_SUB, \
	  FOR_SUBSCRIBERS, \
	  "      --max-subscribers N  turn away subscribers beyond N (default: no limit)\n") \
	X(WAIT_TIMEOUT, 0, "wait-timeout", K_MS, F(wait_timeout_ms), 0, 0, M_SUB, FOR_SUBSCRIBERS, \
	  "      --wait-timeout DURATION  wait this long for --min-subscribers, then\n" \
	  "                         start with those connected (default and 0: for ever)\n") \
	X(JOIN, 0, "join", K_ARG, NOFIELD, 0, 0, M_SUB, FOR_SUBSCRIBERS, \
	  "      --join WHERE       where a late subscriber starts: start (byte 0, or\n" \
	  "                         refused once the ring lost it; the default), live\n" \
	  "                         (at the head) or oldest (the oldest byte in the ring)\n") \
	X(ALLOW, 0, "allow", K_ARG, NOFIELD, 0, 0, M_ANY, NULL, \
	  "      --allow CIDR       only peers in this block may connect to -l or to a\n" \
	  "                         listening SOURCE; others are reset (repeatable;\n" \
	  "                         default: anyone)\n") \
	X(HTTP, 0, "http", K_FLAG, F(http), 0, 0, M_SERVE, "needs --serve", \
	  "      --http             speak HTTP/1.1 (GET, HEAD, ranges); default raw TCP:\n" \
	  "                         each client gets the one BLOB, then the end\n") \
	X(UNPACK, 0, "unpack", K_FLAG, F(unpack), 0, 0, M_SERVE, "needs --serve", \
	  "      --unpack           serve each regular member of archive BLOBs as a blob\n" \
	  "                         named by its path inside the archive\n") \
	X(MAX_CLIENTS, 0, "max-clients", K_COUNT, F(max_clients), 1, 1000000, M_SERVE, \
	  "needs --serve (subscribers: --max-subscribers)", \
	  "      --max-clients N    clients at once (default 10000); at the limit the one\n" \
	  "                         idle longest makes room, else the rest wait\n") \
	X(MAX_HEADER, 0, "max-header", K_SIZE, F(max_header), 256, 1 << 20, M_HTTP, \
	  "needs --serve --http", \
	  "      --max-header SIZE  largest HTTP request head (default 8K; larger: 431)\n") \
	X(HEADER_TIMEOUT, 0, "header-timeout", K_TIMEOUT, F(header_timeout_ms), 0, 0, M_HTTP, \
	  "needs --serve --http", \
	  "      --header-timeout DURATION  close clients that take longer to send a\n" \
	  "                         request head (default 10s; 0: never)\n") \
	X(IDLE_TIMEOUT, 0, "idle-timeout", K_TIMEOUT, F(idle_timeout_ms), 0, 0, M_SERVE, \
	  "needs --serve (streams: --stall-timeout)", \
	  "      --idle-timeout DURATION  close idle keep-alive connections and stalled\n" \
	  "                         readers (default 60s; 0: never)\n")

/* what is printed */
#define RINGCAST_OPTIONS_REPORT(X) \
	X(PROGRESS, 'P', "progress", K_FLAG, F(progress), 0, 0, M_STREAM, SERVE_STATS, \
	  "  -P, --progress         a progress line on stderr (default when it is a\n" \
	  "                         terminal)\n") \
	X(STATS, 0, "stats", K_TEXT, F(stats_path), 0, 0, M_STREAM, SERVE_STATS, \
	  "      --stats FILE       write the run's statistics as JSON to FILE (-: stderr)\n") \
	X(DIGEST, 0, "digest", K_FLAG, F(digest), 0, 0, M_STREAM, FOR_STREAMS, \
	  "      --digest           print the stream's SHA-256 at its end (and in --stats)\n") \
	X(EXPECT_DIGEST, 0, "expect-digest", K_TEXT, F(expect_digest), 0, 0, M_STREAM, FOR_STREAMS, \
	  "      --expect-digest HEX\n" \
	  "                         the stream's SHA-256 must be HEX, or every destination\n" \
	  "                         is reset (implies --digest)\n") \
	X(TREE, 0, "tree", K_COUNT, F(tree), 1, 1024, M_STREAM, FOR_STREAMS, \
	  "      --tree K           relay: send to at most K of the ringcast:// DESTs, each\n" \
	  "                         forwarding to its share of the rest (1: a pipeline)\n") \
	X(KEY_FILE, 0, "key-file", K_TEXT, F(key_file), 0, 0, M_STREAM, FOR_STREAMS, \
	  "      --key-file FILE    the fleet's key: sign framed headers (HMAC-SHA256), and\n" \
	  "                         as a receiver, take only signed ones\n") \
	X(VERBOSE, 'v', "verbose", K_NOARG, NOFIELD, 0, 0, M_ANY, NULL, \
	  "  -v, --verbose          say what is chosen and why; statistics at exit\n") \
	X(QUIET, 'q', "quiet", K_FLAG, F(quiet), 0, 0, M_ANY, NULL, \
	  "  -q, --quiet            print errors only\n") \
	X(HELP, 'h', "help", K_NOARG, NOFIELD, 0, 0, M_ANY, NULL, \
	  "  -h, --help             this help\n") \
	X(VERSION, 'V', "version", K_NOARG, NOFIELD, 0, 0, M_ANY, NULL, \
	  "  -V, --version          version and the transports this kernel supports\n")

#define RINGCAST_OPTIONS(X) \
	RINGCAST_OPTIONS_SOURCE(X) RINGCAST_OPTIONS_READ(X) RINGCAST_OPTIONS_PUSH(X) \
	RINGCAST_OPTIONS_SIZE(X) RINGCAST_OPTIONS_LISTEN(X) RINGCAST_OPTIONS_REPORT(X)
#define RINGCAST_OPTIONS_CHECKED(X) \
	RINGCAST_OPTIONS_SOURCE(X) RINGCAST_OPTIONS_PUSH(X) RINGCAST_OPTIONS_READ(X) \
	RINGCAST_OPTIONS_LISTEN(X) RINGCAST_OPTIONS_SIZE(X) RINGCAST_OPTIONS_REPORT(X)
/* clang-format on */

/* Fill cfg from argv.  Usage errors print a message and exit with status 2;
 * --help and --version print and exit 0.  Only this and main may exit. */
void cli_parse(struct config *cfg, int argc, char **argv);
/* Say "ringcast: MESSAGE" (escaped, as every message is) and the hint to
 * --help on stderr, and exit with status 2. */
void cli_usage_error(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
/* The DEST list (cli_dests.c), each growing cfg->dests or failing with a
 * usage error: one DEST argument; every DEST of --dests-from FILE ("-":
 * standard input), one a line, blank lines and '#' comments skipped; and a
 * warning for each destination given more than once (allowed: it gets the
 * stream that many times, but in a long list it is most likely a mistake). */
void cli_add_dest(struct config *cfg, const char *arg);
void cli_dests_from(struct config *cfg, const char *path);
void cli_warn_duplicates(const struct config *cfg);
/* --tree and --key-file (cli_fleet.c): load the key; refuse (exit 2) a
 * tree whose DESTs are not all ringcast://, or that is too deep, too many
 * hosts to report, or has a plan too large for a header. */
void cli_check_fleet(struct config *cfg);
/* Free what cli_parse allocated (the DEST list, -H, --allow, -l) and zero
 * cfg, which cli_parse may then fill again. */
void cli_free(struct config *cfg);

/* A source whose size is known before it is read (a regular file) and
 * that the ring would more than hold gets a ring just big enough, so that
 * a small job does not lock a big ring: one byte more than size (the read
 * that finds the end has room, and the whole stream stays in the ring, as
 * it would in the bigger one), at least --max-lag, a given --chunk and
 * the smallest ring --ring-size takes (the limits cli_parse checks against
 * the ring), rounded up to the page size (the ring's granularity,
 * ring_set_retire); the default chunk shrinks with it (a quarter of the
 * ring at most).  Never when --ring-size was given.  Returns 1 when it
 * changed cfg->ring_size.  A source that turns out longer (a file that
 * grows) still goes through whole, the ring wrapping as with any stream. */
int cli_fit_ring(struct config *cfg, uint64_t size);

struct source_opts;
/* What the sources take from the command line (loop set by the caller). */
void cli_source_opts(const struct config *cfg, struct source_opts *o);

#endif
