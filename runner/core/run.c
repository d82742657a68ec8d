/*
 * run: the stages the checks of one run share: one build, one container,
 * one export of its filesystem, and their removal.  Each stage runs on
 * first need and is remembered, so a phase costs one build and one
 * container start however many items it has.  check.h declares them (the
 * ctx_* functions) for the kinds; the driver (verify.c) releases them.
 */
#include "core/check.h"
#include "lib/fsutil.h"
#include "lib/interrupt.h"
#include "engine/rootfs.h"
#include "lib/timeutil.h"
#include "lib/xalloc.h"

#include <stdlib.h>
#include <string.h>

int ctx_need_image(struct check_ctx *ctx)
{
	struct build_request req = { 0 };
	struct engine_job job = ENGINE_JOB_INIT;
	struct build_result res;
	char *iid;
	long long t0;
	int rc;

	if (ctx->build != STAGE_NOT_TRIED)
		return ctx->build == STAGE_READY ? 0 : -1;
	iid = rundir_path(ctx->run, "image.iid");
	req.context = ctx->dir;
	req.iidfile = iid;
	req.timeout_ms = ctx->phase->build_timeout_ms;
	req.max_output = 4u << 20;
	buildlog_init(&ctx->build_log);
	t0 = now_ms();
	if (engine_build_start(ctx->engine, &req, &job) < 0) {
		ctx->build = STAGE_ERROR;
		ctx->build_failure = xstrdup(ctx->engine->err.buf);
		free(iid);
		return -1;
	}
	build_result_init(&res);
	rc = engine_build_finish(ctx->engine, &job, &res);
	ctx->build_ms = (long)(now_ms() - t0);
	ctx->build_timed_out = res.timed_out;
	/* a build cut short may still be finishing in the engine */
	if (res.timed_out || res.interrupted)
		ctx->untracked = 1;
	snprintf(ctx->image_id, sizeof(ctx->image_id), "%s", res.image_id);
	strbuf_add(&ctx->build_output, res.output.buf, res.output.len);
	ctx->build_log = res.log; /* handed over: ctx_release releases it */
	buildlog_init(&res.log);
	build_result_release(&res);
	free(iid);

	if (rc == 0 && engine_image_inspect(ctx->engine, ctx->image_id, &ctx->image) == 0) {
		ctx->build = STAGE_READY;
		return 0;
	}
	if (rc == 1) {
		ctx->build = STAGE_FAILED;
		ctx->build_failure = xstrdup(ctx->build_timed_out ? "the build did not finish in time"
								  : "the image did not build");
	} else {
		ctx->build = STAGE_ERROR;
		ctx->build_failure = xasprintf("the engine failed during the build: %s", ctx->engine->err.buf);
	}
	return -1;
}

static void container_gone(struct check_ctx *ctx, json_t *info)
{
	json_t *state = json_object_get(info, "State");
	struct strbuf logs = STRBUF_INIT, why = STRBUF_INIT;
	long long code = json_integer_value(json_object_get(state, "ExitCode"));

	engine_logs(ctx->engine, ctx->container_id, 8, &logs);
	strbuf_rtrim(&logs);
	strbuf_addf(&why, "the container exited with code %lld", code);
	if (json_is_true(json_object_get(state, "OOMKilled")))
		strbuf_addstr(&why, " (killed: out of memory)");
	if (logs.len)
		strbuf_addf(&why, "; its last output:\n%s", logs.buf);
	free(ctx->container_failure);
	ctx->container_failure = strbuf_detach(&why, NULL);
	ctx->container = STAGE_FAILED;
	strbuf_release(&logs);
}

int ctx_container_running(struct check_ctx *ctx)
{
	json_t *info = NULL;
	int running;

	if (ctx->container != STAGE_READY)
		return 0;
	if (engine_container_inspect(ctx->engine, ctx->container_id, &info) < 0) {
		ctx->container = STAGE_ERROR;
		ctx->container_failure = xstrdup(ctx->engine->err.buf);
		return 0;
	}
	running = json_is_true(json_object_get(json_object_get(info, "State"), "Running"));
	if (!running)
		container_gone(ctx, info);
	json_decref(info);
	return running;
}

