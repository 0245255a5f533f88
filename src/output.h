/*
 * Local outputs: a DEST that is file:PATH or - (standard output).  An
 * output is a destination like a socket (the same ring reader, pacing and
 * policies) that is written with write(), which copies: its bytes are done
 * as soon as they are sent.  Nothing an output writes to ever blocks the
 * event loop: a FIFO, a terminal or a pipe gets a descriptor of its own
 * that does not block and is watched for room, a socket is sent to without
 * waiting; only regular files and block devices are written as they are.
 *
 * A regular file is written under PATH.part in the same directory (created
 * afresh, never through a link), and only a whole stream is synced and
 * renamed to PATH (rename(2) is atomic within a file system), so PATH
 * never holds a partial copy; a failed one stays PATH.part.  A PATH that
 * is a symbolic link is followed: its target is what is written.  A file
 * that is replaced keeps its permissions.  A device is written in place
 * from its start and synced.
 */
#ifndef RINGCAST_OUTPUT_H
#define RINGCAST_OUTPUT_H

#include <stddef.h>
#include <sys/types.h>

struct dest;
struct ring;

/* What an output is, to tell two spellings of one apart. */
struct output_id {
	int exists; /* dev and ino are the file's */
	dev_t dev;
	ino_t ino;
	char *canon; /* the directory's real path and the name, malloc'd; NULL for - */
};

/* Before anything is sent: whether the output (kind DEST_FILE or
 * DEST_STDOUT, path for a file) can be written, so that a mistyped path
 * fails the run at once; nothing is created.  *real gets the path to write
 * (malloc'd: a symbolic link's target, or path itself), *id what it is.
 * 0, or -errno with why[len] saying what ("/srv/x: no such directory"). */
int output_check(int kind, const char *path, char **real, struct output_id *id, char *why,
		 size_t len);
/* Whether a and b are one output. */
int output_same(const struct output_id *a, const struct output_id *b);

/* Open d's output: its descriptor (>= 0; *polled set when it is to be
 * watched for EPOLLOUT), or -errno with *op the step that failed (static). */
int output_open(struct dest *d, int *polled, const char **op);

/* Write d's unsent bytes from ring r, up to at most max bytes at a time,
 * until head or the output is full (then d->px.writable is cleared).  0,
 * or -errno (the write failed: ENOSPC, EIO, EPIPE). */
int output_write(struct dest *d, struct ring *r, size_t max);

/* The stream ended whole and d has all of it: sync it and give a file its
 * name.  0, or -errno with *op the step that failed (static). */
int output_finish(struct dest *d, const char **op);

/* Free what output_open allocated (the descriptor is the caller's). */
void output_free(struct dest *d);

/* main(): standard output was closed when ringcast started (it now holds
 * /dev/null, so that no other descriptor takes its number): - refuses. */
extern int output_stdout_closed;

#endif
