/*
 * no-shell: no shell can run in the container, and none is on the image's
 * filesystem.  Two looks: `exec sh` in the running container, as the lesson
 * tries it, and a search of the container's filesystem (which also works
 * when the container exited) for a file or link named like any of the
 * shells, in any folder, and for a shell under another name: an executable
 * that is an ELF program carrying a shell's own words (busybox copied in as
 * /app/bin/tick is still a shell).  A shell that is on the filesystem fails
 * the item whether or not it runs, and one that is not there cannot be run
 * by name, so one exec is all the search leaves to decide.
 */
#include "core/check.h"
#include "core/language.h"
#include "lib/dfstages.h"
#include "lib/tar.h"
#include "lib/xalloc.h"

#include <stdlib.h>
#include <string.h>

static const struct key_spec params[] = {
	{ "shells", KEY_STRINGS, 0, 1, 32, "program names that count as a shell", "sh bash ash dash busybox" },
	{ "runtime_image", KEY_STRING, 0, 1, 200, "the shell-less base the last stage should start from, for the "
	  "corrected line", NULL },
	{ NULL, 0, 0, 0, 0, NULL, NULL },
};


/*
 * What each shell's program holds whatever it is called: its version banner
 * or a message only its parser prints.  Shells are small (dash 125 KB, bash
 * 1.3 MB, busybox 2 MB); bigger executables (node is 90 MB) are not read.
 */
static const struct {
	const char *shell, *words;
} signatures[] = {
	{ "busybox", "BusyBox v" },
	{ "bash", "GNU bash, version " },
	{ "dash", "%s unexpected (expecting %s)" },
	{ "mksh", "MIRBSD KSH" },
};
#define SIGNATURE_MAX_BYTES (4u << 20)

struct scan {
	const char *const *shells;
	json_t *found;      /* paths */
	json_t *disguised;  /* { path, shell }: found by contents, not by name */
	size_t count;
};

static void found(struct scan *s, const char *path, const char *shell)
{
	if (s->count++ >= 20)
		return;
	json_array_append_new(s->found, json_string(path));
	if (shell)
		json_array_append_new(s->disguised, json_pack("{s:s, s:s}", "path", path, "shell", shell));
}

/* An executable worth reading: a regular file of a shell's size, not a shared library. */
static int worth_reading(const struct tar_entry *e, const char *base)
{
	const char *so = strstr(base, ".so");

	if (e->type != '0' || !(e->mode & 0111) || e->size < 4096 || e->size > SIGNATURE_MAX_BYTES)
		return 0;
	return !(so && (so[3] == '\0' || so[3] == '.'));
}

static int on_entry(void *vctx, const struct tar_entry *e, const struct strbuf *data)
{
	struct scan *s = vctx;
	const char *base = strrchr(e->name, '/');

	base = base ? base + 1 : e->name;
	if (e->type == '5')
		return 0;
	if (data) {
		if (data->len < 4 || memcmp(data->buf, "\177ELF", 4))
			return 0;
		for (size_t i = 0; i < ARRAY_SIZE(signatures); i++) {
			if (memmem(data->buf, data->len, signatures[i].words, strlen(signatures[i].words))) {
				found(s, e->name, signatures[i].shell);
				break;
			}
		}
		return 0;
	}
	for (const char *const *sh = s->shells; *sh; sh++) {
		if (strcmp(base, *sh))
			continue;
		/* a link counts: /bin/sh -> busybox is how most images have one */
		if (e->type == '2' || e->type == '1' || (e->mode & 0111)) {
			found(s, e->name, NULL);
			return 0;
		}
	}
	return worth_reading(e, base) ? 2 : 0;
}

/*
 * Why the image has a shell: its base brings one (a shell at bin/sh, as
 * every base with a shell has it), or it was copied in.  The learner's line
 * goes to the evidence: the last FROM, or the last stage's COPY or ADD that
 * names the shell's file (or busybox, or a bin/ folder).
 */
static const char *shell_cause(struct check_ctx *ctx, const struct check_def *def, const struct scan *scan,
			       struct check_result *res)
{
	const char *runtime = obj_str(def->params, "runtime_image", NULL);
	struct df_instrs df;
	const struct df_instr *hit = NULL;
	const char *cause = "shell-copied";
	size_t i;
	json_t *v;

	json_array_foreach(scan->found, i, v) {
		const char *p = json_string_value(v);
		if (!strcmp(p, "bin/sh") || !strcmp(p, "usr/bin/sh") || !strcmp(p, "bin/bash"))
			cause = "shell-in-base";
	}
	df_instrs_load(&df, ctx->dir);
	if (df.nstages && !strcmp(cause, "shell-in-base")) {
		hit = df_instrs_from(&df, df.nstages - 1);
		if (runtime)
			result_evidence(res, "corrected", json_sprintf("FROM %s", runtime));
	} else if (df.nstages) {
		const char *path = json_string_value(json_array_get(scan->found, 0));
		const char *base = path ? strrchr(path, '/') : NULL;

		base = base ? base + 1 : path;
		for (size_t k = 0; k < df.n; k++) {
			const struct df_instr *in = &df.v[k];

			if (in->stage != df.nstages - 1 || (strcmp(in->keyword, "COPY") && strcmp(in->keyword, "ADD")))
				continue;
			if ((base && strstr(in->args, base)) || strstr(in->args, "busybox") || strstr(in->args, "/bin"))
				hit = in;
		}
		if (path)
			result_evidence(res, "path", json_string(path));
	}
	if (hit) {
		result_evidence(res, "line", json_string(hit->text));
		result_evidence(res, "line_number", json_integer(hit->line));
	}
	df_instrs_release(&df);
	return cause;
}

