#include "shard.h"
#include "crew.h"
#include "frame.h"
#include "framed.h"
#include "net.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

/* How often the checks run while something connects, and in --slow drop. */
#define CHECK_FAST_MS 50
/* A shard's report of a starved destination counts for the other shards
 * this long: a few of their check intervals, so that a thread scheduled
 * late does not break the others' clocks. */
#define STARVED_FRESH_MS (4 * CHECK_FAST_MS)
/* Sockets probed (SIOCOUTQ) per check when looking for a starved one, so
 * that thousands of destinations at the head cost no more than this. */
#define STARVED_PROBES 64
/* Connects in flight at once, for all shards together: thousands of SYNs at
 * once only overflow the peers' backlogs, and one slow peer must not hold
 * up the rest. */
#define CONNECT_AT_ONCE 256
/* A shard publishes how far it is at least this often, and on every loop
 * pass while it holds back half the ring or more. */
#define PUBLISH_MS 100

#define for_each_live(s, d, nx)                                                                    \
	for (struct dest *d = (s)->live, *nx; d && (nx = d->next, 1); d = nx)

static void live_add(struct shard *s, struct dest *d)
{
	d->prev = NULL;
	d->next = s->live;
	if (s->live)
		s->live->prev = d;
	s->live = d;
	__atomic_add_fetch(&s->g.nstate[d->state], 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&s->nlive, 1, __ATOMIC_RELAXED);
	s->ndests++;
}

static void live_del(struct shard *s, struct dest *d)
{
	if (d->prev)
		d->prev->next = d->next;
	else
		s->live = d->next;
	if (d->next)
		d->next->prev = d->prev;
	d->prev = d->next = NULL;
	__atomic_sub_fetch(&s->nlive, 1, __ATOMIC_RELAXED);
}

static void on_finish(struct dest *d)
{
	struct shard *s = container_of(d->g, struct shard, g);
	char b[32];

	live_del(s, d);
	if (d->handed_up) {
		info("%s: this host's sender resumes it", d->name);
	} else if (d->state == DEST_DONE) {
		__atomic_add_fetch(&s->ndone, 1, __ATOMIC_RELAXED);
	} else {
		char after[48] = "", why[FRAME_REASON_MAX + 160];
		__atomic_add_fetch(&s->nfailed, 1, __ATOMIC_RELAXED);
		if (d->connected && !d->behind)
			snprintf(after, sizeof(after), " (after %s)",
				 fmt_bytes(d->rd.sent - d->joined, b, sizeof(b)));
		else if (d->tries > 1)
			snprintf(after, sizeof(after), " (%u tries)", d->tries);
		if (*dest_error(d, why, sizeof(why)))
			errmsg("%s: %s%s", d->name, why, after);
	}
	if (d->subscriber)
		s->o->sub_done(s->crew, d);
	/* A relay that failed while the stream goes on: its children resume. */
	/* Not one whose verdict reported its subtree, nor one that could not be
	 * resumed: it is alive, its children wait on it. */
	if (d->state == DEST_FAILED && d->plan && !framed_relayed(d) && s->id == 0 && !d->behind &&
	    s->g.eof != STREAM_CUT && s->o->adopt)
		s->o->adopt(s->crew, d);
}

static void on_ask(struct dest *d, const char *host, uint64_t offset)
{
	struct shard *s = container_of(d->g, struct shard, g);

	if (s->id == 0 && s->o->asked)
		s->o->asked(s->crew, d, host, offset);
}

static int hand_up(struct dest *d, uint64_t offset)
{
	struct shard *s = container_of(d->g, struct shard, g);

	return s->id == 0 && s->o->hand_up ? s->o->hand_up(s->crew, d, offset) : -ENOSYS;
}

static void fail_live(struct shard *s, const char *why, int draining)
{
	for_each_live(s, d, nx) if (draining || d->state != DEST_DRAINING) dest_fail(d, why, 0);
}

/* Publish the smallest done of our destinations, which holds the source's
 * ring; with none left the shard holds nothing.  Wakes the main thread when
 * it waits for room.  It costs a pass over the destinations, so it is done
 * only when the ring could need it, or PUBLISH_MS after the last time. */
