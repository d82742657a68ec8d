/*
 * podman: the engine as the podman CLI (or $PHASELAB_PODMAN), rootful or
 * rootless, as Debian 12 ships it (4.3.1, buildah 1.28).
 *
 * Where podman's CLI takes the same words and answers in the same shape as
 * docker's (inspect, exec, logs, export, save, rm, rmi, the label
 * listings), the call is docker.c's own through engine_docker's table: both
 * build `<e->cli> words...`; the plumbing both CLI engines share (calls,
 * failures, JSON, run and build arguments) is engine/cli.c's, in podman's
 * own words where docker's say "the engine".  What differs is here (the
 * facts are in spec/engines.md):
 *  - builds in docker format (podman's default, OCI, drops HEALTHCHECK),
 *    both streams into one file so a RUN's stderr stays in its step;
 *  - health: 4.3 runs periodic probes from systemd timers, which a CI box
 *    or a container does not have, and ignores --health-interval without
 *    --health-cmd; so each engine_health call runs the image's probe once
 *    (`podman healthcheck run`, which applies the image's timeout, start
 *    period and retries) when the interval the run asked for has passed,
 *    then reads the state podman recorded;
 *  - the process user from `podman top ... user huser pid args`, which needs
 *    no `ps` in the container (a ps-style argument would run one inside);
 *  - history answers one JSON array, sizes as numbers;
 *  - names carry no leading '/', and the storage driver is "overlay".
 * Rootless (`podman info`'s Host.Security.Rootless, run as an unprivileged
 * user: labs/rootless): the user's storage is mounted in podman's own user
 * and mount namespaces, not ours, so a container's filesystem is exported,
 * never read in place; `podman top` says the process's user on the host
 * (huser) is ours or one of our subordinate ids, so the container's own uid
 * (what the nonroot check decides on) is read back through the process's
 * uid_map; ports are published by the rootless port handler, on our loopback
 * as rootful ones are.
 */
#include "engine/cli.h"
#include "engine/engine-impl.h"
#include "lib/fsutil.h"
#include "lib/timeutil.h"
#include "lib/xalloc.h"

#include <pwd.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The implementation's state: when each container's probe last ran. */
#define PROBES_MAX 16
#define TIMEOUTS_KEPT 5 /* the engine's log keeps the last five probes */
struct podman_priv {
	long interval_ms;        /* what the last run asked for (0: the run's default below) */
	struct {
		char id[65];
		long long last_ms;
		int timeouts;    /* probes in a row that outlived the image's timeout */
		int program;     /* rootless: the probe's program is in the image (1, 0; -1 not looked) */
		char started[TIMEOUTS_KEPT][40]; /* when the last of them started (RFC 3339), a ring */
	} probes[PROBES_MAX];
};

/* The interval a run gets when it asked for none (docker's shortest the lesson uses). */
#define PROBE_DEFAULT_MS 250

/* podman names itself in its messages; docker.c speaks of "the engine". */
static const struct cli_voice voice = {
	.name = "podman",
	.starting = "starting podman",
	/* a podman connected to a service (remote, or the rootless socket) that stopped answering */
	.lost = (const char *const[]){ "unable to connect to Podman", "Cannot connect to Podman", NULL },
};

static int failed(struct engine *e, struct proc *p, const char *what)
{
	return cli_failed(e, &voice, p, what);
}

/* `<cli> words...` with a deadline (0: call_timeout_ms).  Returns p->status, or -1 (e->err). */
static int call(struct engine *e, struct proc *p, const char *const *words, long timeout_ms)
{
	return cli_call_words(e, &voice, p, timeout_ms, words);
}

static int podman_ping(struct engine *e)
{
	static const char *const words[] = { "info", "--format", "{{.Store.GraphDriverName}}", NULL };
	struct proc p = PROC_INIT;
	int up = call(e, &p, words, 10000) == 0 && p.out.len > 0;

	proc_release(&p);
	return up;
}

/* 1 rootless, 0 rootful, -1 podman could not say (e->err) */
static int podman_rootless(struct engine *e)
{
	static const char *const words[] = { "info", "--format", "{{.Host.Security.Rootless}}", NULL };
	struct proc p = PROC_INIT;
	int rc;

	if (call(e, &p, words, 20000) != 0) {
		rc = failed(e, &p, "asking podman whether it is rootless");
	} else {
		strbuf_rtrim(&p.out);
		rc = !strcmp(p.out.buf, "true");
	}
	proc_release(&p);
	return rc;
}

