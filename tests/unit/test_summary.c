/*
 * The gradebook (runner/grade/summary.c): what `late` and
 * commits_after_deadline say for each way a learner's commits can fall
 * around the deadline, and the CSV rows they make.  No engine, no git: the
 * picks are written here as git_pick_commit (lib/git.h) fills them.
 * A class of systems: the rows of a suite written here by hand (one per
 * service, then the learner's TOTAL), and the summary page's table of
 * services x items.
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
#include "report/report.h"

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

/* A report of checks builds (20 points) and size (10) with these statuses. */
static void fixed_report(struct report *r, struct check_result *c, enum check_status b, enum check_status z)
{
	static char builds[] = "builds", size[] = "size", id[] = "03-x";

	c[0] = (struct check_result){ .id = builds, .status = b, .points = b == CHECK_PASS ? 20 : 0, .max_points = 20 };
	c[1] = (struct check_result){ .id = size, .status = z, .points = z == CHECK_PASS ? 10 : 0, .max_points = 10 };
	*r = (struct report){ .phase_id = id, .checks = c, .nchecks = 2, .max_score = 30,
			      .score = c[0].points + c[1].points, .pass_mark = 30 };
	r->passed = r->score >= r->pass_mark;
}

static void test_systems(void **state)
{
	char builds[] = "builds", gate[] = "gate", size[] = "size", id[] = "03-x", title[] = "X";
	char node[] = "node", python[] = "python";
	char order[] = "order-service", product[] = "product-service", user[] = "user-service";
	struct check_def checks[3] = { { .id = builds, .title = title, .graded = 1, .points = 20 },
				       { .id = gate, .title = title }, { .id = size, .title = title, .graded = 1, .points = 10 } };
	struct phase ph = { .id = id, .title = title, .checks = checks, .nchecks = 3 };
	struct check_result c[3][2];
	struct suite_service sv[3] = {
		{ .name = order, .language = node },
		{ .name = product, .language = python },
		{ .name = user, .language = node }, /* not verified: its report is empty */
	};
	struct suite suite = { .services = sv, .nservices = 3 };
	struct git_pick carol = { C1, DEADLINE - 7200, C1, DEADLINE - 7200, 0, 0 };
	struct git_pick none = { "", 0, "", 0, 0, 0 };
	const char *const names[] = { order, product, user };
	struct summary_row base = { .learner = "carol" }, rows[13];
	struct strbuf sb = STRBUF_INIT;
	size_t n = 0;

	(void)state;
	fixed_report(&sv[0].report, c[0], CHECK_PASS, CHECK_PASS);
	fixed_report(&sv[1].report, c[1], CHECK_PASS, CHECK_FAIL);
	summary_row_pick(&base, &carol, 1, DEADLINE);
	n += summary_rows_suite(rows + n, &base, &ph, &suite);
	assert_int_equal(n, 4);
	/* erin: both services pass */
	suite.nservices = 2;
	fixed_report(&sv[1].report, c[1], CHECK_PASS, CHECK_PASS);
	base.learner = "erin";
	n += summary_rows_suite(rows + n, &base, &ph, &suite);
	/* dave: his check never ran; he gets the class's services, in error */
	base = (struct summary_row){ .learner = "dave", .problem = "the check exited 3: no engine" };
	summary_row_pick(&base, &none, 1, DEADLINE);
	n += summary_rows_ungraded(rows + n, &base, &ph, names, 3, "error");
	/* judy: graded as one service in this class of systems */
	base.learner = "judy";
	base.problem = NULL;
	summary_row_pick(&base, &carol, 1, DEADLINE);
	fixed_report(&sv[2].report, c[2], CHECK_FAIL, CHECK_SKIP);
	n += summary_rows_report(rows + n, &base, &ph, &sv[2].report, user);
	assert_int_equal(n, 13);

	summary_gradebook_csv(&sb, &ph, rows, n);
	assert_string_equal(sb.buf,
		"learner,service,language,commit,committed_at,late,commits_after_deadline,score,max_score,passed,builds,size\n"
		"carol,order-service,node," C1 ",2027-01-15T06:00:00Z,false,0,30,30,true,pass,pass\n"
		"carol,product-service,python," C1 ",2027-01-15T06:00:00Z,false,0,20,30,false,pass,fail\n"
		"carol,user-service,node," C1 ",2027-01-15T06:00:00Z,false,0,0,30,false,error,error\n"
		"carol,TOTAL,," C1 ",2027-01-15T06:00:00Z,false,0,50,90,false,error,fail\n"
		"erin,order-service,node," C1 ",2027-01-15T06:00:00Z,false,0,30,30,true,pass,pass\n"
		"erin,product-service,python," C1 ",2027-01-15T06:00:00Z,false,0,30,30,true,pass,pass\n"
		"erin,TOTAL,," C1 ",2027-01-15T06:00:00Z,false,0,60,60,true,pass,pass\n"
		"dave,order-service,,,,false,0,0,30,false,error,error\n"
		"dave,product-service,,,,false,0,0,30,false,error,error\n"
		"dave,user-service,,,,false,0,0,30,false,error,error\n"
		"dave,TOTAL,,,,false,0,0,90,false,error,error\n"
		"judy,user-service,," C1 ",2027-01-15T06:00:00Z,false,0,0,30,false,fail,skip\n"
		"judy,TOTAL,," C1 ",2027-01-15T06:00:00Z,false,0,0,30,false,fail,skip\n");
	/* a total passes only when each of its services was graded and passed */
	assert_true(rows[3].graded && !rows[3].passed);
	assert_false(rows[10].graded);
	assert_true(rows[6].graded && rows[6].passed);

	strbuf_reset(&sb);
	summary_html(&sb, &ph, NULL, "2027-01-15T10:00:00Z", rows, n);
	/* 4 learners (the TOTAL rows), erin passed, carol and judy did not, dave not graded */
	assert_non_null(strstr(sb.buf, "<b>4</b>learners</div><div class=\"card\"><b>1</b>passed</div>"
				       "<div class=\"card\"><b>2</b>not passed</div>"));
	assert_non_null(strstr(sb.buf, "<b>1</b>not graded</div>"));
	/* services x items, "passed/graded": carol's user-service was not verified, dave's not graded */
	assert_non_null(strstr(sb.buf, "<tr><th>service</th><th>passed</th><th>builds</th><th>size</th></tr>\n"
				       "<tr><td><b>order-service</b></td><td>2/2</td><td>2/2</td><td>2/2</td></tr>\n"
				       "<tr><td><b>product-service</b></td><td>1/2</td><td>2/2</td><td>1/2</td></tr>\n"
				       "<tr><td><b>user-service</b></td><td>0/1</td><td>0/1</td><td>0/1</td></tr>\n"
				       "</table>"));
	/* the items table counts the 5 graded services: builds passed in 4 */
	assert_non_null(strstr(sb.buf, "<b>builds</b><br>X</td><td>80%"));
	/* what failed names the service */
	assert_non_null(strstr(sb.buf, "<span class=\"st fail\">product-service: size</span> "
				       "<span class=\"st error\">user-service: builds</span>"));
	assert_null(strstr(sb.buf, "erin/report.html"));
	summary_rows_release(rows, n);
	strbuf_release(&sb);
}

