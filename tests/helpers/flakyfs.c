/*
 * flakyfs MOUNTPOINT SIZE GOOD: a FUSE filesystem holding one read-only file,
 * "flaky", of SIZE bytes whose reads succeed for the first GOOD bytes and then
 * fail with EIO, as a disk with a bad sector does.  Byte i of the file is
 * (i * 7 + i / 4096) & 0xff, so a test can rebuild the good part with
 * `flakyfs --print GOOD`.  Runs in the foreground until unmounted or killed.
 */
#define FUSE_USE_VERSION 31
#include <fuse.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static uint64_t size, good;

static unsigned char byte_at(uint64_t i)
{
	return (unsigned char)((i * 7 + i / 4096) & 0xff);
}

static int fs_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
	(void)fi;
	memset(st, 0, sizeof(*st));
	if (strcmp(path, "/") == 0) {
		st->st_mode = S_IFDIR | 0755;
		st->st_nlink = 2;
	} else if (strcmp(path, "/flaky") == 0) {
		st->st_mode = S_IFREG | 0444;
		st->st_nlink = 1;
		st->st_size = (off_t)size;
	} else {
		return -ENOENT;
	}
	return 0;
}

static int fs_open(const char *path, struct fuse_file_info *fi)
{
	if (strcmp(path, "/flaky") != 0)
		return -ENOENT;
	fi->direct_io = 1; /* every read reaches us: the failure lands at GOOD exactly */
	return 0;
}

static int fs_read(const char *path, char *buf, size_t len, off_t off, struct fuse_file_info *fi)
{
	uint64_t o = (uint64_t)off;

	(void)path;
	(void)fi;
	if (o >= size)
		return 0;
	if (o >= good)
		return -EIO;
	if (len > good - o)
		len = (size_t)(good - o);
	for (size_t i = 0; i < len; i++)
		buf[i] = (char)byte_at(o + i);
	return (int)len;
}

static const struct fuse_operations ops = {
	.getattr = fs_getattr,
	.open = fs_open,
	.read = fs_read,
};

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--print") == 0) {
		uint64_t n = strtoull(argv[2], NULL, 10);
		for (uint64_t i = 0; i < n; i++)
			putchar(byte_at(i));
		return 0;
	}
	if (argc != 4) {
		fprintf(stderr, "usage: flakyfs MOUNTPOINT SIZE GOOD | flakyfs --print N\n");
		return 2;
	}
	size = strtoull(argv[2], NULL, 10);
	good = strtoull(argv[3], NULL, 10);
	char *args[] = { argv[0], "-f", "-s", "-o", "ro,fsname=flakyfs", argv[1], NULL };
	return fuse_main(6, args, &ops, NULL);
}
