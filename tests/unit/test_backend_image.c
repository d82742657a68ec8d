/*
 * The backend track's image kinds (healthcheck-config, image-config,
 * apt-clean) and what phase 10 asks of healthcheck and process-user,
 * against a fake engine that replays the real engine's answers on the
 * phase-10 reference solution and variants of it (recorded by
 * tests/fixtures/engine/record-backend).
 *
 * Each case runs one check of phases/10-orchestrator-image through the real
 * run lifecycle (core/run.c), in a copy of labs/backend with the reference
 * solution's Dockerfile (edited as the recorded variant was), and compares
 * the status, pieces of the message and the hint, the evidence and the
 * cause; every placeholder phase 10's hints use for that cause must be in
 * the evidence.  A case may replace the image's HEALTHCHECK, which makes the
 * probe readings a table.
 *
 * The layer readers themselves (engine/layers.c) are tested apart, on a
 * saved image's archive and an overlay2-like folder made here.  The
 * integration suite (tests/integration/backend) proves the engine says what
 * was recorded.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "core/check.h"
#include "core/phase.h"
#include "core/rundir.h"
#include "engine/engine-impl.h"
#include "lib/fsutil.h"
#include "lib/strbuf.h"
#include "lib/xalloc.h"

#include "fake_engine.h"

#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#ifdef __clang__
#pragma clang diagnostic ignored "-Winitializer-overrides"
#else
#pragma GCC diagnostic ignored "-Woverride-init"
#endif

struct bcase {
	const char *name;
	const char *check;              /* the id of phase 10's check */
	const char *params;             /* JSON that replaces its parameters; NULL: the phase's */
	struct fake_engine fe;
	const char *healthcheck;        /* JSON that replaces the image's Config.Healthcheck; NULL: as recorded */
	const char *df_edit[4];         /* the Dockerfile: [0] becomes [1], then [2] becomes [3] */

	enum check_status status;
	const char *message[3];         /* pieces of the message */
	const char *hint;               /* a piece of the hint; NULL: none */
	const char *evidence[3];        /* "key" or "key=JSON" */
	const char *cause;              /* NULL: none */
};

static void sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void sh(const char *fmt, ...)
{
	struct strbuf cmd = STRBUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(&cmd, fmt, ap);
	va_end(ap);
	if (system(cmd.buf) != 0)
		fail_msg("failed: %s", cmd.buf);
	strbuf_release(&cmd);
}

static void write_file(const char *path, const char *text)
{
	if (write_file_atomic(path, text, strlen(text)) < 0)
		fail_msg("cannot write '%s'", path);
}

/* labs/backend with the phase-10 solution's files, its Dockerfile edited as c says. */
static void make_service(struct check_env *t, const struct bcase *c)
{
	char *root = test_repo_root();
	struct strbuf df = STRBUF_INIT, err = STRBUF_INIT;
	char *src = xasprintf("%s/labs/backend", root), *sol = xasprintf("%s/labs/solutions/10-orchestrator-image", root);
	char *path;

	t->service = xasprintf("%s/backend", t->tmp);
	if (copy_tree(src, t->service, NULL, NULL, 64 << 20, &err) < 0)
		fail_msg("cannot copy the service: %s", err.buf);
	path = xasprintf("%s/Dockerfile", sol);
	if (read_file_nofollow(path, 1 << 20, &df) < 0)
		fail_msg("cannot read '%s'", path);
	free(path);
	df_apply_edits(&df, c->df_edit, c->name);
	path = xasprintf("%s/Dockerfile", t->service);
	write_file(path, df.buf);
	free(path);
	strbuf_release(&df);
	strbuf_release(&err);
	free(src);
	free(sol);
	free(root);
}

/* The container's filesystem, Debian slim's shape: merged /usr, sh, apt-get; exported as a tar. */
static void make_rootfs(struct check_env *t)
{
	t->rootfs = xasprintf("%s/rootfs", t->tmp);
	t->tar = xasprintf("%s/rootfs.tar", t->tmp);
	sh("mkdir -p '%s/usr/bin' '%s/etc' && ln -s usr/bin '%s/bin' && printf x >'%s/usr/bin/dash' && "
	   "ln -s dash '%s/usr/bin/sh' && printf x >'%s/usr/bin/apt-get' && chmod 755 '%s/usr/bin/dash' "
	   "'%s/usr/bin/apt-get' && printf 'root:x:0:0::/root:/bin/sh\\nnode:x:1000:1000::/home/node:/bin/sh\\n' "
	   ">'%s/etc/passwd' && tar -C '%s' -cf '%s' .", t->rootfs, t->rootfs, t->rootfs, t->rootfs, t->rootfs,
	   t->rootfs, t->rootfs, t->rootfs, t->rootfs, t->rootfs, t->tar);
}

static void setup_env(struct check_env *t, const struct bcase *c, struct fake_engine *fe)
{
	check_env_open(t, "phases/10-orchestrator-image/phase.json", "phaselab-test-backend");
	make_service(t, c);
	make_rootfs(t);
	/* not a mount of its own: the lifecycle reads the export, as for a stopped container */
	fe->export_tar = t->tar;
	check_env_start(t, fe);
}

static void assert_evidence(const char *name, json_t *evidence, const char *want)
{
	const char *eq = strchr(want, '=');
	char *key = eq ? xstrndup(want, (size_t)(eq - want)) : xstrdup(want);
	json_t *got = json_object_get(evidence, key);

	if (!got)
		fail_msg("%s: no evidence '%s' in %s", name, key, json_dumps(evidence, JSON_COMPACT));
	if (eq) {
		json_t *value = json_loads(eq + 1, JSON_DECODE_ANY, NULL);
		if (!value || !json_equal(got, value))
			fail_msg("%s: evidence %s is %s, not %s", name, key, json_dumps(got, JSON_ENCODE_ANY), eq + 1);
		json_decref(value);
	}
	free(key);
}

/*
 * The cause: declared by the kind, recorded in the evidence, and every
 * {placeholder} of phase 10's hints for it is evidence the kind gives.
 */
