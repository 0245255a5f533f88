/* A tree's receiver (src_frame.h): a host that takes the stream over from
 * a relay that died or stalls (RESUME), the orphan's bounded wait for one,
 * and the asks this receiver sends up to its sender. */
#include "src_frame.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#define RESUME_WAIT_MS 30000 /* an orphan waits this long for a host to resume it */
#define RESUME_HEAD_MS 2000  /* for the header of one that does */
#define RESUME_IDLE_MS 1000  /* a sender this long silent may be replaced */

/* Whether the sender on fd closed or reset its side (bytes it sent before
 * may be unread still: the host that resumes sends them again). */
static int hung_up(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLRDHUP };

	return poll(&p, 1, 0) == 1 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR));
}

/* Whether the header on fd may take this stream over (its relay died, or
 * stalls): whole, fsrc_trusted as any header is, a RESUME of this very stream
 * with nothing after it, and this receiver's sender lost, gone (its end
 * may not have been read yet: the relay's parent can be quicker) or silent
 * (a live one is never replaced).  0, or -1 with *code and *why. */
static int resume_ok(const struct framed_src *f, int fd, unsigned *code, const char **why)
{
	uint8_t *buf;
	struct frame_header h;
	size_t have = 0;
	int rc = -1;

	*code = FRAME_BUSY;
	*why = "this receiver's sender is alive: it sent within the last second";
	/* Not a byte read, so that no stranger's idle connection holds up a
	 * live stream. */
	if (f->fd >= 0 && now_ms() - f->last_data < RESUME_IDLE_MS && !hung_up(f->fd))
		return -1;
	*code = FRAME_BAD_HEADER;
	*why = strerror(ENOMEM);
	if (!(buf = malloc(HEADER_BUF)))
		return -1;
	ssize_t got = fsrc_header_on(fd, buf, &have, &h, RESUME_HEAD_MS, code, why);
	if (got > 0 && fsrc_trusted(&h, buf, &f->o, code, why) == 0) {
		*code = FRAME_REFUSED;
		if (!h.resume || !h.has_id || memcmp(h.id, f->h.id, FRAME_ID_LEN) ||
		    have != (size_t)got)
			*why = "this receiver takes a stream already, and this is no RESUME of it";
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

	frame_resume_encode(fsrc_reached(f), ans);
	if (rc < 0 || send(fd, ans, sizeof(ans), MSG_NOSIGNAL) != (ssize_t)sizeof(ans)) {
		fsrc_turn_away_fd(fd, f->spec, peer, code, rc < 0 ? why : "it left");
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
		(unsigned long long)fsrc_reached(f));
	return 1;
}

/* A tree's stream, after a read of the connection came to n (-EAGAIN,
 * -errno, or 0 without a trailer): take over from any host that resumes
 * it; a connection that failed makes this receiver an orphan, which waits
 * RESUME_WAIT_MS for one.  Returns what the read is to come to: -EAGAIN
 * (wait: the source's fd is the epoll set), or n once no one resumed. */
ssize_t fsrc_tree_wait(struct source *s, ssize_t n)
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
				fsrc_turn_away_fd(fd, f->spec, peer, FRAME_REFUSED,
						  "not in --allow");
			len = sizeof(sa);
		}
	}
	if (took)
		return -EAGAIN;
	if (f->fd >= 0 && n != -EAGAIN) { /* the sender is lost: wait for another */
		snprintf(f->lost, sizeof(f->lost), "%s: %s after %llu bytes", f->peer,
			 n < 0 ? strerror(-(int)n) : "closed without the trailer",
			 (unsigned long long)fsrc_reached(f));
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
		return fsrc_failed(
			s, FRAME_TRUNCATED, EIO,
			"lost the sender (%s), and no host resumed the stream within %d s", f->lost,
			RESUME_WAIT_MS / 1000);
	return -EAGAIN;
}

/* A tree's stream: keep the n listeners, and watch them, the connection
 * and an orphan's deadline in one epoll set, the source's fd.  0 or -errno. */
int fsrc_tree_set(struct framed_src *f, const int *fds, int n)
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

/* The first sender's header was a RESUME (its relay died before it fsrc_reached
 * this receiver): it goes on from byte 0. */
int fsrc_answer_resume(struct framed_src *f)
{
	uint8_t ans[FRAME_RESUME_LEN];

	frame_resume_encode(0, ans);
	return send(f->fd, ans, sizeof(ans), MSG_NOSIGNAL) == (ssize_t)sizeof(ans) ? 0 : -EPIPE;
}

int fsrc_ask(struct source *s, const char *host, uint64_t offset)
{
	struct framed_src *f = s->priv;
	uint8_t buf[FRAME_ASK_MAX];
	ssize_t n = frame_ask_encode(offset, host, buf);

	if (!f || f->fd < 0 || s->lost)
		return -ENOTCONN;
	return n < 0 ? (int)n : fsrc_send_all(f->fd, buf, (size_t)n);
}
