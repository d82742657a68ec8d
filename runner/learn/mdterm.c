/*
 * mdterm: lesson Markdown on a terminal (mdterm.h).
 *
 * Blocks are read a line at a time from the escaped text.  The lines of a
 * paragraph (a list item's, a quote's) are collected, then the inline pass
 * turns them into the text to show with one style byte per byte of it, and
 * the wrapper breaks that at spaces.  Styles are written where they change
 * and reset before every line break, so a pager, or output cut short, never
 * leaves the terminal bold or cyan.
 *
 * Every search for a closing delimiter is bounded or remembered (struct
 * memo), so a paragraph of a thousand unmatched "*" or "`" costs a few
 * passes over it, not a thousand.
 */
#include "learn/mdterm.h"
#include "lib/escape.h"
#include "lib/strbuf.h"
#include "lib/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#define NONE ((size_t)-1)
#define MAX_TICKS 16   /* a longer run of backticks is text: bounds the memo */
#define MAX_DEPTH 8    /* emphasis and links nest this deep, then are text */
#define LIST_INDENT 2  /* columns before a top-level item's marker */
#define CODE_INDENT 4  /* columns before code, within its container */
#define COLUMNS_MAX 10000

/* Styles: one byte of them per byte of visible text. */
enum {
	ST_BOLD = 0x01,
	ST_DIM = 0x02,
	ST_ITALIC = 0x04,
	ST_UNDER = 0x08,
	ST_CODE = 0x10,
	ST_GLUE = 0x80, /* not a style: a space the wrapper must not break at */
};

static const struct {
	unsigned bit;
	const char *sgr;
} style_sgr[] = {
	{ ST_BOLD, "1" }, { ST_DIM, "2" }, { ST_ITALIC, "3" }, { ST_UNDER, "4" },
	{ ST_CODE, "36" }, /* cyan */
};

static const unsigned heading_style[] = { 0, ST_BOLD | ST_UNDER, ST_BOLD, ST_BOLD };

static void add_spaces(struct strbuf *sb, size_t n)
{
	while (n--)
		strbuf_addch(sb, ' ');
}

static void add_repeat(struct strbuf *sb, const char *s, size_t n)
{
	while (n--)
		strbuf_addstr(sb, s);
}

/* Switch from style from to style to: a reset, then the new style whole. */
static void add_sgr(struct strbuf *sb, unsigned from, unsigned to)
{
	const char *sep = "\x1b[";
	size_t i;

	from &= ~(unsigned)ST_GLUE;
	to &= ~(unsigned)ST_GLUE;
	if (from == to)
		return;
	if (from)
		strbuf_addstr(sb, "\x1b[0m");
	if (!to)
		return;
	for (i = 0; i < sizeof(style_sgr) / sizeof(style_sgr[0]); i++) {
		if (to & style_sgr[i].bit) {
			strbuf_addstr(sb, sep);
			strbuf_addstr(sb, style_sgr[i].sgr);
			sep = ";";
		}
	}
	strbuf_addch(sb, 'm');
}

static int is_punct(char c)
{
	return (c >= '!' && c <= '/') || (c >= ':' && c <= '@') || (c >= '[' && c <= '`') ||
	       (c >= '{' && c <= '~');
}

/* Part of a word, for '_' inside snake_case names: bytes of UTF-8 count too. */
static int is_word(char c)
{
	unsigned char u = (unsigned char)c;

	return (u >= '0' && u <= '9') || (u >= 'A' && u <= 'Z') || (u >= 'a' && u <= 'z') ||
	       u >= 0x80;
}

/* ---- inline: visible text and a style per byte ------------------------- */

struct inl {
	const char *s;    /* a paragraph's source, its lines joined by spaces */
	size_t n;
	size_t *code_end; /* [i]: past the code span that opens at i, else 0 */
	int color;
	struct strbuf vis; /* the text to show */
	struct strbuf sty; /* vis.len bytes: the style of each */
};

