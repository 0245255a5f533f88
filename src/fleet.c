/* The hosts of a tree, as one node knows them (fleet.h). */
#include "fleet.h"
#include "crew.h"
#include "dest.h"
#include "framed.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct frame_host *more(struct fleet *fl)
{
	if (fl->n == fl->cap) {
		size_t cap = fl->cap ? 2 * fl->cap : 16;
		struct frame_host *h = realloc(fl->h, cap * sizeof(*h));
		if (!h)
			return NULL;
		fl->h = h;
		fl->cap = cap;
	}
	memset(&fl->h[fl->n], 0, sizeof(fl->h[0]));
	return &fl->h[fl->n++];
}

/* Child d's own record: verified only when it is done (its verdict said
 * so, for the bytes and digest sent). */
static void own(struct frame_host *h, const struct dest *d)
{
	const struct framed *f = d->fr;
	char why[FRAME_REASON_MAX + 160];

	snprintf(h->address, sizeof(h->address), "%s", d->name + strlen("ringcast://"));
	/* One adopted that never said where it was took nothing from us; one
	 * that could not be resumed has what it had. */
	h->bytes = f && f->answered                   ? f->v.bytes
		: d->behind                           ? d->joined
		: d->resume && (!f || f->resume_wait) ? 0
						      : d->rd.sent;
	h->resumed_from = d->resume && !d->behind ? d->joined : 0;
	if (d->state == DEST_DONE)
		h->code = FRAME_VERIFIED;
	else if (f && f->answered)
		h->code = f->v.code == FRAME_VERIFIED ? FRAME_MISMATCH : f->v.code;
	else
		h->code = FRAME_UNANSWERED;
	if (f && f->answered && f->v.code != FRAME_VERIFIED)
		snprintf(h->reason, sizeof(h->reason), "%s", f->v.reason);
	else
		snprintf(h->reason, sizeof(h->reason), "%s", dest_error(d, why, sizeof(why)));
}

/* The hosts of d's subtree: as its verdict reports them, or, with none,
 * every host of its plan, unanswered because d failed. */
static int subtree(struct fleet *fl, const struct dest *d, const char *why)
{
	const struct framed *f = d->fr;
	struct frame_host *h;

	if (framed_relayed(d)) {
		size_t off = f->v.hosts_off;
		for (size_t i = 0; i < f->v.nhosts; i++) {
			if (!(h = more(fl)))
				return -ENOMEM;
			frame_host_parse(f->in, &off, h);
		}
		return 0;
	}
	size_t off = 0, n = 0;
	unsigned k;
	const char *w;
	/* Adopted: its children answer to this host for themselves. */
	if (!d->plan || d->adopted_out || frame_plan_parse(d->plan, d->plan_len, &k, &n, &w) < 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (!(h = more(fl)))
			return -ENOMEM;
		frame_plan_host(d->plan, &off, h->address);
		h->code = FRAME_UNANSWERED;
		snprintf(h->reason, sizeof(h->reason), "its relay %.*s %s: %.*s", FRAME_HOST_MAX,
			 d->name + strlen("ringcast://"),
			 f && f->answered ? "did not take the stream" : "gave no verdict", 200,
			 why);
	}
	return 0;
}

struct gather {
	struct fleet *fl;
	int err;
};

static void each(const struct dest *d, void *arg)
{
	struct gather *g = arg;
	struct frame_host *h;

	if (d->kind != DEST_FRAMED || d->handed_up || g->err)
		return; /* one handed up is reported by the host that resumed it */
	if (!(h = more(g->fl))) {
		g->err = -ENOMEM;
		return;
	}
	own(h, d);
	char why[FRAME_REASON_MAX + 1]; /* h moves when the list grows */
	snprintf(why, sizeof(why), "%s", h->reason);
	g->err = subtree(g->fl, d, why);
}

int fleet_gather(struct fleet *fl, struct crew *c)
{
	struct gather g = { .fl = fl };

	crew_walk(c, each, &g);
	return g.err;
}

size_t fleet_unverified(const struct fleet *fl)
{
	size_t n = 0;

	for (size_t i = 0; i < fl->n; i++)
		n += fl->h[i].code != FRAME_VERIFIED;
	return n;
}

void fleet_report(const struct fleet *fl)
{
	char b[32];

	for (size_t i = 0; i < fl->n; i++) {
		const struct frame_host *h = &fl->h[i];
		if (h->code == FRAME_VERIFIED)
			info("ringcast://%s: verified: %s", h->address,
			     fmt_bytes(h->bytes, b, sizeof(b)));
		else
			info("ringcast://%s: %s%s%s", h->address, frame_code_name(h->code),
			     *h->reason ? ": " : "", h->reason);
	}
}

void fleet_free(struct fleet *fl)
{
	free(fl->h);
	*fl = (struct fleet){ 0 };
}
