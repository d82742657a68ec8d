/*
 * .dockerignore matching (runner/ignore.c).
 *
 * Every row's expected value is what Docker does (moby/patternmatcher's
 * ignorefile.ReadAll and MatchesOrParentMatches), worked out from its
 * sources; rows marked "docs" are the examples of the Dockerfile reference's
 * ".dockerignore file" section, "quirk" rows pin down where Docker differs
 * from a plain glob.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/ignore.h"
#include "lib/strbuf.h"
#include "lib/xalloc.h"

struct row {
	const char *text; /* the .dockerignore */
	const char *path; /* context-relative */
	int excluded;
};

/* The lesson's .dockerignore for the Node service. */
#define LESSON "node_modules\nnpm-debug.log\n.git\n.gitignore\n.env\ncoverage\ntests\n" \
	       "*.md\nDockerfile\ndocker-compose*.yml\n"

#define DOCS_TEMP "# comment\n*/temp*\n*/*/temp*\ntemp?\n"
#define DOCS_MD1 "*.md\n!README.md\n"
#define DOCS_MD2 "*.md\n!README*.md\nREADME-secret.md\n"
#define DOCS_MD3 "*.md\nREADME-secret.md\n!README*.md\n"

static const struct row rows[] = {
	/* docs: the example file */
	{ DOCS_TEMP, "# comment", 0 },
	{ DOCS_TEMP, "somedir/temporary.txt", 1 },
	{ DOCS_TEMP, "somedir/temp", 1 },
	{ DOCS_TEMP, "somedir/temp/inside.txt", 1 },
	{ DOCS_TEMP, "temporary.txt", 0 },
	{ DOCS_TEMP, "somedir/subdir/temporary.txt", 1 },
	{ DOCS_TEMP, "a/b/c/temporary.txt", 0 },
	{ DOCS_TEMP, "tempa", 1 },
	{ DOCS_TEMP, "tempb", 1 },
	{ DOCS_TEMP, "temp", 0 },
	{ DOCS_TEMP, "tempab", 0 },
	/* docs: ** and exceptions */
	{ "**/*.go\n", "main.go", 1 },
	{ "**/*.go\n", "cmd/app/main.go", 1 },
	{ "**/*.go\n", "main.go.txt", 0 },
	{ DOCS_MD1, "README.md", 0 },
	{ DOCS_MD1, "CHANGELOG.md", 1 },
	{ DOCS_MD2, "README-secret.md", 1 },
	{ DOCS_MD2, "README-public.md", 0 },
	{ DOCS_MD2, "README.md", 0 },
	{ DOCS_MD2, "notes.md", 1 },
	{ DOCS_MD3, "README-secret.md", 0 },
	{ DOCS_MD3, "notes.md", 1 },
	{ "*\n!src\n!package.json\n", "src/server.js", 0 },
	{ "*\n!src\n!package.json\n", "package.json", 0 },
	{ "*\n!src\n!package.json\n", "tests/x.test.js", 1 },
	{ "/foo/bar\n", "foo/bar", 1 },
	{ "foo/bar\n", "foo/bar", 1 },
	{ "/foo/bar\n", "bar", 0 },
	{ "/foo/bar\n", "x/foo/bar", 0 },
	{ "Dockerfile\n.dockerignore\n", ".dockerignore", 1 },
	{ ".\n", "src", 0 },                        /* docs: "." is ignored */

	/* the lesson's list */
	{ LESSON, "node_modules", 1 },
	{ LESSON, "node_modules/express/index.js", 1 },
	{ LESSON, ".git", 1 },
	{ LESSON, ".git/HEAD", 1 },
	{ LESSON, "tests", 1 },
	{ LESSON, "tests/x.test.js", 1 },
	{ LESSON, "src/server.js", 0 },
	{ LESSON, "README.md", 1 },
	{ LESSON, "package.json", 0 },
	{ LESSON, ".gitignore", 1 },
	{ LESSON, ".env", 1 },
	{ LESSON, "Dockerfile", 1 },
	{ LESSON, "docker-compose.yml", 1 },
	{ LESSON, "docker-compose.prod.yml", 1 },
	{ LESSON, "src/tests/a.test.js", 0 },      /* "tests" is the top one only */
	{ LESSON, "docs/guide.md", 0 },            /* '*' does not cross '/' */

	/* comments, blank lines, white space, line ends */
	{ "# node_modules\n", "node_modules", 0 },
	{ " # not a comment\n", "# not a comment", 1 }, /* '#' only in column 1 */
	{ "\\#notes\n", "#notes", 1 },
	{ "\n\n   \n\tnode_modules   \n", "node_modules", 1 },
	{ "node_modules\r\n", "node_modules", 1 },
	{ "\xef\xbb\xbfnode_modules\n", "node_modules", 1 }, /* a BOM */
	{ "\xc2\xa0node_modules\xe3\x80\x80\n", "node_modules", 1 }, /* Unicode spaces */
	{ "*.log \t\n", "npm-debug.log", 1 },
	{ "node_modules", "node_modules", 1 },      /* no final newline */

	/* exceptions and their order */
	{ "!README.md\n*.md\n", "README.md", 1 },
	{ "*.md\n!  README.md\n", "README.md", 0 },
	{ "foo\n!foo\nfoo\n", "foo", 1 },
	{ "!foo\n", "foo", 0 },
	{ "docs\n!docs/README.md\n", "docs/README.md", 0 },
	{ "docs\n!docs/README.md\n", "docs/other.md", 1 },
	{ "docs/\n!docs/README.md\n", "docs/README.md", 0 },
	{ "**\n!util/docker/web\n", "util/docker/web/foo", 0 },
	{ "**\n!util/docker/web\nutil/docker/web/foo\n", "util/docker/web/foo", 1 },
	{ "*\n/!keep\n", "keep", 0 },               /* quirk: cleaned to "!keep" */
	{ "\\!important\n", "!important", 1 },

	/* ** in every position */
	{ "**\n", "any/path/at/all", 1 },
	{ "**/\n", "file", 1 },
	{ "**/node_modules\n", "node_modules", 1 },
	{ "**/node_modules\n", "packages/web/node_modules/x/y.js", 1 },
	{ "**/node_modules\n", "my_node_modules", 0 },
	{ "foo/**\n", "foo/bar/baz", 1 },
	{ "foo/**\n", "foo", 0 },                   /* the folder itself is sent, empty */
	{ "foo**\n", "foobar", 1 },
	{ "a/**/b\n", "a/b", 1 },
	{ "a/**/b\n", "a/x/y/b", 1 },
	{ "a/**/b\n", "a/x/y/c", 0 },
	{ "**/dir2/*\n", "dir/dir2/file", 1 },
	{ "**/dir2/**\n", "dir/dir2/dir3/file", 1 },
	{ "**/**/*.txt\n", "file.txt", 1 },
	{ "a**/*.txt\n", "a/dir/file.txt", 1 },
	{ "**.md\n", "docs/guide.md", 1 },          /* quirk: a plain suffix test */
	{ "**foo\n", "barfoo", 1 },                 /* quirk: the same */
	{ "**/foo\n", "barfoo", 0 },
	{ "a**b\n", "axb", 0 },                     /* quirk: an inner ** must end at a slash */
	{ "a**b\n", "ax/b", 1 },

	/* leading '/' and "./", trailing '/', cleaning */
	{ "/node_modules\n", "node_modules/x", 1 },
	{ "./build/\n", "build/out.o", 1 },
	{ "tmp/\n", "tmp", 1 },
	{ "a//b/../c/\n", "a/c", 1 },
	{ "a//b/../c/\n", "a/b", 0 },
	{ "../foo\n", "foo", 0 },
	{ "//foo\n", "foo", 1 },
	{ "/\n", "foo", 0 },

	/* '*', '?', classes */
	{ "*\n", "src/server.js", 1 },
	{ "*\n", ".", 0 },                          /* the context itself */
	{ "*.md\n", "docs/README.md", 0 },
	{ ".*\n", ".env", 1 },
	{ ".*\n", "env", 0 },
	{ "a?c\n", "a/c", 0 },
	{ "abc?def\n", "abc\xe2\x98\xba""def", 1 }, /* '?' is one character, not one byte */
	{ "file[0-9].txt\n", "file7.txt", 1 },
	{ "file[0-9].txt\n", "filex.txt", 0 },
	{ "file[^0-9].txt\n", "filex.txt", 1 },
	{ "file[^0-9].txt\n", "file7.txt", 0 },
	{ "[!a]bc\n", "!bc", 1 },                   /* '!' is no negation */
	{ "[!a]bc\n", "xbc", 0 },
	{ "[\\]a]\n", "]", 1 },
	{ "[x\\-]\n", "-", 1 },
	{ "a[^b]c\n", "a/c", 1 },                   /* quirk: a negated class takes '/' */
	{ "[a-\xce\xb6]*\n", "\xce\xb1", 1 },       /* [a-zeta] holds alpha */

	/* escapes */
	{ "a\\*b\n", "a*b", 1 },
	{ "a\\*b\n", "axb", 0 },
	{ "a\\\\\n", "a\\", 1 },
	{ "file\\d.txt\n", "file5.txt", 1 },       /* quirk: a regexp escape */
	{ "file\\d.txt\n", "filed.txt", 0 },
	{ "f[\\d_]\n", "f_", 1 },
	{ "a^b\n", "a^b", 1 },                       /* a plain name: '^' is itself */
	{ "a^b*\n", "a^bc", 0 },                     /* quirk: with a wildcard, an anchor */
	{ "foo /\n", "foo", 1 },                      /* cleaned to "foo ", trimmed again */

	/* only the whole name: shared prefixes do not count */
	{ "node_modules\n", "node_modules2", 0 },
	{ "node_modules\n", "node_modules2/x.js", 0 },
	{ ".env\n", ".env.example", 0 },
	{ "coverage\n", "src/coverage", 0 },
	{ "**/coverage\n", "src/coverage/lcov.info", 1 },
	{ "a(b)c/def\n", "a(b)c/def", 1 },
	{ "abc.def\n", "abcxdef", 0 },
	{ "dist/*.whl\n", "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", 1 },
	{ "", "anything", 0 },
};

