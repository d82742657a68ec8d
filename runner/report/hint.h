/*
 * hint: how a hint's text is read by the writers that render structure
 * (HTML, Markdown): runs of indented lines are code, the other lines prose.
 * One reading, so every format shows a hint the same way.
 */
#ifndef PHASELAB_HINT_H
#define PHASELAB_HINT_H

#include <jansson.h>
#include <stddef.h>

struct strbuf;

/*
 * Called for each block in order.  Prose: its lines as written, joined by
 * '\n', without a final newline.  Code: the indented lines dedented by their
 * common indent, blank lines between them kept, trailing ones dropped.
 */
typedef void (*hint_block_fn)(void *ctx, int is_code, const char *text, size_t len);

/* Split clean (escape_term()'s output: '\n' its only control) into blocks. */
void hint_blocks(const char *clean, hint_block_fn emit, void *ctx);

/*
 * A hint template with its placeholders filled from a failing result's
 * evidence (borrowed; may be NULL), appended to out: "{key}" (lowercase
 * letters, digits, '_', '-') becomes the evidence's string (at most
 * HINT_FILL_MAX bytes of it, then "..."), integer or number.  A key the
 * evidence lacks, or holds as anything else, becomes its name in words
 * ("{line_number}" -> "line number").  Every other brace is text: "{{"
 * is copied as it is (an engine's --format template), "{ x }" too.
 * The one filling both `phaselab hint` and any writer use.
 */
#define HINT_FILL_MAX 2000
void hint_fill(struct strbuf *out, const char *tmpl, json_t *evidence);

#endif
