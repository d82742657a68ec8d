#include "lib/escape.h"

#include <stdint.h>
#include <string.h>

#define UTF8_INVALID UINT32_MAX
#define ESC 0x1b
#define BEL 0x07

/*
 * Decode one UTF-8 sequence at s[0..len), len >= 1.  Returns its length and
 * sets *cp to the code point, or to UTF8_INVALID when s starts with an
 * invalid sequence; the length is then that of its maximal subpart (the
 * bytes that could have started a valid sequence), at least 1.  The lead
 * byte narrows the range of the second byte (Unicode 15, table 3-7), which
 * rules out overlong forms, surrogates and code points past U+10FFFF.
 */
static size_t utf8_decode(const unsigned char *s, size_t len, uint32_t *cp)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	size_t n, i;
	uint32_t v;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		v = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		v = c & 0x0f;
		if (c == 0xe0)
			lo = 0xa0; /* overlong */
		else if (c == 0xed)
			hi = 0x9f; /* surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		v = c & 0x07;
		if (c == 0xf0)
			lo = 0x90; /* overlong */
		else if (c == 0xf4)
			hi = 0x8f; /* past U+10FFFF */
	} else {
		*cp = UTF8_INVALID;
		return 1;
	}
	for (i = 1; i < n; i++) {
		if (i >= len || s[i] < lo || s[i] > hi) {
			*cp = UTF8_INVALID;
			return i;
		}
		v = v << 6 | (s[i] & 0x3f);
		lo = 0x80;
		hi = 0xbf;
	}
	*cp = v;
	return n;
}

void escape_utf8(struct strbuf *out, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, run = 0, n;
	uint32_t cp;

	strbuf_grow(out, len);
	while (i < len) {
		n = utf8_decode(p + i, len - i, &cp);
		if (cp == UTF8_INVALID) {
			/* flush the valid run before it, then the replacement */
			strbuf_add(out, s + run, i - run);
			strbuf_addstr(out, ESCAPE_REPLACEMENT);
			run = i + n;
		}
		i += n;
	}
	strbuf_add(out, s + run, len - run);
}

/* Code points a terminal acts on rather than shows (besides C0 and DEL). */
static int term_unsafe(uint32_t cp)
{
	return cp == UTF8_INVALID ||
	       (cp >= 0x80 && cp <= 0x9f) ||      /* C1: 0x9b is CSI on some terminals */
	       (cp >= 0x202a && cp <= 0x202e) ||  /* bidi embeddings and overrides */
	       (cp >= 0x2066 && cp <= 0x2069);    /* bidi isolates */
}

/*
 * Length of the escape sequence at p[0..len) (p[0] is ESC), to be dropped.
 * *no_st is set once a search for a string terminator has failed: none is
 * left in the rest of the text either, and not searching again keeps many
 * unterminated strings linear.
 */
static size_t escape_seq_len(const unsigned char *p, size_t len, int *no_st)
{
	size_t j;

	if (len < 2)
		return 1;
	switch (p[1]) {
	case '[': /* CSI: parameters, intermediates, one final byte */
		j = 2;
		while (j < len && p[j] >= 0x30 && p[j] <= 0x3f)
			j++;
		while (j < len && p[j] >= 0x20 && p[j] <= 0x2f)
			j++;
		if (j < len && p[j] >= 0x40 && p[j] <= 0x7e)
			j++;
		return j; /* cut short by anything else: drop what was read */
	case ']': /* OSC, DCS, SOS, PM, APC: a string up to BEL or ESC \ */
	case 'P':
	case 'X':
	case '^':
	case '_':
		for (j = 2; !*no_st && j < len; j++) {
			if (p[j] == BEL)
				return j + 1;
			if (p[j] == ESC && j + 1 < len && p[j + 1] == '\\')
				return j + 2;
		}
		/* unterminated: drop the introducer, show the rest as text */
		*no_st = 1;
		return 2;
	}
	if (p[1] >= 0x20 && p[1] <= 0x2f) { /* nF: intermediates, then a final */
		for (j = 1; j < len && p[j] >= 0x20 && p[j] <= 0x2f; j++)
			;
		if (j < len && p[j] >= 0x30 && p[j] <= 0x7e)
			j++;
		return j;
	}
	if (p[1] >= 0x30 && p[1] <= 0x7e) /* Fp, Fe, Fs: ESC 7, ESC c (reset), ... */
		return 2;
	return 1; /* ESC before a control or non-ASCII byte: drop the ESC alone */
}

