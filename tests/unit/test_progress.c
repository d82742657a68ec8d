/*
 * Tests for the learner's progress (runner/progress.c): the state machine
 * over the phases of tests/fixtures/phase-sets/good and the steps of
 * tests/fixtures/phases/good-steps, and the file: a round trip, atomic
 * replacement, and refusals of damaged or hand-edited files naming the key.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/fsutil.h"
#include "learn/progress.h"
#include "lib/xalloc.h"

static const char *repo_root(void)
{
	const char *r = getenv("PHASELAB_ROOT");
	return r && *r ? r : ".";
}

static char tmpdir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/phaselab-test-progress.XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	return remove_tree(tmpdir);
}

static char *tmpfile_(const char *name)
{
	return xasprintf("%s/%s", tmpdir, name);
}

static void load_set(struct phase_set *set)
{
	struct strbuf err = STRBUF_INIT;
	char *root = xasprintf("%s/tests/fixtures/phase-sets/good", repo_root());

	if (phase_set_load(root, set, &err) < 0)
		fail_msg("%s", err.buf);
	free(root);
	strbuf_release(&err);
}

static void load_steps_phase(struct phase *ph)
{
	struct strbuf err = STRBUF_INIT;
	char *file = xasprintf("%s/tests/fixtures/phases/good-steps/phase.json", repo_root());

	if (phase_load_file(file, ph, &err) < 0)
		fail_msg("%s", err.buf);
	free(file);
	strbuf_release(&err);
}

/* A report with the given checks, each "id:status", passed when every one passes. */
static void make_report(struct report *r, const char *const *rows, size_t n)
{
	memset(r, 0, sizeof(*r));
	r->checks = xcalloc(n, sizeof(*r->checks));
	r->nchecks = n;
	for (size_t i = 0; i < n; i++) {
		const char *colon = strchr(rows[i], ':');
		struct check_result *c = &r->checks[i];

		c->id = xstrndup(rows[i], (size_t)(colon - rows[i]));
		c->kind = xstrdup(!strcmp(c->id, "size") ? "image-size" : "other");
		c->status = !strcmp(colon + 1, "pass") ? CHECK_PASS : CHECK_FAIL;
		c->max_points = 10;
		c->points = c->status == CHECK_PASS ? 10 : 0;
		c->evidence = !strcmp(c->id, "size") ? json_pack("{s:I}", "bytes", (json_int_t)123000000) :
						       json_object();
		c->message = xstrdup("m");
	}
	r->pass_mark = 10 * (int)n;
	report_tally(r);
}

static void test_states(void **state)
{
	struct phase_set set;
	struct progress pg;
	struct strbuf err = STRBUF_INIT;
	const char *needs = NULL;
	char *file = tmpfile_("none.json");

	(void)state;
	load_set(&set);
	/* no file: a fresh start, the first phase open and the rest locked */
	assert_int_equal(progress_load(file, &pg, &err), 0);
	assert_int_equal(progress_state(&pg, &set.phases[0], NULL), PHASE_OPEN);
	assert_int_equal(progress_state(&pg, &set.phases[1], &needs), PHASE_LOCKED);
	assert_string_equal(needs, "01-first");
	assert_ptr_equal(progress_current(&pg, &set), &set.phases[0]);

	/* the first passes: the second opens; the tenth still waits for the second */
	progress_phase(&pg, "01-first", 1)->passed_at = xstrdup("2026-11-23T10:00:00Z");
	assert_int_equal(progress_state(&pg, &set.phases[0], NULL), PHASE_PASSED);
	assert_int_equal(progress_state(&pg, &set.phases[1], NULL), PHASE_OPEN);
	assert_int_equal(progress_state(&pg, &set.phases[2], &needs), PHASE_LOCKED);
	assert_string_equal(needs, "02-second");
	assert_ptr_equal(progress_current(&pg, &set), &set.phases[1]);

	progress_phase(&pg, "02-second", 1)->passed_at = xstrdup("2026-11-23T11:00:00Z");
	progress_phase(&pg, "10-tenth", 1)->passed_at = xstrdup("2026-11-23T12:00:00Z");
	assert_null(progress_current(&pg, &set));
	progress_release(&pg);
	phase_set_release(&set);
	strbuf_release(&err);
	free(file);
}

