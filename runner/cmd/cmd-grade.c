/*
 * phaselab grade: a whole class, from the learners' git repositories, at
 * the deadline's commit, into a gradebook.
 *
 * Each learner is graded by a child `phaselab check` (the same program), so
 * one learner's broken or hostile submission (a crash, a hang, megabytes of
 * output) is that child's problem: it has a time limit, its output goes to a
 * file, and the others go on.  Up to --jobs children run at once, each with
 * its own containers, labels and engine-chosen ports.
 *
 * A learner's repository that holds services/ (a workshop system) is checked
 * as a whole: the child writes a suite (phaselab.suite/v1), and the gradebook
 * has one row per learner and service, then the learner's TOTAL.
 *
 * With --engine (repeatable) the class is spread over several engines
 * (grade/engines.h decides who goes where): each is probed first and left out
 * when it does not answer or lacks the phase's base images; a learner's check
 * runs whole on one engine, chosen by the child's environment; --jobs is per
 * engine.  An engine that stops answering mid-class hands its learners to the
 * others.
 */
#include "cmd/cmd.h"
#include "engine/engine.h"
#include "lib/fsutil.h"
#include "lib/git.h"
#include "lib/interrupt.h"
#include "lib/strvec.h"
#include "core/phase.h"
#include "report/report.h"
#include "grade/engines.h"
#include "grade/roster.h"
#include "core/rundir.h"
#include "grade/summary.h"
#include "lib/timeutil.h"
#include "lib/xalloc.h"

#include <errno.h>
#include <signal.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

/* How often the pool looks for a finished check (ms). */
#define GRADE_POLL_MS 20

struct grade_opts {
	const char *phase, *roster, *out, *deadline_text;
	long long deadline;   /* valid when has_deadline */
	int has_deadline;
	int late, force, jobs;
	long timeout_ms;
	struct engine_spec specs[CMD_MAX_REPEAT]; /* --engine, in the order given */
	size_t nspecs;
};

/* An engine of the class, probed before the class starts. */
struct class_engine {
	const struct engine_spec *spec;
	struct engine engine;     /* open while usable: the parent pings it */
	int opened;
	char *left_out;           /* why it was left out, or NULL */
	char *lost;               /* why it was marked lost mid-class, or NULL */
};

struct learner {
	const struct roster_entry *entry;
	char *dir;            /* DIR/<learner> */
	char *repo;           /* DIR/.repos/<learner> */
	struct git_pick pick;
	char *problem;        /* why it could not be graded, or NULL */
	int reused;           /* an earlier run graded this commit */
	struct proc *child;
	struct report report;
	struct suite suite;   /* when is_suite: the child checked a system */
	int is_suite;
	int has_report;       /* report, or suite when is_suite, holds the grading */
	char *engine_name;    /* with --engine: the engine that graded it (an earlier run's, when reused), or NULL */
};

/* The options' values, checked; 0, or the exit status of a usage error (printed). */
static int grade_opts_of(const struct cmd_args *args, struct grade_opts *o)
{
	const char *jobs = cmd_value(args, "jobs"), *timeout = cmd_value(args, "timeout");
	const char *given[CMD_MAX_REPEAT];
	size_t ngiven = cmd_values(args, "engine", given, CMD_MAX_REPEAT);
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	char *end;

	memset(o, 0, sizeof(*o));
	o->phase = cmd_value(args, "phase");
	o->roster = cmd_value(args, "roster");
	o->out = cmd_value(args, "out");
	o->late = cmd_flag(args, "late");
	o->force = cmd_flag(args, "force");
	o->deadline_text = cmd_value(args, "deadline");
	if (o->deadline_text) {
		o->has_deadline = 1;
		if (parse_time(o->deadline_text, &o->deadline) < 0)
			return cmd_fail(EXIT_USAGE, "grade: --deadline '%s' is not a time (2026-11-20T23:59:00Z, "
					"\"2026-11-20 23:59\", @<seconds>)", o->deadline_text);
	}
	o->jobs = cores > 0 ? (int)cores : 1;
	if (jobs) {
		o->jobs = (int)strtol(jobs, &end, 10);
		if (!*jobs || *end || o->jobs < 1 || o->jobs > 64)
			return cmd_fail(EXIT_USAGE, "grade: --jobs '%s' is not a number from 1 to 64", jobs);
	}
	o->timeout_ms = strtol(timeout, &end, 10) * 60 * 1000L;
	if (!*timeout || *end || o->timeout_ms < 60000 || o->timeout_ms > 24 * 3600 * 1000L)
		return cmd_fail(EXIT_USAGE, "grade: --timeout '%s' is not a number of minutes (1 to 1440)", timeout);
	for (size_t i = 0; i < ngiven; i++) {
		struct strbuf err = STRBUF_INIT;
		int rc = 0;

		for (size_t j = 0; j < i; j++)
			if (!strcmp(given[j], given[i]))
				rc = cmd_fail(EXIT_USAGE, "grade: --engine '%s' is given twice", given[i]);
		if (!rc && engine_spec_parse(given[i], &o->specs[o->nspecs], &err) < 0)
			rc = cmd_fail(EXIT_USAGE, "grade: --engine: %s", err.buf);
		strbuf_release(&err);
		if (rc) {
			for (size_t j = 0; j < o->nspecs; j++)
				engine_spec_release(&o->specs[j]);
			o->nspecs = 0;
			return rc;
		}
		o->nspecs++;
	}
	return 0;
}

