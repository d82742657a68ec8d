/*
 * phaselab report: render a JSON report (what `check --format json` wrote)
 * in another format, so CI runs the checks once and publishes several.
 */
#include "cmd/cmd.h"
#include "report/report.h"
#include "lib/strbuf.h"

#include <errno.h>
#include <getopt.h>
#include <string.h>

static const char usage[] =
	"usage: phaselab report --from FILE [--format FORMAT] [--output FILE]\n"
	"\n"
	"  -i, --from FILE    a report written by `phaselab check --format json`\n"
	"  -f, --format FMT   text (default), json, junit, markdown, gradescope or html\n"
	"  -o, --output FILE  write there instead of standard output\n"
	"\n"
	"exit status: 0 written, 2 bad usage or a report that cannot be read\n";

static int cmd_report(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "from", required_argument, NULL, 'i' }, { "format", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' }, { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *from = NULL, *format = "text", *output = NULL;
	struct strbuf err = STRBUF_INIT;
	struct report r;
	json_error_t jerr;
	json_t *root;
	int c, status = EXIT_PASSED;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":i:f:o:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'i': from = optarg; break;
		case 'f': format = optarg; break;
		case 'o': output = optarg; break;
		case 'h': fputs(usage, stdout); return EXIT_PASSED;
		case ':': return cmd_fail(EXIT_USAGE, "report: option '%s' needs a value\n%s", argv[optind - 1], usage);
		default: return cmd_fail(EXIT_USAGE, "report: unknown option '%s'\n%s", argv[optind - 1], usage);
		}
	}
	if (!from || optind < argc)
		return cmd_fail(EXIT_USAGE, "report: --from FILE is required\n%s", usage);
	if (!report_writer(format))
		return cmd_fail(EXIT_USAGE, "report: unknown format '%s' (text, json, junit, markdown, gradescope, html)",
				format);
	root = json_load_file(from, 0, &jerr);
	if (!root)
		return cmd_fail(EXIT_USAGE, "report: '%s': %s", from, jerr.text);
	memset(&r, 0, sizeof(r));
	if (report_from_json(root, &r, &err) < 0) {
		cmd_fail(EXIT_USAGE, "report: '%s': %s", from, err.buf);
		status = EXIT_USAGE;
	} else if (report_write_to(&r, format, output) < 0) {
		cmd_fail(EXIT_USAGE, "report: cannot write '%s': %s", output ? output : "standard output", strerror(errno));
		status = EXIT_USAGE;
	}
	report_release(&r);
	json_decref(root);
	strbuf_release(&err);
	return status;
}

const struct cmd_entry cmd_report_entry = {
	.name = "report",
	.usage = "--from FILE [--format FORMAT] [--output FILE]",
	.summary = "render a JSON report in another format (junit, markdown, html, ...)",
	.exec = cmd_report,
};
