/*
 * layer-cache: after a source-only change, the dependency step comes from
 * the cache.  In a scratch copy of the build context (the learner's folder
 * is never written), one source file that is not a dependency manifest is
 * edited and the image rebuilt; the build's parsed steps (engine.h) say
 * whether the step matching `npm ci` was reused.  The rebuild starts in the background
 * as soon as the image exists, so it overlaps the runtime checks.
 */
#include "core/check.h"
#include "lib/dfstages.h"
#include "lib/fsutil.h"
#include "lib/ignore.h"
#include "lib/xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

static const struct key_spec params[] = {
	{ "step", KEY_STRING, 0, 1, 200, "text of the dependency step's instruction", "npm ci" },
	{ "manifests", KEY_STRINGS, 0, 1, 32, "dependency manifests, never edited",
	  "package.json package-lock.json npm-shrinkwrap.json yarn.lock pnpm-lock.yaml" },
	{ NULL, 0, 0, 0, 0, NULL, NULL },
};

#define CONTEXT_MAX_BYTES (2ULL << 30)

struct cache_state {
	char context[PATH_MAX];
	char iidfile[PATH_MAX];
	char edited[PATH_MAX];
	char failure[512];
};

struct copy_ctx {
	struct ignore_rules *rules;
};

/*
 * Leave out what the engine would leave out, but never the Dockerfile or
 * .dockerignore.  An excluded folder that a '!' pattern may reach into is
 * copied and its contents judged one by one; the engine applies the same
 * rules to the copy, so its extra empty folders never reach the build.
 */
static int context_filter(void *vctx, const char *rel, int is_dir)
{
	struct copy_ctx *c = vctx;

	if (!strcmp(rel, "Dockerfile") || !strcmp(rel, ".dockerignore"))
		return 0;
	if (!c->rules)
		return 0;
	return is_dir ? ignore_excludes_all_under(c->rules, rel) : ignore_excluded(c->rules, rel);
}

static int is_manifest(const struct check_def *def, const char *base)
{
	json_t *list = param_strs(def, "manifests"), *v;
	size_t i;
	int found = 0;

	json_array_foreach(list, i, v)
		found |= !strcmp(base, json_string_value(v));
	json_decref(list);
	return found;
}

static int is_source(const char *name)
{
	static const char *const exts[] = { ".js", ".mjs", ".cjs", ".ts", ".jsx", ".tsx", NULL };
	const char *dot = strrchr(name, '.');

	for (const char *const *e = exts; dot && *e; e++)
		if (!strcmp(dot, *e))
			return 1;
	return 0;
}

/*
 * The best source file to edit under dir (relative rel): sources under src/
 * first, then anywhere but node_modules.  best receives the relative path.
 */
static void find_source(const struct check_def *def, const char *root, const char *rel,
			char *best, int *best_rank)
{
	char *path = *rel ? xasprintf("%s/%s", root, rel) : xstrdup(root);
	DIR *d = opendir(path);
	struct dirent *de;

	while (d && (de = readdir(d))) {
		char *child;
		struct stat sb;
		int rank;

		if (de->d_name[0] == '.' || !strcmp(de->d_name, "node_modules"))
			continue;
		child = *rel ? xasprintf("%s/%s", rel, de->d_name) : xstrdup(de->d_name);
		{
			char *full = xasprintf("%s/%s", root, child);
			int st = lstat(full, &sb);
			free(full);
			if (st < 0) {
				free(child);
				continue;
			}
		}
		if (S_ISDIR(sb.st_mode)) {
			find_source(def, root, child, best, best_rank);
		} else if (S_ISREG(sb.st_mode) && is_source(de->d_name) && !is_manifest(def, de->d_name)) {
			rank = !strncmp(child, "src/", 4) ? 2 : 1;
			/* the first in name order among equals, so runs are repeatable */
			if (rank > *best_rank || (rank == *best_rank && strcmp(child, best) < 0)) {
				*best_rank = rank;
				snprintf(best, PATH_MAX, "%s", child);
			}
		}
		free(child);
	}
	if (d)
		closedir(d);
	free(path);
}

static int edit_source(struct cache_state *st, const struct check_def *def, const char *run_id)
{
	char best[PATH_MAX] = "";
	int rank = 0, fd;
	char *path, *line;

	find_source(def, st->context, "", best, &rank);
	if (!*best)
		snprintf(best, sizeof(best), "phaselab-cache-probe.js");
	snprintf(st->edited, sizeof(st->edited), "%s", best);
	path = xasprintf("%s/%s", st->context, best);
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
	free(path);
	if (fd < 0)
		return -1;
	line = xasprintf("\n// phaselab: a source-only change, to see the dependency layer reused (%s)\n", run_id);
	if (write(fd, line, strlen(line)) < 0) {
		free(line);
		close(fd);
		return -1;
	}
	free(line);
	return close(fd);
}

