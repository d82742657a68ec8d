#include "lib/registry.h"
#include "lib/escape.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <curl/curl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <netinet/in.h>

const char registry_manifest_accept[] =
	"application/vnd.docker.distribution.manifest.v2+json, "
	"application/vnd.docker.distribution.manifest.list.v2+json, "
	"application/vnd.oci.image.manifest.v1+json, "
	"application/vnd.oci.image.index.v1+json";

#define MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_SCHEMA1 "application/vnd.docker.distribution.manifest.v1"

/* One HTTP exchange, as much of it as the checks need. */
struct answer {
	long status;
	char content_type[128];
	char digest[80];          /* Docker-Content-Digest */
	char auth_scheme[32];     /* the first word of WWW-Authenticate (never more: no realm, no token) */
	int api_header;           /* Docker-Distribution-API-Version came */
	long long content_length; /* -1: not said */
	struct strbuf body;
	size_t max_body;
	int too_big;
	char location[512];       /* the redirect's target, absolute */
	int location_cut;         /* it was longer than location holds */
};

/*
 * Is host (no port, no brackets) this machine: localhost, an IPv4 address
 * in 127.0.0.0/8 or ::1?  Parsed as addresses: "127.example.com" is not.
 */
static int host_loopback(const char *host)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (!strcasecmp(host, "localhost"))
		return 1;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, host, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6);
	return 0;
}

int registry_open(struct registry *r, const char *name, long timeout_ms, struct strbuf *err)
{
	const char *host = name, *scheme = NULL;
	char hostonly[256];
	size_t n;

	memset(r, 0, sizeof(*r));
	strbuf_init(&r->err, 0);
	r->timeout_ms = timeout_ms > 0 ? timeout_ms : 30000;
	r->max_body = REGISTRY_BODY_MAX;
	if (!strncmp(name, "http://", 7)) {
		scheme = "http";
		host = name + 7;
	} else if (!strncmp(name, "https://", 8)) {
		scheme = "https";
		host = name + 8;
	}
	if (strchr(name, '@')) {
		/* a user or a password before the host: never repeated, never used */
		strbuf_addstr(err, "the registry's name holds credentials (something@ before the host): phaselab takes "
			      "none from a name and sends none; give host[:port] only");
		return -1;
	}
	n = strlen(host);
	while (n && host[n - 1] == '/')
		n--;
	if (n == 0 || n >= sizeof(hostonly)) {
		strbuf_addf(err, "the registry '%s' names no host", name);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)host[i];
		/* a path, a query or a fragment has no place in it */
		if (ch == '/' || ch == '?' || ch == '#' || ch <= ' ' || ch >= 0x7f) {
			strbuf_addstr(err, "the registry '");
			escape_utf8(err, name, escape_cut(name, strlen(name), 255));
			strbuf_addf(err, "' is not host[:port]: it holds a '%c'", ch > ' ' && ch < 0x7f ? ch : '?');
			return -1;
		}
	}
	memcpy(hostonly, host, n);
	hostonly[n] = '\0';
	/* the host without its port, to decide whether it is this machine */
	{
		char h[256];
		const char *end;

		if (hostonly[0] == '[') {
			end = strchr(hostonly, ']');
			if (!end) {
				strbuf_addf(err, "the registry '%s' has an unclosed '['", name);
				return -1;
			}
			snprintf(h, sizeof(h), "%.*s", (int)(end - hostonly - 1), hostonly + 1);
		} else {
			end = strchr(hostonly, ':');
			snprintf(h, sizeof(h), "%.*s", end ? (int)(end - hostonly) : (int)strlen(hostonly), hostonly);
		}
		r->loopback = host_loopback(h);
	}
	if (!scheme)
		scheme = r->loopback ? "http" : "https";
	if (!strcmp(scheme, "http") && !r->loopback) {
		strbuf_addf(err, "the registry '%s' is asked for over plain http, which phaselab uses only on this "
			    "machine (127.0.0.1, localhost): use https://", name);
		return -1;
	}
	snprintf(r->name, sizeof(r->name), "%s", hostonly);
	snprintf(r->base, sizeof(r->base), "%s://%s", scheme, hostonly);
	return 0;
}

void registry_release(struct registry *r)
{
	strbuf_release(&r->err);
}

