/*
 * Suites: which folders are a system's services (suite_services), the
 * suite's tally, its JSON (phaselab.suite/v1, in DESIGN.md's key order) and
 * reader, and every format's suite writer against tests/golden/suite.*:
 *
 *	PHASELAB_UPDATE_GOLDEN=1 build/tests/test_suite
 *
 * rewrites them; read the diff (git diff tests/golden) before committing.
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

#include "core/exit.h"
#include "core/suite.h"
#include "lib/fsutil.h"
#include "lib/strvec.h"
#include "report/report.h"
#include "lib/strbuf.h"
#include "lib/xalloc.h"

#include "report_fixture.h"

/* ---- the suite every writer test renders ------------------------------- */

/* A Python service that passed its (shorter) checklist. */
static void make_python_report(struct report *r)
{
	memset(r, 0, sizeof(*r));
	r->phase_id = xstrdup("03-containerization");
	r->phase_title = xstrdup("Containerize the service");
	r->dir = xstrdup("/home/learner/lab/services/product-service");
	r->engine_client = xstrdup("28.1.1");
	r->engine_server = xstrdup("20.10.24+dfsg1");
	r->builder = xstrdup("legacy");
	r->engine_kind = xstrdup("docker");
	strcpy(r->started_at, "2025-01-15T09:30:01Z");
	r->duration_ms = 5400;
	r->pass_mark = 40;
	add_check(r, "builds", "The image builds", "build", CHECK_PASS, 20,
		  "built in 3.1 s with the legacy builder", NULL,
		  evidence("{s:s}", "image", "sha256:5eed"), 3100);
	add_check(r, "nonroot", "It runs as a non-root user", "container-user", CHECK_PASS, 20,
		  "runs as UID 65532 (USER nonroot)", NULL, evidence("{s:i}", "uid", 65532), 300);
	report_tally(r);
}

/*
 * Two services in name order: a Node one that failed (the report fixture,
 * hostile text included) under a hostile name, and a Python one that passed.
 */
static void make_suite(struct suite *s)
{
	memset(s, 0, sizeof(*s));
	s->phase_id = xstrdup("03-containerization");
	s->phase_title = xstrdup("Containerize the service");
	s->dir = xstrdup("/home/learner/lab");
	s->has_git = 1;
	strcpy(s->commit, "1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b");
	s->dirty = 0;
	s->engine_client = xstrdup("28.1.1");
	s->engine_server = xstrdup("20.10.24+dfsg1");
	s->builder = xstrdup("legacy");
	s->engine_kind = xstrdup("docker");
	strcpy(s->started_at, "2025-01-15T09:29:59Z");
	s->duration_ms = 13020;
	s->services = xcalloc(2, sizeof(*s->services));
	s->nservices = 2;
	s->services[0].name = xstrdup("order<b>\x1b[31m-service");
	s->services[0].dir = xstrdup("/home/learner/lab/services/order-service");
	s->services[0].language = xstrdup("node");
	make_report(&s->services[0].report);
	s->services[0].status = 1;
	s->services[1].name = xstrdup("product-service");
	s->services[1].dir = xstrdup("/home/learner/lab/services/product-service");
	s->services[1].language = xstrdup("python");
	make_python_report(&s->services[1].report);
	s->services[1].status = 0;
	suite_tally(s);
}

static char *render(suite_writer_fn write, const struct suite *s, int color, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	assert_non_null(f);
	assert_int_equal(write(s, f, color), 0);
	fclose(f);
	return buf;
}

/* ---- suite_services ------------------------------------------------------ */

static char *tmpdir_new(void)
{
	char *d = xstrdup("/tmp/phaselab-test-suite-XXXXXX");

	assert_non_null(mkdtemp(d));
	return d;
}

static void touch(const char *dir, const char *rel)
{
	char *p = xasprintf("%s/%s", dir, rel);

	assert_int_equal(write_file_atomic(p, "{}\n", 3), 0);
	free(p);
}

static void mkdirf(const char *dir, const char *rel)
{
	char *p = xasprintf("%s/%s", dir, rel);

	assert_int_equal(mkdir(p, 0755), 0);
	free(p);
}