void shard_publish(struct shard *s)
{
	struct crew *c = s->crew;
	uint64_t now = now_ms(), low;

	if (s->live &&
	    __atomic_load_n(&c->ring->size, __ATOMIC_RELAXED) / 2 >
		    __atomic_load_n(&c->head, __ATOMIC_ACQUIRE) - s->rd.done &&
	    now - s->published < PUBLISH_MS)
		return;
	s->published = now;
	low = ring_reclaim(&s->view);
	/* Whether one of ours waits for data while the ring is full: it grows. */
	__atomic_store_n(&s->rd.lead, s->view.lead, __ATOMIC_RELAXED);
	if (!s->live && s->next_connect >= s->npush && s->id)
		low = UINT64_MAX; /* a thread with nothing left to send */
	if (low == s->rd.done)
		return;
	__atomic_store_n(&s->rd.done, low, __ATOMIC_RELEASE);
	if (!s->id)
		return; /* the main thread's own: it looks before it sleeps */
	__atomic_thread_fence(__ATOMIC_SEQ_CST); /* pairs with crew_wait_for_room() */
	if (__atomic_exchange_n(&s->crew->main_waits, 0, __ATOMIC_SEQ_CST))
		loop_wake(s->crew->wake.fd);
}

/* --stall-timeout: drop a destination that has taken nothing for that long
 * while it had something to take (bytes to send, or sent bytes the peer has
 * not acknowledged while draining).  Waiting for the source is no stall. */
static void check_stall(struct shard *s, struct dest *d, uint64_t now)
{
	const struct shard_opts *o = s->o;
	int unacked = d->state == DEST_DRAINING ? net_unacked(d->io.fd) : 0;
	int verdict = 0; /* a framed peer's verdict is awaited */
	uint64_t key, more = o->stall_step_ms * d->depth_below; /* shard.h */

	if (d->state == DEST_STREAMING && d->rd.done < s->view.head)
		key = d->rd.sent + d->rd.done;
	else if (unacked > 0)
		key = ~(uint64_t)unacked;
	else if ((verdict = d->fr && d->state == DEST_DRAINING))
		key = 1;
	else
		key = now; /* idle, or not connected yet: never stalled */
	if (key != d->stall_key || !d->stall_since) {
		d->stall_key = key;
		d->stall_since = now;
	} else if (verdict && now - d->stall_since >= o->verdict_ms) {
		dest_fail(d, o->verdict_why, 0); /* a framed peer's verdict never came */
	} else if (!verdict && now - d->stall_since >= o->stall_ms + more) {
		if (more && d->fr) /* its own reason: how long, for a relay this deep */
			snprintf(d->fr->why, sizeof(d->fr->why),
				 "stalled: accepted nothing for %.1f s (a tree's --stall-timeout, "
				 "%.0f s more for the %zu level%s of hosts below it)",
				 (double)(o->stall_ms + more) / 1000, (double)more / 1000,
				 d->depth_below, d->depth_below == 1 ? "" : "s");
		dest_fail(d, more && d->fr ? d->fr->why : o->stall_why, 0);
	}
}

/* Whether one of s's destinations is starved: it has sent everything up to
 * head and its peer has acknowledged all of it (SIOCOUTQ), so it is idle
 * for want of data, not busy with its own socket.  Only destinations at
 * the head are probed, at most STARVED_PROBES of them, from where the last
 * search found one (it is likely starved still) or gave up, round the list
 * once. */
static int find_starved(struct shard *s, uint64_t head)
{
	size_t from = s->probe_at, probes = 0;

	for (int lap = 0; lap < 2; lap++) {
		size_t i = 0; /* counts the destinations at the head */
		for_each_live(s, d, nx)
		{
			if (d->state != DEST_STREAMING || d->rd.done != head)
				continue;
			if (lap == 0 ? i++ < from : i++ >= from)
				continue; /* lap 0: from on; lap 1: those before */
			/* an output at the head has nothing to wait for but data */
			if (dest_is_output(d) || net_unacked(d->io.fd) == 0) {
				s->probe_at = i - 1;
				return 1;
			}
			if (++probes == STARVED_PROBES) {
				s->probe_at = i;
				return 0;
			}
		}
		if (from == 0)
			break;
	}
	s->probe_at = 0;
	return 0;
}

