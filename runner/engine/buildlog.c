/*
 * buildlog: a line-by-line reader for both builders' `docker build` output.
 *
 * Every line is first cleaned (clean_line): what a terminal would show after
 * the last carriage return, colour codes and other control bytes removed,
 * invalid UTF-8 replaced, cut at BUILDLOG_LINE_MAX between characters.  The
 * cleaned line then goes to one of three small state machines, chosen once
 * by buildlog_detect().
 */
#include "engine/buildlog.h"
#include "lib/escape.h"
#include "lib/strbuf.h"
#include "lib/xalloc.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* BuildKit vertex numbers are small and dense; larger ones are ignored. */
#define VERTICES_MAX 16384
/* Bound on the kept error text; above one line's bound so the last line survives. */
#define ERROR_MAX (4 * BUILDLOG_LINE_MAX)
/* A step's output buffer is cut back to BUILDLOG_OUTPUT_MAX past this. */
#define OUTPUT_SLACK (BUILDLOG_OUTPUT_MAX / 2)

#define LEGACY_NOTICE "DEPRECATED: The legacy builder is deprecated"
#define LEGACY_CONTEXT "Sending build context to Docker daemon"

struct vertex {
	int known;     /* its first line (the name) has been seen */
	int exporting; /* "exporting to image" and friends */
	long step;     /* index into steps, -1 for internal vertices */
};

struct parser {
	struct build_log *log;
	size_t alloc;        /* capacity of log->steps and out */
	struct strbuf *out;  /* output of each step while parsing */
	struct strbuf line;  /* the current cleaned line */

	/* legacy (and buildah, which reads much like it) */
	long cur;            /* step whose output is being printed, or -1 */
	int cur_done;        /* its " ---> <id>" line was printed */
	int in_notice;       /* inside the DEPRECATED notice */
	int success;         /* "Successfully built" was printed */
	int stage_no;
	char *stage_name;    /* of the current stage, owned */
	int have_other;      /* a non-structure line came after the last structure line */
	struct strbuf other; /* the last such non-empty line */
	long other_step;     /* the unfinished step it was printed in, or -1 */

	/* buildah */
	int have_error;      /* an "Error: " line was printed */
	struct strbuf error; /* the last one, without "Error: " */
	long error_step;     /* the unfinished step it was printed in, or -1 */

	/* BuildKit */
	struct vertex *vtx;  /* indexed by vertex number */
	size_t nvtx;
	char **labels;       /* stage labels as printed, stage_no - 1 indexes them */
	size_t nlabels;
	long err_step;       /* first step vertex that printed ERROR, or -1 */
	int have_vertex_error;
	struct strbuf vertex_error;
	struct strbuf final_error;
	int exported;
	int in_block;        /* between "------" lines */
	int in_warnings;     /* after " 1 warning found" */
	long block_step;     /* step named by " > [stage i/n] ...:", or -1 */
};

static const char *skip_prefix(const char *s, const char *prefix)
{
	size_t n = strlen(prefix);

	return strncmp(s, prefix, n) ? NULL : s + n;
}

static int is_digit(int c)
{
	return c >= '0' && c <= '9';
}

/* Up to 9 digits, so the value always fits an int; advances *p. */
static int parse_num(const char **p, int *v)
{
	const char *s = *p;
	int n = 0, len = 0;

	while (is_digit(*s)) {
		if (++len > 9)
			return 0;
		n = n * 10 + (*s++ - '0');
	}
	if (!len)
		return 0;
	*p = s;
	*v = n;
	return 1;
}

/* Where an escape sequence that starts at s ends (CSI, OSC, or two bytes). */
static const char *skip_escape(const char *s, const char *e)
{
	const char *p;

	if (e - s < 2)
		return e;
	if (s[1] == '[') {
		for (p = s + 2; p < e && *p >= 0x20 && *p <= 0x3f; p++)
			;
		return p < e && *p >= 0x40 && *p <= 0x7e ? p + 1 : p;
	}
	if (s[1] == ']') {
		for (p = s + 2; p < e; p++) {
			if (*p == '\a')
				return p + 1;
			if (*p == 0x1b && p + 1 < e && p[1] == '\\')
				return p + 2;
		}
		return e;
	}
	return s + 2;
}

static int is_plain(unsigned char c)
{
	return (c >= 0x20 && c != 0x7f) || c == '\t';
}

/*
 * Clean the raw line s[0..n) into sb: keep what follows the last carriage
 * return (progress counters rewrite themselves that way; CRLF leaves an
 * empty segment that is skipped), drop escape sequences and control bytes
 * (legacy colours a RUN step's stderr red), replace invalid UTF-8 with
 * U+FFFD (a Latin-1 file name; reports and JSON evidence need UTF-8), stop
 * at BUILDLOG_LINE_MAX without splitting a character, drop trailing blanks.
 */
static void clean_line(struct strbuf *sb, const char *s, size_t n)
{
	const char *cr, *run, *e;
	size_t room, take;

	strbuf_reset(sb);
	while (n && s[n - 1] == '\r')
		n--;
	cr = memrchr(s, '\r', n);
	if (cr) {
		n -= (size_t)(cr + 1 - s);
		s = cr + 1;
	}
	e = s + n;
	while (s < e) {
		if (*s == 0x1b) {
			s = skip_escape(s, e);
			continue;
		}
		if (!is_plain((unsigned char)*s)) {
			s++;
			continue;
		}
		for (run = s; run < e && is_plain((unsigned char)*run); run++)
			;
		/*
		 * A replacement is longer than the byte it replaces: the bound is
		 * checked after.  Three bytes past the room finish any character
		 * that starts in it; one left unfinished there becomes a U+FFFD
		 * at or past the bound, which the cut drops.
		 */
		room = BUILDLOG_LINE_MAX - sb->len;
		take = (size_t)(run - s) < room + 3 ? (size_t)(run - s) : room + 3;
		escape_utf8(sb, s, take);
		if (sb->len > BUILDLOG_LINE_MAX) {
			strbuf_setlen(sb, escape_cut(sb->buf, sb->len, BUILDLOG_LINE_MAX));
			strbuf_addstr(sb, " [line truncated]");
			return;
		}
		s = run;
	}
	/* "#9 0.311 " and "code: " end in blanks that carry nothing */
	while (sb->len && (sb->buf[sb->len - 1] == ' ' || sb->buf[sb->len - 1] == '\t'))
		strbuf_setlen(sb, sb->len - 1);
}

