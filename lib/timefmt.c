/*
 * Timestamps: now in ms, RFC 3339 and the seed dialect's
 * "YYYY-MM-DD HH:MM:SS" (UTC), written and parsed (timefmt.h).
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "timefmt.h"

/* 9999-12-31T23:59:59Z, the last second four-digit years can write */
#define TIMEFMT_MAX_SECS 253402300799LL

int64_t
timefmt_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
timefmt_split(int64_t ms, struct tm *tm, int *msec)
{
	time_t secs;

	if (ms < 0)
		return -1;
	secs = (time_t)(ms / 1000);
	*msec = (int)(ms % 1000);
	if (gmtime_r(&secs, tm) == NULL || tm->tm_year + 1900 > 9999)
		return -1;
	return 0;
}

int
timefmt_rfc3339(int64_t ms, char *buf, size_t size)
{
	struct tm tm;
	int msec, n;

	if (timefmt_split(ms, &tm, &msec) == -1)
		return -1;
	n = snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, msec);
	return n < 0 || (size_t)n >= size ? -1 : 0;
}

int
timefmt_seed(int64_t ms, char *buf, size_t size)
{
	struct tm tm;
	int msec, n;

	if (timefmt_split(ms, &tm, &msec) == -1)
		return -1;
	n = snprintf(buf, size, "%04d-%02d-%02d %02d:%02d:%02d",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec);
	return n < 0 || (size_t)n >= size ? -1 : 0;
}

/* Read exactly n digits; returns -1 when they are not all digits. */
static int
timefmt_digits(const char **p, int n)
{
	int v = 0;

	while (n-- > 0) {
		if (!isdigit((unsigned char)**p))
			return -1;
		v = v * 10 + (*(*p)++ - '0');
	}
	return v;
}

static int
timefmt_days_in_month(int year, int mon)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31 };
	int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

	return mon == 2 && leap ? 29 : days[mon - 1];
}

int64_t
timefmt_days_from_civil(int y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

int
timefmt_parse(const char *s, int64_t *ms, const char **why)
{
	const char *p = s;
	int year, mon, day, hour, min, sec, frac = 0, off = 0;
	int64_t t;

	year = timefmt_digits(&p, 4);
	if (year < 0 || *p++ != '-')
		goto bad_format;
	mon = timefmt_digits(&p, 2);
	if (mon < 0 || *p++ != '-')
		goto bad_format;
	day = timefmt_digits(&p, 2);
	if (day < 0 || (*p != 'T' && *p != 't' && *p != ' '))
		goto bad_format;
	p++;
	hour = timefmt_digits(&p, 2);
	if (hour < 0 || *p++ != ':')
		goto bad_format;
	min = timefmt_digits(&p, 2);
	if (min < 0 || *p++ != ':')
		goto bad_format;
	sec = timefmt_digits(&p, 2);
	if (sec < 0)
		goto bad_format;
	if (*p == '.') {
		int scale = 100;

		p++;
		if (!isdigit((unsigned char)*p))
			goto bad_format;
		for (; isdigit((unsigned char)*p); p++) {
			frac += (*p - '0') * scale;
			scale /= 10;
		}
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p++ == '-' ? -1 : 1;
		int oh, om;

		oh = timefmt_digits(&p, 2);
		if (oh < 0 || *p++ != ':')
			goto bad_format;
		om = timefmt_digits(&p, 2);
		if (om < 0 || oh > 23 || om > 59)
			goto bad_format;
		off = sign * (oh * 60 + om);
	} else if (*p == '\0' && s[10] != ' ') {
		/* only the seed form "YYYY-MM-DD HH:MM:SS" may omit the zone */
		*why = "time zone missing (want Z or +HH:MM)";
		return -1;
	}
	if (*p != '\0')
		goto bad_format;
	if (year < 1970 || mon < 1 || mon > 12 || day < 1 ||
	    day > timefmt_days_in_month(year, mon) || hour > 23 || min > 59 ||
	    sec > 60) {
		*why = "date or time out of range";
		return -1;
	}
	/* a leap second (:60) is held at the last millisecond of :59 */
	if (sec == 60)
		sec = 59, frac = 999;
	t = timefmt_days_from_civil(year, mon, day) * 86400 + hour * 3600 +
	    min * 60 + sec - off * 60;
	if (t < 0) {
		*why = "date before 1970";
		return -1;
	}
	/* an offset can carry 9999-12-31 past what timefmt_rfc3339 writes */
	if (t > TIMEFMT_MAX_SECS) {
		*why = "date after 9999";
		return -1;
	}
	*ms = t * 1000 + frac;
	return 0;

bad_format:
	*why = "not an RFC 3339 time (want YYYY-MM-DDTHH:MM:SS[.mmm]Z)";
	return -1;
}
