/*
 * mdterm: lesson Markdown on a terminal (mdterm.h).
 *
 * md4c parses; this file only lays out what md4c reports.  Blocks are
 * collected whole (a paragraph's inline text with one style byte per byte
 * of it, a code block's lines, a table's cells) and written when md4c
 * leaves them.  Styles are written where they change and reset before every
 * line break, so a pager, or output cut short, never leaves the terminal
 * bold or cyan.
 *
 * Every line starts with the leads of the blocks it is in: a list item's
 * marker on its first line and spaces on the next ones, a quote's bar on
 * all.  A blank line is written between two blocks where the source has
 * one (md4c gives no positions, but its text points into the document: the
 * lines between the last text of one block and the first of the next say
 * it), and around headings and rules always.
 */
#include "learn/mdterm.h"
#include "lib/escape.h"
#include "lib/strbuf.h"
#include "lib/xalloc.h"

#include <md4c.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#define NONE ((size_t)-1)
#define LIST_INDENT 2  /* columns before the marker of a list not in an item */
#define CODE_INDENT 4  /* columns before code, within its container */
#define MAX_LEADS 16   /* blocks nested deeper add no lead of their own */
#define COLUMNS_MAX 10000

#define MD_FLAGS MD_FLAG_TABLES

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

/* Named character references shown as their character; any other stays as written. */
static const struct {
	const char *name;
	unsigned cp;
} entities[] = {
	{ "amp", '&' },       { "lt", '<' },         { "gt", '>' },         { "quot", '"' },
	{ "apos", '\'' },     { "nbsp", 0xa0 },      { "copy", 0xa9 },      { "reg", 0xae },
	{ "trade", 0x2122 },  { "deg", 0xb0 },       { "plusmn", 0xb1 },    { "times", 0xd7 },
	{ "divide", 0xf7 },   { "middot", 0xb7 },    { "sect", 0xa7 },      { "para", 0xb6 },
	{ "laquo", 0xab },    { "raquo", 0xbb },     { "ndash", 0x2013 },   { "mdash", 0x2014 },
	{ "lsquo", 0x2018 },  { "rsquo", 0x2019 },   { "ldquo", 0x201c },   { "rdquo", 0x201d },
	{ "bull", 0x2022 },   { "hellip", 0x2026 },  { "larr", 0x2190 },    { "uarr", 0x2191 },
	{ "rarr", 0x2192 },   { "darr", 0x2193 },    { "harr", 0x2194 },    { "rArr", 0x21d2 },
	{ "check", 0x2713 },  { "cross", 0x2717 },   { "le", 0x2264 },      { "ge", 0x2265 },
	{ "ne", 0x2260 },     { "asymp", 0x2248 },   { "infin", 0x221e },   { "micro", 0xb5 },
	{ "euro", 0x20ac },   { "pound", 0xa3 },     { "yen", 0xa5 },       { "cent", 0xa2 },
	{ "shy", 0xad },      { "ensp", 0x2002 },    { "emsp", 0x2003 },    { "thinsp", 0x2009 },
	{ "num", '#' },       { "ast", '*' },        { "lowbar", '_' },     { "grave", '`' },
	{ "lsqb", '[' },      { "rsqb", ']' },       { "lpar", '(' },       { "rpar", ')' },
	{ "verbar", '|' },    { "bsol", '\\' },      { "excl", '!' },       { "dollar", '$' },
	{ "percnt", '%' },    { "commat", '@' },     { "tilde", '~' },      { "Hat", '^' },
};

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

/* Columns of s[0..n): one per code point. */
static size_t columns(const char *s, size_t n)
{
	return escape_columns(s, n);
}

/* ---- inline text: visible bytes and a style for each ------------------- */

struct inl {
	struct strbuf vis; /* the text to show; '\n' is a hard line break */
	struct strbuf sty; /* vis.len bytes: the style of each */
};

static void inl_init(struct inl *in)
{
	strbuf_init(&in->vis, 0);
	strbuf_init(&in->sty, 0);
}

static void inl_release(struct inl *in)
{
	strbuf_release(&in->vis);
	strbuf_release(&in->sty);
}

static void inl_reset(struct inl *in)
{
	strbuf_reset(&in->vis);
	strbuf_reset(&in->sty);
}

static void inl_setlen(struct inl *in, size_t len)
{
	strbuf_setlen(&in->vis, len);
	strbuf_setlen(&in->sty, len);
}

/* Append p[0..n) in one style; a line break is a space. */
static void put(struct inl *in, const char *p, size_t n, unsigned style)
{
	size_t i;

	for (i = 0; i < n; i++) {
		strbuf_addch(&in->vis, p[i] == '\n' ? ' ' : p[i]);
		strbuf_addch(&in->sty, (int)style);
	}
}