/*
 * A closer search remembered: from any start in [lo, hi] the answer is at
 * (NONE: no closer).  It holds because whether a position closes does not
 * depend on where the search started, and searches only move forward.
 */
struct memo {
	size_t lo, hi, at;
};

static void put(struct inl *in, const char *p, size_t n, unsigned style)
{
	strbuf_add(&in->vis, p, n);
	while (n--)
		strbuf_addch(&in->sty, (int)style);
}

/*
 * Find the code spans first: nothing inside one is markup, and every later
 * search steps over them.  fail[r]: no closing run of r backticks at or
 * after it, so an unmatched run is looked for once.
 */
static void find_code_spans(struct inl *in)
{
	const char *s = in->s;
	size_t fail[MAX_TICKS + 1], i = 0, j, k, t, r;

	for (r = 0; r <= MAX_TICKS; r++)
		fail[r] = NONE;
	while (i < in->n) {
		if (s[i] == '\\' && i + 1 < in->n && is_punct(s[i + 1])) {
			i += 2;
			continue;
		}
		if (s[i] != '`') {
			i++;
			continue;
		}
		for (j = i; j < in->n && s[j] == '`'; j++)
			;
		r = j - i;
		if (r <= MAX_TICKS && j < fail[r]) {
			for (k = j; k < in->n; k = t) {
				for (t = k; t < in->n && s[t] != '`'; t++)
					;
				for (k = t; t < in->n && s[t] == '`'; t++)
					;
				if (t - k == r)
					break;
			}
			if (k < in->n) {
				in->code_end[i] = k + r;
				i = k + r;
				continue;
			}
			fail[r] = j;
		}
		i = j;
	}
}

static void inl_init(struct inl *in, const char *s, size_t n, int color)
{
	in->s = s;
	in->n = n;
	in->code_end = xcalloc(n + 1, sizeof(*in->code_end));
	in->color = color;
	strbuf_init(&in->vis, n);
	strbuf_init(&in->sty, n);
	find_code_spans(in);
}

static void inl_release(struct inl *in)
{
	free(in->code_end);
	strbuf_release(&in->vis);
	strbuf_release(&in->sty);
}

static int code_at(const struct inl *in, size_t i, size_t end)
{
	return in->code_end[i] && in->code_end[i] <= end;
}

/*
 * Plain output keeps the span as written; colour shows its content, cyan.
 * A command is easier to copy from one line: the spaces of a span are glue
 * (the wrapper breaks at them only if the span fits on no line).
 */
static void add_code(struct inl *in, size_t i, unsigned style)
{
	const char *s = in->s;
	size_t end = in->code_end[i], a = i, b, k, from = in->vis.len;

	if (!in->color) {
		put(in, s + i, end - i, style);
	} else {
		while (s[a] == '`')
			a++;
		b = end - (a - i);
		for (k = a; k < b && s[k] == ' '; k++)
			;
		/* one space each side is padding, so a span can start with a backtick */
		if (k < b && b - a >= 2 && s[a] == ' ' && s[b - 1] == ' ') {
			a++;
			b--;
		}
		put(in, s + a, b - a, style | ST_CODE);
	}
	for (k = from; k < in->vis.len; k++)
		if (in->vis.buf[k] == ' ')
			in->sty.buf[k] = (char)(in->sty.buf[k] | ST_GLUE);
}

/*
 * Where the closer of an emphasis opened by need (1 or 2) ch ends its
 * content, searching from from: a whole run of ch after a character that is
 * neither a space nor ch, and for '_' not followed by a word character; at
 * least need long, and for emphasis not two long (that closes bold inside
 * it).  The closer is the last need of the run, so "***a***" is bold around
 * emphasis.  NONE if there is none before end.
 */