/* --slow drop: whether, now, a destination lagging far enough behind holds
 * the others back: the source waits for ring space and a destination of
 * some shard is starved.  Publishes our own starved one for the others. */
static int others_held(struct shard *s, uint64_t head, uint64_t now)
{
	struct crew *c = s->crew;

	if (!__atomic_load_n(&c->writer_waits, __ATOMIC_ACQUIRE))
		return 0;
	for (size_t i = 0; i < c->n; i++)
		if (i != s->id &&
		    __atomic_load_n(&c->shards[i].starved_at, __ATOMIC_ACQUIRE) +
				    STARVED_FRESH_MS >=
			    now)
			return 1;
	if (!find_starved(s, head))
		return 0;
	__atomic_store_n(&s->starved_at, now, __ATOMIC_RELEASE);
	return 1;
}

/* --slow drop: d is a blocker at this check when others are held (above)
 * and it lags the head by max_lag or more; once one, it stays one while it
 * lags by half that, so that the bytes a slow peer trickles out (before the
 * writer, in another thread, fills the ring again) do not reset its clock.
 * The clock starts again, too, whenever d reaches the head as it was when
 * the clock started: a destination that keeps pace crosses a small ring in
 * a fraction of a second however its position jumps, while one that holds
 * the others back is still behind that mark a second later (measured under
 * a CPU hog, 8 receivers, 256 MiB, rings of 1 to 16 MiB: healthy ones were
 * blockers for at most 0.2 s with this rule, up to 1.2 s without it).  d is
 * dropped once it has been a blocker, short of its mark, for DROP_GRACE_MS.
 * A starved destination lags by nothing, so the starved one is another.
 * Returns non-zero if it dropped d. */
static int check_drop(struct shard *s, struct dest *d, int held, uint64_t head, uint64_t now)
{
	uint64_t lag = s->o->max_lag;

	if (d->blocking_since)
		lag /= 2;
	if (!held || head - d->rd.done < lag) {
		d->blocking_since = 0;
		return 0;
	}
	if (!d->blocking_since || d->rd.done >= d->blocking_mark) {
		d->blocking_since = now;
		d->blocking_mark = head;
		return 0;
	}
	if (now - d->blocking_since < DROP_GRACE_MS)
		return 0;
	dest_fail(d, s->o->lag_why, 0);
	return 1;
}

/* Connect deadlines and retries, --stall-timeout, and --slow drop.  Lag
 * alone says nothing about who holds whom back: when the source outruns
 * every destination, all of them trail the head by the ring at times, and
 * one socket can take several MiB at once, so positions jump.  So a
 * destination is dropped only when it has held the others back (the writer
 * waiting, someone starved, it far behind) for a while: check_drop(). */
static void check_all(struct shard *s)
{
	const struct shard_opts *o = s->o;
	uint64_t now = now_ms(), head = 0;
	int held = 0;

	if (o->slow_drop) {
		head = __atomic_load_n(&s->crew->head, __ATOMIC_ACQUIRE);
		held = others_held(s, head, now);
	}
	s->unconnected = s->npush - s->next_connect;
	for_each_live(s, d, nx)
	{
		dest_check_deadline(d, now);
		if (!dest_live(d))
			continue;
		s->unconnected += d->state < DEST_STREAMING;
		if (o->slow_drop && check_drop(s, d, held, head, now))
			continue;
		if (o->stall_ms)
			check_stall(s, d, now);
	}
}

static void on_check(struct loop_timer *t)
{
	struct shard *s = container_of(t, struct shard, check);
	uint64_t stall = s->o->stall_ms, ms = stall ? MIN(1000, MAX(stall / 4, 50)) : 1000;

	check_all(s);
	if (s->unconnected || s->o->slow_drop)
		ms = MIN(ms, CHECK_FAST_MS);
	loop_timer_arm(s->loop, &s->check, ms);
}

