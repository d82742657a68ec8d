/*
 * image-config: what the image's configuration says about how it runs: the
 * environment it sets (NODE_ENV=production) and the port it exposes.
 *
 * Read from the image as the engine stores it (Config.Env, Config.
 * ExposedPorts), so what counts is what reached the image: an ENV written
 * only in the build stage does not, and the learner's Dockerfile is read
 * only to quote the line to change (lib/dfstages.h).  EXPOSE without a
 * protocol is tcp; a port exposed as udp only is named as such.
 */
#include "core/check.h"
#include "lib/dfstages.h"
#include "lib/escape.h"
#include "lib/xalloc.h"

#include <stdlib.h>
#include <string.h>

static const struct key_spec params[] = {
	{ "env", KEY_STRINGS, 0, 0, 50, "NAME=value entries the image's ENV must set", "NODE_ENV=production" },
	{ "port", KEY_INT, 0, 1, 65535, "the container port the image must EXPOSE", "3000" },
	{ NULL, 0, 0, 0, 0, NULL, NULL },
};

/*
 * In the order that picks a failure's cause.  Evidence: name, want, got
 * (the variable, or the port: "3000/tcp"), line and line_number (the
 * learner's ENV or EXPOSE line, when there is one), corrected (the line to
 * write), exposed (the ports the image exposes).
 */
static const char *const causes[] = {
	"env-missing",  /* a variable is not set at all */
	"env-wrong",    /* set to another value */
	"port-not-exposed",
	NULL,
};

#define VALUE_MAX 120   /* bytes of a value quoted */

/* The value the image's environment gives name (borrowed), or NULL. */
static const char *env_value(json_t *env, const char *name, size_t n)
{
	json_t *v;
	size_t i;

	json_array_foreach(env, i, v) {
		const char *s = json_string_value(v);
		if (s && !strncmp(s, name, n) && s[n] == '=')
			return s + n + 1;
	}
	return NULL;
}

/* Does an ENV instruction's text set name ("ENV A=1 B=2", "ENV A 1")? */
static int sets(const struct df_instr *in, const char *name, size_t n)
{
	const char *a = in->args;

	if (strcmp(in->keyword, "ENV"))
		return 0;
	for (const char *p = a; (p = strstr(p, name)); p += n)
		if ((p == a || p[-1] == ' ' || p[-1] == '\t') && (p[n] == '=' || p[n] == ' ' || p[n] == '\t'))
			return 1;
	return 0;
}

/* The learner's line for what failed: in the last stage, else an earlier one (noted). */
static void quote_line(struct check_result *res, const struct df_instrs *df, const char *keyword, const char *name,
		       size_t n, struct strbuf *note)
{
	const struct df_instr *hit = NULL, *earlier = NULL;
	int last = df->nstages - 1;

	for (size_t i = 0; i < df->n; i++) {
		const struct df_instr *in = &df->v[i];
		int match = name ? sets(in, name, n) : !strcmp(in->keyword, keyword);

		if (!match)
			continue;
		if (in->stage == last)
			hit = in;
		else
			earlier = in;
	}
	if (hit) {
		result_evidence(res, "line", json_string(hit->text));
		result_evidence(res, "line_number", json_integer(hit->line));
	} else if (earlier) {
		result_evidence(res, "line", json_string(earlier->text));
		result_evidence(res, "line_number", json_integer(earlier->line));
		strbuf_addf(note, " (`%s`, line %d, is in an earlier stage: the last stage starts afresh)", earlier->text,
			    earlier->line);
	}
}

