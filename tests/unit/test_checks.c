/*
 * The check kinds' decisions, against a fake engine that replays recorded
 * answers of the real one (fake_engine.h, tests/fixtures/engine/).
 *
 * Each case runs one check of the bundled phase 3 (its parameters as
 * phases/03-containerization/phase.json declares them, or changed by the
 * case) through the real run lifecycle (core/run.c) on the fake engine, in
 * a copy of the lab's service with the reference solution's Dockerfile and
 * .dockerignore, and compares the status, and a piece of the message, the
 * hint and the evidence.  The container's filesystem is a folder the case
 * builds, exported as a tar archive of it.
 *
 * These prove the decisions; the integration tests prove that the engine
 * really says what was recorded (tests/integration/run).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/check.h"
#include "core/phase.h"
#include "core/rundir.h"
#include "report/hint.h"
#include "lib/fsutil.h"
#include "lib/strbuf.h"
#include "lib/xalloc.h"

#include "fake_engine.h"

/* A case's last fields (cause, edit) are left out by the rows that do not need them: zero. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

/* The container's filesystem, as a case wants it. */
enum rootfs {
	ROOTFS_NONE,        /* no answer: the walk fails */
	ROOTFS_DISTROLESS,  /* node, /etc/passwd with nonroot, no shell */
	ROOTFS_ALPINE,      /* busybox, and /bin/sh a link to it */
	ROOTFS_DISGUISED,   /* distroless, plus busybox copied in as /app/bin/tick */
};

struct kind_case {
	const char *name;
	const char *check;              /* the id of phase 3's check */
	const char *params;             /* JSON that replaces its parameters; NULL: the phase's */
	struct fake_engine fe;          /* the engine's answers */
	enum rootfs rootfs;
	int exported;                   /* 1: the engine has no root in place: export at once */
	long long baseline_bytes;       /* what an earlier phase recorded (0: none) */
	/* the service folder: changes to the reference solution's */
	const char *dockerignore;       /* its text; "-": no .dockerignore */
	const char *from;               /* the builder stage's FROM image; NULL: node:20-alpine */
	int no_dockerfile;
	long big_file_mb;               /* a file of this size in the context (not excluded) */

	enum check_status status;
	const char *message;            /* a piece of the message */
	const char *hint;               /* a piece of the hint; NULL: no hint */
	const char *evidence;           /* "key" or "key=JSON" the evidence must hold; NULL: nothing */
	const char *cause;              /* the cause the kind must name (and record); NULL: none asserted */
	const char *edit;               /* "OLD|NEW": OLD's first match in the Dockerfile becomes NEW */
	/* more changes to the Dockerfile, after edit: df_edit[0] becomes df_edit[1], then [2] becomes [3] */
	const char *df_edit[4];
	/* more changes to the service folder: path, then its text (NULL: remove the path) */
	const char *files[6];
};

/* mkdir -p */
static void make_dirs(char *path)
{
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		mkdir(path, 0755);
		*p = '/';
	}
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		fail_msg("cannot make '%s': %s", path, strerror(errno));
}

static void write_text(const char *dir, const char *rel, const char *text, mode_t mode)
{
	char *path = xasprintf("%s/%s", dir, rel);
	char *slash = strrchr(path, '/');
	FILE *f;

	*slash = '\0';
	make_dirs(path);
	*slash = '/';
	f = fopen(path, "we");
	if (!f || fputs(text, f) < 0 || fclose(f) != 0)
		fail_msg("cannot write '%s'", path);
	chmod(path, mode);
	free(path);
}

/* An executable that reads as an ELF program carrying words (a shell's banner), of a shell's size. */
static void write_elf(const char *dir, const char *rel, const char *words)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_addstr(&sb, "\177ELF\002\001\001");
	while (sb.len < 8192)
		strbuf_addch(&sb, '\0');
	strbuf_addstr(&sb, words);
	strbuf_addstr(&sb, "1.36.1 (2023-11-07 18:53:09 UTC)");
	write_text(dir, rel, sb.buf, 0755);
	/* the NULs cut the text: write it again whole */
	{
		char *path = xasprintf("%s/%s", dir, rel);
		if (write_file_atomic(path, sb.buf, sb.len) < 0)
			fail_msg("cannot write '%s'", path);
		chmod(path, 0755);
		free(path);
	}
	strbuf_release(&sb);
}

static void make_rootfs(struct check_env *t, enum rootfs kind)
{
	char *link;

	if (kind == ROOTFS_NONE)
		return;
	t->rootfs = xasprintf("%s/rootfs", t->tmp);
	write_text(t->rootfs, "etc/passwd", "root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:"
		   "/nonexistent:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n", 0644);
	write_elf(t->rootfs, "nodejs/bin/node", "Node.js v20.18.0 ");
	write_text(t->rootfs, "app/dist/server.js", "require('./app');\n", 0644);
	if (kind == ROOTFS_ALPINE) {
		write_elf(t->rootfs, "bin/busybox", "BusyBox v");
		link = xasprintf("%s/bin/sh", t->rootfs);
		if (symlink("/bin/busybox", link) < 0)
			fail_msg("symlink: %s", strerror(errno));
		free(link);
	} else if (kind == ROOTFS_DISGUISED) {
		write_elf(t->rootfs, "app/bin/tick", "BusyBox v");
	}
}

/* The filesystem as the engine would export it: a tar archive of the folder. */
static void make_export(struct check_env *t)
{
	char *cmd;

	t->tar = xasprintf("%s/rootfs.tar", t->tmp);
	cmd = xasprintf("tar -C '%s' -cf '%s' .", t->rootfs, t->tar);
	if (system(cmd) != 0)
		fail_msg("cannot make the archive: %s", cmd);
	free(cmd);
}

/* The lab's service with the reference solution's Dockerfile and .dockerignore, changed as c says. */
static void make_service(struct check_env *t, const struct kind_case *c)
{
	char *root = test_repo_root();
	char *src = xasprintf("%s/labs/services/user-service", root);
	char *sol = xasprintf("%s/labs/solutions/03-containerization/user-service", root);
	struct strbuf err = STRBUF_INIT, df = STRBUF_INIT;
	char *path;

	t->service = xasprintf("%s/service", t->tmp);
	if (copy_tree(src, t->service, NULL, NULL, 64 << 20, &err) < 0)
		fail_msg("cannot copy the service: %s", err.buf);
	path = xasprintf("%s/Dockerfile", sol);
	if (read_file_nofollow(path, 1 << 20, &df) < 0)
		fail_msg("cannot read '%s'", path);
	free(path);
	if (c->from) {
		const char *at = strstr(df.buf, "FROM node:20-alpine AS builder");
		struct strbuf edited = STRBUF_INIT;

		assert_non_null(at);
		strbuf_add(&edited, df.buf, (size_t)(at - df.buf));
		strbuf_addf(&edited, "FROM %s AS builder", c->from);
		strbuf_addstr(&edited, at + strlen("FROM node:20-alpine AS builder"));
		strbuf_release(&df);
		df = edited;
	}
	if (c->edit) {
		const char *bar = strchr(c->edit, '|');
		char *old = xstrndup(c->edit, (size_t)(bar - c->edit));
		const char *at = strstr(df.buf, old);
		struct strbuf edited = STRBUF_INIT;

		if (!at)
			fail_msg("%s: the Dockerfile has no '%s' to edit", c->name, old);
		strbuf_add(&edited, df.buf, (size_t)(at - df.buf));
		strbuf_addstr(&edited, bar + 1);
		strbuf_addstr(&edited, at + strlen(old));
		strbuf_release(&df);
		df = edited;
		free(old);
	}
	df_apply_edits(&df, c->df_edit, c->name);
	if (!c->no_dockerfile)
		write_text(t->service, "Dockerfile", df.buf, 0644);
	else {
		path = xasprintf("%s/Dockerfile", t->service);
		unlink(path);
		free(path);
	}
	if (c->dockerignore && !strcmp(c->dockerignore, "-")) {
		/* none */
	} else if (c->dockerignore) {
		write_text(t->service, ".dockerignore", c->dockerignore, 0644);
	} else {
		struct strbuf di = STRBUF_INIT;

		path = xasprintf("%s/.dockerignore", sol);
		if (read_file_nofollow(path, 1 << 20, &di) < 0)
			fail_msg("cannot read '%s'", path);
		write_text(t->service, ".dockerignore", di.buf, 0644);
		strbuf_release(&di);
		free(path);
	}
	for (int e = 0; e < 6 && c->files[e]; e += 2) {
		if (c->files[e + 1]) {
			write_text(t->service, c->files[e], c->files[e + 1], 0644);
		} else {
			path = xasprintf("%s/%s", t->service, c->files[e]);
			remove_tree(path);
			free(path);
		}
	}
	if (c->big_file_mb) {
		/* sparse: its size is what counts */
		path = xasprintf("%s/data.bin", t->service);
		FILE *f = fopen(path, "we");
		if (!f || fseek(f, c->big_file_mb * 1000000L - 1, SEEK_SET) < 0 || fputc(0, f) == EOF || fclose(f))
			fail_msg("cannot make '%s'", path);
		free(path);
	}
	strbuf_release(&err);
	strbuf_release(&df);
	free(src);
	free(sol);
	free(root);
}

