#include "dest.h"
#include "digest.h"
#include "framed.h"
#include "net.h"
#include "output.h"
#include "parse.h"
#include "tx.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

#define DRAIN_POLL_MS 20
#define SOCK_EVENTS   (EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET)

static void on_event(struct loop_io *io, uint32_t events);
static void close_socket(struct dest *d);
static void send_failed(struct dest *d, int err);

static void set_state(struct dest *d, enum dest_state s)
{
	__atomic_sub_fetch(&d->g->nstate[d->state], 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&d->g->nstate[s], 1, __ATOMIC_RELAXED);
	d->state = s;
}

static void release(struct dest *d, enum dest_state final)
{
	struct dest_group *g = d->g;

	if (d->state == DEST_DRAINING) {
		for (struct dest **pp = &g->draining; *pp; pp = &(*pp)->drain_next) {
			if (*pp == d) {
				*pp = d->drain_next;
				break;
			}
		}
	}
	if (g->tx->ops->detach && d->px.state) {
		uint64_t pending = g->tx->ops->detach(g->tx, &d->px);
		if (pending && final == DEST_DONE) {
			/* done reached head, so every send should have completed */
			errmsg("%s: bug: %llu zero-copy send%s never completed", d->name,
			       (unsigned long long)pending, plural(pending));
			g->tx->n.unaccounted += pending;
		}
	}
	if (d->io.fd >= 0 && dest_is_output(d)) {
		if (d->polled)
			loop_del(g->loop, &d->io);
		close(d->io.fd); /* a failed file stays PATH.part */
		d->io.fd = -1;
		output_free(d);
	} else if (d->io.fd >= 0) {
		/* A peer that did not get the whole stream must not see a clean end. */
		if (final == DEST_FAILED)
			net_reset_on_close(d->io.fd);
		close_socket(d);
	}
	if (d->addrs) {
		freeaddrinfo(d->addrs);
		d->addrs = d->next_addr = NULL;
	}
	ring_reader_del(g->ring, &d->rd);
	set_state(d, final);
	g->on_finish(d);
}

const char *dest_error(const struct dest *d, char *buf, size_t len)
{
	if (d->state == DEST_FAILED && d->err)
		snprintf(buf, len, "%s: %s", d->err_op, strerror(d->err));
	else if (d->state == DEST_FAILED && d->err_op)
		snprintf(buf, len, "%s", d->err_op);
	else if (len)
		buf[0] = '\0';
	return buf;
}

void dest_fail(struct dest *d, const char *op, int e)
{
	if (!dest_live(d))
		return;
	d->err = e;
	d->err_op = op;
	release(d, DEST_FAILED);
}

/* A host that is busy (FRAME_BUSY) is asked again this often, this many
 * times (10 s: at 200 Mbit/s a dead relay's 4 MiB of queued sends take
 * 0.2 s to arrive, at 10 Mbit/s 3.4 s). */
#define BUSY_WAIT_MS 250
#define BUSY_TRIES   40

/* Wait before try n + 1: 250 ms, doubling, at most 5 s. */
static uint64_t backoff_ms(unsigned n)
{
	return n >= 6 ? 5000 : 250u << (n - 1);
}

/* Every address refused (or timed out): wait and try again while --retry
 * allows, else fail with the last error. */
static void try_failed(struct dest *d, int err)
{
	unsigned retries = d->g->retries;

	if (d->tries++ >= retries) {
		dest_fail(d, "connect", err);
		return;
	}
	uint64_t wait = backoff_ms(d->tries);
	info("%s: connect: %s; trying again in %.2g s (retry %u of %u)", d->name, strerror(err),
	     (double)wait / 1000, d->tries, retries);
	set_state(d, DEST_WAITING);
	d->deadline = now_ms() + wait;
}

/* d's socket is fd from now on (its send buffer sized for the group).  0,
 * or -errno (fd closed). */
static int watch(struct dest *d, int fd)
{
	if (d->g->sndbuf)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &d->g->sndbuf, sizeof(d->g->sndbuf));
	net_notsent_lowat(fd);
	d->io.fd = fd;
	d->io.cb = on_event;
	int rc = loop_add(d->g->loop, &d->io, SOCK_EVENTS);
	if (rc < 0) {
		close(fd);
		d->io.fd = -1;
	}
	return rc;
}

