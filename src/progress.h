/* The progress line (-P): what has come in, how fast, how long is left,
 * and how the destinations are doing, like pv's.  Only formatting and
 * pacing live here; the fan-out says what to show. */
#ifndef RINGCAST_PROGRESS_H
#define RINGCAST_PROGRESS_H

#include <stddef.h>
#include <stdint.h>

struct progress_view {
	uint64_t in;       /* bytes read from the source */
	int64_t total;     /* the source's size, or -1 */
	uint64_t ms;       /* since the stream started */
	size_t active, done, failed;
	uint64_t lag;      /* the slowest live destination's, in bytes */
};

struct progress {
	int in_place;      /* on a terminal: redraw one line */
	uint64_t last_ms, last_in;
	double rate;       /* bytes/s, smoothed */
};

/* How often to call progress_show: a few times a second on a terminal,
 * once a second in a log. */
static inline uint64_t progress_interval_ms(const struct progress *p)
{
	return p->in_place ? 250 : 1000;
}

void progress_show(struct progress *p, const struct progress_view *v);
/* The last line, left on the terminal. */
void progress_end(struct progress *p, const struct progress_view *v);

#endif
