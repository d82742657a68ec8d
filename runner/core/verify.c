/*
 * verify: build, run the selected checks on one image and one container,
 * clean up, and fill in the report.  The engine work is shared: one build,
 * one container, the cache rebuild overlapping the runtime checks.
 */
#include "core/verify.h"
#include "core/check.h"
#include "core/exit.h"
#include "lib/git.h"
#include "lib/interrupt.h"
#include "core/rundir.h"
#include "lib/timeutil.h"
#include "lib/xalloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>


void ctx_progress(struct check_ctx *ctx, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;

	if (!ctx->progress)
		return;
	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	ctx->progress(ctx->progress_arg, sb.buf);
	strbuf_release(&sb);
}

/* verify_opts's detail has the argument order of the other callbacks there */
struct detail_fwd {
	void (*detail)(const char *detail, void *arg);
	void *arg;
};

static void forward_detail(void *arg, const char *detail)
{
	const struct detail_fwd *f = arg;
	f->detail(detail, f->arg);
}

static void skip(struct check_result *res, const char *waits_on, const char *why)
{
	if (waits_on)
		result_set(res, CHECK_SKIP, "waits on '%s': %s", waits_on, why ? why : "it did not complete");
	else
		result_set(res, CHECK_SKIP, "skipped: %s", why ? why : "what it needs is missing");
}

static void start_background(struct check_ctx *ctx, const unsigned char *only, int *started)
{
	if (*started || ctx->build != STAGE_READY)
		return;
	*started = 1;
	for (size_t i = 0; i < ctx->phase->nchecks; i++)
		if (ctx->phase->checks[i].kind->start && (!only || only[i]))
			ctx->phase->checks[i].kind->start(ctx, &ctx->phase->checks[i]);
}

/* Run one check with what it needs, or skip it naming what it waited on. */
static void run_one(struct check_ctx *ctx, const struct check_def *def, struct check_result *res)
{
	const struct check_kind *k = def->kind;

	if (k->needs != NEED_NOTHING && !k->makes_image && ctx_need_image(ctx) < 0) {
		if (ctx->build == STAGE_ERROR)
			result_set(res, CHECK_ERROR, "no image to check: %s", ctx->build_failure);
		else
			skip(res, ctx->build_check_id, ctx->build_failure);
		return;
	}
	if (k->needs == NEED_CONTAINER && ctx_need_container(ctx) < 0) {
		int owner = ctx->container_check_id && !strcmp(ctx->container_check_id, def->id);
		if (ctx->container == STAGE_ERROR) {
			result_set(res, CHECK_ERROR, "no container to check: %s", ctx->container_failure);
		} else if (owner && kind_has_cause(k, "container-exits")) {
			/* a kind that tells why a container stops explains it (checks/http.c) */
			k->run(ctx, def, res);
		} else if (owner) {
			result_set(res, CHECK_FAIL, "%s", ctx->container_failure);
			result_hint(res, "the container stops at once: run it yourself (docker run) and read its "
				    "output; %s", ctx->phase->exit_hint);
		} else {
			skip(res, ctx->container_check_id, ctx->container_failure);
		}
		return;
	}
	k->run(ctx, def, res);
}

/*
 * PHASELAB_STATS=FILE: what the benchmark reads: wall time, engine calls,
 * and our own peak resident memory (VmHWM: the docker CLI children, which a
 * parent's rusage would fold in, are not counted).
 */
static void write_stats(const struct engine *e, long long wall_ms)
{
	const char *path = getenv("PHASELAB_STATS");
	char line[256];
	long hwm = -1;
	FILE *f;

	if (!path || !*path)
		return;
	f = fopen("/proc/self/status", "re");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmHWM: %ld kB", &hwm) == 1)
			break;
	if (f)
		fclose(f);
	f = fopen(path, "we");
	if (!f)
		return;
	fprintf(f, "{\"wall_ms\": %lld, \"engine_calls\": %u, \"peak_rss_kb\": %ld}\n", wall_ms, e->calls, hwm);
	fclose(f);
}