static void test_table(void **state)
{
	size_t i, failed = 0;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(rows); i++) {
		struct strbuf err = STRBUF_INIT;
		struct ignore_rules *r = ignore_parse(rows[i].text, strlen(rows[i].text), &err);
		int got;

		if (!r) {
			print_error("row %zu: %s\n", i, err.buf);
			failed++;
		} else if ((got = ignore_excluded(r, rows[i].path)) != rows[i].excluded) {
			print_error("row %zu: %s with \"%s\": got %d, want %d\n", i,
				    rows[i].path, rows[i].text, got, rows[i].excluded);
			failed++;
		}
		ignore_free(r);
		strbuf_release(&err);
	}
	assert_int_equal(failed, 0);
	assert_true(ARRAY_SIZE(rows) >= 40);
}

struct bad {
	const char *text;
	const char *want; /* in the message */
};

static const struct bad bad[] = {
	{ "[\n", "line 1: invalid pattern '[': syntax error" },
	{ "ok\na[\n", "line 2: invalid pattern 'a['" },
	{ "# c\n\n[]\n", "line 3: invalid pattern '[]'" },
	{ "[a-]\n", "line 1:" },
	{ "[-a]\n", "line 1:" },
	{ "[a-b-c]\n", "line 1:" },
	{ "[^\n", "line 1:" },
	{ "a\\\n", "trailing backslash" },
	{ "!\n", "line 1: invalid pattern '!': illegal exclusion pattern" },
	{ "foo\n! \n", "line 2: invalid pattern '!'" },
	{ "!/\n", "illegal exclusion pattern" },
	{ "[z-a]\n", "reversed range" },           /* Go's regexp rejects it */
	{ "a\\e\n", "rejects the escape '\\e'" },
	{ "\\b\n", "does not model" },
	{ "[[:alpha:]]\n", "does not model" },
	{ "[*]\n", "does not model" },
};

