#include "client.h"
#include "net.h"
#include "util.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define SMALL_BODY   (16 << 10) /* bodies this small go out with their head, copied */
#define SENDFILE_MAX (1 << 20)  /* one sendfile call's share, so others get a turn */
#define LINGER_MS    5000       /* after our FIN, how long to wait for the client's */

static void client_send(struct client *c);
static void client_read(struct client *c);
static void next_request(struct client *c);

void client_clock(struct client_env *env)
{
	int64_t t = (int64_t)time(NULL);
	char d[32];

	if (t == env->now)
		return;
	env->now = t;
	http_fmt_date(t, d);
	snprintf(env->date, sizeof(env->date), "Date: %s\r\n", d);
}

/* ---- the end ---- */

void client_end(struct client *c, int failed)
{
	struct client_env *env = c->env;

	loop_del(env->loop, &c->io);
	close(c->io.fd);
	free(c->rbuf);
	env->ops->left(env->arg, c, failed);
	free(c);
}

/* A closing client goes once the client has acknowledged every byte and our
 * FIN; until then its input is read and dropped, so that close() never
 * resets a response the client has not read yet nor leaves data queued. */
static void check_closed(struct client *c)
{
	if (net_discard(c->io.fd) < 0 || net_unacked(c->io.fd) <= 0)
		client_end(c, 0);
}

static void client_close(struct client *c)
{
	if (shutdown(c->io.fd, SHUT_WR) < 0) {
		client_end(c, 0);
		return;
	}
	c->state = C_CLOSING;
	c->deadline = now_ms() + LINGER_MS;
	check_closed(c);
}

/* ---- responses ---- */

static void start_response(struct client *c, const struct blob *body, uint64_t off, uint64_t end)
{
	c->head_off = 0;
	c->answered = 1;
	c->body = body;
	c->body_off = off;
	c->body_end = end;
	c->state = C_SEND;
	c->deadline = now_ms() + c->env->idle_timeout_ms;
	if (end - off > SMALL_BODY) {
		/* Full segments only until the response is out, as nginx's tcp_nopush. */
		int one = 1;
		setsockopt(c->io.fd, IPPROTO_TCP, TCP_CORK, &one, sizeof(one));
		c->corked = 1;
	}
	client_send(c);
}

/* Send answer a about sv (rep: it as http.c sees it), NULL when the
 * request named none. */
static void respond(struct client *c, struct http_answer *a, const struct served *sv,
		    const struct http_rep *rep)
{
	struct client_env *env = c->env;

	a->close = a->close || env->draining;
	c->close_after = a->close;
	c->head_len = http_head(c->head, sizeof(c->head), a, rep, env->date);
	env->ops->answered(env->arg, a->status >= 400);
	start_response(c, a->end > a->first ? &sv->b : NULL, a->first, a->end);
}

/* Answer request r: the blob its path names, '/' the listing. */
static void answer(struct client *c, const struct http_req *r)
{
	struct client_env *env = c->env;
	const struct served *sv = NULL;
	struct http_rep rep;
	struct http_answer a;
	int path_ok = http_decode_path(r->path, env->path, env->max_header + 1) >= 0 &&
		env->path[0] == '/';

	/* No blob is named "" (blob.c): '/' is always the listing. */
	if (path_ok &&
	    (sv = env->path[1] ? catalog_find(env->cat, env->path + 1) : &env->cat->index))
		catalog_rep(sv, &rep);
	http_answer(r, path_ok, sv ? &rep : NULL, env->now, &a);
	respond(c, &a, sv, sv ? &rep : NULL);
}

/* ---- moving bytes ---- */

static void response_done(struct client *c)
{
	struct client_env *env = c->env;

	if (c->corked) {
		int zero = 0;
		setsockopt(c->io.fd, IPPROTO_TCP, TCP_CORK, &zero, sizeof(zero));
		c->corked = 0;
	}
	if (!env->http) {
		env->ops->answered(env->arg, 0);
		client_close(c);
	} else if (c->close_after) {
		client_close(c);
	} else {
		next_request(c);
	}
}

/* One send of what is left of the response: the head with a small body
 * (copied), the head alone, or body bytes by sendfile.  send's result. */
static ssize_t send_some(struct client *c)
{
	const struct blob *b = c->body;
	uint64_t left = c->body_end - c->body_off;

	if (c->head_off < c->head_len && left <= SMALL_BODY) {
		struct iovec iov[2] = {
			{ c->head + c->head_off, c->head_len - c->head_off },
			{ left ? (void *)(b->map + c->body_off) : NULL, (size_t)left },
		};
		struct msghdr m = { .msg_iov = iov, .msg_iovlen = left ? 2 : 1 };
		return sendmsg(c->io.fd, &m, MSG_NOSIGNAL | MSG_DONTWAIT);
	}
	if (c->head_off < c->head_len)
		return send(c->io.fd, c->head + c->head_off, c->head_len - c->head_off,
			    MSG_NOSIGNAL | MSG_DONTWAIT | MSG_MORE);
	off_t off = (off_t)c->body_off;
	return sendfile(c->io.fd, b->fd, &off, (size_t)MIN(left, SENDFILE_MAX));
}

