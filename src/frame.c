/* The framed protocol's encoders and parsers (frame.h, doc/PROTOCOL.md).
 * Pure: no I/O, no allocation, no byte read at or past the end given. */
#include "frame.h"

#include <errno.h>
#include <string.h>

#define HEADER_MAGIC  "RINGCAST"
#define TRAILER_MAGIC "RINGCEND"
#define VERDICT_MAGIC "RINGCVRD"
#define RESUME_MAGIC  "RINGCRES"
#define ASK_MAGIC     "RINGCASK"
#define MAGIC_LEN     8

/* The messages are static strings that name the limits. */
#define STR_(x) #x
#define STR(x)  STR_(x)
_Static_assert(FRAME_NAME_MAX == 1024 && FRAME_FIELDS_MAX == 65536 && FRAME_REASON_MAX == 512 &&
		       FRAME_HOSTS_MAX == 8192,
	       "the messages below name these limits");

static void put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p + 2, v & 0xffff);
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)(v >> 32));
	put32(p + 4, (uint32_t)v);
}

static unsigned get16(const uint8_t *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)get16(p) << 16 | get16(p + 2);
}

static uint64_t get64(const uint8_t *p)
{
	return (uint64_t)get32(p) << 32 | get32(p + 4);
}

/* A byte a terminal would act on rather than show: never let one through
 * from the wire into a name or a reason that is printed. */
static int is_control(uint8_t c)
{
	return c < 0x20 || c == 0x7f;
}

/* The length of s (at most max + 1 bytes are looked at) cut to max bytes
 * at a UTF-8 boundary: never before a continuation byte, so that the cut
 * leaves no half character for the peer to print. */
static size_t cut_utf8(const char *s, size_t max)
{
	size_t n = strnlen(s, max + 1);

	if (n <= max)
		return n;
	n = max;
	while (n > 0 && ((uint8_t)s[n] & 0xc0) == 0x80)
		n--;
	return n;
}

/* Does the prefix of buf that is there (up to MAGIC_LEN bytes) match
 * magic?  Deciding on a prefix lets a receiver turn away a stranger (an
 * HTTP probe, a stray "\r\n") at once instead of waiting for 16 bytes
 * that may never come; a valid prefix is never turned away. */
static int magic_ok(const uint8_t *buf, size_t len, const char *magic)
{
	size_t n = len < MAGIC_LEN ? len : MAGIC_LEN;

	return n == 0 || memcmp(buf, magic, n) == 0;
}

static int fail(unsigned *code, const char **why, unsigned c, const char *msg)
{
	*code = c;
	*why = msg;
	return -1;
}

static uint8_t *put_field(uint8_t *p, unsigned type, size_t len)
{
	put16(p, type);
	put16(p + 2, (unsigned)len);
	return p + 4;
}

ssize_t frame_header_encode(const struct frame_header *h, uint8_t *buf, size_t cap)
{
	size_t nlen = cut_utf8(h->name, FRAME_NAME_MAX);
	size_t flen = (nlen ? 4 + nlen : 0) + (h->has_size ? 12 : 0) + (h->has_expect ? 36 : 0) +
		(h->plan ? 4 + h->plan_len : 0) + (h->has_mac ? 4 + FRAME_MAC_LEN : 0) +
		(h->has_id ? 4 + FRAME_ID_LEN : 0) + (h->resume ? 4 : 0);
	uint8_t *p = buf + FRAME_FIXED;

	if (h->plan && h->plan_len > 0xffff)
		return -EINVAL;
	if (cap < FRAME_FIXED + flen)
		return -ENOSPC;
	memcpy(buf, HEADER_MAGIC, MAGIC_LEN);
	put16(buf + 8, FRAME_VERSION);
	put16(buf + 10, 0);
	put32(buf + 12, (uint32_t)flen);
	if (nlen) {
		p = put_field(p, FRAME_F_NAME, nlen);
		/* A file name may hold a newline; every receiver would refuse
		 * the header for it, so it goes as '?' (the name only informs). */
		for (size_t i = 0; i < nlen; i++)
			p[i] = is_control((uint8_t)h->name[i]) ? '?' : (uint8_t)h->name[i];
		p += nlen;
	}
	if (h->has_size) {
		p = put_field(p, FRAME_F_SIZE, 8);
		put64(p, h->size);
		p += 8;
	}
	if (h->has_expect) {
		p = put_field(p, FRAME_F_EXPECT_SHA256, 32);
		memcpy(p, h->expect, 32);
		p += 32;
	}
	if (h->has_id) {
		p = put_field(p, FRAME_F_STREAM_ID, FRAME_ID_LEN);
		memcpy(p, h->id, FRAME_ID_LEN);
		p += FRAME_ID_LEN;
	}
	if (h->resume)
		p = put_field(p, FRAME_F_RESUME, 0);
	if (h->plan) {
		p = put_field(p, FRAME_F_PLAN, h->plan_len);
		memcpy(p, h->plan, h->plan_len);
		p += h->plan_len;
	}
	if (h->has_mac) { /* last: it covers every byte before its value */
		p = put_field(p, FRAME_F_MAC, FRAME_MAC_LEN);
		memset(p, 0, FRAME_MAC_LEN);
		p += FRAME_MAC_LEN;
	}
	return p - buf;
}

