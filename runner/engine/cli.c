/*
 * cli: the plumbing the CLI engines share (cli.h).  Each call is one
 * process with a deadline, its argv built in a strvec.
 */
#include "engine/cli.h"
#include "engine/rootfs.h"
#include "lib/fsutil.h"
#include "lib/http.h"
#include "lib/timeutil.h"
#include "lib/xalloc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

void cli_words(const struct proc *p, struct strbuf *sb)
{
	const struct strbuf *src = p->err.len ? &p->err : &p->out;
	struct strbuf tmp = STRBUF_INIT;

	strbuf_add_tail_lines(&tmp, src->buf, src->len, 1);
	strbuf_rtrim(&tmp);
	strbuf_add(sb, tmp.buf, tmp.len > 400 ? 400 : tmp.len);
	strbuf_release(&tmp);
}

int cli_failed(struct engine *e, const struct cli_voice *v, struct proc *p, const char *what)
{
	struct strbuf words = STRBUF_INIT;

	if (p->interrupted) {
		e->interrupted = 1;
		engine_fail(e, "%s: interrupted", what);
	} else if (p->timed_out) {
		engine_fail(e, "%s: %s did not answer within %ld s", what, v->name, p->elapsed_ms / 1000);
	} else if (p->status == PROC_NOT_FOUND && p->exec_errno) {
		engine_fail(e, "%s: cannot run '%s': %s", what, e->cli, strerror(p->exec_errno));
	} else {
		cli_words(p, &words);
		if (words.len)
			engine_fail(e, "%s: %s", what, words.buf);
		else
			engine_fail(e, "%s: %s failed without a message", what, v->name);
	}
	strbuf_release(&words);
	return -1;
}

void cli_args(struct engine *e, struct strvec *args)
{
	strvec_init(args);
	strvec_push(args, e->cli);
}

int cli_call(struct engine *e, const struct cli_voice *v, struct proc *p, const struct strvec *args,
	     long timeout_ms)
{
	int rc;

	p->argv = args->v;
	p->timeout_ms = timeout_ms ? timeout_ms : e->call_timeout_ms;
	p->uninterruptible = p->uninterruptible || e->cleaning; /* a caller's (the run's) stays */
	e->calls++;
	rc = proc_run(p);
	p->argv = NULL; /* args belong to the caller */
	if (rc < 0)
		return cli_failed(e, v, p, v->starting);
	if (p->interrupted)
		e->interrupted = 1;
	return p->status;
}

int cli_call_words(struct engine *e, const struct cli_voice *v, struct proc *p, long timeout_ms,
		   const char *const *words)
{
	struct strvec args;
	int rc;

	cli_args(e, &args);
	strvec_pushv(&args, words);
	rc = cli_call(e, v, p, &args, timeout_ms);
	strvec_clear(&args);
	return rc;
}

int cli_start(struct engine *e, struct proc *p, const struct strvec *args, long timeout_ms, const char *out_path)
{
	p->argv = args->v;
	p->timeout_ms = timeout_ms ? timeout_ms : e->call_timeout_ms;
	p->out_path = out_path;
	p->uninterruptible = e->cleaning;
	e->calls++;
	if (proc_start(p) < 0) {
		engine_fail(e, "cannot start '%s %s': %s", e->cli, args->v[1], strerror(errno));
		p->argv = NULL;
		p->pid = 0;
		return -1;
	}
	p->argv = NULL; /* the child has its own copy once started */
	return 0;
}

json_t *cli_json(struct engine *e, const struct cli_voice *v, const char *const *words, const char *what)
{
	struct proc p = PROC_INIT;
	json_t *j = NULL;
	json_error_t jerr;

	if (cli_call_words(e, v, &p, 0, words) != 0)
		cli_failed(e, v, &p, what);
	else if (!(j = json_loadb(p.out.buf, p.out.len, 0, &jerr)))
		engine_fail(e, "%s: %s's answer is not JSON: %s", what, v->name, jerr.text);
	proc_release(&p);
	return j;
}

