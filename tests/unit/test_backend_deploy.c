/*
 * The backend track's deploy kinds: task-definition (check id taskdef) and
 * registry-image (published), and the registry client they use
 * (lib/registry.h).
 *
 * The task definitions are files under tests/fixtures/taskdef/, each good.json
 * with one mistake, checked against an image inspect object built here in
 * the reference image's shape (its HEALTHCHECK in nanoseconds, its ENV, its
 * port, its USER).
 *
 * The registry is a fake one in a thread of this test, listening on
 * 127.0.0.1 (a port the kernel picks) and answering canned responses by
 * method and path.  Like registry 2.8, it rewrites a manifest asked for
 * without the schema-2 type in Accept to schema 1, so a pass proves the
 * Accept header; it records every request (and its Accept), and how many
 * bytes of an endless body it sent before the client hung up.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/check.h"
#include "core/phase.h"
#include "lib/fsutil.h"
#include "lib/git.h"
#include "lib/http.h"
#include "lib/registry.h"
#include "lib/strbuf.h"
#include "lib/timeutil.h"
#include "lib/xalloc.h"

extern const struct check_kind check_task_definition, check_registry_image;

static char *repo_root(void)
{
	const char *root = getenv("PHASELAB_ROOT");
	return xstrdup(root && *root ? root : ".");
}

static void write_file(const char *path, const char *text)
{
	if (write_file_atomic(path, text, strlen(text)) < 0)
		fail_msg("cannot write '%s': %s", path, strerror(errno));
}

/* A scratch folder with the service folder "backend" in it. */
struct scratch {
	char *tmp;
	char *service;
};

static void scratch_make(struct scratch *s)
{
	char tmpl[] = "/tmp/phaselab-test-deploy-XXXXXX";

	if (!mkdtemp(tmpl))
		fail_msg("mkdtemp: %s", strerror(errno));
	s->tmp = xstrdup(tmpl);
	s->service = xasprintf("%s/backend", s->tmp);
	if (mkdir(s->service, 0755) < 0)
		fail_msg("mkdir: %s", strerror(errno));
}

static void scratch_remove(struct scratch *s)
{
	remove_tree(s->tmp);
	free(s->tmp);
	free(s->service);
}


/* Run kind's check once on dir and image with params (JSON text, NULL: the defaults). */
static void run_kind(const struct check_kind *kind, const char *dir, json_t *image, const char *params,
		     long timeout_ms, struct check_ctx *ctx, struct check_result *res)
{
	struct check_def def;
	json_error_t je;

	memset(&def, 0, sizeof(def));
	memset(res, 0, sizeof(*res));
	def.id = (char *)(kind == &check_task_definition ? "taskdef" : "published");
	def.title = def.id;
	def.kind = kind;
	def.timeout_ms = timeout_ms;
	def.params = json_loads(params ? params : "{}", 0, &je);
	if (!def.params)
		fail_msg("params: %s", je.text);
	memset(ctx, 0, sizeof(*ctx));
	ctx->dir = dir;
	ctx->image = image;
	kind->run(ctx, &def, res);
	json_decref(def.params);
	if (!res->message)
		fail_msg("%s reported nothing", kind->name);
	/* PHASELAB_TEST_SHOW=1: every result, to read what a learner would */
	if (getenv("PHASELAB_TEST_SHOW"))
		fprintf(stderr, "  %s: %s%s%s\n", check_status_name(res->status), res->message,
			res->hint ? "\n    hint: " : "", res->hint ? res->hint : "");
	if (res->cause)
		assert_true(kind_has_cause(kind, res->cause));
}

static void assert_contains(const char *what, const char *text, const char *piece)
{
	if (!piece)
		return;
	if (!text || !strstr(text, piece))
		fail_msg("%s '%s' does not hold '%s'", what, text ? text : "(none)", piece);
}

static const char *status_name(enum check_status s)
{
	return check_status_name(s);
}

/* ============================ the task definition =============================== */

enum image_variant {
	IMG_REFERENCE,      /* CMD-SHELL curl -f, 30 s / 5 s / 60 s / 3, NODE_ENV, 3000, USER node */
	IMG_EXEC_FORM,      /* the probe as CMD ["curl", "-f", url] */
	IMG_NO_HEALTHCHECK,
	IMG_DOCKER_TIMEOUT, /* --timeout not given: Docker's 30 s */
};

static json_t *backend_image(enum image_variant v)
{
	json_t *hc = NULL;

	if (v == IMG_EXEC_FORM)
		hc = json_pack("{s:[s,s,s,s], s:I, s:I, s:I, s:i}", "Test", "CMD", "curl", "-f",
			       "http://localhost:3000/health", "Interval", 30000000000LL, "Timeout", 5000000000LL,
			       "StartPeriod", 60000000000LL, "Retries", 3);
	else if (v != IMG_NO_HEALTHCHECK)
		hc = json_pack("{s:[s,s], s:I, s:I, s:I, s:i}", "Test", "CMD-SHELL",
			       "curl -f http://localhost:3000/health || exit 1", "Interval", 30000000000LL, "Timeout",
			       v == IMG_DOCKER_TIMEOUT ? 0LL : 5000000000LL, "StartPeriod", 60000000000LL, "Retries", 3);
	return json_pack("{s:s, s:s, s:s, s:{s:s, s:[s,s,s], s:{s:{}}, s:[s,s], s:o*}, s:{s:s, s:[s]}}",
			 "Id", "sha256:1111111111111111111111111111111111111111111111111111111111111111",
			 "Os", "linux", "Architecture", "amd64",
			 "Config", "User", "node",
			 "Env", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "NODE_VERSION=18.20.4",
			 "NODE_ENV=production",
			 "ExposedPorts", "3000/tcp",
			 "Cmd", "node", "dist/main",
			 "Healthcheck", hc,
			 "RootFS", "Type", "layers", "Layers",
			 "sha256:2222222222222222222222222222222222222222222222222222222222222222");
}

struct taskdef_case {
	const char *name;
	const char *fixture;           /* tests/fixtures/taskdef/<fixture>.json; NULL: none written */
	enum image_variant image;
	const char *params;
	enum check_status status;
	const char *cause;
	const char *message;           /* pieces the message must hold */
	const char *message2;
	const char *field;             /* the evidence's "field" */
};

