/*
 * `ferry monitor`: data and prediction drift of a current file against a reference (a file or
 * a model's training data) with Evidently's defaults, quality when labels are there, and an
 * exit code for CI and cron. `monitor run` and `monitor history` live in cmd_monitor_run.c.
 */
#include "util/common.h"
#include "cli/cli.h"
#include "cli/ml_common.h"
#include "cli/models_common.h"
#include "cli/options.h"
#include "cli/output.h"
#include "ml/score.h"
#include "monitor/drift_predict.h"
#include "monitor/drift_report.h"
#include "monitor/monitor_config.h"
#include "monitor/reference.h"
#include "monitor/report_html.h"
#include "project/project.h"
#include "util/fs.h"
#include "util/parse.h"
#include "util/progress.h"
#include "util/strbuf.h"

#include <math.h>

/* Exit codes of `ferry monitor report` (0 no drift, 1 error, 2 usage from cli_exit_code). */
#define EXIT_DRIFT 3
#define EXIT_INSUFFICIENT 4

static const char *const report_usage[] = {
	"ferry monitor report --reference FILE|MODEL --current FILE [options]",
	"",
	"Compares every column of the current data with the reference, as Evidently's data drift",
	"preset does by default: per column the test its type and size call for (ks, chisquare or",
	"z up to 1000 reference values; wasserstein or jensenshannon beyond), its score,",
	"threshold and verdict; the dataset drifts when the share of drifted columns is >= 0.5.",
	"With a model (--reference MODEL or --model), the model's predictions on both sides are",
	"compared too (prediction drift), and its metrics on each side when they hold the target.",
	"",
	"MODEL is a model directory or models:/NAME/VERSION, models:/NAME@ALIAS: the reference is",
	"then the data the model was trained on, found by its recorded digest. Per-column tests",
	"and thresholds come from monitor.yaml at the project root (or --config FILE), and the",
	"options below override it.",
	"",
	"Exit status: 0 no drift; 3 drift (the dataset verdict, or prediction drift); 4 nothing",
	"could be tested (insufficient data); 1 an error; 2 a usage error.",
	NULL,
};

struct report_args {
	const char *reference, *current, *model, *target, *config, *html, *na, *test, *threshold,
	    *share;
	int64_t min_rows, jobs, exact_values;
	struct option_list column_tests;
};

/* Everything a report run holds, released at once. */
struct report_state {
	struct monitor_config cfg;
	struct drift_column_config *cli_cols;
	size_t n_cli_cols;
	struct ml_tokens na;
	struct model m;
	bool have_model;
	struct strbuf model_dir;
	char *model_name;
	struct table *ref;
	char *ref_path; /* the reference file (the located training data for a model) */
	struct drift_reference *dref, *pref;
	struct drift_current *dcur, *pcur;
	struct drift_report *report, *pred_report;
	char *pred_note; /* why prediction drift was not computed */
	json_t *quality_ref, *quality_cur;
	uint64_t cur_rows;
};

static void state_release(struct report_state *s)
{
	monitor_config_free(&s->cfg);
	for (size_t i = 0; i < s->n_cli_cols; i++)
		free((char *)s->cli_cols[i].column);
	free(s->cli_cols);
	ml_tokens_release(&s->na);
	model_release(&s->m);
	strbuf_release(&s->model_dir);
	free(s->model_name);
	table_free(s->ref);
	free(s->ref_path);
	drift_current_free(s->dcur);
	drift_current_free(s->pcur);
	drift_reference_free(s->dref);
	drift_reference_free(s->pref);
	drift_report_free(s->report);
	drift_report_free(s->pred_report);
	free(s->pred_note);
	json_decref(s->quality_ref);
	json_decref(s->quality_cur);
}

/* ---- options ---------------------------------------------------------------------------- */

static int parse_threshold(double *out, const char *s, const char *what, struct error *err)
{
	if (parse_double(s, out) || !(*out > 0))
		return error_set(err, ERR_USAGE, "%s expects a positive number, got '%s'", what, s);
	return 0;
}