static void test_services_folder(void **state)
{
	struct strvec v = STRVEC_INIT;
	char *d = tmpdir_new(), *want;

	(void)state;
	mkdirf(d, "services");
	mkdirf(d, "services/zeta");
	mkdirf(d, "services/alpha");
	mkdirf(d, "services/.hidden");
	touch(d, "services/README.md");
	touch(d, "services/alpha/package.json");
	/* under services/, every folder is a service, known language or not */
	assert_int_equal(suite_services(d, &v), 2);
	want = xasprintf("%s/services/alpha", d);
	assert_string_equal(v.v[0], want);
	free(want);
	want = xasprintf("%s/services/zeta", d);
	assert_string_equal(v.v[1], want);
	free(want);
	strvec_clear(&v);
	remove_tree(d);
	free(d);
}

static void test_services_subfolders(void **state)
{
	struct strvec v = STRVEC_INIT;
	char *d = tmpdir_new();

	(void)state;
	mkdirf(d, "web");
	touch(d, "web/package.json");
	mkdirf(d, "api");
	touch(d, "api/requirements.txt");
	mkdirf(d, "docs"); /* not a service: no manifest */
	assert_int_equal(suite_services(d, &v), 2);
	assert_non_null(strstr(v.v[0], "/api"));
	assert_non_null(strstr(v.v[1], "/web"));
	strvec_clear(&v);

	/* a service folder is one service, whatever its subfolders hold */
	touch(d, "package.json");
	assert_int_equal(suite_services(d, &v), 0);
	assert_int_equal(v.nr, 0);
	strvec_clear(&v);
	remove_tree(d);
	free(d);
}

static void test_services_none(void **state)
{
	struct strvec v = STRVEC_INIT;
	char *d = tmpdir_new();

	(void)state;
	mkdirf(d, "services"); /* empty */
	assert_int_equal(suite_services(d, &v), 0);
	strvec_clear(&v);
	remove_tree(d);
	free(d);
}

/* ---- verify_suite without an engine ---------------------------------------- */

static char *phase_file(const char *id)
{
	const char *root = getenv("PHASELAB_ROOT");

	return xasprintf("%s/phases/%s/phase.json", root && *root ? root : ".", id);
}

/*
 * Services that cannot be verified never reach the engine: one without a
 * checklist for its language, one whose language is unknown.  Each gets an
 * error item saying why, with the checklist's points at stake, and the
 * suite's status is the environment's.
 */
static void test_verify_without_checklist(void **state)
{
	struct strbuf err = STRBUF_INIT, msg = STRBUF_INIT;
	struct suite_opts o = { 0 };
	struct phase ph;
	struct suite s;
	char *d = tmpdir_new(), *file = phase_file("10-orchestrator-image");
	const char *const only_b[] = { "b", NULL }, *const nosuch[] = { "b", "nosuch", NULL };
	int total = 0;

	(void)state;
	if (phase_load_file(file, &ph, &err) < 0)
		fail_msg("%s", err.buf);
	for (size_t i = 0; i < ph.nchecks; i++)
		total += ph.checks[i].graded ? ph.checks[i].points : 0;
	mkdirf(d, "services");
	mkdirf(d, "services/b");
	touch(d, "services/b/main.py");
	mkdirf(d, "services/a"); /* no manifest */

	assert_int_equal(verify_suite(&ph, d, &o, &s, &msg), EXIT_ENVIRONMENT);
	assert_int_equal(s.nservices, 2);
	assert_string_equal(s.services[0].name, "a");
	assert_string_equal(s.services[0].language, "unknown");
	assert_string_equal(s.services[1].language, "python");
	assert_int_equal(s.services[1].report.nchecks, 1);
	assert_int_equal(s.services[1].report.checks[0].status, CHECK_ERROR);
	assert_non_null(strstr(s.services[1].report.checks[0].message, "no checklist for python"));
	assert_int_equal(s.max_score, 2 * total);
	assert_int_equal(s.score, 0);
	assert_false(s.passed);
	assert_string_equal(s.phase_id, "10-orchestrator-image");
	suite_release(&s);

	/* a name filter: only those, and an unknown name is bad usage */
	o.names = only_b;
	assert_int_equal(verify_suite(&ph, d, &o, &s, &msg), EXIT_ENVIRONMENT);
	assert_int_equal(s.nservices, 1);
	assert_string_equal(s.services[0].name, "b");
	suite_release(&s);
	strbuf_reset(&msg);
	o.names = nosuch;
	assert_int_equal(verify_suite(&ph, d, &o, &s, &msg), EXIT_USAGE);
	assert_non_null(strstr(msg.buf, "no service 'nosuch'"));
	assert_null(s.services);

	/* a folder without services */
	strbuf_reset(&msg);
	o.names = NULL;
	remove_tree(d);
	assert_int_equal(mkdir(d, 0700), 0);
	assert_int_equal(verify_suite(&ph, d, &o, &s, &msg), EXIT_USAGE);
	assert_non_null(strstr(msg.buf, "holds no service folder"));

	phase_release(&ph);
	remove_tree(d);
	free(d);
	free(file);
	strbuf_release(&err);
	strbuf_release(&msg);
}

