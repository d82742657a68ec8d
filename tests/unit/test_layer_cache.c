/*
 * The cache item's dependency step, whatever the installer.
 *
 * First the reading of a RUN instruction's words (lib/installer.h): one row
 * per form, {instruction, the installs it runs}.  Then the layer-cache kind
 * on builds recorded on the real engine, both builders
 * (tests/fixtures/engine/installers/: each case's Dockerfile, its first
 * build and the rebuild after a source edit, recorded by
 * tests/fixtures/engine/record-installers), through the run lifecycle on the
 * fake engine (fake_engine.h), as test_checks.c runs the other kinds.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/check.h"
#include "core/phase.h"
#include "core/rundir.h"
#include "report/report.h"
#include "lib/fsutil.h"
#include "lib/installer.h"
#include "lib/strbuf.h"
#include "lib/xalloc.h"

#include "fake_engine.h"

/* ------------------------------------------------------------ the words of a RUN */

struct scan_row {
	const char *instruction;
	const char *installs;    /* the names, joined with ", "; "" for none */
	const char *locked;      /* the first install's `locked`; NULL: not asserted */
};

static const struct scan_row scan_rows[] = {
	/* npm */
	{ "RUN npm ci --omit=dev", "npm ci", "npm ci" },
	{ "RUN npm clean-install", "npm ci", NULL },
	{ "RUN npm install", "npm install", "" },
	{ "RUN npm i --omit=dev", "npm install", NULL },
	{ "run npm install", "npm install", NULL },
	{ "RUN npm install --production --no-optional", "npm install", NULL },
	{ "RUN npm --prefix /app ci", "npm ci", NULL },
	{ "RUN npm i -g pnpm", "", NULL },
	{ "RUN npm install --global yarn@1", "", NULL },
	{ "RUN npm install --location=global pnpm", "", NULL },
	{ "RUN npm run build", "", NULL },
	{ "RUN npm ci && npm run build", "npm ci", NULL },
	{ "RUN npm cache clean --force", "", NULL },
	/* not an install: npm only named */
	{ "RUN echo npm ci", "", NULL },
	{ "RUN echo 'run npm ci first' > NOTES", "", NULL },
	{ "RUN printf '#!/bin/sh\\nnpm ci\\n' > /usr/local/bin/setup", "", NULL },
	{ "RUN test -f package-lock.json # npm ci later", "", NULL },
	{ "COPY npm ci", "", NULL },
	{ "RUN", "", NULL },
	{ "RUNNER npm ci", "", NULL },
	/* the shell around it */
	{ "RUN cd /app && npm ci", "npm ci", NULL },
	{ "RUN set -eux; npm ci --omit=dev; npm cache clean --force", "npm ci", NULL },
	{ "RUN NODE_ENV=production npm ci", "npm ci", NULL },
	{ "RUN env NODE_ENV=production CI=1 npm ci", "npm ci", NULL },
	{ "RUN env -u NPM_TOKEN npm ci", "npm ci", NULL },
	{ "RUN sh -c 'npm ci --omit=dev'", "npm ci", NULL },
	{ "RUN /bin/sh -ec \"cd /app && npm install\"", "npm install", NULL },
	{ "RUN bash -c \"sh -c 'yarn install'\"", "yarn install", NULL },
	{ "RUN sh ./install.sh", "", NULL },
	{ "RUN sudo -u node npm ci", "npm ci", NULL },
	{ "RUN exec npm ci", "npm ci", NULL },
	{ "RUN nice -n 10 npm ci", "npm ci", NULL },
	{ "RUN timeout 300 npm ci", "npm ci", NULL },
	{ "RUN npm ci > /dev/null 2>&1", "npm ci", NULL },
	{ "RUN npm ci 2>&1 | tee /tmp/npm.log", "npm ci", NULL },
	{ "RUN (cd /app && npm ci)", "npm ci", NULL },
	{ "RUN { npm ci; }", "npm ci", NULL },
	{ "RUN \"npm\" 'ci'", "npm ci", NULL },
	{ "RUN n\\pm ci", "npm ci", NULL },
	{ "RUN /usr/local/bin/npm ci", "npm ci", NULL },
	{ "RUN npm ci || npm install", "npm ci, npm install", NULL },
	{ "RUN if [ -f yarn.lock ]; then yarn --frozen-lockfile; elif [ -f package-lock.json ]; then npm ci; "
	  "elif [ -f pnpm-lock.yaml ]; then corepack enable pnpm && pnpm i --frozen-lockfile; else echo \"no lock\" "
	  "&& exit 1; fi", "yarn install, npm ci, pnpm install", "--frozen-lockfile" },
	/* BuildKit's flags, the exec form */
	{ "RUN --mount=type=cache,target=/root/.npm npm ci", "npm ci", NULL },
	{ "RUN --mount=type=cache,target=/root/.npm     npm ci", "npm ci", NULL },
	{ "RUN --mount=type=secret,id=npmrc,target=/root/.npmrc --network=default npm ci", "npm ci", NULL },
	{ "RUN [\"npm\", \"ci\", \"--omit=dev\"]", "npm ci", NULL },
	{ "RUN [\"/bin/sh\", \"-c\", \"npm install && npm run build\"]", "npm install", NULL },
	{ "RUN [\"echo\", \"npm ci\"]", "", NULL },
	{ "RUN [\"npm\", 1]", "", NULL },
	{ "RUN [not json npm ci", "", NULL },
	/* yarn */
	{ "RUN yarn", "yarn install", "" },
	{ "RUN yarn install", "yarn install", "" },
	{ "RUN yarn --frozen-lockfile", "yarn install", "--frozen-lockfile" },
	{ "RUN yarn install --frozen-lockfile --production", "yarn install", "--frozen-lockfile" },
	{ "RUN yarn install --immutable", "yarn install", "--immutable" },
	{ "RUN yarn --cwd /app install", "yarn install", NULL },
	{ "RUN yarn --cwd /app", "yarn install", NULL },
	{ "RUN yarn build", "", NULL },
	{ "RUN yarn --silent build", "", NULL },
	{ "RUN yarn global add serve", "", NULL },
	{ "RUN corepack yarn install", "yarn install", NULL },
	{ "RUN corepack enable", "", NULL },
	/* pnpm, bun */
	{ "RUN pnpm install --frozen-lockfile", "pnpm install", "--frozen-lockfile" },
	{ "RUN pnpm i --prod", "pnpm install", "" },
	{ "RUN pnpm -C /app install", "pnpm install", NULL },
	{ "RUN pnpm fetch --prod", "pnpm fetch", "pnpm fetch" },
	{ "RUN pnpm add -g serve", "", NULL },
	{ "RUN pnpm install -g serve", "", NULL },
	{ "RUN pnpm run build", "", NULL },
	{ "RUN npm i -g pnpm && pnpm install --frozen-lockfile", "pnpm install", NULL },
	{ "RUN npx --yes pnpm@8.15.0 install", "pnpm install", NULL },
	{ "RUN bun install --frozen-lockfile", "bun install", "--frozen-lockfile" },
	{ "RUN bun run build", "", NULL },
	/* pip */
	{ "RUN pip install --no-cache-dir -r requirements.txt", "pip install", "" },
	{ "RUN pip3 install -r requirements.txt", "pip install", NULL },
	{ "RUN pip3.11 install --requirement=requirements.txt", "pip install", NULL },
	{ "RUN pip install -rrequirements.txt", "pip install", NULL },
	{ "RUN /usr/local/bin/pip install -r requirements.txt", "pip install", NULL },
	{ "RUN python -m pip install -r requirements.txt", "pip install", NULL },
	{ "RUN python3.11 -u -m pip install --user -r requirements.txt", "pip install", NULL },
	{ "RUN python3 -m pip install .", "pip install", NULL },
	{ "RUN pip install -e .", "pip install", NULL },
	{ "RUN pip install flask gunicorn==21.2.0", "pip install", NULL },
	{ "RUN pip install --target /deps -r requirements.txt", "pip install", NULL },
	{ "RUN pip install --upgrade pip", "", NULL },
	{ "RUN pip install --upgrade pip setuptools wheel > /dev/null", "", NULL },
	{ "RUN pip install -U pip 'setuptools>=68' Poetry==1.8.3", "", NULL },
	{ "RUN pip install --index-url https://pypi.example/simple uv", "", NULL },
	{ "RUN pip install --upgrade pip && pip install -r requirements.txt", "pip install", NULL },
	{ "RUN pip download -r requirements.txt -d /wheels", "", NULL },
	{ "RUN pip --no-cache-dir install -r requirements.txt", "pip install", NULL },
	{ "RUN python -c 'import pip'", "", NULL },
	{ "RUN pipx install poetry", "", NULL },
	/* poetry, uv, pipenv, pdm */
	{ "RUN poetry install --no-root --only main", "poetry install", NULL },
	{ "RUN pip install poetry==1.8.3 && poetry config virtualenvs.create false && poetry install --no-root",
	  "poetry install", NULL },
	{ "RUN poetry -C /app install", "poetry install", NULL },
	{ "RUN python -m poetry install", "poetry install", NULL },
	{ "RUN poetry add requests", "", NULL },
	{ "RUN uv sync --frozen --no-dev", "uv sync", "--frozen" },
	{ "RUN uv sync --locked", "uv sync", "--locked" },
	{ "RUN --mount=type=cache,target=/root/.cache/uv uv sync", "uv sync", "" },
	{ "RUN uv pip install --system -r requirements.txt", "uv pip install", NULL },
	{ "RUN uv pip install --system --upgrade pip", "", NULL },
	{ "RUN uv pip sync requirements.txt", "uv pip sync", NULL },
	{ "RUN uv tool install ruff", "", NULL },
	{ "RUN uv run pytest", "", NULL },
	{ "RUN pipenv install --deploy --system", "pipenv install", "--deploy" },
	{ "RUN pipenv sync", "pipenv sync", NULL },
	{ "RUN pdm install --prod", "pdm install", NULL },
	/* both languages in one image */
	{ "RUN pip install -r requirements.txt && npm ci", "pip install, npm ci", NULL },
};

