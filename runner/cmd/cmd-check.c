/*
 * phaselab check: build the image from a service folder, run the phase's
 * checks on it, print the graded report.  A folder holding services/ (or a
 * folder of service folders) is a system: every service is checked, each
 * with its language's checklist, into one suite report.
 */
#include "cmd/cmd.h"
#include "lib/fsutil.h"
#include "lib/http.h"
#include "lib/interrupt.h"
#include "cmd/learn.h"
#include "report/report.h"
#include "core/language.h"
#include "core/suite.h"
#include "core/verify.h"
#include "lib/strvec.h"
#include "lib/xalloc.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The suite's progress: a line per service started and finished, when standard error is a terminal. */
static void suite_progress(const char *line, void *arg)
{
	(void)arg;
	if (isatty(2))
		cmd_fail(0, "%s", line);
}

/* "a,b" into a NULL-terminated list in names (the strings owned by it). */
static void split_names(const char *list, struct strvec *names)
{
	const char *p = list;

	while (p && *p) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);

		if (n)
			strvec_pushf(names, "%.*s", (int)n, p);
		p = comma ? comma + 1 : NULL;
	}
}

static int check_suite(const struct phase *ph, const char *dir, const char *format, const char *output,
		       const char *jobs, const char *service)
{
	struct strvec whats = STRVEC_INIT, names = STRVEC_INIT;
	struct suite_opts so = { 0 };
	struct strbuf msg = STRBUF_INIT;
	struct suite s;
	int status;

	if (jobs) {
		char *end;
		long n = strtol(jobs, &end, 10);

		if (*end || end == jobs || n < 1 || n > 64)
			return cmd_fail(EXIT_USAGE, "check: --jobs takes a number from 1 to 64, not '%s'", jobs);
		so.jobs = (int)n;
	}
	if (service) {
		split_names(service, &names);
		so.names = names.v;
	}
	/* each service against its own development image, as phase 2 recorded it */
	so.baseline = learn_suite_baseline;
	so.baseline_arg = &whats;
	so.progress = suite_progress;
	status = verify_suite(ph, dir, &so, &s, &msg);
	cmd_fail_lines(msg.buf);
	if (s.phase_id && suite_write_to(&s, format, output) < 0) {
		cmd_fail(EXIT_USAGE, "cannot write the report to '%s': %s", output ? output : "standard output",
			 strerror(errno));
		status = EXIT_USAGE;
	}
	suite_release(&s);
	strbuf_release(&msg);
	strvec_clear(&names);
	strvec_clear(&whats);
	return status;
}