/* Take up the head and the end of the stream as the crew published them:
 * the end first, so that once it is seen the head read after it is final
 * (crew_publish stores them the other way round). */
static void take_up(struct shard *s)
{
	int eof = __atomic_load_n(&s->crew->eof, __ATOMIC_ACQUIRE);
	uint64_t head = __atomic_load_n(&s->crew->head, __ATOMIC_ACQUIRE);

	if (head != s->view.head || eof != s->g.eof) {
		s->view.head = head;
		s->g.eof = eof;
		s->fresh = 1;
	}
}

int shard_sync(struct shard *s)
{
	int cmd = __atomic_exchange_n(&s->cmd, 0, __ATOMIC_ACQ_REL);
	if (cmd)
		fail_live(s, __atomic_load_n(&s->cmd_why, __ATOMIC_ACQUIRE), cmd == 1);
	take_up(s);
	while (s->next_connect < s->npush && s->g.nstate[DEST_CONNECTING] < s->connect_at_once)
		dest_connect(&s->push[s->next_connect++]);
	if (s->fresh) {
		s->fresh = 0;
		for_each_live(s, d, nx) dest_kick(d);
	}
	if (s->tx.ops->flush)
		s->tx.ops->flush(&s->tx);
	shard_publish(s);
	return s->fresh;
}

void shard_notify(struct shard *s)
{
	if (s->id == 0)
		return; /* it takes up the news itself before the main thread sleeps */
	/* Pairs with the fence in worker_hook: either it sees what we changed
	 * before it sleeps, or we see that it sleeps and wake it. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (__atomic_exchange_n(&s->sleeping, 0, __ATOMIC_SEQ_CST))
		loop_wake(s->wake.fd);
}

void shard_fail_all(struct shard *s, const char *why, int draining)
{
	if (s->id == 0) {
		fail_live(s, why, draining);
		return;
	}
	if (!__atomic_load_n(&s->running, __ATOMIC_ACQUIRE))
		return;
	__atomic_store_n(&s->cmd_why, why, __ATOMIC_RELEASE);
	__atomic_store_n(&s->cmd, draining ? 1 : 2, __ATOMIC_RELEASE);
	shard_notify(s);
}

int shard_add(struct shard *s, struct dest *d, uint64_t start)
{
	take_up(s);
	s->fresh = 1;
	if (ring_reader_add(&s->view, &d->rd, start) < 0)
		return -ENOMEM;
	/* It holds the source's ring from start on: say so before it writes. */
	ring_hold(s->crew->ring, &s->rd, start);
	d->g = &s->g;
	live_add(s, d);
	return 0;
}

/* A thread's loop hook: sync, stop when nothing is left, and tell the main
 * thread before sleeping so that it wakes us for new data. */
static int worker_hook(void *arg)
{
	struct shard *s = arg;
	struct crew *c = s->crew;

	if (shard_sync(s))
		return 1;
	if (!s->live && s->next_connect >= s->npush) {
		loop_stop(s->loop);
		return 0;
	}
	__atomic_store_n(&s->sleeping, 1, __ATOMIC_SEQ_CST);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (__atomic_load_n(&s->cmd, __ATOMIC_ACQUIRE) ||
	    __atomic_load_n(&c->head, __ATOMIC_ACQUIRE) != s->view.head ||
	    __atomic_load_n(&c->eof, __ATOMIC_ACQUIRE) != s->g.eof) {
		__atomic_store_n(&s->sleeping, 0, __ATOMIC_SEQ_CST);
		return 1;
	}
	return 0;
}

static void *worker(void *arg)
{
	struct shard *s = arg;
	int rc = loop_run(s->loop);

	if (rc < 0) {
		errmsg("epoll_wait: %s", strerror(-rc));
		fail_live(s, "the sending thread failed", 1);
	}
	s->published = 0;
	shard_publish(s);
	__atomic_store_n(&s->running, 0, __ATOMIC_RELEASE);
	loop_wake(s->crew->wake.fd);
	return NULL;
}

