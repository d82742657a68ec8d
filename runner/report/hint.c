#include "report/hint.h"
#include "lib/strbuf.h"

#include <string.h>

/* Is line[0..len) blank, and how far is it indented? */
static int blank(const char *line, size_t len, size_t *indent)
{
	size_t i = 0;

	while (i < len && line[i] == ' ')
		i++;
	*indent = i;
	return i == len;
}

void hint_blocks(const char *clean, hint_block_fn emit, void *ctx)
{
	struct strbuf code = STRBUF_INIT;
	const char *p = clean, *eol, *q;
	size_t indent, min, n;

	while (*p) {
		eol = strchrnul(p, '\n');
		if (blank(p, (size_t)(eol - p), &indent)) {
			p = *eol ? eol + 1 : eol;
			continue;
		}
		if (!indent) {
			/* prose up to a blank or an indented line */
			for (q = p; *q; q = *eol ? eol + 1 : eol) {
				eol = strchrnul(q, '\n');
				if (blank(q, (size_t)(eol - q), &n) || n)
					break;
			}
			emit(ctx, 0, p, (size_t)(q - p) - (q > p && q[-1] == '\n'));
			p = q;
			continue;
		}
		/* code: indented lines, and blank lines between them */
		min = indent;
		for (q = p; *q; q = *eol ? eol + 1 : eol) {
			eol = strchrnul(q, '\n');
			if (blank(q, (size_t)(eol - q), &n))
				continue;
			if (!n)
				break;
			if (n < min)
				min = n;
		}
		strbuf_reset(&code);
		for (; p < q; p = *eol ? eol + 1 : eol) {
			eol = strchrnul(p, '\n');
			if ((size_t)(eol - p) > min)
				strbuf_add(&code, p + min, (size_t)(eol - p) - min);
			strbuf_addch(&code, '\n');
		}
		strbuf_rtrim(&code);
		emit(ctx, 1, code.buf, code.len);
	}
	strbuf_release(&code);
}
