/*
 * A class over several engines (runner/grade/engines.c): one row per
 * --engine value with the kind and the child environment expected, or the
 * words its refusal must hold; then the pool: who goes where, what a lost
 * engine hands over, and that no learner is graded twice or lost, through
 * scripted classes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "core/phase.h"
#include "grade/engines.h"
#include "grade/summary.h"
#include "lib/strbuf.h"

struct spec_row {
	const char *text;
	int ok;
	enum engine_spec_kind kind;
	const char *env[ENGINE_SPEC_NENV]; /* expected, NULL-terminated */
	const char *err;                   /* when !ok: somewhere in the message */
};

static const struct spec_row spec_rows[] = {
	{ "podman", 1, ENGINE_SPEC_PODMAN, { "PHASELAB_ENGINE=podman" }, NULL },
	{ "default", 1, ENGINE_SPEC_CONTEXT, { "PHASELAB_ENGINE=docker", "DOCKER_CONTEXT=default", "DOCKER_HOST" }, NULL },
	{ "lab-2.b+x_y", 1, ENGINE_SPEC_CONTEXT,
	  { "PHASELAB_ENGINE=docker", "DOCKER_CONTEXT=lab-2.b+x_y", "DOCKER_HOST" }, NULL },
	{ "unix:///var/run/docker.sock", 1, ENGINE_SPEC_URL,
	  { "PHASELAB_ENGINE=docker", "DOCKER_HOST=unix:///var/run/docker.sock", "DOCKER_CONTEXT" }, NULL },
	{ "tcp://127.0.0.1:23750", 1, ENGINE_SPEC_URL,
	  { "PHASELAB_ENGINE=docker", "DOCKER_HOST=tcp://127.0.0.1:23750", "DOCKER_CONTEXT" }, NULL },
	{ "tcp://grader2", 1, ENGINE_SPEC_URL, { "PHASELAB_ENGINE=docker", "DOCKER_HOST=tcp://grader2", "DOCKER_CONTEXT" }, NULL },
	{ "tcp://[::1]:2376", 1, ENGINE_SPEC_URL,
	  { "PHASELAB_ENGINE=docker", "DOCKER_HOST=tcp://[::1]:2376", "DOCKER_CONTEXT" }, NULL },
	{ "ssh://grader@lab3:2222", 1, ENGINE_SPEC_URL,
	  { "PHASELAB_ENGINE=docker", "DOCKER_HOST=ssh://grader@lab3:2222", "DOCKER_CONTEXT" }, NULL },
	{ "ssh://lab3/", 1, ENGINE_SPEC_URL, { "PHASELAB_ENGINE=docker", "DOCKER_HOST=ssh://lab3/", "DOCKER_CONTEXT" }, NULL },
	/* refused, each with its reason */
	{ "", 0, 0, { NULL }, "an empty engine" },
	{ "http://127.0.0.1:2375", 0, 0, { NULL }, "unknown scheme 'http'" },
	{ "npipe:////./pipe/docker_engine", 0, 0, { NULL }, "unknown scheme 'npipe'" },
	{ "tcp://", 0, 0, { NULL }, "names no host" },
	{ "tcp://:2375", 0, 0, { NULL }, "names no host" },
	{ "tcp://host:0", 0, 0, { NULL }, "not a number from 1 to 65535" },
	{ "tcp://host:65536", 0, 0, { NULL }, "not a number from 1 to 65535" },
	{ "tcp://host:23x", 0, 0, { NULL }, "not a number from 1 to 65535" },
	{ "tcp://host:2375/v1.41", 0, 0, { NULL }, "has a path after the host" },
	{ "tcp://[::1", 0, 0, { NULL }, "never closes it" },
	{ "ssh://@lab3", 0, 0, { NULL }, "names no user before '@'" },
	{ "unix://", 0, 0, { NULL }, "names no socket" },
	{ "unix://docker.sock", 0, 0, { NULL }, "names no socket" },
	{ "two words", 0, 0, { NULL }, "a space or a control character" },
	{ "ctx\n", 0, 0, { NULL }, "a space or a control character" },
	{ "/var/run/docker.sock", 0, 0, { NULL }, "neither a docker context name" },
	{ "-ctx", 0, 0, { NULL }, "neither a docker context name" },
	{ "ctx:x", 0, 0, { NULL }, "neither a docker context name" },
};

