/*
 * The inference server's handlers (api/serve_api.h): parse the request in its protocol, score
 * it with the current model, answer in the same protocol, count it, log it.
 */
#include "util/common.h"
#include "api/serve_api.h"

#include <jansson.h>
#include <pthread.h>
#include <time.h>

#include "api/serve_input.h"
#include "api/serve_internal.h"
#include "http/prom.h"
#include "monitor/infer_log.h"
#include "monitor/live.h"
#include "serve/serve.h"
#include "util/id.h"
#include "util/strbuf.h"

struct serve_api {
	struct serve_engine *engine;
	struct infer_log *log;
	bool monitored; /* live monitoring is on: /feedback feeds it */
	struct prom_registry *prom;
	struct prom_family *requests, *latency, *predictions, *model_info, *log_dropped;
	struct prom_child *in_flight;
	pthread_mutex_t lock; /* guards pool */
	struct serve_input **pool;
	size_t npool, pool_alloc;
};

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Parsed inputs are recycled between requests: their arenas then allocate nothing. */
static struct serve_input *take_input(struct serve_api *api)
{
	struct serve_input *in = NULL;

	pthread_mutex_lock(&api->lock);
	if (api->npool)
		in = api->pool[--api->npool];
	pthread_mutex_unlock(&api->lock);
	return in ? in : xcalloc(1, sizeof(*in));
}

static void give_input(struct serve_api *api, struct serve_input *in)
{
	pthread_mutex_lock(&api->lock);
	ALLOC_GROW(api->pool, api->npool + 1, api->pool_alloc);
	api->pool[api->npool++] = in;
	pthread_mutex_unlock(&api->lock);
}

static void count(struct serve_api *api, const char *route, int status, double seconds)
{
	char code[8];

	snprintf(code, sizeof(code), "%d", status ? status : 200);
	prom_counter_add_labels(api->requests, (const char *const[]){ route, code }, 1);
	prom_histogram_observe_labels(api->latency, (const char *const[]){ route }, seconds);
}

static void answer_error(struct http_response *resp, const struct serve_error *se)
{
	strbuf_reset(&resp->body);
	resp->status = se->status;
	resp->content_type = se->content_type;
	serve_error_write(&resp->body, se);
}

static void set_error(struct serve_error *se, enum serve_protocol proto, int status,
		      const char *msg)
{
	se->code = ERR_INVALID;
	se->status = status;
	se->protocol = proto;
	se->content_type = "application/json";
	snprintf(se->msg, sizeof(se->msg), "%s", msg);
}

/*
 * A cell's text for the model's preprocessing: numbers in their shortest exact form, booleans
 * as true/false, missing as empty. tmp has room for a number.
 */
static const char *cell_text(const struct serve_cell *c, size_t *len, char tmp[SERVE_DOUBLE_SIZE])
{
	switch (c->type) {
	case SERVE_CELL_STRING:
		*len = c->len;
		return c->str;
	case SERVE_CELL_BOOL:
		*len = c->b ? 4 : 5;
		return c->b ? "true" : "false";
	case SERVE_CELL_NUMBER:
		*len = serve_format_double(tmp, c->num);
		return tmp;
	default:
		*len = 0;
		return "";
	}
}

/*
 * The cells as CSV fields in in's arena, their text copied there too: the preprocessing reads
 * fields a word at a time, so each needs its NUL and CSV_FIELD_PADDING readable bytes after
 * it, as the CSV reader's fields have. colmap is serve_map_columns'. A number in a numeric
 * feature's column goes as its double (CSV_FIELD_NUMBER) with empty text: printing it for the
 * preprocessing and the live monitor to parse back was 4-5% of a 1-row request's CPU. Other
 * numbers (a categorical column sent as numbers) are printed as serve_format_double writes
 * them, once.
 */
