/*
 * build: the learner's Dockerfile builds from the service folder.  On
 * failure the evidence is the failing step and the last lines of its
 * output, and the cause when the log and the Dockerfile show one
 * (buildlog_diagnose; cause_ids below): the learner's line, its number and,
 * for a misspelt instruction, the corrected line.  The hint under the
 * failure says what was seen; the phase file's tiers for the cause explain
 * it and fix it.
 */
#include "core/check.h"
#include "lib/dockerfile.h"
#include "lib/fsutil.h"
#include "lib/ignore.h"
#include "engine/rootfs.h"
#include "lib/xalloc.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const struct key_spec params[] = {
	{ "output_lines", KEY_INT, 0, 1, 200, "lines of the failing step's output kept as evidence", "15" },
	{ "max_context_mb", KEY_INT, 0, 1, 100000, "the largest build context sent to the engine, in MB", "1000" },
	{ NULL, 0, 0, 0, 0, NULL, NULL },
};

/* What is left when no cause was identified: the network, and the generic advice. */
struct known_cause {
	const char *needle;   /* in the failing step's output or the builder's error */
	const char *hint;
};

static const struct known_cause network_causes[] = {
	{ "ENOTFOUND", "npm could not reach its registry from inside the build: check the network, or retry" },
	{ "EAI_AGAIN", "npm could not reach its registry from inside the build: check the network, or retry" },
	{ NULL, NULL },
};

/*
 * A FROM image that is not here and cannot be pulled.  Returns the image
 * (owned by df) or NULL.
 */
static const char *missing_base(struct check_ctx *ctx, const struct dockerfile *df)
{
	for (size_t i = 0; i < df->nfroms; i++) {
		json_t *img = NULL;
		const char *name = df->froms[i].image;

		if (dockerfile_is_stage(df, name, i) || strchr(name, '$'))
			continue;
		if (engine_image_inspect(ctx->engine, name, &img) < 0)
			return name;
		json_decref(img);
	}
	return NULL;
}

static int is_lab_image(const struct phase *ph, const char *name)
{
	for (size_t i = 0; i < ph->nbase_images; i++)
		if (!strcmp(ph->base_images[i], name))
			return 1;
	return 0;
}

static void evidence_str(struct check_result *res, const char *key, const char *v)
{
	if (v)
		result_evidence(res, key, json_string(v));
}

/*
 * Name the cause the log and the Dockerfile show (buildlog_diagnose), with
 * its evidence and the hint under the failure: what was seen, on which
 * line.  The phase file's tiers for the cause explain and then fix it; they
 * quote the evidence keys set here (line, line_number, corrected, ...).
 * Returns 1 when a cause was named.
 */