static void setup_env(struct check_env *t, const struct kind_case *c, struct fake_engine *fe)
{
	check_env_open(t, "phases/03-containerization/phase.json", "phaselab-test-checks");
	make_service(t, c);
	make_rootfs(t, c->rootfs);
	/*
	 * The lifecycle reads a root in place only where it is a mount of its
	 * own (rootfs_walk): a test's folder is not, so the walk falls back to
	 * the export, as it does when the container stopped.  With exported,
	 * the engine says at once that there is no root here.
	 */
	if (t->rootfs) {
		make_export(t);
		fe->export_tar = t->tar;
		if (!c->exported)
			fe->rootfs_dir = t->rootfs;
	}
	check_env_start(t, fe);
	t->ctx.baseline_bytes = c->baseline_bytes;
	t->ctx.baseline_what = c->baseline_bytes ? "your phase-2 image" : NULL;
}

/* The phases of the bundled lab (loaded once): their hints per cause. */
static struct phase_set lab_set;
static int lab_loaded;

static struct phase_set *lab_phases(void)
{
	if (!lab_loaded) {
		char *root = test_repo_root();
		char *dir = xasprintf("%s/phases", root);
		struct strbuf err = STRBUF_INIT;

		if (phase_set_load(dir, &lab_set, &err) < 0)
			fail_msg("%s", err.buf);
		lab_loaded = 1;
		strbuf_release(&err);
		free(dir);
		free(root);
	}
	return &lab_set;
}

/* text lowercased, runs of blanks and punctuation as one space: what "says the same" compares. */
static char *words(const char *text)
{
	struct strbuf sb = STRBUF_INIT;

	for (const char *p = text; *p; p++) {
		unsigned char ch = (unsigned char)*p;
		if (isalnum(ch))
			strbuf_addch(&sb, (char)tolower(ch));
		else if (sb.len && sb.buf[sb.len - 1] != ' ')
			strbuf_addch(&sb, ' ');
	}
	strbuf_rtrim(&sb);
	return strbuf_detach(&sb, NULL);
}

/*
 * The cause: the one the case expects, recorded in the evidence too, and
 * declared by the kind.  The inline hint under the failure and the first
 * tier `phaselab hint` shows for that cause (in every phase with a check of
 * the kind that has hints for it) never say the same thing.
 */
static void assert_cause(const struct kind_case *c, const struct check_result *res)
{
	struct phase_set *set;
	const struct check_kind *kind;
	const char *recorded = json_string_value(json_object_get(res->evidence, "cause"));

	if (c->cause && (!res->cause || strcmp(res->cause, c->cause)))
		fail_msg("%s: cause %s, not %s", c->name, res->cause ? res->cause : "(none)", c->cause);
	if (!res->cause) {
		if (recorded)
			fail_msg("%s: the evidence names cause %s, the result none", c->name, recorded);
		return;
	}
	if (!recorded || strcmp(recorded, res->cause))
		fail_msg("%s: the evidence's cause is %s, the result's %s", c->name, recorded ? recorded : "(none)",
			 res->cause);
	set = lab_phases();
	{
		struct strbuf err = STRBUF_INIT;
		const struct phase *three = phase_set_find(set, "03-containerization", &err);
		assert_non_null(three);
		assert_non_null(phase_check(three, c->check));
		kind = phase_check(three, c->check)->kind;
		strbuf_release(&err);
	}
	if (!kind_has_cause(kind, res->cause))
		fail_msg("%s: cause %s is not one the kind %s declares", c->name, res->cause, kind->name);
	for (size_t p = 0; p < set->n; p++) {
		const struct phase *ph = &set->phases[p];
		for (size_t i = 0; i < ph->nchecks; i++) {
			const struct check_def *def = &ph->checks[i];
			const struct check_cause *cc;
			struct strbuf tier = STRBUF_INIT;
			char *a, *b;

			if (def->kind != kind)
				continue;
			cc = check_def_cause(def, res->cause);
			if (!cc || !res->hint)
				continue;
			hint_fill(&tier, cc->tiers[0], res->evidence);
			a = words(tier.buf);
			b = words(res->hint);
			if (!strcmp(a, b) || strstr(a, b) || strstr(b, a))
				fail_msg("%s: %s's first hint for cause %s says what the hint under the failure says:\n"
					 "  tier 1: %s\n  inline: %s", c->name, ph->id, res->cause, tier.buf, res->hint);
			free(a);
			free(b);
			strbuf_release(&tier);
		}
	}
}

/* Does the evidence hold "key" (any value) or "key=JSON" (that value)? */
static void assert_evidence(const char *name, const json_t *evidence, const char *want)
{
	const char *eq = strchr(want, '=');
	char *key = eq ? xstrndup(want, (size_t)(eq - want)) : xstrdup(want);
	json_t *got = json_object_get(evidence, key);

	if (!got)
		fail_msg("%s: no evidence '%s' in %s", name, key, json_dumps(evidence, JSON_COMPACT));
	if (eq) {
		json_t *value = json_loads(eq + 1, JSON_DECODE_ANY, NULL);
		if (!value || !json_equal(got, value)) {
			char *g = json_dumps(got, JSON_ENCODE_ANY);
			fail_msg("%s: evidence %s is %s, not %s", name, key, g, eq + 1);
		}
		json_decref(value);
	}
	free(key);
}

static void assert_result(const struct kind_case *c, const struct check_result *res)
{
	if (res->status != c->status)
		fail_msg("%s: status %s, not %s: %s (hint: %s)", c->name, check_status_name(res->status),
			 check_status_name(c->status), res->message, res->hint ? res->hint : "none");
	if (!res->message || !strstr(res->message, c->message))
		fail_msg("%s: the message does not say '%s': %s", c->name, c->message, res->message);
	if (c->hint && (!res->hint || !strstr(res->hint, c->hint)))
		fail_msg("%s: the hint does not say '%s': %s", c->name, c->hint, res->hint ? res->hint : "(none)");
	if (!c->hint && res->hint)
		fail_msg("%s: a hint where none was expected: %s", c->name, res->hint);
	if (c->evidence)
		assert_evidence(c->name, res->evidence, c->evidence);
	assert_cause(c, res);
}

/* The check c->check of phase 3, with c's parameters. */
static struct check_def case_def(struct check_env *t, const struct kind_case *c)
{
	const struct check_def *def = phase_check(&t->ph, c->check);
	struct check_def d;

	if (!def)
		fail_msg("%s: phase 3 has no check '%s'", c->name, c->check);
	d = *def;
	if (c->params) {
		d.params = json_loads(c->params, 0, NULL);
		assert_non_null(d.params);
	} else {
		d.params = json_incref(def->params);
	}
	return d;
}

/*
 * Run one case as the driver would: the image first for the kinds that
 * need one, the background work of a kind with a start function, then the
 * check.  fe (the case's answers, copied) is left for the caller to look at.
 */
static void run_case(const struct kind_case *c, struct fake_engine *fe, struct check_result *res)
{
	struct check_env t;
	struct check_def def;

	*fe = c->fe;
	setup_env(&t, c, fe);
	def = case_def(&t, c);
	memset(res, 0, sizeof(*res));
	if (def.kind->needs != NEED_NOTHING && !def.kind->makes_image && ctx_need_image(&t.ctx) < 0)
		fail_msg("%s: no image: %s", c->name, t.ctx.build_failure);
	if (def.kind->needs == NEED_CONTAINER && ctx_need_container(&t.ctx) < 0)
		fail_msg("%s: no container: %s", c->name, t.ctx.container_failure);
	if (def.kind->start)
		def.kind->start(&t.ctx, &def);
	def.kind->run(&t.ctx, &def, res);
	if (!res->evidence)
		res->evidence = json_object();
	json_decref(def.params);
	check_env_close(&t);
}

static void run_cases(const struct kind_case *cases, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct fake_engine fe;
		struct check_result res;

		run_case(&cases[i], &fe, &res);
		assert_result(&cases[i], &res);
		check_result_release(&res);
	}
}