/* Next line of text into line; 0 at the end.  Never reads past len. */
static int next_line(const char *text, size_t len, size_t *pos,
		     struct strbuf *line)
{
	const char *s, *nl;

	if (*pos >= len)
		return 0;
	s = text + *pos;
	nl = memchr(s, '\n', len - *pos);
	clean_line(line, s, nl ? (size_t)(nl - s) : len - *pos);
	*pos = nl ? (size_t)(nl - text) + 1 : len;
	return 1;
}

/* "Step 3/9 : RUN npm ci" */
static int parse_legacy_step(const char *l, int *index, int *total,
			     const char **instr)
{
	const char *p = skip_prefix(l, "Step ");

	if (!p || !parse_num(&p, index) || *p++ != '/' ||
	    !parse_num(&p, total) || !(p = skip_prefix(p, " :")))
		return 0;
	*instr = *p == ' ' ? p + 1 : p;
	return 1;
}

/* "#7 <rest>" or a bare "#7"; numbers too large saturate and are ignored later. */
static int parse_vertex(const char *l, int *num, const char **rest)
{
	const char *p = l + 1;

	if (*l != '#' || !is_digit(*p))
		return 0;
	for (*num = 0; is_digit(*p); p++)
		*num = *num < VERTICES_MAX ? *num * 10 + (*p - '0') : VERTICES_MAX;
	if (*p && *p != ' ')
		return 0;
	*rest = *p ? p + 1 : p;
	return 1;
}

/* "0.512 added 1 package": a timestamped output line; *text is after the stamp. */
static int parse_log_line(const char *rest, const char **text)
{
	const char *p = rest;

	if (!is_digit(*p))
		return 0;
	while (is_digit(*p))
		p++;
	if (*p++ != '.' || !is_digit(*p))
		return 0;
	while (is_digit(*p))
		p++;
	if (*p && *p != ' ')
		return 0;
	*text = *p ? p + 1 : p;
	return 1;
}

struct label {
	const char *stage;  /* as printed ("builder", "stage-1"), or NULL */
	size_t stage_len;
	int index, total;
	const char *instr;
};

/*
 * "[builder 3/6] COPY . ." (also "[3/6] ..." for a single stage and
 * "[linux/amd64 builder 3/6] ..." for a platform); 0 for "[internal] ...".
 */
static int parse_label(const char *s, struct label *lb)
{
	const char *close, *tok, *p, *b, *e;

	if (*s != '[' || !(close = strchr(s, ']')))
		return 0;
	for (tok = close; tok > s + 1 && tok[-1] != ' '; tok--)
		;
	p = tok;
	if (!parse_num(&p, &lb->index) || *p++ != '/' ||
	    !parse_num(&p, &lb->total) || p != close)
		return 0;
	lb->stage = NULL;
	lb->stage_len = 0;
	for (e = tok; e > s + 1 && e[-1] == ' '; e--)
		;
	for (b = e; b > s + 1 && b[-1] != ' '; b--)
		;
	if (e > b && !memchr(b, '/', (size_t)(e - b))) {
		lb->stage = b;
		lb->stage_len = (size_t)(e - b);
	}
	lb->instr = close[1] == ' ' ? close + 2 : close + 1;
	return 1;
}

static int is_from(const char *instr)
{
	return !strncasecmp(instr, "FROM", 4) &&
		(!instr[4] || instr[4] == ' ' || instr[4] == '\t');
}

