/*
 * The commands (runner/cmd/cmd.c): every entry of cmd_table complete and
 * unique, one parser read from a declaration (a row per command line: the
 * status, the values, the message), the help made from the same
 * declaration, and README.md showing `phaselab --help` as it is.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "lib/fsutil.h"
#include "lib/strbuf.h"

static void test_table(void **state)
{
	(void)state;
	for (const struct cmd_entry *const *c = cmd_table; *c; c++) {
		const struct cmd_entry *e = *c;
		size_t n = 0;

		assert_non_null(e->name);
		if (!e->summary || !e->exit_status || !e->exec || !e->about)
			fail_msg("%s: summary, about, exit_status and exec are required", e->name);
		if ((e->args != NULL) != (e->max_args > 0) || e->max_args > CMD_MAX_ARGS)
			fail_msg("%s: args and max_args disagree", e->name);
		for (const struct cmd_entry *const *d = cmd_table; d < c; d++)
			if (!strcmp((*d)->name, e->name))
				fail_msg("%s: listed twice", e->name);
		assert_ptr_equal(cmd_find(e->name), e);
		for (const struct cmd_option *o = e->options; o && o->name; o++, n++) {
			if (!o->doc || !strcmp(o->name, "help") || o->short_name == 'h')
				fail_msg("%s --%s: no doc, or it takes --help/-h", e->name, o->name);
			if ((o->choice || o->fallback) && !o->arg)
				fail_msg("%s --%s: a flag with values", e->name, o->name);
			for (const struct cmd_option *p = e->options; p < o; p++)
				if (!strcmp(p->name, o->name) || (o->short_name && p->short_name == o->short_name))
					fail_msg("%s --%s: declared twice", e->name, o->name);
		}
		if (n > CMD_MAX_OPTIONS)
			fail_msg("%s: %zu options, more than CMD_MAX_OPTIONS", e->name, n);
	}
}

/* ---- the parser, on a command declared here ------------------------------ */

static int exec_nothing(const struct cmd_args *a)
{
	(void)a;
	return 0;
}

static const char *pick(size_t i, const char **about)
{
	static const char *const names[] = { "red", "green", NULL };

	if (about)
		*about = NULL;
	return i < 2 ? names[i] : NULL;
}

static const struct cmd_option opts[] = {
	{ .name = "phase", .short_name = 'p', .arg = "ID", .required = 1, .doc = "the phase" },
	{ .name = "out", .short_name = 'o', .arg = "DIR", .required = 1, .doc = "where" },
	{ .name = "format", .short_name = 'f', .arg = "FORMAT", .fallback = "red", .doc = "colour", .choice = pick },
	{ .name = "force", .doc = "again" },
	{ .name = "late", .short_name = 'l', .doc = "late" },
	{ NULL },
};

static const struct cmd_entry probe = {
	.name = "probe", .args = "[A] [B]", .max_args = 2, .summary = "s", .about = "a",
	.options = opts, .exit_status = "0", .exec = exec_nothing,
};

struct parse_row {
	const char *argv;     /* split at spaces */
	int rc;
	const char *want;     /* "phase=3 out=o format=red force late args=A,B" ("-" for unset) */
	const char *message;  /* in standard error */
};