static void test_scan(void **state)
{
	(void)state;
	for (size_t r = 0; r < ARRAY_SIZE(scan_rows); r++) {
		const struct scan_row *row = &scan_rows[r];
		struct install_cmd found[INSTALL_CMDS_MAX];
		size_t n = install_cmds_scan(row->instruction, found, INSTALL_CMDS_MAX);
		struct strbuf got = STRBUF_INIT;

		for (size_t i = 0; i < n; i++) {
			strbuf_addf(&got, "%s%s", i ? ", " : "", found[i].name);
			if (strncmp(found[i].name, found[i].tool, strlen(found[i].tool)) ||
			    strcmp(found[i].language, installer_language(found[i].tool)))
				fail_msg("%s: %s is not of its tool %s or language %s", row->instruction, found[i].name,
					 found[i].tool, found[i].language);
		}
		if (strcmp(got.buf, row->installs))
			fail_msg("%s: installs [%s], not [%s]", row->instruction, got.buf, row->installs);
		if (row->locked && n && strcmp(found[0].locked ? found[0].locked : "", row->locked))
			fail_msg("%s: locked '%s', not '%s'", row->instruction, found[0].locked ? found[0].locked : "",
				 row->locked);
		strbuf_release(&got);
	}
}

/* A phase's step names its install without a package (`pip install` alone is the lesson's). */
static void test_step(void **state)
{
	static const char *const rows[][2] = {
		{ "npm ci", "npm ci" }, { "npm ci --omit=dev", "npm ci" }, { "npm install", "npm install" },
		{ "yarn", "yarn install" }, { "yarn install", "yarn install" }, { "pnpm install", "pnpm install" },
		{ "pip install", "pip install" }, { "pip install -r requirements.txt", "pip install" },
		{ "poetry install", "poetry install" }, { "uv sync", "uv sync" }, { "uv pip install", "uv pip install" },
		{ "make deps", NULL }, { "", NULL },
	};
	(void)state;
	for (size_t r = 0; r < ARRAY_SIZE(rows); r++) {
		struct install_cmd cmd;
		int rc = install_cmd_of_step(rows[r][0], &cmd);

		if (!rows[r][1] && rc == 0)
			fail_msg("'%s' is no install, yet reads as %s", rows[r][0], cmd.name);
		if (rows[r][1] && (rc < 0 || strcmp(cmd.name, rows[r][1])))
			fail_msg("'%s' reads as %s, not %s", rows[r][0], rc < 0 ? "nothing" : cmd.name, rows[r][1]);
	}
	assert_string_equal(installer_tools("node"), "npm yarn pnpm bun");
	assert_string_equal(installer_tools("python"), "pip uv poetry pipenv pdm");
	assert_null(installer_tools("go"));
	assert_string_equal(installer_manifests("yarn install"), "package.json yarn.lock");
	assert_string_equal(installer_manifests("pip install"), "requirements.txt");
	assert_null(installer_manifests("make deps"));
}

