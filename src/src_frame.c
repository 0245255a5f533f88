/*
 * ringcast-listen://[HOST:]PORT: the receiver's side of the framed protocol
 * (frame.h, doc/PROTOCOL.md).  It listens, takes one sender (from --allow's
 * blocks, when given), reads its header, and then reads the stream, holding
 * back the last FRAME_TRAILER_LEN bytes it has seen: when the sender closes,
 * they are the trailer, checked against the bytes given out and their
 * SHA-256.  A stream that does not verify ends in a read error, so the run
 * cuts it (outputs stay PATH.part).  Once the run knows how its outputs
 * fared it calls answer(), which sends the verdict on the same connection.
 *
 * A connection whose header is bad, or that the receiver refuses, gets a
 * verdict saying why and a reset, and the receiver waits for the next one:
 * nothing of it reaches an output.  Nothing read from the wire names a path
 * or a host: the name in the header is only printed.
 */
#include "digest.h"
#include "frame.h"
#include "net.h"
#include "parse.h"
#include "src.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#define HEADER_WAIT_MS 10000 /* for a connection's whole header */
#define HEADER_BUF     (FRAME_FIXED + FRAME_FIELDS_MAX)
#define SMALL_READ     (2 * FRAME_TRAILER_LEN)
#define ANSWER_WAIT_MS 30000 /* for the sender to take a verdict (a tree's is large) */
#define RESUME_WAIT_MS 30000 /* an orphan waits this long for a host to resume it */
#define RESUME_HEAD_MS 2000  /* for the header of one that does */
#define RESUME_IDLE_MS 1000  /* a sender this long silent may be replaced */

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

/* The stream failed: code and why, for the verdict, and the two for the
 * run (s->why: "the trailer says ..."). */
static ssize_t stream_failed(struct source *s, unsigned code, int err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static ssize_t stream_failed(struct source *s, unsigned code, int err, const char *fmt, ...)
{
	struct framed_src *f = s->priv;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(f->why, sizeof(f->why), fmt, ap);
	va_end(ap);
	f->code = code;
	snprintf(f->msg, sizeof(f->msg), "%s: %s", frame_code_name(code), f->why);
	s->why = f->msg;
	return -err;
}

/* The trailer against what came.  0 (the end), or -EIO. */
static ssize_t check_trailer(struct source *s)
{
	struct framed_src *f = s->priv;
	uint64_t len;
	uint8_t want[32];
	const char *why;
	char got[DIGEST_HEX_LEN + 1], said[DIGEST_HEX_LEN + 1];

	if (f->ntail < FRAME_TRAILER_LEN || frame_trailer_parse(f->tail, &len, want, &why) < 0)
		return stream_failed(s, FRAME_TRUNCATED, EIO,
				     "the sender closed after %llu bytes without the "
				     "stream's trailer",
				     (unsigned long long)(f->bytes + f->ntail));
	digest_final(&f->dg);
	memcpy(f->sha, f->dg.raw, 32);
	f->ended = 1;
	digest_to_hex(f->sha, got);
	if (len != f->bytes)
		return stream_failed(s, FRAME_MISMATCH, EIO,
				     "the trailer says %llu bytes, %llu came",
				     (unsigned long long)len, (unsigned long long)f->bytes);
	if (memcmp(want, f->sha, 32))
		return stream_failed(s, FRAME_MISMATCH, EIO,
				     "the stream's SHA-256 is %s, the sender's "
				     "trailer says %s",
				     got, digest_to_hex(want, said));
	if (f->h.has_expect && memcmp(f->h.expect, f->sha, 32))
		return stream_failed(s, FRAME_MISMATCH, EIO,
				     "the stream's SHA-256 is %s, the sender's "
				     "--expect-digest says %s",
				     got, digest_to_hex(f->h.expect, said));
	s->sha256 = f->sha; /* a relay's trailers carry it on */
	return 0;
}

/* Whether the bytes held back end the stream: they are its trailer. */
static int trailer_next(const struct framed_src *f)
{
	uint64_t len;
	uint8_t sha[32];
	const char *why;

	return f->ntail == FRAME_TRAILER_LEN && frame_trailer_parse(f->tail, &len, sha, &why) == 0;
}

static void turn_away_fd(int fd, const char *spec, const char *peer, unsigned code,
			 const char *why);
static ssize_t header_on(int fd, uint8_t *buf, size_t *have, struct frame_header *h,
			 uint64_t wait_ms, unsigned *code, const char **why);
static int trusted(const struct frame_header *h, const uint8_t *buf, const struct source_opts *o,
		   unsigned *code, const char **why);

/* The offset the stream has reached here: given out, held back, and what
 * came with the first header and is not read yet. */
static uint64_t reached(const struct framed_src *f)
{
	return f->bytes + f->ntail + (f->nearly - f->early_off);
}

/* Whether the sender on fd closed or reset its side (bytes it sent before
 * may be unread still: the host that resumes sends them again). */
static int hung_up(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLRDHUP };

	return poll(&p, 1, 0) == 1 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR));
}

