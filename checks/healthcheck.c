/*
 * healthcheck: the image's own HEALTHCHECK drives a container to `healthy`.
 *
 * The engine runs the first probe only after the image's interval (30 s in
 * the lesson).  The container was started with only the interval overridden
 * (250 ms), which keeps the image's command, timeout, start period and
 * retries, so the engine's own verdict comes within a second; the image's
 * configured timings are reported as evidence.
 */
#include "core/check.h"
#include "lib/escape.h"
#include "lib/interrupt.h"
#include "lib/tar.h"
#include "lib/timeutil.h"
#include "lib/xalloc.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static const struct key_spec params[] = {
	{ "interval_s", KEY_INT, 0, 1, 3600, "the interval the lesson asks for, compared with the image's (optional)", NULL },
	{ "timeout_s", KEY_INT, 0, 1, 3600, "the timeout the lesson asks for (optional)", NULL },
	{ "start_period_s", KEY_INT, 0, 0, 3600, "the start period the lesson asks for (optional)", NULL },
	{ "retries", KEY_INT, 0, 1, 100, "the retries the lesson asks for (optional)", NULL },
	{ NULL, 0, 0, 0, 0, NULL, NULL },
};

#define NS_PER_MS 1000000LL

/* Milliseconds since the epoch of an engine timestamp ("2026-11-22T22:10:44.746442746Z"), or -1. */
static long long engine_time_ms(const char *s)
{
	struct tm tm = { 0 };
	const char *rest;
	long long ms = 0;
	int digits = 0;

	if (!s || !(rest = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)))
		return -1;
	if (*rest == '.')
		for (rest++; *rest >= '0' && *rest <= '9'; rest++)
			if (digits++ < 3)
				ms = ms * 10 + (*rest - '0');
	while (digits++ < 3)
		ms *= 10;
	return (long long)timegm(&tm) * 1000 + ms;
}

/* When the first passing probe started, in ms after the container started; -1 if unknown. */
static long long first_pass_ms(json_t *state, json_t *health)
{
	long long started = engine_time_ms(json_string_value(json_object_get(state, "StartedAt")));
	json_t *entry;
	size_t i;

	json_array_foreach(json_object_get(health, "Log"), i, entry) {
		if (json_integer_value(json_object_get(entry, "ExitCode")) == 0) {
			long long t = engine_time_ms(json_string_value(json_object_get(entry, "Start")));
			return started >= 0 && t >= 0 ? t - started : -1;
		}
	}
	return -1;
}

static json_t *probe_log(json_t *health, int last_n)
{
	json_t *log = json_object_get(health, "Log"), *out = json_array(), *entry;
	size_t n = json_array_size(log), i;

	json_array_foreach(log, i, entry) {
		const char *o = json_string_value(json_object_get(entry, "Output"));
		size_t len = o ? strlen(o) : 0;
		if ((int)(n - i) > last_n)
			continue;
		/* cut on a character boundary: half a character is not JSON */
		json_array_append_new(out, json_pack("{s:I, s:s%}", "exit_code",
			json_integer_value(json_object_get(entry, "ExitCode")), "output", o ? o : "",
			escape_cut(o ? o : "", len, 300)));
	}
	return out;
}

static const char *last_output(json_t *health)
{
	json_t *log = json_object_get(health, "Log");
	return json_string_value(json_object_get(json_array_get(log, json_array_size(log) - 1), "Output"));
}

/* The probe can never succeed: its program is not in the image. */
static int not_found(const char *out)
{
	return out && (strstr(out, "executable file not found") || strstr(out, "no such file or directory"));
}

struct has_shell { int found; };

static int find_sh(void *vctx, const struct tar_entry *e, const struct strbuf *data)
{
	struct has_shell *hs = vctx;
	(void)data;
	if (!strcmp(e->name, "bin/sh")) {
		hs->found = 1;
		return 1;
	}
	return 0;
}

