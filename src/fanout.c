#include "fanout.h"
#include "cli.h"
#include "dest.h"
#include "loop.h"
#include "net.h"
#include "ring.h"
#include "src.h"
#include "tx.h"
#include "util.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

/* Reads of a non-pollable source (a regular file) per loop pass, so that
 * destinations get a turn between them. */
#define READS_PER_PASS 1

struct fanout {
	const struct config *cfg;
	struct loop *loop;
	struct ring ring;
	struct tx tx;
	struct source src;
	struct loop_io src_io;
	int src_open, src_pollable, src_armed, src_failed;
	int src_idle; /* a self-driven source (a URL) had nothing at the last read */
	int fresh; /* data or end of source since destinations were last kicked */
	struct dest_group g;
	struct dest *dests;
	size_t ndests, nlive, ndone, nfailed;
	int interrupted;
	struct loop_io sig_io;
	struct loop_timer grace;
	struct loop_timer rate_wait; /* --rate: when the next read is allowed */
	struct loop_timer stall;     /* --stall-timeout checks */
	char stall_why[80];
	uint64_t t_start;
};

static void kick_all(struct fanout *f)
{
	for (size_t i = 0; i < f->ndests; i++)
		dest_kick(&f->dests[i]);
}

/* The source failed: reset every live destination, so that no receiver
 * takes what it got for the whole stream. */
static void abort_dests(struct fanout *f)
{
	struct linger rst = { .l_onoff = 1, .l_linger = 0 };
	size_t n = 0;

	for (size_t i = 0; i < f->ndests; i++)
		n += dest_live(&f->dests[i]);
	if (n)
		errmsg("resetting the %zu destination%s still connected, so that none takes a "
		       "partial stream for a whole one", n, n > 1 ? "s" : "");
	for (size_t i = 0; i < f->ndests; i++) {
		struct dest *d = &f->dests[i];
		if (!dest_live(d))
			continue;
		if (d->io.fd >= 0)
			setsockopt(d->io.fd, SOL_SOCKET, SO_LINGER, &rst, sizeof(rst));
		dest_fail(d, NULL, 0); /* said above, once for all */
	}
}

static void end_source(struct fanout *f, int err)
{
	if (!f->src_open)
		return;
	if (err && f->src.err_text)
		errmsg("%s: %s", f->src.desc, f->src.err_text);
	else if (err)
		errmsg("%s: read: %s", f->src.desc, strerror(err));
	if (f->src_pollable)
		loop_del(f->loop, &f->src_io);
	f->src.ops->close(&f->src);
	f->src_io.fd = -1;
	f->src_open = 0;
	f->g.eof = 1;
	f->fresh = 1;
	if (err) {
		f->src_failed = 1;
		abort_dests(f);
	}
}

static void rate_wake(struct loop_timer *t)
{
	(void)t; /* waking the loop is all: before_sleep reads again */
}

/* How much --rate lets the source read now.  Reads come in pieces of a
 * fiftieth of a second's worth (4 KiB to one chunk); below that it arms a
 * timer for when the next piece is due and returns 0. */
static size_t rate_allowance(struct fanout *f)
{
	uint64_t rate = f->cfg->rate;

	if (!rate)
		return SIZE_MAX;
	double allowed = (double)rate * (double)(now_ms() - f->t_start) / 1000;
	uint64_t piece = MIN(f->cfg->chunk, MAX(rate / 50, 4096));
	if (allowed >= (double)(f->ring.head + piece))
		return (size_t)(allowed - (double)f->ring.head);
	if (!f->rate_wait.armed) {
		f->rate_wait.cb = rate_wake;
		loop_timer_arm(f->loop, &f->rate_wait,
			       (uint64_t)(((double)(f->ring.head + piece) - allowed) * 1000 / (double)rate) + 1);
	}
	return 0;
}

/* Room for the source to read into now: ring space and --rate allowing. */
static size_t source_room(struct fanout *f, uint8_t **p)
{
	size_t span = ring_write_span(&f->ring, p);

	return span ? MIN(span, rate_allowance(f)) : 0;
}

/* For sources handed bytes (URLs): the ring space they may write now, and
 * what they wrote. */
static size_t push_room(void *arg, uint8_t **p)
{
	return source_room(arg, p);
}

static void push_commit(void *arg, size_t n)
{
	struct fanout *f = arg;

	ring_commit(&f->ring, n);
	f->fresh = 1;
}

