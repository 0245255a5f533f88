/* The command line: the getopt_long table, struct config, and the parsers
 * for sizes, durations and destination addresses. */
#ifndef RINGCAST_CLI_H
#define RINGCAST_CLI_H

#include <stddef.h>
#include <stdint.h>

#include "net.h"
#include "parse.h"
#include "ring.h"
#include "tx.h"

#define RINGCAST_VERSION "0.1.0"

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

#endif
