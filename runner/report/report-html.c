/*
 * The HTML report (--format html): one self-contained page to open, attach
 * or print.  Inline CSS only: no script, no font, no image, nothing fetched,
 * and a Content-Security-Policy that forbids all of it anyway.
 *
 *   header   phase id, the title, a PASSED / NOT PASSED badge; the score with
 *            a bar and the pass mark on it; counts per status; target,
 *            commit, engine, start and duration
 *   note     when an item could not be checked: whose failure that is
 *   cards    one per item: a status label and colour, title, points; id,
 *            kind and time; the message; the hint (fail and error) as prose
 *            and code; the evidence, pretty-printed JSON, in a <details>
 *   footer
 *
 * Status is a word as well as a colour.  The layout is one column that
 * narrows to a phone's width, follows the reader's light or dark scheme,
 * and prints (no backgrounds lost, no card split across pages).
 *
 * Every string from the report goes through escape_html(); the evidence is
 * jansson's text, escaped the same way.  Bounds, in bytes before escaping:
 * 1 KiB for titles, ids and header fields, 16 KiB for a message or a hint,
 * 64 KiB for the evidence.
 */
#include "report/report.h"
#include "lib/escape.h"
#include "report/hint.h"
#include "lib/strbuf.h"
#include "lib/xalloc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define HTML_MAX_SHORT 1024
#define HTML_MAX_LONG (16 * 1024)
#define HTML_MAX_EVIDENCE (64 * 1024)

#define HTML_EVIDENCE_FLAGS (JSON_INDENT(2) | JSON_PRESERVE_ORDER)

static const char head[] =
	"<!DOCTYPE html>\n"
	"<html lang=\"en\">\n"
	"<head>\n"
	"<meta charset=\"utf-8\">\n"
	"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	/* the page needs its own <style> and style attributes, and nothing else */
	"<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
	"style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'\">\n"
	"<meta name=\"referrer\" content=\"no-referrer\">\n"
	"<meta name=\"color-scheme\" content=\"light dark\">\n";

