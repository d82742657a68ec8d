/*
 * schema: JSON objects checked against a table of the keys they may hold.
 *
 * Each key is declared once, with its type, whether it is required and its
 * bounds (the way redis declares its configuration).  validate_object()
 * refuses an unknown key by name, a wrong type and a value out of bounds,
 * with a message naming the file and the key's path ("checks[2].params.max_mb").
 */
#ifndef PHASELAB_SCHEMA_H
#define PHASELAB_SCHEMA_H

#include <jansson.h>

#include "lib/strbuf.h"

enum key_type {
	KEY_STRING,
	KEY_INT,
	KEY_NUMBER,      /* integer or real */
	KEY_BOOL,
	KEY_OBJECT,      /* contents checked elsewhere */
	KEY_ARRAY,       /* elements checked elsewhere */
	KEY_STRINGS,     /* array of strings */
	KEY_INTS,        /* array of integers */
};

struct key_spec {
	const char *key;
	enum key_type type;
	int required;
	double min, max;   /* for numbers and array lengths; min == max == 0: unbounded */
	const char *doc;   /* one line: what the key means */
	/*
	 * An optional key's default, written as the phase file would hold it:
	 * "512", "1.5", "true", "/health"; for KEY_STRINGS, the words separated
	 * by spaces.  NULL: none (the key is required, or absent means "not
	 * asked for").  The spec_* getters read it; spec_check_defaults() proves
	 * each one is of the key's type and within its bounds.
	 */
	const char *def;
};

/*
 * Check obj (borrowed) against a NULL-key-terminated table.  where is the
 * key path of obj in its file ("" for the top level).  Returns 0, or -1 with
 * "FILE: KEY: what is wrong" in err.
 */
int validate_object(json_t *obj, const struct key_spec *spec, const char *file,
		    const char *where, struct strbuf *err);

/* Getters for validated objects: the value, or def when the key is absent. */
const char *obj_str(json_t *obj, const char *key, const char *def);
long long obj_int(json_t *obj, const char *key, long long def);
double obj_num(json_t *obj, const char *key, double def);
int obj_bool(json_t *obj, const char *key, int def);

/*
 * The value of key in obj (borrowed, validated against spec), else the
 * default spec declares for it.  key must be in spec with a default of the
 * getter's type: anything else is the program's mistake, and aborts.
 */
const char *spec_str(json_t *obj, const struct key_spec *spec, const char *key);
long long spec_int(json_t *obj, const struct key_spec *spec, const char *key);
double spec_num(json_t *obj, const struct key_spec *spec, const char *key);
int spec_bool(json_t *obj, const struct key_spec *spec, const char *key);
/* KEY_STRINGS: the array in obj, else the default's words (new reference). */
json_t *spec_strs(json_t *obj, const struct key_spec *spec, const char *key);

/*
 * Is every default in the table of its key's type and within its bounds?
 * 0, or -1 with "KEY: default 'X' ..." in err.  The unit tests call it on
 * every table.
 */
int spec_check_defaults(const struct key_spec *spec, struct strbuf *err);

#endif
