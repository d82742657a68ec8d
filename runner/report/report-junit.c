/*
 * The JUnit XML report (--format junit), for the test views of CI systems
 * (GitLab, Jenkins, GitHub actions that read JUnit):
 *
 *   <testsuites name="phaselab" tests="8" failures="2" errors="1" skipped="1" time="12.345">
 *     <testsuite name="03-containerization" ... timestamp="2025-01-15T09:30:00Z">
 *       <properties> phase title, target, commit, engine, score, pass mark </properties>
 *       <testcase classname="03-containerization" name="size: The image is small" time="0.003">
 *         <failure message="the image is 1.21 GB ..." type="image-size">the hint</failure>
 *         <system-out>{"image_bytes":1210000000,...}</system-out>
 *       </testcase>
 *
 * One <testsuite> per phase (a report holds one); a suite's file has one per
 * service, named after it, as are its testcases' classname.  A fail is a <failure>, an
 * error an <error> (the harness's or the engine's: CI tells them apart too),
 * a skip a <skipped>; the element's text is the hint.  Each testcase's
 * <system-out> is its evidence, as compact JSON.  Times are seconds with
 * milliseconds, written from integers (no locale's decimal comma).
 *
 * Every string from the report goes through escape_xml(): the file is
 * well-formed XML 1.0 whatever the learner's build printed.  Bounds, in bytes
 * before escaping: 1 KiB for names and property values, 4 KiB for a message
 * (an attribute CI shows as a heading), 16 KiB for a hint, 64 KiB for the
 * evidence.
 */
#include "report/report.h"
#include "lib/escape.h"
#include "lib/strbuf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define JUNIT_MAX_SHORT 1024
#define JUNIT_MAX_MESSAGE 4096
#define JUNIT_MAX_HINT (16 * 1024)
#define JUNIT_MAX_EVIDENCE (64 * 1024)

/* Compact and in the check's own key order: one line per testcase in the file. */
#define JUNIT_EVIDENCE_FLAGS (JSON_COMPACT | JSON_PRESERVE_ORDER)

struct counts {
	size_t fail, error, skip;
};

/* A string of the report in XML: NULL is empty. */
static void add_xml(struct strbuf *sb, const char *s, size_t max, unsigned flags)
{
	if (s)
		escape_xml(sb, s, strlen(s), max, flags);
}

static void add_attr(struct strbuf *sb, const char *name, const char *value, size_t max)
{
	strbuf_addf(sb, " %s=\"", name);
	add_xml(sb, value, max, ESCAPE_XML_ATTR);
	strbuf_addch(sb, '"');
}

static void add_time(struct strbuf *sb, long ms)
{
	if (ms < 0)
		ms = 0;
	strbuf_addf(sb, " time=\"%ld.%03ld\"", ms / 1000, ms % 1000);
}

static void add_counts(struct strbuf *sb, const struct report *r, const struct counts *n)
{
	strbuf_addf(sb, " tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" skipped=\"%zu\"",
		    r->nchecks, n->fail, n->error, n->skip);
	add_time(sb, r->duration_ms);
}

static void add_property(struct strbuf *sb, const char *name, const char *value)
{
	strbuf_addf(sb, "      <property name=\"%s\"", name);
	add_attr(sb, "value", value, JUNIT_MAX_SHORT);
	strbuf_addstr(sb, "/>\n");
}

static void add_properties(struct strbuf *sb, const struct report *r)
{
	char num[32];

	strbuf_addstr(sb, "    <properties>\n");
	add_property(sb, "phase.title", r->phase_title);
	add_property(sb, "target.dir", r->dir);
	if (r->has_git) {
		/* the field may lack its NUL */
		char commit[sizeof(r->commit) + 1];

		snprintf(commit, sizeof(commit), "%.*s", (int)sizeof(r->commit), r->commit);
		add_property(sb, "target.commit", commit);
		add_property(sb, "target.dirty", r->dirty ? "true" : "false");
	}
	add_property(sb, "engine.client", r->engine_client);
	add_property(sb, "engine.server", r->engine_server);
	add_property(sb, "engine.builder", r->builder);
	add_property(sb, "engine.kind", r->engine_kind && *r->engine_kind ? r->engine_kind : "docker");
	add_property(sb, "engine.remote", r->engine_remote ? "true" : "false");
	snprintf(num, sizeof(num), "%d", r->score);
	add_property(sb, "score", num);
	snprintf(num, sizeof(num), "%d", r->max_score);
	add_property(sb, "max_score", num);
	snprintf(num, sizeof(num), "%d", r->pass_mark);
	add_property(sb, "pass_mark", num);
	add_property(sb, "passed", r->passed ? "true" : "false");
	strbuf_addstr(sb, "    </properties>\n");
}

