#include "learn/progress.h"
#include "core/check.h"
#include "lib/fsutil.h"
#include "lib/schema.h"
#include "lib/timeutil.h"
#include "lib/xalloc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define PROGRESS_SCHEMA "phaselab.progress/v1"
#define PROGRESS_MAX_BYTES (1 << 20)

static const struct key_spec top_keys[] = {
	{ "schema", KEY_STRING, 1, 0, 0, "\"" PROGRESS_SCHEMA "\"", NULL },
	{ "track", KEY_STRING, 0, 1, 64, "the workspace's track (absent: the default track)", NULL },
	{ "phases", KEY_OBJECT, 1, 0, 0, "one entry per phase the learner has started", NULL },
	{ NULL, 0, 0, 0, 0, NULL, NULL },
};

static const struct key_spec phase_keys[] = {
	{ "step", KEY_STRING, 0, 1, 64, "the current step's id", NULL },
	{ "passed_at", KEY_STRING, 0, 1, 64, "when the phase passed (RFC 3339)", NULL },
	{ "score", KEY_INT, 0, 0, 100000, "the passing run's score", NULL },
	{ "max_score", KEY_INT, 0, 0, 100000, "the passing run's maximum", NULL },
	{ "image_bytes", KEY_INT, 0, 0, 1e15, "the image size the size check measured", NULL },
	{ "images", KEY_OBJECT, 0, 0, 0, "the image size the size check measured, per service folder", NULL },
	{ "hints", KEY_OBJECT, 0, 0, 0, "hints shown per failing check: a level, or {cause, level}", NULL },
	{ NULL, 0, 0, 0, 0, NULL, NULL },
};

static const struct key_spec hint_keys[] = {
	{ "cause", KEY_STRING, 1, 1, 64, "the cause of the failure the hints were for", NULL },
	{ "level", KEY_INT, 1, 0, 9, "how many of its hints were shown", NULL },
	{ NULL, 0, 0, 0, 0, NULL, NULL },
};

static void add_hint(struct phase_progress *pp, const char *check, const char *cause, int level)
{
	pp->hints = xrealloc(pp->hints, (pp->nhints + 1) * sizeof(*pp->hints));
	pp->hints[pp->nhints].check = xstrdup(check);
	pp->hints[pp->nhints].cause = cause ? xstrdup(cause) : NULL;
	pp->hints[pp->nhints].level = level;
	pp->nhints++;
}

static int load_phase(struct progress *pg, const char *id, json_t *o, struct strbuf *err)
{
	struct phase_progress *pp;
	char where[96];
	const char *check;
	json_t *v;
	long long t;

	snprintf(where, sizeof(where), "phases.%s", id);
	if (validate_object(o, phase_keys, pg->file, where, err) < 0)
		return -1;
	pp = progress_phase(pg, id, 1);
	if (json_object_get(o, "step"))
		pp->step = xstrdup(obj_str(o, "step", ""));
	if (json_object_get(o, "passed_at")) {
		if (parse_time(obj_str(o, "passed_at", ""), &t) < 0) {
			strbuf_addf(err, "%s: %s.passed_at: '%s' is not a time (RFC 3339)", pg->file, where,
				    obj_str(o, "passed_at", ""));
			return -1;
		}
		pp->passed_at = xstrdup(obj_str(o, "passed_at", ""));
	}
	pp->score = (int)obj_int(o, "score", 0);
	pp->max_score = (int)obj_int(o, "max_score", 0);
	pp->image_bytes = obj_int(o, "image_bytes", 0);
	json_object_foreach(json_object_get(o, "images"), check, v) {
		if (!json_is_integer(v) || json_integer_value(v) <= 0 || json_integer_value(v) > (json_int_t)1e15 ||
		    !*check || strlen(check) > 256) {
			strbuf_addf(err, "%s: %s.images.%s: must be a size in bytes, from 1 to 10^15", pg->file, where,
				    check);
			return -1;
		}
		progress_set_image_bytes(pp, check, json_integer_value(v));
	}
	json_object_foreach(json_object_get(o, "hints"), check, v) {
		char hwhere[192];

		if (json_is_object(v)) {
			snprintf(hwhere, sizeof(hwhere), "%s.hints.%s", where, check);
			if (validate_object(v, hint_keys, pg->file, hwhere, err) < 0)
				return -1;
			add_hint(pp, check, obj_str(v, "cause", ""), (int)obj_int(v, "level", 0));
			continue;
		}
		if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 9) {
			strbuf_addf(err, "%s: %s.hints.%s: must be an integer from 0 to 9, or {\"cause\", "
				    "\"level\"}", pg->file, where, check);
			return -1;
		}
		add_hint(pp, check, NULL, (int)json_integer_value(v));
	}
	return 0;
}

