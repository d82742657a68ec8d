/*
 * Reading a JSON report back (report_from_json()): the inverse of
 * report_to_json(), so that `phaselab check --format json` can be rendered
 * again in any other format.  Each object's keys are declared once, in the
 * tables below, and checked with validate_object() (schema.h).
 */
#include "report/report.h"
#include "lib/escape.h"
#include "lib/schema.h"
#include "lib/strbuf.h"
#include "lib/xalloc.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

/*
 * report.c's bound on a string in the JSON report: they must agree (the
 * round-trip test in tests/unit/test_report_formats.c fails if they do not).
 */
#define JSON_MAX_STRING (64 * 1024)
/* Most filler a report may restore, in all (report.h): a hostile file is not a malloc bomb. */
#define RESTORE_BUDGET (64 * 1024 * 1024)
/* escape_cut() backs up at most 3 bytes from the bound (a UTF-8 sequence's tail). */
#define CUT_MAX_BACK 3

#define INT_BOUNDS INT_MIN, INT_MAX
#define LONG_BOUNDS (double)LONG_MIN, (double)LONG_MAX

static const struct key_spec top_keys[] = {
	{ "schema", KEY_STRING, 1, 0, 0, "\"phaselab.report/v1\"", NULL },
	{ "phase", KEY_OBJECT, 1, 0, 0, "the phase: id and title", NULL },
	{ "target", KEY_OBJECT, 1, 0, 0, "what was checked: dir and git", NULL },
	{ "engine", KEY_OBJECT, 1, 0, 0, "client, server and builder", NULL },
	{ "started_at", KEY_STRING, 1, 0, 39, "RFC 3339, UTC", NULL },
	{ "duration_ms", KEY_INT, 1, LONG_BOUNDS, "the whole run", NULL },
	{ "score", KEY_INT, 1, INT_BOUNDS, "points earned", NULL },
	{ "max_score", KEY_INT, 1, INT_BOUNDS, "points available", NULL },
	{ "pass_mark", KEY_INT, 1, INT_BOUNDS, "points needed to pass", NULL },
	{ "passed", KEY_BOOL, 1, 0, 0, "score >= pass_mark", NULL },
	{ "checks", KEY_ARRAY, 1, 0, 0, "one object per item", NULL },
	{ NULL, 0, 0, 0, 0, NULL, NULL },
};

static const struct key_spec phase_keys[] = {
	{ "id", KEY_STRING, 1, 0, 0, "03-containerization", NULL },
	{ "title", KEY_STRING, 1, 0, 0, "for people", NULL },
	{ NULL, 0, 0, 0, 0, NULL, NULL },
};

static const struct key_spec target_keys[] = {
	{ "dir", KEY_STRING, 1, 0, 0, "the folder that was built", NULL },
	{ "git", KEY_OBJECT, 0, 0, 0, "commit and dirty, or null: not a git work tree", NULL },
	{ NULL, 0, 0, 0, 0, NULL, NULL },
};
static const char *const target_nullable[] = { "git", NULL };

static const struct key_spec git_keys[] = {
	{ "commit", KEY_STRING, 1, 0, 40, "the commit's full hash, \"\" before the first", NULL },
	{ "dirty", KEY_BOOL, 1, 0, 0, "uncommitted changes", NULL },
	{ NULL, 0, 0, 0, 0, NULL, NULL },
};

static const struct key_spec engine_keys[] = {
	{ "client", KEY_STRING, 1, 0, 0, "the CLI's version", NULL },
	{ "server", KEY_STRING, 1, 0, 0, "the engine's version", NULL },
	{ "builder", KEY_STRING, 1, 0, 0, "\"legacy\" or \"buildkit\"", NULL },
	/* optional: reports written before there was a second engine have neither */
	{ "kind", KEY_STRING, 0, 0, 0, "\"docker\" or \"podman\"", NULL },
	{ "remote", KEY_BOOL, 0, 0, 0, "the engine's server is on another machine", NULL },
	{ NULL, 0, 0, 0, 0, NULL, NULL },
};

