/* HTTP-dates (RFC 9110, 5.6.7): parsing all three forms, formatting the
 * one that is sent.  Declared in http.h. */
#include "http.h"

#include <string.h>
#include <time.h>

static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
				    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
static const char *const days[7] = { "Monday", "Tuesday",  "Wednesday", "Thursday",
				     "Friday", "Saturday", "Sunday" };

/* Two digits at p as a number, or -1. */
static int two(const char *p)
{
	if (p[0] < '0' || p[0] > '9' || p[1] < '0' || p[1] > '9')
		return -1;
	return (p[0] - '0') * 10 + p[1] - '0';
}

/* Is [p, p + n) a day name: the first three letters of one (n 3), or a
 * whole one? */
static int is_day(const char *p, size_t n)
{
	for (int i = 0; i < 7; i++)
		if ((n == 3 || n == strlen(days[i])) && !memcmp(p, days[i], n))
			return 1;
	return 0;
}

/* The month named at p (three letters), 0 to 11, or -1. */
static int month_at(const char *p)
{
	for (int i = 0; i < 12; i++)
		if (!memcmp(p, months[i], 3))
			return i;
	return -1;
}

/* "hh:mm:ss" at p into tm (RFC 9110, 5.6.7: a second may be 60, a leap
 * second); 0 or -1. */
static int time_at(const char *p, struct tm *tm)
{
	tm->tm_hour = two(p);
	tm->tm_min = two(p + 3);
	tm->tm_sec = two(p + 6);
	if (p[2] != ':' || p[5] != ':' || tm->tm_hour < 0 || tm->tm_hour > 23 || tm->tm_min < 0 ||
	    tm->tm_min > 59 || tm->tm_sec < 0 || tm->tm_sec > 60)
		return -1;
	return 0;
}

static int days_in_month(int year, int mon)
{
	static const int n[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

	return n[mon] + (mon == 1 && leap);
}

int64_t http_parse_date(struct http_span s, int64_t now)
{
	const char *p = s.p, *comma;
	struct tm tm = { 0 };
	int year, mon, mday;

	if (!p || s.len < 24)
		return HTTP_NO_DATE;
	if (s.len == 29 && p[3] == ',') {
		/* IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT" */
		if (!is_day(p, 3) || p[4] != ' ' || p[7] != ' ' || p[11] != ' ' || p[16] != ' ' ||
		    memcmp(p + 25, " GMT", 4) || time_at(p + 17, &tm) < 0 || two(p + 12) < 0 ||
		    two(p + 14) < 0)
			return HTTP_NO_DATE;
		mday = two(p + 5);
		mon = month_at(p + 8);
		year = two(p + 12) * 100 + two(p + 14);
	} else if (s.len == 24 && p[3] == ' ') {
		/* asctime: "Sun Nov  6 08:49:37 1994", the day as 2DIGIT or SP DIGIT */
		if (!is_day(p, 3) || p[7] != ' ' || p[10] != ' ' || p[19] != ' ' ||
		    time_at(p + 11, &tm) < 0 || two(p + 20) < 0 || two(p + 22) < 0)
			return HTTP_NO_DATE;
		mday = p[8] != ' ' ? two(p + 8) : p[9] >= '1' && p[9] <= '9' ? p[9] - '0' : -1;
		mon = month_at(p + 4);
		year = two(p + 20) * 100 + two(p + 22);
	} else if ((comma = memchr(p, ',', s.len)) && s.len - (size_t)(comma - p) == 24) {
		/* RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT" */
		const char *d = comma + 2;
		if (!is_day(p, (size_t)(comma - p)) || comma - p == 3 || comma[1] != ' ' ||
		    d[2] != '-' || d[6] != '-' || d[9] != ' ' || memcmp(d + 18, " GMT", 4) ||
		    time_at(d + 10, &tm) < 0 || two(d + 7) < 0)
			return HTTP_NO_DATE;
		mday = two(d);
		mon = month_at(d + 3);
		/* The two-digit year: in now's century, unless that is more
		 * than 50 years ahead (RFC 9110, 5.6.7). */
		struct tm nt;
		time_t tn = (time_t)now;
		int this_year = gmtime_r(&tn, &nt) ? nt.tm_year + 1900 : 1970;
		year = this_year - this_year % 100 + two(d + 7);
		if (year > this_year + 50)
			year -= 100;
	} else {
		return HTTP_NO_DATE;
	}
	if (mon < 0 || mday < 1 || mday > days_in_month(year, mon))
		return HTTP_NO_DATE;
	tm.tm_year = year - 1900;
	tm.tm_mon = mon;
	tm.tm_mday = mday;
	return (int64_t)timegm(&tm);
}

void http_fmt_date(int64_t t, char *buf)
{
	time_t tt = (time_t)t;
	struct tm tm;

	/* The C locale's names are HTTP's; ringcast never calls setlocale. */
	strftime(buf, 30, "%a, %d %b %Y %H:%M:%S GMT", gmtime_r(&tt, &tm));
}
