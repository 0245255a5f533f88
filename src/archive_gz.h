/*
 * The gzip layer of src_archive.c: gzip decoded with zlib, member after
 * member, every member's CRC-32 and ISIZE checked, because libarchive's gzip
 * reader checks neither.  It pulls its input through a callback and knows
 * nothing of sources, pipes or libarchive.
 */
#ifndef RINGCAST_ARCHIVE_GZ_H
#define RINGCAST_ARCHIVE_GZ_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <zlib.h>

/* Where the gzip layer stands in the input. */
enum gz_state {
	GZ_PROBE,   /* nothing read yet */
	GZ_PLAIN,   /* not gzip: the bytes go to libarchive as they are */
	GZ_MEMBER,  /* inside a member, zlib decoding */
	GZ_BETWEEN, /* a member ended, its trailer checked: another, or the end */
	GZ_END,     /* the last member ended, and only zeros after it */
};

struct gz {
	enum gz_state state;
	z_stream z;
	int z_ready;     /* inflateInit2 done: inflateEnd owed */
	int in_eof;      /* the input has ended */
	int zeros;       /* zeros followed a member: only more may */
	unsigned member; /* 1 for the first, for messages */
	size_t have;     /* GZ_PROBE: bytes of the input already read (the caller's) */
	uint8_t *in;     /* the input block (the caller's) */
	size_t in_size;
	uint8_t *out;  /* decoded bytes (owned) */
	char why[128]; /* why it failed, when it says so */
};

/* The input: up to len bytes into buf.  Their count, 0 at its end, or -1
 * when it failed (it keeps its own reason). */
typedef ssize_t (*gz_pull_fn)(void *arg, uint8_t *buf, size_t len);

/* The input starts with gzip's magic (1f 8b); its first g->have bytes are
 * in g->in (in_size bytes), and eof says it has ended.  0, or -1 with *why
 * (g's own). */
int gz_start(struct gz *g, int eof, const char **why);

/* The next decoded bytes into *block (g's, valid until the next call):
 * their count, 0 after the last member (every trailer checked, only zeros
 * after it), or -1: a member that fails its checks or ends early, bytes
 * after a member that start no other (*why, g's own), or pull failing
 * (*why NULL: pull keeps the reason). */
ssize_t gz_read(struct gz *g, gz_pull_fn pull, void *arg, const void **block, const char **why);

/* Whether the input is gzip, being decoded here. */
int gz_active(const struct gz *g);

/* Free what gz_start made; g can start again after it. */
void gz_end(struct gz *g);

#endif