static const struct key_spec check_keys[] = {
	{ "id", KEY_STRING, 1, 0, 0, "the item's id in the phase", NULL },
	{ "title", KEY_STRING, 1, 0, 0, "for people", NULL },
	{ "kind", KEY_STRING, 1, 0, 0, "the check kind that ran", NULL },
	{ "status", KEY_STRING, 1, 0, 0, "pass, fail, skip or error", NULL },
	{ "points", KEY_INT, 1, INT_BOUNDS, "points earned", NULL },
	{ "max_points", KEY_INT, 1, INT_BOUNDS, "points available", NULL },
	{ "message", KEY_STRING, 1, 0, 0, "what was observed", NULL },
	{ "hint", KEY_STRING, 0, 0, 0, "how to fix it, or null", NULL },
	{ "evidence", KEY_OBJECT, 1, 0, 0, "the check's own data", NULL },
	{ "duration_ms", KEY_INT, 1, LONG_BOUNDS, "the item's run", NULL },
	{ NULL, 0, 0, 0, 0, NULL, NULL },
};
static const char *const check_nullable[] = { "hint", NULL };

/* Append a value from the file to a message: bounded, and inert on a terminal. */
static void add_value(struct strbuf *err, const char *s)
{
	escape_term_bounded(err, s, strlen(s), 64, 0);
}

/* How the table names the type of a nullable key (only strings and objects are). */
static const char *nullable_type(const struct key_spec *spec, const char *key)
{
	for (; spec->key; spec++)
		if (!strcmp(spec->key, key))
			return spec->type == KEY_OBJECT ? "an object" : "a string";
	return "a value";
}

struct reader {
	struct strbuf *err;
	size_t budget; /* filler still allowed (RESTORE_BUDGET) */
};

/*
 * validate_object() for an object at path where, whose keys in nullable
 * must be present but may be null (the table says their type otherwise).
 * Messages are "KEY: problem": the caller knows the file's name, we do not.
 */
static int validate(json_t *obj, const struct key_spec *spec, const char *const *nullable,
		    const char *where, struct strbuf *err)
{
	struct strbuf msg = STRBUF_INIT;
	json_t *copy = NULL;
	int ret;

	for (; nullable && *nullable && json_is_object(obj); nullable++) {
		json_t *v = json_object_get(obj, *nullable);

		if (!v) {
			strbuf_addf(err, "%s%s%s: missing (%s or null, required)", where,
				    *where ? "." : "", *nullable,
				    nullable_type(spec, *nullable));
			json_decref(copy);
			return -1;
		}
		if (json_is_null(v)) {
			/* null stands for "none": check the rest without it */
			if (!copy && !(copy = json_copy(obj))) {
				strbuf_addstr(err, "out of memory");
				return -1;
			}
			json_object_del(copy, *nullable);
		}
	}
	ret = validate_object(copy ? copy : obj, spec, "", where, &msg);
	json_decref(copy);
	if (ret)
		/* validate_object() starts with "FILE: ", and the file name is "" here */
		strbuf_addstr(err, strncmp(msg.buf, ": ", 2) ? msg.buf : msg.buf + 2);
	strbuf_release(&msg);
	return ret;
}

/*
 * If s[0..len) is a string report_to_json() cut (longer than its bound, and
 * ending with the marker for the bytes it left out), the length of the kept
 * text and of what was left out; else 0.
 */
static int cut_by_json(const char *s, size_t len, size_t *kept, size_t *dropped)
{
	static const char head[] = "\xe2\x80\xa6 [truncated, ";
	struct strbuf marker = STRBUF_INIT;
	const char *digits;
	int ok;

	if (len <= JSON_MAX_STRING)
		return 0;
	/* the kept text is the bound, or up to CUT_MAX_BACK bytes less */
	for (*kept = JSON_MAX_STRING - CUT_MAX_BACK; *kept <= JSON_MAX_STRING; ++*kept)
		if (len - *kept > sizeof(head) && !memcmp(s + *kept, head, sizeof(head) - 1))
			break;
	digits = s + *kept + sizeof(head) - 1;
	if (*kept > JSON_MAX_STRING || *digits < '0' || *digits > '9')
		return 0;
	*dropped = strtoull(digits, NULL, 10);
	/* the same marker byte for byte, and enough left out for the cut to have happened */
	escape_add_truncated(&marker, *dropped);
	ok = marker.len == len - *kept && !memcmp(marker.buf, s + *kept, marker.len) &&
	     *dropped > JSON_MAX_STRING - *kept;
	strbuf_release(&marker);
	return ok;
}

