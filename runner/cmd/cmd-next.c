/*
 * phaselab next: verify the current step and move on only when it passes.
 */
#include "cmd/cmd.h"
#include "lib/http.h"
#include "lib/interrupt.h"
#include "cmd/learn.h"

static int cmd_next(const struct cmd_args *args)
{
	struct workspace ws;
	const struct phase *ph;
	int rc;

	(void)args;
	if ((rc = workspace_open(&ws)))
		return rc;
	ph = learn_phase(&ws, NULL, &rc);
	if (ph) {
		if (interrupt_install() < 0 || http_global_init() < 0)
			rc = cmd_fail(EXIT_ENVIRONMENT, "cannot set up signal handling or libcurl");
		else
			rc = learn_verify_step(&ws, ph);
		http_global_cleanup();
	}
	workspace_close(&ws);
	return rc;
}

const struct cmd_entry cmd_next_entry = {
	.name = "next",
	.summary = "verify the step you are on, and open the next one when it passes",
	.about = "Build your service and run the checks of the step you are on (and of the steps before "
		 "it: they must keep passing).  A step about several services verifies each of them, with "
		 "its language's checklist, and names the ones that fail.  When they pass, the next step "
		 "opens; on the last step the whole checklist decides the phase.",
	.exit_status = "0 the step is done, 1 not yet, 2 no workspace or a broken file, 3 the engine is not usable, "
		       "130 interrupted",
	.exec = cmd_next,
};