static int podman_open(struct engine *e)
{
	static const char *const words[] = { "version", "--format", "{{json .}}", NULL };
	struct proc p = PROC_INIT;
	json_t *j = NULL, *client, *server;
	int rc = -1;

	e->cli = getenv("PHASELAB_PODMAN");
	if (!e->cli || !*e->cli)
		e->cli = "podman";
	e->priv = xcalloc(1, sizeof(struct podman_priv));
	call(e, &p, words, 20000);
	if (p.status == PROC_NOT_FOUND && p.exec_errno) {
		engine_fail(e, "no podman: '%s' is not on PATH; install it (labs/setup --packages, or apt-get "
			    "install podman) or point PHASELAB_PODMAN at the podman CLI", e->cli);
		goto out;
	}
	if (p.interrupted) {
		engine_fail(e, "interrupted while asking podman for its version");
		goto out;
	}
	j = json_loadb(p.out.buf, p.out.len, 0, NULL);
	client = json_object_get(j, "Client");
	/* a local podman has no server of its own: a remote connection's is "Server" */
	server = json_object_get(j, "Server");
	if (p.status != 0 || !json_is_object(client)) {
		struct strbuf words_sb = STRBUF_INIT;
		cli_words(&p, &words_sb);
		engine_fail(e, "podman does not answer (%s): check `%s info` as root", words_sb.len ? words_sb.buf : "no answer",
			    e->cli);
		strbuf_release(&words_sb);
		goto out;
	}
	e->client_version = xstrdup(json_string_value(json_object_get(client, "Version")) ?: "unknown");
	e->server_version = xstrdup(json_string_value(json_object_get(json_is_object(server) ? server : client,
								      "Version")) ?: "unknown");
	e->builder = BUILDER_BUILDAH;
	e->rootless = podman_rootless(e);
	if (e->rootless < 0)
		goto out;
	rc = 0;
out:
	json_decref(j);
	proc_release(&p);
	return rc;
}

static void podman_close(struct engine *e)
{
	free(e->priv);
	e->priv = NULL;
}

/* --- builds ------------------------------------------------------------ */

/* util-linux's unshare(1), which Debian installs with every system */
#define UNSHARE "/usr/bin/unshare"

/*
 * A build argument naming the run.  No Dockerfile declares it, so it
 * changes no step and no cache key (buildah then warns that it was not
 * consumed; the warning is ours, cut from the output), but buildah keeps it
 * in each working container's state, where sweep_working finds it.
 */
#define RUN_ARG "PHASELAB_RUN"

/*
 * A build's request, kept (job->priv) so that podman_build_finish can start
 * it again when another run's removal broke it (storage_raced below).
 */
struct saved_build {
	struct build_request req;
	struct strvec strings;     /* owns what req points at */
	struct strvec build_args;  /* req.build_args when there were any */
	int retries;
};

static struct saved_build *save_build(const struct build_request *req)
{
	struct saved_build *sb = xcalloc(1, sizeof(*sb));

	sb->req = *req;
	strvec_init(&sb->strings);
	strvec_init(&sb->build_args);
	sb->req.context = strvec_push(&sb->strings, req->context);
	sb->req.iidfile = strvec_push(&sb->strings, req->iidfile);
	if (req->tag)
		sb->req.tag = strvec_push(&sb->strings, req->tag);
	if (req->build_args) {
		strvec_pushv(&sb->build_args, req->build_args);
		sb->req.build_args = (const char *const *)sb->build_args.v;
	}
	return sb;
}

static void free_saved_build(struct engine_job *job)
{
	struct saved_build *sb = job->priv;

	if (!sb)
		return;
	strvec_clear(&sb->strings);
	strvec_clear(&sb->build_args);
	free(sb);
	job->priv = NULL;
}

static int podman_build_start(struct engine *e, const struct build_request *req, struct engine_job *job)
{
	static unsigned builds;
	struct strvec args;
	int rc;

	/*
	 * A RUN step is a runtime container that `podman build` starts and
	 * never stops when it is killed (a deadline, an interrupt): its
	 * processes outlive the build (docker's daemon cancels them).  So the
	 * build runs as the first process of a pid namespace of its own:
	 * when it ends, however it ends, the kernel kills everything left in
	 * that namespace, the steps' containers (nested in it) included.  Its
	 * own /proc (--mount-proc, in a mount namespace of its own) is the one
	 * buildah reads the steps' namespaces from.  Rootless, only the user's
	 * namespace (`podman unshare`) may make one; podman run in it knows
	 * it is there already.
	 */
	strvec_init(&args);
	if ((e->rootless || geteuid() == 0) && access(UNSHARE, X_OK) == 0) {
		if (e->rootless)
			strvec_pushv(&args, (const char *const[]){ e->cli, "unshare", NULL });
		strvec_pushv(&args, (const char *const[]){ UNSHARE, "--pid", "--fork", "--mount-proc", "--kill-child", "--", NULL });
	}
	strvec_pushv(&args, (const char *const[]){ e->cli, "build", "--format", "docker", "--layers", "--force-rm", NULL });
	/* the run's name on its working containers (sweep_working) */
	strvec_push(&args, "--build-arg");
	strvec_pushf(&args, "%s=%s", RUN_ARG, e->run_id);
	/* always one file: a RUN's stderr belongs to its step, which only the merged order shows */
	rc = cli_build_start(e, req, job, &args, &builds);
	if (rc == 0 && !job->priv)
		job->priv = save_build(req);
	return rc;
}

/*
 * Podman has no daemon to hold an image while a build reads it: another
 * run's removal of an image of the build cache (or of its layer) between
 * buildah's looking it up and reading it fails the build with podman's
 * "... not known".  That is the engine's, never the learner's: an error
 * (the check said so, and the next check builds again).
 */
static const char *const storage_raced[] = {
	"layer not known", "image not known", "locating image with ID", NULL
};

