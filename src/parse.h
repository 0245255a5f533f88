/* The pure parsers of ringcast's arguments: sizes, durations, addresses
 * (DEST, -l, tcp:// and tcp-listen:// sources), --allow's CIDR blocks and
 * --dests-from lines.  They print nothing and exit never: the command line
 * (cli.c), the sources, the fuzzers and the unit tests share them. */
#ifndef RINGCAST_PARSE_H
#define RINGCAST_PARSE_H

#include <stddef.h>
#include <stdint.h>

struct cidr; /* net.h */

/* The longest duration an option takes, 10^15 ms (about 31,700 years): a
 * deadline of now_ms() plus it cannot overflow, so it also stands for
 * "never" where an option's 0 means that and the code has deadlines. */
#define MAX_DURATION_MS 1000000000000000ull

/* What a DEST names. */
enum dest_kind {
	DEST_TCP,    /* HOST:PORT, tcp://HOST:PORT: a plain TCP peer (nc and friends) */
	DEST_FRAMED, /* ringcast://HOST:PORT: a ringcast receiver (frame.h) */
	DEST_FILE,   /* file:PATH: a regular file (via PATH.part) or a device */
	DEST_STDOUT, /* -: standard output */
};

struct dest_spec {
	char *text; /* as the user wrote it, without tcp:// or tcp-listen:// */
	char *host; /* NULL for every address (a listener), a file and stdout */
	char port[6];
	enum dest_kind kind;
	const char *path; /* DEST_FILE: the path, in text */
};

/* A size in bytes: a decimal number with an optional K, M, G or T (powers
 * of 1024), which may be followed by "iB" or "B", any case: "64M", "1g",
 * "512KiB", "4096", "1.5M", "0.25G".  A fraction is rounded to the nearest
 * byte, a half up ("0.0005K" is 1), exactly (integer arithmetic, so "1.5M"
 * is 1572864); without a unit it must come to a whole number of bytes ("1.0"
 * is 1).  0, -EINVAL (not that form: "", ".5M", "1.M", "1.2.3", "-1"),
 * -EOVERFLOW (well formed, but more than 19 decimals), -EDOM (a fraction of
 * a byte: "1.5", "1.5B") or -ERANGE (past 2^64 - 1). */
int parse_size(const char *s, uint64_t *out);
/* A duration in milliseconds: a decimal number with an optional unit, ms, s
 * (the default), m or h, in any case: "60s", "500ms", "2m", "1h", "1.5s",
 * "1.5", "1S", "500MS"; rounded to the nearest millisecond, a half up, as
 * parse_size does.  0, -EINVAL (not that form), -EOVERFLOW (more than 19
 * decimals), -EDOM (above 0 but rounds to 0: "0.4ms") or -ERANGE (past
 * MAX_DURATION_MS). */
int parse_duration_ms(const char *s, uint64_t *out);

/* Where an address is given; each place takes its own forms. */
enum addr_use {
	ADDR_DEST, /* DEST, -o, --dests-from: HOST:PORT, [IPv6]:PORT, tcp://HOST:PORT */
	ADDR_LISTEN, /* -l: PORT or :PORT (every address), HOST:PORT, [IPv6]:PORT; port 0: a free one */
	ADDR_TCP_SOURCE,           /* -i tcp://HOST:PORT, tcp://[IPv6]:PORT */
	ADDR_TCP_LISTEN_SOURCE,    /* -i tcp-listen:// and exactly what -l takes */
	ADDR_FRAMED,               /* DEST ringcast://HOST:PORT, ringcast://[IPv6]:PORT */
	ADDR_FRAMED_LISTEN_SOURCE, /* -i ringcast-listen:// and what -l takes */
};
/* s as given at use: 0 and *out (the caller frees host and text; host is
 * NULL for every address: PORT alone or :PORT), or -EINVAL (-ENOMEM) with
 * *why: what is wrong with it, then the forms that place accepts, as in
 * "unsupported scheme 'udp://' (expected HOST:PORT, [IPv6]:PORT or
 * tcp://HOST:PORT)".  Schemes are matched in any case (RFC 3986 section
 * 3.1); brackets are for IPv6 addresses only; no address has white space.
 * *why may point to a per-thread buffer that the next call rewrites. */
int parse_addr(const char *s, enum addr_use use, struct dest_spec *out, const char **why);
/* The length of the URL scheme s starts with, counting the ':' and any
 * "//" after it ("udp://", "unix:" of "unix:/x"; RFC 3986 section 3.1: a
 * letter, then letters, digits, '+', '-' or '.'), or 0 when it does not
 * start with one followed by ":/". */
size_t url_scheme_len(const char *s);
/* A DEST: "-" (standard output), file:PATH (file:///PATH too),
 * ringcast://HOST:PORT, or what parse_addr takes for ADDR_DEST; out->kind
 * says which.  0, or -EINVAL (-ENOMEM) with *why, as parse_addr. */
int parse_dest(const char *s, struct dest_spec *out, const char **why);
/* --allow's ADDRESS[/BITS], IPv4 or IPv6 (no brackets); a bare address is
 * that one address.  0, or -EINVAL with *why set. */
int parse_cidr(const char *s, struct cidr *out, const char **why);
/* One line of a --dests-from file, changed in place: 1 and *out for a DEST,
 * 0 for a blank or comment line ('#' to the end is a comment), or -EINVAL
 * with *why set (white space between two words: one DEST per line). */
int parse_dest_line(char *line, struct dest_spec *out, const char **why);
/* parse_addr for ADDR_LISTEN. */
int parse_listen(const char *s, struct dest_spec *out, const char **why);

#endif
