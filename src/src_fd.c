/* File descriptor sources: stdin, regular files, FIFOs, character devices.
 * Inherited descriptors are left blocking (changing O_NONBLOCK would change
 * them for every process that shares them); the loop reads a pollable one
 * only after epoll says it is readable, and a regular file whenever the ring
 * has room. */
#include "src.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

/* Pipe buffer asked for on a FIFO or pipe source: fewer, larger reads. */
#define PIPE_SIZE (1 << 20)

static ssize_t read_once(int fd, void *buf, size_t len)
{
	for (;;) {
		ssize_t n = read(fd, buf, len);

		if (n >= 0)
			return n;
		if (errno != EINTR)
			return -errno;
	}
}

static int same_time(struct timespec a, struct timespec b)
{
	return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
}

/* A regular file's read found its end.  0 when what was read is the file
 * as it was when opened, or as it grew since (a log being written); else
 * -EIO with s->why saying how it changed:
 *  - the end came before the size it had at open, and it is smaller now:
 *    "shrank from N to M bytes" (truncated under the reader);
 *  - the end came early and it is not smaller (truncated and written again),
 *    or it came at or past that size but the file is not larger while its
 *    modification or status-change time moved (written over in place):
 *    "was modified".
 * An early end with the size and both times as they were is no change: a
 * pseudo-file whose size is no guide (sysfs says 4096 for a few bytes).
 * What this cannot see: a rewrite that also grows the file, and one that
 * keeps the size within the timestamps' granularity. */
static ssize_t file_end(struct source *s)
{
	struct src_file *f = &s->file;
	struct stat st;

	if (fstat(s->fd, &st) < 0)
		return -errno;
	int touched = !same_time(st.st_mtim, f->mtim) || !same_time(st.st_ctim, f->ctim);
	if (f->pos < f->size && !touched && st.st_size == f->size)
		return 0;
	if (f->pos < f->size && st.st_size < f->size)
		snprintf(f->why, sizeof(f->why), "shrank from %lld to %lld bytes while it was read",
			 (long long)f->size, (long long)st.st_size);
	else if (f->pos < f->size || (touched && st.st_size <= f->size))
		snprintf(f->why, sizeof(f->why), "was modified while it was read");
	else
		return 0;
	s->why = f->why;
	return -EIO;
}

/* The first read may block (the loop calls it when the fd is readable, or
 * for a regular file at any time); after it, take only what FIONREAD says is
 * already there, so one call returns what a pipe holds instead of a sliver
 * and the destinations get larger sends. */
static ssize_t fd_read(struct source *s, void *buf, size_t len)
{
	ssize_t n = read_once(s->fd, buf, len);
	size_t got = n > 0 ? (size_t)n : 0;

	while (n > 0 && got < len && s->size < 0) {
		int avail = 0;

		if (ioctl(s->fd, FIONREAD, &avail) < 0 || avail <= 0)
			break;
		n = read_once(s->fd, (char *)buf + got, MIN(len - got, (size_t)avail));
		if (n > 0)
			got += (size_t)n;
	}
	if (got && s->file.on)
		s->file.pos += (off_t)got;
	if (n == 0 && !got && s->file.on)
		return file_end(s);
	return got ? (ssize_t)got : n;
}

static void fd_close(struct source *s)
{
	if (s->fd > STDERR_FILENO)
		close(s->fd);
	s->fd = -1;
}

const struct source_ops src_fd_ops = {
	.read = fd_read,
	.close = fd_close,
};

int src_fd_open(struct source *s, const char *spec, const char **why)
{
	struct stat st;
	int fd;

	*s = (struct source){ .ops = &src_fd_ops, .fd = -1, .size = -1 };
	if (!strcmp(spec, "-")) {
		fd = STDIN_FILENO;
		s->desc = "stdin";
	} else {
		/* Without O_NONBLOCK, opening a FIFO waits for its writer, out
		 * of the event loop's reach; with it, a read before the writer
		 * came would be an end (source_read_wait polls first, the loop
		 * reads only when epoll says so). */
		fd = open(spec, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
		if (fd < 0)
			return -errno;
		s->desc = spec;
	}
	if (fstat(fd, &st) < 0) {
		int e = errno;
		if (fd != STDIN_FILENO)
			close(fd);
		return -e;
	}
	if (S_ISDIR(st.st_mode)) {
		if (fd != STDIN_FILENO)
			close(fd);
		*why = "is a directory";
		return -EISDIR;
	}
	if (S_ISFIFO(st.st_mode))
		fcntl(fd, F_SETPIPE_SZ, PIPE_SIZE); /* a hint: a smaller pipe still works */
	if (S_ISREG(st.st_mode)) {
		off_t pos = lseek(fd, 0, SEEK_CUR);
		s->size = st.st_size - pos;
		s->file = (struct src_file){ .on = 1,
					     .size = st.st_size,
					     .pos = pos,
					     .mtim = st.st_mtim,
					     .ctim = st.st_ctim };
		posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	}
	if (S_ISREG(st.st_mode) || S_ISBLK(st.st_mode)) {
		s->seek_base = lseek(fd, 0, SEEK_CUR);
		s->seekable = s->seek_base >= 0;
	}
	s->fd = fd;
	return 0;
}
