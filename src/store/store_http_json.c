/*
 * The http store's JSON mapping: MLflow's proto3 JSON answers (Experiment, Run, Metric, inputs)
 * as store structs, doubles and int64s as proto3 spells them, MLflow's error codes as ERR_*.
 */
#include "util/common.h"
#include "store/store_http_internal.h"

#include <math.h>

int store_http_error_code(const char *error_code, int status, const char *message)
{
	if (!error_code)
		return ERR_STORE;
	if (!strcmp(error_code, "RESOURCE_DOES_NOT_EXIST"))
		return ERR_NOTFOUND;
	if (!strcmp(error_code, "RESOURCE_ALREADY_EXISTS"))
		return ERR_EXISTS;
	if (!strcmp(error_code, "INVALID_PARAMETER_VALUE"))
		return message && strstr(message, "Changing param values is not allowed")
			   ? ERR_CONFLICT
			   : ERR_INVALID;
	if (!strcmp(error_code, "BAD_REQUEST"))
		return status == 405 || status == 501 ? ERR_UNSUPPORTED : ERR_INVALID;
	if (!strcmp(error_code, "NOT_IMPLEMENTED") || !strcmp(error_code, "ENDPOINT_NOT_FOUND"))
		return ERR_UNSUPPORTED;
	return ERR_STORE;
}

const char *store_http_view_name(enum store_view view)
{
	switch (view) {
	case STORE_VIEW_DELETED:
		return "DELETED_ONLY";
	case STORE_VIEW_ALL:
		return "ALL";
	default:
		return "ACTIVE_ONLY";
	}
}

json_t *store_http_double_json(double v)
{
	if (isnan(v))
		return json_string("NaN");
	if (isinf(v))
		return json_string(v > 0 ? "Infinity" : "-Infinity");
	return json_real(v);
}

bool store_http_json_double(const json_t *v, double *out)
{
	const char *s;
	char *end;

	if (json_is_number(v)) {
		*out = json_number_value(v);
		return true;
	}
	if (!json_is_string(v))
		return false;
	s = json_string_value(v);
	if (!strcmp(s, "NaN")) {
		*out = NAN;
	} else if (!strcmp(s, "Infinity") || !strcmp(s, "-Infinity")) {
		*out = *s == '-' ? -INFINITY : INFINITY;
	} else {
		if (!*s)
			return false;
		errno = 0;
		*out = strtod(s, &end);
		return !*end && !errno;
	}
	return true;
}

bool store_http_json_int64(const json_t *v, int64_t *out)
{
	const char *s;
	char *end;
	long long n;

	if (json_is_integer(v)) {
		*out = json_integer_value(v);
		return true;
	}
	if (!json_is_string(v))
		return false;
	s = json_string_value(v);
	if (!*s)
		return false;
	errno = 0;
	n = strtoll(s, &end, 10);
	if (errno || *end)
		return false;
	*out = (int64_t)n;
	return true;
}

/* Field helpers: a missing optional field is proto3's default ("", 0). */
static char *opt_str(const json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));

	return s ? xstrdup(s) : NULL;
}

/* The same, "" meaning unset as proto3 renders it. */
static char *opt_nonempty(const json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));

	return s && *s ? xstrdup(s) : NULL;
}

static int64_t opt_int(const json_t *obj, const char *key)
{
	int64_t v = 0;

	return store_http_json_int64(json_object_get(obj, key), &v) ? v : 0;
}

static bool is_deleted(const json_t *obj)
{
	const char *stage = json_string_value(json_object_get(obj, "lifecycle_stage"));

	return stage && !strcmp(stage, "deleted");
}

int store_http_parse_experiment(struct store_experiment *out, const json_t *j, struct error *err)
{
	const char *id = json_string_value(json_object_get(j, "experiment_id"));
	const char *name = json_string_value(json_object_get(j, "name"));

	if (!json_is_object(j) || !id || !*id || !name)
		return error_set(err, ERR_STORE,
				 "the tracking server sent an experiment without an id or name");
	out->id = xstrdup(id);
	out->name = xstrdup(name);
	out->artifact_location = opt_str(j, "artifact_location");
	out->deleted = is_deleted(j);
	out->creation_time = opt_int(j, "creation_time");
	out->last_update_time = opt_int(j, "last_update_time");
	return 0;
}

/* The value of tag key in a [{key, value}] list, NULL if absent. */
static const char *find_tag(const json_t *tags, const char *key)
{
	size_t i;
	json_t *t;

	json_array_foreach(tags, i, t) {
		const char *k = json_string_value(json_object_get(t, "key"));

		if (k && !strcmp(k, key)) {
			const char *v = json_string_value(json_object_get(t, "value"));

			return v ? v : "";
		}
	}
	return NULL;
}