/*
 * A case's answers are the reference solution's (REF_ENGINE) with the
 * case's differences written after them: a later designated initializer
 * overrides an earlier one, on purpose.
 */
#ifdef __clang__
#pragma clang diagnostic ignored "-Winitializer-overrides"
#else
#pragma GCC diagnostic ignored "-Woverride-init"
#endif

#define BUILT(out) { .output = (out), .rc = 0 }
#define FAILED(out) { .output = (out), .rc = 1 }
#define REF_ENGINE .builder = BUILDER_LEGACY, .builds = { BUILT("build-legacy-built.txt") }, \
	.image_inspect = "image-inspect.json", .history = "history.jsonl", \
	.container_inspect = "container-inspect-healthy.json", .top = "top-65532.txt", \
	.exec = "exec-sh-distroless.json", .logs = "listening on 3000\n"

/* ------------------------------------------------------------------ build */

static const struct kind_case build_cases[] = {
	{ "built, legacy builder", "builds", NULL, { REF_ENGINE }, 0, 0, 0, NULL, NULL, 0, 0,
	  CHECK_PASS, "(16 steps, 13 from cache), image sha256:197b2299b343", NULL, "steps=16" },
	{ "built, BuildKit", "builds", NULL,
	  { .builder = BUILDER_BUILDKIT, .builds = { BUILT("tests/fixtures/buildlog/buildkit-clean.txt") },
	    .image_inspect = "image-inspect.json" }, 0, 0, 0, NULL, NULL, 0, 0,
	  CHECK_PASS, "(8 steps, 0 from cache)", NULL, "builder=\"buildkit\"" },
	{ "a step fails, legacy builder", "builds", NULL,
	  { .builder = BUILDER_LEGACY, .builds = { FAILED("build-legacy-failed.txt") } }, 0, 0, 0, NULL, NULL, 0, 0,
	  CHECK_FAIL, "the build failed at step 6/16 of stage builder: RUN npm run bild (exit code 1)",
	  "npm found no \"bild\" entry under \"scripts\"", "script=\"bild\"", "no-build-script" },
	{ "a step fails, BuildKit: a known cause", "builds", NULL,
	  { .builder = BUILDER_BUILDKIT, .builds = { FAILED("tests/fixtures/buildlog/buildkit-fail.txt") } },
	  0, 0, 0, NULL, NULL, 0, 0,
	  CHECK_FAIL, "the build failed at step [builder 6/6]: RUN npm run build (exit code 127)",
	  "`tsc` is missing from the builder: `RUN npm ci --omit=dev`",
	  "install_line=\"RUN npm ci --omit=dev\"", "tsc-not-found" },
	{ "the context is too big: refused before the engine is sent it", "builds",
	  "{\"max_context_mb\": 5}", { .builder = BUILDER_LEGACY }, 0, 0, 0, NULL, NULL, 0, 8,
	  CHECK_FAIL, "the build context is over 5 MB (at least 8.", "exclude everything else",
	  "context_bytes_at_least", "context-too-large" },
	{ "no Dockerfile", "builds", NULL, { .builder = BUILDER_LEGACY }, 0, 0, 0, NULL, NULL, 1, 0,
	  CHECK_FAIL, "no Dockerfile in", "named exactly `Dockerfile`", NULL, "no-dockerfile" },
	{ "a base image that is not the lab's is missing", "builds", NULL,
	  { .builder = BUILDER_LEGACY, .builds = { FAILED("tests/fixtures/buildlog/legacy-nobase.txt") },
	    .missing_image = "nosuch/image:1" }, 0, 0, 0, NULL, "nosuch/image:1", 0, 0,
	  CHECK_FAIL, "the base image 'nosuch/image:1' is not on this machine", "use the phase's base images",
	  "image=\"nosuch/image:1\"", "base-image-missing" },
	{ "the lab's own base image is missing: the machine's fault", "builds", NULL,
	  { .builder = BUILDER_LEGACY, .builds = { FAILED("tests/fixtures/buildlog/legacy-nobase.txt") },
	    .missing_image = "node:20-alpine" }, 0, 0, 0, NULL, NULL, 0, 0,
	  CHECK_ERROR, "the base image 'node:20-alpine' is not on this machine", "make images", NULL },
	{ "the engine stops answering", "builds", NULL,
	  { .builder = BUILDER_LEGACY, .builds = { { .output = "build-legacy-built.txt", .rc = -1 } } },
	  0, 0, 0, NULL, NULL, 0, 0,
	  CHECK_ERROR, "the build could not run", "not yours", NULL },
	/* causes, each named with its evidence, on both builders */
	{ "a misspelt instruction in the runtime stage, legacy builder", "builds", NULL,
	  { .builder = BUILDER_LEGACY, .builds = { FAILED("tests/fixtures/buildlog/legacy-reftypo.txt") } },
	  0, 0, 0, NULL, NULL, 0, 0,
	  CHECK_FAIL, "the build failed before any step ran: ", "line 32 starts with `EXPOES`, which the builder does "
	  "not know; the instruction nearest to it is `EXPOSE`", "corrected=\"EXPOSE 3000\"", "unknown-instruction",
	  "EXPOSE 3000|EXPOES 3000" },
	{ "a misspelt instruction in the runtime stage, BuildKit", "builds", NULL,
	  { .builder = BUILDER_BUILDKIT, .builds = { FAILED("tests/fixtures/buildlog/buildkit-reftypo.txt") } },
	  0, 0, 0, NULL, NULL, 0, 0,
	  CHECK_FAIL, "the build failed before any step ran: ", "line 32 starts with `EXPOES`", "line=\"EXPOES 3000\"",
	  "unknown-instruction", "EXPOSE 3000|EXPOES 3000" },
	{ "a parse error, BuildKit", "builds", NULL,
	  { .builder = BUILDER_BUILDKIT, .builds = { FAILED("tests/fixtures/buildlog/buildkit-badargs.txt") } },
	  0, 0, 0, NULL, NULL, 0, 0,
	  CHECK_FAIL, "the build failed before any step ran: ", "the builder stopped at line 3",
	  "parse_error=\"COPY requires at least two arguments, but only one was provided. Destination could not be "
	  "determined\"", "parse-error" },
	{ "a command not found (exit code 127), legacy builder", "builds", NULL,
	  { .builder = BUILDER_LEGACY, .builds = { FAILED("tests/fixtures/buildlog/legacy-cmdnotfound.txt") } },
	  0, 0, 0, NULL, NULL, 0, 0,
	  CHECK_FAIL, "(exit code 127)", "no program called `pnpm`", "command=\"pnpm\"", "command-not-found",
	  "RUN npm ci --omit=dev|RUN pnpm install --frozen-lockfile" },
	{ "a command not found (exit code 127), BuildKit", "builds", NULL,
	  { .builder = BUILDER_BUILDKIT, .builds = { FAILED("tests/fixtures/buildlog/buildkit-cmdnotfound.txt") } },
	  0, 0, 0, NULL, NULL, 0, 0,
	  CHECK_FAIL, "(exit code 127)", "no program called `pnpm`", "line=\"RUN pnpm install --frozen-lockfile\"",
	  "command-not-found", "RUN npm ci --omit=dev|RUN pnpm install --frozen-lockfile" },
	{ "npm ci with a lock file out of date, legacy builder", "builds", NULL,
	  { .builder = BUILDER_LEGACY, .builds = { FAILED("tests/fixtures/buildlog/legacy-lockstale.txt") } },
	  0, 0, 0, NULL, NULL, 0, 0,
	  CHECK_FAIL, "RUN npm ci --omit=dev", "package-lock.json does not list", "line=\"RUN npm ci --omit=dev\"",
	  "lockfile-out-of-date" },
	{ "npm ci without a lock file, BuildKit", "builds", NULL,
	  { .builder = BUILDER_BUILDKIT, .builds = { FAILED("tests/fixtures/buildlog/buildkit-locknone.txt") } },
	  0, 0, 0, NULL, NULL, 0, 0,
	  CHECK_FAIL, "RUN npm ci --omit=dev", "no package-lock.json", NULL, "lockfile-missing" },
	{ "no build script, BuildKit", "builds", NULL,
	  { .builder = BUILDER_BUILDKIT, .builds = { FAILED("tests/fixtures/buildlog/buildkit-noscript.txt") } },
	  0, 0, 0, NULL, NULL, 0, 0,
	  CHECK_FAIL, "RUN npm run build", "no \"build\" entry", "script=\"build\"", "no-build-script" },
	{ "a COPY source missing, legacy builder", "builds", NULL,
	  { .builder = BUILDER_LEGACY, .builds = { FAILED("tests/fixtures/buildlog/legacy-copymissing.txt") } },
	  0, 0, 0, NULL, NULL, 0, 0,
	  CHECK_FAIL, "COPY package.json package-lock.json yarn.lock ./", "`yarn.lock` was not in the build context",
	  "source=\"yarn.lock\"", "copy-source-missing", "COPY package.json package-lock.json ./|"
	  "COPY package.json package-lock.json yarn.lock ./" },
};