static void test_invalid(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		struct strbuf err = STRBUF_INIT;
		struct ignore_rules *r = ignore_parse(bad[i].text, strlen(bad[i].text), &err);

		if (r || !strstr(err.buf, bad[i].want))
			fail_msg("\"%s\": got %s \"%s\", want NULL and \"%s\"", bad[i].text,
				 r ? "rules" : "NULL", err.buf, bad[i].want);
		strbuf_release(&err);
	}
	/* err may be NULL */
	assert_null(ignore_parse("[", 1, NULL));
}

static void test_long_line(void **state)
{
	struct strbuf text = STRBUF_INIT, err = STRBUF_INIT;
	struct ignore_rules *r;

	(void)state;
	strbuf_addstr(&text, "ok\n");
	while (text.len < 3 + IGNORE_MAX_LINE)
		strbuf_addch(&text, 'a');
	r = ignore_parse(text.buf, text.len, &err);
	assert_non_null(r); /* 65535 bytes: Go's scanner still reads it */
	ignore_free(r);
	strbuf_addch(&text, 'a');
	r = ignore_parse(text.buf, text.len, &err);
	assert_null(r);
	assert_non_null(strstr(err.buf, "line 2:"));
	strbuf_release(&text);
	strbuf_release(&err);
}

static void test_deciding_pattern(void **state)
{
	static const char text[] = "# secrets\n*.md\n!README*.md\n  README-secret.md  \n\nnode_modules/\n";
	struct ignore_rules *r = ignore_parse(text, strlen(text), NULL);
	int line = -1;

	(void)state;
	assert_non_null(r);
	assert_int_equal(ignore_count(r), 4);
	assert_string_equal(ignore_deciding_pattern(r, "README-secret.md", &line), "README-secret.md");
	assert_int_equal(line, 4);
	assert_string_equal(ignore_deciding_pattern(r, "README.md", &line), "!README*.md");
	assert_int_equal(line, 3);
	assert_string_equal(ignore_deciding_pattern(r, "notes.md", &line), "*.md");
	assert_int_equal(line, 2);
	assert_string_equal(ignore_deciding_pattern(r, "node_modules/a/b.js", &line), "node_modules/");
	assert_int_equal(line, 6);
	assert_null(ignore_deciding_pattern(r, "src/app.js", &line));
	assert_int_equal(line, 0);
	assert_null(ignore_deciding_pattern(r, "src/app.js", NULL));
	ignore_free(r);

	/* no .dockerignore: nothing excluded, nothing decides */
	assert_int_equal(ignore_excluded(NULL, "src"), 0);
	assert_null(ignore_deciding_pattern(NULL, "src", &line));
	assert_int_equal(ignore_count(NULL), 0);
	ignore_free(NULL);
}

