/*
 * The ring: one memfd mapped once (and locked when allowed), written by the
 * source at `head`, read by every destination at its own pace.
 *
 * Positions are stream offsets (bytes since the start of the stream); the
 * byte at offset p lives at base[p % size].  Each reader has two positions:
 *   sent  bytes handed to the kernel,
 *   done  bytes the kernel has told us it no longer references.
 * The reclaim rule: the writer may overwrite offset p only when p < tail + size,
 * where tail is the smallest `done` of all readers (head when there are none).
 * The ring does no I/O on sockets; it only keeps this arithmetic.
 *
 * Retiring (for sendfile, whose sends keep referencing the memfd's pages
 * with no completion to wait for): the ring is cut into blocks, and before
 * the writer enters a block again it punches the block out of the memfd.
 * Sends still in flight keep the old pages; the writer gets fresh ones.
 *
 * Growing: a ring may start smaller than its mapping and grow, a lap at a
 * time, only when it holds a destination back for another: the source
 * waits for room while some destination has sent everything it had (is
 * starved).  A source faster than every destination fills any ring, and a
 * slower one never fills it: either way a larger ring gains nothing, and
 * its pages would only have to be faulted in (about 0.3 ms per MiB here).
 * At the end of a lap (the head at the end of the ring in use) it grows
 * to twice its size, at most the mapping: the new epoch goes on into the
 * fresh pages past the old end and only then wraps, so that between two
 * writes of any byte of the mapping the stream moves on by exactly the
 * size in use at the second: the reclaim rule above holds as it is.  An
 * epoch says where each stream offset lies: from its start on, offset p
 * is at base[(p - start + at) % size].
 *
 * A file ring (ring_file.c) is a regular file's own pages, mapped read-only:
 * as large as the file, never written, so it never laps and every byte stays
 * readable for the whole run; the source only moves head.
 */
#ifndef RINGCAST_RING_H
#define RINGCAST_RING_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

enum mlock_mode {
	MLOCK_AUTO,
	MLOCK_ON,
	MLOCK_OFF
};

struct ring_reader {
	uint64_t sent;
	uint64_t done;
	uint64_t lead; /* a reader that stands for several (a sending thread's,
			  shard.h): the largest done of theirs (atomic) */
	size_t slot;   /* index in ring->readers */
};

/* From start on (to the next epoch's start): offset p lies at
 * base[(p - start + at) % size]. */
struct ring_epoch {
	uint64_t start;
	size_t at, size;
};

/* Doublings from 64 KiB to 1 TiB, and the first. */
#define RING_EPOCHS 25

struct ring {
	int fd;        /* the memfd, or -1 */
	uint8_t *base; /* its mapping, size_max bytes */
	size_t size;   /* in use now: the current epoch's (atomic: it grows) */
	size_t size_max;
	struct ring_epoch epoch[RING_EPOCHS]; /* a view reads its writer's */
	unsigned nepochs;                     /* atomic: the writer appends */
	uint64_t lead;                        /* the largest done, as of the last reclaim */
	int starved;       /* the source waited for room while a reader had sent all: grow */
	uint64_t head;     /* next stream offset the source writes */
	uint64_t tail;     /* cached lower bound of every reader's done */
	size_t block;      /* retiring: block size, 0 when off */
	uint64_t fresh_to; /* retiring: offsets in [head, fresh_to) may be written */
	int retire_errno;  /* retiring failed: the writer can go no further */
	int locked;        /* mlock succeeded */
	int lock_errno;    /* why it did not, for the caller to report */
	struct ring_reader **readers;
	size_t nreaders, cap;
	struct ring *writer; /* a view: the ring the source writes (shard.h) */
	/* A file ring: fd is a descriptor of the file (the ring's own, which
	 * holds the read lease), file_off the file offset of stream byte 0. */
	int file;
	off_t file_off;
	void *map; /* what was mapped (base lies inside it), map_len bytes */
	size_t map_len;
	struct ring_file_was { /* the file as it was when the ring was opened */
		off_t size;
		struct timespec mtim;
	} was;
};

