/*
 * The framed protocol between a ringcast sender (DEST ringcast://HOST:PORT)
 * and a ringcast receiver (SOURCE ringcast-listen://[HOST:]PORT), written
 * down in doc/PROTOCOL.md.  On one TCP connection:
 *
 *   sender -> receiver: header, the stream's bytes as they are, trailer,
 *                       then FIN
 *   receiver -> sender: one verdict, then FIN (or a reset)
 *
 *   receiver -> sender: in a tree, before the verdict, any number of asks
 *                       (a host below it to be resumed further up)
 *
 * Every integer is unsigned and big-endian.  Everything here is pure: it
 * reads and writes the buffers it is given and nothing else, so that the
 * parsers can be fuzzed and tested against a guard page.
 */
#ifndef RINGCAST_FRAME_H
#define RINGCAST_FRAME_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define FRAME_VERSION 1 /* the version this build speaks */

/* Header: "RINGCAST", u16 version, u16 flags (0), u32 length of the
 * fields that follow, then the fields: each u16 type, u16 length, value.
 * A type with FRAME_CRITICAL set must be understood: a receiver that does
 * not know it refuses the stream; any other unknown field is skipped. */
#define FRAME_FIXED      16
#define FRAME_FIELDS_MAX 65536 /* the most field bytes a receiver takes */
#define FRAME_CRITICAL   0x8000u
enum frame_field {
	FRAME_F_NAME = 1,          /* the stream's name, 1..FRAME_NAME_MAX bytes, no NUL */
	FRAME_F_SIZE = 2,          /* u64: its length, when the sender knows it */
	FRAME_F_EXPECT_SHA256 = 3, /* 32 bytes: --expect-digest of the sender */
	/* The subtree this receiver forwards to (--tree): u16 fan-out K, then
	 * the hosts, each u16 length and "HOST:PORT" (frame_plan_*). */
	FRAME_F_PLAN = FRAME_CRITICAL | 4,
	/* HMAC-SHA256 of every header byte before this value, with the
	 * fleet's key (--key-file); the last field when there is one. */
	FRAME_F_MAC = FRAME_CRITICAL | 5,
	/* 16 bytes the root of a tree draws at random: which stream this is,
	 * so that a receiver resumes only the stream it has part of. */
	FRAME_F_STREAM_ID = 6,
	/* Empty: this connection continues a stream the receiver already has
	 * part of (its relay died); it answers with frame_resume_encode's 16
	 * bytes, and the sender goes on from the offset they give. */
	FRAME_F_RESUME = FRAME_CRITICAL | 7,
};
#define FRAME_ID_LEN     16
#define FRAME_RESUME_LEN 16 /* "RINGCRES", u64 the offset to go on from */
#define FRAME_NAME_MAX   1024
#define FRAME_HOST_MAX   261 /* "[" 253-byte name or address "]:" 5 digits */
#define FRAME_MAC_LEN    32

/* Trailer, after the stream: "RINGCEND", u64 the stream's length in bytes,
 * its SHA-256 (32 bytes). */
#define FRAME_TRAILER_LEN 48

/* Verdict: "RINGCVRD", u16 version, u16 code, u64 bytes the receiver took,
 * the SHA-256 it computed (32 bytes; zeros when it has none), u16 length
 * of the reason, the reason (UTF-8, no NUL, at most FRAME_REASON_MAX), then
 * u32 the number of host records that follow: the verdicts of the
 * receiver's subtree (--tree), each u16 length and the host's "HOST:PORT",
 * u16 code, u64 bytes, u64 the offset it resumed from, u16 length and its
 * reason. */
#define FRAME_VERDICT_FIXED 54
#define FRAME_REASON_MAX    512
enum frame_code {
	FRAME_VERIFIED = 0,      /* every byte, its SHA-256 matches, every output synced */
	FRAME_MISMATCH = 1,      /* the SHA-256 (or the length) is not the trailer's */
	FRAME_TRUNCATED = 2,     /* the stream ended before its trailer */
	FRAME_OUTPUT_FAILED = 3, /* an output of the receiver failed */
	FRAME_BAD_HEADER = 4,    /* the header could not be read; nothing written */
	FRAME_REFUSED = 5,       /* the receiver will not take this stream (version,
				  * a critical field it does not know, a plan it
				  * cannot trust) */
	FRAME_UNANSWERED = 6,    /* in a host record: that host gave no verdict (it
				  * could not be reached, or failed, or its relay did) */
	FRAME_BUSY = 7,          /* a tree's receiver whose sender is alive turns away
				  * any other connection unread: a host resuming it
				  * tries again shortly (the dead relay's last bytes
				  * may still be on their way) */
};
#define FRAME_HOSTS_MAX       8192 /* host records in one verdict */
#define FRAME_HOST_RECORD_MAX (2 + FRAME_HOST_MAX + 2 + 8 + 8 + 2 + FRAME_REASON_MAX)