/* --column-test COL=TEST[:THRESHOLD] */
static int parse_column_test(struct drift_column_config *c, const char *arg, struct error *err)
{
	const char *eq = strrchr(arg, '=');
	char *spec, *colon;
	int rc = 0;

	if (!eq || eq == arg || !eq[1])
		return error_set(err, ERR_USAGE,
				 "--column-test expects COLUMN=TEST[:THRESHOLD], "
				 "got '%s'",
				 arg);
	spec = xstrdup(eq + 1);
	c->column = xstrndup(arg, (size_t)(eq - arg));
	c->test = DRIFT_TEST_DEFAULT;
	c->threshold = NAN;
	c->skip = false;
	if ((colon = strchr(spec, ':'))) {
		*colon = '\0';
		rc = parse_threshold(&c->threshold, colon + 1, "--column-test", err);
	}
	if (!rc && !strcmp(spec, "skip"))
		c->skip = true;
	else if (!rc && strcmp(spec, "default") && drift_test_parse(&c->test, spec, err))
		rc = error_set(err, ERR_USAGE, "--column-test %s: %s", arg, err->msg);
	free(spec);
	return rc;
}

static int load_config(struct report_state *s, const struct report_args *a, struct ctx *ctx)
{
	char *path = NULL;
	int rc = 0;

	monitor_config_init(&s->cfg);
	if (a->config) {
		rc = monitor_config_load(&s->cfg, a->config, &ctx->err);
	} else if (ctx->project) {
		path = fs_path_join(ctx->project->root, "monitor.yaml");
		if (!access(path, F_OK))
			rc = monitor_config_load(&s->cfg, path, &ctx->err);
	}
	free(path);
	return rc;
}

/* The config's options with the command line's on top. */
static int drift_options(struct drift_options *o, struct report_state *s,
			 const struct report_args *a, struct ctx *ctx)
{
	struct drift_column_config *cols;
	size_t n = s->cfg.drift.n_columns;
	int rc;

	*o = s->cfg.drift;
	if (a->test &&
	    (rc = strcmp(a->test, "default") ? drift_test_parse(&o->test, a->test, &ctx->err)
					     : (o->test = DRIFT_TEST_DEFAULT, 0)))
		return error_set(&ctx->err, ERR_USAGE, "--test: %s", ctx->err.msg);
	if (a->threshold &&
	    (rc = parse_threshold(&o->threshold, a->threshold, "--threshold", &ctx->err)))
		return rc;
	if (a->share && (parse_double(a->share, &o->drift_share) || !(o->drift_share > 0) ||
			 o->drift_share > 1))
		return error_set(&ctx->err, ERR_USAGE,
				 "--drift-share expects a number in (0, 1], "
				 "got '%s'",
				 a->share);
	if (a->min_rows > 0)
		o->min_rows = (uint64_t)a->min_rows;
	if (a->jobs > 0)
		o->jobs = (int)a->jobs;
	s->cli_cols = xcalloc(a->column_tests.nr + 1, sizeof(*s->cli_cols));
	for (size_t i = 0; i < a->column_tests.nr; i++)
		if ((++s->n_cli_cols,
		     rc = parse_column_test(&s->cli_cols[i], a->column_tests.v[i], &ctx->err)))
			return rc;
	/* a column named on the command line replaces its config entry */
	cols = xcalloc(n + s->n_cli_cols + 1, sizeof(*cols));
	if (n)
		memcpy(cols, s->cfg.drift.columns, n * sizeof(*cols));
	for (size_t i = 0; i < s->n_cli_cols; i++) {
		size_t j;

		for (j = 0; j < n && strcmp(cols[j].column, s->cli_cols[i].column); j++)
			;
		if (j < n)
			free((char *)cols[j].column);
		cols[j] = s->cli_cols[i];
		n += j == n;
	}
	free((void *)s->cfg.drift.columns);
	/* the config owns cols and their names now; cli_cols keep copies of theirs */
	for (size_t i = 0; i < s->n_cli_cols; i++)
		s->cli_cols[i].column = xstrdup(s->cli_cols[i].column);
	s->cfg.drift.columns = cols;
	s->cfg.drift.n_columns = n;
	o->columns = cols;
	o->n_columns = n;
	return 0;
}

