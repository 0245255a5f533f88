#include "loop.h"
#include "util.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

#define LOOP_BATCH 256

struct loop {
	int epfd;
	int stop;
	struct loop_timer *timers; /* unsorted: there are only a handful */
	int (*hook)(void *);
	void *hook_arg;
};

struct loop *loop_new(void)
{
	struct loop *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0) {
		free(l);
		return NULL;
	}
	return l;
}

void loop_free(struct loop *l)
{
	if (!l)
		return;
	close(l->epfd);
	free(l);
}

static int ctl(struct loop *l, int op, struct loop_io *io, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = io };

	return epoll_ctl(l->epfd, op, io->fd, &ev) < 0 ? -errno : 0;
}

int loop_add(struct loop *l, struct loop_io *io, uint32_t events)
{
	return ctl(l, EPOLL_CTL_ADD, io, events);
}

int loop_mod(struct loop *l, struct loop_io *io, uint32_t events)
{
	return ctl(l, EPOLL_CTL_MOD, io, events);
}

int loop_del(struct loop *l, struct loop_io *io)
{
	return ctl(l, EPOLL_CTL_DEL, io, 0);
}

static void loop_signal_set(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGUSR1);
}

void loop_block_signals(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
}

int loop_add_signals(struct loop *l, struct loop_io *io)
{
	sigset_t set;

	/* A signal that comes before this ends the process (nothing was sent
	 * yet); one that comes after waits, pending, for the signalfd. */
	loop_signal_set(&set);
	sigprocmask(SIG_BLOCK, &set, NULL);
	io->fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (io->fd < 0)
		return -errno;
	return loop_add(l, io, EPOLLIN);
}

static void on_waker(struct loop_io *io, uint32_t events)
{
	uint64_t n;

	(void)events;
	while (read(io->fd, &n, sizeof(n)) < 0 && errno == EINTR)
		; /* waking up was the point: the hook runs next */
}

int loop_add_waker(struct loop *l, struct loop_io *io)
{
	io->fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (io->fd < 0)
		return -errno;
	io->cb = on_waker;
	return loop_add(l, io, EPOLLIN);
}

void loop_wake(int fd)
{
	uint64_t one = 1;

	while (write(fd, &one, sizeof(one)) < 0 && errno == EINTR)
		;
}

void loop_timer_arm(struct loop *l, struct loop_timer *t, uint64_t after_ms)
{
	t->when = now_ms() + after_ms;
	if (t->armed)
		return;
	t->armed = 1;
	t->next = l->timers;
	l->timers = t;
}

void loop_timer_cancel(struct loop *l, struct loop_timer *t)
{
	for (struct loop_timer **pp = &l->timers; *pp; pp = &(*pp)->next) {
		if (*pp == t) {
			*pp = t->next;
			t->armed = 0;
			return;
		}
	}
}

void loop_set_hook(struct loop *l, int (*hook)(void *arg), void *arg)
{
	l->hook = hook;
	l->hook_arg = arg;
}

void loop_stop(struct loop *l)
{
	l->stop = 1;
}

/* Run every expired timer; returns how many ran. */
static int run_timers(struct loop *l)
{
	uint64_t now = now_ms();
	struct loop_timer **pp = &l->timers;
	int ran = 0;

	while (*pp) {
		struct loop_timer *t = *pp;

		if (t->when <= now) {
			*pp = t->next;
			t->armed = 0;
			t->cb(t); /* may re-arm itself at the list head */
			ran++;
			pp = &l->timers;
			now = now_ms();
			continue;
		}
		pp = &t->next;
	}
	return ran;
}

/* Milliseconds until the next timer, or -1 if none. */
static int next_timer(struct loop *l)
{
	uint64_t now = now_ms(), next = UINT64_MAX;

	for (struct loop_timer *t = l->timers; t; t = t->next)
		next = MIN(next, t->when);
	if (next == UINT64_MAX)
		return -1;
	return next <= now ? 0 : (int)MIN(next - now, 60000);
}

/* The hook, one wait of at most max_ms (-1: until something happens), the
 * callbacks of what it found, and the timers that are due.  The wait is
 * computed after the hook, which may arm timers of its own.  No callback
 * runs between the last one and the return: a caller of loop_once that
 * waits for what a callback brings (a curl transfer that ends on its timer,
 * with no socket left to wake the next wait) sees it at once. */
static int loop_pass(struct loop *l, int max_ms)
{
	struct epoll_event ev[LOOP_BATCH];

	int more = l->hook && l->hook(l->hook_arg);
	if (l->stop)
		return 0;
	int timeout = more ? 0 : next_timer(l);
	if (max_ms >= 0 && (timeout < 0 || timeout > max_ms))
		timeout = max_ms;
	int n = epoll_wait(l->epfd, ev, LOOP_BATCH, timeout);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	for (int i = 0; i < n && !l->stop; i++) {
		struct loop_io *io = ev[i].data.ptr;

		/* An owner that stops watching mid-batch sets fd to -1 first. */
		if (io->fd >= 0)
			io->cb(io, ev[i].events);
	}
	if (!l->stop)
		run_timers(l);
	return 0;
}

int loop_run(struct loop *l)
{
	while (!l->stop) {
		int rc = loop_pass(l, -1);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int loop_once(struct loop *l, int max_ms)
{
	return loop_pass(l, max_ms);
}
