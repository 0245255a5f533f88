/*
 * A shard: the destinations one thread sends to (-j, --threads).  Each shard
 * has its own event loop, its own transport (its own io_uring) and a view of
 * the ring: the same memory, with a head it copies from the one the crew
 * publishes when it looks, and its destinations as the view's readers.  To the
 * source's ring a shard is one reader whose `done` is the smallest of its
 * destinations', published atomically; so the reclaim rule holds across
 * threads without a lock on the send path.
 *
 * Shard 0 runs in the main thread, on the fan-out's loop, and also takes the
 * subscribers; the others each run a thread of their own with push
 * destinations only.  The crew (crew.h) owns the shards and every
 * destination, and publishes the stream's head and end to them.
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

struct crew;

/* --slow drop: how long a destination must have held the others back, at
 * every check, before it is dropped.  One socket takes several MiB into
 * kernel buffers at once, and a receiver on a loaded machine can be
 * descheduled for a few hundred ms; either makes a destination that keeps
 * pace look, for a moment, like one that holds the ring (up to 0.2 s under
 * a CPU hog on 2 cores, about 1 s under eight: shard.c, check_drop).  A
 * second leaves that margin and costs the others little beside a stalled
 * peer's --stall-timeout (60 s). */
#define DROP_GRACE_MS 1000

/* What a sending thread needs to know of the run: the same for every shard
 * of a crew, filled by the crew before the first shard opens. */
struct shard_opts {
	enum tx_kind transport; /* what shard 0 asks for; the others run what it got */
	size_t chunk;           /* the largest single send, bytes */
	uint64_t connect_ms;    /* --connect-timeout per try, 0: the kernel's */
	unsigned retries;       /* --retry */
	uint64_t stall_ms;      /* --stall-timeout, 0: never */
	/* A tree's default, longer for a relay by this per level of hosts below
	 * it (TREE_STALL_STEP_MS; 0: not): a relay whose own child stalls reads
	 * nothing from us once its ring is full, and must drop that child
	 * before we drop it. */
	uint64_t stall_step_ms;
	uint64_t verdict_ms; /* the same for a framed peer's verdict */
	int slow_drop;       /* --slow drop */
	uint64_t max_lag;    /* --slow drop: the lag that makes a destination a blocker */
	int sndbuf;          /* SO_SNDBUF for every socket, 0: the kernel's */
	char stall_why[80], lag_why[128];     /* the reasons those failures give */
	char verdict_why[96];                 /* a framed peer's verdict that never came */
	const struct frame_header *frame_hdr; /* for ringcast:// destinations (dest.h) */
	const uint8_t *sha256;                /* the stream's, for their trailers */
	const uint8_t *key;                   /* --key-file, to sign their headers */
	size_t keylen;
	int tree; /* they are relays of a tree */
	/* Shard 0, main thread: subscriber d finished (done or failed); from
	 * here on it is the crew's again, and the shard forgets it. */
	void (*sub_done)(struct crew *c, struct dest *d);
	/* Shard 0, main thread: relay d (with a plan) failed part way; its
	 * children are to resume from another host. */
	void (*adopt)(struct crew *c, struct dest *d);
	/* Shard 0, main thread: child d asked this node to resume host, cut
	 * at offset (dest_group's on_ask), and adopted d is to be left to
	 * this node's sender (its hand_up). */
	void (*asked)(struct crew *c, struct dest *d, const char *host, uint64_t offset);
	int (*hand_up)(struct crew *c, struct dest *d, uint64_t offset);
	int refill_fd; /* dest_group's: -1, or the root's source, read again */
	off_t refill_base;
};

struct shard {
	struct crew *crew;
	const struct shard_opts *o;
	size_t id;
	struct loop *loop;
	struct ring view;      /* head and g.eof: the crew's, as this thread last took them up */
	struct ring_reader rd; /* in crew->ring: the smallest done of ours */
	uint64_t starved_at;   /* atomic, --slow drop: now_ms() when a check last found one
				  of ours starved (idle for want of data) */
	size_t probe_at;       /* where the next search for a starved one starts */
	uint64_t published;    /* now_ms() when rd.done was last brought up to date */
	struct tx tx;
	struct dest_group g;
	struct dest *push; /* our slice of the push destinations (the crew's) */
	size_t npush, next_connect, connect_at_once;
	struct dest *live;            /* every destination not yet done or failed */
	size_t ndests;                /* every destination it had */
	size_t nlive, ndone, nfailed; /* atomic: the main thread reads them */
	size_t unconnected;
	int fresh; /* kick every destination at the next sync */
	struct loop_timer check;
	char why[96]; /* shard_open's and shard_start's reasons */
	/* threads other than main's */
	pthread_t thread;
	int started;
	int running;  /* atomic */
	int sleeping; /* atomic: its loop is about to wait */
	int cmd;      /* atomic: fail destinations, with cmd_why: 1 every one, 2 those not
			 draining (shard_fail_all) */
	const char *cmd_why;
	struct loop_io wake; /* eventfd */
};

/* Set up s (crew, o, id, push and npush set) on loop, or on a loop of its
 * own when loop is NULL.  0, or -1 with *why (s's, or NULL when the
 * transport has told the user already). */
int shard_open(struct shard *s, struct loop *loop, const char **why);
/* Start the thread of a shard with a loop of its own.  0, or -1 with *why. */
int shard_start(struct shard *s, const char **why);
/* Wait for its thread to end (after its last destination finished). */
void shard_join(struct shard *s);
/* Close what s opened; subscribers still live go back to the crew
 * (o->sub_done).  Push destinations are the crew's to free. */
void shard_close(struct shard *s);

/* In s's own thread, before each wait: take up new data and the end of the
 * source, connect more, flush the transport, publish how far it is.
 * Returns non-zero when there is more to do at once. */
int shard_sync(struct shard *s);
/* In s's own thread: bring its hold on the source's ring up to date, when
 * it may matter (shard_sync does it too). */
void shard_publish(struct shard *s);
/* Main thread: the crew published a new head or end, or a command. */
void shard_notify(struct shard *s);
/* Main thread: fail every live destination of s with why (NULL: told once
 * for all already); with draining 0, only those not yet sent the whole
 * stream (the others go on to their end). */
void shard_fail_all(struct shard *s, const char *why, int draining);
/* Shard 0, main thread: subscriber d (the crew's) joins at stream offset
 * start, which is at most the head the crew published last.  0 or -ENOMEM. */
int shard_add(struct shard *s, struct dest *d, uint64_t start);

#endif
