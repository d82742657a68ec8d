/*
 * The class list (runner/roster.c): one row per roster text with the entries
 * expected, the number of bad lines and what the problems text must say,
 * then roster_valid_id on its own.
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

#include "grade/roster.h"
#include "lib/strbuf.h"
#include "lib/xalloc.h"

#define FILE_NAME "r.csv"

#define ID64 "a234567890123456789012345678901234567890123456789012345678901234"
#define ID65 ID64 "5"

struct want_entry {
	const char *learner; /* NULL ends the list */
	const char *repo;
	const char *branch;  /* NULL: the default branch */
	int line;
};

struct row {
	const char *name;
	const char *csv;
	int bad;                        /* roster_parse's return */
	struct want_entry entries[6];
	const char *problems[8];        /* each somewhere in the problems text */
};

static const struct row rows[] = {
	/* the header: any case, any order, an optional branch, other columns ignored */
	{ "plain", "learner,repo\nalice,https://git.example/alice.git\nbob,/srv/bob\n", 0,
	  { { "alice", "https://git.example/alice.git", NULL, 2 }, { "bob", "/srv/bob", NULL, 3 } }, { NULL } },
	{ "header case", "LEARNER,Repo\nalice,a\n", 0,
	  { { "alice", "a", NULL, 2 } }, { NULL } },
	{ "repo first", "repo,learner\nhttps://git.example/a.git,alice\n", 0,
	  { { "alice", "https://git.example/a.git", NULL, 2 } }, { NULL } },
	{ "branch column", "learner,repo,branch\nalice,a,main\nbob,b,\ncarol,c\n", 0,
	  { { "alice", "a", "main", 2 }, { "bob", "b", NULL, 3 }, { "carol", "c", NULL, 4 } }, { NULL } },
	{ "branch first", "Branch,REPO,Learner\ndev,r,alice\n", 0,
	  { { "alice", "r", "dev", 2 } }, { NULL } },
	{ "other columns", "name,learner,email,repo\nAlice A.,alice,a@example.org,r\n", 0,
	  { { "alice", "r", NULL, 2 } }, { NULL } },
	{ "spaces in the header", " learner , repo \nalice,a\n", 0,
	  { { "alice", "a", NULL, 2 } }, { NULL } },
	{ "quoted header", "\"learner\",\"repo\"\nalice,a\n", 0,
	  { { "alice", "a", NULL, 2 } }, { NULL } },
	{ "more fields than the header", "learner,repo\nalice,a,extra\n", 0,
	  { { "alice", "a", NULL, 2 } }, { NULL } },
	{ "header only", "learner,repo\n", 0, { { NULL } }, { NULL } },
	{ "header only, no newline", "learner,repo", 0, { { NULL } }, { NULL } },

	/* line ends, a BOM, blank lines */
	{ "CRLF", "learner,repo,branch\r\nalice,a,main\r\nbob,b\r\n", 0,
	  { { "alice", "a", "main", 2 }, { "bob", "b", NULL, 3 } }, { NULL } },
	{ "no final newline", "learner,repo\nalice,a\nbob,b", 0,
	  { { "alice", "a", NULL, 2 }, { "bob", "b", NULL, 3 } }, { NULL } },
	{ "BOM", "\xEF\xBB\xBFlearner,repo\nalice,a\n", 0,
	  { { "alice", "a", NULL, 2 } }, { NULL } },
	{ "BOM, CRLF, quoted header", "\xEF\xBB\xBF\"Learner\",\"Repo\"\r\nalice,a\r\n", 0,
	  { { "alice", "a", NULL, 2 } }, { NULL } },
	{ "blank lines", "learner,repo\n\nalice,a\n\n\r\n\nbob,b\n\n", 0,
	  { { "alice", "a", NULL, 3 }, { "bob", "b", NULL, 7 } }, { NULL } },
	{ "a line of one space", "learner,repo\nalice,a\n \nbob,b\n", 0,
	  { { "alice", "a", NULL, 2 }, { "bob", "b", NULL, 4 } }, { NULL } },

	/* RFC 4180 quoting */
	{ "quoted commas", "learner,repo,branch\n\"alice\",\"/srv/a,b\",\"feat,x\"\n", 0,
	  { { "alice", "/srv/a,b", "feat,x", 2 } }, { NULL } },
	{ "doubled quotes", "learner,repo,branch\nalice,\"/srv/\"\"a\"\"\",\"x\"\"\"\n", 0,
	  { { "alice", "/srv/\"a\"", "x\"", 2 } }, { NULL } },
	{ "an empty quoted branch", "learner,repo,branch\nalice,a,\"\"\n", 0,
	  { { "alice", "a", NULL, 2 } }, { NULL } },
	{ "newline in quotes", "learner,repo\nalice,\"/srv/a\nb\"\nbob,b\ncarol,c\n", 0,
	  { { "alice", "/srv/a\nb", NULL, 2 }, { "bob", "b", NULL, 4 }, { "carol", "c", NULL, 5 } }, { NULL } },
	{ "newlines in quotes, CRLF", "learner,repo\r\n\"alice\",\"x\r\ny\r\nz\"\r\nbob,b\r\n", 0,
	  { { "alice", "x\r\ny\r\nz", NULL, 2 }, { "bob", "b", NULL, 5 } }, { NULL } },
	{ "a problem after a newline in quotes", "learner,repo\nalice,\"a\n\nb\"\n../evil,e\nbob,b\n", 1,
	  { { "alice", "a\n\nb", NULL, 2 }, { "bob", "b", NULL, 6 } }, { FILE_NAME ":5: learner '../evil'", NULL } },
	{ "a quote inside an unquoted field", "learner,repo\nalice,/srv/a\"b\n", 0,
	  { { "alice", "/srv/a\"b", NULL, 2 } }, { NULL } },

	/* spaces around unquoted fields go, inside quotes they stay */
	{ "trimmed", "learner,repo,branch\n  alice  ,\t/srv/a b \t, main \n", 0,
	  { { "alice", "/srv/a b", "main", 2 } }, { NULL } },
	{ "trimmed, CRLF", "learner,repo\r\nalice ,a \r\n", 0,
	  { { "alice", "a", NULL, 2 } }, { NULL } },
	{ "spaces kept in quotes", "learner,repo\nalice,\" /srv/a \"\n", 0,
	  { { "alice", " /srv/a ", NULL, 2 } }, { NULL } },

	/* learner ids: reported with their line, skipped, the rest kept */
	{ "bad ids", "learner,repo\nalice,a\n../evil,b\n.hidden,c\na/b,d\n,e\n" ID65 ",f\nbob smith,g\nbob,h\n", 6,
	  { { "alice", "a", NULL, 2 }, { "bob", "h", NULL, 9 } },
	  { FILE_NAME ":3: learner '../evil' is not an id", FILE_NAME ":4: learner '.hidden' is not an id",
	    FILE_NAME ":5: learner 'a/b' is not an id", FILE_NAME ":6: missing the learner",
	    FILE_NAME ":7: learner '" ID65 "' is not an id", FILE_NAME ":8: learner 'bob smith' is not an id",
	    NULL } },
	{ "a quoted bad id", "learner,repo\n\"../x\",a\n\" alice\",b\n", 2, { { NULL } },
	  { FILE_NAME ":2: learner '../x'", FILE_NAME ":3: learner ' alice'", NULL } },
	{ "64 characters", "learner,repo\n" ID64 ",a\n", 0,
	  { { ID64, "a", NULL, 2 } }, { NULL } },
	{ "a blank learner", "learner,repo\n ,a\n\"\",b\nbob,c\n", 2,
	  { { "bob", "c", NULL, 4 } },
	  { FILE_NAME ":2: missing the learner", FILE_NAME ":3: missing the learner", NULL } },

	/* a missing repo */
	{ "missing repo", "learner,repo\nalice,\nbob\ncarol, \ndave,\"\"\nerin,e\n", 4,
	  { { "erin", "e", NULL, 6 } },
	  { FILE_NAME ":2: missing the repo", FILE_NAME ":3: missing the repo",
	    FILE_NAME ":4: missing the repo", FILE_NAME ":5: missing the repo", NULL } },
	{ "missing repo, repo first", "repo,learner\n,alice\nr,bob\n", 1,
	  { { "bob", "r", NULL, 3 } }, { FILE_NAME ":2: missing the repo", NULL } },
	{ "nothing but commas", "learner,repo\n,\n", 1, { { NULL } },
	  { FILE_NAME ":2: missing the learner", NULL } },

	/* a learner listed twice: the first stays */
	{ "duplicate", "learner,repo\nalice,a\nbob,b\nalice,c\n", 1,
	  { { "alice", "a", NULL, 2 }, { "bob", "b", NULL, 3 } },
	  { FILE_NAME ":4: learner 'alice' is listed twice", NULL } },
	{ "duplicate after trimming", "learner,repo\nalice,a\n  alice ,c\n", 1,
	  { { "alice", "a", NULL, 2 } }, { FILE_NAME ":3: learner 'alice' is listed twice", NULL } },

	/* an unterminated quote: the records before it stay */
	{ "unterminated quote", "learner,repo\nalice,a\nbob,\"b\ncarol,c\n", 1,
	  { { "alice", "a", NULL, 2 } }, { FILE_NAME ":3: a quoted field is never closed", NULL } },
	{ "unterminated quote at the end", "learner,repo\nalice,a\n\"bob", 1,
	  { { "alice", "a", NULL, 2 } }, { FILE_NAME ":3: a quoted field is never closed", NULL } },

	/* no usable header: -1 */
	{ "no header", "alice,a\nbob,b\n", -1, { { NULL } },
	  { FILE_NAME ":1: the header must name the columns learner and repo", NULL } },
	{ "no repo column", "learner,branch\nalice,main\n", -1, { { NULL } },
	  { FILE_NAME ":1: the header must name", NULL } },
	{ "no learner column", "student,repo\nalice,a\n", -1, { { NULL } },
	  { FILE_NAME ":1: the header must name", NULL } },
	{ "semicolons", "learner;repo\nalice;a\n", -1, { { NULL } },
	  { FILE_NAME ":1: the header must name", NULL } },
	{ "header after a blank line", "\nlearner,repo\nalice,a\n", -1, { { NULL } },
	  { FILE_NAME ":1: the header must name", NULL } },
	{ "unterminated quote in the header", "\"learner,repo\nalice,a\n", -1, { { NULL } },
	  { FILE_NAME ":1: the header must name", NULL } },
	{ "empty file", "", -1, { { NULL } }, { FILE_NAME ":1: the header must name", NULL } },
	{ "a BOM alone", "\xEF\xBB\xBF", -1, { { NULL } }, { FILE_NAME ":1: the header must name", NULL } },
};

