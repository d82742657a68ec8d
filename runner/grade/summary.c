#include "grade/summary.h"
#include "lib/escape.h"
#include "lib/fsutil.h"
#include "lib/git.h"
#include "core/phase.h"
#include "report/report.h"
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

int summary_max_points(const struct phase *ph)
{
	int max = 0;

	for (size_t k = 0; k < ph->nchecks; k++)
		max += ph->checks[k].points;
	return max;
}

/* base's learner and commit fields into a fresh row of a class of systems. */
static void row_from(struct summary_row *row, const struct summary_row *base, const struct phase *ph)
{
	memset(row, 0, sizeof(*row));
	row->learner = base->learner;
	row->commit = base->commit;
	row->committed_at = base->committed_at;
	row->late = base->late;
	row->commits_after_deadline = base->commits_after_deadline;
	row->problem = base->problem;
	row->engine = base->engine;
	row->language = "";
	row->statuses = xcalloc(ph->nchecks ? ph->nchecks : 1, sizeof(char *));
}

/* One service's row from its report (NULL or an empty one: not verified). */
static void row_of_report(struct summary_row *row, const struct phase *ph, const struct report *r)
{
	row->graded = r && r->phase_id;
	row->score = row->graded ? r->score : 0;
	row->max_score = row->graded ? r->max_score : summary_max_points(ph);
	row->passed = row->graded && r->passed;
	for (size_t k = 0; k < ph->nchecks; k++) {
		row->statuses[k] = "error";
		for (size_t j = 0; row->graded && j < r->nchecks; j++)
			if (!strcmp(r->checks[j].id, ph->checks[k].id)) {
				row->statuses[k] = check_status_name(r->checks[j].status);
				break;
			}
	}
}

size_t summary_rows_suite(struct summary_row *rows, const struct summary_row *base, const struct phase *ph,
			  const struct suite *s)
{
	for (size_t i = 0; i < s->nservices; i++) {
		const struct suite_service *sv = &s->services[i];

		row_from(&rows[i], base, ph);
		rows[i].service = sv->name;
		rows[i].language = sv->language ? sv->language : "";
		row_of_report(&rows[i], ph, &sv->report);
	}
	row_from(&rows[s->nservices], base, ph);
	summary_total(&rows[s->nservices], rows, s->nservices, ph);
	return s->nservices + 1;
}

size_t summary_rows_report(struct summary_row *rows, const struct summary_row *base, const struct phase *ph,
			   const struct report *r, const char *service)
{
	row_from(&rows[0], base, ph);
	rows[0].service = service;
	row_of_report(&rows[0], ph, r);
	row_from(&rows[1], base, ph);
	summary_total(&rows[1], rows, 1, ph);
	return 2;
}

size_t summary_rows_ungraded(struct summary_row *rows, const struct summary_row *base, const struct phase *ph,
			     const char *const *names, size_t n, const char *status)
{
	for (size_t i = 0; i < n; i++) {
		row_from(&rows[i], base, ph);
		rows[i].service = names[i];
		rows[i].max_score = summary_max_points(ph);
		for (size_t k = 0; k < ph->nchecks; k++)
			rows[i].statuses[k] = status;
	}
	row_from(&rows[n], base, ph);
	summary_total(&rows[n], rows, n, ph);
	if (!n) /* no service known: the total still says what the items are */
		for (size_t k = 0; k < ph->nchecks; k++)
			rows[n].statuses[k] = status;
	return n + 1;
}

void summary_total(struct summary_row *total, const struct summary_row *services, size_t n, const struct phase *ph)
{
	/* the learner's own failure first, then what could not be decided */
	static const char *const worst[] = { "fail", "error", "skip" };

	total->service = SUMMARY_TOTAL;
	total->language = "";
	total->total = 1;
	total->score = total->max_score = 0;
	/* graded: the learner's check ran (a service it could not verify says "error") */
	total->graded = 0;
	total->passed = n > 0;
	for (size_t i = 0; i < n; i++) {
		total->score += services[i].score;
		total->max_score += services[i].max_score;
		total->graded |= services[i].graded;
		total->passed &= services[i].graded && services[i].passed;
	}
	for (size_t k = 0; k < ph->nchecks; k++) {
		total->statuses[k] = "pass";
		for (size_t w = 0; w < ARRAY_SIZE(worst) && !strcmp(total->statuses[k], "pass"); w++)
			for (size_t i = 0; i < n; i++)
				if (!strcmp(services[i].statuses[k], worst[w])) {
					total->statuses[k] = worst[w];
					break;
				}
	}
}