static void test_steps_advance(void **state)
{
	static const char *const step1_fail[] = { "builds:fail" };
	static const char *const step1_pass[] = { "builds:pass" };
	static const char *const step2_fail[] = { "builds:pass", "size:pass", "noshell:fail" };
	static const char *const step2_pass[] = { "builds:pass", "size:pass", "noshell:pass" };
	unsigned char only[3];
	struct phase ph;
	struct progress pg = { 0 };
	struct report r;

	(void)state;
	load_steps_phase(&ph);
	assert_int_equal(progress_step(&pg, &ph), 0);
	/* step 1 verifies its checks; step 2 verifies its own and step 1's */
	progress_step_checks(&ph, 0, only);
	assert_memory_equal(only, ((unsigned char[]){ 1, 0, 0 }), 3);
	progress_step_checks(&ph, 1, only);
	assert_memory_equal(only, ((unsigned char[]){ 1, 1, 1 }), 3);

	make_report(&r, step1_fail, 1);
	assert_int_equal(progress_record(&pg, &ph, 0, &r, "t1"), STEP_NOT_DONE);
	assert_int_equal(progress_step(&pg, &ph), 0);
	report_release(&r);

	progress_set_hint_level(progress_phase(&pg, ph.id, 1), "builds", NULL, 2);
	make_report(&r, step1_pass, 1);
	assert_int_equal(progress_record(&pg, &ph, 0, &r, "t2"), STEP_DONE);
	assert_int_equal(progress_step(&pg, &ph), 1);
	/* a check that passes forgets the hints shown for its failure */
	assert_int_equal(progress_hint_level(progress_phase(&pg, ph.id, 0), "builds", NULL), 0);
	report_release(&r);

	/* the last step: every check must pass, and the pass mark decides the phase */
	make_report(&r, step2_fail, 3);
	assert_int_equal(progress_record(&pg, &ph, 1, &r, "t3"), STEP_NOT_DONE);
	assert_null(progress_phase(&pg, ph.id, 0)->passed_at);
	/* the size check passed: its measure is recorded for later phases */
	assert_int_equal(progress_phase(&pg, ph.id, 0)->image_bytes, 123000000);
	report_release(&r);

	make_report(&r, step2_pass, 3);
	assert_int_equal(progress_record(&pg, &ph, 1, &r, "2026-11-23T12:00:00Z"), PHASE_DONE);
	assert_string_equal(progress_phase(&pg, ph.id, 0)->passed_at, "2026-11-23T12:00:00Z");
	assert_int_equal(progress_phase(&pg, ph.id, 0)->score, 30);
	report_release(&r);

	/* below every check but at the pass mark, the last step passes the phase, as check does */
	free(progress_phase(&pg, ph.id, 0)->passed_at);
	progress_phase(&pg, ph.id, 0)->passed_at = NULL;
	make_report(&r, step2_fail, 3);
	r.pass_mark = 20;
	report_tally(&r);
	assert_true(r.passed);
	assert_int_equal(progress_record(&pg, &ph, 1, &r, "t5"), PHASE_DONE);
	report_release(&r);
	/* but an earlier step needs every one of its checks */
	make_report(&r, step2_fail, 3);
	r.pass_mark = 0;
	report_tally(&r);
	assert_int_equal(progress_record(&pg, &ph, 0, &r, "t6"), STEP_NOT_DONE);
	report_release(&r);

	/* a step id the phase no longer has */
	free(progress_phase(&pg, ph.id, 0)->step);
	progress_phase(&pg, ph.id, 0)->step = xstrdup("gone");
	assert_int_equal(progress_step(&pg, &ph), -1);
	progress_release(&pg);
	phase_release(&ph);
}

/* A failing check's result whose evidence names cause (NULL: none), as a report read back holds it. */
static void make_failure(struct report *r, const char *check, const char *cause)
{
	static const char *rows[1];
	char *row = xasprintf("%s:fail", check);

	rows[0] = row;
	make_report(r, rows, 1);
	if (cause)
		json_object_set_new(r->checks[0].evidence, "cause", json_string(cause));
	free(row);
}