static const char style[] =
	"<style>\n"
	":root{--bg:#f6f8fa;--card:#fff;--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;"
	"--pass:#1a7f37;--pass-bg:#dafbe1;--fail:#cf222e;--fail-bg:#ffebe9;"
	"--error:#8250df;--error-bg:#fbefff;--skip:#9a6700;--skip-bg:#fff8c5}\n"
	"@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--card:#151b23;--fg:#e6edf3;"
	"--muted:#9198a1;--line:#3d444d;--pass:#3fb950;--pass-bg:#12261e;--fail:#f85149;"
	"--fail-bg:#2d1619;--error:#ab7df8;--error-bg:#231c30;--skip:#d29922;--skip-bg:#272115}}\n"
	"*{box-sizing:border-box}\n"
	"body{margin:0;background:var(--bg);color:var(--fg);"
	"font:16px/1.5 system-ui,-apple-system,\"Segoe UI\",Roboto,sans-serif}\n"
	"code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.875rem}\n"
	".page{max-width:60rem;margin:0 auto;padding:1.5rem 1rem 3rem}\n"
	".top{background:var(--card);border:1px solid var(--line);border-radius:12px;"
	"padding:1.25rem 1.5rem;display:grid;grid-template-columns:1fr auto;gap:.5rem 1.5rem}\n"
	".eyebrow{margin:0;color:var(--muted);font-size:.85rem;letter-spacing:.04em}\n"
	"h1{margin:.1rem 0 0;font-size:1.6rem;line-height:1.25;overflow-wrap:anywhere}\n"
	".badge{align-self:start;padding:.35rem .9rem;border:2px solid;border-radius:999px;"
	"font-weight:700;letter-spacing:.04em;white-space:nowrap}\n"
	".badge.passed{color:var(--pass);background:var(--pass-bg)}\n"
	".badge.failed{color:var(--fail);background:var(--fail-bg)}\n"
	".score,.meta{grid-column:1/-1}\n"
	".score p{margin:0}\n"
	".score .num{font-size:2rem;font-weight:700;font-variant-numeric:tabular-nums}\n"
	".bar{position:relative;height:.6rem;margin:.4rem 0 .2rem;background:var(--line);border-radius:999px}\n"
	".fill{height:100%;border-radius:999px}\n"
	".passed .fill{background:var(--pass)}.failed .fill{background:var(--fail)}\n"
	".mark{position:absolute;top:-.3rem;bottom:-.3rem;width:3px;margin-left:-1px;"
	"background:var(--fg);border-radius:2px}\n"
	".counts{display:flex;flex-wrap:wrap;gap:.4rem;list-style:none;margin:.6rem 0 0;padding:0}\n"
	".counts li{padding:.05rem .6rem;border-radius:999px;font-size:.85rem;"
	"color:var(--c);background:var(--cbg)}\n"
	".pass{--c:var(--pass);--cbg:var(--pass-bg)}.fail{--c:var(--fail);--cbg:var(--fail-bg)}"
	".error{--c:var(--error);--cbg:var(--error-bg)}.skip{--c:var(--skip);--cbg:var(--skip-bg)}\n"
	".meta{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem;margin:.5rem 0 0;"
	"font-size:.9rem}\n"
	".meta dt{color:var(--muted)}.meta dd{margin:0;overflow-wrap:anywhere}\n"
	".note{margin:1rem 0;padding:.75rem 1rem;border-left:4px solid var(--error);"
	"border-radius:8px;background:var(--error-bg)}\n"
	".card{margin:1rem 0;padding:1rem 1.25rem;background:var(--card);border:1px solid var(--line);"
	"border-left:6px solid var(--c);border-radius:10px;break-inside:avoid}\n"
	".card-head{display:flex;flex-wrap:wrap;align-items:baseline;gap:.4rem .75rem}\n"
	".status{padding:.05rem .5rem;border:1px solid var(--c);border-radius:4px;color:var(--c);"
	"background:var(--cbg);font-size:.75rem;font-weight:700;letter-spacing:.05em}\n"
	".card h2{flex:1 1 14rem;margin:0;font-size:1.1rem;overflow-wrap:anywhere}\n"
	".points{font-weight:700;font-variant-numeric:tabular-nums;white-space:nowrap}\n"
	".sub{margin:.2rem 0 .5rem;color:var(--muted);font-size:.85rem;overflow-wrap:anywhere}\n"
	".text,.hint p{margin:.5rem 0;white-space:pre-wrap;overflow-wrap:anywhere}\n"
	".hint{margin:.75rem 0;padding:.6rem 1rem;border-radius:8px;background:var(--cbg)}\n"
	".hint h3{margin:0;color:var(--c);font-size:.8rem;letter-spacing:.05em;text-transform:uppercase}\n"
	"pre{margin:.5rem 0;padding:.75rem;overflow-x:auto;background:var(--bg);"
	"border:1px solid var(--line);border-radius:6px;white-space:pre-wrap;overflow-wrap:anywhere}\n"
	"details{margin-top:.5rem}summary{color:var(--muted);font-size:.9rem;cursor:pointer}\n"
	"footer{margin-top:2rem;color:var(--muted);font-size:.8rem;text-align:center}\n"
	"@media (max-width:36rem){.page{padding:.75rem .5rem 2rem}.top{grid-template-columns:1fr;"
	"padding:1rem}.badge{justify-self:start}h1{font-size:1.3rem}.card{padding:.75rem}"
	".meta{grid-template-columns:1fr}.meta dd{margin-bottom:.3rem}}\n"
	"@media print{*{-webkit-print-color-adjust:exact;print-color-adjust:exact}"
	"body{background:#fff;font-size:11pt}.page{max-width:none;padding:0}"
	".top,.card{break-inside:avoid}summary{display:none}}\n"
	"</style>\n"
	"</head>\n";

static const struct {
	const char *word;
	const char *class;
} status_look[] = {
	[CHECK_PASS] = { "PASS", "pass" },
	[CHECK_FAIL] = { "FAIL", "fail" },
	[CHECK_SKIP] = { "SKIP", "skip" },
	[CHECK_ERROR] = { "ERROR", "error" },
};

/* A string of the report in HTML: NULL is empty. */
static void add_html(struct strbuf *sb, const char *s, size_t max)
{
	if (s)
		escape_html(sb, s, strlen(s), max);
}

/* Same for a fixed-size field that may lack its NUL. */
static void add_field(struct strbuf *sb, const char *s, size_t size)
{
	escape_html(sb, s, strnlen(s, size), HTML_MAX_SHORT);
}

static void add_duration(struct strbuf *sb, long ms)
{
	long tenths = ms > 0 ? (ms + 50) / 100 : 0;

	if (ms >= 0 && ms < 1000)
		strbuf_addf(sb, "%ld ms", ms);
	else
		strbuf_addf(sb, "%ld.%ld s", tenths / 10, tenths % 10);
}

