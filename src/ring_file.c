/*
 * A file ring: a regular file's own pages instead of a memfd.  A disk image
 * is usually in the page cache already; copying it into a ring first is work
 * that sendfile() straight from the file does not do (BENCHMARKS.md).
 *
 * The file must not change while it is sent: a destination would get a mix
 * of old and new bytes, and different destinations different mixes.  A read
 * lease (fcntl(2), F_SETLEASE) makes the kernel tell: it is granted only
 * while nobody has the file open for writing, and anyone who then opens it
 * for writing or truncates it breaks it, and waits (up to
 * /proc/sys/fs/lease-break-time, 45 s by default) for the holder to let go.
 * The fan-out looks at the lease before every FIN and on a timer
 * (ring_intact), and fails the run, resetting every destination not yet
 * whole, when it is broken.  The break's signal is set to SIGURG, which is
 * ignored unless handled: ringcast asks F_GETLEASE instead of taking it.
 * fstat's size and modification time are checked as well (not the status
 * change time: a new file renamed over the path moves the old one's, and
 * what is sent, through a descriptor of the old one, stays the same).
 */
#include "ring.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static int same_time(struct timespec a, struct timespec b)
{
	return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
}

/* Why F_SETLEASE refused (errno e), as the -v line says it. */
static const char *lease_refused(int e)
{
	switch (e) {
	case EAGAIN:
	case EBUSY:
		return "it is open for writing";
	case EACCES:
	case EPERM:
		return "a read lease needs its owner or CAP_LEASE";
	default:
		return "its file system (or fs.leases-enable) allows no read lease";
	}
}

int ring_open_file(struct ring *r, int fd, off_t off, size_t len, const char **why)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	off_t start = off - (off_t)((size_t)off % page);
	struct stat st;
	int e;

	char self[40];

	/* An open file description of our own: a lease belongs to it, and one
	 * shared with another process (an inherited stdin, or a dup of it)
	 * would outlive this one and hold up that file's writers. */
	snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
	*r = (struct ring){ .fd = open(self, O_RDONLY | O_CLOEXEC) };
	*why = NULL;
	if (r->fd < 0) {
		*why = "it cannot be opened again through /proc/self/fd";
		goto fail;
	}
	if (fcntl(r->fd, F_SETSIG, SIGURG) < 0 || fcntl(r->fd, F_SETLEASE, F_RDLCK) < 0) {
		*why = lease_refused(errno);
		goto fail;
	}
	if (fstat(r->fd, &st) < 0) /* under the lease: what the caller compares */
		goto fail;
	r->map_len = len + (size_t)(off - start);
	r->map = mmap(NULL, r->map_len, PROT_READ, MAP_SHARED, r->fd, start);
	if (r->map == MAP_FAILED) {
		r->map = NULL;
		*why = "it cannot be mapped";
		goto fail;
	}
	madvise(r->map, r->map_len, MADV_SEQUENTIAL);
	r->base = (uint8_t *)r->map + (off - start);
	r->size = r->size_max = len;
	r->epoch[0] = (struct ring_epoch){ .size = len };
	r->nepochs = 1;
	r->file = 1;
	r->file_off = off;
	r->was = (struct ring_file_was){ .size = st.st_size, .mtim = st.st_mtim };
	return 0;
fail:
	e = errno;
	ring_close(r); /* closing the copy lets the lease go */
	return -e;
}

uint64_t ring_file_grace_ms(void)
{
	FILE *f = fopen("/proc/sys/fs/lease-break-time", "r");
	long s = 45;

	if (f && fscanf(f, "%ld", &s) != 1)
		s = 45;
	if (f)
		fclose(f);
	return s > 3 ? (uint64_t)(s - 2) * 1000 : 1000;
}

int ring_intact(const struct ring *r, char *why, size_t len)
{
	const struct ring *w = r->writer ? r->writer : r;
	const struct ring_file_was *was = &w->was;
	struct stat st;
	char buf[128];

	if (!w->file)
		return 1;
	if (fstat(w->fd, &st) < 0)
		snprintf(buf, sizeof(buf), "cannot be checked: fstat: %s", strerror(errno));
	else if (st.st_size != was->size)
		snprintf(buf, sizeof(buf), "changed size from %lld to %lld bytes while it was sent",
			 (long long)was->size, (long long)st.st_size);
	else if (!same_time(st.st_mtim, was->mtim))
		snprintf(buf, sizeof(buf), "was modified while it was sent");
	else if (fcntl(w->fd, F_GETLEASE) != F_RDLCK)
		snprintf(buf, sizeof(buf), "was opened for writing or truncated while it was sent");
	else
		return 1;
	if (why)
		snprintf(why, len, "%s", buf);
	return 0;
}