/* The tiers are per cause: a failure of another cause starts them over, from the nudge. */
static void test_hint_level_per_cause(void **state)
{
	struct phase ph;
	struct progress pg = { 0 };
	struct phase_progress *pp;
	struct report r;

	(void)state;
	load_steps_phase(&ph);
	pp = progress_phase(&pg, ph.id, 1);
	progress_set_hint_level(pp, "builds", "parse-error", 2);
	assert_int_equal(progress_hint_level(pp, "builds", "parse-error"), 2);
	/* asked for another cause, or for none, the level is 0 */
	assert_int_equal(progress_hint_level(pp, "builds", "base-image-missing"), 0);
	assert_int_equal(progress_hint_level(pp, "builds", NULL), 0);
	assert_int_equal(progress_hint_level(pp, "size", "parse-error"), 0);

	/* the same cause fails again: the level stays */
	make_failure(&r, "builds", "parse-error");
	assert_int_equal(progress_record(&pg, &ph, 0, &r, "t1"), STEP_NOT_DONE);
	report_release(&r);
	pp = progress_phase(&pg, ph.id, 0);
	assert_int_equal(progress_hint_level(pp, "builds", "parse-error"), 2);

	/* a new cause: forgotten, and the new cause's tiers count from 0 */
	make_failure(&r, "builds", "copy-source-missing");
	assert_int_equal(progress_record(&pg, &ph, 0, &r, "t2"), STEP_NOT_DONE);
	report_release(&r);
	pp = progress_phase(&pg, ph.id, 0);
	assert_int_equal(progress_hint_level(pp, "builds", "parse-error"), 0);
	assert_int_equal(progress_hint_level(pp, "builds", "copy-source-missing"), 0);
	progress_set_hint_level(pp, "builds", "copy-source-missing", 1);
	assert_int_equal(progress_hint_level(pp, "builds", "copy-source-missing"), 1);

	/* no cause identified after one was: also a restart */
	make_failure(&r, "builds", NULL);
	progress_record(&pg, &ph, 0, &r, "t3");
	report_release(&r);
	pp = progress_phase(&pg, ph.id, 0);
	assert_int_equal(progress_hint_level(pp, "builds", NULL), 0);
	assert_int_equal(progress_hint_level(pp, "builds", "copy-source-missing"), 0);
	progress_release(&pg);
	phase_release(&ph);
}

static void test_round_trip(void **state)
{
	struct strbuf err = STRBUF_INIT, text = STRBUF_INIT;
	struct progress pg, back;
	struct phase_progress *pp;
	char *file = tmpfile_("progress.json");

	(void)state;
	assert_int_equal(progress_load(file, &pg, &err), 0);
	pp = progress_phase(&pg, "02-dev-images", 1);
	pp->passed_at = xstrdup("2026-11-23T10:00:00.123Z");
	pp->score = pp->max_score = 100;
	pp->image_bytes = 1134567890;
	pp = progress_phase(&pg, "03-containerization", 1);
	pp->step = xstrdup("dockerignore");
	progress_set_hint_level(pp, "dockerignore", NULL, 2);
	progress_set_hint_level(pp, "builds", "unknown-instruction", 3);
	assert_int_equal(progress_save(&pg, &err), 0);

	assert_int_equal(progress_load(file, &back, &err), 0);
	assert_int_equal(back.n, 2);
	assert_string_equal(back.phases[0].id, "02-dev-images");
	assert_int_equal(back.phases[0].image_bytes, 1134567890);
	assert_int_equal(back.phases[0].score, 100);
	assert_string_equal(back.phases[1].step, "dockerignore");
	assert_int_equal(progress_hint_level(&back.phases[1], "dockerignore", NULL), 2);
	/* a level kept with its cause comes back with it */
	assert_int_equal(progress_hint_level(&back.phases[1], "builds", "unknown-instruction"), 3);
	assert_int_equal(progress_hint_level(&back.phases[1], "builds", NULL), 0);
	/* the write is a rename: no temporary file is left beside it */
	assert_int_equal(access(file, F_OK), 0);
	{
		char *tmp = xasprintf("%s.tmp.%ld", file, (long)getpid());
		assert_int_not_equal(access(tmp, F_OK), 0);
		free(tmp);
	}
	assert_int_equal(read_file_nofollow(file, 1 << 20, &text), 0);
	assert_non_null(strstr(text.buf, "\"schema\": \"phaselab.progress/v1\""));
	progress_release(&pg);
	progress_release(&back);
	strbuf_release(&err);
	strbuf_release(&text);
	free(file);
}

