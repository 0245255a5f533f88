/*
 * Serve mode: every BLOB is loaded once into a sealed memfd (blob.c) and sent
 * by sendfile to each client that connects.  Raw TCP by default: a client
 * gets the first blob, then a clean end.  With --http, HTTP/1.1: GET and HEAD
 * name a blob by path, with ranges, conditional requests, keep-alive and
 * pipelining, and '/' lists them.  One epoll loop; a client that is slow or
 * stalls only ever waits on its own socket.
 */
#include "serve.h"
#include "blob.h"
#include "cli.h"
#include "http.h"
#include "listing.h"
#include "loop.h"
#include "net.h"
#include "src.h"
#include "util.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/sendfile.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define SMALL_BODY (16 << 10) /* bodies this small go out with their head, copied */
#define SENDFILE_MAX (1 << 20) /* one sendfile call's share, so others get a turn */
#define SWEEP_MS 200           /* how often deadlines are checked */
#define LINGER_MS 5000         /* after our FIN, how long to wait for the client's */
#define MAX_LISTENERS 16

enum cstate { C_READ, C_SEND, C_CLOSING };

struct served {
	struct blob b;
	char *head; /* "HTTP/1.1 200 OK" and every header but Date and Connection */
	size_t head_len;
};

struct server;

struct client {
	struct loop_io io;
	struct server *s;
	struct client *prev, *next;
	enum cstate state;
	uint64_t deadline;  /* now_ms() when the sweep gives up on it */
	char head[512];     /* the response head being sent */
	size_t head_len, head_off;
	const struct blob *body;
	uint64_t body_off, body_end;
	int close_after;    /* end the connection after this response */
	int minor;          /* the request's HTTP/1.<minor> */
	int corked;         /* TCP_CORK is on for a large body */
	int readable;       /* EPOLLIN seen since recv last found nothing */
	int answered;       /* a response was begun: between requests it is idle */
	char *rbuf;         /* request bytes, max_header of them */
	size_t rlen, consumed;
};

struct listener {
	struct loop_io io;
	struct server *s;
};

struct server {
	const struct config *cfg;
	struct loop *loop;
	struct served *blobs;
	size_t nblobs;
	struct served index; /* --http: the page '/' answers with, listing the blobs */
	char *path;          /* --http: a request's decoded path, max_header + 1 bytes */
	const char *loading; /* the BLOB being loaded, for messages */
	struct listener lis[MAX_LISTENERS];
	size_t nlis;
	int paused; /* not accepting: at max clients or out of descriptors */
	struct client *clients; /* newest first */
	struct client *oldest;
	size_t nclients, max_clients;
	struct loop_timer sweep;
	char date[48]; /* "Date: ...\r\n", refreshed each second */
	int64_t date_sec;
	struct loop_io sig_io;
	struct loop_timer grace;
	int stopping;
	struct {
		uint64_t conns, responses, errors, failed, bytes, refused, shed;
	} n;
};

static void client_send(struct client *c);
static void client_read(struct client *c);
static void next_request(struct client *c);

static void refresh_date(struct server *s)
{
	int64_t t = (int64_t)time(NULL);
	char d[32];

	if (t == s->date_sec)
		return;
	s->date_sec = t;
	http_fmt_date(t, d);
	snprintf(s->date, sizeof(s->date), "Date: %s\r\n", d);
}

/* ---- the client list and its end ---- */

static void set_accepting(struct server *s, int on)
{
	if (s->stopping || s->paused == !on)
		return;
	s->paused = !on;
	for (size_t i = 0; i < s->nlis; i++)
		loop_mod(s->loop, &s->lis[i].io, on ? EPOLLIN : 0);
}

static void client_free(struct client *c)
{
	struct server *s = c->s;

	loop_del(s->loop, &c->io);
	close(c->io.fd);
	if (c->prev)
		c->prev->next = c->next;
	else
		s->clients = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else
		s->oldest = c->prev;
	free(c->rbuf);
	free(c);
	s->nclients--;
	if (s->nclients < s->max_clients)
		set_accepting(s, 1);
	if (s->stopping && s->nclients == 0)
		loop_stop(s->loop);
}

