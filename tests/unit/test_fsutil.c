/*
 * Tests for runner/fsutil.c: copy_tree (files, folders, modes, links copied
 * as links and never followed, the filter, the size limit), remove_tree
 * (read-only folders, links left pointing at what they pointed to),
 * write_file_atomic and read_file_nofollow.
 *
 * Each test works in its own scratch folder.  remove_tree's read-only case
 * must run as an ordinary user (root may write anywhere): as root the test
 * forks and drops to uid/gid 65534 for it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/fsutil.h"
#include "lib/strbuf.h"
#include "lib/xalloc.h"

#define NOBODY 65534

struct scratch {
	char dir[PATH_MAX];
};

static char *at(const struct scratch *s, const char *rel)
{
	return xasprintf("%s/%s", s->dir, rel);
}

static int chmod_rw(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)ftw;
	if (flag == FTW_D || flag == FTW_DNR)
		chmod(path, (sb->st_mode & 07777) | 0700);
	return 0;
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

/* The test's own removal, independent of the remove_tree under test. */
static int rm_rf(const char *path)
{
	nftw(path, chmod_rw, 16, FTW_PHYS);
	return nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static int setup(void **state)
{
	struct scratch *s = calloc(1, sizeof(*s));
	const char *base = getenv("TMPDIR");

	if (!s)
		return -1;
	snprintf(s->dir, sizeof(s->dir), "%s/phaselab-fsutil-XXXXXX", base && *base ? base : "/tmp");
	if (!mkdtemp(s->dir)) {
		free(s);
		return -1;
	}
	*state = s;
	return 0;
}

static int teardown(void **state)
{
	struct scratch *s = *state;
	int rc = rm_rf(s->dir);

	free(s);
	return rc;
}

static void put(const struct scratch *s, const char *rel, const char *text, mode_t mode)
{
	char *path = at(s, rel);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	size_t len = strlen(text);

	if (fd < 0)
		fail_msg("cannot create '%s': %s", path, strerror(errno));
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	assert_int_equal(close(fd), 0);
	assert_int_equal(chmod(path, mode), 0); /* exact, whatever the umask */
	free(path);
}

static void mkdir_at(const struct scratch *s, const char *rel, mode_t mode)
{
	char *path = at(s, rel);

	assert_int_equal(mkdir(path, 0700), 0);
	assert_int_equal(chmod(path, mode), 0);
	free(path);
}

static void link_at(const struct scratch *s, const char *rel, const char *target)
{
	char *path = at(s, rel);

	assert_int_equal(symlink(target, path), 0);
	free(path);
}

static void assert_file(const struct scratch *s, const char *rel, const char *text, mode_t mode)
{
	char *path = at(s, rel);
	struct strbuf sb = STRBUF_INIT;
	struct stat st;

	if (lstat(path, &st) < 0)
		fail_msg("'%s' is missing", rel);
	assert_true(S_ISREG(st.st_mode));
	if ((st.st_mode & 07777) != mode)
		fail_msg("'%s': mode %04o, expected %04o", rel, (unsigned)(st.st_mode & 07777), (unsigned)mode);
	assert_int_equal(read_file_nofollow(path, 1 << 20, &sb), 0);
	assert_string_equal(sb.buf, text);
	strbuf_release(&sb);
	free(path);
}

static void assert_dir(const struct scratch *s, const char *rel, mode_t mode)
{
	char *path = at(s, rel);
	struct stat st;

	if (lstat(path, &st) < 0)
		fail_msg("'%s' is missing", rel);
	assert_true(S_ISDIR(st.st_mode));
	if ((st.st_mode & 07777) != mode)
		fail_msg("'%s': mode %04o, expected %04o", rel, (unsigned)(st.st_mode & 07777), (unsigned)mode);
	free(path);
}

static void assert_link(const struct scratch *s, const char *rel, const char *target)
{
	char *path = at(s, rel), buf[PATH_MAX];
	struct stat st;
	ssize_t n;

	if (lstat(path, &st) < 0)
		fail_msg("'%s' is missing", rel);
	if (!S_ISLNK(st.st_mode))
		fail_msg("'%s' is not a symbolic link (mode %o)", rel, (unsigned)st.st_mode);
	n = readlink(path, buf, sizeof(buf) - 1);
	assert_true(n >= 0);
	buf[n] = '\0';
	assert_string_equal(buf, target);
	free(path);
}

static int exists(const struct scratch *s, const char *rel)
{
	char *path = at(s, rel);
	struct stat st;
	int r = lstat(path, &st) == 0;

	free(path);
	return r;
}

/*
 * A submission: files and folders with modes a umask of 022 does not
 * change, links inside and outside the tree, a dangling link and a fifo.
 */
static void make_source(const struct scratch *s)
{
	char *outside = at(s, "outside"), *secret = at(s, "outside/secret.txt");

	mkdir_at(s, "outside", 0755);
	put(s, "outside/secret.txt", "secret", 0600);
	mkdir_at(s, "src", 0755);
	put(s, "src/a.txt", "alpha", 0640);
	put(s, "src/run.sh", "#!/bin/sh\n", 0755);
	mkdir_at(s, "src/sub", 0750);
	put(s, "src/sub/b.txt", "beta", 0644);
	mkdir_at(s, "src/sub/deeper", 0755);
	put(s, "src/sub/deeper/c.txt", "", 0444);
	mkdir_at(s, "src/empty", 0700);
	link_at(s, "src/inner", "a.txt");
	link_at(s, "src/sub/up", "../a.txt");
	link_at(s, "src/out-file", secret);
	link_at(s, "src/out-dir", outside);
	link_at(s, "src/dangling", "no/such/file");
	{
		char *fifo = at(s, "src/fifo");
		assert_int_equal(mkfifo(fifo, 0644), 0);
		free(fifo);
	}
	free(secret);
	free(outside);
}

static void test_copy_tree(void **state)
{
	struct scratch *s = *state;
	struct strbuf err = STRBUF_INIT;
	char *src = at(s, "src"), *dst = at(s, "dst");
	char *outside = at(s, "outside"), *secret = at(s, "outside/secret.txt");
	mode_t old = umask(022);

	make_source(s);
	if (copy_tree(src, dst, NULL, NULL, 0, &err) < 0)
		fail_msg("copy_tree: %s", err.buf);
	umask(old);
	assert_int_equal(err.len, 0);

	assert_file(s, "dst/a.txt", "alpha", 0640);
	assert_file(s, "dst/run.sh", "#!/bin/sh\n", 0755);
	assert_dir(s, "dst/sub", 0750);
	assert_file(s, "dst/sub/b.txt", "beta", 0644);
	assert_dir(s, "dst/sub/deeper", 0755);
	assert_file(s, "dst/sub/deeper/c.txt", "", 0444);
	assert_dir(s, "dst/empty", 0700);
	/* links stay links, with the same target, wherever they point */
	assert_link(s, "dst/inner", "a.txt");
	assert_link(s, "dst/sub/up", "../a.txt");
	assert_link(s, "dst/out-file", secret);
	assert_link(s, "dst/out-dir", outside);
	assert_link(s, "dst/dangling", "no/such/file");
	/* what is neither file, folder nor link is left out */
	assert_false(exists(s, "dst/fifo"));
	/* and nothing outside was touched */
	assert_file(s, "outside/secret.txt", "secret", 0600);

	/* the destination must not exist */
	strbuf_reset(&err);
	assert_int_equal(copy_tree(src, dst, NULL, NULL, 0, &err), -1);
	assert_non_null(strstr(err.buf, dst));
	strbuf_reset(&err);
	{
		char *missing = at(s, "no-such-src"), *dst2 = at(s, "dst2");
		assert_int_equal(copy_tree(missing, dst2, NULL, NULL, 0, &err), -1);
		assert_non_null(strstr(err.buf, missing));
		assert_false(exists(s, "dst2"));
		free(missing);
		free(dst2);
	}
	strbuf_release(&err);
	free(src);
	free(dst);
	free(outside);
	free(secret);
}

/*
 * Regression (fixed): copy_tree does not copy modes exactly.  Files and folders are
 * created with open()/mkdir() modes that the umask cuts (a 0664 file becomes
 * 0644 under umask 022), and folders are made with mode | 0700 and never set
 * back (a 0555 folder becomes 0755).  fsutil.h says entries are copied
 * "with their modes"; the layer-cache check rebuilds from this copy, and the
 * builder's cache key includes file modes.
 */
static void test_copy_tree_modes_regression(void **state)
{
	struct scratch *s = *state;
	struct strbuf err = STRBUF_INIT;
	char *src = at(s, "src"), *dst = at(s, "dst");
	static const struct { const char *rel; mode_t mode; } rows[] = {
		{ "dst/read-only/f.txt", 0444 },
		{ "dst/group-writable.txt", 0664 },
		{ "dst/group-exec.sh", 0775 },
		{ "dst/shared", 0775 },
		{ "dst/read-only", 0555 },
	};
	mode_t old = umask(022);
	int rc, wrong = 0;

	mkdir_at(s, "src", 0755);
	put(s, "src/group-writable.txt", "g", 0664);
	put(s, "src/group-exec.sh", "x", 0775);
	mkdir_at(s, "src/shared", 0775);
	mkdir_at(s, "src/read-only", 0755);
	put(s, "src/read-only/f.txt", "r", 0444);
	{
		char *ro = at(s, "src/read-only");
		assert_int_equal(chmod(ro, 0555), 0);
		free(ro);
	}
	rc = copy_tree(src, dst, NULL, NULL, 0, &err);
	umask(old);
	if (rc < 0)
		fail_msg("copy_tree: %s", err.buf);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char *path = at(s, rows[i].rel);
		struct stat st;

		assert_int_equal(lstat(path, &st), 0);
		if ((st.st_mode & 07777) != rows[i].mode) {
			print_error("%s: mode %04o, expected %04o\n", rows[i].rel,
				    (unsigned)(st.st_mode & 07777), (unsigned)rows[i].mode);
			wrong++;
		}
		free(path);
	}
	strbuf_release(&err);
	free(src);
	free(dst);
	assert_int_equal(wrong, 0);
}


