/* The transport registry and the choice `auto` makes. */
#include "ring.h"
#include "tx.h"
#include "util.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

static const char *const names[TX_NKINDS] = {
	[TX_AUTO] = "auto",         [TX_URING] = "uring", [TX_MSGZC] = "msgzc",
	[TX_SENDFILE] = "sendfile", [TX_COPY] = "copy",
};

ssize_t tx_sock_send(struct tx *tx, struct tx_peer *p, const void *buf, size_t len, int flags)
{
	for (;;) {
		ssize_t n = send(p->fd, buf, len, flags | MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n > 0) {
			tx->n.sends++;
			tx->n.bytes += (uint64_t)n;
			return n;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			p->writable = 0;
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
	case TX_URING:
		return &tx_uring_ops;
	case TX_MSGZC:
		return &tx_msgzc_ops;
	case TX_SENDFILE:
		return &tx_sendfile_ops;
	case TX_COPY:
		return &tx_copy_ops;
	default:
		return NULL;
	}
}

/* Completions looked at before deciding that a destination is copied for. */
#define COPIED_TO_SWITCH 4

int tx_adapt_note(struct tx *tx, struct tx_adapt *a, int copied)
{
	if (!tx->adapt || a->copy)
		return 0;
	if (copied)
		a->copied++;
	else
		a->kept++;
	if (a->copied < COPIED_TO_SWITCH || a->kept)
		return 0;
	a->copy = 1;
	tx->n.switched++;
	return 1;
}

/* auto's order, cheapest first, from bench/ (see BENCHMARKS.md). */
static const enum tx_kind ranking[] = { TX_URING, TX_MSGZC, TX_COPY };

/* Open ops on tx.  0, or -errno with *what saying what failed. */
static int try_open(struct tx *tx, const struct tx_ops *ops, const char **what)
{
	int rc = ops->probe();

	*what = "not supported by this kernel";
	if (rc == 0 && ops->open) {
		const char *why = NULL;
		rc = ops->open(tx, &why);
		*what = why ? why : "cannot set up";
	}
	if (rc == 0)
		tx->ops = ops;
	return rc;
}

/* The errno as text, with what the user can do about it when explicit. */
static const char *why_text(int e, int explicit, char *buf, size_t len)
{
	char lim[32];

	fmt_memlock(lim, sizeof(lim));
	if (e == ENOMEM || e == ENOBUFS)
		snprintf(buf, len, "%s (RLIMIT_MEMLOCK is %s%s)", strerror(e), lim,
			 explicit ? "; raise it with ulimit -l, or use --transport auto" : "");
	else if (e == EPERM)
		snprintf(buf, len, "%s (is io_uring disabled by kernel.io_uring_disabled?%s)",
			 strerror(e), explicit ? " use --transport auto" : "");
	else
		snprintf(buf, len, "%s", strerror(e));
	return buf;
}

int tx_start(struct tx *tx, enum tx_kind want)
{
	const char *what;
	char buf[200];
	int rc;

	if (want != TX_AUTO) {
		const struct tx_ops *ops = tx_ops_for(want);
		if ((rc = try_open(tx, ops, &what)) < 0) {
			errmsg("--transport %s: %s: %s", ops->name, what,
			       why_text(-rc, 1, buf, sizeof(buf)));
			return -1;
		}
		info("transport: %s (asked for with --transport)", ops->name);
		return 0;
	}
	tx->adapt = 1;
	if (tx->ring->fd >= 0 && try_open(tx, &tx_sendfile_ops, &what) == 0) {
		/* The fan-out made the ring a memfd for it (fanout.c:
		 * SENDFILE_FROM): the sockets share its pages. */
		info("transport: sendfile (auto: a file to many destinations, each socket sharing "
		     "the ring's pages)");
		return 0;
	}
	for (size_t i = 0; i < sizeof(ranking) / sizeof(ranking[0]); i++) {
		const struct tx_ops *ops = tx_ops_for(ranking[i]);
		if ((rc = try_open(tx, ops, &what)) == 0) {
			info("transport: %s (auto: %s)", ops->name,
			     i == 0 ? "it costs the least CPU per byte sent"
				    : "the cheapest that works here; the cheaper ones were skipped, "
				      "as said above");
			return 0;
		}
		info("transport %s skipped: %s: %s", ops->name, what,
		     why_text(-rc, 0, buf, sizeof(buf)));
	}
	errmsg("--transport auto: no transport works here");
	return -1;
}

int tx_start_like(struct tx *tx, const struct tx *first)
{
	const char *what;
	char buf[200];
	int rc = try_open(tx, first->ops, &what);

	if (rc < 0 && first->adapt) {
		/* auto: this thread takes what it can get (another registration of
		 * the ring may be over RLIMIT_MEMLOCK where the first was not). */
		info("transport %s skipped in another thread: %s: %s", first->ops->name, what,
		     why_text(-rc, 0, buf, sizeof(buf)));
		return tx_start(tx, TX_AUTO);
	}
	if (rc < 0) {
		errmsg("--transport %s, in another thread: %s: %s", first->ops->name, what,
		       why_text(-rc, 1, buf, sizeof(buf)));
		return -1;
	}
	tx->adapt = first->adapt;
	return 0;
}

void tx_counters_add(struct tx_counters *to, const struct tx_counters *from)
{
	to->sends += from->sends;
	to->bytes += from->bytes;
	to->zc_sends += from->zc_sends;
	to->zc_done += from->zc_done;
	to->zc_copied += from->zc_copied;
	to->fallback += from->fallback;
	to->switched += from->switched;
	to->unaccounted += from->unaccounted;
}

void tx_report(const struct tx *tx)
{
	const struct tx_counters *n = &tx->n;
	char b[32];

	info("%s: %llu send%s, %s", tx->ops->name, (unsigned long long)n->sends, plural(n->sends),
	     fmt_bytes(n->bytes, b, sizeof(b)));
	if (tx->ops->completions)
		info("%s: %llu zero-copy send%s, %llu completion%s (%llu copied by the kernel), "
		     "%llu send%s copied after ENOBUFS, %llu destination%s switched to copying",
		     tx->ops->name, (unsigned long long)n->zc_sends, plural(n->zc_sends),
		     (unsigned long long)n->zc_done, plural(n->zc_done),
		     (unsigned long long)n->zc_copied, (unsigned long long)n->fallback,
		     plural(n->fallback), (unsigned long long)n->switched, plural(n->switched));
}
