/*
 * ignore: .dockerignore with Docker's semantics (see ignore.h).
 *
 * Docker's matcher (moby/patternmatcher) sorts each pattern into one of four
 * kinds, and the kind decides how it matches:
 *
 *   exact   no wildcard at all: the path must equal the pattern;
 *   prefix  only a trailing "**": the path must start with what precedes it;
 *   suffix  a leading "**" and no other wildcard: the path must end with what
 *           follows it ("**.md" therefore matches "docs/README.md" and
 *           "README.md" alike), or equal it minus its leading '/';
 *   regexp  anything else, translated to a Go regular expression:
 *           '*' is "[^/]*", '?' is "[^/]", a "**" that ends the pattern is
 *           ".*", any other "**" (with the '/' after it) is an optional
 *           group of anything ending in '/', and classes and escapes are
 *           passed through to the regexp engine.
 *
 * The regexp kind is matched here by a small NFA over the tokens below, one
 * pass over the path, so a hostile pattern costs O(tokens * path length).
 */
#include "lib/ignore.h"
#include "lib/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define RUNE_ERROR 0xfffdu
#define RUNE_MAX 0x10ffffu

/* Show at most this much of a learner's pattern in a message. */
#define SHOW_MAX 60

#define GROW(p, nr, alloc)                                                      \
	do {                                                                    \
		if ((nr) >= (alloc)) {                                          \
			(alloc) = (alloc) ? 2 * (alloc) : 8;                    \
			(p) = xrealloc((p), (alloc) * sizeof(*(p)));            \
		}                                                               \
	} while (0)

enum match_kind { MATCH_EXACT, MATCH_PREFIX, MATCH_SUFFIX, MATCH_REGEXP };

enum tok_kind {
	TOK_LIT,   /* one given rune */
	TOK_ANY,   /* '?': one rune other than '/' */
	TOK_STAR,  /* '*': any number of runes other than '/' */
	TOK_DOTS,  /* ".*": any number of runes other than '\n' */
	TOK_DIRS,  /* "(.*\/)?": nothing, or runes other than '\n' ending in '/' */
	TOK_CLASS, /* one rune in (or, negated, not in) a set of ranges */
	TOK_BEGIN, /* '^' or \A: matches nothing, only at the start */
	TOK_END,   /* \z: matches nothing, only at the end */
};

struct range {
	uint32_t lo, hi;
};

struct tok {
	enum tok_kind kind;
	uint32_t rune;       /* TOK_LIT */
	int negate;          /* TOK_CLASS */
	size_t first, count; /* TOK_CLASS: ranges[first .. first + count) */
};

struct pattern {
	char *text;       /* the line as written, trimmed */
	int line;
	int exception;    /* a '!' pattern */
	char *clean;      /* what Docker matches with: cleaned, without '!' */
	size_t clean_len; /* may hold NUL bytes, so a length */
	enum match_kind kind;
	struct tok *tok;
	size_t ntok, tok_alloc;
	struct range *ranges;
	size_t nranges, ranges_alloc;
};

struct ignore_rules {
	struct pattern *pat;
	size_t nr, alloc;
	enum ignore_flavour flavour;
};

/* Go's utf8.DecodeRune: an invalid or short sequence is RUNE_ERROR, 1 byte. */
static size_t decode_rune(const char *str, size_t n, uint32_t *r)
{
	const unsigned char *s = (const unsigned char *)str;
	unsigned char lo = 0x80, hi = 0xbf;
	size_t need, i;
	uint32_t c;

	if (!n) {
		*r = RUNE_ERROR;
		return 0;
	}
	if (s[0] < 0x80) {
		*r = s[0];
		return 1;
	}
	if (s[0] < 0xc2 || s[0] > 0xf4)
		goto bad;
	if (s[0] < 0xe0) {
		need = 1;
		c = s[0] & 0x1f;
	} else if (s[0] < 0xf0) {
		need = 2;
		c = s[0] & 0x0f;
		if (s[0] == 0xe0)
			lo = 0xa0; /* overlong */
		else if (s[0] == 0xed)
			hi = 0x9f; /* surrogates */
	} else {
		need = 3;
		c = s[0] & 0x07;
		if (s[0] == 0xf0)
			lo = 0x90; /* overlong */
		else if (s[0] == 0xf4)
			hi = 0x8f; /* beyond U+10FFFF */
	}
	if (n <= need || s[1] < lo || s[1] > hi)
		goto bad;
	for (i = 1; i <= need; i++) {
		if (i > 1 && (s[i] < 0x80 || s[i] > 0xbf))
			goto bad;
		c = (c << 6) | (s[i] & 0x3f);
	}
	*r = c;
	return need + 1;
bad:
	*r = RUNE_ERROR;
	return 1;
}

