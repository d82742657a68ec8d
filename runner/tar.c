#include "tar.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static unsigned long long octal(const char *p, size_t n)
{
	unsigned long long v = 0;

	/* GNU base-256 for sizes over 8 GiB */
	if (n && ((unsigned char)p[0] & 0x80)) {
		for (size_t i = 1; i < n; i++)
			v = (v << 8) | (unsigned char)p[i];
		return v;
	}
	while (n && (*p == ' ' || *p == '\0')) {
		p++;
		n--;
	}
	for (; n && *p >= '0' && *p <= '7'; p++, n--)
		v = v * 8 + (unsigned long long)(*p - '0');
	return v;
}

static int read_full(int fd, void *buf, size_t n)
{
	char *p = buf;

	while (n) {
		ssize_t r = read(fd, p, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

static int skip(int fd, unsigned long long n)
{
	char buf[65536];

	if (lseek(fd, (off_t)n, SEEK_CUR) >= 0)
		return 0;
	while (n) {
		size_t k = n < sizeof(buf) ? (size_t)n : sizeof(buf);
		if (read_full(fd, buf, k) < 0)
			return -1;
		n -= k;
	}
	return 0;
}

static unsigned long long padded(unsigned long long n)
{
	return (n + 511) & ~511ULL;
}

/* Read n bytes of an entry's data into sb (keeping at most max), skip the padding. */
static int read_data(int fd, unsigned long long n, struct strbuf *sb, size_t max)
{
	unsigned long long keep = n < max ? n : max;

	strbuf_reset(sb);
	strbuf_grow(sb, (size_t)keep);
	if (read_full(fd, sb->buf, (size_t)keep) < 0)
		return -1;
	sb->len = (size_t)keep;
	sb->buf[sb->len] = '\0';
	return skip(fd, padded(n) - keep);
}

/*
 * The header's checksum: the sum of its bytes with the checksum field taken
 * as spaces.  Some writers sum signed chars; accept either.
 */
static int checksum_ok(const unsigned char *h)
{
	unsigned long long want = octal((const char *)h + 148, 8);
	unsigned long usum = 0;
	long ssum = 0;

	for (int i = 0; i < 512; i++) {
		unsigned char c = (i >= 148 && i < 156) ? ' ' : h[i];
		usum += c;
		ssum += (signed char)c;
	}
	return want == usum || (long long)want == ssum;
}

/*
 * Apply "len key=value\n" records of a pax header; *has_name and *has_link
 * say whether it carried a path or a linkpath.
 */
static void pax_apply(const struct strbuf *pax, struct strbuf *name, struct strbuf *link,
		      int *has_name, int *has_link)
{
	const char *p = pax->buf, *end = pax->buf + pax->len;

	while (p < end) {
		char *sp;
		long len = strtol(p, &sp, 10);
		const char *rec_end = p + len, *eq;

		if (len <= 0 || rec_end > end || *sp != ' ')
			return;
		eq = memchr(sp + 1, '=', (size_t)(rec_end - sp - 1));
		if (eq) {
			size_t klen = (size_t)(eq - sp - 1), vlen = (size_t)(rec_end - eq - 2);
			if (klen == 4 && !memcmp(sp + 1, "path", 4)) {
				strbuf_reset(name);
				strbuf_add(name, eq + 1, vlen);
				*has_name = 1;
			} else if (klen == 8 && !memcmp(sp + 1, "linkpath", 8)) {
				strbuf_reset(link);
				strbuf_add(link, eq + 1, vlen);
				*has_link = 1;
			}
		}
		p = rec_end;
	}
}

int tar_walk(const char *path, tar_fn fn, void *ctx, size_t max_data)
{
	unsigned char h[512];
	struct strbuf name = STRBUF_INIT, link = STRBUF_INIT, data = STRBUF_INIT, ext = STRBUF_INIT;
	int have_long_name = 0, have_long_link = 0, rc = 0, entries = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	for (;;) {
		struct tar_entry e;
		unsigned long long size;
		char type;
		int r;

		if (read_full(fd, h, sizeof(h)) < 0) {
			/* the end without the zero blocks is fine, but not before any entry */
			if (!entries) {
				errno = EINVAL;
				rc = -1;
			}
			break;
		}
		if (!h[0] && !memcmp(h, h + 1, sizeof(h) - 1)) {
			if (!entries) {
				errno = EINVAL;
				rc = -1;
			}
			break;
		}
		if (!checksum_ok(h)) {
			errno = EINVAL;
			rc = -1;
			break;
		}
		entries++;
		size = octal((char *)h + 124, 12);
		type = h[156] ? (char)h[156] : '0';

		if (type == 'L' || type == 'K' || type == 'x') {
			if (size > (1u << 20) || read_data(fd, size, &ext, (size_t)size) < 0) {
				rc = -1;
				break;
			}
			if (type == 'L') {
				strbuf_reset(&name);
				strbuf_addstr(&name, ext.buf);
				have_long_name = 1;
			} else if (type == 'K') {
				strbuf_reset(&link);
				strbuf_addstr(&link, ext.buf);
				have_long_link = 1;
			} else {
				pax_apply(&ext, &name, &link, &have_long_name, &have_long_link);
			}
			continue;
		}
		if (type == 'g') {
			if (skip(fd, padded(size)) < 0)
				break;
			continue;
		}
		if (!have_long_name) {
			strbuf_reset(&name);
			if (!memcmp(h + 257, "ustar", 5) && h[345]) {
				strbuf_add(&name, h + 345, strnlen((char *)h + 345, 155));
				strbuf_addch(&name, '/');
			}
			strbuf_add(&name, h, strnlen((char *)h, 100));
		}
		if (!have_long_link) {
			strbuf_reset(&link);
			strbuf_add(&link, h + 157, strnlen((char *)h + 157, 100));
		}
		have_long_name = have_long_link = 0;

		e.name = name.buf;
		while (e.name[0] == '.' && e.name[1] == '/')
			e.name += 2;
		while (e.name[0] == '/')
			e.name++;
		e.linkname = link.buf;
		e.type = type;
		e.mode = (unsigned)octal((char *)h + 100, 8);
		e.size = (type == '0' || type == '7') ? size : 0;

		r = fn(ctx, &e, NULL);
		if (r == 1)
			break;
		if (r == 2 && max_data) {
			if (read_data(fd, size, &data, max_data) < 0) {
				rc = -1;
				break;
			}
			if (fn(ctx, &e, &data) == 1)
				break;
		} else if (skip(fd, padded(size)) < 0) {
			rc = -1;
			break;
		}
	}
	close(fd);
	strbuf_release(&name);
	strbuf_release(&link);
	strbuf_release(&data);
	strbuf_release(&ext);
	return rc;
}
