/*
 * task-definition: the ECS task definition in the learner's repository
 * mirrors the image: the essential container's healthCheck (command and
 * timings, in seconds, against the image's nanoseconds), its port, its
 * environment, its user, and an image reference that names one build.
 *
 * The file is at `path`, relative to the service folder (ctx->dir): in a
 * workspace, backend/deploy/task-definition.json.  It is read only when it
 * is a regular file inside that folder (a symbolic link may lead to another
 * file in it, never out of it; where it leads is never printed) and at most
 * max_kb large (its size is asked first, so a 50 MB file is never read).
 *
 * Then, in order, and the first problem found is the failure (one cause):
 * the file is a register-task-definition input (family, containerDefinitions,
 * each container's name and image, the types of what is there and the
 * ranges ECS documents for healthCheck: spec/backend-image.md, "the ECS task
 * definition"); then the mirror.  ECS ignores the image's HEALTHCHECK and
 * runs only the task definition's, so the two must say the same, and a
 * field the task definition leaves out takes ECS's default (interval 30 s,
 * timeout 5 s, retries 3, no start period), which is not Docker's (timeout
 * 30 s): the message says when a default was compared.
 */
#include "core/check.h"
#include "lib/escape.h"
#include "lib/fsutil.h"
#include "lib/registry.h"
#include "lib/xalloc.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const struct key_spec params[] = {
	{ "path", KEY_STRING, 0, 1, 300, "the task definition, relative to the service folder",
	  "deploy/task-definition.json" },
	{ "port", KEY_INT, 0, 1, 65535, "the container port portMappings must hold", "3000" },
	{ "max_kb", KEY_INT, 0, 1, 65536, "a larger file is refused unread", "1024" },
	{ "placeholders", KEY_STRINGS, 0, 0, 20, "image values a deploy step renders (accepted as such)",
	  "<IMAGE> {{IMAGE}} ${IMAGE} IMAGE_URI" },
	{ "env", KEY_STRINGS, 0, 0, 50, "variables of the image's ENV the environment must repeat (when the image "
	  "sets them)", "NODE_ENV" },
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
	"container-ambiguous", /* several essential containers, none named like the service */
	NULL,
};

#define NS 1000000000LL

/* A healthCheck timing: the task definition's field, the image's key, ECS's range and default, Docker's default. */
static const struct timing {
	const char *field;
	const char *image_key;
	const char *flag;         /* the HEALTHCHECK option that sets it */
	long long min, max;
	long long ecs_default;    /* -1: off (startPeriod) */
	long long docker_default; /* seconds; retries: a count */
	int seconds;              /* 0: a count */
} timings[] = {
	{ "interval", "Interval", "--interval", 5, 300, 30, 30, 1 },
	{ "timeout", "Timeout", "--timeout", 2, 60, 5, 30, 1 },
	{ "retries", "Retries", "--retries", 1, 10, 3, 3, 0 },
	{ "startPeriod", "StartPeriod", "--start-period", 0, 300, -1, 0, 1 },
};

/* --- describing values ---------------------------------------------------------- */

/* A JSON value as a message quotes it: "30s", 400, true, a list, an object. */
static void add_value(struct strbuf *out, json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_STRING: {
		const char *s = json_string_value(v);
		size_t n = json_string_length(v);
		strbuf_addch(out, '"');
		escape_truncate(out, s, n, 80);
		strbuf_addch(out, '"');
		break;
	}
	case JSON_INTEGER:
		strbuf_addf(out, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		break;
	case JSON_REAL:
		strbuf_addf(out, "%g", json_real_value(v));
		break;
	case JSON_TRUE:
		strbuf_addstr(out, "true");
		break;
	case JSON_FALSE:
		strbuf_addstr(out, "false");
		break;
	case JSON_NULL:
		strbuf_addstr(out, "null");
		break;
	case JSON_ARRAY:
		strbuf_addf(out, "a list of %zu", json_array_size(v));
		break;
	case JSON_OBJECT:
		strbuf_addstr(out, "an object");
		break;
	}
}

static const char *type_name(json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_STRING: return "a string";
	case JSON_INTEGER: return "an integer";
	case JSON_REAL: return "a number with a fraction";
	case JSON_TRUE: case JSON_FALSE: return "a boolean";
	case JSON_NULL: return "null";
	case JSON_ARRAY: return "a list";
	case JSON_OBJECT: return "an object";
	}
	return "a value";
}