static void run(struct check_ctx *ctx, const struct check_def *def, struct check_result *res)
{
	json_t *config = json_object_get(ctx->image, "Config");
	json_t *env = json_object_get(config, "Env"), *ports = json_object_get(config, "ExposedPorts");
	json_t *want_env = param_strs(def, "env"), *exposed = json_array(), *w, *v;
	int port = (int)param_int(def, "port");
	struct strbuf seen = STRBUF_INIT, wrong = STRBUF_INIT, note = STRBUF_INIT, hint = STRBUF_INIT;
	struct df_instrs df;
	const char *cause = NULL, *key;
	char tcp[32], udp[32];
	size_t i;

	df_instrs_load(&df, ctx->dir);
	json_array_foreach(want_env, i, w) {
		const char *entry = json_string_value(w), *eq = entry ? strchr(entry, '=') : NULL;
		size_t n = eq ? (size_t)(eq - entry) : 0;
		const char *got;
		char *name;

		if (!eq || !n)
			continue; /* the phase's own entry, not NAME=value: nothing to ask */
		name = xstrndup(entry, n);
		got = env_value(env, name, n);
		if (got && !strcmp(got, eq + 1)) {
			strbuf_addf(&seen, "%s%s", seen.len ? ", " : "", entry);
		} else {
			struct strbuf g = STRBUF_INIT;

			if (got)
				escape_truncate(&g, got, strlen(got), VALUE_MAX);
			strbuf_addf(&wrong, "%s%s %s", wrong.len ? "; " : "", name,
				    got ? "is set to " : "is not set in the image's environment");
			if (got)
				strbuf_addf(&wrong, "'%s', not '%s'", g.buf, eq + 1);
			if (!cause || (!got && strcmp(cause, "env-missing"))) {
				cause = got ? "env-wrong" : "env-missing";
				result_evidence(res, "name", json_string(name));
				result_evidence(res, "want", json_string(eq + 1));
				result_evidence(res, "got", got ? json_string(g.buf) : json_null());
				result_evidence(res, "corrected", json_sprintf("ENV %s", entry));
				json_object_del(res->evidence, "line");
				json_object_del(res->evidence, "line_number");
				strbuf_reset(&note);
				quote_line(res, &df, "ENV", name, n, &note);
				strbuf_addstr(&wrong, note.buf);
			}
			strbuf_release(&g);
		}
		free(name);
	}

	snprintf(tcp, sizeof(tcp), "%d/tcp", port);
	snprintf(udp, sizeof(udp), "%d/udp", port);
	json_object_foreach(ports, key, v)
		json_array_append_new(exposed, json_string(key));
	result_evidence(res, "exposed", exposed);
	if (json_object_get(ports, tcp)) {
		strbuf_addf(&seen, "%sport %s exposed", seen.len ? "; " : "", tcp);
	} else {
		struct strbuf list = STRBUF_INIT;

		json_array_foreach(exposed, i, v)
			strbuf_addf(&list, "%s%s", i ? ", " : "", json_string_value(v));
		if (json_object_get(ports, udp))
			strbuf_addf(&wrong, "%sport %d is exposed as udp only (%s): the service answers HTTP, over tcp",
				    wrong.len ? "; " : "", port, udp);
		else if (list.len)
			strbuf_addf(&wrong, "%sport %s is not exposed (the image exposes %s)", wrong.len ? "; " : "", tcp,
				    list.buf);
		else
			strbuf_addf(&wrong, "%sthe image exposes no port, not %s", wrong.len ? "; " : "", tcp);
		if (!cause) {
			cause = "port-not-exposed";
			result_evidence(res, "name", json_string("port"));
			result_evidence(res, "want", json_string(tcp));
			result_evidence(res, "got", json_string(list.len ? list.buf : "none"));
			result_evidence(res, "corrected", json_sprintf("EXPOSE %d", port));
			strbuf_reset(&note);
			quote_line(res, &df, "EXPOSE", NULL, 0, &note);
		}
		strbuf_release(&list);
	}

	if (!cause) {
		result_set(res, CHECK_PASS, "%s", seen.buf);
	} else {
		result_cause(res, cause);
		result_set(res, CHECK_FAIL, "%s%s%s", wrong.buf, seen.len ? "; as asked: " : "", seen.buf);
		/* every line the runtime stage needs, in one hint */
		json_array_foreach(want_env, i, w)
			if (json_string_value(w) && strchr(json_string_value(w), '='))
				strbuf_addf(&hint, "%sENV %s", hint.len ? ", " : "", json_string_value(w));
		strbuf_addf(&hint, "%sEXPOSE %d", hint.len ? ", " : "", port);
		result_hint(res, "only the last stage's instructions reach the image: write them there (%s), before CMD",
			    hint.buf);
	}
	json_decref(want_env);
	df_instrs_release(&df);
	strbuf_release(&seen);
	strbuf_release(&wrong);
	strbuf_release(&note);
	strbuf_release(&hint);
}

const struct check_kind check_image_config = {
	.name = "image-config",
	.summary = "the image sets the environment and exposes the port the lesson asks for",
	.needs = NEED_IMAGE,
	.params = params,
	.causes = causes,
	.run = run,
};
