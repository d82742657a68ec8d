#include "lib/installer.h"
#include "lib/strbuf.h"
#include "lib/strvec.h"
#include "lib/xalloc.h"

#include <ctype.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A script inside a script inside ... (`sh -c "bash -c '...'"`): deeper is not followed. */
#define SCAN_DEPTH_MAX 4

struct scan {
	struct install_cmd *out;
	size_t n, max;
	int lenient;    /* a phase's step: the verb alone is an install */
	int depth;
};

static void scan_shell(struct scan *sc, const char *s, size_t len);

static int in_list(const char *w, const char *const *list)
{
	for (; *list; list++)
		if (!strcmp(w, *list))
			return 1;
	return 0;
}

/* NAME=value, as the shell takes a word before the command */
static int is_assignment(const char *w)
{
	const char *p = w;

	if (!isalpha((unsigned char)*p) && *p != '_')
		return 0;
	while (isalnum((unsigned char)*p) || *p == '_')
		p++;
	return *p == '=';
}

static const char *base_name(const char *w)
{
	const char *slash = strrchr(w, '/');
	return slash ? slash + 1 : w;
}

/* "pip", "pip3", "pip3.11"; "python", "python3.12" */
static int is_versioned(const char *w, const char *name)
{
	size_t n = strlen(name);

	if (strncmp(w, name, n))
		return 0;
	for (w += n; *w; w++)
		if (!isdigit((unsigned char)*w) && *w != '.')
			return 0;
	return 1;
}

static void add(struct scan *sc, const char *tool, const char *name, const char *language, const char *locked)
{
	if (sc->n >= sc->max)
		return;
	sc->out[sc->n].tool = tool;
	sc->out[sc->n].name = name;
	sc->out[sc->n].language = language;
	sc->out[sc->n].locked = locked;
	sc->n++;
}

/*
 * The index of the first word of w[i..n) that is no option (the verb), the
 * values of the options in takes_value skipped; n when there is none.
 */
static size_t verb_at(const char *const *w, size_t i, size_t n, const char *const *takes_value)
{
	while (i < n && w[i][0] == '-') {
		if (!strcmp(w[i], "--"))
			return i + 1;
		if (takes_value && !strchr(w[i], '=') && in_list(w[i], takes_value))
			i++;
		i++;
	}
	return i;
}

static int has_word(const char *const *w, size_t i, size_t n, const char *word)
{
	for (; i < n; i++)
		if (!strcmp(w[i], word))
			return 1;
	return 0;
}

/* -g, --global, --location=global, --location global: a tool for the machine, not the project's dependencies */
static int is_global(const char *const *w, size_t i, size_t n)
{
	for (; i < n; i++)
		if (!strcmp(w[i], "-g") || !strcmp(w[i], "--global") || !strcmp(w[i], "--location=global") ||
		    (!strcmp(w[i], "--location") && i + 1 < n && !strcmp(w[i + 1], "global")))
			return 1;
	return 0;
}

/* --- Node -------------------------------------------------------------------- */

static void npm(struct scan *sc, const char *const *w, size_t n)
{
	static const char *const values[] = { "--prefix", "-C", "--cache", "--userconfig", "--globalconfig",
		"--registry", "--loglevel", "--workspace", "-w", "--location", NULL };
	static const char *const ci[] = { "ci", "clean-install", "ic", "install-clean", "isntall-clean", NULL };
	static const char *const install[] = { "install", "i", "in", "ins", "inst", "insta", "instal", "isnt",
		"isnta", "isntal", "isntall", "add", NULL };
	size_t v = verb_at(w, 0, n, values);

	if (v >= n || (!sc->lenient && is_global(w, 0, n)))
		return;
	if (in_list(w[v], ci))
		add(sc, "npm", "npm ci", "node", "npm ci");
	else if (in_list(w[v], install))
		add(sc, "npm", "npm install", "node", NULL);
}

static void yarn(struct scan *sc, const char *const *w, size_t n)
{
	static const char *const values[] = { "--cwd", "--modules-folder", "--cache-folder", "--global-folder",
		"--link-folder", "--network-timeout", "--mutex", "--registry", "--use-yarnrc", "--proxy",
		"--https-proxy", NULL };
	size_t v = verb_at(w, 0, n, values);
	const char *locked = has_word(w, 0, n, "--frozen-lockfile") ? "--frozen-lockfile" :
			     has_word(w, 0, n, "--immutable") ? "--immutable" : NULL;

	/* a bare `yarn` installs; `yarn build` runs a script */
	if (v >= n || !strcmp(w[v], "install"))
		add(sc, "yarn", "yarn install", "node", locked);
}

