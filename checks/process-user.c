/*
 * process-user: the container's process does not run as root.  The UID is
 * the engine's (`top`), of the running process, not what the Dockerfile
 * says: any UID but 0 passes.  When it is not the UID the lesson's image
 * uses (expected_uid: the distroless `nonroot`, 65532) the pass carries a
 * note saying which user the lesson uses and why; 65534, the `nobody` the
 * original workshop text names, gets its own note.  The image's USER, what
 * it resolves to, and the learner's USER line (lib/dfstages.h) are
 * evidence, and name the cause of a failure: no USER at all, a USER that is
 * root, or a USER only in an earlier stage (it does not carry over).
 *
 * Which user the lesson means is the phase's to say (expected_uid,
 * expected_user, user_image): the workshop's distroless `nonroot` by
 * default, the backend track's `node` of node:18-slim.  A phase that names
 * its user (expected_user) also gets it named in the hint on root.
 */
#include "core/check.h"
#include "lib/dfstages.h"
#include "lib/tar.h"
#include "lib/xalloc.h"

#include <stdlib.h>
#include <string.h>

static const struct key_spec params[] = {
	{ "expected_uid", KEY_INT, 0, 1, 2147483647, "the UID the lesson's image runs as (distroless nonroot); "
	  "any other UID but 0 passes with a note", "65532" },
	{ "expected_user", KEY_STRING, 0, 1, 32, "that user's name, as the USER line the lesson writes names it",
	  "nonroot" },
	{ "user_image", KEY_STRING, 0, 1, 100, "the image that has that user, for the notes (\"the distroless image's "
	  "nonroot user\")", "distroless image" },
	{ "nobody_note", KEY_BOOL, 0, 0, 0, "true: a pass as 65534 notes that it is `nobody`, the UID the original "
	  "workshop text gives", "true" },
	{ NULL, 0, 0, 0, 0, NULL, NULL },
};

struct passwd_lookup {
	const char *name;
	long uid;
	int found;
};

static int on_entry(void *vctx, const struct tar_entry *e, const struct strbuf *data)
{
	struct passwd_lookup *pl = vctx;
	char *line, *save = NULL, *copy;
	size_t nlen = strlen(pl->name);

	if (strcmp(e->name, "etc/passwd") || e->type != '0')
		return 0;
	if (!data)
		return 2; /* read it */
	copy = xstrndup(data->buf, data->len);
	for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *colon;
		if (strncmp(line, pl->name, nlen) || line[nlen] != ':')
			continue;
		colon = strchr(line + nlen + 1, ':'); /* past the password field */
		if (colon) {
			pl->uid = strtol(colon + 1, NULL, 10);
			pl->found = 1;
		}
		break;
	}
	free(copy);
	return 1;
}

/* What the image's USER resolves to: -1 when unknown. */
static long resolve_user(struct check_ctx *ctx, const char *user)
{
	struct passwd_lookup pl = { 0 };
	char *name = xstrdup(user), *colon = strchr(name, ':');
	char *end;
	long uid;

	if (colon)
		*colon = '\0';
	uid = strtol(name, &end, 10);
	if (*name && !*end) {
		free(name);
		return uid;
	}
	pl.name = name;
	if (*name)
		ctx_walk_fs(ctx, on_entry, &pl, 1 << 20);
	free(name);
	return pl.found ? pl.uid : -1;
}

/*
 * Why the process runs as root, from the Dockerfile's USER lines: the cause
 * and the learner's line as evidence (line, line_number, corrected).
 */
static const char *root_cause(struct check_ctx *ctx, struct check_result *res, const char *user,
			      const char *expected_user)
{
	struct df_instrs df;
	const struct df_instr *in, *from;
	const char *cause;

	df_instrs_load(&df, ctx->dir);
	in = df.nstages ? df_instrs_last(&df, df.nstages - 1, "USER") : NULL;
	from = df.nstages ? df_instrs_from(&df, df.nstages - 1) : NULL;
	if (*user) {
		cause = "user-root";
		if (in) {
			result_evidence(res, "line", json_string(in->text));
			result_evidence(res, "line_number", json_integer(in->line));
		} else {
			result_evidence(res, "line", json_sprintf("USER %s", user));
		}
	} else if ((in = df_instrs_last(&df, -1, "USER"))) {
		/* a USER, but in an earlier stage: each stage starts afresh */
		cause = "user-in-builder";
		result_evidence(res, "line", json_string(in->text));
		result_evidence(res, "line_number", json_integer(in->line));
	} else {
		cause = "no-user";
	}
	if (from) {
		result_evidence(res, "runtime_from", json_string(from->text));
		result_evidence(res, "runtime_line_number", json_integer(from->line));
	}
	result_evidence(res, "corrected", json_sprintf("USER %s", expected_user));
	df_instrs_release(&df);
	return cause;
}

