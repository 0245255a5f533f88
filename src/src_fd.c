/* File descriptor sources: stdin, regular files, FIFOs, character devices.
 * Inherited descriptors are left blocking (changing O_NONBLOCK would change
 * them for every process that shares them); the loop reads a pollable one
 * only after epoll says it is readable, and a regular file whenever the ring
 * has room. */
#include "src.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static ssize_t fd_read(struct source *s, void *buf, size_t len)
{
	for (;;) {
		ssize_t n = read(s->fd, buf, len);

		if (n >= 0)
			return n;
		if (errno != EINTR)
			return -errno;
	}
}

static void fd_close(struct source *s)
{
	if (s->fd > STDERR_FILENO)
		close(s->fd);
	s->fd = -1;
}

static const struct source_ops fd_ops = {
	.read = fd_read,
	.close = fd_close,
};

int src_fd_open(struct source *s, const char *spec, const char **why)
{
	struct stat st;
	int fd;

	*s = (struct source){ .ops = &fd_ops, .fd = -1, .size = -1 };
	if (!strcmp(spec, "-")) {
		fd = STDIN_FILENO;
		s->desc = "stdin";
	} else {
		fd = open(spec, O_RDONLY | O_CLOEXEC);
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
	if (S_ISREG(st.st_mode)) {
		s->size = st.st_size - lseek(fd, 0, SEEK_CUR);
		posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	}
	s->fd = fd;
	return 0;
}

int source_open(struct source *s, const char *spec, const char **why)
{
	*why = NULL;
	return src_fd_open(s, spec, why);
}