/* Go's unicode.IsSpace, which strings.TrimSpace trims. */
static int go_space(uint32_t r)
{
	switch (r) {
	case '\t': case '\n': case '\v': case '\f': case '\r': case ' ':
	case 0x85: case 0xa0: case 0x1680: case 0x2028: case 0x2029:
	case 0x202f: case 0x205f: case 0x3000:
		return 1;
	}
	return r >= 0x2000 && r <= 0x200a;
}

/* Go's strings.TrimSpace on s[0..*n): returns the start, updates *n. */
static const char *go_trim(const char *s, size_t *n)
{
	size_t i = 0, end = 0, w;
	uint32_t r;

	while (i < *n) {
		w = decode_rune(s + i, *n - i, &r);
		if (!go_space(r))
			break;
		i += w;
	}
	s += i;
	*n -= i;
	/* Decoding forwards finds the same trailing spaces as Go's backwards scan. */
	for (i = 0; i < *n; i += w) {
		w = decode_rune(s + i, *n - i, &r);
		if (!go_space(r))
			end = i + w;
	}
	*n = end;
	return s;
}

/* Go's filepath.Clean (Unix) of path[0..n), into out (reset first). */
static void go_clean(const char *path, size_t n, struct strbuf *out)
{
	size_t r = 0, w = 0, dotdot = 0;
	int rooted;
	char *buf;

	strbuf_reset(out);
	if (!n) {
		strbuf_addch(out, '.');
		return;
	}
	strbuf_grow(out, n);
	buf = out->buf;
	rooted = path[0] == '/';
	if (rooted) {
		buf[w++] = '/';
		r = dotdot = 1;
	}
	while (r < n) {
		if (path[r] == '/') {
			r++;
		} else if (path[r] == '.' && (r + 1 == n || path[r + 1] == '/')) {
			r++;
		} else if (path[r] == '.' && path[r + 1] == '.' &&
			   (r + 2 == n || path[r + 2] == '/')) {
			r += 2;
			if (w > dotdot) {
				w--;
				while (w > dotdot && buf[w] != '/')
					w--;
			} else if (!rooted) {
				/* a relative path keeps its leading ".." */
				if (w)
					buf[w++] = '/';
				buf[w++] = '.';
				buf[w++] = '.';
				dotdot = w;
			}
		} else {
			if ((rooted && w != 1) || (!rooted && w))
				buf[w++] = '/';
			while (r < n && path[r] != '/')
				buf[w++] = path[r++];
		}
	}
	if (!w)
		buf[w++] = '.';
	out->len = w;
	buf[w] = '\0';
}

/*
 * One character of a class the way Go's filepath.Match reads it (getEsc):
 * Docker checks every pattern with filepath.Match before using it.
 */
static const char *class_item_syntax(const char *p, size_t n, size_t *i)
{
	uint32_t r;
	size_t w;

	if (*i >= n)
		return "unterminated character class";
	if (p[*i] == '-' || p[*i] == ']')
		return p[*i] == '-' ? "misplaced '-' in character class" :
				      "misplaced ']' in character class";
	if (p[*i] == '\\' && ++*i >= n)
		return "unterminated character class";
	w = decode_rune(p + *i, n - *i, &r);
	if (r == RUNE_ERROR && w == 1)
		return "invalid UTF-8 in character class";
	*i += w;
	if (*i >= n)
		return "unterminated character class";
	return NULL;
}

/* Go's filepath.Match syntax: NULL when p[0..n) is well formed, else why not. */
static const char *match_syntax(const char *p, size_t n)
{
	const char *why;
	size_t i = 0, nrange;

	while (i < n) {
		if (p[i] == '\\') {
			if (i + 1 == n)
				return "trailing backslash";
			i += 2;
		} else if (p[i] == '[') {
			i++;
			if (i < n && p[i] == '^')
				i++;
			for (nrange = 0;; nrange++) {
				if (i < n && p[i] == ']' && nrange) {
					i++;
					break;
				}
				if (i < n && p[i] == ']')
					return "empty character class";
				if ((why = class_item_syntax(p, n, &i)))
					return why;
				if (p[i] == '-') {
					i++;
					if ((why = class_item_syntax(p, n, &i)))
						return why;
				}
			}
		} else {
			i++;
		}
	}
	return NULL;
}