/*
 * buildah's error for an ignore file it cannot use quotes every pattern of
 * it ("processing excludes list [a b[ c]: syntax error in pattern"), and it
 * reads that file through a symlink out of the submission, which docker's
 * CLI reports without its contents.  The list is cut out of text[0..*len)
 * (in place, shorter): "[...]".  Returns the new length.
 */
static size_t hide_excludes(char *text, size_t len)
{
	static const char mark[] = "excludes list [";
	char *at = text, *end = text + len;

	while ((at = memmem(at, (size_t)(end - at), mark, sizeof(mark) - 1))) {
		char *open = at + sizeof(mark) - 1, *eol = memchr(open, '\n', (size_t)(end - open)), *close = NULL;

		if (!eol)
			eol = end;
		for (char *q = open; q + 1 < eol; q++)
			if (q[0] == ']' && q[1] == ':')
				close = q; /* the last "]:" of the line closes the list */
		if (!close || close - open < 3) {
			at = open;
			continue;
		}
		memcpy(open, "...", 3);
		memmove(open + 3, close, (size_t)(end - close));
		end -= (close - open) - 3;
		at = open + 3;
	}
	return (size_t)(end - text);
}

/*
 * buildah's warning that RUN_ARG was not consumed ("[Warning] one or more
 * build args were not consumed: [A PHASELAB_RUN]"): the argument is ours,
 * so it leaves the list, and the line goes when nothing else is in it.
 * In place in text[0..len); returns the new length.
 */
size_t podman_hide_run_arg(char *text, size_t len)
{
	static const char mark[] = "build args were not consumed: [";
	char *at = text, *end = text + len;

	while ((at = memmem(at, (size_t)(end - at), mark, sizeof(mark) - 1))) {
		char *open = at + sizeof(mark) - 1, *eol = memchr(open, '\n', (size_t)(end - open));
		char *close = memchr(open, ']', (size_t)((eol ? eol : end) - open)), *w = open;
		size_t n = strlen(RUN_ARG);

		if (!close) {
			at = open;
			continue;
		}
		/* the list's words are space-separated: find ours as a whole word */
		while (w < close && !((size_t)(close - w) >= n && (w + n == close || w[n] == ' ') && !memcmp(w, RUN_ARG, n))) {
			char *sp = memchr(w, ' ', (size_t)(close - w));
			w = sp ? sp + 1 : close;
		}
		if (w >= close) {
			at = close;
			continue;
		}
		if (w + n == close && w > open)
			w--, n++; /* the last word: its space before it goes */
		else if (w + n < close)
			n++; /* its space after it */
		memmove(w, w + n, (size_t)(end - w - n));
		end -= n;
		close -= n;
		if (close == open) { /* nothing left: the whole line */
			char *bol = at, *next;

			while (bol > text && bol[-1] != '\n')
				bol--;
			next = memchr(close, '\n', (size_t)(end - close));
			next = next ? next + 1 : end;
			memmove(bol, next, (size_t)(end - next));
			end -= next - bol;
			at = bol;
		} else {
			at = close;
		}
	}
	return (size_t)(end - text);
}

/* a build broken by another run's removal is started again, at most this often */
#define RACED_RETRIES 2

static int raced(const struct build_result *res)
{
	for (const char *const *w = storage_raced; res->log.error && *w; w++)
		if (strstr(res->log.error, *w))
			return 1;
	return 0;
}

static int sweep_working(struct engine *e, const char *run_id);

static int podman_build_finish(struct engine *e, struct engine_job *job, struct build_result *res)
{
	struct saved_build *sb = job->priv;
	int rc = cli_build_finish(e, &voice, job, res);

	/*
	 * The storage changed under the build (another run's removal): built
	 * again, as a learner would, from what is there now.  Not after an
	 * interrupt or a deadline: those are final.
	 */
	while (rc == 1 && sb && sb->retries < RACED_RETRIES && raced(res) && !res->interrupted &&
	       !res->timed_out && !e->interrupted) {
		sb->retries++;
		build_result_release(res);
		build_result_init(res);
		if (podman_build_start(e, &sb->req, job) < 0) {
			free_saved_build(job);
			return -1;
		}
		rc = cli_build_finish(e, &voice, job, res);
	}
	free_saved_build(job);
	/* a build killed at its deadline leaves its working containers (an interrupt's go with the run's sweep) */
	if (res->timed_out && !e->interrupted && sweep_working(e, e->run_id) < 0)
		strbuf_reset(&e->err);
	if (res->log.error)
		res->log.error[hide_excludes(res->log.error, strlen(res->log.error))] = '\0';
	if (res->output.len) {
		strbuf_setlen(&res->output, hide_excludes(res->output.buf, res->output.len));
		strbuf_setlen(&res->output, podman_hide_run_arg(res->output.buf, res->output.len));
	}

	if (rc == 1 && raced(res))
		return engine_fail(e, "podman's storage changed under the build (another run removed "
				   "an image it was reading, %d times): %s", RACED_RETRIES + 1, res->log.error);
	return rc;
}

/* --- images ------------------------------------------------------------ */

/*
 * Docker's shape: podman keeps an image's HEALTHCHECK at the top level
 * ("Healthcheck"), docker in Config; the checks read Config.
 */