static size_t find_closer(const struct inl *in, struct memo *m, size_t from, size_t end,
			  char ch, size_t need)
{
	const char *s = in->s;
	size_t j = from, k;

	if (from >= m->lo && from <= m->hi)
		return m->at;
	m->lo = from;
	while (j < end) {
		if (code_at(in, j, end)) {
			j = in->code_end[j];
			continue;
		}
		if (s[j] == '\\' && j + 1 < end && is_punct(s[j + 1])) {
			j += 2;
			continue;
		}
		if (s[j] != ch) {
			j++;
			continue;
		}
		for (k = j; k < end && s[k] == ch; k++)
			;
		if (k - j >= need && (need == 2 || k - j != 2) && s[j - 1] != ch && s[j - 1] != ' ' &&
		    (ch != '_' || k == end || !is_word(s[k]))) {
			m->hi = j;
			m->at = k - need;
			return m->at;
		}
		j = k;
	}
	m->hi = end;
	m->at = NONE;
	return NONE;
}

static void inline_range(struct inl *in, size_t i, size_t end, unsigned style, int depth);

/*
 * The run of '*' or '_' at i: bold from its first two, else emphasis from
 * its last one, else text.  Returns where to go on.
 */
static size_t emphasis(struct inl *in, struct memo memo[4], size_t i, size_t end,
		       unsigned style, int depth)
{
	const char *s = in->s;
	char ch = s[i];
	struct memo *m = &memo[ch == '_' ? 2 : 0];
	size_t r, close;

	for (r = i; r < end && s[r] == ch; r++)
		;
	r -= i;
	if (depth >= MAX_DEPTH || i + r >= end || s[i + r] == ' ' ||
	    (ch == '_' && i > 0 && is_word(s[i - 1]))) {
		put(in, s + i, r, style);
		return i + r;
	}
	if (r >= 2 && (close = find_closer(in, &m[1], i + 2, end, ch, 2)) != NONE) {
		inline_range(in, i + 2, close, style | ST_BOLD, depth + 1);
		return close + 2;
	}
	close = find_closer(in, &m[0], i + r, end, ch, 1);
	if (close == NONE) {
		put(in, s + i, r, style);
		return i + r;
	}
	put(in, s + i, r - 1, style);
	inline_range(in, i + r, close, style | ST_ITALIC, depth + 1);
	return close + 1;
}

/*
 * [text](url) at i, shown as "text (url)", or only the url when the text is
 * empty or the url itself.  The text holds no bracket and the url no space,
 * bracket or unbalanced parenthesis: each search then stops before the next
 * link's, and together they read the paragraph once.  Returns where to go
 * on, or 0 if this is no link.
 */
static size_t try_link(struct inl *in, size_t i, size_t end, unsigned style, int depth)
{
	const char *s = in->s;
	size_t close, url, j;
	int nest = 0;

	for (close = i + 1; close < end; close++) {
		if (code_at(in, close, end))
			close = in->code_end[close] - 1;
		else if (s[close] == '\\' && close + 1 < end && is_punct(s[close + 1]))
			close++;
		else if (s[close] == '[' || s[close] == ']')
			break;
	}
	if (close + 1 >= end || s[close] != ']' || s[close + 1] != '(')
		return 0;
	url = close + 2;
	for (j = url; j < end; j++) {
		if (s[j] == ' ' || s[j] == '[' || s[j] == ']')
			return 0;
		if (s[j] == '(')
			nest++;
		else if (s[j] == ')' && !nest--)
			break;
	}
	if (j >= end)
		return 0;
	if (j == url) {
		inline_range(in, i + 1, close, style, depth + 1);
	} else if (close == i + 1 ||
		   (close - i - 1 == j - url && !memcmp(s + i + 1, s + url, j - url))) {
		put(in, s + url, j - url, style | ST_UNDER);
	} else {
		inline_range(in, i + 1, close, style, depth + 1);
		put(in, " (", 2, style);
		put(in, s + url, j - url, style | ST_UNDER);
		put(in, ")", 1, style);
	}
	return j + 1;
}

