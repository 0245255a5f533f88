#include "pump.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

static void rate_wake(struct loop_timer *t)
{
	(void)t; /* waking the loop is all: the next pass reads again */
}

/* How much --rate lets the source read now: a token bucket filled at the
 * rate, holding at most a tenth of a second's worth (so a source that had
 * to wait does not burst to catch up).  Reads come in pieces of a fiftieth
 * of a second's worth (4 KiB to one chunk); below that it arms a timer for
 * when the next piece is due and returns 0.  The bucket starts to fill at
 * the first read the stream allows. */
static size_t rate_allowance(struct pump *p)
{
	uint64_t rate = p->rate, now = now_ms();

	if (!rate)
		return SIZE_MAX;
	if (!p->rate_t)
		p->rate_t = now;
	double piece = (double)MIN(p->chunk, MAX(rate / 50, 4096));
	double burst = MAX(2 * piece, (double)rate / 10);
	p->credit = MIN(burst, p->credit + (double)rate * (double)(now - p->rate_t) / 1000);
	p->rate_t = now;
	if (p->credit >= piece)
		return (size_t)p->credit;
	if (!p->rate_wait.armed) {
		p->rate_wait.cb = rate_wake;
		loop_timer_arm(p->loop, &p->rate_wait,
			       (uint64_t)((piece - p->credit) * 1000 / (double)rate) + 1);
	}
	return 0;
}

size_t pump_room(struct pump *p, uint8_t **buf)
{
	if (p->held)
		return 0;
	size_t span = ring_write_span(&p->ring, buf);

	if (!span)
		return 0;
	size_t allowed = rate_allowance(p); /* once: it tops up and arms a timer */
	return MIN(span, allowed);
}

int pump_full(struct pump *p)
{
	uint8_t *buf;

	return p->open && !p->held && ring_write_span(&p->ring, &buf) == 0;
}

/* n bytes went in at the head: a span ring_write_span gave, which never
 * wraps, so they are hashed where they lie. */
static void wrote(struct pump *p, size_t n)
{
	if (p->hashing)
		digest_update(&p->digest, ring_at(&p->ring, p->ring.head), n);
	ring_commit(&p->ring, n);
	p->credit -= (double)n;
}

static size_t sink_room(void *arg, uint8_t **buf)
{
	return pump_room(arg, buf);
}

static void sink_commit(void *arg, size_t n)
{
	wrote(arg, n);
}

/* Why a read from the source failed with n (-errno). */
static enum pump_event read_failed(struct pump *p, ssize_t n)
{
	snprintf(p->why, sizeof(p->why), "%s%s",
		 p->src.why ? "" : "read: ", p->src.why ? p->src.why : strerror((int)-n));
	return PUMP_FAILED;
}

/* A file ring's step: nothing to read, only the head to move over the
 * file's pages, paced and held as reads are, in pieces of FILE_STEP when
 * they are hashed so that hashing and sending take turns. */
#define FILE_STEP (4UL << 20)

static enum pump_event file_step(struct pump *p)
{
	uint8_t *buf;
	size_t span = pump_room(p, &buf);

	if (p->ring.head == p->ring.size)
		return PUMP_ENDED;
	if (span == 0)
		return PUMP_WAIT;
	wrote(p, p->hashing ? MIN(span, FILE_STEP) : span);
	return PUMP_READ;
}

enum pump_event pump_step(struct pump *p)
{
	uint8_t *buf;

	if (p->ring.file)
		return file_step(p);
	size_t span = pump_room(p, &buf);

	if (span == 0 && p->ring.retire_errno) {
		snprintf(p->why, sizeof(p->why),
			 "ring: cannot punch out a block before rewriting it: %s",
			 strerror(p->ring.retire_errno));
		return PUMP_FAILED;
	}
	if (span == 0)
		return PUMP_WAIT;
	ssize_t n = p->src.ops->read(&p->src, buf, MIN(span, p->chunk));
	p->idle = n == -EAGAIN;
	if (n > 0) {
		wrote(p, (size_t)n);
		return PUMP_READ;
	}
	if (n == 0)
		return PUMP_ENDED;
	return n == -EAGAIN ? PUMP_WAIT : read_failed(p, n);
}

int pump_probe_end(struct pump *p)
{
	char probe;
	ssize_t n;

	if (!p->open || p->src.size < 0 || p->ring.head < (uint64_t)p->src.size)
		return 1;
	n = p->src.ops->read(&p->src, &probe, 1);
	if (n == 0)
		return 0;
	if (n < 0 && n != -EAGAIN) {
		read_failed(p, n);
		return -1;
	}
	return 1;
}

int pump_open(struct pump *p, const char *spec, struct source_opts *o, const char **why)
{
	const char *swhy = NULL;

	p->io.fd = -1;
	if (p->hashing && digest_open(&p->digest, why) < 0)
		return -1;
	o->loop = p->loop;
	o->sink = (struct source_sink){ .room = sink_room, .commit = sink_commit, .arg = p };
	int rc = source_open(&p->src, spec, o, &swhy);
	if (rc < 0) {
		*why = swhy ? swhy : strerror(-rc);
		return -1;
	}
	p->open = 1;
	return 0;
}