static void test_spec_table(void **state)
{
	int failed = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(spec_rows) / sizeof(spec_rows[0]); i++) {
		const struct spec_row *r = &spec_rows[i];
		struct strbuf err = STRBUF_INIT;
		struct engine_spec s;
		int rc = engine_spec_parse(r->text, &s, &err);

		if ((rc == 0) != r->ok) {
			print_error("'%s': parse returned %d (%s)\n", r->text, rc, err.buf);
			failed++;
		} else if (r->ok) {
			size_t k;

			if (s.kind != r->kind || strcmp(s.name, r->text)) {
				print_error("'%s': kind %d, name '%s'\n", r->text, s.kind, s.name);
				failed++;
			}
			for (k = 0; k < ENGINE_SPEC_NENV && r->env[k]; k++)
				if (!s.env[k] || strcmp(s.env[k], r->env[k])) {
					print_error("'%s': env[%zu] '%s', want '%s'\n", r->text, k,
						    s.env[k] ? s.env[k] : "(null)", r->env[k]);
					failed++;
				}
			if (k < ENGINE_SPEC_NENV && s.env[k]) {
				print_error("'%s': an extra env entry '%s'\n", r->text, s.env[k]);
				failed++;
			}
		} else if (!strstr(err.buf, r->err) || s.name) {
			print_error("'%s': message '%s', want '%s' in it\n", r->text, err.buf, r->err);
			failed++;
		}
		engine_spec_release(&s);
		strbuf_release(&err);
	}
	assert_int_equal(failed, 0);
}

/* apply sets and removes as the child would see it; restore puts back what was there */
static void test_spec_apply(void **state)
{
	struct strbuf err = STRBUF_INIT;
	struct engine_spec s;
	char *saved[ENGINE_SPEC_NENV];

	(void)state;
	setenv("DOCKER_HOST", "tcp://before:1", 1);
	unsetenv("DOCKER_CONTEXT");
	unsetenv("PHASELAB_ENGINE");
	assert_int_equal(engine_spec_parse("lab2", &s, &err), 0);
	engine_spec_apply(&s, saved);
	assert_string_equal(getenv("DOCKER_CONTEXT"), "lab2");
	assert_string_equal(getenv("PHASELAB_ENGINE"), "docker");
	assert_null(getenv("DOCKER_HOST"));
	engine_spec_restore(&s, saved);
	assert_string_equal(getenv("DOCKER_HOST"), "tcp://before:1");
	assert_null(getenv("DOCKER_CONTEXT"));
	assert_null(getenv("PHASELAB_ENGINE"));
	engine_spec_release(&s);
	unsetenv("DOCKER_HOST");
	strbuf_release(&err);
}

/*
 * A scripted class: start what can start, then end checks as the script
 * says, and count each learner's gradings.  Each step ends the check of
 * learner `who` (its current engine) with graded and engine_gone.
 */
struct step {
	int who, graded, gone;
	enum pool_verdict want;
};

static void fill(struct grade_pool *p, int *starts)
{
	int e;
	long next;

	while ((e = pool_pick_engine(p)) >= 0 && (next = pool_next_learner(p)) >= 0) {
		pool_start(p, (size_t)next, e);
		starts[next]++;
	}
}