int ctx_need_container(struct check_ctx *ctx)
{
	const struct phase *ph = ctx->phase;
	struct run_request req = { 0 };

	if (ctx->container != STAGE_NOT_TRIED)
		return ctx->container == STAGE_READY ? 0 : -1;
	if (ctx_need_image(ctx) < 0) {
		ctx->container = STAGE_FAILED;
		ctx->container_failure = xstrdup(ctx->build_failure);
		return -1;
	}
	req.image = ctx->image_id;
	req.port = ph->port;
	req.env = (const char *const *)ph->env;
	/*
	 * The image's own probe, run at once: only the interval is
	 * overridden (the command, timeout, start period and retries stay the
	 * image's), so the first probe runs after 250 ms instead of 30 s.
	 */
	req.health_interval_ms = 250;
	req.memory_mb = ph->memory_mb;
	req.pids = ph->pids;
	req.cpus = ph->cpus;
	ctx->container_started_ms = now_ms();
	if (engine_run(ctx->engine, &req, ctx->container_id, sizeof(ctx->container_id)) < 0) {
		ctx->untracked = !ctx->container_id[0];
		if (ctx->engine->interrupted) {
			ctx->container = STAGE_ERROR;
		} else {
			/* the engine refused to start it: almost always the image's command */
			ctx->container = STAGE_FAILED;
		}
		ctx->container_failure = xasprintf("the container did not start: %s", ctx->engine->err.buf);
		return -1;
	}
	if (engine_container_inspect(ctx->engine, ctx->container_id, &ctx->container_info) < 0) {
		ctx->container = STAGE_ERROR;
		ctx->container_failure = xstrdup(ctx->engine->err.buf);
		return -1;
	}
	ctx->host_port = engine_host_port(ctx->container_info, ph->port);
	ctx->container = STAGE_READY;
	/*
	 * The static look at the filesystem: where the engine mounts the
	 * container's root on this machine (overlay2, a local engine we may
	 * read), it is read in place, which costs nothing; otherwise an export
	 * starts now, so it runs while the service starts.
	 */
	ctx->rootfs_dir = engine_rootfs_dir(ctx->engine, ctx->container_info);
	if (!ctx->rootfs_dir) {
		ctx->export_path = rundir_path(ctx->run, "rootfs.tar");
		ctx->export_job = (struct engine_job)ENGINE_JOB_INIT;
		engine_export_start(ctx->engine, ctx->container_id, ctx->export_path, 120000, &ctx->export_job);
	}
	if (!json_is_true(json_object_get(json_object_get(ctx->container_info, "State"), "Running"))) {
		container_gone(ctx, ctx->container_info);
		return -1;
	}
	return 0;
}

int ctx_need_export(struct check_ctx *ctx)
{
	if (ctx->export != STAGE_NOT_TRIED)
		return ctx->export == STAGE_READY ? 0 : -1;
	if (ctx_need_image(ctx) < 0) {
		ctx->export = STAGE_FAILED;
		ctx->export_failure = xstrdup(ctx->build_failure);
		return -1;
	}
	if (ctx->export_job.started) {
		if (engine_export_finish(ctx->engine, &ctx->export_job) < 0) {
			ctx->export = STAGE_ERROR;
			ctx->export_failure = xasprintf("cannot export the image's filesystem: %s", ctx->engine->err.buf);
			return -1;
		}
		ctx->export = STAGE_READY;
		return 0;
	}
	if (!ctx->container_id[0]) {
		/* never started (or could not be): a created container exports just as well */
		struct run_request req = { .image = ctx->image_id, .create_only = 1 };

		if (engine_run(ctx->engine, &req, ctx->container_id, sizeof(ctx->container_id)) < 0) {
			ctx->container_id[0] = '\0';
			ctx->untracked = 1;
		}
	}
	if (!ctx->export_path)
		ctx->export_path = rundir_path(ctx->run, "rootfs.tar");
	ctx->export_job = (struct engine_job)ENGINE_JOB_INIT;
	if (!ctx->container_id[0] ||
	    engine_export_start(ctx->engine, ctx->container_id, ctx->export_path, 120000, &ctx->export_job) < 0 ||
	    engine_export_finish(ctx->engine, &ctx->export_job) < 0) {
		ctx->export = STAGE_ERROR;
		ctx->export_failure = xasprintf("cannot export the image's filesystem: %s", ctx->engine->err.buf);
		return -1;
	}
	ctx->export = STAGE_READY;
	return 0;
}