static void assert_cause(const struct bcase *c, const struct check_def *def, const struct check_result *res)
{
	const struct check_cause *cc;

	if (c->cause && (!res->cause || strcmp(res->cause, c->cause)))
		fail_msg("%s: cause %s, not %s", c->name, res->cause ? res->cause : "(none)", c->cause);
	if (!c->cause && res->cause)
		fail_msg("%s: cause %s where none was expected", c->name, res->cause);
	if (!res->cause)
		return;
	if (!kind_has_cause(def->kind, res->cause))
		fail_msg("%s: %s does not declare cause %s", c->name, def->kind->name, res->cause);
	assert_evidence(c->name, res->evidence, "cause");
	cc = check_def_cause(def, res->cause);
	for (size_t t = 0; cc && t < cc->ntiers; t++) {
		for (const char *p = cc->tiers[t]; (p = strchr(p, '{')); p++) {
			size_t n = strspn(p + 1, "abcdefghijklmnopqrstuvwxyz0123456789_-");
			char *key;

			if (!n || p[1 + n] != '}')
				continue;
			key = xstrndup(p + 1, n);
			if (!json_object_get(res->evidence, key))
				fail_msg("%s: phase 10's hint for %s quotes {%s}, which the evidence lacks: %s", c->name,
					 res->cause, key, json_dumps(res->evidence, JSON_COMPACT));
			free(key);
		}
	}
}

static void run_case(const struct bcase *c, struct fake_engine *fe, struct check_result *res)
{
	struct check_env t;
	const struct check_def *phase_def;
	struct check_def def;

	*fe = c->fe;
	setup_env(&t, c, fe);
	phase_def = phase_check(&t.ph, c->check);
	if (!phase_def)
		fail_msg("%s: phase 10 has no check '%s'", c->name, c->check);
	def = *phase_def;
	def.params = c->params ? json_loads(c->params, 0, NULL) : json_incref(phase_def->params);
	assert_non_null(def.params);
	memset(res, 0, sizeof(*res));
	if (ctx_need_image(&t.ctx) < 0)
		fail_msg("%s: no image: %s", c->name, t.ctx.build_failure);
	if (c->healthcheck) {
		json_t *hc = json_loads(c->healthcheck, JSON_DECODE_ANY, NULL);
		assert_non_null(hc);
		json_object_set_new(json_object_get(t.ctx.image, "Config"), "Healthcheck", hc);
	}
	if (def.kind->needs == NEED_CONTAINER && ctx_need_container(&t.ctx) < 0)
		fail_msg("%s: no container: %s", c->name, t.ctx.container_failure);
	def.kind->run(&t.ctx, &def, res);
	if (!res->evidence)
		res->evidence = json_object();

	if (res->status != c->status)
		fail_msg("%s: status %s, not %s: %s (hint: %s)", c->name, check_status_name(res->status),
			 check_status_name(c->status), res->message, res->hint ? res->hint : "none");
	for (int i = 0; i < 3 && c->message[i]; i++)
		if (!res->message || !strstr(res->message, c->message[i]))
			fail_msg("%s: the message does not say '%s': %s", c->name, c->message[i], res->message);
	if (c->hint && (!res->hint || !strstr(res->hint, c->hint)))
		fail_msg("%s: the hint does not say '%s': %s", c->name, c->hint, res->hint ? res->hint : "(none)");
	if (!c->hint && res->hint)
		fail_msg("%s: a hint where none was expected: %s", c->name, res->hint);
	for (int i = 0; i < 3 && c->evidence[i]; i++)
		assert_evidence(c->name, res->evidence, c->evidence[i]);
	assert_cause(c, &def, res);
	json_decref(def.params);
	check_env_close(&t);
}

static void run_cases(const struct bcase *cases, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct fake_engine fe;
		struct check_result res;

		run_case(&cases[i], &fe, &res);
		check_result_release(&res);
	}
}

#define BUILT(out) { .output = (out), .rc = 0 }
/* the reference solution's answers; a case writes its differences after them */
#define REF .builder = BUILDER_LEGACY, .builds = { BUILT("build-legacy-backend.txt") }, \
	.image_inspect = "image-inspect-backend.json", .base_inspect = "image-inspect-node18-slim.json", \
	.image_config = "image-config-backend.json", .layers = "layers-backend.jsonl", \
	.container_inspect = "container-inspect-backend-healthy.json", .top = "top-1000.txt", \
	.logs = "listening on port 3000\n"
#define INSPECT(variant) .image_inspect = "image-inspect-backend-" variant ".json"
#define PROBE "\"curl -f http://localhost:3000/health || exit 1\""
#define SHELL_HC(test) "{\"Test\": [\"CMD-SHELL\", " test "], \"Interval\": 30000000000, \"Timeout\": 5000000000, " \
	"\"StartPeriod\": 60000000000, \"Retries\": 3}"
#define EXEC_HC(words) "{\"Test\": [\"CMD\", " words "], \"Interval\": 30000000000, \"Timeout\": 5000000000, " \
	"\"StartPeriod\": 60000000000, \"Retries\": 3}"

/* ---------------------------------------------------------- probe-config */

