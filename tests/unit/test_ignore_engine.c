/*
 * The ignore file the engine in use reads, and the matcher it reads it with.
 *
 * First the two matchers on the one pattern form where they differ (a
 * leading "**" not followed by '/'), then the build-context kind on a
 * service folder per row: which file it reads on docker and on podman
 * (.containerignore wins on podman; docker reads only .dockerignore), what
 * it says, and the evidence's "file".  Every row's verdict is what the
 * engines did with the same files in tests/integration/ignorefiles.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/check.h"
#include "core/phase.h"
#include "lib/fsutil.h"
#include "lib/ignore.h"
#include "lib/xalloc.h"
#include "report/report.h"

extern const struct check_kind check_build_context;

/* --------------------------------------------------------------- the matchers */

struct flavour_row {
	const char *text;
	const char *path;
	int patternmatcher, fileutils; /* excluded by each */
};

static const struct flavour_row flavour_rows[] = {
	/* the difference: a leading "**" then no '/' (cases 24, 41, 44 of the suite) */
	{ "**.js\n", "src.js", 1, 0 },
	{ "**.js\n", "tests/t.js", 1, 0 },
	{ "**js\n", "src.js", 1, 0 },
	{ "**.txt\n", "sub/deep/a.txt", 1, 0 },
	{ "**.test.js\n", "app.test.js", 1, 0 },
	{ "**a.txt\n", "xa.txt", 1, 0 },
	/* the same on both */
	{ "**.js\n", ".js", 1, 1 },
	{ "**a.txt\n", "a.txt", 1, 1 },
	{ "**a.txt\n", "x/y/z/a.txt", 1, 1 },
	{ "***.js\n", "tests/t.js", 1, 1 },
	{ "**/*.js\n", "tests/t.js", 1, 1 },
	{ "**/a.txt\n", "a.txt", 1, 1 },
	{ "sub/**.txt\n", "sub/a.txt", 0, 0 },        /* "sub/(.*\/)?\\.txt": only sub/.txt (case 43) */
	{ "sub/**.txt\n", "sub/deep/a.txt", 0, 0 },
	{ "sub/**\n", "sub/deep/a.txt", 1, 1 },
	{ "**\n!src.js\n", "src.js", 0, 0 },
	{ "**\n!src.js\n", "a.txt", 1, 1 },
	{ "k**x.txt\n", "keep/x.txt", 1, 1 },
};

static void test_flavours(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(flavour_rows); i++) {
		const struct flavour_row *w = &flavour_rows[i];
		struct ignore_rules *pm = ignore_parse_as(w->text, strlen(w->text), IGNORE_PATTERNMATCHER, NULL);
		struct ignore_rules *fu = ignore_parse_as(w->text, strlen(w->text), IGNORE_FILEUTILS, NULL);

		assert_non_null(pm);
		assert_non_null(fu);
		if (ignore_reaches(pm, w->path) == w->patternmatcher)
			fail_msg("row %zu: %s in %s: patternmatcher sends it: %d", i, w->path, w->text,
				 ignore_reaches(pm, w->path));
		if (ignore_reaches(fu, w->path) == w->fileutils)
			fail_msg("row %zu: %s in %s: fileutils sends it: %d", i, w->path, w->text,
				 ignore_reaches(fu, w->path));
		ignore_free(pm);
		ignore_free(fu);
	}
}

