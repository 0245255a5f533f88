/* Sources: where the stream comes from.  Each kind lives in src_<kind>.c
 * behind struct source_ops; the fan-out reads it straight into the ring. */
#ifndef RINGCAST_SRC_H
#define RINGCAST_SRC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

struct source;
struct loop;
struct cidr;
struct frame_host;

/* Where a source that is handed bytes (a URL) may write them: straight
 * where read() would have put them (the ring).  room() gives the space
 * there is now and sets *p to it (0: none now; the source keeps the bytes),
 * commit() says n bytes of it were written.  Both are called on the loop's
 * thread, from the source's own callbacks. */
struct source_sink {
	size_t (*room)(void *arg, uint8_t **p);
	void (*commit)(void *arg, size_t n);
	void *arg;
};

/* What some kinds of source need beyond SOURCE itself. */
struct source_opts {
	struct loop *loop;    /* URLs run in the event loop */
	const char **headers; /* -H: extra request headers for URLs */
	size_t nheaders;
	const char *user;         /* -u USER:PASSWORD for URLs */
	int netrc;                /* --netrc: credentials from ~/.netrc */
	int family;               /* -4, -6: AF_INET or AF_INET6 for every address a
				     source resolves or listens on; AF_UNSPEC (0) any */
	const char *extract;      /* --extract MEMBER of an archive */
	int decompress;           /* -z: decode a compressed stream */
	struct source_sink sink;  /* optional (room NULL: none), for URLs */
	const struct cidr *allow; /* --allow: who a listening source takes (none: anyone) */
	size_t nallow;
	const uint8_t *key; /* --key-file: framed headers must be signed with it */
	size_t keylen;
};

struct source_ops {
	/* Up to len bytes into buf: >0 read, 0 end of stream, -errno
	 * (-EAGAIN: nothing now, wait for fd to be readable). */
	ssize_t (*read)(struct source *s, void *buf, size_t len);
	void (*close)(struct source *s);
	/* Optional, for a source that answers its sender (ringcast-listen):
	 * once the run is over, after close, tell it how it went (failed: why
	 * an output did not get the whole stream, NULL when all did), with
	 * the verdicts of the hosts it relayed to (a tree). */
	void (*answer)(struct source *s, const char *failed, const struct frame_host *hosts,
		       size_t nhosts);
	/* Optional, ringcast-listen in a tree: ask the sender to resume
	 * host (of this receiver's plan), cut at offset, which this receiver's
	 * ring no longer holds (frame.h's ask).  0, or -errno (-ENOTCONN: no
	 * sender now). */
	int (*ask)(struct source *s, const char *host, uint64_t offset);
	/* Optional: free what close kept for answer (the sender, unanswered,
	 * gets a reset). */
	void (*free)(struct source *s);
};

struct source {
	const struct source_ops *ops;
	const char *desc; /* for messages: the path, "stdin", the URL */
	int fd;           /* what the loop watches; -1 if nothing to watch */
	off_t size;       /* known length, or -1 */
	/* After a read error: why, when strerror would not say (a static
	 * string or the source's own). */
	const char *why;
	void *priv;
	/* ringcast-listen with a trusted plan (a tree): the fan-out and the
	 * hosts this receiver relays to (frame_plan_*), the source's own. */
	unsigned plan_k;
	const uint8_t *plan;
	size_t plan_len;
	/* A source that checks the stream's SHA-256 itself (ringcast-listen):
	 * it, once the stream ended whole and verified; NULL before. */
	const uint8_t *sha256;
	/* ringcast-listen: the STREAM_ID its header gave (a tree's), or NULL,
	 * and the NAME (NULL: none), which a relay passes on. */
	const uint8_t *stream_id;
	const char *name;
	int lost; /* ringcast-listen in a tree: its sender is lost, a host may resume it */
	/* A source that can be read again at any offset (a regular file, a
	 * block device): seek_base is the offset of the stream's first byte
	 * in fd.  A tree's root re-reads from it what its ring no longer holds. */
	int seekable;
	off_t seek_base;
	/* A regular file as it was when opened, so that its end can tell
	 * whether it changed while it was read (src_fd.c); on is 0 for any
	 * other kind of source. */
	struct src_file {
		int on;
		off_t size;                 /* st_size at open, from the file's start */
		off_t pos;                  /* the offset reading has reached */
		struct timespec mtim, ctim; /* st_mtim and st_ctim at open */
		char why[96];               /* the source's why when it changed */
	} file;
};