static void pnpm(struct scan *sc, const char *const *w, size_t n)
{
	static const char *const values[] = { "-C", "--dir", "--filter", "-F", "--store-dir", "--reporter",
		"--loglevel", NULL };
	size_t v = verb_at(w, 0, n, values);

	if (v >= n || (!sc->lenient && is_global(w, 0, n)))
		return;
	if (!strcmp(w[v], "install") || !strcmp(w[v], "i"))
		add(sc, "pnpm", "pnpm install", "node",
		    has_word(w, v, n, "--frozen-lockfile") ? "--frozen-lockfile" : NULL);
	else if (!strcmp(w[v], "fetch")) /* what pnpm-lock.yaml names, into the store: pnpm's own Docker recipe */
		add(sc, "pnpm", "pnpm fetch", "node", "pnpm fetch");
}

static void bun(struct scan *sc, const char *const *w, size_t n)
{
	static const char *const values[] = { "--cwd", "-c", "--config", NULL };
	size_t v = verb_at(w, 0, n, values);

	if (v >= n || (!sc->lenient && is_global(w, 0, n)))
		return;
	if (!strcmp(w[v], "install") || !strcmp(w[v], "i"))
		add(sc, "bun", "bun install", "node",
		    has_word(w, v, n, "--frozen-lockfile") ? "--frozen-lockfile" : NULL);
}

/* --- Python ------------------------------------------------------------------ */

/* What installs the tools rather than the project: `pip install --upgrade pip`, `pip install poetry==1.8.3`. */
static int is_tool_package(const char *spec)
{
	static const char *const tools[] = { "pip", "setuptools", "wheel", "poetry", "poetry-core", "uv", "pipenv",
		"pdm", "virtualenv", "pip-tools", "hatch", "hatchling", "build", "flit", "flit-core", NULL };
	char name[64];
	size_t k = 0;

	for (const char *p = spec; *p && !strchr("[=<>!~;@ ", *p) && k + 1 < sizeof(name); p++)
		name[k++] = *p == '_' ? '-' : (char)tolower((unsigned char)*p);
	name[k] = '\0';
	return in_list(name, tools);
}

/*
 * pip install's words after the verb: an install of the dependencies when
 * it reads a manifest (-r, -e, a path) or names a package that is not a
 * packaging tool.
 */
static int pip_installs(const char *const *w, size_t i, size_t n)
{
	static const char *const values[] = { "-c", "--constraint", "-t", "--target", "-i", "--index-url",
		"--extra-index-url", "-f", "--find-links", "--prefix", "--root", "--src", "--platform",
		"--python-version", "--implementation", "--abi", "--upgrade-strategy", "--progress-bar",
		"--trusted-host", "--cache-dir", "--config-settings", "-C", "--global-option", "--only-binary",
		"--no-binary", "--report", "--log", "--proxy", "--retries", "--timeout", "--python", "-p", "--cert",
		"--client-cert", "--exists-action", "--keyring-provider", "--root-user-action", NULL };

	for (; i < n; i++) {
		const char *x = w[i];

		if (!strcmp(x, "-r") || !strcmp(x, "--requirement") || !strcmp(x, "-e") || !strcmp(x, "--editable") ||
		    !strncmp(x, "--requirement=", 14) || !strncmp(x, "--editable=", 11) ||
		    (x[0] == '-' && (x[1] == 'r' || x[1] == 'e') && x[2]))
			return 1;
		if (!strcmp(x, "--"))
			continue;
		if (x[0] == '-') {
			if (!strchr(x, '=') && in_list(x, values))
				i++;
			continue;
		}
		if (!is_tool_package(x))
			return 1;
	}
	return 0;
}

static const char *const pip_values[] = { "--cache-dir", "--log", "--proxy", "--retries", "--timeout", "--python",
	"--cert", "--client-cert", "--exists-action", "--trusted-host", "--use-feature", "--use-deprecated",
	"--keyring-provider", NULL };

static void pip(struct scan *sc, const char *const *w, size_t n)
{
	size_t v = verb_at(w, 0, n, pip_values);

	if (v < n && !strcmp(w[v], "install") && (sc->lenient || pip_installs(w, v + 1, n)))
		add(sc, "pip", "pip install", "python", NULL);
}

