#include "grade/summary.h"
#include "lib/escape.h"
#include "lib/fsutil.h"
#include "lib/git.h"
#include "core/phase.h"
#include "lib/strbuf.h"
#include "lib/timeutil.h"
#include "lib/xalloc.h"

#include <stdlib.h>
#include <string.h>

static void html(struct strbuf *sb, const char *s)
{
	escape_html(sb, s, strlen(s), 1024);
}

void summary_row_pick(struct summary_row *row, const struct git_pick *pick, int has_deadline, long long deadline)
{
	row->commit = pick->commit;
	row->committed_at = pick->committed_at;
	row->late = pick->commit[0] && has_deadline && pick->committed_at > deadline;
	row->commits_after_deadline = pick->after_deadline - row->late;
}

static void csv_field(struct strbuf *sb, const char *s)
{
	/* a learner's text starting with = + - @ would be a formula in a spreadsheet */
	int quote = strpbrk(s, ",\"\n\r") != NULL || strchr("=+-@", *s);

	if (!*s)
		return;
	if (!quote) {
		strbuf_addstr(sb, s);
		return;
	}
	strbuf_addch(sb, '"');
	if (strchr("=+-@", *s))
		strbuf_addch(sb, '\'');
	for (; *s; s++) {
		if (*s == '"')
			strbuf_addch(sb, '"');
		strbuf_addch(sb, *s);
	}
	strbuf_addch(sb, '"');
}

void summary_gradebook_csv(struct strbuf *sb, const struct phase *ph, const struct summary_row *rows, size_t n)
{
	strbuf_addstr(sb, "learner,commit,committed_at,late,commits_after_deadline,score,max_score,passed");
	for (size_t k = 0; k < ph->nchecks; k++)
		if (ph->checks[k].graded) /* a step's gate is not a column of the gradebook */
			strbuf_addf(sb, ",%s", ph->checks[k].id);
	strbuf_addch(sb, '\n');
	for (size_t i = 0; i < n; i++) {
		const struct summary_row *r = &rows[i];
		char when[32] = "";

		if (r->commit[0])
			format_time_utc(r->committed_at, when, sizeof(when));
		csv_field(sb, r->learner);
		strbuf_addf(sb, ",%s,%s,%s,%d,%d,%d,%s", r->commit, when, r->late ? "true" : "false",
			    r->commits_after_deadline, r->score, r->max_score, r->graded && r->passed ? "true" : "false");
		for (size_t k = 0; k < ph->nchecks; k++)
			if (ph->checks[k].graded)
				strbuf_addf(sb, ",%s", r->statuses[k]);
		strbuf_addch(sb, '\n');
	}
}

static const char style[] =
	"body{font:15px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1d232a;background:#f5f6f8}"
	"main{max-width:960px;margin:0 auto;padding:24px}"
	"h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 10px}"
	".meta{color:#5b6570;margin:0 0 16px}"
	".cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:12px}"
	".card{background:#fff;border:1px solid #dde1e6;border-radius:8px;padding:12px 14px}"
	".card b{display:block;font-size:26px}"
	"table{border-collapse:collapse;width:100%;background:#fff;border:1px solid #dde1e6;border-radius:8px}"
	"th,td{text-align:left;padding:7px 10px;border-bottom:1px solid #eceff2;vertical-align:top}"
	"th{background:#fafbfc;font-weight:600}"
	".bar{background:#eceff2;border-radius:4px;height:14px;min-width:160px;position:relative}"
	".bar span{display:block;height:14px;border-radius:4px;background:#2f9e44}"
	".bar.low span{background:#e03131}.bar.mid span{background:#f08c00}"
	".hist{display:flex;align-items:flex-end;gap:6px;height:140px;background:#fff;border:1px solid #dde1e6;"
	"border-radius:8px;padding:12px 12px 0}"
	".hist div{flex:1;text-align:center;font-size:12px;color:#5b6570}"
	".hist i{display:block;background:#4263eb;border-radius:3px 3px 0 0;margin:0 auto 4px;width:70%}"
	".st{font-size:12px;font-weight:600;padding:1px 6px;border-radius:4px}"
	".pass{background:#d3f9d8;color:#2b8a3e}.fail{background:#ffe3e3;color:#c92a2a}"
	".skip{background:#fff3bf;color:#a06000}.error{background:#f3d9fa;color:#862e9c}"
	"a{color:#364fc7}"
	"@media print{body{background:#fff}.card,table,.hist{border-color:#999}}";

