/*
 * mdterm: lesson Markdown on a terminal.
 *
 * Table rows for each construct, in plain and colour output; golden files
 * for two whole documents (tests/golden/mdterm/NAME.md rendered into
 * NAME.plain and NAME.ansi), found under $PHASELAB_ROOT or the current
 * directory (the repository root under make); generated documents and
 * hostile ones that must come out safe, whatever they look like.  After an
 * intended change to the output:
 *
 *	PHASELAB_UPDATE_GOLDEN=1 build/tests/test_mdterm
 *
 * rewrites the golden files; read the diff (git diff tests/golden) first.
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
#include <time.h>
#include <unistd.h>

#include "lib/escape.h"
#include "learn/mdterm.h"
#include "lib/strbuf.h"
#include "lib/xalloc.h"

#include "golden.h"

#define R ESCAPE_REPLACEMENT
#define BOLD "\x1b[1m"
#define ITALIC "\x1b[3m"
#define CODE "\x1b[36m"
#define RESET "\x1b[0m"

/* ---- helpers ----------------------------------------------------------- */

/* Render md[0..len) into a NUL-terminated string; *out_len its length. */
static char *render(const char *md, size_t len, int color, int width, size_t *out_len)
{
	struct strbuf sb = STRBUF_INIT;
	struct mdterm_opts o = { color, width };

	mdterm_render(&sb, md, len, &o);
	return strbuf_detach(&sb, out_len);
}

/*
 * What every output must be: valid UTF-8 with no control character but
 * '\n', no C1 or bidi control; in colour SGR sequences only, and none left
 * on at a line break or at the end; plain, no escape at all.  Each line ends
 * with '\n'; neither the first nor the last is blank.
 */
static void assert_safe(const char *s, size_t len, int color)
{
	struct strbuf valid = STRBUF_INIT;
	size_t i, j;
	int styled = 0;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == 0x1b) {
			if (!color)
				fail_msg("escape sequence at offset %zu of plain output", i);
			if (i + 1 >= len || s[i + 1] != '[')
				fail_msg("escape at offset %zu is not a CSI", i);
			for (j = i + 2; j < len && ((s[j] >= '0' && s[j] <= '9') || s[j] == ';'); j++)
				;
			if (j >= len || s[j] != 'm')
				fail_msg("escape at offset %zu is not SGR", i);
			styled = !(j == i + 3 && s[i + 2] == '0');
			i = j;
			continue;
		}
		if (c == '\n') {
			if (styled)
				fail_msg("a style is still on at the line break at offset %zu", i);
			continue;
		}
		if (c < 0x20 || c == 0x7f)
			fail_msg("control byte 0x%02x at offset %zu", c, i);
		if (c == 0xc2 && i + 1 < len && (unsigned char)s[i + 1] < 0xa0)
			fail_msg("C1 control at offset %zu", i);
		if (c == 0xe2 && i + 2 < len &&
		    ((s[i + 1] == '\x80' && s[i + 2] >= '\xaa' && s[i + 2] <= '\xae') ||
		     (s[i + 1] == '\x81' && s[i + 2] >= '\xa6' && s[i + 2] <= '\xa9')))
			fail_msg("bidi control at offset %zu", i);
	}
	if (styled)
		fail_msg("a style is still on at the end");
	if (len) {
		assert_int_equal(s[len - 1], '\n');
		assert_int_not_equal(s[0], '\n');
		assert_false(len >= 2 && s[len - 2] == '\n');
	}
	escape_utf8(&valid, s, len);
	assert_int_equal(valid.len, len);
	assert_memory_equal(valid.buf, s, len);
	strbuf_release(&valid);
}

/* Columns of the widest line of plain output: one per code point. */
static size_t widest(const char *s)
{
	size_t col = 0, max = 0;

	for (; *s; s++) {
		if (*s == '\n')
			col = 0;
		else if (((unsigned char)*s & 0xc0) != 0x80 && ++col > max)
			max = col;
	}
	return max;
}

/*
 * Every line of plain output fits in width columns, but code (indented by
 * four or more) and a line holding a single word, which cannot be split.
 */