static const struct parse_row parse_rows[] = {
	{ "-p 3 -o o", 0, "phase=3 out=o format=red force=- late=- args=", NULL },
	{ "--phase 3 --out o X Y", 0, "phase=3 out=o format=red force=- late=- args=X,Y", NULL },
	{ "X --phase=3 Y --out=o --format green", 0, "phase=3 out=o format=green force=- late=- args=X,Y", NULL },
	{ "-p3 -oo -lf green", 0, "phase=3 out=o format=green force=- late= args=", NULL },
	{ "--ph 3 --ou o --form green --fu", 2, NULL, "probe: unknown option '--fu'" },
	{ "--ph 3 --ou o --la --forc", 0, "phase=3 out=o format=red force= late= args=", NULL },
	{ "--phase 3 --out o -- --late", 0, "phase=3 out=o format=red force=- late=- args=--late", NULL },
	{ "--phase 3 --out o -", 0, "phase=3 out=o format=red force=- late=- args=-", NULL },
	{ "--phase 3 --out o --phase 4", 0, "phase=4 out=o format=red force=- late=- args=", NULL },
	/* errors: exit 2, naming the option */
	{ "--bogus", 2, NULL, "phaselab: probe: unknown option '--bogus'\nusage: phaselab probe --phase ID" },
	{ "-p 3 -x", 2, NULL, "probe: unknown option '-x'" },
	{ "--phase", 2, NULL, "probe: option '--phase' needs a value" },
	{ "-o o -p", 2, NULL, "probe: option '-p' needs a value" },
	{ "--ph", 2, NULL, "probe: option '--phase' needs a value" },
	{ "--f 1", 2, NULL, "probe: option '--f' is ambiguous" },
	{ "--late=yes", 2, NULL, "probe: option '--late' takes no value" },
	{ "--out o", 2, NULL, "probe: --phase is required" },
	{ "--force", 2, NULL, "probe: --phase and --out are required" },
	{ "-p 3 -o o --format blue", 2, NULL, "probe: unknown format 'blue' (red, green)" },
	{ "-p 3 -o o A B C", 2, NULL, "probe: unexpected argument 'C'" },
	{ "--bogus --help", 2, NULL, "unknown option '--bogus'" },
	/* help: CMD_HELP, whatever is missing */
	{ "--help", CMD_HELP, NULL, NULL },
	{ "-h", CMD_HELP, NULL, NULL },
	{ "--he", CMD_HELP, NULL, NULL },
};

/* Run cmd_parse of e on a command line; standard error and output into err and out. */
static int parse_with(const struct cmd_entry *e, const char *line, struct cmd_args *a, struct strbuf *err,
		      struct strbuf *out)
{
	char *copy = strdup(line), *argv[16] = { (char *)e->name }, *save = NULL;
	int argc = 1, rc, saved_err = dup(2), saved_out = dup(1);
	FILE *ef = tmpfile(), *of = tmpfile();

	for (char *t = strtok_r(copy, " ", &save); t; t = strtok_r(NULL, " ", &save))
		argv[argc++] = t;
	fflush(stderr);
	fflush(stdout);
	dup2(fileno(ef), 2);
	dup2(fileno(of), 1);
	rc = cmd_parse(e, argc, argv, a);
	fflush(stderr);
	fflush(stdout);
	dup2(saved_err, 2);
	dup2(saved_out, 1);
	close(saved_err);
	close(saved_out);
	for (FILE *f = ef; f; f = f == ef ? of : NULL) {
		char buf[4096];
		size_t n;

		rewind(f);
		while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
			strbuf_add(f == ef ? err : out, buf, n);
		fclose(f);
	}
	/* the values point into copy: the caller's row only compares them before the next parse */
	static char *keep;
	free(keep);
	keep = copy;
	return rc;
}

static int parse(const char *line, struct cmd_args *a, struct strbuf *err, struct strbuf *out)
{
	return parse_with(&probe, line, a, err, out);
}

/* The real commands' options for tracks: init --track NAME [DIR], and --phase TRACK/PHASE as one value. */
static void test_track_options(void **state)
{
	static const struct {
		const struct cmd_entry *e;
		const char *argv;
		int rc;
		const char *option, *value, *arg; /* value NULL: not given; arg NULL: none */
	} rows[] = {
		{ &cmd_init_entry, "", 0, "track", NULL, NULL },
		{ &cmd_init_entry, "ws", 0, "track", NULL, "ws" },
		{ &cmd_init_entry, "--track backend ws", 0, "track", "backend", "ws" },
		{ &cmd_init_entry, "ws -t backend", 0, "track", "backend", "ws" },
		{ &cmd_init_entry, "--tr=backend", 0, "track", "backend", NULL },
		{ &cmd_init_entry, "--track", 2, NULL, NULL, NULL },
		{ &cmd_init_entry, "--track backend a b", 2, NULL, NULL, NULL },
		{ &cmd_check_entry, "--phase backend/10 --dir d", 0, "phase", "backend/10", NULL },
		{ &cmd_grade_entry, "-p backend/orch --roster r --out o", 0, "phase", "backend/orch", NULL },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct strbuf err = STRBUF_INIT, out = STRBUF_INIT;
		struct cmd_args a;
		int rc = parse_with(rows[i].e, rows[i].argv, &a, &err, &out);

		if (rc != rows[i].rc)
			fail_msg("%s '%s': %d, want %d (%s)", rows[i].e->name, rows[i].argv, rc, rows[i].rc, err.buf);
		if (rc == 0) {
			const char *v = cmd_value(&a, rows[i].option);
			if (rows[i].value ? !v || strcmp(v, rows[i].value) : v != NULL)
				fail_msg("%s '%s': --%s is '%s'", rows[i].e->name, rows[i].argv, rows[i].option,
					 v ? v : "(unset)");
			assert_int_equal(a.nargs, rows[i].arg ? 1 : 0);
			if (rows[i].arg)
				assert_string_equal(a.arg[0], rows[i].arg);
		}
		strbuf_release(&err);
		strbuf_release(&out);
	}
}

