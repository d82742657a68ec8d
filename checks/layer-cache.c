/*
 * layer-cache: after a source-only change, the dependency step comes from
 * the cache.  In a scratch copy of the build context (the learner's folder
 * is never written), one source file that is not a dependency manifest is
 * edited and the image rebuilt; the build's parsed steps (engine.h) say
 * whether the step that installs the dependencies was reused.  The rebuild
 * starts in the background as soon as the image exists, so it overlaps the
 * runtime checks.
 *
 * The dependency step is the RUN that installs with one of the installers
 * (lib/installer.h: `npm ci`, `npm install`, `yarn`, `pnpm install`, `pip
 * install`, `poetry install`, `uv sync`...), read from its words, whatever
 * the lesson's own `step` is; a pass says so when it is not the lesson's.
 *
 * Two witnesses say whether it was reused: the rebuild's log, and the
 * images' layers (layer-witness.h), which measure: when they disagree the
 * layers decide and the message says so; when the log does not show the
 * step, the layers alone decide.  Both go in the evidence.
 */
#include "core/check.h"
#include "engine/layerwitness.h"
#include "lib/dfstages.h"
#include "lib/fsutil.h"
#include "lib/ignore.h"
#include "lib/installer.h"
#include "lib/interrupt.h"
#include "lib/xalloc.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

static const struct key_spec params[] = {
	{ "step", KEY_STRING, 0, 1, 200, "the lesson's dependency step, which notes and hints name", "npm ci" },
	{ "installers", KEY_STRINGS, 0, 1, 16, "the tools whose install is the dependency step (npm yarn pnpm bun "
	  "pip uv poetry pipenv pdm); absent: those of the step's language", NULL },
	{ "manifests", KEY_STRINGS, 0, 1, 32, "dependency manifests, never edited",
	  "package.json package-lock.json npm-shrinkwrap.json yarn.lock pnpm-lock.yaml "
	  "requirements.txt pyproject.toml poetry.lock uv.lock Pipfile Pipfile.lock setup.py" },
	{ NULL, 0, 0, 0, 0, NULL, NULL },
};

#define CONTEXT_MAX_BYTES (2ULL << 30)

struct cache_state {
	char context[PATH_MAX];
	char iidfile[PATH_MAX];
	char edited[PATH_MAX];
	char failure[512];
};

struct copy_ctx {
	struct ignore_rules *rules;
};

/*
 * Leave out what the engine would leave out, but never the Dockerfile or
 * an ignore file (podman reads .containerignore, docker .dockerignore; the
 * rules are those of the file the engine reads, in its matcher).  An excluded folder that a '!' pattern may reach into is
 * copied and its contents judged one by one; the engine applies the same
 * rules to the copy, so its extra empty folders never reach the build.
 */
static int context_filter(void *vctx, const char *rel, int is_dir)
{
	struct copy_ctx *c = vctx;

	if (!strcmp(rel, "Dockerfile") || !strcmp(rel, ".dockerignore") || !strcmp(rel, ".containerignore"))
		return 0;
	if (!c->rules)
		return 0;
	return is_dir ? ignore_excludes_all_under(c->rules, rel) : ignore_excluded(c->rules, rel);
}

static int is_manifest(const struct check_def *def, const char *base)
{
	json_t *list = param_strs(def, "manifests"), *v;
	size_t i;
	int found = 0;

	json_array_foreach(list, i, v)
		found |= !strcmp(base, json_string_value(v));
	json_decref(list);
	return found;
}

static int is_source(const char *name)
{
	static const char *const exts[] = { ".js", ".mjs", ".cjs", ".ts", ".jsx", ".tsx", ".py", NULL };
	const char *dot = strrchr(name, '.');

	for (const char *const *e = exts; dot && *e; e++)
		if (!strcmp(dot, *e))
			return 1;
	return 0;
}

/*
 * The best source file to edit under dir (relative rel): sources under src/
 * first, then anywhere but the installed dependencies (node_modules, a
 * Python virtual environment) and bytecode.  best receives the relative path.
 */
static void find_source(const struct check_def *def, const char *root, const char *rel,
			char *best, int *best_rank)
{
	char *path = *rel ? xasprintf("%s/%s", root, rel) : xstrdup(root);
	DIR *d = opendir(path);
	struct dirent *de;

	while (d && (de = readdir(d))) {
		char *child;
		struct stat sb;
		int rank;

		if (de->d_name[0] == '.' || !strcmp(de->d_name, "node_modules") || !strcmp(de->d_name, "venv") ||
		    !strcmp(de->d_name, "__pycache__"))
			continue;
		child = *rel ? xasprintf("%s/%s", rel, de->d_name) : xstrdup(de->d_name);
		{
			char *full = xasprintf("%s/%s", root, child);
			int st = lstat(full, &sb);
			free(full);
			if (st < 0) {
				free(child);
				continue;
			}
		}
		if (S_ISDIR(sb.st_mode)) {
			find_source(def, root, child, best, best_rank);
		} else if (S_ISREG(sb.st_mode) && is_source(de->d_name) && !is_manifest(def, de->d_name)) {
			rank = !strncmp(child, "src/", 4) ? 2 : 1;
			/* the first in name order among equals, so runs are repeatable */
			if (rank > *best_rank || (rank == *best_rank && strcmp(child, best) < 0)) {
				*best_rank = rank;
				snprintf(best, PATH_MAX, "%s", child);
			}
		}
		free(child);
	}
	if (d)
		closedir(d);
	free(path);
}

static int is_python(const char *name)
{
	const char *dot = strrchr(name, '.');
	return dot && !strcmp(dot, ".py");
}

