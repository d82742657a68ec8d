/*
 * buildlog: read what `docker build` printed and say which steps came from
 * the cache, which ran, and which one failed.
 *
 * Two output formats are understood, each as produced on this engine
 * (dockerd 20.10); the fixtures in tests/fixtures/buildlog/ are real captures:
 *
 *   legacy    "Step 3/9 : RUN npm ci", " ---> Using cache", " ---> Running in
 *             <id>", "The command '...' returned a non-zero code: 127"
 *   BuildKit  with --progress=plain: "#7 [builder 4/6] RUN npm ci", "#7 0.512
 *             <output>", "#7 CACHED", "#7 ERROR: ...", "------" blocks and
 *             the final error line
 *   buildah   `podman build` (4.3, buildah 1.28), both streams in one:
 *             "[1/2] STEP 4/6: RUN npm ci" (the "[i/k]" stage prefix only in
 *             multi-stage builds; numbering per stage), "--> Using cache
 *             <id>", "--> <short id>", "[2/2] COMMIT", the image id last, and
 *             "Error: building at STEP \"...\": ... exit status 127"
 *
 * The parser takes the builder's stdout and stderr either merged or
 * concatenated (stdout first): only the order of each stream's own lines
 * matters.  Input is untrusted: any bytes, any length, CR or CRLF line ends,
 * ANSI colour codes (stripped), a last line without a newline.  Memory stays
 * bounded: each step keeps the last BUILDLOG_OUTPUT_MAX bytes of its output,
 * each line at most BUILDLOG_LINE_MAX bytes, at most BUILDLOG_STEPS_MAX steps.
 *
 * Every string is valid UTF-8 (invalid bytes become U+FFFD, a cut never
 * splits a character) with no control byte but tab, and newline in output
 * and error: steps become JSON evidence, which must be UTF-8.
 *
 * Ownership: every string in a build_log belongs to it and is freed by
 * buildlog_release(); callers copy what they keep.  Allocation failure is
 * fatal (xalloc.h).
 */
#ifndef PHASELAB_BUILDLOG_H
#define PHASELAB_BUILDLOG_H

#include <stddef.h>

#include "lib/strbuf.h"

#define BUILDLOG_OUTPUT_MAX (64 * 1024)
#define BUILDLOG_LINE_MAX (16 * 1024)
#define BUILDLOG_STEPS_MAX 512

enum builder_kind { BUILDER_UNKNOWN, BUILDER_LEGACY, BUILDER_BUILDKIT, BUILDER_BUILDAH };
/* "legacy", "buildkit" or "buildah" (the report's word; "legacy" for unknown, as before buildah) */
const char *builder_name(enum builder_kind kind);

struct build_step {
	/*
	 * Name of the stage as written after FROM ... AS; NULL for an unnamed
	 * stage (BuildKit's "stage-1" is its own label, not a name).
	 */
	char *stage;
	/*
	 * Equal for the steps of one stage, different between stages.  Stages
	 * are numbered from 1 in the order the builder first shows them;
	 * legacy instructions before the first FROM (global ARG) get 0.
	 */
	int stage_no;
	/*
	 * BuildKit's N of an unnamed stage's label "stage-N" (the FROM's index
	 * in the Dockerfile), -1 otherwise: stage_no follows the order of the
	 * output, which BuildKit's parallel stages do not keep.
	 */
	int unnamed_no;
	/* 3 and 9 for "Step 3/9" or "[builder 3/6]"; BuildKit counts per stage. */
	int index, total;
	/* "RUN npm ci --omit=dev" as the builder printed it; never NULL. */
	char *instruction;
	/* The builder said it reused the cache ("Using cache", "CACHED"). */
	int cached;
	/*
	 * The step started and did not come from the cache.  Never set for
	 * FROM: resolving a base image is not a rebuild.
	 */
	int ran;
	/*
	 * The legacy builder's image of this step, as it printed it
	 * (" ---> 3f1a2b4c5d6e": 12 or more hex digits); NULL when none was
	 * printed (BuildKit, or the step did not finish).  The images of steps
	 * that ran hold what no later build will hit; they carry no label.
	 */
	char *image;
	/* 1 for the step that failed, i.e. the one at build_log.failed_step. */
	int failed;
	/*
	 * The step's own output lines, each ending in '\n' (BuildKit's
	 * "#7 0.512 " prefixes removed), at most the last BUILDLOG_OUTPUT_MAX
	 * bytes, cut at a line start; "" when it printed nothing, never NULL.
	 */
	char *output;
};

struct build_log {
	enum builder_kind builder;
	/*
	 * In build order.  Legacy: as printed.  BuildKit: grouped by stage in
	 * order of first appearance, then by index.  BuildKit omits steps it
	 * merged with an identical one (two stages FROM the same image show
	 * one FROM), so nsteps can be less than the Dockerfile's count.
	 */
	struct build_step *steps;
	size_t nsteps;
	/*
	 * The log shows a failure: BuildKit printed an ERROR or a final error
	 * line; legacy stopped without "Successfully built" after printing a
	 * line that is not part of the build's own structure.  A legacy log
	 * cut off in the middle of a RUN therefore counts as failed.
	 */
	int failed;
	/*
	 * Index into steps of the failed step, or -1 when the failure is not
	 * in a step: Dockerfile parse errors, and base images that cannot be
	 * resolved or pulled (a failing FROM step is -1 on both builders,
	 * because BuildKit fails on an internal vertex before any step).
	 */
	long failed_step;
	/*
	 * The builder's final error message: one line for legacy, the lines
	 * after the last "------" block for BuildKit (joined with '\n', no
	 * trailing newline), else the failing vertex's ERROR text.  NULL when
	 * the build did not fail.
	 */
	char *error;
	/* Exit code of the failing command when printed, else -1. */
	int exit_code;
	/*
	 * buildah: the stages the build has (k of "[i/k]"; 1 without the
	 * prefix), whether or not it reached them all; 0 for the other builders.
	 */
	int stages;
};

