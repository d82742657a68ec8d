/*
 * phaselab init: a learner's workspace for one track, made from the labs:
 * the track's starting service, its README that points at phaselab, the
 * progress folder (recording the track) and a git repository with a first
 * commit.  Only in an empty (or new) folder, so nothing of the learner's is
 * ever overwritten.  The track is data (phases/tracks.json): which labs
 * folder, which workspace folder, which README.
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
	"# dependencies and build output: made by npm and Python, never committed\n"
	"node_modules/\n"
	"dist/\n"
	"__pycache__/\n"
	"*.pyc\n"
	".venv/\n"
	"# phaselab's record of your progress (kept out of what you hand in)\n"
	".phaselab/\n";

/*
 * Build outputs never go into a workspace, at any depth: the track's folder
 * may hold several services (rel is then "user-service/node_modules").
 */
static int skip_outputs(void *ctx, const char *rel, int is_dir)
{
	const char *slash = strrchr(rel, '/'), *name = slash ? slash + 1 : rel;

	(void)ctx;
	return is_dir && (!strcmp(name, "node_modules") || !strcmp(name, "dist") || !strcmp(name, "__pycache__") ||
			  !strcmp(name, ".venv"));
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
static int populate(const char *dir, const char *labs, const struct track *t, struct strbuf *err)
{
	struct strbuf readme = STRBUF_INIT;
	char *src = xasprintf("%s/%s", labs, t->service), *dst = xasprintf("%s/%s", dir, t->workspace_dir);
	char *readme_src = xasprintf("%s/%s", labs, t->readme);
	char *state = xasprintf("%s/%s", dir, WORKSPACE_STATE), *progress_file = NULL, *msg = NULL;
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
	if (progress_write_empty(progress_file, t->name, err) < 0)
		goto out;
	msg = t->is_default ? xstrdup("Start of the workshop: the services as they are handed out (phaselab init)\n")
			    : xasprintf("Start of the %s track: the service as it is handed out (phaselab init "
					"--track %s)\n", t->name, t->name);
	if (git_init_commit(dir, msg, err) < 0)
		goto out;
	rc = 0;
out:
	free(msg);
	strbuf_release(&readme);
	free(src);
	free(dst);
	free(readme_src);
	free(state);
	free(progress_file);
	return rc;
}

/* The track init makes a workspace for: --track NAME, else the default.  NULL: the message is printed. */
static const struct track *choose_track(const char *name, struct track_set *ts, int *status)
{
	struct strbuf err = STRBUF_INIT;
	char *root = phases_root();
	const struct track *t = NULL;

	if (tracks_load(root, ts, &err) < 0) {
		*status = cmd_fail(EXIT_USAGE, "init: %s", err.buf);
	} else if (!(t = name ? track_find(ts, name) : track_default(ts))) {
		strbuf_reset(&err);
		track_names(ts, &err);
		*status = cmd_fail(EXIT_USAGE, "init: no track '%s' (known: %s)", name, err.buf);
	}
	free(root);
	strbuf_release(&err);
	return t;
}

/* A workspace for track t in dir, which is empty or does not exist yet. */
static int init_in(const char *dir, const struct track *t)
{
	struct strbuf err = STRBUF_INIT;
	char real[PATH_MAX], *labs, *first, *inside, *folder;
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
	if (populate(real, labs, t, &err) < 0) {
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
	folder = xasprintf("%s/", t->workspace_dir);
	printf("Made a phaselab workspace in %s:\n"
	       "  %-12s %s\n"
	       "  README.md    what this folder is, and the commands\n"
	       "  a git repository with a first commit\n\n"
	       "Next: %s`phaselab` tells you where you are and what to do.\n",
	       real, folder, t->about, strcmp(dir, ".") ? "cd into it, then " : "");
	free(folder);
	return EXIT_PASSED;
}

static int cmd_init(const struct cmd_args *args)
{
	struct track_set ts = { 0 };
	const struct track *t;
	int status = EXIT_USAGE;

	/* the track first: a mistyped name must not leave a new empty folder behind */
	t = choose_track(cmd_value(args, "track"), &ts, &status);
	if (t)
		status = init_in(args->nargs ? args->arg[0] : ".", t);
	track_set_release(&ts);
	return status;
}

static const struct cmd_option options[] = {
	{ .name = "track", .short_name = 't', .arg = "NAME",
	  .doc = "the track to follow (phases/tracks.json; `phaselab list` outside a workspace shows them); "
		 "default: the workshop" },
	{ 0 },
};

const struct cmd_entry cmd_init_entry = {
	.name = "init",
	.args = "[DIR]",
	.max_args = 1,
	.summary = "make a workspace for the phases in an empty folder",
	.about = "Make DIR (default: the current folder), which must be empty or not exist yet, a "
		 "workspace for the phases of a track: the track's starting services (the workshop's in "
		 "DIR/services, one folder each; the backend track's in DIR/backend), a README, and a git "
		 "repository with a first commit.  Then `cd DIR && phaselab`.",
	.options = options,
	.exit_status = "0 made, 2 DIR is not empty or not a folder, or no such track, 3 the labs are missing",
	.exec = cmd_init,
};