/* 0..100: where value falls between 0 and max (for the score bar). */
static int percent(int value, int max)
{
	if (max <= 0 || value <= 0)
		return 0;
	if (value >= max)
		return 100;
	return (int)((long long)value * 100 / max);
}

static void add_title(struct strbuf *sb, const struct report *r)
{
	strbuf_addf(sb, "<title>%s %d/%d \xc2\xb7 ", r->passed ? "PASSED" : "NOT PASSED",
		    r->score, r->max_score);
	add_html(sb, r->phase_id, HTML_MAX_SHORT);
	strbuf_addstr(sb, " \xc2\xb7 phaselab</title>\n");
}

static void add_header(struct strbuf *sb, const struct report *r)
{
	static const enum check_status order[] = { CHECK_PASS, CHECK_FAIL, CHECK_ERROR, CHECK_SKIP };
	static const char *const counted[] = {
		[CHECK_PASS] = "passed",
		[CHECK_FAIL] = "failed",
		[CHECK_ERROR] = "could not be checked",
		[CHECK_SKIP] = "skipped",
	};
	const char *verdict = r->passed ? "passed" : "failed";
	size_t i, n[4];

	report_count_status(r, n);

	strbuf_addstr(sb, "<header class=\"top\">\n<div>\n<p class=\"eyebrow\">Phase ");
	add_html(sb, r->phase_id, HTML_MAX_SHORT);
	strbuf_addstr(sb, "</p>\n<h1>");
	add_html(sb, r->phase_title, HTML_MAX_SHORT);
	strbuf_addf(sb, "</h1>\n</div>\n<div class=\"badge %s\">%s</div>\n", verdict,
		    r->passed ? "PASSED" : "NOT PASSED");

	strbuf_addf(sb, "<div class=\"score %s\">\n", verdict);
	strbuf_addf(sb, "<p><span class=\"num\">%d</span> / %d points \xc2\xb7 pass mark %d</p>\n",
		    r->score, r->max_score, r->pass_mark);
	strbuf_addf(sb, "<div class=\"bar\" role=\"img\" aria-label=\"%d of %d points, pass mark %d\">"
		    "<div class=\"fill\" style=\"width:%d%%\"></div>"
		    "<div class=\"mark\" style=\"left:%d%%\"></div></div>\n",
		    r->score, r->max_score, r->pass_mark, percent(r->score, r->max_score),
		    percent(r->pass_mark, r->max_score));
	strbuf_addstr(sb, "<ul class=\"counts\">");
	for (i = 0; i < ARRAY_SIZE(order); i++)
		if (n[order[i]])
			strbuf_addf(sb, "<li class=\"%s\">%zu %s</li>", status_look[order[i]].class,
				    n[order[i]], counted[order[i]]);
	strbuf_addstr(sb, "</ul>\n</div>\n");

	strbuf_addstr(sb, "<dl class=\"meta\">\n<dt>Target</dt><dd><code>");
	add_html(sb, r->dir, HTML_MAX_SHORT);
	strbuf_addstr(sb, "</code></dd>\n");
	if (r->has_git) {
		size_t len = strnlen(r->commit, sizeof(r->commit));

		strbuf_addstr(sb, "<dt>Commit</dt><dd>");
		if (len) {
			strbuf_addstr(sb, "<code>");
			add_field(sb, r->commit, sizeof(r->commit));
			strbuf_addstr(sb, "</code>");
		} else {
			strbuf_addstr(sb, "none yet");
		}
		if (r->dirty)
			strbuf_addstr(sb, " with uncommitted changes");
		strbuf_addstr(sb, "</dd>\n");
	}
	strbuf_addstr(sb, "<dt>Engine</dt><dd>");
	add_html(sb, r->engine_kind && *r->engine_kind ? r->engine_kind : "docker", HTML_MAX_SHORT);
	strbuf_addstr(sb, r->engine_remote ? " (remote) \xc2\xb7 client " : " \xc2\xb7 client ");
	add_html(sb, r->engine_client, HTML_MAX_SHORT);
	strbuf_addstr(sb, " \xc2\xb7 server ");
	add_html(sb, r->engine_server, HTML_MAX_SHORT);
	strbuf_addstr(sb, " \xc2\xb7 ");
	add_html(sb, r->builder, HTML_MAX_SHORT);
	strbuf_addstr(sb, " builder</dd>\n<dt>Started</dt><dd>");
	add_field(sb, r->started_at, sizeof(r->started_at));
	strbuf_addstr(sb, " \xc2\xb7 took ");
	add_duration(sb, r->duration_ms);
	strbuf_addstr(sb, "</dd>\n</dl>\n</header>\n");

	if (n[CHECK_ERROR])
		/* as in the text report: an error costs points, say whose it is */
		strbuf_addf(sb, "<p class=\"note\"><strong>%zu item%s could not be checked.</strong> "
			    "The harness or the engine failed, not your work. %s no points, so this "
			    "score is not final: fix the environment and run the check again.</p>\n",
			    n[CHECK_ERROR], n[CHECK_ERROR] == 1 ? "" : "s",
			    n[CHECK_ERROR] == 1 ? "It scored" : "They scored");
}