int store_http_parse_run(struct store_run *out, const json_t *run, struct error *err)
{
	const json_t *info = json_object_get(run, "info");
	const json_t *tags = json_object_get(json_object_get(run, "data"), "tags");
	const char *id = json_string_value(json_object_get(info, "run_id"));
	const char *status = json_string_value(json_object_get(info, "status"));
	const char *exp = json_string_value(json_object_get(info, "experiment_id"));
	const char *v;
	enum store_run_status st = STORE_RUN_RUNNING;

	if (!id || !*id)
		id = json_string_value(json_object_get(info, "run_uuid"));
	if (!json_is_object(info) || !id || strlen(id) != ID_HEX_LEN || !exp)
		return error_set(err, ERR_STORE,
				 "the tracking server sent a run without a valid id or experiment");
	if (status && store_run_status_parse(&st, status, NULL) < 0)
		return error_set(err, ERR_STORE, "run '%s' has an unknown status '%s'", id, status);
	memcpy(out->id, id, ID_HEX_LEN + 1);
	out->experiment_id = xstrdup(exp);
	out->name = opt_str(info, "run_name");
	out->user = opt_str(info, "user_id");
	out->status = st;
	out->start_time = opt_int(info, "start_time");
	out->end_time = opt_int(info, "end_time");
	out->deleted = is_deleted(info);
	out->artifact_uri = opt_str(info, "artifact_uri");
	v = find_tag(tags, STORE_HTTP_TAG_GIT_COMMIT);
	out->source_git_commit = v ? xstrdup(v) : NULL;
	v = find_tag(tags, STORE_HTTP_TAG_DIRTY);
	out->source_dirty = v && !strcmp(v, "true");
	v = find_tag(tags, STORE_HTTP_TAG_COMMAND);
	out->command = v ? xstrdup(v) : NULL;
	return 0;
}

static int cmp_pair(const void *a, const void *b)
{
	return strcmp(((const struct store_pair *)a)->key, ((const struct store_pair *)b)->key);
}

int store_http_parse_pairs(struct store_pairs *out, const json_t *list, struct error *err)
{
	struct store_pairs pairs = STORE_PAIRS_INIT;
	size_t i;
	json_t *t;

	if (list && !json_is_array(list))
		return error_set(err, ERR_STORE, "the tracking server sent a malformed key list");
	json_array_foreach(list, i, t) {
		const char *key = json_string_value(json_object_get(t, "key"));

		if (!key) {
			store_pairs_release(&pairs);
			return error_set(err, ERR_STORE,
					 "the tracking server sent an entry without a key");
		}
		ALLOC_GROW(pairs.items, pairs.nr + 1, pairs.alloc);
		pairs.items[pairs.nr].key = xstrdup(key);
		pairs.items[pairs.nr++].value = opt_str(t, "value");
	}
	if (pairs.nr)
		qsort(pairs.items, pairs.nr, sizeof(*pairs.items), cmp_pair);
	*out = pairs;
	return 0;
}

int store_http_parse_metrics(struct store_metric_points *out, const json_t *list, struct error *err)
{
	size_t i, start = out->nr;
	json_t *m;

	if (list && !json_is_array(list))
		return error_set(err, ERR_STORE,
				 "the tracking server sent a malformed metric list");
	/* checked first, so that a bad point leaves out as it was */
	json_array_foreach(list, i, m) {
		double v;

		if (!json_string_value(json_object_get(m, "key")) ||
		    (json_object_get(m, "value") &&
		     !store_http_json_double(json_object_get(m, "value"), &v)))
			return error_set(err, ERR_STORE,
					 "the tracking server sent a malformed metric");
	}
	ALLOC_GROW(out->items, start + json_array_size(list), out->alloc);
	json_array_foreach(list, i, m) {
		struct store_metric_point *p = &out->items[out->nr++];

		p->key = xstrdup(json_string_value(json_object_get(m, "key")));
		p->value = 0;
		store_http_json_double(json_object_get(m, "value"), &p->value);
		p->timestamp = opt_int(m, "timestamp");
		p->step = opt_int(m, "step");
	}
	return 0;
}

int store_http_parse_inputs(struct store_datasets *out, const json_t *inputs, struct error *err)
{
	struct store_datasets list = STORE_DATASETS_INIT;
	const json_t *a = json_object_get(inputs, "dataset_inputs");
	size_t i;
	json_t *in;

	if (a && !json_is_array(a))
		return error_set(err, ERR_STORE, "the tracking server sent malformed run inputs");
	json_array_foreach(a, i, in) {
		const json_t *d = json_object_get(in, "dataset");
		const char *context = find_tag(json_object_get(in, "tags"), STORE_HTTP_TAG_CONTEXT);
		struct store_dataset *ds;

		if (!json_is_object(d)) {
			store_datasets_release(&list);
			return error_set(err, ERR_STORE,
					 "the tracking server sent an input without a dataset");
		}
		ALLOC_GROW(list.items, list.nr + 1, list.alloc);
		ds = &list.items[list.nr++];
		memset(ds, 0, sizeof(*ds));
		ds->id = (int64_t)list.nr;
		ds->name = opt_nonempty(d, "name");
		ds->digest = opt_nonempty(d, "digest");
		ds->size = -1;
		ds->source_type = opt_nonempty(d, "source_type");
		ds->source = opt_nonempty(d, "source");
		ds->context = context && *context ? xstrdup(context) : NULL;
	}
	*out = list;
	return 0;
}
