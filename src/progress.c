#include "progress.h"
#include "util.h"

#include <stdio.h>

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

void progress_show(struct progress *p, const struct progress_view *v)
{
	char in[32], total[48] = "", rate[32], clock[24], eta[40] = "", lag[32], line[256];

	/* The rate over the last interval, smoothed so the ETA does not jump. */
	if (v->ms > p->last_ms) {
		double now = (double)(v->in - p->last_in) * 1000 / (double)(v->ms - p->last_ms);
		p->rate = p->last_ms ? 0.7 * p->rate + 0.3 * now : now;
	}
	p->last_ms = v->ms;
	p->last_in = v->in;
	if (v->total >= 0) {
		char t[32];
		snprintf(total, sizeof(total), " of %s (%.0f%%)", fmt_bytes((uint64_t)v->total, t, sizeof(t)),
			 v->total ? 100.0 * (double)v->in / (double)v->total : 100.0);
		if (p->rate >= 1 && (uint64_t)v->total > v->in) {
			char c[24];
			snprintf(eta, sizeof(eta), ", ETA %s",
				 fmt_clock((uint64_t)((double)((uint64_t)v->total - v->in) / p->rate), c, sizeof(c)));
		}
	}
	snprintf(line, sizeof(line), "%s%s in %s, %s/s%s; %zu active, %zu done, %zu failed; slowest lag %s",
		 fmt_bytes(v->in, in, sizeof(in)), total, fmt_clock(v->ms / 1000, clock, sizeof(clock)),
		 fmt_bytes((uint64_t)p->rate, rate, sizeof(rate)), eta, v->active, v->done, v->failed,
		 fmt_bytes(v->lag, lag, sizeof(lag)));
	status_draw(line, p->in_place);
}

void progress_end(struct progress *p, const struct progress_view *v)
{
	p->last_ms = p->last_in = 0; /* the whole run's rate */
	progress_show(p, v);
	status_done();
}