static int take_name(const uint8_t *v, size_t n, struct frame_header *h, unsigned *code,
		     const char **why)
{
	if (n == 0)
		return fail(code, why, FRAME_BAD_HEADER, "header field NAME is empty");
	if (n > FRAME_NAME_MAX)
		return fail(code, why, FRAME_BAD_HEADER,
			    "header field NAME is longer than 1024 bytes");
	for (size_t i = 0; i < n; i++)
		if (is_control(v[i]))
			return fail(code, why, FRAME_BAD_HEADER,
				    "header field NAME holds a NUL or a control character");
	memcpy(h->name, v, n);
	h->name[n] = '\0';
	return 0;
}

static int take_plan(const uint8_t *v, size_t n, struct frame_header *h, unsigned *code,
		     const char **why)
{
	unsigned k;
	size_t hosts;

	if (frame_plan_parse(v, n, &k, &hosts, why) < 0) {
		*code = FRAME_BAD_HEADER;
		return -1;
	}
	h->plan = v;
	h->plan_len = n;
	return 0;
}

/* One field of type with its n bytes of value at v (base: the header's
 * first byte).  seen has a bit for each known type already taken: a
 * second one would leave the receiver to guess which the sender meant. */
static int take_field(unsigned type, const uint8_t *v, size_t n, const uint8_t *base,
		      struct frame_header *h, unsigned *seen, unsigned *code, const char **why)
{
	unsigned bit = type & ~FRAME_CRITICAL;

	if (type == FRAME_F_NAME || type == FRAME_F_SIZE || type == FRAME_F_EXPECT_SHA256 ||
	    type == FRAME_F_PLAN || type == FRAME_F_MAC || type == FRAME_F_STREAM_ID ||
	    type == FRAME_F_RESUME) {
		if (*seen & 1u << bit)
			return fail(code, why, FRAME_BAD_HEADER, "header field given twice");
		*seen |= 1u << bit;
	}
	switch (type) {
	case FRAME_F_STREAM_ID:
		if (n != FRAME_ID_LEN)
			return fail(code, why, FRAME_BAD_HEADER,
				    "header field STREAM_ID is not 16 bytes");
		h->has_id = 1;
		memcpy(h->id, v, FRAME_ID_LEN);
		return 0;
	case FRAME_F_RESUME:
		if (n != 0)
			return fail(code, why, FRAME_BAD_HEADER,
				    "header field RESUME is not empty");
		h->resume = 1;
		return 0;
	case FRAME_F_PLAN:
		return take_plan(v, n, h, code, why);
	case FRAME_F_MAC:
		if (n != FRAME_MAC_LEN)
			return fail(code, why, FRAME_BAD_HEADER,
				    "header field MAC is not 32 bytes");
		h->has_mac = 1;
		h->mac_off = (size_t)(v - base);
		return 0;
	case FRAME_F_NAME:
		return take_name(v, n, h, code, why);
	case FRAME_F_SIZE:
		if (n != 8)
			return fail(code, why, FRAME_BAD_HEADER,
				    "header field SIZE is not 8 bytes");
		h->has_size = 1;
		h->size = get64(v);
		return 0;
	case FRAME_F_EXPECT_SHA256:
		if (n != 32)
			return fail(code, why, FRAME_BAD_HEADER,
				    "header field EXPECT_SHA256 is not 32 bytes");
		h->has_expect = 1;
		memcpy(h->expect, v, 32);
		return 0;
	}
	/* The critical bit is how a later sender says "do not take this
	 * stream unless you know what this means"; the rest may be skipped. */
	if (type & FRAME_CRITICAL)
		return fail(code, why, FRAME_REFUSED,
			    "header has a critical field this receiver does not know");
	return 0;
}