/* A command list as one line: ["CMD-SHELL", "curl -f ..."] */
static void add_command(struct strbuf *out, json_t *cmd)
{
	json_t *e;
	size_t i;

	strbuf_addch(out, '[');
	json_array_foreach(cmd, i, e) {
		if (i)
			strbuf_addstr(out, ", ");
		if (json_is_string(e))
			add_value(out, e);
		else
			strbuf_addstr(out, "?");
	}
	strbuf_addch(out, ']');
}

/* Seconds from nanoseconds, as people read them: "30 s", "1.5 s". */
static void add_seconds(struct strbuf *out, long long ns)
{
	if (ns % NS == 0)
		strbuf_addf(out, "%lld s", ns / NS);
	else
		strbuf_addf(out, "%g s", (double)ns / NS);
}

/* A field's path into buf ("containerDefinitions[0].healthCheck.interval"); a path too long is cut. */
static void fieldf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void fieldf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, size, fmt, ap);
	va_end(ap);
}

/* --- the shape of a register-task-definition input ---------------------------------- */

struct problem {
	struct strbuf field;   /* "containerDefinitions[0].healthCheck.interval" */
	struct strbuf msg;     /* "is \"30s\" (a string): ..." (after the field) */
	json_t *value;         /* borrowed; NULL when missing */
};

/* The problem: field, the value found (NULL: missing), its type when that is what is wrong, and why. */
static int vbad(struct problem *p, const char *field, json_t *value, int show_type, const char *fmt, va_list ap)
	__attribute__((format(printf, 5, 0)));
static int vbad(struct problem *p, const char *field, json_t *value, int show_type, const char *fmt, va_list ap)
{
	strbuf_addstr(&p->field, field);
	p->value = value;
	if (value) {
		strbuf_addstr(&p->msg, "is ");
		add_value(&p->msg, value);
		if (show_type && !json_is_array(value) && !json_is_object(value))
			strbuf_addf(&p->msg, " (%s)", type_name(value));
		strbuf_addstr(&p->msg, ": ");
	} else {
		strbuf_addstr(&p->msg, "is missing: ");
	}
	strbuf_vaddf(&p->msg, fmt, ap);
	return -1;
}