/* ---- reference and model ---------------------------------------------------------------- */

static bool is_model_arg(const char *arg)
{
	struct stat st;
	char *json;
	bool yes;

	if (!strncmp(arg, "models:/", 8))
		return true;
	if (stat(arg, &st) || !S_ISDIR(st.st_mode))
		return false;
	json = fs_path_join(arg, "model.json");
	yes = !access(json, F_OK);
	free(json);
	return yes;
}

static int load_model(struct report_state *s, const char *arg, struct ctx *ctx)
{
	int rc = cli_model_dir(ctx, &s->model_dir, arg, NULL);

	if (!rc)
		rc = model_load(&s->m, s->model_dir.buf, &ctx->err);
	if (!rc) {
		s->have_model = true;
		s->model_name = xstrdup(arg);
	}
	return rc;
}

static int load_reference(struct report_state *s, const struct report_args *a, struct ctx *ctx)
{
	struct table_options o = TABLE_OPTIONS_INIT;
	char *cache = NULL;
	int rc;

	o.na_tokens = s->na.v;
	o.n_na_tokens = s->na.nr;
	if (is_model_arg(a->reference)) {
		if (a->model)
			return error_set(&ctx->err, ERR_USAGE,
					 "--reference names a model already: drop --model");
		if ((rc = load_model(s, a->reference, ctx)))
			return rc;
		cache = ctx->project ? project_cache_dir(ctx->project) : NULL;
		rc = monitor_reference_locate(&s->ref_path, &s->m, cache,
					      ctx->project ? ctx->project->root : NULL, &ctx->err);
		free(cache);
		if (!rc)
			rc = monitor_reference_read(&s->ref, &s->m, s->ref_path, &ctx->err);
		return rc;
	}
	if (a->model && (rc = load_model(s, a->model, ctx)))
		return rc;
	s->ref_path = xstrdup(a->reference);
	return table_load(&s->ref, a->reference, &o, &ctx->err);
}

/* ---- the current file ------------------------------------------------------------------- */

static void prediction_failed(struct report_state *s, struct drift_pred *p, const char *why)
{
	if (!s->pred_note)
		s->pred_note = xstrdup(why);
	drift_pred_release(p);
}

/* Scores the reference file for prediction drift; on failure a note says why. */
static void predict_reference(struct report_state *s, const struct report_args *a)
{
	struct drift_pred p = { 0 };
	struct csv_reader *r = NULL;
	const struct csv_field *f;
	struct error e = ERROR_INIT;
	struct table *t = NULL;
	size_t n;
	int rc;

	(void)a;
	if (csv_open(&r, s->ref_path, &e) ||
	    drift_pred_init(&p, &s->m, csv_column_names(r), csv_ncols(r), s->ref_path, s->na.v,
			    s->na.nr, &e)) {
		s->pred_note = xstrdup(e.msg);
		goto out;
	}
	while (!(rc = csv_next_batch(&f, &n, r, SCORE_BATCH, &e)) && n)
		if ((rc = drift_pred_add(&p, f, n, &e)))
			break;
	if (rc) {
		prediction_failed(s, &p, e.msg);
		goto out;
	}
	t = drift_pred_take(&p);
	if (t->ncols)
		s->pref = drift_reference_new(t);
	drift_pred_release(&p);
out:
	table_free(t);
	csv_free(r);
}