/* Prepare an empty log; buildlog_release() may be called on it at once. */
void buildlog_init(struct build_log *log);

/*
 * Parse text[0..len) into log (previous contents are released first; text
 * may be NULL when len is 0).  Returns 0, or -1 when the text is not
 * recognisably either builder's output: then log is empty and
 * log->builder is BUILDER_UNKNOWN.
 */
int buildlog_parse(struct build_log *log, const char *text, size_t len);

/* Free every string and the steps, leaving an empty, reusable log. */
void buildlog_release(struct build_log *log);

/* Which builder printed text[0..len), from the first line only one could print. */
enum builder_kind buildlog_detect(const char *text, size_t len);

/*
 * Number the steps as the learner's own `docker build` prints them.  The
 * legacy builder runs the engine's `--label KEY=VALUE` as one more step,
 * "Step 16/16 : LABEL KEY=VALUE", after the Dockerfile's own, and counts it
 * in every "Step k/N" from the first: a build of a 15-instruction Dockerfile
 * shows "Step 4/16" here but "Step 4/15" at the learner's terminal.  For a
 * legacy log of a build started with --label label_key=...: the label's
 * step is removed when it was printed, and every total is one less (it
 * counted the label even when the build failed before reaching it).
 * BuildKit applies labels without a step and numbers per stage, as the
 * learner sees it: nothing changes.  buildah also runs the label as a step,
 * `LABEL "KEY"="VALUE"`, the last of the last stage, and counts it in that
 * stage's totals only.  Call it at most once per parse.
 */
void buildlog_drop_label_step(struct build_log *log, const char *label_key);

/*
 * First step (in build order) whose instruction contains needle
 * (case-sensitive, e.g. "npm ci"), or -1.
 */
long buildlog_find_step(const struct build_log *log, const char *needle);

/*
 * The first step before step `before`, in the same stage (lower index, same
 * stage_no), that ran instead of coming from cache: the reason a later step
 * could not be cached.  -1 if none, or when `before` is out of range.
 */
long buildlog_first_rebuilt_before(const struct build_log *log, long before);

/*
 * Why a build failed, read from its log and the Dockerfile that was built:
 * what checks/build.c names as the failure's cause.  A pure reading (no
 * engine): a base image that cannot be had is for the caller to find (it
 * asks the engine), and a failure none of these explains has no cause.
 */
struct build_diagnosis {
	/*
	 * One of "parse-error", "unknown-instruction", "copy-source-missing",
	 * "lockfile-out-of-date", "lockfile-missing", "no-build-script",
	 * "tsc-not-found", "command-not-found" (a static string), or NULL.
	 */
	const char *cause;
	/* The Dockerfile line it concerns (1-based; 0: not known) and its text, trimmed (NULL: none). */
	int line_number;
	char *line;
	/* The learner's line corrected, when the cause allows (a near-miss instruction); else NULL. */
	char *corrected;
	/*
	 * The cause's word, or NULL: the unknown instruction ("EXPOES"), the
	 * command not found ("pnpm"), the missing script ("build"), the COPY
	 * source not found ("yarn.lock"), the parse error's own message, the
	 * packages the lock file lacks ("ms@2.1.3"; NULL when npm named none).
	 */
	char *word;
	/* tsc-not-found: the line that left devDependencies out ("RUN npm ci --omit=dev"), else NULL. */
	char *install_line;
};

/*
 * Diagnose log (a failed build's) with dockerfile[0..len), the text that was
 * built (NULL when it could not be read: lines are then not quoted).  d is
 * overwritten; build_diagnosis_release() frees it.
 */
void buildlog_diagnose(const struct build_log *log, const char *dockerfile, size_t len,
		       struct build_diagnosis *d);
void build_diagnosis_release(struct build_diagnosis *d);

/*
 * The Dockerfile instruction nearest to word (case-insensitive; a swap of
 * two neighbours counts as one edit), when at most 2 edits away and nearer
 * than any other: "EXPOES" -> "EXPOSE".  Upper case, static; NULL otherwise.
 */
const char *dockerfile_nearest_instruction(const char *word);

/*
 * The step as the builder numbers it in its own output, for messages:
 * "step 4/15" (legacy: "Step 4/15"), "step [builder 4/6]" (BuildKit counts
 * per stage: "#7 [builder 4/6]"; an unnamed stage is "stage-N", from 0),
 * "step 4/6" (buildah: "[1/2] STEP 4/6", per stage).
 */
void buildlog_step_ref(const struct build_log *log, const struct build_step *s, struct strbuf *sb);

#endif
