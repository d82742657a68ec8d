/*
 * The gradebook (runner/grade/summary.c): what `late` and
 * commits_after_deadline say for each way a learner's commits can fall
 * around the deadline, and the CSV rows they make.  No engine, no git: the
 * picks are written here as git_pick_commit (lib/git.h) fills them.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "core/phase.h"
#include "grade/summary.h"
#include "lib/git.h"
#include "lib/strbuf.h"

#define DEADLINE 1800000000LL /* 2027-01-15T08:00:00Z */
#define C1 "1111111111111111111111111111111111111111"
#define C2 "2222222222222222222222222222222222222222"

struct lateness_row {
	const char *name;
	struct git_pick pick;
	int has_deadline;
	int late, after; /* what the gradebook must say */
};

static const struct lateness_row lateness[] = {
	/* graded on time, nothing later */
	{ "on time", { C1, DEADLINE - 60, C1, DEADLINE - 60, 0, 0 }, 1, 0, 0 },
	/* the bug: graded at the on-time commit, committed 2 more after: not late, 2 counted */
	{ "on time, later commits", { C1, DEADLINE - 60, C2, DEADLINE + 60, 1, 2 }, 1, 0, 2 },
	/* --late: the tip after the deadline is what was graded */
	{ "--late, one late commit", { C2, DEADLINE + 60, C2, DEADLINE + 60, 1, 1 }, 1, 1, 0 },
	{ "--late, three late commits", { C2, DEADLINE + 60, C2, DEADLINE + 60, 1, 3 }, 1, 1, 2 },
	/* only late commits, no --late: nothing graded, nothing late, all counted */
	{ "only late commits", { "", 0, C2, DEADLINE + 60, 1, 1 }, 1, 0, 1 },
	/* exactly at the deadline is on time */
	{ "at the deadline", { C1, DEADLINE, C1, DEADLINE, 0, 0 }, 1, 0, 0 },
	/* no deadline: nothing is late */
	{ "no deadline", { C2, DEADLINE + 60, C2, DEADLINE + 60, 0, 0 }, 0, 0, 0 },
};

static void test_lateness(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(lateness) / sizeof(lateness[0]); i++) {
		const struct lateness_row *t = &lateness[i];
		struct summary_row row = { 0 };

		summary_row_pick(&row, &t->pick, t->has_deadline, DEADLINE);
		if (row.late != t->late || row.commits_after_deadline != t->after)
			fail_msg("%s: late=%d commits_after_deadline=%d, want %d and %d", t->name, row.late,
				 row.commits_after_deadline, t->late, t->after);
		assert_string_equal(row.commit, t->pick.commit);
	}
}

static void test_csv(void **state)
{
	char builds[] = "builds", gate[] = "gate", size[] = "size", id[] = "03-x";
	/* a step's gate (not graded) is no column of the gradebook */
	struct check_def checks[3] = { { .id = builds, .graded = 1 }, { .id = gate }, { .id = size, .graded = 1 } };
	struct phase ph = { .id = id, .checks = checks, .nchecks = 3 };
	const char *pass2[] = { "pass", "fail", "pass" }, *fail[] = { "pass", "pass", "fail" };
	const char *skip[] = { "skip", "skip", "skip" };
	struct git_pick carol = { C1, DEADLINE - 7200, C2, DEADLINE + 3600, 1, 1 };
	struct git_pick erin = { C2, DEADLINE + 3600, C2, DEADLINE + 3600, 1, 2 };
	struct git_pick dave = { "", 0, C2, DEADLINE + 3600, 1, 1 };
	struct summary_row rows[4] = {
		{ .learner = "carol", .graded = 1, .score = 30, .max_score = 30, .passed = 1, .statuses = pass2 },
		{ .learner = "erin", .graded = 1, .score = 20, .max_score = 30, .statuses = fail },
		{ .learner = "dave", .max_score = 30, .statuses = skip },
		{ .learner = "=cmd", .max_score = 30, .statuses = skip },
	};
	struct git_pick none = { "", 0, "", 0, 0, 0 };
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	summary_row_pick(&rows[0], &carol, 1, DEADLINE);
	summary_row_pick(&rows[1], &erin, 1, DEADLINE);
	summary_row_pick(&rows[2], &dave, 1, DEADLINE);
	summary_row_pick(&rows[3], &none, 1, DEADLINE);
	summary_gradebook_csv(&sb, &ph, rows, 4);
	assert_string_equal(sb.buf,
		"learner,commit,committed_at,late,commits_after_deadline,score,max_score,passed,builds,size\n"
		"carol," C1 ",2027-01-15T06:00:00Z,false,1,30,30,true,pass,pass\n"
		"erin," C2 ",2027-01-15T09:00:00Z,true,1,20,30,false,pass,fail\n"
		"dave,,,false,1,0,30,false,skip,skip\n"
		"\"'=cmd\",,,false,0,0,30,false,skip,skip\n");
	strbuf_release(&sb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lateness),
		cmocka_unit_test(test_csv),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
