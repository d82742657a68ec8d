/*
 * Gradescope's autograder results (--format gradescope), the file a
 * run_autograder script leaves at /autograder/results/results.json.  The
 * format is Gradescope's "Autograder Specifications" (output format):
 *
 *   { "score": 60, "execution_time": 12, "output": "one paragraph",
 *     "output_format": "text", "test_output_format": "text",
 *     "test_name_format": "text", "extra_data": {...},
 *     "tests": [ {"name": "size: The image is small", "number": "2",
 *                 "score": 0, "max_score": 10, "status": "failed",
 *                 "output": "message\n\nHow to fix: hint"}, ... ] }
 *
 * Only keys the specification documents.  It has no top-level "max_score"
 * (the assignment's total is set in Gradescope), so the report's maximum,
 * pass mark and verdict go in "extra_data", which it stores as is.  "number"
 * is a string there ("1.1"); ours are "1", "2", ... in the report's order.
 * A skip or an error is "failed" (it scored nothing) and its output says why.
 *
 * Every format is "text": Gradescope's default for the top-level output is
 * "simple_format", which renders HTML, and learner text is not HTML.  The
 * strings are made inert as on a terminal (escape_term(): Gradescope shows
 * escape sequences as junk in "text") and valid UTF-8 (jansson requires it).
 * Bounds, in bytes: 1 KiB for a name, an id or a directory, 16 KiB each for
 * a message and a hint, so a test's output stays under 33 KiB.
 */
#include "report/report.h"
#include "lib/escape.h"
#include "lib/strbuf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define GS_MAX_SHORT 1024
#define GS_MAX_TEXT (16 * 1024)

#define GS_FLAGS (JSON_INDENT(2) | JSON_PRESERVE_ORDER)

/* Append report text s, bounded and made inert; the result is valid UTF-8. */
static void add_text(struct strbuf *sb, const char *s, size_t max)
{
	escape_term_bounded(sb, s, s ? strlen(s) : 0, max, ESCAPE_TERM_NEWLINES);
}

/* A new JSON string from sb; sb is emptied. */
static json_t *take(struct strbuf *sb)
{
	json_t *j = json_stringn(sb->buf, sb->len);

	strbuf_reset(sb);
	return j;
}

/* As in report.c: failures pile up in *err; a NULL v (out of memory) is one. */
static void set(json_t *obj, const char *key, json_t *v, int *err)
{
	if (!v || json_object_set_new(obj, key, v))
		*err = 1;
}

/* The paragraph at the top: the verdict, what failed and why, what was checked. */
static void add_summary(struct strbuf *sb, const struct report *r)
{
	size_t i, n[4];

	report_count_status(r, n);
	strbuf_addstr(sb, "Phase ");
	add_text(sb, r->phase_id, GS_MAX_SHORT);
	if (r->phase_title && *r->phase_title) {
		strbuf_addstr(sb, " (");
		add_text(sb, r->phase_title, GS_MAX_SHORT);
		strbuf_addch(sb, ')');
	}
	strbuf_addf(sb, ": %d/%d points, pass mark %d: %s. %zu of %zu item%s passed", r->score,
		    r->max_score, r->pass_mark, r->passed ? "PASSED" : "NOT PASSED",
		    n[CHECK_PASS], r->nchecks, r->nchecks == 1 ? "" : "s");
	if (n[CHECK_FAIL])
		strbuf_addf(sb, ", %zu failed", n[CHECK_FAIL]);
	if (n[CHECK_ERROR])
		strbuf_addf(sb, ", %zu could not be checked", n[CHECK_ERROR]);
	if (n[CHECK_SKIP])
		strbuf_addf(sb, ", %zu %s skipped", n[CHECK_SKIP], n[CHECK_SKIP] == 1 ? "was" : "were");
	strbuf_addstr(sb, ".");
	if (n[CHECK_ERROR])
		strbuf_addstr(sb, " An item that could not be checked is the harness's or the "
			      "engine's failure, not your work: it scored no points, so this score "
			      "is not final until it is checked again.");
	if (r->has_git) {
		size_t len = strnlen(r->commit, sizeof(r->commit));

		strbuf_addstr(sb, len ? " Checked commit " : " Checked a repository with no commit yet");
		escape_term(sb, r->commit, len < 12 ? len : 12, 0);
		if (r->dirty)
			strbuf_addstr(sb, " with uncommitted changes");
		strbuf_addstr(sb, ".");
	}
	if (r->engine_server && *r->engine_server) {
		strbuf_addstr(sb, " Engine ");
		add_text(sb, r->engine_kind && *r->engine_kind ? r->engine_kind : "docker", GS_MAX_SHORT);
		strbuf_addstr(sb, r->engine_remote ? " (remote) " : " ");
		add_text(sb, r->engine_server, GS_MAX_SHORT);
		if (r->builder && *r->builder) {
			strbuf_addstr(sb, ", ");
			add_text(sb, r->builder, GS_MAX_SHORT);
			strbuf_addstr(sb, " builder");
		}
		strbuf_addstr(sb, ".");
	}
	/* one paragraph: no line breaks from the learner's text either */
	for (i = 0; i < sb->len; i++)
		if (sb->buf[i] == '\n')
			sb->buf[i] = ' ';
}

