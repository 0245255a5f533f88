#include "listen.h"
#include "parse.h"
#include "util.h"

#include <errno.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

static void set_events(struct listen_set *set, uint32_t events)
{
	for (size_t i = 0; i < set->n; i++)
		loop_mod(set->loop, &set->lis[i].io, events);
}

void listen_pause(struct listen_set *set)
{
	if (set->paused || !set->n)
		return;
	set->paused = 1;
	set_events(set, 0);
}

void listen_resume(struct listen_set *set)
{
	if (!set->paused || !set->n)
		return;
	set->paused = 0;
	if (set->resume.armed)
		loop_timer_cancel(set->loop, &set->resume);
	set_events(set, EPOLLIN);
}

static void on_resume(struct loop_timer *t)
{
	listen_resume(container_of(t, struct listen_set, resume));
}

int listen_exhausted(int err)
{
	return err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM;
}

/* accept() failed with err: pause if the owner says so, and with resume_ms
 * come back by ourselves. */
static void accept_failed(struct listen_set *set, int err)
{
	if (set->ops->failed && !set->ops->failed(set->arg, err))
		return;
	listen_pause(set);
	if (set->resume_ms && set->n) {
		set->resume.cb = on_resume;
		loop_timer_arm(set->loop, &set->resume, set->resume_ms);
	}
}

/* Take every connection waiting on one socket, while the set accepts.  A
 * callback may close the set: its fd is then -1. */
static void on_accept(struct loop_io *io, uint32_t events)
{
	struct listen_set *set = container_of(io, struct listen_sock, io)->set;
	const struct listen_ops *ops = set->ops;

	(void)events;
	while (io->fd >= 0 && !set->paused) {
		if (ops->room && !ops->room(set->arg)) {
			listen_pause(set);
			return;
		}
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		struct sockaddr *sa = (struct sockaddr *)&ss;
		int fd = accept4(io->fd, sa, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN)
				accept_failed(set, errno);
			return;
		}
		if (!net_allowed(sa, set->allow, set->nallow)) {
			net_reset_on_close(fd);
			close(fd);
			if (ops->refused)
				ops->refused(set->arg, sa);
			continue;
		}
		ops->conn(set->arg, fd, sa);
	}
}

int listen_open(struct listen_set *set, struct loop *loop, const struct listen_opts *o,
		const struct listen_ops *ops, void *arg, const char **why)
{
	int fds[MAX_LISTENERS];
	int n = net_listen_all(o->at->host, o->at->port, o->family, fds, MAX_LISTENERS, o->what,
			       why);

	*set = (struct listen_set){ .loop = loop,
				    .ops = ops,
				    .arg = arg,
				    .allow = o->allow,
				    .nallow = o->nallow,
				    .resume_ms = o->resume_ms };
	if (n < 0)
		return -1;
	for (int i = 0; i < n; i++) {
		struct listen_sock *l = &set->lis[set->n++];
		l->io.fd = fds[i];
		l->io.cb = on_accept;
		l->set = set;
		loop_add(loop, &l->io, EPOLLIN);
	}
	return 0;
}

void listen_close(struct listen_set *set)
{
	for (size_t i = 0; i < set->n; i++) {
		loop_del(set->loop, &set->lis[i].io);
		close(set->lis[i].io.fd);
		set->lis[i].io.fd = -1;
	}
	set->n = 0;
	if (set->resume.armed)
		loop_timer_cancel(set->loop, &set->resume);
}