int progress_load(const char *file, struct progress *pg, struct strbuf *err)
{
	struct strbuf text = STRBUF_INIT;
	json_error_t jerr;
	json_t *root, *v;
	const char *id;
	int rc = -1;

	memset(pg, 0, sizeof(*pg));
	pg->file = xstrdup(file);
	if (read_file_nofollow(file, PROGRESS_MAX_BYTES, &text) < 0) {
		strbuf_release(&text);
		if (errno == ENOENT)
			return 0;
		strbuf_addf(err, "%s: cannot read it: %s", file, strerror(errno));
		return -1;
	}
	root = json_loadb(text.buf, text.len, JSON_REJECT_DUPLICATES, &jerr);
	strbuf_release(&text);
	if (!root) {
		strbuf_addf(err, "%s:%d:%d: not valid JSON: %s", file, jerr.line, jerr.column, jerr.text);
		return -1;
	}
	if (validate_object(root, top_keys, file, "", err) < 0)
		goto out;
	if (strcmp(obj_str(root, "schema", ""), PROGRESS_SCHEMA)) {
		strbuf_addf(err, "%s: schema: '%s' is not a schema this version reads (%s)", file,
			    obj_str(root, "schema", ""), PROGRESS_SCHEMA);
		goto out;
	}
	if (json_object_get(root, "track"))
		pg->track = xstrdup(obj_str(root, "track", ""));
	json_object_foreach(json_object_get(root, "phases"), id, v)
		if (load_phase(pg, id, v, err) < 0)
			goto out;
	rc = 0;
out:
	json_decref(root);
	return rc;
}

int progress_save(const struct progress *pg, struct strbuf *err)
{
	json_t *root = json_object(), *phases = json_object();
	char *text;
	int rc;

	json_object_set_new(root, "schema", json_string(PROGRESS_SCHEMA));
	if (pg->track)
		json_object_set_new(root, "track", json_string(pg->track));
	for (size_t i = 0; i < pg->n; i++) {
		const struct phase_progress *pp = &pg->phases[i];
		json_t *o = json_object(), *hints = json_object();

		if (pp->step)
			json_object_set_new(o, "step", json_string(pp->step));
		if (pp->passed_at) {
			json_object_set_new(o, "passed_at", json_string(pp->passed_at));
			json_object_set_new(o, "score", json_integer(pp->score));
			json_object_set_new(o, "max_score", json_integer(pp->max_score));
		}
		if (pp->image_bytes > 0)
			json_object_set_new(o, "image_bytes", json_integer(pp->image_bytes));
		if (pp->nsizes) {
			json_t *sizes = json_object();
			for (size_t z = 0; z < pp->nsizes; z++)
				json_object_set_new(sizes, pp->sizes[z].service, json_integer(pp->sizes[z].bytes));
			json_object_set_new(o, "images", sizes);
		}
		for (size_t h = 0; h < pp->nhints; h++) {
			const struct hint_level *hl = &pp->hints[h];
			if (hl->level <= 0)
				continue;
			if (hl->cause)
				json_object_set_new(hints, hl->check, json_pack("{s:s, s:i}", "cause", hl->cause,
										"level", hl->level));
			else
				json_object_set_new(hints, hl->check, json_integer(hl->level));
		}
		if (json_object_size(hints))
			json_object_set(o, "hints", hints);
		json_decref(hints);
		json_object_set_new(phases, pp->id, o);
	}
	json_object_set_new(root, "phases", phases);
	text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(root);
	if (!text) {
		strbuf_addf(err, "%s: cannot encode the progress", pg->file);
		return -1;
	}
	rc = write_file_atomic(pg->file, text, strlen(text));
	if (rc < 0)
		strbuf_addf(err, "%s: cannot write it: %s", pg->file, strerror(errno));
	free(text);
	return rc;
}

