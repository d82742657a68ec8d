/*
 * apt-clean: no package lists (/var/lib/apt/lists, but its lock and
 * partial/) and no downloaded packages (.deb under /var/cache/apt/archives)
 * in the image, measured per layer: the final filesystem holds none, and no
 * layer ships them only for a later layer to delete them (the bytes stay in
 * the earlier layer; only cleaning in the same RUN shrinks the image).
 * SKELETON: the interface (parameters, causes) is fixed; run is to be written.
 */
#include "core/check.h"

static const struct key_spec params[] = {
	{ "lists_dir", KEY_STRING, 0, 1, 200, "the package lists' folder (no leading /)", "var/lib/apt/lists" },
	{ "archives_dir", KEY_STRING, 0, 1, 200, "the downloaded packages' folder", "var/cache/apt/archives" },
	{ NULL, 0, 0, 0, 0, NULL, NULL },
};

static const char *const causes[] = {
	"lists-left",    /* the final filesystem holds package lists: step, files, bytes */
	"debs-left",     /* ... downloaded .deb files */
	"cleaned-later", /* a layer ships them and a later RUN deletes them: step, later_step, bytes */
	NULL,
};

static void run(struct check_ctx *ctx, const struct check_def *def, struct check_result *res)
{
	(void)ctx;
	(void)def;
	result_set(res, CHECK_ERROR, "not written yet");
}

const struct check_kind check_apt_clean = {
	.name = "apt-clean",
	.summary = "no package lists or downloaded packages in any layer of the image",
	.needs = NEED_IMAGE,
	.params = params,
	.causes = causes,
	.run = run,
};
