/*
 * mdterm: the lesson text (the steps of a phase, Markdown) shown on a terminal.
 *
 * The Markdown is the project's own, so only what lesson authors use is
 * read; anything else is shown as the text it is:
 *
 *   # ## ###             headings (#### and deeper look like ###)
 *   paragraphs           reflowed to the width, words never split
 *   - item, * item, 1.   lists, one level of nesting, hanging indent;
 *                        numbers follow the first one, as in Markdown
 *   ``` or ~~~ fences    code, never wrapped, indented by four columns
 *   `code` **b** *e* _e_ inline code, bold, emphasis
 *   [text](url) <url>    "text (url)", "url"
 *   > note               block quotes, behind a bar
 *   --- or *** or ___    a horizontal rule
 *
 * The whole input goes through escape_term() first (escape.h): the text
 * can mention learner file names, and no control character or escape
 * sequence of its own reaches the terminal.  An unterminated construct is
 * text (an unclosed "**" or "`") or runs to the end (an unclosed fence).
 * Columns are counted one per code point.
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