/* One read from the source into the ring.  Returns 1 if it read, 0 if the
 * ring is full, --rate says wait, or the source has nothing now or ended. */
static int source_step(struct fanout *f)
{
	uint8_t *p;
	size_t span = source_room(f, &p);

	if (span == 0 && f->ring.retire_errno && f->src_open) {
		errmsg("ring: cannot punch out a block before rewriting it: %s",
		       strerror(f->ring.retire_errno));
		f->src_failed = 1;
		end_source(f, 0);
	}
	if (span == 0)
		return 0;
	ssize_t n = f->src.ops->read(&f->src, p, MIN(span, f->cfg->chunk));
	f->src_idle = n == -EAGAIN;
	if (n > 0) {
		ring_commit(&f->ring, (size_t)n);
		f->fresh = 1;
		return 1;
	}
	if (n != -EAGAIN)
		end_source(f, n < 0 ? (int)-n : 0);
	return 0;
}

static void on_source(struct loop_io *io, uint32_t events)
{
	struct fanout *f = container_of(io, struct fanout, src_io);

	(void)events;
	if (!source_step(f) && f->src_open && f->src_armed) {
		uint8_t *p;
		if (source_room(f, &p) == 0) {
			loop_mod(f->loop, &f->src_io, 0); /* full or too fast: wait */
			f->src_armed = 0;
		}
	}
}

/* Before each sleep: read what a file source can give, resume a paused
 * pollable source when room came back, and hand new data to destinations. */
static int before_sleep(void *arg)
{
	struct fanout *f = arg;
	uint8_t *p;

	if (f->src_open && !f->src_pollable)
		for (int i = 0; i < READS_PER_PASS && source_step(f); i++)
			;
	int room = f->src_open && source_room(f, &p) > 0;
	if (room && f->src_pollable && !f->src_armed) {
		loop_mod(f->loop, &f->src_io, EPOLLIN);
		f->src_armed = 1;
	}
	if (f->fresh) {
		f->fresh = 0;
		kick_all(f);
	}
	if (f->tx.ops->flush)
		f->tx.ops->flush(&f->tx);
	return room && !f->src_pollable && !f->src_idle;
}

static void on_finish(struct dest *d)
{
	struct fanout *f = container_of(d->g, struct fanout, g);
	char b[32];

	f->nlive--;
	if (d->state == DEST_DONE) {
		f->ndone++;
	} else {
		f->nfailed++;
		char after[48] = "";
		if (d->connected)
			snprintf(after, sizeof(after), " (after %s)", fmt_bytes(d->rd.done, b, sizeof(b)));
		if (d->err)
			errmsg("%s: %s: %s%s", d->name, d->err_op, strerror(d->err), after);
		else if (d->err_op)
			errmsg("%s: %s%s", d->name, d->err_op, after);
	}
	/* The ring may have room now that d no longer holds it. */
	f->fresh = 1;
	if (f->nlive == 0) {
		if (f->src_open && f->ndone == 0) {
			errmsg("no destination left; stopping");
			end_source(f, 0);
		}
		loop_stop(f->loop);
	}
}

static void fail_live(struct fanout *f, const char *why)
{
	for (size_t i = 0; i < f->ndests; i++)
		dest_fail(&f->dests[i], why, 0);
}

/* --stall-timeout: drop a destination that has taken nothing for that long
 * while it had something to take (bytes to send, or sent bytes the peer has
 * not acknowledged while draining).  Waiting for the source is no stall. */
static void on_stall_check(struct loop_timer *t)
{
	struct fanout *f = container_of(t, struct fanout, stall);
	uint64_t now = now_ms();

	for (size_t i = 0; i < f->ndests; i++) {
		struct dest *d = &f->dests[i];
		int unacked = d->state == DEST_DRAINING ? net_unacked(d->io.fd) : 0;
		uint64_t key;

		if (d->state == DEST_STREAMING && d->rd.done < f->ring.head)
			key = d->rd.sent + d->rd.done;
		else if (unacked > 0)
			key = ~(uint64_t)unacked;
		else
			key = now; /* idle, or not connected yet: never stalled */
		if (key != d->stall_key) {
			d->stall_key = key;
			d->stall_since = now;
		} else if (now - d->stall_since >= f->cfg->stall_ms) {
			dest_fail(d, f->stall_why, 0);
		}
	}
	if (f->nlive)
		loop_timer_arm(f->loop, &f->stall, MIN(1000, MAX(f->cfg->stall_ms / 4, 50)));
}

