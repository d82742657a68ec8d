/*
 * apt-clean: no package lists (/var/lib/apt/lists, but its lock and
 * partial/) and no downloaded packages (.deb under /var/cache/apt/archives)
 * in the image, measured per layer: the final filesystem holds none, and no
 * layer ships them only for a later layer to delete them (the bytes stay in
 * the earlier layer; only cleaning in the same RUN shrinks the image).
 *
 * Measured, not read from RUN lines (a token in a RUN cannot tell a
 * cleanup in the same step from one in a later step): the engine gives each
 * layer's own changes beneath the two folders (engine_image_layers: files
 * added, whiteouts, opaque folders), and the layers are replayed in order.
 * A file a layer adds is "left" when no later layer deletes it, "cleaned
 * later" when one does.  The layers of the runtime stage's base (the prefix
 * of the image's layers that are the base's own) are not the learner's: what
 * they ship is a note, never a failure.  Each layer is named by the
 * instruction behind it (the image's history), the builder's step number
 * and the Dockerfile line, where those can be matched.
 */
#include "core/check.h"
#include "lib/dfstages.h"
#include "lib/escape.h"
#include "lib/xalloc.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const struct key_spec params[] = {
	{ "lists_dir", KEY_STRING, 0, 1, 200, "the package lists' folder (no leading /)", "var/lib/apt/lists" },
	{ "archives_dir", KEY_STRING, 0, 1, 200, "the downloaded packages' folder", "var/cache/apt/archives" },
	{ NULL, 0, 0, 0, 0, NULL, NULL },
};

/*
 * Evidence, for every cause: step (the instruction that added the files),
 * line and line_number (its Dockerfile line, when found), files, bytes, mb,
 * corrected (the RUN that cleans in the same step); cleaned-later also
 * later_step and later_line (the step that deleted them).
 */
static const char *const causes[] = {
	"lists-left",    /* the final filesystem holds package lists: step, files, bytes */
	"debs-left",     /* ... downloaded .deb files */
	"cleaned-later", /* a layer ships them and a later RUN deletes them: step, later_step, bytes */
	NULL,
};

#define RECORDS_MAX 200000
#define STEP_MAX 160     /* bytes of an instruction quoted in a message */
#define LESSON_RUN "RUN apt-get update && apt-get install -y --no-install-recommends curl ca-certificates && " \
	"rm -rf /var/lib/apt/lists/*"

enum what { LISTS, DEBS };

/* A file a layer adds under one of the folders. */
struct record {
	char *path;
	size_t layer;
	unsigned long long size;
	enum what what;
	long deleted_by;     /* the layer that deletes it, or -1 */
	int replaced;        /* a later layer writes the same path: not a cleanup */
};

/* A deletion a layer makes (a whiteout, or an opaque folder: only what is beneath it). */
struct deletion {
	char *path;
	int beneath_only;
};

struct replay {
	const char *lists, *archives;
	size_t nlists, narchives;
	struct record *r;
	size_t n, sorted;    /* records [0, sorted) are in path order */
	/* the layer being read: its deletions and additions wait until it ends */
	long layer;
	struct deletion *dels;
	size_t ndels;
	size_t first_new;    /* records [first_new, n) are the layer's own */
	int too_many;
};

static int by_path(const void *a, const void *b)
{
	const struct record *x = a, *y = b;
	int c = strcmp(x->path, y->path);

	return c ? c : (x->layer > y->layer) - (x->layer < y->layer);
}