static void emit_html(void *ctx, int is_code, const char *text, size_t len)
{
	struct strbuf *sb = ctx;

	strbuf_addstr(sb, is_code ? "<pre>" : "<p>");
	escape_html(sb, text, len, len);
	strbuf_addstr(sb, is_code ? "</pre>\n" : "</p>\n");
}

/* A hint (cleaned and bounded) as paragraphs and <pre> blocks, as hint.h reads it. */
static void add_hint_blocks(struct strbuf *sb, const char *clean)
{
	hint_blocks(clean, emit_html, sb);
}

static void add_hint(struct strbuf *sb, const char *hint)
{
	struct strbuf clean = STRBUF_INIT;

	/* bound and clean once, here, so that the blocks are cut from what is shown */
	escape_term_bounded(&clean, hint, strlen(hint), HTML_MAX_LONG, ESCAPE_TERM_NEWLINES);
	strbuf_rtrim(&clean);
	strbuf_addstr(sb, "<section class=\"hint\">\n<h3>How to fix</h3>\n");
	add_hint_blocks(sb, clean.buf);
	strbuf_addstr(sb, "</section>\n");
	strbuf_release(&clean);
}

/* 0, or -1 when jansson cannot encode the evidence (errno set). */
static int add_card(struct strbuf *sb, const struct check_result *c, size_t index)
{
	const char *word = "?", *class = "error";
	struct strbuf json = STRBUF_INIT;
	char *text;

	if ((size_t)c->status < ARRAY_SIZE(status_look)) {
		word = status_look[c->status].word;
		class = status_look[c->status].class;
	}
	strbuf_addf(sb, "<article class=\"card %s\" id=\"item-%zu\">\n<div class=\"card-head\">"
		    "<span class=\"status\">%s</span><h2>", class, index + 1, word);
	add_html(sb, c->title, HTML_MAX_SHORT);
	strbuf_addf(sb, "</h2><span class=\"points\">%d/%d</span></div>\n", c->points,
		    c->max_points);
	strbuf_addstr(sb, "<p class=\"sub\"><code>");
	add_html(sb, c->id, HTML_MAX_SHORT);
	strbuf_addstr(sb, "</code> \xc2\xb7 ");
	add_html(sb, c->kind, HTML_MAX_SHORT);
	strbuf_addstr(sb, " \xc2\xb7 ");
	add_duration(sb, c->duration_ms);
	strbuf_addstr(sb, "</p>\n");
	if (c->message && *c->message) {
		strbuf_addstr(sb, "<p class=\"text\">");
		add_html(sb, c->message, HTML_MAX_LONG);
		strbuf_addstr(sb, "</p>\n");
	}
	if (c->status == CHECK_ERROR)
		strbuf_addstr(sb, "<p class=\"sub\">Not your work: the harness or the engine failed. "
			      "Run the check again once the environment is fixed.</p>\n");
	if ((c->status == CHECK_FAIL || c->status == CHECK_ERROR) && c->hint && *c->hint)
		add_hint(sb, c->hint);

	text = c->evidence ? json_dumps(c->evidence, HTML_EVIDENCE_FLAGS) : xstrdup("{}");
	if (!text) {
		/* out of memory, or evidence jansson cannot encode (a check's bug) */
		errno = EINVAL;
		return -1;
	}
	/* DEL, C1 and bidi controls as \u escapes: the same document, shown as it is */
	escape_json_text(&json, text, strlen(text));
	free(text);
	strbuf_addstr(sb, "<details><summary>Evidence</summary><pre>");
	escape_html(sb, json.buf, json.len, HTML_MAX_EVIDENCE);
	strbuf_addstr(sb, "</pre></details>\n</article>\n");
	strbuf_release(&json);
	return 0;
}

