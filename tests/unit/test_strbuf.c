/*
 * Tests for runner/strbuf.c: the invariants strbuf.h states (buf never
 * NULL, always NUL-terminated, may hold NUL bytes) and each operation,
 * table-driven where the inputs vary.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/strbuf.h"

/* The invariants every function must leave behind. */
static void assert_sane(const struct strbuf *sb)
{
	assert_non_null(sb->buf);
	assert_int_equal(sb->buf[sb->len], '\0');
	if (sb->alloc)
		assert_true(sb->len < sb->alloc);
	else
		assert_int_equal(sb->len, 0);
}

static void assert_bytes(const struct strbuf *sb, const char *want, size_t want_len)
{
	assert_sane(sb);
	assert_int_equal(sb->len, want_len);
	assert_memory_equal(sb->buf, want, want_len);
}

static void test_init(void **state)
{
	struct strbuf a = STRBUF_INIT, b;

	(void)state;
	assert_sane(&a);
	assert_ptr_equal(a.buf, strbuf_empty);
	assert_int_equal(a.alloc, 0);

	strbuf_init(&b, 0);
	assert_ptr_equal(b.buf, strbuf_empty);
	assert_int_equal(b.alloc, 0);

	/* a hint allocates room for at least that much and its NUL */
	strbuf_init(&b, 100);
	assert_sane(&b);
	assert_int_equal(b.len, 0);
	assert_true(b.alloc >= 101);
	strbuf_release(&b);
	assert_ptr_equal(b.buf, strbuf_empty);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.alloc, 0);
	strbuf_release(&b); /* twice is harmless */
	assert_sane(&b);
	/* nobody wrote into the shared empty string */
	assert_int_equal(strbuf_empty[0], '\0');
}

struct add_row {
	const char *parts[4];  /* added in turn with strbuf_addstr */
	const char *expected;
};

static const struct add_row add_rows[] = {
	{ { NULL }, "" },
	{ { "", NULL }, "" },
	{ { "a", NULL }, "a" },
	{ { "a", "bc", "", "def" }, "abcdef" },
	/* more than the first allocation (64), to force a realloc */
	{ { "0123456789012345678901234567890123456789", "0123456789012345678901234567890123456789", NULL },
	  "01234567890123456789012345678901234567890123456789012345678901234567890123456789" },
};

static void test_add(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(add_rows) / sizeof(add_rows[0]); i++) {
		const struct add_row *r = &add_rows[i];
		struct strbuf sb = STRBUF_INIT;

		for (size_t j = 0; j < 4 && r->parts[j]; j++)
			strbuf_addstr(&sb, r->parts[j]);
		assert_bytes(&sb, r->expected, strlen(r->expected));
		strbuf_release(&sb);
	}
}

static void test_add_binary(void **state)
{
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	/* NUL bytes are data, not terminators */
	strbuf_add(&sb, "a\0b", 3);
	strbuf_addch(&sb, '\0');
	strbuf_addch(&sb, 'c');
	strbuf_add(&sb, "ignored", 0);
	assert_bytes(&sb, "a\0b\0c", 5);
	/* addch takes an int like putc: only the low byte counts */
	strbuf_reset(&sb);
	strbuf_addch(&sb, 0x141);
	assert_bytes(&sb, "A", 1);
	strbuf_release(&sb);
}

struct addf_row {
	const char *s;
	int n;
	const char *expected; /* of "[%s|%d]" */
};

static const struct addf_row addf_rows[] = {
	{ "", 0, "[|0]" },
	{ "x", -5, "[x|-5]" },
	{ "hello world", 2147483647, "[hello world|2147483647]" },
	{ "100%", 7, "[100%|7]" },
};

static void test_addf(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	char big[301];

	(void)state;
	for (size_t i = 0; i < sizeof(addf_rows) / sizeof(addf_rows[0]); i++) {
		strbuf_reset(&sb);
		strbuf_addstr(&sb, "pre:");
		strbuf_addf(&sb, "[%s|%d]", addf_rows[i].s, addf_rows[i].n);
		assert_sane(&sb);
		assert_int_equal(strncmp(sb.buf, "pre:", 4), 0);
		assert_string_equal(sb.buf + 4, addf_rows[i].expected);
		assert_int_equal(sb.len, 4 + strlen(addf_rows[i].expected));
	}
	strbuf_release(&sb);

	/* an empty result leaves an unallocated buffer alone */
	strbuf_addf(&sb, "%s", "");
	assert_ptr_equal(sb.buf, strbuf_empty);
	assert_int_equal(sb.len, 0);

	/* longer than any first allocation */
	strbuf_addf(&sb, "%0300d", 42);
	memset(big, '0', 298);
	big[298] = '4';
	big[299] = '2';
	big[300] = '\0';
	assert_bytes(&sb, big, 300);
	strbuf_release(&sb);
}

