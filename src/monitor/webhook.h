/*
 * Alert notifications: a JSON payload POSTed to a webhook URL with libcurl, with a timeout per
 * attempt and a bounded number of attempts, so a dead receiver delays a monitoring pass by at
 * most attempts * timeout + the backoffs and never blocks it forever.
 *
 * Payload (one object):
 *   {"model": "churn", "version": 2, "rule": "quality", "when": "f1 < 0.7", "state": "firing",
 *    "metric": "f1", "value": 0.61, "threshold": 0.7,
 *    "window": {"start": "2026-...Z", "end": "...", "rows": 1000, "labelled": 1000},
 *    "time": "2026-11-24T12:00:00.000Z", "summary": "ALERT quality: f1 0.61 < 0.7 (model churn v2)"}
 * version is null when unknown, value null when the metric was not available.
 */
#ifndef FERRY_MONITOR_WEBHOOK_H
#define FERRY_MONITOR_WEBHOOK_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

struct error;

/* One alert event, everything borrowed. */
struct webhook_alert {
	const char *model;
	int64_t version; /* <= 0: unknown */
	const char *rule;
	const char *when;
	bool firing; /* false: resolved */
	const char *metric;
	double value; /* NaN: unknown */
	double threshold;
	int64_t window_start, window_end; /* ms; 0: unknown */
	int64_t rows, labelled;
	int64_t time; /* ms; 0: now */
	const char *summary;
};

/* The payload above (a new reference). */
json_t *webhook_payload(const struct webhook_alert *a);

struct webhook_options {
	unsigned timeout_ms; /* per attempt, connecting included; 0: 5000 */
	unsigned attempts;   /* 0: 3 */
	unsigned backoff_ms; /* before the second attempt, doubling after; 0: 500 */
};

#define WEBHOOK_OPTIONS_INIT                                                                       \
	{                                                                                          \
		0, 0, 0                                                                            \
	}

/* How a delivery went. */
struct webhook_result {
	long http_status;  /* of the last attempt; 0 when no answer came */
	unsigned attempts; /* made */
	char detail[160];  /* "HTTP 200", "HTTP 503 after 3 attempts", curl's error... */
};

/*
 * POSTs payload as application/json to url (http:// or https:// only; redirects are not
 * followed). A 2xx answer is success. Connection failures, timeouts, 408, 429 and 5xx are
 * retried; other answers are final. *out is filled in every case. 0 on success; ERR_INVALID
 * for a URL that is not http(s); ERR_IO when every attempt failed (err names the URL and the
 * last failure).
 */
int webhook_post(struct webhook_result *out, const char *url, const json_t *payload,
		 const struct webhook_options *o, struct error *err);

#endif
