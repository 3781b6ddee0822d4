/*
 * Webhook delivery (monitor/webhook.h) against a tiny receiver on 127.0.0.1 (libmicrohttpd in
 * this test): the payload's fields as sent, retries on 503 until a 200, no retry on a 400, a
 * refused connection failing after the bounded attempts, and non-http URLs refused.
 */
#include "util/common.h"
#include "monitor/webhook.h"
#include "helpers.h"

#include <math.h>
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>

/* What the receiver saw and what it answers: statuses[i] for the i-th request. */
struct receiver {
	struct MHD_Daemon *d;
	uint16_t port;
	pthread_mutex_t lock;
	int requests;
	int statuses[8];
	char body[4096];
	size_t body_len;
	char content_type[64];
};

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *data,
				  size_t *size, void **ctx)
{
	struct receiver *rc = cls;
	struct MHD_Response *resp;
	enum MHD_Result ret;
	int status;

	(void)url;
	(void)version;
	if (!*ctx) { /* first call: headers only */
		*ctx = rc;
		pthread_mutex_lock(&rc->lock);
		rc->body_len = 0;
		pthread_mutex_unlock(&rc->lock);
		return MHD_YES;
	}
	if (*size) {
		pthread_mutex_lock(&rc->lock);
		if (rc->body_len + *size < sizeof(rc->body)) {
			memcpy(rc->body + rc->body_len, data, *size);
			rc->body_len += *size;
			rc->body[rc->body_len] = '\0';
		}
		pthread_mutex_unlock(&rc->lock);
		*size = 0;
		return MHD_YES;
	}
	pthread_mutex_lock(&rc->lock);
	status = rc->statuses[rc->requests < 8 ? rc->requests : 7];
	rc->requests++;
	snprintf(rc->content_type, sizeof(rc->content_type), "%s %s", method,
		 MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type"));
	pthread_mutex_unlock(&rc->lock);
	resp = MHD_create_response_from_buffer(2, (void *)"ok", MHD_RESPMEM_PERSISTENT);
	ret = MHD_queue_response(c, (unsigned)status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static void start(struct receiver *rc)
{
	const union MHD_DaemonInfo *info;

	pthread_mutex_init(&rc->lock, NULL);
	rc->d =
	    MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL,
			     on_request, rc, MHD_OPTION_SOCK_ADDR,
			     (struct sockaddr *)&(struct sockaddr_in){
				 .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) },
			     MHD_OPTION_END);
	assert_non_null(rc->d);
	info = MHD_get_daemon_info(rc->d, MHD_DAEMON_INFO_BIND_PORT);
	rc->port = info->port;
}

static void stop(struct receiver *rc)
{
	MHD_stop_daemon(rc->d);
	pthread_mutex_destroy(&rc->lock);
}

static const struct webhook_alert alert = {
	.model = "churn",
	.version = 2,
	.rule = "quality",
	.when = "f1 < 0.7 for 1 window",
	.firing = true,
	.metric = "f1",
	.value = 0.61,
	.threshold = 0.7,
	.window_start = 1764000000000,
	.window_end = 1764000060000,
	.rows = 1000,
	.labelled = 900,
	.time = 1764000061000,
	.summary = "ALERT quality: f1 0.61 < 0.7 (model churn v2)",
};

static void test_payload_delivered(void **state)
{
	struct receiver rc = { .statuses = { 200 } };
	struct webhook_options o = { 2000, 3, 10 };
	struct webhook_result res;
	struct error err = ERROR_INIT;
	json_t *p = webhook_payload(&alert), *got;
	char *url;

	(void)state;
	start(&rc);
	url = xstrfmt("http://127.0.0.1:%u/hook", rc.port);
	assert_int_equal(webhook_post(&res, url, p, &o, &err), 0);
	assert_int_equal(res.http_status, 200);
	assert_int_equal(res.attempts, 1);
	assert_string_equal(res.detail, "HTTP 200");
	assert_int_equal(rc.requests, 1);
	assert_string_equal(rc.content_type, "POST application/json");
	got = json_loads(rc.body, 0, NULL);
	assert_non_null(got);
	assert_string_equal(json_string_value(json_object_get(got, "model")), "churn");
	assert_int_equal(json_integer_value(json_object_get(got, "version")), 2);
	assert_string_equal(json_string_value(json_object_get(got, "rule")), "quality");
	assert_string_equal(json_string_value(json_object_get(got, "state")), "firing");
	assert_string_equal(json_string_value(json_object_get(got, "metric")), "f1");
	assert_true(json_real_value(json_object_get(got, "value")) == 0.61);
	assert_true(json_real_value(json_object_get(got, "threshold")) == 0.7);
	/* 1764000000000 ms = 2025-11-24T16:00:00Z (date -u -d @1764000000) */
	assert_string_equal(
	    json_string_value(json_object_get(json_object_get(got, "window"), "start")),
	    "2025-11-24T16:00:00.000Z");
	assert_int_equal(
	    json_integer_value(json_object_get(json_object_get(got, "window"), "rows")), 1000);
	assert_string_equal(json_string_value(json_object_get(got, "time")),
			    "2025-11-24T16:01:01.000Z");
	assert_string_equal(json_string_value(json_object_get(got, "summary")), alert.summary);
	json_decref(got);
	json_decref(p);
	free(url);
	stop(&rc);
}

static void test_retries(void **state)
{
	struct receiver rc = { .statuses = { 503, 503, 200 } };
	struct webhook_options o = { 2000, 3, 10 };
	struct webhook_result res;
	struct error err = ERROR_INIT;
	json_t *p = webhook_payload(&alert);
	char *url;

	(void)state;
	start(&rc);
	url = xstrfmt("http://127.0.0.1:%u/hook", rc.port);
	assert_int_equal(webhook_post(&res, url, p, &o, &err), 0);
	assert_int_equal(res.attempts, 3);
	assert_int_equal(rc.requests, 3);

	/* all attempts used up */
	rc.requests = 0;
	rc.statuses[2] = 500;
	assert_int_equal(webhook_post(&res, url, p, &o, &err), ERR_IO);
	assert_int_equal(rc.requests, 3);
	assert_string_equal(res.detail, "HTTP 500 after 3 attempts");
	assert_non_null(strstr(err.msg, "HTTP 500 after 3 attempts"));

	/* a 400 is final */
	rc.requests = 0;
	rc.statuses[0] = 400;
	assert_int_equal(webhook_post(&res, url, p, &o, &err), ERR_IO);
	assert_int_equal(rc.requests, 1);
	assert_string_equal(res.detail, "HTTP 400 after 1 attempt");
	free(url);
	stop(&rc);

	/* nobody listens any more: bounded attempts, then a failure naming the URL */
	url = xstrfmt("http://127.0.0.1:%u/hook", rc.port);
	assert_int_equal(webhook_post(&res, url, p, &o, &err), ERR_IO);
	assert_int_equal(res.attempts, 3);
	assert_int_equal(res.http_status, 0);
	assert_non_null(strstr(err.msg, url));
	free(url);
	json_decref(p);
}

static void test_bad_url(void **state)
{
	struct webhook_result res;
	struct error err = ERROR_INIT;
	json_t *p = webhook_payload(&(struct webhook_alert){ .model = "m", .value = NAN });

	(void)state;
	assert_true(json_is_null(json_object_get(p, "value")));
	assert_true(json_is_null(json_object_get(p, "version")));
	assert_int_equal(webhook_post(&res, "file:///etc/passwd", p, NULL, &err), ERR_INVALID);
	assert_non_null(strstr(err.msg, "is not http:// or https://"));
	assert_int_equal(res.attempts, 0);
	json_decref(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_payload_delivered),
		cmocka_unit_test(test_retries),
		cmocka_unit_test(test_bad_url),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
