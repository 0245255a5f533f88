#include "crew.h"
#include "cli.h"
#include "framed.h"
#include "net.h"
#include "output.h"
#include "tree.h"
#include "ring.h"
#include "util.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* -j's default: one sending thread per this many push destinations, at
 * most one per CPU.  A thread costs a loop, a transport and a registration
 * of the ring; with fewer destinations one thread keeps up (BENCHMARKS.md:
 * at 64, a second thread brought nothing). */
#define DESTS_PER_THREAD 256

/* A subscriber: a destination that connected to us (shard 0 only). */
struct sub {
	struct dest d;
	char name[80]; /* "subscriber [v6]:port" */
};

static void free_list(struct dest **list)
{
	while (*list) {
		struct dest *d = *list;
		*list = d->next;
		free(container_of(d, struct sub, d));
	}
}

/* shard_opts.sub_done: d is ours again; freed before the next wait, or
 * kept for --stats. */
static void sub_done(struct crew *c, struct dest *d)
{
	struct dest **list = c->cfg->stats_path ? &c->kept : &c->dead;

	c->nsubs--;
	d->next = *list;
	*list = d;
}

/* Descriptors for every push destination (or say so before connecting any),
 * and socket buffers small enough for all of them together. */
static int fit_peers(struct crew *c, const char **why)
{
	const struct config *cfg = c->cfg;
	size_t subs = cfg->have_listen ? MAX(cfg->min_subscribers, cfg->max_subscribers) : 0;
	/* The root of a tree connects to the heads of its subtrees only. */
	size_t peers = cfg->tree ? MIN(cfg->ndests, cfg->tree) : cfg->ndests;
	size_t room = net_fd_room(peers + subs);

	if (peers > room)
		return fail_why(
			c->why, sizeof(c->why), why,
			"%zu destination%s need %zu file descriptors, but the limit "
			"(ulimit -n) leaves room for %zu; raise it, or push to fewer and let them relay",
			peers, plural(peers), peers + NET_FD_RESERVE, room);
	c->opts.sndbuf = net_sndbuf_for(peers + subs);
	if (c->opts.sndbuf) {
		char b[32];
		info("%zu destination%s: each socket's send buffer is %s, to fit TCP memory",
		     peers + subs, plural(peers + subs),
		     fmt_bytes((uint64_t)c->opts.sndbuf, b, sizeof(b)));
	}
	return 0;
}

/* Every output can be written, and no two are one file (two writers would
 * interleave): "-" and file:/dev/stdout, file:a and file:./a are caught. */
static int check_outputs(struct crew *c, const char **why)
{
	const struct config *cfg = c->cfg;
	struct output_id *ids = calloc(cfg->ndests ? cfg->ndests : 1, sizeof(*ids));
	char b[PATH_MAX + 64];
	int rc = ids ? 0 : fail_why(c->why, sizeof(c->why), why, "%s", strerror(ENOMEM));

	for (size_t i = 0; i < cfg->ndests && rc == 0; i++) {
		const struct dest_spec *s = &cfg->dests[i];
		struct dest *d = &c->push[i];
		if (s->kind != DEST_FILE && s->kind != DEST_STDOUT)
			continue;
		d->io.fd = -1;
		d->name = s->text;
		d->kind = s->kind;
		if (output_check(s->kind, s->path, &d->real, &ids[i], b, sizeof(b)) < 0) {
			rc = fail_why(c->why, sizeof(c->why), why, "%s: %s", s->text, b);
			break;
		}
		d->path = d->real;
		for (size_t j = 0; j < i && rc == 0; j++)
			if (dest_is_output(&c->push[j]) && output_same(&ids[i], &ids[j]))
				rc = fail_why(c->why, sizeof(c->why), why,
					      "%s and %s are one output; one writer per output",
					      c->push[j].name, s->text);
	}
	for (size_t i = 0; ids && i < cfg->ndests; i++)
		free(ids[i].canon);
	free(ids);
	return rc;
}

/* Resolve every destination, and check that every output can be written,
 * before anything is sent. */
