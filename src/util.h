/* Small helpers shared by every module. */
#ifndef RINGCAST_UTIL_H
#define RINGCAST_UTIL_H

#include <stddef.h>
#include <stdint.h>

#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))

#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

/* Verbosity set once from the command line: -1 quiet, 0 normal, 1+ verbose. */
extern int log_level;

/* "ringcast: " + message on stderr, one line, escaped as text_escape does
 * (text.h).  errmsg() always, warnmsg() unless -q, info() only with -v. */
void errmsg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void warnmsg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A status line ("ringcast: " + line) on stderr: redrawn in place on a
 * terminal (messages clear it first), or one line each time.  status_done
 * ends a line drawn in place. */
void status_draw(const char *line, int in_place);
void status_done(void);

/* Human form of a byte count ("64 MiB", "1.5 GiB") into buf; returns buf. */
const char *fmt_bytes(uint64_t n, char *buf, size_t len);

/* RLIMIT_MEMLOCK's soft limit as fmt_bytes does it, or "unlimited". */
const char *fmt_memlock(char *buf, size_t len);

/* Monotonic clock in milliseconds. */
uint64_t now_ms(void);

#endif
