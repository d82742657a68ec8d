#include "cmd/cmd.h"
#include "core/phase.h"
#include "core/verify.h"
#include "lib/escape.h"
#include "lib/strbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int cmd_fail(int status, const char *fmt, ...)
{
	struct strbuf msg = STRBUF_INIT, shown = STRBUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(&msg, fmt, ap);
	va_end(ap);
	/* messages quote file names, progress files and reports: any bytes, made inert here once */
	escape_term(&shown, msg.buf, msg.len, ESCAPE_TERM_NEWLINES);
	fprintf(stderr, "phaselab: %s\n", shown.buf);
	strbuf_release(&msg);
	strbuf_release(&shown);
	return status;
}

int phase_load_for_command(const char *which, struct phase *ph)
{
	struct strbuf err = STRBUF_INIT;
	char *root = phases_root();
	int rc = phase_find(root, which, ph, &err);

	free(root);
	if (rc < 0) {
		rc = cmd_fail(EXIT_USAGE, "%s", err.buf);
		phase_release(ph);
	}
	strbuf_release(&err);
	return rc;
}

void cmd_progress(const char *title, void *arg)
{
	(void)arg;
	if (!isatty(2))
		return;
	fprintf(stderr, "\r\033[K");
	if (title)
		fprintf(stderr, "phaselab: %s ...", title);
	fflush(stderr);
}

int cmd_verify(const struct phase *ph, const char *dir, struct verify_opts *vo, struct report *r)
{
	struct strbuf msg = STRBUF_INIT;
	int status;

	vo->progress = cmd_progress;
	status = verify_phase(ph, dir, vo, r, &msg);
	/* verify_phase ends every line with '\n' */
	for (char *line = msg.buf, *nl; (nl = strchr(line, '\n')); line = nl + 1)
		cmd_fail(0, "%.*s", (int)(nl - line), line);
	strbuf_release(&msg);
	return status;
}