void cli_run_args(struct engine *e, const struct run_request *req, int health_interval, const char *const *extra,
		  struct strvec *args)
{
	cli_args(e, args);
	if (req->create_only)
		strvec_push(args, "create");
	else
		strvec_pushv(args, (const char *const[]){ "run", "-d", NULL });
	strvec_push(args, "--label");
	strvec_pushf(args, "%s=%s", ENGINE_LABEL, e->run_id);
	for (const char *const *l = req->labels; l && *l; l++)
		strvec_pushv(args, (const char *const[]){ "--label", *l, NULL });
	if (!req->create_only) {
		/* containment: learner code never gains privileges or exhausts the host */
		strvec_pushv(args, (const char *const[]){ "--security-opt", "no-new-privileges", NULL });
	}
	if (req->memory_mb) {
		strvec_push(args, "--memory");
		strvec_pushf(args, "%ldm", req->memory_mb);
	}
	if (req->pids) {
		strvec_push(args, "--pids-limit");
		strvec_pushf(args, "%ld", req->pids);
	}
	if (req->cpus > 0) {
		strvec_push(args, "--cpus");
		strvec_pushf(args, "%.2f", req->cpus);
	}
	if (req->port) {
		/* loopback only, and the engine picks the host port: parallel runs never collide */
		strvec_push(args, "-p");
		strvec_pushf(args, "127.0.0.1::%d", req->port);
	}
	if (health_interval && req->health_interval_ms) {
		strvec_push(args, "--health-interval");
		strvec_pushf(args, "%ldms", req->health_interval_ms);
	}
	for (const char *const *env = req->env; env && *env; env++)
		strvec_pushv(args, (const char *const[]){ "-e", *env, NULL });
	strvec_pushv(args, extra);
	strvec_pushv(args, (const char *const[]){ "--", req->image, NULL });
}

int cli_build_start(struct engine *e, const struct build_request *req, struct engine_job *job, struct strvec *args,
		    unsigned *log_count)
{
	int rc;

	strvec_pushv(args, (const char *const[]){ "--iidfile", req->iidfile, "--label", NULL });
	strvec_pushf(args, "%s=%s", ENGINE_LABEL, e->run_id);
	for (const char *const *a = req->build_args; a && *a; a++)
		strvec_pushv(args, (const char *const[]){ "--build-arg", *a, NULL });
	if (req->tag)
		strvec_pushv(args, (const char *const[]){ "-t", req->tag, NULL });
	strvec_pushv(args, (const char *const[]){ "--", req->context, NULL });

	job->iidfile = xstrdup(req->iidfile);
	if (log_count)
		job->log_path = e->scratch ? xasprintf("%s/build-%u.log", e->scratch, ++*log_count)
					   : xasprintf("%s.log", req->iidfile);
	unlink(req->iidfile);
	if (req->max_output)
		job->proc.max_capture = req->max_output;
	rc = cli_start(e, &job->proc, args, req->timeout_ms, job->log_path);
	job->started = rc == 0;
	strvec_clear(args);
	if (rc < 0) {
		free(job->iidfile);
		free(job->log_path);
		job->iidfile = job->log_path = NULL;
	}
	return rc;
}

/* The image id the builder wrote (--iidfile): 0, or -1 when there is none. */
static int read_image_id(const char *path, char *buf, size_t size)
{
	struct strbuf sb = STRBUF_INIT;
	int rc = -1;

	if (read_file_nofollow(path, size - 1, &sb) == 0) {
		strbuf_rtrim(&sb);
		if (sb.len) {
			memcpy(buf, sb.buf, sb.len + 1);
			rc = 0;
		}
	}
	strbuf_release(&sb);
	return rc;
}

static int build_outcome(struct engine *e, const struct cli_voice *v, struct engine_job *job,
			 struct build_result *res)
{
	struct proc *p = &job->proc;

	if (p->interrupted) {
		e->interrupted = 1;
		return engine_fail(e, "the build was interrupted");
	}
	if (p->timed_out)
		return 1; /* the learner's build never finished: the caller says so */
	if (p->status == PROC_NOT_FOUND && p->exec_errno)
		return cli_failed(e, v, p, "building the image");
	if (p->status == 0) {
		if (read_image_id(job->iidfile, res->image_id, sizeof(res->image_id)) < 0)
			return engine_fail(e, "the build succeeded but wrote no image id to '%s'", job->iidfile);
		return 0;
	}
	for (const char *const *l = v->lost; l && *l; l++)
		if (strstr(res->output.buf, *l))
			return engine_fail(e, "the engine stopped answering during the build");
	return 1;
}

int cli_build_finish(struct engine *e, const struct cli_voice *v, struct engine_job *job,
		     struct build_result *res)
{
	struct proc *p = &job->proc;
	int rc;

	if (!job->started)
		return engine_fail(e, "no build was started");
	proc_finish(p);
	job->started = 0;

