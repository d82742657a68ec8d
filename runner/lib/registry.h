/*
 * registry: a small reader of the Registry HTTP API v2 (OCI distribution)
 * through libcurl: whether a registry answers, a manifest by tag or digest
 * (through an index to one platform's), and an image config.  It never
 * reads a layer, never sends or stores a credential, and never follows a
 * redirect by itself.
 *
 * Bounded: each request has a total deadline (timeout_ms) and each body a
 * cap (REGISTRY_BODY_MAX): a larger answer is refused as soon as its
 * Content-Length says so, else when the cap is reached (the transfer
 * stops there).  A redirect to a loopback host is followed once, by hand;
 * any other is refused, naming where it led.
 *
 * Every body is checked against its digest: the Docker-Content-Digest
 * header when the registry sends one, and the digest it was asked by.
 * Manifests are asked for with the schema-2, manifest-list, OCI manifest
 * and OCI index media types in Accept: without them registry 2.8 rewrites
 * a schema-2 manifest asked for by tag to schema 1 (another digest, no
 * config), and answers 404 for an OCI one.
 */
#ifndef PHASELAB_REGISTRY_H
#define PHASELAB_REGISTRY_H

#include <stddef.h>

#include <jansson.h>

#include "lib/strbuf.h"

#define REGISTRY_BODY_MAX (4u << 20) /* a manifest or a config: registries refuse larger manifests */

/* The Accept header of a manifest request (the four types, in one line). */
extern const char registry_manifest_accept[];

enum reg_status {
	REG_OK = 0,
	REG_NOT_FOUND,    /* 404: no such tag, digest or repository */
	REG_NO_PLATFORM,  /* an index with no manifest for the platform asked for */
	REG_UNREACHABLE,  /* nothing answered: refused, timed out, name not resolved, connection dropped */
	REG_AUTH,         /* 401 or 403: the registry wants a login */
	REG_BAD,          /* an answer the API does not give: its status, type, size, digest or a redirect */
};

struct registry {
	char name[256];        /* as given, for people: "127.0.0.1:5000" */
	char base[300];        /* "http://127.0.0.1:5000" */
	int loopback;          /* the host is this machine */
	long timeout_ms;       /* each request's total deadline */
	size_t max_body;       /* REGISTRY_BODY_MAX unless a test lowers it */
	unsigned requests;     /* how many were sent (redirects followed included) */
	struct strbuf err;     /* what the last failure was, in words (empty after success) */
};

/*
 * Prepare r for the registry name: "host:port" (http on a loopback host,
 * https elsewhere), or a URL "https://host[:port]", or "http://" for a
 * loopback host only.  No path, user or password may be in it.  Returns 0,
 * or -1 with the reason in err (r is then still released with
 * registry_release).
 */
int registry_open(struct registry *r, const char *name, long timeout_ms, struct strbuf *err);
void registry_release(struct registry *r);

/* GET /v2/: REG_OK when a registry answers there (200, JSON or the API version header). */
enum reg_status registry_ping(struct registry *r);

struct reg_manifest {
	char digest[72];        /* "sha256:<hex>" of the image manifest's bytes */
	char media_type[128];
	char config_digest[72];
	size_t nlayers;
	char index_digest[72];  /* the index or list it was picked from; "" when asked for directly */
	char platform[96];      /* "linux/amd64" when picked from an index */
	char platforms[256];    /* REG_NO_PLATFORM: the platforms the index holds, comma-separated */
	size_t bytes;           /* the image manifest's size */
};

/*
 * The image manifest of repo at ref (a tag, or a digest "sha256:..."): an
 * index or a list is resolved to its manifest for os/arch (variant may be
 * NULL or "": any).  REG_OK with m filled in; otherwise m->platforms may be
 * set and r->err says what came back.
 */
enum reg_status registry_manifest(struct registry *r, const char *repo, const char *ref, const char *os,
				  const char *arch, const char *variant, struct reg_manifest *m);

/* The blob digest of repo as JSON (an image config), checked against its digest.  *out: new reference. */
enum reg_status registry_blob_json(struct registry *r, const char *repo, const char *digest, json_t **out);

/*
 * DELETE /v2/<repo>/manifests/<digest> (what a registry with deletion
 * enabled allows; the tests clean up with it).  REG_OK on 202.
 */
enum reg_status registry_delete_manifest(struct registry *r, const char *repo, const char *digest);

/* An image reference split: [host[:port]/]path[:tag][@digest]. */
struct image_ref {
	char name[256];         /* everything before the tag and the digest */
	char tag[136];          /* "" when none */
	char digest[80];        /* "" when none; else "sha256:<64 hex>" when well formed */
};

/*
 * Split ref into r.  Returns 0 when it is well formed: a name of the
 * distribution grammar's characters, a tag of at most 128 of [A-Za-z0-9_.-]
 * not starting with '.' or '-', a digest "sha256:" and 64 lowercase hex
 * digits.  Else -1 with what is wrong in err (a phrase: "the tag has a ' '").
 */
int image_ref_parse(const char *ref, struct image_ref *r, struct strbuf *err);

/* Is name a repository name the API accepts (lowercase components joined by '/', separators . _ __ -)? */
int registry_repo_valid(const char *name);
/* Is s "sha256:" and 64 lowercase hex digits? */
int registry_digest_valid(const char *s);
/* "sha256:<hex>" of data into out (72 bytes). */
void registry_sha256(const void *data, size_t len, char out[72]);

#endif