static int cmd_check(const struct cmd_args *args)
{
	struct {
		const char *phase, *dir, *format, *output, *jobs, *service;
	} o = { cmd_value(args, "phase"), cmd_value(args, "dir"), cmd_value(args, "format"), cmd_value(args, "output"),
		cmd_value(args, "jobs"), cmd_value(args, "service") };
	struct verify_opts vo = { 0 };
	struct phase ph, variant;
	const struct phase *use = &ph;
	struct report r;
	char dir[PATH_MAX];
	char *default_dir = NULL, *baseline_what = NULL;
	struct strvec services = STRVEC_INIT;
	struct stat sb;
	int status, is_suite = 0;

	if (phase_load_for_command(o.phase, &ph))
		return EXIT_USAGE;
	if (!o.dir) {
		/* the workspace's system, else the phase's service folder: in the workspace around us, else here */
		char *ws = workspace_find(".");
		char *ws_services = ws ? xasprintf("%s/services", ws) : NULL;

		/* only a workspace with services/ is a system: another track's keeps its one service */
		if (ws && stat(ws_services, &sb) == 0 && S_ISDIR(sb.st_mode) && suite_services(ws, &services) > 0)
			o.dir = default_dir = xstrdup(ws);
		else
			o.dir = default_dir = ws ? xasprintf("%s/%s", ws, ph.service_dir) : xstrdup(ph.service_dir);
		free(ws);
		free(ws_services);
		strvec_clear(&services);
	}
	if (stat(o.dir, &sb) < 0 || !S_ISDIR(sb.st_mode) || !realpath(o.dir, dir)) {
		cmd_fail(EXIT_USAGE, "check: '%s' is not a folder%s", o.dir,
			 default_dir ? " (give the service folder with --dir)" : "");
		free(default_dir);
		phase_release(&ph);
		return EXIT_USAGE;
	}
	free(default_dir);
	is_suite = suite_services(dir, &services) > 0;
	strvec_clear(&services);
	if (!is_suite && (o.jobs || o.service)) {
		phase_release(&ph);
		return cmd_fail(EXIT_USAGE, "check: --%s is for a system (a folder holding services/), and '%s' "
				"is a single service folder", o.jobs ? "jobs" : "service", dir);
	}

	if (interrupt_install() < 0 || http_global_init() < 0) {
		phase_release(&ph);
		return cmd_fail(EXIT_ENVIRONMENT, "cannot set up signal handling or libcurl");
	}
	if (is_suite) {
		status = check_suite(&ph, dir, o.format, o.output, o.jobs, o.service);
		phase_release(&ph);
		http_global_cleanup();
		return status;
	}

	/* a folder in another language than the phase's own: that language's checklist */
	{
		struct strbuf err = STRBUF_INIT;

		if (phase_for_dir(&ph, dir, &variant, &use, &err) != 0) {
			cmd_fail(EXIT_USAGE, "check: %s", err.buf);
			strbuf_release(&err);
			phase_release(&ph);
			http_global_cleanup();
			return EXIT_USAGE;
		}
		strbuf_release(&err);
	}
	/* inside a workspace, measure against the size phase 2 recorded, as `phaselab next` does */
	learn_workspace_baseline(dir, use, &vo, &baseline_what);
	status = cmd_verify(use, dir, &vo, &r);
	if (r.phase_id && report_write_to(&r, o.format, o.output) < 0) {
		cmd_fail(EXIT_USAGE, "cannot write the report to '%s': %s", o.output ? o.output : "standard output",
			 strerror(errno));
		status = EXIT_USAGE;
	}
	report_release(&r);
	free(baseline_what);
	if (use == &variant)
		phase_release(&variant);
	phase_release(&ph);
	http_global_cleanup();
	return status;
}

static const struct cmd_option options[] = {
	{ .name = "phase", .short_name = 'p', .arg = "ID", .required = 1,
	  .doc = "the phase: its id (03-containerization), its number (3), or TRACK/PHASE (backend/10)" },
	{ .name = "dir", .short_name = 'd', .arg = "DIR",
	  .doc = "the service folder to build (default: the phase's service folder in the workspace "
		 "around the current folder, or here)" },
	{ .name = "format", .short_name = 'f', .arg = "FORMAT", .fallback = "text",
	  .doc = "the report's format", .choice = cmd_report_format_choice },
	{ .name = "output", .short_name = 'o', .arg = "FILE",
	  .doc = "write the report to FILE instead of standard output" },
	{ .name = "jobs", .short_name = 'j', .arg = "N",
	  .doc = "a system: check up to N services at once (default: the number of online cores)" },
	{ .name = "service", .short_name = 's', .arg = "NAMES",
	  .doc = "a system: check only these services (names separated by commas)" },
	{ 0 },
};

const struct cmd_entry cmd_check_entry = {
	.name = "check",
	.summary = "build a service folder and grade it against a phase's checklist",
	.about = "Build the image from the service folder, run the phase's checks on it and print "
		 "the graded report.  The folder is never written to.  In a workspace whose phase 2 "
		 "recorded the development image's size, the size is measured against it, as "
		 "`phaselab next` does.  A folder holding services/, or a folder of service folders, "
		 "is a system: every service is checked with its language's checklist (Node or "
		 "Python), several at once, into one report (JSON schema phaselab.suite/v1).",
	.options = options,
	.exit_status = "0 passed, 1 not passed, 2 bad usage or phase file, 3 environment not usable, "
		       "130 interrupted",
	.exec = cmd_check,
};
