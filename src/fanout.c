/*
 * Push mode, put together: the pump reads the source into the ring
 * (pump.c), the crew sends it to every destination (crew.c, one shard per
 * sending thread), and this file wires them to the loop and decides: when
 * the stream starts (--min-subscribers, --wait-timeout), what happens when
 * the source ends or fails (close the listeners, reset the destinations),
 * when the run is over, and its exit status.  The reports come from one
 * view of the run (stats.c).  The listeners (listen.c) and the signals
 * (signals.c) are serve mode's too; what their events mean here is below.
 */
#include "fanout.h"
#include "fanout_run.h"
#include "cli.h"
#include "crew.h"
#include "fleet.h"
#include "relay.h"
#include "tree.h"
#include "frame.h"
#include "listen.h"
#include "loop.h"
#include "net.h"
#include "progress.h"
#include "pump.h"
#include "signals.h"
#include "stats.h"
#include "util.h"

#include <errno.h>
#include <sys/random.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Reads of a non-pollable source (a regular file) per loop pass, so that
 * destinations get a turn between them. */
#define READS_PER_PASS 1
/* After accept() ran out of descriptors or memory: try again this much
 * later (ms). */
#define RELISTEN_MS 1000
/* A file sent from its own pages is checked this often (ms) besides every
 * loop pass, so that a writer waiting on the broken lease is told soon
 * even while the loop sleeps. */
#define FILE_CHECK_MS 200
/* The part of the ring in use at first (ring.h: growing): as much as a
 * 4 MiB ring, which sent as fast as any in a pipeline of relays. */
#define RING_START (4UL << 20)
/* auto, a regular file and at least this many DESTs: the file is read into
 * a ring's memfd and sent with sendfile, the ring's pages shared with every
 * socket (safe: a block is retired before it is rewritten).  Measured on
 * loopback, 256 MiB from tmpfs, against sending the file's own pages by
 * copy (what loopback makes of zero-copy sends): 0.85 of the time at N = 8,
 * 0.45 at N = 64, but 2.6 at N = 1, where the retired blocks' refaults
 * (0.55 ms per MiB, once for all destinations) are not shared
 * (BENCHMARKS.md: "ringcast sendfile" against "ringcast copy"). */
#define SENDFILE_FROM 8

/* The source failed: reset every live destination (failing one does), so
 * that no receiver takes what it got for the whole stream. */
static void abort_dests(struct fanout *f)
{
	size_t n, done, failed;

	crew_counts(&f->crew, &n, &done, &failed, NULL);
	if (n && !f->digest_bad)
		errmsg("resetting the %zu destination%s not finished, so that none takes a "
		       "partial stream for a whole one",
		       n, plural(n));
	crew_fail_all(&f->crew,
		      f->digest_bad ? "reset: the stream's SHA-256 is not --expect-digest's"
			      : f->file_changed ? "reset: the source changed while it was sent"
						: "reset: the source failed");
}

/* The whole stream was read: end its SHA-256.  Whether it is the one
 * --expect-digest names (or none is named); if not, pump.why says so. */
static int digest_expected(struct fanout *f)
{
	const char *got = digest_final(&f->pump.digest), *want = f->cfg->expect_digest;

	if (!want || !strcasecmp(got, want))
		return 1;
	f->digest_bad = 1;
	snprintf(f->pump.why, sizeof(f->pump.why),
		 "digest mismatch: the stream's SHA-256 is %s, --expect-digest says %s", got, want);
	return 0;
}

/* Close the source: the stream ends at the ring's head.  how is
 * STREAM_WHOLE at the source's own end, STREAM_CUT when it stops before it
 * (the destinations then get what was read, and a reset).  When the source
 * failed (or the ring did: pump.why) every destination is reset at once. */