void registry_sha256(const void *data, size_t len, char out[72])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	strcpy(out, "sha256:");
	if (EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32) {
		/* cannot happen with a working libcrypto; a digest that matches nothing */
		strcat(out, "?");
		return;
	}
	for (unsigned i = 0; i < mdlen; i++)
		snprintf(out + 7 + 2 * i, 3, "%02x", md[i]);
}

int registry_digest_valid(const char *s)
{
	if (strncmp(s, "sha256:", 7))
		return 0;
	for (int i = 0; i < 64; i++)
		if (!isdigit((unsigned char)s[7 + i]) && !(s[7 + i] >= 'a' && s[7 + i] <= 'f'))
			return 0;
	return s[71] == '\0';
}

static int lower_alnum(int ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');
}

/* One path component: [a-z0-9]+ ((. | _ | __ | -+) [a-z0-9]+)* */
static int component_valid(const char *s, size_t n)
{
	size_t i = 0;

	if (n == 0 || !lower_alnum((unsigned char)s[0]))
		return 0;
	while (i < n) {
		if (lower_alnum((unsigned char)s[i])) {
			i++;
			continue;
		}
		if (s[i] == '.' || s[i] == '_') {
			size_t run = 1;
			if (s[i] == '_' && i + 1 < n && s[i + 1] == '_')
				run = 2;
			i += run;
		} else if (s[i] == '-') {
			while (i < n && s[i] == '-')
				i++;
		} else {
			return 0;
		}
		if (i >= n || !lower_alnum((unsigned char)s[i]))
			return 0; /* a separator must sit between two alphanumerics */
	}
	return 1;
}

int registry_repo_valid(const char *name)
{
	const char *p = name;
	size_t total = strlen(name);

	if (total == 0 || total > 255)
		return 0;
	for (;;) {
		const char *slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);
		if (!component_valid(p, n))
			return 0;
		if (!slash)
			return 1;
		p = slash + 1;
	}
}

static int tag_valid(const char *t)
{
	size_t n = strlen(t);

	if (n == 0 || n > 128 || t[0] == '.' || t[0] == '-')
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)t[i]) && t[i] != '_' && t[i] != '.' && t[i] != '-')
			return 0;
	return 1;
}

/* The distribution grammar's host: labels of letters, digits and '-' joined by '.', then an optional :port. */
static int host_valid(const char *h, size_t n)
{
	const char *colon = memchr(h, ':', n);
	size_t hn = colon ? (size_t)(colon - h) : n;

	if (hn == 0 || h[0] == '.' || h[0] == '-' || h[hn - 1] == '.' || h[hn - 1] == '-')
		return 0;
	for (size_t i = 0; i < hn; i++)
		if (!isalnum((unsigned char)h[i]) && h[i] != '.' && h[i] != '-')
			return 0;
	if (colon) {
		size_t pn = n - hn - 1;

		if (pn == 0 || pn > 5)
			return 0;
		for (size_t i = hn + 1; i < n; i++)
			if (!isdigit((unsigned char)h[i]))
				return 0;
	}
	return 1;
}

int image_ref_parse(const char *ref, struct image_ref *r, struct strbuf *err)
{
	const char *at = strchr(ref, '@'), *slash, *colon, *path;
	size_t end = at ? (size_t)(at - ref) : strlen(ref), namelen;
	char name[512];

	memset(r, 0, sizeof(*r));
	for (const char *p = ref; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f) {
			strbuf_addstr(err, "it holds a space or a control character");
			return -1;
		}
	if (at) {
		if (!registry_digest_valid(at + 1)) {
			strbuf_addf(err, "the digest '%.100s' is not 'sha256:' and 64 lowercase hex digits", at + 1);
			return -1;
		}
		snprintf(r->digest, sizeof(r->digest), "%s", at + 1);
	}
	if (end == 0 || end >= sizeof(name)) {
		strbuf_addstr(err, end ? "the name is over 255 characters" : "it names no repository");
		return -1;
	}
	memcpy(name, ref, end);
	name[end] = '\0';
	/* the tag is after the last ':' that follows the last '/' (a port's colon comes before a '/') */
	slash = strrchr(name, '/');
	colon = strrchr(slash ? slash : name, ':');
	if (colon) {
		if (!tag_valid(colon + 1)) {
			strbuf_addf(err, "the tag '%.130s' is not 1 to 128 of letters, digits, '_', '.' and '-' "
				    "(not starting with '.' or '-')", colon + 1);
			return -1;
		}
		snprintf(r->tag, sizeof(r->tag), "%s", colon + 1);
		name[colon - name] = '\0';
	}
	namelen = strlen(name);
	if (namelen >= sizeof(r->name)) {
		strbuf_addstr(err, "the name is over 255 characters");
		return -1;
	}
	/* a first component with '.' or ':' (or localhost) is the registry's host, not the repository */
	path = name;
	slash = strchr(name, '/');
	if (slash && (memchr(name, '.', (size_t)(slash - name)) || memchr(name, ':', (size_t)(slash - name)) ||
		      !strncmp(name, "localhost/", 10))) {
		path = slash + 1;
		if (!host_valid(name, (size_t)(slash - name))) {
			strbuf_addf(err, "the registry host '%.*s' is not a host name (letters, digits, '.' and '-') "
				    "with an optional :port", (int)(slash - name > 255 ? 255 : slash - name), name);
			return -1;
		}
	}
	if (!registry_repo_valid(path)) {
		strbuf_addf(err, "the repository '%.255s' is not lowercase letters and digits in components joined "
			    "by '/', with '.', '_' or '-' between them", path);
		return -1;
	}
	memcpy(r->name, name, namelen + 1); /* fits: measured above */
	return 0;
}

