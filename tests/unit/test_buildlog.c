/*
 * Tests for runner/buildlog.c.
 *
 * The fixtures in tests/fixtures/buildlog/ are real `docker build` output
 * captured on dockerd 20.10 from both builders (legacy: docker 28.2 CLI with
 * DOCKER_BUILDKIT=0; BuildKit: Debian's docker 20.10 CLI with
 * DOCKER_BUILDKIT=1 --progress=plain), stdout and stderr merged, except
 * legacy-fail-split.txt (stdout, then stderr).  They are read relative to
 * the repository root, or to $PHASELAB_FIXTURES (the tests/fixtures
 * directory) when set.
 *
 * Synthetic inputs cover what this engine cannot print: newer BuildKit
 * wording, interleaved stages, and hostile input.
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

#include "engine/buildlog.h"
#include "lib/strbuf.h"
#include "lib/xalloc.h"

static char *read_fixture(const char *name, size_t *len)
{
	const char *dir = getenv("PHASELAB_FIXTURES");
	struct strbuf sb = STRBUF_INIT;
	char *path, chunk[8192];
	size_t n;
	FILE *f;

	path = xasprintf("%s/buildlog/%s", dir && *dir ? dir : "tests/fixtures", name);
	f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open fixture '%s': %s", path, strerror(errno));
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		strbuf_add(&sb, chunk, n);
	if (ferror(f))
		fail_msg("cannot read fixture '%s'", path);
	fclose(f);
	free(path);
	return strbuf_detach(&sb, len);
}

/* 1 if s is valid UTF-8: no stray or missing continuation, overlong form or surrogate. */
static int valid_utf8(const char *str)
{
	const unsigned char *s = (const unsigned char *)str;

	while (*s) {
		unsigned c = *s, need, cp, min;

		if (c < 0x80) {
			s++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			need = 1, cp = c & 0x1f, min = 0x80;
		else if (c >= 0xe0 && c <= 0xef)
			need = 2, cp = c & 0x0f, min = 0x800;
		else if (c >= 0xf0 && c <= 0xf4)
			need = 3, cp = c & 0x07, min = 0x10000;
		else
			return 0;
		for (unsigned k = 1; k <= need; k++) {
			if ((s[k] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (s[k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		s += need + 1;
	}
	return 1;
}

/* What must hold for any parse, whatever the input. */
static void check_invariants(const struct build_log *log)
{
	size_t i, failed = 0;

	if (log->builder == BUILDER_UNKNOWN) {
		assert_int_equal(log->nsteps, 0);
		assert_false(log->failed);
	}
	assert_true(log->nsteps <= BUILDLOG_STEPS_MAX);
	assert_true(log->failed_step >= -1 && log->failed_step < (long)log->nsteps);
	if (!log->failed) {
		assert_null(log->error);
		assert_int_equal(log->failed_step, -1);
		assert_int_equal(log->exit_code, -1);
	}
	for (i = 0; i < log->nsteps; i++) {
		const struct build_step *st = &log->steps[i];

		assert_non_null(st->instruction);
		assert_non_null(st->output);
		/* they become JSON evidence, which jansson only takes as UTF-8 */
		assert_true(valid_utf8(st->instruction));
		assert_true(valid_utf8(st->output));
		assert_true(!st->stage || valid_utf8(st->stage));
		assert_true(strlen(st->output) <= BUILDLOG_OUTPUT_MAX);
		assert_false(st->ran && st->cached);
		assert_int_equal(st->failed, (long)i == log->failed_step);
		failed += !!st->failed;
		if (st->stage)
			assert_true(*st->stage);
	}
	assert_true(failed <= 1);
	assert_true(!log->error || valid_utf8(log->error));
}

static const char *instr_at(const struct build_log *log, long i)
{
	return i < 0 ? NULL : log->steps[i].instruction;
}

/* assert_string_equal that also accepts two NULLs */
static void assert_str_or_null(const char *got, const char *want)
{
	if (!want)
		assert_null(got);
	else
		assert_non_null(got), assert_string_equal(got, want);
}

/* Last line of s (without its '\n'), in a static buffer. */
static const char *last_line(const char *s)
{
	static char buf[4096];
	size_t len = strlen(s);
	const char *start;

	if (len && s[len - 1] == '\n')
		len--;
	for (start = s + len; start > s && start[-1] != '\n'; start--)
		;
	snprintf(buf, sizeof(buf), "%.*s", (int)(len - (size_t)(start - s)), start);
	return buf;
}

/* --- real captures --------------------------------------------------- */

struct fixture_case {
	const char *file;
	enum builder_kind builder;
	size_t nsteps;
	const char *dep;        /* needle of the dependency step, NULL: none expected */
	int dep_cached;
	const char *dep_reason; /* instruction of first_rebuilt_before(dep) */
	const char *later;      /* needle of a later step to explain, or NULL */
	const char *later_reason;
	const char *failed_instr; /* NULL: failed_step is -1 */
	int failed;
	int exit_code;
	const char *error;
	const char *output_last; /* last output line of the failed (else dep) step */
};

#define NPM_CI "RUN npm ci --omit=dev"
#define BUILD "RUN npm run build"
#define LINT_CMD "for i in 1 2 3; do echo \"lint line $i\"; sleep 0.2; done; echo \"lint: 2 problems\" >&2; exit 3"
#define LINT "RUN " LINT_CMD

static const struct fixture_case fixtures[] = {
	/* legacy builder */
	{ "legacy-clean.txt", BUILDER_LEGACY, 10, "npm ci", 0, "WORKDIR /app",
	  "npm run build", "WORKDIR /app", NULL, 0, -1, NULL, "found 0 vulnerabilities" },
	{ "legacy-cached.txt", BUILDER_LEGACY, 10, "npm ci", 1, NULL,
	  "npm run build", NULL, NULL, 0, -1, NULL, "" },
	{ "legacy-srcchange.txt", BUILDER_LEGACY, 10, "npm ci", 1, NULL,
	  "npm run build", "COPY . .", NULL, 0, -1, NULL, "" },
	{ "legacy-copyfirst.txt", BUILDER_LEGACY, 9, "npm ci", 0, "COPY . .",
	  NULL, NULL, NULL, 0, -1, NULL, "found 0 vulnerabilities" },
	{ "legacy-fail.txt", BUILDER_LEGACY, 6, "npm ci", 0, "WORKDIR /app",
	  NULL, NULL, BUILD, 1, 127,
	  "The command '/bin/sh -c npm run build' returned a non-zero code: 127",
	  "sh: tsc: not found" },
	{ "legacy-fail-split.txt", BUILDER_LEGACY, 6, "npm ci", 0, "WORKDIR /app",
	  NULL, NULL, BUILD, 1, 127,
	  "The command '/bin/sh -c npm run build' returned a non-zero code: 127",
	  "sh: tsc: not found" },
	{ "legacy-nobase.txt", BUILDER_LEGACY, 1, NULL, 0, NULL, NULL, NULL, NULL, 1, -1,
	  "Get \"https://registry-1.docker.io/v2/\": dial tcp: lookup registry-1.docker.io"
	  " on 10.255.255.53:53: no such host", NULL },
	{ "legacy-parseerr.txt", BUILDER_LEGACY, 0, NULL, 0, NULL, NULL, NULL, NULL, 1, -1,
	  "Error response from daemon: dockerfile parse error line 3: unknown instruction: COPPY",
	  NULL },
	{ "legacy-copymissing.txt", BUILDER_LEGACY, 3, NULL, 0, NULL, NULL, NULL,
	  "COPY package.json package-lock.json yarn.lock ./", 1, -1,
	  "COPY failed: file not found in build context or excluded by .dockerignore:"
	  " stat yarn.lock: file does not exist", "" },
	{ "legacy-parallel.txt", BUILDER_LEGACY, 7, "npm ci", 0, "WORKDIR /app",
	  NULL, NULL, LINT, 1, 3,
	  "The command '/bin/sh -c for i in 1 2 3; do echo \"lint line $i\"; sleep 0.2; done;"
	  " echo \"lint: 2 problems\" >&2; exit 3' returned a non-zero code: 3",
	  "lint: 2 problems" },

	/* BuildKit */
	{ "buildkit-clean.txt", BUILDER_BUILDKIT, 8, "npm ci", 0, "WORKDIR /app",
	  "npm run build", "WORKDIR /app", NULL, 0, -1, NULL, "found 0 vulnerabilities" },
	{ "buildkit-cached.txt", BUILDER_BUILDKIT, 8, "npm ci", 1, NULL,
	  "npm run build", NULL, NULL, 0, -1, NULL, "" },
	{ "buildkit-srcchange.txt", BUILDER_BUILDKIT, 8, "npm ci", 1, NULL,
	  "npm run build", "COPY . .", NULL, 0, -1, NULL, "" },
	{ "buildkit-copyfirst.txt", BUILDER_BUILDKIT, 7, "npm ci", 0, "COPY . .",
	  NULL, NULL, NULL, 0, -1, NULL, "found 0 vulnerabilities" },
	{ "buildkit-fail.txt", BUILDER_BUILDKIT, 7, "npm ci", 0,
	  "COPY package.json package-lock.json ./", NULL, NULL, BUILD, 1, 127,
	  "executor failed running [/bin/sh -c npm run build]: exit code: 127",
	  "sh: tsc: not found" },
	{ "buildkit-nobase.txt", BUILDER_BUILDKIT, 0, NULL, 0, NULL, NULL, NULL, NULL, 1, -1,
	  "failed to solve with frontend dockerfile.v0: failed to create LLB definition:"
	  " failed to do request: Head \"https://registry-1.docker.io/v2/nosuch/image/manifests/1\":"
	  " dial tcp: lookup registry-1.docker.io on 10.255.255.53:53: no such host", NULL },
	{ "buildkit-parseerr.txt", BUILDER_BUILDKIT, 0, NULL, 0, NULL, NULL, NULL, NULL, 1, -1,
	  "failed to solve with frontend dockerfile.v0: failed to create LLB definition:"
	  " dockerfile parse error line 3: unknown instruction: COPPY", NULL },
	{ "buildkit-copymissing.txt", BUILDER_BUILDKIT, 3, NULL, 0, NULL, NULL, NULL,
	  "COPY package.json package-lock.json yarn.lock ./", 1, -1,
	  "failed to compute cache key: \"/yarn.lock\" not found: not found", "" },
	{ "buildkit-parallel.txt", BUILDER_BUILDKIT, 5, "npm ci", 0, "COPY package.json ./",
	  NULL, NULL, LINT, 1, 3,
	  "executor failed running [/bin/sh -c " LINT_CMD "]: exit code: 3",
	  "lint: 2 problems" },

	/* buildah (podman build 4.3.1, both streams in one file, as engine/podman.c reads them) */
	{ "buildah-cached.txt", BUILDER_BUILDAH, 16, "npm ci", 1, NULL,
	  "npm run build", NULL, NULL, 0, -1, NULL, "" },
	{ "buildah-srcchange.txt", BUILDER_BUILDAH, 16, "npm ci", 1, NULL,
	  "npm run build", "COPY . .", NULL, 0, -1, NULL, "" },
	{ "buildah-copyfirst.txt", BUILDER_BUILDAH, 16, "npm ci", 0, "COPY . .",
	  NULL, NULL, NULL, 0, -1, NULL, "npm notice" },
	{ "buildah-cmdnotfound.txt", BUILDER_BUILDAH, 4, NULL, 0, NULL, NULL, NULL,
	  "RUN pnpm install --frozen-lockfile", 1, 127,
	  "building at STEP \"RUN pnpm install --frozen-lockfile\": while running runtime: exit status 127",
	  "/bin/sh: pnpm: not found" },
	{ "buildah-nobase.txt", BUILDER_BUILDAH, 1, NULL, 0, NULL, NULL, NULL, NULL, 1, -1,
	  "creating build container: short-name \"phaselab-test/busybox:buildlog\" did not resolve to an alias and no"
	  " unqualified-search registries are defined in \"/etc/containers/registries.conf\"", NULL },
};

static void check_fixture(const struct fixture_case *fc, const char *text, size_t len)
{
	struct build_log log;
	long dep = -1, later, fs;

	buildlog_init(&log);
	assert_int_equal(buildlog_detect(text, len), fc->builder);
	assert_int_equal(buildlog_parse(&log, text, len), 0);
	check_invariants(&log);
	assert_int_equal(log.builder, fc->builder);
	assert_int_equal(log.nsteps, fc->nsteps);

	if (fc->dep) {
		dep = buildlog_find_step(&log, fc->dep);
		assert_true(dep >= 0);
		assert_int_equal(log.steps[dep].cached, fc->dep_cached);
		assert_int_equal(log.steps[dep].ran, !fc->dep_cached);
		assert_str_or_null(instr_at(&log, buildlog_first_rebuilt_before(&log, dep)),
				   fc->dep_reason);
	} else {
		assert_int_equal(buildlog_find_step(&log, "npm ci"), -1);
	}
	if (fc->later) {
		later = buildlog_find_step(&log, fc->later);
		assert_true(later >= 0);
		assert_str_or_null(instr_at(&log, buildlog_first_rebuilt_before(&log, later)),
				   fc->later_reason);
	}

	assert_int_equal(log.failed, fc->failed);
	assert_str_or_null(instr_at(&log, log.failed_step), fc->failed_instr);
	assert_int_equal(log.exit_code, fc->exit_code);
	assert_str_or_null(log.error, fc->error);
	fs = log.failed_step >= 0 ? log.failed_step : dep;
	if (fc->output_last && fs >= 0)
		assert_string_equal(last_line(log.steps[fs].output), fc->output_last);
	buildlog_release(&log);
}

static void test_fixtures(void **state)
{
	size_t i, len;
	char *text;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(fixtures); i++) {
		print_message("fixture %s\n", fixtures[i].file);
		text = read_fixture(fixtures[i].file, &len);
		check_fixture(&fixtures[i], text, len);
		free(text);
	}
}

/* The same captures with CRLF line ends parse the same. */
static void test_fixtures_crlf(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	size_t i, j, len;
	char *text;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(fixtures); i++) {
		text = read_fixture(fixtures[i].file, &len);
		strbuf_reset(&sb);
		for (j = 0; j < len; j++) {
			if (text[j] == '\n')
				strbuf_addch(&sb, '\r');
			strbuf_addch(&sb, text[j]);
		}
		check_fixture(&fixtures[i], sb.buf, sb.len);
		free(text);
	}
	strbuf_release(&sb);
}

/* Details the table does not cover. */
static void test_fixture_details(void **state)
{
	struct build_log log;
	size_t len;
	char *text;
	long i;

	(void)state;
	buildlog_init(&log);

	/* legacy: stages come from FROM ... AS; the unnamed last stage has none */
	text = read_fixture("legacy-clean.txt", &len);
	assert_int_equal(buildlog_parse(&log, text, len), 0);
	assert_string_equal(log.steps[0].instruction,
			    "FROM phaselab-test/busybox:buildlog AS builder");
	assert_string_equal(log.steps[3].stage, "builder");
	assert_int_equal(log.steps[3].index, 4);
	assert_int_equal(log.steps[3].total, 10);
	assert_null(log.steps[6].stage);
	assert_true(log.steps[6].stage_no != log.steps[5].stage_no);
	assert_false(log.steps[0].ran);      /* FROM is never a rebuild */
	assert_true(log.steps[4].ran);       /* COPY shows no "Running in" */
	assert_string_equal(log.steps[3].output,
			    "\nadded 1 package, and audited 2 packages in 512ms\n\n"
			    "found 0 vulnerabilities\n");
	assert_string_equal(log.steps[2].output, "");
	free(text);

	/* legacy: the red colour codes around stderr are gone */
	text = read_fixture("legacy-fail.txt", &len);
	assert_int_equal(buildlog_parse(&log, text, len), 0);
	assert_string_equal(log.steps[5].output,
			    "\n> app@1.0.0 build\n> tsc -p . && echo built\n\n"
			    "sh: tsc: not found\n");
	free(text);

	/* legacy: the FROM whose image is missing is listed but not blamed */
	text = read_fixture("legacy-nobase.txt", &len);
	assert_int_equal(buildlog_parse(&log, text, len), 0);
	assert_string_equal(log.steps[0].instruction, "FROM nosuch/image:1 AS builder");
	assert_string_equal(log.steps[0].output, "");
	assert_false(log.steps[0].failed);
	free(text);

	/* BuildKit: grouped by stage, per-stage numbers, "stage-1" is unnamed */
	text = read_fixture("buildkit-clean.txt", &len);
	assert_int_equal(buildlog_parse(&log, text, len), 0);
	assert_null(log.steps[0].stage);
	assert_string_equal(log.steps[0].instruction,
			    "FROM docker.io/phaselab-test/busybox:buildlog");
	assert_int_equal(log.steps[0].index, 1);
	assert_int_equal(log.steps[0].total, 3);
	assert_int_equal(log.steps[1].index, 2);
	assert_int_equal(log.steps[2].index, 3);
	/*
	 * the unnamed stage is the Dockerfile's second FROM and printed first:
	 * its steps are named by BuildKit's label, not by the order of the output
	 */
	{
		struct strbuf ref = STRBUF_INIT;

		buildlog_step_ref(&log, &log.steps[1], &ref);
		assert_string_equal(ref.buf, "step [stage-1 2/3]");
		strbuf_reset(&ref);
		buildlog_step_ref(&log, &log.steps[3], &ref);
		assert_string_equal(ref.buf, "step [builder 2/6]");
		strbuf_release(&ref);
	}
	for (i = 3; i < 8; i++) {
		assert_string_equal(log.steps[i].stage, "builder");
		assert_int_equal(log.steps[i].index, i - 1);
		assert_int_equal(log.steps[i].total, 6);
	}
	assert_string_equal(log.steps[5].output,
			    "\nadded 1 package, and audited 2 packages in 512ms\n\n"
			    "found 0 vulnerabilities\n");
	free(text);

	/* BuildKit: the canceled parallel step keeps what it printed */
	text = read_fixture("buildkit-parallel.txt", &len);
	assert_int_equal(buildlog_parse(&log, text, len), 0);
	i = buildlog_find_step(&log, "deps line");
	assert_string_equal(log.steps[i].stage, "deps");
	assert_string_equal(log.steps[i].output,
			    "deps line 1\ndeps line 2\ndeps line 3\ndeps line 4\n");
	assert_string_equal(log.steps[log.failed_step].stage, "lint");
	free(text);

	buildlog_release(&log);
	buildlog_release(&log); /* releasing twice is harmless */
}

/* --- synthetic input ------------------------------------------------- */

static void test_detect(void **state)
{
	static const struct {
		const char *text;
		enum builder_kind kind;
	} rows[] = {
		{ "", BUILDER_UNKNOWN },
		{ "\n\n\r\n", BUILDER_UNKNOWN },
		{ "hello\nworld", BUILDER_UNKNOWN },
		{ "Step 1/", BUILDER_UNKNOWN },
		{ "Step x/2 : FROM a", BUILDER_UNKNOWN },
		{ "#", BUILDER_UNKNOWN },
		{ "#1 hello", BUILDER_UNKNOWN },
		{ "#1 [internal", BUILDER_UNKNOWN },
		{ "ERROR: BuildKit is enabled but the buildx component is missing or broken.",
		  BUILDER_UNKNOWN },
		{ "Step 1/2 : FROM a", BUILDER_LEGACY },
		{ "Step 1/2 :", BUILDER_LEGACY },
		{ "noise\r\nStep 1/2 : FROM a\r\n", BUILDER_LEGACY },
		{ "Sending build context to Docker daemon  2.048kB\r\r\n", BUILDER_LEGACY },
		{ "DEPRECATED: The legacy builder is deprecated and will be removed", BUILDER_LEGACY },
		{ "\x1b[0mStep 1/2 : FROM a", BUILDER_LEGACY },
		{ "#1 [internal] load build definition from Dockerfile", BUILDER_BUILDKIT },
		{ "#0 building with \"default\" instance using docker driver", BUILDER_BUILDKIT },
		{ "#12 CACHED", BUILDER_BUILDKIT },
		{ "#3 DONE 0.1s", BUILDER_BUILDKIT },
		{ "#3 ERROR: boom", BUILDER_BUILDKIT },
		{ "#1 [internal] x\nStep 1/2 : FROM a", BUILDER_BUILDKIT }, /* first sign wins */
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(rows); i++) {
		print_message("detect row %zu\n", i);
		assert_int_equal(buildlog_detect(rows[i].text, strlen(rows[i].text)),
				 rows[i].kind);
	}
	assert_int_equal(buildlog_detect(NULL, 0), BUILDER_UNKNOWN);
}

/* Newer BuildKit wording (docker 23+), written from its documented format. */
static const char newer_buildkit[] =
	"#0 building with \"default\" instance using docker driver\n"
	"\n"
	"#1 [internal] load build definition from Dockerfile\n"
	"#1 transferring dockerfile: 295B done\n"
	"#1 DONE 0.0s\n"
	"\n"
	"#5 [builder 1/6] FROM docker.io/library/node:20-alpine@sha256:abc\n"
	"#5 DONE 0.0s\n"
	"\n"
	"#6 [builder 2/6] WORKDIR /app\n"
	"#6 CACHED\n"
	"\n"
	"#7 [builder 3/6] COPY package*.json ./\n"
	"#7 CACHED\n"
	"\n"
	"#8 [builder 4/6] RUN npm ci --omit=dev\n"
	"#8 CACHED\n"
	"\n"
	"#9 [builder 5/6] COPY . .\n"
	"#9 DONE 0.0s\n"
	"\n"
	"#10 [builder 6/6] RUN npm run build\n"
	"#10 0.467 \n"
	"#10 0.467 > app@1.0.0 build\n"
	"#10 0.470 sh: tsc: not found\n"
	"#10 ERROR: process \"/bin/sh -c npm run build\" did not complete successfully: exit code: 127\n"
	"------\n"
	" > [builder 6/6] RUN npm run build:\n"
	"0.467 \n"
	"0.467 > app@1.0.0 build\n"
	"0.470 sh: tsc: not found\n"
	"------\n"
	" 1 warning found (use docker --debug to expand):\n"
	" - FromAsCasing: 'as' and 'FROM' keywords' casing do not match (line 1)\n"
	"Dockerfile:9\n"
	"--------------------\n"
	"   7 |     COPY . .\n"
	"   8 |     \n"
	"   9 | >>> RUN npm run build\n"
	"--------------------\n"
	"ERROR: failed to solve: process \"/bin/sh -c npm run build\" did not complete successfully: exit code: 127\n";

static void test_newer_buildkit(void **state)
{
	struct build_log log;
	long dep;

	(void)state;
	buildlog_init(&log);
	assert_int_equal(buildlog_parse(&log, newer_buildkit, strlen(newer_buildkit)), 0);
	check_invariants(&log);
	assert_int_equal(log.builder, BUILDER_BUILDKIT);
	assert_int_equal(log.nsteps, 6);
	assert_true(log.failed);
	assert_string_equal(instr_at(&log, log.failed_step), "RUN npm run build");
	assert_int_equal(log.exit_code, 127);
	assert_string_equal(log.error, "ERROR: failed to solve: process \"/bin/sh -c npm run build\""
			    " did not complete successfully: exit code: 127");
	/* the block's copy of the output is not added twice */
	assert_string_equal(log.steps[log.failed_step].output,
			    "\n> app@1.0.0 build\nsh: tsc: not found\n");
	dep = buildlog_find_step(&log, "npm ci");
	assert_true(log.steps[dep].cached);
	assert_string_equal(instr_at(&log, buildlog_first_rebuilt_before(&log, log.failed_step)),
			    "COPY . .");
	buildlog_release(&log);
}

struct parse_row {
	const char *name;
	const char *text;
	int ret;
	enum builder_kind builder;
	size_t nsteps;
	int failed;
	const char *failed_instr;
	int exit_code;
	const char *error;
};

static const struct parse_row parse_rows[] = {
	{ "empty", "", -1, BUILDER_UNKNOWN, 0, 0, NULL, -1, NULL },
	{ "garbage", "\xff\xfe\x01 lorem\n\x1b[31mipsum\n#x\n", -1, BUILDER_UNKNOWN, 0, 0, NULL, -1, NULL },
	{ "legacy header without newline", "Step 1/2 : FROM a AS b", 0, BUILDER_LEGACY,
	  1, 0, NULL, -1, NULL },
	{ "legacy header cut short", "Step 1/2 : FROM a\n ---> 0123456789ab\nStep 2/2 : RU", 0,
	  BUILDER_LEGACY, 2, 0, NULL, -1, NULL },
	{ "legacy error without newline",
	  "Step 1/2 : FROM a\n ---> 0123456789ab\nStep 2/2 : RUN x\n ---> Running in 0123456789ab\n"
	  "sh: x: not found\nThe command '/bin/sh -c x' returned a non-zero code: 127",
	  0, BUILDER_LEGACY, 2, 1, "RUN x", 127,
	  "The command '/bin/sh -c x' returned a non-zero code: 127" },
	{ "legacy error cut in the exit code",
	  "Step 1/1 : RUN x\n ---> Running in 0123456789ab\nThe command '/bin/sh -c x' returned a non-zero code: ",
	  0, BUILDER_LEGACY, 1, 1, "RUN x", -1,
	  "The command '/bin/sh -c x' returned a non-zero code:" }, /* blank dropped */
	{ "legacy success, stderr after stdout",
	  "Step 1/1 : FROM a\n ---> 0123456789ab\nSuccessfully built 0123456789ab\n"
	  "DEPRECATED: The legacy builder is deprecated and will be removed in a future release.\n"
	  "            BuildKit is currently disabled\n\n",
	  0, BUILDER_LEGACY, 1, 0, NULL, -1, NULL },
	{ "legacy stopped after a structure line", "Step 1/1 : RUN x\n ---> Running in 0123456789ab\n",
	  0, BUILDER_LEGACY, 1, 0, NULL, -1, NULL },
	{ "legacy exec-form failure",
	  "Step 1/1 : RUN [\"false\"]\n ---> Running in 0123456789ab\n"
	  "The command 'false' returned a non-zero code: 1\n",
	  0, BUILDER_LEGACY, 1, 1, "RUN [\"false\"]", 1, "The command 'false' returned a non-zero code: 1" },
	{ "buildkit cut in a header", "#1 [internal] load build definition\n#5 [builder 2/", 0,
	  BUILDER_BUILDKIT, 0, 0, NULL, -1, NULL },
	{ "buildkit cut in a log line", "#5 [2/3] RUN x\n#5 0.1", 0, BUILDER_BUILDKIT, 1, 0, NULL, -1, NULL },
	{ "buildkit error without message", "#5 [2/3] RUN x\n#5 ERROR", 0, BUILDER_BUILDKIT,
	  1, 1, "RUN x", -1, NULL },
	{ "buildkit vertex number too large", "#1 [internal] x\n#99999999 [a 1/2] RUN x\n#99999999 CACHED\n",
	  0, BUILDER_BUILDKIT, 0, 0, NULL, -1, NULL },
	{ "buildkit vertex number overflows", "#1 [internal] x\n#99999999999999999999 [a 1/2] RUN x\n",
	  0, BUILDER_BUILDKIT, 0, 0, NULL, -1, NULL },
	{ "buildkit log began mid-vertex", "#7 0.5 hello\n#7 DONE 0.1s\n#8 [b 2/2] RUN y\n#8 CACHED\n",
	  0, BUILDER_BUILDKIT, 1, 0, NULL, -1, NULL },
	{ "buildkit cache import error, build exported",
	  "#1 [internal] load build definition\n#4 importing cache manifest from x\n"
	  "#4 ERROR: failed to configure registry cache importer: not found\n"
	  "#5 [1/2] FROM docker.io/library/alpine\n#5 DONE 0.1s\n"
	  "#9 exporting to image\n#9 exporting layers done\n#9 DONE 0.0s\n",
	  0, BUILDER_BUILDKIT, 1, 0, NULL, -1, NULL },
	{ "buildkit base image missing (newer wording)",
	  "#0 building with \"default\" instance using docker driver\n\n"
	  "#2 [internal] load metadata for docker.io/nosuch/image:1\n"
	  "#2 ERROR: docker.io/nosuch/image:1: not found\n------\n"
	  " > [internal] load metadata for docker.io/nosuch/image:1:\n------\n"
	  "Dockerfile:1\n--------------------\n   1 | >>> FROM nosuch/image:1\n--------------------\n"
	  "ERROR: failed to solve: nosuch/image:1: failed to resolve source metadata for"
	  " docker.io/nosuch/image:1: docker.io/nosuch/image:1: not found\n",
	  0, BUILDER_BUILDKIT, 0, 1, NULL, -1,
	  "ERROR: failed to solve: nosuch/image:1: failed to resolve source metadata for"
	  " docker.io/nosuch/image:1: docker.io/nosuch/image:1: not found" },
	{ "buildkit pull of base fails in FROM",
	  "#3 [builder 1/2] FROM docker.io/library/node:20\n#3 ERROR: unexpected EOF\n"
	  "------\n > [builder 1/2] FROM docker.io/library/node:20:\n------\n"
	  "failed to solve: unexpected EOF\n",
	  0, BUILDER_BUILDKIT, 1, 1, NULL, -1, "failed to solve: unexpected EOF" },
	{ "buildkit only the block names the step",
	  "#3 [2/2] RUN make\n#3 0.1 cc: error\n------\n > [2/2] RUN make:\n------\n"
	  "error: failed to solve: exit code: 2\n",
	  0, BUILDER_BUILDKIT, 1, 1, "RUN make", 2, "error: failed to solve: exit code: 2" },
	{ "buildkit unbalanced block", "#3 [2/2] RUN make\n#3 ERROR: exit code: 2\n------\n > [2/2] RUN",
	  0, BUILDER_BUILDKIT, 1, 1, "RUN make", 2, "exit code: 2" },
};

static void test_parse_rows(void **state)
{
	struct build_log log;
	size_t i;

	(void)state;
	buildlog_init(&log);
	for (i = 0; i < ARRAY_SIZE(parse_rows); i++) {
		const struct parse_row *r = &parse_rows[i];

		print_message("parse row '%s'\n", r->name);
		assert_int_equal(buildlog_parse(&log, r->text, strlen(r->text)), r->ret);
		check_invariants(&log);
		assert_int_equal(log.builder, r->builder);
		assert_int_equal(log.nsteps, r->nsteps);
		assert_int_equal(log.failed, r->failed);
		assert_str_or_null(instr_at(&log, log.failed_step), r->failed_instr);
		assert_int_equal(log.exit_code, r->exit_code);
		assert_str_or_null(log.error, r->error);
	}
	buildlog_release(&log);
}

/* Stages that run at once print their vertices interleaved. */
static void test_buildkit_interleaved(void **state)
{
	static const char text[] =
		"#4 [deps 3/3] RUN npm ci\n"
		"#6 [test 2/2] RUN npm test\n"
		"#4 0.1 deps one\n"
		"#6 0.1 test one\n"
		"#4 [deps 3/3] RUN npm ci\n"   /* newer BuildKit repeats the header */
		"#4 0.2 deps two\n"
		"#6 0.3 test two\n"
		"#6 ERROR: process \"/bin/sh -c npm test\" did not complete successfully: exit code: 1\n"
		"#4 CANCELED\n"
		"#3 [deps 2/3] COPY package.json .\n"
		"#3 CACHED\n"
		"#5 [test 1/2] COPY . .\n"
		"#5 DONE 0.1s\n";
	struct build_log log;
	long dep, t;

	(void)state;
	buildlog_init(&log);
	assert_int_equal(buildlog_parse(&log, text, strlen(text)), 0);
	check_invariants(&log);
	assert_int_equal(log.nsteps, 4);
	dep = buildlog_find_step(&log, "npm ci");
	t = buildlog_find_step(&log, "npm test");
	assert_string_equal(log.steps[dep].output, "deps one\ndeps two\n");
	assert_string_equal(log.steps[t].output, "test one\ntest two\n");
	assert_int_equal(log.failed_step, t);
	assert_int_equal(log.exit_code, 1);
	assert_string_equal(log.error, "process \"/bin/sh -c npm test\" did not complete"
			    " successfully: exit code: 1");
	/* sorted by stage then index, whatever order they printed in */
	assert_string_equal(log.steps[0].instruction, "COPY package.json .");
	assert_string_equal(log.steps[1].instruction, "RUN npm ci");
	assert_string_equal(log.steps[2].instruction, "COPY . .");
	assert_true(log.steps[0].cached);
	assert_string_equal(instr_at(&log, buildlog_first_rebuilt_before(&log, t)), "COPY . .");
	/* nothing before deps 3/3 ran: the reason is not looked for in another stage */
	assert_int_equal(buildlog_first_rebuilt_before(&log, dep), -1);
	buildlog_release(&log);
}

static void test_legacy_stages(void **state)
{
	static const char text[] =
		"Step 1/7 : ARG BASE=alpine\n"
		"Step 2/7 : from base as Build\n"
		" ---> 0123456789ab\n"
		"Step 3/7 : RUN make\n"
		" ---> Running in 0123456789ab\n"
		"Removing intermediate container 0123456789ab\n"
		" ---> 0123456789ab\n"
		"Step 4/7 : FROM base\n"
		" ---> 0123456789ab\n"
		"Step 5/7 : RUN npm ci\n"
		" ---> Using cache\n"
		" ---> 0123456789ab\n"
		"Step 6/7 : FROM --platform=linux/amd64 base AS final\n"
		" ---> 0123456789ab\n"
		"Step 7/7 : COPY --from=Build /x /x\n"
		" ---> [Warning] The requested image's platform does not match\n"
		" ---> 0123456789ab\n"
		"Successfully built 0123456789ab\n";
	struct build_log log;

	(void)state;
	buildlog_init(&log);
	assert_int_equal(buildlog_parse(&log, text, strlen(text)), 0);
	check_invariants(&log);
	assert_int_equal(log.nsteps, 7);
	assert_null(log.steps[0].stage);
	assert_int_equal(log.steps[0].stage_no, 0);
	assert_string_equal(log.steps[1].stage, "Build");
	assert_string_equal(log.steps[2].stage, "Build");
	assert_null(log.steps[3].stage);
	assert_null(log.steps[4].stage);
	assert_string_equal(log.steps[6].stage, "final");
	assert_true(log.steps[2].stage_no != log.steps[4].stage_no);
	assert_true(log.steps[0].ran); /* a global ARG is evaluated anew */
	assert_false(log.steps[1].ran);
	/* make ran in the first stage; the unnamed second stage is another stage */
	assert_int_equal(buildlog_first_rebuilt_before(&log, 4), -1);
	assert_true(log.steps[4].cached);
	assert_string_equal(log.steps[6].output,
			    " ---> [Warning] The requested image's platform does not match\n");
	assert_false(log.failed);
	buildlog_release(&log);
}

static void test_buildkit_platform_label(void **state)
{
	static const char text[] =
		"#5 [linux/amd64 builder 2/6] WORKDIR /app\n#5 DONE 0.0s\n"
		"#6 [linux/arm64 3/4] RUN true\n#6 CACHED\n";
	struct build_log log;

	(void)state;
	buildlog_init(&log);
	assert_int_equal(buildlog_parse(&log, text, strlen(text)), 0);
	check_invariants(&log);
	assert_int_equal(log.nsteps, 2);
	assert_string_equal(log.steps[0].stage, "builder");
	assert_int_equal(log.steps[0].index, 2);
	assert_null(log.steps[1].stage);
	assert_int_equal(log.steps[1].index, 3);
	assert_int_equal(log.steps[1].total, 4);
	buildlog_release(&log);
}

/* Carriage returns: the text after the last one is what a terminal shows. */
static void test_carriage_returns(void **state)
{
	static const char text[] =
		"Sending build context to Docker daemon  1MB\rSending build context to Docker daemon  2MB\r\r\n"
		"Step 1/1 : RUN x\r\n"
		" ---> Running in 0123456789ab\r\n"
		"10%\r50%\r100%\r\n"
		"a\x1b]0;title\x07" "b\x1b[1;31mc\x1b[0m\x01\x7f\t\x1b\n"
		"half an escape \x1b[12";
	struct build_log log;

	(void)state;
	buildlog_init(&log);
	assert_int_equal(buildlog_parse(&log, text, sizeof(text) - 1), 0);
	check_invariants(&log);
	assert_int_equal(log.nsteps, 1);
	assert_string_equal(log.steps[0].instruction, "RUN x");
	/* the last line is taken as the error: the log stops without success */
	assert_string_equal(log.steps[0].output, "100%\nabc\n");
	assert_string_equal(log.error, "half an escape");
	buildlog_release(&log);
}

static void test_huge_single_line(void **state)
{
	size_t n = 4 * 1024 * 1024, marked = BUILDLOG_LINE_MAX + strlen(" [line truncated]");
	struct strbuf sb = STRBUF_INIT;
	struct build_log log;
	char *line = xmalloc(n);

	(void)state;
	memset(line, 'a', n);
	buildlog_init(&log);
	assert_int_equal(buildlog_parse(&log, line, n), -1);
	check_invariants(&log);

	/* as a step's output it is cut, with a mark */
	strbuf_addstr(&sb, "Step 1/1 : RUN x\n ---> Running in 0123456789ab\n");
	strbuf_add(&sb, line, n);
	strbuf_addstr(&sb, "\nRemoving intermediate container 0123456789ab\n ---> 0123456789ab\n"
		      "Successfully built 0123456789ab\n");
	assert_int_equal(buildlog_parse(&log, sb.buf, sb.len), 0);
	check_invariants(&log);
	assert_false(log.failed);
	assert_int_equal(strlen(log.steps[0].output), marked + 1);
	assert_non_null(strstr(log.steps[0].output, "a [line truncated]\n"));

	/* as the last line of a failed log it is the (bounded) error */
	strbuf_reset(&sb);
	strbuf_addstr(&sb, "Step 1/1 : RUN x\n ---> Running in 0123456789ab\n");
	strbuf_add(&sb, line, n);
	assert_int_equal(buildlog_parse(&log, sb.buf, sb.len), 0);
	check_invariants(&log);
	assert_true(log.failed);
	assert_int_equal(strlen(log.error), marked);
	assert_string_equal(log.steps[0].output, "");

	/* and as BuildKit's final error */
	strbuf_reset(&sb);
	strbuf_addstr(&sb, "#1 [internal] load build definition from Dockerfile\n");
	strbuf_add(&sb, line, n);
	assert_int_equal(buildlog_parse(&log, sb.buf, sb.len), 0);
	check_invariants(&log);
	assert_int_equal(strlen(log.error), marked);

	buildlog_release(&log);
	strbuf_release(&sb);
	free(line);
}

/*
 * Regression (fixed): clean_line (runner/buildlog.c) kept every byte from 0x80 up
 * and cut a long line at BUILDLOG_LINE_MAX bytes wherever that fell.  A
 * Latin-1 "caf\xe9" in a RUN line, or a cut in the middle of a character,
 * left invalid UTF-8 in the step, and build_step_json() (jansson) returned
 * NULL for it: the failed step vanished from the evidence.  Invalid bytes
 * become U+FFFD and the cut falls on a character boundary.
 */
#define FFFD "\xef\xbf\xbd"
#define MARK " [line truncated]"

static void test_utf8_regression(void **state)
{
	static const char legacy_tail[] = "\n ---> Running in 0123456789ab\nout\xff\n ---> 0123456789ab\n"
					  "Successfully built 0123456789ab\n";
	struct strbuf sb = STRBUF_INIT, want = STRBUF_INIT;
	struct build_log log;
	size_t prefix = strlen("Step 1/1 : ");

	(void)state;
	buildlog_init(&log);

	/* Latin-1 in an instruction and in its output */
	strbuf_addf(&sb, "Step 1/1 : RUN echo caf\xe9%s", legacy_tail);
	assert_int_equal(buildlog_parse(&log, sb.buf, sb.len), 0);
	check_invariants(&log);
	assert_string_equal(log.steps[0].instruction, "RUN echo caf" FFFD);
	assert_string_equal(log.steps[0].output, "out" FFFD "\n");

	/* "\xc3\xa9" across the bound: the cut comes before it */
	strbuf_reset(&sb);
	strbuf_addstr(&sb, "Step 1/1 : RUN echo ");
	while (sb.len < BUILDLOG_LINE_MAX - 1)
		strbuf_addch(&sb, 'a');
	strbuf_addstr(&sb, "\xc3\xa9tail");
	strbuf_addstr(&sb, legacy_tail);
	assert_int_equal(buildlog_parse(&log, sb.buf, sb.len), 0);
	check_invariants(&log);
	strbuf_add(&want, sb.buf + prefix, BUILDLOG_LINE_MAX - 1 - prefix);
	strbuf_addstr(&want, MARK);
	assert_string_equal(log.steps[0].instruction, want.buf);

	/* ending exactly at the bound, it is kept whole */
	strbuf_reset(&sb);
	strbuf_addstr(&sb, "Step 1/1 : RUN echo ");
	while (sb.len < BUILDLOG_LINE_MAX - 2)
		strbuf_addch(&sb, 'a');
	strbuf_addstr(&sb, "\xc3\xa9");
	strbuf_addstr(&sb, legacy_tail);
	assert_int_equal(buildlog_parse(&log, sb.buf, sb.len), 0);
	check_invariants(&log);
	assert_int_equal(strlen(log.steps[0].instruction), BUILDLOG_LINE_MAX - prefix);
	assert_memory_equal(log.steps[0].instruction + BUILDLOG_LINE_MAX - prefix - 2, "\xc3\xa9", 3);

	/* invalid bytes grow threefold: still bounded, still cut between characters */
	strbuf_reset(&sb);
	strbuf_addstr(&sb, "Step 1/1 : RUN echo ");
	for (int i = 0; i < BUILDLOG_LINE_MAX; i++)
		strbuf_addch(&sb, '\xff');
	strbuf_addstr(&sb, legacy_tail);
	assert_int_equal(buildlog_parse(&log, sb.buf, sb.len), 0);
	check_invariants(&log);
	assert_true(strlen(log.steps[0].instruction) <= BUILDLOG_LINE_MAX - prefix + strlen(MARK));
	assert_true(strlen(log.steps[0].instruction) > BUILDLOG_LINE_MAX - prefix - 3);
	assert_non_null(strstr(log.steps[0].instruction, FFFD MARK));

	/* BuildKit: the step's name and its output */
	strbuf_reset(&sb);
	strbuf_addstr(&sb, "#1 [internal] load build definition from Dockerfile\n"
		      "#5 [2/2] RUN echo caf\xe9\n#5 0.101 caf\xe9 \xed\xa0\x80\n#5 DONE 0.1s\n");
	assert_int_equal(buildlog_parse(&log, sb.buf, sb.len), 0);
	check_invariants(&log);
	assert_int_equal(log.nsteps, 1);
	assert_string_equal(log.steps[0].instruction, "RUN echo caf" FFFD);
	/* a surrogate is invalid too: one U+FFFD per maximal invalid subpart */
	assert_string_equal(log.steps[0].output, "caf" FFFD " " FFFD FFFD FFFD "\n");

	buildlog_release(&log);
	strbuf_release(&sb);
	strbuf_release(&want);
}

/* Megabytes of output: each step keeps its last BUILDLOG_OUTPUT_MAX bytes. */
static void test_huge_output(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	struct build_log log;
	const char *out;
	int i;

	(void)state;
	strbuf_addstr(&sb, "#1 [internal] load build definition from Dockerfile\n"
		      "#7 [builder 4/6] RUN npm ci\n");
	for (i = 0; i < 100000; i++)
		strbuf_addf(&sb, "#7 %d.%03d line %d of the install\n", i / 1000, i % 1000, i);
	strbuf_addstr(&sb, "#7 DONE 99.0s\n");
	buildlog_init(&log);
	assert_int_equal(buildlog_parse(&log, sb.buf, sb.len), 0);
	check_invariants(&log);
	out = log.steps[0].output;
	assert_true(strlen(out) > BUILDLOG_OUTPUT_MAX - 100);
	assert_true(strncmp(out, "line ", 5) == 0); /* starts at a line */
	assert_string_equal(last_line(out), "line 99999 of the install");
	buildlog_release(&log);

	/* the same amount through the legacy builder */
	strbuf_reset(&sb);
	strbuf_addstr(&sb, "Step 1/1 : RUN npm ci\n ---> Running in 0123456789ab\n");
	for (i = 0; i < 100000; i++)
		strbuf_addf(&sb, "line %d of the install\n", i);
	strbuf_addstr(&sb, "The command '/bin/sh -c npm ci' returned a non-zero code: 1\n");
	assert_int_equal(buildlog_parse(&log, sb.buf, sb.len), 0);
	check_invariants(&log);
	out = log.steps[0].output;
	assert_true(strlen(out) > BUILDLOG_OUTPUT_MAX - 100);
	assert_true(strncmp(out, "line ", 5) == 0);
	assert_string_equal(last_line(out), "line 99999 of the install");
	assert_int_equal(log.exit_code, 1);
	buildlog_release(&log);
	strbuf_release(&sb);
}

static void test_too_many_steps(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	struct build_log log;
	int i;

	(void)state;
	for (i = 1; i <= 2000; i++)
		strbuf_addf(&sb, "Step %d/2000 : RUN echo %d\n ---> Running in 0123456789ab\n%d\n", i, i, i);
	buildlog_init(&log);
	assert_int_equal(buildlog_parse(&log, sb.buf, sb.len), 0);
	check_invariants(&log);
	assert_int_equal(log.nsteps, BUILDLOG_STEPS_MAX);
	buildlog_release(&log);

	strbuf_reset(&sb);
	for (i = 1; i <= 2000; i++)
		strbuf_addf(&sb, "#%d [s%d 2/2] RUN echo\n#%d 0.1 out\n", i, i, i);
	assert_int_equal(buildlog_parse(&log, sb.buf, sb.len), 0);
	check_invariants(&log);
	assert_int_equal(log.nsteps, BUILDLOG_STEPS_MAX);
	buildlog_release(&log);
	strbuf_release(&sb);
}

static void test_lookups(void **state)
{
	struct build_log log;
	size_t len;
	char *text;

	(void)state;
	buildlog_init(&log);
	assert_int_equal(buildlog_find_step(&log, "npm ci"), -1);
	assert_int_equal(buildlog_first_rebuilt_before(&log, 0), -1);

	text = read_fixture("legacy-copyfirst.txt", &len);
	assert_int_equal(buildlog_parse(&log, text, len), 0);
	assert_int_equal(buildlog_find_step(&log, NULL), -1);
	assert_int_equal(buildlog_find_step(&log, "npm CI"), -1); /* case matters */
	assert_int_equal(buildlog_find_step(&log, "WORKDIR"), 1);
	assert_int_equal(buildlog_first_rebuilt_before(&log, -1), -1);
	assert_int_equal(buildlog_first_rebuilt_before(&log, (long)log.nsteps), -1);
	assert_int_equal(buildlog_first_rebuilt_before(&log, 0), -1);
	/* parsing again replaces the previous result */
	assert_int_equal(buildlog_parse(&log, "nothing", 7), -1);
	assert_int_equal(log.nsteps, 0);
	assert_int_equal(log.builder, BUILDER_UNKNOWN);
	buildlog_release(&log);
	free(text);
}

/*
 * Step numbers as the learner's `docker build` prints them: the legacy
 * builder adds a step for the engine's --label and counts it in every total
 * (captures: the same Dockerfiles built with --label org.phaselab.run=...,
 * which print "Step 3/5" and "Step 3/6" where a plain build prints 3/4, 3/5).
 */
static void test_label_step_numbers(void **state)
{
	static const struct {
		const char *file;
		size_t nsteps_before, nsteps;
		int total;             /* every step's, after */
		const char *last;      /* the last step's instruction, after */
		long failed_step;
		int failed_index;
	} rows[] = {
		{ "legacy-labelled.txt", 5, 4, 4, "CMD [\"x\"]", -1, 0 },
		{ "legacy-labelled-fail.txt", 3, 3, 5, "RUN echo about to fail; nosuchcmd --version", 2, 3 },
		/* no label step and no label counted: a BuildKit log is left alone */
		{ "buildkit-clean.txt", 0, 0, 0, NULL, -1, 0 },
	};
	struct build_log log;
	size_t len, i, j;
	char *text;

	(void)state;
	buildlog_init(&log);
	for (i = 0; i < ARRAY_SIZE(rows); i++) {
		struct build_log before;

		text = read_fixture(rows[i].file, &len);
		assert_int_equal(buildlog_parse(&log, text, len), 0);
		buildlog_init(&before);
		assert_int_equal(buildlog_parse(&before, text, len), 0);
		if (rows[i].nsteps_before)
			assert_int_equal(log.nsteps, rows[i].nsteps_before);
		buildlog_drop_label_step(&log, "org.phaselab.run");
		check_invariants(&log);
		if (log.builder == BUILDER_BUILDKIT) {
			assert_int_equal(log.nsteps, before.nsteps);
			for (j = 0; j < log.nsteps; j++)
				assert_int_equal(log.steps[j].total, before.steps[j].total);
		} else {
			assert_int_equal(log.nsteps, rows[i].nsteps);
			for (j = 0; j < log.nsteps; j++) {
				assert_int_equal(log.steps[j].total, rows[i].total);
				assert_int_equal(log.steps[j].index, (int)j + 1);
			}
			assert_string_equal(log.steps[log.nsteps - 1].instruction, rows[i].last);
			assert_int_equal(log.failed_step, rows[i].failed_step);
			if (rows[i].failed_step >= 0)
				assert_int_equal(log.steps[log.failed_step].index, rows[i].failed_index);
		}
		buildlog_release(&before);
		free(text);
	}
	/* a LABEL with another key is the learner's own step: kept */
	/*
	 * buildah: the label is the last stage's last step, quoted, and counted
	 * in that stage alone ("[2/2] STEP 10/10: LABEL ..."; the builder
	 * stage's "6/6" stays).
	 */
	text = read_fixture("buildah-srcchange.txt", &len);
	assert_int_equal(buildlog_parse(&log, text, len), 0);
	assert_int_equal(log.nsteps, 16);
	assert_int_equal(log.stages, 2);
	buildlog_drop_label_step(&log, "org.phaselab.record");
	check_invariants(&log);
	assert_int_equal(log.nsteps, 15);
	for (j = 0; j < log.nsteps; j++) {
		assert_int_equal(log.steps[j].stage_no, j < 6 ? 1 : 2);
		assert_int_equal(log.steps[j].total, j < 6 ? 6 : 9);
		assert_string_equal(log.steps[j].stage ? log.steps[j].stage : "", j < 6 ? "builder" : "");
	}
	assert_string_equal(log.steps[14].instruction, "CMD [\"dist/server.js\"]");
	/* the steps that ran carry buildah's short image id, those from the cache the full one */
	assert_string_equal(log.steps[1].image, "df43bb3e36f7aacac1fd481457686dace8e29fd518216388865055ab78361da2");
	assert_true(log.steps[4].ran && log.steps[4].image && strlen(log.steps[4].image) == 11);
	free(text);
	/* a failure in the builder stage: its totals never counted the label */
	text = read_fixture("buildah-cmdnotfound.txt", &len);
	assert_int_equal(buildlog_parse(&log, text, len), 0);
	buildlog_drop_label_step(&log, "org.phaselab.record");
	assert_int_equal(log.nsteps, 4);
	assert_int_equal(log.steps[3].total, 4);
	free(text);

	text = read_fixture("legacy-labelled.txt", &len);
	assert_int_equal(buildlog_parse(&log, text, len), 0);
	buildlog_drop_label_step(&log, "org.example.other");
	assert_int_equal(log.nsteps, 5);
	assert_string_equal(log.steps[4].instruction, "LABEL org.phaselab.run=d-fixture");
	free(text);
	buildlog_release(&log);
}

/* Every prefix and a few thousand mutations of the captures parse safely. */
static uint32_t xorshift(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static void test_robust(void **state)
{
	static const char *const bytes = "\n\r\x1b[#-: /0123456789]\xff";
	struct build_log log;
	uint32_t seed = 0x9e3779b9;
	size_t i, j, len, step;
	char *text, *copy;
	int k;

	(void)state;
	buildlog_init(&log);
	step = getenv("PHASELAB_SLOW_TESTS") ? 1 : 7;
	for (i = 0; i < ARRAY_SIZE(fixtures); i++) {
		text = read_fixture(fixtures[i].file, &len);
		for (j = 0; j <= len; j += step) {
			/* a copy of exactly j bytes, so any overread is caught */
			copy = xmalloc(j ? j : 1);
			memcpy(copy, text, j);
			buildlog_parse(&log, copy, j);
			check_invariants(&log);
			free(copy);
		}
		copy = xmalloc(len);
		for (k = 0; k < 200; k++) {
			memcpy(copy, text, len);
			for (j = 0; j < 8; j++)
				copy[xorshift(&seed) % len] = bytes[xorshift(&seed) % strlen(bytes)];
			buildlog_parse(&log, copy, len);
			check_invariants(&log);
		}
		free(copy);
		free(text);
	}
	buildlog_release(&log);
}


/* ------------------------------------------------------------ diagnosis */

struct diag_row {
	const char *log;         /* fixture under tests/fixtures/buildlog/ */
	const char *dockerfile;  /* under tests/fixtures/buildlog/dockerfiles/; NULL: none readable */
	const char *cause;       /* NULL: none */
	int line_number;
	const char *line, *corrected, *word, *install_line; /* NULL: must be NULL */
};

static const struct diag_row diag_rows[] = {
	/* the Dockerfile: a misspelt instruction, the learner's line and the corrected one */
	{ "legacy-typo.txt", "typo", "unknown-instruction", 8, "EXPOES 3000", "EXPOSE 3000", "EXPOES", NULL },
	{ "buildkit-typo.txt", "typo", "unknown-instruction", 8, "EXPOES 3000", "EXPOSE 3000", "EXPOES", NULL },
	{ "legacy-parseerr.txt", "parseerr", "unknown-instruction", 3, "COPPY package.json package-lock.json ./",
	  "COPY package.json package-lock.json ./", "COPPY", NULL },
	{ "buildkit-parseerr.txt", "parseerr", "unknown-instruction", 3, "COPPY package.json package-lock.json ./",
	  "COPY package.json package-lock.json ./", "COPPY", NULL },
	/* without the Dockerfile: the word, but no line to quote or correct */
	{ "legacy-parseerr.txt", NULL, "unknown-instruction", 3, NULL, NULL, "COPPY", NULL },
	/* a parse error that is not a word: its message and its line */
	{ "legacy-badargs.txt", "badargs", "parse-error", 3, "COPY package.json", NULL,
	  "COPY requires at least two arguments, but only one was provided. Destination could not be determined", NULL },
	{ "buildkit-badargs.txt", "badargs", "parse-error", 3, "COPY package.json", NULL,
	  "COPY requires at least two arguments, but only one was provided. Destination could not be determined", NULL },
	/* a step fails */
	{ "legacy-cmdnotfound.txt", "cmdnotfound", "command-not-found", 4, "RUN pnpm install --frozen-lockfile", NULL,
	  "pnpm", NULL },
	{ "buildkit-cmdnotfound.txt", "cmdnotfound", "command-not-found", 4, "RUN pnpm install --frozen-lockfile",
	  NULL, "pnpm", NULL },
	{ "legacy-lockstale.txt", "lockstale", "lockfile-out-of-date", 4, "RUN npm ci --omit=dev", NULL, "ms@2.1.3", NULL },
	{ "buildkit-lockstale.txt", "lockstale", "lockfile-out-of-date", 4, "RUN npm ci --omit=dev", NULL, "ms@2.1.3",
	  NULL },
	{ "legacy-locknone.txt", "locknone", "lockfile-missing", 4, "RUN npm ci --omit=dev", NULL, NULL, NULL },
	{ "buildkit-locknone.txt", "locknone", "lockfile-missing", 4, "RUN npm ci --omit=dev", NULL, NULL, NULL },
	{ "legacy-noscript.txt", "noscript", "no-build-script", 6, "RUN npm run build", NULL, "build", NULL },
	{ "buildkit-noscript.txt", "noscript", "no-build-script", 6, "RUN npm run build", NULL, "build", NULL },
	{ "legacy-fail.txt", "fail", "tsc-not-found", 6, "RUN npm run build", NULL, "tsc", "RUN npm ci --omit=dev" },
	{ "buildkit-fail.txt", "fail", "tsc-not-found", 6, "RUN npm run build", NULL, "tsc", "RUN npm ci --omit=dev" },
	{ "legacy-copymissing.txt", "copymissing", "copy-source-missing", 3,
	  "COPY package.json package-lock.json yarn.lock ./", NULL, "yarn.lock", NULL },
	{ "buildkit-copymissing.txt", "copymissing", "copy-source-missing", 3,
	  "COPY package.json package-lock.json yarn.lock ./", NULL, "yarn.lock", NULL },
	/* buildah: its own words for the same causes */
	{ "buildah-typo.txt", "typo", "unknown-instruction", 8, "EXPOES 3000", "EXPOSE 3000", "EXPOES", NULL },
	{ "buildah-cmdnotfound.txt", "cmdnotfound", "command-not-found", 4, "RUN pnpm install --frozen-lockfile", NULL,
	  "pnpm", NULL },
	{ "buildah-locknone.txt", "locknone", "lockfile-missing", 4, "RUN npm ci --omit=dev", NULL, NULL, NULL },
	{ "buildah-nobase.txt", NULL, NULL, 0, NULL, NULL, NULL, NULL },
	/* not the build's own: no cause (the caller asks the engine about base images) */
	{ "legacy-nobase.txt", NULL, NULL, 0, NULL, NULL, NULL, NULL },
	{ "buildkit-nobase.txt", NULL, NULL, 0, NULL, NULL, NULL, NULL },
};

static void assert_field(const char *log, const char *field, const char *got, const char *want)
{
	if (want ? !got || strcmp(got, want) : got != NULL)
		fail_msg("%s: %s is \"%s\", not \"%s\"", log, field, got ? got : "(null)", want ? want : "(null)");
}

static void test_diagnose(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(diag_rows) / sizeof(diag_rows[0]); i++) {
		const struct diag_row *r = &diag_rows[i];
		struct build_log log;
		struct build_diagnosis d;
		size_t len, dflen = 0;
		char *text = read_fixture(r->log, &len), *df = NULL;

		if (r->dockerfile) {
			char *rel = xasprintf("dockerfiles/%s", r->dockerfile);
			df = read_fixture(rel, &dflen);
			free(rel);
		}
		buildlog_init(&log);
		assert_int_equal(buildlog_parse(&log, text, len), 0);
		buildlog_diagnose(&log, df, dflen, &d);
		assert_field(r->log, "cause", d.cause, r->cause);
		if (d.line_number != r->line_number)
			fail_msg("%s: line %d, not %d", r->log, d.line_number, r->line_number);
		assert_field(r->log, "line", d.line, r->line);
		assert_field(r->log, "corrected", d.corrected, r->corrected);
		assert_field(r->log, "word", d.word, r->word);
		assert_field(r->log, "install_line", d.install_line, r->install_line);
		build_diagnosis_release(&d);
		buildlog_release(&log);
		free(text);
		free(df);
	}
}

/* Near misses of instructions: at most 2 edits, a swap is one, and only a single nearest one. */
static void test_nearest_instruction(void **state)
{
	static const struct {
		const char *word, *want;
	} rows[] = {
		{ "EXPOES", "EXPOSE" }, { "expoes", "EXPOSE" }, { "COPPY", "COPY" }, { "WORKIDR", "WORKDIR" },
		{ "HEALTCHECK", "HEALTHCHECK" }, { "ENTRYPIONT", "ENTRYPOINT" }, { "FORM", "FROM" },
		{ "USR", "USER" }, { "RUNN", "RUN" },
		/* an instruction itself, too far, or as near to two */
		{ "COPY", NULL }, { "XYZZY", NULL }, { "BANANA", NULL }, { "AD", "ADD" }, { "CP", NULL }, { "", NULL },
		{ "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", NULL },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		assert_field(rows[i].word, "nearest", dockerfile_nearest_instruction(rows[i].word), rows[i].want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixtures),
		cmocka_unit_test(test_fixtures_crlf),
		cmocka_unit_test(test_fixture_details),
		cmocka_unit_test(test_detect),
		cmocka_unit_test(test_newer_buildkit),
		cmocka_unit_test(test_parse_rows),
		cmocka_unit_test(test_buildkit_interleaved),
		cmocka_unit_test(test_legacy_stages),
		cmocka_unit_test(test_buildkit_platform_label),
		cmocka_unit_test(test_carriage_returns),
		cmocka_unit_test(test_huge_single_line),
		cmocka_unit_test(test_utf8_regression), /* regression, see above */
		cmocka_unit_test(test_huge_output),
		cmocka_unit_test(test_too_many_steps),
		cmocka_unit_test(test_lookups),
		cmocka_unit_test(test_label_step_numbers),
		cmocka_unit_test(test_robust),
		cmocka_unit_test(test_diagnose),
		cmocka_unit_test(test_nearest_instruction),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