static int podman_image_inspect(struct engine *e, const char *ref, json_t **out)
{
	json_t *config, *hc;

	if (engine_docker.image_inspect(e, ref, out) < 0)
		return -1;
	config = json_object_get(*out, "Config");
	hc = json_object_get(*out, "Healthcheck");
	if (json_is_object(config) && json_is_object(hc) && !json_object_get(config, "Healthcheck"))
		json_object_set(config, "Healthcheck", hc);
	return 0;
}

/* `history --format {{json .}}` is one array here, with "size" a number. */
static int podman_history(struct engine *e, const char *image, struct history_row **rows, size_t *n)
{
	const char *const words[] = { "history", "--no-trunc", "--format", "{{json .}}", "--", image, NULL };
	json_t *arr = cli_json(e, &voice, words, "reading the image's history"), *row;
	size_t i, cap = 0;

	if (!arr)
		return -1;
	json_array_foreach(arr, i, row) {
		const char *created_by = json_string_value(json_object_get(row, "CreatedBy"));
		json_t *size = json_object_get(row, "size");

		if (!created_by)
			continue;
		if (*n == cap)
			*rows = xrealloc(*rows, (cap = cap ? cap * 2 : 16) * sizeof(**rows));
		(*rows)[*n].size = json_is_integer(size) && json_integer_value(size) > 0 ? json_integer_value(size) : 0;
		(*rows)[*n].created_by = xstrdup(created_by);
		(*n)++;
	}
	json_decref(arr);
	return 0;
}

static int podman_image_layers(struct engine *e, json_t *image, int in_place, struct layer_walk *w)
{
	/*
	 * podman's storage is not overlay2's layout: layers_in_place declines, and
	 * `podman save` is docker's archive; a rootless user's layers are its
	 * subordinate ids' files, never read in place
	 */
	return engine_docker.image_layers(e, image, in_place && !e->rootless, w);
}

/* --- containers -------------------------------------------------------- */

static int podman_run(struct engine *e, const struct run_request *req, char *id, size_t id_size)
{
	struct podman_priv *pv = e->priv;
	struct strvec args, extra = STRVEC_INIT;
	struct proc p = PROC_INIT;
	int rc = -1;

	/*
	 * Rootless on cgroups v1 has no cgroup of its own: podman ignores the
	 * memory, CPU and pids limits (and says so).  The pids limit at least
	 * holds as the processes' ulimit (counted per uid in the container's
	 * namespace), so a fork bomb still stops.
	 */
	if (e->rootless && req->pids > 0 && !req->create_only && access("/sys/fs/cgroup/cgroup.controllers", F_OK)) {
		strvec_push(&extra, "--ulimit");
		strvec_pushf(&extra, "nproc=%ld:%ld", req->pids, req->pids);
	}
	/* no --health-interval: 4.3 ignores it; podman_health runs the probe at this pace */
	cli_run_args(e, req, 0, extra.v, &args);
	strvec_clear(&extra);
	pv->interval_ms = req->health_interval_ms;

	/* as docker's: let the call end, so the container it made is known and swept */
	p.uninterruptible = 1;
	if (cli_call(e, &voice, &p, &args, 60000) != 0) {
		failed(e, &p, req->create_only ? "creating a container" : "starting a container");
		strbuf_rtrim(&p.out);
		snprintf(id, id_size, "%s", p.out.len == 64 ? p.out.buf : "");
	} else {
		strbuf_rtrim(&p.out);
		/* podman's systemd complaints go to stderr; the id is stdout's last line */
		const char *last = strrchr(p.out.buf, '\n');
		snprintf(id, id_size, "%s", last ? last + 1 : p.out.buf);
		rc = 0;
	}
	strvec_clear(&args);
	proc_release(&p);
	return rc;
}

static int podman_container_inspect(struct engine *e, const char *id, json_t **out)
{
	return engine_docker.container_inspect(e, id, out);
}

/* The probe's record for id: when it last ran (a slot reused oldest first). */
static long long *probe_slot(struct podman_priv *pv, const char *id, int **timeouts, char (**started)[40])
{
	size_t oldest = 0;

	for (size_t i = 0; i < PROBES_MAX; i++) {
		if (!strncmp(pv->probes[i].id, id, sizeof(pv->probes[i].id) - 1)) {
			*timeouts = &pv->probes[i].timeouts;
			*started = pv->probes[i].started;
			return &pv->probes[i].last_ms;
		}
		if (pv->probes[i].last_ms < pv->probes[oldest].last_ms)
			oldest = i;
	}
	snprintf(pv->probes[oldest].id, sizeof(pv->probes[oldest].id), "%s", id);
	pv->probes[oldest].last_ms = 0;
	pv->probes[oldest].timeouts = 0;
	pv->probes[oldest].program = -1;
	*timeouts = &pv->probes[oldest].timeouts;
	*started = pv->probes[oldest].started;
	return &pv->probes[oldest].last_ms;
}

/*
 * 4.3's `healthcheck run` does not stop a probe at the image's timeout: a
 * probe that hangs holds the call for ever, and podman records nothing.
 * The call has the timeout (and a grace) as its deadline instead; each
 * probe cut off is recorded here as docker records it (exit -1, "Health
 * check exceeded timeout"), and the image's retries of them in a row make
 * the container unhealthy, as on docker.
 */
