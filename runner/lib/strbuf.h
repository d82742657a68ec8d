/*
 * strbuf: a growable byte buffer that is always NUL-terminated.
 *
 * Invariants: after strbuf_init() or STRBUF_INIT, sb->buf is never NULL and
 * sb->buf[sb->len] == '\0'.  The buffer may hold NUL bytes (build output can).
 *
 * Lifecycle names mean one thing each: _init prepares, _release frees the
 * contents and leaves an empty, reusable buffer, _detach hands the contents
 * to the caller (who frees them) and leaves an empty buffer.
 *
 * Allocation failure is fatal (xalloc.h): callers never check for it.
 */
#ifndef PHASELAB_STRBUF_H
#define PHASELAB_STRBUF_H

#include <stdarg.h>
#include <stddef.h>

struct strbuf {
	char *buf;
	size_t len;
	size_t alloc; /* 0 while buf points at the shared empty string */
};

extern char strbuf_empty[];
#define STRBUF_INIT { strbuf_empty, 0, 0 }

void strbuf_init(struct strbuf *sb, size_t hint);
void strbuf_release(struct strbuf *sb);
char *strbuf_detach(struct strbuf *sb, size_t *len);
/* Room for extra more bytes and the NUL; past SIZE_MAX it exits as xalloc.h does. */
void strbuf_grow(struct strbuf *sb, size_t extra);
void strbuf_reset(struct strbuf *sb);
void strbuf_setlen(struct strbuf *sb, size_t len);

void strbuf_add(struct strbuf *sb, const void *data, size_t len);
void strbuf_addstr(struct strbuf *sb, const char *s);
void strbuf_addch(struct strbuf *sb, int c);
void strbuf_addf(struct strbuf *sb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void strbuf_vaddf(struct strbuf *sb, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

/* Remove trailing whitespace (spaces, tabs, CR, LF). */
void strbuf_rtrim(struct strbuf *sb);

/*
 * Append the last max_lines lines of text[0..len) (a trailing newline does
 * not count as an empty last line).  Returns the number of lines appended.
 */
size_t strbuf_add_tail_lines(struct strbuf *sb, const char *text, size_t len,
			     size_t max_lines);

#endif
