/*
 * A shard: the destinations one thread sends to (-j, --threads).  Each shard
 * has its own event loop, its own transport (its own io_uring) and a view of
 * the ring: the same memory, with a head it copies from the source's ring
 * when it looks, and its destinations as the view's readers.  To the
 * source's ring a shard is one reader whose `done` is the smallest of its
 * destinations', published atomically; so the reclaim rule holds across
 * threads without a lock on the send path.
 *
 * Shard 0 runs in the main thread, on the fan-out's loop, and also takes the
 * subscribers; the others each run a thread of their own with push
 * destinations only.
 */
#ifndef RINGCAST_SHARD_H
#define RINGCAST_SHARD_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "dest.h"
#include "loop.h"
#include "ring.h"
#include "tx.h"

struct config;

/* --slow drop: how long a destination must have held the others back, at
 * every check, before it is dropped.  One socket takes several MiB into
 * kernel buffers at once, and a receiver on a loaded machine can be
 * descheduled for a few hundred ms; either makes a destination that keeps
 * pace look, for a moment, like one that holds the ring (up to 0.2 s under
 * a CPU hog on 2 cores, about 1 s under eight: shard.c, check_drop).  A
 * second leaves that margin and costs the others little beside a stalled
 * peer's --stall-timeout (60 s). */
#define DROP_GRACE_MS 1000

/* What every shard reads; owned by the fan-out. */
struct crew {
	const struct config *cfg;
	struct ring *ring;    /* the ring the source writes */
	int eof;              /* atomic: enum stream_end */
	struct shard *shards; /* n of them; [0] is the main thread's */
	size_t n;
	int wake_fd;          /* eventfd the main thread watches */
	int main_waits;       /* atomic: the source waits for ring space; wake it */
	int writer_waits;     /* atomic, --slow drop: the ring is full and the source
				 waits for room (set before the main thread sleeps,
				 cleared when it writes again or ends) */
	int sndbuf;           /* SO_SNDBUF for every socket, 0: the kernel's */
	uint64_t max_lag;     /* --slow drop: the lag that makes a destination a blocker */
	char stall_why[80], lag_why[128];
};

struct shard {
	struct crew *crew;
	size_t id;
	struct loop *loop;
	struct ring view;
	struct ring_reader rd; /* in crew->ring: the smallest done of ours */
	uint64_t starved_at;   /* atomic, --slow drop: now_ms() when a check last found one
				  of ours starved (idle for want of data) */
	size_t probe_at;       /* where the next search for a starved one starts */
	uint64_t published;    /* now_ms() when rd.done was last brought up to date */
	struct tx tx;
	struct dest_group g;
	struct dest *push;     /* our slice of the push destinations */
	size_t npush, next_connect, connect_at_once;
	struct dest *live;     /* every destination not yet done or failed */
	struct dest *dead;     /* finished subscribers, freed before the next wait */
	struct dest *kept;     /* finished subscribers, kept for --stats */
	size_t ndests, nsubs;
	size_t nlive, ndone, nfailed; /* atomic: the main thread reads them */
	size_t unconnected;
	int fresh;             /* kick every destination at the next sync */
	struct loop_timer check;
	/* threads other than main's */
	pthread_t thread;
	int started;
	int running;           /* atomic */
	int sleeping;          /* atomic: its loop is about to wait */
	int cmd;               /* atomic: fail every destination, with cmd_why */
	const char *cmd_why;
	struct loop_io wake;   /* eventfd */
};

/* A subscriber: a destination that connected to us (shard 0 only). */
struct sub {
	struct dest d;
	char name[80]; /* "subscriber [v6]:port" */
};

/* Set up s (crew, id, push and npush set) on loop, or on a loop of its own
 * when loop is NULL, sending with the transport `want`.  Returns 0, or 2
 * after a message. */
int shard_open(struct shard *s, struct loop *loop, enum tx_kind want);
/* Start the thread of a shard with a loop of its own.  0 or 2. */
int shard_start(struct shard *s);
/* Wait for its thread to end (after its last destination finished). */
void shard_join(struct shard *s);
void shard_close(struct shard *s);

/* In s's own thread, before each wait: take up new data and the end of the
 * source, connect more, flush the transport, publish how far it is.
 * Returns non-zero when there is more to do at once. */
int shard_sync(struct shard *s);
/* In s's own thread: bring its hold on the source's ring up to date, when
 * it may matter (shard_sync does it too). */
void shard_publish(struct shard *s);
/* Main thread: there is new data, the source ended, or a command. */
void shard_notify(struct shard *s);
/* Main thread: fail every live destination of s with why (NULL: told once
 * for all already). */
void shard_fail_all(struct shard *s, const char *why);
/* Shard 0, main thread: a subscriber joins at stream offset start. */
int shard_add(struct shard *s, struct dest *d, uint64_t start);

/* Live, done and failed destinations of all shards, and per state. */
void crew_counts(struct crew *c, size_t *live, size_t *done, size_t *failed,
		 size_t state[DEST_FAILED + 1]);
/* Threads still running (shard 0 not counted). */
size_t crew_running(struct crew *c);

#endif
