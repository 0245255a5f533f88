/*
 * The signal contract of both run modes, over the loop's signalfd: SIGUSR1
 * asks for the status; a first SIGINT or SIGTERM drains (no new work, the
 * work in hand may finish for up to --grace); a second one, or the end of
 * the grace period, stops.  What each means is the caller's, through
 * struct signals_ops; this module prints only "SIGNAL again: stopping now".
 */
#ifndef RINGCAST_SIGNALS_H
#define RINGCAST_SIGNALS_H

#include "loop.h"

#include <stdint.h>

/* Why ops->stop is called. */
enum signals_stop {
	SIGNALS_DRAINED, /* drain() found nothing left to wait for */
	SIGNALS_GRACE,   /* the grace period ended with work still in hand */
	SIGNALS_AGAIN,   /* a second SIGINT or SIGTERM (after its message) */
};

/* Each is called with the arg given to signals_open, on the loop's thread. */
struct signals_ops {
	/* SIGUSR1: say how the run goes.  NULL: ignored. */
	void (*status)(void *arg);
	/* The first SIGINT or SIGTERM (signo): stop taking new work and say
	 * so.  Return 1 to wait for the work in hand, up to the grace period,
	 * or 0 to stop at once (stop(arg, SIGNALS_DRAINED) follows). */
	int (*drain)(void *arg, int signo);
	/* End what is left: why says what ended the wait.  Stopping the loop
	 * is the caller's. */
	void (*stop)(void *arg, enum signals_stop why);
};

/* Embedded in its owner; zeroed, signals_close may be given it.  Read
 * draining; the rest is the module's own. */
struct signals {
	struct loop_io io; /* the signalfd */
	struct loop_timer grace;
	struct loop *loop;
	uint64_t grace_ms;
	const struct signals_ops *ops;
	void *arg;
	int draining; /* a first SIGINT or SIGTERM came */
};

/* Block SIGINT, SIGTERM and SIGUSR1 and take them through a signalfd in
 * loop (loop_add_signals), with a grace period of grace_ms (ms; 0: stop as
 * soon as the loop runs its timers).  0, or -errno from signalfd. */
int signals_open(struct signals *s, struct loop *loop, uint64_t grace_ms,
		 const struct signals_ops *ops, void *arg);

/* Close the signalfd and cancel the grace timer; safe on a zeroed struct
 * and after a failed signals_open. */
void signals_close(struct signals *s);

#endif