static size_t count_lines(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* Every line of problems reads "r.csv:LINE: something". */
static int problems_well_formed(const char *s)
{
	while (*s) {
		const char *nl = strchr(s, '\n'), *p;

		if (!nl || strncmp(s, FILE_NAME ":", strlen(FILE_NAME ":")))
			return 0;
		p = s + strlen(FILE_NAME ":");
		if (*p < '1' || *p > '9')
			return 0;
		while (*p >= '0' && *p <= '9')
			p++;
		if (p[0] != ':' || p[1] != ' ' || p + 2 >= nl)
			return 0;
		s = nl + 1;
	}
	return 1;
}

static int str_equal(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

/* Returns 1 if row holds; no cmocka assertion, so that a child can run it. */
static int check_row(const struct row *row)
{
	struct strbuf problems = STRBUF_INIT;
	struct roster r;
	size_t want_n = 0;
	int ok = 1, got;

	memset(&r, 0xA5, sizeof(r)); /* roster_parse must set it whatever it held */
	got = roster_parse(FILE_NAME, row->csv, strlen(row->csv), &r, &problems);
	if (got != row->bad) {
		print_error("%s: returned %d, want %d\n", row->name, got, row->bad);
		ok = 0;
	}
	while (want_n < ARRAY_SIZE(row->entries) && row->entries[want_n].learner)
		want_n++;
	if (r.n != want_n) {
		print_error("%s: %zu entries, want %zu\n", row->name, r.n, want_n);
		ok = 0;
	}
	for (size_t i = 0; i < r.n && i < want_n; i++) {
		const struct roster_entry *e = &r.entries[i];
		const struct want_entry *w = &row->entries[i];

		if (!str_equal(e->learner, w->learner) || !str_equal(e->repo, w->repo) ||
		    !str_equal(e->branch, w->branch) || e->line != w->line) {
			print_error("%s: entry %zu is {%s, %s, %s, %d}, want {%s, %s, %s, %d}\n", row->name, i,
				    e->learner, e->repo, e->branch ? e->branch : "NULL", e->line,
				    w->learner, w->repo, w->branch ? w->branch : "NULL", w->line);
			ok = 0;
		}
	}
	for (size_t i = 0; i < ARRAY_SIZE(row->problems) && row->problems[i]; i++) {
		if (!strstr(problems.buf, row->problems[i])) {
			print_error("%s: problems lack \"%s\"; they are:\n%s", row->name, row->problems[i],
				    problems.buf);
			ok = 0;
		}
	}
	/* one line per bad line, each naming the file and the line */
	if ((got >= 0 && count_lines(problems.buf) != (size_t)got) ||
	    (got < 0 && count_lines(problems.buf) != 1) || !problems_well_formed(problems.buf)) {
		print_error("%s: problems for %d bad lines:\n%s", row->name, got, problems.buf);
		ok = 0;
	}
	if (got < 0 && (r.n || r.entries)) {
		print_error("%s: -1 with entries\n", row->name);
		ok = 0;
	}
	roster_release(&r);
	if (r.n || r.entries) {
		print_error("%s: roster_release left %zu entries\n", row->name, r.n);
		ok = 0;
	}
	roster_release(&r); /* twice is harmless */
	strbuf_release(&problems);
	return ok;
}

static void test_table(void **state)
{
	size_t failed = 0;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++)
		failed += !check_row(&rows[i]);
	assert_int_equal(failed, 0);
	assert_true(ARRAY_SIZE(rows) >= 40);
}

/*
 * Regression (fixed): read_record (runner/roster.c) counts the leading spaces of an
 * unquoted field, then strbuf_rtrim()s it, then moves f.len - a + 1 bytes.
 * When the field is nothing but spaces or tabs, rtrim has already taken
 * them all (f.len == 0 < a): with two or more the size wraps to nearly
 * SIZE_MAX and memmove runs off the heap (free(): invalid pointer, or a
 * segfault); with one, f.len wraps and the field is "" only by luck.  A
 * spreadsheet export with "   " in an empty cell, or a line of spaces,
 * is enough.  Each row runs in a child so that the crash is a failure here,
 * not the end of the test program; the rows state what the fixed parser
 * must return.
 */
static const struct row bug_rows[] = {
	{ "a line of spaces", "learner,repo\nalice,a\n   \nbob,b\n", 0,
	  { { "alice", "a", NULL, 2 }, { "bob", "b", NULL, 4 } }, { NULL } },
	{ "a line of tabs, CRLF", "learner,repo\r\nalice,a\r\n\t\t\r\nbob,b\r\n", 0,
	  { { "alice", "a", NULL, 2 }, { "bob", "b", NULL, 4 } }, { NULL } },
	{ "a learner of spaces", "learner,repo\n   ,a\nbob,b\n", 1,
	  { { "bob", "b", NULL, 3 } }, { FILE_NAME ":2: missing the learner", NULL } },
	{ "a repo of spaces", "learner,repo\ncarol,   \nbob,b\n", 1,
	  { { "bob", "b", NULL, 3 } }, { FILE_NAME ":2: missing the repo", NULL } },
	{ "a branch of spaces", "learner,repo,branch\nalice,a,  \n", 0,
	  { { "alice", "a", NULL, 2 } }, { NULL } },
	{ "a header cell of spaces", "learner,  ,repo\nalice,x,a\n", 0,
	  { { "alice", "a", NULL, 2 } }, { NULL } },
};

static void test_regression_blank_fields(void **state)
{
	size_t failed = 0;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bug_rows); i++) {
		int status;
		pid_t pid;

		fflush(stdout);
		fflush(stderr);
		pid = fork();
		assert_true(pid >= 0);
		if (!pid)
			_exit(check_row(&bug_rows[i]) ? 0 : 1);
		assert_int_equal(waitpid(pid, &status, 0), pid);
		if (WIFSIGNALED(status)) {
			print_error("%s: the parser died of signal %d (%s)\n", bug_rows[i].name,
				    WTERMSIG(status), strsignal(WTERMSIG(status)));
			failed++;
		} else if (!WIFEXITED(status) || WEXITSTATUS(status)) {
			failed++;
		}
	}
	/* Regression (fixed): roster_parse crashes on a field of blanks (see above) */
	assert_int_equal(failed, 0);
}

