/* `ferry train`: fit a model on a CSV file, evaluate it and write the model artifact. */
#include "util/common.h"
#include "cli/artifact_common.h"
#include "cli/cli.h"
#include "cli/ml_common.h"
#include "cli/options.h"
#include "cli/output.h"
#include "cli/track_common.h"
#include "data/cas.h"
#include "registry/registry.h"
#include "ml/train.h"
#include "track/tracking.h"
#include "util/parse.h"
#include "util/progress.h"

static const char *const train_usage[] = {
	"ferry train --data FILE --target COLUMN --out DIR [options]",
	"",
	"Trains a model on FILE (CSV with a header row) to predict COLUMN from the other columns,",
	"evaluates it on a stratified holdout (--test-size, default 0.2) or by k-fold",
	"cross-validation (--cv K), and writes the model artifact to DIR. Parameters come from",
	"--params FILE[:SECTION] (YAML) and --param KEY=VALUE (which wins). Prints key=value",
	"lines: the dataset and its digest, the metrics (metric.NAME), the artifact, its digest.",
	"Inside a ferry project the training is recorded as a run (params, metrics, the data",
	"version, the model's digest) in --experiment (default: Default).",
	"logreg: C, solver (lbfgs|newton), max_iter, tol, fit_intercept, threshold.",
	"linear: alpha, fit_intercept.",
	"xgboost: n_estimators, max_depth, eta, subsample, colsample_bytree, min_child_weight,",
	"  tree_method, nthread, early_stopping_rounds, validation_fraction, threshold.",
	NULL,
};

static int parse_task(enum task_request *out, const char *s, struct error *err)
{
	if (!s)
		*out = TASK_AUTO;
	else if (!strcmp(s, "classification"))
		*out = TASK_CLASSIFICATION;
	else if (!strcmp(s, "regression"))
		*out = TASK_WANT_REGRESSION;
	else
		return error_set(err, ERR_USAGE,
				 "--task expects classification or regression, got '%s'", s);
	return 0;
}

static void print_lines(const struct train_options *o, const struct model *m, const char *out)
{
	const json_t *eval = json_object_get(m->meta, "evaluation");
	const json_t *data = json_object_get(m->meta, "data");
	const char *method = json_string_value(json_object_get(eval, "method"));

	printf("dataset=%s\n", o->data);
	printf("dataset.digest=%s\n", json_string_value(json_object_get(data, "digest")));
	printf("dataset.rows=%" JSON_INTEGER_FORMAT "\n",
	       json_integer_value(json_object_get(data, "rows")));
	printf("target=%s\n", m->target.name);
	printf("task=%s\n", task_name(m->target.task));
	printf("model=%s\n", model_kind_name(m->kind));
	if (!strcmp(method, "cv")) {
		printf("evaluation=cv\nfolds=%d\n", o->cv);
	} else {
		printf("evaluation=holdout\n");
		printf("rows.train=%" JSON_INTEGER_FORMAT "\n",
		       json_integer_value(json_object_get(eval, "rows_train")));
		printf("rows.test=%" JSON_INTEGER_FORMAT "\n",
		       json_integer_value(json_object_get(eval, "rows_test")));
	}
	ml_print_metrics(json_object_get(eval, "metrics"), json_object_get(eval, "metrics_sd"));
	printf("artifact=%s\n", out);
	printf("artifact.digest=%s\n", m->digest);
}

static json_t *result_json(const struct train_options *o, const struct model *m, const char *out,
			   const struct train_timings *t)
{
	json_t *data = json_deep_copy(json_object_get(m->meta, "data"));

	json_object_del(data, "profile");
	return json_pack("{s:o, s:s, s:s, s:s, s:O, s:O, s:s, s:s, s:{s:f, s:f, s:f}}", "dataset",
			 data, "target", m->target.name, "task", task_name(m->target.task), "model",
			 model_kind_name(m->kind), "evaluation",
			 json_object_get(m->meta, "evaluation"), "trainer",
			 json_object_get(m->meta, "trainer"), "artifact", out, "artifact_digest",
			 m->digest, "seconds", "load", t->load_seconds, "evaluate", t->eval_seconds,
			 "fit", t->fit_seconds);
	(void)o;
}

