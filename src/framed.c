/* The sender's side of the framed protocol (framed.h). */
#include "framed.h"
#include "dest.h"
#include "digest.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define VERDICT_FIRST 4096 /* the verdict buffer's first size; it grows */

int framed_begin(struct dest *d, const struct frame_header *h, const uint8_t *key, size_t keylen)
{
	struct frame_header mine = *h;

	if (!d->fr && !(d->fr = calloc(1, sizeof(*d->fr))))
		return -ENOMEM;
	mine.plan = d->plan;
	mine.plan_len = d->plan_len;
	mine.resume = d->resume;
	mine.has_mac = key != NULL;
	free(d->fr->hdr);
	size_t cap = FRAME_HEADER_ROOM(d->plan_len);
	if (!(d->fr->hdr = malloc(cap)))
		return -ENOMEM;
	ssize_t n = frame_header_encode(&mine, d->fr->hdr, cap);
	if (n < 0)
		return (int)n;
	if (key) /* over every byte before the MAC's value, which ends the header */
		digest_hmac(key, keylen, d->fr->hdr, (size_t)n - FRAME_MAC_LEN,
			    d->fr->hdr + n - FRAME_MAC_LEN);
	d->fr->hdr_len = (size_t)n;
	d->fr->resume_wait = d->resume;
	d->fr->out = d->fr->hdr;
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
	frame_trailer_encode(len, sha256, d->fr->trailer);
	d->fr->out = d->fr->trailer;
	d->fr->out_len = FRAME_TRAILER_LEN;
	d->fr->out_off = 0;
	d->fr->trailer_queued = 1;
}

/* Room for more of the verdict: 0, or -1 when it is past any verdict's size. */
static int grow(struct framed *f)
{
	if (f->in_len < f->in_cap)
		return 0;
	size_t cap = f->in_cap ? 2 * f->in_cap : VERDICT_FIRST;
	if (cap > FRAME_VERDICT_LIMIT)
		cap = FRAME_VERDICT_LIMIT;
	uint8_t *in = cap > f->in_cap ? realloc(f->in, cap) : NULL;
	if (!in)
		return -1;
	f->in = in;
	f->in_cap = cap;
	return 0;
}

int framed_resume(struct dest *d, uint64_t *offset)
{
	struct framed *f = d->fr;

	while (f->in_len < FRAME_RESUME_LEN) {
		if (grow(f) < 0)
			return -ENOMEM;
		ssize_t n = recv(d->io.fd, f->in + f->in_len, FRAME_RESUME_LEN - f->in_len,
				 MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN ? 0 : -errno;
		if (n == 0) {
			f->resume_wait = 0;
			return -EPROTO; /* framed_read says it closed */
		}
		f->in_len += (size_t)n;
	}
	f->resume_wait = 0;
	if (frame_resume_parse(f->in, offset) < 0)
		return -EPROTO; /* a verdict, most likely: it stays in `in` */
	f->in_len = 0;
	return 1;
}

/* An ask at the start of `in`: 1 when whole (taken out of `in`), 0 for
 * more, -EPROTO when it is malformed. */
static int take_ask(struct framed *f)
{
	const char *why;
	ssize_t n = frame_ask_parse(f->in, f->in_len, &f->ask_at, f->ask_host, &why);

	if (n < 0) {
		snprintf(f->why, sizeof(f->why), "the receiver's answer is no verdict: %s", why);
		return -EPROTO;
	}
	if (n > 0) {
		f->in_len -= (size_t)n;
		memmove(f->in, f->in + n, f->in_len);
	}
	return n > 0;
}

/* What is in `in` now: 2 for a whole ask (taken out), 1 for a whole
 * verdict, 0 for more, -EPROTO (d->fr->why says why). */
static int take_in(struct framed *f)
{
	const char *why;

	if (frame_is_ask(f->in, f->in_len)) {
		int rc = take_ask(f);
		return rc > 0 ? 2 : rc;
	}
	if (f->in_len == 0)
		return 0;
	ssize_t got = frame_verdict_parse(f->in, f->in_len, &f->v, &why);
	if (got < 0) {
		snprintf(f->why, sizeof(f->why), "the receiver's answer is no verdict: %s", why);
		return -EPROTO;
	}
	f->answered = got > 0;
	return f->answered;
}

int framed_read(struct dest *d)
{
	struct framed *f = d->fr;

	/* What came already first: an ask and the verdict may come in one read. */
	for (int rc; !f->answered; f->in_len += (size_t)rc) {
		if ((rc = take_in(f)))
			return rc;
		if (grow(f) < 0) {
			snprintf(f->why, sizeof(f->why), "the receiver's answer is no verdict: %s",
				 "too long");
			return -EPROTO;
		}
		do
			rc = (int)recv(d->io.fd, f->in + f->in_len, f->in_cap - f->in_len,
				       MSG_DONTWAIT);
		while (rc < 0 && errno == EINTR);
		if (rc < 0)
			return errno == EAGAIN ? 0 : -errno;
		if (rc == 0) {
			snprintf(f->why, sizeof(f->why), "the receiver closed without a verdict");
			return -EPROTO;
		}
	}
	return 1;
}

int framed_relayed(const struct dest *d)
{
	const struct framed *f = d->fr;

	return f && f->answered && f->v.code != FRAME_REFUSED && f->v.code != FRAME_BAD_HEADER;
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
	if (d->fr) {
		free(d->fr->hdr);
		free(d->fr->in);
	}
	free(d->fr);
	d->fr = NULL;
}
