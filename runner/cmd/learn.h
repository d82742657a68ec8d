/*
 * learn: what the learner commands (init, list, show, next, hint, watch,
 * reset, and `phaselab` alone) share: the workspace, its progress, the
 * curriculum, and one step's verification.
 *
 * A workspace is a folder holding .phaselab/ (progress.json, and the last
 * report of each phase in reports/), found from the current folder upwards
 * as git finds .git.
 */
#ifndef PHASELAB_LEARN_H
#define PHASELAB_LEARN_H

#include "core/phase.h"
#include "learn/progress.h"
#include "report/report.h"

#define WORKSPACE_STATE ".phaselab"

struct workspace {
	char *root;            /* absolute */
	struct phase_set set;
	struct progress pg;
};

/*
 * Open the workspace around the current folder, with the curriculum and
 * the progress.  The set's view is the workspace's track (recorded in the
 * progress; none recorded: the default track, the workshop), so the
 * commands see its phases only.  0; otherwise the message is printed and
 * the result is the exit status: 2 outside a workspace, a broken phase or
 * progress file, a track this phaselab does not have.
 */
int workspace_open(struct workspace *ws);
void workspace_close(struct workspace *ws);
/*
 * The track whose service folder the workspace at root holds, when exactly
 * one does (new string), else NULL: for a progress file that lost its record.
 */
char *workspace_guess_track(const char *root);
/* The folder of the workspace around start (new string), or NULL. */
char *workspace_find(const char *start);
/* The progress file of the workspace at root (new string). */
char *workspace_progress_file(const char *root);
/* The file of ph's last report in the workspace (new string). */
char *workspace_report_file(const struct workspace *ws, const struct phase *ph);
/* Save the progress, printing why on failure (exit status 3 then, else 0). */
int workspace_save(struct workspace *ws);

/* The labs folder: $PHASELAB_LABS, else labs/ beside the program's bin/, else /usr/share/phaselab/labs. */
char *labs_root(void);

/* Colour on standard output: a terminal and no NO_COLOR. */
int learn_color(void);

/*
 * The phase a command is about: which (an id, a number, a prefix) or, when
 * NULL, the learner's current one.  NULL with the message printed when
 * there is no such phase or every phase passed (*status says the exit).
 */
const struct phase *learn_phase(struct workspace *ws, const char *which, int *status);
/* "phase 3 (Containerization: a production image)" into sb. */
void learn_phase_name(struct strbuf *sb, const struct phase *ph);
/*
 * Print a learner-facing line (printf's fmt), wrapped as the text report's
 * lines are; continuation lines start at column indent.  A newline follows.
 */
void learn_say(size_t indent, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

struct verify_opts;
/*
 * When dir is in a workspace whose progress recorded the development
 * image's size, set ph's baseline in vo from it, as `phaselab next` does
 * (*what: the words for it, a new string the caller frees after the run).
 * 1 set, 0 not (no workspace, nothing recorded, an unreadable file: quietly).
 */
int learn_workspace_baseline(const char *dir, const struct phase *ph, struct verify_opts *vo, char **what);

/*
 * suite_opts' baseline callback (core/suite.h) for `check` on a system:
 * each service is compared with its own recorded development image, as
 * learn_workspace_baseline finds it from service_dir.  arg: a struct strvec
 * that keeps the words (vo->baseline_what) until the caller clears it after
 * the suite.
 */
void learn_suite_baseline(const char *name, const char *service_dir, const struct phase *ph,
			  struct verify_opts *vo, void *arg);

struct strvec;
/*
 * The services step k of ph is about (its "services"), appended to names;
 * how many (0: the step is about the phase's own service).
 */
int learn_step_services(const struct phase *ph, int k, struct strvec *names);
/* The folder that holds ph's service folder in ws (the workspace's services/), a new string. */
char *learn_services_dir(const struct workspace *ws, const struct phase *ph);
/* The folder of service name beside ph's own, relative to the workspace ("services/name"), a new string. */
char *learn_service_key(const struct phase *ph, const char *name);

/*
 * Verify the learner's current step of ph (the checks of the steps so far;
 * the whole checklist on the last step), print the result, record it in the
 * progress and keep the report.  A step about several services ("services")
 * verifies each of them with its language's checklist (verify_suite), keeps
 * the suite as the report, and is done when every one of them passes.  Returns the exit status: 0 the step (or
 * the phase) is done, 1 it is not, 3 the engine is unusable, 130
 * interrupted.
 */
int learn_verify_step(struct workspace *ws, const struct phase *ph);

#endif