/* What a training run records: parameters, metrics, the data version as input, the model. */
static int record_run(struct ctx *ctx, const char *run_id, const struct train_options *o,
		      const struct model *m, const char *out)
{
	const json_t *eval = json_object_get(m->meta, "evaluation");
	const json_t *data = json_object_get(m->meta, "data");
	const json_t *sd = json_object_get(eval, "metrics_sd");
	json_t *params =
	    json_deep_copy(json_object_get(json_object_get(m->meta, "trainer"), "params"));
	json_t *metrics = json_object();
	struct store_new_dataset ds = { 0 };
	struct store_kv tags[3];
	const char *key;
	json_t *v;
	int64_t dataset_id;
	int rc;

	json_object_set_new(params, "model", json_string(model_kind_name(m->kind)));
	json_object_set_new(params, "target", json_string(m->target.name));
	json_object_set_new(params, "data", json_string(o->data));
	json_object_set_new(params, "seed", json_integer((json_int_t)o->seed));
	json_object_set_new(params, "evaluation", json_string(o->cv ? "cv" : "holdout"));
	if (o->cv)
		json_object_set_new(params, "cv", json_integer(o->cv));
	else
		json_object_set_new(params, "test_size", json_real(o->test_size));
	json_object_foreach((json_t *)json_object_get(eval, "metrics"), key, v) {
		if (!json_is_number(v))
			continue;
		json_object_set(metrics, key, v);
		if (json_object_get(sd, key)) {
			char *name = xstrfmt("%s_sd", key);

			json_object_set(metrics, name, json_object_get(sd, key));
			free(name);
		}
	}
	ds.name = o->data;
	ds.path = o->data;
	ds.digest = json_string_value(json_object_get(data, "digest"));
	ds.size = -1;
	tags[0] = (struct store_kv){ "ferry.model.path", out };
	tags[1] = (struct store_kv){ "ferry.model.digest", m->digest };
	tags[2] = (struct store_kv){ "ferry.task", task_name(m->target.task) };
	if (!(rc = track_log_params_json(ctx->tracking, run_id, params, &ctx->err)) &&
	    !(rc = track_log_metrics_json(ctx->tracking, run_id, metrics, 0, &ctx->err)) &&
	    !(rc = store_dataset_record(ctx->tracking, &dataset_id, &ds, &ctx->err)) &&
	    !(rc = store_run_add_input(ctx->tracking, run_id, dataset_id, "training", &ctx->err)))
		rc = store_run_set_tags(ctx->tracking, run_id, tags, ARRAY_SIZE(tags), &ctx->err);
	/* the model's files, as MLflow's log_model keeps them: artifacts under model/ */
	if (!rc)
		rc = cli_log_artifact_dir(ctx, run_id, "model", out, NULL);
	json_decref(params);
	json_decref(metrics);
	return rc;
}

/* train --register: the run's model becomes the next version of name. */
static int register_model(struct ctx *ctx, int64_t *version, const char *name, const char *run_id)
{
	struct registry_register_options o = { 0 };
	struct cas *cas = NULL;
	int rc = cli_artifact_cas(&cas, ctx);

	o.name = name;
	o.run_id = run_id;
	o.user = track_user_name();
	if (!rc)
		rc = registry_register_run(ctx->store, cas, version, &o, &ctx->err);
	cas_free(cas);
	return rc;
}

