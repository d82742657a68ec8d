/*
 * check: the kinds of checks, and the state of a run they share.
 *
 * Adding a check kind:
 *  1. a file checks/<name>.c defining one `const struct check_kind` with
 *     name, summary, what it needs (nothing, an image, a running container),
 *     the parameters it takes (a key_spec table; the phase loader validates
 *     them) and its run function; what is particular to it stays in it:
 *     whether it makes the image, what it records for later phases and
 *     which earlier phase's record it measures against (the fields below);
 *  2. its line in the table in checks/checks.c (tests walk the table and
 *     assert every entry is complete and unique);
 *  3. unit tests for its parsing and decisions, and an integration fixture
 *     under tests/fixtures/submissions/ that makes it fail for real;
 *  4. a line in README.md's list of checks.
 *
 * A run function fills in status, message, hint and evidence of the
 * result, and for a failure the cause it identified (result_cause: one of
 * the ids its kind declares in causes); the driver sets id, title, points
 * and duration.  The phase file holds the hints per cause (phase.h).  It reports
 * CHECK_FAIL for the learner's mistakes and CHECK_ERROR for the harness's
 * or the engine's (ctx->engine->err says what).
 */
#ifndef PHASELAB_CHECK_H
#define PHASELAB_CHECK_H

#include <jansson.h>

#include "engine/buildlog.h"
#include "engine/engine.h"
#include "core/phase.h"
#include "lib/proc.h"
#include "report/report.h"
#include "core/rundir.h"
#include "lib/schema.h"
#include "lib/tar.h"

enum check_need {
	NEED_NOTHING,
	NEED_IMAGE,      /* the learner's built image */
	NEED_CONTAINER,  /* a running container of it */
};

enum stage_state { STAGE_NOT_TRIED, STAGE_READY, STAGE_FAILED, STAGE_ERROR };

/* What a run shares between its checks: one build, one container. */
struct check_ctx {
	struct engine *engine;
	const struct phase *phase;
	struct rundir *run;
	const char *dir;                 /* the learner's service folder (never written) */
	long long baseline_bytes;        /* the size an earlier phase recorded (0: none) */
	const char *baseline_what;       /* what it was, for people ("your phase-2 image") */

	/* the build (by the kind that makes the image) */
	enum stage_state build;
	char image_id[96];
	json_t *image;                   /* image inspect object (owned) */
	struct build_log build_log;
	struct strbuf build_output;      /* both streams, bounded */
	long build_ms;
	int build_timed_out;
	char *build_failure;             /* why the image is missing (for skips) */
	const char *build_check_id;      /* the check that reports the build */

	/* the container (started on first need) */
	enum stage_state container;
	char container_id[80];
	json_t *container_info;          /* container inspect at start (owned) */
	int host_port;
	long long container_started_ms;
	char *container_failure;         /* why there is no running container */
	const char *container_check_id;  /* the check whose failure explains it */

	/*
	 * The container's filesystem, for static looks: read in place where the
	 * engine has it mounted on this machine (rootfs_dir), else exported once
	 * (in the background, from the container's start).
	 */
	char *rootfs_dir;
	enum stage_state export;
	char *export_path;
	char *export_failure;
	struct engine_job export_job;    /* started: an export runs in the background */

	/* what the run made, for a removal without a search */
	int untracked;                   /* something may exist that we hold no id of: sweep by label */
	int env_broken;                  /* a base image of the lab is missing: exit 3 */

	/* things other checks left for later (the background rebuild) */
	struct engine_job *background;
	void *background_state;

	/*
	 * What a check waits for, for whoever watches the run (the command's
	 * status line): ctx_progress() calls it from a kind's wait loops with
	 * one line of text, as often as the loop goes round (the listener
	 * rate-limits).  NULL: nobody listens.  Set by the driver (verify.c).
	 */
	void (*progress)(void *arg, const char *detail);
	void *progress_arg;
};

/*
 * What a phase leaves for the phases after it, measured by its checks: the
 * learner's progress file keeps it (learn/progress.c), and a later phase's
 * check measures itself against it (ctx->baseline_bytes).
 */
struct check_record {
	long long image_bytes;           /* the image's size, as the engine counts it (0: none) */
};

