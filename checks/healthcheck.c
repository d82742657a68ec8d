/*
 * healthcheck: the image's own HEALTHCHECK drives a container to `healthy`.
 *
 * The engine runs the first probe only after the image's interval (30 s in
 * the lesson).  The container was started with only the interval overridden
 * (250 ms), which keeps the image's command, timeout, start period and
 * retries, so the engine's own verdict comes within a second; the image's
 * configured timings are reported as evidence.
 *
 * A failure is classified into a cause (the `causes` list below), with the
 * evidence the phase's hint texts quote: the probe's last exit code and
 * output (the engine's health log), the port the probe asks and the
 * service's, the HEALTHCHECK as the image holds it ("line") and corrected
 * ("corrected"), and the probe as a command to run by hand
 * ("probe_command").  Two causes end the wait early, since no retry can
 * change them: a probe program that is not in the image (the engine could
 * not start it, or a shell-form probe's shell said `curl: not found`:
 * failures during the start period do not count, so the engine alone would
 * say nothing until it ends), and a probe on another port than the
 * service's once the service answers on its own (asked inside the container
 * with the probe's own program).
 */
#include "core/check.h"
#include "core/language.h"
#include "lib/dfstages.h"
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
	{ "probe", KEY_STRING, 0, 1, 300, "the probe the lesson writes, in shell form, for the hint when the image has "
	  "none (optional: the workshop's exec-form Node probe)", NULL },
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

/* The last probe's exit code (-1: the engine ended it or could not start it); 0 when there was none. */
static long long last_exit(json_t *health)
{
	json_t *log = json_object_get(health, "Log");
	return json_integer_value(json_object_get(json_array_get(log, json_array_size(log) - 1), "ExitCode"));
}

/* The probe can never succeed: its program is not in the image. */
static int not_found(const char *out)
{
	return out && (strstr(out, "executable file not found") || strstr(out, "no such file or directory"));
}

/*
 * A shell-form probe whose shell found no such program: a line of its
 * output such as dash's "/bin/sh: 1: curl: not found", busybox's "/bin/sh:
 * curl: not found" or bash's "bash: line 1: curl: command not found".  The
 * exit code is 127, or whatever `|| exit 1` makes of it: not 0.  The
 * program's name goes to name.
 */
static int shell_not_found(const char *out, long long code, char *name, size_t size)
{
	static const char *const ends[] = { ": not found", ": command not found" };

	if (!out || !code)
		return 0;
	for (const char *line = out; *line; line += strcspn(line, "\n"), line += *line == '\n') {
		size_t len = strcspn(line, "\n"), first = strcspn(line, " ");

		while (len && (line[len - 1] == ' ' || line[len - 1] == '\r'))
			len--;
		/* the shell speaks first: "/bin/sh:", "sh:", "bash:" */
		if (first < 3 || first > len || strncmp(line + first - 3, "sh:", 3))
			continue;
		for (size_t i = 0; i < ARRAY_SIZE(ends); i++) {
			size_t n = strlen(ends[i]);
			const char *end = line + len - n, *start;

			if (len <= first + n || strncmp(end, ends[i], n))
				continue;
			for (start = end; start > line + first && start[-1] != ' '; start--)
				;
			if (start == end || memchr(start, ':', (size_t)(end - start)))
				continue;
			snprintf(name, size, "%.*s", (int)(end - start), start);
			return 1;
		}
	}
	return 0;
}

/* The engine ended the probe at the image's timeout. */
static int timed_out(const char *out)
{
	return out && strstr(out, "exceeded timeout");
}

/*
 * The port a probe asks, read from its words: "localhost:3001",
 * "127.0.0.1:3001", "[::1]:3001", or "port: 3001" / "--port=3001" (an
 * options object, a flag).  -1 when none is written (PORT from the
 * environment, say).
 */
