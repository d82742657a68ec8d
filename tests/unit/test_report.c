/*
 * Report writers and escaping helpers.
 *
 * The writers are compared byte for byte with tests/golden/report.{json,txt}
 * and report-color.txt, found under $PHASELAB_ROOT or the current directory
 * (the repository root under make).  After an intended change to a format:
 *
 *	PHASELAB_UPDATE_GOLDEN=1 build/tests/test_report
 *
 * rewrites them; read the diff (git diff tests/golden) before committing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/escape.h"
#include "report/report.h"
#include "lib/strbuf.h"
#include "lib/xalloc.h"

#define R ESCAPE_REPLACEMENT

#include "report_fixture.h"

/* ---- helpers ----------------------------------------------------------- */

typedef int (*writer_fn)(const struct report *r, FILE *out, int color);

static int write_json(const struct report *r, FILE *out, int color)
{
	(void)color;
	return report_write_json(r, out);
}

static int write_text(const struct report *r, FILE *out, int color)
{
	return report_write_text(r, out, color);
}

/* Run a writer into memory; the result is NUL-terminated, *len its length. */
static char *render(writer_fn fn, const struct report *r, int color, size_t *len)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);

	assert_non_null(f);
	assert_int_equal(fn(r, f, color), 0);
	assert_int_equal(fclose(f), 0);
	if (len)
		*len = n;
	return buf;
}

/*
 * Nothing a terminal would act on: no control byte but '\n' (and, with
 * colour, SGR sequences "ESC [ digits ; m"), no C1 or bidi control, valid
 * UTF-8.
 */
static void assert_terminal_safe(const char *s, size_t len, int color)
{
	struct strbuf valid = STRBUF_INIT;
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == 0x1b && color) {
			assert_true(i + 1 < len && s[i + 1] == '[');
			for (i += 2; i < len && (strchr("0123456789;", s[i])); i++)
				;
			assert_true(i < len && s[i] == 'm');
			continue;
		}
		if ((c < 0x20 && c != '\n') || c == 0x7f)
			fail_msg("control byte 0x%02x at offset %zu", c, i);
		if (c == 0xc2 && i + 1 < len && (unsigned char)s[i + 1] < 0xa0)
			fail_msg("C1 control at offset %zu", i);
		if (c == 0xe2 && i + 2 < len &&
		    ((s[i + 1] == '\x80' && s[i + 2] >= '\xaa' && s[i + 2] <= '\xae') ||
		     (s[i + 1] == '\x81' && s[i + 2] >= '\xa6' && s[i + 2] <= '\xa9')))
			fail_msg("bidi control at offset %zu", i);
	}
	/* and valid UTF-8: sanitizing changes nothing */
	escape_utf8(&valid, s, len);
	assert_int_equal(valid.len, len);
	assert_memory_equal(valid.buf, s, len);
	strbuf_release(&valid);
}

/* A copy of s with line breaks and the indentation after them undone. */
static char *squeeze(const char *s)
{
	struct strbuf sb = STRBUF_INIT;

	for (; *s; s++) {
		if (*s == '\n') {
			while (s[1] == ' ')
				s++;
			strbuf_addch(&sb, ' ');
		} else {
			strbuf_addch(&sb, *s);
		}
	}
	return strbuf_detach(&sb, NULL);
}

/* Every line fits in 80 columns (the report has no word that long). */
static void assert_width(const char *s, size_t max)
{
	size_t col = 0, line = 1;

	for (; *s; s++) {
		if (*s == '\n') {
			col = 0;
			line++;
		} else if (((unsigned char)*s & 0xc0) != 0x80 && ++col > max) {
			fail_msg("line %zu is wider than %zu columns", line, max);
		}
	}
}

/* ---- check_status_name, report_tally ----------------------------------- */

