/*
 * Tests for runner/dockerfile.c: the FROM lines of a Dockerfile (image,
 * stage name, line) the way the Dockerfile reference writes them: AS names
 * in any case, --platform and other flags, continuation lines, comments,
 * lowercase instructions, CRLF; then dockerfile_is_stage and dockerfile_load.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/dockerfile.h"
#include "lib/xalloc.h"

struct want_from {
	const char *image;
	const char *stage;  /* NULL: none */
	int line;
};

struct parse_row {
	const char *what;
	const char *text;
	struct want_from want[4];  /* up to the first with image NULL */
};

static const struct parse_row parse_rows[] = {
	{ "one image", "FROM node:20-alpine\n", { { "node:20-alpine", NULL, 1 } } },
	{ "no final newline", "FROM node:20-alpine", { { "node:20-alpine", NULL, 1 } } },
	{ "empty", "", { { NULL, NULL, 0 } } },
	{ "no FROM", "RUN echo FROM x\nCOPY . .\n", { { NULL, NULL, 0 } } },
	{ "two stages",
	  "FROM node:20-alpine AS build\nWORKDIR /app\nRUN npm ci\n\n"
	  "FROM gcr.io/distroless/nodejs20-debian12\nCOPY --from=build /app /app\n",
	  { { "node:20-alpine", "build", 1 }, { "gcr.io/distroless/nodejs20-debian12", NULL, 5 } } },
	{ "lowercase", "from node:20 as builder\n", { { "node:20", "builder", 1 } } },
	{ "mixed case", "From node:20 As Builder\n", { { "node:20", "Builder", 1 } } },
	{ "platform flag", "FROM --platform=$BUILDPLATFORM node:20-alpine AS deps\n",
	  { { "node:20-alpine", "deps", 1 } } },
	{ "platform flag, then scratch", "FROM --platform=linux/amd64 golang:1.22\nFROM scratch\n",
	  { { "golang:1.22", NULL, 1 }, { "scratch", NULL, 2 } } },
	{ "tabs and indentation", "  \tFROM\tnode:20\tAS\tbuild  \n", { { "node:20", "build", 1 } } },
	{ "CRLF", "FROM node:20 AS build\r\nFROM build\r\n",
	  { { "node:20", "build", 1 }, { "build", NULL, 2 } } },
	{ "continuation",
	  "# syntax=docker/dockerfile:1\nFROM \\\n    node:20 \\\n    AS build\nRUN true\nFROM build\n",
	  { { "node:20", "build", 2 }, { "build", NULL, 6 } } },
	{ "continuation with a CRLF", "FROM node:20 \\\r\n  AS build\r\n", { { "node:20", "build", 1 } } },
	{ "comments", "# FROM commented:out\n  # FROM indented:comment\nFROM real:1\n",
	  { { "real:1", NULL, 3 } } },
	{ "a RUN continued onto a FROM-looking line",
	  "RUN echo \\\n  FROM fake\nFROM node:20\n", { { "node:20", NULL, 3 } } },
	{ "digest and registry port", "FROM registry.local:5000/team/node@sha256:abc AS base\n",
	  { { "registry.local:5000/team/node@sha256:abc", "base", 1 } } },
	{ "ARG in the image", "ARG V=20\nFROM node:${V}-alpine\n", { { "node:${V}-alpine", NULL, 2 } } },
	{ "AS without a name", "FROM node:20 AS\n", { { "node:20", NULL, 1 } } },
	{ "FROM alone", "FROM\nFROM \nFROMnode:20\n", { { NULL, NULL, 0 } } },
	{ "four stages",
	  "FROM a AS one\nFROM one AS two\nFROM b\nFROM two\n",
	  { { "a", "one", 1 }, { "one", "two", 2 }, { "b", NULL, 3 }, { "two", NULL, 4 } } },
};

/*
 * Regression (fixed): dockerfile_parse ends a continued instruction at a comment line or
 * an empty line.  Docker removes comment lines inside a continuation (and,
 * with a warning, empty lines): "FROM \\\n# the base\nnode:20\n" is
 * FROM node:20.  dockerfile.c only skips a comment when no instruction is
 * being continued, so the first row records the image "#" (stage none)
 * instead of "node:20" AS build, and the second ends the FROM at the empty
 * line and loses the stage name "build".
 */
static const struct parse_row continuation_bug_rows[] = {
	{ "comment inside a continuation", "FROM \\\n# the base image\n  node:20 AS build\n",
	  { { "node:20", "build", 1 } } },
	{ "empty line inside a continuation", "FROM node:20 \\\n\n  AS build\n",
	  { { "node:20", "build", 1 } } },
};

