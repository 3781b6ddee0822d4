/*
 * Differential fuzzing of mlflow_fastparse.c: the first byte picks log-batch or log-metric, the
 * rest is the body, read by the handler's reader on the fast route and on a route the fast
 * parser never sees (json_loadb's tree). Accepted or not, MLflow's message and every value read
 * must be the same; anything else is a BUG.
 */
#include "util/common.h"
#include "api/mlflow_internal.h"
#include "http/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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
	if (!(o->rc = mlflow_request_parse(&o->c, &o->c.req, &o->err)))
		o->rc = batch ? mlflow_log_batch_request(&o->c, &o->r, &o->entity_error, &o->err)
			      : mlflow_log_metric_request(&o->c, &o->r, &o->err);
}

static bool same_str(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

static bool same_kvs(const struct store_kv *a, const struct store_kv *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(a[i].key, b[i].key) || strcmp(a[i].value, b[i].value))
			return false;
	return true;
}

static bool same_values(const struct mlflow_logreq *a, const struct mlflow_logreq *b)
{
	if (!same_str(a->run_id, b->run_id) || a->nr_metrics != b->nr_metrics ||
	    a->nr_params != b->nr_params || a->nr_tags != b->nr_tags)
		return false;
	for (size_t i = 0; i < a->nr_metrics; i++) {
		const struct store_metric *x = &a->metrics[i], *y = &b->metrics[i];

		if (strcmp(x->key, y->key) || memcmp(&x->value, &y->value, sizeof(double)) ||
		    x->timestamp != y->timestamp || x->step != y->step)
			return false;
	}
	return same_kvs(a->params, b->params, a->nr_params) &&
	       same_kvs(a->tags, b->tags, a->nr_tags);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	bool batch = size && !(data[0] & 1); /* an even first byte (b) picks log-batch */
	size_t len = size ? size - 1 : 0;
	char *body = xmalloc(len + 1); /* the server's bodies are NUL-terminated copies */
	struct outcome f, s;

	memcpy(body, data + (size ? 1 : 0), len);
	body[len] = '\0';
	run(&f, batch ? "/api/2.0/mlflow/runs/log-batch" : "/api/2.0/mlflow/runs/log-metric", batch,
	    body, len);
	run(&s, "/fuzz/jansson-only", batch, body, len);
	if (f.rc != s.rc || !same_str(f.c.err_code, s.c.err_code) ||
	    (f.rc && strcmp(f.err.msg, s.err.msg)) || f.entity_error != s.entity_error ||
	    (!f.rc && !same_values(&f.r, &s.r)))
		BUG("fast %d '%s' and jansson %d '%s' differ", f.rc, f.err.msg, s.rc, s.err.msg);
	mlflow_logreq_release(&f.r);
	mlflow_logreq_release(&s.r);
	json_decref(f.c.req);
	json_decref(s.c.req);
	free(body);
	return 0;
}