static void test_status_names(void **state)
{
	static const struct {
		enum check_status s;
		const char *name;
	} rows[] = {
		{ CHECK_PASS, "pass" },
		{ CHECK_FAIL, "fail" },
		{ CHECK_SKIP, "skip" },
		{ CHECK_ERROR, "error" },
		{ (enum check_status)42, "unknown" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(rows); i++)
		assert_string_equal(check_status_name(rows[i].s), rows[i].name);
}

static void test_tally(void **state)
{
	static const struct {
		int n;
		int points[3], max_points[3];
		int pass_mark;
		int score, max_score, passed;
	} rows[] = {
		{ 0, { 0 }, { 0 }, 0, 0, 0, 1 },
		{ 3, { 10, 0, 5 }, { 10, 10, 10 }, 15, 15, 30, 1 }, /* the mark itself passes */
		{ 3, { 10, 0, 5 }, { 10, 10, 10 }, 16, 15, 30, 0 },
		{ 2, { 0, 0 }, { 50, 50 }, 1, 0, 100, 0 },
		{ 2, { 50, 50 }, { 50, 50 }, 100, 100, 100, 1 },
	};
	size_t i;
	int j;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(rows); i++) {
		struct check_result checks[3];
		struct report r;

		memset(&r, 0, sizeof(r));
		memset(checks, 0, sizeof(checks));
		for (j = 0; j < rows[i].n; j++) {
			checks[j].points = rows[i].points[j];
			checks[j].max_points = rows[i].max_points[j];
		}
		r.checks = checks;
		r.nchecks = (size_t)rows[i].n;
		r.pass_mark = rows[i].pass_mark;
		r.score = r.max_score = -1; /* stale values are overwritten */
		report_tally(&r);
		assert_int_equal(r.score, rows[i].score);
		assert_int_equal(r.max_score, rows[i].max_score);
		assert_int_equal(r.passed, rows[i].passed);
	}
}

/* ---- escaping ---------------------------------------------------------- */

struct escape_row {
	const char *in;
	size_t in_len; /* 0: strlen(in) */
	unsigned flags;
	const char *out;
	size_t out_len; /* 0: strlen(out) */
};