/* <https://...>: the address alone.  Returns where to go on, or 0. */
static size_t autolink(struct inl *in, size_t i, size_t end, unsigned style)
{
	const char *s = in->s;
	size_t host, j;

	if (end - i > 8 && !strncmp(s + i + 1, "http://", 7))
		host = i + 8;
	else if (end - i > 9 && !strncmp(s + i + 1, "https://", 8))
		host = i + 9;
	else
		return 0;
	for (j = host; j < end && s[j] != '>' && s[j] != '<' && s[j] != ' '; j++)
		;
	if (j == host || j >= end || s[j] != '>')
		return 0;
	put(in, s + i + 1, j - i - 1, style | ST_UNDER);
	return j + 1;
}

/* Render s[i..end) with style added to everything in it. */
static void inline_range(struct inl *in, size_t i, size_t end, unsigned style, int depth)
{
	/* closer searches: '*' by 1 and 2, '_' by 1 and 2; lo > hi: empty */
	struct memo memo[4] = { { 1, 0, 0 }, { 1, 0, 0 }, { 1, 0, 0 }, { 1, 0, 0 } };
	const char *s = in->s;
	size_t next;

	while (i < end) {
		if (code_at(in, i, end)) {
			add_code(in, i, style);
			i = in->code_end[i];
		} else if (s[i] == '\\' && i + 1 < end && is_punct(s[i + 1])) {
			put(in, s + i + 1, 1, style);
			i += 2;
		} else if (s[i] == '*' || s[i] == '_') {
			i = emphasis(in, memo, i, end, style, depth);
		} else if (s[i] == '[' && depth < MAX_DEPTH && (next = try_link(in, i, end, style, depth))) {
			i = next;
		} else if (s[i] == '<' && (next = autolink(in, i, end, style))) {
			i = next;
		} else if (s[i] == '!' && i + 1 < end && s[i + 1] == '[' && depth < MAX_DEPTH &&
			   (next = try_link(in, i + 1, end, style, depth))) {
			i = next; /* an image: its text and address, as a link's */
		} else {
			put(in, s + i, 1, style);
			i++;
		}
	}
}

/* ---- blocks -------------------------------------------------------------- */

/* What starts each line of a block: indentation, a list marker, a bar. */
struct lead {
	struct strbuf text; /* styles included */
	size_t cols;
	size_t trail; /* trailing spaces, left out on a line with nothing after */
};

struct level {
	int open, ordered;
	unsigned long next; /* the number of its next item */
	size_t in_col;      /* where its items' text starts in the source */
	size_t out_col;     /* and on the terminal */
};

struct render {
	struct strbuf *out;
	size_t start; /* out->len when called: before it is not ours */
	int color;
	size_t width;
	int sep;   /* a blank line before the next line written */
	int blank; /* the last source line was blank */

	/* the paragraph being collected and how its lines start */
	int para_open;
	struct strbuf para;
	struct lead first, next;

	struct level lv[2]; /* a list, and the list nested in its current item */
	int in_quote, quote_gap;
	struct lead bar;

	int in_code, code_lines;
	char fence_ch;
	size_t fence_len, fence_strip, code_indent;
	size_t code_blanks; /* blank lines held back: shown only if code follows */
};

static void lead_set(struct lead *l, int color, size_t indent, const char *mark, unsigned style)
{
	strbuf_reset(&l->text);
	add_spaces(&l->text, indent);
	l->cols = indent;
	l->trail = indent;
	if (!mark)
		return;
	add_sgr(&l->text, 0, color ? style : 0);
	strbuf_addstr(&l->text, mark);
	add_sgr(&l->text, color ? style : 0, 0);
	strbuf_addch(&l->text, ' ');
	l->cols += escape_columns(mark, strlen(mark)) + 1;
	l->trail = 1;
}

static void lead_copy(struct lead *dst, const struct lead *src)
{
	strbuf_reset(&dst->text);
	strbuf_add(&dst->text, src->text.buf, src->text.len);
	dst->cols = src->cols;
	dst->trail = src->trail;
}

static void line_begin(struct render *r)
{
	if (r->sep && r->out->len > r->start)
		strbuf_addch(r->out, '\n');
	r->sep = 0;
}

