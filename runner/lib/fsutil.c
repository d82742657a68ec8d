#include "lib/fsutil.h"
#include "lib/xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct copy_state {
	copy_filter_fn filter;
	void *ctx;
	unsigned long long copied, max;
	struct strbuf *err;
};

static int copy_file(int sfd, const char *dst, mode_t mode, struct copy_state *st, const char *rel)
{
	char buf[1 << 16];
	ssize_t r;
	int dfd = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode & 07777);

	if (dfd < 0) {
		strbuf_addf(st->err, "cannot create '%s': %s", dst, strerror(errno));
		return -1;
	}
	while ((r = read(sfd, buf, sizeof(buf))) > 0) {
		st->copied += (unsigned long long)r;
		if (st->max && st->copied > st->max) {
			strbuf_addf(st->err, "the folder is larger than %llu bytes (at '%s')",
				    st->max, rel);
			close(dfd);
			return -1;
		}
		for (ssize_t off = 0; off < r;) {
			ssize_t w = write(dfd, buf + off, (size_t)(r - off));
			if (w < 0) {
				strbuf_addf(st->err, "cannot write '%s': %s", dst, strerror(errno));
				close(dfd);
				return -1;
			}
			off += w;
		}
	}
	if (r < 0) {
		strbuf_addf(st->err, "cannot read '%s': %s", rel, strerror(errno));
		close(dfd);
		return -1;
	}
	/* exactly the source's mode, whatever the umask: the builder's cache key includes it */
	if (fchmod(dfd, mode & 07777) < 0) {
		strbuf_addf(st->err, "cannot set the mode of '%s': %s", dst, strerror(errno));
		close(dfd);
		return -1;
	}
	close(dfd);
	return 0;
}

