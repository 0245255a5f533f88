/*
 * Blobs for serve mode: each is loaded once through a source into a memfd,
 * sealed so that nothing can change it again, and then sent by sendfile to
 * any number of clients.  A sealed blob needs no completion tracking: its
 * pages are never rewritten.
 */
#ifndef RINGCAST_BLOB_H
#define RINGCAST_BLOB_H

#include <stddef.h>
#include <stdint.h>

struct blob {
	const char *name;   /* what a URL path names it by: the source's file name (owned) */
	int fd;             /* the sealed memfd */
	const uint8_t *map; /* a read-only mapping of it (NULL when empty) */
	uint64_t size;
	/* Last-Modified: the file's or member's modification time, or the time
	 * it was loaded when that is unknown or in the future (RFC 9110,
	 * 8.8.2.1: never later than the Date of a response). */
	int64_t mtime;
	/* Last-Modified may serve as a strong validator (RFC 9110, 8.8.2.2, for
	 * If-Range): only a file's or archive member's mtime whose second had
	 * passed when the blob was loaded, never a load time. */
	int mtime_strong;
	/* Quoted and strong (RFC 9110, 8.8.3): the size and a 64-bit FNV-1a hash
	 * of every byte, so it changes whenever the content does, across
	 * restarts too (a chance collision aside), and If-Match and If-Range can
	 * compare it strongly. */
	char etag[40];
	const char *type; /* Content-Type, by the name's extension */
};

struct source_opts;

/* Load spec (any SOURCE) into b.  Returns 0, or -errno after a message. */
int blob_load(struct blob *b, const char *spec, const struct source_opts *opts);
void blob_free(struct blob *b);

/* --unpack: every regular member of the archive spec as a blob named by its
 * path; add(arg, b) takes each (it owns *b from then on; -errno stops).
 * Returns 0, or -errno after a message. */
int blob_unpack(const char *spec, const struct source_opts *opts,
		int (*add)(void *arg, struct blob *b), void *arg);

/* A blob of len bytes copied from data, named name (copied; "" is the
 * path '/'), of Content-Type type (not copied: a constant), Last-Modified
 * now, weak.  For serve mode's listing of the blobs.  Returns 0, or -errno
 * after a message. */
int blob_from_mem(struct blob *b, const char *name, const char *type, const void *data, size_t len);

/* The Content-Type for a file name, by its extension. */
const char *blob_type(const char *name);

#endif
