#include "lib/schema.h"

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
