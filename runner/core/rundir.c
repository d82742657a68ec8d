#include "core/rundir.h"
#include "engine/engine.h"
#include "lib/fsutil.h"
#include "lib/xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char *state_dir(void)
{
	const char *s = getenv("PHASELAB_STATE_DIR");
	const char *xdg = getenv("XDG_RUNTIME_DIR");

	if (s && *s)
		return xstrdup(s);
	if (xdg && *xdg)
		return xasprintf("%s/phaselab", xdg);
	return xasprintf("/tmp/phaselab-%ld", (long)getuid());
}

static int mkdir_private(const char *path, struct strbuf *err)
{
	struct stat sb;

	if (mkdir(path, 0700) < 0 && errno != EEXIST) {
		strbuf_addf(err, "cannot create the state folder '%s': %s", path, strerror(errno));
		return -1;
	}
	/* a folder in /tmp that someone else made is not ours to trust */
	if (lstat(path, &sb) < 0 || !S_ISDIR(sb.st_mode) || sb.st_uid != getuid()) {
		strbuf_addf(err, "the state folder '%s' is not a folder owned by you", path);
		return -1;
	}
	return 0;
}

int rundir_create(struct rundir *rd, struct strbuf *err)
{
	char *base = state_dir(), *runs = NULL, *lock = NULL;
	struct timespec ts;
	unsigned rnd = 0;
	int fd, rc = -1;

	memset(rd, 0, sizeof(*rd));
	rd->lock_fd = -1;
	if (mkdir_private(base, err) < 0)
		goto out;
	runs = xasprintf("%s/runs", base);
	if (mkdir_private(runs, err) < 0)
		goto out;

	fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (read(fd, &rnd, sizeof(rnd)) < 0)
			rnd = 0;
		close(fd);
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(rd->id, sizeof(rd->id), "%lx-%lx-%04x", (unsigned long)ts.tv_sec,
		 (unsigned long)getpid(), rnd & 0xffff);
	rd->path = xasprintf("%s/%s", runs, rd->id);
	if (mkdir(rd->path, 0700) < 0) {
		strbuf_addf(err, "cannot create the run folder '%s': %s", rd->path, strerror(errno));
		goto out;
	}
	lock = xasprintf("%s/lock", rd->path);
	rd->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (rd->lock_fd < 0 || flock(rd->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		strbuf_addf(err, "cannot lock the run folder '%s': %s", rd->path, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	free(base);
	free(runs);
	free(lock);
	return rc;
}

char *rundir_path(const struct rundir *rd, const char *name)
{
	return xasprintf("%s/%s", rd->path, name);
}

/* What a dead run's folder must keep for rundir_reap_stale: its lock, and the engine's records. */
static int kept_for_reaping(const char *name)
{
	return !strcmp(name, "lock") || engine_scratch_record(name);
}

void rundir_abandon(struct rundir *rd)
{
	char *keep = rd->path;
	DIR *d;
	struct dirent *de;

	/* scratch files go; the folder, its lock and the engine's records stay, for rundir_reap_stale */
	if (keep && (d = opendir(keep))) {
		while ((de = readdir(d))) {
			char *path;

			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") || kept_for_reaping(de->d_name))
				continue;
			path = xasprintf("%s/%s", keep, de->d_name);
			remove_tree(path);
			free(path);
		}
		closedir(d);
	}
	rd->path = NULL;
	rundir_remove(rd);
	free(keep);
}

void rundir_remove(struct rundir *rd)
{
	if (rd->path)
		remove_tree(rd->path);
	if (rd->lock_fd >= 0)
		close(rd->lock_fd);
	free(rd->path);
	rd->path = NULL;
	rd->lock_fd = -1;
}

int rundir_reap_stale(struct engine *e)
{
	char *base = state_dir(), *runs = xasprintf("%s/runs", base);
	DIR *d = opendir(runs);
	struct dirent *de;
	int found = 0;

	while (d && (de = readdir(d))) {
		char *path, *lock;
		int fd;

		if (de->d_name[0] == '.')
			continue;
		path = xasprintf("%s/%s", runs, de->d_name);
		lock = xasprintf("%s/lock", path);
		fd = open(lock, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
		/*
		 * No lock file: a run killed between mkdir and open, or one
		 * starting right now; only an old folder is a dead one.
		 */
		if (fd < 0) {
			struct stat sb;
			if (lstat(path, &sb) < 0 || time(NULL) - sb.st_mtime < 60) {
				free(path);
				free(lock);
				continue;
			}
		}
		if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) == 0) {
			found++;
			/* the folder is the only trace of the run: keep it until its objects are gone */
			if (!e || engine_reap(e, de->d_name, path) >= 0)
				remove_tree(path);
		}
		if (fd >= 0)
			close(fd);
		free(path);
		free(lock);
	}
	if (d)
		closedir(d);
	free(base);
	free(runs);
	return found;
}
