/*
 * image-config: what the image's configuration says about how it runs: the
 * environment it sets (NODE_ENV=production) and the port it exposes.
 * SKELETON: the interface (parameters, causes) is fixed; run is to be written.
 */
#include "core/check.h"

static const struct key_spec params[] = {
	{ "env", KEY_STRINGS, 0, 0, 50, "NAME=value entries the image's ENV must set", "NODE_ENV=production" },
	{ "port", KEY_INT, 0, 1, 65535, "the container port the image must EXPOSE", "3000" },
	{ NULL, 0, 0, 0, 0, NULL, NULL },
};

static const char *const causes[] = {
	"env-missing",  /* a variable is not set at all */
	"env-wrong",    /* set to another value */
	"port-not-exposed",
	NULL,
};

static void run(struct check_ctx *ctx, const struct check_def *def, struct check_result *res)
{
	(void)ctx;
	(void)def;
	result_set(res, CHECK_ERROR, "not written yet");
}

const struct check_kind check_image_config = {
	.name = "image-config",
	.summary = "the image sets the environment and exposes the port the lesson asks for",
	.needs = NEED_IMAGE,
	.params = params,
	.causes = causes,
	.run = run,
};
