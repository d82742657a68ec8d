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

/*
 * The phase's hints name the service folder as {service_dir}: the folder
 * the verification read, as the learner knows it ("services/product-service").
 * and {service} its name, the folder's last component, which the lessons give
 * the service's image and container ("product-service:latest").
 * hint_fill_dir is hint_fill with those two keys taken from service_dir
 * (NULL: from the evidence, like any other key); hint_fill_dir_only fills
 * them alone, for the phase's plain hints, whose other braces are text.
 */
void hint_fill_dir(struct strbuf *out, const char *tmpl, json_t *evidence, const char *service_dir);
void hint_fill_dir_only(struct strbuf *out, const char *tmpl, const char *service_dir);

/*
 * The folder dir as the learner knows it: relative to workspace when it is
 * inside it ("services/product-service"), else dir as given.  New string.
 */
char *hint_service_dir(const char *dir, const char *workspace);

#endif
