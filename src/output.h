/*
 * Local outputs: a DEST that is file:PATH or - (standard output).  An
 * output is a destination like a socket (the same ring reader, pacing and
 * policies) that is written with write(), which copies: its bytes are done
 * as soon as they are sent.
 *
 * A regular file is written under PATH.part in the same directory, and only
 * a whole stream is synced and renamed to PATH (rename(2) is atomic within
 * a file system), so PATH never holds a partial copy; a failed one stays
 * PATH.part.  A device is written in place from its start and synced.
 * Standard output is written as it is; a pipe through a descriptor of its
 * own that does not block, so that a slow reader is paced like a slow peer.
 */
#ifndef RINGCAST_OUTPUT_H
#define RINGCAST_OUTPUT_H

#include <stddef.h>
#include <sys/types.h>

struct dest;
struct ring;

/* Before anything is sent: whether the output dest_spec text names (kind
 * DEST_FILE or DEST_STDOUT, path for a file) can be opened for writing, so
 * that a mistyped path fails the run at once; nothing is created.  0, or
 * -errno with why[len] saying what ("/srv/x: no such directory"). */
int output_check(int kind, const char *path, char *why, size_t len);

/* Open d's output: its descriptor (>= 0; *polled set when it is a pipe
 * that does not block, to be watched for EPOLLOUT), or -errno with *op the
 * step that failed ("open"; static). */
int output_open(struct dest *d, int *polled, const char **op);

/* Write d's unsent bytes from ring r, up to at most max bytes at a time,
 * until head or the pipe is full (then d->px.writable is cleared).  0, or
 * -errno (the write failed: ENOSPC, EIO, EPIPE). */
int output_write(struct dest *d, struct ring *r, size_t max);

/* The stream ended whole and d has all of it: sync it and give a file its
 * name.  0, or -errno with *op the step that failed (static). */
int output_finish(struct dest *d, const char **op);

/* Free what output_open allocated (the descriptor is the caller's). */
void output_free(struct dest *d);

#endif