static int read_current(struct report_state *s, const struct report_args *a, struct ctx *ctx)
{
	uint64_t budget = a->exact_values > 0 ? (uint64_t)a->exact_values : 0;
	const char *names[] = { DRIFT_PREDICTION_COLUMN };
	struct drift_pred p = { 0 };
	struct progress *bar;
	struct stat st;
	bool predicting = false;
	struct csv_reader *r = NULL;
	const struct csv_field *f;
	struct error e = ERROR_INIT;
	size_t n;
	int rc;

	if ((rc = csv_open(&r, a->current, &ctx->err)))
		return rc;
	bar =
	    progress_start("reading current data", stat(a->current, &st) ? 0 : (uint64_t)st.st_size,
			   PROGRESS_BYTES, ctx->quiet);
	s->dref = drift_reference_new(s->ref);
	s->dcur = drift_current_new(s->dref, a->current, csv_column_names(r), csv_ncols(r), budget);
	if (s->pref) {
		if (drift_pred_init(&p, &s->m, csv_column_names(r), csv_ncols(r), a->current,
				    s->na.v, s->na.nr, &e))
			s->pred_note = xstrdup(e.msg);
		else
			predicting = true;
		s->pcur = drift_current_new(s->pref, a->current, names, 1, budget);
	}
	while (!(rc = csv_next_batch(&f, &n, r, SCORE_BATCH, &ctx->err)) && n) {
		drift_current_add_fields(s->dcur, f, n, s->na.v, s->na.nr);
		progress_update(bar, csv_bytes_read(r));
		if (predicting && drift_pred_add(&p, f, n, &e)) {
			prediction_failed(s, &p, e.msg);
			predicting = false;
		}
		if (predicting) {
			struct table *t = drift_pred_take(&p);

			if (t->ncols)
				drift_current_add_table(s->pcur, t, &e);
			table_free(t);
		}
	}
	s->cur_rows = drift_current_rows(s->dcur);
	if (!rc && !s->cur_rows)
		rc = error_set(&ctx->err, ERR_INVALID, "%s: no data rows (only a header)",
			       a->current);
	if (predicting)
		drift_pred_release(&p);
	progress_finish(bar);
	csv_free(r);
	return rc;
}

/* Nothing comparable: no current column is in the reference. */
static int check_overlap(const struct report_state *s, const struct report_args *a, struct ctx *ctx)
{
	for (size_t i = 0; i < s->report->n_columns; i++)
		if (s->report->columns[i].ref_count + s->report->columns[i].ref_missing &&
		    s->report->columns[i].cur_count + s->report->columns[i].cur_missing)
			return 0;
	return error_set(&ctx->err, ERR_INVALID,
			 "no column of '%s' is in the reference '%s': nothing to compare",
			 a->current, s->ref_path);
}

/* ---- quality ---------------------------------------------------------------------------- */

static bool has_column(const char *path, const char *name)
{
	struct csv_reader *r = NULL;
	struct error e = ERROR_INIT;
	bool found = false;

	if (csv_open(&r, path, &e))
		return false;
	for (size_t i = 0; i < csv_ncols(r) && !found; i++)
		found = !strcmp(csv_column_names(r)[i], name);
	csv_free(r);
	return found;
}

static json_t *evaluate(struct report_state *s, const char *path, json_t **note)
{
	struct score_options o = SCORE_OPTIONS_INIT;
	struct error e = ERROR_INIT;
	json_t *metrics = NULL;

	o.input = path;
	o.unseen = UNSEEN_IGNORE;
	o.na_tokens = s->na.v;
	o.n_na = s->na.nr;
	if (score_evaluate(&s->m, &o, &metrics, &e)) {
		*note = json_string(e.msg);
		return NULL;
	}
	return metrics;
}

static int quality(struct report_state *s, const struct report_args *a, json_t **notes,
		   struct ctx *ctx)
{
	const char *target = s->m.target.name;

	if (a->target && strcmp(a->target, target))
		return error_set(&ctx->err, ERR_USAGE,
				 "--target '%s': the model predicts '%s' (its metrics need that "
				 "column)",
				 a->target, target);
	if (!has_column(a->current, target)) {
		if (a->target)
			return error_set(&ctx->err, ERR_INVALID,
					 "%s: no column '%s' (--target): no labels for quality",
					 a->current, target);
		return 0;
	}
	if (has_column(s->ref_path, target)) {
		json_t *n = NULL;

		s->quality_ref = evaluate(s, s->ref_path, &n);
		if (n)
			json_object_set_new(*notes, "reference", n);
	}
	{
		json_t *n = NULL;

		s->quality_cur = evaluate(s, a->current, &n);
		if (n)
			json_object_set_new(*notes, "current", n);
	}
	return 0;
}

