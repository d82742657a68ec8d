/*
 * The result of one `phaselab check`: what every report writer reads.
 *
 * One structure, many writers (text, json, ...): a writer never computes a
 * score or decides a status, it only renders what is here.  Strings are
 * owned by the report (report_release() frees them); evidence objects are
 * jansson references owned by their check result.
 *
 * Learner-controlled text (build output, file names, probe output) reaches
 * message, hint and evidence unescaped; each writer escapes for its own
 * output language.
 */
#ifndef PHASELAB_REPORT_H
#define PHASELAB_REPORT_H

#include <jansson.h>
#include <stdio.h>

enum check_status {
	CHECK_PASS,
	CHECK_FAIL,  /* the learner's: costs the item's points */
	CHECK_SKIP,  /* waited on something that failed; message names it */
	CHECK_ERROR, /* the harness's or the engine's; the report says so */
};

const char *check_status_name(enum check_status s); /* "pass", "fail", ... */

struct check_result {
	char *id;
	char *title;
	char *kind;
	enum check_status status;
	int points;
	int max_points;
	char *message; /* what was observed, with numbers; never NULL once run */
	char *hint;    /* how to fix it; NULL when there is nothing to say */
	/*
	 * Why it failed, as the kind classified it: a short id ("parse-error"),
	 * NULL when it passed or no cause was identified.  The evidence holds it
	 * too ("cause"), which is how the JSON report carries it.
	 */
	char *cause;
	json_t *evidence; /* a JSON object (owned reference), never NULL once run */
	long duration_ms;
};

struct report {
	char *phase_id;
	char *phase_title;
	char *dir;
	int has_git;      /* 0: the target is not in a git work tree ("git": null) */
	char commit[41];
	int dirty;
	char *engine_client;
	char *engine_server;
	char *builder;    /* "legacy" or "buildkit" */
	char *engine_kind;   /* "docker" or "podman" */
	int engine_remote;   /* the engine's server is not on this machine */
	char started_at[40]; /* RFC 3339, UTC */
	long duration_ms;
	int score;
	int max_score;
	int pass_mark;
	int passed;
	struct check_result *checks;
	size_t nchecks;
};

void report_release(struct report *r);
/* Free what one result holds and zero it (report_release does it for each). */
void check_result_release(struct check_result *c);

/* c's cause: c->cause, else the evidence's "cause" string (a report read back), else NULL. */
const char *result_cause_of(const struct check_result *c);

/* Add up points: fills score, max_score and passed from the checks. */
void report_tally(struct report *r);
/* How many checks have each status: n[CHECK_PASS] ... n[CHECK_ERROR]. */
void report_count_status(const struct report *r, size_t n[4]);

/*
 * Writers.  Each returns 0, or -1 when writing to out failed (errno set).
 * text: color is 1 to use ANSI colours (the caller decides: a terminal and
 * no NO_COLOR).
 */
int report_write_text(const struct report *r, FILE *out, int color);
/* The check lines alone, without the header and the score (a step's verification). */
int report_write_text_checks(const struct report *r, FILE *out, int color);
struct strbuf;
/*
 * The failing checks counted apart, appended to sb: "1 check fails; 5 wait
 * on it", "2 checks fail, 1 could not be checked; 3 wait on them"; nothing
 * when every check passed.  No full stop.
 */
void report_text_counts(struct strbuf *sb, const struct report *r);
/*
 * text, made safe for a terminal (its line breaks kept) and wrapped as the
 * text report's lines are, appended to sb: the output is at column col, and
 * continuation lines start at column indent.  No newline at the end.
 */
void report_text_wrap(struct strbuf *sb, const char *text, size_t col, size_t indent);
int report_write_json(const struct report *r, FILE *out);

/*
 * Write a JSON document (steals root; NULL means out of memory) with
 * jansson's flags, a newline after it, and DEL, C1 and bidi controls escaped
 * so the file is safe to cat.  0, or -1 with errno set.
 */
int report_dump_json(json_t *root, size_t flags, FILE *out);
/*
 * A writer's last step: sb (released) to out in one write, unless ret
 * already says the writer failed.  ret, or -1 when writing failed.
 */
int report_write_buf(struct strbuf *sb, FILE *out, int ret);

/* The JSON report as a new jansson object (used by the json writer and tests). */
json_t *report_to_json(const struct report *r);

/*
 * More writers, same contract (0, or -1 with errno set); each file's opening
 * comment gives its layout and bounds.
 * junit: JUnit XML for CI test views, one <testsuite> for the phase.
 * markdown: GitHub-flavoured Markdown for a CI step summary or a pull-request
 * comment, kept under GitHub's 65536-character comment limit.
 * gradescope: Gradescope's autograder results.json.
 * html: one self-contained page (no script, no external asset).
 */
int report_write_junit(const struct report *r, FILE *out);
int report_write_markdown(const struct report *r, FILE *out);
int report_write_gradescope(const struct report *r, FILE *out);
int report_write_html(const struct report *r, FILE *out);

struct strbuf;

/*
 * Read a JSON report (schema "phaselab.report/v1", as report_to_json()
 * makes it) into r, which is overwritten, not released.  root is borrowed;
 * r takes its own reference to each evidence object.  Every key of the
 * contract is required, with its type; an unknown key is refused too.
 * Returns 0, or -1 with "KEY: what is wrong" in err (the key's path, as
 * "checks[2].status") and r empty.
 *
 * The inverse of report_to_json(): writing r again gives the same JSON, and
 * every writer prints what it would have printed from the original report.
 * For that, a string the JSON report had cut (it ends with the truncation
 * marker) comes back at its original length: the kept text, then filler that
 * every writer's bound cuts off again, so that their markers count the same
 * bytes.  (Up to 64 MiB of filler per report; past that a string keeps its
 * marker as text.)
 */