static int edit_source(struct cache_state *st, const struct check_def *def, const char *mark)
{
	char best[PATH_MAX] = "";
	int rank = 0, fd;
	char *path, *line;

	find_source(def, st->context, "", best, &rank);
	if (!*best)
		snprintf(best, sizeof(best), "phaselab-cache-probe.js");
	snprintf(st->edited, sizeof(st->edited), "%s", best);
	path = xasprintf("%s/%s", st->context, best);
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
	free(path);
	if (fd < 0)
		return -1;
	/* a comment in the file's own language: a build step may compile or lint it */
	line = xasprintf("\n%s phaselab: a source-only change, to see the dependency layer reused (%s)\n",
			 is_python(best) ? "#" : "//", mark);
	if (write(fd, line, strlen(line)) < 0) {
		free(line);
		close(fd);
		return -1;
	}
	free(line);
	return close(fd);
}

/* Start the rebuild of the scratch copy in the background (ctx->background).  0, or -1 with st->failure. */
static int start_rebuild(struct check_ctx *ctx, struct cache_state *st)
{
	struct build_request req = { 0 };

	req.context = st->context;
	req.iidfile = st->iidfile;
	req.timeout_ms = ctx->phase->build_timeout_ms;
	req.background = 1;
	req.max_output = 4u << 20;
	ctx->background = xcalloc(1, sizeof(*ctx->background));
	*ctx->background = (struct engine_job)ENGINE_JOB_INIT;
	if (engine_build_start(ctx->engine, &req, ctx->background) < 0) {
		snprintf(st->failure, sizeof(st->failure), "%s", ctx->engine->err.buf);
		free(ctx->background);
		ctx->background = NULL;
		return -1;
	}
	return 0;
}

static int start(struct check_ctx *ctx, const struct check_def *def)
{
	struct cache_state *st = xcalloc(1, sizeof(*st));
	struct copy_ctx cc = { 0 };
	struct strbuf err = STRBUF_INIT;

	ctx->background_state = st;
	snprintf(st->context, sizeof(st->context), "%s/cache-context", ctx->run->path);
	snprintf(st->iidfile, sizeof(st->iidfile), "%s/cache.iid", ctx->run->path);

	if (ignore_load_file(ctx->dir, ignore_engine_file(ctx->dir, ctx->engine->kind),
			     ignore_engine_flavour(ctx->engine->kind, ctx->engine->client_version), &cc.rules, &err) < 0)
		strbuf_reset(&err); /* unreadable ignore file: copy everything, the build-context check reports it */
	if (copy_tree(ctx->dir, st->context, context_filter, &cc, CONTEXT_MAX_BYTES, &err) < 0) {
		snprintf(st->failure, sizeof(st->failure), "cannot make the scratch copy: %s", err.buf);
		goto out;
	}
	if (edit_source(st, def, ctx->engine->run_id) < 0) {
		snprintf(st->failure, sizeof(st->failure), "cannot edit '%.300s' in the scratch copy: %s",
			 st->edited, strerror(errno));
		goto out;
	}
	start_rebuild(ctx, st);
out:
	ignore_free(cc.rules);
	strbuf_release(&err);
	return 0;
}

/* An instruction with its blanks squeezed to one space and its keyword in capitals, into sb. */
static void squeeze(struct strbuf *sb, const char *s)
{
	int keyword = 1;

	while (isspace((unsigned char)*s))
		s++;
	for (; *s; s++) {
		if (isspace((unsigned char)*s)) {
			keyword = 0;
			if (sb->len && sb->buf[sb->len - 1] != ' ')
				strbuf_addch(sb, ' ');
		} else {
			strbuf_addch(sb, keyword ? (char)toupper((unsigned char)*s) : *s);
		}
	}
	strbuf_rtrim(sb);
}

/*
 * Do a Dockerfile's instruction and a step the builder printed read the
 * same?  Both builders print a continued line with the next line's indent
 * (lib/dockerfile.h joins with one space); the legacy builder prints the
 * keyword as written, BuildKit in capitals.
 */
static int same_instruction(const char *a, const char *b)
{
	struct strbuf x = STRBUF_INIT, y = STRBUF_INIT;
	int same;

	squeeze(&x, a);
	squeeze(&y, b);
	same = !strcmp(x.buf, y.buf);
	strbuf_release(&x);
	strbuf_release(&y);
	return same;
}

/* The Dockerfile's instruction a build step printed (borrowed from df), or NULL. */
static const struct df_instr *instr_of(const struct df_instrs *df, const char *printed)
{
	for (size_t i = 0; i < df->n; i++)
		if (same_instruction(df->v[i].text, printed))
			return &df->v[i];
	/* BuildKit and the legacy builder may respace a line: the first word and what follows, loosely */
	for (size_t i = 0; i < df->n; i++)
		if (!strncasecmp(printed, df->v[i].keyword, strlen(df->v[i].keyword)) && strstr(printed, df->v[i].args))
			return &df->v[i];
	return NULL;
}

/* Does a COPY or ADD copy the whole context ("COPY . .", "ADD . /app"), not an earlier stage's files? */
static int copies_all(const char *args)
{
	struct df_copy c;
	int all;

	df_copy_read(&c, args);
	all = !c.from && !c.unreadable && c.n && (!strcmp(c.w[0], ".") || !strcmp(c.w[0], "./"));
	df_copy_release(&c);
	return all;
}

/* The same for a step as the builder printed it ("COPY . ."). */
static int step_copies_all(const char *instruction)
{
	const char *args = df_copy_args(instruction);

	return args && copies_all(args);
}

/* --- which step installs the dependencies ------------------------------------ */

struct judge {
	const char *step;             /* the lesson's step, as the phase writes it */
	struct install_cmd lesson;    /* what it installs with, when known */
	int known;                    /* the step is an install lib/installer.h knows */
	int scan;                     /* installs are read from the words (else the step's text is searched) */
	json_t *tools;                /* the tools whose install counts (new reference) */
};

