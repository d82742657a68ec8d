/*
 * healthcheck-config: the image's HEALTHCHECK as the engine stores it (test,
 * interval, timeout, start period, retries; nanoseconds) against the
 * phase's values and its probe: the program, a flag that makes it fail on
 * an HTTP error, and the URL it asks.
 *
 * A static look at the image's configuration, no container: what the
 * `healthy` item cannot see, since it overrides the interval to decide at
 * once, and what an orchestrator copies into its own health check (the
 * task definition mirrors these numbers).  A field the image leaves unset
 * is the engine's default (30 s interval, 30 s timeout, no start period,
 * 3 retries), and the message says so: `--timeout` forgotten is 30 s, not 5.
 *
 * The probe is read as the shell reads its first command: the CMD-SHELL
 * string (or a CMD that runs `sh -c STRING`) split into words with quotes,
 * up to the first `||`, `&&`, `;` or `|`; a CMD list is its own words.
 */
#include "core/check.h"
#include "lib/escape.h"
#include "lib/strvec.h"
#include "lib/xalloc.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

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

/*
 * The causes, in the order that picks the one a failure names when it has
 * several; the evidence for every one: field, want, got (the first
 * mismatch of that cause), line (the HEALTHCHECK as the image holds it),
 * corrected (the line to write), probe.
 */
static const char *const causes[] = {
	"no-healthcheck", /* the image has none */
	"wrong-timings",  /* one or more of interval, timeout, start period, retries differ */
	"wrong-program",  /* the probe's program is not the lesson's */
	"no-fail-flag",   /* curl without -f: a 500 counts as healthy */
	"wrong-url",      /* another port, host or path */
	NULL,
};

#define NS_PER_S 1000000000LL
#define PROBE_MAX 300   /* bytes of the learner's probe quoted in a message */

/* "30 s", "250 ms", "1.5 s": a duration in nanoseconds, for people. */
static void add_duration(struct strbuf *sb, long long ns)
{
	if (ns % NS_PER_S == 0)
		strbuf_addf(sb, "%lld s", ns / NS_PER_S);
	else if (ns % 1000000LL == 0 && ns < NS_PER_S)
		strbuf_addf(sb, "%lld ms", ns / 1000000LL);
	else
		strbuf_addf(sb, "%.3g s", (double)ns / NS_PER_S);
}

/* The same as a Dockerfile option's value: "30s", "250ms". */
static void add_option_duration(struct strbuf *sb, long long ns)
{
	if (ns % NS_PER_S == 0)
		strbuf_addf(sb, "%llds", ns / NS_PER_S);
	else
		strbuf_addf(sb, "%lldms", ns / 1000000LL);
}

/* --- the probe's words --------------------------------------------------- */

/*
 * Split the first simple command of a shell string into words: quotes and
 * backslashes as sh reads them, blanks between words, and the command ends
 * at an operator (| & ; and newline).  Redirections are left out, and so are
 * variable assignments and `exec` before the program.  Enough for a probe;
 * expansions ($PORT) stay as written.
 */
