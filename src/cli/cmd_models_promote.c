/* `ferry models promote` and `ferry models reproduce`: the registry commands that score models. */
#include "util/common.h"
#include "cli/artifact_common.h"
#include "cli/cli.h"
#include "cli/ml_common.h"
#include "cli/models_common.h"
#include "cli/options.h"
#include "cli/output.h"
#include "data/cas.h"
#include "ml/model.h"
#include "project/project.h"
#include "registry/promote.h"
#include "registry/registry.h"
#include "registry/reproduce.h"
#include "track/tracking.h"
#include "util/fs.h"
#include "util/parse.h"

static const char *const promote_usage[] = {
	"ferry models promote NAME VERSION --to ALIAS [--gate EXPR --data FILE] [options]",
	"",
	"Moves ALIAS to VERSION. With --gate, VERSION (the challenger) and the version ALIAS",
	"points to now (the champion) are first scored on the same labelled FILE, both sets of",
	"metrics are printed, and the alias moves only if the gate holds, e.g.",
	"  --gate 'f1 >= champion'   --gate 'auc >= 0.9 and log_loss <= champion + 0.01'",
	"If ALIAS moved while the versions were being scored, nothing changes (exit 1).",
	"Conditions against the champion hold when the alias has no version yet.",
	NULL,
};

static const char *const reproduce_usage[] = {
	"ferry models reproduce MODEL",
	"",
	"Retrains a registered version from what it records (the data version, target, features,",
	"trainer, parameters, evaluation and seed) and reports whether the new artifact is",
	"bit-identical (same digest) and the metrics equal. Exit 1 when they differ.",
	NULL,
};

static void print_metrics_side_by_side(const struct registry_promotion *res, int64_t challenger)
{
	const char *key;
	json_t *v;

	char head[32];

	snprintf(head, sizeof(head), "challenger v%" PRId64, challenger);
	printf("%-12s %16s", "metric", head);
	if (res->champion_metrics) {
		snprintf(head, sizeof(head), "champion v%" PRId64, res->champion);
		printf(" %16s", head);
	}
	printf("\n");
	json_object_foreach(res->challenger_metrics, key, v) {
		const json_t *w = json_object_get(res->champion_metrics, key);

		if (!json_is_number(v) || !strcmp(key, "rows"))
			continue;
		printf("%-12s %16.6g", key, json_number_value(v));
		if (res->champion_metrics)
			printf(" %16.6g", json_number_value(w));
		printf("\n");
	}
}

static void print_promotion(struct ctx *ctx, const struct registry_promote_options *o,
			    const struct registry_promotion *res, int rc)
{
	if (ctx->json) {
		json_t *j =
		    json_pack("{s:s, s:I, s:s, s:o, s:b, s:b, s:O?, s:O?, s:s}", "name", o->name,
			      "version", (json_int_t)o->version, "alias", o->alias, "champion",
			      res->champion ? json_integer(res->champion) : json_null(), "passed",
			      res->passed && !rc, "moved", res->moved, "challenger_metrics",
			      res->challenger_metrics, "champion_metrics", res->champion_metrics,
			      "gate", res->report.len ? res->report.buf : "");

		output_json(j);
		json_decref(j);
		return;
	}
	if (res->evaluated)
		print_metrics_side_by_side(res, o->version);
	if (res->report.len)
		printf("gate:\n%s", res->report.buf);
	if (res->moved && res->champion)
		printf("%s@%s: version %" PRId64 " -> %" PRId64 "\n", o->name, o->alias,
		       res->champion, o->version);
	else if (res->moved)
		printf("%s@%s: (unset) -> version %" PRId64 "\n", o->name, o->alias, o->version);
	else if (!rc && res->champion == o->version)
		printf("%s@%s already points to version %" PRId64 "\n", o->name, o->alias,
		       o->version);
}

int models_promote(int argc, const char **argv, struct ctx *ctx)
{
	const char *alias = NULL, *gate = NULL, *data = NULL, *reason = NULL, *na = NULL;
	struct option opts[] = {
		OPT_STRING(0, "to", &alias, "ALIAS", "the alias to move (e.g. production)"),
		OPT_STRING(0, "gate", &gate, "EXPR", "conditions the challenger must meet"),
		OPT_STRING(0, "data", &data, "FILE", "labelled CSV to score both versions on"),
		OPT_STRING(0, "reason", &reason, "TEXT", "why, for the history"),
		OPT_STRING(0, "na", &na, "TOKENS", "values that also mean missing, e.g. NA,NaN"),
		OPT_END(),
	};
	struct registry_promote_options o = { 0 };
	struct registry_promotion res = REGISTRY_PROMOTION_INIT;
	struct ml_tokens na_tokens = ML_TOKENS_INIT;
	struct cas *cas = NULL;
	char *models_dir = NULL;
	int nargs, rc = parse_options(&nargs, argc, argv, opts, promote_usage, ctx);

	if (rc)
		goto out;
	if (nargs != 2 || !alias) {
		rc = error_set(&ctx->err, ERR_USAGE,
			       "'ferry models promote' takes NAME VERSION --to ALIAS");
		goto out;
	}
	if (parse_int64(argv[1], &o.version) || o.version < 1) {
		rc = error_set(&ctx->err, ERR_USAGE, "'%s' is not a version number (1, 2, ...)",
			       argv[1]);
		goto out;
	}
	if (gate && !data) {
		rc = error_set(&ctx->err, ERR_USAGE,
			       "--gate needs --data FILE: labelled data to score both versions on");
		goto out;
	}
	if (na)
		ml_tokens_split(&na_tokens, na);
	if ((rc = cli_artifact_cas(&cas, ctx)))
		goto out;
	models_dir = fs_path_join(ctx->project->dir, "models");
	o.name = argv[0];
	o.alias = alias;
	o.gate = gate;
	o.data = data;
	o.models_dir = models_dir;
	o.na_tokens = na_tokens.v;
	o.n_na = na_tokens.nr;
	o.user = track_user_name();
	o.reason = reason;
	rc = registry_promote(ctx->store, cas, &o, &res, &ctx->err);
	print_promotion(ctx, &o, &res, rc);
out:
	registry_promotion_release(&res);
	ml_tokens_release(&na_tokens);
	free(models_dir);
	cas_free(cas);
	return rc;
}

