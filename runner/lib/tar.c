/*
 * tar_walk() on libarchive's tar reader, restricted to what `docker export`
 * writes and read as the hostile input it may be:
 *
 *  - the tar formats only (ustar, pax, GNU, v7), no compression filter,
 *    nothing extracted: entries are described to fn and their data, when
 *    asked for, copied into memory up to max_data;
 *  - libarchive's own bounds (a checksum on every header, a pax, 'L' or 'K'
 *    header of at most 1 MiB, at most 32 of them before an entry) and ours:
 *    an entry's data must fit in what is left of a regular file, and what
 *    is read to find one entry's headers is bounded (HEADER_BYTES_MAX), so
 *    that a sparse map, which libarchive keeps in memory, cannot grow with
 *    the archive (`docker export` writes no sparse file);
 *  - anything libarchive only warns about (a malformed pax record, too many
 *    extension headers) makes the archive malformed: the walk stops.  But
 *    one: a pax name that is not ASCII cannot be converted to the C locale
 *    we run in, and libarchive then keeps its bytes as they are, which is
 *    what we want (a check compares bytes; `docker export` writes a pax
 *    name for every name that is not ASCII, in UTF-8 or not);
 *  - Mac "._" metadata entries are not merged (libarchive, where it does
 *    that, reads one whole into memory, whatever its size).
 *
 * We read the file ourselves (callbacks below): libarchive never opens a
 * path, and a skip past the end of the file is short, not a seek beyond it.
 */
#include "lib/tar.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define READ_BLOCK 65536

/*
 * The most read from the file while looking for one entry: its header and
 * the extension headers before it (a pax, an 'L' and a 'K' header of 1 MiB
 * each fit, with a read block to spare).  A GNU sparse map is read there
 * too, and libarchive keeps each of its pairs in memory (some 50 bytes for
 * 4 of the map's): this keeps that under 40 MiB, whatever the archive.
 */
#define HEADER_BYTES_MAX ((3ULL << 20) + 2 * READ_BLOCK)

/* The file under libarchive: where we are, where it ends, how far headers may go. */
struct source {
	int fd;
	int regular;                 /* a regular file: its end is known, skips seek */
	unsigned long long end;      /* its size (or the range's), when regular */
	unsigned long long base;     /* where the archive starts in the file */
	unsigned long long pos;      /* bytes read or skipped so far */
	unsigned long long limit;    /* no reading past this (ULLONG_MAX: none) */
	int read_errno;              /* the error of a failed read(), else 0 */
	char buf[READ_BLOCK];
};

static la_ssize_t source_read(struct archive *a, void *v, const void **out)
{
	struct source *s = v;
	size_t want = sizeof(s->buf);
	ssize_t n;

	*out = s->buf;
	if (s->pos >= s->limit) {
		archive_set_error(a, EINVAL, "headers of more than %llu bytes for one entry", HEADER_BYTES_MAX);
		return -1;
	}
	if (s->limit - s->pos < want)
		want = (size_t)(s->limit - s->pos);
	/* a range ends before the file does */
	if (s->regular && s->end - s->pos < want)
		want = s->pos < s->end ? (size_t)(s->end - s->pos) : 0;
	if (!want)
		return 0;
	do
		n = read(s->fd, s->buf, want);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		s->read_errno = errno;
		archive_set_error(a, errno, "cannot read the archive");
		return -1;
	}
	s->pos += (unsigned long long)n;
	return n;
}

/*
 * Skip by seeking in a regular file, never past its end (a short skip:
 * libarchive reads the rest, finds the end and calls the archive
 * truncated); 0 elsewhere, and libarchive reads instead.
 */
static la_int64_t source_skip(struct archive *a, void *v, la_int64_t request)
{
	struct source *s = v;
	unsigned long long n = (unsigned long long)request;

	(void)a;
	if (!s->regular || request <= 0 || s->pos >= s->end)
		return 0;
	if (n > s->end - s->pos)
		n = s->end - s->pos;
	if (lseek(s->fd, (off_t)n, SEEK_CUR) < 0)
		return 0;
	s->pos += n;
	return (la_int64_t)n;
}

/* tar.h's type letter for an entry ('0' for the regular files of any tar type). */
static char type_of(struct archive_entry *ae)
{
	if (archive_entry_hardlink(ae))
		return '1';
	switch (archive_entry_filetype(ae)) {
	case AE_IFLNK:
		return '2';
	case AE_IFCHR:
		return '3';
	case AE_IFBLK:
		return '4';
	case AE_IFDIR:
		return '5';
	case AE_IFIFO:
		return '6';
	default:
		return '0';
	}
}

/*
 * The bytes the entry's data takes in the archive: its size, or for a
 * sparse file the sum of its data blocks.  -1 when that does not fit in
 * an int64 (no archive holds that much).
 */
static la_int64_t stored_bytes(struct archive_entry *ae)
{
	la_int64_t sum = 0, off, len;

	if (archive_entry_sparse_reset(ae) == 0)
		return archive_entry_size(ae);
	while (archive_entry_sparse_next(ae, &off, &len) == ARCHIVE_OK) {
		if (len < 0 || len > INT64_MAX - sum)
			return -1;
		sum += len;
	}
	return sum;
}

/*
 * Is the entry's data (of size bytes) within what is left of the file?  A
 * size past the end makes the archive malformed before the entry is passed
 * on (where the end is unknown, reading finds it).
 */
static int data_fits(struct archive *a, const struct source *s, struct archive_entry *ae)
{
	la_int64_t size = stored_bytes(ae), at = archive_filter_bytes(a, 0);

	if (size < 0 || at < 0)
		return 0;
	return !s->regular || ((unsigned long long)at <= s->end &&
			       (unsigned long long)size <= s->end - (unsigned long long)at);
}