/*
 * A copy of the string s[0..len) as the report holds it: the original length
 * back when report_to_json() had cut it (report.h), within the budget.  The
 * filler after the kept text must make escape_cut() stop where it stopped
 * before: when the cut backed up over k bytes of a character, the filler
 * starts with a character of k + 1 bytes that ends at the bound; spaces then.
 */
static char *restore(struct reader *rd, const char *s, size_t len)
{
	static const char *const lead[] = { "", "\xc2\xa0", "\xe2\x80\xa6", "\xf0\x9f\x94\x87" };
	struct strbuf sb = STRBUF_INIT;
	size_t kept, dropped, k;

	if (!cut_by_json(s, len, &kept, &dropped) || dropped > rd->budget)
		return xstrndup(s, len);
	rd->budget -= dropped;
	k = JSON_MAX_STRING - kept;
	strbuf_grow(&sb, kept + dropped);
	strbuf_add(&sb, s, kept);
	strbuf_addstr(&sb, lead[k]);
	while (sb.len < kept + dropped)
		strbuf_addch(&sb, ' ');
	return strbuf_detach(&sb, NULL);
}

/* The string at obj.key (validated: present, a string), new; NULL with a message if it holds a NUL. */
static char *get_string(struct reader *rd, json_t *obj, const char *key, const char *where)
{
	json_t *v = json_object_get(obj, key);
	const char *s = json_string_value(v);
	size_t len = json_string_length(v);

	if (strlen(s) != len) {
		strbuf_addf(rd->err, "%s%s%s: contains a NUL character (\\u0000)", where,
			    *where ? "." : "", key);
		return NULL;
	}
	return restore(rd, s, len);
}

/* Same into a fixed-size field (the table bounds its length). */
static void get_field(json_t *obj, const char *key, char *field, size_t size)
{
	const char *s = json_string_value(json_object_get(obj, key));

	snprintf(field, size, "%s", s);
}

static int get_status(struct reader *rd, json_t *obj, const char *where, enum check_status *st)
{
	static const enum check_status all[] = { CHECK_PASS, CHECK_FAIL, CHECK_SKIP, CHECK_ERROR };
	const char *s = json_string_value(json_object_get(obj, "status"));
	size_t i;

	for (i = 0; i < ARRAY_SIZE(all); i++) {
		if (!strcmp(s, check_status_name(all[i]))) {
			*st = all[i];
			return 0;
		}
	}
	strbuf_addf(rd->err, "%s.status: unknown status '", where);
	add_value(rd->err, s);
	strbuf_addstr(rd->err, "' (known:");
	for (i = 0; i < ARRAY_SIZE(all); i++)
		strbuf_addf(rd->err, " %s", check_status_name(all[i]));
	strbuf_addch(rd->err, ')');
	return -1;
}

/* Strings of an object, all or nothing: 0, or -1 with the message. */
#define STRING(dst, obj, key, where) \
	do { \
		if (!((dst) = get_string(rd, (obj), (key), (where)))) \
			return -1; \
	} while (0)

static int read_check(struct reader *rd, json_t *o, const char *where, struct check_result *c)
{
	json_t *hint;

	if (validate(o, check_keys, check_nullable, where, rd->err))
		return -1;
	STRING(c->id, o, "id", where);
	STRING(c->title, o, "title", where);
	STRING(c->kind, o, "kind", where);
	if (get_status(rd, o, where, &c->status))
		return -1;
	c->points = (int)json_integer_value(json_object_get(o, "points"));
	c->max_points = (int)json_integer_value(json_object_get(o, "max_points"));
	STRING(c->message, o, "message", where);
	hint = json_object_get(o, "hint");
	if (!json_is_null(hint))
		STRING(c->hint, o, "hint", where);
	/* borrowed from root: the check result owns a reference of its own */
	c->evidence = json_incref(json_object_get(o, "evidence"));
	c->duration_ms = (long)json_integer_value(json_object_get(o, "duration_ms"));
	return 0;
}

