/*
 * Tests for the phase-file loader (runner/phase.c, runner/schema.c) and the
 * table of check kinds (checks/checks.c).
 *
 * tests/fixtures/phases/ holds good/ and, beside it, one folder per way of
 * breaking it (good/phase.json with one change each): every broken file must
 * be refused with a message that names the file and the key's path.  The
 * real phases/03-containerization/phase.json must load as the lesson says.
 * Paths are relative to $PHASELAB_ROOT (the repository), else ".".
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/check.h"
#include "core/language.h"
#include "core/phase.h"
#include "report/hint.h"
#include "lib/schema.h"
#include "lib/strbuf.h"
#include "lib/xalloc.h"

static const char *repo_root(void)
{
	const char *r = getenv("PHASELAB_ROOT");
	return r && *r ? r : ".";
}

static char *fixture(const char *name)
{
	return xasprintf("%s/tests/fixtures/phases/%s/phase.json", repo_root(), name);
}

static char *real_phase(void)
{
	return xasprintf("%s/phases/03-containerization/phase.json", repo_root());
}

/*
 * Phase 3's first step is the build: no hint of `builds` (a cause's tiers or
 * the fallback) may show what a later step asks for, so a learner stuck on
 * the build is not handed step 4's user, step 3's probe, step 5's ignore file
 * or step 6's layer order.
 */
static void test_build_hints_stay_in_step_1(void **state)
{
	static const char *const later[] = {
		"USER ", "nonroot", "65532", "HEALTHCHECK", "/health", ".dockerignore", "COPY package.json package-lock.json",
		"COPY package*.json", "layer", "cache",
	};
	struct strbuf err = STRBUF_INIT;
	struct phase ph;
	char *file = real_phase();
	const struct check_def *def;

	(void)state;
	if (phase_load_file(file, &ph, &err) < 0)
		fail_msg("%s", err.buf);
	def = phase_check(&ph, "builds");
	assert_non_null(def);
	assert_true(def->ncauses >= 8);
	for (size_t w = 0; w < sizeof(later) / sizeof(later[0]); w++) {
		for (size_t h = 0; h < def->nhints; h++)
			if (strstr(def->hints[h], later[w]))
				fail_msg("builds: hints[%zu] shows a later step's '%s': %s", h, later[w], def->hints[h]);
		for (size_t c = 0; c < def->ncauses; c++)
			for (size_t t = 0; t < def->causes[c].ntiers; t++)
				if (strstr(def->causes[c].tiers[t], later[w]))
					fail_msg("builds: causes.%s[%zu] shows a later step's '%s': %s", def->causes[c].id, t,
						 later[w], def->causes[c].tiers[t]);
	}
	phase_release(&ph);
	free(file);
	strbuf_release(&err);
}

static void test_real_phase(void **state)
{
	static const char *const ids[] = {
		/* the contract's eight items, in its order; then step 1's gate */
		"builds", "size", "responds", "nonroot", "healthy", "noshell", "cache", "dockerignore", "multistage",
	};
	static const char *const kinds[] = {
		"build", "image-size", "http", "process-user", "healthcheck", "no-shell", "layer-cache",
		"build-context", "multi-stage",
	};
	static const int points[] = { 20, 10, 15, 15, 15, 10, 10, 5, 0 };
	struct strbuf err = STRBUF_INIT;
	struct phase ph;
	char *file = real_phase();
	int sum = 0;

	(void)state;
	if (phase_load_file(file, &ph, &err) < 0)
		fail_msg("%s", err.buf);
	assert_int_equal(err.len, 0);
	assert_string_equal(ph.file, file);
	assert_non_null(strstr(ph.dir, "phases/03-containerization"));
	assert_string_equal(ph.id, "03-containerization");
	assert_int_equal(ph.number, 3);
	assert_string_equal(ph.title, "Containerization: a production image");
	assert_string_equal(ph.service_dir, "services/user-service");
	assert_int_equal(ph.nrequires, 1);
	assert_string_equal(ph.requires[0], "02-dev-images");
	assert_int_equal(ph.pass_mark, 100);
	assert_int_equal(ph.build_timeout_ms, 600000);
	assert_int_equal(ph.nbase_images, 2);
	assert_string_equal(ph.base_images[0], "node:20-alpine");
	assert_string_equal(ph.base_images[1], "gcr.io/distroless/nodejs20-debian12");

	assert_int_equal(ph.port, 3000);
	assert_int_equal(ph.nenv, 2);
	assert_string_equal(ph.env[0], "NODE_ENV=production");
	assert_string_equal(ph.env[1], "DATABASE_URL=postgres://app:app@db.invalid:5432/users");
	assert_int_equal(ph.memory_mb, 512);
	assert_int_equal(ph.pids, 256);
	assert_true(ph.cpus == 1.0);
	assert_int_equal(ph.start_timeout_ms, 20000);

	assert_int_equal(ph.nchecks, 9);
	for (size_t i = 0; i < ph.nchecks; i++) {
		const struct check_def *d = &ph.checks[i];

		assert_string_equal(d->id, ids[i]);
		assert_non_null(d->kind);
		assert_string_equal(d->kind->name, kinds[i]);
		assert_ptr_equal(d->kind, check_kind_find(kinds[i]));
		assert_int_equal(d->points, points[i]);
		/* step 1's gate is not an item of the checklist the report's contract fixes */
		assert_int_equal(d->graded, strcmp(d->id, "multistage") != 0);
		assert_non_null(d->params);
		assert_true(json_is_object(d->params));
		assert_ptr_equal(phase_check(&ph, ids[i]), d);
		sum += d->points;
	}
	assert_int_equal(sum, ph.pass_mark);
	assert_true(ph.checks[0].kind->makes_image);
	/* what stops this phase's container is its own (distroless), not the driver's */
	assert_non_null(strstr(ph.exit_hint, "the distroless entrypoint is node"));
	assert_int_equal(ph.checks[0].timeout_ms, 600000);
	assert_int_equal(ph.checks[1].timeout_ms, 120000); /* the default */
	assert_int_equal(ph.checks[4].timeout_ms, 90000);
	assert_string_equal(ph.checks[0].title, "The image builds");
	assert_true(obj_num(ph.checks[1].params, "max_mb", 0) == 200);
	assert_string_equal(obj_str(ph.checks[6].params, "step", ""), "npm ci");
	/* a check without params gets an empty object, never NULL */
	assert_int_equal(json_object_size(ph.checks[0].params), 0);
	assert_null(phase_check(&ph, "nope"));
	phase_release(&ph);
	assert_null(ph.checks);
	free(file);
	strbuf_release(&err);
}

static void test_good_fixture(void **state)
{
	struct strbuf err = STRBUF_INIT;
	struct phase ph;
	char *file = fixture("good");

	(void)state;
	if (phase_load_file(file, &ph, &err) < 0)
		fail_msg("%s", err.buf);
	assert_string_equal(ph.id, "good");
	assert_int_equal(ph.number, 7);
	assert_string_equal(ph.service_dir, "app");
	assert_int_equal(ph.pass_mark, 30);
	assert_int_equal(ph.build_timeout_ms, 300000);
	assert_int_equal(ph.port, 8080);
	assert_int_equal(ph.nenv, 2);
	assert_string_equal(ph.env[0], "MODE=test");
	assert_string_equal(ph.env[1], "URL=http://x.invalid/?a=b");
	assert_int_equal(ph.memory_mb, 256);
	assert_int_equal(ph.pids, 64);
	assert_true(ph.cpus == 0.5);
	assert_int_equal(ph.start_timeout_ms, 5000);
	assert_int_equal(ph.nchecks, 3);
	assert_string_equal(ph.checks[2].id, "noshell");
	assert_int_equal(ph.checks[0].timeout_ms, 300000);
	/* hints per cause, in the file's order, 1 to 3 tiers each */
	assert_int_equal(ph.checks[0].ncauses, 2);
	assert_string_equal(ph.checks[0].causes[0].id, "parse-error");
	assert_int_equal(ph.checks[0].causes[0].ntiers, 3);
	assert_string_equal(ph.checks[0].causes[0].tiers[2], "write {corrected}");
	assert_ptr_equal(check_def_cause(&ph.checks[0], "base-image-missing"), &ph.checks[0].causes[1]);
	assert_int_equal(ph.checks[0].causes[1].ntiers, 1);
	assert_null(check_def_cause(&ph.checks[0], "parse-eror"));
	assert_null(check_def_cause(&ph.checks[0], NULL));
	assert_int_equal(ph.checks[1].ncauses, 0);
	phase_release(&ph);
	free(file);
	strbuf_release(&err);
}

