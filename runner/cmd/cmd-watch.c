/*
 * phaselab watch: verify the current step again whenever a file of the
 * service changes.  inotify on every folder of the service (except the
 * ones npm and git fill), debounced so a save of several files is one run;
 * a periodic scan of modification times where inotify is not available.
 * Ctrl-C stops it between runs or during one; either way the run's
 * containers and images are removed.
 */
#include "cmd/cmd.h"
#include "lib/http.h"
#include "lib/interrupt.h"
#include "cmd/learn.h"
#include "lib/strvec.h"
#include "lib/timeutil.h"
#include "lib/xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#define QUIET_MS 400    /* a change is acted on once the files were quiet this long */
#define SCAN_MS 1000    /* the polling fallback's period */

/* Folders whose contents are not the learner's edits. */
static int ignored(const char *name)
{
	return !strcmp(name, "node_modules") || !strcmp(name, ".git") || !strcmp(name, "dist") ||
	       !strcmp(name, ".phaselab") || !strcmp(name, "__pycache__") || !strcmp(name, ".venv") ||
	       !strcmp(name, "venv") || !strcmp(name, ".pytest_cache");
}

/* Watch dir and its folders, without following links. */
static void add_watches(int fd, const char *dir, int depth)
{
	DIR *d;
	struct dirent *de;

	if (inotify_add_watch(fd, dir, IN_CLOSE_WRITE | IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO |
			      IN_ATTRIB | IN_DONT_FOLLOW | IN_ONLYDIR) < 0 || depth > 32)
		return;
	d = opendir(dir);
	while (d && (de = readdir(d))) {
		struct stat sb;
		char *p;

		if (de->d_name[0] == '.' && (!de->d_name[1] || (de->d_name[1] == '.' && !de->d_name[2])))
			continue;
		if (ignored(de->d_name))
			continue;
		p = xasprintf("%s/%s", dir, de->d_name);
		if (lstat(p, &sb) == 0 && S_ISDIR(sb.st_mode))
			add_watches(fd, p, depth + 1);
		free(p);
	}
	if (d)
		closedir(d);
}

/* A fingerprint of the tree: names, sizes, modes and modification times. */
static void fingerprint(const char *dir, uint64_t *h, int depth)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	while (d && depth < 32 && (de = readdir(d))) {
		struct stat sb;
		char *p;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") || ignored(de->d_name))
			continue;
		p = xasprintf("%s/%s", dir, de->d_name);
		if (lstat(p, &sb) == 0) {
			uint64_t v[4] = { (uint64_t)sb.st_size, (uint64_t)sb.st_mode,
					  (uint64_t)sb.st_mtim.tv_sec, (uint64_t)sb.st_mtim.tv_nsec };
			/* FNV-1a over the name and the numbers; the order of readdir does not matter */
			uint64_t e = 1469598103934665603ULL;
			for (const char *c = p; *c; c++)
				e = (e ^ (unsigned char)*c) * 1099511628211ULL;
			for (int i = 0; i < 4; i++)
				e = (e ^ v[i]) * 1099511628211ULL;
			*h += e;
			if (S_ISDIR(sb.st_mode))
				fingerprint(p, h, depth + 1);
		}
		free(p);
	}
	if (d)
		closedir(d);
}

/*
 * Wait for a change to one of dirs (NULL-terminated) and for the quiet
 * after it.  1 changed, 0 interrupted.
 */
static int wait_for_change(const char *const *dirs, int use_inotify)
{
	int ifd = use_inotify ? inotify_init1(IN_NONBLOCK | IN_CLOEXEC) : -1;
	uint64_t before = 0, now;
	long long last = 0;
	char buf[8192];

	for (const char *const *d = dirs; *d; d++) {
		if (ifd >= 0)
			add_watches(ifd, *d, 0);
		else
			fingerprint(*d, &before, 0);
	}
	for (;;) {
		struct pollfd fds[2] = { { interrupt_fd(), POLLIN, 0 }, { ifd, POLLIN, 0 } };
		long wait = last ? QUIET_MS - (now_ms() - last) : (ifd >= 0 ? -1 : SCAN_MS);
		int n;

		if (last && wait <= 0)
			break;
		n = poll(fds, ifd >= 0 ? 2 : 1, (int)wait);
		if (interrupt_pending() || (n > 0 && (fds[0].revents & POLLIN)))
			break;
		if (ifd >= 0) {
			if (n > 0 && (fds[1].revents & POLLIN)) {
				while (read(ifd, buf, sizeof(buf)) > 0)
					;
				last = now_ms();
			}
		} else {
			now = 0;
			for (const char *const *d = dirs; *d; d++)
				fingerprint(*d, &now, 0);
			if (now != before) {
				before = now;
				last = now_ms(); /* a change, or still changing: wait for quiet (again) */
			}
		}
	}
	if (ifd >= 0)
		close(ifd);
	return !interrupt_pending();
}

