/*
 * fake_engine: recorded engine answers behind the engine's table of
 * operations (fake_engine.h says what it answers and how).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_engine.h"
#include "engine/engine-impl.h"
#include "lib/fsutil.h"
#include "lib/strbuf.h"
#include "lib/tar.h"
#include "lib/xalloc.h"

#define FIXTURE_MAX_BYTES (8u << 20)

static struct fake_engine *fake(struct engine *e)
{
	return e->priv;
}

char *fake_fixture(const char *name)
{
	const char *root = getenv("PHASELAB_ROOT");

	if (!root || !*root)
		root = ".";
	if (name[0] == '/')
		return xstrdup(name);
	if (strchr(name, '/'))
		return xasprintf("%s/%s", root, name);
	return xasprintf("%s/tests/fixtures/engine/%s", root, name);
}

static void fixture_text(const char *name, struct strbuf *sb)
{
	char *path = fake_fixture(name);

	if (read_file_nofollow(path, FIXTURE_MAX_BYTES, sb) < 0)
		fail_msg("fake engine: cannot read the fixture '%s'", path);
	free(path);
}

json_t *fake_fixture_json(const char *name)
{
	struct strbuf sb = STRBUF_INIT;
	json_error_t jerr;
	json_t *j;

	fixture_text(name, &sb);
	j = json_loadb(sb.buf, sb.len, 0, &jerr);
	if (!j)
		fail_msg("fake engine: the fixture '%s' is not JSON: %s", name, jerr.text);
	strbuf_release(&sb);
	return j;
}

static int fake_open(struct engine *e)
{
	(void)e;
	return 0;
}

static void fake_close(struct engine *e)
{
	(void)e;
}

static int fake_ping(struct engine *e)
{
	(void)e;
	return 1;
}

static int fake_build_start(struct engine *e, const struct build_request *req, struct engine_job *job)
{
	struct fake_engine *fe = fake(e);

	(void)req;
	fe->calls[FAKE_BUILD]++;
	if (fe->nbuilds >= FAKE_BUILDS || !fe->builds[fe->nbuilds].output)
		return engine_fail(e, "fake engine: no answer for build %d", fe->nbuilds + 1);
	job->priv = &fe->builds[fe->nbuilds++];
	job->started = 1;
	return 0;
}

/* The built image's id: the inspect object's, as the builder's --iidfile would say. */
static void built_id(struct fake_engine *fe, int rebuild, char *id, size_t size)
{
	json_t *img = fe->image_inspect ? fake_fixture_json(fe->image_inspect) : NULL;
	const char *v = json_string_value(json_object_get(img, "Id"));

	/* the rebuild is another image: its id differs in the last digit */
	snprintf(id, size, "%s", v ? v : "sha256:0000000000000000000000000000000000000000000000000000000000000000");
	if (rebuild)
		id[strlen(id) - 1] = id[strlen(id) - 1] == 'f' ? 'e' : 'f';
	json_decref(img);
}

static int fake_build_finish(struct engine *e, struct engine_job *job, struct build_result *res)
{
	struct fake_engine *fe = fake(e);
	const struct fake_build *b = job->priv;

	if (!job->started || !b)
		return engine_fail(e, "no build was started");
	job->started = 0;
	fixture_text(b->output, &res->output);
	buildlog_parse(&res->log, res->output.buf, res->output.len);
	res->elapsed_ms = 1234;
	res->timed_out = b->timed_out;
	if (b->rc < 0)
		return engine_fail(e, "the engine stopped answering during the build");
	if (b->rc == 0)
		built_id(fe, b != &fe->builds[0], res->image_id, sizeof(res->image_id));
	return b->rc;
}

static int fake_image_inspect(struct engine *e, const char *ref, json_t **out)
{
	struct fake_engine *fe = fake(e);

	*out = NULL;
	fe->calls[FAKE_IMAGE_INSPECT]++;
	if (fe->missing_image && !strcmp(ref, fe->missing_image))
		return engine_fail(e, "inspecting image '%.40s': Error: No such image: %s", ref, ref);
	if (!strncmp(ref, "sha256:", 7)) {
		char first[80];

		if (!fe->image_inspect)
			return engine_fail(e, "fake engine: no answer for image inspect");
		built_id(fe, 0, first, sizeof(first));
		*out = fake_fixture_json(fe->rebuilt_inspect && strcmp(ref, first) ? fe->rebuilt_inspect
										   : fe->image_inspect);
		return 0;
	}
	/* a base image the lab provides: present */
	if (fe->base_inspect) {
		*out = fake_fixture_json(fe->base_inspect);
		return 0;
	}
	*out = json_pack("{s:s, s:[s]}", "Id", "sha256:1111111111111111111111111111111111111111111111111111111111111111",
			 "RepoTags", ref);
	return 0;
}

