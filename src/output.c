/* Local outputs: file:PATH and - (output.h). */
#include "output.h"
#include "dest.h"
#include "parse.h"
#include "ring.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int output_check(int kind, const char *path, char *why, size_t len)
{
	struct stat st;
	int fl;

	if (kind == DEST_STDOUT) {
		if ((fl = fcntl(STDOUT_FILENO, F_GETFL)) < 0 || (fl & O_ACCMODE) == O_RDONLY) {
			snprintf(why, len, "standard output is %s",
				 fl < 0 ? "closed" : "read-only");
			return -EBADF;
		}
		return 0;
	}
	if (stat(path, &st) == 0) {
		if (S_ISDIR(st.st_mode)) {
			snprintf(why, len, "%s: %s", path, strerror(EISDIR));
			return -EISDIR;
		}
		if (!S_ISREG(st.st_mode) && access(path, W_OK) < 0) {
			snprintf(why, len, "%s: %s", path, strerror(errno));
			return -errno;
		}
		if (!S_ISREG(st.st_mode))
			return 0; /* a device, written in place */
	}
	/* A file is created as PATH.part in its directory, then renamed. */
	char *copy = strdup(path);
	if (!copy) {
		snprintf(why, len, "%s", strerror(ENOMEM));
		return -ENOMEM;
	}
	const char *dir = dirname(copy);
	int rc = access(dir, W_OK | X_OK) < 0 ? -errno : 0;
	if (rc == -ENOENT || rc == -ENOTDIR)
		snprintf(why, len, "%s: no such directory", dir);
	else if (rc)
		snprintf(why, len, "%s: cannot create files there: %s", dir, strerror(-rc));
	free(copy);
	return rc;
}

/* Standard output: a pipe through a descriptor of its own that does not
 * block (opening /proc/self/fd/1 opens the pipe anew, so the shell's file
 * description keeps its flags), anything else as it is. */
static int open_stdout(int *polled, const char **op)
{
	struct stat st;
	int fd;

	*op = "open standard output";
	if (fstat(STDOUT_FILENO, &st) < 0)
		return -errno;
	if (S_ISFIFO(st.st_mode)) {
		fd = open("/proc/self/fd/1", O_WRONLY | O_NONBLOCK | O_CLOEXEC);
		if (fd >= 0) {
			*polled = 1;
			return fd;
		}
	}
	fd = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
	return fd < 0 ? -errno : fd;
}

int output_open(struct dest *d, int *polled, const char **op)
{
	struct stat st;
	int fd;

	*polled = 0;
	if (d->kind == DEST_STDOUT)
		return open_stdout(polled, op);
	if (stat(d->path, &st) == 0 && !S_ISREG(st.st_mode)) {
		*op = "open";
		fd = open(d->path, O_WRONLY | O_CLOEXEC); /* a device: in place */
		return fd < 0 ? -errno : fd;
	}
	size_t n = strlen(d->path) + sizeof(".part");
	if (!(d->part = malloc(n)))
		return -ENOMEM;
	snprintf(d->part, n, "%s.part", d->path);
	*op = "open";
	fd = open(d->part, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	return fd < 0 ? -errno : fd;
}

int output_write(struct dest *d, struct ring *r, size_t max)
{
	while (d->rd.sent < r->head) {
		uint8_t *buf;
		size_t len = ring_read_span(r, d->rd.sent, max, &buf);
		ssize_t n = write(d->io.fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			d->px.writable = 0;
			return 0;
		}
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO; /* a device at its end: the stream does not fit */
		d->rd.sent += (uint64_t)n;
		d->rd.done = d->rd.sent;
	}
	return 0;
}

/* Sync the directory that holds path, so that a rename survives a crash. */
static int sync_dir(const char *path)
{
	char *copy = strdup(path);
	int fd = copy ? open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
	int rc = fd >= 0 && fsync(fd) == 0 ? 0 : -errno;

	if (fd >= 0)
		close(fd);
	free(copy);
	return copy ? rc : -ENOMEM;
}

int output_finish(struct dest *d, const char **op)
{
	*op = "fsync";
	/* A pipe or a terminal has nothing to sync (EINVAL): it has the bytes. */
	if (fsync(d->io.fd) < 0 && errno != EINVAL && errno != EROFS)
		return -errno;
	if (!d->part)
		return 0;
	*op = "rename";
	if (rename(d->part, d->path) < 0)
		return -errno;
	free(d->part);
	d->part = NULL;
	*op = "fsync the directory";
	return sync_dir(d->path);
}

void output_free(struct dest *d)
{
	free(d->part);
	d->part = NULL;
}
