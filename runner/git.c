#include "git.h"

#include <git2.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

static int workdir_ignored(git_repository *repo, const char *dir)
{
	const char *wd = git_repository_workdir(repo);
	char real[PATH_MAX];
	size_t n;
	int ignored = 0;

	if (!wd || !realpath(dir, real))
		return 0;
	n = strlen(wd);
	if (strncmp(real, wd, n) != 0 || !real[n])
		return 0; /* the work tree's root itself */
	if (git_ignore_path_is_ignored(&ignored, repo, real + n) < 0)
		return 0;
	return ignored;
}

int git_describe_dir(const char *dir, struct git_state *st)
{
	git_repository *repo = NULL;
	git_status_list *list = NULL;
	git_status_options opts;
	git_oid oid;
	int rc = 0;

	memset(st, 0, sizeof(*st));
	git_libgit2_init();
	git_status_options_init(&opts, GIT_STATUS_OPTIONS_VERSION);
	if (git_repository_open_ext(&repo, dir, 0, NULL) < 0)
		goto out; /* not a repository: not an error */
	if (git_reference_name_to_id(&oid, repo, "HEAD") < 0)
		goto out; /* no commit yet */
	/* a folder the enclosing repository ignores is not versioned by it */
	if (workdir_ignored(repo, dir))
		goto out;
	git_oid_tostr(st->commit, sizeof(st->commit), &oid);
	opts.show = GIT_STATUS_SHOW_INDEX_AND_WORKDIR;
	opts.flags = GIT_STATUS_OPT_INCLUDE_UNTRACKED | GIT_STATUS_OPT_EXCLUDE_SUBMODULES;
	if (git_status_list_new(&list, repo, &opts) < 0) {
		rc = -1;
		goto out;
	}
	st->dirty = git_status_list_entrycount(list) > 0;
	rc = 1;
out:
	git_status_list_free(list);
	git_repository_free(repo);
	git_libgit2_shutdown();
	return rc;
}
