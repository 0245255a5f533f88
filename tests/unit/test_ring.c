/* The ring's reclaim rule: space is reusable only below every reader's done. */
#include "ring.h"
#include "tap.h"

#include <stdlib.h>
#include <string.h>

#define SZ (64u << 10)

static size_t fill(struct ring *r, size_t n, uint8_t byte)
{
	uint8_t *p;
	size_t span = ring_write_span(r, &p);

	if (span > n)
		span = n;
	memset(p, byte, span);
	ring_commit(r, span);
	return span;
}

static void basics(void)
{
	struct ring r;
	struct ring_reader a, b;
	uint8_t *p;

	ok(ring_open(&r, SZ, SZ, MLOCK_OFF, 1) == 0, "a 64 KiB ring opens");
	ok(ring_write_span(&r, &p) == SZ && p == r.base,
	   "an empty ring offers all of itself at base");
	ok(ring_reader_add(&r, &a, 0) == 0 && ring_reader_add(&r, &b, 0) == 0,
	   "two readers join at 0");
	ok(fill(&r, SZ, 1) == SZ, "the writer fills the ring");
	ok(ring_write_span(&r, &p) == 0, "full: nothing writable while no reader is done");

	a.sent = b.sent = SZ;
	ok(ring_write_span(&r, &p) == 0, "bytes sent but not done are not reclaimed");

	a.done = SZ;
	b.done = 4096;
	ok(ring_write_span(&r, &p) == 4096 && p == r.base,
	   "room is exactly up to the slowest reader's done, at the start of the mapping");
	ok(fill(&r, 4096, 2) == 4096, "the writer laps");
	ok(ring_write_span(&r, &p) == 0, "and is full again");

	ring_reader_del(&r, &b);
	ok(ring_write_span(&r, &p) == SZ - 4096, "a reader that leaves no longer holds the ring");

	ok(ring_oldest(&r) == 4096, "the oldest byte still held is one lap behind the head");
	ok(ring_reader_add(&r, &b, 4095) != 0, "a reader cannot join below it");
	ok(ring_reader_add(&r, &b, r.head + 1) != 0, "nor beyond the head");
	ok(ring_reader_add(&r, &b, 4096) == 0 && r.tail == 4096,
	   "but can join at the oldest byte, below the tail (a.done), which holds the ring again");
	ok(ring_write_span(&r, &p) == 0, "so the ring is full for the writer");
	ring_reader_del(&r, &b);
	ok(ring_reader_add(&r, &b, r.head) == 0, "a reader can join at the head");

	ring_reader_del(&r, &a);
	ring_reader_del(&r, &b);
	ok(ring_write_span(&r, &p) == SZ - 4096 && p == r.base + 4096,
	   "with no readers everything after head is free, up to the end of the mapping");
	ring_close(&r);
}

static void read_spans(void)
{
	struct ring r;
	uint8_t *p;

	ring_open(&r, SZ, SZ, MLOCK_OFF, 1);
	fill(&r, SZ - 100, 7);
	r.tail = r.head;  /* no readers: everything written is reclaimable */
	fill(&r, 300, 8); /* stops at the end of the mapping */
	fill(&r, 200, 9); /* and goes on at its start */
	ok(ring_read_span(&r, SZ - 100, 1 << 20, &p) == 100 && p == r.base + SZ - 100,
	   "a read span stops at the end of the mapping");
	ok(ring_read_span(&r, SZ, 1 << 20, &p) == 200 && p == r.base, "and continues at the start");
	ok(ring_read_span(&r, SZ, 50, NULL) == 50, "and honours the chunk limit");
	ok(ring_read_span(&r, r.head, 1 << 20, NULL) == 0, "nothing to read at head");
	ring_close(&r);
}

/* Random writers and readers for many laps: the writer never gets a span that
 * reaches a byte some reader has not been told is done, and every reader
 * reads back exactly the byte sequence written. */