int shard_open(struct shard *s, struct loop *loop, const char **why)
{
	struct crew *c = s->crew;
	const struct shard_opts *o = s->o;
	int rc;

	s->wake.fd = -1;
	s->loop = loop ? loop : loop_new();
	if (!s->loop)
		return fail_why(s->why, sizeof(s->why), why, "epoll: %s", strerror(errno));
	ring_view(&s->view, c->ring);
	s->tx = (struct tx){ .ring = &s->view, .loop = s->loop, .chunk = o->chunk };
	rc = s->id ? tx_start_like(&s->tx, &c->shards[0].tx) : tx_start(&s->tx, o->transport);
	if (rc < 0) {
		*why = NULL; /* the transport said why */
		return -1;
	}
	s->g = (struct dest_group){
		.frame_hdr = o->frame_hdr,
		.sha256 = o->sha256,
		.key = o->key,
		.keylen = o->keylen,
		.tree = o->tree,
		.loop = s->loop,
		.ring = &s->view,
		.tx = &s->tx,
		.on_finish = on_finish,
		.on_ask = on_ask,
		.hand_up = hand_up,
		.refill_fd = o->refill_fd,
		.refill_base = o->refill_base,
		.connect_ms = o->connect_ms,
		.retries = o->retries,
		.sndbuf = o->sndbuf,
	};
	if (ring_reader_add(c->ring, &s->rd, 0) < 0)
		return fail_why(s->why, sizeof(s->why), why, "%s", strerror(ENOMEM));
	for (size_t i = 0; i < s->npush; i++) {
		if (ring_reader_add(&s->view, &s->push[i].rd, 0) < 0)
			return fail_why(s->why, sizeof(s->why), why, "%s: %s", s->push[i].name,
					strerror(ENOMEM));
		s->push[i].g = &s->g;
		live_add(s, &s->push[i]);
	}
	s->connect_at_once = MAX(CONNECT_AT_ONCE / c->n, 1);
	s->unconnected = s->npush;
	s->check.cb = on_check;
	loop_timer_arm(s->loop, &s->check, CHECK_FAST_MS);
	if (s->id == 0)
		return 0;
	if ((rc = loop_add_waker(s->loop, &s->wake)) < 0)
		return fail_why(s->why, sizeof(s->why), why, "eventfd: %s", strerror(-rc));
	loop_set_hook(s->loop, worker_hook, s);
	return 0;
}

int shard_start(struct shard *s, const char **why)
{
	__atomic_store_n(&s->running, 1, __ATOMIC_RELEASE);
	int rc = pthread_create(&s->thread, NULL, worker, s);
	if (rc) {
		__atomic_store_n(&s->running, 0, __ATOMIC_RELEASE);
		return fail_why(s->why, sizeof(s->why), why, "cannot start a sending thread: %s",
				strerror(rc));
	}
	s->started = 1;
	return 0;
}

void shard_join(struct shard *s)
{
	if (s->started)
		pthread_join(s->thread, NULL);
	s->started = 0;
}

void shard_close(struct shard *s)
{
	if (!s->crew)
		return; /* never opened */
	for_each_live(s, d, nx)
	{
		if (d->io.fd >= 0)
			close(d->io.fd);
		if (d->subscriber)
			s->o->sub_done(s->crew, d);
	}
	s->live = NULL;
	if (s->tx.ops && s->tx.ops->close)
		s->tx.ops->close(&s->tx);
	if (s->wake.fd >= 0)
		close(s->wake.fd);
	if (s->id && s->loop) {
		loop_free(s->loop);
	} else if (s->loop) {
		/* Shard 0 shares the main thread's loop, which outlives it:
		 * its armed timers must leave the loop's list with it. */
		if (s->check.armed)
			loop_timer_cancel(s->loop, &s->check);
		if (s->g.drain_timer.armed)
			loop_timer_cancel(s->loop, &s->g.drain_timer);
	}
	ring_close_view(&s->view);
}
