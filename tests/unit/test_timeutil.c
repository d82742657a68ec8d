/*
 * Times (runner/timeutil.c): parse_time against what timeutil.h promises
 * (RFC 3339, the same with a space, a local date and time, "@<seconds>",
 * -1 for anything else), format_time_utc, rfc3339_now and now_ms.
 *
 * Rows marked BUG are inputs the contract rejects that parse_time accepts;
 * they fail until parse_time is fixed.  Leniencies the contract says nothing
 * about (one-digit fields, spaces strptime skips) are not pinned down.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/timeutil.h"
#include "lib/xalloc.h"

/* ---- the time zone of a test ------------------------------------------ */

struct saved_tz {
	char *value; /* NULL: TZ was not set */
};

static void tz_set(struct saved_tz *saved, const char *tz)
{
	const char *old = getenv("TZ");

	if (saved)
		saved->value = old ? xstrdup(old) : NULL;
	assert_int_equal(setenv("TZ", tz, 1), 0);
	tzset();
}

static void tz_restore(struct saved_tz *saved)
{
	if (saved->value)
		setenv("TZ", saved->value, 1);
	else
		unsetenv("TZ");
	tzset();
	free(saved->value);
	saved->value = NULL;
}

/* The zones the rows run under: one without offset or DST, one with both. */
static const char *const zones[] = { "UTC", "Europe/Paris" };

static int zone_available(const char *tz)
{
	char path[256];

	if (!strcmp(tz, "UTC"))
		return 1;
	snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s", tz);
	return !access(path, R_OK);
}

/* ---- parse_time: a zone or "@", the same result in every local zone ---- */

struct zoned_row {
	const char *text;
	long long want;
};

static const struct zoned_row zoned_rows[] = {
	/* RFC 3339 with Z (lower case too: RFC 3339 section 5.6, NOTE) */
	{ "2026-11-20T23:59:00Z", 1795219140 },
	{ "2026-11-20t23:59:00z", 1795219140 },
	{ "1970-01-01T00:00:00Z", 0 },
	{ "2028-02-29T00:00:00Z", 1835395200 },        /* a leap day */
	{ "2000-02-29T12:00:00Z", 951825600 },         /* 2000 is a leap year */
	{ "2026-11-20T23:59:59Z", 1795219199 },
	/* offsets */
	{ "2026-11-20T23:59:00+01:00", 1795215540 },
	{ "2026-11-20T23:59:00-05:30", 1795238940 },
	{ "2026-11-20T23:59:00+00:00", 1795219140 },
	{ "2026-11-20T23:59:00-00:00", 1795219140 },
	{ "2027-01-01T00:30:00+01:00", 1798759800 },   /* the day and year before in UTC */
	{ "2026-11-20T18:29:00-05:30", 1795219140 },
	/* fractions of a second are dropped, never rounded up */
	{ "2026-11-20T23:59:00.5Z", 1795219140 },
	{ "2026-11-20T23:59:59.999Z", 1795219199 },
	{ "2026-11-20T23:59:00.123456789Z", 1795219140 },
	{ "2026-11-20T23:59:00.123456+01:00", 1795215540 },
	/* a space for the T */
	{ "2026-11-20 23:59:00Z", 1795219140 },
	{ "2026-11-20 23:59:00+01:00", 1795215540 },
	{ "2026-11-20 23:59:00.25-05:30", 1795238940 },
	/* without seconds */
	{ "2026-11-20T23:59Z", 1795219140 },
	{ "2026-11-20T23:59+01:00", 1795215540 },
	{ "2026-11-20 23:59-05:30", 1795238940 },
	/* seconds since the epoch */
	{ "@1800000000", 1800000000 },
	{ "@0", 0 },
	{ "@1795219140", 1795219140 },
};

static void check_zoned_rows(const char *tz)
{
	size_t i, failed = 0;

	for (i = 0; i < ARRAY_SIZE(zoned_rows); i++) {
		long long got = -12345;
		int rc = parse_time(zoned_rows[i].text, &got);

		if (rc != 0 || got != zoned_rows[i].want) {
			print_error("TZ=%s \"%s\": got rc %d, %lld; want 0, %lld\n", tz,
				    zoned_rows[i].text, rc, got, zoned_rows[i].want);
			failed++;
		}
	}
	assert_int_equal(failed, 0);
}