static void assert_fits(const char *s, size_t width)
{
	const char *line, *eol, *p;
	size_t col, lineno = 1;

	for (line = s; *line; line = eol + 1, lineno++) {
		eol = strchr(line, '\n');
		assert_non_null(eol);
		for (col = 0, p = line; p < eol; p++)
			if (((unsigned char)*p & 0xc0) != 0x80)
				col++;
		if (col <= width || !strncmp(line, "    ", 4))
			continue;
		for (p = line; *p == ' '; p++)
			;
		if (memchr(p, ' ', (size_t)(eol - p)))
			fail_msg("line %zu is %zu columns wide, more than %zu", lineno, col, width);
	}
}


/* Escape sequences, a bell and a NUL byte. */
#define HOSTILE "a\x1b[31mred\x1b[0m b\x07" "c\0d"

struct row {
	const char *md;
	size_t len; /* 0: strlen(md); else md holds NUL bytes */
	int width;
	const char *want;
};

/* The renderer's golden files are in tests/golden/mdterm/. */
static char *golden_path(const char *name)
{
	const char *root = getenv("PHASELAB_ROOT");

	return xasprintf("%s/tests/golden/mdterm/%s", root && *root ? root : ".", name);
}

static void check_golden_mdterm(const char *name, const char *got, size_t got_len)
{
	char *rel = xasprintf("mdterm/%s", name);

	check_golden(rel, got, got_len);
	free(rel);
}

static void run_rows(const struct row *rows, size_t n, int color)
{
	size_t i, len, out_len;
	char *out;

	for (i = 0; i < n; i++) {
		len = rows[i].len ? rows[i].len : strlen(rows[i].md);
		out = render(rows[i].md, len, color, rows[i].width, &out_len);
		if (strcmp(out, rows[i].want)) {
			fprintf(stderr, "row %zu: %s\n", i, rows[i].md);
			show_line("expected", rows[i].want, strlen(rows[i].want), 0);
			show_line("got     ", out, out_len, 0);
		}
		assert_string_equal(out, rows[i].want);
		assert_safe(out, out_len, color);
		free(out);
	}
}

/* ---- constructs, plain --------------------------------------------------- */

