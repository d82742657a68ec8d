/*
 * http: the running container answers on its health endpoint.  GET the path
 * on the engine-chosen loopback port until the service answers or the
 * phase's start timeout ends, backing off between tries; a container that
 * exits meanwhile ends the wait at once.
 *
 * A failure is classified into a cause (the `causes` list below) with the
 * evidence the phase's hints quote: the container's exit code and last
 * output, the port it says it listens on, the status and body it answered.
 * The check that owns the container (the first that needs one) also
 * explains a container that could not start or stopped at once: the driver
 * hands that failure to this kind, since it declares those causes.
 */
#include "core/check.h"
#include "core/language.h"
#include "lib/http.h"
#include "lib/interrupt.h"
#include "lib/timeutil.h"
#include "lib/xalloc.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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

static void judge(const struct check_def *def, const struct http_answer *a, int python, int port,
		  struct check_result *res)
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
		result_cause(res, "wrong-status");
		result_evidence(res, "want_status", json_integer(want_status));
		if (python)
			result_hint(res, "the health route must answer %ld when the service is up; run the service "
				    "locally (python main.py) and curl localhost:%d%s", want_status, port, path);
		else
			result_hint(res, "the health route must answer %ld when the service is up; run the service "
				    "locally (npm start) and curl localhost:3000%s", want_status, path);
	} else if (!json_is_object(body)) {
		result_set(res, CHECK_FAIL, "GET %s answered %ld but the body is not a JSON object: %s", path,
			   a->status, ex.len ? ex.buf : "(empty body)");
		result_cause(res, "not-json");
		result_hint(res, "answer with JSON, e.g. {\"%s\":\"%s\"}, and Content-Type: application/json", field, want);
	} else if (!got || strcmp(got, want)) {
		result_set(res, CHECK_FAIL, "GET %s answered %ld with %s = %s%s%s, not \"%s\"", path, a->status,
			   field, got ? "\"" : "", got ? got : "(missing)", got ? "\"" : "", want);
		result_cause(res, "wrong-value");
		result_evidence(res, "field", json_string(field));
		result_evidence(res, "value", json_string(got ? got : "(missing)"));
		result_evidence(res, "want_value", json_string(want));
		result_hint(res, "answer {\"%s\":\"%s\"} when the service is healthy", field, want);
	} else {
		result_set(res, CHECK_PASS, "GET %s answered %ld %s", path, a->status, ex.buf);
	}
	json_decref(body);
	strbuf_release(&ex);
}

/*
 * The port the service says it listens on, from its output ("listening on
 * port 8080", "http://0.0.0.0:8080"), or -1.
 */
static int listening_port(const char *logs)
{
	static const char *const marks[] = { "port ", "port: ", ":" };
	const char *l = logs ? strcasestr(logs, "listen") : NULL;

	for (; l; l = strcasestr(l + 1, "listen")) {
		const char *eol = strchr(l, '\n');
		for (size_t i = 0; i < ARRAY_SIZE(marks); i++) {
			const char *p = strstr(l, marks[i]);
			if (p && (!eol || p < eol)) {
				long v;
				p += strlen(marks[i]);
				v = strtol(p, NULL, 10);
				if (*p >= '1' && *p <= '9' && v > 0 && v < 65536)
					return (int)v;
			}
		}
	}
	return -1;
}

/* The quoted name after mark in text ("No module named 'attrs'"): a new string, or NULL. */
static char *quoted_after(const char *text, const char *mark)
{
	const char *p = text ? strstr(text, mark) : NULL, *end;

	if (!p)
		return NULL;
	p += strlen(mark);
	end = strchr(p, '\'');
	return end && end > p ? xstrndup(p, (size_t)(end - p)) : NULL;
}

