/*
 * hint: how a hint's text is read by the writers that render structure
 * (HTML, Markdown): runs of indented lines are code, the other lines prose.
 * One reading, so every format shows a hint the same way.
 */
#ifndef PHASELAB_HINT_H
#define PHASELAB_HINT_H

#include <stddef.h>

/*
 * Called for each block in order.  Prose: its lines as written, joined by
 * '\n', without a final newline.  Code: the indented lines dedented by their
 * common indent, blank lines between them kept, trailing ones dropped.
 */
typedef void (*hint_block_fn)(void *ctx, int is_code, const char *text, size_t len);

/* Split clean (escape_term()'s output: '\n' its only control) into blocks. */
void hint_blocks(const char *clean, hint_block_fn emit, void *ctx);

#endif
