/*
 * The engine table and its choice, and engine/podman.c's readings of
 * podman's answers, without podman: PHASELAB_PODMAN points at
 * tests/fixtures/engine/podman/fake-podman, which answers from real podman
 * 4.3.1 recordings (the reference solution's image and container).
 *
 *  - every entry of both tables is set, and an unknown PHASELAB_ENGINE is
 *    refused naming both;
 *  - without PHASELAB_ENGINE: docker when it answers, else podman, else
 *    docker's reason (which names the fix);
 *  - the report's engine: kind "podman", builder buildah, the versions;
 *  - docker's shape: the image's top-level Healthcheck in Config;
 *  - history rows with their sizes (podman gives numbers, in one array);
 *  - top: the user from HUSER, the program's name; rootless, the container's
 *    uid (not HUSER, which is ours);
 *  - a container by its exact name, and whether it runs;
 *  - health: a probe (`healthcheck run`) when one is due, not on every read.
 *
 * The fixtures are found from the repository root, or from $PHASELAB_FIXTURES.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/engine.h"
#include "engine/engine-impl.h"
#include "lib/fsutil.h"
#include "lib/strbuf.h"
#include "lib/xalloc.h"
#include "fake_engine.h"

static char calls[64];

static char *fake_path(void)
{
	const char *dir = getenv("PHASELAB_FIXTURES");
	char *rel = xasprintf("%s/engine/podman/fake-podman", dir && *dir ? dir : "tests/fixtures");
	char *abs = realpath(rel, NULL);

	if (!abs)
		fail_msg("no fake podman at '%s' (run from the repository root)", rel);
	free(rel);
	return abs;
}

/* How many of the recorded calls contain word. */
static int count_calls(const char *word)
{
	return fake_count_calls(calls, word);
}

static int setup(void **state)
{
	int fd;

	(void)state;
	snprintf(calls, sizeof(calls), "/tmp/phaselab-fake-podman-XXXXXX");
	if ((fd = mkstemp(calls)) < 0)
		return -1;
	close(fd);
	setenv("FAKE_PODMAN_CALLS", calls, 1);
	return 0;
}

static int teardown(void **state)
{
	char probed[80];

	(void)state;
	snprintf(probed, sizeof(probed), "%s.probed", calls);
	unlink(probed);
	unlink(calls);
	return 0;
}

#define ALL_SET(o)                                                                                        \
	((o).name && (o).open && (o).close && (o).ping && (o).build_start && (o).build_finish &&          \
	 (o).image_inspect && (o).history && (o).run && (o).container_inspect && (o).health && (o).top && \
	 (o).exec && (o).logs && (o).rootfs_dir && (o).export_start && (o).export_finish &&               \
	 (o).rm_container && (o).rm_image && (o).rm_build && (o).remove_labelled && (o).reap &&          \
	 (o).container_by_name && (o).image_layers)

static void test_tables(void **state)
{
	struct engine e;

	(void)state;
	assert_true(ALL_SET(engine_docker));
	assert_true(ALL_SET(engine_podman));
	assert_string_equal(engine_podman.name, "podman");

	setenv("PHASELAB_ENGINE", "nosuch", 1);
	assert_int_equal(engine_open(&e, "t"), -1);
	assert_non_null(strstr(e.err.buf, "'nosuch'"));
	assert_non_null(strstr(e.err.buf, "'docker' and 'podman'"));
	engine_close(&e);
	unsetenv("PHASELAB_ENGINE");
}

/*
 * A PATH on which every program of /usr/bin and /bin is found but docker: a
 * machine without Docker's CLI (fake-podman, a shell script, still runs).
 * The folder's name, to remove with remove_tree_links; NULL when it cannot be made.
 */
static char *path_without_docker(void)
{
	char tmpl[] = "/tmp/phaselab-nodocker.XXXXXX";
	const char *dirs[] = { "/usr/bin", "/bin", NULL };
	char *dir = mkdtemp(tmpl) ? strdup(tmpl) : NULL;

	for (const char **d = dirs; dir && *d; d++) {
		DIR *dh = opendir(*d);
		struct dirent *de;

		while (dh && (de = readdir(dh))) {
			char *from, *to;

			if (de->d_name[0] == '.' || !strcmp(de->d_name, "docker"))
				continue;
			from = xasprintf("%s/%s", *d, de->d_name);
			to = xasprintf("%s/%s", dir, de->d_name);
			if (symlink(from, to) < 0 && errno != EEXIST)
				fail_msg("symlink %s: %s", to, strerror(errno));
			free(from);
			free(to);
		}
		if (dh)
			closedir(dh);
	}
	return dir;
}

