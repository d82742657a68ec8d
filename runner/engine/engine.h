/*
 * engine: every call to the container engine goes through here.
 *
 * One type, struct engine, holds a table of operations (struct engine_ops):
 * the checks and the run lifecycle call the engine_* functions below, which
 * dispatch through the table, and never build an engine command themselves.
 * Two implementations: the docker CLI (engine/docker.c) and the podman CLI
 * (engine/podman.c, rootful podman 4.3).  Each call is one process (proc.h)
 * with a deadline, its argv built in a growable vector (strvec.h) so nothing
 * is ever dropped; a JSON answer is parsed with jansson.
 *
 * Adding an engine (Podman, a remote engine over its API):
 *  1. a file runner/engine/<name>.c defining one `const struct engine_ops`
 *     whose every entry is set (tests/unit/test_engine*.c check the table);
 *  2. its line in engine_impls[] in engine.c, chosen by $PHASELAB_ENGINE;
 *  3. the answers keep the shapes documented here: inspect objects in the
 *     docker API's shape (Podman's own inspect is), parsed rows for the rest.
 * checks/ does not change.
 *
 * Everything a run creates carries the label ENGINE_LABEL=<run id>, so it can
 * be found and removed, also by a later run when this one was killed.  What
 * carries no label (the legacy builder's step images) is written to the
 * run's scratch folder (e->scratch) so that a later run can find it.
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

struct engine_ops;

struct engine {
	const struct engine_ops *ops; /* the implementation (engine_open chooses) */
	const char *kind;            /* static: its name, "docker" or "podman" (for the report) */
	/*
	 * 1: the engine's server is on another machine as far as we know (a
	 * DOCKER_HOST or context that is not a local socket): its published
	 * ports and its storage are on its side, so the health request is made
	 * from a helper container there and filesystems are exported.
	 */
	int remote;
	int rootless;                /* 1: a rootless podman (root in the container is our user) */
	const char *cli;             /* borrowed: "docker", "podman", $PHASELAB_DOCKER or $PHASELAB_PODMAN */
	enum builder_kind builder;   /* how this engine builds (decided by engine_open) */
	char *client_version;
	char *server_version;
	char run_id[40];             /* value of ENGINE_LABEL for this run */
	char *scratch;               /* the run's folder, for what a later run must find; NULL: none */
	long call_timeout_ms;        /* deadline for short calls (inspect, top, rm) */
	struct strbuf err;
	int interrupted;
	int cleaning;                /* 1: calls run to the end even after an interrupt */
	unsigned calls;              /* engine calls made: the benchmark counts them */
	void *priv;                  /* the implementation's own state */
};

/*
 * A call that runs in the background while other work goes on: a build or
 * a filesystem export.  Zero it (ENGINE_JOB_INIT) before starting; finish
 * every started job (engine_build_finish, engine_export_finish), also after
 * an interrupt.  The fields are the implementation's.
 */
struct engine_job {
	struct proc proc;            /* a CLI implementation's process */
	char *iidfile;               /* a build's image-id file (owned) */
	char *log_path;              /* a background build's output file (owned) */
	int started;
	void *priv;                  /* another implementation's state */
};
#define ENGINE_JOB_INIT { .proc = PROC_INIT }

struct build_request {
	const char *context;      /* the build context folder */
	const char *iidfile;      /* where the builder writes the image id */
	const char *tag;          /* optional */
	const char *const *build_args; /* "NAME=value" entries, NULL-terminated, or NULL */
	long timeout_ms;
	/*
	 * 1: the build runs in the background while other work goes on; its
	 * output goes to a file in e->scratch (else beside iidfile): nobody
	 * drains a pipe meanwhile, and a later run finds its step images there
	 * if this one is killed.
	 */
	int background;
	size_t max_output;        /* bytes of output kept (0: the process runner's default) */
};

/* What a finished (or failed, or interrupted) build left. */
struct build_result {
	char image_id[96];        /* "sha256:..." when built, else "" */
	/*
	 * The builder's output parsed (buildlog.h owns the parsing): steps in
	 * order, each with cached/ran and, on the legacy builder, the id of the
	 * image it committed (step->image).  Also filled for a failed or
	 * interrupted build, as far as it got.
	 */
	struct build_log log;
	struct strbuf output;     /* both streams, stdout first, bounded */
	long elapsed_ms;
	int timed_out;            /* the deadline passed (returned as the learner's failure) */
	int interrupted;
};
void build_result_init(struct build_result *res);
void build_result_release(struct build_result *res);

