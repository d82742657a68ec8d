/*
 * strvec: a growable, NULL-terminated vector of strings, the shape of git's
 * strvec: what an argv or an environment vector is built in.
 *
 * Invariants: after strvec_init() or STRVEC_INIT, sv->v is never NULL and
 * sv->v[sv->nr] == NULL, so sv->v can be passed as an argv at any time;
 * every string in it is owned by the vector (pushed strings are copied).
 * Nothing is ever dropped: the vector grows until allocation fails, which
 * is fatal (xalloc.h), so callers never check.
 *
 * Lifecycle names mean one thing each: _init prepares, _clear frees the
 * strings and the array and leaves an empty, reusable vector, _detach hands
 * the array (and its strings) to the caller and leaves an empty vector.
 */
#ifndef PHASELAB_STRVEC_H
#define PHASELAB_STRVEC_H

#include <stddef.h>

struct strvec {
	const char **v;
	size_t nr;
	size_t alloc; /* 0 while v points at the shared empty vector */
};

extern const char *strvec_empty[];
#define STRVEC_INIT { strvec_empty, 0, 0 }

void strvec_init(struct strvec *sv);
/* Append a copy of s; returns the copy (owned by the vector). */
const char *strvec_push(struct strvec *sv, const char *s);
/* Append a printf-formatted string; returns it (owned by the vector). */
const char *strvec_pushf(struct strvec *sv, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Append the strings of a NULL-terminated vector (NULL: nothing). */
void strvec_pushv(struct strvec *sv, const char *const *items);
/* Remove and free the last string, if any. */
void strvec_pop(struct strvec *sv);
/* Free the strings and the array; sv is empty and reusable. */
void strvec_clear(struct strvec *sv);
/*
 * Hand the array over: the caller frees each string and the array (a
 * NULL-terminated, malloc'ed array even when sv was empty); sv is left empty.
 */
const char **strvec_detach(struct strvec *sv);

#endif