static void record_timeouts(json_t *info, int timeouts, char (*started)[40], long timeout_ms)
{
	json_t *st = json_object_get(info, "State"), *health = json_object_get(st, "Health"), *log;
	json_int_t retries = json_integer_value(json_object_get(
		json_object_get(json_object_get(info, "Config"), "Healthcheck"), "Retries"));

	if (timeouts <= 0 || !json_is_object(health))
		return;
	if (!json_is_array(log = json_object_get(health, "Log"))) {
		log = json_array();
		json_object_set_new(health, "Log", log);
	}
	/* one entry for each probe cut off (the last five), oldest first, when it started */
	for (int k = timeouts > TIMEOUTS_KEPT ? timeouts - TIMEOUTS_KEPT : 0; k < timeouts; k++)
		json_array_append_new(log, json_pack("{s:s, s:i, s:o}", "Start", started[k % TIMEOUTS_KEPT],
						     "ExitCode", -1, "Output",
						     json_sprintf("Health check exceeded timeout (%lds)", timeout_ms / 1000)));
	json_object_set_new(health, "FailingStreak", json_integer(timeouts));
	if (timeouts >= (retries > 0 ? retries : 3))
		json_object_set_new(health, "Status", json_string("unhealthy"));
}

/* The image's probe timeout in ms from a container's inspect object (30 s when it says none). */
static long probe_timeout_ms(json_t *info)
{
	json_int_t ns = json_integer_value(json_object_get(
		json_object_get(json_object_get(info, "Config"), "Healthcheck"), "Timeout"));

	return ns > 0 && ns / 1000000 < 600000 ? (long)(ns / 1000000) : 30000;
}

static char *podman_rootfs_dir(struct engine *e, json_t *container);

/* Is prog (a probe's program) in the container's filesystem at root, by its path or on PATH? */
static int program_present(json_t *info, const char *root, const char *prog)
{
	const char *path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", *p;
	json_t *env = json_object_get(json_object_get(info, "Config"), "Env"), *v;
	struct stat st;
	size_t i;
	int found = 0;

	if (strchr(prog, '/')) {
		char *at = xasprintf("%s/%s", root, prog);
		found = lstat(at, &st) == 0; /* a link counts: it is the container's, not ours to follow */
		free(at);
		return found;
	}
	json_array_foreach(env, i, v) {
		const char *s = json_string_value(v);
		if (s && !strncmp(s, "PATH=", 5))
			path = s + 5;
	}
	for (p = path; !found && *p; p += strcspn(p, ":"), p += *p == ':') {
		char *at = xasprintf("%s/%.*s/%s", root, (int)strcspn(p, ":"), p, prog);
		found = lstat(at, &st) == 0;
		free(at);
	}
	return found;
}

/*
 * 4.3 records a probe whose program is not in the image as a plain failure
 * (exit 1, no output) and drops the runtime's message, which docker keeps
 * and the healthy check reads.  Put the message back, in the runtime's
 * words, when the image's exec-form probe names a program that is not there.
 */
/* What a layer walk looks for: paths in the image, and whether the last layer to touch each keeps it. */
struct seek {
	const char **paths;
	int *found;
	size_t n;
};

static int seek_entry(void *arg, size_t layer, const struct layer_entry *le)
{
	struct seek *s = arg;

	(void)layer;
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(le->name, s->paths[i]))
			s->found[i] = le->type != LAYER_DELETED; /* a link counts, as lstat's */
	return 0;
}

/*
 * Is prog in the container's image, by its path or on PATH, read from the
 * image's layers (podman save): for a rootless engine, whose storage is
 * not ours to read in place.  1, 0, or -1 when the layers could not be read.
 * (The probe reads the image's files: the container does not write PATH.)
 */
static int program_in_image(struct engine *e, json_t *info, const char *prog)
{
	const char *path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", *p;
	json_t *env = json_object_get(json_object_get(info, "Config"), "Env"), *v, *img = NULL;
	const char *image = json_string_value(json_object_get(info, "Image"));
	struct strvec paths = STRVEC_INIT;
	struct layer_walk w = { 0 };
	struct seek sk;
	size_t i;
	int rc = 0;

	if (!image || podman_image_inspect(e, image, &img) < 0)
		return -1;
	json_array_foreach(env, i, v) {
		const char *str = json_string_value(v);
		if (str && !strncmp(str, "PATH=", 5))
			path = str + 5;
	}
	if (strchr(prog, '/'))
		strvec_pushf(&paths, "%s", prog + strspn(prog, "/"));
	else
		for (p = path; *p; p += strcspn(p, ":"), p += *p == ':')
			if (strcspn(p, ":"))
				strvec_pushf(&paths, "%.*s/%s", (int)strcspn(p + strspn(p, "/"), ":"),
					     p + strspn(p, "/"), prog);
	sk.paths = paths.v;
	sk.n = paths.nr;
	sk.found = xcalloc(sk.n + 1, sizeof(int));
	w.under = paths.v;
	w.fn = seek_entry;
	w.arg = &sk;
	if (engine_image_layers(e, img, &w) < 0)
		rc = -1;
	for (i = 0; rc == 0 && i < sk.n; i++)
		if (sk.found[i])
			rc = 1;
	engine_layers_release(&w);
	free(sk.found);
	strvec_clear(&paths);
	json_decref(img);
	return rc;
}

