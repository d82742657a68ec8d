#include "core/phase.h"
#include "core/check.h"
#include "lib/fsutil.h"
#include "lib/schema.h"
#include "lib/xalloc.h"

#include <ctype.h>
#include <stdio.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const struct key_spec phase_keys[] = {
	{ "schema", KEY_STRING, 0, 0, 0, "\"phaselab.phase/v1\"", NULL },
	{ "id", KEY_STRING, 1, 1, 64, "the phase's id: its folder's name (\"03-containerization\")", NULL },
	{ "number", KEY_INT, 1, 1, 99, "its number, accepted by --phase (unique across tracks)", NULL },
	{ "title", KEY_STRING, 1, 1, 200, "one line for people", NULL },
	{ "track", KEY_STRING, 0, 1, 64, "the name of its track (tracks.json)", TRACK_DEFAULT_NAME },
	{ "summary", KEY_STRING, 0, 0, 0, "a paragraph for people", NULL },
	{ "requires", KEY_STRINGS, 0, 0, 0, "ids of the phases to pass first", NULL },
	{ "service_dir", KEY_STRING, 0, 1, 200, "the service folder in a workspace", "service" },
	{ "pass_mark", KEY_INT, 1, 0, 10000, "points needed to pass", NULL },
	{ "build_timeout_s", KEY_INT, 0, 10, 7200, "time limit of one build", "600" },
	{ "base_images", KEY_STRINGS, 0, 0, 0, "images the lab provides (`make images`)", NULL },
	{ "container", KEY_OBJECT, 0, 0, 0, "how the runtime checks start the container", NULL },
	{ "checks", KEY_ARRAY, 1, 1, 64, "the checklist, in report order", NULL },
	{ "intro", KEY_STRING, 0, 1, 200, "the phase's introduction: a Markdown file in its folder", NULL },
	{ "steps", KEY_ARRAY, 0, 1, 32, "the lesson's steps, in order", NULL },
	{ "language", KEY_STRING, 0, 1, 32, "the language of the service its checklist is written for "
	  "(core/language.h)", "node" },
	{ "languages", KEY_OBJECT, 0, 0, 0, "the checklist for services in other languages: {\"python\": "
	  "{container, base_images, checks: {\"<id>\": {title, params, hints, causes}}}}, each over this one", NULL },
	{ NULL, 0, 0, 0, 0, NULL, NULL },
};

static const struct key_spec step_keys[] = {
	{ "id", KEY_STRING, 1, 1, 64, "the step's id (lowercase letters, digits, '-')", NULL },
	{ "title", KEY_STRING, 1, 1, 200, "one line for people", NULL },
	{ "lesson", KEY_STRING, 0, 1, 200, "its text: a Markdown file in the phase's folder", NULL },
	{ "checks", KEY_STRINGS, 1, 1, 64, "ids of the checks that verify it", NULL },
	{ "observational", KEY_BOOL, 0, 0, 0, "true: the step has the learner look at what is there, so its "
	  "checks pass on the starting service (tests/integration/steps exempts it)", "false" },
	{ "services", KEY_STRINGS, 0, 1, 16, "the service folders the step verifies instead of the phase's own: "
	  "names of folders beside its service_dir (\"api-gateway\")", NULL },
	{ NULL, 0, 0, 0, 0, NULL, NULL },
};

static const struct key_spec container_keys[] = {
	{ "port", KEY_INT, 0, 1, 65535, "the port the service listens on inside the container", "3000" },
	{ "env", KEY_OBJECT, 0, 0, 0, "environment variables for the container (strings)", NULL },
	{ "memory_mb", KEY_INT, 0, 16, 65536, "memory limit", "512" },
	{ "pids", KEY_INT, 0, 8, 100000, "process limit", "256" },
	{ "cpus", KEY_NUMBER, 0, 0.1, 64, "CPU limit", "1" },
	{ "start_timeout_s", KEY_INT, 0, 1, 600, "how long the service may take to answer", "20" },
	{ "exit_hint", KEY_STRING, 0, 1, 500, "what usually stops this phase's container at once: the "
	  "hint of the check that finds it stopped",
	  "a wrong CMD, a missing environment variable or a file the container's user cannot read are "
	  "the usual causes" },
	{ NULL, 0, 0, 0, 0, NULL, NULL },
};

static const struct key_spec check_keys[] = {
	{ "id", KEY_STRING, 1, 1, 64, "the report's check id", NULL },
	{ "title", KEY_STRING, 1, 1, 200, "one line for people", NULL },
	{ "kind", KEY_STRING, 1, 1, 64, "the check kind (checks/checks.c)", NULL },
	{ "points", KEY_INT, 1, 0, 10000, "points when it passes", NULL },
	{ "timeout_s", KEY_INT, 0, 1, 7200, "the item's time limit", "120" },
	{ "graded", KEY_BOOL, 0, 0, 0, "false: a step's gate that `next` verifies, not an item of the graded "
	  "checklist (`check`, the reports, the gradebook); it has 0 points", "true" },
	{ "params", KEY_OBJECT, 0, 0, 0, "the kind's parameters", NULL },
	{ "hints", KEY_STRINGS, 0, 1, 3, "hints for learners, from a nudge to the fix", NULL },
	{ "causes", KEY_OBJECT, 0, 0, 0, "hints per cause the kind reports: {\"cause id\": [nudge, diagnosis, "
	  "fix]}, 1 to 3 strings each, with {evidence_key} placeholders", NULL },
	{ NULL, 0, 0, 0, 0, NULL, NULL },
};

/*
 * "languages": {"python": {...}}: what differs for a service in another
 * language; the rest of the phase (its steps, points, pass mark) is shared.
 */
static const struct key_spec variant_keys[] = {
	{ "container", KEY_OBJECT, 0, 0, 0, "the container's keys that differ, merged key by key over the "
	  "phase's (\"env\" replaced whole)", NULL },
	{ "base_images", KEY_STRINGS, 0, 0, 0, "the images the lab provides for this language (replaces the "
	  "phase's)", NULL },
	{ "checks", KEY_OBJECT, 0, 0, 0, "per check id, what differs: {\"<id>\": {title, params, hints, "
	  "causes}}", NULL },
	{ NULL, 0, 0, 0, 0, NULL, NULL },
};

static const struct key_spec variant_check_keys[] = {
	{ "title", KEY_STRING, 0, 1, 200, "one line for people (replaces the check's)", NULL },
	{ "params", KEY_OBJECT, 0, 0, 0, "the kind's parameters that differ, merged key by key over the "
	  "check's", NULL },
	{ "hints", KEY_STRINGS, 0, 1, 3, "hints for learners (replace the check's)", NULL },
	{ "causes", KEY_OBJECT, 0, 0, 0, "hints per cause (replace the check's: the causes this language's "
	  "learners meet)", NULL },
	{ NULL, 0, 0, 0, 0, NULL, NULL },
};

