/*
 * mlflow_fastparse.c against the jansson path it stands in for: every body goes through both
 * (the handler's request readers, on the fast route and on a route the fast parser never sees),
 * and the outcomes must match exactly: accepted or refused, MLflow's message, and the values.
 * Hand-written bodies (valid, invalid, NaN, +-Infinity, big int64s, unicode, duplicates) plus
 * thousands of seeded mutations of them.
 */
#include "util/common.h"
#include "api/mlflow_internal.h"
#include "http/http.h"
#include "helpers.h"

#include <float.h>
#include <math.h>

#define FAST_BATCH "/api/2.0/mlflow/runs/log-batch"
#define FAST_METRIC "/ajax-api/2.0/mlflow/runs/log-metric"
#define SLOW "/test/jansson-only"

/* One request read by the handler's reader; the call keeps the strings alive. */
struct outcome {
	struct http_request http;
	struct mlflow_call c;
	struct mlflow_logreq r;
	struct error err;
	bool entity_error;
	int rc;
};

static void run(struct outcome *o, const char *path, bool batch, const char *body, size_t len)
{
	memset(o, 0, sizeof(*o));
	o->http = (struct http_request){ .method = "POST",
					 .path = path,
					 .content_type = "application/json",
					 .body = body,
					 .body_len = len };
	o->c.http = &o->http;
	o->rc = mlflow_request_parse(&o->c, &o->c.req, &o->err);
	if (!o->rc)
		o->rc = batch ? mlflow_log_batch_request(&o->c, &o->r, &o->entity_error, &o->err)
			      : mlflow_log_metric_request(&o->c, &o->r, &o->err);
}

static void done(struct outcome *o)
{
	mlflow_logreq_release(&o->r);
	json_decref(o->c.req);
}

static bool same_str(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

static void same_kvs(const struct store_kv *a, const struct store_kv *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		assert_string_equal(a[i].key, b[i].key);
		assert_string_equal(a[i].value, b[i].value);
	}
}

/* Both paths on body; returns whether the fast parser took it. */
static bool compare_len(bool batch, const char *body, size_t len)
{
	struct outcome f, s;
	struct mlflow_logreq direct = MLFLOW_LOGREQ_INIT;
	struct error declined = ERROR_INIT;
	bool took = !(batch ? mlflow_fastparse_log_batch
			    : mlflow_fastparse_log_metric)(&direct, body, len, &declined);

	if (getenv("FERRY_TEST_VERBOSE") && !took)
		print_message("declined (%s): %.*s\n", declined.msg, (int)len, body);
	mlflow_logreq_release(&direct);
	run(&f, batch ? FAST_BATCH : FAST_METRIC, batch, body, len);
	run(&s, SLOW, batch, body, len);
	if (f.rc != s.rc || !same_str(f.c.err_code, s.c.err_code) ||
	    (f.rc && strcmp(f.err.msg, s.err.msg)) || f.entity_error != s.entity_error)
		fail_msg("body %.*s: fast %d '%s', jansson %d '%s'", (int)len, body, f.rc,
			 f.err.msg, s.rc, s.err.msg);
	if (!f.rc) {
		assert_true(same_str(f.r.run_id, s.r.run_id));
		assert_int_equal(f.r.nr_metrics, s.r.nr_metrics);
		assert_int_equal(f.r.nr_params, s.r.nr_params);
		assert_int_equal(f.r.nr_tags, s.r.nr_tags);
		for (size_t i = 0; i < f.r.nr_metrics; i++) {
			const struct store_metric *a = &f.r.metrics[i], *b = &s.r.metrics[i];

			assert_string_equal(a->key, b->key);
			assert_memory_equal(&a->value, &b->value, sizeof(double));
			assert_true(a->timestamp == b->timestamp && a->step == b->step);
		}
		same_kvs(f.r.params, s.r.params, f.r.nr_params);
		same_kvs(f.r.tags, s.r.tags, f.r.nr_tags);
	}
	done(&f);
	done(&s);
	return took;
}

static bool compare(bool batch, const char *body)
{
	return compare_len(batch, body, strlen(body));
}

/* The fast parser's own reading, for values checked by hand. */
static void fast(struct mlflow_logreq *r, bool batch, const char *body)
{
	struct error err = ERROR_INIT;

	if ((batch ? mlflow_fastparse_log_batch : mlflow_fastparse_log_metric)(r, body,
									       strlen(body), &err))
		fail_msg("declined %s: %s", body, err.msg);
}

#define RUN "\"run_id\": \"0123456789abcdef0123456789abcdef\""