/* "libpq.so.5" of "ImportError: libpq.so.5: cannot open shared object file": a new string, or NULL. */
static char *missing_library(const char *text)
{
	const char *at = text ? strstr(text, ": cannot open shared object file") : NULL, *p;

	if (!at)
		return NULL;
	for (p = at; p > text && p[-1] != ' ' && p[-1] != '\n' && p[-1] != ':'; p--)
		;
	return at > p ? xstrndup(p, (size_t)(at - p)) : NULL;
}

/*
 * "exec /app/deps/bin/uvicorn: no such file or directory": the runtime found
 * the file but not what it needs to run it (the interpreter of its #! line,
 * or a program's loader).  The path, or NULL.
 */
static char *exec_no_such_file(const char *text)
{
	const char *p = text ? strstr(text, "exec /") : NULL, *end;

	for (; p; p = strstr(p + 1, "exec /")) {
		end = strstr(p, ": no such file or directory");
		if (end && !memchr(p, '\n', (size_t)(end - p)) && !memchr(p + 5, ' ', (size_t)(end - p - 5)))
			return xstrndup(p + 5, (size_t)(end - p - 5));
	}
	return NULL;
}

struct shebang_look {
	const char *name;     /* the script's path in the image, without the leading '/' */
	char line[256];       /* its #! line's interpreter */
	int found;
};

static int read_shebang(void *vctx, const struct tar_entry *e, const struct strbuf *data)
{
	struct shebang_look *l = vctx;
	size_t n;

	if (strcmp(e->name, l->name) || e->type != '0')
		return 0;
	if (!data)
		return 2;
	l->found = 1;
	if (data->len > 2 && data->buf[0] == '#' && data->buf[1] == '!') {
		const char *p = data->buf + 2;
		while (p < data->buf + data->len && *p == ' ')
			p++;
		n = strcspn(p, " \n\r");
		if (n > (size_t)(data->buf + data->len - p))
			n = (size_t)(data->buf + data->len - p);
		if (n >= sizeof(l->line))
			n = sizeof(l->line) - 1;
		memcpy(l->line, p, n);
		l->line[n] = '\0';
	}
	return 1;
}

/*
 * Is the module Python could not import one of the service's own (a folder
 * or a .py file of its top-level name in the service folder), rather than an
 * installed dependency?
 */
static int own_module(const struct check_ctx *ctx, const char *module)
{
	char *top = xstrndup(module, strcspn(module, "."));
	char *pkg = xasprintf("%s/%s", ctx->dir, top), *py = xasprintf("%s/%s.py", ctx->dir, top);
	struct stat sb;
	int own = (lstat(pkg, &sb) == 0 && S_ISDIR(sb.st_mode)) || (lstat(py, &sb) == 0 && S_ISREG(sb.st_mode));

	free(top);
	free(pkg);
	free(py);
	return own;
}

/*
 * The container stopped at once, for a reason its output names and that is
 * not Node's: a Python import that failed, or a script whose interpreter the
 * image lacks.  1 when it classified the failure (res filled), else 0.
 */
static int exited_for_python_reason(struct check_ctx *ctx, const char *why, const char *logs,
				    struct check_result *res)
{
	char *m = quoted_after(logs, "ModuleNotFoundError: No module named '");
	char *lib, *script;

