/* The copy transport: plain send() from the ring.  The kernel copies the bytes
 * into the socket buffer before send() returns, so a send is complete (its
 * ring bytes are reusable) as soon as it returns. */
#include "ring.h"
#include "tx.h"

static int copy_probe(void)
{
	return 0;
}

static int copy_push(struct tx *tx, struct tx_peer *p)
{
	struct ring *r = tx->ring;

	while (p->rd->sent < r->head) {
		uint8_t *buf;
		size_t len = ring_read_span(r, p->rd->sent, tx->chunk, &buf);
		ssize_t n = tx_sock_send(tx, p, buf, len, 0);

		if (n <= 0)
			return (int)n;
		p->rd->sent += (uint64_t)n;
		p->rd->done = p->rd->sent;
		if ((size_t)n < len) { /* it is full (tx.h: short sends) */
			p->writable = 0;
			return 0;
		}
	}
	return 0;
}

const struct tx_ops tx_copy_ops = {
	.name = "copy",
	.probe = copy_probe,
	.push = copy_push,
};
