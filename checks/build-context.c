/*
 * build-context: the ignore file keeps out of the build context what must
 * stay out, judged on what the service folder actually holds.  The file is
 * the one the engine in use reads: podman reads .containerignore when there
 * is one, else .dockerignore; docker reads only .dockerignore.  It is read
 * with the engine's own matching rules (ignore.h, in the flavour of the
 * engine's matcher) and each path is decided the way the engine's walk
 * decides it: not a search for lines.  An ignore file that is a symbolic
 * link is not followed (the engine does not follow it either).
 *
 * What must stay out, when it is there (a learner is never judged on a
 * folder they do not have):
 *
 *  - the service's own tests, whatever they are called.  The rule: a folder
 *    named test, tests, __tests__ or __test__ anywhere in the context; a
 *    folder named spec, specs or e2e that holds a test file; and, outside
 *    those, any file named like a test: NAME.test.EXT or NAME.spec.EXT with
 *    EXT one of JavaScript's or TypeScript's (js mjs cjs jsx ts mts cts
 *    tsx).  node_modules and .git are not searched;
 *  - node_modules and .git, at the root;
 *  - each path of the phase's must_exclude list (node_modules, .git, tests
 *    in phase 3) that exists.
 *
 * A folder is left out when no file under it reaches the context (a later
 * `!` line may bring one back); each path is reported as sent or left out,
 * in the evidence ("decisions") and the message.
 */
#include "core/check.h"
#include "lib/ignore.h"
#include "lib/xalloc.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

static const struct key_spec params[] = {
	{ "must_exclude", KEY_STRINGS, 1, 1, 64, "context-relative paths that must not reach the engine, when they exist", NULL },
	{ NULL, 0, 0, 0, 0, NULL, NULL },
};

#define FOUND_MAX 20          /* paths judged, at most */
#define WALK_MAX 100000       /* folder entries looked at, at most */

enum what { WHAT_TESTS, WHAT_DEPENDENCIES, WHAT_GIT, WHAT_REQUIRED };
static const char *const what_names[] = { "tests", "dependencies", "git history", "required by the lesson" };

struct item {
	char *path;       /* context-relative */
	int is_dir;
	enum what what;
	int sent;
	char *first_sent; /* for a folder: a file under it that is sent */
	const char *pattern;
	int line;
};

struct found {
	struct item v[FOUND_MAX];
	size_t n;
	size_t walked;
};

/* A file named like a test: NAME.test.EXT or NAME.spec.EXT, EXT JavaScript's or TypeScript's. */
static int test_file_name(const char *name)
{
	static const char *const exts[] = { "js", "mjs", "cjs", "jsx", "ts", "mts", "cts", "tsx", NULL };
	const char *dot = strrchr(name, '.');

	if (!dot || dot == name)
		return 0;
	for (const char *const *e = exts; *e; e++) {
		size_t stem = (size_t)(dot - name);

		/* "app.test" before ".js": a name, then .test or .spec */
		if (!strcmp(dot + 1, *e) && stem > 5 &&
		    (!strncmp(dot - 5, ".test", 5) || !strncmp(dot - 5, ".spec", 5)))
			return 1;
	}
	return 0;
}

static int test_dir_name(const char *name)
{
	return !strcmp(name, "test") || !strcmp(name, "tests") || !strcmp(name, "__tests__") ||
	       !strcmp(name, "__test__");
}

static int maybe_test_dir_name(const char *name)
{
	return !strcmp(name, "spec") || !strcmp(name, "specs") || !strcmp(name, "e2e");
}

static char *join(const char *a, const char *b)
{
	return *a ? xasprintf("%s/%s", a, b) : xstrdup(b);
}

/* Does the folder rel (under root) hold a test-named file, at any depth? */
static int holds_test_file(const char *root, const char *rel, int depth)
{
	char *path = join(root, rel);
	DIR *d = opendir(path);
	struct dirent *de;
	int yes = 0;

	while (d && !yes && depth < 16 && (de = readdir(d))) {
		char *child, *full;
		struct stat sb;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		child = join(rel, de->d_name);
		full = join(root, child);
		if (lstat(full, &sb) == 0) {
			if (S_ISDIR(sb.st_mode))
				yes = holds_test_file(root, child, depth + 1);
			else if (S_ISREG(sb.st_mode))
				yes = test_file_name(de->d_name);
		}
		free(full);
		free(child);
	}
	if (d)
		closedir(d);
	free(path);
	return yes;
}

