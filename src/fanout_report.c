/* What the reports see of a push run (stats.c), and its exit status. */
#include "fanout_run.h"
#include "cli.h"
#include "fleet.h"
#include "relay.h"
#include "util.h"

#include <errno.h>
#include <string.h>

static void each_dest(void *arg, void (*each)(const struct dest *d, void *ctx), void *ctx)
{
	crew_walk(arg, each, ctx);
}

void fanout_view(struct fanout *f, struct run_view *v)
{
	const struct config *cfg = f->cfg;
	const struct source *src = &f->pump.src;

	*v = (struct run_view){
		.mode = !cfg->have_listen ? "push"
			: f->crew.npush   ? "push+subscribe"
					  : "subscribe",
		.source = src->desc ? src->desc : cfg->input,
		.source_size = src->size,
		.source_error = f->src_failed ? f->pump.why : NULL,
		.input = cfg->input,
		.sha256 = f->end != STREAM_WHOLE ? NULL
			: f->pump.hashing        ? f->pump.digest.hex
			: f->pump.src.sha256     ? digest_to_hex(f->pump.src.sha256, f->src_hex)
						 : NULL,
		.ring_size = f->pump.ring.size_max,
		.ring_in_use = f->pump.ring.size,
		.ring_locked = f->pump.ring.locked,
		.file_pages = f->pump.ring.file,
		/* A size of 0 is no guide (a file in /proc): -s, if given, wins. */
		.prog = { .in = f->pump.ring.head,
			  .total = src->size > 0 || cfg->size < 0 ? src->size : cfg->size,
			  .ms = f->pump.held ? 0 : now_ms() - f->t_start,
			  .lag = crew_lag(&f->crew),
			  .ended = !f->pump.open },
		/* For a stream that never started (held for subscribers until a
		 * signal or --wait-timeout) from the run's start, as --stats. */
		.secs = (double)(now_ms() - (f->pump.held ? f->t_run : f->t_start)) / 1000,
		.subs = f->crew.nsubs,
		.show_subs = f->lis.n || f->crew.nsubs,
		.turned = f->crew.nturned,
		.refused = f->nrefused,
		.interrupted = f->sig.draining,
		.cut = f->end == STREAM_CUT,
		.few_subs = f->few_subs ? cfg->min_subscribers : 0,
		.tx_ops = crew_transport(&f->crew),
		.start = f->wall_start,
		.walk = each_dest,
		.walk_arg = &f->crew,
	};
	crew_counts(&f->crew, &v->prog.active, &v->prog.done, &v->prog.failed, v->state);
}

void fanout_progress(struct loop_timer *t)
{
	struct fanout *f = container_of(t, struct fanout, prog_timer);
	struct run_view v;

	fanout_view(f, &v);
	progress_show(&f->prog, &v.prog);
	loop_timer_arm(f->loop, t, progress_interval_ms(&f->prog));
}

int fanout_report(struct fanout *f, int loop_failed)
{
	struct crew_totals t;
	struct run_view v;

	crew_totals(&f->crew, &t);
	fanout_view(f, &v);
	v.tx = t.tx;
	v.dests = t.dests;
	if (f->cfg->progress)
		progress_end(&f->prog, &v.prog);
	stats_summary(&v);
	if (f->cfg->digest)
		stats_digest(&v);
	int status = t.failed || f->end == STREAM_CUT || f->src_failed || f->few_subs ||
		t.tx.unaccounted || t.dests == 0 || loop_failed;
	/* A framed sender's stream that fails is a failed stream (1), however
	 * little of it came. */
	int answers = f->pump.src.ops && f->pump.src.ops->answer;
	struct fleet fl = { 0 };
	if (f->crew.opts.tree && fleet_gather(&fl, &f->crew) < 0)
		errmsg("the hosts of the tree: %s", strerror(ENOMEM));
	if (f->crew.opts.tree && !answers) /* the root: a line per host */
		fleet_report(&fl);
	status |= fleet_unverified(&fl) > 0;
	v.fleet = &fl;
	if ((f->src_failed && !f->digest_bad && !f->file_changed && !answers &&
	     f->pump.ring.head == 0) ||
	    f->gave_up)
		status = 2; /* nothing was sent */
	relay_answer(&f->crew, &f->pump.src, status, &fl);
	if (f->cfg->stats_path) {
		v.exit_status = status;
		clock_gettime(CLOCK_REALTIME, &v.end);
		if (stats_write(f->cfg->stats_path, &v) < 0)
			status = MAX(status, 1);
	}
	fleet_free(&fl);
	return status;
}