/* Write a lead; without its trailing spaces when nothing follows. */
static size_t put_lead(struct render *r, const struct lead *l, int more)
{
	size_t n = l->text.len - (more ? 0 : l->trail);

	strbuf_add(r->out, l->text.buf, n);
	return l->cols - (more ? 0 : l->trail);
}

static void style_to(struct render *r, unsigned *cur, unsigned want)
{
	want &= ~(unsigned)ST_GLUE;
	if (r->color)
		add_sgr(r->out, *cur, want);
	*cur = want;
}

/* A space the wrapper may break at. */
static int is_break(const struct inl *in, size_t i)
{
	return in->vis.buf[i] == ' ' && !(in->sty.buf[i] & ST_GLUE);
}

/*
 * Write the visible text of in wrapped at r->width: greedy, breaking only
 * at spaces (runs of them are one), a word wider than the line on a line of
 * its own.  Glue holds a code span together unless it is wider than a line.
 * Returns the width of the widest line.
 */
static size_t wrap(struct render *r, const struct inl *in, const struct lead *first,
		   const struct lead *next)
{
	const char *v = in->vis.buf;
	const unsigned char *st = (const unsigned char *)in->sty.buf;
	size_t n = in->vis.len, i = 0, w, j, wc, col, widest = 0;
	size_t room = r->width > next->cols ? r->width - next->cols : 0;
	unsigned cur = 0, gap = 0;
	int fresh = 1, unglued = 0;

	while (i < n && is_break(in, i))
		i++;
	line_begin(r);
	col = put_lead(r, first, i < n);
	while (i < n) {
		for (w = i; i < n && !is_break(in, i); i++)
			;
		wc = escape_columns(v + w, i - w);
		unglued = wc > room;
		if (unglued) { /* too wide for any line: the glue gives way */
			for (; w < n && v[w] == ' '; w++)
				;
			if (w == n)
				break;
			for (i = w; i < n && v[i] != ' '; i++)
				;
			wc = escape_columns(v + w, i - w);
		}
		if (!fresh && col + 1 + wc > r->width) {
			style_to(r, &cur, 0);
			strbuf_addch(r->out, '\n');
			widest = col > widest ? col : widest;
			col = put_lead(r, next, 1);
		} else if (!fresh) {
			style_to(r, &cur, gap);
			strbuf_addch(r->out, ' ');
			col++;
		}
		for (j = w; j < i; j++) {
			if ((st[j] & ~(unsigned)ST_GLUE) != cur)
				style_to(r, &cur, st[j]);
			strbuf_addch(r->out, v[j]);
		}
		col += wc;
		fresh = 0;
		if (i < n)
			gap = st[i];
		while (i < n && (is_break(in, i) || (unglued && v[i] == ' ')))
			i++;
	}
	style_to(r, &cur, 0);
	strbuf_addch(r->out, '\n');
	return col > widest ? col : widest;
}

/* Render text s[0..n) under the given leads. */
static size_t render_text(struct render *r, const char *s, size_t n, unsigned style,
			  const struct lead *first, const struct lead *next)
{
	struct inl in;
	size_t widest;

	inl_init(&in, s, n, r->color);
	inline_range(&in, 0, n, style, 0);
	widest = wrap(r, &in, first, next);
	inl_release(&in);
	return widest;
}

static void flush_para(struct render *r)
{
	if (!r->para_open)
		return;
	r->para_open = 0;
	render_text(r, r->para.buf, r->para.len, 0, &r->first, &r->next);
	strbuf_reset(&r->para);
}

/* A new block: the paragraph before it is done; a blank line if asked. */
static void start_block(struct render *r, int force)
{
	flush_para(r);
	if (r->blank || force)
		r->sep = 1;
}

static void para_add(struct render *r, const char *s, size_t n)
{
	while (n && *s == ' ') {
		s++;
		n--;
	}
	if (n && r->para.len)
		strbuf_addch(&r->para, ' ');
	strbuf_add(&r->para, s, n);
}

