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
 *
 * The backend track has facts of its own that every text of it must keep
 * (test_backend_facts): the user node (UID 1000), the probe `curl -f`, the
 * orchestrator's timings 30/5/60/3, written in seconds in the task
 * definition and stored in nanoseconds by the image, and a tag that names
 * the commit, never :latest.  Its hints, lessons, parameters and reference
 * solutions are read against them, and against the workshop's own facts
 * (nonroot, 65532, /nodejs/bin/node), which must not leak into this track.
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
#include <unistd.h>
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

/* ---- the backend track's facts ---------------------------------------------- */

/* The HEALTHCHECK line the backend lessons teach: the one form any of its texts may show. */
static const char backend_healthcheck[] =
	"HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 CMD curl -f "
	"http://localhost:3000/health || exit 1";
static const char backend_probe[] = "curl -f http://localhost:3000/health || exit 1";

/* What the backend's lessons (intro and steps of its phases) must say, and why. */
static const struct { const char *text, *why; } backend_lesson_facts[] = {
	{ "USER node", "the fix the material forgets" },
	{ "UID 1000", "node:18-slim's user node" },
	{ "curl -f", "the probe fails on an HTTP error" },
	{ "HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 CMD curl -f "
	  "http://localhost:3000/health || exit 1", "the orchestrator's timings" },
	{ "nanoseconds", "the image stores durations in nanoseconds" },
	{ "30000000000", "30 s as the image stores it" },
	{ "\"interval\": 30", "the task definition's seconds" },
	{ "\"timeout\": 5", "the task definition's seconds" },
	{ "\"startPeriod\": 60", "the task definition's seconds" },
	{ "\"retries\": 3", "the task definition's retries" },
	{ "ECS ignores the image's HEALTHCHECK", "why the mirror is required" },
	{ "git rev-parse --short=7", "the tag is the commit" },
	{ "docker login", "a real registry wants a login" },
	{ "curl: not found", "node:18-slim has no curl" },
	{ "same `RUN`", "lists cleaned in the layer that made them" },
	{ "one full interval", "the first probe comes after one interval" },
	{ "musl", "Alpine to Debian breaks native addons" },
};

/* Words of the workshop's distroless design that never belong to a backend text. */
static const char *const workshop_only[] = { "nonroot", "65532", "/nodejs/bin/node", "gcr.io/distroless" };

static json_t *load_json(const char *path)
{
	json_error_t jerr;
	json_t *j = json_load_file(path, 0, &jerr);

	if (!j)
		fail_msg("%s: %s", path, jerr.text);
	return j;
}

/* A check of phase ph by id (borrowed), or NULL. */
static json_t *check_of(json_t *ph, const char *id)
{
	json_t *c;
	size_t i;

	json_array_foreach(json_object_get(ph, "checks"), i, c)
		if (!strcmp(json_string_value(json_object_get(c, "id")), id))
			return c;
	return NULL;
}

static long long param(json_t *ph, const char *check, const char *key)
{
	json_t *c = check_of(ph, check), *v = json_object_get(json_object_get(c, "params"), key);

	if (!c || !json_is_integer(v))
		fail_msg("%s: checks %s: params.%s is not an integer", json_string_value(json_object_get(ph, "id")),
			 check, key);
	return json_integer_value(v);
}

/* One line of a backend text against the facts; problems appended to out. */
static int backend_line(const char *source, const char *line, size_t len, struct strbuf *out)
{
	const char *code = line + strspn(line, " ");
	int bad = 0;

	if (find_in(line, len, "HEALTHCHECK --") && !find_in(line, len, backend_healthcheck)) {
		strbuf_addf(out, "%s: '%.*s': a HEALTHCHECK that is not the lesson's\n", source, (int)len, line);
		bad++;
	}
	/* a USER instruction written out (a line of code), not a USER named in a sentence */
	if (!strncmp(code, "USER ", 5) && (size_t)(code - line) < len && strncmp(code, "USER node", 9)) {
		strbuf_addf(out, "%s: '%.*s': a USER other than node\n", source, (int)len, line);
		bad++;
	}
	for (size_t i = 0; i < sizeof(workshop_only) / sizeof(workshop_only[0]); i++)
		if (find_in(line, len, workshop_only[i])) {
			strbuf_addf(out, "%s: '%.*s': the workshop's '%s' in the backend track\n", source, (int)len,
				    line, workshop_only[i]);
			bad++;
		}
	/* the tag the lessons compute ($TAG), or the one the check read from the commit ({short}) */
	if (find_in(line, len, "docker push ") &&
	    (find_in(line, len, ":latest") || !(find_in(line, len, ":$TAG") || find_in(line, len, ":{short}")))) {
		strbuf_addf(out, "%s: '%.*s': a push that is not of the commit's tag\n", source, (int)len, line);
		bad++;
	}
	return bad;
}

