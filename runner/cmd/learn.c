#include "cmd/learn.h"
#include "cmd/cmd.h"
#include "core/check.h"
#include "lib/fsutil.h"
#include "lib/strvec.h"
#include "lib/timeutil.h"
#include "core/language.h"
#include "core/suite.h"
#include "core/verify.h"
#include "engine/engine.h"
#include "lib/xalloc.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

char *workspace_find(const char *start)
{
	char path[PATH_MAX];
	struct stat sb;

	if (!realpath(start, path))
		return NULL;
	for (;;) {
		char *state = xasprintf("%s/%s", strcmp(path, "/") ? path : "", WORKSPACE_STATE);
		/* a symlink named .phaselab is not ours: never follow it */
		int found = lstat(state, &sb) == 0 && S_ISDIR(sb.st_mode);
		char *slash;

		free(state);
		if (found)
			return xstrdup(path);
		slash = strrchr(path, '/');
		if (!slash || !strcmp(path, "/"))
			return NULL;
		if (slash == path)
			slash[1] = '\0';
		else
			*slash = '\0';
	}
}

int workspace_open(struct workspace *ws)
{
	struct strbuf err = STRBUF_INIT;
	char *root, *file;
	int rc;

	memset(ws, 0, sizeof(*ws));
	ws->root = workspace_find(".");
	if (!ws->root)
		return cmd_fail(EXIT_USAGE, "this folder is not in a phaselab workspace: make one with "
				"`phaselab init DIR`, or check any service folder with "
				"`phaselab check --phase N --dir DIR`");
	root = phases_root();
	rc = phase_set_load(root, &ws->set, &err);
	free(root);
	if (rc < 0) {
		cmd_fail(EXIT_USAGE, "%s", err.buf);
		strbuf_release(&err);
		workspace_close(ws);
		return EXIT_USAGE;
	}
	file = workspace_progress_file(ws->root);
	rc = progress_load(file, &ws->pg, &err);
	if (rc < 0) {
		cmd_fail(EXIT_USAGE, "%s\n  your progress file is damaged or was edited by hand; `phaselab reset` "
			 "starts the phases again (it keeps a copy of the file, and your own files are not touched)",
			 err.buf);
		goto fail;
	}
	/* the commands see the workspace's track only; a workspace older than tracks is the default's */
	if (phase_set_select_track(&ws->set, ws->pg.track ? ws->pg.track : track_default(&ws->set.tracks)->name,
				   &err) < 0) {
		cmd_fail(EXIT_USAGE, "%s: track: %s; the workspace was made for a track this phaselab does not have",
			 file, err.buf);
		goto fail;
	}
	free(file);
	strbuf_release(&err);
	return 0;
fail:
	free(file);
	strbuf_release(&err);
	workspace_close(ws);
	return EXIT_USAGE;
}

char *workspace_guess_track(const char *root)
{
	struct strbuf err = STRBUF_INIT;
	struct track_set ts;
	char *phases = phases_root(), *found = NULL;
	int n = 0;

	if (tracks_load(phases, &ts, &err) == 0) {
		for (size_t i = 0; i < ts.n; i++) {
			char *dir = xasprintf("%s/%s", root, ts.tracks[i].workspace_dir);
			struct stat sb;

			if (lstat(dir, &sb) == 0 && S_ISDIR(sb.st_mode) && n++ == 0)
				found = xstrdup(ts.tracks[i].name);
			free(dir);
		}
	}
	if (n != 1) {
		free(found);
		found = NULL;
	}
	track_set_release(&ts);
	strbuf_release(&err);
	free(phases);
	return found;
}

void workspace_close(struct workspace *ws)
{
	phase_set_release(&ws->set);
	progress_release(&ws->pg);
	free(ws->root);
	memset(ws, 0, sizeof(*ws));
}

char *workspace_progress_file(const char *root)
{
	return xasprintf("%s/%s/progress.json", root, WORKSPACE_STATE);
}

char *workspace_report_file(const struct workspace *ws, const struct phase *ph)
{
	return xasprintf("%s/%s/reports/%s.json", ws->root, WORKSPACE_STATE, ph->id);
}

int workspace_save(struct workspace *ws)
{
	struct strbuf err = STRBUF_INIT;
	int rc = progress_save(&ws->pg, &err);

	if (rc < 0)
		cmd_fail(EXIT_ENVIRONMENT, "%s", err.buf);
	strbuf_release(&err);
	return rc < 0 ? EXIT_ENVIRONMENT : 0;
}

char *labs_root(void)
{
	return install_dir("PHASELAB_LABS", "labs");
}

