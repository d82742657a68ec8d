/*
 * The Markdown report (--format markdown), GitHub-flavoured, for a CI step
 * summary ($GITHUB_STEP_SUMMARY) or a pull-request comment:
 *
 *   ## Containerize the service: NOT PASSED
 *
 *   **Score 60/100** · pass mark 70 · 4 passed, 2 failed, 1 error, 1 skipped · 12.3 s
 *
 *   > **1 item could not be checked** (ERROR below): ...
 *
 *   | Status | Points | Item | What was observed |
 *   | :-- | --: | :-- | :-- |
 *   | **FAIL** | 0/10 | The image is small<br><sub>size</sub> | the image is 1.21 GB ... |
 *
 *   ### How to fix
 *
 *   #### The image is small (size)
 *
 *   Use a multi-stage build: ...      (prose: a paragraph, lines kept)
 *
 *   ```                               (indented lines: a code block)
 *   FROM node:20 AS build
 *   ```
 *
 *   ---
 *
 *   - **Phase:** ..., **Target:** ..., **Commit:** ..., **Engine:** ...
 *
 * Status is a word, never an emoji or a colour alone.  A hint is shown for a
 * fail and an error, as in the text report.  Every string from the report
 * goes through escape_md() (inline) or escape_md_code_block() (code): nothing
 * the learner wrote becomes markup, HTML, a link or a table column.
 *
 * Bounds, in bytes before escaping: 256 for titles, ids and the footer's
 * fields, 1 KiB for an observation in the table, 4 KiB for a hint.  And the
 * whole document stays within GitHub's limit for a comment, 65536
 * characters (a step summary may hold 1 MiB): an observation or a hint that
 * would not fit is left out, and a note at the end says so.
 */
#include "report/report.h"
#include "lib/escape.h"
#include "report/hint.h"
#include "lib/strbuf.h"
#include "lib/xalloc.h"

#include <string.h>

#define MD_MAX_SHORT 256
#define MD_MAX_CELL 1024
#define MD_MAX_HINT 4096
#define MD_LIMIT 65536     /* GitHub's comment limit, in characters; bytes are at least as many */
#define MD_NOTE_ROOM 512   /* the note saying what was left out */

static const char *const status_word[] = {
	[CHECK_PASS] = "PASS",
	[CHECK_FAIL] = "**FAIL**",
	[CHECK_SKIP] = "SKIP",
	[CHECK_ERROR] = "**ERROR**",
};

struct left_out {
	size_t observations, hints, items;
};

/* A string of the report as inline Markdown: NULL is empty. */
static void add_md(struct strbuf *sb, const char *s, size_t max, unsigned flags)
{
	if (s)
		escape_md(sb, s, strlen(s), max, flags);
}

static void add_duration(struct strbuf *sb, long ms)
{
	long tenths = ms > 0 ? (ms + 50) / 100 : 0;

	/* integer tenths: a locale's decimal comma has no say in the format */
	strbuf_addf(sb, "%ld.%ld s", tenths / 10, tenths % 10);
}