static void name_missing_probe(struct engine *e, json_t *info, int *known)
{
	json_t *test = json_object_get(json_object_get(json_object_get(info, "Config"), "Healthcheck"), "Test");
	json_t *log = json_object_get(json_object_get(json_object_get(info, "State"), "Health"), "Log");
	json_t *last = json_array_get(log, json_array_size(log) ? json_array_size(log) - 1 : 0);
	const char *form = json_string_value(json_array_get(test, 0));
	const char *prog = json_string_value(json_array_get(test, 1));
	const char *out = json_string_value(json_object_get(last, "Output"));
	char *root;

	if (!last || !form || strcmp(form, "CMD") || !prog || !*prog || (out && *out) ||
	    json_integer_value(json_object_get(last, "ExitCode")) == 0)
		return;
	/* rootless: from the image's layers, once a container (a walk reads the image whole) */
	if (e->rootless && *known < 0)
		*known = program_in_image(e, info, prog) != 0;
	if (e->rootless) {
		root = NULL;
		if (*known)
			return; /* present (or unknown): the probe's own verdict stands */
	} else if (!(root = podman_rootfs_dir(e, info))) {
		return;
	}
	if (root && program_present(info, root, prog))
		; /* the probe ran and failed: its own verdict stands */
	else if (strchr(prog, '/'))
		json_object_set_new(last, "Output",
				    json_sprintf("exec: \"%s\": stat %s: no such file or directory", prog, prog));
	else
		json_object_set_new(last, "Output", json_sprintf("exec: \"%s\": executable file not found in $PATH", prog));
	free(root);
}

static int podman_health(struct engine *e, const char *id, json_t **state)
{
	struct podman_priv *pv = e->priv;
	long interval = pv->interval_ms > 0 ? pv->interval_ms : PROBE_DEFAULT_MS;
	int *timeouts;
	char (*started)[40];
	long long *last = probe_slot(pv, id, &timeouts, &started);
	char start[40];
	long timeout = 0;
	json_t *info;

	*state = NULL;
	if (engine_docker.container_inspect(e, id, &info) < 0)
		return -1;
	/* a probe when one is due, and the container runs and has one (status "starting") */
	if (now_ms() - *last >= interval &&
	    json_is_true(json_object_get(json_object_get(info, "State"), "Running")) &&
	    json_is_object(json_object_get(json_object_get(info, "State"), "Health"))) {
		const char *const words[] = { "healthcheck", "run", id, NULL };
		struct proc p = PROC_INIT;

		timeout = probe_timeout_ms(info);
		*last = now_ms();
		rfc3339_now(start, sizeof(start));
		/* 0 healthy, 1 unhealthy (both recorded in the state); 125 podman's error */
		int rc = call(e, &p, words, timeout + 2000);

		if (p.timed_out && !p.interrupted) {
			/* the probe outlived the image's timeout (record_timeouts) */
			snprintf(started[*timeouts % TIMEOUTS_KEPT], sizeof(started[0]), "%s", start);
			(*timeouts)++;
		} else if (rc < 0 || p.interrupted ||
			   (p.status != 0 && p.status != 1 && !strstr(p.err.buf, "not running"))) {
			failed(e, &p, "running the container's health probe");
			proc_release(&p);
			json_decref(info);
			return -1;
		} else {
			*timeouts = 0;
		}
		proc_release(&p);
		json_decref(info);
		if (engine_docker.container_inspect(e, id, &info) < 0)
			return -1;
	}
	record_timeouts(info, *timeouts, started, timeout ? timeout : probe_timeout_ms(info));
	for (size_t i = 0; i < PROBES_MAX; i++)
		if (pv->probes[i].started == started)
			name_missing_probe(e, info, &pv->probes[i].program);
	return cli_state(e, info, id, state);
}

/* A host user's uid: a number, or a name this machine knows; -1 otherwise. */
static long host_uid(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);
	struct passwd *pw;

	if (end != s && !*end && v >= 0)
		return v;
	pw = getpwnam(s);
	return pw ? (long)pw->pw_uid : -1;
}

/* A row of `top ... user huser pid args` (the header: USER HUSER PID COMMAND). */
static int read_top_row(const char *line, struct top_row *r)
{
	char user[64], huser[64];
	const char *cmd, *base;
	size_t len;
	int used = 0;

	if (sscanf(line, "%63s %63s %ld %n", user, huser, &r->pid, &used) < 3)
		return 0;
	/* rootful: the host's user is the container's, named as this machine knows it */
	r->uid = host_uid(huser);
	if (r->uid < 0)
		r->uid = host_uid(user);
	/* ps's comm: the program's name, at most 15 characters */
	cmd = line + used;
	len = strcspn(cmd, " ");
	for (base = cmd + len; base > cmd && base[-1] != '/'; base--)
		;
	snprintf(r->comm, sizeof(r->comm), "%.*s", (int)((cmd + len - base) > 15 ? 15 : (cmd + len - base)), base);
	return 1;
}

/*
 * The uid in the container's own user namespace of a process whose uid here
 * is host: the process's uid_map (inside, outside, count lines, read from
 * our namespace) run backwards; -1 when no line maps it.
 */
