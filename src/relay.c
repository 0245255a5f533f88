/* A relay's part of a run (relay.h). */
#include "relay.h"
#include "crew.h"
#include "fleet.h"
#include "frame.h"
#include "src.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int relay_open(struct crew *c, const struct source *s, char ***hosts, const char **why)
{
	unsigned k;
	size_t n, off = 0;

	frame_plan_parse(s->plan, s->plan_len, &k, &n, why); /* the source checked it */
	*hosts = calloc(n ? n : 1, sizeof(**hosts) + FRAME_HOST_MAX + 1);
	if (!*hosts) {
		*why = strerror(ENOMEM);
		return -1;
	}
	char *text = (char *)(*hosts + n);
	for (size_t i = 0; i < n; i++) {
		(*hosts)[i] = text + i * (FRAME_HOST_MAX + 1);
		frame_plan_host(s->plan, &off, (*hosts)[i]);
	}
	c->opts.tree = 1; /* even a leaf: its sender gets its (empty) subtree */
	if (n && crew_add_tree(c, k, (const char *const *)*hosts, n, why) < 0)
		return -1;
	if (n)
		info("%s: relaying to %zu host%s, %u at a time", s->desc, n, plural(n), k);
	return 0;
}

struct first_failure {
	int tree; /* a relay's children answer for themselves */
	char why[FRAME_REASON_MAX];
};

static void first_failure(const struct dest *d, void *arg)
{
	struct first_failure *ff = arg;
	char b[FRAME_REASON_MAX];

	if (d->state == DEST_FAILED && !*ff->why && !(ff->tree && d->kind == DEST_FRAMED))
		snprintf(ff->why, sizeof(ff->why), "%s: %s", d->name, dest_error(d, b, sizeof(b)));
}

void relay_answer(struct crew *c, struct source *s, int status, const struct fleet *fl)
{
	struct first_failure ff = { .tree = c->opts.tree };

	if (!s->ops || !s->ops->answer)
		return;
	if (status)
		crew_walk(c, first_failure, &ff);
	if (status && !*ff.why && !ff.tree)
		snprintf(ff.why, sizeof(ff.why), "the receiver's run failed");
	s->ops->answer(s, *ff.why ? ff.why : NULL, fl->h, fl->n);
}
