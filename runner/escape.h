/*
 * Escaping learner-controlled text: one helper per output language.
 *
 * Build output, file names and probe output reach the report unescaped
 * (report.h); whatever writes them out makes them safe for its own output
 * language with one of these, and nothing else.  Every function appends to
 * a strbuf and cannot fail (allocation failure is fatal, xalloc.h).
 *
 * Bounds come first: cut with escape_cut() (or escape_truncate()) before
 * escaping, so a 1 MB build log costs the bound, not the log.
 */
#ifndef PHASELAB_ESCAPE_H
#define PHASELAB_ESCAPE_H

#include <stddef.h>

#include "strbuf.h"

/* What every invalid byte sequence or unsafe character becomes: U+FFFD. */
#define ESCAPE_REPLACEMENT "\xef\xbf\xbd"

/* escape_term() flags */
#define ESCAPE_TERM_NEWLINES 0x1 /* keep line breaks; else they become spaces */

/*
 * Append s[0..len) as text that is safe to print on a terminal: it cannot
 * move the cursor, clear the screen, set the window title, ring the bell or
 * reorder what follows it.
 *
 *  - ANSI/ECMA-48 escape sequences (CSI "ESC [", OSC "ESC ]" up to BEL or
 *    ESC \, and the short ESC forms) are removed: they are formatting, not
 *    text.  A lone ESC is removed too.
 *  - Other C0 controls, DEL, C1 controls (U+0080..U+009F), bidirectional
 *    embeddings, overrides and isolates, and invalid UTF-8 each become one
 *    U+FFFD, so they stay visible but inert.
 *  - "\r\n" and a lone "\r" count as a line break (a lone CR would let text
 *    overwrite what is before it).  With ESCAPE_TERM_NEWLINES a line break
 *    is "\n", without it a space.
 *  - A tab becomes spaces up to the next multiple of 8 columns, counted from
 *    the start of the line in s.
 *
 * The result is valid UTF-8 whose only control character is '\n'.
 */
void escape_term(struct strbuf *out, const char *s, size_t len, unsigned flags);

/*
 * Append s[0..len) with every invalid UTF-8 sequence (overlong forms,
 * surrogates, code points past U+10FFFF, stray or missing continuation
 * bytes) replaced by U+FFFD, one per maximal invalid subpart as Unicode
 * recommends.  Everything else, control characters included, is copied: this
 * is what jansson needs before json_string(), which refuses invalid UTF-8 and
 * escapes the rest itself.
 */
void escape_utf8(struct strbuf *out, const char *s, size_t len);

/*
 * Append JSON text (jansson's output: valid UTF-8, controls below 0x20
 * already escaped) with what a terminal would still act on, DEL, C1 controls
 * and bidirectional controls, written as \uXXXX escapes.  Outside strings
 * JSON is ASCII, so this is the same document, only safe to print.
 */
void escape_json_text(struct strbuf *out, const char *json, size_t len);

/*
 * Where to cut s[0..len) to keep at most max bytes without splitting a UTF-8
 * sequence: len when it fits, else the largest boundary <= max (max itself
 * when s is not UTF-8 there).
 */
size_t escape_cut(const char *s, size_t len, size_t max);

/* Append the truncation marker: "… [truncated, N more bytes]" (N = dropped). */
void escape_add_truncated(struct strbuf *out, size_t dropped);

/*
 * Append s[0..len), cut with escape_cut() and followed by the marker when
 * something was left out; returns the number of bytes left out.  The result
 * can be longer than max by the marker (at most 50 bytes).  The text is not
 * escaped: to escape, cut first, escape the kept part, then add the marker.
 */
size_t escape_truncate(struct strbuf *out, const char *s, size_t len, size_t max);

#endif