static void run(struct check_ctx *ctx, const struct check_def *def, struct check_result *res)
{
	json_t *list = param_strs(def, "shells");
	const char **shells;
	struct scan scan = { 0 };
	json_t *ran = json_array(), *v;
	size_t i, n = json_array_size(list);
	int running;

	shells = xcalloc(n + 1, sizeof(*shells));
	json_array_foreach(list, i, v)
		shells[i] = json_string_value(v);

	/* the running container first: `docker exec <c> sh` is what the lesson tries */
	ctx_need_container(ctx);
	running = ctx_container_running(ctx);
	if (running) {
		/* the program to try in the container; busybox runs an applet: `busybox true` */
		int busybox = !strcmp(shells[0], "busybox");
		const char *const command[] = { shells[0], busybox ? "true" : "-c", busybox ? NULL : "exit 0", NULL };

		if (engine_exec(ctx->engine, ctx->container_id, command, 20000, NULL) == 0)
			json_array_append_new(ran, json_string(shells[0]));
	}

	scan.shells = shells;
	scan.found = json_array();
	scan.disguised = json_array();
	if (ctx_walk_fs(ctx, on_entry, &scan, SIGNATURE_MAX_BYTES) < 0) {
		result_set(res, CHECK_ERROR, "cannot look at the image's filesystem: %s",
			   ctx->export_failure ? ctx->export_failure : "no reason given");
		json_decref(scan.found);
		json_decref(scan.disguised);
		json_decref(ran);
		free(shells);
		json_decref(list);
		return;
	}
	result_evidence(res, "ran_in_container", ran);
	result_evidence(res, "container_running", json_boolean(running));
	result_evidence(res, "found_on_filesystem", scan.found);
	result_evidence(res, "found_by_contents", json_incref(scan.disguised));

	if (json_array_size(ran) || scan.count) {
		struct strbuf what = STRBUF_INIT;
		json_array_foreach(ran, i, v)
			strbuf_addf(&what, "%s`%s` runs in the container", what.len ? ", " : "", json_string_value(v));
		if (scan.count)
			strbuf_addf(&what, "%s%zu shell file%s on the filesystem (%s%s)", what.len ? "; " : "",
				    scan.count, scan.count == 1 ? "" : "s",
				    json_string_value(json_array_get(scan.found, 0)), scan.count > 1 ? ", ..." : "");
		if ((v = json_array_get(scan.disguised, 0))) /* the first says what happened */
			strbuf_addf(&what, "; %s is %s under another name", json_string_value(json_object_get(v, "path")),
				    json_string_value(json_object_get(v, "shell")));
		result_set(res, CHECK_FAIL, "the image has a shell: %s", what.buf);
		result_cause(res, shell_cause(ctx, def, &scan, res));
		if (json_array_size(scan.disguised) == scan.count && !json_array_size(ran))
			result_hint(res, "%s is a shell program copied in under another name, and renaming it does not "
				    "disarm it: remove the COPY or RUN that puts it in the runtime stage, which needs only "
				    "node and your app; for debugging, use an ephemeral debug container",
				    json_string_value(json_object_get(json_array_get(scan.disguised, 0), "path")));
		else if (phase_is_python(ctx->phase))
			result_hint(res, "base the runtime stage on the distroless Python image (FROM %s), which has no "
				    "shell or package manager, and copy only the installed packages and the app into it; for "
				    "debugging, use an ephemeral debug container instead of a shell in the image",
				    obj_str(def->params, "runtime_image", "gcr.io/distroless/python3-debian12"));
		else
			result_hint(res, "base the runtime stage on the distroless Node image (FROM gcr.io/distroless/nodejs20-debian12), "
				    "which has no shell or package manager, and copy only the app into it; for debugging, "
				    "use an ephemeral debug container instead of a shell in the image");
		strbuf_release(&what);
	} else {
		result_set(res, CHECK_PASS, "no shell runs in the container%s, and the filesystem holds none of %zu "
			   "names and no shell program under another name",
			   running ? "" : " (not running: filesystem only)", n);
	}
	json_decref(scan.disguised);
	free(shells);
	json_decref(list);
}

static const char *const causes[] = {
	"shell-in-base", /* the last stage's base has one: line (its FROM), line_number, corrected */
	"shell-copied",  /* copied in (by name or under another): path, line, line_number when found */
	NULL,
};

const struct check_kind check_no_shell = {
	.name = "no-shell",
	.summary = "no shell can run in the container or is in the image",
	.needs = NEED_IMAGE,
	.uses_container = 1,
	.params = params,
	.causes = causes,
	.run = run,
};