static void add_tok(struct pattern *p, const struct tok *t)
{
	GROW(p->tok, p->ntok, p->tok_alloc);
	p->tok[p->ntok++] = *t;
}

static void add_range(struct pattern *p, uint32_t lo, uint32_t hi)
{
	GROW(p->ranges, p->nranges, p->ranges_alloc);
	p->ranges[p->nranges].lo = lo;
	p->ranges[p->nranges].hi = hi;
	p->nranges++;
}

static const struct range perl_d[] = { { '0', '9' } };
static const struct range perl_s[] = { { '\t', '\n' }, { '\f', '\r' }, { ' ', ' ' } };
static const struct range perl_w[] = { { '0', '9' }, { 'A', 'Z' }, { '_', '_' }, { 'a', 'z' } };

/* \d \s \w (and upper case: their complements), as Go's regexp has them. */
static int perl_class(uint32_t c, const struct range **set, size_t *n)
{
	switch (c | 0x20) {
	case 'd': *set = perl_d; *n = ARRAY_SIZE(perl_d); return 1;
	case 's': *set = perl_s; *n = ARRAY_SIZE(perl_s); return 1;
	case 'w': *set = perl_w; *n = ARRAY_SIZE(perl_w); return 1;
	}
	return 0;
}

/* Add the ranges of a Perl class, complemented for \D \S \W. */
static void add_perl(struct pattern *p, uint32_t c, int complement)
{
	const struct range *set = NULL;
	uint32_t next = 0;
	size_t n = 0, i;

	perl_class(c, &set, &n);
	if (!complement) {
		for (i = 0; i < n; i++)
			add_range(p, set[i].lo, set[i].hi);
		return;
	}
	for (i = 0; i < n; i++) {
		if (set[i].lo > next)
			add_range(p, next, set[i].lo - 1);
		next = set[i].hi + 1;
	}
	add_range(p, next, RUNE_MAX);
}

