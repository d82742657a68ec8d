/*
 * git: what the report says of the target's version, through libgit2.
 */
#ifndef PHASELAB_GIT_H
#define PHASELAB_GIT_H

struct git_state {
	char commit[41];
	int dirty;     /* changes or untracked files in the work tree */
};

/*
 * The commit checked out in the work tree that contains dir, and whether the
 * tree is dirty.  Returns 1 when dir is in a repository with a commit, 0
 * when it is not (or has no commit yet), -1 on a libgit2 error.
 */
int git_describe_dir(const char *dir, struct git_state *st);

/*
 * Clone url (a git URL or a local path) into path, or fetch into an
 * existing clone: the learner's branches land in refs/remotes/origin/.
 * Hooks never run (libgit2 has none) and submodules are not touched.
 * Returns 0, or -1 with a message in err.
 */
struct strbuf;
int git_clone_or_fetch(const char *url, const char *path, struct strbuf *err);

struct git_pick {
	char commit[41];       /* what to grade; "" when nothing qualifies */
	long long committed_at; /* its committer time (seconds since the epoch) */
	char tip[41];          /* the branch's newest commit */
	long long tip_at;
	int late;              /* the tip is newer than the deadline */
	int after_deadline;    /* commits of the branch newer than the deadline (0 when the tip is not) */
};

/*
 * Choose the commit to grade on branch (NULL: the remote's default branch):
 * the newest commit at or before deadline (seconds, when has_deadline), or the
 * tip itself when late_ok; by committer time.  When the tip is late, every
 * commit of its history newer than the deadline is counted in
 * after_deadline, the picked one included.  Returns 0 (pick->commit may be "" when no commit
 * is old enough), -1 with a message in err.
 */
int git_pick_commit(const char *path, const char *branch, int has_deadline, long long deadline, int late_ok,
		    struct git_pick *pick, struct strbuf *err);

/*
 * Make dir a repository and commit everything in it (what .gitignore
 * allows) as its first commit, authored by the user's git identity or a
 * stand-in.  Returns 0, or -1 with a message in err.
 */
int git_init_commit(const char *dir, const char *message, struct strbuf *err);

/* Check commit out in the clone at path, detached, discarding any local change. */
int git_checkout_commit(const char *path, const char *commit, struct strbuf *err);

#endif