/* The fields, all n bytes of them at p, into h (base: the header's first
 * byte). */
static int parse_fields(const uint8_t *base, const uint8_t *p, size_t n, struct frame_header *h,
			unsigned *code, const char **why)
{
	unsigned seen = 0;

	while (n > 0) {
		if (n < 4 || get16(p + 2) > n - 4)
			return fail(code, why, FRAME_BAD_HEADER,
				    "header field runs past the length of the fields");
		if (h->has_mac) /* it covers the bytes before it, so nothing may follow */
			return fail(code, why, FRAME_BAD_HEADER,
				    "header field MAC is not the last field");
		unsigned type = get16(p);
		size_t vlen = get16(p + 2);
		if (take_field(type, p + 4, vlen, base, h, &seen, code, why) < 0)
			return -1;
		p += 4 + vlen;
		n -= 4 + vlen;
	}
	return 0;
}

ssize_t frame_header_parse(const uint8_t *buf, size_t len, struct frame_header *h, unsigned *code,
			   const char **why)
{
	if (!magic_ok(buf, len, HEADER_MAGIC))
		return fail(code, why, FRAME_BAD_HEADER,
			    "not a ringcast stream (no RINGCAST header)");
	/* Only the magic and the version stay where they are in every
	 * version: decide on the version before reading anything after it. */
	if (len >= 10 && get16(buf + 8) != FRAME_VERSION)
		return fail(code, why, FRAME_REFUSED,
			    "protocol version not supported (this receiver speaks version " STR(
				    FRAME_VERSION) ")");
	if (len < FRAME_FIXED)
		return 0;
	if (get16(buf + 10) != 0)
		return fail(code, why, FRAME_BAD_HEADER,
			    "header flags are not 0 (this receiver knows no flag)");
	/* Said now, from the 16 bytes: a sender announcing 4 GiB of fields
	 * is not waited for. */
	uint32_t flen = get32(buf + 12);
	if (flen > FRAME_FIELDS_MAX)
		return fail(code, why, FRAME_BAD_HEADER,
			    "header fields longer than 64 KiB (the most a receiver takes)");
	if (len - FRAME_FIXED < flen)
		return 0;
	memset(h, 0, sizeof(*h));
	h->version = FRAME_VERSION;
	if (parse_fields(buf, buf + FRAME_FIXED, flen, h, code, why) < 0)
		return -1;
	return (ssize_t)(FRAME_FIXED + flen);
}

void frame_trailer_encode(uint64_t len, const uint8_t sha256[32], uint8_t *buf)
{
	memcpy(buf, TRAILER_MAGIC, MAGIC_LEN);
	put64(buf + 8, len);
	memcpy(buf + 16, sha256, 32);
}

int frame_trailer_parse(const uint8_t *buf, uint64_t *len, uint8_t sha256[32], const char **why)
{
	if (memcmp(buf, TRAILER_MAGIC, MAGIC_LEN)) {
		*why = "the stream does not end with a ringcast trailer (no RINGCEND)";
		return -1;
	}
	*len = get64(buf + 8);
	memcpy(sha256, buf + 16, 32);
	return 0;
}

static size_t host_record_size(const struct frame_host *h)
{
	return 2 + cut_utf8(h->address, FRAME_HOST_MAX) + 2 + 8 + 8 + 2 +
		cut_utf8(h->reason, FRAME_REASON_MAX);
}

size_t frame_verdict_size(const struct frame_verdict *v)
{
	size_t n = FRAME_VERDICT_FIXED + cut_utf8(v->reason, FRAME_REASON_MAX) + 4;

	for (size_t i = 0; i < v->nhosts; i++)
		n += host_record_size(&v->hosts[i]);
	return n;
}

static uint8_t *put_host(uint8_t *p, const struct frame_host *h)
{
	size_t alen = cut_utf8(h->address, FRAME_HOST_MAX),
	       rlen = cut_utf8(h->reason, FRAME_REASON_MAX);

	put16(p, (unsigned)alen);
	memcpy(p + 2, h->address, alen);
	p += 2 + alen;
	put16(p, h->code);
	put64(p + 2, h->bytes);
	put64(p + 10, h->resumed_from);
	put16(p + 18, (unsigned)rlen);
	memcpy(p + 20, h->reason, rlen);
	return p + 20 + rlen;
}