/* The first sorted record whose path is >= p. */
static size_t lower_bound(const struct replay *rp, const char *p)
{
	size_t lo = 0, hi = rp->sorted;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(rp->r[mid].path, p) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The layer rp->layer ends: its deletions reach the layers below, then its files join them. */
static void end_layer(struct replay *rp)
{
	for (size_t d = 0; d < rp->ndels; d++) {
		const char *p = rp->dels[d].path;
		size_t pn = strlen(p);

		for (size_t i = lower_bound(rp, p); i < rp->sorted && !strncmp(rp->r[i].path, p, pn); i++) {
			struct record *r = &rp->r[i];
			char after = r->path[pn];

			if ((after == '/' || (!after && !rp->dels[d].beneath_only)) && r->deleted_by < 0 &&
			    r->layer < (size_t)rp->layer)
				r->deleted_by = rp->layer;
		}
		free(rp->dels[d].path);
	}
	rp->ndels = 0;
	/* a path written again: the older copy is replaced, not cleaned up */
	for (size_t k = rp->first_new; k < rp->n; k++) {
		const char *p = rp->r[k].path;

		for (size_t i = lower_bound(rp, p); i < rp->sorted && !strcmp(rp->r[i].path, p); i++)
			if (rp->r[i].deleted_by < 0) {
				rp->r[i].replaced = 1;
				rp->r[i].deleted_by = rp->layer;
			}
	}
	if (rp->n)
		qsort(rp->r, rp->n, sizeof(*rp->r), by_path);
	rp->sorted = rp->first_new = rp->n;
}

/* Is name a file the check counts?  Its kind in *what. */
static int counted(const struct replay *rp, const char *name, enum what *what)
{
	size_t n = strlen(name);

	if (!strncmp(name, rp->lists, rp->nlists) && name[rp->nlists] == '/') {
		const char *rel = name + rp->nlists + 1;
		*what = LISTS;
		return strcmp(rel, "lock") && strncmp(rel, "partial/", 8);
	}
	if (!strncmp(name, rp->archives, rp->narchives) && name[rp->narchives] == '/' && n > 4 &&
	    !strcmp(name + n - 4, ".deb")) {
		*what = DEBS;
		return 1;
	}
	return 0;
}

static int on_entry(void *arg, size_t layer, const struct layer_entry *e)
{
	struct replay *rp = arg;
	enum what what;

	if ((long)layer != rp->layer) {
		if (rp->layer >= 0)
			end_layer(rp);
		rp->layer = (long)layer;
	}
	if (e->type == LAYER_DELETED || e->type == LAYER_OPAQUE) {
		rp->dels = xrealloc(rp->dels, (rp->ndels + 1) * sizeof(*rp->dels));
		rp->dels[rp->ndels].path = xstrdup(e->name);
		rp->dels[rp->ndels++].beneath_only = e->type == LAYER_OPAQUE;
		return 0;
	}
	if ((e->type != '0' && e->type != '1') || !counted(rp, e->name, &what))
		return 0;
	if (rp->n == RECORDS_MAX) {
		rp->too_many = 1;
		return 1;
	}
	rp->r = xrealloc(rp->r, (rp->n + 1) * sizeof(*rp->r));
	rp->r[rp->n++] = (struct record){ xstrdup(e->name), layer, e->size, what, -1, 0 };
	return 0;
}

/* --- naming a layer ---------------------------------------------------------- */

/* s with runs of blanks as one space, trimmed, appended to sb. */
static void add_squeezed(struct strbuf *sb, const char *s, size_t n)
{
	int space = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] == ' ' || s[i] == '\t' || s[i] == '\n') {
			space = 1;
			continue;
		}
		if (space && sb->len)
			strbuf_addch(sb, ' ');
		space = 0;
		strbuf_addch(sb, s[i]);
	}
}

/* After "|N A=1 B=2 " (the build arguments a RUN saw), the command itself. */
static const char *skip_build_args(const char *s)
{
	if (*s != '|')
		return s;
	{
		char *end;
		long n = strtol(s + 1, &end, 10);
		s = end;
		while (n-- > 0 && *s == ' ') {
			s++;
			s += strcspn(s, " ");
		}
		while (*s == ' ')
			s++;
	}
	return s;
}

/*
 * The Dockerfile instruction behind a history row, blanks squeezed: the
 * legacy builder records "/bin/sh -c CMD" for a RUN and "/bin/sh -c #(nop)
 * X" for the rest, BuildKit "RUN /bin/sh -c CMD # buildkit" and "X #
 * buildkit".  The RUN's command alone goes to cmd (when not NULL).
 */
