#include "grade/roster.h"
#include "lib/escape.h"
#include "lib/xalloc.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_FIELDS 16
/* How much of a bad learner id a problem quotes. */
#define QUOTE_MAX 80

/*
 * Split one CSV record starting at *pos into fields (new strings).  Handles
 * quoted fields with "" escapes and newlines inside quotes; *line counts the
 * lines consumed.  Returns the field count, or -1 for an unterminated quote.
 */
static int read_record(const char *text, size_t len, size_t *pos, int *line, char **fields)
{
	struct strbuf f = STRBUF_INIT;
	size_t i = *pos;
	int n = 0, quoted = 0, in_quotes = 0;

	for (;;) {
		int end_field = 0, end_record = 0;
		char c;

		if (i >= len) {
			if (in_quotes) {
				strbuf_release(&f);
				for (int k = 0; k < n; k++)
					free(fields[k]);
				*pos = len;
				return -1;
			}
			end_record = 1;
		} else {
			c = text[i++];
			if (in_quotes) {
				if (c == '"' && i < len && text[i] == '"') {
					strbuf_addch(&f, '"');
					i++;
				} else if (c == '"') {
					in_quotes = 0;
				} else {
					if (c == '\n')
						(*line)++;
					strbuf_addch(&f, c);
				}
				continue;
			}
			if (c == '"' && !f.len && !quoted) {
				in_quotes = quoted = 1;
				continue;
			}
			if (c == ',')
				end_field = 1;
			else if (c == '\n')
				end_record = 1;
			else if (c != '\r')
				strbuf_addch(&f, c);
		}
		if (end_field || end_record) {
			if (!quoted) {
				/* unquoted fields: surrounding spaces are not part of an id or a path */
				size_t a = 0;
				/* trailing first: a field of only spaces is then empty, and a stays 0 */
				strbuf_rtrim(&f);
				while (a < f.len && isspace((unsigned char)f.buf[a]))
					a++;
				if (a) {
					memmove(f.buf, f.buf + a, f.len - a + 1);
					f.len -= a;
				}
			}
			if (n < MAX_FIELDS)
				fields[n++] = strbuf_detach(&f, NULL);
			else
				strbuf_reset(&f);
			quoted = 0;
		}
		if (end_record)
			break;
	}
	strbuf_release(&f);
	(*line)++;
	*pos = i;
	return n;
}

/*
 * Append the learner text s for a problem: cut to QUOTE_MAX bytes and made
 * one inert line, since a quoted CSV field can hold newlines and escapes.
 */
static void add_quoted(struct strbuf *problems, const char *s)
{
	escape_term_bounded(problems, s, strlen(s), QUOTE_MAX, 0);
}

int roster_valid_id(const char *s)
{
	size_t n = strlen(s);

	if (!n || n > 64 || !isalnum((unsigned char)s[0]))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("._-", s[i]))
			return 0;
	return 1;
}

int roster_parse(const char *file, const char *text, size_t len, struct roster *r,
		 struct strbuf *problems)
{
	char *fields[MAX_FIELDS];
	size_t pos = 0, cap = 0;
	int line = 1, bad = 0, n, col_learner = -1, col_repo = -1, col_branch = -1;

	memset(r, 0, sizeof(*r));
	/* a UTF-8 byte order mark from a spreadsheet */
	if (len >= 3 && !memcmp(text, "\xEF\xBB\xBF", 3))
		pos = 3;
	n = read_record(text, len, &pos, &line, fields);
	for (int i = 0; i < n; i++) {
		for (char *c = fields[i]; *c; c++)
			*c = (char)tolower((unsigned char)*c);
		if (!strcmp(fields[i], "learner"))
			col_learner = i;
		else if (!strcmp(fields[i], "repo"))
			col_repo = i;
		else if (!strcmp(fields[i], "branch"))
			col_branch = i;
		free(fields[i]);
	}
	if (col_learner < 0 || col_repo < 0) {
		strbuf_addf(problems, "%s:1: the header must name the columns learner and repo (and optionally branch)\n", file);
		return -1;
	}
	while (pos < len) {
		int start = line;
		const char *learner, *repo, *branch;

		n = read_record(text, len, &pos, &line, fields);
		if (n < 0) {
			strbuf_addf(problems, "%s:%d: a quoted field is never closed\n", file, start);
			bad++;
			break;
		}
		learner = col_learner < n ? fields[col_learner] : "";
		repo = col_repo < n ? fields[col_repo] : "";
		branch = col_branch >= 0 && col_branch < n ? fields[col_branch] : "";
		if (n == 1 && !*fields[0]) {
			/* a blank line */
		} else if (!*learner || !*repo) {
			strbuf_addf(problems, "%s:%d: missing %s\n", file, start, !*learner ? "the learner" : "the repo");
			bad++;
		} else if (!roster_valid_id(learner)) {
			strbuf_addf(problems, "%s:%d: learner '", file, start);
			add_quoted(problems, learner);
			strbuf_addstr(problems, "' is not an id (letters, digits, '.', '_', '-', "
				      "starting with a letter or digit, at most 64)\n");
			bad++;
		} else {
			int dup = 0;
			for (size_t i = 0; i < r->n; i++)
				/* case-blind: Alice and alice would share a folder on some file systems */
				dup |= !strcasecmp(r->entries[i].learner, learner);
			if (dup) {
				strbuf_addf(problems, "%s:%d: learner '%s' is listed twice\n", file, start, learner);
				bad++;
			} else {
				struct roster_entry *e;
				if (r->n == cap)
					r->entries = xrealloc(r->entries, (cap = cap ? cap * 2 : 16) * sizeof(*e));
				e = &r->entries[r->n++];
				e->learner = xstrdup(learner);
				e->repo = xstrdup(repo);
				e->branch = *branch ? xstrdup(branch) : NULL;
				e->line = start;
			}
		}
		for (int i = 0; i < n; i++)
			free(fields[i]);
	}
	return bad;
}

void roster_release(struct roster *r)
{
	for (size_t i = 0; i < r->n; i++) {
		free(r->entries[i].learner);
		free(r->entries[i].repo);
		free(r->entries[i].branch);
	}
	free(r->entries);
	memset(r, 0, sizeof(*r));
}
