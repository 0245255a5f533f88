/*
 * The receiver of the framed protocol, shared by src_frame.c (a sender's
 * header, stream, trailer and verdict) and src_frame_tree.c (a tree's: a
 * host that takes the stream over, an orphan's wait, asks up the tree).
 * Private to those two files.
 */
#ifndef RINGCAST_SRC_FRAME_H
#define RINGCAST_SRC_FRAME_H

#include "digest.h"
#include "frame.h"
#include "net.h"
#include "src.h"

#include <stdint.h>
#include <sys/types.h>

#define HEADER_WAIT_MS 10000 /* for a connection's whole header */
#define HEADER_BUF     (FRAME_FIXED + FRAME_FIELDS_MAX)
#define SMALL_READ     (2 * FRAME_TRAILER_LEN)
#define ANSWER_WAIT_MS 30000 /* for the sender to take a verdict (a tree's is large) */

struct framed_src {
	int fd;
	char peer[64];
	struct frame_header h;
	uint8_t *early; /* stream bytes that came with the header */
	size_t nearly, early_off;
	uint8_t tail[FRAME_TRAILER_LEN]; /* the last bytes seen: maybe the trailer */
	size_t ntail;
	uint8_t pend[SMALL_READ]; /* stream bytes a small read could not take */
	size_t npend, pend_off;
	uint64_t bytes; /* given out as the stream's */
	struct digest dg;
	uint8_t sha[32];
	int ended;                       /* its trailer came: sha is the stream's */
	unsigned code;                   /* FRAME_VERIFIED, or why the stream failed */
	char why[FRAME_REASON_MAX];      /* the verdict's reason */
	char msg[FRAME_REASON_MAX + 32]; /* s->why: the code's name, then why */
	uint8_t *plan;                   /* the header's PLAN, copied: the hosts to relay to */
	/* A tree's stream (STREAM_ID): another host may take over from the one
	 * sending it (repair).  The source's fd is then ep, an epoll set of
	 * the connection, the listeners and tfd, the deadline of an orphan. */
	int ep, tfd, lfd[MAX_LISTENERS], nl;
	uint64_t last_data; /* now_ms() when the sender last sent bytes */
	const char *spec;
	struct source_opts o;
	char lost[FRAME_REASON_MAX / 2]; /* why the last sender was lost */
};

/* The offset the stream has fsrc_reached here: given out, held back, and what
 * came with the first header and is not read yet. */
static inline uint64_t fsrc_reached(const struct framed_src *f)
{
	return f->bytes + f->ntail + (f->nearly - f->early_off);
}

/* The stream failed: code and why, for the verdict, and the two for the
 * run (s->why: "the trailer says ..."). */
ssize_t fsrc_failed(struct source *s, unsigned code, int err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Answer the connection fd (from peer) with a verdict of code and why, and
 * reset it; the receiver says so. */
void fsrc_turn_away_fd(int fd, const char *spec, const char *peer, unsigned code, const char *why);
/* Read a whole header from fd into buf (HEADER_BUF; *have bytes so far),
 * within wait_ms: its length, or -1 with *code and *why. */
ssize_t fsrc_header_on(int fd, uint8_t *buf, size_t *have, struct frame_header *h, uint64_t wait_ms,
		       unsigned *code, const char **why);
/* Whether header h (buf as read) may be taken: signed with o's key, and a
 * plan only when signed or from --allow.  0, or -1 with *code and *why. */
int fsrc_trusted(const struct frame_header *h, const uint8_t *buf, const struct source_opts *o,
		 unsigned *code, const char **why);
/* Send all of buf on fd within ANSWER_WAIT_MS.  0 or -errno. */
int fsrc_send_all(int fd, const uint8_t *buf, size_t len);

/* src_frame_tree.c.  A tree's stream: keep the n listeners, and watch them,
 * the connection and an orphan's deadline in one epoll set, the source's
 * fd.  0 or -errno. */
int fsrc_tree_set(struct framed_src *f, const int *fds, int n);
/* After a read of the connection came to n (-EAGAIN, -errno, or 0 without
 * a trailer): take over from any host that resumes the stream; a
 * connection that failed makes this receiver an orphan, which waits for
 * one.  What the read is to come to: -EAGAIN, or n once no one resumed. */
ssize_t fsrc_tree_wait(struct source *s, ssize_t n);
/* The first sender's header was a RESUME: answer offset 0.  0 or -EPIPE. */
int fsrc_answer_resume(struct framed_src *f);
/* source_ops.ask. */
int fsrc_ask(struct source *s, const char *host, uint64_t offset);

#endif