void summary_rows_release(struct summary_row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(rows[i].statuses);
		rows[i].statuses = NULL;
	}
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

/* 1 when some row names a service: a class of systems. */
static int has_services(const struct summary_row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (rows[i].service)
			return 1;
	return 0;
}

/* 1 when some row has an engine: a class over several engines, with an engine column. */
static int has_engines(const struct summary_row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (rows[i].engine)
			return 1;
	return 0;
}

void summary_gradebook_csv(struct strbuf *sb, const struct phase *ph, const struct summary_row *rows, size_t n)
{
	int systems = has_services(rows, n), engines = has_engines(rows, n);

	strbuf_addstr(sb, systems ? "learner,service,language" : "learner");
	strbuf_addstr(sb, ",commit,committed_at,late,commits_after_deadline,score,max_score,passed");
	for (size_t k = 0; k < ph->nchecks; k++)
		if (ph->checks[k].graded) /* a step's gate is not a column of the gradebook */
			strbuf_addf(sb, ",%s", ph->checks[k].id);
	/* last, so that the columns before it stay where a single-engine gradebook has them */
	if (engines)
		strbuf_addstr(sb, ",engine");
	strbuf_addch(sb, '\n');
	for (size_t i = 0; i < n; i++) {
		const struct summary_row *r = &rows[i];
		char when[32] = "";

		if (r->commit[0])
			format_time_utc(r->committed_at, when, sizeof(when));
		csv_field(sb, r->learner);
		if (systems) {
			strbuf_addch(sb, ',');
			csv_field(sb, r->service ? r->service : "");
			strbuf_addch(sb, ',');
			csv_field(sb, r->language ? r->language : "");
		}
		strbuf_addf(sb, ",%s,%s,%s,%d,%d,%d,%s", r->commit, when, r->late ? "true" : "false",
			    r->commits_after_deadline, r->score, r->max_score, r->graded && r->passed ? "true" : "false");
		for (size_t k = 0; k < ph->nchecks; k++)
			if (ph->checks[k].graded)
				strbuf_addf(sb, ",%s", r->statuses[k]);
		if (engines) {
			strbuf_addch(sb, ',');
			csv_field(sb, r->engine ? r->engine : "");
		}
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

/* A row that stands for a learner: today's one row, or a system's TOTAL. */
static int learner_row(const struct summary_row *r)
{
	return !r->service || r->total;
}

/* Where a status counts: pass fail skip error. */
static size_t status_index(const char *st)
{
	return !strcmp(st, "pass") ? 0 : !strcmp(st, "fail") ? 1 : !strcmp(st, "skip") ? 2 : 3;
}

/* Is r a row of service name (not a learner's TOTAL)? */
static int row_of_service(const struct summary_row *r, const char *name)
{
	return !learner_row(r) && !strcmp(r->service, name);
}

/*
 * A class of systems: services x items, each cell "passed/graded" over the
 * learners that have the service, in the order the services first appear.
 */
static void services_table(struct strbuf *sb, const struct phase *ph, const struct summary_row *rows, size_t n)
{
	strbuf_addstr(sb, "<h2>Services: pass rates per item</h2>\n<table><tr><th>service</th><th>passed</th>");
	for (size_t k = 0; k < ph->nchecks; k++) {
		if (!ph->checks[k].graded)
			continue;
		strbuf_addstr(sb, "<th>");
		html(sb, ph->checks[k].id);
		strbuf_addstr(sb, "</th>");
	}
	strbuf_addstr(sb, "</tr>\n");
	for (size_t i = 0; i < n; i++) {
		const char *name = rows[i].service;
		size_t graded = 0, passed = 0, seen = 0;

		if (learner_row(&rows[i]))
			continue;
		for (size_t j = 0; j < i && !seen; j++)
			seen = row_of_service(&rows[j], name);
		if (seen)
			continue;
		for (size_t j = i; j < n; j++)
			if (rows[j].graded && row_of_service(&rows[j], name)) {
				graded++;
				passed += rows[j].passed;
			}
		strbuf_addstr(sb, "<tr><td><b>");
		html(sb, name);
		strbuf_addf(sb, "</b></td><td>%zu/%zu</td>", passed, graded);
		for (size_t k = 0; k < ph->nchecks; k++) {
			size_t ok = 0;

			if (!ph->checks[k].graded)
				continue;
			for (size_t j = i; j < n; j++)
				if (rows[j].graded && row_of_service(&rows[j], name))
					ok += !strcmp(rows[j].statuses[k], "pass");
			strbuf_addf(sb, "<td>%zu/%zu</td>", ok, graded);
		}
		strbuf_addstr(sb, "</tr>\n");
	}
	strbuf_addstr(sb, "</table>\n");
}

/* What failed for learner row r: its items, or in a system each service's. */
static void what_failed(struct strbuf *sb, const struct phase *ph, const struct summary_row *rows, size_t n,
			const struct summary_row *r)
{
	for (size_t i = 0; i < n; i++) {
		const struct summary_row *s = &rows[i];

		if (r->total ? s->total || !s->service || strcmp(s->learner, r->learner) : s != r)
			continue;
		for (size_t k = 0; k < ph->nchecks; k++) {
			if (!ph->checks[k].graded || !strcmp(s->statuses[k], "pass"))
				continue;
			strbuf_addf(sb, "<span class=\"st %s\">", s->statuses[k]);
			if (r->total) {
				html(sb, s->service);
				strbuf_addstr(sb, ": ");
			}
			html(sb, ph->checks[k].id);
			strbuf_addstr(sb, "</span> ");
		}
	}
}

/* Engines: each with its state and whom it graded (the learners' rows that name it). */
static void engines_table(struct strbuf *sb, const struct summary_row *rows, size_t n,
			  const struct summary_engine *engines, size_t nengines)
{
	strbuf_addstr(sb, "<h2>Engines</h2>\n<table><tr><th>engine</th><th>kind</th><th>state</th>"
		      "<th>graded</th><th>learners</th></tr>\n");
	for (size_t e = 0; e < nengines; e++) {
		const struct summary_engine *se = &engines[e];
		size_t graded = 0;

		strbuf_addstr(sb, "<tr><td><code>");
		html(sb, se->name);
		strbuf_addstr(sb, "</code></td><td>");
		html(sb, se->kind ? se->kind : "");
		strbuf_addf(sb, "</td><td><span class=\"st %s\">", !strcmp(se->state, "used") ? "pass" :
			    !strcmp(se->state, "left out") ? "skip" : "error");
		html(sb, se->state);
		strbuf_addstr(sb, "</span>");
		if (se->reason) {
			strbuf_addstr(sb, " ");
			html(sb, se->reason);
		}
		strbuf_addstr(sb, "</td><td>");
		for (size_t i = 0; i < n; i++)
			graded += learner_row(&rows[i]) && rows[i].graded && rows[i].engine && !strcmp(rows[i].engine, se->name);
		strbuf_addf(sb, "%zu</td><td>", graded);
		for (size_t i = 0, first = 1; i < n; i++) {
			if (!learner_row(&rows[i]) || !rows[i].engine || strcmp(rows[i].engine, se->name))
				continue;
			if (!first)
				strbuf_addstr(sb, ", ");
			html(sb, rows[i].learner);
			first = 0;
		}
		strbuf_addstr(sb, "</td></tr>\n");
	}
	strbuf_addstr(sb, "</table>\n");
}

void summary_html(struct strbuf *sb, const struct phase *ph, const char *deadline, const char *now,
		  const struct summary_row *rows, size_t n)
{
	summary_html_engines(sb, ph, deadline, now, rows, n, NULL, 0);
}

void summary_html_engines(struct strbuf *sb, const struct phase *ph, const char *deadline, const char *now,
			  const struct summary_row *rows, size_t n, const struct summary_engine *engines,
			  size_t nengines)
{
	size_t learners = 0, graded = 0, passed = 0, late = 0, hist[10] = { 0 }, hist_max = 1;
	size_t item_graded = 0; /* the rows the items table counts: learners, or a system's services */
	int systems = has_services(rows, n);

	for (size_t i = 0; i < n; i++) {
		if (systems && !rows[i].total)
			item_graded += rows[i].graded;
		if (!learner_row(&rows[i]))
			continue;
		learners++;
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
	if (!systems)
		item_graded = graded;
	for (size_t b = 0; b < 10; b++)
		if (hist[b] > hist_max)
			hist_max = hist[b];

	strbuf_addstr(sb, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
		      "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
		      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">"
		      "<title>Class summary: ");
	html(sb, ph->id);
	strbuf_addf(sb, "</title><style>%s</style></head><body><main>\n<h1>", style);
	html(sb, ph->title);
	strbuf_addstr(sb, "</h1>\n<p class=\"meta\">phase ");
	html(sb, ph->id);
	if (deadline) {
		strbuf_addstr(sb, " &middot; deadline ");
		html(sb, deadline);
	}
	strbuf_addf(sb, " &middot; graded %s</p>\n", now);

	strbuf_addf(sb, "<div class=\"cards\"><div class=\"card\"><b>%zu</b>learners</div>"
		    "<div class=\"card\"><b>%zu</b>passed</div><div class=\"card\"><b>%zu</b>not passed</div>"
		    "<div class=\"card\"><b>%zu</b>late</div><div class=\"card\"><b>%zu</b>not graded</div></div>\n",
		    learners, passed, graded - passed, late, learners - graded);

	strbuf_addstr(sb, "<h2>Items: where the class struggles</h2>\n<table><tr><th>item</th><th>passed</th>"
		      "<th></th><th>failed</th><th>skipped</th><th>errors</th></tr>\n");
	for (size_t k = 0; k < ph->nchecks; k++) {
		size_t cnt[4] = { 0 }; /* pass fail skip error */
		int pct;

		if (!ph->checks[k].graded)
			continue;
		for (size_t i = 0; i < n; i++) {
			/* a system's items are counted per service, not again on the total */
			if (!rows[i].graded || (systems && rows[i].total))
				continue;
			cnt[status_index(rows[i].statuses[k])]++;
		}
		pct = item_graded ? (int)(100 * cnt[0] / item_graded) : 0;
		strbuf_addstr(sb, "<tr><td><b>");
		html(sb, ph->checks[k].id);
		strbuf_addstr(sb, "</b><br>");
		html(sb, ph->checks[k].title);
		strbuf_addf(sb, "</td><td>%d%%</td><td><div class=\"bar%s\"><span style=\"width:%d%%\"></span></div></td>"
			    "<td>%zu</td><td>%zu</td><td>%zu</td></tr>\n", pct,
			    pct < 50 ? " low" : pct < 80 ? " mid" : "", pct, cnt[1], cnt[2], cnt[3]);
	}
	strbuf_addstr(sb, "</table>\n");
	if (systems)
		services_table(sb, ph, rows, n);
	if (nengines)
		engines_table(sb, rows, n, engines, nengines);
	strbuf_addstr(sb, "<h2>Score distribution</h2>\n<div class=\"hist\">");
	for (size_t b = 0; b < 10; b++)
		strbuf_addf(sb, "<div><i style=\"height:%zupx\"></i>%zu<br>%zu&ndash;%zu%%</div>",
			    hist[b] * 90 / hist_max + (hist[b] ? 2 : 0), hist[b], b * 10, b == 9 ? 100 : b * 10 + 9);
	strbuf_addstr(sb, "</div>\n<h2>Who has not passed</h2>\n<table><tr><th>learner</th><th>score</th>"
		      "<th>commit</th><th>what failed</th></tr>\n");
	for (size_t i = 0; i < n; i++) {
		const struct summary_row *r = &rows[i];
		if (!learner_row(r) || (r->graded && r->passed))
			continue;
		strbuf_addstr(sb, "<tr><td>");
		if (r->graded) {
			strbuf_addstr(sb, "<a href=\"");
			html(sb, r->learner);
			strbuf_addstr(sb, "/report.html\">");
			html(sb, r->learner);
			strbuf_addstr(sb, "</a>");
		} else {
			html(sb, r->learner);
		}
		strbuf_addf(sb, "</td><td>%d/%d%s</td><td><code>", r->score, r->max_score, r->late ? " (late)" : "");
		html(sb, r->commit[0] ? r->commit : "none");
		strbuf_addstr(sb, "</code></td><td>");
		if (!r->graded) {
			strbuf_addstr(sb, "<span class=\"st error\">not graded</span> ");
			html(sb, r->problem ? r->problem : "");
		} else {
			what_failed(sb, ph, rows, n, r);
		}
		strbuf_addstr(sb, "</td></tr>\n");
	}
	strbuf_addstr(sb, "</table>\n<p class=\"meta\">Each learner's full report: <code>&lt;learner&gt;/report.html</code>; "
		      "every row: <code>gradebook.csv</code>.</p>\n</main></body></html>\n");
}

int summary_write(const char *out_dir, const struct phase *ph, const char *deadline,
		  const struct summary_row *rows, size_t n)
{
	return summary_write_engines(out_dir, ph, deadline, rows, n, NULL, 0);
}

int summary_write_engines(const char *out_dir, const struct phase *ph, const char *deadline,
			  const struct summary_row *rows, size_t n, const struct summary_engine *engines,
			  size_t nengines)
{
	struct strbuf sb = STRBUF_INIT;
	char now[40];
	char *path;
	int rc;

	rfc3339_now(now, sizeof(now));
	summary_html_engines(&sb, ph, deadline, now, rows, n, engines, nengines);
	path = xasprintf("%s/summary.html", out_dir);
	rc = write_file_atomic(path, sb.buf, sb.len);
	free(path);
	strbuf_release(&sb);
	return rc;
}
