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

#include "lib/strbuf.h"

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

/* Terminal columns of valid UTF-8: one per code point (wide characters are rare in our text). */
size_t escape_columns(const char *s, size_t len);

/* Append the truncation marker: "… [truncated, N more bytes]" (N = dropped). */
void escape_add_truncated(struct strbuf *out, size_t dropped);

/*
 * escape_term() of s[0..len) cut first to max bytes (on a character
 * boundary), with the truncation marker when something was cut: how every
 * writer bounds text before it shows it.  s may be NULL (nothing is added).
 */
void escape_term_bounded(struct strbuf *out, const char *s, size_t len, size_t max, unsigned flags);

/*
 * Append s[0..len), cut with escape_cut() and followed by the marker when
 * something was left out; returns the number of bytes left out.  The result
 * can be longer than max by the marker (at most 50 bytes).  The text is not
 * escaped: to escape, cut first, escape the kept part, then add the marker.
 */
size_t escape_truncate(struct strbuf *out, const char *s, size_t len, size_t max);

/*
 * Escapers for the report's other output languages.  Each one bounds,
 * cleans, then escapes, in that order:
 *
 *  - bound: s[0..len) is cut with escape_cut() to at most max bytes and the
 *    truncation marker follows when something was left out (the marker is
 *    escaped like the rest);
 *  - clean: the kept text is made inert as escape_term() does with
 *    ESCAPE_TERM_NEWLINES (escape sequences removed; other controls, C1 and
 *    bidi controls and invalid UTF-8 become U+FFFD; "\r\n" and "\r" become
 *    "\n"; tabs become spaces), and so are the Unicode noncharacters
 *    (U+FDD0..U+FDEF, U+xFFFE, U+xFFFF), which XML 1.0 forbids in part and
 *    HTML calls parse errors;
 *  - escape: for the language, below.
 *
 * s may be NULL (nothing is appended).  The output is valid UTF-8.  It can be
 * longer than max: by the marker (at most 50 bytes), times what cleaning and
 * escaping make of one byte (at most 8: a tab's spaces; "&amp;" for '&',
 * "<br>" for a line break, U+FFFD for an invalid byte).
 */

/* escape_xml() flags */
#define ESCAPE_XML_ATTR 0x1 /* inside an attribute value: quotes and line breaks too */

/*
 * XML 1.0 text content, or with ESCAPE_XML_ATTR an attribute value in double
 * or single quotes.  '&', '<' and '>' become entities everywhere ('>' so that
 * "]]>" cannot appear); with ESCAPE_XML_ATTR '"' and '\'' do too, and a line
 * break becomes "&#10;" (a raw one would be read back as a space).  Every
 * character XML 1.0 forbids (controls but tab and line feed, U+FFFE, U+FFFF)
 * is gone by then: the result is always well-formed.
 */
void escape_xml(struct strbuf *out, const char *s, size_t len, size_t max, unsigned flags);

/*
 * HTML text content and quoted attribute values alike: '&', '<', '>', '"'
 * and '\'' become entities.  Line breaks stay (a <pre> or "white-space:
 * pre-wrap" shows them).  Not for unquoted attributes, URLs, <script> or
 * <style>: the report puts learner text in none of these.
 */
void escape_html(struct strbuf *out, const char *s, size_t len, size_t max);

/* escape_md() flags */
#define ESCAPE_MD_BR 0x1 /* line breaks become "<br>" (a table cell); else spaces */

/*
 * GitHub-flavoured Markdown inline text, safe in a table cell, a heading, a
 * list item or a paragraph: the result is a single line that renders as the
 * text itself, with no markup, link, image, HTML, math or table column.
 *
 *  - '\\', '`', '*', '_', '~', '[', ']', '|' and '$' (GitHub's math) are
 *    backslash-escaped; '&', '<' and '>' become entities, so no HTML and
 *    no autolink in angle brackets;
 *  - line breaks become "<br>" (ESCAPE_MD_BR) or spaces, so nothing can
 *    start a block (a heading, a list, a quote, a fence) on a line of its
 *    own;
 *  - at the start, where the caller's line begins, leading spaces are
 *    dropped (four would make a code block) and what could still start a
 *    block ('#', '-', '+', '=', "1." and "1)") is escaped.
 *
 * Bare URLs still become links where GitHub links them, and "@name" may
 * still mention someone in a comment: both are GitHub's post-processing of
 * the text, not Markdown.
 */
void escape_md(struct strbuf *out, const char *s, size_t len, size_t max, unsigned flags);

/*
 * A fenced code block holding s: a fence of backticks longer than any run of
 * backticks in the text (at least three), the info string lang (a constant
 * such as "json", or NULL; never learner text), the text, and the fence
 * again, each on its own line.  Nothing in a fenced block is markup, and no
 * line of the text can close it.  The block must start at the beginning of
 * a line at the top level of the document (not in a list item or a quote,
 * whose indentation the text would have to keep).
 */
void escape_md_code_block(struct strbuf *out, const char *s, size_t len, size_t max,
			  const char *lang);

#endif