struct run_request {
	const char *image;
	int port;                   /* container port to publish on 127.0.0.1 (engine picks the host port); 0: none */
	const char *const *env;     /* "NAME=value" entries, NULL-terminated, or NULL: all are passed */
	const char *const *labels;  /* extra "key=value" labels (the run's is always set), or NULL */
	long health_interval_ms;    /* 0: keep the image's; else override (command kept) */
	long memory_mb, pids;       /* limits; 0: none */
	double cpus;
	int create_only;            /* 1: create, do not start (a filesystem to export) */
};

/* One layer of an image, newest first, as `history` reports it. */
struct history_row {
	long long size;             /* bytes; 0 when the engine gave no plain count */
	char *created_by;           /* the instruction behind it, as the engine records it (never NULL) */
};

/*
 * An image's layers as the engine stores them, oldest first: RootFS.Layers,
 * each with the instruction that made it (the image's history rows that
 * carry a layer, in order; rows marked empty_layer carry none).
 */
struct image_layer {
	char *diff_id;              /* "sha256:...", as RootFS.Layers names it (never NULL) */
	char *created_by;           /* the history row behind it ("" when the engine keeps none; never NULL) */
};

/*
 * One change a layer makes to the filesystem below it.  What it adds or
 * replaces has tar.h's type letters ('0' a regular file, '5' a folder, '2'
 * a symlink, ...).  What it deletes is LAYER_DELETED: the path and all that
 * was beneath it in the layers below (a whiteout: `.wh.NAME` in a layer's
 * tar, a 0:0 character device on overlay2).  LAYER_OPAQUE is a folder whose
 * contents in the layers below are hidden (`.wh..wh..opq`, or overlay2's
 * trusted.overlay.opaque); what the layer itself puts in it comes as its
 * own entries.  Whatever the storage, a check sees these same entries.
 */
#define LAYER_DELETED 'D'
#define LAYER_OPAQUE 'O'
struct layer_entry {
	const char *name;           /* the path in the image, without a leading '/' or a trailing one */
	char type;
	unsigned long long size;    /* a regular file's bytes, else 0 */
};
/* Called for each entry: 0 to go on, 1 to stop the walk. */
typedef int (*layer_fn)(void *arg, size_t layer, const struct layer_entry *e);

/* What engine_image_layers is asked to read, and what it says about the layers. */
struct layer_walk {
	/*
	 * Paths in the image (no leading '/'), NULL-terminated; the walk passes
	 * only the entries beneath one of them (itself included) and the
	 * deletions (and opaque folders) of a folder above one, which reach it.
	 * NULL: every entry.
	 */
	const char *const *under;
	layer_fn fn;
	void *arg;
	/* filled before the first call of fn: the layers, oldest first (engine_layers_release) */
	struct image_layer *layers;
	size_t nlayers;
	const char *how;            /* "in place" or "docker save": how they were read (static) */
};

struct top_row {
	long pid;
	long uid;
	char comm[64];
};

/*
 * The table of operations of one engine.  Every entry is set.  The
 * contracts are those of the engine_* functions below, which call them
 * after the shared bookkeeping (engine.c).
 */
struct engine_ops {
	const char *name;
	int (*open)(struct engine *e);
	void (*close)(struct engine *e);
	int (*ping)(struct engine *e);

	int (*build_start)(struct engine *e, const struct build_request *req, struct engine_job *job);
	int (*build_finish)(struct engine *e, struct engine_job *job, struct build_result *res);
	int (*image_inspect)(struct engine *e, const char *ref, json_t **out);
	int (*history)(struct engine *e, const char *image, struct history_row **rows, size_t *n);

	int (*run)(struct engine *e, const struct run_request *req, char *id, size_t id_size);
	int (*container_inspect)(struct engine *e, const char *id, json_t **out);
	int (*health)(struct engine *e, const char *id, json_t **state);
	int (*top)(struct engine *e, const char *id, struct top_row **rows, size_t *n);
	int (*exec)(struct engine *e, const char *id, const char *const *argv, long timeout_ms,
		    struct strbuf *out);
	int (*logs)(struct engine *e, const char *id, int tail, struct strbuf *sb);
	char *(*rootfs_dir)(struct engine *e, json_t *container);
	int (*export_start)(struct engine *e, const char *id, const char *path, long timeout_ms,
			    struct engine_job *job);
	int (*export_finish)(struct engine *e, struct engine_job *job);

