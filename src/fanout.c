#include "fanout.h"
#include "cli.h"
#include "dest.h"
#include "loop.h"
#include "net.h"
#include "progress.h"
#include "ring.h"
#include "shard.h"
#include "src.h"
#include "stats.h"
#include "tx.h"
#include "util.h"

#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Reads of a non-pollable source (a regular file) per loop pass, so that
 * destinations get a turn between them. */
#define READS_PER_PASS 1
/* -j's default: one sending thread per this many push destinations, at
 * most one per CPU.  A thread costs a loop, a transport and a registration
 * of the ring; with fewer destinations one thread keeps up (BENCHMARKS.md:
 * at 64, a second thread brought nothing). */
#define DESTS_PER_THREAD 256

struct listener {
	struct loop_io io;
	struct fanout *f;
};

struct fanout {
	const struct config *cfg;
	struct loop *loop;
	struct ring ring;
	struct source src;
	struct loop_io src_io;
	int src_open, src_pollable, src_armed, src_failed;
	int src_idle; /* a self-driven source (a URL) had nothing at the last read */
	int fresh; /* data or end of source since the shards were last told */
	struct crew crew;
	struct shard *shards; /* crew.n of them; shards[0] sends from this thread */
	struct loop_io wake_io; /* the other shards' threads wake us through it */
	struct dest *push;  /* the DESTs of the command line, npush of them */
	size_t npush, nturned, nrefused;
	struct listener lis[MAX_LISTENERS];
	size_t nlis;
	int held;        /* the source waits for --min-subscribers */
	int few_subs;    /* --wait-timeout started it with fewer */
	int gave_up;     /* --wait-timeout passed with no subscriber */
	int interrupted;
	int cut;         /* the stream ended before the source's end */
	struct loop_io sig_io;
	struct loop_timer grace;
	struct loop_timer wait;      /* --wait-timeout */
	struct loop_timer rate_wait; /* --rate: when the next read is allowed */
	double rate_credit;          /* --rate: bytes the source may read now */
	uint64_t rate_t;             /* when the credit was last topped up */
	struct loop_timer relisten;  /* accept again after running out of descriptors */
	char src_error[256];
	uint64_t t_run;              /* now_ms() when the run started */
	uint64_t t_start;            /* now_ms() when the stream started */
	struct timespec wall_start;  /* when the run started, for --stats */
	struct progress prog;
	struct loop_timer prog_timer;
	size_t ring_default;         /* the ring size before it was fitted to the source, or 0 */
};

static void fail_all(struct fanout *f, const char *why)
{
	for (size_t i = 0; i < f->crew.n; i++)
		shard_fail_all(&f->shards[i], why);
}

static size_t live_count(struct fanout *f)
{
	size_t live, done, failed;

	crew_counts(&f->crew, &live, &done, &failed, NULL);
	return live;
}

/* The source failed: reset every live destination (failing one does), so
 * that no receiver takes what it got for the whole stream. */
static void abort_dests(struct fanout *f)
{
	size_t n = live_count(f);

	if (n)
		errmsg("resetting the %zu destination%s not finished, so that none takes a "
		       "partial stream for a whole one", n, plural(n));
	fail_all(f, "reset: the source failed");
}

static void close_listeners(struct fanout *f)
{
	for (size_t i = 0; i < f->nlis; i++) {
		loop_del(f->loop, &f->lis[i].io);
		close(f->lis[i].io.fd);
		f->lis[i].io.fd = -1;
	}
	f->nlis = 0;
}

/* --slow drop: say whether the source waits for ring space, for the
 * shards' checks (crew.writer_waits): set before the main thread sleeps
 * when the ring is full (a source held for subscribers or by --rate waits
 * for something else), cleared when the source writes again or ends. */
static void set_writer_waits(struct fanout *f, int waits)
{
	if (__atomic_load_n(&f->crew.writer_waits, __ATOMIC_RELAXED) != waits)
		__atomic_store_n(&f->crew.writer_waits, waits, __ATOMIC_RELEASE);
}

/* Close the source: the stream ends at the ring's head.  how is
 * STREAM_WHOLE at the source's own end, STREAM_CUT when it stops before it
 * (the destinations then get what was read, and a reset).  With why (the
 * source failed, or the ring did) every destination is reset at once. */
