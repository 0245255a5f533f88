/* --stats FILE: one JSON document at exit saying what the run did, for
 * scripts.  The man page documents every field. */
#ifndef RINGCAST_STATS_H
#define RINGCAST_STATS_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct dest;
struct tx_counters;

struct stats_run {
	const char *mode;      /* "push", "subscribe" or "push+subscribe" */
	const char *transport;
	const struct tx_counters *tx;
	size_t ring_size;
	int ring_locked;
	const char *source;    /* as the messages name it */
	uint64_t source_bytes;
	int64_t source_size;   /* -1: not known */
	const char *source_error; /* NULL: none */
	struct timespec start, end; /* CLOCK_REALTIME */
	int interrupted;
	int exit_status;
	size_t done, failed;
	struct dest *const *dests;
	size_t ndests;
};

/* Write r to path ("-": standard error).  0, or -1 after a message. */
int stats_write(const char *path, const struct stats_run *r);

#endif