static int diagnose(struct check_ctx *ctx, struct check_result *res)
{
	struct strbuf text = STRBUF_INIT;
	struct build_diagnosis d;
	char *path = xasprintf("%s/Dockerfile", ctx->dir);
	int have_df = read_file_nofollow(path, 1 << 20, &text) == 0;
	const char *w;

	free(path);
	buildlog_diagnose(&ctx->build_log, have_df ? text.buf : NULL, have_df ? text.len : 0, &d);
	strbuf_release(&text);
	if (!d.cause) {
		build_diagnosis_release(&d);
		return 0;
	}
	w = d.word ? d.word : "";
	result_cause(res, d.cause);
	if (d.line_number > 0)
		result_evidence(res, "line_number", json_integer(d.line_number));
	evidence_str(res, "line", d.line);
	evidence_str(res, "corrected", d.corrected);
	if (!strcmp(d.cause, "unknown-instruction")) {
		evidence_str(res, "instruction", d.word);
		if (d.corrected)
			result_hint(res, "line %d starts with `%s`, which the builder does not know; the instruction "
				    "nearest to it is `%.*s`", d.line_number, w, (int)strcspn(d.corrected, " "), d.corrected);
		else
			result_hint(res, "line %d starts with `%s`, which the builder does not know", d.line_number, w);
	} else if (!strcmp(d.cause, "parse-error")) {
		evidence_str(res, "parse_error", d.word);
		result_hint(res, "the builder stopped at line %d%s%s%s before running any step", d.line_number,
			    d.line ? " (`" : "", d.line ? d.line : "", d.line ? "`)" : "");
	} else if (!strcmp(d.cause, "command-not-found")) {
		evidence_str(res, "command", d.word);
		if (d.word)
			result_hint(res, "exit code 127: the shell found no program called `%s` in the image this step "
				    "runs in", w);
		else
			result_hint(res, "exit code 127: the shell found no program of that name in the image this step "
				    "runs in");
	} else if (!strcmp(d.cause, "tsc-not-found")) {
		evidence_str(res, "command", d.word);
		evidence_str(res, "install_line", d.install_line);
		result_hint(res, "`tsc` is missing from the builder: `%s` installed the dependencies without the "
			    "devDependencies", d.install_line);
	} else if (!strcmp(d.cause, "lockfile-out-of-date")) {
		evidence_str(res, "packages", d.word);
		result_hint(res, "`npm ci` refused: package.json asks for packages that package-lock.json does "
			    "not list%s%s%s", d.word ? " (" : "", d.word ? d.word : "", d.word ? ")" : "");
	} else if (!strcmp(d.cause, "lockfile-missing")) {
		result_hint(res, "`npm ci` refused: there was no package-lock.json in the folder it ran in");
	} else if (!strcmp(d.cause, "no-build-script")) {
		evidence_str(res, "script", d.word);
		result_hint(res, "npm found no \"%s\" entry under \"scripts\" in the package.json it was given", w);
	} else if (!strcmp(d.cause, "copy-source-missing")) {
		evidence_str(res, "source", d.word);
		if (d.word)
			result_hint(res, "`%s` was not in the build context the builder received", w);
		else
			result_hint(res, "a file the COPY names was not in the build context the builder received");
	}
	build_diagnosis_release(&d);
	return 1;
}

