/*
 * What the registry client makes of a registry's answers, without the
 * network: registry_ping(), registry_manifest() (the manifest, or an index
 * or a list and the linux/amd64 manifest picked from it) and
 * registry_blob_json() (the image config), in the order the registry-image
 * check calls them, on answers the input scripts; then the config's
 * rootfs.diff_ids against a fixed local image, as that check compares them;
 * and the first line through image_ref_parse(), registry_repo_valid() and
 * registry_open().
 *
 * libcurl is replaced, in registry.c only, by a fake that answers each
 * request with the input's next answer the way libcurl hands one over: the
 * status line and each header line to the header callback, the body in
 * pieces to the write callback, CURLE_FILESIZE_EXCEEDED for a
 * Content-Length over CURLOPT_MAXFILESIZE_LARGE, CURLE_WRITE_ERROR when a
 * callback takes less than it was given, the Location (resolved against
 * the request's URL by libcurl's own URL parser) as CURLINFO_REDIRECT_URL.
 * The readers it feeds are static, so this file includes their source:
 * fuzz-replaces: runner/lib/registry.c checks/registry-image.c
 *
 * The input, as text:
 *
 *     127.0.0.1:5000/prod-e-backend:abc1234      the first line: an image reference
 *     HTTP/1.1 200 OK                             an answer: the status line,
 *     Docker-Content-Digest: @self                header lines,
 *                                                 a blank line,
 *     {"config": {"digest": "@next"}, ...}        the body
 *     %%                                          between two answers
 *     !7                                          a transport failure: libcurl's code
 *
 * "@self" in a header line becomes the sha256 digest of the answer's body,
 * "@next" in a body the digest of the next 200 answer's body (so an index
 * can name the manifest that follows, and a manifest its config, past a
 * redirect).  After an interim answer (1xx) and its blank line comes the
 * head of the answer proper, as libcurl hands both over.  A request
 * past the last answer finds nobody listening (CURLE_COULDNT_CONNECT).
 * The registry is the first line up to its first '/' (127.0.0.1:5000 when
 * registry_open() refuses that); the repository and the tag or digest are
 * the reference's ("latest" when it has neither; prod-e-backend:abc1234
 * when it does not parse), then "latest" after a 404, as registry-image
 * asks; the body cap is lowered to 4 KiB so that inputs can pass it.
 *
 * What is checked: the client never lets libcurl follow a redirect, never
 * sends a credential (no Authorization header, no .netrc), sends the four
 * manifest types in Accept for a manifest and no Accept otherwise, follows
 * at most one redirect per request and only to a loopback host; a failure
 * says what failed (a non-empty r->err), a success clears it; a transport
 * failure is REG_UNREACHABLE or REG_BAD as the header sorts them; a
 * manifest or a config is returned only when its bytes have the digest the
 * Docker-Content-Digest header says and the digest it was asked by, and a
 * manifest's fields are what registry.h promises (its digest, an image
 * manifest's media type, a valid config digest; picked from an index: the
 * index's digest and a linux/amd64 platform); the layer comparison agrees
 * with itself; what registry-image puts in its evidence (the platforms, the
 * step that made a layer) is UTF-8, which json_string() needs.  The first
 * line: image_ref_parse() splits it so that name[:tag][@digest] gives it
 * back, with a valid tag, digest and repository path, or says why not;
 * registry_repo_valid() agrees with the distribution grammar's regular
 * expression; registry_open() accepts only host[:port] with plain http on
 * a loopback host, or says why not.
 *
 * fuzz-options: -max_len=16384 -len_control=0
 */
#include "fuzz.h"

#include <curl/curl.h>
#include <regex.h>
#include <strings.h>
#include <arpa/inet.h>

#include "lib/registry.h"
#include "lib/strbuf.h"
#include "lib/xalloc.h"

/* --- the script: the answers of one input ----------------------------------------- */

struct scripted {
	int rc;                  /* a transport failure (a CURLcode), or 0: an HTTP answer */
	long status;             /* the last status line's code */
	char **lines;            /* the status line and the header lines, without their line ends */
	size_t nlines;
	char *body;
	size_t body_len;
	char digest[72];         /* of the body */
	char *location;          /* the last Location header's value, or NULL */
	long long content_length; /* the last Content-Length, or -1 */
	int digest_differs;      /* a Docker-Content-Digest header the client keeps differs from digest */
};