static const struct taskdef_case taskdef_cases[] = {
	{ "the reference passes", "good", IMG_REFERENCE, NULL, CHECK_PASS, NULL,
	  "mirrors the image: containerDefinitions[0] (backend) probes with the image's CMD-SHELL "
	  "`curl -f http://localhost:3000/health || exit 1`", "interval 30 s, timeout 5 s, retries 3, startPeriod 60 s",
	  NULL },
	{ "a placeholder is named as such", "good", IMG_REFERENCE, NULL, CHECK_PASS, NULL,
	  "image <IMAGE>, a placeholder the deploy step renders", "NODE_ENV=production, user node", NULL },
	{ "a placeholder as the tag", "image-placeholder-tag", IMG_REFERENCE, NULL, CHECK_PASS, NULL,
	  "a placeholder the deploy step renders", NULL, NULL },
	{ "a commit tag passes", "image-tagged", IMG_REFERENCE, NULL, CHECK_PASS, NULL,
	  "image 127.0.0.1:5000/prod-e-backend:3f2a9c1", NULL, NULL },
	{ "a digest passes", "image-digest", IMG_REFERENCE, NULL, CHECK_PASS, NULL, "@sha256:abab", NULL, NULL },
	{ "blanks in the shell line do not count", "probe-blanks", IMG_REFERENCE, NULL, CHECK_PASS, NULL,
	  "mirrors the image", NULL, NULL },
	{ "timeout absent: ECS's 5 s equals the image's", "timeout-absent", IMG_REFERENCE, NULL, CHECK_PASS, NULL,
	  "timeout 5 s", NULL, NULL },
	{ "a non-essential sidecar is left aside", "sidecar", IMG_REFERENCE, NULL, CHECK_PASS, NULL,
	  "containerDefinitions[0] (backend)", NULL, NULL },
	{ "of two essential, the one named like the service", "two-essential-named", IMG_REFERENCE, NULL, CHECK_PASS,
	  NULL, "containerDefinitions[1] (backend)", NULL, NULL },

	{ "no file", NULL, IMG_REFERENCE, NULL, CHECK_FAIL, "missing", "no deploy/task-definition.json in the service "
	  "folder", NULL, NULL },
	{ "another path", "good", IMG_REFERENCE, "{\"path\": \"ecs/td.json\"}", CHECK_FAIL, "missing",
	  "no ecs/td.json", NULL, NULL },
	{ "not JSON: line and column", "not-json", IMG_REFERENCE, NULL, CHECK_FAIL, "not-json",
	  "deploy/task-definition.json is not JSON: line 4, column", NULL, NULL },
	{ "\"interval\": \"30s\"", "interval-string", IMG_REFERENCE, NULL, CHECK_FAIL, "invalid",
	  "containerDefinitions[0].healthCheck.interval is \"30s\" (a string): it must be an integer number of seconds, "
	  "5 to 300", NULL, "containerDefinitions[0].healthCheck.interval" },
	{ "interval 400 is out of range", "interval-400", IMG_REFERENCE, NULL, CHECK_FAIL, "invalid",
	  "containerDefinitions[0].healthCheck.interval is 400: ECS documents 5 to 300 seconds", NULL,
	  "containerDefinitions[0].healthCheck.interval" },
	{ "retries 0 is out of range", "retries-0", IMG_REFERENCE, NULL, CHECK_FAIL, "invalid",
	  "healthCheck.retries is 0: ECS documents 1 to 10", NULL, NULL },
	{ "a command not starting with CMD", "command-first-curl", IMG_REFERENCE, NULL, CHECK_FAIL, "invalid",
	  "containerDefinitions[0].healthCheck.command[0] is \"curl\": it must be \"CMD\"", NULL, NULL },
	{ "protocol http", "protocol-http", IMG_REFERENCE, NULL, CHECK_FAIL, "invalid",
	  "portMappings[0].protocol is \"http\": it must be \"tcp\" or \"udp\"", NULL, NULL },
	{ "an environment value that is a number", "env-number", IMG_REFERENCE, NULL, CHECK_FAIL, "invalid",
	  "containerDefinitions[0].environment[0].value is 3000 (an integer): it must be a string", NULL, NULL },
	{ "essential as a string", "essential-string", IMG_REFERENCE, NULL, CHECK_FAIL, "invalid",
	  "containerDefinitions[0].essential is \"yes\" (a string): it must be true or false", NULL, NULL },
	{ "no family", "no-family", IMG_REFERENCE, NULL, CHECK_FAIL, "invalid",
	  "family is missing: register-task-definition requires it", NULL, "family" },
	{ "describe-task-definition's output", "describe-output", IMG_REFERENCE, NULL, CHECK_FAIL, "invalid",
	  "describe-task-definition's output", NULL, NULL },
	{ "a digest that is not 64 hex digits", "image-bad-digest", IMG_REFERENCE, NULL, CHECK_FAIL, "invalid",
	  "containerDefinitions[0].image is \"prod-e-backend@sha256:abc\"", "64 lowercase hex digits", NULL },

	{ "interval 10 against the image's 30", "interval-10", IMG_REFERENCE, NULL, CHECK_FAIL, "timing-differs",
	  "containerDefinitions[0].healthCheck.interval is 10 s; the image's HEALTHCHECK has 30 s (--interval=30s)",
	  NULL, "containerDefinitions[0].healthCheck.interval" },
	{ "startPeriod absent: ECS's default named", "startperiod-absent", IMG_REFERENCE, NULL, CHECK_FAIL,
	  "timing-differs", "healthCheck.startPeriod is not set, so ECS uses no start period (0 s); the image's "
	  "HEALTHCHECK has 60 s (--start-period=60s)", "ECS's defaults are not Docker's", NULL },
	{ "timeout absent against Docker's default", "timeout-absent", IMG_DOCKER_TIMEOUT, NULL, CHECK_FAIL,
	  "timing-differs", "healthCheck.timeout is not set, so ECS's default applies: 5 s; the image's HEALTHCHECK "
	  "has 30 s (Docker's default: the HEALTHCHECK sets no --timeout)", NULL, NULL },
	{ "a probe without -f", "probe-without-f", IMG_REFERENCE, NULL, CHECK_FAIL, "command-differs",
	  "containerDefinitions[0].healthCheck.command runs `curl http://localhost:3000/health || exit 1`; the image's "
	  "HEALTHCHECK runs `curl -f http://localhost:3000/health || exit 1`", NULL,
	  "containerDefinitions[0].healthCheck.command" },
	{ "CMD against CMD-SHELL", "exec-form", IMG_REFERENCE, NULL, CHECK_FAIL, "command-differs",
	  "healthCheck.command is exec form (CMD)", "the image's HEALTHCHECK is shell form (CMD-SHELL)", NULL },
	{ "CMD lists element by element", "exec-form", IMG_EXEC_FORM, NULL, CHECK_PASS, NULL, "probes with the "
	  "image's CMD `[\"CMD\", \"curl\", \"-f\", \"http://localhost:3000/health\"]`", NULL, NULL },
	{ "an image without a HEALTHCHECK", "good", IMG_NO_HEALTHCHECK, NULL, CHECK_FAIL, "command-differs",
	  "the image has no HEALTHCHECK", NULL, NULL },
	{ "no healthCheck", "no-healthcheck", IMG_REFERENCE, NULL, CHECK_FAIL, "no-healthcheck",
	  "containerDefinitions[0] (backend) has no healthCheck: ECS ignores the image's HEALTHCHECK", NULL, NULL },
	{ "port 3000 missing", "port-missing", IMG_REFERENCE, NULL, CHECK_FAIL, "port-missing",
	  "containerDefinitions[0].portMappings has no containerPort 3000 (it holds 8080)", NULL, NULL },
	{ "NODE_ENV missing", "env-missing", IMG_REFERENCE, NULL, CHECK_FAIL, "env-missing",
	  "containerDefinitions[0].environment has no NODE_ENV; the image sets NODE_ENV=production", NULL, NULL },
	{ "NODE_ENV another value", "env-wrong", IMG_REFERENCE, NULL, CHECK_FAIL, "env-missing",
	  "sets NODE_ENV=development; the image sets NODE_ENV=production", NULL, NULL },
	{ "user root", "user-root", IMG_REFERENCE, NULL, CHECK_FAIL, "user-root",
	  "containerDefinitions[0].user is \"root\": the container would run as root, whatever the image's USER (node)",
	  NULL, NULL },
	{ "user 0:0", "user-0-0", IMG_REFERENCE, NULL, CHECK_FAIL, "user-root", "user is \"0:0\"", NULL, NULL },
	{ "image :latest", "image-latest", IMG_REFERENCE, NULL, CHECK_FAIL, "image-tag",
	  "containerDefinitions[0].image is \"127.0.0.1:5000/prod-e-backend:latest\": latest names no particular build",
	  NULL, NULL },
	{ "an untagged image", "image-untagged", IMG_REFERENCE, NULL, CHECK_FAIL, "image-tag",
	  "is \"127.0.0.1:5000/prod-e-backend\", with no tag: ECS then pulls :latest", NULL, NULL },
	{ "two essential, none named like the service", "two-essential", IMG_REFERENCE, NULL, CHECK_FAIL,
	  "container-ambiguous", "containerDefinitions holds 2 essential containers (api, worker) and none is named "
	  "like the service (backend)", NULL, NULL },
};

/*
 * The hints of the bundled phase for res's cause (phases/PHASE/phase.json,
 * check id): every {placeholder} in its tiers is a key the result's evidence
 * holds as a string or a number, so `phaselab hint` never shows a key's name
 * in words instead of what was measured.
 */
