/*
 * healthcheck-config: the image's HEALTHCHECK as the engine stores it (test,
 * interval, timeout, start period, retries; nanoseconds) against the
 * phase's values and its probe: the program, a flag that makes it fail on
 * an HTTP error, and the URL it asks.
 * SKELETON: the interface (parameters, causes) is fixed; run is to be written.
 */
#include "core/check.h"

static const struct key_spec params[] = {
	{ "interval_s", KEY_INT, 0, 1, 3600, "the interval the lesson asks for, in seconds", "30" },
	{ "timeout_s", KEY_INT, 0, 1, 3600, "the timeout, in seconds", "5" },
	{ "start_period_s", KEY_INT, 0, 0, 3600, "the start period, in seconds", "60" },
	{ "retries", KEY_INT, 0, 1, 100, "how many failed probes in a row make it unhealthy", "3" },
	{ "program", KEY_STRING, 0, 1, 100, "the probe's program (its first word)", "curl" },
	{ "fail_flags", KEY_STRINGS, 0, 1, 10, "one of these flags makes the probe fail on an HTTP error", "-f --fail" },
	{ "url", KEY_STRING, 0, 1, 300, "what the probe asks (localhost or 127.0.0.1 are the same)",
	  "http://localhost:3000/health" },
	{ NULL, 0, 0, 0, 0, NULL, NULL },
};

static const char *const causes[] = {
	"no-healthcheck", /* the image has none */
	"wrong-timings",  /* one or more of interval, timeout, start period, retries differ */
	"wrong-program",  /* the probe's program is not the lesson's */
	"no-fail-flag",   /* curl without -f: a 500 counts as healthy */
	"wrong-url",      /* another port, host or path */
	NULL,
};

static void run(struct check_ctx *ctx, const struct check_def *def, struct check_result *res)
{
	(void)ctx;
	(void)def;
	result_set(res, CHECK_ERROR, "not written yet");
}

const struct check_kind check_healthcheck_config = {
	.name = "healthcheck-config",
	.summary = "the image's HEALTHCHECK has the lesson's probe and timings",
	.needs = NEED_IMAGE,
	.params = params,
	.causes = causes,
	.run = run,
};