int learn_color(void)
{
	return isatty(1) && !getenv("NO_COLOR");
}

void learn_phase_name(struct strbuf *sb, const struct phase *ph)
{
	strbuf_addf(sb, "phase %d (%s)", ph->number, ph->title);
}

void learn_say(size_t indent, const char *fmt, ...)
{
	struct strbuf text = STRBUF_INIT, out = STRBUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(&text, fmt, ap);
	va_end(ap);
	/* the lines of the text report are wrapped so: the same width, the same rule */
	report_text_wrap(&out, text.buf, 0, indent);
	strbuf_addch(&out, '\n');
	fwrite(out.buf, 1, out.len, stdout);
	strbuf_release(&text);
	strbuf_release(&out);
}

const struct phase *learn_phase(struct workspace *ws, const char *which, int *status)
{
	struct strbuf err = STRBUF_INIT;
	const struct phase *ph;

	*status = 0;
	if (which) {
		ph = phase_set_find(&ws->set, which, &err);
		if (!ph)
			*status = cmd_fail(EXIT_USAGE, "%s", err.buf);
		strbuf_release(&err);
		return ph;
	}
	ph = progress_current(&ws->pg, &ws->set);
	if (!ph)
		printf("Every phase has passed: well done.  `phaselab list` shows your scores.\n");
	return ph;
}

/* The step the learner is on; a step the phase no longer has starts the phase's steps again. */
static int current_step(struct workspace *ws, const struct phase *ph)
{
	int k = progress_step(&ws->pg, ph);

	if (k < 0) {
		struct phase_progress *pp = progress_phase(&ws->pg, ph->id, 1);
		cmd_fail(0, "your progress names step '%s', which phase %d (%s) no longer has: back to its first step",
			 pp->step, ph->number, ph->title);
		free(pp->step);
		pp->step = NULL;
		k = 0;
	}
	return k;
}

/*
 * The recorded size of service's development image (service: its folder
 * relative to the workspace) that ph measures itself against.  The words
 * name the service when it is not the phase's own one.
 */
static void baseline_of(struct progress *pg, struct phase_set *set, const struct phase *ph, const char *service,
			struct verify_opts *vo, char **what)
{
	for (size_t i = 0; i < ph->nchecks; i++) {
		const struct check_def *def = &ph->checks[i];
		const char *from = def->kind->baseline_from ? def->kind->baseline_from(def) : NULL;
		const struct phase_progress *pp;
		struct strbuf err = STRBUF_INIT, words = STRBUF_INIT;
		const struct phase *src;
		long long bytes;

		if (!from)
			continue;
		pp = progress_phase(pg, from, 0);
		src = phase_set_find(set, from, &err);
		strbuf_release(&err);
		bytes = progress_image_bytes(pp, service, src ? src->service_dir : ph->service_dir);
		if (bytes > 0) {
			vo->baseline_bytes = bytes;
			if (src)
				strbuf_addf(&words, "your phase-%d image", src->number);
			else
				strbuf_addf(&words, "your %s image", from);
			if (service && strcmp(service, ph->service_dir)) {
				const char *base = strrchr(service, '/');
				strbuf_addf(&words, " of %s", base ? base + 1 : service);
			}
			*what = strbuf_detach(&words, NULL);
			vo->baseline_what = *what;
		}
		strbuf_release(&words);
		return;
	}
}

static void baseline(struct workspace *ws, const struct phase *ph, const char *service, struct verify_opts *vo,
		     char **what)
{
	baseline_of(&ws->pg, &ws->set, ph, service, vo, what);
}

/* dir relative to root (both real paths), or NULL when it is not inside it; a new string. */
static char *relative_to(const char *root, const char *dir)
{
	char real[PATH_MAX];
	size_t n = strlen(root);

	if (!realpath(dir, real))
		return NULL;
	if (strncmp(real, root, n) || (real[n] != '/' && !(n == 1 && root[0] == '/')) || !real[n + (n > 1)])
		return NULL;
	return xstrdup(real + n + (n > 1));
}

int learn_workspace_baseline(const char *dir, const struct phase *ph, struct verify_opts *vo, char **what)
{
	struct strbuf err = STRBUF_INIT;
	struct phase_set set = { 0 };
	struct progress pg = { 0 };
	char *root = workspace_find(dir), *file, *phases, *service;
	int found = 0;

	*what = NULL;
	if (!root)
		return 0;
	file = workspace_progress_file(root);
	phases = phases_root();
	/* the service is known by its folder in the workspace; a folder outside it is the phase's own */
	service = relative_to(root, dir);
	/* a workspace that cannot be read only means no baseline: `check` is not about progress */
	if (progress_load(file, &pg, &err) == 0 && phase_set_load(phases, &set, &err) == 0) {
		baseline_of(&pg, &set, ph, service ? service : ph->service_dir, vo, what);
		found = *what != NULL;
	}
	phase_set_release(&set);
	progress_release(&pg);
	strbuf_release(&err);
	free(service);
	free(phases);
	free(file);
	free(root);
	return found;
}