static void assert_tiers_filled(const char *phase_dir, const char *check_id, const struct check_result *res)
{
	char *root = repo_root();
	char *file = xasprintf("%s/phases/%s/phase.json", root, phase_dir);
	struct strbuf err = STRBUF_INIT;
	struct phase ph;
	int found = 0;

	memset(&ph, 0, sizeof(ph));
	if (phase_load_file(file, &ph, &err) < 0)
		fail_msg("%s", err.buf);
	for (size_t i = 0; i < ph.nchecks; i++) {
		const struct check_def *d = &ph.checks[i];
		if (strcmp(d->id, check_id))
			continue;
		for (size_t c = 0; c < d->ncauses; c++) {
			if (strcmp(d->causes[c].id, res->cause))
				continue;
			found = 1;
			for (size_t t = 0; t < d->causes[c].ntiers; t++) {
				const char *p = d->causes[c].tiers[t];
				while ((p = strchr(p, '{'))) {
					size_t n = 0;
					if (p[1] == '{') {
						/* "{{...}}" is text (a Go template in a command) */
						const char *end = strstr(p, "}}");
						p = end ? end + 2 : p + 2;
						continue;
					}
					while (p[1 + n] && (islower((unsigned char)p[1 + n]) || isdigit((unsigned char)p[1 + n]) ||
							    p[1 + n] == '_' || p[1 + n] == '-'))
						n++;
					if (n && p[1 + n] == '}') {
						char *key = xstrndup(p + 1, n);
						json_t *v = json_object_get(res->evidence, key);
						if (!json_is_string(v) && !json_is_number(v))
							fail_msg("%s's hint for %s quotes {%s}, which the evidence lacks (%s)",
								 check_id, res->cause, key, res->message);
						free(key);
					}
					p++;
				}
			}
		}
	}
	/* a cause the phase has no tiers for falls back to its generic hints: allowed */
	(void)found;
	phase_release(&ph);
	strbuf_release(&err);
	free(file);
	free(root);
}

static void run_taskdef_case(const struct taskdef_case *c)
{
	struct scratch s;
	struct check_ctx ctx;
	struct check_result res;
	json_t *image = backend_image(c->image);

	scratch_make(&s);
	if (c->fixture) {
		char *root = repo_root();
		char *src = xasprintf("%s/tests/fixtures/taskdef/%s.json", root, c->fixture);
		char *dst = xasprintf("%s/deploy/task-definition.json", s.service);
		struct strbuf text = STRBUF_INIT;
		char *deploy = xasprintf("%s/deploy", s.service);

		if (read_file_nofollow(src, 1 << 20, &text) < 0)
			fail_msg("cannot read '%s'", src);
		mkdir(deploy, 0755);
		write_file(dst, text.buf);
		strbuf_release(&text);
		free(deploy);
		free(src);
		free(dst);
		free(root);
	}
	run_kind(&check_task_definition, s.service, image, c->params, 10000, &ctx, &res);
	if (res.status != c->status)
		fail_msg("%s: %s, not %s: %s", c->name, status_name(res.status), status_name(c->status), res.message);
	if ((c->cause || res.cause) && (!c->cause || !res.cause || strcmp(c->cause, res.cause)))
		fail_msg("%s: cause %s, not %s (%s)", c->name, res.cause ? res.cause : "(none)",
			 c->cause ? c->cause : "(none)", res.message);
	assert_contains(c->name, res.message, c->message);
	assert_contains(c->name, res.message, c->message2);
	if (c->field)
		assert_contains("field", json_string_value(json_object_get(res.evidence, "field")), c->field);
	if (res.status == CHECK_FAIL)
		assert_non_null(json_object_get(res.evidence, "path"));
	/* a failure names the field for the hints (but a missing or unreadable file) */
	if (res.status == CHECK_FAIL && strcmp(res.cause, "missing") && strcmp(res.cause, "not-json"))
		assert_non_null(json_string_value(json_object_get(res.evidence, "field")));
	if (res.status == CHECK_FAIL)
		assert_tiers_filled("11-task-definition", "taskdef", &res);
	check_result_release(&res);
	json_decref(image);
	scratch_remove(&s);
}

static void test_taskdef_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(taskdef_cases) / sizeof(taskdef_cases[0]); i++)
		run_taskdef_case(&taskdef_cases[i]);
}

/* A 50 MB file is refused from its size, unread: fast. */
static void test_taskdef_huge(void **state)
{
	struct scratch s;
	struct check_ctx ctx;
	struct check_result res;
	json_t *image = backend_image(IMG_REFERENCE);
	char *deploy, *path;
	long long t0;
	int fd;

	(void)state;
	scratch_make(&s);
	deploy = xasprintf("%s/deploy", s.service);
	path = xasprintf("%s/task-definition.json", deploy);
	mkdir(deploy, 0755);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	/* a real 50 MB of JSON-looking text would take as long to write as to read: its size is what counts */
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 50LL * 1000 * 1000), 0);
	assert_int_equal(pwrite(fd, "{\"family\": \"", 12, 0), 12);
	close(fd);
	t0 = now_ms();
	run_kind(&check_task_definition, s.service, image, NULL, 10000, &ctx, &res);
	assert_int_equal(res.status, CHECK_FAIL);
	assert_string_equal(res.cause, "not-json");
	assert_contains("message", res.message, "deploy/task-definition.json is 50.0 MB (50000000 bytes), over the "
			"1024 KB this check reads: refused unread");
	assert_true(now_ms() - t0 < 500);
	check_result_release(&res);
	free(deploy);
	free(path);
	json_decref(image);
	scratch_remove(&s);
}

/* Symbolic links: one out of the folder is refused and its target never named; one inside is followed. */
static void test_taskdef_symlinks(void **state)
{
	struct scratch s;
	struct check_ctx ctx;
	struct check_result res;
	json_t *image = backend_image(IMG_REFERENCE);
	char *root = repo_root();
	char *good = xasprintf("%s/tests/fixtures/taskdef/good.json", root);
	char *outside, *deploy, *link, *inside;
	struct strbuf text = STRBUF_INIT;

	(void)state;
	scratch_make(&s);
	outside = xasprintf("%s/secret-elsewhere.json", s.tmp);
	if (read_file_nofollow(good, 1 << 20, &text) < 0)
		fail_msg("cannot read '%s'", good);
	write_file(outside, text.buf);
	deploy = xasprintf("%s/deploy", s.service);
	link = xasprintf("%s/task-definition.json", deploy);
	mkdir(deploy, 0755);
	assert_int_equal(symlink(outside, link), 0);
	run_kind(&check_task_definition, s.service, image, NULL, 10000, &ctx, &res);
	assert_int_equal(res.status, CHECK_FAIL);
	assert_string_equal(res.cause, "missing");
	assert_contains("message", res.message, "leads out of the service folder through a symbolic link: not followed");
	if (strstr(res.message, "secret-elsewhere"))
		fail_msg("the message names the link's target: %s", res.message);
	check_result_release(&res);

	/* a link to ../ via a relative path, the same */
	unlink(link);
	assert_int_equal(symlink("../../secret-elsewhere.json", link), 0);
	run_kind(&check_task_definition, s.service, image, NULL, 10000, &ctx, &res);
	assert_int_equal(res.status, CHECK_FAIL);
	assert_contains("message", res.message, "not followed");
	check_result_release(&res);

	/* inside the folder: read */
	unlink(link);
	inside = xasprintf("%s/td-real.json", s.service);
	write_file(inside, text.buf);
	assert_int_equal(symlink("../td-real.json", link), 0);
	run_kind(&check_task_definition, s.service, image, NULL, 10000, &ctx, &res);
	assert_int_equal(res.status, CHECK_PASS);
	check_result_release(&res);

	/* a folder named like the file */
	unlink(link);
	assert_int_equal(mkdir(link, 0755), 0);
	run_kind(&check_task_definition, s.service, image, NULL, 10000, &ctx, &res);
	assert_int_equal(res.status, CHECK_FAIL);
	assert_contains("message", res.message, "is not a file (a folder)");
	check_result_release(&res);

	/* a phase path out of the folder is the phase's mistake */
	run_kind(&check_task_definition, s.service, image, "{\"path\": \"../secret-elsewhere.json\"}", 10000, &ctx, &res);
	assert_int_equal(res.status, CHECK_ERROR);
	check_result_release(&res);

	strbuf_release(&text);
	free(inside);
	free(deploy);
	free(link);
	free(outside);
	free(good);
	free(root);
	json_decref(image);
	scratch_remove(&s);
}

/* ============================ the registry client ================================ */