/* Any bytes: no crash, no read past the end, at most max installs. */
static void test_scan_hostile(void **state)
{
	static const char *const rows[] = {
		"RUN '", "RUN \"", "RUN \\", "RUN npm ci '", "RUN sh -c", "RUN sh -c 'sh -c \"sh -c \\'sh -c npm ci\\'\"'",
		"RUN >", "RUN 2>", "RUN npm ci >", "RUN [", "RUN [\"sh\", \"-c\"]", "RUN --mount=x", "RUN env",
		"RUN sudo", "RUN python -m", "RUN corepack", "RUN timeout", "RUN \xff\xfe npm ci",
	};
	struct install_cmd found[INSTALL_CMDS_MAX];
	struct strbuf many = STRBUF_INIT;

	(void)state;
	for (size_t r = 0; r < ARRAY_SIZE(rows); r++)
		assert_true(install_cmds_scan(rows[r], found, INSTALL_CMDS_MAX) <= 1);
	strbuf_addstr(&many, "RUN true");
	for (int i = 0; i < 100; i++)
		strbuf_addstr(&many, " && npm ci");
	assert_int_equal(install_cmds_scan(many.buf, found, 3), 3);
	assert_int_equal(install_cmds_scan(many.buf, found, INSTALL_CMDS_MAX), INSTALL_CMDS_MAX);
	strbuf_release(&many);
}

/* ------------------------------------------------------------ the kind, on recorded builds */

/* The cases' fields after `dir` are left out where not needed: zero. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

struct cache_case {
	const char *name;
	const char *dir;                 /* tests/fixtures/engine/installers/DIR */
	enum builder_kind builder;
	const char *params;              /* JSON that replaces the check's parameters; NULL: phase 3's */
	enum check_status status;
	const char *message;             /* a piece of the message */
	const char *hint;                /* a piece of the hint; NULL: none */
	const char *cause;               /* NULL: none */
	const char *evidence[4];         /* "key" or "key=JSON" the evidence holds; "!key": it does not */
	/*
	 * The layers' witness: the image's configuration (its history, and
	 * the diff ids of image-inspect.json, which the fake answers for the
	 * rebuilt image too: the same layers); NULL: the layers cannot be read
	 */
	const char *image_config;
	const char *rebuilt_output;      /* replaces the rebuild's recording (a log nothing parses) */
	const char *rebuilt_inspect;     /* the rebuilt image's inspect object; NULL: image-inspect.json */
	const char *retry_output;        /* the second rebuild's recording; NULL: no second rebuild is expected */
};