static int start(struct check_ctx *ctx, const struct check_def *def)
{
	struct cache_state *st = xcalloc(1, sizeof(*st));
	struct copy_ctx cc = { 0 };
	struct strbuf err = STRBUF_INIT;
	struct build_request req = { 0 };

	ctx->background_state = st;
	snprintf(st->context, sizeof(st->context), "%s/cache-context", ctx->run->path);
	snprintf(st->iidfile, sizeof(st->iidfile), "%s/cache.iid", ctx->run->path);

	if (ignore_load_dir(ctx->dir, &cc.rules, &err) < 0)
		strbuf_reset(&err); /* unreadable .dockerignore: copy everything, the build-context check reports it */
	if (copy_tree(ctx->dir, st->context, context_filter, &cc, CONTEXT_MAX_BYTES, &err) < 0) {
		snprintf(st->failure, sizeof(st->failure), "cannot make the scratch copy: %s", err.buf);
		goto out;
	}
	if (edit_source(st, def, ctx->engine->run_id) < 0) {
		snprintf(st->failure, sizeof(st->failure), "cannot edit '%.300s' in the scratch copy: %s",
			 st->edited, strerror(errno));
		goto out;
	}
	req.context = st->context;
	req.iidfile = st->iidfile;
	req.timeout_ms = ctx->phase->build_timeout_ms;
	req.background = 1;
	req.max_output = 4u << 20;
	ctx->background = xcalloc(1, sizeof(*ctx->background));
	*ctx->background = (struct engine_job)ENGINE_JOB_INIT;
	if (engine_build_start(ctx->engine, &req, ctx->background) < 0) {
		snprintf(st->failure, sizeof(st->failure), "%s", ctx->engine->err.buf);
		free(ctx->background);
		ctx->background = NULL;
	}
out:
	ignore_free(cc.rules);
	strbuf_release(&err);
	return 0;
}

/* The Dockerfile's instruction a build step printed (borrowed from df), or NULL. */
static const struct df_instr *instr_of(const struct df_instrs *df, const char *printed)
{
	for (size_t i = 0; i < df->n; i++)
		if (!strcmp(df->v[i].text, printed))
			return &df->v[i];
	/* BuildKit and the legacy builder may respace a line: the first word and what follows, loosely */
	for (size_t i = 0; i < df->n; i++)
		if (!strncasecmp(printed, df->v[i].keyword, strlen(df->v[i].keyword)) && strstr(printed, df->v[i].args))
			return &df->v[i];
	return NULL;
}

/* Does a COPY or ADD copy the whole context ("COPY . .", "ADD . /app")? */
static int copies_all(const char *args)
{
	char *copy = xstrdup(args), *tok, *save = NULL;
	int all = 0;

	for (tok = strtok_r(copy, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save))
		if (strncmp(tok, "--", 2)) {
			all = !strcmp(tok, ".") || !strcmp(tok, "./");
			break;
		}
	free(copy);
	return all;
}

/*
 * Why the step before the install re-ran, with the learner's line: the
 * whole context copied first (and whether the lock file was copied with the
 * manifest before it), or another source copied first.
 */
static const char *rebuilt_cause(struct check_ctx *ctx, const struct build_step *culprit, const char *needle,
				 struct check_result *res)
{
	struct df_instrs df;
	const struct df_instr *in;
	const char *cause = "source-before-install";

	df_instrs_load(&df, ctx->dir);
	in = instr_of(&df, culprit->instruction);
	if (in) {
		result_evidence(res, "line", json_string(in->text));
		result_evidence(res, "line_number", json_integer(in->line));
	} else {
		result_evidence(res, "line", json_string(culprit->instruction));
	}
	if (in && copies_all(in->args)) {
		int manifest = 0, lock = 0;

		cause = "copy-all-before-install";
		for (size_t i = 0; i < df.n && &df.v[i] != in; i++) {
			if (df.v[i].stage != in->stage || strcmp(df.v[i].keyword, "COPY"))
				continue;
			manifest |= strstr(df.v[i].args, "package.json") || strstr(df.v[i].args, "package*.json");
			lock |= strstr(df.v[i].args, "package-lock.json") || strstr(df.v[i].args, "package*.json");
		}
		if (manifest && !lock)
			cause = "lockfile-not-copied";
	}
	result_evidence(res, "corrected", json_string("COPY package.json package-lock.json ./"));
	result_evidence(res, "install", json_string(needle));
	df_instrs_release(&df);
	return cause;
}