/* What one client call (ping, manifest, blob) sent and was given. */
struct call {
	const char *what;
	int manifest;            /* a manifest request: Accept must list the four types */
	unsigned requests;
	int after_redirect;      /* the last answer was a redirect: a request now follows it */
	unsigned hops;           /* redirects followed in a row */
	int last_rc;             /* the fake's return for the last request */
	const struct scripted *first200, *last200; /* the first and last 200 answers with a body delivered */
};

static struct {
	struct scripted *answers;
	size_t nanswers, next;
	char base[300];          /* the registry's base URL */
	char followable[1024];   /* the last redirect the client may follow (resolved), or "" */
	struct call call;
} script;

/* s[0..*len) with every tok replaced by rep, as a new NUL-terminated buffer; *len updated. */
static char *replace_all(const char *s, size_t *len, const char *tok, const char *rep)
{
	struct strbuf sb = STRBUF_INIT;
	size_t toklen = strlen(tok), rest = *len;
	const char *p = s, *hit;

	while ((hit = memmem(p, rest, tok, toklen))) {
		strbuf_add(&sb, p, (size_t)(hit - p));
		strbuf_addstr(&sb, rep);
		rest -= (size_t)(hit - p) + toklen;
		p = hit + toklen;
	}
	strbuf_add(&sb, p, rest);
	return strbuf_detach(&sb, len);
}

/* The value of a header line as registry.c's on_header() keeps it, or NULL when the name is not key. */
static const char *header_value(const char *line, const char *key, char *buf, size_t size)
{
	const char *colon = strchr(line, ':'), *v, *e;

	if (!colon || (size_t)(colon - line) != strlen(key) || strncasecmp(line, key, strlen(key)))
		return NULL;
	for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
		;
	for (e = v + strlen(v); e > v && (e[-1] == '\r' || e[-1] == '\n' || e[-1] == ' '); e--)
		;
	snprintf(buf, size, "%.*s", (int)(e - v), v);
	return buf;
}

/* The length of the line at p (before end), without its "\n" or "\r\n"; *next: the line after it. */
static size_t line_at(const char *p, const char *end, const char **next)
{
	const char *eol = memchr(p, '\n', (size_t)(end - p));
	size_t n = (size_t)((eol ? eol : end) - p);

	*next = eol ? eol + 1 : end;
	return n && p[n - 1] == '\r' ? n - 1 : n;
}

/* The status of a status line ("HTTP/1.1 200 OK"), 0 when it has none in 100..999. */
static long status_of(const char *line, size_t n)
{
	const char *sp = memchr(line, ' ', n);
	long st = 0;

	for (sp = sp ? sp + 1 : line + n; sp < line + n && *sp >= '0' && *sp <= '9' && st < 1000; sp++)
		st = st * 10 + (*sp - '0');
	return st >= 100 && st <= 999 ? st : 0;
}

/*
 * One answer: its head (the status line and the header lines up to a blank
 * line; after an interim 1xx answer's blank line, the next answer's head)
 * and its body.  next_digest replaces "@next" in the body.
 */
static void parse_answer(struct scripted *a, const char *text, size_t len, const char *next_digest)
{
	const char *end = text + len, *p = text, *next, *body = end;
	char *head, value[512];
	size_t head_len, body_len, n;
	long status = 0;

	memset(a, 0, sizeof(*a));
	a->content_length = -1;
	if (len && text[0] == '!') {
		/* "!N": libcurl's code N */
		int rc = 0;
		for (p = text + 1; p < end && *p >= '0' && *p <= '9' && rc < 100; p++)
			rc = rc * 10 + (*p - '0');
		a->rc = rc > 0 && rc < 100 ? rc : CURLE_WEIRD_SERVER_REPLY;
		p = text;
	}
	for (; p < end; p = next) {
		n = line_at(p, end, &next);
		if (n == 0 && !(status >= 100 && status < 200)) {
			body = next;
			break;
		}
		if (n >= 5 && !memcmp(p, "HTTP/", 5))
			status = status_of(p, n);
	}
	head_len = (size_t)(p - text);
	body_len = (size_t)(end - body);
	a->body = replace_all(body, &body_len, "@next", next_digest ? next_digest : "@next");
	a->body_len = body_len;
	registry_sha256(a->body, a->body_len, a->digest);
	if (a->rc)
		return;
	if (len < 5 || memcmp(text, "HTTP/", 5) || !status) {
		a->rc = CURLE_WEIRD_SERVER_REPLY;
		return;
	}
	head = replace_all(text, &head_len, "@self", a->digest);
	for (p = head; p < head + head_len; p = next) {
		char *copy;

		/* a NUL byte ends a line early, as it would end libcurl's C string */
		n = line_at(p, head + head_len, &next);
		copy = fuzz_string((const uint8_t *)p, n);
		a->lines = realloc(a->lines, (a->nlines + 1) * sizeof(*a->lines));
		if (!a->lines)
			abort();
		a->lines[a->nlines++] = copy;
		if (!strncmp(copy, "HTTP/", 5)) {
			/* the answer proper after an interim one: its headers count, not the interim's */
			a->status = status_of(copy, strlen(copy));
			a->digest_differs = 0;
			a->content_length = -1;
			free(a->location);
			a->location = NULL;
		} else if (header_value(copy, "Location", value, sizeof(value))) {
			free(a->location);
			a->location = xstrdup(value);
		} else if (header_value(copy, "Content-Length", value, sizeof(value))) {
			a->content_length = strtoll(value, NULL, 10);
		} else if (header_value(copy, "Docker-Content-Digest", value, sizeof(value))) {
			/* the client keeps 79 bytes of it; an empty one says nothing */
			value[79] = '\0';
			a->digest_differs = *value && strcmp(value, a->digest) != 0;
		}
	}
	free(head);
	if (!a->status)
		a->rc = CURLE_WEIRD_SERVER_REPLY;
}