/* Open SOURCE as given on the command line.  0 or -errno; *why gets a
 * sentence when the error is not best told by strerror.  A source whose fd
 * is -1 drives itself through opts->loop and returns -EAGAIN until it has
 * bytes. */
int source_open(struct source *s, const char *spec, const struct source_opts *opts,
		const char **why);

/* A read that waits out -EAGAIN: for a self-driven source (a URL) by
 * running loop, else by poll().  For code that may block (loading a blob,
 * the archive thread), never for the fan-out's own loop.  stop_fd (or -1):
 * a descriptor whose error or hang-up ends the wait with -ECANCELED, so
 * that a thread can be stopped without pthread_cancel. */
ssize_t source_read_wait(struct source *s, struct loop *loop, int stop_fd, void *buf, size_t len);

/* source_open without --extract and -z: the source as it is. */
int source_open_plain(struct source *s, const char *spec, const struct source_opts *opts,
		      const char **why);

/* --extract MEMBER (member non-NULL) or -z over the source spec. */
int src_archive_open(struct source *s, const char *spec, const struct source_opts *o,
		     const char *member, const char **why);

/* Serve mode's --unpack: for each regular member of the archive spec holds,
 * each(arg, name, mtime, read, ctx) with its path as a safe name (owned by
 * each) and read(ctx, buf, len) giving its bytes (0 at its end, -errno).
 * Absolute paths and ".." are skipped with a warning.  0, or -errno with
 * *why saying why (static or thread-local: "--unpack: ..." or "MEMBER: ...",
 * to follow "SPEC: "); a negative return from each stops the walk, with
 * *why NULL unless reading the member failed. */
typedef int (*member_fn)(void *arg, char *name, int64_t mtime,
			 ssize_t (*read)(void *ctx, void *buf, size_t len), void *ctx);
int archive_members(const char *spec, const struct source_opts *o, member_fn each, void *arg,
		    const char **why);

/* The member names --extract and --unpack go by.  archive_member_plain:
 * "./a/b" and "a/b" name the same member (the name without leading "./").
 * archive_member_name: a member path as a blob name, "./" and repeated
 * slashes dropped; NULL (or a malloc'd string) for an absolute path or any
 * "..", which would name something outside. */
const char *archive_member_plain(const char *name);
char *archive_member_name(const char *path);

/* "-", a regular file, a FIFO, a character device or a socket.  A regular
 * file's end is checked against the file as it was when opened: its read
 * fails (-EIO, s->why saying which) instead of ending when the file
 * shrank or was modified other than by growing while it was read, so that
 * the fan-out cuts the stream rather than end it whole (the delivery rule;
 * DELIVERY in the man page). */
int src_fd_open(struct source *s, const char *spec, const char **why);
/* Reading and closing a plain descriptor, for the kinds that end up with one. */
extern const struct source_ops src_fd_ops;

/* tcp://HOST:PORT: connect and read.  tcp-listen://[HOST:]PORT: listen, wait
 * for one producer (from o's --allow blocks) to connect, and read it until
 * it closes.  family as in struct source_opts. */
int src_tcp_open(struct source *s, const char *spec, int family, const char **why);
int src_tcp_listen_open(struct source *s, const char *spec, const struct source_opts *o,
			const char **why);
/* Wait on the n listening sockets fds for a peer in o's --allow blocks (the
 * others are reset, with a warning naming spec and them): its connected
 * socket, its address in peer[len], or -errno. */
int src_tcp_accept(const int *fds, int n, const struct source_opts *o, const char *spec, char *peer,
		   size_t len);

/* ringcast-listen://[HOST:]PORT: listen, take one sender of the framed
 * protocol from o->allow's blocks, read its header (a bad one gets its
 * verdict and a reset, and the next sender is waited for), then read the
 * stream; it verifies at its end (a read error when it does not, s->why
 * saying how), and answer() sends the verdict (src_frame.c). */
int src_frame_listen_open(struct source *s, const char *spec, const struct source_opts *o,
			  const char **why);

/* URLs libcurl fetches: http, https, ftp, ftps, file, sftp, scp. */
int src_curl_is_url(const char *spec);
int src_curl_open(struct source *s, const char *spec, const struct source_opts *o,
		  const char **why);

#endif