/* 0, or -1 with the result set: the phase names an installer not known here. */
static int judge_init(struct judge *j, const struct check_def *def, struct check_result *res)
{
	json_t *listed = json_object_get(def->params, "installers"), *v;
	size_t i;

	memset(j, 0, sizeof(*j));
	j->step = param_str(def, "step");
	j->known = install_cmd_of_step(j->step, &j->lesson) == 0;
	j->scan = j->known || listed;
	if (listed) {
		j->tools = json_incref(listed);
		json_array_foreach(listed, i, v)
			if (!installer_language(json_string_value(v))) {
				result_set(res, CHECK_ERROR, "the phase's installers name '%s', which is no installer "
					   "phaselab knows (%s %s)", json_string_value(v), installer_tools("node"),
					   installer_tools("python"));
				return -1;
			}
		return 0;
	}
	j->tools = json_array();
	if (j->known) {
		/* the lesson's language: a Node image's `pip install awscli` installs no dependency of the service */
		char *words = xstrdup(installer_tools(j->lesson.language)), *tok, *save = NULL;

		for (tok = strtok_r(words, " ", &save); tok; tok = strtok_r(NULL, " ", &save))
			json_array_append_new(j->tools, json_string(tok));
		free(words);
	}
	return 0;
}

/* Is cmd the lesson's own installer? */
static int is_lessons(const struct judge *j, const struct install_cmd *cmd)
{
	return j->known && !strcmp(cmd->name, j->lesson.name);
}

static void judge_release(struct judge *j)
{
	json_decref(j->tools);
	j->tools = NULL;
}

static int counts(const struct judge *j, const char *tool)
{
	size_t i;
	json_t *v;

	json_array_foreach(j->tools, i, v)
		if (!strcmp(json_string_value(v), tool))
			return 1;
	return 0;
}

/*
 * The install of the dependencies an instruction runs, into cmd: the
 * lesson's own when it runs it among others (`if [ -f yarn.lock ]; then yarn;
 * else npm ci; fi`), else the first.  1 when there is one; 0 when there is
 * none, with *other set when it installs with a tool that does not count.
 */
static int counted_install(const struct judge *j, const char *instruction, struct install_cmd *cmd, int *other)
{
	struct install_cmd found[INSTALL_CMDS_MAX];
	size_t n = install_cmds_scan(instruction, found, INSTALL_CMDS_MAX);
	int any = 0;

	for (size_t i = 0; i < n; i++) {
		if (!counts(j, found[i].tool)) {
			if (other)
				*other = 1;
			continue;
		}
		if (!any || (is_lessons(j, &found[i]) && !is_lessons(j, cmd)))
			*cmd = found[i];
		any = 1;
	}
	return any;
}

/* The Dockerfile's stages, as far as the choice of the install needs them. */
struct stages {
	int n;
	char **name;       /* FROM ... AS name, or NULL */
	int *parent;       /* the earlier stage its FROM starts from, or -1 */
	int *used;         /* the image is made from it: the last stage, and what it starts from or copies from */
	int *chain_all;    /* it, or a stage it starts from, copies the whole context */
};

/* The stage word names (a name, any case, or a number) among the stages before `before`, or -1. */
static int stage_named(const struct stages *st, const char *word, int before)
{
	char *end;
	long k = strtol(word, &end, 10);

	if (*word && !*end)
		return k >= 0 && k < before ? (int)k : -1;
	for (int s = before - 1; s >= 0; s--)
		if (st->name[s] && !strcasecmp(st->name[s], word))
			return s;
	return -1;
}

/* Mark what an instruction of a used stage reads from: COPY --from=X, RUN --mount=...,from=X. */
static void mark_refs(struct stages *st, const struct df_instr *in)
{
	char *copy = xstrdup(in->args), *tok, *save = NULL;

	for (tok = strtok_r(copy, " \t", &save); tok && !strncmp(tok, "--", 2); tok = strtok_r(NULL, " \t", &save)) {
		const char *from = NULL;
		int s;

		if (!strncmp(tok, "--from=", 7)) {
			from = tok + 7;
		} else if (!strncmp(tok, "--mount=", 8)) {
			char *opt, *osave = NULL;
			for (opt = strtok_r(tok + 8, ",", &osave); opt; opt = strtok_r(NULL, ",", &osave))
				if (!strncmp(opt, "from=", 5))
					from = opt + 5;
		}
		if (from && (s = stage_named(st, from, in->stage)) >= 0)
			st->used[s] = 1;
	}
	free(copy);
}

static void stages_load(struct stages *st, const struct df_instrs *df)
{
	int *has_all;

	st->n = df->nstages;
	st->name = xcalloc((size_t)st->n + 1, sizeof(*st->name));
	st->parent = xcalloc((size_t)st->n + 1, sizeof(*st->parent));
	st->used = xcalloc((size_t)st->n + 1, sizeof(*st->used));
	st->chain_all = xcalloc((size_t)st->n + 1, sizeof(*st->chain_all));
	has_all = xcalloc((size_t)st->n + 1, sizeof(*has_all));
	for (int s = 0; s < st->n; s++)
		st->parent[s] = -1;
	for (size_t i = 0; i < df->n; i++) {
		const struct df_instr *in = &df->v[i];

		if (in->stage < 0 || in->stage >= st->n)
			continue;
		if (!strcmp(in->keyword, "FROM")) {
			char *copy = xstrdup(in->args), *tok, *save = NULL, *words[3];
			int k = 0;

			for (tok = strtok_r(copy, " \t", &save); tok && k < 3; tok = strtok_r(NULL, " \t", &save))
				if (strncmp(tok, "--", 2)) /* --platform=... */
					words[k++] = tok;
			if (k >= 1)
				st->parent[in->stage] = stage_named(st, words[0], in->stage);
			if (k == 3 && !strcasecmp(words[1], "as"))
				st->name[in->stage] = xstrdup(words[2]);
			free(copy);
		} else if ((!strcmp(in->keyword, "COPY") || !strcmp(in->keyword, "ADD")) && copies_all(in->args)) {
			has_all[in->stage] = 1;
		}
	}
	/* what the image is made of: from the last stage back (a stage reads only earlier ones) */
	if (st->n > 0)
		st->used[st->n - 1] = 1;
	for (size_t i = df->n; i-- > 0;) {
		const struct df_instr *in = &df->v[i];

		if (in->stage < 0 || in->stage >= st->n || !st->used[in->stage])
			continue;
		if (!strcmp(in->keyword, "FROM") && st->parent[in->stage] >= 0)
			st->used[st->parent[in->stage]] = 1;
		else if (!strcmp(in->keyword, "COPY") || !strcmp(in->keyword, "RUN"))
			mark_refs(st, in);
	}
	for (int s = 0; s < st->n; s++)
		st->chain_all[s] = has_all[s] || (st->parent[s] >= 0 && st->chain_all[st->parent[s]]);
	free(has_all);
}