void learn_suite_baseline(const char *name, const char *service_dir, const struct phase *ph,
			  struct verify_opts *vo, void *arg)
{
	struct strvec *keep = arg;
	char *what = NULL;

	(void)name;
	if (learn_workspace_baseline(service_dir, ph, vo, &what))
		vo->baseline_what = strvec_push(keep, what);
	free(what);
}

/*
 * The containers ph's lessons have the learner start by name (`docker run
 * ... --name user-service ...`), appended to names; the lesson text is the
 * one source, so a new lesson's container is found without a list here.
 */
static void lesson_containers(const struct phase *ph, struct strvec *names)
{
	for (size_t k = 0; k < ph->nsteps; k++) {
		struct strbuf md = STRBUF_INIT;
		char *path;
		const char *p;

		if (!ph->steps[k].lesson)
			continue;
		path = xasprintf("%s/%s", ph->dir, ph->steps[k].lesson);
		if (read_file_nofollow(path, 1 << 20, &md) == 0) {
			for (p = md.buf; (p = strstr(p, "--name ")); ) {
				const char *b = p + 7, *e = b;
				char *name;
				int seen = 0;

				while (*e && (isalnum((unsigned char)*e) || strchr("_.-", *e)))
					e++;
				p = e;
				if (e == b || !isalnum((unsigned char)*b))
					continue;
				name = xstrndup(b, (size_t)(e - b));
				for (size_t i = 0; i < names->nr; i++)
					seen |= !strcmp(names->v[i], name);
				if (!seen)
					strvec_push(names, name);
				free(name);
			}
		}
		strbuf_release(&md);
		free(path);
	}
}

/* At the end of a phase: the containers its lessons started that are still there, with the command to remove each. */
static void note_lesson_containers(const struct phase *ph)
{
	struct strvec names = STRVEC_INIT;
	struct engine e;

	lesson_containers(ph, &names);
	if (names.nr && engine_open(&e, "") == 0) {
		for (size_t i = 0; i < names.nr; i++) {
			int running;

			if (engine_container_by_name(&e, names.v[i], &running) == 1)
				learn_say(0, "The container %s that the lesson had you start is still %s; you no longer "
					  "need it: `docker rm -f %s` removes it.", names.v[i],
					  running ? "running" : "there (stopped)", names.v[i]);
		}
		engine_close(&e);
	} else if (names.nr) {
		engine_close(&e);
	}
	strvec_clear(&names);
}

/* After ph's pass line: the lesson's containers left over, then the phase now open, if any. */
static void say_next_phase(const struct workspace *ws, const struct phase *ph)
{
	const struct phase *next = progress_current(&ws->pg, &ws->set);

	fflush(stdout);
	note_lesson_containers(ph);
	if (next)
		learn_say(0, "Phase %d, %s, is open: read its first step with `phaselab show`.", next->number,
			  next->title);
	else
		learn_say(0, "That was the last phase: every phase has passed.");
}

/* Keep j (a report's or a suite's JSON; NULL: out of memory) as ph's report in the workspace. */
static void save_json(struct workspace *ws, const struct phase *ph, json_t *j)
{
	char *file = workspace_report_file(ws, ph);
	char *dir = xasprintf("%s/%s/reports", ws->root, WORKSPACE_STATE);
	char *text = j ? json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;

	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		cmd_fail(0, "cannot make '%s': %s (the report is not kept)", dir, strerror(errno));
	else if (!text || write_file_atomic(file, text, strlen(text)) < 0)
		cmd_fail(0, "cannot write '%s': %s (the report is not kept)", file, strerror(errno));
	free(text);
	json_decref(j);
	free(dir);
	free(file);
}

static void save_report(struct workspace *ws, const struct phase *ph, const struct report *r)
{
	save_json(ws, ph, report_to_json(r));
}

int learn_step_services(const struct phase *ph, int k, struct strvec *names)
{
	const struct phase_step *st = &ph->steps[k];

	for (size_t i = 0; i < st->nservices; i++)
		strvec_push(names, st->services[i]);
	return (int)st->nservices;
}

