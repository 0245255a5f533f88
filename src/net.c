#include "net.h"
#include "util.h"

#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <linux/sockios.h>
#include <unistd.h>

int net_resolve(const char *host, const char *port, int family, struct addrinfo **out)
{
	struct addrinfo hints = {
		.ai_family = family,
		.ai_socktype = SOCK_STREAM,
		.ai_protocol = IPPROTO_TCP,
		.ai_flags = AI_NUMERICSERV | AI_NUMERICHOST,
	};
	/* An address needs no lookup, and AI_ADDRCONFIG would cost a netlink
	 * socket per call (thousands of destinations). */
	int rc = getaddrinfo(host, port, &hints, out);

	if (rc == 0)
		return 0;
	hints.ai_flags = AI_NUMERICSERV | AI_ADDRCONFIG;
	rc = getaddrinfo(host, port, &hints, out);
	if (rc == EAI_NONAME || rc == EAI_ADDRFAMILY || rc == EAI_NODATA) {
		/* AI_ADDRCONFIG hides ::1 on a host whose only IPv6 address is
		 * loopback; ask once more without it. */
		hints.ai_flags = AI_NUMERICSERV;
		rc = getaddrinfo(host, port, &hints, out);
	}
	return rc;
}

const char *net_resolve_why(int rc, const char *host, int family, char *buf, size_t len)
{
	int e = errno; /* for EAI_SYSTEM, before the lookups below */
	int v = family == AF_INET ? 4 : 6;
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST }, *res;
	const char *gai = rc == EAI_SYSTEM ? strerror(e) : gai_strerror(rc);

	if (!host) {
		snprintf(buf, len, "%s", gai);
		return buf;
	}
	/* With -4 or -6: of the other family?  An address, or a name that has
	 * addresses of that family only. */
	if (family != AF_UNSPEC && rc != EAI_SYSTEM && rc != EAI_AGAIN && rc != EAI_MEMORY) {
		if (getaddrinfo(host, NULL, &hints, &res) == 0) {
			freeaddrinfo(res);
			snprintf(buf, len, "not an IPv%d address, and -%d is given", v, v);
			return buf;
		}
		hints.ai_flags = 0;
		if (getaddrinfo(host, NULL, &hints, &res) == 0) {
			freeaddrinfo(res);
			snprintf(buf, len, "%s has no IPv%d address, and -%d is given", host, v, v);
			return buf;
		}
	}
	snprintf(buf, len, "cannot resolve %s: %s", host, gai);
	return buf;
}

int net_connect_nb(const struct addrinfo *ai)
{
	int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
			ai->ai_protocol);

	if (fd < 0)
		return -errno;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS) {
		int e = errno;
		close(fd);
		return -e;
	}
	return fd;
}

int net_listen(const struct addrinfo *ai, int v6only)
{
	int one = 1, fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ai->ai_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, SOMAXCONN) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	return fd;
}

static void set_port(struct sockaddr *sa, int from_fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	getsockname(from_fd, (struct sockaddr *)&ss, &len);
	uint16_t p = ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
					      : ((struct sockaddr_in *)&ss)->sin_port;
	if (sa->sa_family == AF_INET6)
		((struct sockaddr_in6 *)sa)->sin6_port = p;
	else
		((struct sockaddr_in *)sa)->sin_port = p;
}

int net_listen_all(const char *host, const char *port, int family, int *fds, size_t max,
		   const char *note, const char **why)
{
	static _Thread_local char reason[200];
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE | AI_NUMERICSERV,
				  .ai_family = family };
	struct addrinfo *res = NULL;
	char addr[80], asked[80] = "";
	size_t n = 0;
	int rc = getaddrinfo(host, port, &hints, &res);

	*why = reason;
	if (rc != 0) {
		net_resolve_why(rc, host, family, reason, sizeof(reason));
		return -1;
	}
	if (host) /* as net_fmt_addr would write it */
		snprintf(asked, sizeof(asked), strchr(host, ':') ? "[%s]:%s" : "%s:%s", host, port);
	/* Without a host, AI_PASSIVE gives 0.0.0.0 and ::; the IPv6 one alone,
	 * dual-stack (unless -6), covers both. */
	int wildcard = host == NULL, have6 = 0;
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next)
		have6 |= ai->ai_family == AF_INET6;
	for (struct addrinfo *ai = res; ai && n < max; ai = ai->ai_next) {
		if (wildcard && have6 && ai->ai_family != AF_INET6)
			continue;
		if (n > 0)
			set_port(ai->ai_addr, fds[0]);
		/* An IPv4-mapped address (::ffff:a.b.c.d) is IPv4 reached
		 * through an IPv6 socket: binding it needs a dual-stack one. */
		int mapped = ai->ai_family == AF_INET6 &&
			IN6_IS_ADDR_V4MAPPED(&((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr);
		int fd = net_listen(ai, wildcard ? family == AF_INET6 : !mapped);
		if (fd < 0) {
			/* The address only when it is not what was asked for
			 * (a name, or PORT alone): the caller names the rest. */
			if (strcmp(net_fmt_addr(ai->ai_addr, addr, sizeof(addr)), asked))
				snprintf(reason, sizeof(reason), "%s: %s", addr, strerror(-fd));
			else
				snprintf(reason, sizeof(reason), "%s", strerror(-fd));
			while (n > 0)
				close(fds[--n]);
			freeaddrinfo(res);
			return -1;
		}
		fds[n++] = fd;
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		getsockname(fd, (struct sockaddr *)&ss, &len);
		notice("listening on %s%s",
		       net_fmt_addr((struct sockaddr *)&ss, addr, sizeof(addr)), note);
	}
	freeaddrinfo(res);
	return (int)n;
}

int net_sock_error(int fd)
{
	int e = 0;
	socklen_t len = sizeof(e);

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len) < 0)
		return errno;
	return e;
}

