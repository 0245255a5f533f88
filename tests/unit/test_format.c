/* What people read: the byte-count formatter every message uses, and the
 * progress line fitted to a terminal's width. */
#include "progress.h"
#include "tap.h"
#include "util.h"

#include <stdint.h>
#include <string.h>

static void bytes(void)
{
	static const struct {
		uint64_t n;
		const char *want;
	} t[] = {
		{ 0, "0 B" },
		{ 1, "1 B" },
		{ 512, "512 B" },
		{ 1023, "1023 B" },
		{ 1024, "1.0 KiB" },
		{ 1075, "1.0 KiB" }, /* 1.0498: down */
		{ 1076, "1.1 KiB" }, /* 1.0508: up */
		{ 1126, "1.1 KiB" },
		{ 1536, "1.5 KiB" },
		{ 536883, "524.3 KiB" },
		{ 64 << 10, "64.0 KiB" },
		{ (1 << 20) - 52, "1023.9 KiB" }, /* 1023.949 */
		{ (1 << 20) - 51, "1.0 MiB" },    /* 1023.950: rounds up to the next unit */
		{ (1 << 20) - 1, "1.0 MiB" },
		{ 1 << 20, "1.0 MiB" },
		{ 6 << 20, "6.0 MiB" },
		{ 8 << 20, "8.0 MiB" },
		{ 20 << 20, "20.0 MiB" },
		{ 64 << 20, "64.0 MiB" },
		{ (1ull << 30) + (1ull << 29), "1.5 GiB" },
		{ 5242880000ull, "4.9 GiB" },
		{ 1ull << 40, "1.0 TiB" },
		{ 1ull << 50, "1.0 PiB" },
		{ (uint64_t)INT64_MAX, "8.0 EiB" },
		{ UINT64_MAX, "16.0 EiB" },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char buf[32];
		fmt_bytes(t[i].n, buf, sizeof(buf));
		ok(!strcmp(buf, t[i].want), "fmt_bytes(%llu) = '%s', want '%s'",
		   (unsigned long long)t[i].n, buf, t[i].want);
	}
	ok(!strcmp(plural(0), "s") && !strcmp(plural(1), "") && !strcmp(plural(2), "s"),
	   "plural: 0 and 2 take an s, 1 does not");
}

/* A mid-run view: 12.3 MiB of 64 MiB after 3 s at 4.1 MiB/s. */
static const struct progress p = { .in_place = 1, .rate = 4.1 * 1048576 };
static const struct progress_view mid = {
	.in = 12897484,
	.total = 64 << 20,
	.ms = 3000,
	.active = 3,
	.done = 0,
	.failed = 0,
	.lag = 1258291,
};

static void line(size_t cols, const struct progress_view *v, const char *want)
{
	char buf[512];

	progress_line(&p, v, cols, buf, sizeof(buf));
	ok(!strcmp(buf, want), "%zu columns: '%s', want '%s'", cols, buf, want);
	ok(cols == SIZE_MAX || strlen(buf) <= cols, "%zu columns: %zu wide", cols, strlen(buf));
}

static void fitted(void)
{
	const char *full = "ringcast: 12.3 MiB of 64.0 MiB (19%) in 0:03, 4.1 MiB/s, ETA 0:12; "
			   "3 active, 0 done, 0 failed; slowest lag 1.2 MiB";

	line(SIZE_MAX, &mid, full);
	line(strlen(full), &mid, full);
	/* First the lag goes, then the counts (80 columns leave 79), the
	 * elapsed time, the prefix. */
	line(93, &mid,
	     "ringcast: 12.3 MiB of 64.0 MiB (19%) in 0:03, 4.1 MiB/s, ETA 0:12; 3 active, 0 done, 0 failed");
	line(79, &mid, "ringcast: 12.3 MiB of 64.0 MiB (19%) in 0:03, 4.1 MiB/s, ETA 0:12");
	line(64, &mid, "ringcast: 12.3 MiB of 64.0 MiB (19%), 4.1 MiB/s, ETA 0:12");
	line(56, &mid, "12.3 MiB of 64.0 MiB (19%), 4.1 MiB/s, ETA 0:12");
	/* 40 columns leave 39: no prefix, no total. */
	line(39, &mid, "12.3 MiB (19%), 4.1 MiB/s, ETA 0:12");
	line(30, &mid, "12.3 MiB, 4.1 MiB/s, ETA 0:12");
	line(20, &mid, "12.3 MiB, 4.1 MiB/s");
	line(10, &mid, "12.3 MiB");
	line(0, &mid, "");
}

/* A terminal too narrow for the bytes read shows nothing rather than part
 * of a number ("19.1 " without its unit); from their width on, the bytes,
 * and more only as whole parts. */
static void narrow(void)
{
	struct progress_view v = mid;

	for (size_t cols = 1; cols <= 12; cols++)
		line(cols, &mid, cols < 8 ? "" : "12.3 MiB");
	v.in = 0;
	line(2, &v, "");
	line(3, &v, "0 B");
	line(12, &v, "0 B");
	v.in = 1000;
	v.total = 1000;
	line(5, &v, "");
	line(6, &v, "1000 B");
}

/* Once the source has ended there is nothing left to wait for: no ETA,
 * even where the total said more would come (-s too large, a stream cut). */
static void ended(void)
{
	struct progress_view v = mid;

	v.ended = 1;
	line(SIZE_MAX, &v,
	     "ringcast: 12.3 MiB of 64.0 MiB (19%) in 0:03, 4.1 MiB/s; "
	     "3 active, 0 done, 0 failed; slowest lag 1.2 MiB");
	line(39, &v, "12.3 MiB of 64.0 MiB (19%), 4.1 MiB/s");
	v.ended = 0;
	line(39, &v, "12.3 MiB (19%), 4.1 MiB/s, ETA 0:12");
}

static void totals(void)
{
	struct progress_view v = mid;

	/* No size known: no total, percentage or ETA. */
	v.total = -1;
	line(SIZE_MAX, &v,
	     "ringcast: 12.3 MiB in 0:03, 4.1 MiB/s; 3 active, 0 done, 0 failed; slowest lag 1.2 MiB");
	/* The whole of it: 100%, no ETA. */
	v.in = (uint64_t)(v.total = 64 << 20);
	line(SIZE_MAX, &v,
	     "ringcast: 64.0 MiB of 64.0 MiB (100%) in 0:03, 4.1 MiB/s; 3 active, 0 done, 0 failed; slowest lag 1.2 MiB");
	/* One byte short is not 100% yet. */
	v.in--;
	line(39, &v, "64.0 MiB (99%), 4.1 MiB/s, ETA 0:00");
	/* Past a total that was a wrong guess (-s, a file that grew): no 101%, no negative ETA. */
	v.in = (64 << 20) + 1;
	line(SIZE_MAX, &v,
	     "ringcast: 64.0 MiB in 0:03, 4.1 MiB/s; 3 active, 0 done, 0 failed; slowest lag 1.2 MiB");
	/* An empty stream is all there. */
	v.in = 0;
	v.total = 0;
	line(30, &v, "0 B of 0 B (100%), 4.1 MiB/s");
}

int main(void)
{
	bytes();
	fitted();
	narrow();
	ended();
	totals();
	return tap_done();
}