static void test_build(void **state)
{
	(void)state;
	run_cases(build_cases, ARRAY_SIZE(build_cases));
}

/* The context check costs no engine call; the missing lab image marks the environment broken. */
static void test_build_calls(void **state)
{
	struct fake_engine fe;
	struct check_result res;

	(void)state;
	run_case(&build_cases[4], &fe, &res);
	assert_int_equal(fe.calls[FAKE_BUILD], 0);
	check_result_release(&res);
	run_case(&build_cases[0], &fe, &res);
	assert_int_equal(fe.calls[FAKE_BUILD], 1);
	check_result_release(&res);
}

/* ------------------------------------------------------------- image-size */

static const struct kind_case size_cases[] = {
	{ "under the limit, against the lesson's figure", "size", NULL, { REF_ENGINE }, 0, 0, 0, NULL, NULL, 0, 0,
	  CHECK_PASS, "104.6 MB, under the 200 MB limit; 90% smaller than the lesson's development image "
	  "(1000.0 MB), beyond the 80% the lesson promises", NULL, "bytes=104567149" },
	{ "over the limit: the largest layer named", "size", "{\"max_mb\": 100}", { REF_ENGINE }, 0, 0, 0,
	  NULL, NULL, 0, 0,
	  CHECK_FAIL, "104.6 MB, over the 100 MB limit by 4.6 MB", "the largest layer, ", "largest_layers" },
	{ "record only", "size", "{\"record\": true}", { REF_ENGINE }, 0, 0, 0, NULL, NULL, 0, 0,
	  CHECK_PASS, "104.6 MB, recorded: a later phase measures its image against it", NULL,
	  "bytes=104567149" },
	{ "reduction against the learner's own development image", "size", NULL, { REF_ENGINE }, 0, 0,
	  997000000, NULL, NULL, 0, 0,
	  CHECK_PASS, "90% smaller than your phase-2 image (997.0 MB)", NULL, "baseline_bytes=997000000" },
	{ "under the limit but short of the promised reduction", "size", NULL, { REF_ENGINE }, 0, 0,
	  150000000, NULL, NULL, 0, 0,
	  CHECK_FAIL, "30% smaller than your phase-2 image (150.0 MB), short of the 80% the lesson promises",
	  "only the last stage ends up in the image", "reduction_percent" },
	{ "just over the limit, within the margin", "size", "{\"max_mb\": 104}", { REF_ENGINE }, 0, 0, 0,
	  NULL, NULL, 0, 0,
	  CHECK_PASS, "104.6 MB, just over the 104 MB limit; within the 1% margin", NULL, "margin_percent=1.0" },
	{ "over the limit beyond the margin", "size", "{\"max_mb\": 103}", { REF_ENGINE }, 0, 0, 0,
	  NULL, NULL, 0, 0,
	  CHECK_FAIL, "104.6 MB, over the 103 MB limit by 1.6 MB", "the largest layer, ", "largest_layers" },
	{ "half a point short of the promised reduction: within the margin", "size", NULL, { REF_ENGINE }, 0, 0,
	  510083654, NULL, NULL, 0, 0,
	  CHECK_PASS, "79.5% smaller than your phase-2 image (510.1 MB), short of the 80% the lesson promises; "
	  "within the 1% margin", NULL, "margin_percent=1.0" },
	{ "over: no cause in the Dockerfile, the largest layer", "size", "{\"max_mb\": 100}", { REF_ENGINE }, 0, 0, 0,
	  NULL, NULL, 0, 0,
	  CHECK_FAIL, "over the 100 MB limit", "the largest layer, ", "cause=\"big-layer\"" },
	{ "over: the whole /app copied, quoted", "size", "{\"max_mb\": 100}", { REF_ENGINE }, 0, 0, 0,
	  NULL, NULL, 0, 0,
	  CHECK_FAIL, "over the 100 MB limit", "the largest layer, ", "line=\"COPY --from=builder /app ./app\"",
	  .df_edit = { "COPY --from=builder /app/dist ./dist", "COPY --from=builder /app ./app" } },
	{ "over: development dependencies installed", "size", "{\"max_mb\": 100}", { REF_ENGINE }, 0, 0, 0,
	  NULL, NULL, 0, 0,
	  CHECK_FAIL, "over the 100 MB limit", "the largest layer, ", "corrected=\"RUN npm ci --omit=dev\"",
	  .df_edit = { "RUN npm ci --omit=dev", "RUN npm ci" } },
	{ "over: the last stage on node:20", "size",
	  "{\"max_mb\": 100, \"runtime_image\": \"gcr.io/distroless/nodejs20-debian12\"}", { REF_ENGINE }, 0, 0, 0,
	  NULL, NULL, 0, 0,
	  CHECK_FAIL, "over the 100 MB limit", "the largest layer, ", "cause=\"runtime-not-distroless\"",
	  .df_edit = { "FROM gcr.io/distroless/nodejs20-debian12", "FROM node:20" } },
};

static void test_image_size(void **state)
{
	(void)state;
	run_cases(size_cases, ARRAY_SIZE(size_cases));
}

/* What image-size leaves for later phases, and where its baseline comes from: the kind's hooks. */
static void test_image_size_hooks(void **state)
{
	const struct check_kind *k = check_kind_find("image-size");
	struct check_record rec = { 0 };
	struct fake_engine fe;
	struct check_result res;
	struct check_def def = { 0 };

	(void)state;
	assert_non_null(k->record);
	assert_non_null(k->baseline_from);
	run_case(&size_cases[2], &fe, &res);
	k->record(&def, &res, &rec);
	assert_int_equal(rec.image_bytes, 104567149);
	check_result_release(&res);

	/* a result without a size leaves the record alone */
	res.evidence = json_object();
	rec.image_bytes = 7;
	k->record(&def, &res, &rec);
	assert_int_equal(rec.image_bytes, 7);
	check_result_release(&res);

	def.params = json_pack("{s:s}", "baseline_from", "02-dev-images");
	assert_string_equal(k->baseline_from(&def), "02-dev-images");
	json_decref(def.params);
	def.params = json_pack("{s:b}", "record", 1);
	assert_null(k->baseline_from(&def));
	json_decref(def.params);

	/* no other kind records or needs a baseline, and only build makes the image */
	for (const struct check_kind *const *o = check_kinds; *o; o++) {
		if (*o == k)
			continue;
		assert_null((*o)->record);
		assert_null((*o)->baseline_from);
		assert_int_equal((*o)->makes_image, !strcmp((*o)->name, "build"));
	}
}

/* ------------------------------------------------------------ multi-stage */

static const struct kind_case stage_cases[] = {
	{ "two stages, the last on distroless", "multistage", NULL, { REF_ENGINE }, 0, 0, 0, NULL, NULL, 0, 0,
	  CHECK_PASS, "built in 2 stages; the last starts from gcr.io/distroless/nodejs20-debian12 and copies from "
	  "an earlier stage 3 times", NULL, "stages=2" },
	{ "the development Dockerfile: one stage", "multistage", NULL,
	  { REF_ENGINE, .builds = { BUILT("build-legacy-dev.txt") }, .image_inspect = "image-inspect-dev.json" },
	  0, 0, 0, NULL, NULL, 0, 0,
	  CHECK_FAIL, "the build ran 1 stage (`FROM node:20-alpine AS builder`, line 6)",
	  "a second FROM starts a stage of its own", "cause=\"single-stage\"",
	  .df_edit = { "FROM gcr.io/distroless/nodejs20-debian12\n", "" } },
	{ "two FROM lines, one stage built: the last copies nothing", "multistage", NULL,
	  { REF_ENGINE, .builds = { BUILT("build-legacy-dev.txt") }, .image_inspect = "image-inspect-dev.json" },
	  0, 0, 0, NULL, NULL, 0, 0,
	  CHECK_FAIL, "the Dockerfile has 2 FROM lines, but the build ran 1 stage", "a second FROM",
	  "cause=\"stage-unused\"" },
	{ "the last stage on node:20-alpine, quoted", "multistage", NULL, { REF_ENGINE }, 0, 0, 0, NULL, NULL, 0, 0,
	  CHECK_FAIL, "the last stage starts with `FROM node:20-alpine` (line 24), not from "
	  "gcr.io/distroless/nodejs20-debian12", "its FROM decides", "line=\"FROM node:20-alpine\"",
	  .df_edit = { "FROM gcr.io/distroless/nodejs20-debian12", "FROM node:20-alpine" } },
	{ "the last stage FROM a stage that is FROM distroless", "multistage", NULL, { REF_ENGINE }, 0, 0, 0,
	  NULL, NULL, 0, 0,
	  CHECK_PASS, "built in 2 stages", NULL, "on_runtime_image=true",
	  .df_edit = { "FROM gcr.io/distroless/nodejs20-debian12", "FROM gcr.io/distroless/nodejs20-debian12 AS base\nFROM base" } },
};