static void uv(struct scan *sc, const char *const *w, size_t n)
{
	static const char *const values[] = { "--directory", "--project", "--python", "-p", "--cache-dir",
		"--config-file", "--color", NULL };
	size_t v = verb_at(w, 0, n, values), p;

	if (v >= n)
		return;
	if (!strcmp(w[v], "sync")) {
		add(sc, "uv", "uv sync", "python",
		    has_word(w, v, n, "--locked") ? "--locked" : has_word(w, v, n, "--frozen") ? "--frozen" : NULL);
		return;
	}
	if (strcmp(w[v], "pip"))
		return;
	p = verb_at(w, v + 1, n, values);
	if (p < n && !strcmp(w[p], "install") && (sc->lenient || pip_installs(w, p + 1, n)))
		add(sc, "uv", "uv pip install", "python", NULL);
	else if (p < n && !strcmp(w[p], "sync"))
		add(sc, "uv", "uv pip sync", "python", NULL);
}

static void poetry(struct scan *sc, const char *const *w, size_t n)
{
	static const char *const values[] = { "-C", "--directory", "-P", "--project", NULL };
	size_t v = verb_at(w, 0, n, values);

	if (v < n && !strcmp(w[v], "install"))
		add(sc, "poetry", "poetry install", "python", NULL);
	else if (v < n && !strcmp(w[v], "sync"))
		add(sc, "poetry", "poetry sync", "python", NULL);
}

static void pipenv(struct scan *sc, const char *const *w, size_t n)
{
	static const char *const values[] = { "--python", NULL };
	size_t v = verb_at(w, 0, n, values);

	if (v < n && !strcmp(w[v], "install"))
		add(sc, "pipenv", "pipenv install", "python", has_word(w, v, n, "--deploy") ? "--deploy" : NULL);
	else if (v < n && !strcmp(w[v], "sync"))
		add(sc, "pipenv", "pipenv sync", "python", "pipenv sync");
}

static void pdm(struct scan *sc, const char *const *w, size_t n)
{
	static const char *const values[] = { "-p", "--project", NULL };
	size_t v = verb_at(w, 0, n, values);

	if (v < n && !strcmp(w[v], "install"))
		add(sc, "pdm", "pdm install", "python", NULL);
	else if (v < n && !strcmp(w[v], "sync"))
		add(sc, "pdm", "pdm sync", "python", NULL);
}

struct tool {
	const char *name;
	const char *language;
	void (*scan)(struct scan *sc, const char *const *w, size_t n);
};

static const struct tool tools[] = {
	{ "npm", "node", npm }, { "yarn", "node", yarn }, { "pnpm", "node", pnpm }, { "bun", "node", bun },
	{ "pip", "python", pip }, { "uv", "python", uv }, { "poetry", "python", poetry },
	{ "pipenv", "python", pipenv }, { "pdm", "python", pdm },
	{ NULL, NULL, NULL },
};

/* The tool a program name runs ("pip3.11" is pip, "pnpm@8.15.0" as npx names it is pnpm), or NULL. */
static const struct tool *tool_of(const char *word)
{
	const char *base = base_name(word);
	const char *at = strchr(base, '@');
	size_t len = at && at > base ? (size_t)(at - base) : strlen(base);

	if (is_versioned(base, "pip"))
		return &tools[4];
	for (const struct tool *t = tools; t->name; t++)
		if (strlen(t->name) == len && !strncmp(base, t->name, len))
			return t;
	return NULL;
}

/* --- the shell --------------------------------------------------------------- */

static int is_shell(const char *base)
{
	static const char *const shells[] = { "sh", "bash", "ash", "dash", "zsh", "ksh", "mksh", NULL };
	return in_list(base, shells);
}

