/*
 * roster: the class list for `phaselab grade`, CSV with a header line
 * `learner,repo[,branch]` (RFC 4180 quoting).  A learner id becomes a folder
 * name under the output folder, so it is held to [A-Za-z0-9][A-Za-z0-9._-]*
 * (at most 64): never a path, never outside.
 */
#ifndef PHASELAB_ROSTER_H
#define PHASELAB_ROSTER_H

#include <stddef.h>

#include "lib/strbuf.h"

struct roster_entry {
	char *learner;
	char *repo;     /* a git URL or a local path */
	char *branch;   /* NULL: the repository's default branch */
	int line;       /* in the roster file, for messages */
};

struct roster {
	struct roster_entry *entries;
	size_t n;
};

/*
 * Parse text.  A bad line is described in problems ("FILE:LINE: what is
 * wrong", one per line) and skipped; the others are kept.  Returns the
 * number of bad lines, or -1 when the file as a whole is unusable (no
 * header, or a header without the learner and repo columns).
 */
int roster_parse(const char *file, const char *text, size_t len, struct roster *r,
		 struct strbuf *problems);
void roster_release(struct roster *r);
/* 1 if s is a valid learner id. */
int roster_valid_id(const char *s);

#endif
