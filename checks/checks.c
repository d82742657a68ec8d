/*
 * The table of check kinds: every kind a phase file may name.  What the
 * kinds share (one build, one container, one filesystem, their removal) is
 * the run's, in runner/core/run.c; the helpers a run function fills its
 * result with are in runner/core/result.c.
 */
#include "core/check.h"

#include <string.h>

extern const struct check_kind check_build, check_image_size, check_http, check_process_user,
	check_healthcheck, check_no_shell, check_layer_cache, check_build_context, check_multi_stage,
	check_healthcheck_config, check_image_config, check_apt_clean, check_task_definition,
	check_registry_image;

const struct check_kind *const check_kinds[] = {
	&check_build,
	&check_image_size,
	&check_http,
	&check_process_user,
	&check_healthcheck,
	&check_no_shell,
	&check_layer_cache,
	&check_build_context,
	&check_multi_stage,
	&check_healthcheck_config,
	&check_image_config,
	&check_apt_clean,
	&check_task_definition,
	&check_registry_image,
	NULL,
};

const struct check_kind *check_kind_find(const char *name)
{
	for (const struct check_kind *const *k = check_kinds; *k; k++)
		if (!strcmp((*k)->name, name))
			return *k;
	return NULL;
}
