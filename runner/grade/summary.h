/*
 * summary: the gradebook (DIR/gradebook.csv) and the class at a glance
 * (DIR/summary.html) for `phaselab grade`, from one row per learner: the pass rate of each item (which item the class struggles with), the
 * score distribution, and who has not passed.  One self-contained page.
 *
 * A class of systems (a learner's check is a suite: services/ with several
 * services) has one row per learner and service, then the learner's TOTAL
 * row; the page adds the pass rates per service and item.  A class of single
 * services keeps one row per learner and no service column.
 */
#ifndef PHASELAB_SUMMARY_H
#define PHASELAB_SUMMARY_H

#include <stddef.h>

struct phase;
struct report;
struct suite;

/* The service column of a learner's total row in a class of systems. */
#define SUMMARY_TOTAL "TOTAL"

struct summary_row {
	const char *learner;
	const char *service;      /* NULL: a class of single services (no service column) */
	const char *language;     /* "node", "python"; "" when unknown (the total row, a service not graded) */
	int total;                /* the learner's TOTAL row, after the rows of their services */
	const char *commit;       /* "" when nothing was graded */
	long long committed_at;   /* the graded commit's committer time (seconds), when commit is not "" */
	int graded;               /* a report exists */
	int score, max_score, passed;
	int late;                 /* the graded commit is after the deadline (only with --late) */
	int commits_after_deadline; /* commits after the deadline that were not graded */
	const char *problem;      /* why it could not be graded, or NULL */
	/*
	 * The engine that graded it (grade --engine), "" for none; NULL: a class
	 * on one engine, no engine column (the gradebook as it always was).
	 */
	const char *engine;
	const char **statuses;    /* per phase check, in order: "pass", "fail", "skip", "error" */
};

/* The points of ph's checks, added up: the max_score of a service not graded. */
int summary_max_points(const struct phase *ph);

/*
 * A class of systems: the rows of one learner, from base (learner, commit,
 * committed_at, late, commits_after_deadline, problem; its other fields are
 * ignored).  Each fills rows[0..k-1] with one row per service and rows[k]
 * with the learner's total, and returns k + 1; rows must have room for it.
 * Each row's statuses is a new array of ph->nchecks (the caller frees it, as
 * summary_rows_release does); the strings are borrowed from base, s, r and
 * names, which must outlive the rows.
 *
 * summary_rows_suite: a suite's services, each item's status read from the
 * service's report by check id ("error" when it has none, as for a service
 * that could not be verified).
 */
size_t summary_rows_suite(struct summary_row *rows, const struct summary_row *base, const struct phase *ph,
			  const struct suite *s);
/* A learner graded as a single service (in a class of systems), named service. */
size_t summary_rows_report(struct summary_row *rows, const struct summary_row *base, const struct phase *ph,
			   const struct report *r, const char *service);
/*
 * A learner not graded (base->problem says why): one row per name in names
 * (the class's services), every item status ("skip" when nothing was on
 * time, "error" otherwise, as for a single service).
 */
size_t summary_rows_ungraded(struct summary_row *rows, const struct summary_row *base, const struct phase *ph,
			     const char *const *names, size_t n, const char *status);
/*
 * total from the n service rows before it: scores and maxima summed, graded
 * when some service was, passed when every one was graded and passed (and
 * there is one), each item the first
 * of "fail", "error", "skip" some service has, else "pass".  total->statuses
 * must have room for ph->nchecks.
 */
void summary_total(struct summary_row *total, const struct summary_row *services, size_t n, const struct phase *ph);
/* Free each row's statuses. */
void summary_rows_release(struct summary_row *rows, size_t n);

struct git_pick;
/*
 * row's commit, committed_at, late and commits_after_deadline from the
 * commit `grade` picked (lib/git.h): late only when the graded commit itself
 * is after the deadline, which only --late does; every other commit after
 * the deadline is counted, not graded.
 */
void summary_row_pick(struct summary_row *row, const struct git_pick *pick, int has_deadline, long long deadline);

struct strbuf;
/*
 * The gradebook (DIR/gradebook.csv) into sb: a header line
 * learner,commit,committed_at,late,commits_after_deadline,score,max_score,passed
 * then one column per check id of ph, and one line per row.  When a row
 * has a service (a class of systems), service,language follow learner.  A learner's
 * text that a spreadsheet would take for a formula is quoted and prefixed
 * with '.
 */
void summary_gradebook_csv(struct strbuf *sb, const struct phase *ph, const struct summary_row *rows, size_t n);

/*
 * The class summary page into sb, graded at now (RFC 3339).  In a class of
 * systems the cards, the score distribution and who has not passed count the
 * TOTAL rows, the items table the services' rows, and a table of services x
 * items gives each cell as "passed/graded".
 */
void summary_html(struct strbuf *sb, const struct phase *ph, const char *deadline, const char *now,
		  const struct summary_row *rows, size_t n);
/* Write out_dir/summary.html atomically.  0, or -1 (errno). */
int summary_write(const char *out_dir, const struct phase *ph, const char *deadline,
		  const struct summary_row *rows, size_t n);

/* An engine of a class spread over several (grade --engine), for the page. */
struct summary_engine {
	const char *name;         /* as given to --engine */
	const char *kind;         /* "docker 20.10.24", "podman 4.3.1", or the kind of name when never opened */
	const char *state;        /* "used", "left out", "lost mid-class" */
	const char *reason;       /* why left out or lost, or NULL */
	size_t checks_started;    /* checks started on it, handed-over ones included */
};
/*
 * summary_html and summary_write with an Engines section (engines[0..nengines),
 * whom each graded, read from the rows' engine): with nengines 0 the page is
 * summary_html's.
 */
void summary_html_engines(struct strbuf *sb, const struct phase *ph, const char *deadline, const char *now,
			  const struct summary_row *rows, size_t n, const struct summary_engine *engines,
			  size_t nengines);
int summary_write_engines(const char *out_dir, const struct phase *ph, const char *deadline,
			  const struct summary_row *rows, size_t n, const struct summary_engine *engines,
			  size_t nengines);

#endif