/* Whether a walk may skip a folder whole (ignore_excludes_all_under). */
static const struct row whole_rows[] = {
	{ LESSON, "node_modules", 1 },
	{ LESSON, "coverage", 1 },
	{ LESSON, "src", 0 },                              /* not excluded at all */
	{ "node_modules\n!node_modules/keep.js\n", "node_modules", 0 },
	{ "node_modules\n!node_modules/keep.js\n", "node_modules/sub", 1 },
	{ "node_modules\n!node_modules/a/keep.js\n", "node_modules/a", 0 },
	{ "node_modules\n!other/keep\n", "node_modules", 1 },
	{ "node_modules\n!node_modules\n", "node_modules", 0 }, /* brought back whole */
	/* the engine's walk compares text: a wildcard never reaches inside (ignorefiles suite, case 18) */
	{ "node_modules\n!**/keep\n", "node_modules", 1 },
	{ "node_modules\n!n*/keep\n", "node_modules", 1 },
	{ "node_modules\n!m*/keep\n", "node_modules", 1 },
	{ "node_modules\n!node_modules[12]/x\n", "node_modules", 1 },
	{ "node_modules\n!node_modules/*.js\n", "node_modules", 0 },
	{ "node_modules\n!node_modules\n", "node_modules/x", 0 },
	{ "node_modules\n!./node_modules/keep\n", "node_modules", 0 }, /* cleaned first */
	{ "build\n!build-notes/x\n", "build", 1 },         /* a name that only starts alike */
	{ "*\n!src\n", "tests", 1 },
	{ "*\n!src\n", "src", 0 },
	{ "dist/\n!dist/*.map\n", "dist", 0 },
};