static int bad(struct problem *p, const char *field, json_t *value, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int bad(struct problem *p, const char *field, json_t *value, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vbad(p, field, value, 0, fmt, ap);
	va_end(ap);
	return -1;
}

/* A value of the wrong type: the message names the type it has. */
static int bad_type(struct problem *p, const char *field, json_t *value, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int bad_type(struct problem *p, const char *field, json_t *value, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vbad(p, field, value, 1, fmt, ap);
	va_end(ap);
	return -1;
}

/* An optional integer in [min, max] (seconds when unit). */
static int check_int(struct problem *p, json_t *obj, const char *key, const char *where, long long min,
		     long long max, const char *unit)
{
	json_t *v = json_object_get(obj, key);
	char field[300];

	if (!v)
		return 0;
	fieldf(field, sizeof(field), "%s.%s", where, key);
	if (!json_is_integer(v))
		return bad_type(p, field, v, "it must be an integer%s%s, %lld to %lld", *unit ? " number of " : "", unit, min,
			   max);
	if (json_integer_value(v) < min || json_integer_value(v) > max)
		return bad(p, field, v, "ECS documents %lld to %lld%s%s", min, max, *unit ? " " : "", unit);
	return 0;
}

static int check_type(struct problem *p, json_t *obj, const char *key, const char *where, json_type type,
		      const char *want, int required)
{
	json_t *v = json_object_get(obj, key);
	char field[300];

	fieldf(field, sizeof(field), "%s%s%s", where, *where ? "." : "", key);
	if (!v)
		return required ? bad(p, field, NULL, "register-task-definition requires it") : 0;
	if (json_typeof(v) != type && !(type == JSON_TRUE && json_is_boolean(v)))
		return bad_type(p, field, v, "it must be %s", want);
	if (type == JSON_STRING && required && json_string_length(v) == 0)
		return bad(p, field, v, "it must not be empty");
	return 0;
}

/* Is value one of the placeholders a deploy step renders (or holds one)? */
static int placeholder(json_t *list, const char *value)
{
	json_t *e;
	size_t i;

	json_array_foreach(list, i, e) {
		const char *ph = json_string_value(e);
		if (ph && *ph && strstr(value, ph))
			return 1;
	}
	return 0;
}

static int check_health(struct problem *p, json_t *hc, const char *where)
{
	json_t *cmd = json_object_get(hc, "command"), *e;
	char field[300];
	size_t i;

	if (check_type(p, hc, "command", where, JSON_ARRAY, "a list of strings", 1) < 0)
		return -1;
	json_array_foreach(cmd, i, e) {
		fieldf(field, sizeof(field), "%s.command[%zu]", where, i);
		if (!json_is_string(e))
			return bad_type(p, field, e, "every element of the command must be a string");
	}
	fieldf(field, sizeof(field), "%s.command", where);
	if (json_array_size(cmd) == 0)
		return bad(p, field, cmd, "it must start with \"CMD\" or \"CMD-SHELL\", then the probe");
	{
		const char *form = json_string_value(json_array_get(cmd, 0));
		fieldf(field, sizeof(field), "%s.command[0]", where);
		if (strcmp(form, "CMD") && strcmp(form, "CMD-SHELL"))
			return bad(p, field, json_array_get(cmd, 0), "it must be \"CMD\" (the probe's words as a list) "
				   "or \"CMD-SHELL\" (one line for /bin/sh)");
		fieldf(field, sizeof(field), "%s.command", where);
		if (json_array_size(cmd) < 2)
			return bad(p, field, cmd, "after \"%s\" comes the probe itself", form);
	}
	for (size_t t = 0; t < sizeof(timings) / sizeof(timings[0]); t++)
		if (check_int(p, hc, timings[t].field, where, timings[t].min, timings[t].max,
			      timings[t].seconds ? "seconds" : "") < 0)
			return -1;
	return 0;
}

static int check_container(struct problem *p, json_t *cd, size_t idx, json_t *placeholders)
{
	char where[64], field[300];
	json_t *e, *list;
	size_t i;

	fieldf(where, sizeof(where), "containerDefinitions[%zu]", idx);
	if (!json_is_object(cd))
		return bad_type(p, where, cd, "each container definition must be an object");
	if (check_type(p, cd, "name", where, JSON_STRING, "a string", 1) < 0 ||
	    check_type(p, cd, "image", where, JSON_STRING, "a string: repo:tag or repo@sha256:<64 hex>", 1) < 0 ||
	    check_type(p, cd, "essential", where, JSON_TRUE, "true or false", 0) < 0 ||
	    check_type(p, cd, "user", where, JSON_STRING, "a string", 0) < 0 ||
	    check_type(p, cd, "portMappings", where, JSON_ARRAY, "a list of {containerPort, hostPort, protocol}", 0) < 0 ||
	    check_type(p, cd, "environment", where, JSON_ARRAY, "a list of {\"name\", \"value\"}", 0) < 0 ||
	    check_type(p, cd, "healthCheck", where, JSON_OBJECT, "an object", 0) < 0)
		return -1;
	{
		json_t *image = json_object_get(cd, "image");
		const char *ref = json_string_value(image);
		struct strbuf why = STRBUF_INIT;
		struct image_ref ir;

		if (!placeholder(placeholders, ref) && image_ref_parse(ref, &ir, &why) < 0) {
			fieldf(field, sizeof(field), "%s.image", where);
			bad(p, field, image, "not an image reference (repo:tag or repo@sha256:<64 hex>): %s", why.buf);
			strbuf_release(&why);
			return -1;
		}
		strbuf_release(&why);
	}
	list = json_object_get(cd, "portMappings");
	json_array_foreach(list, i, e) {
		json_t *proto = json_object_get(e, "protocol");

		fieldf(field, sizeof(field), "%s.portMappings[%zu]", where, i);
		if (!json_is_object(e))
			return bad_type(p, field, e, "each port mapping must be an object");
		if (check_int(p, e, "containerPort", field, 1, 65535, "") < 0 ||
		    check_int(p, e, "hostPort", field, 0, 65535, "") < 0)
			return -1;
		if (proto && (!json_is_string(proto) || (strcmp(json_string_value(proto), "tcp") &&
							   strcmp(json_string_value(proto), "udp")))) {
			fieldf(field, sizeof(field), "%s.portMappings[%zu].protocol", where, i);
			return (json_is_string(proto) ? bad : bad_type)(p, field, proto, "it must be \"tcp\" or \"udp\"");
		}
	}
	list = json_object_get(cd, "environment");
	json_array_foreach(list, i, e) {
		fieldf(field, sizeof(field), "%s.environment[%zu]", where, i);
		if (!json_is_object(e))
			return bad_type(p, field, e, "each entry must be an object {\"name\": ..., \"value\": ...}");
		if (check_type(p, e, "name", field, JSON_STRING, "a string", 1) < 0 ||
		    check_type(p, e, "value", field, JSON_STRING, "a string (ECS passes text: \"3000\", not 3000)", 0) < 0)
			return -1;
	}
	if (json_object_get(cd, "healthCheck")) {
		fieldf(field, sizeof(field), "%s.healthCheck", where);
		return check_health(p, json_object_get(cd, "healthCheck"), field);
	}
	return 0;
}

static int check_shape(struct problem *p, json_t *root, json_t *placeholders)
{
	json_t *list, *cd;
	size_t i;

	if (!json_is_object(root))
		return bad_type(p, "(the top level)", root, "a task definition is one JSON object");
	if (!json_object_get(root, "family") && json_is_object(json_object_get(root, "taskDefinition")))
		return bad(p, "family", NULL, "this looks like describe-task-definition's output: the register input "
			   "is the object inside \"taskDefinition\"");
	if (check_type(p, root, "family", "", JSON_STRING, "a string", 1) < 0 ||
	    check_type(p, root, "containerDefinitions", "", JSON_ARRAY, "a list of container definitions", 1) < 0)
		return -1;
	list = json_object_get(root, "containerDefinitions");
	if (json_array_size(list) == 0)
		return bad(p, "containerDefinitions", list, "a task definition needs at least one container");
	json_array_foreach(list, i, cd)
		if (check_container(p, cd, i, placeholders) < 0)
			return -1;
	return 0;
}

/* --- reading the file ------------------------------------------------------------- */

/*
 * The file at rel in dir as JSON (new reference), or NULL with the result
 * set (missing, refused, too large, not JSON).
 */
static json_t *load(const char *dir, const char *rel, long long max_bytes, struct check_result *res)
{
	char *full = NULL, root[PATH_MAX], real[PATH_MAX];
	struct strbuf text = STRBUF_INIT;
	json_error_t je;
	json_t *j = NULL;
	struct stat st;
	size_t rootlen;

	result_evidence(res, "path", json_string(rel));
	if (rel[0] == '/' || !strcmp(rel, "..") || !strncmp(rel, "../", 3) || strstr(rel, "/../") ||
	    (strlen(rel) >= 3 && !strcmp(rel + strlen(rel) - 3, "/.."))) {
		/* the phase file's mistake, not the learner's */
		result_set(res, CHECK_ERROR, "the phase's path '%s' leaves the service folder: it must be relative, "
			   "without '..'", rel);
		goto out;
	}
	full = xasprintf("%s/%s", dir, rel);
	if (lstat(full, &st) < 0) {
		result_cause(res, "missing");
		result_set(res, CHECK_FAIL, "no %s in the service folder", rel);
		goto out;
	}
	if (!realpath(dir, root) || !realpath(full, real)) {
		result_cause(res, "missing");
		result_set(res, CHECK_FAIL, "%s is a symbolic link that leads nowhere", rel);
		goto out;
	}
	rootlen = strlen(root);
	if (strncmp(real, root, rootlen) || (real[rootlen] != '/' && rootlen > 1)) {
		/* where it leads is not the learner's to learn from us */
		result_cause(res, "missing");
		result_set(res, CHECK_FAIL, "%s leads out of the service folder through a symbolic link: not followed",
			   rel);
		goto out;
	}
	if (stat(real, &st) < 0 || !S_ISREG(st.st_mode)) {
		result_cause(res, "missing");
		result_set(res, CHECK_FAIL, "%s is not a file (%s)", rel, S_ISDIR(st.st_mode) ? "a folder" : "not a regular file");
		goto out;
	}
	if ((long long)st.st_size > max_bytes) {
		result_cause(res, "not-json");
		result_evidence(res, "bytes", json_integer((json_int_t)st.st_size));
		result_set(res, CHECK_FAIL, "%s is %.1f MB (%lld bytes), over the %lld KB this check reads: refused unread; "
			   "a task definition is a few KB", rel, st.st_size / 1e6, (long long)st.st_size, max_bytes / 1024);
		goto out;
	}
	if (read_file_nofollow(real, (size_t)max_bytes, &text) < 0) {
		if (errno == EFBIG) {
			result_cause(res, "not-json");
			result_set(res, CHECK_FAIL, "%s grew past %lld KB while it was read: refused", rel, max_bytes / 1024);
		} else {
			result_set(res, CHECK_ERROR, "cannot read %s: %s", rel, strerror(errno));
		}
		goto out;
	}
	j = json_loadb(text.buf, text.len, JSON_REJECT_DUPLICATES, &je);
	if (!j) {
		result_cause(res, "not-json");
		result_evidence(res, "line", json_integer(je.line));
		result_evidence(res, "column", json_integer(je.column));
		result_set(res, CHECK_FAIL, "%s is not JSON: line %d, column %d: %s", rel, je.line, je.column, je.text);
	}
out:
	strbuf_release(&text);
	free(full);
	return j;
}

/* --- the mirror ---------------------------------------------------------------------- */

static int is_essential(json_t *cd)
{
	json_t *e = json_object_get(cd, "essential");
	return !e || json_is_true(e);
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

/*
 * The container that mirrors the image: the only one, or the only
 * essential one, or among several essential ones the one named like the
 * service.  -1 with the result set when none can be told.
 */
static long pick_container(struct check_ctx *ctx, json_t *list, struct check_result *res)
{
	struct strbuf names = STRBUF_INIT;
	const char *svc = base_name(ctx->dir), *ws = ctx->phase && ctx->phase->service_dir ?
		base_name(ctx->phase->service_dir) : NULL;
	long pick = -1;
	size_t i, n = 0;
	json_t *cd;

	if (json_array_size(list) == 1)
		return 0;
	json_array_foreach(list, i, cd)
		if (is_essential(cd)) {
			n++;
			pick = (long)i;
		}
	if (n == 1)
		return pick;
	pick = -1;
	json_array_foreach(list, i, cd) {
		const char *name = json_string_value(json_object_get(cd, "name"));
		if (!is_essential(cd))
			continue;
		if (names.len)
			strbuf_addstr(&names, ", ");
		escape_truncate(&names, name, strlen(name), 60);
		if (pick < 0 && (!strcmp(name, svc) || (ws && !strcmp(name, ws))))
			pick = (long)i;
	}
	if (pick >= 0 || n == 0) {
		strbuf_release(&names);
		if (n == 0) {
			result_cause(res, "invalid");
			result_evidence(res, "field", json_string("containerDefinitions[].essential"));
			result_evidence(res, "value", json_string("false in every container"));
			result_set(res, CHECK_FAIL, "no container of containerDefinitions is essential: ECS needs at least one");
		}
		return pick;
	}
	result_cause(res, "container-ambiguous");
	result_evidence(res, "field", json_string("containerDefinitions"));
	result_evidence(res, "considered", json_string(names.buf));
	result_set(res, CHECK_FAIL, "containerDefinitions holds %zu essential containers (%s) and none is named like "
		   "the service (%s%s%s): which one runs the image is not clear", n, names.buf, svc, ws && strcmp(ws, svc) ?
		   " or " : "", ws && strcmp(ws, svc) ? ws : "");
	strbuf_release(&names);
	return -1;
}

/* Runs of blanks as one space, none at the ends: how two shell lines are compared. */
static void add_normalised(struct strbuf *out, json_t *cmd)
{
	int space = 0;
	json_t *e;
	size_t i;

	json_array_foreach(cmd, i, e) {
		const char *s = json_string_value(e);
		if (i == 0 || !s)
			continue; /* the form */
		if (i > 1)
			space = 1; /* the words of a multi-element CMD-SHELL are joined with spaces */
		for (; *s; s++) {
			if (isspace((unsigned char)*s)) {
				space = 1;
				continue;
			}
			if (space && out->len)
				strbuf_addch(out, ' ');
			space = 0;
			strbuf_addch(out, *s);
		}
	}
}

static void differs(struct check_result *res, const char *cause, const char *field, const char *image,
		    const char *taskdef)
{
	result_cause(res, cause);
	result_evidence(res, "field", json_string(field));
	result_evidence(res, "image", json_string(image));
	result_evidence(res, "taskdef", json_string(taskdef));
}

/* The command: 0 when it is the image's, else -1 with the result set. */
static int mirror_command(json_t *itest, json_t *cmd, const char *where, struct check_result *res)
{
	const char *iform = json_string_value(json_array_get(itest, 0)), *tform = json_string_value(json_array_get(cmd, 0));
	struct strbuf field = STRBUF_INIT, a = STRBUF_INIT, b = STRBUF_INIT;
	int rc = -1;

	strbuf_addf(&field, "%s.healthCheck.command", where);
	if (strcmp(iform, tform)) {
		add_command(&a, itest);
		add_command(&b, cmd);
		differs(res, "command-differs", field.buf, a.buf, b.buf);
		result_set(res, CHECK_FAIL, "%s is %s form (%s) %s, the image's HEALTHCHECK is %s form (%s) %s: "
			   "CMD-SHELL runs one line through /bin/sh, CMD runs the words as they are; write the "
			   "image's form", field.buf, !strcmp(tform, "CMD") ? "exec" : "shell", tform, b.buf,
			   !strcmp(iform, "CMD") ? "exec" : "shell", iform, a.buf);
		goto out;
	}
	if (!strcmp(iform, "CMD-SHELL")) {
		add_normalised(&a, itest);
		add_normalised(&b, cmd);
		if (strcmp(a.buf, b.buf)) {
			differs(res, "command-differs", field.buf, a.buf, b.buf);
			result_set(res, CHECK_FAIL, "%s runs `%s`; the image's HEALTHCHECK runs `%s` (compared with "
				   "blanks normalised)", field.buf, b.buf, a.buf);
			goto out;
		}
	} else {
		size_t n = json_array_size(itest) > json_array_size(cmd) ? json_array_size(itest) : json_array_size(cmd);

		for (size_t i = 1; i < n; i++) {
			json_t *x = json_array_get(itest, i), *y = json_array_get(cmd, i);
			if (x && y && !strcmp(json_string_value(x), json_string_value(y)))
				continue;
			strbuf_addf(&field, "[%zu]", i);
			if (x)
				add_value(&a, x);
			else
				strbuf_addstr(&a, "nothing (it ends before)");
			if (y)
				add_value(&b, y);
			else
				strbuf_addstr(&b, "nothing (it ends before)");
			differs(res, "command-differs", field.buf, a.buf, b.buf);
			result_set(res, CHECK_FAIL, "%s is %s; the image's HEALTHCHECK has %s there", field.buf, b.buf, a.buf);
			goto out;
		}
		add_command(&a, itest);
	}
	rc = 0;
out:
	strbuf_release(&field);
	strbuf_release(&a);
	strbuf_release(&b);
	return rc;
}

/* The timings: 0 when they are the image's, else -1 with the result set.  summary gets them. */
static int mirror_timings(json_t *ihc, json_t *hc, const char *where, struct check_result *res, struct strbuf *summary)
{
	for (size_t t = 0; t < sizeof(timings) / sizeof(timings[0]); t++) {
		const struct timing *tm = &timings[t];
		json_t *v = json_object_get(hc, tm->field);
		long long raw = json_integer_value(json_object_get(ihc, tm->image_key));
		/* the image's value: 0 stands for Docker's default */
		long long ivalue = raw ? raw : tm->docker_default * (tm->seconds ? NS : 1);
		long long tvalue = v ? json_integer_value(v) : (tm->ecs_default < 0 ? 0 : tm->ecs_default);
		long long tscaled = tm->seconds ? tvalue * NS : tvalue;
		struct strbuf field = STRBUF_INIT, a = STRBUF_INIT, b = STRBUF_INIT;

		if (tm->seconds)
			add_seconds(&b, ivalue);
		else
			strbuf_addf(&b, "%lld", ivalue);
		strbuf_addstr(&a, b.buf);
		if (!raw)
			strbuf_addf(&a, " (%s: the HEALTHCHECK sets no %s)",
				    tm->ecs_default < 0 ? "none" : "Docker's default", tm->flag);
		else if (!tm->seconds)
			strbuf_addf(&a, " (%s=%lld)", tm->flag, ivalue);
		else if (ivalue % NS == 0)
			strbuf_addf(&a, " (%s=%llds)", tm->flag, ivalue / NS);
		else
			strbuf_addf(&a, " (%s=%gs)", tm->flag, (double)ivalue / NS);
		strbuf_reset(&b);
		if (tscaled == ivalue) {
			strbuf_addf(summary, "%s%s %lld%s", t ? ", " : "", tm->field, tvalue, tm->seconds ? " s" : "");
			strbuf_release(&field);
			strbuf_release(&a);
			strbuf_release(&b);
			continue;
		}
		strbuf_addf(&field, "%s.healthCheck.%s", where, tm->field);
		if (v)
			strbuf_addf(&b, "%lld%s", tvalue, tm->seconds ? " s" : "");
		else if (tm->ecs_default < 0)
			strbuf_addstr(&b, "not set, so ECS uses no start period (0 s)");
		else
			strbuf_addf(&b, "not set, so ECS's default applies: %lld%s", tvalue, tm->seconds ? " s" : "");
		differs(res, "timing-differs", field.buf, a.buf, b.buf);
		result_set(res, CHECK_FAIL, "%s is %s; the image's HEALTHCHECK has %s%s", field.buf, b.buf, a.buf,
			   !v ? "; ECS's defaults are not Docker's: write every timing out" :
			   (tm->seconds && ivalue % NS) ? ", which a task definition cannot say in whole seconds" : "");
		strbuf_release(&field);
		strbuf_release(&a);
		strbuf_release(&b);
		return -1;
	}
	return 0;
}

/* The image's ENV value of name, or NULL. */
static const char *image_env(json_t *env, const char *name)
{
	size_t n = strlen(name), i;
	json_t *e;

	json_array_foreach(env, i, e) {
		const char *s = json_string_value(e);
		if (s && !strncmp(s, name, n) && s[n] == '=')
			return s + n + 1;
	}
	return NULL;
}

static int is_root_user(const char *u)
{
	size_t n = strcspn(u, ":");
	return (n == 1 && u[0] == '0') || (n == 4 && !strncmp(u, "root", 4));
}

static void run(struct check_ctx *ctx, const struct check_def *def, struct check_result *res)
{
	const char *rel = param_str(def, "path");
	json_t *placeholders = param_strs(def, "placeholders"), *wanted_env = param_strs(def, "env");
	long long port = param_int(def, "port");
	json_t *cfg = json_object_get(ctx->image, "Config");
	json_t *ihc = json_object_get(cfg, "Healthcheck"), *itest = json_object_get(ihc, "Test");
	struct problem p = { STRBUF_INIT, STRBUF_INIT, NULL };
	struct strbuf where = STRBUF_INIT, summary = STRBUF_INIT, field = STRBUF_INIT, rest = STRBUF_INIT;
	json_t *root, *list, *cd, *hc, *e;
	const char *name, *iform;
	size_t i;
	long pick;

	root = load(ctx->dir, rel, param_int(def, "max_kb") * 1024LL, res);
	if (!root)
		goto out;
	if (check_shape(&p, root, placeholders) < 0) {
		result_cause(res, "invalid");
		result_evidence(res, "field", json_string(p.field.buf));
		{
			struct strbuf v = STRBUF_INIT;
			if (p.value)
				add_value(&v, p.value);
			else
				strbuf_addstr(&v, "missing");
			result_evidence(res, "value", json_string(v.buf));
			result_evidence(res, "taskdef", json_string(v.buf));
			strbuf_release(&v);
		}
		result_set(res, CHECK_FAIL, "%s: %s %s", rel, p.field.buf, p.msg.buf);
		goto out;
	}

	list = json_object_get(root, "containerDefinitions");
	pick = pick_container(ctx, list, res);
	if (pick < 0)
		goto out;
	cd = json_array_get(list, (size_t)pick);
	name = json_string_value(json_object_get(cd, "name"));
	strbuf_addf(&where, "containerDefinitions[%ld]", pick);
	result_evidence(res, "container", json_string(name));
	hc = json_object_get(cd, "healthCheck");

	/* the health check: ECS runs only this one */
	iform = json_string_value(json_array_get(itest, 0));
	if (!iform || (strcmp(iform, "CMD") && strcmp(iform, "CMD-SHELL"))) {
		strbuf_addf(&field, "%s.healthCheck", where.buf);
		differs(res, "command-differs", field.buf, "none", hc ? "a healthCheck" : "none");
		result_set(res, CHECK_FAIL, "the image has no HEALTHCHECK%s for %s (%s) to mirror: the image's probe "
			   "comes first, then the task definition repeats it", iform ? " that runs" : "", where.buf, name);
		goto out;
	}
	if (!hc) {
		strbuf_addf(&field, "%s.healthCheck", where.buf);
		result_cause(res, "no-healthcheck");
		result_evidence(res, "field", json_string(field.buf));
		result_set(res, CHECK_FAIL, "%s (%s) has no healthCheck: ECS ignores the image's HEALTHCHECK and runs only "
			   "the task definition's, so without one ECS never probes the container", where.buf, name);
		goto out;
	}
	if (mirror_command(itest, json_object_get(hc, "command"), where.buf, res) < 0)
		goto out;
	if (mirror_timings(ihc, hc, where.buf, res, &summary) < 0)
		goto out;

	/* the port */
	{
		struct strbuf seen = STRBUF_INIT;
		int found = 0;

		json_array_foreach(json_object_get(cd, "portMappings"), i, e) {
			json_int_t cp = json_integer_value(json_object_get(e, "containerPort"));
			if (cp == port)
				found = 1;
			if (json_object_get(e, "containerPort"))
				strbuf_addf(&seen, "%s%" JSON_INTEGER_FORMAT, seen.len ? ", " : "", cp);
		}
		if (!found) {
			strbuf_addf(&field, "%s.portMappings", where.buf);
			result_cause(res, "port-missing");
			result_evidence(res, "field", json_string(field.buf));
			result_evidence(res, "taskdef", json_string(seen.len ? seen.buf : "none"));
			result_evidence(res, "image", json_sprintf("%lld", port));
			result_set(res, CHECK_FAIL, "%s has no containerPort %lld (%s%s): the service listens on %lld and "
				   "the image EXPOSEs it", field.buf, port, seen.len ? "it holds " : "it holds none",
				   seen.buf, port);
			strbuf_release(&seen);
			goto out;
		}
		strbuf_release(&seen);
	}

	/* the environment the image sets, repeated */
	json_array_foreach(wanted_env, i, e) {
		const char *var = json_string_value(e), *ival = image_env(json_object_get(cfg, "Env"), var);
		const char *tval = NULL;
		json_t *ent;
		size_t k;

		if (!ival)
			continue;
		json_array_foreach(json_object_get(cd, "environment"), k, ent)
			if (!strcmp(json_string_value(json_object_get(ent, "name")), var))
				tval = json_string_value(json_object_get(ent, "value"));
		if (tval && !strcmp(tval, ival)) {
			strbuf_addf(&rest, ", %s=%s", var, ival);
			continue;
		}
		strbuf_reset(&field);
		strbuf_addf(&field, "%s.environment", where.buf);
		result_cause(res, "env-missing");
		result_evidence(res, "field", json_string(field.buf));
		result_evidence(res, "image", json_sprintf("%s=%s", var, ival));
		result_evidence(res, "taskdef", tval ? json_sprintf("%s=%s", var, tval) : json_string("none"));
		if (tval)
			result_set(res, CHECK_FAIL, "%s sets %s=%s; the image sets %s=%s", field.buf, var, tval, var, ival);
		else
			result_set(res, CHECK_FAIL, "%s has no %s; the image sets %s=%s", field.buf, var, var, ival);
		goto out;
	}

	/* the user */
	{
		const char *user = json_string_value(json_object_get(cd, "user"));
		const char *iuser = json_string_value(json_object_get(cfg, "User"));

		if (user && is_root_user(user)) {
			strbuf_reset(&field);
			strbuf_addf(&field, "%s.user", where.buf);
			result_cause(res, "user-root");
			result_evidence(res, "field", json_string(field.buf));
			result_evidence(res, "taskdef", json_string(user));
			result_evidence(res, "image", json_string(iuser && *iuser ? iuser : "root"));
			result_set(res, CHECK_FAIL, "%s is \"%s\": the container would run as root, whatever the image's "
				   "USER (%s)", field.buf, user, iuser && *iuser ? iuser : "none: root");
			goto out;
		}
		if (user)
			strbuf_addf(&rest, ", user %s", user);
	}

	/* the image: one build, named */
	{
		const char *ref = json_string_value(json_object_get(cd, "image"));
		struct strbuf why = STRBUF_INIT;
		struct image_ref ir;

		strbuf_reset(&field);
		strbuf_addf(&field, "%s.image", where.buf);
		if (placeholder(placeholders, ref)) {
			strbuf_addf(&rest, "; image %s, a placeholder the deploy step renders", ref);
		} else {
			image_ref_parse(ref, &ir, &why); /* well formed: check_shape said so */
			strbuf_release(&why);
			if (!*ir.digest && (!*ir.tag || !strcmp(ir.tag, "latest"))) {
				result_cause(res, "image-tag");
				result_evidence(res, "field", json_string(field.buf));
				result_evidence(res, "taskdef", json_string(ref));
				if (!*ir.tag)
					result_set(res, CHECK_FAIL, "%s is \"%s\", with no tag: ECS then pulls :latest, which "
						   "names no particular build", field.buf, ref);
				else
					result_set(res, CHECK_FAIL, "%s is \"%s\": latest names no particular build and moves "
						   "with every push; the material's own practice is a specific version tag "
						   "for what is deployed", field.buf, ref);
				goto out;
			}
			strbuf_addf(&rest, "; image %s", ref);
		}
	}

	{
		struct strbuf cmdtext = STRBUF_INIT;

		if (!strcmp(iform, "CMD-SHELL"))
			add_normalised(&cmdtext, itest);
		else
			add_command(&cmdtext, itest);
		result_set(res, CHECK_PASS, "%s mirrors the image: %s (%s) probes with the image's %s `%s`, at its "
			   "timings (%s); containerPort %lld%s", rel, where.buf, name, iform, cmdtext.buf, summary.buf,
			   port, rest.buf);
		strbuf_release(&cmdtext);
	}
out:
	json_decref(root);
	json_decref(placeholders);
	json_decref(wanted_env);
	strbuf_release(&p.field);
	strbuf_release(&p.msg);
	strbuf_release(&where);
	strbuf_release(&summary);
	strbuf_release(&rest);
	strbuf_release(&field);
}

const struct check_kind check_task_definition = {
	.name = "task-definition",
	.summary = "the ECS task definition mirrors the image's health check, port and environment",
	.needs = NEED_IMAGE,
	.params = params,
	.causes = causes,
	.run = run,
};