static void test_grow(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	char *before;

	(void)state;
	/* grow(0) on the empty string makes a real, writable allocation */
	strbuf_grow(&sb, 0);
	assert_true(sb.alloc > 0);
	assert_ptr_not_equal(sb.buf, strbuf_empty);
	assert_sane(&sb);

	strbuf_addstr(&sb, "abc");
	strbuf_grow(&sb, 1000);
	assert_true(sb.alloc >= 3 + 1000 + 1);
	assert_bytes(&sb, "abc", 3);
	/* adding within the grown room does not move the buffer */
	before = sb.buf;
	for (int i = 0; i < 1000; i++)
		strbuf_addch(&sb, 'x');
	assert_ptr_equal(sb.buf, before);
	assert_int_equal(sb.len, 1003);
	assert_sane(&sb);
	strbuf_release(&sb);
}

/*
 * Regression (fixed): strbuf_grow's overflow test, len + extra + 1 < len, misses
 * the sum that wraps to exactly len (extra == SIZE_MAX): it returned as if
 * the room were there, and strbuf_add then copied SIZE_MAX bytes (tar.c's
 * pax reader did, with a record length of -1).  Growing past SIZE_MAX must
 * end the program as an allocation failure does: status 3 and a message.
 */
struct grow_row {
	const char *contents;
	size_t extra;
};

static const struct grow_row grow_overflow_rows[] = {
	{ "", SIZE_MAX },          /* wraps to 0: the empty string */
	{ "abc", SIZE_MAX },       /* wraps to exactly len */
	{ "abc", SIZE_MAX - 3 },   /* wraps to 0 */
	{ "abc", SIZE_MAX - 2 },   /* wraps to 1 */
};

/* Run strbuf_grow in a child; its exit status (-1: it did not exit) and stderr. */
static int grow_in_child(const struct grow_row *r, char *err, size_t size)
{
	int fds[2], status;
	ssize_t n, got = 0;
	pid_t pid;

	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		struct strbuf sb = STRBUF_INIT;

		dup2(fds[1], 2);
		close(fds[0]);
		strbuf_addstr(&sb, r->contents);
		strbuf_grow(&sb, r->extra);
		_exit(0); /* it came back: the bug */
	}
	close(fds[1]);
	while (got < (ssize_t)size - 1 && (n = read(fds[0], err + got, size - 1 - (size_t)got)) > 0)
		got += n;
	err[got] = '\0';
	close(fds[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void test_grow_overflow_regression(void **state)
{
	int wrong = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(grow_overflow_rows) / sizeof(grow_overflow_rows[0]); i++) {
		const struct grow_row *r = &grow_overflow_rows[i];
		char err[256];
		int rc = grow_in_child(r, err, sizeof(err));

		if (rc != 3 || strncmp(err, "phaselab: out of memory", 23)) {
			print_error("'%s' grown by %zu: exit %d, stderr \"%s\"\n", r->contents, r->extra, rc, err);
			wrong++;
		}
	}
	assert_int_equal(wrong, 0);
}

static void test_detach(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	size_t len = 99;
	char *p;

	(void)state;
	/* an empty buffer still hands over memory the caller may free */
	p = strbuf_detach(&sb, &len);
	assert_non_null(p);
	assert_ptr_not_equal(p, strbuf_empty);
	assert_int_equal(len, 0);
	assert_string_equal(p, "");
	free(p);
	assert_ptr_equal(sb.buf, strbuf_empty);

	strbuf_addstr(&sb, "owned");
	p = strbuf_detach(&sb, &len);
	assert_int_equal(len, 5);
	assert_string_equal(p, "owned");
	/* and the buffer is empty and reusable afterwards */
	assert_ptr_equal(sb.buf, strbuf_empty);
	assert_int_equal(sb.len, 0);
	assert_int_equal(sb.alloc, 0);
	strbuf_addstr(&sb, "again");
	assert_bytes(&sb, "again", 5);
	free(p);

	p = strbuf_detach(&sb, NULL);
	assert_string_equal(p, "again");
	free(p);
}

struct trim_row {
	const char *in;
	size_t in_len;
	const char *expected;
	size_t expected_len;
};

#define T(s) s, sizeof(s) - 1

static const struct trim_row trim_rows[] = {
	{ T(""), T("") },
	{ T("abc"), T("abc") },
	{ T("abc  \t\r\n"), T("abc") },
	{ T(" \t\r\n "), T("") },
	{ T("  lead"), T("  lead") },
	{ T("a b\n c \n"), T("a b\n c") },
	{ T("x\v"), T("x\v") },    /* only space, tab, CR and LF are listed */
	{ T("x\f"), T("x\f") },
};

/*
 * Regression (fixed): strbuf_rtrim treats a trailing NUL byte as whitespace, because
 * strchr(" \t\r\n", '\0') finds the string's terminator: "a\0" becomes
 * "a".  strbuf.h says the buffer may hold NUL bytes and rtrim removes
 * spaces, tabs, CR and LF only.  Kept apart so the rows above still run.
 */
static const struct trim_row trim_nul_rows[] = {
	{ T("a\0"), T("a\0") },
	{ T("a\0 \n"), T("a\0") },
};

static void check_trim_rows(const struct trim_row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct trim_row *r = &rows[i];
		struct strbuf sb = STRBUF_INIT;

		strbuf_add(&sb, r->in, r->in_len);
		strbuf_rtrim(&sb);
		if (sb.len != r->expected_len || memcmp(sb.buf, r->expected, r->expected_len)) {
			print_error("row %zu: length %zu, expected %zu\n", i, sb.len, r->expected_len);
			strbuf_release(&sb); /* no leak when it fails */
			fail();
		}
		assert_sane(&sb);
		strbuf_release(&sb);
	}
}