int summary_write(const char *out_dir, const struct phase *ph, const char *deadline,
		  const struct summary_row *rows, size_t n)
{
	struct strbuf sb = STRBUF_INIT;
	size_t graded = 0, passed = 0, late = 0, hist[10] = { 0 }, hist_max = 1;
	char now[40];
	char *path;
	int rc;

	for (size_t i = 0; i < n; i++) {
		if (!rows[i].graded)
			continue;
		graded++;
		passed += rows[i].passed;
		late += rows[i].late;
		if (rows[i].max_score > 0) {
			size_t b = (size_t)(rows[i].score * 10 / rows[i].max_score);
			hist[b > 9 ? 9 : b]++;
		}
	}
	for (size_t b = 0; b < 10; b++)
		if (hist[b] > hist_max)
			hist_max = hist[b];
	rfc3339_now(now, sizeof(now));

	strbuf_addstr(&sb, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
		      "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
		      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">"
		      "<title>Class summary: ");
	html(&sb, ph->id);
	strbuf_addf(&sb, "</title><style>%s</style></head><body><main>\n<h1>", style);
	html(&sb, ph->title);
	strbuf_addstr(&sb, "</h1>\n<p class=\"meta\">phase ");
	html(&sb, ph->id);
	if (deadline) {
		strbuf_addstr(&sb, " &middot; deadline ");
		html(&sb, deadline);
	}
	strbuf_addf(&sb, " &middot; graded %s</p>\n", now);

	strbuf_addf(&sb, "<div class=\"cards\"><div class=\"card\"><b>%zu</b>learners</div>"
		    "<div class=\"card\"><b>%zu</b>passed</div><div class=\"card\"><b>%zu</b>not passed</div>"
		    "<div class=\"card\"><b>%zu</b>late</div><div class=\"card\"><b>%zu</b>not graded</div></div>\n",
		    n, passed, graded - passed, late, n - graded);

	strbuf_addstr(&sb, "<h2>Items: where the class struggles</h2>\n<table><tr><th>item</th><th>passed</th>"
		      "<th></th><th>failed</th><th>skipped</th><th>errors</th></tr>\n");
	for (size_t k = 0; k < ph->nchecks; k++) {
		size_t cnt[4] = { 0 }; /* pass fail skip error */
		int pct;

		if (!ph->checks[k].graded)
			continue;
		for (size_t i = 0; i < n; i++) {
			const char *st = rows[i].graded ? rows[i].statuses[k] : NULL;
			if (!st)
				continue;
			cnt[!strcmp(st, "pass") ? 0 : !strcmp(st, "fail") ? 1 : !strcmp(st, "skip") ? 2 : 3]++;
		}
		pct = graded ? (int)(100 * cnt[0] / graded) : 0;
		strbuf_addstr(&sb, "<tr><td><b>");
		html(&sb, ph->checks[k].id);
		strbuf_addstr(&sb, "</b><br>");
		html(&sb, ph->checks[k].title);
		strbuf_addf(&sb, "</td><td>%d%%</td><td><div class=\"bar%s\"><span style=\"width:%d%%\"></span></div></td>"
			    "<td>%zu</td><td>%zu</td><td>%zu</td></tr>\n", pct,
			    pct < 50 ? " low" : pct < 80 ? " mid" : "", pct, cnt[1], cnt[2], cnt[3]);
	}
	strbuf_addstr(&sb, "</table>\n<h2>Score distribution</h2>\n<div class=\"hist\">");
	for (size_t b = 0; b < 10; b++)
		strbuf_addf(&sb, "<div><i style=\"height:%zupx\"></i>%zu<br>%zu&ndash;%zu%%</div>",
			    hist[b] * 90 / hist_max + (hist[b] ? 2 : 0), hist[b], b * 10, b == 9 ? 100 : b * 10 + 9);
	strbuf_addstr(&sb, "</div>\n<h2>Who has not passed</h2>\n<table><tr><th>learner</th><th>score</th>"
		      "<th>commit</th><th>what failed</th></tr>\n");
	for (size_t i = 0; i < n; i++) {
		const struct summary_row *r = &rows[i];
		if (r->graded && r->passed)
			continue;
		strbuf_addstr(&sb, "<tr><td>");
		if (r->graded) {
			strbuf_addstr(&sb, "<a href=\"");
			html(&sb, r->learner);
			strbuf_addstr(&sb, "/report.html\">");
			html(&sb, r->learner);
			strbuf_addstr(&sb, "</a>");
		} else {
			html(&sb, r->learner);
		}
		strbuf_addf(&sb, "</td><td>%d/%d%s</td><td><code>", r->score, r->max_score, r->late ? " (late)" : "");
		html(&sb, r->commit[0] ? r->commit : "none");
		strbuf_addstr(&sb, "</code></td><td>");
		if (!r->graded) {
			strbuf_addstr(&sb, "<span class=\"st error\">not graded</span> ");
			html(&sb, r->problem ? r->problem : "");
		} else {
			for (size_t k = 0; k < ph->nchecks; k++) {
				if (!ph->checks[k].graded || !strcmp(r->statuses[k], "pass"))
					continue;
				strbuf_addf(&sb, "<span class=\"st %s\">", r->statuses[k]);
				html(&sb, ph->checks[k].id);
				strbuf_addstr(&sb, "</span> ");
			}
		}
		strbuf_addstr(&sb, "</td></tr>\n");
	}
	strbuf_addstr(&sb, "</table>\n<p class=\"meta\">Each learner's full report: <code>&lt;learner&gt;/report.html</code>; "
		      "every row: <code>gradebook.csv</code>.</p>\n</main></body></html>\n");

	path = xasprintf("%s/summary.html", out_dir);
	rc = write_file_atomic(path, sb.buf, sb.len);
	free(path);
	strbuf_release(&sb);
	return rc;
}