static void add_item(struct found *f, const char *path, int is_dir, enum what what)
{
	for (size_t i = 0; i < f->n; i++)
		if (!strcmp(f->v[i].path, path))
			return;
	if (f->n >= FOUND_MAX)
		return;
	f->v[f->n].path = xstrdup(path);
	f->v[f->n].is_dir = is_dir;
	f->v[f->n].what = what;
	f->n++;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Find the tests under rel (never inside node_modules or .git, never through a link). */
static void find_tests(struct found *f, const char *root, const char *rel, int depth)
{
	char *path = join(root, rel);
	DIR *d = opendir(path);
	struct dirent *de;
	char **names = NULL;
	size_t n = 0;

	/* in name order, so that runs are repeatable */
	while (d && (de = readdir(d)) && f->walked++ < WALK_MAX) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") || !strcmp(de->d_name, "node_modules") ||
		    !strcmp(de->d_name, ".git"))
			continue;
		names = xrealloc(names, (n + 1) * sizeof(*names));
		names[n++] = xstrdup(de->d_name);
	}
	if (d)
		closedir(d);
	free(path);
	qsort(names, n, sizeof(*names), by_name);
	for (size_t i = 0; i < n; i++) {
		char *child = join(rel, names[i]), *full = join(root, child);
		struct stat sb;

		if (lstat(full, &sb) == 0) {
			if (S_ISDIR(sb.st_mode)) {
				if (test_dir_name(names[i]) || (maybe_test_dir_name(names[i]) && holds_test_file(root, child, 0)))
					add_item(f, child, 1, WHAT_TESTS);
				else if (depth < 16)
					find_tests(f, root, child, depth + 1);
			} else if (S_ISREG(sb.st_mode) && test_file_name(names[i])) {
				add_item(f, child, 0, WHAT_TESTS);
			}
		}
		free(full);
		free(child);
		free(names[i]);
	}
	free(names);
}

/* The first file under the folder rel that reaches the context (new string), or NULL. */
static char *first_sent(const struct ignore_rules *rules, const char *root, const char *rel, size_t *walked)
{
	char *path, *found = NULL;
	DIR *d;
	struct dirent *de;

	if (ignore_excludes_all_under(rules, rel))
		return NULL;
	path = join(root, rel);
	d = opendir(path);
	while (d && !found && (de = readdir(d)) && (*walked)++ < WALK_MAX) {
		char *child, *full;
		struct stat sb;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		child = join(rel, de->d_name);
		full = join(root, child);
		if (lstat(full, &sb) == 0 && S_ISDIR(sb.st_mode))
			found = first_sent(rules, root, child, walked);
		else if (!ignore_excluded(rules, child))
			found = xstrdup(child);
		free(full);
		free(child);
	}
	if (d)
		closedir(d);
	free(path);
	return found;
}

/* Does the engine's walk skip a folder above path (so that nothing of it is sent)? */
static int parent_skipped(const struct ignore_rules *rules, const char *path)
{
	char *p = xstrdup(path), *slash;
	int skipped = 0;

	for (slash = strchr(p, '/'); slash && !skipped; slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		skipped = ignore_excludes_all_under(rules, p);
		*slash = '/';
	}
	free(p);
	return skipped;
}