static const char *const batch_bodies[] = {
	"{" RUN ", \"metrics\": [{\"key\": \"loss\", \"value\": 0.5, \"timestamp\": "
	"1700000000000, \"step\": 3}], \"params\": [{\"key\": \"lr\", \"value\": \"0.1\"}], "
	"\"tags\": [{\"key\": \"t\", \"value\": \"v\"}]}",
	"{" RUN ", \"metrics\": [{\"key\": \"a\", \"value\": \"NaN\", \"timestamp\": 1, \"step\": "
	"0}, {\"key\": \"b\", \"value\": \"Infinity\", \"timestamp\": \"2\"}, {\"key\": \"c\", "
	"\"value\": \"-Infinity\", \"timestamp\": 3.0, \"step\": \"-4\"}]}",
	"{\"run_uuid\": \"r1\", \"run_id\": \"\", \"metrics\": [], \"params\": null}",
	"{\"run_uuid\": 5, \"run_id\": \"r\"}",
	"{\"metrics\": [{\"key\": \"x\", \"value\": 1, \"timestamp\": 1}]}",
	"{" RUN ", \"metrics\": [{\"key\": \"\\u7cbe\\u5ea6/\\ud83d\\ude00 x\", \"value\": 1e-5, "
	"\"timestamp\": 9223372036854775807, \"step\": -9223372036854775808}]}",
	"{" RUN ", \"metrics\": [{\"key\": \"精度/😀\", \"value\": -0.0, \"timestamp\": 0}]}",
	"{" RUN
	", \"metrics\": [{\"key\": \"x\", \"value\": 1, \"timestamp\": 9223372036854775808}]}",
	"{" RUN ", \"metrics\": [{\"key\": \"x\", \"value\": 1e999, \"timestamp\": 1}]}",
	"{" RUN ", \"metrics\": [{\"key\": \"x\", \"value\": 1e-999, \"timestamp\": 1.5}]}",
	"{" RUN ", \"metrics\": [{\"key\": \"x\", \"value\": true, \"timestamp\": 1}]}",
	"{" RUN
	", \"metrics\": [{\"key\": \"x\", \"key\": \"y\", \"value\": 1, \"timestamp\": 1}]}",
	"{" RUN
	", \"metrics\": [{\"key\": \"x\", \"value\": 1, \"value\": null, \"timestamp\": 1}]}",
	"{" RUN ", \"metrics\": [{\"key\": null, \"value\": null, \"step\": null}]}",
	"{" RUN ", \"metrics\": [{\"key\": \"../x\", \"value\": 1, \"timestamp\": 1}]}",
	"{" RUN ", \"metrics\": [{\"key\": \"x!\", \"value\": 1, \"timestamp\": 1}, 5]}",
	"{" RUN ", \"metrics\": {\"key\": \"x\"}}",
	"{" RUN ", \"metrics\": \"x\"}",
	"{" RUN ", \"metrics\": [[]]}",
	"{" RUN ", \"params\": [{\"key\": \"p\", \"value\": \"1\"}, {\"key\": \"p\", \"value\": "
	"\"2\"}]}",
	"{" RUN ", \"params\": [{\"key\": \"p\", \"value\": 1}]}",
	"{" RUN ", \"tags\": [{\"key\": \"mlflow.note\", \"value\": \"a\\nb\\t\\\"q\\\"\\\\\"}]}",
	"{" RUN ", \"extra\": {\"a\": [1, 2, {\"b\": null}], \"c\": \"\\u00e9\"}, \"metrics\": []}",
	"{" RUN ", \"extra\": {\"a\": 01}}",
	"{" RUN ", \"extra\": \"\\u0000\"}",
	"{" RUN ", \"extra\": \"\\ud800\"}",
	"{" RUN ", \"extra\": \"\\udc00x\"}",
	"{" RUN ", \"metrics\": [{\"key\": \"\xc3\x28\", \"value\": 1, \"timestamp\": 1}]}",
	"{" RUN ", \"metrics\": [{\"key\": \"\xed\xa0\x80\", \"value\": 1, \"timestamp\": 1}]}",
	"{" RUN ", \"metrics\": [{\"key\": \"\xe0\x80\xaf\", \"value\": 1, \"timestamp\": 1}]}",
	"{" RUN ", \"metrics\": [{\"key\": \"\xf4\x90\x80\x80\", \"value\": 1, \"timestamp\": 1}]}",
	"{" RUN ", \"metrics\": [{\"key\": \"a\tb\", \"value\": 1, \"timestamp\": 1}]}",
	"{" RUN ", \"metrics\": [{\"key\": \"x\", \"value\": \" 1\", \"timestamp\": \" 7\"}]}",
	"{" RUN ", \"metrics\": [{\"key\": \"x\", \"value\": \"1e999\", \"timestamp\": \"1.0\"}]}",
	"{" RUN ", \"metrics\": [{\"key\": \"x\", \"value\": \"inf\", \"timestamp\": \"0x10\"}]}",
	"{" RUN ", \"metrics\": [{\"key\": \"x\", \"value\": 1, \"timestamp\": 9.3e18}]}",
	"{" RUN ", \"metrics\": [{\"key\": \"x\", \"value\": 1, \"timestamp\": -9.2e18}]}",
	"{" RUN "} x",
	"{" RUN ",}",
	"{" RUN " \"metrics\": []}",
	"[]",
	"\"{\\\"run_id\\\": \\\"r\\\"}\"",
	"null",
	"{}",
	" \r\n\t{" RUN "} \n",
	"{" RUN ", \"metrics\": [{\"key\": \"x\", \"value\": -, \"timestamp\": 1}]}",
	"{" RUN ", \"metrics\": [{\"key\": \"x\", \"value\": 1., \"timestamp\": 1}]}",
	"{" RUN ", \"metrics\": [{\"key\": \"x\", \"value\": 1e+, \"timestamp\": 1}]}",
	"{" RUN ", \"metrics\": [{\"key\": \"x\", \"value\": 2E+2, \"timestamp\": 1}]}",
	"{" RUN ", \"metrics\": [{\"key\": \"x\", \"value\": nul, \"timestamp\": 1}]}",
	"{" RUN ", \"metrics\": [{\"k\\u0065y\": \"x\", \"value\": 1, \"timestamp\": 1}]}",
	"{" RUN ", \"metrics\": [{\"key\": \"x\", \"value\": 1, \"timestamp\": 1, \"step\": 2, "
	"\"other\": [1, {}]}]}",
};