static long container_uid(long hpid, long host)
{
	char path[64];
	long inside, outside, count, uid = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/uid_map", hpid);
	if (host < 0 || !(f = fopen(path, "r")))
		return -1;
	while (uid < 0 && fscanf(f, "%ld %ld %ld", &inside, &outside, &count) == 3)
		if (host >= outside && host - outside < count)
			uid = inside + (host - outside);
	fclose(f);
	return uid;
}

/*
 * A row of `top ... user huser hpid pid args` (rootless): huser is ours or
 * a subordinate id, which says nothing about root in the container; the
 * container's uid is huser mapped back.  When the map cannot be read, the
 * container's user as podman names it, if it is a number or root.
 */
static int read_top_row_rootless(const char *line, struct top_row *r)
{
	char user[64], huser[64], rest[1024];
	long hpid;
	int used = 0;

	if (sscanf(line, "%63s %63s %ld %n", user, huser, &hpid, &used) < 3)
		return 0;
	snprintf(rest, sizeof(rest), "%s %s %s", user, user, line + used);
	if (!read_top_row(rest, r))
		return 0;
	r->uid = container_uid(hpid, host_uid(huser));
	if (r->uid < 0)
		r->uid = !strcmp(user, "root") ? 0 : strtol(user, NULL, 10) > 0 ? strtol(user, NULL, 10) : -1;
	return 1;
}

static int podman_top(struct engine *e, const char *id, struct top_row **rows, size_t *n)
{
	/* AIX descriptors, read by podman itself: no ps in the container (4.3 has no "uid") */
	const char *const words[] = { "top", id, "user", "huser", "pid", "args", NULL };
	const char *const rootless[] = { "top", id, "user", "huser", "hpid", "pid", "args", NULL };

	if (e->rootless)
		return cli_top(e, &voice, rootless, read_top_row_rootless, rows, n);
	return cli_top(e, &voice, words, read_top_row, rows, n);
}

static int podman_exec(struct engine *e, const char *id, const char *const *argv, long timeout_ms,
		       struct strbuf *out)
{
	int rc = engine_docker.exec(e, id, argv, timeout_ms, out);

	/* 125 is podman's own failure (126/127: the command could not run, as docker's) */
	if (rc == 125)
		return engine_fail(e, "running a command in the container: podman failed (exit status 125)");
	return rc;
}

static int podman_logs(struct engine *e, const char *id, int tail, struct strbuf *sb)
{
	return engine_docker.logs(e, id, tail, sb);
}

/*
 * The container's root as podman mounts it here ("overlay"'s merged folder),
 * or NULL.  Rootless: mounted in podman's mount namespace only (here the
 * folder is empty), so always NULL: the filesystem is exported.
 */
static char *podman_rootfs_dir(struct engine *e, json_t *container)
{
	if (e->rootless)
		return NULL;
	return cli_rootfs_dir(container, "overlay");
}

static int podman_export_start(struct engine *e, const char *id, const char *path, long timeout_ms,
			       struct engine_job *job)
{
	return engine_docker.export_start(e, id, path, timeout_ms, job);
}

static int podman_export_finish(struct engine *e, struct engine_job *job)
{
	return engine_docker.export_finish(e, job);
}

/* --- removal ----------------------------------------------------------- */

static int podman_rm_container(struct engine *e, const char *id)
{
	return engine_docker.rm_container(e, id);
}

static int podman_rm_image(struct engine *e, const char *id, int with_layers)
{
	return engine_docker.rm_image(e, id, with_layers);
}

/*
 * The image, and the intermediate images of the steps that ran (buildah
 * keeps one per step, as the legacy builder does): in one call, children
 * first (podman removes in the order given), --no-prune keeping every
 * parent that came from the cache.
 */
static int podman_rm_build(struct engine *e, const struct build_result *res)
{
	struct strvec words = STRVEC_INIT;
	struct proc p = PROC_INIT;
	int rc = 0;

	strvec_pushv(&words, (const char *const[]){ "rmi", "-f", "--no-prune", NULL });
	if (res->image_id[0])
		strvec_push(&words, res->image_id);
	for (size_t i = res->log.nsteps; i-- > 0;) {
		const struct build_step *s = &res->log.steps[i];

		if (s->ran && s->image && (!res->image_id[0] || !strstr(res->image_id, s->image)))
			strvec_push(&words, s->image);
	}
	if (words.nr > 3 && call(e, &p, (const char *const *)words.v, 0) != 0)
		rc = failed(e, &p, "removing the build's images");
	proc_release(&p);
	strvec_clear(&words);
	return rc;
}

/* Was a working container's builder (its state: buildah.json) given the run's RUN_ARG? */
static int builder_of_run(const char *path, const char *run_id)
{
	struct strbuf text = STRBUF_INIT;
	json_t *state = NULL;
	const char *v;
	int ours;

	if (read_file_nofollow(path, 16u << 20, &text) == 0)
		state = json_loadb(text.buf, text.len, 0, NULL);
	v = json_string_value(json_object_get(json_object_get(state, "Args"), RUN_ARG));
	ours = v && !strcmp(v, run_id);
	json_decref(state);
	strbuf_release(&text);
	return ours;
}

