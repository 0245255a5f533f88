/* The progress line (-P): what has come in, how fast, how long is left,
 * and how the destinations are doing, like pv's.  Only formatting and
 * pacing live here; the fan-out says what to show. */
#ifndef RINGCAST_PROGRESS_H
#define RINGCAST_PROGRESS_H

#include <stddef.h>
#include <stdint.h>

struct progress_view {
	uint64_t in;   /* bytes read from the source */
	int64_t total; /* the stream's expected size (the source's, or -s), or -1 */
	uint64_t ms;   /* since the stream started */
	size_t active, done, failed;
	uint64_t lag; /* the slowest live destination's, in bytes */
	int ended;    /* the source has ended (or was cut): nothing is left to wait for */
};

struct progress {
	int in_place; /* on a terminal: redraw one line, fitted to its width */
	uint64_t last_ms, last_in;
	double rate; /* bytes/s, smoothed */
};

/* How often to call progress_show: a few times a second on a terminal,
 * once a second in a log. */
static inline uint64_t progress_interval_ms(const struct progress *p)
{
	return p->in_place ? 250 : 1000;
}

/* Draw the line (on a terminal, in place and fitted to the terminal's
 * width as it is now: it is asked at every redraw, so a resized window is
 * followed within one). */
void progress_show(struct progress *p, const struct progress_view *v);
/* The last line, left on the terminal. */
void progress_end(struct progress *p, const struct progress_view *v);

/* The line for v at p's rate into buf (len bytes), MSG_PREFIX included,
 * in at most cols columns (SIZE_MAX: no limit), the least needed parts
 * left out first: the slowest lag, the destination counts, the elapsed
 * time, the prefix, the total, the percentage, the ETA, the rate; the
 * bytes read stay, and when even they do not fit the line is empty: never
 * part of a number.  A total the stream has gone past was a wrong guess
 * (-s, a file that grew): the line then shows no total, percentage or ETA
 * rather than more than 100%.  Once the source has ended there is no ETA,
 * whatever the total said.
 * Pure, for the unit tests; returns buf. */
const char *progress_line(const struct progress *p, const struct progress_view *v, size_t cols,
			  char *buf, size_t len);

#endif
