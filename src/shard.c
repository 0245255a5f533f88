#include "shard.h"
#include "cli.h"
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

#define LOAD(p) __atomic_load_n(p, __ATOMIC_ACQUIRE)
#define STORE(p, v) __atomic_store_n(p, v, __ATOMIC_RELEASE)
#define BUMP(p, by) __atomic_add_fetch(p, by, __ATOMIC_RELAXED)

#define for_each_live(s, d, nx) for (struct dest *d = (s)->live, *nx; d && (nx = d->next, 1); d = nx)

static void live_add(struct shard *s, struct dest *d)
{
	d->prev = NULL;
	d->next = s->live;
	if (s->live)
		s->live->prev = d;
	s->live = d;
	BUMP(&s->g.nstate[d->state], 1);
	BUMP(&s->nlive, 1);
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
	BUMP(&s->nlive, (size_t)-1);
}

static void on_finish(struct dest *d)
{
	struct shard *s = container_of(d->g, struct shard, g);
	char b[32];

	live_del(s, d);
	if (d->state == DEST_DONE) {
		BUMP(&s->ndone, 1);
	} else {
		char after[48] = "", why[160];
		BUMP(&s->nfailed, 1);
		if (d->connected)
			snprintf(after, sizeof(after), " (after %s)",
				 fmt_bytes(d->rd.sent - d->joined, b, sizeof(b)));
		else if (d->tries > 1)
			snprintf(after, sizeof(after), " (%u tries)", d->tries);
		if (*dest_error(d, why, sizeof(why)))
			errmsg("%s: %s%s", d->name, why, after);
	}
	if (d->subscriber) {
		struct dest **list = s->crew->cfg->stats_path ? &s->kept : &s->dead;
		s->nsubs--;
		d->next = *list;
		*list = d;
	}
}

static void fail_live(struct shard *s, const char *why)
{
	for_each_live(s, d, nx)
		dest_fail(d, why, 0);
}

/* Publish the smallest done of our destinations, which holds the source's
 * ring; with none left the shard holds nothing.  Wakes the main thread when
 * it waits for room.  It costs a pass over the destinations, so it is done
 * only when the ring could need it, or PUBLISH_MS after the last time. */
void shard_publish(struct shard *s)
{
	struct crew *c = s->crew;
	uint64_t now = now_ms(), low;

	if (s->live && c->ring->size / 2 > LOAD(&c->ring->head) - s->rd.done &&
	    now - s->published < PUBLISH_MS)
		return;
	s->published = now;
	low = ring_reclaim(&s->view);
	if (!s->live && s->next_connect >= s->npush && s->id)
		low = UINT64_MAX; /* a thread with nothing left to send */
	if (low == s->rd.done)
		return;
	STORE(&s->rd.done, low);
	if (!s->id)
		return; /* the main thread's own: it looks before it sleeps */
	__atomic_thread_fence(__ATOMIC_SEQ_CST); /* pairs with wait_for_room() */
	if (__atomic_exchange_n(&s->crew->main_waits, 0, __ATOMIC_SEQ_CST))
		loop_wake(s->crew->wake_fd);
}

/* --stall-timeout: drop a destination that has taken nothing for that long
 * while it had something to take (bytes to send, or sent bytes the peer has
 * not acknowledged while draining).  Waiting for the source is no stall. */
