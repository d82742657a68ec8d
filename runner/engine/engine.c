/*
 * engine: the dispatch through the table of operations, and what every
 * implementation shares: the choice of the implementation, build results,
 * history rows, the host port of an inspect object, and the journal of
 * unlabelled objects in the run's scratch folder.
 *
 * Why two files: this one never builds an engine command; engine/docker.c
 * is the docker CLI and nothing else, so another engine is one more file
 * beside it and one line in engine_impls[].
 */
#include "engine/cli.h"
#include "lib/fsutil.h"
#include "lib/http.h"
#include "lib/xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const struct engine_ops *const engine_impls[] = {
	&engine_docker,
	&engine_podman,
	NULL,
};

int engine_fail(struct engine *e, const char *fmt, ...)
{
	va_list ap;

	strbuf_reset(&e->err);
	va_start(ap, fmt);
	strbuf_vaddf(&e->err, fmt, ap);
	va_end(ap);
	return -1;
}

static void engine_reset(struct engine *e, const char *run_id)
{
	memset(e, 0, sizeof(*e));
	strbuf_init(&e->err, 0);
	e->call_timeout_ms = 30000;
	snprintf(e->run_id, sizeof(e->run_id), "%s", run_id);
}

static int engine_open_with(struct engine *e, const struct engine_ops *ops)
{
	const char *force = getenv("PHASELAB_REMOTE");
	int rc;

	e->ops = ops;
	e->kind = ops->name;
	rc = ops->open(e);
	/* for tests: a local engine driven as a remote one (or the reverse) */
	if (rc == 0 && force && (!strcmp(force, "1") || !strcmp(force, "0")))
		e->remote = force[0] == '1';
	return rc;
}

int engine_endpoint_remote(const char *endpoint)
{
	if (!endpoint || !*endpoint || *endpoint == '/')
		return 0;
	return strncmp(endpoint, "unix://", 7) != 0;
}

int engine_remote_from_env(const char *force, const char *host, const char *context, const char *current,
			   const char **ask)
{
	const char *name;

	*ask = NULL;
	if (force && (!strcmp(force, "1") || !strcmp(force, "0")))
		return force[0] == '1';
	/* the docker CLI's order: DOCKER_HOST wins over any context */
	if (host && *host)
		return engine_endpoint_remote(host);
	name = context && *context ? context : current;
	if (!name || !*name || !strcmp(name, "default"))
		return 0;
	*ask = name;
	return 2;
}

void engine_current_context(char *buf, size_t size)
{
	const char *dir = getenv("DOCKER_CONFIG"), *home = getenv("HOME");
	char *path = NULL;
	json_t *conf;
	const char *cur;

	if (size)
		buf[0] = '\0';
	if (dir && *dir)
		path = xasprintf("%s/config.json", dir);
	else if (home && *home)
		path = xasprintf("%s/.docker/config.json", home);
	if (!path)
		return;
	conf = json_load_file(path, 0, NULL);
	cur = json_string_value(json_object_get(conf, "currentContext"));
	if (cur && size)
		snprintf(buf, size, "%s", cur);
	json_decref(conf);
	free(path);
}

/*
 * Did the user point at a Docker engine (its CLI, a host or a context)?  Then
 * that engine's failure is the answer: quietly checking on podman instead
 * would grade somewhere the user did not ask for.
 */
static int docker_named(void)
{
	static const char *const vars[] = { "PHASELAB_DOCKER", "DOCKER_HOST", "DOCKER_CONTEXT", NULL };

	for (const char *const *v = vars; *v; v++) {
		const char *val = getenv(*v);

		if (val && *val)
			return 1;
	}
	return 0;
}

int engine_open(struct engine *e, const char *run_id)
{
	const char *want = getenv("PHASELAB_ENGINE");
	struct strbuf docker_err = STRBUF_INIT;

	engine_reset(e, run_id);
	if (want && *want) {
		for (const struct engine_ops *const *o = engine_impls; *o; o++)
			if (!strcmp(want, (*o)->name))
				return engine_open_with(e, *o);
		return engine_fail(e, "unknown engine '%s' in PHASELAB_ENGINE: phaselab knows 'docker' and 'podman'", want);
	}
	if (engine_open_with(e, &engine_docker) == 0)
		return 0;
	if (e->interrupted || docker_named())
		return -1;
	/* no Docker engine answers: podman, when it is there; else docker's reason, which names the fix */
	strbuf_add(&docker_err, e->err.buf, e->err.len);
	engine_close(e);
	engine_reset(e, run_id);
	if (engine_open_with(e, &engine_podman) == 0) {
		strbuf_release(&docker_err);
		return 0;
	}
	engine_close(e);
	engine_reset(e, run_id);
	engine_fail(e, "%s", docker_err.buf);
	strbuf_release(&docker_err);
	return -1;
}

void engine_close(struct engine *e)
{
	if (e->ops)
		e->ops->close(e);
	free(e->client_version);
	free(e->server_version);
	e->client_version = e->server_version = NULL;
	strbuf_release(&e->err);
}

int engine_ping(struct engine *e)
{
	return e->ops->ping(e);
}

void build_result_init(struct build_result *res)
{
	memset(res, 0, sizeof(*res));
	buildlog_init(&res->log);
	strbuf_init(&res->output, 0);
}

void build_result_release(struct build_result *res)
{
	buildlog_release(&res->log);
	strbuf_release(&res->output);
	res->image_id[0] = '\0';
}

int engine_build_start(struct engine *e, const struct build_request *req, struct engine_job *job)
{
	return e->ops->build_start(e, req, job);
}

int engine_build_finish(struct engine *e, struct engine_job *job, struct build_result *res)
{
	return e->ops->build_finish(e, job, res);
}