static int port_in(const char *s)
{
	static const char *const hosts[] = { "localhost:", "127.0.0.1:", "0.0.0.0:", "[::1]:", "[::]:" };
	const char *best = NULL;

	if (!s)
		return -1;
	for (size_t i = 0; i < ARRAY_SIZE(hosts); i++) {
		const char *p = strstr(s, hosts[i]);
		if (p && (p += strlen(hosts[i]), *p >= '0' && *p <= '9') && (!best || p < best))
			best = p;
	}
	for (const char *p = s; !best && (p = strcasestr(p, "port")); p += 4) {
		const char *q = p + 4;
		while (*q == '"' || *q == '\'' || *q == ' ')
			q++;
		if (*q != ':' && *q != '=')
			continue;
		for (q++; *q == ' '; q++)
			;
		if (*q >= '0' && *q <= '9')
			best = q;
	}
	if (!best)
		return -1;
	long v = strtol(best, NULL, 10);
	return v > 0 && v < 65536 ? (int)v : -1;
}

static int probe_port(json_t *test)
{
	json_t *w;
	size_t i;

	json_array_foreach(test, i, w) {
		int p = i ? port_in(json_string_value(w)) : -1;
		if (p > 0)
			return p;
	}
	return -1;
}

/* s with every "from" replaced by "to" (new string). */
static char *replace_all(const char *s, const char *from, const char *to)
{
	struct strbuf sb = STRBUF_INIT;
	size_t n = strlen(from);

	for (const char *p; n && (p = strstr(s, from)); s = p + n) {
		strbuf_add(&sb, s, (size_t)(p - s));
		strbuf_addstr(&sb, to);
	}
	strbuf_addstr(&sb, s);
	return strbuf_detach(&sb, NULL);
}

/*
 * The HEALTHCHECK as a Dockerfile line, from the image's Test array:
 * `HEALTHCHECK CMD ["/nodejs/bin/node", "-e", "..."]`, or the shell form's
 * `HEALTHCHECK CMD <string>`.  With prog set, the probe's program is
 * written as prog (the corrected line).
 */
static void dockerfile_line(json_t *test, const char *prog, struct strbuf *sb)
{
	const char *form = json_string_value(json_array_get(test, 0));
	json_t *w;
	size_t i;

	strbuf_addstr(sb, "HEALTHCHECK CMD ");
	if (form && !strcmp(form, "CMD-SHELL")) {
		strbuf_addstr(sb, json_string_value(json_array_get(test, 1)));
		return;
	}
	strbuf_addch(sb, '[');
	json_array_foreach(test, i, w) {
		json_t *word;
		char *q;
		if (!i)
			continue;
		word = i == 1 && prog ? json_string(prog) : json_incref(w);
		q = json_dumps(word, JSON_ENCODE_ANY);
		json_decref(word);
		strbuf_addf(sb, "%s%s", i > 1 ? ", " : "", q ? q : "\"\"");
		free(q);
	}
	strbuf_addch(sb, ']');
}