/* The folders the current step of ph is about (absolute, in dirs) and their names for the learner. */
static void watched(const struct workspace *ws, const struct phase *ph, struct strvec *dirs, struct strbuf *what)
{
	struct strvec names = STRVEC_INIT;
	int k = progress_step(&ws->pg, ph);

	if (k >= 0 && learn_step_services(ph, k, &names) > 0) {
		for (size_t i = 0; i < names.nr; i++) {
			char *key = learn_service_key(ph, names.v[i]);

			strvec_pushf(dirs, "%s/%s", ws->root, key);
			strbuf_addf(what, "%s%s/", i == 0 ? "" : i + 1 == names.nr ? " and " : ", ", key);
			free(key);
		}
	} else {
		strvec_pushf(dirs, "%s/%s", ws->root, ph->service_dir);
		strbuf_addf(what, "%s/", ph->service_dir);
	}
	strvec_clear(&names);
}

static int cmd_watch(const struct cmd_args *args)
{
	struct workspace ws;
	const char *mode = getenv("PHASELAB_WATCH");
	int use_inotify = !(mode && !strcmp(mode, "poll"));
	int rc;

	(void)args;
	if ((rc = workspace_open(&ws)))
		return rc;
	/* a log file or a pipe sees each line as it happens, as a terminal does */
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (interrupt_install() < 0 || http_global_init() < 0) {
		workspace_close(&ws);
		return cmd_fail(EXIT_ENVIRONMENT, "cannot set up signal handling or libcurl");
	}
	if (use_inotify) {
		int probe = inotify_init1(IN_CLOEXEC);
		if (probe < 0) {
			cmd_fail(0, "watch: inotify is not available (%s): scanning for changes every second instead",
				 strerror(errno));
			use_inotify = 0;
		} else {
			close(probe);
		}
	}
	for (;;) {
		const struct phase *ph = learn_phase(&ws, NULL, &rc);
		struct strvec dirs = STRVEC_INIT;
		struct strbuf what = STRBUF_INIT;
		int changed;

		if (!ph)
			break;
		int step_rc = learn_verify_step(&ws, ph);

		rc = step_rc;
		if (rc == EXIT_INTERRUPTED || rc == EXIT_ENVIRONMENT || rc == EXIT_USAGE)
			break;
		if (step_rc == EXIT_PASSED) {
			/*
			 * A new step (or phase) opened: the learner reads it first.  Verifying
			 * it at once could pass it unread (a step the last one's work already
			 * satisfies), so it waits for the next save like any other change.
			 */
			ph = progress_current(&ws.pg, &ws.set);
			if (!ph)
				break; /* the last phase: learn_verify_step said so */
		}
		watched(&ws, ph, &dirs, &what);
		if (step_rc == EXIT_PASSED) {
			putchar('\n');
			learn_say(0, "Watching %s for changes (Ctrl-C to stop): the new step is verified when you "
				  "next save a file ...", what.buf);
		} else {
			printf("\nWatching %s for changes (Ctrl-C to stop) ...\n", what.buf);
		}
		fflush(stdout);
		changed = wait_for_change(dirs.v, use_inotify);
		strvec_clear(&dirs);
		strbuf_release(&what);
		if (!changed) {
			rc = EXIT_INTERRUPTED;
			break;
		}
		printf("\nA file changed: verifying again.\n\n");
	}
	if (rc == EXIT_INTERRUPTED)
		fprintf(stderr, "phaselab: watch stopped; nothing of its runs is left behind\n");
	http_global_cleanup();
	workspace_close(&ws);
	return rc;
}

const struct cmd_entry cmd_watch_entry = {
	.name = "watch",
	.summary = "verify the step again each time you save a file",
	.about = "Verify the step you are on now, then again each time you save a file in the service "
		 "folder.  When a step passes, the next one opens and watch names it: read it with "
		 "`phaselab show`; it is verified on your next save, not at once.  Ctrl-C stops.  "
		 "PHASELAB_WATCH=poll scans for changes instead of using inotify.",
	.exit_status = "0 every phase passed, 2 no workspace, 3 the engine is not usable, 130 stopped with Ctrl-C",
	.exec = cmd_watch,
};