static void timings(json_t *hc, struct check_result *res)
{
	json_int_t interval = json_integer_value(json_object_get(hc, "Interval"));
	json_int_t timeout = json_integer_value(json_object_get(hc, "Timeout"));
	json_int_t start = json_integer_value(json_object_get(hc, "StartPeriod"));
	json_int_t retries = json_integer_value(json_object_get(hc, "Retries"));

	/* 0 means the engine's default: 30 s, 30 s, 0 s, 3 */
	result_evidence(res, "image_timings", json_pack("{s:f, s:f, s:f, s:I}",
		"interval_s", interval ? interval / 1e9 : 30.0, "timeout_s", timeout ? timeout / 1e9 : 30.0,
		"start_period_s", start / 1e9, "retries", retries ? retries : 3));
}

static void lesson_timings(const struct check_def *def, json_t *hc, struct strbuf *notes)
{
	static const struct { const char *param, *key; long long dflt; } t[] = {
		{ "interval_s", "Interval", 30 }, { "timeout_s", "Timeout", 30 },
		{ "start_period_s", "StartPeriod", 0 },
	};
	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		long long want = obj_int(def->params, t[i].param, -1);
		long long got = json_integer_value(json_object_get(hc, t[i].key)) / 1000000000LL;
		if (!json_integer_value(json_object_get(hc, t[i].key)))
			got = t[i].dflt;
		if (want >= 0 && want != got)
			strbuf_addf(notes, "; the lesson sets %s %llds, the image %llds", t[i].param, want, got);
	}
}