static void add_header(struct strbuf *sb, const struct report *r)
{
	size_t i, n[4];
	static const char *const names[] = {
		[CHECK_PASS] = "passed",
		[CHECK_FAIL] = "failed",
		[CHECK_ERROR] = "error",
		[CHECK_SKIP] = "skipped",
	};
	static const enum check_status order[] = { CHECK_PASS, CHECK_FAIL, CHECK_ERROR, CHECK_SKIP };
	const char *sep = "";

	report_count_status(r, n);

	strbuf_addstr(sb, "## ");
	add_md(sb, r->phase_title && *r->phase_title ? r->phase_title : r->phase_id,
	       MD_MAX_SHORT, 0);
	strbuf_addf(sb, ": %s\n\n", r->passed ? "PASSED" : "NOT PASSED");

	strbuf_addf(sb, "**Score %d/%d** \xc2\xb7 pass mark %d \xc2\xb7 ", r->score, r->max_score,
		    r->pass_mark);
	for (i = 0; i < ARRAY_SIZE(order); i++) {
		if (!n[order[i]])
			continue;
		strbuf_addf(sb, "%s%zu %s", sep, n[order[i]],
			    order[i] == CHECK_ERROR && n[order[i]] > 1 ? "errors" : names[order[i]]);
		sep = ", ";
	}
	if (!r->nchecks)
		strbuf_addstr(sb, "no items");
	strbuf_addstr(sb, " \xc2\xb7 ");
	add_duration(sb, r->duration_ms);
	strbuf_addstr(sb, "\n\n");

	if (n[CHECK_ERROR])
		/* as in the text report: an error costs points, say whose it is */
		strbuf_addf(sb, "> **%zu item%s could not be checked** (ERROR below): the harness or "
			    "the engine failed, not your work. %s no points, so this score is not "
			    "final: fix the environment and run the check again.\n\n",
			    n[CHECK_ERROR], n[CHECK_ERROR] == 1 ? "" : "s",
			    n[CHECK_ERROR] == 1 ? "It scored" : "They scored");
}

/* One table row; the observation only when full is set. */
static void add_row(struct strbuf *sb, const struct check_result *c, int full)
{
	strbuf_addf(sb, "| %s | %d/%d | ",
		    (size_t)c->status < ARRAY_SIZE(status_word) ? status_word[c->status] : "?",
		    c->points, c->max_points);
	add_md(sb, c->title, MD_MAX_SHORT, 0);
	strbuf_addstr(sb, "<br><sub>");
	add_md(sb, c->id, MD_MAX_SHORT, 0);
	strbuf_addstr(sb, "</sub> | ");
	if (full)
		add_md(sb, c->message, MD_MAX_CELL, ESCAPE_MD_BR);
	else
		strbuf_addstr(sb, "*left out: see the note at the end*");
	strbuf_addstr(sb, " |\n");
}

static void emit_md(void *ctx, int is_code, const char *text, size_t len)
{
	struct strbuf *sb = ctx;

	if (is_code) {
		escape_md_code_block(sb, text, len, len, NULL);
		strbuf_addch(sb, '\n');
	} else {
		escape_md(sb, text, len, len, ESCAPE_MD_BR);
		strbuf_addstr(sb, "\n\n");
	}
}

/* A hint (cleaned and bounded) as paragraphs and fenced code, as hint.h reads it. */
static void add_hint_blocks(struct strbuf *sb, const char *clean)
{
	hint_blocks(clean, emit_md, sb);
}

static void add_hint(struct strbuf *sb, const struct check_result *c)
{
	struct strbuf clean = STRBUF_INIT;

	strbuf_addstr(sb, "#### ");
	add_md(sb, c->title, MD_MAX_SHORT, 0);
	strbuf_addstr(sb, " (");
	add_md(sb, c->id, MD_MAX_SHORT, 0);
	strbuf_addstr(sb, c->status == CHECK_ERROR ? "), could not be checked\n\n" : ")\n\n");

	/* bound and clean once, here, so that the blocks are cut from what is shown */
	escape_term_bounded(&clean, c->hint, strlen(c->hint), MD_MAX_HINT, ESCAPE_TERM_NEWLINES);
	add_hint_blocks(sb, clean.buf);
	strbuf_release(&clean);
}

/* A commit hash in a code span only when it is one (hex); else as text. */
static void add_commit(struct strbuf *sb, const struct report *r)
{
	size_t n = strnlen(r->commit, sizeof(r->commit));

	if (!n) {
		strbuf_addstr(sb, "none yet");
	} else if (strspn(r->commit, "0123456789abcdef") >= n) {
		strbuf_addch(sb, '`');
		strbuf_add(sb, r->commit, n);
		strbuf_addch(sb, '`');
	} else {
		escape_md(sb, r->commit, n, MD_MAX_SHORT, 0);
	}
	if (r->dirty)
		strbuf_addstr(sb, " (with uncommitted changes)");
}