static int fake_history(struct engine *e, const char *image, struct history_row **rows, size_t *n)
{
	struct fake_engine *fe = fake(e);
	struct strbuf sb = STRBUF_INIT;
	char *line, *save = NULL;

	(void)image;
	fe->calls[FAKE_HISTORY]++;
	if (!fe->history)
		return engine_fail(e, "fake engine: no answer for history");
	fixture_text(fe->history, &sb);
	/* as docker.c reads `history --format {{json .}}` */
	for (line = strtok_r(sb.buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		json_t *row = json_loads(line, 0, NULL);
		const char *created_by = json_string_value(json_object_get(row, "CreatedBy"));
		const char *size = json_string_value(json_object_get(row, "Size"));

		if (created_by) {
			*rows = xrealloc(*rows, (*n + 1) * sizeof(**rows));
			(*rows)[*n].size = size ? strtoll(size, NULL, 10) : 0;
			(*rows)[*n].created_by = xstrdup(created_by);
			(*n)++;
		}
		json_decref(row);
	}
	strbuf_release(&sb);
	return 0;
}

static int fake_run(struct engine *e, const struct run_request *req, char *id, size_t id_size)
{
	struct fake_engine *fe = fake(e);
	json_t *info;

	(void)req;
	fe->calls[FAKE_RUN]++;
	if (fe->run_fails)
		return engine_fail(e, "starting a container: Error response from daemon: failed to create task for "
			    "container: exec: \"node\": executable file not found in $PATH: unknown");
	if (!fe->container_inspect)
		return engine_fail(e, "fake engine: no answer for run");
	info = fake_fixture_json(fe->container_inspect);
	snprintf(id, id_size, "%s", json_string_value(json_object_get(info, "Id")));
	json_decref(info);
	return 0;
}

static int fake_container_inspect(struct engine *e, const char *id, json_t **out)
{
	struct fake_engine *fe = fake(e);
	json_t *ports;

	(void)id;
	*out = NULL;
	fe->calls[FAKE_CONTAINER_INSPECT]++;
	if (!fe->container_inspect)
		return engine_fail(e, "fake engine: no answer for container inspect");
	*out = fake_fixture_json(fe->container_inspect);
	ports = json_object_get(json_object_get(*out, "NetworkSettings"), "Ports");
	if (fe->host_port < 0) {
		json_object_clear(ports);
	} else if (fe->host_port > 0) {
		char port[16];

		snprintf(port, sizeof(port), "%d", fe->host_port);
		json_object_set_new(ports, "3000/tcp", json_pack("[{s:s, s:s}]", "HostIp", "127.0.0.1", "HostPort", port));
	}
	return 0;
}

static int fake_health(struct engine *e, const char *id, json_t **state)
{
	struct fake_engine *fe = fake(e);
	json_t *info;

	(void)id;
	*state = NULL;
	fe->calls[FAKE_HEALTH]++;
	if (!fe->container_inspect)
		return engine_fail(e, "fake engine: no answer for health");
	info = fake_fixture_json(fe->container_inspect);
	*state = json_incref(json_object_get(info, "State"));
	json_decref(info);
	return 0;
}

static int fake_top(struct engine *e, const char *id, struct top_row **rows, size_t *n)
{
	struct fake_engine *fe = fake(e);
	struct strbuf sb = STRBUF_INIT;
	char *line, *save = NULL;
	int first = 1;

	(void)id;
	fe->calls[FAKE_TOP]++;
	if (!fe->top)
		return engine_fail(e, "listing the container's processes: fake engine: no answer");
	fixture_text(fe->top, &sb);
	/* as docker.c reads `top <id> -o pid,uid,comm`: a header, then rows */
	for (line = strtok_r(sb.buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct top_row r = { 0 };
		int used = 0;

		if (first) {
			first = 0;
			continue;
		}
		if (sscanf(line, "%ld %ld %n", &r.pid, &r.uid, &used) < 2)
			continue;
		snprintf(r.comm, sizeof(r.comm), "%s", line + used);
		*rows = xrealloc(*rows, (*n + 1) * sizeof(**rows));
		(*rows)[(*n)++] = r;
	}
	strbuf_release(&sb);
	return 0;
}

static int fake_exec(struct engine *e, const char *id, const char *const *argv, long timeout_ms,
		     struct strbuf *out)
{
	struct fake_engine *fe = fake(e);
	struct strbuf words = STRBUF_INIT;
	json_t *r;
	int status;

	(void)id;
	(void)timeout_ms;
	fe->calls[FAKE_EXEC]++;
	for (const char *const *a = argv; *a; a++)
		strbuf_addf(&words, "%s%s", words.len ? " " : "", *a);
	snprintf(fe->last_exec, sizeof(fe->last_exec), "%s", words.buf);
	strbuf_release(&words);
	if (!fe->exec)
		return engine_fail(e, "fake engine: no answer for exec");
	r = fake_fixture_json(fe->exec);
	status = (int)json_integer_value(json_object_get(r, "status"));
	if (out)
		strbuf_addstr(out, json_string_value(json_object_get(r, "out")));
	json_decref(r);
	return status;
}

static int fake_logs(struct engine *e, const char *id, int tail, struct strbuf *sb)
{
	struct fake_engine *fe = fake(e);

	(void)id;
	(void)tail;
	fe->calls[FAKE_LOGS]++;
	if (!fe->logs)
		return engine_fail(e, "fake engine: no answer for logs");
	strbuf_addstr(sb, fe->logs);
	return 0;
}

static char *fake_rootfs_dir(struct engine *e, json_t *container)
{
	(void)container;
	return fake(e)->rootfs_dir ? xstrdup(fake(e)->rootfs_dir) : NULL;
}

static int fake_export_start(struct engine *e, const char *id, const char *path, long timeout_ms,
			     struct engine_job *job)
{
	struct fake_engine *fe = fake(e);
	struct strbuf sb = STRBUF_INIT;
	char *src;
	int rc;

	(void)id;
	(void)timeout_ms;
	fe->calls[FAKE_EXPORT]++;
	if (!fe->export_tar)
		return engine_fail(e, "exporting the container's filesystem: fake engine: no answer");
	src = fake_fixture(fe->export_tar);
	rc = read_file_nofollow(src, 1u << 30, &sb) == 0 ? write_file_atomic(path, sb.buf, sb.len) : -1;
	free(src);
	strbuf_release(&sb);
	if (rc < 0)
		return engine_fail(e, "exporting the container's filesystem: cannot write '%s'", path);
	job->started = 1;
	return 0;
}

static int fake_export_finish(struct engine *e, struct engine_job *job)
{
	if (!job->started)
		return engine_fail(e, "exporting the container's filesystem: it was not started");
	job->started = 0;
	return 0;
}

static int fake_rm_container(struct engine *e, const char *id)
{
	(void)id;
	fake(e)->calls[FAKE_RM]++;
	return 0;
}

static int fake_rm_image(struct engine *e, const char *id, int with_layers)
{
	(void)id;
	(void)with_layers;
	fake(e)->calls[FAKE_RM]++;
	return 0;
}

static int fake_rm_build(struct engine *e, const struct build_result *res)
{
	(void)res;
	fake(e)->calls[FAKE_RM]++;
	return 0;
}

static int fake_remove_labelled(struct engine *e, const char *run_id)
{
	(void)run_id;
	fake(e)->calls[FAKE_RM]++;
	return 0;
}

/* No learner's container exists on the fake engine. */
static int fake_container_by_name(struct engine *e, const char *name, int *running)
{
	(void)e;
	(void)name;
	*running = 0;
	return 0;
}

static int fake_reap(struct engine *e, const char *run_id, const char *scratch)
{
	(void)run_id;
	(void)scratch;
	(void)e;
	return 0;
}

/* As docker.c reads a saved image: the configuration's layers, then each layer's entries in order. */
static int fake_image_layers(struct engine *e, json_t *image, int in_place, struct layer_walk *w)
{
	struct fake_engine *fe = fake(e);
	struct strbuf sb = STRBUF_INIT, why = STRBUF_INIT;
	char *line, *save = NULL;
	json_t *config;
	int rc = 0;

	(void)in_place;
	fe->calls[FAKE_LAYERS]++;
	if (!fe->image_config || !fe->layers)
		return engine_fail(e, "reading the image's layers: fake engine: no answer");
	config = fake_fixture_json(fe->image_config);
	if (layers_from_config(config, image, w, &why) < 0) {
		json_decref(config);
		rc = engine_fail(e, "reading the saved image: %s", why.buf);
		strbuf_release(&why);
		return rc;
	}
	json_decref(config);
	w->how = "docker save";
	fixture_text(fe->layers, &sb);
	for (line = strtok_r(sb.buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		json_t *row = json_loads(line, 0, NULL);
		const char *type = json_string_value(json_object_get(row, "type"));
		struct tar_entry te = {
			.name = json_string_value(json_object_get(row, "name")),
			.linkname = "",
			.type = type && *type ? type[0] : '0',
			.size = (unsigned long long)json_integer_value(json_object_get(row, "size")),
		};
		json_int_t layer = json_integer_value(json_object_get(row, "layer"));

		if (!te.name || layer < 0 || (size_t)layer >= w->nlayers)
			fail_msg("fake engine: a bad row in '%s': %s", fe->layers, line);
		rc = layer_pass_tar(w, (size_t)layer, &te);
		json_decref(row);
		if (rc == 1)
			break;
	}
	strbuf_release(&sb);
	strbuf_release(&why);
	return 0;
}

const struct engine_ops fake_engine_ops = {
	.name = "fake",
	.open = fake_open,
	.close = fake_close,
	.ping = fake_ping,
	.build_start = fake_build_start,
	.build_finish = fake_build_finish,
	.image_inspect = fake_image_inspect,
	.history = fake_history,
	.run = fake_run,
	.container_inspect = fake_container_inspect,
	.health = fake_health,
	.top = fake_top,
	.exec = fake_exec,
	.logs = fake_logs,
	.rootfs_dir = fake_rootfs_dir,
	.export_start = fake_export_start,
	.export_finish = fake_export_finish,
	.rm_container = fake_rm_container,
	.rm_image = fake_rm_image,
	.rm_build = fake_rm_build,
	.remove_labelled = fake_remove_labelled,
	.reap = fake_reap,
	.container_by_name = fake_container_by_name,
	.image_layers = fake_image_layers,
};

void fake_engine_open(struct engine *e, struct fake_engine *fe)
{
	memset(e, 0, sizeof(*e));
	strbuf_init(&e->err, 0);
	e->ops = &fake_engine_ops;
	e->priv = fe;
	e->cli = "fake";
	e->builder = fe->builder;
	e->client_version = xstrdup("28.2.2");
	e->server_version = xstrdup("20.10.24");
	e->call_timeout_ms = 30000;
	snprintf(e->run_id, sizeof(e->run_id), "%s", "fake-run");
}

/* --- the environment a kind's test runs in ---------------------------------- */

char *test_repo_root(void)
{
	const char *root = getenv("PHASELAB_ROOT");
	return xstrdup(root && *root ? root : ".");
}

void check_env_open(struct check_env *t, const char *phase_file, const char *prefix)
{
	char *root = test_repo_root();
	char *file = xasprintf("%s/%s", root, phase_file);
	char *tmpl = xasprintf("/tmp/%s-XXXXXX", prefix);
	struct strbuf err = STRBUF_INIT;
	char *state;

	memset(t, 0, sizeof(*t));
	if (!mkdtemp(tmpl))
		fail_msg("mkdtemp: %s", strerror(errno));
	t->tmp = tmpl;
	state = xasprintf("%s/state", t->tmp);
	setenv("PHASELAB_STATE_DIR", state, 1);
	free(state);
	if (phase_load_file(file, &t->ph, &err) < 0)
		fail_msg("%s", err.buf);
	if (rundir_create(&t->run, &err) < 0)
		fail_msg("%s", err.buf);
	strbuf_release(&err);
	free(file);
	free(root);
}

void check_env_start(struct check_env *t, struct fake_engine *fe)
{
	fake_engine_open(&t->engine, fe);
	t->ctx.engine = &t->engine;
	t->ctx.phase = &t->ph;
	t->ctx.run = &t->run;
	t->ctx.dir = t->service;
	strbuf_init(&t->ctx.build_output, 0);
	/* as the driver does: the first build check and the first container check explain the skips */
	t->ctx.build_check_id = "builds";
	t->ctx.container_check_id = "responds";
}

void check_env_close(struct check_env *t)
{
	assert_int_equal(ctx_release(&t->ctx), 0);
	rundir_remove(&t->run);
	engine_close(&t->engine);
	phase_release(&t->ph);
	if (t->tmp)
		remove_tree(t->tmp);
	free(t->tmp);
	free(t->service);
	free(t->rootfs);
	free(t->tar);
}

void df_apply_edits(struct strbuf *df, const char *const edits[4], const char *case_name)
{
	for (int e = 0; e < 4 && edits[e]; e += 2) {
		const char *at = strstr(df->buf, edits[e]);
		struct strbuf edited = STRBUF_INIT;

		if (!at)
			fail_msg("%s: the Dockerfile has no '%s'", case_name, edits[e]);
		strbuf_add(&edited, df->buf, (size_t)(at - df->buf));
		strbuf_addstr(&edited, edits[e + 1]);
		strbuf_addstr(&edited, at + strlen(edits[e]));
		strbuf_release(df);
		*df = edited;
	}
}

int fake_count_calls(const char *path, const char *word)
{
	struct strbuf sb = STRBUF_INIT;
	int n = 0;

	if (read_file_nofollow(path, 1 << 20, &sb) == 0)
		for (const char *p = sb.buf; (p = strstr(p, word)); p++)
			n++;
	strbuf_release(&sb);
	return n;
}