/* Try the next resolved address; on running out, the try has failed. */
static void try_connect(struct dest *d, int last_err)
{
	while (d->next_addr) {
		const struct addrinfo *ai = d->next_addr;
		d->next_addr = ai->ai_next;

		int fd = net_connect_nb(ai);
		if (fd < 0) {
			last_err = -fd;
			continue;
		}
		int rc = watch(d, fd);
		if (rc < 0) {
			last_err = -rc;
			continue;
		}
		set_state(d, DEST_CONNECTING);
		d->deadline = d->g->connect_ms ? now_ms() + d->g->connect_ms : 0;
		return;
	}
	try_failed(d, last_err ? last_err : ECONNREFUSED);
}

/* A local output has nothing to connect: open it and start writing. */
static void open_output(struct dest *d)
{
	const char *op;
	int fd = output_open(d, &d->polled, &op), rc;

	if (fd < 0) {
		dest_fail(d, op, -fd);
		return;
	}
	d->io.fd = fd;
	d->io.cb = on_event;
	/* A device that epoll cannot watch (EPERM: /dev/null) never waits. */
	if (d->polled && (rc = loop_add(d->g->loop, &d->io, SOCK_EVENTS)) < 0) {
		d->polled = 0;
		if (rc != -EPERM) {
			dest_fail(d, "watch", -rc);
			return;
		}
	}
	d->px = (struct tx_peer){ .fd = fd, .writable = 1, .rd = &d->rd };
	set_state(d, DEST_STREAMING);
	d->connected = 1;
	dest_kick(d);
}

void dest_connect(struct dest *d)
{
	d->io.fd = -1;
	if (dest_is_output(d)) {
		open_output(d);
		return;
	}
	if (d->unresolved) {
		dest_fail(d, d->unresolved, 0);
		return;
	}
	d->next_addr = d->addrs;
	try_connect(d, 0);
}

static void close_socket(struct dest *d)
{
	loop_del(d->g->loop, &d->io);
	close(d->io.fd);
	d->io.fd = -1;
}

void dest_check_deadline(struct dest *d, uint64_t now)
{
	if (!d->deadline || now < d->deadline)
		return;
	d->deadline = 0;
	if (d->state == DEST_WAITING) {
		d->next_addr = d->addrs;
		try_connect(d, 0);
	} else if (d->state == DEST_CONNECTING) {
		close_socket(d);
		try_connect(d, ETIMEDOUT);
	}
}

/* What the transport has to say about d (tx_peer_fn), when it is done
 * with its own walk: d may fail here. */
static void on_peer(struct tx *tx, struct tx_peer *p, unsigned events, int err)
{
	struct dest *d = container_of(p, struct dest, px);

	(void)tx;
	if (events & TX_EV_SWITCHED) {
		d->switched = 1;
		info("%s: the kernel copies the zero-copy sends anyway (loopback or veth); "
		     "sending by copy, which costs less",
		     d->name);
	}
	if (events & TX_EV_FAILED)
		send_failed(d, err);
	else if (events & TX_EV_MOVED)
		dest_kick(d);
}

static void start_streaming(struct dest *d)
{
	struct tx *tx = d->g->tx;
	int rc;

	/* The destinations are the transport's peers: their events come here. */
	tx->on_peer = on_peer;
	d->px = (struct tx_peer){ .fd = d->io.fd, .writable = 1, .rd = &d->rd };
	if (d->kind == DEST_FRAMED &&
	    (rc = framed_begin(d, d->g->frame_hdr, d->g->key, d->g->keylen)) < 0) {
		dest_fail(d, "frame header", -rc);
		return;
	}
	if (tx->ops->attach && (rc = tx->ops->attach(tx, &d->px)) < 0) {
		dest_fail(d, "transport setup", -rc);
		return;
	}
	set_state(d, DEST_STREAMING);
	d->connected = 1;
	dest_kick(d);
}

static void connected(struct dest *d)
{
	int e = net_sock_error(d->io.fd);

	if (e) {
		close_socket(d);
		try_connect(d, e);
		return;
	}
	d->deadline = 0;
	if (!d->resume) { /* one that resumes may be asked again (busy_again) */
		freeaddrinfo(d->addrs);
		d->addrs = d->next_addr = NULL;
	}
	start_streaming(d);
}