/* tracks.json: the tracks of a phases folder (phase.h, struct track) */
static const struct key_spec tracks_keys[] = {
	{ "schema", KEY_STRING, 0, 0, 0, "\"phaselab.tracks/v1\"", NULL },
	{ "tracks", KEY_ARRAY, 1, 1, 32, "the tracks, in the order `phaselab list` shows them", NULL },
	{ NULL, 0, 0, 0, 0, NULL, NULL },
};

static const struct key_spec track_keys[] = {
	{ "name", KEY_STRING, 1, 1, 32, "the track's name (lowercase letters, digits, '-'): what phases and "
	  "`init --track` name", NULL },
	{ "title", KEY_STRING, 1, 1, 200, "one line for people", NULL },
	{ "summary", KEY_STRING, 0, 1, 2000, "a paragraph for people", NULL },
	{ "service", KEY_STRING, 1, 1, 64, "its starting service: the name of a folder of the labs", NULL },
	{ "workspace_dir", KEY_STRING, 0, 1, 64, "the folder `init` copies the service to in a workspace (its "
	  "phases' service_dir); default: the service's name", NULL },
	{ "readme", KEY_STRING, 1, 1, 200, "the workspace's README.md: a file of the labs, relative to it", NULL },
	{ "about", KEY_STRING, 0, 1, 60, "what `init` says of the service's folder",
	  "the service the phases work on" },
	{ "default", KEY_BOOL, 0, 0, 0, "true for exactly one track: `init` without --track, and a workspace "
	  "whose progress names no track", "false" },
	{ NULL, 0, 0, 0, 0, NULL, NULL },
};

const struct key_spec *const phase_key_tables[] = {
	phase_keys, step_keys, container_keys, check_keys, variant_keys, variant_check_keys, tracks_keys,
	track_keys, NULL,
};

#define TRACKS_FILE "tracks.json"
#define TRACKS_SCHEMA "phaselab.tracks/v1"

static char **str_array(json_t *arr, size_t *n)
{
	char **v;
	json_t *el;
	size_t i;

	*n = json_array_size(arr);
	v = xcalloc(*n + 1, sizeof(*v));
	json_array_foreach(arr, i, el)
		v[i] = xstrdup(json_string_value(el));
	return v;
}

static void free_strv(char **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

static int valid_id(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!(islower((unsigned char)*s) || isdigit((unsigned char)*s) || *s == '-' || *s == '_'))
			return 0;
	return 1;
}

static int load_container(struct phase *ph, json_t *c, struct strbuf *err)
{
	const char *key;
	json_t *v;
	size_t i = 0;

	if (c && validate_object(c, container_keys, ph->file, "container", err) < 0)
		return -1;
	ph->port = (int)spec_int(c, container_keys, "port");
	ph->memory_mb = (long)spec_int(c, container_keys, "memory_mb");
	ph->pids = (long)spec_int(c, container_keys, "pids");
	ph->cpus = spec_num(c, container_keys, "cpus");
	ph->start_timeout_ms = (long)spec_int(c, container_keys, "start_timeout_s") * 1000;
	ph->exit_hint = spec_str(c, container_keys, "exit_hint");
	if (!c)
		return 0;
	ph->nenv = json_object_size(json_object_get(c, "env"));
	ph->env = xcalloc(ph->nenv + 1, sizeof(*ph->env));
	json_object_foreach(json_object_get(c, "env"), key, v) {
		if (!json_is_string(v) || !*key || strchr(key, '=')) {
			strbuf_addf(err, "%s: container.env.%s: must be a string with a name without '='",
				    ph->file, key);
			return -1;
		}
		ph->env[i++] = xasprintf("%s=%s", key, json_string_value(v));
	}
	return 0;
}

/* "causes": { "<id the kind declares>": [1 to 3 strings] }. */
static int load_causes(struct phase *ph, struct check_def *d, json_t *causes, const char *where,
		       struct strbuf *err)
{
	const char *id;
	json_t *tiers, *t;
	size_t i;

	if (!causes)
		return 0;
	d->causes = xcalloc(json_object_size(causes) + 1, sizeof(*d->causes));
	json_object_foreach(causes, id, tiers) {
		struct check_cause *c = &d->causes[d->ncauses];
		char key[160];

		snprintf(key, sizeof(key), "%s.causes.%s", where, id);
		if (!kind_has_cause(d->kind, id)) {
			strbuf_addf(err, "%s: %s: the kind %s reports no such cause (", ph->file, key, d->kind->name);
			if (!d->kind->causes || !*d->kind->causes)
				strbuf_addstr(err, "it reports none");
			else
				strbuf_addstr(err, "it reports:");
			for (const char *const *k = d->kind->causes; k && *k; k++)
				strbuf_addf(err, " %s", *k);
			strbuf_addch(err, ')');
			return -1;
		}
		if (!json_is_array(tiers) || json_array_size(tiers) < 1 || json_array_size(tiers) > 3) {
			strbuf_addf(err, "%s: %s: must be an array of 1 to 3 strings (a nudge, the diagnosis, "
				    "the fix)", ph->file, key);
			return -1;
		}
		json_array_foreach(tiers, i, t) {
			if (!json_is_string(t) || !*json_string_value(t)) {
				strbuf_addf(err, "%s: %s[%zu]: must be a string, not empty", ph->file, key, i);
				return -1;
			}
		}
		c->id = xstrdup(id);
		c->tiers = str_array(tiers, &c->ntiers);
		d->ncauses++;
	}
	return 0;
}