int report_from_json(json_t *root, struct report *r, struct strbuf *err);
/*
 * For the suite's reader, which shares the report's top: the head alone
 * (phase, target, engine, started_at, duration_ms, score, max_score,
 * pass_mark, passed) of root, already validated against the caller's own
 * table of top-level keys, read as report_from_json reads it; r has no
 * checks.  0, or -1 with "KEY: what is wrong" in err and r empty.
 */
int report_head_from_json(json_t *root, struct report *r, struct strbuf *err);
/*
 * validate_object() on obj at path where, with messages "KEY: problem" (no
 * file name); keys in nullable (or NULL) must be present but may be null.
 */
struct key_spec;
int report_validate_json(json_t *obj, const struct key_spec *spec, const char *const *nullable,
			 const char *where, struct strbuf *err);

/*
 * The report formats: this one table (report-formats.c) is what the writers'
 * dispatch, the commands' --format option, its usage text and its "unknown
 * format" error, and grade's per-learner files all read.  Adding a format:
 * its writer in report-<name>.c, declared above, and its row in the table.
 */
typedef int (*report_writer_fn)(const struct report *r, FILE *out, int color);
struct report_format {
	const char *name;       /* as --format takes it: "junit" */
	const char *ext;        /* a file's extension for it: "xml" */
	const char *about;      /* a few words for usage texts ("schema phaselab.report/v1"), or NULL */
	report_writer_fn write; /* color: see report_write_text */
};
/* The i-th format, from 0 (text, the default), or NULL past the last. */
const struct report_format *report_format_at(size_t i);
/* The format called name, or NULL. */
const struct report_format *report_format_find(const char *name);

/*
 * Write r in format to path atomically (or to standard output when path is
 * NULL, with colour if it is a terminal and NO_COLOR is unset).  0, or -1
 * with errno set.
 */
int report_write_to(const struct report *r, const char *format, const char *path);
/*
 * What report_write_to and suite_write_to share: write(arg, stream, color)
 * to stdout when path is NULL (colour as report_write_to decides), else to
 * path, replaced whole or not at all.  0, or -1 with errno set.
 */
typedef int (*report_stream_fn)(const void *arg, FILE *out, int color);
int report_write_stream_to(report_stream_fn write, const void *arg, const char *path);

/*
 * A suite: one `phaselab check` of a system, every service of it verified
 * against the phase (each with its language's checklist), in one report.
 * Its JSON is "phaselab.suite/v1" (DESIGN.md, "Several services"); every
 * other format shows the services one after another, then the total.
 */
struct suite_service {
	char *name;     /* the service's folder name: "order-service" */
	char *dir;      /* its folder, as the report names it */
	char *language; /* "node", "python" */
	struct report report; /* empty (phase_id NULL) when it could not be verified */
	int status;     /* its verification's exit status: EXIT_PASSED, _NOT_PASSED, _ENVIRONMENT */
};

struct suite {
	char *phase_id;
	char *phase_title;
	char *dir;            /* the system's folder */
	int has_git;          /* 0: not in a git work tree ("git": null) */
	char commit[41];
	int dirty;
	char *engine_client;
	char *engine_server;
	char *builder;        /* "legacy" or "buildkit" */
	char *engine_kind;    /* "docker" or "podman" */
	int engine_remote;
	char started_at[40];  /* RFC 3339, UTC */
	long duration_ms;
	int score;            /* suite_tally: the services' sums */
	int max_score;
	int pass_mark;
	int passed;           /* every service passed */
	struct suite_service *services; /* in name order */
	size_t nservices;
};

/* Free what s holds (each service's report too) and zero it. */
void suite_release(struct suite *s);
/*
 * Add up the services: score, max_score and pass_mark are their sums;
 * passed is 1 when every service passed (and there is at least one).
 */
void suite_tally(struct suite *s);

/* The suite's JSON (phaselab.suite/v1) as a new jansson object. */
json_t *suite_to_json(const struct suite *s);
/*
 * Read a saved suite JSON (schema "phaselab.suite/v1") into s, overwritten,
 * not released; root borrowed.  Every key is required, unknown keys refused;
 * each service's report is read by report_from_json.  0, or -1 with "KEY:
 * what is wrong" in err ("services[1].report.checks[0].status") and s empty.
 */
int suite_from_json(json_t *root, struct suite *s, struct strbuf *err);
/* The schema a saved JSON document declares ("phaselab.suite/v1"), or NULL. */
const char *report_json_schema(json_t *root);

/* The suite writers, per format, same contract as the report writers. */
int suite_write_text(const struct suite *s, FILE *out, int color);
int suite_write_json(const struct suite *s, FILE *out);
int suite_write_junit(const struct suite *s, FILE *out);
int suite_write_markdown(const struct suite *s, FILE *out);
int suite_write_gradescope(const struct suite *s, FILE *out);
int suite_write_html(const struct suite *s, FILE *out);
/* The writer for format (a report_format name), or NULL. */
typedef int (*suite_writer_fn)(const struct suite *s, FILE *out, int color);
suite_writer_fn suite_writer_find(const char *format);
/* As report_write_to, for a suite. */
int suite_write_to(const struct suite *s, const char *format, const char *path);

#endif
