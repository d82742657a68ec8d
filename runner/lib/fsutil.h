/*
 * Files and folders: scratch space, copies, removal.  Nothing here follows a
 * symbolic link: a learner's link pointing outside the submission is copied
 * as a link and never read through.
 */
#ifndef PHASELAB_FSUTIL_H
#define PHASELAB_FSUTIL_H

#include <stddef.h>
#include <sys/types.h>

#include "lib/strbuf.h"

/*
 * Which entries copy_tree skips: rel is the path relative to the source
 * root ("src/app.js"), is_dir says whether it is a folder.  Return 1 to skip.
 */
typedef int (*copy_filter_fn)(void *ctx, const char *rel, int is_dir);

/*
 * Copy the tree at src into dst (which must not exist).  Regular files,
 * folders and symbolic links (as links) are copied with their modes;
 * anything else (devices, sockets, fifos) is skipped.  Stops after
 * max_bytes of file contents (0: no limit).  Returns 0, or -1 with a message
 * naming the path in err.
 */
int copy_tree(const char *src, const char *dst, copy_filter_fn filter, void *ctx,
	      unsigned long long max_bytes, struct strbuf *err);

/* Remove a tree without following links.  Returns 0, or -1 (errno of the first failure). */
int remove_tree(const char *path);
/* Remove what the folder dir holds, except the entry named keep (may be NULL).  As remove_tree. */
int remove_contents(const char *dir, const char *keep);

/*
 * A folder the program ships with (name: "phases", "labs"): $env when set,
 * else name/ beside the program's bin/ folder (a build in the source tree;
 * never looked for beside the installed bindir), else name/ in the data
 * folder `make install` fills, PHASELAB_DATADIR (from the Makefile:
 * $(datadir)/phaselab, /usr/local/share/phaselab by default).  New string.
 */
char *install_dir(const char *env, const char *name);

/* Read a whole regular file (not through a symlink), at most max bytes.  0, or -1 with errno. */
int read_file_nofollow(const char *path, size_t max, struct strbuf *out);

/* Write data to path atomically (temporary file in the same folder, fsync, rename). */
int write_file_atomic(const char *path, const void *data, size_t len);

#endif
