/*
 * engine-impl: what the implementations of struct engine_ops share (engine.c).
 * Only implementations include it (runner/engine/, and the fake engine of
 * tests/unit/fake_engine.c): checks/ and core/ see engine.h.
 */
#ifndef PHASELAB_ENGINE_IMPL_H
#define PHASELAB_ENGINE_IMPL_H

#include "engine/engine.h"

/* Set e->err (replacing it); returns -1 for `return engine_fail(...)`. */
int engine_fail(struct engine *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * The file in e->scratch where a run writes what a later run must find
 * (new string, or NULL without a scratch folder), and its reader: the
 * images recorded in scratch, appended to ids (one per line).
 */
#define ENGINE_JOURNAL "engine.journal"
void engine_journal_images(struct engine *e, const struct build_log *log);
void engine_journal_read(const char *scratch, struct strbuf *ids);

#endif