/* A backend text (a hint template, the lessons) line by line. */
static int backend_text(const char *source, const char *text, struct strbuf *out)
{
	int bad = 0;

	for (const char *p = text; *p;) {
		size_t len = strcspn(p, "\n");
		bad += backend_line(source, p, len, out);
		p += len;
		if (*p)
			p++;
	}
	return bad;
}

/*
 * A file of phase n's reference solution, as labs/assemble finds it: in the
 * solution's folder, else in the solution its `.base` names (new string).
 */
static char *solution_file(const char *root, int n, const char *rel)
{
	char *pat = xasprintf("%s/labs/solutions/%02d-*", root, n);
	char *dir, *path = NULL;
	glob_t g;

	assert_int_equal(glob(pat, 0, NULL, &g), 0);
	dir = xstrdup(g.gl_pathv[0]);
	globfree(&g);
	free(pat);
	for (int hops = 0; hops < 8 && !path; hops++) {
		char *candidate = xasprintf("%s/%s", dir, rel), *base_file = xasprintf("%s/.base", dir);
		struct strbuf base = STRBUF_INIT;

		if (access(candidate, R_OK) == 0) {
			path = candidate;
		} else {
			free(candidate);
			assert_int_equal(read_file_nofollow(base_file, 256, &base), 0);
			strbuf_rtrim(&base);
			free(dir);
			dir = xasprintf("%s/labs/solutions/%s", root, base.buf);
		}
		strbuf_release(&base);
		free(base_file);
	}
	free(dir);
	assert_non_null(path);
	return path;
}