static void add_footer(struct strbuf *sb, const struct report *r)
{
	strbuf_addstr(sb, "---\n\n- **Phase:** ");
	add_md(sb, r->phase_id, MD_MAX_SHORT, 0);
	strbuf_addstr(sb, "\n- **Target:** ");
	add_md(sb, r->dir, MD_MAX_SHORT, 0);
	if (r->has_git) {
		strbuf_addstr(sb, "\n- **Commit:** ");
		add_commit(sb, r);
	}
	strbuf_addstr(sb, "\n- **Engine:** ");
	add_md(sb, r->engine_kind && *r->engine_kind ? r->engine_kind : "docker", MD_MAX_SHORT, 0);
	strbuf_addstr(sb, r->engine_remote ? " (remote), client " : ", client ");
	add_md(sb, r->engine_client, MD_MAX_SHORT, 0);
	strbuf_addstr(sb, ", server ");
	add_md(sb, r->engine_server, MD_MAX_SHORT, 0);
	strbuf_addstr(sb, ", ");
	add_md(sb, r->builder, MD_MAX_SHORT, 0);
	strbuf_addstr(sb, " builder\n- **Started:** ");
	escape_md(sb, r->started_at, strnlen(r->started_at, sizeof(r->started_at)), MD_MAX_SHORT, 0);
	strbuf_addstr(sb, ", took ");
	add_duration(sb, r->duration_ms);
	strbuf_addstr(sb, "\n\n<sub>phaselab report, schema phaselab.report/v1</sub>\n");
}

/* Append part to sb if what was added since start stays within room bytes; 1 if it did. */
static int fits_from(struct strbuf *sb, size_t start, const struct strbuf *part, size_t room)
{
	if (sb->len - start + part->len > room)
		return 0;
	strbuf_add(sb, part->buf, part->len);
	return 1;
}

/*
 * The report into sb, within limit bytes.  A suite's service (service not
 * NULL) is headed by its name and language, a level down.
 */
static void md_render(struct strbuf *sb, const struct report *r, size_t limit, const char *service,
		      const char *language)
{
	struct strbuf footer = STRBUF_INIT, part = STRBUF_INIT;
	struct left_out left = { 0, 0, 0 };
	size_t i, room, start = sb->len;
	int any_hint = 0;

	/* the footer first: what it takes is known before anything is left out */
	add_footer(&footer, r);
	room = limit > MD_NOTE_ROOM + footer.len ? limit - MD_NOTE_ROOM - footer.len : 0;

	if (service) {
		strbuf_addstr(sb, "## ");
		add_md(sb, service, MD_MAX_SHORT, 0);
		strbuf_addstr(sb, " (");
		add_md(sb, language, MD_MAX_SHORT, 0);
		strbuf_addstr(sb, ")\n\n#");
	}
	add_header(sb, r);
	strbuf_addstr(sb, "| Status | Points | Item | What was observed |\n"
			   "| :-- | --: | :-- | :-- |\n");
	for (i = 0; i < r->nchecks; i++) {
		strbuf_reset(&part);
		add_row(&part, &r->checks[i], 1);
		if (fits_from(sb, start, &part, room))
			continue;
		strbuf_reset(&part);
		add_row(&part, &r->checks[i], 0);
		if (fits_from(sb, start, &part, room))
			left.observations++;
		else
			left.items++;
	}
	strbuf_addch(sb, '\n');

	for (i = 0; i < r->nchecks; i++) {
		const struct check_result *c = &r->checks[i];

		if ((c->status != CHECK_FAIL && c->status != CHECK_ERROR) || !c->hint || !*c->hint)
			continue;
		strbuf_reset(&part);
		if (!any_hint)
			strbuf_addstr(&part, "### How to fix\n\n");
		add_hint(&part, c);
		if (fits_from(sb, start, &part, room))
			any_hint = 1;
		else
			left.hints++;
	}

	if (left.observations || left.hints || left.items)
		strbuf_addf(sb, "> **Left out** to stay within GitHub's 65536-character limit: "
			    "%zu observation%s, %zu hint%s, %zu item%s. The text, JSON and HTML "
			    "reports have everything.\n\n",
			    left.observations, left.observations == 1 ? "" : "s",
			    left.hints, left.hints == 1 ? "" : "s",
			    left.items, left.items == 1 ? "" : "s");
	strbuf_add(sb, footer.buf, footer.len);
	strbuf_release(&footer);
	strbuf_release(&part);
}

