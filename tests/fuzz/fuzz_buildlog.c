/*
 * Both builders' output parsers: buildlog_parse() on any bytes (buildlog.h).
 *
 * Seeds are real captures of each builder, so the fuzzer starts inside both
 * state machines.  What is checked is the header's contract: -1 exactly
 * when buildlog_detect() knows neither builder, and then an empty log; the
 * bounds on steps, lines and output; the failed step is the one marked
 * failed; BuildKit's steps in (stage, index) order; no control byte left
 * in any string (they reach terminals and reports); the lookups stay in
 * range.  And a step becomes report evidence (build_step_json(), what the
 * build check does with a failed step) whatever the builder printed.
 */
#include "fuzz.h"

#include "engine/buildlog.h"
#include "core/check.h"

/* A kept line is at most BUILDLOG_LINE_MAX bytes and the cut marker. */
#define LINE_BOUND (BUILDLOG_LINE_MAX + sizeof(" [line truncated]") - 1)

/* No control byte but those allowed (clean_line() drops the rest). */
static int clean_text(const char *s, const char *allowed)
{
	for (; *s; s++)
		if (((unsigned char)*s < 0x20 || *s == 0x7f) && !strchr(allowed, *s))
			return 0;
	return 1;
}

static void check_log(const struct build_log *log, enum builder_kind kind)
{
	long nfailed = 0, i, r;

	FUZZ_CHECK(log->builder == kind, "builder %d, detected %d", log->builder, kind);
	FUZZ_CHECK(log->nsteps <= BUILDLOG_STEPS_MAX, "%zu steps", log->nsteps);
	FUZZ_CHECK(log->failed_step >= -1 && log->failed_step < (long)log->nsteps, "failed_step %ld of %zu",
		   log->failed_step, log->nsteps);
	FUZZ_CHECK(log->failed || (log->failed_step < 0 && !log->error), "a failure in a log that did not fail");
	FUZZ_CHECK(log->exit_code >= -1, "exit code %d", log->exit_code);
	if (log->error)
		FUZZ_CHECK(strlen(log->error) <= 4 * BUILDLOG_LINE_MAX + LINE_BOUND && clean_text(log->error, "\t\n"),
			   "error text of %zu bytes, or with a control byte", strlen(log->error));
	for (i = 0; i < (long)log->nsteps; i++) {
		const struct build_step *st = &log->steps[i];
		size_t olen;
		json_t *ev;

		FUZZ_CHECK(st->instruction && st->output, "step %ld: NULL instruction or output", i);
		olen = strlen(st->output);
		FUZZ_CHECK(strlen(st->instruction) <= LINE_BOUND && clean_text(st->instruction, "\t"),
			   "step %ld: instruction of %zu bytes, or with a control byte", i, strlen(st->instruction));
		FUZZ_CHECK(!st->stage || (*st->stage && clean_text(st->stage, "\t")), "step %ld: stage", i);
		FUZZ_CHECK(olen <= BUILDLOG_OUTPUT_MAX && (!olen || st->output[olen - 1] == '\n') &&
			   clean_text(st->output, "\t\n"),
			   "step %ld: output of %zu bytes, not ending in a newline or with a control byte", i, olen);
		FUZZ_CHECK(!(st->ran && st->cached), "step %ld ran and came from the cache", i);
		FUZZ_CHECK(st->failed == (i == log->failed_step), "step %ld failed=%d, failed_step %ld", i,
			   st->failed, log->failed_step);
		nfailed += st->failed;
		if (kind == BUILDER_BUILDKIT && i > 0) {
			const struct build_step *prev = &log->steps[i - 1];
			FUZZ_CHECK(prev->stage_no < st->stage_no ||
				   (prev->stage_no == st->stage_no && prev->index <= st->index),
				   "steps %ld and %ld out of order", i - 1, i);
		}
		r = buildlog_first_rebuilt_before(log, i);
		FUZZ_CHECK(r < 0 || (r < (long)log->nsteps && log->steps[r].stage_no == st->stage_no &&
				     log->steps[r].index < st->index && log->steps[r].ran),
			   "first_rebuilt_before(%ld) = %ld", i, r);
		r = buildlog_find_step(log, st->instruction);
		FUZZ_CHECK(r >= 0 && r <= i, "find_step of step %ld's own instruction: %ld", i, r);
		ev = build_step_json(st);
		FUZZ_CHECK(ev, "step %ld cannot become evidence (build_step_json() is NULL): instruction '%s', "
			   "stage '%s'", i, st->instruction, st->stage ? st->stage : "(none)");
		json_decref(ev);
	}
	FUZZ_CHECK(nfailed <= 1, "%ld failed steps", nfailed);
	FUZZ_CHECK(buildlog_first_rebuilt_before(log, -1) == -1 &&
		   buildlog_first_rebuilt_before(log, (long)log->nsteps) == -1, "lookups out of range");
	FUZZ_CHECK(buildlog_find_step(log, NULL) == -1, "find_step(NULL)");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct build_log log;
	const char *text = size ? (const char *)data : NULL;
	enum builder_kind kind = buildlog_detect(text, size);
	int rc;

	buildlog_init(&log);
	/* twice on the same log: parse releases what it held first */
	for (int round = 0; round < 2; round++) {
		rc = buildlog_parse(&log, text, size);
		if (kind == BUILDER_UNKNOWN) {
			FUZZ_CHECK(rc == -1 && log.builder == BUILDER_UNKNOWN && !log.nsteps && !log.steps &&
				   !log.error && !log.failed && log.failed_step == -1,
				   "rc %d for text neither builder printed, or a log that is not empty", rc);
		} else {
			FUZZ_CHECK(rc == 0, "rc %d for a %s log", rc, kind == BUILDER_LEGACY ? "legacy" : "BuildKit");
			check_log(&log, kind);
		}
	}
	buildlog_release(&log);
	FUZZ_CHECK(!log.nsteps && !log.steps && !log.error, "released log not empty");
	buildlog_release(&log);
	return 0;
}
