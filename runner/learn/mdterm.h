/*
 * mdterm: the lesson text (the steps of a phase, Markdown) shown on a terminal.
 *
 * md4c reads the Markdown as CommonMark, with GitHub's tables; this file
 * only lays out what it reports:
 *
 *   # ## ###             headings (#### and deeper look like ###)
 *   paragraphs           reflowed to the width, words never split; a hard
 *                        line break (two spaces, or '\' at a line's end) kept
 *   - item, * item, 1.   lists nested to any depth, hanging indent;
 *                        numbers follow the first one, as in Markdown
 *   fenced or indented   code, never wrapped, indented by four columns
 *   `code` **b** *e* _e_ inline code, bold, emphasis
 *   [text](url) <url>    "text (url)", "url"; an image as "alt (src)"
 *   > note               block quotes, behind a bar, around any block
 *   | a | b |            tables, columns narrowed and cells wrapped to fit
 *   --- or *** or ___    a horizontal rule
 *   HTML                 shown as written, but comments, which are hidden;
 *                        entities shown as the character they name
 *
 * A blank line separates two blocks where the source has one, and always
 * around headings and rules.
 *
 * The whole input goes through escape_term() first (escape.h): the text
 * can mention learner file names, and no control character or escape
 * sequence of its own reaches the terminal (nor does one an entity names).
 * Tabs are spaces to the next multiple of eight before md4c reads the
 * text.  An unterminated construct is text (an unclosed "**" or "`") or
 * runs to the end (an unclosed fence).  Columns are counted one per code
 * point.
 */
#ifndef PHASELAB_MDTERM_H
#define PHASELAB_MDTERM_H

#include <stddef.h>

#include "lib/strbuf.h"

#define MDTERM_WIDTH_DEFAULT 80
#define MDTERM_WIDTH_MIN 40
#define MDTERM_WIDTH_MAX 100

struct mdterm_opts {
	/*
	 * Nonzero: ANSI SGR styles, for a terminal.  Each styled run is reset
	 * where it ends and at the end of every line.  Zero (not a terminal,
	 * or NO_COLOR: the caller decides): no escape sequence at all; headings
	 * are underlined with '=' or '-' and inline code keeps its backticks.
	 */
	int color;
	/* Columns to wrap prose at; <= 0 means 80; else clamped to [40, 100]. */
	int width;
};

/*
 * Append md[0..len) rendered for a terminal to out.  o may be NULL (no
 * colour, 80 columns).  Every line ends with '\n'; no blank line leads or
 * trails; empty input appends nothing.  Cannot fail (allocation failure is
 * fatal, xalloc.h).
 */
void mdterm_render(struct strbuf *out, const char *md, size_t len, const struct mdterm_opts *o);

/*
 * The width of the terminal on fd (TIOCGWINSZ), else $COLUMNS when it is a
 * positive number, else 80.  Not clamped: mdterm_render() does that.
 */
int mdterm_width_of(int fd);

#endif