/* "FROM [--platform=...] image AS name" -> name, or NULL. */
static char *from_stage_name(const char *instr)
{
	const char *end = instr + strlen(instr), *last, *as;
	size_t words = 0;
	const char *p;
	int in_word = 0;

	for (p = instr; p < end; p++) {
		if (*p == ' ' || *p == '\t') {
			in_word = 0;
		} else if (!in_word) {
			in_word = 1;
			words++;
		}
	}
	if (words < 4)
		return NULL;
	while (end > instr && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	for (last = end; last > instr && last[-1] != ' ' && last[-1] != '\t'; last--)
		;
	for (p = last; p > instr && (p[-1] == ' ' || p[-1] == '\t'); p--)
		;
	for (as = p; as > instr && as[-1] != ' ' && as[-1] != '\t'; as--)
		;
	if (p - as != 2 || strncasecmp(as, "AS", 2))
		return NULL;
	return xstrndup(last, (size_t)(end - last));
}

/* Cut sb back to its last `cap` bytes, starting at a line. */
static void keep_tail(struct strbuf *sb, size_t cap)
{
	size_t cut;
	const char *nl;

	if (sb->len <= cap)
		return;
	cut = sb->len - cap;
	if (sb->buf[cut - 1] != '\n') {
		nl = memchr(sb->buf + cut, '\n', sb->len - cut);
		cut = nl ? (size_t)(nl - sb->buf) + 1 : sb->len;
	}
	memmove(sb->buf, sb->buf + cut, sb->len - cut);
	strbuf_setlen(sb, sb->len - cut);
}

static void add_output(struct parser *p, long step, const char *text, size_t n)
{
	struct strbuf *sb = &p->out[step];

	strbuf_add(sb, text, n);
	strbuf_addch(sb, '\n');
	if (sb->len > BUILDLOG_OUTPUT_MAX + OUTPUT_SLACK)
		keep_tail(sb, BUILDLOG_OUTPUT_MAX);
}

/* Append a step; -1 once BUILDLOG_STEPS_MAX steps are held. */
static long add_step(struct parser *p, const char *stage, size_t stage_len,
		     int stage_no, int index, int total, const char *instr)
{
	struct build_log *log = p->log;
	struct build_step *st;

	if (log->nsteps >= BUILDLOG_STEPS_MAX)
		return -1;
	if (log->nsteps == p->alloc) {
		p->alloc = p->alloc ? 2 * p->alloc : 16;
		log->steps = xrealloc(log->steps, p->alloc * sizeof(*log->steps));
		p->out = xrealloc(p->out, p->alloc * sizeof(*p->out));
	}
	st = &log->steps[log->nsteps];
	memset(st, 0, sizeof(*st));
	st->stage = stage ? xstrndup(stage, stage_len) : NULL;
	st->stage_no = stage_no;
	st->unnamed_no = -1;
	st->index = index;
	st->total = total;
	st->instruction = xstrdup(instr);
	strbuf_init(&p->out[log->nsteps], 0);
	return (long)log->nsteps++;
}

/* --- legacy builder -------------------------------------------------- */

static int is_image_id(const char *s)
{
	size_t n = strspn(s, "0123456789abcdef");

	return n >= 12 && !s[n];
}

static void legacy_step(struct parser *p, int index, int total,
			const char *instr)
{
	if (is_from(instr)) {
		p->stage_no++;
		free(p->stage_name);
		p->stage_name = from_stage_name(instr);
	}
	p->cur = add_step(p, p->stage_name,
			  p->stage_name ? strlen(p->stage_name) : 0,
			  p->stage_no, index, total, instr);
	p->cur_done = 0;
}

static void legacy_line(struct parser *p, const char *l, size_t n)
{
	const char *r, *instr;
	int index, total, in_step;

	/* The notice's own lines are indented and it ends with an empty line. */
	if (p->in_notice) {
		p->in_notice = *l == ' ';
		if (*l == ' ' || !n)
			return;
	}
	if (skip_prefix(l, LEGACY_NOTICE)) {
		p->in_notice = 1;
		return;
	}
	if (skip_prefix(l, LEGACY_CONTEXT)) {
		p->have_other = 0;
		return;
	}
	if (parse_legacy_step(l, &index, &total, &instr)) {
		legacy_step(p, index, total, instr);
		p->have_other = 0;
		return;
	}
	if ((r = skip_prefix(l, " ---> "))) {
		if (!strcmp(r, "Using cache")) {
			if (p->cur >= 0)
				p->log->steps[p->cur].cached = 1;
		} else if (is_image_id(r)) {
			p->cur_done = 1;
			if (p->cur >= 0 && !p->log->steps[p->cur].image)
				p->log->steps[p->cur].image = xstrndup(r, 64);
		} else if (!skip_prefix(r, "Running in ")) {
			goto other; /* " ---> [Warning] ...": the daemon's words on this step */
		}
		p->have_other = 0;
		return;
	}
	if (skip_prefix(l, "Removing intermediate container ") ||
	    skip_prefix(l, "Successfully tagged ")) {
		p->have_other = 0;
		return;
	}
	if (skip_prefix(l, "Successfully built ")) {
		p->success = 1;
		p->cur = -1;
		p->have_other = 0;
		return;
	}
other:
	in_step = p->cur >= 0 && !p->cur_done;
	if (in_step)
		add_output(p, p->cur, l, n);
	if (n) {
		/* The CLI prints the daemon's error last, as a plain line. */
		strbuf_reset(&p->other);
		strbuf_add(&p->other, l, n);
		p->other_step = in_step ? p->cur : -1;
		p->have_other = 1;
	}
}

static int find_exit_code(const char *s, const char *marker)
{
	const char *p;
	int v;

	if (!s || !(p = strstr(s, marker)))
		return -1;
	p += strlen(marker);
	return parse_num(&p, &v) ? v : -1;
}

static void legacy_finish(struct parser *p)
{
	struct build_log *log = p->log;
	struct strbuf *out;
	size_t n;

	if (p->success || !p->have_other)
		return;
	log->failed = 1;
	log->error = xstrndup(p->other.buf, p->other.len);
	log->exit_code = find_exit_code(log->error, "returned a non-zero code: ");
	if (p->other_step < 0)
		return;
	/* The error line is not the step's output. */
	out = &p->out[p->other_step];
	n = p->other.len + 1;
	if (out->len >= n && !memcmp(out->buf + out->len - n, p->other.buf, n - 1) &&
	    (out->len == n || out->buf[out->len - n - 1] == '\n'))
		strbuf_setlen(out, out->len - n);
	if (!is_from(log->steps[p->other_step].instruction)) {
		log->failed_step = p->other_step;
		log->steps[p->other_step].failed = 1;
	}
}

/* --- BuildKit -------------------------------------------------------- */

/* Stage number for a label as printed; "" for a single unnamed stage. */
static int label_stage_no(struct parser *p, const char *s, size_t n, int add)
{
	size_t i;

	for (i = 0; i < p->nlabels; i++)
		if (strlen(p->labels[i]) == n && !memcmp(p->labels[i], s, n))
			return (int)i + 1;
	if (!add || p->nlabels >= BUILDLOG_STEPS_MAX)
		return -1;
	p->labels = xrealloc(p->labels, (p->nlabels + 1) * sizeof(*p->labels));
	p->labels[p->nlabels++] = xstrndup(s, n);
	return (int)p->nlabels;
}

/* BuildKit labels unnamed stages "stage-N"; they have no name. */
static int is_unnamed_label(const char *s, size_t n)
{
	size_t i;

	if (n <= 6 || strncmp(s, "stage-", 6))
		return 0;
	for (i = 6; i < n; i++)
		if (!is_digit(s[i]))
			return 0;
	return 1;
}

/* The step for a label; created when create is set and it is new. */
static long buildkit_step(struct parser *p, const struct label *lb, int create)
{
	const char *s = lb->stage ? lb->stage : "";
	size_t i, n = lb->stage_len;
	int stage_no = label_stage_no(p, s, n, create);

	if (stage_no < 0)
		return -1;
	/* Vertices are numbered per build; the same step may show up twice. */
	for (i = 0; i < p->log->nsteps; i++)
		if (p->log->steps[i].stage_no == stage_no &&
		    p->log->steps[i].index == lb->index)
			return (long)i;
	if (!create)
		return -1;
	if (is_unnamed_label(s, n)) {
		long k = add_step(p, NULL, 0, stage_no, lb->index, lb->total, lb->instr);
		int no = 0;

		/* the label's digits (is_unnamed_label checked them), kept only when they are a plausible index */
		for (i = 6; i < n && no < BUILDLOG_STEPS_MAX; i++)
			no = no * 10 + (s[i] - '0');
		if (k >= 0 && no < BUILDLOG_STEPS_MAX)
			p->log->steps[k].unnamed_no = no;
		return k;
	}
	return add_step(p, n ? s : NULL, n, stage_no, lb->index, lb->total,
			lb->instr);
}

static void buildkit_vertex_line(struct parser *p, int num, const char *rest,
				 size_t n)
{
	struct vertex *v = NULL;
	struct label lb;
	const char *text, *msg;
	size_t want;

	if (num < VERTICES_MAX) {
		if ((size_t)num >= p->nvtx) {
			want = (size_t)num + 1 > 2 * p->nvtx ? (size_t)num + 1 : 2 * p->nvtx;
			if (want > VERTICES_MAX)
				want = VERTICES_MAX;
			p->vtx = xrealloc(p->vtx, want * sizeof(*p->vtx));
			memset(p->vtx + p->nvtx, 0, (want - p->nvtx) * sizeof(*p->vtx));
			p->nvtx = want;
		}
		v = &p->vtx[num];
	}
	if (parse_log_line(rest, &text)) {
		if (v && v->known && v->step >= 0)
			add_output(p, v->step, text, n - (size_t)(text - rest));
		return;
	}
	if (!strcmp(rest, "CACHED")) {
		if (v && v->known && v->step >= 0)
			p->log->steps[v->step].cached = 1;
		return;
	}
	if ((msg = skip_prefix(rest, "ERROR")) && (!*msg || *msg == ':' || *msg == ' ')) {
		long step = v && v->known ? v->step : -1;

		msg += strspn(msg, ": ");
		if (!p->have_vertex_error || (step >= 0 && p->err_step < 0)) {
			strbuf_reset(&p->vertex_error);
			strbuf_addstr(&p->vertex_error, msg);
		}
		if (step >= 0 && p->err_step < 0)
			p->err_step = step;
		p->have_vertex_error = 1;
		return;
	}
	if (!strncmp(rest, "DONE", 4) && (!rest[4] || rest[4] == ' ')) {
		if (v && v->known && v->exporting)
			p->exported = 1;
		return;
	}
	if (!v || v->known || skip_prefix(rest, "CANCELED") ||
	    skip_prefix(rest, "sha256:"))
		return; /* progress of a known vertex, or the log began mid-vertex */
	/* The first line of a vertex names it. */
	v->known = 1;
	v->exporting = !!skip_prefix(rest, "exporting");
	v->step = parse_label(rest, &lb) ? buildkit_step(p, &lb, 1) : -1;
}

/* A line of dashes opens or closes an error block or a Dockerfile excerpt. */
static int is_dashes(const char *l, size_t n)
{
	return n >= 4 && strspn(l, "-") == n;
}

/* "Dockerfile:9" (or "docker/Dockerfile.dev:9") above an excerpt. */
static int is_excerpt_name(const char *l, size_t n)
{
	const char *colon = strrchr(l, ':');

	return colon && colon > l && colon[1] && !strchr(l, ' ') &&
		strspn(colon + 1, "0123456789") == n - (size_t)(colon + 1 - l);
}

/* " 1 warning found (use docker --debug to expand):" */
static int is_warning_summary(const char *l)
{
	const char *p = l + strspn(l, " ");
	int v;

	return parse_num(&p, &v) &&
		(skip_prefix(p, " warning found") || skip_prefix(p, " warnings found"));
}

static void buildkit_line(struct parser *p, const char *l, size_t n)
{
	const char *rest;
	struct label lb;
	long step;
	int num;

	if (parse_vertex(l, &num, &rest)) {
		buildkit_vertex_line(p, num, rest, n - (size_t)(rest - l));
		return;
	}
	if (is_dashes(l, n)) {
		p->in_block = !p->in_block;
		p->in_warnings = 0;
		if (p->in_block)
			strbuf_reset(&p->final_error); /* what matters follows the last block */
		return;
	}
	if (p->in_block) {
		/* " > [builder 6/6] RUN npm run build:" names the failed step */
		if ((rest = skip_prefix(l, " > ")) && parse_label(rest, &lb) &&
		    p->block_step < 0 && (step = buildkit_step(p, &lb, 0)) >= 0)
			p->block_step = step;
		return;
	}
	if (!n)
		return;
	if (p->in_warnings && skip_prefix(l, " - "))
		return;
	p->in_warnings = is_warning_summary(l);
	if (p->in_warnings || skip_prefix(l, "WARNING:") ||
	    skip_prefix(l, "View build details:") || is_excerpt_name(l, n) ||
	    (skip_prefix(l, "sha256:") && is_image_id(l + 7)))
		return;
	/* Anything else is the CLI printing the build's error. */
	if (p->final_error.len)
		strbuf_addch(&p->final_error, '\n');
	strbuf_add(&p->final_error, l, n);
	/* trimmed with slack, as add_output does: once per line would be quadratic */
	if (p->final_error.len > ERROR_MAX + ERROR_MAX / 2)
		keep_tail(&p->final_error, ERROR_MAX);
}

static int cmp_steps(const void *a, const void *b)
{
	const struct build_step *x = a, *y = b;

	if (x->stage_no != y->stage_no)
		return x->stage_no < y->stage_no ? -1 : 1;
	return (x->index > y->index) - (x->index < y->index);
}

static void buildkit_finish(struct parser *p)
{
	struct build_log *log = p->log;
	long step;

	if (!p->final_error.len && (!p->have_vertex_error || p->exported))
		return;
	log->failed = 1;
	keep_tail(&p->final_error, ERROR_MAX);
	if (p->final_error.len)
		log->error = xstrndup(p->final_error.buf, p->final_error.len);
	else if (p->vertex_error.len)
		log->error = xstrndup(p->vertex_error.buf, p->vertex_error.len);
	log->exit_code = find_exit_code(p->vertex_error.buf, "exit code: ");
	if (log->exit_code < 0)
		log->exit_code = find_exit_code(log->error, "exit code: ");
	step = p->err_step >= 0 ? p->err_step : p->block_step;
	if (step >= 0 && !is_from(log->steps[step].instruction))
		log->steps[step].failed = 1;
}

/* --- buildah (podman build) ------------------------------------------- */

/* At least min hex digits and nothing else: buildah prints 11 after a step, 64 on a cache hit. */
static int is_hex_id(const char *s, size_t min)
{
	size_t n = strspn(s, "0123456789abcdef");

	return n >= min && !s[n];
}

/* "[1/2] " before a multi-stage build's lines: the stage and how many; the rest in *rest. */
static int parse_buildah_stage(const char *l, int *stage, int *stages, const char **rest)
{
	const char *p = l;

	if (*p++ != '[' || !parse_num(&p, stage) || *p++ != '/' || !parse_num(&p, stages) ||
	    *p++ != ']' || *p++ != ' ')
		return 0;
	*rest = p;
	return 1;
}

/* "STEP 4/6: RUN npm ci" */
static int parse_buildah_step(const char *l, int *index, int *total, const char **instr)
{
	const char *p = skip_prefix(l, "STEP ");

	if (!p || !parse_num(&p, index) || *p++ != '/' || !parse_num(&p, total) || *p++ != ':')
		return 0;
	*instr = *p == ' ' ? p + 1 : p;
	return 1;
}

static void buildah_line(struct parser *p, const char *l, size_t n)
{
	const char *r, *instr;
	int stage = 0, stages = 0, index, total, in_step;

	if (parse_buildah_stage(l, &stage, &stages, &r)) {
		p->log->stages = stages;
		n -= (size_t)(r - l);
		l = r;
	}
	if (parse_buildah_step(l, &index, &total, &instr)) {
		if (!p->log->stages)
			p->log->stages = 1;
		if (is_from(instr)) {
			p->stage_no = stage ? stage : p->stage_no + 1;
			free(p->stage_name);
			p->stage_name = from_stage_name(instr);
		}
		p->cur = add_step(p, p->stage_name, p->stage_name ? strlen(p->stage_name) : 0,
				  p->stage_no, index, total, instr);
		p->cur_done = 0;
		p->have_other = 0;
		return;
	}
	if (!strcmp(l, "COMMIT") || skip_prefix(l, "COMMIT ")) {
		p->have_other = 0;
		return;
	}
	if ((r = skip_prefix(l, "--> "))) {
		const char *id = skip_prefix(r, "Using cache ");

		if ((id && is_hex_id(id, 12)) || is_hex_id(r, 11)) {
			if (p->cur >= 0) {
				if (id)
					p->log->steps[p->cur].cached = 1;
				else
					p->cur_done = 1;
				if (!p->log->steps[p->cur].image)
					p->log->steps[p->cur].image = xstrndup(id ? id : r, 64);
			}
			p->have_other = 0;
			return;
		}
	}
	/* the image id alone, the build's last line */
	if (n == 64 && is_hex_id(l, 64)) {
		p->success = 1;
		p->cur = -1;
		p->have_other = 0;
		return;
	}
	in_step = p->cur >= 0 && !p->cur_done;
	if ((r = skip_prefix(l, "Error: "))) {
		strbuf_reset(&p->error);
		strbuf_add(&p->error, r, n - 7);
		p->error_step = in_step ? p->cur : -1;
		p->have_error = 1;
		return;
	}
	if (in_step)
		add_output(p, p->cur, l, n);
	if (n) {
		strbuf_reset(&p->other);
		strbuf_add(&p->other, l, n);
		p->other_step = in_step ? p->cur : -1;
		p->have_other = 1;
	}
}

static void buildah_finish(struct parser *p)
{
	struct build_log *log = p->log;
	long step;

	if (p->success || (!p->have_error && !p->have_other))
		return;
	log->failed = 1;
	if (p->have_error) {
		log->error = xstrndup(p->error.buf, p->error.len);
		step = p->error_step;
	} else {
		log->error = xstrndup(p->other.buf, p->other.len);
		step = p->other_step;
	}
	log->exit_code = find_exit_code(log->error, "exit status ");
	/* a Dockerfile buildah cannot read fails at the step it names, but no step of it ran */
	if (step >= 0 && !is_from(log->steps[step].instruction) && !strstr(log->error, "Unknown instruction: ") &&
	    !strstr(log->error, "Build error: ")) {
		log->failed_step = step;
		log->steps[step].failed = 1;
	}
}

/* --- public ---------------------------------------------------------- */

const char *builder_name(enum builder_kind kind)
{
	return kind == BUILDER_BUILDKIT ? "buildkit" : kind == BUILDER_BUILDAH ? "buildah" : "legacy";
}

void buildlog_init(struct build_log *log)
{
	memset(log, 0, sizeof(*log));
	log->builder = BUILDER_UNKNOWN;
	log->failed_step = -1;
	log->exit_code = -1;
}

void buildlog_release(struct build_log *log)
{
	size_t i;

	for (i = 0; i < log->nsteps; i++) {
		free(log->steps[i].stage);
		free(log->steps[i].instruction);
		free(log->steps[i].output);
		free(log->steps[i].image);
	}
	free(log->steps);
	free(log->error);
	buildlog_init(log);
}

static enum builder_kind detect_line(const char *l)
{
	const char *rest, *instr;
	int a, b;

	if (parse_legacy_step(l, &a, &b, &instr) || skip_prefix(l, LEGACY_CONTEXT) ||
	    skip_prefix(l, LEGACY_NOTICE))
		return BUILDER_LEGACY;
	if (parse_buildah_step(parse_buildah_stage(l, &a, &b, &rest) ? rest : l, &a, &b, &instr))
		return BUILDER_BUILDAH;
	if (parse_vertex(l, &a, &rest) &&
	    ((*rest == '[' && strchr(rest, ']')) || !strcmp(rest, "CACHED") ||
	     skip_prefix(rest, "DONE ") || skip_prefix(rest, "ERROR") ||
	     skip_prefix(rest, "building with ")))
		return BUILDER_BUILDKIT;
	return BUILDER_UNKNOWN;
}

enum builder_kind buildlog_detect(const char *text, size_t len)
{
	struct strbuf line = STRBUF_INIT;
	enum builder_kind kind = BUILDER_UNKNOWN;
	size_t pos = 0;

	while (kind == BUILDER_UNKNOWN && next_line(text, len, &pos, &line))
		kind = detect_line(line.buf);
	strbuf_release(&line);
	return kind;
}

int buildlog_parse(struct build_log *log, const char *text, size_t len)
{
	struct parser p;
	enum builder_kind kind;
	size_t pos = 0, i;

	buildlog_release(log);
	kind = buildlog_detect(text, len);
	if (kind == BUILDER_UNKNOWN)
		return -1;

	memset(&p, 0, sizeof(p));
	p.log = log;
	p.cur = p.other_step = p.err_step = p.block_step = p.error_step = -1;
	strbuf_init(&p.line, 0);
	strbuf_init(&p.other, 0);
	strbuf_init(&p.error, 0);
	strbuf_init(&p.vertex_error, 0);
	strbuf_init(&p.final_error, 0);
	log->builder = kind;

	while (next_line(text, len, &pos, &p.line)) {
		if (kind == BUILDER_LEGACY)
			legacy_line(&p, p.line.buf, p.line.len);
		else if (kind == BUILDER_BUILDAH)
			buildah_line(&p, p.line.buf, p.line.len);
		else
			buildkit_line(&p, p.line.buf, p.line.len);
	}
	if (kind == BUILDER_LEGACY)
		legacy_finish(&p);
	else if (kind == BUILDER_BUILDAH)
		buildah_finish(&p);
	else
		buildkit_finish(&p);

	for (i = 0; i < log->nsteps; i++) {
		struct build_step *st = &log->steps[i];

		keep_tail(&p.out[i], BUILDLOG_OUTPUT_MAX);
		st->output = strbuf_detach(&p.out[i], NULL);
		st->ran = !st->cached && !is_from(st->instruction);
	}
	if (kind == BUILDER_BUILDKIT && log->nsteps > 1)
		qsort(log->steps, log->nsteps, sizeof(*log->steps), cmp_steps);
	for (i = 0; i < log->nsteps; i++)
		if (log->steps[i].failed)
			log->failed_step = (long)i;

	for (i = 0; i < p.nlabels; i++)
		free(p.labels[i]);
	free(p.labels);
	free(p.vtx);
	free(p.out);
	free(p.stage_name);
	strbuf_release(&p.line);
	strbuf_release(&p.other);
	strbuf_release(&p.error);
	strbuf_release(&p.vertex_error);
	strbuf_release(&p.final_error);
	return 0;
}

void buildlog_drop_label_step(struct build_log *log, const char *label_key)
{
	struct build_step *last;
	const char *rest;
	int quoted, last_stage;
	size_t i;

	if ((log->builder != BUILDER_LEGACY && log->builder != BUILDER_BUILDAH) || !log->nsteps || !label_key)
		return;
	last = &log->steps[log->nsteps - 1];
	last_stage = last->stage_no;
	rest = skip_prefix(last->instruction, "LABEL ");
	/* buildah quotes the key: LABEL "org.phaselab.run"="..." */
	quoted = rest && *rest == '"';
	if (rest && (rest = skip_prefix(rest + quoted, label_key)) && (!quoted || *rest++ == '"') && *rest == '=' &&
	    last->index == last->total && !last->failed) {
		free(last->stage);
		free(last->instruction);
		free(last->output);
		free(last->image);
		log->nsteps--;
	}
	for (i = 0; i < log->nsteps; i++) {
		/* buildah counted the label in the last stage's totals alone */
		if (log->builder == BUILDER_BUILDAH && log->steps[i].stage_no != (log->stages ? log->stages : last_stage))
			continue;
		if (log->steps[i].total > log->steps[i].index)
			log->steps[i].total--;
	}
}

long buildlog_find_step(const struct build_log *log, const char *needle)
{
	size_t i;

	if (!needle)
		return -1;
	for (i = 0; i < log->nsteps; i++)
		if (strstr(log->steps[i].instruction, needle))
			return (long)i;
	return -1;
}

long buildlog_first_rebuilt_before(const struct build_log *log, long before)
{
	const struct build_step *b;
	long i, best = -1;

	if (before < 0 || (size_t)before >= log->nsteps)
		return -1;
	b = &log->steps[before];
	for (i = 0; i < (long)log->nsteps; i++) {
		const struct build_step *s = &log->steps[i];

		if (s->stage_no == b->stage_no && s->index < b->index && s->ran &&
		    (best < 0 || s->index < log->steps[best].index))
			best = i;
	}
	return best;
}

/* ------------------------------------------------------------ diagnosis */

static const char *const instructions[] = {
	"ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE", "FROM", "HEALTHCHECK", "LABEL",
	"MAINTAINER", "ONBUILD", "RUN", "SHELL", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR", NULL,
};

/* Edit distance with adjacent swaps (optimal string alignment), case-insensitive; words up to 31 bytes. */
static int osa_distance(const char *a, const char *b)
{
	size_t n = strlen(a), m = strlen(b);
	int d[32][32];

	if (n > 31 || m > 31)
		return 99;
	for (size_t i = 0; i <= n; i++)
		d[i][0] = (int)i;
	for (size_t j = 0; j <= m; j++)
		d[0][j] = (int)j;
	for (size_t i = 1; i <= n; i++) {
		for (size_t j = 1; j <= m; j++) {
			int cost = toupper((unsigned char)a[i - 1]) != toupper((unsigned char)b[j - 1]);
			int v = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < v)
				v = d[i][j - 1] + 1;
			if (d[i - 1][j - 1] + cost < v)
				v = d[i - 1][j - 1] + cost;
			if (i > 1 && j > 1 && toupper((unsigned char)a[i - 1]) == toupper((unsigned char)b[j - 2]) &&
			    toupper((unsigned char)a[i - 2]) == toupper((unsigned char)b[j - 1]) && d[i - 2][j - 2] + 1 < v)
				v = d[i - 2][j - 2] + 1;
			d[i][j] = v;
		}
	}
	return d[n][m];
}

