/*
 * registry-image: the registry serves <repository>:<tag>, the tag being the
 * commit checked, and what it serves is what the tree builds: the manifest
 * (by tag) and its config are read through the Registry HTTP API
 * (lib/registry.h), never a layer, and the config's layers (rootfs.diff_ids)
 * are compared with the image built here (RootFS.Layers): equal, the
 * registry serves this tree's image.
 *
 * The registry is $PHASELAB_REGISTRY, else the parameter; the repository
 * may carry {learner}, filled from $PHASELAB_LEARNER (grade sets it), so a
 * class can push to one registry.  The tag is the short commit id (7 hex,
 * as `git rev-parse --short=7`), else the full one.  A dirty tree is told
 * so: the tag names the commit, the tree holds more.
 *
 * What is whose: no tag of this commit, only :latest, or other layers are
 * the learner's (fail).  A registry that does not answer as one at /v2/
 * (nothing listens, a login wanted, not the registry API) makes the
 * environment unusable: error, and the run exits 3, with the command that
 * starts the local one.  A registry that answers /v2/ and then gives a
 * broken answer (a 500, an HTML page, a redirect off this machine, a body
 * over the cap or not matching its digest) is an error of this item only.
 */
#include "core/check.h"
#include "lib/escape.h"
#include "lib/git.h"
#include "lib/registry.h"
#include "lib/xalloc.h"

#include <stdlib.h>
#include <string.h>

static const struct key_spec params[] = {
	{ "registry", KEY_STRING, 0, 1, 255, "host:port of the registry ($PHASELAB_REGISTRY overrides)",
	  "127.0.0.1:5000" },
	{ "repository", KEY_STRING, 0, 1, 255, "the repository; {learner} is the learner's id", "prod-e-backend" },
	{ NULL, 0, 0, 0, 0, NULL, NULL },
};

static const char *const causes[] = {
	"not-pushed",   /* no tag of this commit (nor latest) */
	"latest-only",  /* only :latest is there */
	"differs",      /* the tag serves other layers than the tree builds */
	"no-commit",    /* the folder is not in a git repository with a commit */
	NULL,
};

/* What starts a registry here, for the messages of an unusable one. */
#define START_REGISTRY "`labs/setup` in the phaselab folder starts the local registry on 127.0.0.1:5000 " \
	"(or `make registry`); PHASELAB_REGISTRY names another"

/* The repository with {learner} filled in (new string), or NULL with the reason in err. */
static char *fill_learner(const char *tmpl, struct strbuf *err)
{
	const char *learner = getenv("PHASELAB_LEARNER");
	struct strbuf sb = STRBUF_INIT;
	const char *p = tmpl, *at;

	while ((at = strstr(p, "{learner}"))) {
		if (!learner || !*learner) {
			strbuf_addf(err, "the repository '%s' holds {learner}, but PHASELAB_LEARNER is not set: "
				    "set it to the learner's id (grade sets it for each learner)", tmpl);
			strbuf_release(&sb);
			return NULL;
		}
		strbuf_add(&sb, p, (size_t)(at - p));
		strbuf_addstr(&sb, learner);
		p = at + strlen("{learner}");
	}
	strbuf_addstr(&sb, p);
	if (!registry_repo_valid(sb.buf)) {
		strbuf_addstr(err, "the repository '");
		escape_utf8(err, sb.buf, escape_cut(sb.buf, sb.len, 255));
		strbuf_addstr(err, "' is not a name a registry takes: lowercase letters and digits, in components "
			      "joined by '/', with '.', '_' or '-' between them");
		if (strstr(tmpl, "{learner}"))
			strbuf_addstr(err, " (its {learner} comes from PHASELAB_LEARNER)");
		strbuf_release(&sb);
		return NULL;
	}
	return strbuf_detach(&sb, NULL);
}

/* The step a history line records, as the Dockerfile says it (for people). */
static void add_step(struct strbuf *out, const char *created_by)
{
	static const char nop[] = "/bin/sh -c #(nop) ", sh[] = "/bin/sh -c ", bk[] = " # buildkit";
	const char *s = created_by;
	size_t n;

	if (!strncmp(s, nop, sizeof(nop) - 1)) {
		s += sizeof(nop) - 1;
	} else if (!strncmp(s, sh, sizeof(sh) - 1)) {
		strbuf_addstr(out, "RUN ");
		s += sizeof(sh) - 1;
	} else if (!strncmp(s, "RUN /bin/sh -c ", 15)) {
		strbuf_addstr(out, "RUN ");
		s += 15;
	}
	while (*s == ' ')
		s++;
	n = strlen(s);
	if (n >= sizeof(bk) - 1 && !strcmp(s + n - (sizeof(bk) - 1), bk))
		n -= sizeof(bk) - 1;
	while (n && s[n - 1] == ' ')
		n--;
	escape_truncate(out, s, n, 120);
}

