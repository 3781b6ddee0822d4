/*
 * Reproducing a registered version (registry/reproduce.h): the training its model.json records
 * (data version, target, features, trainer and parameters, evaluation and seed) is run again
 * and the new artifact digest and metrics are compared with the registered ones.
 */
#include "util/common.h"
#include "registry/reproduce.h"

#include <math.h>

#include "data/cas.h"
#include "ml/train.h"
#include "util/fs.h"
#include "util/sha256.h"
#include "util/strbuf.h"

void registry_reproduction_release(struct registry_reproduction *r)
{
	json_decref(r->recorded_metrics);
	json_decref(r->metrics);
	free(r->data_file);
	free(r->recorded_versions);
	free(r->versions);
	memset(r, 0, sizeof(*r));
}

/*
 * The bytes the model was trained on: the object cache has them when the data was versioned
 * (`ferry data add`); else the file at the recorded path if it still has that digest.
 */
static int find_data(char **out, struct cas *cas, const char *root, const char *path,
		     const char *digest, struct error *err)
{
	char hex[SHA256_HEX_SIZE];
	char *candidate;

	if (!digest || strncmp(digest, "sha256:", 7) || strlen(digest) != 7 + SHA256_HEX_SIZE - 1)
		return error_set(err, ERR_INVALID, "the model records no usable data digest");
	if (cas && cas_has(cas, digest + 7) == 1) {
		*out = cas_object_path(cas, digest + 7);
		return 0;
	}
	candidate = path[0] == '/' || !root ? xstrdup(path) : fs_path_join(root, path);
	if (fs_exists(candidate) && !sha256_file(hex, candidate, err) && !strcmp(hex, digest + 7)) {
		*out = candidate;
		return 0;
	}
	if (!fs_exists(candidate) || strcmp(path, candidate)) {
		free(candidate);
		candidate = xstrdup(path);
		if (fs_exists(candidate) && !sha256_file(hex, candidate, err) &&
		    !strcmp(hex, digest + 7)) {
			*out = candidate;
			return 0;
		}
	}
	free(candidate);
	return error_set(err, ERR_NOTFOUND,
			 "the training data %s (%s) is neither in the object cache nor at that "
			 "path any more: 'ferry data pull' it, or check out the commit that has it",
			 path, digest);
}

/* The trainer configuration model.json records. */
static int config_from_meta(struct trainer_config *cfg, const json_t *trainer, struct error *err)
{
	struct param_list params = PARAM_LIST_INIT;
	enum model_kind kind;
	const char *key;
	json_t *v;
	int rc;

	if ((rc = model_kind_parse(&kind,
				   json_string_value(json_object_get(trainer, "name"))
				       ? json_string_value(json_object_get(trainer, "name"))
				       : "",
				   err)))
		return rc;
	trainer_config_release(cfg);
	trainer_config_init(cfg, kind);
	json_object_foreach((json_t *)json_object_get(trainer, "params"), key, v) {
		char *arg;

		/* xgboost's seed is the training seed (evaluation.seed), not a parameter */
		if (!strcmp(key, "seed"))
			continue;
		if (json_is_string(v))
			arg = xstrfmt("%s=%s", key, json_string_value(v));
		else if (json_is_integer(v))
			arg = xstrfmt("%s=%" JSON_INTEGER_FORMAT, key, json_integer_value(v));
		else if (json_is_real(v))
			arg = xstrfmt("%s=%.17g", key, json_real_value(v));
		else if (json_is_boolean(v))
			arg = xstrfmt("%s=%s", key, json_is_true(v) ? "true" : "false");
		else
			continue;
		rc = param_list_add_arg(&params, arg, err);
		free(arg);
		if (rc)
			goto out;
	}
	rc = trainer_config_apply(cfg, &params, err);
out:
	param_list_release(&params);
	return rc;
}

static const char **string_array(const json_t *arr, size_t *n)
{
	const char **v = xcalloc(json_array_size(arr) + 1, sizeof(*v));
	size_t i;
	json_t *x;

	*n = 0;
	json_array_foreach((json_t *)arr, i, x)
		if (json_is_string(x))
			v[(*n)++] = json_string_value(x);
	return v;
}