static void test_blocks_plain(void **state)
{
	static const struct row rows[] = {
		{ "", 0, 0, "" },
		{ "\n\n   \n\n", 0, 0, "" },
		{ "one\ntwo\n   three\n", 0, 0, "one two three\n" },
		/* a hard line break (two spaces or a backslash at the end of a line) */
		{ "one\ntwo  \n   three\\\nfour", 0, 0, "one two\nthree\nfour\n" },
		{ "\n\n\npara\n\n\n\npara2\n\n\n", 0, 0, "para\n\npara2\n" },
		{ "a\r\nb\rc", 0, 0, "a b c\n" },
		/* headings: underlined as wide as they are, in columns */
		{ "# Title", 0, 0, "Title\n=====\n" },
		{ "## Caf\xc3\xa9 \xe2\x86\x92 ##", 0, 0, "Caf\xc3\xa9 \xe2\x86\x92\n------\n" },
		{ "text\n### Three\nmore", 0, 0, "text\n\nThree\n-----\n\nmore\n" },
		{ "#### Four", 0, 0, "Four\n----\n" },
		{ "#hashtag and ####### seven", 0, 0, "#hashtag and ####### seven\n" },
		/* lists: markers, renumbering, nesting, continuation */
		{ "- a\n* b", 0, 0, "  - a\n  - b\n" },
		{ "1. a\n1. b\n1. c", 0, 0, "  1. a\n  2. b\n  3. c\n" },
		{ "7. a\n2. b", 0, 0, "  7. a\n  8. b\n" },
		{ "- a\n  - b\n  - c\n- d", 0, 0, "  - a\n    - b\n    - c\n  - d\n" },
		{ "1. a\n   - b\n2. c", 0, 0, "  1. a\n     - b\n  2. c\n" },
		{ "- a\n  1. x\n  1. y\n- b\n  1. z", 0, 0,
		  "  - a\n    1. x\n    2. y\n  - b\n    1. z\n" },
		{ "- a\ncontinued\n  and more", 0, 0, "  - a continued and more\n" },
		{ "- a\n\n  second paragraph\n\nafter", 0, 0,
		  "  - a\n\n    second paragraph\n\nafter\n" },
		{ "- a\n\n- b", 0, 0, "  - a\n\n  - b\n" },
		{ "Steps:\n1. one", 0, 0, "Steps:\n  1. one\n" },
		{ "-\n- b", 0, 0, "  -\n  - b\n" },
		{ "-not a list, 1.5 neither", 0, 0, "-not a list, 1.5 neither\n" },
		/* code: indented by four, not wrapped, not markup */
		{ "```sh\nls  -l *.c **x**\n```", 0, 0, "    ls  -l *.c **x**\n" },
		{ "~~~\n```\n~~~\nafter", 0, 0, "    ```\nafter\n" },
		{ "```\n\n\tx\n\n\n  y\n\n```", 0, 0, "            x\n\n\n      y\n" },
		{ "- item\n\n  ```\n  code\n    more\n  ```", 0, 0,
		  "  - item\n\n        code\n          more\n" },
		{ "```not a fence``` here", 0, 0, "```not a fence``` here\n" },
		/* quotes and rules */
		{ "> a\n>\n> b\nlazy", 0, 0, "| a\n|\n| b lazy\n" },
		{ "> a\n\n> b", 0, 0, "| a\n\n| b\n" },
		{ "a\n\n---\n\nb", 0, 40,
		  "a\n\n----------------------------------------\n\nb\n" },
		{ "* * *", 0, 40, "----------------------------------------\n" },
		/* inline */
		{ "a `b  c` **d** *e* _f_ __g__", 0, 0, "a `b  c` d e f g\n" },
		{ "``a`b``", 0, 0, "``a`b``\n" },
		{ "[text](http://x.y/a_(b)) and [http://u](http://u) and [](x)", 0, 0,
		  "text (http://x.y/a_(b)) and http://u and x\n" },
		/* any scheme makes an autolink; an address not in brackets is text */
		{ "![logo](logo.png) <https://x.y/z> <ftp://no> <no way> <a@b.example>", 0, 0,
		  "logo (logo.png) https://x.y/z ftp://no <no way> a@b.example\n" },
		{ "\\*a\\* \\`b\\` \\\\ \\q", 0, 0, "*a* `b` \\ \\q\n" },
		{ "snake_case_name my__dunder__name 2 * 3 * 4", 0, 0,
		  "snake_case_name my__dunder__name 2 * 3 * 4\n" },
		{ "***both*** **b *e* b** *e **b** e*", 0, 0, "both b e b e b e\n" },
		/* unterminated: text, or code to the end */
		{ "**unclosed", 0, 0, "**unclosed\n" },
		{ "`unclosed", 0, 0, "`unclosed\n" },
		{ "[unclosed](url", 0, 0, "[unclosed](url\n" },
		{ "*a **b", 0, 0, "*a **b\n" },
		{ "```\nunclosed\n\nstill code\n# too", 0, 0,
		  "    unclosed\n\n    still code\n    # too\n" },
		{ "```", 0, 0, "" },
		/* control characters never get through */
		{ HOSTILE, sizeof(HOSTILE) - 1, 0, "ared b" R "c" R "d\n" },
		{ "`evil\x1b]0;title\x07name` \xe2\x80\xaeX \xc2\x9b", 0, 0,
		  "`evilname` " R "X " R "\n" },
		{ "# \x1b[2Jtitle\x08", 0, 0, "title" R "\n======\n" },
		{ "```\n\x1b[31mcode\x01\n```", 0, 0, "    code" R "\n" },
	};

	(void)state;
	run_rows(rows, sizeof(rows) / sizeof(rows[0]), 0);
}

