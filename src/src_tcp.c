/*
 * TCP sources.  tcp://HOST:PORT connects (each resolved address in turn) and
 * reads; tcp-listen://[HOST:]PORT listens, prints where, waits for one
 * producer and reads it until it closes.  Either way what remains is a
 * connected socket, read like any descriptor (src_fd_ops).  With these a
 * ringcast's destinations can be other ringcasts: relay trees.
 */
#include "parse.h"
#include "net.h"
#include "src.h"
#include "util.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int src_tcp_open(struct source *s, const char *spec, int family, const char **why)
{
	static char reason[200]; /* start-up runs on one thread */
	struct dest_spec d;
	struct addrinfo *res;
	int fd = -1, e = ECONNREFUSED;

	*s = (struct source){ .ops = &src_fd_ops, .fd = -1, .size = -1, .desc = spec };
	if (parse_addr(spec, ADDR_TCP_SOURCE, &d, why) < 0)
		return -EINVAL;
	int rc = net_resolve(d.host, d.port, family, &res);
	if (rc) {
		*why = net_resolve_why(rc, d.host, family, reason, sizeof(reason));
		free(d.host);
		free(d.text);
		return -EHOSTUNREACH;
	}
	for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
		fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
			e = errno;
			close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(res);
	free(d.host);
	free(d.text);
	if (fd < 0) {
		*why = NULL;
		return -e;
	}
	s->fd = fd;
	return 0;
}

int src_tcp_accept(const int *fds, int n, const struct source_opts *o, const char *spec, char *peer,
		   size_t len)
{
	struct pollfd pfd[MAX_LISTENERS];

	for (int i = 0; i < n; i++)
		pfd[i] = (struct pollfd){ .fd = fds[i], .events = POLLIN };
	for (;;) {
		if (poll(pfd, (nfds_t)n, -1) < 0 && errno != EINTR)
			return -errno;
		for (int i = 0; i < n; i++) {
			struct sockaddr_storage sa;
			socklen_t salen = sizeof(sa);
			int fd = pfd[i].revents
				? accept4(fds[i], (struct sockaddr *)&sa, &salen, SOCK_CLOEXEC)
				: -1;
			if (fd < 0)
				continue;
			net_fmt_addr((struct sockaddr *)&sa, peer, len);
			if (net_allowed((struct sockaddr *)&sa, o->allow, o->nallow))
				return fd;
			warnmsg("%s: refused %s: not in --allow", spec, peer);
			net_reset_on_close(fd);
			close(fd);
		}
	}
}

int src_tcp_listen_open(struct source *s, const char *spec, const struct source_opts *o,
			const char **why)
{
	struct dest_spec l;
	int fds[MAX_LISTENERS];
	char peer[64];

	*s = (struct source){ .ops = &src_fd_ops, .fd = -1, .size = -1, .desc = spec };
	if (parse_addr(spec, ADDR_TCP_LISTEN_SOURCE, &l, why) < 0)
		return -EINVAL;
	int n = net_listen_all(l.host, l.port, o->family, fds, MAX_LISTENERS, " for the source",
			       why);
	free(l.host);
	free(l.text);
	if (n < 0)
		return -EADDRNOTAVAIL; /* *why says why */
	/* Wait for the producer.  Start-up leaves SIGINT and SIGTERM their
	 * default action (ending the process, nothing sent yet): see main(). */
	int fd = src_tcp_accept(fds, n, o, spec, peer, sizeof(peer));
	for (int i = 0; i < n; i++)
		close(fds[i]);
	if (fd < 0)
		return fd;
	s->fd = fd;
	return 0;
}