static int load_checks(struct phase *ph, json_t *arr, struct strbuf *err)
{
	json_t *c;
	size_t i;

	ph->checks = xcalloc(json_array_size(arr), sizeof(*ph->checks));
	json_array_foreach(arr, i, c) {
		struct check_def *d = &ph->checks[i];
		char where[32];
		const char *id, *kind;
		json_t *params;

		snprintf(where, sizeof(where), "checks[%zu]", i);
		if (validate_object(c, check_keys, ph->file, where, err) < 0)
			return -1;
		id = obj_str(c, "id", "");
		kind = obj_str(c, "kind", "");
		if (!valid_id(id)) {
			strbuf_addf(err, "%s: %s.id: '%s' is not an id (lowercase letters, digits, '-')",
				    ph->file, where, id);
			return -1;
		}
		for (size_t j = 0; j < ph->nchecks; j++) {
			if (!strcmp(ph->checks[j].id, id)) {
				strbuf_addf(err, "%s: %s.id: '%s' is already the id of checks[%zu]",
					    ph->file, where, id, j);
				return -1;
			}
		}
		d->kind = check_kind_find(kind);
		if (!d->kind) {
			strbuf_addf(err, "%s: %s.kind: unknown kind '%s' (known:", ph->file, where, kind);
			for (const struct check_kind *const *k = check_kinds; *k; k++)
				strbuf_addf(err, " %s", (*k)->name);
			strbuf_addch(err, ')');
			return -1;
		}
		params = json_object_get(c, "params");
		params = params ? json_incref(params) : json_object();
		d->params = params;
		d->id = xstrdup(id);
		d->title = xstrdup(obj_str(c, "title", id));
		d->points = (int)obj_int(c, "points", 0);
		d->graded = spec_bool(c, check_keys, "graded");
		d->timeout_ms = (long)spec_int(c, check_keys, "timeout_s") * 1000;
		d->hints = str_array(json_object_get(c, "hints"), &d->nhints);
		ph->nchecks++;
		if (!d->graded && d->points) {
			strbuf_addf(err, "%s: %s.points: a check that is not graded has 0 points, not %d",
				    ph->file, where, d->points);
			return -1;
		}
		{
			char pwhere[48];
			snprintf(pwhere, sizeof(pwhere), "%s.params", where);
			if (validate_object(params, d->kind->params, ph->file, pwhere, err) < 0)
				return -1;
		}
		if (load_causes(ph, d, json_object_get(c, "causes"), where, err) < 0)
			return -1;
	}
	return 0;
}

/*
 * A lesson file named in a phase file: a relative path inside the phase's
 * folder (no "..", no absolute path) to a regular file that exists.
 */
static int lesson_path_ok(const struct phase *ph, const char *key, const char *rel, struct strbuf *err)
{
	struct stat sb;
	char *path;
	int ok;

	if (rel[0] == '/' || !strcmp(rel, "..") || !strncmp(rel, "../", 3) || strstr(rel, "/../") ||
	    (strlen(rel) >= 3 && !strcmp(rel + strlen(rel) - 3, "/.."))) {
		strbuf_addf(err, "%s: %s: '%s' must be a path inside the phase's folder", ph->file, key, rel);
		return -1;
	}
	path = xasprintf("%s/%s", ph->dir, rel);
	ok = stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
	if (!ok)
		strbuf_addf(err, "%s: %s: no such file '%s'", ph->file, key, path);
	free(path);
	return ok ? 0 : -1;
}

static int plain_name(const char *s);

/*
 * A step's "services": folders beside the phase's service_dir (plain names,
 * each once), which the step verifies instead of the phase's own service.
 */
static int load_step_services(struct phase *ph, struct phase_step *s, json_t *arr, const char *where,
			      struct strbuf *err)
{
	json_t *v;
	size_t j;

	if (!arr)
		return 0;
	json_array_foreach(arr, j, v) {
		const char *name = json_string_value(v);

		if (!plain_name(name)) {
			strbuf_addf(err, "%s: %s.services[%zu]: '%s' must be the name of a service folder beside "
				    "'%s' (a plain folder name: no '/', not starting with '.')", ph->file, where, j,
				    name, ph->service_dir);
			return -1;
		}
		for (size_t k = 0; k < j; k++) {
			if (!strcmp(json_string_value(json_array_get(arr, k)), name)) {
				strbuf_addf(err, "%s: %s.services[%zu]: '%s' is already services[%zu]", ph->file,
					    where, j, name, k);
				return -1;
			}
		}
	}
	s->services = str_array(arr, &s->nservices);
	return 0;
}

/* The steps, or one step holding every check when the phase gives none. */
static int load_steps(struct phase *ph, json_t *arr, struct strbuf *err)
{
	unsigned char *covered;
	json_t *st;
	size_t i;
	int rc = -1;

	if (!arr) {
		ph->steps = xcalloc(1, sizeof(*ph->steps));
		ph->nsteps = 1;
		ph->steps[0].id = xstrdup("checklist");
		ph->steps[0].title = xstrdup(ph->title);
		ph->steps[0].checks = xcalloc(ph->nchecks, sizeof(size_t));
		for (i = 0; i < ph->nchecks; i++)
			ph->steps[0].checks[i] = i;
		ph->steps[0].nchecks = ph->nchecks;
		return 0;
	}
	covered = xcalloc(ph->nchecks + 1, 1);
	ph->steps = xcalloc(json_array_size(arr), sizeof(*ph->steps));
	json_array_foreach(arr, i, st) {
		struct phase_step *s = &ph->steps[i];
		char where[32], key[48];
		const char *id;
		json_t *c;
		size_t j;

		snprintf(where, sizeof(where), "steps[%zu]", i);
		if (validate_object(st, step_keys, ph->file, where, err) < 0)
			goto out;
		id = obj_str(st, "id", "");
		if (!valid_id(id)) {
			strbuf_addf(err, "%s: %s.id: '%s' is not an id (lowercase letters, digits, '-')",
				    ph->file, where, id);
			goto out;
		}
		if (phase_step_index(ph, id) >= 0) {
			strbuf_addf(err, "%s: %s.id: '%s' is already the id of steps[%d]",
				    ph->file, where, id, phase_step_index(ph, id));
			goto out;
		}
		s->id = xstrdup(id);
		s->title = xstrdup(obj_str(st, "title", id));
		ph->nsteps++;
		if (json_object_get(st, "lesson")) {
			snprintf(key, sizeof(key), "%s.lesson", where);
			if (lesson_path_ok(ph, key, obj_str(st, "lesson", ""), err) < 0)
				goto out;
			s->lesson = xstrdup(obj_str(st, "lesson", ""));
		}
		if (load_step_services(ph, s, json_object_get(st, "services"), where, err) < 0)
			goto out;
		s->checks = xcalloc(json_array_size(json_object_get(st, "checks")), sizeof(size_t));
		json_array_foreach(json_object_get(st, "checks"), j, c) {
			const struct check_def *d = phase_check(ph, json_string_value(c));
			if (!d) {
				strbuf_addf(err, "%s: %s.checks[%zu]: no check has the id '%s'",
					    ph->file, where, j, json_string_value(c));
				goto out;
			}
			s->checks[s->nchecks++] = (size_t)(d - ph->checks);
			covered[d - ph->checks] = 1;
		}
	}
	/* a check no step verifies would never be seen by a learner walking the phase */
	for (i = 0; i < ph->nchecks; i++) {
		if (!covered[i]) {
			strbuf_addf(err, "%s: steps: no step verifies the check '%s' (name it in a step's checks)",
				    ph->file, ph->checks[i].id);
			goto out;
		}
	}
	rc = 0;
out:
	free(covered);
	return rc;
}

int phase_step_index(const struct phase *ph, const char *id)
{
	for (size_t i = 0; i < ph->nsteps; i++)
		if (ph->steps[i].id && !strcmp(ph->steps[i].id, id))
			return (int)i;
	return -1;
}