/* Display columns are code points, not bytes: é is two bytes, → three. */
static void test_wrap_utf8(void **state)
{
	static const struct row rows[] = {
		/* exactly 40 columns, 74 bytes, then one more word */
		{ "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9 \xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9 "
		  "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9 \xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9 "
		  "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9 \xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9 "
		  "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9 x",
		  0, 40,
		  "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9 \xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9 "
		  "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9 \xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9 "
		  "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9 \xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9 "
		  "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\nx\n" },
		/* arrows: 10 + 1 + 10 + 1 + 10 + 1 + 7 = 40 columns */
		{ "\xe2\x86\x92\xe2\x86\x92\xe2\x86\x92\xe2\x86\x92\xe2\x86\x92\xe2\x86\x92\xe2\x86\x92"
		  "\xe2\x86\x92\xe2\x86\x92\xe2\x86\x92 \xe2\x86\x92\xe2\x86\x92\xe2\x86\x92\xe2\x86\x92"
		  "\xe2\x86\x92\xe2\x86\x92\xe2\x86\x92\xe2\x86\x92\xe2\x86\x92\xe2\x86\x92 \xe2\x86\x92"
		  "\xe2\x86\x92\xe2\x86\x92\xe2\x86\x92\xe2\x86\x92\xe2\x86\x92\xe2\x86\x92\xe2\x86\x92"
		  "\xe2\x86\x92\xe2\x86\x92 \xe2\x86\x92\xe2\x86\x92\xe2\x86\x92\xe2\x86\x92\xe2\x86\x92"
		  "\xe2\x86\x92\xe2\x86\x92 y",
		  0, 40,
		  "\xe2\x86\x92\xe2\x86\x92\xe2\x86\x92\xe2\x86\x92\xe2\x86\x92\xe2\x86\x92\xe2\x86\x92"
		  "\xe2\x86\x92\xe2\x86\x92\xe2\x86\x92 \xe2\x86\x92\xe2\x86\x92\xe2\x86\x92\xe2\x86\x92"
		  "\xe2\x86\x92\xe2\x86\x92\xe2\x86\x92\xe2\x86\x92\xe2\x86\x92\xe2\x86\x92 \xe2\x86\x92"
		  "\xe2\x86\x92\xe2\x86\x92\xe2\x86\x92\xe2\x86\x92\xe2\x86\x92\xe2\x86\x92\xe2\x86\x92"
		  "\xe2\x86\x92\xe2\x86\x92 \xe2\x86\x92\xe2\x86\x92\xe2\x86\x92\xe2\x86\x92\xe2\x86\x92"
		  "\xe2\x86\x92\xe2\x86\x92\ny\n" },
		/* a hanging indent under a list marker */
		{ "- caf\xc3\xa9 caf\xc3\xa9 caf\xc3\xa9 caf\xc3\xa9 caf\xc3\xa9 caf\xc3\xa9 caf\xc3\xa9 "
		  "caf\xc3\xa9 caf\xc3\xa9",
		  0, 40,
		  "  - caf\xc3\xa9 caf\xc3\xa9 caf\xc3\xa9 caf\xc3\xa9 caf\xc3\xa9 caf\xc3\xa9 "
		  "caf\xc3\xa9\n    caf\xc3\xa9 caf\xc3\xa9\n" },
		/* a word longer than the line: alone on its line, whole */
		{ "short aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa end", 0, 40,
		  "short\naaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\nend\n" },
		/* code is never wrapped */
		{ "```\nxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx yyyyyyyyyyyy\n```", 0, 40,
		  "    xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx yyyyyyyyyyyy\n" },
		/* a code span stays on one line when it fits on one */
		{ "Then run the command `docker image ls orders` to see it.", 0, 40,
		  "Then run the command\n`docker image ls orders` to see it.\n" },
		{ "Run `docker run --rm -it --name web -p 8080:80 nginx:alpine sh` now.", 0, 40,
		  "Run `docker run --rm -it\n--name web -p 8080:80 nginx:alpine sh`\nnow.\n" },
	};

	(void)state;
	run_rows(rows, sizeof(rows) / sizeof(rows[0]), 0);
}

/* ---- constructs, colour -------------------------------------------------- */

