#include "ring.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

int ring_open(struct ring *r, size_t size, size_t start, enum mlock_mode mode, int memfd)
{
	*r = (struct ring){ .fd = -1 };
	if (memfd) {
		r->fd = memfd_create("ringcast-ring", MFD_CLOEXEC | MFD_ALLOW_SEALING);
		if (r->fd < 0)
			return -errno;
		if (ftruncate(r->fd, (off_t)size) < 0)
			goto fail;
	}
	/* Anonymous memory when nothing needs a file: its first touch costs
	 * about 0.3 ms per MiB here against 0.55 for a memfd's (shmem) pages,
	 * and io_uring pins it in about 0.4 ms per MiB against 0.65. */
	r->base = memfd
		? mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, r->fd, 0)
		: mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (r->base == MAP_FAILED) {
		r->base = NULL;
		goto fail;
	}
	r->size_max = r->map_len = size;
	r->size = memfd ? size : MIN(start, size);
	r->epoch[0] = (struct ring_epoch){ .size = r->size };
	r->nepochs = 1;
	r->map = r->base;
	if (mode != MLOCK_OFF) {
		/* ONFAULT: each page is locked when the source first writes it,
		 * so a 64 MiB ring costs nothing up front and a short stream
		 * never touches most of it; the limit is still checked for the
		 * whole ring now. */
		if (mlock2(r->base, size, MLOCK_ONFAULT) == 0) {
			r->locked = 1;
		} else {
			r->lock_errno = errno;
			if (mode == MLOCK_ON)
				goto fail;
		}
	}
	if (!r->locked)
		madvise(r->base, size, MADV_WILLNEED);
	return 0;
fail:;
	int e = errno, lock_errno = r->lock_errno;
	ring_close(r);
	r->lock_errno = lock_errno; /* tells the caller it was the lock that failed */
	return -e;
}

void ring_close(struct ring *r)
{
	if (r->map)
		munmap(r->map, r->map_len);
	if (r->fd >= 0)
		close(r->fd);
	free(r->readers);
	*r = (struct ring){ .fd = -1 };
}

void ring_view(struct ring *view, struct ring *w)
{
	*view = (struct ring){ .fd = w->fd,
			       .base = w->base,
			       .size = w->size,
			       .size_max = w->size_max,
			       .head = w->head,
			       .tail = w->head,
			       .locked = w->locked,
			       .writer = w,
			       .file = w->file,
			       .file_off = w->file_off };
}

void ring_close_view(struct ring *view)
{
	free(view->readers);
	*view = (struct ring){ .fd = -1 };
}

void ring_hold(struct ring *r, struct ring_reader *rd, uint64_t start)
{
	if (start < __atomic_load_n(&rd->done, __ATOMIC_ACQUIRE))
		__atomic_store_n(&rd->done, start, __ATOMIC_RELEASE);
	r->tail = MIN(r->tail, start);
}

/* The epoch of stream offset pos in w (the writer): the last to start at
 * or before it; *next its end (UINT64_MAX: none yet). */
static const struct ring_epoch *epoch_of(const struct ring *w, uint64_t pos, uint64_t *next)
{
	unsigned i = __atomic_load_n(&w->nepochs, __ATOMIC_ACQUIRE) - 1;

	*next = UINT64_MAX;
	while (i > 0 && w->epoch[i].start > pos)
		*next = w->epoch[i--].start;
	return &w->epoch[i];
}

static size_t offset_in(const struct ring_epoch *e, uint64_t pos)
{
	return (size_t)((pos - e->start + e->at) % e->size);
}

uint64_t ring_oldest(const struct ring *r)
{
	const struct ring *w = r->writer ? r->writer : r;
	/* Retiring punches blocks out ahead of head, up to fresh_to. */
	uint64_t end = r->block ? r->fresh_to : r->head, next;
	const struct ring_epoch *e = epoch_of(w, r->head, &next);
	/* Before its first wrap, an epoch has left the at bytes before its
	 * start where they were; after it, the size in use back from end. */
	uint64_t kept = e->start > e->at ? e->start - e->at : 0;

	return MAX(kept, end > e->size ? end - e->size : 0);
}

uint8_t *ring_at(const struct ring *r, uint64_t pos)
{
	uint64_t next;

	return r->base + offset_in(epoch_of(r->writer ? r->writer : r, pos, &next), pos);
}

