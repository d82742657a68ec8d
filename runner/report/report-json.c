/* The JSON report (--format json): report_to_json(), printed. */
#include "report/report.h"
#include "lib/escape.h"
#include "lib/strbuf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/*
 * Two-space indent and keys in insertion order, which is the contract's
 * order (jansson keeps insertion order since 2.8; the flag says we rely on
 * it).  Non-ASCII text stays UTF-8 rather than \u escapes, for people who
 * read the file.
 */
#define JSON_REPORT_FLAGS (JSON_INDENT(2) | JSON_PRESERVE_ORDER)

int report_write_json(const struct report *r, FILE *out)
{
	return report_dump_json(report_to_json(r), JSON_REPORT_FLAGS, out);
}

int report_dump_json(json_t *root, size_t flags, FILE *out)
{
	struct strbuf sb = STRBUF_INIT;
	char *text;

	if (!root) {
		errno = ENOMEM;
		return -1;
	}
	text = json_dumps(root, flags);
	json_decref(root);
	if (!text) {
		/* out of memory, or evidence jansson cannot encode (a check's bug) */
		errno = EINVAL;
		return -1;
	}
	/* jansson leaves DEL, C1 and bidi controls raw: the file may well be cat'ed */
	escape_json_text(&sb, text, strlen(text));
	free(text);
	strbuf_addch(&sb, '\n');
	return report_write_buf(&sb, out, 0);
}
