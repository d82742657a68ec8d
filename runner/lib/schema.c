#include "lib/schema.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *type_name(enum key_type t)
{
	switch (t) {
	case KEY_STRING: return "a string";
	case KEY_INT: return "an integer";
	case KEY_NUMBER: return "a number";
	case KEY_BOOL: return "true or false";
	case KEY_OBJECT: return "an object";
	case KEY_ARRAY: return "an array";
	case KEY_STRINGS: return "an array of strings";
	case KEY_INTS: return "an array of integers";
	}
	return "?";
}

static int type_ok(json_t *v, enum key_type t)
{
	size_t i;
	json_t *el;

	switch (t) {
	case KEY_STRING: return json_is_string(v);
	case KEY_INT: return json_is_integer(v);
	case KEY_NUMBER: return json_is_number(v);
	case KEY_BOOL: return json_is_boolean(v);
	case KEY_OBJECT: return json_is_object(v);
	case KEY_ARRAY: return json_is_array(v);
	case KEY_STRINGS:
	case KEY_INTS:
		if (!json_is_array(v))
			return 0;
		json_array_foreach(v, i, el)
			if (t == KEY_STRINGS ? !json_is_string(el) : !json_is_integer(el))
				return 0;
		return 1;
	}
	return 0;
}

static void key_path(struct strbuf *sb, const char *where, const char *key)
{
	if (*where)
		strbuf_addf(sb, "%s.%s", where, key);
	else
		strbuf_addstr(sb, key);
}

int validate_object(json_t *obj, const struct key_spec *spec, const char *file,
		    const char *where, struct strbuf *err)
{
	const char *key;
	json_t *v;

	if (!json_is_object(obj)) {
		strbuf_addf(err, "%s: %s: must be an object", file, *where ? where : "(top level)");
		return -1;
	}
	json_object_foreach(obj, key, v) {
		const struct key_spec *s;

		for (s = spec; s->key && strcmp(s->key, key); s++)
			;
		if (!s->key) {
			strbuf_addf(err, "%s: ", file);
			key_path(err, where, key);
			strbuf_addstr(err, ": unknown key (known: ");
			for (s = spec; s->key; s++)
				strbuf_addf(err, "%s%s", s == spec ? "" : ", ", s->key);
			strbuf_addch(err, ')');
			return -1;
		}
		if (!type_ok(v, s->type)) {
			strbuf_addf(err, "%s: ", file);
			key_path(err, where, key);
			strbuf_addf(err, ": must be %s", type_name(s->type));
			return -1;
		}
		if (s->min != 0 || s->max != 0) {
			double x = json_is_array(v) ? (double)json_array_size(v)
				 : json_is_number(v) ? json_number_value(v)
				 : json_is_string(v) ? (double)strlen(json_string_value(v)) : 0;
			if (x < s->min || x > s->max) {
				strbuf_addf(err, "%s: ", file);
				key_path(err, where, key);
				if (json_is_number(v))
					strbuf_addf(err, ": %g is out of range (%g to %g)", x, s->min, s->max);
				else
					strbuf_addf(err, ": length %g is out of range (%g to %g)", x, s->min, s->max);
				return -1;
			}
		}
	}
	for (const struct key_spec *s = spec; s->key; s++) {
		if (s->required && !json_object_get(obj, s->key)) {
			strbuf_addf(err, "%s: ", file);
			key_path(err, where, s->key);
			strbuf_addf(err, ": missing (%s, required)", type_name(s->type));
			return -1;
		}
	}
	return 0;
}

const char *obj_str(json_t *obj, const char *key, const char *def)
{
	const char *s = json_string_value(json_object_get(obj, key));
	return s ? s : def;
}

long long obj_int(json_t *obj, const char *key, long long def)
{
	json_t *v = json_object_get(obj, key);
	return json_is_integer(v) ? json_integer_value(v) : def;
}

double obj_num(json_t *obj, const char *key, double def)
{
	json_t *v = json_object_get(obj, key);
	return json_is_number(v) ? json_number_value(v) : def;
}

