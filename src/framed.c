/* The sender's side of the framed protocol (framed.h). */
#include "framed.h"
#include "dest.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

int framed_begin(struct dest *d, const struct frame_header *h)
{
	if (!d->fr && !(d->fr = calloc(1, sizeof(*d->fr))))
		return -ENOMEM;
	ssize_t n = frame_header_encode(h, d->fr->out, sizeof(d->fr->out));
	if (n < 0)
		return (int)n;
	d->fr->out_len = (size_t)n;
	d->fr->out_off = 0;
	return 0;
}

int framed_flush(struct dest *d)
{
	struct framed *f = d->fr;

	while (f->out_off < f->out_len) {
		ssize_t n = send(d->io.fd, f->out + f->out_off, f->out_len - f->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			d->px.writable = 0;
			return 0;
		}
		if (n < 0)
			return -errno;
		f->out_off += (size_t)n;
	}
	return 1;
}

void framed_end(struct dest *d, uint64_t len, const uint8_t sha256[32])
{
	frame_trailer_encode(len, sha256, d->fr->out);
	d->fr->out_len = FRAME_TRAILER_LEN;
	d->fr->out_off = 0;
	d->fr->trailer = 1;
}

int framed_read(struct dest *d)
{
	struct framed *f = d->fr;
	const char *why;

	while (!f->answered) {
		ssize_t n = recv(d->io.fd, f->in + f->in_len, sizeof(f->in) - f->in_len,
				 MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN ? 0 : -errno;
		if (n == 0) {
			snprintf(f->why, sizeof(f->why), "the receiver closed without a verdict");
			return -EPROTO;
		}
		f->in_len += (size_t)n;
		ssize_t got = frame_verdict_parse(f->in, f->in_len, &f->v, &why);
		if (got < 0 || (got == 0 && f->in_len == sizeof(f->in))) {
			snprintf(f->why, sizeof(f->why), "the receiver's answer is no verdict: %s",
				 got < 0 ? why : "too long");
			return -EPROTO;
		}
		f->answered = got > 0;
	}
	return 1;
}

int framed_verified(struct dest *d, uint64_t len, const uint8_t sha256[32])
{
	struct framed *f = d->fr;
	const struct frame_verdict *v = &f->v;

	if (v->code != FRAME_VERIFIED) {
		snprintf(f->why, sizeof(f->why), "not verified: %s%s%s", frame_code_name(v->code),
			 *v->reason ? ": " : "", v->reason);
		return 0;
	}
	if (v->bytes != len || memcmp(v->sha256, sha256, 32)) {
		snprintf(f->why, sizeof(f->why),
			 "not verified: the receiver says verified, but for %llu bytes and "
			 "another SHA-256 than the %llu sent",
			 (unsigned long long)v->bytes, (unsigned long long)len);
		return 0;
	}
	return 1;
}

void framed_free(struct dest *d)
{
	free(d->fr);
	d->fr = NULL;
}