struct filter_log {
	char seen[16][64];
	int is_dir[16];
	int n;
};

/* Leaves out "sub/deeper" (a folder), "run.sh" and every "*.log". */
static int filter(void *vctx, const char *rel, int is_dir)
{
	struct filter_log *log = vctx;
	size_t len = strlen(rel);

	if (log->n < 16) {
		snprintf(log->seen[log->n], sizeof(log->seen[0]), "%s", rel);
		log->is_dir[log->n++] = is_dir;
	}
	return !strcmp(rel, "sub/deeper") || !strcmp(rel, "run.sh") ||
	       (len > 4 && !strcmp(rel + len - 4, ".log"));
}

static int logged(const struct filter_log *log, const char *rel)
{
	for (int i = 0; i < log->n; i++)
		if (!strcmp(log->seen[i], rel))
			return log->is_dir[i];
	return -1;
}

static void test_copy_tree_filter(void **state)
{
	struct scratch *s = *state;
	struct strbuf err = STRBUF_INIT;
	struct filter_log log = { .n = 0 };
	char *src = at(s, "src"), *dst = at(s, "dst");

	make_source(s);
	put(s, "src/sub/debug.log", "noise", 0644);
	if (copy_tree(src, dst, filter, &log, 0, &err) < 0)
		fail_msg("copy_tree: %s", err.buf);

	assert_false(exists(s, "dst/sub/deeper"));
	assert_false(exists(s, "dst/run.sh"));
	assert_false(exists(s, "dst/sub/debug.log"));
	assert_file(s, "dst/a.txt", "alpha", 0640);
	assert_file(s, "dst/sub/b.txt", "beta", 0644);
	assert_link(s, "dst/inner", "a.txt");

	/* paths relative to the source, with is_dir; never inside a skipped folder */
	assert_int_equal(logged(&log, "sub"), 1);
	assert_int_equal(logged(&log, "sub/deeper"), 1);
	assert_int_equal(logged(&log, "sub/b.txt"), 0);
	assert_int_equal(logged(&log, "out-dir"), 0);   /* a link to a folder is not a folder */
	assert_int_equal(logged(&log, "sub/deeper/c.txt"), -1);
	strbuf_release(&err);
	free(src);
	free(dst);
}