static void shell_words(const char *s, struct strvec *out)
{
	struct strbuf w = STRBUF_INIT;
	int skip_next = 0;

	while (*s) {
		int have = 0;

		while (*s == ' ' || *s == '\t')
			s++;
		if (!*s || strchr("|&;\n", *s))
			break;
		strbuf_reset(&w);
		while (*s && !strchr(" \t|&;\n", *s)) {
			if (*s == '\'') {
				const char *end = strchr(s + 1, '\'');
				size_t n = end ? (size_t)(end - s - 1) : strlen(s + 1);
				strbuf_add(&w, s + 1, n);
				s += n + 1 + (end != NULL);
			} else if (*s == '"') {
				for (s++; *s && *s != '"'; s++) {
					if (*s == '\\' && s[1] && strchr("\"\\$`", s[1]))
						s++;
					strbuf_addch(&w, *s);
				}
				if (*s)
					s++;
			} else if (*s == '\\' && s[1]) {
				strbuf_addch(&w, s[1]);
				s += 2;
			} else {
				strbuf_addch(&w, *s++);
			}
			have = 1;
		}
		if (!have)
			continue;
		if (skip_next) { /* the target of a redirection written apart: `> /dev/null` */
			skip_next = 0;
			continue;
		}
		/* a redirection: >file, 2>&1, <in; alone (`>`, `2>`), its target is the next word */
		{
			size_t digits = strspn(w.buf, "0123456789");
			if (w.buf[digits] == '>' || w.buf[digits] == '<') {
				size_t ops = strspn(w.buf + digits, "<>&");
				skip_next = !w.buf[digits + ops];
				continue;
			}
		}
		if (!out->nr && (strchr(w.buf, '=') && strspn(w.buf, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
								 "0123456789_") == (size_t)(strchr(w.buf, '=') - w.buf)))
			continue; /* NAME=value before the program */
		if (!out->nr && !strcmp(w.buf, "exec"))
			continue;
		strvec_push(out, w.buf);
	}
	strbuf_release(&w);
}

static const char *base_name(const char *p)
{
	const char *slash = strrchr(p, '/');
	return slash ? slash + 1 : p;
}

static int is_shell(const char *prog)
{
	static const char *const shells[] = { "sh", "bash", "ash", "dash", NULL };

	for (const char *const *s = shells; *s; s++)
		if (!strcmp(base_name(prog), *s))
			return 1;
	return 0;
}

/*
 * The probe's words (its first command), through one `sh -c STRING`: the
 * string's first command is the probe.  out is cleared first.
 */
static void probe_words(json_t *test, struct strvec *out)
{
	const char *form = json_string_value(json_array_get(test, 0));
	json_t *w;
	size_t i;

	strvec_clear(out);
	if (form && !strcmp(form, "CMD-SHELL")) {
		shell_words(json_string_value(json_array_get(test, 1)) ?: "", out);
	} else {
		json_array_foreach(test, i, w)
			if (i && json_string_value(w))
				strvec_push(out, json_string_value(w));
	}
	for (int depth = 0; depth < 2 && out->nr >= 3 && is_shell(out->v[0]); depth++) {
		size_t c;
		char *script = NULL;

		for (c = 1; c + 1 < out->nr; c++)
			if (!strcmp(out->v[c], "-c")) {
				script = xstrdup(out->v[c + 1]);
				break;
			}
		if (!script)
			break;
		strvec_clear(out);
		shell_words(script, out);
		free(script);
	}
}

/* curl's short options that take an argument: in `-fsSo x` the letters after `o` are not options. */
static const char curl_short_args[] = "AbcCdDeEFHKmoPQrtTuUwxXyYz";

/*
 * Is one of flags among the probe's words?  A flag is a whole word ("-f",
 * "--fail"), or a short one inside a word of combined short options
 * ("-fsS", "-sf"), as long as no option before it in that word takes an
 * argument.
 */
static const char *fail_flag_in(const struct strvec *words, json_t *flags)
{
	json_t *f;
	size_t i, k;

	for (k = 1; k < words->nr; k++) {
		const char *w = words->v[k];

		json_array_foreach(flags, i, f) {
			const char *flag = json_string_value(f);

			if (!flag)
				continue;
			if (!strcmp(w, flag))
				return flag;
			if (flag[0] == '-' && flag[1] && flag[1] != '-' && !flag[2] && w[0] == '-' && w[1] != '-') {
				for (const char *c = w + 1; *c; c++) {
					if (*c == flag[1])
						return flag;
					if (strchr(curl_short_args, *c))
						break;
				}
			}
		}
	}
	return NULL;
}