static void stages_release(struct stages *st)
{
	for (int s = 0; s < st->n; s++)
		free(st->name[s]);
	free(st->name);
	free(st->parent);
	free(st->used);
	free(st->chain_all);
	memset(st, 0, sizeof(*st));
}

/*
 * The install the Dockerfile's layer order is about, when it has several
 * (one per stage: a production install for the runtime, a full one to
 * build with).  First the stages the image is made of (the last stage and
 * what it starts from or copies from: a stage nothing uses is no part of
 * the image, and BuildKit does not even build it); among their installs,
 * the first that runs before its stage has the whole context (`COPY . .`,
 * in the stage or one it starts from), because that is the layer a
 * source-only change can leave alone, and the lesson's order is about that
 * one; a later install in another stage re-runs by design (it builds from
 * the source).  When none runs before `COPY . .`, the first of them: it is
 * the one the lesson would move.  Returns the instruction (borrowed from
 * df), or NULL when the Dockerfile has no install that counts.
 */
static const struct df_instr *pick_in_dockerfile(const struct judge *j, const struct df_instrs *df,
						 const struct stages *st, struct install_cmd *cmd)
{
	const struct df_instr *best = NULL;
	int best_rank = -1;
	int *seen_all = xcalloc((size_t)st->n + 1, sizeof(*seen_all));

	for (size_t i = 0; i < df->n; i++) {
		const struct df_instr *in = &df->v[i];
		struct install_cmd c;
		int s = in->stage, after_all, rank;

		if (s < 0 || s >= st->n)
			continue;
		if ((!strcmp(in->keyword, "COPY") || !strcmp(in->keyword, "ADD")) && copies_all(in->args))
			seen_all[s] = 1;
		if (strcmp(in->keyword, "RUN") || !counted_install(j, in->text, &c, NULL))
			continue;
		after_all = seen_all[s] || (st->parent[s] >= 0 && st->chain_all[st->parent[s]]);
		rank = 2 * st->used[s] + !after_all;
		if (rank > best_rank) {
			best = in;
			best_rank = rank;
			*cmd = c;
		}
	}
	free(seen_all);
	return best;
}

/*
 * The rebuild's step for the Dockerfile's instruction in, or -1.  The
 * legacy builder numbers the instructions of the whole file ("Step 4/15");
 * BuildKit counts per stage and leaves out what runs nothing (ENV) and
 * what it merged with an identical step of another stage, so the text and
 * the stage's name decide there.
 */
static long step_of(const struct build_log *log, const struct df_instrs *df, const struct stages *st,
		    const struct df_instr *in)
{
	const char *name = in->stage >= 0 && in->stage < st->n ? st->name[in->stage] : NULL;
	long first = -1;

	for (size_t i = 0; i < log->nsteps; i++) {
		const struct build_step *s = &log->steps[i];

		if (!same_instruction(s->instruction, in->text))
			continue;
		if (log->builder == BUILDER_LEGACY && s->index == (int)(in - df->v) + 1)
			return (long)i;
		if (log->builder != BUILDER_LEGACY &&
		    (name ? s->stage && !strcasecmp(s->stage, name) : !s->stage))
			return (long)i;
		if (first < 0)
			first = (long)i;
	}
	return first;
}

/* Has the step's stage copied the whole context before it, as the log shows? */
static int log_copied_all_before(const struct build_log *log, long step)
{
	const struct build_step *b = &log->steps[step];

	for (size_t i = 0; i < log->nsteps; i++)
		if (log->steps[i].stage_no == b->stage_no && log->steps[i].index < b->index &&
		    step_copies_all(log->steps[i].instruction))
			return 1;
	return 0;
}

/*
 * The same choice from the rebuild's log alone, when the Dockerfile says
 * nothing the log shows: the first install before its stage's `COPY . .`,
 * else the first.  -1 when no step installs; *other set when one installs
 * with a tool that does not count.
 */
static long pick_in_log(const struct judge *j, const struct build_log *log, struct install_cmd *cmd, long *other)
{
	long best = -1;
	int best_rank = -1;

	for (size_t i = 0; i < log->nsteps; i++) {
		struct install_cmd c;
		int another = 0, rank;

		if (!counted_install(j, log->steps[i].instruction, &c, &another)) {
			if (another && *other < 0)
				*other = (long)i;
			continue;
		}
		rank = !log_copied_all_before(log, (long)i);
		if (rank > best_rank) {
			best = (long)i;
			best_rank = rank;
			*cmd = c;
		}
	}
	return best;
}

/*
 * The first step of the stages the install's stage starts from (FROM
 * <stage>) that ran instead of coming from the cache, nearest stage first:
 * why an install with nothing rebuilt before it in its own stage re-ran.
 * -1 if none.
 */
static long rebuilt_in_parents(const struct build_log *log, const struct stages *st, int stage)
{
	for (int s = stage >= 0 && stage < st->n ? st->parent[stage] : -1; s >= 0; s = st->parent[s]) {
		long best = -1;

		for (size_t i = 0; st->name[s] && i < log->nsteps; i++) {
			const struct build_step *b = &log->steps[i];

			if (b->ran && b->stage && !strcasecmp(b->stage, st->name[s]) &&
			    (best < 0 || b->index < log->steps[best].index))
				best = (long)i;
		}
		if (best >= 0)
			return best;
	}
	return -1;
}

/* --- what the edit can rebuild ------------------------------------------------ */