/* ---- output ----------------------------------------------------------------------------- */

static int exit_for(const struct report_state *s)
{
	bool pred_drift = s->pred_report && s->pred_report->n_columns &&
			  s->pred_report->columns[0].verdict == DRIFT_VERDICT_DRIFT;

	if (s->report->dataset_drift || pred_drift)
		return EXIT_DRIFT;
	if (s->report->verdict == DRIFT_VERDICT_INSUFFICIENT)
		return EXIT_INSUFFICIENT;
	return 0;
}

static const char *exit_meaning(int code)
{
	return code == EXIT_DRIFT	   ? "exit code 3: drift detected"
	       : code == EXIT_INSUFFICIENT ? "exit code 4: insufficient data"
					   : "exit code 0: no drift";
}

static json_t *report_json(const struct report_state *s, const struct report_args *a,
			   json_t *quality_notes, int code)
{
	json_t *j = drift_report_to_json(s->report), *pred = json_object(), *q = json_object();

	json_object_set_new(j, "reference", json_string(s->ref_path));
	json_object_set_new(j, "current", json_string(a->current));
	json_object_set_new(j, "model", s->have_model ? json_string(s->model_name) : json_null());
	json_object_set_new(j, "model_digest",
			    s->have_model ? json_string(s->m.digest) : json_null());
	if (s->pred_report && s->pred_report->n_columns) {
		json_t *cols = drift_report_to_json(s->pred_report);

		json_decref(pred);
		pred = json_deep_copy(json_array_get(json_object_get(cols, "columns"), 0));
		json_decref(cols);
	} else {
		json_object_set_new(pred, "verdict", json_string("skipped"));
		json_object_set_new(pred, "note",
				    json_string(s->pred_note ? s->pred_note : "no model given"));
	}
	json_object_set_new(j, "prediction_drift", pred);
	json_object_set_new(q, "reference",
			    s->quality_ref ? json_incref(s->quality_ref) : json_null());
	json_object_set_new(q, "current",
			    s->quality_cur ? json_incref(s->quality_cur) : json_null());
	if (json_object_size(quality_notes))
		json_object_set_new(q, "notes", json_incref(quality_notes));
	json_object_set_new(j, "quality", q);
	json_object_set_new(j, "drift_detected", json_boolean(code == EXIT_DRIFT));
	json_object_set_new(j, "exit_code", json_integer(code));
	return j;
}

static void print_row(const struct drift_column_result *c)
{
	char score[32] = "-", thr[32] = "-";
	const char *verdict = c->verdict == DRIFT_VERDICT_DRIFT	 ? "DRIFT"
			      : c->verdict == DRIFT_VERDICT_NONE ? "ok"
								 : drift_verdict_name(c->verdict);
	bool tested = c->verdict == DRIFT_VERDICT_NONE || c->verdict == DRIFT_VERDICT_DRIFT;

	if (tested) {
		snprintf(score, sizeof(score), "%.4g", c->score);
		snprintf(thr, sizeof(thr), "%g", c->threshold);
	}
	printf("%-32s %-11s %-13s %10s %9s  %s%s%s\n", c->name,
	       c->numeric ? "numerical" : "categorical", tested ? drift_test_name(c->test) : "-",
	       score, thr, verdict, c->note ? ": " : "", c->note ? c->note : "");
}

