#include "engine/rootfs.h"
#include "lib/strbuf.h"
#include "lib/xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_DEPTH 128

/* Is here (dir's own status) on another device than dir's parent: a mount point? */
static int mount_point(const char *dir, const struct stat *here)
{
	struct stat parent;
	char *up = xasprintf("%s/..", dir);
	int ok = stat(up, &parent) == 0 && here->st_dev != parent.st_dev;

	free(up);
	return ok;
}

int rootfs_usable(const char *dir)
{
	struct stat here;

	return lstat(dir, &here) == 0 && S_ISDIR(here.st_mode) && mount_point(dir, &here) &&
	       access(dir, R_OK | X_OK) == 0;
}

static char type_of(mode_t m)
{
	if (S_ISREG(m))
		return '0';
	if (S_ISLNK(m))
		return '2';
	if (S_ISCHR(m))
		return '3';
	if (S_ISBLK(m))
		return '4';
	if (S_ISDIR(m))
		return '5';
	return '6';
}

struct walk {
	tar_fn fn;
	void *ctx;
	size_t max_data;
	struct strbuf name;
	int stop;
};

static void read_data(int dirfd, const char *base, size_t max, struct strbuf *out)
{
	int fd = openat(dirfd, base, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	char buf[8192];
	ssize_t n;

	if (fd < 0)
		return;
	while (out->len < max && (n = read(fd, buf, sizeof(buf) < max - out->len ? sizeof(buf) : max - out->len)) > 0)
		strbuf_add(out, buf, (size_t)n);
	close(fd);
}

/* Walk the folder open as dirfd (which this takes over); name holds its path. */
static void walk_dir(struct walk *w, int dirfd, int depth)
{
	DIR *d = fdopendir(dirfd);
	struct dirent *de;

	if (!d) {
		close(dirfd);
		return;
	}
	while (!w->stop && (de = readdir(d))) {
		size_t keep = w->name.len;
		struct tar_entry e = { 0 };
		char link[PATH_MAX];
		struct stat sb;
		int rc;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (fstatat(dirfd, de->d_name, &sb, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (w->name.len)
			strbuf_addch(&w->name, '/');
		strbuf_addstr(&w->name, de->d_name);
		e.name = w->name.buf;
		e.type = type_of(sb.st_mode);
		e.mode = sb.st_mode & 07777;
		e.size = S_ISREG(sb.st_mode) ? (unsigned long long)sb.st_size : 0;
		e.linkname = "";
		if (S_ISLNK(sb.st_mode)) {
			ssize_t n = readlinkat(dirfd, de->d_name, link, sizeof(link) - 1);
			link[n > 0 ? n : 0] = '\0';
			e.linkname = link;
		}
		rc = w->fn(w->ctx, &e, NULL);
		if (rc == 2 && S_ISREG(sb.st_mode)) {
			struct strbuf data = STRBUF_INIT;
			read_data(dirfd, de->d_name, w->max_data, &data);
			rc = w->fn(w->ctx, &e, &data);
			strbuf_release(&data);
		}
		if (rc == 1) {
			w->stop = 1;
		} else if (S_ISDIR(sb.st_mode) && rc != ROOTFS_SKIP && depth < MAX_DEPTH) {
			int sub = openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub >= 0)
				walk_dir(w, sub, depth + 1);
		}
		strbuf_setlen(&w->name, keep);
	}
	closedir(d);
}

/* Walk the folder open as fd (which this takes over). */
static void walk_fd(int fd, tar_fn fn, void *ctx, size_t max_data)
{
	struct walk w = { fn, ctx, max_data, STRBUF_INIT, 0 };

	walk_dir(&w, fd, 0);
	strbuf_release(&w.name);
}

int rootfs_walk_dir(const char *dir, tar_fn fn, void *ctx, size_t max_data)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return -1;
	walk_fd(fd, fn, ctx, max_data);
	return 0;
}

int rootfs_walk(const char *dir, tar_fn fn, void *ctx, size_t max_data)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct stat here;

	if (fd < 0)
		return -1;
	/*
	 * Still mounted, now that it is open?  (Once open, an unmount cannot
	 * take the tree from under the walk; before, the folder beneath the
	 * mount would have been walked: an empty one, with no shell in it.)
	 */
	if (fstat(fd, &here) < 0 || !mount_point(dir, &here)) {
		close(fd);
		errno = ENOENT;
		return -1;
	}
	walk_fd(fd, fn, ctx, max_data);
	return 0;
}