static void script_load(const char *text, size_t len)
{
	static const char sep[] = "\n%%\n";
	const char **starts = NULL;
	size_t *lens = NULL, n = 0;
	const char *p = text, *hit, *next200 = NULL;

	while (len) {
		hit = memmem(p, len, sep, sizeof(sep) - 1);
		starts = realloc(starts, (n + 1) * sizeof(*starts));
		lens = realloc(lens, (n + 1) * sizeof(*lens));
		if (!starts || !lens)
			abort();
		starts[n] = p;
		lens[n] = hit ? (size_t)(hit - p) : len;
		n++;
		if (!hit)
			break;
		len -= (size_t)(hit - p) + sizeof(sep) - 1;
		p = hit + sizeof(sep) - 1;
	}
	script.answers = calloc(n ? n : 1, sizeof(*script.answers));
	if (!script.answers)
		abort();
	script.nanswers = n;
	script.next = 0;
	/* from the last: each "@next" is the digest of the next 200 answer's body */
	for (size_t i = n; i-- > 0;) {
		parse_answer(&script.answers[i], starts[i], lens[i], next200);
		if (!script.answers[i].rc && script.answers[i].status == 200)
			next200 = script.answers[i].digest;
	}
	free(starts);
	free(lens);
}

static void script_release(void)
{
	for (size_t i = 0; i < script.nanswers; i++) {
		for (size_t k = 0; k < script.answers[i].nlines; k++)
			free(script.answers[i].lines[k]);
		free(script.answers[i].lines);
		free(script.answers[i].body);
		free(script.answers[i].location);
	}
	free(script.answers);
	memset(&script, 0, sizeof(script));
}

/* --- the fake libcurl -------------------------------------------------------------- */

/* Is the URL's host this machine (localhost, 127.0.0.0/8, ::1), as libcurl parses it? */
static int fuzz_url_loopback(const char *url)
{
	CURLU *u = curl_url();
	char *host = NULL;
	int lo = 0;

	if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
		struct in_addr a4;
		struct in6_addr a6;
		size_t n = strlen(host);

		if (n > 2 && host[0] == '[' && host[n - 1] == ']') {
			host[n - 1] = '\0';
			lo = inet_pton(AF_INET6, host + 1, &a6) == 1 && !memcmp(&a6, &in6addr_loopback, sizeof(a6));
		} else {
			lo = !strcasecmp(host, "localhost") ||
			     (inet_pton(AF_INET, host, &a4) == 1 && (ntohl(a4.s_addr) >> 24) == 127);
		}
	}
	curl_free(host);
	curl_url_cleanup(u);
	return lo;
}

static struct fake_easy {
	int live;
	char url[1024];
	const char *method;
	long follow, netrc;
	char protocols[32];
	curl_off_t max_filesize;
	const struct curl_slist *headers;
	char *errbuf;
	curl_write_callback header_fn, write_fn;
	void *header_data, *write_data;
	long status;
	char *redirect;
} easy;

static CURL *fake_easy_init(void)
{
	FUZZ_CHECK(!easy.live, "two libcurl handles at once");
	memset(&easy, 0, sizeof(easy));
	easy.live = 1;
	easy.follow = -1;
	easy.netrc = -1;
	return (CURL *)&easy;
}