/* The step that made layer index (0-based) in the config's history, or 0 when it records none. */
static int layer_step(json_t *config, size_t index, struct strbuf *out)
{
	json_t *h, *history = json_object_get(config, "history");
	size_t i, layer = 0;

	json_array_foreach(history, i, h) {
		const char *by = json_string_value(json_object_get(h, "created_by"));
		if (json_is_true(json_object_get(h, "empty_layer")))
			continue;
		if (layer++ != index)
			continue;
		if (!by || !*by)
			return 0;
		add_step(out, by);
		return 1;
	}
	return 0;
}

/* How many leading layers the two lists share. */
static size_t common_prefix(json_t *a, json_t *b)
{
	size_t n = 0;

	while (n < json_array_size(a) && n < json_array_size(b)) {
		const char *x = json_string_value(json_array_get(a, n)), *y = json_string_value(json_array_get(b, n));
		if (!x || !y || strcmp(x, y))
			break;
		n++;
	}
	return n;
}

static int same_layers(json_t *a, json_t *b)
{
	return json_array_size(a) == json_array_size(b) && common_prefix(a, b) == json_array_size(a);
}

struct target {
	struct registry reg;
	const char *repo;
	char short_id[8];
	struct git_state git;
	const char *local_name;   /* the repository's last component, for `docker build -t` */
	const char *os, *arch, *variant;
	json_t *layers;           /* this build's (borrowed from ctx->image) */
};

/* The commands that push this commit's image, one a line (into the hint and the evidence). */
static void push_commands(struct strbuf *out, const struct target *t)
{
	strbuf_addf(out, "docker build -t %s:%s .\n", t->local_name, t->short_id);
	strbuf_addf(out, "docker tag %s:%s %s/%s:%s\n", t->local_name, t->short_id, t->reg.name, t->repo, t->short_id);
	strbuf_addf(out, "docker push %s/%s:%s", t->reg.name, t->repo, t->short_id);
}

/* A registry failure as the item's error; one that stopped answering makes the environment unusable. */
static void registry_error(struct check_ctx *ctx, struct check_result *res, const struct target *t,
			   enum reg_status st, const char *doing)
{
	if (st == REG_UNREACHABLE) {
		ctx->env_broken = 1;
		result_set(res, CHECK_ERROR, "the registry at %s stopped answering while %s: %s", t->reg.name, doing,
			   t->reg.err.buf);
		result_hint(res, "this is the environment's failure, not yours: %s", START_REGISTRY);
		return;
	}
	result_set(res, CHECK_ERROR, "the registry at %s gave an answer phaselab cannot use while %s: %s", t->reg.name,
		   doing, t->reg.err.buf);
	if (st == REG_AUTH)
		result_hint(res, "phaselab reads, stores and sends no credentials: check against a registry that needs "
			    "no login (the local one: %s)", START_REGISTRY);
	else
		result_hint(res, "this is the registry's failure, not yours: check that %s is a Docker registry "
			    "(curl http://%s/v2/) and run the check again", t->reg.name, t->reg.name);
}

/* The dirty tree's note, for the messages: "" when it is clean. */
static const char *dirty_note(const struct target *t)
{
	return t->git.dirty ? "; note: the tree has changes beyond that commit (uncommitted or untracked files), "
			      "so the tag names the commit, not all of what was checked" : "";
}