static struct csv_field *cells_to_fields(struct serve_input *in, const struct preprocess *pre,
					 const size_t *colmap)
{
	size_t ncells = in->nrows * in->ncols, ncols = in->ncols ? in->ncols : 1, total = 0, at = 0;
	struct csv_field *fields = serve_alloc(in, (ncells ? ncells : 1) * sizeof(*fields));
	char *text;
	bool stack_numeric[64], *numeric = stack_numeric;
	char tmp[SERVE_DOUBLE_SIZE];

	if (in->ncols > ARRAY_SIZE(stack_numeric))
		numeric = xmalloc(in->ncols * sizeof(*numeric));
	/* numeric[c]: column c feeds a numeric feature */
	memset(numeric, 0, in->ncols * sizeof(*numeric));
	for (size_t f = 0; f < pre->nfeatures; f++)
		numeric[colmap[f]] = pre->features[f].type == COLUMN_NUMERIC;
	for (size_t i = 0; i < ncells; i++) {
		const struct serve_cell *c = &in->cells[i];

		total += (c->type == SERVE_CELL_NUMBER	 ? SERVE_DOUBLE_SIZE
			  : c->type == SERVE_CELL_STRING ? c->len
							 : 5) +
			 1 + CSV_FIELD_PADDING;
	}
	memset(fields, 0, (ncells ? ncells : 1) * sizeof(*fields));
	text = serve_alloc(in, total ? total : 1);
	memset(text, 0, total ? total : 1);
	for (size_t i = 0; i < ncells; i++) {
		const struct serve_cell *c = &in->cells[i];
		size_t len = 0;

		fields[i].line = i / ncols + 1;
		fields[i].col = (uint32_t)(i % ncols + 1);
		if (c->type == SERVE_CELL_NUMBER && numeric[i % ncols]) {
			fields[i].quoted = CSV_FIELD_NUMBER;
			fields[i].num = c->num;
		} else {
			const char *str = cell_text(c, &len, tmp);

			memcpy(text + at, str, len);
		}
		fields[i].str = text + at;
		fields[i].len = len;
		at += len + 1 + CSV_FIELD_PADDING;
	}
	if (numeric != stack_numeric)
		free(numeric);
	return fields;
}

static void cell_to_log(struct infer_cell *out, const struct serve_cell *c)
{
	out->type = c->type == SERVE_CELL_NUMBER   ? INFER_CELL_NUMBER
		    : c->type == SERVE_CELL_STRING ? INFER_CELL_STRING
		    : c->type == SERVE_CELL_BOOL   ? INFER_CELL_BOOL
						   : INFER_CELL_NULL;
	out->num = c->num;
	out->b = c->b != 0;
	out->str = c->type == SERVE_CELL_STRING ? c->str : NULL;
	out->len = c->type == SERVE_CELL_STRING ? c->len : 0;
}

/*
 * One inference log record per row, its inputs handed over as typed cells: a jansson tree per
 * row cost an allocation per cell, ~0.09 us a cell (bench/README.md, infer_log.sh).
 */
static void log_rows(struct serve_api *api, const struct http_request *req,
		     const struct served_model *sm, const struct serve_input *in,
		     const struct serve_output *o, int64_t latency_us)
{
	const char *request_id = http_request_id(req);
	const char *const *columns = (const char *const *)in->names;
	const char **positional = NULL;
	struct infer_cell stack_cells[64], *cells = stack_cells;
	struct error err = ERROR_INIT;
	char idbuf[ID_HEX_LEN + 1];

	if (!api->log)
		return;
	if (!request_id) {
		if (id_new(idbuf, &err))
			return;
		request_id = idbuf;
	}
	if (!columns) {
		/* positional columns are the model's features, in order */
		if (in->ncols > sm->m.pre.nfeatures)
			return;
		positional = xcalloc(in->ncols, sizeof(*positional));
		for (size_t i = 0; i < in->ncols; i++)
			positional[i] = sm->m.pre.features[i].name;
		columns = positional;
	}
	if (in->ncols > ARRAY_SIZE(stack_cells))
		cells = xcalloc(in->ncols, sizeof(*cells));
	for (size_t r = 0; r < in->nrows; r++) {
		struct infer_record rec = { 0 };

		for (size_t c = 0; c < in->ncols; c++)
			cell_to_log(&cells[c], &in->cells[r * in->ncols + c]);
		rec.request_id = request_id;
		rec.model = sm->name;
		rec.version = sm->version;
		rec.digest = sm->m.digest;
		rec.latency_us = latency_us;
		rec.cells = cells;
		rec.columns = columns;
		rec.n_columns = in->ncols;
		if (o->regression) {
			rec.value = o->value[r];
		} else {
			rec.label = o->classes[o->label[r]];
			rec.label_is_number = o->numeric_labels;
			rec.classes = o->classes;
			rec.probabilities = o->proba + r * o->nclasses;
			rec.n_classes = o->nclasses;
		}
		/* a full buffer drops the record and counts it (infer_log_stats): never blocks */
		infer_log_append_prediction(api->log, &rec, &err);
	}
	if (cells != stack_cells)
		free(cells);
	free(positional);
}

