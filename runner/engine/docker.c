/*
 * docker: the engine as the docker CLI (or $PHASELAB_DOCKER): each
 * operation is one CLI process with a deadline, its argv built in a strvec
 * (nothing is ever dropped, however many env entries or build args).  The
 * plumbing it shares with podman.c is engine/cli.c's.
 */
#include "engine/cli.h"
#include "lib/fsutil.h"
#include "lib/strvec.h"
#include "lib/xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* docker's voice: it speaks of "the engine" (dockerd, or what DOCKER_HOST names). */
static const struct cli_voice voice = {
	.name = "the engine",
	.starting = "starting the engine command",
	.lost = (const char *const[]){ "Cannot connect to the Docker daemon", "error during connect", NULL },
};

static int call_failed(struct engine *e, struct proc *p, const char *what)
{
	return cli_failed(e, &voice, p, what);
}

static int call(struct engine *e, struct proc *p, const struct strvec *args, long timeout_ms)
{
	return cli_call(e, &voice, p, args, timeout_ms);
}

static int call_words(struct engine *e, struct proc *p, long timeout_ms, const char *const *words)
{
	return cli_call_words(e, &voice, p, timeout_ms, words);
}

static int major_version(const char *v)
{
	return v ? atoi(v) : 0;
}

static int env_flag(const char *name, int *value)
{
	const char *v = getenv(name);

	if (!v || !*v)
		return 0;
	*value = !(strcmp(v, "0") == 0 || strcasecmp(v, "false") == 0);
	return 1;
}

static int docker_ping(struct engine *e)
{
	static const char *const words[] = { "version", "--format", "{{.Server.Version}}", NULL };
	struct proc p = PROC_INIT;
	int up = call_words(e, &p, 10000, words) == 0 && p.out.len > 0;

	proc_release(&p);
	return up;
}

/*
 * Is the buildx plugin there?  Asked in the background while `version`
 * runs (bx_start), since only the client's version says whether the answer
 * matters: each CLI call costs tens of milliseconds, and the benchmark's
 * floor of a quick phase is about a second.
 */
static int bx_start(struct engine *e, struct proc *bx, struct strvec *args)
{
	static const char *const words[] = { "buildx", "version", NULL };

	cli_args(e, args);
	strvec_pushv(args, words);
	if (cli_start(e, bx, args, 10000, NULL) < 0) {
		strbuf_reset(&e->err); /* no buildx is an answer, not a failure */
		return -1;
	}
	return 0;
}

static int bx_finish(struct proc *bx, int started)
{
	int ok = started && proc_finish(bx) == 0 && bx->status == 0;

	proc_release(bx);
	return ok;
}

/*
 * Is the engine's server elsewhere (e->remote)?  DOCKER_HOST decides when
 * set, else DOCKER_CONTEXT or the CLI's current context; only a context
 * other than "default" costs a call (`context inspect`, the CLI's own
 * store: not the engine), so the common local case costs none.
 */
static int docker_remote(struct engine *e)
{
	const char *host = getenv("DOCKER_HOST"), *context = getenv("DOCKER_CONTEXT"), *ask;
	char current[256] = "";
	struct proc p = PROC_INIT;
	int r;

	if (!(host && *host) && !(context && *context))
		engine_current_context(current, sizeof(current));
	r = engine_remote_from_env(NULL, host, context, current, &ask);
	if (r != 2)
		return r;
	if (call_words(e, &p, 10000, (const char *const[]){ "context", "inspect", "--format",
							    "{{.Endpoints.docker.Host}}", ask, NULL }) == 0) {
		strbuf_rtrim(&p.out);
		r = engine_endpoint_remote(p.out.buf);
	} else {
		r = 0; /* `version` answered through it: the context exists; say local, as before */
		strbuf_reset(&e->err);
	}
	proc_release(&p);
	return r;
}

