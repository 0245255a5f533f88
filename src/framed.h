/*
 * A ringcast:// destination's side of the framed protocol (frame.h,
 * doc/PROTOCOL.md): the header before the stream (with its plan, in a
 * tree, and its MAC, with a key), the trailer after it, and the receiver's
 * verdict, read back on the same connection with its subtree's host
 * records.  dest.c calls these at those three moments; the stream itself
 * goes through the transport like any other peer's.
 */
#ifndef RINGCAST_FRAMED_H
#define RINGCAST_FRAMED_H

#include <stdint.h>

#include "frame.h"

struct dest;

struct framed {
	uint8_t *hdr; /* the header, encoded (and signed) */
	size_t hdr_len;
	uint8_t trailer[FRAME_TRAILER_LEN];
	const uint8_t *out;      /* what is being sent: hdr, then trailer */
	size_t out_len, out_off; /* of out: to send, sent */
	int trailer_queued;      /* out is the trailer */
	uint8_t *in;             /* the verdict as it arrives (grows) */
	size_t in_len, in_cap;
	int answered;    /* v is the receiver's verdict, its records in `in` */
	int resume_wait; /* a RESUME header went: its offset is awaited */
	struct frame_verdict v;
	char ask_host[FRAME_HOST_MAX + 1]; /* the last ask (framed_read gave 2) */
	uint64_t ask_at;
	unsigned strays;                 /* asks for hosts not in its plan (warned once) */
	char why[FRAME_REASON_MAX + 96]; /* why it did not verify, for dest_fail */
};

/* d (kind DEST_FRAMED) is connected: queue header h, with d->plan when d
 * has one, signed with key (keylen bytes; NULL: unsigned).  0 or -errno. */
int framed_begin(struct dest *d, const struct frame_header *h, const uint8_t *key, size_t keylen);
/* Send what is queued.  1 when all of it went, 0 when the socket is full
 * (d->px.writable cleared), -errno when the send failed. */
int framed_flush(struct dest *d);
/* A RESUME header went: read the receiver's answer.  1 and *offset once it
 * is whole, 0 for more, -EPROTO when what came is no resume answer (a
 * verdict refusing it, read on by framed_read), -errno when the connection
 * failed. */
int framed_resume(struct dest *d, uint64_t *offset);
/* The stream ended whole at len bytes with that SHA-256: queue the trailer. */
void framed_end(struct dest *d, uint64_t len, const uint8_t sha256[32]);
/* Read what the receiver sent.  1 once its verdict is whole (d->fr->v),
 * 2 for an ask before it (d->fr->ask_host, ask_at: call again for more),
 * 0 for more, -errno when the connection failed or ended first (-EPROTO:
 * what came is no verdict; d->fr->why says so). */
int framed_read(struct dest *d);
/* Whether d's receiver reported on its subtree: it answered, and took the
 * stream (a refusal or a bad header: it relayed to no one). */
int framed_relayed(const struct dest *d);
/* The verdict against the stream sent (len bytes, that SHA-256): 1 when
 * it verified, else 0 with d->fr->why saying why not. */
int framed_verified(struct dest *d, uint64_t len, const uint8_t sha256[32]);
void framed_free(struct dest *d);

#endif