/* Read the entry's data into sb, keeping at most max bytes.  0, or -1 when the archive ends first. */
static int read_data(struct archive *a, unsigned long long size, struct strbuf *sb, size_t max)
{
	size_t keep = size < max ? (size_t)size : max;

	strbuf_reset(sb);
	strbuf_grow(sb, keep);
	while (sb->len < keep) {
		la_ssize_t n = archive_read_data(a, sb->buf + sb->len, keep - sb->len);
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		sb->len += (size_t)n;
	}
	sb->buf[sb->len] = '\0';
	return 0;
}

/* The name without any mix of leading "/" and "./" ("/./etc" is "etc"). */
static const char *relative_name(const char *s)
{
	for (;;) {
		if (s[0] == '/')
			s++;
		else if (s[0] == '.' && s[1] == '/')
			s += 2;
		else
			return s;
	}
}

/*
 * Is the warning from archive_read_next_header2() only that a pax name or
 * link name kept its own bytes (see the top)?  libarchive gives it no code
 * of its own: its message says it.
 */
static int name_kept_as_is(struct archive *a)
{
	const char *msg = archive_error_string(a);

	return msg && strstr(msg, "can't be converted from");
}

/* A reader of the tar formats only, on s.  NULL when libarchive will not make one. */
static struct archive *open_reader(struct source *s)
{
	struct archive *a = archive_read_new();

	if (!a)
		return NULL;
	if (archive_read_support_format_tar(a) != ARCHIVE_OK ||
	    archive_read_set_format_option(a, "tar", "mac-ext", NULL) != ARCHIVE_OK ||
	    archive_read_set_read_callback(a, source_read) != ARCHIVE_OK ||
	    archive_read_set_skip_callback(a, source_skip) != ARCHIVE_OK ||
	    archive_read_set_callback_data(a, s) != ARCHIVE_OK ||
	    archive_read_open1(a) != ARCHIVE_OK) {
		archive_read_free(a);
		return NULL;
	}
	return a;
}

/* tar_walk_range's contract; whole: the file from its start to its end, length ignored. */
static int walk(const char *path, int whole, unsigned long long offset, unsigned long long length, tar_fn fn,
		void *ctx, size_t max_data)
{
	struct strbuf data = STRBUF_INIT;
	struct archive_entry *ae = NULL;
	struct archive *a = NULL;
	struct source *s;
	struct stat st;
	int fd, rc = -1, err = EINVAL;
	unsigned long entries = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	s = calloc(1, sizeof(*s));
	if (!s) {
		close(fd);
		errno = ENOMEM;
		return -1;
	}
	s->fd = fd;
	s->limit = ULLONG_MAX;
	if (!fstat(fd, &st) && S_ISREG(st.st_mode)) {
		s->regular = 1;
		s->end = (unsigned long long)st.st_size;
	}
	if (!whole) {
		/* a range lies within a regular file */
		if (!s->regular || offset > s->end || length > s->end - offset ||
		    lseek(fd, (off_t)offset, SEEK_SET) < 0) {
			close(fd);
			free(s);
			errno = EINVAL;
			return -1;
		}
		s->base = offset;
		s->end = length;
	}
	if (!(a = open_reader(s)) || !(ae = archive_entry_new())) {
		err = s->read_errno ? s->read_errno : EINVAL;
		goto out;
	}
	for (;;) {
		struct tar_entry e;
		const char *name;
		int r;

		s->limit = s->pos + HEADER_BYTES_MAX;
		r = archive_read_next_header2(a, ae);
		s->limit = ULLONG_MAX;
		if (r == ARCHIVE_EOF) {
			/* the end, with or without the zero blocks, but not before any entry */
			if (entries)
				rc = 0;
			break;
		}
		if (r == ARCHIVE_WARN && name_kept_as_is(a))
			r = ARCHIVE_OK;
		/* any other warning: a pax record it could not parse, too many extension headers */
		if (r != ARCHIVE_OK || !(name = archive_entry_pathname(ae)) || !data_fits(a, s, ae))
			break;
		entries++;

		e.name = relative_name(name);
		e.type = type_of(ae);
		e.linkname = e.type == '1' ? archive_entry_hardlink(ae) :
			     e.type == '2' ? archive_entry_symlink(ae) : NULL;
		if (!e.linkname)
			e.linkname = "";
		e.mode = (unsigned)archive_entry_perm(ae);
		e.size = e.type == '0' ? (unsigned long long)archive_entry_size(ae) : 0;
		e.offset = s->base + (unsigned long long)archive_filter_bytes(a, 0);

		r = fn(ctx, &e, NULL);
		if (r == 1) {
			rc = 0;
			break;
		}
		if (r == 2 && max_data) {
			if (read_data(a, (unsigned long long)archive_entry_size(ae), &data, max_data) < 0)
				break;
			if (fn(ctx, &e, &data) == 1) {
				rc = 0;
				break;
			}
		}
		/* here, so that reading past the data is not counted as headers */
		if (archive_read_data_skip(a) != ARCHIVE_OK)
			break;
	}
	if (rc < 0 && s->read_errno)
		err = s->read_errno;
out:
	archive_entry_free(ae);
	if (a)
		archive_read_free(a);
	close(fd);
	free(s);
	strbuf_release(&data);
	if (rc < 0)
		errno = err;
	return rc;
}

int tar_walk(const char *path, tar_fn fn, void *ctx, size_t max_data)
{
	return walk(path, 1, 0, 0, fn, ctx, max_data);
}

int tar_walk_range(const char *path, unsigned long long offset, unsigned long long length, tar_fn fn,
		   void *ctx, size_t max_data)
{
	return walk(path, 0, offset, length, fn, ctx, max_data);
}