static void end_source(struct fanout *f, enum stream_end how, const char *why)
{
	if (!f->src_open)
		return;
	if (why) {
		snprintf(f->src_error, sizeof(f->src_error), "%s", why);
		errmsg("%s: %s", f->src.desc, why);
	}
	if (f->src_pollable)
		loop_del(f->loop, &f->src_io);
	f->src.ops->close(&f->src);
	f->src_io.fd = -1;
	f->src_open = 0;
	f->cut = how == STREAM_CUT;
	__atomic_store_n(&f->crew.eof, how, __ATOMIC_RELEASE);
	set_writer_waits(f, 0);
	f->fresh = 1;
	close_listeners(f); /* a subscriber now would get nothing */
	if (why) {
		f->src_failed = 1;
		abort_dests(f);
	}
}

static void rate_wake(struct loop_timer *t)
{
	(void)t; /* waking the loop is all: before_sleep reads again */
}

/* How much --rate lets the source read now: a token bucket filled at the
 * rate, holding at most a tenth of a second's worth (so a source that had
 * to wait does not burst to catch up).  Reads come in pieces of a fiftieth
 * of a second's worth (4 KiB to one chunk); below that it arms a timer for
 * when the next piece is due and returns 0. */
static size_t rate_allowance(struct fanout *f)
{
	uint64_t rate = f->cfg->rate, now = now_ms();

	if (!rate)
		return SIZE_MAX;
	double piece = (double)MIN(f->cfg->chunk, MAX(rate / 50, 4096));
	double burst = MAX(2 * piece, (double)rate / 10);
	f->rate_credit = MIN(burst, f->rate_credit + (double)rate * (double)(now - f->rate_t) / 1000);
	f->rate_t = now;
	if (f->rate_credit >= piece)
		return (size_t)f->rate_credit;
	if (!f->rate_wait.armed) {
		f->rate_wait.cb = rate_wake;
		loop_timer_arm(f->loop, &f->rate_wait,
			       (uint64_t)((piece - f->rate_credit) * 1000 / (double)rate) + 1);
	}
	return 0;
}

/* The source wrote n bytes into the ring. */
static void source_wrote(struct fanout *f, size_t n)
{
	ring_commit(&f->ring, n);
	set_writer_waits(f, 0);
	f->rate_credit -= (double)n;
	f->fresh = 1;
}

/* Room for the source to read into now: ring space and --rate allowing,
 * none while it waits for subscribers. */
static size_t source_room(struct fanout *f, uint8_t **p)
{
	if (f->held)
		return 0;
	size_t span = ring_write_span(&f->ring, p);

	if (!span)
		return 0;
	size_t allowed = rate_allowance(f); /* once: it tops up and arms a timer */
	return MIN(span, allowed);
}

/* For sources handed bytes (URLs): the ring space they may write now, and
 * what they wrote. */
static size_t push_room(void *arg, uint8_t **p)
{
	return source_room(arg, p);
}

static void push_commit(void *arg, size_t n)
{
	source_wrote(arg, n);
}

/* Why a read from the source failed with n (-errno), into why. */
static const char *read_why(struct fanout *f, ssize_t n, char *why, size_t len)
{
	snprintf(why, len, "%s%s", f->src.err_text ? "" : "read: ",
		 f->src.err_text ? f->src.err_text : strerror((int)-n));
	return why;
}

/* One read from the source into the ring.  Returns 1 if it read, 0 if the
 * ring is full, --rate says wait, or the source has nothing now or ended. */
