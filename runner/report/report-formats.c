/*
 * The table of report formats: one name, one writer.  check, report and
 * grade all go through it, so a format added here is everywhere at once.
 */
#include "report/report.h"
#include "lib/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int text(const struct report *r, FILE *out, int color) { return report_write_text(r, out, color); }
static int json(const struct report *r, FILE *out, int color) { (void)color; return report_write_json(r, out); }
static int junit(const struct report *r, FILE *out, int color) { (void)color; return report_write_junit(r, out); }
static int markdown(const struct report *r, FILE *out, int color) { (void)color; return report_write_markdown(r, out); }
static int gradescope(const struct report *r, FILE *out, int color) { (void)color; return report_write_gradescope(r, out); }
static int html(const struct report *r, FILE *out, int color) { (void)color; return report_write_html(r, out); }

static const struct {
	const char *name;
	report_writer_fn write;
} writers[] = {
	{ "text", text }, { "json", json }, { "junit", junit },
	{ "markdown", markdown }, { "gradescope", gradescope }, { "html", html },
};

const char *const report_formats[] = { "text", "json", "junit", "markdown", "gradescope", "html", NULL };

report_writer_fn report_writer(const char *format)
{
	for (size_t i = 0; i < ARRAY_SIZE(writers); i++)
		if (!strcmp(writers[i].name, format))
			return writers[i].write;
	return NULL;
}

int report_write_to(const struct report *r, const char *format, const char *path)
{
	report_writer_fn write = report_writer(format);
	char *tmp;
	FILE *f;
	int rc;

	if (!write)
		return -1;
	if (!path)
		return write(r, stdout, isatty(1) && !getenv("NO_COLOR"));
	/* a report is replaced whole or not at all */
	tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
	f = fopen(tmp, "we");
	if (!f) {
		free(tmp);
		return -1;
	}
	rc = write(r, f, 0);
	if (fflush(f) != 0 || fsync(fileno(f)) != 0)
		rc = -1;
	if (fclose(f) != 0)
		rc = -1;
	if (rc == 0 && rename(tmp, path) < 0)
		rc = -1;
	if (rc < 0)
		unlink(tmp);
	free(tmp);
	return rc;
}