/* --- one request ------------------------------------------------------------------ */

/* Copy src into dst, cut to fit (a header longer than its field is cut, on purpose). */
static void copy_cut(char *dst, size_t size, const char *src)
{
	size_t n = strlen(src);

	if (n >= size)
		n = size - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

static size_t on_header(char *data, size_t size, size_t n, void *arg)
{
	struct answer *a = arg;
	size_t len = size * n, klen;
	const char *colon;
	char value[512];

	if (len >= 5 && !strncmp(data, "HTTP/", 5)) {
		/* a new response (after a 100 Continue): forget the last one's headers */
		a->content_type[0] = a->digest[0] = a->auth_scheme[0] = '\0';
		a->api_header = 0;
		a->content_length = -1;
		return len;
	}
	colon = memchr(data, ':', len);
	if (!colon)
		return len;
	klen = (size_t)(colon - data);
	{
		const char *v = colon + 1, *e = data + len;
		while (v < e && (*v == ' ' || *v == '\t'))
			v++;
		while (e > v && (e[-1] == '\r' || e[-1] == '\n' || e[-1] == ' '))
			e--;
		snprintf(value, sizeof(value), "%.*s", (int)(e - v), v);
	}
#define IS(h) (klen == sizeof(h) - 1 && !strncasecmp(data, h, klen))
	if (IS("Content-Type"))
		copy_cut(a->content_type, sizeof(a->content_type), value);
	else if (IS("Docker-Content-Digest"))
		copy_cut(a->digest, sizeof(a->digest), value);
	else if (IS("Docker-Distribution-API-Version"))
		a->api_header = 1;
	else if (IS("Content-Length"))
		a->content_length = strtoll(value, NULL, 10);
	else if (IS("WWW-Authenticate"))
		snprintf(a->auth_scheme, sizeof(a->auth_scheme), "%.*s", (int)strcspn(value, " "), value);
#undef IS
	return len;
}

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
	struct answer *a = arg;
	size_t len = size * n;

	if (a->body.len + len > a->max_body) {
		/* stop the transfer here: returning less than len makes libcurl abort it */
		a->too_big = 1;
		return 0;
	}
	strbuf_add(&a->body, data, len);
	return len;
}

static void answer_release(struct answer *a)
{
	strbuf_release(&a->body);
}

/* Is url's host this machine?  (The parsed host, not a prefix of the text.) */
static int url_loopback(const char *url, char *scheme_out, size_t scheme_size)
{
	CURLU *u = curl_url();
	char *host = NULL, *scheme = NULL;
	int lo = 0;

	if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK) {
		size_t n = strlen(host);
		/* curl gives an IPv6 host in brackets */
		if (n > 2 && host[0] == '[' && host[n - 1] == ']') {
			host[n - 1] = '\0';
			lo = host_loopback(host + 1);
		} else {
			lo = host_loopback(host);
		}
		snprintf(scheme_out, scheme_size, "%s", scheme);
	}
	curl_free(host);
	curl_free(scheme);
	curl_url_cleanup(u);
	return lo;
}