/* Whether the header on fd may take this stream over (its relay died, or
 * stalls): whole, trusted as any header is, a RESUME of this very stream
 * with nothing after it, and this receiver's sender lost, gone (its end
 * may not have been read yet: the relay's parent can be quicker) or silent
 * (a live one is never replaced).  0, or -1 with *code and *why. */
static int resume_ok(const struct framed_src *f, int fd, unsigned *code, const char **why)
{
	uint8_t *buf = malloc(HEADER_BUF);
	struct frame_header h;
	size_t have = 0;
	int rc = -1;

	*code = FRAME_BAD_HEADER;
	*why = strerror(ENOMEM);
	if (!buf)
		return -1;
	ssize_t got = header_on(fd, buf, &have, &h, RESUME_HEAD_MS, code, why);
	if (got > 0 && trusted(&h, buf, &f->o, code, why) == 0) {
		*code = FRAME_REFUSED;
		if (!h.resume || !h.has_id || memcmp(h.id, f->h.id, FRAME_ID_LEN) ||
		    have != (size_t)got)
			*why = "this receiver takes a stream already, and this is no RESUME of it";
		else if (f->fd >= 0 && now_ms() - f->last_data < RESUME_IDLE_MS && !hung_up(f->fd))
			*why = "this receiver's sender is alive: it sent within the last second";
		else
			rc = 0;
	}
	free(buf);
	return rc;
}

/* 1 when the host on fd took the stream over, 0 when it was turned away. */
static int take_over(struct source *s, struct framed_src *f, int fd, const char *peer)
{
	uint8_t ans[FRAME_RESUME_LEN];
	unsigned code;
	const char *why;
	int rc = resume_ok(f, fd, &code, &why);

	frame_resume_encode(reached(f), ans);
	if (rc < 0 || send(fd, ans, sizeof(ans), MSG_NOSIGNAL) != (ssize_t)sizeof(ans)) {
		turn_away_fd(fd, f->spec, peer, code, rc < 0 ? why : "it left");
		return 0;
	}
	if (f->fd >= 0) {
		epoll_ctl(f->ep, EPOLL_CTL_DEL, f->fd, NULL);
		net_reset_on_close(f->fd);
		close(f->fd);
	}
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };
	fcntl(fd, F_SETFL, O_NONBLOCK);
	net_keepalive(fd);
	epoll_ctl(f->ep, EPOLL_CTL_ADD, fd, &ev);
	f->fd = fd;
	snprintf(f->peer, sizeof(f->peer), "%s", peer);
	f->last_data = now_ms();
	s->lost = 0;
	timerfd_settime(f->tfd, 0, &(struct itimerspec){ 0 }, NULL);
	warnmsg("%s: %s resumed the stream at byte %llu", f->spec, peer,
		(unsigned long long)reached(f));
	return 1;
}

/* A tree's stream, after a read of the connection came to n (-EAGAIN,
 * -errno, or 0 without a trailer): take over from any host that resumes
 * it; a connection that failed makes this receiver an orphan, which waits
 * RESUME_WAIT_MS for one.  Returns what the read is to come to: -EAGAIN
 * (wait: the source's fd is the epoll set), or n once no one resumed. */
