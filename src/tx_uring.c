/*
 * The uring transport: io_uring SEND_ZC from the ring, registered as fixed
 * buffers a slot at a time (a file ring's read-only mapping cannot be: its
 * sends name their buffer each time).  Each destination has at most one send in flight, so its
 * bytes leave in order; the send's result CQE advances `sent`, and the later
 * notification CQE (IORING_CQE_F_NOTIF), posted when the kernel drops its
 * last reference to the pages, lets `done` advance over them.  A result
 * without IORING_CQE_F_MORE has no notification to wait for.
 *
 * Completions wake the epoll loop through an eventfd.  A pass over them
 * notes, per peer, what they said (moved, failed, switched), and only after
 * the pass tells the owner (tx->on_peer), who may then push, or fail the
 * peer and so detach it.  Sends queued while handling one loop pass are
 * submitted together by the flush hook.
 *
 * A destination the kernel copies for anyway (tx_adapt_note) is switched to
 * plain IORING_OP_SEND, which copies once and needs no notification; so is
 * one chunk after the kernel refused zero copy with ENOBUFS.
 */
#include "net.h"
#include "loop.h"
#include "ring.h"
#include "tx.h"
#include "util.h"

#include <errno.h>
#include <linux/capability.h>
#include <liburing.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Debian 12's liburing 2.3 predates these; the kernel (6.0+) knows them. */
#ifndef IORING_SEND_ZC_REPORT_USAGE
#define IORING_SEND_ZC_REPORT_USAGE (1U << 3)
#endif
#ifndef IORING_NOTIF_USAGE_ZC_COPIED
#define IORING_NOTIF_USAGE_ZC_COPIED (1U << 31)
#endif

#define WINDOW 16 /* sends per destination awaiting completion */
/* Registered buffers are slots of the mapping of 1 << shift bytes: 1 MiB,
 * more for a ring above 16 GiB (the kernel takes at most MAX_SLOTS).  Each
 * is registered (pinned) when a send first comes from it, after the source
 * wrote it: registering the whole ring at once faults in every page of it
 * (about 0.4 ms per MiB here), which a ring that never grows to its full
 * size (ring.h) need not pay. */
#define SLOT_SHIFT 20
#define MAX_SLOTS  16384
#define SQ_ENTRIES 256
#define CQ_ENTRIES 4096

struct uz_peer;

struct uz_send {
	struct uz_peer *z;
	uint64_t end;      /* stream offset just past this send, once its result came */
	uint8_t result;    /* its result CQE arrived */
	uint8_t notif_due; /* ... and said a notification follows */
	uint8_t notif;     /* the notification arrived */
};

struct uz_peer {
	struct tx_peer *p; /* NULL once the peer left with CQEs outstanding */
	struct uz_send w[WINDOW];
	unsigned first, count;      /* the window, oldest first */
	int inflight;               /* a send without its result */
	int copy_next;              /* send the next chunk by copying (after ENOBUFS) */
	int poll_first;             /* the next send waits for room first (after EAGAIN) */
	struct tx_adapt adapt;      /* copy from now on? */
	uint64_t pending;           /* zero-copy sends without their notification */
	unsigned events;            /* TX_EV_* for the owner after this pass; listed */
	int err;                    /* with TX_EV_FAILED: the first error */
	struct uz_peer *next_event; /* the list of those with events */
	struct uz_peer *next_orphan;
};

struct uz {
	struct io_uring ring;
	struct loop_io ev; /* the eventfd the ring signals */
	struct tx *tx;
	unsigned nbufs, shift; /* slots, and their size's log2; 0 slots: none */
	uint8_t *slot;         /* each: 0 not yet registered, 1 registered, 2 refused */
	struct uz_peer *orphans;
	struct uz_peer *events, **events_tail; /* peers to tell, in order */
};

/* A test hook: pretend the kernel has io_uring disabled. */
static int disabled_for_test(void)
{
	const char *s = getenv("RINGCAST_TEST_NO_URING");

	return s && *s && strcmp(s, "0");
}

static int uring_probe(void)
{
	struct io_uring r;

	if (disabled_for_test())
		return -EPERM;
	int rc = io_uring_queue_init(2, &r, 0);
	if (rc < 0)
		return rc;
	struct io_uring_probe *p = io_uring_get_probe_ring(&r);
	if (!p || !io_uring_opcode_supported(p, IORING_OP_SEND_ZC))
		rc = -EOPNOTSUPP;
	if (p)
		io_uring_free_probe(p);
	io_uring_queue_exit(&r);
	return rc;
}