static void para_open(struct render *r, size_t indent, const char *s, size_t n)
{
	lead_set(&r->first, r->color, indent, NULL, 0);
	lead_set(&r->next, r->color, indent, NULL, 0);
	r->para_open = 1;
	para_add(r, s, n);
}

static void close_lists(struct render *r)
{
	r->lv[0].open = 0;
	r->lv[1].open = 0;
}

static void end_quote(struct render *r)
{
	r->in_quote = 0;
	r->quote_gap = 0;
}

/* ``` or ~~~ (three or more) opening a fence: its length, else 0. */
static size_t fence_open(const char *s, size_t n)
{
	size_t k;

	if (*s != '`' && *s != '~')
		return 0;
	for (k = 0; k < n && s[k] == *s; k++)
		;
	/* a backtick after the fence makes it inline code, as in Markdown */
	if (k < 3 || (*s == '`' && memchr(s + k, '`', n - k)))
		return 0;
	return k;
}

static void begin_code(struct render *r, const char *s, size_t len, size_t strip, size_t indent)
{
	r->in_code = 1;
	r->code_lines = 0;
	r->code_blanks = 0;
	r->fence_ch = *s;
	r->fence_len = len;
	r->fence_strip = strip;
	r->code_indent = indent;
}

/*
 * A line inside a fence: the closing fence, or code shown as it is.  Blank
 * lines at either end of the block are dropped: the block is set apart by
 * the blank lines around it already.
 */
static void code_line(struct render *r, const char *s, size_t n)
{
	size_t i, k;
	unsigned cur = 0;

	for (i = 0; i < n && s[i] == ' '; i++)
		;
	for (k = i; k < n && s[k] == r->fence_ch; k++)
		;
	if (k - i >= r->fence_len) {
		while (k < n && s[k] == ' ')
			k++;
		if (k == n) {
			r->in_code = 0;
			return;
		}
	}
	/* the fence's own indentation is not the code's */
	for (i = 0; i < r->fence_strip && i < n && s[i] == ' '; i++)
		;
	s += i;
	n -= i;
	while (n && s[n - 1] == ' ')
		n--;
	if (!n) {
		r->code_blanks += r->code_lines > 0;
		return;
	}
	line_begin(r);
	for (; r->code_blanks; r->code_blanks--)
		strbuf_addch(r->out, '\n');
	add_spaces(r->out, r->code_indent);
	style_to(r, &cur, ST_CODE);
	strbuf_add(r->out, s, n);
	style_to(r, &cur, 0);
	strbuf_addch(r->out, '\n');
	r->code_lines++;
}

static int is_rule(const char *s, size_t n)
{
	size_t i, marks = 0;

	if (*s != '-' && *s != '*' && *s != '_')
		return 0;
	for (i = 0; i < n; i++) {
		if (s[i] == *s)
			marks++;
		else if (s[i] != ' ')
			return 0;
	}
	return marks >= 3;
}

static void rule(struct render *r)
{
	unsigned cur = 0;

	close_lists(r);
	end_quote(r);
	start_block(r, 0);
	line_begin(r);
	style_to(r, &cur, ST_DIM);
	add_repeat(r->out, r->color ? "\xe2\x94\x80" : "-", r->width); /* U+2500 */
	style_to(r, &cur, 0);
	strbuf_addch(r->out, '\n');
}

/* "# Title", up to six '#', a closing run of '#' dropped.  0 if not one. */
static int heading(struct render *r, const char *s, size_t n)
{
	struct lead none = { STRBUF_INIT, 0, 0 };
	size_t level, widest, e;

	for (level = 0; level < n && s[level] == '#'; level++)
		;
	if (level > 6 || (level < n && s[level] != ' '))
		return 0;
	s += level;
	n -= level;
	for (e = n; e && s[e - 1] == '#'; e--)
		;
	if (!e || s[e - 1] == ' ')
		n = e;
	while (n && (*s == ' ' || s[n - 1] == ' ')) {
		if (*s == ' ')
			s++;
		n--;
	}
	close_lists(r);
	end_quote(r);
	start_block(r, 1);
	if (level > 3)
		level = 3; /* deeper headings are rare in a lesson: shown as ### */
	if (n) {
		widest = render_text(r, s, n, heading_style[level], &none, &none);
		if (!r->color) {
			add_repeat(r->out, level == 1 ? "=" : "-", widest);
			strbuf_addch(r->out, '\n');
		}
	}
	r->sep = 1;
	return 1;
}