static void explain_failure(struct check_ctx *ctx, const struct check_def *def, struct check_result *res)
{
	const struct build_log *log = &ctx->build_log;
	const struct build_step *failed = log->failed_step >= 0 ? &log->steps[log->failed_step] : NULL;
	int nlines = (int)param_int(def, "output_lines");
	struct strbuf tail = STRBUF_INIT, haystack = STRBUF_INIT;
	struct dockerfile df;
	const char *base;

	if (ctx->build_timed_out) {
		result_set(res, CHECK_FAIL, "the build did not finish within %ld s%s%s", ctx->phase->build_timeout_ms / 1000,
			   failed ? "; it was at: " : "", failed ? failed->instruction : "");
		result_cause(res, "timed-out");
		result_hint(res, "a build step never ends: look for a RUN that waits for input or starts a "
			    "server (servers belong in CMD, not RUN)");
		return;
	}
	if (failed) {
		strbuf_add_tail_lines(&tail, failed->output, strlen(failed->output), (size_t)nlines);
		struct strbuf ref = STRBUF_INIT;

		/* legacy numbers across the file, so the stage is said apart; BuildKit's [stage k/n] names it */
		buildlog_step_ref(log, failed, &ref);
		result_set(res, CHECK_FAIL, "the build failed at %s%s%s: %s (exit code %d)", ref.buf,
			   failed->stage && log->builder != BUILDER_BUILDKIT ? " of stage " : "",
			   failed->stage && log->builder != BUILDER_BUILDKIT ? failed->stage : "",
			   failed->instruction, log->exit_code);
		strbuf_release(&ref);
		result_evidence(res, "failed_step", build_step_json(failed));
	} else {
		strbuf_add_tail_lines(&tail, ctx->build_output.buf, ctx->build_output.len, (size_t)nlines);
		result_set(res, CHECK_FAIL, "the build failed before any step ran: %s",
			   log->error ? log->error : "see the output");
	}
	strbuf_rtrim(&tail);
	result_evidence(res, "output_tail", json_string(tail.buf));
	if (log->error)
		result_evidence(res, "error", json_string(log->error));

	strbuf_addf(&haystack, "%s\n%s", tail.buf, log->error ? log->error : "");
	if (dockerfile_load(&df, ctx->dir) == 0 && (base = missing_base(ctx, &df))) {
		result_evidence(res, "missing_image", json_string(base));
		result_evidence(res, "image", json_string(base));
		if (is_lab_image(ctx->phase, base)) {
			/* the lab's own base image: the machine is not ready, not the learner */
			ctx->env_broken = 1;
			result_set(res, CHECK_ERROR, "the base image '%s' is not on this machine and cannot be pulled", base);
			result_hint(res, "prepare the lab's base images once: run `make images` in the phaselab folder "
				    "(it pulls them, or builds local stand-ins when no registry answers)");
		} else {
			result_cause(res, "base-image-missing");
			result_set(res, CHECK_FAIL, "the base image '%s' is not on this machine and cannot be pulled", base);
			result_hint(res, "use the phase's base images, which `make images` provides:%s%s%s%s",
				    ctx->phase->nbase_images > 0 ? " " : " (none listed)",
				    ctx->phase->nbase_images > 0 ? ctx->phase->base_images[0] : "",
				    ctx->phase->nbase_images > 1 ? ", " : "",
				    ctx->phase->nbase_images > 1 ? ctx->phase->base_images[1] : "");
		}
	} else if (!diagnose(ctx, res)) {
		for (const struct known_cause *c = network_causes; c->needle; c++) {
			if (strstr(haystack.buf, c->needle)) {
				result_hint(res, "%s", c->hint);
				break;
			}
		}
		if (!res->hint)
			result_hint(res, "read the failing step's output above; run the same build yourself with "
				    "`docker build %s` to see all of it", ctx->dir);
	}
	dockerfile_release(&df);
	strbuf_release(&tail);
	strbuf_release(&haystack);
}

struct context_walk {
	const struct ignore_rules *rules;
	unsigned long long bytes, limit, biggest_bytes;
	struct strbuf biggest;  /* the largest file sent, relative to the context */
	unsigned long files;
};

/*
 * Add up what the builder would send: the files .dockerignore does not
 * exclude (links count as themselves, never followed).  Stops once over the
 * limit: a 3 GB file is not read, only its size.
 */
static int on_context_entry(void *vctx, const struct tar_entry *e, const struct strbuf *data)
{
	struct context_walk *w = vctx;

	(void)data;
	if (e->type == '5')
		/* an excluded folder may hold an exception (!dir/keep): look inside then */
		return w->rules && ignore_excludes_all_under(w->rules, e->name) ? ROOTFS_SKIP : 0;
	if (ignore_excluded(w->rules, e->name))
		return 0;
	w->bytes += e->size;
	w->files++;
	if (e->size > w->biggest_bytes) {
		w->biggest_bytes = e->size;
		strbuf_reset(&w->biggest);
		strbuf_addstr(&w->biggest, e->name);
	}
	return w->bytes > w->limit;
}

