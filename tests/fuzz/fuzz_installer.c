/*
 * The reader of a Dockerfile's RUN instruction (lib/installer.h): any bytes
 * through install_cmds_scan(), shell form and exec form, and through
 * install_cmd_of_step() as a phase's step.
 *
 * The input is the instruction, up to its first NUL byte (the reader takes a
 * C string).  One that does not open with the keyword RUN and a blank is
 * scanned as it is (it must run nothing), then again as "RUN " followed by
 * it, so that mutations need not keep the keyword to reach the shell reader;
 * the text after the keyword and its blank is the body, also read as a step.
 *
 * What is checked, on every install reported: its name is one the header
 * lists, with that name's tool and language (installer_language() and
 * installer_tools() agree), a `locked` that name can have, and manifests
 * (installer_manifests()); the tool, and a `locked` that is a flag, are
 * words of the input, so when the input has no JSON "\u" escape their
 * letters are a subsequence of the body (undoing quotes and backslashes only
 * removes characters).  Then: at most INSTALL_CMDS_MAX, and at most max,
 * the first ones of a longer scan, nothing written to out past the count;
 * the same answer twice, and with the keyword in lower case; and a step that
 * a RUN of it finds an install in is an install too (a step is read more
 * leniently, never more strictly) when the body opens with neither
 * BuildKit's "--" flags nor the exec form's '['.
 */
#include "fuzz.h"

#include "lib/installer.h"

#include <strings.h>

/* The installs of the header: name, tool, language, and the `locked` each can have ("" for NULL). */
static const struct known {
	const char *name, *tool, *language;
	const char *locked[3];
} known[] = {
	{ "npm ci", "npm", "node", { "npm ci" } },
	{ "npm install", "npm", "node", { "" } },
	{ "yarn install", "yarn", "node", { "", "--frozen-lockfile", "--immutable" } },
	{ "pnpm install", "pnpm", "node", { "", "--frozen-lockfile" } },
	{ "pnpm fetch", "pnpm", "node", { "pnpm fetch" } },
	{ "bun install", "bun", "node", { "", "--frozen-lockfile" } },
	{ "pip install", "pip", "python", { "" } },
	{ "uv sync", "uv", "python", { "", "--locked", "--frozen" } },
	{ "uv pip install", "uv", "python", { "" } },
	{ "uv pip sync", "uv", "python", { "" } },
	{ "poetry install", "poetry", "python", { "" } },
	{ "poetry sync", "poetry", "python", { "" } },
	{ "pipenv install", "pipenv", "python", { "", "--deploy" } },
	/*
	 * The header's list of `locked` values leaves this one out; the
	 * implementation and layer-cache.c's message ("holds to the lock file
	 * as `pipenv sync` does") have it.
	 */
	{ "pipenv sync", "pipenv", "python", { "pipenv sync" } },
	{ "pdm install", "pdm", "python", { "" } },
	{ "pdm sync", "pdm", "python", { "" } },
};

#define NKNOWN (sizeof(known) / sizeof(known[0]))
/* room past INSTALL_CMDS_MAX, to see nothing is written there */
#define OUT_ROOM (INSTALL_CMDS_MAX + 4)

static const char canary_text[] = "canary";
static const struct install_cmd canary = { canary_text, canary_text, canary_text, canary_text };

static void fill_canary(struct install_cmd *out, size_t n)
{
	for (size_t i = 0; i < n; i++)
		out[i] = canary;
}

static int is_canary(const struct install_cmd *c)
{
	return c->tool == canary_text && c->name == canary_text && c->language == canary_text &&
	       c->locked == canary_text;
}

static int same_cmd(const struct install_cmd *a, const struct install_cmd *b)
{
	return a->tool == b->tool && a->name == b->name && a->language == b->language && a->locked == b->locked;
}

/* Whether the characters of word appear in text, in order. */
static int subsequence(const char *word, const char *text)
{
	for (; *word; word++) {
		text = strchr(text, *word);
		if (!text)
			return 0;
		text++;
	}
	return 1;
}

/* A space-separated list holds word. */
static int in_words(const char *list, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = list; (p = strstr(p, word)); p += n)
		if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
			return 1;
	return 0;
}

