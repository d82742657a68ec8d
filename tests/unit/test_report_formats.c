/*
 * The other report formats (JUnit, Markdown, Gradescope, HTML), their
 * escapers, and reading a JSON report back.
 *
 * The writers render the report of test_report.c (report_fixture.h) with
 * markup added where learner text goes, and are compared byte for byte with
 * tests/golden/report.{junit.xml,md,gradescope.json,html}.  After an
 * intended change to a format:
 *
 *	PHASELAB_UPDATE_GOLDEN=1 build/tests/test_report_formats
 *
 * rewrites them; read the diff (git diff tests/golden) before committing.
 * The JUnit file is also checked with `xmllint --noout` when xmllint is on
 * PATH (Debian: libxml2-utils); the test says when it is not.
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
#include <strings.h>
#include <unistd.h>

#include "lib/escape.h"
#include "report/report.h"
#include "lib/strbuf.h"
#include "lib/xalloc.h"

#include "report_fixture.h"

#define R ESCAPE_REPLACEMENT
#define MARKER "\xe2\x80\xa6 [truncated, "

/* ---- the report, with markup where learner text goes --------------------- */

static const char markup_title[] =
	"</testcase><script>alert(1)</script> | pipes | ```fence``` ]]>";

static const char markup_message[] =
	"</testcase><script>alert(1)</script> | pipes | in a cell; ]]> ends CDATA; "
	"<!-- c --> &amp; &#60; entities; *stars* _under_ ~~strike~~ "
	"[link](javascript:alert(1)) ![img](http://x/y.png) <img src=x onerror=alert(1)> "
	"$x^2$ \\ backslash 'single' \"double\"\r\n"
	"# heading?\n- list?\n1. ordered?\n```\nfenced?\n```\n"
	"noncharacters \xef\xbf\xbe\xef\xbf\xbf\xef\xb7\x90 ctl \x01\x0b\x0c end";

static const char markup_hint[] =
	"Fences and markup in a hint stay text:\n"
	"\n"
	"    ```\n"
	"    </code></pre><script>alert(2)</script>\n"
	"    ````` five\n"
	"\n"
	"      | a | b |\n"
	"\n"
	"Then <b>prose</b> with `code`, | pipes | and ]]>.\n"
	"- not a list\n";

static void make_markup_report(struct report *r)
{
	make_report(r);
	free(r->phase_title);
	r->phase_title = xstrdup("Containerize the service </title><script>alert(0)</script>");
	add_check(r, "markup", markup_title, "file-content", CHECK_FAIL, 5, markup_message,
		  markup_hint,
		  evidence("{s:s, s:s, s:s}", "stdout", "</system-out><script>alert(3)</script>]]>",
			   "nonchar", "\xef\xbf\xbe", "controls", "\x7f\xc2\x9b\xe2\x80\xae"),
		  7);
	add_check(r, "quiet", "A failure with no hint", "file-content", CHECK_FAIL, 5,
		  "nothing to add", NULL, json_object(), 1);
	report_tally(r);
}

/* ---- helpers ----------------------------------------------------------- */

typedef int (*writer_fn)(const struct report *r, FILE *out);

static int write_text_plain(const struct report *r, FILE *out)
{
	return report_write_text(r, out, 0);
}

static int write_text_color(const struct report *r, FILE *out)
{
	return report_write_text(r, out, 1);
}

static const struct {
	const char *name;
	writer_fn fn;
} writers[] = {
	{ "text", write_text_plain },
	{ "text (colour)", write_text_color },
	{ "json", report_write_json },
	{ "junit", report_write_junit },
	{ "markdown", report_write_markdown },
	{ "gradescope", report_write_gradescope },
	{ "html", report_write_html },
};

/* Run a writer into memory; the result is NUL-terminated, *len its length. */
static char *render(writer_fn fn, const struct report *r, size_t *len)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);

	assert_non_null(f);
	assert_int_equal(fn(r, f), 0);
	assert_int_equal(fclose(f), 0);
	if (len)
		*len = n;
	return buf;
}

/*
 * Valid UTF-8 with no control character but '\n', and none of the Unicode
 * noncharacters (JSON may hold those: what gets there is only made inert).
 */
static void assert_clean_text(const char *what, const char *s, size_t len)
{
	int json = !strcmp(what, "gradescope");
	struct strbuf valid = STRBUF_INIT;
	size_t i;

	for (i = 0; i < len; i++) {
		const unsigned char *p = (const unsigned char *)s + i;

		if ((*p < 0x20 && *p != '\n') || *p == 0x7f)
			fail_msg("%s: control byte 0x%02x at offset %zu", what, *p, i);
		if (*p == 0xc2 && i + 1 < len && p[1] < 0xa0)
			fail_msg("%s: C1 control at offset %zu", what, i);
		if (*p == 0xe2 && i + 2 < len &&
		    ((p[1] == 0x80 && p[2] >= 0xaa && p[2] <= 0xae) ||
		     (p[1] == 0x81 && p[2] >= 0xa6 && p[2] <= 0xa9)))
			fail_msg("%s: bidi control at offset %zu", what, i);
		if (json)
			continue;
		if (*p == 0xef && i + 2 < len && p[1] == 0xbf && p[2] >= 0xbe)
			fail_msg("%s: U+FFFE or U+FFFF at offset %zu", what, i);
		if (*p == 0xef && i + 2 < len && p[1] == 0xb7 && p[2] >= 0x90 && p[2] <= 0xaf)
			fail_msg("%s: noncharacter U+FDD0..U+FDEF at offset %zu", what, i);
	}
	escape_utf8(&valid, s, len);
	if (valid.len != len || memcmp(valid.buf, s, len))
		fail_msg("%s: not valid UTF-8", what);
	strbuf_release(&valid);
}