/* Does a word look like what curl is asked for (a URL, or host:port/path)? */
static int looks_like_url(const char *w)
{
	return strstr(w, "://") || !strncmp(w, "localhost", 9) || !strncmp(w, "127.", 4) || !strncmp(w, "[::1]", 5) ||
	       !strncmp(w, "0.0.0.0", 7);
}

/* The URL the probe asks: the first word after the program that looks like one, or NULL. */
static const char *probe_url(const struct strvec *words)
{
	for (size_t k = 1; k < words->nr; k++)
		if (words->v[k][0] != '-' && looks_like_url(words->v[k]))
			return words->v[k];
	return NULL;
}

/* --- URLs ------------------------------------------------------------------ */

struct url {
	char scheme[16];  /* "http" when not written */
	char host[128];   /* "localhost" for 127.0.0.1, [::1] and localhost */
	int port;         /* the scheme's when not written */
	char path[256];   /* "/" when not written; the query and fragment left out */
};

/* Parse "http://localhost:3000/health" or "localhost:3000/health".  0, or -1 when it is not one. */
static int url_parse(const char *s, struct url *u)
{
	const char *p = strstr(s, "://"), *host, *end;
	size_t n;

	memset(u, 0, sizeof(*u));
	if (p) {
		n = (size_t)(p - s);
		if (!n || n >= sizeof(u->scheme))
			return -1;
		memcpy(u->scheme, s, n);
		host = p + 3;
	} else {
		strcpy(u->scheme, "http");
		host = s;
	}
	for (char *c = u->scheme; *c; c++)
		if (*c >= 'A' && *c <= 'Z')
			*c = (char)(*c - 'A' + 'a');
	if (*host == '[') {
		end = strchr(host, ']');
		if (!end)
			return -1;
		end++;
	} else {
		end = host + strcspn(host, ":/?#");
	}
	n = (size_t)(end - host);
	if (!n || n >= sizeof(u->host))
		return -1;
	memcpy(u->host, host, n);
	/* the loopback, however it is written, is one host inside the container */
	if (!strcmp(u->host, "127.0.0.1") || !strcmp(u->host, "[::1]") || !strcasecmp(u->host, "localhost"))
		strcpy(u->host, "localhost");
	if (*end == ':') {
		char *after;
		long port = strtol(end + 1, &after, 10);
		if (after == end + 1 || port <= 0 || port > 65535)
			return -1;
		u->port = (int)port;
		end = after;
	} else {
		u->port = !strcmp(u->scheme, "https") ? 443 : 80;
	}
	if (*end == '/') {
		n = strcspn(end, "?#");
		if (n >= sizeof(u->path))
			return -1;
		memcpy(u->path, end, n);
	} else if (!*end || *end == '?' || *end == '#') {
		strcpy(u->path, "/");
	} else {
		return -1;
	}
	return 0;
}

/* What differs between two URLs, for people ("port 8080, not 3000"); "" when none. */
static void url_diff(const struct url *got, const struct url *want, struct strbuf *sb)
{
	const char *sep = "";

	if (strcmp(got->scheme, want->scheme)) {
		strbuf_addf(sb, "%s%s, not %s", sep, got->scheme, want->scheme);
		sep = "; ";
	}
	if (strcasecmp(got->host, want->host)) {
		strbuf_addf(sb, "%shost %s, not %s", sep, got->host, want->host);
		sep = "; ";
	}
	if (got->port != want->port) {
		strbuf_addf(sb, "%sport %d, not %d", sep, got->port, want->port);
		sep = "; ";
	}
	if (strcmp(got->path, want->path))
		strbuf_addf(sb, "%spath %s, not %s", sep, got->path, want->path);
}

/* --- the check ------------------------------------------------------------- */

struct timing {
	const char *param, *field, *key, *option;
	long long dflt_ns;       /* the engine's default when the image leaves it unset */
	int is_count;            /* retries: a count, not a duration */
};

