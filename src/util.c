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
	fprintf(stderr, "ringcast: %s\n", line);
	pthread_mutex_unlock(&out_lock);
}

void status_draw(const char *line, int in_place)
{
	pthread_mutex_lock(&out_lock);
	if (in_place) {
		fprintf(stderr, "\rringcast: %s\033[K", line);
		status_drawn = 1;
	} else {
		fprintf(stderr, "ringcast: %s\n", line);
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

const char *fmt_bytes(uint64_t n, char *buf, size_t len)
{
	static const char *unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = (double)n;
	int u = 0;

	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	if (u == 0 || v == (double)(uint64_t)v)
		snprintf(buf, len, "%.0f %s", v, unit[u]);
	else
		snprintf(buf, len, "%.1f %s", v, unit[u]);
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