/* Will a check from the k-th to run on look at the running container? */
static int container_needed_from(const struct phase *ph, const size_t *order, size_t n, size_t k)
{
	for (; k < n; k++)
		if (ph->checks[order[k]].kind->uses_container)
			return 1;
	return 0;
}

/* A check that reads only the image (or nothing): it can run while the service starts. */
static int image_only(const struct check_kind *k)
{
	return k->needs != NEED_CONTAINER && !k->uses_container && !k->makes_image && !k->start;
}

/*
 * The order the selected checks run in (the report keeps the phase file's):
 * up to the build as written; then, once the container is started, the
 * checks that look only at the image, which run while the service boots
 * instead of after it answered; then the rest as written.
 */
static size_t run_order(const struct phase *ph, const unsigned char *only, size_t *order, size_t *built_at)
{
	size_t n = 0, i = 0;

	for (; i < ph->nchecks; i++) {
		if (!only[i])
			continue;
		order[n++] = i;
		if (ph->checks[i].kind->makes_image) {
			i++;
			break;
		}
	}
	*built_at = n;
	for (size_t j = i; j < ph->nchecks; j++)
		if (only[j] && image_only(ph->checks[j].kind))
			order[n++] = j;
	for (size_t j = i; j < ph->nchecks; j++)
		if (only[j] && !image_only(ph->checks[j].kind))
			order[n++] = j;
	return n;
}

static int any_error(const struct report *r)
{
	for (size_t i = 0; i < r->nchecks; i++)
		if (r->checks[i].status == CHECK_ERROR)
			return 1;
	return 0;
}

int verify_phase(const struct phase *ph, const char *dir, const struct verify_opts *o, struct report *r,
		 struct strbuf *msg)
{
	struct strbuf err = STRBUF_INIT;
	struct engine engine;
	struct rundir run;
	struct check_ctx ctx;
	struct git_state gs;
	struct detail_fwd fwd = { o->detail, o->progress_arg };
	long long t0 = now_ms();
	int status, bg_started = 0, engine_lost = 0;
	unsigned char *only;
	size_t n = 0, nrun, built_at, *order, *pos;

	memset(r, 0, sizeof(*r));
	if (rundir_create(&run, &err) < 0) {
		strbuf_addf(msg, "%s\n", err.buf);
		strbuf_release(&err);
		return EXIT_ENVIRONMENT;
	}
	strbuf_release(&err);
	if (engine_open(&engine, run.id) < 0) {
		status = interrupt_pending() ? EXIT_INTERRUPTED : EXIT_ENVIRONMENT;
		strbuf_addf(msg, "%s\n", status == EXIT_INTERRUPTED ? "interrupted" : engine.err.buf);
		engine_close(&engine);
		rundir_remove(&run);
		return status;
	}
	engine.scratch = run.path; /* what a later run must find if this one dies */
	/* what killed runs left behind goes first (never another live run's) */
	engine.cleaning = 1;
	rundir_reap_stale(&engine);
	engine.cleaning = 0;

	/* a step's checks, or the graded checklist (a step's gate is not an item of it) */
	only = xcalloc(ph->nchecks + 1, 1);
	for (size_t i = 0; i < ph->nchecks; i++)
		only[i] = o->only ? o->only[i] : ph->checks[i].graded;

	memset(&ctx, 0, sizeof(ctx));
	ctx.engine = &engine;
	ctx.phase = ph;
	ctx.run = &run;
	ctx.dir = dir;
	ctx.baseline_bytes = o->baseline_bytes;
	ctx.baseline_what = o->baseline_what;
	if (o->detail) {
		ctx.progress = forward_detail;
		ctx.progress_arg = &fwd;
	}
	strbuf_init(&ctx.build_output, 0);
	rfc3339_now(r->started_at, sizeof(r->started_at));
	r->checks = xcalloc(ph->nchecks, sizeof(*r->checks));
	for (size_t i = 0; i < ph->nchecks; i++) {
		const struct check_kind *k = ph->checks[i].kind;
		if (k->makes_image && !ctx.build_check_id)
			ctx.build_check_id = ph->checks[i].id;
		if (k->needs == NEED_CONTAINER && !ctx.container_check_id &&
		    only[i])
			ctx.container_check_id = ph->checks[i].id;
	}