/*
 * The learner's report.json, a report or a suite (l->is_suite), into l.
 * 0, or -1 when it is missing or unreadable (l holds nothing then).
 */
static int load_report(const char *path, struct learner *l)
{
	json_t *root = json_load_file(path, 0, NULL);
	struct strbuf err = STRBUF_INIT;
	const char *schema = root ? report_json_schema(root) : NULL;
	int rc = -1;

	l->is_suite = schema && !strcmp(schema, "phaselab.suite/v1");
	if (root && (l->is_suite ? suite_from_json(root, &l->suite, &err) : report_from_json(root, &l->report, &err)) == 0)
		rc = 0;
	else
		l->is_suite = 0;
	json_decref(root);
	strbuf_release(&err);
	return rc;
}

/* Free what load_report read. */
static void release_report(struct learner *l)
{
	if (l->is_suite)
		suite_release(&l->suite);
	else
		report_release(&l->report);
	memset(&l->report, 0, sizeof(l->report));
	memset(&l->suite, 0, sizeof(l->suite));
	l->is_suite = 0;
}

/* Fetch the learner's repository and check out the commit to grade. */
static void prepare(struct learner *l, const struct grade_opts *o, const char *out)
{
	struct strbuf err = STRBUF_INIT;
	char *report_path;

	l->dir = xasprintf("%s/%s", out, l->entry->learner);
	l->repo = xasprintf("%s/.repos/%s", out, l->entry->learner);
	if (mkdir(l->dir, 0755) < 0 && errno != EEXIST) {
		l->problem = xasprintf("cannot create '%s': %s", l->dir, strerror(errno));
		return;
	}
	if (!strstr(l->entry->repo, "://") && !strchr(l->entry->repo, '@') && access(l->entry->repo, F_OK) < 0) {
		l->problem = xasprintf("the repository '%s' does not exist", l->entry->repo);
		return;
	}
	if (git_clone_or_fetch(l->entry->repo, l->repo, &err) < 0 ||
	    git_pick_commit(l->repo, l->entry->branch, o->has_deadline, o->deadline, o->late, &l->pick, &err) < 0) {
		l->problem = xasprintf("%s", err.buf);
		strbuf_release(&err);
		return;
	}
	if (!l->pick.commit[0]) {
		l->problem = xasprintf("every commit is after the deadline (the newest, %.12s, is late; --late grades it)",
				       l->pick.tip);
		return;
	}
	report_path = xasprintf("%s/report.json", l->dir);
	if (!o->force && load_report(report_path, l) == 0) {
		int has_git = l->is_suite ? l->suite.has_git : l->report.has_git;
		const char *commit = l->is_suite ? l->suite.commit : l->report.commit;

		if (has_git && !strcmp(commit, l->pick.commit))
			l->reused = l->has_report = 1;
		else
			release_report(l);
	}
	free(report_path);
	if (!l->reused && git_checkout_commit(l->repo, l->pick.commit, &err) < 0)
		l->problem = xasprintf("%s", err.buf);
	strbuf_release(&err);
}