static const struct bcase probe_cases[] = {
	{ "the reference: as the lesson asks", "probe-config", NULL, { REF }, NULL, { NULL },
	  CHECK_PASS, { "interval 30 s, timeout 5 s, start period 60 s, retries 3; probe `curl -f "
	  "http://localhost:3000/health || exit 1`: as the lesson asks" }, NULL, { "interval_s=30", "retries=3" } },
	{ "curl without -f", "probe-config", NULL, { REF, INSPECT("nofail") }, NULL, { NULL },
	  CHECK_FAIL, { "probe `curl http://localhost:3000/health || exit 1`", "curl has no -f: it exits 0 on an HTTP "
	  "error such as 500" }, "HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 CMD curl -f "
	  "http://localhost:3000/health || exit 1", { "field=\"fail flag\"", "got=\"none\"" }, "no-fail-flag" },
	{ "interval 10 s", "probe-config", NULL, { REF, INSPECT("interval10") }, NULL, { NULL },
	  CHECK_FAIL, { "interval 10 s, timeout 5 s", "interval 10 s, the lesson sets 30 s" }, "--interval=30s",
	  { "want=\"30 s\"", "got=\"10 s\"", "corrected=\"HEALTHCHECK --interval=30s --timeout=5s --start-period=60s "
	  "--retries=3 CMD curl -f http://localhost:3000/health || exit 1\"" }, "wrong-timings" },
	{ "no options: the engine's defaults, named", "probe-config", NULL, { REF, INSPECT("defaults") }, NULL, { NULL },
	  CHECK_FAIL, { "interval not set (the engine's default: 30 s), timeout not set (the engine's default: 30 s), "
	  "start period not set (the engine's default: 0 s), retries not set (the engine's default: 3)",
	  "timeout not set: the engine's default is 30 s, the lesson sets 5 s", "start period not set: the engine's "
	  "default is 0 s, the lesson sets 60 s" }, "--timeout=5s", { "field=\"timeout\"", "got=\"not set\"",
	  "line=\"HEALTHCHECK CMD curl -f http://localhost:3000/health || exit 1\"" }, "wrong-timings" },
	{ "wget instead of curl", "probe-config", NULL, { REF, INSPECT("wget") }, NULL, { NULL },
	  CHECK_FAIL, { "the probe runs `wget`, not `curl`" }, "CMD curl -f", { "got=\"wget\"", "program=\"wget\"" },
	  "wrong-program" },
	{ "another port", "probe-config", NULL, { REF, INSPECT("port") }, NULL, { NULL },
	  CHECK_FAIL, { "the probe asks `http://localhost:3001/health`, not http://localhost:3000/health (port 3001, "
	  "not 3000)" }, "CMD curl -f http://localhost:3000/health", { "got=\"http://localhost:3001/health\"",
	  "want=\"http://localhost:3000/health\"" }, "wrong-url" },
	{ "exec form, 127.0.0.1, -fsS: the same probe", "probe-config", NULL, { REF, INSPECT("exec") }, NULL, { NULL },
	  CHECK_PASS, { "probe `[\"curl\", \"-fsS\", \"http://127.0.0.1:3000/health\"]`: as the lesson asks" }, NULL,
	  { "url=\"http://127.0.0.1:3000/health\"" } },
	{ "sh -c, --fail, no scheme, a redirection", "probe-config", NULL, { REF, INSPECT("shc") }, NULL, { NULL },
	  CHECK_PASS, { "as the lesson asks" }, NULL, { "program=\"curl\"", "url=\"localhost:3000/health\"" } },
	{ "HEALTHCHECK NONE", "probe-config", NULL, { REF, INSPECT("none") }, NULL, { NULL },
	  CHECK_FAIL, { "turns its health check off (HEALTHCHECK NONE)" }, "add it to the runtime stage, before CMD: "
	  "HEALTHCHECK --interval=30s", { "corrected" }, "no-healthcheck" },
	{ "no HEALTHCHECK", "probe-config", NULL, { REF, INSPECT("nohc") }, NULL, { NULL },
	  CHECK_FAIL, { "the image declares no HEALTHCHECK" }, "CMD curl -f http://localhost:3000/health || exit 1",
	  { "corrected" }, "no-healthcheck" },
	{ "the phase asks another path", "probe-config", "{\"url\": \"http://localhost:3000/healthz\"}", { REF }, NULL,
	  { NULL }, CHECK_FAIL, { "(path /health, not /healthz)" }, "CMD curl -f http://localhost:3000/healthz",
	  { NULL }, "wrong-url" },
	{ "timings and URL both wrong: the first cause in the kind's order", "probe-config", NULL, { REF },
	  "{\"Test\": [\"CMD-SHELL\", \"curl -f http://localhost:8080/health\"], \"Interval\": 10000000000}", { NULL },
	  CHECK_FAIL, { "interval 10 s, the lesson sets 30 s", "port 8080, not 3000" }, "--interval=30s",
	  { "mismatches" }, "wrong-timings" },
	/* the probe's words, read as sh reads them */
	{ "-sf: a fail flag among combined flags", "probe-config", NULL, { REF },
	  SHELL_HC("\"curl -sf http://localhost:3000/health\""), { NULL }, CHECK_PASS, { "as the lesson asks" } },
	{ "-of x: the f is -o's argument, not a flag", "probe-config", NULL, { REF },
	  SHELL_HC("\"curl -of http://localhost:3000/health\""), { NULL }, CHECK_FAIL, { "curl has no -f" },
	  "CMD curl -f", { NULL }, "no-fail-flag" },
	{ "quotes, an assignment, exec, an absolute path", "probe-config", NULL, { REF },
	  SHELL_HC("\"LANG=C exec /usr/bin/curl --fail 'http://localhost:3000/health' >/dev/null 2>&1 || exit 1\""),
	  { NULL }, CHECK_PASS, { "as the lesson asks" }, NULL, { "program=\"/usr/bin/curl\"" } },
	{ "a redirection written apart is no URL", "probe-config", NULL, { REF },
	  SHELL_HC("\"curl -f -o /dev/null localhost:3000/health\""), { NULL }, CHECK_PASS, { "as the lesson asks" },
	  NULL, { "url=\"localhost:3000/health\"" } },
	{ "https is another URL", "probe-config", NULL, { REF },
	  SHELL_HC("\"curl -f https://localhost:3000/health\""), { NULL }, CHECK_FAIL, { "(https, not http)" },
	  "CMD curl -f", { NULL }, "wrong-url" },
	{ "no path: / is not /health", "probe-config", NULL, { REF },
	  SHELL_HC("\"curl -f http://localhost:3000\""), { NULL }, CHECK_FAIL, { "(path /, not /health)" },
	  "CMD curl -f", { NULL }, "wrong-url" },
	{ "a second command after && is not the probe", "probe-config", NULL, { REF },
	  SHELL_HC("\"curl -f http://localhost:3000/health && echo ok\""), { NULL }, CHECK_PASS,
	  { "as the lesson asks" } },
	{ "exec form through /bin/sh -c, wget inside", "probe-config", NULL, { REF },
	  EXEC_HC("\"/bin/sh\", \"-c\", \"wget -qO- http://localhost:3000/health\""), { NULL }, CHECK_FAIL,
	  { "the probe runs `wget`, not `curl`" }, "CMD curl -f", { NULL }, "wrong-program" },
	{ "no URL at all", "probe-config", NULL, { REF }, SHELL_HC("\"curl -f $HEALTH_URL\""), { NULL }, CHECK_FAIL,
	  { "no URL that phaselab can read" }, "CMD curl -f", { "got=\"none\"" }, "wrong-url" },
	{ "a probe of 500 ms timings is named in ms", "probe-config", NULL, { REF },
	  "{\"Test\": [\"CMD-SHELL\", " PROBE "], \"Interval\": 30000000000, \"Timeout\": 500000000, "
	  "\"StartPeriod\": 60000000000, \"Retries\": 3}", { NULL }, CHECK_FAIL, { "timeout 500 ms, the lesson sets 5 s" },
	  "--timeout=5s", { "got=\"500 ms\"" }, "wrong-timings" },
};