static void random_laps(int retire)
{
	enum {
		NR = 5
	};
	struct ring r;
	struct ring_reader rd[NR];
	int live[NR];
	uint64_t violations = 0, mismatches = 0, stale = 0;
	const char *mode = retire ? "retiring: " : "";

	srand(12345);
	ring_open(&r, SZ, SZ, MLOCK_OFF, 1);
	if (retire)
		ring_set_retire(&r);
	for (int i = 0; i < NR; i++) {
		ring_reader_add(&r, &rd[i], 0);
		live[i] = 1;
	}
	for (int step = 0; step < 200000; step++) {
		int who = rand() % (NR + 1);
		if (who == NR) {
			uint8_t *p;
			size_t span = ring_write_span(&r, &p);
			size_t n = span ? (size_t)rand() % span + 1 : 0;
			for (int i = 0; i < NR; i++)
				if (live[i] && r.head + n > rd[i].done + SZ)
					violations++;
			/* A retired block reads back as zeros: its old pages are gone. */
			for (size_t k = 0; retire && r.head >= SZ && k < n; k++)
				stale += p[k] != 0;
			for (size_t k = 0; k < n; k++)
				p[k] = (uint8_t)((r.head + k) * 2654435761u >> 24);
			ring_commit(&r, n);
			continue;
		}
		if (!live[who])
			continue;
		struct ring_reader *x = &rd[who];
		if (rand() % 2 && x->sent < r.head) {
			uint8_t *p;
			size_t len = ring_read_span(&r, x->sent, (size_t)rand() % 9000 + 1, &p);
			for (size_t k = 0; k < len; k++)
				if (p[k] != (uint8_t)((x->sent + k) * 2654435761u >> 24))
					mismatches++;
			x->sent += len;
		} else if (x->done < x->sent) {
			x->done += (uint64_t)rand() % (x->sent - x->done) + 1;
		}
		if (who == NR - 1 && step > 100000 && rand() % 1000 == 0) {
			ring_reader_del(&r, x);
			live[who] = 0;
		}
	}
	ok(r.head > 20 * (uint64_t)SZ, "%sthe random run lapped the ring many times (%llu laps)",
	   mode, (unsigned long long)(r.head / SZ));
	ok(violations == 0, "%sthe writer never reached a byte a reader had not finished (%llu)",
	   mode, (unsigned long long)violations);
	ok(mismatches == 0, "%severy reader read back exactly what was written (%llu bad bytes)",
	   mode, (unsigned long long)mismatches);
	if (retire)
		ok(stale == 0,
		   "retiring: every rewritten byte had been punched out first (%llu were not)",
		   (unsigned long long)stale);
	ring_close(&r);
}

/* Retiring (the sendfile transport): blocks are punched before reuse. */
static void retiring(void)
{
	struct ring r;
	struct ring_reader a;
	uint8_t *p;

	ring_open(&r, SZ, SZ, MLOCK_OFF, 1);
	ok(ring_set_retire(&r) == 0 && r.block == SZ / 8, "a 64 KiB ring retires in 8 KiB blocks");
	ring_reader_add(&r, &a, 0);
	ok(fill(&r, SZ, 7) == SZ, "the first lap is written in one span: nothing to retire yet");
	a.sent = a.done = SZ / 8 - 1;
	ok(ring_write_span(&r, &p) == 0,
	   "a block is not retired while a reader still needs a byte of it");
	a.sent = a.done = SZ;
	ok(ring_write_span(&r, &p) == SZ / 8 && p == r.base,
	   "once it is free, the writer gets exactly one block");
	ok(p[0] == 0 && p[SZ / 8 - 1] == 0 && r.base[SZ / 8] == 7,
	   "that block was punched out (zeros); the next one still holds the old lap");
	ok(ring_oldest(&r) == SZ / 8, "the oldest byte held is the first one not punched out");
	ring_close(&r);

	ok(ring_open(&r, SZ + 100, SZ + 100, MLOCK_OFF, 1) == 0 && ring_set_retire(&r) < 0,
	   "a ring that is not a whole number of pages cannot retire");
	ring_close(&r);
}