struct limit_row {
	unsigned long long max_bytes;
	int rc;
};

static void test_copy_tree_limit(void **state)
{
	static const struct limit_row rows[] = {
		{ 0, 0 },           /* no limit */
		{ 30000, 0 },       /* exactly the contents */
		{ 29999, -1 },
		{ 5000, -1 },
	};
	struct scratch *s = *state;
	char big[10001];

	memset(big, 'x', 10000);
	big[10000] = '\0';
	mkdir_at(s, "src", 0755);
	mkdir_at(s, "src/d", 0755);
	put(s, "src/one", big, 0644);
	put(s, "src/d/two", big, 0644);
	put(s, "src/d/three", big, 0644);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct strbuf err = STRBUF_INIT;
		char *src = at(s, "src"), *dst = xasprintf("%s/dst%zu", s->dir, i);
		int rc = copy_tree(src, dst, NULL, NULL, rows[i].max_bytes, &err);

		if (rc != rows[i].rc)
			fail_msg("max %llu: rc %d (%s)", rows[i].max_bytes, rc, err.buf);
		if (rc < 0) {
			/* it says why, and where it stopped */
			assert_non_null(strstr(err.buf, "larger than"));
			assert_true(strstr(err.buf, "'one'") || strstr(err.buf, "'d/two'") ||
				    strstr(err.buf, "'d/three'"));
		} else {
			assert_int_equal(err.len, 0);
		}
		strbuf_release(&err);
		free(src);
		free(dst);
	}
}