static int resolve_all(struct crew *c, const char **why)
{
	const struct config *cfg = c->cfg;

	c->push = calloc(cfg->ndests ? cfg->ndests : 1, sizeof(*c->push));
	if (!c->push)
		return fail_why(c->why, sizeof(c->why), why, "%zu destination%s: %s", cfg->ndests,
				plural(cfg->ndests), strerror(ENOMEM));
	if (cfg->tree) /* the root of a tree sends to the heads of its subtrees */
		return crew_add_tree(c, cfg->tree, (const char *const *)c->tree_hosts, cfg->ndests,
				     why);
	c->npush = cfg->ndests; /* from here on crew_close frees what they hold */
	if (check_outputs(c, why) < 0)
		return -1;
	for (size_t i = 0; i < cfg->ndests; i++) {
		struct dest *d = &c->push[i];
		const struct dest_spec *s = &cfg->dests[i];
		char b[160];
		int rc;

		if (s->kind == DEST_FILE || s->kind == DEST_STDOUT)
			continue; /* set up by check_outputs */
		d->io.fd = -1;
		d->name = s->text;
		d->kind = s->kind;
		if ((rc = net_resolve(s->host, s->port, cfg->family, &d->addrs)))
			return fail_why(c->why, sizeof(c->why), why, "%s: %s", s->text,
					net_resolve_why(rc, s->host, cfg->family, b, sizeof(b)));
	}
	return 0;
}

int crew_init(struct crew *c, const struct config *cfg, const char **why)
{
	*c = (struct crew){ .cfg = cfg, .wake = { .fd = -1 }, .opts.refill_fd = -1 };
	c->opts = (struct shard_opts){
		.transport = cfg->transport,
		.chunk = cfg->chunk,
		.connect_ms = cfg->connect_ms,
		.retries = cfg->retries,
		.stall_ms = cfg->stall_ms,
		.verdict_ms = cfg->stall_ms,
		.slow_drop = cfg->slow_drop,
		.sub_done = sub_done,
		.adopt = crew_adopt,
		.asked = crew_asked,
		.hand_up = crew_hand_up,
		.refill_fd = -1,
		.frame_hdr = &c->frame_hdr,
		.sha256 = c->sha256,
		.key = cfg->key,
		.keylen = cfg->keylen,
	};
	snprintf(c->opts.stall_why, sizeof(c->opts.stall_why),
		 "stalled: accepted nothing for %.1f s (--stall-timeout)",
		 (double)cfg->stall_ms / 1000);
	snprintf(c->opts.verdict_why, sizeof(c->opts.verdict_why),
		 "not verified: no verdict from the receiver within %.1f s (--stall-timeout)",
		 (double)cfg->stall_ms / 1000);
	if (fit_peers(c, why) < 0 || (cfg->tree && crew_tree_hosts(c, why) < 0))
		return -1;
	return resolve_all(c, why);
}

/* -j: as given, or one thread per DESTS_PER_THREAD push destinations, at
 * most one per CPU; never more than there are push destinations. */
static size_t thread_count(const struct config *cfg, size_t npush, int c_tree)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	size_t n = cfg->threads;

	if (!n)
		n = MIN((size_t)(cpus > 0 ? cpus : 1),
			(npush + DESTS_PER_THREAD - 1) / DESTS_PER_THREAD);
	if (c_tree)
		n = 1; /* a tree's few children, and repair, are the main thread's */
	return MAX(MIN(n, npush), 1);
}

/* --slow drop's lag, and the reason a destination dropped for it gives. */
static void set_max_lag(struct crew *c)
{
	struct shard_opts *o = &c->opts;
	char lag[32];

	o->max_lag = c->cfg->max_lag ? c->cfg->max_lag : c->ring->size_max;
	/* Retiring (sendfile) makes the writer wait as soon as the block ahead
	 * is not free: the destination that holds it may lag the head by only
	 * the ring less a block. */
	if (c->ring->block)
		o->max_lag = MIN(o->max_lag, c->ring->size_max - c->ring->block);
	snprintf(o->lag_why, sizeof(o->lag_why),
		 "dropped: held the others back for %.1f s, %s or more behind the stream's head "
		 "(--slow drop, --max-lag)",
		 (double)DROP_GRACE_MS / 1000, fmt_bytes(o->max_lag, lag, sizeof(lag)));
}