/* How many times needle occurs in s. */
static size_t count(const char *s, const char *needle)
{
	size_t n = 0;

	for (s = strstr(s, needle); s; s = strstr(s + 1, needle))
		n++;
	return n;
}

static int have_xmllint(void)
{
	return system("command -v xmllint >/dev/null 2>&1") == 0;
}

/* Check well-formedness with xmllint; skipped (with a note) when it is not installed. */
static void xmllint(const char *xml, size_t len)
{
	char path[] = "/tmp/phaselab-junit-XXXXXX";
	char *cmd;
	int fd, status;

	if (!have_xmllint()) {
		fprintf(stderr, "note: xmllint not found (libxml2-utils): JUnit not validated\n");
		return;
	}
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, xml, len), (ssize_t)len);
	close(fd);
	cmd = xasprintf("xmllint --noout '%s'", path);
	status = system(cmd);
	unlink(path);
	free(cmd);
	if (status != 0)
		fail_msg("xmllint refused the JUnit report (status %d)", status);
}

/* ---- escapers ---------------------------------------------------------- */

struct row {
	const char *in;
	size_t max; /* 0: no bound */
	unsigned flags;
	const char *out;
};

typedef void (*escaper_fn)(struct strbuf *out, const char *s, size_t len, size_t max,
			   unsigned flags);

static void html_fn(struct strbuf *out, const char *s, size_t len, size_t max, unsigned flags)
{
	(void)flags;
	escape_html(out, s, len, max);
}

static void code_fn(struct strbuf *out, const char *s, size_t len, size_t max, unsigned flags)
{
	escape_md_code_block(out, s, len, max, flags ? "json" : NULL);
}

static void run_rows(const char *name, escaper_fn fn, const struct row *rows, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		struct strbuf sb = STRBUF_INIT;

		fn(&sb, rows[i].in, strlen(rows[i].in), rows[i].max ? rows[i].max : SIZE_MAX,
		   rows[i].flags);
		if (strcmp(sb.buf, rows[i].out))
			fail_msg("row %zu: %s gave '%s', want '%s'", i, name, sb.buf, rows[i].out);
		assert_clean_text(name, sb.buf, sb.len);
		strbuf_release(&sb);
	}
}

static void test_escape_xml(void **state)
{
	static const struct row rows[] = {
		{ "plain", 0, 0, "plain" },
		{ "a < b && c > d", 0, 0, "a &lt; b &amp;&amp; c &gt; d" },
		{ "]]> ends CDATA", 0, 0, "]]&gt; ends CDATA" },
		{ "</testcase><script>", 0, 0, "&lt;/testcase&gt;&lt;script&gt;" },
		/* quotes matter only in attributes, where line breaks must survive too */
		{ "\"q\" 'a'\nb", 0, 0, "\"q\" 'a'\nb" },
		{ "\"q\" 'a'\nb", 0, ESCAPE_XML_ATTR, "&quot;q&quot; &apos;a&apos;&#10;b" },
		{ "cr\r\nlf", 0, ESCAPE_XML_ATTR, "cr&#10;lf" },
		/* what XML 1.0 forbids cannot get through */
		{ "nul\x01\x08\x0b\x0c\x1f", 0, 0, "nul" R R R R R },
		{ "\xef\xbf\xbe\xef\xbf\xbf", 0, 0, R R },
		{ "\xef\xb7\x90\xf4\x8f\xbf\xbf", 0, 0, R R },
		{ "\xff\xc3\x28", 0, 0, R R "(" },
		/* and what a reader would act on is inert */
		{ "\x1b[31mred\x1b[0m \xe2\x80\xae" "bidi", 0, 0, "red " R "bidi" },
		{ "\t", 0, 0, "        " },
		{ "<<<<<<", 3, 0, "&lt;&lt;&lt;\xe2\x80\xa6 [truncated, 3 more bytes]" },
		{ "a\xc3\xa9z", 2, ESCAPE_XML_ATTR, "a\xe2\x80\xa6 [truncated, 3 more bytes]" },
	};

	(void)state;
	run_rows("escape_xml", escape_xml, rows, ARRAY_SIZE(rows));
}

