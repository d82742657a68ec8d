/*
 * A remote engine: how phaselab tells one (e->remote), and what changes
 * with it, without a second engine: PHASELAB_DOCKER points at a fake docker
 * CLI written here, which answers `version`, `context inspect` and the
 * helper's `run`, and records its calls.
 *
 *  - endpoints: only a unix socket (or a path) is local;
 *  - the choice from the environment, in the docker CLI's order (DOCKER_HOST,
 *    DOCKER_CONTEXT, the config's currentContext), PHASELAB_REMOTE forcing;
 *  - engine_open sets e->remote, and asks `context inspect` only for a
 *    context other than "default" (the common local case costs no call);
 *  - a remote engine's filesystem is never read in place;
 *  - the helper's answer read as an HTTP answer (status, Content-Type,
 *    body), its failures in curl's numbers, a missing helper image an
 *    engine error that names it; the helper's run labelled and in the
 *    container's network namespace.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/cli.h"
#include "engine/engine.h"
#include "lib/fsutil.h"
#include "lib/http.h"
#include "lib/strbuf.h"
#include "lib/xalloc.h"
#include "fake_engine.h"

static char dir[64];
static char *fake, *calls;

/*
 * The fake CLI: `context inspect` answers by the context's name (far: ssh,
 * near: a socket); the helper's answer is chosen by the port it is asked.
 */
static const char fake_script[] =
	"#!/bin/sh\n"
	"echo \"$*\" >>\"$FAKE_DOCKER_CALLS\"\n"
	"case \"$1\" in\n"
	"version) echo '{\"Client\":{\"Version\":\"20.10.24\"},\"Server\":{\"Version\":\"20.10.24\"}}' ;;\n"
	"buildx) exit 1 ;;\n"
	"container) case \"$4\" in stopped) echo '[{\"Id\":\"stopped\",\"State\":{\"Running\":false}}]' ;;"
	" *) echo \"[{\\\"Id\\\":\\\"$4\\\",\\\"State\\\":{\\\"Running\\\":true}}]\" ;; esac ;;\n"
	"context) case \"$5\" in far) echo ssh://grader@far.example ;; near) echo unix:///run/near.sock ;;"
	" *) echo \"context \\\"$5\\\" does not exist\" >&2; exit 1 ;; esac ;;\n"
	"run) for a; do last3=$last2; last2=$last1; last1=$a; done\n"
	"  case \"$last3\" in\n"
	"  3000) printf 'HTTP/1.1 200 OK\\r\\nContent-Type: application/json; charset=utf-8\\r\\n"
	"Connection: close\\r\\n\\r\\n{\"status\":\"ok\"}' ;;\n"
	"  3001) echo '10.231.0.3 port 3001: Connection refused' >&2; exit 7 ;;\n"
	"  3002) echo 'no answer within the timeout' >&2; exit 28 ;;\n"
	"  3003) echo 'docker: Error response from daemon: cannot join network of a non running container: abc.' >&2;"
	" echo 'time=\"2026-12-03T16:00:00Z\" level=error msg=\"error waiting for container: context canceled\"' >&2;"
	" exit 125 ;;\n"
	"  3006) echo 'docker: Error response from daemon: failed to create shim task: OCI runtime create failed:"
	" namespace path: lstat /proc/15011/ns/net: no such file or directory: unknown.' >&2; exit 125 ;;\n"
	"  3004) printf 'SSH-2.0-OpenSSH_9.2\\r\\n' ;;\n"
	"  *) echo \"Unable to find image 'phaselab/probe:latest' locally\" >&2;"
	" echo 'docker: Error response from daemon: No such image: phaselab/probe:latest.' >&2;"
	" echo >&2; echo \"Run 'docker run --help' for more information\" >&2; exit 125 ;;\n"
	"  esac ;;\n"
	"*) exit 1 ;;\n"
	"esac\n";