int obj_bool(json_t *obj, const char *key, int def)
{
	json_t *v = json_object_get(obj, key);
	return json_is_boolean(v) ? json_is_true(v) : def;
}

static const struct key_spec *spec_find(const struct key_spec *spec, const char *key, enum key_type t1,
					 enum key_type t2)
{
	for (; spec->key; spec++) {
		if (strcmp(spec->key, key))
			continue;
		if (!spec->def || (spec->type != t1 && spec->type != t2))
			break;
		return spec;
	}
	fprintf(stderr, "phaselab: internal error: key '%s' has no default of the type asked for\n", key);
	abort();
}

const char *spec_str(json_t *obj, const struct key_spec *spec, const char *key)
{
	const struct key_spec *s = spec_find(spec, key, KEY_STRING, KEY_STRING);
	return obj_str(obj, key, s->def);
}

long long spec_int(json_t *obj, const struct key_spec *spec, const char *key)
{
	const struct key_spec *s = spec_find(spec, key, KEY_INT, KEY_INT);
	return obj_int(obj, key, strtoll(s->def, NULL, 10));
}

double spec_num(json_t *obj, const struct key_spec *spec, const char *key)
{
	const struct key_spec *s = spec_find(spec, key, KEY_NUMBER, KEY_INT);
	return obj_num(obj, key, strtod(s->def, NULL));
}

int spec_bool(json_t *obj, const struct key_spec *spec, const char *key)
{
	const struct key_spec *s = spec_find(spec, key, KEY_BOOL, KEY_BOOL);
	return obj_bool(obj, key, !strcmp(s->def, "true"));
}

json_t *spec_strs(json_t *obj, const struct key_spec *spec, const char *key)
{
	const struct key_spec *s = spec_find(spec, key, KEY_STRINGS, KEY_STRINGS);
	json_t *v = json_object_get(obj, key), *arr;
	const char *p = s->def;

	if (json_is_array(v))
		return json_incref(v);
	arr = json_array();
	while (*p) {
		size_t n;
		p += strspn(p, " ");
		n = strcspn(p, " ");
		if (n)
			json_array_append_new(arr, json_stringn(p, n));
		p += n;
	}
	return arr;
}

int spec_check_defaults(const struct key_spec *spec, struct strbuf *err)
{
	for (; spec->key; spec++) {
		const char *d = spec->def;
		char *end;
		double x;

		if (!d)
			continue;
		if (spec->required) {
			strbuf_addf(err, "%s: a required key has no default, yet one is declared", spec->key);
			return -1;
		}
		switch (spec->type) {
		case KEY_INT:
		case KEY_NUMBER:
			errno = 0;
			x = spec->type == KEY_INT ? (double)strtoll(d, &end, 10) : strtod(d, &end);
			if (errno || end == d || *end) {
				strbuf_addf(err, "%s: default '%s' is not %s", spec->key, d, type_name(spec->type));
				return -1;
			}
			if ((spec->min || spec->max) && (x < spec->min || x > spec->max)) {
				strbuf_addf(err, "%s: default '%s' is outside %g..%g", spec->key, d, spec->min, spec->max);
				return -1;
			}
			break;
		case KEY_BOOL:
			if (strcmp(d, "true") && strcmp(d, "false")) {
				strbuf_addf(err, "%s: default '%s' is not true or false", spec->key, d);
				return -1;
			}
			break;
		case KEY_STRING:
			if ((spec->min || spec->max) && (strlen(d) < spec->min || strlen(d) > spec->max)) {
				strbuf_addf(err, "%s: default '%s' has a length outside %g..%g", spec->key, d,
					    spec->min, spec->max);
				return -1;
			}
			break;
		case KEY_STRINGS:
			break;
		default:
			strbuf_addf(err, "%s: a key of type %s cannot have a default", spec->key, type_name(spec->type));
			return -1;
		}
	}
	return 0;
}
