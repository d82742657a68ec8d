#ifndef PHASELAB_TIMEUTIL_H
#define PHASELAB_TIMEUTIL_H

#include <stddef.h>

/* Milliseconds on the monotonic clock: for deadlines and durations only. */
long long now_ms(void);
/* The current time as RFC 3339 UTC with milliseconds ("2026-11-22T22:04:53.123Z"). */
void rfc3339_now(char *buf, size_t size);

#endif