/* Decide each item: sent or left out, and the pattern that decided it. */
static void judge(struct found *f, const struct ignore_rules *rules, const char *root)
{
	for (size_t i = 0; i < f->n; i++) {
		struct item *it = &f->v[i];

		it->pattern = ignore_deciding_pattern(rules, it->path, &it->line);
		if (parent_skipped(rules, it->path)) {
			it->sent = 0;
		} else if (it->is_dir) {
			/* a folder is sent when a file under it is */
			it->first_sent = first_sent(rules, root, it->path, &f->walked);
			it->sent = it->first_sent != NULL;
			/* a folder left out whose file a `!` line brings back: that line is why it is sent */
			if (it->sent) {
				int line;
				const char *why = ignore_deciding_pattern(rules, it->first_sent, &line);

				if (why && why[0] == '!') {
					it->pattern = why;
					it->line = line;
				}
			}
		} else {
			it->sent = !ignore_excluded(rules, it->path);
		}
	}
}

/*
 * The .dockerignore line that leaves the item out (new string): a folder at
 * the root by its name, a deeper one by "**" and its name, a test file by
 * its kind ("**" then "*.test.js"), anything else by its path.
 */
static char *line_for(const struct item *it)
{
	const char *base = strrchr(it->path, '/');
	const char *name = base ? base + 1 : it->path;
	const char *mark = strstr(name, ".test.") ? strstr(name, ".test.") : strstr(name, ".spec.");

	if (it->is_dir)
		return base ? xasprintf("**/%s", name) : xstrdup(it->path);
	if (it->what == WHAT_TESTS && mark)
		return xasprintf("**/*%s", mark);
	return xstrdup(it->path);
}

/* A file that looks like a misnamed ignore file, for the hint. */
static char *near_miss(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char *found = NULL;

	while (d && (de = readdir(d)) && !found)
		if (strcmp(de->d_name, ".dockerignore") && strcmp(de->d_name, ".containerignore") &&
		    (strcasestr(de->d_name, "dockerignore") || strcasestr(de->d_name, "containerignore")))
			found = xstrdup(de->d_name);
	if (d)
		closedir(d);
	return found;
}

static int exists(const char *dir, const char *name)
{
	char *full = xasprintf("%s/%s", dir, name);
	struct stat sb;
	int yes = lstat(full, &sb) == 0;

	free(full);
	return yes;
}

static const char *cause_of(const struct item *it)
{
	if (it->pattern && it->pattern[0] == '!')
		return "re-included";
	switch (it->what) {
	case WHAT_DEPENDENCIES: return "dependencies-sent";
	case WHAT_GIT: return "git-sent";
	case WHAT_TESTS: return "tests-sent";
	default: return "required-sent";
	}
}