/* ---- tally, JSON, reader ------------------------------------------------- */

static void test_tally(void **state)
{
	struct suite s;

	(void)state;
	make_suite(&s);
	assert_int_equal(s.score, s.services[0].report.score + 40);
	assert_int_equal(s.max_score, 100 + 40);
	assert_int_equal(s.pass_mark, 70 + 40);
	assert_false(s.passed); /* one service failed */
	s.services[0].report.passed = 1;
	suite_tally(&s);
	assert_true(s.passed);
	suite_release(&s);
	memset(&s, 0, sizeof(s));
	suite_tally(&s);
	assert_false(s.passed); /* no service: nothing passed */
}

/* The contract's keys, in DESIGN.md's order, each service's report a full report. */
static void test_json_contract(void **state)
{
	static const char *const keys[] = { "schema", "phase", "target", "engine", "started_at",
		"duration_ms", "score", "max_score", "pass_mark", "passed", "services", NULL };
	static const char *const service_keys[] = { "name", "dir", "language", "report", NULL };
	struct suite s;
	json_t *j, *sv;
	const char *key;
	size_t i = 0;
	void *it;

	(void)state;
	make_suite(&s);
	j = suite_to_json(&s);
	assert_non_null(j);
	for (it = json_object_iter(j); it; it = json_object_iter_next(j, it), i++) {
		key = json_object_iter_key(it);
		assert_non_null(keys[i]);
		assert_string_equal(key, keys[i]);
	}
	assert_null(keys[i]);
	assert_string_equal(json_string_value(json_object_get(j, "schema")), "phaselab.suite/v1");
	sv = json_array_get(json_object_get(j, "services"), 1);
	i = 0;
	for (it = json_object_iter(sv); it; it = json_object_iter_next(sv, it), i++)
		assert_string_equal(json_object_iter_key(it), service_keys[i]);
	assert_null(service_keys[i]);
	assert_string_equal(json_string_value(json_object_get(sv, "language")), "python");
	assert_string_equal(json_string_value(json_object_get(json_object_get(sv, "report"), "schema")),
			    "phaselab.report/v1");
	assert_int_equal(json_integer_value(json_object_get(j, "pass_mark")), 110);
	json_decref(j);
	suite_release(&s);
}

/* Read back, every format renders what it rendered from the original. */
static void test_round_trip(void **state)
{
	static const char *const formats[] = { "text", "json", "junit", "markdown", "gradescope", "html", NULL };
	struct strbuf err = STRBUF_INIT;
	struct suite s, back;
	json_t *j;

	(void)state;
	make_suite(&s);
	j = suite_to_json(&s);
	assert_int_equal(suite_from_json(j, &back, &err), 0);
	assert_int_equal(back.nservices, 2);
	for (const char *const *f = formats; *f; f++) {
		size_t la, lb;
		char *a = render(suite_writer_find(*f), &s, 0, &la);
		char *b = render(suite_writer_find(*f), &back, 0, &lb);

		if (la != lb || memcmp(a, b, la))
			fail_msg("format %s: the suite read back renders differently", *f);
		free(a);
		free(b);
	}
	json_decref(j);
	suite_release(&s);
	suite_release(&back);
	strbuf_release(&err);
}