static void instruction_of(const char *created_by, struct strbuf *sb, struct strbuf *cmd)
{
	static const char nop[] = "/bin/sh -c #(nop) ", shell[] = "/bin/sh -c ", mark[] = " # buildkit";
	const char *s = created_by;
	size_t n = strlen(s);
	int run = 0;

	if (n >= sizeof(mark) - 1 && !strcmp(s + n - (sizeof(mark) - 1), mark))
		n -= sizeof(mark) - 1;
	if (!strncmp(s, "RUN ", 4)) {
		s = skip_build_args(s + 4);
		run = 1;
	}
	if (!strncmp(s, nop, sizeof(nop) - 1) && !run) {
		s += sizeof(nop) - 1;
	} else {
		s = skip_build_args(s);
		if (!strncmp(s, shell, sizeof(shell) - 1)) {
			s += sizeof(shell) - 1;
			run = 1;
		}
	}
	n -= (size_t)(s - created_by) <= n ? (size_t)(s - created_by) : n;
	if (run) {
		strbuf_addstr(sb, "RUN ");
		if (cmd)
			add_squeezed(cmd, s, n);
	}
	add_squeezed(sb, s, n);
}

struct step_name {
	char *text;       /* "step 6/15 `RUN apt-get update && ...` (line 9)", or "layer 4" */
	char *instr;      /* the instruction, squeezed ("" when the engine keeps none) */
	char *cmd;        /* a RUN's command, else "" */
	int line;         /* its Dockerfile line, or 0 */
	char *line_text;
};

static void name_layer(struct check_ctx *ctx, const struct df_instrs *df, const struct layer_walk *w, size_t layer,
		       struct step_name *out)
{
	struct strbuf instr = STRBUF_INIT, cmd = STRBUF_INIT, text = STRBUF_INIT, ref = STRBUF_INIT;
	const struct build_log *log = &ctx->build_log;
	const struct df_instr *from = df->nstages ? df_instrs_from(df, df->nstages - 1) : NULL;
	const char *as = from ? strcasestr(from->args, " as ") : NULL;
	int best = 0;

	memset(out, 0, sizeof(*out));
	instruction_of(w->layers[layer].created_by, &instr, &cmd);
	/*
	 * The builder's step with the same instruction, the runtime stage's
	 * first: a step of that stage's name (none when it has none; BuildKit
	 * shows stages in the order they ran, so the last one shown need not
	 * be the runtime stage).
	 */
	for (size_t i = 0; instr.len && i < log->nsteps; i++) {
		const struct build_step *st = &log->steps[i];
		struct strbuf s = STRBUF_INIT;
		int rank;

		add_squeezed(&s, st->instruction, strlen(st->instruction));
		rank = strcmp(s.buf, instr.buf) ? 0 : (as ? st->stage && !strcasecmp(st->stage, as + 4) : !st->stage) ? 2 : 1;
		if (rank > best) {
			best = rank;
			strbuf_reset(&ref);
			buildlog_step_ref(log, st, &ref);
		}
		strbuf_release(&s);
	}
	/* the Dockerfile's line: the last stage's instruction with the same text */
	for (size_t i = 0; instr.len && df->nstages && i < df->n; i++) {
		struct strbuf s = STRBUF_INIT;

		if (df->v[i].stage != df->nstages - 1)
			continue;
		strbuf_addf(&s, "%s ", df->v[i].keyword);
		add_squeezed(&s, df->v[i].args, strlen(df->v[i].args));
		if (!strcmp(s.buf, instr.buf)) {
			out->line = df->v[i].line;
			out->line_text = xstrdup(df->v[i].text);
		}
		strbuf_release(&s);
	}
	if (ref.len)
		strbuf_addf(&text, "%s ", ref.buf);
	if (instr.len) {
		size_t cut = escape_cut(instr.buf, instr.len, STEP_MAX);
		strbuf_addf(&text, "`%.*s%s`", (int)cut, instr.buf, cut < instr.len ? " ..." : "");
	} else {
		strbuf_addf(&text, "layer %zu of %zu", layer + 1, w->nlayers);
	}
	if (out->line)
		strbuf_addf(&text, " (line %d)", out->line);
	out->text = strbuf_detach(&text, NULL);
	out->instr = strbuf_detach(&instr, NULL);
	out->cmd = strbuf_detach(&cmd, NULL);
	strbuf_release(&ref);
}

static void step_name_release(struct step_name *s)
{
	free(s->text);
	free(s->instr);
	free(s->cmd);
	free(s->line_text);
}

