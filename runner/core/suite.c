/*
 * suite: every service of a system verified against one phase, each in a
 * child process of its own (one verify_phase, one container, its memory
 * gone when it ends), several at once, into one struct suite.
 *
 * A child writes its report as phaselab.report/v1 JSON, and its messages,
 * into the suite's scratch folder; the parent reads them back with the
 * report reader once the child has exited.  Services finish in any order;
 * the suite keeps them in name order.
 */

#include "core/suite.h"
#include "core/exit.h"
#include "core/language.h"
#include "lib/fsutil.h"
#include "lib/git.h"
#include "lib/interrupt.h"
#include "lib/timeutil.h"
#include "lib/xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

/* How often the parent looks at its children and at a pending signal. */
#define SUITE_POLL_MS 50

static int is_dir(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The subfolders of dir (no hidden ones, no links), sorted; those that are services when services_only. */
static int list_subfolders(const char *dir, int services_only, struct strvec *out)
{
	struct strvec names = STRVEC_INIT;
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d))) {
		char *path;

		if (e->d_name[0] == '.')
			continue;
		path = xasprintf("%s/%s", dir, e->d_name);
		if (is_dir(path) && (!services_only || service_language(path)))
			strvec_push(&names, e->d_name);
		free(path);
	}
	closedir(d);
	qsort(names.v, names.nr, sizeof(*names.v), cmp_str);
	for (size_t i = 0; i < names.nr; i++, n++)
		strvec_pushf(out, "%s/%s", dir, names.v[i]);
	strvec_clear(&names);
	return n;
}

int suite_services(const char *dir, struct strvec *dirs)
{
	char *services = xasprintf("%s/services", dir);
	int n = 0;

	if (is_dir(services))
		n = list_subfolders(services, 0, dirs);
	free(services);
	/* a service folder is one service, whatever its subfolders hold */
	if (n == 0 && !service_language(dir))
		n = list_subfolders(dir, 1, dirs);
	return n;
}

void suite_release(struct suite *s)
{
	for (size_t i = 0; i < s->nservices; i++) {
		struct suite_service *sv = &s->services[i];

		free(sv->name);
		free(sv->dir);
		free(sv->language);
		report_release(&sv->report);
	}
	free(s->services);
	free(s->phase_id);
	free(s->phase_title);
	free(s->dir);
	free(s->engine_client);
	free(s->engine_server);
	free(s->builder);
	free(s->engine_kind);
	memset(s, 0, sizeof(*s));
}

void suite_tally(struct suite *s)
{
	s->score = 0;
	s->max_score = 0;
	s->pass_mark = 0;
	s->passed = s->nservices > 0;
	for (size_t i = 0; i < s->nservices; i++) {
		const struct report *r = &s->services[i].report;

		s->score += r->score;
		s->max_score += r->max_score;
		s->pass_mark += r->pass_mark;
		if (!r->passed)
			s->passed = 0;
	}
}

/* One service of the run: what it is, its phase, and its child while it runs. */
struct job {
	struct suite_service *sv;
	struct phase phase;   /* its language's variant (loaded when have_phase) */
	int have_phase;
	struct verify_opts vo;
	pid_t pid;            /* 0: not started or done */
	int done;
	char *report_file, *msg_file;
};

/* A service that cannot be verified: a report with one error item saying why. */
static void error_report(struct suite_service *sv, const struct phase *ph, const char *id, const char *title,
			 const char *message)
{
	struct report *r = &sv->report;
	struct check_result *c;
	int c_points = 0;

	memset(r, 0, sizeof(*r));
	r->phase_id = xstrdup(ph->id);
	r->phase_title = xstrdup(ph->title);
	r->dir = xstrdup(sv->dir);
	r->engine_client = xstrdup("");
	r->engine_server = xstrdup("");
	r->builder = xstrdup("");
	r->engine_kind = xstrdup("");
	rfc3339_now(r->started_at, sizeof(r->started_at));
	r->pass_mark = ph->pass_mark;
	/* the points at stake are the checklist's, so that the suite's maximum does not shrink */
	for (size_t i = 0; i < ph->nchecks; i++)
		if (ph->checks[i].graded)
			c_points += ph->checks[i].points;
	r->checks = xcalloc(1, sizeof(*r->checks));
	r->nchecks = 1;
	c = &r->checks[0];
	c->id = xstrdup(id);
	c->title = xstrdup(title);
	c->kind = xstrdup("suite");
	c->status = CHECK_ERROR;
	c->max_points = c_points;
	c->message = xstrdup(message);
	c->evidence = json_pack("{s:s}", "language", sv->language);
	if (!c->evidence)
		c->evidence = json_object();
	report_tally(r);
	sv->status = EXIT_ENVIRONMENT;
}

