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
	"  -d, --dir DIR      the service folder to build (default: the phase's service\n"
	"                     folder in the workspace around the current folder, or here)\n"
	"  -f, --format FMT   text (default), json (schema phaselab.report/v1), junit,\n"
	"                     markdown, gradescope (results.json) or html\n"
	"  -o, --output FILE  write the report to FILE instead of standard output\n"
	"\n"
	"exit status: 0 passed, 1 not passed, 2 bad usage or phase file,\n"
	"             3 environment not usable, 130 interrupted\n";

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
	struct verify_opts vo = { 0 };
	struct phase ph;
	struct report r;
	char dir[PATH_MAX];
	char *default_dir = NULL;
	struct stat sb;
	int status, rc;

	rc = parse_options(argc, argv, &o);
	if (rc == -2)
		return EXIT_PASSED;
	if (rc)
		return rc;

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
	status = cmd_verify(&ph, dir, &vo, &r);
	if (r.phase_id && report_write_to(&r, o.format, o.output) < 0) {
		cmd_fail(EXIT_USAGE, "cannot write the report to '%s': %s", o.output ? o.output : "standard output",
			 strerror(errno));
		status = EXIT_USAGE;
	}
	report_release(&r);
	phase_release(&ph);
	http_global_cleanup();
	return status;
}

const struct cmd_entry cmd_check_entry = {
	.name = "check",
	.usage = "--phase ID [--dir DIR] [--format FORMAT] [--output FILE]",
	.summary = "build a service folder and grade it against a phase's checklist",
	.exec = cmd_check,
};