/* 1 if path is a folder. */
static int is_dir(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

static void start_child(struct learner *l, const struct grade_opts *o, const struct phase *ph, const char *self,
			const struct engine_spec *spec)
{
	char *services = xasprintf("%s/services", l->repo);
	char *target = NULL;
	const char **argv = xcalloc(12, sizeof(*argv));

	/*
	 * a system (services/) is checked whole, into a suite; else a workspace
	 * keeps the service in its own folder, and a bare service repo is its root
	 */
	if (!is_dir(services)) {
		target = xasprintf("%s/%s", l->repo, ph->service_dir);
		if (!is_dir(target)) {
			free(target);
			target = NULL;
		}
	}
	free(services);
	if (!target)
		target = xstrdup(l->repo);
	argv[0] = self;
	argv[1] = "check";
	argv[2] = "--phase";
	argv[3] = ph->id;
	argv[4] = "--dir";
	argv[5] = target;
	argv[6] = "--format";
	argv[7] = "json";
	argv[8] = "--output";
	argv[9] = xasprintf("%s/report.json", l->dir);
	l->child = xcalloc(1, sizeof(*l->child));
	*l->child = (struct proc)PROC_INIT;
	l->child->argv = argv;
	/* the learner's id, for a phase whose registry repository carries it ({learner}) */
	/* then the engine's choice, borrowed from spec (--engine) */
	{
		char **env = xcalloc(2 + ENGINE_SPEC_NENV, sizeof(*env));
		env[0] = xasprintf("PHASELAB_LEARNER=%s", l->entry->learner);
		for (size_t i = 0; spec && i < ENGINE_SPEC_NENV && spec->env[i]; i++)
			env[1 + i] = spec->env[i];
		l->child->env = (const char *const *)env;
	}
	l->child->timeout_ms = o->timeout_ms;
	l->child->out_path = xasprintf("%s/check.log", l->dir);
	l->child->max_capture = 64 << 10;
	if (proc_start(l->child) < 0)
		l->problem = xasprintf("cannot start the check: %s", strerror(errno));
}

static void free_child(struct learner *l);

static void finish_child(struct learner *l)
{
	struct proc *p = l->child;
	char *report_path = xasprintf("%s/report.json", l->dir);

	/* a check that exited 2 or more is not graded, even if it left a report or a suite */
	if (p->status == PROC_TIMED_OUT)
		l->problem = xasprintf("grading took longer than the time limit (%ld min)", p->timeout_ms / 60000);
	else if (p->status == PROC_INTERRUPTED)
		l->problem = xstrdup("interrupted");
	else if (p->status > 1 || p->status < 0 || load_report(report_path, l) < 0) {
		struct strbuf tail = STRBUF_INIT;
		strbuf_add_tail_lines(&tail, p->out.buf, p->out.len, 2);
		strbuf_rtrim(&tail);
		l->problem = xasprintf("the check exited %d: %s", p->status, tail.len ? tail.buf : "no output");
		strbuf_release(&tail);
	} else {
		l->has_report = 1;
	}
	free(report_path);
	free_child(l);
}

/* Free the child's process and what start_child made for it. */
static void free_child(struct learner *l)
{
	struct proc *p = l->child;

	free((char *)p->argv[5]);
	free((char *)p->argv[9]);
	free((void *)p->argv);
	if (p->env)
		free((char *)p->env[0]);
	free((void *)p->env);
	free((char *)p->out_path);
	proc_release(p);
	free(p);
	l->child = NULL;
}

/* Each learner's reports for people, beside the report.json its check wrote: DIR/<learner>/report.<ext>. */
static const char *const learner_formats[] = { "html", "markdown" };

static void write_learner_reports(struct learner *l)
{
	for (size_t i = 0; l->has_report && i < ARRAY_SIZE(learner_formats); i++) {
		const struct report_format *f = report_format_find(learner_formats[i]);
		char *path = xasprintf("%s/report.%s", l->dir, f->ext);
		int rc = l->is_suite ? suite_write_to(&l->suite, f->name, path) : report_write_to(&l->report, f->name, path);

		if (rc < 0) {
			cmd_fail(0, "grade: cannot write '%s': %s", path, strerror(errno));
			free(path);
			break;
		}
		free(path);
	}
}

/* What a learner not graded gets for every item. */
static const char *ungraded_status(const struct learner *l)
{
	/* nothing on time is "skip"; a repository that could not be read, or a check that broke, "error" */
	return l->pick.tip[0] && !l->pick.commit[0] ? "skip" : "error";
}

/* The learner's status for the phase's k-th check. */
static const char *status_of(const struct learner *l, const struct check_def *def)
{
	if (!l->has_report)
		return ungraded_status(l);
	for (size_t j = 0; j < l->report.nchecks; j++)
		if (!strcmp(l->report.checks[j].id, def->id))
			return check_status_name(l->report.checks[j].status);
	return "error";
}

/* The gradebook's engine column: NULL (no column) without --engine, else the engine or "" (none). */
static const char *engine_column(const struct grade_opts *o, const struct learner *l)
{
	if (!o->nspecs)
		return NULL;
	return l->has_report && l->engine_name ? l->engine_name : "";
}

/*
 * A class of systems (some learner's check is a suite): one row per learner
 * and service, then the learner's total.  A learner not graded gets the
 * class's services (in the order they first appear); one graded as a single
 * service, the service folder the phase names.
 */
static struct summary_row *system_rows(const struct phase *ph, const struct grade_opts *o,
				       const struct learner *ls, size_t n, size_t *nrows)
{
	/* the names are borrowed from the suites, which outlive the rows */
	const char **names;
	const char *single = strrchr(ph->service_dir, '/') ? strrchr(ph->service_dir, '/') + 1 : ph->service_dir;
	struct summary_row *rows;
	size_t cap = 0, nnames = 0;

	for (size_t i = 0; i < n; i++)
		cap += ls[i].is_suite ? ls[i].suite.nservices : 0;
	names = xcalloc(cap ? cap : 1, sizeof(*names));
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; ls[i].is_suite && j < ls[i].suite.nservices; j++) {
			size_t k = 0;
			while (k < nnames && strcmp(names[k], ls[i].suite.services[j].name))
				k++;
			if (k == nnames)
				names[nnames++] = ls[i].suite.services[j].name;
		}
	cap = 0;
	for (size_t i = 0; i < n; i++)
		cap += (ls[i].is_suite ? ls[i].suite.nservices : ls[i].has_report ? 1 : nnames) + 1;
	rows = xcalloc(cap, sizeof(*rows));
	*nrows = 0;
	for (size_t i = 0; i < n; i++) {
		const struct learner *l = &ls[i];
		struct summary_row base = { .learner = l->entry->learner, .problem = l->problem,
					    .engine = engine_column(o, l) };

		summary_row_pick(&base, &l->pick, o->has_deadline, o->deadline);
		if (l->is_suite && l->has_report)
			*nrows += summary_rows_suite(rows + *nrows, &base, ph, &l->suite);
		else if (l->has_report)
			*nrows += summary_rows_report(rows + *nrows, &base, ph, &l->report, single);
		else
			*nrows += summary_rows_ungraded(rows + *nrows, &base, ph, names, nnames, ungraded_status(l));
	}
	free(names);
	return rows;
}