static void test_probe_config(void **state)
{
	(void)state;
	run_cases(probe_cases, ARRAY_SIZE(probe_cases));
}

/* ---------------------------------------------------------- image-config */

static const struct bcase config_cases[] = {
	{ "the reference", "image-config", NULL, { REF }, NULL, { NULL },
	  CHECK_PASS, { "NODE_ENV=production; port 3000/tcp exposed" }, NULL, { "exposed=[\"3000/tcp\"]" } },
	{ "no NODE_ENV", "image-config", NULL, { REF, INSPECT("noenv") }, NULL,
	  { "ENV NODE_ENV=production\n", "" },
	  CHECK_FAIL, { "NODE_ENV is not set in the image's environment", "; as asked: port 3000/tcp exposed" },
	  "ENV NODE_ENV=production, EXPOSE 3000", { "name=\"NODE_ENV\"", "got=null",
	  "corrected=\"ENV NODE_ENV=production\"" }, "env-missing" },
	{ "NODE_ENV in the build stage only", "image-config", NULL, { REF, INSPECT("noenv") }, NULL,
	  { "ENV NODE_ENV=production\n", "", "RUN npm run build\n", "RUN npm run build\nENV NODE_ENV=production\n" },
	  CHECK_FAIL, { "NODE_ENV is not set", "(`ENV NODE_ENV=production`, line 12, is in an earlier stage: the "
	  "last stage starts afresh)" }, "only the last stage's instructions reach the image",
	  { "line=\"ENV NODE_ENV=production\"", "line_number=12" }, "env-missing" },
	{ "NODE_ENV=development", "image-config", NULL, { REF, INSPECT("devenv") }, NULL,
	  { "ENV NODE_ENV=production", "ENV NODE_ENV=development" },
	  CHECK_FAIL, { "NODE_ENV is set to 'development', not 'production'" }, "ENV NODE_ENV=production",
	  { "got=\"development\"", "line=\"ENV NODE_ENV=development\"" }, "env-wrong" },
	{ "EXPOSE 3000/udp", "image-config", NULL, { REF, INSPECT("udp") }, NULL, { "EXPOSE 3000", "EXPOSE 3000/udp" },
	  CHECK_FAIL, { "port 3000 is exposed as udp only (3000/udp)", "as asked: NODE_ENV=production" },
	  "EXPOSE 3000", { "want=\"3000/tcp\"", "got=\"3000/udp\"", "line=\"EXPOSE 3000/udp\"" }, "port-not-exposed" },
	{ "another port asked", "image-config", "{\"port\": 8080}", { REF }, NULL, { NULL },
	  CHECK_FAIL, { "port 8080/tcp is not exposed (the image exposes 3000/tcp)" }, "EXPOSE 8080",
	  { "corrected=\"EXPOSE 8080\"" }, "port-not-exposed" },
	{ "several variables, the missing one is the cause", "image-config",
	  "{\"env\": [\"NODE_ENV=staging\", \"LOG_LEVEL=info\"]}", { REF }, NULL, { NULL },
	  CHECK_FAIL, { "NODE_ENV is set to 'production', not 'staging'; LOG_LEVEL is not set" },
	  "ENV NODE_ENV=staging, ENV LOG_LEVEL=info, EXPOSE 3000", { "name=\"LOG_LEVEL\"" }, "env-missing" },
};

static void test_image_config(void **state)
{
	(void)state;
	run_cases(config_cases, ARRAY_SIZE(config_cases));
}

/* ------------------------------------------------------------- apt-clean */

#define APT_LINE "RUN apt-get update && apt-get install -y --no-install-recommends curl ca-certificates wget && " \
	"apt-get clean && rm -rf /var/lib/apt/lists/*"
#define INSTALL "RUN apt-get update && apt-get install -y --no-install-recommends curl ca-certificates wget && " \
	"apt-get clean"
#define LAYERS(variant) .image_config = "image-config-backend-" variant ".json", \
	.layers = "layers-backend-" variant ".jsonl"

