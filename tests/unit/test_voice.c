/*
 * One voice with the lessons: no message a learner can see claims that the
 * lesson says what phaselab's lessons do not.
 *
 * phaselab's lessons correct the original workshop text in three places (the
 * distroless nonroot user is UID 65532, not 65534; the probe calls Node as
 * /nodejs/bin/node, never a bare `node`; npm's flag is --omit=dev, not
 * --only=production).  A message may name the old forms, as what "the
 * original workshop text" or "older material" says; a clause that speaks of
 * "the lesson" next to one of them claims the lesson says it, and fails.
 * The corrected forms must be what the lessons (the Markdown files of
 * phases/PHASE/steps/ and intro.md) actually contain.
 *
 * The templates: every string of every phase file's hints, causes and
 * container exit hint, and every string literal of the C files of checks/
 * (adjacent literals joined, as the compiler joins them: a result_set or result_hint
 * format is one of them).  A clause is a stretch of text between '.', ';' or
 * a newline.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <dirent.h>
#include <glob.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/fsutil.h"
#include "lib/strbuf.h"
#include "lib/strvec.h"
#include "lib/xalloc.h"

/* What the lessons correct: the old form a lesson claim must not name, and the corrected form they hold. */
static const struct erratum {
	const char *old_form;     /* as found in a clause (case-insensitive) */
	const char *corrected;    /* what the lessons must contain */
	const char *why;
} errata[] = {
	{ "65534", "65532", "the lessons give the distroless nonroot user as 65532 (65534 is nobody)" },
	{ "--only=production", "--omit=dev", "the lessons install with --omit=dev" },
	{ "bare `node`", "/nodejs/bin/node", "the lessons call Node as /nodejs/bin/node in the probe" },
	{ "[\"node\"", "/nodejs/bin/node", "the lessons call Node as /nodejs/bin/node in the probe" },
	{ "\\\"node\\\"", "/nodejs/bin/node", "the lessons call Node as /nodejs/bin/node in the probe" },
};

static char *repo_root(void)
{
	const char *root = getenv("PHASELAB_ROOT");
	return xstrdup(root && *root ? root : ".");
}

static int mentions_lesson(const char *clause, size_t n)
{
	for (size_t i = 0; i + 6 <= n; i++)
		if (!strncasecmp(clause + i, "lesson", 6))
			return 1;
	return 0;
}

static const char *find_in(const char *hay, size_t n, const char *needle)
{
	size_t k = strlen(needle);

	for (size_t i = 0; i + k <= n; i++)
		if (!strncasecmp(hay + i, needle, k))
			return hay + i;
	return NULL;
}

/*
 * The claims of text that contradict the lessons, one line each in out
 * ("SOURCE: '...clause...': why"); their number.
 */
static int contradictions(const char *source, const char *text, struct strbuf *out)
{
	const char *p = text;
	int n = 0;

	while (*p) {
		size_t len = strcspn(p, ".;\n");

		if (mentions_lesson(p, len)) {
			for (size_t i = 0; i < sizeof(errata) / sizeof(errata[0]); i++) {
				if (find_in(p, len, errata[i].old_form)) {
					strbuf_addf(out, "%s: '%.*s': speaks of the lesson next to %s, but %s\n", source,
						    (int)len, p, errata[i].old_form, errata[i].why);
					n++;
					break;
				}
			}
		}
		p += len;
		if (*p)
			p++;
	}
	return n;
}

/* The table of the rule itself: a claim is caught, the original text's words are not. */
static void test_rule(void **state)
{
	static const struct { const char *text; int bad; } rows[] = {
		{ "runs as UID 65532; note: the lesson calls it 65534, but in distroless images nonroot is 65532", 1 },
		{ "the probe runs `node` (the lesson's bare `node` never works there)", 1 },
		{ "the lesson installs with --only=production", 1 },
		{ "Note: 65534 is `nobody`, the UID the original workshop text gives; the lesson uses `nonroot` (UID 65532)", 0 },
		{ "older material writes `--only=production`; `--omit=dev` is the current flag", 0 },
		{ "the lesson's probe calls /nodejs/bin/node", 0 },
		{ "a bare `node` is not on the PATH.\nThe lesson uses the absolute path", 0 },
	};
	struct strbuf out = STRBUF_INIT;

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		strbuf_reset(&out);
		if ((contradictions("row", rows[i].text, &out) > 0) != rows[i].bad)
			fail_msg("row %zu (%s): %s", i, rows[i].text, rows[i].bad ? "not caught" : out.buf);
	}
	strbuf_release(&out);
}

