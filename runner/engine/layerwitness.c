/*
 * layerwitness: the layers' witness of the cache item (layerwitness.h).
 */
#include "engine/layerwitness.h"
#include "lib/strbuf.h"
#include "lib/xalloc.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* s with its blanks squeezed to one space, trimmed, appended to sb. */
static void collapse(struct strbuf *sb, const char *s)
{
	for (; *s; s++) {
		if (isspace((unsigned char)*s)) {
			if (sb->len && sb->buf[sb->len - 1] != ' ')
				strbuf_addch(sb, ' ');
		} else {
			strbuf_addch(sb, *s);
		}
	}
	strbuf_rtrim(sb);
}

/*
 * The command a RUN instruction runs, squeezed (new string), or NULL: its
 * flags (--mount=...) left out, an exec form's words joined with spaces, as
 * the engines write it in the history row.
 */
static char *run_command(const char *instruction)
{
	struct strbuf sb = STRBUF_INIT;
	const char *s = instruction;
	json_t *argv;

	while (isspace((unsigned char)*s))
		s++;
	if (strncasecmp(s, "RUN", 3) || !isspace((unsigned char)s[3]))
		return NULL;
	for (s += 3;;) {
		while (isspace((unsigned char)*s))
			s++;
		if (strncmp(s, "--", 2))
			break;
		while (*s && !isspace((unsigned char)*s))
			s++;
	}
	if (*s == '[' && (argv = json_loads(s, 0, NULL)) && json_is_array(argv)) {
		size_t i;
		json_t *v;

		json_array_foreach(argv, i, v)
			if (json_is_string(v))
				strbuf_addf(&sb, "%s%s", i ? " " : "", json_string_value(v));
		json_decref(argv);
	} else {
		collapse(&sb, s);
	}
	if (!sb.len) {
		strbuf_release(&sb);
		return NULL;
	}
	return strbuf_detach(&sb, NULL);
}

void layer_witness_init(struct layer_witness *lw, const char *from)
{
	memset(lw, 0, sizeof(*lw));
	lw->verdict = -1;
	lw->index = -1;
	lw->from = from;
}

void layer_witness_image(const struct image_layer *layers, size_t n, json_t *rebuilt, const char *instruction,
			 struct layer_witness *lw)
{
	json_t *later = json_object_get(json_object_get(rebuilt, "RootFS"), "Layers");
	char *cmd = run_command(instruction);
	long at = -1;

	layer_witness_init(lw, "image");
	if (!cmd) {
		snprintf(lw->why, sizeof(lw->why), "the step runs no command to look for in the layers' history");
		return;
	}
	/* the last: a stage FROM the install's stage carries it once more, above */
	for (size_t i = 0; i < n; i++) {
		struct strbuf row = STRBUF_INIT;

		collapse(&row, layers[i].created_by);
		if (strstr(row.buf, cmd))
			at = (long)i;
		strbuf_release(&row);
	}
	if (at < 0) {
		snprintf(lw->why, sizeof(lw->why), "no layer of the image was made by `%.80s`: the step is in an "
			 "earlier stage, whose layers the image does not carry", cmd);
	} else if (!json_is_array(later) || json_array_size(later) <= (size_t)at ||
		   !json_is_string(json_array_get(later, (size_t)at))) {
		snprintf(lw->why, sizeof(lw->why), "the rebuilt image has %zu layers, and the step's is number %ld",
			 json_array_size(later), at + 1);
	} else {
		lw->index = at;
		snprintf(lw->first, sizeof(lw->first), "%s", layers[at].diff_id);
		snprintf(lw->rebuilt, sizeof(lw->rebuilt), "%s", json_string_value(json_array_get(later, (size_t)at)));
		snprintf(lw->created_by, sizeof(lw->created_by), "%s", layers[at].created_by);
		lw->verdict = !strcmp(lw->first, lw->rebuilt);
	}
	free(cmd);
}

/* Is the inspect object the image the (short) id names? */
static int is_image(json_t *image, const char *id)
{
	const char *full = json_string_value(json_object_get(image, "Id"));

	if (!full || !id || !*id)
		return 0;
	if (!strncmp(full, "sha256:", 7))
		full += 7;
	if (!strncmp(id, "sha256:", 7))
		id += 7;
	return strlen(id) >= 12 && !strncmp(full, id, strlen(id));
}

void layer_witness_steps(json_t *first, const char *first_id, json_t *rebuilt, const char *rebuilt_id,
			 struct layer_witness *lw)
{
	json_t *a = json_object_get(json_object_get(first, "RootFS"), "Layers");
	json_t *b = json_object_get(json_object_get(rebuilt, "RootFS"), "Layers");
	size_t na = json_array_size(a), nb = json_array_size(b);

	layer_witness_init(lw, "step image");
	if (!is_image(first, first_id) || !is_image(rebuilt, rebuilt_id)) {
		snprintf(lw->why, sizeof(lw->why), "the engine did not describe the step's images from both builds");
		return;
	}
	if (!na || !nb || !json_is_string(json_array_get(a, na - 1)) || !json_is_string(json_array_get(b, nb - 1))) {
		snprintf(lw->why, sizeof(lw->why), "the step's images list no layers");
		return;
	}
	lw->index = (long)nb - 1;
	snprintf(lw->first, sizeof(lw->first), "%s", json_string_value(json_array_get(a, na - 1)));
	snprintf(lw->rebuilt, sizeof(lw->rebuilt), "%s", json_string_value(json_array_get(b, nb - 1)));
	lw->verdict = na == nb && !strcmp(lw->first, lw->rebuilt);
}


int layer_witness_layers_of(json_t *image, struct image_layer **layers, size_t *n)
{
	json_t *history = json_object_get(image, "History");
	json_t *ids = json_object_get(json_object_get(image, "RootFS"), "Layers");
	size_t i, k = 0, want = json_array_size(ids);
	json_t *row;

	*layers = NULL;
	*n = 0;
	if (!json_is_array(history) || !json_array_size(history) || !want)
		return -1;
	*layers = xcalloc(want, sizeof(**layers));
	json_array_foreach(history, i, row) {
		const char *by = json_string_value(json_object_get(row, "created_by"));

		if (json_is_true(json_object_get(row, "empty_layer")))
			continue;
		if (k == want || !json_is_string(json_array_get(ids, k)))
			goto mismatch;
		(*layers)[k].diff_id = (char *)json_string_value(json_array_get(ids, k));
		(*layers)[k].created_by = (char *)(by ? by : "");
		k++;
	}
	if (k != want)
		goto mismatch;
	*n = k;
	return 0;
mismatch:
	free(*layers);
	*layers = NULL;
	return -1;
}