static int is_complete(const struct uz_send *s)
{
#ifdef RINGCAST_RECLAIM_ON_SEND
	/* Debug builds only: trust the send result alone, which is wrong. */
	return s->result;
#else
	return s->result && (!s->notif_due || s->notif);
#endif
}

/* Advance done over the completed prefix of the window. */
static void retire(struct uz_peer *z)
{
	while (z->count && is_complete(&z->w[z->first])) {
		if (z->p)
			z->p->rd->done = z->w[z->first].end;
		z->first = (z->first + 1) % WINDOW;
		z->count--;
	}
}

static void orphan_free_if_quiet(struct uz *u, struct uz_peer *z)
{
	if (z->p || z->inflight || z->pending || z->events)
		return;
	for (struct uz_peer **pp = &u->orphans; *pp; pp = &(*pp)->next_orphan) {
		if (*pp == z) {
			*pp = z->next_orphan;
			break;
		}
	}
	free(z);
}

/* Returns an errno when z's peer failed, else 0. */
static int on_result(struct tx *tx, struct uz_peer *z, struct uz_send *s,
		     const struct io_uring_cqe *cqe)
{
	struct tx_peer *p = z->p;

	z->inflight = 0;
	s->result = 1;
	s->notif_due = (cqe->flags & IORING_CQE_F_MORE) != 0;
	if (s->notif_due && !s->notif)
		z->pending++;
	if (!p)
		return 0;
	if (cqe->res > 0) {
		tx->n.sends++;
		tx->n.bytes += (uint64_t)cqe->res;
		p->rd->sent += (uint64_t)cqe->res;
	}
	s->end = p->rd->sent;
	retire(z);
	switch (cqe->res) {
	case -EAGAIN: /* the socket is full: let io_uring wait for room */
		z->poll_first = 1;
		return 0;
	case -ENOBUFS: /* zero copy refused: send the next chunk by copying */
		z->copy_next = 1;
		return 0;
	case -EINTR:
		return 0;
	}
	return cqe->res < 0 ? -cqe->res : 0;
}

/* Returns TX_EV_SWITCHED when the notification switched z, else 0. */
static unsigned on_notif(struct tx *tx, struct uz_peer *z, struct uz_send *s,
			 const struct io_uring_cqe *cqe)
{
	int copied = (cqe->res & IORING_NOTIF_USAGE_ZC_COPIED) != 0;
	unsigned ev = 0;

	s->notif = 1;
	if (s->result && s->notif_due)
		z->pending--;
	tx->n.zc_done++;
	tx->n.zc_copied += copied;
	if (z->p && tx_adapt_note(tx, &z->adapt, copied))
		ev = TX_EV_SWITCHED;
	retire(z);
	return ev;
}

/* Note events (and err, if it is the first) for z's owner, after the pass. */
static void note(struct uz *u, struct uz_peer *z, unsigned events, int err)
{
	if (!z->events) {
		z->next_event = NULL;
		*u->events_tail = z;
		u->events_tail = &z->next_event;
	}
	z->events |= events;
	if (err && !z->err) {
		z->events |= TX_EV_FAILED;
		z->err = err;
	}
}

/* Tell each owner what the pass found.  An owner may fail its peer, and so
 * detach it (and another's); a detached one is only freed here, once off
 * the list. */
static void tell(struct tx *tx, struct uz *u)
{
	struct uz_peer *z;

	while ((z = u->events)) {
		unsigned events = z->events;
		int err = z->err;

		u->events = z->next_event;
		z->events = 0;
		z->err = 0;
		if (z->p)
			tx->on_peer(tx, z->p, events, err); /* z may be freed */
		else
			orphan_free_if_quiet(u, z);
	}
	u->events_tail = &u->events;
}

static void reap(struct tx *tx)
{
	struct uz *u = tx->priv;
	struct io_uring_cqe *cqe;

	while (io_uring_peek_cqe(&u->ring, &cqe) == 0) {
		struct uz_send *s = io_uring_cqe_get_data(cqe);

		if (s) {
			struct uz_peer *z = s->z;
			unsigned ev = TX_EV_MOVED;
			int err = 0;
			if (cqe->flags & IORING_CQE_F_NOTIF)
				ev |= on_notif(tx, z, s, cqe);
			else
				err = on_result(tx, z, s, cqe);
			if (z->p)
				note(u, z, ev, err);
			else
				orphan_free_if_quiet(u, z);
		}
		io_uring_cqe_seen(&u->ring, cqe);
	}
	tell(tx, u);
}