static void test_remove_tree(void **state)
{
	struct scratch *s = *state;
	char *src = at(s, "src"), *file = at(s, "lone-file"), *missing = at(s, "missing");

	make_source(s);
	assert_int_equal(remove_tree(src), 0);
	assert_false(exists(s, "src"));
	/* links were removed, not followed */
	assert_file(s, "outside/secret.txt", "secret", 0600);
	assert_dir(s, "outside", 0755);

	put(s, "lone-file", "x", 0644);
	assert_int_equal(remove_tree(file), 0);
	assert_false(exists(s, "lone-file"));
	assert_int_equal(remove_tree(missing), 0);

	/* a link to a folder: the link goes, the folder stays */
	link_at(s, "dirlink", "outside");
	{
		char *dl = at(s, "dirlink");
		assert_int_equal(remove_tree(dl), 0);
		free(dl);
	}
	assert_false(exists(s, "dirlink"));
	assert_file(s, "outside/secret.txt", "secret", 0600);
	free(src);
	free(file);
	free(missing);
}

static int lchown_nobody(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return lchown(path, NOBODY, NOBODY);
}

/*
 * Folders without write permission (npm makes some) must still go.  Root
 * could delete them anyway, so as root the removal runs in a child that
 * has become nobody.
 */
static void test_remove_tree_read_only(void **state)
{
	struct scratch *s = *state;
	char *tree = at(s, "tree");
	int status = 0;
	pid_t pid;

	mkdir_at(s, "tree", 0755);
	mkdir_at(s, "tree/pkg", 0755);
	put(s, "tree/pkg/index.js", "x", 0444);
	mkdir_at(s, "tree/pkg/lib", 0755);
	put(s, "tree/pkg/lib/a.js", "y", 0644);
	{
		char *lib = at(s, "tree/pkg/lib"), *pkg = at(s, "tree/pkg");
		assert_int_equal(chmod(lib, 0555), 0);
		assert_int_equal(chmod(pkg, 0500), 0);
		free(lib);
		free(pkg);
	}
	if (geteuid() == 0) {
		/* nobody owns the tree and may write in the folder that holds it */
		assert_int_equal(nftw(tree, lchown_nobody, 16, FTW_PHYS), 0);
		assert_int_equal(chown(s->dir, NOBODY, NOBODY), 0);
	}
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int rc;
		struct stat st;

		if (geteuid() == 0 && (setgroups(0, NULL) < 0 || setgid(NOBODY) < 0 || setuid(NOBODY) < 0))
			_exit(10);
		rc = remove_tree(tree);
		_exit(rc != 0 ? 1 : lstat(tree, &st) == 0 ? 2 : 0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	free(tree);
	tree = NULL;
	if (geteuid() == 0)
		assert_int_equal(chown(s->dir, 0, 0), 0);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) == 10)
		fail_msg("cannot become uid %d to test as an ordinary user", NOBODY);
	/*
	 * Regression (fixed): remove_tree fails (returns -1, the tree stays) on a folder
	 * without write permission when not run as root: fsutil.c's
	 * remove_tree() comments "folders without write permission must still
	 * go" but rm_entry() never makes a folder writable before unlinking
	 * inside it, so unlink() fails with EACCES.
	 */
	if (WEXITSTATUS(status) != 0)
		fail_msg("remove_tree on a read-only folder: %s", WEXITSTATUS(status) == 1 ? "returned -1" :
			 "returned 0 but the tree is still there");
	assert_false(exists(s, "tree"));
}

