/*
 * URL sources through libcurl's multi interface, driven by ringcast's own
 * event loop: curl tells us which sockets to watch and when to wake it
 * (socket and timer callbacks), and we call curl_multi_socket_action.  No
 * thread, no blocking perform.  Received bytes go straight into the ring
 * when the caller offers it (source_opts.sink), else into a buffer
 * that read() empties; what does not fit waits in that buffer, and when it
 * is full too the transfer is paused (CURL_WRITEFUNC_PAUSE) until read() has
 * emptied it, so memory stays bounded whatever the server's speed.
 *
 * Opening waits for the response head (after the redirects curl follows),
 * so that a URL that cannot be read (an HTTP error, a refused or unknown
 * host, a TLS failure, a connect timeout) is refused like a missing file,
 * before any destination is connected.  Body bytes that come with the head
 * wait in the buffer, since the ring does not exist yet.
 */
#include "loop.h"
#include "src.h"
#include "util.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#define BUF_SIZE (1 << 20)
/* The status line kept for messages ("HTTP/1.1 404 Not Found"). */
#define STATUS_SIZE 128

struct csrc {
	CURLM *multi;
	CURL *easy;
	struct curl_slist *headers;
	struct loop *loop;
	struct loop_timer timer;
	struct loop_timer resume; /* unpauses outside read(), which holds the ring */
	struct source_sink sink;  /* where body bytes go first, if anywhere */
	uint8_t *buf;
	size_t off, len; /* unread bytes are buf[off, off + len) */
	int paused;
	int head;         /* the final response's head is in, or its first body bytes */
	int in_http_head; /* between an HTTP status line and the blank line ending it */
	int location;     /* that head has a Location: curl follows it */
	int done;
	CURLcode result;
	char status[STATUS_SIZE]; /* the last HTTP status line, trailing space cut */
	struct csock *dead;       /* sockets curl gave up, freed at close: an event for
			     * one may still be pending in the loop's batch */
	char errbuf[CURL_ERROR_SIZE];
};

struct csock {
	struct loop_io io;
	struct csrc *c;
	struct csock *next_dead;
};

static void check_done(struct csrc *c)
{
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(c->multi, &left)))
		if (m->msg == CURLMSG_DONE) {
			c->done = 1;
			c->result = m->data.result;
		}
}

static void on_sock(struct loop_io *io, uint32_t events)
{
	struct csock *k = container_of(io, struct csock, io);
	struct csrc *c = k->c;
	int running, what = 0;

	if (events & (EPOLLIN | EPOLLHUP | EPOLLRDHUP))
		what |= CURL_CSELECT_IN;
	if (events & EPOLLOUT)
		what |= CURL_CSELECT_OUT;
	if (events & EPOLLERR)
		what |= CURL_CSELECT_ERR;
	curl_multi_socket_action(c->multi, io->fd, what, &running);
	check_done(c);
}

static void on_timer(struct loop_timer *t)
{
	struct csrc *c = container_of(t, struct csrc, timer);
	int running;

	curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	check_done(c);
}

/* curl: watch s for `what` (CURL_POLL_*), or stop watching it. */
static int socket_cb(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct csrc *c = userp;
	struct csock *k = socketp;

	(void)easy;
	if (what == CURL_POLL_REMOVE) {
		if (k) {
			loop_del(c->loop, &k->io);
			k->io.fd = -1;
			k->next_dead = c->dead;
			c->dead = k;
			curl_multi_assign(c->multi, s, NULL);
		}
		return 0;
	}
	uint32_t ev = (what & CURL_POLL_IN ? EPOLLIN : 0) | (what & CURL_POLL_OUT ? EPOLLOUT : 0);
	if (!k) {
		if (!(k = calloc(1, sizeof(*k))))
			return -1;
		k->io.fd = s;
		k->io.cb = on_sock;
		k->c = c;
		curl_multi_assign(c->multi, s, k);
		return loop_add(c->loop, &k->io, ev) < 0 ? -1 : 0;
	}
	return loop_mod(c->loop, &k->io, ev) < 0 ? -1 : 0;
}

/* curl: call back in timeout_ms (-1: never). */
static int timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct csrc *c = userp;

	(void)multi;
	if (timeout_ms < 0)
		loop_timer_cancel(c->loop, &c->timer);
	else
		loop_timer_arm(c->loop, &c->timer, (uint64_t)timeout_ms);
	return 0;
}

/* curl: one header line (with its CRLF), for every response it reads: 1xx,
 * redirects, authentication rounds and the final one alike, and for FTP
 * the server's replies (CURLOPT_HEADERFUNCTION(3)).  An HTTP head ends
 * with an empty line; it is the final one when its status is 2xx, or 3xx
 * without a Location for curl to follow (RFC 9110 section 15.4), which
 * wait_head then refuses (not_content).  Errors (400 and up) are left to
 * CURLOPT_FAILONERROR, which ends the transfer; a 401 that curl answers
 * with credentials is not final either.  The status line is kept for the
 * message. */