/* Phase 2 measures every service: each size under its folder, the phase's own one where it always was. */
static void test_sizes_per_service(void **state)
{
	static const char *const all_pass[] = { "builds:pass", "size:pass", "noshell:pass" };
	static const char *const size_fail[] = { "builds:pass", "size:fail", "noshell:pass" };
	struct strbuf err = STRBUF_INIT;
	struct progress pg = { 0 }, back;
	struct phase_progress *pp;
	struct phase ph;
	struct report r;
	char *file = tmpfile_("sizes.json");
	FILE *f;

	(void)state;
	load_steps_phase(&ph);
	assert_int_equal(progress_load(file, &pg, &err), 0);
	make_report(&r, all_pass, 3);
	assert_int_equal(progress_record_service(&pg, &ph, "services/order-service", &r), 1);
	report_release(&r);
	make_report(&r, all_pass, 3);
	assert_int_equal(progress_record_service(&pg, &ph, ph.service_dir, &r), 1);
	report_release(&r);
	make_report(&r, size_fail, 3);
	/* a failing size check records nothing, and the service did not pass */
	assert_int_equal(progress_record_service(&pg, &ph, "services/product-service", &r), 0);
	report_release(&r);
	pp = progress_phase(&pg, ph.id, 0);
	assert_int_equal(pp->image_bytes, 123000000);
	assert_int_equal(pp->nsizes, 1);
	assert_int_equal(progress_image_bytes(pp, "services/order-service", ph.service_dir), 123000000);
	assert_int_equal(progress_image_bytes(pp, ph.service_dir, ph.service_dir), 123000000);
	assert_int_equal(progress_image_bytes(pp, "services/product-service", ph.service_dir), 0);
	progress_set_image_bytes(pp, "services/order-service", 456000000);
	assert_int_equal(progress_image_bytes(pp, "services/order-service", ph.service_dir), 456000000);
	/* the step moves on only when every service passed */
	assert_int_equal(progress_advance(&pg, &ph, 0, 0, 0, 0, "t1"), STEP_NOT_DONE);
	assert_int_equal(progress_advance(&pg, &ph, 0, 1, 0, 0, "t2"), STEP_DONE);
	assert_int_equal(progress_advance(&pg, &ph, 1, 1, 60, 60, "2026-12-03T12:00:00Z"), PHASE_DONE);
	assert_int_equal(progress_phase(&pg, ph.id, 0)->score, 60);
	assert_int_equal(progress_save(&pg, &err), 0);
	assert_int_equal(progress_load(file, &back, &err), 0);
	assert_int_equal(progress_image_bytes(&back.phases[0], "services/order-service", ph.service_dir), 456000000);
	assert_int_equal(progress_image_bytes(&back.phases[0], NULL, NULL), 123000000);
	progress_release(&back);
	progress_release(&pg);

	/* a file from before several services: its size is the phase's own service's, and no other's */
	f = fopen(file, "w");
	fputs("{\"schema\": \"phaselab.progress/v1\", \"phases\": {\"02-dev-images\": "
	      "{\"passed_at\": \"2026-11-23T10:00:00Z\", \"score\": 100, \"max_score\": 100, "
	      "\"image_bytes\": 1134567890}}}", f);
	fclose(f);
	assert_int_equal(progress_load(file, &back, &err), 0);
	assert_int_equal(progress_image_bytes(&back.phases[0], "services/user-service", "services/user-service"),
			 1134567890);
	assert_int_equal(progress_image_bytes(&back.phases[0], "services/api-gateway", "services/user-service"), 0);
	progress_release(&back);
	phase_release(&ph);
	strbuf_release(&err);
	free(file);
}

static void test_damaged(void **state)
{
	static const struct {
		const char *text, *key;
	} rows[] = {
		{ "", ":1:0: not valid JSON" },
		{ "{\"schema\": \"phaselab.progress/v1\", \"phases\": {", ":1:" },
		{ "[]", ": (top level): must be an object" },
		{ "{\"phases\": {}}", ": schema: missing" },
		{ "{\"schema\": \"phaselab.progress/v9\", \"phases\": {}}", ": schema: 'phaselab.progress/v9' is not" },
		{ "{\"schema\": \"phaselab.progress/v1\", \"phases\": []}", ": phases: must be an object" },
		{ "{\"schema\": \"phaselab.progress/v1\", \"phases\": {\"03\": {\"step\": 7}}}",
		  ": phases.03.step: must be a string" },
		{ "{\"schema\": \"phaselab.progress/v1\", \"phases\": {\"03\": {\"colour\": 1}}}",
		  ": phases.03.colour: unknown key" },
		{ "{\"schema\": \"phaselab.progress/v1\", \"phases\": {\"03\": {\"passed_at\": \"yesterday\"}}}",
		  ": phases.03.passed_at: 'yesterday' is not a time" },
		{ "{\"schema\": \"phaselab.progress/v1\", \"phases\": {\"03\": {\"hints\": {\"size\": 99}}}}",
		  ": phases.03.hints.size: must be an integer from 0 to 9" },
		{ "{\"schema\": \"phaselab.progress/v1\", \"phases\": {\"03\": {\"hints\": {\"size\": {\"level\": 1}}}}}",
		  ": phases.03.hints.size.cause: missing" },
		{ "{\"schema\": \"phaselab.progress/v1\", \"phases\": {\"03\": {\"hints\": {\"size\": "
		  "{\"cause\": \"x\", \"level\": 12}}}}}",
		  ": phases.03.hints.size.level: 12 is out of range" },
		{ "{\"schema\": \"phaselab.progress/v1\", \"phases\": {\"03\": {\"image_bytes\": -5}}}",
		  ": phases.03.image_bytes: -5 is out of range" },
		{ "{\"schema\": \"phaselab.progress/v1\", \"phases\": {\"02\": {\"images\": {\"services/x\": 0}}}}",
		  ": phases.02.images.services/x: must be a size in bytes" },
		{ "{\"schema\": \"phaselab.progress/v1\", \"phases\": {\"02\": {\"images\": [1]}}}",
		  ": phases.02.images: must be an object" },
		{ "{\"schema\": \"phaselab.progress/v1\", \"schema\": \"x\", \"phases\": {}}", "not valid JSON" },
		{ "{\"schema\": \"phaselab.progress/v1\", \"track\": 10, \"phases\": {}}", ": track: must be a string" },
		{ "{\"schema\": \"phaselab.progress/v1\", \"track\": \"\", \"phases\": {}}", ": track: " },
	};
	struct strbuf err = STRBUF_INIT;
	char *file = tmpfile_("damaged.json");

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct progress pg;
		char *want = xasprintf("%s%s", file, rows[i].key);
		FILE *f = fopen(file, "w");

		fputs(rows[i].text, f);
		fclose(f);
		strbuf_reset(&err);
		assert_int_equal(progress_load(file, &pg, &err), -1);
		if (!strstr(err.buf, rows[i].key) || strncmp(err.buf, file, strlen(file)))
			fail_msg("row %zu: got \"%s\", expected \"%s...\"", i, err.buf, want);
		progress_release(&pg);
		free(want);
	}
	strbuf_release(&err);
	free(file);
}