const char *dockerfile_nearest_instruction(const char *word)
{
	const char *best = NULL;
	int best_d = 3, ties = 0;

	for (const char *const *in = instructions; *in; in++) {
		int dist = osa_distance(word, *in);
		if (dist < best_d) {
			best = *in;
			best_d = dist;
			ties = 0;
		} else if (dist == best_d) {
			ties++;
		}
	}
	return best && best_d > 0 && !ties ? best : NULL;
}

/* Physical line n (1-based) of text, trimmed, as a new string; NULL when there is none. */
static char *text_line(const char *text, size_t len, int n)
{
	const char *p = text, *end = text + len;

	if (!text || n < 1)
		return NULL;
	for (int i = 1; i < n && p < end; i++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			return NULL;
		p = nl + 1;
	}
	if (p >= end)
		return NULL;
	{
		const char *e = memchr(p, '\n', (size_t)(end - p));
		struct strbuf sb = STRBUF_INIT;

		while (p < end && p != e && (*p == ' ' || *p == '\t'))
			p++;
		strbuf_add(&sb, p, e ? (size_t)(e - p) : (size_t)(end - p));
		strbuf_rtrim(&sb);
		return strbuf_detach(&sb, NULL);
	}
}

/* s with runs of blanks as one space and a trailing "\" dropped (new string). */
static char *squeeze(const char *s)
{
	struct strbuf sb = STRBUF_INIT;

	for (; *s; s++) {
		if (*s == ' ' || *s == '\t' || *s == '\r') {
			if (sb.len && sb.buf[sb.len - 1] != ' ')
				strbuf_addch(&sb, ' ');
		} else {
			strbuf_addch(&sb, *s);
		}
	}
	strbuf_rtrim(&sb);
	if (sb.len && sb.buf[sb.len - 1] == '\\')
		strbuf_setlen(&sb, sb.len - 1);
	strbuf_rtrim(&sb);
	return strbuf_detach(&sb, NULL);
}

