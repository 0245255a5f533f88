/* Socket helpers.  They return -1 with errno (or -errno); only
 * net_listen_all prints, and only where it listens. */
#ifndef RINGCAST_NET_H
#define RINGCAST_NET_H

#include <netdb.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* An address block for --allow: family AF_INET or AF_INET6, the first bits
 * of addr (network byte order) must match. */
struct cidr {
	int family;
	unsigned bits;
	uint8_t addr[16];
};

/* Whether peer sa lies in one of the n blocks (every peer does when n is 0).
 * An IPv4 peer on a dual-stack socket (::ffff:a.b.c.d) is matched as IPv4. */
int net_allowed(const struct sockaddr *sa, const struct cidr *list, size_t n);

/* getaddrinfo for a TCP peer; returns 0 or a getaddrinfo error (gai_strerror). */
int net_resolve(const char *host, const char *port, int family, struct addrinfo **out);

/* Why host did not resolve, getaddrinfo having said rc (at once: errno is
 * read for EAI_SYSTEM), into buf: "cannot resolve HOST: REASON", or with -4
 * or -6 (family AF_INET or AF_INET6) and host of the other family, "not an
 * IPv6 address, and -6 is given" or "HOST has no IPv6 address, and -6 is
 * given".  Returns buf. */
const char *net_resolve_why(int rc, const char *host, int family, char *buf, size_t len);

/* Non-blocking socket + connect to ai.  Returns the fd (connect may still be
 * in progress) or -errno. */
int net_connect_nb(const struct addrinfo *ai);

/* A non-blocking listening socket bound to ai (IPv6 sockets accept IPv4
 * too when v6only is 0).  Returns the fd or -errno. */
int net_listen(const struct addrinfo *ai, int v6only);

/* Listen on host:port (host NULL: every address of family, AF_UNSPEC
 * meaning IPv4 and IPv6 as one dual-stack IPv6 socket where IPv6 exists),
 * every resolved address on the same port (port "0": the one the kernel
 * picks for the first).  Fills fds (at most max) and returns how many, or
 * -1 with *why (per-thread, until the next call), to follow the caller's
 * name for the address.  Each address is printed as "listening on ADDRESS"
 * then note, which says what for (" for subscribers"), even with -q: with
 * port 0 that line is the only way a caller learns the port. */
int net_listen_all(const char *host, const char *port, int family, int *fds, size_t max,
		   const char *note, const char **why);

/* The most listening sockets one -l (or tcp-listen:// source) opens: one per
 * address its host resolves to, on the same port. */
#define MAX_LISTENERS 16

/* Descriptors kept for everything but peers (the loop, the ring, io_uring,
 * the source, listeners, stdio). */
#define NET_FD_RESERVE 64

/* Raise the soft RLIMIT_NOFILE toward want + NET_FD_RESERVE, as far as the
 * hard limit allows; returns how many peers now fit (SIZE_MAX: no limit). */
size_t net_fd_room(size_t want);

/* The send buffer each of n sockets may have so that together they stay
 * well inside the kernel's TCP memory (a quarter of tcp_mem's pressure
 * threshold, but at least 16 KiB each), or 0 when the kernel's own sizing
 * fits already. */
int net_sndbuf_for(size_t n);

/* The pending error of a socket (SO_ERROR), 0 if none. */
int net_sock_error(int fd);

/* Read and drop what the peer sent: 0 at its end of stream, 1 when nothing
 * more is there now, -errno on error. */
int net_discard(int fd);

/* Make close() reset the connection (SO_LINGER 0) instead of ending it
 * with FIN, so the peer cannot take what it got for a whole stream. */
void net_reset_on_close(int fd);
/* TCP_NODELAY on fd, for zero-copy sends: the kernel cannot merge them into
 * one segment, so under Nagle each send smaller than the MSS waits for the
 * ACK of the one before, which the receiver may delay by up to 40 ms.
 * Measured on loopback (MSS 64 KiB): 16 MiB through --ring-size 64K with
 * io_uring SEND_ZC took 3.3 s with Nagle, 0.2 s without. */
void net_nodelay(int fd);
/* TCP_NOTSENT_LOWAT (tcp(7)) for a destination's socket: it reports
 * writable, and takes more, only while less than NET_NOTSENT_LOWAT of what
 * it holds is unsent; sent bytes awaiting their ACK do not count, so a long
 * fat path stays full.  A socket that holds megabytes it cannot send yet
 * sends them later, from whichever context takes its ACKs: on loopback, the
 * receiver's.  Measured here, 256 MiB from a file in the page cache to 64
 * loopback receivers: with the kernel's default the receivers took 1.7
 * times the CPU and the run 1.6 times the time of a blocking sendfile()
 * loop; with 64 KiB, 0.85 of its time (32 KiB the same, 128 KiB 1.1, 256
 * KiB 1.2); at 1000 destinations of 16 MiB, 1.43 times a blocking write()
 * loop's time before and 0.98 after.  Best effort: a kernel without it
 * keeps its default. */
#define NET_NOTSENT_LOWAT (64 << 10)
void net_notsent_lowat(int fd);

/* TCP keepalives on fd, so that a peer whose host died while we wait for
 * it to speak (a ringcast receiver syncing its outputs before its verdict)
 * is found out: probes after 10 s of silence, every 5 s, the connection
 * failing (ETIMEDOUT) after 3 unanswered, about 25 s in all.  A live
 * receiver's kernel answers them however long its sync takes (RFC 1122
 * section 4.2.3.6; tcp(7)). */
void net_keepalive(int fd);

/* Bytes not yet acknowledged by the peer (SIOCOUTQ), or -errno. */
int net_unacked(int fd);

/* "127.0.0.1:9000" or "[::1]:9000" into buf. */
const char *net_fmt_addr(const struct sockaddr *sa, char *buf, size_t len);

#endif