/* The gradebook and the class summary, from one row per learner (and service, in a class of systems). */
static int write_gradebook(const char *out, const struct phase *ph, const struct grade_opts *o,
			   struct learner *ls, size_t n, const struct class_engine *engines, size_t nengines,
			   const struct grade_pool *pool)
{
	struct summary_engine *se = xcalloc(nengines ? nengines : 1, sizeof(*se));
	char **details = xcalloc(nengines ? nengines : 1, sizeof(*details));

	struct summary_row *rows = NULL;
	struct strbuf csv = STRBUF_INIT;
	char *path = xasprintf("%s/gradebook.csv", out), when[40];
	size_t nrows = n;
	int rc, systems = 0;

	for (size_t i = 0; i < n; i++)
		systems |= ls[i].is_suite;
	if (systems)
		rows = system_rows(ph, o, ls, n, &nrows);
	else
		rows = xcalloc(n ? n : 1, sizeof(*rows));
	for (size_t i = 0; !systems && i < n; i++) {
		const struct learner *l = &ls[i];
		rows[i].learner = l->entry->learner;
		summary_row_pick(&rows[i], &l->pick, o->has_deadline, o->deadline);
		rows[i].graded = l->has_report;
		rows[i].score = l->has_report ? l->report.score : 0;
		rows[i].max_score = l->has_report ? l->report.max_score : summary_max_points(ph);
		rows[i].passed = l->has_report && l->report.passed;
		rows[i].problem = l->problem;
		rows[i].engine = engine_column(o, l);
		rows[i].statuses = xcalloc(ph->nchecks ? ph->nchecks : 1, sizeof(char *));
		for (size_t k = 0; k < ph->nchecks; k++)
			rows[i].statuses[k] = status_of(l, &ph->checks[k]);
	}
	summary_gradebook_csv(&csv, ph, rows, nrows);
	rc = write_file_atomic(path, csv.buf, csv.len);
	if (o->has_deadline)
		format_time_utc(o->deadline, when, sizeof(when));
	/* which engine graded whom: the rows say; the page also lists those left out or lost */
	for (size_t e = 0; o->nspecs && e < nengines; e++) {
		const struct class_engine *ce = &engines[e];

		se[e].name = ce->spec->name;
		if (ce->opened || ce->lost)
			details[e] = xasprintf("%s %s%s%s", ce->engine.kind, ce->engine.server_version ? ce->engine.server_version : "",
					       ce->engine.remote ? ", remote" : "", ce->engine.rootless ? ", rootless" : "");
		se[e].kind = details[e] ? details[e] : engine_spec_kind_name(ce->spec);
		se[e].state = ce->left_out ? "left out" : ce->lost ? "lost mid-class" : "used";
		se[e].reason = ce->left_out ? ce->left_out : ce->lost;
		se[e].checks_started = pool ? pool->engines[e].started : 0;
	}
	if (rc == 0)
		rc = summary_write_engines(out, ph, o->has_deadline ? when : NULL, rows, nrows, se,
					   o->nspecs ? nengines : 0);
	for (size_t e = 0; e < nengines; e++)
		free(details[e]);
	free(details);
	free(se);
	summary_rows_release(rows, nrows);
	free(rows);
	free(path);
	strbuf_release(&csv);
	return rc;
}

static void free_specs(struct grade_opts *o)
{
	for (size_t e = 0; e < o->nspecs; e++)
		engine_spec_release(&o->specs[e]);
	o->nspecs = 0;
}

/* Append s to sv unless it is there. */
static void push_once(struct strvec *sv, const char *s)
{
	for (size_t i = 0; i < sv->nr; i++)
		if (!strcmp(sv->v[i], s))
			return;
	strvec_push(sv, s);
}