	if (!m)
		m = quoted_after(why, "ModuleNotFoundError: No module named '");
	if (m) {
		int own = own_module(ctx, m);
		result_set(res, CHECK_FAIL, "Python stopped at once: ModuleNotFoundError, no module named '%s'; %s", m,
			   why);
		result_cause(res, own ? "own-module-missing" : "module-not-found");
		result_evidence(res, "module", json_string(m));
		if (own)
			result_hint(res, "`%s` is the service's own code, and the runtime stage does not have it: copy the "
				    "service's files into its working directory (COPY --from=builder /app .)", m);
		else
			result_hint(res, "Python could not import `%s`, an installed dependency: the runtime image's Python "
				    "does not search the folder pip installed it in, so the runtime stage must say where "
				    "the copied packages are (ENV PYTHONPATH=/usr/local/lib/python3.11/site-packages)", m);
		free(m);
		return 1;
	}
	lib = missing_library(logs);
	if (!lib)
		lib = missing_library(why);
	if (lib) {
		result_set(res, CHECK_FAIL, "an import failed: the shared library %s is not in the image (ImportError: "
			   "cannot open shared object file); %s", lib, why);
		result_cause(res, "library-missing");
		result_evidence(res, "library", json_string(lib));
		result_hint(res, "a compiled extension needs %s, which the builder had and the runtime image does not: "
			    "copy that library from the builder into the runtime stage, or use a package that does not "
			    "need it", lib);
		free(lib);
		return 1;
	}
	script = exec_no_such_file(logs);
	if (!script)
		script = exec_no_such_file(why);
	if (script) {
		struct shebang_look look = { 0 };

		look.name = script + 1;
		ctx_walk_fs(ctx, read_shebang, &look, 4096);
		result_set(res, CHECK_FAIL, "the container could not run %s: %s%s%s; %s", script,
			   look.line[0] ? "its first line asks for " : "the file is there, but what runs it is not",
			   look.line, look.line[0] ? ", which this image does not have" : "", why);
		result_cause(res, "interpreter-missing");
		result_evidence(res, "script", json_string(script));
		if (look.line[0])
			result_evidence(res, "interpreter", json_string(look.line));
		result_hint(res, "%s was made in the builder for the builder's %s; in the runtime image run it "
			    "with the image's own interpreter instead (for Python: CMD [\"main.py\"], or "
			    "CMD [\"-m\", \"module\"], handed to the entrypoint /usr/bin/python3)", script,
			    look.line[0] ? look.line : "interpreter");
		free(script);
		return 1;
	}
	return 0;
}

/*
 * The container could not start, or stopped before it answered: why,
 * from the engine's words and the container's own output.
 */
static void container_failed(struct check_ctx *ctx, struct check_result *res)
{
	const char *why = ctx->container_failure ? ctx->container_failure : "";
	const char *missing = strstr(why, "exec: \"");
	struct strbuf logs = STRBUF_INIT;
	const char *module;

	/* Node's "Cannot find module" comes before a long stack: more than the failure's last lines */
	if (ctx->container_id[0])
		engine_logs(ctx->engine, ctx->container_id, 40, &logs);
	module = strstr(logs.buf, "Cannot find module '");
	if (!module)
		module = strstr(why, "Cannot find module '");
	result_set(res, CHECK_FAIL, "%s", why);
	result_evidence(res, "container_output", json_string(why));
	if (!(strstr(why, "did not start") && missing) && exited_for_python_reason(ctx, why, logs.buf, res)) {
		/* classified: an import, a library or an interpreter the image lacks */
	} else if (strstr(why, "did not start") && missing) {
		/* exec: "npm": executable file not found in $PATH */
		const char *end = strstr(missing + 7, "\"");
		char *cmd = end ? xstrndup(missing + 7, (size_t)(end - missing - 7)) : xstrdup("?");
		result_cause(res, "cmd-not-in-image");
		result_evidence(res, "command", json_string(cmd));
		if (phase_is_python(ctx->phase))
			result_hint(res, "the engine could not start the image's command: `%s` is not in the image. "
				    "In the distroless image only Python is there, as the entrypoint: CMD names the "
				    "script (CMD [\"main.py\"])", cmd);
		else
			result_hint(res, "the engine could not start the image's command: `%s` is not in the image. "
				    "In the distroless image only Node is there, as the entrypoint: CMD names the script", cmd);
		free(cmd);
	} else if (module) {
		/* CMD ["node", "dist/server.js"] after the distroless entrypoint: Node runs a script called node */
		const char *end = strchr(module + 20, '\'');
		char *m = end ? xstrndup(module + 20, (size_t)(end - module - 20)) : xstrdup("?");
		const char *base = strrchr(m, '/');
		result_cause(res, !strcmp(base ? base + 1 : m, "node") ? "cmd-names-node" : "module-missing");
		result_evidence(res, "module", json_string(m));
		result_hint(res, "Node stopped at once: it could not find the script %s; check CMD (it names only "
			    "the script, the entrypoint is Node) and what the runtime stage copies", m);
		free(m);
	} else {
		result_cause(res, "container-exits");
		result_hint(res, "the container stops at once: run it yourself (docker run) and read its output; %s",
			    ctx->phase->exit_hint ? ctx->phase->exit_hint : "the last lines above say why");
	}
	strbuf_release(&logs);
}