static int load_languages(struct phase *ph, json_t *languages, struct strbuf *err);

/* The phase in root (owned from here on: ph->root) as the file `file` holds it. */
static int load_doc(const char *file, json_t *root, struct phase *ph, struct strbuf *err)
{
	char *slash;

	memset(ph, 0, sizeof(*ph));
	ph->file = xstrdup(file);
	ph->dir = xstrdup(file);
	slash = strrchr(ph->dir, '/');
	if (slash)
		*slash = '\0';
	else
		strcpy(ph->dir, ".");
	ph->root = root;
	if (validate_object(root, phase_keys, file, "", err) < 0)
		return -1;
	if (strcmp(obj_str(root, "schema", "phaselab.phase/v1"), "phaselab.phase/v1")) {
		strbuf_addf(err, "%s: schema: '%s' is not a schema this version reads (phaselab.phase/v1)",
			    file, obj_str(root, "schema", ""));
		return -1;
	}
	ph->id = xstrdup(obj_str(root, "id", ""));
	if (!valid_id(ph->id)) {
		strbuf_addf(err, "%s: id: '%s' is not an id (lowercase letters, digits, '-')", file, ph->id);
		return -1;
	}
	ph->number = (int)obj_int(root, "number", 0);
	ph->track = xstrdup(spec_str(root, phase_keys, "track"));
	if (!valid_id(ph->track)) {
		strbuf_addf(err, "%s: track: '%s' is not a track's name (lowercase letters, digits, '-')", file,
			    ph->track);
		return -1;
	}
	ph->language = xstrdup(spec_str(root, phase_keys, "language"));
	if (!valid_id(ph->language)) {
		strbuf_addf(err, "%s: language: '%s' is not a language's name (lowercase letters, digits, '-')",
			    file, ph->language);
		return -1;
	}
	ph->title = xstrdup(obj_str(root, "title", ""));
	ph->service_dir = xstrdup(spec_str(root, phase_keys, "service_dir"));
	ph->pass_mark = (int)obj_int(root, "pass_mark", 0);
	ph->build_timeout_ms = (long)spec_int(root, phase_keys, "build_timeout_s") * 1000;
	ph->requires = str_array(json_object_get(root, "requires"), &ph->nrequires);
	ph->base_images = str_array(json_object_get(root, "base_images"), &ph->nbase_images);
	if (load_container(ph, json_object_get(root, "container"), err) < 0)
		return -1;
	if (load_checks(ph, json_object_get(root, "checks"), err) < 0)
		return -1;
	if (json_object_get(root, "intro")) {
		if (lesson_path_ok(ph, "intro", obj_str(root, "intro", ""), err) < 0)
			return -1;
		ph->intro = xstrdup(obj_str(root, "intro", ""));
	}
	if (load_steps(ph, json_object_get(root, "steps"), err) < 0)
		return -1;
	{
		int max = 0;
		for (size_t i = 0; i < ph->nchecks; i++)
			max += ph->checks[i].points;
		if (ph->pass_mark > max) {
			strbuf_addf(err, "%s: pass_mark: %d is more than the %d points the checks give",
				    file, ph->pass_mark, max);
			return -1;
		}
	}
	return load_languages(ph, json_object_get(root, "languages"), err);
}

int phase_load_file(const char *file, struct phase *ph, struct strbuf *err)
{
	json_error_t jerr;
	json_t *root;

	root = json_load_file(file, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		memset(ph, 0, sizeof(*ph));
		if (jerr.line < 0)
			strbuf_addf(err, "%s: %s", file, jerr.text);
		else
			strbuf_addf(err, "%s:%d:%d: not valid JSON: %s", file, jerr.line, jerr.column, jerr.text);
		return -1;
	}
	return load_doc(file, root, ph, err);
}

/* ---- languages --------------------------------------------------------------- */

/*
 * The phase document for language: root with its variant v merged in, the
 * variant's language as its own and no variants left (new reference).
 * Validation is the loader's: this only merges.
 */
static json_t *merge_variant(json_t *root, const char *language, json_t *v)
{
	json_t *doc = json_deep_copy(root), *vc, *vchecks, *c;
	size_t i;

	json_object_del(doc, "languages");
	json_object_set_new(doc, "language", json_string(language));
	vc = json_object_get(v, "container");
	if (vc) {
		json_t *container = json_object_get(doc, "container");
		if (!container)
			json_object_set_new(doc, "container", container = json_object());
		json_object_update(container, vc);
	}
	if (json_object_get(v, "base_images"))
		json_object_set(doc, "base_images", json_object_get(v, "base_images"));
	vchecks = json_object_get(v, "checks");
	json_array_foreach(json_object_get(doc, "checks"), i, c) {
		json_t *vcheck = json_object_get(vchecks, obj_str(c, "id", ""));
		static const char *const replaced[] = { "title", "hints", "causes", NULL };

		if (!json_is_object(vcheck))
			continue;
		for (const char *const *k = replaced; *k; k++)
			if (json_object_get(vcheck, *k))
				json_object_set(c, *k, json_object_get(vcheck, *k));
		if (json_object_get(vcheck, "params")) {
			json_t *params = json_object_get(c, "params");
			if (!params)
				json_object_set_new(c, "params", params = json_object());
			json_object_update(params, json_object_get(vcheck, "params"));
		}
	}
	return doc;
}

/* One variant's "checks" entry: a check of the phase, with keys and params its kind takes. */
static int load_variant_check(struct phase *ph, const char *id, json_t *vc, const char *where,
			      struct strbuf *err)
{
	const struct check_def *base = phase_check(ph, id);
	struct check_def tmp = { 0 };
	json_t *params;
	char *key = xasprintf("%s.checks.%s", where, id), *pkey = xasprintf("%s.params", key);
	int rc = -1;

	if (!base) {
		strbuf_addf(err, "%s: %s: the phase has no check with the id '%s' (checks:", ph->file, key, id);
		for (size_t i = 0; i < ph->nchecks; i++)
			strbuf_addf(err, " %s", ph->checks[i].id);
		strbuf_addch(err, ')');
		goto out;
	}
	if (validate_object(vc, variant_check_keys, ph->file, key, err) < 0)
		goto out;
	/* the merged params must be what the kind takes, named where the variant wrote them */
	params = json_deep_copy(base->params);
	if (json_is_object(json_object_get(vc, "params")))
		json_object_update(params, json_object_get(vc, "params"));
	rc = validate_object(params, base->kind->params, ph->file, pkey, err);
	json_decref(params);
	if (rc < 0)
		goto out;
	tmp.kind = base->kind;
	rc = load_causes(ph, &tmp, json_object_get(vc, "causes"), key, err);
	for (size_t c = 0; c < tmp.ncauses; c++) {
		free(tmp.causes[c].id);
		free_strv(tmp.causes[c].tiers, tmp.causes[c].ntiers);
	}
	free(tmp.causes);
out:
	free(pkey);
	free(key);
	return rc;
}

