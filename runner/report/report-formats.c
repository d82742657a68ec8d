/*
 * The table of report formats: name, file extension, a few words for usage
 * texts, writer.  check, report and grade (their dispatch, --format's usage
 * text and its errors) all read it, so a format added here is everywhere at
 * once.
 */
#include "report/report.h"
#include "lib/strbuf.h"
#include "lib/xalloc.h"

#include <errno.h>
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

static const struct report_format formats[] = {
	{ "text", "txt", NULL, text },
	{ "json", "json", "schema phaselab.report/v1", json },
	{ "junit", "xml", "one test case per item", junit },
	{ "markdown", "md", "for a CI step summary or a pull-request comment", markdown },
	{ "gradescope", "json", "Gradescope's results.json", gradescope },
	{ "html", "html", "one self-contained page", html },
};

const struct report_format *report_format_at(size_t i)
{
	return i < ARRAY_SIZE(formats) ? &formats[i] : NULL;
}

const struct report_format *report_format_find(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(formats); i++)
		if (!strcmp(formats[i].name, name))
			return &formats[i];
	return NULL;
}

int report_write_buf(struct strbuf *sb, FILE *out, int ret)
{
	/* one write: a report is not printed halfway on an early error */
	if (!ret && (fwrite(sb->buf, 1, sb->len, out) != sb->len || fflush(out) || ferror(out)))
		ret = -1;
	strbuf_release(sb);
	return ret;
}

int report_write_stream_to(report_stream_fn write, const void *arg, const char *path)
{
	char *tmp;
	FILE *f;
	int rc;

	if (!path)
		return write(arg, stdout, isatty(1) && !getenv("NO_COLOR"));
	/* a report is replaced whole or not at all */
	tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
	f = fopen(tmp, "we");
	if (!f) {
		free(tmp);
		return -1;
	}
	rc = write(arg, f, 0);
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

struct report_job {
	report_writer_fn write;
	const struct report *r;
};

static int write_job(const void *arg, FILE *out, int color)
{
	const struct report_job *job = arg;

	return job->write(job->r, out, color);
}

int report_write_to(const struct report *r, const char *format, const char *path)
{
	const struct report_format *fmt = report_format_find(format);
	struct report_job job = { fmt ? fmt->write : NULL, r };

	if (!job.write) {
		errno = EINVAL;
		return -1;
	}
	return report_write_stream_to(write_job, &job, path);
}
