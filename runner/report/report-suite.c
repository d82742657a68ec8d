/*
 * The suite's JSON (schema "phaselab.suite/v1", DESIGN.md "Several
 * services"), its reader, and the dispatch of the suite writers: the other
 * formats' suite writers live beside their single-report writers
 * (report-text.c, ...), whose pieces they reuse.
 */
#include "report/report.h"
#include "lib/schema.h"
#include "lib/strbuf.h"
#include "lib/xalloc.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define SUITE_SCHEMA "phaselab.suite/v1"
/* As report.c's JSON_MAX_STRING: a name or a folder is never near it. */
#define SUITE_MAX_STRING 4096

static void set(json_t *obj, const char *key, json_t *v, int *err)
{
	if (!v || json_object_set_new(obj, key, v))
		*err = 1;
}

/* A string the suite itself holds (never a check's output): valid UTF-8 or replaced, bounded. */
static json_t *str(const char *s, size_t size)
{
	size_t len = s ? strnlen(s, size < SUITE_MAX_STRING ? size : SUITE_MAX_STRING) : 0;
	json_t *j = json_stringn(s ? s : "", len);

	/* json_stringn refuses invalid UTF-8: such a name is shown as it can be */
	if (!j && s) {
		char *copy = xstrndup(s, len);

		for (char *p = copy; *p; p++)
			if ((unsigned char)*p >= 0x80)
				*p = '?';
		j = json_string(copy);
		free(copy);
	}
	return j;
}

json_t *suite_to_json(const struct suite *s)
{
	json_t *root = json_object(), *o, *services;
	int err = 0;

	if (!root)
		return NULL;
	set(root, "schema", json_string(SUITE_SCHEMA), &err);
	if ((o = json_object())) {
		set(o, "id", str(s->phase_id, SIZE_MAX), &err);
		set(o, "title", str(s->phase_title, SIZE_MAX), &err);
	}
	set(root, "phase", o, &err);
	if ((o = json_object())) {
		json_t *git = json_null();

		set(o, "dir", str(s->dir, SIZE_MAX), &err);
		if (s->has_git && (git = json_object())) {
			set(git, "commit", str(s->commit, sizeof(s->commit)), &err);
			set(git, "dirty", json_boolean(s->dirty), &err);
		}
		set(o, "git", git, &err);
	}
	set(root, "target", o, &err);
	if ((o = json_object())) {
		set(o, "client", str(s->engine_client, SIZE_MAX), &err);
		set(o, "server", str(s->engine_server, SIZE_MAX), &err);
		set(o, "builder", str(s->builder, SIZE_MAX), &err);
		set(o, "kind", str(s->engine_kind && *s->engine_kind ? s->engine_kind : "docker", SIZE_MAX), &err);
		set(o, "remote", json_boolean(s->engine_remote), &err);
	}
	set(root, "engine", o, &err);
	set(root, "started_at", str(s->started_at, sizeof(s->started_at)), &err);
	set(root, "duration_ms", json_integer(s->duration_ms), &err);
	set(root, "score", json_integer(s->score), &err);
	set(root, "max_score", json_integer(s->max_score), &err);
	set(root, "pass_mark", json_integer(s->pass_mark), &err);
	set(root, "passed", json_boolean(s->passed), &err);
	if ((services = json_array())) {
		for (size_t i = 0; i < s->nservices; i++) {
			const struct suite_service *sv = &s->services[i];
			json_t *e = json_object();

			if (!e || json_array_append_new(services, e)) {
				err = 1;
				continue;
			}
			set(e, "name", str(sv->name, SIZE_MAX), &err);
			set(e, "dir", str(sv->dir, SIZE_MAX), &err);
			set(e, "language", str(sv->language, SIZE_MAX), &err);
			set(e, "report", report_to_json(&sv->report), &err);
		}
	}
	set(root, "services", services, &err);
	if (err) {
		json_decref(root);
		return NULL;
	}
	return root;
}

int suite_write_json(const struct suite *s, FILE *out)
{
	/* as the report's: two-space indent, the contract's key order */
	return report_dump_json(suite_to_json(s), JSON_INDENT(2) | JSON_PRESERVE_ORDER, out);
}

const char *report_json_schema(json_t *root)
{
	return json_string_value(json_object_get(root, "schema"));
}

/* ---- reading a saved suite --------------------------------------------- */

#define INT_BOUNDS INT_MIN, INT_MAX
#define LONG_BOUNDS (double)LONG_MIN, (double)LONG_MAX

static const struct key_spec top_keys[] = {
	{ "schema", KEY_STRING, 1, 0, 0, "\"" SUITE_SCHEMA "\"", NULL },
	{ "phase", KEY_OBJECT, 1, 0, 0, "the phase: id and title", NULL },
	{ "target", KEY_OBJECT, 1, 0, 0, "the system's folder: dir and git", NULL },
	{ "engine", KEY_OBJECT, 1, 0, 0, "client, server and builder", NULL },
	{ "started_at", KEY_STRING, 1, 0, 39, "RFC 3339, UTC", NULL },
	{ "duration_ms", KEY_INT, 1, LONG_BOUNDS, "the whole run", NULL },
	{ "score", KEY_INT, 1, INT_BOUNDS, "the services' points", NULL },
	{ "max_score", KEY_INT, 1, INT_BOUNDS, "the services' points available", NULL },
	{ "pass_mark", KEY_INT, 1, INT_BOUNDS, "the services' pass marks, summed", NULL },
	{ "passed", KEY_BOOL, 1, 0, 0, "every service passed", NULL },
	{ "services", KEY_ARRAY, 1, 0, 0, "one object per service", NULL },
	{ NULL, 0, 0, 0, 0, NULL, NULL },
};