static void test_blocks_color(void **state)
{
	static const struct row rows[] = {
		{ "", 0, 0, "" },
		{ "**b**", 0, 0, BOLD "b" RESET "\n" },
		{ "*i* and _j_", 0, 0, ITALIC "i" RESET " and " ITALIC "j" RESET "\n" },
		{ "`c` and ` `` `", 0, 0, CODE "c" RESET " and " CODE "``" RESET "\n" },
		{ "**a `b` c**", 0, 0, BOLD "a " RESET "\x1b[1;36mb" RESET BOLD " c" RESET "\n" },
		{ "# H", 0, 0, "\x1b[1;4mH" RESET "\n" },
		{ "## H *i*", 0, 0, BOLD "H " RESET "\x1b[1;3mi" RESET "\n" },
		{ "> q", 0, 0, "\x1b[2m\xe2\x94\x82" RESET " q\n" },
		{ "- a\n  - b\n1. c", 0, 0, "  \xe2\x80\xa2 a\n    \xe2\x97\xa6 b\n  1. c\n" },
		{ "```\nx\n\ny\n```", 0, 0, "    " CODE "x" RESET "\n\n    " CODE "y" RESET "\n" },
		{ "[t](u)", 0, 0, "t (\x1b[4mu" RESET ")\n" },
		{ "***", 0, 40,
		  "\x1b[2m\xe2\x94\x80\xe2\x94\x80\xe2\x94\x80\xe2\x94\x80\xe2\x94\x80\xe2\x94\x80"
		  "\xe2\x94\x80\xe2\x94\x80\xe2\x94\x80\xe2\x94\x80\xe2\x94\x80\xe2\x94\x80\xe2\x94\x80"
		  "\xe2\x94\x80\xe2\x94\x80\xe2\x94\x80\xe2\x94\x80\xe2\x94\x80\xe2\x94\x80\xe2\x94\x80"
		  "\xe2\x94\x80\xe2\x94\x80\xe2\x94\x80\xe2\x94\x80\xe2\x94\x80\xe2\x94\x80\xe2\x94\x80"
		  "\xe2\x94\x80\xe2\x94\x80\xe2\x94\x80\xe2\x94\x80\xe2\x94\x80\xe2\x94\x80\xe2\x94\x80"
		  "\xe2\x94\x80\xe2\x94\x80\xe2\x94\x80\xe2\x94\x80\xe2\x94\x80\xe2\x94\x80" RESET "\n" },
		/* a style is reset before a line break and taken up after it */
		{ "**bold words that go on past the forty columns of the line**", 0, 40,
		  BOLD "bold words that go on past the forty" RESET "\n"
		  BOLD "columns of the line" RESET "\n" },
		/* the input's own escapes are not styles */
		{ "\x1b[1mfake bold\x1b[0m and \x1b]8;;http://x\x1b\\link", 0, 0,
		  "fake bold and link\n" },
	};

	(void)state;
	run_rows(rows, sizeof(rows) / sizeof(rows[0]), 1);
}

/*
 * What md4c reports beyond the old reader: tables, lists and quotes nested
 * any way, HTML blocks and inline HTML, entities.
 */