static const struct bcase apt_cases[] = {
	{ "the reference: cleaned in the same RUN", "apt-clean", NULL, { REF }, NULL, { NULL },
	  CHECK_PASS, { "none of the image's 5 layers of its own leaves package lists under /var/lib/apt/lists or "
	  ".deb files under /var/cache/apt/archives", "(layers read from docker save)" }, NULL,
	  { "base_layers=1", "runtime_base=\"node:18-slim\"" } },
	{ "the reference, BuildKit", "apt-clean", NULL,
	  { REF, .builder = BUILDER_BUILDKIT, .builds = { BUILT("build-buildkit-backend.txt") }, INSPECT("bk"),
	    LAYERS("bk") }, NULL, { NULL }, CHECK_PASS, { "none of the image's 5 layers" } },
	{ "the lists deleted in a later RUN, legacy builder", "apt-clean", NULL,
	  { REF, .builds = { BUILT("build-legacy-backend-cleanlater.txt") }, INSPECT("cleanlater"),
	    LAYERS("cleanlater") }, NULL, { APT_LINE, INSTALL "\nRUN rm -rf /var/lib/apt/lists/*" },
	  CHECK_FAIL, { "step 9/19 `RUN apt-get update && apt-get install -y --no-install-recommends curl "
	  "ca-certificates wget && apt-get clean` (line 19) adds 6 package lists (19.9 MB) and step 10/19 `RUN rm -rf "
	  "/var/lib/apt/lists/*` (line 20) deletes them", "their 19.9 MB stay in the earlier layer" },
	  "a later RUN only hides the files", { "later_step=\"RUN rm -rf /var/lib/apt/lists/*\"", "files=6",
	  "corrected=\"" INSTALL " && rm -rf /var/lib/apt/lists/*\"" }, "cleaned-later" },
	{ "the lists deleted in a later RUN, BuildKit", "apt-clean", NULL,
	  { REF, .builder = BUILDER_BUILDKIT, .builds = { BUILT("build-buildkit-backend-cleanlater.txt") },
	    INSPECT("cleanlater-bk"), LAYERS("cleanlater-bk") }, NULL,
	  { APT_LINE, INSTALL "\nRUN rm -rf /var/lib/apt/lists/*" },
	  CHECK_FAIL, { "step [stage-1 3/7] `RUN apt-get update", "step [stage-1 4/7] `RUN rm -rf "
	  "/var/lib/apt/lists/*` (line 20) deletes them" }, "a later RUN only hides the files",
	  { "step=\"" INSTALL "\"", "later_line_number=20" }, "cleaned-later" },
	{ "the lists never deleted (apt-get clean alone)", "apt-clean", NULL,
	  { REF, .builds = { BUILT("build-legacy-backend-listsleft.txt") }, INSPECT("listsleft"),
	    LAYERS("listsleft") }, NULL, { APT_LINE, INSTALL },
	  CHECK_FAIL, { "the image holds 6 package lists (19.9 MB) under /var/lib/apt/lists, added by step 9/18 `RUN "
	  "apt-get update", "(line 19), and never deleted" }, "`apt-get clean` alone empties the package cache but "
	  "leaves the lists", { "files=6", "line_number=19", "corrected=\"" INSTALL " && rm -rf /var/lib/apt/lists/*\"" },
	  "lists-left" },
	{ "downloaded packages left", "apt-clean", NULL,
	  { REF, .builds = { BUILT("build-legacy-backend-debsleft.txt") }, INSPECT("debsleft"), LAYERS("debsleft") },
	  NULL, { APT_LINE, APT_LINE " && cd /var/cache/apt/archives && apt-get update && apt-get download libbrotli1 "
	  "&& rm -rf /var/lib/apt/lists/*" },
	  CHECK_FAIL, { "the image holds 1 downloaded .deb package", "under /var/cache/apt/archives, added by step 9/18" },
	  "clean up in the same RUN", { "files=1", "step" }, "debs-left" },
	{ "the base ships the lists a step of the learner's deletes: a note", "apt-clean", NULL,
	  { REF, .builds = { BUILT("build-legacy-backend-cleanlater.txt") }, INSPECT("cleanlater"),
	    LAYERS("cleanlater"), .base_inspect = "image-inspect-base-3layers.json" }, NULL,
	  { APT_LINE, INSTALL "\nRUN rm -rf /var/lib/apt/lists/*" },
	  CHECK_PASS, { "none of the image's 4 layers of its own", "note: a step of yours deletes 6 files the runtime "
	  "base ships; their 19.9 MB stay in the base's layer" }, NULL, { "base_layers=3" } },
	{ "the base's own lists, left: a note, not a failure", "apt-clean", NULL,
	  { REF, .builds = { BUILT("build-legacy-backend-listsleft.txt") }, INSPECT("listsleft"),
	    LAYERS("listsleft"), .base_inspect = "image-inspect-base-3layers.json" }, NULL, { APT_LINE, INSTALL },
	  CHECK_PASS, { "note: the runtime base's own layers ship 6 package lists (19.9 MB), which are the base's, "
	  "not yours" } },
	{ "the layers cannot be read: the engine's failure", "apt-clean", NULL, { REF, .layers = NULL }, NULL,
	  { NULL }, CHECK_ERROR, { "reading the image's layers: reading the image's layers: fake engine: no answer" },
	  "this is the engine's or phaselab's failure" },
	{ "a configuration of other layers is refused", "apt-clean", NULL,
	  { REF, .image_config = "image-config-backend-listsleft.json" }, NULL, { NULL },
	  CHECK_ERROR, { "its configuration names 6 layers that are not the image's 6" },
	  "this is the engine's or phaselab's failure" },
};

static void test_apt_clean(void **state)
{
	(void)state;
	run_cases(apt_cases, ARRAY_SIZE(apt_cases));
}

/* ------------------------------------------------------- healthy, nonroot */

static const struct bcase health_cases[] = {
	{ "healthy at once, whatever the 30 s interval and 60 s start period", "healthy", NULL, { REF }, NULL, { NULL },
	  CHECK_PASS, { "healthy: the image's own probe passed 0.6 s after the start (run every 250 ms here, instead "
	  "of after its 30 s interval)" }, NULL, { "first_pass_ms=634",
	  "probe_command=\"/bin/sh -c 'curl -f http://localhost:3000/health || exit 1'\"" } },
	{ "no curl in the image: curl: not found ends the wait", "healthy", NULL,
	  { REF, INSPECT("nocurl"), .container_inspect = "container-inspect-backend-nocurl.json" }, NULL,
	  { "curl ca-certificates wget", "ca-certificates wget" },
	  CHECK_FAIL, { "the probe's program `curl` is not in the image: its shell said `/bin/sh: 1: curl: not found` "
	  "(exit code 1), so the container can never become healthy" }, "install curl in the runtime stage "
	  "(`node:18-slim` has none), before the HEALTHCHECK: `RUN apt-get update && apt-get install -y "
	  "--no-install-recommends curl ca-certificates && rm -rf /var/lib/apt/lists/*`",
	  { "program=\"curl\"", "status=\"starting\"", "runtime_from=\"FROM node:18-slim\"" }, "probe-not-found" },
	{ "no HEALTHCHECK: the hint is the track's probe", "healthy", NULL, { REF, INSPECT("nohc") }, NULL, { NULL },
	  CHECK_FAIL, { "the image declares no HEALTHCHECK" }, "HEALTHCHECK --interval=30s --timeout=5s "
	  "--start-period=60s --retries=3 CMD curl -f http://localhost:3000/health || exit 1", { NULL }, "no-healthcheck" },
};