static void test_multi_stage(void **state)
{
	(void)state;
	run_cases(stage_cases, ARRAY_SIZE(stage_cases));
}

/* ----------------------------------------------------------- process-user */

static const struct kind_case user_cases[] = {
	{ "root: no USER anywhere", "nonroot", NULL,
	  { REF_ENGINE, .image_inspect = "image-inspect-root.json", .top = "top-root.txt" },
	  ROOTFS_DISTROLESS, 0, 0, NULL, NULL, 0, 0,
	  CHECK_FAIL, "the process runs as root (UID 0); the image declares no USER", "the last stage decides the user",
	  "corrected=\"USER nonroot\"", .cause = "no-user", .df_edit = { "USER nonroot\n", "" } },
	{ "root: USER root, quoted with its line", "nonroot", NULL,
	  { REF_ENGINE, .image_inspect = "image-inspect-userroot.json", .top = "top-root.txt" },
	  ROOTFS_DISTROLESS, 0, 0, NULL, NULL, 0, 0,
	  CHECK_FAIL, "the process runs as root (UID 0); the image's USER is 'root'", "the last stage decides",
	  "line=\"USER root\"", .cause = "user-root", .df_edit = { "USER nonroot", "USER root" } },
	{ "root: USER only in the builder", "nonroot", NULL,
	  { REF_ENGINE, .image_inspect = "image-inspect-root.json", .top = "top-root.txt" },
	  ROOTFS_DISTROLESS, 0, 0, NULL, NULL, 0, 0,
	  CHECK_FAIL, "the only USER line is in an earlier stage", "the last stage decides",
	  "line=\"USER node\"", .cause = "user-in-builder",
	  .df_edit = { "USER nonroot\n", "", "WORKDIR /app\n", "WORKDIR /app\nUSER node\n" } },
	{ "nobody, 65534: passes, with the note on the original text", "nonroot", NULL,
	  { REF_ENGINE, .image_inspect = "image-inspect-nobody.json", .top = "top-65534.txt" },
	  ROOTFS_DISTROLESS, 0, 0, NULL, NULL, 0, 0,
	  CHECK_PASS, "runs as UID 65534 (USER 65534): not root, so it passes. Note: 65534 is `nobody`, the UID the "
	  "original workshop text gives; the lesson uses `nonroot` (UID 65532)", NULL, "image_user_uid=65534" },
	{ "nonroot, 65532: no note", "nonroot", NULL, { REF_ENGINE }, ROOTFS_DISTROLESS, 0, 0,
	  NULL, NULL, 0, 0,
	  CHECK_PASS, "runs as UID 65532 (USER nonroot), the distroless image's nonroot user", NULL,
	  "image_user_uid=65532" },
	{ "nonroot, resolved through the exported /etc/passwd", "nonroot", NULL, { REF_ENGINE },
	  ROOTFS_DISTROLESS, 1, 0, NULL, NULL, 0, 0,
	  CHECK_PASS, "runs as UID 65532", NULL, "image_user_uid=65532" },
	{ "USER node, 1000: passes, with what the lesson uses and why", "nonroot", NULL,
	  { REF_ENGINE, .image_inspect = "image-inspect-node.json", .top = "top-1000.txt" },
	  ROOTFS_DISTROLESS, 0, 0, NULL, NULL, 0, 0,
	  CHECK_PASS, "runs as UID 1000 (USER node): not root, so it passes. Note: the lesson's distroless image "
	  "has a user for this, `nonroot` (UID 65532); whichever you use, a fixed non-root UID", NULL, "uid=1000" },
	{ "another expected UID: 65532 passes with the note", "nonroot", "{\"expected_uid\": 1000}", { REF_ENGINE },
	  ROOTFS_DISTROLESS, 0, 0, NULL, NULL, 0, 0,
	  CHECK_PASS, "runs as UID 65532 (USER nonroot): not root, so it passes. Note:", NULL, "expected_uid=1000" },
};

static void test_process_user(void **state)
{
	(void)state;
	run_cases(user_cases, ARRAY_SIZE(user_cases));
}

/* ------------------------------------------------------------ healthcheck */

#define WRONG_PORT .image_inspect = "image-inspect-wrongport.json", .exec = "exec-porttest-wrongport.json"

/* Each failure's cause is the row's evidence ("cause" is recorded there); more evidence in health_evidence. */
static const struct kind_case health_cases[] = {
	{ "healthy", "healthy", NULL, { REF_ENGINE }, ROOTFS_DISTROLESS, 0, 0, NULL, NULL, 0, 0,
	  CHECK_PASS, "healthy: the image's own probe passed", NULL, "status=\"healthy\"" },
	{ "no HEALTHCHECK", "healthy", NULL, { REF_ENGINE, .image_inspect = "image-inspect-nohealthcheck.json" },
	  ROOTFS_DISTROLESS, 0, 0, NULL, NULL, 0, 0,
	  CHECK_FAIL, "the image declares no HEALTHCHECK", "HEALTHCHECK --interval=30s", "cause=\"no-healthcheck\"" },
	{ "shell form, no shell in the image", "healthy", NULL,
	  { REF_ENGINE, .image_inspect = "image-inspect-shellform.json" }, ROOTFS_DISTROLESS, 0, 0, NULL, NULL, 0, 0,
	  CHECK_FAIL, "which runs through /bin/sh -c, and this image has no /bin/sh", "write it in exec form",
	  "cause=\"shell-form-no-shell\"" },
	{ "unhealthy: the probe's own words", "healthy", NULL,
	  { REF_ENGINE, .image_inspect = "image-inspect-unhealthy.json",
	    .container_inspect = "container-inspect-unhealthy.json" }, ROOTFS_DISTROLESS, 0, 0, NULL, NULL, 0, 0,
	  CHECK_FAIL, "the health status is 'unhealthy': the probe exited 1; the probe said: status 503 from /health",
	  "the probe ran and failed", "cause=\"probe-fails\"" },
	{ "the probe's program is not in the image", "healthy", NULL,
	  { REF_ENGINE, .image_inspect = "image-inspect-nonode.json",
	    .container_inspect = "container-inspect-nonode.json" }, ROOTFS_DISTROLESS, 0, 0, NULL, NULL, 0, 0,
	  CHECK_FAIL, "the image's probe cannot run, so the container can never become healthy",
	  "the probe runs `node`, which is not on this image's PATH; it is at /nodejs/bin/node",
	  "cause=\"probe-not-found\"" },
	{ "the probe outlives its timeout", "healthy", NULL,
	  { REF_ENGINE, .image_inspect = "image-inspect-timeout.json",
	    .container_inspect = "container-inspect-timeout.json" }, ROOTFS_DISTROLESS, 0, 0, NULL, NULL, 0, 0,
	  CHECK_FAIL, "the probe did not finish within the image's 3 s timeout", "give the request its own timeout",
	  "cause=\"probe-timeout\"" },
	/* the engine's verdict came first: no port test */
	{ "the probe asks another port (unhealthy)", "healthy", NULL,
	  { REF_ENGINE, WRONG_PORT, .container_inspect = "container-inspect-wrongport.json" }, ROOTFS_DISTROLESS,
	  0, 0, NULL, NULL, 0, 0,
	  CHECK_FAIL, "the probe asks port 3001, and the service listens on 3000; the probe exited 1 with no output",
	  "ask that port, not 3001", "cause=\"probe-wrong-port\"" },
	/* still starting: the port test inside the container ends the wait */
	{ "the probe asks another port (starting)", "healthy", NULL,
	  { REF_ENGINE, WRONG_PORT, .container_inspect = "container-inspect-wrongport-starting.json" },
	  ROOTFS_DISTROLESS, 0, 0, NULL, NULL, 0, 0,
	  CHECK_FAIL, "inside the container, port 3001 said \"connect ECONNREFUSED 127.0.0.1:3001\" and port 3000 "
	  "accepts connections (no retry can pass: the wait ended there)", "ask that port, not 3001",
	  "port_test=\"connect ECONNREFUSED 127.0.0.1:3001\"" },
};

