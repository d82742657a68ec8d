#include "lib/dfstages.h"
#include "lib/dockerfile.h"
#include "lib/fsutil.h"
#include "lib/strbuf.h"
#include "lib/xalloc.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void add(void *arg, const char *s, size_t len, int line)
{
	struct df_instrs *d = arg;
	struct df_instr *in;
	size_t k = 0;

	while (k < len && !isspace((unsigned char)s[k]))
		k++;
	if (!k)
		return;
	d->v = xrealloc(d->v, (d->n + 1) * sizeof(*d->v));
	in = &d->v[d->n++];
	in->keyword = xstrndup(s, k);
	for (char *c = in->keyword; *c; c++)
		*c = (char)toupper((unsigned char)*c);
	while (k < len && isspace((unsigned char)s[k]))
		k++;
	in->args = xstrndup(s + k, len - k);
	in->text = xstrndup(s, len);
	in->line = line;
	if (!strcmp(in->keyword, "FROM"))
		d->nstages++;
	in->stage = d->nstages - 1;
}

void df_instrs_parse(struct df_instrs *d, const char *text, size_t len)
{
	memset(d, 0, sizeof(*d));
	dockerfile_each(text, len, add, d);
}

int df_instrs_load(struct df_instrs *d, const char *dir)
{
	struct strbuf text = STRBUF_INIT;
	int rc = dockerfile_read(dir, &text);

	if (rc == 0)
		df_instrs_parse(d, text.buf, text.len);
	else
		memset(d, 0, sizeof(*d));
	strbuf_release(&text);
	return rc;
}

void df_instrs_release(struct df_instrs *d)
{
	for (size_t i = 0; i < d->n; i++) {
		free(d->v[i].keyword);
		free(d->v[i].args);
		free(d->v[i].text);
	}
	free(d->v);
	memset(d, 0, sizeof(*d));
}

const struct df_instr *df_instrs_last(const struct df_instrs *d, int stage, const char *keyword)
{
	for (size_t i = d->n; i-- > 0;)
		if ((stage < 0 || d->v[i].stage == stage) && !strcmp(d->v[i].keyword, keyword))
			return &d->v[i];
	return NULL;
}

const struct df_instr *df_instrs_from(const struct df_instrs *d, int stage)
{
	for (size_t i = 0; i < d->n; i++)
		if (d->v[i].stage == stage && !strcmp(d->v[i].keyword, "FROM"))
			return &d->v[i];
	return NULL;
}

char *df_stage_base(const struct df_instrs *d, int stage)
{
	for (int hops = 0; stage >= 0 && hops < 16; hops++) {
		const struct df_instr *from = df_instrs_from(d, stage);
		char *args, *tok, *save = NULL, *image = NULL;
		int next = -1;

		if (!from)
			return NULL;
		args = xstrdup(from->args);
		for (tok = strtok_r(args, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save))
			if (strncmp(tok, "--", 2)) { /* --platform=... */
				image = tok;
				break;
			}
		for (int s = 0; image && s < stage; s++) {
			const struct df_instr *f = df_instrs_from(d, s);
			const char *as = f ? strcasestr(f->args, " as ") : NULL;

			if (as && !strcasecmp(as + 4, image))
				next = s;
		}
		if (next < 0) {
			image = image ? xstrdup(image) : NULL;
			free(args);
			return image;
		}
		free(args);
		stage = next;
	}
	return NULL;
}