static void print_metrics(const json_t *ref, const json_t *cur)
{
	const char *k;
	json_t *v;

	printf("\nquality%*s %12s %12s\n", 25, "", "reference", "current");
	json_object_foreach((json_t *)(cur ? cur : ref), k, v) {
		const json_t *r = json_object_get(ref, k), *c = json_object_get(cur, k);
		char rs[32] = "-", cs[32] = "-";

		if (!json_is_number(r) && !json_is_number(c))
			continue;
		if (json_is_number(r))
			snprintf(rs, sizeof(rs), "%.4g", json_number_value(r));
		if (json_is_number(c))
			snprintf(cs, sizeof(cs), "%.4g", json_number_value(c));
		printf("%-32s %12s %12s\n", k, rs, cs);
	}
}

static void print_report(const struct report_state *s, const struct report_args *a,
			 const json_t *quality_notes, int code)
{
	const char *side;
	json_t *note;

	const struct drift_report *r = s->report;

	printf("reference: %s (%" PRIu64 " rows)\ncurrent:   %s (%" PRIu64 " rows)%s\n\n",
	       s->ref_path, r->ref_rows, a->current, r->cur_rows,
	       r->exact ? "" : " [streamed: see 'exact' in --json]");
	printf("%-32s %-11s %-13s %10s %9s  %s\n", "column", "kind", "test", "score", "threshold",
	       "verdict");
	for (size_t i = 0; i < r->n_columns; i++)
		print_row(&r->columns[i]);
	if (s->pred_report && s->pred_report->n_columns) {
		printf("\nprediction drift (%s)\n", s->model_name);
		print_row(&s->pred_report->columns[0]);
	} else if (s->have_model) {
		printf("\nprediction drift: not computed: %s\n", s->pred_note ? s->pred_note : "?");
	}
	if (s->quality_ref || s->quality_cur)
		print_metrics(s->quality_ref, s->quality_cur);
	json_object_foreach((json_t *)quality_notes, side, note)
		printf("quality on the %s data not computed: %s\n", side, json_string_value(note));
	if (isnan(r->share))
		printf("\ndataset: insufficient data: no column could be tested\n");
	else
		printf("\ndataset: %zu of %zu tested columns drifted (share %.3g %s %g): %s\n",
		       r->n_drifted, r->n_tested, r->share, r->dataset_drift ? ">=" : "<",
		       r->drift_share, r->dataset_drift ? "DATASET DRIFT" : "no dataset drift");
	printf("%s\n", exit_meaning(code));
}

static int write_html(const struct report_state *s, const struct report_args *a, int code,
		      struct ctx *ctx)
{
	struct report_html_meta meta = REPORT_HTML_META_INIT;

	meta.reference_name = s->ref_path;
	meta.current_name = a->current;
	meta.model_name = s->have_model ? s->model_name : NULL;
	meta.model_digest = s->have_model ? s->m.digest : NULL;
	meta.prediction =
	    s->pred_report && s->pred_report->n_columns ? &s->pred_report->columns[0] : NULL;
	meta.quality_ref = s->quality_ref;
	meta.quality_cur = s->quality_cur;
	meta.exit_meaning = exit_meaning(code);
	return monitor_report_html_write(a->html, s->report, &meta, &ctx->err);
}

/* ---- the command ------------------------------------------------------------------------ */

static int report_run(struct report_state *s, const struct report_args *a, struct ctx *ctx)
{
	struct drift_options o, po;
	json_t *notes = json_object();
	int rc, code;

	if (a->na)
		ml_tokens_split(&s->na, a->na);
	if ((rc = load_config(s, a, ctx)) || (rc = drift_options(&o, s, a, ctx)) ||
	    (rc = load_reference(s, a, ctx)))
		goto out;
	if (s->have_model) {
		if ((rc = monitor_reference_check(&s->m, s->ref, s->ref_path, &ctx->err)))
			goto out;
		predict_reference(s, a);
	}
	if ((rc = read_current(s, a, ctx)) ||
	    (rc = drift_report_finish(&s->report, s->dref, s->dcur, &o, &ctx->err)) ||
	    (rc = check_overlap(s, a, ctx)))
		goto out;
	if (s->pcur && !s->pred_note) {
		po = o;
		po.columns = NULL;
		po.n_columns = 0;
		if ((rc = drift_report_finish(&s->pred_report, s->pref, s->pcur, &po, &ctx->err)))
			goto out;
	}
	if (s->have_model && (rc = quality(s, a, &notes, ctx)))
		goto out;
	code = exit_for(s);
	if (a->html && (rc = write_html(s, a, code, ctx)))
		goto out;
	if (ctx->json) {
		json_t *j = report_json(s, a, notes, code);

		output_json(j);
		json_decref(j);
	} else if (!ctx->quiet) {
		print_report(s, a, notes, code);
	}
	ctx->exit_code = code;
out:
	json_decref(notes);
	return rc;
}

