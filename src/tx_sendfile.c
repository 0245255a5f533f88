/*
 * The sendfile transport: sendfile() from the ring's memfd.  The socket
 * takes references to the memfd's pages instead of copying them, and keeps
 * them until the peer has read them (on loopback and veth, even after the
 * ACK), with no completion to say when.  So this transport asks the ring to
 * retire each block before rewriting it (ring_set_retire): sends in flight
 * keep the old pages, and a send counts as done as soon as it returns.
 * Never from a file's own pages (ring_file.c): on loopback and veth the
 * receiver's queue would hold the page cache's pages, and a write to the
 * file after the run, once the lease is gone, would change bytes a
 * receiver had been sent whole (the fan-out gives sendfile a ring).
 */
#include "ring.h"
#include "tx.h"

#include <errno.h>
#include <sys/sendfile.h>

static int sendfile_probe(void)
{
	return 0;
}

static int sendfile_open(struct tx *tx, const char **why)
{
	const struct ring *r = tx->ring->writer ? tx->ring->writer : tx->ring;

	if (r->fd < 0 || r->file) {
		*why = "the ring is not a memfd";
		return -EINVAL;
	}
	int rc = ring_set_retire(tx->ring);
	if (rc < 0)
		*why = "the ring size must be a multiple of the page size";
	return rc;
}

static int sendfile_push(struct tx *tx, struct tx_peer *p)
{
	struct ring *r = tx->ring;

	while (p->rd->sent < r->head) {
		off_t off = (off_t)(p->rd->sent % r->size);
		size_t len = ring_read_span(r, p->rd->sent, tx->chunk, NULL);
		ssize_t n = sendfile(p->fd, r->fd, &off, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			p->writable = 0;
			return 0;
		}
		if (n <= 0)
			return n < 0 ? -errno : -EPIPE;
		tx->n.sends++;
		tx->n.bytes += (uint64_t)n;
		p->rd->sent += (uint64_t)n;
		p->rd->done = p->rd->sent;
		if ((size_t)n < len) { /* it is full (tx.h: short sends) */
			p->writable = 0;
			return 0;
		}
	}
	return 0;
}

const struct tx_ops tx_sendfile_ops = {
	.name = "sendfile",
	.probe = sendfile_probe,
	.open = sendfile_open,
	.push = sendfile_push,
};