/* Does a COPY or ADD source (as written) take the context's path `edited`, or a folder above it? */
static int source_reaches(const char *src, const char *edited)
{
	char *pat, *prefix;
	size_t n;
	int hit = 0;

	while (!strncmp(src, "./", 2))
		src += 2;
	while (*src == '/')
		src++;
	pat = xstrdup(src);
	for (n = strlen(pat); n && pat[n - 1] == '/'; n--)
		pat[n - 1] = '\0';
	if (!*pat || !strcmp(pat, ".")) {
		free(pat);
		return 1;
	}
	prefix = xstrdup(edited);
	for (char *slash = prefix;; slash++) {
		slash = strchr(slash, '/');
		if (slash)
			*slash = '\0';
		hit = fnmatch(pat, prefix, FNM_PATHNAME) == 0;
		if (hit || !slash)
			break;
		*slash = '/';
	}
	free(prefix);
	free(pat);
	return hit;
}

/*
 * Can editing `edited` (a path in the context) have rebuilt the step, as
 * the builder printed it?  A COPY or ADD of it (a source that names it, a
 * folder above it, or a pattern that matches either), a copy from a stage
 * or a RUN with a bind mount (which the edit may reach), and an ADD of a
 * URL (whose content may change) can; a step of any other kind cannot.
 * Unsure (a line it cannot read) is yes.
 */
static int edit_explains(const char *edited, const char *instruction)
{
	const char *args;
	struct df_copy c;
	int explains;

	if ((args = df_after_keyword(instruction, "RUN")))
		return strstr(args, "type=bind") != NULL;
	if (!(args = df_copy_args(instruction)))
		return 0;
	df_copy_read(&c, args);
	explains = c.from || c.mount || c.unreadable || c.n < 2;
	for (size_t i = 0; !explains && i + 1 < c.n; i++)
		explains = strstr(c.w[i], "://") || source_reaches(c.w[i], edited);
	df_copy_release(&c);
	return explains;
}

/* --- the second witness: the layers ------------------------------------------ */

static int stop_walk(void *arg, size_t layer, const struct layer_entry *e)
{
	(void)arg;
	(void)layer;
	(void)e;
	return 1; /* the layers' list is all we want, not their files */
}

/*
 * The layers' witness for the instruction: the final image's layer for it,
 * else (a step of an earlier stage) the step's own images, which the legacy
 * builder and buildah keep and the log names (step: the rebuild's; -1:
 * none).  rebuilt: the rebuilt image's inspect object, or NULL.
 */
static void witness(struct check_ctx *ctx, const struct build_log *later, json_t *rebuilt, const char *instruction,
		    long step, struct layer_witness *lw)
{
	static const char *const nothing[] = { ".phaselab-layers-only", NULL };
	struct layer_walk w = { .under = nothing, .fn = stop_walk };
	const struct build_step *b = step >= 0 ? &later->steps[step] : NULL;

	struct image_layer *own = NULL;
	size_t nown = 0;

	layer_witness_init(lw, "image");
	if (!rebuilt || !ctx->image) {
		snprintf(lw->why, sizeof(lw->why), "the engine did not describe the rebuilt image");
	} else if (layer_witness_layers_of(ctx->image, &own, &nown) == 0) {
		/* podman's inspect carries the history: no engine call (a save of the image, there) */
		layer_witness_image(own, nown, rebuilt, instruction, lw);
		free(own);
	} else if (engine_image_layers(ctx->engine, ctx->image, &w) < 0) {
		snprintf(lw->why, sizeof(lw->why), "the image's layers could not be read: %.150s", ctx->engine->err.buf);
		strbuf_reset(&ctx->engine->err);
	} else {
		layer_witness_image(w.layers, w.nlayers, rebuilt, instruction, lw);
	}
	engine_layers_release(&w);
	if (lw->verdict >= 0 || !b || !b->image)
		return;
	/* the first build's image of the same step: same place in the same stage */
	for (size_t i = 0; i < ctx->build_log.nsteps; i++) {
		const struct build_step *a = &ctx->build_log.steps[i];
		json_t *ja = NULL, *jb = NULL;
		char why[sizeof(lw->why)];

		if (a->index != b->index || a->stage_no != b->stage_no || !a->image)
			continue;
		memcpy(why, lw->why, sizeof(why));
		if (engine_image_inspect(ctx->engine, a->image, &ja) == 0 &&
		    engine_image_inspect(ctx->engine, b->image, &jb) == 0)
			layer_witness_steps(ja, a->image, jb, b->image, lw);
		strbuf_reset(&ctx->engine->err);
		if (lw->verdict < 0)
			snprintf(lw->why, sizeof(lw->why), "%s", why); /* the image's reason is the one to give */
		json_decref(ja);
		json_decref(jb);
		break;
	}
}

/*
 * Both witnesses in the evidence: log_witness, layer_witness ("cached",
 * "ran", "none"; "another": not the first build's layer, where the log says
 * the builder took the step from its cache), layers.
 */
static void witness_evidence(struct check_result *res, int log_says, const struct layer_witness *lw)
{
	static const char *const says[] = { "none", "ran", "cached" };

	result_evidence(res, "log_witness", json_string(says[log_says + 1]));
	result_evidence(res, "layer_witness",
			json_string(lw->verdict == 0 && log_says == 1 ? "another" : says[lw->verdict + 1]));
	if (lw->verdict >= 0)
		result_evidence(res, "layers", json_pack("{s:s, s:I, s:s, s:s, s:s}", "from", lw->from,
							 "index", (json_int_t)lw->index, "created_by", lw->created_by,
							 "first", lw->first, "rebuilt", lw->rebuilt));
	else
		result_evidence(res, "layers", json_pack("{s:s}", "why", lw->why));
}

/* --- the verdict ------------------------------------------------------------- */

/* What the verdict names: the install's name, its line, and the COPY of its manifests. */
struct install_words {
	const char *name;      /* "npm install"; the lesson's step when it is no install known here */
	const char *line;      /* the learner's instruction */
	char *corrected;       /* "COPY package.json package-lock.json ./" */
	int lessons;           /* it is the lesson's own installer */
};

/*
 * Why the step before the install re-ran, with the learner's line: the
 * whole context copied first (and, for npm, whether the lock file was
 * copied with the manifest before it), or another source copied first.
 */
