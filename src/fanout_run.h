/*
 * The fan-out's state, private to fanout.c (the run's wiring and decisions)
 * and fanout_report.c (what the reports see of it, and the exit status).
 */
#ifndef RINGCAST_FANOUT_RUN_H
#define RINGCAST_FANOUT_RUN_H

#include "crew.h"
#include "digest.h"
#include "listen.h"
#include "loop.h"
#include "progress.h"
#include "pump.h"
#include "signals.h"
#include "stats.h"

#include <stdint.h>
#include <time.h>

struct fanout {
	const struct config *cfg;
	struct loop *loop;
	struct pump pump;             /* source -> ring */
	struct crew crew;             /* ring -> every destination */
	enum stream_end end;          /* how the stream ended; STREAM_OPEN until it does */
	int src_failed;               /* the source (or the ring) failed: pump.why says how */
	int few_subs;                 /* --wait-timeout started it with fewer subscribers */
	int gave_up;                  /* --wait-timeout passed with no subscriber */
	int digest_bad;               /* the stream's SHA-256 was not --expect-digest's */
	int file_changed;             /* a file sent from its own pages changed (pump.why) */
	struct loop_timer file_check; /* FILE_CHECK_MS */
	uint64_t file_changed_at;     /* now_ms() at the last check that found it unchanged */
	struct loop_timer wait;       /* --wait-timeout */
	uint64_t t_run;               /* now_ms() when the run started */
	uint64_t t_start;             /* now_ms() when the stream started */
	struct timespec wall_start;   /* when the run started, for --stats */
	struct progress prog;
	struct loop_timer prog_timer;
	struct listen_set lis; /* -l: subscribers */
	size_t nrefused;       /* not in --allow */
	struct signals sig;
	char **plan_hosts;                /* a relay: the hosts of its plan (relay_plan) */
	char src_hex[DIGEST_HEX_LEN + 1]; /* a receiver: the SHA-256 its source checked */
};

/* The run as the reports see it (stats.h); the totals only at exit. */
void fanout_view(struct fanout *f, struct run_view *v);
/* -P: the progress line, on its timer (f->prog_timer). */
void fanout_progress(struct loop_timer *t);
/* The -P line's last word, the -v summary and --stats; the exit status. */
int fanout_report(struct fanout *f, int loop_failed);

#endif
