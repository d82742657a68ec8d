#include "lib/http.h"
#include "lib/timeutil.h"

#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

int http_global_init(void)
{
	return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

void http_global_cleanup(void)
{
	curl_global_cleanup();
}

static size_t on_body(char *data, size_t size, size_t n, void *ctx)
{
	struct strbuf *sb = ctx;
	size_t len = size * n, room = HTTP_BODY_MAX > sb->len ? HTTP_BODY_MAX - sb->len : 0;

	strbuf_add(sb, data, len < room ? len : room);
	return len; /* keep reading (and dropping): the status is what matters */
}

int http_get(const char *url, long timeout_ms, struct http_answer *ans)
{
	CURL *c = curl_easy_init();
	char errbuf[CURL_ERROR_SIZE] = "";
	long long t0 = now_ms();
	char *ct = NULL;
	CURLcode rc;

	memset(ans, 0, sizeof(*ans));
	strbuf_init(&ans->body, 0);
	if (!c) {
		snprintf(ans->error, sizeof(ans->error), "cannot start libcurl");
		return -1;
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	/* loopback only: never through a proxy from the environment */
	curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http");
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &ans->body);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "phaselab");
	rc = curl_easy_perform(c);
	ans->curl_code = (int)rc;
	ans->elapsed_ms = (long)(now_ms() - t0);
	if (rc == CURLE_OK) {
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &ans->status);
		if (curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK && ct)
			snprintf(ans->content_type, sizeof(ans->content_type), "%s", ct);
	} else {
		snprintf(ans->error, sizeof(ans->error), "%s", *errbuf ? errbuf : curl_easy_strerror(rc));
	}
	curl_easy_cleanup(c);
	return rc == CURLE_OK ? 0 : -1;
}

void http_answer_release(struct http_answer *ans)
{
	strbuf_release(&ans->body);
}