/* Scores a parsed input and writes the protocol's answer; fills se on a client error. */
static int score_and_answer(struct serve_api *api, const struct http_request *req,
			    struct http_response *resp, const struct served_model *sm,
			    struct serve_input *in, enum serve_protocol proto, double t0,
			    struct serve_error *se)
{
	size_t width = model_output_width(&sm->m), nfeatures = sm->m.pre.nfeatures;
	size_t stack_map[64], *colmap = stack_map;
	struct csv_field *fields;
	double *out;
	size_t *labels;
	struct serve_output o = { 0 };
	struct error err = ERROR_INIT;
	int rc;

	/* the columns are matched to the features once, for the scoring and the live monitor */
	if (nfeatures > ARRAY_SIZE(stack_map))
		colmap = xmalloc(nfeatures * sizeof(*colmap));
	rc = serve_map_columns(sm, (const char *const *)in->names, in->ncols, colmap, &err);
	if (rc) {
		set_error(se, proto, 400, err.msg);
		goto out;
	}
	/* from the request's arena, like its cells: no allocation of its own on the hot path */
	fields = cells_to_fields(in, &sm->m.pre, colmap);
	out = serve_alloc(in, (in->nrows ? in->nrows : 1) * width * sizeof(*out));
	labels = serve_alloc(in, (in->nrows ? in->nrows : 1) * sizeof(*labels));
	memset(labels, 0, (in->nrows ? in->nrows : 1) * sizeof(*labels));
	rc = serve_score_mapped(sm, colmap, in->ncols, in->nrows, fields, out, labels, &err);
	if (rc) {
		set_error(se, proto, 400, err.msg);
		goto out;
	}
	o.nrows = in->nrows;
	o.regression = sm->m.target.task == TASK_REGRESSION;
	o.nclasses = sm->m.target.nclasses;
	o.classes = (const char *const *)sm->m.target.classes;
	o.numeric_labels = sm->m.target.type == COLUMN_NUMERIC;
	o.label = labels;
	o.proba = o.regression ? NULL : out;
	o.value = out;
	o.model_name = sm->name;
	o.model_version = sm->version ? sm->version_text : NULL;
	se->protocol = proto;
	rc = proto == SERVE_MLFLOW ? serve_write_mlflow(&resp->body, &o, in, se)
	     : proto == SERVE_OIP  ? serve_write_oip(&resp->body, &o, in, se)
				   : serve_write_kserve_v1(&resp->body, &o, in, se);
	if (rc)
		goto out;
	resp->status = 200;
	resp->content_type = "application/json";
	if (!o.regression)
		for (size_t r = 0; r < o.nrows; r++)
			prom_counter_add_labels(
			    api->predictions,
			    (const char *const[]){ sm->name, o.classes[o.label[r]] }, 1);
	else
		prom_counter_add_labels(api->predictions, (const char *const[]){ sm->name, "" },
					(double)o.nrows);
	log_rows(api, req, sm, in, &o, (int64_t)((now_seconds() - t0) * 1e6));
	if (sm->live)
		live_observe_mapped(sm->live, colmap, in->ncols, in->nrows, fields, out,
				    o.regression ? NULL : labels, http_request_id(req));
out:
	if (colmap != stack_map)
		free(colmap);
	return rc;
}

static bool query_true(const struct http_request *req, const char *key)
{
	const char *v = http_query_get(req, key);

	return v && (!strcmp(v, "true") || !strcmp(v, "1") || !strcmp(v, "True"));
}

/*
 * A prediction request of protocol proto. name/version: the model the path names (NULL: any);
 * a model other than the one served is 404, as the reference servers answer.
 */
static int predict(struct serve_api *api, const struct http_request *req,
		   struct http_response *resp, enum serve_protocol proto, const char *route,
		   const char *name, size_t name_len, const char *version, size_t version_len)
{
	double t0 = now_seconds();
	struct served_model *sm = serve_engine_acquire(api->engine);
	struct serve_input *in = take_input(api);
	struct serve_error se = SERVE_ERROR_INIT;
	int rc;

	prom_gauge_add(api->in_flight, 1);
	if ((name && (strlen(sm->name) != name_len || memcmp(sm->name, name, name_len))) ||
	    (version && (strlen(sm->version_text) != version_len ||
			 memcmp(sm->version_text, version, version_len)))) {
		char msg[256];

		snprintf(msg, sizeof(msg),
			 "Model %.*s%s%.*s is not found (this server serves %s%s%s)", (int)name_len,
			 name, version ? " version " : "", (int)version_len, version ? version : "",
			 sm->name, sm->version ? " version " : "", sm->version_text);
		set_error(&se, proto, 404, msg);
		answer_error(resp, &se);
		goto out;
	}
	rc = proto == SERVE_MLFLOW
		 ? serve_parse_mlflow(in, req->content_type, req->body, req->body_len, &se)
	     : proto == SERVE_OIP ? serve_parse_oip(in, req->body, req->body_len, &se)
				  : serve_parse_kserve_v1(in, req->body, req->body_len, &se);
	if (!rc && query_true(req, "predict_proba"))
		in->want_probabilities = 1;
	if (!rc)
		rc = score_and_answer(api, req, resp, sm, in, proto, t0, &se);
	if (rc)
		answer_error(resp, &se);
out:
	count(api, route, resp->status, now_seconds() - t0);
	prom_gauge_add(api->in_flight, -1);
	give_input(api, in);
	served_model_unref(sm);
	return 0;
}