static int setup(void **state)
{
	FILE *f;

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/phaselab-remote-test.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	fake = xasprintf("%s/docker", dir);
	calls = xasprintf("%s/calls", dir);
	f = fopen(fake, "w");
	if (!f)
		return -1;
	fputs(fake_script, f);
	fclose(f);
	chmod(fake, 0755);
	setenv("FAKE_DOCKER_CALLS", calls, 1);
	setenv("PHASELAB_DOCKER", fake, 1);
	setenv("DOCKER_CONFIG", dir, 1); /* no config.json: no current context */
	unsetenv("DOCKER_HOST");
	unsetenv("DOCKER_CONTEXT");
	unsetenv("PHASELAB_REMOTE");
	unsetenv("PHASELAB_ENGINE");
	unsetenv("DOCKER_BUILDKIT");
	return 0;
}

static int teardown(void **state)
{
	char *conf = xasprintf("%s/config.json", dir);

	(void)state;
	unlink(conf);
	unlink(calls);
	unlink(fake);
	rmdir(dir);
	free(conf);
	free(fake);
	free(calls);
	unsetenv("PHASELAB_DOCKER");
	unsetenv("DOCKER_CONFIG");
	unsetenv("FAKE_DOCKER_CALLS");
	return 0;
}

static int count_calls(const char *word)
{
	return fake_count_calls(calls, word);
}