static void test_escape_html(void **state)
{
	static const struct row rows[] = {
		{ "plain d\xc3\xa9j\xc3\xa0", 0, 0, "plain d\xc3\xa9j\xc3\xa0" },
		{ "<script>alert(1)</script>", 0, 0, "&lt;script&gt;alert(1)&lt;/script&gt;" },
		{ "\" onmouseover='x'", 0, 0, "&quot; onmouseover=&#39;x&#39;" },
		{ "&amp; &#60;", 0, 0, "&amp;amp; &amp;#60;" },
		{ "line\r\nbreak\rkept", 0, 0, "line\nbreak\nkept" },
		{ "\x1b]0;title\x07" "ok\x7f", 0, 0, "ok" R },
		{ "\xed\xa0\x80\xef\xbf\xbf", 0, 0, R R R R },
		{ "<<<<", 2, 0, "&lt;&lt;\xe2\x80\xa6 [truncated, 2 more bytes]" },
	};

	(void)state;
	run_rows("escape_html", html_fn, rows, ARRAY_SIZE(rows));
}

static void test_escape_md(void **state)
{
	static const struct row rows[] = {
		{ "plain text, 1.21 GB (ok)", 0, 0, "plain text, 1.21 GB (ok)" },
		{ "| pipes |", 0, 0, "\\| pipes \\|" },
		{ "`code` *em* _em_ ~~s~~", 0, 0, "\\`code\\` \\*em\\* \\_em\\_ \\~\\~s\\~\\~" },
		{ "[a](b) ![i](u)", 0, 0, "\\[a\\](b) !\\[i\\](u)" },
		{ "<b>x</b> &amp; <http://x>", 0, 0, "&lt;b&gt;x&lt;/b&gt; &amp;amp; &lt;http://x&gt;" },
		{ "$x^2$ \\ end", 0, 0, "\\$x^2\\$ \\\\ end" },
		/* nothing starts a block where the caller's line starts... */
		{ "# h", 0, 0, "\\# h" },
		{ "- item", 0, 0, "\\- item" },
		{ "+ item", 0, 0, "\\+ item" },
		{ "===", 0, 0, "\\===" },
		{ "> quote", 0, 0, "&gt; quote" },
		{ "12. item", 0, 0, "12\\. item" },
		{ "3) item", 0, 0, "3\\) item" },
		{ "2024 was", 0, 0, "2024 was" },
		{ "      indented", 0, 0, "indented" },
		{ "```", 0, 0, "\\`\\`\\`" },
		/* ...nor on a line of its own: there is none */
		{ "a\n# b\r\n- c", 0, 0, "a # b - c" },
		{ "a\n# b\r\n- c", 0, ESCAPE_MD_BR, "a<br># b<br>- c" },
		{ "bell\x07 \x1b[1mbold\x1b[0m \xc2\x9b \xff", 0, 0, "bell" R " bold " R " " R },
		{ "a|b|c|d", 3, 0, "a\\|b\xe2\x80\xa6 \\[truncated, 4 more bytes\\]" },
	};

	(void)state;
	run_rows("escape_md", escape_md, rows, ARRAY_SIZE(rows));
}

static void test_escape_md_code_block(void **state)
{
	static const struct row rows[] = {
		{ "FROM node:20\nUSER nonroot\n", 0, 0, "```\nFROM node:20\nUSER nonroot\n```\n" },
		{ "no newline", 0, 1, "```json\nno newline\n```\n" },
		{ "", 0, 0, "```\n```\n" },
		/* the fence is longer than any run of backticks inside */
		{ "```\n</pre>", 0, 0, "````\n```\n</pre>\n````\n" },
		{ "a ````` b ``", 0, 0, "``````\na ````` b ``\n``````\n" },
		{ "~~~\n<b>", 0, 0, "```\n~~~\n<b>\n```\n" },
		/* inert, and bounded inside the block */
		{ "\x1b[2Jx\x01\r\ny", 0, 0, "```\nx" R "\ny\n```\n" },
		{ "abcdef", 2, 0, "```\nab\xe2\x80\xa6 [truncated, 4 more bytes]\n```\n" },
	};

	(void)state;
	run_rows("escape_md_code_block", code_fn, rows, ARRAY_SIZE(rows));
}

/* A 1 MiB input costs the bound, not the input; NULL is nothing. */
static void test_escape_bounds(void **state)
{
	static const escaper_fn fns[] = { escape_xml, html_fn, escape_md, code_fn };
	char *big = big_message();
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(fns); i++) {
		struct strbuf sb = STRBUF_INIT;

		fns[i](&sb, big, MIB, 100, 0);
		assert_true(sb.len < 100 + 60 + 20);
		assert_non_null(strstr(sb.buf, "more bytes"));
		strbuf_reset(&sb);
		if (fns[i] != code_fn) {
			fns[i](&sb, NULL, 0, 100, 0);
			assert_int_equal(sb.len, 0);
		}
		strbuf_release(&sb);
	}
	free(big);
}

/* ---- JUnit ------------------------------------------------------------- */

