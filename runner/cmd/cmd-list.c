/*
 * phaselab list: every phase with its state.
 */
#include "cmd/cmd.h"
#include "cmd/learn.h"

#include <string.h>

static const char usage[] =
	"usage: phaselab list\n"
	"\n"
	"Every phase in order, with its state: locked (and which phase opens it),\n"
	"open (and the step you are on), or passed (with the score and the date).\n";

static int cmd_list(int argc, char **argv)
{
	struct workspace ws;
	const struct phase *cur;
	int rc = learn_args(argc, argv, usage, NULL, NULL, NULL, 0);
	int color = learn_color();

	if (rc)
		return rc == -2 ? EXIT_PASSED : rc;
	if ((rc = workspace_open(&ws)))
		return rc;
	cur = progress_current(&ws.pg, &ws.set);
	for (size_t i = 0; i < ws.set.n; i++) {
		const struct phase *ph = &ws.set.phases[i];
		const struct phase_progress *pp = progress_phase(&ws.pg, ph->id, 0);
		const char *needs = NULL;
		int k;

		printf("%s %2d  %-42.42s  ", ph == cur ? ">" : " ", ph->number, ph->title);
		switch (progress_state(&ws.pg, ph, &needs)) {
		case PHASE_PASSED:
			printf("%spassed%s %d/%d on %.10s\n", color ? "\033[32m" : "", color ? "\033[0m" : "",
			       pp->score, pp->max_score, pp->passed_at);
			break;
		case PHASE_OPEN:
			k = progress_step(&ws.pg, ph);
			if (k < 0)
				k = 0;
			printf("%sopen%s: step %d of %zu, %s\n", color ? "\033[1m" : "", color ? "\033[0m" : "",
			       k + 1, ph->nsteps, ph->steps[k].title);
			break;
		case PHASE_LOCKED:
			printf("locked: pass %s first\n", needs);
			break;
		}
	}
	workspace_close(&ws);
	return EXIT_PASSED;
}

const struct cmd_entry cmd_list_entry = {
	.name = "list",
	.usage = "",
	.summary = "every phase, with its state (locked, open, passed)",
	.exec = cmd_list,
};
