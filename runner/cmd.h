/*
 * The subcommands.  Adding one: a file runner/cmd-<name>.c defining one
 * `const struct cmd_entry`, its line in the table in main.c, tests, and its
 * section in README.md.  exec returns the process's exit status.
 */
#ifndef PHASELAB_CMD_H
#define PHASELAB_CMD_H

#include <stdio.h>

/* Exit statuses: the command-line contract (DESIGN.md). */
enum {
	EXIT_PASSED = 0,
	EXIT_NOT_PASSED = 1,
	EXIT_USAGE = 2,
	EXIT_ENVIRONMENT = 3,
	EXIT_INTERRUPTED = 130,
};

struct cmd_entry {
	const char *name;
	const char *usage;    /* after "phaselab NAME " */
	const char *summary;  /* one line */
	int (*exec)(int argc, char **argv);
};

extern const struct cmd_entry cmd_check_entry;
extern const struct cmd_entry cmd_grade_entry;
extern const struct cmd_entry cmd_report_entry;
extern const struct cmd_entry cmd_init_entry;
extern const struct cmd_entry cmd_status_entry;
extern const struct cmd_entry cmd_list_entry;
extern const struct cmd_entry cmd_show_entry;
extern const struct cmd_entry cmd_next_entry;
extern const struct cmd_entry cmd_hint_entry;
extern const struct cmd_entry cmd_watch_entry;
extern const struct cmd_entry cmd_reset_entry;

/* "phaselab: " + message on stderr, made safe for a terminal (escape_term, line breaks kept); returns status. */
int cmd_fail(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
