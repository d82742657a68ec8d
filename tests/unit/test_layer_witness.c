/*
 * The cache item's second witness (engine/layerwitness.h): the decision on
 * the images' layer lists, from made-up inspect objects and history rows in
 * the engines' own spellings (the legacy builder's and buildah's
 * "/bin/sh -c ...", BuildKit's "RUN /bin/sh -c ... # buildkit").
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/layerwitness.h"
#include "lib/xalloc.h"

#define L(n) "sha256:" n n n n n n n n n n n n n n n n n n n n n n n n n n n n n n n n n n n n n n n n n n n n n n n n n n n n n n n n n n n n n n n n

/* The first image: a base layer, WORKDIR, the manifests, the install, the source. */
static const struct image_layer first[] = {
	{ (char *)L("a"), (char *)"/bin/sh -c #(nop) ADD file:0b1 in / " },
	{ (char *)L("b"), (char *)"/bin/sh -c #(nop) WORKDIR /app" },
	{ (char *)L("c"), (char *)"/bin/sh -c #(nop) COPY multi:3f2 in ./ " },
	{ (char *)L("d"), (char *)"/bin/sh -c npm ci   --omit=dev" },
	{ (char *)L("e"), (char *)"/bin/sh -c #(nop) COPY dir:91c in . " },
};

static const struct image_layer first_buildkit[] = {
	{ (char *)L("a"), (char *)"/bin/sh -c #(nop) ADD file:0b1 in / " },
	{ (char *)L("c"), (char *)"COPY package.json package-lock.json ./ # buildkit" },
	{ (char *)L("d"), (char *)"RUN --mount=type=cache,target=/root/.npm /bin/sh -c npm ci --omit=dev # buildkit" },
	{ (char *)L("e"), (char *)"COPY . . # buildkit" },
};

struct row {
	const char *name;
	const struct image_layer *layers;
	size_t n;
	const char *rebuilt;      /* the rebuilt image's inspect object */
	const char *instruction;
	int verdict;
	long index;
	const char *why;          /* a piece of it when verdict is -1 */
};

static const struct row rows[] = {
	{ "cached: the install's layer is the first's", first, 5,
	  "{\"RootFS\": {\"Layers\": [\"" L("a") "\", \"" L("b") "\", \"" L("c") "\", \"" L("d") "\", \"" L("f") "\"]}}",
	  "RUN npm ci --omit=dev", 1, 3, NULL },
	{ "ran: the install's layer is another", first, 5,
	  "{\"RootFS\": {\"Layers\": [\"" L("a") "\", \"" L("b") "\", \"" L("c") "\", \"" L("9") "\", \"" L("f") "\"]}}",
	  "RUN npm ci --omit=dev", 0, 3, NULL },
	{ "respaced, and the keyword in lower case", first, 5,
	  "{\"RootFS\": {\"Layers\": [\"" L("a") "\", \"" L("b") "\", \"" L("c") "\", \"" L("d") "\"]}}",
	  "run   npm ci\t--omit=dev", 1, 3, NULL },
	{ "BuildKit: flags left out, its own spelling", first_buildkit, 4,
	  "{\"RootFS\": {\"Layers\": [\"" L("a") "\", \"" L("c") "\", \"" L("d") "\", \"" L("f") "\"]}}",
	  "RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev", 1, 2, NULL },
	{ "BuildKit: ran", first_buildkit, 4,
	  "{\"RootFS\": {\"Layers\": [\"" L("a") "\", \"" L("0") "\", \"" L("1") "\", \"" L("f") "\"]}}",
	  "RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev", 0, 2, NULL },
	{ "the step is in an earlier stage: no layer of the image runs it", first, 5,
	  "{\"RootFS\": {\"Layers\": [\"" L("a") "\"]}}", "RUN pip install -r requirements.txt", -1, -1,
	  "earlier stage" },
	{ "the rebuilt image is shorter", first, 5, "{\"RootFS\": {\"Layers\": [\"" L("a") "\"]}}",
	  "RUN npm ci --omit=dev", -1, -1, "the rebuilt image has 1 layers" },
	{ "no RootFS at all", first, 5, "{\"Id\": \"sha256:1\"}", "RUN npm ci --omit=dev", -1, -1,
	  "has 0 layers" },
	{ "not a RUN", first, 5, "{\"RootFS\": {\"Layers\": []}}", "COPY . .", -1, -1, "no command" },
	{ "the exec form", first, 5,
	  "{\"RootFS\": {\"Layers\": [\"" L("a") "\", \"" L("b") "\", \"" L("c") "\", \"" L("d") "\"]}}",
	  "RUN [\"npm\", \"ci\", \"--omit=dev\"]", 1, 3, NULL },
};

static void test_image(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *w = &rows[i];
		json_t *rebuilt = json_loads(w->rebuilt, 0, NULL);
		struct layer_witness lw;

		assert_non_null(rebuilt);
		layer_witness_image(w->layers, w->n, rebuilt, w->instruction, &lw);
		if (lw.verdict != w->verdict || lw.index != w->index)
			fail_msg("%s: verdict %d index %ld, want %d %ld (%s)", w->name, lw.verdict, lw.index, w->verdict,
				 w->index, lw.why);
		if (w->why && !strstr(lw.why, w->why))
			fail_msg("%s: why \"%s\", want \"...%s...\"", w->name, lw.why, w->why);
		if (lw.verdict >= 0) {
			assert_string_equal(lw.first, w->layers[w->index].diff_id);
			assert_string_equal(lw.from, "image");
			assert_string_equal(lw.created_by, w->layers[w->index].created_by);
		}
		json_decref(rebuilt);
	}
}