static int docker_open(struct engine *e)
{
	static const char *const words[] = { "version", "--format", "{{json .}}", NULL };
	struct proc p = PROC_INIT;
	json_t *j = NULL, *client, *server;
	json_error_t jerr;
	struct proc bx = PROC_INIT;
	struct strvec bx_args;
	int want_buildkit = 0, rc = -1, bx_started = 0, buildx = 0;

	e->cli = getenv("PHASELAB_DOCKER");
	if (!e->cli || !*e->cli)
		e->cli = "docker";

	strvec_init(&bx_args);
	bx_started = bx_start(e, &bx, &bx_args) == 0;
	call_words(e, &p, 20000, words);
	buildx = bx_finish(&bx, bx_started);
	strvec_clear(&bx_args);
	if (p.status == PROC_NOT_FOUND && p.exec_errno) {
		engine_fail(e, "no container engine: '%s' is not on PATH; install one (apt-get install docker.io) "
			    "or point PHASELAB_DOCKER at the docker CLI", e->cli);
		goto out;
	}
	if (p.interrupted) {
		engine_fail(e, "interrupted while asking the engine for its version");
		goto out;
	}
	j = json_loadb(p.out.buf, p.out.len, 0, &jerr);
	client = json_object_get(j, "Client");
	server = json_object_get(j, "Server");
	if (!json_is_object(server)) {
		struct strbuf words_sb = STRBUF_INIT;
		cli_words(&p, &words_sb);
		engine_fail(e, "no container engine answers (%s): start one (as root: dockerd >/var/log/dockerd.log 2>&1 &, "
			    "or systemctl start docker), or set DOCKER_HOST", words_sb.len ? words_sb.buf : "no answer");
		strbuf_release(&words_sb);
		goto out;
	}
	e->client_version = xstrdup(json_string_value(json_object_get(client, "Version")) ?: "unknown");
	e->server_version = xstrdup(json_string_value(json_object_get(server, "Version")) ?: "unknown");

	/*
	 * The builder: DOCKER_BUILDKIT decides when set, as it does for the CLI;
	 * otherwise CLIs from 23 on build with BuildKit when buildx is there,
	 * and older ones use the legacy builder.
	 */
	if (!env_flag("DOCKER_BUILDKIT", &want_buildkit) && major_version(e->client_version) >= 23) {
		want_buildkit = buildx;
	} else if (want_buildkit && major_version(e->client_version) >= 23 && !buildx) {
		engine_fail(e, "DOCKER_BUILDKIT=1 but '%s' (client %s) has no buildx plugin: install "
			    "docker-buildx, or unset DOCKER_BUILDKIT to use the legacy builder",
			    e->cli, e->client_version);
		goto out;
	}
	e->builder = want_buildkit ? BUILDER_BUILDKIT : BUILDER_LEGACY;
	e->remote = docker_remote(e);
	rc = 0;
out:
	json_decref(j);
	proc_release(&p);
	return rc;
}

static void docker_close(struct engine *e)
{
	(void)e;
}

/* --- builds ------------------------------------------------------------ */

static int docker_build_start(struct engine *e, const struct build_request *req, struct engine_job *job)
{
	static const char *const env_legacy[] = { "DOCKER_BUILDKIT=0", NULL };
	static const char *const env_buildkit[] = { "DOCKER_BUILDKIT=1", "BUILDKIT_PROGRESS=plain", NULL };
	static unsigned background_builds;
	struct strvec args;

	cli_args(e, &args);
	strvec_push(&args, "build");
	if (e->builder == BUILDER_BUILDKIT)
		strvec_push(&args, "--progress=plain");
	else
		strvec_push(&args, "--force-rm"); /* a failed RUN's container would stay behind, unlabelled */
	job->proc.env = e->builder == BUILDER_BUILDKIT ? env_buildkit : env_legacy;
	return cli_build_start(e, req, job, &args, req->background ? &background_builds : NULL);
}

static int docker_build_finish(struct engine *e, struct engine_job *job, struct build_result *res)
{
	return cli_build_finish(e, &voice, job, res);
}

/* --- images -------------------------------------------------------------- */

static json_t *inspect_one(struct engine *e, const char *kind, const char *ref)
{
	const char *const words[] = { kind, "inspect", "--", ref, NULL };
	char what[96];
	json_t *arr, *obj;

	snprintf(what, sizeof(what), "inspecting %s '%.40s'", kind, ref);
	arr = cli_json(e, &voice, words, what);
	if (!arr)
		return NULL;
	obj = json_array_get(arr, 0);
	if (!json_is_object(obj)) {
		engine_fail(e, "%s: the engine returned no object", what);
		json_decref(arr);
		return NULL;
	}
	json_incref(obj);
	json_decref(arr);
	return obj;
}

static int docker_image_inspect(struct engine *e, const char *ref, json_t **out)
{
	*out = inspect_one(e, "image", ref);
	return *out ? 0 : -1;
}