/*
 * Regression (fixed): a bad learner id went into its problem as it was, and a
 * quoted field can hold anything: a newline made one problem two lines
 * (problems are one per line), an escape sequence reached the teacher's
 * terminal, and the cut at 80 bytes could split a character.  The id is
 * now cut on a character boundary with a marker and made inert on one line
 * (escape_term: newlines become spaces, escape sequences go, other
 * controls become U+FFFD).
 */
#define A79 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

static const struct row escape_rows[] = {
	{ "a newline in a quoted learner", "learner,repo\n\"alice\nbob\",/srv/a\ncarol,c\n", 1,
	  { { "carol", "c", NULL, 4 } }, { FILE_NAME ":2: learner 'alice bob' is not an id", NULL } },
	{ "CRLF and a tab", "learner,repo\n\"al\tice\r\nx\",a\n", 1, { { NULL } },
	  { FILE_NAME ":2: learner 'al      ice x' is not an id", NULL } },
	{ "an escape sequence", "learner,repo\n\"\x1b]0;owned\x07\x1b[2Jbob!\",a\n", 1, { { NULL } },
	  { FILE_NAME ":2: learner 'bob!' is not an id", NULL } },
	{ "other controls", "learner,repo\nbo\x01" "b\x7f,a\n", 1, { { NULL } },
	  { FILE_NAME ":2: learner 'bo\xef\xbf\xbd" "b\xef\xbf\xbd' is not an id", NULL } },
	{ "invalid UTF-8", "learner,repo\nbob\xe9,a\n", 1, { { NULL } },
	  { FILE_NAME ":2: learner 'bob\xef\xbf\xbd' is not an id", NULL } },
	{ "cut before a character", "learner,repo\n" A79 "\xc3\xa9" "bcdef,a\n", 1, { { NULL } },
	  { FILE_NAME ":2: learner '" A79 "\xe2\x80\xa6 [truncated, 7 more bytes]' is not an id", NULL } },
};

