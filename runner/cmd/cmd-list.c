/*
 * phaselab list: in a workspace, every phase of its track with its state;
 * outside one, every track with its phases, so a learner can choose one.
 */
#include "cmd/cmd.h"
#include "cmd/learn.h"
#include "lib/xalloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
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

/* Outside a workspace: the tracks, each with its phases, in the tracks file's order. */
static int list_tracks(void)
{
	struct strbuf err = STRBUF_INIT;
	struct phase_set set;
	const struct phase **of;
	char *root = phases_root();
	int rc = phase_set_load(root, &set, &err), color = learn_color();

	free(root);
	if (rc < 0) {
		rc = cmd_fail(EXIT_USAGE, "%s", err.buf);
		strbuf_release(&err);
		phase_set_release(&set);
		return rc;
	}
	of = xcalloc(set.nall + 1, sizeof(*of));
	printf("Not in a workspace: the tracks, and their phases.\n");
	for (size_t i = 0; i < set.tracks.n; i++) {
		const struct track *t = &set.tracks.tracks[i];
		size_t n = phase_set_of_track(&set, t, of);

		putchar('\n');
		printf("%s%s%s  %s\n", color ? "\033[1m" : "", t->name, color ? "\033[0m" : "", t->title);
		if (t->is_default)
			learn_say(4, "    `phaselab init DIR` makes a workspace for it (the default track)");
		else
			learn_say(4, "    `phaselab init --track %s DIR` makes a workspace for it", t->name);
		for (size_t k = 0; k < n; k++)
			printf("  %2d  %-42.42s  %zu step%s\n", of[k]->number, of[k]->title, of[k]->nsteps,
			       of[k]->nsteps == 1 ? "" : "s");
		if (!n)
			printf("  (no phase yet)\n");
	}
	free(of);
	phase_set_release(&set);
	strbuf_release(&err);
	return EXIT_PASSED;
}

static int cmd_list(const struct cmd_args *args)
{
	struct workspace ws;
	const struct phase *cur;
	char *inside = workspace_find(".");
	int rc, color = learn_color();

	(void)args;
	if (!inside)
		return list_tracks();
	free(inside);
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
	.about = "In a workspace, every phase of its track in order, with its state: locked (and which "
		 "phase opens it), open (and the step you are on), or passed (with the score and the date).  "
		 "Outside a workspace, every track with its phases, and how to make a workspace for each.",
	.exit_status = "0 listed, 2 a broken file",
	.exec = cmd_list,
};
