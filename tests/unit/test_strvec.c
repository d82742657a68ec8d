/*
 * Tests for runner/lib/strvec.c: the invariants strvec.h states (v never
 * NULL, v[nr] == NULL, strings owned) after every operation, and that
 * nothing is dropped however many strings are pushed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/strvec.h"

static void assert_sane(const struct strvec *sv)
{
	assert_non_null(sv->v);
	assert_null(sv->v[sv->nr]);
	if (sv->alloc)
		assert_true(sv->nr < sv->alloc);
	else
		assert_int_equal(sv->nr, 0);
}

static void test_init(void **state)
{
	struct strvec a = STRVEC_INIT, b;

	(void)state;
	assert_sane(&a);
	strvec_init(&b);
	assert_sane(&b);
	assert_ptr_equal(b.v, strvec_empty);
	strvec_clear(&a); /* clearing an empty vector is fine */
	assert_sane(&a);
}

static void test_push_copies(void **state)
{
	struct strvec sv = STRVEC_INIT;
	char buf[8] = "abc";
	const char *got;

	(void)state;
	got = strvec_push(&sv, buf);
	buf[0] = 'x';
	assert_string_equal(sv.v[0], "abc");
	assert_ptr_equal(got, sv.v[0]);
	assert_sane(&sv);
	strvec_clear(&sv);
}

static void test_pushf(void **state)
{
	static const struct { const char *fmt; int n; const char *want; } rows[] = {
		{ "%d", 7, "7" },
		{ "label=%d", 42, "label=42" },
		{ "%dm", 512, "512m" },
		{ "127.0.0.1::%d", 3000, "127.0.0.1::3000" },
	};
	struct strvec sv = STRVEC_INIT;

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		strvec_pushf(&sv, rows[i].fmt, rows[i].n);
		assert_string_equal(sv.v[i], rows[i].want);
		assert_sane(&sv);
	}
	strvec_clear(&sv);
}

static void test_pushv_and_pop(void **state)
{
	const char *const items[] = { "run", "-d", "--", "image", NULL };
	struct strvec sv = STRVEC_INIT;

	(void)state;
	strvec_pushv(&sv, items);
	strvec_pushv(&sv, NULL);
	assert_int_equal(sv.nr, 4);
	for (size_t i = 0; i < 4; i++)
		assert_string_equal(sv.v[i], items[i]);
	strvec_pop(&sv);
	assert_int_equal(sv.nr, 3);
	assert_sane(&sv);
	strvec_pop(&sv);
	strvec_pop(&sv);
	strvec_pop(&sv);
	strvec_pop(&sv); /* on empty: nothing */
	assert_int_equal(sv.nr, 0);
	assert_sane(&sv);
	strvec_clear(&sv);
}

/* The bug this type fixes: a fixed array dropped what did not fit. */
static void test_nothing_dropped(void **state)
{
	struct strvec sv = STRVEC_INIT;

	(void)state;
	for (int i = 0; i < 10000; i++) {
		strvec_push(&sv, "-e");
		strvec_pushf(&sv, "V%d=%d", i, i * 3);
		assert_sane(&sv);
	}
	assert_int_equal(sv.nr, 20000);
	for (int i = 0; i < 10000; i++) {
		char want[32];

		snprintf(want, sizeof(want), "V%d=%d", i, i * 3);
		assert_string_equal(sv.v[2 * i], "-e");
		assert_string_equal(sv.v[2 * i + 1], want);
	}
	strvec_clear(&sv);
	assert_sane(&sv);
}

static void test_detach(void **state)
{
	struct strvec sv = STRVEC_INIT;
	const char **v;

	(void)state;
	v = strvec_detach(&sv); /* empty: still a NULL-terminated array of our own */
	assert_non_null(v);
	assert_null(v[0]);
	free(v);

	strvec_push(&sv, "a");
	strvec_push(&sv, "b");
	v = strvec_detach(&sv);
	assert_sane(&sv);
	assert_int_equal(sv.nr, 0);
	assert_string_equal(v[0], "a");
	assert_string_equal(v[1], "b");
	assert_null(v[2]);
	for (size_t i = 0; v[i]; i++)
		free((char *)v[i]);
	free(v);
	/* reusable after detach and clear */
	strvec_push(&sv, "c");
	assert_string_equal(sv.v[0], "c");
	strvec_clear(&sv);
	strvec_push(&sv, "d");
	assert_string_equal(sv.v[0], "d");
	strvec_clear(&sv);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init),
		cmocka_unit_test(test_push_copies),
		cmocka_unit_test(test_pushf),
		cmocka_unit_test(test_pushv_and_pop),
		cmocka_unit_test(test_nothing_dropped),
		cmocka_unit_test(test_detach),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
