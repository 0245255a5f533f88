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
	const char *name;  /* what a URL path names it by: the source's file name (owned) */
	int fd;            /* the sealed memfd */
	const uint8_t *map; /* a read-only mapping of it (NULL when empty) */
	uint64_t size;
	int64_t mtime;     /* the file's, or the time it was loaded */
	char etag[40];     /* quoted */
	const char *type;  /* Content-Type, by the name's extension */
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

/* The Content-Type for a file name, by its extension. */
const char *blob_type(const char *name);

#endif