static size_t header_cb(char *p, size_t size, size_t n, void *userp)
{
	struct csrc *c = userp;
	size_t len = size * n, k = len;

	while (k && strchr("\r\n \t", p[k - 1]))
		k--;
	if (len >= 5 && !strncmp(p, "HTTP/", 5)) {
		snprintf(c->status, sizeof(c->status), "%.*s", (int)k, p);
		c->in_http_head = 1;
		c->location = 0;
	} else if (c->in_http_head && k == 0) {
		long code = 0;
		curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &code);
		c->in_http_head = 0;
		if ((code >= 200 && code < 300) || (code >= 300 && code < 400 && !c->location))
			c->head = 1;
	} else if (c->in_http_head && !strncasecmp(p, "Location:", 9)) {
		c->location = 1;
	}
	return len;
}

/* curl: body bytes arrived.  Into the ring if it has room and nothing is
 * waiting before them; the rest into the buffer; pause when neither can take
 * them (curl then keeps them and offers them again).  Body bytes are the
 * final response's (curl writes no error or redirect body), so the first
 * of them also ends the wait for the head, for protocols without one. */
static size_t write_cb(char *p, size_t size, size_t n, void *userp)
{
	struct csrc *c = userp;
	size_t len = size * n, total = len;

	c->head = 1;

	if (c->sink.room && c->len == 0) {
		uint8_t *dst;
		size_t k = MIN(len, c->sink.room(c->sink.arg, &dst));
		if (k) {
			memcpy(dst, p, k);
			c->sink.commit(c->sink.arg, k);
			p += k;
			len -= k;
		}
	}
	if (len == 0)
		return total;
	if (c->off + c->len + len > BUF_SIZE && c->off) {
		memmove(c->buf, c->buf + c->off, c->len);
		c->off = 0;
	}
	if (c->len + len > BUF_SIZE) {
		/* Only reached with nothing consumed: the buffer is empty whenever
		 * the ring took part of a call, and one call fits in it. */
		c->paused = 1;
		return CURL_WRITEFUNC_PAUSE;
	}
	memcpy(c->buf + c->off + c->len, p, len);
	c->len += len;
	return total;
}

static void on_resume(struct loop_timer *t)
{
	struct csrc *c = container_of(t, struct csrc, resume);

	c->paused = 0;
	curl_easy_pause(c->easy, CURLPAUSE_CONT); /* may call write_cb now */
	check_done(c);
}

/* The last HTTP status line without its version ("404 Not Found"), or
 * "HTTP status 404" when it has no reason phrase (HTTP/2 has none, HTTP/1.1
 * may omit it: RFC 9112 section 4), since "404" alone says little.  NULL if
 * there was none.  Points into c. */
static const char *http_status(struct csrc *c)
{
	const char *code = strchr(c->status, ' ');

	if (!code || !code[1])
		return NULL;
	code++;
	if (!strchr(code, ' ')) {
		snprintf(c->errbuf, sizeof(c->errbuf), "HTTP status %s", code);
		return c->errbuf;
	}
	return code;
}

/* Why the transfer failed, in the words of the missing-file message: the
 * server's status for an HTTP error, else curl's own reason.  Points into
 * c, or to a static string. */
static const char *fail_reason(struct csrc *c)
{
	const char *st = c->result == CURLE_HTTP_RETURNED_ERROR ? http_status(c) : NULL;

	return st ? st : c->errbuf[0] ? c->errbuf : curl_easy_strerror(c->result);
}

/* Why an HTTP transfer that curl took for a success is none, or NULL: only
 * a final 2xx response carries the representation (RFC 9110, 15.3), and a
 * 3xx that curl did not follow (no Location, or 304), a 1xx and anything
 * else would be streamed as if it were the content.  reason has room for
 * it. */
static const char *not_content(struct csrc *c, char *reason, size_t len)
{
	long code = 0;

	if (!c->status[0] ||
	    curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &code) != CURLE_OK ||
	    (code >= 200 && code < 300))
		return NULL;
	const char *st = http_status(c);
	int unfollowed = code >= 300 && code < 400 && code != 304 && !c->location;
	snprintf(reason, len, "%s (%sonly a 2xx response is streamed)", st ? st : c->status,
		 unfollowed ? "no Location to follow; " : "");
	return reason;
}

static ssize_t curl_read(struct source *s, void *dst, size_t len)
{
	struct csrc *c = s->priv;

	if (c->len) {
		size_t n = MIN(len, c->len);
		memcpy(dst, c->buf + c->off, n);
		c->off += n;
		c->len -= n;
		if (c->len == 0)
			c->off = 0;
		if (c->paused && c->len < BUF_SIZE / 2 && !c->resume.armed)
			loop_timer_arm(c->loop, &c->resume, 0);
		return (ssize_t)n;
	}
	if (!c->done)
		return -EAGAIN;
	if (c->result == CURLE_OK)
		return 0;
	s->why = fail_reason(c);
	return -EIO;
}