/* The child: verify one service, leave the report and the messages in files, exit with the status. */
static void run_child(struct job *j)
{
	struct strbuf msg = STRBUF_INIT;
	struct report r;
	int status;
	FILE *f;

	interrupt_after_fork();
	status = verify_phase(&j->phase, j->sv->dir, &j->vo, &r, &msg);
	if (r.phase_id) {
		f = fopen(j->report_file, "we");
		if (!f || report_write_json(&r, f) < 0) {
			strbuf_addf(&msg, "cannot write the service's report to '%s': %s\n", j->report_file,
				    strerror(errno));
			status = EXIT_ENVIRONMENT;
		}
		if (f)
			fclose(f);
	}
	if (msg.len && write_file_atomic(j->msg_file, msg.buf, msg.len) < 0)
		status = EXIT_ENVIRONMENT;
	_exit(status);
}

/* The parent, once j's child ended with wait status ws: take its report and messages. */
static void collect(struct job *j, const struct phase *ph, int ws, struct strbuf *msg)
{
	struct strbuf text = STRBUF_INIT, err = STRBUF_INIT;
	json_error_t jerr;
	json_t *root;
	/* a child killed by a signal we did not pass on is the harness's failure, not an interrupt */
	int status = WIFEXITED(ws) ? WEXITSTATUS(ws) : interrupt_pending() ? EXIT_INTERRUPTED : -1;

	j->done = 1;
	j->pid = 0;
	if (read_file_nofollow(j->msg_file, 1 << 20, &text) == 0) {
		/* each line of the child's, named by its service */
		for (char *line = text.buf, *nl; (nl = strchr(line, '\n')); line = nl + 1)
			strbuf_addf(msg, "%s: %.*s\n", j->sv->name, (int)(nl - line), line);
	}
	strbuf_release(&text);
	root = json_load_file(j->report_file, 0, &jerr);
	if (root && report_from_json(root, &j->sv->report, &err) == 0) {
		j->sv->status = status;
	} else if (status != EXIT_INTERRUPTED || !interrupt_pending()) {
		/* (a child stopped by a signal to it alone: the suite goes on, and says so) */
		struct strbuf m = STRBUF_INIT;

		if (WIFSIGNALED(ws))
			strbuf_addf(&m, "the service's verification was killed by signal %d", WTERMSIG(ws));
		else if (root)
			strbuf_addf(&m, "the service's verification left an unreadable report: %s", err.buf);
		else if (status == EXIT_INTERRUPTED)
			strbuf_addstr(&m, "the service's verification was interrupted on its own");
		else
			strbuf_addf(&m, "the service's verification ended (status %d) without a report",
				    status);
		error_report(j->sv, ph, "verify", "The service's verification ran", m.buf);
		strbuf_release(&m);
	} else {
		j->sv->status = EXIT_INTERRUPTED;
	}
	json_decref(root);
	strbuf_release(&err);
}

static int online_cores(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n > 0 ? (int)n : 1;
}

static int name_wanted(const char *const *names, const char *name)
{
	if (!names)
		return 1;
	for (; *names; names++)
		if (!strcmp(*names, name))
			return 1;
	return 0;
}