/* Evidence the hint texts quote, per row of health_cases (by name). */
static const struct { const char *row, *evidence; } health_evidence[] = {
	{ "the probe's program is not in the image", "corrected=\"HEALTHCHECK CMD [\\\"/nodejs/bin/node\\\", \\\"-e\\\", "
	  "\\\"require('http').get('http://localhost:3000/health', (res) => process.exit(res.statusCode === 200 ? 0 : "
	  "1)).on('error', () => process.exit(1))\\\"]\"" },
	{ "the probe's program is not in the image", "exit_code=-1" },
	{ "unhealthy: the probe's own words", "exit_code=1" },
	{ "unhealthy: the probe's own words", "probe_output=\"status 503 from /health\"" },
	{ "unhealthy: the probe's own words", "probe_command=\"/nodejs/bin/node -e 'console.log(\\\"status 503 from "
	  "/health\\\"); process.exit(1)'\"" },
	{ "the probe asks another port (unhealthy)", "probe_port=3001" },
	{ "the probe asks another port (unhealthy)", "service_port=3000" },
	{ "the probe asks another port (unhealthy)", "probe_output=\"(no output)\"" },
	{ "the probe asks another port (unhealthy)", "corrected=\"HEALTHCHECK CMD [\\\"/nodejs/bin/node\\\", \\\"-e\\\", "
	  "\\\"require('http').get('http://localhost:3000/health', (res) => process.exit(res.statusCode === 200 ? 0 : "
	  "1)).on('error', () => process.exit(1))\\\"]\"" },
	{ "the probe asks another port (starting)", "cause=\"probe-wrong-port\"" },
	{ "the probe outlives its timeout", "timeout_s=3" },
	{ "the probe outlives its timeout", "probe_output=\"Health check exceeded timeout (3s)\"" },
	{ "shell form, no shell in the image", "corrected" },
};

static void test_healthcheck(void **state)
{
	(void)state;
	run_cases(health_cases, ARRAY_SIZE(health_cases));
	for (size_t i = 0; i < ARRAY_SIZE(health_evidence); i++) {
		for (size_t j = 0; j < ARRAY_SIZE(health_cases); j++) {
			struct fake_engine fe;
			struct check_result res;

			if (strcmp(health_cases[j].name, health_evidence[i].row))
				continue;
			run_case(&health_cases[j], &fe, &res);
			assert_evidence(health_cases[j].name, res.evidence, health_evidence[i].evidence);
			/* result_cause sets the field too, not only the evidence */
			if (res.status == CHECK_FAIL)
				assert_non_null(res.cause);
			check_result_release(&res);
		}
	}
	/* the port test runs the probe's own Node inside the container */
	{
		struct fake_engine fe;
		struct check_result res;

		run_case(&health_cases[ARRAY_SIZE(health_cases) - 1], &fe, &res);
		assert_int_equal(fe.calls[FAKE_EXEC], 1);
		assert_true(!strncmp(fe.last_exec, "/nodejs/bin/node -e ", 20));
		check_result_release(&res);
	}
}

/* --------------------------------------------------------------- no-shell */

static const struct kind_case shell_cases[] = {
	{ "no shell", "noshell", NULL, { REF_ENGINE }, ROOTFS_DISTROLESS, 0, 0, NULL, NULL, 0, 0,
	  CHECK_PASS, "no shell runs in the container, and the filesystem holds none of 5 names", NULL,
	  "ran_in_container=[]" },
	{ "no shell, the filesystem exported", "noshell", NULL, { REF_ENGINE }, ROOTFS_DISTROLESS, 1, 0,
	  NULL, NULL, 0, 0,
	  CHECK_PASS, "no shell runs in the container", NULL, "found_on_filesystem=[]" },
	{ "a shell runs", "noshell", NULL, { REF_ENGINE, .exec = "exec-sh-alpine.json" }, ROOTFS_ALPINE, 0, 0,
	  NULL, NULL, 0, 0,
	  CHECK_FAIL, "the image has a shell: `sh` runs in the container; 2 shell files on the filesystem",
	  "base the runtime stage on the distroless Node image", "ran_in_container=[\"sh\"]" },
	{ "a shell in the base: its FROM quoted", "noshell", "{\"runtime_image\": \"gcr.io/distroless/nodejs20-debian12\"}",
	  { REF_ENGINE, .exec = "exec-sh-alpine.json" }, ROOTFS_ALPINE, 0, 0, NULL, NULL, 0, 0,
	  CHECK_FAIL, "the image has a shell", "base the runtime stage", "corrected=\"FROM gcr.io/distroless/nodejs20-debian12\"" },
	{ "busybox under another name", "noshell", NULL, { REF_ENGINE }, ROOTFS_DISGUISED, 0, 0, NULL, NULL, 0, 0,
	  CHECK_FAIL, "app/bin/tick is busybox under another name", "renaming it does not disarm it",
	  "found_by_contents=[{\"path\": \"app/bin/tick\", \"shell\": \"busybox\"}]" },
	{ "busybox copied in: the COPY line quoted", "noshell", NULL, { REF_ENGINE }, ROOTFS_DISGUISED, 0, 0, NULL, NULL,
	  0, 0, CHECK_FAIL, "busybox under another name", "renaming it", "line=\"COPY --from=builder /bin/busybox ./bin/tick\"",
	  .df_edit = { "COPY --from=builder /app/package.json ./", "COPY --from=builder /app/package.json ./\nCOPY --from=builder /bin/busybox ./bin/tick" } },
	{ "the filesystem cannot be read", "noshell", NULL, { REF_ENGINE }, ROOTFS_NONE, 0, 0, NULL, NULL, 0, 0,
	  CHECK_ERROR, "cannot look at the image's filesystem", NULL, NULL },
};

static void test_no_shell(void **state)
{
	struct fake_engine fe;
	struct check_result res;

	(void)state;
	run_cases(shell_cases, ARRAY_SIZE(shell_cases));
	/* the lesson's way first: `sh -c` in the running container */
	run_case(&shell_cases[0], &fe, &res);
	assert_string_equal(fe.last_exec, "sh -c exit 0");
	check_result_release(&res);
}

/* ------------------------------------------------------------ layer-cache */

static const struct kind_case cache_cases[] = {
	{ "npm ci from the cache, legacy builder", "cache", NULL,
	  { REF_ENGINE, .builds = { BUILT("build-legacy-built.txt"), BUILT("build-legacy-srcchange-cached.txt") } },
	  0, 0, 0, NULL, NULL, 0, 0,
	  CHECK_PASS, "step 4/16 `RUN npm ci --omit=dev` came from the cache", NULL, "step" },
	{ "npm ci re-run after COPY . ., legacy builder", "cache", NULL,
	  { REF_ENGINE, .builds = { BUILT("build-legacy-copyfirst.txt"), BUILT("build-legacy-copyfirst-srcchange.txt") } },
	  0, 0, 0, NULL, NULL, 0, 0,
	  CHECK_FAIL, "re-ran `RUN npm ci --omit=dev`: step 3/16 `COPY . .` came before it and was rebuilt",
	  "copy only the dependency manifests before installing", "first_rebuilt" },
	{ "COPY . . before npm ci: the cause and the line", "cache", NULL,
	  { REF_ENGINE, .builds = { BUILT("build-legacy-copyfirst.txt"), BUILT("build-legacy-copyfirst-srcchange.txt") } },
	  0, 0, 0, NULL, NULL, 0, 0,
	  CHECK_FAIL, "came before it and was rebuilt", "copy only the dependency manifests", "cause=\"copy-all-before-install\"",
	  .df_edit = { "COPY package.json package-lock.json ./\n", "", "RUN npm ci --omit=dev\n", "COPY . .\nRUN npm ci --omit=dev\n" } },
	{ "package.json alone, then COPY . .: the lock file was not copied with it", "cache", NULL,
	  { REF_ENGINE, .builds = { BUILT("build-legacy-copyfirst.txt"), BUILT("build-legacy-copyfirst-srcchange.txt") } },
	  0, 0, 0, NULL, NULL, 0, 0,
	  CHECK_FAIL, "came before it and was rebuilt", "copy only the dependency manifests", "cause=\"lockfile-not-copied\"",
	  .df_edit = { "COPY package.json package-lock.json ./\n", "COPY package.json ./\n", "RUN npm ci --omit=dev\n",
	    "COPY . .\nRUN npm ci --omit=dev\n" } },
	{ "npm ci from the cache, BuildKit", "cache", NULL,
	  { REF_ENGINE, .builder = BUILDER_BUILDKIT, .builds = { BUILT("tests/fixtures/buildlog/buildkit-clean.txt"),
	    BUILT("tests/fixtures/buildlog/buildkit-srcchange.txt") } }, 0, 0, 0, NULL, NULL, 0, 0,
	  CHECK_PASS, "step [builder 4/6] `RUN npm ci --omit=dev` came from the cache", NULL, "step" },
	{ "no step installs with the installers that count", "cache",
	  "{\"step\": \"yarn install\", \"installers\": [\"yarn\"]}",
	  { REF_ENGINE, .builds = { BUILT("build-legacy-built.txt"), BUILT("build-legacy-srcchange-cached.txt") } },
	  0, 0, 0, NULL, NULL, 0, 0,
	  CHECK_FAIL, "none runs `yarn install` or another install with yarn (the rebuild had 16 steps)",
	  "RUN yarn install", "line=\"RUN npm ci --omit=dev\"", "install-step-not-found" },
	{ "the rebuild fails", "cache", NULL,
	  { REF_ENGINE, .builds = { BUILT("build-legacy-built.txt"), FAILED("build-legacy-failed.txt") } },
	  0, 0, 0, NULL, NULL, 0, 0,
	  CHECK_ERROR, "the first build passed but the rebuild after editing", NULL, "edited" },
};