void dest_accept(struct dest *d, int fd)
{
	int rc = watch(d, fd);

	if (rc < 0) {
		dest_fail(d, "watch", -rc);
		return;
	}
	start_streaming(d);
}

/* Done once the peer has acknowledged every byte and our FIN (failed, for
 * a cut stream, once it has every byte). */
static void check_drained(struct dest *d)
{
	int q = net_unacked(d->io.fd);

	if (q < 0) {
		dest_fail(d, "drain", -q);
		return;
	}
	if (q == 0 && d->g->eof == STREAM_CUT) {
		dest_fail(d, "interrupted before the end of the stream", 0);
	} else if (q == 0 && !d->fr) { /* a framed peer ends with its verdict */
		net_discard(d->io.fd); /* unread input would make close() send RST */
		release(d, DEST_DONE);
	}
}

static void drain_tick(struct loop_timer *t)
{
	struct dest_group *g = container_of(t, struct dest_group, drain_timer);
	struct dest *d = g->draining;

	while (d) {
		struct dest *next = d->drain_next;
		check_drained(d);
		d = next;
	}
	if (g->draining)
		loop_timer_arm(g->loop, &g->drain_timer, DRAIN_POLL_MS);
}

static void start_drain(struct dest *d)
{
	struct dest_group *g = d->g;

	/* A cut stream gets no FIN: the peer is reset once it has the rest. */
	if (g->eof == STREAM_WHOLE && shutdown(d->io.fd, SHUT_WR) < 0) {
		dest_fail(d, "shutdown", errno);
		return;
	}
	if (d->fr)
		net_keepalive(d->io.fd); /* its verdict may take a sync's time */
	set_state(d, DEST_DRAINING);
	d->drain_next = g->draining;
	g->draining = d;
	g->drain_timer.cb = drain_tick;
	if (!g->drain_timer.armed)
		loop_timer_arm(g->loop, &g->drain_timer, DRAIN_POLL_MS);
}

/* Before d ends whole: a file sent from its own pages is as it was (the
 * fan-out fails the run when it is not; this is for the destinations that
 * reach their end before it looks).  Else d fails, and 0. */
static int source_intact(struct dest *d)
{
	if (d->g->eof != STREAM_WHOLE || ring_intact(d->g->ring, NULL, 0))
		return 1;
	dest_fail(d, "reset: the source changed while it was sent", 0);
	return 0;
}

/* An output has all of the stream: sync it (and name a file), or fail it
 * when the stream was cut. */
static void finish_output(struct dest *d)
{
	const char *op;
	int rc;

	if (d->g->eof == STREAM_CUT)
		dest_fail(d, "interrupted before the end of the stream", 0);
	else if (!source_intact(d))
		return;
	else if ((rc = output_finish(d, &op)) < 0)
		dest_fail(d, op, -rc);
	else
		release(d, DEST_DONE);
}

static void kick_output(struct dest *d)
{
	struct dest_group *g = d->g;

	if (d->px.writable && d->rd.sent < g->ring->head) {
		int rc = output_write(d, g->ring, g->tx->chunk);
		if (rc < 0) {
			dest_fail(d, "write", -rc);
			return;
		}
	}
	if (g->eof && d->rd.done == g->ring->head)
		finish_output(d);
}

static int take_verdict(struct dest *d);

/* A send to d failed with errno err: a receiver that refused the stream
 * reset it after its verdict, which is the reason to give when it came. */
static void send_failed(struct dest *d, int err)
{
	if (d->fr && take_verdict(d))
		return;
	dest_fail(d, "send", err);
}

/* Send a framed peer's pending header or trailer.  Non-zero when d can go
 * on (all of it sent). */
static int flush_frame(struct dest *d)
{
	int rc = d->px.writable ? framed_flush(d) : 0;

	if (rc < 0)
		send_failed(d, -rc);
	return rc > 0;
}

/* Send an adopted host what the ring no longer holds from the source
 * itself, as sendfile(2) reads it from the file's pages.  1 once all of it
 * went; 0 when the socket is full or d failed. */
