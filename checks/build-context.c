/*
 * build-context: .dockerignore keeps out of the build context what must
 * stay out.  The file is read with the engine's own matching rules
 * (ignore.h) and each required path is decided the way the engine would
 * decide it: not a search for lines.  A .dockerignore that is a symbolic
 * link is not followed (the engine does not follow it either).
 */
#include "core/check.h"
#include "lib/ignore.h"
#include "lib/xalloc.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const struct key_spec params[] = {
	{ "must_exclude", KEY_STRINGS, 1, 1, 64, "context-relative paths that must not reach the engine", NULL },
	{ NULL, 0, 0, 0, 0, NULL, NULL },
};

/* A file that looks like a misnamed .dockerignore, for the hint. */
static char *near_miss(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char *found = NULL;

	while (d && (de = readdir(d)) && !found)
		if (strcmp(de->d_name, ".dockerignore") && strcasestr(de->d_name, "dockerignore"))
			found = xstrdup(de->d_name);
	if (d)
		closedir(d);
	return found;
}

static void run(struct check_ctx *ctx, const struct check_def *def, struct check_result *res)
{
	json_t *must = json_object_get(def->params, "must_exclude"), *v, *decided = json_array();
	struct ignore_rules *rules = NULL;
	struct strbuf err = STRBUF_INIT, sent = STRBUF_INIT;
	size_t i, nsent = 0;
	int rc = ignore_load_dir(ctx->dir, &rules, &err);

	if (rc < 0) {
		result_set(res, CHECK_FAIL, "%s", err.buf);
		result_hint(res, "make .dockerignore a regular file in the service folder, beside the Dockerfile");
		goto out;
	}
	if (rc == 0) {
		char *miss = near_miss(ctx->dir);
		result_set(res, CHECK_FAIL, "no .dockerignore in the service folder: everything in it, node_modules "
			   "and .git included, is sent to the engine with every build");
		if (miss)
			result_hint(res, "there is a file named '%s': the engine reads only `.dockerignore`, with the dot, "
				    "beside the Dockerfile", miss);
		else
			result_hint(res, "create .dockerignore beside the Dockerfile, one pattern per line: node_modules, "
				    ".git, tests, and the rest of the lesson's list");
		free(miss);
		goto out;
	}
	json_array_foreach(must, i, v) {
		const char *path = json_string_value(v);
		int line = 0;
		const char *pattern = ignore_deciding_pattern(rules, path, &line);
		int excluded = ignore_excluded(rules, path);

		json_array_append_new(decided, json_pack("{s:s, s:b, s:s?, s:i}", "path", path, "excluded", excluded,
							 "pattern", pattern, "line", line));
		if (!excluded) {
			strbuf_addf(&sent, "%s%s", nsent ? ", " : "", path);
			if (pattern)
				strbuf_addf(&sent, " (re-included by '%s' on line %d)", pattern, line);
			nsent++;
		}
	}
	result_evidence(res, "patterns", json_integer((json_int_t)ignore_count(rules)));
	if (nsent) {
		result_set(res, CHECK_FAIL, ".dockerignore (%zu patterns) still sends %s to the engine",
			   ignore_count(rules), sent.buf);
		result_hint(res, "add a line for each path that must stay out (a folder's name excludes "
			    "everything under it), and check that no later `!` line brings it back");
	} else {
		result_set(res, CHECK_PASS, ".dockerignore (%zu patterns) excludes all %zu required paths",
			   ignore_count(rules), json_array_size(must));
	}
out:
	result_evidence(res, "decisions", decided);
	ignore_free(rules);
	strbuf_release(&err);
	strbuf_release(&sent);
}

const struct check_kind check_build_context = {
	.name = "build-context",
	.summary = ".dockerignore excludes what must not reach the engine",
	.needs = NEED_NOTHING,
	.params = params,
	.run = run,
};
