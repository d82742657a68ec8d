/*
 * progress: where a learner is in the curriculum, kept in the workspace
 * (.phaselab/progress.json), and the rules that move it on.
 *
 * A phase is locked until every phase it requires has passed, open while
 * the learner works through its steps, and passed once its whole checklist
 * reached the pass mark.  A step is done when its checks and those of the
 * steps before it pass; the last step's verification is the whole
 * checklist, which decides the phase.  The file is written atomically and
 * read strictly: a hand-edited or damaged file is refused with the key
 * that is wrong, and `phaselab reset` is the way out.
 */
#ifndef PHASELAB_PROGRESS_H
#define PHASELAB_PROGRESS_H

#include "core/phase.h"
#include "report/report.h"
#include "lib/strbuf.h"

struct hint_level {
	char *check;
	char *cause;           /* the cause of the failure they were for; NULL: none identified */
	int level;             /* hints shown so far for its current failure */
};

struct phase_progress {
	char *id;
	char *step;            /* the current step's id; NULL: the first */
	char *passed_at;       /* RFC 3339; NULL: not passed */
	int score, max_score;  /* of the passing run */
	long long image_bytes; /* the image size its last passing size check measured; 0: none */
	/*
	 * The same, per service of a system (phase 2 measures every service's
	 * development image): keyed by the service folder relative to the
	 * workspace ("services/order-service").  A file older than the system
	 * has image_bytes alone: that is the phase's own service's.
	 */
	struct service_size {
		char *service;
		long long bytes;
	} *sizes;
	size_t nsizes;
	struct hint_level *hints;
	size_t nhints;
};

struct progress {
	char *file;
	char *track;           /* the workspace's track; NULL: none recorded (made before tracks: the default) */
	struct phase_progress *phases;
	size_t n;
};

/*
 * Read file; a file that does not exist is a fresh start.  0, or -1 with
 * "FILE: KEY: what is wrong" in err.
 */
int progress_load(const char *file, struct progress *pg, struct strbuf *err);
/* Write it atomically.  0, or -1 with the reason in err. */
int progress_save(const struct progress *pg, struct strbuf *err);
/* Write a fresh start (no phase begun) of track (NULL: none recorded) to file, as progress_save does. */
int progress_write_empty(const char *file, const char *track, struct strbuf *err);
/*
 * The track a progress file records, read leniently (the rest of the file
 * may be damaged: `reset` keeps the track of a file it cannot load): a new
 * string, or NULL when it names none or cannot be read.
 */
char *progress_peek_track(const char *file);
void progress_release(struct progress *pg);

/* A phase's entry; with create, made when missing.  NULL otherwise. */
struct phase_progress *progress_phase(struct progress *pg, const char *id, int create);

enum phase_state { PHASE_LOCKED, PHASE_OPEN, PHASE_PASSED };

/* The state of ph; when locked, *needs (if given) is the first required phase not passed. */
enum phase_state progress_state(const struct progress *pg, const struct phase *ph, const char **needs);
/* The phase to work on: the first open one by number; NULL when every phase passed. */
const struct phase *progress_current(const struct progress *pg, const struct phase_set *set);
/*
 * The index of ph's current step.  A step id the phase does not have (the
 * phase file changed) gives -1: the caller says so.
 */
int progress_step(const struct progress *pg, const struct phase *ph);

/* Which checks verify step k: those of steps 0..k (what a step must keep passing). */
void progress_step_checks(const struct phase *ph, int k, unsigned char *only);

enum step_outcome { STEP_NOT_DONE, STEP_DONE, PHASE_DONE };

/*
 * Record a verification of step k of ph (r holds the checks that ran):
 * passing checks forget their hint levels, so do failing ones whose cause
 * changed, a passing size check records the
 * image's size, and the step advances or the phase passes.  now: RFC 3339.
 */
enum step_outcome progress_record(struct progress *pg, const struct phase *ph, int k,
				  const struct report *r, const char *now);

/*
 * The recorded image size of service (a folder relative to the workspace)
 * in pp: image_bytes for the phase's own service (own: its service_dir) or
 * a NULL service, else the service's entry.  0: none recorded.
 */
long long progress_image_bytes(const struct phase_progress *pp, const char *service, const char *own);
/* Record bytes as service's image size (NULL service: image_bytes). */
void progress_set_image_bytes(struct phase_progress *pp, const char *service, long long bytes);

/*
 * Record one service's checks (r) of a step that verifies several services:
 * hint levels as progress_record keeps them, and a passing size check's
 * image size under service (the phase's own service: in image_bytes, as
 * progress_record keeps it).  Returns 1 when every check of r passed.
 */
int progress_record_service(struct progress *pg, const struct phase *ph, const char *service,
			    const struct report *r);
/*
 * Move on from step k of ph after a verification of several services:
 * passed says whether all of them passed (on the last step: reached the
 * pass mark, score of max_score), as progress_record decides it.
 */
enum step_outcome progress_advance(struct progress *pg, const struct phase *ph, int k, int passed, int score,
				   int max_score, const char *now);

/*
 * Hints shown for check's current failure, and the next level to show.  The
 * level is kept with the cause it was for (NULL: none identified): asked
 * for another cause, it is 0 again, the tiers of the new cause start over.
 * Setting level 0 forgets the check.
 */
int progress_hint_level(const struct phase_progress *pp, const char *check, const char *cause);
void progress_set_hint_level(struct phase_progress *pp, const char *check, const char *cause, int level);

#endif