static void run(struct check_ctx *ctx, const struct check_def *def, struct check_result *res)
{
	const char *path = param_str(def, "path");
	json_int_t start_ns;
	long wait_ms;
	long long deadline;
	long long last_state_check = 0;
	long backoff = 50;
	int tries = 0, answered = 0, engine_failed = 0;
	struct http_answer a = { 0 };
	char *url;

	result_evidence(res, "service_port", json_integer(ctx->phase->port));
	if (ctx->container != STAGE_READY) {
		/* the driver hands over a container that did not start (see the top) */
		container_failed(ctx, res);
		return;
	}
	start_ns = json_integer_value(json_object_get(json_object_get(json_object_get(ctx->image, "Config"),
									      "Healthcheck"), "StartPeriod"));
	/* the image's own start period says how long the service may take; the phase bounds it */
	wait_ms = start_ns > 0 && start_ns / 1000000 < ctx->phase->start_timeout_ms ?
		(long)(start_ns / 1000000) : ctx->phase->start_timeout_ms;
	deadline = ctx->container_started_ms + wait_ms;
	if (ctx->host_port <= 0 && !ctx_container_running(ctx)) {
		/* an exited container has no ports: that it exited is the news */
		container_failed(ctx, res);
		return;
	}
	if (ctx->host_port <= 0) {
		result_set(res, CHECK_FAIL, "the engine published no port for %d/tcp", ctx->phase->port);
		result_cause(res, "no-port-published");
		result_hint(res, "EXPOSE %d in the runtime stage and have the service listen on it", ctx->phase->port);
		return;
	}
	url = xasprintf("http://127.0.0.1:%d%s", ctx->host_port, path);
	result_evidence(res, "url", json_string(url));
	if (ctx->engine->remote)
		/* the published port is on the engine's host: asked from there (engine_http_get) */
		result_evidence(res, "via", json_string("helper container"));
	for (;;) {
		long long now = now_ms();
		long left = (long)(deadline - now);
		int got;

		http_answer_release(&a);
		tries++;
		got = engine_http_get(ctx->engine, ctx->container_id, ctx->phase->port, ctx->host_port, path,
				      left < 2000 ? (left > 200 ? left : 200) : 2000, &a);
		if (got == 0) {
			answered = 1;
			break;
		}
		if (got < 0) {
			engine_failed = 1;
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
		ctx_progress(ctx, "waiting for an answer on port %d: %lld s of %.0f s; %d tr%s, the last: %s",
			     ctx->phase->port, (now - ctx->container_started_ms) / 1000, wait_ms / 1000.0, tries,
			     tries == 1 ? "y" : "ies", a.error[0] ? a.error : "no answer");
		interrupt_sleep_ms(backoff);
		backoff = backoff * 2 > 500 ? 500 : backoff * 2;
	}
	result_evidence(res, "tries", json_integer(tries));
	result_evidence(res, "waited_ms", json_integer(now_ms() - ctx->container_started_ms));
	if (answered) {
		judge(def, &a, phase_is_python(ctx->phase), ctx->phase->port, res);
	} else if (interrupt_pending()) {
		result_set(res, CHECK_ERROR, "interrupted");
	} else if (engine_failed) {
		/* the harness's helper, not the service: never the learner's fail */
		result_set(res, CHECK_ERROR, "%s", ctx->engine->err.buf);
	} else if (ctx->container == STAGE_ERROR) {
		/* the engine, not the service, stopped answering */
		result_set(res, CHECK_ERROR, "nothing answered, and the engine could not say why: %s",
			   ctx->container_failure);
	} else if (ctx->container != STAGE_READY) {
		container_failed(ctx, res);
		{
			/* "nothing answered: " first, as before: the container stopped while we asked */
			char *m = xasprintf("nothing answered: %s", res->message);
			free(res->message);
			res->message = m;
		}
	} else if (a.curl_code == 28) {
		result_set(res, CHECK_FAIL, "the port accepts connections but GET %s got no answer within %.0f s",
			   path, wait_ms / 1000.0);
		result_cause(res, "no-answer");
		if (phase_is_python(ctx->phase))
			result_hint(res, "the service accepts connections and never answers: does the /health handler "
				    "send its response and return?");
		else
			result_hint(res, "the service accepts connections and never answers: does the /health handler "
				    "end the response (res.end)?");
	} else {
		struct strbuf logs = STRBUF_INIT;
		int lport;

		engine_logs(ctx->engine, ctx->container_id, 8, &logs);
		strbuf_rtrim(&logs);
		lport = listening_port(logs.buf);
		result_evidence(res, "container_output", json_string(logs.len ? logs.buf : "(no output)"));
		if (lport > 0)
			result_evidence(res, "listening_port", json_integer(lport));
		result_set(res, CHECK_FAIL, "nothing listened on port %d within %.0f s, the %s (%s)%s%s",
			   ctx->phase->port, wait_ms / 1000.0, wait_ms == ctx->phase->start_timeout_ms ?
			   "phase's start timeout" : "image's HEALTHCHECK start period", a.error,
			   logs.len ? "; the container's last output: " : "", logs.buf);
		result_cause(res, "nothing-listens");
		if (lport > 0 && lport != ctx->phase->port)
			result_hint(res, "the service says it listens on port %d; it must listen on %d (PORT), on all "
				    "interfaces", lport, ctx->phase->port);
		else if (phase_is_python(ctx->phase))
			result_hint(res, "the service must listen on port %d on all interfaces (0.0.0.0), not on "
				    "localhost only nor on another port: check PORT and the address the server binds",
				    ctx->phase->port);
		else
			result_hint(res, "the service must listen on port %d on all interfaces (0.0.0.0), not on "
				    "localhost only nor on another port: check PORT and server.listen()",
				    ctx->phase->port);
		strbuf_release(&logs);
	}
	http_answer_release(&a);
	free(url);
}

/* What run() tells apart (result_cause); the phase file's "causes" hold their hints. */
static const char *const cause_ids[] = {
	"cmd-not-in-image",   /* the engine could not start CMD: command (npm start in distroless) */
	"cmd-names-node",     /* CMD ["node", ...] after the distroless entrypoint: module */
	"module-missing",     /* Node could not find the script: module */
	"module-not-found",   /* Python's ModuleNotFoundError for an installed dependency: module */
	"own-module-missing", /* ModuleNotFoundError for a module of the service folder: module */
	"library-missing",    /* ImportError: a shared library the image lacks: library */
	"interpreter-missing", /* exec SCRIPT: no such file (its #! interpreter is not there): script, interpreter */
	"container-exits",    /* the container stopped at once: container_output */
	"no-port-published",
	"nothing-listens",    /* refused until the timeout: container_output, listening_port */
	"no-answer",          /* connections accepted, no answer */
	"wrong-status",       /* status, want_status, body */
	"not-json",           /* body */
	"wrong-value",        /* field, value, want_value */
	NULL,
};

const struct check_kind check_http = {
	.name = "http",
	.summary = "the running container answers on its health endpoint",
	.needs = NEED_CONTAINER,
	.uses_container = 1,
	.params = params,
	.causes = cause_ids,
	.run = run,
};