ssize_t frame_verdict_encode(const struct frame_verdict *v, uint8_t *buf, size_t cap)
{
	size_t rlen = cut_utf8(v->reason, FRAME_REASON_MAX), n = v->nhosts;

	if (n > FRAME_HOSTS_MAX)
		n = FRAME_HOSTS_MAX;
	if (cap < frame_verdict_size(v))
		return -ENOSPC;
	memcpy(buf, VERDICT_MAGIC, MAGIC_LEN);
	put16(buf + 8, FRAME_VERSION);
	put16(buf + 10, v->code);
	put64(buf + 12, v->bytes);
	memcpy(buf + 20, v->sha256, 32);
	put16(buf + 52, (unsigned)rlen);
	memcpy(buf + FRAME_VERDICT_FIXED, v->reason, rlen);
	uint8_t *p = buf + FRAME_VERDICT_FIXED + rlen;
	put32(p, (uint32_t)n);
	p += 4;
	for (size_t i = 0; i < n; i++)
		p = put_host(p, &v->hosts[i]);
	return p - buf;
}

/* Check the n host records from off of the len bytes at buf: the offset
 * past them (> 0), 0 when more bytes are needed, -1 with *why. */
static ssize_t check_hosts(const uint8_t *buf, size_t len, size_t off, size_t n, const char **why)
{
	for (size_t i = 0; i < n; i++) {
		if (len - off < 2)
			return 0;
		size_t alen = get16(buf + off);
		if (alen == 0 || alen > FRAME_HOST_MAX) {
			*why = "verdict host record with a malformed address";
			return -1;
		}
		if (len - off < 2 + alen + 20)
			return 0;
		size_t rlen = get16(buf + off + 2 + alen + 18);
		if (rlen > FRAME_REASON_MAX) {
			*why = "verdict host record with a reason longer than 512 bytes";
			return -1;
		}
		if (len - off < 2 + alen + 20 + rlen)
			return 0;
		off += 2 + alen + 20 + rlen;
	}
	return (ssize_t)off;
}

/* n bytes at src into dst (n + 1 bytes), control characters as '?'. */
static void printable(char *dst, const uint8_t *src, size_t n)
{
	for (size_t i = 0; i < n; i++)
		dst[i] = is_control(src[i]) ? '?' : (char)src[i];
	dst[n] = '\0';
}

void frame_host_parse(const uint8_t *buf, size_t *off, struct frame_host *h)
{
	const uint8_t *p = buf + *off;
	size_t alen = get16(p);

	printable(h->address, p + 2, alen);
	p += 2 + alen;
	h->code = get16(p);
	h->bytes = get64(p + 2);
	h->resumed_from = get64(p + 10);
	size_t rlen = get16(p + 18);
	printable(h->reason, p + 20, rlen);
	*off += 2 + alen + 20 + rlen;
}

ssize_t frame_verdict_parse(const uint8_t *buf, size_t len, struct frame_verdict *v,
			    const char **why)
{
	if (!magic_ok(buf, len, VERDICT_MAGIC)) {
		*why = "not a ringcast verdict (no RINGCVRD)";
		return -1;
	}
	if (len >= 10 && get16(buf + 8) != FRAME_VERSION) {
		*why = "verdict of an unknown protocol version";
		return -1;
	}
	if (len < FRAME_VERDICT_FIXED)
		return 0;
	size_t rlen = get16(buf + 52);
	if (rlen > FRAME_REASON_MAX) {
		*why = "verdict reason longer than 512 bytes";
		return -1;
	}
	if (len - FRAME_VERDICT_FIXED < rlen + 4)
		return 0;
	size_t nhosts = get32(buf + FRAME_VERDICT_FIXED + rlen);
	if (nhosts > FRAME_HOSTS_MAX) {
		*why = "verdict with more than 8192 host records";
		return -1;
	}
	ssize_t end = check_hosts(buf, len, FRAME_VERDICT_FIXED + rlen + 4, nhosts, why);
	if (end <= 0)
		return end;
	v->nhosts = nhosts;
	v->hosts = NULL;
	v->hosts_off = FRAME_VERDICT_FIXED + rlen + 4;
	v->version = FRAME_VERSION;
	v->code = get16(buf + 10);
	v->bytes = get64(buf + 12);
	memcpy(v->sha256, buf + 20, 32);
	/* The reason is printed by the sender: nothing in it may move a cursor. */
	printable(v->reason, buf + FRAME_VERDICT_FIXED, rlen);
	return end;
}

