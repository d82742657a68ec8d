/*
 * phaselab hint: help with the last failure, a little more each time:
 * first a nudge, then what the harness saw and what it means, last the fix.
 * When the check identified the failure's cause and the phase file has
 * hints for it, the tiers are that cause's, filled from the evidence
 * (report/hint.h); else the check's generic hints.
 */
#include "cmd/cmd.h"
#include "lib/escape.h"
#include "lib/fsutil.h"
#include "report/hint.h"
#include "report/report.h"
#include "cmd/learn.h"
#include "core/language.h"
#include "learn/mdterm.h"
#include "lib/xalloc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* A hint's text (indented lines are code) as Markdown, for the renderer. */
static void add_block(void *ctx, int is_code, const char *text, size_t len)
{
	struct strbuf *md = ctx;

	if (is_code) {
		strbuf_addstr(md, "```\n");
		strbuf_add(md, text, len);
		strbuf_addstr(md, "\n```\n\n");
	} else {
		strbuf_add(md, text, len);
		strbuf_addstr(md, "\n\n");
	}
}

static void add_hint_text(struct strbuf *md, const char *text)
{
	struct strbuf clean = STRBUF_INIT;

	escape_term(&clean, text, strlen(text), ESCAPE_TERM_NEWLINES);
	hint_blocks(clean.buf, add_block, md);
	strbuf_release(&clean);
}

/*
 * The phase's last report; a step about several services kept a suite
 * (into s, r left empty).
 */
static int load_last(struct workspace *ws, const struct phase *ph, struct report *r, struct suite *s)
{
	struct strbuf text = STRBUF_INIT, err = STRBUF_INIT;
	char *file = workspace_report_file(ws, ph);
	json_t *j = NULL;
	int rc = EXIT_USAGE;

	memset(r, 0, sizeof(*r));
	memset(s, 0, sizeof(*s));
	if (read_file_nofollow(file, 64 << 20, &text) < 0) {
		if (errno == ENOENT)
			cmd_fail(EXIT_USAGE, "hint: phase %d (%s) has not been verified yet: run `phaselab next` first",
				 ph->number, ph->title);
		else
			cmd_fail(EXIT_USAGE, "hint: cannot read '%s': %s", file, strerror(errno));
		goto out;
	}
	j = json_loadb(text.buf, text.len, 0, NULL);
	if (j && report_json_schema(j) && !strcmp(report_json_schema(j), "phaselab.suite/v1")) {
		if (suite_from_json(j, s, &err) < 0) {
			cmd_fail(EXIT_USAGE, "hint: '%s' is not a report phaselab can read (%s): run `phaselab next` "
				 "to make a new one", file, err.buf);
			goto out;
		}
	} else if (!j || report_from_json(j, r, &err) < 0) {
		cmd_fail(EXIT_USAGE, "hint: '%s' is not a report phaselab can read (%s): run `phaselab next` to make "
			 "a new one", file, err.len ? err.buf : "not JSON");
		goto out;
	}
	rc = 0;
out:
	json_decref(j);
	strbuf_release(&text);
	strbuf_release(&err);
	free(file);
	return rc;
}

