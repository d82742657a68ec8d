#include "cmd.h"

#include <stdarg.h>
#include <stdio.h>

int cmd_fail(int status, const char *fmt, ...)
{
	va_list ap;

	fputs("phaselab: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return status;
}
