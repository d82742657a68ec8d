#include "lib/dfstages.h"
#include "lib/dockerfile.h"
#include "lib/fsutil.h"
#include "lib/strbuf.h"
#include "lib/xalloc.h"

#include <ctype.h>
#include <jansson.h>
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

void df_copy_read(struct df_copy *c, const char *args)
{
	char *tok, *save = NULL;
	size_t max = strlen(args) / 2 + 2, i;
	json_t *argv, *v;

	memset(c, 0, sizeof(*c));
	c->w = xcalloc(max, sizeof(*c->w));
	c->buf_ = xstrdup(args);
	for (tok = strtok_r(c->buf_, " \t", &save); tok && c->n < max; tok = strtok_r(NULL, " \t", &save)) {
		if (!c->n && !strncmp(tok, "--", 2)) {
			c->from |= !strncmp(tok, "--from=", 7);
			c->mount |= !strncmp(tok, "--mount", 7);
			continue;
		}
		if (!c->n && *tok == '[') {
			c->argv_ = argv = json_loads(args + (tok - c->buf_), 0, NULL);
			c->unreadable = !json_is_array(argv) || json_array_size(argv) > max;
			json_array_foreach(argv, i, v) {
				if (c->unreadable || !json_is_string(v)) {
					c->unreadable = 1;
					break;
				}
				c->w[c->n++] = json_string_value(v);
			}
			return;
		}
		c->w[c->n++] = tok;
	}
}

void df_copy_release(struct df_copy *c)
{
	json_decref(c->argv_);
	free(c->buf_);
	free(c->w);
}

const char *df_after_keyword(const char *s, const char *keyword)
{
	size_t k = strlen(keyword);

	while (isspace((unsigned char)*s))
		s++;
	return !strncasecmp(s, keyword, k) && (!s[k] || isspace((unsigned char)s[k])) ? s + k : NULL;
}

const char *df_copy_args(const char *instruction)
{
	const char *args = df_after_keyword(instruction, "COPY");

	return args ? args : df_after_keyword(instruction, "ADD");
}
