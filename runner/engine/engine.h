/*
 * engine: every call to the container engine goes through here.
 *
 * The engine is the `docker` CLI on PATH, or $PHASELAB_DOCKER.  Each call is
 * one process (proc.h) with a deadline; a JSON answer is parsed with jansson.
 * Everything a run creates carries the label org.phaselab.run=<run id> so it
 * can be found and removed, also by a later run when this one was killed.
 *
 * Return convention: 0 on success; -1 on failure with a one-line message in
 * e->err (lowercase, what failed first, the engine's own words after a colon).
 * A call that was interrupted returns -1 with e->interrupted set.
 */
#ifndef PHASELAB_ENGINE_H
#define PHASELAB_ENGINE_H

#include <jansson.h>

#include "engine/buildlog.h"
#include "lib/proc.h"
#include "lib/strbuf.h"

#define ENGINE_LABEL "org.phaselab.run"

struct engine {
	const char *cli;             /* borrowed: "docker" or $PHASELAB_DOCKER */
	enum builder_kind builder;   /* how this CLI builds (decided by engine_open) */
	char *client_version;
	char *server_version;
	char run_id[40];             /* value of ENGINE_LABEL for this run */
	long call_timeout_ms;        /* deadline for short calls (inspect, top, rm) */
	struct strbuf err;
	int interrupted;
	int cleaning;                /* 1: calls run to the end even after an interrupt */
	unsigned calls;              /* engine calls made: the benchmark counts them */
};

/*
 * Find the CLI, check that a server answers and decide the builder.
 * Returns 0, or -1 with the reason and the fix in e->err (exit status 3).
 */
int engine_open(struct engine *e, const char *run_id);
void engine_close(struct engine *e);
/* Does the engine's server still answer?  1 or 0 (within 10 s). */
int engine_ping(struct engine *e);

/* Run `<cli> args...` with a deadline (0: call_timeout_ms).  Returns p->status or -1. */
int engine_call(struct engine *e, struct proc *p, const char *const *args, long timeout_ms);

/*
 * The same, in the background: the call's output goes to out_path (nobody
 * needs to drain a pipe meanwhile).  engine_finish waits for it and returns
 * its status (or -1 when it could not start, e->err set).
 */
int engine_start(struct engine *e, struct proc *p, const char *const *args, long timeout_ms,
		 const char *out_path);
int engine_finish(struct engine *e, struct proc *p);

struct build_request {
	const char *context;      /* the build context folder */
	const char *iidfile;      /* where the builder writes the image id */
	const char *tag;          /* optional */
	long timeout_ms;
	const char *out_path;     /* optional: run in the background, output to this file */
};

/*
 * Start a build (in the background when req->out_path is set; finish it with
 * engine_build_finish).  The output of both streams ends up in p->out
 * followed by p->err.
 */
int engine_build_start(struct engine *e, const struct build_request *req, struct proc *p);
/*
 * Wait for the build and parse its output into log.  Returns 0 when the image
 * was built (image_id filled, 72 bytes: "sha256:..."), 1 when the build
 * failed (the learner's: log says where), -1 when the engine could not be
 * used, timed out or was interrupted (e->err).
 */
int engine_build_finish(struct engine *e, const struct build_request *req, struct proc *p,
			struct build_log *log, char *image_id, size_t image_id_size);

/* `inspect` of one object; *out is a new reference to the object (not the array). */
int engine_image_inspect(struct engine *e, const char *ref, json_t **out);
int engine_container_inspect(struct engine *e, const char *id, json_t **out);

struct run_request {
	const char *image;
	int port;                   /* container port to publish on 127.0.0.1 (engine picks the host port); 0: none */
	const char *const *env;     /* "NAME=value" entries, NULL-terminated, or NULL */
	long health_interval_ms;    /* 0: keep the image's; else override (command kept) */
	long memory_mb, pids;       /* limits; 0: none */
	double cpus;
};

/*
 * `run -d`: starts a labelled container.  id receives its full id (65
 * bytes), also when the engine created it but could not start it (then -1
 * is returned and id may be set): the caller removes it.
 */
int engine_run(struct engine *e, const struct run_request *req, char *id, size_t id_size);

/* The host port published for container port/tcp, or -1 (e->err says why). */
int engine_host_port(json_t *container, int port);

struct top_row {
	long pid;
	long uid;
	char comm[64];
};
/* `top <id> -o pid,uid,comm`.  *rows is malloc'ed; *n rows. */
int engine_top(struct engine *e, const char *id, struct top_row **rows, size_t *n);

/* `exec <id> argv...` with a deadline; the result is in p (status, out, err). */
int engine_exec(struct engine *e, const char *id, const char *const *argv, long timeout_ms,
		struct proc *p);

/* The last `tail` lines of the container's output (both streams) into sb. */
int engine_logs(struct engine *e, const char *id, int tail, struct strbuf *sb);

/*
 * The container's filesystem as a tar archive (`export -o path`), in the
 * background: start it, then finish it when the archive is needed.  0, or
 * -1 (e->err).
 */
int engine_export_start(struct engine *e, const char *id, const char *path, long timeout_ms,
			struct proc *p);
int engine_export_finish(struct engine *e, struct proc *p);

/* Remove, ignoring "no such" errors.  Images are removed with --no-prune: their
 * parent layers are the build cache that makes the next check fast. */
int engine_rm_container(struct engine *e, const char *id);
int engine_rm_image(struct engine *e, const char *id);
/* Remove an image and the layers only it uses: for a throwaway build whose cache nobody will hit again. */
int engine_rm_image_and_layers(struct engine *e, const char *id);

/*
 * Remove every container and image labelled with run_id.  Returns the number
 * removed, or -1 when the engine could not list or remove them all.
 */
int engine_remove_labelled(struct engine *e, const char *run_id);

#endif