/* Every optional key absent: the defaults phase.c documents. */
static void test_defaults(void **state)
{
	struct strbuf err = STRBUF_INIT;
	struct phase ph;
	char *file = fixture("good-defaults");

	(void)state;
	if (phase_load_file(file, &ph, &err) < 0)
		fail_msg("%s", err.buf);
	assert_string_equal(ph.service_dir, "service");
	assert_int_equal(ph.nrequires, 0);
	assert_int_equal(ph.nbase_images, 0);
	assert_int_equal(ph.build_timeout_ms, 600000);
	assert_int_equal(ph.port, 3000);
	assert_int_equal(ph.nenv, 0);
	assert_int_equal(ph.memory_mb, 512);
	assert_int_equal(ph.pids, 256);
	assert_true(ph.cpus == 1.0);
	assert_int_equal(ph.start_timeout_ms, 20000);
	assert_int_equal(ph.nchecks, 1);
	assert_int_equal(ph.checks[0].timeout_ms, 120000);
	assert_string_equal(ph.title, "Defaults");
	phase_release(&ph);
	free(file);
	strbuf_release(&err);
}

struct broken_row {
	const char *fixture;
	const char *key;      /* the key path, right after "FILE: " */
	const char *problem;  /* what the message must also say */
};

static const struct broken_row broken_rows[] = {
	{ "unknown-key", "colour", ": unknown key (known: schema, id, number, title," },
	{ "unknown-check-key", "checks[2].retries", ": unknown key (known: id, title, kind, points, timeout_s, graded, params, hints, causes)" },
	{ "unknown-param", "checks[1].params.max_gb", ": unknown key (known: max_mb, record, baseline_mb, baseline_from, min_reduction_percent, runtime_image)" },
	{ "pass-mark-string", "pass_mark", ": must be an integer" },
	{ "number-zero", "number", ": 0 is out of range (1 to 99)" },
	{ "port-out-of-range", "container.port", ": 70000 is out of range (1 to 65535)" },
	{ "cpus-out-of-range", "container.cpus", ": 0.05 is out of range (0.1 to 64)" },
	{ "unknown-kind", "checks[1].kind", ": unknown kind 'image-sise' (known: build image-size " },
	{ "duplicate-id", "checks[2].id", ": 'size' is already the id of checks[1]" },
	{ "missing-key", "title", ": missing (a string, required)" },
	{ "missing-check-key", "checks[0].points", ": missing (an integer, required)" },
	{ "missing-param", "checks[3].params.must_exclude", ": missing (an array of strings, required)" },
	{ "param-wrong-type", "checks[1].params.max_mb", ": must be a number" },
	{ "params-not-object", "checks[1].params", ": must be an object" },
	{ "check-not-object", "checks[1]", ": must be an object" },
	{ "no-checks", "checks", ": length 0 is out of range (1 to 64)" },
	{ "pass-mark-too-high", "pass_mark", ": 36 is more than the 35 points the checks give" },
	{ "env-not-string", "container.env.MODE", ": must be a string" },
	{ "bad-id", "id", ": 'Bad Id' is not an id" },
	{ "bad-check-id", "checks[2].id", ": 'No Shell' is not an id" },
	{ "bad-track", "track", ": 'Bad Track' is not a track's name (lowercase letters, digits, '-')" },
	{ "not-object", "(top level)", ": must be an object" },
	/* the lesson: good-steps/ with one change each */
	{ "step-unknown-check", "steps[1].checks[2]", ": no check has the id 'nosuch'" },
	{ "step-uncovered", "steps", ": no step verifies the check 'noshell'" },
	{ "step-lesson-outside", "steps[0].lesson", ": '../good/phase.json' must be a path inside the phase's folder" },
	{ "step-lesson-missing", "steps[1].lesson", ": no such file '" },
	{ "step-duplicate-id", "steps[1].id", ": 'build' is already the id of steps[0]" },
	{ "step-no-checks", "steps[1].checks", ": length 0 is out of range (1 to 64)" },
	{ "hints-too-many", "checks[1].hints", ": length 4 is out of range (1 to 3)" },
	{ "intro-missing", "intro", ": no such file '" },
	/* a language's variant: good-languages/ with one change each, named by its path in the file */
	{ "lang-unknown-key", "languages.python.colour", ": unknown key (known: container, base_images, checks)" },
	{ "lang-unknown-check", "languages.python.checks.xyz", ": the phase has no check with the id 'xyz' (checks: builds size noshell nonroot)" },
	{ "lang-check-unknown-key", "languages.python.checks.size.points", ": unknown key (known: title, params, hints, causes)" },
	{ "lang-param-wrong-type", "languages.python.checks.size.params.max_mb", ": must be a number" },
	{ "lang-unknown-param", "languages.python.checks.size.params.max_gb", ": unknown key (known: max_mb," },
	{ "lang-container-port", "languages.python.container.port", ": 0 is out of range (1 to 65535)" },
	{ "lang-env-not-string", "languages.python.container.env.MODE", ": must be a string" },
	{ "lang-own", "languages.node", ": 'node' is the phase's own language" },
	{ "lang-not-object", "languages.python", ": must be an object" },
	{ "lang-cause-unknown", "languages.python.checks.builds.causes.no-such", ": the kind build reports no such cause" },
	{ "lang-base-images-type", "languages.python.base_images", ": must be an array of strings" },
	/* a step's other services: folders beside the service_dir, each once */
	{ "step-services-path", "steps[1].services[1]", ": '../order-service' must be the name of a service folder beside 'app'" },
	{ "step-services-duplicate", "steps[1].services[1]", ": 'api-gateway' is already services[0]" },
	{ "step-services-empty", "steps[1].services", ": length 0 is out of range (1 to 16)" },
	/* hints per cause: only the causes the check's kind reports */
	{ "ungraded-with-points", "checks[2].points", ": a check that is not graded has 0 points, not 5" },
	{ "cause-unknown", "checks[0].causes.parse-eror", ": the kind build reports no such cause (it reports: parse-error " },
	{ "cause-kind-has-none", "checks[2].causes.parse-error", ": the kind no-shell reports no such cause (it reports: shell-in-base shell-copied)" },
	{ "cause-tiers-too-many", "checks[0].causes.parse-error", ": must be an array of 1 to 3 strings" },
	{ "cause-tier-not-string", "checks[0].causes.parse-error[1]", ": must be a string" },
	{ "causes-not-object", "checks[0].causes", ": must be an object" },
};

static void test_broken(void **state)
{
	struct phase good;
	struct strbuf err = STRBUF_INIT;
	char *file = fixture("good");

	(void)state;
	/* the pair's good half loads: each failure below is its one change */
	assert_int_equal(phase_load_file(file, &good, &err), 0);
	phase_release(&good);
	free(file);

	for (size_t i = 0; i < sizeof(broken_rows) / sizeof(broken_rows[0]); i++) {
		const struct broken_row *r = &broken_rows[i];
		struct phase ph;
		char *want;
		int rc;

		file = fixture(r->fixture);
		strbuf_reset(&err);
		rc = phase_load_file(file, &ph, &err);
		want = xasprintf("%s: %s%s", file, r->key, r->problem);
		if (rc != -1 || strncmp(err.buf, want, strlen(want)))
			print_error("%s: rc %d, message \"%s\"\n  expected \"%s...\"\n", r->fixture, rc,
				    err.buf, want);
		assert_int_equal(rc, -1);
		assert_int_equal(strncmp(err.buf, want, strlen(want)), 0);
		/* one line, lowercase after the location, no full stop */
		assert_null(strchr(err.buf, '\n'));
		assert_int_not_equal(err.buf[err.len - 1], '.');
		/* a failed load still releases cleanly (valgrind checks the rest) */
		phase_release(&ph);
		free(want);
		free(file);
	}
	strbuf_release(&err);
}