static const char *rebuilt_cause(const struct df_instrs *df, const struct build_step *culprit, const char *tool,
				 struct check_result *res)
{
	const struct df_instr *in;
	const char *cause = "source-before-install";

	in = instr_of(df, culprit->instruction);
	if (in) {
		result_evidence(res, "line", json_string(in->text));
		result_evidence(res, "line_number", json_integer(in->line));
	} else {
		result_evidence(res, "line", json_string(culprit->instruction));
	}
	if (in && copies_all(in->args)) {
		int manifest = 0, lock = 0;

		cause = "copy-all-before-install";
		for (size_t i = 0; i < df->n && &df->v[i] != in; i++) {
			if (df->v[i].stage != in->stage || strcmp(df->v[i].keyword, "COPY"))
				continue;
			manifest |= strstr(df->v[i].args, "package.json") || strstr(df->v[i].args, "package*.json");
			lock |= strstr(df->v[i].args, "package-lock.json") || strstr(df->v[i].args, "package*.json");
		}
		/* the cause's words are npm's (package-lock.json): other installers get the general one */
		if (manifest && !lock && (!tool || !strcmp(tool, "npm")))
			cause = "lockfile-not-copied";
	}
	return cause;
}

/*
 * "; the lesson uses `npm ci`, which ...": what a pass says when the
 * install is not the lesson's.
 */
static void lesson_note(struct strbuf *sb, const struct judge *j, const struct install_cmd *got)
{
	strbuf_addf(sb, "; the lesson uses `%s`", j->step);
	if (!j->known || strcmp(j->lesson.name, "npm ci"))
		return;
	if (!got->locked)
		strbuf_addstr(sb, ", which installs exactly the lock file and fails when it disagrees with package.json");
	else if (!strncmp(got->locked, "--", 2))
		strbuf_addf(sb, ", which holds to the lock file as `%s %s` does", got->name, got->locked);
	else
		strbuf_addf(sb, ", which holds to the lock file as `%s` does", got->locked);
}

/*
 * The verdict from the layers alone: the rebuild's log does not show the
 * Dockerfile's install in (a log this build's output could not be read
 * from, or one that merged the step away).  Why it ran comes from the
 * Dockerfile: the whole context copied before it in its stage.
 */
static void layers_alone(struct check_result *res, const struct cache_state *st, const struct df_instrs *df,
			 const struct df_instr *in, const struct install_cmd *cmd, const struct judge *j,
			 const struct layer_witness *lw)
{
	const struct df_instr *copy = NULL;

	result_evidence(res, "install_line", json_string(in->text));
	if (lw->verdict) {
		result_set(res, CHECK_PASS, "after editing %s, the layer of `%s` is the first build's: it came from "
			   "the cache (the builder's log does not show the step; the image's layers decide)",
			   st->edited, in->text);
		return;
	}
	for (size_t i = 0; i < df->n && &df->v[i] != in; i++)
		if (df->v[i].stage == in->stage && (!strcmp(df->v[i].keyword, "COPY") || !strcmp(df->v[i].keyword, "ADD")) &&
		    copies_all(df->v[i].args))
			copy = &df->v[i];
	result_set(res, CHECK_FAIL, "editing %s re-ran `%s`: its layer differs from the first build's (the "
		   "builder's log does not show the step; the image's layers decide)%s%s%s", st->edited, in->text,
		   copy ? "; `" : "", copy ? copy->text : "", copy ? "` copies the whole context before it" : "");
	if (copy) {
		const char *manifests = installer_manifests(cmd->name);
		char *corrected = xasprintf("COPY %s ./", manifests ? manifests : "package.json package-lock.json");

		result_cause(res, "copy-all-before-install");
		result_evidence(res, "line", json_string(copy->text));
		result_evidence(res, "line_number", json_integer(copy->line));
		result_evidence(res, "corrected", json_string(corrected));
		result_hint(res, "copy only the dependency manifests before installing: `%s`, then `%s`, and only "
			    "then `COPY . .`; a source change then leaves the install layer cached", corrected, in->text);
		free(corrected);
	} else {
		result_cause(res, "changing-step-before-install");
		result_evidence(res, "install", json_string(cmd->name ? cmd->name : j->step));
		result_hint(res, "something before the step changes on every build: an ARG or --build-arg whose "
			    "value changes, or an ADD of a remote URL; keep those after the install step");
	}
}

/*
 * The verdict on one rebuild (rc: engine_build_finish's; second: it is the
 * second) into res.  1 when it says the install re-ran with nothing the
 * edit reaches rebuilt before it (see edit_explains), else 0.
 */