static void run(struct check_ctx *ctx, const struct check_def *def, struct check_result *res)
{
	struct cache_state *st = ctx->background_state;
	const char *needle = param_str(def, "step");
	struct build_result build;
	const struct build_log *log = &build.log;
	struct strbuf ref = STRBUF_INIT;
	long step, culprit;
	int rc;

	if (!st || !ctx->background) {
		result_set(res, CHECK_ERROR, "the rebuild could not start: %s", st ? st->failure : "no image");
		return;
	}
	build_result_init(&build);
	rc = engine_build_finish(ctx->engine, ctx->background, &build);
	free(ctx->background);
	ctx->background = NULL;
	/*
	 * The rebuild holds a one-off edit (it carries the run id, so no later
	 * run can be fooled by a cache hit of it): its image goes now, with the
	 * images of the steps that ran; the cached steps are the real cache and
	 * stay.
	 */
	ctx->engine->cleaning = 1;
	if (engine_rm_build(ctx->engine, &build) < 0 || rc != 0)
		ctx->untracked = 1; /* a failed or interrupted rebuild, or what stayed: the label finds it */
	ctx->engine->cleaning = 0;
	result_evidence(res, "edited", json_string(st->edited));

	if (build.timed_out) {
		/* the first build finished; a rebuild that re-runs a step forever is the Dockerfile's doing */
		result_cause(res, "rebuild-timed-out");
		result_set(res, CHECK_FAIL, "the rebuild after editing '%s' did not finish within %.0f s, the "
			   "phase's build time limit", st->edited, ctx->phase->build_timeout_ms / 1000.0);
		result_hint(res, "a step that never ends re-ran after a source-only edit: copy the source after "
			    "the `%s` step, and make sure no RUN step waits forever", needle);
		goto out;
	}
	if (rc < 0) {
		result_engine_error(res, ctx, "the rebuild failed");
		goto out;
	}
	if (rc == 1) {
		result_set(res, CHECK_ERROR, "the first build passed but the rebuild after editing '%s' failed: %s",
			   st->edited, log->error ? log->error : "see the builder's output");
		goto out;
	}
	step = buildlog_find_step(log, needle);
	if (step < 0) {
		long other = buildlog_find_step(log, "npm install");

		result_cause(res, "install-step-not-found");
		result_evidence(res, "install", json_string(needle));
		if (other >= 0)
			result_evidence(res, "line", json_string(log->steps[other].instruction));
		result_set(res, CHECK_FAIL, "no build step runs `%s` (the rebuild had %zu steps)", needle, log->nsteps);
		result_hint(res, "install dependencies with `RUN %s` (deterministic, from package-lock.json) in its own "
			    "step, right after copying package.json and package-lock.json", needle);
		goto out;
	}
	result_evidence(res, "step", build_step_json(&log->steps[step]));
	buildlog_step_ref(log, &log->steps[step], &ref);
	if (log->steps[step].cached) {
		result_set(res, CHECK_PASS, "after editing %s, %s `%s` came from the cache", st->edited, ref.buf,
			   log->steps[step].instruction);
		goto out;
	}
	culprit = buildlog_first_rebuilt_before(log, step);
	if (culprit >= 0) {
		result_evidence(res, "first_rebuilt", build_step_json(&log->steps[culprit]));
		result_cause(res, rebuilt_cause(ctx, &log->steps[culprit], needle, res));
		strbuf_reset(&ref);
		buildlog_step_ref(log, &log->steps[culprit], &ref);
		result_set(res, CHECK_FAIL, "editing %s re-ran `%s`: %s `%s` came before it and was rebuilt, "
			   "and every later step with it", st->edited, log->steps[step].instruction, ref.buf,
			   log->steps[culprit].instruction);
		result_hint(res, "copy only the dependency manifests before installing: `COPY package.json "
			    "package-lock.json ./`, then `RUN npm ci --omit=dev`, and only then `COPY . .`; a source "
			    "change then leaves the install layer cached");
	} else {
		result_cause(res, "changing-step-before-install");
		result_set(res, CHECK_FAIL, "editing %s re-ran `%s` although no step before it changed",
			   st->edited, log->steps[step].instruction);
		result_hint(res, "something before the step changes on every build: an ARG or --build-arg whose "
			    "value changes, or an ADD of a remote URL; keep those after the install step");
	}
out:
	strbuf_release(&ref);
	build_result_release(&build);
}

static const char *const causes[] = {
	"copy-all-before-install",      /* COPY . . before the install: line, line_number, corrected */
	"lockfile-not-copied",          /* package.json copied alone, then everything: line, corrected */
	"source-before-install",        /* another copy of source before it: line, corrected */
	"changing-step-before-install", /* nothing was copied, yet a step changes (ARG, remote ADD) */
	"install-step-not-found",       /* install; line: an `npm install` step, when there is one */
	"rebuild-timed-out",
	NULL,
};

const struct check_kind check_layer_cache = {
	.name = "layer-cache",
	.summary = "the dependency layer is reused after a source-only change",
	.needs = NEED_IMAGE,
	.params = params,
	.causes = causes,
	.start = start,
	.run = run,
};