static int docker_history(struct engine *e, const char *image, struct history_row **rows, size_t *n)
{
	const char *const words[] = { "history", "--no-trunc", "--human=false", "--format", "{{json .}}", image, NULL };
	struct proc p = PROC_INIT;
	char *line, *save = NULL;
	size_t cap = 0;

	if (call_words(e, &p, 0, words) != 0) {
		call_failed(e, &p, "reading the image's history");
		proc_release(&p);
		return -1;
	}
	for (line = strtok_r(p.out.buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		json_t *row = json_loads(line, 0, NULL);
		const char *created_by = json_string_value(json_object_get(row, "CreatedBy"));
		const char *size = json_string_value(json_object_get(row, "Size"));
		/* "Size" is a count of bytes in a string with --human=false */
		char *end = NULL;
		long long bytes = size ? strtoll(size, &end, 10) : 0;

		/* the engine's text, not ours: anything but a plain count is nothing */
		if (!size || end == size || *end || bytes < 0)
			bytes = 0;
		if (created_by) {
			if (*n == cap)
				*rows = xrealloc(*rows, (cap = cap ? cap * 2 : 16) * sizeof(**rows));
			(*rows)[*n].size = bytes;
			(*rows)[*n].created_by = xstrdup(created_by);
			(*n)++;
		}
		json_decref(row);
	}
	proc_release(&p);
	return 0;
}

/*
 * An image's layers: in place when its storage is here, else saved to an
 * archive in the run's folder (as a container's export is) and read where
 * each layer lies in it.
 */
static int docker_image_layers(struct engine *e, json_t *image, int in_place, struct layer_walk *w)
{
	const char *id = json_string_value(json_object_get(image, "Id"));
	struct strvec args;
	struct proc p = PROC_INIT;
	char *path;
	int rc, fd = -1;

	if (in_place && (rc = layers_in_place(e, image, w)) != 1)
		return rc;
	if (!id)
		return engine_fail(e, "reading the image's layers: the inspect object has no Id");
	if (e->scratch) {
		path = xasprintf("%s/image-save.tar", e->scratch);
	} else {
		const char *tmp = getenv("TMPDIR");
		path = xasprintf("%s/phaselab-save.XXXXXX", tmp && *tmp ? tmp : "/tmp");
		if ((fd = mkstemp(path)) < 0) {
			rc = engine_fail(e, "reading the image's layers: cannot make '%s': %s", path, strerror(errno));
			free(path);
			return rc;
		}
		close(fd);
	}
	cli_args(e, &args);
	strvec_pushv(&args, (const char *const[]){ "save", "-o", path, id, NULL });
	if (call(e, &p, &args, 300000) != 0)
		rc = call_failed(e, &p, "saving the image to read its layers");
	else
		rc = layers_from_archive(e, path, image, w);
	unlink(path);
	strvec_clear(&args);
	proc_release(&p);
	free(path);
	return rc;
}

/* --- containers ---------------------------------------------------------- */

static int docker_run(struct engine *e, const struct run_request *req, char *id, size_t id_size)
{
	struct strvec args;
	struct proc p = PROC_INIT;
	int rc = -1;

	cli_run_args(e, req, 1, NULL, &args);

	/*
	 * Not cut short by an interrupt: the daemon goes on creating (and
	 * starting) a container whose CLI was killed, maybe after the label
	 * sweep has looked, and that container would stay.  Let the call end
	 * (it is short, and bounded by its deadline): then the id is known and
	 * the sweep after it finds the container.
	 */
	p.uninterruptible = 1;
	if (call(e, &p, &args, 60000) != 0) {
		call_failed(e, &p, req->create_only ? "creating a container" : "starting a container");
		/* the container may exist (created, never started): give the caller its id */
		strbuf_rtrim(&p.out);
		snprintf(id, id_size, "%s", p.out.len == 64 ? p.out.buf : "");
	} else {
		strbuf_rtrim(&p.out);
		snprintf(id, id_size, "%s", p.out.buf);
		rc = 0;
	}
	strvec_clear(&args);
	proc_release(&p);
	return rc;
}

static int docker_container_inspect(struct engine *e, const char *id, json_t **out)
{
	*out = inspect_one(e, "container", id);
	return *out ? 0 : -1;
}

static int docker_health(struct engine *e, const char *id, json_t **state)
{
	json_t *info = inspect_one(e, "container", id);

	*state = NULL;
	if (!info)
		return -1;
	return cli_state(e, info, id, state);
}

/* A row of `top -o pid,uid,comm` (the header: PID UID COMMAND). */
static int read_top_row(const char *line, struct top_row *r)
{
	int used = 0;

	if (sscanf(line, "%ld %ld %n", &r->pid, &r->uid, &used) < 2)
		return 0;
	snprintf(r->comm, sizeof(r->comm), "%s", line + used);
	return 1;
}

static int docker_top(struct engine *e, const char *id, struct top_row **rows, size_t *n)
{
	const char *const words[] = { "top", id, "-o", "pid,uid,comm", NULL };

	return cli_top(e, &voice, words, read_top_row, rows, n);
}

static int docker_exec(struct engine *e, const char *id, const char *const *argv, long timeout_ms,
		       struct strbuf *out)
{
	struct strvec args;
	struct proc p = PROC_INIT;
	int rc;

	cli_args(e, &args);
	strvec_pushv(&args, (const char *const[]){ "exec", id, NULL });
	strvec_pushv(&args, argv);
	rc = call(e, &p, &args, timeout_ms);
	if (rc >= 0 && out)
		strbuf_add(out, p.out.buf, p.out.len);
	strvec_clear(&args);
	proc_release(&p);
	return rc;
}

static int docker_logs(struct engine *e, const char *id, int tail, struct strbuf *sb)
{
	char tailarg[32];
	const char *const words[] = { "logs", "--tail", tailarg, id, NULL };
	struct proc p = PROC_INIT;
	int rc = 0;

	snprintf(tailarg, sizeof(tailarg), "%d", tail);
	p.max_capture = 64 << 10;
	if (call_words(e, &p, 0, words) != 0)
		rc = call_failed(e, &p, "reading the container's logs");
	strbuf_add(sb, p.out.buf, p.out.len);
	strbuf_add(sb, p.err.buf, p.err.len);
	proc_release(&p);
	return rc;
}

/*
 * The container's root as the engine mounts it here (overlay2's merged
 * folder, when we may read it), or NULL.
 */
static char *docker_rootfs_dir(struct engine *e, json_t *container)
{
	(void)e;
	return cli_rootfs_dir(container, "overlay2");
}

static int docker_export_start(struct engine *e, const char *id, const char *path, long timeout_ms,
			       struct engine_job *job)
{
	const char *const words[] = { "export", "-o", path, id, NULL };
	struct strvec args;
	int rc;

	cli_args(e, &args);
	strvec_pushv(&args, words);
	/* the CLI's own messages; the archive itself goes to path */
	rc = cli_start(e, &job->proc, &args, timeout_ms, NULL);
	job->started = rc == 0;
	strvec_clear(&args);
	return rc;
}

static int docker_export_finish(struct engine *e, struct engine_job *job)
{
	struct proc *p = &job->proc;
	int rc = 0;

	if (!job->started)
		return engine_fail(e, "exporting the container's filesystem: it was not started");
	job->started = 0;
	proc_finish(p);
	if (p->interrupted)
		e->interrupted = 1;
	if (p->status != 0)
		rc = call_failed(e, p, "exporting the container's filesystem");
	proc_release(p);
	*p = (struct proc)PROC_INIT;
	return rc;
}

/* --- removal ------------------------------------------------------------- */

/* Did the call fail only because objects were gone already? */
static int only_missing(const struct proc *p, const char *missing)
{
	const char *line = p->err.buf;
	int any = 0;

	while (*line) {
		const char *eol = strchr(line, '\n');
		size_t len = eol ? (size_t)(eol - line) : strlen(line);

		if (len && !memmem(line, len, missing, strlen(missing)))
			return 0;
		any |= len > 0;
		line = eol ? eol + 1 : line + len;
	}
	return any;
}

/*
 * `rm -f -v`, or `rmi -f` with --no-prune (its parents stay) unless
 * with_layers; ids: one or more; an object already gone is not an error.
 */
static int remove_objects(struct engine *e, int image, int with_layers, const char *const *ids)
{
	struct strvec args;
	struct proc p = PROC_INIT;
	int rc = 0;

	cli_args(e, &args);
	if (image)
		strvec_pushv(&args, (const char *const[]){ "rmi", "-f", NULL });
	else
		strvec_pushv(&args, (const char *const[]){ "rm", "-f", "-v", NULL });
	if (image && !with_layers)
		strvec_push(&args, "--no-prune");
	strvec_pushv(&args, ids);
	if (call(e, &p, &args, 0) != 0 && !only_missing(&p, image ? "No such image" : "No such container")) {
		rc = call_failed(e, &p, image ? "removing an image" : "removing a container");
		/* an interrupted build's last step: the builder is still removing its container */
		if (strstr(p.err.buf, "being used by running container"))
			rc = -2;
		/* the same, seen from the container: the builder (--force-rm) removes it right now */
		if (!image && strstr(p.err.buf, "is already in progress"))
			rc = -3;
	}
	strvec_clear(&args);
	proc_release(&p);
	return rc;
}

/*
 * Remove a container.  "removal of container X is already in progress" is
 * the daemon removing it on its own (an interrupted build's step container,
 * removed by the builder after its last commit): not done until it is gone,
 * so ask again until the engine says "No such container" (at most 15 s).
 */
static int rm_container_id(struct engine *e, const char *id)
{
	int rc, tries = 0;

	while ((rc = remove_objects(e, 0, 0, (const char *const[]){ id, NULL })) == -3 && tries++ < 150)
		usleep(100 * 1000);
	return rc < 0 ? -1 : 0;
}

static int docker_rm_container(struct engine *e, const char *id)
{
	return rm_container_id(e, id);
}

static int docker_rm_image(struct engine *e, const char *id, int with_layers)
{
	return remove_objects(e, 1, with_layers, (const char *const[]){ id, NULL });
}

/* Add id to ids unless there. */
static void push_unique(struct strvec *ids, const char *id)
{
	for (size_t i = 0; i < ids->nr; i++)
		if (!strncmp(ids->v[i], id, 12) || !strncmp(ids->v[i] + (strncmp(ids->v[i], "sha256:", 7) ? 0 : 7), id, 12))
			return;
	strvec_push(ids, id);
}

/*
 * The legacy builder keeps each step of a build as an image.  Those of
 * steps that ran (not from the cache) are what no later build hits; an
 * earlier stage's (a builder stage) are nobody's parent, so removing the
 * final image does not reach them.  They go by the ids the builder printed,
 * children first and with --no-prune: exactly these, never a parent that
 * existed before (the real cache).  BuildKit keeps its cache elsewhere and
 * prints no such ids: there the image goes with its own layers.
 */
static int docker_rm_build(struct engine *e, const struct build_result *res)
{
	struct strvec ids = STRVEC_INIT;
	int rc = 0;

	if (res->image_id[0])
		strvec_push(&ids, res->image_id);
	for (size_t i = res->log.nsteps; i-- > 0;)
		if (res->log.steps[i].ran && res->log.steps[i].image)
			push_unique(&ids, res->log.steps[i].image);
	/*
	 * After an interrupt the daemon may still be tearing down the step it
	 * was running, whose container holds the last step image: wait for it
	 * (at most 15 s; only an interrupted build gets here).
	 */
	if (ids.nr > (res->image_id[0] ? 1u : 0u)) {
		for (int tries = 0; (rc = remove_objects(e, 1, 0, ids.v)) == -2 && tries < 60; tries++)
			usleep(250 * 1000);
		if (rc == -2)
			rc = -1;
	} else if (ids.nr)
		rc = remove_objects(e, 1, 1, ids.v);
	strvec_clear(&ids);
	return rc;
}

/* List ids of one kind labelled with run_id ("" for any run), appended to ids as lines. */
static int list_labelled(struct engine *e, int images, const char *run_id, struct strbuf *ids)
{
	struct strvec args;
	struct proc p = PROC_INIT;
	int rc = 0;

	cli_args(e, &args);
	strvec_pushv(&args, images ? (const char *const[]){ "images", "-q", "--no-trunc", "--filter", NULL }
				   : (const char *const[]){ "ps", "-aq", "--no-trunc", "--filter", NULL });
	if (*run_id)
		strvec_pushf(&args, "label=%s=%s", ENGINE_LABEL, run_id);
	else
		strvec_pushf(&args, "label=%s", ENGINE_LABEL);
	if (call(e, &p, &args, 0) != 0)
		rc = call_failed(e, &p, images ? "listing images" : "listing containers");
	else
		strbuf_add(ids, p.out.buf, p.out.len);
	strvec_clear(&args);
	proc_release(&p);
	return rc;
}

/*
 * One sweep: the run's containers, then its images.  *seen: how many
 * objects the listings showed.
 */
static int sweep_labelled(struct engine *e, const char *run_id, int *seen)
{
	int removed = 0, failed = 0;

	*seen = 0;
	for (int images = 0; images <= 1; images++) {
		struct strbuf ids = STRBUF_INIT;
		char *line, *save = NULL;

		if (list_labelled(e, images, run_id, &ids) == 0) {
			for (line = strtok_r(ids.buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
				if (!*line)
					continue;
				(*seen)++;
				if ((images ? remove_objects(e, 1, 0, (const char *const[]){ line, NULL })
					    : rm_container_id(e, line)) == 0)
					removed++;
				else
					failed = 1;
			}
		} else {
			failed = 1;
		}
		strbuf_release(&ids);
	}
	return failed ? -1 : removed;
}

static int docker_container_by_name(struct engine *e, const char *name, int *running)
{
	/* the filter is a pattern matched anywhere in the name: anchor it (names start with '/') */
	char *filter = xasprintf("name=^/%s$", name);
	int rc = cli_container_by_name(e, &voice, filter, name, running);

	free(filter);
	return rc;
}

/*
 * Sweep until a sweep finds nothing.  After an interrupt the daemon may
 * still finish what a killed CLI asked for: an interrupted build's last
 * step commits its (labelled) image and only then removes its (labelled)
 * container.  Once a sweep has seen no container, the builder is done and
 * whatever it committed is in that sweep's image listing; the sweep after
 * the last removal confirms it.  At most 8 sweeps.
 */
static int docker_remove_labelled(struct engine *e, const char *run_id)
{
	int removed = 0, n = 0, seen = 0;

	for (int round = 0; round < 8; round++) {
		n = sweep_labelled(e, run_id, &seen);
		if (n > 0)
			removed += n;
		if (!seen)
			break;
	}
	/* done when the last sweep found nothing, or removed all it found */
	return n < 0 || (seen && n < seen) ? -1 : removed;
}

/* The step images a dead run's background builds printed (their logs are in its folder). */
static void logged_images(const char *scratch, struct strbuf *ids)
{
	DIR *d = opendir(scratch);
	struct dirent *de;

	while (d && (de = readdir(d))) {
		size_t n = strlen(de->d_name);
		struct strbuf text = STRBUF_INIT;
		struct build_log log;
		char *path;

		if (strncmp(de->d_name, "build-", 6) || n < 4 || strcmp(de->d_name + n - 4, ".log"))
			continue;
		path = xasprintf("%s/%s", scratch, de->d_name);
		buildlog_init(&log);
		if (read_file_nofollow(path, 64u << 20, &text) == 0 && buildlog_parse(&log, text.buf, text.len) == 0)
			for (size_t i = 0; i < log.nsteps; i++)
				if (log.steps[i].ran && log.steps[i].image)
					strbuf_addf(ids, "%s\n", log.steps[i].image);
		buildlog_release(&log);
		strbuf_release(&text);
		free(path);
	}
	if (d)
		closedir(d);
}

static int docker_reap(struct engine *e, const char *run_id, const char *scratch)
{
	struct strbuf lines = STRBUF_INIT;
	struct strvec ids = STRVEC_INIT;
	char *line, *save = NULL;
	int removed, rc = 0, nids;

	/* the labelled objects first: the final images are the step images' children */
	removed = docker_remove_labelled(e, run_id);
	if (scratch) {
		engine_journal_read(scratch, &lines);
		logged_images(scratch, &lines);
	}
	for (line = strtok_r(lines.buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		push_unique(&ids, line);
	/* children first: in each build, a later step's image is the child of an earlier one */
	for (size_t i = 0, j = ids.nr; i < j / 2; i++) {
		const char *t = ids.v[i];
		ids.v[i] = ids.v[j - 1 - i];
		ids.v[j - 1 - i] = t;
	}
	if (ids.nr)
		rc = remove_objects(e, 1, 0, ids.v);
	nids = (int)ids.nr;
	strvec_clear(&ids);
	strbuf_release(&lines);
	return removed < 0 || rc < 0 ? -1 : removed + nids;
}

const struct engine_ops engine_docker = {
	.name = "docker",
	.open = docker_open,
	.close = docker_close,
	.ping = docker_ping,
	.build_start = docker_build_start,
	.build_finish = docker_build_finish,
	.image_inspect = docker_image_inspect,
	.history = docker_history,
	.run = docker_run,
	.container_inspect = docker_container_inspect,
	.health = docker_health,
	.top = docker_top,
	.exec = docker_exec,
	.logs = docker_logs,
	.rootfs_dir = docker_rootfs_dir,
	.export_start = docker_export_start,
	.export_finish = docker_export_finish,
	.rm_container = docker_rm_container,
	.rm_image = docker_rm_image,
	.rm_build = docker_rm_build,
	.remove_labelled = docker_remove_labelled,
	.reap = docker_reap,
	.container_by_name = docker_container_by_name,
	.image_layers = docker_image_layers,
};
