/*
 * phaselab reset: start the phases again.  It asks first, keeps the old
 * progress file beside the new one, and never touches the learner's files.
 * It is also the way out of a damaged progress file, so it does not read it.
 */
#include "cmd/cmd.h"
#include "lib/fsutil.h"
#include "cmd/learn.h"
#include "learn/progress.h"
#include "lib/timeutil.h"
#include "lib/xalloc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int cmd_reset(const struct cmd_args *args)
{
	struct strbuf err = STRBUF_INIT;
	char *root, *file = NULL, *keep = NULL, *track = NULL, answer[16] = "";
	char stamp[32];
	time_t t = time(NULL);
	struct tm tm;
	int rc;

	root = workspace_find(".");
	if (!root)
		return cmd_fail(EXIT_USAGE, "reset: this folder is not in a phaselab workspace");
	if (!cmd_flag(args, "yes")) {
		if (!isatty(0)) {
			rc = cmd_fail(EXIT_USAGE, "reset: it asks before forgetting your progress, and there is no "
				      "terminal to answer on: run it in one, or pass --yes");
			goto out;
		}
		printf("Forget your progress in %s?  Every phase starts again from its first step;\n"
		       "your files are not touched and the old progress file is kept.  [y/N] ", root);
		fflush(stdout);
		if (!fgets(answer, sizeof(answer), stdin) || (answer[0] != 'y' && answer[0] != 'Y')) {
			printf("Nothing changed.\n");
			rc = EXIT_NOT_PASSED;
			goto out;
		}
	}
	file = workspace_progress_file(root);
	gmtime_r(&t, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	keep = xasprintf("%s/%s/progress-%s.json", root, WORKSPACE_STATE, stamp);
	/*
	 * A link, not a rename: it never replaces an earlier copy (two resets in
	 * one second), and progress.json exists at every moment.
	 */
	if (link(file, keep) < 0 && errno != ENOENT) {
		rc = cmd_fail(EXIT_ENVIRONMENT, "reset: cannot keep '%s' as '%s': %s", file, keep, strerror(errno));
		goto out;
	}
	/* the workspace keeps its track: from the old file if it says, else from its folders */
	track = progress_peek_track(file);
	if (!track)
		track = workspace_guess_track(root);
	if (progress_write_empty(file, track, &err) < 0) {
		rc = cmd_fail(EXIT_ENVIRONMENT, "reset: %s", err.buf);
		goto out;
	}
	printf("Progress reset (the old file is %s).  `phaselab` says where to start.\n", keep);
	rc = EXIT_PASSED;
out:
	strbuf_release(&err);
	free(root);
	free(file);
	free(keep);
	free(track);
	return rc;
}

static const struct cmd_option options[] = {
	{ .name = "yes", .doc = "do not ask (for scripts)" },
	{ 0 },
};

const struct cmd_entry cmd_reset_entry = {
	.name = "reset",
	.summary = "start the phases again (asks first; your files are kept)",
	.about = "Forget your progress: every phase starts again from its first step.  Your files are not "
		 "touched; the old progress file is kept in .phaselab/.  Asks first; --yes answers for "
		 "scripts.",
	.options = options,
	.exit_status = "0 reset, 1 you said no, 2 no workspace, or no answer possible",
	.exec = cmd_reset,
};
