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

#endif
