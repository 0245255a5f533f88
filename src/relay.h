/*
 * A relay's part of a run (a ringcast-listen:// receiver in a tree): the
 * children the plan its sender signed gives it, and the verdict it sends
 * back up with its subtree's.
 */
#ifndef RINGCAST_RELAY_H
#define RINGCAST_RELAY_H

struct crew;
struct fleet;
struct source;

/* Add to c, before crew_open, the heads of the subtrees s's plan names,
 * each with its share; *hosts gets the plan's hosts (the caller frees it
 * after crew_close).  0, or -1 with *why. */
int relay_open(struct crew *c, const struct source *s, char ***hosts, const char **why);

/* A source whose sender waits for a verdict (ringcast-listen) gets it,
 * once the run is over with exit status status: every destination has the
 * whole stream, or the first one that failed says why; in a tree, with
 * the verdicts of the hosts below (fl), whose failures are theirs. */
void relay_answer(struct crew *c, struct source *s, int status, const struct fleet *fl);

#endif