static void on_grace(struct loop_timer *t)
{
	struct fanout *f = container_of(t, struct fanout, grace);

	fail_live(f, "not delivered before the grace period ended");
}

static void status_line(struct fanout *f)
{
	size_t state[DEST_FAILED + 1] = { 0 };
	uint64_t slowest = f->ring.head;
	char in[32], lag[32];

	for (size_t i = 0; i < f->ndests; i++) {
		state[f->dests[i].state]++;
		if (dest_live(&f->dests[i]))
			slowest = MIN(slowest, f->dests[i].rd.done);
	}
	errmsg("status: %s in, %zu connecting, %zu streaming, %zu draining, %zu done, "
	       "%zu failed, slowest lag %s",
	       fmt_bytes(f->ring.head, in, sizeof(in)), state[DEST_CONNECTING],
	       state[DEST_STREAMING], state[DEST_DRAINING], state[DEST_DONE],
	       state[DEST_FAILED], fmt_bytes(f->ring.head - slowest, lag, sizeof(lag)));
}

static void on_signal(struct loop_io *io, uint32_t events)
{
	struct fanout *f = container_of(io, struct fanout, sig_io);
	struct signalfd_siginfo si;

	(void)events;
	while (read(io->fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGUSR1) {
			status_line(f);
			continue;
		}
		if (f->interrupted) {
			errmsg("%s again: stopping now", strsignal((int)si.ssi_signo));
			fail_live(f, "interrupted");
			loop_stop(f->loop);
			return;
		}
		f->interrupted = 1;
		warnmsg("%s: stopped reading; draining for up to %.1f s (signal again to stop now)",
			strsignal((int)si.ssi_signo), (double)f->cfg->grace_ms / 1000);
		end_source(f, 0);
		f->grace.cb = on_grace;
		loop_timer_arm(f->loop, &f->grace, f->cfg->grace_ms);
	}
}