static void check_stall(struct shard *s, struct dest *d, uint64_t now)
{
	int unacked = d->state == DEST_DRAINING ? net_unacked(d->io.fd) : 0;
	uint64_t key;

	if (d->state == DEST_STREAMING && d->rd.done < s->view.head)
		key = d->rd.sent + d->rd.done;
	else if (unacked > 0)
		key = ~(uint64_t)unacked;
	else
		key = now; /* idle, or not connected yet: never stalled */
	if (key != d->stall_key || !d->stall_since) {
		d->stall_key = key;
		d->stall_since = now;
	} else if (now - d->stall_since >= s->crew->cfg->stall_ms) {
		dest_fail(d, s->crew->stall_why, 0);
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
		for_each_live(s, d, nx) {
			if (d->state != DEST_STREAMING || d->rd.done != head)
				continue;
			if (lap == 0 ? i++ < from : i++ >= from)
				continue; /* lap 0: from on; lap 1: those before */
			if (net_unacked(d->io.fd) == 0) {
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

	if (!LOAD(&c->writer_waits))
		return 0;
	for (size_t i = 0; i < c->n; i++)
		if (i != s->id && LOAD(&c->shards[i].starved_at) + STARVED_FRESH_MS >= now)
			return 1;
	if (!find_starved(s, head))
		return 0;
	STORE(&s->starved_at, now);
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
	uint64_t lag = s->crew->max_lag;

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
	dest_fail(d, s->crew->lag_why, 0);
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
	const struct config *cfg = s->crew->cfg;
	uint64_t now = now_ms(), head = 0;
	int held = 0;

	if (cfg->slow_drop) {
		head = LOAD(&s->crew->ring->head);
		held = others_held(s, head, now);
	}
	s->unconnected = s->npush - s->next_connect;
	for_each_live(s, d, nx) {
		dest_check_deadline(d, now);
		if (!dest_live(d))
			continue;
		s->unconnected += d->state < DEST_STREAMING;
		if (cfg->slow_drop && check_drop(s, d, held, head, now))
			continue;
		if (cfg->stall_ms)
			check_stall(s, d, now);
	}
}

static void on_check(struct loop_timer *t)
{
	struct shard *s = container_of(t, struct shard, check);
	uint64_t stall = s->crew->cfg->stall_ms, ms = stall ? MIN(1000, MAX(stall / 4, 50)) : 1000;

	check_all(s);
	if (s->unconnected || s->crew->cfg->slow_drop)
		ms = MIN(ms, CHECK_FAST_MS);
	loop_timer_arm(s->loop, &s->check, ms);
}

int shard_sync(struct shard *s)
{
	struct crew *c = s->crew;

	while (s->dead) {
		struct dest *d = s->dead;
		s->dead = d->next;
		free(container_of(d, struct sub, d));
	}
	if (LOAD(&s->cmd)) {
		STORE(&s->cmd, 0);
		fail_live(s, LOAD(&s->cmd_why));
	}
	/* The end first: once it is seen, the head read after it is final. */
	int eof = LOAD(&c->eof);
	uint64_t head = LOAD(&c->ring->head);
	if (head != s->view.head || eof != s->g.eof) {
		s->view.head = head;
		s->g.eof = eof;
		s->fresh = 1;
	}
	while (s->next_connect < s->npush && s->g.nstate[DEST_CONNECTING] < s->connect_at_once)
		dest_connect(&s->push[s->next_connect++]);
	if (s->fresh) {
		s->fresh = 0;
		for_each_live(s, d, nx)
			dest_kick(d);
	}
	if (s->tx.ops->flush)
		s->tx.ops->flush(&s->tx);
	shard_publish(s);
	return s->fresh;
}

void shard_notify(struct shard *s)
{
	if (s->id == 0) {
		s->fresh = 1;
		return;
	}
	/* Pairs with the fence in worker_hook: either it sees what we changed
	 * before it sleeps, or we see that it sleeps and wake it. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (__atomic_exchange_n(&s->sleeping, 0, __ATOMIC_SEQ_CST))
		loop_wake(s->wake.fd);
}

void shard_fail_all(struct shard *s, const char *why)
{
	if (s->id == 0) {
		fail_live(s, why);
		return;
	}
	if (!LOAD(&s->running))
		return;
	STORE(&s->cmd_why, why);
	STORE(&s->cmd, 1);
	shard_notify(s);
}

int shard_add(struct shard *s, struct dest *d, uint64_t start)
{
	s->view.head = s->crew->ring->head; /* the main thread's: this one writes it */
	s->fresh = 1;
	if (ring_reader_add(&s->view, &d->rd, start) < 0)
		return -ENOMEM;
	/* It holds the source's ring from start on: say so before it writes. */
	ring_hold(s->crew->ring, &s->rd, start);
	d->g = &s->g;
	live_add(s, d);
	s->nsubs++;
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
	if (LOAD(&s->cmd) || LOAD(&c->ring->head) != s->view.head || LOAD(&c->eof) != s->g.eof) {
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
		fail_live(s, "the sending thread failed");
	}
	s->published = 0;
	shard_publish(s);
	STORE(&s->running, 0);
	loop_wake(s->crew->wake_fd);
	return NULL;
}

int shard_open(struct shard *s, struct loop *loop, enum tx_kind want)
{
	struct crew *c = s->crew;
	int rc;

	s->wake.fd = -1;
	s->loop = loop ? loop : loop_new();
	if (!s->loop) {
		errmsg("epoll: %s", strerror(errno));
		return 2;
	}
	ring_view(&s->view, c->ring);
	s->tx = (struct tx){ .ring = &s->view, .loop = s->loop, .chunk = c->cfg->chunk };
	rc = s->id ? tx_start_like(&s->tx, &c->shards[0].tx) : tx_start(&s->tx, want);
	if (rc < 0)
		return 2;
	s->g = (struct dest_group){
		.loop = s->loop, .ring = &s->view, .tx = &s->tx, .on_finish = on_finish,
		.connect_ms = c->cfg->connect_ms, .retries = c->cfg->retries, .sndbuf = c->sndbuf,
	};
	if (ring_reader_add(c->ring, &s->rd, 0) < 0) {
		errmsg("%s", strerror(ENOMEM));
		return 2;
	}
	for (size_t i = 0; i < s->npush; i++) {
		if (ring_reader_add(&s->view, &s->push[i].rd, 0) < 0) {
			errmsg("%s: %s", s->push[i].name, strerror(ENOMEM));
			return 2;
		}
		s->push[i].g = &s->g;
		live_add(s, &s->push[i]);
	}
	s->connect_at_once = MAX(CONNECT_AT_ONCE / c->n, 1);
	s->unconnected = s->npush;
	s->check.cb = on_check;
	loop_timer_arm(s->loop, &s->check, CHECK_FAST_MS);
	if (s->id == 0)
		return 0;
	if ((rc = loop_add_waker(s->loop, &s->wake)) < 0) {
		errmsg("eventfd: %s", strerror(-rc));
		return 2;
	}
	loop_set_hook(s->loop, worker_hook, s);
	return 0;
}

int shard_start(struct shard *s)
{
	STORE(&s->running, 1);
	int rc = pthread_create(&s->thread, NULL, worker, s);
	if (rc) {
		STORE(&s->running, 0);
		errmsg("cannot start a sending thread: %s", strerror(rc));
		return 2;
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
	for_each_live(s, d, nx) {
		if (d->io.fd >= 0)
			close(d->io.fd);
		if (d->subscriber) {
			d->next = s->dead;
			s->dead = d;
		}
	}
	for (struct dest **list = &s->dead; list; list = list == &s->dead ? &s->kept : NULL) {
		while (*list) {
			struct dest *d = *list;
			*list = d->next;
			free(container_of(d, struct sub, d));
		}
	}
	if (s->tx.ops && s->tx.ops->close)
		s->tx.ops->close(&s->tx);
	if (s->wake.fd >= 0)
		close(s->wake.fd);
	if (s->id && s->loop)
		loop_free(s->loop);
	ring_close_view(&s->view);
}

void crew_counts(struct crew *c, size_t *live, size_t *done, size_t *failed,
		 size_t state[DEST_FAILED + 1])
{
	*live = *done = *failed = 0;
	if (state)
		memset(state, 0, sizeof(size_t) * (DEST_FAILED + 1));
	for (size_t i = 0; i < c->n; i++) {
		struct shard *s = &c->shards[i];
		*live += LOAD(&s->nlive);
		*done += LOAD(&s->ndone);
		*failed += LOAD(&s->nfailed);
		for (int k = 0; state && k <= DEST_FAILED; k++)
			state[k] += LOAD(&s->g.nstate[k]);
	}
}

size_t crew_running(struct crew *c)
{
	size_t n = 0;

	for (size_t i = 1; i < c->n; i++)
		n += LOAD(&c->shards[i].running) != 0;
	return n;
}
