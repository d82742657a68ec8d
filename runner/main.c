/*
 * phaselab: a lab runner and verification harness for phase-based
 * container workshops.  main() finds the subcommand in cmd_table (cmd.c).
 */
#include "cmd/cmd.h"
#include "lib/strbuf.h"

#include <stdio.h>
#include <string.h>

#define PHASELAB_VERSION "0.1.0"

int main(int argc, char **argv)
{
	const struct cmd_entry *cmd;

	/* alone, it says where the learner is and what to do next */
	if (argc < 2) {
		char name[] = "status";
		char *alone[] = { name, NULL };
		return cmd_run(&cmd_status_entry, 1, alone);
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		struct strbuf sb = STRBUF_INIT;

		cmd_help_all(&sb);
		fputs(sb.buf, stdout);
		strbuf_release(&sb);
		return EXIT_PASSED;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("phaselab %s\n", PHASELAB_VERSION);
		return EXIT_PASSED;
	}
	cmd = cmd_find(argv[1]);
	if (!cmd)
		return cmd_fail(EXIT_USAGE, "unknown command '%s' (try phaselab --help)", argv[1]);
	return cmd_run(cmd, argc - 1, argv + 1);
}
