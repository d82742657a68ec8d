/*
 * process-user: the container's process does not run as root.  The UID is
 * the engine's (`top`), of the running process, not what the Dockerfile
 * says; the image's USER and what it resolves to are evidence and help the
 * message explain the lesson's 65534/65532 erratum.
 */
#include "core/check.h"
#include "lib/tar.h"
#include "lib/xalloc.h"

#include <stdlib.h>
#include <string.h>

static const struct key_spec params[] = {
	{ "accepted_uids", KEY_INTS, 1, 1, 32, "the UIDs that pass (the distroless nonroot 65532, nobody 65534)", NULL },
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

static int accepted(const struct check_def *def, long uid)
{
	json_t *v;
	size_t i;

	json_array_foreach(json_object_get(def->params, "accepted_uids"), i, v)
		if (json_integer_value(v) == uid)
			return 1;
	return 0;
}

static void run(struct check_ctx *ctx, const struct check_def *def, struct check_result *res)
{
	const char *user = json_string_value(json_object_get(json_object_get(ctx->image, "Config"), "User"));
	struct top_row *rows = NULL;
	size_t n = 0;
	long uid, declared = -1;
	json_t *procs = json_array();

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
	result_evidence(res, "processes", procs);
	result_evidence(res, "image_user", json_string(user));
	result_evidence(res, "image_user_uid", declared >= 0 ? json_integer(declared) : json_null());

	if (uid == 0) {
		result_set(res, CHECK_FAIL, "the process runs as root (UID 0)%s%s%s", *user ? "; the image's USER is '" : "; the image declares no USER",
			   user, *user ? "'" : "");
		result_hint(res, "add `USER nonroot` to the runtime stage, after the COPY steps: the distroless "
			    "image has that user (UID 65532), and files copied in stay readable by it");
	} else if (accepted(def, uid)) {
		if (uid == 65532)
			result_set(res, CHECK_PASS, "runs as UID 65532 (%s%s); note: the lesson calls it 65534, but in "
				   "distroless images nonroot is 65532 and 65534 is nobody, both accepted",
				   *user ? "USER " : "no USER", user);
		else
			result_set(res, CHECK_PASS, "runs as UID %ld (%s%s)", uid, *user ? "USER " : "no USER", user);
	} else {
		result_set(res, CHECK_FAIL, "the process runs as UID %ld, which this phase does not accept", uid);
		result_hint(res, "use the distroless image's own non-root user, `USER nonroot` (UID 65532); "
			    "UID 65534 (nobody) is accepted too");
	}
	free(rows);
}

const struct check_kind check_process_user = {
	.name = "process-user",
	.summary = "the container's process does not run as root",
	.needs = NEED_CONTAINER,
	.uses_container = 1,
	.params = params,
	.run = run,
};
