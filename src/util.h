/* Small helpers shared by every module. */
#ifndef RINGCAST_UTIL_H
#define RINGCAST_UTIL_H

#include <stddef.h>
#include <stdint.h>

#define container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

/* Verbosity set once from the command line: -1 quiet, 0 normal, 1+ verbose. */
extern int log_level;

/* What every message on stderr starts with. */
#define MSG_PREFIX "ringcast: "

/* MSG_PREFIX + message on stderr, one line, escaped as text_escape does
 * (text.h).  errmsg() always, warnmsg() unless -q, info() only with -v.
 * notice() always too: for what a caller needs even under -q, such as the
 * address a listener got, or the status SIGUSR1 asks for (-q silences
 * progress and warnings, never those). */
void errmsg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void warnmsg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void notice(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The error convention below main (README, Conventions): format the
 * reason into buf (len bytes, owned by the failing object), point *why at
 * it, and return -1 for the caller to pass on. */
int fail_why(char *buf, size_t len, const char **why, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* A status line on stderr, as given (the caller adds MSG_PREFIX if it
 * wants it): redrawn in place on a terminal ("\r", the line, then "erase
 * to the end of the line", so a shorter line leaves nothing of a longer
 * one; messages clear it first), or one line each time.  status_done ends
 * a line drawn in place. */
void status_draw(const char *line, int in_place);
void status_done(void);

/* A byte count for people, the one form every message uses: below 1 KiB
 * the exact count ("0 B", "512 B"); from there the largest IEC unit (KiB,
 * MiB, GiB, TiB, PiB, EiB) that leaves at least 1, always with one
 * decimal, rounded half up ("1.0 KiB", "524.3 KiB", "64.0 MiB", "4.9 GiB";
 * 1048575 is "1.0 MiB", never "1024.0 KiB").  One decimal always, so that
 * the same quantity always prints the same way and columns line up.
 * Returns buf (at least 16 bytes fit any count). */
const char *fmt_bytes(uint64_t n, char *buf, size_t len);

/* "" for 1, "s" for any other count: "%zu destination%s", n, plural(n). */
static inline const char *plural(uint64_t n)
{
	return n == 1 ? "" : "s";
}

/* RLIMIT_MEMLOCK's soft limit as fmt_bytes does it, or "unlimited". */
const char *fmt_memlock(char *buf, size_t len);

/* Monotonic clock in milliseconds. */
uint64_t now_ms(void);

#endif