static void fake_easy_cleanup(CURL *c)
{
	FUZZ_CHECK(c == (CURL *)&easy && easy.live, "cleanup of a handle that is not live");
	free(easy.redirect);
	memset(&easy, 0, sizeof(easy));
}

static CURLcode fake_easy_setopt(CURL *c, CURLoption opt, ...)
{
	va_list ap;
	long lv = 0;
	void *pv = NULL;
	curl_write_callback fv = NULL;
	curl_off_t ov = 0;

	FUZZ_CHECK(c == (CURL *)&easy && easy.live, "an option set on a handle that is not live");
	va_start(ap, opt);
	if (opt < CURLOPTTYPE_OBJECTPOINT)
		lv = va_arg(ap, long);
	else if (opt < CURLOPTTYPE_FUNCTIONPOINT)
		pv = va_arg(ap, void *);
	else if (opt < CURLOPTTYPE_OFF_T)
		fv = va_arg(ap, curl_write_callback);
	else if (opt < CURLOPTTYPE_BLOB)
		ov = va_arg(ap, curl_off_t);
	va_end(ap);
	switch (opt) {
	case CURLOPT_URL:
		snprintf(easy.url, sizeof(easy.url), "%s", (const char *)pv);
		break;
	case CURLOPT_CUSTOMREQUEST:
		easy.method = pv;
		break;
	case CURLOPT_HTTPHEADER:
		easy.headers = pv;
		break;
	case CURLOPT_FOLLOWLOCATION:
		easy.follow = lv;
		break;
	case CURLOPT_NETRC:
		easy.netrc = lv;
		break;
	case CURLOPT_PROTOCOLS_STR:
		snprintf(easy.protocols, sizeof(easy.protocols), "%s", (const char *)pv);
		break;
	case CURLOPT_MAXFILESIZE_LARGE:
		easy.max_filesize = ov;
		break;
	case CURLOPT_ERRORBUFFER:
		easy.errbuf = pv;
		break;
	case CURLOPT_HEADERFUNCTION:
		easy.header_fn = fv;
		break;
	case CURLOPT_HEADERDATA:
		easy.header_data = pv;
		break;
	case CURLOPT_WRITEFUNCTION:
		easy.write_fn = fv;
		break;
	case CURLOPT_WRITEDATA:
		easy.write_data = pv;
		break;
	default:
		break;
	}
	return CURLE_OK;
}

/* Hand data[0..len) to a callback in its own buffer (no terminator to lean on); 0 when it took it all. */
static int deliver(curl_write_callback fn, void *arg, const char *data, size_t len)
{
	char *copy = malloc(len ? len : 1);
	size_t took;

	if (!copy)
		abort();
	memcpy(copy, data, len);
	took = fn(copy, 1, len, arg);
	free(copy);
	return took == len ? 0 : -1;
}

static void check_request(void)
{
	struct call *k = &script.call;
	const char *accept = NULL;
	size_t blen = strlen(script.base);

	FUZZ_CHECK(easy.follow == 0, "%s: libcurl may follow redirects (CURLOPT_FOLLOWLOCATION %ld)", k->what,
		   easy.follow);
	FUZZ_CHECK(easy.netrc == CURL_NETRC_IGNORED, "%s: .netrc not ignored", k->what);
	FUZZ_CHECK(!strcmp(easy.protocols, "http,https"), "%s: protocols '%s'", k->what, easy.protocols);
	FUZZ_CHECK(easy.header_fn && easy.write_fn && easy.errbuf, "%s: a callback or the error buffer is missing",
		   k->what);
	FUZZ_CHECK(!easy.method, "%s: a %s request", k->what, easy.method);
	for (const struct curl_slist *h = easy.headers; h; h = h->next) {
		FUZZ_CHECK(strncasecmp(h->data, "Authorization:", 14) && strncasecmp(h->data, "Cookie:", 7),
			   "%s: a credential is sent: %s", k->what, h->data);
		if (!strncasecmp(h->data, "Accept:", 7))
			accept = h->data + 7 + strspn(h->data + 7, " ");
	}
	if (k->manifest)
		FUZZ_CHECK(accept && !strcmp(accept, registry_manifest_accept), "%s: Accept '%s'", k->what,
			   accept ? accept : "(none)");
	else
		FUZZ_CHECK(!accept, "%s: Accept '%s'", k->what, accept);

	if (!k->after_redirect) {
		/* a request of its own, to the registry */
		k->hops = 0;
		FUZZ_CHECK(!strncmp(easy.url, script.base, blen) && easy.url[blen] == '/', "%s: a request to %s, not "
			   "to the registry %s", k->what, easy.url, script.base);
		return;
	}
	/* after a redirect, within one call, a request can only follow it: by hand, to this machine, once */
	k->hops++;
	FUZZ_CHECK(k->hops == 1, "%s: %u redirects followed in a row", k->what, k->hops);
	FUZZ_CHECK(*script.followable && !strncmp(easy.url, script.followable, strlen(easy.url)),
		   "%s: a request to %s after a redirect to %s", k->what, easy.url, script.followable);
	FUZZ_CHECK(fuzz_url_loopback(easy.url), "%s: a redirect to %s followed off this machine", k->what, easy.url);
	FUZZ_CHECK(!strncmp(easy.url, "http://", 7) || !strncmp(easy.url, "https://", 8),
		   "%s: a redirect to %s followed", k->what, easy.url);
}