static void test_regression_escaped_problems(void **state)
{
	size_t failed = 0;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(escape_rows); i++)
		failed += !check_row(&escape_rows[i]);
	/* Regression (fixed): roster_parse (runner/roster.c) quotes learner text raw */
	assert_int_equal(failed, 0);
}

/* The length given counts, not a NUL: text after it is not read. */
static void test_length(void **state)
{
	static const char text[] = "learner,repo\nalice,a\nbob,b\n";
	struct strbuf problems = STRBUF_INIT;
	struct roster r;

	(void)state;
	assert_int_equal(roster_parse(FILE_NAME, text, strlen("learner,repo\nalice,a\n"), &r, &problems), 0);
	assert_int_equal(r.n, 1);
	assert_string_equal(r.entries[0].learner, "alice");
	roster_release(&r);
	assert_int_equal(problems.len, 0);
	strbuf_release(&problems);
}

/* More learners than the first allocation holds. */
static void test_many(void **state)
{
	struct strbuf text = STRBUF_INIT, problems = STRBUF_INIT;
	struct roster r;
	char name[32];

	(void)state;
	strbuf_addstr(&text, "learner,repo,branch\n");
	for (int i = 0; i < 100; i++)
		strbuf_addf(&text, "learner%03d,https://git.example/l%d.git,%s\n", i, i, i % 2 ? "main" : "");
	assert_int_equal(roster_parse(FILE_NAME, text.buf, text.len, &r, &problems), 0);
	assert_int_equal(problems.len, 0);
	assert_int_equal(r.n, 100);
	for (int i = 0; i < 100; i++) {
		snprintf(name, sizeof(name), "learner%03d", i);
		assert_string_equal(r.entries[i].learner, name);
		assert_int_equal(r.entries[i].line, i + 2);
		if (i % 2)
			assert_string_equal(r.entries[i].branch, "main");
		else
			assert_null(r.entries[i].branch);
	}
	roster_release(&r);
	strbuf_release(&text);
	strbuf_release(&problems);
}