/* A word for a POSIX shell: as is when it is plain, else in single quotes. */
static void shell_word(struct strbuf *sb, const char *w)
{
	if (*w && strspn(w, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-=:,+@%") == strlen(w)) {
		strbuf_addstr(sb, w);
		return;
	}
	strbuf_addch(sb, '\'');
	for (; *w; w++) {
		if (*w == '\'')
			strbuf_addstr(sb, "'\\''");
		else
			strbuf_addch(sb, *w);
	}
	strbuf_addch(sb, '\'');
}

/* The exec-form probe as words after `docker exec <container>`: what the engine runs. */
static void probe_command(json_t *test, struct strbuf *sb)
{
	json_t *w;
	size_t i;

	json_array_foreach(test, i, w) {
		if (!i)
			continue;
		if (i > 1)
			strbuf_addch(sb, ' ');
		shell_word(sb, json_string_value(w) ? json_string_value(w) : "");
	}
}

/* The last part of a path ("node" of "/nodejs/bin/node"). */
static const char *base_name(const char *p)
{
	const char *slash = p ? strrchr(p, '/') : NULL;
	return slash ? slash + 1 : p ? p : "";
}

struct fs_look {
	int has_sh;
	/* merged /usr (Debian): /bin is a link to usr/bin, and sh is usr/bin/sh */
	int bin_to_usr, usr_bin_sh;
	const char *want;     /* a program's name to find: its path in the image */
	char found[256];
};

static int look_fs(void *vctx, const struct tar_entry *e, const struct strbuf *data)
{
	struct fs_look *l = vctx;
	const char *slash = strrchr(e->name, '/');
	(void)data;
	if (!strcmp(e->name, "bin/sh"))
		l->has_sh = 1;
	if (!strcmp(e->name, "usr/bin/sh"))
		l->usr_bin_sh = 1;
	if (!strcmp(e->name, "bin") && e->type == '2' &&
	    (!strcmp(e->linkname, "usr/bin") || !strcmp(e->linkname, "/usr/bin")))
		l->bin_to_usr = 1;
	/* an executable file or link called `want` in a bin folder */
	if (l->want && !l->found[0] && slash && !strcmp(slash + 1, l->want) && (e->type == '0' || e->type == '2') &&
	    (e->type == '2' || (e->mode & 0111)) && slash - e->name >= 3 && !strncmp(slash - 3, "bin", 3))
		snprintf(l->found, sizeof(l->found), "/%s", e->name);
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

/*
 * Ask, inside the container and with the probe's own program (Node), whether
 * the probe's port and the service's accept a connection: what the lesson's
 * probe cannot say, since it exits 1 without a word on a refused connection.
 * Fills *probe_says and *service_says ("open", or Node's error such as
 * "connect ECONNREFUSED 127.0.0.1:3001"); -1 when it could not ask.
 */
static int port_test(struct check_ctx *ctx, const char *node, int probe, int service, struct strbuf *probe_says,
		     struct strbuf *service_says)
{
	struct strbuf out = STRBUF_INIT;
	char *script = xasprintf(
		"const net=require('net');const r={};let n=0;"
		"for(const p of [%d,%d]){const s=net.connect(p,'localhost');s.setTimeout(1000);"
		"const done=(m)=>{if(r[p])return;r[p]=m;s.destroy();if(++n===2)console.log(JSON.stringify(r));};"
		"s.on('connect',()=>done('open')).on('error',(e)=>done(e.message)).on('timeout',()=>done('no answer in 1 s'));}",
		probe, service);
	const char *argv[] = { node, "-e", script, NULL };
	char key[16];
	json_t *r;
	int rc = engine_exec(ctx->engine, ctx->container_id, argv, 3000, &out);

	r = rc == 0 ? json_loadb(out.buf, out.len, 0, NULL) : NULL;
	snprintf(key, sizeof(key), "%d", probe);
	if (json_string_value(json_object_get(r, key)))
		strbuf_addstr(probe_says, json_string_value(json_object_get(r, key)));
	snprintf(key, sizeof(key), "%d", service);
	if (json_string_value(json_object_get(r, key)))
		strbuf_addstr(service_says, json_string_value(json_object_get(r, key)));
	json_decref(r);
	strbuf_release(&out);
	free(script);
	return probe_says->len && service_says->len ? 0 : -1;
}

/* The runtime stage's FROM line, as evidence (runtime_from) and its image in base. */
static void runtime_from(struct check_ctx *ctx, struct check_result *res, struct strbuf *base)
{
	struct df_instrs df;
	const struct df_instr *from;

	df_instrs_load(&df, ctx->dir);
	from = df.nstages ? df_instrs_from(&df, df.nstages - 1) : NULL;
	if (from) {
		const char *a = from->args;

		result_evidence(res, "runtime_from", json_string(from->text));
		while (!strncmp(a, "--", 2)) { /* --platform=... */
			a += strcspn(a, " \t");
			a += strspn(a, " \t");
		}
		strbuf_add(base, a, strcspn(a, " \t"));
	}
	df_instrs_release(&df);
}

/* The probes seen so far: the engine keeps only the last five. */
struct probe_count {
	long long last_start_ms;
	int failed;
};

static void count_probes(json_t *health, struct probe_count *pc)
{
	json_t *entry;
	size_t i;

	json_array_foreach(json_object_get(health, "Log"), i, entry) {
		long long t = engine_time_ms(json_string_value(json_object_get(entry, "Start")));
		if (t <= pc->last_start_ms)
			continue;
		pc->last_start_ms = t;
		if (json_integer_value(json_object_get(entry, "ExitCode")) != 0)
			pc->failed++;
	}
}

/* The status line while it waits: how long, against what, and what the probe said last. */
static void say_waiting(struct check_ctx *ctx, json_t *health, const struct probe_count *pc, long long start_ms,
			long long retries)
{
	long long waited = (now_ms() - ctx->container_started_ms) / 1000;
	const char *out = last_output(health);
	struct strbuf last = STRBUF_INIT, when = STRBUF_INIT;

	if (waited * 1000 < start_ms)
		strbuf_addf(&when, "%lld s of the %lld s start period", waited, start_ms / 1000);
	else
		strbuf_addf(&when, "%lld s, start period over; %lld of %lld retries failed", waited,
			    (long long)json_integer_value(json_object_get(health, "FailingStreak")), retries);
	if (pc->failed) {
		strbuf_addstr(&last, out ? out : "");
		strbuf_rtrim(&last);
		if (last.len > 80)
			strbuf_setlen(&last, escape_cut(last.buf, last.len, 80));
		ctx_progress(ctx, "waiting for healthy: %s; the probe failed %d time%s (exit %lld%s%s)", when.buf,
			     pc->failed, pc->failed == 1 ? "" : "s", last_exit(health), last.len ? ": " : ", no output",
			     last.buf);
	} else {
		ctx_progress(ctx, "waiting for healthy: %s; no probe has failed", when.buf);
	}
	strbuf_release(&last);
	strbuf_release(&when);
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
	int service_port = ctx->phase->port, pport;
	json_t *state = NULL, *health = NULL;
	struct strbuf notes = STRBUF_INIT, line = STRBUF_INIT, cmd = STRBUF_INIT;
	struct strbuf port_says = STRBUF_INIT, service_says = STRBUF_INIT;
	struct probe_count pc = { 0, 0 };
	struct fs_look look = { 0 };
	const char *status = "starting";
	long long t0 = now_ms(), deadline, next_port_test = 0;
	int port_tests = 0, wrong_port_seen = 0;
	char missing[64] = "";

	result_evidence(res, "service_port", json_integer(service_port));
	if (!form || !strcmp(form, "NONE")) {
		result_set(res, CHECK_FAIL, "the image declares no HEALTHCHECK");
		result_cause(res, "no-healthcheck");
		if (obj_str(def->params, "probe", NULL))
			result_hint(res, "add to the runtime stage, before CMD: HEALTHCHECK --interval=%llds --timeout=%llds "
				    "--start-period=%llds --retries=%lld CMD %s", obj_int(def->params, "interval_s", 30),
				    obj_int(def->params, "timeout_s", 30), obj_int(def->params, "start_period_s", 0),
				    obj_int(def->params, "retries", 3), obj_str(def->params, "probe", ""));
		else if (phase_is_python(ctx->phase))
			result_hint(res, "add to the runtime stage: HEALTHCHECK --interval=30s --timeout=3s --start-period=10s "
				    "--retries=3 CMD [\"/usr/bin/python3\", \"-c\", \"...\"] (exec form, absolute path: "
				    "the distroless image has no shell, no curl and no wget; Python's urllib asks the service)");
		else
			result_hint(res, "add to the runtime stage: HEALTHCHECK --interval=30s --timeout=3s --start-period=10s "
				    "--retries=3 CMD [\"/nodejs/bin/node\", \"-e\", \"...\"] (exec form, absolute path: "
				    "the distroless image has no shell and no `node` on its PATH)");
		return;
	}
	pport = !strcmp(form, "CMD-SHELL") ? port_in(prog) : probe_port(test);
	result_evidence(res, "test", json_incref(test));
	dockerfile_line(test, NULL, &line);
	result_evidence(res, "line", json_string(line.buf));
	result_evidence(res, "program", json_string(prog ? prog : ""));
	if (pport > 0)
		result_evidence(res, "probe_port", json_integer(pport));
	if (strcmp(form, "CMD-SHELL")) {
		probe_command(test, &cmd);
		result_evidence(res, "probe_command", json_string(cmd.buf));
	} else {
		/* what the engine runs: the string through the image's shell */
		strbuf_addstr(&cmd, "/bin/sh -c ");
		shell_word(&cmd, prog ? prog : "");
		result_evidence(res, "probe_command", json_string(cmd.buf));
	}
	timings(hc, res);
	lesson_timings(def, hc, &notes);

	/*
	 * The shared container first (its verdict is read below): the look for a
	 * shell then reads its filesystem in place instead of creating another
	 * container to export.
	 */
	ctx_need_container(ctx);
	if (!strcmp(form, "CMD-SHELL")) {
		ctx_walk_fs(ctx, look_fs, &look, 0);
		if (!look.has_sh && !(look.bin_to_usr && look.usr_bin_sh)) {
			struct strbuf fixed = STRBUF_INIT;
			result_set(res, CHECK_FAIL, "the HEALTHCHECK is in shell form (%s), which runs through /bin/sh -c, "
				   "and this image has no /bin/sh: it can never succeed", prog ? prog : "");
			result_cause(res, "shell-form-no-shell");
			result_evidence(res, "probe_command", json_string("(none: a shell-form probe needs /bin/sh, "
									  "which this image does not have)"));
			/* the exec form of the lesson's probe, on the port the learner's asks */
			if (phase_is_python(ctx->phase)) {
				/* urlopen raises on a refused connection and on any status but 2xx: exit 1 */
				strbuf_addf(&fixed, "HEALTHCHECK CMD [\"/usr/bin/python3\", \"-c\", \"import sys, "
					    "urllib.request; sys.exit(0 if urllib.request.urlopen('http://localhost:%d/health', "
					    "timeout=2).status == 200 else 1)\"]", service_port);
				result_evidence(res, "corrected", json_string(fixed.buf));
				result_hint(res, "write it in exec form, with brackets and the absolute path of Python: "
					    "HEALTHCHECK CMD [\"/usr/bin/python3\", \"-c\", \"...\"]");
			} else {
				strbuf_addf(&fixed, "HEALTHCHECK CMD [\"/nodejs/bin/node\", \"-e\", \"require('http').get("
					    "'http://localhost:%d/health', (res) => process.exit(res.statusCode === 200 ? 0 : 1))"
					    ".on('error', () => process.exit(1))\"]", service_port);
				result_evidence(res, "corrected", json_string(fixed.buf));
				result_hint(res, "write it in exec form, with brackets and the absolute path of node: "
					    "HEALTHCHECK CMD [\"/nodejs/bin/node\", \"-e\", \"...\"]");
			}
			strbuf_release(&fixed);
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
		count_probes(health, &pc);
		if (strcmp(status, "starting"))
			break;
		/* a missing program fails the same way every time: no need to wait out the retries */
		if (not_found(last_output(health)) || shell_not_found(last_output(health), last_exit(health), missing,
								     sizeof(missing)))
			break;
		if (!json_is_true(json_object_get(state, "Running")))
			break;
		say_waiting(ctx, health, &pc, start_ns > 0 ? start_ns / NS_PER_MS : 0, retries > 0 ? retries : 3);
		/*
		 * A probe on another port than the service's, failing: once the
		 * service answers on its port and the probe's refuses, no retry can
		 * change the verdict (asked at most every second, five times).
		 */
		if (pport > 0 && pport != service_port && pc.failed && port_tests < 5 && now_ms() >= next_port_test &&
		    !strcmp(base_name(prog), "node") && prog[0] == '/') {
			strbuf_reset(&port_says);
			strbuf_reset(&service_says);
			port_tests++;
			next_port_test = now_ms() + 1000;
			if (port_test(ctx, prog, pport, service_port, &port_says, &service_says) < 0)
				port_tests = 5; /* it cannot be asked: wait for the engine's verdict */
			else if (strcmp(port_says.buf, "open") && !strcmp(service_says.buf, "open")) {
				wrong_port_seen = 1;
				break;
			}
		}
		if (now_ms() >= deadline || interrupt_sleep_ms(wait))
			break;
	}
	result_evidence(res, "status", json_string(status));
	result_evidence(res, "waited_ms", json_integer(now_ms() - ctx->container_started_ms));
	result_evidence(res, "probes", probe_log(health, 3));
	result_evidence(res, "probes_failed", json_integer(pc.failed));

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
		long long code = last_exit(health);
		struct strbuf o = STRBUF_INIT, fixed = STRBUF_INIT;

		strbuf_addstr(&o, out ? out : "");
		strbuf_rtrim(&o);
		if (o.len > 200)
			strbuf_setlen(&o, escape_cut(o.buf, o.len, 200));
		result_evidence(res, "exit_code", json_integer(code));
		result_evidence(res, "probe_output", json_string(o.len ? o.buf : "(no output)"));
		if (!not_found(out) && shell_not_found(out, code, missing, sizeof(missing))) {
			struct fs_look pm = { 0 };
			struct strbuf install = STRBUF_INIT, base = STRBUF_INIT;

			/* which package manager the image has says how to install it */
			pm.want = "apt-get";
			ctx_walk_fs(ctx, look_fs, &pm, 0);
			if (pm.found[0]) {
				strbuf_addf(&install, "RUN apt-get update && apt-get install -y --no-install-recommends %s%s "
					    "&& rm -rf /var/lib/apt/lists/*", missing,
					    !strcmp(missing, "curl") || !strcmp(missing, "wget") ? " ca-certificates" : "");
			} else {
				pm.want = "apk";
				pm.found[0] = '\0';
				ctx_walk_fs(ctx, look_fs, &pm, 0);
				if (pm.found[0])
					strbuf_addf(&install, "RUN apk add --no-cache %s", missing);
			}
			runtime_from(ctx, res, &base);
			result_set(res, CHECK_FAIL, "the probe's program `%s` is not in the image: its shell said `%s` "
				   "(exit code %lld), so the container can never become healthy%s", missing, o.buf, code,
				   notes.buf);
			result_cause(res, "probe-not-found");
			result_evidence(res, "program", json_string(missing));
			if (install.len) {
				result_evidence(res, "install_line", json_string(install.buf));
				result_evidence(res, "corrected", json_string(install.buf));
			}
			result_hint(res, "install %s in the runtime stage%s%s%s, before the HEALTHCHECK%s%s%s", missing,
				    base.len ? " (`" : "", base.buf, base.len ? "` has none)" : "", install.len ? ": `" : "",
				    install.buf, install.len ? "`" : "");
			strbuf_release(&install);
			strbuf_release(&base);
		} else if (not_found(out)) {
			/* where the program is in this image, if it is anywhere */
			look.want = base_name(prog);
			ctx_walk_fs(ctx, look_fs, &look, 0);
			result_set(res, CHECK_FAIL, "the image's probe cannot run, so the container can never become "
				   "healthy; the engine said: %s%s", o.buf, notes.buf);
			result_cause(res, "probe-not-found");
			if (look.found[0]) {
				result_evidence(res, "found_at", json_string(look.found));
				dockerfile_line(test, look.found, &fixed);
				result_evidence(res, "corrected", json_string(fixed.buf));
			}
			if (prog && !strchr(prog, '/'))
				result_hint(res, "the probe runs `%s`, which is not on this image's PATH%s%s: write its "
					    "absolute path in the HEALTHCHECK", prog, look.found[0] ? "; it is at " : "",
					    look.found);
			else
				result_hint(res, "the probe's program %s is not in the image%s%s", prog ? prog : "",
					    look.found[0] ? "; a program of that name is at " : "", look.found);
		} else if (pport > 0 && pport != service_port) {
			char from[16], to[16];
			snprintf(from, sizeof(from), ":%d", pport);
			snprintf(to, sizeof(to), ":%d", service_port);
			if (port_says.len)
				result_evidence(res, "port_test", json_string(port_says.buf));
			if (port_says.len)
				result_set(res, CHECK_FAIL, "the probe asks port %d, and the service listens on %d: inside "
					   "the container, port %d said \"%s\" and port %d accepts connections%s; the probe "
					   "exited %lld%s%s (%d probe%s failed)%s", pport, service_port, pport, port_says.buf,
					   service_port, wrong_port_seen ? " (no retry can pass: the wait ended there)" : "",
					   code, o.len ? ": " : " with no output", o.buf, pc.failed, pc.failed == 1 ? "" : "s",
					   notes.buf);
			else
				result_set(res, CHECK_FAIL, "the probe asks port %d, and the service listens on %d; the "
					   "probe exited %lld%s%s (%d probe%s failed)%s", pport, service_port, code,
					   o.len ? ": " : " with no output", o.buf, pc.failed, pc.failed == 1 ? "" : "s",
					   notes.buf);
			result_cause(res, "probe-wrong-port");
			{
				char *c = replace_all(line.buf, from, to);
				result_evidence(res, "corrected", json_string(c));
				free(c);
			}
			result_hint(res, "the probe runs inside the container, where the service listens on port %d: "
				    "ask that port, not %d", service_port, pport);
		} else if (timed_out(out)) {
			result_set(res, CHECK_FAIL, "the probe did not finish within the image's %.0f s timeout, %d "
				   "time%s: the engine said: %s%s", timeout_ns > 0 ? timeout_ns / 1e9 : 30.0, pc.failed,
				   pc.failed == 1 ? "" : "s", o.buf, notes.buf);
			result_cause(res, "probe-timeout");
			result_evidence(res, "timeout_s", json_integer(timeout_ns > 0 ? (timeout_ns + NS_PER_MS * 500) / (NS_PER_MS * 1000) : 30));
			result_hint(res, "the probe hung until the engine stopped it: give the request its own timeout "
				    "and exit 1 on an error or a timeout, so it never waits longer than the HEALTHCHECK's");
		} else {
			result_set(res, CHECK_FAIL, "the health status is '%s': the probe exited %lld%s%s (%d probe%s "
				   "failed)%s", status, code, o.len ? "; the probe said: " : " with no output", o.buf,
				   pc.failed, pc.failed == 1 ? "" : "s", notes.buf);
			result_cause(res, "probe-fails");
			result_hint(res, "the probe ran and failed: check that it asks port %d, path /health, and "
				    "exits 0 only on status 200", service_port);
		}
		strbuf_release(&o);
		strbuf_release(&fixed);
	}
out:
	json_decref(state);
	strbuf_release(&notes);
	strbuf_release(&line);
	strbuf_release(&cmd);
	strbuf_release(&port_says);
	strbuf_release(&service_says);
}

/* What run() tells apart (result_cause); the phase file's "causes" hold their hints. */
static const char *const cause_ids[] = {
	"no-healthcheck",       /* the image declares none */
	"shell-form-no-shell",  /* CMD-SHELL in an image without /bin/sh */
	"probe-not-found",      /* the probe's program is not in the image (bare `node` in distroless) */
	"probe-wrong-port",     /* the probe asks another port than the service's */
	"probe-timeout",        /* the engine ended the probe at the image's timeout */
	"probe-fails",          /* the probe ran and exited non-zero */
	NULL,
};

const struct check_kind check_healthcheck = {
	.name = "healthcheck",
	.summary = "the image's own HEALTHCHECK reaches healthy",
	.needs = NEED_IMAGE,
	.uses_container = 1,
	.params = params,
	.causes = cause_ids,
	.run = run,
};