static void test_commonmark_plain(void **state)
{
	static const struct row rows[] = {
		/* tables: columns as wide as their cells, aligned as the rule says */
		{ "| id | size |\n|:--|--:|\n| a | 1 |\n| bb | `22` |", 0, 40,
		  "| id | size |\n|----|------|\n| a  |    1 |\n| bb | `22` |\n" },
		/* too wide: the widest column is narrowed, its cells go on below */
		{ "| id | how it is decided |\n|---|---|\n"
		  "| `builds` | the Dockerfile builds. On failure: the failing step, its last output lines |",
		  0, 40,
		  "| id       | how it is decided         |\n"
		  "|----------|---------------------------|\n"
		  "| `builds` | the Dockerfile builds. On |\n"
		  "|          | failure: the failing      |\n"
		  "|          | step, its last output     |\n"
		  "|          | lines                     |\n" },
		{ "| a | b |\n|---|---|\n| x |\n\nafter", 0, 40,
		  "| a | b |\n|---|---|\n| x |   |\n\nafter\n" },
		/* a word wider than its column is cut, on a character */
		{ "| a | b |\n|---|---|\n| x | "
		  "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
		  "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
		  "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
		  "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
		  " |", 0, 40,
		  "| a | b                                |\n|---|----------------------------------|\n"
		  "| x | "
		  "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
		  "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
		  "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
		  "\xc3\xa9\xc3\xa9"
		  " |\n"
		  "|   | "
		  "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
		  "                         |\n" },
		/* lists nested three deep, quotes in items and items in quotes */
		{ "- a\n  - b\n    - c\n- d", 0, 0, "  - a\n    - b\n      - c\n  - d\n" },
		{ "- a\n\n  > q\n  > r\n- b", 0, 0, "  - a\n\n    | q r\n  - b\n" },
		{ "> - a\n> - b\n>\n> para", 0, 0, "|   - a\n|   - b\n|\n| para\n" },
		/* an ordered list interrupts a paragraph only from 1; after a blank line, from any */
		{ "* a list:\n\n    3. at three\n    3. four", 0, 0,
		  "  - a list:\n\n    3. at three\n    4. four\n" },
		{ "Steps:\n2. two", 0, 0, "Steps: 2. two\n" },
		{ "1) a\n2) b", 0, 0, "  1) a\n  2) b\n" },
		/* an item that starts with code, or is empty: its marker alone */
		{ "- ```\n  code\n  ```\n-\n- b", 0, 0, "  -\n        code\n  -\n  - b\n" },
		/* indented code */
		{ "para\n\n    indented code\n\nafter", 0, 0, "para\n\n    indented code\n\nafter\n" },
		/* HTML: shown as written, but comments, which are the author's */
		{ "<!-- author note -->\n\ntext <!-- hidden --> <b>bold</b>", 0, 0,
		  "text <b>bold</b>\n" },
		{ "<details>\n<summary>Hint</summary>\n\ninside\n</details>\n\nafter", 0, 0,
		  "<details>\n<summary>Hint</summary>\n\ninside\n</details>\n\nafter\n" },
		{ "<!--\nmulti-line\n-->", 0, 0, "" },
		/* entities: the character, made inert like any other; unknown ones as written */
		{ "&amp; &copy; &#8594; &#x2192; &nbsp;| &bogus; &#35; \\&amp;", 0, 0,
		  "& \xc2\xa9 \xe2\x86\x92 \xe2\x86\x92 \xc2\xa0| &bogus; # &amp;\n" },
		{ "a&#27;[31mred &#0; &#150; &#x202e;X &#7;", 0, 0,
		  "a[31mred " R " " R " " R "X " R "\n" },
		{ "[link](http://x.y/?a=1&amp;b=&#27;2)", 0, 0, "link (http://x.y/?a=1&b=2)\n" },
		{ "`&amp;` ``a ` b``", 0, 0, "`&amp;` ``a ` b``\n" },
	};

	(void)state;
	run_rows(rows, sizeof(rows) / sizeof(rows[0]), 0);
}

static void test_commonmark_color(void **state)
{
	static const struct row rows[] = {
		{ "| a | b |\n|---|---|\n| x |", 0, 40,
		  "\x1b[2m\xe2\x94\x82" RESET " " BOLD "a" RESET " \x1b[2m\xe2\x94\x82" RESET " " BOLD "b"
		  RESET " \x1b[2m\xe2\x94\x82" RESET "\n"
		  "\x1b[2m\xe2\x94\x9c\xe2\x94\x80\xe2\x94\x80\xe2\x94\x80\xe2\x94\xbc\xe2\x94\x80\xe2\x94\x80"
		  "\xe2\x94\x80\xe2\x94\xa4" RESET "\n"
		  "\x1b[2m\xe2\x94\x82" RESET " x \x1b[2m\xe2\x94\x82" RESET "   \x1b[2m\xe2\x94\x82" RESET
		  "\n" },
		/* a tight item that starts with a span: md4c reports no paragraph for it */
		{ "- **size**: c", 0, 0, "  \xe2\x80\xa2 " BOLD "size" RESET ": c\n" },
		{ "- a\n  - b\n    - c", 0, 0,
		  "  \xe2\x80\xa2 a\n    \xe2\x97\xa6 b\n      \xe2\x97\xa6 c\n" },
		{ "> # H\n> - `c`", 0, 0,
		  "\x1b[2m\xe2\x94\x82" RESET " \x1b[1;4mH" RESET "\n\x1b[2m\xe2\x94\x82" RESET "\n"
		  "\x1b[2m\xe2\x94\x82" RESET "   \xe2\x80\xa2 " CODE "c" RESET "\n" },
	};

	(void)state;
	run_rows(rows, sizeof(rows) / sizeof(rows[0]), 1);
}