/* <failure>, <error> or <skipped>, or nothing for a pass. */
static void add_outcome(struct strbuf *sb, const struct check_result *c)
{
	const char *elem, *hint = c->hint;

	switch (c->status) {
	case CHECK_FAIL: elem = "failure"; break;
	case CHECK_ERROR: elem = "error"; break;
	case CHECK_SKIP: elem = "skipped"; hint = NULL; break;
	default: return;
	}
	strbuf_addf(sb, "      <%s", elem);
	add_attr(sb, "message", c->message, JUNIT_MAX_MESSAGE);
	if (c->status != CHECK_SKIP)
		add_attr(sb, "type", c->kind, JUNIT_MAX_SHORT);
	if (!hint || !*hint) {
		strbuf_addstr(sb, "/>\n");
		return;
	}
	strbuf_addch(sb, '>');
	add_xml(sb, hint, JUNIT_MAX_HINT, 0);
	strbuf_addf(sb, "</%s>\n", elem);
}

/* 0, or -1 when jansson cannot encode the evidence (errno set). */
static int add_testcase(struct strbuf *sb, const struct report *r, const struct check_result *c,
			const char *classname)
{
	struct strbuf json = STRBUF_INIT;
	char *text;

	strbuf_addstr(sb, "    <testcase");
	add_attr(sb, "classname", classname ? classname : r->phase_id, JUNIT_MAX_SHORT);
	/* "id: title", each part bounded on its own so that the id always shows */
	strbuf_addstr(sb, " name=\"");
	add_xml(sb, c->id, JUNIT_MAX_SHORT, ESCAPE_XML_ATTR);
	strbuf_addstr(sb, ": ");
	add_xml(sb, c->title, JUNIT_MAX_SHORT, ESCAPE_XML_ATTR);
	strbuf_addch(sb, '"');
	add_time(sb, c->duration_ms);
	strbuf_addstr(sb, ">\n");
	add_outcome(sb, c);

	text = c->evidence ? json_dumps(c->evidence, JUNIT_EVIDENCE_FLAGS) : strdup("{}");
	if (!text) {
		/* out of memory, or evidence jansson cannot encode (a check's bug) */
		errno = EINVAL;
		return -1;
	}
	/* DEL, C1 and bidi controls as \u escapes: the same document, nothing lost */
	escape_json_text(&json, text, strlen(text));
	free(text);
	strbuf_addstr(sb, "      <system-out>");
	escape_xml(sb, json.buf, json.len, JUNIT_MAX_EVIDENCE, 0);
	strbuf_addstr(sb, "</system-out>\n    </testcase>\n");
	strbuf_release(&json);
	return 0;
}

static void count(const struct report *r, struct counts *n)
{
	for (size_t i = 0; i < r->nchecks; i++) {
		n->fail += r->checks[i].status == CHECK_FAIL;
		n->error += r->checks[i].status == CHECK_ERROR;
		n->skip += r->checks[i].status == CHECK_SKIP;
	}
}

/*
 * One <testsuite>: named after the phase (a report), or after the service
 * (a suite's), whose name is then the testcases' classname too.  0, or -1.
 */
static int add_testsuite(struct strbuf *sb, const struct report *r, const char *name)
{
	struct counts n = { 0, 0, 0 };
	int ret = 0;

	count(r, &n);
	strbuf_addstr(sb, "  <testsuite");
	add_attr(sb, "name", name ? name : r->phase_id, JUNIT_MAX_SHORT);
	add_counts(sb, r, &n);
	strbuf_addstr(sb, " timestamp=\"");
	escape_xml(sb, r->started_at, strnlen(r->started_at, sizeof(r->started_at)),
		   JUNIT_MAX_SHORT, ESCAPE_XML_ATTR); /* the field may lack its NUL */
	strbuf_addstr(sb, "\">\n");
	add_properties(sb, r);
	for (size_t i = 0; i < r->nchecks && !ret; i++)
		ret = add_testcase(sb, r, &r->checks[i], name);
	strbuf_addstr(sb, "  </testsuite>\n");
	return ret;
}

int report_write_junit(const struct report *r, FILE *out)
{
	struct strbuf sb = STRBUF_INIT;
	struct counts n = { 0, 0, 0 };

	count(r, &n);
	strbuf_addstr(&sb, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"phaselab\"");
	add_counts(&sb, r, &n);
	strbuf_addstr(&sb, ">\n");
	if (add_testsuite(&sb, r, NULL))
		return report_write_buf(&sb, out, -1);
	strbuf_addstr(&sb, "</testsuites>\n");
	return report_write_buf(&sb, out, 0);
}

/* A suite: one <testsuite> per service, in the suite's order; the totals on <testsuites>. */
int suite_write_junit(const struct suite *s, FILE *out)
{
	struct strbuf sb = STRBUF_INIT;
	struct counts n = { 0, 0, 0 };
	size_t tests = 0, i;
	int ret = 0;

	for (i = 0; i < s->nservices; i++) {
		count(&s->services[i].report, &n);
		tests += s->services[i].report.nchecks;
	}
	strbuf_addstr(&sb, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"phaselab\"");
	strbuf_addf(&sb, " tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" skipped=\"%zu\"",
		    tests, n.fail, n.error, n.skip);
	add_time(&sb, s->duration_ms);
	strbuf_addstr(&sb, ">\n");
	for (i = 0; i < s->nservices && !ret; i++)
		ret = add_testsuite(&sb, &s->services[i].report, s->services[i].name);
	strbuf_addstr(&sb, "</testsuites>\n");
	return report_write_buf(&sb, out, ret);
}
