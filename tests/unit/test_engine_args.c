/*
 * On the real engine: nothing an engine call is given is dropped.  A
 * container started with 200 environment variables has all 200 in its
 * Config.Env, and an image built with 100 build arguments (a Dockerfile
 * declaring ARG A0..A99 and a LABEL per argument) has all 100 labels with
 * their values.  The old driver's fixed argv arrays silently passed about
 * 22 variables.  Everything made carries the run label and is removed.
 *
 * Needs an engine: without one the test fails, saying so, unless
 * PHASELAB_NO_ENGINE_TESTS=1.  The base image is a lab stand-in that
 * `make images` prepares (node:20-alpine).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/engine.h"
#include "lib/fsutil.h"
#include "lib/strbuf.h"
#include "lib/strvec.h"

#define NENV 200
#define NARGS 100
#define BASE_IMAGE "node:20-alpine"

struct fixture {
	struct engine e;
	char scratch[64];
	int skip;
};

static int setup(void **state)
{
	static struct fixture f;
	char run_id[40];
	const char *no = getenv("PHASELAB_NO_ENGINE_TESTS");

	memset(&f, 0, sizeof(f));
	*state = &f;
	if (no && !strcmp(no, "1")) {
		f.skip = 1;
		return 0;
	}
	snprintf(run_id, sizeof(run_id), "test-args-%ld", (long)getpid());
	snprintf(f.scratch, sizeof(f.scratch), "/tmp/phaselab-test-args-XXXXXX");
	if (!mkdtemp(f.scratch)) {
		fprintf(stderr, "cannot make a scratch folder\n");
		return -1;
	}
	if (engine_open(&f.e, run_id) < 0) {
		fprintf(stderr, "test_engine_args needs a container engine and none answers: %s\n"
			"(set PHASELAB_NO_ENGINE_TESTS=1 to skip the engine tests)\n", f.e.err.buf);
		return -1;
	}
	f.e.scratch = f.scratch;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	int left = 0;

	if (f->skip)
		return 0;
	f->e.cleaning = 1;
	if (engine_remove_labelled(&f->e, f->e.run_id) < 0)
		left = 1;
	engine_close(&f->e);
	remove_tree(f->scratch);
	return left ? -1 : 0;
}

static void test_200_env(void **state)
{
	struct fixture *f = *state;
	struct strvec env = STRVEC_INIT;
	char id[80], want[64];
	json_t *info = NULL, *list, *v;
	size_t i, found = 0;

	if (f->skip)
		skip();
	for (int k = 0; k < NENV; k++)
		strvec_pushf(&env, "PHASELAB_E%d=value-%d-%s", k, k * 7, k % 2 ? "odd" : "even");
	struct run_request req = { .image = BASE_IMAGE, .env = env.v };
	/* node with no terminal exits at once: the container's configuration is what is read */
	if (engine_run(&f->e, &req, id, sizeof(id)) < 0)
		fail_msg("starting a container with %d env entries: %s", NENV, f->e.err.buf);
	assert_int_equal(engine_container_inspect(&f->e, id, &info), 0);
	list = json_object_get(json_object_get(info, "Config"), "Env");
	for (int k = 0; k < NENV; k++) {
		int seen = 0;

		snprintf(want, sizeof(want), "PHASELAB_E%d=value-%d-%s", k, k * 7, k % 2 ? "odd" : "even");
		json_array_foreach(list, i, v)
			seen |= !strcmp(json_string_value(v), want);
		if (!seen)
			fail_msg("env entry %d did not arrive: %s", k, want);
		found++;
	}
	printf("[ INFO ] container %.12s: %zu of %d env entries arrived with their values\n", id, found, NENV);
	assert_int_equal(found, NENV);
	json_decref(info);
	f->e.cleaning = 1;
	assert_int_equal(engine_rm_container(&f->e, id), 0);
	f->e.cleaning = 0;
	strvec_clear(&env);
}

static void test_100_build_args(void **state)
{
	struct fixture *f = *state;
	struct strbuf df = STRBUF_INIT;
	struct strvec args = STRVEC_INIT;
	struct build_request req = { 0 };
	struct engine_job job = ENGINE_JOB_INIT;
	struct build_result res;
	char *ctxdir, *path, *iid, want[64], key[32];
	json_t *img = NULL, *labels;
	int rc, found = 0;

	if (f->skip)
		skip();
	ctxdir = strdup(f->scratch);
	path = malloc(strlen(ctxdir) + 32);
	/* one ARG and one LABEL instruction: the builder's speed is not under test */
	strbuf_addstr(&df, "FROM " BASE_IMAGE "\nARG");
	for (int k = 0; k < NARGS; k++)
		strbuf_addf(&df, " A%d", k);
	strbuf_addstr(&df, "\nLABEL");
	for (int k = 0; k < NARGS; k++)
		strbuf_addf(&df, " phaselab.test.a%d=\"${A%d}\"", k, k);
	strbuf_addch(&df, '\n');
	sprintf(path, "%s/Dockerfile", ctxdir);
	assert_int_equal(write_file_atomic(path, df.buf, df.len), 0);
	/* values unique to this run: the LABEL step cannot come from the cache */
	for (int k = 0; k < NARGS; k++)
		strvec_pushf(&args, "A%d=arg-%d-%ld", k, k, (long)getpid());

	iid = malloc(strlen(ctxdir) + 32);
	sprintf(iid, "%s/image.iid", ctxdir);
	req.context = ctxdir;
	req.iidfile = iid;
	req.build_args = args.v;
	req.timeout_ms = 120000;
	build_result_init(&res);
	assert_int_equal(engine_build_start(&f->e, &req, &job), 0);
	rc = engine_build_finish(&f->e, &job, &res);
	if (rc != 0)
		fail_msg("the build with %d build args failed (%d): %s %s", NARGS, rc, f->e.err.buf,
			 res.log.error ? res.log.error : "");
	assert_int_equal(engine_image_inspect(&f->e, res.image_id, &img), 0);
	labels = json_object_get(json_object_get(img, "Config"), "Labels");
	for (int k = 0; k < NARGS; k++) {
		const char *got;

		snprintf(key, sizeof(key), "phaselab.test.a%d", k);
		snprintf(want, sizeof(want), "arg-%d-%ld", k, (long)getpid());
		got = json_string_value(json_object_get(labels, key));
		if (!got || strcmp(got, want))
			fail_msg("build arg A%d did not arrive: label %s is '%s', want '%s'", k, key,
				 got ? got : "(missing)", want);
		found++;
	}
	printf("[ INFO ] image %.19s: %d of %d build args arrived with their values\n", res.image_id, found, NARGS);
	assert_int_equal(found, NARGS);
	json_decref(img);
	/* the image and the step images the build committed (they carry no label) */
	f->e.cleaning = 1;
	assert_int_equal(engine_rm_build(&f->e, &res), 0);
	f->e.cleaning = 0;
	build_result_release(&res);
	strvec_clear(&args);
	strbuf_release(&df);
	free(path);
	free(iid);
	free(ctxdir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_200_env),
		cmocka_unit_test(test_100_build_args),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
