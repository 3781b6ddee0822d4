/*
 * The http store: the tracking half of the store API spoken to a remote MLflow-compatible
 * tracking server (`ferry server`, `mlflow server`) over its REST API with libcurl.
 */
#include "util/common.h"
#include "store/store_http_internal.h"
#include "store/store_internal.h"
#include "store/search.h"
#include "util/log.h"
#include "util/strbuf.h"

#include <curl/curl.h>
#include <math.h>
#include <time.h>

#define API_PREFIX "/api/2.0/mlflow/"
#define MAX_ANSWER (256u << 20) /* bytes: a bigger answer is refused */
#define CONNECT_TIMEOUT 10L	/* seconds */
/* Defaults of what MLflow's client reads from MLFLOW_HTTP_REQUEST_{MAX_RETRIES,...}. */
#define DEFAULT_TIMEOUT 120L
#define DEFAULT_RETRIES 4
#define DEFAULT_BACKOFF 0.5
#define MAX_RETRIES 10
#define MAX_SLEEP 30.0 /* seconds, one wait between attempts */
/* Run messages read are reused by the reads that follow, for this long or until a write. */
#define RUN_CACHE_MS 2000
#define PAGE_SIZE 1000		/* runs and experiments per search request when listing */
#define HISTORY_PAGE_SIZE 25000 /* what MLflow's client asks for */

/* A dataset recorded in this session: runs/log-inputs sends it with the run that uses it. */
struct http_dataset {
	char *name, *path, *digest, *source_type, *source, *schema_json, *profile_json, *git_commit;
	int64_t size, created_time;
};

struct store_http {
	struct store base; /* base.location: the server's URI as given */
	CURL *curl;	   /* one handle: its connection is kept alive between requests */
	struct curl_slist *headers;
	char *base_url; /* the URI without trailing slashes */
	struct strbuf answer;
	bool too_big;
	char errbuf[CURL_ERROR_SIZE];
	long timeout;
	int max_retries;
	double backoff;
	json_t *runs; /* Run messages by id, read at runs_time */
	int64_t runs_time;
	struct http_dataset *datasets;
	size_t nr_datasets, alloc_datasets;
};

static struct store_http *hs(struct store *st)
{
	return (struct store_http *)st;
}

/* Transport ----------------------------------------------------------------------------------- */