static void test_golden_junit(void **state)
{
	struct report r;
	size_t len;
	char *out;

	(void)state;
	make_markup_report(&r);
	out = render(report_write_junit, &r, &len);
	/* XML 1.0 characters only, whatever the learner printed */
	assert_clean_text("junit", out, len);
	xmllint(out, len);
	assert_null(strstr(out, "<script"));
	assert_null(strstr(out, "]]>"));
	assert_int_equal(count(out, "<testcase "), r.nchecks);
	assert_int_equal(count(out, "<failure "), 4);
	assert_int_equal(count(out, "<error "), 1);
	assert_int_equal(count(out, "<skipped "), 1);
	assert_int_equal(count(out, "<system-out>"), r.nchecks);
	assert_non_null(strstr(out, "<testsuite name=\"03-containerization\" tests=\"10\" "
				    "failures=\"4\" errors=\"1\" skipped=\"1\" time=\"12.345\""));
	assert_non_null(strstr(out, "name=\"size: The image is small\" time=\"0.003\""));
	/* the 1 MiB message: cut at 4 KiB in the attribute, marked */
	assert_non_null(strstr(out, MARKER "1044481 more bytes]"));
	check_golden("report.junit.xml", out, len);
	free(out);
	report_release(&r);
}

/* ---- Markdown ---------------------------------------------------------- */

/*
 * Markup only where the writer put it: outside fenced code blocks, every '<'
 * opens <br>, <sub> or </sub>, and every table row has exactly its five
 * unescaped pipes.  A fence closes only with as many backticks or more.
 */
static void assert_md_structure(const char *md)
{
	const char *p, *line, *eol;
	size_t fence = 0, ticks;

	for (line = md; *line; line = *eol ? eol + 1 : eol) {
		size_t pipes = 0;

		eol = strchrnul(line, '\n');
		ticks = strspn(line, "`");
		if (fence) {
			if (ticks >= fence && line + ticks == eol)
				fence = 0;
			continue;
		}
		if (ticks >= 3) {
			fence = ticks;
			continue;
		}
		for (p = line; p < eol; p++)
			if (*p == '<' && strncmp(p, "<br>", 4) && strncmp(p, "<sub>", 5) &&
			    strncmp(p, "</sub>", 6))
				fail_msg("markdown: unexpected '<' at offset %td: %.30s", p - md, p);
		if (line[0] != '|')
			continue;
		for (p = line; p < eol; p++) {
			if (*p == '\\' && p + 1 < eol) {
				p++; /* an escaped character */
				continue;
			}
			pipes += *p == '|';
		}
		if (pipes != 5)
			fail_msg("markdown: a table row has %zu columns' pipes: %.60s", pipes, line);
	}
	if (fence)
		fail_msg("markdown: a code block is not closed");
}

static void test_golden_markdown(void **state)
{
	struct report r;
	size_t len;
	char *out;

	(void)state;
	make_markup_report(&r);
	out = render(report_write_markdown, &r, &len);
	assert_clean_text("markdown", out, len);
	assert_md_structure(out);
	assert_true(len <= 65536);
	assert_non_null(strstr(out, "## Containerize the service &lt;/title&gt;&lt;script&gt;"));
	assert_non_null(strstr(out, ": NOT PASSED\n"));
	/* one row per item, hints for fails and errors with one */
	assert_int_equal(count(out, "\n| "), r.nchecks + 2); /* and the heading and alignment rows */
	assert_int_equal(count(out, "\n#### "), 4);
	assert_null(strstr(out, "Not shown")); /* no hint for a skip */
	/* the hint's code, in a fence longer than its five backticks */
	assert_non_null(strstr(out, "\n``````\n```\n</code></pre><script>alert(2)</script>\n"
				    "````` five\n\n  | a | b |\n``````\n"));
	/* the 1 MiB message: cut at 1 KiB in the table, marked */
	assert_non_null(strstr(out, "\xe2\x80\xa6 \\[truncated, 1047552 more bytes\\] |"));
	assert_non_null(strstr(out, "`1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b` (with uncommitted"));
	check_golden("report.md", out, len);
	free(out);
	report_release(&r);
}

/* Many long items: the document stays within GitHub's comment limit, and says what it left out. */
static void test_markdown_limit(void **state)
{
	struct strbuf text = STRBUF_INIT;
	struct report r;
	size_t i, len;
	char *out;

	(void)state;
	while (text.len < 8192)
		strbuf_addstr(&text, "<&|\n"); /* as costly to escape as text gets */
	memset(&r, 0, sizeof(r));
	r.phase_id = xstrdup("99-big");
	r.phase_title = xstrdup("Big");
	r.dir = xstrdup("/tmp/big");
	for (i = 0; i < 200; i++)
		add_check(&r, "many", text.buf, "k", CHECK_FAIL, 1, text.buf, text.buf,
			  json_object(), 1);
	report_tally(&r);
	out = render(report_write_markdown, &r, &len);
	assert_true(len <= 65536);
	assert_md_structure(out);
	assert_non_null(strstr(out, "> **Left out** to stay within GitHub's 65536-character limit"));
	assert_non_null(strstr(out, "\n- **Target:** /tmp/big\n")); /* the footer always fits */
	free(out);
	strbuf_release(&text);
	report_release(&r);
}