static void test_excludes_all_under(void **state)
{
	/* paths under each folder: a skippable folder must hold nothing that is sent */
	static const char *const under[] = { "keep", "keep.js", "sub/keep", "a/keep.js", "x", "1.map", "README.md" };
	size_t i, k;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(whole_rows); i++) {
		const struct row *w = &whole_rows[i];
		struct ignore_rules *r = ignore_parse(w->text, strlen(w->text), NULL);
		int got;

		assert_non_null(r);
		got = ignore_excludes_all_under(r, w->path);
		if (got != w->excluded)
			fail_msg("row %zu: %s in %s: got %d, want %d", i, w->path, w->text, got, w->excluded);
		for (k = 0; got && k < ARRAY_SIZE(under); k++) {
			char *p = xasprintf("%s/%s", w->path, under[k]);

			if (ignore_reaches(r, p))
				fail_msg("row %zu: %s is sent, yet %s was skippable", i, p, w->path);
			free(p);
		}
		ignore_free(r);
	}
	assert_int_equal(ignore_excludes_all_under(NULL, "node_modules"), 0);
}

static void test_count(void **state)
{
	static const char text[] = "# c\n\n \nfoo\n!bar\n";
	struct ignore_rules *r = ignore_parse(text, strlen(text), NULL);

	(void)state;
	assert_non_null(r);
	assert_int_equal(ignore_count(r), 2);
	ignore_free(r);
	r = ignore_parse(NULL, 0, NULL);
	assert_non_null(r);
	assert_int_equal(ignore_count(r), 0);
	ignore_free(r);
}

/* ---- ignore_load_dir ------------------------------------------------- */

struct tmp {
	char dir[PATH_MAX];
	char file[PATH_MAX + 16];
};

static void tmp_make(struct tmp *t)
{
	const char *base = getenv("TMPDIR");

	snprintf(t->dir, sizeof(t->dir), "%s/phaselab-ignore-XXXXXX", base && *base ? base : "/tmp");
	if (!mkdtemp(t->dir))
		fail_msg("mkdtemp '%s' failed", t->dir);
	snprintf(t->file, sizeof(t->file), "%s/.dockerignore", t->dir);
}