static int h_invocations(const struct http_request *req, struct http_response *resp, void *data,
			 struct error *err)
{
	(void)err;
	return predict(data, req, resp, SERVE_MLFLOW, "/invocations", NULL, 0, NULL, 0);
}

static int h_ping(const struct http_request *req, struct http_response *resp, void *data,
		  struct error *err)
{
	(void)req, (void)data, (void)err;
	strbuf_addstr(&resp->body, "\n");
	return 0;
}

static int h_version(const struct http_request *req, struct http_response *resp, void *data,
		     struct error *err)
{
	(void)req, (void)data, (void)err;
	resp->content_type = "text/plain";
	strbuf_addstr(&resp->body, FERRY_VERSION);
	return 0;
}

static int h_metrics(const struct http_request *req, struct http_response *resp, void *data,
		     struct error *err)
{
	struct serve_api *api = data;

	(void)req, (void)err;
	resp->content_type = PROM_CONTENT_TYPE;
	prom_render(api->prom, &resp->body);
	return 0;
}

static int h_v2_server(const struct http_request *req, struct http_response *resp, void *data,
		       struct error *err)
{
	(void)req, (void)data, (void)err;
	strbuf_addstr(&resp->body,
		      "{\"name\":\"ferry\",\"version\":\"" FERRY_VERSION "\",\"extensions\":[]}");
	return 0;
}

static int h_v2_live(const struct http_request *req, struct http_response *resp, void *data,
		     struct error *err)
{
	(void)req, (void)data, (void)err;
	strbuf_addstr(&resp->body, "{\"live\":true}");
	return 0;
}

static int h_v2_ready(const struct http_request *req, struct http_response *resp, void *data,
		      struct error *err)
{
	(void)req, (void)data, (void)err;
	strbuf_addstr(&resp->body, "{\"ready\":true}");
	return 0;
}

static const char *oip_datatype(const struct feature *f)
{
	return f->type == COLUMN_CATEGORICAL ? "BYTES"
	       : f->type == COLUMN_BOOLEAN   ? "BOOL"
					     : "FP64";
}

/* OIP model metadata: name, versions, platform, inputs and outputs. */
static void oip_metadata(struct strbuf *body, const struct served_model *sm)
{
	json_t *inputs = json_array(), *outputs = json_array(), *j;
	char *text;

	for (size_t i = 0; i < sm->m.pre.nfeatures; i++)
		json_array_append_new(inputs,
				      json_pack("{s:s, s:s, s:[i]}", "name",
						sm->m.pre.features[i].name, "datatype",
						oip_datatype(&sm->m.pre.features[i]), "shape", -1));
	if (sm->m.target.task == TASK_REGRESSION) {
		json_array_append_new(outputs, json_pack("{s:s, s:s, s:[i]}", "name", "predict",
							 "datatype", "FP64", "shape", -1));
	} else {
		json_array_append_new(
		    outputs, json_pack("{s:s, s:s, s:[i]}", "name", "predict", "datatype",
				       sm->m.target.type == COLUMN_NUMERIC ? "INT64" : "BYTES",
				       "shape", -1));
		json_array_append_new(
		    outputs, json_pack("{s:s, s:s, s:[i, I]}", "name", "predict_proba", "datatype",
				       "FP64", "shape", -1, (json_int_t)sm->m.target.nclasses));
	}
	j = json_pack("{s:s, s:[s], s:s, s:o, s:o}", "name", sm->name, "versions", sm->version_text,
		      "platform", "ferry", "inputs", inputs, "outputs", outputs);
	text = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	strbuf_addstr(body, text);
	free(text);
	json_decref(j);
}

static int method_not_allowed(struct http_response *resp, enum serve_protocol proto,
			      const char *allow)
{
	struct serve_error se = SERVE_ERROR_INIT;

	set_error(&se, proto, 405, "method not allowed");
	answer_error(resp, &se);
	http_response_header(resp, "Allow", allow);
	return 0;
}