/* One simple command's words, w[0..n). */
static void scan_words(struct scan *sc, const char *const *w, size_t n)
{
	static const char *const keywords[] = { "if", "then", "else", "elif", "fi", "do", "done", "while", "until",
		"!", "{", "}", "time", NULL };
	/* what runs the rest of the line, with the options that take a value */
	static const char *const env_values[] = { "-u", "--unset", "-C", "--chdir", "-S", "--split-string", NULL };
	static const char *const sudo_values[] = { "-u", "-g", "-h", "-p", "-C", "-D", "-r", "-t", "-U", NULL };
	static const char *const npx_values[] = { "-p", "--package", "-c", "--call", NULL };
	static const char *const plain[] = { "exec", "nohup", "command", "builtin", "nice", "stdbuf", NULL };
	static const char *const plain_values[] = { "-n", "--adjustment", "-a", "-i", "-o", "-e", NULL };
	size_t i = 0;

	for (;;) {
		const char *base;
		const struct tool *t;

		while (i < n && (is_assignment(w[i]) || in_list(w[i], keywords)))
			i++;
		if (i >= n)
			return;
		base = base_name(w[i]);
		if (!strcmp(base, "env")) {
			for (i++; i < n && (w[i][0] == '-' || is_assignment(w[i])); i++)
				if (!strchr(w[i], '=') && in_list(w[i], env_values))
					i++;
			continue;
		}
		if (!strcmp(base, "sudo") || !strcmp(base, "doas")) {
			i = verb_at(w, i + 1, n, sudo_values);
			continue;
		}
		if (in_list(base, plain)) {
			i = verb_at(w, i + 1, n, plain_values);
			continue;
		}
		if (!strcmp(base, "timeout")) {
			i = verb_at(w, i + 1, n, (const char *const[]){ "-s", "--signal", "-k", "--kill-after", NULL });
			i++; /* the duration */
			continue;
		}
		if (!strcmp(base, "npx") || !strcmp(base, "pnpx")) {
			i = verb_at(w, i + 1, n, npx_values);
			continue;
		}
		if (!strcmp(base, "corepack")) {
			/* `corepack yarn install`; `corepack enable` runs nothing of the project's */
			if (i + 1 < n && tool_of(w[i + 1])) {
				i++;
				continue;
			}
			return;
		}
		if (is_shell(base)) {
			/* sh -c SCRIPT, also -ec, -xc, -euxc: the script is the word after the options */
			size_t j = i + 1;
			int c = 0;

			for (; j < n && w[j][0] == '-' && strcmp(w[j], "--"); j++)
				if (w[j][1] != '-' && strchr(w[j] + 1, 'c'))
					c = 1;
			if (c && j < n && sc->depth < SCAN_DEPTH_MAX) {
				sc->depth++;
				scan_shell(sc, w[j], strlen(w[j]));
				sc->depth--;
			}
			return;
		}
		if (is_versioned(base, "python")) {
			/* python -m pip install ...: the module is the program */
			size_t j = i + 1;

			while (j < n && w[j][0] == '-' && strcmp(w[j], "-m") && strcmp(w[j], "-c"))
				j++;
			if (j + 1 < n && !strcmp(w[j], "-m") && (t = tool_of(w[j + 1])) != NULL)
				t->scan(sc, w + j + 2, n - j - 2);
			return;
		}
		t = tool_of(w[i]);
		if (t)
			t->scan(sc, w + i + 1, n - i - 1);
		return;
	}
}

static void end_command(struct scan *sc, struct strvec *words)
{
	if (words->nr)
		scan_words(sc, words->v, words->nr);
	strvec_clear(words);
}

/*
 * One word starting at s[*i], with quotes and backslashes undone, into
 * word; returns 1 when there was one.  Stops at a blank or an operator.
 */
static int read_word(const char *s, size_t len, size_t *i, struct strbuf *word)
{
	size_t k = *i;
	int any = 0;

	while (k < len) {
		char c = s[k];

		if (c == ' ' || c == '\t' || c == '\r' || strchr("\n;&|()<>", c))
			break;
		any = 1;
		if (c == '\'') {
			for (k++; k < len && s[k] != '\''; k++)
				strbuf_addch(word, s[k]);
			k++;
		} else if (c == '"') {
			for (k++; k < len && s[k] != '"'; k++) {
				if (s[k] == '\\' && k + 1 < len && strchr("\\\"$`\n", s[k + 1]))
					k++;
				strbuf_addch(word, s[k]);
			}
			k++;
		} else if (c == '\\') {
			if (k + 1 < len && s[k + 1] != '\n')
				strbuf_addch(word, s[k + 1]);
			k += 2;
		} else {
			strbuf_addch(word, c);
			k++;
		}
	}
	*i = k < len ? k : len;
	return any;
}