/* The cards of r, numbered on from *index (ids stay unique across a suite's services). */
static int add_cards(struct strbuf *sb, const struct report *r, size_t *index)
{
	int ret = 0;

	for (size_t i = 0; i < r->nchecks && !ret; i++)
		ret = add_card(sb, &r->checks[i], (*index)++);
	return ret;
}

int report_write_html(const struct report *r, FILE *out)
{
	struct strbuf sb = STRBUF_INIT;
	size_t index = 0;
	int ret;

	strbuf_addstr(&sb, head);
	add_title(&sb, r);
	strbuf_addstr(&sb, style);
	strbuf_addstr(&sb, "<body>\n<div class=\"page\">\n");
	add_header(&sb, r);
	strbuf_addstr(&sb, "<main>\n");
	ret = add_cards(&sb, r, &index);
	strbuf_addstr(&sb, "</main>\n<footer>phaselab report \xc2\xb7 schema phaselab.report/v1"
			   "</footer>\n</div>\n</body>\n</html>\n");
	return report_write_buf(&sb, out, ret);
}

/*
 * A suite: one page, its verdict and total first, then each service as a
 * section headed by its name and language, holding that service's header
 * and cards as its own report shows them.
 */
int suite_write_html(const struct suite *s, FILE *out)
{
	struct strbuf sb = STRBUF_INIT;
	size_t index = 0, npassed = 0, i;
	const char *verdict = s->passed ? "passed" : "failed";
	int ret = 0;

	for (i = 0; i < s->nservices; i++)
		npassed += s->services[i].report.passed;
	strbuf_addstr(&sb, head);
	strbuf_addf(&sb, "<title>%s %d/%d \xc2\xb7 ", s->passed ? "PASSED" : "NOT PASSED", s->score,
		    s->max_score);
	add_html(&sb, s->phase_id, HTML_MAX_SHORT);
	strbuf_addstr(&sb, " \xc2\xb7 phaselab</title>\n");
	strbuf_addstr(&sb, style);
	strbuf_addstr(&sb, "<body>\n<div class=\"page\">\n<header class=\"top\">\n<div>\n"
			   "<p class=\"eyebrow\">Phase ");
	add_html(&sb, s->phase_id, HTML_MAX_SHORT);
	strbuf_addstr(&sb, " \xc2\xb7 system <code>");
	add_html(&sb, s->dir, HTML_MAX_SHORT);
	strbuf_addstr(&sb, "</code></p>\n<h1>");
	add_html(&sb, s->phase_title, HTML_MAX_SHORT);
	strbuf_addf(&sb, "</h1>\n</div>\n<div class=\"badge %s\">%s</div>\n", verdict,
		    s->passed ? "PASSED" : "NOT PASSED");
	strbuf_addf(&sb, "<div class=\"score %s\">\n<p><span class=\"num\">%d</span> / %d points "
		    "\xc2\xb7 pass mark %d \xc2\xb7 %zu of %zu service%s passed</p>\n</div>\n</header>\n",
		    verdict, s->score, s->max_score, s->pass_mark, npassed, s->nservices,
		    s->nservices == 1 ? "" : "s");
	strbuf_addstr(&sb, "<main>\n");
	for (i = 0; i < s->nservices && !ret; i++) {
		const struct suite_service *sv = &s->services[i];

		strbuf_addf(&sb, "<section class=\"service\" id=\"service-%zu\">\n<h2>", i + 1);
		add_html(&sb, sv->name, HTML_MAX_SHORT);
		strbuf_addstr(&sb, " <span class=\"sub\">(");
		add_html(&sb, sv->language, HTML_MAX_SHORT);
		strbuf_addstr(&sb, ")</span></h2>\n");
		add_header(&sb, &sv->report);
		ret = add_cards(&sb, &sv->report, &index);
		strbuf_addstr(&sb, "</section>\n");
	}
	strbuf_addstr(&sb, "</main>\n<footer>phaselab report \xc2\xb7 schema phaselab.suite/v1"
			   "</footer>\n</div>\n</body>\n</html>\n");
	return report_write_buf(&sb, out, ret);
}