static void test_endpoints(void **state)
{
	static const struct {
		const char *endpoint;
		int remote;
	} rows[] = {
		{ NULL, 0 },
		{ "", 0 },
		{ "unix:///var/run/docker.sock", 0 },
		{ "unix:///run/phaselab-engines/remote.sock", 0 },
		{ "/var/run/docker.sock", 0 },
		{ "tcp://127.0.0.1:23750", 1 },
		{ "tcp://grader.example:2376", 1 },
		{ "ssh://grader@far.example", 1 },
		{ "npipe:////./pipe/docker_engine", 1 },
		{ "https://far.example:2376", 1 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		if (engine_endpoint_remote(rows[i].endpoint) != rows[i].remote)
			fail_msg("endpoint '%s': want %d", rows[i].endpoint ? rows[i].endpoint : "(null)",
				 rows[i].remote);
}

static void test_from_env(void **state)
{
	static const struct {
		const char *force, *host, *context, *current;
		int want;
		const char *ask;
	} rows[] = {
		{ NULL, NULL, NULL, NULL, 0, NULL },
		{ NULL, "", "", "", 0, NULL },
		{ NULL, "tcp://127.0.0.1:23750", NULL, NULL, 1, NULL },
		{ NULL, "unix:///var/run/docker.sock", NULL, NULL, 0, NULL },
		/* DOCKER_HOST wins over a context, as in the docker CLI */
		{ NULL, "unix:///var/run/docker.sock", "far", "far", 0, NULL },
		{ NULL, "ssh://far.example", "near", NULL, 1, NULL },
		{ NULL, NULL, "far", NULL, 2, "far" },
		{ NULL, NULL, "default", "far", 0, NULL },
		{ NULL, NULL, "near", "far", 2, "near" },
		{ NULL, NULL, NULL, "far", 2, "far" },
		{ NULL, NULL, NULL, "default", 0, NULL },
		{ "1", NULL, NULL, NULL, 1, NULL },
		{ "0", "tcp://127.0.0.1:23750", NULL, NULL, 0, NULL },
		{ "0", NULL, "far", NULL, 0, NULL },
		/* anything else does not force */
		{ "yes", "tcp://127.0.0.1:23750", NULL, NULL, 1, NULL },
		{ "", NULL, NULL, NULL, 0, NULL },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const char *ask = "unset";
		int got = engine_remote_from_env(rows[i].force, rows[i].host, rows[i].context, rows[i].current, &ask);

		if (got != rows[i].want)
			fail_msg("row %zu: got %d, want %d", i, got, rows[i].want);
		if (rows[i].ask ? !ask || strcmp(ask, rows[i].ask) : ask != NULL)
			fail_msg("row %zu: asks '%s', want '%s'", i, ask ? ask : "(null)",
				 rows[i].ask ? rows[i].ask : "(null)");
	}
}

static void write_config(const char *text)
{
	char *conf = xasprintf("%s/config.json", dir);
	FILE *f = fopen(conf, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	free(conf);
}

static void test_current_context(void **state)
{
	char buf[64];

	(void)state;
	engine_current_context(buf, sizeof(buf));
	assert_string_equal(buf, "");
	write_config("{\"auths\": {}, \"currentContext\": \"far\"}");
	engine_current_context(buf, sizeof(buf));
	assert_string_equal(buf, "far");
	write_config("not json");
	engine_current_context(buf, sizeof(buf));
	assert_string_equal(buf, "");
	write_config("{}");
}

/* engine_open with the environment set as given; returns e->remote, or -1 when it did not open. */
static int open_remote(const char *host, const char *context, const char *force, int *context_calls)
{
	struct engine e;
	int before = count_calls("context inspect"), rc, remote;

	host ? setenv("DOCKER_HOST", host, 1) : unsetenv("DOCKER_HOST");
	context ? setenv("DOCKER_CONTEXT", context, 1) : unsetenv("DOCKER_CONTEXT");
	force ? setenv("PHASELAB_REMOTE", force, 1) : unsetenv("PHASELAB_REMOTE");
	rc = engine_open(&e, "test-remote");
	remote = e.remote;
	engine_close(&e);
	unsetenv("DOCKER_HOST");
	unsetenv("DOCKER_CONTEXT");
	unsetenv("PHASELAB_REMOTE");
	*context_calls = count_calls("context inspect") - before;
	return rc == 0 ? remote : -1;
}

static void test_open(void **state)
{
	int asked;

	(void)state;
	write_config("{}");
	assert_int_equal(open_remote(NULL, NULL, NULL, &asked), 0);
	assert_int_equal(asked, 0); /* the common local case: no call beyond version */
	assert_int_equal(open_remote("tcp://127.0.0.1:23750", NULL, NULL, &asked), 1);
	assert_int_equal(asked, 0);
	assert_int_equal(open_remote("unix:///var/run/docker.sock", NULL, NULL, &asked), 0);
	assert_int_equal(open_remote(NULL, "far", NULL, &asked), 1);
	assert_int_equal(asked, 1);
	assert_int_equal(open_remote(NULL, "near", NULL, &asked), 0);
	assert_int_equal(asked, 1);
	assert_int_equal(open_remote(NULL, "default", NULL, &asked), 0);
	assert_int_equal(asked, 0);
	assert_int_equal(open_remote("tcp://127.0.0.1:23750", NULL, "0", &asked), 0);
	assert_int_equal(open_remote(NULL, NULL, "1", &asked), 1);
	/* the CLI's current context, from its config */
	write_config("{\"currentContext\": \"far\"}");
	assert_int_equal(open_remote(NULL, NULL, NULL, &asked), 1);
	assert_int_equal(asked, 1);
	write_config("{\"currentContext\": \"default\"}");
	assert_int_equal(open_remote(NULL, NULL, NULL, &asked), 0);
	assert_int_equal(asked, 0);
	write_config("{}");
}

static void test_no_rootfs_in_place(void **state)
{
	struct engine e;
	json_t *c = json_pack("{s:{s:s,s:{s:s}}}", "GraphDriver", "Name", "overlay2", "Data", "MergedDir", "/");

	(void)state;
	memset(&e, 0, sizeof(e));
	e.ops = &engine_docker;
	e.remote = 1;
	/* "/" would be readable here: a remote engine's is still not read in place */
	assert_null(engine_rootfs_dir(&e, c));
	json_decref(c);
}

static void test_probe_answer(void **state)
{
	static const char ok[] = "HTTP/1.1 503 Service Unavailable\r\ncontent-type:  text/plain\r\n"
				 "X-Other: 1\r\n\r\nnot yet\r\nstill";
	static const char bare[] = "HTTP/1.0 204 No Content\r\n\r\n";
	struct http_answer a;

	(void)state;
	memset(&a, 0, sizeof(a));
	strbuf_init(&a.body, 0);
	assert_int_equal(cli_probe_answer(ok, sizeof(ok) - 1, &a), 0);
	assert_int_equal(a.status, 503);
	assert_string_equal(a.content_type, "text/plain");
	assert_string_equal(a.body.buf, "not yet\r\nstill");
	http_answer_release(&a);

	memset(&a, 0, sizeof(a));
	strbuf_init(&a.body, 0);
	assert_int_equal(cli_probe_answer(bare, sizeof(bare) - 1, &a), 0);
	assert_int_equal(a.status, 204);
	assert_int_equal(a.body.len, 0);
	assert_string_equal(a.content_type, "");
	http_answer_release(&a);

	memset(&a, 0, sizeof(a));
	strbuf_init(&a.body, 0);
	assert_int_equal(cli_probe_answer("SSH-2.0-x\r\n", 11, &a), -1);
	assert_int_equal(cli_probe_answer("HTTP/1.1 abc\r\n\r\n", 16, &a), -1);
	assert_int_equal(cli_probe_answer("", 0, &a), -1);
	http_answer_release(&a);
}

/* The helper run through the fake CLI, asked on port. */
static int helper_get_id(struct engine *e, const char *id, int port, struct http_answer *a)
{
	return engine_http_get(e, id, port, 32768, "/health", 2000, a);
}

static int helper_get(struct engine *e, int port, struct http_answer *a)
{
	return helper_get_id(e, "c0ffee", port, a);
}

static void test_helper(void **state)
{
	struct engine e;
	struct http_answer a;
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	setenv("PHASELAB_REMOTE", "1", 1);
	assert_int_equal(engine_open(&e, "test-remote"), 0);
	unsetenv("PHASELAB_REMOTE");
	assert_int_equal(e.remote, 1);

	assert_int_equal(helper_get(&e, 3000, &a), 0);
	assert_int_equal(a.status, 200);
	assert_string_equal(a.body.buf, "{\"status\":\"ok\"}");
	assert_string_equal(a.content_type, "application/json; charset=utf-8");
	http_answer_release(&a);
	/* labelled with the run's label, in the container's namespace, never pulled, removed after */
	assert_int_equal(read_file_nofollow(calls, 1 << 20, &sb), 0);
	assert_non_null(strstr(sb.buf, "run --rm --pull=never --network=container:c0ffee "
				       "--label=org.phaselab.run=test-remote"));
	assert_non_null(strstr(sb.buf, "phaselab/probe 3000 /health 2000"));
	strbuf_release(&sb);

	assert_int_equal(helper_get(&e, 3001, &a), 1);
	assert_int_equal(a.status, 0);
	assert_int_equal(a.curl_code, 7);
	assert_non_null(strstr(a.error, "Connection refused"));
	http_answer_release(&a);

	assert_int_equal(helper_get(&e, 3002, &a), 1);
	assert_int_equal(a.curl_code, 28);
	http_answer_release(&a);

	/* the service stopped: nothing answers (the check tells why itself), not an engine error */
	assert_int_equal(helper_get_id(&e, "stopped", 3003, &a), 1);
	assert_int_equal(a.curl_code, 7);
	http_answer_release(&a);
	/* stopped while the helper was being made: runc's words, the same answer */
	assert_int_equal(helper_get_id(&e, "stopped", 3006, &a), 1);
	assert_int_equal(a.curl_code, 7);
	assert_string_equal(a.error, "the container is not running");
	http_answer_release(&a);
	/* the same failure while the service runs is the engine's */
	assert_int_equal(helper_get(&e, 3006, &a), -1);
	assert_non_null(strstr(e.err.buf, "namespace path"));
	http_answer_release(&a);

	assert_int_equal(helper_get(&e, 3004, &a), 1);
	assert_int_equal(a.status, 0);
	http_answer_release(&a);

	/* no helper image: the harness's error, naming the image and the fix */
	assert_int_equal(helper_get(&e, 3005, &a), -1);
	assert_non_null(strstr(e.err.buf, "phaselab/probe"));
	/* the daemon's reason, not the CLI's closing advice */
	assert_non_null(strstr(e.err.buf, "No such image"));
	assert_null(strstr(e.err.buf, "--help"));
	assert_non_null(strstr(e.err.buf, "make images"));
	http_answer_release(&a);
	engine_close(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_endpoints),
		cmocka_unit_test(test_from_env),
		cmocka_unit_test(test_current_context),
		cmocka_unit_test(test_open),
		cmocka_unit_test(test_no_rootfs_in_place),
		cmocka_unit_test(test_probe_answer),
		cmocka_unit_test(test_helper),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