static const struct timing timings[] = {
	{ "interval_s", "interval", "Interval", "--interval", 30 * NS_PER_S, 0 },
	{ "timeout_s", "timeout", "Timeout", "--timeout", 30 * NS_PER_S, 0 },
	{ "start_period_s", "start period", "StartPeriod", "--start-period", 0, 0 },
	{ "retries", "retries", "Retries", "--retries", 3, 1 },
};

/* One difference from the lesson: its cause and the words for it. */
struct mismatch {
	const char *cause;
	char *field, *want, *got;
};

struct verdict {
	struct mismatch m[8];
	size_t n;
	struct strbuf said;      /* every mismatch, for the message */
};

static void add_mismatch(struct verdict *v, const char *cause, const char *field, const char *want, const char *got)
{
	if (v->n == ARRAY_SIZE(v->m))
		return;
	v->m[v->n].cause = cause;
	v->m[v->n].field = xstrdup(field);
	v->m[v->n].want = xstrdup(want);
	v->m[v->n].got = xstrdup(got);
	v->n++;
}

/* The probe as the image holds it, as words of a Dockerfile: the CMD-SHELL string, or the CMD list. */
static void probe_text(json_t *test, struct strbuf *sb)
{
	const char *form = json_string_value(json_array_get(test, 0));
	json_t *w;
	size_t i;

	if (form && !strcmp(form, "CMD-SHELL")) {
		const char *s = json_string_value(json_array_get(test, 1)) ?: "";
		escape_truncate(sb, s, strlen(s), PROBE_MAX);
		return;
	}
	strbuf_addch(sb, '[');
	json_array_foreach(test, i, w) {
		char *q;
		if (!i)
			continue;
		q = json_dumps(w, JSON_ENCODE_ANY);
		strbuf_addf(sb, "%s%s", i > 1 ? ", " : "", q ? q : "\"\"");
		free(q);
		if (sb->len > PROBE_MAX) {
			strbuf_setlen(sb, escape_cut(sb->buf, sb->len, PROBE_MAX));
			escape_add_truncated(sb, 0);
			return;
		}
	}
	strbuf_addch(sb, ']');
}

