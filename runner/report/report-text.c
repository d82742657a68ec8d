/*
 * The text report, for people at a terminal:
 *
 *   phase 03-containerization: Containerize the service
 *   target /home/learner/lab/service (commit 1a2b3c4, dirty)
 *
 *     PASS   20/20  The image builds — built in 41.2 s
 *     FAIL    0/10  The image is small — 1.21 GB, the limit is 250 MB
 *                   hint: Use a multi-stage build: ...
 *
 *   score 60/100, pass mark 70: NOT PASSED (12.3 s)
 *
 * Every line is wrapped at 80 columns (a word longer than that is left
 * whole): the header's, the checks' and the footer's; the lines of a message
 * or hint are kept, continuation lines are indented under the title.  The
 * footer counts fails, errors and skips apart ("1 check fails; 5 wait on
 * it").  Every string from the report goes through escape_term():
 * a build log must not be able to repaint the learner's terminal.
 */
#include "report/report.h"
#include "lib/escape.h"
#include "lib/strbuf.h"

#include <string.h>

#define TEXT_WIDTH 80
#define TEXT_MAX_LONG 4096  /* bytes of a message or hint before "… [truncated" */
#define TEXT_MAX_SHORT 1024 /* bytes of an id, a title, a directory */
#define TEXT_MAX_HANG 24    /* most a line's own indentation can add */
#define STATUS_WIDTH 5      /* "ERROR" */
#define HINT_LABEL "hint: "

#define SGR(code) "\x1b[" code "m"
#define SGR_RESET SGR("0")
#define SGR_BOLD SGR("1")

static const struct {
	const char *word;
	const char *sgr;
} status_look[] = {
	[CHECK_PASS] = { "PASS", SGR("32") },  /* green */
	[CHECK_FAIL] = { "FAIL", SGR("31") },  /* red */
	[CHECK_SKIP] = { "SKIP", SGR("33") },  /* yellow */
	[CHECK_ERROR] = { "ERROR", SGR("35") }, /* magenta */
};

static void add_spaces(struct strbuf *sb, size_t n)
{
	while (n--)
		strbuf_addch(sb, ' ');
}

/* Append report text s: bounded to max bytes, then made safe (escape.h). */
static void add_term(struct strbuf *sb, const char *s, size_t max, unsigned flags)
{
	escape_term_bounded(sb, s, s ? strlen(s) : 0, max, flags);
}

/*
 * Append text (escaped: its only control character is '\n') wrapped at
 * TEXT_WIDTH.  The output is at column col when called, and each further line
 * starts at column indent.  A line's own leading spaces are kept and also
 * indent its continuation lines, so that code in a hint keeps its shape.
 * Breaks happen only at spaces, which are then dropped; blank lines and
 * trailing spaces are not padded.  No newline is added at the end.
 */
static void add_wrapped(struct strbuf *sb, const char *text, size_t col, size_t indent)
{
	const char *line = text, *eol, *p, *word;
	size_t lead, hang, gap, width;
	int fresh;

	for (;; line = eol + 1) {
		eol = strchrnul(line, '\n');
		for (p = line; p < eol && *p == ' '; p++)
			;
		lead = (size_t)(p - line);
		hang = indent + (lead < TEXT_MAX_HANG ? lead : TEXT_MAX_HANG);
		if (line != text) {
			strbuf_addch(sb, '\n');
			col = 0;
		}
		if (p < eol) { /* blank lines stay empty: no trailing spaces */
			if (line != text) {
				add_spaces(sb, hang);
				col = hang;
			} else {
				strbuf_add(sb, line, lead);
				col += lead;
			}
		}
		/* fresh: nothing on this output line yet, so a word goes even if too wide */
		for (fresh = 1, gap = 0; p < eol; fresh = 0) {
			for (word = p; p < eol && *p != ' '; p++)
				;
			width = escape_columns(word, (size_t)(p - word));
			if (!fresh && col + gap + width > TEXT_WIDTH) {
				strbuf_addch(sb, '\n');
				add_spaces(sb, hang);
				col = hang;
			} else {
				add_spaces(sb, gap);
				col += gap;
			}
			strbuf_add(sb, word, (size_t)(p - word));
			col += width;
			for (gap = 0; p < eol && *p == ' '; p++)
				gap++;
		}
		if (!*eol)
			break;
	}
}

