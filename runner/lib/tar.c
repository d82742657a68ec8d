#include "lib/tar.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * No entry is larger: it keeps every size, with its padding, within off_t
 * even for a pipe, which has no end to compare a size with.
 */
#define ENTRY_SIZE_MAX (1ULL << 62)

/* The archive being read: where we are, and where the file ends when it is known. */
struct reader {
	int fd;
	unsigned long long pos;
	unsigned long long end; /* ULLONG_MAX: not a regular file */
};

static unsigned long long octal(const char *p, size_t n)
{
	unsigned long long v = 0;

	/* GNU base-256 for sizes over 8 GiB (numbers past 64 bits wrap: see entry_size) */
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

/*
 * The size field of header h, or -1 (errno EINVAL) when it cannot be one:
 * negative (base-256 with the sign bit), wider than 64 bits, or past what
 * is left of the file.  A size past the end would seek beyond it, and one
 * that wraps off_t would seek back to a header already read, for ever.
 */
static int entry_size(const struct reader *rd, const unsigned char *h, unsigned long long *size)
{
	const unsigned char *f = h + 124;

	/* base-256: 0x40 is the sign; of the 94 bits left, 64 at most may be used */
	if ((f[0] & 0x80) && ((f[0] & 0x7f) || f[1] || f[2] || f[3]))
		goto bad;
	*size = octal((const char *)f, 12);
	if (*size > ENTRY_SIZE_MAX ||
	    (rd->end != ULLONG_MAX && (rd->pos > rd->end || *size > rd->end - rd->pos)))
		goto bad;
	return 0;
bad:
	errno = EINVAL;
	return -1;
}

static int read_full(struct reader *rd, void *buf, size_t n)
{
	char *p = buf;

	while (n) {
		ssize_t r = read(rd->fd, p, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
		rd->pos += (unsigned long long)r;
	}
	return 0;
}

/*
 * Skip n bytes (at most ENTRY_SIZE_MAX and its padding, so off_t holds it);
 * past the end of the file, the next read finds the end.
 */
static int skip(struct reader *rd, unsigned long long n)
{
	char buf[65536];

	if (lseek(rd->fd, (off_t)n, SEEK_CUR) >= 0) {
		rd->pos += n;
		return 0;
	}
	while (n) {
		size_t k = n < sizeof(buf) ? (size_t)n : sizeof(buf);
		if (read_full(rd, buf, k) < 0)
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
static int read_data(struct reader *rd, unsigned long long n, struct strbuf *sb, size_t max)
{
	unsigned long long keep = n < max ? n : max;

	strbuf_reset(sb);
	strbuf_grow(sb, (size_t)keep);
	if (read_full(rd, sb->buf, (size_t)keep) < 0)
		return -1;
	sb->len = (size_t)keep;
	sb->buf[sb->len] = '\0';
	return skip(rd, padded(n) - keep);
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
 * Apply the "LEN key=value\n" records of a pax header, LEN counting the
 * whole record (its own digits and the newline); *has_name and *has_link
 * say whether it carried a path or a linkpath.  Returns 0, or -1 (errno
 * EINVAL) at the first record that is not that shape within the header's
 * data: the records after it cannot be found.
 */
static int pax_apply(const struct strbuf *pax, struct strbuf *name, struct strbuf *link,
		     int *has_name, int *has_link)
{
	const char *p = pax->buf, *end = pax->buf + pax->len;

	while (p < end) {
		size_t len = 0, room = (size_t)(end - p), klen, vlen;
		const char *d = p, *key, *eq, *rec_end;

		/* no more digits once len is past the room: it cannot overflow */
		while (d < end && *d >= '0' && *d <= '9' && len <= room)
			len = len * 10 + (size_t)(*d++ - '0');
		if (d == p || len > room || d == end || *d != ' ')
			goto bad;
		key = d + 1;
		/* the record holds its digits, the space and at least "k=\n" */
		if (len < (size_t)(key - p) + 3 || p[len - 1] != '\n')
			goto bad;
		rec_end = p + len;
		eq = memchr(key, '=', (size_t)(rec_end - 1 - key));
		if (!eq || eq == key)
			goto bad;
		klen = (size_t)(eq - key);
		vlen = (size_t)(rec_end - 1 - (eq + 1));
		if (klen == 4 && !memcmp(key, "path", 4)) {
			strbuf_reset(name);
			strbuf_add(name, eq + 1, vlen);
			*has_name = 1;
		} else if (klen == 8 && !memcmp(key, "linkpath", 8)) {
			strbuf_reset(link);
			strbuf_add(link, eq + 1, vlen);
			*has_link = 1;
		}
		p = rec_end;
	}
	return 0;
bad:
	errno = EINVAL;
	return -1;
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

int tar_walk(const char *path, tar_fn fn, void *ctx, size_t max_data)
{
	unsigned char h[512];
	struct strbuf name = STRBUF_INIT, link = STRBUF_INIT, data = STRBUF_INIT, ext = STRBUF_INIT;
	int have_long_name = 0, have_long_link = 0, rc = 0, entries = 0;
	struct reader rd = { open(path, O_RDONLY | O_CLOEXEC), 0, ULLONG_MAX };
	struct stat st;

	if (rd.fd < 0)
		return -1;
	if (!fstat(rd.fd, &st) && S_ISREG(st.st_mode))
		rd.end = (unsigned long long)st.st_size;
	for (;;) {
		struct tar_entry e;
		unsigned long long size;
		char type;
		int r;

		if (read_full(&rd, h, sizeof(h)) < 0) {
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
		if (entry_size(&rd, h, &size) < 0) {
			rc = -1;
			break;
		}
		entries++;
		type = h[156] ? (char)h[156] : '0';

		if (type == 'L' || type == 'K' || type == 'x') {
			if (size > (1u << 20) || read_data(&rd, size, &ext, (size_t)size) < 0) {
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
			} else if (pax_apply(&ext, &name, &link, &have_long_name, &have_long_link) < 0) {
				rc = -1;
				break;
			}
			continue;
		}
		if (type == 'g') {
			if (skip(&rd, padded(size)) < 0) {
				rc = -1;
				break;
			}
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

		e.name = relative_name(name.buf);
		e.linkname = link.buf;
		e.type = type;
		e.mode = (unsigned)octal((char *)h + 100, 8);
		e.size = (type == '0' || type == '7') ? size : 0;

		r = fn(ctx, &e, NULL);
		if (r == 1)
			break;
		if (r == 2 && max_data) {
			if (read_data(&rd, size, &data, max_data) < 0) {
				rc = -1;
				break;
			}
			if (fn(ctx, &e, &data) == 1)
				break;
		} else if (skip(&rd, padded(size)) < 0) {
			rc = -1;
			break;
		}
	}
	close(rd.fd);
	strbuf_release(&name);
	strbuf_release(&link);
	strbuf_release(&data);
	strbuf_release(&ext);
	return rc;
}
