/*
 * layerwitness: the cache item's second witness (checks/layer-cache.c),
 * the images' layer lists.  When the dependency step came from the cache,
 * the rebuilt image carries the first build's layer for it; when it ran
 * again, a different one (fresh file times).  This reads no builder's log,
 * so it holds on every engine and builder.  Here are the decisions on the
 * engine's answers (tests/unit/test_layer_witness.c); the cache item makes
 * the engine calls.
 */
#ifndef PHASELAB_LAYERWITNESS_H
#define PHASELAB_LAYERWITNESS_H

#include <jansson.h>

#include "engine/engine.h"

struct layer_witness {
	int verdict;                 /* 1 the same layer (cached), 0 another (ran), -1 the layers cannot tell */
	const char *from;            /* "image": the final image's layer; "step image": the step's own image */
	long index;                  /* the layer's place in RootFS.Layers, from 0 (-1: none) */
	char first[80], rebuilt[80]; /* the two layers' ids ("sha256:..."); "" when none */
	char created_by[160];        /* the history row behind the layer, shortened */
	char why[200];               /* verdict -1: why not */
};

/* No witness yet: verdict -1, index -1, from (static) as given. */
void layer_witness_init(struct layer_witness *lw, const char *from);

/*
 * The final image's witness: the layer whose history row runs the
 * instruction's command (RUN's words, its flags and the exec form's brackets
 * left out; the last such layer), looked up in the first image's layers
 * (oldest first, with their rows: engine_image_layers), compared with the
 * same place in the rebuilt image's inspect object (RootFS.Layers).  -1 when
 * no layer of the image runs it (the step is in an earlier stage), or the
 * rebuilt image has no layer there.
 */
void layer_witness_image(const struct image_layer *layers, size_t n, json_t *rebuilt, const char *instruction,
			 struct layer_witness *lw);

/*
 * The layers of an inspect object that carries its history (podman's
 * does; docker's does not, engine_image_layers reads it there), paired as
 * the configuration pairs them: each History row not marked empty_layer
 * takes the next of RootFS.Layers.  0 with *layers (malloc'ed: free(); its
 * strings borrowed from image) and *n; -1 when there is no history or the
 * rows and layers do not pair up.
 */
int layer_witness_layers_of(json_t *image, struct image_layer **layers, size_t *n);

/*
 * The witness of the step's own images (the legacy builder's and buildah's
 * step images, for a step of an earlier stage): the top layers of the first
 * build's and the rebuild's image of that step (inspect objects), each
 * checked to be the image its id names (short: the first hex digits).
 */
void layer_witness_steps(json_t *first, const char *first_id, json_t *rebuilt, const char *rebuilt_id,
			 struct layer_witness *lw);

#endif