/* ---- Gradescope -------------------------------------------------------- */

static int key_in(const char *key, const char *const *keys, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(key, keys[i]))
			return 1;
	return 0;
}

/* obj has exactly these keys, in this order, and each is one Gradescope documents. */
static void assert_gs_keys(json_t *obj, const char *const *want, size_t nwant,
			   const char *const *documented, size_t ndoc)
{
	const char *key;
	json_t *v;
	size_t i = 0;

	assert_true(json_is_object(obj));
	json_object_foreach(obj, key, v) {
		if (!key_in(key, documented, ndoc))
			fail_msg("gradescope: '%s' is not a documented key", key);
		assert_true(i < nwant);
		assert_string_equal(key, want[i]);
		i++;
	}
	assert_int_equal(i, nwant);
}

static void test_golden_gradescope(void **state)
{
	/* https://gradescope-autograders.readthedocs.io/en/latest/specs/ (output format) */
	static const char *const doc_top[] = { "score", "execution_time", "output",
		"output_format", "test_output_format", "test_name_format", "visibility",
		"stdout_visibility", "extra_data", "tests", "leaderboard" };
	static const char *const doc_test[] = { "score", "max_score", "status", "name",
		"name_format", "number", "output", "output_format", "tags", "visibility",
		"extra_data" };
	static const char *const top[] = { "score", "execution_time", "output", "output_format",
		"test_output_format", "test_name_format", "extra_data", "tests" };
	static const char *const test[] = { "name", "number", "score", "max_score", "status",
		"output" };
	struct report r;
	json_error_t jerr;
	json_t *doc, *tests, *t;
	json_int_t sum = 0;
	const char *output;
	size_t i, len;
	char *out, number[32];

	(void)state;
	make_markup_report(&r);
	out = render(report_write_gradescope, &r, &len);
	assert_clean_text("gradescope", out, len);
	doc = json_loadb(out, len, 0, &jerr);
	if (!doc)
		fail_msg("the Gradescope results do not parse: %s at line %d", jerr.text, jerr.line);
	assert_gs_keys(doc, top, ARRAY_SIZE(top), doc_top, ARRAY_SIZE(doc_top));
	assert_int_equal(json_integer_value(json_object_get(doc, "score")), r.score);
	assert_int_equal(json_integer_value(json_object_get(doc, "execution_time")), 12);
	assert_string_equal(json_string_value(json_object_get(doc, "output_format")), "text");
	output = json_string_value(json_object_get(doc, "output"));
	assert_null(strchr(output, '\n')); /* one paragraph */
	assert_non_null(strstr(output, "60/110 points, pass mark 70: NOT PASSED"));
	assert_int_equal(json_integer_value(json_object_get(json_object_get(doc, "extra_data"),
							    "max_score")), r.max_score);

	tests = json_object_get(doc, "tests");
	assert_int_equal(json_array_size(tests), r.nchecks);
	json_array_foreach(tests, i, t) {
		assert_gs_keys(t, test, ARRAY_SIZE(test), doc_test, ARRAY_SIZE(doc_test));
		snprintf(number, sizeof(number), "%zu", i + 1);
		assert_string_equal(json_string_value(json_object_get(t, "number")), number);
		assert_string_equal(json_string_value(json_object_get(t, "status")),
				    r.checks[i].status == CHECK_PASS ? "passed" : "failed");
		assert_int_equal(json_integer_value(json_object_get(t, "max_score")),
				 r.checks[i].max_points);
		sum += json_integer_value(json_object_get(t, "score"));
		/* bounded: 16 KiB of message and of hint, and a little more */
		assert_true(strlen(json_string_value(json_object_get(t, "output"))) < 33 * 1024);
	}
	assert_int_equal(sum, r.score);
	/* the 1 MiB message: cut at 16 KiB, marked; the hint follows */
	output = json_string_value(json_object_get(json_array_get(tests, 4), "output"));
	assert_non_null(strstr(output, MARKER "1032192 more bytes]\n\nHow to fix: Is the engine"));
	assert_true(!strncmp(output, "Could not be checked", 20));
	check_golden("report.gradescope.json", out, len);
	json_decref(doc);
	free(out);
	report_release(&r);
}

/* ---- HTML -------------------------------------------------------------- */

/* Every tag is one the writer writes: nothing the learner wrote became markup. */
static void assert_html_tags(const char *html)
{
	static const char *const tags[] = { "!DOCTYPE", "html", "head", "meta", "title", "style",
		"body", "div", "header", "p", "h1", "span", "ul", "li", "dl", "dt", "dd", "code",
		"main", "article", "h2", "section", "h3", "pre", "details", "summary", "footer",
		"strong" };
	const char *p, *name;
	char tag[16];
	size_t n;

	for (p = strchr(html, '<'); p; p = strchr(p + 1, '<')) {
		name = p + 1 + (p[1] == '/');
		n = strspn(name, "!ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789");
		if (!n || n >= sizeof(tag) || (name[n] != '>' && name[n] != ' '))
			fail_msg("html: stray '<' at offset %td: %.30s", p - html, p);
		memcpy(tag, name, n);
		tag[n] = '\0';
		if (!key_in(tag, tags, ARRAY_SIZE(tags)))
			fail_msg("html: unexpected tag at offset %td: %.30s", p - html, p);
	}
}

