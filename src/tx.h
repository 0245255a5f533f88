/*
 * Transports: how a peer is sent bytes from the ring.  Each lives in its own
 * tx_<name>.c behind struct tx_ops.  A transport advances a reader's `sent`
 * when the kernel takes bytes and its `done` when the kernel says it no
 * longer references them; the ring reuses space only below every `done`.
 *
 * A transport knows a peer only as the struct tx_peer its owner embeds (a
 * destination, dest.c), and never calls its owner but through tx->on_peer,
 * after a completion pass: the owner may then fail the peer, which detaches
 * it, without freeing anything the transport is still walking.
 */
#ifndef RINGCAST_TX_H
#define RINGCAST_TX_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum tx_kind {
	TX_AUTO,
	TX_URING,
	TX_MSGZC,
	TX_SENDFILE,
	TX_COPY,
	TX_NKINDS
};

struct ring;
struct ring_reader;
struct loop;
struct tx;

/* What a transport sees of one connected peer.  The owner sets fd, rd and
 * writable before attach; the transport keeps its own state in state from
 * attach to detach. */
struct tx_peer {
	int fd;                 /* the connected socket */
	int writable;           /* it took every byte offered last time; a push
				 * clears it when the socket is full */
	struct ring_reader *rd; /* its sent and done, which the transport advances */
	void *state;            /* the transport's, from attach to detach */
};

/* What a transport tells a peer's owner (bits of on_peer's events). */
enum {
	TX_EV_MOVED = 1,    /* a completion came: sent or done moved, push again */
	TX_EV_SWITCHED = 2, /* auto moved it to copying sends (tx_adapt_note) */
	TX_EV_FAILED = 4,   /* its send failed with errno err: fail it */
};

/* Called by a transport whose completions arrive on their own (uring), once
 * per peer after each pass over them, and by any transport when a peer is
 * switched to copying sends.  The owner may push to p, or fail and detach
 * it, from here. */
typedef void tx_peer_fn(struct tx *tx, struct tx_peer *p, unsigned events, int err);

struct tx_ops {
	const char *name;
	int completions; /* sends complete by a later kernel notification */
	/* 0 when this build and kernel can run it, else -errno (-ENOSYS: not built). */
	int (*probe)(void);
	/* Optional: set up for tx->ring; 0, or -errno with *why saying which
	 * step failed when that is worth telling (a static string). */
	int (*open)(struct tx *tx, const char **why);
	/* Optional: a connected socket joins; 0 or -errno. */
	int (*attach)(struct tx *tx, struct tx_peer *p);
	/* Send p's unsent bytes toward ring head until done or the socket is
	 * full (then clear p->writable).  0, or -errno when p has failed. */
	int (*push)(struct tx *tx, struct tx_peer *p);
	/* Optional: p's socket reported EPOLLERR; take completions from its
	 * error queue and advance p->rd->done.  0, or -errno when p has failed. */
	int (*reap)(struct tx *tx, struct tx_peer *p);
	/* Optional: submit what push queued; runs once per loop pass. */
	void (*flush)(struct tx *tx);
	/* Optional: p leaves; free what attach gave it.  Returns the number of
	 * sends still awaiting a completion (0 unless p failed). */
	uint64_t (*detach)(struct tx *tx, struct tx_peer *p);
	/* Optional: undo open. */
	void (*close)(struct tx *tx);
};

struct tx_counters {
	uint64_t sends; /* send calls that moved bytes */
	uint64_t bytes;
	uint64_t zc_sends;    /* of them, zero-copy sends awaiting a completion */
	uint64_t zc_done;     /* completions received */
	uint64_t zc_copied;   /* completions the kernel marked as copied anyway */
	uint64_t fallback;    /* sends made by copying because zero copy was refused */
	uint64_t switched;    /* destinations moved to copying sends (tx_adapt_note) */
	uint64_t unaccounted; /* sends of finished destinations never completed: a bug */
};

/* Per peer: should its zero-copy sends become copying sends? */
struct tx_adapt {
	unsigned copied, kept; /* completions marked copied by the kernel, and not */
	int copy;              /* decided: send by copying from now on */
};

struct tx {
	const struct tx_ops *ops;
	struct ring *ring;
	struct loop *loop;
	size_t chunk;        /* largest single send */
	int adapt;           /* switch destinations the kernel copies for anyway (auto) */
	tx_peer_fn *on_peer; /* the peers' owner's, set before the first attach */
	struct tx_counters n;
	void *priv;
};

extern const struct tx_ops tx_copy_ops;
extern const struct tx_ops tx_msgzc_ops;
extern const struct tx_ops tx_uring_ops;
extern const struct tx_ops tx_sendfile_ops;

/* A completion for a peer arrived; copied says the kernel copied the pages
 * anyway (loopback, veth).  In adaptive mode, after a few completions that
 * were all copied, sets a->copy (a copying send then costs less,
 * BENCHMARKS.md) and returns 1: the caller reports TX_EV_SWITCHED.  Else 0. */
int tx_adapt_note(struct tx *tx, struct tx_adapt *a, int copied);

/* Short sends: a send on a non-blocking socket that took less than it was
 * offered found the socket full: the kernel stopped for want of room (send
 * buffer, or TCP_NOTSENT_LOWAT) and marked it so (SOCK_NOSPACE), so the
 * edge-triggered EPOLLOUT comes once there is room again.  The transports
 * whose sends complete at once stop there rather than ask again for an
 * EAGAIN: at 1000 destinations, 41% of all sendfile() calls were those
 * (strace -c). */

/* send() for transports: retries EINTR, counts what moved.  Returns bytes
 * taken, 0 when the socket is full (p->writable cleared), or -errno. */
ssize_t tx_sock_send(struct tx *tx, struct tx_peer *p, const void *buf, size_t len, int flags);

const char *tx_kind_name(enum tx_kind k);
/* Name to kind; -1 if unknown. */
int tx_kind_parse(const char *name);
/* The ops for a kind other than TX_AUTO. */
const struct tx_ops *tx_ops_for(enum tx_kind k);
/* Choose the transport for `want` and open it on tx (ring, loop and chunk
 * already set).  `auto` takes the first of its ranking that the kernel
 * allows.  Returns 0, or -1 after telling the user why. */
int tx_start(struct tx *tx, enum tx_kind want);
/* Open on tx the transport `first` runs (another thread's, -j), adapting
 * as it does; when that fails under auto, whatever auto can get here.  0,
 * or -1 after telling the user why. */
int tx_start_like(struct tx *tx, const struct tx *first);
/* Add the counters of from to to. */
void tx_counters_add(struct tx_counters *to, const struct tx_counters *from);
/* The exit statistics, under -v. */
void tx_report(const struct tx *tx);

#endif