static void client_send(struct client *c)
{
	struct client_env *env = c->env;

	while (c->head_off < c->head_len || c->body_off < c->body_end) {
		ssize_t n = send_some(c);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return; /* EPOLLOUT brings us back */
		if (n <= 0) {
			client_end(c, 1);
			return;
		}
		env->ops->sent(env->arg, (uint64_t)n);
		size_t h = MIN((size_t)n, c->head_len - c->head_off);
		c->head_off += h;
		c->body_off += (uint64_t)n - h;
		c->deadline = now_ms() + env->idle_timeout_ms;
	}
	response_done(c);
}

/* ---- requests ---- */

/* Parse what has arrived; answer a whole request, or read for more.  c may
 * be gone when it returns (a response that ends the connection can free it
 * at once), so a caller touches c no more. */
static void handle_input(struct client *c)
{
	struct http_req r;
	struct http_answer a;
	int rc = http_parse(c->rbuf, c->rlen, c->env->max_header, &r);

	if (rc == 0) {
		/* Nothing whole yet: read on only if the socket said it has more,
		 * which saves a recv that finds nothing after every response.
		 * client_read leaves readable set only with its buffer full, and
		 * then the parse is never 0 again: no loop. */
		if (c->readable)
			client_read(c);
	} else if (rc < 0) {
		http_answer_bad(rc, &r, &a);
		respond(c, &a, NULL, NULL);
	} else {
		c->consumed = (size_t)rc;
		answer(c, &r);
	}
}

/* Read request bytes while there is room; then parse. */
static void client_read(struct client *c)
{
	size_t max = c->env->max_header;

	if (!c->rbuf && !(c->rbuf = malloc(max))) {
		client_end(c, 1);
		return;
	}
	while (c->rlen < max) {
		size_t want = max - c->rlen;
		ssize_t n = recv(c->io.fd, c->rbuf + c->rlen, want, MSG_DONTWAIT);
		if (n > 0) {
			if (c->rlen == 0) /* a request has begun: it has header-timeout to finish */
				c->deadline = now_ms() + c->env->header_timeout_ms;
			c->rlen += (size_t)n;
			if ((size_t)n < want) {
				/* A short read emptied the socket; more data will bring a
				 * new EPOLLIN, so no recv is spent to hear EAGAIN. */
				c->readable = 0;
				break;
			}
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			c->readable = 0;
			break;
		}
		/* The client is gone: between requests that is how it ends. */
		client_end(c, !(n == 0 && c->rlen == 0));
		return;
	}
	handle_input(c);
}

/* A response is out: drop its request and take the next, pipelined or not. */
static void next_request(struct client *c)
{
	struct client_env *env = c->env;

	memmove(c->rbuf, c->rbuf + c->consumed, c->rlen - c->consumed);
	c->rlen -= c->consumed;
	c->consumed = 0;
	c->state = C_READ;
	c->deadline = now_ms() + (c->rlen ? env->header_timeout_ms : env->idle_timeout_ms);
	if (env->draining && c->rlen == 0) {
		client_close(c);
		return;
	}
	handle_input(c); /* c may be gone now */
}

static void on_client(struct loop_io *io, uint32_t events)
{
	struct client *c = container_of(io, struct client, io);

	if (events & (EPOLLIN | EPOLLRDHUP | EPOLLERR | EPOLLHUP))
		c->readable = 1;
	switch (c->state) {
	case C_READ:
		if (events & (EPOLLIN | EPOLLRDHUP | EPOLLERR | EPOLLHUP))
			client_read(c);
		break;
	case C_SEND:
		if (events & (EPOLLERR | EPOLLHUP))
			client_end(c, 1);
		else if (events & EPOLLOUT)
			client_send(c);
		break;
	case C_CLOSING:
		if (events & (EPOLLERR | EPOLLHUP))
			client_end(c, 0);
		else
			check_closed(c);
		break;
	}
}

/* ---- the server's side ---- */

struct client *client_new(struct client_env *env, int fd)
{
	struct client *c = calloc(1, sizeof(*c));
	int one = 1;

	if (!c) {
		close(fd);
		return NULL;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->io.fd = fd;
	c->io.cb = on_client;
	c->env = env;
	return c;
}

void client_start(struct client *c)
{
	struct client_env *env = c->env;

	if (loop_add(env->loop, &c->io, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET) < 0) {
		client_end(c, 1);
		return;
	}
	if (env->http) {
		c->state = C_READ;
		c->readable = 1; /* a request may have come with the connection */
		c->deadline = now_ms() + env->header_timeout_ms;
		client_read(c);
	} else {
		const struct blob *b = &env->cat->blobs[0].b;
		c->close_after = 1;
		start_response(c, b, 0, b->size);
	}
}

int client_waiting(const struct client *c)
{
	return c->state == C_READ;
}

int client_between(const struct client *c)
{
	return c->state == C_READ && c->rlen == 0;
}

void client_sweep(struct client *c, uint64_t now)
{
	int late = c->deadline && now >= c->deadline;

	if (c->state == C_CLOSING && net_unacked(c->io.fd) <= 0) {
		client_end(c, 0); /* everything, FIN included, was acknowledged */
	} else if (client_between(c) && c->rbuf && !late) {
		/* Between requests a client needs no buffer: thousands of idle
		 * keep-alive clients then cost a few hundred bytes each. */
		free(c->rbuf);
		c->rbuf = NULL;
	} else if (late) {
		/* A head that never finished (or never began), a stalled
		 * reader, or a linger that ran out; an idle keep-alive
		 * connection simply ends. */
		client_end(c, !(client_between(c) && c->answered));
	}
}