static const struct key_spec service_keys[] = {
	{ "name", KEY_STRING, 1, 0, 0, "the service's folder name", NULL },
	{ "dir", KEY_STRING, 1, 0, 0, "its folder", NULL },
	{ "language", KEY_STRING, 1, 0, 0, "node, python", NULL },
	{ "report", KEY_OBJECT, 1, 0, 0, "a phaselab.report/v1 object", NULL },
	{ NULL, 0, 0, 0, 0, NULL, NULL },
};

static char *dup_key(json_t *o, const char *key)
{
	return xstrdup(json_string_value(json_object_get(o, key)));
}

/* The suite takes over what head holds (report_head_from_json). */
static void take_head(struct suite *s, struct report *head)
{
	s->phase_id = head->phase_id;
	s->phase_title = head->phase_title;
	s->dir = head->dir;
	s->has_git = head->has_git;
	memcpy(s->commit, head->commit, sizeof(s->commit));
	s->dirty = head->dirty;
	s->engine_client = head->engine_client;
	s->engine_server = head->engine_server;
	s->builder = head->builder;
	s->engine_kind = head->engine_kind;
	s->engine_remote = head->engine_remote;
	memcpy(s->started_at, head->started_at, sizeof(s->started_at));
	s->duration_ms = head->duration_ms;
	s->score = head->score;
	s->max_score = head->max_score;
	s->pass_mark = head->pass_mark;
	s->passed = head->passed;
}

static int read_suite(json_t *root, struct suite *s, struct strbuf *err)
{
	const char *schema;
	json_t *o, *services;
	struct report head;
	size_t i;

	if (!json_is_object(root)) {
		strbuf_addstr(err, "the document is not a JSON object");
		return -1;
	}
	if (report_validate_json(root, top_keys, NULL, "", err))
		return -1;
	schema = json_string_value(json_object_get(root, "schema"));
	if (strcmp(schema, SUITE_SCHEMA)) {
		strbuf_addstr(err, "schema: not \"" SUITE_SCHEMA "\"");
		return -1;
	}
	/* the head is a report's: read as report_from_json reads it */
	if (report_head_from_json(root, &head, err))
		return -1;
	take_head(s, &head);

	services = json_object_get(root, "services");
	s->services = xcalloc(json_array_size(services) ? json_array_size(services) : 1, sizeof(*s->services));
	json_array_foreach(services, i, o) {
		struct suite_service *sv = &s->services[i];
		struct strbuf where = STRBUF_INIT, rerr = STRBUF_INIT;
		int bad;

		strbuf_addf(&where, "services[%zu]", i);
		bad = report_validate_json(o, service_keys, NULL, where.buf, err);
		if (!bad) {
			/* counted first: suite_release() frees what a half-read service holds */
			s->nservices++;
			sv->name = dup_key(o, "name");
			sv->dir = dup_key(o, "dir");
			sv->language = dup_key(o, "language");
			if (report_from_json(json_object_get(o, "report"), &sv->report, &rerr) < 0) {
				strbuf_addf(err, "%s.report.%s", where.buf, rerr.buf);
				bad = 1;
			} else {
				sv->status = sv->report.passed ? 0 : 1;
			}
		}
		strbuf_release(&where);
		strbuf_release(&rerr);
		if (bad)
			return -1;
	}
	return 0;
}

int suite_from_json(json_t *root, struct suite *s, struct strbuf *err)
{
	memset(s, 0, sizeof(*s));
	if (read_suite(root, s, err)) {
		suite_release(s);
		return -1;
	}
	return 0;
}

/* ---- dispatch ----------------------------------------------------------- */

static int text(const struct suite *s, FILE *out, int color) { return suite_write_text(s, out, color); }
static int json(const struct suite *s, FILE *out, int color) { (void)color; return suite_write_json(s, out); }
static int junit(const struct suite *s, FILE *out, int color) { (void)color; return suite_write_junit(s, out); }
static int markdown(const struct suite *s, FILE *out, int color) { (void)color; return suite_write_markdown(s, out); }
static int gradescope(const struct suite *s, FILE *out, int color) { (void)color; return suite_write_gradescope(s, out); }
static int html(const struct suite *s, FILE *out, int color) { (void)color; return suite_write_html(s, out); }

/* By report_format name, so that --format's table stays the one list of formats. */
static const struct {
	const char *name;
	suite_writer_fn write;
} writers[] = {
	{ "text", text }, { "json", json }, { "junit", junit },
	{ "markdown", markdown }, { "gradescope", gradescope }, { "html", html },
};

suite_writer_fn suite_writer_find(const char *format)
{
	for (size_t i = 0; i < ARRAY_SIZE(writers); i++)
		if (format && !strcmp(writers[i].name, format))
			return writers[i].write;
	return NULL;
}

struct suite_job {
	suite_writer_fn write;
	const struct suite *s;
};

static int write_job(const void *arg, FILE *out, int color)
{
	const struct suite_job *job = arg;

	return job->write(job->s, out, color);
}

int suite_write_to(const struct suite *s, const char *format, const char *path)
{
	struct suite_job job = { suite_writer_find(format), s };

	if (!job.write) {
		errno = EINVAL;
		return -1;
	}
	return report_write_stream_to(write_job, &job, path);
}
