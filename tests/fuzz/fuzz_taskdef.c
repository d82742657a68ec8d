/*
 * The ECS task definition reader: any bytes as the learner's
 * deploy/task-definition.json, checked as phase 11 checks it (its taskdef
 * check, its parameters, its service folder "backend"): check_shape() on
 * the JSON as load() parses it, then the whole run (the shape, the choice of
 * the container, the mirror of the command and the timings, the port, the
 * environment, the user, the image reference) against two fixed image
 * inspect objects in the track's reference shape, one whose HEALTHCHECK is
 * CMD-SHELL and one whose is CMD.  Every input meets both.
 *
 * Those readers are static, so this file includes their source:
 * fuzz-replaces: checks/task-definition.c
 *
 * What is checked: check_shape() refuses with a field path and a message,
 * or accepts and says nothing; the run passes or fails (never an error: the
 * file is there), with a message; a failure has a cause the kind declares,
 * and past parsing names the field in its evidence, and its message at
 * least the field's container (the path up to its first '.'); the
 * run's refusal is check_shape's (the same field) and it refuses what
 * jansson refuses; an invalid result carries its {value}; every {key}
 * phase 11's hints for the cause quote is in the evidence, and no evidence
 * is null (a string that is not UTF-8 would make it so).
 *
 * The run reads a file (load()'s rules: inside the service folder, a
 * regular file): each input is written to one in a temporary folder, removed
 * at exit.  The phase comes from phases/ under $PHASELAB_ROOT, else the
 * current folder (tests/fuzz/run runs from the top of the tree).
 *
 * The seeds are whole documents of about 1 KiB: mutate them at full length.
 * fuzz-options: -len_control=0
 */
#include "fuzz.h"

#include "checks/task-definition.c"

#include "core/phase.h"
#include "lib/fsutil.h"

#include <fcntl.h>

static struct {
	struct phase ph;
	const struct check_def *def;  /* phase 11's taskdef */
	json_t *images[2];            /* CMD-SHELL, CMD */
	char *tmp;                    /* the temporary folder */
	char *service;                /* tmp/backend */
	char *file;                   /* tmp/backend/<the def's path> */
} fx;

static void cleanup(void)
{
	if (fx.tmp)
		remove_tree(fx.tmp);
}

/* The backend track's reference image (tests/unit/test_backend_deploy.c), its probe in either form. */
static json_t *image(int exec_form)
{
	json_t *hc;

	if (exec_form)
		hc = json_pack("{s:[s,s,s,s], s:I, s:I, s:I, s:i}", "Test", "CMD", "curl", "-f",
			       "http://localhost:3000/health", "Interval", 30000000000LL, "Timeout", 5000000000LL,
			       "StartPeriod", 60000000000LL, "Retries", 3);
	else
		hc = json_pack("{s:[s,s], s:I, s:I, s:I, s:i}", "Test", "CMD-SHELL",
			       "curl -f http://localhost:3000/health || exit 1", "Interval", 30000000000LL, "Timeout",
			       5000000000LL, "StartPeriod", 60000000000LL, "Retries", 3);
	return json_pack("{s:s, s:s, s:s, s:{s:s, s:[s,s,s], s:{s:{}}, s:[s,s], s:o}, s:{s:s, s:[s]}}",
			 "Id", "sha256:1111111111111111111111111111111111111111111111111111111111111111",
			 "Os", "linux", "Architecture", "amd64",
			 "Config", "User", "node",
			 "Env", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "NODE_VERSION=18.20.4",
			 "NODE_ENV=production",
			 "ExposedPorts", "3000/tcp",
			 "Cmd", "node", "dist/main",
			 "Healthcheck", hc,
			 "RootFS", "Type", "layers", "Layers",
			 "sha256:2222222222222222222222222222222222222222222222222222222222222222");
}

