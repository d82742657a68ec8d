/*
 * task-definition: the ECS task definition in the learner's repository
 * mirrors the image: the essential container's healthCheck (command and
 * timings, in seconds, against the image's nanoseconds), its port, its
 * environment, its user, and an image reference that names one build.
 * SKELETON: the interface (parameters, causes) is fixed; run is to be written.
 */
#include "core/check.h"

static const struct key_spec params[] = {
	{ "path", KEY_STRING, 0, 1, 300, "the task definition, relative to the service folder's repository root",
	  "deploy/task-definition.json" },
	{ "port", KEY_INT, 0, 1, 65535, "the container port portMappings must hold", "3000" },
	{ "max_kb", KEY_INT, 0, 1, 65536, "a larger file is refused unread", "1024" },
	{ "placeholders", KEY_STRINGS, 0, 0, 20, "image values a deploy step renders (accepted as such)",
	  "<IMAGE> {{IMAGE}} ${IMAGE} IMAGE_URI" },
	{ NULL, 0, 0, 0, 0, NULL, NULL },
};

static const char *const causes[] = {
	"missing",          /* no file at path */
	"not-json",         /* or too large */
	"invalid",          /* a required field missing, a wrong type, a value out of range: field, value */
	"no-healthcheck",   /* the essential container has none */
	"command-differs",  /* field, image, taskdef */
	"timing-differs",   /* field, image, taskdef */
	"port-missing",
	"env-missing",
	"user-root",
	"image-tag",        /* latest or untagged */
	NULL,
};

static void run(struct check_ctx *ctx, const struct check_def *def, struct check_result *res)
{
	(void)ctx;
	(void)def;
	result_set(res, CHECK_ERROR, "not written yet");
}

const struct check_kind check_task_definition = {
	.name = "task-definition",
	.summary = "the ECS task definition mirrors the image's health check, port and environment",
	.needs = NEED_IMAGE,
	.params = params,
	.causes = causes,
	.run = run,
};