static int check_rows(const struct parse_row *rows, size_t n)
{
	int wrong = 0;

	for (size_t i = 0; i < n; i++) {
		const struct parse_row *r = &rows[i];
		struct dockerfile df;
		size_t want = 0;

		while (want < 4 && r->want[want].image)
			want++;
		dockerfile_parse(&df, r->text, strlen(r->text));
		if (df.nfroms != want) {
			print_error("%s: %zu FROM lines, expected %zu%s%s\n", r->what, df.nfroms, want,
				    df.nfroms ? "; first image " : "", df.nfroms ? df.froms[0].image : "");
			wrong++;
		}
		for (size_t j = 0; j < want && j < df.nfroms; j++) {
			const struct dockerfile_from *f = &df.froms[j];
			const struct want_from *w = &r->want[j];

			if (strcmp(f->image, w->image) || f->line != w->line ||
			    (w->stage ? !f->stage || strcmp(f->stage, w->stage) : f->stage != NULL)) {
				print_error("%s: FROM %zu is '%s' AS '%s' at line %d, expected '%s' AS '%s' at %d\n",
					    r->what, j, f->image, f->stage ? f->stage : "(none)", f->line, w->image,
					    w->stage ? w->stage : "(none)", w->line);
				wrong++;
			}
		}
		dockerfile_release(&df);
		assert_null(df.froms);
		assert_int_equal(df.nfroms, 0);
	}
	return wrong;
}

static void test_parse(void **state)
{
	(void)state;
	assert_int_equal(check_rows(parse_rows, sizeof(parse_rows) / sizeof(parse_rows[0])), 0);
}

static void test_parse_continuation_regression(void **state)
{
	(void)state;
	assert_int_equal(check_rows(continuation_bug_rows,
				    sizeof(continuation_bug_rows) / sizeof(continuation_bug_rows[0])), 0);
}

/* Only text[0..len) is read: the rest of a buffer does not count. */
static void test_parse_len(void **state)
{
	static const char text[] = "FROM a\nFROM b\n";
	struct dockerfile df;

	(void)state;
	dockerfile_parse(&df, text, 7);
	assert_int_equal(df.nfroms, 1);
	assert_string_equal(df.froms[0].image, "a");
	dockerfile_release(&df);

	/* a NUL byte in the text does not end it */
	dockerfile_parse(&df, "FROM a\n\0\nFROM b\n", 16);
	assert_int_equal(df.nfroms, 2);
	assert_string_equal(df.froms[1].image, "b");
	assert_int_equal(df.froms[1].line, 3);
	dockerfile_release(&df);
}

struct stage_row {
	const char *image;
	size_t before;
	int expected;
};

static void test_is_stage(void **state)
{
	static const char text[] =
		"FROM node:20-alpine AS deps\n"
		"FROM deps AS Build\n"
		"FROM gcr.io/distroless/nodejs20-debian12\n"
		"FROM scratch AS final\n";
	static const struct stage_row rows[] = {
		{ "deps", 1, 1 },
		{ "deps", 4, 1 },
		{ "deps", 0, 0 },      /* a stage named later does not count */
		{ "build", 2, 1 },     /* stage names ignore case */
		{ "BUILD", 2, 1 },
		{ "Build", 1, 0 },
		{ "final", 4, 1 },
		{ "final", 3, 0 },
		{ "node:20-alpine", 4, 0 },
		{ "gcr.io/distroless/nodejs20-debian12", 4, 0 },
		{ "scratch", 0, 1 },   /* no image to pull */
		{ "deps", 99, 1 },     /* before may run past the end */
		{ "nope", 99, 0 },
		{ "dep", 4, 0 },       /* whole names only */
	};
	struct dockerfile df;

	(void)state;
	dockerfile_parse(&df, text, strlen(text));
	assert_int_equal(df.nfroms, 4);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		int got = dockerfile_is_stage(&df, rows[i].image, rows[i].before);
		if (got != rows[i].expected)
			fail_msg("'%s' before %zu: %d, expected %d", rows[i].image, rows[i].before, got,
				 rows[i].expected);
	}
	dockerfile_release(&df);
}

static void test_load(void **state)
{
	const char *base = getenv("TMPDIR");
	char dir[PATH_MAX];
	char *file, *other;
	struct dockerfile df;
	FILE *f;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/phaselab-dockerfile-XXXXXX", base && *base ? base : "/tmp");
	assert_non_null(mkdtemp(dir));
	file = xasprintf("%s/Dockerfile", dir);
	other = xasprintf("%s/Other.Dockerfile", dir);

	/* missing: -1 and an empty result */
	assert_int_equal(dockerfile_load(&df, dir), -1);
	assert_int_equal(df.nfroms, 0);
	assert_null(df.froms);

	f = fopen(file, "w");
	assert_non_null(f);
	fputs("FROM node:20-alpine AS build\nFROM scratch\n", f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(dockerfile_load(&df, dir), 0);
	assert_int_equal(df.nfroms, 2);
	assert_string_equal(df.froms[0].image, "node:20-alpine");
	assert_string_equal(df.froms[0].stage, "build");
	assert_string_equal(df.froms[1].image, "scratch");
	assert_int_equal(df.froms[1].line, 2);
	dockerfile_release(&df);

	/* a link named Dockerfile is not read through */
	assert_int_equal(rename(file, other), 0);
	assert_int_equal(symlink(other, file), 0);
	assert_int_equal(dockerfile_load(&df, dir), -1);
	assert_int_equal(df.nfroms, 0);

	assert_int_equal(unlink(file), 0);
	assert_int_equal(unlink(other), 0);
	assert_int_equal(rmdir(dir), 0);
	free(file);
	free(other);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_parse_continuation_regression), /* regression, see above */
		cmocka_unit_test(test_parse_len),
		cmocka_unit_test(test_is_stage),
		cmocka_unit_test(test_load),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