int pump_watch(struct pump *p, void (*cb)(struct loop_io *io, uint32_t events), const char **why)
{
	p->io.fd = p->src.fd;
	p->io.cb = cb;
	if (p->src.fd < 0)
		return 0; /* it drives itself through the loop */
	int rc = loop_add(p->loop, &p->io, EPOLLIN);
	if (rc == 0) {
		p->pollable = p->armed = 1;
	} else if (rc != -EPERM) {
		snprintf(p->why, sizeof(p->why), "cannot watch: %s", strerror(-rc));
		*why = p->why;
		return -1;
	}
	return 0;
}

void pump_arm(struct pump *p, int on)
{
	if (!p->open || !p->pollable || p->armed == on)
		return;
	loop_mod(p->loop, &p->io, on ? EPOLLIN : 0);
	p->armed = on;
}

void pump_close(struct pump *p)
{
	if (!p->open)
		return;
	/* A file sent from its own pages was never read: leave its offset
	 * where reading it would have (a shell's stdin, shared). */
	if (p->ring.file)
		lseek(p->src.fd, p->ring.file_off + (off_t)p->ring.head, SEEK_SET);
	if (p->pollable)
		loop_del(p->loop, &p->io);
	p->src.ops->close(&p->src);
	p->io.fd = -1;
	p->open = 0;
}

void pump_free(struct pump *p)
{
	pump_close(p);
	if (p->src.ops && p->src.ops->free)
		p->src.ops->free(&p->src);
	digest_free(&p->digest);
	ring_close(&p->ring);
}

/* A regular file read as it is (not -z, not --extract), with bytes to send:
 * its own pages, when a lease can be held (ring_file.c) and the file is
 * still as it was opened.  0, or -1 when the ring is to be memory of its
 * own (-v says why; a file open for writing elsewhere gets a warning). */
static int open_file_ring(struct pump *p)
{
	const struct source *s = &p->src;
	const char *why = NULL;
	char sz[32];

	if (s->ops != &src_fd_ops || !s->file.on || s->size <= 0)
		return -1;
	if (p->no_file_pages) {
		info("%s: read into a ring, not sent from its own pages: %s", s->desc,
		     p->no_file_pages);
		return -1;
	}
	int rc = ring_open_file(&p->ring, s->fd, s->file.pos, (size_t)s->size, &why);
	const struct ring_file_was *was = &p->ring.was;
	if (rc == 0 &&
	    (was->size != s->file.size || was->mtim.tv_sec != s->file.mtim.tv_sec ||
	     was->mtim.tv_nsec != s->file.mtim.tv_nsec)) {
		ring_close(&p->ring); /* changed between the open and the lease */
		rc = -ESTALE;
		why = "it changed as it was opened";
	}
	if (rc == -EAGAIN || rc == -EBUSY)
		warnmsg("%s is open for writing elsewhere: it is read into a ring, where a "
			"change while it is read shows only in its size and times",
			s->desc);
	else if (rc < 0)
		info("%s: read into a ring, not sent from its own pages: %s", s->desc,
		     why ? why : strerror(-rc));
	if (rc < 0)
		return -1;
	info("ring: none: %s (%s) is sent from its own pages, under a read lease", s->desc,
	     fmt_bytes((uint64_t)s->size, sz, sizeof(sz)));
	return 0;
}

int pump_open_ring(struct pump *p, size_t size, enum mlock_mode mlock, size_t chunk,
		   size_t unfitted, const char **why)
{
	struct ring *r = &p->ring;
	char sz[32], lim[32];

	p->chunk = chunk;
	if (open_file_ring(p) == 0)
		return 0;
	int rc = ring_open(r, size, p->ring_start ? p->ring_start : size, mlock, p->ring_memfd);
	const char *kind = p->ring_memfd ? "memfd" : "of anonymous memory";

	fmt_memlock(lim, sizeof(lim));
	fmt_bytes(size, sz, sizeof(sz));
	*why = p->why;
	if (rc < 0 && r->lock_errno) {
		snprintf(
			p->why, sizeof(p->why),
			"--mlock on: cannot lock the %s ring in memory: %s "
			"(RLIMIT_MEMLOCK is %s; raise it with ulimit -l, run with CAP_IPC_LOCK, or use "
			"--mlock auto)",
			sz, strerror(-rc), lim);
		return -1;
	}
	if (rc < 0) {
		snprintf(p->why, sizeof(p->why), "cannot create the %s ring: %s", sz,
			 strerror(-rc));
		return -1;
	}
	if (mlock == MLOCK_AUTO && !r->locked)
		warnmsg("cannot lock the %s ring in memory: %s (RLIMIT_MEMLOCK is %s); running unlocked",
			sz, strerror(r->lock_errno), lim);
	const char *lock = r->locked ? "locked in memory"
		: mlock == MLOCK_OFF ? "not locked (--mlock off)"
				     : "not locked";
	if (unfitted) {
		char src[32], def[32];
		info("ring: %s %s, %s, sized to the source (%s; the default is %s)", sz, kind, lock,
		     fmt_bytes((uint64_t)p->src.size, src, sizeof(src)),
		     fmt_bytes(unfitted, def, sizeof(def)));
	} else {
		info("ring: %s %s, %s", sz, kind, lock);
	}
	if (r->size < size)
		info("ring: %s of it in use at first: it grows when a destination waits for a "
		     "slower one",
		     fmt_bytes(r->size, sz, sizeof(sz)));
	return 0;
}