int crew_open(struct crew *c, struct loop *loop, struct ring *ring, const char **why)
{
	size_t n = thread_count(c->cfg, c->npush, c->opts.tree);
	int rc;

	c->loop = loop;
	c->ring = ring;
	c->head = ring->head;
	c->shards = calloc(n, sizeof(*c->shards));
	if (!c->shards)
		return fail_why(c->why, sizeof(c->why), why, "%s", strerror(ENOMEM));
	c->n = n;
	if (n > 1) {
		if ((rc = loop_add_waker(loop, &c->wake)) < 0)
			return fail_why(c->why, sizeof(c->why), why, "eventfd: %s", strerror(-rc));
		info("%zu sending threads for %zu destination%s", n, c->npush, plural(c->npush));
	}
	for (size_t i = 0; i < n; i++) {
		struct shard *s = &c->shards[i];
		size_t lo = c->npush * i / n, hi = c->npush * (i + 1) / n;
		*s = (struct shard){
			.crew = c, .o = &c->opts, .id = i, .push = c->push + lo, .npush = hi - lo
		};
		if (shard_open(s, i ? NULL : loop, why) < 0)
			return -1;
	}
	set_max_lag(c);
	return 0;
}

int crew_start(struct crew *c, const char **why)
{
	for (size_t i = 1; i < c->n; i++)
		if (shard_start(&c->shards[i], why) < 0)
			return -1;
	return 0;
}

void crew_join(struct crew *c)
{
	for (size_t i = 1; i < c->n; i++)
		shard_join(&c->shards[i]);
}

void crew_close(struct crew *c)
{
	for (size_t i = 0; i < c->n; i++)
		shard_join(&c->shards[i]);
	for (size_t i = 0; i < c->n; i++)
		shard_close(&c->shards[i]);
	free(c->shards);
	c->shards = NULL;
	c->n = 0;
	free_list(&c->dead);
	free_list(&c->kept);
	for (size_t i = 0; i < c->npush; i++)
		crew_free_dest_parts(&c->push[i]);
	free(c->push);
	c->push = NULL;
	free(c->tree_hosts);
	c->tree_hosts = NULL;
	for (size_t i = 0; i < c->nadopted; i++) {
		crew_free_dest_parts(c->adopted[i]);
		free(c->adopted[i]);
	}
	free(c->adopted);
	c->adopted = NULL;
	c->nadopted = 0;
	if (c->wake.fd >= 0)
		close(c->wake.fd);
	c->wake.fd = -1;
	if (c->opts.refill_fd >= 0)
		close(c->opts.refill_fd);
	c->opts.refill_fd = -1;
}

void crew_publish(struct crew *c, int eof)
{
	uint64_t head = c->ring->head;

	if (head == c->head && eof == c->eof)
		return;
	/* Release, the head first: a shard that sees the end sees the final
	 * head, and one that sees the head sees the bytes before it. */
	__atomic_store_n(&c->head, head, __ATOMIC_RELEASE);
	__atomic_store_n(&c->eof, eof, __ATOMIC_RELEASE);
	for (size_t i = 0; i < c->n; i++)
		shard_notify(&c->shards[i]);
}

int crew_sync(struct crew *c)
{
	free_list(&c->dead);
	for (size_t i = 0; c->to_connect && i < c->nadopted; i++)
		if (c->adopted[i]->state == DEST_IDLE)
			dest_connect(c->adopted[i]);
	c->to_connect = 0;
	return shard_sync(&c->shards[0]);
}

void crew_release(struct crew *c)
{
	shard_publish(&c->shards[0]);
}

int crew_wait_for_room(struct crew *c)
{
	uint8_t *p;

	if (c->n < 2)
		return 0;
	__atomic_store_n(&c->main_waits, 1, __ATOMIC_SEQ_CST);
	__atomic_thread_fence(__ATOMIC_SEQ_CST); /* pairs with shard_publish() */
	ring_reclaim(c->ring);
	if (ring_write_span(c->ring, &p) == 0)
		return 0;
	__atomic_store_n(&c->main_waits, 0, __ATOMIC_SEQ_CST);
	return 1;
}

void crew_writer_waits(struct crew *c, int waits)
{
	if (__atomic_load_n(&c->writer_waits, __ATOMIC_RELAXED) != waits)
		__atomic_store_n(&c->writer_waits, waits, __ATOMIC_RELEASE);
}

void crew_fail_all(struct crew *c, const char *why)
{
	for (size_t i = 0; i < c->n; i++)
		shard_fail_all(&c->shards[i], why, 1);
}

void crew_fail_unsent(struct crew *c, const char *why)
{
	c->no_repair = 1;
	for (size_t i = 0; i < c->n; i++)
		shard_fail_all(&c->shards[i], why, 0);
}