static void test_golden_html(void **state)
{
	struct report r;
	size_t len;
	char *out;

	(void)state;
	make_markup_report(&r);
	out = render(report_write_html, &r, &len);
	assert_clean_text("html", out, len);
	assert_null(strcasestr(out, "<script"));
	assert_null(strcasestr(out, "<img"));
	assert_null(strstr(out, "http-equiv=\"refresh\""));
	assert_html_tags(out);
	assert_non_null(strstr(out, "<meta charset=\"utf-8\">"));
	assert_non_null(strstr(out, "content=\"default-src 'none'; style-src 'unsafe-inline'"));
	assert_int_equal(count(out, "<article class=\"card "), r.nchecks);
	assert_int_equal(count(out, "<details><summary>Evidence</summary><pre>{"), r.nchecks);
	assert_int_equal(count(out, "<section class=\"hint\">"), 4);
	assert_non_null(strstr(out, "<div class=\"badge failed\">NOT PASSED</div>"));
	assert_non_null(strstr(out, "&lt;/testcase&gt;&lt;script&gt;alert(1)&lt;/script&gt;"));
	/* the 1 MiB message: cut at 16 KiB, marked */
	assert_non_null(strstr(out, MARKER "1032192 more bytes]"));
	check_golden("report.html", out, len);
	free(out);
	report_release(&r);
}

/* ---- every writer ------------------------------------------------------ */

/* An empty report (no git, no checks, no strings) and a passing one render everywhere. */
static void test_writers_minimal(void **state)
{
	struct report r;
	size_t i, j, len;
	char *out;

	(void)state;
	for (j = 0; j < 2; j++) {
		memset(&r, 0, sizeof(r));
		if (j) {
			r.phase_id = xstrdup("01-basics");
			r.has_git = 1; /* no commit yet */
			add_check(&r, "a", "A", "k", CHECK_PASS, 10, "", "", json_object(), 999);
			report_tally(&r);
		}
		for (i = 0; i < ARRAY_SIZE(writers); i++) {
			out = render(writers[i].fn, &r, &len);
			assert_true(len > 0 && out[len - 1] == '\n');
			if (writers[i].fn == report_write_junit)
				xmllint(out, len);
			if (writers[i].fn == report_write_gradescope)
				assert_non_null(strstr(out, j ? "\"status\": \"passed\"" : "\"tests\": []"));
			free(out);
		}
		report_release(&r);
	}
}

static void test_write_errors(void **state)
{
	struct report r;
	size_t i;
	FILE *f;

	(void)state;
	f = fopen("/dev/full", "w");
	if (!f)
		skip();
	make_markup_report(&r);
	for (i = 0; i < ARRAY_SIZE(writers); i++) {
		clearerr(f);
		errno = 0;
		assert_int_equal(writers[i].fn(&r, f), -1);
		assert_int_equal(errno, ENOSPC);
	}
	fclose(f);
	report_release(&r);
}

/* ---- reading the JSON report back -------------------------------------- */

static char *dumps(json_t *j)
{
	char *s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

	assert_non_null(s);
	return s;
}

/*
 * report -> json -> report -> json gives the same JSON, and every writer
 * prints from the report read back exactly what it printed from the
 * original: the 1 MiB message included (report.h on restoring cut strings).
 */
static void test_round_trip(void **state)
{
	struct strbuf err = STRBUF_INIT;
	struct report r, back;
	json_t *j1, *j2;
	char *s1, *s2, *a, *b;
	size_t i, alen, blen;

	(void)state;
	make_markup_report(&r);
	j1 = report_to_json(&r);
	assert_non_null(j1);
	if (report_from_json(j1, &back, &err))
		fail_msg("report_from_json: %s", err.buf);
	j2 = report_to_json(&back);
	assert_non_null(j2);
	assert_true(json_equal(j1, j2));
	s1 = dumps(j1);
	s2 = dumps(j2);
	assert_string_equal(s1, s2);
	assert_int_equal(back.nchecks, r.nchecks);
	assert_int_equal(strlen(back.checks[4].message), MIB);

	for (i = 0; i < ARRAY_SIZE(writers); i++) {
		a = render(writers[i].fn, &r, &alen);
		b = render(writers[i].fn, &back, &blen);
		if (alen != blen || memcmp(a, b, alen))
			fail_msg("%s: the report read back renders differently", writers[i].name);
		free(a);
		free(b);
	}
	free(s1);
	free(s2);
	json_decref(j1);
	json_decref(j2);
	report_release(&back);
	report_release(&r);
	strbuf_release(&err);
}

/*
 * The JSON report cuts a string at 64 KiB, or up to 3 bytes before when a
 * character straddles the bound: each case reads back to what writes the
 * same JSON and the same text report.
 */