/*
 * The phase's base images and those of its language variants (a class of
 * systems builds Python services from images of their own), each once.
 */
static void class_base_images(const struct phase *ph, struct strvec *images)
{
	json_t *variants = json_object_get(ph->root, "languages"), *variant, *v;
	const char *lang;
	size_t i;

	for (i = 0; i < ph->nbase_images; i++)
		push_once(images, ph->base_images[i]);
	json_object_foreach(variants, lang, variant)
		json_array_foreach(json_object_get(variant, "base_images"), i, v)
			if (json_is_string(v))
				push_once(images, json_string_value(v));
}

/*
 * Each --engine, opened under its own environment (as its children will
 * see it) and asked for the base images of the phase and its language
 * variants, which `check` would otherwise find missing only at the build
 * (exit 3).  One that fails is left out, its reason printed.  Returns how
 * many are usable.
 */
static size_t probe_engines(struct class_engine *engines, size_t n, const struct phase *ph)
{
	struct strvec images = STRVEC_INIT;
	size_t usable = 0;

	class_base_images(ph, &images);
	for (size_t i = 0; i < n && !interrupt_pending(); i++) {
		struct class_engine *ce = &engines[i];
		char *saved[ENGINE_SPEC_NENV];

		engine_spec_apply(ce->spec, saved);
		if (engine_open(&ce->engine, "grade") < 0) {
			ce->left_out = xasprintf("%s", ce->engine.err.buf);
			engine_close(&ce->engine);
		} else {
			ce->opened = 1;
			for (size_t k = 0; k < images.nr && !ce->left_out; k++) {
				json_t *img = NULL;

				if (engine_image_inspect(&ce->engine, images.v[k], &img) < 0)
					ce->left_out = xasprintf("the base image '%s' is not on it (prepare it there with "
								 "`make images`): %s", images.v[k], ce->engine.err.buf);
				json_decref(img);
			}
		}
		engine_spec_restore(ce->spec, saved);
		if (ce->left_out) {
			if (ce->opened)
				engine_close(&ce->engine);
			ce->opened = 0;
			cmd_fail(0, "engine %s left out: %s", ce->spec->name, ce->left_out);
			continue;
		}
		usable++;
		fprintf(stderr, "phaselab: engine %s: %s %s%s%s, ready\n", ce->spec->name, ce->engine.kind,
			ce->engine.server_version ? ce->engine.server_version : "",
			ce->engine.remote ? ", remote" : "", ce->engine.rootless ? ", rootless" : "");
	}
	strvec_clear(&images);
	return usable;
}

/* 1 when the engine answers, under its own environment. */
static int ping_engine(struct class_engine *ce)
{
	char *saved[ENGINE_SPEC_NENV];
	int up;

	engine_spec_apply(ce->spec, saved);
	up = engine_ping(&ce->engine);
	engine_spec_restore(ce->spec, saved);
	return up;
}

/*
 * The learner's check has ended: its grading kept, its own problem kept, or,
 * when its engine stopped answering, handed to the other engines.
 */
static void end_check(struct learner *l, size_t i, struct grade_pool *pool, struct class_engine *engines,
		      const struct grade_opts *o)
{
	int st = l->child->status, e = pool->engine_of[i], gone = 0;
	struct class_engine *ce = &engines[e];

	finish_child(l);
	/* one engine (no --engine) keeps today's rule: the check's problem is the learner's row */
	if (o->nspecs && !l->has_report && pool_status_suspect(st) && !ce->lost && !interrupt_pending())
		gone = !ping_engine(ce);
	switch (pool_finish(pool, i, l->has_report, gone)) {
	case POOL_KEEP:
		break;
	case POOL_HAND_OVER:
		cmd_fail(0, "%s: its check on %s ended without a grading (exit %d): handed over to another engine",
			 l->entry->learner, ce->spec->name, st);
		free(l->problem);
		l->problem = NULL;
		break;
	case POOL_UNGRADED: {
		char *why = xasprintf("not graded: its engine %s stopped answering and no engine is left (%s)",
				      ce->spec->name, l->problem ? l->problem : "no report");
		free(l->problem);
		l->problem = why;
		break;
	}
	}
	if (gone) {
		if (ce->engine.err.len)
			ce->lost = xasprintf("stopped answering mid-class: %s", ce->engine.err.buf);
		else
			ce->lost = xasprintf("stopped answering mid-class: `%s version` got no answer from its server",
					     ce->engine.cli ? ce->engine.cli : ce->engine.kind);
		cmd_fail(0, "engine %s %s; its learners go to the %zu engine%s left", ce->spec->name, ce->lost,
			 pool_usable(pool), pool_usable(pool) == 1 ? "" : "s");
	}
}

