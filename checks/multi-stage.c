/*
 * multi-stage: the image was built in more than one stage, and its last
 * stage (the one that becomes the image) starts from the runtime base the
 * phase names, the distroless Node image.  Three looks, each the judge of
 * one part:
 *
 *  - the build's own steps (engine/buildlog.h): how many stages ran, and
 *    whether the last one copies from an earlier one (`COPY --from=`); a
 *    stage nothing copies from is no builder (BuildKit does not even run it);
 *  - the built image against the base: the base's layers must be the first
 *    layers of the image (a last stage FROM the base, or FROM a stage that
 *    is itself FROM it, whatever the tag or stage names say);
 *  - the learner's Dockerfile (lib/dfstages.h), to quote the line of the
 *    last FROM (and to count the stages when the builder's output could not
 *    be read).  When the engine gives no layers for the base (an engine
 *    that keeps none), the last FROM's image decides instead, and the
 *    evidence says so.
 */
#include "core/check.h"
#include "lib/dfstages.h"
#include "lib/xalloc.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const struct key_spec params[] = {
	{ "runtime_image", KEY_STRING, 1, 1, 200, "the base image the last stage must start from", NULL },
	{ "min_stages", KEY_INT, 0, 2, 16, "how many stages the build must run", "2" },
	{ NULL, 0, 0, 0, 0, NULL, NULL },
};

/* The image's layer ids (borrowed array), or NULL. */
static json_t *layers_of(json_t *inspect)
{
	json_t *l = json_object_get(json_object_get(inspect, "RootFS"), "Layers");

	return json_is_array(l) && json_array_size(l) ? l : NULL;
}

static int is_prefix(json_t *base, json_t *image)
{
	size_t i;
	json_t *v;

	if (json_array_size(base) > json_array_size(image))
		return 0;
	json_array_foreach(base, i, v)
		if (!json_equal(v, json_array_get(image, i)))
			return 0;
	return 1;
}

/* "gcr.io/x:tag" and "docker.io/library/node:20" name what they name without the default registry. */
static int same_image(const char *a, const char *b)
{
	static const char *const defaults[] = { "docker.io/library/", "docker.io/", NULL };

	for (const char *const *d = defaults; *d; d++) {
		if (!strncmp(a, *d, strlen(*d)))
			a += strlen(*d);
		if (!strncmp(b, *d, strlen(*d)))
			b += strlen(*d);
	}
	return !strcmp(a, b);
}

