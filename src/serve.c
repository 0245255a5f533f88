/*
 * Serve mode: every BLOB is loaded once into a sealed memfd (blob.c) and sent
 * by sendfile to each client that connects.  Raw TCP by default: a client
 * gets the first blob, then a clean end.  With --http, HTTP/1.1: GET and HEAD
 * name a blob by path, with ranges, conditional requests, keep-alive and
 * pipelining, and '/' lists them.  One epoll loop; a client that is slow or
 * stalls only ever waits on its own socket.
 *
 * This file is the wiring: loading the catalog (catalog.c), the listeners
 * (listen.c), the signals (signals.c), and the list of clients (client.c
 * serves each): how many at once, which idle one makes room, the sweep of
 * deadlines, the counts and the exit status.
 */
#include "serve.h"
#include "blob.h"
#include "catalog.h"
#include "cli.h"
#include "client.h"
#include "listen.h"
#include "loop.h"
#include "net.h"
#include "signals.h"
#include "src.h"
#include "util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define SWEEP_MS 200 /* how often deadlines are checked */

struct server {
	const struct config *cfg;
	struct loop *loop;
	struct catalog cat;
	const char *loading; /* the BLOB being loaded, for messages */
	struct client_env env;
	struct listen_set lis;
	struct signals sig;
	struct client *clients; /* newest first */
	struct client *oldest;
	size_t nclients, max_clients;
	struct loop_timer sweep;
	struct {
		uint64_t conns, responses, errors, failed, bytes, refused, shed;
	} n;
};

/* ---- the client list ---- */

static void on_answered(void *arg, int error)
{
	struct server *s = arg;

	if (error)
		s->n.errors++;
	else
		s->n.responses++;
}

static void on_sent(void *arg, uint64_t n)
{
	((struct server *)arg)->n.bytes += n;
}

static void on_left(void *arg, struct client *c, int failed)
{
	struct server *s = arg;

	if (c->prev)
		c->prev->next = c->next;
	else
		s->clients = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else
		s->oldest = c->prev;
	s->nclients--;
	s->n.failed += (uint64_t)failed;
	if (s->nclients < s->max_clients)
		listen_resume(&s->lis);
	if (s->env.draining && s->nclients == 0)
		loop_stop(s->loop);
}

static const struct client_ops client_ops = { on_answered, on_sent, on_left };

/* At --max-clients, the client to close to make room for a new one: the
 * one that has waited longest for a request of its own (a keep-alive client
 * gone quiet, or one that trickles its header).  A client in the middle of
 * a response is never chosen.  NULL if none (of the 64 oldest). */
static struct client *oldest_idle(struct server *s)
{
	int looked = 0;

	for (struct client *c = s->oldest; c && looked < 64; c = c->prev, looked++)
		if (client_waiting(c))
			return c;
	return NULL;
}

/* Room for one more: below --max-clients, or an idle client to close
 * (only once the new one is accepted: on_conn). */
static int on_room(void *arg)
{
	struct server *s = arg;

	return s->nclients < s->max_clients || oldest_idle(s);
}

static void on_conn(void *arg, int fd, const struct sockaddr *sa)
{
	struct server *s = arg;
	struct client *idle = s->nclients >= s->max_clients ? oldest_idle(s) : NULL;

	(void)sa;
	if (idle) { /* only now: there was a client to make room for */
		s->n.shed++;
		client_end(idle, 0);
	}
	struct client *c = client_new(&s->env, fd);
	if (!c)
		return;
	c->next = s->clients;
	if (s->clients)
		s->clients->prev = c;
	else
		s->oldest = c;
	s->clients = c;
	s->nclients++;
	s->n.conns++;
	client_start(c); /* c may be gone now */
}

static void on_refused(void *arg, const struct sockaddr *sa)
{
	(void)sa;
	((struct server *)arg)->n.refused++;
}

/* Out of descriptors or memory: pause until a client leaves or the next
 * sweep.  Any other error: try again at the next event. */
