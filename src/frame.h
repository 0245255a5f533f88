/*
 * The framed protocol between a ringcast sender (DEST ringcast://HOST:PORT)
 * and a ringcast receiver (SOURCE ringcast-listen://[HOST:]PORT), written
 * down in doc/PROTOCOL.md.  On one TCP connection:
 *
 *   sender -> receiver: header, the stream's bytes as they are, trailer,
 *                       then FIN
 *   receiver -> sender: one verdict, then FIN (or a reset)
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
};
#define FRAME_NAME_MAX 1024

/* Trailer, after the stream: "RINGCEND", u64 the stream's length in bytes,
 * its SHA-256 (32 bytes). */
#define FRAME_TRAILER_LEN 48

/* Verdict: "RINGCVRD", u16 version, u16 code, u64 bytes the receiver took,
 * the SHA-256 it computed (32 bytes; zeros when it has none), u16 length
 * of the reason, the reason (UTF-8, no NUL, at most FRAME_REASON_MAX). */
#define FRAME_VERDICT_FIXED 54
#define FRAME_REASON_MAX    512
enum frame_code {
	FRAME_VERIFIED = 0,      /* every byte, its SHA-256 matches, every output synced */
	FRAME_MISMATCH = 1,      /* the SHA-256 (or the length) is not the trailer's */
	FRAME_TRUNCATED = 2,     /* the stream ended before its trailer */
	FRAME_OUTPUT_FAILED = 3, /* an output of the receiver failed */
	FRAME_BAD_HEADER = 4,    /* the header could not be read; nothing written */
	FRAME_REFUSED = 5,       /* the receiver will not take this stream (version,
				  * a critical field it does not know, --allow) */
};

struct frame_header {
	unsigned version;
	char name[FRAME_NAME_MAX + 1]; /* "" when the sender gave none */
	int has_size;
	uint64_t size;
	int has_expect;
	uint8_t expect[32];
};

struct frame_verdict {
	unsigned version;
	unsigned code; /* enum frame_code; a code this build does not know is kept */
	uint64_t bytes;
	uint8_t sha256[32];
	char reason[FRAME_REASON_MAX + 1];
};

/* The largest header frame_header_encode writes. */
#define FRAME_HEADER_MAX (FRAME_FIXED + 4 + FRAME_NAME_MAX + 4 + 8 + 4 + 32)
/* The largest verdict. */
#define FRAME_VERDICT_MAX (FRAME_VERDICT_FIXED + FRAME_REASON_MAX)

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
 * cut there) into buf of cap bytes.  Returns its length, or -ENOSPC. */
ssize_t frame_verdict_encode(const struct frame_verdict *v, uint8_t *buf, size_t cap);

/* Read a verdict from the len bytes at buf: its length (> 0) when whole,
 * 0 when more are needed, -1 with *why (static) when they are not one.
 * Control characters in the reason become '?', so that it can be
 * printed.  Reads no byte at or past buf + len. */
ssize_t frame_verdict_parse(const uint8_t *buf, size_t len, struct frame_verdict *v,
			    const char **why);

/* The code's name as a user reads it: "verified", "digest mismatch",
 * "truncated", "output failed", "bad header", "refused"; "unknown verdict"
 * for a code this build does not know.  A static string. */
const char *frame_code_name(unsigned code);

#endif