static void end_source(struct fanout *f, enum stream_end how, int failed)
{
	if (!f->pump.open)
		return;
	if (how == STREAM_WHOLE && f->pump.hashing && !digest_expected(f)) {
		how = STREAM_CUT;
		failed = 1;
	}
	/* For ringcast:// trailers: what the pump computed, or, at a relay,
	 * what its source checked (the same bytes). */
	if (how == STREAM_WHOLE && f->pump.hashing)
		memcpy(f->crew.sha256, f->pump.digest.raw, sizeof(f->crew.sha256));
	else if (how == STREAM_WHOLE && f->pump.src.sha256)
		memcpy(f->crew.sha256, f->pump.src.sha256, sizeof(f->crew.sha256));
	if (failed)
		errmsg("%s: %s", f->pump.src.desc, f->pump.why);
	pump_close(&f->pump);
	f->end = how;
	crew_publish(&f->crew, how);
	crew_writer_waits(&f->crew, 0);
	/* A subscriber now would get nothing, but from a file's own pages,
	 * which hold all of it: from byte 0 on (not --join live). */
	if (how != STREAM_WHOLE || !f->pump.ring.file || f->cfg->join == JOIN_LIVE)
		listen_close(&f->lis);
	if (failed) {
		f->src_failed = 1;
		abort_dests(f);
	}
}

/* A file sent from its own pages (ring_file.c) must stay as it was until
 * every destination has all of it; when it does not, the run fails as for
 * a source that failed (destinations about to end check it too, in any
 * thread: dest.c).  The writer waits on the broken lease until this process
 * lets it go: the destinations that were sent all of it before go on to
 * their end (their bytes cannot change meanwhile); the others are reset,
 * and no relay's children are resumed. */
static void check_file(struct fanout *f)
{
	size_t live, done, failed, state[DEST_FAILED + 1];
	char why[160];

	if (!f->pump.ring.file || f->file_changed || ring_intact(&f->pump.ring, why, sizeof(why)))
		return;
	f->file_changed = 1;
	f->src_failed = 1;
	f->crew.no_repair = 1;
	snprintf(f->pump.why, sizeof(f->pump.why), "%s", why);
	listen_close(&f->lis);
	if (f->pump.open) {
		end_source(f, STREAM_CUT, 1);
		return;
	}
	errmsg("%s: %s", f->pump.src.desc, f->pump.why);
	crew_counts(&f->crew, &live, &done, &failed, state);
	size_t unsent = live - state[DEST_DRAINING];
	if (unsent && state[DEST_DRAINING])
		errmsg("resetting the %zu destination%s not yet sent all of it; the %zu that were "
		       "go on to their end, for as long as the writer can be held",
		       unsent, plural(unsent), state[DEST_DRAINING]);
	else if (unsent)
		errmsg("resetting the %zu destination%s not yet sent all of it", unsent,
		       plural(unsent));
	crew_fail_unsent(&f->crew, "reset: the source changed while it was sent");
}

/* Every FILE_CHECK_MS: check the file; once it changed, the destinations
 * still going to their end have until the kernel lets the writer go
 * (ring_file_grace_ms), and are reset then. */
static void file_tick(struct loop_timer *t)
{
	struct fanout *f = container_of(t, struct fanout, file_check);

	check_file(f);
	if (!f->file_changed) {
		f->file_changed_at = now_ms();
	} else if (now_ms() - f->file_changed_at >= ring_file_grace_ms()) {
		crew_fail_all(&f->crew,
			      "reset: the source changed while it was sent, and the "
			      "kernel's lease-break-time is up");
		return;
	}
	loop_timer_arm(f->loop, t, FILE_CHECK_MS);
}

/* What a step of the pump came to: the stream ends with the source.
 * Returns non-zero when it read. */
static int pumped(struct fanout *f, enum pump_event e)
{
	if (e == PUMP_ENDED)
		end_source(f, STREAM_WHOLE, 0);
	else if (e == PUMP_FAILED)
		end_source(f, STREAM_CUT, 1);
	return e == PUMP_READ;
}

