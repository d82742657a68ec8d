/*
 * phaselab status (and `phaselab` alone): where the learner is, and what
 * to do next.  Outside a workspace, how to start one.
 */
#include "cmd/cmd.h"
#include "cmd/learn.h"
#include "lib/strvec.h"
#include "lib/xalloc.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>

static int folder_is_empty(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int empty = 1;

	while (d && (de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			empty = 0;
	if (d)
		closedir(d);
	return d && empty;
}

static int outside(void)
{
	printf("Welcome to phaselab: a workshop that takes a Node.js service from a 1 GB\n"
	       "development image to a small, safe production image, one phase at a time.\n\n");
	if (folder_is_empty("."))
		printf("This folder is empty: make it your workspace with\n\n    phaselab init\n\n");
	else
		printf("This folder is not a workspace.  Make one in a new folder:\n\n"
		       "    phaselab init workshop && cd workshop\n\n");
	printf("That is the workshop; `phaselab list` shows every track, and `phaselab init --track NAME`\n"
	       "starts another.  Then `phaselab` again tells you what to do.  All commands: phaselab --help\n");
	return EXIT_PASSED;
}

static int cmd_status(const struct cmd_args *args)
{
	struct workspace ws;
	const struct phase *ph;
	char *root;
	int rc, k, passed = 0;

	(void)args;
	root = workspace_find(".");
	if (!root)
		return outside();
	free(root);
	if ((rc = workspace_open(&ws)))
		return rc;
	for (size_t i = 0; i < ws.set.n; i++)
		passed += progress_state(&ws.pg, &ws.set.phases[i], NULL) == PHASE_PASSED;
	ph = progress_current(&ws.pg, &ws.set);
	if (!ph) {
		learn_say(0, "Every phase has passed (%d of %zu): well done.  `phaselab list` shows your scores; "
			  "`phaselab show` lists every step, to read any of them again.", passed, ws.set.n);
		workspace_close(&ws);
		return EXIT_PASSED;
	}
	k = progress_step(&ws.pg, ph);
	if (k < 0)
		k = 0;
	learn_say(2, "Workspace %s: %d of %zu phases passed.", ws.root, passed, ws.set.n);
	putchar('\n');
	learn_say(2, "You are on phase %d, %s:", ph->number, ph->title);
	learn_say(4, "  step %d of %zu, %s", k + 1, ph->nsteps, ph->steps[k].title);
	if (ph->steps[k].nservices) {
		struct strvec names = STRVEC_INIT;
		struct strbuf line = STRBUF_INIT;

		learn_step_services(ph, k, &names);
		for (size_t i = 0; i < names.nr; i++)
			strbuf_addf(&line, "%s%s", i ? ", " : "", names.v[i]);
		learn_say(4, "  about the services %s", line.buf);
		strbuf_release(&line);
		strvec_clear(&names);
	}
	putchar('\n');
	printf("  phaselab show    read the step\n"
	       "  phaselab next    verify it, and move on when it passes\n"
	       "  phaselab hint    a hint for your last failure\n"
	       "  phaselab watch   verify again whenever you save a file\n"
	       "  phaselab list    every phase and its state\n");
	workspace_close(&ws);
	return EXIT_PASSED;
}

const struct cmd_entry cmd_status_entry = {
	.name = "status",
	.summary = "where you are and what to do next (also `phaselab` alone)",
	.about = "Where you are in the phases and what to do next (also `phaselab` alone).  Outside a "
		 "workspace, how to make one.",
	.exit_status = "0 said, 2 a broken phase or progress file",
	.exec = cmd_status,
};