	int (*rm_container)(struct engine *e, const char *id);
	int (*rm_image)(struct engine *e, const char *id, int with_layers);
	int (*rm_build)(struct engine *e, const struct build_result *res);
	int (*remove_labelled)(struct engine *e, const char *run_id);
	int (*reap)(struct engine *e, const char *run_id, const char *scratch);
	int (*container_by_name)(struct engine *e, const char *name, int *running);
	/* in_place 0: never read the engine's storage here (PHASELAB_ROOTFS=export) */
	int (*image_layers)(struct engine *e, json_t *image, int in_place, struct layer_walk *w);
};

/* The docker CLI (engine/docker.c). */
extern const struct engine_ops engine_docker;
/* The podman CLI, rootful (engine/podman.c); it reuses engine_docker's calls where the CLIs agree. */
extern const struct engine_ops engine_podman;

/*
 * Find the engine, check that it answers and decide the builder.
 * $PHASELAB_ENGINE chooses the implementation ("docker" or "podman");
 * unset, docker when a Docker engine answers, else podman when it does
 * (else docker's reason); never podman when PHASELAB_DOCKER, DOCKER_HOST or
 * DOCKER_CONTEXT names a Docker engine that does not answer.  The caller may then set e->scratch (the run's
 * folder, borrowed).  Returns 0, or -1 with the reason and the fix in
 * e->err (exit status 3).
 */
int engine_open(struct engine *e, const char *run_id);
void engine_close(struct engine *e);
/* Does the engine's server still answer?  1 or 0 (within 10 s). */
int engine_ping(struct engine *e);

/*
 * Start a build (in the background when req->background is set).  0, or -1
 * (e->err; job needs no finish then).
 */
int engine_build_start(struct engine *e, const struct build_request *req, struct engine_job *job);
/*
 * Wait for the build and fill res (build_result_init'ed by the caller, who
 * releases it).  Returns 0 when the image was built (res->image_id), 1 when
 * the build failed or did not finish in time (the learner's: res->log says
 * where), -1 when the engine could not be used or the build was
 * interrupted (e->err).  The step images it made are recorded in
 * e->scratch for a later run whatever the outcome.
 */
int engine_build_finish(struct engine *e, struct engine_job *job, struct build_result *res);

/* `inspect` of one object; *out is a new reference to the object (docker's shape). */
int engine_image_inspect(struct engine *e, const char *ref, json_t **out);
/* The image's layers, newest first; *rows is malloc'ed (engine_history_free). */
int engine_history(struct engine *e, const char *image, struct history_row **rows, size_t *n);
void engine_history_free(struct history_row *rows, size_t n);

/*
 * Create and start (unless req->create_only) a labelled container.  id
 * receives its full id (65 bytes), also when the engine created it but could
 * not start it (then -1 is returned and id may be set): the caller removes
 * it.  Every env entry and label is passed; nothing is dropped.
 */
int engine_run(struct engine *e, const struct run_request *req, char *id, size_t id_size);
int engine_container_inspect(struct engine *e, const char *id, json_t **out);
/*
 * The container's state for a health probe: a new reference to an object in
 * docker's shape (Running, ExitCode, StartedAt, Health: Status, Log[]).
 */
int engine_health(struct engine *e, const char *id, json_t **state);
/* The host port published for container port/tcp in an inspect object, or -1. */
int engine_host_port(json_t *container, int port);
/*
 * What each layer of an image changes, as w asks (struct layer_walk), with
 * the instruction behind each layer; image is its inspect object
 * (borrowed).  fn sees the layers in order, oldest first, each layer's
 * entries before the next one's; it may stop the walk.  Memory stays
 * bounded whatever the layers hold: no layer is ever held whole.
 *
 * Read in place where the engine's storage is on this machine and readable
 * (overlay2: the layers' diff folders and the image's configuration, read
 * without following a link), else from the image saved as an archive of
 * layer archives (`docker save`, in e->scratch), which any engine gives;
 * PHASELAB_ROOTFS=export asks for the archive, as it does for a container's
 * filesystem.  Returns 0, or -1 with e->err (nothing, or only part of the
 * layers, was passed to fn then).  engine_layers_release frees what w holds.
 */
int engine_image_layers(struct engine *e, json_t *image, struct layer_walk *w);
void engine_layers_release(struct layer_walk *w);