static const struct bcase user_cases[] = {
	{ "USER node", "nonroot", NULL, { REF }, NULL, { NULL },
	  CHECK_PASS, { "runs as UID 1000 (USER node), the node:18-slim image's node user" }, NULL,
	  { "image_user_uid=1000" } },
	{ "the material's Dockerfile: no USER", "nonroot", NULL,
	  { REF, INSPECT("root"), .top = "top-root.txt" }, NULL, { "USER node\n", "" },
	  CHECK_FAIL, { "the process runs as root (UID 0); the image declares no USER" }, "after the COPY steps: `USER "
	  "node`, a user the node:18-slim image has (UID 1000)", { "corrected=\"USER node\"" }, "no-user" },
	{ "65534 on this track: the plain note, not the workshop's", "nonroot", NULL,
	  { REF, .image_inspect = "image-inspect-nobody.json", .top = "top-65534.txt" }, NULL, { NULL },
	  CHECK_PASS, { "runs as UID 65534 (USER 65534): not root, so it passes. Note: the lesson's node:18-slim image "
	  "has a user for this, `node` (UID 1000)" } },
};

static void test_healthy_nonroot(void **state)
{
	(void)state;
	run_cases(health_cases, ARRAY_SIZE(health_cases));
	run_cases(user_cases, ARRAY_SIZE(user_cases));
}

/* ---------------------------------------------------- the layer readers */

struct seen {
	struct strbuf rows;   /* "layer type name size" lines, sorted by the caller */
};

static int collect(void *arg, size_t layer, const struct layer_entry *e)
{
	struct seen *s = arg;

	strbuf_addf(&s->rows, "%zu %c %s %llu\n", layer, e->type, e->name, e->size);
	return 0;
}

/* The rows sorted (each reader has its own order within a layer). */
static char *sorted(struct strbuf *rows)
{
	char *out;
	char *path = xasprintf("/tmp/phaselab-test-rows-%ld", (long)getpid());
	struct strbuf sb = STRBUF_INIT;

	write_file(path, rows->buf);
	sh("LC_ALL=C sort -o '%s' '%s'", path, path);
	if (read_file_nofollow(path, 1 << 20, &sb) < 0)
		fail_msg("cannot read '%s'", path);
	unlink(path);
	free(path);
	out = strbuf_detach(&sb, NULL);
	return out;
}

/*
 * What both readers must give for the layers made below: layer 1 adds the
 * lists, layer 2 deletes two of them and the .deb, layer 3 makes the lists
 * folder opaque and adds one, layer 4 deletes the whole of var/lib/apt.
 * Entries outside the paths asked for (etc/, var/log) are left out.
 */
static const char want_rows[] =
	"0 5 var/lib/apt/lists 0\n"
	"0 0 var/lib/apt/lists/lock 0\n"
	"1 0 var/cache/apt/archives/curl.deb 7\n"
	"1 5 var/cache/apt/archives 0\n"
	"1 0 var/lib/apt/lists/a_Packages 5000\n"
	"1 0 var/lib/apt/lists/b_InRelease 12\n"
	"1 5 var/lib/apt/lists 0\n"
	"2 5 var/cache/apt/archives 0\n"
	"2 5 var/lib/apt/lists 0\n"
	"2 D var/cache/apt/archives/curl.deb 0\n"
	"2 D var/lib/apt/lists/a_Packages 0\n"
	"2 D var/lib/apt/lists/b_InRelease 0\n"
	"3 0 var/lib/apt/lists/new 3\n"
	"3 5 var/lib/apt/lists 0\n"
	"3 O var/lib/apt/lists 0\n"
	"4 D var/lib/apt 0\n";

static void assert_rows(struct strbuf *got)
{
	struct strbuf want = STRBUF_INIT;
	char *a = sorted(got), *b;

	strbuf_addstr(&want, want_rows);
	b = sorted(&want);
	assert_string_equal(a, b);
	free(a);
	free(b);
	strbuf_release(&want);
}

static int stop_at_once(void *arg, size_t layer, const struct layer_entry *e)
{
	(void)layer;
	(void)e;
	++*(int *)arg;
	return 1;
}

/* The image inspect and configuration of those five layers (made-up ids). */
static json_t *five_layers(json_t **config)
{
	json_t *layers = json_array(), *history = json_array();

	for (int i = 0; i < 5; i++) {
		json_array_append_new(layers, json_sprintf("sha256:%064d", i + 1));
		json_array_append_new(history, json_pack("{s:s}", "created_by", i ? "/bin/sh -c step" : "base"));
		/* an empty row between layers, as ENV makes */
		json_array_append_new(history, json_pack("{s:s, s:b}", "created_by", "/bin/sh -c #(nop)  ENV A=1",
							 "empty_layer", 1));
	}
	*config = json_pack("{s:{s:O}, s:o}", "rootfs", "diff_ids", layers, "history", history);
	return json_pack("{s:s, s:{s:o}}", "Id", "sha256:" "0000000000000000000000000000000000000000000000000000000000000abc",
			 "RootFS", "Layers", layers);
}

