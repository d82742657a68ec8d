/*
 * Deadlines: parse_time() on any text (timeutil.h), as `phaselab grade
 * --deadline` reads it.
 *
 * What is checked: 0 or -1; a deadline that parses is a date, which
 * format_time_utc() can write (`grade` prints it in the class summary; past
 * what gmtime() can represent it would format an uninitialised struct tm);
 * written back and parsed again it is the same second, in the years that
 * format writes with four digits; "@N" is N.
 */
#include "fuzz.h"

#include "lib/timeutil.h"

#include <time.h>

/* 1000-01-01T00:00:00Z and 9999-12-31T23:59:59Z */
#define FOUR_DIGIT_MIN (-30610224000LL)
#define FOUR_DIGIT_MAX 253402300799LL

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_string(data, size), buf[64];
	long long t = 0, back = 0;
	int rc = parse_time(s, &t);

	FUZZ_CHECK(rc == 0 || rc == -1, "returned %d", rc);
	if (rc == 0) {
		time_t tt = (time_t)t;
		struct tm tm;

		FUZZ_CHECK(gmtime_r(&tt, &tm), "'%s' is accepted as %lld, which is no date", s, t);
	}
	if (rc == 0 && t >= FOUR_DIGIT_MIN && t <= FOUR_DIGIT_MAX) {
		format_time_utc(t, buf, sizeof(buf));
		FUZZ_CHECK(parse_time(buf, &back) == 0 && back == t, "'%s' is %lld, written '%s', read back %lld",
			   s, t, buf, back);
	}
	if (rc == 0 && s[0] == '@') {
		FUZZ_CHECK(strtoll(s + 1, NULL, 10) == t, "'%s' is %lld", s, t);
	}
	free(s);
	return 0;
}