static int source_step(struct fanout *f)
{
	uint8_t *p;
	size_t span = source_room(f, &p);

	if (span == 0 && f->ring.retire_errno && f->src_open) {
		char why[128];
		snprintf(why, sizeof(why), "ring: cannot punch out a block before rewriting it: %s",
			 strerror(f->ring.retire_errno));
		end_source(f, STREAM_CUT, why);
	}
	if (span == 0)
		return 0;
	ssize_t n = f->src.ops->read(&f->src, p, MIN(span, f->cfg->chunk));
	f->src_idle = n == -EAGAIN;
	if (n > 0) {
		source_wrote(f, (size_t)n);
		return 1;
	}
	if (n == 0) {
		end_source(f, STREAM_WHOLE, NULL);
	} else if (n != -EAGAIN) {
		char why[256];
		end_source(f, STREAM_CUT, read_why(f, n, why, sizeof(why)));
	}
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

/* The source has no room: with sending threads, ask them to wake us when
 * they free some, then look once more (they may have just done it).
 * Returns non-zero when there is room after all. */
static int wait_for_room(struct fanout *f)
{
	uint8_t *p;

	if (f->crew.n < 2)
		return 0;
	__atomic_store_n(&f->crew.main_waits, 1, __ATOMIC_SEQ_CST);
	__atomic_thread_fence(__ATOMIC_SEQ_CST); /* pairs with shard_publish() */
	ring_reclaim(&f->ring);
	if (ring_write_span(&f->ring, &p) == 0)
		return 0;
	__atomic_store_n(&f->crew.main_waits, 0, __ATOMIC_SEQ_CST);
	return 1;
}

/* Before each sleep: read what a file source can give, say whether the
 * source waits for ring space (--slow drop), resume a paused
 * pollable source when room came back, tell the shards about new data and
 * let this thread's shard send, and end the run when no destination is left
 * and none can come. */
static int before_sleep(void *arg)
{
	struct fanout *f = arg;
	struct shard *s0 = &f->shards[0];
	uint8_t *p;

	shard_publish(s0); /* what the events of this pass freed */
	if (f->src_open && !f->src_pollable)
		for (int i = 0; i < READS_PER_PASS && source_step(f); i++)
			;
	if (f->fresh) {
		f->fresh = 0;
		for (size_t i = 0; i < f->crew.n; i++)
			shard_notify(&f->shards[i]);
	}
	int more = shard_sync(s0);
	/* Room is judged after this thread's shard has sent: a send that
	 * completes at once (copy, sendfile) frees the ring here, and no event
	 * would come to say so. */
	int room = f->src_open && source_room(f, &p) > 0;
	if (f->src_open && !f->held && !room && ring_write_span(&f->ring, &p) == 0)
		room = wait_for_room(f);
	if (room && f->src_pollable && !f->src_armed) {
		loop_mod(f->loop, &f->src_io, EPOLLIN);
		f->src_armed = 1;
	}
	if (f->cfg->slow_drop)
		set_writer_waits(f, f->src_open && !f->held && ring_write_span(&f->ring, &p) == 0);
	if (!s0->live && !crew_running(&f->crew) && !(f->nlis && f->src_open)) {
		if (f->src_open) {
			errmsg("no destination left; stopping");
			end_source(f, STREAM_CUT, NULL);
		}
		loop_stop(f->loop);
		return 0;
	}
	return more || (room && !f->src_pollable && !f->src_idle);
}

static void set_accepting(struct fanout *f, int on)
{
	for (size_t i = 0; i < f->nlis; i++)
		loop_mod(f->loop, &f->lis[i].io, on ? EPOLLIN : 0);
}

static void on_relisten(struct loop_timer *t)
{
	set_accepting(container_of(t, struct fanout, relisten), 1);
}

static void progress_view(struct fanout *f, struct progress_view *v)
{
	/* A size of 0 is no guide (a file in /proc): -s, if given, wins. */
	*v = (struct progress_view){
		.in = f->ring.head,
		.total = f->src.size > 0 || f->cfg->size < 0 ? f->src.size : f->cfg->size,
		.ms = f->held ? 0 : now_ms() - f->t_start,
		.lag = f->ring.head - ring_reclaim(&f->ring),
		.ended = !f->src_open,
	};
	crew_counts(&f->crew, &v->active, &v->done, &v->failed, NULL);
}

static void on_progress(struct loop_timer *t)
{
	struct fanout *f = container_of(t, struct fanout, prog_timer);
	struct progress_view v;

	progress_view(f, &v);
	progress_show(&f->prog, &v);
	loop_timer_arm(f->loop, t, progress_interval_ms(&f->prog));
}

static void on_grace(struct loop_timer *t)
{
	struct fanout *f = container_of(t, struct fanout, grace);

	fail_all(f, "not delivered before the grace period ended");
}

/* SIGUSR1's status line: asked for, so printed even under -q (notice),
 * as serve mode's statistics are. */
static void status_line(struct fanout *f)
{
	size_t state[DEST_FAILED + 1] = { 0 };
	struct progress_view v;
	char in[32], lag[32], subs[40] = "";

	progress_view(f, &v);
	crew_counts(&f->crew, &v.active, &v.done, &v.failed, state);
	if (f->nlis || f->shards[0].nsubs)
		snprintf(subs, sizeof(subs), "%zu subscriber%s, ", f->shards[0].nsubs,
			 plural(f->shards[0].nsubs));
	notice("status: %s in, %s%zu connecting, %zu waiting to retry, %zu streaming, "
	       "%zu draining, %zu done, %zu failed, slowest lag %s",
	       fmt_bytes(v.in, in, sizeof(in)), subs, state[DEST_CONNECTING],
	       state[DEST_WAITING], state[DEST_STREAMING], state[DEST_DRAINING], v.done,
	       v.failed, fmt_bytes(v.lag, lag, sizeof(lag)));
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
			fail_all(f, "interrupted");
			loop_stop(f->loop);
			return;
		}
		f->interrupted = 1;
		/* A file read up to its size is whole even if its end was not
		 * seen yet, provided a read there finds its end (a file that
		 * grew, or one in /proc whose size says 0, is not; one that
		 * changed fails that read, and every destination is reset
		 * with the reason); anything else is cut where it stands. */
		char probe, why[256];
		ssize_t n = 1;
		if (f->src_open && f->src.size >= 0 && f->ring.head >= (uint64_t)f->src.size)
			n = f->src.ops->read(&f->src, &probe, 1);
		if (f->src_open && n != 0 && f->ring.head == 0) /* nothing to drain */
			warnmsg("%s: stopped before the first byte was read%s",
				strsignal((int)si.ssi_signo),
				f->held ? " (waiting for --min-subscribers)" : "");
		else
			warnmsg("%s: stopped reading; draining for up to %.1f s (signal again to "
				"stop now)", strsignal((int)si.ssi_signo),
				(double)f->cfg->grace_ms / 1000);
		if (n < 0 && n != -EAGAIN)
			end_source(f, STREAM_CUT, read_why(f, n, why, sizeof(why)));
		else
			end_source(f, n == 0 ? STREAM_WHOLE : STREAM_CUT, NULL);
		f->grace.cb = on_grace;
		loop_timer_arm(f->loop, &f->grace, f->cfg->grace_ms);
	}
}