/* A saved image as `docker save` writes one (legacy layout): layers as tars in an outer tar. */
static void test_layers_from_archive(void **state)
{
	char dir[] = "/tmp/phaselab-test-save-XXXXXX";
	const char *under[] = { "var/lib/apt/lists", "var/cache/apt/archives", NULL };
	struct seen s = { STRBUF_INIT };
	struct layer_walk w = { .under = under, .fn = collect, .arg = &s };
	struct engine e;
	struct fake_engine fe = { 0 };
	json_t *config, *image = five_layers(&config);
	char *path;

	(void)state;
	assert_non_null(mkdtemp(dir));
	fake_engine_open(&e, &fe);
	/* each layer's files in l<N>/, archived as id<N>/layer.tar; layer 3's is a link to another copy */
	sh("cd %s && mkdir -p l0/var/lib/apt/lists l0/etc && : >l0/var/lib/apt/lists/lock && echo x >l0/etc/os-release && "
	   "mkdir -p l1/var/lib/apt/lists l1/var/cache/apt/archives l1/var/log && head -c 5000 /dev/zero "
	   ">l1/var/lib/apt/lists/a_Packages && head -c 12 /dev/zero >l1/var/lib/apt/lists/b_InRelease && "
	   "head -c 7 /dev/zero >l1/var/cache/apt/archives/curl.deb && echo l >l1/var/log/apt.log && "
	   "mkdir -p l2/var/lib/apt/lists l2/var/cache/apt/archives && : >l2/var/lib/apt/lists/.wh.a_Packages && "
	   ": >l2/var/lib/apt/lists/.wh.b_InRelease && : >l2/var/cache/apt/archives/.wh.curl.deb && "
	   "mkdir -p l3/var/lib/apt/lists && : >l3/var/lib/apt/lists/.wh..wh..opq && printf new >l3/var/lib/apt/lists/new && "
	   "mkdir -p l4/var/lib && : >l4/var/lib/.wh.apt && : >l4/var/lib/.wh..wh.plnk && "
	   "for i in 0 1 2 4; do mkdir -p s/id$i && tar -C l$i -cf s/id$i/layer.tar .; done && "
	   "mkdir -p s/id3 s/id5 && tar -C l3 -cf s/id5/layer.tar . && ln -s ../id5/layer.tar s/id3/layer.tar",
	   dir);
	path = xasprintf("%s/s/config.json", dir);
	json_dump_file(config, path, 0);
	free(path);
	path = xasprintf("%s/s/manifest.json", dir);
	write_file(path, "[{\"Config\": \"config.json\", \"Layers\": [\"id0/layer.tar\", \"id1/layer.tar\", "
		   "\"id2/layer.tar\", \"id3/layer.tar\", \"id4/layer.tar\"]}]");
	free(path);
	sh("cd %s/s && tar -cf ../save.tar id0 id1 id2 id3 id4 id5 config.json manifest.json", dir);
	path = xasprintf("%s/save.tar", dir);

	assert_int_equal(layers_from_archive(&e, path, image, &w), 0);
	assert_string_equal(w.how, "docker save");
	assert_int_equal(w.nlayers, 5);
	assert_string_equal(w.layers[1].created_by, "/bin/sh -c step");
	assert_rows(&s.rows);
	engine_layers_release(&w);

	/* nothing asked for beneath: every entry */
	{
		struct layer_walk all = { .under = NULL, .fn = collect, .arg = &s };
		strbuf_reset(&s.rows);
		assert_int_equal(layers_from_archive(&e, path, image, &all), 0);
		assert_non_null(strstr(s.rows.buf, "0 0 etc/os-release 2\n"));
		assert_non_null(strstr(s.rows.buf, "1 0 var/log/apt.log 2\n"));
		engine_layers_release(&all);
	}
	/* fn's 1 ends the walk */
	{
		int calls = 0;
		struct layer_walk one = { .under = under, .fn = stop_at_once, .arg = &calls };
		assert_int_equal(layers_from_archive(&e, path, image, &one), 0);
		assert_int_equal(calls, 1);
		engine_layers_release(&one);
	}
	/* a manifest naming another image's layers is refused */
	json_array_set_new(json_object_get(json_object_get(image, "RootFS"), "Layers"), 0, json_string("sha256:other"));
	assert_int_equal(layers_from_archive(&e, path, image, &w), -1);
	assert_non_null(strstr(e.err.buf, "its configuration names 5 layers that are not the image's 5"));
	/* not an archive at all */
	write_file(path, "not a tar archive");
	assert_int_equal(layers_from_archive(&e, path, image, &w), -1);
	assert_non_null(strstr(e.err.buf, "it is not a tar archive"));

	engine_close(&e);
	json_decref(image);
	json_decref(config);
	strbuf_release(&s.rows);
	free(path);
	remove_tree(dir);
}

/*
 * The same layers as overlay2 keeps them: diff folders named by LowerDir
 * and UpperDir, a 0:0 character device for a whiteout, the opaque
 * attribute, and the configuration in the image store beside them.  Making
 * a device and a trusted.* attribute needs root: skipped without.
 */