void escape_term(struct strbuf *out, const char *s, size_t len, unsigned flags)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, col = 0, n;
	int no_st = 0;
	uint32_t cp;

	strbuf_grow(out, len);
	while (i < len) {
		unsigned char c = p[i];

		if (c == ESC) {
			i += escape_seq_len(p + i, len - i, &no_st);
			continue;
		}
		if (c == '\r' || c == '\n') {
			i += c == '\r' && i + 1 < len && p[i + 1] == '\n' ? 2 : 1;
			if (flags & ESCAPE_TERM_NEWLINES) {
				strbuf_addch(out, '\n');
				col = 0;
			} else {
				strbuf_addch(out, ' ');
				col++;
			}
			continue;
		}
		if (c == '\t') {
			do {
				strbuf_addch(out, ' ');
			} while (++col % 8);
			i++;
			continue;
		}
		if (c < 0x20 || c == 0x7f) {
			strbuf_addstr(out, ESCAPE_REPLACEMENT);
			col++;
			i++;
			continue;
		}
		n = utf8_decode(p + i, len - i, &cp);
		if (term_unsafe(cp))
			strbuf_addstr(out, ESCAPE_REPLACEMENT);
		else
			strbuf_add(out, s + i, n);
		col++;
		i += n;
	}
}

void escape_json_text(struct strbuf *out, const char *json, size_t len)
{
	const unsigned char *p = (const unsigned char *)json;
	size_t i = 0, run = 0, n;
	uint32_t cp;

	strbuf_grow(out, len);
	while (i < len) {
		n = utf8_decode(p + i, len - i, &cp);
		if (cp == 0x7f || term_unsafe(cp)) {
			strbuf_add(out, json + run, i - run);
			/* invalid bytes cannot come from jansson; if they do, U+FFFD */
			strbuf_addf(out, "\\u%04X", cp == UTF8_INVALID ? 0xfffdU : (unsigned)cp);
			run = i + n;
		}
		i += n;
	}
	strbuf_add(out, json + run, len - run);
}

size_t escape_columns(const char *s, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			n++;
	return n;
}

size_t escape_cut(const char *s, size_t len, size_t max)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t back;

	if (len <= max)
		return len;
	/* p[max] is the first byte left out: back up over continuation bytes */
	for (back = 0; back < 4 && back <= max; back++)
		if ((p[max - back] & 0xc0) != 0x80)
			return max - back;
	return max; /* not UTF-8 here: any cut is as good */
}

void escape_add_truncated(struct strbuf *out, size_t dropped)
{
	strbuf_addf(out, "\xe2\x80\xa6 [truncated, %zu more byte%s]", dropped,
		    dropped == 1 ? "" : "s");
}

size_t escape_truncate(struct strbuf *out, const char *s, size_t len, size_t max)
{
	size_t cut = escape_cut(s, len, max);

	strbuf_add(out, s, cut);
	if (cut < len)
		escape_add_truncated(out, len - cut);
	return len - cut;
}

/* Code points Unicode keeps out of interchange; XML 1.0 forbids U+FFFE and U+FFFF. */
static int noncharacter(uint32_t cp)
{
	return (cp >= 0xfdd0 && cp <= 0xfdef) || (cp & 0xfffe) == 0xfffe;
}

/*
 * The first two steps of every escaper below (escape.h): cut s to max bytes,
 * make the kept text inert, add the marker.  The result is valid UTF-8 whose
 * only control character is '\n'; noncharacters are left to the caller's
 * loop, which decodes anyway.
 */
void escape_term_bounded(struct strbuf *out, const char *s, size_t len, size_t max, unsigned flags)
{
	size_t cut;

	if (!s)
		return;
	cut = escape_cut(s, len, max);
	escape_term(out, s, cut, flags);
	if (cut < len)
		escape_add_truncated(out, len - cut);
}

static void clean_bounded(struct strbuf *clean, const char *s, size_t len, size_t max)
{
	escape_term_bounded(clean, s, len, max, ESCAPE_TERM_NEWLINES);
}

/*
 * Next code point of clean text at clean->buf[*i], advancing *i: its length
 * is returned in *n, a noncharacter comes back as U+FFFD (to be written as
 * ESCAPE_REPLACEMENT, not copied).
 */
static uint32_t next_cp(const struct strbuf *clean, size_t *i, size_t *n)
{
	uint32_t cp;

	*n = utf8_decode((const unsigned char *)clean->buf + *i, clean->len - *i, &cp);
	*i += *n;
	return noncharacter(cp) || cp == UTF8_INVALID ? 0xfffd : cp;
}

/* Append the code point just read (clean->buf[i - n .. i)), or U+FFFD for it. */
static void add_cp(struct strbuf *out, const struct strbuf *clean, size_t i, size_t n,
		   uint32_t cp)
{
	if (cp == 0xfffd)
		strbuf_addstr(out, ESCAPE_REPLACEMENT);
	else
		strbuf_add(out, clean->buf + i - n, n);
}

