/*
 * summary: the gradebook (DIR/gradebook.csv) and the class at a glance
 * (DIR/summary.html) for `phaselab grade`, from one row per learner: the pass rate of each item (which item the class struggles with), the
 * score distribution, and who has not passed.  One self-contained page.
 */
#ifndef PHASELAB_SUMMARY_H
#define PHASELAB_SUMMARY_H

#include <stddef.h>

struct phase;

struct summary_row {
	const char *learner;
	const char *commit;       /* "" when nothing was graded */
	long long committed_at;   /* the graded commit's committer time (seconds), when commit is not "" */
	int graded;               /* a report exists */
	int score, max_score, passed;
	int late;                 /* the graded commit is after the deadline (only with --late) */
	int commits_after_deadline; /* commits after the deadline that were not graded */
	const char *problem;      /* why it could not be graded, or NULL */
	const char **statuses;    /* per phase check, in order: "pass", "fail", "skip", "error" */
};

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
 * then one column per check id of ph, and one line per row.  A learner's
 * text that a spreadsheet would take for a formula is quoted and prefixed
 * with '.
 */
void summary_gradebook_csv(struct strbuf *sb, const struct phase *ph, const struct summary_row *rows, size_t n);

/* Write out_dir/summary.html atomically.  0, or -1 (errno). */
int summary_write(const char *out_dir, const struct phase *ph, const char *deadline,
		  const struct summary_row *rows, size_t n);

#endif