static void test_parse(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(parse_rows) / sizeof(parse_rows[0]); i++) {
		const struct parse_row *t = &parse_rows[i];
		struct strbuf err = STRBUF_INIT, out = STRBUF_INIT, got = STRBUF_INIT;
		struct cmd_args a;
		int rc = parse(t->argv, &a, &err, &out);

		if (rc != t->rc)
			fail_msg("'%s': %d, want %d (%s)", t->argv, rc, t->rc, err.buf);
		if (t->message && !strstr(err.buf, t->message))
			fail_msg("'%s': said '%s', want '%s'", t->argv, err.buf, t->message);
		if (rc == CMD_HELP && !strstr(out.buf, "usage: phaselab probe --phase ID --out DIR"))
			fail_msg("'%s': no help on standard output: '%s'", t->argv, out.buf);
		if (t->want) {
			static const char *const names[] = { "phase", "out", "format", "force", "late" };

			for (size_t k = 0; k < 5; k++) {
				const char *v = cmd_value(&a, names[k]);
				strbuf_addf(&got, "%s=%s ", names[k], v ? v : "-");
			}
			strbuf_addstr(&got, "args=");
			for (size_t k = 0; k < a.nargs; k++)
				strbuf_addf(&got, "%s%s", k ? "," : "", a.arg[k]);
			if (strcmp(got.buf, t->want))
				fail_msg("'%s': %s, want %s", t->argv, got.buf, t->want);
		}
		strbuf_release(&err);
		strbuf_release(&out);
		strbuf_release(&got);
	}
}

/* The help, made from the declaration: every option once, the defaults and the values. */
static void test_help(void **state)
{
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	cmd_help(&sb, &probe);
	assert_non_null(strstr(sb.buf, "usage: phaselab probe --phase ID --out DIR [--format FORMAT] [--force] "
				       "[--late]\n                      [A] [B]\n"));
	assert_non_null(strstr(sb.buf, "  -f, --format FORMAT  colour: red, green (default: red)\n"));
	assert_non_null(strstr(sb.buf, "      --force          again\n"));
	assert_non_null(strstr(sb.buf, "  -h, --help           print this help\n"));
	assert_non_null(strstr(sb.buf, "\nexit status: 0\n"));
	strbuf_reset(&sb);
	/* the real --format lists every report format (the text wrapped: compared as words) */
	cmd_help(&sb, &cmd_check_entry);
	for (const char *line = sb.buf; *line; line = strchr(line, '\n') + 1)
		if (strcspn(line, "\n") > 79)
			fail_msg("a help line over 79 columns: %.*s", (int)strcspn(line, "\n"), line);
	for (char *p = sb.buf, *q = sb.buf;; p++) {
		if (*p == '\n' || (*p == ' ' && q > sb.buf && q[-1] == ' '))
			*p = ' ';
		if (*p == ' ' && q > sb.buf && q[-1] == ' ')
			continue;
		if (!(*q++ = *p))
			break;
	}
	assert_non_null(strstr(sb.buf, "the report's format: text, json (schema phaselab.report/v1), junit (one "
				       "test case per item), markdown (for a CI step summary or a pull-request "
				       "comment), gradescope (Gradescope's results.json), html (one self-contained "
				       "page) (default: text)"));
	strbuf_release(&sb);
}

/* README.md shows `phaselab --help` as the program prints it. */
static void test_readme(void **state)
{
	struct strbuf help = STRBUF_INIT, readme = STRBUF_INIT;

	(void)state;
	cmd_help_all(&help);
	if (read_file_nofollow("README.md", 1 << 20, &readme) < 0)
		fail_msg("cannot read README.md (run from the top folder)");
	if (!strstr(readme.buf, help.buf))
		fail_msg("README.md does not show `phaselab --help` as it is; it prints:\n%s", help.buf);
	strbuf_release(&help);
	strbuf_release(&readme);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_help),
		cmocka_unit_test(test_readme),
		cmocka_unit_test(test_track_options),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
