/*
 * The reactor: one epoll instance, fd callbacks, a few timers and a hook run
 * before each sleep.  Owners embed struct loop_io / struct loop_timer in their
 * own objects and recover them with container_of, so the loop allocates
 * nothing per fd.
 */
#ifndef RINGCAST_LOOP_H
#define RINGCAST_LOOP_H

#include <stdint.h>

struct loop_io {
	int fd;
	void (*cb)(struct loop_io *io, uint32_t events);
};

struct loop_timer {
	uint64_t when; /* now_ms() deadline */
	void (*cb)(struct loop_timer *t);
	struct loop_timer *next;
	int armed;
};

struct loop;

/* Returns NULL with errno set. */
struct loop *loop_new(void);
void loop_free(struct loop *l);

/* epoll_ctl wrappers: 0 or -errno (-EPERM for files epoll cannot watch). */
int loop_add(struct loop *l, struct loop_io *io, uint32_t events);
int loop_mod(struct loop *l, struct loop_io *io, uint32_t events);
int loop_del(struct loop *l, struct loop_io *io);

void loop_timer_arm(struct loop *l, struct loop_timer *t, uint64_t after_ms);
void loop_timer_cancel(struct loop *l, struct loop_timer *t);

/* Main, once, first: block SIGUSR1 (a status request must not end the
 * process) until a loop watches it.  SIGINT and SIGTERM keep their default
 * action meanwhile, so that a start-up step that waits (a FIFO, a name to
 * resolve, a producer to accept, a blob to load) can always be ended. */
void loop_block_signals(void);
/* Block SIGINT, SIGTERM and SIGUSR1 (before any thread that must not take
 * them starts) and watch them through a signalfd in io (its cb set by the
 * caller).  0 or -errno. */
int loop_add_signals(struct loop *l, struct loop_io *io);

/* Another thread's way to wake this loop: an eventfd in io (closed by the
 * owner), drained when it fires, so that the hook runs.  0 or -errno. */
int loop_add_waker(struct loop *l, struct loop_io *io);
/* Wake the loop whose waker's fd is fd; safe from any thread. */
void loop_wake(int fd);

/* hook(arg) runs before every wait; when it returns non-zero there is more
 * work ready, so the wait does not block. */
void loop_set_hook(struct loop *l, int (*hook)(void *arg), void *arg);

/* Dispatch until loop_stop(); returns 0, or -errno if epoll_wait failed. */
int loop_run(struct loop *l);
void loop_stop(struct loop *l);
/* One pass of loop_run: the hook, a wait of at most max_ms, then the
 * callbacks of what came and of the timers that are due, and nothing after
 * them, so a caller may test at once what they changed; 0 or -errno. */
int loop_once(struct loop *l, int max_ms);

#endif