int report_write_markdown(const struct report *r, FILE *out)
{
	struct strbuf sb = STRBUF_INIT;

	md_render(&sb, r, MD_LIMIT, NULL, NULL);
	return report_write_buf(&sb, out, 0);
}

/*
 * A suite: its verdict and total, then each service as its own report (a
 * heading level down), each within an equal share of the comment limit.
 */
int suite_write_markdown(const struct suite *s, FILE *out)
{
	struct strbuf sb = STRBUF_INIT, part = STRBUF_INIT;
	size_t i, npassed = 0, share, rows_out = 0, sections_out = 0;

	for (i = 0; i < s->nservices; i++)
		npassed += s->services[i].report.passed;
	strbuf_addstr(&sb, "# ");
	add_md(&sb, s->phase_title && *s->phase_title ? s->phase_title : s->phase_id, MD_MAX_SHORT, 0);
	strbuf_addf(&sb, ": %s\n\n**Score %d/%d** \xc2\xb7 pass mark %d \xc2\xb7 %zu of %zu service%s passed "
		    "\xc2\xb7 ", s->passed ? "PASSED" : "NOT PASSED", s->score, s->max_score, s->pass_mark,
		    npassed, s->nservices, s->nservices == 1 ? "" : "s");
	add_duration(&sb, s->duration_ms);
	strbuf_addstr(&sb, "\n\n| Service | Language | Score | Verdict |\n| :-- | :-- | --: | :-- |\n");
	for (i = 0; i < s->nservices; i++) {
		const struct suite_service *sv = &s->services[i];

		strbuf_reset(&part);
		strbuf_addstr(&part, "| ");
		add_md(&part, sv->name, MD_MAX_SHORT, 0);
		strbuf_addstr(&part, " | ");
		add_md(&part, sv->language, MD_MAX_SHORT, 0);
		strbuf_addf(&part, " | %d/%d | %s |\n", sv->report.score, sv->report.max_score,
			    sv->report.passed ? "PASSED" : "NOT PASSED");
		if (!fits_from(&sb, 0, &part, MD_LIMIT - MD_NOTE_ROOM))
			rows_out++;
	}
	strbuf_addch(&sb, '\n');
	share = s->nservices && sb.len + MD_NOTE_ROOM < MD_LIMIT ? (MD_LIMIT - MD_NOTE_ROOM - sb.len) / s->nservices : 0;
	for (i = 0; i < s->nservices; i++) {
		/* a service's section within its share, or left out whole (the note says how many) */
		strbuf_reset(&part);
		md_render(&part, &s->services[i].report, share, s->services[i].name, s->services[i].language);
		if (part.len > share || !fits_from(&sb, 0, &part, MD_LIMIT - MD_NOTE_ROOM))
			sections_out++;
	}
	if (rows_out || sections_out)
		strbuf_addf(&sb, "> **Left out** to stay within GitHub's 65536-character limit: %zu row%s of "
			    "the table, %zu service%s. The text, JSON and HTML reports have everything.\n",
			    rows_out, rows_out == 1 ? "" : "s", sections_out, sections_out == 1 ? "" : "s");
	strbuf_release(&part);
	return report_write_buf(&sb, out, 0);
}
