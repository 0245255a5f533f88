#include "util.h"
#include "text.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/resource.h>
#include <time.h>

int log_level;
static int status_drawn; /* a status line is on the terminal, unfinished */
/* Sending threads (-j) report too: a message and the status line's state
 * change together. */
static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;

/* Every message is one line that a terminal shows as it is: names in it
 * come from files, archives, URLs and servers, so they are escaped here,
 * the one place every message passes (text.h says how). */
static void __attribute__((format(printf, 1, 0))) vmsg(const char *fmt, va_list ap)
{
	char raw[1024], line[4 * sizeof(raw)];

	vsnprintf(raw, sizeof(raw), fmt, ap);
	text_escape(raw, line, sizeof(line));
	pthread_mutex_lock(&out_lock);
	if (status_drawn)
		fputs("\r\033[K", stderr); /* the next status draw brings it back */
	status_drawn = 0;
	fprintf(stderr, MSG_PREFIX "%s\n", line);
	pthread_mutex_unlock(&out_lock);
}

void status_draw(const char *line, int in_place)
{
	pthread_mutex_lock(&out_lock);
	if (in_place) {
		fprintf(stderr, "\r%s\033[K", line);
		status_drawn = 1;
	} else {
		fprintf(stderr, "%s\n", line);
	}
	pthread_mutex_unlock(&out_lock);
}

void status_done(void)
{
	pthread_mutex_lock(&out_lock);
	if (status_drawn)
		fputc('\n', stderr);
	status_drawn = 0;
	pthread_mutex_unlock(&out_lock);
}

void errmsg(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
}

void warnmsg(const char *fmt, ...)
{
	va_list ap;

	if (log_level < 0)
		return;
	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
}

void info(const char *fmt, ...)
{
	va_list ap;

	if (log_level < 1)
		return;
	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
}

void notice(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(fmt, ap);
	va_end(ap);
}

const char *fmt_bytes(uint64_t n, char *buf, size_t len)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
	unsigned u = 0;
	uint64_t tenths = 0;

	if (n < 1024) {
		snprintf(buf, len, "%llu B", (unsigned long long)n);
		return buf;
	}
	while (u < 6 && n >> (10 * (u + 1)))
		u++;
	/* In tenths of the unit, rounded half up; a count that rounds up to
	 * 1024.0 of a unit is 1.0 of the next.  In integers: (n % div) * 10
	 * fits, div being at most 2^60. */
	for (;; u++) {
		uint64_t div = (uint64_t)1 << (10 * u);
		tenths = n / div * 10 + (n % div * 10 + div / 2) / div;
		if (tenths < 10240 || u == 6)
			break;
	}
	snprintf(buf, len, "%llu.%llu %s", (unsigned long long)(tenths / 10),
		 (unsigned long long)(tenths % 10), unit[u]);
	return buf;
}

const char *fmt_memlock(char *buf, size_t len)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_MEMLOCK, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
		return fmt_bytes(rl.rlim_cur, buf, len);
	snprintf(buf, len, "unlimited");
	return buf;
}

uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int fail_why(char *buf, size_t len, const char **why, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	*why = buf;
	return -1;
}
