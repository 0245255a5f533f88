/* Local outputs: file:PATH and - (output.h). */
#include "output.h"
#include "dest.h"
#include "parse.h"
#include "ring.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

int output_stdout_closed;

/* why = "A: B" (B empty: "A"); -err. */
static int say(char *why, size_t len, int err, const char *a, const char *b)
{
	snprintf(why, len, "%s%s%s", a, *b ? ": " : "", b);
	return -err;
}

/* The real path of path's directory, then its last name: one spelling
 * for every way of naming a file that may not exist yet. */
static char *canonical(const char *path)
{
	char *d = strdup(path), *b = strdup(path), *dir = NULL, *out = NULL;

	if (d && b && (dir = realpath(dirname(d), NULL)) &&
	    (out = malloc(strlen(dir) + strlen(basename(b)) + 2)))
		sprintf(out, "%s/%s", dir, basename(b));
	free(d);
	free(b);
	free(dir);
	return out;
}

static int check_stdout(struct output_id *id, char *why, size_t len)
{
	struct stat st;
	int fl = fcntl(STDOUT_FILENO, F_GETFL);

	if (output_stdout_closed || fl < 0 || (fl & O_ACCMODE) == O_RDONLY)
		return say(why, len, EBADF,
			   fl >= 0 && !output_stdout_closed ? "standard output is read-only"
							    : "standard output is closed",
			   "");
	if (fstat(STDOUT_FILENO, &st) == 0)
		*id = (struct output_id){ .exists = 1, .dev = st.st_dev, .ino = st.st_ino };
	return 0;
}

/* A file that is to be created: its directory must be one we can write. */
static int check_dir(const char *path, char *why, size_t len)
{
	char *copy = strdup(path);
	struct stat st;

	if (!copy)
		return say(why, len, ENOMEM, strerror(ENOMEM), "");
	const char *dir = dirname(copy);
	int rc = stat(dir, &st) < 0 ? -errno : !S_ISDIR(st.st_mode) ? -ENOTDIR : 0;
	if (rc == 0 && access(dir, W_OK | X_OK) < 0)
		rc = -errno;
	if (rc == -ENOENT)
		say(why, len, ENOENT, dir, "no such directory");
	else if (rc == -ENOTDIR)
		say(why, len, ENOTDIR, dir, "not a directory");
	else if (rc)
		snprintf(why, len, "%s: cannot create files there: %s", dir, strerror(-rc));
	free(copy);
	return rc;
}

int output_check(int kind, const char *path, char **real, struct output_id *id, char *why,
		 size_t len)
{
	struct stat st;

	*real = NULL;
	*id = (struct output_id){ 0 };
	if (kind == DEST_STDOUT)
		return check_stdout(id, why, len);
	if (path[strlen(path) - 1] == '/')
		return say(why, len, EISDIR, path, "a trailing / names a directory, not a file");
	/* A link is followed to what it names; one that names no path but
	 * opens all the same (/dev/stdout, to a pipe) is written as it is. */
	if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode) && !(*real = realpath(path, NULL)) &&
	    stat(path, &st) < 0)
		return say(why, len, errno, path, "a symbolic link to nothing");
	if (!*real && !(*real = strdup(path)))
		return say(why, len, ENOMEM, strerror(ENOMEM), "");
	if (stat(*real, &st) == 0) {
		*id = (struct output_id){ .exists = 1, .dev = st.st_dev, .ino = st.st_ino };
		if (S_ISDIR(st.st_mode))
			return say(why, len, EISDIR, *real, strerror(EISDIR));
		if (!S_ISREG(st.st_mode) && access(*real, W_OK) < 0)
			return say(why, len, errno, *real, strerror(errno));
		if (!S_ISREG(st.st_mode))
			return 0; /* a device or a FIFO, written in place */
	}
	id->canon = canonical(*real);
	return check_dir(*real, why, len);
}

int output_same(const struct output_id *a, const struct output_id *b)
{
	if (a->exists && b->exists)
		return a->dev == b->dev && a->ino == b->ino;
	return a->canon && b->canon && !strcmp(a->canon, b->canon);
}

/* Standard output: a pipe, a FIFO or a terminal through a descriptor of
 * its own that does not block (opening /proc/self/fd/1 opens it anew, so
 * the shell's file description keeps its flags), a socket sent to without
 * waiting (MSG_DONTWAIT: its flags are shared), anything else as it is. */
static int open_stdout(struct dest *d, int *polled, const char **op)
{
	struct stat st;
	int fd;

	*op = "open standard output";
	if (fstat(STDOUT_FILENO, &st) < 0)
		return -errno;
	if (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode)) {
		fd = open("/proc/self/fd/1", O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
		if (fd >= 0) {
			*polled = 1;
			return fd;
		}
	}
	fd = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
	d->out_sock = S_ISSOCK(st.st_mode);
	*polled = d->out_sock;
	return fd < 0 ? -errno : fd;
}

/* PATH.part, created afresh: a stale one (ours, by its name) is removed,
 * and a link there is never followed.  A file PATH replaces keeps its
 * permissions. */
static int open_part(struct dest *d, const char **op)
{
	size_t n = strlen(d->path) + sizeof(".part");
	struct stat st;

	if (!(d->part = malloc(n)))
		return -ENOMEM;
	snprintf(d->part, n, "%s.part", d->path);
	*op = "open";
	unlink(d->part);
	int fd = open(d->part, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
	if (fd < 0)
		return -errno;
	if (stat(d->path, &st) == 0 && S_ISREG(st.st_mode)) {
		fchmod(fd, st.st_mode & 07777);
		if (fchown(fd, st.st_uid, st.st_gid) < 0) { /* not ours to give: ours it stays */
		}
	}
	return fd;
}

int output_open(struct dest *d, int *polled, const char **op)
{
	struct stat st;
	int fd;

	*polled = 0;
	if (d->kind == DEST_STDOUT)
		return open_stdout(d, polled, op);
	if (stat(d->path, &st) < 0 || S_ISREG(st.st_mode))
		return open_part(d, op);
	*op = "open";
	if (S_ISBLK(st.st_mode)) { /* a disk: in place, and its writes do not wait on a reader */
		fd = open(d->path, O_WRONLY | O_CLOEXEC);
		return fd < 0 ? -errno : fd;
	}
	/* A FIFO (without a reader: ENXIO, "no such device or address"), a
	 * character device: never waited on. */
	fd = open(d->path, O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	*polled = fd >= 0;
	return fd < 0 ? -errno : fd;
}

int output_write(struct dest *d, struct ring *r, size_t max)
{
	while (d->rd.sent < r->head) {
		uint8_t *buf;
		size_t len = ring_read_span(r, d->rd.sent, max, &buf);
		ssize_t n = d->out_sock ? send(d->io.fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL)
					: write(d->io.fd, buf, len);

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
	/* A pipe, a socket or a terminal has nothing to sync (EINVAL). */
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