/* three engines, one job each, six learners: round robin, least loaded first */
static void test_pool_spread(void **state)
{
	struct grade_pool p;
	int starts[6] = { 0 };

	(void)state;
	pool_init(&p, 3, 1, 6);
	fill(&p, starts);
	assert_int_equal(p.engine_of[0], 0);
	assert_int_equal(p.engine_of[1], 1);
	assert_int_equal(p.engine_of[2], 2);
	assert_int_equal(p.state[3], POOL_WAITING);
	assert_int_equal(pool_running(&p), 3);
	assert_int_equal(pool_finish(&p, 1, 1, 0), POOL_KEEP);
	fill(&p, starts);
	assert_int_equal(p.engine_of[3], 1); /* the only free slot */
	assert_int_equal(pool_pick_engine(&p), -1);
	pool_release(&p);
}

/* an engine left out at the probe is never used; a skipped learner never starts */
static void test_pool_left_out(void **state)
{
	struct grade_pool p;
	int starts[4] = { 0 };

	(void)state;
	pool_init(&p, 2, 2, 4);
	pool_leave_out(&p, 0);
	pool_skip(&p, 2);
	fill(&p, starts);
	assert_int_equal(p.engine_of[0], 1);
	assert_int_equal(p.engine_of[1], 1);
	assert_int_equal(p.state[2], POOL_DONE);
	assert_int_equal(starts[2], 0);
	assert_int_equal(p.state[3], POOL_WAITING);
	assert_int_equal(pool_usable(&p), 1);
	pool_release(&p);
}

