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
	{ "number", KEY_INT, 1, 1, 99, "its number, accepted by --phase", NULL },
	{ "title", KEY_STRING, 1, 1, 200, "one line for people", NULL },
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
	{ NULL, 0, 0, 0, 0, NULL, NULL },
};

static const struct key_spec step_keys[] = {
	{ "id", KEY_STRING, 1, 1, 64, "the step's id (lowercase letters, digits, '-')", NULL },
	{ "title", KEY_STRING, 1, 1, 200, "one line for people", NULL },
	{ "lesson", KEY_STRING, 0, 1, 200, "its text: a Markdown file in the phase's folder", NULL },
	{ "checks", KEY_STRINGS, 1, 1, 64, "ids of the checks that verify it", NULL },
	{ "observational", KEY_BOOL, 0, 0, 0, "true: the step has the learner look at what is there, so its "
	  "checks pass on the starting service (tests/integration/steps exempts it)", "false" },
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

const struct key_spec *const phase_key_tables[] = {
	phase_keys, step_keys, container_keys, check_keys, NULL,
};

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

int phase_load_file(const char *file, struct phase *ph, struct strbuf *err)
{
	json_error_t jerr;
	json_t *root;
	char *slash;

	memset(ph, 0, sizeof(*ph));
	ph->file = xstrdup(file);
	ph->dir = xstrdup(file);
	slash = strrchr(ph->dir, '/');
	if (slash)
		*slash = '\0';
	else
		strcpy(ph->dir, ".");

	root = json_load_file(file, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		if (jerr.line < 0)
			strbuf_addf(err, "%s: %s", file, jerr.text);
		else
			strbuf_addf(err, "%s:%d:%d: not valid JSON: %s", file, jerr.line, jerr.column, jerr.text);
		return -1;
	}
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
	return 0;
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
 * leading digits) or an unambiguous prefix.  The index, or -1 with a message
 * listing the known names.
 */
static int match_phase(char *const *names, size_t n, const char *which, struct strbuf *err)
{
	int numeric = *which && strspn(which, "0123456789") == strlen(which);
	size_t nmatch = 0;
	int match = -1;

	for (size_t i = 0; i < n; i++) {
		int hit;
		if (!strcmp(names[i], which))
			return (int)i;
		if (numeric)
			hit = isdigit((unsigned char)names[i][0]) && atoi(names[i]) == atoi(which);
		else
			hit = *which && !strncmp(names[i], which, strlen(which));
		if (hit) {
			match = (int)i;
			nmatch++;
		}
	}
	if (nmatch == 1)
		return match;
	strbuf_addf(err, "%s phase '%s' (known:", nmatch ? "ambiguous" : "no", which);
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

int phase_find(const char *root, const char *which, struct phase *ph, struct strbuf *err)
{
	char **names;
	size_t n;
	int i, rc = -1;

	memset(ph, 0, sizeof(*ph));
	if (list_phase_dirs(root, &names, &n, err) < 0)
		return -1;
	i = match_phase(names, n, which, err);
	if (i >= 0)
		rc = load_named(root, names[i], ph, err);
	free_names(names, n);
	return rc;
}

static int cmp_number(const void *a, const void *b)
{
	const struct phase *x = a, *y = b;
	return x->number - y->number;
}

static int set_index(const struct phase_set *set, const char *id)
{
	for (size_t i = 0; i < set->n; i++)
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

int phase_set_load(const char *root, struct phase_set *set, struct strbuf *err)
{
	char **names;
	size_t n;
	unsigned char *state;
	int rc = -1;

	memset(set, 0, sizeof(*set));
	set->root = xstrdup(root);
	if (list_phase_dirs(root, &names, &n, err) < 0)
		return -1;
	set->phases = xcalloc(n ? n : 1, sizeof(*set->phases));
	for (size_t i = 0; i < n; i++) {
		if (load_named(root, names[i], &set->phases[i], err) < 0) {
			phase_release(&set->phases[i]);
			goto out;
		}
		set->n++;
	}
	if (!n) {
		strbuf_addf(err, "the phases folder '%s' holds no phase (folders with a phase.json)", root);
		goto out;
	}
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
			if (set_index(set, ph->requires[r]) < 0) {
				strbuf_addf(err, "%s: requires[%zu]: no phase has the id '%s' (known:",
					    ph->file, r, ph->requires[r]);
				for (size_t k = 0; k < set->n; k++)
					strbuf_addf(err, " %s", set->phases[k].id);
				strbuf_addch(err, ')');
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

struct phase *phase_set_find(struct phase_set *set, const char *which, struct strbuf *err)
{
	char **ids = xcalloc(set->n + 1, sizeof(*ids));
	int i;

	for (size_t k = 0; k < set->n; k++)
		ids[k] = set->phases[k].id;
	i = match_phase(ids, set->n, which, err);
	free(ids);
	return i < 0 ? NULL : &set->phases[i];
}

void phase_set_release(struct phase_set *set)
{
	for (size_t i = 0; i < set->n; i++)
		phase_release(&set->phases[i]);
	free(set->phases);
	free(set->root);
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
	}
	free(ph->steps);
	free(ph->intro);
	free_strv(ph->requires, ph->nrequires);
	free_strv(ph->base_images, ph->nbase_images);
	free_strv(ph->env, ph->nenv);
	free(ph->file);
	free(ph->dir);
	free(ph->id);
	free(ph->title);
	free(ph->service_dir);
	json_decref(ph->root);
	memset(ph, 0, sizeof(*ph));
}
