/*
 * fake_engine: an engine (struct engine_ops, engine/engine.h) that answers
 * from recordings of the real one instead of running anything.
 *
 * The answers are files under tests/fixtures/engine/ (recorded by
 * tests/fixtures/engine/record from the bundled lab's reference solution and
 * variants of it) or under tests/fixtures/buildlog/ (BuildKit output):
 * builder output, image and container inspect objects, history rows, `top`
 * rows, exec results.  A test fills a struct fake_engine with the answers
 * the case needs, opens the fake on a struct engine and hands that engine
 * to the real run lifecycle (core/run.c) and the kind under test, so what
 * is tested is the kind's decision on what the engine would have said.
 *
 * What the fake does as the docker implementation does: a build's output is
 * parsed by the real parser (buildlog_parse), the image id is the inspect
 * object's "Id", the host port comes from the inspect object
 * (engine_host_port), `top` output is parsed the way docker.c parses it, and
 * the health state is the container inspect's "State".  An answer left NULL
 * makes its operation fail with e->err "fake engine: no answer for ..." (an
 * engine failure, as when the real engine stops answering).
 *
 * Files are named relative to the repository ($PHASELAB_ROOT, else the
 * current folder: the repository under make); a name without a '/' is one
 * of tests/fixtures/engine/.
 */
#ifndef PHASELAB_TEST_FAKE_ENGINE_H
#define PHASELAB_TEST_FAKE_ENGINE_H

#include <jansson.h>

#include "engine/engine.h"

/* One build the fake answers: the first is the image's, the second the cache rebuild's. */
struct fake_build {
	const char *output;          /* the builder's output (stdout, then stderr) */
	int rc;                      /* 0 built, 1 the learner's failure, -1 the engine's */
	int timed_out;               /* the deadline passed (rc 1) */
};

enum fake_op {
	FAKE_BUILD, FAKE_IMAGE_INSPECT, FAKE_HISTORY, FAKE_RUN, FAKE_CONTAINER_INSPECT, FAKE_HEALTH,
	FAKE_TOP, FAKE_EXEC, FAKE_LOGS, FAKE_EXPORT, FAKE_RM, FAKE_LAYERS, FAKE_NOPS,
};

/* The builds the fake answers: the image, the cache item's rebuild, and its second rebuild. */
#define FAKE_BUILDS 3

struct fake_engine {
	enum builder_kind builder;
	struct fake_build builds[FAKE_BUILDS];
	/* `image inspect` of the built image (its "Id" is the build's image id) */
	const char *image_inspect;
	/* the same for the images of the later builds (their ids differ); NULL: image_inspect */
	const char *rebuilt_inspect;
	/* every other image reference (the Dockerfile's FROM images) is on the machine, but this one */
	const char *missing_image;
	const char *history;         /* history rows, one JSON object a line */
	int run_fails;               /* 1: the engine refuses to start the container */
	const char *container_inspect;
	int host_port;               /* > 0: the port published for 3000/tcp; < 0: none; 0: as recorded */
	const char *top;             /* `top -o pid,uid,comm` output */
	const char *exec;            /* an exec result: { "status", "out", "err" } */
	const char *logs;            /* the container's output (text, not a file) */
	const char *rootfs_dir;      /* the container's root as a folder here; NULL: export */
	const char *export_tar;      /* the archive an export writes; NULL: the export fails */
	/*
	 * An image's layers (engine_image_layers): the image's configuration
	 * (its history and rootfs, as `docker save` holds it), and what each
	 * layer's archive lists, one JSON object a line: {"layer": i (from 0,
	 * oldest first), "name", "type" (tar.h's letter), "size"}, with the
	 * archive's own whiteout names; the real filter and whiteout reading
	 * (engine/layers.c) pass them on.  NULL: the call fails.
	 */
	const char *image_config;
	const char *layers;
	/* the image a base's inspect answers (FROM images): its RootFS; NULL: one made-up layer */
	const char *base_inspect;

	/* what the code under test asked for */
	unsigned calls[FAKE_NOPS];
	char last_exec[128];         /* the exec's argv, space-separated */
	int nbuilds;
};

/* The path of a fixture (new string): as the header says. */
char *fake_fixture(const char *name);
/* A fixture's JSON (new reference); fails the test when it cannot be read. */
json_t *fake_fixture_json(const char *name);

/*
 * Make e an engine answering from fe (borrowed for e's life): its builder,
 * versions and run id set as engine_open would.  Close it with engine_close.
 */
void fake_engine_open(struct engine *e, struct fake_engine *fe);

extern const struct engine_ops fake_engine_ops;

/*
 * What a kind's test runs in: a scratch folder, the phase, a run folder,
 * the fake engine and a check context wired to them as the driver wires
 * them.  The test fills service (and rootfs, tar when it makes them) between
 * check_env_open and check_env_start; check_env_close releases it all and
 * removes the scratch folder.
 */
#include "core/check.h"

struct check_env {
	char *tmp, *service, *rootfs, *tar; /* owned; the last three may stay NULL */
	struct phase ph;
	struct rundir run;
	struct engine engine;
	struct check_ctx ctx;
};

/* The repository's root: $PHASELAB_ROOT, else the current folder (new string). */
char *test_repo_root(void);
/* A scratch folder named after prefix, PHASELAB_STATE_DIR in it, the phase file (relative to the root) loaded, a run folder. */
void check_env_open(struct check_env *t, const char *phase_file, const char *prefix);
/* The fake engine opened on fe (borrowed), and the context wired: builds and responds explain the skips. */
void check_env_start(struct check_env *t, struct fake_engine *fe);
void check_env_close(struct check_env *t);
/*
 * Edit a case's Dockerfile text in place: edits holds up to two pairs, the
 * first of each replaced by the second (NULL ends them); a text without the
 * first fails the test, naming the case.
 */
void df_apply_edits(struct strbuf *df, const char *const edits[4], const char *case_name);
/*
 * How many times word occurs in a file of recorded calls (what a fake CLI,
 * tests/fixtures/engine/fake-docker or fake-podman, writes): 0 when there is
 * no such file.
 */
int fake_count_calls(const char *path, const char *word);

#endif