static void on_source(struct loop_io *io, uint32_t events)
{
	struct fanout *f = container_of(io, struct fanout, pump.io);
	uint8_t *p;

	(void)events;
	if (!pumped(f, pump_step(&f->pump)) && f->pump.open && f->pump.armed &&
	    pump_room(&f->pump, &p) == 0)
		pump_arm(&f->pump, 0); /* full or too fast: wait */
}

/* Before each sleep: read what a file source can give, tell the shards
 * about new data and let this thread's shard send, resume a paused
 * pollable source when room came back, say whether the source waits for
 * ring space (--slow drop), and end the run when no destination is left
 * and none can come. */
static int before_sleep(void *arg)
{
	struct fanout *f = arg;
	struct pump *pu = &f->pump;
	uint8_t *p;

	crew_release(&f->crew); /* what the events of this pass freed */
	check_file(f);
	if (pu->open && !pu->pollable)
		for (int i = 0; i < READS_PER_PASS && pumped(f, pump_step(pu)); i++)
			;
	crew_publish(&f->crew, f->end);
	int more = crew_sync(&f->crew);
	/* Room is judged after this thread's shard has sent: a send that
	 * completes at once (copy, sendfile) frees the ring here, and no event
	 * would come to say so. */
	int room = pu->open && pump_room(pu, &p) > 0;
	if (!room && pump_full(pu))
		room = crew_wait_for_room(&f->crew);
	if (room)
		pump_arm(pu, 1);
	if (f->cfg->slow_drop)
		crew_writer_waits(&f->crew, pump_full(pu));
	if (!crew_busy(&f->crew) && !(f->lis.n && pu->open)) {
		if (pu->open) {
			errmsg("no destination left; stopping");
			end_source(f, STREAM_CUT, 0);
		}
		loop_stop(f->loop);
		return 0;
	}
	return more || (room && !pu->pollable && !pu->idle);
}

/* The stream starts: the source may read. */
static void start_stream(struct fanout *f)
{
	f->pump.held = 0;
	if (f->wait.armed)
		loop_timer_cancel(f->loop, &f->wait);
	f->t_start = now_ms();
}

static void on_wait_timeout(struct loop_timer *t)
{
	struct fanout *f = container_of(t, struct fanout, wait);
	double secs = (double)f->cfg->wait_timeout_ms / 1000;
	size_t nsubs = f->crew.nsubs;

	if (nsubs == 0) {
		errmsg("no subscriber connected within %.1f s (--wait-timeout)", secs);
		f->gave_up = 1;
		abort_dests(f);
		end_source(f, STREAM_CUT, 0);
		return;
	}
	warnmsg("%zu of %zu subscriber%s connected within %.1f s (--wait-timeout); starting with them",
		nsubs, f->cfg->min_subscribers, plural(f->cfg->min_subscribers), secs);
	f->few_subs = 1;
	start_stream(f);
}

/* ---- Subscribers (-l) and signals: events from listen.c and signals.c -- */

static void on_conn(void *arg, int fd, const struct sockaddr *sa)
{
	struct fanout *f = arg;
	char addr[64];

	net_fmt_addr(sa, addr, sizeof(addr));
	switch (crew_admit(&f->crew, fd, addr)) {
	case CREW_TURNED_AWAY:
		warnmsg("subscriber %s: turned away: %zu subscriber%s already (--max-subscribers)",
			addr, f->crew.nsubs, plural(f->crew.nsubs));
		return;
	case CREW_NO_MEMORY:
		warnmsg("subscriber %s: %s", addr, strerror(ENOMEM));
		return;
	case CREW_REFUSED:
		return;
	case CREW_JOINED:
		break;
	}
	if (f->pump.held && f->crew.nsubs >= f->cfg->min_subscribers) {
		info("%zu subscriber%s connected: the stream starts", f->crew.nsubs,
		     plural(f->crew.nsubs));
		start_stream(f);
	}
}

