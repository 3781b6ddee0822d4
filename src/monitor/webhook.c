/*
 * Webhook delivery (monitor/webhook.h) with libcurl's easy interface: one handle per delivery,
 * a hard CURLOPT_TIMEOUT_MS per attempt, bounded retries with doubling backoff.
 */
#include "util/common.h"
#include "monitor/webhook.h"
#include "util/id.h"

#include <curl/curl.h>
#include <math.h>
#include <pthread.h>
#include <time.h>

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

static json_t *time_json(int64_t ms)
{
	char buf[40];

	if (ms <= 0)
		return json_null();
	time_format_iso8601(ms, buf, sizeof(buf));
	return json_string(buf);
}

static json_t *real_json(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

json_t *webhook_payload(const struct webhook_alert *a)
{
	json_t *j = json_object();

	json_object_set_new(j, "model", json_string(a->model ? a->model : ""));
	json_object_set_new(j, "version", a->version > 0 ? json_integer(a->version) : json_null());
	json_object_set_new(j, "rule", json_string(a->rule ? a->rule : ""));
	json_object_set_new(j, "when", json_string(a->when ? a->when : ""));
	json_object_set_new(j, "state", json_string(a->firing ? "firing" : "resolved"));
	json_object_set_new(j, "metric", a->metric ? json_string(a->metric) : json_null());
	json_object_set_new(j, "value", real_json(a->value));
	json_object_set_new(j, "threshold", real_json(a->threshold));
	json_object_set_new(j, "window",
			    json_pack("{s:o, s:o, s:I, s:I}", "start", time_json(a->window_start),
				      "end", time_json(a->window_end), "rows", (json_int_t)a->rows,
				      "labelled", (json_int_t)a->labelled));
	json_object_set_new(j, "time", time_json(a->time ? a->time : time_now_ms()));
	json_object_set_new(j, "summary", json_string(a->summary ? a->summary : ""));
	return j;
}

/* The receiver's answer body is not needed: count it away. */
static size_t discard(char *ptr, size_t size, size_t nmemb, void *data)
{
	(void)ptr;
	(void)data;
	return size * nmemb;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static bool retryable(CURLcode cc, long status)
{
	if (cc != CURLE_OK)
		return cc != CURLE_UNSUPPORTED_PROTOCOL && cc != CURLE_URL_MALFORMAT;
	return status == 408 || status == 429 || status >= 500;
}

int webhook_post(struct webhook_result *out, const char *url, const json_t *payload,
		 const struct webhook_options *o, struct error *err)
{
	unsigned timeout = o && o->timeout_ms ? o->timeout_ms : 5000;
	unsigned attempts = o && o->attempts ? o->attempts : 3;
	unsigned backoff = o && o->backoff_ms ? o->backoff_ms : 500;
	char *body = NULL, errbuf[CURL_ERROR_SIZE] = "";
	struct curl_slist *headers = NULL;
	CURL *h = NULL;
	CURLcode cc = CURLE_OK;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (!url || (strncasecmp(url, "http://", 7) && strncasecmp(url, "https://", 8))) {
		snprintf(out->detail, sizeof(out->detail), "not an http(s) URL");
		return error_set(err, ERR_INVALID, "webhook url '%s' is not http:// or https://",
				 url ? url : "");
	}
	pthread_once(&curl_once, curl_init);
	if (!(h = curl_easy_init())) {
		rc = error_set(err, ERR_INTERNAL, "webhook: cannot set up libcurl");
		goto out;
	}
	body = json_dumps(payload, JSON_COMPACT);
	headers = curl_slist_append(headers, "Content-Type: application/json");
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)timeout);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "ferry/" FERRY_VERSION);
	for (unsigned i = 0; i < attempts; i++) {
		if (i) {
			sleep_ms(backoff);
			backoff = backoff > UINT_MAX / 2 ? UINT_MAX : backoff * 2;
		}
		errbuf[0] = '\0';
		out->http_status = 0;
		out->attempts++;
		cc = curl_easy_perform(h);
		if (cc == CURLE_OK)
			curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &out->http_status);
		if (cc == CURLE_OK && out->http_status >= 200 && out->http_status < 300)
			break;
		if (!retryable(cc, out->http_status))
			break;
	}
	if (cc == CURLE_OK && out->http_status >= 200 && out->http_status < 300) {
		snprintf(out->detail, sizeof(out->detail), "HTTP %ld", out->http_status);
	} else {
		if (cc == CURLE_OK)
			snprintf(out->detail, sizeof(out->detail), "HTTP %ld after %u attempt%s",
				 out->http_status, out->attempts, out->attempts == 1 ? "" : "s");
		else
			snprintf(out->detail, sizeof(out->detail), "%.100s after %u attempt%s",
				 errbuf[0] ? errbuf : curl_easy_strerror(cc), out->attempts,
				 out->attempts == 1 ? "" : "s");
		rc = error_set(err, ERR_IO, "webhook '%s' failed: %s", url, out->detail);
	}
out:
	curl_slist_free_all(headers);
	curl_easy_cleanup(h);
	free(body);
	return rc;
}
