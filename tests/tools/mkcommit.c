/*
 * mkcommit: record the work tree of REPO as a commit at a given time, with
 * libgit2.  For tests that need a class of learner repositories with commits
 * before and after a deadline.
 *
 *   mkcommit REPO TIME MESSAGE
 *
 * REPO is created (branch main) when it is not a repository yet; TIME is
 * seconds since the epoch; every file of the work tree is committed, and
 * deleted files are removed.  Exits 0, or 1 with a message.
 */
#include <git2.h>
#include <stdio.h>
#include <stdlib.h>

static int fail(const char *doing)
{
	const git_error *e = git_error_last();
	fprintf(stderr, "mkcommit: %s: %s\n", doing, e && e->message ? e->message : "error");
	return 1;
}

int main(int argc, char **argv)
{
	git_repository *repo = NULL;
	git_index *index = NULL;
	git_signature *sig = NULL;
	git_tree *tree = NULL;
	git_commit *parent = NULL;
	git_oid tree_id, commit_id, head_id;
	git_strarray all = { NULL, 0 };
	char star[] = "*";
	char *pathspec[] = { star };
	int nparents = 0, rc = 1;

	if (argc != 4) {
		fprintf(stderr, "usage: mkcommit REPO TIME MESSAGE\n");
		return 2;
	}
	git_libgit2_init();
	if (git_repository_open(&repo, argv[1]) < 0) {
		git_repository_init_options o;
		git_repository_init_options_init(&o, GIT_REPOSITORY_INIT_OPTIONS_VERSION);
		o.flags = GIT_REPOSITORY_INIT_MKPATH;
		o.initial_head = "main";
		if (git_repository_init_ext(&repo, argv[1], &o) < 0)
			return fail("creating the repository");
	}
	all.strings = pathspec;
	all.count = 1;
	if (git_repository_index(&index, repo) < 0 ||
	    git_index_add_all(index, &all, GIT_INDEX_ADD_FORCE, NULL, NULL) < 0 ||
	    git_index_update_all(index, &all, NULL, NULL) < 0 || git_index_write(index) < 0 ||
	    git_index_write_tree(&tree_id, index) < 0 || git_tree_lookup(&tree, repo, &tree_id) < 0) {
		rc = fail("staging the work tree");
		goto out;
	}
	if (git_signature_new(&sig, "Learner", "learner@example.invalid", (git_time_t)atoll(argv[2]), 0) < 0) {
		rc = fail("making the signature");
		goto out;
	}
	if (git_reference_name_to_id(&head_id, repo, "HEAD") == 0) {
		if (git_commit_lookup(&parent, repo, &head_id) < 0) {
			rc = fail("reading HEAD");
			goto out;
		}
		nparents = 1;
	}
	if (git_commit_create_v(&commit_id, repo, "HEAD", sig, sig, NULL, argv[3], tree, nparents, parent) < 0) {
		rc = fail("committing");
		goto out;
	}
	rc = 0;
out:
	git_commit_free(parent);
	git_tree_free(tree);
	git_signature_free(sig);
	git_index_free(index);
	git_repository_free(repo);
	git_libgit2_shutdown();
	return rc;
}