/* The stream starts: the source may read. */
static void start_stream(struct fanout *f)
{
	f->held = 0;
	if (f->wait.armed)
		loop_timer_cancel(f->loop, &f->wait);
	f->t_start = f->rate_t = now_ms();
	f->fresh = 1;
}

static void on_wait_timeout(struct loop_timer *t)
{
	struct fanout *f = container_of(t, struct fanout, wait);
	double secs = (double)f->cfg->wait_timeout_ms / 1000;

	size_t nsubs = f->shards[0].nsubs;

	if (nsubs == 0) {
		errmsg("no subscriber connected within %.1f s (--wait-timeout)", secs);
		f->gave_up = 1;
		abort_dests(f);
		end_source(f, STREAM_CUT, NULL);
		return;
	}
	warnmsg("%zu of %zu subscriber%s connected within %.1f s (--wait-timeout); starting with them",
		nsubs, f->cfg->min_subscribers, plural(f->cfg->min_subscribers), secs);
	f->few_subs = 1;
	start_stream(f);
}

/* Where a new subscriber starts.  --join start: at byte 0 while the ring
 * still holds it, else nowhere (UINT64_MAX): a disk image's receiver must
 * have all of it or nothing.  live: at the head.  oldest: at the oldest
 * byte the ring still holds, but with --slow drop no further back than half
 * of --max-lag behind the head, so that it does not start out as one that
 * holds the others back.  For live and oldest the stream from there is the
 * whole stream the user asked for. */
static uint64_t join_offset(struct fanout *f)
{
	if (f->cfg->join == JOIN_START)
		return ring_oldest(&f->ring) == 0 ? 0 : UINT64_MAX;
	if (f->cfg->join == JOIN_LIVE)
		return f->ring.head;
	uint64_t start = ring_oldest(&f->ring), half = f->crew.max_lag / 2;
	if (f->cfg->slow_drop && f->ring.head > half)
		start = MAX(start, f->ring.head - half);
	return start;
}