/* --- the verdict ---------------------------------------------------------------- */

/* Files and bytes per layer and kind: what the messages count. */
struct tally {
	unsigned long files[2];
	unsigned long long bytes[2];
};

static void add_count(struct strbuf *sb, unsigned long files, unsigned long long bytes, enum what what)
{
	if (what == LISTS)
		strbuf_addf(sb, "%lu package list%s", files, files == 1 ? "" : "s");
	else
		strbuf_addf(sb, "%lu downloaded .deb package%s", files, files == 1 ? "" : "s");
	if (bytes >= 100000)
		strbuf_addf(sb, " (%.1f MB)", (double)bytes / 1e6);
	else
		strbuf_addf(sb, " (%llu bytes)", bytes);
}

/* The base of the runtime stage (new string), or NULL: none, or `scratch`, which has no layers. */
static char *runtime_base(const struct df_instrs *df)
{
	char *image = df_stage_base(df, df->nstages - 1);

	if (image && !strcasecmp(image, "scratch")) {
		free(image);
		return NULL;
	}
	return image;
}

/* How many of the image's first layers are the base's own (0 when unknown). */
static size_t base_layers(struct check_ctx *ctx, const struct df_instrs *df, struct check_result *res)
{
	json_t *mine = json_object_get(json_object_get(ctx->image, "RootFS"), "Layers"), *base = NULL, *theirs;
	char *image = runtime_base(df);
	size_t n = 0, i;

	if (image && engine_image_inspect(ctx->engine, image, &base) == 0) {
		theirs = json_object_get(json_object_get(base, "RootFS"), "Layers");
		n = json_array_size(theirs);
		for (i = 0; i < n; i++)
			if (!json_equal(json_array_get(theirs, i), json_array_get(mine, i)))
				break;
		if (i < n)
			n = 0; /* not the image's prefix: all its layers are judged */
	}
	result_evidence(res, "runtime_base", image ? json_string(image) : json_null());
	result_evidence(res, "base_layers", json_integer((json_int_t)n));
	json_decref(base);
	free(image);
	return n;
}

