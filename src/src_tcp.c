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

int src_tcp_listen_open(struct source *s, const char *spec, int family, const char **why)
{
	struct dest_spec l;
	int fds[MAX_LISTENERS];

	*s = (struct source){ .ops = &src_fd_ops, .fd = -1, .size = -1, .desc = spec };
	if (parse_addr(spec, ADDR_TCP_LISTEN_SOURCE, &l, why) < 0)
		return -EINVAL;
	int n = net_listen_all(l.host, l.port, family, fds, MAX_LISTENERS, " for the source", why);
	free(l.host);
	free(l.text);
	if (n < 0)
		return -EADDRNOTAVAIL; /* *why says why */
	/* Wait for the producer.  Start-up leaves SIGINT and SIGTERM their
	 * default action (ending the process, nothing sent yet): see main(). */
	struct pollfd pfd[MAX_LISTENERS];
	for (int i = 0; i < n; i++)
		pfd[i] = (struct pollfd){ .fd = fds[i], .events = POLLIN };
	int fd = -1, e = 0;
	while (fd < 0 && !e) {
		if (poll(pfd, (nfds_t)n, -1) < 0 && errno != EINTR) {
			e = errno;
			break;
		}
		for (int i = 0; i < n && fd < 0; i++)
			if (pfd[i].revents)
				fd = accept4(fds[i], NULL, NULL, SOCK_CLOEXEC);
	}
	for (int i = 0; i < n; i++)
		close(fds[i]);
	if (fd < 0)
		return -(e ? e : errno);
	s->fd = fd;
	return 0;
}