static void add_subscriber(struct fanout *f, int fd, const struct sockaddr *sa)
{
	const struct config *cfg = f->cfg;
	struct shard *s0 = &f->shards[0];
	struct sub *s;
	char addr[64];

	net_fmt_addr(sa, addr, sizeof(addr));
	if (!net_allowed(sa, cfg->allow, cfg->nallow)) {
		info("%s: refused: not in any --allow block", addr);
		net_reset_on_close(fd);
		close(fd);
		f->nrefused++;
		return;
	}
	if (cfg->max_subscribers && s0->nsubs >= cfg->max_subscribers) {
		warnmsg("subscriber %s: turned away: %zu subscriber%s already (--max-subscribers)",
			addr, s0->nsubs, plural(s0->nsubs));
		net_reset_on_close(fd);
		close(fd);
		f->nturned++;
		return;
	}
	uint64_t start = join_offset(f);
	s = calloc(1, sizeof(*s));
	if (s)
		s->d.joined = start == UINT64_MAX ? f->ring.head : start;
	if (!s || shard_add(s0, &s->d, s->d.joined) < 0) {
		warnmsg("subscriber %s: %s", addr, strerror(ENOMEM));
		free(s);
		close(fd);
		return;
	}
	snprintf(s->name, sizeof(s->name), "subscriber %s", addr);
	s->d.name = s->name;
	s->d.subscriber = 1;
	if (start == UINT64_MAX) {
		/* Counted, reported and in --stats like any destination that
		 * did not get the whole stream. */
		s->d.io.fd = fd;
		dest_fail(&s->d, "refused: the stream's first bytes have left the ring "
				 "(--join start; --join live takes it from here)", 0);
		return;
	}
	info("%s: joined at byte %llu", s->name, (unsigned long long)s->d.joined);
	dest_accept(&s->d, fd);
	if (f->held && s0->nsubs >= cfg->min_subscribers) {
		info("%zu subscriber%s connected: the stream starts", s0->nsubs, plural(s0->nsubs));
		start_stream(f);
	}
}

static void on_accept(struct loop_io *io, uint32_t events)
{
	struct fanout *f = container_of(io, struct listener, io)->f;

	(void)events;
	while (io->fd >= 0) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		int fd = accept4(io->fd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN) {
				/* Out of descriptors or memory: the next check resumes. */
				warnmsg("accept: %s; pausing new subscribers", strerror(errno));
				set_accepting(f, 0);
				f->relisten.cb = on_relisten;
				loop_timer_arm(f->loop, &f->relisten, 1000);
			}
			return;
		}
		add_subscriber(f, fd, (struct sockaddr *)&ss);
	}
}

static int open_listeners(struct fanout *f)
{
	const struct dest_spec *l = &f->cfg->listen;
	int fds[MAX_LISTENERS];
	const char *why;
	int n = net_listen_all(l->host, l->port, f->cfg->family, fds, MAX_LISTENERS,
			       " for subscribers", &why);

	if (n < 0) {
		errmsg("-l %s: %s", l->text, why);
		return 2;
	}
	for (int i = 0; i < n; i++) {
		struct listener *li = &f->lis[f->nlis++];
		li->io.fd = fds[i];
		li->io.cb = on_accept;
		li->f = f;
		loop_add(f->loop, &li->io, EPOLLIN);
	}
	return 0;
}