/* An unknown kind's message lists every kind there is. */
static void test_unknown_kind_lists_kinds(void **state)
{
	struct strbuf err = STRBUF_INIT;
	struct phase ph;
	char *file = fixture("unknown-kind");

	(void)state;
	assert_int_equal(phase_load_file(file, &ph, &err), -1);
	for (const struct check_kind *const *k = check_kinds; *k; k++) {
		char *word = xasprintf(" %s", (*k)->name);
		if (!strstr(err.buf, word))
			fail_msg("'%s' is not listed in \"%s\"", (*k)->name, err.buf);
		free(word);
	}
	phase_release(&ph);
	free(file);
	strbuf_release(&err);
}

/* Invalid JSON: the position, as FILE:LINE:COLUMN. */
static void test_invalid_json(void **state)
{
	static const struct {
		const char *fixture;
		const char *position;
		const char *problem;
	} rows[] = {
		/* the trailing comma after the last check; the ']' on line 23 is the error */
		{ "invalid-json", ":23:3: not valid JSON: ", "']'" },
		{ "duplicate-json-key", ":5:10: not valid JSON: ", "duplicate object key" },
	};
	struct strbuf err = STRBUF_INIT;

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct phase ph;
		char *file = fixture(rows[i].fixture);
		char *want = xasprintf("%s%s", file, rows[i].position);

		strbuf_reset(&err);
		assert_int_equal(phase_load_file(file, &ph, &err), -1);
		if (strncmp(err.buf, want, strlen(want)))
			print_error("got \"%s\", expected \"%s...\"\n", err.buf, want);
		assert_int_equal(strncmp(err.buf, want, strlen(want)), 0);
		assert_non_null(strstr(err.buf, rows[i].problem));
		phase_release(&ph);
		free(want);
		free(file);
	}

	/* a missing file: named, with the reason */
	{
		struct phase ph;
		char *file = fixture("no-such-fixture");

		strbuf_reset(&err);
		assert_int_equal(phase_load_file(file, &ph, &err), -1);
		assert_int_equal(strncmp(err.buf, file, strlen(file)), 0);
		assert_non_null(strstr(err.buf, "No such file"));
		phase_release(&ph);
		free(file);
	}
	strbuf_release(&err);
}

/* ---- phase_find, on a phases folder made for the test ---- */

static char find_root[PATH_MAX];

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static void add_phase(const char *id, const char *json)
{
	char *dir = xasprintf("%s/%s", find_root, id), *file = xasprintf("%s/phase.json", dir);

	assert_int_equal(mkdir(dir, 0755), 0);
	write_text(file, json);
	free(file);
	free(dir);
}

#define SMALL_PHASE(id, n) \
	"{ \"id\": \"" id "\", \"number\": " #n ", \"title\": \"t\", \"pass_mark\": 0, " \
	"\"checks\": [ { \"id\": \"builds\", \"title\": \"t\", \"kind\": \"build\", \"points\": 1 } ] }\n"

