#include "cmd.h"
#include "escape.h"
#include "strbuf.h"

#include <stdarg.h>
#include <stdio.h>

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
