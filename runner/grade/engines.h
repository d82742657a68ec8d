/*
 * engines: a class spread over several engines (`grade --engine A --engine B`).
 *
 * An engine is named as instructors already name them: a docker context, a
 * DOCKER_HOST URL (unix://, tcp://, ssh://) or `podman`.  Each learner's
 * check is a child `phaselab check` whose environment picks its engine
 * (engine_spec's env), so the engine code does not change.
 *
 * The pool decides, without touching a process or an engine, who goes
 * where: a learner waits, runs on one engine (both builds of the cache item
 * go to it: the check runs whole there), and is done.  A check that failed
 * the way a vanishing engine makes checks fail (exit 3, killed, timed out)
 * while that engine no longer answers a ping marks the engine lost, and
 * hands the learner back to the queue for the others; a learner whose check
 * finished keeps its result, so no one is graded twice and no one is lost.
 */
#ifndef PHASELAB_GRADE_ENGINES_H
#define PHASELAB_GRADE_ENGINES_H

#include <stddef.h>

struct strbuf;

enum engine_spec_kind {
	ENGINE_SPEC_CONTEXT,  /* a docker context: DOCKER_CONTEXT=NAME */
	ENGINE_SPEC_URL,      /* a DOCKER_HOST URL */
	ENGINE_SPEC_PODMAN,   /* podman, with its own CLI (and its default connection) */
};

#define ENGINE_SPEC_NENV 4

struct engine_spec {
	char *name;                   /* as given (owned) */
	enum engine_spec_kind kind;
	/*
	 * The child's environment entries (owned, NULL-terminated), in proc.h's
	 * form: "NAME=value" sets, "NAME" alone removes (a context must not be
	 * overridden by an inherited DOCKER_HOST, nor a URL by a context).
	 */
	char *env[ENGINE_SPEC_NENV];
};

/*
 * Parse one --engine value into s.  0; or -1 with the reason in err
 * ("'tcp://' names no host"), s left empty.  The caller names the option.
 */
int engine_spec_parse(const char *text, struct engine_spec *s, struct strbuf *err);
void engine_spec_release(struct engine_spec *s);
/* "podman", "docker (context NAME)", "docker (URL)": for messages and the summary (static or s's). */
const char *engine_spec_kind_name(const struct engine_spec *s);

/*
 * Put s's env into this process's own environment (for a probe or a ping in
 * the parent, whose engine CLI inherits it); the previous values are kept in
 * saved (ENGINE_SPEC_NENV entries) for engine_spec_restore.
 */
void engine_spec_apply(const struct engine_spec *s, char **saved);
void engine_spec_restore(const struct engine_spec *s, char **saved);

enum pool_state {
	POOL_WAITING,         /* to be graded */
	POOL_RUNNING,         /* its check runs on engine_of */
	POOL_DONE,            /* graded, or not gradable (a problem of its own) */
};

struct pool_engine {
	int usable;           /* probed fine and not lost since */
	int lost;             /* stopped answering mid-class */
	int running;          /* checks running on it */
	size_t started;       /* checks started on it (handed-over ones included) */
	size_t finished;      /* checks that ended on it with a grading */
};

struct grade_pool {
	struct pool_engine *engines;
	size_t nengines;
	int jobs;             /* checks at once per engine */
	unsigned char *state; /* per learner: enum pool_state */
	int *engine_of;       /* per learner: the engine it runs or ran on, -1 none */
	int *handed_from;     /* per learner: the engine it was taken from, -1 none */
	size_t nlearners;
	size_t handed_over;   /* hand-overs so far */
	size_t ungraded;      /* learners whose engine was lost with no engine left (POOL_UNGRADED) */
};

/* All learners waiting, every engine usable (mark the left-out ones with pool_leave_out). */
void pool_init(struct grade_pool *p, size_t nengines, int jobs, size_t nlearners);
void pool_release(struct grade_pool *p);
/* An engine that failed its probe: never used. */
void pool_leave_out(struct grade_pool *p, size_t engine);
/* A learner not to grade here (a problem of its own, or an earlier run's result): done. */
void pool_skip(struct grade_pool *p, size_t learner);
/* The first waiting learner (roster order), or -1. */
long pool_next_learner(const struct grade_pool *p);
/* The usable engine with a free slot and the fewest checks running (then the fewest started), or -1. */
int pool_pick_engine(const struct grade_pool *p);
void pool_start(struct grade_pool *p, size_t learner, int engine);

/* 1 when a check's exit status is one an engine going away can cause: a ping must decide. */
int pool_status_suspect(int status);

enum pool_verdict {
	POOL_KEEP,            /* the learner is done: its result (or its own problem) stands */
	POOL_HAND_OVER,       /* the learner waits again, for another engine */
	POOL_UNGRADED,        /* its engine was lost and no engine is left: not graded */
};
/*
 * The learner's check ended.  graded: it left a grading (exit 0 or 1 and a
 * report), which is always kept.  engine_gone: the engine does not answer
 * (its ping failed after a suspect status); the engine is then marked lost.
 * A check that ended ungraded on an engine already lost is handed over too,
 * without another ping.
 */
enum pool_verdict pool_finish(struct grade_pool *p, size_t learner, int graded, int engine_gone);
/* Usable engines left. */
size_t pool_usable(const struct grade_pool *p);
/* Checks running. */
size_t pool_running(const struct grade_pool *p);
/* 1 when nothing more can start or end: nothing runs, and nothing waits or no engine is usable. */
int pool_over(const struct grade_pool *p);
/* The learners still waiting when no engine is left are given up: each becomes done; how many. */
size_t pool_give_up(struct grade_pool *p);

#endif