static void add_status(struct strbuf *sb, enum check_status s, int color)
{
	const char *word = "?", *sgr = NULL;

	if ((size_t)s < sizeof(status_look) / sizeof(status_look[0])) {
		word = status_look[s].word;
		sgr = status_look[s].sgr;
	}
	if (color && sgr)
		strbuf_addstr(sb, sgr);
	strbuf_addstr(sb, word);
	if (color && sgr)
		strbuf_addstr(sb, SGR_RESET);
	/* pad outside the colour so that the columns line up either way */
	add_spaces(sb, STATUS_WIDTH - strlen(word));
}

/* One header or footer line: built in line (escaped), wrapped as the check lines are. */
static void add_line_wrapped(struct strbuf *sb, struct strbuf *line, size_t indent)
{
	add_wrapped(sb, line->buf, 0, indent);
	strbuf_addch(sb, '\n');
	strbuf_reset(line);
}

static void add_header(struct strbuf *sb, const struct report *r)
{
	struct strbuf line = STRBUF_INIT;

	strbuf_addstr(&line, "phase ");
	add_term(&line, r->phase_id, TEXT_MAX_SHORT, 0);
	strbuf_addstr(&line, ": ");
	add_term(&line, r->phase_title, TEXT_MAX_SHORT, 0);
	add_line_wrapped(sb, &line, 2);
	strbuf_addstr(&line, "target ");
	add_term(&line, r->dir, TEXT_MAX_SHORT, 0);
	if (r->has_git) {
		size_t n = strnlen(r->commit, sizeof(r->commit));

		strbuf_addstr(&line, " (");
		if (n) {
			strbuf_addstr(&line, "commit ");
			escape_term(&line, r->commit, n < 7 ? n : 7, 0);
		} else {
			strbuf_addstr(&line, "no commit yet");
		}
		if (r->dirty)
			strbuf_addstr(&line, ", dirty");
		strbuf_addch(&line, ')');
	}
	add_line_wrapped(sb, &line, 2);
	strbuf_addch(sb, '\n');
	strbuf_release(&line);
}

void report_text_counts(struct strbuf *sb, const struct report *r)
{
	size_t n[4], failing;

	report_count_status(r, n);
	failing = n[CHECK_FAIL] + n[CHECK_ERROR];
	if (n[CHECK_FAIL])
		strbuf_addf(sb, "%zu check%s fail%s", n[CHECK_FAIL], n[CHECK_FAIL] == 1 ? "" : "s",
			    n[CHECK_FAIL] == 1 ? "s" : "");
	if (n[CHECK_ERROR])
		strbuf_addf(sb, "%s%zu%s could not be checked", n[CHECK_FAIL] ? ", " : "", n[CHECK_ERROR],
			    n[CHECK_FAIL] ? "" : n[CHECK_ERROR] == 1 ? " check" : " checks");
	if (n[CHECK_SKIP])
		strbuf_addf(sb, "%s%zu wait%s on %s", failing ? "; " : "", n[CHECK_SKIP],
			    n[CHECK_SKIP] == 1 ? "s" : "", failing == 1 ? "it" : failing ? "them" : "another check");
}

void report_text_wrap(struct strbuf *sb, const char *text, size_t col, size_t indent)
{
	struct strbuf safe = STRBUF_INIT;

	add_term(&safe, text, TEXT_MAX_LONG, ESCAPE_TERM_NEWLINES);
	add_wrapped(sb, safe.buf, col, indent);
	strbuf_release(&safe);
}