char *learn_services_dir(const struct workspace *ws, const struct phase *ph)
{
	const char *slash = strrchr(ph->service_dir, '/');

	if (!slash)
		return xstrdup(ws->root);
	return xasprintf("%s/%.*s", ws->root, (int)(slash - ph->service_dir), ph->service_dir);
}

char *learn_service_key(const struct phase *ph, const char *name)
{
	const char *slash = strrchr(ph->service_dir, '/');

	if (!slash)
		return xstrdup(name);
	return xasprintf("%.*s/%s", (int)(slash - ph->service_dir), ph->service_dir, name);
}

static void save_suite(struct workspace *ws, const struct phase *ph, const struct suite *s)
{
	save_json(ws, ph, suite_to_json(s));
}

/* A line that says what a service's verification is at, as it happens. */
static void suite_line(const char *line, void *arg)
{
	(void)arg;
	learn_say(4, "  %s", line);
	fflush(stdout);
}

/*
 * A step about several services (its "services"): each is verified with its
 * language's phase, through verify_suite, and the step is done when every
 * one passes.  The suite is kept as the phase's last report, for hint.
 */
static int verify_services(struct workspace *ws, const struct phase *ph, int k, const char *phase_name)
{
	struct suite_opts so = { 0 };
	struct strvec names = STRVEC_INIT, keep = STRVEC_INIT;
	struct strbuf line = STRBUF_INIT, msg = STRBUF_INIT;
	unsigned char *only = xcalloc(ph->nchecks + 1, 1);
	char *dir = learn_services_dir(ws, ph), now[40];
	struct suite s = { 0 };
	enum step_outcome out;
	int status, failing = 0;

	learn_step_services(ph, k, &names);
	progress_step_checks(ph, k, only);
	for (size_t i = 0; i < ph->nchecks; i++)
		if (only[i])
			strbuf_addf(&line, "%s%s", line.len ? ", " : "", ph->checks[i].id);
	learn_say(2, "Verifying %s, step %d of %zu: %s", phase_name, k + 1, ph->nsteps, ph->steps[k].title);
	strbuf_reset(&msg);
	for (size_t i = 0; i < names.nr; i++)
		strbuf_addf(&msg, "%s%s", i ? ", " : "", names.v[i]);
	learn_say(4, "  services: %s", msg.buf);
	learn_say(4, "  checks: %s", line.buf);
	putchar('\n');
	fflush(stdout);
	strbuf_reset(&msg);

	so.only = only;
	so.names = names.v;
	so.baseline = learn_suite_baseline;
	so.baseline_arg = &keep;
	so.progress = suite_line;
	status = verify_suite(ph, dir, &so, &s, &msg);
	cmd_fail_lines(msg.buf);
	if (status == EXIT_USAGE || status == EXIT_INTERRUPTED || !s.nservices)
		goto out;
	save_suite(ws, ph, &s);
	for (size_t i = 0; i < s.nservices; i++) {
		const struct suite_service *sv = &s.services[i];
		char *key = learn_service_key(ph, sv->name);

		putchar('\n');
		learn_say(2, "%s (%s)", sv->name, sv->language ? sv->language : "unknown language");
		if (sv->report.phase_id) {
			report_write_text_checks(&sv->report, stdout, learn_color());
			if (!progress_record_service(&ws->pg, ph, key, &sv->report))
				failing++;
		} else {
			learn_say(4, "  could not be verified (see above)");
			failing++;
		}
		free(key);
	}
	rfc3339_now(now, sizeof(now));
	out = progress_advance(&ws->pg, ph, k, s.passed && !failing, s.score, s.max_score, now);
	if (workspace_save(ws))
		status = EXIT_ENVIRONMENT;
	putchar('\n');
	if (out == PHASE_DONE) {
		/* the score is this step's services'; the steps before it passed on their own */
		learn_say(0, "Phase %d passed: %d/%d points over this step's %zu services, and every step before it "
			  "passed.", ph->number, s.score, s.max_score, s.nservices);
		say_next_phase(ws, ph);
	} else if (out == STEP_DONE) {
		learn_say(0, "Step %d done: %zu services pass.  Next: step %d of %zu, %s: read it with `phaselab show`.",
			  k + 1, s.nservices, k + 2, ph->nsteps, ph->steps[k + 1].title);
	} else if (status != EXIT_ENVIRONMENT) {
		strbuf_reset(&line);
		for (size_t i = 0; i < s.nservices; i++)
			if (s.services[i].status != EXIT_PASSED)
				strbuf_addf(&line, "%s%s", line.len ? ", " : "", s.services[i].name);
		learn_say(0, "Step %d is not done: %s %s not pass.  Fix %s and run `phaselab next` again; "
			  "`phaselab hint` gives a hint about the first one, more explicit each time you ask.", k + 1,
			  line.buf, strchr(line.buf, ',') ? "do" : "does", strchr(line.buf, ',') ? "them" : "it");
	}
	if (status == EXIT_PASSED || status == EXIT_NOT_PASSED)
		status = out == STEP_NOT_DONE ? EXIT_NOT_PASSED : EXIT_PASSED;
out:
	suite_release(&s);
	strvec_clear(&names);
	strvec_clear(&keep);
	strbuf_release(&line);
	strbuf_release(&msg);
	free(only);
	free(dir);
	return status;
}