/* Append code point cp as UTF-8 made inert (a control becomes U+FFFD, ESC nothing). */
static void add_code_point(struct strbuf *sb, unsigned long cp)
{
	char u[4];
	size_t n;

	if (cp == 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		cp = 0xfffd;
	if (cp < 0x80) {
		u[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (char)(0xc0 | (cp >> 6));
		u[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (char)(0xe0 | (cp >> 12));
		u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		u[0] = (char)(0xf0 | (cp >> 18));
		u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	/* an entity can name any character: what it names is learner text too */
	escape_term(sb, u, n, 0);
}

/*
 * Append the entity s[0..n) ("&amp;", "&#35;", "&#x23;") as the character it
 * names, or as written when it is a name this file does not know.
 */
static void add_entity(struct strbuf *sb, const char *s, size_t n)
{
	unsigned long cp = 0;
	size_t i;
	int hex;

	if (n >= 4 && s[1] == '#') {
		hex = s[2] == 'x' || s[2] == 'X';
		for (i = hex ? 3 : 2; i + 1 < n; i++) {
			unsigned char c = (unsigned char)s[i];
			unsigned d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 :
				     c >= 'A' && c <= 'F' ? c - 'A' + 10 : 99;

			if (d >= (hex ? 16u : 10u))
				break;
			if (cp <= 0x10ffff)
				cp = cp * (hex ? 16 : 10) + d;
		}
		add_code_point(sb, cp);
		return;
	}
	for (i = 0; n > 2 && i < sizeof(entities) / sizeof(entities[0]); i++) {
		if (strlen(entities[i].name) == n - 2 && !memcmp(entities[i].name, s + 1, n - 2)) {
			add_code_point(sb, entities[i].cp);
			return;
		}
	}
	strbuf_add(sb, s, n);
}

/* An md4c attribute (a link's address) as text: entities decoded, made inert. */
static void add_attribute(struct strbuf *sb, const MD_ATTRIBUTE *a)
{
	unsigned k;

	for (k = 0; a->substr_offsets[k] < a->size; k++) {
		const char *s = a->text + a->substr_offsets[k];
		size_t n = a->substr_offsets[k + 1] - a->substr_offsets[k];

		if (a->substr_types[k] == MD_TEXT_ENTITY)
			add_entity(sb, s, n);
		else if (a->substr_types[k] == MD_TEXT_NULLCHAR)
			strbuf_addstr(sb, ESCAPE_REPLACEMENT);
		else
			escape_term(sb, s, n, 0);
	}
}

/* ---- blocks ------------------------------------------------------------- */

enum ctype { C_QUOTE, C_LIST, C_ITEM };

/* An open container block: a quote, a list, or a list item. */
struct container {
	enum ctype type;
	int started;         /* its first line is written: the next ones get lead_next */
	struct strbuf first; /* the lead of its first line, styles included */
	struct strbuf next;  /* of the lines after it */
	size_t cols;         /* columns of either */
	/* a list */
	int ordered;
	unsigned long num; /* the number of its next item */
	char delim;
	size_t depth; /* lists around it */
};

enum leaf { LEAF_NONE, LEAF_PARA, LEAF_HEADING, LEAF_CODE, LEAF_HTML, LEAF_TABLE };

/* A link or an image being read: where its text starts, and its address. */
struct link {
	size_t start;
	struct strbuf href;
};

struct cell {
	struct inl in;
	MD_ALIGN align;
	int head;
};

struct render {
	struct strbuf *out;
	size_t start; /* out->len when called: before it is not ours */
	int color;
	size_t width;
	const char *doc; /* the escaped document md4c reads */
	size_t doc_len;

	struct container *stack;
	size_t depth, alloc;

	/* where the text seen so far ends in doc, and where the last block's did */
	size_t pos, prev_end;
	int force_sep; /* a blank line before the next block, whatever the source */

	/* the block being collected */
	enum leaf leaf;
	int implicit; /* a tight list item's paragraph: md4c sends no block for it */
	unsigned level;
	size_t leaf_start; /* where its first text is in doc */
	size_t code_lead_blanks;
	struct inl in;
	struct strbuf raw; /* code or HTML, as it is */

	/* inline state */
	unsigned em, strong, under;
	int in_code_span, in_comment;
	struct strbuf code; /* the code span being read */
	size_t code_ticks;  /* its backticks as written, 0 if unknown */
	int code_pad;       /* and a space inside them, stripped by md4c */
	struct link *links;
	size_t nlinks, links_alloc;

	/* a table */
	struct cell *cells;
	size_t ncells, cells_alloc, ncols;
	int in_head;
	MD_ALIGN align;
};

/* ---- leads and lines ---------------------------------------------------- */

enum lead_mode { LEAD_FIRST, LEAD_NEXT, LEAD_SEP };

static int has_lead(const struct container *c)
{
	return c->type != C_LIST;
}

/*
 * Write the leads of the containers open: a first line's (markers of the
 * items not started yet, which then are), a next line's, or a blank line's
 * between blocks (the containers started only).  Without more, nothing
 * follows on the line: its trailing spaces are left out.  Returns the
 * columns written.
 */
static size_t put_leads(struct render *r, enum lead_mode mode, int more)
{
	size_t i, leads = 0, cols = 0, line = r->out->len;

	for (i = 0; i < r->depth && leads < MAX_LEADS; i++) {
		struct container *c = &r->stack[i];

		if (!has_lead(c))
			continue;
		leads++;
		if (mode == LEAD_SEP && !c->started)
			break;
		if (mode == LEAD_FIRST && !c->started) {
			strbuf_add(r->out, c->first.buf, c->first.len);
		} else {
			strbuf_add(r->out, c->next.buf, c->next.len);
		}
		cols += c->cols;
	}
	/* every container is started once a line is written inside it */
	if (mode != LEAD_SEP)
		for (i = 0; i < r->depth; i++)
			r->stack[i].started = 1;
	if (!more) {
		while (r->out->len > line && r->out->buf[r->out->len - 1] == ' ') {
			strbuf_setlen(r->out, r->out->len - 1);
			cols--;
		}
	}
	return cols;
}

/* Columns of the leads on a line after the first. */
static size_t lead_cols(const struct render *r)
{
	size_t i, leads = 0, cols = 0;

	for (i = 0; i < r->depth && leads < MAX_LEADS; i++) {
		if (has_lead(&r->stack[i])) {
			leads++;
			cols += r->stack[i].cols;
		}
	}
	return cols;
}

/* Room for text on a line after the leads; at least one column. */
static size_t room(const struct render *r)
{
	size_t cols = lead_cols(r);

	return r->width > cols ? r->width - cols : 1;
}

static void style_to(struct render *r, unsigned *cur, unsigned want)
{
	want &= ~(unsigned)ST_GLUE;
	if (r->color)
		add_sgr(r->out, *cur, want);
	*cur = want;
}

/* Blank lines wholly inside doc[a..b): lines of spaces and quote bars. */
static size_t blank_lines(const struct render *r, size_t a, size_t b)
{
	const char *s = r->doc;
	size_t p = a, q, k, n = 0;

	if (a == NONE || b == NONE || a >= b || b > r->doc_len)
		return 0;
	if (p > 0 && s[p - 1] != '\n') { /* the rest of a line is no line */
		const char *nl = memchr(s + p, '\n', b - p);

		if (!nl)
			return 0;
		p = (size_t)(nl - s) + 1;
	}
	while (p < b) {
		const char *nl = memchr(s + p, '\n', b - p);

		if (!nl)
			break;
		q = (size_t)(nl - s);
		for (k = p; k < q && (s[k] == ' ' || s[k] == '>'); k++)
			;
		n += k == q;
		p = q + 1;
	}
	return n;
}

/*
 * A block is about to be written: a blank line first if the source has one
 * before it (or one is forced), unless nothing is written yet.  The block's
 * text, if it has any, starts at r->leaf_start.
 */
static void separate(struct render *r, int force)
{
	size_t blanks = blank_lines(r, r->prev_end, r->leaf_start);

	if ((force || r->force_sep || blanks > r->code_lead_blanks) && r->out->len > r->start) {
		put_leads(r, LEAD_SEP, 0);
		strbuf_addch(r->out, '\n');
	}
	r->force_sep = 0;
	if (r->pos != NONE)
		r->prev_end = r->pos;
}

/* The innermost lead is an item not started: its marker on a line of its own. */
static void marker_line(struct render *r)
{
	size_t i = r->depth;

	while (i > 0 && r->stack[i - 1].type == C_LIST)
		i--;
	if (i > 0 && r->stack[i - 1].type == C_ITEM && !r->stack[i - 1].started) {
		put_leads(r, LEAD_FIRST, 0);
		strbuf_addch(r->out, '\n');
	}
}

/* A space the wrapper may break at. */
static int is_break(const struct inl *in, size_t i)
{
	return in->vis.buf[i] == ' ' && !(in->sty.buf[i] & ST_GLUE);
}

/*
 * Write the visible text of in wrapped to the room after the leads: greedy,
 * breaking only at spaces (runs of them are one) and at hard line breaks, a
 * word wider than the line on a line of its own.  Glue holds a code span
 * together unless it is wider than a line.  Returns the columns of the
 * widest line, leads left out.
 */
static size_t wrap(struct render *r, const struct inl *in)
{
	const char *v = in->vis.buf;
	const unsigned char *st = (const unsigned char *)in->sty.buf;
	size_t n = in->vis.len, i = 0, w, j, wc, col, lead, widest = 0;
	size_t width = room(r);
	unsigned cur = 0, gap = 0;
	int fresh = 1, unglued = 0;

	/* a hard break at either end breaks nothing */
	while (i < n && (is_break(in, i) || v[i] == '\n'))
		i++;
	while (n > i && (is_break(in, n - 1) || v[n - 1] == '\n'))
		n--;
	lead = put_leads(r, LEAD_FIRST, i < n);
	col = 0;
	while (i < n) {
		if (v[i] == '\n') { /* a hard line break */
			style_to(r, &cur, 0);
			strbuf_addch(r->out, '\n');
			widest = col > widest ? col : widest;
			for (i++; i < n && is_break(in, i); i++)
				;
			put_leads(r, LEAD_NEXT, i < n && v[i] != '\n');
			col = 0;
			fresh = 1;
			continue;
		}
		for (w = i; i < n && v[i] != '\n' && !is_break(in, i); i++)
			;
		wc = columns(v + w, i - w);
		unglued = wc > width;
		if (unglued) { /* too wide for any line: the glue gives way */
			for (; w < i && v[w] == ' '; w++)
				;
			if (w == i)
				goto next;
			for (i = w; i < n && v[i] != ' ' && v[i] != '\n'; i++)
				;
			wc = columns(v + w, i - w);
		}
		if (!fresh && col + 1 + wc > width) {
			style_to(r, &cur, 0);
			strbuf_addch(r->out, '\n');
			widest = col > widest ? col : widest;
			put_leads(r, LEAD_NEXT, 1);
			col = 0;
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
next:
		if (i < n)
			gap = st[i];
		while (i < n && (is_break(in, i) || (unglued && v[i] == ' ')))
			i++;
	}
	(void)lead;
	style_to(r, &cur, 0);
	strbuf_addch(r->out, '\n');
	return col > widest ? col : widest;
}

/* ---- leaf blocks --------------------------------------------------------- */

/* Nothing to show: spaces at most (an entity can name a character made nothing). */
static int inl_empty(const struct inl *in)
{
	size_t k;

	for (k = 0; k < in->vis.len; k++)
		if (in->vis.buf[k] != ' ' && in->vis.buf[k] != '\n')
			return 0;
	return 1;
}

static void flush_para(struct render *r)
{
	if (inl_empty(&r->in)) {
		if (r->pos != NONE)
			r->prev_end = r->pos;
		return;
	}
	separate(r, 0);
	wrap(r, &r->in);
}

static void flush_heading(struct render *r)
{
	unsigned level = r->level > 3 ? 3 : r->level; /* deeper ones are rare: shown as ### */
	size_t widest, k;

	if (inl_empty(&r->in)) { /* an empty heading still sets the text apart */
		if (r->pos != NONE)
			r->prev_end = r->pos;
		r->force_sep = 1;
		return;
	}
	separate(r, 1);
	r->force_sep = 1;
	for (k = 0; k < r->in.sty.len; k++)
		r->in.sty.buf[k] = (char)(r->in.sty.buf[k] | (char)heading_style[level]);
	widest = wrap(r, &r->in);
	if (!r->color) {
		put_leads(r, LEAD_NEXT, 1);
		add_repeat(r->out, level == 1 ? "=" : "-", widest);
		strbuf_addch(r->out, '\n');
	}
}

/* A line of code as it is, trailing spaces dropped, not wrapped. */
static void code_line(struct render *r, const char *s, size_t n)
{
	unsigned cur = 0;

	while (n && s[n - 1] == ' ')
		n--;
	if (!n) { /* a blank line inside */
		put_leads(r, LEAD_SEP, 0);
		strbuf_addch(r->out, '\n');
		return;
	}
	put_leads(r, LEAD_NEXT, 1);
	add_spaces(r->out, CODE_INDENT);
	style_to(r, &cur, ST_CODE);
	strbuf_add(r->out, s, n);
	style_to(r, &cur, 0);
	strbuf_addch(r->out, '\n');
}

/*
 * Verbatim lines (code, indented by four; HTML, not), without the blank
 * lines at either end: the block is set apart by the blank lines around it.
 */
static void flush_lines(struct render *r, int code)
{
	const char *s = r->raw.buf, *end = r->raw.buf + r->raw.len, *eol;
	size_t blanks = 0, k;
	int any = 0;

	for (; s < end; s = eol + 1) {
		eol = memchr(s, '\n', (size_t)(end - s));
		if (!eol)
			eol = end;
		for (k = 0; s + k < eol && s[k] == ' '; k++)
			;
		if (s + k == eol) {
			blanks += any;
			if (eol == end)
				break;
			continue;
		}
		if (!any) {
			separate(r, 0);
			marker_line(r);
		}
		any = 1;
		for (; blanks; blanks--)
			code_line(r, "", 0);
		if (code) {
			code_line(r, s, (size_t)(eol - s));
		} else {
			put_leads(r, LEAD_NEXT, 1);
			strbuf_add(r->out, s, (size_t)(eol - s));
			strbuf_rtrim(r->out);
			strbuf_addch(r->out, '\n');
		}
		if (eol == end)
			break;
	}
	if (!any && r->pos != NONE)
		r->prev_end = r->pos;
}

/* An HTML block that is only a comment is for the author: not shown. */
static int only_comment(const struct strbuf *raw)
{
	const char *s = raw->buf, *e = raw->buf + raw->len;

	while (s < e && (*s == ' ' || *s == '\n'))
		s++;
	while (e > s && (e[-1] == ' ' || e[-1] == '\n'))
		e--;
	return e - s >= 7 && !strncmp(s, "<!--", 4) && !strncmp(e - 3, "-->", 3);
}

static void rule(struct render *r)
{
	unsigned cur = 0;
	size_t n = room(r);

	r->leaf_start = NONE;
	separate(r, 1);
	marker_line(r);
	put_leads(r, LEAD_NEXT, 1);
	style_to(r, &cur, ST_DIM);
	add_repeat(r->out, r->color ? "\xe2\x94\x80" : "-", n < 3 ? 3 : n); /* U+2500 */
	style_to(r, &cur, 0);
	strbuf_addch(r->out, '\n');
	r->force_sep = 1;
}

/* ---- tables -------------------------------------------------------------- */

/* A line of a cell: vis[a..b). */
struct span {
	size_t a, b;
};

/*
 * Break a cell's text into lines of at most width columns, at spaces, and
 * inside a word only when it is wider than a line.  Returns the count; the
 * lines are in *lines (the caller frees).
 */
static size_t cell_lines(const struct inl *in, size_t width, struct span **lines)
{
	const char *v = in->vis.buf;
	size_t n = in->vis.len, i = 0, w, e, count = 0, alloc = 4, col, a = 0, b = 0;
	int open = 0;

	*lines = xmalloc(alloc * sizeof(**lines));
	for (;;) {
		while (i < n && v[i] == ' ')
			i++;
		if (i >= n)
			break;
		for (w = i, col = 0; i < n && v[i] != ' '; i++)
			col += ((unsigned char)v[i] & 0xc0) != 0x80;
		/* the word is [w, i): on this line, on the next, or cut */
		if (open && columns(v + a, i - a) <= width) {
			b = i;
			continue;
		}
		if (open) {
			if (count == alloc)
				*lines = xrealloc(*lines, (alloc *= 2) * sizeof(**lines));
			(*lines)[count++] = (struct span){ a, b };
			open = 0;
		}
		while (col > width) {
			for (e = w, col = 0; col < width || (e < i && ((unsigned char)v[e] & 0xc0) == 0x80); e++)
				col += ((unsigned char)v[e] & 0xc0) != 0x80;
			if (count == alloc)
				*lines = xrealloc(*lines, (alloc *= 2) * sizeof(**lines));
			(*lines)[count++] = (struct span){ w, e };
			w = e;
			col = columns(v + w, i - w);
		}
		a = w;
		b = i;
		open = w < i;
	}
	if (open) {
		if (count == alloc)
			*lines = xrealloc(*lines, (alloc *= 2) * sizeof(**lines));
		(*lines)[count++] = (struct span){ a, b };
	}
	return count;
}

/* A new cell, in the row being read. */
static void add_cell(struct render *r, MD_ALIGN align)
{
	struct cell *c;

	if (r->ncells == r->cells_alloc) {
		r->cells_alloc = r->cells_alloc ? 2 * r->cells_alloc : 16;
		r->cells = xrealloc(r->cells, r->cells_alloc * sizeof(*r->cells));
	}
	c = &r->cells[r->ncells++];
	inl_init(&c->in);
	c->align = align;
	c->head = r->in_head;
	r->em = r->strong = r->under = 0;
}

/* Write one line of a cell, padded to width as the column is aligned. */
static void put_cell_line(struct render *r, const struct cell *c, const struct span *l,
			  size_t width, unsigned extra)
{
	const char *v = c->in.vis.buf;
	const unsigned char *st = (const unsigned char *)c->in.sty.buf;
	size_t used = l ? columns(v + l->a, l->b - l->a) : 0, pad = width > used ? width - used : 0;
	size_t before = c->align == MD_ALIGN_RIGHT ? pad : c->align == MD_ALIGN_CENTER ? pad / 2 : 0;
	size_t j;
	unsigned cur = 0;

	add_spaces(r->out, before);
	for (j = l ? l->a : 0; l && j < l->b; j++) {
		if ((st[j] | extra) != cur)
			style_to(r, &cur, st[j] | extra);
		strbuf_addch(r->out, v[j]);
	}
	style_to(r, &cur, 0);
	add_spaces(r->out, pad - before);
}

static void table_border(struct render *r, const char *bar)
{
	unsigned cur = 0;

	style_to(r, &cur, ST_DIM);
	strbuf_addstr(r->out, bar);
	style_to(r, &cur, 0);
}

/* The rule under the head: "|---|---|", or in colour "├───┼───┤". */
static void table_rule(struct render *r, const size_t *w)
{
	unsigned cur = 0;
	size_t k;

	put_leads(r, LEAD_NEXT, 1);
	style_to(r, &cur, ST_DIM);
	for (k = 0; k < r->ncols; k++) {
		strbuf_addstr(r->out, !r->color ? "|" : k ? "\xe2\x94\xbc" : "\xe2\x94\x9c");
		add_repeat(r->out, r->color ? "\xe2\x94\x80" : "-", w[k] + 2);
	}
	strbuf_addstr(r->out, r->color ? "\xe2\x94\xa4" : "|");
	style_to(r, &cur, 0);
	strbuf_addch(r->out, '\n');
}

/*
 * The table, its columns as wide as their widest cell, narrowed from the
 * widest down when the table would not fit; a cell too wide for its column
 * goes on over more lines.
 */
static void flush_table(struct render *r)
{
	const char *bar = r->color ? "\xe2\x94\x82" : "|"; /* │ */
	size_t ncols = r->ncols, k, row, i, total, cap, lo, hi, fixed, height, line;
	size_t *w, *nat, *nlines;
	struct span **lines;

	if (!ncols || !r->ncells)
		return;
	while (r->ncells % ncols) /* a short last row */
		add_cell(r, MD_ALIGN_DEFAULT);
	w = xcalloc(ncols, sizeof(*w));
	nat = xcalloc(ncols, sizeof(*nat));
	nlines = xcalloc(ncols, sizeof(*nlines));
	lines = xcalloc(ncols, sizeof(*lines));
	for (i = 0; i < r->ncells; i++) {
		size_t c = columns(r->cells[i].in.vis.buf, r->cells[i].in.vis.len);

		if (c > nat[i % ncols])
			nat[i % ncols] = c;
	}
	/* room: leads, then "| " before each column, " |" after the last, " | " between */
	fixed = 3 * ncols + 1;
	total = room(r) > fixed ? room(r) - fixed : ncols;
	/* the largest cap with sum(min(nat, cap)) <= total, at least one column each */
	lo = 1;
	hi = 1;
	for (k = 0; k < ncols; k++)
		hi = nat[k] > hi ? nat[k] : hi;
	while (lo < hi) {
		size_t mid = lo + (hi - lo + 1) / 2, sum = 0;

		for (k = 0; k < ncols; k++)
			sum += nat[k] < mid ? nat[k] : mid;
		if (sum <= total)
			lo = mid;
		else
			hi = mid - 1;
	}
	cap = lo;
	for (k = 0; k < ncols; k++)
		w[k] = nat[k] < cap ? (nat[k] ? nat[k] : 1) : cap;

	separate(r, 0);
	marker_line(r);
	for (row = 0; row * ncols < r->ncells; row++) {
		struct cell *c = &r->cells[row * ncols];

		height = 1;
		for (k = 0; k < ncols; k++) {
			nlines[k] = cell_lines(&c[k].in, w[k], &lines[k]);
			height = nlines[k] > height ? nlines[k] : height;
		}
		for (line = 0; line < height; line++) {
			put_leads(r, LEAD_NEXT, 1);
			for (k = 0; k < ncols; k++) {
				table_border(r, bar);
				strbuf_addch(r->out, ' ');
				put_cell_line(r, &c[k], line < nlines[k] ? &lines[k][line] : NULL, w[k],
					      c[k].head ? ST_BOLD : 0);
				strbuf_addch(r->out, ' ');
			}
			table_border(r, bar);
			strbuf_addch(r->out, '\n');
		}
		for (k = 0; k < ncols; k++)
			free(lines[k]);
		if (c[0].head && (row + 1) * ncols < r->ncells && !c[ncols].head)
			table_rule(r, w);
	}
	free(w);
	free(nat);
	free(nlines);
	free(lines);
}

static void table_release(struct render *r)
{
	size_t i;

	for (i = 0; i < r->ncells; i++)
		inl_release(&r->cells[i].in);
	r->ncells = 0;
}

/* ---- md4c's callbacks ---------------------------------------------------- */

static struct inl *cur_inl(struct render *r)
{
	if (r->leaf == LEAF_TABLE)
		return r->ncells ? &r->cells[r->ncells - 1].in : &r->in;
	return &r->in;
}

static void leaf_begin(struct render *r, enum leaf leaf)
{
	r->leaf = leaf;
	r->implicit = 0;
	r->leaf_start = NONE;
	r->code_lead_blanks = 0;
	r->em = r->strong = r->under = 0;
	r->in_comment = 0;
	inl_reset(&r->in);
	strbuf_reset(&r->raw);
}

/* The block being collected is complete: write it. */
static void leaf_end(struct render *r)
{
	switch (r->leaf) {
	case LEAF_PARA:
		flush_para(r);
		break;
	case LEAF_HEADING:
		flush_heading(r);
		break;
	case LEAF_CODE:
		flush_lines(r, 1);
		break;
	case LEAF_HTML:
		if (only_comment(&r->raw)) {
			if (r->pos != NONE)
				r->prev_end = r->pos;
		} else {
			flush_lines(r, 0);
		}
		break;
	case LEAF_TABLE:
		flush_table(r);
		table_release(r);
		break;
	case LEAF_NONE:
		break;
	}
	r->leaf = LEAF_NONE;
	r->implicit = 0;
}

static struct container *push(struct render *r, enum ctype type)
{
	struct container *c;

	if (r->depth == r->alloc) {
		r->alloc = r->alloc ? 2 * r->alloc : 8;
		r->stack = xrealloc(r->stack, r->alloc * sizeof(*r->stack));
	}
	c = &r->stack[r->depth++];
	memset(c, 0, sizeof(*c));
	c->type = type;
	strbuf_init(&c->first, 0);
	strbuf_init(&c->next, 0);
	return c;
}

static void pop(struct render *r)
{
	struct container *c = &r->stack[--r->depth];

	strbuf_release(&c->first);
	strbuf_release(&c->next);
}

static void open_quote(struct render *r)
{
	struct container *c = push(r, C_QUOTE);

	if (r->color)
		add_sgr(&c->first, 0, ST_DIM);
	strbuf_addstr(&c->first, r->color ? "\xe2\x94\x82" : "|"); /* │ */
	if (r->color)
		add_sgr(&c->first, ST_DIM, 0);
	strbuf_addch(&c->first, ' ');
	strbuf_add(&c->next, c->first.buf, c->first.len);
	c->cols = 2;
}

static void open_list(struct render *r, int ordered, unsigned long start, char delim)
{
	size_t depth = 0, i;
	struct container *c;

	for (i = 0; i < r->depth; i++)
		depth += r->stack[i].type == C_LIST;
	c = push(r, C_LIST);
	c->ordered = ordered;
	c->num = start;
	c->delim = delim;
	c->depth = depth;
}

static void open_item(struct render *r)
{
	struct container *list = r->depth ? &r->stack[r->depth - 1] : NULL, *c;
	size_t indent = r->depth >= 2 && r->stack[r->depth - 2].type == C_ITEM ? 0 : LIST_INDENT;
	char num[32];
	const char *mark;

	if (!list || list->type != C_LIST)
		return; /* md4c opens an item only in a list */
	if (list->ordered) {
		snprintf(num, sizeof(num), "%lu%c", list->num++, list->delim == ')' ? ')' : '.');
		mark = num;
	} else {
		mark = !r->color ? "-" : list->depth ? "\xe2\x97\xa6" : "\xe2\x80\xa2"; /* ◦ • */
	}
	c = push(r, C_ITEM);
	add_spaces(&c->first, indent);
	strbuf_addstr(&c->first, mark);
	strbuf_addch(&c->first, ' ');
	c->cols = indent + columns(mark, strlen(mark)) + 1;
	add_spaces(&c->next, c->cols);
}

static int enter_block(MD_BLOCKTYPE type, void *detail, void *data)
{
	struct render *r = data;

	if (r->leaf == LEAF_PARA && r->implicit)
		leaf_end(r);
	switch (type) {
	case MD_BLOCK_QUOTE:
		open_quote(r);
		break;
	case MD_BLOCK_UL:
		open_list(r, 0, 1, 0);
		break;
	case MD_BLOCK_OL: {
		const MD_BLOCK_OL_DETAIL *d = detail;

		open_list(r, 1, d->start, d->mark_delimiter);
		break;
	}
	case MD_BLOCK_LI:
		open_item(r);
		break;
	case MD_BLOCK_HR:
		rule(r);
		break;
	case MD_BLOCK_H:
		leaf_begin(r, LEAF_HEADING);
		r->level = ((const MD_BLOCK_H_DETAIL *)detail)->level;
		break;
	case MD_BLOCK_CODE:
		leaf_begin(r, LEAF_CODE);
		break;
	case MD_BLOCK_HTML:
		leaf_begin(r, LEAF_HTML);
		break;
	case MD_BLOCK_P:
		if (r->leaf != LEAF_TABLE)
			leaf_begin(r, LEAF_PARA);
		break;
	case MD_BLOCK_TABLE:
		leaf_begin(r, LEAF_TABLE);
		r->ncols = ((const MD_BLOCK_TABLE_DETAIL *)detail)->col_count;
		break;
	case MD_BLOCK_THEAD:
		r->in_head = 1;
		break;
	case MD_BLOCK_TBODY:
		r->in_head = 0;
		break;
	case MD_BLOCK_TR:
		/* md4c gives each row col_count cells; pad a short one all the same */
		while (r->ncols && r->ncells % r->ncols)
			add_cell(r, MD_ALIGN_DEFAULT);
		break;
	case MD_BLOCK_TH:
	case MD_BLOCK_TD:
		if (r->leaf == LEAF_TABLE)
			add_cell(r, ((const MD_BLOCK_TD_DETAIL *)detail)->align);
		break;
	case MD_BLOCK_DOC:
		break;
	}
	return 0;
}

static int leave_block(MD_BLOCKTYPE type, void *detail, void *data)
{
	struct render *r = data;

	(void)detail;
	if (r->leaf == LEAF_PARA && r->implicit)
		leaf_end(r);
	switch (type) {
	case MD_BLOCK_QUOTE:
	case MD_BLOCK_UL:
	case MD_BLOCK_OL:
		if (r->depth)
			pop(r);
		break;
	case MD_BLOCK_LI:
		marker_line(r); /* an empty item: its marker alone */
		if (r->depth)
			pop(r);
		break;
	case MD_BLOCK_H:
	case MD_BLOCK_CODE:
	case MD_BLOCK_HTML:
	case MD_BLOCK_P:
	case MD_BLOCK_TABLE:
		if (type == MD_BLOCK_P && r->leaf == LEAF_TABLE)
			break;
		leaf_end(r);
		break;
	default:
		break;
	}
	return 0;
}

static unsigned cur_style(const struct render *r)
{
	return (r->em ? ST_ITALIC : 0) | (r->strong ? ST_BOLD : 0) | (r->under ? ST_UNDER : 0);
}

/* Inline content outside any block is a tight list item's paragraph, which md4c does not report. */
static void implicit_para(struct render *r)
{
	if (r->leaf == LEAF_NONE) {
		leaf_begin(r, LEAF_PARA);
		r->implicit = 1;
	}
}

static int enter_span(MD_SPANTYPE type, void *detail, void *data)
{
	struct render *r = data;
	struct link *l;

	implicit_para(r);

	switch (type) {
	case MD_SPAN_EM:
		r->em++;
		break;
	case MD_SPAN_STRONG:
		r->strong++;
		break;
	case MD_SPAN_CODE:
		r->in_code_span = 1;
		r->code_ticks = 0;
		r->code_pad = 0;
		strbuf_reset(&r->code);
		break;
	case MD_SPAN_A:
	case MD_SPAN_IMG:
		if (r->nlinks == r->links_alloc) {
			r->links_alloc = r->links_alloc ? 2 * r->links_alloc : 4;
			r->links = xrealloc(r->links, r->links_alloc * sizeof(*r->links));
		}
		l = &r->links[r->nlinks++];
		l->start = cur_inl(r)->vis.len;
		strbuf_init(&l->href, 0);
		add_attribute(&l->href, type == MD_SPAN_A ? &((MD_SPAN_A_DETAIL *)detail)->href :
							  &((MD_SPAN_IMG_DETAIL *)detail)->src);
		break;
	default:
		break;
	}
	return 0;
}

static void add_repeat_inl(struct inl *in, const char *s, size_t n, unsigned style)
{
	while (n--)
		put(in, s, strlen(s), style);
}

/*
 * Where a code span's text starts in doc: the backticks before it (and the
 * space md4c strips after them), so that plain output shows them as written.
 */
static void code_opener(struct render *r, const char *s)
{
	size_t k = (size_t)(s - r->doc), t;

	r->code_pad = k > 0 && r->doc[k - 1] == ' ';
	k -= (size_t)r->code_pad;
	for (t = k; t > 0 && r->doc[t - 1] == '`'; t--)
		;
	r->code_ticks = k - t;
	if (!r->code_ticks)
		r->code_pad = 0;
}

/*
 * A code span: colour shows its content, cyan; plain output shows it between
 * its backticks as written, or when they are not known as many as it takes
 * (the shortest run not in it), with a space inside each when it starts or
 * ends with one.  A command is easier
 * to copy from one line: the spaces of a span are glue (the wrapper breaks
 * at them only if the span fits on no line).
 */
static void add_code_span(struct render *r)
{
	struct inl *in = cur_inl(r);
	const char *s = r->code.buf;
	size_t n = r->code.len, from = in->vis.len, run = 0, longest = 0, i, ticks = 1;
	unsigned style = cur_style(r);
	int pad;

	if (r->color) {
		put(in, s, n, style | ST_CODE);
	} else if (r->code_ticks) {
		add_repeat_inl(in, "`", r->code_ticks, style);
		add_repeat_inl(in, " ", (size_t)r->code_pad, style);
		put(in, s, n, style);
		add_repeat_inl(in, " ", (size_t)r->code_pad, style);
		add_repeat_inl(in, "`", r->code_ticks, style);
	} else {
		for (i = 0; i < n; i++) {
			run = s[i] == '`' ? run + 1 : 0;
			longest = run > longest ? run : longest;
		}
		/* the shortest run of ticks that is not in the text */
		for (ticks = 1; ticks <= longest; ticks++) {
			for (i = 0, run = 0; i < n; i++) {
				if (s[i] == '`') {
					run++;
				} else {
					if (run == ticks)
						break;
					run = 0;
				}
			}
			if (i == n && run != ticks)
				break;
		}
		pad = n && (s[0] == '`' || s[n - 1] == '`');
		for (i = 0; i < ticks; i++)
			put(in, "`", 1, style);
		if (pad)
			put(in, " ", 1, style);
		put(in, s, n, style);
		if (pad)
			put(in, " ", 1, style);
		for (i = 0; i < ticks; i++)
			put(in, "`", 1, style);
	}
	for (i = from; i < in->vis.len; i++)
		if (in->vis.buf[i] == ' ')
			in->sty.buf[i] = (char)(in->sty.buf[i] | ST_GLUE);
}

/*
 * A link ends: "text (address)", or the address alone when the text is
 * empty or is the address (an autolink), without "mailto:" for an e-mail.
 */
static void end_link(struct render *r)
{
	struct inl *in = cur_inl(r);
	struct link *l = &r->links[--r->nlinks];
	size_t n = in->vis.len - l->start;
	const char *text = in->vis.buf + l->start, *h = l->href.buf;
	unsigned style = cur_style(r);

	if (!n || (n == l->href.len && !memcmp(text, h, n)) ||
	    (l->href.len == n + 7 && !strncmp(h, "mailto:", 7) && !memcmp(text, h + 7, n))) {
		inl_setlen(in, l->start);
		if (!l->href.len)
			put(in, text, 0, style);
		else if (n && l->href.len == n + 7 && !strncmp(h, "mailto:", 7))
			put(in, h + 7, n, style | ST_UNDER);
		else
			put(in, h, l->href.len, style | ST_UNDER);
	} else if (l->href.len) {
		put(in, " (", 2, style);
		put(in, h, l->href.len, style | ST_UNDER);
		put(in, ")", 1, style);
	}
	strbuf_release(&l->href);
}

static int leave_span(MD_SPANTYPE type, void *detail, void *data)
{
	struct render *r = data;

	(void)detail;
	switch (type) {
	case MD_SPAN_EM:
		r->em -= r->em > 0;
		break;
	case MD_SPAN_STRONG:
		r->strong -= r->strong > 0;
		break;
	case MD_SPAN_CODE:
		r->in_code_span = 0;
		add_code_span(r);
		break;
	case MD_SPAN_A:
	case MD_SPAN_IMG:
		if (r->nlinks)
			end_link(r);
		break;
	default:
		break;
	}
	return 0;
}

/* Where text is in the document: it moves r->pos on, and starts the block's text. */
static void track(struct render *r, const char *s, size_t n)
{
	const char *nl;

	if (s >= r->doc && s + n <= r->doc + r->doc_len) {
		if (r->leaf_start == NONE)
			r->leaf_start = (size_t)(s - r->doc);
		r->pos = (size_t)(s - r->doc) + n;
	} else if (n == 1 && *s == '\n' && r->pos != NONE && r->pos < r->doc_len) {
		/* md4c's own line break: the line it ends is past */
		if (r->leaf == LEAF_CODE && r->leaf_start == NONE)
			r->code_lead_blanks++;
		nl = memchr(r->doc + r->pos, '\n', r->doc_len - r->pos);
		r->pos = nl ? (size_t)(nl - r->doc) + 1 : r->doc_len;
	}
}

static int text(MD_TEXTTYPE type, const MD_CHAR *s, MD_SIZE size, void *data)
{
	struct render *r = data;
	struct inl *in;
	struct strbuf tmp = STRBUF_INIT;
	size_t n = size;

	implicit_para(r);
	track(r, s, n);
	if (r->leaf == LEAF_CODE || r->leaf == LEAF_HTML) {
		strbuf_add(&r->raw, s, n);
		return 0;
	}
	in = cur_inl(r);
	switch (type) {
	case MD_TEXT_NULLCHAR:
		put(in, ESCAPE_REPLACEMENT, strlen(ESCAPE_REPLACEMENT), cur_style(r));
		break;
	case MD_TEXT_BR:
		if (r->in_comment)
			break;
		strbuf_addch(&in->vis, '\n');
		strbuf_addch(&in->sty, 0);
		break;
	case MD_TEXT_SOFTBR:
		if (!r->in_comment)
			put(in, " ", 1, cur_style(r));
		break;
	case MD_TEXT_ENTITY:
		add_entity(&tmp, s, n);
		if (r->in_code_span)
			strbuf_add(&r->code, tmp.buf, tmp.len);
		else
			put(in, tmp.buf, tmp.len, cur_style(r));
		break;
	case MD_TEXT_CODE:
		if (r->in_code_span) {
			if (!r->code.len && !r->code_ticks && s >= r->doc && s < r->doc + r->doc_len)
				code_opener(r, s);
			strbuf_add(&r->code, s, n);
			break;
		}
		put(in, s, n, cur_style(r) | ST_CODE);
		break;
	case MD_TEXT_HTML:
		/* raw HTML is shown as written, but a comment is for the author */
		if (!r->in_comment && n >= 4 && !strncmp(s, "<!--", 4))
			r->in_comment = 1;
		if (!r->in_comment)
			put(in, s, n, cur_style(r));
		if (r->in_comment && n >= 3 && !strncmp(s + n - 3, "-->", 3))
			r->in_comment = 0;
		break;
	default:
		put(in, s, n, cur_style(r));
		break;
	}
	strbuf_release(&tmp);
	return 0;
}

void mdterm_render(struct strbuf *out, const char *md, size_t len, const struct mdterm_opts *o)
{
	struct strbuf clean = STRBUF_INIT;
	struct render r;
	MD_PARSER parser;
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
	r.pos = r.prev_end = r.leaf_start = NONE;
	inl_init(&r.in);
	strbuf_init(&r.raw, 0);
	strbuf_init(&r.code, 0);

	/*
	 * From here on the text's only control character is '\n'.  Tabs are
	 * spaces to the next multiple of eight, as a terminal shows them, in
	 * code too (md4c would make a tab that indents a line of code four).
	 */
	escape_term(&clean, md, len, ESCAPE_TERM_NEWLINES);
	if (clean.len > UINT_MAX) /* md4c counts in unsigned */
		strbuf_setlen(&clean, escape_cut(clean.buf, clean.len, UINT_MAX));
	r.doc = clean.buf;
	r.doc_len = clean.len;

	memset(&parser, 0, sizeof(parser));
	parser.flags = MD_FLAGS;
	parser.enter_block = enter_block;
	parser.leave_block = leave_block;
	parser.enter_span = enter_span;
	parser.leave_span = leave_span;
	parser.text = text;
	/* md4c fails only when out of memory: what was written stays */
	md_parse(clean.buf, (MD_SIZE)clean.len, &parser, &r);
	leaf_end(&r);

	while (r.depth)
		pop(&r);
	while (r.nlinks)
		strbuf_release(&r.links[--r.nlinks].href);
	table_release(&r);
	free(r.cells);
	free(r.links);
	free(r.stack);
	inl_release(&r.in);
	strbuf_release(&r.raw);
	strbuf_release(&r.code);
	strbuf_release(&clean);
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
