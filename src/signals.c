#include "signals.h"
#include "util.h"

#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

static void on_grace(struct loop_timer *t)
{
	struct signals *s = container_of(t, struct signals, grace);

	s->ops->stop(s->arg, SIGNALS_GRACE);
}

static void on_signal(struct loop_io *io, uint32_t events)
{
	struct signals *s = container_of(io, struct signals, io);
	struct signalfd_siginfo si;

	(void)events;
	while (read(io->fd, &si, sizeof(si)) == sizeof(si)) {
		int signo = (int)si.ssi_signo;

		if (signo == SIGUSR1) {
			if (s->ops->status)
				s->ops->status(s->arg);
			continue;
		}
		if (s->draining) {
			errmsg("%s again: stopping now", strsignal(signo));
			s->ops->stop(s->arg, SIGNALS_AGAIN);
			return;
		}
		s->draining = 1;
		if (!s->ops->drain(s->arg, signo)) {
			s->ops->stop(s->arg, SIGNALS_DRAINED);
			return;
		}
		s->grace.cb = on_grace;
		loop_timer_arm(s->loop, &s->grace, s->grace_ms);
	}
}

int signals_open(struct signals *s, struct loop *loop, uint64_t grace_ms,
		 const struct signals_ops *ops, void *arg)
{
	*s = (struct signals){ .io = { .fd = -1, .cb = on_signal },
			       .loop = loop,
			       .grace_ms = grace_ms,
			       .ops = ops,
			       .arg = arg };

	return loop_add_signals(loop, &s->io); /* on failure io.fd may be open: signals_close */
}

void signals_close(struct signals *s)
{
	if (!s->loop)
		return;
	if (s->grace.armed)
		loop_timer_cancel(s->loop, &s->grace);
	if (s->io.fd >= 0)
		close(s->io.fd);
	s->io.fd = -1;
}
