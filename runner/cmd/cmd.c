#include "cmd/cmd.h"
#include "core/phase.h"
#include "core/verify.h"
#include "report/report.h"
#include "lib/escape.h"
#include "lib/strbuf.h"
#include "lib/timeutil.h"
#include "lib/xalloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

int cmd_fail(int status, const char *fmt, ...)
{
	struct strbuf msg = STRBUF_INIT, shown = STRBUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(&msg, fmt, ap);
	va_end(ap);
	/* messages quote file names, progress files and reports: any bytes, made inert here once */
	escape_term(&shown, msg.buf, msg.len, ESCAPE_TERM_NEWLINES);
	fprintf(stderr, "phaselab: %s\n", shown.buf);
	strbuf_release(&msg);
	strbuf_release(&shown);
	return status;
}

int phase_load_for_command(const char *which, struct phase *ph)
{
	struct strbuf err = STRBUF_INIT;
	char *root = phases_root();
	int rc = phase_find(root, which, ph, &err);

	free(root);
	if (rc < 0) {
		rc = cmd_fail(EXIT_USAGE, "%s", err.buf);
		phase_release(ph);
	}
	strbuf_release(&err);
	return rc;
}

/*
 * The status line: the running check's title, then what it waits for as
 * the check says it (verify_opts.detail), redrawn at most every 250 ms and
 * cut to the terminal's width (a line longer than that would wrap, and
 * "\r" would then clear only its last row).  Only on a terminal.
 */
static struct {
	char *title;
	long long last_draw_ms;  /* of a detail: the title's own line gives way at once */
} status_line;

#define STATUS_EVERY_MS 250

static void status_draw(const char *detail)
{
	struct strbuf line = STRBUF_INIT, shown = STRBUF_INIT;
	struct winsize ws;
	size_t width = 80, cols = 0, cut = 0;

	if (ioctl(2, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 1)
		width = ws.ws_col;
	strbuf_addf(&line, "phaselab: %s", status_line.title ? status_line.title : "");
	if (detail)
		strbuf_addf(&line, ": %s", detail);
	else
		strbuf_addstr(&line, " ...");
	/* the detail quotes the learner's probe output: inert, on one line */
	escape_term(&shown, line.buf, line.len, 0);
	/* cut at width - 1 columns (one column a character: the title and details are text) */
	for (cut = 0; cut < shown.len; cut++) {
		if (((unsigned char)shown.buf[cut] & 0xc0) == 0x80)
			continue;
		if (++cols > width - 1)
			break;
	}
	fprintf(stderr, "\r\033[K%.*s", (int)cut, shown.buf);
	fflush(stderr);
	if (detail)
		status_line.last_draw_ms = now_ms();
	strbuf_release(&line);
	strbuf_release(&shown);
}

void cmd_progress(const char *title, void *arg)
{
	(void)arg;
	free(status_line.title);
	status_line.title = title ? xstrdup(title) : NULL;
	status_line.last_draw_ms = 0;
	if (!isatty(2))
		return;
	if (title) {
		status_draw(NULL);
	} else {
		fprintf(stderr, "\r\033[K");
		fflush(stderr);
	}
}

void cmd_progress_detail(const char *detail, void *arg)
{
	(void)arg;
	if (!isatty(2) || !status_line.title || now_ms() - status_line.last_draw_ms < STATUS_EVERY_MS)
		return;
	status_draw(detail);
}

void cmd_fail_lines(const char *text)
{
	for (const char *p = text; p && *p;) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);

		cmd_fail(0, "%.*s", (int)n, p);
		p += n + (nl != NULL);
	}
}

int cmd_verify(const struct phase *ph, const char *dir, struct verify_opts *vo, struct report *r)
{
	struct strbuf msg = STRBUF_INIT;
	int status;

	vo->progress = cmd_progress;
	vo->detail = cmd_progress_detail;
	status = verify_phase(ph, dir, vo, r, &msg);
	cmd_fail_lines(msg.buf);
	strbuf_release(&msg);
	return status;
}