static void run(struct check_ctx *ctx, const struct check_def *def, struct check_result *res)
{
	char *lists = xstrdup(param_str(def, "lists_dir")), *archives = xstrdup(param_str(def, "archives_dir"));
	const char *under[3] = { lists, archives, NULL };
	struct replay rp = { .layer = -1 };
	struct layer_walk w = { .under = under, .fn = on_entry, .arg = &rp };
	struct df_instrs df;
	struct tally *own = NULL;
	struct tally base_left = { { 0, 0 }, { 0, 0 } }, base_deleted = { { 0, 0 }, { 0, 0 } };
	struct strbuf msg = STRBUF_INIT, notes = STRBUF_INIT, corrected = STRBUF_INIT;
	size_t nbase, first_bad[2] = { (size_t)-1, (size_t)-1 };
	long clean_add = -1, clean_del = -1;
	unsigned long long clean_bytes = 0;
	unsigned long clean_files = 0, left_files[2] = { 0, 0 };
	unsigned long long left_bytes[2] = { 0, 0 };
	const char *cause = NULL;

	/* the parameters as paths in the image: no leading or trailing '/' */
	for (char **p = (char *[]){ lists, archives, NULL }; *p; p++) {
		size_t n = strlen(*p);
		while (n && (*p)[n - 1] == '/')
			(*p)[--n] = '\0';
		memmove(*p, *p + strspn(*p, "/"), strlen(*p + strspn(*p, "/")) + 1);
	}
	rp.lists = lists;
	rp.archives = archives;
	rp.nlists = strlen(lists);
	rp.narchives = strlen(archives);
	df_instrs_load(&df, ctx->dir);
	nbase = base_layers(ctx, &df, res);

	if (engine_image_layers(ctx->engine, ctx->image, &w) < 0) {
		result_engine_error(res, ctx, "reading the image's layers");
		goto out;
	}
	if (rp.layer >= 0)
		end_layer(&rp);
	if (rp.too_many) {
		result_set(res, CHECK_ERROR, "the image holds more than %d files under /%s and /%s: not judged",
			   RECORDS_MAX, lists, archives);
		goto out;
	}
	if (nbase >= w.nlayers)
		nbase = 0;
	result_evidence(res, "read", json_string(w.how ? w.how : ""));
	result_evidence(res, "layers", json_integer((json_int_t)(w.nlayers - nbase)));

	/* what each layer leaves, what later layers delete */
	own = xcalloc(w.nlayers, sizeof(*own));
	for (size_t i = 0; i < rp.n; i++) {
		const struct record *r = &rp.r[i];

		if (r->layer < nbase) {
			struct tally *t = r->deleted_by < 0 ? &base_left : r->replaced ? NULL : &base_deleted;
			if (t) {
				t->files[r->what]++;
				t->bytes[r->what] += r->size;
			}
			continue;
		}
		if (r->deleted_by < 0) {
			own[r->layer].files[r->what]++;
			own[r->layer].bytes[r->what] += r->size;
			left_files[r->what]++;
			left_bytes[r->what] += r->size;
			if (r->layer < first_bad[r->what])
				first_bad[r->what] = r->layer;
		} else if (!r->replaced) {
			/* the first layer that ships files a later one deletes, and that later one */
			if (clean_add < 0 || (long)r->layer < clean_add) {
				clean_add = (long)r->layer;
				clean_del = r->deleted_by;
			}
		}
	}
	if (clean_add >= 0) {
		for (size_t i = 0; i < rp.n; i++)
			if (rp.r[i].layer == (size_t)clean_add && rp.r[i].deleted_by == clean_del && !rp.r[i].replaced) {
				clean_files++;
				clean_bytes += rp.r[i].size;
			}
	}

	/* the base's files: a note, not the learner's */
	if (base_left.files[LISTS] || base_left.files[DEBS]) {
		strbuf_addstr(&notes, "; note: the runtime base's own layers ship ");
		if (base_left.files[LISTS])
			add_count(&notes, base_left.files[LISTS], base_left.bytes[LISTS], LISTS);
		if (base_left.files[LISTS] && base_left.files[DEBS])
			strbuf_addstr(&notes, " and ");
		if (base_left.files[DEBS])
			add_count(&notes, base_left.files[DEBS], base_left.bytes[DEBS], DEBS);
		strbuf_addstr(&notes, ", which are the base's, not yours");
	}
	if (base_deleted.files[LISTS] || base_deleted.files[DEBS])
		strbuf_addf(&notes, "; note: a step of yours deletes %lu files the runtime base ships; their %.1f MB stay "
			    "in the base's layer all the same", base_deleted.files[LISTS] + base_deleted.files[DEBS],
			    (double)(base_deleted.bytes[LISTS] + base_deleted.bytes[DEBS]) / 1e6);

	for (int k = LISTS; k <= DEBS; k++) {
		struct step_name s;
		const char *dir = k == LISTS ? lists : archives;

		if (!left_files[k])
			continue;
		name_layer(ctx, &df, &w, first_bad[k], &s);
		strbuf_addf(&msg, "%sthe image holds ", msg.len ? "; " : "");
		add_count(&msg, left_files[k], left_bytes[k], k);
		strbuf_addf(&msg, " under /%s, added by %s", dir, s.text);
		{
			size_t more = 0;
			for (size_t l = first_bad[k] + 1; l < w.nlayers; l++)
				more += own[l].files[k] > 0;
			if (more)
				strbuf_addf(&msg, " and %zu later step%s", more, more == 1 ? "" : "s");
		}
		strbuf_addstr(&msg, ", and never deleted");
		if (!cause) {
			cause = k == LISTS ? "lists-left" : "debs-left";
			result_evidence(res, "step", json_string(s.instr));
			result_evidence(res, "files", json_integer((json_int_t)left_files[k]));
			result_evidence(res, "bytes", json_integer((json_int_t)left_bytes[k]));
			result_evidence(res, "mb", json_real((double)left_bytes[k] / 1e6));
			if (s.line) {
				result_evidence(res, "line", json_string(s.line_text));
				result_evidence(res, "line_number", json_integer(s.line));
			}
			if (s.cmd[0] && strstr(s.cmd, "apt-get"))
				strbuf_addf(&corrected, "RUN %s && rm -rf /%s/*", s.cmd, lists);
		}
		step_name_release(&s);
	}
	if (clean_add >= 0) {
		struct step_name a, d;

		name_layer(ctx, &df, &w, (size_t)clean_add, &a);
		name_layer(ctx, &df, &w, (size_t)clean_del, &d);
		/* a step the message has named already is not quoted twice */
		if ((left_files[LISTS] && first_bad[LISTS] == (size_t)clean_add) ||
		    (left_files[DEBS] && first_bad[DEBS] == (size_t)clean_add))
			strbuf_addstr(&msg, "; the same step also adds ");
		else
			strbuf_addf(&msg, "%s%s adds ", msg.len ? "; " : "", a.text);
		{
			/* lists or packages, whichever the layer had more of */
			enum what k = LISTS;
			unsigned long nl = 0, nd = 0;
			for (size_t i = 0; i < rp.n; i++)
				if (rp.r[i].layer == (size_t)clean_add && rp.r[i].deleted_by == clean_del && !rp.r[i].replaced) {
					if (rp.r[i].what == LISTS)
						nl++;
					else
						nd++;
				}
			if (nd > nl)
				k = DEBS;
			add_count(&msg, clean_files, clean_bytes, k);
		}
		strbuf_addf(&msg, " and %s deletes them: they are gone from the final filesystem, but their %.1f MB stay "
			    "in the earlier layer", d.text, (double)clean_bytes / 1e6);
		if (!cause) {
			cause = "cleaned-later";
			result_evidence(res, "step", json_string(a.instr));
			result_evidence(res, "later_step", json_string(d.instr));
			result_evidence(res, "files", json_integer((json_int_t)clean_files));
			result_evidence(res, "bytes", json_integer((json_int_t)clean_bytes));
			result_evidence(res, "mb", json_real((double)clean_bytes / 1e6));
			if (a.line) {
				result_evidence(res, "line", json_string(a.line_text));
				result_evidence(res, "line_number", json_integer(a.line));
			}
			if (d.line) {
				result_evidence(res, "later_line", json_string(d.line_text));
				result_evidence(res, "later_line_number", json_integer(d.line));
			}
			if (a.cmd[0] && d.cmd[0])
				strbuf_addf(&corrected, "RUN %s && %s", a.cmd, d.cmd);
		}
		step_name_release(&a);
		step_name_release(&d);
	}

	if (!cause) {
		result_set(res, CHECK_PASS, "none of the image's %zu layers of its own leaves package lists under /%s or "
			   ".deb files under /%s, and none ships them for a later layer to delete (layers read %s)%s",
			   w.nlayers - nbase, lists, archives, w.how && !strcmp(w.how, "in place") ? "in place" :
			   "from docker save", notes.buf);
		goto out;
	}
	result_cause(res, cause);
	result_evidence(res, "corrected", json_string(corrected.len ? corrected.buf : LESSON_RUN));
	result_set(res, CHECK_FAIL, "%s%s", msg.buf, notes.buf);
	if (!strcmp(cause, "cleaned-later"))
		result_hint(res, "a later RUN only hides the files: clean up in the same RUN that installs, `apt-get update "
			    "&& apt-get install -y --no-install-recommends ... && rm -rf /var/lib/apt/lists/*`");
	else
		result_hint(res, "clean up in the same RUN that installs: `apt-get update && apt-get install -y "
			    "--no-install-recommends ... && rm -rf /var/lib/apt/lists/*` (`apt-get clean` alone empties "
			    "the package cache but leaves the lists)");
out:
	for (size_t i = 0; i < rp.n; i++)
		free(rp.r[i].path);
	for (size_t d = 0; d < rp.ndels; d++)
		free(rp.dels[d].path);
	free(rp.r);
	free(rp.dels);
	free(own);
	engine_layers_release(&w);
	df_instrs_release(&df);
	strbuf_release(&msg);
	strbuf_release(&notes);
	strbuf_release(&corrected);
	free(lists);
	free(archives);
}

const struct check_kind check_apt_clean = {
	.name = "apt-clean",
	.summary = "no package lists or downloaded packages in any layer of the image",
	.needs = NEED_IMAGE,
	.params = params,
	.causes = causes,
	.run = run,
};
