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

#endif