/* the engine-gone rule on exit statuses: 0 1 2 are the check's own */
static void test_pool_suspect(void **state)
{
	static const struct { int status, suspect; } rows[] = {
		{ 0, 0 }, { 1, 0 }, { 2, 0 }, { 3, 1 }, { 124, 1 }, { 130, 1 }, { 137, 1 }, { -1, 1 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		assert_int_equal(pool_status_suspect(rows[i].status), rows[i].suspect);
}

/* Run a script over n learners on ne engines (jobs each); every learner ends graded exactly once, or ungraded. */
static void run_script(size_t ne, int jobs, size_t n, const struct step *steps, size_t nsteps, int *starts,
		       int *graded, struct grade_pool *p)
{
	pool_init(p, ne, jobs, n);
	fill(p, starts);
	for (size_t k = 0; k < nsteps; k++) {
		const struct step *s = &steps[k];
		enum pool_verdict v;

		assert_int_equal(p->state[s->who], POOL_RUNNING);
		v = pool_finish(p, (size_t)s->who, s->graded, s->gone);
		if (v != s->want)
			fail_msg("step %zu (learner %d): verdict %d, want %d", k, s->who, v, s->want);
		graded[s->who] += s->graded;
		fill(p, starts);
	}
}

/*
 * Three engines, one job each, five learners.  Engine 1 is lost while it
 * checks learner 1 (handed over); learner 0 on engine 0 finishes; learner 1
 * goes to engine 0, learner 3 to engine 2 after learner 2 ends, ...
 */
static void test_pool_hand_over(void **state)
{
	static const struct step steps[] = {
		{ 1, 0, 1, POOL_HAND_OVER },  /* engine 1 lost: learner 1 waits again */
		{ 0, 1, 0, POOL_KEEP },       /* engine 0 free: learner 1 goes there (the first waiting) */
		{ 2, 1, 0, POOL_KEEP },       /* engine 2: learner 3 */
		{ 1, 1, 0, POOL_KEEP },       /* learner 1 graded on engine 0; learner 4 there */
		{ 3, 1, 0, POOL_KEEP },
		{ 4, 1, 0, POOL_KEEP },
	};
	struct grade_pool p;
	int starts[5] = { 0 }, graded[5] = { 0 };

	(void)state;
	run_script(3, 1, 5, steps, sizeof(steps) / sizeof(steps[0]), starts, graded, &p);
	for (int i = 0; i < 5; i++) {
		assert_int_equal(graded[i], 1);
		assert_int_equal(p.state[i], POOL_DONE);
	}
	assert_int_equal(starts[1], 2);
	assert_int_equal(p.handed_from[1], 1);
	assert_int_equal(p.engine_of[1], 0);
	assert_int_equal(p.handed_over, 1);
	assert_true(p.engines[1].lost);
	assert_int_equal(p.engines[1].usable, 0);
	assert_int_equal(p.engines[1].running, 0);
	assert_true(pool_over(&p));
	pool_release(&p);
}

/*
 * Two checks run on an engine when it goes: the first to end pings (gone),
 * the second is handed over without a ping (gone 0, the engine already
 * lost); a third on it that finished with a grading keeps it.
 */
static void test_pool_lost_with_several(void **state)
{
	struct grade_pool p;
	int starts[6] = { 0 };

	(void)state;
	/* engine 0 runs learners 0 and 2, engine 1 runs 1 and 3 (jobs 2) */
	pool_init(&p, 2, 2, 6);
	fill(&p, starts);
	assert_int_equal(p.engine_of[0], 0);
	assert_int_equal(p.engine_of[1], 1);
	assert_int_equal(p.engine_of[2], 0);
	assert_int_equal(p.engine_of[3], 1);
	assert_int_equal(pool_finish(&p, 0, 0, 1), POOL_HAND_OVER);  /* engine 0 lost */
	assert_int_equal(pool_pick_engine(&p), -1);                  /* engine 1 is full */
	assert_int_equal(pool_finish(&p, 2, 1, 0), POOL_KEEP);       /* finished on engine 0 before: kept */
	assert_int_equal(p.state[2], POOL_DONE);
	assert_int_equal(pool_finish(&p, 3, 1, 0), POOL_KEEP);       /* engine 1 frees a slot */
	fill(&p, starts);
	assert_int_equal(p.engine_of[0], 1);                         /* the handed-over learner first */
	assert_int_equal(starts[0], 2);
	/* now engine 1 goes too, while it runs learners 1 and 0: no engine left */
	assert_int_equal(pool_finish(&p, 1, 0, 1), POOL_UNGRADED);
	assert_int_equal(pool_finish(&p, 0, 0, 0), POOL_UNGRADED);  /* already lost: no ping needed */
	assert_true(pool_over(&p));
	assert_int_equal(p.ungraded, 2);
	assert_int_equal(pool_give_up(&p), 2);                       /* learners 4 and 5 never ran */
	for (int i = 0; i < 6; i++)
		assert_int_equal(p.state[i], POOL_DONE);
	pool_release(&p);
}

/* a check that fails on an engine that answers is the learner's problem: kept, the engine stays */
static void test_pool_not_gone(void **state)
{
	struct grade_pool p;
	int starts[2] = { 0 };

	(void)state;
	pool_init(&p, 2, 1, 2);
	fill(&p, starts);
	assert_int_equal(pool_finish(&p, 0, 0, 0), POOL_KEEP);
	assert_int_equal(pool_usable(&p), 2);
	assert_int_equal(p.state[0], POOL_DONE);
	assert_int_equal(p.handed_over, 0);
	pool_release(&p);
}

/*
 * The gradebook's engine column: last, only when rows name an engine (a
 * class on one engine keeps its columns), "" for a learner no engine graded;
 * the page's Engines table says whom each graded and who was left out or lost.
 */
static void test_gradebook_engine_column(void **state)
{
	char builds[] = "builds", id[] = "03-x", title[] = "X";
	struct check_def checks[1] = { { .id = builds, .title = title, .graded = 1, .points = 20 } };
	struct phase ph = { .id = id, .title = title, .checks = checks, .nchecks = 1 };
	const char *pass[] = { "pass" }, *err[] = { "error" };
	struct summary_row rows[3] = {
		{ .learner = "alice", .commit = "", .graded = 1, .score = 20, .max_score = 20, .passed = 1,
		  .statuses = pass, .engine = "podman" },
		{ .learner = "bob", .commit = "", .graded = 1, .score = 20, .max_score = 20, .passed = 1,
		  .statuses = pass, .engine = "tcp://127.0.0.1:23750" },
		{ .learner = "carol", .commit = "", .max_score = 20, .statuses = err, .engine = "",
		  .problem = "not graded: every engine stopped answering before its turn" },
	};
	struct summary_engine engines[3] = {
		{ .name = "podman", .kind = "podman 4.3.1", .state = "used" },
		{ .name = "tcp://127.0.0.1:23750", .kind = "docker 20.10.24", .state = "lost mid-class",
		  .reason = "stopped answering mid-class: its ping failed" },
		{ .name = "lab<3>", .kind = "docker (context)", .state = "left out",
		  .reason = "the base image 'node:20-alpine' is not on it" },
	};
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	summary_gradebook_csv(&sb, &ph, rows, 3);
	assert_string_equal(sb.buf,
		"learner,commit,committed_at,late,commits_after_deadline,score,max_score,passed,builds,engine\n"
		"alice,,,false,0,20,20,true,pass,podman\n"
		"bob,,,false,0,20,20,true,pass,tcp://127.0.0.1:23750\n"
		"carol,,,false,0,0,20,false,error,\n");
	strbuf_reset(&sb);
	for (int i = 0; i < 3; i++)
		rows[i].engine = NULL;
	summary_gradebook_csv(&sb, &ph, rows, 3);
	assert_non_null(strstr(sb.buf, ",builds\nalice,,,false,0,20,20,true,pass\n"));
	rows[0].engine = "podman";
	rows[1].engine = "tcp://127.0.0.1:23750";
	rows[2].engine = "";
	strbuf_reset(&sb);
	summary_html_engines(&sb, &ph, NULL, "2026-12-03T16:00:00Z", rows, 3, engines, 3);
	assert_non_null(strstr(sb.buf, "<h2>Engines</h2>"));
	assert_non_null(strstr(sb.buf, "<code>tcp://127.0.0.1:23750</code></td><td>docker 20.10.24</td><td><span "
				       "class=\"st error\">lost mid-class</span> stopped answering mid-class: its ping "
				       "failed</td><td>1</td><td>bob</td>"));
	assert_non_null(strstr(sb.buf, "<code>lab&lt;3&gt;</code>"));
	assert_non_null(strstr(sb.buf, "left out</span> the base image &#39;node:20-alpine&#39; is not on it</td><td>0</td><td></td>"));
	strbuf_reset(&sb);
	summary_html(&sb, &ph, NULL, "2026-12-03T16:00:00Z", rows, 3);
	assert_null(strstr(sb.buf, "<h2>Engines</h2>"));
	strbuf_release(&sb);
}

/* A repeatable option keeps every value in order; another option's last value wins as before. */
static void test_repeatable_option(void **state)
{
	/* argv is writable as main's is; the strings are this function's */
	char line[] = "grade -p 3 --engine podman -r r.csv --out=o -e default --eng=tcp://h:1 -p 4";
	char *argv[16];
	const char *values[4];
	struct cmd_args a;
	int argc = 0;

	(void)state;
	for (char *w = strtok(line, " "); w; w = strtok(NULL, " "))
		argv[argc++] = w;
	argv[argc] = NULL;
	assert_int_equal(cmd_parse(&cmd_grade_entry, argc, argv, &a), 0);
	assert_int_equal(cmd_values(&a, "engine", values, 4), 3);
	assert_string_equal(values[0], "podman");
	assert_string_equal(values[1], "default");
	assert_string_equal(values[2], "tcp://h:1");
	assert_string_equal(cmd_value(&a, "phase"), "4");
	assert_int_equal(cmd_values(&a, "engine", values, 2), 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spec_table),
		cmocka_unit_test(test_spec_apply),
		cmocka_unit_test(test_pool_spread),
		cmocka_unit_test(test_pool_left_out),
		cmocka_unit_test(test_pool_suspect),
		cmocka_unit_test(test_pool_hand_over),
		cmocka_unit_test(test_pool_lost_with_several),
		cmocka_unit_test(test_pool_not_gone),
		cmocka_unit_test(test_gradebook_engine_column),
		cmocka_unit_test(test_repeatable_option),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