/* One check: status, points, "title — message", and the hint on fail or error. */
static void add_check(struct strbuf *sb, const struct check_result *c, int points_width,
		      int color)
{
	struct strbuf body = STRBUF_INIT;
	char points[32];
	size_t col = 2 + STATUS_WIDTH + 2 + (size_t)points_width + 2;

	strbuf_addstr(sb, "  ");
	add_status(sb, c->status, color);
	snprintf(points, sizeof(points), "%d/%d", c->points, c->max_points);
	strbuf_addf(sb, "  %*s  ", points_width, points);

	add_term(&body, c->title, TEXT_MAX_SHORT, 0);
	if (c->message && *c->message) {
		strbuf_addstr(&body, " \xe2\x80\x94 ");
		add_term(&body, c->message, TEXT_MAX_LONG, ESCAPE_TERM_NEWLINES);
		strbuf_rtrim(&body);
	}
	add_wrapped(sb, body.buf, col, col);
	strbuf_addch(sb, '\n');

	if ((c->status == CHECK_FAIL || c->status == CHECK_ERROR) && c->hint) {
		strbuf_reset(&body);
		add_term(&body, c->hint, TEXT_MAX_LONG, ESCAPE_TERM_NEWLINES);
		strbuf_rtrim(&body);
		if (body.len) {
			add_spaces(sb, col);
			strbuf_addstr(sb, HINT_LABEL);
			add_wrapped(sb, body.buf, col + strlen(HINT_LABEL),
				    col + strlen(HINT_LABEL));
			strbuf_addch(sb, '\n');
		}
	}
	strbuf_release(&body);
}

static void add_summary(struct strbuf *sb, const struct report *r, int color)
{
	long tenths = r->duration_ms > 0 ? (r->duration_ms + 50) / 100 : 0;
	struct strbuf line = STRBUF_INIT;
	size_t i, nerror = 0, n[4];

	strbuf_addch(sb, '\n');
	/* integer tenths: a locale's decimal comma has no say in the format */
	strbuf_addf(&line, "score %d/%d, pass mark %d: %s (%ld.%ld s)", r->score, r->max_score,
		    r->pass_mark, r->passed ? "PASSED" : "NOT PASSED", tenths / 10, tenths % 10);
	if (color)
		strbuf_addstr(sb, SGR_BOLD);
	add_wrapped(sb, line.buf, 0, 0);
	if (color)
		strbuf_addstr(sb, SGR_RESET);
	strbuf_addch(sb, '\n');
	strbuf_reset(&line);
	/* fails, errors and skips apart: "1 check fails; 5 wait on it", not "6 do not pass" */
	report_count_status(r, n);
	if (n[CHECK_FAIL] || n[CHECK_SKIP]) { /* errors alone: the note below says it */
		report_text_counts(&line, r);
		strbuf_addch(&line, '.');
		add_line_wrapped(sb, &line, 0);
	}
	strbuf_release(&line);

	for (i = 0; i < r->nchecks; i++)
		if (r->checks[i].status == CHECK_ERROR)
			nerror++;
	if (nerror) {
		/*
		 * Points come only with a pass, so an error does cost points:
		 * say whose fault it is and that the score is not the last word.
		 */
		struct strbuf note = STRBUF_INIT;

		strbuf_addf(&note,
			    "%zu item%s could not be checked (ERROR above): the harness or the "
			    "engine failed, not your work. %s no points, so this score is not "
			    "final: fix the environment and run the check again.",
			    nerror, nerror == 1 ? "" : "s", nerror == 1 ? "It scored" : "They scored");
		add_wrapped(sb, note.buf, 0, 0);
		strbuf_addch(sb, '\n');
		strbuf_release(&note);
	}
}

/* The report's lines into sb: the header and the score too when whole. */
static void text_into(struct strbuf *sb, const struct report *r, int color, int whole)
{
	int points_width = 0;
	size_t i;

	for (i = 0; i < r->nchecks; i++) {
		int n = snprintf(NULL, 0, "%d/%d", r->checks[i].points, r->checks[i].max_points);

		if (n > points_width)
			points_width = n;
	}

	if (whole)
		add_header(sb, r);
	for (i = 0; i < r->nchecks; i++)
		add_check(sb, &r->checks[i], points_width, color);
	if (whole)
		add_summary(sb, r, color);
}

