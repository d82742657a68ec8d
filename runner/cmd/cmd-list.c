/*
 * phaselab list: every phase with its state.
 */
#include "cmd/cmd.h"
#include "cmd/learn.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define STATE_COL 50 /* where the state starts: "> NN  " and the title's 42 columns */

/* The state: word (coloured with sgr, or NULL) and the rest, wrapped under the state column. */
static void print_state(const char *sgr, const char *word, const char *fmt, ...)
{
	struct strbuf rest = STRBUF_INIT, out = STRBUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(&rest, fmt, ap);
	va_end(ap);
	printf("%s%s%s", sgr ? sgr : "", word, sgr ? "\033[0m" : "");
	report_text_wrap(&out, rest.buf, STATE_COL + strlen(word), STATE_COL);
	printf("%s\n", out.buf);
	strbuf_release(&rest);
	strbuf_release(&out);
}

static int cmd_list(const struct cmd_args *args)
{
	struct workspace ws;
	const struct phase *cur;
	int rc, color = learn_color();

	(void)args;
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
			print_state(color ? "\033[32m" : NULL, "passed", " %d/%d on %.10s", pp->score, pp->max_score,
				    pp->passed_at);
			break;
		case PHASE_OPEN:
			k = progress_step(&ws.pg, ph);
			if (k < 0)
				k = 0;
			print_state(color ? "\033[1m" : NULL, "open", ": step %d of %zu, %s", k + 1, ph->nsteps,
				    ph->steps[k].title);
			break;
		case PHASE_LOCKED: {
			/* the set vouched for every requirement when it loaded */
			struct strbuf err = STRBUF_INIT;
			const struct phase *req = phase_set_find(&ws.set, needs, &err);

			if (req)
				print_state(NULL, "locked", ": pass phase %d (%s) first", req->number, req->title);
			else
				print_state(NULL, "locked", ": pass %s first", needs);
			strbuf_release(&err);
			break;
		}
		}
	}
	workspace_close(&ws);
	return EXIT_PASSED;
}

const struct cmd_entry cmd_list_entry = {
	.name = "list",
	.summary = "every phase, with its state (locked, open, passed)",
	.about = "Every phase in order, with its state: locked (and which phase opens it), open (and the "
		 "step you are on), or passed (with the score and the date).",
	.exit_status = "0 listed, 2 no workspace or a broken file",
	.exec = cmd_list,
};