/* A class of single services has no service column and no services table. */
static void test_single_html(void **state)
{
	char builds[] = "builds", id[] = "03-x", title[] = "X";
	struct check_def checks[1] = { { .id = builds, .title = title, .graded = 1, .points = 20 } };
	struct phase ph = { .id = id, .title = title, .checks = checks, .nchecks = 1 };
	const char *pass[] = { "pass" }, *fail[] = { "fail" };
	struct summary_row rows[2] = {
		{ .learner = "carol", .commit = C1, .graded = 1, .score = 20, .max_score = 20, .passed = 1, .statuses = pass },
		{ .learner = "erin", .commit = C1, .graded = 1, .max_score = 20, .statuses = fail },
	};
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	summary_html(&sb, &ph, NULL, "2027-01-15T10:00:00Z", rows, 2);
	assert_non_null(strstr(sb.buf, "<b>2</b>learners"));
	assert_non_null(strstr(sb.buf, "<b>builds</b><br>X</td><td>50%"));
	assert_non_null(strstr(sb.buf, "<span class=\"st fail\">builds</span>"));
	assert_null(strstr(sb.buf, "Services"));
	strbuf_release(&sb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lateness),
		cmocka_unit_test(test_csv),
		cmocka_unit_test(test_systems),
		cmocka_unit_test(test_single_html),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