	/* the builders interleave the two streams; stdout then stderr keeps each one's order */
	strbuf_add(&res->output, p->out.buf, p->out.len);
	if (p->err.len) {
		strbuf_addch(&res->output, '\n');
		strbuf_add(&res->output, p->err.buf, p->err.len);
	}
	buildlog_parse(&res->log, res->output.buf, res->output.len);
	/* number the steps as the learner's own build does: without our --label's step */
	buildlog_drop_label_step(&res->log, ENGINE_LABEL);
	res->elapsed_ms = p->elapsed_ms;
	res->timed_out = p->timed_out;
	res->interrupted = p->interrupted;
	/* what a later run must find if this one dies before removing it */
	engine_journal_images(e, &res->log);

	rc = build_outcome(e, v, job, res);
	proc_release(p);
	*p = (struct proc)PROC_INIT;
	free(job->iidfile);
	free(job->log_path);
	job->iidfile = job->log_path = NULL;
	return rc;
}

int cli_top(struct engine *e, const struct cli_voice *v, const char *const *words,
	    int (*row)(const char *line, struct top_row *r), struct top_row **rows, size_t *n)
{
	struct proc p = PROC_INIT;
	char *line, *save = NULL;
	size_t cap = 8;
	int first = 1;

	if (cli_call_words(e, v, &p, 0, words) != 0) {
		cli_failed(e, v, &p, "listing the container's processes");
		proc_release(&p);
		return -1;
	}
	*rows = xcalloc(cap, sizeof(**rows));
	for (line = strtok_r(p.out.buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct top_row r = { 0 };

		if (first) { /* the header */
			first = 0;
			continue;
		}
		if (!row(line, &r))
			continue;
		if (*n == cap)
			*rows = xrealloc(*rows, (cap *= 2) * sizeof(**rows));
		(*rows)[(*n)++] = r;
	}
	proc_release(&p);
	return 0;
}

int cli_state(struct engine *e, json_t *info, const char *id, json_t **state)
{
	*state = json_object_get(info, "State");
	if (!json_is_object(*state)) {
		*state = NULL;
		json_decref(info);
		return engine_fail(e, "inspecting container '%.40s': no state", id);
	}
	json_incref(*state);
	json_decref(info);
	return 0;
}

char *cli_rootfs_dir(json_t *container, const char *driver)
{
	json_t *gd = json_object_get(container, "GraphDriver");
	const char *name = json_string_value(json_object_get(gd, "Name"));
	const char *merged = json_string_value(json_object_get(json_object_get(gd, "Data"), "MergedDir"));

	if (!name || strcmp(name, driver) || !merged || !rootfs_usable(merged))
		return NULL;
	return xstrdup(merged);
}

int cli_container_by_name(struct engine *e, const struct cli_voice *v, const char *filter, const char *name,
			  int *running)
{
	struct strvec args;
	struct proc p = PROC_INIT;
	int rc;

	cli_args(e, &args);
	strvec_pushv(&args, (const char *const[]){ "ps", "-a", "--format", "{{.Names}} {{.State}}", "--filter", filter,
						   NULL });
	if (cli_call(e, v, &p, &args, 0) != 0) {
		rc = cli_failed(e, v, &p, "listing containers");
	} else {
		size_t n = strlen(name);
		const char *line = p.out.buf;

		rc = 0;
		/* only the exact name counts, whatever the filter (a pattern) let through */
		for (; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
			if (!strncmp(line, name, n) && line[n] == ' ') {
				rc = 1;
				*running = !strncmp(line + n + 1, "running", 7);
				break;
			}
		}
	}
	strvec_clear(&args);
	proc_release(&p);
	return rc;
}

/* --- the health request from the engine's side -------------------------- */

int cli_probe_answer(const char *out, size_t len, struct http_answer *ans)
{
	const char *end = out + len, *line = out, *eol, *body = NULL;
	long status = 0;

	if (len < 12 || strncmp(out, "HTTP/", 5) || sscanf(out + 5, "%*[0-9.] %3ld", &status) != 1 ||
	    status < 100 || status > 999)
		return -1;
	ans->status = status;
	/* the headers, for Content-Type; the body after the blank line */
	while (line < end) {
		size_t n;

		eol = memchr(line, '\n', (size_t)(end - line));
		n = (size_t)((eol ? eol : end) - line);
		if (n && line[n - 1] == '\r')
			n--;
		if (line != out && n == 0) {
			body = eol ? eol + 1 : end;
			break;
		}
		if (n > 13 && !strncasecmp(line, "content-type:", 13)) {
			const char *v = line + 13;
			size_t vn = n - 13;

			while (vn && (*v == ' ' || *v == '\t'))
				v++, vn--;
			snprintf(ans->content_type, sizeof(ans->content_type), "%.*s", (int)vn, v);
		}
		if (!eol)
			break;
		line = eol + 1;
	}
	if (body && body < end) {
		size_t n = (size_t)(end - body);

		strbuf_add(&ans->body, body, n < HTTP_BODY_MAX ? n : HTTP_BODY_MAX);
	}
	return 0;
}

/*
 * Is the service's container still running?  The helper cannot join the
 * namespace of one that stopped, in words that vary with the moment it
 * stopped ("non running container", runc's "namespace path: ... no such
 * file"): then nothing answered, and the check says why.  1 when it runs
 * or the engine cannot say (the helper's failure is the engine's then).
 */
static int service_running(struct engine *e, const char *id)
{
	json_t *info = NULL;
	int running = 1;

	if (e->ops->container_inspect(e, id, &info) == 0)
		running = json_is_true(json_object_get(json_object_get(info, "State"), "Running"));
	strbuf_reset(&e->err);
	json_decref(info);
	return running;
}

int cli_http_get(struct engine *e, const char *id, int port, const char *path, long timeout_ms,
		 struct http_answer *ans)
{
	static const struct cli_voice voice = { .name = "the engine", .starting = "starting the engine command" };
	struct strvec args;
	struct proc p = PROC_INIT;
	struct strbuf words = STRBUF_INIT;
	long long t0 = now_ms();
	int rc = 1, status;

	memset(ans, 0, sizeof(*ans));
	strbuf_init(&ans->body, 0);
	cli_args(e, &args);
	strvec_pushv(&args, (const char *const[]){ "run", "--rm", "--pull=never", NULL });
	strvec_pushf(&args, "--network=container:%s", id);
	strvec_pushf(&args, "--label=%s=%s", ENGINE_LABEL, e->run_id);
	strvec_push(&args, "--label=org.phaselab.role=http-probe");
	strvec_push(&args, ENGINE_PROBE_IMAGE);
	strvec_pushf(&args, "%d", port);
	strvec_push(&args, path);
	strvec_pushf(&args, "%ld", timeout_ms);
	/*
	 * Let it end (its own deadline is timeout_ms): a CLI killed mid-run
	 * leaves the daemon creating the helper after the label sweep looked.
	 */
	p.uninterruptible = 1;
	p.max_capture = HTTP_BODY_MAX + (32 << 10);
	status = cli_call(e, &voice, &p, &args, timeout_ms + 30000);
	ans->elapsed_ms = (long)(now_ms() - t0);
	cli_words(&p, &words);
	{
		/* the daemon's reason, not the CLI's "Run 'docker run --help'" or a log line after it */
		const char *why = p.err.len ? strstr(p.err.buf, "Error response from daemon") : NULL;

		if (why) {
			strbuf_reset(&words);
			strbuf_add(&words, why, strcspn(why, "\n"));
		}
	}
	if (status == 0) {
		if (cli_probe_answer(p.out.buf, p.out.len, ans) < 0) {
			ans->curl_code = 8; /* curl's "weird server reply" */
			snprintf(ans->error, sizeof(ans->error), "the answer is not HTTP");
		} else {
			rc = 0;
		}
	} else if (status == 7 || status == 28 || status == 52 || status == 55 || status == 56) {
		/* the helper's numbers are curl's (labs/images/probe/probe.c) */
		ans->curl_code = status;
		snprintf(ans->error, sizeof(ans->error), "%s (from the engine's side)", words.len ? words.buf : "no answer");
	} else if (status > 0 && !p.timed_out && !service_running(e, id)) {
		/* the service stopped: nothing answers, which the caller tells apart itself */
		ans->curl_code = 7;
		snprintf(ans->error, sizeof(ans->error), "the container is not running");
	} else {
		if (status >= 0 && words.len && !p.timed_out)
			engine_fail(e, "asking the health endpoint from a helper container (%s; 'make images' builds "
				    "it, 'labs/remote-engine load NAME' copies it to an engine): %s", ENGINE_PROBE_IMAGE,
				    words.buf);
		else if (status >= 0)
			cli_failed(e, &voice, &p, "asking the health endpoint from a helper container (" ENGINE_PROBE_IMAGE
				   "; 'make images' builds it, 'labs/remote-engine load NAME' copies it to an engine)");
		rc = -1;
	}
	strbuf_release(&words);
	strvec_clear(&args);
	proc_release(&p);
	return rc;
}