/*
 * "languages": each variant's keys and types, named by its path in the file;
 * then the phase it makes is loaded whole, so that whatever holds for a
 * phase holds for it too.
 */
static int load_languages(struct phase *ph, json_t *languages, struct strbuf *err)
{
	const char *lang, *id;
	json_t *v, *vc, *vv;

	json_object_foreach(languages, lang, v) {
		struct phase merged;
		json_t *doc;
		char *where = xasprintf("languages.%s", lang);
		int rc = -1;

		if (!valid_id(lang)) {
			strbuf_addf(err, "%s: %s: '%s' is not a language's name (lowercase letters, digits, '-')",
				    ph->file, where, lang);
			goto next;
		}
		if (!strcmp(lang, ph->language)) {
			strbuf_addf(err, "%s: %s: '%s' is the phase's own language (\"language\"): its checklist is "
				    "the phase's checks", ph->file, where, lang);
			goto next;
		}
		if (!json_is_object(v)) {
			strbuf_addf(err, "%s: %s: must be an object", ph->file, where);
			goto next;
		}
		if (validate_object(v, variant_keys, ph->file, where, err) < 0)
			goto next;
		vc = json_object_get(v, "container");
		if (vc) {
			char *ckey = xasprintf("%s.container", where);
			rc = validate_object(vc, container_keys, ph->file, ckey, err);
			free(ckey);
			if (rc < 0)
				goto next;
			rc = -1;
			json_object_foreach(json_object_get(vc, "env"), id, vv) {
				if (!json_is_string(vv) || !*id || strchr(id, '=')) {
					strbuf_addf(err, "%s: %s.container.env.%s: must be a string with a name without '='",
						    ph->file, where, id);
					goto next;
				}
			}
		}
		json_object_foreach(json_object_get(v, "checks"), id, vc) {
			if (!json_is_object(vc)) {
				strbuf_addf(err, "%s: %s.checks.%s: must be an object", ph->file, where, id);
				goto next;
			}
			if (load_variant_check(ph, id, vc, where, err) < 0)
				goto next;
		}
		doc = merge_variant(ph->root, lang, v);
		rc = load_doc(ph->file, doc, &merged, err);
		phase_release(&merged);
		if (rc < 0) {
			/* what the merge broke that the checks above do not name (env, say): say it is the variant's */
			strbuf_addf(err, " (in the phase %s makes)", where);
		}
next:
		free(where);
		if (rc < 0)
			return -1;
	}
	return 0;
}

int phase_for_language(const struct phase *base, const char *language, struct phase *out, struct strbuf *err)
{
	json_t *v;
	int rc;

	if (!language || !strcmp(language, base->language)) {
		rc = load_doc(base->file, json_deep_copy(base->root), out, err);
	} else {
		v = json_object_get(json_object_get(base->root, "languages"), language);
		if (!v) {
			strbuf_addf(err, "phase %s has no checklist for %s", base->id, language);
			return 1;
		}
		rc = load_doc(base->file, merge_variant(base->root, language, v), out, err);
	}
	if (rc < 0)
		phase_release(out);
	return rc < 0 ? -1 : 0;
}