static void test_round_trip_cuts(void **state)
{
	static const struct {
		const char *prefix, *unit;
		size_t back; /* bytes the cut backs up */
	} rows[] = {
		{ "a", "\xe6\x97\xa5", 0 },      /* 日 after 1 byte: a character ends at the bound */
		{ "", "\xe6\x97\xa5", 1 },
		{ "ab", "\xe6\x97\xa5", 2 },
		{ "a", "\xf0\x9f\x90\xb3", 3 }, /* 🐳 */
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(rows); i++) {
		struct strbuf msg = STRBUF_INIT, err = STRBUF_INIT;
		struct report r, back;
		json_t *j1, *j2;
		char *a, *b;

		strbuf_addstr(&msg, rows[i].prefix);
		while (msg.len < 70000)
			strbuf_addstr(&msg, rows[i].unit);
		memset(&r, 0, sizeof(r));
		add_check(&r, "a", "A", "k", CHECK_FAIL, 1, msg.buf, NULL, json_object(), 1);
		j1 = report_to_json(&r);
		assert_int_equal(strlen(json_string_value(json_object_get(
					 json_array_get(json_object_get(j1, "checks"), 0), "message"))) -
				 strlen(MARKER "NNNN more bytes]"),
				 64 * 1024 - rows[i].back);
		assert_int_equal(report_from_json(j1, &back, &err), 0);
		assert_int_equal(strlen(back.checks[0].message), msg.len);
		j2 = report_to_json(&back);
		a = dumps(j1);
		b = dumps(j2);
		if (strcmp(a, b))
			fail_msg("row %zu: the JSON differs after reading it back", i);
		free(a);
		free(b);
		a = render(write_text_plain, &r, NULL);
		b = render(write_text_plain, &back, NULL);
		assert_string_equal(a, b);
		free(a);
		free(b);
		json_decref(j1);
		json_decref(j2);
		report_release(&back);
		report_release(&r);
		strbuf_release(&msg);
		strbuf_release(&err);
	}
}

/* A report with no git, a null hint, and a string that looks cut but is not. */
static void test_read_variants(void **state)
{
	struct strbuf err = STRBUF_INIT, fake = STRBUF_INIT;
	struct report r, back;
	json_t *j;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.phase_id = xstrdup("01-basics");
	strbuf_addstr(&fake, "short, yet ");
	escape_add_truncated(&fake, 5);
	add_check(&r, "a", "A", "k", CHECK_PASS, 10, fake.buf, NULL, json_object(), 1);
	report_tally(&r);
	j = report_to_json(&r);
	assert_int_equal(report_from_json(j, &back, &err), 0);
	assert_false(back.has_git);
	assert_null(back.checks[0].hint);
	assert_string_equal(back.checks[0].message, fake.buf);
	assert_string_equal(back.dir, ""); /* NULL was written as "" */
	json_decref(j);
	report_release(&back);
	report_release(&r);
	strbuf_release(&fake);
	strbuf_release(&err);
}

/*
 * Set the value at a dotted path ("checks.1.status") to the JSON text value,
 * or delete it when value is NULL.
 */
static void patch(json_t *doc, const char *path, const char *value)
{
	char *copy = xstrdup(path), *tok, *next, *save = NULL;
	json_t *at = doc, *v = NULL;
	json_error_t jerr;

	if (value && !(v = json_loads(value, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr)))
		fail_msg("patch value '%s': %s", value, jerr.text);
	for (tok = strtok_r(copy, ".", &save); tok; tok = next) {
		int index = json_is_array(at);
		size_t i = index ? strtoul(tok, NULL, 10) : 0;

		next = strtok_r(NULL, ".", &save);
		if (next) {
			at = index ? json_array_get(at, i) : json_object_get(at, tok);
			assert_non_null(at);
		} else if (index) {
			assert_int_equal(v ? json_array_set_new(at, i, v) : json_array_remove(at, i), 0);
		} else {
			assert_int_equal(v ? json_object_set_new(at, tok, v) : json_object_del(at, tok), 0);
		}
	}
	free(copy);
}