/* A growing ring (anonymous memory, 64 KiB in use at first, 1 MiB at
 * most): readers at different paces, checked against the memory itself:
 * no write lands on a byte a live reader has not finished, every read
 * gives back the stream, and every byte from ring_oldest() to the head is
 * still there.  With readers at one pace nothing starves: it never grows. */
static uint64_t owner[1 << 20]; /* per byte of the mapping: the offset written there, + 1 */

static void growing_laps(int nr, int slow)
{
	enum {
		MAXR = 6
	};
	struct ring r;
	struct ring_reader rd[MAXR];
	uint64_t violations = 0, mismatches = 0, lost = 0, outside = 0;

	srand(777);
	memset(owner, 0, sizeof(owner));
	ok(ring_open(&r, 1 << 20, SZ, MLOCK_OFF, 0) == 0 && r.fd < 0 && r.size == SZ,
	   "an anonymous ring of 1 MiB opens with 64 KiB in use");
	for (int i = 0; i < nr; i++)
		ring_reader_add(&r, &rd[i], 0);
	for (int step = 0; step < 400000; step++) {
		int who = rand() % (nr + 1);
		if (who == nr) {
			uint8_t *p;
			size_t span = ring_write_span(&r, &p),
			       n = span ? (size_t)rand() % span + 1 : 0;
			size_t at = (size_t)(p - r.base);
			outside += n && at + n > r.size_max;
			for (size_t k = 0; k < n && at + k < r.size_max; k++) {
				for (int i = 0; i < nr; i++)
					violations += owner[at + k] &&
						owner[at + k] - 1 >= rd[i].done;
				owner[at + k] = r.head + k + 1;
				p[k] = (uint8_t)((r.head + k) * 2654435761u >> 24);
			}
			ring_commit(&r, n);
			continue;
		}
		struct ring_reader *x = &rd[who];
		if (slow && who == 0 && rand() % 8)
			continue; /* the slow one */
		if (rand() % 2 && x->sent < r.head) {
			uint8_t *p;
			size_t len = ring_read_span(&r, x->sent, (size_t)rand() % 9000 + 1, &p);
			for (size_t k = 0; k < len; k++)
				mismatches += p[k] != (uint8_t)((x->sent + k) * 2654435761u >> 24);
			x->sent += len;
		} else if (x->done < x->sent) {
			x->done += (uint64_t)rand() % (x->sent - x->done) + 1;
		}
		uint64_t old = ring_oldest(&r); /* its first byte each step, all now and then */
		for (uint64_t q = old; q < r.head; q += step % 997 ? r.head : 101)
			lost += *ring_at(&r, q) != (uint8_t)(q * 2654435761u >> 24);
	}
	ok(r.head > 40 * (uint64_t)SZ, "growing, %d readers%s: it lapped many times (%llu KiB)", nr,
	   slow ? ", one slow" : "", (unsigned long long)(r.head >> 10));
	if (slow)
		ok(r.nepochs > 1 && r.size == r.size_max,
		   "a slow reader starved the others: it grew to the whole mapping (%u epochs)",
		   r.nepochs);
	else
		ok(r.nepochs == 1 && r.size == SZ, "readers at one pace: it never grew (%u epochs)",
		   r.nepochs);
	ok(violations == 0 && outside == 0,
	   "the writer never wrote over a byte a reader had not finished, nor past the mapping "
	   "(%llu, %llu)",
	   (unsigned long long)violations, (unsigned long long)outside);
	ok(mismatches == 0, "every reader read back exactly what was written (%llu bad bytes)",
	   (unsigned long long)mismatches);
	ok(lost == 0, "every byte from ring_oldest() to the head is still there (%llu lost)",
	   (unsigned long long)lost);
	ring_close(&r);
}

int main(void)
{
	growing_laps(4, 1);
	growing_laps(1, 0);
	basics();
	read_spans();
	random_laps(0);
	retiring();
	random_laps(1);
	return tap_done();
}