static ssize_t tree_wait(struct source *s, ssize_t n)
{
	struct framed_src *f = s->priv;
	uint64_t expired = 0;
	char peer[64];
	int took = 0; /* then n was the old sender's */

	for (int i = 0; i < f->nl; i++) {
		struct sockaddr_storage sa;
		socklen_t len = sizeof(sa);
		int fd;
		while ((fd = accept4(f->lfd[i], (struct sockaddr *)&sa, &len, SOCK_CLOEXEC)) >= 0) {
			net_fmt_addr((struct sockaddr *)&sa, peer, sizeof(peer));
			if (net_allowed((struct sockaddr *)&sa, f->o.allow, f->o.nallow))
				took |= take_over(s, f, fd, peer);
			else
				turn_away_fd(fd, f->spec, peer, FRAME_REFUSED, "not in --allow");
			len = sizeof(sa);
		}
	}
	if (took)
		return -EAGAIN;
	if (f->fd >= 0 && n != -EAGAIN) { /* the sender is lost: wait for another */
		snprintf(f->lost, sizeof(f->lost), "%s: %s after %llu bytes", f->peer,
			 n < 0 ? strerror(-(int)n) : "closed without the trailer",
			 (unsigned long long)reached(f));
		epoll_ctl(f->ep, EPOLL_CTL_DEL, f->fd, NULL);
		close(f->fd);
		f->fd = -1;
		struct itimerspec t = { .it_value = { RESUME_WAIT_MS / 1000, 0 } };
		timerfd_settime(f->tfd, 0, &t, NULL);
		warnmsg("%s: lost the sender (%s); waiting %d s for another host to resume the "
			"stream",
			f->spec, f->lost, RESUME_WAIT_MS / 1000);
		s->lost = 1; /* no child of ours is adopted meanwhile: we are the one cut off */
		return -EAGAIN;
	}
	if (f->fd >= 0 || f->early_off < f->nearly)
		return n == -EAGAIN || f->fd < 0 ? -EAGAIN : n;
	if (read(f->tfd, &expired, sizeof(expired)) == (ssize_t)sizeof(expired) && expired)
		return stream_failed(
			s, FRAME_TRUNCATED, EIO,
			"lost the sender (%s), and no host resumed the stream within %d s", f->lost,
			RESUME_WAIT_MS / 1000);
	return -EAGAIN;
}

/* Up to cap bytes from the connection (or what came with the header). */
static ssize_t take(struct framed_src *f, uint8_t *p, size_t cap)
{
	if (f->early_off < f->nearly) {
		size_t n = MIN(cap, f->nearly - f->early_off);
		memcpy(p, f->early + f->early_off, n);
		f->early_off += n;
		return (ssize_t)n;
	}
	for (;;) {
		ssize_t n = recv(f->fd, p, cap, 0);
		if (n > 0 && f->ep >= 0)
			f->last_data = now_ms();
		if (n >= 0 || errno != EINTR)
			return n < 0 ? -errno : n;
	}
}

static ssize_t frame_read(struct source *s, void *buf, size_t len)
{
	struct framed_src *f = s->priv;
	uint8_t tmp[SMALL_READ], *dst = len > FRAME_TRAILER_LEN ? buf : tmp;
	size_t cap = dst == tmp ? sizeof(tmp) : len;

	if (f->pend_off < f->npend) {
		size_t n = MIN(len, f->npend - f->pend_off);
		memcpy(buf, f->pend + f->pend_off, n);
		f->pend_off += n;
		return (ssize_t)n;
	}
	for (;;) {
		/* The bytes held back come first, then what arrives. */
		memcpy(dst, f->tail, f->ntail);
		ssize_t n = f->fd >= 0 || f->early_off < f->nearly
			? take(f, dst + f->ntail, cap - f->ntail)
			: -EAGAIN;
		if (f->ep >= 0 && (n == -EAGAIN || n < 0 || (n == 0 && !trailer_next(f))))
			n = tree_wait(s, n);
		if (n == -EAGAIN)
			return -EAGAIN;
		if (n < 0)
			return stream_failed(s, FRAME_TRUNCATED, -(int)n,
					     "the connection failed after %llu bytes: %s",
					     (unsigned long long)(f->bytes + f->ntail),
					     strerror(-(int)n));
		if (n == 0)
			return check_trailer(s);
		size_t total = f->ntail + (size_t)n, keep = MIN(total, FRAME_TRAILER_LEN);
		size_t out = total - keep;
		memcpy(f->tail, dst + out, keep);
		f->ntail = keep;
		if (!out)
			continue;
		digest_update(&f->dg, dst, out);
		f->bytes += out;
		if (dst == buf)
			return (ssize_t)out;
		size_t give = MIN(out, len);
		memcpy(buf, tmp, give);
		memcpy(f->pend, tmp + give, out - give);
		f->npend = out - give;
		f->pend_off = 0;
		return (ssize_t)give;
	}
}

