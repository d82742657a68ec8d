/*
 * phaselab report: render a JSON report (what `check --format json` wrote)
 * in another format, so CI runs the checks once and publishes several.  A
 * saved suite (schema phaselab.suite/v1) is rendered as a suite.
 */
#include "cmd/cmd.h"
#include "report/report.h"
#include "lib/strbuf.h"

#include <errno.h>
#include <string.h>

static int cmd_report(const struct cmd_args *args)
{
	const char *from = cmd_value(args, "from"), *format = cmd_value(args, "format");
	const char *output = cmd_value(args, "output");
	struct strbuf err = STRBUF_INIT;
	struct report r;
	const char *schema;
	json_error_t jerr;
	json_t *root;
	int status = EXIT_PASSED;

	root = json_load_file(from, 0, &jerr);
	if (!root)
		return cmd_fail(EXIT_USAGE, "report: '%s': %s", from, jerr.text);
	memset(&r, 0, sizeof(r));
	schema = report_json_schema(root);
	if (schema && !strcmp(schema, "phaselab.suite/v1")) {
		struct suite s;

		if (suite_from_json(root, &s, &err) < 0) {
			cmd_fail(EXIT_USAGE, "report: '%s': %s", from, err.buf);
			status = EXIT_USAGE;
		} else if (suite_write_to(&s, format, output) < 0) {
			cmd_fail(EXIT_USAGE, "report: cannot write '%s': %s", output ? output : "standard output",
				 strerror(errno));
			status = EXIT_USAGE;
		}
		suite_release(&s);
	} else if (report_from_json(root, &r, &err) < 0) {
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

static const struct cmd_option options[] = {
	{ .name = "from", .short_name = 'i', .arg = "FILE", .required = 1,
	  .doc = "a report (or a system's suite) written by `phaselab check --format json`" },
	{ .name = "format", .short_name = 'f', .arg = "FORMAT", .fallback = "text",
	  .doc = "the format to write", .choice = cmd_report_format_choice },
	{ .name = "output", .short_name = 'o', .arg = "FILE", .doc = "write there instead of standard output" },
	{ 0 },
};

const struct cmd_entry cmd_report_entry = {
	.name = "report",
	.summary = "render a JSON report in another format (junit, markdown, html, ...)",
	.about = "Render a saved JSON report in another format, so CI runs the checks once and "
		 "publishes several reports.",
	.options = options,
	.exit_status = "0 written, 2 bad usage or a report that cannot be read",
	.exec = cmd_report,
};
