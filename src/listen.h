/*
 * The listeners of -l, in both modes that have them (subscribers in push
 * mode, clients in serve mode): open them, accept, refuse whom --allow does
 * not name, pause when accept() runs out of descriptors or memory, resume.
 * It prints nothing: each event goes up through struct listen_ops, and the
 * caller says what it means.
 */
#ifndef RINGCAST_LISTEN_H
#define RINGCAST_LISTEN_H

#include "loop.h"
#include "net.h"

#include <stddef.h>
#include <stdint.h>

struct dest_spec;

/* What a listener set reports, each called with the arg given to
 * listen_open, from the loop's thread.  A callback may pause, resume or
 * close the set, but must not free it. */
struct listen_ops {
	/* A new connection from sa, non-blocking and close-on-exec; the
	 * callee owns fd. */
	void (*conn)(void *arg, int fd, const struct sockaddr *sa);
	/* A connection from sa that --allow does not name: it was reset
	 * (net_reset_on_close) and closed.  NULL: not reported. */
	void (*refused)(void *arg, const struct sockaddr *sa);
	/* accept() failed with errno err, not EAGAIN, EINTR or ECONNABORTED
	 * (listen_exhausted tells the errors of running out).  Return 1 to
	 * pause the set (resumed after resume_ms, or by listen_resume), 0 to
	 * leave it as it is until its next event.  NULL: pause. */
	int (*failed)(void *arg, int err);
	/* Asked before each accept(): 0 when there is no room for a
	 * connection now, and the set pauses until listen_resume (the
	 * kernel's backlog holds the rest).  NULL: always room. */
	int (*room)(void *arg);
};

struct listen_opts {
	const struct dest_spec *at; /* -l: host (NULL: every address) and port */
	int family;                 /* AF_UNSPEC, AF_INET or AF_INET6 */
	const char *what;           /* the "listening on" line's end: " for subscribers" */
	const struct cidr *allow;   /* --allow: nallow blocks, none: anyone (not copied) */
	size_t nallow;
	/* After failed() paused the set, resume after this many ms; 0: only
	 * listen_resume does. */
	uint64_t resume_ms;
};

struct listen_sock {
	struct loop_io io;
	struct listen_set *set;
};

/* Embedded in its owner; zeroed, it is a closed set that listen_close may
 * be given.  Read n and paused; the rest is the set's own. */
struct listen_set {
	struct listen_sock lis[MAX_LISTENERS];
	size_t n;   /* listening sockets open: 0 after listen_close */
	int paused; /* not accepting: listen_pause, failed() or room() */
	struct loop *loop;
	const struct listen_ops *ops;
	void *arg;
	const struct cidr *allow;
	size_t nallow;
	uint64_t resume_ms;
	struct loop_timer resume;
};

/* Listen where o->at says (net_listen_all, which prints each "listening on"
 * line) and watch every socket in loop, accepting.  0, or -1 with *why
 * (net_listen_all's: per-thread, until its next call) when nothing could
 * listen: the set is then closed. */
int listen_open(struct listen_set *set, struct loop *loop, const struct listen_opts *o,
		const struct listen_ops *ops, void *arg, const char **why);

/* Stop accepting (the kernel's backlog holds new connections) / accept
 * again.  Either is a no-op when the set is already so or closed. */
void listen_pause(struct listen_set *set);
void listen_resume(struct listen_set *set);

/* Close every listening socket (connections waiting in the backlog are
 * reset by the kernel); safe on a closed or zeroed set, and from a
 * callback. */
void listen_close(struct listen_set *set);

/* Whether accept()'s errno err means running out of descriptors or memory
 * (EMFILE, ENFILE, ENOBUFS, ENOMEM), which a pause may outlast. */
int listen_exhausted(int err);

#endif