	order = xcalloc(ph->nchecks + 1, sizeof(*order));
	pos = xcalloc(ph->nchecks + 1, sizeof(*pos));
	for (size_t i = 0; i < ph->nchecks; i++)
		if (only[i])
			pos[i] = n++;
	nrun = run_order(ph, only, order, &built_at);
	for (size_t k = 0; k < nrun; k++) {
		size_t i = order[k];
		const struct check_def *def = &ph->checks[i];
		struct check_result *res;
		long long c0;

		/* the service boots while the image's own checks run */
		if (k == built_at && ctx.build == STAGE_READY && !interrupt_pending() &&
		    container_needed_from(ph, order, nrun, k))
			ctx_need_container(&ctx);
		c0 = now_ms();
		if (!container_needed_from(ph, order, nrun, k))
			ctx_drop_container(&ctx);
		res = &r->checks[pos[i]];
		res->id = xstrdup(def->id);
		res->title = xstrdup(def->title);
		res->kind = xstrdup(def->kind->name);
		res->max_points = def->points;
		if (interrupt_pending()) {
			result_set(res, CHECK_ERROR, "interrupted");
		} else {
			if (o->progress)
				o->progress(def->title, o->progress_arg);
			run_one(&ctx, def, res);
			/* the rebuild for the cache check overlaps everything after the build */
			start_background(&ctx, only, &bg_started);
		}
		if (!res->evidence)
			res->evidence = json_object();
		if (!res->message)
			result_set(res, CHECK_ERROR, "the check reported nothing");
		res->points = res->status == CHECK_PASS ? def->points : 0;
		res->duration_ms = (long)(now_ms() - c0);
	}
	free(order);
	free(pos);
	r->nchecks = n;
	if (o->progress)
		o->progress(NULL, o->progress_arg);
	/*
	 * An item in error may be the engine going away under us: then the
	 * environment is at fault, not the submission, and what the run made
	 * can only be found later, by its label.
	 */
	if (!interrupt_pending() && any_error(r) && !engine_ping(&engine))
		engine_lost = 1;
	if (ctx_release(&ctx) < 0 || engine_lost) {
		strbuf_addf(msg, "the engine could not remove what this run made (label %s=%s); "
			    "the next run removes it once the engine answers\n", ENGINE_LABEL, run.id);
		rundir_abandon(&run);
	} else {
		rundir_remove(&run);
	}

	if (interrupt_pending()) {
		/* everything the run made is gone: say so and stop */
		strbuf_addstr(msg, "interrupted; the run's containers, images and scratch files were removed\n");
		status = EXIT_INTERRUPTED;
		report_release(r);
		memset(r, 0, sizeof(*r));
		goto out;
	}

	r->phase_id = xstrdup(ph->id);
	r->phase_title = xstrdup(ph->title);
	r->dir = xstrdup(dir);
	if (git_describe_dir(dir, &gs) == 1) {
		r->has_git = 1;
		memcpy(r->commit, gs.commit, sizeof(r->commit));
		r->dirty = gs.dirty;
	}
	r->engine_client = xstrdup(engine.client_version);
	r->engine_server = xstrdup(engine.server_version);
	r->builder = xstrdup(builder_name(engine.builder));
	r->engine_kind = xstrdup(engine.kind ? engine.kind : "docker");
	r->engine_remote = engine.remote;
	r->pass_mark = ph->pass_mark;
	report_tally(r);
	r->duration_ms = (long)(now_ms() - t0);
	if (engine_lost) {
		strbuf_addstr(msg, "the engine stopped answering during the run: the items in error "
			      "were not the submission's fault; start the engine again (as root: dockerd "
			      ">/var/log/dockerd.log 2>&1 &, or systemctl start docker) and re-run\n");
		status = EXIT_ENVIRONMENT;
	} else if (ctx.env_broken) {
		status = EXIT_ENVIRONMENT;
	} else {
		status = r->passed ? EXIT_PASSED : EXIT_NOT_PASSED;
	}
out:
	free(only);
	write_stats(&engine, now_ms() - t0);
	engine_close(&engine);
	return status;
}