static void print_reproduction(struct ctx *ctx, const char *arg,
			       const struct store_model_version *v,
			       const struct registry_reproduction *r)
{
	const char *key;
	json_t *x;

	if (ctx->json) {
		json_t *j =
		    json_pack("{s:s, s:I, s:s, s:s, s:b, s:O, s:O, s:b, s:s}", "model", v->name,
			      "version", (json_int_t)v->version, "recorded_digest",
			      v->source_digest, "digest", r->digest, "digest_matches",
			      r->digest_matches, "recorded_metrics", r->recorded_metrics, "metrics",
			      r->metrics, "metrics_match", r->metrics_match, "data", r->data_file);

		output_json(j);
		json_decref(j);
		return;
	}
	printf("model=%s\nversion=%" PRId64 "\ndata=%s\n", v->name, v->version, r->data_file);
	printf("digest.recorded=%s\ndigest.now=%s\n", v->source_digest, r->digest);
	json_object_foreach(r->recorded_metrics, key, x) {
		printf("metric.%s=%.17g (recorded %.17g)\n", key,
		       json_number_value(json_object_get(r->metrics, key)), json_number_value(x));
	}
	if (r->digest_matches) {
		printf("reproduced: bit-identical model, same metrics\n");
	} else {
		printf("NOT reproduced: the artifact digest differs%s\n",
		       r->metrics_match ? " (metrics equal)" : ", and so do the metrics");
		if (strcmp(r->recorded_versions, r->versions))
			printf("software then: %s\nsoftware now:  %s\n", r->recorded_versions,
			       r->versions);
	}
	(void)arg;
}

int models_reproduce(int argc, const char **argv, struct ctx *ctx)
{
	struct option opts[] = { OPT_END() };
	struct store_model_version v = STORE_MODEL_VERSION_INIT;
	struct registry_reproduction r = { 0 };
	struct strbuf dir = STRBUF_INIT;
	struct cas *cas = NULL;
	char *work = NULL;
	struct model m;
	int nargs, rc = parse_options(&nargs, argc, argv, opts, reproduce_usage, ctx);

	model_init(&m);
	if (!rc && nargs != 1)
		rc = error_set(&ctx->err, ERR_USAGE, "'ferry models reproduce' takes one model");
	if (rc)
		goto out;
	if ((rc = models_resolve_arg(ctx, &v, argv[0])) || (rc = cli_artifact_cas(&cas, ctx)))
		goto out;
	{
		char *models_dir = fs_path_join(ctx->project->dir, "models");

		rc = registry_materialize(ctx->store, cas, &v, models_dir, &dir, &ctx->err);
		free(models_dir);
	}
	if (rc || (rc = model_load(&m, dir.buf, &ctx->err)))
		goto out;
	{
		char *tmp = fs_path_join(ctx->project->dir, "tmp");

		rc = fs_mkdir_p(tmp, 0755, &ctx->err);
		work = xstrfmt("%s/reproduce-XXXXXX", tmp);
		free(tmp);
		if (rc)
			goto out;
	}
	if (!mkdtemp(work)) {
		rc = error_set(&ctx->err, ERR_IO, "%s: cannot create a directory", work);
		goto out;
	}
	rc = registry_reproduce(&r, cas, ctx->project->root, &m, work, &ctx->err);
	if (!rc) {
		print_reproduction(ctx, argv[0], &v, &r);
		if (!r.digest_matches)
			rc = error_set(&ctx->err, ERR_CONFLICT,
				       "version %" PRId64 " of '%s' was not reproduced bit for bit",
				       v.version, v.name);
	}
	{
		struct error ignored = ERROR_INIT;

		fs_remove_tree(work, &ignored);
	}
out:
	free(work);
	registry_reproduction_release(&r);
	model_release(&m);
	strbuf_release(&dir);
	cas_free(cas);
	store_model_version_release(&v);
	return rc;
}
