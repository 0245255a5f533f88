#include "progress.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* "1:02:03", or "2:03" under an hour. */
static const char *fmt_clock(uint64_t secs, char *buf, size_t len)
{
	if (secs >= 3600)
		snprintf(buf, len, "%llu:%02llu:%02llu", (unsigned long long)(secs / 3600),
			 (unsigned long long)(secs / 60 % 60), (unsigned long long)(secs % 60));
	else
		snprintf(buf, len, "%llu:%02llu", (unsigned long long)(secs / 60),
			 (unsigned long long)(secs % 60));
	return buf;
}

/* The parts of the line, in the order they are shown. */
enum part {
	PREFIX,
	IN,
	TOTAL,
	PERCENT,
	ELAPSED,
	RATE,
	ETA,
	COUNTS,
	LAG,
	NPARTS
};

/* Which go first when the line does not fit: what a glance at a narrow
 * terminal needs least (pv likewise keeps the bytes, the rate and the
 * ETA).  IN is never left out. */
static const enum part drop_order[] = { LAG, COUNTS, ELAPSED, PREFIX, TOTAL, PERCENT, ETA, RATE };

const char *progress_line(const struct progress *p, const struct progress_view *v, size_t cols,
			  char *buf, size_t len)
{
	char part[NPARTS][96] = { { 0 } }, b[32], c[24];
	int known = v->total >= 0 && v->in <= (uint64_t)v->total;

	snprintf(part[PREFIX], sizeof(part[PREFIX]), "%s", MSG_PREFIX);
	snprintf(part[IN], sizeof(part[IN]), "%s", fmt_bytes(v->in, b, sizeof(b)));
	if (known) {
		snprintf(part[TOTAL], sizeof(part[TOTAL]), " of %s",
			 fmt_bytes((uint64_t)v->total, b, sizeof(b)));
		/* Rounded down: 100% only when it is all there. */
		snprintf(part[PERCENT], sizeof(part[PERCENT]), " (%u%%)",
			 v->total ? (unsigned)((double)v->in * 100 / (double)v->total) : 100);
		if (p->rate >= 1 && (uint64_t)v->total > v->in && !v->ended)
			snprintf(part[ETA], sizeof(part[ETA]), ", ETA %s",
				 fmt_clock(
					 (uint64_t)((double)((uint64_t)v->total - v->in) / p->rate),
					 c, sizeof(c)));
	}
	snprintf(part[ELAPSED], sizeof(part[ELAPSED]), " in %s",
		 fmt_clock(v->ms / 1000, c, sizeof(c)));
	snprintf(part[RATE], sizeof(part[RATE]), ", %s/s",
		 fmt_bytes((uint64_t)p->rate, b, sizeof(b)));
	snprintf(part[COUNTS], sizeof(part[COUNTS]), "; %zu active, %zu done, %zu failed",
		 v->active, v->done, v->failed);
	snprintf(part[LAG], sizeof(part[LAG]), "; slowest lag %s", fmt_bytes(v->lag, b, sizeof(b)));

	size_t width = 0;
	for (int i = 0; i < NPARTS; i++)
		width += strlen(part[i]); /* all ASCII: a byte is a column */
	for (size_t i = 0; width > cols && i < sizeof(drop_order) / sizeof(drop_order[0]); i++) {
		width -= strlen(part[drop_order[i]]);
		part[drop_order[i]][0] = '\0';
	}
	buf[0] = '\0';
	if (width > cols)
		return buf; /* not even the bytes: nothing rather than part of a number */
	for (int i = 0; i < NPARTS; i++)
		strncat(buf, part[i], len - strlen(buf) - 1);
	return buf;
}

/* Columns the line may take on the terminal on stderr: one less than its
 * width, so that the cursor never waits in the last column (where some
 * terminals wrap at the next character).  A terminal that does not know
 * its width (a pseudo-terminal nobody sized, some serial consoles: ioctl
 * fails or says 0) is taken to be $COLUMNS wide when that is a width
 * (1 to 9999), else DEFAULT_COLS (pv's default too). */
#define DEFAULT_COLS 80
static size_t line_cols(void)
{
	struct winsize ws;

	if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return (size_t)ws.ws_col - 1;
	const char *env = getenv("COLUMNS");
	char *end = NULL;
	long cols = 0;
	if (env && *env >= '1' && *env <= '9')
		cols = strtol(env, &end, 10);
	if (cols < 1 || cols > 9999 || (end && *end))
		cols = DEFAULT_COLS;
	return (size_t)cols - 1;
}

void progress_show(struct progress *p, const struct progress_view *v)
{
	char line[512];

	/* The rate over the last interval, smoothed so the ETA does not jump. */
	if (v->ms > p->last_ms) {
		double now = (double)(v->in - p->last_in) * 1000 / (double)(v->ms - p->last_ms);
		p->rate = p->last_ms ? 0.7 * p->rate + 0.3 * now : now;
	}
	p->last_ms = v->ms;
	p->last_in = v->in;
	/* In a log every line is whole: nothing wraps there. */
	progress_line(p, v, p->in_place ? line_cols() : SIZE_MAX, line, sizeof(line));
	status_draw(line, p->in_place);
}

void progress_end(struct progress *p, const struct progress_view *v)
{
	p->last_ms = p->last_in = 0; /* the whole run's rate */
	progress_show(p, v);
	status_done();
}