/* ---- the command table and its one parser ------------------------------ */

const struct cmd_entry *const cmd_table[] = {
	&cmd_init_entry,
	&cmd_status_entry,
	&cmd_list_entry,
	&cmd_show_entry,
	&cmd_next_entry,
	&cmd_hint_entry,
	&cmd_watch_entry,
	&cmd_reset_entry,
	&cmd_check_entry,
	&cmd_grade_entry,
	&cmd_report_entry,
	NULL,
};

const struct cmd_entry *cmd_find(const char *name)
{
	const struct cmd_entry *found = NULL;

	for (const struct cmd_entry *const *c = cmd_table; *c; c++) {
		if (!strcmp((*c)->name, name))
			return *c;
		if (*name && !strncmp((*c)->name, name, strlen(name))) {
			if (found)
				return NULL;
			found = *c;
		}
	}
	return found;
}

const char *cmd_report_format_choice(size_t i, const char **about)
{
	const struct report_format *f = report_format_at(i);

	if (about)
		*about = f ? f->about : NULL;
	return f ? f->name : NULL;
}

#define HELP_WIDTH 79

static size_t noptions(const struct cmd_entry *e)
{
	size_t n = 0;

	while (e->options && e->options[n].name)
		n++;
	return n;
}

/*
 * Append text at column *col, breaking lines at spaces before HELP_WIDTH; a
 * new line starts at indent.  The text's own line breaks are kept.
 */
static void add_wrapped(struct strbuf *sb, size_t *col, const char *text, size_t indent)
{
	while (*text) {
		size_t gap = strspn(text, " "), len;

		text += gap;
		len = strcspn(text, " \n");
		if (*col > indent && *col + gap + len > HELP_WIDTH) {
			strbuf_addf(sb, "\n%*s", (int)indent, "");
			*col = indent;
		} else if (*col > indent) {
			strbuf_addf(sb, "%*s", (int)gap, "");
			*col += gap;
		}
		strbuf_add(sb, text, len);
		*col += len;
		text += len;
		if (*text == '\n') {
			/* a line break of the text's own; a blank line stays blank */
			strbuf_addch(sb, '\n');
			*col = 0;
			while (*++text == '\n')
				strbuf_addch(sb, '\n');
			if (*text) {
				strbuf_addf(sb, "%*s", (int)indent, "");
				*col = indent;
			}
		}
	}
}

/* One unbreakable token of a synopsis. */
static void add_token(struct strbuf *sb, size_t *col, const char *tok, size_t len, size_t indent)
{
	if (*col > indent && *col + 1 + len > HELP_WIDTH) {
		strbuf_addf(sb, "\n%*s", (int)indent, "");
		*col = indent;
	} else {
		strbuf_addch(sb, ' ');
		(*col)++;
	}
	strbuf_add(sb, tok, len);
	*col += len;
}

/* "phaselab NAME [--opt ARG]... ARGS" from column col, continued lines under the first option. */
static void add_synopsis(struct strbuf *sb, size_t col, const struct cmd_entry *e)
{
	struct strbuf tok = STRBUF_INIT;
	size_t indent;

	strbuf_addf(sb, "phaselab %s", e->name);
	col += strlen("phaselab ") + strlen(e->name);
	indent = col + 1;
	for (size_t i = 0; i < noptions(e); i++) {
		const struct cmd_option *o = &e->options[i];

		strbuf_reset(&tok);
		strbuf_addf(&tok, "%s--%s%s%s%s%s", o->required ? "" : "[", o->name, o->arg ? " " : "",
			    o->arg ? o->arg : "", o->required ? "" : "]", o->repeat ? "..." : "");
		add_token(sb, &col, tok.buf, tok.len, indent);
	}
	/* the positional arguments: each word of args is a token ("[PHASE] [STEP]") */
	for (const char *p = e->args ? e->args : ""; *p;) {
		size_t len = strcspn(p, " ");

		if (len)
			add_token(sb, &col, p, len, indent);
		p += len;
		p += *p == ' ';
	}
	strbuf_release(&tok);
}

