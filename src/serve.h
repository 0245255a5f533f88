/* Serve mode (--serve): static blobs from sealed shared memory, by sendfile,
 * over raw TCP or HTTP/1.1. */
#ifndef RINGCAST_SERVE_H
#define RINGCAST_SERVE_H

struct config;

/* Load the blobs, listen and serve until SIGINT/SIGTERM.  Returns the exit
 * status: 0, or 2 when something could not be set up (nothing served). */
int serve_run(const struct config *cfg);

#endif