static CURLcode fake_easy_perform(CURL *c)
{
	struct call *k = &script.call;
	const struct scripted *a;
	size_t off;

	FUZZ_CHECK(c == (CURL *)&easy && easy.live, "perform on a handle that is not live");
	check_request();
	k->requests++;
	k->after_redirect = 0;
	*script.followable = '\0';
	if (script.next >= script.nanswers) {
		snprintf(easy.errbuf, CURL_ERROR_SIZE, "Failed to connect: nobody listens (the script has ended)");
		return k->last_rc = CURLE_COULDNT_CONNECT;
	}
	a = &script.answers[script.next++];
	if (a->rc) {
		snprintf(easy.errbuf, CURL_ERROR_SIZE, "%s (scripted)", curl_easy_strerror((CURLcode)a->rc));
		return k->last_rc = a->rc;
	}
	easy.status = a->status;
	for (size_t i = 0; i < a->nlines; i++) {
		struct strbuf line = STRBUF_INIT;
		int bad;

		strbuf_addstr(&line, a->lines[i]);
		strbuf_addstr(&line, "\r\n");
		bad = deliver(easy.header_fn, easy.header_data, line.buf, line.len);
		strbuf_release(&line);
		if (bad)
			return k->last_rc = CURLE_WRITE_ERROR;
	}
	if (deliver(easy.header_fn, easy.header_data, "\r\n", 2))
		return k->last_rc = CURLE_WRITE_ERROR;
	if (easy.max_filesize > 0 && a->content_length > (long long)easy.max_filesize)
		return k->last_rc = CURLE_FILESIZE_EXCEEDED;
	/* the body in pieces, as libcurl hands over what each read brought */
	for (off = 0; off < a->body_len; off += 1000) {
		size_t n = a->body_len - off < 1000 ? a->body_len - off : 1000;
		if (deliver(easy.write_fn, easy.write_data, a->body + off, n))
			return k->last_rc = CURLE_WRITE_ERROR;
	}
	if (a->status == 200) {
		if (!k->first200)
			k->first200 = a;
		k->last200 = a;
	}
	k->after_redirect = a->status >= 300 && a->status < 400;
	if (k->after_redirect && a->location) {
		/* libcurl's CURLINFO_REDIRECT_URL: the Location resolved against the request's URL */
		CURLU *u = curl_url();
		char *abs = NULL;

		if (u && curl_url_set(u, CURLUPART_URL, easy.url, 0) == CURLUE_OK &&
		    curl_url_set(u, CURLUPART_URL, a->location, 0) == CURLUE_OK &&
		    curl_url_get(u, CURLUPART_URL, &abs, 0) == CURLUE_OK) {
			easy.redirect = xstrdup(abs);
			snprintf(script.followable, sizeof(script.followable), "%s", abs);
		}
		curl_free(abs);
		curl_url_cleanup(u);
	}
	return k->last_rc = CURLE_OK;
}

static CURLcode fake_easy_getinfo(CURL *c, CURLINFO info, ...)
{
	va_list ap;

	FUZZ_CHECK(c == (CURL *)&easy && easy.live, "getinfo on a handle that is not live");
	va_start(ap, info);
	if (info == CURLINFO_RESPONSE_CODE)
		*va_arg(ap, long *) = easy.status;
	else if (info == CURLINFO_REDIRECT_URL)
		*va_arg(ap, char **) = easy.redirect;
	va_end(ap);
	return CURLE_OK;
}

