/* Push mode: read the source once into the ring and deliver it to every
 * destination; the run from start-up checks to the exit status. */
#ifndef RINGCAST_FANOUT_H
#define RINGCAST_FANOUT_H

struct config;

/* Returns the process exit status: 0 all delivered, 1 some not, 2 nothing
 * sent because of a configuration error (already reported).  cfg's ring
 * and chunk sizes may be fitted to the source (cli_fit_ring). */
int fanout_run(struct config *cfg);

#endif