/*
 * /v2/models/{name}[/versions/{v}][/ready | /infer]: the rest of the path after /v2/models/.
 * Names cannot hold '/', so the segments split unambiguously.
 */
static int h_v2_models(const struct http_request *req, struct http_response *resp, void *data,
		       struct error *err)
{
	struct serve_api *api = data;
	const char *rest = req->route_rest, *slash = strchr(rest, '/');
	size_t name_len = slash ? (size_t)(slash - rest) : strlen(rest);
	const char *version = NULL, *action = "";
	size_t version_len = 0;
	struct served_model *sm;
	struct serve_error se = SERVE_ERROR_INIT;

	(void)err;
	if (slash && !strncmp(slash, "/versions/", 10)) {
		version = slash + 10;
		slash = strchr(version, '/');
		version_len = slash ? (size_t)(slash - version) : strlen(version);
	}
	if (slash)
		action = slash + 1;
	if (!strcmp(action, "infer")) {
		if (strcmp(req->method, "POST"))
			return method_not_allowed(resp, SERVE_OIP, "POST");
		return predict(api, req, resp, SERVE_OIP, "/v2/models/infer", rest, name_len,
			       version, version_len);
	}
	if (strcmp(req->method, "GET") && strcmp(req->method, "HEAD"))
		return method_not_allowed(resp, SERVE_OIP, "GET, HEAD");
	sm = serve_engine_acquire(api->engine);
	if (!name_len || (strcmp(action, "") && strcmp(action, "ready")) ||
	    strlen(sm->name) != name_len || memcmp(sm->name, rest, name_len) ||
	    (version && (strlen(sm->version_text) != version_len ||
			 memcmp(sm->version_text, version, version_len)))) {
		set_error(&se, SERVE_OIP, 404, "model not found");
		snprintf(se.msg, sizeof(se.msg), "Model %.*s is not found", (int)name_len, rest);
		answer_error(resp, &se);
	} else if (!strcmp(action, "ready")) {
		strbuf_addf(&resp->body, "{\"name\":\"%s\",\"ready\":true}", sm->name);
	} else {
		oip_metadata(&resp->body, sm);
	}
	served_model_unref(sm);
	return 0;
}

/* /v1/models/{name} (GET: readiness) and /v1/models/{name}:predict (POST). */
static int h_v1_models(const struct http_request *req, struct http_response *resp, void *data,
		       struct error *err)
{
	struct serve_api *api = data;
	const char *rest = req->route_rest, *colon = strrchr(rest, ':');
	struct served_model *sm;

	(void)err;
	if (colon && !strcmp(colon, ":predict")) {
		if (strcmp(req->method, "POST"))
			return method_not_allowed(resp, SERVE_KSERVE_V1, "POST");
		return predict(api, req, resp, SERVE_KSERVE_V1, "/v1/models/predict", rest,
			       (size_t)(colon - rest), NULL, 0);
	}
	if (strcmp(req->method, "GET") && strcmp(req->method, "HEAD"))
		return method_not_allowed(resp, SERVE_KSERVE_V1, "GET, HEAD");
	sm = serve_engine_acquire(api->engine);
	if (strcmp(rest, sm->name)) {
		struct serve_error se = SERVE_ERROR_INIT;

		set_error(&se, SERVE_KSERVE_V1, 404, "");
		snprintf(se.msg, sizeof(se.msg), "Model with name %s does not exist.", rest);
		answer_error(resp, &se);
	} else {
		strbuf_addf(&resp->body, "{\"name\":\"%s\",\"ready\":true}", sm->name);
	}
	served_model_unref(sm);
	return 0;
}

