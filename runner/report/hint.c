#include "report/hint.h"
#include "lib/strbuf.h"
#include "lib/xalloc.h"

#include <string.h>

#define KEY_CHARS "abcdefghijklmnopqrstuvwxyz0123456789_-"

static void fill_one(struct strbuf *out, const char *key, size_t n, json_t *evidence)
{
	char name[128];
	json_t *v;

	if (n >= sizeof(name))
		n = sizeof(name) - 1;
	memcpy(name, key, n);
	name[n] = '\0';
	v = json_object_get(evidence, name);
	if (json_is_string(v)) {
		size_t len = json_string_length(v);
		if (len > HINT_FILL_MAX) {
			/* not in the middle of a UTF-8 sequence */
			len = HINT_FILL_MAX;
			while (len > 0 && ((unsigned char)json_string_value(v)[len] & 0xc0) == 0x80)
				len--;
			strbuf_add(out, json_string_value(v), len);
			strbuf_addstr(out, "...");
		} else {
			strbuf_add(out, json_string_value(v), len);
		}
	} else if (json_is_integer(v)) {
		strbuf_addf(out, "%lld", (long long)json_integer_value(v));
	} else if (json_is_real(v)) {
		strbuf_addf(out, "%g", json_real_value(v));
	} else {
		for (size_t i = 0; i < n; i++)
			strbuf_addch(out, key[i] == '_' || key[i] == '-' ? ' ' : key[i]);
	}
}

#define SERVICE_DIR_KEY "service_dir"
#define SERVICE_KEY "service"

/* The service's name, for an image or container name in a hint: the folder's last component. */
static void add_service_name(struct strbuf *out, const char *service_dir)
{
	size_t end = strlen(service_dir), start;

	while (end > 1 && service_dir[end - 1] == '/')
		end--;
	for (start = end; start > 0 && service_dir[start - 1] != '/'; start--)
		;
	if (start < end)
		strbuf_add(out, service_dir + start, end - start);
	else
		strbuf_addstr(out, "service");
}

static void fill(struct strbuf *out, const char *tmpl, json_t *evidence, const char *service_dir, int dir_only)
{
	const char *p = tmpl, *b;

	while ((b = strchr(p, '{'))) {
		size_t n;

		strbuf_add(out, p, (size_t)(b - p));
		if (b[1] == '{') {
			strbuf_addstr(out, "{{");
			p = b + 2;
			continue;
		}
		n = strspn(b + 1, KEY_CHARS);
		if (n && b[1 + n] == '}' && service_dir && n == strlen(SERVICE_DIR_KEY) &&
		    !strncmp(b + 1, SERVICE_DIR_KEY, n)) {
			strbuf_addstr(out, service_dir);
			p = b + 2 + n;
		} else if (n && b[1 + n] == '}' && service_dir && n == strlen(SERVICE_KEY) &&
			   !strncmp(b + 1, SERVICE_KEY, n)) {
			add_service_name(out, service_dir);
			p = b + 2 + n;
		} else if (n && b[1 + n] == '}' && !dir_only) {
			fill_one(out, b + 1, n, evidence);
			p = b + 2 + n;
		} else {
			strbuf_addch(out, '{');
			p = b + 1;
		}
	}
	strbuf_addstr(out, p);
}

void hint_fill(struct strbuf *out, const char *tmpl, json_t *evidence)
{
	fill(out, tmpl, evidence, NULL, 0);
}

void hint_fill_dir(struct strbuf *out, const char *tmpl, json_t *evidence, const char *service_dir)
{
	fill(out, tmpl, evidence, service_dir, 0);
}

void hint_fill_dir_only(struct strbuf *out, const char *tmpl, const char *service_dir)
{
	if (service_dir)
		fill(out, tmpl, NULL, service_dir, 1);
	else
		strbuf_addstr(out, tmpl);
}

char *hint_service_dir(const char *dir, const char *workspace)
{
	size_t n = workspace ? strlen(workspace) : 0;

	while (n > 1 && workspace[n - 1] == '/')
		n--;
	if (n && !strncmp(dir, workspace, n) && dir[n] == '/' && dir[n + 1])
		return xstrdup(dir + n + 1);
	return xstrdup(dir);
}

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
