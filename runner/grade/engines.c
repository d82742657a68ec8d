#include "grade/engines.h"
#include "lib/strbuf.h"
#include "lib/xalloc.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* Docker's own rule for a context name: [a-zA-Z0-9][a-zA-Z0-9_.+-]* */
static int context_name_ok(const char *s)
{
	if (!isalnum((unsigned char)*s))
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("_.+-", *s))
			return 0;
	return 1;
}

/* A port: digits, 1 to 65535. */
static int port_ok(const char *s, size_t len)
{
	long v = 0;

	if (!len || len > 5)
		return 0;
	for (size_t i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return 0;
		v = v * 10 + (s[i] - '0');
	}
	return v >= 1 && v <= 65535;
}

/*
 * tcp://HOST[:PORT] and ssh://[USER@]HOST[:PORT], an optional trailing '/':
 * the host present, a port when given a number.  0, or -1 with the reason.
 */
static int host_ok(const char *url, const char *rest, struct strbuf *err)
{
	size_t len = strcspn(rest, "/");
	const char *at = memchr(rest, '@', len), *host, *colon;

	if (rest[len] && rest[len + 1]) {
		strbuf_addf(err, "'%s' has a path after the host (only unix:// URLs take one)", url);
		return -1;
	}
	host = at ? at + 1 : rest;
	len -= (size_t)(host - rest);
	colon = host[0] == '[' ? NULL : memchr(host, ':', len);
	if (host[0] == '[') {
		/* [::1]:2376 */
		const char *close = memchr(host, ']', len);
		if (!close) {
			strbuf_addf(err, "'%s' opens an IPv6 address with '[' and never closes it", url);
			return -1;
		}
		colon = close + 1 < host + len && close[1] == ':' ? close + 1 : NULL;
		if (!colon && close + 1 != host + len) {
			strbuf_addf(err, "'%s' has something after the address that is not ':PORT'", url);
			return -1;
		}
	}
	if ((colon ? (size_t)(colon - host) : len) == 0 || (at && at == rest)) {
		strbuf_addf(err, "'%s' names no %s", url, at && at == rest ? "user before '@'" : "host");
		return -1;
	}
	if (colon && !port_ok(colon + 1, len - (size_t)(colon + 1 - host))) {
		strbuf_addf(err, "'%s' has a port that is not a number from 1 to 65535", url);
		return -1;
	}
	return 0;
}

int engine_spec_parse(const char *text, struct engine_spec *s, struct strbuf *err)
{
	const char *sep = strstr(text, "://");
	size_t n = 0;

	memset(s, 0, sizeof(*s));
	for (const char *c = text; *c; c++)
		if ((unsigned char)*c <= ' ' || *c == 0x7f) {
			strbuf_addf(err, "'%s' has a space or a control character", text);
			return -1;
		}
	if (!*text) {
		strbuf_addstr(err, "an empty engine (want a docker context, a DOCKER_HOST URL or 'podman')");
		return -1;
	}
	if (!strcmp(text, "podman")) {
		s->kind = ENGINE_SPEC_PODMAN;
		s->env[n++] = xstrdup("PHASELAB_ENGINE=podman");
	} else if (sep) {
		size_t scheme = (size_t)(sep - text);
		const char *rest = sep + 3;

		if (scheme == 4 && !strncmp(text, "unix", 4)) {
			if (rest[0] != '/' || !rest[1]) {
				strbuf_addf(err, "'%s' names no socket (unix:///var/run/docker.sock)", text);
				return -1;
			}
		} else if ((scheme == 3 && !strncmp(text, "tcp", 3)) || (scheme == 3 && !strncmp(text, "ssh", 3))) {
			if (host_ok(text, rest, err) < 0)
				return -1;
		} else {
			strbuf_addf(err, "'%s': unknown scheme '%.*s' (unix://, tcp:// or ssh://)", text, (int)scheme, text);
			return -1;
		}
		s->kind = ENGINE_SPEC_URL;
		s->env[n++] = xstrdup("PHASELAB_ENGINE=docker");
		s->env[n++] = xasprintf("DOCKER_HOST=%s", text);
		s->env[n++] = xstrdup("DOCKER_CONTEXT");
	} else if (context_name_ok(text) && strlen(text) <= 128) {
		s->kind = ENGINE_SPEC_CONTEXT;
		s->env[n++] = xstrdup("PHASELAB_ENGINE=docker");
		s->env[n++] = xasprintf("DOCKER_CONTEXT=%s", text);
		s->env[n++] = xstrdup("DOCKER_HOST");
	} else {
		strbuf_addf(err, "'%s' is neither a docker context name ([A-Za-z0-9][A-Za-z0-9_.+-]*), "
			    "a DOCKER_HOST URL (unix://, tcp://, ssh://) nor 'podman'", text);
		return -1;
	}
	s->name = xstrdup(text);
	return 0;
}

void engine_spec_release(struct engine_spec *s)
{
	free(s->name);
	for (size_t i = 0; i < ENGINE_SPEC_NENV; i++)
		free(s->env[i]);
	memset(s, 0, sizeof(*s));
}

const char *engine_spec_kind_name(const struct engine_spec *s)
{
	switch (s->kind) {
	case ENGINE_SPEC_PODMAN:
		return "podman";
	case ENGINE_SPEC_URL:
		return "docker (DOCKER_HOST)";
	default:
		return "docker (context)";
	}
}