static const char *const metric_bodies[] = {
	"{\"run_uuid\": \"0123456789abcdef0123456789abcdef\", " RUN ", \"key\": \"loss\", "
	"\"value\": 0.25, \"timestamp\": 1700000000000, \"step\": 7}",
	"{" RUN ", \"key\": \"loss\", \"value\": \"NaN\", \"timestamp\": \"1700000000000\"}",
	"{" RUN ", \"key\": \"loss\", \"value\": \"-Infinity\", \"timestamp\": 1, \"step\": null}",
	"{" RUN ", \"key\": \"\", \"value\": 1, \"timestamp\": 1}",
	"{" RUN ", \"key\": null, \"value\": 1, \"timestamp\": 1}",
	"{" RUN ", \"key\": \"k\", \"value\": null, \"timestamp\": 1}",
	"{" RUN ", \"key\": \"k\", \"value\": 1}",
	"{" RUN ", \"key\": \"k\", \"value\": 1, \"timestamp\": true}",
	"{" RUN ", \"key\": \"k\", \"value\": [1], \"timestamp\": 1}",
	"{" RUN ", \"key\": \"k\", \"key\": \"j\", \"value\": 1, \"timestamp\": 1}",
	"{" RUN ", \"key\": \"a b/c.d-e_f\", \"value\": 12345678901234567890, \"timestamp\": 1}",
	"{\"key\": \"k\", \"value\": 1, \"timestamp\": 1}",
	"{\"run_id\": 7, \"key\": \"k\", \"value\": 1, \"timestamp\": 1}",
	"{" RUN ", \"key\": \"k/\", \"value\": 1, \"timestamp\": 1}",
	"{" RUN ", \"key\": \"k\", \"value\": 1, \"timestamp\": 1, \"metrics\": 5}",
	"{" RUN ", \"key\": \"k\", \"value\": 1, \"timestamp\": 1, \"step\": 1.5}",
};

static void test_hand_written(void **state)
{
	size_t took = 0;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(batch_bodies); i++)
		took += compare(true, batch_bodies[i]);
	for (size_t i = 0; i < ARRAY_SIZE(metric_bodies); i++)
		took += compare(false, metric_bodies[i]);
	/* the valid ones must take the fast path, not be declined into the jansson path */
	assert_true(took >= 20);
}

