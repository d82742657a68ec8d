/*
 * Allocation wrappers that never return NULL: running out of memory in a
 * command-line grader is not something to recover from, so they print a
 * message and exit with status 3 (environment not usable).
 */
#ifndef PHASELAB_XALLOC_H
#define PHASELAB_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* Like asprintf(), never fails. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