/* One reported install, found in body (the text after the keyword); form says which call. */
static void check_cmd(const struct install_cmd *c, const char *body, int plain, const char *form)
{
	const struct known *k = NULL;
	const char *tools, *locked = c->locked ? c->locked : "";
	int ok = 0;

	FUZZ_CHECK(c->tool && c->name && c->language, "%s: a field is NULL", form);
	FUZZ_CHECK(!is_canary(c), "%s: a count past what was written", form);
	for (size_t i = 0; i < NKNOWN; i++)
		if (!strcmp(known[i].name, c->name))
			k = &known[i];
	FUZZ_CHECK(k, "%s: the install '%s' is none the header names", form, c->name);
	FUZZ_CHECK(!strcmp(k->tool, c->tool) && !strcmp(k->language, c->language), "%s: '%s' with the tool %s (%s)",
		   form, c->name, c->tool, c->language);
	for (size_t i = 0; i < 3 && k->locked[i]; i++)
		if (!strcmp(k->locked[i], locked))
			ok = 1;
	FUZZ_CHECK(ok, "%s: '%s' held to the lock file by '%s'", form, c->name, locked);
	FUZZ_CHECK(installer_language(c->tool) && !strcmp(installer_language(c->tool), c->language),
		   "%s: installer_language(%s) is not %s", form, c->tool, c->language);
	tools = installer_tools(c->language);
	FUZZ_CHECK(tools && in_words(tools, c->tool), "%s: installer_tools(%s) lacks %s", form, c->language, c->tool);
	FUZZ_CHECK(installer_manifests(c->name), "%s: no manifests for '%s'", form, c->name);
	if (plain) {
		FUZZ_CHECK(subsequence(c->tool, body), "%s: the tool %s is not in the input", form, c->tool);
		if (!strncmp(locked, "--", 2))
			FUZZ_CHECK(subsequence(locked, body), "%s: the flag %s is not in the input", form, locked);
	}
}

/* install_cmds_scan() on instr (which opens with the keyword): out[0..n) is the answer, n returned. */
static size_t check_scan(const char *instr, const char *body, int plain, struct install_cmd *out)
{
	struct install_cmd again[OUT_ROOM];
	size_t n, m, maxes[3], i, j;

	fill_canary(out, OUT_ROOM);
	n = install_cmds_scan(instr, out, OUT_ROOM);
	FUZZ_CHECK(n <= INSTALL_CMDS_MAX, "%zu installs", n);
	for (i = 0; i < n; i++)
		check_cmd(&out[i], body, plain, "install_cmds_scan");
	for (; i < OUT_ROOM; i++)
		FUZZ_CHECK(is_canary(&out[i]), "out[%zu] written, past the count %zu", i, n);

	/* the same answer again; and at most max, the first ones */
	maxes[0] = OUT_ROOM, maxes[1] = 0, maxes[2] = n > 1 ? n - 1 : 1;
	for (j = 0; j < 3; j++) {
		fill_canary(again, OUT_ROOM);
		m = install_cmds_scan(instr, again, maxes[j]);
		FUZZ_CHECK(m == (n < maxes[j] ? n : maxes[j]), "max %zu: %zu installs of %zu", maxes[j], m, n);
		for (i = 0; i < m; i++)
			FUZZ_CHECK(same_cmd(&again[i], &out[i]), "max %zu: install %zu is %s, not %s", maxes[j], i,
				   again[i].name, out[i].name);
		for (; i < OUT_ROOM; i++)
			FUZZ_CHECK(is_canary(&again[i]), "max %zu: out[%zu] written, past the count %zu", maxes[j], i, m);
	}
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct install_cmd out[OUT_ROOM], again[OUT_ROOM], step[2];
	char *text = fuzz_string(data, size), *instr, *lower;
	const char *body, *p;
	size_t n, m, len = strlen(text);
	int keyword = !strncasecmp(text, "RUN", 3) && (text[3] == ' ' || text[3] == '\t'), r, plain;

	if (keyword) {
		instr = text;
	} else {
		/* any other keyword runs nothing */
		fill_canary(out, OUT_ROOM);
		FUZZ_CHECK(install_cmds_scan(text, out, OUT_ROOM) == 0, "no keyword RUN, yet installs");
		FUZZ_CHECK(is_canary(&out[0]), "no keyword RUN, yet out[0] written");
		instr = malloc(len + 5);
		if (!instr)
			abort();
		memcpy(instr, "RUN ", 4);
		memcpy(instr + 4, text, len + 1);
	}
	body = instr + 4;
	plain = !strstr(body, "\\u");

	n = check_scan(instr, body, plain, out);

	/* the keyword in any case */
	lower = strdup(instr);
	if (!lower)
		abort();
	memcpy(lower, "run", 3);
	fill_canary(again, OUT_ROOM);
	m = install_cmds_scan(lower, again, OUT_ROOM);
	FUZZ_CHECK(m == n, "RUN finds %zu installs, run %zu", n, m);
	for (size_t i = 0; i < m; i++)
		FUZZ_CHECK(same_cmd(&again[i], &out[i]), "install %zu: RUN finds %s, run %s", i, out[i].name,
			   again[i].name);
	free(lower);

	/* the body as a phase's step: one install, or -1 */
	fill_canary(step, 2);
	r = install_cmd_of_step(body, step);
	FUZZ_CHECK(r == 0 || r == -1, "install_cmd_of_step returned %d", r);
	FUZZ_CHECK(is_canary(&step[1]), "install_cmd_of_step wrote past *out");
	if (r == 0)
		check_cmd(&step[0], body, plain, "install_cmd_of_step");
	else
		FUZZ_CHECK(is_canary(&step[0]), "install_cmd_of_step wrote *out and returned -1");
	for (p = body; *p == ' ' || *p == '\t'; p++)
		;
	if (n && *p != '[' && strncmp(p, "--", 2))
		FUZZ_CHECK(r == 0, "RUN %s finds %s, the step none", body, out[0].name);

	if (instr != text)
		free(instr);
	free(text);
	return 0;
}