static size_t on_data(char *data, size_t size, size_t n, void *arg)
{
	struct store_http *h = arg;

	if (h->answer.len + size * n > MAX_ANSWER) {
		h->too_big = true;
		return 0;
	}
	strbuf_add(&h->answer, data, size * n);
	return size * n;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void cache_clear(struct store_http *h)
{
	json_object_clear(h->runs);
}

/* A cached Run message (borrowed), if fresh. */
static const json_t *cache_get(struct store_http *h, const char *run_id)
{
	if (now_ms() - h->runs_time > RUN_CACHE_MS)
		cache_clear(h);
	return json_object_get(h->runs, run_id);
}

static void cache_put(struct store_http *h, json_t *run)
{
	const char *id = json_string_value(json_object_get(json_object_get(run, "info"), "run_id"));

	if (!id)
		return;
	if (!json_object_size(h->runs))
		h->runs_time = now_ms();
	json_object_set(h->runs, id, run);
}

/* MLflow's client retries these statuses (408, 429 and the 5xx a proxy or restart gives). */
static bool retry_status(long status)
{
	return status == 408 || status == 429 || status == 500 || status == 502 || status == 503 ||
	       status == 504;
}

/* Transfer failures worth another try: the connection broke, not "nobody listens". */
static bool retry_curl(CURLcode c)
{
	return c == CURLE_GOT_NOTHING || c == CURLE_SEND_ERROR || c == CURLE_RECV_ERROR ||
	       c == CURLE_PARTIAL_FILE;
}

static void backoff_sleep(const struct store_http *h, int attempt)
{
	double s = h->backoff * pow(2, attempt);
	struct timespec ts;

	if (s > MAX_SLEEP)
		s = MAX_SLEEP;
	ts.tv_sec = (time_t)s;
	ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* Appends fields as a query string: arrays as repeated keys, as MLflow's client sends them. */
static void add_query(struct store_http *h, struct strbuf *url, json_t *fields)
{
	const char *key;
	json_t *v;
	char sep = '?';

	json_object_foreach(fields, key, v) {
		size_t n = json_is_array(v) ? json_array_size(v) : 1;

		for (size_t i = 0; i < n; i++) {
			const json_t *x = json_is_array(v) ? json_array_get(v, i) : v;
			char *k = curl_easy_escape(h->curl, key, 0), *val = NULL;

			if (json_is_string(x))
				val = curl_easy_escape(h->curl, json_string_value(x), 0);
			if (json_is_integer(x))
				strbuf_addf(url, "%c%s=%" JSON_INTEGER_FORMAT, sep, k,
					    json_integer_value(x));
			else
				strbuf_addf(url, "%c%s=%s", sep, k, val ? val : "");
			sep = '&';
			curl_free(k);
			curl_free(val);
		}
	}
}

/* The error an answer that is not a success stands for: MLflow's {error_code, message}. */
static int answer_error(struct store_http *h, long status, const char *endpoint, struct error *err)
{
	json_t *j = json_loadb(h->answer.buf, h->answer.len, 0, NULL);
	const char *code = json_string_value(json_object_get(j, "error_code"));
	const char *msg = json_string_value(json_object_get(j, "message"));
	int rc;

	if (!code && (status == 404 || status == 405 || status == 501))
		rc = error_set(err, ERR_UNSUPPORTED,
			       "tracking server %s: no endpoint '%s' (HTTP %ld); is it an MLflow "
			       "tracking server?",
			       h->base.location, endpoint, status);
	else if ((rc = store_http_error_code(code, (int)status, msg)) == ERR_STORE)
		rc = error_set(err, ERR_STORE, "tracking server %s: %s: HTTP %ld%s%s",
			       h->base.location, endpoint, status, msg ? ": " : "", msg ? msg : "");
	else
		rc = error_set(err, rc, "%s", msg ? msg : code);
	json_decref(j);
	return rc;
}

/* One request and its retries; status gets the final HTTP status. */
static int perform(struct store_http *h, long *status, const char *endpoint, struct error *err)
{
	CURLcode c;

	for (int attempt = 0;; attempt++) {
		strbuf_reset(&h->answer);
		h->too_big = false;
		h->errbuf[0] = '\0';
		c = curl_easy_perform(h->curl);
		*status = 0;
		if (c == CURLE_OK)
			curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, status);
		log_debug("tracking server: %s -> %ld (%s)", endpoint, *status,
			  c == CURLE_OK ? "ok" : curl_easy_strerror(c));
		if (attempt >= h->max_retries ||
		    !(c == CURLE_OK ? retry_status(*status) : retry_curl(c)))
			break;
		backoff_sleep(h, attempt);
	}
	if (h->too_big)
		return error_set(err, ERR_TOOBIG,
				 "tracking server %s: the answer to %s is over %u MiB",
				 h->base.location, endpoint, MAX_ANSWER >> 20);
	if (c != CURLE_OK)
		return error_set(err, ERR_STORE, "cannot reach the tracking server %s: %s",
				 h->base.location,
				 h->errbuf[0] ? h->errbuf : curl_easy_strerror(c));
	return 0;
}

/*
 * Calls endpoint (under /api/2.0/mlflow/) with fields (stolen): POST as a JSON body, else GET
 * with a query string. The answer's JSON object goes to *out when out is not NULL.
 */
static int call(struct store_http *h, json_t **out, bool post, const char *endpoint, json_t *fields,
		struct error *err)
{
	struct strbuf url = STRBUF_INIT;
	char *body = NULL;
	json_t *answer = NULL;
	long status = 0;
	int rc;

	strbuf_addf(&url, "%s" API_PREFIX "%s", h->base_url, endpoint);
	if (post) {
		cache_clear(h);
		body = json_dumps(fields, JSON_COMPACT | JSON_ENSURE_ASCII);
		if (!body) {
			rc =
			    error_set(err, ERR_INVALID, "%s: a value is not valid UTF-8", endpoint);
			goto out;
		}
		curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(h->curl, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	} else {
		add_query(h, &url, fields);
		curl_easy_setopt(h->curl, CURLOPT_HTTPGET, 1L);
	}
	curl_easy_setopt(h->curl, CURLOPT_URL, url.buf);
	if ((rc = perform(h, &status, endpoint, err)) < 0)
		goto out;
	if (status < 200 || status > 299) {
		rc = answer_error(h, status, endpoint, err);
		goto out;
	}
	answer = json_loadb(h->answer.buf, h->answer.len, 0, NULL);
	if (!json_is_object(answer)) {
		rc = error_set(err, ERR_STORE,
			       "tracking server %s: the answer to %s is not a JSON object",
			       h->base.location, endpoint);
		goto out;
	}
	if (out) {
		*out = answer;
		answer = NULL;
	}
out:
	json_decref(answer);
	json_decref(fields);
	free(body);
	strbuf_release(&url);
	return rc;
}

static json_t *kv_list(const struct store_kv *kvs, size_t nr)
{
	json_t *a = json_array();

	for (size_t i = 0; i < nr; i++)
		json_array_append_new(a, json_pack("{s:s, s:s}", "key", kvs[i].key, "value",
						   kvs[i].value ? kvs[i].value : ""));
	return a;
}

static json_t *metric_list(const struct store_metric *m, size_t nr)
{
	json_t *a = json_array();

	for (size_t i = 0; i < nr; i++)
		json_array_append_new(a, json_pack("{s:s, s:o, s:I, s:I}", "key", m[i].key, "value",
						   store_http_double_json(m[i].value), "timestamp",
						   (json_int_t)m[i].timestamp, "step",
						   (json_int_t)m[i].step));
	return a;
}

/* Opening ------------------------------------------------------------------------------------- */

static double env_number(const char *name, double def, double min, double max)
{
	const char *s = getenv(name);
	char *end;
	double v;

	if (!s || !*s)
		return def;
	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || !(v >= min && v <= max)) {
		log_warn("ignoring %s='%s': expected a number from %g to %g", name, s, min, max);
		return def;
	}
	return v;
}

static bool env_true(const char *name)
{
	const char *s = getenv(name);

	return s && (!strcasecmp(s, "true") || !strcmp(s, "1"));
}

/* Credentials and TLS as MLflow's client reads them from the environment. */
static void set_auth(struct store_http *h)
{
	const char *token = getenv("MLFLOW_TRACKING_TOKEN");
	const char *user = getenv("MLFLOW_TRACKING_USERNAME");
	const char *pass = getenv("MLFLOW_TRACKING_PASSWORD");
	const char *ca = getenv("MLFLOW_TRACKING_SERVER_CERT_PATH");

	if (token && *token) {
		char *line = xstrfmt("Authorization: Bearer %s", token);

		h->headers = curl_slist_append(h->headers, line);
		free(line);
	} else if (user && *user) {
		curl_easy_setopt(h->curl, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(h->curl, CURLOPT_USERNAME, user);
		curl_easy_setopt(h->curl, CURLOPT_PASSWORD, pass ? pass : "");
	}
	if (ca && *ca)
		curl_easy_setopt(h->curl, CURLOPT_CAINFO, ca);
	if (env_true("MLFLOW_TRACKING_INSECURE_TLS")) {
		curl_easy_setopt(h->curl, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(h->curl, CURLOPT_SSL_VERIFYHOST, 0L);
	}
}

static int check_uri(const char *uri, struct error *err)
{
	const char *rest = NULL;

	if (!skip_prefix(uri, "http://", &rest) && !skip_prefix(uri, "https://", &rest))
		BUG("store_http: '%s' is not an http(s) uri", uri);
	if (!*rest || *rest == '/' || *rest == ':')
		return error_set(err, ERR_INVALID, "invalid tracking server uri '%s': no host",
				 uri);
	if (strpbrk(rest, "?# \t\r\n"))
		return error_set(err, ERR_INVALID,
				 "invalid tracking server uri '%s': expected http(s)://HOST[:PORT]"
				 "[/PATH] without a query or fragment",
				 uri);
	return 0;
}

static void http_close(struct store *st);

static int http_open(struct store **out, const char *uri, struct error *err)
{
	struct store_http *h;
	size_t len;
	int rc;

	if ((rc = check_uri(uri, err)) < 0)
		return rc;
	h = xcalloc(1, sizeof(*h));
	h->base.ops = &store_http_ops;
	h->base.location = xstrdup(uri);
	len = strlen(uri);
	while (len && uri[len - 1] == '/')
		len--;
	h->base_url = xstrndup(uri, len);
	strbuf_init(&h->answer, 0);
	h->runs = json_object();
	h->timeout = (long)env_number("MLFLOW_HTTP_REQUEST_TIMEOUT", DEFAULT_TIMEOUT, 1, 86400);
	h->max_retries =
	    (int)env_number("MLFLOW_HTTP_REQUEST_MAX_RETRIES", DEFAULT_RETRIES, 0, MAX_RETRIES);
	h->backoff = env_number("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", DEFAULT_BACKOFF, 0, 60);
	if (!(h->curl = curl_easy_init())) {
		http_close(&h->base);
		return error_set(err, ERR_INTERNAL, "cannot initialise libcurl");
	}
	h->headers = curl_slist_append(h->headers, "Content-Type: application/json");
	h->headers = curl_slist_append(h->headers, "Accept: application/json");
	set_auth(h);
	curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, h->headers);
	curl_easy_setopt(h->curl, CURLOPT_ERRORBUFFER, h->errbuf);
	curl_easy_setopt(h->curl, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h->curl, CURLOPT_WRITEDATA, h);
	curl_easy_setopt(h->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h->curl, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT);
	curl_easy_setopt(h->curl, CURLOPT_TIMEOUT, h->timeout);
	curl_easy_setopt(h->curl, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(h->curl, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(h->curl, CURLOPT_USERAGENT, "ferry/" FERRY_VERSION);
	*out = &h->base;
	return 0;
}

static void http_close(struct store *st)
{
	struct store_http *h = hs(st);

	if (h->curl)
		curl_easy_cleanup(h->curl);
	curl_slist_free_all(h->headers);
	for (size_t i = 0; i < h->nr_datasets; i++) {
		struct http_dataset *d = &h->datasets[i];

		free(d->name);
		free(d->path);
		free(d->digest);
		free(d->source_type);
		free(d->source);
		free(d->schema_json);
		free(d->profile_json);
		free(d->git_commit);
	}
	free(h->datasets);
	json_decref(h->runs);
	strbuf_release(&h->answer);
	free(h->base_url);
	free(h->base.location);
	free(h);
}

static int http_info(struct store *st, struct store_info *out, struct error *err)
{
	struct store_experiments list = STORE_EXPERIMENTS_INIT;
	int rc = st->ops->experiment_list(st, &list, STORE_VIEW_ALL, err);

	if (rc < 0)
		return rc;
	memset(out, 0, sizeof(*out));
	out->backend = st->ops->name;
	out->location = xstrdup(st->location);
	out->experiments = (int64_t)list.nr;
	/* what the REST API cannot count cheaply */
	out->runs = out->metrics = out->datasets = -1;
	out->registered_models = out->model_versions = -1;
	store_experiments_release(&list);
	return 0;
}

/* The server answers its health check; what it keeps consistent is its own business. */
static int http_check(struct store *st, struct strbuf *report, struct error *err)
{
	struct store_http *h = hs(st);
	char *url = xstrfmt("%s/health", h->base_url);
	long status = 0;
	int rc;

	curl_easy_setopt(h->curl, CURLOPT_HTTPGET, 1L);
	curl_easy_setopt(h->curl, CURLOPT_URL, url);
	rc = perform(h, &status, "health", err);
	free(url);
	if (rc < 0)
		return rc;
	if (status != 200) {
		strbuf_addf(report, "tracking server %s: /health answered HTTP %ld\n", st->location,
			    status);
		return error_set(err, ERR_STORE, "tracking server %s is not healthy (HTTP %ld)",
				 st->location, status);
	}
	return 0;
}

/* Experiments --------------------------------------------------------------------------------- */

static int http_experiment_create(struct store *st, char **out_id, const char *name,
				  const char *artifact_location, struct error *err)
{
	json_t *req = json_pack("{s:s}", "name", name), *answer = NULL;
	const char *id;
	int rc;

	if (artifact_location)
		json_object_set_new(req, "artifact_location", json_string(artifact_location));
	if ((rc = call(hs(st), &answer, true, "experiments/create", req, err)) < 0)
		return rc;
	id = json_string_value(json_object_get(answer, "experiment_id"));
	if (id && *id)
		*out_id = xstrdup(id);
	else
		rc = error_set(err, ERR_STORE, "tracking server %s: experiments/create gave no id",
			       st->location);
	json_decref(answer);
	return rc;
}

/* experiments/get or get-by-name: the Experiment message in *out (caller frees). */
static int get_experiment(struct store *st, json_t **out, const char *endpoint, json_t *req,
			  struct error *err)
{
	json_t *answer = NULL, *exp;
	int rc;

	if ((rc = call(hs(st), &answer, false, endpoint, req, err)) < 0)
		return rc;
	exp = json_object_get(answer, "experiment");
	if (!json_is_object(exp)) {
		json_decref(answer);
		return error_set(err, ERR_STORE, "tracking server %s: %s gave no experiment",
				 st->location, endpoint);
	}
	*out = json_incref(exp);
	json_decref(answer);
	return 0;
}

static int parse_experiment_answer(struct store_experiment *out, json_t *exp, int rc,
				   struct error *err)
{
	if (rc >= 0)
		rc = store_http_parse_experiment(out, exp, err);
	json_decref(exp);
	return rc;
}

static int http_experiment_get(struct store *st, struct store_experiment *out, int64_t id,
			       struct error *err)
{
	json_t *exp = NULL;
	char *sid = store_experiment_id_str(id);
	int rc = get_experiment(st, &exp, "experiments/get",
				json_pack("{s:s}", "experiment_id", sid), err);

	free(sid);
	return parse_experiment_answer(out, exp, rc, err);
}

static int http_experiment_get_by_name(struct store *st, struct store_experiment *out,
				       const char *name, struct error *err)
{
	json_t *exp = NULL;
	int rc = get_experiment(st, &exp, "experiments/get-by-name",
				json_pack("{s:s}", "experiment_name", name), err);

	return parse_experiment_answer(out, exp, rc, err);
}

/* One experiments/search request; appends to out, *token gets the next page's token or NULL. */
static int search_experiments(struct store *st, struct store_experiments *out, char **token,
			      json_t *req, struct error *err)
{
	json_t *answer = NULL, *e;
	const char *next;
	size_t i;
	int rc;

	if ((rc = call(hs(st), &answer, true, "experiments/search", req, err)) < 0)
		return rc;
	json_array_foreach(json_object_get(answer, "experiments"), i, e) {
		ALLOC_GROW(out->items, out->nr + 1, out->alloc);
		memset(&out->items[out->nr], 0, sizeof(out->items[0]));
		if ((rc = store_http_parse_experiment(&out->items[out->nr], e, err)) < 0)
			goto out;
		out->nr++;
	}
	next = json_string_value(json_object_get(answer, "next_page_token"));
	*token = next && *next ? xstrdup(next) : NULL;
out:
	json_decref(answer);
	return rc;
}

static int cmp_experiment_id(const void *a, const void *b)
{
	const struct store_experiment *x = a, *y = b;
	size_t lx = strlen(x->id), ly = strlen(y->id);

	return lx != ly ? (lx < ly ? -1 : 1) : strcmp(x->id, y->id);
}

static int http_experiment_list(struct store *st, struct store_experiments *out,
				enum store_view view, struct error *err)
{
	struct store_experiments list = STORE_EXPERIMENTS_INIT;
	char *token = NULL;
	int rc;

	do {
		json_t *req = json_pack("{s:I, s:s}", "max_results", (json_int_t)PAGE_SIZE,
					"view_type", store_http_view_name(view));

		if (token)
			json_object_set_new(req, "page_token", json_string(token));
		free(token);
		token = NULL;
		if ((rc = search_experiments(st, &list, &token, req, err)) < 0) {
			store_experiments_release(&list);
			return rc;
		}
	} while (token);
	if (list.nr)
		qsort(list.items, list.nr, sizeof(*list.items), cmp_experiment_id);
	*out = list;
	return 0;
}

static int experiment_post(struct store *st, const char *endpoint, json_t *req, struct error *err)
{
	return call(hs(st), NULL, true, endpoint, req, err);
}

static int http_experiment_rename(struct store *st, int64_t id, const char *new_name,
				  struct error *err)
{
	char *sid = store_experiment_id_str(id);
	int rc = experiment_post(
	    st, "experiments/update",
	    json_pack("{s:s, s:s}", "experiment_id", sid, "new_name", new_name), err);

	free(sid);
	return rc;
}

static int http_experiment_set_deleted(struct store *st, int64_t id, bool deleted,
				       struct error *err)
{
	char *sid = store_experiment_id_str(id);
	int rc = experiment_post(st, deleted ? "experiments/delete" : "experiments/restore",
				 json_pack("{s:s}", "experiment_id", sid), err);

	free(sid);
	return rc;
}

static int http_experiment_set_tag(struct store *st, int64_t id, const char *key, const char *value,
				   struct error *err)
{
	char *sid = store_experiment_id_str(id);
	int rc = experiment_post(st, "experiments/set-experiment-tag",
				 json_pack("{s:s, s:s, s:s}", "experiment_id", sid, "key", key,
					   "value", value ? value : ""),
				 err);

	free(sid);
	return rc;
}

static int http_experiment_tags(struct store *st, struct store_pairs *out, int64_t id,
				struct error *err)
{
	json_t *exp = NULL;
	char *sid = store_experiment_id_str(id);
	int rc = get_experiment(st, &exp, "experiments/get",
				json_pack("{s:s}", "experiment_id", sid), err);

	free(sid);
	if (rc >= 0)
		rc = store_http_parse_pairs(out, json_object_get(exp, "tags"), err);
	json_decref(exp);
	return rc;
}

/* Runs ---------------------------------------------------------------------------------------- */

/* The Run message of run_id (borrowed from the cache), by runs/get unless read just now. */
static int get_run(struct store *st, const json_t **out, const char *run_id, struct error *err)
{
	struct store_http *h = hs(st);
	json_t *answer = NULL, *run;
	int rc;

	if ((*out = cache_get(h, run_id)))
		return 0;
	if ((rc = call(h, &answer, false, "runs/get", json_pack("{s:s}", "run_id", run_id), err)) <
	    0)
		return rc;
	run = json_object_get(answer, "run");
	if (!json_is_object(run)) {
		json_decref(answer);
		return error_set(err, ERR_STORE, "tracking server %s: runs/get gave no run",
				 st->location);
	}
	cache_put(h, run);
	json_decref(answer);
	*out = json_object_get(h->runs, run_id);
	if (!*out)
		return error_set(err, ERR_STORE, "tracking server %s: runs/get gave another run",
				 st->location);
	return 0;
}

static bool has_tag(const struct store_new_run *run, const char *key)
{
	for (size_t i = 0; i < run->nr_tags; i++)
		if (!strcmp(run->tags[i].key, key))
			return true;
	return false;
}

/* runs/create's tags: the run's, and what the API has no field for (store_http_internal.h). */
static json_t *create_tags(const struct store_new_run *run)
{
	json_t *tags = kv_list(run->tags, run->nr_tags);

	if (run->source_git_commit && !has_tag(run, STORE_HTTP_TAG_GIT_COMMIT)) {
		json_array_append_new(tags,
				      json_pack("{s:s, s:s}", "key", STORE_HTTP_TAG_GIT_COMMIT,
						"value", run->source_git_commit));
		if (!has_tag(run, STORE_HTTP_TAG_DIRTY))
			json_array_append_new(
			    tags, json_pack("{s:s, s:s}", "key", STORE_HTTP_TAG_DIRTY, "value",
					    run->source_dirty ? "true" : "false"));
	}
	if (run->command && !has_tag(run, STORE_HTTP_TAG_COMMAND)) {
		/* MLflow refuses longer tag values; the start says what ran */
		size_t n = strnlen(run->command, STORE_HTTP_MAX_TAG_VALUE);

		while (n < strlen(run->command) && n && (run->command[n] & 0xC0) == 0x80)
			n--; /* not in the middle of a UTF-8 sequence */
		json_array_append_new(tags, json_pack("{s:s, s:s%}", "key", STORE_HTTP_TAG_COMMAND,
						      "value", run->command, n));
	}
	return tags;
}

static int run_update(struct store *st, const char *run_id, const struct store_run_changes *c,
		      struct error *err)
{
	json_t *req = json_pack("{s:s}", "run_id", run_id);

	if (c->set_status)
		json_object_set_new(req, "status", json_string(store_run_status_name(c->status)));
	if (c->set_end_time)
		json_object_set_new(req, "end_time", json_integer(c->end_time));
	if (c->name)
		json_object_set_new(req, "run_name", json_string(c->name));
	return call(hs(st), NULL, true, "runs/update", req, err);
}

/*
 * The server picks the run's id (and artifact URI), so run->id is not used: the id the server
 * gave goes to out_id. A status other than RUNNING is set by a runs/update after.
 */
static int http_run_create(struct store *st, char out_id[ID_HEX_LEN + 1],
			   const struct store_new_run *run, int64_t exp, struct error *err)
{
	char *sid = store_experiment_id_str(exp);
	json_t *req = json_pack("{s:s, s:s, s:I, s:o}", "experiment_id", sid, "user_id",
				run->user ? run->user : "", "start_time",
				(json_int_t)run->start_time, "tags", create_tags(run));
	json_t *answer = NULL;
	const char *id;
	int rc;

	free(sid);
	if (run->name)
		json_object_set_new(req, "run_name", json_string(run->name));
	if ((rc = call(hs(st), &answer, true, "runs/create", req, err)) < 0)
		return rc;
	id = json_string_value(
	    json_object_get(json_object_get(json_object_get(answer, "run"), "info"), "run_id"));
	if (!id || strlen(id) != ID_HEX_LEN) {
		json_decref(answer);
		return error_set(err, ERR_STORE, "tracking server %s: runs/create gave no run id",
				 st->location);
	}
	memcpy(out_id, id, ID_HEX_LEN + 1);
	json_decref(answer);
	if (run->status != STORE_RUN_RUNNING) {
		struct store_run_changes c = { true, run->status, false, 0, NULL };

		rc = run_update(st, out_id, &c, err);
	}
	return rc;
}

static int http_run_get(struct store *st, struct store_run *out, const char *run_id,
			struct error *err)
{
	const json_t *run = NULL;
	int rc = get_run(st, &run, run_id, err);

	return rc < 0 ? rc : store_http_parse_run(out, run, err);
}

/* One runs/search request: runs appended to out (and cached), the next page's token. */
static int search_runs(struct store *st, struct store_runs *out, char **token, json_t *req,
		       struct error *err)
{
	struct store_http *h = hs(st);
	json_t *answer = NULL, *r;
	const char *next;
	size_t i;
	int rc;

	/* a search reads; what it returns is as fresh as a runs/get */
	if ((rc = call(h, &answer, true, "runs/search", req, err)) < 0)
		return rc;
	json_array_foreach(json_object_get(answer, "runs"), i, r) {
		ALLOC_GROW(out->items, out->nr + 1, out->alloc);
		memset(&out->items[out->nr], 0, sizeof(out->items[0]));
		if ((rc = store_http_parse_run(&out->items[out->nr], r, err)) < 0)
			goto out;
		out->nr++;
		cache_put(h, r);
	}
	next = json_string_value(json_object_get(answer, "next_page_token"));
	*token = next && *next ? xstrdup(next) : NULL;
out:
	json_decref(answer);
	return rc;
}

/* Every experiment's id (deleted ones too: their runs are deleted with them). */
static int all_experiment_ids(struct store *st, json_t **out, struct error *err)
{
	struct store_experiments list = STORE_EXPERIMENTS_INIT;
	int rc = http_experiment_list(st, &list, STORE_VIEW_ALL, err);

	if (rc < 0)
		return rc;
	*out = json_array();
	for (size_t i = 0; i < list.nr; i++)
		json_array_append_new(*out, json_string(list.items[i].id));
	store_experiments_release(&list);
	return 0;
}

static int http_run_list(struct store *st, struct store_runs *out, int64_t experiment_id,
			 enum store_view view, struct error *err)
{
	struct store_runs list = STORE_RUNS_INIT;
	json_t *ids = NULL;
	char *token = NULL;
	int rc;

	if (experiment_id >= 0) {
		char *sid = store_experiment_id_str(experiment_id);

		ids = json_pack("[s]", sid);
		free(sid);
	} else if ((rc = all_experiment_ids(st, &ids, err)) < 0) {
		return rc;
	}
	while (json_array_size(ids)) {
		json_t *req =
		    json_pack("{s:O, s:I, s:s}", "experiment_ids", ids, "max_results",
			      (json_int_t)PAGE_SIZE, "run_view_type", store_http_view_name(view));

		if (token)
			json_object_set_new(req, "page_token", json_string(token));
		free(token);
		token = NULL;
		if ((rc = search_runs(st, &list, &token, req, err)) < 0)
			goto out;
		if (!token)
			break;
	}
	*out = list;
	list = (struct store_runs)STORE_RUNS_INIT;
	rc = 0;
out:
	store_runs_release(&list);
	json_decref(ids);
	return rc;
}

static int http_run_set_status(struct store *st, const char *run_id, enum store_run_status status,
			       int64_t end_time, struct error *err)
{
	struct store_run_changes c = { true, status, end_time != 0, end_time, NULL };

	return run_update(st, run_id, &c, err);
}

static int http_run_update(struct store *st, const char *run_id, const struct store_run_changes *c,
			   struct error *err)
{
	return run_update(st, run_id, c, err);
}

static int http_run_set_deleted(struct store *st, const char *run_id, bool deleted,
				struct error *err)
{
	return call(hs(st), NULL, true, deleted ? "runs/delete" : "runs/restore",
		    json_pack("{s:s}", "run_id", run_id), err);
}

static int http_run_delete_tag(struct store *st, const char *run_id, const char *key,
			       struct error *err)
{
	return call(hs(st), NULL, true, "runs/delete-tag",
		    json_pack("{s:s, s:s}", "run_id", run_id, "key", key), err);
}

/* Logging ------------------------------------------------------------------------------------- */

static int log_batch(struct store *st, const char *run_id, const struct store_batch *b,
		     struct error *err)
{
	json_t *req = json_pack("{s:s}", "run_id", run_id);

	if (b->nr_metrics)
		json_object_set_new(req, "metrics", metric_list(b->metrics, b->nr_metrics));
	if (b->nr_params)
		json_object_set_new(req, "params", kv_list(b->params, b->nr_params));
	if (b->nr_tags)
		json_object_set_new(req, "tags", kv_list(b->tags, b->nr_tags));
	return call(hs(st), NULL, true, "runs/log-batch", req, err);
}

/*
 * A batch within MLflow's limits is one runs/log-batch (all or nothing on the server); a bigger
 * one is split as MLflow's client splits it: params, then metrics, then tags, each request all
 * or nothing on its own.
 */
static int http_run_log_batch(struct store *st, const char *run_id, const struct store_batch *b,
			      struct error *err)
{
	size_t i;
	int rc = 0;

	if (b->nr_metrics <= STORE_HTTP_BATCH_METRICS && b->nr_params <= STORE_HTTP_BATCH_PARAMS &&
	    b->nr_tags <= STORE_HTTP_BATCH_TAGS &&
	    b->nr_metrics + b->nr_params + b->nr_tags <= STORE_HTTP_BATCH_METRICS)
		return log_batch(st, run_id, b, err);
	for (i = 0; rc >= 0 && i < b->nr_params; i += STORE_HTTP_BATCH_PARAMS) {
		struct store_batch part = { NULL, 0, b->params + i, b->nr_params - i, NULL, 0 };

		if (part.nr_params > STORE_HTTP_BATCH_PARAMS)
			part.nr_params = STORE_HTTP_BATCH_PARAMS;
		rc = log_batch(st, run_id, &part, err);
	}
	for (i = 0; rc >= 0 && i < b->nr_metrics; i += STORE_HTTP_BATCH_METRICS) {
		struct store_batch part = { b->metrics + i, b->nr_metrics - i, NULL, 0, NULL, 0 };

		if (part.nr_metrics > STORE_HTTP_BATCH_METRICS)
			part.nr_metrics = STORE_HTTP_BATCH_METRICS;
		rc = log_batch(st, run_id, &part, err);
	}
	for (i = 0; rc >= 0 && i < b->nr_tags; i += STORE_HTTP_BATCH_TAGS) {
		struct store_batch part = { NULL, 0, NULL, 0, b->tags + i, b->nr_tags - i };

		if (part.nr_tags > STORE_HTTP_BATCH_TAGS)
			part.nr_tags = STORE_HTTP_BATCH_TAGS;
		rc = log_batch(st, run_id, &part, err);
	}
	return rc;
}

static int http_run_log_params(struct store *st, const char *run_id, const struct store_kv *params,
			       size_t nr, struct error *err)
{
	struct store_batch b = { NULL, 0, params, nr, NULL, 0 };

	return http_run_log_batch(st, run_id, &b, err);
}

static int http_run_set_tags(struct store *st, const char *run_id, const struct store_kv *tags,
			     size_t nr, struct error *err)
{
	struct store_batch b = { NULL, 0, NULL, 0, tags, nr };

	return http_run_log_batch(st, run_id, &b, err);
}

static int http_run_log_metrics(struct store *st, const char *run_id,
				const struct store_metric *metrics, size_t nr, struct error *err)
{
	struct store_batch b = { metrics, nr, NULL, 0, NULL, 0 };

	return http_run_log_batch(st, run_id, &b, err);
}

/* Reading a run's data ------------------------------------------------------------------------ */

static int http_run_params(struct store *st, struct store_pairs *out, const char *run_id,
			   struct error *err)
{
	const json_t *run = NULL;
	int rc = get_run(st, &run, run_id, err);

	return rc < 0 ? rc
		      : store_http_parse_pairs(
			    out, json_object_get(json_object_get(run, "data"), "params"), err);
}

static int http_run_tags(struct store *st, struct store_pairs *out, const char *run_id,
			 struct error *err)
{
	const json_t *run = NULL;
	int rc = get_run(st, &run, run_id, err);

	return rc < 0 ? rc
		      : store_http_parse_pairs(
			    out, json_object_get(json_object_get(run, "data"), "tags"), err);
}

static int cmp_point_key(const void *a, const void *b)
{
	return strcmp(((const struct store_metric_point *)a)->key,
		      ((const struct store_metric_point *)b)->key);
}

static int http_run_latest_metrics(struct store *st, struct store_metric_points *out,
				   const char *run_id, struct error *err)
{
	struct store_metric_points list = STORE_METRIC_POINTS_INIT;
	const json_t *run = NULL;
	int rc = get_run(st, &run, run_id, err);

	if (rc < 0 ||
	    (rc = store_http_parse_metrics(
		 &list, json_object_get(json_object_get(run, "data"), "metrics"), err)) < 0)
		return rc;
	if (list.nr)
		qsort(list.items, list.nr, sizeof(*list.items), cmp_point_key);
	*out = list;
	return 0;
}

/* One metrics/get-history page from offset (max_results < 0: the server's whole answer). */
static int history_page(struct store *st, struct store_metric_points *out, char **token,
			const char *run_id, const char *key, const char *page_token,
			int64_t max_results, struct error *err)
{
	json_t *req = json_pack("{s:s, s:s}", "run_id", run_id, "metric_key", key);
	json_t *answer = NULL;
	const char *next;
	int rc;

	if (max_results >= 0)
		json_object_set_new(req, "max_results", json_integer(max_results));
	if (page_token)
		json_object_set_new(req, "page_token", json_string(page_token));
	if ((rc = call(hs(st), &answer, false, "metrics/get-history", req, err)) < 0)
		return rc;
	rc = store_http_parse_metrics(out, json_object_get(answer, "metrics"), err);
	next = json_string_value(json_object_get(answer, "next_page_token"));
	*token = rc >= 0 && next && *next ? xstrdup(next) : NULL;
	json_decref(answer);
	return rc;
}

static int http_metric_history_page(struct store *st, struct store_metric_points *out,
				    const char *run_id, const char *key, int64_t offset,
				    int64_t limit, struct error *err)
{
	struct store_metric_points list = STORE_METRIC_POINTS_INIT;
	char *token = offset ? search_page_token_encode(offset) : NULL;
	int rc = 0;

	while (limit) {
		char *next = NULL;
		int64_t want = limit < 0 || limit > HISTORY_PAGE_SIZE ? HISTORY_PAGE_SIZE : limit;
		size_t before = list.nr;

		rc = history_page(st, &list, &next, run_id, key, token, want, err);
		free(token);
		token = next;
		if (rc < 0 || !token || list.nr == before)
			break;
		if (limit > 0)
			limit -= (int64_t)(list.nr - before);
	}
	free(token);
	if (rc < 0) {
		store_metric_points_release(&list);
		return rc;
	}
	*out = list;
	return 0;
}

static int http_metric_history(struct store *st, struct store_metric_points *out,
			       const char *run_id, const char *key, struct error *err)
{
	return http_metric_history_page(st, out, run_id, key, 0, -1, err);
}

/* Datasets ------------------------------------------------------------------------------------ */

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

/*
 * The REST API records a dataset only with a run that used it (runs/log-inputs): this keeps it
 * for run_add_input, with an id valid in this store handle.
 */
static int http_dataset_record(struct store *st, int64_t *out_id,
			       const struct store_new_dataset *ds, struct error *err)
{
	struct store_http *h = hs(st);
	struct http_dataset *d;

	(void)err;
	for (size_t i = 0; i < h->nr_datasets; i++) {
		if (!strcmp(h->datasets[i].name, ds->name) &&
		    !strcmp(h->datasets[i].digest, ds->digest)) {
			*out_id = (int64_t)i + 1;
			return 0;
		}
	}
	ALLOC_GROW(h->datasets, h->nr_datasets + 1, h->alloc_datasets);
	d = &h->datasets[h->nr_datasets++];
	d->name = xstrdup(ds->name);
	d->path = dup_or_null(ds->path);
	d->digest = xstrdup(ds->digest);
	d->source_type = dup_or_null(ds->source_type);
	d->source = dup_or_null(ds->source);
	d->schema_json = dup_or_null(ds->schema_json);
	d->profile_json = dup_or_null(ds->profile_json);
	d->git_commit = dup_or_null(ds->git_commit);
	d->size = ds->size;
	d->created_time = ds->created_time;
	*out_id = (int64_t)h->nr_datasets;
	return 0;
}

static int find_dataset(struct store *st, const struct http_dataset **out, int64_t id,
			struct error *err)
{
	struct store_http *h = hs(st);

	if (id < 1 || (uint64_t)id > h->nr_datasets)
		return error_set(err, ERR_NOTFOUND,
				 "no dataset with id %" PRId64
				 " recorded through this connection to the tracking server %s",
				 id, st->location);
	*out = &h->datasets[id - 1];
	return 0;
}

static int http_dataset_get(struct store *st, struct store_dataset *out, int64_t id,
			    struct error *err)
{
	const struct http_dataset *d = NULL;
	int rc = find_dataset(st, &d, id, err);

	if (rc < 0)
		return rc;
	memset(out, 0, sizeof(*out));
	out->id = id;
	out->name = xstrdup(d->name);
	out->path = dup_or_null(d->path);
	out->digest = xstrdup(d->digest);
	out->size = d->size;
	out->created_time = d->created_time;
	out->git_commit = dup_or_null(d->git_commit);
	out->source_type = dup_or_null(d->source_type);
	out->source = dup_or_null(d->source);
	return 0;
}

/* A DatasetInput message; ferry's own data is MLflow's "local" source {"uri": path}. */
static json_t *dataset_input(const struct http_dataset *d, const char *context)
{
	json_t *ds = json_pack("{s:s, s:s}", "name", d->name, "digest", d->digest);
	json_t *in = json_object();

	json_object_set_new(ds, "source_type",
			    json_string(d->source_type ? d->source_type : "local"));
	if (d->source) {
		json_object_set_new(ds, "source", json_string(d->source));
	} else {
		json_t *src = json_pack("{s:s}", "uri", d->path ? d->path : d->name);
		char *text = json_dumps(src, JSON_COMPACT);

		json_object_set_new(ds, "source", json_string(text ? text : ""));
		free(text);
		json_decref(src);
	}
	if (d->schema_json)
		json_object_set_new(ds, "schema", json_string(d->schema_json));
	if (d->profile_json)
		json_object_set_new(ds, "profile", json_string(d->profile_json));
	if (context)
		json_object_set_new(
		    in, "tags",
		    json_pack("[{s:s, s:s}]", "key", STORE_HTTP_TAG_CONTEXT, "value", context));
	json_object_set_new(in, "dataset", ds);
	return in;
}

static int http_run_add_input(struct store *st, const char *run_id, int64_t dataset_id,
			      const char *context, struct error *err)
{
	const struct http_dataset *d = NULL;
	int rc = find_dataset(st, &d, dataset_id, err);

	if (rc < 0)
		return rc;
	return call(
	    hs(st), NULL, true, "runs/log-inputs",
	    json_pack("{s:s, s:[o]}", "run_id", run_id, "datasets", dataset_input(d, context)),
	    err);
}

static int http_run_inputs(struct store *st, struct store_datasets *out, const char *run_id,
			   struct error *err)
{
	const json_t *run = NULL;
	int rc = get_run(st, &run, run_id, err);

	return rc < 0 ? rc : store_http_parse_inputs(out, json_object_get(run, "inputs"), err);
}

/* Search -------------------------------------------------------------------------------------- */

/*
 * The filter and order_by go to the server as the text they were parsed from (search.h): the
 * server parses them again, with its own grammar and messages.
 */
static int query_text(json_t *req, const struct search_filter *filter, const char *filter_text,
		      const struct search_orders *order, const char *const *order_text,
		      size_t nr_order_text, struct error *err)
{
	json_t *a;

	if ((filter && filter->nr && !filter_text) || (order && order->nr && !nr_order_text))
		return error_set(err, ERR_UNSUPPORTED,
				 "a search on a remote tracking server needs the filter and "
				 "order_by text (BUG: the query was built without it)");
	if (filter_text && *filter_text)
		json_object_set_new(req, "filter", json_string(filter_text));
	if (nr_order_text) {
		a = json_array();
		for (size_t i = 0; i < nr_order_text; i++)
			json_array_append_new(a, json_string(order_text[i]));
		json_object_set_new(req, "order_by", a);
	}
	return 0;
}

static void set_page(json_t *req, int64_t max_results, int64_t offset)
{
	json_object_set_new(req, "max_results", json_integer(max_results));
	if (offset > 0) {
		char *token = search_page_token_encode(offset);

		json_object_set_new(req, "page_token", json_string(token));
		free(token);
	}
}

static int http_run_search(struct store *st, struct store_runs *out, char **next_page_token,
			   const struct store_run_search *q, struct error *err)
{
	struct store_runs list = STORE_RUNS_INIT;
	json_t *req, *ids = NULL;
	char *token = NULL;
	int rc;

	if (q->experiment_ids && !q->nr_experiment_ids) {
		*out = list;
		*next_page_token = NULL;
		return 0;
	}
	if (q->experiment_ids) {
		ids = json_array();
		for (size_t i = 0; i < q->nr_experiment_ids; i++)
			json_array_append_new(ids, json_string(q->experiment_ids[i]));
	} else if ((rc = all_experiment_ids(st, &ids, err)) < 0) {
		return rc;
	}
	req = json_pack("{s:o, s:s}", "experiment_ids", ids, "run_view_type",
			store_http_view_name(q->view));
	set_page(req, q->max_results, q->offset);
	if ((rc = query_text(req, q->filter, q->filter_text, q->order, q->order_by_text,
			     q->nr_order_by_text, err)) < 0) {
		json_decref(req);
		return rc;
	}
	if ((rc = search_runs(st, &list, &token, req, err)) < 0) {
		store_runs_release(&list);
		return rc;
	}
	*out = list;
	*next_page_token = token;
	return 0;
}

static int http_experiment_search(struct store *st, struct store_experiments *out,
				  char **next_page_token, const struct store_experiment_search *q,
				  struct error *err)
{
	struct store_experiments list = STORE_EXPERIMENTS_INIT;
	json_t *req = json_pack("{s:s}", "view_type", store_http_view_name(q->view));
	char *token = NULL;
	int rc;

	set_page(req, q->max_results, q->offset);
	if ((rc = query_text(req, q->filter, q->filter_text, q->order, q->order_by_text,
			     q->nr_order_by_text, err)) < 0) {
		json_decref(req);
		return rc;
	}
	if ((rc = search_experiments(st, &list, &token, req, err)) < 0) {
		store_experiments_release(&list);
		return rc;
	}
	*out = list;
	*next_page_token = token;
	return 0;
}

/*
 * Ops left NULL have no REST API counterpart here (the stat cache, dataset profiles): store.c
 * answers ERR_UNSUPPORTED for them.
 */
const struct store_ops store_http_ops = {
	.name = "http",
	.server_run_ids = true,
	.open = http_open,
	.close = http_close,
	.info = http_info,
	.check = http_check,
	.experiment_create = http_experiment_create,
	.experiment_get = http_experiment_get,
	.experiment_get_by_name = http_experiment_get_by_name,
	.experiment_list = http_experiment_list,
	.run_create = http_run_create,
	.run_get = http_run_get,
	.run_list = http_run_list,
	.run_set_status = http_run_set_status,
	.run_log_params = http_run_log_params,
	.run_params = http_run_params,
	.run_set_tags = http_run_set_tags,
	.run_tags = http_run_tags,
	.run_log_metrics = http_run_log_metrics,
	.metric_history = http_metric_history,
	.run_latest_metrics = http_run_latest_metrics,
	.dataset_record = http_dataset_record,
	.dataset_get = http_dataset_get,
	.run_add_input = http_run_add_input,
	.run_inputs = http_run_inputs,
	.experiment_rename = http_experiment_rename,
	.experiment_set_deleted = http_experiment_set_deleted,
	.experiment_set_tag = http_experiment_set_tag,
	.experiment_tags = http_experiment_tags,
	.run_update = http_run_update,
	.run_set_deleted = http_run_set_deleted,
	.run_delete_tag = http_run_delete_tag,
	.metric_history_page = http_metric_history_page,
	.run_log_batch = http_run_log_batch,
	.run_search = http_run_search,
	.experiment_search = http_experiment_search,
};