int engine_image_inspect(struct engine *e, const char *ref, json_t **out)
{
	return e->ops->image_inspect(e, ref, out);
}

int engine_history(struct engine *e, const char *image, struct history_row **rows, size_t *n)
{
	*rows = NULL;
	*n = 0;
	return e->ops->history(e, image, rows, n);
}

void engine_history_free(struct history_row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(rows[i].created_by);
	free(rows);
}

int engine_run(struct engine *e, const struct run_request *req, char *id, size_t id_size)
{
	if (id_size)
		id[0] = '\0';
	return e->ops->run(e, req, id, id_size);
}

int engine_container_inspect(struct engine *e, const char *id, json_t **out)
{
	return e->ops->container_inspect(e, id, out);
}

int engine_health(struct engine *e, const char *id, json_t **state)
{
	return e->ops->health(e, id, state);
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

int engine_http_get(struct engine *e, const char *id, int port, int host_port, const char *path,
		    long timeout_ms, struct http_answer *ans)
{
	char *url;
	int rc;

	if (e->remote)
		return cli_http_get(e, id, port, path, timeout_ms, ans);
	url = xasprintf("http://127.0.0.1:%d%s", host_port, path);
	rc = http_get(url, timeout_ms, ans) == 0 ? 0 : 1;
	free(url);
	return rc;
}

int engine_top(struct engine *e, const char *id, struct top_row **rows, size_t *n)
{
	*rows = NULL;
	*n = 0;
	return e->ops->top(e, id, rows, n);
}

int engine_exec(struct engine *e, const char *id, const char *const *argv, long timeout_ms,
		struct strbuf *out)
{
	return e->ops->exec(e, id, argv, timeout_ms, out);
}

int engine_logs(struct engine *e, const char *id, int tail, struct strbuf *sb)
{
	return e->ops->logs(e, id, tail, sb);
}

char *engine_rootfs_dir(struct engine *e, json_t *container)
{
	const char *how = getenv("PHASELAB_ROOTFS");

	/* a remote engine's storage is not ours to read, even when it is on this disk */
	if ((how && !strcmp(how, "export")) || e->remote)
		return NULL;
	return e->ops->rootfs_dir(e, container);
}

int engine_export_start(struct engine *e, const char *id, const char *path, long timeout_ms,
			struct engine_job *job)
{
	return e->ops->export_start(e, id, path, timeout_ms, job);
}

int engine_export_finish(struct engine *e, struct engine_job *job)
{
	return e->ops->export_finish(e, job);
}

int engine_rm_container(struct engine *e, const char *id)
{
	return e->ops->rm_container(e, id);
}

int engine_rm_image(struct engine *e, const char *id)
{
	return e->ops->rm_image(e, id, 0);
}

int engine_rm_build(struct engine *e, const struct build_result *res)
{
	return e->ops->rm_build(e, res);
}

int engine_remove_labelled(struct engine *e, const char *run_id)
{
	return e->ops->remove_labelled(e, run_id);
}

int engine_reap(struct engine *e, const char *run_id, const char *scratch)
{
	return e->ops->reap(e, run_id, scratch);
}

int engine_image_layers(struct engine *e, json_t *image, struct layer_walk *w)
{
	const char *how = getenv("PHASELAB_ROOTFS");

	w->layers = NULL;
	w->nlayers = 0;
	w->how = NULL;
	return e->ops->image_layers(e, image, !(how && !strcmp(how, "export")) && !e->remote, w);
}

void engine_layers_release(struct layer_walk *w)
{
	for (size_t i = 0; i < w->nlayers; i++) {
		free(w->layers[i].diff_id);
		free(w->layers[i].created_by);
	}
	free(w->layers);
	w->layers = NULL;
	w->nlayers = 0;
}

int engine_container_by_name(struct engine *e, const char *name, int *running)
{
	*running = 0;
	return e->ops->container_by_name(e, name, running);
}

/*
 * The journal: "image <id>" lines, appended as builds finish, so that a
 * run killed later (even by SIGKILL) leaves a record of the step images
 * that carry no label.  Best effort: a journal that cannot be written
 * costs only the cleanup of a killed run.
 */
void engine_journal_images(struct engine *e, const struct build_log *log)
{
	struct strbuf sb = STRBUF_INIT;
	char *path;
	int fd;

	if (!e->scratch)
		return;
	for (size_t i = 0; i < log->nsteps; i++)
		if (log->steps[i].ran && log->steps[i].image)
			strbuf_addf(&sb, "image %s\n", log->steps[i].image);
	if (!sb.len)
		return;
	path = xasprintf("%s/%s", e->scratch, ENGINE_JOURNAL);
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd >= 0) {
		if (write(fd, sb.buf, sb.len) < 0)
			(void)0; /* best effort, as said above */
		close(fd);
	}
	free(path);
	strbuf_release(&sb);
}

void engine_journal_read(const char *scratch, struct strbuf *ids)
{
	struct strbuf sb = STRBUF_INIT;
	char *path = xasprintf("%s/%s", scratch, ENGINE_JOURNAL), *line, *save = NULL;

	if (read_file_nofollow(path, 1u << 20, &sb) == 0)
		for (line = strtok_r(sb.buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
			/* buildah prints 11 digits of a step's image (docker 12) */
			if (!strncmp(line, "image ", 6) && strspn(line + 6, "0123456789abcdef") >= 11)
				strbuf_addf(ids, "%.64s\n", line + 6);
	free(path);
	strbuf_release(&sb);
}

int engine_scratch_record(const char *name)
{
	size_t n = strlen(name);

	/* the journal, and the output of background builds (engine/docker.c names them) */
	return !strcmp(name, ENGINE_JOURNAL) ||
	       (!strncmp(name, "build-", 6) && n > 10 && !strcmp(name + n - 4, ".log"));
}