static void expect_read_error(json_t *j, const char *want)
{
	struct strbuf err = STRBUF_INIT;
	struct suite s;

	assert_int_equal(suite_from_json(j, &s, &err), -1);
	if (!strstr(err.buf, want))
		fail_msg("error '%s' does not say '%s'", err.buf, want);
	assert_null(s.services);
	strbuf_release(&err);
}

static void test_reader_errors(void **state)
{
	struct suite s;
	json_t *j;

	(void)state;
	make_suite(&s);

	j = suite_to_json(&s);
	json_object_del(j, "services");
	expect_read_error(j, "services");
	json_decref(j);

	j = suite_to_json(&s);
	json_object_set_new(j, "schema", json_string("phaselab.report/v1"));
	expect_read_error(j, "schema");
	json_decref(j);

	j = suite_to_json(&s);
	json_object_set_new(j, "extra", json_true());
	expect_read_error(j, "extra");
	json_decref(j);

	/* a service's report is read as a report: the path names where */
	j = suite_to_json(&s);
	json_object_set_new(json_array_get(json_object_get(json_object_get(json_array_get(
		json_object_get(j, "services"), 1), "report"), "checks"), 0), "status", json_integer(3));
	expect_read_error(j, "services[1].report.checks[0].status");
	json_decref(j);

	j = suite_to_json(&s);
	json_object_del(json_array_get(json_object_get(j, "services"), 0), "language");
	expect_read_error(j, "services[0].language");
	json_decref(j);

	j = json_array();
	expect_read_error(j, "not a JSON object");
	json_decref(j);
	suite_release(&s);
}

/* ---- golden files ------------------------------------------------------ */

static void golden(const char *format, const char *file, int color)
{
	struct suite s;
	size_t len;
	char *out;

	make_suite(&s);
	out = render(suite_writer_find(format), &s, color, &len);
	check_golden(file, out, len);
	free(out);
	suite_release(&s);
}

static void test_golden_json(void **state) { (void)state; golden("json", "suite.json", 0); }
static void test_golden_text(void **state) { (void)state; golden("text", "suite.txt", 0); }
static void test_golden_markdown(void **state) { (void)state; golden("markdown", "suite.md", 0); }
static void test_golden_html(void **state) { (void)state; golden("html", "suite.html", 0); }
static void test_golden_junit(void **state) { (void)state; golden("junit", "suite.junit.xml", 0); }
static void test_golden_gradescope(void **state) { (void)state; golden("gradescope", "suite.gradescope.json", 0); }

/* What each format must say of a suite, beyond its bytes. */
static void test_formats_say(void **state)
{
	struct suite s;
	size_t len;
	char *out;

	(void)state;
	make_suite(&s);
	out = render(suite_writer_find("text"), &s, 0, &len);
	assert_null(memchr(out, '\x1b', len)); /* the hostile name is inert */
	assert_non_null(strstr(out, "(python)"));
	assert_non_null(strstr(out, "NOT PASSED, 1 of 2 services passed"));
	free(out);
	out = render(suite_writer_find("junit"), &s, 0, &len);
	assert_non_null(strstr(out, "<testsuite name=\"product-service\""));
	assert_non_null(strstr(out, "order&lt;b&gt;"));
	assert_null(strstr(out, "<b>"));
	free(out);
	out = render(suite_writer_find("gradescope"), &s, 0, &len);
	assert_non_null(strstr(out, "\"name\": \"product-service: builds: The image builds\""));
	free(out);
	out = render(suite_writer_find("html"), &s, 0, &len);
	assert_null(strstr(out, "order<b>"));
	assert_non_null(strstr(out, "id=\"item-9\"")); /* numbered on across services */
	free(out);
	assert_null(suite_writer_find("yaml"));
	suite_release(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_services_folder),
		cmocka_unit_test(test_services_subfolders),
		cmocka_unit_test(test_services_none),
		cmocka_unit_test(test_verify_without_checklist),
		cmocka_unit_test(test_tally),
		cmocka_unit_test(test_json_contract),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_reader_errors),
		cmocka_unit_test(test_golden_json),
		cmocka_unit_test(test_golden_text),
		cmocka_unit_test(test_golden_markdown),
		cmocka_unit_test(test_golden_html),
		cmocka_unit_test(test_golden_junit),
		cmocka_unit_test(test_golden_gradescope),
		cmocka_unit_test(test_formats_say),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
