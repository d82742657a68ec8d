/*
 * dfstages: the learner's Dockerfile as instructions grouped by stage, for the
 * kinds that explain a verdict with the learner's own line (process-user,
 * image-size, no-shell, layer-cache, multi-stage).  Like lib/dockerfile.h it
 * never decides a check: the engine's build and image are the judges, this
 * only finds the line to quote.  Continuation lines are joined (with one
 * space), comments and blank lines skipped, as the builder reads them.
 */
#ifndef PHASELAB_DFSTAGES_H
#define PHASELAB_DFSTAGES_H

#include <stddef.h>

struct df_instr {
	char *keyword;  /* upper case: "USER" */
	char *args;     /* what follows the keyword, trimmed: "root" */
	char *text;     /* the instruction as written (continuations joined) */
	int line;       /* its first line, from 1 */
	int stage;      /* the stage it is in, from 0; -1 before the first FROM */
};

struct df_instrs {
	struct df_instr *v;
	size_t n;
	int nstages;    /* FROM lines */
};

/* Load DIR/Dockerfile (not through a link).  0, or -1 (d empty) when missing or unreadable. */
int df_instrs_load(struct df_instrs *d, const char *dir);
void df_instrs_parse(struct df_instrs *d, const char *text, size_t len);
void df_instrs_release(struct df_instrs *d);
/* The last instruction with keyword in stage (-1: any stage), or NULL. */
const struct df_instr *df_instrs_last(const struct df_instrs *d, int stage, const char *keyword);
/* The FROM that opens stage, or NULL. */
const struct df_instr *df_instrs_from(const struct df_instrs *d, int stage);
/*
 * The image stage is built on: its FROM's image, followed through earlier
 * stages' names (`FROM build` where a stage is `AS build`), at most 16 hops;
 * "scratch" as written.  New string, or NULL when it cannot be told.
 */
char *df_stage_base(const struct df_instrs *d, int stage);

/*
 * A COPY or ADD's words, read the way the builder reads them: the options
 * before the first word, then the sources and the destination, in the shell
 * form or the exec form (a JSON array of strings).
 */
struct df_copy {
	int from;            /* --from=: the files come from a stage or an image */
	int mount;           /* --mount: not a COPY the builder takes; callers treat it as unsure */
	int unreadable;      /* an exec form that is not a JSON array of strings */
	size_t n;            /* words: the sources, then the destination */
	const char **w;
	char *buf_;          /* the rest is the reader's own */
	void *argv_;
};

/* Read args (what follows the keyword); df_copy_release frees it.  Never fails. */
void df_copy_read(struct df_copy *c, const char *args);
void df_copy_release(struct df_copy *c);
/* What follows keyword (any case, leading blanks skipped, then a blank or the end) in s, or NULL. */
const char *df_after_keyword(const char *s, const char *keyword);
/* The words after COPY or ADD in an instruction as written or as a builder printed it, or NULL. */
const char *df_copy_args(const char *instruction);

#endif