static void test_read_errors(void **state)
{
	static const struct {
		const char *path, *value; /* value NULL: delete */
		const char *err;
	} rows[] = {
		{ "schema", NULL, "schema: missing (a string, required)" },
		{ "schema", "\"phaselab.report/v2\"",
		  "schema: 'phaselab.report/v2' is not a schema this version reads (phaselab.report/v1)" },
		{ "schema", "\"\\u001b[2J\\u0007x\"",
		  "schema: '" R "x' is not a schema this version reads (phaselab.report/v1)" },
		{ "phase.id", NULL, "phase.id: missing (a string, required)" },
		{ "phase", "[]", "phase: must be an object" },
		{ "score", "\"60\"", "score: must be an integer" },
		{ "score", "60.0", "score: must be an integer" },
		{ "score", "4294967296", "score: 4.29497e+09 is out of range" },
		{ "passed", "1", "passed: must be true or false" },
		{ "extra", "1", "extra: unknown key (known: schema, phase, target, engine," },
		{ "target.git", NULL, "target.git: missing (an object or null, required)" },
		{ "target.git.dirty", "null", "target.git.dirty: must be true or false" },
		{ "target.git.commit", "\"1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b0\"",
		  "target.git.commit: length 41 is out of range (0 to 40)" },
		{ "engine.builder", "null", "engine.builder: must be a string" },
		{ "engine.kind", "3", "engine.kind: must be a string" },
		{ "engine.remote", "\"yes\"", "engine.remote: must be true or false" },
		{ "started_at", "\"2025-01-15T09:30:00.000000000000000000000Z\"",
		  "started_at: length 42 is out of range (0 to 39)" },
		{ "checks", "{}", "checks: must be an array" },
		{ "checks.0", "3", "checks[0]: must be an object" },
		{ "checks.1.status", "\"bogus\"",
		  "checks[1].status: unknown status 'bogus' (known: pass fail skip error)" },
		{ "checks.1.status", "null", "checks[1].status: must be a string" },
		{ "checks.0.hint", NULL, "checks[0].hint: missing (a string or null, required)" },
		{ "checks.1.hint", "7", "checks[1].hint: must be a string" },
		{ "checks.0.evidence", "[]", "checks[0].evidence: must be an object" },
		{ "checks.0.evidence", NULL, "checks[0].evidence: missing (an object, required)" },
		{ "checks.1.points", "2147483648", "checks[1].points: 2.14748e+09 is out of range" },
		{ "checks.1.message", "\"a\\u0000b\"",
		  "checks[1].message: contains a NUL character (\\u0000)" },
		{ "checks.1.nope", "true", "checks[1].nope: unknown key (known: id, title, kind," },
	};
	struct strbuf err = STRBUF_INIT;
	struct report r, back;
	json_t *base, *doc;
	size_t i;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.phase_id = xstrdup("01-basics");
	r.has_git = 1;
	strcpy(r.commit, "1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b");
	add_check(&r, "a", "A", "k", CHECK_PASS, 10, "ok", NULL, json_object(), 1);
	add_check(&r, "b", "B", "k", CHECK_FAIL, 10, "no", "fix it", json_object(), 1);
	report_tally(&r);
	base = report_to_json(&r);

	for (i = 0; i < ARRAY_SIZE(rows); i++) {
		doc = json_deep_copy(base);
		patch(doc, rows[i].path, rows[i].value);
		strbuf_reset(&err);
		memset(&back, 0x5a, sizeof(back)); /* overwritten, not released */
		if (report_from_json(doc, &back, &err) != -1)
			fail_msg("row %zu (%s): read without an error", i, rows[i].path);
		if (strncmp(err.buf, rows[i].err, strlen(rows[i].err)))
			fail_msg("row %zu: got '%s', want '%s'", i, err.buf, rows[i].err);
		/* left empty: nothing to release, nothing leaked */
		assert_null(back.checks);
		assert_null(back.phase_id);
		json_decref(doc);
	}

	/* not an object at all */
	strbuf_reset(&err);
	doc = json_array();
	assert_int_equal(report_from_json(doc, &back, &err), -1);
	assert_string_equal(err.buf, "(top level): must be an object");
	json_decref(doc);

	/* the unmodified document reads */
	strbuf_reset(&err);
	assert_int_equal(report_from_json(base, &back, &err), 0);
	assert_int_equal(back.nchecks, 2);
	assert_string_equal(back.checks[1].hint, "fix it");
	assert_string_equal(back.engine_kind, "docker");
	assert_false(back.engine_remote);
	report_release(&back);

	/* a remote podman reads back as one; a report from before engines had a kind reads as docker */
	doc = json_deep_copy(base);
	patch(doc, "engine.kind", "\"podman\"");
	patch(doc, "engine.remote", "true");
	strbuf_reset(&err);
	assert_int_equal(report_from_json(doc, &back, &err), 0);
	assert_string_equal(back.engine_kind, "podman");
	assert_true(back.engine_remote);
	report_release(&back);
	patch(doc, "engine.kind", NULL);
	patch(doc, "engine.remote", NULL);
	assert_int_equal(report_from_json(doc, &back, &err), 0);
	assert_string_equal(back.engine_kind, "docker");
	assert_false(back.engine_remote);
	report_release(&back);
	json_decref(doc);

	json_decref(base);
	report_release(&r);
	strbuf_release(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape_xml),
		cmocka_unit_test(test_escape_html),
		cmocka_unit_test(test_escape_md),
		cmocka_unit_test(test_escape_md_code_block),
		cmocka_unit_test(test_escape_bounds),
		cmocka_unit_test(test_golden_junit),
		cmocka_unit_test(test_golden_markdown),
		cmocka_unit_test(test_markdown_limit),
		cmocka_unit_test(test_golden_gradescope),
		cmocka_unit_test(test_golden_html),
		cmocka_unit_test(test_writers_minimal),
		cmocka_unit_test(test_write_errors),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_round_trip_cuts),
		cmocka_unit_test(test_read_variants),
		cmocka_unit_test(test_read_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