/* What a body starts with, for a message: its first line, at most 100 bytes, valid UTF-8. */
static void add_snippet(struct strbuf *out, const struct strbuf *body)
{
	size_t n = strcspn(body->buf, "\r\n");

	if (n > body->len)
		n = body->len;
	while (n && isspace((unsigned char)body->buf[n - 1]))
		n--;
	if (!n)
		return;
	strbuf_addstr(out, ": \"");
	n = escape_cut(body->buf, n, 100);
	escape_utf8(out, body->buf, n);
	if (n < strcspn(body->buf, "\r\n"))
		strbuf_addstr(out, "...");
	strbuf_addch(out, '"');
}

static int is_html(const struct answer *a)
{
	const char *p = a->body.buf;

	if (!strncasecmp(a->content_type, "text/html", 9))
		return 1;
	while (isspace((unsigned char)*p))
		p++;
	return !strncasecmp(p, "<!doctype html", 14) || !strncasecmp(p, "<html", 5);
}

/* "answered 500 (text/plain): "first line"" */
static void describe(struct strbuf *out, const struct answer *a)
{
	strbuf_addf(out, "answered %ld (%s)", a->status, *a->content_type ? a->content_type : "no content type");
	if (is_html(a))
		strbuf_addstr(out, ", an HTML page, not the registry API's JSON");
	else
		add_snippet(out, &a->body);
}

/*
 * method path (relative to the registry's base) with accept (NULL: none):
 * REG_OK for any HTTP answer but a redirect (a's status says which), or a
 * failure in r->err.  A redirect to a loopback host is followed once.
 */
static enum reg_status request(struct registry *r, const char *method, const char *path, const char *accept,
			       struct answer *a)
{
	char url[1024], errbuf[CURL_ERROR_SIZE];
	int hops = 0;

	snprintf(url, sizeof(url), "%s%s", r->base, path);
	strbuf_reset(&r->err);
	for (;;) {
		CURL *c = curl_easy_init();
		struct curl_slist *headers = NULL;
		char *redirect = NULL;
		char line[1200];
		CURLcode rc;

		memset(a, 0, sizeof(*a));
		strbuf_init(&a->body, 0);
		a->max_body = r->max_body;
		a->content_length = -1;
		if (!c) {
			strbuf_addstr(&r->err, "cannot start libcurl");
			return REG_BAD;
		}
		errbuf[0] = '\0';
		if (accept) {
			snprintf(line, sizeof(line), "Accept: %s", accept);
			headers = curl_slist_append(headers, line);
		}
		curl_easy_setopt(c, CURLOPT_URL, url);
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, strcmp(method, "GET") ? method : NULL);
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
		curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, r->timeout_ms);
		curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, r->timeout_ms);
		curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
		curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
		/* never a credential: no .netrc, no user in the URL (registry_open refused it) */
		curl_easy_setopt(c, CURLOPT_NETRC, (long)CURL_NETRC_IGNORED);
		if (r->loopback)
			curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
		curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)r->max_body);
		curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
		curl_easy_setopt(c, CURLOPT_HEADERDATA, a);
		curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
		curl_easy_setopt(c, CURLOPT_WRITEDATA, a);
		curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
		curl_easy_setopt(c, CURLOPT_USERAGENT, "phaselab");
		r->requests++;
		rc = curl_easy_perform(c);
		if (rc == CURLE_OK || rc == CURLE_WRITE_ERROR || rc == CURLE_FILESIZE_EXCEEDED) {
			curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &a->status);
			if (curl_easy_getinfo(c, CURLINFO_REDIRECT_URL, &redirect) == CURLE_OK && redirect) {
				snprintf(a->location, sizeof(a->location), "%s", redirect);
				/* a cut URL is another URL: never follow one */
				a->location_cut = strlen(redirect) >= sizeof(a->location);
			}
		}
		curl_slist_free_all(headers);
		curl_easy_cleanup(c);

		if (rc == CURLE_FILESIZE_EXCEEDED || (rc == CURLE_WRITE_ERROR && a->too_big)) {
			strbuf_addf(&r->err, "%s %s: the answer is over the %zu bytes a manifest or a config may have",
				    method, path, r->max_body);
			if (a->content_length >= 0)
				strbuf_addf(&r->err, " (Content-Length %lld)", a->content_length);
			strbuf_addstr(&r->err, "; the transfer was stopped there");
			return REG_BAD;
		}
		if (rc != CURLE_OK) {
			enum reg_status st = REG_BAD;

			switch (rc) {
			case CURLE_COULDNT_CONNECT: case CURLE_COULDNT_RESOLVE_HOST: case CURLE_OPERATION_TIMEDOUT:
			case CURLE_GOT_NOTHING: case CURLE_RECV_ERROR: case CURLE_SEND_ERROR: case CURLE_PARTIAL_FILE:
				st = REG_UNREACHABLE;
				break;
			default:
				break;
			}
			if (rc == CURLE_OPERATION_TIMEDOUT)
				strbuf_addf(&r->err, "%s %s: no answer within %.1f s", method, path, r->timeout_ms / 1000.0);
			else
				strbuf_addf(&r->err, "%s %s: %s", method, path, *errbuf ? errbuf : curl_easy_strerror(rc));
			return st;
		}
		if (a->status < 300 || a->status >= 400)
			return REG_OK;

		/* a redirect: followed by hand, once, and only to this machine */
		{
			char scheme[16] = "";
			int lo = *a->location && url_loopback(a->location, scheme, sizeof(scheme));

			if (!*a->location) {
				strbuf_addf(&r->err, "%s %s answered %ld, a redirect with no Location", method, path,
					    a->status);
				return REG_BAD;
			}
			if (!lo || hops > 0 || a->location_cut || (strcmp(scheme, "http") && strcmp(scheme, "https"))) {
				strbuf_addf(&r->err, "%s %s answered %ld, a redirect to ", method, path, a->status);
				escape_utf8(&r->err, a->location, strlen(a->location));
				strbuf_addstr(&r->err, hops > 0 ? ", a second redirect: not followed"
					      : a->location_cut ? "...: too long to follow"
					      : ": not followed (only a redirect to this machine is)");
				return REG_BAD;
			}
			snprintf(url, sizeof(url), "%s", a->location);
			answer_release(a);
			hops++;
		}
	}
}