/* All len bytes at buf on the non-blocking socket fd, within
 * ANSWER_WAIT_MS.  0, or -errno. */
static int send_all(int fd, const uint8_t *buf, size_t len)
{
	uint64_t deadline = now_ms() + ANSWER_WAIT_MS;

	while (len > 0) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n > 0) {
			buf += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return -errno;
		struct pollfd p = { .fd = fd, .events = POLLOUT };
		uint64_t now = now_ms();
		if (now >= deadline || poll(&p, 1, (int)(deadline - now)) == 0)
			return -ETIMEDOUT;
	}
	return 0;
}

/* The run is over: tell the sender (failed: why an output failed, or NULL
 * when every one has the stream; hosts: the verdicts of the nhosts this
 * receiver relayed to), then close. */
static void frame_answer(struct source *s, const char *failed, const struct frame_host *hosts,
			 size_t nhosts)
{
	struct framed_src *f = s->priv;

	if (!f || f->fd < 0)
		return;
	struct frame_verdict v = {
		.code = f->code, .bytes = f->bytes, .hosts = hosts, .nhosts = nhosts
	};
	if (f->code == FRAME_VERIFIED && !f->ended) { /* the run stopped before the end */
		snprintf(f->why, sizeof(f->why), "the receiver stopped before the end%s%s",
			 failed ? ": " : "", failed ? failed : "");
		v.code = FRAME_TRUNCATED;
	} else if (f->code == FRAME_VERIFIED && failed)
		v.code = FRAME_OUTPUT_FAILED;
	if (f->ended)
		memcpy(v.sha256, f->sha, 32);
	snprintf(v.reason, sizeof(v.reason), "%s",
		 v.code == FRAME_OUTPUT_FAILED && failed ? failed : f->why);
	size_t size = frame_verdict_size(&v);
	uint8_t *buf = malloc(size);
	ssize_t n = buf ? frame_verdict_encode(&v, buf, size) : -ENOMEM;
	if (n > 0 && send_all(f->fd, buf, (size_t)n) == 0)
		shutdown(f->fd, SHUT_WR);
	free(buf);
	if (v.code != FRAME_VERIFIED)
		net_reset_on_close(f->fd);
	close(f->fd);
	f->fd = -1;
}

static void frame_close(struct source *s)
{
	struct framed_src *f = s->priv;

	if (!f)
		return;
	if (f->fd >= 0) /* the verdict was not sent: the run never got that far */
		frame_answer(s, "the receiver failed", NULL, 0);
	digest_free(&f->dg);
	free(f->early);
	free(f->plan);
	for (int i = 0; i < f->nl; i++)
		close(f->lfd[i]);
	if (f->ep >= 0)
		close(f->ep);
	if (f->tfd >= 0)
		close(f->tfd);
	free(f);
	s->priv = NULL;
}

/* The pump closes a source when the stream ends; the verdict comes later,
 * so the connection stays open until frame_answer or frame_close. */
static void frame_stop(struct source *s)
{
	(void)s;
}

static int frame_ask(struct source *s, const char *host, uint64_t offset)
{
	struct framed_src *f = s->priv;
	uint8_t buf[FRAME_ASK_MAX];
	ssize_t n = frame_ask_encode(offset, host, buf);

	if (!f || f->fd < 0 || s->lost)
		return -ENOTCONN;
	return n < 0 ? (int)n : send_all(f->fd, buf, (size_t)n);
}

static const struct source_ops frame_ops = {
	.read = frame_read,
	.close = frame_stop,
	.answer = frame_answer,
	.ask = frame_ask,
	.free = frame_close,
};

/* Wait for fd to be readable until deadline (now_ms()).  0, or -errno
 * (-ETIMEDOUT). */
static int wait_input(int fd, uint64_t deadline)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	uint64_t now = now_ms();

	if (now >= deadline)
		return -ETIMEDOUT;
	int n = poll(&p, 1, (int)(deadline - now));
	return n < 0 ? (errno == EINTR ? 0 : -errno) : n == 0 ? -ETIMEDOUT : 0;
}

