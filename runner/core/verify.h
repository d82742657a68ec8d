/*
 * verify: one verification of a service folder against a phase: build,
 * run the checks that were asked for, clean up, and fill in the report.
 * `phaselab check` runs every check; the learner commands run a step's.
 */
#ifndef PHASELAB_VERIFY_H
#define PHASELAB_VERIFY_H

#include "core/phase.h"
#include "report/report.h"
#include "lib/strbuf.h"

struct verify_opts {
	const unsigned char *only;  /* per check of the phase, 1: run it; NULL: every check */
	long long baseline_bytes;   /* the development image's recorded size (0: none) */
	const char *baseline_what;  /* what that image was, for people */
	/* called with each check's title as it starts, and with NULL once all have run; may be NULL */
	void (*progress)(const char *title, void *arg);
	/*
	 * called while a check waits, with one line saying what it awaits and
	 * for how long (no newline; learner-controlled text may be in it: make
	 * it inert before drawing); as often as a wait loop turns; may be NULL
	 */
	void (*detail)(const char *detail, void *arg);
	void *progress_arg;
};

/*
 * Verify dir (an absolute path) against ph.  The report holds the checks
 * that ran, in the phase's order, tallied against the phase's pass mark.
 * Returns EXIT_PASSED or EXIT_NOT_PASSED with r filled in; EXIT_ENVIRONMENT
 * with a message in msg, and r filled in when the checks ran (a base image
 * is missing, the engine stopped answering) or left empty (no engine);
 * EXIT_INTERRUPTED, r empty, everything the run made removed.  msg gets
 * what the command should tell its user (lines ending in '\n', without the
 * "phaselab: " prefix); the run itself prints nothing.
 */
int verify_phase(const struct phase *ph, const char *dir, const struct verify_opts *o, struct report *r,
		 struct strbuf *msg);

#endif