int cmd_train(int argc, const char **argv, struct ctx *ctx)
{
	const char *data = NULL, *target = NULL, *out = NULL, *model = "logreg", *task = NULL;
	const char *test_size = "0.2", *params_file = NULL, *na = NULL;
	const char *experiment = NULL, *run_name = NULL, *register_as = NULL;
	int64_t cv = 0, seed = 42;
	struct option_list params = OPTION_LIST_INIT, drops = OPTION_LIST_INIT;
	struct option opts[] = {
		OPT_STRING(0, "data", &data, "FILE", "training data (CSV with a header row)"),
		OPT_STRING(0, "target", &target, "COLUMN", "the column to predict"),
		OPT_STRING(0, "out", &out, "DIR", "where to write the model artifact"),
		OPT_STRING(0, "model", &model, "NAME", "logreg (default), linear or xgboost"),
		OPT_STRING(0, "task", &task, "TASK",
			   "classification or regression (default: from the model and target)"),
		OPT_STRING(0, "test-size", &test_size, "F", "holdout share (default 0.2)"),
		OPT_INT(0, "cv", &cv, "K", "evaluate by K-fold cross-validation instead"),
		OPT_INT(0, "seed", &seed, "N", "seed of the splits and the trainer (default 42)"),
		OPT_LIST(0, "param", &params, "KEY=VALUE", "a training parameter (repeatable)"),
		OPT_STRING(0, "params", &params_file, "FILE[:SECTION]", "parameters from YAML"),
		OPT_LIST(0, "drop", &drops, "COLUMNS",
			 "columns not to use as features (repeatable)"),
		OPT_STRING(0, "na", &na, "TOKENS", "values that also mean missing, e.g. NA,NaN"),
		OPT_STRING(0, "experiment", &experiment, "NAME",
			   "record the run in this experiment (in a project; default: Default)"),
		OPT_STRING(0, "run-name", &run_name, "NAME", "the run's name (default: generated)"),
		OPT_STRING(0, "register", &register_as, "NAME",
			   "register the model as the next version of NAME (in a project)"),
		OPT_END(),
	};
	char run_id[ID_HEX_LEN + 1] = "";
	char *command = cli_command_line("ferry", argc, argv);
	struct train_options o = { 0 };
	struct trainer_config cfg;
	struct param_list plist = PARAM_LIST_INIT;
	struct ml_tokens drop_tokens = ML_TOKENS_INIT, na_tokens = ML_TOKENS_INIT;
	struct train_timings timings;
	struct stat st;
	enum model_kind kind;
	struct model m;
	int64_t stored = 0, version = 0;
	int nargs, rc;

	model_init(&m);
	trainer_config_init(&cfg, MODEL_LOGREG);
	rc = parse_options(&nargs, argc, argv, opts, train_usage, ctx);
	if (rc)
		goto out;
	if (nargs) {
		rc = error_set(&ctx->err, ERR_USAGE, "unexpected argument '%s'", argv[0]);
		goto out;
	}
	if (!data || !target || !out) {
		rc = error_set(&ctx->err, ERR_USAGE,
			       "'ferry train' needs --data, --target and --out");
		goto out;
	}
	if ((rc = model_kind_parse(&kind, model, &ctx->err)) ||
	    (rc = parse_task(&o.task, task, &ctx->err)))
		goto out;
	trainer_config_init(&cfg, kind);
	if (params_file && (rc = param_list_load(&plist, params_file, &ctx->err)))
		goto out;
	for (size_t i = 0; i < params.nr; i++)
		if ((rc = param_list_add_arg(&plist, params.v[i], &ctx->err)))
			goto out;
	if ((rc = trainer_config_apply(&cfg, &plist, &ctx->err)))
		goto out;
	if (parse_double(test_size, &o.test_size) || !(o.test_size > 0 && o.test_size < 1)) {
		rc = error_set(&ctx->err, ERR_USAGE,
			       "--test-size expects a number between 0 and 1 (exclusive), got '%s'",
			       test_size);
		goto out;
	}
	if (cv == 1 || cv < 0 || cv > 1000) {
		rc = error_set(&ctx->err, ERR_USAGE, "--cv expects 2 to 1000 folds, got %" PRId64,
			       cv);
		goto out;
	}
	if (seed < 0) {
		rc = error_set(&ctx->err, ERR_USAGE, "--seed expects a non-negative integer");
		goto out;
	}
	for (size_t i = 0; i < drops.nr; i++)
		ml_tokens_split(&drop_tokens, drops.v[i]);
	if (na)
		ml_tokens_split(&na_tokens, na);
	o.data = data;
	o.target = target;
	o.drop = drop_tokens.v;
	o.ndrop = drop_tokens.nr;
	o.na_tokens = na_tokens.v;
	o.n_na = na_tokens.nr;
	o.cfg = &cfg;
	o.cv = (int)cv;
	o.seed = (uint64_t)seed;
	/* fail before the work, not after it */
	if ((rc = model_check_destination(out, &ctx->err)))
		goto out;
	/* in a project, the training is a run: started now, so that a failure is recorded too */
	if ((rc = cli_open_if_project(ctx)))
		goto out;
	if (register_as && !cli_artifacts_local(ctx)) {
		rc = error_set(&ctx->err, ERR_USAGE,
			       "--register needs a ferry project whose store keeps the runs "
			       "(not a tracking server)");
		goto out;
	}
	if (ctx->tracking &&
	    (rc = cli_run_start(ctx, run_id, experiment, run_name, command, "ferry train")))
		goto out;
	o.progress = progress_start("reading", stat(data, &st) ? 0 : (uint64_t)st.st_size,
				    PROGRESS_BYTES, ctx->quiet || ctx->json);
	rc = train_model(&m, &timings, &o, &ctx->err);
	progress_finish(o.progress);
	if (!rc)
		rc = model_save(&m, out, &ctx->err);
	if (!rc && run_id[0])
		rc = record_run(ctx, run_id, &o, &m, out);
	if (!rc && register_as)
		rc = register_model(ctx, &version, register_as, run_id);
	if (rc)
		goto out;
	/* the training data's profile goes with its version in the store, as drift reference */
	rc = ml_store_profile(
	    ctx, json_string_value(json_object_get(json_object_get(m.meta, "data"), "digest")),
	    json_object_get(json_object_get(m.meta, "data"), "profile"), &stored);
	if (rc)
		goto out;
	if (m.kind == MODEL_LOGREG && !m.logreg.converged && !ctx->quiet)
		fprintf(stderr,
			"warning: logreg stopped after max_iter=%d iterations before converging "
			"(tol %g); raise --param max_iter or scale the features\n",
			cfg.logreg.max_iter, cfg.logreg.tol);
	if (ctx->json) {
		json_t *j = result_json(&o, &m, out, &timings);

		if (run_id[0])
			json_object_set_new(j, "run_id", json_string(run_id));
		if (version)
			json_object_set_new(j, "registered",
					    json_pack("{s:s, s:I}", "name", register_as, "version",
						      (json_int_t)version));
		output_json(j);
		json_decref(j);
	} else {
		print_lines(&o, &m, out);
		if (run_id[0])
			printf("run_id=%s\n", run_id);
		if (version)
			printf("model.name=%s\nmodel.version=%" PRId64 "\n", register_as, version);
	}
out:
	if (run_id[0]) {
		struct error ignored = ERROR_INIT;

		/* the run says how it ended, even when the error is what gets reported */
		if (track_run_end(ctx->tracking, run_id, rc ? STORE_RUN_FAILED : STORE_RUN_FINISHED,
				  rc ? &ignored : &ctx->err) &&
		    !rc)
			rc = ctx->err.code ? ctx->err.code : ERR_STORE;
	}
	free(command);
	model_release(&m);
	trainer_config_release(&cfg);
	param_list_release(&plist);
	ml_tokens_release(&drop_tokens);
	ml_tokens_release(&na_tokens);
	free(params.v);
	free(drops.v);
	return rc;
}