/* The suite's own fields, from the phase, the folder and the first report that ran. */
static void fill_head(struct suite *s, const struct phase *ph, const char *dir)
{
	struct git_state gs;

	s->phase_id = xstrdup(ph->id);
	s->phase_title = xstrdup(ph->title);
	s->dir = xstrdup(dir);
	if (git_describe_dir(dir, &gs) == 1) {
		s->has_git = 1;
		memcpy(s->commit, gs.commit, sizeof(s->commit));
		s->dirty = gs.dirty;
	}
	for (size_t i = 0; i < s->nservices; i++) {
		const struct report *r = &s->services[i].report;

		if (r->engine_client && *r->engine_client) {
			s->engine_client = xstrdup(r->engine_client);
			s->engine_server = xstrdup(r->engine_server);
			s->builder = xstrdup(r->builder);
			s->engine_kind = xstrdup(r->engine_kind ? r->engine_kind : "");
			s->engine_remote = r->engine_remote;
			break;
		}
	}
	if (!s->engine_client) {
		s->engine_client = xstrdup("");
		s->engine_server = xstrdup("");
		s->builder = xstrdup("");
		s->engine_kind = xstrdup("");
	}
}

int verify_suite(const struct phase *ph, const char *dir, const struct suite_opts *o, struct suite *s,
		 struct strbuf *msg)
{
	struct strvec dirs = STRVEC_INIT;
	struct job *jobs = NULL;
	const char *tmpdir = getenv("TMPDIR");
	char *scratch_path = NULL;
	long long t0 = now_ms();
	int n, status = EXIT_PASSED, nrunning = 0, max_jobs, stopping = 0;
	size_t next = 0, njobs = 0;

	memset(s, 0, sizeof(*s));
	n = suite_services(dir, &dirs);
	if (n <= 0) {
		strbuf_addf(msg, "'%s' holds no service folder (services/<name>, or folders with a "
			    "package.json or a requirements.txt)\n", dir);
		strvec_clear(&dirs);
		return EXIT_USAGE;
	}
	s->services = xcalloc((size_t)n, sizeof(*s->services));
	jobs = xcalloc((size_t)n, sizeof(*jobs));
	for (size_t i = 0; i < dirs.nr; i++) {
		const char *name = strrchr(dirs.v[i], '/') + 1;
		const char *lang;

		if (!name_wanted(o->names, name))
			continue;
		lang = service_language(dirs.v[i]);
		s->services[s->nservices].name = xstrdup(name);
		s->services[s->nservices].dir = xstrdup(dirs.v[i]);
		s->services[s->nservices].language = xstrdup(lang ? lang : "unknown");
		jobs[njobs].sv = &s->services[s->nservices];
		s->nservices++;
		njobs++;
	}
	strvec_clear(&dirs);
	if (o->names) {
		for (const char *const *w = o->names; *w; w++) {
			size_t i;

			for (i = 0; i < s->nservices && strcmp(s->services[i].name, *w); i++)
				;
			if (i == s->nservices) {
				strbuf_addf(msg, "no service '%s' in '%s'\n", *w, dir);
				status = EXIT_USAGE;
			}
		}
		if (status == EXIT_USAGE)
			goto fail;
	}

	rfc3339_now(s->started_at, sizeof(s->started_at));
	/* each service's own checklist, decided here so that a broken variant stops everything at once */
	for (size_t i = 0; i < njobs; i++) {
		struct job *j = &jobs[i];
		struct strbuf err = STRBUF_INIT;
		int rc;

		if (!strcmp(j->sv->language, "unknown")) {
			error_report(j->sv, ph, "language", "The service's language is known",
				     "no package.json, requirements.txt, pyproject.toml, setup.py, Pipfile "
				     "or main.py in the folder: its language, and so its checklist, is unknown");
			j->done = 1;
			continue;
		}
		rc = phase_for_language(ph, j->sv->language, &j->phase, &err);
		if (rc < 0) {
			strbuf_addf(msg, "%s\n", err.buf);
			strbuf_release(&err);
			status = EXIT_USAGE;
			goto fail;
		}
		if (rc > 0) {
			error_report(j->sv, ph, "language", "A checklist for the service's language", err.buf);
			j->done = 1;
		} else {
			j->have_phase = 1;
			j->vo.only = o->only;
			if (o->baseline)
				o->baseline(j->sv->name, j->sv->dir, &j->phase, &j->vo, o->baseline_arg);
		}
		strbuf_release(&err);
	}