/* ---- options ------------------------------------------------------------- */

static void test_width_clamp(void **state)
{
	static const struct {
		int width;
		size_t max;
	} rows[] = {
		{ 0, 80 }, { -3, 80 }, { 10, 40 }, { 39, 40 }, { 40, 40 },
		{ 72, 72 }, { 100, 100 }, { 101, 100 }, { 1000, 100 },
	};
	struct strbuf md = STRBUF_INIT, sb = STRBUF_INIT;
	size_t i, w;
	char *out;

	(void)state;
	for (i = 0; i < 100; i++)
		strbuf_addstr(&md, "ab ");
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		out = render(md.buf, md.len, 0, rows[i].width, NULL);
		w = widest(out);
		/* three columns a word: the line is full to within two */
		assert_true(w <= rows[i].max);
		assert_true(w + 3 > rows[i].max);
		free(out);
	}
	/* no options: plain, 80 columns */
	mdterm_render(&sb, md.buf, md.len, NULL);
	assert_int_equal(widest(sb.buf), 80);
	assert_null(strchr(sb.buf, '\x1b'));
	strbuf_release(&sb);
	strbuf_release(&md);
}

/* Appending to a buffer that holds text: that text is left alone. */
static void test_appends(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	struct mdterm_opts o = { 0, 0 };

	(void)state;
	strbuf_addstr(&sb, "before\n");
	mdterm_render(&sb, "\n\npara\n\n", 8, &o);
	mdterm_render(&sb, NULL, 0, &o);
	mdterm_render(&sb, "x", 0, &o);
	assert_string_equal(sb.buf, "before\npara\n");
	strbuf_release(&sb);
}

static void test_width_of(void **state)
{
	static const struct {
		const char *columns; /* NULL: unset */
		int want;
	} rows[] = {
		{ NULL, 80 }, { "123", 123 }, { "40", 40 }, { "", 80 }, { "0", 80 },
		{ "-5", 80 }, { "12abc", 80 }, { "99999999999999999999", 80 },
	};
	const char *old = getenv("COLUMNS");
	char *saved = old ? xstrdup(old) : NULL;
	int fds[2];
	size_t i;

	(void)state;
	assert_int_equal(pipe(fds), 0); /* not a terminal: TIOCGWINSZ fails */
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		if (rows[i].columns)
			setenv("COLUMNS", rows[i].columns, 1);
		else
			unsetenv("COLUMNS");
		assert_int_equal(mdterm_width_of(fds[0]), rows[i].want);
	}
	assert_int_equal(mdterm_width_of(-1), 80);
	close(fds[0]);
	close(fds[1]);
	if (saved)
		setenv("COLUMNS", saved, 1);
	else
		unsetenv("COLUMNS");
	free(saved);
}

/* ---- golden files -------------------------------------------------------- */

static void golden(const char *name, int width)
{
	char *path, *md, *out, *file;
	size_t md_len, len;

	path = golden_path(name);
	file = xasprintf("%s.md", path);
	md = slurp(file, &md_len);
	if (!md)
		fail_msg("cannot read '%s': %s", file, strerror(errno));

	out = render(md, md_len, 0, width, &len);
	assert_safe(out, len, 0);
	assert_fits(out, (size_t)width);
	free(file);
	file = xasprintf("%s.plain", name);
	check_golden_mdterm(file, out, len);
	free(out);

	out = render(md, md_len, 1, width, &len);
	assert_safe(out, len, 1);
	free(file);
	file = xasprintf("%s.ansi", name);
	check_golden_mdterm(file, out, len);
	free(out);

	free(file);
	free(md);
	free(path);
}

static void test_golden_lesson(void **state)
{
	(void)state;
	golden("lesson", 80);
}

static void test_golden_edge(void **state)
{
	(void)state;
	golden("edge", 40);
}

/* ---- whatever the input, the output is safe ----------------------------- */