static void test_parse_zoned(void **state)
{
	struct saved_tz saved;

	(void)state;
	tz_set(&saved, zones[0]);
	for (size_t z = 0; z < ARRAY_SIZE(zones); z++) {
		if (!zone_available(zones[z]))
			continue;
		tz_set(NULL, zones[z]);
		check_zoned_rows(zones[z]);
	}
	tz_restore(&saved);
}

/* ---- parse_time: no zone, the local time --------------------------------- */

struct local_row {
	const char *text;
	int year, mon, mday, hour, min, sec; /* the fields, for mktime */
	long long want_utc, want_paris;      /* the same, worked out by hand */
};

static const struct local_row local_rows[] = {
	{ "2026-11-20 23:59", 2026, 11, 20, 23, 59, 0, 1795219140, 1795215540 },   /* the header's example */
	{ "2026-11-20T23:59", 2026, 11, 20, 23, 59, 0, 1795219140, 1795215540 },
	{ "2026-11-20 23:59:30", 2026, 11, 20, 23, 59, 30, 1795219170, 1795215570 },
	{ "2026-11-20T23:59:30.75", 2026, 11, 20, 23, 59, 30, 1795219170, 1795215570 },
	{ "2026-07-01 12:00", 2026, 7, 1, 12, 0, 0, 1782907200, 1782900000 },      /* summer time in Paris */
	{ "2027-01-01 00:30", 2027, 1, 1, 0, 30, 0, 1798763400, 1798759800 },      /* the year before in UTC */
};

static long long mktime_of(const struct local_row *r)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = r->year - 1900;
	tm.tm_mon = r->mon - 1;
	tm.tm_mday = r->mday;
	tm.tm_hour = r->hour;
	tm.tm_min = r->min;
	tm.tm_sec = r->sec;
	tm.tm_isdst = -1;
	return (long long)mktime(&tm);
}

static void test_parse_local(void **state)
{
	struct saved_tz saved;
	size_t failed = 0, zones_run = 0;

	(void)state;
	tz_set(&saved, zones[0]);
	for (size_t z = 0; z < ARRAY_SIZE(zones); z++) {
		if (!zone_available(zones[z])) {
			print_message("skipping TZ=%s: no zone file\n", zones[z]);
			continue;
		}
		tz_set(NULL, zones[z]);
		zones_run++;
		for (size_t i = 0; i < ARRAY_SIZE(local_rows); i++) {
			const struct local_row *r = &local_rows[i];
			long long got = -12345, want = mktime_of(r);
			long long by_hand = z == 0 ? r->want_utc : r->want_paris;
			int rc = parse_time(r->text, &got);

			if (want != by_hand)
				print_error("TZ=%s \"%s\": mktime says %lld, the row %lld\n",
					    zones[z], r->text, want, by_hand);
			if (rc != 0 || got != want || want != by_hand) {
				print_error("TZ=%s \"%s\": got rc %d, %lld; want 0, %lld\n", zones[z],
					    r->text, rc, got, want);
				failed++;
			}
		}
	}
	tz_restore(&saved);
	assert_int_equal(failed, 0);
	assert_true(zones_run >= 1);
}

/* ---- parse_time: none of the forms ------------------------------------- */

static const char *const invalid_rows[] = {
	"",
	"tomorrow",
	"now",
	"11/20/2026",
	"2026/11/20 23:59",
	"20261120T235900Z",                 /* ISO 8601 basic format, not RFC 3339 */
	"2026-13-01T00:00Z",                /* month 13 */
	"2026-00-10T00:00Z",                /* month 0 */
	"2026-11-00T00:00Z",                /* day 0 */
	"2026-11-32T00:00Z",                /* day 32 */
	"2026-11-20T25:00Z",                /* hour 25 */
	"2026-11-20T24:00Z",                /* hour 24 */
	"2026-11-20T23:60Z",                /* minute 60 */
	"2026-11-20T23:59:62Z",             /* second 62 */
	"2026-11-20T23",                    /* an hour alone */
	"2026-11-20T",
	"2026-11-20X23:59Z",
	"2026-11-20T23:59:00Zjunk",         /* trailing garbage */
	"2026-11-20T23:59:00Z ",
	"2026-11-20T23:59:00+01:00x",
	"2026-11-20T23:59:00+01:00Z",
	"2026-11-20 23:59 x",
	"2026-11-20x",
	"2026-11-20T23:59:00+0100",         /* the offset needs its colon */
	"2026-11-20T23:59:00+01",
	"2026-11-20T23:59:00+",
	"2026-11-20T23:59:00 UTC",
	"12026-11-20T00:00Z",
	"@",
	"@12x",
	"@12 ",
	"@1.5",
	"@abc",
	"@@1",
	"1800000000",                       /* seconds need their '@' */
};