struct frame_header {
	unsigned version;
	char name[FRAME_NAME_MAX + 1]; /* "" when the sender gave none */
	int has_size;
	uint64_t size;
	int has_expect;
	uint8_t expect[32];
	/* PLAN's value: encode takes it as frame_plan_encode wrote it; parse
	 * points it into the buffer parsed (NULL: none). */
	const uint8_t *plan;
	size_t plan_len;
	/* Encode: leave room for a MAC (the caller computes it into the last
	 * FRAME_MAC_LEN bytes of the header, over every byte before them).
	 * Parse: whether there is one, at offset mac_off of the buffer. */
	int has_mac;
	size_t mac_off;
	int has_id; /* STREAM_ID */
	uint8_t id[FRAME_ID_LEN];
	int resume; /* RESUME */
};

/* One host's verdict in a subtree. */
struct frame_host {
	char address[FRAME_HOST_MAX + 1];
	unsigned code;
	uint64_t bytes, resumed_from;
	char reason[FRAME_REASON_MAX + 1];
};

struct frame_verdict {
	unsigned version;
	unsigned code; /* enum frame_code; a code this build does not know is kept */
	uint64_t bytes;
	uint8_t sha256[32];
	char reason[FRAME_REASON_MAX + 1];
	/* Encode: the host records to append (n of them at hosts).  Parse: how
	 * many there are, from offset hosts_off of the buffer (frame_host_parse). */
	const struct frame_host *hosts;
	size_t nhosts, hosts_off;
};

/* The largest header frame_header_encode writes without PLAN and MAC, and
 * the room one with a plan of plan_len bytes and a MAC needs. */
#define FRAME_HEADER_MAX (FRAME_FIXED + 4 + FRAME_NAME_MAX + 4 + 8 + 4 + 32)
#define FRAME_HEADER_ROOM(plan_len)                                                                \
	(FRAME_HEADER_MAX + 4 + (plan_len) + 4 + FRAME_MAC_LEN + 4 + FRAME_ID_LEN + 4)
/* The largest verdict without host records, and with the most. */
#define FRAME_VERDICT_MAX   (FRAME_VERDICT_FIXED + FRAME_REASON_MAX + 4)
#define FRAME_VERDICT_LIMIT (FRAME_VERDICT_MAX + FRAME_HOSTS_MAX * FRAME_HOST_RECORD_MAX)

/* Write h (version FRAME_VERSION, whatever h->version says) into buf of cap
 * bytes.  A name longer than FRAME_NAME_MAX is cut there (at a UTF-8
 * boundary); a control byte in it goes as '?', since a receiver refuses a
 * name holding one.  Returns its length, or -ENOSPC when cap is too small. */
ssize_t frame_header_encode(const struct frame_header *h, uint8_t *buf, size_t cap);

/* Read a header from the len bytes at buf (which may hold more: the
 * stream's first bytes).  Returns the header's length (> 0) when it is
 * whole and acceptable, 0 when more bytes are needed to tell, or -1 with
 * *why (static) and *code (FRAME_BAD_HEADER: not a ringcast header, or a
 * malformed one; FRAME_REFUSED: another version, or a critical field this
 * build does not know).  Reads no byte at or past buf + len. */
ssize_t frame_header_parse(const uint8_t *buf, size_t len, struct frame_header *h, unsigned *code,
			   const char **why);

/* Write the trailer for a stream of len bytes with that SHA-256 into
 * buf[FRAME_TRAILER_LEN]. */
void frame_trailer_encode(uint64_t len, const uint8_t sha256[32], uint8_t *buf);