/* Documents made of Markdown's own pieces and hostile bytes, at random. */
static void test_generated(void **state)
{
	static const char *const piece[] = {
		"*", "**", "***", "_", "__", "`", "``", "```", "~~~", "[", "]", "(", ")", "](",
		"![", "<https://", ">", "\\", "#", "## ", "- ", "* ", "1. ", "12. ", "> ", "---",
		"\n", "\n", "\n\n", " ", "  ", "    ", "\t", "word", "longerword", "caf\xc3\xa9",
		"\xe2\x86\x92", "\x1b[31m", "\x1b]0;t\x07", "\x07", "\r", "\x7f", "\xc2\x9b",
		"\xe2\x80\xae", "\xff", "\xe2\x86", "\0", "|", "|---|", "\n| a | b |\n|--|:-:|\n",
		"<div>", "<!--", "-->", "&amp;", "&#27;", "&#x9b;", "&#0;", "1) ", "+ ", "\\\n", "  \n",
	};
	struct strbuf md = STRBUF_INIT;
	uint64_t seed = 0x9e3779b97f4a7c15u;
	size_t doc, k, n, len;
	const char *p;
	char *out;

	(void)state;
	for (doc = 0; doc < 3000; doc++) {
		strbuf_reset(&md);
		seed = seed * 6364136223846793005u + 1442695040888963407u;
		n = (size_t)(seed >> 58); /* up to 63 pieces */
		for (k = 0; k < n; k++) {
			seed = seed * 6364136223846793005u + 1442695040888963407u;
			p = piece[(seed >> 33) % (sizeof(piece) / sizeof(piece[0]))];

			strbuf_add(&md, p, *p ? strlen(p) : 1);
		}
		out = render(md.buf, md.len, (int)(doc & 1), 40 + (int)(doc % 61), &len);
		assert_safe(out, len, (int)(doc & 1));
		free(out);
	}
	strbuf_release(&md);
}

/* Unmatched delimiters by the thousand: a few passes, not one per delimiter. */
static void test_pathological(void **state)
{
	static const struct {
		const char *unit;
		size_t times;
	} rows[] = {
		{ "*", 200000 },     { "**a ", 50000 },  { "_a ", 50000 },   { "a_ ", 50000 },
		{ "*a* ", 50000 },   { "`", 100000 },    { "` a ", 50000 },  { "``a` ", 40000 },
		{ "[", 100000 },     { "[a](", 50000 },  { "[a](b ", 40000 }, { "](", 50000 },
		{ "![", 50000 },     { "<https://", 30000 }, { "\\", 100000 }, { "*`", 50000 },
		{ "> a\n", 50000 },  { "- a\n  - b\n", 30000 }, { "1. ", 50000 },
		{ "```\n", 50000 },  { "#", 100000 },   { "\x1b[", 50000 }, { "*a _b [c `d ", 20000 },
	};
	struct strbuf md = STRBUF_INIT;
	clock_t start = clock();
	size_t i, k, len;
	char *out;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		strbuf_reset(&md);
		for (k = 0; k < rows[i].times; k++)
			strbuf_addstr(&md, rows[i].unit);
		out = render(md.buf, md.len, (int)(i & 1), 0, &len);
		assert_safe(out, len, (int)(i & 1));
		free(out);
	}
	strbuf_release(&md);
	/* quadratic work on these would take minutes, even unsanitized */
	if ((double)(clock() - start) / CLOCKS_PER_SEC > 20.0)
		fail_msg("rendering the pathological inputs took %.1f s",
			 (double)(clock() - start) / CLOCKS_PER_SEC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_blocks_plain),
		cmocka_unit_test(test_wrap_utf8),
		cmocka_unit_test(test_blocks_color),
		cmocka_unit_test(test_commonmark_plain),
		cmocka_unit_test(test_commonmark_color),
		cmocka_unit_test(test_width_clamp),
		cmocka_unit_test(test_appends),
		cmocka_unit_test(test_width_of),
		cmocka_unit_test(test_golden_lesson),
		cmocka_unit_test(test_golden_edge),
		cmocka_unit_test(test_generated),
		cmocka_unit_test(test_pathological),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