static void test_write_file_atomic(void **state)
{
	struct scratch *s = *state;
	char *path = at(s, "state.json"), *target = at(s, "target");
	struct stat before, after;
	mode_t old = umask(022);
	char buf[64];
	ssize_t n;
	int fd;

	assert_int_equal(write_file_atomic(path, "{\"a\":1}\n", 8), 0);
	assert_file(s, "state.json", "{\"a\":1}\n", 0644);
	/* replaced whole: a reader that opened the old file keeps seeing it */
	assert_int_equal(lstat(path, &before), 0);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(write_file_atomic(path, "{}", 2), 0);
	n = read(fd, buf, sizeof(buf));
	close(fd);
	assert_int_equal(n, 8);
	assert_memory_equal(buf, "{\"a\":1}\n", 8);
	assert_int_equal(lstat(path, &after), 0);
	assert_true(before.st_ino != after.st_ino);
	assert_file(s, "state.json", "{}", 0644);

	/* empty contents, binary contents */
	assert_int_equal(write_file_atomic(path, "", 0), 0);
	assert_file(s, "state.json", "", 0644);
	assert_int_equal(write_file_atomic(path, "a\0b", 3), 0);
	assert_int_equal(lstat(path, &after), 0);
	assert_int_equal(after.st_size, 3);

	/* a link at the path is replaced, not written through */
	put(s, "target", "keep", 0644);
	assert_int_equal(unlink(path), 0);
	link_at(s, "state.json", target);
	assert_int_equal(write_file_atomic(path, "new", 3), 0);
	assert_file(s, "state.json", "new", 0644);
	assert_file(s, "target", "keep", 0644);

	/* no temporary file is left behind */
	{
		char *tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
		struct stat st;
		assert_int_equal(lstat(tmp, &st), -1);
		free(tmp);
	}

	/* a missing folder: -1, errno says why */
	{
		char *bad = at(s, "no-such-folder/file");
		errno = 0;
		assert_int_equal(write_file_atomic(bad, "x", 1), -1);
		assert_int_equal(errno, ENOENT);
		free(bad);
	}
	umask(old);
	free(path);
	free(target);
}

struct read_row {
	const char *rel;
	size_t max;
	int rc;
	int err;           /* errno when rc is -1 */
	const char *text;  /* contents when rc is 0 */
};

static const struct read_row read_rows[] = {
	{ "file", 100, 0, 0, "0123456789" },
	{ "file", 10, 0, 0, "0123456789" },      /* exactly max */
	{ "file", 9, -1, EFBIG, NULL },
	{ "empty", 10, 0, 0, "" },
	{ "link", 100, -1, ELOOP, NULL },         /* never through a link */
	{ "dangling", 100, -1, ELOOP, NULL },
	{ "missing", 100, -1, ENOENT, NULL },
	{ "folder", 100, -1, EISDIR, NULL },
};

static void test_read_file_nofollow(void **state)
{
	struct scratch *s = *state;

	put(s, "file", "0123456789", 0644);
	put(s, "empty", "", 0644);
	link_at(s, "link", "file");
	link_at(s, "dangling", "nowhere");
	mkdir_at(s, "folder", 0755);
	for (size_t i = 0; i < sizeof(read_rows) / sizeof(read_rows[0]); i++) {
		const struct read_row *r = &read_rows[i];
		struct strbuf sb = STRBUF_INIT;
		char *path = at(s, r->rel);
		int rc;

		errno = 0;
		rc = read_file_nofollow(path, r->max, &sb);
		if (rc != r->rc || (rc < 0 && errno != r->err))
			fail_msg("row %zu (%s, max %zu): rc %d errno %d", i, r->rel, r->max, rc, errno);
		if (rc == 0) {
			assert_int_equal(sb.len, strlen(r->text));
			assert_string_equal(sb.buf, r->text);
		}
		strbuf_release(&sb);
		free(path);
	}
}

/*
 * Regression (fixed): read_file_nofollow opens any non-link path with a blocking open():
 * on a FIFO (a learner's "Dockerfile" can be one) it waits for a writer
 * forever, and on a device it reads whatever the device gives.  fsutil.h
 * says it reads "a whole regular file"; dockerfile_load() calls it on the
 * learner's folder.  The child is killed after 3 s.
 */
static void test_read_file_nofollow_fifo_regression(void **state)
{
	struct scratch *s = *state;
	char *fifo = at(s, "Dockerfile");
	int status = 0, done = 0;
	pid_t pid;

	assert_int_equal(mkfifo(fifo, 0644), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct strbuf sb = STRBUF_INIT;
		int rc = read_file_nofollow(fifo, 1 << 20, &sb);
		_exit(rc == -1 ? 0 : 1);
	}
	for (int i = 0; i < 150 && !done; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			done = 1;
		else
			usleep(20000);
	}
	if (!done) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
	}
	free(fifo);
	if (!done)
		fail_msg("read_file_nofollow on a FIFO still blocked after 3 s");
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_copy_tree),
		T(test_copy_tree_modes_regression),          /* regression, see the test */
		T(test_copy_tree_filter),
		T(test_copy_tree_limit),
		T(test_remove_tree),
		T(test_remove_tree_read_only),        /* regression, see the test */
		T(test_write_file_atomic),
		T(test_read_file_nofollow),
		T(test_read_file_nofollow_fifo_regression),  /* regression, see the test */
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
