/*
 * The pump: source -> ring.  One step reads what the source gives into the
 * ring's free space (or, when the ring is a regular file's own pages,
 * ring_file.c, only moves the head over them), as fast as --rate allows and not at all while the
 * caller holds it (--min-subscribers).  Sources that are handed their bytes
 * (URLs) write them through the pump's sink instead, by the same rules.
 * The pump says what happened and why; it never touches listeners or
 * destinations: what to do when the source ends or fails is the caller's.
 */
#ifndef RINGCAST_PUMP_H
#define RINGCAST_PUMP_H

#include <stddef.h>
#include <stdint.h>

#include "digest.h"
#include "loop.h"
#include "ring.h"
#include "src.h"

enum pump_event {
	PUMP_READ,   /* bytes went into the ring */
	PUMP_WAIT,   /* no room, --rate says wait, held, or nothing to read now */
	PUMP_ENDED,  /* the source reached its end */
	PUMP_FAILED, /* the source (or the ring) failed: why says how */
};

struct pump {
	struct source src;
	struct loop_io io; /* the source's descriptor, when epoll can watch it */
	struct ring ring;  /* the pump's: it alone writes it; the crew reads it */
	struct loop *loop;
	size_t chunk;                /* the largest read, bytes */
	uint64_t rate;               /* --rate, bytes/s; 0: as fast as it comes */
	int open;                    /* the source is open */
	int pollable, armed;         /* io is in the loop; and watched for input now */
	int held;                    /* the caller's: read nothing while it is set */
	int idle;                    /* the last read found nothing (-EAGAIN) */
	double credit;               /* --rate: bytes the source may read now */
	uint64_t rate_t;             /* now_ms() when the credit was last topped up, 0: not yet */
	struct loop_timer rate_wait; /* --rate: wakes the loop when the next read is due */
	int hashing;                 /* the caller's, before pump_open: SHA-256 what is read */
	const char *no_file_pages;   /* the caller's, before pump_open_ring: why a regular
					file is read into a ring all the same, for -v (NULL:
					it is sent from its own pages when it can be) */
	int ring_memfd;              /* the caller's, likewise: the ring must be a memfd
					(the sendfile transport sends from its fd) */
	size_t ring_start;           /* the caller's, likewise: bytes of the ring in use at
					first (ring.h: growing); 0: all of it */
	struct digest digest;        /* of every byte that went into the ring, when hashing */
	char why[256];               /* after PUMP_FAILED: why, for messages */
};

/* Open the source spec with o (its sink is set here to write into the
 * ring, opened next), and start the SHA-256 when hashing.  p's loop,
 * rate, held and hashing are the caller's to set first, and ring.fd -1.  0, or -1 with *why (the source's words, or
 * strerror). */
int pump_open(struct pump *p, const char *spec, struct source_opts *o, const char **why);
/* Then the ring: for a regular file, when file_pages is set and a read
 * lease can be held, the file's own pages (ring_file.c; size and mlock do
 * not apply); else size bytes, locked in memory as mlock says (with a
 * warning when auto cannot), chunk the largest read.  -v says which.  unfitted: the size it
 * had before it was fitted to the source (0: it was not), for the -v line.
 * 0, or -1 with *why (p's). */
int pump_open_ring(struct pump *p, size_t size, enum mlock_mode mlock, size_t chunk,
		   size_t unfitted, const char **why);
/* Watch the source's descriptor with cb, when it has one epoll takes (a
 * regular file has none: the caller steps it before each sleep).  0, or -1
 * with *why (p's; the caller names the source). */
int pump_watch(struct pump *p, void (*cb)(struct loop_io *io, uint32_t events), const char **why);
/* Watch for input (on), or not while there is no room. */
void pump_arm(struct pump *p, int on);
/* Close the source; the ring keeps what it read.  Safe to call twice. */
void pump_close(struct pump *p);
/* Close the source if open, and the ring. */
void pump_free(struct pump *p);

/* One read from the source into the ring. */
enum pump_event pump_step(struct pump *p);
/* The source waits for ring space: it is open, not held, and the ring is
 * full (a source held, or waiting for --rate, waits for something else). */
int pump_full(struct pump *p);
/* Room for the source to read into now, at *buf: ring space and --rate
 * allowing (arming a timer for when it will), none while held. */
size_t pump_room(struct pump *p, uint8_t **buf);
/* At a signal: whether the source, read up to its known size, ends there:
 * 0 it does (one more read found its end), 1 it does not or cannot be told
 * (not at its size, no size, or not open), -1 that read failed (why). */
int pump_probe_end(struct pump *p);

#endif