void engine_spec_apply(const struct engine_spec *s, char **saved)
{
	for (size_t i = 0; i < ENGINE_SPEC_NENV; i++) {
		const char *e = s->env[i], *eq, *old;
		char *name;

		saved[i] = NULL;
		if (!e)
			continue;
		eq = strchr(e, '=');
		name = eq ? xasprintf("%.*s", (int)(eq - e), e) : xstrdup(e);
		old = getenv(name);
		saved[i] = old ? xstrdup(old) : NULL;
		if (eq)
			setenv(name, eq + 1, 1);
		else
			unsetenv(name);
		free(name);
	}
}

void engine_spec_restore(const struct engine_spec *s, char **saved)
{
	for (size_t i = 0; i < ENGINE_SPEC_NENV; i++) {
		const char *e = s->env[i], *eq;
		char *name;

		if (!e)
			continue;
		eq = strchr(e, '=');
		name = eq ? xasprintf("%.*s", (int)(eq - e), e) : xstrdup(e);
		if (saved[i])
			setenv(name, saved[i], 1);
		else
			unsetenv(name);
		free(name);
		free(saved[i]);
		saved[i] = NULL;
	}
}

void pool_init(struct grade_pool *p, size_t nengines, int jobs, size_t nlearners)
{
	memset(p, 0, sizeof(*p));
	p->engines = xcalloc(nengines ? nengines : 1, sizeof(*p->engines));
	p->nengines = nengines;
	p->jobs = jobs > 0 ? jobs : 1;
	p->state = xcalloc(nlearners ? nlearners : 1, 1);
	p->engine_of = xcalloc(nlearners ? nlearners : 1, sizeof(int));
	p->handed_from = xcalloc(nlearners ? nlearners : 1, sizeof(int));
	p->nlearners = nlearners;
	for (size_t e = 0; e < nengines; e++)
		p->engines[e].usable = 1;
	for (size_t i = 0; i < nlearners; i++) {
		p->state[i] = POOL_WAITING;
		p->engine_of[i] = p->handed_from[i] = -1;
	}
}

void pool_release(struct grade_pool *p)
{
	free(p->engines);
	free(p->state);
	free(p->engine_of);
	free(p->handed_from);
	memset(p, 0, sizeof(*p));
}

void pool_leave_out(struct grade_pool *p, size_t engine)
{
	p->engines[engine].usable = 0;
}

void pool_skip(struct grade_pool *p, size_t learner)
{
	p->state[learner] = POOL_DONE;
}

long pool_next_learner(const struct grade_pool *p)
{
	for (size_t i = 0; i < p->nlearners; i++)
		if (p->state[i] == POOL_WAITING)
			return (long)i;
	return -1;
}

int pool_pick_engine(const struct grade_pool *p)
{
	int best = -1;

	for (size_t e = 0; e < p->nengines; e++) {
		const struct pool_engine *pe = &p->engines[e];

		if (!pe->usable || pe->running >= p->jobs)
			continue;
		if (best < 0 || pe->running < p->engines[best].running ||
		    (pe->running == p->engines[best].running && pe->started < p->engines[best].started))
			best = (int)e;
	}
	return best;
}

void pool_start(struct grade_pool *p, size_t learner, int engine)
{
	p->state[learner] = POOL_RUNNING;
	p->engine_of[learner] = engine;
	p->engines[engine].running++;
	p->engines[engine].started++;
}

int pool_status_suspect(int status)
{
	/* 0 and 1 are gradings, 2 a phase or usage the engine has nothing to do with */
	return status < 0 || status > 2;
}

enum pool_verdict pool_finish(struct grade_pool *p, size_t learner, int graded, int engine_gone)
{
	int e = p->engine_of[learner];
	struct pool_engine *pe = &p->engines[e];

	pe->running--;
	if (graded) {
		pe->finished++;
		p->state[learner] = POOL_DONE;
		return POOL_KEEP;
	}
	if (engine_gone && !pe->lost) {
		pe->lost = 1;
		pe->usable = 0;
	}
	if (!pe->lost) {
		p->state[learner] = POOL_DONE;
		return POOL_KEEP;
	}
	p->handed_from[learner] = e;
	if (!pool_usable(p)) {
		p->state[learner] = POOL_DONE;
		p->ungraded++;
		return POOL_UNGRADED;
	}
	p->state[learner] = POOL_WAITING;
	p->handed_over++;
	return POOL_HAND_OVER;
}

size_t pool_usable(const struct grade_pool *p)
{
	size_t n = 0;

	for (size_t e = 0; e < p->nengines; e++)
		n += p->engines[e].usable;
	return n;
}

size_t pool_running(const struct grade_pool *p)
{
	size_t n = 0;

	for (size_t e = 0; e < p->nengines; e++)
		n += (size_t)p->engines[e].running;
	return n;
}

int pool_over(const struct grade_pool *p)
{
	return !pool_running(p) && (pool_next_learner(p) < 0 || !pool_usable(p));
}

size_t pool_give_up(struct grade_pool *p)
{
	size_t n = 0;

	for (size_t i = 0; i < p->nlearners; i++)
		if (p->state[i] == POOL_WAITING) {
			p->state[i] = POOL_DONE;
			n++;
		}
	return n;
}