static int write_text(const struct report *r, FILE *out, int color, int whole)
{
	struct strbuf sb = STRBUF_INIT;
	int ret = 0;

	text_into(&sb, r, color, whole);
	/* one write: a report is not printed halfway on an early error */
	if (fwrite(sb.buf, 1, sb.len, out) != sb.len || fflush(out) || ferror(out))
		ret = -1;
	strbuf_release(&sb);
	return ret;
}

int report_write_text(const struct report *r, FILE *out, int color)
{
	return write_text(r, out, color, 1);
}

int report_write_text_checks(const struct report *r, FILE *out, int color)
{
	return write_text(r, out, color, 0);
}

/*
 * A suite: its phase and folder, then each service headed by its name and
 * language and shown as its own report, then the suite's total.
 */
int suite_write_text(const struct suite *s, FILE *out, int color)
{
	long tenths = s->duration_ms > 0 ? (s->duration_ms + 50) / 100 : 0;
	struct strbuf sb = STRBUF_INIT, line = STRBUF_INIT;
	size_t i, npassed = 0;
	int ret = 0;

	strbuf_addstr(&line, "phase ");
	add_term(&line, s->phase_id, TEXT_MAX_SHORT, 0);
	strbuf_addstr(&line, ": ");
	add_term(&line, s->phase_title, TEXT_MAX_SHORT, 0);
	add_line_wrapped(&sb, &line, 2);
	strbuf_addf(&line, "system %zu service%s in ", s->nservices, s->nservices == 1 ? "" : "s");
	add_term(&line, s->dir, TEXT_MAX_SHORT, 0);
	if (s->has_git) {
		size_t n = strnlen(s->commit, sizeof(s->commit));

		strbuf_addstr(&line, n ? " (commit " : " (no commit yet");
		escape_term(&line, s->commit, n < 7 ? n : 7, 0);
		strbuf_addstr(&line, s->dirty ? ", dirty)" : ")");
	}
	add_line_wrapped(&sb, &line, 2);
	for (i = 0; i < s->nservices; i++) {
		const struct suite_service *sv = &s->services[i];

		npassed += sv->report.passed;
		strbuf_addch(&sb, '\n');
		if (color)
			strbuf_addstr(&sb, SGR_BOLD);
		strbuf_addstr(&line, "== service ");
		add_term(&line, sv->name, TEXT_MAX_SHORT, 0);
		strbuf_addstr(&line, " (");
		add_term(&line, sv->language, TEXT_MAX_SHORT, 0);
		strbuf_addstr(&line, ")");
		add_wrapped(&sb, line.buf, 0, 3);
		strbuf_reset(&line);
		if (color)
			strbuf_addstr(&sb, SGR_RESET);
		strbuf_addch(&sb, '\n');
		text_into(&sb, &sv->report, color, 1);
	}
	strbuf_addch(&sb, '\n');
	strbuf_addf(&line, "suite score %d/%d, pass mark %d: %s, %zu of %zu service%s passed (%ld.%ld s)",
		    s->score, s->max_score, s->pass_mark, s->passed ? "PASSED" : "NOT PASSED", npassed,
		    s->nservices, s->nservices == 1 ? "" : "s", tenths / 10, tenths % 10);
	if (color)
		strbuf_addstr(&sb, SGR_BOLD);
	add_wrapped(&sb, line.buf, 0, 0);
	if (color)
		strbuf_addstr(&sb, SGR_RESET);
	strbuf_addch(&sb, '\n');

	if (fwrite(sb.buf, 1, sb.len, out) != sb.len || fflush(out) || ferror(out))
		ret = -1;
	strbuf_release(&sb);
	strbuf_release(&line);
	return ret;
}
