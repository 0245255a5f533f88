/* SOURCE as given on the command line, to the kind that reads it. */
#include "src.h"
#include "parse.h"
#include "loop.h"
#include "util.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

/* Slice of a self-driven source's wait after which stop_fd is looked at. */
#define STOP_POLL_MS 100

ssize_t source_read_wait(struct source *s, struct loop *loop, int stop_fd, void *buf, size_t len)
{
	/* events 0: only an error or hang-up (the pipe's reader gone) shows */
	struct pollfd p[2] = { { .fd = s->fd, .events = POLLIN }, { .fd = stop_fd } };

	for (;;) {
		if (s->fd >= 0) {
			/* First: a FIFO opened without blocking reads as ended
			 * until its writer comes (src_fd.c). */
			poll(p, stop_fd >= 0 ? 2 : 1, -1);
		} else if (stop_fd >= 0) {
			poll(p + 1, 1, 0);
		}
		if (stop_fd >= 0 && p[1].revents)
			return -ECANCELED;
		ssize_t n = s->ops->read(s, buf, len);
		if (n != -EAGAIN)
			return n;
		if (s->fd < 0) {
			int e = loop_once(loop, stop_fd >= 0 ? STOP_POLL_MS : 1000);
			if (e < 0)
				return e;
		}
	}
}

static int src_file_url(struct source *s, const char *url, const char *path, const char **why)
{
	int rc = src_fd_open(s, path, why);

	if (rc == 0)
		s->desc = url;
	return rc;
}

/* spec, which is no file, starts with "tcp:" or "tcp-listen:" (n bytes)
 * without the "//": if it is one of those with it, *why says so. */
static int maybe_tcp(const char *spec, size_t n, const char **why)
{
	static _Thread_local char buf[200];
	struct dest_spec d;
	const char *w;

	snprintf(buf, sizeof(buf), "%.*s//%.100s", (int)n, spec, spec + n);
	if (parse_addr(buf, n == 4 ? ADDR_TCP_SOURCE : ADDR_TCP_LISTEN_SOURCE, &d, &w) < 0)
		return 0;
	free(d.host);
	free(d.text);
	snprintf(buf, sizeof(buf), "%s; did you mean %.*s//%.100s?", strerror(ENOENT), (int)n, spec,
		 spec + n);
	*why = buf;
	return 1;
}

int source_open(struct source *s, const char *spec, const struct source_opts *opts,
		const char **why)
{
	*why = NULL;
	if (opts && (opts->extract || opts->decompress))
		return src_archive_open(s, spec, opts, opts->extract, why);
	return source_open_plain(s, spec, opts, why);
}

int source_open_plain(struct source *s, const char *spec, const struct source_opts *opts,
		      const char **why)
{
	*why = NULL;
	/* file:// is a path: read it as one (libcurl reads file:// in one go and
	 * cannot pause it, which would defeat the ring's back-pressure). */
	if (!strncasecmp(spec, "file://localhost/", 17))
		return src_file_url(s, spec, spec + 16, why);
	if (!strncasecmp(spec, "file:///", 8))
		return src_file_url(s, spec, spec + 7, why);
	if (src_curl_is_url(spec))
		return src_curl_open(s, spec, opts, why);
	/* Schemes are case-insensitive (RFC 3986 section 3.1), as libcurl's are. */
	int family = opts ? opts->family : AF_UNSPEC;
	if (!strncasecmp(spec, "tcp://", 6))
		return src_tcp_open(s, spec, family, why);
	struct source_opts none = { .family = family };
	if (!strncasecmp(spec, "tcp-listen://", 13))
		return src_tcp_listen_open(s, spec, opts ? opts : &none, why);
	if (!strncasecmp(spec, "ringcast-listen://", 18))
		return src_frame_listen_open(s, spec, opts ? opts : &none, why);
	int rc = src_fd_open(s, spec, why);
	size_t n = strncasecmp(spec, "tcp:", 4) ? strncasecmp(spec, "tcp-listen:", 11) ? 0 : 11 : 4;
	if (rc == -ENOENT && n && maybe_tcp(spec, n, why))
		return rc;
	if (rc == -ENOENT && (n = url_scheme_len(spec))) {
		/* Not a file: a scheme no source speaks ("udp://", "unix:/") */
		static _Thread_local char buf[256];
		snprintf(buf, sizeof(buf),
			 "unsupported scheme '%.*s' (expected -, a file, "
			 "tcp://HOST:PORT, tcp-listen://[HOST:]PORT, ringcast-listen://[HOST:]PORT "
			 "or a URL: http, https, ftp, "
			 "ftps, file, sftp or scp)",
			 (int)MIN(n, 40), spec);
		*why = buf;
	}
	return rc;
}
