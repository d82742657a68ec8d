/*
 * phaselab init: a learner's workspace, made from the labs: the starting
 * service, a README that points at phaselab, the progress folder and a git
 * repository with a first commit.  Only in an empty (or new) folder, so
 * nothing of the learner's is ever overwritten.
 */
#include "cmd/cmd.h"
#include "lib/fsutil.h"
#include "lib/git.h"
#include "cmd/learn.h"
#include "learn/progress.h"
#include "lib/xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char gitignore[] =
	"# dependencies and build output: made by npm, never committed\n"
	"node_modules/\n"
	"dist/\n"
	"# phaselab's record of your progress (kept out of what you hand in)\n"
	".phaselab/\n";

/* Build outputs of the starting service never go into a workspace. */
static int skip_outputs(void *ctx, const char *rel, int is_dir)
{
	(void)ctx;
	return is_dir && (!strcmp(rel, "node_modules") || !strcmp(rel, "dist"));
}

/* The first entry of an existing folder ("" when empty), or NULL when it cannot be read. */
static char *first_entry(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char *name = NULL;

	if (!d)
		return NULL;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
			name = xstrdup(de->d_name);
			break;
		}
	closedir(d);
	return name ? name : xstrdup("");
}

static int write_text(const char *dir, const char *name, const char *text, struct strbuf *err)
{
	char *path = xasprintf("%s/%s", dir, name);
	int rc = write_file_atomic(path, text, strlen(text));

	if (rc < 0)
		strbuf_addf(err, "cannot write '%s': %s", path, strerror(errno));
	free(path);
	return rc;
}

/* Everything init writes; on failure the caller removes what was made. */
static int populate(const char *dir, const char *labs, struct strbuf *err)
{
	struct strbuf readme = STRBUF_INIT;
	char *src = xasprintf("%s/service", labs), *dst = xasprintf("%s/service", dir);
	char *readme_src = xasprintf("%s/workspace/README.md", labs);
	char *state = xasprintf("%s/%s", dir, WORKSPACE_STATE), *progress_file = NULL;
	int rc = -1;

	if (read_file_nofollow(readme_src, 1 << 20, &readme) < 0) {
		strbuf_addf(err, "cannot read '%s': %s (is PHASELAB_LABS right?)", readme_src, strerror(errno));
		goto out;
	}
	if (copy_tree(src, dst, skip_outputs, NULL, 0, err) < 0)
		goto out;
	if (write_text(dir, "README.md", readme.buf, err) < 0 || write_text(dir, ".gitignore", gitignore, err) < 0)
		goto out;
	if (mkdir(state, 0755) < 0) {
		strbuf_addf(err, "cannot make '%s': %s", state, strerror(errno));
		goto out;
	}
	progress_file = workspace_progress_file(dir);
	if (progress_write_empty(progress_file, err) < 0)
		goto out;
	if (git_init_commit(dir, "Start of the workshop: the service as it is handed out (phaselab init)\n",
			    err) < 0)
		goto out;
	rc = 0;
out:
	strbuf_release(&readme);
	free(src);
	free(dst);
	free(readme_src);
	free(state);
	free(progress_file);
	return rc;
}

static int cmd_init(const struct cmd_args *args)
{
	const char *dir = args->nargs ? args->arg[0] : ".";
	struct strbuf err = STRBUF_INIT;
	char real[PATH_MAX], *labs, *first, *inside;
	struct stat sb;
	int made = 0;

	if (lstat(dir, &sb) < 0) {
		if (errno != ENOENT || mkdir(dir, 0755) < 0)
			return cmd_fail(EXIT_USAGE, "init: cannot make the folder '%s': %s", dir, strerror(errno));
		made = 1;
	} else if (!S_ISDIR(sb.st_mode)) {
		return cmd_fail(EXIT_USAGE, "init: '%s' is not a folder", dir);
	}
	first = first_entry(dir);
	if (!first)
		return cmd_fail(EXIT_USAGE, "init: cannot read the folder '%s': %s", dir, strerror(errno));
	if (*first) {
		cmd_fail(EXIT_USAGE, "init: '%s' is not empty (it holds '%s'): a workspace is made only in an "
			 "empty or new folder, so that nothing of yours is overwritten; name a new one: "
			 "`phaselab init workshop`", dir, first);
		free(first);
		return EXIT_USAGE;
	}
	free(first);
	if (!realpath(dir, real))
		return cmd_fail(EXIT_USAGE, "init: '%s': %s", dir, strerror(errno));
	inside = workspace_find(real);
	if (inside) {
		cmd_fail(0, "note: '%s' is inside the workspace %s; the new one is separate from it", real, inside);
		free(inside);
	}

	labs = labs_root();
	if (populate(real, labs, &err) < 0) {
		remove_contents(real, NULL); /* it was empty: all of it is ours */
		if (made)
			rmdir(real);
		cmd_fail(EXIT_ENVIRONMENT, "init: %s", err.buf);
		free(labs);
		strbuf_release(&err);
		return EXIT_ENVIRONMENT;
	}
	free(labs);
	strbuf_release(&err);
	printf("Made a phaselab workspace in %s:\n"
	       "  service/     the service you will containerize\n"
	       "  README.md    what this folder is, and the commands\n"
	       "  a git repository with a first commit\n\n"
	       "Next: %s`phaselab` tells you where you are and what to do.\n",
	       real, strcmp(dir, ".") ? "cd into it, then " : "");
	return EXIT_PASSED;
}

const struct cmd_entry cmd_init_entry = {
	.name = "init",
	.args = "[DIR]",
	.max_args = 1,
	.summary = "make a workspace for the phases in an empty folder",
	.about = "Make DIR (default: the current folder), which must be empty or not exist yet, a "
		 "workspace for the phases: the starting service in DIR/service, a README, and a git "
		 "repository with a first commit.  Then `cd DIR && phaselab`.",
	.exit_status = "0 made, 2 DIR is not empty or not a folder, 3 the labs are missing",
	.exec = cmd_init,
};