static void quote_line(struct render *r, const char *s, size_t n)
{
	while (n && *s == ' ') {
		s++;
		n--;
	}
	if (!r->in_quote) {
		close_lists(r);
		start_block(r, 0);
		r->in_quote = 1;
		r->quote_gap = 0;
	}
	if (!n) { /* a paragraph break inside the quote */
		if (r->para_open) {
			flush_para(r);
			r->quote_gap = 1;
		}
		return;
	}
	if (r->para_open) {
		para_add(r, s, n);
		return;
	}
	if (r->quote_gap) {
		line_begin(r);
		put_lead(r, &r->bar, 0);
		strbuf_addch(r->out, '\n');
		r->quote_gap = 0;
	}
	para_open(r, 0, s, n);
	lead_copy(&r->first, &r->bar);
	lead_copy(&r->next, &r->bar);
}

struct marker {
	int ordered;
	unsigned long num;
	size_t len; /* of the marker, without the space after it */
};

/* "- ", "* " or "1. " (up to nine digits), or the marker alone on the line. */
static int parse_marker(const char *s, size_t n, struct marker *m)
{
	size_t i = 0;

	if (*s == '-' || *s == '*') {
		m->ordered = 0;
		m->num = 1;
		i = 1;
	} else {
		m->ordered = 1;
		m->num = 0;
		for (; i < n && i < 9 && s[i] >= '0' && s[i] <= '9'; i++)
			m->num = m->num * 10 + (unsigned long)(s[i] - '0');
		if (!i || i >= n || s[i] != '.')
			return 0;
		i++;
	}
	if (i < n && s[i] != ' ')
		return 0;
	m->len = i;
	return 1;
}

static void list_item(struct render *r, int level, size_t ind, const struct marker *m,
		      const char *s, size_t n)
{
	struct level *lv = &r->lv[level];
	size_t indent = level ? r->lv[0].out_col : LIST_INDENT;
	const char *mark;
	char num[32];

	start_block(r, 0);
	if (!level)
		r->lv[1].open = 0;
	if (!lv->open || lv->ordered != m->ordered) {
		lv->open = 1;
		lv->ordered = m->ordered;
		lv->next = m->num;
	}
	if (m->ordered) {
		snprintf(num, sizeof(num), "%lu.", lv->next++);
		mark = num;
	} else {
		mark = !r->color ? "-" : level ? "\xe2\x97\xa6" : "\xe2\x80\xa2"; /* ◦ • */
	}
	para_open(r, 0, s + m->len, n - m->len);
	lead_set(&r->first, r->color, indent, mark, 0);
	lead_set(&r->next, r->color, r->first.cols, NULL, 0);
	lv->out_col = r->first.cols;
	lv->in_col = ind + m->len + 1;
}

/* The item a line indented by ind belongs to: the nested one if it reaches its text. */
static int item_level(struct render *r, size_t ind)
{
	if (r->lv[1].open && ind >= r->lv[1].in_col)
		return 1;
	r->lv[1].open = 0;
	return 0;
}

/* A line indented by two or more inside a list. */
static void item_line(struct render *r, size_t ind, const char *s, size_t n)
{
	struct marker m;
	size_t fence = fence_open(s, n);
	int level;

	if (fence) {
		level = item_level(r, ind);
		start_block(r, 0);
		begin_code(r, s, fence, ind, r->lv[level].out_col + CODE_INDENT);
		return;
	}
	if (!is_rule(s, n) && parse_marker(s, n, &m)) {
		list_item(r, 1, ind, &m, s, n);
		return;
	}
	if (r->para_open) {
		para_add(r, s, n);
		return;
	}
	level = item_level(r, ind);
	start_block(r, 0);
	para_open(r, r->lv[level].out_col, s, n);
}

