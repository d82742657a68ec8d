/*
 * image-size: the built image's size, in bytes as the engine counts them,
 * against the phase's limit, and the reduction against the development
 * image (the size a learner's earlier phase recorded, else the lesson's
 * figure).  Without a limit it only records the size, for a later phase.
 * MB here are the engine's: 10^6 bytes, the unit `docker images` prints.
 *
 * Docker and Podman do not count the same image to the byte (their
 * storage's metadata differs), so a limit has a margin: up to SIZE_MARGIN
 * over it, or that many points short of the promised reduction, still
 * passes, with a message that says so.  The same image then gets the same
 * verdict on either engine.
 */
#include "core/check.h"
#include "core/language.h"
#include "lib/dfstages.h"
#include "lib/escape.h"
#include "lib/xalloc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SIZE_MARGIN 1.0 /* percent of the limit, or points of the reduction */

static const struct key_spec params[] = {
	{ "max_mb", KEY_NUMBER, 0, 1, 100000, "the largest acceptable size, in MB (10^6 bytes)", NULL },
	{ "record", KEY_BOOL, 0, 0, 0, "true: no limit, the size is only recorded for a later phase", "false" },
	{ "baseline_mb", KEY_NUMBER, 0, 1, 100000, "the development image's size in the lesson, to report the reduction", NULL },
	{ "baseline_from", KEY_STRING, 0, 1, 64, "the phase whose recorded image size is the baseline, in a workspace", NULL },
	{ "min_reduction_percent", KEY_NUMBER, 0, 1, 99, "the reduction against the baseline the lesson promises", NULL },
	{ "runtime_image", KEY_STRING, 0, 1, 200, "the base the last stage should start from, to name the cause of a "
	  "failure", NULL },
	{ NULL, 0, 0, 0, 0, NULL, NULL },
};

/*
 * The step behind a layer as the Dockerfile said it.  BuildKit records
 * "RUN /bin/sh -c <command> # buildkit" and "COPY <src> <dest> # buildkit";
 * the legacy builder "/bin/sh -c <command>" for RUN and, for COPY and ADD,
 * "/bin/sh -c #(nop) COPY dir:<content hash> in <dest> ", where the hash
 * says nothing to a learner: that becomes "COPY (a folder) into <dest>".
 */
static void layer_step(struct strbuf *out, const char *created_by)
{
	static const char nop[] = "/bin/sh -c #(nop) ", shell[] = "/bin/sh -c ", mark[] = " # buildkit";
	static const struct { const char *prefix, *what; } sources[] = {
		{ "dir:", "a folder" }, { "file:", "a file" }, { "multi:", "several files" },
	};
	const char *s = created_by, *word, *in;
	size_t n;

	if (!strncmp(s, nop, sizeof(nop) - 1)) {
		s += sizeof(nop) - 1;
		while (*s == ' ')
			s++;
		word = !strncmp(s, "COPY ", 5) ? "COPY" : !strncmp(s, "ADD ", 4) ? "ADD" : NULL;
		for (size_t i = 0; word && i < ARRAY_SIZE(sources); i++) {
			const char *src = s + strlen(word) + 1;

			if (!strncmp(src, sources[i].prefix, strlen(sources[i].prefix)) && (in = strstr(src, " in "))) {
				strbuf_addf(out, "%s (%s) into ", word, sources[i].what);
				s = in + 4;
				break;
			}
		}
	} else if (!strncmp(s, shell, sizeof(shell) - 1)) {
		strbuf_addstr(out, "RUN ");
		s += sizeof(shell) - 1;
	}
	n = strlen(s);
	if (n >= sizeof(mark) - 1 && !strcmp(s + n - (sizeof(mark) - 1), mark))
		n -= sizeof(mark) - 1;
	while (n && s[n - 1] == ' ')
		n--;
	escape_truncate(out, s, n, 120);
}

/*
 * On failure, the biggest layers say where the bytes come from (one more
 * engine call); the largest is named in *largest for the hint.
 */
static void biggest_layers(struct check_ctx *ctx, struct check_result *res, struct strbuf *largest)
{
	struct { long long size; char *what; } top[3] = { { 0, NULL }, { 0, NULL }, { 0, NULL } };
	json_t *list = json_array();
	struct history_row *rows = NULL;
	size_t n = 0;

	if (engine_history(ctx->engine, ctx->image_id, &rows, &n) == 0) {
		for (size_t r = 0; r < n; r++) {
			for (int i = 0; i < 3; i++) {
				if (rows[r].size > top[i].size) {
					free(top[2].what);
					memmove(&top[i + 1], &top[i], (size_t)(2 - i) * sizeof(top[0]));
					top[i].size = rows[r].size;
					top[i].what = xstrdup(rows[r].created_by);
					break;
				}
			}
		}
	}
	engine_history_free(rows, n);
	if (top[0].what) {
		struct strbuf step = STRBUF_INIT;

		layer_step(&step, top[0].what);
		strbuf_addf(largest, "the largest layer, %.1f MB, comes from `%s`; ", (double)top[0].size / 1e6, step.buf);
		result_evidence(res, "layer", json_string(step.buf));
		result_evidence(res, "layer_mb", json_real((double)top[0].size / 1e6));
		strbuf_release(&step);
	}
	for (int i = 0; i < 3; i++) {
		if (top[i].what)
			json_array_append_new(list, json_pack("{s:I, s:s}", "bytes", (json_int_t)top[i].size,
							      "created_by", top[i].what));
		free(top[i].what);
	}
	result_evidence(res, "largest_layers", list);
}