static void on_eventfd(struct loop_io *io, uint32_t events)
{
	struct uz *u = container_of(io, struct uz, ev);
	uint64_t n;

	(void)events;
	while (read(io->fd, &n, sizeof(n)) < 0 && errno == EINTR)
		;
	reap(u->tx);
}

/* Registering bytes counts against RLIMIT_MEMLOCK unless the process has
 * CAP_IPC_LOCK (io_uring's accounting): checked here, before anything is
 * sent, as registering the whole ring at once would, rather than when a
 * slot far into the stream is refused.  0, or -ENOMEM. */
static int memlock_allows(size_t bytes)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2];
	struct rlimit rl;

	if (syscall(SYS_capget, &h, d) == 0 &&
	    (d[CAP_IPC_LOCK / 32].effective >> (CAP_IPC_LOCK % 32) & 1))
		return 0;
	if (getrlimit(RLIMIT_MEMLOCK, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY)
		return 0;
	return bytes > rl.rlim_cur ? -ENOMEM : 0;
}

/* The slots: none for a file ring, else sparse, filled by slot_for. */
static int open_slots(struct uz *u, const struct ring *r)
{
	int rc;

	if (r->file)
		return 0;
	if ((rc = memlock_allows(r->size_max)) < 0)
		return rc;
	u->shift = SLOT_SHIFT;
	while (((r->size_max - 1) >> u->shift) >= MAX_SLOTS)
		u->shift++;
	u->nbufs = (unsigned)(((r->size_max - 1) >> u->shift) + 1);
	if (!(u->slot = calloc(u->nbufs, 1)))
		return -ENOMEM;
	return io_uring_register_buffers_sparse(&u->ring, u->nbufs);
}

/* The registered buffer of the slot at mapping offset off, registering it
 * now if it is not yet; -1 when the kernel refused it (its sends then name
 * their buffer, as a file ring's do). */
static int slot_for(struct uz *u, const struct ring *r, size_t off)
{
	unsigned i = (unsigned)(off >> u->shift);

	if (!u->slot[i]) {
		size_t at = (size_t)i << u->shift;
		struct iovec iov = { r->base + at, MIN(r->size_max - at, (size_t)1 << u->shift) };
		int rc = io_uring_register_buffers_update_tag(&u->ring, i, &iov, NULL, 1);

		u->slot[i] = rc == 1 ? 1 : 2;
		if (rc != 1)
			info("uring: cannot register a slot of the ring: %s; sends from it name "
			     "their buffer",
			     strerror(rc < 0 ? -rc : EIO));
	}
	return u->slot[i] == 1 ? (int)i : -1;
}

static int uring_open(struct tx *tx, const char **why)
{
	struct ring *r = tx->ring;
	struct io_uring_params p = { .flags = IORING_SETUP_CQSIZE, .cq_entries = CQ_ENTRIES };
	struct uz *u = calloc(1, sizeof(*u));
	int rc;

	if (!u)
		return -ENOMEM;
	u->ev.fd = -1;
	u->tx = tx;
	u->events_tail = &u->events;
	if ((rc = io_uring_queue_init_params(SQ_ENTRIES, &u->ring, &p)) < 0) {
		free(u);
		return rc;
	}
	if ((rc = open_slots(u, r)) < 0) {
		*why = "cannot register the ring as io_uring buffers";
		goto fail;
	}
	u->ev.fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (u->ev.fd < 0 || (rc = io_uring_register_eventfd(&u->ring, u->ev.fd)) < 0) {
		rc = u->ev.fd < 0 ? -errno : rc;
		goto fail;
	}
	u->ev.cb = on_eventfd;
	if ((rc = loop_add(tx->loop, &u->ev, EPOLLIN)) < 0)
		goto fail;
	tx->priv = u;
	char sz[32];
	if (u->nbufs)
		info("uring: the ring is registered as %u fixed buffer%s of %s, each when a send "
		     "first comes from it",
		     u->nbufs, plural(u->nbufs),
		     fmt_bytes((uint64_t)1 << u->shift, sz, sizeof(sz)));
	return 0;
fail:
	if (u->ev.fd >= 0)
		close(u->ev.fd);
	io_uring_queue_exit(&u->ring);
	free(u->slot);
	free(u);
	return rc;
}