static void test_steps(void **state)
{
	static const struct {
		const char *name, *first, *first_id, *rebuilt, *rebuilt_id;
		int verdict;
	} srows[] = {
		{ "same top layer", "{\"Id\": \"sha256:0123456789abcdef\", \"RootFS\": {\"Layers\": [\"" L("a") "\", \"" L("d") "\"]}}",
		  "0123456789ab", "{\"Id\": \"sha256:fedcba9876543210\", \"RootFS\": {\"Layers\": [\"" L("a") "\", \"" L("d") "\"]}}",
		  "fedcba987654", 1 },
		{ "another top layer", "{\"Id\": \"sha256:0123456789abcdef\", \"RootFS\": {\"Layers\": [\"" L("a") "\", \"" L("d") "\"]}}",
		  "0123456789ab", "{\"Id\": \"sha256:fedcba9876543210\", \"RootFS\": {\"Layers\": [\"" L("a") "\", \"" L("9") "\"]}}",
		  "fedcba987654", 0 },
		{ "another image than the one asked about (a fake's answer)",
		  "{\"Id\": \"sha256:1111111111111111\", \"RootFS\": {\"Layers\": [\"" L("a") "\"]}}", "0123456789ab",
		  "{\"Id\": \"sha256:1111111111111111\", \"RootFS\": {\"Layers\": [\"" L("a") "\"]}}", "fedcba987654", -1 },
		{ "a short id too short to trust", "{\"Id\": \"sha256:0123456789abcdef\", \"RootFS\": {\"Layers\": [\"" L("a") "\"]}}",
		  "0123", "{\"Id\": \"sha256:0123456789abcdef\", \"RootFS\": {\"Layers\": [\"" L("a") "\"]}}", "0123", -1 },
		{ "no layers", "{\"Id\": \"sha256:0123456789abcdef\"}", "sha256:0123456789abcdef",
		  "{\"Id\": \"sha256:fedcba9876543210\"}", "fedcba987654", -1 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(srows) / sizeof(srows[0]); i++) {
		json_t *a = json_loads(srows[i].first, 0, NULL), *b = json_loads(srows[i].rebuilt, 0, NULL);
		struct layer_witness lw;

		assert_non_null(a);
		assert_non_null(b);
		layer_witness_steps(a, srows[i].first_id, b, srows[i].rebuilt_id, &lw);
		if (lw.verdict != srows[i].verdict)
			fail_msg("%s: verdict %d, want %d (%s)", srows[i].name, lw.verdict, srows[i].verdict, lw.why);
		if (lw.verdict >= 0)
			assert_string_equal(lw.from, "step image");
		json_decref(a);
		json_decref(b);
	}
}

/* podman's inspect carries History: the layers paired with their rows */
static void test_layers_of(void **state)
{
	static const char podman[] = "{\"RootFS\": {\"Layers\": [\"" L("a") "\", \"" L("d") "\"]}, \"History\": ["
		"{\"created_by\": \"/bin/sh -c #(nop) ADD file:1 in / \"},"
		"{\"created_by\": \"/bin/sh -c #(nop)  ENV A=1\", \"empty_layer\": true},"
		"{\"created_by\": \"/bin/sh -c npm ci\", \"empty_layer\": false}]}";
	static const char *const bad[] = {
		"{\"RootFS\": {\"Layers\": [\"" L("a") "\"]}}", /* docker's: no History */
		"{\"RootFS\": {\"Layers\": [\"" L("a") "\", \"" L("d") "\"]}, \"History\": [{\"created_by\": \"x\"}]}",
		"{\"RootFS\": {\"Layers\": [\"" L("a") "\"]}, \"History\": [{\"created_by\": \"x\"}, {\"created_by\": \"y\"}]}",
		"{\"History\": [{\"created_by\": \"x\"}]}",
	};
	json_t *image = json_loads(podman, 0, NULL), *rebuilt;
	struct image_layer *layers;
	struct layer_witness lw;
	size_t n;

	(void)state;
	assert_non_null(image);
	assert_int_equal(layer_witness_layers_of(image, &layers, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(layers[1].diff_id, L("d"));
	assert_string_equal(layers[1].created_by, "/bin/sh -c npm ci");
	rebuilt = json_loads("{\"RootFS\": {\"Layers\": [\"" L("a") "\", \"" L("d") "\"]}}", 0, NULL);
	layer_witness_image(layers, n, rebuilt, "RUN npm ci", &lw);
	assert_int_equal(lw.verdict, 1);
	assert_int_equal(lw.index, 1);
	free(layers);
	json_decref(rebuilt);
	json_decref(image);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		image = json_loads(bad[i], 0, NULL);
		assert_non_null(image);
		if (layer_witness_layers_of(image, &layers, &n) != -1 || layers || n)
			fail_msg("bad row %zu paired", i);
		json_decref(image);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_image),
		cmocka_unit_test(test_steps),
		cmocka_unit_test(test_layers_of),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