int net_discard(int fd)
{
	char buf[4096];

	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n > 0)
			continue;
		if (n == 0)
			return 0;
		if (errno == EINTR)
			continue;
		return errno == EAGAIN ? 1 : -errno;
	}
}

int net_allowed(const struct sockaddr *sa, const struct cidr *list, size_t n)
{
	const uint8_t *a;
	int family = sa->sa_family;

	if (n == 0)
		return 1;
	if (family == AF_INET6) {
		const struct in6_addr *v6 = &((const struct sockaddr_in6 *)sa)->sin6_addr;
		a = v6->s6_addr;
		if (IN6_IS_ADDR_V4MAPPED(v6)) {
			family = AF_INET;
			a += 12;
		}
	} else {
		a = (const uint8_t *)&((const struct sockaddr_in *)sa)->sin_addr;
	}
	for (size_t i = 0; i < n; i++) {
		const struct cidr *c = &list[i];
		unsigned whole = c->bits / 8, rest = c->bits % 8;

		if (c->family != family || memcmp(a, c->addr, whole))
			continue;
		if (!rest || !((a[whole] ^ c->addr[whole]) & (0xff00 >> rest)))
			return 1;
	}
	return 0;
}

size_t net_fd_room(size_t want)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return SIZE_MAX;
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < rl.rlim_max &&
	    rl.rlim_cur < want + NET_FD_RESERVE) {
		rl.rlim_cur = MIN(rl.rlim_max, (rlim_t)(want + NET_FD_RESERVE));
		setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur == RLIM_INFINITY)
		return SIZE_MAX;
	return rl.rlim_cur > NET_FD_RESERVE ? (size_t)rl.rlim_cur - NET_FD_RESERVE : 0;
}

/* A sysctl of numbers: the i-th, or 0. */
static long sysctl_num(const char *path, int i)
{
	FILE *f = fopen(path, "r");
	long v = 0;

	if (!f)
		return 0;
	for (int k = 0; k <= i && fscanf(f, "%ld", &v) == 1; k++)
		;
	fclose(f);
	return v;
}

int net_sndbuf_for(size_t n)
{
	/* A quarter of the pressure threshold for every sender socket
	 * together (the receivers, on loopback the same kernel, and other
	 * traffic need the rest), but no less than 16 KiB each. */
	long pages = sysctl_num("/proc/sys/net/ipv4/tcp_mem", 1);
	long wmax = sysctl_num("/proc/sys/net/ipv4/tcp_wmem", 2);
	double budget = (double)pages * (double)sysconf(_SC_PAGESIZE) / 4;

	if (!n || pages <= 0 || (double)n * (double)wmax <= budget)
		return 0;
	/* The kernel doubles what is asked for, for its own overhead. */
	return (int)MAX(budget / (double)n / 2, 16384);
}

void net_nodelay(int fd)
{
	int one = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

void net_notsent_lowat(int fd)
{
	int bytes = NET_NOTSENT_LOWAT;

	setsockopt(fd, IPPROTO_TCP, TCP_NOTSENT_LOWAT, &bytes, sizeof(bytes));
}

void net_reset_on_close(int fd)
{
	struct linger rst = { .l_onoff = 1, .l_linger = 0 };

	setsockopt(fd, SOL_SOCKET, SO_LINGER, &rst, sizeof(rst));
}

void net_keepalive(int fd)
{
	int on = 1, idle = 10, intvl = 5, cnt = 3;

	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
}

int net_unacked(int fd)
{
	int n;

	if (ioctl(fd, SIOCOUTQ, &n) < 0)
		return -errno;
	return n;
}

const char *net_fmt_addr(const struct sockaddr *sa, char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN] = "?";

	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)sa;
		inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof(ip));
		snprintf(buf, len, "[%s]:%u", ip, ntohs(s6->sin6_port));
	} else {
		const struct sockaddr_in *s4 = (const void *)sa;
		inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof(ip));
		snprintf(buf, len, "%s:%u", ip, ntohs(s4->sin_port));
	}
	return buf;
}