static void test_escape_term(void **state)
{
	static const struct escape_row rows[] = {
		{ "plain text", 0, 0, "plain text", 0 },
		{ "", 0, 0, "", 0 },
		/* escape sequences go, whole */
		{ "\x1b[2J\x1b[Hclear", 0, 0, "clear", 0 },
		{ "\x1b[1;31mred\x1b[0m", 0, 0, "red", 0 },
		{ "\x1b[?25lhidden cursor", 0, 0, "hidden cursor", 0 },
		{ "\x1b]0;title\x07" "after", 0, 0, "after", 0 },
		{ "\x1b]8;;http://x/\x1b\\link\x1b]8;;\x1b\\", 0, 0, "link", 0 },
		{ "\x1bPq#0\x1b\\sixel", 0, 0, "sixel", 0 },
		{ "\x1b]0;unterminated", 0, 0, "0;unterminated", 0 },
		{ "\x1b]a\x1b]b", 0, 0, "ab", 0 },
		{ "\x1b" "c reset", 0, 0, " reset", 0 },
		{ "\x1b(Bascii", 0, 0, "ascii", 0 },
		{ "\x1b" "7save", 0, 0, "save", 0 },
		{ "end\x1b", 0, 0, "end", 0 },
		{ "cut\x1b[1;3", 0, 0, "cut", 0 },
		{ "\x1b[31\x07m", 0, 0, R "m", 0 },
		{ "\x1b\x07", 0, 0, R, 0 },
		{ "\x1b\xc3\xa9", 0, 0, "\xc3\xa9", 0 },
		/* other controls become U+FFFD */
		{ "bell\x07", 0, 0, "bell" R, 0 },
		{ "back\b\bspace", 0, 0, "back" R R "space", 0 },
		{ "del\x7f", 0, 0, "del" R, 0 },
		{ "a\0b", 3, 0, "a" R "b", 0 },
		{ "c1 \xc2\x9b" "31m", 0, 0, "c1 " R "31m", 0 },
		{ "raw \x9b" "31m", 0, 0, "raw " R "31m", 0 },
		{ "\xe2\x80\xae" "evil\xe2\x80\xac", 0, 0, R "evil" R, 0 },
		{ "\xe2\x81\xa6x\xe2\x81\xa9", 0, 0, R "x" R, 0 },
		/* line breaks */
		{ "cr\roverwrite", 0, 0, "cr overwrite", 0 },
		{ "cr\roverwrite", 0, ESCAPE_TERM_NEWLINES, "cr\noverwrite", 0 },
		{ "a\r\nb", 0, 0, "a b", 0 },
		{ "a\r\nb\n", 0, ESCAPE_TERM_NEWLINES, "a\nb\n", 0 },
		{ "a\nb", 0, 0, "a b", 0 },
		/* tabs to the next multiple of 8, per line */
		{ "\tx", 0, 0, "        x", 0 },
		{ "ab\tc", 0, 0, "ab      c", 0 },
		{ "\xc3\xa9\tx", 0, 0, "\xc3\xa9       x", 0 },
		{ "abc\n\tx", 0, ESCAPE_TERM_NEWLINES, "abc\n        x", 0 },
		/* valid UTF-8 stays; invalid becomes U+FFFD per maximal subpart */
		{ "d\xc3\xa9j\xc3\xa0 vu \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x90\xb3", 0, 0,
		  "d\xc3\xa9j\xc3\xa0 vu \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x90\xb3", 0 },
		{ R, 0, 0, R, 0 },
		{ "\xff\xfe", 0, 0, R R, 0 },
		{ "\xc3\x28", 0, 0, R "(", 0 },
		{ "\xc0\xaf", 0, 0, R R, 0 },
		{ "\xed\xa0\x80", 0, 0, R R R, 0 },
		{ "\xf0\x9f\x98", 0, 0, R, 0 },
		{ "\xf0\x9f\x98x", 0, 0, R "x", 0 },
		{ "\xf4\x90\x80\x80", 0, 0, R R R R, 0 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(rows); i++) {
		struct strbuf sb = STRBUF_INIT;
		size_t in_len = rows[i].in_len ? rows[i].in_len : strlen(rows[i].in);
		size_t out_len = rows[i].out_len ? rows[i].out_len : strlen(rows[i].out);

		escape_term(&sb, rows[i].in, in_len, rows[i].flags);
		if (sb.len != out_len || memcmp(sb.buf, rows[i].out, out_len))
			fail_msg("row %zu: escape_term gave \"%s\", want \"%s\"", i, sb.buf,
				 rows[i].out);
		strbuf_release(&sb);
	}
}

static void test_escape_utf8(void **state)
{
	static const struct escape_row rows[] = {
		{ "plain", 0, 0, "plain", 0 },
		{ "\x1b[2J\t\r\n", 0, 0, "\x1b[2J\t\r\n", 0 }, /* controls are jansson's to escape */
		{ "a\0b", 3, 0, "a\0b", 3 },
		{ "d\xc3\xa9j\xc3\xa0 \xf0\x9f\x90\xb3", 0, 0, "d\xc3\xa9j\xc3\xa0 \xf0\x9f\x90\xb3", 0 },
		{ "\xc2\x9b", 0, 0, "\xc2\x9b", 0 }, /* valid, if odd */
		{ "x\xff", 0, 0, "x" R, 0 },
		{ "\x80\x80", 0, 0, R R, 0 },
		{ "\xc3\x28", 0, 0, R "(", 0 },
		{ "\xc1\xbf", 0, 0, R R, 0 },
		{ "\xe0\x80\xaf", 0, 0, R R R, 0 },
		{ "\xed\xa0\x80", 0, 0, R R R, 0 },
		{ "\xe2\x82", 0, 0, R, 0 },
		{ "\xe2\x82x", 0, 0, R "x", 0 },
		{ "\xf0\x9f\x98", 0, 0, R, 0 },
		{ "\xf4\x90\x80\x80", 0, 0, R R R R, 0 },
		{ "\xf5\x80", 0, 0, R R, 0 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(rows); i++) {
		struct strbuf sb = STRBUF_INIT;
		size_t in_len = rows[i].in_len ? rows[i].in_len : strlen(rows[i].in);
		size_t out_len = rows[i].out_len ? rows[i].out_len : strlen(rows[i].out);

		escape_utf8(&sb, rows[i].in, in_len);
		if (sb.len != out_len || memcmp(sb.buf, rows[i].out, out_len))
			fail_msg("row %zu: escape_utf8 gave \"%s\", want \"%s\"", i, sb.buf,
				 rows[i].out);
		strbuf_release(&sb);
	}
}

static void test_escape_json_text(void **state)
{
	static const struct escape_row rows[] = {
		{ "{\"a\": \"b\"}", 0, 0, "{\"a\": \"b\"}", 0 },
		{ "\"\\u001B[2J d\xc3\xa9j\xc3\xa0\"", 0, 0, "\"\\u001B[2J d\xc3\xa9j\xc3\xa0\"", 0 },
		{ "\"del\x7f\"", 0, 0, "\"del\\u007F\"", 0 },
		{ "\"\xc2\x9b" "31m\"", 0, 0, "\"\\u009B31m\"", 0 },
		{ "\"\xe2\x80\xae" "evil\xe2\x81\xa9\"", 0, 0, "\"\\u202Eevil\\u2069\"", 0 },
		{ "\"\xef\xbf\xbd\xff\"", 0, 0, "\"\xef\xbf\xbd\\uFFFD\"", 0 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(rows); i++) {
		struct strbuf sb = STRBUF_INIT;
		size_t in_len = rows[i].in_len ? rows[i].in_len : strlen(rows[i].in);

		escape_json_text(&sb, rows[i].in, in_len);
		if (strcmp(sb.buf, rows[i].out))
			fail_msg("row %zu: escape_json_text gave '%s', want '%s'", i, sb.buf,
				 rows[i].out);
		strbuf_release(&sb);
	}
}

static void test_escape_cut(void **state)
{
	static const struct {
		const char *s;
		size_t max, cut;
	} rows[] = {
		{ "abc", 5, 3 },
		{ "abc", 3, 3 },
		{ "abcdef", 3, 3 },
		{ "abc", 0, 0 },
		{ "a\xc3\xa9", 2, 1 },                  /* not inside é */
		{ "\xe6\x97\xa5\xe6\x9c\xac", 4, 3 },   /* nor inside 本 */
		{ "\xe6\x97\xa5\xe6\x9c\xac", 5, 3 },
		{ "\xf0\x9f\x90\xb3!", 3, 0 },
		{ "\xf0\x9f\x90\xb3!", 4, 4 },
		{ "\x80\x80\x80\x80\x80\x80", 5, 5 },   /* not UTF-8: cut anywhere */
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(rows); i++)
		assert_int_equal(escape_cut(rows[i].s, strlen(rows[i].s), rows[i].max),
				 rows[i].cut);
}

static void test_escape_truncate(void **state)
{
	static const struct {
		const char *s;
		size_t max;
		const char *out;
		size_t dropped;
	} rows[] = {
		{ "hello", 10, "hello", 0 },
		{ "hello", 5, "hello", 0 },
		{ "hello world", 5, "hello\xe2\x80\xa6 [truncated, 6 more bytes]", 6 },
		{ "ab", 1, "a\xe2\x80\xa6 [truncated, 1 more byte]", 1 },
		{ "a\xc3\xa9z", 2, "a\xe2\x80\xa6 [truncated, 3 more bytes]", 3 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(rows); i++) {
		struct strbuf sb = STRBUF_INIT;

		assert_int_equal(escape_truncate(&sb, rows[i].s, strlen(rows[i].s), rows[i].max),
				 rows[i].dropped);
		assert_string_equal(sb.buf, rows[i].out);
		strbuf_release(&sb);
	}
}

/* Many unterminated OSC strings must not make escape_term() quadratic. */
static void test_escape_term_linear(void **state)
{
	struct strbuf in = STRBUF_INIT, out = STRBUF_INIT;

	(void)state;
	while (in.len < 4 * MIB)
		strbuf_addstr(&in, "\x1b]x");
	escape_term(&out, in.buf, in.len, 0);
	assert_int_equal(out.len, in.len / 3);
	strbuf_release(&in);
	strbuf_release(&out);
}

/* ---- the JSON report --------------------------------------------------- */

/* Assert that obj has exactly these keys, in this order. */
static void assert_keys(const json_t *obj, const char *const *keys, size_t n)
{
	void *it;
	size_t i = 0;

	assert_true(json_is_object(obj));
	for (it = json_object_iter((json_t *)obj); it;
	     it = json_object_iter_next((json_t *)obj, it), i++) {
		assert_true(i < n);
		assert_string_equal(json_object_iter_key(it), keys[i]);
	}
	assert_int_equal(i, n);
}

static void test_json_contract(void **state)
{
	static const char *const top[] = { "schema", "phase", "target", "engine",
		"started_at", "duration_ms", "score", "max_score", "pass_mark", "passed",
		"checks" };
	static const char *const phase[] = { "id", "title" };
	static const char *const target[] = { "dir", "git" };
	static const char *const git[] = { "commit", "dirty" };
	static const char *const engine[] = { "client", "server", "builder", "kind", "remote" };
	static const char *const check[] = { "id", "title", "kind", "status", "points",
		"max_points", "message", "hint", "evidence", "duration_ms" };
	struct report r;
	json_error_t err;
	json_t *doc, *checks, *c;
	const char *msg;
	size_t i, len;
	char *out;

	(void)state;
	make_report(&r);
	out = render(write_json, &r, 0, &len);
	assert_true(len > 0 && out[len - 1] == '\n');
	assert_terminal_safe(out, len, 0);
	doc = json_loadb(out, len, 0, &err);
	if (!doc)
		fail_msg("the JSON report does not parse: %s at line %d", err.text, err.line);

	assert_keys(doc, top, ARRAY_SIZE(top));
	assert_string_equal(json_string_value(json_object_get(doc, "schema")),
			    "phaselab.report/v1");
	assert_keys(json_object_get(doc, "phase"), phase, ARRAY_SIZE(phase));
	assert_keys(json_object_get(doc, "target"), target, ARRAY_SIZE(target));
	assert_keys(json_object_get(json_object_get(doc, "target"), "git"), git, ARRAY_SIZE(git));
	assert_keys(json_object_get(doc, "engine"), engine, ARRAY_SIZE(engine));
	assert_int_equal(json_integer_value(json_object_get(doc, "score")), 60);
	assert_int_equal(json_integer_value(json_object_get(doc, "max_score")), 100);
	assert_true(json_is_false(json_object_get(doc, "passed")));
	/* learner text is kept raw in JSON: the consumer escapes for its output */
	assert_string_equal(json_string_value(json_object_get(json_object_get(doc, "target"),
							      "dir")),
			    r.dir);

	checks = json_object_get(doc, "checks");
	assert_int_equal(json_array_size(checks), r.nchecks);
	json_array_foreach(checks, i, c) {
		assert_keys(c, check, ARRAY_SIZE(check));
		assert_string_equal(json_string_value(json_object_get(c, "status")),
				    check_status_name(r.checks[i].status));
		assert_true(json_equal(json_object_get(c, "evidence"), r.checks[i].evidence));
		if (r.checks[i].hint)
			assert_true(json_is_string(json_object_get(c, "hint")));
		else
			assert_true(json_is_null(json_object_get(c, "hint")));
	}

	/* invalid UTF-8 replaced, not fatal */
	msg = json_string_value(json_object_get(json_array_get(checks, 3), "message"));
	assert_non_null(strstr(msg, "invalid " R R " " R "( " R R R " " R " end"));
	/* the 1 MiB message: cut at 64 KiB, on a character boundary, marked */
	msg = json_string_value(json_object_get(json_array_get(checks, 4), "message"));
	assert_true(strlen(msg) < 64 * 1024 + 50);
	assert_non_null(strstr(msg, " [truncated, 983041 more bytes]"));

	json_decref(doc);
	free(out);
	report_release(&r);
}

static void test_json_no_git(void **state)
{
	struct report r;
	json_t *doc;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.phase_id = xstrdup("01-basics");
	r.has_git = 0;
	doc = report_to_json(&r);
	assert_non_null(doc);
	assert_true(json_is_null(json_object_get(json_object_get(doc, "target"), "git")));
	/* missing strings are "" rather than a type the contract does not have */
	assert_string_equal(json_string_value(json_object_get(json_object_get(doc, "engine"),
							      "server")),
			    "");
	assert_int_equal(json_array_size(json_object_get(doc, "checks")), 0);
	json_decref(doc);
	report_release(&r);
}

/* ---- golden files ------------------------------------------------------ */

static void test_golden_json(void **state)
{
	struct report r;
	size_t len;
	char *out;

	(void)state;
	make_report(&r);
	out = render(write_json, &r, 0, &len);
	check_golden("report.json", out, len);
	free(out);
	report_release(&r);
}

static void test_golden_text(void **state)
{
	struct report r;
	size_t len;
	char *out, *flat;

	(void)state;
	make_report(&r);
	out = render(write_text, &r, 0, &len);
	assert_terminal_safe(out, len, 0);
	assert_width(out, 80);
	/* the 1 MiB message: cut at 4 KiB on a character boundary, marked */
	flat = squeeze(out);
	assert_non_null(strstr(flat, "vu d\xe2\x80\xa6 [truncated, 1044481 more bytes]"));
	free(flat);
	assert_null(strstr(out, "Not shown")); /* hints only under FAIL and ERROR */
	assert_non_null(strstr(out, "1 item could not be checked"));
	check_golden("report.txt", out, len);
	free(out);
	report_release(&r);
}

static void test_golden_text_color(void **state)
{
	struct report r;
	size_t len;
	char *out;

	(void)state;
	make_report(&r);
	out = render(write_text, &r, 1, &len);
	assert_terminal_safe(out, len, 1);
	check_golden("report-color.txt", out, len);
	free(out);
	report_release(&r);
}

/* A passing report, no git, two errors: the other branches of the layout. */
static void test_text_variants(void **state)
{
	struct report r;
	char *out;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.phase_id = xstrdup("01-basics");
	r.phase_title = xstrdup("Basics");
	r.dir = xstrdup("/tmp/x");
	r.duration_ms = 949;
	r.pass_mark = 10;
	add_check(&r, "a", "A", "k", CHECK_PASS, 100, "ok", NULL, json_object(), 1);
	add_check(&r, "b", "B", "k", CHECK_ERROR, 5, "", "", json_object(), 1);
	add_check(&r, "c", "C", "k", CHECK_ERROR, 5, "engine gone", NULL, json_object(), 1);
	report_tally(&r);
	out = render(write_text, &r, 0, NULL);
	assert_string_equal(out,
		"phase 01-basics: Basics\n"
		"target /tmp/x\n"
		"\n"
		"  PASS   100/100  A \xe2\x80\x94 ok\n"
		"  ERROR      0/5  B\n"
		"  ERROR      0/5  C \xe2\x80\x94 engine gone\n"
		"\n"
		"score 100/110, pass mark 10: PASSED (0.9 s)\n"
		"2 items could not be checked (ERROR above): the harness or the engine failed,\n"
		"not your work. They scored no points, so this score is not final: fix the\n"
		"environment and run the check again.\n");
	free(out);
	report_release(&r);
}

/* The footer's and the step summary's counts: fails, errors and skips apart. */
static void test_text_counts(void **state)
{
	static const struct {
		int fail, error, skip;
		const char *want;
	} rows[] = {
		{ 0, 0, 0, "" },
		{ 1, 0, 5, "1 check fails; 5 wait on it" },
		{ 1, 0, 1, "1 check fails; 1 waits on it" },
		{ 2, 0, 3, "2 checks fail; 3 wait on them" },
		{ 1, 1, 2, "1 check fails, 1 could not be checked; 2 wait on them" },
		{ 0, 2, 0, "2 checks could not be checked" },
		{ 0, 1, 1, "1 check could not be checked; 1 waits on it" },
		{ 3, 0, 0, "3 checks fail" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct strbuf sb = STRBUF_INIT;
		struct report r;

		memset(&r, 0, sizeof(r));
		add_check(&r, "p", "P", "k", CHECK_PASS, 10, "ok", NULL, json_object(), 1);
		for (int k = 0; k < rows[i].fail; k++)
			add_check(&r, "f", "F", "k", CHECK_FAIL, 10, "no", NULL, json_object(), 1);
		for (int k = 0; k < rows[i].error; k++)
			add_check(&r, "e", "E", "k", CHECK_ERROR, 10, "gone", NULL, json_object(), 1);
		for (int k = 0; k < rows[i].skip; k++)
			add_check(&r, "s", "S", "k", CHECK_SKIP, 10, "waits", NULL, json_object(), 1);
		report_text_counts(&sb, &r);
		assert_string_equal(sb.buf, rows[i].want);
		strbuf_release(&sb);
		report_release(&r);
	}
}

/* Header and footer lines wrap at 80 columns, as the check lines do. */
static void test_text_header_wrapped(void **state)
{
	struct report r;
	char *out;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.phase_id = xstrdup("03-containerization");
	r.phase_title = xstrdup("Containerization: a production image that is small, safe and quick to rebuild");
	r.dir = xstrdup("/home/a-learner-with-a-long-name/workshops/container-workshop/service (copy)");
	r.pass_mark = 10;
	add_check(&r, "a", "A", "k", CHECK_FAIL, 10, "no", NULL, json_object(), 1);
	report_tally(&r);
	out = render(write_text, &r, 0, NULL);
	assert_string_equal(out,
		"phase 03-containerization: Containerization: a production image that is small,\n"
		"  safe and quick to rebuild\n"
		"target /home/a-learner-with-a-long-name/workshops/container-workshop/service\n"
		"  (copy)\n"
		"\n"
		"  FAIL   0/10  A \xe2\x80\x94 no\n"
		"\n"
		"score 0/10, pass mark 10: NOT PASSED (0.0 s)\n"
		"1 check fails.\n");
	free(out);
	report_release(&r);
}

static void test_write_errors(void **state)
{
	struct report r;
	FILE *f;

	(void)state;
	f = fopen("/dev/full", "w");
	if (!f)
		skip();
	make_report(&r);
	errno = 0;
	assert_int_equal(report_write_text(&r, f, 0), -1);
	assert_int_equal(errno, ENOSPC);
	clearerr(f);
	errno = 0;
	assert_int_equal(report_write_json(&r, f), -1);
	assert_int_equal(errno, ENOSPC);
	fclose(f);
	report_release(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status_names),
		cmocka_unit_test(test_tally),
		cmocka_unit_test(test_escape_term),
		cmocka_unit_test(test_escape_utf8),
		cmocka_unit_test(test_escape_json_text),
		cmocka_unit_test(test_escape_cut),
		cmocka_unit_test(test_escape_truncate),
		cmocka_unit_test(test_escape_term_linear),
		cmocka_unit_test(test_json_contract),
		cmocka_unit_test(test_json_no_git),
		cmocka_unit_test(test_golden_json),
		cmocka_unit_test(test_golden_text),
		cmocka_unit_test(test_golden_text_color),
		cmocka_unit_test(test_text_variants),
		cmocka_unit_test(test_text_counts),
		cmocka_unit_test(test_text_header_wrapped),
		cmocka_unit_test(test_write_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