	if (!tmpdir || !*tmpdir)
		tmpdir = "/tmp";
	scratch_path = xasprintf("%s/phaselab-suite-XXXXXX", tmpdir);
	if (!mkdtemp(scratch_path)) {
		strbuf_addf(msg, "cannot make a scratch folder in %s: %s\n", tmpdir, strerror(errno));
		status = EXIT_ENVIRONMENT;
		goto fail;
	}
	for (size_t i = 0; i < njobs; i++) {
		jobs[i].report_file = xasprintf("%s/%zu.json", scratch_path, i);
		jobs[i].msg_file = xasprintf("%s/%zu.msg", scratch_path, i);
	}

	max_jobs = o->jobs > 0 ? o->jobs : online_cores();
	fflush(NULL); /* nothing buffered is written twice */
	for (;;) {
		int ws;

		if (interrupt_pending() && !stopping) {
			/* a SIGTERM to us alone must reach every child (Ctrl-C reached them already) */
			stopping = 1;
			for (size_t i = 0; i < njobs; i++)
				if (jobs[i].pid > 0)
					kill(jobs[i].pid, SIGTERM);
		}
		while (!stopping && nrunning < max_jobs && next < njobs) {
			struct job *j = &jobs[next++];
			pid_t pid;

			if (j->done)
				continue;
			pid = fork();
			if (pid < 0) {
				error_report(j->sv, ph, "verify", "The service's verification ran",
					     "cannot start a process to verify the service");
				j->done = 1;
				continue;
			}
			if (pid == 0)
				run_child(j);
			j->pid = pid;
			nrunning++;
			if (o->progress) {
				char *line = xasprintf("%s (%s): checking", j->sv->name, j->sv->language);

				o->progress(line, o->progress_arg);
				free(line);
			}
		}
		if (nrunning == 0 && (stopping || next >= njobs))
			break;
		for (size_t i = 0; i < njobs; i++) {
			struct job *j = &jobs[i];
			pid_t w;

			if (j->pid <= 0)
				continue;
			w = waitpid(j->pid, &ws, WNOHANG);
			if (w == j->pid || (w < 0 && errno == ECHILD)) {
				if (w < 0)
					ws = 0x100 * EXIT_ENVIRONMENT;
				nrunning--;
				collect(j, ph, ws, msg);
				if (o->progress) {
					const char *what = j->sv->status == EXIT_PASSED ? "passed"
						: j->sv->status == EXIT_NOT_PASSED ? "not passed"
						: j->sv->status == EXIT_INTERRUPTED ? "interrupted"
						: "could not be checked";
					char *line = xasprintf("%s (%s): %s", j->sv->name, j->sv->language, what);

					o->progress(line, o->progress_arg);
					free(line);
				}
			}
		}
		interrupt_sleep_ms(SUITE_POLL_MS);
	}
	remove_tree(scratch_path);

	if (interrupt_pending()) {
		strbuf_addstr(msg, "interrupted; every service's containers, images and scratch files were removed\n");
		status = EXIT_INTERRUPTED;
		goto fail;
	}
	status = EXIT_PASSED;
	for (size_t i = 0; i < s->nservices; i++) {
		int st = s->services[i].status;

		if (st == EXIT_ENVIRONMENT || st == EXIT_INTERRUPTED || st == EXIT_USAGE)
			status = EXIT_ENVIRONMENT;
		else if (st == EXIT_NOT_PASSED && status == EXIT_PASSED)
			status = EXIT_NOT_PASSED;
	}
	fill_head(s, ph, dir);
	suite_tally(s);
	s->duration_ms = (long)(now_ms() - t0);
	if (status == EXIT_PASSED && !s->passed)
		status = EXIT_NOT_PASSED;
	goto out;
fail:
	if (scratch_path && is_dir(scratch_path))
		remove_tree(scratch_path);
	suite_release(s);
out:
	for (size_t i = 0; i < njobs; i++) {
		if (jobs[i].have_phase)
			phase_release(&jobs[i].phase);
		free(jobs[i].report_file);
		free(jobs[i].msg_file);
	}
	free(jobs);
	free(scratch_path);
	return status;
}