/* DIR/<learner>/engine: the engine that graded it, for a later run that reuses its grading. */
static char *read_engine_name(const struct learner *l)
{
	char *path = xasprintf("%s/engine", l->dir);
	struct strbuf sb = STRBUF_INIT;
	char *name = NULL;

	if (read_file_nofollow(path, 4096, &sb) == 0) {
		strbuf_rtrim(&sb);
		name = xstrdup(sb.buf);
	}
	strbuf_release(&sb);
	free(path);
	return name;
}

static void write_engine_name(const struct learner *l)
{
	char *path = xasprintf("%s/engine", l->dir), *text = xasprintf("%s\n", l->engine_name);

	if (write_file_atomic(path, text, strlen(text)) < 0)
		cmd_fail(0, "grade: cannot write '%s': %s", path, strerror(errno));
	free(text);
	free(path);
}

static long cpu_ms(const struct rusage *ru)
{
	return (ru->ru_utime.tv_sec + ru->ru_stime.tv_sec) * 1000L +
	       (ru->ru_utime.tv_usec + ru->ru_stime.tv_usec) / 1000L;
}

/*
 * $PHASELAB_GRADE_STATS: grade's own CPU, for the benchmark (bench/class):
 * before the class (start-up, probes), fetching the repositories, and the
 * dispatch (the pool, the gradebook, the reports), and the checks' CPU;
 * dispatch_busy_ms is the pool loop's wall time outside its sleeps (starting,
 * polling, reading reports, pinging).
 */
static void write_grade_stats(const struct rusage *ru0, const struct rusage *ru1, size_t learners, long long wall_ms,
			      long long busy_ms)
{
	const char *path = getenv("PHASELAB_GRADE_STATS");
	struct rusage self, kids;
	FILE *f;

	if (!path || !*path)
		return;
	getrusage(RUSAGE_SELF, &self);
	getrusage(RUSAGE_CHILDREN, &kids);
	f = fopen(path, "we");
	if (!f)
		return;
	fprintf(f, "{\"learners\": %zu, \"wall_ms\": %lld, \"probe_cpu_ms\": %ld, \"fetch_cpu_ms\": %ld, "
		"\"dispatch_cpu_ms\": %ld, \"dispatch_busy_ms\": %lld, \"poll_ms\": %d, \"children_cpu_ms\": %ld}\n",
		learners, wall_ms, cpu_ms(ru0), cpu_ms(ru1) - cpu_ms(ru0), cpu_ms(&self) - cpu_ms(ru1), busy_ms,
		GRADE_POLL_MS, cpu_ms(&kids));
	fclose(f);
}