static int judge_rebuild(struct check_ctx *ctx, const struct check_def *def, const struct cache_state *st,
			 const struct build_result *b, int rc, int second, struct check_result *res)
{
	struct judge j;
	struct df_instrs df;
	struct stages stages = { 0 };
	const struct df_instr *in = NULL, *picked = NULL;
	struct install_cmd cmd = { 0 };
	struct install_words iw = { 0 };
	const struct build_log *log = &b->log;
	struct strbuf ref = STRBUF_INIT, msg = STRBUF_INIT, note = STRBUF_INIT;
	struct layer_witness lw;
	json_t *rebuilt = NULL;
	const char *instr;
	long step = -1, culprit, other = -1;
	int cached, suspect = 0;

	/* the rebuilt image's layers, the second witness (the image goes at the end) */
	layer_witness_init(&lw, "image");
	if (rc == 0 && b->image_id[0] && engine_image_inspect(ctx->engine, b->image_id, &rebuilt) < 0)
		strbuf_reset(&ctx->engine->err);
	result_evidence(res, "edited", json_string(st->edited));

	df_instrs_load(&df, ctx->dir);
	if (judge_init(&j, def, res) < 0)
		goto out;
	/* the Dockerfile decides which install is the dependency step; the rebuild, whether it was cached */
	stages_load(&stages, &df);
	if (j.scan)
		in = pick_in_dockerfile(&j, &df, &stages, &cmd);
	iw.name = in ? cmd.name : j.step;
	iw.lessons = !in || is_lessons(&j, &cmd);
	picked = in; /* the layers' witness looks for it even when the log does not show it */

	if (b->timed_out) {
		/* the first build finished; a rebuild that re-runs a step forever is the Dockerfile's doing */
		result_cause(res, "rebuild-timed-out");
		result_evidence(res, "install", json_string(iw.name));
		result_set(res, CHECK_FAIL, "the rebuild after editing '%s' did not finish within %.0f s, the "
			   "phase's build time limit", st->edited, ctx->phase->build_timeout_ms / 1000.0);
		result_hint(res, "a step that never ends re-ran after a source-only edit: copy the source after "
			    "the `%s` step, and make sure no RUN step waits forever", iw.name);
		goto out;
	}
	if (rc < 0) {
		result_engine_error(res, ctx, "the rebuild failed");
		goto out;
	}
	if (rc == 1) {
		result_set(res, CHECK_ERROR, "the first build passed but the rebuild after editing '%s' failed: %s",
			   st->edited, log->error ? log->error : "see the builder's output");
		goto out;
	}

	if (!j.scan) {
		step = buildlog_find_step(log, j.step); /* a step no installer names: its text, as written */
	} else {
		if (in)
			step = step_of(log, &df, &stages, in);
		if (step < 0) {
			/* no Dockerfile line the log shows (none readable, or merged away): the log alone */
			in = NULL;
			step = pick_in_log(&j, log, &cmd, &other);
			if (step >= 0) {
				iw.name = cmd.name;
				iw.lessons = is_lessons(&j, &cmd);
			}
		}
	}
	/* the second witness, for the Dockerfile's install (else the step the log shows) */
	instr = in ? in->text : step >= 0 ? log->steps[step].instruction : picked ? picked->text : NULL;
	if (instr)
		witness(ctx, log, rebuilt, instr, step, &lw);
	witness_evidence(res, step >= 0 ? log->steps[step].cached != 0 : -1, &lw);
	if (step < 0 && picked && lw.verdict >= 0) {
		layers_alone(res, st, &df, picked, &cmd, &j, &lw);
		goto out;
	}
	if (step < 0) {
		result_cause(res, "install-step-not-found");
		result_evidence(res, "install", json_string(j.step));
		if (!j.scan) {
			long npm_install = buildlog_find_step(log, "npm install");

			if (npm_install >= 0)
				result_evidence(res, "line", json_string(log->steps[npm_install].instruction));
			result_set(res, CHECK_FAIL, "no build step runs `%s` (the rebuild had %zu steps)", j.step,
				   log->nsteps);
		} else {
			struct strbuf tools = STRBUF_INIT;
			size_t i, n = json_array_size(j.tools);
			json_t *v;

			json_array_foreach(j.tools, i, v)
				strbuf_addf(&tools, "%s%s", i == 0 ? "" : i + 1 == n ? " or " : ", ", json_string_value(v));
			if (other >= 0)
				result_evidence(res, "line", json_string(log->steps[other].instruction));
			result_set(res, CHECK_FAIL, "no build step installs the dependencies: none runs `%s` or another "
				   "install with %s (the rebuild had %zu steps)", j.step, tools.buf, log->nsteps);
			strbuf_release(&tools);
		}
		if (!strcmp(j.step, "npm ci"))
			result_hint(res, "install dependencies with `RUN %s` (deterministic, from package-lock.json) in "
				    "its own step, right after copying package.json and package-lock.json", j.step);
		else
			result_hint(res, "install dependencies with `RUN %s` in its own step, right after copying "
				    "the dependency manifests", j.step);
		goto out;
	}

	iw.line = in ? in->text : log->steps[step].instruction;
	{
		const char *manifests = installer_manifests(iw.name);
		iw.corrected = xasprintf("COPY %s ./", manifests ? manifests : "package.json package-lock.json");
	}
	result_evidence(res, "step", build_step_json(&log->steps[step]));
	buildlog_step_ref(log, &log->steps[step], &ref);
	/*
	 * The first build's own layer in the rebuilt image is proof that the
	 * step came from the cache, whatever the log says.  Another layer is no
	 * proof that it ran: where builds of the same steps ran at the same
	 * time (a class graded with --jobs), the cache holds twins of the step,
	 * and the builder may take another build's; the log says which.
	 */
	cached = lw.verdict == 1 || log->steps[step].cached;
	if (lw.verdict == 1 && !log->steps[step].cached)
		strbuf_addstr(&note, " (the builder's log says it ran again, but its layer is the same as the first "
			      "build's: the layers decide)");
	else if (lw.verdict == 0 && log->steps[step].cached)
		strbuf_addstr(&note, " (its layer is not the first build's: the builder took the same step of "
			      "another build from its cache)");
	if (second)
		strbuf_addstr(&note, cached ? " on a second rebuild (the first re-ran it with nothing before it changed, "
			      "as when another build of the same steps runs at the same time)" : " on a second rebuild too");
	if (cached) {
		strbuf_addf(&msg, "after editing %s, %s `%s` came from the cache%s", st->edited, ref.buf,
			    log->steps[step].instruction, note.buf);
		if (!iw.lessons) {
			/* the lesson's own installer leaves the report as it always was */
			lesson_note(&msg, &j, &cmd);
			result_evidence(res, "installer", json_string(cmd.name));
			result_evidence(res, "lesson", json_string(j.step));
		}
		result_set(res, CHECK_PASS, "%s", msg.buf);
		goto out;
	}
	result_evidence(res, "install", json_string(iw.name));
	result_evidence(res, "install_line", json_string(iw.line));
	culprit = buildlog_first_rebuilt_before(log, step);
	if (culprit < 0 && in)
		culprit = rebuilt_in_parents(log, &stages, in->stage);
	suspect = culprit < 0 || !edit_explains(st->edited, log->steps[culprit].instruction);
	if (culprit >= 0) {
		result_evidence(res, "first_rebuilt", build_step_json(&log->steps[culprit]));
		result_cause(res, rebuilt_cause(&df, &log->steps[culprit], j.scan ? cmd.tool : NULL, res));
		result_evidence(res, "corrected", json_string(iw.corrected));
		strbuf_reset(&ref);
		buildlog_step_ref(log, &log->steps[culprit], &ref);
		result_set(res, CHECK_FAIL, "editing %s re-ran `%s`%s: %s `%s` came before it and was rebuilt, "
			   "and every later step with it", st->edited, log->steps[step].instruction, note.buf, ref.buf,
			   log->steps[culprit].instruction);
		if (iw.lessons && (!j.scan || !strcmp(j.lesson.name, "npm ci")))
			result_hint(res, "copy only the dependency manifests before installing: `COPY package.json "
				    "package-lock.json ./`, then `RUN npm ci --omit=dev`, and only then `COPY . .`; a "
				    "source change then leaves the install layer cached");
		else
			result_hint(res, "copy only the dependency manifests before installing: `%s`, then `%s`, and "
				    "only then `COPY . .`; a source change then leaves the install layer cached",
				    iw.corrected, iw.line);
	} else {
		result_cause(res, "changing-step-before-install");
		result_set(res, CHECK_FAIL, "editing %s re-ran `%s`%s although no step before it changed",
			   st->edited, log->steps[step].instruction, note.buf);
		result_hint(res, "something before the step changes on every build: an ARG or --build-arg whose "
			    "value changes, or an ADD of a remote URL; keep those after the install step");
	}
out:
	json_decref(rebuilt);
	judge_release(&j);
	stages_release(&stages);
	df_instrs_release(&df);
	free(iw.corrected);
	strbuf_release(&ref);
	strbuf_release(&msg);
	strbuf_release(&note);
	return suspect;
}