/* Read the header of the sender on f->fd.  0, or -1 with *code and *why. */
/* Read a header from fd into buf (HEADER_BUF bytes; *have of them read,
 * the stream's first bytes perhaps among them) within wait_ms: its length,
 * or -1 with *code and *why. */
static ssize_t header_on(int fd, uint8_t *buf, size_t *have, struct frame_header *h,
			 uint64_t wait_ms, unsigned *code, const char **why)
{
	uint64_t deadline = now_ms() + wait_ms;

	*code = FRAME_BAD_HEADER;
	for (;;) {
		ssize_t got = frame_header_parse(buf, *have, h, code, why);
		if (got != 0)
			return got;
		int rc = wait_input(fd, deadline);
		ssize_t n = rc < 0 ? rc : recv(fd, buf + *have, HEADER_BUF - *have, 0);
		if (n == -ETIMEDOUT) {
			*why = "no whole header in time";
			return -1;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			*why = n == 0 ? "the sender closed before its header ended"
				      : "the connection failed before its header ended";
			return -1;
		}
		*have += (size_t)n;
	}
}

static int read_header(struct framed_src *f, unsigned *code, const char **why)
{
	size_t have = 0;

	if (!(f->early = malloc(HEADER_BUF))) {
		*code = FRAME_BAD_HEADER;
		*why = strerror(ENOMEM);
		return -1;
	}
	ssize_t got = header_on(f->fd, f->early, &have, &f->h, HEADER_WAIT_MS, code, why);
	if (got < 0)
		return -1;
	f->early_off = (size_t)got;
	f->nearly = have;
	return 0;
}

/* Whom this receiver takes a header from: with --key-file, only a header
 * signed with that key; a plan to relay (a tree) only when it is signed or
 * the sender is in --allow (it got past the accept), so that no stranger
 * makes it connect anywhere.  0, or -1 with *code and *why. */
static int trusted(const struct frame_header *h, const uint8_t *buf, const struct source_opts *o,
		   unsigned *code, const char **why)
{
	uint8_t mac[FRAME_MAC_LEN];

	*code = FRAME_REFUSED;
	if (o->key && !h->has_mac) {
		*why = "the header is not signed, and this receiver takes only headers signed "
		       "with its --key-file";
		return -1;
	}
	if (o->key) {
		digest_hmac(o->key, o->keylen, buf, h->mac_off, mac);
		if (digest_equal(mac, buf + h->mac_off, sizeof(mac)))
			return 0;
		*why = "the header's MAC does not match this receiver's --key-file (signed with "
		       "another key)";
		return -1;
	}
	if (h->plan && !o->nallow) {
		*why = "a plan to relay the stream, and this receiver has no --key-file or "
		       "--allow to trust it by: it relays for no stranger";
		return -1;
	}
	return 0;
}

/* Keep the header's plan, which points into the buffer read. */
static int keep_plan(struct framed_src *f, struct source *s)
{
	size_t n;
	const char *why;

	if (!f->h.plan)
		return 0;
	if (!(f->plan = malloc(f->h.plan_len)))
		return -ENOMEM;
	memcpy(f->plan, f->h.plan, f->h.plan_len);
	frame_plan_parse(f->plan, f->h.plan_len, &s->plan_k, &n, &why); /* checked by the parse */
	s->plan = f->plan;
	s->plan_len = f->h.plan_len;
	return 0;
}

/* A connection whose header is not taken: its verdict, a reset, and the
 * receiver waits for the next. */