void cmd_synopsis(struct strbuf *sb, const struct cmd_entry *e)
{
	strbuf_addstr(sb, "usage: ");
	add_synopsis(sb, strlen("usage: "), e);
	strbuf_addch(sb, '\n');
}

/* "-p, --phase ID" (or "    --force") */
static void option_label(struct strbuf *sb, const struct cmd_option *o)
{
	if (o->short_name)
		strbuf_addf(sb, "-%c, ", o->short_name);
	else
		strbuf_addstr(sb, "    ");
	strbuf_addf(sb, "--%s%s%s", o->name, o->arg ? " " : "", o->arg ? o->arg : "");
}

/* "text, json, junit" (with_about: "text, json (schema ...), ...") */
static void add_choices(struct strbuf *sb, const struct cmd_option *o, int with_about)
{
	const char *name, *about;

	for (size_t i = 0; (name = o->choice(i, &about)); i++) {
		strbuf_addf(sb, "%s%s", i ? ", " : "", name);
		if (with_about && about)
			strbuf_addf(sb, " (%s)", about);
	}
}

void cmd_help(struct strbuf *sb, const struct cmd_entry *e)
{
	static const struct cmd_option help = { "help", 'h', NULL, 0, "print this help", NULL, NULL, 0 };
	struct strbuf label = STRBUF_INIT, doc = STRBUF_INIT;
	size_t n = noptions(e), width = 0, col;

	cmd_synopsis(sb, e);
	if (e->about) {
		strbuf_addch(sb, '\n');
		col = 0;
		add_wrapped(sb, &col, e->about, 0);
		strbuf_addch(sb, '\n');
	}
	for (size_t i = 0; i <= n; i++) {
		strbuf_reset(&label);
		option_label(&label, i < n ? &e->options[i] : &help);
		if (label.len > width)
			width = label.len;
	}
	strbuf_addch(sb, '\n');
	for (size_t i = 0; i <= n; i++) {
		const struct cmd_option *o = i < n ? &e->options[i] : &help;

		strbuf_reset(&label);
		strbuf_reset(&doc);
		option_label(&label, o);
		strbuf_addstr(&doc, o->doc);
		if (o->choice) {
			strbuf_addstr(&doc, ": ");
			add_choices(&doc, o, 1);
		}
		if (o->fallback)
			strbuf_addf(&doc, " (default: %s)", o->fallback);
		strbuf_addf(sb, "  %-*s  ", (int)width, label.buf);
		col = 2 + width + 2;
		add_wrapped(sb, &col, doc.buf, col);
		strbuf_addch(sb, '\n');
	}
	strbuf_addstr(sb, "\nexit status: ");
	col = strlen("exit status: ");
	add_wrapped(sb, &col, e->exit_status, col);
	strbuf_addch(sb, '\n');
	strbuf_release(&label);
	strbuf_release(&doc);
}

void cmd_help_all(struct strbuf *sb)
{
	size_t col;

	strbuf_addstr(sb, "usage: phaselab COMMAND [OPTIONS]\n\ncommands:\n");
	for (const struct cmd_entry *const *c = cmd_table; *c; c++) {
		strbuf_addf(sb, "  %-8s %s\n           ", (*c)->name, (*c)->summary);
		add_synopsis(sb, 11, *c);
		strbuf_addch(sb, '\n');
	}
	strbuf_addstr(sb, "\n");
	col = 0;
	add_wrapped(sb, &col,
		    "Learners: `phaselab init DIR`, then `phaselab` alone says what to do next.\n\n"
		    "`phaselab COMMAND --help` says more.  Environment: PHASELAB_DOCKER (the docker CLI), "
		    "DOCKER_BUILDKIT (1: BuildKit, 0: legacy builder), PHASELAB_PHASES (the phases folder), "
		    "PHASELAB_LABS (the labs folder), NO_COLOR.", 0);
	strbuf_addch(sb, '\n');
}