/* Copy the folder open at sfd (relative path rel) into dst. */
static int copy_dir(int sfd, const char *dst, const char *rel, struct copy_state *st)
{
	DIR *d = fdopendir(sfd);
	struct dirent *de;
	int rc = 0;

	if (!d) {
		close(sfd);
		strbuf_addf(st->err, "cannot read the folder '%s': %s", *rel ? rel : ".", strerror(errno));
		return -1;
	}
	while (rc == 0 && (de = readdir(d))) {
		struct stat sb;
		char *child_rel, *child_dst;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (fstatat(dirfd(d), de->d_name, &sb, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		child_rel = *rel ? xasprintf("%s/%s", rel, de->d_name) : xstrdup(de->d_name);
		child_dst = xasprintf("%s/%s", dst, de->d_name);
		if (st->filter && st->filter(st->ctx, child_rel, S_ISDIR(sb.st_mode))) {
			/* left out, as the engine would leave it out */
		} else if (S_ISDIR(sb.st_mode)) {
			int cfd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (cfd < 0 || mkdir(child_dst, (sb.st_mode & 07777) | 0700) < 0) {
				strbuf_addf(st->err, "cannot copy the folder '%s': %s", child_rel, strerror(errno));
				if (cfd >= 0)
					close(cfd);
				rc = -1;
			} else {
				rc = copy_dir(cfd, child_dst, child_rel, st);
				/* its real mode only now: 0555 would have kept us from filling it */
				if (rc == 0 && chmod(child_dst, sb.st_mode & 07777) < 0) {
					strbuf_addf(st->err, "cannot set the mode of '%s': %s", child_dst, strerror(errno));
					rc = -1;
				}
			}
		} else if (S_ISLNK(sb.st_mode)) {
			char target[PATH_MAX];
			ssize_t len = readlinkat(dirfd(d), de->d_name, target, sizeof(target) - 1);
			if (len >= 0) {
				target[len] = '\0';
				if (symlink(target, child_dst) < 0) {
					strbuf_addf(st->err, "cannot copy the link '%s': %s", child_rel, strerror(errno));
					rc = -1;
				}
			}
		} else if (S_ISREG(sb.st_mode)) {
			int ffd = openat(dirfd(d), de->d_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
			if (ffd < 0) {
				strbuf_addf(st->err, "cannot read '%s': %s", child_rel, strerror(errno));
				rc = -1;
			} else {
				rc = copy_file(ffd, child_dst, sb.st_mode, st, child_rel);
				close(ffd);
			}
		}
		free(child_rel);
		free(child_dst);
	}
	closedir(d);
	return rc;
}

int copy_tree(const char *src, const char *dst, copy_filter_fn filter, void *ctx,
	      unsigned long long max_bytes, struct strbuf *err)
{
	struct copy_state st = { filter, ctx, 0, max_bytes, err };
	int sfd = open(src, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (sfd < 0) {
		strbuf_addf(err, "cannot open the folder '%s': %s", src, strerror(errno));
		return -1;
	}
	if (mkdir(dst, 0700) < 0) {
		strbuf_addf(err, "cannot create '%s': %s", dst, strerror(errno));
		close(sfd);
		return -1;
	}
	return copy_dir(sfd, dst, "", &st);
}

/* Pre-order pass: make every folder ours to empty (npm makes read-only ones). */
static int open_up(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)ftw;
	if (flag == FTW_D && (sb->st_mode & 0700) != 0700)
		chmod(path, (sb->st_mode & 07777) | 0700);
	return 0;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	if (flag == FTW_DP || flag == FTW_D)
		return rmdir(path) < 0 && errno != ENOENT ? -1 : 0;
	return unlink(path) < 0 && errno != ENOENT ? -1 : 0;
}

int remove_tree(const char *path)
{
	struct stat sb;

	if (lstat(path, &sb) < 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISDIR(sb.st_mode))
		return unlink(path);
	/* folders without write permission (npm makes some) must still go */
	if (!(sb.st_mode & 0200) || !(sb.st_mode & 0100))
		chmod(path, (sb.st_mode & 07777) | 0700);
	nftw(path, open_up, 16, FTW_PHYS | FTW_MOUNT);
	return nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

int read_file_nofollow(const char *path, size_t max, struct strbuf *out)
{
	char buf[1 << 16];
	struct stat sb;
	ssize_t r;
	/* non-blocking open: a FIFO named like the file must not hang us */
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);

	if (fd < 0)
		return -1;
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
		close(fd);
		errno = S_ISDIR(sb.st_mode) ? EISDIR : EINVAL;
		return -1;
	}
	while ((r = read(fd, buf, sizeof(buf))) > 0) {
		if (out->len + (size_t)r > max) {
			close(fd);
			errno = EFBIG;
			return -1;
		}
		strbuf_add(out, buf, (size_t)r);
	}
	close(fd);
	return r < 0 ? -1 : 0;
}

int write_file_atomic(const char *path, const void *data, size_t len)
{
	char *tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	const char *p = data;
	int e;

	if (fd < 0)
		goto fail;
	while (len) {
		ssize_t w = write(fd, p, len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			goto fail_close;
		}
		p += w;
		len -= (size_t)w;
	}
	if (fsync(fd) < 0 || close(fd) < 0) {
		fd = -1;
		goto fail_unlink;
	}
	if (rename(tmp, path) < 0)
		goto fail_unlink;
	free(tmp);
	return 0;
fail_close:
	e = errno;
	close(fd);
	errno = e;
fail_unlink:
	e = errno;
	unlink(tmp);
	errno = e;
fail:
	free(tmp);
	return -1;
}

int remove_contents(const char *dir, const char *keep)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int rc = 0, saved = 0;

	if (!d)
		return -1;
	while ((de = readdir(d))) {
		char *p;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") || (keep && !strcmp(de->d_name, keep)))
			continue;
		p = xasprintf("%s/%s", dir, de->d_name);
		if (remove_tree(p) < 0 && !saved) {
			saved = errno;
			rc = -1;
		}
		free(p);
	}
	closedir(d);
	if (rc)
		errno = saved;
	return rc;
}

/*
 * Where `make install` puts the program and its data (the Makefile defines
 * both from PREFIX); the defaults are the Makefile's own.
 */
#ifndef PHASELAB_DATADIR
#define PHASELAB_DATADIR "/usr/local/share/phaselab"
#endif
#ifndef PHASELAB_BINDIR
#define PHASELAB_BINDIR "/usr/local/bin"
#endif

/* 1 when the folder dir (resolved) is the installed bindir, which has no data beside it. */
static int is_install_bindir(const char *dir)
{
	char real[PATH_MAX];

	return realpath(PHASELAB_BINDIR, real) && !strcmp(real, dir);
}

char *install_dir(const char *env, const char *name)
{
	const char *set = getenv(env);
	char exe[PATH_MAX], *slash;
	ssize_t n;
	struct stat sb;

	if (set && *set)
		return xstrdup(set);
	/* a build in the source tree: bin/phaselab beside phases/ and labs/ */
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		slash = strrchr(exe, '/');
		if (slash) {
			*slash = '\0';
			if (!is_install_bindir(*exe ? exe : "/")) {
				char *cand = xasprintf("%s/../%s", exe, name);

				if (stat(cand, &sb) == 0 && S_ISDIR(sb.st_mode))
					return cand;
				free(cand);
			}
		}
	}
	return xasprintf("%s/%s", PHASELAB_DATADIR, name);
}
