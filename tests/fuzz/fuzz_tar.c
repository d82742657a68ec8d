/*
 * The tar reader: tar_walk() (libarchive's tar reader under tar.h's
 * contract) on any bytes in a file or a pipe, as the checks read what
 * `docker export` wrote of a learner's image.
 *
 * The first byte of the input chooses how, the rest is the archive:
 *   bit 0  fix each header's checksum first (a mutation seldom keeps one
 *          right, and the reader stops at a wrong one), walking the headers
 *          as a tar reader does;
 *   bit 1  ask for each entry's data (the callback returns 2, as the
 *          process-user check does for etc/passwd);
 *   bit 2  stop at the third entry (the callback returns 1);
 *   bit 3  keep at most 16 bytes of data, else 1 MiB;
 *   bit 4  read it from a pipe (no end known, no seeking), not a file.
 *
 * What is checked: names without a leading "/" or "./", a link name always
 * and only for links, a type tar.h names, a size only for regular files,
 * data within its bound (and a regular file's size) and NUL-terminated, at
 * most one entry per 512-byte block, and 0 or -1 returned.
 *
 * fuzz-options: -max_len=65536
 */
#include "fuzz.h"

#include "lib/strbuf.h"
#include "lib/tar.h"

#include <fcntl.h>

#define BLOCK 512

struct walk {
	unsigned flags;
	size_t max_data;
	size_t entries, limit;
};

/* A tar size or checksum field (octal, or GNU base-256), to find the next header. */
static unsigned long long octal(const unsigned char *p, size_t n)
{
	unsigned long long v = 0;

	if (n && (p[0] & 0x80)) {
		for (size_t i = 1; i < n; i++)
			v = (v << 8) | p[i];
		return v;
	}
	while (n && (*p == ' ' || !*p))
		p++, n--;
	for (; n && *p >= '0' && *p <= '7'; p++, n--)
		v = v * 8 + (unsigned long long)(*p - '0');
	return v;
}

/* Write a right checksum into each header the reader would come to. */
static void fix_checksums(unsigned char *a, size_t len)
{
	size_t off = 0;

	while (off <= len && len - off >= BLOCK) {
		unsigned char *h = a + off;
		unsigned long long size;
		unsigned sum = 0;
		size_t i;

		for (i = 0; i < BLOCK && !h[i]; i++)
			;
		if (i == BLOCK)
			return;
		memset(h + 148, ' ', 8);
		for (i = 0; i < BLOCK; i++)
			sum += h[i];
		snprintf((char *)h + 148, 8, "%06o", sum);
		h[155] = ' ';
		size = octal(h + 124, 12);
		if (size > len)
			return;
		off += BLOCK + (size_t)((size + BLOCK - 1) & ~(unsigned long long)(BLOCK - 1));
	}
}

static int on_entry(void *ctx, const struct tar_entry *e, const struct strbuf *data)
{
	struct walk *w = ctx;

	FUZZ_CHECK(e->name && e->linkname, "an entry without a name or link name");
	FUZZ_CHECK(e->name[0] != '/' && strncmp(e->name, "./", 2), "name '%s' not made relative", e->name);
	FUZZ_CHECK(e->type && strchr("0123456", e->type), "type '%c' (%d)", e->type, e->type);
	FUZZ_CHECK(e->size == 0 || e->type == '0', "type '%c' with size %llu", e->type, e->size);
	FUZZ_CHECK(!e->linkname[0] || e->type == '1' || e->type == '2', "type '%c' with link '%s'", e->type,
		   e->linkname);
	if (data) {
		FUZZ_CHECK(w->flags & 2, "data that was not asked for");
		FUZZ_CHECK(data->len <= w->max_data && data->buf[data->len] == '\0',
			   "%zu bytes of data, at most %zu", data->len, w->max_data);
		FUZZ_CHECK(e->type != '0' || data->len <= e->size, "%zu bytes of data for a size of %llu",
			   data->len, e->size);
		return 0;
	}
	w->entries++;
	FUZZ_CHECK(w->entries <= w->limit, "%zu entries in %zu blocks", w->entries, w->limit);
	if ((w->flags & 4) && w->entries == 3)
		return 1;
	return (w->flags & 2) ? 2 : 0;
}

/*
 * The walk of a[0..len) from a pipe, opened by name as a file would be: the
 * pipe holds all of it (-max_len is its size), its writing end is closed.
 */
static int walk_pipe(const unsigned char *a, size_t len, struct walk *w)
{
	char path[64];
	int p[2], rc;

	if (len > 65536)
		return tar_walk(fuzz_file(a, len), on_entry, w, w->max_data);
	if (pipe2(p, O_CLOEXEC) < 0 || fcntl(p[1], F_SETPIPE_SZ, 65536) < 65536 ||
	    (len && write(p[1], a, len) != (ssize_t)len)) {
		perror("fuzz_tar: pipe");
		abort();
	}
	close(p[1]);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", p[0]);
	rc = tar_walk(path, on_entry, w, w->max_data);
	close(p[0]);
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct walk w = { 0, 0, 0, 0 };
	unsigned char *a;
	int rc;

	if (!size)
		return 0;
	w.flags = data[0];
	w.max_data = (w.flags & 8) ? 16 : 1 << 20;
	w.limit = (size - 1) / BLOCK;
	a = (unsigned char *)fuzz_string(data + 1, size - 1);
	if (w.flags & 1)
		fix_checksums(a, size - 1);
	if (w.flags & 16)
		rc = walk_pipe(a, size - 1, &w);
	else
		rc = tar_walk(fuzz_file(a, size - 1), on_entry, &w, w.max_data);
	FUZZ_CHECK(rc == 0 || rc == -1, "returned %d", rc);
	free(a);
	return 0;
}