#define PY "{\"step\": \"pip install\"}"
#define NOTE_NPM_CI "; the lesson uses `npm ci`, which installs exactly the lock file and fails when it " \
	"disagrees with package.json"

static const struct cache_case cache_cases[] = {
	/* the second witness: the rebuilt image carries the install's layer of the first build */
	{ "the layers say cached where the log says ran: the layers decide", "npm-install-late", BUILDER_LEGACY, NULL,
	  CHECK_PASS, "`RUN npm install --omit=dev` came from the cache (the builder's log says it ran again, but its "
	  "layer is the same as the first build's: the layers decide)", NULL, NULL,
	  { "log_witness=\"ran\"", "layer_witness=\"cached\"", "layers" }, "image-config-witness.json", NULL },
	{ "a log nothing parses: the layers alone decide", "npm-install-late", BUILDER_LEGACY, NULL, CHECK_PASS,
	  "the layer of `RUN npm install --omit=dev` is the first build's: it came from the cache (the builder's log "
	  "does not show the step; the image's layers decide)", NULL, NULL,
	  { "log_witness=\"none\"", "layer_witness=\"cached\"" }, "image-config-witness.json",
	  "tests/fixtures/engine/build-unreadable.txt" },
	{ "a log nothing parses and no layers: the install is not found", "npm-install-late", BUILDER_LEGACY, NULL,
	  CHECK_FAIL, "no build step installs the dependencies", NULL, "install-step-not-found",
	  { "log_witness=\"none\"", "layer_witness=\"none\"" }, NULL, "tests/fixtures/engine/build-unreadable.txt" },
	/*
	 * Builds of the same steps at the same time (a class graded with
	 * --jobs): the cache holds twins of a step.  (Recordings made by hand
	 * in the legacy builder's words, after what a cold grade suite showed.)
	 */
	{ "another build's twin of the install, from the cache: the log decides", "concurrent", BUILDER_LEGACY, NULL,
	  CHECK_PASS, "step 4/7 `RUN npm install --omit=dev` came from the cache (its layer is not the first build's: "
	  "the builder took the same step of another build from its cache)", NULL, NULL,
	  { "log_witness=\"cached\"", "layer_witness=\"another\"", "layers", "!first_rebuild" },
	  "image-config-witness.json", NULL, "image-inspect-twin.json" },
	{ "the install re-ran with nothing before it rebuilt: a second rebuild decides", "concurrent", BUILDER_LEGACY,
	  NULL, CHECK_PASS, "step 4/7 `RUN npm install --omit=dev` came from the cache on a second rebuild (the first "
	  "re-ran it with nothing before it changed, as when another build of the same steps runs at the same time); "
	  "the lesson uses `npm ci`",
	  NULL, NULL, { "first_rebuild", "log_witness=\"cached\"" }, NULL,
	  "tests/fixtures/engine/installers/concurrent/legacy-raced.txt", NULL,
	  "tests/fixtures/engine/installers/concurrent/legacy-rebuilt.txt" },
	{ "the manifests' copy rebuilt, which the edit cannot reach: a second rebuild decides", "concurrent",
	  BUILDER_LEGACY, NULL, CHECK_PASS, "came from the cache on a second rebuild", NULL,
	  NULL, { "first_rebuild" }, NULL, "tests/fixtures/engine/installers/concurrent/legacy-raced-copy.txt", NULL,
	  "tests/fixtures/engine/installers/concurrent/legacy-rebuilt.txt" },
	{ "the install re-ran on the second rebuild too: the verdict stands", "concurrent", BUILDER_LEGACY, NULL,
	  CHECK_FAIL, "re-ran `RUN npm install --omit=dev` on a second rebuild too although no step before it changed",
	  "an ARG",
	  "changing-step-before-install", { "first_rebuild", "install=\"npm install\"" }, NULL,
	  "tests/fixtures/engine/installers/concurrent/legacy-raced.txt", NULL,
	  "tests/fixtures/engine/installers/concurrent/legacy-raced.txt" },
	/* npm install, the manifests first: cached, and the note */
	{ "npm install, manifests first, legacy", "npm-install", BUILDER_LEGACY, NULL, CHECK_PASS,
	  "step 4/14 `RUN npm install --omit=dev` came from the cache" NOTE_NPM_CI, NULL, NULL,
	  { "installer=\"npm install\"", "lesson=\"npm ci\"", "step" } },
	{ "npm install, manifests first, BuildKit", "npm-install", BUILDER_BUILDKIT, NULL, CHECK_PASS,
	  "step [builder 4/6] `RUN npm install --omit=dev` came from the cache" NOTE_NPM_CI, NULL, NULL,
	  { "installer=\"npm install\"" } },
	/* npm install after COPY . .: fails as the cache-buster does, naming npm install */
	{ "npm install after COPY . ., legacy", "npm-install-late", BUILDER_LEGACY, NULL, CHECK_FAIL,
	  "re-ran `RUN npm install --omit=dev`: step 3/13 `COPY . .` came before it and was rebuilt",
	  "`COPY package.json package-lock.json ./`, then `RUN npm install --omit=dev`, and only then `COPY . .`",
	  "copy-all-before-install",
	  { "install=\"npm install\"", "install_line=\"RUN npm install --omit=dev\"", "line_number=4",
	    "corrected=\"COPY package.json package-lock.json ./\"" } },
	{ "npm install after COPY . ., BuildKit", "npm-install-late", BUILDER_BUILDKIT, NULL, CHECK_FAIL,
	  "re-ran `RUN npm install --omit=dev`: step [builder 3/5] `COPY . .` came before it", "then `RUN npm install",
	  "copy-all-before-install", { "install=\"npm install\"", "line=\"COPY . .\"" } },
	/* yarn (the stand-in's own, when it has one) */
	{ "yarn install --frozen-lockfile, legacy", "yarn", BUILDER_LEGACY, NULL, CHECK_PASS,
	  "`RUN yarn install --frozen-lockfile --production` came from the cache; the lesson uses `npm ci`, which "
	  "holds to the lock file as `yarn install --frozen-lockfile` does", NULL, NULL,
	  { "installer=\"yarn install\"" } },
	{ "yarn install --frozen-lockfile, BuildKit", "yarn", BUILDER_BUILDKIT, NULL, CHECK_PASS,
	  "step [builder 4/6] `RUN yarn install --frozen-lockfile --production` came from the cache", NULL, NULL,
	  { "installer=\"yarn install\"" } },
	/* pnpm, after `npm i -g pnpm@9`: a tool for the machine, not the dependency step */
	{ "pnpm install, legacy", "pnpm", BUILDER_LEGACY, NULL, CHECK_PASS,
	  "step 5/15 `RUN pnpm install --frozen-lockfile --prod` came from the cache; the lesson uses `npm ci`, "
	  "which holds to the lock file as `pnpm install --frozen-lockfile` does", NULL, NULL,
	  { "installer=\"pnpm install\"" } },
	{ "pnpm install, BuildKit", "pnpm", BUILDER_BUILDKIT, NULL, CHECK_PASS,
	  "`RUN pnpm install --frozen-lockfile --prod` came from the cache", NULL, NULL, { "installer" } },
	/* the lesson's npm ci written otherwise: no note, the report as it always was */
	{ "npm ci under a BuildKit cache mount", "mount", BUILDER_BUILDKIT, NULL, CHECK_PASS,
	  "step [builder 4/6] `RUN --mount=type=cache,target=/root/.npm     npm ci --omit=dev` came from the cache",
	  NULL, NULL, { "!installer", "!lesson", "step" } },
	{ "npm ci in the exec form, legacy", "exec-form", BUILDER_LEGACY, NULL, CHECK_PASS,
	  "step 4/14 `RUN [\"npm\", \"ci\", \"--omit=dev\"]` came from the cache", NULL, NULL, { "!installer" } },
	{ "npm ci in the exec form, BuildKit", "exec-form", BUILDER_BUILDKIT, NULL, CHECK_PASS,
	  "`RUN [\"npm\", \"ci\", \"--omit=dev\"]` came from the cache", NULL, NULL, { "!installer" } },
	{ "npm ci among other commands, continued lines, legacy", "compound", BUILDER_LEGACY, NULL, CHECK_PASS,
	  "step 5/15 `RUN set -eux;     NODE_ENV=production npm ci --omit=dev       && npm cache clean --force` came "
	  "from the cache", NULL, NULL, { "!installer" } },
	{ "npm ci among other commands, continued lines, BuildKit", "compound", BUILDER_BUILDKIT, NULL, CHECK_PASS,
	  "step [builder 4/6] `RUN set -eux;", NULL, NULL, { "!installer" } },
	/* several stages */
	{ "deps installs before any source, build after COPY . .: deps is judged, legacy", "deps-build",
	  BUILDER_LEGACY, NULL, CHECK_PASS, "step 4/17 `RUN npm ci --omit=dev` came from the cache", NULL, NULL,
	  { "!installer" } },
	{ "deps installs before any source, build after COPY . .: deps is judged, BuildKit", "deps-build",
	  BUILDER_BUILDKIT, NULL, CHECK_PASS, "step [deps 4/4] `RUN npm ci --omit=dev` came from the cache", NULL,
	  NULL, { "!installer" } },
	{ "a stage the image does not use is not judged, legacy", "unused-stage", BUILDER_LEGACY, NULL, CHECK_FAIL,
	  "re-ran `RUN npm ci --omit=dev`: step 7/17 `COPY . .` came before it", "copy only the dependency manifests",
	  "copy-all-before-install", { "line_number=10", "install=\"npm ci\"" } },
	{ "a stage the image does not use is not judged, BuildKit", "unused-stage", BUILDER_BUILDKIT, NULL,
	  CHECK_FAIL, "re-ran `RUN npm ci --omit=dev`: step [builder 3/5] `COPY . .` came before it",
	  "copy only the dependency manifests", "copy-all-before-install", { "line_number=10" } },
	{ "the install in the stage the builder starts from, legacy", "parent-stage", BUILDER_LEGACY, NULL,
	  CHECK_PASS, "step 4/15 `RUN npm ci --omit=dev` came from the cache", NULL, NULL, { "step" } },
	{ "the install in the stage the builder starts from, BuildKit", "parent-stage", BUILDER_BUILDKIT, NULL,
	  CHECK_PASS, "step [base 4/4] `RUN npm ci --omit=dev` came from the cache", NULL, NULL, { "step" } },
	{ "the source copied in the stage the builder starts from, legacy", "parent-copies-all", BUILDER_LEGACY,
	  NULL, CHECK_FAIL, "re-ran `RUN npm ci --omit=dev`: step 3/14 `COPY . .` came before it",
	  "copy only the dependency manifests", "copy-all-before-install", { "line_number=4", "first_rebuilt" } },
	{ "the source copied in the stage the builder starts from, BuildKit", "parent-copies-all", BUILDER_BUILDKIT,
	  NULL, CHECK_FAIL, "re-ran `RUN npm ci --omit=dev`: step [src 3/3] `COPY . .` came before it",
	  "copy only the dependency manifests", "copy-all-before-install", { "line_number=4" } },
	/* the installers of the lesson's language only: pip in a Node image installs a tool */
	{ "pip in a Node image is not the dependency step, legacy", "pip-in-node", BUILDER_LEGACY, NULL, CHECK_FAIL,
	  "re-ran `RUN npm ci --omit=dev`: step 5/15 `COPY . .` came before it", NULL, "copy-all-before-install",
	  { "install=\"npm ci\"" } },
	{ "pip in a Node image is not the dependency step, BuildKit", "pip-in-node", BUILDER_BUILDKIT, NULL,
	  CHECK_FAIL, "re-ran `RUN npm ci --omit=dev`", NULL, "copy-all-before-install", { "install=\"npm ci\"" } },
	{ "pip counts when the phase lists it", "pip-in-node", BUILDER_LEGACY,
	  "{\"installers\": [\"pip\", \"npm\"]}", CHECK_PASS,
	  "step 3/15 `RUN pip install awscli` came from the cache; the lesson uses `npm ci`", NULL, NULL,
	  { "installer=\"pip install\"" } },
	/* Python: the lesson's pip install, and the others (stubs of the tools: no Node base has Python) */
	{ "pip install -r requirements.txt, legacy", "pip", BUILDER_LEGACY, PY, CHECK_PASS,
	  "step 5/12 `RUN pip install --no-cache-dir -r requirements.txt` came from the cache", NULL, NULL,
	  { "!installer" } },
	{ "pip install -r requirements.txt, BuildKit", "pip", BUILDER_BUILDKIT, PY, CHECK_PASS,
	  "step [builder 5/6] `RUN pip install --no-cache-dir -r requirements.txt` came from the cache", NULL, NULL,
	  { "!installer" } },
	{ "pip install after COPY . ., legacy", "pip-late", BUILDER_LEGACY, PY, CHECK_FAIL,
	  "re-ran `RUN pip install --no-cache-dir -r requirements.txt`: step 4/11 `COPY . .` came before it",
	  "`COPY requirements.txt ./`, then `RUN pip install --no-cache-dir -r requirements.txt`, and only then",
	  "copy-all-before-install", { "corrected=\"COPY requirements.txt ./\"", "install=\"pip install\"" } },
	{ "pip install after COPY . ., BuildKit", "pip-late", BUILDER_BUILDKIT, PY, CHECK_FAIL,
	  "re-ran `RUN pip install --no-cache-dir -r requirements.txt`: step [builder 4/5] `COPY . .`",
	  "`COPY requirements.txt ./`", "copy-all-before-install", { "install=\"pip install\"" } },
	{ "poetry install after pip installs poetry, legacy", "poetry", BUILDER_LEGACY, PY, CHECK_PASS,
	  "`RUN pip install poetry==1.8.3 && poetry install --no-root --only main` came from the cache; the lesson "
	  "uses `pip install`", NULL, NULL, { "installer=\"poetry install\"", "lesson=\"pip install\"" } },
	{ "poetry install after pip installs poetry, BuildKit", "poetry", BUILDER_BUILDKIT, PY, CHECK_PASS,
	  "came from the cache; the lesson uses `pip install`", NULL, NULL, { "installer=\"poetry install\"" } },
	{ "uv sync, legacy", "uv", BUILDER_LEGACY, PY, CHECK_PASS,
	  "step 5/12 `RUN uv sync --frozen --no-dev` came from the cache; the lesson uses `pip install`", NULL, NULL,
	  { "installer=\"uv sync\"" } },
	{ "uv sync, BuildKit", "uv", BUILDER_BUILDKIT, PY, CHECK_PASS,
	  "step [builder 5/6] `RUN uv sync --frozen --no-dev` came from the cache", NULL, NULL,
	  { "installer=\"uv sync\"" } },
	{ "uv pip install, legacy", "uv-pip", BUILDER_LEGACY, PY, CHECK_PASS,
	  "`RUN uv pip install --system -r requirements.txt` came from the cache; the lesson uses `pip install`",
	  NULL, NULL, { "installer=\"uv pip install\"" } },
	{ "uv pip install, BuildKit", "uv-pip", BUILDER_BUILDKIT, PY, CHECK_PASS,
	  "`RUN uv pip install --system -r requirements.txt` came from the cache", NULL, NULL,
	  { "installer=\"uv pip install\"" } },
	/* what the phase may say */
	{ "an installer phaselab does not know", "npm-install", BUILDER_LEGACY, "{\"installers\": [\"npn\"]}",
	  CHECK_ERROR, "the phase's installers name 'npn', which is no installer phaselab knows", NULL, NULL },
	{ "a step no installer names is searched as text, as before", "npm-install", BUILDER_LEGACY,
	  "{\"step\": \"npm run build\"}", CHECK_FAIL, "editing src/app.js re-ran `RUN npm run build`",
	  "copy only the dependency manifests", "copy-all-before-install", { "install=\"npm run build\"" } },
	{ "a step no installer names, with the installers listed: they decide", "npm-install", BUILDER_LEGACY,
	  "{\"step\": \"make deps\", \"installers\": [\"npm\"]}", CHECK_PASS,
	  "`RUN npm install --omit=dev` came from the cache; the lesson uses `make deps`", NULL, NULL,
	  { "installer=\"npm install\"", "lesson=\"make deps\"" } },
	{ "Python's step on a Node build: no install of its language", "npm-install", BUILDER_BUILDKIT, PY,
	  CHECK_FAIL, "none runs `pip install` or another install with pip, uv, poetry, pipenv or pdm (the rebuild "
	  "had 11 steps)", "`RUN pip install` in its own step", "install-step-not-found",
	  { "line=\"RUN npm install --omit=dev\"", "install=\"pip install\"" } },
};