static void on_refused(void *arg, const struct sockaddr *sa)
{
	struct fanout *f = arg;
	char addr[64];

	info("%s: refused: not in any --allow block", net_fmt_addr(sa, addr, sizeof(addr)));
	f->nrefused++;
}

/* Out of descriptors or memory (or worse): pause, and listen.c resumes
 * after RELISTEN_MS. */
static int on_accept_failed(void *arg, int err)
{
	(void)arg;
	warnmsg("accept: %s; pausing new subscribers", strerror(err));
	return 1;
}

static const struct listen_ops listen_ops = { .conn = on_conn,
					      .refused = on_refused,
					      .failed = on_accept_failed };

/* SIGUSR1's status line: asked for, so printed even under -q (notice),
 * as serve mode's statistics are. */
static void on_status(void *arg)
{
	struct run_view v;

	fanout_view(arg, &v);
	stats_status(&v);
}

/* The first SIGINT or SIGTERM: stop reading, and give the destinations
 * --grace to take what was read.  A file read up to its size is whole even
 * if its end was not seen yet, provided a read there finds its end (a file
 * that grew, or one in /proc whose size says 0, is not; one that changed
 * fails that read, and every destination is reset with the reason);
 * anything else is cut where it stands. */
static int on_drain(void *arg, int signo)
{
	struct fanout *f = arg;
	int end = pump_probe_end(&f->pump);

	if (f->pump.open && end != 0 && f->pump.ring.head == 0) /* nothing to drain */
		warnmsg("%s: stopped before the first byte was read%s", strsignal(signo),
			f->pump.held ? " (waiting for --min-subscribers)" : "");
	else if (!f->pump.open) /* a file sent from its own pages is all in hand at once */
		warnmsg("%s: the source was read to its end; draining for up to %.1f s (signal "
			"again to stop now)",
			strsignal(signo), (double)f->cfg->grace_ms / 1000);
	else
		warnmsg("%s: stopped reading; draining for up to %.1f s (signal again to "
			"stop now)",
			strsignal(signo), (double)f->cfg->grace_ms / 1000);
	end_source(f, end == 0 ? STREAM_WHOLE : STREAM_CUT, end < 0);
	return 1;
}

/* The grace period ended: what is not delivered yet will not be.  A second
 * signal: the same, and now. */
static void on_stop(void *arg, enum signals_stop why)
{
	struct fanout *f = arg;

	if (why == SIGNALS_AGAIN) {
		crew_fail_all(&f->crew, "interrupted");
		loop_stop(f->loop);
	} else {
		crew_fail_all(&f->crew, "not delivered before the grace period ended");
	}
}

static const struct signals_ops signals_ops = { .status = on_status,
						.drain = on_drain,
						.stop = on_stop };

/* A source that knows its size (a regular file): a ring to fit it
 * (cli_fit_ring), and -s checked against it, where there is a progress
 * line to go by either.  A size of 0 is no guide (a file in /proc says 0
 * whatever it holds): neither the ring nor the progress line goes by it.
 * Returns the size the ring had before it was fitted, or 0. */
static size_t fit_ring(struct fanout *f, struct config *cfg)
{
	off_t size = f->pump.src.size;
	size_t was = cfg->ring_size;
	char a[32], b[32];

	if (f->pump.src.stream_id && !cfg->ring_given && (size < 0 || size >= (off_t)TREE_RING) &&
	    cli_fit_ring(cfg, TREE_RING - 1)) {
		info("ring: %s for a tree's receiver, not the default %s: it sets up at once "
		     "(--ring-size to change it)",
		     fmt_bytes(cfg->ring_size, a, sizeof(a)), fmt_bytes(was, b, sizeof(b)));
		return 0;
	}
	if (size <= 0)
		return 0;
	if (cfg->progress && cfg->size >= 0 && cfg->size != size) {
		fmt_bytes((uint64_t)cfg->size, a, sizeof(a));
		fmt_bytes((uint64_t)size, b, sizeof(b));
		if (!strcmp(a, b)) { /* "97.7 KiB" both: the bytes tell them apart */
			snprintf(a, sizeof(a), "%lld bytes", (long long)cfg->size);
			snprintf(b, sizeof(b), "%lld bytes", (long long)size);
		}
		warnmsg("-s %s: %s is %s; the progress line goes by that", a, f->pump.src.desc, b);
	}
	return cli_fit_ring(cfg, (uint64_t)size) ? was : 0;
}