static void run(struct check_ctx *ctx, const struct check_def *def, struct check_result *res)
{
	const char *user = json_string_value(json_object_get(json_object_get(ctx->image, "Config"), "User"));
	long expected = param_int(def, "expected_uid");
	const char *expected_user = param_str(def, "expected_user"), *image = param_str(def, "user_image");
	struct top_row *rows = NULL;
	size_t n = 0;
	long uid, declared = -1;
	json_t *procs = json_array();
	char as[160];

	if (!user)
		user = "";
	if (engine_top(ctx->engine, ctx->container_id, &rows, &n) < 0 || n == 0) {
		json_decref(procs);
		free(rows);
		if (!ctx_container_running(ctx) && ctx->container != STAGE_ERROR) {
			result_set(res, CHECK_SKIP, "waits on '%s': %s", ctx->container_check_id, ctx->container_failure);
			return;
		}
		result_engine_error(res, ctx, "listing the container's processes");
		return;
	}
	for (size_t i = 0; i < n; i++)
		json_array_append_new(procs, json_pack("{s:I, s:I, s:s}", "pid", (json_int_t)rows[i].pid,
						       "uid", (json_int_t)rows[i].uid, "command", rows[i].comm));
	uid = rows[0].uid;
	/* any process as root fails, not just the first */
	for (size_t i = 0; i < n; i++)
		if (rows[i].uid == 0)
			uid = 0;
	if (*user)
		declared = resolve_user(ctx, user);
	result_evidence(res, "uid", json_integer(uid));
	result_evidence(res, "expected_uid", json_integer(expected));
	result_evidence(res, "processes", procs);
	result_evidence(res, "image_user", json_string(user));
	result_evidence(res, "image_user_uid", declared >= 0 ? json_integer(declared) : json_null());
	snprintf(as, sizeof(as), "%s%.120s", *user ? "USER " : "no USER", user);

	if (uid == 0) {
		const char *cause = root_cause(ctx, res, user, expected_user);
		struct strbuf named = STRBUF_INIT;

		result_cause(res, cause);
		if (!strcmp(cause, "user-in-builder"))
			result_set(res, CHECK_FAIL, "the process runs as root (UID 0): the only USER line is in an "
				   "earlier stage, and the last stage starts again as root");
		else
			result_set(res, CHECK_FAIL, "the process runs as root (UID 0)%s%s%s",
				   *user ? "; the image's USER is '" : "; the image declares no USER", user,
				   *user ? "'" : "");
		/* a phase that names its user gets the line to write (the workshop's hint stays as it was) */
		if (json_object_get(def->params, "expected_user"))
			strbuf_addf(&named, ": `USER %s`, a user the %s has (UID %ld)", expected_user, image, expected);
		result_hint(res, "`docker top` on the running container shows UID 0: the last stage decides the user, "
			    "so the USER line belongs there, after the COPY steps%s", named.buf);
		strbuf_release(&named);
	} else if (uid == expected) {
		result_set(res, CHECK_PASS, "runs as UID %ld (%s), the %s's %s user", uid, as, image, expected_user);
	} else if (uid == 65534 && param_bool(def, "nobody_note")) {
		result_set(res, CHECK_PASS, "runs as UID 65534 (%s): not root, so it passes. Note: 65534 is `nobody`, "
			   "the UID the original workshop text gives; the lesson uses `%s` (UID %ld), a user of "
			   "its own rather than the one many unrelated programs share", as, expected_user, expected);
	} else {
		result_set(res, CHECK_PASS, "runs as UID %ld (%s): not root, so it passes. Note: the lesson's "
			   "%s has a user for this, `%s` (UID %ld); whichever you use, a fixed "
			   "non-root UID keeps a break-out from the service unprivileged, and files copied in stay "
			   "readable by it", uid, as, image, expected_user, expected);
	}
	free(rows);
}

static const char *const causes[] = {
	"no-user",         /* no USER in any stage; corrected */
	"user-root",       /* USER root or 0: line, line_number, corrected */
	"user-in-builder", /* a USER only in an earlier stage: line, line_number, corrected */
	NULL,
};

const struct check_kind check_process_user = {
	.name = "process-user",
	.summary = "the container's process does not run as root",
	.needs = NEED_CONTAINER,
	.uses_container = 1,
	.params = params,
	.causes = causes,
	.run = run,
};
