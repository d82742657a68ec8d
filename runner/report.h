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

/* Add up points: fills score, max_score and passed from the checks. */
void report_tally(struct report *r);

/*
 * Writers.  Each returns 0, or -1 when writing to out failed (errno set).
 * text: color is 1 to use ANSI colours (the caller decides: a terminal and
 * no NO_COLOR).
 */
int report_write_text(const struct report *r, FILE *out, int color);
int report_write_json(const struct report *r, FILE *out);

/* The JSON report as a new jansson object (used by the json writer and tests). */
json_t *report_to_json(const struct report *r);

#endif