/*
 * The rebuild holds a one-off edit (it carries the run id, so no later run
 * can be fooled by a cache hit of it): its image goes, with the images of
 * the steps that ran; the cached steps are the real cache and stay.  (After
 * the verdict: the layers' witness reads the step images.)
 */
static void drop_rebuild(struct check_ctx *ctx, struct build_result *b, int rc)
{
	ctx->engine->cleaning = 1;
	if (engine_rm_build(ctx->engine, b) < 0 || rc != 0)
		ctx->untracked = 1; /* a failed or interrupted rebuild, or what stayed: the label finds it */
	ctx->engine->cleaning = 0;
	build_result_release(b);
}

/* Finish the rebuild job into b (build_result_init'ed here); engine_build_finish's return. */
static int finish_rebuild(struct check_ctx *ctx, struct build_result *b)
{
	int rc;

	build_result_init(b);
	rc = engine_build_finish(ctx->engine, ctx->background, b);
	free(ctx->background);
	ctx->background = NULL;
	return rc;
}

/* The verdict res holds (status, message, hint, cause, evidence) handed to *was; res keeps the rest. */
struct verdict {
	enum check_status status;
	char *message, *hint, *cause;
	json_t *evidence;
};

static void verdict_take(struct verdict *was, struct check_result *res)
{
	*was = (struct verdict){ res->status, res->message, res->hint, res->cause, res->evidence };
	res->message = res->hint = res->cause = NULL;
	res->evidence = NULL;
}

static void verdict_release(struct verdict *was)
{
	free(was->message);
	free(was->hint);
	free(was->cause);
	json_decref(was->evidence);
}

static void run(struct check_ctx *ctx, const struct check_def *def, struct check_result *res)
{
	struct cache_state *st = ctx->background_state;
	struct build_result build, again;
	struct verdict first;
	char *mark;
	int rc, rc2;

	if (!st || !ctx->background) {
		result_set(res, CHECK_ERROR, "the rebuild could not start: %s", st ? st->failure : "no image");
		return;
	}
	rc = finish_rebuild(ctx, &build);
	if (!judge_rebuild(ctx, def, st, &build, rc, 0, res) || interrupt_pending()) {
		drop_rebuild(ctx, &build, rc);
		return;
	}
	/*
	 * The install re-ran, yet nothing the edit reaches was rebuilt before
	 * it.  No Dockerfile does that under phaselab's builds (no build
	 * arguments); the engine's cache does, when another build of the same
	 * steps runs at the same time: the builder takes that build's copy of an
	 * earlier step, whose install is not there yet, and runs the install.
	 * A second rebuild with another edit decides: the first rebuild's layers
	 * stay for it, so an install whose layer does not hang on the source
	 * comes from the cache now, and one that does runs again.
	 */
	mark = xasprintf("%s, again", ctx->engine->run_id);
	if (edit_source(st, def, mark) < 0 || start_rebuild(ctx, st) < 0) {
		drop_rebuild(ctx, &build, rc); /* the first rebuild's verdict stands */
		free(mark);
		return;
	}
	free(mark);
	verdict_take(&first, res);
	rc2 = finish_rebuild(ctx, &again);
	judge_rebuild(ctx, def, st, &again, rc2, 1, res);
	result_evidence(res, "first_rebuild", json_pack("{s:s, s:s?}", "status", check_status_name(first.status),
							"message", first.message));
	verdict_release(&first);
	/* the second's images are children of the first's: they go first */
	drop_rebuild(ctx, &again, rc2);
	drop_rebuild(ctx, &build, rc);
}

static const char *const causes[] = {
	"copy-all-before-install",      /* COPY . . before the install: line, line_number, corrected, install_line */
	"lockfile-not-copied",          /* package.json copied alone, then everything (npm): line, corrected, install_line */
	"source-before-install",        /* another copy of source before it: line, corrected, install_line */
	"changing-step-before-install", /* nothing was copied, yet a step changes (ARG, remote ADD): install */
	"install-step-not-found",       /* install (the lesson's step); line: an install with a tool that does not count */
	"rebuild-timed-out",            /* install */
	NULL,
};

const struct check_kind check_layer_cache = {
	.name = "layer-cache",
	.summary = "the dependency layer is reused after a source-only change",
	.needs = NEED_IMAGE,
	.params = params,
	.causes = causes,
	.start = start,
	.run = run,
};
