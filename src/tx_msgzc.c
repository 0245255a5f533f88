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
#include "dest.h"
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
#define NO_ID UINT32_MAX /* a copied send: complete when issued */

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

static int msgzc_attach(struct tx *tx, struct dest *d)
{
	int one = 1;
	struct zc_state *z = calloc(1, sizeof(*z));

	(void)tx;
	if (!z)
		return -ENOMEM;
	if (setsockopt(d->io.fd, SOL_SOCKET, SO_ZEROCOPY, &one, sizeof(one)) < 0) {
		int e = errno;
		free(z);
		return -e;
	}
	d->tx_state = z;
	net_nodelay(d->io.fd);
	return 0;
}

/* Advance done over the completed prefix of the window. */
static void retire(struct dest *d, struct zc_state *z)
{
	while (z->count && z->w[z->first].complete) {
		d->rd.done = z->w[z->first].end;
		z->first = (z->first + 1) % WINDOW;
		z->count--;
	}
}

static void record(struct dest *d, struct zc_state *z, uint64_t end, uint32_t id)
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
	retire(d, z);
}

static int msgzc_push(struct tx *tx, struct dest *d)
{
	struct ring *r = tx->ring;
	struct zc_state *z = d->tx_state;

	while (d->rd.sent < r->head && z->count < WINDOW) {
		uint8_t *p;
		size_t len = ring_read_span(r, d->rd.sent, tx->chunk, &p);
		ssize_t n = tx_sock_send(tx, d, p, len, z->adapt.copy ? 0 : MSG_ZEROCOPY);
		uint32_t id = NO_ID;

		if (n > 0 && !z->adapt.copy) {
			id = z->next_id++;
			z->pending++;
			tx->n.zc_sends++;
		} else if (n == -ENOBUFS) {
			n = tx_sock_send(tx, d, p, len, 0);
			if (n > 0)
				tx->n.fallback++;
		}
		if (n <= 0)
			return (int)n;
		d->rd.sent += (uint64_t)n;
		record(d, z, d->rd.sent, id);
	}
	return 0;
}

/* Mark ids lo..hi (inclusive, modulo 2^32) complete. */
static void complete_range(struct tx *tx, struct dest *d, struct zc_state *z, uint32_t lo,
			   uint32_t hi, int copied)
{
	uint32_t n = hi - lo + 1;

	for (unsigned k = 0; k < z->count; k++) {
		unsigned i = (z->first + k) % WINDOW;
		if (z->w[i].id != NO_ID && (uint32_t)(z->w[i].id - lo) < n && !z->w[i].complete) {
			z->w[i].complete = 1;
			z->pending--;
			tx->n.zc_done++;
			tx->n.zc_copied += copied != 0;
			tx_adapt_note(tx, &z->adapt, d, copied);
		}
	}
}

static int msgzc_reap(struct tx *tx, struct dest *d)
{
	struct zc_state *z = d->tx_state;

	if (!z)
		return 0;
	for (;;) {
		char control[128];
		struct msghdr msg = { .msg_control = control, .msg_controllen = sizeof(control) };

		if (recvmsg(d->io.fd, &msg, MSG_ERRQUEUE | MSG_DONTWAIT) < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				break;
			return -errno;
		}
		for (struct cmsghdr *cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
			if (!((cm->cmsg_level == SOL_IP && cm->cmsg_type == IP_RECVERR) ||
			      (cm->cmsg_level == SOL_IPV6 && cm->cmsg_type == IPV6_RECVERR)))
				continue;
			const struct sock_extended_err *ee = (const void *)CMSG_DATA(cm);
			if (ee->ee_origin != SO_EE_ORIGIN_ZEROCOPY)
				return ee->ee_errno ? -(int)ee->ee_errno : -EIO;
			complete_range(tx, d, z, ee->ee_info, ee->ee_data,
				       ee->ee_code & SO_EE_CODE_ZEROCOPY_COPIED);
		}
	}
	retire(d, z);
	return 0;
}

static uint64_t msgzc_detach(struct tx *tx, struct dest *d)
{
	struct zc_state *z = d->tx_state;
	uint64_t pending = z->pending;

	(void)tx;
	free(z);
	d->tx_state = NULL;
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
