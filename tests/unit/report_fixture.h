/*
 * What the report tests share: the report every writer renders, hostile
 * learner text included (and, from golden.h, the golden-file comparison).
 *
 * Included by tests/unit/test_report.c and test_report_formats.c, after
 * cmocka.h (fail_msg) and the runner's headers; everything is static.
 *
 */
#ifndef PHASELAB_TEST_REPORT_FIXTURE_H
#define PHASELAB_TEST_REPORT_FIXTURE_H

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/report.h"
#include "lib/strbuf.h"
#include "lib/xalloc.h"

#include "golden.h"

#define MIB (1024 * 1024)

/* ---- the report every writer test renders ---------------------------- */

/* A message of exactly 1 MiB: a long engine log, words of 2-byte characters. */
static char *big_message(void)
{
	static const char prefix[] = "dockerd said:", word[] = " d\xc3\xa9j\xc3\xa0 vu";
	struct strbuf sb = STRBUF_INIT;

	strbuf_addstr(&sb, prefix);
	while (sb.len < MIB)
		strbuf_addstr(&sb, word);
	strbuf_setlen(&sb, MIB);
	return strbuf_detach(&sb, NULL);
}

static json_t *evidence(const char *fmt, ...)
{
	json_error_t err;
	va_list ap;
	json_t *j;

	va_start(ap, fmt);
	j = json_vpack_ex(&err, 0, fmt, ap);
	va_end(ap);
	if (!j)
		fail_msg("json_pack: %s", err.text);
	return j;
}

static void add_check(struct report *r, const char *id, const char *title, const char *kind,
		      enum check_status status, int max_points, const char *message,
		      const char *hint, json_t *ev, long ms)
{
	struct check_result *c;

	r->checks = xrealloc(r->checks, (r->nchecks + 1) * sizeof(*r->checks));
	c = &r->checks[r->nchecks++];
	memset(c, 0, sizeof(*c));
	c->id = xstrdup(id);
	c->title = xstrdup(title);
	c->kind = xstrdup(kind);
	c->status = status;
	c->points = status == CHECK_PASS ? max_points : 0;
	c->max_points = max_points;
	c->message = xstrdup(message);
	c->hint = hint ? xstrdup(hint) : NULL;
	c->evidence = ev;
	c->duration_ms = ms;
}

static const char hostile[] =
	"the container runs as uid 0: `id` printed \"uid=0(root)\x1b[2J\x1b[H\x1b]0;pwned\x07\"; "
	"bell\x07 back\b\bspace cr\roverwrite del\x7f c1 \xc2\x9b" "31m bidi \xe2\x80\xae" "evil"
	"\xe2\x80\xac invalid \xff\xfe \xc3\x28 \xed\xa0\x80 \xf0\x9f\x98 end";

static const char size_hint[] =
	"Use a multi-stage build: install the dependencies in the node image, then copy only "
	"what the service needs to run into the distroless runtime image.\n"
	"\n"
	"    FROM node:20 AS build\n"
	"    WORKDIR /app\n"
	"    COPY package*.json ./\n"
	"    RUN npm ci --omit=dev\n"
	"\n"
	"    FROM gcr.io/distroless/nodejs20-debian12\n"
	"    COPY --from=build /app /app\n"
	"\n"
	"The limit for this phase is 250 MB.\n";

static void make_report(struct report *r)
{
	char *big = big_message();

	memset(r, 0, sizeof(*r));
	r->phase_id = xstrdup("03-containerization");
	r->phase_title = xstrdup("Containerize the service");
	r->dir = xstrdup("/home/learner/lab\x1b]0;pwned\x07/service");
	r->has_git = 1;
	strcpy(r->commit, "1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b");
	r->dirty = 1;
	r->engine_client = xstrdup("28.1.1");
	r->engine_server = xstrdup("20.10.24+dfsg1");
	r->builder = xstrdup("legacy");
	r->engine_kind = xstrdup("docker");
	strcpy(r->started_at, "2025-01-15T09:30:00Z");
	r->duration_ms = 12345;
	r->pass_mark = 70;

	add_check(r, "builds", "The image builds", "build", CHECK_PASS, 20,
		  "built in 41.2 s with the legacy builder; the image is 132 MB", NULL,
		  evidence("{s:s, s:i, s:s}", "image", "sha256:4f1c0ffee", "build_ms", 41200,
			   "builder", "legacy"),
		  41200);
	add_check(r, "size", "The image is small", "image-size", CHECK_FAIL, 10,
		  "the image is 1.21 GB (1210000000 bytes); the limit is 250 MB", size_hint,
		  evidence("{s:I, s:I}", "image_bytes", (json_int_t)1210000000,
			   "limit_bytes", (json_int_t)250000000),
		  3);
	add_check(r, "responds", "The service responds", "http-probe", CHECK_PASS, 20,
		  "GET /health answered 200 in 12 ms", NULL,
		  evidence("{s:s, s:i, s:i}", "url", "http://127.0.0.1:49153/health",
			   "status", 200, "ms", 12),
		  850);
	add_check(r, "nonroot", "It runs as a non-root user", "container-user", CHECK_FAIL, 10,
		  hostile, "Add `USER nonroot` (uid 65532) to the final stage: the runtime image "
		  "has that user already.",
		  evidence("{s:s, s:i, s:s}", "user", "", "uid", 0, "stdout",
			   "uid=0(root)\x1b[2J\x1b[H"),
		  410);
	add_check(r, "healthy", "The health check passes", "healthcheck", CHECK_ERROR, 10, big,
		  "Is the engine running?  Start it as root:\n  dockerd &\nthen run the check "
		  "again.",
		  evidence("{s:i, s:i}", "exit_code", 125, "log_bytes", MIB), 30000);
	add_check(r, "noshell", "The runtime image has no shell", "no-shell", CHECK_SKIP, 10,
		  "skipped: waits on \"healthy\"", "Not shown in the text report.",
		  evidence("{s:s}", "waits_on", "healthy"), 0);
	add_check(r, "cache", "Rebuilds use the cache", "build-cache", CHECK_PASS, 10,
		  "a rebuild after a source change reused 5 of 7 steps", NULL,
		  evidence("{s:i, s:i}", "cached_steps", 5, "steps", 7), 2100);
	add_check(r, "dockerignore", ".dockerignore keeps the context small", "dockerignore",
		  CHECK_PASS, 10, "the build context is 48 KB; node_modules and .git are left out",
		  NULL, evidence("{s:I}", "context_bytes", (json_int_t)48213), 15);
	report_tally(r);
	free(big);
}


#endif