/* The client broke off (reset, timed out): count it and let it go. */
static void client_fail(struct client *c)
{
	c->s->n.failed++;
	client_free(c);
}

/* A closing client goes once the client has acknowledged every byte and our
 * FIN; until then its input is read and dropped, so that close() never
 * resets a response the client has not read yet nor leaves data queued. */
static void check_closed(struct client *c)
{
	if (net_discard(c->io.fd) < 0 || net_unacked(c->io.fd) <= 0)
		client_free(c);
}

static void client_close(struct client *c)
{
	if (shutdown(c->io.fd, SHUT_WR) < 0) {
		client_free(c);
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
	c->deadline = now_ms() + c->s->cfg->idle_timeout_ms;
	if (end - off > SMALL_BODY) {
		/* Full segments only until the response is out, as nginx's tcp_nopush. */
		int one = 1;
		setsockopt(c->io.fd, IPPROTO_TCP, TCP_CORK, &one, sizeof(one));
		c->corked = 1;
	}
	client_send(c);
}

/* Append to the head being built; the head buffer always has room for what
 * serve mode writes (a status line and a few short headers). */
static void head_add(struct client *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void head_add(struct client *c, const char *fmt, ...)
{
	va_list ap;
	size_t room = sizeof(c->head) - c->head_len;

	va_start(ap, fmt);
	int n = vsnprintf(c->head + c->head_len, room, fmt, ap);
	va_end(ap);
	if (n > 0)
		c->head_len += MIN((size_t)n, room - 1);
}

/* Date, Connection and the blank line.  Every response says when the
 * connection ends after it, and an HTTP/1.0 client that asked for keep-alive
 * hears that it stays open (RFC 9112, 9.3). */
static void head_end(struct client *c)
{
	head_add(c, "%s%s\r\n", c->s->date,
		 c->close_after ? "Connection: close\r\n" : c->minor == 0 ? "Connection: keep-alive\r\n" : "");
}

static const char *reason(int status)
{
	switch (status) {
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 412: return "Precondition Failed";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 416: return "Range Not Satisfiable";
	case 431: return "Request Header Fields Too Large";
	case 505: return "HTTP Version Not Supported";
	}
	return "Error";
}

/* An error with a one-line text body, none for HEAD (RFC 9110, 9.3.2; its
 * Content-Length is still the GET's).  The connection ends after it if the
 * request asked so (c->close_after, set from it) or if broken: the stream
 * cannot be read on (a head that did not parse, a body not skipped). */
static void respond_error(struct client *c, int status, int head_only, int broken)
{
	const char *why = reason(status);

	c->s->n.errors++;
	c->close_after = c->close_after || broken || c->s->stopping;
	c->head_len = 0;
	head_add(c, "HTTP/1.1 %d %s\r\nServer: ringcast\r\nContent-Type: text/plain\r\n"
		    "Content-Length: %zu\r\n%s",
		 status, why, strlen(why) + 5, status == 405 ? "Allow: GET, HEAD\r\n" : "");
	head_end(c);
	if (!head_only)
		head_add(c, "%d %s\n", status, why);
	start_response(c, NULL, 0, 0);
}

static const struct served *find_blob(const struct server *s, const char *name)
{
	for (size_t i = 0; i < s->nblobs; i++)
		if (!strcmp(s->blobs[i].b.name, name))
			return &s->blobs[i];
	return NULL;
}

static void respond(struct client *c, const struct http_req *r)
{
	struct server *s = c->s;
	int head_only = r->method == HTTP_HEAD;

	c->close_after = !r->keep_alive || s->stopping;
	c->minor = r->minor;
	if (r->method == HTTP_OTHER) {
		respond_error(c, 405, 0, r->has_body);
		return;
	}
	if (r->has_body) {
		respond_error(c, 413, head_only, 1);
		return;
	}
	if (http_decode_path(r->path, s->path, s->cfg->max_header + 1) < 0 || s->path[0] != '/') {
		respond_error(c, 400, head_only, 0);
		return;
	}
	/* No blob is named "" (blob.c): '/' is always the listing. */
	const struct served *sv = s->path[1] ? find_blob(s, s->path + 1) : &s->index;
	if (!sv) {
		respond_error(c, 404, head_only, 0);
		return;
	}
	const struct blob *b = &sv->b;
	char lm[32];
	uint64_t first = 0, last = 0;

	/* RFC 9110, 13.2.2: the preconditions, then If-Range, then Range. */
	int cond = http_preconditions(r, b->etag, b->mtime, s->date_sec);
	if (cond == 412) {
		respond_error(c, 412, head_only, 0);
		return;
	}
	c->head_len = 0;
	if (cond == 304) {
		http_fmt_date(b->mtime, lm);
		head_add(c, "HTTP/1.1 304 Not Modified\r\nServer: ringcast\r\nETag: %s\r\n"
			    "Last-Modified: %s\r\n", b->etag, lm);
		head_end(c);
		s->n.responses++;
		start_response(c, NULL, 0, 0);
		return;
	}
	/* Ranges are for GET only (RFC 9110, 14.2). */
	int rr = r->method == HTTP_GET &&
			 http_if_range(r, b->etag, b->mtime, b->mtime_strong, s->date_sec)
			 ? http_range(r->range, b->size, &first, &last)
			 : 0;
	if (rr < 0) {
		s->n.errors++;
		head_add(c, "HTTP/1.1 416 Range Not Satisfiable\r\nServer: ringcast\r\n"
			    "Content-Range: bytes */%llu\r\nContent-Length: 0\r\n",
			 (unsigned long long)b->size);
		head_end(c);
		start_response(c, NULL, 0, 0);
		return;
	}
	s->n.responses++;
	if (rr > 0) {
		http_fmt_date(b->mtime, lm);
		head_add(c, "HTTP/1.1 206 Partial Content\r\nServer: ringcast\r\nContent-Type: %s\r\n"
			    "Content-Range: bytes %llu-%llu/%llu\r\nContent-Length: %llu\r\n"
			    "Last-Modified: %s\r\nETag: %s\r\n",
			 b->type, (unsigned long long)first, (unsigned long long)last,
			 (unsigned long long)b->size, (unsigned long long)(last - first + 1), lm,
			 b->etag);
		head_end(c);
		start_response(c, b, first, last + 1);
		return;
	}
	memcpy(c->head, sv->head, sv->head_len);
	c->head_len = sv->head_len;
	head_end(c);
	start_response(c, b, 0, head_only ? 0 : b->size);
}

/* The 200 head of a blob, built once. */
static int build_head(struct served *sv)
{
	char lm[32];
	const struct blob *b = &sv->b;

	http_fmt_date(b->mtime, lm);
	int n = asprintf(&sv->head,
			 "HTTP/1.1 200 OK\r\nServer: ringcast\r\nContent-Type: %s\r\n"
			 "Content-Length: %llu\r\nLast-Modified: %s\r\nETag: %s\r\n"
			 "Accept-Ranges: bytes\r\n",
			 b->type, (unsigned long long)b->size, lm, b->etag);
	if (n < 0)
		return -ENOMEM;
	sv->head_len = (size_t)n;
	return 0;
}

/* ---- moving bytes ---- */

static void response_done(struct client *c)
{
	if (c->corked) {
		int zero = 0;
		setsockopt(c->io.fd, IPPROTO_TCP, TCP_CORK, &zero, sizeof(zero));
		c->corked = 0;
	}
	if (!c->s->cfg->http) {
		c->s->n.responses++;
		client_close(c);
	} else if (c->close_after) {
		client_close(c);
	} else {
		next_request(c);
	}
}

static void client_send(struct client *c)
{
	struct server *s = c->s;
	const struct blob *b = c->body;

	while (c->head_off < c->head_len || c->body_off < c->body_end) {
		ssize_t n;
		uint64_t left = c->body_end - c->body_off;

		if (c->head_off < c->head_len && left <= SMALL_BODY) {
			/* The head and a small body in one call. */
			struct iovec iov[2] = {
				{ c->head + c->head_off, c->head_len - c->head_off },
				{ left ? (void *)(b->map + c->body_off) : NULL, (size_t)left },
			};
			struct msghdr m = { .msg_iov = iov, .msg_iovlen = left ? 2 : 1 };
			n = sendmsg(c->io.fd, &m, MSG_NOSIGNAL | MSG_DONTWAIT);
		} else if (c->head_off < c->head_len) {
			n = send(c->io.fd, c->head + c->head_off, c->head_len - c->head_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT | MSG_MORE);
		} else {
			off_t off = (off_t)c->body_off;
			n = sendfile(c->io.fd, b->fd, &off, (size_t)MIN(left, SENDFILE_MAX));
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return; /* EPOLLOUT brings us back */
		if (n <= 0) {
			client_fail(c);
			return;
		}
		s->n.bytes += (uint64_t)n;
		size_t h = MIN((size_t)n, c->head_len - c->head_off);
		c->head_off += h;
		c->body_off += (uint64_t)n - h;
		c->deadline = now_ms() + s->cfg->idle_timeout_ms;
	}
	response_done(c);
}

/* Parse what has arrived; answer a whole request, or read for more.  c may
 * be gone when it returns (a response that ends the connection can free it
 * at once), so a caller touches c no more. */
static void handle_input(struct client *c)
{
	struct server *s = c->s;
	struct http_req r;
	int rc = http_parse(c->rbuf, c->rlen, s->cfg->max_header, &r);

	if (rc == 0) {
		/* Nothing whole yet: read on only if the socket said it has more,
		 * which saves a recv that finds nothing after every response.
		 * client_read leaves readable set only with its buffer full, and
		 * then the parse is never 0 again: no loop. */
		if (c->readable)
			client_read(c);
	} else if (rc < 0) {
		c->minor = 1; /* not known: no "Connection: keep-alive" for 1.0 */
		respond_error(c, -rc, r.method == HTTP_HEAD, 1);
	} else {
		c->consumed = (size_t)rc;
		respond(c, &r);
	}
}

/* Read request bytes while there is room; then parse. */
static void client_read(struct client *c)
{
	size_t max = c->s->cfg->max_header;

	if (!c->rbuf && !(c->rbuf = malloc(max))) {
		client_fail(c);
		return;
	}
	while (c->rlen < max) {
		size_t want = max - c->rlen;
		ssize_t n = recv(c->io.fd, c->rbuf + c->rlen, want, MSG_DONTWAIT);
		if (n > 0) {
			if (c->rlen == 0) /* a request has begun: it has header-timeout to finish */
				c->deadline = now_ms() + c->s->cfg->header_timeout_ms;
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
		if (n == 0 && c->rlen == 0)
			client_free(c);
		else
			client_fail(c);
		return;
	}
	handle_input(c);
}

/* A response is out: drop its request and take the next, pipelined or not. */
static void next_request(struct client *c)
{
	memmove(c->rbuf, c->rbuf + c->consumed, c->rlen - c->consumed);
	c->rlen -= c->consumed;
	c->consumed = 0;
	c->state = C_READ;
	c->deadline = now_ms() + (c->rlen ? c->s->cfg->header_timeout_ms : c->s->cfg->idle_timeout_ms);
	if (c->s->stopping && c->rlen == 0) {
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
			client_fail(c);
		else if (events & EPOLLOUT)
			client_send(c);
		break;
	case C_CLOSING:
		if (events & (EPOLLERR | EPOLLHUP))
			client_free(c);
		else
			check_closed(c);
		break;
	}
}

/* At --max-clients, the client to close to make room for a new one: the
 * one that has waited longest for a request of its own (a keep-alive client
 * gone quiet, or one that trickles its header).  A client in the middle of
 * a response is never chosen.  NULL if none (of the 64 oldest). */
static struct client *oldest_idle(struct server *s)
{
	int looked = 0;

	for (struct client *c = s->oldest; c && looked < 64; c = c->prev, looked++)
		if (c->state == C_READ)
			return c;
	return NULL;
}

static void on_accept(struct loop_io *io, uint32_t events)
{
	struct listener *l = container_of(io, struct listener, io);
	struct server *s = l->s;

	(void)events;
	while (!s->paused && !s->stopping) {
		struct client *idle = NULL;
		if (s->nclients >= s->max_clients && !(idle = oldest_idle(s))) {
			set_accepting(s, 0); /* the kernel's backlog holds the rest */
			return;
		}
		struct sockaddr_storage ss;
		socklen_t sslen = sizeof(ss);
		int fd = accept4(io->fd, (struct sockaddr *)&ss, &sslen, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd >= 0 && !net_allowed((struct sockaddr *)&ss, s->cfg->allow, s->cfg->nallow)) {
			net_reset_on_close(fd);
			close(fd);
			s->n.refused++;
			continue;
		}
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
				/* Out of descriptors or memory: pause until a client leaves
				 * or the next sweep. */
				warnmsg("accept: %s; pausing new connections", strerror(errno));
				set_accepting(s, 0);
			}
			return;
		}
		if (idle) { /* only now: there was a client to make room for */
			s->n.shed++;
			client_free(idle);
		}
		struct client *c = calloc(1, sizeof(*c));
		if (!c) {
			close(fd);
			return;
		}
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		c->io.fd = fd;
		c->io.cb = on_client;
		c->s = s;
		c->next = s->clients;
		if (s->clients)
			s->clients->prev = c;
		else
			s->oldest = c;
		s->clients = c;
		s->nclients++;
		s->n.conns++;
		if (loop_add(s->loop, &c->io, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET) < 0) {
			client_fail(c);
			continue;
		}
		if (s->cfg->http) {
			c->state = C_READ;
			c->readable = 1; /* a request may have come with the connection */
			c->deadline = now_ms() + s->cfg->header_timeout_ms;
			client_read(c);
		} else {
			c->close_after = 1;
			start_response(c, &s->blobs[0].b, 0, s->blobs[0].b.size);
		}
	}
}

/* Deadlines, the Date header, and resuming accept() after running out. */
static void on_sweep(struct loop_timer *t)
{
	struct server *s = container_of(t, struct server, sweep);
	uint64_t now = now_ms();

	refresh_date(s);
	if (s->paused && s->nclients < s->max_clients)
		set_accepting(s, 1);
	for (struct client *c = s->clients, *next; c; c = next) {
		next = c->next;
		if (c->state == C_CLOSING && net_unacked(c->io.fd) <= 0) {
			client_free(c); /* everything, FIN included, was acknowledged */
		} else if (c->state == C_READ && c->rlen == 0 && c->rbuf &&
			   !(c->deadline && now >= c->deadline)) {
			/* Between requests a client needs no buffer: thousands of
			 * idle keep-alive clients then cost a few hundred bytes each. */
			free(c->rbuf);
			c->rbuf = NULL;
		} else if (c->deadline && now >= c->deadline) {
			/* A head that never finished (or never began), a stalled
			 * reader, or a linger that ran out; an idle keep-alive
			 * connection simply ends. */
			if (c->state == C_READ && c->rlen == 0 && c->answered)
				client_free(c);
			else
				client_fail(c);
		}
	}
	loop_timer_arm(s->loop, &s->sweep, SWEEP_MS);
}

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

static void stop_now(struct server *s)
{
	while (s->clients)
		client_fail(s->clients);
	loop_stop(s->loop);
}

static void on_grace(struct loop_timer *t)
{
	stop_now(container_of(t, struct server, grace));
}

static void on_signal(struct loop_io *io, uint32_t events)
{
	struct server *s = container_of(io, struct server, sig_io);
	struct signalfd_siginfo si;

	(void)events;
	while (read(io->fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGUSR1) {
			stats(s, "status: ");
			continue;
		}
		if (s->stopping) {
			errmsg("%s again: stopping now", strsignal((int)si.ssi_signo));
			stop_now(s);
			return;
		}
		warnmsg("%s: not accepting; finishing responses for up to %.1f s",
			strsignal((int)si.ssi_signo), (double)s->cfg->grace_ms / 1000);
		for (size_t i = 0; i < s->nlis; i++) {
			loop_del(s->loop, &s->lis[i].io);
			close(s->lis[i].io.fd);
		}
		s->nlis = 0;
		s->stopping = 1;
		for (struct client *c = s->clients, *next; c; c = next) {
			next = c->next;
			if (c->state == C_READ && c->rlen == 0)
				client_free(c); /* idle between requests */
		}
		if (s->nclients == 0) {
			loop_stop(s->loop);
			return;
		}
		s->grace.cb = on_grace;
		loop_timer_arm(s->loop, &s->grace, s->cfg->grace_ms);
	}
}

/* Listen where -l says, each listener feeding on_accept. */
static int open_listeners(struct server *s)
{
	const struct dest_spec *l = &s->cfg->listen;
	int fds[MAX_LISTENERS];
	const char *why;
	int n = net_listen_all(l->host, l->port, s->cfg->family, fds, MAX_LISTENERS,
			       s->cfg->http ? " for HTTP clients" : " for clients", &why);

	if (n < 0) {
		errmsg("-l %s: %s", l->text, why);
		return 2;
	}
	for (int i = 0; i < n; i++) {
		struct listener *li = &s->lis[s->nlis++];
		li->io.fd = fds[i];
		li->io.cb = on_accept;
		li->s = s;
		loop_add(s->loop, &li->io, EPOLLIN);
	}
	return 0;
}

/* Room for max_clients descriptors: raise the soft limit as far as allowed. */
static void fit_fd_limit(struct server *s)
{
	size_t room = net_fd_room(s->cfg->max_clients);

	s->max_clients = MIN(s->cfg->max_clients, MAX(room, 1));
	if (s->max_clients < s->cfg->max_clients)
		warnmsg("--max-clients %zu: the descriptor limit (ulimit -n) leaves room for %zu; "
			"serving at most %zu at once", s->cfg->max_clients, room, s->max_clients);
}

/* Take a loaded blob into the table: its name must be new; its 200 head is
 * built now.  0, or -1 after a message (b is still the caller's then). */
static int add_blob(void *arg, struct blob *b)
{
	struct server *s = arg;
	/* The name as its URL path: any byte of a name is safe on a terminal so. */
	char *href = listing_href(b->name);

	if (!href) {
		errmsg("%s: %s", s->loading, strerror(ENOMEM));
		return -ENOMEM;
	}
	if (find_blob(s, b->name)) {
		errmsg("%s: another BLOB is already served at %s", s->loading, href);
		free(href);
		return -EEXIST;
	}
	/* The smallest request for it, "GET HREF HTTP/1.1", an empty Host and
	 * the blank line, must fit in --max-header, or no client can fetch it
	 * (a long archive member's path, a name of many bytes that need
	 * escaping): refused now rather than listed with a link that gets 414. */
	size_t need = strlen("GET  HTTP/1.1\r\nHost:\r\n\r\n") + strlen(href);
	if (s->cfg->http && need > s->cfg->max_header) {
		errmsg("%s: %.60s%s cannot be fetched: a request for it takes %zu bytes or more, and "
		       "--max-header is %zu", s->loading, href, strlen(href) > 60 ? "..." : "", need,
		       s->cfg->max_header);
		free(href);
		return -EINVAL;
	}
	struct served *n = realloc(s->blobs, (s->nblobs + 1) * sizeof(*n));
	if (!n) {
		errmsg("%s: %s", s->loading, strerror(ENOMEM));
		free(href);
		return -ENOMEM;
	}
	s->blobs = n;
	struct served *sv = &s->blobs[s->nblobs];
	*sv = (struct served){ .b = *b };
	if (build_head(sv) < 0) {
		errmsg("%s: %s", s->loading, strerror(ENOMEM));
		free(href);
		return -ENOMEM;
	}
	s->nblobs++;
	char sz[32];
	info("%s: %s as %s (%s)", s->loading, fmt_bytes(b->size, sz, sizeof(sz)), href, b->type);
	free(href);
	return 0;
}

/* --http: the page '/' answers with, built once (the blobs never change)
 * and served as a blob is.  0, or -ENOMEM after a message. */
static int build_index(struct server *s)
{
	struct listing_item *items = calloc(s->nblobs, sizeof(*items));
	size_t len = 0;
	char *page = NULL;
	int rc = -ENOMEM;

	if (items) {
		for (size_t i = 0; i < s->nblobs; i++)
			items[i] = (struct listing_item){ s->blobs[i].b.name, s->blobs[i].b.size,
							  s->blobs[i].b.type };
		page = listing_html(items, s->nblobs, &len);
	}
	if (!page)
		errmsg("the listing of /: %s", strerror(ENOMEM));
	else if ((rc = blob_from_mem(&s->index.b, "", "text/html; charset=utf-8", page, len)) == 0 &&
		 (rc = build_head(&s->index)) < 0)
		errmsg("the listing of /: %s", strerror(-rc));
	free(items);
	free(page);
	return rc;
}

static int setup(struct server *s)
{
	const struct config *cfg = s->cfg;

	s->loop = loop_new();
	if (!s->loop) {
		errmsg("epoll: %s", strerror(errno));
		return 2;
	}
	struct source_opts o;
	cli_source_opts(cfg, &o);
	o.extract = NULL; /* a blob is loaded whole; --unpack takes archives apart */
	o.decompress = 0;
	for (size_t i = 0; i < cfg->nblobs; i++) {
		s->loading = cfg->blobs[i];
		if (cfg->unpack) {
			if (blob_unpack(cfg->blobs[i], &o, add_blob, s) < 0)
				return 2;
			continue;
		}
		struct blob b;
		if (blob_load(&b, cfg->blobs[i], &o) < 0)
			return 2;
		if (add_blob(s, &b) < 0) {
			blob_free(&b);
			return 2;
		}
	}
	if (s->nblobs == 0) {
		errmsg("--unpack: the archives hold no regular file to serve");
		return 2;
	}
	if (s->nblobs > 1 && !cfg->http) {
		/* cli.c refuses several BLOBs; --unpack may make several of one */
		errmsg("--unpack: the archives hold %zu files, and --serve without --http sends "
		       "each client the first only: add --http to serve each by its name", s->nblobs);
		return 2;
	}
	if (cfg->http) {
		if (!(s->path = malloc(cfg->max_header + 1))) {
			errmsg("%s", strerror(ENOMEM));
			return 2;
		}
		if (build_index(s) < 0)
			return 2;
	}
	fit_fd_limit(s);
	refresh_date(s);
	int rc = open_listeners(s);
	if (rc)
		return rc;
	s->sig_io.cb = on_signal;
	if ((rc = loop_add_signals(s->loop, &s->sig_io)) < 0) {
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
		client_free(s->clients);
	for (size_t i = 0; i < s->nlis; i++)
		close(s->lis[i].io.fd);
	for (size_t i = 0; i < s->nblobs; i++) {
		free(s->blobs[i].head);
		blob_free(&s->blobs[i].b);
	}
	free(s->blobs);
	free(s->index.head);
	blob_free(&s->index.b);
	free(s->path);
	if (s->sig_io.fd >= 0)
		close(s->sig_io.fd);
	loop_free(s->loop);
}

int serve_run(const struct config *cfg)
{
	struct server s = { .cfg = cfg, .sig_io = { .fd = -1 }, .index = { .b = { .fd = -1 } } };
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
