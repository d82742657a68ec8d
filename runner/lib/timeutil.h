#ifndef PHASELAB_TIMEUTIL_H
#define PHASELAB_TIMEUTIL_H

#include <stddef.h>

/* Milliseconds on the monotonic clock: for deadlines and durations only. */
long long now_ms(void);
/* The current time as RFC 3339 UTC with milliseconds ("2026-11-22T22:04:53.123Z"). */
void rfc3339_now(char *buf, size_t size);

/*
 * Seconds since the epoch for a deadline: RFC 3339 ("2026-11-20T23:59:00Z",
 * "2026-11-20T23:59:00+01:00"), the same with a space for the T, a date and
 * time without a zone ("2026-11-20 23:59", the local time), or "@<seconds>".
 * Returns 0, or -1 when the text is none of those or no date (seconds past
 * what format_time_utc() can write).
 */
int parse_time(const char *s, long long *out);
/*
 * RFC 3339 in UTC for seconds since the epoch ("2026-11-20T23:59:00Z").
 * Returns 0, or -1 with buf empty (when size > 0) when t is no date a
 * struct tm can hold (beyond about 2^31 years) or buf is too small: callers
 * that ignore it print an empty time.
 */
int format_time_utc(long long t, char *buf, size_t size);

#endif