/* The status of a request's answer that is not 200: in r->err. */
static enum reg_status not_ok(struct registry *r, const char *method, const char *path, const struct answer *a)
{
	strbuf_addf(&r->err, "%s %s ", method, path);
	if (a->status == 401 || a->status == 403) {
		strbuf_addf(&r->err, "answered %ld: the registry wants a login", a->status);
		if (*a->auth_scheme) {
			strbuf_addstr(&r->err, " (");
			escape_utf8(&r->err, a->auth_scheme, strlen(a->auth_scheme));
			strbuf_addstr(&r->err, " authentication)");
		}
		return REG_AUTH;
	}
	describe(&r->err, a);
	return a->status == 404 ? REG_NOT_FOUND : REG_BAD;
}

/* Is body one JSON value?  (Parsed to know, then freed.) */
static int is_json(const struct strbuf *body)
{
	json_t *j = json_loadb(body->buf, body->len, 0, NULL);
	int ok = j != NULL;

	json_decref(j);
	return ok;
}

enum reg_status registry_ping(struct registry *r)
{
	struct answer a;
	enum reg_status st = request(r, "GET", "/v2/", NULL, &a);

	if (st != REG_OK) {
		answer_release(&a);
		return st;
	}
	if (a.status != 200) {
		st = not_ok(r, "GET", "/v2/", &a);
		/* /v2/ missing is not a registry at all, not a missing image */
		if (st == REG_NOT_FOUND)
			st = REG_BAD;
	} else if (is_html(&a) || (!a.api_header && !is_json(&a.body))) {
		strbuf_addstr(&r->err, "GET /v2/ ");
		describe(&r->err, &a);
		strbuf_addstr(&r->err, ": not a registry");
		st = REG_BAD;
	}
	answer_release(&a);
	return st;
}

/*
 * The body a's as JSON, checked against the digest header and the digest
 * asked by (want, may be NULL): REG_OK with *out and the body's digest.
 */
