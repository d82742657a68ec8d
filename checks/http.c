/*
 * http: the running container answers on its health endpoint.  GET the path
 * on the engine-chosen loopback port until the service answers or the
 * phase's start timeout ends, backing off between tries; a container that
 * exits meanwhile ends the wait at once.
 */
#include "core/check.h"
#include "lib/http.h"
#include "lib/interrupt.h"
#include "lib/timeutil.h"
#include "lib/xalloc.h"

#include <string.h>

static const struct key_spec params[] = {
	{ "path", KEY_STRING, 0, 1, 200, "the path to GET", "/health" },
	{ "status", KEY_INT, 0, 100, 599, "the expected HTTP status", "200" },
	{ "json_field", KEY_STRING, 0, 1, 64, "a field the JSON body must have", "status" },
	{ "json_value", KEY_STRING, 0, 0, 200, "its expected value", "ok" },
	{ NULL, 0, 0, 0, 0, NULL, NULL },
};

/* The body, cut short and made printable, for messages. */
static void excerpt(const struct strbuf *body, struct strbuf *out)
{
	size_t n = body->len < 120 ? body->len : 120;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)body->buf[i];
		strbuf_addch(out, c < 0x20 || c == 0x7f ? ' ' : c);
	}
	strbuf_rtrim(out);
	if (body->len > n)
		strbuf_addstr(out, "...");
}

static void judge(const struct check_def *def, const struct http_answer *a, struct check_result *res)
{
	long want_status = (long)param_int(def, "status");
	const char *field = param_str(def, "json_field");
	const char *want = param_str(def, "json_value");
	const char *path = param_str(def, "path");
	struct strbuf ex = STRBUF_INIT;
	json_t *body = json_loadb(a->body.buf, a->body.len, 0, NULL);
	const char *got = json_string_value(json_object_get(body, field));

	excerpt(&a->body, &ex);
	result_evidence(res, "status", json_integer(a->status));
	result_evidence(res, "body", json_string(ex.buf));
	result_evidence(res, "content_type", json_string(a->content_type));
	if (a->status != want_status) {
		result_set(res, CHECK_FAIL, "GET %s answered %ld, not %ld: %s", path, a->status, want_status,
			   ex.len ? ex.buf : "(empty body)");
		result_hint(res, "the health route must answer %ld when the service is up; run the service "
			    "locally (npm start) and curl localhost:3000%s", want_status, path);
	} else if (!json_is_object(body)) {
		result_set(res, CHECK_FAIL, "GET %s answered %ld but the body is not a JSON object: %s", path,
			   a->status, ex.len ? ex.buf : "(empty body)");
		result_hint(res, "answer with JSON, e.g. {\"%s\":\"%s\"}, and Content-Type: application/json", field, want);
	} else if (!got || strcmp(got, want)) {
		result_set(res, CHECK_FAIL, "GET %s answered %ld with %s = %s%s%s, not \"%s\"", path, a->status,
			   field, got ? "\"" : "", got ? got : "(missing)", got ? "\"" : "", want);
		result_hint(res, "answer {\"%s\":\"%s\"} when the service is healthy", field, want);
	} else {
		result_set(res, CHECK_PASS, "GET %s answered %ld %s", path, a->status, ex.buf);
	}
	json_decref(body);
	strbuf_release(&ex);
}

static void run(struct check_ctx *ctx, const struct check_def *def, struct check_result *res)
{
	const char *path = param_str(def, "path");
	json_int_t start_ns = json_integer_value(json_object_get(json_object_get(json_object_get(ctx->image, "Config"),
								      "Healthcheck"), "StartPeriod"));
	/* the image's own start period says how long the service may take; the phase bounds it */
	long wait_ms = start_ns > 0 && start_ns / 1000000 < ctx->phase->start_timeout_ms ?
		(long)(start_ns / 1000000) : ctx->phase->start_timeout_ms;
	long long deadline = ctx->container_started_ms + wait_ms;
	long long last_state_check = 0;
	long backoff = 50;
	int tries = 0, answered = 0;
	struct http_answer a = { 0 };
	char *url;

	if (ctx->host_port <= 0) {
		result_set(res, CHECK_FAIL, "the engine published no port for %d/tcp", ctx->phase->port);
		result_hint(res, "EXPOSE %d in the runtime stage and have the service listen on it", ctx->phase->port);
		return;
	}
	url = xasprintf("http://127.0.0.1:%d%s", ctx->host_port, path);
	result_evidence(res, "url", json_string(url));
	for (;;) {
		long long now = now_ms();
		long left = (long)(deadline - now);

		http_answer_release(&a);
		tries++;
		if (http_get(url, left < 2000 ? (left > 200 ? left : 200) : 2000, &a) == 0) {
			answered = 1;
			break;
		}
		now = now_ms();
		if (now >= deadline || interrupt_pending())
			break;
		/* refused: is anything still running to answer? */
		if (now - last_state_check >= 500) {
			last_state_check = now;
			if (!ctx_container_running(ctx))
				break;
		}
		interrupt_sleep_ms(backoff);
		backoff = backoff * 2 > 500 ? 500 : backoff * 2;
	}
	result_evidence(res, "tries", json_integer(tries));
	result_evidence(res, "waited_ms", json_integer(now_ms() - ctx->container_started_ms));
	if (answered) {
		judge(def, &a, res);
	} else if (interrupt_pending()) {
		result_set(res, CHECK_ERROR, "interrupted");
	} else if (ctx->container == STAGE_ERROR) {
		/* the engine, not the service, stopped answering */
		result_set(res, CHECK_ERROR, "nothing answered, and the engine could not say why: %s",
			   ctx->container_failure);
	} else if (ctx->container != STAGE_READY) {
		result_set(res, CHECK_FAIL, "nothing answered: %s", ctx->container_failure);
		result_hint(res, "the service stops at start: run the image yourself (docker run) and read its "
			    "output; a missing environment variable, a module that is not in the image, or a "
			    "file the non-root user cannot read are the usual causes");
	} else if (a.curl_code == 28) {
		result_set(res, CHECK_FAIL, "the port accepts connections but GET %s got no answer within %.0f s",
			   path, wait_ms / 1000.0);
		result_hint(res, "the service accepts connections and never answers: does the /health handler "
			    "end the response (res.end)?");
	} else {
		result_set(res, CHECK_FAIL, "nothing listened on port %d within %.0f s, the %s (%s)", ctx->phase->port,
			   wait_ms / 1000.0, wait_ms == ctx->phase->start_timeout_ms ? "phase's start timeout" :
			   "image's HEALTHCHECK start period", a.error);
		result_hint(res, "the service must listen on port %d on all interfaces (0.0.0.0), not on "
			    "localhost only nor on another port: check PORT and server.listen()", ctx->phase->port);
	}
	http_answer_release(&a);
	free(url);
}

const struct check_kind check_http = {
	.name = "http",
	.summary = "the running container answers on its health endpoint",
	.needs = NEED_CONTAINER,
	.uses_container = 1,
	.params = params,
	.run = run,
};