int ring_reader_add(struct ring *r, struct ring_reader *rd, uint64_t start)
{
	if (start < ring_oldest(r) || start > r->head)
		return -EINVAL;
	if (r->nreaders == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 16;
		struct ring_reader **n = realloc(r->readers, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		r->readers = n;
		r->cap = cap;
	}
	rd->sent = rd->done = start;
	rd->lead = 0;
	if (start < r->tail)
		r->tail = start;
	rd->slot = r->nreaders;
	r->readers[r->nreaders++] = rd;
	return 0;
}

void ring_reader_del(struct ring *r, struct ring_reader *rd)
{
	size_t i = rd->slot;

	if (i >= r->nreaders || r->readers[i] != rd)
		return;
	r->readers[i] = r->readers[--r->nreaders];
	r->readers[i]->slot = i;
	rd->slot = (size_t)-1;
}

uint64_t ring_reclaim(struct ring *r)
{
	uint64_t t = r->head, lead = 0;

	for (size_t i = 0; i < r->nreaders; i++) {
		uint64_t done = __atomic_load_n(&r->readers[i]->done, __ATOMIC_ACQUIRE);
		t = MIN(t, done);
		lead = MAX(lead,
			   MAX(done, __atomic_load_n(&r->readers[i]->lead, __ATOMIC_RELAXED)));
	}
	r->tail = t;
	r->lead = lead;
	return t;
}

/* Blocks of at most 1 MiB and at least 8 per ring, so that the writer can
 * retire one while destinations still send from the others. */
#define RETIRE_MAX      (1UL << 20)
#define RETIRE_PER_RING 8

int ring_set_retire(struct ring *r)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE), b = RETIRE_MAX;

	if (r->writer)
		r = r->writer;

	while (b > page && (b > r->size / RETIRE_PER_RING || r->size % b))
		b /= 2;
	if (r->size % b || r->head)
		return -EINVAL;
	r->block = b;
	r->fresh_to = r->size; /* the first lap writes pages nobody has sent */
	return 0;
}

/* Retire the block at head (head == fresh_to, so block-aligned) once every
 * reader is done with its previous lap.  0 when it is not free yet. */
static int retire_next(struct ring *r)
{
	if (r->head + r->block - r->tail > r->size &&
	    r->head + r->block - ring_reclaim(r) > r->size)
		return 0;
#ifndef RINGCAST_RECLAIM_ON_SEND /* debug builds only: skip it, which is wrong */
	if (fallocate(r->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)(r->head % r->size),
		      (off_t)r->block) < 0) {
		r->retire_errno = errno;
		return 0;
	}
#endif
	r->fresh_to += r->block;
	return 1;
}

/* At the end of the ring in use, after a reader starved while the source
 * waited: a new epoch, twice the size (at most the mapping), that goes on
 * into the fresh pages past the old end (ring.h).  Non-zero when it grew. */
static int grow(struct ring *r)
{
	size_t size = r->size > r->size_max / 2 ? r->size_max : 2 * r->size;

	r->starved = 0;
	if (r->block || r->size == r->size_max || r->nepochs == RING_EPOCHS)
		return 0;
	r->epoch[r->nepochs] = (struct ring_epoch){ .start = r->head, .at = r->size, .size = size };
	__atomic_store_n(&r->nepochs, r->nepochs + 1, __ATOMIC_RELEASE);
	__atomic_store_n(&r->size, size, __ATOMIC_RELAXED);
	return 1;
}

size_t ring_write_span(struct ring *r, uint8_t **p)
{
	if (r->file) { /* never rewritten: the rest of the file */
		*p = r->base + r->head;
		return (size_t)(r->size - r->head);
	}
	if (r->block && r->head == r->fresh_to && !retire_next(r))
		return 0;
	/* The cached tail is always safe (done only grows); refresh it only
	 * when it leaves less than half the ring, so that a source read does
	 * not cost a pass over every reader. */
	if (ring_free(r) < r->size / 2)
		ring_reclaim(r);
	const struct ring_epoch *e = &r->epoch[r->nepochs - 1];
	size_t off = offset_in(e, r->head);
	if (ring_free(r) == 0 && r->lead == r->head)
		r->starved = 1; /* a reader waits for what a slower one holds up */
	if (off == 0 && r->starved && r->head > e->start && grow(r))
		off = offset_in(&r->epoch[r->nepochs - 1], r->head);
	size_t span = MIN(ring_free(r), r->size - off);
	*p = r->base + off;
	return r->block ? MIN(span, (size_t)(r->fresh_to - r->head)) : span;
}

void ring_commit(struct ring *r, size_t n)
{
	/* Only the writer's thread reads it: the sending threads go by the
	 * head the crew publishes (crew_publish). */
	r->head += n;
}

size_t ring_read_span(const struct ring *r, uint64_t pos, size_t max, uint8_t **p)
{
	uint64_t next;
	const struct ring_epoch *e = epoch_of(r->writer ? r->writer : r, pos, &next);
	size_t off = offset_in(e, pos);
	size_t len = (size_t)(MIN(r->head, next) - pos);

	len = MIN(len, e->size - off);
	len = MIN(len, max);
	if (p)
		*p = r->base + off;
	return len;
}
