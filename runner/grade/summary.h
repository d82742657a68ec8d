/*
 * summary: the class at a glance (DIR/summary.html) for `phaselab grade`:
 * the pass rate of each item (which item the class struggles with), the
 * score distribution, and who has not passed.  One self-contained page.
 */
#ifndef PHASELAB_SUMMARY_H
#define PHASELAB_SUMMARY_H

#include <stddef.h>

struct phase;

struct summary_row {
	const char *learner;
	const char *commit;       /* "" when nothing was graded */
	int graded;               /* a report exists */
	int score, max_score, passed, late;
	const char *problem;      /* why it could not be graded, or NULL */
	const char **statuses;    /* per phase check, in order: "pass", "fail", "skip", "error" */
};

/* Write out_dir/summary.html atomically.  0, or -1 (errno). */
int summary_write(const char *out_dir, const struct phase *ph, const char *deadline,
		  const struct summary_row *rows, size_t n);

#endif
