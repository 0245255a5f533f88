/*
 * The msgzc transport: send(MSG_ZEROCOPY) straight from the ring's pages.
 * The kernel pins the pages instead of copying them and later reports, on the
 * socket's error queue, which sends it no longer references: each successful
 * zero-copy send gets the next 32-bit id, and a notification covers an
 * inclusive range of ids.  A destination's `done` advances over the longest
 * prefix of its sends that have completed, so the ring reuses a region only
 * after the kernel let go of it.  When the kernel refuses zero copy for a
 * send (ENOBUFS: the locked-memory limit for pinned pages), that chunk is
 * sent by copying, which is complete at once; so is every later chunk of a
 * destination the kernel copies for anyway (tx_adapt_note).
 */
#include "net.h"
#include "ring.h"
#include "tx.h"
#include "util.h"

#include <errno.h>
#include <linux/errqueue.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

/* Sends in flight per destination; with chunks of 256 KiB that is 4 MiB,
 * more than a socket buffer holds, so the window rarely stops a sender. */
#define WINDOW 16
#define NO_ID  UINT32_MAX /* a copied send: complete when issued */

struct zc_state {
	struct {
		uint64_t end; /* stream offset just past this send */
		uint32_t id;  /* zero-copy id, or NO_ID */
		uint8_t complete;
	} w[WINDOW];
	unsigned first, count; /* the window, oldest first */
	uint32_t next_id;      /* the id the kernel gives the next zero-copy send */
	uint64_t pending;      /* zero-copy sends without a completion */
	struct tx_adapt adapt;
};

static int msgzc_probe(void)
{
	int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	int rc = setsockopt(fd, SOL_SOCKET, SO_ZEROCOPY, &one, sizeof(one)) < 0 ? -errno : 0;
	close(fd);
	return rc;
}

static int msgzc_attach(struct tx *tx, struct tx_peer *p)
{
	int one = 1;
	struct zc_state *z = calloc(1, sizeof(*z));

	(void)tx;
	if (!z)
		return -ENOMEM;
	if (setsockopt(p->fd, SOL_SOCKET, SO_ZEROCOPY, &one, sizeof(one)) < 0) {
		int e = errno;
		free(z);
		return -e;
	}
	p->state = z;
	net_nodelay(p->fd);
	return 0;
}

/* Advance done over the completed prefix of the window. */
static void retire(struct tx_peer *p, struct zc_state *z)
{
	while (z->count && z->w[z->first].complete) {
		p->rd->done = z->w[z->first].end;
		z->first = (z->first + 1) % WINDOW;
		z->count--;
	}
}

static void record(struct tx_peer *p, struct zc_state *z, uint64_t end, uint32_t id)
{
	unsigned i = (z->first + z->count) % WINDOW;

	z->w[i].end = end;
	z->w[i].id = id;
#ifdef RINGCAST_RECLAIM_ON_SEND
	/* Debug builds only: trust the send result alone, which is wrong. */
	z->w[i].complete = 1;
#else
	z->w[i].complete = id == NO_ID;
#endif
	z->count++;
	retire(p, z);
}

static int msgzc_push(struct tx *tx, struct tx_peer *p)
{
	struct ring *r = tx->ring;
	struct zc_state *z = p->state;

	while (p->rd->sent < r->head && z->count < WINDOW) {
		uint8_t *buf;
		size_t len = ring_read_span(r, p->rd->sent, tx->chunk, &buf);
		ssize_t n = tx_sock_send(tx, p, buf, len, z->adapt.copy ? 0 : MSG_ZEROCOPY);
		uint32_t id = NO_ID;

		if (n > 0 && !z->adapt.copy) {
			id = z->next_id++;
			z->pending++;
			tx->n.zc_sends++;
		} else if (n == -ENOBUFS) {
			n = tx_sock_send(tx, p, buf, len, 0);
			if (n > 0)
				tx->n.fallback++;
		}
		if (n <= 0)
			return (int)n;
		p->rd->sent += (uint64_t)n;
		record(p, z, p->rd->sent, id);
	}
	return 0;
}

/* Mark ids lo..hi (inclusive, modulo 2^32) complete.  Returns 1 when that
 * switched the peer to copying sends (tx_adapt_note), else 0. */
static int complete_range(struct tx *tx, struct zc_state *z, uint32_t lo, uint32_t hi, int copied)
{
	uint32_t n = hi - lo + 1;
	int switched = 0;

	for (unsigned k = 0; k < z->count; k++) {
		unsigned i = (z->first + k) % WINDOW;
		if (z->w[i].id != NO_ID && (uint32_t)(z->w[i].id - lo) < n && !z->w[i].complete) {
			z->w[i].complete = 1;
			z->pending--;
			tx->n.zc_done++;
			tx->n.zc_copied += copied != 0;
			switched |= tx_adapt_note(tx, &z->adapt, copied);
		}
	}
	return switched;
}

/* Take p's completions from its error queue.  0 when there are no more,
 * -errno when the queue holds an error instead; *switched set when they
 * switched p to copying sends. */
static int take_completions(struct tx *tx, struct tx_peer *p, struct zc_state *z, int *switched)
{
	for (;;) {
		char control[128];
		struct msghdr msg = { .msg_control = control, .msg_controllen = sizeof(control) };

		if (recvmsg(p->fd, &msg, MSG_ERRQUEUE | MSG_DONTWAIT) < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN ? 0 : -errno;
		}
		for (struct cmsghdr *cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
			if (!((cm->cmsg_level == SOL_IP && cm->cmsg_type == IP_RECVERR) ||
			      (cm->cmsg_level == SOL_IPV6 && cm->cmsg_type == IPV6_RECVERR)))
				continue;
			const struct sock_extended_err *ee = (const void *)CMSG_DATA(cm);
			if (ee->ee_origin != SO_EE_ORIGIN_ZEROCOPY)
				return ee->ee_errno ? -(int)ee->ee_errno : -EIO;
			*switched |= complete_range(tx, z, ee->ee_info, ee->ee_data,
						    ee->ee_code & SO_EE_CODE_ZEROCOPY_COPIED);
		}
	}
}

static int msgzc_reap(struct tx *tx, struct tx_peer *p)
{
	struct zc_state *z = p->state;
	int switched = 0;

	if (!z)
		return 0;
	int rc = take_completions(tx, p, z, &switched);
	if (switched)
		tx->on_peer(tx, p, TX_EV_SWITCHED, 0);
	if (rc < 0)
		return rc;
	retire(p, z);
	return 0;
}

static uint64_t msgzc_detach(struct tx *tx, struct tx_peer *p)
{
	struct zc_state *z = p->state;
	uint64_t pending = z->pending;

	(void)tx;
	free(z);
	p->state = NULL;
	return pending;
}

const struct tx_ops tx_msgzc_ops = {
	.name = "msgzc",
	.completions = 1,
	.probe = msgzc_probe,
	.attach = msgzc_attach,
	.push = msgzc_push,
	.reap = msgzc_reap,
	.detach = msgzc_detach,
};