static void test_backend_facts(void **state)
{
	char *root = repo_root(), *pattern;
	struct strbuf report = STRBUF_INIT, lessons = STRBUF_INIT;
	const char *ids[] = { "10-orchestrator-image", "11-task-definition", "12-publish" };
	int bad = 0;
	glob_t g;

	(void)state;
	for (size_t f = 0; f < sizeof(ids) / sizeof(ids[0]); f++) {
		char *file = xasprintf("%s/phases/%s/phase.json", root, ids[f]);
		json_t *ph = load_json(file), *check, *env;
		struct strvec t = STRVEC_INIT;
		size_t i;

		assert_string_equal(json_string_value(json_object_get(ph, "track")), "backend");
		/* the container the runtime checks start is the image's own configuration */
		assert_int_equal(json_integer_value(json_object_get(json_object_get(ph, "container"), "port")), 3000);
		env = json_object_get(json_object_get(ph, "container"), "env");
		assert_string_equal(json_string_value(json_object_get(env, "NODE_ENV")), "production");
		json_array_foreach(json_object_get(ph, "checks"), i, check) {
			json_strings(json_object_get(check, "hints"), &t);
			json_strings(json_object_get(check, "causes"), &t);
		}
		json_strings(json_object_get(json_object_get(ph, "container"), "exit_hint"), &t);
		for (size_t k = 0; k < t.nr; k++)
			bad += backend_text(file, t.v[k], &report);
		strvec_clear(&t);
		if (f == 0) {
			/* every number of the lesson, in the parameters */
			assert_int_equal(param(ph, "nonroot", "expected_uid"), 1000);
			for (int k = 0; k < 2; k++) {
				const char *c = k ? "healthy" : "probe-config";
				assert_int_equal(param(ph, c, "interval_s"), 30);
				assert_int_equal(param(ph, c, "timeout_s"), 5);
				assert_int_equal(param(ph, c, "start_period_s"), 60);
				assert_int_equal(param(ph, c, "retries"), 3);
			}
			check = json_object_get(check_of(ph, "probe-config"), "params");
			assert_string_equal(json_string_value(json_object_get(check, "program")), "curl");
			assert_string_equal(json_string_value(json_object_get(check, "url")), "http://localhost:3000/health");
			assert_string_equal(json_string_value(json_array_get(json_object_get(check, "fail_flags"), 0)), "-f");
			assert_int_equal(param(ph, "image-config", "port"), 3000);
			check = json_object_get(check_of(ph, "image-config"), "params");
			assert_string_equal(json_string_value(json_array_get(json_object_get(check, "env"), 0)),
					    "NODE_ENV=production");
		} else if (f == 1) {
			assert_int_equal(param(ph, "taskdef", "port"), 3000);
		}
		json_decref(ph);
		free(file);
	}

	/* the lessons say each fact */
	pattern = xasprintf("%s/phases/1[0-2]-*/*.md %s/phases/1[0-2]-*/steps/*.md", root, root);
	{
		char *both[2];
		both[0] = xasprintf("%s/phases/1[0-2]-*/*.md", root);
		both[1] = xasprintf("%s/phases/1[0-2]-*/steps/*.md", root);
		for (int k = 0; k < 2; k++) {
			assert_int_equal(glob(both[k], 0, NULL, &g), 0);
			for (size_t i = 0; i < g.gl_pathc; i++) {
				if (read_file_nofollow(g.gl_pathv[i], 1 << 20, &lessons) < 0)
					fail_msg("cannot read '%s'", g.gl_pathv[i]);
				strbuf_addch(&lessons, '\n');
			}
			globfree(&g);
			free(both[k]);
		}
	}
	free(pattern);
	for (size_t i = 0; i < sizeof(backend_lesson_facts) / sizeof(backend_lesson_facts[0]); i++)
		if (!strstr(lessons.buf, backend_lesson_facts[i].text)) {
			strbuf_addf(&report, "the backend lessons do not say '%s' (%s)\n", backend_lesson_facts[i].text,
				    backend_lesson_facts[i].why);
			bad++;
		}
	bad += backend_text("the backend lessons", lessons.buf, &report);

	/* the reference solutions are the lessons' image and its mirror */
	for (int n = 10; n <= 12; n++) {
		char *dpath = solution_file(root, n, "Dockerfile");
		struct strbuf df = STRBUF_INIT;
		const char *user, *cmd;

		assert_int_equal(read_file_nofollow(dpath, 1 << 20, &df), 0);
		assert_non_null(strstr(df.buf, backend_healthcheck));
		user = strstr(df.buf, "\nUSER node\n");
		cmd = strstr(df.buf, "\nCMD [\"node\", \"dist/main\"]");
		assert_non_null(user);
		assert_non_null(cmd);
		assert_true(user < cmd);
		strbuf_release(&df);
		free(dpath);
		if (n >= 11) {
			char *tpath = solution_file(root, n, "deploy/task-definition.json");
			json_t *td, *c, *hc;

			td = load_json(tpath);
			c = json_array_get(json_object_get(td, "containerDefinitions"), 0);
			hc = json_object_get(c, "healthCheck");
			assert_string_equal(json_string_value(json_array_get(json_object_get(hc, "command"), 0)), "CMD-SHELL");
			assert_string_equal(json_string_value(json_array_get(json_object_get(hc, "command"), 1)), backend_probe);
			assert_int_equal(json_integer_value(json_object_get(hc, "interval")), 30);
			assert_int_equal(json_integer_value(json_object_get(hc, "timeout")), 5);
			assert_int_equal(json_integer_value(json_object_get(hc, "startPeriod")), 60);
			assert_int_equal(json_integer_value(json_object_get(hc, "retries")), 3);
			assert_string_equal(json_string_value(json_object_get(c, "user")), "node");
			assert_null(strstr(json_string_value(json_object_get(c, "image")), "latest"));
			json_decref(td);
			free(tpath);
		}
	}
	if (bad)
		fail_msg("%d text(s) of the backend track break its facts:\n%s", bad, report.buf);
	strbuf_release(&report);
	strbuf_release(&lessons);
	free(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rule),
		cmocka_unit_test(test_templates),
		cmocka_unit_test(test_backend_facts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
