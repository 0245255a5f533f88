/* The copy transport: plain send() from the ring.  The kernel copies the bytes
 * into the socket buffer before send() returns, so a send is complete (its
 * ring bytes are reusable) as soon as it returns. */
#include "dest.h"
#include "ring.h"
#include "tx.h"

#include <errno.h>
#include <sys/socket.h>

static int copy_probe(void)
{
	return 0;
}

static int copy_push(struct tx *tx, struct dest *d)
{
	struct ring *r = tx->ring;

	while (d->rd.sent < r->head) {
		uint8_t *p;
		size_t len = ring_read_span(r, d->rd.sent, tx->chunk, &p);
		ssize_t n = send(d->io.fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				d->writable = 0;
				return 0;
			}
			return -errno;
		}
		d->rd.sent += (uint64_t)n;
		d->rd.done = d->rd.sent;
		tx->n.sends++;
		tx->n.bytes += (uint64_t)n;
	}
	return 0;
}

const struct tx_ops tx_copy_ops = {
	.name = "copy",
	.probe = copy_probe,
	.push = copy_push,
};
