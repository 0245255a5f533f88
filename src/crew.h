/*
 * The crew: every destination and every sending thread of a push run.  It
 * resolves the push destinations, decides how many threads send (-j),
 * shares the push destinations out among its shards, admits subscribers
 * (they all go to shard 0, on the main thread), and is the only one that
 * tells the shards where the stream's head is and how it ends
 * (crew_publish).  Every struct dest of the run is the crew's: the push
 * destinations in one array, the subscribers (struct sub) allocated and
 * freed here.
 *
 * Everything here runs on the main thread.  The shards' threads read the
 * first part of struct crew: fixed once they start, except the members
 * marked atomic.
 */
#ifndef RINGCAST_CREW_H
#define RINGCAST_CREW_H

#include <stddef.h>
#include <stdint.h>

#include "dest.h"
#include "frame.h"
#include "loop.h"
#include "shard.h"
#include "tx.h"

struct config;
struct ring;
struct source;

struct crew {
	/* What the shards read. */
	struct shard_opts opts;
	struct ring *ring;    /* the ring the source writes */
	uint64_t head;        /* atomic: the stream's head as last published */
	int eof;              /* atomic: enum stream_end, published with it */
	struct shard *shards; /* n of them; [0] sends from the main thread */
	size_t n;
	struct loop_io wake;           /* eventfd: the other threads wake the main thread */
	int main_waits;                /* atomic: the source waits for ring space; wake it */
	int writer_waits;              /* atomic, --slow drop: the ring is full and the source
				 waits for room (crew_writer_waits) */
	struct frame_header frame_hdr; /* ringcast:// destinations' header: the
					  fan-out's to fill before crew_open */
	uint8_t sha256[32];            /* the stream's: the fan-out's to fill before it
			       publishes STREAM_WHOLE */
	/* The main thread's. */
	const struct config *cfg;
	struct loop *loop;
	struct dest *push; /* the DESTs of the command line, npush of them */
	size_t npush;
	size_t nsubs;            /* subscribers streaming now */
	size_t nturned;          /* subscribers turned away (--max-subscribers) */
	struct dest *dead;       /* finished subscribers, freed before the next wait */
	struct dest *kept;       /* finished subscribers, kept for --stats */
	char why[256];           /* the reason a set-up step gives */
	const char **tree_hosts; /* --tree at the root: every host, "HOST:PORT" */
	struct dest **adopted;   /* the children of relays of ours that failed */
	size_t nadopted;
	int to_connect;        /* some of them wait for crew_sync to connect */
	struct source *source; /* the run's: a relay's asks go to its sender */
	int no_repair;         /* crew_fail_unsent: a failed relay's children are not resumed */
};

/* What the run did, over every shard: only once their threads have ended. */
struct crew_totals {
	struct tx_counters tx;
	size_t dests, done, failed;
};

enum crew_admit {
	CREW_JOINED,      /* it streams from its --join offset */
	CREW_TURNED_AWAY, /* --max-subscribers reached: reset and closed */
	CREW_REFUSED,     /* --join start and the start has left the ring: it
			     counts as a destination that failed */
	CREW_NO_MEMORY,   /* closed */
};

/* Before the source opens: check that the descriptors suffice for every
 * push destination, size the sockets' send buffers, resolve every DEST.
 * 0, or -1 with *why (c's). */
int crew_init(struct crew *c, const struct config *cfg, const char **why);
/* A node of a tree (--tree K at the root, a received plan at a relay):
 * add to the push destinations, before crew_open, the heads of the
 * subtrees of the n hosts ("HOST:PORT", as a plan names them), each with
 * the plan for its share.  0, or -1 with *why (c's). */
int crew_add_tree(struct crew *c, unsigned k, const char *const *hosts, size_t n, const char **why);
/* Once the ring exists: the shards, shard 0 on loop and the others on
 * loops of their own (their threads not started yet), the push
 * destinations shared out in order.  0, or -1 with *why (c's or a
 * shard's; NULL when the transport has told the user already). */
int crew_open(struct crew *c, struct loop *loop, struct ring *ring, const char **why);
/* Start the other shards' threads.  0, or -1 with *why. */
int crew_start(struct crew *c, const char **why);
/* Wait for the other shards' threads to end. */
void crew_join(struct crew *c);
/* Join, close every shard, free every destination.  Safe on a crew that
 * failed part way through crew_init or crew_open. */
void crew_close(struct crew *c);

/* Tell the shards the ring's head and eof (enum stream_end), when either
 * moved: one store of each, and a wake-up for each sleeping thread. */
void crew_publish(struct crew *c, int eof);
/* Before the main thread sleeps, after the reads of its pass: free the
 * subscribers that finished, and let shard 0 send.  Non-zero when there is
 * more to do at once. */
int crew_sync(struct crew *c);
/* What the events of this pass freed: shard 0's hold on the ring. */
void crew_release(struct crew *c);
/* The source has no room: with sending threads, ask them to wake the main
 * thread when they free some, then look once more (they may have just
 * done it).  Non-zero when there is room after all. */
int crew_wait_for_room(struct crew *c);
/* --slow drop: whether the source waits for ring space now (not held for
 * subscribers or by --rate: for room), for the shards' checks. */
void crew_writer_waits(struct crew *c, int waits);
/* Fail every live destination with why (NULL: told once for all). */
void crew_fail_all(struct crew *c, const char *why);
/* The source changed after some destinations were sent all of it: fail
 * those that were not (the others go on to their end), and resume no
 * failed relay's children. */
void crew_fail_unsent(struct crew *c, const char *why);

/* A subscriber connected on fd from addr (as net_fmt_addr gives it): the
 * crew takes fd whatever comes of it.  Publishes the head first, so that
 * --join live starts where the source is now. */
enum crew_admit crew_admit(struct crew *c, int fd, const char *addr);

/* Non-zero while shard 0 has a live destination or another thread runs. */
int crew_busy(struct crew *c);
/* Live, done and failed destinations of all shards, and per state (NULL:
 * not wanted). */
void crew_counts(struct crew *c, size_t *live, size_t *done, size_t *failed,
		 size_t state[DEST_FAILED + 1]);
void crew_totals(struct crew *c, struct crew_totals *t);
/* How far the slowest destination (or thread) is behind the head, bytes. */
uint64_t crew_lag(struct crew *c);
/* The transport shard 0 runs (and so every shard). */
const struct tx_ops *crew_transport(const struct crew *c);
/* Every destination, for --stats: the push ones in the order given, then
 * the subscribers. */
void crew_walk(struct crew *c, void (*each)(const struct dest *d, void *arg), void *arg);

/* crew_tree.c, for crew.c: the root's hosts (--tree) and their checks
 * (one host under two spellings, the root's own listener; 0, or -1 with
 * *why); what a child holds; and the shard_opts hooks of repair. */
int crew_tree_hosts(struct crew *c, const char **why);
void crew_free_dest_parts(struct dest *d);
void crew_adopt(struct crew *c, struct dest *d);
void crew_asked(struct crew *c, struct dest *d, const char *host, uint64_t offset);
int crew_hand_up(struct crew *c, struct dest *d, uint64_t offset);
/* The run's source, once open (before crew_open): a relay asks its sender
 * through it; the root of a tree reads again from it, when it is a file or
 * a block device, what its ring no longer holds. */
void crew_tree_source(struct crew *c, struct source *s);

#endif
