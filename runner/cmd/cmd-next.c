/*
 * phaselab next: verify the current step and move on only when it passes.
 */
#include "cmd/cmd.h"
#include "lib/http.h"
#include "lib/interrupt.h"
#include "cmd/learn.h"

static const char usage[] =
	"usage: phaselab next\n"
	"\n"
	"Build your service and run the checks of the step you are on (and of the\n"
	"steps before it: they must keep passing).  When they pass, the next step\n"
	"opens; on the last step the whole checklist decides the phase.\n"
	"\n"
	"exit status: 0 the step is done, 1 not yet, 2 no workspace or a broken file,\n"
	"             3 the engine is not usable, 130 interrupted\n";

static int cmd_next(int argc, char **argv)
{
	struct workspace ws;
	const struct phase *ph;
	int rc = learn_args(argc, argv, usage, NULL, NULL, NULL, 0);

	if (rc)
		return rc == -2 ? EXIT_PASSED : rc;
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
	.usage = "",
	.summary = "verify the step you are on, and open the next one when it passes",
	.exec = cmd_next,
};
