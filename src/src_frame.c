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
#include "src_frame.h"
#include "parse.h"
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

/* The stream failed: code and why, for the verdict, and the two for the
 * run (s->why: "the trailer says ..."). */
ssize_t fsrc_failed(struct source *s, unsigned code, int err, const char *fmt, ...)
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
		return fsrc_failed(s, FRAME_TRUNCATED, EIO,
				   "the sender closed after %llu bytes without the "
				   "stream's trailer",
				   (unsigned long long)(f->bytes + f->ntail));
	digest_final(&f->dg);
	memcpy(f->sha, f->dg.raw, 32);
	f->ended = 1;
	digest_to_hex(f->sha, got);
	if (len != f->bytes)
		return fsrc_failed(s, FRAME_MISMATCH, EIO, "the trailer says %llu bytes, %llu came",
				   (unsigned long long)len, (unsigned long long)f->bytes);
	if (memcmp(want, f->sha, 32))
		return fsrc_failed(s, FRAME_MISMATCH, EIO,
				   "the stream's SHA-256 is %s, the sender's "
				   "trailer says %s",
				   got, digest_to_hex(want, said));
	if (f->h.has_expect && memcmp(f->h.expect, f->sha, 32))
		return fsrc_failed(s, FRAME_MISMATCH, EIO,
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
			n = fsrc_tree_wait(s, n);
		if (n == -EAGAIN || (n < 0 && f->code != FRAME_VERIFIED)) /* the wait said why */
			return n;
		if (n < 0)
			return fsrc_failed(s, FRAME_TRUNCATED, -(int)n,
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
int fsrc_send_all(int fd, const uint8_t *buf, size_t len)
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
	if (n > 0 && fsrc_send_all(f->fd, buf, (size_t)n) == 0)
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

static const struct source_ops frame_ops = {
	.read = frame_read,
	.close = frame_stop,
	.answer = frame_answer,
	.ask = fsrc_ask,
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
ssize_t fsrc_header_on(int fd, uint8_t *buf, size_t *have, struct frame_header *h, uint64_t wait_ms,
		       unsigned *code, const char **why)
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
	ssize_t got = fsrc_header_on(f->fd, f->early, &have, &f->h, HEADER_WAIT_MS, code, why);
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
int fsrc_trusted(const struct frame_header *h, const uint8_t *buf, const struct source_opts *o,
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
void fsrc_turn_away_fd(int fd, const char *spec, const char *peer, unsigned code, const char *why)
{
	struct frame_verdict v = { .code = code };
	uint8_t buf[FRAME_VERDICT_MAX];

	errmsg("%s: %s: %s: %s; waiting for the next sender", spec, peer, frame_code_name(code),
	       why);
	snprintf(v.reason, sizeof(v.reason), "%s", why);
	ssize_t n = frame_verdict_encode(&v, buf, sizeof(buf));
	if (n > 0)
		send(fd, buf, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
	/* Busy is answered before a byte is read: a reset could reach the
	 * peer before its connect() returns, and the verdict with it; a FIN
	 * does not (what it sends after is reset by the kernel). */
	if (code == FRAME_BUSY)
		shutdown(fd, SHUT_WR);
	else
		net_reset_on_close(fd);
	close(fd);
}

static void turn_away(struct framed_src *f, const char *spec, unsigned code, const char *why)
{
	fsrc_turn_away_fd(f->fd, spec, f->peer, code, why);
	f->fd = -1;
	free(f->early);
	f->early = NULL;
	f->nearly = f->early_off = 0;
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
	       (read_header(f, &code, &bad) < 0 ||
		fsrc_trusted(&f->h, f->early, o, &code, &bad) < 0))
		turn_away(f, spec, code, bad);
	rc = f->fd < 0 ? f->fd : 0;
	f->spec = spec;
	f->o = *o;
	if (rc == 0 && (rc = digest_open(&f->dg, why)) == 0)
		rc = fcntl(f->fd, F_SETFL, O_NONBLOCK) < 0 ? -errno : 0;
	if (rc == 0)
		rc = keep_plan(f, s);
	if (rc == 0 && f->h.has_id)
		rc = fsrc_tree_set(f, fds, n);
	else
		for (int i = 0; i < n; i++)
			close(fds[i]);
	if (rc == 0 && f->h.resume) /* a host that took over before this one began */
		rc = fsrc_answer_resume(f);
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