static void turn_away_fd(int fd, const char *spec, const char *peer, unsigned code, const char *why)
{
	struct frame_verdict v = { .code = code };
	uint8_t buf[FRAME_VERDICT_MAX];

	errmsg("%s: %s: %s: %s; waiting for the next sender", spec, peer, frame_code_name(code),
	       why);
	snprintf(v.reason, sizeof(v.reason), "%s", why);
	ssize_t n = frame_verdict_encode(&v, buf, sizeof(buf));
	if (n > 0)
		send(fd, buf, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
	net_reset_on_close(fd);
	close(fd);
}

static void turn_away(struct framed_src *f, const char *spec, unsigned code, const char *why)
{
	turn_away_fd(f->fd, spec, f->peer, code, why);
	f->fd = -1;
	free(f->early);
	f->early = NULL;
	f->nearly = f->early_off = 0;
}

/* A tree's stream: keep the n listeners, and watch them, the connection
 * and an orphan's deadline in one epoll set, the source's fd.  0 or -errno. */
static int tree_set(struct framed_src *f, const int *fds, int n)
{
	struct epoll_event ev = { .events = EPOLLIN };

	f->last_data = now_ms();
	f->ep = epoll_create1(EPOLL_CLOEXEC);
	f->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	for (int i = 0; i < n; i++) {
		f->lfd[f->nl++] = fds[i];
		fcntl(fds[i], F_SETFL, O_NONBLOCK);
	}
	if (f->ep < 0 || f->tfd < 0)
		return -errno;
	int rc = epoll_ctl(f->ep, EPOLL_CTL_ADD, f->fd, &ev) |
		epoll_ctl(f->ep, EPOLL_CTL_ADD, f->tfd, &ev);
	for (int i = 0; i < n; i++)
		rc |= epoll_ctl(f->ep, EPOLL_CTL_ADD, fds[i], &ev);
	return rc < 0 ? -errno : 0;
}

/* The first sender's header was a RESUME (its relay died before it reached
 * this receiver): it goes on from byte 0. */
static int answer_resume(struct framed_src *f)
{
	uint8_t ans[FRAME_RESUME_LEN];

	frame_resume_encode(0, ans);
	return send(f->fd, ans, sizeof(ans), MSG_NOSIGNAL) == (ssize_t)sizeof(ans) ? 0 : -EPIPE;
}

int src_frame_listen_open(struct source *s, const char *spec, const struct source_opts *o,
			  const char **why)
{
	struct dest_spec l;
	int fds[MAX_LISTENERS], rc = 0;
	struct framed_src *f = calloc(1, sizeof(*f));

	*s = (struct source){ .ops = &frame_ops, .fd = -1, .size = -1, .desc = spec, .priv = f };
	if (!f)
		return -ENOMEM;
	f->fd = f->ep = f->tfd = -1;
	if (parse_addr(spec, ADDR_FRAMED_LISTEN_SOURCE, &l, why) < 0) {
		frame_close(s);
		return -EINVAL;
	}
	int n = net_listen_all(l.host, l.port, o->family, fds, MAX_LISTENERS, " for the sender",
			       why);
	free(l.host);
	free(l.text);
	if (n < 0) {
		frame_close(s);
		return -EADDRNOTAVAIL; /* *why says why */
	}
	/* Start-up leaves SIGINT and SIGTERM their default action (main()). */
	unsigned code;
	const char *bad;
	while ((f->fd = src_tcp_accept(fds, n, o, spec, f->peer, sizeof(f->peer))) >= 0 &&
	       (read_header(f, &code, &bad) < 0 || trusted(&f->h, f->early, o, &code, &bad) < 0))
		turn_away(f, spec, code, bad);
	rc = f->fd < 0 ? f->fd : 0;
	f->spec = spec;
	f->o = *o;
	if (rc == 0 && (rc = digest_open(&f->dg, why)) == 0)
		rc = fcntl(f->fd, F_SETFL, O_NONBLOCK) < 0 ? -errno : 0;
	if (rc == 0)
		rc = keep_plan(f, s);
	if (rc == 0 && f->h.has_id)
		rc = tree_set(f, fds, n);
	else
		for (int i = 0; i < n; i++)
			close(fds[i]);
	if (rc == 0 && f->h.resume) /* a host that took over before this one began */
		rc = answer_resume(f);
	if (rc < 0) {
		frame_close(s);
		return rc;
	}
	s->fd = f->ep >= 0 ? f->ep : f->fd;
	net_keepalive(f->fd); /* a sender whose host died is found out (net.h) */
	s->stream_id = f->h.has_id ? f->h.id : NULL;
	s->name = *f->h.name ? f->h.name : NULL;
	s->size = f->h.has_size && f->h.size <= INT64_MAX ? (off_t)f->h.size : -1;
	char b[32] = "size unknown";
	if (f->h.has_size)
		fmt_bytes(f->h.size, b, sizeof(b));
	info("%s: stream '%s' (%s) from %s", spec, *f->h.name ? f->h.name : "-", b, f->peer);
	return 0;
}