int progress_write_empty(const char *file, const char *track, struct strbuf *err)
{
	struct progress pg = { .file = (char *)file, .track = (char *)track };

	return progress_save(&pg, err);
}

char *progress_peek_track(const char *file)
{
	struct strbuf text = STRBUF_INIT;
	json_t *root, *t;
	char *track = NULL;

	if (read_file_nofollow(file, PROGRESS_MAX_BYTES, &text) < 0) {
		strbuf_release(&text);
		return NULL;
	}
	root = json_loadb(text.buf, text.len, 0, NULL);
	t = json_object_get(root, "track");
	if (json_is_string(t) && *json_string_value(t))
		track = xstrdup(json_string_value(t));
	json_decref(root);
	strbuf_release(&text);
	return track;
}

void progress_release(struct progress *pg)
{
	for (size_t i = 0; i < pg->n; i++) {
		struct phase_progress *pp = &pg->phases[i];
		free(pp->id);
		free(pp->step);
		free(pp->passed_at);
		for (size_t h = 0; h < pp->nhints; h++) {
			free(pp->hints[h].check);
			free(pp->hints[h].cause);
		}
		free(pp->hints);
		for (size_t z = 0; z < pp->nsizes; z++)
			free(pp->sizes[z].service);
		free(pp->sizes);
	}
	free(pg->phases);
	free(pg->file);
	free(pg->track);
	memset(pg, 0, sizeof(*pg));
}

struct phase_progress *progress_phase(struct progress *pg, const char *id, int create)
{
	for (size_t i = 0; i < pg->n; i++)
		if (!strcmp(pg->phases[i].id, id))
			return &pg->phases[i];
	if (!create)
		return NULL;
	pg->phases = xrealloc(pg->phases, (pg->n + 1) * sizeof(*pg->phases));
	memset(&pg->phases[pg->n], 0, sizeof(pg->phases[0]));
	pg->phases[pg->n].id = xstrdup(id);
	return &pg->phases[pg->n++];
}

static int passed(const struct progress *pg, const char *id)
{
	const struct phase_progress *pp = progress_phase((struct progress *)pg, id, 0);
	return pp && pp->passed_at;
}

enum phase_state progress_state(const struct progress *pg, const struct phase *ph, const char **needs)
{
	if (passed(pg, ph->id))
		return PHASE_PASSED;
	for (size_t r = 0; r < ph->nrequires; r++) {
		if (!passed(pg, ph->requires[r])) {
			if (needs)
				*needs = ph->requires[r];
			return PHASE_LOCKED;
		}
	}
	return PHASE_OPEN;
}

const struct phase *progress_current(const struct progress *pg, const struct phase_set *set)
{
	for (size_t i = 0; i < set->n; i++)
		if (progress_state(pg, &set->phases[i], NULL) == PHASE_OPEN)
			return &set->phases[i];
	return NULL;
}

int progress_step(const struct progress *pg, const struct phase *ph)
{
	const struct phase_progress *pp = progress_phase((struct progress *)pg, ph->id, 0);

	if (!pp || !pp->step)
		return 0;
	return phase_step_index(ph, pp->step);
}

void progress_step_checks(const struct phase *ph, int k, unsigned char *only)
{
	memset(only, 0, ph->nchecks);
	for (int s = 0; s <= k && (size_t)s < ph->nsteps; s++)
		for (size_t c = 0; c < ph->steps[s].nchecks; c++)
			only[ph->steps[s].checks[c]] = 1;
}

/* Hint levels and the recorded size after a run of r; 1 when every check of r passed. */
static int record_checks(struct phase_progress *pp, const struct phase *ph, const char *service,
			 const struct report *r)
{
	struct check_record rec = { 0 };
	const struct check_def *def;
	int all_pass = r->nchecks > 0;

	for (size_t i = 0; i < r->nchecks; i++) {
		const struct check_result *c = &r->checks[i];
		if (c->status != CHECK_PASS) {
			all_pass = 0;
			/* a failure of another cause: its hints start from the nudge again */
			if (c->status == CHECK_FAIL && progress_hint_level(pp, c->id, result_cause_of(c)) == 0)
				progress_set_hint_level(pp, c->id, NULL, 0);
			continue;
		}
		progress_set_hint_level(pp, c->id, NULL, 0);
		def = phase_check(ph, c->id);
		if (def && def->kind->record)
			def->kind->record(def, c, &rec);
	}
	if (rec.image_bytes > 0)
		progress_set_image_bytes(pp, service, rec.image_bytes);
	return all_pass;
}

