/*
 * phaselab show: a step's lesson, rendered for a terminal (plain text
 * when the output is not one).
 */
#include "cmd/cmd.h"
#include "lib/fsutil.h"
#include "lib/strvec.h"
#include "cmd/learn.h"
#include "learn/mdterm.h"
#include "lib/xalloc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* STEP as a number from 1 or an id; -1 with the message printed. */
static int find_step(const struct phase *ph, const char *which)
{
	char *end;
	long n = strtol(which, &end, 10);
	int k;

	if (*which && !*end && n >= 1 && (size_t)n <= ph->nsteps)
		return (int)n - 1;
	k = phase_step_index(ph, which);
	if (k < 0) {
		struct strbuf known = STRBUF_INIT;
		for (size_t i = 0; i < ph->nsteps; i++)
			strbuf_addf(&known, " %zu:%s", i + 1, ph->steps[i].id);
		cmd_fail(EXIT_USAGE, "show: phase %d (%s) has no step '%s' (steps:%s)", ph->number, ph->title,
			 which, known.buf);
		strbuf_release(&known);
	}
	return k;
}

static int add_file(struct strbuf *md, const struct phase *ph, const char *rel)
{
	char *path = xasprintf("%s/%s", ph->dir, rel);
	int rc = read_file_nofollow(path, 1 << 20, md);

	if (rc < 0)
		cmd_fail(EXIT_USAGE, "show: cannot read '%s': %s", path, strerror(errno));
	free(path);
	return rc;
}

/* After the last phase: every phase and step, and how to read any of them again. */
static int show_all(struct workspace *ws)
{
	const struct phase *last = ws->set.n ? &ws->set.phases[ws->set.n - 1] : NULL;

	learn_say(0, "Every phase has passed: well done.  Any step can be read again with `phaselab show "
		  "PHASE STEP`, by number or id (`phaselab show %d %zu` is the last one); `phaselab show PHASE` "
		  "starts with the phase's introduction.", last ? last->number : 1, last ? last->nsteps : (size_t)1);
	for (size_t i = 0; i < ws->set.n; i++) {
		const struct phase *ph = &ws->set.phases[i];
		const struct phase_progress *pp = progress_phase(&ws->pg, ph->id, 0);

		putchar('\n');
		if (pp && pp->passed_at)
			learn_say(2, "Phase %d: %s (passed, %d/%d)", ph->number, ph->title, pp->score, pp->max_score);
		else
			learn_say(2, "Phase %d: %s", ph->number, ph->title);
		for (size_t k = 0; k < ph->nsteps; k++)
			learn_say(8, "  %2zu  %s", k + 1, ph->steps[k].title);
	}
	return EXIT_PASSED;
}

static int cmd_show(const struct cmd_args *args)
{
	const char *const *pos = args->arg;
	int force = cmd_flag(args, "force");
	struct workspace ws;
	struct strbuf md = STRBUF_INIT, out = STRBUF_INIT, checks = STRBUF_INIT;
	struct mdterm_opts mo;
	const struct phase *ph;
	const char *needs = NULL;
	enum phase_state st;
	int rc, k, current;

	if ((rc = workspace_open(&ws)))
		return rc;
	if (!pos[0] && !progress_current(&ws.pg, &ws.set)) {
		rc = show_all(&ws);
		goto out;
	}
	ph = learn_phase(&ws, pos[0], &rc);
	if (!ph)
		goto out;
	st = progress_state(&ws.pg, ph, &needs);
	if (st == PHASE_LOCKED && !force) {
		/* the set vouched for every requirement when it loaded: it is there */
		const struct phase *req = phase_set_find(&ws.set, needs, &checks);
		rc = cmd_fail(EXIT_NOT_PASSED, "show: phase %d (%s) is locked: pass phase %d (%s) first, with "
			      "`phaselab next`; instructors can open it anyway with --force", ph->number, ph->title,
			      req->number, req->title);
		goto out;
	}
	current = st == PHASE_OPEN ? progress_step(&ws.pg, ph) : 0;
	if (current < 0)
		current = 0;
	k = pos[1] ? find_step(ph, pos[1]) : current;
	if (k < 0) {
		rc = EXIT_USAGE;
		goto out;
	}

	strbuf_addf(&md, "# Phase %d: %s\n\n", ph->number, ph->title);
	if (k == 0 && ph->intro && !pos[1]) {
		if (add_file(&md, ph, ph->intro) < 0) {
			rc = EXIT_USAGE;
			goto out;
		}
		strbuf_addstr(&md, "\n\n---\n\n");
	}
	strbuf_addf(&md, "## Step %d of %zu: %s\n\n", k + 1, ph->nsteps, ph->steps[k].title);
	if (ph->steps[k].lesson && add_file(&md, ph, ph->steps[k].lesson) < 0) {
		rc = EXIT_USAGE;
		goto out;
	}
	for (size_t i = 0; i < ph->steps[k].nchecks; i++)
		strbuf_addf(&checks, "%s`%s`", i ? ", " : "", ph->checks[ph->steps[k].checks[i]].id);
	strbuf_addf(&md, "\n\n---\n\n*This step is verified by %s", checks.buf);
	if (ph->steps[k].nservices) {
		struct strvec names = STRVEC_INIT;

		learn_step_services(ph, k, &names);
		strbuf_addstr(&md, ", on each of ");
		for (size_t i = 0; i < names.nr; i++)
			strbuf_addf(&md, "%s`%s`", i == 0 ? "" : i + 1 == names.nr ? " and " : ", ", names.v[i]);
		strvec_clear(&names);
	}
	strbuf_addstr(&md, ".*");
	if (st == PHASE_PASSED)
		strbuf_addstr(&md, " *You passed this phase already.*");
	else if (st == PHASE_LOCKED)
		strbuf_addstr(&md, " *This phase is locked: you are reading it with --force.*");
	else if (k == current)
		strbuf_addstr(&md, " *This is the step you are on: run `phaselab next` when it is done.*");
	else if (k > current)
		strbuf_addf(&md, " *You are reading ahead: you are on step %d.*", current + 1);
	strbuf_addch(&md, '\n');

	mo.color = learn_color();
	mo.width = mdterm_width_of(1);
	mdterm_render(&out, md.buf, md.len, &mo);
	fwrite(out.buf, 1, out.len, stdout);
	rc = EXIT_PASSED;
out:
	strbuf_release(&md);
	strbuf_release(&out);
	strbuf_release(&checks);
	workspace_close(&ws);
	return rc;
}

static const struct cmd_option options[] = {
	{ .name = "force", .doc = "open a locked phase anyway" },
	{ 0 },
};

const struct cmd_entry cmd_show_entry = {
	.name = "show",
	.args = "[PHASE] [STEP]",
	.max_args = 2,
	.summary = "read the lesson of the step you are on (or of any step)",
	.about = "Print the lesson of the step you are on, or of STEP (its number or id) of PHASE (its "
		 "number or id).  A locked phase is refused, naming the phase to pass first; --force "
		 "opens it anyway (for instructors).  Once every phase has passed, it lists every phase "
		 "and step, and how to read any of them.",
	.options = options,
	.exit_status = "0 shown, 1 the phase is locked, 2 no such phase or step",
	.exec = cmd_show,
};