static int monitor_report(int argc, const char **argv, struct ctx *ctx)
{
	struct report_args a = { 0 };
	struct option opts[] = {
		OPT_STRING(0, "reference", &a.reference, "FILE|MODEL",
			   "reference data, or a model whose training data is the reference"),
		OPT_STRING(0, "current", &a.current, "FILE", "the data to check (CSV)"),
		OPT_STRING(0, "model", &a.model, "MODEL",
			   "a model for prediction drift and quality (with --reference FILE)"),
		OPT_STRING(0, "target", &a.target, "COLUMN",
			   "the label column for quality (default: the model's target)"),
		OPT_STRING(0, "config", &a.config, "FILE",
			   "monitoring config (default: monitor.yaml at the project root)"),
		OPT_STRING(
		    0, "test", &a.test, "TEST",
		    "every column: ks, chisquare, z, wasserstein, jensenshannon, psi, kl_div"),
		OPT_STRING(0, "threshold", &a.threshold, "X", "every column's threshold"),
		OPT_STRING(0, "drift-share", &a.share, "X",
			   "dataset drift when this share of columns drifts (0.5)"),
		OPT_LIST(0, "column-test", &a.column_tests, "COL=TEST[:THR]",
			 "one column's test and threshold, or COL=skip (repeatable)"),
		OPT_INT(0, "min-rows", &a.min_rows, "N",
			"fewer values on a side: insufficient data (1)"),
		OPT_STRING(0, "na", &a.na, "TOKENS", "values that also mean missing, e.g. NA,NaN"),
		OPT_STRING(0, "html", &a.html, "FILE", "also write the report as one HTML file"),
		OPT_INT('j', "jobs", &a.jobs, "N", "columns tested in parallel (default: CPUs)"),
		OPT_INT(0, "exact-values", &a.exact_values, "N",
			"current values kept for exact results before streaming (32Mi)"),
		OPT_END(),
	};
	struct report_state s = { 0 };
	int nargs, rc;

	model_init(&s.m);
	strbuf_init(&s.model_dir, 0);
	rc = parse_options(&nargs, argc, argv, opts, report_usage, ctx);
	if (rc)
		goto out;
	if (nargs || !a.reference || !a.current) {
		rc = error_set(&ctx->err, ERR_USAGE,
			       "'ferry monitor report' takes --reference FILE|MODEL and "
			       "--current FILE (no other arguments)");
		goto out;
	}
	if (a.target && !a.model && !is_model_arg(a.reference)) {
		rc = error_set(&ctx->err, ERR_USAGE,
			       "--target needs a model (--model, or --reference MODEL): quality "
			       "compares its predictions with the labels");
		goto out;
	}
	if ((rc = cli_open_if_project(ctx)))
		goto out;
	rc = report_run(&s, &a, ctx);
out:
	state_release(&s);
	free(a.column_tests.v);
	return rc;
}

static const struct subcommand monitor_subcommands[] = {
	{ "report", monitor_report, 0, "data and prediction drift of a file against a reference" },
	{ "run", cmd_monitor_run, 0, "drift and alerts over the inference log, window by window" },
	{ "history", cmd_monitor_history, 0, "past monitoring results" },
	{ NULL, NULL, 0, NULL },
};

int cmd_monitor(int argc, const char **argv, struct ctx *ctx)
{
	return subcommand_dispatch(argc, argv, monitor_subcommands, "monitor", ctx);
}