/* The first word of a FROM's arguments that is not an option (new string), or NULL. */
static char *from_word(const struct df_instr *from)
{
	char *args = xstrdup(from->args), *tok, *save = NULL, *word = NULL;

	for (tok = strtok_r(args, " \t", &save); tok && !word; tok = strtok_r(NULL, " \t", &save))
		if (strncmp(tok, "--", 2))
			word = xstrdup(tok);
	free(args);
	return word;
}

/* Is an install line one that leaves the development dependencies out? */
static int omits_dev(const char *text)
{
	return strstr(text, "--omit=dev") || strstr(text, "--production") || strstr(text, "--only=prod") ||
	       strstr(text, "NODE_ENV=production");
}

/*
 * Why the image is big, read from the Dockerfile (lib/dfstages.h), most
 * telling first: one stage only; a last stage from another base than the
 * runtime one; the whole /app copied from the builder; development
 * dependencies installed and never pruned.  The learner's line and the
 * corrected one go to the evidence.  NULL: none of these.
 */
static const char *size_cause(struct check_ctx *ctx, const struct check_def *def, struct check_result *res)
{
	const char *runtime = obj_str(def->params, "runtime_image", NULL);
	struct df_instrs df;
	const struct df_instr *from, *hit = NULL;
	const char *cause = NULL;
	char *image = NULL, *corrected = NULL;
	int last, pruned = 0;

	if (df_instrs_load(&df, ctx->dir) < 0 || !df.nstages) {
		df_instrs_release(&df);
		return NULL;
	}
	last = df.nstages - 1;
	from = df_instrs_from(&df, last);
	image = from ? from_word(from) : NULL;
	for (size_t i = 0; i < df.n; i++)
		if (!strcmp(df.v[i].keyword, "RUN") && strstr(df.v[i].args, "npm prune"))
			pruned = 1;
	if (df.nstages == 1) {
		cause = "single-stage";
		hit = from;
		if (runtime)
			corrected = xasprintf("FROM %s", runtime);
	} else if (runtime && image && strcmp(image, runtime) && !strstr(image, "distroless")) {
		int is_stage = 0;

		for (int st = 0; st < last; st++) {
			const struct df_instr *f = df_instrs_from(&df, st);
			const char *as = f ? strcasestr(f->args, " as ") : NULL;
			if (as && !strcasecmp(as + 4, image))
				is_stage = 1;
		}
		if (!is_stage) {
			cause = "runtime-not-distroless";
			hit = from;
			corrected = xasprintf("FROM %s", runtime);
		}
	}
	for (size_t i = 0; !cause && i < df.n; i++) {
		const struct df_instr *in = &df.v[i];
		struct df_copy c;
		const char *src;
		int whole;

		if (in->stage != last || (strcmp(in->keyword, "COPY") && strcmp(in->keyword, "ADD")))
			continue;
		df_copy_read(&c, in->args);
		/* the first source: all of /app, or the root */
		src = c.n ? c.w[0] : "";
		whole = c.from && (!strcmp(src, "/app") || !strcmp(src, "/app/") || !strcmp(src, "/") || !strcmp(src, "."));
		df_copy_release(&c);
		if (whole) {
			cause = "whole-app-copied";
			hit = in;
			corrected = xstrdup("COPY --from=builder /app/dist ./dist");
		}
	}
	for (size_t i = 0; !cause && !pruned && i < df.n; i++) {
		const struct df_instr *in = &df.v[i];

		if (!strcmp(in->keyword, "RUN") && (strstr(in->args, "npm ci") || strstr(in->args, "npm install")) &&
		    !omits_dev(in->args)) {
			cause = "dev-dependencies";
			hit = in;
			corrected = xstrdup("RUN npm ci --omit=dev");
		}
	}
	if (hit) {
		result_evidence(res, "line", json_string(hit->text));
		result_evidence(res, "line_number", json_integer(hit->line));
	}
	if (corrected)
		result_evidence(res, "corrected", json_string(corrected));
	free(corrected);
	free(image);
	df_instrs_release(&df);
	return cause;
}