struct check_kind {
	const char *name;
	const char *summary;
	enum check_need needs;
	int uses_container;              /* looks at the running container when there is one */
	/*
	 * 1 for the kind that builds the image (ctx_need_image): the driver runs
	 * it without asking for the image first, and the first such check is the
	 * one the skips of the others name when there is no image.
	 */
	int makes_image;
	const struct key_spec *params;   /* NULL-key-terminated; may be the empty table */
	/*
	 * The causes of a failure it can identify (result_cause), NULL-
	 * terminated; NULL: none.  Ids are lowercase words joined by '-'
	 * ("parse-error"); a phase file's "causes" may name only these.
	 */
	const char *const *causes;
	/*
	 * Optional: called once the image exists and before any check runs, to
	 * start slow work in the background (the cache rebuild).  Returns 0.
	 */
	int (*start)(struct check_ctx *ctx, const struct check_def *def);
	void (*run)(struct check_ctx *ctx, const struct check_def *def, struct check_result *res);
	/*
	 * Optional: what a passing result of the check leaves for later phases,
	 * read from the result (its evidence) into rec; what it does not measure
	 * it leaves alone.  Called once per passing result, after the run.
	 */
	void (*record)(const struct check_def *def, const struct check_result *res, struct check_record *rec);
	/*
	 * Optional: the id of the earlier phase whose record the check measures
	 * itself against (borrowed from def), or NULL for none.  A learner's
	 * workspace passes what that phase recorded in ctx->baseline_bytes.
	 */
	const char *(*baseline_from)(const struct check_def *def);
};

/* The table (checks/checks.c), NULL-terminated. */
extern const struct check_kind *const check_kinds[];
const struct check_kind *check_kind_find(const char *name);

/* The shared stages (core/run.c), built or started on first need; memoised. */
int ctx_need_image(struct check_ctx *ctx);
int ctx_need_container(struct check_ctx *ctx);
/* The container's filesystem as a tar file (ctx->export_path); works on an exited container. */
int ctx_need_export(struct check_ctx *ctx);
/*
 * Walk the container's filesystem (tar_walk's contract): in place when it is
 * mounted here, else through the export.  0, or -1 with ctx->export_failure.
 */
int ctx_walk_fs(struct check_ctx *ctx, tar_fn fn, void *arg, size_t max_data);
/*
 * Remove the container once no check will look at it: its app and its
 * health probes stop taking the CPU the cache rebuild still needs.
 */
void ctx_drop_container(struct check_ctx *ctx);
/* Is the container still running?  Updates ctx->container_failure when it is not. */
int ctx_container_running(struct check_ctx *ctx);
/*
 * Release everything the run holds: containers, images, files (also after an
 * interrupt).  -1 when the engine could not remove all of it (it stopped
 * answering): the run's label is then the only way to find what is left.
 */
int ctx_release(struct check_ctx *ctx);

/* A parameter of the check, or the default its kind's table declares (lib/schema.h). */
#define param_str(def, key) spec_str((def)->params, (def)->kind->params, (key))
#define param_int(def, key) spec_int((def)->params, (def)->kind->params, (key))
#define param_num(def, key) spec_num((def)->params, (def)->kind->params, (key))
#define param_bool(def, key) spec_bool((def)->params, (def)->kind->params, (key))
#define param_strs(def, key) spec_strs((def)->params, (def)->kind->params, (key))

/* Helpers for run functions (core/result.c): set the message / hint with printf formats. */
void result_set(struct check_result *res, enum check_status st, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void result_hint(struct check_result *res, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/*
 * The cause of the failure, one of the ids the kind declares (copied), or
 * NULL for none; also recorded as "cause" in the evidence, where the JSON
 * report carries it.  Other evidence keys a hint quotes ({line}) are plain
 * strings or numbers.
 */
void result_cause(struct check_result *res, const char *id);
/* Does kind declare the cause id? */
int kind_has_cause(const struct check_kind *kind, const char *id);
/* Set evidence key to a new reference (steals v). */
void result_evidence(struct check_result *res, const char *key, json_t *v);
/* A build step as evidence: index, of, stage, instruction, cached (new reference). */
json_t *build_step_json(const struct build_step *s);
/*
 * Say what the running check is waiting for ("waiting for healthy: 6 s of
 * the 10 s start period"): one line, no newline, with its own elapsed time.
 * Does nothing when nobody listens.  Never prints: the command draws it.
 */
void ctx_progress(struct check_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* An engine failure: CHECK_ERROR with the engine's message. */
void result_engine_error(struct check_result *res, struct check_ctx *ctx, const char *doing);

#endif