static void remove_tree_links(char *dir)
{
	DIR *dh = opendir(dir);
	struct dirent *de;

	while (dh && (de = readdir(dh))) {
		char *p;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		p = xasprintf("%s/%s", dir, de->d_name);
		unlink(p);
		free(p);
	}
	if (dh)
		closedir(dh);
	rmdir(dir);
	free(dir);
}

static void test_choice(void **state)
{
	char *fake = fake_path(), *path = strdup(getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin");
	char *nodocker = path_without_docker(), kind[16] = "", neither[300] = "";
	int rc_fallback, rc_neither;
	struct engine e;

	(void)state;
	assert_non_null(nodocker);
	unsetenv("PHASELAB_ENGINE");
	unsetenv("PHASELAB_DOCKER");
	unsetenv("DOCKER_HOST");
	unsetenv("DOCKER_CONTEXT");
	/* no docker on PATH, and no Docker engine named: podman answers */
	setenv("PATH", nodocker, 1);
	setenv("PHASELAB_PODMAN", fake, 1);
	rc_fallback = engine_open(&e, "t");
	snprintf(kind, sizeof(kind), "%s", e.kind ? e.kind : "");
	engine_close(&e);
	/* neither: docker's reason, with its fix */
	setenv("PHASELAB_PODMAN", "/nonexistent/podman", 1);
	rc_neither = engine_open(&e, "t");
	snprintf(neither, sizeof(neither), "%s", e.err.buf ? e.err.buf : "");
	engine_close(&e);
	setenv("PATH", path, 1);
	remove_tree_links(nodocker);
	assert_int_equal(rc_fallback, 0);
	assert_string_equal(kind, "podman");
	assert_int_equal(rc_neither, -1);
	assert_non_null(strstr(neither, "no container engine: 'docker' is not on PATH"));

	/* a Docker engine named that does not answer: its reason, never podman in its place */
	setenv("PHASELAB_PODMAN", fake, 1);
	setenv("PHASELAB_DOCKER", "/nonexistent/docker", 1);
	assert_int_equal(engine_open(&e, "t"), -1);
	assert_non_null(strstr(e.err.buf, "no container engine: '/nonexistent/docker' is not on PATH"));
	engine_close(&e);
	unsetenv("PHASELAB_DOCKER");
	setenv("DOCKER_HOST", "unix:///nonexistent.sock", 1);
	assert_int_equal(engine_open(&e, "t"), -1);
	assert_null(strstr(e.err.buf, "podman"));
	engine_close(&e);
	unsetenv("DOCKER_HOST");
	/* asked for by name: podman's own reason */
	setenv("PHASELAB_PODMAN", "/nonexistent/podman", 1);
	setenv("PHASELAB_ENGINE", "podman", 1);
	assert_int_equal(engine_open(&e, "t"), -1);
	assert_non_null(strstr(e.err.buf, "no podman: '/nonexistent/podman' is not on PATH"));
	engine_close(&e);
	unsetenv("PHASELAB_ENGINE");
	unsetenv("PHASELAB_PODMAN");
	free(path);
	free(fake);
}

static void test_readings(void **state)
{
	char *fake = fake_path();
	struct engine e;
	json_t *img = NULL, *st = NULL;
	struct history_row *rows;
	struct top_row *top;
	size_t n;

	(void)state;
	setenv("PHASELAB_ENGINE", "podman", 1);
	setenv("PHASELAB_PODMAN", fake, 1);
	assert_int_equal(engine_open(&e, "t"), 0);
	assert_string_equal(e.kind, "podman");
	assert_int_equal(e.builder, BUILDER_BUILDAH);
	assert_string_equal(builder_name(e.builder), "buildah");
	assert_string_equal(e.client_version, "4.3.1");
	assert_string_equal(e.server_version, "4.3.1");

	/* podman keeps HEALTHCHECK at the top; the checks read docker's Config.Healthcheck */
	assert_int_equal(engine_image_inspect(&e, "sha256:x", &img), 0);
	assert_int_equal(json_integer_value(json_object_get(
				 json_object_get(json_object_get(img, "Config"), "Healthcheck"), "Timeout")),
			 3000000000LL);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(
				 json_object_get(img, "Config"), "Healthcheck"), "Retries")), 3);
	json_decref(img);

	assert_int_equal(engine_history(&e, "sha256:x", &rows, &n), 0);
	assert_int_equal(n, 13);
	assert_non_null(strstr(rows[0].created_by, "LABEL \"org.phaselab.run\""));
	assert_int_equal(rows[6].size, 13312);
	assert_int_equal(rows[12].size, 104570368);
	engine_history_free(rows, n);

	assert_int_equal(engine_top(&e, "c", &top, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(top[0].pid, 1);
	assert_int_equal(top[0].uid, 65532);
	assert_string_equal(top[0].comm, "node");
	free(top);

	/* the first read probes; a read within the interval does not */
	assert_int_equal(engine_health(&e, "c0ffee", &st), 0);
	assert_string_equal(json_string_value(json_object_get(json_object_get(st, "Health"), "Status")), "healthy");
	json_decref(st);
	assert_int_equal(count_calls("healthcheck run c0ffee"), 1);
	assert_int_equal(engine_health(&e, "c0ffee", &st), 0);
	json_decref(st);
	assert_int_equal(count_calls("healthcheck run c0ffee"), 1);

	/* a container by its exact name, from the JSON listing (4.3's {{.State}} is a Status) */
	{
		int running = -1;

		assert_int_equal(engine_container_by_name(&e, "user-service-dev", &running), 1);
		assert_int_equal(running, 1);
		assert_int_equal(engine_container_by_name(&e, "user-service-dev-2", &running), 1);
		assert_int_equal(running, 0);
		assert_int_equal(engine_container_by_name(&e, "user-service", &running), 0);
	}
	assert_int_equal(e.rootless, 0);
	engine_close(&e);

	/*
	 * rootless: HUSER is our uid (1001) for root in the container; the uid
	 * the check decides on is the container's (0, 65532), read back through
	 * the process's uid_map or, when that cannot be read (these hpids are
	 * no process), podman's USER column
	 */
	setenv("FAKE_PODMAN_ROOTLESS", "true", 1);
	assert_int_equal(engine_open(&e, "t"), 0);
	assert_int_equal(e.rootless, 1);
	assert_int_equal(engine_top(&e, "c", &top, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(top[0].uid, 0);
	assert_int_equal(top[0].pid, 1);
	assert_string_equal(top[0].comm, "sleep");
	assert_int_equal(top[1].uid, 65532);
	assert_int_equal(top[1].pid, 7);
	assert_string_equal(top[1].comm, "node");
	free(top);
	assert_int_equal(count_calls("top c user huser hpid pid args"), 1);
	engine_close(&e);
	unsetenv("FAKE_PODMAN_ROOTLESS");

	unsetenv("PHASELAB_ENGINE");
	unsetenv("PHASELAB_PODMAN");
	free(fake);
}

/* A file's text, written (the folders above it made). */
static void write_state(const char *root, const char *id, const char *text)
{
	char *dir = xasprintf("%s/overlay-containers/%s/userdata", root, id), *path = xasprintf("%s/buildah.json", dir);
	FILE *f;

	/* each folder above it, from the root down */
	for (char *slash = dir + strlen(root) + 1;; slash++) {
		slash = strchr(slash, '/');
		if (slash)
			*slash = '\0';
		assert_true(mkdir(dir, 0700) == 0 || errno == EEXIST);
		if (!slash)
			break;
		*slash = '/';
	}
	assert_non_null(f = fopen(path, "w"));
	fputs(text, f);
	fclose(f);
	free(dir);
	free(path);
}

/*
 * A `podman build` killed mid-build leaves buildah's working containers
 * (`ps --external`, State "storage"): the run's sweep removes those whose
 * builder was given the run's PHASELAB_RUN, and no one else's: another
 * run's, one whose state cannot be read, a running container.
 */
static void test_working_containers(void **state)
{
	char *fake = fake_path(), root[64], *a = xasprintf("%064d", 0);
	struct engine e;

	(void)state;
	memset(a, 'a', 64);
	snprintf(root, sizeof(root), "/tmp/phaselab-fake-storage-XXXXXX");
	assert_non_null(mkdtemp(root));
	/* the image configuration's label is another run's (a cached step's): only Args counts */
	write_state(root, a, "{\"Args\": {\"PHASELAB_RUN\": \"t\"}, \"docker\": {\"config\": "
			     "{\"Labels\": {\"org.phaselab.run\": \"other\"}}}}");
	memset(a, 'b', 64);
	write_state(root, a, "{\"Args\": {\"PHASELAB_RUN\": \"other\"}, \"docker\": {\"config\": "
			     "{\"Labels\": {\"org.phaselab.run\": \"t\"}}}}");
	memset(a, 'd', 64);
	write_state(root, a, "{\"Args\": {\"PHASELAB_RUN\": \"t\"}}");
	setenv("FAKE_PODMAN_ROOT", root, 1);
	setenv("PHASELAB_ENGINE", "podman", 1);
	setenv("PHASELAB_PODMAN", fake, 1);
	assert_int_equal(engine_open(&e, "t"), 0);
	assert_int_equal(engine_remove_labelled(&e, "t"), 1);
	memset(a, 'a', 64);
	assert_int_equal(count_calls(a), 1);
	for (char c = 'b'; c <= 'd'; c++) {
		memset(a, c, 64);
		assert_int_equal(count_calls(a), 0);
	}
	assert_int_equal(count_calls("rm -f"), 1);
	/* a dead run's reap sweeps them too */
	assert_int_equal(engine_reap(&e, "t", NULL), 1);
	assert_int_equal(count_calls("rm -f"), 2);
	/* none of the run's: no removal */
	assert_int_equal(engine_remove_labelled(&e, "nobody"), 0);
	assert_int_equal(count_calls("rm -f"), 2);
	engine_close(&e);
	unsetenv("FAKE_PODMAN_ROOT");
	unsetenv("PHASELAB_ENGINE");
	unsetenv("PHASELAB_PODMAN");
	assert_int_equal(remove_tree(root), 0);
	free(a);
	free(fake);
}

/* buildah's warning about our own build argument goes; anything else it says stays */
static void test_hide_run_arg(void **state)
{
	static const char *const cases[][2] = {
		{ "COMMIT x\n[Warning] one or more build args were not consumed: [PHASELAB_RUN]\nSuccessfully tagged x\n",
		  "COMMIT x\nSuccessfully tagged x\n" },
		{ "[Warning] one or more build args were not consumed: [A PHASELAB_RUN]\n",
		  "[Warning] one or more build args were not consumed: [A]\n" },
		{ "[Warning] one or more build args were not consumed: [PHASELAB_RUN B]\n",
		  "[Warning] one or more build args were not consumed: [B]\n" },
		{ "[Warning] one or more build args were not consumed: [A PHASELAB_RUN B]",
		  "[Warning] one or more build args were not consumed: [A B]" },
		{ "[Warning] one or more build args were not consumed: [PHASELAB_RUNNER]\n",
		  "[Warning] one or more build args were not consumed: [PHASELAB_RUNNER]\n" },
		{ "[Warning] one or more build args were not consumed: [PHASELAB_RUN]",
		  "" },
		{ "build args were not consumed: [PHASELAB_RUN\n", "build args were not consumed: [PHASELAB_RUN\n" },
		{ "", "" },
		/* a short list at the very end: nothing read past it */
		{ "[Warning] one or more build args were not consumed: [A]", "[Warning] one or more build args were not consumed: [A]" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = strlen(cases[i][0]), n;
		/* exactly the text, no terminator: the sanitizers see any read past it */
		char *text = xmalloc(len ? len : 1);

		memcpy(text, cases[i][0], len);
		n = podman_hide_run_arg(text, len);
		if (n != strlen(cases[i][1]) || memcmp(text, cases[i][1], n))
			fail_msg("case %zu: got '%.*s', want '%s'", i, (int)n, text, cases[i][1]);
		free(text);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tables),
		cmocka_unit_test(test_choice),
		cmocka_unit_test(test_readings),
		cmocka_unit_test(test_working_containers),
		cmocka_unit_test(test_hide_run_arg),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