static void test_rtrim(void **state)
{
	(void)state;
	check_trim_rows(trim_rows, sizeof(trim_rows) / sizeof(trim_rows[0]));
}

static void test_rtrim_keeps_nul_regression(void **state)
{
	(void)state;
	check_trim_rows(trim_nul_rows, sizeof(trim_nul_rows) / sizeof(trim_nul_rows[0]));
}

struct setlen_row {
	const char *in;
	size_t len;
	const char *expected;
};

static const struct setlen_row setlen_rows[] = {
	{ "hello", 3, "hel" },
	{ "hello", 0, "" },
	{ "hello", 5, "hello" },
	{ "hello", 10, "hello" }, /* never beyond the contents */
	{ "", 0, "" },
	{ "", 4, "" },            /* the shared empty string stays empty */
};

static void test_setlen(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(setlen_rows) / sizeof(setlen_rows[0]); i++) {
		struct strbuf sb = STRBUF_INIT;

		strbuf_addstr(&sb, setlen_rows[i].in);
		strbuf_setlen(&sb, setlen_rows[i].len);
		assert_bytes(&sb, setlen_rows[i].expected, strlen(setlen_rows[i].expected));
		strbuf_release(&sb);
	}
	assert_int_equal(strbuf_empty[0], '\0');
}

static void test_reset(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	size_t alloc;

	(void)state;
	strbuf_addstr(&sb, "some text");
	alloc = sb.alloc;
	strbuf_reset(&sb);
	assert_bytes(&sb, "", 0);
	/* the allocation is kept for reuse */
	assert_int_equal(sb.alloc, alloc);
	strbuf_addstr(&sb, "new");
	assert_bytes(&sb, "new", 3);
	strbuf_release(&sb);
}

struct tail_row {
	const char *text;
	size_t max_lines;
	const char *expected;
	size_t lines;
};

static const struct tail_row tail_rows[] = {
	{ "a\nb\nc\n", 2, "b\nc", 2 },
	{ "a\nb\nc", 2, "b\nc", 2 },
	{ "a\nb\nc\n", 1, "c", 1 },
	{ "a\nb\nc\n", 3, "a\nb\nc", 3 },
	{ "a\nb\nc\n", 5, "a\nb\nc", 3 },
	{ "a\nb\nc\n", 0, "", 0 },
	{ "", 3, "", 0 },
	{ "\n\n", 3, "", 0 },
	{ "one line", 3, "one line", 1 },
	{ "a\r\nb\r\n", 1, "b", 1 },
	{ "a\r\nb\r\n", 2, "a\r\nb", 2 },
	{ "a\n\nb\n", 2, "\nb", 2 },     /* an empty line in the middle counts */
	{ "a\nb\n\n\n", 1, "b", 1 },     /* trailing empty lines do not */
	{ "\na", 5, "\na", 2 },
	{ "first\nsecond\nthird\nfourth\n", 3, "second\nthird\nfourth", 3 },
};

static void test_add_tail_lines(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(tail_rows) / sizeof(tail_rows[0]); i++) {
		const struct tail_row *r = &tail_rows[i];
		struct strbuf sb = STRBUF_INIT;
		size_t n;

		strbuf_addstr(&sb, ">");
		n = strbuf_add_tail_lines(&sb, r->text, strlen(r->text), r->max_lines);
		if (n != r->lines || strcmp(sb.buf + 1, r->expected))
			print_error("row %zu: got %zu lines \"%s\"\n", i, n, sb.buf + 1);
		assert_int_equal(n, r->lines);
		assert_sane(&sb);
		assert_int_equal(sb.buf[0], '>'); /* appended, not replaced */
		assert_string_equal(sb.buf + 1, r->expected);
		strbuf_release(&sb);
	}
}

/* The text need not be NUL-terminated: only text[0..len) is read. */
static void test_add_tail_lines_len(void **state)
{
	static const char text[] = "a\nb\nc\nNOT PART OF IT";
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	assert_int_equal(strbuf_add_tail_lines(&sb, text, 6, 2), 2);
	assert_bytes(&sb, "b\nc", 3);
	strbuf_release(&sb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init),
		cmocka_unit_test(test_add),
		cmocka_unit_test(test_add_binary),
		cmocka_unit_test(test_addf),
		cmocka_unit_test(test_grow),
		cmocka_unit_test(test_grow_overflow_regression), /* regression, see above */
		cmocka_unit_test(test_detach),
		cmocka_unit_test(test_rtrim),
		cmocka_unit_test(test_rtrim_keeps_nul_regression), /* regression, see above */
		cmocka_unit_test(test_setlen),
		cmocka_unit_test(test_reset),
		cmocka_unit_test(test_add_tail_lines),
		cmocka_unit_test(test_add_tail_lines_len),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