/*
 * The Dockerfile line where the instruction the builder printed starts
 * (the instruction keyword case-insensitive; a continued instruction
 * matches on its first line), or 0.
 */
static int find_instruction_line(const char *text, size_t len, const char *instruction)
{
	char *want = squeeze(instruction);
	size_t wlen = strlen(want);
	int found = 0, n = 0;
	const char *p = text, *end = text + len;

	while (text && p < end && !found) {
		const char *e = memchr(p, '\n', (size_t)(end - p));
		struct strbuf sb = STRBUF_INIT;
		char *line;
		size_t l, kw;

		n++;
		strbuf_add(&sb, p, e ? (size_t)(e - p) : (size_t)(end - p));
		line = squeeze(sb.buf);
		strbuf_release(&sb);
		while (*line == ' ')
			memmove(line, line + 1, strlen(line));
		l = strlen(line);
		kw = strcspn(line, " ");
		if (l && l <= wlen && kw <= l && !strncasecmp(line, want, kw) &&
		    !strncmp(line + kw, want + kw, l - kw) && (l == wlen || want[l] == ' '))
			found = n;
		free(line);
		p = e ? e + 1 : end;
	}
	free(want);
	return found;
}

/* The word before ": not found" / ": command not found" in text, for a shell's message; new string or NULL. */
static char *not_found_command(const char *text)
{
	static const char *const marks[] = { ": command not found", ": not found", NULL };

	for (const char *const *m = marks; *m; m++) {
		const char *at = strstr(text, *m);
		while (at) {
			const char *b = at;
			while (b > text && b[-1] != ' ' && b[-1] != ':' && b[-1] != '\n' && b[-1] != '\t')
				b--;
			/* "sh: 1: pnpm: not found" (dash) and "/bin/sh: pnpm: not found" both name it last */
			if (at > b && strspn(b, "0123456789") != (size_t)(at - b))
				return xstrndup(b, (size_t)(at - b));
			at = strstr(at + 1, *m);
		}
	}
	return NULL;
}