static void test_parse_invalid(void **state)
{
	size_t failed = 0;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(invalid_rows); i++) {
		long long got = -12345;
		int rc = parse_time(invalid_rows[i], &got);

		if (rc != -1) {
			print_error("\"%s\": got rc %d, %lld; want -1\n", invalid_rows[i], rc, got);
			failed++;
		}
	}
	assert_int_equal(failed, 0);
}

/*
 * Rows the contract rejects and parse_time accepts.  Each is parsed from a
 * zeroed 64-byte buffer so that a read past the string stays in the buffer
 * (see the offset rows) and the test itself stays well defined.
 */
static size_t count_accepted(const char *const *rows, size_t n)
{
	size_t failed = 0;
	struct saved_tz saved;

	tz_set(&saved, "UTC");
	for (size_t i = 0; i < n; i++) {
		char buf[64];
		long long got = -12345;
		int rc;

		memset(buf, 0, sizeof(buf));
		assert_true(strlen(rows[i]) < sizeof(buf) - 8);
		memcpy(buf, rows[i], strlen(rows[i]));
		rc = parse_time(buf, &got);
		if (rc != -1) {
			char when[40] = "";
			format_time_utc(got, when, sizeof(when));
			print_error("\"%s\": got rc %d, %lld (%s); want -1\n", rows[i], rc, got, when);
			failed++;
		}
	}
	tz_restore(&saved);
	return failed;
}

/*
 * Regression (fixed): strptime's %d takes 1..31 whatever the month, and timegm/mktime
 * quietly move the day into the next month: "2026-02-30" is 2 March,
 * "2026-11-31" is 1 December.  An impossible deadline should be refused,
 * not moved by a day or two.  Likewise %S takes 61.
 */
static const char *const impossible_rows[] = {
	"2026-02-30T00:00Z",
	"2026-02-29T00:00Z",                /* 2026 is no leap year */
	"2100-02-29T00:00Z",                /* nor is 2100 */
	"2026-04-31T12:00:00+02:00",
	"2026-11-31T23:59:00Z",
	"2026-11-31 23:59",                 /* local time: mktime moves it too */
	"2026-11-20T23:59:61Z",             /* RFC 3339 seconds stop at 60 */
};

static void test_regression_impossible_dates(void **state)
{
	(void)state;
	/* Regression (fixed): parse_time (runner/timeutil.c) accepts every one of these */
	assert_int_equal(count_accepted(impossible_rows, ARRAY_SIZE(impossible_rows)), 0);
}

/*
 * Regression (fixed): the offset is read with sscanf("%2d:%2d") and then the text is
 * skipped by a fixed 6 characters.  sscanf also takes one digit, a sign and
 * leading spaces, so "+1:0" is accepted and rest += 6 jumps past the
 * string's NUL: a read out of bounds (valgrind: "Invalid read of size 1 ...
 * bytes after a block" on a heap copy).  Out-of-range offsets are taken too.
 */
static const char *const offset_rows[] = {
	"2026-11-20T23:59+1:0",             /* 4 characters: reads 2 bytes past the NUL */
	"2026-11-20T23:59+1:00",            /* 5 characters: reads 1 byte past the NUL */
	"2026-11-20T23:59:00+01:-5",        /* a sign in the minutes */
	"2026-11-20T23:59:00+01: 5",        /* a space in the minutes */
	"2026-11-20T23:59:00+99:99",        /* RFC 3339: hours 00-23, minutes 00-59 */
	"2026-11-20T23:59:00+24:00",
	"2026-11-20T23:59:00+01:60",
};

static void test_regression_malformed_offsets(void **state)
{
	(void)state;
	/* Regression (fixed): parse_time (runner/timeutil.c) accepts every one of these */
	assert_int_equal(count_accepted(offset_rows, ARRAY_SIZE(offset_rows)), 0);
}

/*
 * Regression (fixed): a date without a time is none of the forms timeutil.h lists, yet it
 * is taken as midnight: "--deadline 2026-11-20" means the start of that
 * day, while whoever typed it most likely meant its end, so every commit
 * of the last day would count as late.  Refuse it (or document it).
 */
static const char *const date_only_rows[] = {
	"2026-11-20",
	"2026-11-20Z",
	"2026-11-20+01:00",
};