/* ---- roster_valid_id ---------------------------------------------------- */

struct id_row {
	const char *id;
	int valid;
};

static const struct id_row id_rows[] = {
	{ "alice", 1 },
	{ "a", 1 },
	{ "0", 1 },
	{ "A1", 1 },
	{ "Alice.Smith", 1 },
	{ "a_b-c.d", 1 },
	{ "a..b", 1 },
	{ "a.", 1 },
	{ "a-", 1 },
	{ "2026-alice", 1 },
	{ ID64, 1 },
	{ "", 0 },
	{ ".", 0 },
	{ "..", 0 },
	{ "../evil", 0 },
	{ "./alice", 0 },
	{ ".hidden", 0 },
	{ "-rf", 0 },
	{ "_alice", 0 },
	{ "a/b", 0 },
	{ "/etc", 0 },
	{ "a\\b", 0 },
	{ "bob smith", 0 },
	{ " alice", 0 },
	{ "alice ", 0 },
	{ "a\tb", 0 },
	{ "a\nb", 0 },
	{ "a:b", 0 },
	{ "a*", 0 },
	{ "a?", 0 },
	{ "~alice", 0 },
	{ "$HOME", 0 },
	{ "a\"b", 0 },
	{ "\xc3\xa9lise", 0 },          /* letters are ASCII letters */
	{ "ren\xc3\xa9", 0 },
	{ ID65, 0 },
};

static void test_valid_id(void **state)
{
	size_t failed = 0;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(id_rows); i++) {
		int got = roster_valid_id(id_rows[i].id);

		if (got != id_rows[i].valid) {
			print_error("\"%s\": got %d, want %d\n", id_rows[i].id, got, id_rows[i].valid);
			failed++;
		}
	}
	assert_int_equal(failed, 0);
	assert_int_equal(strlen(ID64), 64);
	assert_int_equal(strlen(ID65), 65);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_regression_blank_fields),
		cmocka_unit_test(test_regression_escaped_problems), /* regression, see above */
		cmocka_unit_test(test_length),
		cmocka_unit_test(test_many),
		cmocka_unit_test(test_valid_id),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