static int framed_dests(const struct config *cfg)
{
	for (size_t i = 0; i < cfg->ndests; i++)
		if (cfg->dests[i].kind == DEST_FRAMED)
			return 1;
	return 0;
}

/* What ringcast:// destinations are told first: the stream's name (the
 * source as given), its size when the source knows it (informative: the
 * trailer's length is what counts), and --expect-digest. */
static void frame_header_for(struct fanout *f)
{
	struct frame_header *h = &f->crew.frame_hdr;
	const struct config *cfg = f->cfg;

	snprintf(h->name, sizeof(h->name), "%s",
		 f->pump.src.name ? f->pump.src.name : f->pump.src.desc);
	h->has_size = f->pump.src.size >= 0;
	h->size = (uint64_t)f->pump.src.size;
	h->has_expect = cfg->expect_digest != NULL;
	/* A tree's stream has an identity, so that a host resumes only it: the
	 * root draws it, each relay passes its own on. */
	h->has_id = f->pump.src.stream_id || cfg->tree;
	if (f->pump.src.stream_id)
		memcpy(h->id, f->pump.src.stream_id, sizeof(h->id));
	else if (cfg->tree && getrandom(h->id, sizeof(h->id), 0) != (ssize_t)sizeof(h->id))
		h->has_id = 0; /* no repair then, but the stream goes */
	for (size_t i = 0; h->has_expect && i < sizeof(h->expect); i++)
		sscanf(cfg->expect_digest + 2 * i, "%2hhx", &h->expect[i]);
}

static int open_source(struct fanout *f)
{
	const struct config *cfg = f->cfg;
	struct source_opts o;
	const char *why;

	cli_source_opts(cfg, &o);
	f->pump.loop = f->loop;
	f->pump.rate = cfg->rate;
	f->pump.hashing = cfg->digest || framed_dests(cfg);
	/* sendfile from a file's own pages would let a loopback or veth
	 * receiver's queue hold the page cache's pages past the run (and its
	 * lease): a later write would reach bytes it was sent whole.  It
	 * sends from a ring's memfd; the other transports copy, or hold the
	 * pages only until their completions come. */
	f->pump.no_file_pages = cfg->file_pages_off ? "--file-pages off"
		: cfg->transport == TX_SENDFILE     ? "--transport sendfile sends from a ring"
						    : NULL;
	f->pump.ring_memfd = cfg->transport == TX_SENDFILE;
	/* Subscribers may join at byte 0 for as long as the ring holds it
	 * (--join start): that ring is all in use from the start. */
	f->pump.ring_start = cfg->have_listen ? 0 : MAX(RING_START, 8 * cfg->chunk);
	if (pump_open(&f->pump, cfg->input, &o, &why) < 0) {
		errmsg("%s: %s", cfg->input, why);
		return 2;
	}
	if (cfg->transport == TX_AUTO && !cfg->file_pages_off && f->pump.src.file.on &&
	    f->crew.npush >= SENDFILE_FROM) {
		f->pump.no_file_pages = "auto sends a file to 8 or more destinations from a "
					"ring's memfd with sendfile";
		f->pump.ring_memfd = 1;
	}
	if (pump_watch(&f->pump, on_source, &why) < 0) {
		errmsg("%s: %s", f->pump.src.desc, why);
		return 2;
	}
	return 0;
}

