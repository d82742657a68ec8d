/*
 * The result structure: names, lifecycle, tally, and the JSON form of the
 * report (schema "phaselab.report/v1", README.md "The contract"), which the
 * json writer prints and other writers may read.
 */
#include "report/report.h"
#include "lib/escape.h"
#include "lib/strbuf.h"
#include "lib/xalloc.h"

#include <stdlib.h>
#include <string.h>

/*
 * Longest string the JSON report carries, in bytes, before the truncation
 * marker: plenty for a message or a hint, and a bound on what a 1 MB build
 * log can make of a report.  Evidence is the check's own business (report.h).
 */
#define JSON_MAX_STRING (64 * 1024)

static const char *const status_names[] = {
	[CHECK_PASS] = "pass",
	[CHECK_FAIL] = "fail",
	[CHECK_SKIP] = "skip",
	[CHECK_ERROR] = "error",
};

const char *check_status_name(enum check_status s)
{
	if ((size_t)s >= sizeof(status_names) / sizeof(status_names[0]))
		return "unknown"; /* a bug upstream; never NULL for a printf */
	return status_names[s];
}

void check_result_release(struct check_result *c)
{
	free(c->id);
	free(c->title);
	free(c->kind);
	free(c->message);
	free(c->hint);
	free(c->cause);
	json_decref(c->evidence);
	memset(c, 0, sizeof(*c));
}

void report_release(struct report *r)
{
	size_t i;

	for (i = 0; i < r->nchecks; i++)
		check_result_release(&r->checks[i]);
	free(r->checks);
	free(r->phase_id);
	free(r->phase_title);
	free(r->dir);
	free(r->engine_client);
	free(r->engine_server);
	free(r->builder);
	free(r->engine_kind);
	memset(r, 0, sizeof(*r));
}

const char *result_cause_of(const struct check_result *c)
{
	const char *s;

	if (c->cause)
		return c->cause;
	s = json_string_value(json_object_get(c->evidence, "cause"));
	return s && *s ? s : NULL;
}

void report_count_status(const struct report *r, size_t n[4])
{
	memset(n, 0, 4 * sizeof(*n));
	for (size_t i = 0; i < r->nchecks; i++)
		if ((size_t)r->checks[i].status < 4)
			n[r->checks[i].status]++;
}

void report_tally(struct report *r)
{
	size_t i;

	r->score = 0;
	r->max_score = 0;
	for (i = 0; i < r->nchecks; i++) {
		r->score += r->checks[i].points;
		r->max_score += r->checks[i].max_points;
	}
	r->passed = r->score >= r->pass_mark;
}

/*
 * A new JSON string from learner-controlled text: bounded, and valid UTF-8
 * whatever the input (json_string() refuses invalid UTF-8, which would lose
 * the whole report).  NULL becomes "" so that the contract's types hold.
 * Returns NULL only when jansson cannot allocate.
 */
static json_t *json_text(const char *s)
{
	struct strbuf sb = STRBUF_INIT;
	size_t len, cut;
	json_t *j;

	if (!s)
		s = "";
	len = strlen(s);
	cut = escape_cut(s, len, JSON_MAX_STRING);
	escape_utf8(&sb, s, cut);
	if (cut < len)
		escape_add_truncated(&sb, len - cut);
	j = json_stringn(sb.buf, sb.len);
	strbuf_release(&sb);
	return j;
}

/* Same for a fixed-size field that may lack its NUL. */
static json_t *json_text_field(const char *s, size_t size)
{
	char *copy = xstrndup(s, size);
	json_t *j = json_text(copy);

	free(copy);
	return j;
}

/*
 * Add key to obj with value v (a new reference, stolen).  Failures pile up
 * in *err rather than being checked at every line; a NULL v (jansson out of
 * memory) counts as one.
 */
static void set(json_t *obj, const char *key, json_t *v, int *err)
{
	if (!v || json_object_set_new(obj, key, v))
		*err = 1;
}

static json_t *check_to_json(const struct check_result *c, int *err)
{
	json_t *o = json_object();

	if (!o) {
		*err = 1;
		return NULL;
	}
	set(o, "id", json_text(c->id), err);
	set(o, "title", json_text(c->title), err);
	set(o, "kind", json_text(c->kind), err);
	set(o, "status", json_string(check_status_name(c->status)), err);
	set(o, "points", json_integer(c->points), err);
	set(o, "max_points", json_integer(c->max_points), err);
	set(o, "message", json_text(c->message), err);
	/* no hint (a pass, or nothing useful to say) is null, not "" */
	set(o, "hint", c->hint ? json_text(c->hint) : json_null(), err);
	/* borrowed from the check result: the report object takes its own reference */
	set(o, "evidence", c->evidence ? json_incref(c->evidence) : json_object(), err);
	set(o, "duration_ms", json_integer(c->duration_ms), err);
	return o;
}

/*
 * New reference, keys in the contract's order; NULL only when jansson cannot
 * allocate.  Strings are copied (bounded, made valid UTF-8); evidence objects
 * are shared with the report (one more reference each), not copied.
 */
json_t *report_to_json(const struct report *r)
{
	json_t *root = json_object(), *o, *checks;
	int err = 0;
	size_t i;

	if (!root)
		return NULL;
	set(root, "schema", json_string("phaselab.report/v1"), &err);

	if ((o = json_object())) {
		set(o, "id", json_text(r->phase_id), &err);
		set(o, "title", json_text(r->phase_title), &err);
	}
	set(root, "phase", o, &err);

	if ((o = json_object())) {
		json_t *git = json_null(); /* not a git work tree */

		set(o, "dir", json_text(r->dir), &err);
		if (r->has_git && (git = json_object())) {
			set(git, "commit", json_text_field(r->commit, sizeof(r->commit)), &err);
			set(git, "dirty", json_boolean(r->dirty), &err);
		}
		set(o, "git", git, &err);
	}
	set(root, "target", o, &err);

	if ((o = json_object())) {
		set(o, "client", json_text(r->engine_client), &err);
		set(o, "server", json_text(r->engine_server), &err);
		set(o, "builder", json_text(r->builder), &err);
		set(o, "kind", json_text(r->engine_kind && *r->engine_kind ? r->engine_kind : "docker"), &err);
		set(o, "remote", json_boolean(r->engine_remote), &err);
	}
	set(root, "engine", o, &err);

	set(root, "started_at", json_text_field(r->started_at, sizeof(r->started_at)), &err);
	set(root, "duration_ms", json_integer(r->duration_ms), &err);
	set(root, "score", json_integer(r->score), &err);
	set(root, "max_score", json_integer(r->max_score), &err);
	set(root, "pass_mark", json_integer(r->pass_mark), &err);
	set(root, "passed", json_boolean(r->passed), &err);

	if ((checks = json_array())) {
		for (i = 0; i < r->nchecks; i++) {
			json_t *c = check_to_json(&r->checks[i], &err);

			if (!c || json_array_append_new(checks, c))
				err = 1;
		}
	}
	set(root, "checks", checks, &err);

	if (err) {
		json_decref(root);
		return NULL;
	}
	return root;
}