/* Where a new subscriber starts.  --join start: at byte 0 while the ring
 * still holds it, else nowhere (UINT64_MAX): a disk image's receiver must
 * have all of it or nothing.  live: at the head.  oldest: at the oldest
 * byte the ring still holds, but with --slow drop no further back than half
 * of --max-lag behind the head, so that it does not start out as one that
 * holds the others back.  For live and oldest the stream from there is the
 * whole stream the user asked for. */
static uint64_t join_offset(struct crew *c)
{
	const struct ring *r = c->ring;

	if (c->cfg->join == JOIN_START)
		return ring_oldest(r) == 0 ? 0 : UINT64_MAX;
	if (c->cfg->join == JOIN_LIVE)
		return r->head;
	uint64_t start = ring_oldest(r), half = c->opts.max_lag / 2;
	if (c->cfg->slow_drop && r->head > half)
		start = MAX(start, r->head - half);
	return start;
}

enum crew_admit crew_admit(struct crew *c, int fd, const char *addr)
{
	size_t max = c->cfg->max_subscribers;

	if (max && c->nsubs >= max) {
		net_reset_on_close(fd);
		close(fd);
		c->nturned++;
		return CREW_TURNED_AWAY;
	}
	crew_publish(c, c->eof); /* shard 0 takes up the head it joins at */
	uint64_t start = join_offset(c);
	struct sub *s = calloc(1, sizeof(*s));
	if (s)
		s->d.joined = start == UINT64_MAX ? c->ring->head : start;
	if (!s || shard_add(&c->shards[0], &s->d, s->d.joined) < 0) {
		free(s);
		close(fd);
		return CREW_NO_MEMORY;
	}
	c->nsubs++;
	snprintf(s->name, sizeof(s->name), "subscriber %s", addr);
	s->d.name = s->name;
	s->d.subscriber = 1;
	if (start == UINT64_MAX) {
		/* Counted, reported and in --stats like any destination that
		 * did not get the whole stream. */
		s->d.io.fd = fd;
		dest_fail(&s->d,
			  "refused: the stream's first bytes have left the ring "
			  "(--join start; --join live takes it from here)",
			  0);
		return CREW_REFUSED;
	}
	info("%s: joined at byte %llu", s->name, (unsigned long long)s->d.joined);
	dest_accept(&s->d, fd);
	return CREW_JOINED;
}

int crew_busy(struct crew *c)
{
	if (c->shards[0].live)
		return 1;
	for (size_t i = 1; i < c->n; i++)
		if (__atomic_load_n(&c->shards[i].running, __ATOMIC_ACQUIRE))
			return 1;
	return 0;
}

void crew_counts(struct crew *c, size_t *live, size_t *done, size_t *failed,
		 size_t state[DEST_FAILED + 1])
{
	*live = *done = *failed = 0;
	if (state)
		memset(state, 0, sizeof(size_t) * (DEST_FAILED + 1));
	for (size_t i = 0; i < c->n; i++) {
		struct shard *s = &c->shards[i];
		*live += __atomic_load_n(&s->nlive, __ATOMIC_ACQUIRE);
		*done += __atomic_load_n(&s->ndone, __ATOMIC_ACQUIRE);
		*failed += __atomic_load_n(&s->nfailed, __ATOMIC_ACQUIRE);
		for (int k = 0; state && k <= DEST_FAILED; k++)
			state[k] += __atomic_load_n(&s->g.nstate[k], __ATOMIC_ACQUIRE);
	}
}

void crew_totals(struct crew *c, struct crew_totals *t)
{
	*t = (struct crew_totals){ 0 };
	for (size_t i = 0; i < c->n; i++) {
		struct shard *s = &c->shards[i];
		tx_counters_add(&t->tx, &s->tx.n);
		t->dests += s->ndests;
		t->done += s->ndone;
		t->failed += s->nfailed;
	}
}

uint64_t crew_lag(struct crew *c)
{
	return c->ring->head - ring_reclaim(c->ring);
}

const struct tx_ops *crew_transport(const struct crew *c)
{
	return c->shards[0].tx.ops;
}

void crew_walk(struct crew *c, void (*each)(const struct dest *d, void *arg), void *arg)
{
	for (size_t i = 0; i < c->npush; i++)
		each(&c->push[i], arg);
	for (size_t i = 0; i < c->nadopted; i++)
		each(c->adopted[i], arg);
	for (struct dest *d = c->kept; d; d = d->next)
		each(d, arg);
	for (struct dest *d = c->shards[0].live; d; d = d->next)
		if (d->subscriber)
			each(d, arg);
}
