/*
 * phaselab: a lab runner and verification harness for phase-based
 * container workshops.  main() finds the subcommand in one table.
 */
#include "cmd/cmd.h"

#include <stdio.h>
#include <string.h>

#define PHASELAB_VERSION "0.1.0"

static const struct cmd_entry *const commands[] = {
	&cmd_init_entry,
	&cmd_status_entry,
	&cmd_list_entry,
	&cmd_show_entry,
	&cmd_next_entry,
	&cmd_hint_entry,
	&cmd_watch_entry,
	&cmd_reset_entry,
	&cmd_check_entry,
	&cmd_grade_entry,
	&cmd_report_entry,
	NULL,
};

static void help(FILE *out)
{
	fputs("usage: phaselab COMMAND [OPTIONS]\n\ncommands:\n", out);
	for (const struct cmd_entry *const *c = commands; *c; c++)
		fprintf(out, "  %-8s %s\n           phaselab %s %s\n", (*c)->name, (*c)->summary, (*c)->name, (*c)->usage);
	fputs("\nLearners: `phaselab init DIR`, then `phaselab` alone says what to do next.\n", out);
	fputs("\n`phaselab COMMAND --help` says more.  Environment: PHASELAB_DOCKER (the docker CLI),\n"
	      "DOCKER_BUILDKIT (1: BuildKit, 0: legacy builder), PHASELAB_PHASES (the phases folder),\n"
	      "NO_COLOR.\n", out);
}

/* A command by its name or an unambiguous prefix of it. */
static const struct cmd_entry *find_command(const char *name)
{
	const struct cmd_entry *found = NULL;

	for (const struct cmd_entry *const *c = commands; *c; c++) {
		if (!strcmp((*c)->name, name))
			return *c;
		if (!strncmp((*c)->name, name, strlen(name))) {
			if (found)
				return NULL;
			found = *c;
		}
	}
	return found;
}

int main(int argc, char **argv)
{
	const struct cmd_entry *cmd;

	/* alone, it says where the learner is and what to do next */
	if (argc < 2) {
		char name[] = "status";
		char *alone[] = { name, NULL };
		return cmd_status_entry.exec(1, alone);
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		help(stdout);
		return EXIT_PASSED;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("phaselab %s\n", PHASELAB_VERSION);
		return EXIT_PASSED;
	}
	cmd = find_command(argv[1]);
	if (!cmd)
		return cmd_fail(EXIT_USAGE, "unknown command '%s' (try phaselab --help)", argv[1]);
	return cmd->exec(argc - 1, argv + 1);
}