static void scan_shell(struct scan *sc, const char *s, size_t len)
{
	struct strvec words = STRVEC_INIT;
	struct strbuf word = STRBUF_INIT;
	size_t i = 0;

	while (i < len) {
		char c = s[i];

		if (c == ' ' || c == '\t' || c == '\r') {
			i++;
		} else if (strchr("\n;&|()", c)) {
			end_command(sc, &words);
			i++;
		} else if (c == '#') {
			/* a comment, where a word would start */
			while (i < len && s[i] != '\n')
				i++;
		} else if (c == '<' || c == '>') {
			/* a redirection: its operator and its target are no words of the command */
			while (i < len && strchr("<>&|", s[i]))
				i++;
			while (i < len && (s[i] == ' ' || s[i] == '\t'))
				i++;
			strbuf_reset(&word);
			read_word(s, len, &i, &word);
			strbuf_reset(&word);
		} else {
			size_t start = i;

			strbuf_reset(&word);
			read_word(s, len, &i, &word);
			/* "2>&1": the descriptor's number belongs to the redirection */
			if (i < len && (s[i] == '<' || s[i] == '>') && i - start == word.len &&
			    strspn(word.buf, "0123456789") == word.len)
				continue;
			strvec_push(&words, word.buf);
		}
	}
	end_command(sc, &words);
	strvec_clear(&words);
	strbuf_release(&word);
}

/* The exec form's words, when text is a JSON array of strings; else 0. */
static int exec_form(struct scan *sc, const char *text)
{
	json_t *arr = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
	struct strvec argv = STRVEC_INIT;
	size_t i;
	json_t *v;
	int ok = json_is_array(arr);

	json_array_foreach(ok ? arr : NULL, i, v) {
		if (!json_is_string(v)) {
			ok = 0;
			break;
		}
		strvec_push(&argv, json_string_value(v));
	}
	if (ok && argv.nr)
		scan_words(sc, argv.v, argv.nr);
	strvec_clear(&argv);
	json_decref(arr);
	return ok;
}

size_t install_cmds_scan(const char *instruction, struct install_cmd *out, size_t max)
{
	struct scan sc = { out, 0, max < INSTALL_CMDS_MAX ? max : INSTALL_CMDS_MAX, 0, 0 };
	const char *p = instruction;

	if (strncasecmp(p, "RUN", 3) || (p[3] != ' ' && p[3] != '\t'))
		return 0;
	for (p += 3;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		/* BuildKit's flags: --mount=..., --network=..., --security=... */
		if (strncmp(p, "--", 2))
			break;
		while (*p && *p != ' ' && *p != '\t')
			p++;
	}
	if (*p == '[' && exec_form(&sc, p))
		return sc.n;
	scan_shell(&sc, p, strlen(p));
	return sc.n;
}

int install_cmd_of_step(const char *step, struct install_cmd *out)
{
	struct scan sc = { out, 0, 1, 1, 0 };

	scan_shell(&sc, step, strlen(step));
	return sc.n ? 0 : -1;
}

const char *installer_language(const char *tool)
{
	for (const struct tool *t = tools; t->name; t++)
		if (!strcmp(t->name, tool))
			return t->language;
	return NULL;
}

const char *installer_tools(const char *language)
{
	if (!strcmp(language, "node"))
		return "npm yarn pnpm bun";
	if (!strcmp(language, "python"))
		return "pip uv poetry pipenv pdm";
	return NULL;
}

const char *installer_manifests(const char *name)
{
	static const char *const table[][2] = {
		{ "npm ci", "package.json package-lock.json" },
		{ "npm install", "package.json package-lock.json" },
		{ "yarn install", "package.json yarn.lock" },
		{ "pnpm install", "package.json pnpm-lock.yaml" },
		{ "pnpm fetch", "pnpm-lock.yaml" },
		{ "bun install", "package.json bun.lock" },
		{ "pip install", "requirements.txt" },
		{ "uv pip install", "requirements.txt" },
		{ "uv pip sync", "requirements.txt" },
		{ "uv sync", "pyproject.toml uv.lock" },
		{ "poetry install", "pyproject.toml poetry.lock" },
		{ "poetry sync", "pyproject.toml poetry.lock" },
		{ "pipenv install", "Pipfile Pipfile.lock" },
		{ "pipenv sync", "Pipfile Pipfile.lock" },
		{ "pdm install", "pyproject.toml pdm.lock" },
		{ "pdm sync", "pyproject.toml pdm.lock" },
	};

	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (!strcmp(table[i][0], name))
			return table[i][1];
	return NULL;
}
