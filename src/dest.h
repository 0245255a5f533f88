/*
 * A destination's life: connecting (trying each resolved address in turn,
 * each within the connect timeout; after the last, waiting and trying again
 * while retries are left), streaming (its transport sends from the ring), draining (source ended, all
 * sent, FIN sent, waiting until the peer has acknowledged every byte), then
 * done or failed.  A subscriber starts out streaming on the socket it was
 * accepted on.  A destination holds the ring through its reader from the
 * moment it is created until it is done or failed.
 */
#ifndef RINGCAST_DEST_H
#define RINGCAST_DEST_H

#include <netdb.h>
#include <stdint.h>
#include <sys/types.h>

#include "loop.h"
#include "parse.h"
#include "ring.h"
#include "tx.h"

struct frame_header;

enum dest_state {
	DEST_IDLE,
	DEST_WAITING, /* for its next connect try */
	DEST_CONNECTING,
	DEST_STREAMING,
	DEST_DRAINING,
	DEST_DONE,
	DEST_FAILED,
};

struct dest;

/* How the stream stands, as the destinations see it. */
enum stream_end {
	STREAM_OPEN,  /* the source may give more */
	STREAM_WHOLE, /* it ended at its end: finish with FIN after head */
	STREAM_CUT,   /* it was stopped before its end (an interrupt): send
		       * up to head, wait for the peer's ACKs, then reset */
};

/* What the destinations of one run share; owned by the fan-out. */
struct dest_group {
	struct loop *loop;
	struct ring *ring;
	struct tx *tx;
	int eof;                              /* enum stream_end */
	uint64_t connect_ms;                  /* --connect-timeout per try, 0: the kernel's */
	unsigned retries;                     /* --retry */
	int sndbuf;                           /* SO_SNDBUF for every socket, 0: the kernel's */
	size_t nstate[DEST_FAILED + 1];       /* how many in each state (atomic: others read it) */
	struct dest *draining;                /* list of DEST_DRAINING, via drain_next */
	struct loop_timer drain_timer;        /* polls their unacknowledged bytes */
	const struct frame_header *frame_hdr; /* what ringcast:// destinations get first */
	const uint8_t *sha256;                /* the stream's SHA-256 once eof is STREAM_WHOLE, for
				* their trailers (the crew's; NULL: no framed ones) */
	const uint8_t *key;                   /* --key-file: their headers are signed (NULL: not) */
	size_t keylen;
	int tree; /* they are relays of a tree: the run reports on every host */
	/* The root of a tree whose source can be read again (a file, a block
	 * device): its descriptor and the offset of the stream's byte 0 there,
	 * for an adopted host behind the ring (-1: none). */
	int refill_fd;
	off_t refill_base;
	/* A tree, main thread: child d asked this node to resume host, cut at
	 * offset (frame.h's ask). */
	void (*on_ask)(struct dest *d, const char *host, uint64_t offset);
	/* A tree, main thread: adopted d answered offset, which the ring no
	 * longer holds: ask this node's sender to resume it.  0 when asked,
	 * -errno when there is no one to ask (-ENOSYS: this is the root). */
	int (*hand_up)(struct dest *d, uint64_t offset);
	/* Called once when a destination reaches DEST_DONE or DEST_FAILED. */
	void (*on_finish)(struct dest *d);
};

struct dest {
	struct loop_io io;
	struct ring_reader rd;
	struct dest_group *g;
	const char *name; /* as the user wrote it */
	enum dest_kind kind;
	const char *path;  /* DEST_FILE: the path to write */
	char *part;        /* DEST_FILE: PATH.part while it is written (output.c) */
	int polled;        /* an output watched for EPOLLOUT (a pipe) */
	int out_sock;      /* an output that is a socket: sent to, not written */
	char *real;        /* DEST_FILE: path as output_check resolved it (the crew's) */
	struct framed *fr; /* DEST_FRAMED: the protocol's state (framed.c) */
	uint8_t *plan;     /* DEST_FRAMED in a tree: its PLAN (the crew's) */
	char *owned;       /* the name, when the crew made it (a tree's child) */
	char *unresolved;  /* a tree's child whose name did not resolve: why (the crew's) */
	size_t plan_len;
	size_t depth_below;     /* a tree's child: how many hosts deep its subtree goes
				   below it (0: a leaf) */
	int resume;             /* adopted: it goes on from the offset it answers */
	unsigned busy_tries;    /* it answered busy this many times (dest.c) */
	int adopted_out;        /* failed, and its children were adopted */
	int behind;             /* adopted, and its offset is not in the ring */
	int handed_up;          /* so it was left to a host further up (hand_up) */
	uint64_t refill_at;     /* adopted behind the ring: stream bytes refill_at to */
	uint64_t refill_end;    /* refill_end come from the source (refill_fd) first */
	struct addrinfo *addrs; /* resolved at start-up; freed once connected */
	struct addrinfo *next_addr;
	struct dest *drain_next;
	struct dest *prev, *next; /* the owner's list */
	struct tx_peer px;        /* what its transport sees of it, while streaming */
	enum dest_state state;
	int connected;     /* got past connect, so a failure has a byte count */
	int subscriber;    /* accepted, not connected to */
	int switched;      /* auto moved it to copying sends */
	uint64_t joined;   /* the stream offset it started at */
	unsigned tries;    /* connect tries that failed */
	uint64_t deadline; /* now_ms() when the current try or wait ends, 0: none */
	int err;           /* errno of the failure */
	const char *err_op;
	uint64_t stall_key;      /* progress as last seen by the stall check */
	uint64_t stall_since;    /* now_ms() when it last changed */
	uint64_t blocking_since; /* --slow drop: now_ms() since when it has held the
				    others back at every check, 0: it does not */
	uint64_t blocking_mark;  /* the head then: reaching it restarts the clock */
};

/* Start connecting d (already resolved into d->addrs).  Failure to connect
 * is reported through on_finish, never here. */
void dest_connect(struct dest *d);
/* Start streaming to d on fd, a connection accepted from a subscriber.
 * Failure is reported through on_finish. */
void dest_accept(struct dest *d, int fd);
/* Called now and then: end a connect try that took too long, start the
 * next try when its wait is over. */
void dest_check_deadline(struct dest *d, uint64_t now);
/* New data at ring head, a completion, or the source ended: let d move on. */
void dest_kick(struct dest *d);
/* Give up on d with errno e while doing op; it stops holding the ring. */
void dest_fail(struct dest *d, const char *op, int e);

/* Why d failed, as "send: Connection reset by peer", into buf; "" if it
 * did not (or the reason was told once for all).  Returns buf. */
const char *dest_error(const struct dest *d, char *buf, size_t len);

/* A local output (file:PATH, -), written rather than sent. */
static inline int dest_is_output(const struct dest *d)
{
	return d->kind == DEST_FILE || d->kind == DEST_STDOUT;
}

static inline int dest_live(const struct dest *d)
{
	return d->state != DEST_DONE && d->state != DEST_FAILED;
}

#endif