/* Resolve every destination before anything is sent.  0, or 2 after a message. */
static int resolve_all(struct fanout *f)
{
	const struct config *cfg = f->cfg;

	f->push = calloc(cfg->ndests ? cfg->ndests : 1, sizeof(*f->push));
	if (!f->push) {
		errmsg("%zu destination%s: %s", cfg->ndests, plural(cfg->ndests), strerror(ENOMEM));
		return 2;
	}
	f->npush = cfg->ndests;
	for (size_t i = 0; i < cfg->ndests; i++) {
		struct dest *d = &f->push[i];
		const struct dest_spec *s = &cfg->dests[i];
		int rc = net_resolve(s->host, s->port, cfg->family, &d->addrs);
		char why[160];

		d->io.fd = -1;
		d->name = s->text;
		if (rc) {
			errmsg("%s: %s", s->text, net_resolve_why(rc, s->host, cfg->family, why, sizeof(why)));
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
	const char *lock = f->ring.locked ? "locked in memory"
			: cfg->mlock == MLOCK_OFF ? "not locked (--mlock off)" : "not locked";
	if (f->ring_default) {
		char src[32], def[32];
		info("ring: %s memfd, %s, sized to the source (%s; the default is %s)", sz, lock,
		     fmt_bytes((uint64_t)f->src.size, src, sizeof(src)), fmt_bytes(f->ring_default, def, sizeof(def)));
	} else {
		info("ring: %s memfd, %s", sz, lock);
	}
	return 0;
}

/* A source that knows its size (a regular file): a ring to fit it
 * (cli_fit_ring), and -s checked against it, where there is a progress
 * line to go by either.  A size of 0 is no guide (a file in /proc says 0
 * whatever it holds): neither the ring nor the progress line goes by it. */
static void fit_ring(struct fanout *f, struct config *cfg)
{
	size_t was = cfg->ring_size;
	char a[32], b[32];

	if (f->src.size <= 0)
		return;
	if (cfg->progress && cfg->size >= 0 && cfg->size != f->src.size) {
		fmt_bytes((uint64_t)cfg->size, a, sizeof(a));
		fmt_bytes((uint64_t)f->src.size, b, sizeof(b));
		if (!strcmp(a, b)) { /* "97.7 KiB" both: the bytes tell them apart */
			snprintf(a, sizeof(a), "%lld bytes", (long long)cfg->size);
			snprintf(b, sizeof(b), "%lld bytes", (long long)f->src.size);
		}
		warnmsg("-s %s: %s is %s; the progress line goes by that", a, f->src.desc, b);
	}
	if (cli_fit_ring(cfg, (uint64_t)f->src.size))
		f->ring_default = was;
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

/* Descriptors for every push destination (or say so before connecting any),
 * and socket buffers small enough for all of them together. */
static int fit_peers(struct fanout *f)
{
	const struct config *cfg = f->cfg;
	size_t subs = cfg->have_listen ? MAX(cfg->min_subscribers, cfg->max_subscribers) : 0;
	size_t room = net_fd_room(cfg->ndests + subs);

	if (cfg->ndests > room) {
		errmsg("%zu destination%s need %zu file descriptors, but the limit (ulimit -n) "
		       "leaves room for %zu; raise it, or push to fewer and let them relay",
		       cfg->ndests, plural(cfg->ndests), cfg->ndests + NET_FD_RESERVE, room);
		return 2;
	}
	f->crew.sndbuf = net_sndbuf_for(cfg->ndests + subs);
	if (f->crew.sndbuf) {
		char b[32];
		info("%zu destination%s: each socket's send buffer is %s, to fit TCP memory",
		     cfg->ndests + subs, plural(cfg->ndests + subs),
		     fmt_bytes((uint64_t)f->crew.sndbuf, b, sizeof(b)));
	}
	return 0;
}

/* -j: as given, or one thread per DESTS_PER_THREAD push destinations, at
 * most one per CPU; never more than there are push destinations. */
static size_t thread_count(const struct config *cfg)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	size_t n = cfg->threads;

	if (!n)
		n = MIN((size_t)(cpus > 0 ? cpus : 1), (cfg->ndests + DESTS_PER_THREAD - 1) / DESTS_PER_THREAD);
	return MAX(MIN(n, cfg->ndests), 1);
}

/* The crew: shard 0 on this thread's loop, the others each with a thread of
 * their own (started later), the push destinations shared out in order. */
static int open_shards(struct fanout *f)
{
	const struct config *cfg = f->cfg;
	size_t n = thread_count(cfg);
	char lag[32];
	int rc;

	f->crew.cfg = cfg;
	f->crew.ring = &f->ring;
	f->crew.max_lag = cfg->max_lag ? cfg->max_lag : f->ring.size;
	snprintf(f->crew.stall_why, sizeof(f->crew.stall_why),
		 "stalled: accepted nothing for %.1f s (--stall-timeout)", (double)cfg->stall_ms / 1000);
	f->shards = calloc(n, sizeof(*f->shards));
	if (!f->shards) {
		errmsg("%s", strerror(ENOMEM));
		return 2;
	}
	f->crew.shards = f->shards;
	f->crew.n = n;
	if (n > 1) {
		if ((rc = loop_add_waker(f->loop, &f->wake_io)) < 0) {
			errmsg("eventfd: %s", strerror(-rc));
			return 2;
		}
		f->crew.wake_fd = f->wake_io.fd;
		info("%zu sending threads for %zu destination%s", n, f->npush, plural(f->npush));
	}
	for (size_t i = 0; i < n; i++) {
		struct shard *s = &f->shards[i];
		size_t lo = f->npush * i / n, hi = f->npush * (i + 1) / n;
		*s = (struct shard){ .crew = &f->crew, .id = i, .push = f->push + lo, .npush = hi - lo };
		if ((rc = shard_open(s, i ? NULL : f->loop, cfg->transport)))
			return rc;
	}
	/* Retiring (sendfile) makes the writer wait as soon as the block ahead
	 * is not free: the destination that holds it may lag the head by only
	 * the ring less a block. */
	if (f->ring.block)
		f->crew.max_lag = MIN(f->crew.max_lag, f->ring.size - f->ring.block);
	snprintf(f->crew.lag_why, sizeof(f->crew.lag_why),
		 "dropped: held the others back for %.1f s, %s or more behind the stream's head "
		 "(--slow drop, --max-lag)", (double)DROP_GRACE_MS / 1000,
		 fmt_bytes(f->crew.max_lag, lag, sizeof(lag)));
	return 0;
}

static int setup(struct fanout *f, struct config *cfg)
{
	int rc;

	f->loop = loop_new();
	if (!f->loop) {
		errmsg("epoll: %s", strerror(errno));
		return 2;
	}
	if ((rc = fit_peers(f)) || (rc = resolve_all(f)) || (rc = open_source(f)))
		return rc;
	fit_ring(f, cfg);
	if ((rc = open_ring(f)) || (rc = open_shards(f)))
		return rc;
	f->sig_io.cb = on_signal;
	if ((rc = loop_add_signals(f->loop, &f->sig_io)) < 0) {
		errmsg("signalfd: %s", strerror(-rc));
		return 2;
	}
	if (cfg->have_listen && (rc = open_listeners(f)))
		return rc;
	return 0;
}

static void teardown(struct fanout *f)
{
	for (size_t i = 0; i < f->crew.n; i++)
		shard_join(&f->shards[i]);
	for (size_t i = 0; i < f->crew.n; i++)
		shard_close(&f->shards[i]);
	free(f->shards);
	for (size_t i = 0; i < f->npush; i++)
		if (f->push[i].addrs)
			freeaddrinfo(f->push[i].addrs);
	free(f->push);
	close_listeners(f);
	if (f->src_open)
		f->src.ops->close(&f->src);
	if (f->sig_io.fd > 0)
		close(f->sig_io.fd);
	if (f->wake_io.fd > 0)
		close(f->wake_io.fd);
	ring_close(&f->ring);
	loop_free(f->loop);
}

/* What the run did, over every shard (their threads have ended). */
struct totals {
	struct tx_counters tx;
	size_t dests, done, failed;
};

static void totals(struct fanout *f, struct totals *t)
{
	*t = (struct totals){ 0 };
	for (size_t i = 0; i < f->crew.n; i++) {
		struct shard *s = &f->shards[i];
		tx_counters_add(&t->tx, &s->tx.n);
		t->dests += s->ndests;
		t->done += s->ndone;
		t->failed += s->nfailed;
	}
}

/* --stats: every destination, push ones first, in the order given. */
static int write_stats(struct fanout *f, const struct totals *t, int status)
{
	struct shard *s0 = &f->shards[0];
	size_t n = 0;
	struct dest **all = calloc(t->dests ? t->dests : 1, sizeof(*all));
	const char *mode = !f->cfg->have_listen ? "push" : f->npush ? "push+subscribe" : "subscribe";

	if (!all) {
		errmsg("--stats: %s", strerror(ENOMEM));
		return -1;
	}
	for (size_t i = 0; i < f->npush; i++)
		all[n++] = &f->push[i];
	for (struct dest *l = s0->kept; l; l = l->next)
		all[n++] = l;
	for (struct dest *d = s0->live; d; d = d->next)
		if (d->subscriber)
			all[n++] = d;
	struct stats_run r = {
		.mode = mode, .transport = s0->tx.ops->name, .tx = &t->tx,
		.ring_size = f->ring.size, .ring_locked = f->ring.locked,
		.source = f->src.desc ? f->src.desc : f->cfg->input, .source_bytes = f->ring.head,
		.source_size = f->src.size, .source_error = *f->src_error ? f->src_error : NULL,
		.start = f->wall_start, .interrupted = f->interrupted, .exit_status = status,
		.done = t->done, .failed = t->failed, .dests = all, .ndests = n,
	};
	clock_gettime(CLOCK_REALTIME, &r.end);
	int rc = stats_write(f->cfg->stats_path, &r);
	free(all);
	return rc;
}

static void report(struct fanout *f, const struct totals *t)
{
	struct tx sum = { .ops = f->shards[0].tx.ops, .n = t->tx };
	char in[32];
	/* From the stream's start; for one that never started (held for
	 * subscribers until a signal or --wait-timeout) from the run's, as
	 * --stats counts it. */
	double secs = (double)(now_ms() - (f->held ? f->t_run : f->t_start)) / 1000;

	if (f->cfg->progress) {
		struct progress_view v;
		progress_view(f, &v);
		progress_end(&f->prog, &v);
	}
	info("%s from %s to %zu of %zu destination%s in %.2f s",
	     fmt_bytes(f->ring.head, in, sizeof(in)), f->src.desc, t->done, t->dests,
	     plural(t->dests), secs);
	if (f->nturned)
		info("turned away %zu subscriber%s (--max-subscribers)", f->nturned, plural(f->nturned));
	if (f->nrefused)
		warnmsg("refused %zu connection%s from addresses not --allow'ed", f->nrefused,
			plural(f->nrefused));
	tx_report(&sum);
	if (t->failed)
		errmsg("%zu of %zu destination%s did not receive the whole stream", t->failed,
		       t->dests, plural(t->dests));
	if (f->interrupted && f->cut)
		errmsg("interrupted after %s of the source: no destination has the whole stream", in);
	if (f->few_subs)
		errmsg("the stream started with fewer than %zu subscriber%s (--wait-timeout)",
		       f->cfg->min_subscribers, plural(f->cfg->min_subscribers));
	if (t->dests == 0)
		errmsg("nobody received the stream: no DEST was given and no subscriber connected%s",
		       f->nrefused ? " from an --allow'ed address" : "");
}

int fanout_run(struct config *cfg)
{
	struct fanout f = { .cfg = cfg, .ring = { .fd = -1 }, .sig_io = { .fd = -1 },
			    .wake_io = { .fd = -1 } };
	struct totals t;

	clock_gettime(CLOCK_REALTIME, &f.wall_start);
	f.t_run = now_ms();
	int rc = setup(&f, cfg);

	for (size_t i = 1; rc == 0 && i < f.crew.n; i++)
		rc = shard_start(&f.shards[i]);
	if (rc) {
		/* Silently: the message above says why nothing was sent (a
		 * sending thread may have connected some DESTs: they are reset). */
		fail_all(&f, NULL);
		teardown(&f);
		return rc;
	}
	loop_set_hook(f.loop, before_sleep, &f);
	f.held = cfg->have_listen && cfg->min_subscribers > 0;
	if (!f.held) {
		start_stream(&f);
	} else if (cfg->wait_timeout_ms) {
		f.wait.cb = on_wait_timeout;
		loop_timer_arm(f.loop, &f.wait, cfg->wait_timeout_ms);
	}
	if (cfg->progress) {
		f.prog.in_place = isatty(STDERR_FILENO);
		f.prog_timer.cb = on_progress;
		loop_timer_arm(f.loop, &f.prog_timer, progress_interval_ms(&f.prog));
	}
	if ((rc = loop_run(f.loop)) < 0) {
		errmsg("epoll_wait: %s", strerror(-rc));
		fail_all(&f, "stopped");
	}
	for (size_t i = 1; i < f.crew.n; i++)
		shard_join(&f.shards[i]);
	totals(&f, &t);
	report(&f, &t);
	int status = t.failed || f.cut || f.src_failed || f.few_subs || t.tx.unaccounted ||
		     t.dests == 0 || rc < 0;
	if ((f.src_failed && f.ring.head == 0) || f.gave_up)
		status = 2; /* nothing was sent */
	if (cfg->stats_path && write_stats(&f, &t, status) < 0)
		status = MAX(status, 1);
	teardown(&f);
	return status;
}