static int on_accept_failed(void *arg, int err)
{
	(void)arg;
	if (!listen_exhausted(err))
		return 0;
	warnmsg("accept: %s; pausing new connections", strerror(err));
	return 1;
}

static const struct listen_ops listen_ops = { on_conn, on_refused, on_accept_failed, on_room };

/* Deadlines, the Date header, and resuming accept() after running out. */
static void on_sweep(struct loop_timer *t)
{
	struct server *s = container_of(t, struct server, sweep);
	uint64_t now = now_ms();

	client_clock(&s->env);
	if (s->nclients < s->max_clients)
		listen_resume(&s->lis);
	for (struct client *c = s->clients, *next; c; c = next) {
		next = c->next;
		client_sweep(c, now);
	}
	loop_timer_arm(s->loop, &s->sweep, SWEEP_MS);
}

/* ---- signals ---- */

/* The statistics so far; when is "status: " for SIGUSR1, which asks for
 * them and gets them even under -q (as the fan-out's status line), or ""
 * at exit, which -q keeps back. */
static void stats(const struct server *s, const char *when)
{
	char b[32];

	if (!*when && log_level < 0)
		return;
	notice("%s%llu connection%s, %llu response%s, %llu error response%s, "
	       "%llu connection%s failed or timed out, %s sent",
	       when, (unsigned long long)s->n.conns, plural(s->n.conns),
	       (unsigned long long)s->n.responses, plural(s->n.responses),
	       (unsigned long long)s->n.errors, plural(s->n.errors),
	       (unsigned long long)s->n.failed, plural(s->n.failed),
	       fmt_bytes(s->n.bytes, b, sizeof(b)));
	if (s->n.refused)
		notice("%s%llu connection%s refused (not --allow'ed)", when,
		       (unsigned long long)s->n.refused, plural(s->n.refused));
	if (s->n.shed)
		notice("%s%llu idle connection%s closed to make room (--max-clients)", when,
		       (unsigned long long)s->n.shed, plural(s->n.shed));
}

static void on_status(void *arg)
{
	stats(arg, "status: ");
}

/* Accept no more, and end the clients between requests; wait for the
 * others' responses, if there are any. */
static int on_drain(void *arg, int signo)
{
	struct server *s = arg;

	warnmsg("%s: not accepting; finishing responses for up to %.1f s", strsignal(signo),
		(double)s->cfg->grace_ms / 1000);
	listen_close(&s->lis);
	s->env.draining = 1;
	for (struct client *c = s->clients, *next; c; c = next) {
		next = c->next;
		if (client_between(c))
			client_end(c, 0);
	}
	return s->nclients > 0;
}

static void on_stop(void *arg, enum signals_stop why)
{
	struct server *s = arg;

	(void)why; /* whatever ended the wait, what is left fails */
	while (s->clients)
		client_end(s->clients, 1);
	loop_stop(s->loop);
}

static const struct signals_ops signals_ops = { on_status, on_drain, on_stop };

/* ---- set-up and the end ---- */

/* Room for max_clients descriptors: raise the soft limit as far as allowed. */
static void fit_fd_limit(struct server *s)
{
	size_t room = net_fd_room(s->cfg->max_clients);

	s->max_clients = MIN(s->cfg->max_clients, MAX(room, 1));
	if (s->max_clients < s->cfg->max_clients)
		warnmsg("--max-clients %zu: the descriptor limit (ulimit -n) leaves room for %zu; "
			"serving at most %zu at once",
			s->cfg->max_clients, room, s->max_clients);
}

/* A loaded blob into the catalog (blob_unpack's add): 0, or -errno after a
 * message (b is still the caller's then). */
static int add_blob(void *arg, struct blob *b)
{
	struct server *s = arg;
	const struct served *sv;
	const char *why;
	char sz[32];
	int rc = catalog_add(&s->cat, b, &sv, &why);

	if (rc < 0) {
		errmsg("%s: %s", s->loading, why);
		return rc;
	}
	info("%s: %s as %s (%s)", s->loading, fmt_bytes(sv->b.size, sz, sizeof(sz)), sv->href,
	     sv->b.type);
	return 0;
}