static int find_setup(void **state)
{
	const char *base = getenv("TMPDIR");

	(void)state;
	snprintf(find_root, sizeof(find_root), "%s/phaselab-phases-XXXXXX", base && *base ? base : "/tmp");
	if (!mkdtemp(find_root))
		return -1;
	add_phase("03-containerization", SMALL_PHASE("03-containerization", 3));
	add_phase("04-compose", SMALL_PHASE("04-compose", 4));
	add_phase("05-extra-a", SMALL_PHASE("05-extra-a", 5));
	add_phase("05-extra-b", SMALL_PHASE("05-extra-b", 5));
	add_phase("06-wrong", SMALL_PHASE("06-right", 6));
	add_phase("10-misc", SMALL_PHASE("10-misc", 10));
	return 0;
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

static int find_teardown(void **state)
{
	(void)state;
	return nftw(find_root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

#define KNOWN "(known: 03-containerization 04-compose 05-extra-a 05-extra-b 06-wrong 10-misc)"

struct find_row {
	const char *which;
	const char *id;       /* the phase found, or NULL */
	const char *message;  /* else the start of the message */
};

static const struct find_row find_rows[] = {
	{ "03-containerization", "03-containerization", NULL },
	{ "3", "03-containerization", NULL },
	{ "03", "03-containerization", NULL },
	{ "03-cont", "03-containerization", NULL },
	{ "4", "04-compose", NULL },
	{ "04-c", "04-compose", NULL },
	{ "10", "10-misc", NULL },
	{ "05-extra-b", "05-extra-b", NULL },   /* exact beats prefix */
	{ "05-extra", NULL, "ambiguous phase '05-extra' " KNOWN },
	{ "5", NULL, "ambiguous phase '5' " KNOWN },
	{ "nope", NULL, "no phase 'nope' " KNOWN },
	{ "1", NULL, "no phase '1' " KNOWN },
	{ "99", NULL, "no phase '99' " KNOWN },
	{ "06", NULL, NULL },                   /* message checked below */
};

static void test_find(void **state)
{
	struct strbuf err = STRBUF_INIT;

	(void)state;
	for (size_t i = 0; i < sizeof(find_rows) / sizeof(find_rows[0]); i++) {
		const struct find_row *r = &find_rows[i];
		struct phase ph;
		int rc;

		strbuf_reset(&err);
		rc = phase_find(find_root, r->which, &ph, &err);
		if (r->id) {
			if (rc)
				fail_msg("'%s': %s", r->which, err.buf);
			assert_string_equal(ph.id, r->id);
			assert_int_equal(err.len, 0);
		} else {
			assert_int_equal(rc, -1);
			if (r->message && strcmp(err.buf, r->message))
				fail_msg("'%s': \"%s\", expected \"%s\"", r->which, err.buf, r->message);
		}
		phase_release(&ph);
	}

	/* a folder whose file has another id */
	{
		struct phase ph;
		char *want = xasprintf("%s/06-wrong/phase.json: id: '06-right' differs from its folder's name '06-wrong'",
				       find_root);

		strbuf_reset(&err);
		assert_int_equal(phase_find(find_root, "06", &ph, &err), -1);
		assert_string_equal(err.buf, want);
		phase_release(&ph);
		free(want);
	}
	strbuf_release(&err);
}

/* The repository's own phases folder, through the root argument. */
static void test_find_repo(void **state)
{
	struct strbuf err = STRBUF_INIT;
	struct phase ph;
	char *root = xasprintf("%s/phases", repo_root());

	(void)state;
	if (phase_find(root, "3", &ph, &err) < 0)
		fail_msg("%s", err.buf);
	assert_string_equal(ph.id, "03-containerization");
	assert_int_equal(ph.nchecks, 9);
	phase_release(&ph);
	free(root);

	strbuf_reset(&err);
	assert_int_equal(phase_find("/nonexistent/phases", "3", &ph, &err), -1);
	assert_non_null(strstr(err.buf, "cannot read the phases folder '/nonexistent/phases'"));
	phase_release(&ph);
	strbuf_release(&err);
}

/*
 * Regression (fixed): phase_find lists every name in the phases folder as a known id, files
 * included: a phases/README.md shows up in "(known: ...)" and a prefix such
 * as "R" picks it and then fails on "README.md/phase.json".  Only folders
 * (holding a phase.json) are phases.
 */
static void test_find_ignores_files(void **state)
{
	struct strbuf err = STRBUF_INIT;
	struct phase ph;
	char *readme = xasprintf("%s/README.md", find_root);

	(void)state;
	write_text(readme, "# phases\n");
	assert_int_equal(phase_find(find_root, "nope", &ph, &err), -1);
	phase_release(&ph);
	unlink(readme);
	free(readme);
	if (strstr(err.buf, "README.md")) {
		print_error("a plain file is listed as a phase: \"%s\"\n", err.buf);
		strbuf_release(&err);
		fail();
	}
	strbuf_release(&err);
}

static void test_phases_root(void **state)
{
	char *old = getenv("PHASELAB_PHASES") ? xstrdup(getenv("PHASELAB_PHASES")) : NULL;
	char *root;

	(void)state;
	assert_int_equal(setenv("PHASELAB_PHASES", "/some/where/phases", 1), 0);
	root = phases_root();
	assert_string_equal(root, "/some/where/phases");
	free(root);
	if (old)
		setenv("PHASELAB_PHASES", old, 1);
	else
		unsetenv("PHASELAB_PHASES");
	free(old);
}

/* ---- the table of check kinds ---- */

static int valid_type(enum key_type t)
{
	switch (t) {
	case KEY_STRING: case KEY_INT: case KEY_NUMBER: case KEY_BOOL:
	case KEY_OBJECT: case KEY_ARRAY: case KEY_STRINGS: case KEY_INTS:
		return 1;
	}
	return 0;
}

/* A cause id: lowercase words joined by single '-' ("probe-wrong-port"). */
static int cause_id_ok(const char *id)
{
	if (!id[0] || id[0] == '-' || id[strlen(id) - 1] == '-' || strstr(id, "--") || strlen(id) > 64)
		return 0;
	return strspn(id, "abcdefghijklmnopqrstuvwxyz0123456789-") == strlen(id);
}

static void test_cause_id_rule(void **state)
{
	(void)state;
	assert_true(cause_id_ok("parse-error"));
	assert_true(cause_id_ok("probe-exit-127"));
	assert_false(cause_id_ok(""));
	assert_false(cause_id_ok("Parse-error"));
	assert_false(cause_id_ok("parse_error"));
	assert_false(cause_id_ok("-parse"));
	assert_false(cause_id_ok("parse-"));
	assert_false(cause_id_ok("parse--error"));
	assert_false(cause_id_ok("parse error"));
}

/* {evidence_key} placeholders, filled from a failing result's evidence. */
static void test_hint_fill(void **state)
{
	static const struct {
		const char *tmpl, *want;
	} rows[] = {
		{ "no placeholder", "no placeholder" },
		{ "line {line_number}: {line}", "line 14: EXPOES 3000" },
		{ "write {corrected} instead", "write EXPOSE 3000 instead" },
		{ "{ratio} of it", "0.5 of it" },
		/* absent, or not a string or number: the key's name in words */
		{ "run {command}", "run command" },
		{ "the {probe_exit_code}", "the probe exit code" },
		{ "{nested}", "nested" },
		{ "{flag}", "flag" },
		/* other braces are text: an engine's --format template, code, an unclosed one */
		{ "docker inspect --format '{{json .State.Health}}'", "docker inspect --format '{{json .State.Health}}'" },
		{ "-e \"x => { return 1; }\"", "-e \"x => { return 1; }\"" },
		{ "${PORT} and {Line}", "${PORT} and {Line}" },
		{ "open {line_number", "open {line_number" },
		{ "{}", "{}" },
		{ "{{line}}", "{{line}}" },
		{ "end {", "end {" },
	};
	json_t *ev = json_pack("{s:i, s:s, s:s, s:f, s:{}, s:b}", "line_number", 14, "line", "EXPOES 3000",
			       "corrected", "EXPOSE 3000", "ratio", 0.5, "nested", "flag", 1);
	struct strbuf out = STRBUF_INIT;
	struct strbuf big = STRBUF_INIT;

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		strbuf_reset(&out);
		hint_fill(&out, rows[i].tmpl, ev);
		if (strcmp(out.buf, rows[i].want))
			fail_msg("row %zu: \"%s\" gave \"%s\", expected \"%s\"", i, rows[i].tmpl, out.buf, rows[i].want);
	}
	/* no evidence at all: words, never a crash */
	strbuf_reset(&out);
	hint_fill(&out, "at {line_number}", NULL);
	assert_string_equal(out.buf, "at line number");
	/* a long value is cut, not in the middle of a character */
	for (int i = 0; i < HINT_FILL_MAX - 1; i++)
		strbuf_addch(&big, 'x');
	strbuf_addstr(&big, "\xc3\xa9tail");
	json_object_set_new(ev, "line", json_string(big.buf));
	strbuf_reset(&out);
	hint_fill(&out, "{line}", ev);
	assert_int_equal(out.len, HINT_FILL_MAX - 1 + 3);
	assert_string_equal(out.buf + out.len - 4, "x...");
	json_decref(ev);
	strbuf_release(&out);
	strbuf_release(&big);
}

static void test_check_table(void **state)
{
	size_t n = 0, makers = 0;

	(void)state;
	for (const struct check_kind *const *k = check_kinds; *k; k++, n++) {
		const struct check_kind *kind = *k;

		assert_non_null(kind->name);
		assert_true(kind->name[0] != '\0');
		assert_non_null(kind->summary);
		assert_true(kind->summary[0] != '\0');
		assert_non_null(kind->run);
		assert_non_null(kind->params);
		assert_true(kind->needs == NEED_NOTHING || kind->needs == NEED_IMAGE ||
			    kind->needs == NEED_CONTAINER);
		assert_ptr_equal(check_kind_find(kind->name), kind);
		/* the kind that makes the image needs none; the others may */
		makers += kind->makes_image != 0;
		if (kind->makes_image)
			assert_int_equal(kind->needs, NEED_NOTHING);
		for (const struct check_kind *const *o = check_kinds; o != k; o++) {
			if (!strcmp((*o)->name, kind->name))
				fail_msg("check kind '%s' is in the table twice", kind->name);
			assert_ptr_not_equal(*o, kind);
		}
		/* its parameters: each declared once, with a type, bounds and a doc line */
		for (const struct key_spec *s = kind->params; s->key; s++) {
			assert_true(s->key[0] != '\0');
			assert_true(valid_type(s->type));
			assert_true(s->min <= s->max);
			assert_non_null(s->doc);
			assert_true(s->doc[0] != '\0');
			for (const struct key_spec *t = kind->params; t != s; t++)
				if (!strcmp(t->key, s->key))
					fail_msg("%s: parameter '%s' declared twice", kind->name, s->key);
		}
		{
			struct strbuf err = STRBUF_INIT;
			if (spec_check_defaults(kind->params, &err) < 0)
				fail_msg("%s: %s", kind->name, err.buf);
			strbuf_release(&err);
		}
		/* its causes: well-formed ids, each declared once */
		for (const char *const *c = kind->causes; c && *c; c++) {
			if (!cause_id_ok(*c))
				fail_msg("%s: cause '%s' is not an id (lowercase words joined by '-')", kind->name, *c);
			assert_true(kind_has_cause(kind, *c));
			for (const char *const *d = kind->causes; d != c; d++)
				if (!strcmp(*c, *d))
					fail_msg("%s: cause '%s' declared twice", kind->name, *c);
		}
	}
	assert_int_equal(n, 14);
	assert_int_equal(makers, 1);
	assert_true(check_kind_find("build")->makes_image);
	assert_null(check_kind_find("nope"));
	assert_null(check_kind_find(""));
	assert_null(check_kind_find("buil"));   /* no prefixes here: phase files spell kinds out */
	assert_null(check_kind_find("Build"));
}

/* Steps, intro and hints load as written; without steps, one step holds every check. */
static void test_steps(void **state)
{
	struct strbuf err = STRBUF_INIT;
	struct phase ph;
	char *file = fixture("good-steps");

	(void)state;
	if (phase_load_file(file, &ph, &err) < 0)
		fail_msg("%s", err.buf);
	assert_string_equal(ph.intro, "intro.md");
	assert_int_equal(ph.nsteps, 2);
	assert_string_equal(ph.steps[0].id, "build");
	assert_string_equal(ph.steps[0].lesson, "steps/1-build.md");
	assert_int_equal(ph.steps[0].nchecks, 1);
	assert_int_equal(ph.steps[0].checks[0], 0);
	assert_int_equal(ph.steps[1].nchecks, 2);
	assert_string_equal(ph.checks[ph.steps[1].checks[1]].id, "noshell");
	assert_int_equal(phase_step_index(&ph, "slim"), 1);
	assert_int_equal(phase_step_index(&ph, "nosuch"), -1);
	assert_int_equal(ph.checks[1].nhints, 3);
	assert_string_equal(ph.checks[1].hints[0], "Which stage ends up in the image?");
	assert_int_equal(ph.checks[0].nhints, 0);
	phase_release(&ph);
	free(file);

	file = fixture("good");
	assert_int_equal(phase_load_file(file, &ph, &err), 0);
	assert_null(ph.intro);
	assert_int_equal(ph.nsteps, 1);
	assert_int_equal(ph.steps[0].nchecks, ph.nchecks);
	for (size_t i = 0; i < ph.nchecks; i++)
		assert_int_equal(ph.steps[0].checks[i], i);
	phase_release(&ph);
	free(file);
	strbuf_release(&err);
}

/*
 * A phase's variant for another language: merged over the phase (container
 * key by key, base images replaced, a check's params key by key, its title,
 * hints and causes replaced), and no variant for a language it lacks.
 */
static void test_languages(void **state)
{
	struct strbuf err = STRBUF_INIT;
	struct phase base, py, node;
	const struct check_def *size, *builds;
	char *file = fixture("good-languages");

	(void)state;
	if (phase_load_file(file, &base, &err) < 0)
		fail_msg("%s", err.buf);
	assert_string_equal(base.language, "node");
	assert_int_equal(base.port, 8080);

	/* its own language: a full copy, owning its own strings */
	assert_int_equal(phase_for_language(&base, "node", &node, &err), 0);
	assert_string_equal(node.language, "node");
	assert_int_equal(node.nchecks, base.nchecks);
	assert_ptr_not_equal(node.checks[0].id, base.checks[0].id);
	assert_string_equal(phase_check(&node, "size")->title, "The image is small");
	phase_release(&node);
	assert_int_equal(phase_for_language(&base, NULL, &node, &err), 0);
	assert_string_equal(node.language, "node");
	phase_release(&node);

	assert_int_equal(phase_for_language(&base, "python", &py, &err), 0);
	assert_string_equal(py.language, "python");
	assert_string_equal(py.id, base.id);
	assert_string_equal(py.file, base.file);
	/* container: the variant's keys, the phase's for the rest; env replaced whole */
	assert_int_equal(py.port, 8000);
	assert_int_equal(py.memory_mb, 256);
	assert_int_equal(py.pids, 64);
	assert_int_equal(py.nenv, 1);
	assert_string_equal(py.env[0], "MODE=test");
	assert_int_equal(py.nbase_images, 2);
	assert_string_equal(py.base_images[0], "python:3.11-slim");
	/* a check: title and hints replaced, params merged */
	size = phase_check(&py, "size");
	assert_string_equal(size->title, "The Python image is small");
	assert_int_equal(size->nhints, 1);
	assert_int_equal(json_integer_value(json_object_get(size->params, "max_mb")), 100);
	assert_string_equal(json_string_value(json_object_get(size->params, "runtime_image")),
			    "gcr.io/distroless/python3-debian12");
	/* causes replaced: only the variant's */
	builds = phase_check(&py, "builds");
	assert_int_equal(builds->ncauses, 1);
	assert_string_equal(builds->causes[0].tiers[0], "python's nudge for {image}");
	assert_null(check_def_cause(builds, "parse-error"));
	/* what the variant does not name is the phase's: checks, points, steps */
	assert_string_equal(phase_check(&py, "noshell")->title, "No shell");
	assert_int_equal(py.nchecks, base.nchecks);
	assert_int_equal(py.pass_mark, base.pass_mark);
	assert_int_equal(py.nsteps, 2);
	assert_int_equal(py.steps[1].nservices, 2);
	/* the base is untouched */
	assert_int_equal(base.port, 8080);
	assert_string_equal(phase_check(&base, "size")->title, "The image is small");
	assert_null(json_object_get(phase_check(&base, "size")->params, "runtime_image"));
	assert_int_equal(phase_check(&base, "builds")->ncauses, 2);
	/* the variant is no phase with variants of its own */
	strbuf_reset(&err);
	assert_int_equal(phase_for_language(&py, "node", &node, &err), 1);
	phase_release(&py);

	/* a language the phase has no checklist for: 1, out untouched */
	memset(&py, 0x5a, sizeof(py));
	strbuf_reset(&err);
	assert_int_equal(phase_for_language(&base, "ruby", &py, &err), 1);
	assert_string_equal(err.buf, "phase good has no checklist for ruby");
	assert_int_equal(py.port, 0x5a5a5a5a);
	phase_release(&base);
	free(file);

	/* a phase without variants: its language only */
	file = fixture("good");
	assert_int_equal(phase_load_file(file, &base, &err), 0);
	strbuf_reset(&err);
	assert_int_equal(phase_for_language(&base, "python", &py, &err), 1);
	assert_string_equal(err.buf, "phase good has no checklist for python");
	phase_release(&base);
	free(file);
	strbuf_release(&err);
}

/* A folder's checklist: the phase itself for its own language or none, else the variant. */
static void test_phase_for_dir(void **state)
{
	char tmpl[] = "/tmp/phaselab-fordir-XXXXXX";
	char *dir = mkdtemp(tmpl), *file = fixture("good-languages"), *manifest;
	struct strbuf err = STRBUF_INIT;
	struct phase base, variant;
	const struct phase *use = NULL;
	FILE *f;

	(void)state;
	assert_non_null(dir);
	if (phase_load_file(file, &base, &err) < 0)
		fail_msg("%s", err.buf);
	/* no manifest: undecided, the phase's own */
	assert_int_equal(phase_for_dir(&base, dir, &variant, &use, &err), 0);
	assert_ptr_equal(use, &base);
	/* a Python folder: the variant */
	manifest = xasprintf("%s/requirements.txt", dir);
	f = fopen(manifest, "w");
	assert_non_null(f);
	fclose(f);
	assert_int_equal(phase_for_dir(&base, dir, &variant, &use, &err), 0);
	assert_ptr_equal(use, &variant);
	assert_string_equal(use->language, "python");
	assert_int_equal(use->port, 8000);
	phase_release(&variant);
	/* a phase with no checklist for it: 1, naming the folder and its language */
	free(base.language);
	base.language = xstrdup("python");
	json_object_del(base.root, "languages");
	unlink(manifest);
	free(manifest);
	manifest = xasprintf("%s/package.json", dir);
	f = fopen(manifest, "w");
	fclose(f);
	strbuf_reset(&err);
	assert_int_equal(phase_for_dir(&base, dir, &variant, &use, &err), 1);
	assert_ptr_equal(use, &base);
	assert_non_null(strstr(err.buf, "has no checklist for node"));
	assert_non_null(strstr(err.buf, "holds a node service"));
	unlink(manifest);
	free(manifest);
	rmdir(dir);
	phase_release(&base);
	free(file);
	strbuf_release(&err);
}

/* A service's language, from its manifests: package.json wins; links are not followed. */
static void test_service_language(void **state)
{
	char tmpl[] = "/tmp/phaselab-lang-XXXXXX";
	char *dir = mkdtemp(tmpl), *path, *other;
	static const char *const python[] = { "requirements.txt", "pyproject.toml", "setup.py", "Pipfile", "main.py" };
	FILE *f;

	(void)state;
	assert_non_null(dir);
	assert_null(service_language(dir));
	assert_null(service_language(NULL));
	assert_null(service_language(""));
	assert_null(service_language("/nonexistent/phaselab"));
	for (size_t i = 0; i < sizeof(python) / sizeof(python[0]); i++) {
		path = xasprintf("%s/%s", dir, python[i]);
		f = fopen(path, "w");
		assert_non_null(f);
		fclose(f);
		assert_string_equal(service_language(dir), "python");
		unlink(path);
		free(path);
	}
	/* a folder called main.py is no entry point */
	path = xasprintf("%s/main.py", dir);
	assert_int_equal(mkdir(path, 0755), 0);
	assert_null(service_language(dir));
	rmdir(path);
	free(path);
	/* a link to a manifest elsewhere says nothing of this folder */
	other = xasprintf("%s/elsewhere.json", dir);
	f = fopen(other, "w");
	fclose(f);
	path = xasprintf("%s/package.json", dir);
	assert_int_equal(symlink(other, path), 0);
	assert_null(service_language(dir));
	unlink(path);
	/* both: node, whatever else is there */
	f = fopen(path, "w");
	fclose(f);
	assert_string_equal(service_language(dir), "node");
	free(path);
	path = xasprintf("%s/requirements.txt", dir);
	f = fopen(path, "w");
	fclose(f);
	assert_string_equal(service_language(dir), "node");
	unlink(path);
	free(path);
	path = xasprintf("%s/package.json", dir);
	unlink(path);
	free(path);
	unlink(other);
	free(other);
	rmdir(dir);
}

/* {service_dir}: the verified folder as the learner knows it, in a hint's text. */
static void test_hint_service_dir(void **state)
{
	json_t *ev = json_pack("{s:s, s:s}", "line", "COPY . .", "service_dir", "from-evidence");
	struct strbuf out = STRBUF_INIT;
	char *d;

	(void)state;
	hint_fill_dir(&out, "edit {service_dir}/Dockerfile at `{line}`", ev, "services/product-service");
	assert_string_equal(out.buf, "edit services/product-service/Dockerfile at `COPY . .`");
	/* without a folder, the key is filled as any other */
	strbuf_reset(&out);
	hint_fill_dir(&out, "{service_dir}/x", ev, NULL);
	assert_string_equal(out.buf, "from-evidence/x");
	/* plain hints: that key alone; other braces are text */
	strbuf_reset(&out);
	hint_fill_dir_only(&out, "mv {service_dir}/{file} {service_dir}/.dockerignore, {\"status\":\"ok\"} {{x}}",
			   "service");
	assert_string_equal(out.buf, "mv service/{file} service/.dockerignore, {\"status\":\"ok\"} {{x}}");
	strbuf_reset(&out);
	hint_fill_dir_only(&out, "{service_dir}/", NULL);
	assert_string_equal(out.buf, "{service_dir}/");
	/* {service}: the folder's last name, for the image and container names of a hint */
	strbuf_reset(&out);
	hint_fill_dir_only(&out, "docker logs {service} ({service}:latest, {service_dir})", "services/order-service/");
	assert_string_equal(out.buf, "docker logs order-service (order-service:latest, services/order-service/)");
	strbuf_reset(&out);
	hint_fill_dir(&out, "{service}-dev from {line}", ev, "/tmp/x/api-gateway");
	assert_string_equal(out.buf, "api-gateway-dev from COPY . .");

	d = hint_service_dir("/w/ws/services/product-service", "/w/ws");
	assert_string_equal(d, "services/product-service");
	free(d);
	d = hint_service_dir("/w/ws/service", "/w/ws/");
	assert_string_equal(d, "service");
	free(d);
	/* not inside: as given; a neighbour whose name starts the same is not inside */
	d = hint_service_dir("/w/ws2/service", "/w/ws");
	assert_string_equal(d, "/w/ws2/service");
	free(d);
	d = hint_service_dir("/w/ws", "/w/ws");
	assert_string_equal(d, "/w/ws");
	free(d);
	d = hint_service_dir("/tmp/x", NULL);
	assert_string_equal(d, "/tmp/x");
	free(d);
	json_decref(ev);
	strbuf_release(&out);
}

/*
 * Phase 3's Python checklist: the variant loads over the Node one with
 * Python's container, base images and parameters, and no hint of either
 * names the service folder but as {service_dir}.
 */
static void test_real_python_variant(void **state)
{
	struct strbuf err = STRBUF_INIT;
	struct phase node, py;
	char *file = real_phase();

	(void)state;
	if (phase_load_file(file, &node, &err) < 0)
		fail_msg("%s", err.buf);
	if (phase_for_language(&node, "python", &py, &err) != 0)
		fail_msg("%s", err.buf);
	assert_string_equal(node.language, "node");
	assert_string_equal(py.language, "python");
	assert_int_equal(py.port, 8000);
	for (size_t i = 0; i < py.nenv; i++)
		assert_null(strstr(py.env[i], "NODE_ENV"));
	assert_int_equal(py.nbase_images, 2);
	assert_string_equal(py.base_images[0], "python:3.11-slim");
	assert_string_equal(py.base_images[1], "gcr.io/distroless/python3-debian12");
	assert_int_equal(py.nchecks, node.nchecks);
	assert_int_equal(py.pass_mark, node.pass_mark);
	assert_string_equal(json_string_value(json_object_get(phase_check(&py, "cache")->params, "step")), "pip install");
	assert_string_equal(json_string_value(json_object_get(phase_check(&py, "size")->params, "runtime_image")),
			    "gcr.io/distroless/python3-debian12");
	assert_string_equal(json_string_value(json_object_get(phase_check(&py, "size")->params, "baseline_from")),
			    "02-dev-images");
	assert_string_equal(json_string_value(json_array_get(json_object_get(phase_check(&py, "dockerignore")->params,
									     "must_exclude"), 0)), "__pycache__");
	/* each cause the Python traps come from has its hints */
	assert_non_null(check_def_cause(phase_check(&py, "responds"), "module-not-found"));
	assert_non_null(check_def_cause(phase_check(&py, "responds"), "interpreter-missing"));
	assert_non_null(check_def_cause(phase_check(&py, "responds"), "library-missing"));
	assert_non_null(strstr(check_def_cause(phase_check(&py, "healthy"), "shell-form-no-shell")->tiers[2],
			       "{corrected}"));
	assert_non_null(strstr(phase_check(&py, "healthy")->hints[2], "/usr/bin/python3"));
	/* no Node left in Python's texts, and no folder written out */
	for (int v = 0; v < 2; v++) {
		const struct phase *ph = v ? &py : &node;
		for (size_t i = 0; i < ph->nchecks; i++) {
			const struct check_def *d = &ph->checks[i];
			for (size_t h = 0; h < d->nhints + d->ncauses; h++) {
				size_t nt = h < d->nhints ? 1 : d->causes[h - d->nhints].ntiers;
				for (size_t k = 0; k < nt; k++) {
					const char *t = h < d->nhints ? d->hints[h] : d->causes[h - d->nhints].tiers[k];
					const char *p;
					for (p = strstr(t, "service/"); p; p = strstr(p + 1, "service/"))
						if (p == t || (p[-1] != '-' && p[-1] != '{' && p[-1] != '_'))
							fail_msg("%s %s: a folder written out: %s", ph->language, d->id, t);
					if (v && (strstr(t, "npm") || strstr(t, "nodejs") || strstr(t, "3000")))
						fail_msg("python %s: Node's words: %s", d->id, t);
				}
			}
		}
	}
	phase_release(&py);
	phase_release(&node);
	free(file);
	strbuf_release(&err);
}

/* A step's "services": the folders it verifies instead of the phase's own. */
static void test_step_services(void **state)
{
	struct strbuf err = STRBUF_INIT;
	struct phase ph;
	char *file = fixture("good-languages");

	(void)state;
	if (phase_load_file(file, &ph, &err) < 0)
		fail_msg("%s", err.buf);
	assert_int_equal(ph.steps[0].nservices, 0);
	assert_null(ph.steps[0].services);
	assert_int_equal(ph.steps[1].nservices, 2);
	assert_string_equal(ph.steps[1].services[0], "api-gateway");
	assert_string_equal(ph.steps[1].services[1], "order-service");
	phase_release(&ph);
	free(file);
	strbuf_release(&err);
}

static char *phase_set_dir(const char *name)
{
	return xasprintf("%s/tests/fixtures/phase-sets/%s", repo_root(), name);
}

/* A phases folder loads in number order, and finds phases as --phase does. */
static void test_phase_set(void **state)
{
	struct strbuf err = STRBUF_INIT;
	struct phase_set set;
	char *root = phase_set_dir("good");

	(void)state;
	if (phase_set_load(root, &set, &err) < 0)
		fail_msg("%s", err.buf);
	assert_int_equal(set.n, 3);
	/* by number, not by name: "10-tenth" sorts before "02-second" as text */
	assert_string_equal(set.phases[0].id, "01-first");
	assert_string_equal(set.phases[1].id, "02-second");
	assert_string_equal(set.phases[2].id, "10-tenth");
	assert_ptr_equal(phase_set_find(&set, "10", &err), &set.phases[2]);
	assert_ptr_equal(phase_set_find(&set, "02-second", &err), &set.phases[1]);
	assert_ptr_equal(phase_set_find(&set, "01", &err), &set.phases[0]);
	assert_ptr_equal(phase_set_find(&set, "02-s", &err), &set.phases[1]);
	strbuf_reset(&err);
	assert_null(phase_set_find(&set, "0-", &err));
	assert_non_null(strstr(err.buf, "no phase '0-' (known: 01-first 02-second 10-tenth)"));
	phase_set_release(&set);
	free(root);

	/* the real curriculum loads as a set: its requirements all resolve */
	root = xasprintf("%s/phases", repo_root());
	strbuf_reset(&err);
	if (phase_set_load(root, &set, &err) < 0)
		fail_msg("%s", err.buf);
	phase_set_release(&set);
	free(root);
	strbuf_release(&err);
}

static void test_phase_set_broken(void **state)
{
	static const struct {
		const char *set, *file, *problem;
	} rows[] = {
		{ "unknown-require", "02-second/phase.json",
		  ": requires[0]: no phase has the id '01-frist' (known: 01-first 02-second)" },
		{ "cycle", "01-first/phase.json",
		  ": requires: the phases require each other in a cycle (01-first -> 03-third -> 02-second -> 01-first)" },
		{ "self", "01-first/phase.json",
		  ": requires: the phases require each other in a cycle (01-first -> 01-first)" },
		{ "same-number", "01-first/phase.json", ": number: 1 is also the number of " },
		/* tracks: a number is unique across them, requires stays within one */
		{ "track-same-number", NULL, ": number: 1 is also the number of " },
		{ "track-requires-across", "10-orchestra/phase.json", ": requires[0]: '01-first' is a phase of the "
		  "track 'workshop', and this phase is of the track 'other': a phase requires only phases of its own "
		  "track" },
		{ "track-unknown", "10-orchestra/phase.json", ": track: no track 'nosuch' (known: workshop, other)" },
		{ "track-without-file", "10-orchestra/phase.json", ": track: no track 'other' (known: workshop; "
		  "without a tracks.json the folder has only the workshop)" },
		{ "track-service-dir", "10-orchestra/phase.json", ": service_dir: 'service' is neither the folder "
		  "its track 'other' gives a workspace ('other-dir') nor a folder beneath it" },
		/* beneath it means beneath: not a name that starts the same, not a way out */
		{ "track-service-prefix", "10-orchestra/phase.json", ": service_dir: 'other-dir-old' is neither the "
		  "folder its track 'other' gives a workspace ('other-dir') nor a folder beneath it" },
		{ "track-service-escape", "10-orchestra/phase.json", ": service_dir: 'other-dir/../service' is neither "
		  "the folder its track 'other' gives a workspace ('other-dir') nor a folder beneath it" },
		{ "tracks-two-defaults", "tracks.json", ": tracks[1].default: 'workshop' is already the default "
		  "track; only one may be" },
		{ "tracks-no-default", "tracks.json", ": tracks: no track is the default" },
		{ "tracks-bad-name", "tracks.json", ": tracks[1].name: 'Other Track' is not a track's name" },
		{ "tracks-duplicate", "tracks.json", ": tracks[1].name: 'workshop' is the name of an earlier track" },
		{ "tracks-service-path", "tracks.json", ": tracks[1].service: '../service' must be a plain folder name" },
		{ "tracks-readme-outside", "tracks.json", ": tracks[1].readme: '../../etc/passwd' must be a relative "
		  "path inside the labs folder" },
		{ "tracks-unknown-key", "tracks.json", ": tracks[1].colour: unknown key" },
	};
	struct strbuf err = STRBUF_INIT;

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct phase_set set;
		char *root = phase_set_dir(rows[i].set);
		/* no file: either of two phases may be named (numbers tie), the problem is what counts */
		char *want = rows[i].file ? xasprintf("%s/%s%s", root, rows[i].file, rows[i].problem)
					  : xstrdup(rows[i].problem);

		strbuf_reset(&err);
		assert_int_equal(phase_set_load(root, &set, &err), -1);
		if (rows[i].file ? strncmp(err.buf, want, strlen(want)) != 0 : !strstr(err.buf, want))
			fail_msg("%s: got \"%s\"\n  expected \"%s...\"", rows[i].set, err.buf, want);
		/* one line, no full stop, as every loader message */
		assert_null(strchr(err.buf, '\n'));
		assert_int_not_equal(err.buf[err.len - 1], '.');
		phase_set_release(&set);
		free(want);
		free(root);
	}
	strbuf_release(&err);
}

/* Two tracks in one folder: the set, its view of one track, and the searches by TRACK/PHASE. */
static void test_tracks(void **state)
{
	struct strbuf err = STRBUF_INIT;
	struct phase_set set;
	const struct phase *of[8];
	const struct track *t;
	char *root = phase_set_dir("two-tracks");
	struct phase ph;

	(void)state;
	if (phase_set_load(root, &set, &err) < 0)
		fail_msg("%s", err.buf);
	assert_int_equal(set.n, 4);
	assert_int_equal(set.nall, 4);
	assert_int_equal(set.tracks.n, 2);
	assert_null(set.selected);
	/* the file's order; the default; a workspace folder that defaults to the service's name */
	t = track_default(&set.tracks);
	assert_string_equal(t->name, "workshop");
	assert_string_equal(t->workspace_dir, "service");
	assert_string_equal(t->about, "the service the phases work on");
	assert_null(t->summary);
	t = track_find(&set.tracks, "other");
	assert_non_null(t);
	assert_false(t->is_default);
	assert_string_equal(t->service, "other");
	assert_string_equal(t->workspace_dir, "other-dir");
	assert_string_equal(t->readme, "workspace/other/README.md");
	assert_string_equal(t->summary, "Its own service.");
	/* a phase without "track" is the workshop's */
	assert_string_equal(set.phases[0].track, "workshop");
	assert_string_equal(set.phases[2].track, "other");

	/* every view finds by number, id, prefix, and TRACK/PHASE */
	assert_ptr_equal(phase_set_find(&set, "10", &err), &set.phases[2]);
	assert_ptr_equal(phase_set_find(&set, "other/11", &err), &set.phases[3]);
	assert_ptr_equal(phase_set_find(&set, "other/11-tenor", &err), &set.phases[3]);
	assert_ptr_equal(phase_set_find(&set, "other/ten", &err), &set.phases[3]); /* past the number */
	assert_ptr_equal(phase_set_find(&set, "orch", &err), &set.phases[2]);
	assert_ptr_equal(phase_set_find(&set, "workshop/2", &err), &set.phases[1]);
	strbuf_reset(&err);
	assert_null(phase_set_find(&set, "other/1", &err));
	assert_string_equal(err.buf, "no phase '1' in the track 'other' (known: 10-orchestra 11-tenor)");
	strbuf_reset(&err);
	assert_null(phase_set_find(&set, "nosuch/1", &err));
	assert_string_equal(err.buf, "no track 'nosuch' (known: workshop, other)");
	assert_int_equal(phase_set_of_track(&set, t, of), 2);
	assert_string_equal(of[0]->id, "10-orchestra");

	/* a workspace's view: its track only, and a phase of another track named as such */
	strbuf_reset(&err);
	assert_int_equal(phase_set_select_track(&set, "other", &err), 0);
	assert_int_equal(set.n, 2);
	assert_int_equal(set.nall, 4);
	assert_string_equal(set.phases[0].id, "10-orchestra");
	assert_string_equal(set.phases[1].id, "11-tenor");
	assert_string_equal(set.selected->name, "other");
	assert_ptr_equal(phase_set_find(&set, "10", &err), &set.phases[0]);
	assert_ptr_equal(phase_set_find(&set, "other/orch", &err), &set.phases[0]);
	strbuf_reset(&err);
	assert_null(phase_set_find(&set, "2", &err));
	assert_string_equal(err.buf, "phase 2 (02-second) is of the track 'workshop', and this workspace follows the "
			    "track 'other'; `phaselab init --track workshop DIR` makes a workspace for it");
	strbuf_reset(&err);
	assert_null(phase_set_find(&set, "workshop/1", &err));
	assert_non_null(strstr(err.buf, "phase 1 (01-first) is of the track 'workshop'"));
	strbuf_reset(&err);
	assert_null(phase_set_find(&set, "99", &err));
	assert_string_equal(err.buf, "no phase '99' (known: 10-orchestra 11-tenor)");
	/* the phases out of view are still the track's, for list */
	t = track_find(&set.tracks, "workshop");
	assert_int_equal(phase_set_of_track(&set, t, of), 2);
	assert_string_equal(of[1]->id, "02-second");
	/* back to the other track; an unknown one leaves the view as it was */
	assert_int_equal(phase_set_select_track(&set, "workshop", &err), 0);
	assert_int_equal(set.n, 2);
	assert_string_equal(set.phases[0].id, "01-first");
	assert_string_equal(set.phases[1].id, "02-second");
	strbuf_reset(&err);
	assert_int_equal(phase_set_select_track(&set, "nosuch", &err), -1);
	assert_string_equal(err.buf, "no track 'nosuch' (known: workshop, other)");
	assert_string_equal(set.selected->name, "workshop");
	phase_set_release(&set);

	/* phase_find reads a TRACK/ prefix too, loading only what it needs */
	strbuf_reset(&err);
	assert_int_equal(phase_find(root, "other/10", &ph, &err), 0);
	assert_string_equal(ph.id, "10-orchestra");
	assert_string_equal(ph.track, "other");
	phase_release(&ph);
	strbuf_reset(&err);
	assert_int_equal(phase_find(root, "workshop/10", &ph, &err), -1);
	assert_string_equal(err.buf, "no phase '10' in the track 'workshop' (known: 01-first 02-second)");
	phase_release(&ph);
	strbuf_reset(&err);
	assert_int_equal(phase_find(root, "solo/1", &ph, &err), -1);
	assert_string_equal(err.buf, "no track 'solo' (known: workshop, other)");
	phase_release(&ph);
	free(root);

	/* without a tracks.json: the workshop alone, as before tracks */
	{
		struct track_set ts;
		char *good = phase_set_dir("good");

		strbuf_reset(&err);
		assert_int_equal(tracks_load(good, &ts, &err), 0);
		assert_null(ts.file);
		assert_int_equal(ts.n, 1);
		assert_string_equal(ts.tracks[0].name, "workshop");
		assert_string_equal(ts.tracks[0].service, "service");
		assert_string_equal(ts.tracks[0].readme, "workspace/README.md");
		assert_true(ts.tracks[0].is_default);
		track_set_release(&ts);
		free(good);
	}
	strbuf_release(&err);
}

/*
 * The real curriculum: the workshop (2, 3, on user-service among the services)
 * and the backend track (10, 11, 12), each in its own folder.
 */
static void test_real_tracks(void **state)
{
	static const struct { const char *track, *ids[4], *service, *dir, *phase_dir; } want[] = {
		{ "workshop", { "02-dev-images", "03-containerization", NULL }, "services", "services",
		  "services/user-service" },
		{ "backend", { "10-orchestrator-image", "11-task-definition", "12-publish", NULL }, "backend", "backend",
		  "backend" },
	};
	struct strbuf err = STRBUF_INIT;
	struct phase_set set;
	char *root = xasprintf("%s/phases", repo_root());

	(void)state;
	if (phase_set_load(root, &set, &err) < 0)
		fail_msg("%s", err.buf);
	assert_int_equal(set.tracks.n, 2);
	assert_string_equal(track_default(&set.tracks)->name, "workshop");
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const struct track *t = track_find(&set.tracks, want[i].track);
		const struct phase *of[8];
		size_t n, k;

		assert_non_null(t);
		assert_string_equal(t->service, want[i].service);
		assert_string_equal(t->workspace_dir, want[i].dir);
		n = phase_set_of_track(&set, t, of);
		for (k = 0; want[i].ids[k]; k++) {
			assert_true(k < n);
			assert_string_equal(of[k]->id, want[i].ids[k]);
			assert_string_equal(of[k]->service_dir, want[i].phase_dir);
		}
		assert_int_equal(n, k);
		/* the first of a track requires nothing, each other one the phase before it */
		assert_int_equal(of[0]->nrequires, 0);
		for (k = 1; k < n; k++) {
			assert_int_equal(of[k]->nrequires, 1);
			assert_string_equal(of[k]->requires[0], of[k - 1]->id);
		}
	}
	/* the ids DESIGN.md fixes, by their new spellings too */
	assert_string_equal(phase_set_find(&set, "backend/10-orchestrator-image", &err)->id, "10-orchestrator-image");
	assert_string_equal(phase_set_find(&set, "backend/10", &err)->id, "10-orchestrator-image");
	assert_string_equal(phase_set_find(&set, "backend/orch", &err)->id, "10-orchestrator-image");
	assert_string_equal(phase_set_find(&set, "12", &err)->id, "12-publish");
	assert_string_equal(phase_set_find(&set, "3", &err)->id, "03-containerization");
	assert_string_equal(phase_set_find(&set, "02-dev-images", &err)->id, "02-dev-images");
	phase_set_release(&set);
	free(root);
	strbuf_release(&err);
}