static void test_layer_cache(void **state)
{
	struct fake_engine fe;
	struct check_result res;

	(void)state;
	run_cases(cache_cases, ARRAY_SIZE(cache_cases));
	/* the rebuild went to the engine, and what it made was removed at once */
	run_case(&cache_cases[0], &fe, &res);
	assert_int_equal(fe.calls[FAKE_BUILD], 2);
	assert_true(fe.calls[FAKE_RM] >= 1);
	assert_evidence("edited", res.evidence, "edited=\"src/app.js\"");
	check_result_release(&res);
}

/* ---------------------------------------------------------- build-context */

static const struct kind_case context_cases[] = {
	{ "everything there excluded; node_modules and .git not there", "dockerignore", NULL,
	  { .builder = BUILDER_LEGACY }, 0, 0, 0, NULL, NULL, 0, 0,
	  CHECK_PASS, ".dockerignore (10 patterns) leaves out tests/; not in the folder, so not judged: node_modules, .git",
	  NULL, "not_in_folder=[\"node_modules\", \".git\"]" },
	{ "tests sent", "dockerignore", NULL, { .builder = BUILDER_LEGACY }, 0, 0, 0,
	  "node_modules\n.git\n", NULL, 0, 0,
	  CHECK_FAIL, ".dockerignore (2 patterns) still sends tests/ (tests) to the engine", "missing here: tests",
	  "cause=\"tests-sent\"" },
	{ "tests brought back by a later !", "dockerignore", NULL, { .builder = BUILDER_LEGACY }, 0, 0, 0,
	  "node_modules\n.git\ntests\n!tests\n", NULL, 0, 0,
	  CHECK_FAIL, "still sends tests/ (tests; brought back by '!tests' on line 4)", "a later `!` line wins",
	  "line=\"!tests\"" },
	{ "no .dockerignore", "dockerignore", NULL, { .builder = BUILDER_LEGACY }, 0, 0, 0, "-", NULL, 0, 0,
	  CHECK_FAIL, "no .dockerignore in the service folder: every build sends all of it, including tests/ (tests)",
	  "a .dockerignore beside the Dockerfile", "cause=\"no-dockerignore\"" },
	{ "tests in test/, a .dockerignore that names only tests", "dockerignore", NULL, { .builder = BUILDER_LEGACY },
	  0, 0, 0, "node_modules\n.git\ntests\n", NULL, 0, 0,
	  CHECK_FAIL, "still sends test/ (tests) to the engine", "missing here: test", "corrected=\"test\"",
	  .files = { "tests", NULL, "test/users.test.js", "// a test\n" } },
	{ "a test file beside the code", "dockerignore", NULL, { .builder = BUILDER_LEGACY }, 0, 0, 0, NULL, NULL, 0, 0,
	  CHECK_FAIL, "still sends src/users.spec.ts (tests)", "**/*.spec.ts", "path=\"src/users.spec.ts\"",
	  .files = { "src/users.spec.ts", "// a test\n" } },
	{ "tests in __tests__, excluded: not judged on a tests/ it does not have", "dockerignore", NULL,
	  { .builder = BUILDER_LEGACY }, 0, 0, 0, "**/__tests__\n", NULL, 0, 0,
	  CHECK_PASS, "leaves out src/__tests__/; not in the folder, so not judged: node_modules, .git, tests", NULL,
	  "decisions", .files = { "tests", NULL, "src/__tests__/users.js", "// a test\n" } },
	{ "node_modules there and sent", "dockerignore", NULL, { .builder = BUILDER_LEGACY }, 0, 0, 0,
	  ".git\ntests\n", NULL, 0, 0,
	  CHECK_FAIL, "still sends node_modules/ (dependencies)", "missing here: node_modules",
	  "cause=\"dependencies-sent\"", .files = { "node_modules/ms/index.js", "module.exports = 1;\n" } },
	{ "a spec/ folder without test files is not tests", "dockerignore", NULL, { .builder = BUILDER_LEGACY },
	  0, 0, 0, NULL, NULL, 0, 0,
	  CHECK_PASS, ".dockerignore (10 patterns) leaves out tests/;", NULL, "decisions",
	  .files = { "spec/openapi.yaml", "openapi: 3.0.0\n" } },
};

static void test_build_context(void **state)
{
	struct fake_engine fe;
	struct check_result res;

	(void)state;
	run_cases(context_cases, ARRAY_SIZE(context_cases));
	/* it reads the folder, never the engine */
	run_case(&context_cases[1], &fe, &res);
	for (int op = 0; op < FAKE_NOPS; op++)
		assert_int_equal(fe.calls[op], 0);
	check_result_release(&res);
}

/* ------------------------------------------------------------------- http */

static void assert_cause_named(const char *name, const struct check_result *res, const char *want)
{
	if (!want != !res->cause || (want && strcmp(want, res->cause)))
		fail_msg("%s: cause %s, not %s", name, res->cause ? res->cause : "none", want ? want : "none");
}

/* As the driver runs the check that owns the container when it did not start (verify.c run_one). */
static void run_container_case(const struct kind_case *c, struct fake_engine *fe, struct check_result *res)
{
	struct check_env t;
	struct check_def def;

	*fe = c->fe;
	setup_env(&t, c, fe);
	def = case_def(&t, c);
	memset(res, 0, sizeof(*res));
	if (ctx_need_image(&t.ctx) < 0)
		fail_msg("%s: no image: %s", c->name, t.ctx.build_failure);
	ctx_need_container(&t.ctx);
	def.kind->run(&t.ctx, &def, res);
	if (!res->evidence)
		res->evidence = json_object();
	json_decref(def.params);
	check_env_close(&t);
}

/*
 * The HTTP check asks the port the engine published; the fake publishes
 * the port of a one-answer server in a child process (no engine, no
 * network beyond the loopback).
 */
static int serve_once(const char *answer, pid_t *pid)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 4) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) < 0)
		fail_msg("cannot listen on the loopback: %s", strerror(errno));
	*pid = fork();
	if (*pid < 0)
		fail_msg("fork: %s", strerror(errno));
	if (*pid == 0) {
		char buf[4096];
		int c = accept(fd, NULL, NULL);

		if (c >= 0) {
			if (read(c, buf, sizeof(buf)) < 0)
				_exit(1);
			if (write(c, answer, strlen(answer)) < 0)
				_exit(1);
			close(c);
		}
		_exit(0);
	}
	close(fd);
	return ntohs(sa.sin_port);
}

struct http_case {
	const char *name;
	const char *answer;           /* the raw HTTP answer */
	enum check_status status;
	const char *message;
	const char *hint;
	const char *cause;            /* NULL: none */
};