static int cmd_grade(const struct cmd_args *args)
{
	struct grade_opts o;
	struct phase ph;
	struct roster roster;
	struct strbuf err = STRBUF_INIT, text = STRBUF_INIT;
	struct engine engine;
	struct learner *ls = NULL;
	struct class_engine *engines = NULL;
	struct grade_pool pool = { 0 };
	struct rusage ru0, ru1;
	char self[PATH_MAX], out[PATH_MAX], *repos;
	size_t failed = 0, nengines = 0;
	long long t0 = now_ms(), loop_t0 = 0, loop_ms = 0, slept_ms = 0;
	ssize_t len;
	int rc, bad, given_up = 0, status = EXIT_PASSED;

	rc = grade_opts_of(args, &o);
	if (rc)
		return rc;
	if (phase_load_for_command(o.phase, &ph)) {
		free_specs(&o);
		return EXIT_USAGE;
	}
	if (read_file_nofollow(o.roster, 16 << 20, &text) < 0) {
		free_specs(&o);
		phase_release(&ph);
		return cmd_fail(EXIT_USAGE, "grade: cannot read the roster '%s': %s", o.roster, strerror(errno));
	}
	bad = roster_parse(o.roster, text.buf, text.len, &roster, &err);
	strbuf_release(&text);
	if (err.len)
		fputs(err.buf, stderr);
	strbuf_reset(&err);
	if (bad < 0) {
		free_specs(&o);
		phase_release(&ph);
		return EXIT_USAGE;
	}
	if (bad > 0)
		status = EXIT_NOT_PASSED;
	if ((mkdir(o.out, 0755) < 0 && errno != EEXIST) || !realpath(o.out, out)) {
		free_specs(&o);
		roster_release(&roster);
		phase_release(&ph);
		return cmd_fail(EXIT_USAGE, "grade: cannot use the output folder '%s': %s", o.out, strerror(errno));
	}
	repos = xasprintf("%s/.repos", out);
	mkdir(repos, 0755);
	free(repos);
	len = readlink("/proc/self/exe", self, sizeof(self) - 1);
	self[len > 0 ? len : 0] = '\0';

	/* no engine is a reason to stop before cloning a whole class */
	interrupt_install();
	nengines = o.nspecs ? o.nspecs : 1;
	engines = xcalloc(nengines, sizeof(*engines));
	for (size_t e = 0; e < o.nspecs; e++)
		engines[e].spec = &o.specs[e];
	if (!o.nspecs) {
		if (engine_open(&engine, "grade") < 0) {
			cmd_fail(EXIT_ENVIRONMENT, "%s", engine.err.buf);
			engine_close(&engine);
			status = EXIT_ENVIRONMENT;
			goto out;
		}
		engine_close(&engine);
	} else if (probe_engines(engines, nengines, &ph) == 0) {
		status = interrupt_pending() ? EXIT_INTERRUPTED :
			 cmd_fail(EXIT_ENVIRONMENT, "grade: no engine given with --engine is usable (each one's reason is above)");
		goto out;
	}
	getrusage(RUSAGE_SELF, &ru0);

	ls = xcalloc(roster.n ? roster.n : 1, sizeof(*ls));
	pool_init(&pool, nengines, o.jobs, roster.n);
	for (size_t e = 0; e < nengines; e++)
		if (engines[e].left_out)
			pool_leave_out(&pool, e);
	for (size_t i = 0; i < roster.n && !interrupt_pending(); i++) {
		ls[i].entry = &roster.entries[i];
		prepare(&ls[i], &o, out);
		if (ls[i].reused && o.nspecs)
			ls[i].engine_name = read_engine_name(&ls[i]);
	}
	getrusage(RUSAGE_SELF, &ru1);
	for (size_t i = 0; i < roster.n; i++)
		if (!ls[i].entry || ls[i].problem || ls[i].reused)
			pool_skip(&pool, i);

	/* the pool: up to --jobs checks at once on each engine, each learner on its own */
	loop_t0 = now_ms();
	while (!pool_over(&pool) && !interrupt_pending()) {
		long next;
		int e;

		while ((e = pool_pick_engine(&pool)) >= 0 && (next = pool_next_learner(&pool)) >= 0) {
			struct learner *l = &ls[next];

			pool_start(&pool, (size_t)next, e);
			start_child(l, &o, &ph, self, engines[e].spec);
			if (l->child && !l->problem) {
				fprintf(stderr, "phaselab: grading %s (%.12s)%s%s%s%s%s\n", l->entry->learner, l->pick.commit,
					o.nspecs ? " on " : "", o.nspecs ? engines[e].spec->name : "",
					pool.handed_from[next] >= 0 ? " (handed over from " : "",
					pool.handed_from[next] >= 0 ? engines[pool.handed_from[next]].spec->name : "",
					pool.handed_from[next] >= 0 ? ")" : "");
			} else {
				if (l->child)
					free_child(l);
				pool_finish(&pool, (size_t)next, 0, 0);
			}
		}
		for (size_t i = 0; i < roster.n; i++)
			if (ls[i].child && proc_poll(ls[i].child))
				end_check(&ls[i], i, &pool, engines, &o);
		/* a slot freed is seen within GRADE_POLL_MS: the dispatch's wait, a few ms of a check's seconds */
		if (pool_running(&pool)) {
			long long s0 = now_ms();
			interrupt_sleep_ms(GRADE_POLL_MS);
			slept_ms += now_ms() - s0;
		}
	}
	loop_ms = now_ms() - loop_t0;
	/* an interrupt: each child cleans up after itself on the signal we pass on */
	for (size_t i = 0; i < roster.n; i++) {
		if (ls[i].child) {
			kill(-ls[i].child->pid, SIGINT);
			ls[i].child->uninterruptible = 1;
			proc_finish(ls[i].child);
			finish_child(&ls[i]);
		}
	}
	/* every engine lost: who was still waiting is reported, not graded, and so is the class (exit 3) */
	given_up = pool.ungraded > 0;
	if (!interrupt_pending() && pool_give_up(&pool)) {
		for (size_t i = 0; i < roster.n; i++)
			if (ls[i].entry && !ls[i].has_report && !ls[i].problem && !ls[i].reused) {
				ls[i].problem = xstrdup("not graded: every engine stopped answering before its turn");
				ls[i].engine_name = NULL;
			}
		given_up = 1;
	}
	for (size_t i = 0; i < roster.n; i++)
		if (o.nspecs && !ls[i].reused && pool.engine_of[i] >= 0 && ls[i].has_report)
			ls[i].engine_name = xstrdup(engines[pool.engine_of[i]].spec->name);

	for (size_t i = 0; i < roster.n; i++) {
		if (ls[i].problem) {
			failed++;
			fprintf(stderr, "phaselab: %s: %s\n", ls[i].entry->learner, ls[i].problem);
		} else if (!ls[i].reused) {
			write_learner_reports(&ls[i]);
		}
	}
	for (size_t i = 0; i < roster.n; i++)
		if (ls[i].engine_name && !ls[i].reused)
			write_engine_name(&ls[i]);
	if (write_gradebook(out, &ph, &o, ls, roster.n, engines, nengines, &pool) < 0)
		cmd_fail(0, "grade: cannot write the gradebook in '%s': %s", out, strerror(errno));
	if (o.nspecs) {
		size_t usable = 0;

		for (size_t e = 0; e < nengines; e++)
			usable += !engines[e].left_out;
		fprintf(stderr, "phaselab: graded %zu of %zu learners in %.1f s (%d jobs on each of %zu engines; "
			"%zu handed over); gradebook: %s/gradebook.csv\n", roster.n - failed, roster.n,
			(now_ms() - t0) / 1000.0, o.jobs, usable, pool.handed_over, out);
	} else {
		fprintf(stderr, "phaselab: graded %zu of %zu learners in %.1f s (%d jobs); gradebook: %s/gradebook.csv\n",
			roster.n - failed, roster.n, (now_ms() - t0) / 1000.0, o.jobs, out);
	}
	write_grade_stats(&ru0, &ru1, roster.n, now_ms() - t0, loop_ms - slept_ms);

	if (interrupt_pending())
		status = EXIT_INTERRUPTED;
	else if (given_up)
		status = EXIT_ENVIRONMENT;
	else if (failed)
		status = EXIT_NOT_PASSED;
	for (size_t i = 0; i < roster.n; i++) {
		free(ls[i].dir);
		free(ls[i].repo);
		free(ls[i].problem);
		free(ls[i].engine_name);
		if (ls[i].has_report)
			release_report(&ls[i]);
	}
	free(ls);
	pool_release(&pool);
out:
	for (size_t e = 0; engines && e < nengines; e++) {
		if (engines[e].opened)
			engine_close(&engines[e].engine);
		free(engines[e].left_out);
		free(engines[e].lost);
	}
	free(engines);
	for (size_t e = 0; e < o.nspecs; e++)
		engine_spec_release(&o.specs[e]);
	roster_release(&roster);
	phase_release(&ph);
	strbuf_release(&err);
	return status;
}

