/*
 * The hosts of a tree, as one node of it knows them at the end of its run:
 * each of its framed destinations (a child), then the hosts that child's
 * verdict reports on (its subtree), or, when it gave no verdict, every host
 * of its plan as unanswered.  The root reports them (-v, --stats, its exit
 * status); a relay sends them up in its own verdict.
 */
#ifndef RINGCAST_FLEET_H
#define RINGCAST_FLEET_H

#include <stddef.h>

#include "frame.h"

struct crew;

struct fleet {
	struct frame_host *h;
	size_t n, cap;
};

/* Every host below this node, from c's framed destinations (the run over,
 * its threads joined).  0, or -ENOMEM (what was gathered stays). */
int fleet_gather(struct fleet *fl, struct crew *c);
/* How many of them did not verify. */
size_t fleet_unverified(const struct fleet *fl);
/* One line per host on stderr (-v): "HOST: verified: 64.0 MiB", or why not. */
void fleet_report(const struct fleet *fl);
void fleet_free(struct fleet *fl);

#endif