/* A usage error: the message, then the synopsis; EXIT_USAGE. */
static int usage_error(const struct cmd_entry *e, const char *fmt, const char *what)
{
	struct strbuf msg = STRBUF_INIT;
	int rc;

	strbuf_addf(&msg, "%s: ", e->name);
	strbuf_addf(&msg, fmt, what);
	strbuf_addch(&msg, '\n');
	cmd_synopsis(&msg, e);
	strbuf_rtrim(&msg);
	rc = cmd_fail(EXIT_USAGE, "%s", msg.buf);
	strbuf_release(&msg);
	return rc;
}

/*
 * The option whose long name is name[0..len): an exact match, else the one
 * it is an unambiguous prefix of.  n (= noptions) stands for --help.  -1: none;
 * -2: ambiguous.
 */
static long find_long(const struct cmd_entry *e, const char *name, size_t len)
{
	size_t n = noptions(e);
	long found = -1;

	for (size_t i = 0; i <= n; i++) {
		const char *o = i < n ? e->options[i].name : "help";

		if (strlen(o) == len && !strncmp(o, name, len))
			return (long)i;
	}
	for (size_t i = 0; i <= n; i++) {
		const char *o = i < n ? e->options[i].name : "help";

		if (len && !strncmp(o, name, len)) {
			if (found >= 0)
				return -2;
			found = (long)i;
		}
	}
	return found;
}

static int print_help(const struct cmd_entry *e)
{
	struct strbuf sb = STRBUF_INIT;

	cmd_help(&sb, e);
	fputs(sb.buf, stdout);
	strbuf_release(&sb);
	return CMD_HELP;
}

/*
 * An option's value into a: the last one given wins, and a repeatable
 * option's values are also kept in order (cmd_values).  0, or EXIT_USAGE
 * when a repeatable option is given too often.
 */
static int take_value(const struct cmd_entry *e, struct cmd_args *a, size_t k, const char *v)
{
	a->value[k] = v;
	if (!e->options[k].repeat)
		return 0;
	if (a->nrepeated == CMD_MAX_REPEAT)
		return usage_error(e, "option '--%s' is given too often (16 values at most)", e->options[k].name);
	a->repeated_opt[a->nrepeated] = (unsigned char)k;
	a->repeated[a->nrepeated++] = v;
	return 0;
}