/* The lab's service with the case's files over it (its Dockerfile, a lock file...). */
static void make_service(struct check_env *t, const char *dir)
{
	char *root = test_repo_root();
	char *src = xasprintf("%s/labs/services/user-service", root);
	char *overlay = xasprintf("%s/tests/fixtures/engine/installers/%s/service", root, dir);
	struct strbuf err = STRBUF_INIT;
	DIR *d;
	struct dirent *de;

	t->service = xasprintf("%s/service", t->tmp);
	if (copy_tree(src, t->service, NULL, NULL, 64 << 20, &err) < 0)
		fail_msg("cannot copy the service: %s", err.buf);
	if (!(d = opendir(overlay)))
		fail_msg("no case folder '%s'", overlay);
	while ((de = readdir(d))) {
		struct strbuf text = STRBUF_INIT;
		char *from, *to;

		if (de->d_name[0] == '.')
			continue;
		from = xasprintf("%s/%s", overlay, de->d_name);
		to = xasprintf("%s/%s", t->service, de->d_name);
		if (read_file_nofollow(from, 1 << 20, &text) < 0 || write_file_atomic(to, text.buf, text.len) < 0)
			fail_msg("cannot copy '%s'", from);
		strbuf_release(&text);
		free(from);
		free(to);
	}
	closedir(d);
	strbuf_release(&err);
	free(overlay);
	free(src);
	free(root);
}