/* Resolve every destination before anything is sent.  0, or 2 after a message. */
static int resolve_all(struct fanout *f)
{
	const struct config *cfg = f->cfg;

	f->dests = calloc(cfg->ndests, sizeof(*f->dests));
	if (!f->dests) {
		errmsg("%s", strerror(ENOMEM));
		return 2;
	}
	f->ndests = cfg->ndests;
	for (size_t i = 0; i < cfg->ndests; i++) {
		struct dest *d = &f->dests[i];
		const struct dest_spec *s = &cfg->dests[i];
		int rc = net_resolve(s->host, s->port, cfg->family, &d->addrs);

		d->io.fd = -1;
		d->name = s->text;
		d->g = &f->g;
		if (rc) {
			errmsg("%s: cannot resolve %s: %s", s->text, s->host,
			       rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
			return 2;
		}
	}
	return 0;
}

static int open_ring(struct fanout *f)
{
	const struct config *cfg = f->cfg;
	char sz[32], lim[32];
	int rc = ring_open(&f->ring, cfg->ring_size, cfg->mlock);

	fmt_memlock(lim, sizeof(lim));
	fmt_bytes(cfg->ring_size, sz, sizeof(sz));
	if (rc < 0 && f->ring.lock_errno) {
		errmsg("--mlock on: cannot lock the %s ring in memory: %s (RLIMIT_MEMLOCK is %s; "
		       "raise it with ulimit -l, run with CAP_IPC_LOCK, or use --mlock auto)",
		       sz, strerror(-rc), lim);
		return 2;
	}
	if (rc < 0) {
		errmsg("cannot create the %s ring: %s", sz, strerror(-rc));
		return 2;
	}
	if (cfg->mlock == MLOCK_AUTO && !f->ring.locked)
		warnmsg("cannot lock the %s ring in memory: %s (RLIMIT_MEMLOCK is %s); running unlocked",
			sz, strerror(f->ring.lock_errno), lim);
	info("ring: %s memfd%s", sz, f->ring.locked ? ", locked" : "");
	return 0;
}

static int open_source(struct fanout *f)
{
	const char *why;
	struct source_opts o;

	cli_source_opts(f->cfg, &o);
	o.loop = f->loop;
	o.room = push_room;
	o.commit = push_commit;
	o.arg = f;
	int rc = source_open(&f->src, f->cfg->input, &o, &why);
	if (rc < 0) {
		errmsg("%s: %s", f->cfg->input, why ? why : strerror(-rc));
		return 2;
	}
	f->src_open = 1;
	f->src_io.fd = f->src.fd;
	f->src_io.cb = on_source;
	if (f->src.fd < 0)
		return 0; /* it drives itself through the loop */
	rc = loop_add(f->loop, &f->src_io, EPOLLIN);
	if (rc == 0) {
		f->src_pollable = f->src_armed = 1;
	} else if (rc != -EPERM) {
		errmsg("%s: cannot watch: %s", f->src.desc, strerror(-rc));
		return 2;
	}
	return 0;
}

static int setup(struct fanout *f)
{
	const struct config *cfg = f->cfg;
	int rc;

	f->loop = loop_new();
	if (!f->loop) {
		errmsg("epoll: %s", strerror(errno));
		return 2;
	}
	if ((rc = resolve_all(f)) || (rc = open_source(f)))
		return rc;
	if ((rc = open_ring(f)))
		return rc;
	f->tx = (struct tx){ .ring = &f->ring, .loop = f->loop, .chunk = cfg->chunk };
	if (tx_start(&f->tx, cfg->transport) < 0)
		return 2;
	f->sig_io.cb = on_signal;
	if ((rc = loop_add_signals(f->loop, &f->sig_io)) < 0) {
		errmsg("signalfd: %s", strerror(-rc));
		return 2;
	}
	f->g = (struct dest_group){
		.loop = f->loop, .ring = &f->ring, .tx = &f->tx, .on_finish = on_finish,
	};
	for (size_t i = 0; i < f->ndests; i++) {
		if (ring_reader_add(&f->ring, &f->dests[i].rd, 0) < 0) {
			errmsg("%s", strerror(ENOMEM));
			return 2;
		}
	}
	return 0;
}

static void teardown(struct fanout *f)
{
	for (size_t i = 0; i < f->ndests; i++) {
		struct dest *d = &f->dests[i];
		if (d->io.fd >= 0)
			close(d->io.fd);
		if (d->addrs)
			freeaddrinfo(d->addrs);
	}
	free(f->dests);
	if (f->src_open)
		f->src.ops->close(&f->src);
	if (f->tx.ops && f->tx.ops->close)
		f->tx.ops->close(&f->tx);
	if (f->sig_io.fd > 0)
		close(f->sig_io.fd);
	ring_close(&f->ring);
	loop_free(f->loop);
}

static void report(struct fanout *f)
{
	char in[32];
	double secs = (double)(now_ms() - f->t_start) / 1000;

	info("%s from %s to %zu of %zu destinations in %.2f s",
	     fmt_bytes(f->ring.head, in, sizeof(in)), f->src.desc, f->ndone, f->ndests, secs);
	tx_report(&f->tx);
	if (f->nfailed)
		errmsg("%zu of %zu destinations did not receive the whole stream", f->nfailed,
		       f->ndests);
	else if (f->interrupted)
		errmsg("interrupted: destinations received the first %s only", in);
}

int fanout_run(const struct config *cfg)
{
	struct fanout f = { .cfg = cfg, .ring = { .fd = -1 }, .sig_io = { .fd = -1 } };
	int rc = setup(&f);

	if (rc) {
		teardown(&f);
		return rc;
	}
	f.t_start = now_ms();
	f.nlive = f.ndests;
	loop_set_hook(f.loop, before_sleep, &f);
	if (cfg->stall_ms) {
		snprintf(f.stall_why, sizeof(f.stall_why),
			 "stalled: accepted nothing for %.1f s (--stall-timeout)",
			 (double)cfg->stall_ms / 1000);
		f.stall.cb = on_stall_check;
		loop_timer_arm(f.loop, &f.stall, MIN(1000, MAX(cfg->stall_ms / 4, 50)));
	}
	for (size_t i = 0; i < f.ndests; i++)
		dest_connect(&f.dests[i]);
	if (f.nlive > 0 && (rc = loop_run(f.loop)) < 0)
		errmsg("epoll_wait: %s", strerror(-rc));
	report(&f);
	int status = f.nfailed || f.interrupted || f.src_failed || f.tx.n.unaccounted || rc < 0;
	if (f.src_failed && f.ring.head == 0)
		status = 2; /* nothing was sent */
	teardown(&f);
	return status;
}