static void run(struct check_ctx *ctx, const struct check_def *def, struct check_result *res)
{
	const char *env = getenv("PHASELAB_REGISTRY");
	const char *regname = env && *env ? env : param_str(def, "registry");
	struct strbuf err = STRBUF_INIT, cmds = STRBUF_INIT, ref = STRBUF_INIT;
	struct reg_manifest m;
	struct target t;
	const char *tags[2], *found = NULL;
	json_t *config = NULL, *diff_ids;
	enum reg_status st;
	char *repo = NULL;
	int g;

	memset(&t, 0, sizeof(t));
	strbuf_init(&t.reg.err, 0);
	t.layers = json_object_get(json_object_get(ctx->image, "RootFS"), "Layers");
	t.os = json_string_value(json_object_get(ctx->image, "Os"));
	t.arch = json_string_value(json_object_get(ctx->image, "Architecture"));
	t.variant = json_string_value(json_object_get(ctx->image, "Variant"));
	if (!t.os || !*t.os)
		t.os = "linux";
	if (!t.arch || !*t.arch)
		t.arch = "amd64";
	if (!json_is_array(t.layers) || json_array_size(t.layers) == 0) {
		result_set(res, CHECK_ERROR, "the engine's description of the image lists no layers (RootFS.Layers)");
		goto out;
	}

	repo = fill_learner(param_str(def, "repository"), &err);
	if (!repo) {
		result_set(res, CHECK_ERROR, "%s", err.buf);
		goto out;
	}
	t.repo = repo;
	t.local_name = strrchr(repo, '/') ? strrchr(repo, '/') + 1 : repo;
	result_evidence(res, "repository", json_string(repo));

	g = git_describe_dir(ctx->dir, &t.git);
	if (g < 0) {
		result_set(res, CHECK_ERROR, "cannot read the git repository of '%s'", ctx->dir);
		goto out;
	}
	if (g == 0) {
		result_cause(res, "no-commit");
		result_set(res, CHECK_FAIL, "the service folder is not in a git repository with a commit: the image's "
			   "tag is the commit's id, so there is nothing to look for in the registry");
		result_hint(res, "commit your work (git add, git commit), then build, tag the image with `git rev-parse "
			    "--short=7 HEAD` and push it");
		goto out;
	}
	memcpy(t.short_id, t.git.commit, 7);
	result_evidence(res, "commit", json_string(t.git.commit));
	result_evidence(res, "short", json_string(t.short_id));
	result_evidence(res, "dirty", json_boolean(t.git.dirty));

	if (registry_open(&t.reg, regname, def->timeout_ms, &err) < 0) {
		result_set(res, CHECK_ERROR, "%s%s", err.buf, env && *env ? " (from PHASELAB_REGISTRY)" : "");
		goto out;
	}
	result_evidence(res, "registry", json_string(t.reg.name));
	push_commands(&cmds, &t);
	result_evidence(res, "commands", json_string(cmds.buf));

	st = registry_ping(&t.reg);
	if (st != REG_OK) {
		/* /v2/ is the registry saying it is one: without it, nothing here is usable */
		ctx->env_broken = 1;
		if (st == REG_UNREACHABLE)
			result_set(res, CHECK_ERROR, "no registry answers at %s%s: %s", t.reg.name,
				   env && *env ? " (PHASELAB_REGISTRY)" : "", t.reg.err.buf);
		else if (st == REG_AUTH)
			result_set(res, CHECK_ERROR, "the registry at %s wants a login: %s; phaselab reads, stores and "
				   "sends no credentials", t.reg.name, t.reg.err.buf);
		else
			result_set(res, CHECK_ERROR, "%s does not answer as a registry: %s", t.reg.name, t.reg.err.buf);
		result_hint(res, "this is the environment's failure, not yours: %s", START_REGISTRY);
		goto out;
	}

	tags[0] = t.short_id;
	tags[1] = t.git.commit;
	for (int i = 0; i < 2 && !found; i++) {
		st = registry_manifest(&t.reg, repo, tags[i], t.os, t.arch, t.variant, &m);
		if (st == REG_OK || st == REG_NO_PLATFORM)
			found = tags[i];
		else if (st != REG_NOT_FOUND) {
			registry_error(ctx, res, &t, st, "reading the manifest");
			goto out;
		}
	}

	if (!found) {
		int latest_same = 0;

		st = registry_manifest(&t.reg, repo, "latest", t.os, t.arch, t.variant, &m);
		if (st != REG_OK && st != REG_NOT_FOUND && st != REG_NO_PLATFORM) {
			registry_error(ctx, res, &t, st, "looking for :latest");
			goto out;
		}
		if (st == REG_OK && registry_blob_json(&t.reg, repo, m.config_digest, &config) == REG_OK)
			latest_same = same_layers(json_object_get(json_object_get(config, "rootfs"), "diff_ids"),
						  t.layers);
		if (st != REG_NOT_FOUND) {
			result_cause(res, "latest-only");
			result_evidence(res, "tag", json_string("latest"));
			result_set(res, CHECK_FAIL, "%s/%s has :latest but no tag of commit %s (neither :%s nor the full "
				   "id)%s: the material's own practice is a specific version tag, never latest, for what "
				   "is deployed, since latest says nothing of which build runs and moves with every push%s",
				   t.reg.name, repo, t.short_id, t.short_id,
				   latest_same ? "; its :latest is the image this tree builds" : "", dirty_note(&t));
		} else {
			result_cause(res, "not-pushed");
			result_evidence(res, "tag", json_string(t.short_id));
			result_set(res, CHECK_FAIL, "%s/%s has no tag of commit %s (neither :%s nor the full id), the "
				   "commit this tree is at: the image was not pushed%s", t.reg.name, repo, t.short_id,
				   t.short_id, dirty_note(&t));
		}
		result_hint(res, "tag the image with the commit's short id and push that tag%s, in the service folder:\n%s",
			    t.git.dirty ? " (commit your changes first: the id changes)" : "", cmds.buf);
		goto out;
	}

	strbuf_addf(&ref, "%s/%s:%s", t.reg.name, repo, found);
	result_evidence(res, "tag", json_string(found));
	result_evidence(res, "reference", json_string(ref.buf));
	if (st == REG_NO_PLATFORM) {
		result_cause(res, "differs");
		result_evidence(res, "platforms", json_string(m.platforms));
		result_set(res, CHECK_FAIL, "%s is an index with no %s/%s image (it holds %s): the registry's image is "
			   "not what the tree builds%s", ref.buf, t.os, t.arch, *m.platforms ? m.platforms : "none",
			   dirty_note(&t));
		result_hint(res, "build the image here, then tag and push it again:\n%s", cmds.buf);
		goto out;
	}
	result_evidence(res, "manifest_digest", json_string(m.digest));
	result_evidence(res, "config_digest", json_string(m.config_digest));
	if (*m.platform)
		result_evidence(res, "platform", json_string(m.platform));

	st = registry_blob_json(&t.reg, repo, m.config_digest, &config);
	if (st != REG_OK) {
		registry_error(ctx, res, &t, st, "reading the image's config");
		goto out;
	}
	diff_ids = json_object_get(json_object_get(config, "rootfs"), "diff_ids");
	if (!json_is_array(diff_ids)) {
		result_set(res, CHECK_ERROR, "the config %s that %s names has no rootfs.diff_ids to compare",
			   m.config_digest, ref.buf);
		goto out;
	}
	result_evidence(res, "layers", json_integer((json_int_t)json_array_size(diff_ids)));
	result_evidence(res, "local_layers", json_integer((json_int_t)json_array_size(t.layers)));

	if (same_layers(diff_ids, t.layers)) {
		result_set(res, CHECK_PASS, "the registry serves %s (manifest %s%s%s, %zu layers), the image this tree "
			   "builds%s%s", ref.buf, m.digest, *m.platform ? ", " : "", *m.platform ? m.platform : "",
			   json_array_size(diff_ids), found == tags[1] ? " (tagged with the full commit id)" : "",
			   t.git.dirty ? "; note: the tree has changes beyond that commit, none of which changes the image"
			   : "");
	} else {
		size_t same = common_prefix(diff_ids, t.layers);
		struct strbuf step = STRBUF_INIT;

		result_cause(res, "differs");
		result_evidence(res, "matching_layers", json_integer((json_int_t)same));
		if (same < json_array_size(diff_ids) && layer_step(config, same, &step))
			result_evidence(res, "step", json_string(step.buf));
		if (same == json_array_size(diff_ids))
			/* all of the registry's, and this build has more */
			strbuf_addf(&ref, " is not the image this tree builds: its %zu layers are this build's first, and "
				    "this build has %zu more", same, json_array_size(t.layers) - same);
		else if (same == 0)
			strbuf_addf(&ref, " is not the image this tree builds: none of its %zu layers is this build's "
				    "(of %zu)", json_array_size(diff_ids), json_array_size(t.layers));
		else
			strbuf_addf(&ref, " is not the image this tree builds: the first %zu of its %zu layers are this "
				    "build's (of %zu), and from layer %zu on they differ", same, json_array_size(diff_ids),
				    json_array_size(t.layers), same + 1);
		if (step.len)
			strbuf_addf(&ref, " (the registry's layer %zu was made by `%s`)", same + 1, step.buf);
		result_set(res, CHECK_FAIL, "%s: the registry's image is not what the tree builds%s", ref.buf,
			   dirty_note(&t));
		result_hint(res, "the tree changed after the push, or another build was pushed: build, tag and push "
			    "again%s; a build by the other builder or without the build cache makes other layers from the "
			    "same tree, so build with the one phaselab uses%s:\n%s",
			    t.git.dirty ? " (commit your changes first: the tag is the commit's id)" : "",
			    !ctx->engine ? "" : ctx->engine->builder == BUILDER_BUILDKIT ? " (BuildKit: DOCKER_BUILDKIT=1)"
			    : " (the legacy builder)", cmds.buf);
		strbuf_release(&step);
	}
out:
	json_decref(config);
	registry_release(&t.reg);
	strbuf_release(&err);
	strbuf_release(&cmds);
	strbuf_release(&ref);
	free(repo);
}

const struct check_kind check_registry_image = {
	.name = "registry-image",
	.summary = "the registry serves, under the commit's tag, the image the tree builds",
	.needs = NEED_IMAGE,
	.params = params,
	.causes = causes,
	.run = run,
};