static void run(struct check_ctx *ctx, const struct check_def *def, struct check_result *res)
{
	json_t *hc = json_object_get(json_object_get(ctx->image, "Config"), "Healthcheck");
	json_t *test = json_object_get(hc, "Test");
	const char *form = json_string_value(json_array_get(test, 0));
	const char *want_prog = param_str(def, "program"), *want_url = param_str(def, "url");
	json_t *flags = param_strs(def, "fail_flags"), *list;
	struct strvec words = STRVEC_INIT;
	struct strbuf seen = STRBUF_INIT, probe = STRBUF_INIT, line = STRBUF_INIT, options = STRBUF_INIT;
	struct strbuf corrected = STRBUF_INIT, lesson_probe = STRBUF_INIT;
	struct verdict v = { .n = 0, .said = STRBUF_INIT };
	const char *flag = NULL, *url = NULL;
	struct url want_u, got_u;
	int want_url_ok = url_parse(want_url, &want_u) == 0;

	/* the lesson's HEALTHCHECK: options from the parameters, then its probe */
	for (size_t t = 0; t < ARRAY_SIZE(timings); t++) {
		long long want = param_int(def, timings[t].param);
		strbuf_addf(&options, "%s=", timings[t].option);
		if (timings[t].is_count)
			strbuf_addf(&options, "%lld", want);
		else
			add_option_duration(&options, want * NS_PER_S);
		strbuf_addch(&options, ' ');
	}
	strbuf_addf(&lesson_probe, "%s %s %s || exit 1", want_prog,
		    json_string_value(json_array_get(flags, 0)) ?: "-f", want_url);

	if (!form || !strcmp(form, "NONE") || json_array_size(test) < 2) {
		strbuf_addf(&corrected, "HEALTHCHECK %sCMD %s", options.buf, lesson_probe.buf);
		result_evidence(res, "corrected", json_string(corrected.buf));
		result_cause(res, "no-healthcheck");
		if (form && !strcmp(form, "NONE"))
			result_set(res, CHECK_FAIL, "the image turns its health check off (HEALTHCHECK NONE): the engine runs "
				   "no probe, and an orchestrator mirroring it has nothing to mirror");
		else
			result_set(res, CHECK_FAIL, "the image declares no HEALTHCHECK: the engine runs no probe, and "
				   "an orchestrator mirroring it has nothing to mirror");
		result_hint(res, "add it to the runtime stage, before CMD: %s", corrected.buf);
		goto out;
	}

	/* the timings, each against the lesson's, unset ones at the engine's default */
	for (size_t t = 0; t < ARRAY_SIZE(timings); t++) {
		const struct timing *tm = &timings[t];
		json_t *j = json_object_get(hc, tm->key);
		long long got = json_integer_value(j), want = param_int(def, tm->param);
		int unset = got <= 0;
		struct strbuf g = STRBUF_INIT, w = STRBUF_INIT;

		if (unset)
			got = tm->dflt_ns;
		if (tm->is_count) {
			strbuf_addf(&g, "%lld", got);
			strbuf_addf(&w, "%lld", want);
		} else {
			add_duration(&g, got);
			add_duration(&w, want * NS_PER_S);
		}
		strbuf_addf(&seen, "%s%s ", t ? ", " : "", tm->field);
		if (unset)
			strbuf_addf(&seen, "not set (the engine's default: %s)", g.buf);
		else
			strbuf_addstr(&seen, g.buf);
		/* whole seconds as integers: a hint quoting {timeout_s} reads "5", not "5.0" */
		result_evidence(res, tm->param, tm->is_count || got % NS_PER_S == 0 ?
			json_integer(tm->is_count ? got : got / NS_PER_S) : json_real((double)got / NS_PER_S));
		if (got != (tm->is_count ? want : want * NS_PER_S)) {
			add_mismatch(&v, "wrong-timings", tm->field, w.buf, unset ? "not set" : g.buf);
			if (unset)
				strbuf_addf(&v.said, "%s%s not set: the engine's default is %s, the lesson sets %s",
					    v.said.len ? "; " : "", tm->field, g.buf, w.buf);
			else
				strbuf_addf(&v.said, "%s%s %s, the lesson sets %s", v.said.len ? "; " : "", tm->field,
					    g.buf, w.buf);
		}
		strbuf_release(&g);
		strbuf_release(&w);
	}
	result_evidence(res, "test", json_incref(test));
	probe_text(test, &probe);
	result_evidence(res, "probe", json_string(probe.buf));
	strbuf_addf(&seen, "; probe `%s`", probe.buf);

	/* the probe: its program, its fail flag, its URL */
	probe_words(test, &words);
	result_evidence(res, "program", json_string(words.nr ? words.v[0] : ""));
	if (!words.nr || strcmp(base_name(words.v[0]), base_name(want_prog))) {
		add_mismatch(&v, "wrong-program", "program", want_prog, words.nr ? words.v[0] : "nothing");
		strbuf_addf(&v.said, "%sthe probe runs `%s`, not `%s`", v.said.len ? "; " : "",
			    words.nr ? words.v[0] : "nothing", want_prog);
	} else {
		flag = fail_flag_in(&words, flags);
		if (!flag) {
			add_mismatch(&v, "no-fail-flag", "fail flag", json_string_value(json_array_get(flags, 0)) ?: "-f",
				     "none");
			strbuf_addf(&v.said, "%s%s has no %s: it exits 0 on an HTTP error such as 500, so the probe "
				    "passes when /health fails", v.said.len ? "; " : "", want_prog,
				    json_string_value(json_array_get(flags, 0)) ?: "-f");
		}
		url = probe_url(&words);
		if (url)
			result_evidence(res, "url", json_string(url));
		if (want_url_ok && (!url || url_parse(url, &got_u) < 0)) {
			add_mismatch(&v, "wrong-url", "url", want_url, url ? url : "none");
			strbuf_addf(&v.said, "%sthe probe asks %s%s%s, not %s", v.said.len ? "; " : "",
				    url ? "`" : "", url ? url : "no URL that phaselab can read", url ? "`" : "", want_url);
		} else if (want_url_ok) {
			struct strbuf d = STRBUF_INIT;

			url_diff(&got_u, &want_u, &d);
			if (d.len) {
				add_mismatch(&v, "wrong-url", "url", want_url, url);
				strbuf_addf(&v.said, "%sthe probe asks `%s`, not %s (%s)", v.said.len ? "; " : "", url,
					    want_url, d.buf);
			}
			strbuf_release(&d);
		}
	}

	/* the line as the image holds it, and the one to write */
	strbuf_addstr(&line, "HEALTHCHECK ");
	for (size_t t = 0; t < ARRAY_SIZE(timings); t++) {
		long long got = json_integer_value(json_object_get(hc, timings[t].key));
		if (got <= 0)
			continue;
		strbuf_addf(&line, "%s=", timings[t].option);
		if (timings[t].is_count)
			strbuf_addf(&line, "%lld", got);
		else
			add_option_duration(&line, got);
		strbuf_addch(&line, ' ');
	}
	strbuf_addf(&line, "CMD %s", probe.buf);
	result_evidence(res, "line", json_string(line.buf));
	{
		/* the learner's probe stays when only the timings are off */
		int probe_ok = 1;
		for (size_t i = 0; i < v.n; i++)
			if (strcmp(v.m[i].cause, "wrong-timings"))
				probe_ok = 0;
		strbuf_addf(&corrected, "HEALTHCHECK %sCMD %s", options.buf, probe_ok ? probe.buf : lesson_probe.buf);
		result_evidence(res, "corrected", json_string(corrected.buf));
	}

	if (!v.n) {
		result_set(res, CHECK_PASS, "%s: as the lesson asks", seen.buf);
		goto out;
	}
	/* the cause: the first of the kind's order among the mismatches */
	for (const char *const *c = causes; *c; c++) {
		for (size_t i = 0; i < v.n; i++) {
			if (strcmp(v.m[i].cause, *c))
				continue;
			result_cause(res, *c);
			result_evidence(res, "field", json_string(v.m[i].field));
			result_evidence(res, "want", json_string(v.m[i].want));
			result_evidence(res, "got", json_string(v.m[i].got));
			goto caused;
		}
	}
caused:
	list = json_array();
	for (size_t i = 0; i < v.n; i++)
		json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:s}", "cause", v.m[i].cause, "field",
						      v.m[i].field, "want", v.m[i].want, "got", v.m[i].got));
	result_evidence(res, "mismatches", list);
	result_set(res, CHECK_FAIL, "%s; %s", seen.buf, v.said.buf);
	result_hint(res, "the runtime stage's HEALTHCHECK, as the lesson writes it: %s", corrected.buf);
out:
	for (size_t i = 0; i < v.n; i++) {
		free(v.m[i].field);
		free(v.m[i].want);
		free(v.m[i].got);
	}
	strbuf_release(&v.said);
	json_decref(flags);
	strvec_clear(&words);
	strbuf_release(&seen);
	strbuf_release(&probe);
	strbuf_release(&line);
	strbuf_release(&options);
	strbuf_release(&corrected);
	strbuf_release(&lesson_probe);
}

const struct check_kind check_healthcheck_config = {
	.name = "healthcheck-config",
	.summary = "the image's HEALTHCHECK has the lesson's probe and timings",
	.needs = NEED_IMAGE,
	.params = params,
	.causes = causes,
	.run = run,
};