static int refill(struct dest *d)
{
	const struct dest_group *g = d->g;

	while (d->refill_at < d->refill_end) {
		off_t pos = g->refill_base + (off_t)d->refill_at;
		ssize_t n = sendfile(d->io.fd, g->refill_fd, &pos,
				     MIN(d->refill_end - d->refill_at, (uint64_t)1 << 20));
		if (n > 0) {
			d->refill_at += (uint64_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			d->px.writable = 0;
			return 0;
		}
		/* 0: the file is shorter than the stream it gave */
		dest_fail(d, "re-reading the source", n < 0 ? errno : ESPIPE);
		return 0;
	}
	return 1;
}

void dest_kick(struct dest *d)
{
	struct dest_group *g = d->g;
	uint64_t head = g->ring->head;

	if (d->state != DEST_STREAMING)
		return;
	if (dest_is_output(d)) {
		kick_output(d);
		return;
	}
	if (d->fr && (!flush_frame(d) || d->fr->resume_wait))
		return;
	if (d->refill_at < d->refill_end && (!d->px.writable || !refill(d)))
		return;
	if (d->px.writable && d->rd.sent < head) {
		int rc = g->tx->ops->push(g->tx, &d->px);
		if (rc < 0) {
			send_failed(d, -rc);
			return;
		}
	}
	if (!g->eof || d->rd.done != head || !source_intact(d))
		return;
	if (d->fr && g->eof == STREAM_WHOLE && !d->fr->trailer_queued) {
		framed_end(d, head, g->sha256); /* the whole stream's, resumed or not */
		if (!flush_frame(d))
			return;
	}
	start_drain(d);
}

/* Adopted d answered off, which this host cannot send from: below what its
 * ring holds (ask the sender to resume it: ring sizes differ from host to
 * host, and the root may read its source again), or past its head. */
static void behind(struct dest *d, uint64_t off)
{
	struct ring *r = d->g->ring;
	char more[96] = "";
	int rc = -ENOSYS;

	if (off < d->rd.sent && d->g->hand_up) {
		/* Our end first, so that the host sees it before the one asked
		 * comes (a receiver's live sender is never replaced). */
		shutdown(d->io.fd, SHUT_RDWR);
		rc = d->g->hand_up(d, off);
	}

	d->behind = 1;
	d->joined = off; /* what it has */
	if (rc == 0) {
		d->handed_up = 1;
		dest_fail(d, "left to a host further up", 0);
		return;
	}
	if (off < d->rd.sent && rc == -ENOSYS)
		snprintf(more, sizeof(more), " (--ring-size); the source cannot be read again");
	else if (off < d->rd.sent)
		snprintf(more, sizeof(more), "; its sender could not be asked: %s", strerror(-rc));
	snprintf(d->fr->why, sizeof(d->fr->why),
		 "cannot resume at byte %llu: this host's ring holds bytes %llu to %llu only%s",
		 (unsigned long long)off, (unsigned long long)d->rd.sent,
		 (unsigned long long)r->head, more);
	dest_fail(d, d->fr->why, 0);
}

/* An adopted child answered its RESUME header: go on from the offset it
 * has, from the ring, or from the source when the ring no longer holds it
 * and the source can be read again.  Non-zero when d has moved on (or
 * ended). */
static int take_resume(struct dest *d)
{
	struct ring *r = d->g->ring;
	uint64_t off;
	int rc = framed_resume(d, &off);

	if (rc == 0)
		return 0;
	if (rc == -EPROTO)
		return take_verdict(d);
	if (rc < 0) {
		dest_fail(d, "resume", -rc);
		return 1;
	}
	if (off < d->rd.sent && d->g->refill_fd >= 0) {
		d->refill_at = d->joined = off;
		d->refill_end = d->rd.sent;
		info("%s: resumes at byte %llu, bytes %llu to %llu read again from the source",
		     d->name, (unsigned long long)off, (unsigned long long)off,
		     (unsigned long long)d->rd.sent);
	} else if (off < d->rd.sent || off > r->head) {
		behind(d, off);
		return 1;
	} else {
		d->rd.sent = d->rd.done = d->joined = off;
		info("%s: resumes at byte %llu", d->name, (unsigned long long)off);
	}
	dest_kick(d);
	return 1;
}

/* A host d resumes answered busy: its old sender is alive, or looks it (the
 * dead relay's kernel still sends what it had queued).  Connect again in
 * BUSY_WAIT_MS, up to BUSY_TRIES times.  Non-zero when it will. */
static int busy_again(struct dest *d)
{
	struct dest_group *g = d->g;

	if (!d->resume || d->fr->v.code != FRAME_BUSY || ++d->busy_tries > BUSY_TRIES)
		return 0;
	if (g->tx->ops->detach && d->px.state)
		g->tx->ops->detach(g->tx, &d->px);
	close_socket(d);
	framed_free(d);
	set_state(d, DEST_WAITING);
	d->deadline = now_ms() + BUSY_WAIT_MS;
	return 1;
}

/* What a framed peer sent: its verdict, once whole, ends d.  Non-zero when
 * d has ended. */
static int take_verdict(struct dest *d)
{
	uint64_t len = d->g->ring->head; /* a framed peer has it all, resumed or not */
	int rc;

	while ((rc = framed_read(d)) == 2) { /* an ask, before the verdict */
		if (d->g->on_ask)
			d->g->on_ask(d, d->fr->ask_host, d->fr->ask_at);
		if (!dest_live(d))
			return 1;
	}

	if (rc == 0)
		return 0;
	if (rc > 0 && busy_again(d))
		return 1;
	if (rc < 0 && rc != -EPROTO) {
		dest_fail(d, d->state == DEST_DRAINING ? "drain" : "send", -rc);
	} else if (rc > 0 && d->state == DEST_DRAINING && d->fr->trailer_queued &&
		   framed_verified(d, len, d->g->sha256)) {
		char b[32], hex[DIGEST_HEX_LEN + 1];
		if (!d->g->tree) /* a tree's run reports every host at its end */
			info("%s: verified: %s, SHA-256 %s", d->name, fmt_bytes(len, b, sizeof(b)),
			     digest_to_hex(d->g->sha256, hex));
		net_discard(d->io.fd);
		release(d, DEST_DONE);
	} else {
		if (rc > 0 && d->fr->v.code == FRAME_VERIFIED && !d->fr->trailer_queued)
			snprintf(d->fr->why, sizeof(d->fr->why),
				 "the receiver answered before the end of the stream");
		else if (rc > 0)
			framed_verified(d, len, d->g->sha256); /* says why not */
		dest_fail(d, d->fr->why, 0);
	}
	return 1;
}

static void on_event(struct loop_io *io, uint32_t events)
{
	struct dest *d = container_of(io, struct dest, io);

	if (dest_is_output(d)) { /* a pipe: its reader gone, or room again */
		if (events & (EPOLLERR | EPOLLHUP))
			dest_fail(d, "write", EPIPE);
		else if (events & EPOLLOUT)
			d->px.writable = 1;
		dest_kick(d);
		return;
	}
	switch (d->state) {
	case DEST_CONNECTING:
		if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
			connected(d);
		return;
	case DEST_STREAMING:
	case DEST_DRAINING:
		break;
	default:
		return;
	}
	const char *op = d->state == DEST_DRAINING ? "drain" : "send";
	if (d->fr && d->fr->resume_wait &&
	    (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) && take_resume(d))
		return;
	/* A receiver that refuses a stream answers and resets: its verdict is
	 * read before the reset is taken for the reason. */
	if (d->fr && (events & EPOLLIN) && take_verdict(d))
		return;
	if (events & EPOLLERR) {
		/* With zero copy, EPOLLERR mostly means "completions queued". */
		const struct tx_ops *ops = d->g->tx->ops;
		int rc = ops->reap ? ops->reap(d->g->tx, &d->px) : 0;
		int e = rc < 0 ? -rc : net_sock_error(d->io.fd);
		if (e || !ops->reap) {
			dest_fail(d, op, e ? e : EPIPE);
			return;
		}
		if (d->state == DEST_STREAMING)
			dest_kick(d);
		if (!dest_live(d))
			return;
	}
	if (d->fr && (events & (EPOLLRDHUP | EPOLLHUP)) && take_verdict(d))
		return;
	if (!d->fr && (events & (EPOLLIN | EPOLLRDHUP))) {
		/* The peer may close its side early (many receivers do once their
		 * stdin ends); that is not a failure, a reset is. */
		int rc = net_discard(d->io.fd);
		if (rc < 0) {
			dest_fail(d, op, -rc);
			return;
		}
	}
	if (d->state == DEST_DRAINING) {
		check_drained(d);
		return;
	}
	if (events & EPOLLHUP) {
		int e = net_sock_error(d->io.fd);
		dest_fail(d, "send", e ? e : EPIPE);
		return;
	}
	if (events & EPOLLOUT) {
		d->px.writable = 1;
		dest_kick(d);
	}
}
