/* The push run's reports: the -v summary at exit, SIGUSR1's status line
 * and --stats FILE (one JSON document at exit saying what the run did, for
 * scripts; the man page documents every field), all from one plain view of
 * the run that the fan-out fills.  The progress line (-P, progress.h) is
 * drawn from the view's prog part. */
#ifndef RINGCAST_STATS_H
#define RINGCAST_STATS_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "dest.h"
#include "progress.h"
#include "tx.h"

struct run_view {
	const char *mode;         /* "push", "subscribe" or "push+subscribe" */
	const char *source;       /* as the messages name it */
	int64_t source_size;      /* -1: not known */
	const char *source_error; /* NULL: none */
	const char *input;        /* the SOURCE as given on the command line ("-": stdin) */
	const char *sha256;       /* the whole stream's, in hex, when it was computed
				     (--digest, ringcast:// DESTs); NULL: none */
	size_t ring_size;
	int ring_locked;
	size_t ring_in_use;            /* of it, at the end (ring.h: growing) */
	int file_pages;                /* the ring is the source file's own pages (ring_file.c) */
	struct progress_view prog;     /* bytes in, expected, since the start, counts, lag */
	double secs;                   /* since the stream started, or the run if it never did */
	size_t state[DEST_FAILED + 1]; /* live destinations in each state */
	size_t subs;                   /* subscribers streaming now */
	int show_subs;                 /* the status line counts them (listening, or some) */
	size_t turned, refused;        /* subscribers turned away (--max-subscribers),
				     connections refused (--allow) */
	int interrupted, cut;          /* a signal stopped it; the stream ended short */
	size_t few_subs;               /* it started with fewer than this many subscribers, or 0 */
	/* At exit only, once the sending threads have ended: */
	const struct tx_ops *tx_ops; /* the transport */
	struct tx_counters tx;
	size_t dests; /* every destination there was */
	int exit_status;
	struct timespec start, end; /* CLOCK_REALTIME */
	const struct fleet *fleet;  /* a tree's hosts (NULL or empty: none) */
	/* Every destination, push ones first, for --stats. */
	void (*walk)(void *arg, void (*each)(const struct dest *d, void *ctx), void *ctx);
	void *walk_arg;
};

/* SIGUSR1: one line of where the run stands, printed even under -q. */
void stats_status(const struct run_view *v);
/* At exit, under -v (the errors always): what the run did. */
void stats_summary(const struct run_view *v);
/* --digest: "SHA256 (SOURCE) = HEX" on stderr, the form of sha256sum
 * --tag (BSD), for a stream that ended whole; nothing otherwise. */
void stats_digest(const struct run_view *v);
/* Write v to path ("-": standard error).  0, or -1 after a message. */
int stats_write(const char *path, const struct run_view *v);

#endif
