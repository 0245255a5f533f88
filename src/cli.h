/* The command line: the getopt_long table, struct config, and the parsers
 * for sizes, durations and destination addresses. */
#ifndef RINGCAST_CLI_H
#define RINGCAST_CLI_H

#include <stddef.h>
#include <stdint.h>

#include "net.h"
#include "ring.h"
#include "tx.h"

#define RINGCAST_VERSION "0.1.0"

/* The longest duration an option takes, 10^15 ms (about 31,700 years): a
 * deadline of now_ms() plus it cannot overflow, so it also stands for
 * "never" where an option's 0 means that and the code has deadlines. */
#define MAX_DURATION_MS 1000000000000000ull

struct dest_spec {
	char *text; /* as the user wrote it, without tcp:// or tcp-listen:// */
	char *host;
	char port[6];
};

struct config {
	const char *input;
	struct dest_spec *dests;
	size_t ndests;
	size_t ring_size;
	size_t chunk;
	int ring_given, chunk_given; /* --ring-size, --chunk: not to be changed */
	int64_t size;           /* -s: the stream's expected size, for progress; -1: none */
	enum mlock_mode mlock;
	enum tx_kind transport;
	int family; /* AF_UNSPEC, AF_INET or AF_INET6 */
	uint64_t grace_ms; /* --grace, 0: reset at once */
	uint64_t stall_ms; /* --stall-timeout, 0: never */
	uint64_t rate; /* --rate: source bytes per second, 0 unlimited */
	const char **headers; /* -H, for URL sources */
	size_t nheaders;
	const char *user;     /* -u USER:PASSWORD */
	int netrc;
	const char *extract;  /* --extract MEMBER */
	int decompress;       /* -z */
	int verbose;
	int quiet;
	int progress;           /* -P: 1 on, 0 off, -1 when stderr is a terminal */
	const char *stats_path; /* --stats FILE, "-": stderr */
	/* push destinations */
	unsigned retries;    /* --retry */
	uint64_t connect_ms; /* --connect-timeout per try, 0: the kernel's */
	size_t threads;      /* -j: sending threads, 0: by CPUs and destinations */
	/* delivery policy */
	int slow_drop;   /* --slow drop */
	uint64_t max_lag; /* --max-lag (default: the ring size) */
	/* subscribe mode: -l without --serve */
	size_t min_subscribers;
	size_t max_subscribers; /* 0: no limit */
	uint64_t wait_timeout_ms; /* 0: wait for ever */
	enum join_mode {
		JOIN_START,  /* from byte 0, or refused once the ring lost it */
		JOIN_LIVE,   /* at the head: a live feed's tail is its stream */
		JOIN_OLDEST, /* at the oldest byte the ring holds, likewise */
	} join;
	/* serve mode */
	int serve;
	int http;
	int unpack; /* --unpack: each member of archive BLOBs is a blob */
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

/* Fill cfg from argv.  Usage errors print a message and exit with status 2;
 * --help and --version print and exit 0.  Only this and main may exit. */
void cli_parse(struct config *cfg, int argc, char **argv);
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

/* A size in bytes: a decimal number with an optional K, M, G or T (powers
 * of 1024), which may be followed by "iB" or "B", any case: "64M", "1g",
 * "512KiB", "4096", "1.5M", "0.25G".  A fraction is rounded to the nearest
 * byte, a half up ("0.0005K" is 1), exactly (integer arithmetic, so "1.5M"
 * is 1572864); without a unit it must come to a whole number of bytes ("1.0"
 * is 1).  0, -EINVAL (not that form: "", ".5M", "1.M", "1.2.3", "-1"),
 * -EOVERFLOW (well formed, but more than 19 decimals), -EDOM (a fraction of
 * a byte: "1.5", "1.5B") or -ERANGE (past 2^64 - 1). */
int parse_size(const char *s, uint64_t *out);
/* A duration in milliseconds: a decimal number with an optional unit, ms, s
 * (the default), m or h, in any case: "60s", "500ms", "2m", "1h", "1.5s",
 * "1.5", "1S", "500MS"; rounded to the nearest millisecond, a half up, as
 * parse_size does.  0, -EINVAL (not that form), -EOVERFLOW (more than 19
 * decimals), -EDOM (above 0 but rounds to 0: "0.4ms") or -ERANGE (past
 * MAX_DURATION_MS). */
int parse_duration_ms(const char *s, uint64_t *out);

/* Where an address is given; each place takes its own forms. */
enum addr_use {
	ADDR_DEST,   /* DEST, -o, --dests-from: HOST:PORT, [IPv6]:PORT, tcp://HOST:PORT */
	ADDR_LISTEN, /* -l: PORT or :PORT (every address), HOST:PORT, [IPv6]:PORT; port 0: a free one */
	ADDR_TCP_SOURCE,        /* -i tcp://HOST:PORT, tcp://[IPv6]:PORT */
	ADDR_TCP_LISTEN_SOURCE, /* -i tcp-listen:// and exactly what -l takes */
};
/* s as given at use: 0 and *out (the caller frees host and text; host is
 * NULL for every address: PORT alone or :PORT), or -EINVAL (-ENOMEM) with
 * *why: what is wrong with it, then the forms that place accepts, as in
 * "unsupported scheme 'udp://' (expected HOST:PORT, [IPv6]:PORT or
 * tcp://HOST:PORT)".  Schemes are matched in any case (RFC 3986 section
 * 3.1); brackets are for IPv6 addresses only; no address has white space.
 * *why may point to a per-thread buffer that the next call rewrites. */
int parse_addr(const char *s, enum addr_use use, struct dest_spec *out, const char **why);
/* The length of the URL scheme s starts with, counting the ':' and any
 * "//" after it ("udp://", "unix:" of "unix:/x"; RFC 3986 section 3.1: a
 * letter, then letters, digits, '+', '-' or '.'), or 0 when it does not
 * start with one followed by ":/". */
size_t url_scheme_len(const char *s);
/* parse_addr for ADDR_DEST. */
int parse_dest(const char *s, struct dest_spec *out, const char **why);
/* --allow's ADDRESS[/BITS], IPv4 or IPv6 (no brackets); a bare address is
 * that one address.  0, or -EINVAL with *why set. */
int parse_cidr(const char *s, struct cidr *out, const char **why);
/* One line of a --dests-from file, changed in place: 1 and *out for a DEST,
 * 0 for a blank or comment line ('#' to the end is a comment), or -EINVAL
 * with *why set (white space between two words: one DEST per line). */
int parse_dest_line(char *line, struct dest_spec *out, const char **why);
/* parse_addr for ADDR_LISTEN. */
int parse_listen(const char *s, struct dest_spec *out, const char **why);

#endif
