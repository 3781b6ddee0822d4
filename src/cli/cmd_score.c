/* `ferry eval` and `ferry predict`: use a saved model on new CSV data. */
#include "util/common.h"
#include "cli/cli.h"
#include "cli/ml_common.h"
#include "cli/models_common.h"
#include "cli/options.h"
#include "cli/output.h"
#include "ml/model.h"
#include "ml/score.h"
#include "util/progress.h"
#include "util/sha256.h"

static const char *const eval_usage[] = {
	"ferry eval MODEL --data FILE [options]",
	"",
	"Scores FILE (CSV holding the model's feature columns and its target column) with the",
	"model at MODEL and prints the metrics as metric.NAME=VALUE lines. MODEL is a model",
	"directory or a registered version: models:/NAME/3, models:/NAME@ALIAS, "
	"models:/NAME/STAGE.",
	NULL,
};

static const char *const predict_usage[] = {
	"ferry predict MODEL --data FILE --out PREDICTIONS [options]",
	"",
	"Scores every row of FILE with the model at MODEL (a directory or models:/NAME/3,",
	"models:/NAME@ALIAS, ...), streaming, and writes PREDICTIONS (CSV):",
	"[ID,] prediction[, probability_CLASS...], one line per input row, in order. Other columns",
	"of FILE are ignored. PREDICTIONS appears complete or not at all.",
	NULL,
};

static int parse_unseen(enum unseen_policy *out, const char *s, struct error *err)
{
	if (!strcmp(s, "error"))
		*out = UNSEEN_ERROR;
	else if (!strcmp(s, "ignore"))
		*out = UNSEEN_IGNORE;
	else
		return error_set(err, ERR_USAGE, "--unseen expects error or ignore, got '%s'", s);
	return 0;
}

/* What eval and predict share: the model, the input and the options about its values. */
struct score_args {
	const char *data, *unseen, *na;
	struct ml_tokens na_tokens;
	struct model m;
	struct score_options so;
	char digest[MODEL_DIGEST_SIZE]; /* the model's, kept after it is released */
};

#define SCORE_ARGS_INIT                                                                            \
	{                                                                                          \
		.unseen = "error", .na_tokens = ML_TOKENS_INIT, .so = SCORE_OPTIONS_INIT           \
	}

static int score_setup(struct score_args *a, int nargs, const char **argv, const char *cmd,
		       struct ctx *ctx)
{
	struct strbuf dir = STRBUF_INIT;
	struct stat st;
	int rc;

	if (nargs != 1)
		return error_set(&ctx->err, ERR_USAGE, "'ferry %s' takes exactly one MODEL", cmd);
	if (!a->data)
		return error_set(&ctx->err, ERR_USAGE, "'ferry %s' needs --data FILE", cmd);
	if ((rc = parse_unseen(&a->so.unseen, a->unseen, &ctx->err)))
		return rc;
	if (a->na)
		ml_tokens_split(&a->na_tokens, a->na);
	a->so.input = a->data;
	a->so.na_tokens = a->na_tokens.v;
	a->so.n_na = a->na_tokens.nr;
	rc = cli_model_dir(ctx, &dir, argv[0], NULL);
	if (!rc)
		rc = model_load(&a->m, dir.buf, &ctx->err);
	strbuf_release(&dir);
	if (rc)
		return rc;
	memcpy(a->digest, a->m.digest, sizeof(a->digest));
	a->so.progress = progress_start("scoring", stat(a->data, &st) ? 0 : (uint64_t)st.st_size,
					PROGRESS_BYTES, ctx->quiet || ctx->json);
	return 0;
}

static void score_release(struct score_args *a)
{
	progress_finish(a->so.progress);
	a->so.progress = NULL;
	model_release(&a->m);
	ml_tokens_release(&a->na_tokens);
}

#define SCORE_OPTIONS(a)                                                                           \
	OPT_STRING(0, "data", &(a).data, "FILE", "the CSV file to score"),                         \
	    OPT_STRING(0, "unseen", &(a).unseen, "POLICY",                                         \
		       "a category not seen in training: error (default) or ignore (all zeros)"),  \
	    OPT_STRING(0, "na", &(a).na, "TOKENS", "values that also mean missing, e.g. NA,NaN")

int cmd_eval(int argc, const char **argv, struct ctx *ctx)
{
	struct score_args a = SCORE_ARGS_INIT;
	struct option opts[] = { SCORE_OPTIONS(a), OPT_END() };
	char hex[SHA256_HEX_SIZE];
	json_t *metrics = NULL;
	int nargs, rc;

	model_init(&a.m);
	rc = parse_options(&nargs, argc, argv, opts, eval_usage, ctx);
	if (!rc)
		rc = score_setup(&a, nargs, argv, "eval", ctx);
	if (!rc)
		rc = score_evaluate(&a.m, &a.so, &metrics, &ctx->err);
	if (!rc)
		rc = sha256_file(hex, a.data, &ctx->err);
	score_release(&a);
	if (rc)
		goto out;
	if (ctx->json) {
		json_t *j = json_pack("{s:s, s:s, s:s, s:s+, s:O}", "model", argv[0],
				      "model_digest", a.digest, "dataset", a.data, "dataset_digest",
				      "sha256:", hex, "metrics", metrics);

		output_json(j);
		json_decref(j);
	} else {
		printf("model=%s\n", argv[0]);
		printf("model.digest=%s\n", a.digest);
		printf("dataset=%s\n", a.data);
		printf("dataset.digest=sha256:%s\n", hex);
		printf("rows=%" JSON_INTEGER_FORMAT "\n",
		       json_integer_value(json_object_get(metrics, "rows")));
		json_object_del(metrics, "rows");
		ml_print_metrics(metrics, NULL);
	}
out:
	json_decref(metrics);
	return rc;
}

int cmd_predict(int argc, const char **argv, struct ctx *ctx)
{
	struct score_args a = SCORE_ARGS_INIT;
	const char *out = NULL, *id = NULL;
	struct option opts[] = {
		SCORE_OPTIONS(a),
		OPT_STRING(0, "out", &out, "FILE", "where to write the predictions (CSV)"),
		OPT_STRING(0, "id", &id, "COLUMN", "copy this input column into the output"),
		OPT_END(),
	};
	uint64_t rows = 0;
	int nargs, rc;

	model_init(&a.m);
	rc = parse_options(&nargs, argc, argv, opts, predict_usage, ctx);
	if (!rc && !out && nargs == 1)
		rc = error_set(&ctx->err, ERR_USAGE, "'ferry predict' needs --out FILE");
	a.so.output = out;
	a.so.id_column = id;
	if (!rc)
		rc = score_setup(&a, nargs, argv, "predict", ctx);
	if (!rc)
		rc = score_predict(&a.m, &a.so, &rows, &ctx->err);
	score_release(&a);
	if (rc)
		return rc;
	if (ctx->json) {
		json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:I}", "model", argv[0], "model_digest",
				      a.digest, "dataset", a.data, "predictions", out, "rows",
				      (json_int_t)rows);

		output_json(j);
		json_decref(j);
	} else {
		printf("model=%s\nmodel.digest=%s\ndataset=%s\nrows=%" PRIu64 "\npredictions=%s\n",
		       argv[0], a.digest, a.data, rows, out);
	}
	return 0;
}