#undef curl_easy_setopt
#undef curl_easy_getinfo
#define curl_easy_init fake_easy_init
#define curl_easy_cleanup fake_easy_cleanup
#define curl_easy_setopt fake_easy_setopt
#define curl_easy_perform fake_easy_perform
#define curl_easy_getinfo fake_easy_getinfo
#include "runner/lib/registry.c"
#undef curl_easy_init
#undef curl_easy_cleanup
#undef curl_easy_setopt
#undef curl_easy_perform
#undef curl_easy_getinfo

#include "checks/registry-image.c"

/* --- the contracts ------------------------------------------------------------------ */

static void call_start(const char *what, int manifest)
{
	memset(&script.call, 0, sizeof(script.call));
	script.call.what = what;
	script.call.manifest = manifest;
	*script.followable = '\0';
}

/* What every call promises: a status of the enum, a reason exactly on failure, transport failures sorted. */
static void check_status(struct registry *r, enum reg_status st)
{
	const struct call *k = &script.call;

	FUZZ_CHECK(st >= REG_OK && st <= REG_BAD, "%s: status %d", k->what, (int)st);
	FUZZ_CHECK(k->requests >= 1, "%s: no request", k->what);
	if (st == REG_OK)
		FUZZ_CHECK(r->err.len == 0, "%s: a success with a reason: %s", k->what, r->err.buf);
	else
		FUZZ_CHECK(r->err.len > 0, "%s: status %d without a reason", k->what, (int)st);
	if (k->last_rc) {
		int unreachable = k->last_rc == CURLE_COULDNT_CONNECT || k->last_rc == CURLE_COULDNT_RESOLVE_HOST ||
				  k->last_rc == CURLE_OPERATION_TIMEDOUT || k->last_rc == CURLE_GOT_NOTHING ||
				  k->last_rc == CURLE_RECV_ERROR || k->last_rc == CURLE_SEND_ERROR ||
				  k->last_rc == CURLE_PARTIAL_FILE;
		FUZZ_CHECK(st == (unreachable ? REG_UNREACHABLE : REG_BAD), "%s: libcurl said %d, the client %d: %s",
			   k->what, k->last_rc, (int)st, r->err.buf);
	}
}

/* A body the client took: it has the digest its header says (when it says one). */
static void check_taken(const struct scripted *a, const char *what)
{
	FUZZ_CHECK(a, "%s: a success without a 200 answer", what);
	FUZZ_CHECK(!a->digest_differs, "%s: a body taken although Docker-Content-Digest says another digest", what);
}

static void check_manifest(enum reg_status st, const struct reg_manifest *m, const char *asked)
{
	const struct call *k = &script.call;

	if (st == REG_NO_PLATFORM) {
		FUZZ_CHECK(registry_digest_valid(m->index_digest), "%s: no platform, but no index", k->what);
		FUZZ_CHECK(k->first200 && !strcmp(m->index_digest, k->first200->digest), "%s: the index digest %s is "
			   "not its body's", k->what, m->index_digest);
		check_taken(k->first200, k->what);
	}
	if (st == REG_OK || st == REG_NO_PLATFORM) {
		json_t *v = json_string(m->platforms);
		FUZZ_CHECK(v, "%s: the platforms '%s' are not UTF-8: the evidence would lose them", k->what,
			   m->platforms);
		json_decref(v);
	}
	if (st != REG_OK)
		return;
	check_taken(k->last200, k->what);
	FUZZ_CHECK(!strcmp(m->digest, k->last200->digest) && m->bytes == k->last200->body_len,
		   "%s: manifest %s (%zu bytes) is not the body that came", k->what, m->digest, m->bytes);
	FUZZ_CHECK(!registry_digest_valid(asked) || !strcmp(asked, *m->index_digest ? m->index_digest : m->digest),
		   "%s: asked for %s, took %s", k->what, asked, *m->index_digest ? m->index_digest : m->digest);
	FUZZ_CHECK(!strcmp(m->media_type, MT_DOCKER_MANIFEST) || !strcmp(m->media_type, MT_OCI_MANIFEST),
		   "%s: an image manifest of type '%s'", k->what, m->media_type);
	FUZZ_CHECK(registry_digest_valid(m->config_digest), "%s: config digest '%s'", k->what, m->config_digest);
	if (*m->index_digest) {
		json_t *v = json_string(m->platform);

		FUZZ_CHECK(k->first200 && k->first200 != k->last200 && !strcmp(m->index_digest, k->first200->digest),
			   "%s: the index digest %s is not its body's", k->what, m->index_digest);
		check_taken(k->first200, k->what);
		FUZZ_CHECK(!strncmp(m->platform, "linux/amd64", 11) && (!m->platform[11] || m->platform[11] == '/'),
			   "%s: picked platform '%s' for linux/amd64", k->what, m->platform);
		FUZZ_CHECK(v, "%s: the platform '%s' is not UTF-8: the evidence would lose it", k->what, m->platform);
		json_decref(v);
	} else {
		FUZZ_CHECK(!*m->platform, "%s: a platform '%s' without an index", k->what, m->platform);
	}
}