static int ascii_alnum(uint32_t c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* What Go's regexp reads "\c" as when it stands for one rune: 0 and *r, or -1. */
static int escape_rune(uint32_t c, uint32_t *r)
{
	static const char from[] = "afnrtv", to[] = "\a\f\n\r\t\v";
	const char *k;

	if (c < 0x80 && !ascii_alnum(c)) {
		*r = c; /* escaped punctuation is itself */
		return 0;
	}
	if (c < 0x80 && (k = strchr(from, (int)c))) {
		*r = (unsigned char)to[k - from];
		return 0;
	}
	return -1;
}

/* The escape at s (after its '\', w bytes) is no rune: say why. */
static int escape_error(const char *s, size_t w, int in_class, struct strbuf *why)
{
	const char *unmodelled = in_class ? "01234567xpP" : "01234567xpPbBQ";

	if (w == 1 && *s && strchr(unmodelled, *s))
		strbuf_addf(why, "'\\%.*s' is regular-expression syntax in docker's matcher, "
			    "which phaselab does not model", (int)w, s);
	else
		strbuf_addf(why, "docker's matcher rejects the escape '\\%.*s'", (int)w, s);
	return -1;
}

/* One class character, or the end of a range, as Go's regexp reads it. */
static int class_char(const char **sp, const char *end, uint32_t *r, struct strbuf *why)
{
	const char *s = *sp;
	uint32_t c;
	size_t w;

	/* Docker's translation puts "[^/]*" or "[^/]" inside the class. */
	if (*s == '*' || *s == '?') {
		strbuf_addf(why, "'%c' inside a character class is garbled by docker's matcher, "
			    "which phaselab does not model", *s);
		return -1;
	}
	if (*s == '\\') {
		s++; /* match_syntax() saw something follow */
		w = decode_rune(s, (size_t)(end - s), &c);
		if (escape_rune(c, r))
			return escape_error(s, w, 1, why);
		*sp = s + w;
		return 0;
	}
	*sp = s + decode_rune(s, (size_t)(end - s), r);
	return 0;
}

/* The class at *sp ('['), read the way Go's regexp reads it. */
static int compile_class(struct pattern *p, const char **sp, const char *end, struct strbuf *why)
{
	struct tok t = { .kind = TOK_CLASS, .first = p->nranges };
	const struct range *set;
	const char *s = *sp + 1;
	uint32_t lo, hi;
	size_t n;

	if (s < end && *s == '^') {
		t.negate = 1;
		s++;
	}
	/* match_syntax() made sure the class is closed and not empty */
	while (s < end && *s != ']') {
		if (*s == '[' && end - s > 1 && s[1] == ':') {
			strbuf_addstr(why, "POSIX classes such as '[:alpha:]' are regular-expression "
				      "syntax in docker's matcher, which phaselab does not model");
			return -1;
		}
		if (*s == '\\' && end - s > 1 && perl_class((unsigned char)s[1], &set, &n)) {
			add_perl(p, (unsigned char)s[1], s[1] >= 'A' && s[1] <= 'Z');
			s += 2;
			continue;
		}
		if (class_char(&s, end, &lo, why))
			return -1;
		hi = lo;
		if (end - s >= 2 && *s == '-' && s[1] != ']') {
			s++;
			if (class_char(&s, end, &hi, why))
				return -1;
			if (hi < lo) {
				strbuf_addstr(why, "reversed range in character class");
				return -1;
			}
		}
		add_range(p, lo, hi);
	}
	if (s == end) {
		strbuf_addstr(why, "unterminated character class");
		return -1;
	}
	t.count = p->nranges - t.first;
	add_tok(p, &t);
	*sp = s + 1;
	return 0;
}

/* An escape outside a class: a rune, a Perl class, \A or \z. */
static int compile_escape(struct pattern *p, const char **sp, const char *end, struct strbuf *why)
{
	const char *s = *sp + 1;
	struct tok t = { .kind = TOK_LIT };
	const struct range *set;
	size_t w, n;
	uint32_t c;

	w = decode_rune(s, (size_t)(end - s), &c);
	if (perl_class(c, &set, &n)) {
		t.kind = TOK_CLASS;
		t.negate = c >= 'A' && c <= 'Z';
		t.first = p->nranges;
		add_perl(p, c, 0);
		t.count = p->nranges - t.first;
	} else if (c == 'A') {
		t.kind = TOK_BEGIN;
	} else if (c == 'z') {
		t.kind = TOK_END;
	} else if (escape_rune(c, &t.rune)) {
		return escape_error(s, w, 0, why);
	}
	add_tok(p, &t);
	*sp = s + w;
	return 0;
}

/* Sort p->clean into its kind and, for a regexp, its tokens (Docker's compile). */
static int compile(struct pattern *p, enum ignore_flavour fl, struct strbuf *why)
{
	const char *s = p->clean, *end = p->clean + p->clean_len;
	struct tok t;
	size_t i;
	uint32_t c;

	p->kind = MATCH_EXACT;
	/* Go's text/scanner skips a byte order mark that starts its input */
	if (p->clean_len >= 3 && !memcmp(s, "\xef\xbb\xbf", 3))
		s += 3;
	/* i counts Docker's loop turns: a "**" in turn 0 makes a suffix test */
	for (i = 0; s < end; i++) {
		memset(&t, 0, sizeof(t));
		if (*s == '*') {
			s++;
			if (s < end && *s == '*') {
				s++;
				if (s < end && *s == '/')
					s++;
				if (s == end) {
					if (p->kind == MATCH_EXACT) {
						p->kind = MATCH_PREFIX;
					} else {
						t.kind = TOK_DOTS;
						add_tok(p, &t);
						p->kind = MATCH_REGEXP;
					}
				} else {
					t.kind = TOK_DIRS;
					add_tok(p, &t);
					p->kind = MATCH_REGEXP;
				}
				/*
				 * the older matcher has no suffix kind: a leading
				 * "**" not followed by '/' is "(.*\/)?" there too, so
				 * "**.js" matches only a file named ".js"
				 */
				if (i == 0 && fl == IGNORE_PATTERNMATCHER)
					p->kind = MATCH_SUFFIX;
			} else {
				t.kind = TOK_STAR;
				add_tok(p, &t);
				p->kind = MATCH_REGEXP;
			}
		} else if (*s == '?') {
			t.kind = TOK_ANY;
			add_tok(p, &t);
			p->kind = MATCH_REGEXP;
			s++;
		} else if (*s == '\\') {
			if (compile_escape(p, &s, end, why))
				return -1;
			p->kind = MATCH_REGEXP;
		} else if (*s == '[') {
			if (compile_class(p, &s, end, why))
				return -1;
			p->kind = MATCH_REGEXP;
		} else if (*s == ']') {
			t.rune = ']';
			add_tok(p, &t);
			p->kind = MATCH_REGEXP;
			s++;
		} else if (*s == '^') {
			/* not quoted by Docker: an anchor, though only in a regexp */
			t.kind = TOK_BEGIN;
			add_tok(p, &t);
			s++;
		} else {
			s += decode_rune(s, (size_t)(end - s), &c);
			t.rune = c;
			add_tok(p, &t);
		}
	}
	return 0;
}

static int class_has(const struct pattern *p, const struct tok *t, uint32_t c)
{
	size_t i;

	for (i = t->first; i < t->first + t->count; i++)
		if (p->ranges[i].lo <= c && c <= p->ranges[i].hi)
			return !t->negate;
	return t->negate;
}

/* Follow the tokens that match nothing: the stars' "none", ^, \z. */
static void closure(const struct pattern *p, unsigned char *at, size_t pos, size_t n)
{
	size_t j;

	for (j = 0; j < p->ntok; j++) {
		if (!at[j])
			continue;
		switch (p->tok[j].kind) {
		case TOK_STAR: case TOK_DOTS: case TOK_DIRS:
			at[j + 1] = 1;
			break;
		case TOK_BEGIN:
			if (pos == 0)
				at[j + 1] = 1;
			break;
		case TOK_END:
			if (pos == n)
				at[j + 1] = 1;
			break;
		default:
			break;
		}
	}
}

/*
 * Match s[0..n) against the tokens, anchored at both ends.  at[j]: tokens
 * before j have matched up to here; in[j]: inside TOK_DIRS j's group.
 */
static int regexp_match(const struct pattern *p, const char *s, size_t n)
{
	size_t nt = p->ntok, pos = 0, j, w;
	unsigned char *mem = xcalloc(4, nt + 1);
	unsigned char *at = mem, *in = at + nt + 1, *nat = in + nt + 1, *nin = nat + nt + 1, *tmp;
	int live, ok;
	uint32_t c;

	at[0] = 1;
	closure(p, at, 0, n);
	while (pos < n) {
		w = decode_rune(s + pos, n - pos, &c);
		memset(nat, 0, 2 * (nt + 1));
		live = 0;
		for (j = 0; j < nt; j++) {
			const struct tok *t = &p->tok[j];

			if (t->kind == TOK_DIRS && (at[j] || in[j]) && c != '\n') {
				nin[j] = 1;
				if (c == '/')
					nat[j + 1] = 1;
				live = 1;
			}
			if (!at[j])
				continue;
			switch (t->kind) {
			case TOK_LIT:
				if (c == t->rune)
					nat[j + 1] = live = 1;
				break;
			case TOK_ANY:
				if (c != '/')
					nat[j + 1] = live = 1;
				break;
			case TOK_CLASS:
				if (class_has(p, t, c))
					nat[j + 1] = live = 1;
				break;
			case TOK_STAR:
				if (c != '/')
					nat[j] = live = 1;
				break;
			case TOK_DOTS:
				if (c != '\n')
					nat[j] = live = 1;
				break;
			default:
				break;
			}
		}
		pos += w;
		tmp = at;
		at = nat;
		nat = tmp;
		tmp = in;
		in = nin;
		nin = tmp;
		if (!live)
			break;
		closure(p, at, pos, n);
	}
	ok = pos == n && at[nt];
	free(mem);
	return ok;
}

static int pattern_match(const struct pattern *p, const char *s, size_t n)
{
	const char *suffix;
	size_t k;

	switch (p->kind) {
	case MATCH_EXACT:
		return n == p->clean_len && !memcmp(s, p->clean, n);
	case MATCH_PREFIX:
		k = p->clean_len - 2; /* without the trailing "**" */
		return n >= k && !memcmp(s, p->clean, k);
	case MATCH_SUFFIX:
		suffix = p->clean + 2; /* without the leading "**" */
		k = p->clean_len - 2;
		if (n >= k && !memcmp(s + n - k, suffix, k))
			return 1;
		/* "**\/foo" matches "foo" */
		return k && suffix[0] == '/' && n == k - 1 && !memcmp(s, suffix + 1, n);
	case MATCH_REGEXP:
		return regexp_match(p, s, n);
	}
	return 0;
}

/* Docker's MatchesOrParentMatches for one pattern: the path or a parent. */
static int pattern_or_parent_match(const struct pattern *p, const char *path, size_t n)
{
	const char *slash = memrchr(path, '/', n);
	size_t plen, k;

	if (pattern_match(p, path, n))
		return 1;
	if (!slash)
		return 0; /* the parent is "." */
	plen = slash == path ? 1 : (size_t)(slash - path); /* filepath.Dir */
	for (k = 0; k < plen; k++)
		if (path[k] == '/' && pattern_match(p, path, k))
			return 1;
	return pattern_match(p, path, plen);
}

/* Index of the last pattern matching path or one of its parents, or -1. */
static long deciding_index(const struct ignore_rules *r, const char *path)
{
	struct strbuf clean = STRBUF_INIT;
	long i = -1;
	size_t k;

	if (!r || !path)
		return -1;
	go_clean(path, strlen(path), &clean);
	/* the context itself is never excluded */
	if (strcmp(clean.buf, ".")) {
		/* the last pattern that matches decides: look from the end */
		for (k = r->nr; k-- > 0;) {
			if (pattern_or_parent_match(&r->pat[k], clean.buf, clean.len)) {
				i = (long)k;
				break;
			}
		}
	}
	strbuf_release(&clean);
	return i;
}

int ignore_excluded(const struct ignore_rules *r, const char *path)
{
	long i = deciding_index(r, path);

	return i >= 0 && !r->pat[i].exception;
}

/*
 * Does the engine's walk look inside the excluded folder "dir/" for
 * exception p?  Docker's walk (and BuildKit's, and buildah's: the
 * ignorefiles suite builds it on each) compares text, not patterns: it
 * looks inside only when the exception's cleaned text, with a '/' added,
 * starts with "dir/".  A wildcard is a character like any other there, so
 * "!**\/keep.js" never brings back tests/keep.js once "tests" is excluded,
 * though the pattern matches it.
 */
static int exception_may_reach(const struct pattern *p, const char *dirslash, size_t n)
{
	if (p->clean_len + 1 < n)
		return 0;
	if (memcmp(p->clean, dirslash, n - 1))
		return 0;
	return p->clean_len + 1 == n ? 1 : p->clean[n - 1] == '/';
}

int ignore_excludes_all_under(const struct ignore_rules *r, const char *dir)
{
	struct strbuf slash = STRBUF_INIT;
	int all = 1;
	size_t k;

	if (!ignore_excluded(r, dir))
		return 0;
	go_clean(dir, strlen(dir), &slash);
	strbuf_addch(&slash, '/');
	for (k = 0; k < r->nr && all; k++)
		if (r->pat[k].exception && exception_may_reach(&r->pat[k], slash.buf, slash.len))
			all = 0;
	strbuf_release(&slash);
	return all;
}

int ignore_reaches(const struct ignore_rules *r, const char *path)
{
	struct strbuf clean = STRBUF_INIT;
	int sent = 1;

	if (!r || !path)
		return 1;
	go_clean(path, strlen(path), &clean);
	/* each folder above it, from the top, as the engine's walk meets them */
	for (size_t k = 1; sent && k < clean.len; k++) {
		if (clean.buf[k] != '/')
			continue;
		clean.buf[k] = '\0';
		sent = !ignore_excludes_all_under(r, clean.buf);
		clean.buf[k] = '/';
	}
	if (sent)
		sent = !ignore_excluded(r, clean.buf);
	strbuf_release(&clean);
	return sent;
}

const char *ignore_deciding_pattern(const struct ignore_rules *r, const char *path, int *line)
{
	long i = deciding_index(r, path);

	if (line)
		*line = i >= 0 ? r->pat[i].line : 0;
	return i >= 0 ? r->pat[i].text : NULL;
}

size_t ignore_count(const struct ignore_rules *r)
{
	return r ? r->nr : 0;
}

static void pattern_release(struct pattern *p)
{
	free(p->text);
	free(p->clean);
	free(p->tok);
	free(p->ranges);
}

void ignore_free(struct ignore_rules *r)
{
	size_t i;

	if (!r)
		return;
	for (i = 0; i < r->nr; i++)
		pattern_release(&r->pat[i]);
	free(r->pat);
	free(r);
}

/*
 * One trimmed, non-comment line: what ignorefile.ReadAll makes of it, then
 * what patternmatcher.New does with that.  0 when added, -1 with why.
 */
static int add_pattern(struct ignore_rules *r, const char *s, size_t n, int line, struct strbuf *why)
{
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT;
	struct pattern p = { .line = line };
	const char *rest = s, *syntax;
	size_t rn = n;
	int invert = s[0] == '!', ret = -1;

	/* ReadAll: the part after '!' is trimmed, cleaned and made relative */
	if (invert) {
		rest = s + 1;
		rn = n - 1;
		rest = go_trim(rest, &rn);
		strbuf_addch(&b, '!');
	}
	if (rn) {
		go_clean(rest, rn, &a);
		if (a.len > 1 && a.buf[0] == '/')
			strbuf_add(&b, a.buf + 1, a.len - 1);
		else
			strbuf_add(&b, a.buf, a.len);
	}

	/* New: trimmed and cleaned again, then the '!' read off */
	rn = b.len;
	rest = go_trim(b.buf, &rn);
	if (!rn) {
		ret = 0; /* Docker skips it (ReadAll never hands over such a line) */
		goto out;
	}
	go_clean(rest, rn, &a);
	rest = a.buf;
	rn = a.len;
	if (rest[0] == '!') {
		if (rn == 1) {
			strbuf_addstr(why, "illegal exclusion pattern: nothing follows the '!'");
			goto out;
		}
		p.exception = 1;
		rest++;
		rn--;
	}
	if ((syntax = match_syntax(rest, rn))) {
		strbuf_addf(why, "syntax error in pattern: %s", syntax);
		goto out;
	}
	p.text = xstrndup(s, n);
	p.clean = xmalloc(rn + 1);
	memcpy(p.clean, rest, rn);
	p.clean[rn] = '\0';
	p.clean_len = rn;
	if (compile(&p, r->flavour, why)) {
		pattern_release(&p);
		goto out;
	}
	GROW(r->pat, r->nr, r->alloc);
	r->pat[r->nr++] = p;
	ret = 0;
out:
	strbuf_release(&a);
	strbuf_release(&b);
	return ret;
}

/* Append s[0..n) for a message, cut short at a character boundary. */
static void add_shown(struct strbuf *sb, const char *s, size_t n)
{
	size_t k = SHOW_MAX;

	if (n <= SHOW_MAX) {
		strbuf_add(sb, s, n);
		return;
	}
	while (k && ((unsigned char)s[k] & 0xc0) == 0x80)
		k--;
	strbuf_add(sb, s, k);
	strbuf_addstr(sb, "...");
}

static struct ignore_rules *parse(const char *text, size_t len, const char *name,
				  enum ignore_flavour fl, struct strbuf *err)
{
	struct ignore_rules *r = xcalloc(1, sizeof(*r));
	struct strbuf why = STRBUF_INIT, msg = STRBUF_INIT;
	size_t pos = 0, n;
	const char *s, *nl;
	int line = 0;

	r->flavour = fl;
	while (pos < len) {
		s = text + pos;
		nl = memchr(s, '\n', len - pos);
		n = nl ? (size_t)(nl - s) : len - pos;
		pos += n + !!nl;
		line++;
		if (n > IGNORE_MAX_LINE) {
			strbuf_addf(&msg, "longer than %d bytes, which docker cannot read",
				    IGNORE_MAX_LINE);
			goto fail;
		}
		/* the order is ReadAll's: BOM, CR, comment, then white space */
		if (line == 1 && n >= 3 && !memcmp(s, "\xef\xbb\xbf", 3)) {
			s += 3;
			n -= 3;
		}
		if (n && s[n - 1] == '\r')
			n--;
		if (n && s[0] == '#')
			continue;
		s = go_trim(s, &n);
		if (!n)
			continue;
		if (add_pattern(r, s, n, line, &why)) {
			strbuf_addstr(&msg, "invalid pattern '");
			add_shown(&msg, s, n);
			strbuf_addf(&msg, "': %s", why.buf);
			goto fail;
		}
	}
	strbuf_release(&why);
	return r;
fail:
	if (err) {
		if (name)
			strbuf_addf(err, "'%s' ", name);
		strbuf_addf(err, "line %d: %s", line, msg.buf);
	}
	strbuf_release(&why);
	strbuf_release(&msg);
	ignore_free(r);
	return NULL;
}

struct ignore_rules *ignore_parse(const char *text, size_t len, struct strbuf *err)
{
	return parse(text, len, NULL, IGNORE_PATTERNMATCHER, err);
}

struct ignore_rules *ignore_parse_as(const char *text, size_t len, enum ignore_flavour fl, struct strbuf *err)
{
	return parse(text, len, NULL, fl, err);
}

static int load_error(struct strbuf *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int load_error(struct strbuf *err, const char *fmt, ...)
{
	va_list ap;

	if (err) {
		va_start(ap, fmt);
		strbuf_vaddf(err, fmt, ap);
		va_end(ap);
	}
	return -1;
}

int ignore_load_file(const char *dir, const char *name, enum ignore_flavour fl, struct ignore_rules **out,
		     struct strbuf *err)
{
	struct strbuf buf = STRBUF_INIT;
	struct stat st;
	int dfd, fd = -1, ret = -1;
	ssize_t got;

	*out = NULL;
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return load_error(err, "cannot open '%s': %s", dir, strerror(errno));
	/* O_NONBLOCK: a FIFO in its place must not hang the grader */
	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		int e = errno;

		if (e == ENOENT) {
			ret = 0;
		} else if ((e == ELOOP || e == EMLINK) &&
			   !fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) &&
			   S_ISLNK(st.st_mode)) {
			/* the target stays unsaid: it may name something private */
			load_error(err, "'%s' is a symbolic link; phaselab does not follow links out of a submission: make it a regular file", name);
		} else {
			load_error(err, "cannot open '%s/%s': %s", dir, name, strerror(e));
		}
		goto out;
	}
	if (fstat(fd, &st)) {
		load_error(err, "cannot stat '%s/%s': %s", dir, name, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		load_error(err, "'%s' is not a regular file", name);
		goto out;
	}
	if (st.st_size > IGNORE_MAX_FILE)
		goto too_large;
	strbuf_grow(&buf, (size_t)st.st_size);
	for (;;) {
		/* the size can change under us: the bound is on what is read */
		strbuf_grow(&buf, 8192);
		got = read(fd, buf.buf + buf.len, buf.alloc - buf.len - 1);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			load_error(err, "cannot read '%s/%s': %s", dir, name, strerror(errno));
			goto out;
		}
		if (!got)
			break;
		buf.len += (size_t)got;
		buf.buf[buf.len] = '\0';
		if (buf.len > IGNORE_MAX_FILE)
			goto too_large;
	}
	*out = parse(buf.buf, buf.len, name, fl, err);
	ret = *out ? 1 : -1;
	goto out;
too_large:
	load_error(err, "'%s' is larger than %d MiB", name, IGNORE_MAX_FILE / (1024 * 1024));
out:
	if (fd >= 0)
		close(fd);
	close(dfd);
	strbuf_release(&buf);
	return ret;
}

int ignore_load_dir(const char *dir, struct ignore_rules **out, struct strbuf *err)
{
	return ignore_load_file(dir, ".dockerignore", IGNORE_PATTERNMATCHER, out, err);
}

const char *ignore_engine_file(const char *dir, const char *kind)
{
	struct stat st;
	char *path;
	int there;

	if (!kind || strcmp(kind, "podman"))
		return ".dockerignore";
	path = xasprintf("%s/.containerignore", dir);
	there = lstat(path, &st) == 0;
	free(path);
	return there ? ".containerignore" : ".dockerignore";
}

enum ignore_flavour ignore_engine_flavour(const char *kind, const char *client_version)
{
	int major = 0;

	if (kind && !strcmp(kind, "podman"))
		return IGNORE_FILEUTILS;
	/* "20.10.24+dfsg1": the CLI reads the file, so the client's version decides */
	if (client_version && sscanf(client_version, "%d", &major) == 1 && major > 0 && major < 23)
		return IGNORE_FILEUTILS;
	return IGNORE_PATTERNMATCHER;
}
