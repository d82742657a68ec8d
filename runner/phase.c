#include "phase.h"
#include "check.h"
#include "schema.h"
#include "xalloc.h"

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
	{ "schema", KEY_STRING, 0, 0, 0, "\"phaselab.phase/v1\"" },
	{ "id", KEY_STRING, 1, 1, 64, "the phase's id: its folder's name (\"03-containerization\")" },
	{ "number", KEY_INT, 1, 1, 99, "its number, accepted by --phase" },
	{ "title", KEY_STRING, 1, 1, 200, "one line for people" },
	{ "summary", KEY_STRING, 0, 0, 0, "a paragraph for people" },
	{ "requires", KEY_STRINGS, 0, 0, 0, "ids of the phases to pass first" },
	{ "service_dir", KEY_STRING, 0, 1, 200, "the service folder in a workspace (default \"service\")" },
	{ "pass_mark", KEY_INT, 1, 0, 10000, "points needed to pass" },
	{ "build_timeout_s", KEY_INT, 0, 10, 7200, "time limit of one build (default 600)" },
	{ "base_images", KEY_STRINGS, 0, 0, 0, "images the lab provides (`make images`)" },
	{ "container", KEY_OBJECT, 0, 0, 0, "how the runtime checks start the container" },
	{ "checks", KEY_ARRAY, 1, 1, 64, "the checklist, in report order" },
	{ NULL, 0, 0, 0, 0, NULL },
};

static const struct key_spec container_keys[] = {
	{ "port", KEY_INT, 1, 1, 65535, "the port the service listens on inside the container" },
	{ "env", KEY_OBJECT, 0, 0, 0, "environment variables for the container (strings)" },
	{ "memory_mb", KEY_INT, 0, 16, 65536, "memory limit (default 512)" },
	{ "pids", KEY_INT, 0, 8, 100000, "process limit (default 256)" },
	{ "cpus", KEY_NUMBER, 0, 0.1, 64, "CPU limit (default 1)" },
	{ "start_timeout_s", KEY_INT, 0, 1, 600, "how long the service may take to answer (default 20)" },
	{ NULL, 0, 0, 0, 0, NULL },
};

static const struct key_spec check_keys[] = {
	{ "id", KEY_STRING, 1, 1, 64, "the report's check id" },
	{ "title", KEY_STRING, 1, 1, 200, "one line for people" },
	{ "kind", KEY_STRING, 1, 1, 64, "the check kind (checks/checks.c)" },
	{ "points", KEY_INT, 1, 0, 10000, "points when it passes" },
	{ "timeout_s", KEY_INT, 0, 1, 7200, "the item's time limit (default 120)" },
	{ "params", KEY_OBJECT, 0, 0, 0, "the kind's parameters" },
	{ NULL, 0, 0, 0, 0, NULL },
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

	ph->port = 3000;
	ph->memory_mb = 512;
	ph->pids = 256;
	ph->cpus = 1.0;
	ph->start_timeout_ms = 20000;
	if (!c)
		return 0;
	if (validate_object(c, container_keys, ph->file, "container", err) < 0)
		return -1;
	ph->port = (int)obj_int(c, "port", 3000);
	ph->memory_mb = (long)obj_int(c, "memory_mb", 512);
	ph->pids = (long)obj_int(c, "pids", 256);
	ph->cpus = obj_num(c, "cpus", 1.0);
	ph->start_timeout_ms = (long)obj_int(c, "start_timeout_s", 20) * 1000;
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
		d->timeout_ms = (long)obj_int(c, "timeout_s", 120) * 1000;
		ph->nchecks++;
		{
			char pwhere[48];
			snprintf(pwhere, sizeof(pwhere), "%s.params", where);
			if (validate_object(params, d->kind->params, ph->file, pwhere, err) < 0)
				return -1;
		}
	}
	return 0;
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
	ph->service_dir = xstrdup(obj_str(root, "service_dir", "service"));
	ph->pass_mark = (int)obj_int(root, "pass_mark", 0);
	ph->build_timeout_ms = (long)obj_int(root, "build_timeout_s", 600) * 1000;
	ph->requires = str_array(json_object_get(root, "requires"), &ph->nrequires);
	ph->base_images = str_array(json_object_get(root, "base_images"), &ph->nbase_images);
	if (load_container(ph, json_object_get(root, "container"), err) < 0)
		return -1;
	if (load_checks(ph, json_object_get(root, "checks"), err) < 0)
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
	const char *env = getenv("PHASELAB_PHASES");
	char exe[PATH_MAX];
	ssize_t n;
	struct stat sb;

	if (env && *env)
		return xstrdup(env);
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		char *slash, *cand;

		exe[n] = '\0';
		slash = strrchr(exe, '/');
		if (slash) {
			*slash = '\0';
			cand = xasprintf("%s/../phases", exe);
			if (stat(cand, &sb) == 0 && S_ISDIR(sb.st_mode))
				return cand;
			free(cand);
		}
	}
	return xstrdup("/usr/share/phaselab/phases");
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int phase_find(const char *root, const char *which, struct phase *ph, struct strbuf *err)
{
	DIR *d = opendir(root);
	struct dirent *de;
	struct stat sb;
	char **names = NULL, *match = NULL;
	size_t n = 0, cap = 0, nmatch = 0;
	int numeric = *which && strspn(which, "0123456789") == strlen(which);
	int rc = -1;

	memset(ph, 0, sizeof(*ph));
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
	qsort(names, n, sizeof(*names), cmp_str);

	for (size_t i = 0; i < n; i++) {
		int hit;
		if (!strcmp(names[i], which)) {
			match = names[i];
			nmatch = 1;
			break;
		}
		if (numeric)
			hit = isdigit((unsigned char)names[i][0]) && atoi(names[i]) == atoi(which);
		else
			hit = !strncmp(names[i], which, strlen(which));
		if (hit) {
			match = names[i];
			nmatch++;
		}
	}
	if (nmatch != 1) {
		strbuf_addf(err, "%s phase '%s' (known:", nmatch ? "ambiguous" : "no", which);
		for (size_t i = 0; i < n; i++)
			strbuf_addf(err, " %s", names[i]);
		strbuf_addch(err, ')');
	} else {
		char *file = xasprintf("%s/%s/phase.json", root, match);
		rc = phase_load_file(file, ph, err);
		if (rc == 0 && strcmp(ph->id, match)) {
			strbuf_addf(err, "%s: id: '%s' differs from its folder's name '%s'", file, ph->id, match);
			rc = -1;
		}
		free(file);
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc;
}

int phase_load_for_command(const char *which, struct phase *ph)
{
	struct strbuf err = STRBUF_INIT;
	char *root = phases_root();
	int rc = phase_find(root, which, ph, &err);

	free(root);
	if (rc < 0) {
		fprintf(stderr, "phaselab: %s\n", err.buf);
		phase_release(ph);
		rc = 2;
	}
	strbuf_release(&err);
	return rc;
}

const struct check_def *phase_check(const struct phase *ph, const char *id)
{
	for (size_t i = 0; i < ph->nchecks; i++)
		if (!strcmp(ph->checks[i].id, id))
			return &ph->checks[i];
	return NULL;
}

void phase_release(struct phase *ph)
{
	for (size_t i = 0; i < ph->nchecks; i++) {
		free(ph->checks[i].id);
		free(ph->checks[i].title);
		free(ph->checks[i].waits_on);
		json_decref(ph->checks[i].params);
	}
	free(ph->checks);
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
