/*
 * phaselab check: build the image from a service folder, run the phase's
 * checks on it, print the graded report.
 */
#include "check.h"
#include "cmd.h"
#include "fsutil.h"
#include "git.h"
#include "http.h"
#include "interrupt.h"
#include "report.h"
#include "timeutil.h"
#include "xalloc.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char usage[] =
	"usage: phaselab check --phase ID [--dir DIR] [--format FORMAT] [--output FILE]\n"
	"\n"
	"  -p, --phase ID     the phase: its id (03-containerization) or number (3)\n"
	"  -d, --dir DIR      the service folder to build (default: the phase's folder here)\n"
	"  -f, --format FMT   text (default), json (schema phaselab.report/v1), junit,\n"
	"                     markdown, gradescope (results.json) or html\n"
	"  -o, --output FILE  write the report to FILE instead of standard output\n"
	"\n"
	"exit status: 0 passed, 1 not passed, 2 bad usage or phase file,\n"
	"             3 environment not usable, 130 interrupted\n";

static void progress(const char *fmt, const char *arg)
{
	if (isatty(2)) {
		fprintf(stderr, "\r\033[K");
		fprintf(stderr, fmt, arg);
		fflush(stderr);
	}
}

static void progress_done(void)
{
	if (isatty(2))
		fprintf(stderr, "\r\033[K");
}

static void skip(struct check_result *res, const char *waits_on, const char *why)
{
	if (waits_on)
		result_set(res, CHECK_SKIP, "waits on '%s': %s", waits_on, why ? why : "it did not complete");
	else
		result_set(res, CHECK_SKIP, "skipped: %s", why ? why : "what it needs is missing");
}

static void start_background(struct check_ctx *ctx, int *started)
{
	if (*started || ctx->build != STAGE_READY)
		return;
	*started = 1;
	for (size_t i = 0; i < ctx->phase->nchecks; i++)
		if (ctx->phase->checks[i].kind->start)
			ctx->phase->checks[i].kind->start(ctx, &ctx->phase->checks[i]);
}

/* Run one check with what it needs, or skip it naming what it waited on. */
static void run_one(struct check_ctx *ctx, const struct check_def *def, struct check_result *res)
{
	const struct check_kind *k = def->kind;

	if (k->needs != NEED_NOTHING && def->kind != &check_build && ctx_need_image(ctx) < 0) {
		if (ctx->build == STAGE_ERROR)
			result_set(res, CHECK_ERROR, "no image to check: %s", ctx->build_failure);
		else
			skip(res, ctx->build_check_id, ctx->build_failure);
		return;
	}
	if (k->needs == NEED_CONTAINER && ctx_need_container(ctx) < 0) {
		int owner = ctx->container_check_id && !strcmp(ctx->container_check_id, def->id);
		if (ctx->container == STAGE_ERROR) {
			result_set(res, CHECK_ERROR, "no container to check: %s", ctx->container_failure);
		} else if (owner) {
			result_set(res, CHECK_FAIL, "%s", ctx->container_failure);
			result_hint(res, "the container stops at once: run it yourself (docker run) and read its "
				    "output; a wrong CMD (the distroless entrypoint is node, so CMD names only the "
				    "script), a missing environment variable or a file the non-root user cannot "
				    "read are the usual causes");
		} else {
			skip(res, ctx->container_check_id, ctx->container_failure);
		}
		return;
	}
	k->run(ctx, def, res);
}

/*
 * PHASELAB_STATS=FILE: what the benchmark reads: wall time, engine calls,
 * and our own peak resident memory (VmHWM: the docker CLI children, which a
 * parent's rusage would fold in, are not counted).
 */
static void write_stats(const struct engine *e, long long wall_ms)
{
	const char *path = getenv("PHASELAB_STATS");
	char line[256];
	long hwm = -1;
	FILE *f;

	if (!path || !*path)
		return;
	f = fopen("/proc/self/status", "re");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmHWM: %ld kB", &hwm) == 1)
			break;
	if (f)
		fclose(f);
	f = fopen(path, "we");
	if (!f)
		return;
	fprintf(f, "{\"wall_ms\": %lld, \"engine_calls\": %u, \"peak_rss_kb\": %ld}\n", wall_ms, e->calls, hwm);
	fclose(f);
}

struct options {
	const char *phase;
	const char *dir;
	const char *format;
	const char *output;
};

static int parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "phase", required_argument, NULL, 'p' },
		{ "dir", required_argument, NULL, 'd' },
		{ "format", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	o->format = "text";
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":p:d:f:o:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'p': o->phase = optarg; break;
		case 'd': o->dir = optarg; break;
		case 'f': o->format = optarg; break;
		case 'o': o->output = optarg; break;
		case 'h': fputs(usage, stdout); return -2;
		case ':': return cmd_fail(EXIT_USAGE, "check: option '%s' needs a value\n%s", argv[optind - 1], usage);
		default: return cmd_fail(EXIT_USAGE, "check: unknown option '%s'\n%s", argv[optind - 1], usage);
		}
	}
	if (optind < argc)
		return cmd_fail(EXIT_USAGE, "check: unexpected argument '%s'\n%s", argv[optind], usage);
	if (!o->phase)
		return cmd_fail(EXIT_USAGE, "check: --phase is required\n%s", usage);
	if (!report_writer(o->format))
		return cmd_fail(EXIT_USAGE, "check: unknown format '%s' (text, json, junit, markdown, gradescope, html)",
				o->format);
	return 0;
}