/* The config's rootfs.diff_ids against the local image's layers, as registry-image compares them. */
static void check_layers(json_t *config, json_t *local)
{
	json_t *diff_ids = json_object_get(json_object_get(config, "rootfs"), "diff_ids");
	size_t same, nd, nl = json_array_size(local);
	struct strbuf step = STRBUF_INIT;
	int all_strings = 1;

	if (!json_is_array(diff_ids))
		return;
	nd = json_array_size(diff_ids);
	same = common_prefix(diff_ids, local);
	FUZZ_CHECK(same <= nd && same <= nl, "%zu common layers of %zu and %zu", same, nd, nl);
	FUZZ_CHECK(same_layers(diff_ids, local) == (same == nd && nd == nl), "same_layers disagrees with its prefix");
	FUZZ_CHECK(same_layers(diff_ids, local) == same_layers(local, diff_ids), "same_layers is not symmetric");
	for (size_t i = 0; i < nd; i++)
		all_strings &= json_is_string(json_array_get(diff_ids, i));
	FUZZ_CHECK(same_layers(diff_ids, diff_ids) == all_strings, "the registry's layers are not their own");
	for (size_t i = 0; i <= nd; i++) {
		strbuf_reset(&step);
		if (layer_step(config, i, &step)) {
			json_t *v = json_string(step.buf);
			FUZZ_CHECK(v, "the step of layer %zu is not UTF-8: the evidence would lose it", i);
			json_decref(v);
		}
	}
	strbuf_release(&step);
}

/* registry_repo_valid() against the distribution grammar, as a regular expression. */
static void check_repo_name(const char *name)
{
	static regex_t re;
	static int compiled;
	int want;

	if (!compiled) {
		if (regcomp(&re, "^[a-z0-9]+(([._]|__|-+)[a-z0-9]+)*(/[a-z0-9]+(([._]|__|-+)[a-z0-9]+)*)*$",
			    REG_EXTENDED | REG_NOSUB))
			abort();
		compiled = 1;
	}
	want = strlen(name) <= 255 && !regexec(&re, name, 0, NULL, 0);
	FUZZ_CHECK(registry_repo_valid(name) == want, "registry_repo_valid('%s') is %d", name, !want);
}