static enum reg_status checked_json(struct registry *r, const char *path, const struct answer *a, const char *want,
				    json_t **out, char digest[72])
{
	json_error_t je;

	*out = NULL;
	if (is_html(a)) {
		strbuf_addf(&r->err, "GET %s ", path);
		describe(&r->err, a);
		return REG_BAD;
	}
	registry_sha256(a->body.buf, a->body.len, digest);
	if (*a->digest && strcmp(a->digest, digest)) {
		strbuf_addf(&r->err, "GET %s: the Docker-Content-Digest header says ", path);
		escape_utf8(&r->err, a->digest, strlen(a->digest));
		strbuf_addf(&r->err, " but the %zu bytes that came have %s: the answer is not what it claims to be",
			    a->body.len, digest);
		return REG_BAD;
	}
	if (want && strcmp(want, digest)) {
		strbuf_addf(&r->err, "GET %s: asked for %s, the %zu bytes that came have %s", path, want, a->body.len,
			    digest);
		return REG_BAD;
	}
	*out = json_loadb(a->body.buf, a->body.len, JSON_REJECT_DUPLICATES, &je);
	if (!*out || !json_is_object(*out)) {
		strbuf_addf(&r->err, "GET %s answered %ld (%s) with %s", path, a->status,
			    *a->content_type ? a->content_type : "no content type",
			    *out ? "JSON that is not an object" : "a body that is not JSON");
		if (!*out)
			strbuf_addf(&r->err, " (line %d, column %d: %s)", je.line, je.column, je.text);
		json_decref(*out);
		*out = NULL;
		return REG_BAD;
	}
	return REG_OK;
}

static const char *media_type_of(const struct answer *a, json_t *body, char *buf, size_t size)
{
	const char *mt = json_string_value(json_object_get(body, "mediaType"));
	size_t n = strcspn(a->content_type, ";");

	while (n && a->content_type[n - 1] == ' ')
		n--;
	snprintf(buf, size, "%.*s", (int)n, a->content_type);
	/* a registry may say only application/json: the body's own mediaType decides then */
	if (!*buf || !strcmp(buf, "application/json") || !strcmp(buf, "application/octet-stream")) {
		if (mt)
			snprintf(buf, size, "%s", mt);
		else if (json_object_get(body, "manifests"))
			snprintf(buf, size, "%s", MT_OCI_INDEX);
		else if (json_object_get(body, "config"))
			snprintf(buf, size, "%s", MT_OCI_MANIFEST);
	}
	return buf;
}

/* Append "os/arch[/variant]" to list (comma-separated), cut to fit on a UTF-8 boundary: it becomes evidence. */
static void add_platform(char *list, size_t size, const char *os, const char *arch, const char *variant)
{
	struct strbuf sb = STRBUF_INIT;
	size_t n = strlen(list), keep;

	strbuf_addf(&sb, "%s%s/%s%s%s", n ? ", " : "", os ? os : "?", arch ? arch : "?",
		    variant && *variant ? "/" : "", variant && *variant ? variant : "");
	keep = escape_cut(sb.buf, sb.len, size - n - 1);
	memcpy(list + n, sb.buf, keep);
	list[n + keep] = '\0';
	strbuf_release(&sb);
}

/* One manifest's fields into m (image manifests only). */
static enum reg_status read_image_manifest(struct registry *r, const char *path, json_t *j, struct reg_manifest *m)
{
	json_t *config = json_object_get(j, "config"), *layers = json_object_get(j, "layers");
	const char *cd = json_string_value(json_object_get(config, "digest"));

	if (json_integer_value(json_object_get(j, "schemaVersion")) != 2 || !cd || !registry_digest_valid(cd) ||
	    !json_is_array(layers)) {
		strbuf_addf(&r->err, "GET %s: the manifest (%s) has no schemaVersion 2, config digest and layers",
			    path, m->media_type);
		return REG_BAD;
	}
	snprintf(m->config_digest, sizeof(m->config_digest), "%s", cd);
	m->nlayers = json_array_size(layers);
	return REG_OK;
}

