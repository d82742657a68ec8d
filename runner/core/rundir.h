/*
 * rundir: one scratch folder per run, and the cleanup of runs that died.
 *
 * Every run gets an id and a folder under the state directory
 * ($PHASELAB_STATE_DIR, else $XDG_RUNTIME_DIR/phaselab, else
 * /tmp/phaselab-<uid>), holding an exclusive flock for as long as it lives.
 * The id is also the engine label of everything the run creates.  A later run
 * that can take the lock of a folder knows its owner is gone (killed, even by
 * SIGKILL) and removes what it left: the folder, and the engine's objects
 * with its label.  A live run's lock cannot be taken, so runs in parallel
 * never clean each other up.
 */
#ifndef PHASELAB_RUNDIR_H
#define PHASELAB_RUNDIR_H

#include "lib/strbuf.h"

struct engine;

struct rundir {
	char id[40];
	char *path;      /* the run's scratch folder */
	int lock_fd;
};

/* Create the run's folder and take its lock.  0, or -1 with a message in err. */
int rundir_create(struct rundir *rd, struct strbuf *err);
/* A path inside the run's folder (new string). */
char *rundir_path(const struct rundir *rd, const char *name);
/* Remove the folder and release the lock. */
void rundir_remove(struct rundir *rd);
/*
 * The engine could not remove everything the run made: empty the folder but
 * keep it, and release the lock, so that the next run finds it dead and
 * removes the run's labelled objects once the engine answers again.
 */
void rundir_abandon(struct rundir *rd);
/*
 * Remove what dead runs left behind: engine objects labelled with their id
 * (when e is not NULL) and their folders.  Returns the number of dead runs found.
 */
int rundir_reap_stale(struct engine *e);

#endif