/* A line at the top level that may start a block: 1 if it did. */
static int block_line(struct render *r, size_t ind, const char *s, size_t n)
{
	struct marker m;
	size_t fence = fence_open(s, n);

	if (fence) {
		close_lists(r);
		end_quote(r);
		start_block(r, 0);
		begin_code(r, s, fence, ind, CODE_INDENT);
		return 1;
	}
	if (*s == '#')
		return heading(r, s, n);
	if (is_rule(s, n)) {
		rule(r);
		return 1;
	}
	if (*s == '>') {
		quote_line(r, s + 1, n - 1);
		return 1;
	}
	if (parse_marker(s, n, &m)) {
		end_quote(r);
		list_item(r, 0, ind, &m, s, n);
		return 1;
	}
	return 0;
}

static void text_line(struct render *r, const char *s, size_t n)
{
	if (r->para_open) { /* a continuation line, also of an item or a quote */
		para_add(r, s, n);
		return;
	}
	close_lists(r);
	end_quote(r);
	start_block(r, 0);
	para_open(r, 0, s, n);
}

static void do_line(struct render *r, const char *s, size_t n)
{
	size_t ind;

	if (r->in_code) {
		code_line(r, s, n);
		return;
	}
	while (n && s[n - 1] == ' ')
		n--;
	for (ind = 0; ind < n && s[ind] == ' '; ind++)
		;
	if (ind == n) {
		flush_para(r);
		end_quote(r);
		r->blank = 1;
		return;
	}
	if (r->lv[0].open && ind >= 2)
		item_line(r, ind, s + ind, n - ind);
	else if (ind > 3 || !block_line(r, ind, s + ind, n - ind))
		text_line(r, s + ind, n - ind);
	r->blank = 0;
}

void mdterm_render(struct strbuf *out, const char *md, size_t len, const struct mdterm_opts *o)
{
	struct strbuf clean = STRBUF_INIT;
	struct render r;
	const char *line, *eol;
	int width = o ? o->width : 0;

	if (!md || !len)
		return;
	memset(&r, 0, sizeof(r));
	r.out = out;
	r.start = out->len;
	r.color = o && o->color;
	if (width <= 0)
		width = MDTERM_WIDTH_DEFAULT;
	else if (width < MDTERM_WIDTH_MIN)
		width = MDTERM_WIDTH_MIN;
	else if (width > MDTERM_WIDTH_MAX)
		width = MDTERM_WIDTH_MAX;
	r.width = (size_t)width;
	strbuf_init(&r.para, 0);
	strbuf_init(&r.first.text, 0);
	strbuf_init(&r.next.text, 0);
	strbuf_init(&r.bar.text, 0);
	lead_set(&r.bar, r.color, 0, r.color ? "\xe2\x94\x82" : "|", ST_DIM); /* │ */

	/* from here on the text's only control character is '\n' */
	escape_term(&clean, md, len, ESCAPE_TERM_NEWLINES);
	for (line = clean.buf; *line; line = *eol ? eol + 1 : eol) {
		eol = strchrnul(line, '\n');
		do_line(&r, line, (size_t)(eol - line));
	}
	flush_para(&r);

	strbuf_release(&clean);
	strbuf_release(&r.para);
	strbuf_release(&r.first.text);
	strbuf_release(&r.next.text);
	strbuf_release(&r.bar.text);
}

int mdterm_width_of(int fd)
{
	struct winsize ws;
	const char *env = getenv("COLUMNS");
	char *end;
	long n;

	if (ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	if (env && *env) {
		n = strtol(env, &end, 10);
		if (!*end && n > 0 && n <= COLUMNS_MAX)
			return (int)n;
	}
	return MDTERM_WIDTH_DEFAULT;
}