/* A context over the limit fails the build before the engine is sent any of it. */
static int context_too_large(struct check_ctx *ctx, const struct check_def *def, struct check_result *res)
{
	struct context_walk w = { 0 };
	struct ignore_rules *rules = NULL;
	struct strbuf err = STRBUF_INIT;

	w.limit = (unsigned long long)param_int(def, "max_context_mb") * 1000000ULL;
	strbuf_init(&w.biggest, 0);
	ignore_load_dir(ctx->dir, &rules, &err); /* a broken .dockerignore is the build's to report */
	w.rules = rules;
	rootfs_walk_dir(ctx->dir, on_context_entry, &w, 0);
	ignore_free(rules);
	strbuf_release(&err);
	if (w.bytes <= w.limit) {
		strbuf_release(&w.biggest);
		return 0;
	}
	ctx->build = STAGE_FAILED;
	ctx->build_failure = xstrdup("the build context is too large");
	result_cause(res, "context-too-large");
	result_evidence(res, "context_bytes_at_least", json_integer((json_int_t)w.bytes));
	result_set(res, CHECK_FAIL, "the build context is over %.0f MB (at least %.1f MB in %lu files; the largest, "
		   "'%s', is %.1f MB): the engine would be sent all of it with every build", w.limit / 1e6,
		   w.bytes / 1e6, w.files, w.biggest.buf, w.biggest_bytes / 1e6);
	result_hint(res, "the build needs only the sources and the manifests: exclude everything else (data, "
		    "archives, node_modules, .git) in .dockerignore");
	strbuf_release(&w.biggest);
	return 1;
}

static void run(struct check_ctx *ctx, const struct check_def *def, struct check_result *res)
{
	struct stat sb;
	char *path = xasprintf("%s/Dockerfile", ctx->dir);
	int has_dockerfile = lstat(path, &sb) == 0 && S_ISREG(sb.st_mode);

	free(path);
	if (!has_dockerfile) {
		ctx->build = STAGE_FAILED;
		ctx->build_failure = xstrdup("there is no Dockerfile");
		result_cause(res, "no-dockerfile");
		result_set(res, CHECK_FAIL, "no Dockerfile in '%s'", ctx->dir);
		result_hint(res, "write the Dockerfile in the service folder itself (the folder passed with --dir), "
			    "named exactly `Dockerfile`");
		return;
	}
	if (context_too_large(ctx, def, res))
		return;
	ctx_need_image(ctx);
	result_evidence(res, "builder", json_string(builder_name(ctx->engine->builder)));
	result_evidence(res, "build_ms", json_integer(ctx->build_ms));
	result_evidence(res, "steps", json_integer((json_int_t)ctx->build_log.nsteps));
	switch (ctx->build) {
	case STAGE_READY: {
		size_t cached = 0;
		for (size_t i = 0; i < ctx->build_log.nsteps; i++)
			cached += ctx->build_log.steps[i].cached;
		result_evidence(res, "image_id", json_string(ctx->image_id));
		result_set(res, CHECK_PASS, "built in %.1f s (%zu steps, %zu from cache), image %.19s",
			   ctx->build_ms / 1000.0, ctx->build_log.nsteps, cached, ctx->image_id);
		break;
	}
	case STAGE_FAILED:
		explain_failure(ctx, def, res);
		break;
	default:
		result_engine_error(res, ctx, "the build could not run");
		break;
	}
}

/* What explain_failure() can tell apart (result_cause); the phase file's "causes" hold their hints. */
static const char *const cause_ids[] = {
	"parse-error",          /* the builder could not read the Dockerfile: evidence line_number, line */
	"unknown-instruction",  /* line, line_number, instruction, corrected (a near miss of a real one) */
	"base-image-missing",   /* image */
	"copy-source-missing",  /* source, line */
	"lockfile-out-of-date", /* npm ci: package-lock.json does not match package.json */
	"lockfile-missing",     /* npm ci without package-lock.json */
	"no-build-script",      /* npm run build without a "build" script */
	"tsc-not-found",        /* the build needs typescript, the install left devDependencies out */
	"command-not-found",    /* exit code 127: command, line */
	"context-too-large",    /* the context is over max_context_mb */
	"no-dockerfile",
	"timed-out",
	NULL,
};

const struct check_kind check_build = {
	.name = "build",
	.summary = "the Dockerfile builds from the service folder",
	.needs = NEED_NOTHING,
	.makes_image = 1,
	.params = params,
	.causes = cause_ids,
	.run = run,
};
