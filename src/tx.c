/* The transport registry and the choice `auto` makes. */
#include "tx.h"
#include "dest.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>

static const char *const names[TX_NKINDS] = {
	[TX_AUTO] = "auto",
	[TX_URING] = "uring",
	[TX_MSGZC] = "msgzc",
	[TX_SENDFILE] = "sendfile",
	[TX_COPY] = "copy",
};

ssize_t tx_sock_send(struct tx *tx, struct dest *d, const void *p, size_t len, int flags)
{
	for (;;) {
		ssize_t n = send(d->io.fd, p, len, flags | MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n > 0) {
			tx->n.sends++;
			tx->n.bytes += (uint64_t)n;
			return n;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			d->writable = 0;
			return 0;
		}
		return n < 0 ? -errno : -EPIPE;
	}
}

const char *tx_kind_name(enum tx_kind k)
{
	return k < TX_NKINDS ? names[k] : "?";
}

int tx_kind_parse(const char *name)
{
	for (int k = 0; k < TX_NKINDS; k++)
		if (!strcmp(name, names[k]))
			return k;
	return -1;
}

const struct tx_ops *tx_ops_for(enum tx_kind k)
{
	switch (k) {
	case TX_COPY:
		return &tx_copy_ops;
	case TX_MSGZC:
		return &tx_msgzc_ops;
	default:
		return NULL;
	}
}

const struct tx_ops *tx_choose(enum tx_kind want, const char **why, const char **reason)
{
	if (want == TX_AUTO) {
		/* Until the zero-copy transports are ranked by measurement
		 * (BENCHMARKS.md), auto keeps the copy transport: on loopback,
		 * where the tests and benchmarks run, the kernel copies
		 * zero-copy sends at delivery anyway. */
		*reason = "auto: zero-copy transports are not ranked yet";
		return &tx_copy_ops;
	}
	const struct tx_ops *ops = tx_ops_for(want);
	if (!ops) {
		*why = "not available in this version yet (use copy or auto)";
		return NULL;
	}
	int e = ops->probe();
	if (e) {
		*why = strerror(-e);
		return NULL;
	}
	*reason = "asked for with --transport";
	return ops;
}