static void run(struct check_ctx *ctx, const struct check_def *def, struct check_result *res)
{
	json_t *hc = json_object_get(json_object_get(ctx->image, "Config"), "Healthcheck");
	json_t *test = json_object_get(hc, "Test");
	const char *form = json_string_value(json_array_get(test, 0));
	const char *prog = json_string_value(json_array_get(test, 1));
	json_int_t start_ns = json_integer_value(json_object_get(hc, "StartPeriod"));
	json_int_t timeout_ns = json_integer_value(json_object_get(hc, "Timeout"));
	json_int_t retries = json_integer_value(json_object_get(hc, "Retries"));
	json_t *state = NULL, *health = NULL;
	struct strbuf notes = STRBUF_INIT;
	const char *status = "starting";
	long long t0 = now_ms(), deadline;

	if (!form || !strcmp(form, "NONE")) {
		result_set(res, CHECK_FAIL, "the image declares no HEALTHCHECK");
		result_hint(res, "add to the runtime stage: HEALTHCHECK --interval=30s --timeout=3s --start-period=10s "
			    "--retries=3 CMD [\"/nodejs/bin/node\", \"-e\", \"...\"] (exec form, absolute path: "
			    "the distroless image has no shell and no `node` on its PATH)");
		return;
	}
	result_evidence(res, "test", json_incref(test));
	timings(hc, res);
	lesson_timings(def, hc, &notes);

	/*
	 * The shared container first (its verdict is read below): the look for a
	 * shell then reads its filesystem in place instead of creating another
	 * container to export.
	 */
	ctx_need_container(ctx);
	if (!strcmp(form, "CMD-SHELL")) {
		struct has_shell hs = { 0 };
		ctx_walk_fs(ctx, find_sh, &hs, 0);
		if (!hs.found) {
			result_set(res, CHECK_FAIL, "the HEALTHCHECK is in shell form (%s), which runs through /bin/sh -c, "
				   "and this image has no /bin/sh: it can never succeed", prog ? prog : "");
			result_hint(res, "write it in exec form, with brackets and the absolute path of node: "
				    "HEALTHCHECK CMD [\"/nodejs/bin/node\", \"-e\", \"...\"]");
			goto out;
		}
	}
	if (ctx_need_container(ctx) < 0 || !ctx_container_running(ctx)) {
		if (ctx->container == STAGE_ERROR)
			result_set(res, CHECK_ERROR, "no container to probe: %s", ctx->container_failure);
		else
			result_set(res, CHECK_SKIP, "waits on '%s': %s", ctx->container_check_id,
				   ctx->container_failure);
		goto out;
	}

	/*
	 * How long the engine can take to decide, at the overridden interval:
	 * the start period plus `retries` failing probes, each up to the timeout.
	 */
	{
		/*
		 * The image's timings are the learner's numbers: bound them before the
		 * arithmetic (the item's own time limit cuts the wait anyway).
		 */
		const long long day_ms = 86400000LL;
		long long start_ms = start_ns > 0 ? start_ns / NS_PER_MS : 0;
		long long probe_ms = timeout_ns > 0 ? timeout_ns / NS_PER_MS : 30000;
		long long tries = retries > 0 ? retries : 3;

		deadline = ctx->container_started_ms + (start_ms < day_ms ? start_ms : day_ms) +
			   (tries < 1000 ? tries : 1000) * ((probe_ms < day_ms ? probe_ms : day_ms) + 250) + 1000;
	}
	if (deadline > t0 + def->timeout_ms)
		deadline = t0 + def->timeout_ms;
	for (long wait = 100;; wait = wait * 2 > 400 ? 400 : wait * 2) {
		json_decref(state);
		state = NULL;
		if (engine_health(ctx->engine, ctx->container_id, &state) < 0) {
			result_engine_error(res, ctx, "reading the container's health");
			goto out;
		}
		health = json_object_get(state, "Health");
		status = json_string_value(json_object_get(health, "Status"));
		if (!status)
			status = "none";
		if (strcmp(status, "starting"))
			break;
		/* a missing program fails the same way every time: no need to wait out the retries */
		if (not_found(last_output(health)))
			break;
		if (!json_is_true(json_object_get(state, "Running")))
			break;
		if (now_ms() >= deadline || interrupt_sleep_ms(wait))
			break;
	}
	result_evidence(res, "status", json_string(status));
	result_evidence(res, "waited_ms", json_integer(now_ms() - ctx->container_started_ms));
	result_evidence(res, "probes", probe_log(health, 3));

	if (!strcmp(status, "healthy")) {
		long long first = first_pass_ms(state, health);
		result_evidence(res, "first_pass_ms", first >= 0 ? json_integer(first) : json_null());
		result_set(res, CHECK_PASS, "healthy: the image's own probe passed %.1f s after the start (run every "
			   "250 ms here, instead of after its %.0f s interval)%s", first >= 0 ? first / 1000.0 : 0,
			   json_integer_value(json_object_get(hc, "Interval")) ? json_integer_value(json_object_get(hc, "Interval")) / 1e9 : 30.0,
			   notes.buf);
	} else if (interrupt_pending()) {
		result_set(res, CHECK_ERROR, "interrupted");
	} else {
		const char *out = last_output(health);
		struct strbuf o = STRBUF_INIT;

		strbuf_addstr(&o, out ? out : "");
		strbuf_rtrim(&o);
		if (o.len > 200)
			strbuf_setlen(&o, escape_cut(o.buf, o.len, 200));
		if (not_found(out))
			result_set(res, CHECK_FAIL, "the image's probe cannot run, so the container can never become "
				   "healthy; the engine said: %s%s", o.buf, notes.buf);
		else
			result_set(res, CHECK_FAIL, "the health status is '%s'%s%s%s", status,
				   o.len ? "; the probe said: " : "", o.buf, notes.buf);
		if (not_found(out) && prog && !strchr(prog, '/'))
			result_hint(res, "the probe runs `%s`, which is not on this image's PATH: the distroless image "
				    "keeps node at /nodejs/bin/node. Write HEALTHCHECK CMD [\"/nodejs/bin/node\", \"-e\", ...] "
				    "(the lesson's bare `node` never works there)", prog);
		else if (not_found(out))
			result_hint(res, "the probe's program is not in the image: check the path in the HEALTHCHECK");
		else if (!strcmp(status, "starting"))
			result_hint(res, "the probe never succeeded within the start period and retries: does it "
				    "probe port %d, where the service listens?", ctx->phase->port);
		else
			result_hint(res, "the probe ran and failed: run it by hand against the running service "
				    "(port %d, path /health) and check that it exits 0 only on status 200",
				    ctx->phase->port);
		strbuf_release(&o);
	}
out:
	json_decref(state);
	strbuf_release(&notes);
}

const struct check_kind check_healthcheck = {
	.name = "healthcheck",
	.summary = "the image's own HEALTHCHECK reaches healthy",
	.needs = NEED_IMAGE,
	.uses_container = 1,
	.params = params,
	.run = run,
};