static void test_regression_date_without_time(void **state)
{
	(void)state;
	/* Regression (fixed): parse_time (runner/timeutil.c) accepts every one of these */
	assert_int_equal(count_accepted(date_only_rows, ARRAY_SIZE(date_only_rows)), 0);
}

/*
 * Regression (fixed): "@N" was read with strtoll and ERANGE unchecked, so
 * "@99999999999999999999" was LLONG_MAX, and any N was taken, although past
 * about 2^31 years gmtime() has no date for it: `grade` then printed the
 * deadline from an uninitialised struct tm.  Seconds that are no date are
 * refused.
 */
static const char *const seconds_rows[] = {
	"@99999999999999999999",            /* past LLONG_MAX: strtoll says ERANGE */
	"@-99999999999999999999",
	"@9223372036854775807",             /* LLONG_MAX itself: no year holds it */
	"@-9223372036854775808",
	"@99999999999999999",               /* a year past INT_MAX */
};

static void test_regression_seconds_out_of_range(void **state)
{
	long long got = -12345;

	(void)state;
	/* Regression (fixed): parse_time (runner/timeutil.c) accepts every one of these */
	assert_int_equal(count_accepted(seconds_rows, ARRAY_SIZE(seconds_rows)), 0);
	/* the largest still is a date, in a year with many digits */
	assert_int_equal(parse_time("@253402300799", &got), 0);
	assert_int_equal(got, 253402300799LL);
	assert_int_equal(parse_time("@-62135596800", &got), 0);
}

/* ---- format_time_utc ---------------------------------------------------- */

struct format_row {
	long long t;
	const char *want;
};

static const struct format_row format_rows[] = {
	{ 0, "1970-01-01T00:00:00Z" },
	{ -1, "1969-12-31T23:59:59Z" },
	{ 1795219140, "2026-11-20T23:59:00Z" },
	{ 1795219199, "2026-11-20T23:59:59Z" },
	{ 1800000000, "2027-01-15T08:00:00Z" },
	{ 1798759800, "2026-12-31T23:30:00Z" },
	{ 1782900000, "2026-07-01T10:00:00Z" },        /* summer: still UTC */
	{ 951825600, "2000-02-29T12:00:00Z" },
	{ 1835395200, "2028-02-29T00:00:00Z" },
	{ 2147483647, "2038-01-19T03:14:07Z" },
	{ 2147483648LL, "2038-01-19T03:14:08Z" },
	{ 4102444800LL, "2100-01-01T00:00:00Z" },
	{ 253402300799LL, "9999-12-31T23:59:59Z" },
};

static void test_format_utc(void **state)
{
	struct saved_tz saved;
	size_t failed = 0;

	(void)state;
	tz_set(&saved, "UTC");
	for (size_t z = 0; z < ARRAY_SIZE(zones); z++) {
		if (!zone_available(zones[z]))
			continue;
		tz_set(NULL, zones[z]); /* UTC whatever the local zone */
		for (size_t i = 0; i < ARRAY_SIZE(format_rows); i++) {
			char buf[64];
			long long back = -12345;

			memset(buf, 'x', sizeof(buf));
			format_time_utc(format_rows[i].t, buf, sizeof(buf));
			if (strcmp(buf, format_rows[i].want)) {
				print_error("TZ=%s %lld: got \"%s\", want \"%s\"\n", zones[z],
					    format_rows[i].t, buf, format_rows[i].want);
				failed++;
				continue;
			}
			/* what format_time_utc writes, parse_time reads back */
			if (parse_time(buf, &back) != 0 || back != format_rows[i].t) {
				print_error("TZ=%s \"%s\": read back as %lld, want %lld\n", zones[z],
					    buf, back, format_rows[i].t);
				failed++;
			}
		}
	}
	tz_restore(&saved);
	assert_int_equal(failed, 0);

	/* exactly the room it needs: 20 characters and the NUL */
	{
		char buf[21];
		assert_int_equal(format_time_utc(1795219140, buf, sizeof(buf)), 0);
		assert_string_equal(buf, "2026-11-20T23:59:00Z");
	}
}

/*
 * Regression (fixed): format_time_utc ignored gmtime_r failing (no year holds
 * the seconds) and wrote whatever the uninitialised struct tm held, or
 * nothing at all when strftime found no room.  It returns -1 and leaves an
 * empty string, which a caller that ignores the -1 prints as no time.
 */
static const long long unformattable[] = { LLONG_MAX, LLONG_MIN, 99999999999999999LL, -99999999999999999LL };

