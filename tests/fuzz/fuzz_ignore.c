/*
 * The .dockerignore matcher: ignore_parse() on any bytes, then
 * ignore_excluded() and ignore_deciding_pattern() on paths (ignore.h).
 *
 * The input is the file, up to its first NUL byte; what follows that NUL
 * is a list of extra paths, one per line.  The paths asked about are those,
 * a few that every check asks about, and each pattern's own line (without
 * a leading '!'), which makes the matcher's hard paths reachable.
 *
 * What is checked: a refusal says "line N: ..."; a rule set comes with no
 * message; the deciding pattern is the text of the line it names; no
 * deciding pattern means not excluded; and since paths are cleaned first,
 * "p" and "./p" are decided by the same pattern (and, for the fixed paths,
 * "p/" and "p//" too); and a folder said to be skippable whole holds no path
 * that is sent.
 */
#include "fuzz.h"

#include "lib/ignore.h"
#include "lib/strbuf.h"

/* A bound on the work per input: a path's cost is patterns x tokens x length. */
#define MAX_PATHS 16
#define MAX_PATH_LEN 256

static const char *const fixed_paths[] = {
	"node_modules", ".git", "tests", "src/app.js", "Dockerfile", ".dockerignore",
	"node_modules/x/index.js", "a/b/c", ".", "", "/", "..", "../x", "a\nb",
};

struct input {
	const char *text; /* the .dockerignore */
	size_t len;
	size_t nlines;
};

/* Line `line` (from 1) of the text, as parse() splits lines: [*start, *start + *n). */
static int line_at(const struct input *in, int line, const char **start, size_t *n)
{
	const char *s = in->text, *end = in->text + in->len, *nl;

	for (int i = 1; s < end; i++) {
		nl = memchr(s, '\n', (size_t)(end - s));
		if (i == line) {
			*start = s;
			*n = nl ? (size_t)(nl - s) : (size_t)(end - s);
			return 1;
		}
		if (!nl)
			break;
		s = nl + 1;
	}
	return 0;
}

/* A path already in clean form: no empty, "." or ".." part, no slash at either end. */
static int plain_path(const char *path)
{
	const char *s = path, *e;
	size_t n;

	if (!*path)
		return 0;
	for (;;) {
		e = strchr(s, '/');
		n = e ? (size_t)(e - s) : strlen(s);
		if (!n || (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
			return 0;
		if (!e)
			return 1;
		s = e + 1;
	}
}

/*
 * A folder the engine's walk skips whole (ignore_excludes_all_under) holds
 * nothing that is sent: it is excluded itself, and a path below it does not
 * reach the context (ignore_reaches), whatever the patterns say of the path
 * alone (`*` then `!**.js` skips src/ although src/app.js matches no
 * exclusion).  What reaches the context is never excluded.
 */
static void check_parents(struct ignore_rules *r, const char *path)
{
	char buf[MAX_PATH_LEN + 1];
	size_t k, n = strlen(path);

	if (n > MAX_PATH_LEN || !plain_path(path))
		return;
	if (ignore_reaches(r, path))
		FUZZ_CHECK(!ignore_excluded(r, path), "'%s' reaches the context, yet is excluded", path);
	memcpy(buf, path, n + 1);
	for (k = 1; k < n; k++) {
		if (path[k] != '/')
			continue;
		buf[k] = '\0';
		if (ignore_excludes_all_under(r, buf)) {
			FUZZ_CHECK(ignore_excluded(r, buf), "'%s' skippable yet not excluded", buf);
			FUZZ_CHECK(!ignore_reaches(r, path), "'%s' is sent, yet '%s' was skipped", path, buf);
		}
		buf[k] = '/';
	}
}

static void check_path(const struct input *in, struct ignore_rules *r, const char *path, int all_forms)
{
	static const char *const forms[] = { "./%s", "%s/", "%s//" };
	const char *pat, *alt, *start;
	char buf[MAX_PATH_LEN + 8];
	int line = -1, alt_line = -1, ex;
	size_t n;

	ex = ignore_excluded(r, path);
	pat = ignore_deciding_pattern(r, path, &line);
	check_parents(r, path);
	FUZZ_CHECK(ex == 0 || ex == 1, "ignore_excluded returned %d", ex);
	if (!pat) {
		FUZZ_CHECK(!ex && line == 0, "'%s' excluded (%d) by no pattern, line %d", path, ex, line);
	} else {
		FUZZ_CHECK(line >= 1 && (size_t)line <= in->nlines, "line %d of %zu", line, in->nlines);
		FUZZ_CHECK(line_at(in, line, &start, &n) && memmem(start, n, pat, strlen(pat)),
			   "the deciding pattern '%s' is not on line %d", pat, line);
	}
	if (!*path || *path == '/' || strlen(path) > MAX_PATH_LEN)
		return;
	for (size_t i = 0; i < (all_forms ? sizeof(forms) / sizeof(forms[0]) : 1); i++) {
		snprintf(buf, sizeof(buf), forms[i], path);
		alt = ignore_deciding_pattern(r, buf, &alt_line);
		FUZZ_CHECK(alt == pat && alt_line == line && ignore_excluded(r, buf) == ex,
			   "'%s' is decided by line %d, '%s' by line %d", path, line, buf, alt_line);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct strbuf err = STRBUF_INIT;
	struct ignore_rules *r;
	struct input in;
	const char *nul = memchr(data, '\0', size), *s, *end, *nl;
	char *copy = fuzz_string(data, size), *p, *q;
	size_t npaths = 0, i;

	in.text = (const char *)data;
	in.len = nul ? (size_t)(nul - (const char *)data) : size;
	in.nlines = 0;
	for (s = in.text, end = in.text + in.len; s < end; s = nl + 1) {
		in.nlines++;
		if (!(nl = memchr(s, '\n', (size_t)(end - s))))
			break;
	}

	r = ignore_parse(in.len ? in.text : NULL, in.len, &err);
	if (!r) {
		FUZZ_CHECK(!strncmp(err.buf, "line ", 5), "refused with '%s'", err.buf);
		goto out;
	}
	FUZZ_CHECK(err.len == 0, "parsed, yet with a message: '%s'", err.buf);
	FUZZ_CHECK(ignore_count(r) <= in.nlines, "%zu patterns in %zu lines", ignore_count(r), in.nlines);
	FUZZ_CHECK(!ignore_excluded(NULL, "node_modules"), "no rules exclude something");

	for (i = 0; i < sizeof(fixed_paths) / sizeof(fixed_paths[0]); i++)
		check_path(&in, r, fixed_paths[i], 1);
	/* each line of the file, and each line after the NUL (copy has them NUL-split) */
	for (p = copy; p < copy + size && npaths < MAX_PATHS; p = q + 1, npaths++) {
		q = p + strcspn(p, "\n");
		*q = '\0';
		if (strlen(p) > MAX_PATH_LEN)
			continue;
		check_path(&in, r, *p == '!' ? p + 1 : p, 0);
	}
out:
	ignore_free(r);
	strbuf_release(&err);
	free(copy);
	return 0;
}