static const struct http_case http_cases[] = {
	{ "200 with the expected field", "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 15\r\n"
	  "Connection: close\r\n\r\n{\"status\":\"ok\"}", CHECK_PASS, "GET /health answered 200 {\"status\":\"ok\"}", NULL, NULL },
	{ "503", "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\nConnection: close\r\n\r\ndown",
	  CHECK_FAIL, "GET /health answered 503, not 200: down", "must answer 200", "wrong-status" },
	{ "200 but not JSON", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
	  CHECK_FAIL, "answered 200 but the body is not a JSON object: ok", "answer with JSON", "not-json" },
	{ "200 with another value", "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 21\r\n"
	  "Connection: close\r\n\r\n{\"status\":\"starting\"}",
	  CHECK_FAIL, "answered 200 with status = \"starting\", not \"ok\"", "answer {\"status\":\"ok\"}", "wrong-value" },
};

static void test_http(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(http_cases); i++) {
		const struct http_case *h = &http_cases[i];
		struct kind_case c = { h->name, "responds", NULL, { REF_ENGINE }, 0, 0, 0, NULL, NULL, 0, 0,
				       h->status, h->message, h->hint, "status" };
		struct fake_engine fe;
		struct check_result res;
		pid_t pid;
		int st;

		c.fe.host_port = serve_once(h->answer, &pid);
		run_case(&c, &fe, &res);
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
		assert_result(&c, &res);
		assert_cause_named(c.name, &res, h->cause);
		check_result_release(&res);
	}
	/* no port published: nothing to ask, and the engine's answer says so */
	{
		struct kind_case c = { "no port published", "responds", NULL, { REF_ENGINE, .host_port = -1 }, 0, 0, 0,
				       NULL, NULL, 0, 0, CHECK_FAIL, "the engine published no port for 3000/tcp",
				       "EXPOSE 3000", NULL };
		struct fake_engine fe;
		struct check_result res;

		run_case(&c, &fe, &res);
		assert_result(&c, &res);
		assert_cause_named(c.name, &res, "no-port-published");
		check_result_release(&res);
	}
	/* the container did not start, or stopped at once: the driver hands that to the owning kind */
	{
		char *logs = NULL, *file = fake_fixture("logs-cmd-node.txt");
		struct strbuf sb = STRBUF_INIT;
		struct kind_case exits = { "CMD [\"node\", ...] after the distroless entrypoint", "responds", NULL,
					   { REF_ENGINE, .container_inspect = "container-inspect-cmd-node.json" }, 0, 0, 0,
					   NULL, NULL, 0, 0, CHECK_FAIL, "the container exited with code 1",
					   "could not find the script /app/node", "module=\"/app/node\"" };
		struct kind_case refused = { "the engine cannot start the command", "responds", NULL,
					     { REF_ENGINE, .run_fails = 1 }, 0, 0, 0, NULL, NULL, 0, 0, CHECK_FAIL,
					     "the container did not start", "`node` is not in the image",
					     "command=\"node\"" };
		struct fake_engine fe;
		struct check_result res;

		if (read_file_nofollow(file, 1 << 20, &sb) < 0)
			fail_msg("cannot read %s", file);
		logs = strbuf_detach(&sb, NULL);
		exits.fe.logs = logs;
		run_container_case(&exits, &fe, &res);
		assert_result(&exits, &res);
		assert_cause_named(exits.name, &res, "cmd-names-node");
		check_result_release(&res);
		run_container_case(&refused, &fe, &res);
		assert_result(&refused, &res);
		assert_cause_named(refused.name, &res, "cmd-not-in-image");
		check_result_release(&res);
		free(logs);
		free(file);
	}
}

/*
 * A Python service whose container stops at once (recorded by
 * tests/fixtures/engine/record-python): the check runs with phase 3's Python
 * checklist, and names what Python's output and the image say.
 */
struct python_exit_case {
	const char *name;
	const char *inspect, *logs;   /* fixtures */
	const char *own_package;      /* a folder of the service folder ("catalog"), or NULL */
	const char *script, *shebang; /* a file of the image and its text, or NULL */
	const char *cause, *message, *hint, *evidence;
};

static void run_python_exit(const struct python_exit_case *pc)
{
	struct kind_case c = { pc->name, "responds", NULL,
			       { REF_ENGINE, .container_inspect = pc->inspect }, ROOTFS_DISTROLESS, 0, 0, NULL, NULL, 0,
			       0, CHECK_FAIL, pc->message, pc->hint, pc->evidence, pc->cause, NULL, { NULL }, { NULL } };
	struct check_env t;
	struct fake_engine fe;
	struct check_result res;
	struct check_def def;
	struct phase py;
	struct strbuf sb = STRBUF_INIT, err = STRBUF_INIT;
	char *file = fake_fixture(pc->logs);

	if (read_file_nofollow(file, 1 << 20, &sb) < 0)
		fail_msg("cannot read %s", file);
	c.fe.logs = sb.buf;
	fe = c.fe;
	check_env_open(&t, "phases/03-containerization/phase.json", "phaselab-test-python");
	make_service(&t, &c);
	if (pc->own_package) {
		char *init = xasprintf("%s/__init__.py", pc->own_package);
		write_text(t.service, init, "", 0644);
		free(init);
	}
	make_rootfs(&t, c.rootfs);
	if (pc->script)
		write_text(t.rootfs, pc->script, pc->shebang, 0755);
	make_export(&t);
	fe.export_tar = t.tar;
	fe.rootfs_dir = t.rootfs;
	check_env_start(&t, &fe);
	if (phase_for_language(&t.ph, "python", &py, &err) != 0)
		fail_msg("%s: %s", pc->name, err.buf);
	t.ctx.phase = &py;
	def = *phase_check(&py, "responds");
	memset(&res, 0, sizeof(res));
	if (ctx_need_image(&t.ctx) < 0)
		fail_msg("%s: no image: %s", pc->name, t.ctx.build_failure);
	ctx_need_container(&t.ctx);
	def.kind->run(&t.ctx, &def, &res);
	assert_result(&c, &res);
	assert_cause_named(pc->name, &res, pc->cause);
	/* the Python checklist has hints for the cause */
	assert_non_null(check_def_cause(&def, pc->cause));
	check_result_release(&res);
	check_env_close(&t);
	phase_release(&py);
	strbuf_release(&sb);
	strbuf_release(&err);
	free(file);
}

static void test_http_python(void **state)
{
	static const struct python_exit_case cases[] = {
		{ "no PYTHONPATH: an installed package is not found", "container-inspect-python-nopythonpath.json",
		  "logs-python-nopythonpath.txt", NULL, NULL, NULL, "module-not-found",
		  "Python stopped at once: ModuleNotFoundError, no module named 'attrs'; the container exited with code 1",
		  "PYTHONPATH=/usr/local/lib/python3.11/site-packages", "module=\"attrs\"" },
		{ "the service's own package not copied", "container-inspect-python-nopythonpath.json",
		  "logs-python-nopythonpath.txt", "attrs", NULL, NULL, "own-module-missing",
		  "ModuleNotFoundError, no module named 'attrs'", "COPY --from=builder /app .", "module=\"attrs\"" },
		{ "a compiled extension's library is missing", "container-inspect-python-nopythonpath.json",
		  "logs-python-nolib.txt", NULL, NULL, NULL, "library-missing",
		  "the shared library libpq.so.5 is not in the image", "needs libpq.so.5", "library=\"libpq.so.5\"" },
		{ "a console script whose interpreter distroless lacks", "container-inspect-python-nointerpreter.json",
		  "logs-python-nointerpreter.txt", NULL, "usr/local/bin/product-service",
		  "#!/usr/local/bin/python\nimport runpy\n", "interpreter-missing",
		  "could not run /usr/local/bin/product-service: its first line asks for /usr/local/bin/python, which "
		  "this image does not have", "CMD [\"main.py\"]", "interpreter=\"/usr/local/bin/python\"" },
		{ "a console script not in the image's files (no export)", "container-inspect-python-nointerpreter.json",
		  "logs-python-nointerpreter.txt", NULL, NULL, NULL, "interpreter-missing",
		  "the file is there, but what runs it is not", "made in the builder for the builder's interpreter",
		  "script=\"/usr/local/bin/product-service\"" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run_python_exit(&cases[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_build),
		cmocka_unit_test(test_build_calls),
		cmocka_unit_test(test_image_size),
		cmocka_unit_test(test_image_size_hooks),
		cmocka_unit_test(test_multi_stage),
		cmocka_unit_test(test_process_user),
		cmocka_unit_test(test_healthcheck),
		cmocka_unit_test(test_http_python),
		cmocka_unit_test(test_no_shell),
		cmocka_unit_test(test_layer_cache),
		cmocka_unit_test(test_build_context),
		cmocka_unit_test(test_http),
	};

	int failed = cmocka_run_group_tests(tests, NULL, NULL);

	if (lab_loaded)
		phase_set_release(&lab_set);
	return failed;
}