/*
 * Buildah's working containers.  A `podman build` killed mid-build (an
 * interrupt, a deadline; 4.3 cleans up after neither SIGINT nor SIGTERM)
 * leaves the working container of the stage it was in, outside podman's
 * own containers: `ps --external` lists them (State "storage") with no
 * labels, so no label filter finds them.  The image configuration in the
 * builder's state cannot tell whose it is either (its labels are those of
 * the image the stage started from, a cached step's of another run
 * included), but the build arguments can: the builder's state beside the
 * container's data (<graph root>/<driver>-containers/<id>/userdata/
 * buildah.json) holds RUN_ARG as the run gave it.  Returns the number
 * removed, or -1 (e->err).
 */
static int sweep_working(struct engine *e, const char *run_id)
{
	static const char *const list[] = { "ps", "-a", "--external", "--format", "json", NULL };
	static const char *const info[] = { "info", "--format", "json", NULL };
	json_t *rows, *row, *store = NULL, *where = NULL;
	struct strvec rm = STRVEC_INIT;
	const char *root = NULL, *driver = NULL;
	struct proc p = PROC_INIT;
	size_t i;
	int rc = 0;

	if (!(rows = cli_json(e, &voice, list, "listing buildah's working containers")))
		return -1;
	json_array_foreach(rows, i, row) {
		const char *id = json_string_value(json_object_get(row, "Id"));
		char *path;

		if (!id || strcmp(json_string_value(json_object_get(row, "State")) ?: "", "storage") ||
		    strspn(id, "0123456789abcdef") != 64 || id[64])
			continue;
		if (!where) {
			if (!(where = cli_json(e, &voice, info, "asking podman where its storage is"))) {
				rc = -1;
				break;
			}
			store = json_object_get(where, "store");
			root = json_string_value(json_object_get(store, "graphRoot"));
			driver = json_string_value(json_object_get(store, "graphDriverName"));
		}
		if (!root || !driver || strchr(driver, '/')) {
			rc = engine_fail(e, "podman info names no storage root and driver");
			break;
		}
		path = xasprintf("%s/%s-containers/%s/userdata/buildah.json", root, driver, id);
		if (builder_of_run(path, run_id))
			strvec_push(&rm, id);
		free(path);
	}
	if (rc == 0 && rm.nr) {
		struct strvec words = STRVEC_INIT;

		strvec_pushv(&words, (const char *const[]){ "rm", "-f", NULL });
		strvec_pushv(&words, (const char *const *)rm.v);
		if (call(e, &p, (const char *const *)words.v, 0) != 0)
			rc = failed(e, &p, "removing buildah's working containers");
		else
			rc = (int)rm.nr;
		strvec_clear(&words);
	}
	proc_release(&p);
	strvec_clear(&rm);
	json_decref(where);
	json_decref(rows);
	return rc;
}

static int podman_remove_labelled(struct engine *e, const char *run_id)
{
	/* the working containers first: they hold the images they were made from */
	int working = sweep_working(e, run_id), removed = engine_docker.remove_labelled(e, run_id);

	return working < 0 || removed < 0 ? -1 : working + removed;
}

static int podman_reap(struct engine *e, const char *run_id, const char *scratch)
{
	/* its builds' working containers, the labelled sweep, then the step images the journal and the build logs name */
	int working = sweep_working(e, run_id), reaped = engine_docker.reap(e, run_id, scratch);

	return working < 0 || reaped < 0 ? -1 : working + reaped;
}

/*
 * 4.3's `ps --format {{.State}}` prints docker's Status ("Up 2 seconds ago"),
 * not the state word docker's template gives: the JSON listing has "State"
 * ("running", "exited", "created") and the names as an array.
 */
static int podman_container_by_name(struct engine *e, const char *name, int *running)
{
	char filter[300];
	const char *const words[] = { "ps", "-a", "--format", "json", "--filter", filter, NULL };
	json_t *arr, *row, *n;
	size_t i, j;
	int found = 0;

	/* names have no leading '/' here; the filter is a pattern, so only an exact name counts */
	snprintf(filter, sizeof(filter), "name=^%.256s$", name);
	if (!(arr = cli_json(e, &voice, words, "listing containers")))
		return -1;
	*running = 0;
	json_array_foreach(arr, i, row) {
		json_array_foreach(json_object_get(row, "Names"), j, n) {
			if (json_is_string(n) && !strcmp(json_string_value(n), name)) {
				found = 1;
				*running = !strcmp(json_string_value(json_object_get(row, "State")) ?: "", "running");
			}
		}
	}
	json_decref(arr);
	return found;
}

const struct engine_ops engine_podman = {
	.name = "podman",
	.open = podman_open,
	.close = podman_close,
	.ping = podman_ping,
	.build_start = podman_build_start,
	.build_finish = podman_build_finish,
	.image_inspect = podman_image_inspect,
	.history = podman_history,
	.run = podman_run,
	.container_inspect = podman_container_inspect,
	.health = podman_health,
	.top = podman_top,
	.exec = podman_exec,
	.logs = podman_logs,
	.rootfs_dir = podman_rootfs_dir,
	.export_start = podman_export_start,
	.export_finish = podman_export_finish,
	.rm_container = podman_rm_container,
	.rm_image = podman_rm_image,
	.rm_build = podman_rm_build,
	.remove_labelled = podman_remove_labelled,
	.reap = podman_reap,
	.container_by_name = podman_container_by_name,
	.image_layers = podman_image_layers,
};
