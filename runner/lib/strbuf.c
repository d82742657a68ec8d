#include "lib/strbuf.h"
#include "lib/xalloc.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char strbuf_empty[1];

void strbuf_init(struct strbuf *sb, size_t hint)
{
	sb->buf = strbuf_empty;
	sb->len = 0;
	sb->alloc = 0;
	if (hint)
		strbuf_grow(sb, hint);
}

void strbuf_release(struct strbuf *sb)
{
	if (sb->alloc)
		free(sb->buf);
	strbuf_init(sb, 0);
}

char *strbuf_detach(struct strbuf *sb, size_t *len)
{
	char *p;

	if (len)
		*len = sb->len;
	if (!sb->alloc)
		strbuf_grow(sb, 0); /* hand over a real allocation, never the shared empty string */
	p = sb->buf;
	strbuf_init(sb, 0);
	return p;
}

void strbuf_grow(struct strbuf *sb, size_t extra)
{
	size_t want;

	/*
	 * len + extra + 1 past SIZE_MAX: no buffer can hold it.  Tested before
	 * the sum, which can wrap to exactly len and look like room already
	 * there; and ended here, as xalloc.c would, rather than by asking
	 * malloc for SIZE_MAX (a sanitizer aborts on that request).
	 */
	if (extra > SIZE_MAX - 1 - sb->len) {
		fprintf(stderr, "phaselab: out of memory (a buffer of %zu bytes cannot grow by %zu)\n",
			sb->len, extra);
		exit(3);
	}
	want = sb->len + extra + 1;
	if (want <= sb->alloc)
		return;
	if (want < sb->alloc * 3 / 2)
		want = sb->alloc * 3 / 2;
	if (want < 64)
		want = 64;
	if (!sb->alloc) {
		sb->buf = xmalloc(want);
		sb->buf[0] = '\0';
	} else {
		sb->buf = xrealloc(sb->buf, want);
	}
	sb->alloc = want;
}

void strbuf_reset(struct strbuf *sb)
{
	strbuf_setlen(sb, 0);
}

void strbuf_setlen(struct strbuf *sb, size_t len)
{
	if (!sb->alloc)
		return; /* the empty string stays empty */
	if (len > sb->len)
		len = sb->len;
	sb->len = len;
	sb->buf[len] = '\0';
}

void strbuf_add(struct strbuf *sb, const void *data, size_t len)
{
	if (!len)
		return;
	strbuf_grow(sb, len);
	memcpy(sb->buf + sb->len, data, len);
	sb->len += len;
	sb->buf[sb->len] = '\0';
}

void strbuf_addstr(struct strbuf *sb, const char *s)
{
	strbuf_add(sb, s, strlen(s));
}

void strbuf_addch(struct strbuf *sb, int c)
{
	char ch = (char)c;
	strbuf_add(sb, &ch, 1);
}

void strbuf_vaddf(struct strbuf *sb, const char *fmt, va_list ap)
{
	va_list cp;
	int n;

	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n <= 0)
		return;
	strbuf_grow(sb, (size_t)n);
	vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap);
	sb->len += (size_t)n;
}

void strbuf_addf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(sb, fmt, ap);
	va_end(ap);
}

void strbuf_rtrim(struct strbuf *sb)
{
	size_t len = sb->len;

	/* not strchr(): it would take a NUL byte for the terminator's match */
	while (len && (sb->buf[len - 1] == ' ' || sb->buf[len - 1] == '\t' ||
		       sb->buf[len - 1] == '\r' || sb->buf[len - 1] == '\n'))
		len--;
	strbuf_setlen(sb, len);
}

size_t strbuf_add_tail_lines(struct strbuf *sb, const char *text, size_t len,
			     size_t max_lines)
{
	size_t end = len, start, lines = 0;

	while (end && (text[end - 1] == '\n' || text[end - 1] == '\r'))
		end--;
	if (!end || !max_lines)
		return 0;
	start = end;
	while (start) {
		if (text[start - 1] == '\n') {
			if (++lines == max_lines)
				break;
		}
		start--;
	}
	if (!start)
		lines++;
	else
		lines = max_lines;
	strbuf_add(sb, text + start, end - start);
	return lines;
}