static void test_image_refs(void **state)
{
	static const struct {
		const char *ref;
		int ok;
		const char *name, *tag, *digest;
	} rows[] = {
		{ "prod-e-backend:3f2a9c1", 1, "prod-e-backend", "3f2a9c1", "" },
		{ "127.0.0.1:5000/prod-e-backend", 1, "127.0.0.1:5000/prod-e-backend", "", "" },
		{ "127.0.0.1:5000/prod-e-backend:latest", 1, "127.0.0.1:5000/prod-e-backend", "latest", "" },
		{ "localhost/team/app:v1.2", 1, "localhost/team/app", "v1.2", "" },
		{ "123456789012.dkr.ecr.eu-west-1.amazonaws.com/prod-e-backend:abc", 1,
		  "123456789012.dkr.ecr.eu-west-1.amazonaws.com/prod-e-backend", "abc", "" },
		{ "app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", 1, "app", "",
		  "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" },
		{ "app:v1@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", 1, "app", "v1",
		  "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" },
		{ "app@sha256:abc", 0, NULL, NULL, NULL },
		{ "app@sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef", 0, NULL, NULL, NULL },
		{ "Prod-E-Backend:1", 0, NULL, NULL, NULL },
		{ "app:", 0, NULL, NULL, NULL },
		{ "app:-x", 0, NULL, NULL, NULL },
		{ "app name:1", 0, NULL, NULL, NULL },
		{ "", 0, NULL, NULL, NULL },
		{ "a//b:1", 0, NULL, NULL, NULL },
		{ "app--x_y.z__w:1", 1, "app--x_y.z__w", "1", "" },
		{ "app___x:1", 0, NULL, NULL, NULL },
		/* the host part is a host name with an optional port */
		{ "a%b.com/x:1", 0, NULL, NULL, NULL },
		{ "ex_ample.com/x", 0, NULL, NULL, NULL },
		{ "-bad.com/x", 0, NULL, NULL, NULL },
		{ "127.0.0.1:50x0/x", 0, NULL, NULL, NULL },
		{ "registry-1.example.com:443/team/x:1", 1, "registry-1.example.com:443/team/x", "1", "" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct strbuf err = STRBUF_INIT;
		struct image_ref r;
		int rc = image_ref_parse(rows[i].ref, &r, &err);

		if ((rc == 0) != rows[i].ok)
			fail_msg("'%s': %s (%s)", rows[i].ref, rc ? "refused" : "accepted", err.buf);
		if (rows[i].ok) {
			assert_string_equal(r.name, rows[i].name);
			assert_string_equal(r.tag, rows[i].tag);
			assert_string_equal(r.digest, rows[i].digest);
		} else {
			assert_true(err.len > 0);
		}
		strbuf_release(&err);
	}
}

static void test_registry_names(void **state)
{
	static const struct {
		const char *name;
		int ok;
		const char *base;
	} rows[] = {
		{ "127.0.0.1:5000", 1, "http://127.0.0.1:5000" },
		{ "localhost:5000/", 1, "http://localhost:5000" },
		{ "http://127.0.0.1:5000", 1, "http://127.0.0.1:5000" },
		{ "[::1]:5000", 1, "http://[::1]:5000" },
		{ "registry.example.com", 1, "https://registry.example.com" },
		{ "https://registry.example.com:443", 1, "https://registry.example.com:443" },
		{ "http://registry.example.com", 0, NULL },
		{ "127.example.com:5000", 1, "https://127.example.com:5000" },
		{ "http://127.example.com", 0, NULL },
		{ "127.1.2.3:5000", 1, "http://127.1.2.3:5000" },
		{ "user:secret@127.0.0.1:5000", 0, NULL },
		{ "127.0.0.1:5000/v2/x", 0, NULL },
		{ "", 0, NULL },
		{ "https://", 0, NULL },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct strbuf err = STRBUF_INIT;
		struct registry r;
		int rc = registry_open(&r, rows[i].name, 1000, &err);

		if ((rc == 0) != rows[i].ok)
			fail_msg("'%s': %s (%s)", rows[i].name, rc ? "refused" : "accepted", err.buf);
		if (rows[i].ok)
			assert_string_equal(r.base, rows[i].base);
		if (!strcmp(rows[i].name, "user:secret@127.0.0.1:5000") && strstr(err.buf, "secret"))
			fail_msg("the message repeats the password: %s", err.buf);
		registry_release(&r);
		strbuf_release(&err);
	}
	assert_true(registry_repo_valid("prod-e-backend"));
	assert_true(registry_repo_valid("class-2027/alice/prod-e-backend"));
	assert_false(registry_repo_valid("prod-e-Alice"));
	assert_false(registry_repo_valid("../x"));
	assert_false(registry_repo_valid("x/"));
}

/* ============================ a fake registry ==================================== */

enum digest_header { DIGEST_RIGHT, DIGEST_NONE, DIGEST_WRONG };

struct route {
	char method[8];
	char path[400];
	int status;
	char content_type[128];
	struct strbuf body;
	enum digest_header digest;
	char headers[512];        /* more header lines, each ending in \r\n */
	long long stream;         /* > 0: this many bytes of filler, no Content-Length */
};

struct fake_registry {
	int fd, port;
	pthread_t thread;
	pthread_mutex_t lock;
	int stop;
	struct route routes[24];
	size_t nroutes;
	struct strbuf log;        /* "GET /v2/ accept=...\n" per request */
	long long streamed;       /* filler bytes sent before the client hung up */
	unsigned requests;
};

static struct route *route_add(struct fake_registry *fr, const char *method, const char *path, int status,
			       const char *content_type, const char *body)
{
	struct route *r;

	pthread_mutex_lock(&fr->lock);
	assert_true(fr->nroutes < sizeof(fr->routes) / sizeof(fr->routes[0]));
	r = &fr->routes[fr->nroutes++];
	memset(r, 0, sizeof(*r));
	snprintf(r->method, sizeof(r->method), "%s", method);
	snprintf(r->path, sizeof(r->path), "%s", path);
	r->status = status;
	snprintf(r->content_type, sizeof(r->content_type), "%s", content_type ? content_type : "");
	strbuf_init(&r->body, 0);
	if (body)
		strbuf_addstr(&r->body, body);
	pthread_mutex_unlock(&fr->lock);
	return r;
}

static const char *reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 202: return "Accepted";
	case 307: return "Temporary Redirect";
	case 401: return "Unauthorized";
	case 404: return "Not Found";
	case 500: return "Internal Server Error";
	default: return "Status";
	}
}

static void send_all(int fd, const char *data, size_t len)
{
	while (len) {
		ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
		if (n <= 0)
			return;
		data += n;
		len -= (size_t)n;
	}
}

/* Registry 2.8's schema-1 answer to a manifest asked for by tag without the schema-2 type. */
static const char schema1[] = "{\"schemaVersion\": 1, \"name\": \"x\", \"tag\": \"t\", \"fsLayers\": [], "
	"\"history\": [], \"signatures\": []}";

