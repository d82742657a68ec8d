#include "lib/dockerfile.h"
#include "lib/fsutil.h"
#include "lib/xalloc.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void add_from(struct dockerfile *df, const char *args, int line)
{
	char *copy = xstrdup(args), *tok, *save = NULL, *words[8];
	size_t n = 0;

	for (tok = strtok_r(copy, " \t", &save); tok && n < ARRAY_SIZE(words); tok = strtok_r(NULL, " \t", &save))
		if (strncmp(tok, "--", 2)) /* --platform=... */
			words[n++] = tok;
	if (n) {
		struct dockerfile_from *f;
		df->froms = xrealloc(df->froms, (df->nfroms + 1) * sizeof(*df->froms));
		f = &df->froms[df->nfroms++];
		f->image = xstrdup(words[0]);
		f->stage = n >= 3 && !strcasecmp(words[1], "as") ? xstrdup(words[2]) : NULL;
		f->line = line;
	}
	free(copy);
}

void dockerfile_each(const char *text, size_t len, dockerfile_instr_fn fn, void *arg)
{
	struct strbuf logical = STRBUF_INIT;
	const char *p = text, *end = text + len;
	int line = 0, start_line = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		size_t l = (size_t)(le - p);
		const char *s = p;

		line++;
		while (l && (s[l - 1] == '\r' || s[l - 1] == ' ' || s[l - 1] == '\t'))
			l--;
		while (l && isspace((unsigned char)*s)) {
			s++;
			l--;
		}
		if (!logical.len)
			start_line = line;
		if ((l && *s == '#') || (!l && logical.len)) {
			/* a comment line, or an empty one inside a continuation: the builder skips both */
		} else if (l && s[l - 1] == '\\') {
			strbuf_add(&logical, s, l - 1);
			strbuf_addch(&logical, ' ');
		} else {
			strbuf_add(&logical, s, l);
			if (logical.len)
				fn(arg, logical.buf, logical.len, start_line);
			strbuf_reset(&logical);
		}
		p = nl ? nl + 1 : end;
	}
	/* a continuation still open at the end: the builder runs it as it stands */
	if (logical.len)
		fn(arg, logical.buf, logical.len, start_line);
	strbuf_release(&logical);
}

static void on_instruction(void *arg, const char *s, size_t len, int line)
{
	if (len >= 5 && !strncasecmp(s, "FROM", 4) && isspace((unsigned char)s[4]))
		add_from(arg, s + 5, line);
}

void dockerfile_parse(struct dockerfile *df, const char *text, size_t len)
{
	memset(df, 0, sizeof(*df));
	dockerfile_each(text, len, on_instruction, df);
}

int dockerfile_read(const char *dir, struct strbuf *text)
{
	char *path = xasprintf("%s/Dockerfile", dir);
	int rc = read_file_nofollow(path, 1 << 20, text);

	free(path);
	return rc < 0 ? -1 : 0;
}

int dockerfile_load(struct dockerfile *df, const char *dir)
{
	struct strbuf text = STRBUF_INIT;
	int rc = dockerfile_read(dir, &text);

	if (rc == 0)
		dockerfile_parse(df, text.buf, text.len);
	else
		memset(df, 0, sizeof(*df));
	strbuf_release(&text);
	return rc;
}

int dockerfile_is_stage(const struct dockerfile *df, const char *image, size_t before)
{
	for (size_t i = 0; i < before && i < df->nfroms; i++)
		if (df->froms[i].stage && !strcasecmp(df->froms[i].stage, image))
			return 1;
	return !strcmp(image, "scratch");
}

void dockerfile_release(struct dockerfile *df)
{
	for (size_t i = 0; i < df->nfroms; i++) {
		free(df->froms[i].image);
		free(df->froms[i].stage);
	}
	free(df->froms);
	memset(df, 0, sizeof(*df));
}
