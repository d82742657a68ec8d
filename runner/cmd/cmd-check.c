/*
 * phaselab check: build the image from a service folder, run the phase's
 * checks on it, print the graded report.
 */
#include "cmd/cmd.h"
#include "lib/fsutil.h"
#include "lib/http.h"
#include "lib/interrupt.h"
#include "cmd/learn.h"
#include "report/report.h"
#include "core/verify.h"
#include "lib/xalloc.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int cmd_check(const struct cmd_args *args)
{
	struct {
		const char *phase, *dir, *format, *output;
	} o = { cmd_value(args, "phase"), cmd_value(args, "dir"), cmd_value(args, "format"), cmd_value(args, "output") };
	struct verify_opts vo = { 0 };
	struct phase ph;
	struct report r;
	char dir[PATH_MAX];
	char *default_dir = NULL, *baseline_what = NULL;
	struct stat sb;
	int status;

	if (phase_load_for_command(o.phase, &ph))
		return EXIT_USAGE;
	if (!o.dir) {
		/* the phase's service folder: in the workspace around us, else here */
		char *ws = workspace_find(".");
		o.dir = default_dir = ws ? xasprintf("%s/%s", ws, ph.service_dir) : xstrdup(ph.service_dir);
		free(ws);
	}
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
	/* inside a workspace, measure against the size phase 2 recorded, as `phaselab next` does */
	learn_workspace_baseline(dir, &ph, &vo, &baseline_what);
	status = cmd_verify(&ph, dir, &vo, &r);
	if (r.phase_id && report_write_to(&r, o.format, o.output) < 0) {
		cmd_fail(EXIT_USAGE, "cannot write the report to '%s': %s", o.output ? o.output : "standard output",
			 strerror(errno));
		status = EXIT_USAGE;
	}
	report_release(&r);
	free(baseline_what);
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
	{ 0 },
};

const struct cmd_entry cmd_check_entry = {
	.name = "check",
	.summary = "build a service folder and grade it against a phase's checklist",
	.about = "Build the image from the service folder, run the phase's checks on it and print "
		 "the graded report.  The folder is never written to.  In a workspace whose phase 2 "
		 "recorded the development image's size, the size is measured against it, as "
		 "`phaselab next` does.",
	.options = options,
	.exit_status = "0 passed, 1 not passed, 2 bad usage or phase file, 3 environment not usable, "
		       "130 interrupted",
	.exec = cmd_check,
};