static json_t *test_to_json(const struct check_result *c, size_t number, const char *service, int *err)
{
	struct strbuf sb = STRBUF_INIT;
	json_t *t = json_object();

	if (!t) {
		*err = 1;
		return NULL;
	}
	if (service) {
		/* a suite's: "service: id: title" */
		add_text(&sb, service, GS_MAX_SHORT);
		strbuf_addstr(&sb, ": ");
	}
	add_text(&sb, c->id, GS_MAX_SHORT);
	strbuf_addstr(&sb, ": ");
	add_text(&sb, c->title, GS_MAX_SHORT);
	set(t, "name", take(&sb), err);
	strbuf_addf(&sb, "%zu", number);
	set(t, "number", take(&sb), err);
	set(t, "score", json_integer(c->points), err);
	set(t, "max_score", json_integer(c->max_points), err);
	set(t, "status", json_string(c->status == CHECK_PASS ? "passed" : "failed"), err);

	if (c->status == CHECK_ERROR)
		strbuf_addstr(&sb, "Could not be checked: the harness or the engine failed, not "
			      "your work. Run the check again once the environment is fixed.\n\n");
	add_text(&sb, c->message, GS_MAX_TEXT);
	if ((c->status == CHECK_FAIL || c->status == CHECK_ERROR) && c->hint && *c->hint) {
		strbuf_rtrim(&sb);
		strbuf_addstr(&sb, "\n\nHow to fix: ");
		add_text(&sb, c->hint, GS_MAX_TEXT);
	}
	strbuf_rtrim(&sb);
	set(t, "output", take(&sb), err);
	strbuf_release(&sb);
	return t;
}

static json_t *extra_to_json(const struct report *r, int *err)
{
	struct strbuf sb = STRBUF_INIT;
	json_t *x = json_object();

	if (!x) {
		*err = 1;
		return NULL;
	}
	add_text(&sb, r->phase_id, GS_MAX_SHORT);
	set(x, "phase", take(&sb), err);
	set(x, "max_score", json_integer(r->max_score), err);
	set(x, "pass_mark", json_integer(r->pass_mark), err);
	set(x, "passed", json_boolean(r->passed), err);
	if (r->has_git) {
		escape_term(&sb, r->commit, strnlen(r->commit, sizeof(r->commit)), 0);
		set(x, "commit", take(&sb), err);
		set(x, "dirty", json_boolean(r->dirty), err);
	} else {
		set(x, "commit", json_null(), err);
		set(x, "dirty", json_false(), err);
	}
	strbuf_release(&sb);
	return x;
}

/* Every results document says its texts are plain text. */
static void set_formats(json_t *root, int *err)
{
	set(root, "output_format", json_string("text"), err);
	set(root, "test_output_format", json_string("text"), err);
	set(root, "test_name_format", json_string("text"), err);
}

/* r's items appended to tests, numbered on from *number; service names them in a suite. */
static void add_tests(json_t *tests, const struct report *r, size_t *number, const char *service,
		      int *err)
{
	for (size_t k = 0; k < r->nchecks; k++) {
		json_t *t = test_to_json(&r->checks[k], ++*number, service, err);

		if (!t || json_array_append_new(tests, t))
			*err = 1;
	}
}

/* The document's last key (tests, stolen); root, or NULL when anything ran out of memory. */
static json_t *finish(json_t *root, json_t *tests, struct strbuf *sb, int err)
{
	set(root, "tests", tests, &err);
	strbuf_release(sb);
	if (err) {
		json_decref(root);
		return NULL;
	}
	return root;
}