/*
 * One GET of path (it starts with '/') on the container's port, as a
 * client on the engine's host sees it, within timeout_ms.  A local engine:
 * libcurl to host_port (the port published on 127.0.0.1).  A remote one
 * (e->remote), whose published ports are on its own host: the helper image
 * phaselab/probe run in the container's network namespace (`--network
 * container:<id>`), labelled with the run's label and removed after; it
 * asks the container's own address, as the published port reaches it.
 * Returns 0 when an HTTP answer came (ans, any status), 1 when nothing
 * answered (ans->error, ans->curl_code in curl's numbers: 7 refused, 28
 * timed out, 52 empty reply), -1 when the engine could not be asked
 * (e->err: the helper image is missing, the engine is gone).  ans is
 * filled as http_get fills it (lib/http.h); http_answer_release it.
 */
struct http_answer;
int engine_http_get(struct engine *e, const char *id, int port, int host_port, const char *path,
		    long timeout_ms, struct http_answer *ans);
#define ENGINE_PROBE_IMAGE "phaselab/probe"

/*
 * Remote detection (engine_open sets e->remote with it, for the docker
 * CLI).  engine_endpoint_remote: is an engine endpoint (a DOCKER_HOST value,
 * a context's Host) on another machine, i.e. not a unix socket: 1 for
 * tcp://, ssh://, npipe://, http(s)://; 0 for unix:// or a path, NULL or "".
 * engine_remote_from_env decides from the environment as the docker CLI
 * picks its endpoint (DOCKER_HOST, then DOCKER_CONTEXT, then the CLI's
 * current context): force is PHASELAB_REMOTE ("1"/"0" decide), host
 * DOCKER_HOST, context DOCKER_CONTEXT, current the config's currentContext
 * (any may be NULL).  Returns 0 local, 1 remote, or 2 when it is the named
 * context's endpoint that decides (*ask: borrowed from context or
 * current); "default" is the local socket.  engine_current_context: the
 * docker CLI's currentContext ($DOCKER_CONFIG/config.json, else
 * ~/.docker/config.json) into buf, "" when none; no engine call.
 */
int engine_endpoint_remote(const char *endpoint);
int engine_remote_from_env(const char *force, const char *host, const char *context, const char *current,
			   const char **ask);
void engine_current_context(char *buf, size_t size);

/* The processes in the container.  *rows is malloc'ed; *n rows. */
int engine_top(struct engine *e, const char *id, struct top_row **rows, size_t *n);
/*
 * Run argv in the container with a deadline.  Returns the command's exit
 * status (126/127: it could not run; 124: the deadline passed), or -1 when
 * the engine could not be asked (e->err).  out (may be NULL) gets stdout.
 */
int engine_exec(struct engine *e, const char *id, const char *const *argv, long timeout_ms,
		struct strbuf *out);
/* The last `tail` lines of the container's output (both streams) into sb. */
int engine_logs(struct engine *e, const char *id, int tail, struct strbuf *sb);

/*
 * The container's filesystem.  In place: the folder where this machine
 * mounts its root and we may read it (a new string), or NULL (then export;
 * also when PHASELAB_ROOTFS=export asks for it).  Exported: a tar archive
 * written to path in the background; start it, finish it when needed.
 */
char *engine_rootfs_dir(struct engine *e, json_t *container);
int engine_export_start(struct engine *e, const char *id, const char *path, long timeout_ms,
			struct engine_job *job);
int engine_export_finish(struct engine *e, struct engine_job *job);

/* Remove, ignoring "no such" errors. */
int engine_rm_container(struct engine *e, const char *id);
/* An image; its parent layers stay: they are the build cache that makes the next check fast. */
int engine_rm_image(struct engine *e, const char *id);
/*
 * What a build made that no later build will hit: its image and, on the
 * legacy builder, the images of the steps that ran (not from the cache).
 * In one call; nothing to do is 0 with no call.
 */
int engine_rm_build(struct engine *e, const struct build_result *res);

/*
 * Remove every container and image labelled with run_id.  Returns the number
 * removed, or -1 when the engine could not list or remove them all.
 */
int engine_remove_labelled(struct engine *e, const char *run_id);
/*
 * A dead run's leftovers: what its scratch folder records (step images of
 * its builds) and every object with its label.  As engine_remove_labelled.
 */
int engine_reap(struct engine *e, const char *run_id, const char *scratch);
/*
 * Is there a container called exactly name (a learner's own, started as the
 * lesson says: `docker run -d --name user-service ...`)?  1 (*running set
 * to 1 when it runs), 0 none, -1 the engine could not say.
 */
int engine_container_by_name(struct engine *e, const char *name, int *running);
/*
 * Is name (a file of the scratch folder) one of the engine's records that a
 * later run reads to reap this one?  1 or 0: the run's cleanup keeps them
 * when it could not remove everything.
 */
int engine_scratch_record(const char *name);

#endif