/* Every default in every table is of its key's type and within its bounds; a planted bad one is caught. */
static void test_declared_defaults(void **state)
{
	static const struct key_spec bad[][2] = {
		{ { "n", KEY_INT, 0, 1, 10, "a number", "11" }, { NULL, 0, 0, 0, 0, NULL, NULL } },
		{ { "n", KEY_INT, 0, 1, 10, "a number", "2x" }, { NULL, 0, 0, 0, 0, NULL, NULL } },
		{ { "b", KEY_BOOL, 0, 0, 0, "a flag", "yes" }, { NULL, 0, 0, 0, 0, NULL, NULL } },
		{ { "s", KEY_STRING, 0, 1, 3, "a word", "long" }, { NULL, 0, 0, 0, 0, NULL, NULL } },
		{ { "s", KEY_STRING, 1, 1, 3, "required", "ab" }, { NULL, 0, 0, 0, 0, NULL, NULL } },
	};
	struct strbuf err = STRBUF_INIT;
	json_t *empty = json_object(), *words;

	(void)state;
	for (const struct key_spec *const *t = phase_key_tables; *t; t++)
		if (spec_check_defaults(*t, &err) < 0)
			fail_msg("phase file: %s", err.buf);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		strbuf_reset(&err);
		assert_int_equal(spec_check_defaults(bad[i], &err), -1);
		assert_non_null(strstr(err.buf, bad[i][0].key));
	}
	/* the getters fall back on the table's default */
	assert_int_equal(spec_int(empty, phase_key_tables[2], "memory_mb"), 512);
	assert_string_equal(spec_str(empty, phase_key_tables[0], "service_dir"), "service");
	words = spec_strs(empty, check_kind_find("no-shell")->params, "shells");
	assert_int_equal(json_array_size(words), 5);
	assert_string_equal(json_string_value(json_array_get(words, 4)), "busybox");
	json_decref(words);
	json_decref(empty);
	strbuf_release(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_real_phase),
		cmocka_unit_test(test_build_hints_stay_in_step_1),
		cmocka_unit_test(test_good_fixture),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_broken),
		cmocka_unit_test(test_steps),
		cmocka_unit_test(test_languages),
		cmocka_unit_test(test_phase_for_dir),
		cmocka_unit_test(test_step_services),
		cmocka_unit_test(test_service_language),
		cmocka_unit_test(test_hint_service_dir),
		cmocka_unit_test(test_real_python_variant),
		cmocka_unit_test(test_phase_set),
		cmocka_unit_test(test_phase_set_broken),
		cmocka_unit_test(test_tracks),
		cmocka_unit_test(test_real_tracks),
		cmocka_unit_test(test_unknown_kind_lists_kinds),
		cmocka_unit_test(test_invalid_json),
		cmocka_unit_test(test_find),
		cmocka_unit_test(test_find_repo),
		cmocka_unit_test(test_find_ignores_files), /* regression, see above */
		cmocka_unit_test(test_phases_root),
		cmocka_unit_test(test_check_table),
		cmocka_unit_test(test_cause_id_rule),
		cmocka_unit_test(test_hint_fill),
		cmocka_unit_test(test_declared_defaults),
	};
	int failed;

	/* the phase_find tests share one phases folder; the others ignore it */
	failed = cmocka_run_group_tests(tests, find_setup, find_teardown);
	return failed;
}