static int cmd_hint(const struct cmd_args *args)
{
	const char *check = args->arg[0];
	struct workspace ws;
	struct report r = { 0 };
	const struct report *from = &r; /* the report c is in: r, or a service's in su */
	struct suite su = { 0 };
	const char *service = NULL;
	struct strbuf md = STRBUF_INIT, out = STRBUF_INIT;
	const char *tiers[3];
	const struct check_result *c = NULL;
	const struct check_def *def;
	const struct check_cause *cc = NULL;
	const char *cause;
	const struct phase *ph;
	struct phase_progress *pp;
	struct mdterm_opts mo;
	int rc, ntiers = 0, level, have_variant = 0;
	struct phase variant;
	char *service_dir = NULL;

	if ((rc = workspace_open(&ws)))
		return rc;
	ph = learn_phase(&ws, NULL, &rc);
	if (!ph)
		goto out;
	if (check && !phase_check(ph, check)) {
		struct strbuf known = STRBUF_INIT;
		for (size_t i = 0; i < ph->nchecks; i++)
			strbuf_addf(&known, " %s", ph->checks[i].id);
		rc = cmd_fail(EXIT_USAGE, "hint: phase %d (%s) has no check '%s' (checks:%s)", ph->number, ph->title,
			      check, known.buf);
		strbuf_release(&known);
		goto out;
	}
	if ((rc = load_last(&ws, ph, &r, &su)))
		goto out;
	/* a suite: the first service with the failure asked about, named */
	for (size_t i = 0; i < su.nservices && !c; i++) {
		const struct report *sr = &su.services[i].report;

		for (size_t j = 0; j < sr->nchecks && !c; j++)
			if (check ? !strcmp(sr->checks[j].id, check) && sr->checks[j].status != CHECK_PASS
				  : sr->checks[j].status == CHECK_FAIL) {
				c = &sr->checks[j];
				service = su.services[i].name;
				from = sr;
			}
	}
	/* CHECK passed on every service: say so, as for one service */
	for (size_t i = 0; check && i < su.nservices && !c; i++)
		for (size_t j = 0; j < su.services[i].report.nchecks && !c; j++)
			if (!strcmp(su.services[i].report.checks[j].id, check))
				c = &su.services[i].report.checks[j];
	for (size_t i = 0; i < r.nchecks && !c; i++) {
		if (check ? !strcmp(r.checks[i].id, check) : r.checks[i].status == CHECK_FAIL)
			c = &r.checks[i];
	}
	if (!c || c->status == CHECK_PASS) {
		if (check && c)
			printf("'%s' passed in your last verification: nothing to hint.\n", check);
		else if (check)
			printf("'%s' was not verified in your last run: it belongs to a later step.\n", check);
		else
			printf("Nothing failed in your last verification%s.  Run `phaselab next` to verify again.\n",
			       r.nchecks || su.nservices ? "" : " (it ran no check)");
		goto out;
	}
	if (c->status != CHECK_FAIL) {
		/* a skip waits on another check, an error is not the learner's doing */
		struct strbuf shown = STRBUF_INIT;

		/* the id matched one of the phase's (CHECK was validated); the message is the file's text */
		escape_term(&shown, c->message, strlen(c->message), 0);
		if (service)
			printf("'%s' on %s did not run to a verdict: %s\n", c->id, service, shown.buf);
		else
			printf("'%s' did not run to a verdict: %s\n", c->id, shown.buf);
		strbuf_release(&shown);
		goto out;
	}
	/* a service in another language: its variant's hints; the folder as the learner knows it */
	{
		struct strbuf verr = STRBUF_INIT;
		const struct phase *use = ph;

		/* (a variant that cannot be had leaves the phase's own hints) */
		if (from->dir && phase_for_dir(ph, from->dir, &variant, &use, &verr) == 0 && use == &variant) {
			ph = &variant;
			have_variant = 1;
		}
		strbuf_release(&verr);
		service_dir = from->dir ? hint_service_dir(from->dir, ws.root) : NULL;
	}
	def = phase_check(ph, c->id);
	cause = result_cause_of(c);
	if (def)
		cc = check_def_cause(def, cause);
	if (cc) {
		/* the cause's own tiers: a nudge, the diagnosis with the evidence, the fix */
		for (size_t t = 0; t < cc->ntiers && t < 3; t++)
			tiers[ntiers++] = cc->tiers[t];
	} else {
		/* the tiers: the phase's nudge, then what was seen with its explanation, then the fix */
		if (def && def->nhints > 0)
			tiers[ntiers++] = def->hints[0];
		if ((c->hint && *c->hint) || (def && def->nhints > 1))
			tiers[ntiers++] = "";
		if (def && def->nhints > 2)
			tiers[ntiers++] = def->hints[2];
	}
	pp = progress_phase(&ws.pg, ph->id, 1);
	level = progress_hint_level(pp, c->id, cause);
	if (level >= ntiers)
		level = ntiers ? ntiers - 1 : 0;

	if (service)
		strbuf_addf(&md, "## Hint %d of %d for `%s` on %s: %s\n\n", ntiers ? level + 1 : 0, ntiers, c->id,
			    service, c->title);
	else
		strbuf_addf(&md, "## Hint %d of %d for `%s`: %s\n\n", ntiers ? level + 1 : 0, ntiers, c->id,
			    c->title);
	strbuf_addstr(&md, "What your last verification saw: ");
	add_hint_text(&md, c->message);
	if (!ntiers) {
		strbuf_addstr(&md, "There is no more to say than that, for this check.\n");
	} else if (cc) {
		struct strbuf filled = STRBUF_INIT;
		hint_fill_dir(&filled, tiers[level], c->evidence, service_dir);
		add_hint_text(&md, filled.buf);
		strbuf_release(&filled);
	} else if (*tiers[level]) {
		struct strbuf filled = STRBUF_INIT;
		hint_fill_dir_only(&filled, tiers[level], service_dir);
		add_hint_text(&md, filled.buf);
		strbuf_release(&filled);
	} else {
		if (c->hint && *c->hint)
			add_hint_text(&md, c->hint);
		if (def && def->nhints > 1) {
			struct strbuf filled = STRBUF_INIT;
			hint_fill_dir_only(&filled, def->hints[1], service_dir);
			add_hint_text(&md, filled.buf);
			strbuf_release(&filled);
		}
	}
	if (level + 1 < ntiers)
		strbuf_addstr(&md, "*Still stuck?  `phaselab hint` again says more.*\n");
	else if (ntiers)
		strbuf_addstr(&md, "*That is the fix.  Run `phaselab next` once it is in.*\n");
	mo.color = learn_color();
	mo.width = mdterm_width_of(1);
	mdterm_render(&out, md.buf, md.len, &mo);
	fwrite(out.buf, 1, out.len, stdout);
	if (level + 1 <= ntiers) {
		progress_set_hint_level(pp, c->id, cause, level + 1);
		rc = workspace_save(&ws);
	}
out:
	if (have_variant)
		phase_release(&variant);
	free(service_dir);
	report_release(&r);
	suite_release(&su);
	strbuf_release(&md);
	strbuf_release(&out);
	workspace_close(&ws);
	return rc;
}

const struct cmd_entry cmd_hint_entry = {
	.name = "hint",
	.args = "[CHECK]",
	.max_args = 1,
	.summary = "a hint for your last failure, more explicit each time",
	.about = "A hint for the first check that failed in your last `phaselab next` (or for CHECK, by "
		 "its id).  Each call for the same failure says more: a nudge first, the fix last.  The "
		 "levels start again once the check passes, or fails for another cause.",
	.exit_status = "0 a hint was shown (or nothing failed), 2 no workspace, no verification yet, or no such check",
	.exec = cmd_hint,
};