/* Numeric metrics of an evaluation object, equal when every number agrees to 1e-12. */
static json_t *numbers_of(const json_t *metrics)
{
	json_t *out = json_object();
	const char *key;
	json_t *v;

	json_object_foreach((json_t *)metrics, key, v)
		if (json_is_number(v))
			json_object_set(out, key, v);
	return out;
}

static bool metrics_equal(const json_t *a, const json_t *b)
{
	const char *key;
	json_t *v;

	if (json_object_size(a) != json_object_size(b))
		return false;
	json_object_foreach((json_t *)a, key, v) {
		const json_t *w = json_object_get(b, key);
		double x = json_number_value(v), y = json_number_value(w);

		if (!w || !(x == y || fabs(x - y) <= 1e-12 * fmax(fabs(x), fabs(y))))
			return false;
	}
	return true;
}

static char *versions_text(const json_t *versions)
{
	return versions ? json_dumps(versions, JSON_COMPACT | JSON_SORT_KEYS) : xstrdup("{}");
}

int registry_reproduce(struct registry_reproduction *out, struct cas *cas, const char *root,
		       const struct model *recorded, const char *workdir, struct error *err)
{
	const json_t *meta = recorded->meta;
	const json_t *data = json_object_get(meta, "data");
	const json_t *eval = json_object_get(meta, "evaluation");
	struct registry_reproduction r = { 0 };
	struct train_options o = { 0 };
	struct train_timings timings;
	struct trainer_config cfg;
	const char **drop = NULL, **na = NULL;
	const char *path = json_string_value(json_object_get(data, "path"));
	const char *method = json_string_value(json_object_get(eval, "method"));
	char *dir = NULL;
	struct model m;
	int rc;

	model_init(&m);
	trainer_config_init(&cfg, MODEL_LOGREG);
	if (!path || !method) {
		rc =
		    error_set(err, ERR_INVALID, "the model records no training data or evaluation");
		goto out;
	}
	if ((rc = find_data(&r.data_file, cas, root, path,
			    json_string_value(json_object_get(data, "digest")), err)) ||
	    (rc = config_from_meta(&cfg, json_object_get(meta, "trainer"), err)))
		goto out;
	drop =
	    string_array(json_object_get(json_object_get(meta, "features"), "dropped"), &o.ndrop);
	na = string_array(json_object_get(data, "na_tokens"), &o.n_na);
	o.drop = drop;
	o.na_tokens = na;
	o.data = r.data_file;
	o.data_label = path;
	o.target = recorded->target.name;
	o.task =
	    recorded->target.task == TASK_REGRESSION ? TASK_WANT_REGRESSION : TASK_CLASSIFICATION;
	o.cfg = &cfg;
	o.seed = (uint64_t)json_integer_value(json_object_get(eval, "seed"));
	if (!strcmp(method, "cv"))
		o.cv = (int)json_integer_value(json_object_get(eval, "folds"));
	else
		o.test_size = json_number_value(json_object_get(eval, "test_size"));
	if ((rc = train_model(&m, &timings, &o, err)))
		goto out;
	dir = fs_path_join(workdir, "model");
	if ((rc = model_save(&m, dir, err)))
		goto out;
	memcpy(r.digest, m.digest, sizeof(r.digest));
	r.digest_matches = !strcmp(m.digest, recorded->digest);
	r.recorded_metrics = numbers_of(json_object_get(eval, "metrics"));
	r.metrics = numbers_of(json_object_get(json_object_get(m.meta, "evaluation"), "metrics"));
	r.metrics_match = metrics_equal(r.recorded_metrics, r.metrics);
	r.recorded_versions = versions_text(json_object_get(meta, "versions"));
	r.versions = versions_text(json_object_get(m.meta, "versions"));
	*out = r;
	memset(&r, 0, sizeof(r));
out:
	registry_reproduction_release(&r);
	free(drop);
	free(na);
	free(dir);
	model_release(&m);
	trainer_config_release(&cfg);
	return rc;
}