/* The string literals of C source text, adjacent ones joined; comments, character literals skipped. */
static void c_literals(const char *src, struct strvec *out)
{
	struct strbuf cur = STRBUF_INIT;
	const char *p = src;
	int open = 0; /* cur holds a literal that a next one may extend */

	while (*p) {
		if (p[0] == '/' && p[1] == '*') {
			const char *end = strstr(p + 2, "*/");
			p = end ? end + 2 : p + strlen(p);
		} else if (p[0] == '/' && p[1] == '/') {
			p += strcspn(p, "\n");
		} else if (*p == '\'') {
			for (p++; *p && *p != '\''; p++)
				if (*p == '\\' && p[1])
					p++;
			if (*p)
				p++;
		} else if (*p == '"') {
			for (p++; *p && *p != '"'; p++) {
				if (*p == '\\' && p[1]) {
					p++;
					strbuf_addch(&cur, *p == 'n' ? '\n' : *p == 't' ? '\t' : *p);
				} else {
					strbuf_addch(&cur, *p);
				}
			}
			if (*p)
				p++;
			open = 1;
		} else if (isspace((unsigned char)*p)) {
			p++;
		} else {
			if (open) {
				strvec_push(out, cur.buf);
				strbuf_reset(&cur);
				open = 0;
			}
			p++;
		}
	}
	if (open)
		strvec_push(out, cur.buf);
	strbuf_release(&cur);
}

/* Every string under v (a phase file's hints or causes), as a template. */
static void json_strings(json_t *v, struct strvec *out)
{
	const char *key;
	json_t *el;
	size_t i;

	if (json_is_string(v))
		strvec_push(out, json_string_value(v));
	else if (json_is_array(v))
		json_array_foreach(v, i, el)
			json_strings(el, out);
	else if (json_is_object(v))
		json_object_foreach(v, key, el)
			json_strings(el, out);
}

/* The lessons' whole text: every phase's intro and steps. */
static void lesson_text(const char *root, struct strbuf *all)
{
	char *pattern = xasprintf("%s/phases/*/*.md", root);
	char *steps = xasprintf("%s/phases/*/steps/*.md", root);
	glob_t g;

	for (int k = 0; k < 2; k++) {
		if (glob(k ? steps : pattern, 0, NULL, &g) == 0) {
			for (size_t i = 0; i < g.gl_pathc; i++)
				if (read_file_nofollow(g.gl_pathv[i], 1 << 20, all) < 0)
					fail_msg("cannot read '%s'", g.gl_pathv[i]);
			globfree(&g);
		}
	}
	free(pattern);
	free(steps);
}

static void test_templates(void **state)
{
	char *root = repo_root();
	struct strbuf report = STRBUF_INIT, lessons = STRBUF_INIT;
	char *pattern;
	glob_t g;
	int bad = 0;
	size_t ntemplates = 0;

	(void)state;
	/* the corrected forms are what the lessons say */
	lesson_text(root, &lessons);
	assert_true(lessons.len > 0);
	for (size_t i = 0; i < sizeof(errata) / sizeof(errata[0]); i++)
		if (!strstr(lessons.buf, errata[i].corrected))
			fail_msg("the lessons do not contain '%s', which the messages hold them to", errata[i].corrected);

	/* the phase files' hints, causes and exit hints */
	pattern = xasprintf("%s/phases/*/phase.json", root);
	assert_int_equal(glob(pattern, 0, NULL, &g), 0);
	for (size_t f = 0; f < g.gl_pathc; f++) {
		json_error_t jerr;
		json_t *ph = json_load_file(g.gl_pathv[f], 0, &jerr), *check;
		struct strvec t = STRVEC_INIT;
		size_t i;

		if (!ph)
			fail_msg("%s: %s", g.gl_pathv[f], jerr.text);
		json_strings(json_object_get(json_object_get(ph, "container"), "exit_hint"), &t);
		json_array_foreach(json_object_get(ph, "checks"), i, check) {
			json_strings(json_object_get(check, "hints"), &t);
			json_strings(json_object_get(check, "causes"), &t);
		}
		for (size_t k = 0; k < t.nr; k++)
			bad += contradictions(g.gl_pathv[f], t.v[k], &report);
		ntemplates += t.nr;
		strvec_clear(&t);
		json_decref(ph);
	}
	globfree(&g);
	free(pattern);

	/* the check kinds' messages and hints */
	pattern = xasprintf("%s/checks/*.c", root);
	assert_int_equal(glob(pattern, 0, NULL, &g), 0);
	for (size_t f = 0; f < g.gl_pathc; f++) {
		struct strbuf src = STRBUF_INIT;
		struct strvec t = STRVEC_INIT;

		if (read_file_nofollow(g.gl_pathv[f], 1 << 22, &src) < 0)
			fail_msg("cannot read '%s'", g.gl_pathv[f]);
		c_literals(src.buf, &t);
		for (size_t k = 0; k < t.nr; k++)
			bad += contradictions(g.gl_pathv[f], t.v[k], &report);
		ntemplates += t.nr;
		strvec_clear(&t);
		strbuf_release(&src);
	}
	globfree(&g);
	free(pattern);

	assert_true(ntemplates > 100); /* the collection itself works */
	if (bad)
		fail_msg("%d message template(s) claim the lesson says what it does not:\n%s", bad, report.buf);
	strbuf_release(&report);
	strbuf_release(&lessons);
	free(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rule),
		cmocka_unit_test(test_templates),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