int cmd_parse(const struct cmd_entry *e, int argc, char **argv, struct cmd_args *a)
{
	size_t n = noptions(e);
	struct strbuf shown = STRBUF_INIT, missing = STRBUF_INIT;
	int only_args = 0, rc = 0;

	memset(a, 0, sizeof(*a));
	a->entry = e;
	for (int i = 1; i < argc; i++) {
		const char *s = argv[i];

		if (only_args || s[0] != '-' || !s[1]) {
			if (a->nargs == (size_t)e->max_args) {
				rc = usage_error(e, "unexpected argument '%s'", s);
				goto out;
			}
			a->arg[a->nargs++] = s;
		} else if (!strcmp(s, "--")) {
			only_args = 1;
		} else if (s[1] == '-') {
			const char *name = s + 2, *eq = strchr(name, '=');
			size_t len = eq ? (size_t)(eq - name) : strlen(name);
			long k = find_long(e, name, len);

			strbuf_reset(&shown);
			strbuf_addf(&shown, "--%.*s", (int)len, name);
			if (k == -2) {
				rc = usage_error(e, "option '%s' is ambiguous", shown.buf);
				goto out;
			}
			if (k < 0) {
				rc = usage_error(e, "unknown option '%s'", shown.buf);
				goto out;
			}
			if ((size_t)k == n) {
				rc = print_help(e);
				goto out;
			}
			/* a prefix is named in full: "--fo" is --format */
			strbuf_reset(&shown);
			strbuf_addf(&shown, "--%s", e->options[k].name);
			if (!e->options[k].arg) {
				if (eq) {
					rc = usage_error(e, "option '%s' takes no value", shown.buf);
					goto out;
				}
				a->value[k] = "";
			} else if (eq) {
				if ((rc = take_value(e, a, (size_t)k, eq + 1)))
					goto out;
			} else if (i + 1 < argc) {
				if ((rc = take_value(e, a, (size_t)k, argv[++i])))
					goto out;
			} else {
				rc = usage_error(e, "option '%s' needs a value", shown.buf);
				goto out;
			}
		} else {
			/* short options, clustered (-lf) or with the value attached (-p3) */
			for (const char *c = s + 1; *c; c++) {
				size_t k = 0;

				while (k < n && e->options[k].short_name != *c)
					k++;
				strbuf_reset(&shown);
				strbuf_addf(&shown, "-%c", *c);
				if (k == n && *c == 'h') {
					rc = print_help(e);
					goto out;
				}
				if (k == n) {
					rc = usage_error(e, "unknown option '%s'", shown.buf);
					goto out;
				}
				if (!e->options[k].arg) {
					a->value[k] = "";
					continue;
				}
				if (c[1])
					rc = take_value(e, a, k, c + 1);
				else if (i + 1 < argc)
					rc = take_value(e, a, k, argv[++i]);
				else {
					rc = usage_error(e, "option '%s' needs a value", shown.buf);
					goto out;
				}
				if (rc)
					goto out;
				break;
			}
		}
	}
	for (size_t k = 0; k < n; k++) {
		const struct cmd_option *o = &e->options[k];
		const char *v = a->value[k], *name;
		size_t i;

		if (!v || !o->choice)
			continue;
		for (i = 0; (name = o->choice(i, NULL)) && strcmp(name, v); i++)
			;
		if (!name) {
			strbuf_reset(&shown);
			add_choices(&shown, o, 0);
			rc = cmd_fail(EXIT_USAGE, "%s: unknown %s '%s' (%s)", e->name, o->name, v, shown.buf);
			goto out;
		}
	}
	/* "--phase is required", "--roster and --out are required" */
	for (size_t k = 0, nmissing = 0, left; k < n; k++) {
		if (!e->options[k].required || a->value[k])
			continue;
		left = 0;
		for (size_t j = k + 1; j < n; j++)
			left += e->options[j].required && !a->value[j];
		strbuf_addf(&missing, "%s--%s", !nmissing ? "" : left ? ", " : " and ", e->options[k].name);
		if (!left) {
			rc = usage_error(e, nmissing ? "%s are required" : "%s is required", missing.buf);
			goto out;
		}
		nmissing++;
	}
out:
	strbuf_release(&shown);
	strbuf_release(&missing);
	return rc;
}

int cmd_run(const struct cmd_entry *e, int argc, char **argv)
{
	struct cmd_args a;
	int rc = cmd_parse(e, argc, argv, &a);

	if (rc)
		return rc == CMD_HELP ? EXIT_PASSED : rc;
	return e->exec(&a);
}

static size_t option_index(const struct cmd_args *a, const char *name)
{
	for (size_t k = 0; k < noptions(a->entry); k++)
		if (!strcmp(a->entry->options[k].name, name))
			return k;
	/* a command asked for an option it does not declare: the program is wrong */
	fprintf(stderr, "phaselab: %s has no option '--%s'\n", a->entry->name, name);
	abort();
}

const char *cmd_value(const struct cmd_args *a, const char *name)
{
	size_t k = option_index(a, name);

	return a->value[k] ? a->value[k] : a->entry->options[k].fallback;
}

int cmd_flag(const struct cmd_args *a, const char *name)
{
	return a->value[option_index(a, name)] != NULL;
}

size_t cmd_values(const struct cmd_args *a, const char *name, const char **out, size_t max)
{
	size_t k = option_index(a, name), n = 0;

	for (size_t i = 0; i < a->nrepeated; i++)
		if (a->repeated_opt[i] == k && n < max)
			out[n++] = a->repeated[i];
	return n;
}
