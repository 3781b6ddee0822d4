/* The built-in pipeline steps: train, eval and register through ml/, track/ and registry/. */
#include "util/common.h"
#include "pipeline/steps.h"
#include "data/cas.h"
#include "ml/model.h"
#include "ml/params.h"
#include "ml/score.h"
#include "ml/train.h"
#include "registry/registry.h"
#include "store/store.h"
#include "track/tracking.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/parse.h"
#include "util/strbuf.h"

static const char *opt(const struct stage *st, const char *key)
{
	return json_string_value(json_object_get(st->step, key));
}

static char *abs_of(const struct step_env *env, const char *rel)
{
	return fs_path_join(env->root, rel);
}

static void say(const struct step_env *env, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void say(const struct step_env *env, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	if (env->say)
		env->say(env->data, sb.buf);
	strbuf_release(&sb);
}

static void lock_mu(const struct step_env *env)
{
	if (env->mu)
		pthread_mutex_lock(env->mu);
}

static void unlock_mu(const struct step_env *env)
{
	if (env->mu)
		pthread_mutex_unlock(env->mu);
}

/* Numbers of metrics (flat) as "metric.NAME=VALUE" lines and into the metrics file. */
static int write_metrics(const struct step_env *env, const struct stage *st, const json_t *metrics,
			 struct error *err)
{
	const char *file = opt(st, "metrics"), *key;
	json_t *v, *nums = json_object();
	int rc = 0;

	json_object_foreach((json_t *)metrics, key, v) {
		char buf[FORMAT_DOUBLE_SIZE];

		if (!json_is_number(v))
			continue;
		json_object_set(nums, key, v);
		format_double(buf, json_number_value(v));
		say(env, "metric.%s=%s", key, buf);
	}
	if (file) {
		char *path = abs_of(env, file);

		rc = json_dump_file_atomic(nums, path, err);
		free(path);
	}
	if (!rc && env->tracking && env->run_id[0]) {
		lock_mu(env);
		rc = track_log_metrics_json(env->tracking, env->run_id, nums, 0, err);
		unlock_mu(env);
	}
	json_decref(nums);
	return rc;
}

/* "NA,NaN" into tokens (in place in copy, which the caller frees); as `ferry train --na`. */
static size_t split_na(const char ***out, char **copy, const char *na)
{
	size_t n = 1;

	*copy = xstrdup(na);
	for (const char *p = na; *p; p++)
		n += *p == ',';
	*out = xcalloc(n + 1, sizeof(char *));
	n = 0;
	for (char *p = *copy;; p++) {
		char *comma = strchr(p, ',');

		(*out)[n++] = p;
		if (!comma)
			break;
		*comma = '\0';
		p = comma;
	}
	return n;
}

static int parse_task(enum task_request *out, const char *s, struct error *err)
{
	*out = TASK_AUTO;
	if (!s)
		return 0;
	if (!strcmp(s, "classification"))
		*out = TASK_CLASSIFICATION;
	else if (!strcmp(s, "regression"))
		*out = TASK_WANT_REGRESSION;
	else
		return error_set(err, ERR_INVALID,
				 "train: task expects classification or regression, got '%s'", s);
	return 0;
}

static int number(double *out, const struct stage *st, const char *key, double def,
		  struct error *err)
{
	const char *s = opt(st, key);

	*out = def;
	if (s && parse_double(s, out))
		return error_set(err, ERR_INVALID,
				 "stage '%s': train: %s: expected a number, got '%s'", st->name,
				 key, s);
	return 0;
}

/* train's options as `ferry train` takes them, into o and cfg. */
static int train_setup(struct train_options *o, struct trainer_config *cfg,
		       struct param_list *plist, const char ***drop, const struct stage *st,
		       const struct step_env *env, struct error *err)
{
	const char *key;
	json_t *v, *drops = json_object_get(st->step, "drop");
	enum model_kind kind;
	double cv, seed;
	int rc = model_kind_parse(&kind, opt(st, "model") ? opt(st, "model") : "logreg", err);

	if (!rc)
		rc = parse_task(&o->task, opt(st, "task"), err);
	if (rc)
		return rc;
	trainer_config_release(cfg);
	trainer_config_init(cfg, kind);
	if (opt(st, "params")) {
		char *spec = abs_of(env, opt(st, "params"));

		rc = param_list_load(plist, spec, err);
		free(spec);
	}
	json_object_foreach(json_object_get(st->step, "param"), key, v) {
		char *arg = xstrfmt("%s=%s", key, json_string_value(v));

		if (!rc)
			rc = param_list_add_arg(plist, arg, err);
		free(arg);
	}
	if (!rc)
		rc = trainer_config_apply(cfg, plist, err);
	if (!rc)
		rc = number(&o->test_size, st, "test_size", 0.2, err);
	if (!rc)
		rc = number(&cv, st, "cv", 0, err);
	if (!rc)
		rc = number(&seed, st, "seed", 42, err);
	if (rc)
		return rc;
	if (!(o->test_size > 0 && o->test_size < 1) || cv < 0 || cv == 1 || cv > 1000 ||
	    cv != (int)cv || seed < 0 || seed != (double)(uint64_t)seed)
		return error_set(err, ERR_INVALID,
				 "stage '%s': train: test_size must lie in (0, 1), cv in 2..1000 "
				 "and seed be a non-negative integer",
				 st->name);
	o->cv = (int)cv;
	o->seed = (uint64_t)seed;
	if (json_is_string(drops)) {
		*drop = xcalloc(2, sizeof(char *));
		(*drop)[o->ndrop++] = json_string_value(drops);
	} else if (json_is_array(drops)) {
		*drop = xcalloc(json_array_size(drops) + 1, sizeof(char *));
		for (size_t i = 0; i < json_array_size(drops); i++)
			(*drop)[o->ndrop++] = json_string_value(json_array_get(drops, i));
	}
	o->drop = *drop;
	o->target = opt(st, "target");
	o->data_label = opt(st, "data");
	o->cfg = cfg;
	return 0;
}

static int train_record(const struct step_env *env, const struct stage *st, const struct model *m,
			struct error *err)
{
	json_t *params =
	    json_deep_copy(json_object_get(json_object_get(m->meta, "trainer"), "params"));
	struct store_new_dataset ds = { 0 };
	struct store_kv tags[2] = { { "ferry.model.path", opt(st, "out") },
				    { "ferry.model.digest", m->digest } };
	int64_t id;
	int rc;

	json_object_set_new(params, "model", json_string(model_kind_name(m->kind)));
	json_object_set_new(params, "target", json_string(m->target.name));
	json_object_set_new(params, "data", json_string(opt(st, "data")));
	ds.name = ds.path = opt(st, "data");
	ds.digest = json_string_value(json_object_get(json_object_get(m->meta, "data"), "digest"));
	ds.size = -1;
	lock_mu(env);
	rc = track_log_params_json(env->tracking, env->run_id, params, err);
	if (!rc && ds.digest)
		rc = store_dataset_record(env->tracking, &id, &ds, err);
	if (!rc && ds.digest)
		rc = store_run_add_input(env->tracking, env->run_id, id, "training", err);
	if (!rc)
		rc = store_run_set_tags(env->tracking, env->run_id, tags, ARRAY_SIZE(tags), err);
	unlock_mu(env);
	json_decref(params);
	return rc;
}

static int run_train(const struct stage *st, const struct step_env *env, struct error *err)
{
	struct train_options o = { 0 };
	struct trainer_config cfg;
	struct param_list plist = PARAM_LIST_INIT;
	struct train_timings t;
	const char **drop = NULL, **na_tokens = NULL;
	char *na_copy = NULL;
	char *data = abs_of(env, opt(st, "data")), *out = abs_of(env, opt(st, "out"));
	struct model m;
	int rc;

	model_init(&m);
	trainer_config_init(&cfg, MODEL_LOGREG);
	rc = train_setup(&o, &cfg, &plist, &drop, st, env, err);
	o.data = data;
	if (opt(st, "na")) {
		o.n_na = split_na(&na_tokens, &na_copy, opt(st, "na"));
		o.na_tokens = na_tokens;
	}
	if (!rc)
		rc = model_check_destination(out, err);
	if (!rc)
		rc = train_model(&m, &t, &o, err);
	if (!rc)
		rc = model_save(&m, out, err);
	if (!rc && env->tracking && env->run_id[0])
		rc = train_record(env, st, &m, err);
	if (!rc) {
		say(env, "model=%s", model_kind_name(m.kind));
		say(env, "artifact=%s", opt(st, "out"));
		say(env, "artifact.digest=%s", m.digest);
		rc = write_metrics(
		    env, st, json_object_get(json_object_get(m.meta, "evaluation"), "metrics"),
		    err);
	}
	model_release(&m);
	trainer_config_release(&cfg);
	param_list_release(&plist);
	free(drop);
	free(na_tokens);
	free(na_copy);
	free(data);
	free(out);
	return rc;
}

static int run_eval(const struct stage *st, const struct step_env *env, struct error *err)
{
	struct score_options so = SCORE_OPTIONS_INIT;
	char *dir = abs_of(env, opt(st, "model")), *data = abs_of(env, opt(st, "data"));
	const char *na = opt(st, "na"), *unseen = opt(st, "unseen");
	const char **na_tokens = NULL;
	char *na_copy = NULL;
	json_t *metrics = NULL;
	struct model m;
	int rc = 0;

	model_init(&m);
	so.input = data;
	if (na) {
		so.n_na = split_na(&na_tokens, &na_copy, na);
		so.na_tokens = na_tokens;
	}
	if (unseen && !strcmp(unseen, "ignore"))
		so.unseen = UNSEEN_IGNORE;
	else if (unseen && strcmp(unseen, "error"))
		rc = error_set(err, ERR_INVALID,
			       "stage '%s': eval: unseen expects error or ignore, got '%s'",
			       st->name, unseen);
	if (!rc)
		rc = model_load(&m, dir, err);
	if (!rc)
		rc = score_evaluate(&m, &so, &metrics, err);
	if (!rc && env->tracking && env->run_id[0]) {
		struct store_kv tags[1] = { { "ferry.model.digest", m.digest } };

		lock_mu(env);
		rc = store_run_set_tags(env->tracking, env->run_id, tags, 1, err);
		unlock_mu(env);
	}
	if (!rc)
		rc = write_metrics(env, st, metrics, err);
	json_decref(metrics);
	model_release(&m);
	free(na_tokens);
	free(na_copy);
	free(dir);
	free(data);
	return rc;
}

static int run_register(const struct stage *st, const struct step_env *env, struct error *err)
{
	struct registry_register_options o = { 0 };
	char *dir = abs_of(env, opt(st, "model"));
	char run_id[ID_HEX_LEN + 1] = "";
	int64_t version = 0;
	int rc;

	if (!env->store) {
		free(dir);
		return error_set(err, ERR_INVALID, "stage '%s': register needs a ferry project",
				 st->name);
	}
	o.name = opt(st, "name");
	o.description = opt(st, "description");
	o.user = track_user_name();
	lock_mu(env);
	rc = registry_register_dir(env->store, env->cas, &version, run_id, dir, &o, err);
	unlock_mu(env);
	if (!rc) {
		say(env, "model.name=%s", o.name);
		say(env, "model.version=%" PRId64, version);
	}
	free(dir);
	return rc;
}

int step_run(const struct stage *st, const struct step_env *env, struct error *err)
{
	switch (st->kind) {
	case STAGE_TRAIN:
		return run_train(st, env, err);
	case STAGE_EVAL:
		return run_eval(st, env, err);
	case STAGE_REGISTER:
		return run_register(st, env, err);
	case STAGE_CMD:
		break;
	}
	BUG("step_run on a cmd stage");
}