static void setup(void)
{
	const char *root = getenv("PHASELAB_ROOT"), *tmpdir = getenv("TMPDIR");
	struct strbuf err = STRBUF_INIT;
	char *file, *deploy;

	file = xasprintf("%s/phases/11-task-definition/phase.json", root && *root ? root : ".");
	if (phase_load_file(file, &fx.ph, &err) < 0) {
		fprintf(stderr, "fuzz_taskdef: %s (run from the top of the tree, or set PHASELAB_ROOT)\n", err.buf);
		abort();
	}
	free(file);
	strbuf_release(&err);
	for (size_t i = 0; i < fx.ph.nchecks; i++)
		if (fx.ph.checks[i].kind == &check_task_definition)
			fx.def = &fx.ph.checks[i];
	if (!fx.def) {
		fprintf(stderr, "fuzz_taskdef: phase 11 has no task-definition check\n");
		abort();
	}
	fx.images[0] = image(0);
	fx.images[1] = image(1);

	fx.tmp = xasprintf("%s/phaselab-fuzz-taskdef-XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
	if (!mkdtemp(fx.tmp)) {
		perror("fuzz_taskdef: mkdtemp");
		abort();
	}
	atexit(cleanup);
	fx.service = xasprintf("%s/%s", fx.tmp, fx.ph.service_dir ? fx.ph.service_dir : "backend");
	fx.file = xasprintf("%s/%s", fx.service, param_str(fx.def, "path"));
	deploy = xstrdup(fx.file);
	for (char *s = deploy + strlen(fx.tmp) + 1; (s = strchr(s, '/')); s++) {
		*s = '\0';
		if (mkdir(deploy, 0755) < 0 && errno != EEXIST) {
			perror("fuzz_taskdef: mkdir");
			abort();
		}
		*s = '/';
	}
	free(deploy);
}

static void write_input(const uint8_t *data, size_t size)
{
	int fd = open(fx.file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0 || (size && write(fd, data, size) != (ssize_t)size) || close(fd) < 0) {
		perror("fuzz_taskdef: writing the task definition");
		abort();
	}
}

/* Every {key} of the cause's hints in phase 11 (hint_fill's syntax) is in the evidence as a string or a number. */
static void check_tiers(const struct check_result *res)
{
	const struct check_cause *c = check_def_cause(fx.def, res->cause);

	for (size_t t = 0; c && t < c->ntiers; t++) {
		const char *p = c->tiers[t];

		while ((p = strchr(p, '{'))) {
			size_t n;

			if (p[1] == '{') {
				p += 2;
				continue;
			}
			n = strspn(p + 1, "abcdefghijklmnopqrstuvwxyz0123456789_-");
			if (n && p[1 + n] == '}') {
				char key[128];
				json_t *v;

				snprintf(key, sizeof(key), "%.*s", (int)n, p + 1);
				v = json_object_get(res->evidence, key);
				FUZZ_CHECK(json_is_string(v) || json_is_number(v),
					   "the hint for %s quotes {%s}, which the evidence lacks: %s", res->cause, key,
					   res->message);
			}
			p++;
		}
	}
}

/*
 * One run's result.  shape: check_shape()'s answer on the same bytes (1:
 * not JSON, 0: accepted, -1: refused at field).
 */
static void check_result(const struct check_result *res, int shape, const char *field, const char *form)
{
	const char *key, *f;
	json_t *v;

	FUZZ_CHECK(res->message && *res->message, "%s image: no message", form);
	FUZZ_CHECK(res->status == CHECK_PASS || res->status == CHECK_FAIL, "%s image: %s: %s", form,
		   check_status_name(res->status), res->message);
	FUZZ_CHECK(json_is_object(res->evidence) && json_is_string(json_object_get(res->evidence, "path")),
		   "%s image: no path in the evidence", form);
	json_object_foreach(res->evidence, key, v)
		FUZZ_CHECK(!json_is_null(v), "%s image: the evidence's %s is null: %s", form, key, res->message);
	if (res->status == CHECK_PASS) {
		FUZZ_CHECK(!res->cause, "%s image: a pass with the cause %s", form, res->cause);
		FUZZ_CHECK(shape == 0, "%s image: passed what check_shape refuses: %s", form, res->message);
		return;
	}
	FUZZ_CHECK(res->cause && kind_has_cause(&check_task_definition, res->cause),
		   "%s image: a failure without a declared cause: %s", form, res->message);
	if (shape == 1) {
		FUZZ_CHECK(!strcmp(res->cause, "not-json"), "%s image: jansson refuses it, the run says %s: %s", form,
			   res->cause, res->message);
		return;
	}
	FUZZ_CHECK(strcmp(res->cause, "not-json") && strcmp(res->cause, "missing"), "%s image: JSON read as %s: %s",
		   form, res->cause, res->message);

	/* past parsing, every failure names a field path, and its message the field's container */
	f = json_string_value(json_object_get(res->evidence, "field"));
	FUZZ_CHECK(f && *f, "%s image: %s names no field: %s", form, res->cause, res->message);
	{
		/*
		 * At least up to the field's first '.' ("containerDefinitions[0] (backend) has no
		 * healthCheck"); "containerDefinitions[].essential", every container, names the list
		 */
		size_t n = strcspn(f, ".");
		char *named;

		if (strstr(f, "[]") && (size_t)(strstr(f, "[]") - f) < n)
			n = (size_t)(strstr(f, "[]") - f);
		named = xstrndup(f, n);

		FUZZ_CHECK(strstr(res->message, named), "%s image: the message does not name %s: %s", form, named,
			   res->message);
		free(named);
	}
	if (shape < 0)
		FUZZ_CHECK(!strcmp(res->cause, "invalid") && !strcmp(f, field),
			   "%s image: check_shape refuses %s, the run says %s at %s: %s", form, field, res->cause, f,
			   res->message);
	if (!strcmp(res->cause, "invalid"))
		FUZZ_CHECK(json_is_string(json_object_get(res->evidence, "value")), "%s image: an invalid %s with no value",
			   form, f);
	check_tiers(res);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct problem p = { STRBUF_INIT, STRBUF_INIT, NULL };
	json_t *root, *placeholders;
	int shape = 1;

	if (!fx.def)
		setup();

	/* check_shape() alone, on the document as load() parses it */
	root = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
	if (root) {
		placeholders = param_strs(fx.def, "placeholders");
		shape = check_shape(&p, root, placeholders);
		FUZZ_CHECK(shape == 0 || shape == -1, "check_shape returned %d", shape);
		if (shape < 0)
			FUZZ_CHECK(p.field.len && p.msg.len, "a refusal without a field path or a message: '%s' '%s'",
				   p.field.buf, p.msg.buf);
		else
			FUZZ_CHECK(!p.field.len && !p.msg.len && !p.value, "an acceptance with a problem: '%s' '%s'",
				   p.field.buf, p.msg.buf);
		json_decref(placeholders);
		json_decref(root);
	}

	/* the whole check, as phase 11 runs it, against either form of the image's probe */
	write_input(data, size);
	for (int i = 0; i < 2; i++) {
		struct check_ctx ctx;
		struct check_result res;

		memset(&ctx, 0, sizeof(ctx));
		memset(&res, 0, sizeof(res));
		ctx.phase = &fx.ph;
		ctx.dir = fx.service;
		ctx.image = fx.images[i];
		check_task_definition.run(&ctx, fx.def, &res);
		check_result(&res, shape, p.field.buf, i ? "CMD" : "CMD-SHELL");
		free(res.message);
		free(res.hint);
		free(res.cause);
		json_decref(res.evidence);
	}
	strbuf_release(&p.field);
	strbuf_release(&p.msg);
	return 0;
}