static void serve_one(struct fake_registry *fr, int c)
{
	char req[8192], method[16] = "", path[1024] = "", accept[1024] = "";
	struct strbuf head = STRBUF_INIT;
	struct route *r = NULL, fallback;
	size_t got = 0;
	char *line;

	/* the request's head; no request here has a body */
	while (got < sizeof(req) - 1) {
		struct pollfd p = { c, POLLIN, 0 };
		ssize_t n;

		if (poll(&p, 1, 2000) <= 0)
			break;
		n = recv(c, req + got, sizeof(req) - 1 - got, 0);
		if (n <= 0)
			break;
		got += (size_t)n;
		req[got] = '\0';
		if (strstr(req, "\r\n\r\n"))
			break;
	}
	req[got] = '\0';
	sscanf(req, "%15s %1023s", method, path);
	for (line = strstr(req, "\r\n"); line; line = strstr(line + 2, "\r\n"))
		if (!strncasecmp(line + 2, "Accept:", 7)) {
			const char *v = line + 9, *e = strstr(v, "\r\n");
			while (*v == ' ')
				v++;
			snprintf(accept, sizeof(accept), "%.*s", e ? (int)(e - v) : (int)strlen(v), v);
		}

	pthread_mutex_lock(&fr->lock);
	fr->requests++;
	strbuf_addf(&fr->log, "%s %s accept=%s\n", method, path, accept);
	for (size_t i = 0; i < fr->nroutes; i++)
		if (!strcmp(fr->routes[i].method, method) && !strcmp(fr->routes[i].path, path)) {
			r = &fr->routes[i];
			break;
		}
	pthread_mutex_unlock(&fr->lock);

	memset(&fallback, 0, sizeof(fallback));
	strbuf_init(&fallback.body, 0);
	if (!r) {
		fallback.status = 404;
		snprintf(fallback.content_type, sizeof(fallback.content_type), "application/json");
		strbuf_addstr(&fallback.body, "{\"errors\":[{\"code\":\"MANIFEST_UNKNOWN\",\"message\":\"manifest unknown\"}]}");
		fallback.digest = DIGEST_NONE;
		r = &fallback;
	} else if (strstr(path, "/manifests/") && !strstr(accept, "application/vnd.docker.distribution.manifest.v2+json") &&
		   r->status == 200 && !r->stream) {
		/* the pitfall, as registry 2.8 has it */
		fallback.status = 200;
		snprintf(fallback.content_type, sizeof(fallback.content_type),
			 "application/vnd.docker.distribution.manifest.v1+prettyjws");
		strbuf_addstr(&fallback.body, schema1);
		r = &fallback;
	}

	strbuf_addf(&head, "HTTP/1.1 %d %s\r\nConnection: close\r\nDocker-Distribution-API-Version: registry/2.0\r\n",
		    r->status, reason(r->status));
	if (*r->content_type)
		strbuf_addf(&head, "Content-Type: %s\r\n", r->content_type);
	if (r->digest != DIGEST_NONE && r->body.len && !r->stream) {
		char d[72];
		registry_sha256(r->body.buf, r->body.len, d);
		if (r->digest == DIGEST_WRONG)
			d[7] = d[7] == '0' ? '1' : '0';
		strbuf_addf(&head, "Docker-Content-Digest: %s\r\n", d);
	}
	strbuf_addstr(&head, r->headers);
	if (!r->stream)
		strbuf_addf(&head, "Content-Length: %zu\r\n", r->body.len);
	strbuf_addstr(&head, "\r\n");
	send_all(c, head.buf, head.len);
	if (r->stream) {
		static char filler[65536];
		long long sent = 0;

		memset(filler, ' ', sizeof(filler));
		filler[0] = '{';
		while (sent < r->stream) {
			size_t want = r->stream - sent < (long long)sizeof(filler) ? (size_t)(r->stream - sent) : sizeof(filler);
			ssize_t n = send(c, filler, want, MSG_NOSIGNAL);
			if (n <= 0)
				break;
			sent += n;
		}
		pthread_mutex_lock(&fr->lock);
		fr->streamed = sent;
		pthread_mutex_unlock(&fr->lock);
	} else {
		send_all(c, r->body.buf, r->body.len);
	}
	strbuf_release(&head);
	strbuf_release(&fallback.body);
}

static void *serve(void *arg)
{
	struct fake_registry *fr = arg;

	for (;;) {
		struct pollfd p = { fr->fd, POLLIN, 0 };
		int stop, c;

		pthread_mutex_lock(&fr->lock);
		stop = fr->stop;
		pthread_mutex_unlock(&fr->lock);
		if (stop)
			break;
		if (poll(&p, 1, 20) <= 0)
			continue;
		c = accept(fr->fd, NULL, NULL);
		if (c < 0)
			continue;
		serve_one(fr, c);
		close(c);
	}
	return NULL;
}