enum step_outcome progress_advance(struct progress *pg, const struct phase *ph, int k, int passed, int score,
				   int max_score, const char *now)
{
	struct phase_progress *pp = progress_phase(pg, ph->id, 1);

	if ((size_t)k + 1 < ph->nsteps) {
		if (!passed)
			return STEP_NOT_DONE;
		free(pp->step);
		pp->step = xstrdup(ph->steps[k + 1].id);
		return STEP_DONE;
	}
	/* the last step ran the whole checklist: the pass mark decides the phase, as for check */
	if (!passed)
		return STEP_NOT_DONE;
	free(pp->passed_at);
	pp->passed_at = xstrdup(now);
	pp->score = score;
	pp->max_score = max_score;
	return PHASE_DONE;
}

enum step_outcome progress_record(struct progress *pg, const struct phase *ph, int k,
				  const struct report *r, const char *now)
{
	int all_pass = record_checks(progress_phase(pg, ph->id, 1), ph, NULL, r);

	if ((size_t)k + 1 < ph->nsteps)
		return progress_advance(pg, ph, k, all_pass, 0, 0, now);
	return progress_advance(pg, ph, k, r->passed, r->score, r->max_score, now);
}

int progress_record_service(struct progress *pg, const struct phase *ph, const char *service,
			    const struct report *r)
{
	/* the phase's own service keeps the key it always had, which older files and tools read */
	if (service && ph->service_dir && !strcmp(service, ph->service_dir))
		service = NULL;
	return record_checks(progress_phase(pg, ph->id, 1), ph, service, r);
}

long long progress_image_bytes(const struct phase_progress *pp, const char *service, const char *own)
{
	if (!pp)
		return 0;
	/* the phase's own service's size is image_bytes, as it was before a system had several */
	if (!service || (own && !strcmp(service, own)))
		return pp->image_bytes;
	for (size_t z = 0; z < pp->nsizes; z++)
		if (!strcmp(pp->sizes[z].service, service))
			return pp->sizes[z].bytes;
	return 0;
}

void progress_set_image_bytes(struct phase_progress *pp, const char *service, long long bytes)
{
	if (!service) {
		pp->image_bytes = bytes;
		return;
	}
	for (size_t z = 0; z < pp->nsizes; z++) {
		if (!strcmp(pp->sizes[z].service, service)) {
			pp->sizes[z].bytes = bytes;
			return;
		}
	}
	pp->sizes = xrealloc(pp->sizes, (pp->nsizes + 1) * sizeof(*pp->sizes));
	pp->sizes[pp->nsizes].service = xstrdup(service);
	pp->sizes[pp->nsizes].bytes = bytes;
	pp->nsizes++;
}

static int same_cause(const char *a, const char *b)
{
	return a && b ? !strcmp(a, b) : a == b;
}

int progress_hint_level(const struct phase_progress *pp, const char *check, const char *cause)
{
	for (size_t h = 0; pp && h < pp->nhints; h++)
		if (!strcmp(pp->hints[h].check, check))
			return same_cause(pp->hints[h].cause, cause) ? pp->hints[h].level : 0;
	return 0;
}

void progress_set_hint_level(struct phase_progress *pp, const char *check, const char *cause, int level)
{
	for (size_t h = 0; h < pp->nhints; h++) {
		struct hint_level *hl = &pp->hints[h];
		if (strcmp(hl->check, check))
			continue;
		hl->level = level;
		if (!same_cause(hl->cause, cause)) {
			free(hl->cause);
			hl->cause = cause && level > 0 ? xstrdup(cause) : NULL;
		}
		return;
	}
	if (level > 0)
		add_hint(pp, check, cause, level);
}