/* A label as the model names its classes: strings as they are, numbers in their shortest form. */
static bool label_text(char *buf, size_t size, const json_t *v)
{
	if (json_is_string(v)) {
		snprintf(buf, size, "%s", json_string_value(v));
	} else if (json_is_integer(v)) {
		snprintf(buf, size, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	} else if (json_is_real(v)) {
		prom_format_value(buf, json_real_value(v)); /* 1.0 is "1", 0.5 is "0.5" */
	} else if (json_is_boolean(v)) {
		snprintf(buf, size, "%s", json_is_true(v) ? "true" : "false");
	} else {
		return false;
	}
	return true;
}

/*
 * Joins a label with the live monitor's pending predictions: a scalar for a one-row request,
 * a list of one label per row for a request of several rows.
 */
static void feedback_live(struct serve_api *api, const char *id, const json_t *label)
{
	struct served_model *sm = serve_engine_acquire(api->engine);
	size_t n = json_is_array(label) ? json_array_size(label) : 1;
	char(*texts)[PROM_NUM_SIZE + 64] = xcalloc(n ? n : 1, sizeof(*texts));
	const char **labels = xcalloc(n ? n : 1, sizeof(*labels));
	bool ok = true;

	for (size_t i = 0; i < n && ok; i++) {
		ok = label_text(texts[i], sizeof(texts[i]),
				json_is_array(label) ? json_array_get(label, i) : label);
		labels[i] = texts[i];
	}
	if (sm->live)
		live_feedback(sm->live, id, labels, ok ? n : 0);
	free(labels);
	free(texts);
	served_model_unref(sm);
}

/* One feedback item: {"request_id": "...", "label": ...}. */
static int feedback_one(struct serve_api *api, const json_t *item, char *msg, size_t size)
{
	const char *id = json_string_value(json_object_get(item, "request_id"));
	const json_t *label = json_object_get(item, "label");
	struct error err = ERROR_INIT;

	if (!json_is_object(item) || !id || !*id || !label) {
		snprintf(msg, size,
			 "feedback must be {\"request_id\": \"...\", \"label\": ...} "
			 "(or a list of them)");
		return ERR_INVALID;
	}
	if (api->log && infer_log_append_feedback(api->log, id, label, 0, &err)) {
		snprintf(msg, size, "feedback not recorded: %.200s", err.msg);
		return err.code ? err.code : ERR_IO;
	}
	if (api->monitored)
		feedback_live(api, id, label);
	return 0;
}

static int h_feedback(const struct http_request *req, struct http_response *resp, void *data,
		      struct error *err)
{
	struct serve_api *api = data;
	double t0 = now_seconds();
	json_error_t jerr;
	json_t *doc = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr);
	char msg[512] = "";
	size_t n = 0;
	int rc = 0;

	(void)err;
	if (!api->log && !api->monitored) {
		snprintf(msg, sizeof(msg),
			 "this server keeps no inference log (--no-log) and no live monitor");
		rc = ERR_UNSUPPORTED;
	} else if (!doc) {
		snprintf(msg, sizeof(msg), "invalid JSON at line %d column %d: %s", jerr.line,
			 jerr.column, jerr.text);
		rc = ERR_INVALID;
	} else if (json_is_array(doc)) {
		size_t i;
		json_t *item;

		json_array_foreach(doc, i, item) {
			if ((rc = feedback_one(api, item, msg, sizeof(msg))))
				break;
			n++;
		}
	} else if (!(rc = feedback_one(api, doc, msg, sizeof(msg)))) {
		n = 1;
	}
	json_decref(doc);
	if (rc) {
		json_t *e = json_pack("{s:s}", "error", msg);
		char *text = json_dumps(e, JSON_COMPACT);

		resp->status = rc == ERR_INVALID ? 400 : rc == ERR_UNSUPPORTED ? 404 : 503;
		strbuf_addstr(&resp->body, text);
		free(text);
		json_decref(e);
	} else {
		strbuf_addf(&resp->body, "{\"recorded\":%zu}", n);
	}
	count(api, "/feedback", resp->status, now_seconds() - t0);
	return 0;
}

static const struct http_route serve_routes[] = {
	{ "GET", "/ping", HTTP_ROUTE_PUBLIC, h_ping },
	{ "GET", "/health", HTTP_ROUTE_PUBLIC, h_ping },
	{ "GET", "/version", 0, h_version },
	{ "POST", "/invocations", 0, h_invocations },
	{ "GET", "/v2", 0, h_v2_server },
	{ "GET", "/v2/health/live", HTTP_ROUTE_PUBLIC, h_v2_live },
	{ "GET", "/v2/health/ready", HTTP_ROUTE_PUBLIC, h_v2_ready },
	{ NULL, "/v2/models/", HTTP_ROUTE_PREFIX, h_v2_models },
	{ NULL, "/v1/models/", HTTP_ROUTE_PREFIX, h_v1_models },
	{ "POST", "/feedback", 0, h_feedback },
	{ "GET", "/metrics", 0, h_metrics },
};

/* The inference log's drop counter, read at scrape time. */
static void collect_log(struct strbuf *out, void *data)
{
	struct serve_api *api = data;
	struct infer_log_stats s;
	char num[PROM_NUM_SIZE];

	if (!api->log)
		return;
	infer_log_stats(api->log, &s);
	prom_format_value(num, (double)(s.dropped_full + s.dropped_toobig + s.lost_io));
	strbuf_addf(out,
		    "# HELP ferry_inference_log_dropped_records_total Records not logged: the "
		    "buffer was full, a record too big, or a write failed.\n"
		    "# TYPE ferry_inference_log_dropped_records_total counter\n"
		    "ferry_inference_log_dropped_records_total %s\n",
		    num);
}

