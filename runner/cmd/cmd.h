/*
 * The subcommands, as tmux declares its commands: one `const struct
 * cmd_entry` per command says its name, its options (each with its value's
 * name and a line of doc), its positional arguments and its exec function.
 * One parser (cmd_parse) reads the command line from that declaration, and
 * the `--help` text, `phaselab --help` and the usage errors ("unknown option",
 * "needs a value", "is required") are all made from it: nothing of a
 * command's usage is written twice.
 *
 * Adding a command: a file runner/cmd/cmd-<name>.c defining one
 * `const struct cmd_entry`, its line in cmd_table (cmd.c), tests, and its
 * section in README.md (tests/unit/test_cmd.c walks the table: every entry
 * complete, names and options unique, and each synopsis in README.md).
 * exec returns the process's exit status.
 */
#ifndef PHASELAB_CMD_H
#define PHASELAB_CMD_H

#include <stddef.h>
#include <stdio.h>

#include "core/exit.h"

struct strbuf;
struct cmd_args;

struct cmd_option {
	const char *name;     /* --NAME; NULL ends a command's list */
	char short_name;      /* -C, or 0 for none */
	const char *arg;      /* the value's name in the usage ("ID"), or NULL: a flag, no value */
	int required;
	const char *doc;      /* one line; the help text wraps it */
	const char *fallback; /* the value when the option is not given (said in the help), or NULL */
	/*
	 * The values it accepts, or NULL for any: the i-th (from 0) with a few
	 * words on it in *about (or NULL), NULL past the last.  Another value is
	 * refused as "unknown NAME 'VALUE' (the list)".
	 */
	const char *(*choice)(size_t i, const char **about);
	int repeat;           /* 1: may be given several times (cmd_values reads them all) */
};

#define CMD_MAX_OPTIONS 16
#define CMD_MAX_ARGS 4
#define CMD_MAX_REPEAT 16     /* values of repeatable options, all of them together */

struct cmd_entry {
	const char *name;
	const char *args;     /* the positional arguments' synopsis ("[PHASE] [STEP]"), or NULL */
	int max_args;         /* how many positional arguments it takes (at most CMD_MAX_ARGS) */
	const char *summary;  /* one line, for `phaselab --help` */
	const char *about;    /* what it does, a paragraph for its --help, or NULL */
	const struct cmd_option *options; /* ends with { 0 }; NULL for none; -h/--help is every command's */
	const char *exit_status; /* "0 passed, 1 not passed, ..." */
	int (*exec)(const struct cmd_args *args);
};

/* A parsed command line: borrowed from argv and the entry, valid while they are. */
struct cmd_args {
	const struct cmd_entry *entry;
	const char *value[CMD_MAX_OPTIONS]; /* by option index: its value, "" for a flag given, NULL */
	const char *arg[CMD_MAX_ARGS];      /* the positional arguments, NULL past nargs */
	size_t nargs;
	const char *repeated[CMD_MAX_REPEAT];      /* a repeatable option's values, in order given */
	unsigned char repeated_opt[CMD_MAX_REPEAT]; /* ... and the option index of each */
	size_t nrepeated;
};

extern const struct cmd_entry cmd_init_entry;
extern const struct cmd_entry cmd_status_entry;
extern const struct cmd_entry cmd_list_entry;
extern const struct cmd_entry cmd_show_entry;
extern const struct cmd_entry cmd_next_entry;
extern const struct cmd_entry cmd_hint_entry;
extern const struct cmd_entry cmd_watch_entry;
extern const struct cmd_entry cmd_reset_entry;
extern const struct cmd_entry cmd_check_entry;
extern const struct cmd_entry cmd_grade_entry;
extern const struct cmd_entry cmd_report_entry;

/* Every command, NULL-terminated, in the order `phaselab --help` lists them. */
extern const struct cmd_entry *const cmd_table[];
/* A command by its name or an unambiguous prefix of it, or NULL. */
const struct cmd_entry *cmd_find(const char *name);

#define CMD_HELP (-2)
/*
 * Read argv (argv[0] is the command's name) as e declares it: short options
 * (-p ID, -pID, clustered flags -lf), long ones (--phase ID, --phase=ID, an
 * unambiguous prefix), positional arguments anywhere, "--" ending the
 * options.  Returns 0; CMD_HELP when --help printed the help on standard
 * output; or EXIT_USAGE with the message printed ("CMD: unknown option
 * '--x'", "CMD: option '--phase' needs a value", "CMD: --phase is
 * required", "CMD: unknown format 'yaml' (text, json, ...)", "CMD:
 * unexpected argument 'x'"), followed by the synopsis.
 */
int cmd_parse(const struct cmd_entry *e, int argc, char **argv, struct cmd_args *a);
/* cmd_parse, then exec: the exit status (0 after --help). */
int cmd_run(const struct cmd_entry *e, int argc, char **argv);
/* The value of the option called name (its fallback when not given), or NULL. */
const char *cmd_value(const struct cmd_args *a, const char *name);
/* A repeatable option's values, in the order given, into out[0..max): how many (0: not given). */
size_t cmd_values(const struct cmd_args *a, const char *name, const char **out, size_t max);
/* 1 if the flag called name was given. */
int cmd_flag(const struct cmd_args *a, const char *name);

/* "usage: phaselab NAME ...", wrapped under its first option, and a newline. */
void cmd_synopsis(struct strbuf *sb, const struct cmd_entry *e);
/* A command's --help text: synopsis, what it does, its options, its exit statuses. */
void cmd_help(struct strbuf *sb, const struct cmd_entry *e);
/* `phaselab --help`: every command of cmd_table with its summary and synopsis. */
void cmd_help_all(struct strbuf *sb);

/* The report formats (report_format_at) as a cmd_option's choice. */
const char *cmd_report_format_choice(size_t i, const char **about);

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
/* ... and what that check waits for, after its title, at most every 250 ms */
void cmd_progress_detail(const char *detail, void *arg);
/* Each line of text (lines end in '\n', the last may not) printed as "phaselab: ..." */
void cmd_fail_lines(const char *text);
/*
 * verify_phase with the status line, then what it had to say printed as
 * "phaselab: ..." lines.  ph is the folder's checklist already
 * (core/language.h, phase_for_dir).
 */
int cmd_verify(const struct phase *ph, const char *dir, struct verify_opts *vo, struct report *r);

#endif