void ctx_drop_container(struct check_ctx *ctx)
{
	if (ctx->container != STAGE_READY || !ctx->container_id[0])
		return;
	ctx->engine->cleaning = 1;
	if (engine_rm_container(ctx->engine, ctx->container_id) < 0)
		ctx->untracked = 1; /* the label sweep at the end finds it */
	ctx->engine->cleaning = 0;
	ctx->container_id[0] = '\0';
	ctx->container = STAGE_FAILED;
	free(ctx->container_failure);
	ctx->container_failure = xstrdup("the container was removed: no check needed it any more");
	free(ctx->rootfs_dir);
	ctx->rootfs_dir = NULL;
}

int ctx_walk_fs(struct check_ctx *ctx, tar_fn fn, void *arg, size_t max_data)
{
	/* in place while the container runs; an exited one is exported (it works on those) */
	if (ctx->rootfs_dir && rootfs_walk(ctx->rootfs_dir, fn, arg, max_data) == 0)
		return 0;
	if (ctx_need_export(ctx) < 0)
		return -1;
	if (tar_walk(ctx->export_path, fn, arg, max_data) < 0) {
		free(ctx->export_failure);
		ctx->export_failure = xstrdup("the export is not a tar archive");
		return -1;
	}
	return 0;
}

/*
 * Remove what the run made.  When every object's id is known (the usual
 * case) that is two calls; after an interrupt or an engine failure, when
 * something may exist that we hold no id of, every object with the run's
 * label is found and removed.
 */
int ctx_release(struct check_ctx *ctx)
{
	struct engine *e = ctx->engine;
	int left = 0, interrupted;

	e->cleaning = 1;
	if (ctx->background) {
		/*
		 * A rebuild nobody collected (an interrupt came first): what it
		 * committed so far goes, step images included (they carry no label).
		 */
		struct build_result res;

		build_result_init(&res);
		engine_build_finish(e, ctx->background, &res);
		if (engine_rm_build(e, &res) < 0)
			left = 1;
		build_result_release(&res);
		free(ctx->background);
		ctx->background = NULL;
		ctx->untracked = 1;
	}
	if (ctx->export_job.started)
		engine_export_finish(e, &ctx->export_job);
	interrupted = e->interrupted || interrupt_pending();
	if (ctx->untracked || interrupted) {
		left |= engine_remove_labelled(e, e->run_id) < 0;
		if (interrupted) {
			/*
			 * An interrupted run leaves the engine's images as it found
			 * them: the steps the learner's build ran go too (the image,
			 * their child, went with the label above; should it have
			 * stayed, these stay with it, and the next run's sweep of the
			 * journal takes them).
			 */
			struct build_result main_build;

			build_result_init(&main_build);
			main_build.log = ctx->build_log; /* borrowed: not released here */
			left |= engine_rm_build(e, &main_build) < 0;
		}
	} else {
		/*
		 * The learner's image goes with --no-prune: its layers are the cache
		 * the next check hits.  (The cache check removes its own rebuild,
		 * one-off layers included, with engine_rm_build.)
		 */
		if (ctx->container_id[0] && engine_rm_container(e, ctx->container_id) < 0)
			ctx->untracked = 1;
		if (ctx->image_id[0] && engine_rm_image(e, ctx->image_id) < 0)
			ctx->untracked = 1;
		if (ctx->untracked) /* something held on: find it by label */
			left = engine_remove_labelled(e, e->run_id) < 0;
	}
	e->cleaning = 0;

	json_decref(ctx->image);
	json_decref(ctx->container_info);
	buildlog_release(&ctx->build_log);
	strbuf_release(&ctx->build_output);
	free(ctx->build_failure);
	free(ctx->container_failure);
	free(ctx->export_path);
	free(ctx->rootfs_dir);
	free(ctx->export_failure);
	free(ctx->background_state);
	ctx->image = ctx->container_info = NULL;
	return left ? -1 : 0;
}