static int is_tag(const char *t)
{
	size_t n = strlen(t);

	return n >= 1 && n <= 128 && t[0] != '.' && t[0] != '-' &&
	       strspn(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") == n;
}

/* The repository in an image reference's name: what follows a first component that is a host, else all of it. */
static const char *repo_path(const char *name)
{
	const char *slash = strchr(name, '/');

	if (slash && (memchr(name, '.', (size_t)(slash - name)) || memchr(name, ':', (size_t)(slash - name)) ||
		      !strncmp(name, "localhost/", 10)))
		return slash + 1;
	return name;
}

/* image_ref_parse(): the parts give the reference back, each of its form; else a reason. */
static int check_ref(const char *line, struct image_ref *ir)
{
	struct strbuf err = STRBUF_INIT, back = STRBUF_INIT;
	int rc = image_ref_parse(line, ir, &err);

	FUZZ_CHECK(rc == 0 || rc == -1, "image_ref_parse returned %d", rc);
	if (rc < 0) {
		FUZZ_CHECK(err.len > 0, "'%s' refused without a reason", line);
		strbuf_release(&err);
		return -1;
	}
	FUZZ_CHECK(err.len == 0, "'%s' accepted with a reason: %s", line, err.buf);
	strbuf_addstr(&back, ir->name);
	if (*ir->tag)
		strbuf_addf(&back, ":%s", ir->tag);
	if (*ir->digest)
		strbuf_addf(&back, "@%s", ir->digest);
	FUZZ_CHECK(!strcmp(back.buf, line), "'%s' split as '%s' + '%s' + '%s'", line, ir->name, ir->tag, ir->digest);
	FUZZ_CHECK(!*ir->tag || is_tag(ir->tag), "'%s': tag '%s'", line, ir->tag);
	FUZZ_CHECK(!*ir->digest || registry_digest_valid(ir->digest), "'%s': digest '%s'", line, ir->digest);
	FUZZ_CHECK(registry_repo_valid(repo_path(ir->name)), "'%s': repository '%s'", line, repo_path(ir->name));
	strbuf_release(&err);
	strbuf_release(&back);
	return 0;
}

/* registry_open(): host[:port] only, plain http only to this machine; else a reason. */
static int check_open(struct registry *r, const char *name)
{
	struct strbuf err = STRBUF_INIT;
	int rc = registry_open(r, name, 1000, &err);

	FUZZ_CHECK(rc == 0 || rc == -1, "registry_open returned %d", rc);
	if (rc < 0) {
		FUZZ_CHECK(err.len > 0, "registry '%s' refused without a reason", name);
	} else {
		FUZZ_CHECK(err.len == 0, "registry '%s' accepted with a reason: %s", name, err.buf);
		FUZZ_CHECK(*r->name && !strpbrk(r->name, "/@?#") && !strchr(name, '@'), "registry '%s' as '%s'", name,
			   r->name);
		for (const char *s = r->name; *s; s++)
			FUZZ_CHECK((unsigned char)*s > ' ' && (unsigned char)*s < 0x7f, "registry '%s' as '%s'", name,
				   r->name);
		FUZZ_CHECK((!strncmp(r->base, "https://", 8) && !strcmp(r->base + 8, r->name)) ||
			   (!strncmp(r->base, "http://", 7) && !strcmp(r->base + 7, r->name) && r->loopback),
			   "registry '%s' at '%s' (loopback %d)", name, r->base, r->loopback);
	}
	strbuf_release(&err);
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *nl = memchr(data, '\n', size);
	size_t first = nl ? (size_t)(nl - (const char *)data) : size;
	char *line = fuzz_string(data, first), *host, *repo;
	struct strbuf err = STRBUF_INIT;
	struct registry r;
	struct image_ref ir;
	struct reg_manifest m;
	enum reg_status st;
	const char *ref = "abc1234";
	json_t *config = NULL, *local;

	/* the first line, as the parsers see it (up to a NUL byte in it) */
	check_repo_name(line);
	host = xstrndup(line, strcspn(line, "/"));
	if (check_open(&r, host) < 0) {
		registry_release(&r);
		if (registry_open(&r, "127.0.0.1:5000", 1000, &err) < 0)
			abort();
	}
	r.max_body = 4096;
	if (check_ref(line, &ir) == 0) {
		repo = xstrdup(repo_path(ir.name));
		ref = *ir.digest ? ir.digest : *ir.tag ? ir.tag : "latest";
	} else {
		repo = xstrdup("prod-e-backend");
	}

	/* the answers, as registry-image asks for them */
	script_load(nl ? nl + 1 : "", nl ? size - first - 1 : 0);
	snprintf(script.base, sizeof(script.base), "%s", r.base);
	call_start("ping", 0);
	st = registry_ping(&r);
	check_status(&r, st);
	if (st != REG_OK)
		goto out;
	call_start("manifest", 1);
	st = registry_manifest(&r, repo, ref, "linux", "amd64", NULL, &m);
	check_status(&r, st);
	check_manifest(st, &m, ref);
	if (st == REG_NOT_FOUND) {
		call_start("manifest latest", 1);
		st = registry_manifest(&r, repo, "latest", "linux", "amd64", NULL, &m);
		check_status(&r, st);
		check_manifest(st, &m, "latest");
	}
	if (st != REG_OK)
		goto out;
	call_start("config", 0);
	st = registry_blob_json(&r, repo, m.config_digest, &config);
	check_status(&r, st);
	FUZZ_CHECK((st == REG_OK) == json_is_object(config), "config: status %d with%s a config", (int)st,
		   config ? "" : "out");
	if (st == REG_OK) {
		check_taken(script.call.last200, "config");
		FUZZ_CHECK(!strcmp(script.call.last200->digest, m.config_digest), "config: asked for %s, took %s",
			   m.config_digest, script.call.last200->digest);
		local = json_pack("[s,s]", "sha256:2222222222222222222222222222222222222222222222222222222222222222",
				  "sha256:3333333333333333333333333333333333333333333333333333333333333333");
		check_layers(config, local);
		json_decref(local);
	}
out:
	json_decref(config);
	script_release();
	registry_release(&r);
	strbuf_release(&err);
	free(repo);
	free(host);
	free(line);
	return 0;
}
