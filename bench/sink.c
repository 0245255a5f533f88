/* Benchmark receiver: read and discard until EOF on N loopback connections,
 * then print each connection's byte count.
 * Usage: sink N PORTFILE [one] [stall].  Without "one" it listens on N ports
 * and takes one connection on each; with it, one port takes all N (for
 * thousands of destinations, which would need twice as many descriptors
 * otherwise).  With "stall" the first connection is never read: the sink
 * ends when the others have, and prints "stalled" for it.  The ports are
 * written to PORTFILE once bound. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

struct conn {
	int fd;
	unsigned long long bytes;
};

static char buf[1 << 20];

static int listen_one(FILE *pf, int backlog, int rcvbuf)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	int one = 1, fd = socket(AF_INET, SOCK_STREAM, 0);

	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (rcvbuf) /* accepted sockets inherit it */
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (bind(fd, (void *)&sa, sizeof(sa)) < 0 || listen(fd, backlog) < 0)
		return perror("sink: bind"), -1;
	getsockname(fd, (void *)&sa, &len);
	fprintf(pf, "%u\n", ntohs(sa.sin_port));
	return fd;
}

int main(int argc, char **argv)
{
	int shared = 0, stall = 0;

	for (int i = 3; i < argc; i++) {
		if (!strcmp(argv[i], "one"))
			shared = 1;
		else if (!strcmp(argv[i], "stall"))
			stall = 1;
		else
			argc = 0;
	}
	if (argc < 3) {
		fprintf(stderr, "usage: sink N PORTFILE [one] [stall]\n");
		return 2;
	}
	int n = atoi(argv[1]), nlis = shared ? 1 : n;
	int open_conns = n - stall, accepted = 0, ep = epoll_create1(0);
	struct conn *c = calloc((size_t)n, sizeof(*c));
	int *lfd = calloc((size_t)nlis, sizeof(*lfd));
	struct rlimit rl;
	char tmp[4096];
	snprintf(tmp, sizeof(tmp), "%s.tmp", argv[2]);
	FILE *pf = fopen(tmp, "w");

	if (!c || !lfd || !pf || ep < 0)
		return perror("sink"), 1;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	for (int i = 0; i < nlis; i++) {
		if ((lfd[i] = listen_one(pf, shared ? 4096 : 1, n > 64 ? 64 << 10 : 0)) < 0)
			return 1;
		/* Listeners are n + i in data.u32; connections their index. */
		struct epoll_event ev = { .events = EPOLLIN, .data.u32 = (uint32_t)(n + i) };
		epoll_ctl(ep, EPOLL_CTL_ADD, lfd[i], &ev);
	}
	fclose(pf);
	rename(tmp, argv[2]);
	while (open_conns > 0) {
		struct epoll_event ev[64];
		int k = epoll_wait(ep, ev, 64, 120000);
		if (k <= 0)
			return fprintf(stderr, "sink: timeout\n"), 1;
		for (int j = 0; j < k; j++) {
			uint32_t id = ev[j].data.u32;
			if (id >= (uint32_t)n) {
				int l = lfd[id - (uint32_t)n], fd = accept(l, NULL, NULL);
				if (fd < 0)
					continue;
				struct conn *x = &c[accepted];
				x->fd = fd;
				struct epoll_event e2 = { .events = EPOLLIN,
							  .data.u32 = (uint32_t)accepted };
				if (!(stall && accepted == 0)) /* the stalled one stays unread */
					epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e2);
				accepted++;
				if (!shared || accepted == n) {
					epoll_ctl(ep, EPOLL_CTL_DEL, l, NULL);
					close(l);
				}
				continue;
			}
			struct conn *x = &c[id];
			ssize_t r = read(x->fd, buf, sizeof(buf));
			if (r > 0) {
				x->bytes += (unsigned long long)r;
			} else if (r == 0 || errno != EINTR) {
				epoll_ctl(ep, EPOLL_CTL_DEL, x->fd, NULL);
				close(x->fd);
				open_conns--;
			}
		}
	}
	for (int i = 0; i < n; i++) {
		if (stall && i == 0)
			printf("stalled\n");
		else
			printf("%llu\n", c[i].bytes);
	}
	return 0;
}