static const struct cmd_option options[] = {
	{ .name = "phase", .short_name = 'p', .arg = "ID", .required = 1, .doc = "the phase to grade (an id, a number, or TRACK/PHASE)" },
	{ .name = "roster", .short_name = 'r', .arg = "FILE", .required = 1,
	  .doc = "CSV with a header: learner,repo[,branch]" },
	{ .name = "out", .short_name = 'o', .arg = "DIR", .required = 1,
	  .doc = "where the gradebook (DIR/gradebook.csv), the class summary (DIR/summary.html) and "
		 "each learner's reports (DIR/<learner>/report.{json,html,md}) go" },
	{ .name = "deadline", .short_name = 'd', .arg = "TIME",
	  .doc = "grade the last commit at or before TIME (RFC 3339, \"YYYY-MM-DD HH:MM\" in local time, "
		 "or @<seconds>); the commits after it are counted, not graded" },
	{ .name = "late", .short_name = 'l', .doc = "grade the newest commit even when it is after the deadline" },
	{ .name = "jobs", .short_name = 'j', .arg = "N",
	  .doc = "learners graded at once, 1 to 64 (default: the machine's cores)" },
	{ .name = "timeout", .short_name = 't', .arg = "MINUTES", .fallback = "15",
	  .doc = "time limit per learner, 1 to 1440" },
	{ .name = "force", .short_name = 'f', .doc = "grade again learners whose commit was already graded" },
	{ .name = "engine", .short_name = 'e', .arg = "ENGINE", .repeat = 1,
	  .doc = "spread the class over this engine too (repeatable): a docker context, a DOCKER_HOST URL "
		 "(unix://, tcp://, ssh://) or podman; --jobs is then per engine" },
	{ 0 },
};

const struct cmd_entry cmd_grade_entry = {
	.name = "grade",
	.summary = "grade a class from the learners' git repositories into a gradebook",
	.about = "Fetch each learner's repository, check out the commit to grade and grade it with a "
		 "child `phaselab check`, up to --jobs at once, each with a time limit and "
		 "PHASELAB_LEARNER set to the learner's id (a phase may name a registry repository per "
		 "learner with it).  A repository holding services/ (a workshop system) is checked "
		 "whole: the gradebook then has one row per learner and service, then the learner's "
		 "TOTAL (scores summed, passed when every service passed).  A second run grades only "
		 "the learners whose commit changed.  With --engine (repeatable) the class is spread over "
		 "those engines: each is probed first and left out, with its reason, when it does not answer "
		 "or lacks the phase's base images; each learner's check runs whole on one engine; one that "
		 "stops answering mid-class hands its learners to the others (a learner whose check finished "
		 "keeps its grading).  The gradebook then ends with an engine column, and the summary lists "
		 "the engines, whom each graded, and those left out or lost.",
	.options = options,
	.exit_status = "0 every learner was graded, 1 some could not be (see the gradebook), 2 bad usage, "
		       "roster or phase file, 3 environment not usable (no engine answers; with --engine: none "
		       "is usable, or every one was lost mid-class and learners were left ungraded), 130 interrupted",
	.exec = cmd_grade,
};