static void setup_env(struct check_env *t, const struct cache_case *c, struct fake_engine *fe)
{
	check_env_open(t, "phases/03-containerization/phase.json", "phaselab-test-layer-cache");
	make_service(t, c->dir);
	check_env_start(t, fe);
}

/* Every {placeholder} of the cause's tiers in phase 3 is a key of the evidence: no hint reads "install line". */
static void assert_tiers_filled(const struct cache_case *c, const struct check_def *def, const struct check_result *res)
{
	const struct check_cause *cc = check_def_cause(def, res->cause);

	if (!cc)
		fail_msg("%s: phase 3 has no hints for cause %s", c->name, res->cause);
	for (size_t i = 0; i < cc->ntiers; i++)
		for (const char *p = strchr(cc->tiers[i], '{'); p; p = strchr(p + 1, '{')) {
			size_t n = strspn(p + 1, "abcdefghijklmnopqrstuvwxyz0123456789_-");
			char *key;

			if (!n || p[1 + n] != '}')
				continue;
			key = xstrndup(p + 1, n);
			if (!json_object_get(res->evidence, key))
				fail_msg("%s: tier %zu of %s needs {%s}, which the evidence lacks", c->name, i + 1,
					 res->cause, key);
			free(key);
		}
}

static void assert_case(const struct cache_case *c, const struct check_def *def, const struct check_result *res)
{
	char *ev = json_dumps(res->evidence, JSON_COMPACT | JSON_SORT_KEYS);

	if (res->status != c->status)
		fail_msg("%s: status %s, not %s: %s (hint: %s)", c->name, check_status_name(res->status),
			 check_status_name(c->status), res->message, res->hint ? res->hint : "none");
	if (!res->message || !strstr(res->message, c->message))
		fail_msg("%s: the message does not say '%s': %s", c->name, c->message, res->message);
	if (c->hint && (!res->hint || !strstr(res->hint, c->hint)))
		fail_msg("%s: the hint does not say '%s': %s", c->name, c->hint, res->hint ? res->hint : "(none)");
	if (!c->hint && res->status != CHECK_FAIL && res->hint)
		fail_msg("%s: a hint where none was expected: %s", c->name, res->hint);
	if ((c->cause || res->cause) && (!c->cause || !res->cause || strcmp(c->cause, res->cause)))
		fail_msg("%s: cause %s, not %s", c->name, res->cause ? res->cause : "(none)",
			 c->cause ? c->cause : "(none)");
	for (size_t i = 0; i < ARRAY_SIZE(c->evidence) && c->evidence[i]; i++) {
		const char *want = c->evidence[i];
		const char *eq = strchr(want, '=');
		char *key = *want == '!' ? xstrdup(want + 1) : eq ? xstrndup(want, (size_t)(eq - want)) : xstrdup(want);
		json_t *got = json_object_get(res->evidence, key);

		if (*want == '!' && got)
			fail_msg("%s: evidence '%s' where none was expected: %s", c->name, key, ev);
		if (*want != '!' && !got)
			fail_msg("%s: no evidence '%s' in %s", c->name, key, ev);
		if (*want != '!' && eq) {
			json_t *value = json_loads(eq + 1, JSON_DECODE_ANY, NULL);
			if (!value || !json_equal(got, value))
				fail_msg("%s: evidence %s is not %s: %s", c->name, key, eq + 1, ev);
			json_decref(value);
		}
		free(key);
	}
	if (res->cause)
		assert_tiers_filled(c, def, res);
	free(ev);
}