/* Map size bytes, a memfd when memfd is set (what sendfile and retiring
 * need: fd), else anonymous memory (fd -1), and apply the mlock policy.
 * The ring starts with start bytes in use (at most size; less only for
 * anonymous memory) and grows as above.  Returns 0, or -errno; when it was
 * mlock that failed (MLOCK_ON), lock_errno is set too. */
int ring_open(struct ring *r, size_t size, size_t start, enum mlock_mode mode, int memfd);
void ring_close(struct ring *r);

/* A view of ring w for a sending thread: the same memfd and mapping, its own
 * readers, and a head the thread sets when it looks (the head the crew
 * publishes: the writer's own is the writer thread's alone).  Closing it
 * frees only the readers' array. */
void ring_view(struct ring *view, struct ring *w);
void ring_close_view(struct ring *view);

/* The writer's thread: rd holds the ring from start on again (start >=
 * ring_oldest()), as when a reader joins behind it. */
void ring_hold(struct ring *r, struct ring_reader *rd, uint64_t start);

/* Retire blocks before rewriting them from now on (before the first write);
 * on a view, the ring it views does.
 * Returns 0, or -EINVAL when the size is not a multiple of the page size. */
int ring_set_retire(struct ring *r);

/* ring_file.c: a ring over len bytes of the regular file fd from offset
 * off (len > 0): fd is duplicated and a read lease taken on the copy, so
 * that anyone who opens the file for writing (or truncates it) breaks it,
 * which ring_intact sees.  0, or -errno with *why saying why its pages
 * cannot be sent as they are (a static string): -EAGAIN when it is open
 * for writing, -EACCES when a lease is not this user's to take (neither
 * the file's owner nor CAP_LEASE), -EINVAL when its file system or
 * /proc/sys/fs/leases-enable allows none. */
int ring_open_file(struct ring *r, int fd, off_t off, size_t len, const char **why);
/* Whether the bytes a ring holds are still the source's: always for a
 * memfd ring; for a file ring (or a view of one), while its lease is
 * unbroken and fstat shows the size and times it had at open.  1, or 0
 * with why (NULL: not wanted) filled with the reason ("was opened for
 * writing or truncated while it was sent", ...).  Any thread may ask: two syscalls. */
int ring_intact(const struct ring *r, char *why, size_t len);
/* How long a writer waits on a broken lease before the kernel lets it go
 * (/proc/sys/fs/lease-break-time, 45 s by default) less a margin: the time
 * a run has to finish the destinations that were sent all of a file before
 * it changed (ms). */
uint64_t ring_file_grace_ms(void);

/* The oldest stream offset whose byte the ring still holds. */
uint64_t ring_oldest(const struct ring *r);

/* Register a reader starting at stream offset start (ring_oldest() <= start
 * <= head; below the tail holds the ring back again).  Returns 0 or -ENOMEM /
 * -EINVAL. */
int ring_reader_add(struct ring *r, struct ring_reader *rd, uint64_t start);
/* A reader that leaves no longer holds the ring. */
void ring_reader_del(struct ring *r, struct ring_reader *rd);

/* Recompute tail as the smallest done of all readers; returns it.  Readers
 * may be advanced by other threads (atomically), the ring only by its own. */
uint64_t ring_reclaim(struct ring *r);

/* Contiguous free space at head: sets *p and returns its length (0 = full,
 * or retiring failed: see retire_errno). */
size_t ring_write_span(struct ring *r, uint8_t **p);
/* The source wrote n bytes at the span returned above. */
void ring_commit(struct ring *r, size_t n);

/* Where stream offset pos lies (ring_oldest() <= pos <= head, and for
 * head, where the next write goes). */
uint8_t *ring_at(const struct ring *r, uint64_t pos);

/* Contiguous readable bytes from stream offset pos, at most max, not across
 * the end of the ring in use nor into the next epoch: sets *p (when p is
 * not NULL) and returns the length. */
size_t ring_read_span(const struct ring *r, uint64_t pos, size_t max, uint8_t **p);

/* Free space, counting with the cached tail. */
static inline size_t ring_free(const struct ring *r)
{
	return r->size - (size_t)(r->head - r->tail);
}

#endif