static void run(struct check_ctx *ctx, const struct check_def *def, struct check_result *res)
{
	json_t *must = json_object_get(def->params, "must_exclude"), *v, *decided = json_array(), *absent = json_array();
	struct ignore_rules *rules = NULL;
	struct strbuf err = STRBUF_INIT, sent = STRBUF_INIT, out = STRBUF_INIT, missing = STRBUF_INIT;
	struct strbuf lines = STRBUF_INIT; /* the lines to add, one a line, indented as a hint's code block */
	struct found f = { 0 };
	const struct item *worst = NULL;
	size_t i, nsent = 0;
	int podman = ctx->engine && ctx->engine->kind && !strcmp(ctx->engine->kind, "podman");
	/* podman: .containerignore wins when it exists (even when it cannot be read: podman tries it) */
	const char *file = ignore_engine_file(ctx->dir, ctx->engine ? ctx->engine->kind : NULL);
	/* a file that is there and that this engine does not read */
	const char *unread = podman ? (!strcmp(file, ".containerignore") && exists(ctx->dir, ".dockerignore") ?
				       ".dockerignore" : NULL) :
				      (exists(ctx->dir, ".containerignore") ? ".containerignore" : NULL);
	/* what the message says of the file that is not read */
	const char *note = !unread ? "" : podman ? "; podman reads it, not .dockerignore" :
				 "; docker ignores .containerignore";
	enum ignore_flavour fl = ctx->engine ? ignore_engine_flavour(ctx->engine->kind, ctx->engine->client_version) :
					       IGNORE_PATTERNMATCHER;
	int rc = ignore_load_file(ctx->dir, file, fl, &rules, &err);

	result_evidence(res, "engine", json_string(podman ? "podman" : "docker"));
	result_evidence(res, "matcher", json_string(fl == IGNORE_FILEUTILS ? "fileutils" : "patternmatcher"));
	if (unread)
		result_evidence(res, "not_read", json_string(unread));
	if (rc < 0) {
		result_cause(res, "unreadable");
		result_evidence(res, "file", json_string(file));
		result_set(res, CHECK_FAIL, "%s", err.buf);
		result_hint(res, "make %s a regular file in the service folder, beside the Dockerfile", file);
		goto out;
	}
	if (rc > 0)
		result_evidence(res, "file", json_string(file));

	/* what is there to keep out: the literal list first (its order), then what the folder holds */
	json_array_foreach(must, i, v) {
		const char *path = json_string_value(v);
		char *full = xasprintf("%s/%s", ctx->dir, path);
		struct stat sb;

		if (lstat(full, &sb) == 0)
			add_item(&f, path, S_ISDIR(sb.st_mode),
				 /* a virtual environment is Python's node_modules: installed packages, of this machine */
				 !strcmp(path, "node_modules") || !strcmp(path, ".venv") || !strcmp(path, "venv") ?
				 WHAT_DEPENDENCIES :
				 !strcmp(path, ".git") ? WHAT_GIT : test_dir_name(path) ? WHAT_TESTS : WHAT_REQUIRED);
		else
			json_array_append_new(absent, json_string(path));
		free(full);
	}
	{
		static const struct { const char *path; enum what what; } always[] = {
			{ "node_modules", WHAT_DEPENDENCIES }, { ".git", WHAT_GIT },
		};
		for (i = 0; i < ARRAY_SIZE(always); i++) {
			char *full = xasprintf("%s/%s", ctx->dir, always[i].path);
			struct stat sb;

			if (lstat(full, &sb) == 0)
				add_item(&f, always[i].path, S_ISDIR(sb.st_mode), always[i].what);
			free(full);
		}
	}
	find_tests(&f, ctx->dir, "", 0);
	judge(&f, rules, ctx->dir);

	for (i = 0; i < f.n; i++) {
		const struct item *it = &f.v[i];
		char *line = line_for(it);

		json_array_append_new(decided, json_pack("{s:s, s:s, s:b, s:b, s:s?, s:s?, s:i}", "path", it->path,
							 "what", what_names[it->what], "folder", it->is_dir,
							 "excluded", !it->sent, "first_sent", it->first_sent,
							 "pattern", it->pattern, "line", it->line));
		if (it->sent) {
			strbuf_addf(&sent, "%s%s%s (%s", nsent ? ", " : "", it->path, it->is_dir ? "/" : "",
				    what_names[it->what]);
			if (it->pattern && it->pattern[0] == '!')
				strbuf_addf(&sent, "; brought back by '%s' on line %d", it->pattern, it->line);
			strbuf_addch(&sent, ')');
			strbuf_addf(&missing, "%s%s", missing.len ? ", " : "", line);
			strbuf_addf(&lines, "%s%s", lines.len ? "\n    " : "", line);
			/* the cause: a `!` line first, then what weighs most */
			if (!worst || (!strcmp(cause_of(it), "re-included") && strcmp(cause_of(worst), "re-included")))
				worst = it;
			nsent++;
		} else {
			strbuf_addf(&out, "%s%s%s", out.len ? ", " : "", it->path, it->is_dir ? "/" : "");
		}
		free(line);
	}
	result_evidence(res, "patterns", json_integer((json_int_t)ignore_count(rules)));
	result_evidence(res, "not_in_folder", json_incref(absent));

	if (rc == 0) {
		/* on docker, a lone .containerignore is podman's name: the near miss that matters most */
		char *miss = unread ? xstrdup(unread) : near_miss(ctx->dir);

		if (!nsent) {
			if (unread)
				result_set(res, CHECK_PASS, "no .dockerignore (docker ignores .containerignore, which only "
					   "podman reads), but the folder holds nothing that must stay out (no tests, "
					   "node_modules or .git)");
			else
				result_set(res, CHECK_PASS, "no %s, but the folder holds nothing that must stay out "
					   "(no tests, node_modules or .git)", file);
			free(miss);
			goto out;
		}
		if (unread) {
			result_cause(res, "misnamed");
			result_evidence(res, "file", json_string(unread));
			result_hint(res, "docker reads only `.dockerignore`; `.containerignore` is podman's name, which "
				    "docker ignores: rename it to `.dockerignore` (podman reads that one too)");
		} else if (miss) {
			result_cause(res, "misnamed");
			result_evidence(res, "file", json_string(miss));
			result_hint(res, "there is a file named '%s': the engine reads only `.dockerignore`, with the dot, "
				    "beside the Dockerfile", miss);
		} else {
			result_cause(res, "no-dockerignore");
			result_hint(res, "every build sends the whole folder; a .dockerignore beside the Dockerfile, one "
				    "pattern per line, keeps out what the image does not need");
		}
		result_evidence(res, "path", json_string(worst->path));
		result_evidence(res, "corrected", json_string(lines.buf));
		if (unread)
			result_set(res, CHECK_FAIL, "no .dockerignore in the service folder, and docker ignores "
				   ".containerignore: every build sends all of it, including %s", sent.buf);
		else
			result_set(res, CHECK_FAIL, "no .dockerignore in the service folder: every build sends all of it, "
				   "including %s", sent.buf);
		free(miss);
		goto out;
	}
	if (nsent) {
		result_cause(res, cause_of(worst));
		result_evidence(res, "path", json_string(worst->path));
		result_evidence(res, "corrected", json_string(lines.buf));
		if (worst->pattern && worst->pattern[0] == '!') {
			result_evidence(res, "line", json_string(worst->pattern));
			result_evidence(res, "line_number", json_integer(worst->line));
		}
		result_set(res, CHECK_FAIL, "%s (%zu patterns%s) still sends %s to the engine%s%s", file,
			   ignore_count(rules), note, sent.buf,
			   out.len ? "; it leaves out " : "", out.buf);
		if (worst->pattern && worst->pattern[0] == '!')
			result_hint(res, "line %d, '%s', brings back what an earlier line left out: a later `!` line "
				    "wins", worst->line, worst->pattern);
		else
			result_hint(res, "a line per path keeps it out (a folder's name covers everything under it): "
				    "missing here: %s", missing.buf);
	} else if (f.n) {
		struct strbuf not_there = STRBUF_INIT;

		json_array_foreach(absent, i, v)
			strbuf_addf(&not_there, "%s%s", i ? ", " : "", json_string_value(v));
		result_set(res, CHECK_PASS, "%s (%zu patterns%s) leaves out %s%s%s", file, ignore_count(rules),
			   note, out.buf,
			   not_there.len ? "; not in the folder, so not judged: " : "", not_there.buf);
		strbuf_release(&not_there);
	} else {
		result_set(res, CHECK_PASS, "%s (%zu patterns%s); the folder holds no tests, node_modules or "
			   ".git to leave out", file, ignore_count(rules),
			   note);
	}
out:
	result_evidence(res, "decisions", decided);
	json_decref(absent);
	for (i = 0; i < f.n; i++) {
		free(f.v[i].path);
		free(f.v[i].first_sent);
	}
	ignore_free(rules);
	strbuf_release(&err);
	strbuf_release(&sent);
	strbuf_release(&out);
	strbuf_release(&missing);
	strbuf_release(&lines);
}

static const char *const causes[] = {
	"no-dockerignore", /* path (the first sent), corrected (the lines to add) */
	"misnamed",        /* file: the near miss's name (on docker, a lone .containerignore) */
	"unreadable",      /* a link, not a regular file, or a pattern the engine refuses */
	"re-included",     /* line, line_number: the `!` line; path */
	"dependencies-sent",
	"git-sent",
	"tests-sent",      /* path, corrected */
	"required-sent",   /* a path of must_exclude that is none of the above */
	NULL,
};

const struct check_kind check_build_context = {
	.name = "build-context",
	.summary = "the ignore file the engine reads excludes what must not reach it",
	.needs = NEED_NOTHING,
	.params = params,
	.causes = causes,
	.run = run,
};