static void run(struct check_ctx *ctx, const struct check_def *def, struct check_result *res)
{
	int limited = !param_bool(def, "record") && json_object_get(def->params, "max_mb");
	double max_mb = obj_num(def->params, "max_mb", 0);
	double min_reduction = obj_num(def->params, "min_reduction_percent", 0);
	double baseline_mb = obj_num(def->params, "baseline_mb", 0);
	const char *baseline_what = "the lesson's development image";
	json_t *size = json_object_get(ctx->image, "Size");
	struct strbuf reduction = STRBUF_INIT, largest = STRBUF_INIT;
	double mb, percent = 0;
	int too_big, too_little = 0, in_margin = 0;

	if (!json_is_integer(size) || json_integer_value(size) < 0) {
		result_set(res, CHECK_ERROR, "the engine did not report the image's size");
		return;
	}
	mb = (double)json_integer_value(size) / 1e6;
	result_evidence(res, "bytes", json_integer(json_integer_value(size)));
	if (!limited) {
		result_set(res, CHECK_PASS, "%.1f MB, recorded: a later phase measures its image against it", mb);
		return;
	}
	result_evidence(res, "limit_bytes", json_integer((json_int_t)(max_mb * 1e6)));
	if (ctx->baseline_bytes > 0) {
		baseline_mb = (double)ctx->baseline_bytes / 1e6;
		baseline_what = ctx->baseline_what ? ctx->baseline_what : "your development image";
		result_evidence(res, "baseline_bytes", json_integer(ctx->baseline_bytes));
	}
	if (baseline_mb > 0) {
		percent = 100.0 * (1 - mb / baseline_mb);
		result_evidence(res, "reduction_percent", json_real(percent));
		/* near the promise, a rounded figure would read "80% ... short of the 80%" */
		strbuf_addf(&reduction, "; %.*f%% smaller than %s (%.1f MB)",
			    min_reduction > 0 && fabs(percent - min_reduction) < SIZE_MARGIN ? 1 : 0, percent,
			    baseline_what, baseline_mb);
		if (min_reduction > 0) {
			too_little = percent < min_reduction - SIZE_MARGIN;
			in_margin |= !too_little && percent < min_reduction;
			strbuf_addf(&reduction, ", %s the %.0f%% the lesson promises",
				    percent < min_reduction ? "short of" : "beyond", min_reduction);
		}
	}
	too_big = mb > max_mb * (1 + SIZE_MARGIN / 100);
	in_margin |= !too_big && mb > max_mb;
	if (!too_big && !too_little) {
		result_set(res, CHECK_PASS, "%.1f MB, %s the %.0f MB limit%s%s", mb, mb > max_mb ? "just over" : "under",
			   max_mb, reduction.buf,
			   in_margin ? "; within the 1% margin every limit has, because engines do not count an "
				       "image's bytes alike" : "");
		if (in_margin)
			result_evidence(res, "margin_percent", json_real(SIZE_MARGIN));
		strbuf_release(&reduction);
		return;
	}
	if (too_big)
		result_set(res, CHECK_FAIL, "%.1f MB, over the %.0f MB limit by %.1f MB%s", mb, max_mb,
			   mb - max_mb, reduction.buf);
	else
		result_set(res, CHECK_FAIL, "%.1f MB, under the %.0f MB limit%s", mb, max_mb, reduction.buf);
	strbuf_release(&reduction);
	biggest_layers(ctx, res, &largest);
	{
		const char *cause = size_cause(ctx, def, res);

		result_cause(res, cause ? cause : "big-layer");
	}
	if (phase_is_python(ctx->phase))
		result_hint(res, "%sonly the last stage ends up in the image: install in a builder stage and copy "
			    "just the installed packages (site-packages) and the service's own files into a distroless "
			    "runtime; `docker history %.19s` shows which step adds the bytes", largest.buf, ctx->image_id);
	else
		result_hint(res, "%sonly the last stage ends up in the image: build in a builder stage and copy just "
			    "dist/, node_modules/ (production dependencies) and package.json into a distroless runtime; "
			    "`docker history %.19s` shows which step adds the bytes", largest.buf, ctx->image_id);
	strbuf_release(&largest);
}

/* The size a passing check measured: a later phase's baseline. */
static void record(const struct check_def *def, const struct check_result *res, struct check_record *rec)
{
	json_t *bytes = json_object_get(res->evidence, "bytes");

	(void)def;
	if (json_is_integer(bytes) && json_integer_value(bytes) > 0)
		rec->image_bytes = json_integer_value(bytes);
}

static const char *baseline_from(const struct check_def *def)
{
	return obj_str(def->params, "baseline_from", NULL);
}

static const char *const causes[] = {
	"single-stage",           /* one FROM: line (it), line_number */
	"runtime-not-distroless", /* the last FROM: line, line_number, corrected */
	"whole-app-copied",       /* COPY --from=... /app: line, line_number, corrected */
	"dev-dependencies",       /* an install without --omit=dev, never pruned: line, line_number, corrected */
	"big-layer",              /* none of these: largest_layers */
	NULL,
};

const struct check_kind check_image_size = {
	.name = "image-size",
	.summary = "the image is under the phase's size limit",
	.needs = NEED_IMAGE,
	.params = params,
	.causes = causes,
	.run = run,
	.record = record,
	.baseline_from = baseline_from,
};