enum reg_status registry_manifest(struct registry *r, const char *repo, const char *ref, const char *os,
				  const char *arch, const char *variant, struct reg_manifest *m)
{
	char path[600], digest[72], mt[128], next[72];
	const char *want = registry_digest_valid(ref) ? ref : NULL;
	json_t *j = NULL;
	struct answer a;
	enum reg_status st;

	memset(m, 0, sizeof(*m));
	for (int depth = 0; depth < 2; depth++) {
		snprintf(path, sizeof(path), "/v2/%s/manifests/%s", repo, ref);
		st = request(r, "GET", path, registry_manifest_accept, &a);
		if (st != REG_OK)
			goto out;
		if (a.status != 200) {
			st = not_ok(r, "GET", path, &a);
			goto out;
		}
		st = checked_json(r, path, &a, want, &j, digest);
		if (st != REG_OK)
			goto out;
		media_type_of(&a, j, mt, sizeof(mt));
		snprintf(m->media_type, sizeof(m->media_type), "%s", mt);
		if (!strcmp(mt, MT_DOCKER_MANIFEST) || !strcmp(mt, MT_OCI_MANIFEST)) {
			snprintf(m->digest, sizeof(m->digest), "%s", digest);
			m->bytes = a.body.len;
			st = read_image_manifest(r, path, j, m);
			goto out;
		}
		if (!strncmp(mt, MT_SCHEMA1, sizeof(MT_SCHEMA1) - 1)) {
			strbuf_addf(&r->err, "GET %s answered a schema-1 manifest (%s), which names no config to compare; "
				    "the request accepted schema 2, so the image was pushed as schema 1 or the registry "
				    "rewrote it all the same", path, mt);
			st = REG_BAD;
			goto out;
		}
		if ((strcmp(mt, MT_DOCKER_LIST) && strcmp(mt, MT_OCI_INDEX)) || depth > 0) {
			strbuf_addf(&r->err, "GET %s answered %s%s, not an image manifest or an index", path,
				    depth > 0 ? "an index inside an index: " : "", mt);
			st = REG_BAD;
			goto out;
		}
		/* an index: the manifest of the platform the image was built for */
		{
			json_t *list = json_object_get(j, "manifests"), *e;
			const char *pick = NULL;
			size_t i;

			snprintf(m->index_digest, sizeof(m->index_digest), "%s", digest);
			json_array_foreach(list, i, e) {
				json_t *p = json_object_get(e, "platform");
				const char *eos = json_string_value(json_object_get(p, "os"));
				const char *earch = json_string_value(json_object_get(p, "architecture"));
				const char *evar = json_string_value(json_object_get(p, "variant"));
				const char *ed = json_string_value(json_object_get(e, "digest"));

				/* BuildKit's attestations sit in the index as unknown/unknown */
				if (!eos || !earch || !strcmp(eos, "unknown"))
					continue;
				add_platform(m->platforms, sizeof(m->platforms), eos, earch, evar);
				if (!pick && ed && registry_digest_valid(ed) && !strcmp(eos, os) && !strcmp(earch, arch) &&
				    (!variant || !*variant || !evar || !strcmp(evar, variant))) {
					pick = ed;
					add_platform(m->platform, sizeof(m->platform), eos, earch, evar);
				}
			}
			if (!pick) {
				strbuf_addf(&r->err, "the index %s holds no %s/%s image (it holds: %s)", digest, os, arch,
					    *m->platforms ? m->platforms : "none");
				st = REG_NO_PLATFORM;
				goto out;
			}
			/* pick is borrowed from j, freed below: keep a copy */
			snprintf(next, sizeof(next), "%s", pick);
			ref = want = next;
		}
		json_decref(j);
		j = NULL;
		answer_release(&a);
	}
	return REG_BAD; /* not reached: the second pass always ends at out */
out:
	json_decref(j);
	answer_release(&a);
	return st;
}

enum reg_status registry_blob_json(struct registry *r, const char *repo, const char *digest, json_t **out)
{
	char path[600], got[72];
	struct answer a;
	enum reg_status st;

	*out = NULL;
	snprintf(path, sizeof(path), "/v2/%s/blobs/%s", repo, digest);
	st = request(r, "GET", path, NULL, &a);
	if (st == REG_OK && a.status != 200)
		st = not_ok(r, "GET", path, &a);
	else if (st == REG_OK)
		st = checked_json(r, path, &a, digest, out, got);
	answer_release(&a);
	return st;
}

enum reg_status registry_delete_manifest(struct registry *r, const char *repo, const char *digest)
{
	char path[600];
	struct answer a;
	enum reg_status st;

	snprintf(path, sizeof(path), "/v2/%s/manifests/%s", repo, digest);
	st = request(r, "DELETE", path, NULL, &a);
	if (st == REG_OK && a.status != 202)
		st = not_ok(r, "DELETE", path, &a);
	answer_release(&a);
	return st;
}