/* Values read by hand: MLflow's proto3 JSON as its Python client sends it. */
static void test_values(void **state)
{
	struct mlflow_logreq r;

	(void)state;
	fast(&r, true, batch_bodies[1]);
	assert_int_equal(r.nr_metrics, 3);
	assert_true(isnan(r.metrics[0].value));
	assert_true(isinf(r.metrics[1].value) && r.metrics[1].value > 0);
	assert_int_equal(r.metrics[1].timestamp, 2);
	assert_true(r.metrics[2].value == -INFINITY && r.metrics[2].step == -4);
	mlflow_logreq_release(&r);

	fast(&r, true, batch_bodies[5]);
	assert_string_equal(r.metrics[0].key, "\xe7\xb2\xbe\xe5\xba\xa6/\xf0\x9f\x98\x80 x");
	assert_true(r.metrics[0].timestamp == INT64_MAX && r.metrics[0].step == INT64_MIN);
	assert_true(r.metrics[0].value == 1e-5);
	mlflow_logreq_release(&r);

	fast(&r, true, batch_bodies[2]);
	assert_string_equal(r.run_id, "r1");
	mlflow_logreq_release(&r);

	/* 2^53 + 1 as a string: exact, not through a double */
	fast(&r, false,
	     "{\"run_id\": \"r\", \"key\": \"k\", \"value\": \"1.5\", \"timestamp\": "
	     "\"9007199254740993\", \"step\": 9007199254740993}");
	assert_true(r.metrics[0].timestamp == 9007199254740993LL);
	assert_true(r.metrics[0].step == 9007199254740993LL && r.metrics[0].value == 1.5);
	mlflow_logreq_release(&r);
}

/* The handler's reader maps +-Infinity to +-DBL_MAX (MLflow's sqlite store) on both paths. */
static void test_infinity_stored_as_max(void **state)
{
	struct outcome o;

	(void)state;
	run(&o, FAST_BATCH, true, batch_bodies[1], strlen(batch_bodies[1]));
	assert_int_equal(o.rc, 0);
	assert_true(o.r.metrics[1].value == DBL_MAX && o.r.metrics[2].value == -DBL_MAX);
	done(&o);
}

static uint64_t rng = 0x9e3779b97f4a7c15u;

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* Tokens spliced into bodies: the places where jansson and a hand-written reader could part. */
static const char *const tokens[] = {
	"\"",
	"\\",
	"\\u",
	"\\ud83d",
	"\\ude00",
	"\\u0000",
	"null",
	"true",
	"-",
	"0",
	"01",
	"1e",
	".5",
	"1.0",
	"9223372036854775808",
	"-9223372036854775809",
	"1e400",
	"\"NaN\"",
	"\"Infinity\"",
	"{",
	"}",
	"[",
	"]",
	",",
	":",
	"\xc3",
	"\xed\xa0\x80",
	"\xf0\x9f\x98\x80",
	"\"key\": ",
	"\"value\": ",
	"\"step\": \"5\"",
	"\"timestamp\": 1, ",
	"\t",
	"\x01",
	"\0",
};

static void mutate(char *buf, size_t *len, size_t cap)
{
	size_t at = *len ? next() % *len : 0;

	switch (next() % 4) {
	case 0: /* flip a byte */
		if (*len)
			buf[at] = (char)next();
		break;
	case 1: /* cut */
		*len = at;
		break;
	case 2: /* drop a byte */
		if (*len) {
			memmove(buf + at, buf + at + 1, *len - at - 1);
			(*len)--;
		}
		break;
	default: { /* splice a token in */
		const char *t = tokens[next() % ARRAY_SIZE(tokens)];
		size_t n = *t ? strlen(t) : 1;

		if (*len + n <= cap) {
			memmove(buf + at + n, buf + at, *len - at);
			memcpy(buf + at, t, n);
			*len += n;
		}
	}
	}
}

static void test_mutations(void **state)
{
	char buf[1024];
	size_t took = 0, total = 0;

	(void)state;
	for (int round = 0; round < 12000; round++) {
		bool batch = round % 3 != 0;
		const char *seed = batch ? batch_bodies[next() % ARRAY_SIZE(batch_bodies)]
					 : metric_bodies[next() % ARRAY_SIZE(metric_bodies)];
		size_t len = strlen(seed), n = 1 + next() % 3;

		memcpy(buf, seed, len);
		for (size_t k = 0; k < n; k++)
			mutate(buf, &len, sizeof(buf) - 1);
		buf[len] = '\0';
		took += compare_len(batch, buf, len);
		total++;
	}
	/* both outcomes are exercised: bodies the fast parser takes, and bodies it declines */
	assert_true(took > total / 50 && took < total);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hand_written),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_infinity_stored_as_max),
		cmocka_unit_test(test_mutations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
