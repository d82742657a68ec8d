#include "lib/git.h"

#include <git2.h>
#include <stdio.h>

#include "lib/strbuf.h"
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

static int git_fail(struct strbuf *err, const char *doing)
{
	const git_error *e = git_error_last();

	strbuf_addf(err, "%s: %s", doing, e && e->message ? e->message : "unknown libgit2 error");
	return -1;
}

int git_clone_or_fetch(const char *url, const char *path, struct strbuf *err)
{
	git_repository *repo = NULL;
	git_remote *remote = NULL;
	int rc = 0;

	git_libgit2_init();
	if (git_repository_open_ext(&repo, path, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) == 0) {
		git_fetch_options fo;

		git_fetch_options_init(&fo, GIT_FETCH_OPTIONS_VERSION);
		fo.prune = GIT_FETCH_PRUNE;
		if (git_remote_lookup(&remote, repo, "origin") < 0 ||
		    git_remote_fetch(remote, NULL, &fo, NULL) < 0)
			rc = git_fail(err, "fetching");
	} else {
		git_clone_options co;

		git_clone_options_init(&co, GIT_CLONE_OPTIONS_VERSION);
		/* no working files yet: the commit to grade is checked out later */
		co.checkout_opts.checkout_strategy = GIT_CHECKOUT_NONE;
		if (git_clone(&repo, url, path, &co) < 0)
			rc = git_fail(err, "cloning");
	}
	git_remote_free(remote);
	git_repository_free(repo);
	git_libgit2_shutdown();
	return rc;
}

int git_pick_commit(const char *path, const char *branch, int has_deadline, long long deadline, int late_ok,
		    struct git_pick *pick, struct strbuf *err)
{
	git_repository *repo = NULL;
	git_revwalk *walk = NULL;
	git_commit *tip = NULL;
	git_oid oid;
	char refname[512];
	int rc = -1;

	memset(pick, 0, sizeof(*pick));
	git_libgit2_init();
	if (git_repository_open_ext(&repo, path, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) < 0) {
		git_fail(err, "opening the clone");
		goto out;
	}
	if (branch && *branch) {
		snprintf(refname, sizeof(refname), "refs/remotes/origin/%s", branch);
		if (git_reference_name_to_id(&oid, repo, refname) < 0) {
			strbuf_addf(err, "the repository has no branch '%s'", branch);
			goto out;
		}
	} else if (git_reference_name_to_id(&oid, repo, "refs/remotes/origin/HEAD") == 0) {
		/* the remote's default branch (name_to_id follows the symbolic ref) */
	} else if (git_reference_name_to_id(&oid, repo, "HEAD") < 0) {
		strbuf_addstr(err, "the repository has no commit");
		goto out;
	}
	if (git_commit_lookup(&tip, repo, &oid) < 0) {
		git_fail(err, "reading the branch's newest commit");
		goto out;
	}
	git_oid_tostr(pick->tip, sizeof(pick->tip), &oid);
	pick->tip_at = (long long)git_commit_time(tip);
	pick->late = has_deadline && pick->tip_at > deadline;
	if (!pick->late || late_ok) {
		memcpy(pick->commit, pick->tip, sizeof(pick->commit));
		pick->committed_at = pick->tip_at;
	}
	if (!pick->late) {
		rc = 0;
		goto out;
	}
	/* the commits after the deadline, and the newest at or before it (by committer time) */
	if (git_revwalk_new(&walk, repo) < 0 || git_revwalk_push(walk, &oid) < 0) {
		git_fail(err, "walking the history");
		goto out;
	}
	git_revwalk_sorting(walk, GIT_SORT_TIME);
	while (git_revwalk_next(&oid, walk) == 0) {
		git_commit *c = NULL;
		long long t;

		if (git_commit_lookup(&c, repo, &oid) < 0)
			continue;
		t = (long long)git_commit_time(c);
		git_commit_free(c);
		if (t > deadline) {
			pick->after_deadline++;
		} else if (!pick->commit[0]) {
			git_oid_tostr(pick->commit, sizeof(pick->commit), &oid);
			pick->committed_at = t;
		}
	}
	rc = 0;
out:
	git_commit_free(tip);
	git_revwalk_free(walk);
	git_repository_free(repo);
	git_libgit2_shutdown();
	return rc;
}

int git_checkout_commit(const char *path, const char *commit, struct strbuf *err)
{
	git_repository *repo = NULL;
	git_object *obj = NULL;
	git_checkout_options co;
	int rc = -1;

	git_libgit2_init();
	git_checkout_options_init(&co, GIT_CHECKOUT_OPTIONS_VERSION);
	/* the learner's files exactly as committed: nothing of a previous grading stays */
	co.checkout_strategy = GIT_CHECKOUT_FORCE | GIT_CHECKOUT_REMOVE_UNTRACKED | GIT_CHECKOUT_REMOVE_IGNORED;
	if (git_repository_open_ext(&repo, path, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) < 0)
		git_fail(err, "opening the clone");
	else if (git_revparse_single(&obj, repo, commit) < 0)
		git_fail(err, "finding the commit");
	else if (git_checkout_tree(repo, obj, &co) < 0)
		git_fail(err, "checking the commit out");
	else if (git_repository_set_head_detached(repo, git_object_id(obj)) < 0)
		git_fail(err, "moving HEAD");
	else
		rc = 0;
	git_object_free(obj);
	git_repository_free(repo);
	git_libgit2_shutdown();
	return rc;
}

int git_init_commit(const char *dir, const char *message, struct strbuf *err)
{
	git_repository *repo = NULL;
	git_index *index = NULL;
	git_signature *sig = NULL;
	git_tree *tree = NULL;
	git_oid tree_id, commit_id;
	int rc = -1;

	git_libgit2_init();
	if (git_repository_init(&repo, dir, 0) < 0) {
		git_fail(err, "making the repository");
		goto out;
	}
	/* the learner's own name when git knows it, else a stand-in they can amend */
	if (git_signature_default(&sig, repo) < 0 &&
	    git_signature_now(&sig, "phaselab learner", "learner@phaselab.invalid") < 0) {
		git_fail(err, "making the commit's author");
		goto out;
	}
	if (git_repository_index(&index, repo) < 0 ||
	    git_index_add_all(index, NULL, GIT_INDEX_ADD_DEFAULT, NULL, NULL) < 0 ||
	    git_index_write(index) < 0 || git_index_write_tree(&tree_id, index) < 0 ||
	    git_tree_lookup(&tree, repo, &tree_id) < 0) {
		git_fail(err, "adding the files");
		goto out;
	}
	if (git_commit_create_v(&commit_id, repo, "HEAD", sig, sig, NULL, message, tree, 0) < 0) {
		git_fail(err, "making the first commit");
		goto out;
	}
	rc = 0;
out:
	git_tree_free(tree);
	git_index_free(index);
	git_signature_free(sig);
	git_repository_free(repo);
	git_libgit2_shutdown();
	return rc;
}
