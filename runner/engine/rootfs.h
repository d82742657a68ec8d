/*
 * rootfs: a container's root filesystem read in place, where the engine has
 * it mounted on this machine (overlay2's merged folder of a running
 * container), as an alternative to exporting it as a tar archive.
 *
 * The tree is walked and read without following a single symbolic link,
 * not even in the middle of a path: the image's links point into the
 * image, and on the host they would point into the host.
 */
#ifndef PHASELAB_ROOTFS_H
#define PHASELAB_ROOTFS_H

#include <stddef.h>

#include "lib/tar.h"

/*
 * Is dir a mounted filesystem of its own (a different device from its
 * parent folder), readable by us?  1 or 0.
 */
int rootfs_usable(const char *dir);

/*
 * Call fn for every entry under dir, as tar_walk() does for an archive:
 * names relative to dir, types '0' (regular), '5' (folder), '2' (symlink,
 * with its target as linkname) or '3'..'6' for the rest; fn returns 0 to go
 * on, 1 to stop, 2 for the contents of a regular file (at most max_data
 * bytes).  Returns 0, or -1 with errno when dir cannot be read or is no
 * longer a mount (the container stopped): then nothing was passed to fn.
 */
int rootfs_walk(const char *dir, tar_fn fn, void *ctx, size_t max_data);

/*
 * The same walk of any folder (a build context), with no mount check.  In
 * both, fn may also return ROOTFS_SKIP for a folder: go on, but not into it.
 */
#define ROOTFS_SKIP 3
int rootfs_walk_dir(const char *dir, tar_fn fn, void *ctx, size_t max_data);

#endif
