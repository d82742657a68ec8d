#include "lib/timeutil.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void rfc3339_now(char *buf, size_t size)
{
	struct timespec ts;
	struct tm tm;
	char base[32];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, size, "%s.%03ldZ", base, ts.tv_nsec / 1000000);
}

int parse_time(const char *s, long long *out)
{
	struct tm tm;
	const char *rest;
	char *end;
	int has_zone = 0;
	long offset = 0;

	if (*s == '@') {
		long long v;
		time_t t;

		errno = 0;
		v = strtoll(s + 1, &end, 10);
		if (end == s + 1 || *end || errno == ERANGE)
			return -1;
		/* a deadline is a date: seconds whose year does not fit a struct tm are none */
		t = (time_t)v;
		if ((long long)t != v || !gmtime_r(&t, &tm))
			return -1;
		*out = v;
		return 0;
	}
	memset(&tm, 0, sizeof(tm));
	if (!(rest = strptime(s, "%Y-%m-%d", &tm)))
		return -1;
	/* a deadline needs a time of day: a bare date would silently mean its first second */
	if (*rest != 'T' && *rest != 't' && *rest != ' ')
		return -1;
	{
		const char *t = strptime(rest + 1, "%H:%M:%S", &tm);
		if (!t)
			t = strptime(rest + 1, "%H:%M", &tm);
		if (!t)
			return -1;
		rest = t;
		if (*rest == '.') /* fractions of a second do not matter for a deadline */
			for (rest++; isdigit((unsigned char)*rest); rest++)
				;
	}
	if (*rest == 'Z' || *rest == 'z') {
		has_zone = 1;
		rest++;
	} else if (*rest == '+' || *rest == '-') {
		/* exactly [+-]HH:MM, as RFC 3339 writes it */
		int sign = *rest == '-' ? -1 : 1, hh, mm;
		const char *o = rest + 1;
		if (!isdigit((unsigned char)o[0]) || !isdigit((unsigned char)o[1]) || o[2] != ':' ||
		    !isdigit((unsigned char)o[3]) || !isdigit((unsigned char)o[4]))
			return -1;
		hh = (o[0] - '0') * 10 + (o[1] - '0');
		mm = (o[3] - '0') * 10 + (o[4] - '0');
		if (hh > 23 || mm > 59)
			return -1;
		offset = sign * (hh * 3600L + mm * 60L);
		has_zone = 1;
		rest = o + 5;
	}
	if (*rest)
		return -1;
	{
		/* strptime takes 31 for any month and 61 for seconds: a date that rolls over is no date */
		struct tm want = tm, back;
		time_t t;

		if (has_zone) {
			t = timegm(&tm);
			gmtime_r(&t, &back);
		} else {
			tm.tm_isdst = -1;
			t = mktime(&tm);
			localtime_r(&t, &back);
		}
		if (back.tm_year != want.tm_year || back.tm_mon != want.tm_mon || back.tm_mday != want.tm_mday ||
		    want.tm_sec > 59)
			return -1;
		*out = (long long)t - (has_zone ? offset : 0);
	}
	return 0;
}

int format_time_utc(long long t, char *buf, size_t size)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!size)
		return -1;
	/* past what a struct tm holds there is no date to write, only garbage */
	if ((long long)tt != t || !gmtime_r(&tt, &tm) || !strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm)) {
		buf[0] = '\0';
		return -1;
	}
	return 0;
}