char *phases_root(void)
{
	return install_dir("PHASELAB_PHASES", "phases");
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names of the phase folders in root (folders with a phase.json), sorted. */
static int list_phase_dirs(const char *root, char ***names_out, size_t *n_out, struct strbuf *err)
{
	DIR *d = opendir(root);
	struct dirent *de;
	struct stat sb;
	char **names = NULL;
	size_t n = 0, cap = 0;

	if (!d) {
		strbuf_addf(err, "cannot read the phases folder '%s': %s (set PHASELAB_PHASES)",
			    root, strerror(errno));
		return -1;
	}
	while ((de = readdir(d))) {
		char *pj;
		int is_phase;

		if (de->d_name[0] == '.')
			continue;
		/* a phase is a folder with a phase.json; a README beside them is not one */
		pj = xasprintf("%s/%s/phase.json", root, de->d_name);
		is_phase = stat(pj, &sb) == 0 && S_ISREG(sb.st_mode);
		free(pj);
		if (!is_phase)
			continue;
		if (n == cap)
			names = xrealloc(names, (cap = cap ? cap * 2 : 8) * sizeof(*names));
		names[n++] = xstrdup(de->d_name);
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof(*names), cmp_str);
	*names_out = names;
	*n_out = n;
	return 0;
}

/*
 * Which of names[] `which` means: an exact name, a number (the folder's
 * leading digits) or an unambiguous prefix, of the name or of the name past
 * its number ("orch" for "10-orchestrator-image").  The index, or -1 with a
 * message listing the known names (scope, when given, says where:
 * "the track 'backend'").
 */
static int match_phase(char *const *names, size_t n, const char *which, const char *scope, struct strbuf *err)
{
	int numeric = *which && strspn(which, "0123456789") == strlen(which);
	size_t nmatch = 0, wlen = strlen(which);
	int match = -1;

	for (size_t i = 0; i < n; i++) {
		const char *word = names[i] + strspn(names[i], "0123456789");
		int hit;

		if (!strcmp(names[i], which))
			return (int)i;
		word += word != names[i] && *word == '-';
		if (numeric)
			hit = isdigit((unsigned char)names[i][0]) && atoi(names[i]) == atoi(which);
		else
			hit = *which && (!strncmp(names[i], which, wlen) || (word != names[i] && !strncmp(word, which, wlen)));
		if (hit) {
			match = (int)i;
			nmatch++;
		}
	}
	if (nmatch == 1)
		return match;
	strbuf_addf(err, "%s phase '%s'%s%s (known:", nmatch ? "ambiguous" : "no", which, scope ? " in " : "",
		    scope ? scope : "");
	for (size_t i = 0; i < n; i++)
		strbuf_addf(err, " %s", names[i]);
	strbuf_addch(err, ')');
	return -1;
}

/* Load root/name/phase.json and insist its id is its folder's name. */
static int load_named(const char *root, const char *name, struct phase *ph, struct strbuf *err)
{
	char *file = xasprintf("%s/%s/phase.json", root, name);
	int rc = phase_load_file(file, ph, err);

	if (rc == 0 && strcmp(ph->id, name)) {
		strbuf_addf(err, "%s: id: '%s' differs from its folder's name '%s'", file, ph->id, name);
		rc = -1;
	}
	free(file);
	return rc;
}

static void free_names(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* ---- tracks ---------------------------------------------------------------- */

/* A folder name of the labs or of a workspace: one plain component. */
static int plain_name(const char *s)
{
	if (!*s || *s == '.')
		return 0;
	for (; *s; s++)
		if (!(isalnum((unsigned char)*s) || *s == '-' || *s == '_' || *s == '.'))
			return 0;
	return 1;
}

/* A relative path with no "..", no empty or "." component. */
static int plain_path(const char *s)
{
	const char *p = s;

	if (!*s || *s == '/')
		return 0;
	while (*p) {
		size_t len = strcspn(p, "/");
		if (len == 0 || (len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.'))
			return 0;
		p += len;
		if (*p)
			p++;
		else
			break;
	}
	return s[strlen(s) - 1] != '/';
}

/* The workshop, as it was before tracks: the one track of a folder without tracks.json. */
static void track_implicit(struct track_set *ts)
{
	struct track *t;

	ts->tracks = xcalloc(1, sizeof(*ts->tracks));
	ts->n = 1;
	t = &ts->tracks[0];
	t->name = xstrdup(TRACK_DEFAULT_NAME);
	t->title = xstrdup("Containerization workshop");
	t->service = xstrdup("service");
	t->workspace_dir = xstrdup("service");
	t->readme = xstrdup("workspace/README.md");
	t->about = xstrdup("the service you will containerize");
	t->is_default = 1;
}

static int load_track(struct track_set *ts, json_t *o, size_t i, struct strbuf *err)
{
	struct track *t = &ts->tracks[ts->n];
	char where[32];
	const char *name, *service, *wdir, *readme;

	snprintf(where, sizeof(where), "tracks[%zu]", i);
	if (validate_object(o, track_keys, ts->file, where, err) < 0)
		return -1;
	name = obj_str(o, "name", "");
	service = obj_str(o, "service", "");
	wdir = obj_str(o, "workspace_dir", service);
	readme = obj_str(o, "readme", "");
	if (!valid_id(name)) {
		strbuf_addf(err, "%s: %s.name: '%s' is not a track's name (lowercase letters, digits, '-')",
			    ts->file, where, name);
		return -1;
	}
	if (track_find(ts, name)) {
		strbuf_addf(err, "%s: %s.name: '%s' is the name of an earlier track", ts->file, where, name);
		return -1;
	}
	if (!plain_name(service) || !plain_name(wdir)) {
		strbuf_addf(err, "%s: %s.%s: '%s' must be a plain folder name (no '/', not starting with '.')",
			    ts->file, where, plain_name(service) ? "workspace_dir" : "service",
			    plain_name(service) ? wdir : service);
		return -1;
	}
	if (!plain_path(readme)) {
		strbuf_addf(err, "%s: %s.readme: '%s' must be a relative path inside the labs folder", ts->file,
			    where, readme);
		return -1;
	}
	t->name = xstrdup(name);
	t->title = xstrdup(obj_str(o, "title", name));
	t->summary = json_object_get(o, "summary") ? xstrdup(obj_str(o, "summary", "")) : NULL;
	t->service = xstrdup(service);
	t->workspace_dir = xstrdup(wdir);
	t->readme = xstrdup(readme);
	t->about = xstrdup(spec_str(o, track_keys, "about"));
	t->is_default = spec_bool(o, track_keys, "default");
	ts->n++;
	return 0;
}

int tracks_load(const char *root, struct track_set *ts, struct strbuf *err)
{
	struct stat sb;
	json_error_t jerr;
	json_t *doc, *o;
	const struct track *def = NULL;
	size_t i;
	int rc = -1;

	memset(ts, 0, sizeof(*ts));
	ts->file = xasprintf("%s/%s", root, TRACKS_FILE);
	if (lstat(ts->file, &sb) < 0 && errno == ENOENT) {
		free(ts->file);
		ts->file = NULL;
		track_implicit(ts);
		return 0;
	}
	if (lstat(ts->file, &sb) < 0 || !S_ISREG(sb.st_mode)) {
		strbuf_addf(err, "%s: not a regular file", ts->file);
		return -1;
	}
	doc = json_load_file(ts->file, JSON_REJECT_DUPLICATES, &jerr);
	if (!doc) {
		strbuf_addf(err, "%s:%d:%d: not valid JSON: %s", ts->file, jerr.line, jerr.column, jerr.text);
		return -1;
	}
	if (validate_object(doc, tracks_keys, ts->file, "", err) < 0)
		goto out;
	if (strcmp(obj_str(doc, "schema", TRACKS_SCHEMA), TRACKS_SCHEMA)) {
		strbuf_addf(err, "%s: schema: '%s' is not a schema this version reads (%s)", ts->file,
			    obj_str(doc, "schema", ""), TRACKS_SCHEMA);
		goto out;
	}
	ts->tracks = xcalloc(json_array_size(json_object_get(doc, "tracks")), sizeof(*ts->tracks));
	json_array_foreach(json_object_get(doc, "tracks"), i, o) {
		if (!json_is_object(o)) {
			strbuf_addf(err, "%s: tracks[%zu]: must be an object", ts->file, i);
			goto out;
		}
		if (load_track(ts, o, i, err) < 0)
			goto out;
		if (ts->tracks[ts->n - 1].is_default) {
			if (def) {
				strbuf_addf(err, "%s: tracks[%zu].default: '%s' is already the default track; only "
					    "one may be", ts->file, i, def->name);
				goto out;
			}
			def = &ts->tracks[ts->n - 1];
		}
	}
	if (!def) {
		strbuf_addf(err, "%s: tracks: no track is the default (\"default\": true on one of them: the "
			    "track of `phaselab init` without --track)", ts->file);
		goto out;
	}
	rc = 0;
out:
	json_decref(doc);
	return rc;
}

const struct track *track_find(const struct track_set *ts, const char *name)
{
	for (size_t i = 0; name && i < ts->n; i++)
		if (!strcmp(ts->tracks[i].name, name))
			return &ts->tracks[i];
	return NULL;
}

const struct track *track_default(const struct track_set *ts)
{
	for (size_t i = 0; i < ts->n; i++)
		if (ts->tracks[i].is_default)
			return &ts->tracks[i];
	return ts->n ? &ts->tracks[0] : NULL;
}

void track_names(const struct track_set *ts, struct strbuf *sb)
{
	for (size_t i = 0; i < ts->n; i++)
		strbuf_addf(sb, "%s%s", i ? ", " : "", ts->tracks[i].name);
}

void track_set_release(struct track_set *ts)
{
	for (size_t i = 0; i < ts->n; i++) {
		struct track *t = &ts->tracks[i];
		free(t->name);
		free(t->title);
		free(t->summary);
		free(t->service);
		free(t->workspace_dir);
		free(t->readme);
		free(t->about);
	}
	free(ts->tracks);
	free(ts->file);
	memset(ts, 0, sizeof(*ts));
}

/* "backend/10" into the track's name (new string, *rest after the slash); NULL without one. */
static char *split_track(const char *which, const char **rest)
{
	const char *slash = strchr(which, '/');

	if (!slash)
		return NULL;
	*rest = slash + 1;
	return xstrndup(which, (size_t)(slash - which));
}

static int unknown_track(const struct track_set *ts, const char *name, struct strbuf *err)
{
	strbuf_addf(err, "no track '%s' (known: ", name);
	track_names(ts, err);
	strbuf_addch(err, ')');
	return -1;
}

/* The track a phase file names, read without loading the phase; NULL when it cannot be read. */
static char *peek_track(const char *root, const char *name)
{
	char *file = xasprintf("%s/%s/phase.json", root, name), *track = NULL;
	json_t *doc = json_load_file(file, 0, NULL);
	json_t *t = json_object_get(doc, "track");

	if (doc)
		track = xstrdup(json_is_string(t) ? json_string_value(t) : TRACK_DEFAULT_NAME);
	json_decref(doc);
	free(file);
	return track;
}

int phase_find(const char *root, const char *which, struct phase *ph, struct strbuf *err)
{
	struct track_set ts = { 0 };
	char **names, *track, *scope;
	const char *rest = which;
	size_t n;
	int i, rc = -1;

	memset(ph, 0, sizeof(*ph));
	track = split_track(which, &rest);
	if (track && tracks_load(root, &ts, err) < 0)
		goto done;
	if (track && !track_find(&ts, track)) {
		unknown_track(&ts, track, err);
		goto done;
	}
	if (list_phase_dirs(root, &names, &n, err) < 0)
		goto done;
	if (track) {
		/* only the track's phases are candidates; a file that cannot be read stays one, to be reported */
		size_t k = 0;
		for (size_t j = 0; j < n; j++) {
			char *t = peek_track(root, names[j]);
			if (!t || !strcmp(t, track))
				names[k++] = names[j];
			else
				free(names[j]);
			free(t);
		}
		n = k;
	}
	scope = track ? xasprintf("the track '%s'", track) : NULL;
	i = match_phase(names, n, rest, scope, err);
	if (i >= 0)
		rc = load_named(root, names[i], ph, err);
	free(scope);
	free_names(names, n);
done:
	free(track);
	track_set_release(&ts);
	return rc;
}

static int cmp_number(const void *a, const void *b)
{
	const struct phase *x = a, *y = b;
	return x->number - y->number;
}

static int set_index(const struct phase_set *set, const char *id)
{
	for (size_t i = 0; i < set->nall; i++)
		if (!strcmp(set->phases[i].id, id))
			return (int)i;
	return -1;
}

/* Depth-first search for a cycle through i; state: 0 new, 1 on the path, 2 done. */
static int find_cycle(const struct phase_set *set, size_t i, unsigned char *state, struct strbuf *path)
{
	const struct phase *ph = &set->phases[i];

	if (state[i] == 2)
		return 0;
	if (state[i] == 1) {
		strbuf_addstr(path, ph->id);
		return 1;
	}
	state[i] = 1;
	for (size_t r = 0; r < ph->nrequires; r++) {
		size_t before = path->len;
		strbuf_addf(path, "%s -> ", ph->id);
		if (find_cycle(set, (size_t)set_index(set, ph->requires[r]), state, path))
			return 1;
		strbuf_setlen(path, before);
	}
	state[i] = 2;
	return 0;
}

/*
 * Whether dir is the folder top or a folder beneath it: for "services",
 * "services" and "services/user-service", not "services-old", "services/"
 * nor "services/../x".
 */
static int within_folder(const char *dir, const char *top)
{
	size_t n = strlen(top);

	if (strncmp(dir, top, n))
		return 0;
	if (!dir[n])
		return 1;
	return dir[n] == '/' && plain_path(dir + n + 1);
}

/*
 * Each phase's track is known and gives the workspace the folder the phase
 * works on, or the folder that holds it (the workshop's services/).
 */
static int check_tracks(struct phase_set *set, struct strbuf *err)
{
	for (size_t i = 0; i < set->nall; i++) {
		const struct phase *ph = &set->phases[i];
		const struct track *t = track_find(&set->tracks, ph->track);

		if (!t) {
			strbuf_addf(err, "%s: track: no track '%s' (known: ", ph->file, ph->track);
			track_names(&set->tracks, err);
			strbuf_addf(err, "%s)", set->tracks.file ? "" : "; without a tracks.json the folder has only "
				    "the workshop");
			return -1;
		}
		if (!within_folder(ph->service_dir, t->workspace_dir)) {
			strbuf_addf(err, "%s: service_dir: '%s' is neither the folder its track '%s' gives a "
				    "workspace ('%s') nor a folder beneath it", ph->file, ph->service_dir, t->name,
				    t->workspace_dir);
			return -1;
		}
	}
	return 0;
}

int phase_set_load(const char *root, struct phase_set *set, struct strbuf *err)
{
	char **names;
	size_t n;
	unsigned char *state;
	int rc = -1;

	memset(set, 0, sizeof(*set));
	set->root = xstrdup(root);
	if (tracks_load(root, &set->tracks, err) < 0)
		return -1;
	if (list_phase_dirs(root, &names, &n, err) < 0)
		return -1;
	set->phases = xcalloc(n ? n : 1, sizeof(*set->phases));
	for (size_t i = 0; i < n; i++) {
		if (load_named(root, names[i], &set->phases[i], err) < 0) {
			phase_release(&set->phases[i]);
			goto out;
		}
		set->n = ++set->nall;
	}
	if (!n) {
		strbuf_addf(err, "the phases folder '%s' holds no phase (folders with a phase.json)", root);
		goto out;
	}
	if (check_tracks(set, err) < 0)
		goto out;
	qsort(set->phases, set->n, sizeof(*set->phases), cmp_number);
	for (size_t i = 0; i + 1 < set->n; i++) {
		if (set->phases[i].number == set->phases[i + 1].number) {
			strbuf_addf(err, "%s: number: %d is also the number of %s", set->phases[i + 1].file,
				    set->phases[i].number, set->phases[i].file);
			goto out;
		}
	}
	for (size_t i = 0; i < set->n; i++) {
		const struct phase *ph = &set->phases[i];
		for (size_t r = 0; r < ph->nrequires; r++) {
			int k = set_index(set, ph->requires[r]);
			if (k < 0) {
				strbuf_addf(err, "%s: requires[%zu]: no phase has the id '%s' (known:",
					    ph->file, r, ph->requires[r]);
				for (size_t j = 0; j < set->n; j++)
					strbuf_addf(err, " %s", set->phases[j].id);
				strbuf_addch(err, ')');
				goto out;
			}
			/* a learner follows one track: a phase of another could never open */
			if (strcmp(set->phases[k].track, ph->track)) {
				strbuf_addf(err, "%s: requires[%zu]: '%s' is a phase of the track '%s', and this phase "
					    "is of the track '%s': a phase requires only phases of its own track",
					    ph->file, r, ph->requires[r], set->phases[k].track, ph->track);
				goto out;
			}
		}
	}
	state = xcalloc(set->n, 1);
	for (size_t i = 0; i < set->n; i++) {
		struct strbuf path = STRBUF_INIT;
		if (find_cycle(set, i, state, &path)) {
			strbuf_addf(err, "%s: requires: the phases require each other in a cycle (%s)",
				    set->phases[i].file, path.buf);
			strbuf_release(&path);
			free(state);
			goto out;
		}
		strbuf_release(&path);
	}
	free(state);
	rc = 0;
out:
	free_names(names, n);
	return rc;
}

int phase_set_select_track(struct phase_set *set, const char *name, struct strbuf *err)
{
	const struct track *t = track_find(&set->tracks, name);
	struct phase *part;
	size_t k = 0;

	if (!t)
		return unknown_track(&set->tracks, name, err);
	/* numbers are unique: sorted by number, then the track's phases moved first, in that order */
	qsort(set->phases, set->nall, sizeof(*set->phases), cmp_number);
	part = xcalloc(set->nall ? set->nall : 1, sizeof(*part));
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < set->nall; i++)
			if (!strcmp(set->phases[i].track, name) == !pass)
				part[k++] = set->phases[i];
	free(set->phases);
	set->phases = part;
	for (set->n = 0; set->n < set->nall && !strcmp(set->phases[set->n].track, name); set->n++)
		;
	set->selected = t;
	return 0;
}

/* Which of phases[from..to) `which` means, as match_phase; -1 with its message. */
static int match_in(struct phase_set *set, size_t from, size_t to, const char *track, const char *which,
		    struct strbuf *err)
{
	char **ids = xcalloc(to - from + 1, sizeof(*ids));
	size_t *at = xcalloc(to - from + 1, sizeof(*at));
	size_t n = 0;
	char *scope;
	int i;

	for (size_t k = from; k < to; k++) {
		if (track && strcmp(set->phases[k].track, track))
			continue;
		at[n] = k;
		ids[n++] = set->phases[k].id;
	}
	scope = track ? xasprintf("the track '%s'", track) : NULL;
	i = match_phase(ids, n, which, scope, err);
	i = i < 0 ? -1 : (int)at[i];
	free(scope);
	free(ids);
	free(at);
	return i;
}

struct phase *phase_set_find(struct phase_set *set, const char *which, struct strbuf *err)
{
	const char *rest = which;
	char *track = split_track(which, &rest);
	struct strbuf quiet = STRBUF_INIT;
	struct phase *found = NULL;
	int i;

	if (track && !track_find(&set->tracks, track)) {
		unknown_track(&set->tracks, track, err);
		goto out;
	}
	i = match_in(set, 0, set->n, track, rest, err);
	if (i >= 0) {
		found = &set->phases[i];
		goto out;
	}
	if (track && set->selected && strcmp(track, set->selected->name))
		i = match_in(set, set->n, set->nall, track, rest, &quiet);
	else if (!track)
		i = match_in(set, set->n, set->nall, NULL, rest, &quiet);
	if (i >= 0) {
		/* a phase out of view: say whose it is rather than that it does not exist */
		const struct phase *ph = &set->phases[i];
		const struct track *t = track_find(&set->tracks, ph->track);

		strbuf_reset(err);
		strbuf_addf(err, "phase %d (%s) is of the track '%s', and this workspace follows the track '%s'; "
			    "`phaselab init --track %s DIR` makes a workspace for it", ph->number, ph->id,
			    ph->track, set->selected ? set->selected->name : "?", t ? t->name : ph->track);
	}
out:
	strbuf_release(&quiet);
	free(track);
	return found;
}

size_t phase_set_of_track(const struct phase_set *set, const struct track *t, const struct phase **out)
{
	size_t k = 0;

	for (size_t i = 0; i < set->nall; i++)
		if (!strcmp(set->phases[i].track, t->name))
			out[k++] = &set->phases[i];
	/* in view or not, by number */
	for (size_t a = 1; a < k; a++)
		for (size_t b = a; b > 0 && out[b - 1]->number > out[b]->number; b--) {
			const struct phase *tmp = out[b];
			out[b] = out[b - 1];
			out[b - 1] = tmp;
		}
	return k;
}

void phase_set_release(struct phase_set *set)
{
	for (size_t i = 0; i < set->nall; i++)
		phase_release(&set->phases[i]);
	free(set->phases);
	free(set->root);
	track_set_release(&set->tracks);
	memset(set, 0, sizeof(*set));
}

const struct check_def *phase_check(const struct phase *ph, const char *id)
{
	for (size_t i = 0; i < ph->nchecks; i++)
		if (!strcmp(ph->checks[i].id, id))
			return &ph->checks[i];
	return NULL;
}

const struct check_cause *check_def_cause(const struct check_def *def, const char *id)
{
	for (size_t i = 0; id && i < def->ncauses; i++)
		if (!strcmp(def->causes[i].id, id))
			return &def->causes[i];
	return NULL;
}

void phase_release(struct phase *ph)
{
	for (size_t i = 0; i < ph->nchecks; i++) {
		free(ph->checks[i].id);
		free(ph->checks[i].title);
		free(ph->checks[i].waits_on);
		free_strv(ph->checks[i].hints, ph->checks[i].nhints);
		for (size_t c = 0; c < ph->checks[i].ncauses; c++) {
			free(ph->checks[i].causes[c].id);
			free_strv(ph->checks[i].causes[c].tiers, ph->checks[i].causes[c].ntiers);
		}
		free(ph->checks[i].causes);
		json_decref(ph->checks[i].params);
	}
	free(ph->checks);
	for (size_t i = 0; i < ph->nsteps; i++) {
		free(ph->steps[i].id);
		free(ph->steps[i].title);
		free(ph->steps[i].lesson);
		free(ph->steps[i].checks);
		free_strv(ph->steps[i].services, ph->steps[i].nservices);
	}
	free(ph->steps);
	free(ph->intro);
	free_strv(ph->requires, ph->nrequires);
	free_strv(ph->base_images, ph->nbase_images);
	free_strv(ph->env, ph->nenv);
	free(ph->file);
	free(ph->dir);
	free(ph->id);
	free(ph->track);
	free(ph->language);
	free(ph->title);
	free(ph->service_dir);
	json_decref(ph->root);
	memset(ph, 0, sizeof(*ph));
}