static void test_format_utc_failure_regression(void **state)
{
	char buf[64];
	int wrong = 0;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(unformattable); i++) {
		int rc;

		memset(buf, 'x', sizeof(buf));
		rc = format_time_utc(unformattable[i], buf, sizeof(buf));
		if (rc != -1 || buf[0]) {
			print_error("%lld: rc %d, \"%.63s\"; want -1, \"\"\n", unformattable[i], rc, buf);
			wrong++;
		}
	}
	/* too small a buffer: empty, never a time cut short */
	memset(buf, 'x', sizeof(buf));
	assert_int_equal(format_time_utc(1795219140, buf, 20), -1);
	assert_string_equal(buf, "");
	assert_int_equal(format_time_utc(1795219140, buf, 0), -1);
	assert_int_equal(buf[0], '\0');
	assert_int_equal(wrong, 0);
}

/* ---- rfc3339_now -------------------------------------------------------- */

/* "dddd-dd-ddTdd:dd:dd.dddZ": 'd' a digit, anything else itself. */
static int matches_shape(const char *s, const char *shape)
{
	for (; *shape; s++, shape++) {
		if (*shape == 'd' ? !isdigit((unsigned char)*s) : *s != *shape)
			return 0;
	}
	return *s == '\0';
}

static void test_rfc3339_now(void **state)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:dd.dddZ";
	char buf[64];
	long long before, after, parsed = -1;
	struct timespec ts;
	int mon, mday, hour, min, sec;

	(void)state;
	/* the shape checker itself */
	assert_true(matches_shape("2026-11-22T22:04:53.123Z", shape));
	assert_false(matches_shape("2026-11-22T22:04:53.12Z", shape));
	assert_false(matches_shape("2026-11-22T22:04:53.123Z ", shape));
	assert_false(matches_shape("2026-11-22 22:04:53.123Z", shape));

	/*
	 * the clock rfc3339_now reads: time() reads a coarser one on Linux,
	 * which may still say the last second when this one has begun
	 */
	clock_gettime(CLOCK_REALTIME, &ts);
	before = (long long)ts.tv_sec;
	rfc3339_now(buf, sizeof(buf));
	clock_gettime(CLOCK_REALTIME, &ts);
	after = (long long)ts.tv_sec;
	if (!matches_shape(buf, shape))
		fail_msg("rfc3339_now wrote \"%s\", not %s", buf, shape);
	assert_int_equal(sscanf(buf + 5, "%2d-%2d %*c%2d:%2d:%2d", &mon, &mday, &hour, &min, &sec), 5);
	assert_true(mon >= 1 && mon <= 12);
	assert_true(mday >= 1 && mday <= 31);
	assert_true(hour <= 23 && min <= 59 && sec <= 60);
	/* UTC, and now: parse_time reads it back within the two time() calls */
	assert_int_equal(parse_time(buf, &parsed), 0);
	assert_true(parsed >= before && parsed <= after);

	/* a short buffer is cut, never overrun */
	memset(buf, 'x', sizeof(buf));
	rfc3339_now(buf, 11);
	assert_int_equal(strlen(buf), 10);
	assert_int_equal(buf[11], 'x');
	assert_true(matches_shape(buf, "dddd-dd-dd"));
}

/* ---- now_ms ------------------------------------------------------------- */

static void test_now_ms(void **state)
{
	struct timespec pause = { 0, 20 * 1000000L };
	long long first, prev, t;

	(void)state;
	first = prev = now_ms();
	assert_true(first >= 0);
	for (int i = 0; i < 100000; i++) {
		t = now_ms();
		if (t < prev)
			fail_msg("now_ms went back: %lld after %lld", t, prev);
		prev = t;
	}
	/* milliseconds: 20 ms of sleep are at least 20, and not 20 seconds */
	t = now_ms();
	assert_int_equal(nanosleep(&pause, NULL), 0);
	prev = now_ms();
	assert_true(prev - t >= 20);
	assert_true(prev - t < 5000);
	assert_true(prev >= first);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_zoned),
		cmocka_unit_test(test_parse_local),
		cmocka_unit_test(test_parse_invalid),
		cmocka_unit_test(test_regression_impossible_dates),
		cmocka_unit_test(test_regression_malformed_offsets),
		cmocka_unit_test(test_regression_date_without_time),
		cmocka_unit_test(test_regression_seconds_out_of_range),
		cmocka_unit_test(test_format_utc),
		cmocka_unit_test(test_format_utc_failure_regression), /* regression, see above */
		cmocka_unit_test(test_rfc3339_now),
		cmocka_unit_test(test_now_ms),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
