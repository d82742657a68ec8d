/*
 * result: the helpers a check fills its result with (check.h declares
 * them): the message and hint as printf formats, evidence, an engine
 * failure.  The driver (verify.c) uses them for skips as the kinds do.
 */
#include "core/check.h"

#include "lib/xalloc.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* The printf-formatted text as a new string. */
static char *vformat(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));
static char *vformat(const char *fmt, va_list ap)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_vaddf(&sb, fmt, ap);
	return strbuf_detach(&sb, NULL);
}

void result_set(struct check_result *res, enum check_status st, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	free(res->message);
	res->message = vformat(fmt, ap);
	va_end(ap);
	res->status = st;
}

void result_hint(struct check_result *res, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	free(res->hint);
	res->hint = vformat(fmt, ap);
	va_end(ap);
}

void result_cause(struct check_result *res, const char *id)
{
	free(res->cause);
	res->cause = id ? xstrdup(id) : NULL;
	if (id)
		result_evidence(res, "cause", json_string(id));
	else if (res->evidence)
		json_object_del(res->evidence, "cause");
}

int kind_has_cause(const struct check_kind *kind, const char *id)
{
	for (const char *const *c = kind->causes; c && *c; c++)
		if (!strcmp(*c, id))
			return 1;
	return 0;
}

json_t *build_step_json(const struct build_step *s)
{
	return json_pack("{s:i, s:i, s:s?, s:s, s:b}", "index", s->index, "of", s->total,
			 "stage", s->stage, "instruction", s->instruction, "cached", s->cached);
}

void result_evidence(struct check_result *res, const char *key, json_t *v)
{
	if (!res->evidence)
		res->evidence = json_object();
	json_object_set_new(res->evidence, key, v ? v : json_null());
}

void result_engine_error(struct check_result *res, struct check_ctx *ctx, const char *doing)
{
	result_set(res, CHECK_ERROR, "%s: %s", doing, ctx->engine->err.buf);
	result_hint(res, "this is the engine's or phaselab's failure, not yours: check that the engine "
		    "answers (docker info) and run the check again");
}