static void tmp_write(const struct tmp *t, const char *text, size_t len)
{
	FILE *f = fopen(t->file, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void tmp_remove(const struct tmp *t)
{
	struct stat st;

	if (!lstat(t->file, &st)) {
		if (S_ISDIR(st.st_mode))
			assert_int_equal(rmdir(t->file), 0);
		else
			assert_int_equal(unlink(t->file), 0);
	}
	assert_int_equal(rmdir(t->dir), 0);
}

static void test_load_missing(void **state)
{
	struct strbuf err = STRBUF_INIT;
	struct ignore_rules *old = ignore_parse("x", 1, NULL), *r = old; /* *out must be reset */
	struct tmp t;

	(void)state;
	tmp_make(&t);
	assert_int_equal(ignore_load_dir(t.dir, &r, &err), 0);
	assert_null(r);
	ignore_free(old);
	assert_int_equal(err.len, 0);
	tmp_remove(&t);
	assert_int_equal(ignore_load_dir(t.dir, &r, &err), -1); /* the folder is gone */
	assert_null(r);
	assert_non_null(strstr(err.buf, "cannot open"));
	strbuf_release(&err);
}

static void test_load_file(void **state)
{
	static const char text[] = LESSON;
	struct strbuf err = STRBUF_INIT;
	struct ignore_rules *r = NULL;
	struct tmp t;

	(void)state;
	tmp_make(&t);
	tmp_write(&t, text, strlen(text));
	assert_int_equal(ignore_load_dir(t.dir, &r, &err), 1);
	assert_non_null(r);
	assert_int_equal(err.len, 0);
	assert_int_equal(ignore_count(r), 10);
	assert_int_equal(ignore_excluded(r, "node_modules/x"), 1);
	assert_int_equal(ignore_excluded(r, "src/server.js"), 0);
	ignore_free(r);
	tmp_remove(&t);
	strbuf_release(&err);
}

static void test_load_symlink(void **state)
{
	static const char target[] = "secret-target-7f3a";
	struct strbuf err = STRBUF_INIT;
	struct ignore_rules *r = NULL;
	char real[PATH_MAX + 32];
	struct tmp t;
	FILE *f;

	(void)state;
	tmp_make(&t);
	/* a link to a real, readable file: it must still not be read */
	snprintf(real, sizeof(real), "%s/%s", t.dir, target);
	f = fopen(real, "w");
	assert_non_null(f);
	assert_true(fputs("node_modules\n", f) >= 0);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(symlink(target, t.file), 0);
	assert_int_equal(ignore_load_dir(t.dir, &r, &err), -1);
	assert_null(r);
	assert_non_null(strstr(err.buf, "'.dockerignore' is a symbolic link"));
	assert_null(strstr(err.buf, target));
	assert_null(strstr(err.buf, "secret"));
	assert_int_equal(unlink(real), 0);

	/* a dangling one is a symbolic link too, not a missing file */
	strbuf_reset(&err);
	assert_int_equal(ignore_load_dir(t.dir, &r, &err), -1);
	assert_non_null(strstr(err.buf, "symbolic link"));
	assert_null(strstr(err.buf, target));
	tmp_remove(&t);
	strbuf_release(&err);
}

static void test_load_invalid(void **state)
{
	static const char text[] = "# deps\nnode_modules\n\n*.[ch\n";
	struct strbuf err = STRBUF_INIT;
	struct ignore_rules *r = NULL;
	struct tmp t;

	(void)state;
	tmp_make(&t);
	tmp_write(&t, text, strlen(text));
	assert_int_equal(ignore_load_dir(t.dir, &r, &err), -1);
	assert_null(r);
	assert_string_equal(err.buf, "'.dockerignore' line 4: invalid pattern '*.[ch': "
			    "syntax error in pattern: unterminated character class");
	tmp_remove(&t);
	strbuf_release(&err);
}

static void test_load_not_regular(void **state)
{
	struct strbuf err = STRBUF_INIT;
	struct ignore_rules *r = NULL;
	struct tmp t;
	char *big;

	(void)state;
	tmp_make(&t);
	assert_int_equal(mkdir(t.file, 0700), 0);
	assert_int_equal(ignore_load_dir(t.dir, &r, &err), -1);
	assert_null(r);
	assert_non_null(strstr(err.buf, "not a regular file"));
	assert_int_equal(rmdir(t.file), 0);

	/* one byte over the bound */
	big = xmalloc(IGNORE_MAX_FILE + 1);
	memset(big, '\n', IGNORE_MAX_FILE + 1);
	tmp_write(&t, big, IGNORE_MAX_FILE + 1);
	free(big);
	strbuf_reset(&err);
	assert_int_equal(ignore_load_dir(t.dir, &r, &err), -1);
	assert_null(r);
	assert_non_null(strstr(err.buf, "larger than 1 MiB"));
	tmp_remove(&t);
	strbuf_release(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_long_line),
		cmocka_unit_test(test_deciding_pattern),
		cmocka_unit_test(test_excludes_all_under),
		cmocka_unit_test(test_count),
		cmocka_unit_test(test_load_missing),
		cmocka_unit_test(test_load_file),
		cmocka_unit_test(test_load_symlink),
		cmocka_unit_test(test_load_invalid),
		cmocka_unit_test(test_load_not_regular),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
