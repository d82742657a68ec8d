/*
 * cli: what the engines driven by a CLI share (docker.c, podman.c): the
 * call with a deadline, the engine's own words when a call fails, JSON
 * answers, the run's and the build's plumbing.  Only those files include it.
 *
 * Where the two say it differently (podman names itself; docker's speaks of
 * "the engine"), the engine's voice is a parameter: a struct cli_voice.
 */
#ifndef PHASELAB_ENGINE_CLI_H
#define PHASELAB_ENGINE_CLI_H

#include "engine/engine-impl.h"
#include "lib/strvec.h"

struct cli_voice {
	const char *name;        /* the engine in messages: "the engine", "podman" */
	const char *starting;    /* a call that could not start: "starting the engine command" */
	const char *const *lost; /* build output that means the engine stopped answering (NULL: none) */
};

/* The engine's own complaint: the last non-empty line of stderr (else stdout), trimmed, at most 400 bytes. */
void cli_words(const struct proc *p, struct strbuf *sb);

/* Set e->err for a call that failed as p says; returns -1. */
int cli_failed(struct engine *e, const struct cli_voice *v, struct proc *p, const char *what);

/* A new argv: the CLI, then the call's own arguments. */
void cli_args(struct engine *e, struct strvec *args);

/*
 * Run `<cli> args...` (args->v[0] is the CLI) with a deadline (0:
 * call_timeout_ms); a caller's p->uninterruptible stays.  Returns p->status
 * or -1 (e->err).
 */
int cli_call(struct engine *e, const struct cli_voice *v, struct proc *p, const struct strvec *args,
	     long timeout_ms);

/* The same for a fixed call: `<cli> words...` (NULL-terminated). */
int cli_call_words(struct engine *e, const struct cli_voice *v, struct proc *p, long timeout_ms,
		   const char *const *words);

/* The same in the background; out_path: where its output goes (NULL: pipes).  0, or -1 (e->err). */
int cli_start(struct engine *e, struct proc *p, const struct strvec *args, long timeout_ms, const char *out_path);

/* A fixed call's stdout as JSON: a new reference, or NULL (e->err). */
json_t *cli_json(struct engine *e, const struct cli_voice *v, const char *const *words, const char *what);

/*
 * `<cli> create|run -d` with the request's labels, limits, port, env and
 * image; health_interval: whether --health-interval carries the request's;
 * extra: the engine's own options, before the image (NULL: none).
 */
void cli_run_args(struct engine *e, const struct run_request *req, int health_interval, const char *const *extra,
		  struct strvec *args);

/*
 * Start `<cli> build`: args holds the CLI, "build" and the engine's own
 * options; the request's (iidfile, label, build args, tag, context) follow.
 * log_count: NULL, the output in pipes; else it goes to a numbered file in
 * the scratch folder (the counter is the caller's).  args is cleared.  0,
 * or -1 (e->err, job left empty).
 */
int cli_build_start(struct engine *e, const struct build_request *req, struct engine_job *job, struct strvec *args,
		    unsigned *log_count);

/*
 * The end of a build started with cli_build_start on job->proc: the output
 * (stdout, then stderr) parsed into res, the step images journalled, the
 * job released.  0 built, 1 the learner's build failed or timed out, -1 (e->err).
 */
int cli_build_finish(struct engine *e, const struct cli_voice *v, struct engine_job *job,
		     struct build_result *res);

/*
 * `<cli> words...` answering a process table (a header line, then a row a
 * line), each row read by row (0: not a row, skipped).  0 with *rows (new)
 * and *n set, or -1 (e->err).
 */
int cli_top(struct engine *e, const struct cli_voice *v, const char *const *words,
	    int (*row)(const char *line, struct top_row *r), struct top_row **rows, size_t *n);

/* A container's State from its inspect object info (taken): 0, or -1 (e->err). */
int cli_state(struct engine *e, json_t *info, const char *id, json_t **state);

/*
 * engine_http_get for a remote engine: `<cli> run --rm --network
 * container:<id> --pull=never` of ENGINE_PROBE_IMAGE, labelled with the
 * run's label, whose output cli_probe_answer reads.  As engine_http_get.
 * cli_probe_answer: the helper's output (an HTTP answer as it came: status
 * line, headers, body) into ans (http_answer, its body bounded as
 * http_get bounds it); 0, or -1 when it is not an HTTP answer.
 */
struct http_answer;
int cli_http_get(struct engine *e, const char *id, int port, const char *path, long timeout_ms,
		 struct http_answer *ans);
int cli_probe_answer(const char *out, size_t len, struct http_answer *ans);

/* The container's root where the engine mounts it here (driver's merged folder, readable), or NULL. */
char *cli_rootfs_dir(json_t *container, const char *driver);

/*
 * Is there a container of that exact name (the listing narrowed by the
 * filter, e.g. "name=^/NAME$")?  1 with *running set, 0 no, -1 (e->err).
 */
int cli_container_by_name(struct engine *e, const struct cli_voice *v, const char *filter, const char *name,
			  int *running);

#endif