static void fake_registry_start(struct fake_registry *fr)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	int one = 1;

	memset(fr, 0, sizeof(*fr));
	pthread_mutex_init(&fr->lock, NULL);
	strbuf_init(&fr->log, 0);
	fr->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fr->fd >= 0);
	setsockopt(fr->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = 0;
	assert_int_equal(bind(fr->fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(fr->fd, 16), 0);
	assert_int_equal(getsockname(fr->fd, (struct sockaddr *)&a, &len), 0);
	fr->port = ntohs(a.sin_port);
	route_add(fr, "GET", "/v2/", 200, "application/json; charset=utf-8", "{}");
	assert_int_equal(pthread_create(&fr->thread, NULL, serve, fr), 0);
}

static void fake_registry_stop(struct fake_registry *fr)
{
	pthread_mutex_lock(&fr->lock);
	fr->stop = 1;
	pthread_mutex_unlock(&fr->lock);
	pthread_join(fr->thread, NULL);
	close(fr->fd);
	for (size_t i = 0; i < fr->nroutes; i++)
		strbuf_release(&fr->routes[i].body);
	strbuf_release(&fr->log);
	pthread_mutex_destroy(&fr->lock);
}

/* A port where nothing listens: bound, then closed. */
static int dead_port(void)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	getsockname(fd, (struct sockaddr *)&a, &len);
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

/* ============================ the published image ================================= */

#define MT_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"

/* An image in the registry and the one built here: their layers, config and manifest. */
struct pushed {
	char diff[4][72];         /* the layers' diff ids */
	char config_digest[72];
	struct strbuf config;
	char manifest_digest[72];
	struct strbuf manifest;
};

static void make_pushed(struct pushed *p, const char *seed, int differ_from)
{
	json_t *diff = json_array(), *layers = json_array(), *cfg, *man;
	char *text;

	memset(p, 0, sizeof(*p));
	for (int i = 0; i < 4; i++) {
		/* the same layers as the image built here, but from differ_from on */
		char *what = xasprintf("layer %d%s%s", i, differ_from >= 0 && i >= differ_from ? " of " : "",
				       differ_from >= 0 && i >= differ_from ? seed : "");
		char blob[72];
		registry_sha256(what, strlen(what), p->diff[i]);
		registry_sha256(p->diff[i], 71, blob); /* the compressed blob has another digest */
		json_array_append_new(diff, json_string(p->diff[i]));
		json_array_append_new(layers, json_pack("{s:s, s:i, s:s}", "mediaType",
							"application/vnd.docker.image.rootfs.diff.tar.gzip", "size", 1000 + i,
							"digest", blob));
		free(what);
	}
	cfg = json_pack("{s:s, s:s, s:{s:s, s:o}, s:[{s:s}, {s:s, s:b}, {s:s}, {s:s}, {s:s}]}", "architecture", "amd64",
			"os", "linux", "rootfs", "type", "layers", "diff_ids", diff, "history",
			"created_by", "/bin/sh -c #(nop) ADD file:4b03b5f551e3fbdf47ec609712007327828f7530cc3455c43bbcdcaf449a75a9 in / ",
			"created_by", "/bin/sh -c #(nop)  CMD [\"bash\"]", "empty_layer", 1,
			"created_by", "RUN /bin/sh -c apt-get update && apt-get install -y curl # buildkit",
			"created_by", "COPY /app/dist ./dist # buildkit",
			"created_by", "COPY . . # buildkit");
	text = json_dumps(cfg, JSON_COMPACT);
	strbuf_init(&p->config, 0);
	strbuf_addstr(&p->config, text);
	free(text);
	registry_sha256(p->config.buf, p->config.len, p->config_digest);
	man = json_pack("{s:i, s:s, s:{s:s, s:i, s:s}, s:o}", "schemaVersion", 2, "mediaType", MT_MANIFEST, "config",
			"mediaType", "application/vnd.docker.container.image.v1+json", "size", (int)p->config.len,
			"digest", p->config_digest, "layers", layers);
	text = json_dumps(man, JSON_INDENT(3));
	strbuf_init(&p->manifest, 0);
	strbuf_addstr(&p->manifest, text);
	free(text);
	registry_sha256(p->manifest.buf, p->manifest.len, p->manifest_digest);
	json_decref(cfg);
	json_decref(man);
}

static void pushed_release(struct pushed *p)
{
	strbuf_release(&p->config);
	strbuf_release(&p->manifest);
}

/* The image built here: the pushed image's layers (p made with differ_from -1). */
static json_t *built_image(const struct pushed *p)
{
	json_t *layers = json_array();

	for (int i = 0; i < 4; i++)
		json_array_append_new(layers, json_string(p->diff[i]));
	return json_pack("{s:s, s:s, s:s, s:{s:s}, s:{s:s, s:o}}", "Id",
			 "sha256:1111111111111111111111111111111111111111111111111111111111111111", "Os", "linux",
			 "Architecture", "amd64", "Config", "User", "node", "RootFS", "Type", "layers", "Layers", layers);
}

/* The scratch service, a git repository with one commit; its short id. */
struct repo {
	struct scratch s;
	struct git_state git;
	char short_id[8];
};

static void make_repo(struct repo *r)
{
	struct strbuf err = STRBUF_INIT;
	char *file;

	scratch_make(&r->s);
	file = xasprintf("%s/Dockerfile", r->s.service);
	write_file(file, "FROM node:18-slim\n");
	free(file);
	if (git_init_commit(r->s.service, "the service", &err) < 0)
		fail_msg("git: %s", err.buf);
	assert_int_equal(git_describe_dir(r->s.service, &r->git), 1);
	memcpy(r->short_id, r->git.commit, 7);
	r->short_id[7] = '\0';
	strbuf_release(&err);
}

struct pub {
	struct fake_registry fr;
	struct repo repo;
	struct pushed here;       /* what the tree builds */
	json_t *image;
	char params[256];
	char manifest_path[400];  /* by the short id */
	char config_path[400];
	struct check_ctx ctx;
	struct check_result res;
};

/* A registry that serves repo prod-e-backend, and a tree; routes are the case's. */
static void pub_setup(struct pub *t)
{
	memset(t, 0, sizeof(*t));
	unsetenv("PHASELAB_REGISTRY");
	unsetenv("PHASELAB_LEARNER");
	fake_registry_start(&t->fr);
	make_repo(&t->repo);
	make_pushed(&t->here, "", -1);
	t->image = built_image(&t->here);
	snprintf(t->params, sizeof(t->params), "{\"registry\": \"127.0.0.1:%d\"}", t->fr.port);
	snprintf(t->manifest_path, sizeof(t->manifest_path), "/v2/prod-e-backend/manifests/%s", t->repo.short_id);
	snprintf(t->config_path, sizeof(t->config_path), "/v2/prod-e-backend/blobs/%s", t->here.config_digest);
}

static void pub_run(struct pub *t, long timeout_ms)
{
	run_kind(&check_registry_image, t->repo.s.service, t->image, t->params, timeout_ms, &t->ctx, &t->res);
}

static void pub_teardown(struct pub *t)
{
	check_result_release(&t->res);
	fake_registry_stop(&t->fr);
	pushed_release(&t->here);
	json_decref(t->image);
	scratch_remove(&t->repo.s);
	unsetenv("PHASELAB_REGISTRY");
	unsetenv("PHASELAB_LEARNER");
}

static void expect(struct pub *t, enum check_status st, const char *cause, const char *piece)
{
	if (t->res.status != st)
		fail_msg("%s, not %s: %s", status_name(t->res.status), status_name(st), t->res.message);
	if (cause && (!t->res.cause || strcmp(t->res.cause, cause)))
		fail_msg("cause %s, not %s: %s", t->res.cause ? t->res.cause : "(none)", cause, t->res.message);
	if (!cause && t->res.cause)
		fail_msg("cause %s, none expected: %s", t->res.cause, t->res.message);
	assert_contains("message", t->res.message, piece);
	if (st == CHECK_FAIL)
		assert_tiers_filled("12-publish", "published", &t->res);
}

/* The happy path: the manifest by the short id, its config, the same layers. */
static void test_published_pass(void **state)
{
	struct pub t;
	char want[200];

	(void)state;
	pub_setup(&t);
	route_add(&t.fr, "GET", t.manifest_path, 200, MT_MANIFEST, t.here.manifest.buf);
	route_add(&t.fr, "GET", t.config_path, 200, "application/octet-stream", t.here.config.buf);
	pub_run(&t, 5000);
	snprintf(want, sizeof(want), "the registry serves 127.0.0.1:%d/prod-e-backend:%s (manifest %s, 4 layers), the "
		 "image this tree builds", t.fr.port, t.repo.short_id, t.here.manifest_digest);
	expect(&t, CHECK_PASS, NULL, want);
	assert_false(t.ctx.env_broken);
	/* the schema-1 rewrite avoided: all four types asked for, and the registry's v1 never came */
	assert_contains("log", t.fr.log.buf, "accept=application/vnd.docker.distribution.manifest.v2+json, "
			"application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.manifest.v1+json, "
			"application/vnd.oci.image.index.v1+json");
	/* never a layer: the one blob asked for is the config */
	{
		const char *p = t.fr.log.buf;
		int blobs = 0;
		while ((p = strstr(p, "/blobs/"))) {
			blobs++;
			p++;
		}
		assert_int_equal(blobs, 1);
	}
	assert_string_equal(json_string_value(json_object_get(t.res.evidence, "manifest_digest")), t.here.manifest_digest);
	pub_teardown(&t);
}

/* Without the schema-2 type in Accept the fake (as registry 2.8) answers schema 1: the client says so. */
static void test_schema1_named(void **state)
{
	struct pub t;
	struct registry r;
	struct reg_manifest m;
	struct strbuf err = STRBUF_INIT;
	char base[64];

	(void)state;
	pub_setup(&t);
	route_add(&t.fr, "GET", t.manifest_path, 200, "application/vnd.docker.distribution.manifest.v1+prettyjws",
		  schema1);
	snprintf(base, sizeof(base), "127.0.0.1:%d", t.fr.port);
	assert_int_equal(registry_open(&r, base, 3000, &err), 0);
	assert_int_equal(registry_manifest(&r, "prod-e-backend", t.repo.short_id, "linux", "amd64", NULL, &m), REG_BAD);
	assert_contains("error", r.err.buf, "a schema-1 manifest");
	registry_release(&r);
	strbuf_release(&err);
	pub_teardown(&t);
}

/* An index: the linux/amd64 manifest, by its digest. */
static void test_published_index(void **state)
{
	struct pub t;
	char *index, path[400];
	char arm[72];

	(void)state;
	pub_setup(&t);
	registry_sha256("arm", 3, arm);
	index = xasprintf("{\"schemaVersion\": 2, \"mediaType\": \"%s\", \"manifests\": ["
			  "{\"mediaType\": \"%s\", \"digest\": \"%s\", \"size\": 500, \"platform\": {\"architecture\": \"arm64\", \"os\": \"linux\", \"variant\": \"v8\"}},"
			  "{\"mediaType\": \"%s\", \"digest\": \"%s\", \"size\": %zu, \"platform\": {\"architecture\": \"amd64\", \"os\": \"linux\"}},"
			  "{\"mediaType\": \"%s\", \"digest\": \"%s\", \"size\": 500, \"platform\": {\"architecture\": \"unknown\", \"os\": \"unknown\"}}]}",
			  MT_OCI_INDEX, MT_MANIFEST, arm, MT_MANIFEST, t.here.manifest_digest, t.here.manifest.len, MT_MANIFEST, arm);
	route_add(&t.fr, "GET", t.manifest_path, 200, MT_OCI_INDEX, index);
	snprintf(path, sizeof(path), "/v2/prod-e-backend/manifests/%s", t.here.manifest_digest);
	route_add(&t.fr, "GET", path, 200, MT_MANIFEST, t.here.manifest.buf);
	route_add(&t.fr, "GET", t.config_path, 200, "application/octet-stream", t.here.config.buf);
	pub_run(&t, 5000);
	expect(&t, CHECK_PASS, NULL, "linux/amd64, 4 layers), the image this tree builds");
	assert_contains("log", t.fr.log.buf, path);
	check_result_release(&t.res);

	/* an index with no image for this platform */
	free(index);
	index = xasprintf("{\"schemaVersion\": 2, \"mediaType\": \"%s\", \"manifests\": ["
			  "{\"mediaType\": \"%s\", \"digest\": \"%s\", \"size\": 500, \"platform\": {\"architecture\": \"arm64\", \"os\": \"linux\"}}]}",
			  MT_OCI_INDEX, MT_MANIFEST, arm);
	strbuf_reset(&t.fr.routes[1].body);
	strbuf_addstr(&t.fr.routes[1].body, index);
	pub_run(&t, 5000);
	expect(&t, CHECK_FAIL, "differs", "an index with no linux/amd64 image (it holds linux/arm64)");
	free(index);
	pub_teardown(&t);
}

/* Nothing tagged: not pushed, with the commands; only :latest: latest-only. */
static void test_published_not_pushed(void **state)
{
	struct pub t;
	char want[300];

	(void)state;
	pub_setup(&t);
	pub_run(&t, 5000);
	expect(&t, CHECK_FAIL, "not-pushed", "has no tag of commit");
	assert_contains("message", t.res.message, "the image was not pushed");
	snprintf(want, sizeof(want), "docker tag prod-e-backend:%s 127.0.0.1:%d/prod-e-backend:%s\ndocker push "
		 "127.0.0.1:%d/prod-e-backend:%s", t.repo.short_id, t.fr.port, t.repo.short_id, t.fr.port, t.repo.short_id);
	assert_contains("hint", t.res.hint, want);
	/* the short id, the full id, then latest */
	assert_contains("log", t.fr.log.buf, t.repo.git.commit);
	assert_contains("log", t.fr.log.buf, "/manifests/latest");
	assert_false(t.ctx.env_broken);
	check_result_release(&t.res);

	route_add(&t.fr, "GET", "/v2/prod-e-backend/manifests/latest", 200, MT_MANIFEST, t.here.manifest.buf);
	route_add(&t.fr, "GET", t.config_path, 200, "application/octet-stream", t.here.config.buf);
	pub_run(&t, 5000);
	expect(&t, CHECK_FAIL, "latest-only", "has :latest but no tag of commit");
	assert_contains("message", t.res.message, "specific version tag, never latest, for what is deployed");
	assert_contains("message", t.res.message, "its :latest is the image this tree builds");
	assert_contains("hint", t.res.hint, "docker push");
	pub_teardown(&t);
}

/* The full id as the tag is found too. */
static void test_published_full_id(void **state)
{
	struct pub t;
	char path[400];

	(void)state;
	pub_setup(&t);
	snprintf(path, sizeof(path), "/v2/prod-e-backend/manifests/%s", t.repo.git.commit);
	route_add(&t.fr, "GET", path, 200, MT_MANIFEST, t.here.manifest.buf);
	route_add(&t.fr, "GET", t.config_path, 200, "application/octet-stream", t.here.config.buf);
	pub_run(&t, 5000);
	expect(&t, CHECK_PASS, NULL, "(tagged with the full commit id)");
	pub_teardown(&t);
}

/* Other layers: how many match, and the step where they part. */
static void test_published_differs(void **state)
{
	struct pub t;
	struct pushed old;
	char path[400];

	(void)state;
	pub_setup(&t);
	make_pushed(&old, "yesterday", 3);
	snprintf(path, sizeof(path), "/v2/prod-e-backend/blobs/%s", old.config_digest);
	route_add(&t.fr, "GET", t.manifest_path, 200, MT_MANIFEST, old.manifest.buf);
	route_add(&t.fr, "GET", path, 200, "application/octet-stream", old.config.buf);
	pub_run(&t, 5000);
	expect(&t, CHECK_FAIL, "differs", "is not the image this tree builds: the first 3 of its 4 layers are this build's (of 4), "
	       "and from layer 4 on they differ (the registry's layer 4 was made by `COPY . .`)");
	assert_contains("message", t.res.message, "the registry's image is not what the tree builds");
	assert_contains("hint", t.res.hint, "build, tag and push again");
	assert_int_equal(json_integer_value(json_object_get(t.res.evidence, "matching_layers")), 3);
	check_result_release(&t.res);

	/* the tree changed too: the message says so */
	{
		char *f = xasprintf("%s/src.js", t.repo.s.service);
		write_file(f, "edited\n");
		free(f);
	}
	pub_run(&t, 5000);
	expect(&t, CHECK_FAIL, "differs", "the tree has changes beyond that commit");
	assert_contains("hint", t.res.hint, "commit your changes first");
	pushed_release(&old);
	pub_teardown(&t);
}

/* Answers the API does not give: an error of the item, never the learner's failure. */
static void test_published_bad_answers(void **state)
{
	static const struct {
		const char *name;
		int status;
		const char *content_type;
		const char *body;
		const char *headers;
		const char *message;
		int env_broken;
	} rows[] = {
		{ "an HTML page", 200, "text/html; charset=utf-8", "<!DOCTYPE html>\n<html><body>Welcome to nginx</body></html>",
		  "", "answered 200 (text/html; charset=utf-8), an HTML page, not the registry API's JSON", 0 },
		{ "a 500", 500, "text/plain", "internal error: storage driver down\n", "",
		  "answered 500 (text/plain): \"internal error: storage driver down\"", 0 },
		{ "not JSON", 200, MT_MANIFEST, "manifest follows", "", "with a body that is not JSON", 0 },
		{ "a redirect off this machine", 307, "text/plain", "", "Location: http://registry.example.com/v2/x\r\n",
		  "answered 307, a redirect to http://registry.example.com/v2/x: not followed (only a redirect to this "
		  "machine is)", 0 },
		{ "a redirect to a name that starts like loopback", 307, "text/plain", "",
		  "Location: http://127.0.0.1.example.com/v2/x\r\n", "a redirect to http://127.0.0.1.example.com/v2/x: not "
		  "followed", 0 },
		{ "a login wanted", 401, "application/json", "{\"errors\":[{\"code\":\"UNAUTHORIZED\"}]}",
		  "WWW-Authenticate: Bearer realm=\"https://auth.example.com/token\",service=\"registry\"\r\n",
		  "answered 401: the registry wants a login (Bearer authentication)", 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct pub t;
		struct route *r;

		pub_setup(&t);
		r = route_add(&t.fr, "GET", t.manifest_path, rows[i].status, rows[i].content_type, rows[i].body);
		snprintf(r->headers, sizeof(r->headers), "%s", rows[i].headers);
		pub_run(&t, 5000);
		if (t.res.status != CHECK_ERROR)
			fail_msg("%s: %s: %s", rows[i].name, status_name(t.res.status), t.res.message);
		assert_contains(rows[i].name, t.res.message, rows[i].message);
		assert_null(t.res.cause);
		assert_int_equal(t.ctx.env_broken, rows[i].env_broken);
		if (strstr(t.res.message, "auth.example.com"))
			fail_msg("the message repeats the realm: %s", t.res.message);
		pub_teardown(&t);
	}
}

/* A redirect to this machine is followed once, by hand. */
static void test_published_redirect_loopback(void **state)
{
	struct pub t;
	struct route *r;
	char path[400];

	(void)state;
	pub_setup(&t);
	r = route_add(&t.fr, "GET", t.manifest_path, 307, "text/plain", "");
	snprintf(r->headers, sizeof(r->headers), "Location: http://127.0.0.1:%d/elsewhere/manifest\r\n", t.fr.port);
	route_add(&t.fr, "GET", "/elsewhere/manifest", 200, MT_MANIFEST, t.here.manifest.buf);
	r = route_add(&t.fr, "GET", t.config_path, 307, "text/plain", "");
	snprintf(r->headers, sizeof(r->headers), "Location: /storage/config\r\n");
	route_add(&t.fr, "GET", "/storage/config", 200, "application/octet-stream", t.here.config.buf);
	pub_run(&t, 5000);
	expect(&t, CHECK_PASS, NULL, "the image this tree builds");
	check_result_release(&t.res);

	/* twice is refused */
	snprintf(path, sizeof(path), "%s", "/storage/config");
	r = &t.fr.routes[4];
	assert_string_equal(r->path, path);
	r->status = 307;
	snprintf(r->headers, sizeof(r->headers), "Location: /storage/config2\r\n");
	pub_run(&t, 5000);
	expect(&t, CHECK_ERROR, NULL, "a second redirect: not followed");
	pub_teardown(&t);
}

/* A 10 MB manifest: refused at the cap, fast, and the transfer stopped early. */
static void test_published_huge_manifest(void **state)
{
	struct pub t;
	struct route *r;
	long long t0, streamed;

	(void)state;
	pub_setup(&t);
	/* no Content-Length: only the cap can stop it */
	r = route_add(&t.fr, "GET", t.manifest_path, 200, MT_MANIFEST, NULL);
	r->stream = 10LL * 1000 * 1000;
	t0 = now_ms();
	pub_run(&t, 5000);
	expect(&t, CHECK_ERROR, NULL, "the answer is over the 4194304 bytes a manifest or a config may have");
	assert_contains("message", t.res.message, "the transfer was stopped there");
	assert_true(now_ms() - t0 < 2000);
	/* the server stops when the client hangs up: it never sent the 10 MB */
	for (int i = 0; i < 100; i++) {
		pthread_mutex_lock(&t.fr.lock);
		streamed = t.fr.streamed;
		pthread_mutex_unlock(&t.fr.lock);
		if (streamed)
			break;
		usleep(10000);
	}
	if (streamed <= 0 || streamed >= 10LL * 1000 * 1000)
		fail_msg("the server sent %lld bytes", streamed);
	check_result_release(&t.res);

	/* with a Content-Length, refused before the body */
	r->stream = 0;
	strbuf_reset(&r->body);
	for (int i = 0; i < 10 * 1000; i++)
		strbuf_addstr(&r->body, "                                                                                   "
			      "                                                                                    "
			      "                                                                                    "
			      "                                                                                    "
			      "                                                                                    "
			      "                                                                                    "
			      "                                                                                    "
			      "                                                                                    "
			      "                                                                                    "
			      "                                                                                    "
			      "                                                                                    "
			      "                                                                                    ");
	assert_true(r->body.len > (size_t)REGISTRY_BODY_MAX);
	pub_run(&t, 5000);
	expect(&t, CHECK_ERROR, NULL, "(Content-Length ");
	pub_teardown(&t);
}

/* A Docker-Content-Digest that is not the body's: refused, both digests named. */
static void test_published_digest_mismatch(void **state)
{
	struct pub t;
	struct route *r;

	(void)state;
	pub_setup(&t);
	r = route_add(&t.fr, "GET", t.manifest_path, 200, MT_MANIFEST, t.here.manifest.buf);
	r->digest = DIGEST_WRONG;
	pub_run(&t, 5000);
	expect(&t, CHECK_ERROR, NULL, "the Docker-Content-Digest header says sha256:");
	assert_contains("message", t.res.message, t.here.manifest_digest);
	check_result_release(&t.res);

	/* a config whose bytes are not its digest */
	r->digest = DIGEST_NONE;
	r = route_add(&t.fr, "GET", t.config_path, 200, "application/octet-stream", "{\"rootfs\": {\"diff_ids\": []}}");
	r->digest = DIGEST_NONE;
	pub_run(&t, 5000);
	expect(&t, CHECK_ERROR, NULL, "asked for sha256:");
	pub_teardown(&t);
}

/* Nothing listens: the environment's error (exit 3), with the command that starts a registry. */
static void test_published_refused(void **state)
{
	struct pub t;
	char reg[64];
	long long t0;

	(void)state;
	pub_setup(&t);
	snprintf(reg, sizeof(reg), "127.0.0.1:%d", dead_port());
	setenv("PHASELAB_REGISTRY", reg, 1);
	t0 = now_ms();
	pub_run(&t, 5000);
	expect(&t, CHECK_ERROR, NULL, "no registry answers at 127.0.0.1:");
	assert_contains("message", t.res.message, "(PHASELAB_REGISTRY)");
	assert_true(t.ctx.env_broken);
	assert_contains("hint", t.res.hint, "labs/setup");
	assert_true(now_ms() - t0 < 2000);
	/* the parameter's registry was not asked */
	assert_int_equal(t.fr.requests, 0);
	check_result_release(&t.res);

	/* /v2/ wants a login: unusable too */
	unsetenv("PHASELAB_REGISTRY");
	t.fr.routes[0].status = 401;
	snprintf(t.fr.routes[0].headers, sizeof(t.fr.routes[0].headers), "WWW-Authenticate: Basic realm=\"x\"\r\n");
	pub_run(&t, 5000);
	expect(&t, CHECK_ERROR, NULL, "wants a login");
	assert_contains("message", t.res.message, "no credentials");
	assert_true(t.ctx.env_broken);
	check_result_release(&t.res);

	/* /v2/ is a web page: not a registry */
	t.fr.routes[0].status = 200;
	t.fr.routes[0].headers[0] = '\0';
	snprintf(t.fr.routes[0].content_type, sizeof(t.fr.routes[0].content_type), "text/html");
	strbuf_reset(&t.fr.routes[0].body);
	strbuf_addstr(&t.fr.routes[0].body, "<html>hello</html>");
	pub_run(&t, 5000);
	expect(&t, CHECK_ERROR, NULL, "does not answer as a registry");
	assert_true(t.ctx.env_broken);
	pub_teardown(&t);
}

/* A registry that accepts and never answers: the item's deadline. */
static void test_published_timeout(void **state)
{
	struct pub t;
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	char reg[64];
	long long t0;

	(void)state;
	pub_setup(&t);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(fd, 4), 0); /* the kernel accepts; nobody reads */
	getsockname(fd, (struct sockaddr *)&a, &len);
	snprintf(reg, sizeof(reg), "127.0.0.1:%d", ntohs(a.sin_port));
	setenv("PHASELAB_REGISTRY", reg, 1);
	t0 = now_ms();
	pub_run(&t, 400);
	expect(&t, CHECK_ERROR, NULL, "no answer within 0.4 s");
	assert_true(t.ctx.env_broken);
	assert_true(now_ms() - t0 < 1500);
	close(fd);
	pub_teardown(&t);
}

/* {learner} from PHASELAB_LEARNER; unset while needed: an error naming it.  No commit: no-commit. */
static void test_published_learner_and_commit(void **state)
{
	struct pub t;
	struct scratch bare;
	char path[400];

	(void)state;
	pub_setup(&t);
	snprintf(t.params, sizeof(t.params), "{\"registry\": \"127.0.0.1:%d\", \"repository\": \"class/{learner}/app\"}",
		 t.fr.port);
	pub_run(&t, 5000);
	expect(&t, CHECK_ERROR, NULL, "PHASELAB_LEARNER is not set");
	assert_int_equal(t.fr.requests, 0);
	check_result_release(&t.res);

	setenv("PHASELAB_LEARNER", "alice", 1);
	snprintf(path, sizeof(path), "/v2/class/alice/app/manifests/%s", t.repo.short_id);
	route_add(&t.fr, "GET", path, 200, MT_MANIFEST, t.here.manifest.buf);
	snprintf(path, sizeof(path), "/v2/class/alice/app/blobs/%s", t.here.config_digest);
	route_add(&t.fr, "GET", path, 200, "application/octet-stream", t.here.config.buf);
	pub_run(&t, 5000);
	expect(&t, CHECK_PASS, NULL, "/class/alice/app:");
	check_result_release(&t.res);

	/* an id that makes no repository name: refused before any request */
	setenv("PHASELAB_LEARNER", "Alice/../x", 1);
	t.fr.requests = 0;
	pub_run(&t, 5000);
	expect(&t, CHECK_ERROR, NULL, "is not a name a registry takes");
	assert_int_equal(t.fr.requests, 0);
	check_result_release(&t.res);

	setenv("PHASELAB_LEARNER", "alice", 1);
	scratch_make(&bare);
	run_kind(&check_registry_image, bare.service, t.image, t.params, 5000, &t.ctx, &t.res);
	assert_int_equal(t.res.status, CHECK_FAIL);
	assert_string_equal(t.res.cause, "no-commit");
	scratch_remove(&bare);
	pub_teardown(&t);
}

/* A dirty tree whose image is unchanged still passes, with the note. */
static void test_published_dirty(void **state)
{
	struct pub t;
	char *f;

	(void)state;
	pub_setup(&t);
	route_add(&t.fr, "GET", t.manifest_path, 200, MT_MANIFEST, t.here.manifest.buf);
	route_add(&t.fr, "GET", t.config_path, 200, "application/octet-stream", t.here.config.buf);
	f = xasprintf("%s/NOTES.md", t.repo.s.service);
	write_file(f, "notes\n");
	free(f);
	pub_run(&t, 5000);
	expect(&t, CHECK_PASS, NULL, "the tree has changes beyond that commit, none of which changes the image");
	assert_true(json_is_true(json_object_get(t.res.evidence, "dirty")));
	pub_teardown(&t);
}

/* Every default of both kinds' tables is of its type and in its bounds. */
static void test_defaults(void **state)
{
	struct strbuf err = STRBUF_INIT;

	(void)state;
	if (spec_check_defaults(check_task_definition.params, &err) < 0 ||
	    spec_check_defaults(check_registry_image.params, &err) < 0)
		fail_msg("%s", err.buf);
	strbuf_release(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_taskdef_table),
		cmocka_unit_test(test_taskdef_huge),
		cmocka_unit_test(test_taskdef_symlinks),
		cmocka_unit_test(test_image_refs),
		cmocka_unit_test(test_registry_names),
		cmocka_unit_test(test_published_pass),
		cmocka_unit_test(test_schema1_named),
		cmocka_unit_test(test_published_index),
		cmocka_unit_test(test_published_not_pushed),
		cmocka_unit_test(test_published_full_id),
		cmocka_unit_test(test_published_differs),
		cmocka_unit_test(test_published_bad_answers),
		cmocka_unit_test(test_published_redirect_loopback),
		cmocka_unit_test(test_published_huge_manifest),
		cmocka_unit_test(test_published_digest_mismatch),
		cmocka_unit_test(test_published_refused),
		cmocka_unit_test(test_published_timeout),
		cmocka_unit_test(test_published_learner_and_commit),
		cmocka_unit_test(test_published_dirty),
	};

	signal(SIGPIPE, SIG_IGN);
	if (http_global_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