/* The engine's walk skips an excluded folder unless an exception's text starts with it. */
static void test_walk_skips(void **state)
{
	static const struct { const char *text, *path; int sent; } rows[] = {
		{ "tests\n!**/keep.js\n", "tests/keep.js", 0 },   /* suite case 18 */
		{ "tests\n!tests/*.js\n", "tests/keep.js", 1 },   /* case 21 */
		{ "dir\n!dir/sub/file\n", "dir/sub/file", 1 },    /* case 09 */
		{ "dir\n!dir/sub/file\n", "dir/other", 0 },
		{ "*\n!sub/deep\n", "sub/deep/a.txt", 1 },        /* case 22 */
		{ "*\n!sub/deep\n", "sub/a.txt", 0 },
		{ "x\n!x/**/a.txt\n", "x/y/z/a.txt", 0 },         /* case 36: the walk skips x/y, no exception starts "x/y/" */
		{ "**/*.js\n!**/keep.js\n", "tests/keep.js", 1 }, /* case 11: tests is not excluded */
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		struct ignore_rules *r = ignore_parse(rows[i].text, strlen(rows[i].text), NULL);

		assert_non_null(r);
		if (ignore_reaches(r, rows[i].path) != rows[i].sent)
			fail_msg("row %zu: %s in %s: want sent=%d", i, rows[i].path, rows[i].text, rows[i].sent);
		ignore_free(r);
	}
	assert_int_equal(ignore_reaches(NULL, "tests/x"), 1);
}

/* ------------------------------------------------------- the build-context kind */

struct kind_row {
	const char *name;
	const char *kind;        /* the engine's kind */
	const char *client;      /* its client version */
	const char *dockerignore;    /* NULL: none */
	const char *containerignore; /* NULL: none */
	const char *files;       /* what the folder holds besides, space-separated ("d/" a folder) */
	enum check_status status;
	const char *message;     /* a piece of it */
	const char *file;        /* the evidence's "file"; NULL: none */
	const char *cause;       /* NULL: none */
};

static const struct kind_row kind_rows[] = {
	{ "docker reads .dockerignore", "docker", "28.2.2", "tests\n", NULL, "tests/ tests/t.js app.js",
	  CHECK_PASS, ".dockerignore (1 patterns) leaves out tests/", ".dockerignore", NULL },
	{ "podman without .containerignore reads .dockerignore", "podman", "4.3.1", "tests\n", NULL,
	  "tests/ tests/t.js app.js", CHECK_PASS, ".dockerignore (1 patterns) leaves out tests/", ".dockerignore", NULL },
	{ "podman reads .containerignore alone", "podman", "4.3.1", NULL, "tests\n", "tests/ tests/t.js app.js",
	  CHECK_PASS, ".containerignore (1 patterns) leaves out tests/", ".containerignore", NULL },
	{ "podman: .containerignore wins over .dockerignore", "podman", "4.3.1", "tests\n", "coverage\n",
	  "tests/ tests/t.js app.js", CHECK_FAIL,
	  ".containerignore (1 patterns; podman reads it, not .dockerignore) still sends tests/ (tests)",
	  ".containerignore", "tests-sent" },
	{ "podman: .containerignore wins, and keeps tests out", "podman", "4.3.1", "coverage\n", "tests\n",
	  "tests/ tests/t.js app.js", CHECK_PASS, ".containerignore (1 patterns; podman reads it, not .dockerignore) leaves out",
	  ".containerignore", NULL },
	{ "docker ignores a lone .containerignore", "docker", "28.2.2", NULL, "tests\n", "tests/ tests/t.js app.js",
	  CHECK_FAIL, "no .dockerignore in the service folder, and docker ignores .containerignore",
	  ".containerignore", "misnamed" },
	{ "docker: .dockerignore beside a .containerignore", "docker", "28.2.2", "tests\n", "coverage\n",
	  "tests/ tests/t.js app.js", CHECK_PASS, ".dockerignore (1 patterns; docker ignores .containerignore) leaves out tests/",
	  ".dockerignore", NULL },
	{ "a lone .containerignore on docker, nothing to keep out", "docker", "28.2.2", NULL, "x\n", "app.js",
	  CHECK_PASS, "docker ignores .containerignore", NULL, NULL },
	/* the matchers: "**.test.js" (suite case 24's form) */
	{ "**.test.js on docker 28 (patternmatcher)", "docker", "28.2.2", "**.test.js\n", NULL,
	  "app.test.js app.js", CHECK_PASS, "leaves out app.test.js", ".dockerignore", NULL },
	{ "**.test.js on docker 20.10 (fileutils)", "docker", "20.10.24+dfsg1", "**.test.js\n", NULL,
	  "app.test.js app.js", CHECK_FAIL, "still sends app.test.js (tests)", ".dockerignore", "tests-sent" },
	{ "**.test.js on podman (fileutils)", "podman", "4.3.1", NULL, "**.test.js\n", "app.test.js app.js",
	  CHECK_FAIL, "still sends app.test.js (tests)", ".containerignore", "tests-sent" },
	/* the walk: an exception starting with a wildcard does not reach into an excluded folder */
	{ "tests then !**/keep.js: the engine never looks inside", "docker", "28.2.2",
	  "tests\n!**/keep.js\n", NULL, "tests/ tests/keep.js app.js", CHECK_PASS, "leaves out tests/",
	  ".dockerignore", NULL },
	{ "tests then !tests/keep.js: brought back", "podman", "4.3.1", "tests\n!tests/keep.js\n", NULL,
	  "tests/ tests/keep.js app.js", CHECK_FAIL, "brought back by '!tests/keep.js' on line 2", ".dockerignore",
	  "re-included" },
};

