/*
 * http: one GET on loopback with libcurl, for the health endpoint.
 */
#ifndef PHASELAB_HTTP_H
#define PHASELAB_HTTP_H

#include "lib/strbuf.h"

struct http_answer {
	long status;            /* 0 when nothing answered */
	struct strbuf body;     /* at most HTTP_BODY_MAX bytes */
	char content_type[128];
	int curl_code;          /* CURLcode: 7 refused, 28 timed out, 52 empty reply... */
	char error[256];        /* libcurl's words when status is 0 */
	long elapsed_ms;
};

#define HTTP_BODY_MAX (64 << 10)

/* Call once before threads exist.  0, or -1 when libcurl cannot start. */
int http_global_init(void);
void http_global_cleanup(void);

/* GET url with a total deadline.  Returns 0 when an HTTP answer came (any status), -1 otherwise. */
int http_get(const char *url, long timeout_ms, struct http_answer *ans);
void http_answer_release(struct http_answer *ans);

#endif
