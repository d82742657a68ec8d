/*
 * engine-impl: what the implementations of struct engine_ops share (engine.c).
 * Only implementations include it (runner/engine/, and the fake engine of
 * tests/unit/fake_engine.c): checks/ and core/ see engine.h.
 */
#ifndef PHASELAB_ENGINE_IMPL_H
#define PHASELAB_ENGINE_IMPL_H

#include "engine/engine.h"

/* Set e->err (replacing it); returns -1 for `return engine_fail(...)`. */
int engine_fail(struct engine *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * The file in e->scratch where a run writes what a later run must find
 * (new string, or NULL without a scratch folder), and its reader: the
 * images recorded in scratch, appended to ids (one per line).
 */
#define ENGINE_JOURNAL "engine.journal"
void engine_journal_images(struct engine *e, const struct build_log *log);
void engine_journal_read(const char *scratch, struct strbuf *ids);

/*
 * What the implementations of image_layers share (engine/layers.c).
 * layers_from_config: w->layers from an image's configuration (history and
 * rootfs.diff_ids, which must be the inspect object's RootFS.Layers); 0, or
 * -1 with the reason in why.  layer_pass: e to w->fn when w asks for it
 * (its filter); layer_pass_tar: a layer archive's entry as a layer_entry
 * (whiteout names read), then the same; both return fn's answer (1: stop).
 * layers_in_place: the walk on overlay2 storage read here; 1 when the
 * image is not there to read (the caller saves it instead), else as
 * engine_image_layers.  layers_from_archive: the walk over a saved image's
 * archive at path.
 */
int layers_from_config(json_t *config, json_t *image, struct layer_walk *w, struct strbuf *why);
int layer_pass(struct layer_walk *w, size_t layer, const struct layer_entry *e);
struct tar_entry;
int layer_pass_tar(struct layer_walk *w, size_t layer, const struct tar_entry *te);
int layers_in_place(struct engine *e, json_t *image, struct layer_walk *w);
int layers_from_archive(struct engine *e, const char *path, json_t *image, struct layer_walk *w);

/*
 * Podman's build output with the warning that phaselab's own build
 * argument was not consumed taken out (engine/podman.c): in place in
 * text[0..len), returns the new length.
 */
size_t podman_hide_run_arg(char *text, size_t len);

#endif