static void write_file(const char *dir, const char *name, const char *text)
{
	char *path = xasprintf("%s/%s", dir, name);
	FILE *f = fopen(path, "w");

	if (!f)
		fail_msg("cannot write %s", path);
	fputs(text, f);
	fclose(f);
	free(path);
}

static void make_files(const char *dir, const char *files)
{
	char *list = xstrdup(files), *save = NULL;

	for (char *w = strtok_r(list, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
		size_t n = strlen(w);
		char *path;

		if (w[n - 1] == '/') {
			w[n - 1] = '\0';
			path = xasprintf("%s/%s", dir, w);
			if (mkdir(path, 0755))
				fail_msg("cannot make %s", path);
			free(path);
		} else {
			write_file(dir, w, "x\n");
		}
	}
	free(list);
}

static void test_kind(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(kind_rows); i++) {
		const struct kind_row *w = &kind_rows[i];
		char dir[] = "/tmp/phaselab-ignore-engine-XXXXXX";
		struct engine e = { 0 };
		struct check_ctx ctx = { 0 };
		struct check_def def = { 0 };
		struct check_result res = { 0 };
		const char *file;

		if (!mkdtemp(dir))
			fail_msg("mkdtemp failed");
		if (w->dockerignore)
			write_file(dir, ".dockerignore", w->dockerignore);
		if (w->containerignore)
			write_file(dir, ".containerignore", w->containerignore);
		make_files(dir, w->files);
		e.kind = w->kind;
		e.client_version = (char *)w->client;
		ctx.engine = &e;
		ctx.dir = dir;
		def.kind = &check_build_context;
		def.params = json_pack("{s:[sss]}", "must_exclude", "node_modules", ".git", "tests");
		res.evidence = json_object();

		check_build_context.run(&ctx, &def, &res);
		if (res.status != w->status || !res.message || !strstr(res.message, w->message))
			fail_msg("%s: got %d \"%s\", want %d \"...%s...\"", w->name, res.status,
				 res.message ? res.message : "", w->status, w->message);
		file = json_string_value(json_object_get(res.evidence, "file"));
		if (w->file ? !file || strcmp(file, w->file) : file != NULL)
			fail_msg("%s: evidence file \"%s\", want \"%s\"", w->name, file ? file : "(none)",
				 w->file ? w->file : "(none)");
		if (w->cause ? !res.cause || strcmp(res.cause, w->cause) : res.cause != NULL)
			fail_msg("%s: cause \"%s\", want \"%s\"", w->name, res.cause ? res.cause : "(none)",
				 w->cause ? w->cause : "(none)");
		assert_string_equal(json_string_value(json_object_get(res.evidence, "engine")), w->kind);
		json_decref(def.params);
		check_result_release(&res);
		assert_int_equal(remove_tree(dir), 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flavours),
		cmocka_unit_test(test_walk_skips),
		cmocka_unit_test(test_kind),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