void escape_xml(struct strbuf *out, const char *s, size_t len, size_t max, unsigned flags)
{
	struct strbuf clean = STRBUF_INIT;
	int attr = flags & ESCAPE_XML_ATTR;
	size_t i = 0, n;

	clean_bounded(&clean, s, len, max);
	strbuf_grow(out, clean.len);
	while (i < clean.len) {
		uint32_t cp = next_cp(&clean, &i, &n);

		switch (cp) {
		case '&': strbuf_addstr(out, "&amp;"); break;
		case '<': strbuf_addstr(out, "&lt;"); break;
		case '>': strbuf_addstr(out, "&gt;"); break;
		case '"': strbuf_addstr(out, attr ? "&quot;" : "\""); break;
		case '\'': strbuf_addstr(out, attr ? "&apos;" : "'"); break;
		/* attribute-value normalization would turn a raw line break into a space */
		case '\n': strbuf_addstr(out, attr ? "&#10;" : "\n"); break;
		default: add_cp(out, &clean, i, n, cp);
		}
	}
	strbuf_release(&clean);
}

void escape_html(struct strbuf *out, const char *s, size_t len, size_t max)
{
	struct strbuf clean = STRBUF_INIT;
	size_t i = 0, n;

	clean_bounded(&clean, s, len, max);
	strbuf_grow(out, clean.len);
	while (i < clean.len) {
		uint32_t cp = next_cp(&clean, &i, &n);

		switch (cp) {
		case '&': strbuf_addstr(out, "&amp;"); break;
		case '<': strbuf_addstr(out, "&lt;"); break;
		case '>': strbuf_addstr(out, "&gt;"); break;
		case '"': strbuf_addstr(out, "&quot;"); break;
		case '\'': strbuf_addstr(out, "&#39;"); break;
		default: add_cp(out, &clean, i, n, cp);
		}
	}
	strbuf_release(&clean);
}

/*
 * At the start of a Markdown line: the length of a run of digits followed by
 * '.' or ')' at p[0..len) (an ordered list marker, without the punctuation),
 * or 0.  CommonMark allows up to nine digits.
 */
static size_t md_list_number(const char *p, size_t len)
{
	size_t j = 0;

	while (j < len && j < 9 && p[j] >= '0' && p[j] <= '9')
		j++;
	return j && j < len && (p[j] == '.' || p[j] == ')') ? j : 0;
}

void escape_md(struct strbuf *out, const char *s, size_t len, size_t max, unsigned flags)
{
	struct strbuf clean = STRBUF_INIT;
	size_t i = 0, n, digits;
	uint32_t cp;
	int start = 1;

	clean_bounded(&clean, s, len, max);
	strbuf_grow(out, clean.len);
	while (i < clean.len) {
		if (start) {
			/* the caller's line begins here: nothing may open a block */
			if (clean.buf[i] == ' ') {
				i++;
				continue;
			}
			start = 0;
			if (clean.buf[i] && strchr("#-+=", clean.buf[i])) {
				strbuf_addch(out, '\\');
			} else if ((digits = md_list_number(clean.buf + i, clean.len - i))) {
				strbuf_add(out, clean.buf + i, digits);
				strbuf_addch(out, '\\');
				i += digits; /* the '.' or ')' is copied below */
			}
		}
		cp = next_cp(&clean, &i, &n);
		switch (cp) {
		case '\\': case '`': case '*': case '_': case '~':
		case '[': case ']': case '|': case '$':
			strbuf_addch(out, '\\');
			strbuf_addch(out, (int)cp);
			break;
		case '&': strbuf_addstr(out, "&amp;"); break;
		case '<': strbuf_addstr(out, "&lt;"); break;
		case '>': strbuf_addstr(out, "&gt;"); break;
		case '\n': strbuf_addstr(out, flags & ESCAPE_MD_BR ? "<br>" : " "); break;
		default: add_cp(out, &clean, i, n, cp);
		}
	}
	strbuf_release(&clean);
}

void escape_md_code_block(struct strbuf *out, const char *s, size_t len, size_t max,
			  const char *lang)
{
	struct strbuf clean = STRBUF_INIT;
	size_t i = 0, n, run = 0, longest = 0, fence;

	clean_bounded(&clean, s, len, max);
	for (i = 0; i < clean.len; i++) {
		run = clean.buf[i] == '`' ? run + 1 : 0;
		if (run > longest)
			longest = run;
	}
	/* a closing fence is at least as long as the opening one: no line can be */
	fence = longest < 3 ? 3 : longest + 1;

	for (i = 0; i < fence; i++)
		strbuf_addch(out, '`');
	if (lang)
		strbuf_addstr(out, lang);
	strbuf_addch(out, '\n');
	strbuf_grow(out, clean.len);
	i = 0;
	while (i < clean.len) {
		uint32_t cp = next_cp(&clean, &i, &n);

		add_cp(out, &clean, i, n, cp); /* noncharacters go here too */
	}
	if (clean.len && clean.buf[clean.len - 1] != '\n')
		strbuf_addch(out, '\n');
	for (i = 0; i < fence; i++)
		strbuf_addch(out, '`');
	strbuf_addch(out, '\n');
	strbuf_release(&clean);
}