const char *frame_code_name(unsigned code)
{
	static const char *const names[] = {
		[FRAME_VERIFIED] = "verified",     [FRAME_MISMATCH] = "digest mismatch",
		[FRAME_TRUNCATED] = "truncated",   [FRAME_OUTPUT_FAILED] = "output failed",
		[FRAME_BAD_HEADER] = "bad header", [FRAME_REFUSED] = "refused",
		[FRAME_UNANSWERED] = "no verdict", [FRAME_BUSY] = "busy",
	};

	if (code >= sizeof(names) / sizeof(names[0]))
		return "unknown verdict";
	return names[code];
}

/* A plan's host: 1 to FRAME_HOST_MAX bytes of printable ASCII, no blank. */
static int host_ok(const uint8_t *s, size_t n)
{
	if (n == 0 || n > FRAME_HOST_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (s[i] <= ' ' || s[i] >= 0x7f)
			return 0;
	return 1;
}

ssize_t frame_plan_encode(unsigned k, const char *const *hosts, size_t n, uint8_t *buf, size_t cap)
{
	size_t len = 2;

	if (k == 0 || k > 0xffff)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		size_t hl = strlen(hosts[i]);
		if (!host_ok((const uint8_t *)hosts[i], hl))
			return -EINVAL;
		len += 2 + hl;
	}
	if (len > cap || len > 0xffff)
		return -ENOSPC;
	put16(buf, k);
	uint8_t *p = buf + 2;
	for (size_t i = 0; i < n; i++) {
		size_t hl = strlen(hosts[i]);
		put16(p, (unsigned)hl);
		memcpy(p + 2, hosts[i], hl);
		p += 2 + hl;
	}
	return (ssize_t)len;
}

int frame_plan_parse(const uint8_t *p, size_t len, unsigned *k, size_t *n, const char **why)
{
	size_t off = 2;

	if (len < 2 || get16(p) == 0) {
		*why = "header field PLAN has no fan-out";
		return -1;
	}
	*k = get16(p);
	*n = 0;
	while (off < len) {
		if (len - off < 2 || get16(p + off) > len - off - 2 ||
		    !host_ok(p + off + 2, get16(p + off))) {
			*why = "header field PLAN holds a malformed host";
			return -1;
		}
		off += 2 + get16(p + off);
		(*n)++;
	}
	return 0;
}

void frame_plan_host(const uint8_t *p, size_t *off, char *out)
{
	size_t o = *off ? *off : 2, hl = get16(p + o);

	memcpy(out, p + o + 2, hl);
	out[hl] = '\0';
	*off = o + 2 + hl;
}

void frame_resume_encode(uint64_t offset, uint8_t *buf)
{
	memcpy(buf, RESUME_MAGIC, MAGIC_LEN);
	put64(buf + 8, offset);
}

ssize_t frame_ask_encode(uint64_t offset, const char *host, uint8_t *buf)
{
	size_t hl = strlen(host);

	if (!host_ok((const uint8_t *)host, hl))
		return -EINVAL;
	memcpy(buf, ASK_MAGIC, MAGIC_LEN);
	put64(buf + 8, offset);
	put16(buf + 16, (unsigned)hl);
	memcpy(buf + FRAME_ASK_FIXED, host, hl);
	return (ssize_t)(FRAME_ASK_FIXED + hl);
}

int frame_is_ask(const uint8_t *buf, size_t len)
{
	return len > 0 && magic_ok(buf, len, ASK_MAGIC);
}

ssize_t frame_ask_parse(const uint8_t *buf, size_t len, uint64_t *offset, char *host,
			const char **why)
{
	if (!magic_ok(buf, len, ASK_MAGIC)) {
		*why = "not an ask";
		return -1;
	}
	if (len < FRAME_ASK_FIXED)
		return 0;
	size_t hl = get16(buf + 16);
	if (hl == 0 || hl > FRAME_HOST_MAX) {
		*why = "an ask with a malformed host";
		return -1;
	}
	if (len - FRAME_ASK_FIXED < hl)
		return 0;
	if (!host_ok(buf + FRAME_ASK_FIXED, hl)) {
		*why = "an ask with a malformed host";
		return -1;
	}
	*offset = get64(buf + 8);
	memcpy(host, buf + FRAME_ASK_FIXED, hl);
	host[hl] = '\0';
	return (ssize_t)(FRAME_ASK_FIXED + hl);
}

int frame_resume_parse(const uint8_t *buf, uint64_t *offset)
{
	if (memcmp(buf, RESUME_MAGIC, MAGIC_LEN))
		return -1;
	*offset = get64(buf + 8);
	return 0;
}
