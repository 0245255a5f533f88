/* Benchmark receiver: listen on N loopback ports, accept one connection on
 * each, read and discard until EOF, then print each connection's byte count.
 * Usage: sink N PORTFILE.  Ports are written to PORTFILE once all are bound. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

struct conn {
	int lfd, fd;
	unsigned long long bytes;
};

static char buf[1 << 20];

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: sink N PORTFILE\n");
		return 2;
	}
	int n = atoi(argv[1]), open_conns = n, ep = epoll_create1(0);
	struct conn *c = calloc((size_t)n, sizeof(*c));
	char tmp[4096];
	snprintf(tmp, sizeof(tmp), "%s.tmp", argv[2]);
	FILE *pf = fopen(tmp, "w");

	if (!c || !pf || ep < 0)
		return perror("sink"), 1;
	for (int i = 0; i < n; i++) {
		struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
		socklen_t len = sizeof(sa);
		int one = 1;

		c[i].lfd = socket(AF_INET, SOCK_STREAM, 0);
		setsockopt(c[i].lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(c[i].lfd, (void *)&sa, sizeof(sa)) < 0 || listen(c[i].lfd, 1) < 0)
			return perror("sink: bind"), 1;
		getsockname(c[i].lfd, (void *)&sa, &len);
		fprintf(pf, "%u\n", ntohs(sa.sin_port));
		c[i].fd = -1;
		struct epoll_event ev = { .events = EPOLLIN, .data.u32 = (uint32_t)i };
		epoll_ctl(ep, EPOLL_CTL_ADD, c[i].lfd, &ev);
	}
	fclose(pf);
	rename(tmp, argv[2]);
	while (open_conns > 0) {
		struct epoll_event ev[64];
		int k = epoll_wait(ep, ev, 64, 120000);
		if (k <= 0)
			return fprintf(stderr, "sink: timeout\n"), 1;
		for (int j = 0; j < k; j++) {
			struct conn *x = &c[ev[j].data.u32];
			if (x->fd < 0) {
				x->fd = accept(x->lfd, NULL, NULL);
				epoll_ctl(ep, EPOLL_CTL_DEL, x->lfd, NULL);
				close(x->lfd);
				struct epoll_event e2 = { .events = EPOLLIN, .data.u32 = ev[j].data.u32 };
				epoll_ctl(ep, EPOLL_CTL_ADD, x->fd, &e2);
				continue;
			}
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
	for (int i = 0; i < n; i++)
		printf("%llu\n", c[i].bytes);
	return 0;
}