/* Every BLOB into the catalog, and with --http the listing of '/'.  0, or
 * 2 after a message. */
static int load_blobs(struct server *s)
{
	const struct config *cfg = s->cfg;
	struct source_opts o;
	const char *why;

	cli_source_opts(cfg, &o);
	o.extract = NULL; /* a blob is loaded whole; --unpack takes archives apart */
	o.decompress = 0;
	s->cat.max_header = cfg->http ? cfg->max_header : 0;
	for (size_t i = 0; i < cfg->nblobs; i++) {
		struct blob b;
		s->loading = cfg->blobs[i];
		if (cfg->unpack) {
			if (blob_unpack(cfg->blobs[i], &o, add_blob, s) < 0)
				return 2;
		} else if (blob_load(&b, cfg->blobs[i], &o) < 0) {
			return 2;
		} else if (add_blob(s, &b) < 0) {
			blob_free(&b);
			return 2;
		}
	}
	if (s->cat.n == 0) {
		errmsg("--unpack: the archives hold no regular file to serve");
		return 2;
	}
	if (s->cat.n > 1 && !cfg->http) {
		/* cli.c refuses several BLOBs; --unpack may make several of one */
		errmsg("--unpack: the archives hold %zu files, and --serve without --http sends "
		       "each client the first only: add --http to serve each by its name",
		       s->cat.n);
		return 2;
	}
	if (cfg->http && catalog_index(&s->cat, &why) < 0) {
		if (why)
			errmsg("the listing of /: %s", why);
		return 2;
	}
	return 0;
}

static int setup(struct server *s)
{
	const struct config *cfg = s->cfg;
	const char *why;
	int rc;

	s->loop = loop_new();
	if (!s->loop) {
		errmsg("epoll: %s", strerror(errno));
		return 2;
	}
	if ((rc = load_blobs(s)))
		return rc;
	s->env = (struct client_env){ .loop = s->loop,
				      .cat = &s->cat,
				      .http = cfg->http,
				      .max_header = cfg->max_header,
				      .header_timeout_ms = cfg->header_timeout_ms,
				      .idle_timeout_ms = cfg->idle_timeout_ms,
				      .ops = &client_ops,
				      .arg = s };
	if (cfg->http && !(s->env.path = malloc(cfg->max_header + 1))) {
		errmsg("%s", strerror(ENOMEM));
		return 2;
	}
	fit_fd_limit(s);
	client_clock(&s->env);
	struct listen_opts lo = { .at = &cfg->listen,
				  .family = cfg->family,
				  .what = cfg->http ? " for HTTP clients" : " for clients",
				  .allow = cfg->allow,
				  .nallow = cfg->nallow };
	if (listen_open(&s->lis, s->loop, &lo, &listen_ops, s, &why) < 0) {
		errmsg("-l %s: %s", cfg->listen.text, why);
		return 2;
	}
	if ((rc = signals_open(&s->sig, s->loop, cfg->grace_ms, &signals_ops, s)) < 0) {
		errmsg("signalfd: %s", strerror(-rc));
		return 2;
	}
	s->sweep.cb = on_sweep;
	loop_timer_arm(s->loop, &s->sweep, SWEEP_MS);
	return 0;
}

static void teardown(struct server *s)
{
	while (s->clients)
		client_end(s->clients, 0);
	listen_close(&s->lis);
	catalog_free(&s->cat);
	free(s->env.path);
	signals_close(&s->sig);
	loop_free(s->loop);
}

int serve_run(const struct config *cfg)
{
	struct server s = { .cfg = cfg, .cat = { .index = { .b = { .fd = -1 } } } };
	int rc = setup(&s);

	if (rc == 0) {
		if ((rc = loop_run(s.loop)) < 0) {
			errmsg("epoll_wait: %s", strerror(-rc));
			rc = 1;
		}
		stats(&s, "");
	}
	teardown(&s);
	return rc;
}
