/*
 * The class roster: roster_parse() on any bytes (roster.h).
 *
 * What is checked: an unusable file (-1) keeps no entry and says why; else
 * the count of bad lines is the count of problem lines, one each, naming
 * the file; every entry kept has a valid learner id (it becomes a folder
 * name), a repository, a branch that is NULL or not empty, a line after the
 * header, in order; no two learners differ only in case.
 */
#include "fuzz.h"

#include "grade/roster.h"
#include "lib/strbuf.h"

#include <strings.h>

#define FILE_NAME "roster.csv"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct strbuf problems = STRBUF_INIT;
	struct roster r;
	size_t i, j, lines = 0;
	const char *p;
	int bad;

	bad = roster_parse(FILE_NAME, (const char *)data, size, &r, &problems);
	for (p = problems.buf; (p = strchr(p, '\n')); p++)
		lines++;
	if (bad < 0) {
		FUZZ_CHECK(bad == -1 && !r.n && !r.entries, "returned %d with %zu entries", bad, r.n);
		FUZZ_CHECK(lines == 1 && !strncmp(problems.buf, FILE_NAME ":1: ", strlen(FILE_NAME ":1: ")),
			   "an unusable roster is one problem on line 1: '%s'", problems.buf);
	} else {
		FUZZ_CHECK((size_t)bad == lines, "%d bad lines, %zu lines of problems: '%s'", bad, lines,
			   problems.buf);
		FUZZ_CHECK(!problems.len || problems.buf[problems.len - 1] == '\n', "problems end mid-line");
		for (p = problems.buf; *p; p = strchr(p, '\n') + 1)
			FUZZ_CHECK(!strncmp(p, FILE_NAME ":", strlen(FILE_NAME ":")),
				   "a problem that does not name the file: '%.80s'", p);
	}
	for (i = 0; i < r.n; i++) {
		const struct roster_entry *e = &r.entries[i];

		FUZZ_CHECK(roster_valid_id(e->learner), "entry %zu: learner '%s' is not an id", i, e->learner);
		FUZZ_CHECK(*e->repo, "entry %zu: no repo", i);
		FUZZ_CHECK(!e->branch || *e->branch, "entry %zu: an empty branch that is not NULL", i);
		FUZZ_CHECK(e->line >= 2 && (i == 0 || e->line > r.entries[i - 1].line), "entry %zu: line %d", i,
			   e->line);
		for (j = 0; j < i; j++)
			FUZZ_CHECK(strcasecmp(r.entries[j].learner, e->learner), "entries %zu and %zu: learner '%s' twice",
				   j, i, e->learner);
	}
	roster_release(&r);
	strbuf_release(&problems);
	return 0;
}