/*
 * The workspace's track: written by init (progress_write_empty), kept by a
 * round trip, absent in a file made before tracks; read leniently from a
 * file that is otherwise damaged, as reset does.
 */
static void test_track(void **state)
{
	static const struct { const char *text, *track; } peek[] = {
		{ "{\"schema\": \"phaselab.progress/v1\", \"track\": \"backend\", \"phases\": {}}", "backend" },
		{ "{\"schema\": \"phaselab.progress/v1\", \"phases\": {}}", NULL },       /* before tracks */
		{ "{\"track\": \"backend\", \"phases\": {\"10\": {\"colour\": 1}}}", "backend" }, /* damaged */
		{ "{\"track\": \"backend\", \"phases\": {", NULL },                       /* not JSON */
		{ "{\"track\": 10}", NULL },
		{ "", NULL },
	};
	struct strbuf err = STRBUF_INIT, text = STRBUF_INIT;
	struct progress pg, back;
	char *file = tmpfile_("track.json");

	(void)state;
	assert_int_equal(progress_write_empty(file, "backend", &err), 0);
	assert_int_equal(progress_load(file, &pg, &err), 0);
	assert_string_equal(pg.track, "backend");
	assert_int_equal(pg.n, 0);
	progress_phase(&pg, "10-orchestrator-image", 1)->step = xstrdup("curl");
	assert_int_equal(progress_save(&pg, &err), 0);
	assert_int_equal(progress_load(file, &back, &err), 0);
	assert_string_equal(back.track, "backend");
	assert_string_equal(back.phases[0].step, "curl");
	progress_release(&pg);
	progress_release(&back);

	/* no track: none written, none read (the workspace is the default track's) */
	assert_int_equal(progress_write_empty(file, NULL, &err), 0);
	assert_int_equal(read_file_nofollow(file, 1 << 20, &text), 0);
	assert_null(strstr(text.buf, "track"));
	assert_int_equal(progress_load(file, &pg, &err), 0);
	assert_null(pg.track);
	progress_release(&pg);

	for (size_t i = 0; i < sizeof(peek) / sizeof(peek[0]); i++) {
		FILE *f = fopen(file, "w");
		char *t;

		fputs(peek[i].text, f);
		fclose(f);
		t = progress_peek_track(file);
		if (peek[i].track ? !t || strcmp(t, peek[i].track) : t != NULL)
			fail_msg("row %zu: peeked '%s', expected '%s'", i, t ? t : "(none)",
				 peek[i].track ? peek[i].track : "(none)");
		free(t);
	}
	unlink(file);
	assert_null(progress_peek_track(file));
	strbuf_release(&err);
	strbuf_release(&text);
	free(file);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_states),
		cmocka_unit_test(test_steps_advance),
		cmocka_unit_test(test_hint_level_per_cause),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_sizes_per_service),
		cmocka_unit_test(test_damaged),
		cmocka_unit_test(test_track),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
