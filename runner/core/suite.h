/*
 * suite: the check of a whole system.  A folder holding services/ (or a
 * folder of service folders) is verified service by service, each against
 * its language's variant of the phase (phase_for_language), several at once
 * in child processes, into one struct suite (report/report.h).
 */
#ifndef PHASELAB_SUITE_H
#define PHASELAB_SUITE_H

#include "core/phase.h"
#include "core/verify.h"
#include "report/report.h"
#include "lib/strbuf.h"
#include "lib/strvec.h"

/*
 * The service folders of dir, as absolute paths sorted by name, appended to
 * dirs: dir/services/<each>, or, without services/, dir's own subfolders that
 * are services (core/language.h, service_language).  Returns how many; 0 when
 * dir is a single service folder (or holds no service).
 */
int suite_services(const char *dir, struct strvec *dirs);

struct suite_opts {
	int jobs;                   /* services verified at once; <= 0: the online cores */
	const unsigned char *only;  /* per check of the base phase, 1: run it; NULL: every check */
	const char *const *names;   /* NULL-terminated service names to verify; NULL: every one */
	/*
	 * Called in the parent before each service is verified, to set that
	 * service's baseline in vo (phase 3 compares each service with its own
	 * development image): vo->baseline_bytes and vo->baseline_what, a string
	 * the callback owns until the suite returns.  NULL: no baseline.
	 */
	void (*baseline)(const char *name, const char *service_dir, const struct phase *ph,
			 struct verify_opts *vo, void *arg);
	void *baseline_arg;
	/* called with a line saying what started or finished ("order-service: passed"); may be NULL */
	void (*progress)(const char *line, void *arg);
	void *progress_arg;
};

/*
 * Verify every service of dir (an absolute path) against ph.  s gets the
 * services in name order, tallied.  Returns EXIT_PASSED (every service
 * passed), EXIT_NOT_PASSED, EXIT_ENVIRONMENT (a service's verification
 * could not run, or a service has no checklist for its language: an error
 * item names it), EXIT_INTERRUPTED (every child stopped, nothing left
 * behind, s empty), or EXIT_USAGE (dir holds no service, or an invalid
 * language variant; msg says why).  msg gets lines for the user, each ending
 * in '\n', without the "phaselab: " prefix.
 */
int verify_suite(const struct phase *ph, const char *dir, const struct suite_opts *o, struct suite *s,
		 struct strbuf *msg);

#endif