static void run(struct check_ctx *ctx, const struct check_def *def, struct check_result *res)
{
	const char *runtime = obj_str(def->params, "runtime_image", "");
	int min_stages = (int)param_int(def, "min_stages");
	const struct build_log *log = &ctx->build_log;
	struct df_instrs df;
	const struct df_instr *last_from = NULL;
	json_t *base = NULL, *base_layers, *image_layers = layers_of(ctx->image);
	int stages = 0, last_stage = 0, copies = 0, on_runtime;
	const char *copied_from = NULL;

	for (size_t i = 0; i < log->nsteps; i++) {
		const struct build_step *s = &log->steps[i];

		if (s->stage_no > last_stage) {
			last_stage = s->stage_no;
			stages++;
		}
	}
	for (size_t i = 0; i < log->nsteps; i++) {
		const struct build_step *s = &log->steps[i];

		if (s->stage_no == last_stage && strcasestr(s->instruction, "--from=")) {
			copies++;
			copied_from = s->instruction;
		}
	}
	df_instrs_load(&df, ctx->dir);
	if (df.nstages)
		last_from = df_instrs_from(&df, df.nstages - 1);
	if (!log->nsteps) {
		/* output no parser reads: the Dockerfile says what the steps would have */
		stages = df.nstages;
		for (size_t i = 0; i < df.n; i++)
			if (df.v[i].stage == df.nstages - 1 && !strcmp(df.v[i].keyword, "COPY") &&
			    strcasestr(df.v[i].args, "--from=")) {
				copies++;
				copied_from = df.v[i].text;
			}
		result_evidence(res, "stages_from", json_string("dockerfile"));
	}
	result_evidence(res, "stages", json_integer(stages));
	result_evidence(res, "copies_from_earlier_stage", json_integer(copies));
	result_evidence(res, "runtime_image", json_string(runtime));
	if (last_from) {
		result_evidence(res, "line", json_string(last_from->text));
		result_evidence(res, "line_number", json_integer(last_from->line));
	}
	result_evidence(res, "corrected", json_sprintf("FROM %s", runtime));

	if (engine_image_inspect(ctx->engine, runtime, &base) < 0) {
		result_engine_error(res, ctx, "inspecting the runtime base image");
		goto out;
	}
	base_layers = layers_of(base);
	if (base_layers && image_layers) {
		on_runtime = is_prefix(base_layers, image_layers);
		result_evidence(res, "judged_by", json_string("layers"));
		result_evidence(res, "base_layers", json_integer((json_int_t)json_array_size(base_layers)));
	} else {
		char *img = df.nstages ? df_stage_base(&df, df.nstages - 1) : NULL;

		on_runtime = img && same_image(img, runtime);
		result_evidence(res, "judged_by", json_string("dockerfile"));
		free(img);
	}
	result_evidence(res, "on_runtime_image", json_boolean(on_runtime));

	if (stages < min_stages) {
		if (df.nstages >= min_stages) {
			result_cause(res, "stage-unused");
			result_set(res, CHECK_FAIL, "the Dockerfile has %d FROM lines, but the build ran %d stage%s: the "
				   "last stage copies nothing from the others, so the builder skips them",
				   df.nstages, stages, stages == 1 ? "" : "s");
		} else {
			result_cause(res, "single-stage");
			if (last_from)
				result_set(res, CHECK_FAIL, "the build ran %d stage (`%s`, line %d): the image holds "
					   "everything the build needed, not just what the service runs", stages,
					   last_from->text, last_from->line);
			else
				result_set(res, CHECK_FAIL, "the build ran %d stage%s: the image holds everything the "
					   "build needed, not just what the service runs", stages, stages == 1 ? "" : "s");
		}
		result_hint(res, "a second FROM starts a stage of its own: build in the first, then start the last "
			    "one from %s and COPY --from the first stage only what runs", runtime);
	} else if (!copies) {
		result_cause(res, "stage-unused");
		result_set(res, CHECK_FAIL, "the build ran %d stages, but the last one copies nothing from an earlier "
			   "one (no `COPY --from=`)", stages);
		result_hint(res, "the last stage gets the built files with `COPY --from=<stage name>`; without it the "
			    "earlier stage's work never reaches the image");
	} else if (!on_runtime) {
		result_cause(res, "runtime-not-distroless");
		if (last_from)
			result_set(res, CHECK_FAIL, "the last stage starts with `%s` (line %d), not from %s: the image's "
				   "layers do not begin with that base's", last_from->text, last_from->line, runtime);
		else
			result_set(res, CHECK_FAIL, "the image's layers do not begin with those of %s: its last stage "
				   "starts from another base", runtime);
		result_hint(res, "only the last stage becomes the image, so its FROM decides what the image carries: "
			    "`FROM %s`", runtime);
	} else {
		result_set(res, CHECK_PASS, "built in %d stages; the last starts from %s%s and copies from an earlier "
			   "stage %d time%s (`%s`)", stages, runtime,
			   base_layers && image_layers ? " (its layers are the image's first)" : "", copies,
			   copies == 1 ? "" : "s", copied_from);
	}
out:
	json_decref(base);
	df_instrs_release(&df);
}

static const char *const causes[] = { "single-stage", "stage-unused", "runtime-not-distroless", NULL };

const struct check_kind check_multi_stage = {
	.name = "multi-stage",
	.summary = "the image is built in stages, the last one on the runtime base",
	.needs = NEED_IMAGE,
	.params = params,
	.causes = causes,
	.run = run,
};