/*
 * What a report and a suite both hold at the top (root validated against
 * their own table): phase, target, engine, time and score, into r.
 */
static int read_head(struct reader *rd, json_t *root, struct report *r)
{
	json_t *o, *git;

	o = json_object_get(root, "phase");
	if (validate(o, phase_keys, NULL, "phase", rd->err))
		return -1;
	STRING(r->phase_id, o, "id", "phase");
	STRING(r->phase_title, o, "title", "phase");

	o = json_object_get(root, "target");
	if (validate(o, target_keys, target_nullable, "target", rd->err))
		return -1;
	STRING(r->dir, o, "dir", "target");
	git = json_object_get(o, "git");
	if (!json_is_null(git)) {
		if (validate(git, git_keys, NULL, "target.git", rd->err))
			return -1;
		r->has_git = 1;
		get_field(git, "commit", r->commit, sizeof(r->commit));
		r->dirty = json_is_true(json_object_get(git, "dirty"));
	}

	o = json_object_get(root, "engine");
	if (validate(o, engine_keys, NULL, "engine", rd->err))
		return -1;
	STRING(r->engine_client, o, "client", "engine");
	STRING(r->engine_server, o, "server", "engine");
	STRING(r->builder, o, "builder", "engine");
	if (json_is_string(json_object_get(o, "kind")))
		STRING(r->engine_kind, o, "kind", "engine");
	else
		r->engine_kind = xstrdup("docker");
	r->engine_remote = json_is_true(json_object_get(o, "remote"));

	get_field(root, "started_at", r->started_at, sizeof(r->started_at));
	r->duration_ms = (long)json_integer_value(json_object_get(root, "duration_ms"));
	r->score = (int)json_integer_value(json_object_get(root, "score"));
	r->max_score = (int)json_integer_value(json_object_get(root, "max_score"));
	r->pass_mark = (int)json_integer_value(json_object_get(root, "pass_mark"));
	/* as written, not recomputed: the reader renders, it does not grade */
	r->passed = json_is_true(json_object_get(root, "passed"));
	return 0;
}

static int read_report(struct reader *rd, json_t *root, struct report *r)
{
	struct strbuf where = STRBUF_INIT;
	json_t *o, *checks;
	const char *schema;
	size_t i;
	int ret = 0;

	if (validate(root, top_keys, NULL, "", rd->err))
		return -1;
	schema = json_string_value(json_object_get(root, "schema"));
	if (strcmp(schema, "phaselab.report/v1")) {
		strbuf_addstr(rd->err, "schema: '");
		add_value(rd->err, schema);
		strbuf_addstr(rd->err, "' is not a schema this version reads (phaselab.report/v1)");
		return -1;
	}

	if (read_head(rd, root, r))
		return -1;

	checks = json_object_get(root, "checks");
	r->checks = xcalloc(json_array_size(checks) ? json_array_size(checks) : 1,
			    sizeof(*r->checks));
	json_array_foreach(checks, i, o) {
		strbuf_reset(&where);
		strbuf_addf(&where, "checks[%zu]", i);
		/* counted first: report_release() frees what a half-read check holds */
		r->nchecks++;
		if ((ret = read_check(rd, o, where.buf, &r->checks[i])))
			break;
	}
	strbuf_release(&where);
	return ret;
}

/* read (the whole report, or its head) into r, zeroed first and released on failure. */
static int read_into(int (*read)(struct reader *, json_t *, struct report *), json_t *root,
		     struct report *r, struct strbuf *err)
{
	struct reader rd = { err, RESTORE_BUDGET };

	memset(r, 0, sizeof(*r));
	if (read(&rd, root, r)) {
		report_release(r);
		return -1;
	}
	return 0;
}

int report_from_json(json_t *root, struct report *r, struct strbuf *err)
{
	return read_into(read_report, root, r, err);
}

int report_head_from_json(json_t *root, struct report *r, struct strbuf *err)
{
	return read_into(read_head, root, r, err);
}

int report_validate_json(json_t *obj, const struct key_spec *spec, const char *const *nullable,
			 const char *where, struct strbuf *err)
{
	return validate(obj, spec, nullable, where, err);
}
