/*
 * registry-image: the registry serves <repository>:<tag>, the tag being the
 * commit checked, and what it serves is what the tree builds: the manifest
 * (by tag) and its config are read through the Registry HTTP API, never a
 * layer, and the config's layers are compared with the image built here.
 * SKELETON: the interface (parameters, causes) is fixed; run is to be written.
 */
#include "core/check.h"

static const struct key_spec params[] = {
	{ "registry", KEY_STRING, 0, 1, 255, "host:port of the registry ($PHASELAB_REGISTRY overrides)",
	  "127.0.0.1:5000" },
	{ "repository", KEY_STRING, 0, 1, 255, "the repository; {learner} is the learner's id", "prod-e-backend" },
	{ NULL, 0, 0, 0, 0, NULL, NULL },
};

static const char *const causes[] = {
	"not-pushed",   /* no tag of this commit (nor latest) */
	"latest-only",  /* only :latest is there */
	"differs",      /* the tag serves other layers than the tree builds */
	"no-commit",    /* the folder is not in a git repository with a commit */
	NULL,
};

static void run(struct check_ctx *ctx, const struct check_def *def, struct check_result *res)
{
	(void)ctx;
	(void)def;
	result_set(res, CHECK_ERROR, "not written yet");
}

const struct check_kind check_registry_image = {
	.name = "registry-image",
	.summary = "the registry serves, under the commit's tag, the image the tree builds",
	.needs = NEED_IMAGE,
	.params = params,
	.causes = causes,
	.run = run,
};