static void test_layers_in_place(void **state)
{
	char dir[] = "/tmp/phaselab-test-overlay-XXXXXX";
	const char *under[] = { "var/lib/apt/lists", "var/cache/apt/archives", NULL };
	struct seen s = { STRBUF_INIT };
	struct layer_walk w = { .under = under, .fn = collect, .arg = &s };
	struct strbuf lower = STRBUF_INIT;
	struct engine e;
	struct fake_engine fe = { 0 };
	json_t *config, *image = five_layers(&config);
	char *path, *upper;

	(void)state;
	if (geteuid() != 0) {
		skip();
		return;
	}
	assert_non_null(mkdtemp(dir));
	fake_engine_open(&e, &fe);
	sh("cd %s && for i in 0 1 2 3 4; do mkdir -p overlay2/l$i/diff; done && cd overlay2 && "
	   "mkdir -p l0/diff/var/lib/apt/lists l0/diff/etc && : >l0/diff/var/lib/apt/lists/lock && "
	   "mkdir -p l1/diff/var/lib/apt/lists l1/diff/var/cache/apt/archives && head -c 5000 /dev/zero "
	   ">l1/diff/var/lib/apt/lists/a_Packages && head -c 12 /dev/zero >l1/diff/var/lib/apt/lists/b_InRelease && "
	   "head -c 7 /dev/zero >l1/diff/var/cache/apt/archives/curl.deb && "
	   "mkdir -p l2/diff/var/lib/apt/lists l2/diff/var/cache/apt/archives && "
	   "mknod l2/diff/var/lib/apt/lists/a_Packages c 0 0 && mknod l2/diff/var/lib/apt/lists/b_InRelease c 0 0 && "
	   "mknod l2/diff/var/cache/apt/archives/curl.deb c 0 0 && "
	   "mkdir -p l3/diff/var/lib/apt/lists && printf new >l3/diff/var/lib/apt/lists/new && "
	   "mkdir -p l4/diff/var/lib && mknod l4/diff/var/lib/apt c 0 0 && "
	   "ln -s ../../../../etc l4/diff/var/lib/link-out",
	   dir);
	path = xasprintf("%s/overlay2/l3/diff/var/lib/apt/lists", dir);
	assert_int_equal(setxattr(path, "trusted.overlay.opaque", "y", 1, 0), 0);
	free(path);
	/* the image store: <root>/image/overlay2/imagedb/content/sha256/<id> */
	sh("mkdir -p %s/image/overlay2/imagedb/content/sha256", dir);
	path = xasprintf("%s/image/overlay2/imagedb/content/sha256/%s", dir,
			 json_string_value(json_object_get(image, "Id")) + 7);
	json_dump_file(config, path, 0);
	free(path);
	for (int i = 3; i >= 0; i--)
		strbuf_addf(&lower, "%s%s/overlay2/l%d/diff", i == 3 ? "" : ":", dir, i);
	upper = xasprintf("%s/overlay2/l4/diff", dir);
	json_object_set_new(image, "GraphDriver", json_pack("{s:s, s:{s:s, s:s}}", "Name", "overlay2", "Data",
							    "LowerDir", lower.buf, "UpperDir", upper));

	assert_int_equal(layers_in_place(&e, image, &w), 0);
	assert_string_equal(w.how, "in place");
	assert_string_equal(w.layers[4].created_by, "/bin/sh -c step");
	/* the same entries as from the archive */
	assert_rows(&s.rows);
	engine_layers_release(&w);

	/* not all the layers here: the caller saves the image instead (1), having passed nothing */
	strbuf_reset(&s.rows);
	json_object_set_new(json_object_get(image, "GraphDriver"), "Data",
			    json_pack("{s:s}", "UpperDir", upper));
	assert_int_equal(layers_in_place(&e, image, &w), 1);
	assert_int_equal(s.rows.len, 0);
	/* another storage driver: the same */
	json_object_set_new(json_object_get(image, "GraphDriver"), "Name", json_string("vfs"));
	assert_int_equal(layers_in_place(&e, image, &w), 1);

	engine_close(&e);
	json_decref(image);
	json_decref(config);
	strbuf_release(&s.rows);
	strbuf_release(&lower);
	free(upper);
	remove_tree(dir);
}

/* tar_walk_range: an archive inside a file, found by the outer walk's offsets. */
struct inner {
	unsigned long long offset, size;
	int entries;
};

static int find_inner(void *arg, const struct tar_entry *te, const struct strbuf *data)
{
	struct inner *in = arg;

	(void)data;
	if (!strcmp(te->name, "in.tar")) {
		in->offset = te->offset;
		in->size = te->size;
	}
	return 0;
}

static int count_entries(void *arg, const struct tar_entry *te, const struct strbuf *data)
{
	struct inner *in = arg;

	(void)data;
	(void)te;
	in->entries++;
	return 0;
}

static void test_tar_range(void **state)
{
	char dir[] = "/tmp/phaselab-test-range-XXXXXX";
	struct inner in = { 0, 0, 0 };
	char *path;

	(void)state;
	assert_non_null(mkdtemp(dir));
	sh("cd %s && mkdir a && echo 1 >a/x && echo 2 >a/y && tar -C a -cf in.tar . && head -c 3000 /dev/urandom >pad && "
	   "tar -cf out.tar pad in.tar pad", dir);
	path = xasprintf("%s/out.tar", dir);
	assert_int_equal(tar_walk(path, find_inner, &in, 0), 0);
	assert_true(in.offset > 3000 && in.size == 10240);
	assert_int_equal(tar_walk_range(path, in.offset, in.size, count_entries, &in, 0), 0);
	assert_int_equal(in.entries, 3); /* ./, ./x, ./y */
	/* a range past the end of the file is refused */
	assert_int_equal(tar_walk_range(path, in.offset, 1u << 30, count_entries, &in, 0), -1);
	/* a range on the wrong bytes is not an archive */
	assert_int_equal(tar_walk_range(path, in.offset + 1, in.size - 1, count_entries, &in, 0), -1);
	free(path);
	remove_tree(dir);
}

/* Every engine's table of operations is complete (engine.h: "every entry is set"). */
static void test_engine_tables(void **state)
{
	const struct engine_ops *const tables[] = { &engine_docker, &fake_engine_ops };

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(tables); i++) {
		const struct engine_ops *o = tables[i];

		assert_non_null(o->name);
		assert_true(o->open && o->close && o->ping && o->build_start && o->build_finish && o->image_inspect &&
			    o->history && o->run && o->container_inspect && o->health && o->top && o->exec && o->logs &&
			    o->rootfs_dir && o->export_start && o->export_finish && o->rm_container && o->rm_image &&
			    o->rm_build && o->remove_labelled && o->reap && o->container_by_name && o->image_layers);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_probe_config),
		cmocka_unit_test(test_image_config),
		cmocka_unit_test(test_apt_clean),
		cmocka_unit_test(test_healthy_nonroot),
		cmocka_unit_test(test_layers_from_archive),
		cmocka_unit_test(test_layers_in_place),
		cmocka_unit_test(test_tar_range),
		cmocka_unit_test(test_engine_tables),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
