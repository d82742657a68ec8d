#include "engine/engine.h"
#include "lib/fsutil.h"
#include "lib/interrupt.h"
#include "lib/xalloc.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_ARGS 64

static void set_err(struct engine *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_err(struct engine *e, const char *fmt, ...)
{
	va_list ap;

	strbuf_reset(&e->err);
	va_start(ap, fmt);
	strbuf_vaddf(&e->err, fmt, ap);
	va_end(ap);
}

/* The engine's own complaint: the last non-empty line of stderr, trimmed. */
static void engine_words(const struct proc *p, struct strbuf *sb)
{
	const struct strbuf *src = p->err.len ? &p->err : &p->out;
	struct strbuf tmp = STRBUF_INIT;

	strbuf_add_tail_lines(&tmp, src->buf, src->len, 1);
	strbuf_rtrim(&tmp);
	strbuf_add(sb, tmp.buf, tmp.len > 400 ? 400 : tmp.len);
	strbuf_release(&tmp);
}

static int call_failed(struct engine *e, struct proc *p, const char *what)
{
	struct strbuf words = STRBUF_INIT;

	if (p->interrupted) {
		e->interrupted = 1;
		set_err(e, "%s: interrupted", what);
	} else if (p->timed_out) {
		set_err(e, "%s: the engine did not answer within %ld s", what, p->elapsed_ms / 1000);
	} else if (p->status == PROC_NOT_FOUND && p->exec_errno) {
		set_err(e, "%s: cannot run '%s': %s", what, e->cli, strerror(p->exec_errno));
	} else {
		engine_words(p, &words);
		set_err(e, "%s: %s", what, words.len ? words.buf : "the engine failed without a message");
	}
	strbuf_release(&words);
	return -1;
}

int engine_call(struct engine *e, struct proc *p, const char *const *args, long timeout_ms)
{
	const char *argv[MAX_ARGS + 2];
	size_t n = 0;

	argv[n++] = e->cli;
	for (; *args && n < MAX_ARGS; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	p->argv = argv;
	p->timeout_ms = timeout_ms ? timeout_ms : e->call_timeout_ms;
	p->uninterruptible = e->cleaning;
	e->calls++;
	if (proc_run(p) < 0)
		return call_failed(e, p, "starting the engine command");
	p->argv = NULL; /* argv lived on our stack */
	if (p->interrupted)
		e->interrupted = 1;
	return p->status;
}

/* Run a call and parse its stdout as JSON.  Returns a new reference or NULL (e->err). */
static json_t *call_json(struct engine *e, const char *const *args, const char *what)
{
	struct proc p = PROC_INIT;
	json_t *j = NULL;
	json_error_t jerr;

	if (engine_call(e, &p, args, 0) != 0) {
		call_failed(e, &p, what);
	} else if (!(j = json_loadb(p.out.buf, p.out.len, 0, &jerr))) {
		set_err(e, "%s: the engine's answer is not JSON: %s", what, jerr.text);
	}
	proc_release(&p);
	return j;
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

int engine_ping(struct engine *e)
{
	const char *args[] = { "version", "--format", "{{.Server.Version}}", NULL };
	struct proc p = PROC_INIT;
	int up = engine_call(e, &p, args, 10000) == 0 && p.out.len > 0;

	proc_release(&p);
	return up;
}

int engine_open(struct engine *e, const char *run_id)
{
	const char *version_args[] = { "version", "--format", "{{json .}}", NULL };
	const char *buildx_args[] = { "buildx", "version", NULL };
	struct proc p = PROC_INIT;
	json_t *j = NULL, *client, *server;
	json_error_t jerr;
	int want_buildkit = 0, rc = -1;

	memset(e, 0, sizeof(*e));
	strbuf_init(&e->err, 0);
	e->cli = getenv("PHASELAB_DOCKER");
	if (!e->cli || !*e->cli)
		e->cli = "docker";
	e->call_timeout_ms = 30000;
	snprintf(e->run_id, sizeof(e->run_id), "%s", run_id);

	engine_call(e, &p, version_args, 20000);
	if (p.status == PROC_NOT_FOUND && p.exec_errno) {
		set_err(e, "no container engine: '%s' is not on PATH; install one (apt-get install docker.io) "
			"or point PHASELAB_DOCKER at the docker CLI", e->cli);
		goto out;
	}
	if (p.interrupted) {
		set_err(e, "interrupted while asking the engine for its version");
		goto out;
	}
	j = json_loadb(p.out.buf, p.out.len, 0, &jerr);
	client = json_object_get(j, "Client");
	server = json_object_get(j, "Server");
	if (!json_is_object(server)) {
		struct strbuf words = STRBUF_INIT;
		engine_words(&p, &words);
		set_err(e, "no container engine answers (%s): start one (as root: dockerd >/var/log/dockerd.log 2>&1 &, "
			"or systemctl start docker), or set DOCKER_HOST", words.len ? words.buf : "no answer");
		strbuf_release(&words);
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
		struct proc bx = PROC_INIT;
		want_buildkit = engine_call(e, &bx, buildx_args, 10000) == 0;
		proc_release(&bx);
	} else if (want_buildkit && major_version(e->client_version) >= 23) {
		struct proc bx = PROC_INIT;
		if (engine_call(e, &bx, buildx_args, 10000) != 0) {
			set_err(e, "DOCKER_BUILDKIT=1 but '%s' (client %s) has no buildx plugin: install "
				"docker-buildx, or unset DOCKER_BUILDKIT to use the legacy builder",
				e->cli, e->client_version);
			proc_release(&bx);
			goto out;
		}
		proc_release(&bx);
	}
	e->builder = want_buildkit ? BUILDER_BUILDKIT : BUILDER_LEGACY;
	rc = 0;
out:
	json_decref(j);
	proc_release(&p);
	return rc;
}

void engine_close(struct engine *e)
{
	free(e->client_version);
	free(e->server_version);
	e->client_version = e->server_version = NULL;
	strbuf_release(&e->err);
}

int engine_build_start(struct engine *e, const struct build_request *req, struct proc *p)
{
	static const char *env_legacy[] = { "DOCKER_BUILDKIT=0", NULL };
	static const char *env_buildkit[] = { "DOCKER_BUILDKIT=1", "BUILDKIT_PROGRESS=plain", NULL };
	const char *args[16];
	char *label = xasprintf("%s=%s", ENGINE_LABEL, e->run_id);
	size_t n = 0;
	int rc;

	args[n++] = "build";
	if (e->builder == BUILDER_BUILDKIT)
		args[n++] = "--progress=plain";
	else
		args[n++] = "--force-rm"; /* a failed RUN's container would stay behind, unlabelled */
	args[n++] = "--iidfile";
	args[n++] = req->iidfile;
	args[n++] = "--label";
	args[n++] = label;
	if (req->tag) {
		args[n++] = "-t";
		args[n++] = req->tag;
	}
	args[n++] = "--";
	args[n++] = req->context;
	args[n] = NULL;

	unlink(req->iidfile);
	p->env = e->builder == BUILDER_BUILDKIT ? env_buildkit : env_legacy;
	rc = engine_start(e, p, args, req->timeout_ms, req->out_path);
	free(label); /* the child has its own copy once started */
	return rc;
}

/* The image id the builder wrote (--iidfile): 0, or -1 when there is none. */
static int read_image_id(const char *path, char *buf, size_t size)
{
	struct strbuf sb = STRBUF_INIT;
	int rc = -1;

	if (read_file_nofollow(path, size - 1, &sb) == 0) {
		strbuf_rtrim(&sb);
		if (sb.len) {
			memcpy(buf, sb.buf, sb.len + 1);
			rc = 0;
		}
	}
	strbuf_release(&sb);
	return rc;
}

int engine_build_finish(struct engine *e, const struct build_request *req, struct proc *p,
			struct build_log *log, char *image_id, size_t image_id_size)
{
	int rc;

	proc_finish(p);

	/* the builders interleave the two streams; stdout then stderr keeps each one's order */
	if (p->err.len) {
		strbuf_addch(&p->out, '\n');
		strbuf_add(&p->out, p->err.buf, p->err.len);
	}
	buildlog_parse(log, p->out.buf, p->out.len);

	if (p->interrupted) {
		e->interrupted = 1;
		set_err(e, "the build was interrupted");
		return -1;
	}
	if (p->timed_out)
		return 1; /* the learner's build never finished: the caller says so */
	if (p->status == PROC_NOT_FOUND && p->exec_errno)
		return call_failed(e, p, "building the image");
	if (p->status == 0) {
		rc = read_image_id(req->iidfile, image_id, image_id_size);
		if (rc < 0) {
			set_err(e, "the build succeeded but wrote no image id to '%s'", req->iidfile);
			return -1;
		}
		return 0;
	}
	if (strstr(p->out.buf, "Cannot connect to the Docker daemon") ||
	    strstr(p->out.buf, "error during connect")) {
		set_err(e, "the engine stopped answering during the build");
		return -1;
	}
	return 1;
}

static json_t *inspect_one(struct engine *e, const char *kind, const char *ref)
{
	const char *args[] = { kind, "inspect", "--", ref, NULL };
	char what[96];
	json_t *arr, *obj;

	snprintf(what, sizeof(what), "inspecting %s '%.40s'", kind, ref);
	arr = call_json(e, args, what);
	if (!arr)
		return NULL;
	obj = json_array_get(arr, 0);
	if (!json_is_object(obj)) {
		set_err(e, "%s: the engine returned no object", what);
		json_decref(arr);
		return NULL;
	}
	json_incref(obj);
	json_decref(arr);
	return obj;
}

int engine_image_inspect(struct engine *e, const char *ref, json_t **out)
{
	*out = inspect_one(e, "image", ref);
	return *out ? 0 : -1;
}

int engine_container_inspect(struct engine *e, const char *id, json_t **out)
{
	*out = inspect_one(e, "container", id);
	return *out ? 0 : -1;
}

int engine_run(struct engine *e, const struct run_request *req, char *id, size_t id_size)
{
	const char *args[MAX_ARGS];
	char *owned[MAX_ARGS];
	size_t n = 0, nowned = 0;
	struct proc p = PROC_INIT;
	int rc = -1;

#define OWN(s) (owned[nowned++] = (s))
	args[n++] = "run";
	args[n++] = "-d";
	args[n++] = "--label";
	args[n++] = OWN(xasprintf("%s=%s", ENGINE_LABEL, e->run_id));
	/* containment: learner code never gains privileges or exhausts the host */
	args[n++] = "--security-opt";
	args[n++] = "no-new-privileges";
	if (req->memory_mb) {
		args[n++] = "--memory";
		args[n++] = OWN(xasprintf("%ldm", req->memory_mb));
	}
	if (req->pids) {
		args[n++] = "--pids-limit";
		args[n++] = OWN(xasprintf("%ld", req->pids));
	}
	if (req->cpus > 0) {
		args[n++] = "--cpus";
		args[n++] = OWN(xasprintf("%.2f", req->cpus));
	}
	if (req->port) {
		/* loopback only, and the engine picks the host port: parallel runs never collide */
		args[n++] = "-p";
		args[n++] = OWN(xasprintf("127.0.0.1::%d", req->port));
	}
	if (req->health_interval_ms) {
		args[n++] = "--health-interval";
		args[n++] = OWN(xasprintf("%ldms", req->health_interval_ms));
	}
	for (const char *const *env = req->env; env && *env && n < MAX_ARGS - 4; env++) {
		args[n++] = "-e";
		args[n++] = *env;
	}
	args[n++] = "--";
	args[n++] = req->image;
	args[n] = NULL;
#undef OWN

	if (engine_call(e, &p, args, 60000) != 0) {
		call_failed(e, &p, "starting a container");
		/* the container may exist (created, never started): give the caller its id */
		strbuf_rtrim(&p.out);
		snprintf(id, id_size, "%s", p.out.len == 64 ? p.out.buf : "");
	} else {
		strbuf_rtrim(&p.out);
		snprintf(id, id_size, "%s", p.out.buf);
		rc = 0;
	}
	for (size_t i = 0; i < nowned; i++)
		free(owned[i]);
	proc_release(&p);
	return rc;
}

int engine_host_port(json_t *container, int port)
{
	char key[32];
	json_t *ports = json_object_get(json_object_get(container, "NetworkSettings"), "Ports");
	json_t *binding;
	size_t i;

	snprintf(key, sizeof(key), "%d/tcp", port);
	json_array_foreach(json_object_get(ports, key), i, binding) {
		const char *hp = json_string_value(json_object_get(binding, "HostPort"));
		const char *ip = json_string_value(json_object_get(binding, "HostIp"));
		if (hp && (!ip || !strcmp(ip, "127.0.0.1") || !*ip))
			return atoi(hp);
	}
	return -1;
}

int engine_top(struct engine *e, const char *id, struct top_row **rows, size_t *n)
{
	const char *args[] = { "top", id, "-o", "pid,uid,comm", NULL };
	struct proc p = PROC_INIT;
	char *line, *save = NULL;
	size_t cap = 8;
	int first = 1;

	*rows = NULL;
	*n = 0;
	if (engine_call(e, &p, args, 0) != 0) {
		call_failed(e, &p, "listing the container's processes");
		proc_release(&p);
		return -1;
	}
	*rows = xcalloc(cap, sizeof(**rows));
	for (line = strtok_r(p.out.buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct top_row r = { 0 };
		int used = 0;

		if (first) { /* the header: PID UID COMMAND */
			first = 0;
			continue;
		}
		if (sscanf(line, "%ld %ld %n", &r.pid, &r.uid, &used) < 2)
			continue;
		snprintf(r.comm, sizeof(r.comm), "%s", line + used);
		if (*n == cap)
			*rows = xrealloc(*rows, (cap *= 2) * sizeof(**rows));
		(*rows)[(*n)++] = r;
	}
	proc_release(&p);
	return 0;
}

int engine_exec(struct engine *e, const char *id, const char *const *argv, long timeout_ms,
		struct proc *p)
{
	const char *args[MAX_ARGS];
	size_t n = 0;

	args[n++] = "exec";
	args[n++] = id;
	for (; *argv && n < MAX_ARGS - 1; argv++)
		args[n++] = *argv;
	args[n] = NULL;
	return engine_call(e, p, args, timeout_ms);
}

int engine_logs(struct engine *e, const char *id, int tail, struct strbuf *sb)
{
	char tailarg[32];
	const char *args[] = { "logs", "--tail", tailarg, id, NULL };
	struct proc p = PROC_INIT;
	int rc = 0;

	snprintf(tailarg, sizeof(tailarg), "%d", tail);
	p.max_capture = 64 << 10;
	if (engine_call(e, &p, args, 0) != 0)
		rc = call_failed(e, &p, "reading the container's logs");
	strbuf_add(sb, p.out.buf, p.out.len);
	strbuf_add(sb, p.err.buf, p.err.len);
	proc_release(&p);
	return rc;
}

int engine_start(struct engine *e, struct proc *p, const char *const *args, long timeout_ms,
		 const char *out_path)
{
	size_t n = 0;
	const char **argv;

	while (args[n])
		n++;
	argv = xcalloc(n + 2, sizeof(*argv));
	argv[0] = e->cli;
	memcpy(argv + 1, args, n * sizeof(*argv));
	/* args[] may live on the caller's stack: the child has what it needs once started */
	p->argv = argv;
	p->timeout_ms = timeout_ms ? timeout_ms : e->call_timeout_ms;
	p->out_path = out_path;
	p->uninterruptible = e->cleaning;
	e->calls++;
	if (proc_start(p) < 0) {
		set_err(e, "cannot start '%s %s': %s", e->cli, args[0], strerror(errno));
		free(argv);
		p->argv = NULL;
		p->pid = 0;
		return -1;
	}
	free(argv);
	p->argv = NULL;
	return 0;
}

int engine_finish(struct engine *e, struct proc *p)
{
	if (p->pid <= 0)
		return -1;
	proc_finish(p);
	if (p->interrupted)
		e->interrupted = 1;
	return p->status;
}

int engine_export_start(struct engine *e, const char *id, const char *path, long timeout_ms,
			struct proc *p)
{
	const char *args[] = { "export", "-o", path, id, NULL };

	/* the CLI's own messages; the archive itself goes to path */
	return engine_start(e, p, args, timeout_ms, NULL);
}

int engine_export_finish(struct engine *e, struct proc *p)
{
	int rc = 0;

	if (engine_finish(e, p) != 0)
		rc = call_failed(e, p, "exporting the container's filesystem");
	proc_release(p);
	return rc;
}

/*
 * `rm -f`, `rmi -f --no-prune` (image 1) or `rmi -f` (image 2: its untagged
 * parents that nothing else uses go too); an object already gone is not an
 * error.
 */
static int remove_object(struct engine *e, int image, const char *id)
{
	const char *cargs[] = { "rm", "-f", "-v", id, NULL };
	const char *iargs[] = { "rmi", "-f", image == 2 ? id : "--no-prune", image == 2 ? NULL : id, NULL };
	struct proc p = PROC_INIT;
	int rc = 0;

	if (engine_call(e, &p, image ? iargs : cargs, 0) != 0 &&
	    !strstr(p.err.buf, image ? "No such image" : "No such container"))
		rc = call_failed(e, &p, image ? "removing an image" : "removing a container");
	proc_release(&p);
	return rc;
}

int engine_rm_container(struct engine *e, const char *id)
{
	return remove_object(e, 0, id);
}

int engine_rm_image(struct engine *e, const char *id)
{
	return remove_object(e, 1, id);
}

int engine_rm_image_and_layers(struct engine *e, const char *id)
{
	return remove_object(e, 2, id);
}

/* List ids of one kind labelled with run_id ("" for any run); returns a strbuf of lines. */
static int list_labelled(struct engine *e, int images, const char *run_id, struct strbuf *ids)
{
	char *filter = *run_id ? xasprintf("label=%s=%s", ENGINE_LABEL, run_id)
			       : xasprintf("label=%s", ENGINE_LABEL);
	const char *cargs[] = { "ps", "-aq", "--no-trunc", "--filter", filter, NULL };
	const char *iargs[] = { "images", "-q", "--no-trunc", "--filter", filter, NULL };
	struct proc p = PROC_INIT;
	int rc = 0;

	if (engine_call(e, &p, images ? iargs : cargs, 0) != 0)
		rc = call_failed(e, &p, images ? "listing images" : "listing containers");
	else
		strbuf_add(ids, p.out.buf, p.out.len);
	proc_release(&p);
	free(filter);
	return rc;
}

int engine_remove_labelled(struct engine *e, const char *run_id)
{
	int removed = 0, failed = 0;

	for (int images = 0; images <= 1; images++) {
		struct strbuf ids = STRBUF_INIT;
		char *line, *save = NULL;

		if (list_labelled(e, images, run_id, &ids) == 0) {
			for (line = strtok_r(ids.buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
				if (!*line)
					continue;
				if (remove_object(e, images, line) == 0)
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