/* The name between quotes or after "stat " in a COPY failure: "yarn.lock"; new string or NULL. */
static char *copy_source(const char *text)
{
	const char *p;

	/* buildah: copier: stat: "/yarn.lock": no such file or directory */
	if ((p = strstr(text, "stat: \"/"))) {
		p += 8;
		return xstrndup(p, strcspn(p, "\""));
	}
	if ((p = strstr(text, "stat "))) {
		p += 5;
		return xstrndup(p, strcspn(p, ": \n"));
	}
	if ((p = strstr(text, "\"/")) && strstr(p + 2, "\" not found")) {
		p += 2;
		return xstrndup(p, strcspn(p, "\""));
	}
	return NULL;
}

void build_diagnosis_release(struct build_diagnosis *d)
{
	free(d->line);
	free(d->corrected);
	free(d->word);
	free(d->install_line);
	memset(d, 0, sizeof(*d));
}

void buildlog_diagnose(const struct build_log *log, const char *df, size_t dflen, struct build_diagnosis *d)
{
	const struct build_step *failed = log->failed_step >= 0 ? &log->steps[log->failed_step] : NULL;
	const char *err = log->error ? log->error : "";
	const char *out = failed ? failed->output : "";
	struct strbuf all = STRBUF_INIT;
	const char *p;

	memset(d, 0, sizeof(*d));
	strbuf_addf(&all, "%s\n%s", out, err);

	/* the Dockerfile itself: "dockerfile parse error line 8: ..." ("on line 8" in newer builders) */
	if ((p = strstr(err, "parse error line ")) || (p = strstr(err, "parse error on line "))) {
		const char *msg;
		p = strstr(p, "line ") + 5;
		d->line_number = atoi(p);
		d->line = text_line(df, dflen, d->line_number);
		msg = strchr(p, ':');
		msg = msg ? msg + 1 + (msg[1] == ' ') : "";
		if (!strncmp(msg, "unknown instruction: ", 21)) {
			const char *word = msg + 21;
			const char *near;
			d->cause = "unknown-instruction";
			d->word = xstrndup(word, strcspn(word, " \n("));
			near = dockerfile_nearest_instruction(d->word);
			if (near && d->line && !strncasecmp(d->line, d->word, strlen(d->word)))
				d->corrected = xasprintf("%s%s", near, d->line + strlen(d->word));
		} else {
			d->cause = "parse-error";
			d->word = xstrndup(msg, strcspn(msg, "\n"));
		}
		goto out;
	}
	/* buildah: 'Build error: Unknown instruction: "EXPOES"' at the step it could not read */
	if ((p = strstr(err, "Unknown instruction: \""))) {
		const char *near;
		p += strlen("Unknown instruction: \"");
		d->cause = "unknown-instruction";
		d->word = xstrndup(p, strcspn(p, "\"\n"));
		if (log->nsteps) {
			d->line_number = find_instruction_line(df, dflen, log->steps[log->nsteps - 1].instruction);
			d->line = d->line_number ? text_line(df, dflen, d->line_number) : NULL;
		}
		near = dockerfile_nearest_instruction(d->word);
		if (near && d->line && !strncasecmp(d->line, d->word, strlen(d->word)))
			d->corrected = xasprintf("%s%s", near, d->line + strlen(d->word));
		goto out;
	}
	if (failed) {
		d->line_number = find_instruction_line(df, dflen, failed->instruction);
		d->line = d->line_number ? text_line(df, dflen, d->line_number) : xstrdup(failed->instruction);
	}
	if (strstr(all.buf, "can only install packages when your package.json and package-lock.json")) {
		/* npm lists what differs: "Missing: ms@2.1.3 from lock file", "Invalid: lock file's ..." */
		struct strbuf pk = STRBUF_INIT;
		d->cause = "lockfile-out-of-date";
		for (p = strstr(all.buf, "Missing: "); p; p = strstr(p + 1, "Missing: ")) {
			const char *e = strstr(p, " from lock file");
			const char *nl = strchr(p, '\n');
			if (e && (!nl || e < nl) && pk.len < 200)
				strbuf_addf(&pk, "%s%.*s", pk.len ? ", " : "", (int)(e - p - 9), p + 9);
		}
		if (pk.len)
			d->word = strbuf_detach(&pk, NULL);
		strbuf_release(&pk);
	} else if (strstr(all.buf, "can only install with an existing package-lock.json")) {
		d->cause = "lockfile-missing";
	} else if ((p = strstr(all.buf, "Missing script: \""))) {
		d->cause = "no-build-script";
		p += strlen("Missing script: \"");
		d->word = xstrndup(p, strcspn(p, "\"\n"));
	} else if (strstr(all.buf, "COPY failed") || strstr(all.buf, "failed to compute cache key") ||
		   strstr(all.buf, "checking on sources under") ||
		   strstr(all.buf, "excluded by .dockerignore")) {
		d->cause = "copy-source-missing";
		d->word = copy_source(all.buf);
	} else if ((p = strstr(all.buf, "tsc: not found"))) {
		/* typescript is a devDependency: was it left out in this stage? */
		d->cause = "command-not-found";
		d->word = xstrdup("tsc");
		for (size_t i = 0; failed && i < (size_t)log->failed_step; i++) {
			const struct build_step *s = &log->steps[i];
			if (s->stage_no == failed->stage_no && (strstr(s->instruction, "--omit=dev") ||
								strstr(s->instruction, "--only=prod") ||
								strstr(s->instruction, "--production"))) {
				int n = find_instruction_line(df, dflen, s->instruction);
				d->cause = "tsc-not-found";
				free(d->install_line);
				d->install_line = n ? text_line(df, dflen, n) : xstrdup(s->instruction);
			}
		}
	} else if (log->exit_code == 127 || strstr(out, ": not found") || strstr(out, "command not found")) {
		char *cmd = not_found_command(out);
		if (cmd || log->exit_code == 127) {
			d->cause = "command-not-found";
			d->word = cmd;
		}
	}
out:
	strbuf_release(&all);
}

void buildlog_step_ref(const struct build_log *log, const struct build_step *s, struct strbuf *sb)
{
	if (log->builder != BUILDER_BUILDKIT)
		strbuf_addf(sb, "step %d/%d", s->index, s->total);
	else if (s->stage)
		strbuf_addf(sb, "step [%s %d/%d]", s->stage, s->index, s->total);
	else if (s->unnamed_no >= 0)
		strbuf_addf(sb, "step [stage-%d %d/%d]", s->unnamed_no, s->index, s->total);
	else
		strbuf_addf(sb, "step [stage-%d %d/%d]", s->stage_no > 0 ? s->stage_no - 1 : 0, s->index, s->total);
}