/* One case as the driver runs it: the image, the background rebuild, then the check. */
static void run_case(const struct cache_case *c)
{
	struct fake_engine fe = { 0 };
	struct check_env t;
	struct check_def def;
	struct check_result res;
	const char *b = c->builder == BUILDER_BUILDKIT ? "buildkit" : "legacy";
	char *built = xasprintf("tests/fixtures/engine/installers/%s/%s-built.txt", c->dir, b);
	char *rebuilt = xasprintf("tests/fixtures/engine/installers/%s/%s-rebuilt.txt", c->dir, b);

	fe.builder = c->builder;
	fe.builds[0] = (struct fake_build){ .output = built };
	fe.builds[1] = (struct fake_build){ .output = c->rebuilt_output ? c->rebuilt_output : rebuilt };
	fe.builds[2] = (struct fake_build){ .output = c->retry_output };
	fe.rebuilt_inspect = c->rebuilt_inspect;
	fe.image_inspect = "image-inspect.json";
	fe.history = "history.jsonl";
	if (c->image_config) {
		fe.image_config = c->image_config;
		fe.layers = "layers-witness.jsonl";
	}
	setup_env(&t, c, &fe);
	{
		const struct check_def *d = phase_check(&t.ph, "cache");
		assert_non_null(d);
		def = *d;
		def.params = c->params ? json_loads(c->params, 0, NULL) : json_incref(d->params);
		assert_non_null(def.params);
	}
	memset(&res, 0, sizeof(res));
	if (ctx_need_image(&t.ctx) < 0)
		fail_msg("%s: no image: %s", c->name, t.ctx.build_failure);
	def.kind->start(&t.ctx, &def);
	def.kind->run(&t.ctx, &def, &res);
	if (!res.evidence)
		res.evidence = json_object();
	if (fe.calls[FAKE_BUILD] != (c->retry_output ? 3u : 2u))
		fail_msg("%s: %u builds, not %d", c->name, fe.calls[FAKE_BUILD], c->retry_output ? 3 : 2);
	assert_case(c, &def, &res);
	check_result_release(&res);
	json_decref(def.params);
	check_env_close(&t);
	free(built);
	free(rebuilt);
}

static void test_cache_cases(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cache_cases); i++)
		run_case(&cache_cases[i]);
}

/* Every case folder has its recordings, and every recording a case: none is kept that nothing reads. */
static void test_cases_cover_recordings(void **state)
{
	char *root = test_repo_root();
	char *dir = xasprintf("%s/tests/fixtures/engine/installers", root);
	DIR *d = opendir(dir);
	struct dirent *de;

	(void)state;
	assert_non_null(d);
	while ((de = readdir(d))) {
		int used = 0;

		if (de->d_name[0] == '.')
			continue;
		for (size_t i = 0; i < ARRAY_SIZE(cache_cases); i++)
			used |= !strcmp(cache_cases[i].dir, de->d_name);
		if (!used)
			fail_msg("tests/fixtures/engine/installers/%s: no case reads it", de->d_name);
	}
	closedir(d);
	free(dir);
	free(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scan),
		cmocka_unit_test(test_step),
		cmocka_unit_test(test_scan_hostile),
		cmocka_unit_test(test_cache_cases),
		cmocka_unit_test(test_cases_cover_recordings),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
