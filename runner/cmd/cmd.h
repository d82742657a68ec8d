/*
 * The subcommands.  Adding one: a file runner/cmd/cmd-<name>.c defining one
 * `const struct cmd_entry`, its line in the table in main.c, tests, and its
 * section in README.md.  exec returns the process's exit status.
 */
#ifndef PHASELAB_CMD_H
#define PHASELAB_CMD_H

#include <stdio.h>

#include "core/exit.h"


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

struct phase;
/*
 * phase_find in phases_root(), for the commands: on failure the message is
 * printed ("phaselab: ...") and the result is EXIT_USAGE (2); 0 on success.
 */
int phase_load_for_command(const char *which, struct phase *ph);

struct verify_opts;
struct report;
/* verify's progress: the running check's title on one status line, when standard error is a terminal */
void cmd_progress(const char *title, void *arg);
/* verify_phase with the status line, then what it had to say printed as "phaselab: ..." lines */
int cmd_verify(const struct phase *ph, const char *dir, struct verify_opts *vo, struct report *r);

#endif