/* New reference, keys in the order of Gradescope's documentation; NULL when out of memory. */
static json_t *results_to_json(const struct report *r)
{
	struct strbuf sb = STRBUF_INIT;
	json_t *root = json_object(), *tests;
	int err = 0;
	size_t number = 0;

	if (!root)
		return NULL;
	set(root, "score", json_integer(r->score), &err);
	/* whole seconds, rounded: the specification's type */
	set(root, "execution_time", json_integer(r->duration_ms > 0 ? (r->duration_ms + 500) / 1000 : 0),
	    &err);
	add_summary(&sb, r);
	set(root, "output", take(&sb), &err);
	set_formats(root, &err);
	set(root, "extra_data", extra_to_json(r, &err), &err);
	if ((tests = json_array()))
		add_tests(tests, r, &number, NULL, &err);
	return finish(root, tests, &sb, err);
}

int report_write_gradescope(const struct report *r, FILE *out)
{
	return report_dump_json(results_to_json(r), GS_FLAGS, out);
}

/*
 * A suite: every service's items, named "service: id: title" and numbered
 * on; the total score; the paragraph gives each service's verdict, and
 * extra_data the suite's totals and each service's.
 */
static json_t *suite_results_to_json(const struct suite *s)
{
	struct strbuf sb = STRBUF_INIT;
	json_t *root = json_object(), *tests, *x, *list;
	size_t i, number = 0, npassed = 0;
	int err = 0;

	if (!root)
		return NULL;
	for (i = 0; i < s->nservices; i++)
		npassed += s->services[i].report.passed;
	set(root, "score", json_integer(s->score), &err);
	set(root, "execution_time", json_integer(s->duration_ms > 0 ? (s->duration_ms + 500) / 1000 : 0),
	    &err);
	strbuf_addstr(&sb, "Phase ");
	add_text(&sb, s->phase_id, GS_MAX_SHORT);
	strbuf_addf(&sb, ", %zu service%s: %d/%d points, pass mark %d: %s. %zu of %zu passed.",
		    s->nservices, s->nservices == 1 ? "" : "s", s->score, s->max_score, s->pass_mark,
		    s->passed ? "PASSED" : "NOT PASSED", npassed, s->nservices);
	for (i = 0; i < s->nservices; i++) {
		const struct suite_service *sv = &s->services[i];

		strbuf_addch(&sb, ' ');
		add_text(&sb, sv->name, GS_MAX_SHORT);
		strbuf_addstr(&sb, " (");
		add_text(&sb, sv->language, GS_MAX_SHORT);
		strbuf_addf(&sb, "): %d/%d, %s.", sv->report.score, sv->report.max_score,
			    sv->report.passed ? "passed" : "not passed");
	}
	for (i = 0; i < sb.len; i++)
		if (sb.buf[i] == '\n')
			sb.buf[i] = ' ';
	set(root, "output", take(&sb), &err);
	set_formats(root, &err);
	if ((x = json_object())) {
		add_text(&sb, s->phase_id, GS_MAX_SHORT);
		set(x, "phase", take(&sb), &err);
		set(x, "max_score", json_integer(s->max_score), &err);
		set(x, "pass_mark", json_integer(s->pass_mark), &err);
		set(x, "passed", json_boolean(s->passed), &err);
		if ((list = json_array())) {
			for (i = 0; i < s->nservices; i++) {
				json_t *e = extra_to_json(&s->services[i].report, &err);

				if (e) {
					add_text(&sb, s->services[i].name, GS_MAX_SHORT);
					set(e, "service", take(&sb), &err);
					add_text(&sb, s->services[i].language, GS_MAX_SHORT);
					set(e, "language", take(&sb), &err);
					set(e, "score", json_integer(s->services[i].report.score), &err);
				}
				if (!e || json_array_append_new(list, e))
					err = 1;
			}
		}
		set(x, "services", list, &err);
	}
	set(root, "extra_data", x, &err);
	if ((tests = json_array()))
		for (i = 0; i < s->nservices; i++)
			add_tests(tests, &s->services[i].report, &number, s->services[i].name, &err);
	return finish(root, tests, &sb, err);
}

int suite_write_gradescope(const struct suite *s, FILE *out)
{
	return report_dump_json(suite_results_to_json(s), GS_FLAGS, out);
}