/* Say why a set-up step failed (NULL: told already); the exit status. */
static int setup_failed(const char *why)
{
	if (why)
		errmsg("%s", why);
	return 2;
}

static int setup(struct fanout *f, struct config *cfg)
{
	const char *why;
	int rc;

	f->loop = loop_new();
	if (!f->loop) {
		errmsg("epoll: %s", strerror(errno));
		return 2;
	}
	if (crew_init(&f->crew, cfg, &why) < 0)
		return setup_failed(why);
	if ((rc = open_source(f)))
		return rc;
	crew_tree_source(&f->crew, &f->pump.src);
	if (f->pump.src.plan && relay_open(&f->crew, &f->pump.src, &f->plan_hosts, &why) < 0) {
		errmsg("%s: the plan: %s", f->pump.src.desc, why);
		return 1;
	}
	size_t unfitted = fit_ring(f, cfg);
	frame_header_for(f);
	if (pump_open_ring(&f->pump, cfg->ring_size, cfg->mlock, cfg->chunk, unfitted, &why) < 0 ||
	    crew_open(&f->crew, f->loop, &f->pump.ring, &why) < 0)
		return setup_failed(why);
	if (f->pump.ring.file) {
		f->file_check.cb = file_tick;
		loop_timer_arm(f->loop, &f->file_check, FILE_CHECK_MS);
	}
	if ((rc = signals_open(&f->sig, f->loop, cfg->grace_ms, &signals_ops, f)) < 0) {
		errmsg("signalfd: %s", strerror(-rc));
		return 2;
	}
	struct listen_opts lo = { .at = &cfg->listen,
				  .family = cfg->family,
				  .what = " for subscribers",
				  .allow = cfg->allow,
				  .nallow = cfg->nallow,
				  .resume_ms = RELISTEN_MS };
	if (cfg->have_listen && listen_open(&f->lis, f->loop, &lo, &listen_ops, f, &why) < 0) {
		errmsg("-l %s: %s", cfg->listen.text, why);
		return 2;
	}
	return 0;
}

static void teardown(struct fanout *f)
{
	crew_close(&f->crew);
	listen_close(&f->lis);
	signals_close(&f->sig);
	pump_free(&f->pump);
	loop_free(f->loop);
	free(f->plan_hosts);
}

int fanout_run(struct config *cfg)
{
	struct fanout f = { .cfg = cfg,
			    .crew = { .wake = { .fd = -1 } },
			    .pump = { .io = { .fd = -1 }, .ring = { .fd = -1 } } };
	const char *why;

	clock_gettime(CLOCK_REALTIME, &f.wall_start);
	f.t_run = now_ms();
	int rc = setup(&f, cfg);

	if (rc == 0 && crew_start(&f.crew, &why) < 0)
		rc = setup_failed(why);
	if (rc) {
		/* Silently: the message above says why nothing was sent (a
		 * sending thread may have connected some DESTs: they are reset). */
		crew_fail_all(&f.crew, NULL);
		teardown(&f);
		return rc;
	}
	loop_set_hook(f.loop, before_sleep, &f);
	f.pump.held = cfg->have_listen && cfg->min_subscribers > 0;
	if (!f.pump.held) {
		start_stream(&f);
	} else if (cfg->wait_timeout_ms) {
		f.wait.cb = on_wait_timeout;
		loop_timer_arm(f.loop, &f.wait, cfg->wait_timeout_ms);
	}
	if (cfg->progress) {
		f.prog.in_place = isatty(STDERR_FILENO);
		f.prog_timer.cb = fanout_progress;
		loop_timer_arm(f.loop, &f.prog_timer, progress_interval_ms(&f.prog));
	}
	if ((rc = loop_run(f.loop)) < 0) {
		errmsg("epoll_wait: %s", strerror(-rc));
		crew_fail_all(&f.crew, "stopped");
	}
	crew_join(&f.crew);
	int status = fanout_report(&f, rc < 0);
	teardown(&f);
	return status;
}
