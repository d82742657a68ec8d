/*
 * dockerfile: just enough of a Dockerfile reader to explain failures: the
 * images the FROM lines name (stage names and `scratch` left out) and the line
 * of the first instruction of a kind.  The engine remains the judge of what a
 * Dockerfile means; this never decides a check on its own.
 */
#ifndef PHASELAB_DOCKERFILE_H
#define PHASELAB_DOCKERFILE_H

#include <stddef.h>

#include "lib/strbuf.h"

struct dockerfile_from {
	char *image;   /* "node:20-alpine" */
	char *stage;   /* "builder", or NULL */
	int line;
};

struct dockerfile {
	struct dockerfile_from *froms;
	size_t nfroms;
};

/*
 * Each instruction of text as the builder reads it: continuation lines joined
 * with one space, comments and blank lines skipped.  fn gets the instruction
 * (len bytes, not terminated) and the line it starts on, from 1.
 */
typedef void (*dockerfile_instr_fn)(void *arg, const char *text, size_t len, int line);
void dockerfile_each(const char *text, size_t len, dockerfile_instr_fn fn, void *arg);
/* DIR/Dockerfile's text (not through a symlink, at most 1 MiB).  0, or -1 when missing/unreadable. */
int dockerfile_read(const char *dir, struct strbuf *text);

/* Parse text.  Never fails: lines it does not understand are skipped. */
void dockerfile_parse(struct dockerfile *df, const char *text, size_t len);
/* Load DIR/Dockerfile (not through a symlink).  0, or -1 when missing/unreadable. */
int dockerfile_load(struct dockerfile *df, const char *dir);
/* 1 if image names an earlier stage rather than an image. */
int dockerfile_is_stage(const struct dockerfile *df, const char *image, size_t before);
void dockerfile_release(struct dockerfile *df);

#endif