static void curl_close(struct source *s)
{
	struct csrc *c = s->priv;

	if (!c)
		return;
	if (c->multi && c->easy)
		curl_multi_remove_handle(c->multi, c->easy); /* REMOVEs its sockets */
	curl_easy_cleanup(c->easy);
	curl_multi_cleanup(c->multi);
	loop_timer_cancel(c->loop, &c->timer); /* the cleanups may have armed it */
	loop_timer_cancel(c->loop, &c->resume);
	curl_slist_free_all(c->headers);
	while (c->dead) {
		struct csock *k = c->dead;
		c->dead = k->next_dead;
		free(k);
	}
	free(c->buf);
	free(c);
	s->priv = NULL;
}

static const struct source_ops curl_ops = {
	.read = curl_read,
	.close = curl_close,
};

int src_curl_is_url(const char *spec)
{
	static const char *const schemes[] = { "http://", "https://", "ftp://",
					       "ftps://", "sftp://",  "scp://" };

	for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++)
		if (!strncasecmp(spec, schemes[i], strlen(schemes[i])))
			return 1;
	return 0;
}

/* Run the loop until the response head is in (or the first body bytes, or
 * the end).  A failure by then is the open's: -EIO with curl's reason in
 * *why (static storage: start-up runs on one thread), s closed.  On
 * success the bytes that came with the head wait in the buffer, later ones
 * go where opts->sink says, and s->size is the Content-Length if given. */
static int wait_head(struct source *s, const struct source_opts *o, const char **why)
{
	static char reason[CURL_ERROR_SIZE + STATUS_SIZE];
	struct csrc *c = s->priv;
	curl_off_t len = -1;

	while (!c->head && !c->done) {
		int rc = loop_once(c->loop, -1);
		if (rc < 0) {
			curl_close(s);
			return rc;
		}
	}
	if (c->done && c->result != CURLE_OK) {
		snprintf(reason, sizeof(reason), "%s", fail_reason(c));
		curl_close(s);
		*why = reason;
		return -EIO;
	}
	if (not_content(c, reason, sizeof(reason))) {
		curl_close(s);
		*why = reason;
		return -EIO;
	}
	if (curl_easy_getinfo(c->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &len) == CURLE_OK &&
	    len >= 0)
		s->size = (off_t)len;
	c->sink = o->sink;
	return 0;
}

int src_curl_open(struct source *s, const char *spec, const struct source_opts *o, const char **why)
{
	static int global;
	struct csrc *c;

	*s = (struct source){ .ops = &curl_ops, .fd = -1, .size = -1, .desc = spec };
	if (!o || !o->loop) {
		*why = "URLs need the event loop";
		return -EINVAL;
	}
	if (!global && curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		*why = "curl_global_init failed";
		return -EIO;
	}
	global = 1;
	if (!(c = calloc(1, sizeof(*c))) || !(c->buf = malloc(BUF_SIZE))) {
		if (c)
			free(c);
		return -ENOMEM;
	}
	s->priv = c;
	c->loop = o->loop;
	c->timer.cb = on_timer;
	c->resume.cb = on_resume;
	c->multi = curl_multi_init();
	c->easy = curl_easy_init();
	if (!c->multi || !c->easy) {
		curl_close(s);
		return -ENOMEM;
	}
	curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
	curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
	curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
	curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);

	CURL *e = c->easy;
	curl_easy_setopt(e, CURLOPT_URL, spec);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, c);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, c);
	curl_easy_setopt(e, CURLOPT_SUPPRESS_CONNECT_HEADERS,
			 1L); /* a proxy's head is not the server's */
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, c->errbuf);
	curl_easy_setopt(e, CURLOPT_FAILONERROR, 1L); /* 4xx/5xx: an error, never data */
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(e, CURLOPT_MAXREDIRS, 10L);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, 30L);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "ringcast");
	curl_easy_setopt(e, CURLOPT_BUFFERSIZE, 512L << 10); /* fewer, larger reads */
	if (o->family != AF_UNSPEC)                          /* -4, -6 */
		curl_easy_setopt(e, CURLOPT_IPRESOLVE,
				 o->family == AF_INET ? CURL_IPRESOLVE_V4 : CURL_IPRESOLVE_V6);
	for (size_t i = 0; i < o->nheaders; i++)
		c->headers = curl_slist_append(c->headers, o->headers[i]);
	if (c->headers)
		curl_easy_setopt(e, CURLOPT_HTTPHEADER, c->headers);
	if (o->user)
		curl_easy_setopt(e, CURLOPT_USERPWD, o->user);
	if (o->netrc)
		curl_easy_setopt(e, CURLOPT_NETRC, (long)CURL_NETRC_OPTIONAL);
	if (curl_multi_add_handle(c->multi, e) != CURLM_OK) {
		curl_close(s);
		*why = "curl_multi_add_handle failed";
		return -EIO;
	}
	return wait_head(s, o, why);
}