static int uring_attach(struct tx *tx, struct tx_peer *p)
{
	struct uz_peer *z = calloc(1, sizeof(*z));

	(void)tx;
	if (!z)
		return -ENOMEM;
	z->p = p;
	p->state = z;
	net_nodelay(p->fd);
	return 0;
}

static struct io_uring_sqe *get_sqe(struct uz *u)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);

	if (!sqe) { /* the queue is full: submit what is there and retry */
		io_uring_submit(&u->ring);
		sqe = io_uring_get_sqe(&u->ring);
	}
	return sqe;
}

/* Queue the next send for p: its unsent bytes up to one chunk, not across the
 * end of the mapping nor of a registered buffer. */
static int uring_push(struct tx *tx, struct tx_peer *p)
{
	struct uz *u = tx->priv;
	struct uz_peer *z = p->state;
	struct ring *r = tx->ring;

	if (z->inflight || z->count == WINDOW || p->rd->sent == r->head)
		return 0;
	struct io_uring_sqe *sqe = get_sqe(u);
	if (!sqe)
		return 0; /* retried on the next completion */
	uint8_t *data;
	size_t len = ring_read_span(r, p->rd->sent, tx->chunk, &data);
	size_t off = (size_t)(data - r->base);
	if (u->nbufs)
		len = MIN(len, (((off >> u->shift) + 1) << u->shift) - off);
	int buf = u->nbufs && !z->adapt.copy && !z->copy_next ? slot_for(u, r, off) : -1;
	if (z->adapt.copy || z->copy_next) {
		io_uring_prep_send(sqe, p->fd, data, len, MSG_NOSIGNAL);
		tx->n.fallback += z->copy_next;
		z->copy_next = 0;
	} else if (buf < 0) {
		io_uring_prep_send_zc(sqe, p->fd, data, len, MSG_NOSIGNAL,
				      IORING_SEND_ZC_REPORT_USAGE);
		tx->n.zc_sends++;
	} else {
		io_uring_prep_send_zc_fixed(sqe, p->fd, data, len, MSG_NOSIGNAL,
					    IORING_SEND_ZC_REPORT_USAGE, (unsigned)buf);
		tx->n.zc_sends++;
	}
	if (z->poll_first) {
		sqe->ioprio |= IORING_RECVSEND_POLL_FIRST;
		z->poll_first = 0;
	}
	struct uz_send *s = &z->w[(z->first + z->count++) % WINDOW];
	*s = (struct uz_send){ .z = z };
	io_uring_sqe_set_data(sqe, s);
	z->inflight = 1;
	return 0;
}

static void uring_flush(struct tx *tx)
{
	struct uz *u = tx->priv;

	if (io_uring_sq_ready(&u->ring))
		io_uring_submit(&u->ring);
}

/* p leaves.  With a send in flight, notifications due or events not yet
 * told, its state stays (orphaned) until they are over, and the send is
 * cancelled. */
static uint64_t uring_detach(struct tx *tx, struct tx_peer *p)
{
	struct uz *u = tx->priv;
	struct uz_peer *z = p->state;
	uint64_t pending = z->pending + (uint64_t)z->inflight;

	p->state = NULL;
	z->p = NULL;
	if (z->inflight) {
		struct io_uring_sqe *sqe = get_sqe(u);
		if (sqe) {
			io_uring_prep_cancel(sqe, &z->w[(z->first + z->count - 1) % WINDOW], 0);
			io_uring_sqe_set_data(sqe, NULL);
		}
	}
	z->next_orphan = u->orphans;
	u->orphans = z;
	orphan_free_if_quiet(u, z);
	return pending;
}

static void uring_close(struct tx *tx)
{
	struct uz *u = tx->priv;

	if (!u)
		return;
	loop_del(tx->loop, &u->ev);
	io_uring_queue_exit(&u->ring); /* waits for what the kernel still holds */
	close(u->ev.fd);
	while (u->orphans) {
		struct uz_peer *z = u->orphans;
		u->orphans = z->next_orphan;
		free(z);
	}
	free(u->slot);
	free(u);
	tx->priv = NULL;
}

const struct tx_ops tx_uring_ops = {
	.name = "uring",
	.completions = 1,
	.probe = uring_probe,
	.open = uring_open,
	.attach = uring_attach,
	.push = uring_push,
	.flush = uring_flush,
	.detach = uring_detach,
	.close = uring_close,
};
