/*
 * Tests for runner/lib/dfstages.c: the stages of a Dockerfile and the words
 * of a COPY or ADD (df_copy_read), which the cache item asks whether an edit
 * reaches a step and the size item whether a stage copies all of /app.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/dfstages.h"

struct copy_case {
	const char *args;
	int from, mount, unreadable;
	const char *words; /* the words joined by '|' */
};

static const struct copy_case copy_cases[] = {
	{ ". .", 0, 0, 0, ".|." },
	{ "  package.json   package-lock.json\t./ ", 0, 0, 0, "package.json|package-lock.json|./" },
	{ "--chown=node:node --chmod=644 src/ /app/src/", 0, 0, 0, "src/|/app/src/" },
	{ "--from=builder /app/dist ./dist", 1, 0, 0, "/app/dist|./dist" },
	{ "--link --from=0 /app .", 1, 0, 0, "/app|." },
	{ "--mount=type=bind,src=.,dst=/x . .", 0, 1, 0, ".|." },
	/* an option after the first word is a file's name to the builder */
	{ "a --from=b /c", 0, 0, 0, "a|--from=b|/c" },
	/* the exec form */
	{ "[\"package.json\", \"/app/\"]", 0, 0, 0, "package.json|/app/" },
	{ "--from=build [\"/app/dist\", \"dist with space/\"]", 1, 0, 0, "/app/dist|dist with space/" },
	{ "[\"a\", 1]", 0, 0, 1, "a" },
	{ "[not json", 0, 0, 1, "" },
	{ "{\"a\": 1}", 0, 0, 0, "{\"a\":|1}" },
	{ "", 0, 0, 0, "" },
	{ "--chown=1000", 0, 0, 0, "" },
};

static void test_copy_words(void **state)
{
	(void)state;
	for (size_t k = 0; k < sizeof(copy_cases) / sizeof(copy_cases[0]); k++) {
		const struct copy_case *t = &copy_cases[k];
		struct df_copy c;
		char joined[256] = "";

		df_copy_read(&c, t->args);
		for (size_t i = 0; i < c.n; i++) {
			if (i)
				strcat(joined, "|");
			strcat(joined, c.w[i]);
		}
		if (c.from != t->from || c.mount != t->mount || c.unreadable != t->unreadable || strcmp(joined, t->words))
			fail_msg("COPY %s: from %d mount %d unreadable %d words '%s'; want %d %d %d '%s'", t->args, c.from,
				 c.mount, c.unreadable, joined, t->from, t->mount, t->unreadable, t->words);
		df_copy_release(&c);
	}
}

static void test_copy_args(void **state)
{
	(void)state;
	assert_string_equal(df_copy_args("COPY . ."), " . .");
	assert_string_equal(df_copy_args("  add --chown=1 a b"), " --chown=1 a b");
	assert_string_equal(df_copy_args("copy"), "");
	assert_string_equal(df_copy_args("COPY\t[\"a\", \"b\"]"), "\t[\"a\", \"b\"]");
	assert_null(df_copy_args("COPYING a b"));
	assert_null(df_copy_args("ADDRESS a"));
	assert_null(df_copy_args("RUN cp a b"));
	assert_null(df_copy_args(""));
}

static void test_stage_base(void **state)
{
	const char *text = "# the builder\n"
			   "FROM node:20-alpine AS build\n"
			   "COPY . .\n"
			   "FROM build as test\n"
			   "RUN npm test\n"
			   "FROM gcr.io/distroless/nodejs20-debian12\n"
			   "COPY --from=build /app/dist \\\n  ./dist\n";
	struct df_instrs d;
	char *base;

	(void)state;
	df_instrs_parse(&d, text, strlen(text));
	assert_int_equal(d.nstages, 3);
	assert_int_equal(d.n, 6);
	base = df_stage_base(&d, 1);
	assert_string_equal(base, "node:20-alpine");
	free(base);
	base = df_stage_base(&d, 2);
	assert_string_equal(base, "gcr.io/distroless/nodejs20-debian12");
	free(base);
	/* the continuation joined, its first line kept */
	assert_string_equal(d.v[5].keyword, "COPY");
	assert_int_equal(d.v[5].line, 7);
	assert_int_equal(d.v[5].stage, 2);
	assert_string_equal(df_instrs_last(&d, 2, "COPY")->args, d.v[5].args);
	df_instrs_release(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_copy_words),
		cmocka_unit_test(test_copy_args),
		cmocka_unit_test(test_stage_base),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
