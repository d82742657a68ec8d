/*
 * installer: which commands of a Dockerfile's RUN instruction install a
 * project's dependencies, and with which tool: `npm ci`, `npm install`,
 * `yarn`, `pnpm install`, `bun install` for Node; `pip install`,
 * `poetry install`, `uv sync`, `uv pip install`, `pipenv install`,
 * `pdm install` for Python.
 *
 * The instruction is read as the shell reads it, not searched for a
 * substring: `RUN echo npm ci` installs nothing, and neither does
 * `RUN npm i -g pnpm` (a tool, not the project's dependencies) nor
 * `RUN pip install --upgrade pip`.  What is understood:
 *
 *  - BuildKit's flags before the command (`RUN --mount=type=cache,... npm ci`);
 *  - the exec form (`RUN ["npm", "ci"]`), and a shell in it
 *    (`RUN ["/bin/sh", "-c", "npm ci"]`);
 *  - a list of commands joined by `&&`, `||`, `;`, `|`, `&` and newlines,
 *    with `if`/`then`/`else`/`fi`, `{ }` and `( )` around them;
 *  - quotes and backslashes, comments, redirections (`> /dev/null 2>&1`);
 *  - what runs another command: variable assignments (`NODE_ENV=production
 *    npm ci`), `env`, `sudo`, `exec`, `time`, `nice`, `nohup`, `command`,
 *    `corepack`, `npx`, a shell's `-c` script (`sh -c "npm ci"`, `bash -ec
 *    '...'`), and `python -m pip`;
 *  - a program by its path (`/usr/local/bin/pip3.11`).
 *
 * Variables are not expanded and heredocs are not read: a command hidden
 * that way is not found.  Like lib/dockerfile.h this never decides a check
 * on its own: the build's log says what ran and what came from the cache.
 */
#ifndef PHASELAB_INSTALLER_H
#define PHASELAB_INSTALLER_H

#include <stddef.h>

struct install_cmd {
	/* the tool, as the `installers` lists of a phase name it: "npm", "pip" (static) */
	const char *tool;
	/*
	 * The install as the lessons name it (static): "npm ci" (also for
	 * `npm clean-install`), "npm install" (`npm i`, `npm add`), "yarn
	 * install" (also a bare `yarn`), "pnpm install", "pnpm fetch", "bun
	 * install", "pip install" (`pip3`, `python -m pip`), "uv sync", "uv pip
	 * install", "uv pip sync", "poetry install", "poetry sync", "pipenv
	 * install", "pipenv sync", "pdm install", "pdm sync".
	 */
	const char *name;
	/* "node" or "python" (static) */
	const char *language;
	/*
	 * What holds the install to the lock file (static): a flag or command
	 * that fails the install when the lock disagrees with the manifest
	 * ("npm ci", "--frozen-lockfile", "--immutable", "--locked", "--frozen",
	 * "--deploy"), or one that installs from the lock file alone ("pnpm
	 * fetch", "pipenv sync"); NULL when nothing does.
	 */
	const char *locked;
};

#define INSTALL_CMDS_MAX 8

/*
 * The installs instruction runs, in the order they appear (at most max, and
 * at most INSTALL_CMDS_MAX).  instruction is the whole instruction as the
 * Dockerfile or the builder's log has it, keyword included ("RUN npm ci",
 * case-insensitive keyword); any other keyword runs nothing.  Returns how
 * many were written to out.  Untrusted input: any bytes, any length.
 */
size_t install_cmds_scan(const char *instruction, struct install_cmd *out, size_t max);

/*
 * The install a phase's step names ("npm ci", "pip install -r
 * requirements.txt", "yarn"): its command, read as a RUN of it would be
 * but without refusing what names no package (`pip install` alone is the
 * lesson's pip install).  0 and *out filled, or -1 when it is no install
 * this file knows.
 */
int install_cmd_of_step(const char *step, struct install_cmd *out);

/* The language of a tool ("npm" -> "node", "uv" -> "python"), or NULL for a tool not known here. */
const char *installer_language(const char *tool);

/*
 * The tools of a language, space-separated (static): "npm yarn pnpm bun",
 * "pip uv poetry pipenv pdm"; NULL for another language.
 */
const char *installer_tools(const char *language);

/*
 * The files an install (its name, as in struct install_cmd) reads, for
 * quoting a corrected COPY (static): "package.json package-lock.json" for
 * npm, "package.json yarn.lock" for yarn, "requirements.txt" for pip,
 * "pyproject.toml poetry.lock" for poetry...; NULL for another name.
 */
const char *installer_manifests(const char *name);

#endif