/* Read the FRAME_TRAILER_LEN bytes at buf.  0, or -1 with *why (static)
 * when they are not a trailer. */
int frame_trailer_parse(const uint8_t *buf, uint64_t *len, uint8_t sha256[32], const char **why);

/* Write v (version FRAME_VERSION; a reason longer than FRAME_REASON_MAX is
 * cut there) and its host records into buf of cap bytes.  Returns its
 * length, or -ENOSPC (frame_verdict_size says how much it needs). */
ssize_t frame_verdict_encode(const struct frame_verdict *v, uint8_t *buf, size_t cap);

/* Read a verdict from the len bytes at buf: its length (> 0) when whole
 * (host records and all: each is checked to fit, v->nhosts of them from
 * v->hosts_off), 0 when more are needed, -1 with *why (static) when they
 * are not one.
 * Control characters in the reason become '?', so that it can be
 * printed.  Reads no byte at or past buf + len. */
ssize_t frame_verdict_parse(const uint8_t *buf, size_t len, struct frame_verdict *v,
			    const char **why);

/* Write a plan: fan-out k (1..65535) and the n hosts ("HOST:PORT", 1 to
 * FRAME_HOST_MAX bytes each) into buf of cap bytes.  Its length, or
 * -ENOSPC (cap too small), -EINVAL (a host that does not fit the rules). */
ssize_t frame_plan_encode(unsigned k, const char *const *hosts, size_t n, uint8_t *buf, size_t cap);
/* Check a plan (PLAN's len bytes at p): 0 with *k and *n, or -1 with *why
 * (static).  A host is 1 to FRAME_HOST_MAX bytes of printable ASCII
 * without white space. */
int frame_plan_parse(const uint8_t *p, size_t len, unsigned *k, size_t *n, const char **why);
/* The next host of a plan that frame_plan_parse accepted, from *off (start
 * at 0), into out[FRAME_HOST_MAX + 1]; advances *off. */
void frame_plan_host(const uint8_t *p, size_t *off, char *out);

/* The bytes frame_verdict_encode needs for v. */
size_t frame_verdict_size(const struct frame_verdict *v);
/* The next host record of a verdict frame_verdict_parse accepted (buf as
 * it was given: the parse checked that every record fits), from *off
 * (start at v->hosts_off), into h; advances *off.  Control characters
 * become '?'. */
void frame_host_parse(const uint8_t *buf, size_t *off, struct frame_host *h);

/* A receiver's answer to a RESUME header: the offset it goes on from. */
void frame_resume_encode(uint64_t offset, uint8_t *buf);
/* Read the FRAME_RESUME_LEN bytes at buf: 0 and *offset, or -1 when they
 * are not a resume answer. */
int frame_resume_parse(const uint8_t *buf, uint64_t *offset);

/* Ask, receiver -> sender, before its verdict (a tree): "RINGCASK", u64
 * an offset, u16 length and "HOST:PORT", a host of the receiver's plan
 * whose stream was cut there and which the receiver cannot resume from its
 * own ring: the sender resumes it (or asks its own sender, up to the root).
 * The host is looked up in the plan the sender gave; nothing else is
 * connected to. */
#define FRAME_ASK_FIXED 18
#define FRAME_ASK_MAX   (FRAME_ASK_FIXED + FRAME_HOST_MAX)
/* Write an ask into buf[FRAME_ASK_MAX]: its length, or -EINVAL for a host
 * a plan could not hold. */
ssize_t frame_ask_encode(uint64_t offset, const char *host, uint8_t *buf);
/* Whether the len bytes at buf begin (as far as they go) like an ask. */
int frame_is_ask(const uint8_t *buf, size_t len);
/* Read an ask from the len bytes at buf (frame_is_ask): its length once
 * whole, with *offset and host[FRAME_HOST_MAX + 1]; 0 for more; -1 with
 * *why (static) when it is malformed.  Reads no byte at or past buf + len. */
ssize_t frame_ask_parse(const uint8_t *buf, size_t len, uint64_t *offset, char *host,
			const char **why);

/* The code's name as a user reads it: "verified", "digest mismatch",
 * "truncated", "output failed", "bad header", "refused"; "unknown verdict"
 * for a code this build does not know.  A static string. */
const char *frame_code_name(unsigned code);

#endif
