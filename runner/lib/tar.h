/*
 * tar: read the entries of an uncompressed tar archive (what `docker export`
 * writes), for a static look at an image's filesystem, with libarchive's tar
 * reader (ustar, pax, GNU and v7 formats; no compression; nothing extracted).
 * Names and link targets are the archive's bytes, whatever they hold.
 */
#ifndef PHASELAB_TAR_H
#define PHASELAB_TAR_H

#include <stddef.h>

#include "lib/strbuf.h"

struct tar_entry {
	const char *name;      /* without a leading "./" or "/" */
	const char *linkname;  /* for links, else "" */
	char type;             /* '0' file, '2' symlink, '1' hard link, '5' folder, ... */
	unsigned mode;
	unsigned long long size;
	unsigned long long offset; /* where a regular file's data starts in the file walked */
};

/*
 * Call fn for each entry; fn returns 0 to go on, 1 to stop.  When want_data
 * is set and fn returns 2, the entry's contents (at most max_data bytes) are
 * read into data and fn is called again with data filled.  Returns 0, or
 * -1 when the file cannot be read or is not a tar archive (errno EINVAL).
 * A malformed archive is not one: a wrong checksum, a negative size or one
 * past the end of the file, a pax record that is not "LEN key=value\n", an
 * extension header over 1 MiB, headers over some 3 MiB for one entry, an
 * archive cut short (the entries before the fault have been passed to fn).
 * Types: '0' for every regular file (libarchive's reading of '7' and of the
 * types it does not know), '1' a hard link, '2' a symlink (their target in
 * linkname, never followed), '3' '4' devices, '5' a folder, '6' a FIFO.
 */
typedef int (*tar_fn)(void *ctx, const struct tar_entry *e, const struct strbuf *data);
int tar_walk(const char *path, tar_fn fn, void *ctx, size_t max_data);
/*
 * The same for an archive stored in the file at [offset, offset + length):
 * a regular file's data inside another archive (a layer in `docker save`'s
 * output, found by the outer walk's entry offset).  Nothing past the range
 * is read; the entries' offsets are the file's.
 */
int tar_walk_range(const char *path, unsigned long long offset, unsigned long long length, tar_fn fn,
		   void *ctx, size_t max_data);

#endif