int learn_verify_step(struct workspace *ws, const struct phase *ph)
{
	struct verify_opts vo = { 0 };
	struct phase variant;
	const struct phase *use = ph;
	struct strbuf name = STRBUF_INIT, line = STRBUF_INIT;
	unsigned char *only = xcalloc(ph->nchecks + 1, 1);
	char *dir = xasprintf("%s/%s", ws->root, ph->service_dir);
	char *what = NULL, now[40];
	struct report r;
	struct stat sb;
	int k = current_step(ws, ph), status, failing = 0;
	enum step_outcome out;

	learn_phase_name(&name, ph);
	if (ph->steps[k].nservices) {
		status = verify_services(ws, ph, k, name.buf);
		goto out;
	}
	if (stat(dir, &sb) < 0 || !S_ISDIR(sb.st_mode)) {
		status = cmd_fail(EXIT_USAGE, "%s: the service folder '%s' is missing from the workspace %s",
				  name.buf, ph->service_dir, ws->root);
		goto out;
	}
	/* the folder's checklist: its language's, when that is not the phase's own */
	{
		struct strbuf err = STRBUF_INIT;

		if (phase_for_dir(ph, dir, &variant, &use, &err) != 0) {
			status = cmd_fail(EXIT_USAGE, "%s", err.buf);
			strbuf_release(&err);
			goto out;
		}
		strbuf_release(&err);
	}
	progress_step_checks(ph, k, only);
	baseline(ws, use, ph->service_dir, &vo, &what);
	for (size_t i = 0; i < ph->nchecks; i++)
		if (only[i])
			strbuf_addf(&line, "%s%s", line.len ? ", " : "", ph->checks[i].id);
	learn_say(2, "Verifying %s, step %d of %zu: %s", name.buf, k + 1, ph->nsteps, ph->steps[k].title);
	learn_say(4, "  checks: %s", line.buf);
	putchar('\n');
	fflush(stdout);

	vo.only = only;
	status = cmd_verify(use, dir, &vo, &r);
	if (!r.phase_id)
		goto out;
	save_report(ws, ph, &r);
	report_write_text_checks(&r, stdout, learn_color());
	rfc3339_now(now, sizeof(now));
	out = progress_record(&ws->pg, ph, k, &r, now);
	if (workspace_save(ws))
		status = EXIT_ENVIRONMENT;
	for (size_t i = 0; i < r.nchecks; i++)
		failing += r.checks[i].status != CHECK_PASS;
	putchar('\n');
	if (out == PHASE_DONE) {
		learn_say(0, "Phase %d passed: %d/%d points (pass mark %d).", ph->number, r.score, r.max_score,
			  ph->pass_mark);
		say_next_phase(ws, ph);
	} else if (out == STEP_DONE) {
		learn_say(0, "Step %d done.  Next: step %d of %zu, %s: read it with `phaselab show`.", k + 1, k + 2,
			  ph->nsteps, ph->steps[k + 1].title);
	} else if (status != EXIT_ENVIRONMENT && failing) {
		struct strbuf counts = STRBUF_INIT;
		size_t n[4];

		report_count_status(&r, n);
		report_text_counts(&counts, &r);
		learn_say(0, "Step %d is not done: %s.  Fix %s and run `phaselab next` again; `phaselab hint` gives a "
			  "hint, more explicit each time you ask.", k + 1, counts.buf,
			  n[CHECK_FAIL] + n[CHECK_ERROR] == 1 ? "it" : "them");
		strbuf_release(&counts);
	}
	if (status == EXIT_PASSED || status == EXIT_NOT_PASSED)
		status = out == STEP_NOT_DONE ? EXIT_NOT_PASSED : EXIT_PASSED;
	report_release(&r);
out:
	if (use == &variant)
		phase_release(&variant);
	free(what);
	free(only);
	free(dir);
	strbuf_release(&name);
	strbuf_release(&line);
	return status;
}