static int cmd_check(int argc, char **argv)
{
	struct options o = { 0 };
	struct phase ph;
	struct strbuf err = STRBUF_INIT;
	struct engine engine;
	struct rundir run;
	struct check_ctx ctx;
	struct report r;
	struct git_state gs;
	char dir[PATH_MAX];
	char *default_dir = NULL;
	struct stat sb;
	long long t0 = now_ms();
	int status, bg_started = 0, rc;

	rc = parse_options(argc, argv, &o);
	if (rc == -2)
		return EXIT_PASSED;
	if (rc)
		return rc;

	if (phase_load_for_command(o.phase, &ph))
		return EXIT_USAGE;
	if (!o.dir)
		o.dir = default_dir = xstrdup(ph.service_dir);
	if (stat(o.dir, &sb) < 0 || !S_ISDIR(sb.st_mode) || !realpath(o.dir, dir)) {
		cmd_fail(EXIT_USAGE, "check: '%s' is not a folder%s", o.dir,
			 default_dir ? " (give the service folder with --dir)" : "");
		free(default_dir);
		phase_release(&ph);
		return EXIT_USAGE;
	}
	free(default_dir);

	if (interrupt_install() < 0 || http_global_init() < 0) {
		phase_release(&ph);
		return cmd_fail(EXIT_ENVIRONMENT, "cannot set up signal handling or libcurl");
	}
	if (rundir_create(&run, &err) < 0) {
		cmd_fail(EXIT_ENVIRONMENT, "%s", err.buf);
		strbuf_release(&err);
		phase_release(&ph);
		return EXIT_ENVIRONMENT;
	}
	if (engine_open(&engine, run.id) < 0) {
		status = interrupt_pending() ? EXIT_INTERRUPTED : EXIT_ENVIRONMENT;
		if (status == EXIT_INTERRUPTED)
			cmd_fail(status, "interrupted");
		else
			cmd_fail(status, "%s", engine.err.buf);
		engine_close(&engine);
		rundir_remove(&run);
		phase_release(&ph);
		return status;
	}
	/* what killed runs left behind goes first (never another live run's) */
	engine.cleaning = 1;
	rundir_reap_stale(&engine);
	engine.cleaning = 0;

	memset(&ctx, 0, sizeof(ctx));
	ctx.engine = &engine;
	ctx.phase = &ph;
	ctx.run = &run;
	ctx.dir = dir;
	strbuf_init(&ctx.build_output, 0);
	memset(&r, 0, sizeof(r));
	rfc3339_now(r.started_at, sizeof(r.started_at));
	r.checks = xcalloc(ph.nchecks, sizeof(*r.checks));
	r.nchecks = ph.nchecks;
	for (size_t i = 0; i < ph.nchecks; i++) {
		const struct check_kind *k = ph.checks[i].kind;
		if (k == &check_build && !ctx.build_check_id)
			ctx.build_check_id = ph.checks[i].id;
		if (k->needs == NEED_CONTAINER && !ctx.container_check_id)
			ctx.container_check_id = ph.checks[i].id;
	}

	for (size_t i = 0; i < ph.nchecks; i++) {
		const struct check_def *def = &ph.checks[i];
		struct check_result *res = &r.checks[i];
		long long c0 = now_ms();

		res->id = xstrdup(def->id);
		res->title = xstrdup(def->title);
		res->kind = xstrdup(def->kind->name);
		res->max_points = def->points;
		if (interrupt_pending()) {
			result_set(res, CHECK_ERROR, "interrupted");
		} else {
			progress("phaselab: %s ...", def->title);
			run_one(&ctx, def, res);
			/* the rebuild for the cache check overlaps everything after the build */
			start_background(&ctx, &bg_started);
		}
		if (!res->evidence)
			res->evidence = json_object();
		if (!res->message)
			result_set(res, CHECK_ERROR, "the check reported nothing");
		res->points = res->status == CHECK_PASS ? def->points : 0;
		res->duration_ms = (long)(now_ms() - c0);
	}
	progress_done();
	ctx_release(&ctx);
	rundir_remove(&run);

	if (interrupt_pending()) {
		/* everything the run made is gone: say so and stop */
		fprintf(stderr, "phaselab: interrupted; the run's containers, images and scratch files were removed\n");
		status = EXIT_INTERRUPTED;
		goto out;
	}

	r.phase_id = xstrdup(ph.id);
	r.phase_title = xstrdup(ph.title);
	r.dir = xstrdup(dir);
	if (git_describe_dir(dir, &gs) == 1) {
		r.has_git = 1;
		memcpy(r.commit, gs.commit, sizeof(r.commit));
		r.dirty = gs.dirty;
	}
	r.engine_client = xstrdup(engine.client_version);
	r.engine_server = xstrdup(engine.server_version);
	r.builder = xstrdup(engine.builder == BUILDER_BUILDKIT ? "buildkit" : "legacy");
	r.pass_mark = ph.pass_mark;
	report_tally(&r);
	r.duration_ms = (long)(now_ms() - t0);

	if (report_write_to(&r, o.format, o.output) < 0) {
		cmd_fail(EXIT_USAGE, "cannot write the report to '%s': %s", o.output ? o.output : "standard output",
			 strerror(errno));
		status = EXIT_USAGE;
	}
	else if (ctx.env_broken)
		status = EXIT_ENVIRONMENT;
	else
		status = r.passed ? EXIT_PASSED : EXIT_NOT_PASSED;
out:
	write_stats(&engine, now_ms() - t0);
	report_release(&r);
	engine_close(&engine);
	phase_release(&ph);
	strbuf_release(&err);
	http_global_cleanup();
	return status;
}

const struct cmd_entry cmd_check_entry = {
	.name = "check",
	.usage = "--phase ID [--dir DIR] [--format FORMAT] [--output FILE]",
	.summary = "build a service folder and grade it against a phase's checklist",
	.exec = cmd_check,
};