/* The live monitor's families, rendered at scrape time from the current model's report. */
static const char *const live_metric_names[] = {
	"ferry_monitor_window_rows",
	"ferry_monitor_rows_total",
	"ferry_feature_drift_score",
	"ferry_feature_drift_detected",
	"ferry_dataset_drift_share",
	"ferry_dataset_drift_detected",
	"ferry_prediction_drift_score",
	"ferry_prediction_drift_detected",
	"ferry_live_labelled_rows",
	"ferry_live_quality",
	"ferry_live_feedback_total",
	"ferry_live_evicted_predictions_total",
	NULL,
};

/* A label value as the exposition format wants it: \\, \" and \n escaped. */
static void add_label_value(struct strbuf *out, const char *v)
{
	for (; v && *v; v++) {
		if (*v == '\\' || *v == '"')
			strbuf_addch(out, '\\'), strbuf_addch(out, *v);
		else if (*v == '\n')
			strbuf_addstr(out, "\\n");
		else
			strbuf_addch(out, *v);
	}
}

static void family(struct strbuf *out, const char *name, const char *type, const char *help)
{
	strbuf_addf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* name{model="..",version=".."[,k1="v1"[,k2="v2"]]} value */
static void sample(struct strbuf *out, const char *name, const struct served_model *sm,
		   const char *k1, const char *v1, const char *k2, const char *v2, double value)
{
	char num[PROM_NUM_SIZE];

	strbuf_addf(out, "%s{model=\"", name);
	add_label_value(out, sm->name);
	strbuf_addstr(out, "\",version=\"");
	add_label_value(out, sm->version_text);
	strbuf_addch(out, '"');
	if (k1) {
		strbuf_addf(out, ",%s=\"", k1);
		add_label_value(out, v1);
		strbuf_addch(out, '"');
	}
	if (k2) {
		strbuf_addf(out, ",%s=\"", k2);
		add_label_value(out, v2);
		strbuf_addch(out, '"');
	}
	prom_format_value(num, value);
	strbuf_addf(out, "} %s\n", num);
}

static void render_drift(struct strbuf *out, const struct served_model *sm,
			 const struct live_report *r)
{
	if (!r->nfeatures)
		return;
	family(out, "ferry_feature_drift_score", "gauge",
	       "Drift score of each feature, window vs training data, by Evidently's default "
	       "test (method): a p-value for ks, chisquare and z, a distance otherwise.");
	for (size_t i = 0; i < r->nfeatures; i++)
		sample(out, "ferry_feature_drift_score", sm, "feature", r->features[i].name,
		       "method", r->features[i].method, r->features[i].score);
	family(out, "ferry_feature_drift_detected", "gauge",
	       "1 when the feature's drift score passes its test's default threshold.");
	for (size_t i = 0; i < r->nfeatures; i++)
		sample(out, "ferry_feature_drift_detected", sm, "feature", r->features[i].name,
		       "method", r->features[i].method, r->features[i].detected);
	family(out, "ferry_dataset_drift_share", "gauge",
	       "Share of features whose drift was detected in the window.");
	sample(out, "ferry_dataset_drift_share", sm, NULL, NULL, NULL, NULL, r->drift_share);
	family(out, "ferry_dataset_drift_detected", "gauge",
	       "1 when the share of drifted features reaches the dataset drift share (0.5).");
	sample(out, "ferry_dataset_drift_detected", sm, NULL, NULL, NULL, NULL, r->dataset_drift);
	if (!r->prediction_drift)
		return;
	family(out, "ferry_prediction_drift_score", "gauge",
	       "Drift score of the predictions (positive-class probability, class or value) vs "
	       "the model's predictions on its training data.");
	sample(out, "ferry_prediction_drift_score", sm, "method", r->prediction.method, NULL, NULL,
	       r->prediction.score);
	family(out, "ferry_prediction_drift_detected", "gauge",
	       "1 when the prediction drift score passes its test's default threshold.");
	sample(out, "ferry_prediction_drift_detected", sm, "method", r->prediction.method, NULL,
	       NULL, r->prediction.detected);
}

static void collect_live(struct strbuf *out, void *data)
{
	struct serve_api *api = data;
	struct served_model *sm = serve_engine_acquire(api->engine);
	struct live_report r;

	if (!sm->live) {
		served_model_unref(sm);
		return;
	}
	live_report(sm->live, &r);
	family(out, "ferry_monitor_window_rows", "gauge",
	       "Rows in the live monitor's sliding window (what the drift scores cover).");
	sample(out, "ferry_monitor_window_rows", sm, NULL, NULL, NULL, NULL, (double)r.window_rows);
	family(out, "ferry_monitor_rows_total", "counter",
	       "Rows the live monitor has seen since this model version was loaded.");
	sample(out, "ferry_monitor_rows_total", sm, NULL, NULL, NULL, NULL,
	       (double)r.observed_rows);
	render_drift(out, sm, &r);
	family(out, "ferry_live_labelled_rows", "gauge",
	       "Labelled predictions (joined through /feedback) the live quality covers.");
	sample(out, "ferry_live_labelled_rows", sm, NULL, NULL, NULL, NULL, (double)r.labelled);
	if (r.nquality) {
		family(out, "ferry_live_quality", "gauge",
		       "Quality of the last labelled predictions, by metric (scikit-learn's "
		       "definitions).");
		for (size_t i = 0; i < r.nquality; i++)
			sample(out, "ferry_live_quality", sm, "metric", r.quality[i].metric, NULL,
			       NULL, r.quality[i].value);
	}
	family(out, "ferry_live_feedback_total", "counter",
	       "Feedback items by result: matched a pending prediction, unknown request id "
	       "(never seen, evicted or already labelled), invalid label.");
	sample(out, "ferry_live_feedback_total", sm, "result", "invalid", NULL, NULL,
	       (double)r.feedback_invalid);
	sample(out, "ferry_live_feedback_total", sm, "result", "matched", NULL, NULL,
	       (double)r.feedback_matched);
	sample(out, "ferry_live_feedback_total", sm, "result", "unknown", NULL, NULL,
	       (double)r.feedback_unknown);
	family(out, "ferry_live_evicted_predictions_total", "counter",
	       "Predicted rows dropped from the pending map before their label arrived.");
	sample(out, "ferry_live_evicted_predictions_total", sm, NULL, NULL, NULL, NULL,
	       (double)r.evicted);
	live_report_release(&r);
	served_model_unref(sm);
}

int serve_api_new(struct serve_api **out, const struct serve_api_options *o, struct error *err)
{
	struct serve_api *api = xcalloc(1, sizeof(*api));
	struct served_model *sm;

	(void)err;
	api->engine = o->engine;
	api->log = o->log;
	api->monitored = o->monitored;
	pthread_mutex_init(&api->lock, NULL);
	api->prom = prom_registry_new();
	api->requests = prom_counter_new(api->prom, "ferry_http_requests_total",
					 "HTTP requests answered, by route and status code.",
					 (const char *const[]){ "route", "code", NULL });
	api->latency = prom_histogram_new(api->prom, "ferry_http_request_duration_seconds",
					  "Time from reading a request to its answer, by route.",
					  (const char *const[]){ "route", NULL },
					  prom_latency_buckets, PROM_LATENCY_NBUCKETS);
	api->in_flight = prom_child(prom_gauge_new(api->prom, "ferry_http_requests_in_flight",
						   "Prediction requests being answered now.", NULL),
				    NULL);
	api->predictions = prom_counter_new(api->prom, "ferry_predictions_total",
					    "Rows predicted, by model and predicted class.",
					    (const char *const[]){ "model", "class", NULL });
	api->model_info =
	    prom_info_new(api->prom, "ferry_model_info", "The model version being served.",
			  (const char *const[]){ "name", "version", "digest", NULL });
	prom_collector_add(
	    api->prom, (const char *const[]){ "ferry_inference_log_dropped_records_total", NULL },
	    collect_log, api);
	if (api->monitored)
		prom_collector_add(api->prom, live_metric_names, collect_live, api);
	prom_process_metrics(api->prom);
	sm = serve_engine_acquire(api->engine);
	serve_api_model_changed(api, sm);
	served_model_unref(sm);
	*out = api;
	return 0;
}

void serve_api_model_changed(struct serve_api *api, const struct served_model *sm)
{
	prom_info_set(api->model_info,
		      (const char *const[]){ sm->name, sm->version_text, sm->m.digest });
}

void serve_api_free(struct serve_api *api)
{
	if (!api)
		return;
	for (size_t i = 0; i < api->npool; i++) {
		serve_input_release(api->pool[i]);
		free(api->pool[i]);
	}
	free(api->pool);
	prom_registry_free(api->prom);
	pthread_mutex_destroy(&api->lock);
	free(api);
}

void serve_api_routes(struct http_routes *out, struct serve_api *api)
{
	out->routes = serve_routes;
	out->nroutes = ARRAY_SIZE(serve_routes);
	out->data = api;
	out->map_error = NULL;
}
