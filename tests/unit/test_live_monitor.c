/*
 * Unit tests for monitor/live: a logistic regression trained on examples/data/drift/reference.csv
 * scores the reference, then batch_01 (no drift) and batch_02 (drifted) row by row through the
 * live monitor. Drift scores are checked against Evidently's default tests computed exactly with
 * scipy 1.10 / pandas (the values below, see the generator in the comment), within the sketch's
 * documented error, and the drift flags must equal the exact ones; feedback with the batches'
 * labels gives the F1, accuracy and ROC AUC this file computes itself from the label/prediction
 * pairs, and batch_02's F1 is lower.
 *
 * Expected values: for each batch cur and column c (churn excluded), reference ref =
 * reference.csv: wasserstein_distance(ref, cur) / max(np.std(ref), 0.001) when numeric with more
 * than 5 distinct values over both, else jensenshannon of the per-value shares (natural log).
 */
#include "util/common.h"
#include "helpers.h"
#include "monitor/live.h"
#include "ml/train.h"
#include "monitor/sketch.h"
#include "serve/serve.h"
#include "table/csv.h"

#include <math.h>
#include <pthread.h>

struct expect {
	const char *column, *method;
	double score;
};

/* reference.csv rows 2001..3000 (the reference's own tail) */
static const struct expect tail[] = {
	{ "state", "jensenshannon", 0.070501203683804234 },
	{ "account_length", "wasserstein", 0.061788199141870774 },
	{ "area_code", "jensenshannon", 0.018186539595769453 },
	{ "international_plan", "jensenshannon", 0.00079157256736051441 },
	{ "voice_mail_plan", "jensenshannon", 0.01438637921093041 },
	{ "number_vmail_messages", "wasserstein", 0.053307424894766593 },
	{ "total_day_minutes", "wasserstein", 0.035909167440038317 },
	{ "total_day_calls", "wasserstein", 0.030550022481375432 },
	{ "total_day_charge", "wasserstein", 0.035913925040574009 },
	{ "total_eve_minutes", "wasserstein", 0.040273733382714491 },
	{ "total_eve_calls", "wasserstein", 0.039076578828408849 },
	{ "total_eve_charge", "wasserstein", 0.040250060008450418 },
	{ "total_night_minutes", "wasserstein", 0.032276694325900246 },
	{ "total_night_calls", "wasserstein", 0.049193600105639501 },
	{ "total_night_charge", "wasserstein", 0.032226051587059427 },
	{ "total_intl_minutes", "wasserstein", 0.038577385862554187 },
	{ "total_intl_calls", "wasserstein", 0.022771892843995396 },
	{ "total_intl_charge", "wasserstein", 0.038578258176647354 },
	{ "number_customer_service_calls", "wasserstein", 0.023954898891637974 },
};

static const struct expect b1[] = {
	{ "state", "jensenshannon", 0.085643088723943897 },
	{ "account_length", "wasserstein", 0.035385201755448722 },
	{ "area_code", "jensenshannon", 0.0054609426210242302 },
	{ "international_plan", "jensenshannon", 0.018008690877160144 },
	{ "voice_mail_plan", "jensenshannon", 0 },
	{ "number_vmail_messages", "wasserstein", 0.012698058151753832 },
	{ "total_day_minutes", "wasserstein", 0.033015207191439765 },
	{ "total_day_calls", "wasserstein", 0.04189670110737629 },
	{ "total_day_charge", "wasserstein", 0.033030839137918967 },
	{ "total_eve_minutes", "wasserstein", 0.040435238945774096 },
	{ "total_eve_calls", "wasserstein", 0.036342895416807706 },
	{ "total_eve_charge", "wasserstein", 0.04041698971473319 },
	{ "total_night_minutes", "wasserstein", 0.029184245295840985 },
	{ "total_night_calls", "wasserstein", 0.049040242848642397 },
	{ "total_night_charge", "wasserstein", 0.029240284077104804 },
	{ "total_intl_minutes", "wasserstein", 0.059147998137711176 },
	{ "total_intl_calls", "wasserstein", 0.050179979440660862 },
	{ "total_intl_charge", "wasserstein", 0.059340585069738334 },
	{ "number_customer_service_calls", "wasserstein", 0.035422669637634824 },
};

static const struct expect b2[] = {
	{ "state", "jensenshannon", 0.086558528812570659 },
	{ "account_length", "wasserstein", 0.081057285609503454 },
	{ "area_code", "jensenshannon", 0.015523083376077839 },
	{ "international_plan", "jensenshannon", 0.18158461890955355 },
	{ "voice_mail_plan", "jensenshannon", 0.046737404013329986 },
	{ "number_vmail_messages", "wasserstein", 0.11657794157014012 },
	{ "total_day_minutes", "wasserstein", 1.0113691852881401 },
	{ "total_day_calls", "wasserstein", 0.072942934024291098 },
	{ "total_day_charge", "wasserstein", 1.0113625388703944 },
	{ "total_eve_minutes", "wasserstein", 0.033757278154163649 },
	{ "total_eve_calls", "wasserstein", 0.035034752434569119 },
	{ "total_eve_charge", "wasserstein", 0.033775956745428083 },
	{ "total_night_minutes", "wasserstein", 0.06592407081898638 },
	{ "total_night_calls", "wasserstein", 0.06875517022038638 },
	{ "total_night_charge", "wasserstein", 0.06583793337888659 },
	{ "total_intl_minutes", "wasserstein", 0.026812481229936708 },
	{ "total_intl_calls", "wasserstein", 0.056316118230958868 },
	{ "total_intl_charge", "wasserstein", 0.026681742168872834 },
	{ "number_customer_service_calls", "wasserstein", 0.060906604628739161 },
};

struct fixture {
	char *dir; /* examples/data/drift */
	struct served_model sm;
	struct table *ref;
};

static char *drift_file(const struct fixture *fx, const char *name)
{
	return test_path(fx->dir, name);
}

static int setup(void **state)
{
	struct fixture *fx = xcalloc(1, sizeof(*fx));
	struct train_options o = { 0 };
	struct train_timings timings;
	struct trainer_config cfg;
	struct error err = ERROR_INIT;
	char *data = test_data_path("../../examples/data/drift"), *path;

	fx->dir = data;
	path = drift_file(fx, "reference.csv");
	trainer_config_init(&cfg, MODEL_XGBOOST);
	/* one thread: OpenMP's spinning workers crawl on a loaded machine */
	cfg.xgb.nthread = 1;
	o.data = path;
	o.target = "churn";
	o.cfg = &cfg;
	o.test_size = 0.2;
	o.seed = 1;
	model_init(&fx->sm.m);
	if (train_model(&fx->sm.m, &timings, &o, &err) || table_load(&fx->ref, path, NULL, &err)) {
		fprintf(stderr, "setup: %s\n", err.msg);
		return -1;
	}
	trainer_config_release(&cfg);
	free(path);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	model_release(&fx->sm.m);
	table_free(fx->ref);
	free(fx->dir);
	free(fx);
	return 0;
}

struct pairs {
	size_t n;
	int pred[5000], truth[5000];
	double score[5000];
};

/* Set: replay hands the monitor each row's columns in reverse order (names and values). */
static bool replay_reversed;

/*
 * Scores every row of file one request at a time (request id prefix-i), feeds the monitor, and
 * with labels sends each row's churn as feedback; pairs collects (prediction, truth, score).
 */
static void replay(struct fixture *fx, struct live_monitor *mon, const char *file,
		   const char *prefix, bool labels, struct pairs *pairs)
{
	char *path = drift_file(fx, file);
	struct csv_reader *r = NULL;
	struct error err = ERROR_INIT;
	const struct csv_field *f;
	const char *const *names;
	size_t ncols, churn = 0, i = 0;
	int rc;

	assert_int_equal(csv_open(&r, path, &err), 0);
	names = csv_column_names(r);
	ncols = csv_ncols(r);
	while (strcmp(names[churn], "churn"))
		churn++;
	if (pairs)
		pairs->n = 0;
	while ((rc = csv_next(&f, r, &err)) == 1) {
		double out[2];
		size_t label;
		char id[64];

		snprintf(id, sizeof(id), "%s-%zu", prefix, i++);
		assert_int_equal(serve_score(&fx->sm, names, ncols, 1, f, out, &label, &err), 0);
		if (replay_reversed) {
			const char *rnames[64];
			struct csv_field rf[64];

			assert_true(ncols <= 64);
			for (size_t c = 0; c < ncols; c++) {
				rnames[c] = names[ncols - 1 - c];
				rf[c] = f[ncols - 1 - c];
			}
			live_observe(mon, rnames, ncols, 1, rf, out, &label, id);
		} else {
			live_observe(mon, names, ncols, 1, f, out, &label, id);
		}
		if (labels) {
			const char *truth[] = { f[churn].str };

			assert_int_equal(live_feedback(mon, id, truth, 1), LIVE_FEEDBACK_MATCHED);
		}
		if (pairs) {
			pairs->pred[pairs->n] = (int)label;
			pairs->truth[pairs->n] = !strcmp(f[churn].str, "yes");
			pairs->score[pairs->n++] = out[1];
		}
	}
	assert_int_equal(rc, 0);
	csv_free(r);
	free(path);
}

/* The documented bound of a sketch Wasserstein: rank error x value range / reference std. */
static double w_bound(const struct fixture *fx, const char *column, const char *file)
{
	struct table *cur = NULL;
	struct error err = ERROR_INIT;
	char *path = drift_file(fx, file);
	size_t c;
	double lo = INFINITY, hi = -INFINITY, mean = 0, ss = 0;
	const struct column *rc;

	assert_int_equal(table_load(&cur, path, NULL, &err), 0);
	assert_int_equal(table_find(&c, fx->ref, column, &err), 0);
	rc = fx->ref->cols[c];
	for (size_t i = 0; i < fx->ref->nrows; i++) {
		lo = fmin(lo, rc->values[i]), hi = fmax(hi, rc->values[i]);
		mean += rc->values[i];
	}
	mean /= (double)fx->ref->nrows;
	for (size_t i = 0; i < fx->ref->nrows; i++)
		ss += (rc->values[i] - mean) * (rc->values[i] - mean);
	assert_int_equal(table_find(&c, cur, column, &err), 0);
	for (size_t i = 0; i < cur->nrows; i++)
		lo = fmin(lo, cur->cols[c]->values[i]), hi = fmax(hi, cur->cols[c]->values[i]);
	table_free(cur);
	free(path);
	return kll_rank_error_k(KLL_DEFAULT_K) * (hi - lo) / sqrt(ss / (double)fx->ref->nrows);
}

static const struct live_drift *find(const struct live_report *r, const char *name)
{
	for (size_t i = 0; i < r->nfeatures; i++)
		if (!strcmp(r->features[i].name, name))
			return &r->features[i];
	fail_msg("no drift score for %s", name);
	return NULL;
}

/* Every score within the sketch's error of the exact one, and the same drift decisions. */
static void check_drift(struct fixture *fx, const struct live_report *r, const struct expect *e,
			size_t n, const char *file)
{
	size_t exact_drifted = 0;

	assert_true(r->drift);
	assert_int_equal(r->nfeatures, n);
	for (size_t i = 0; i < n; i++) {
		const struct live_drift *d = find(r, e[i].column);
		double tol =
		    !strcmp(e[i].method, "jensenshannon") ? 1e-9 : w_bound(fx, e[i].column, file);

		assert_string_equal(d->method, e[i].method);
		if (fabs(d->score - e[i].score) > tol)
			fail_msg("%s: %s %.6f, exact %.6f (tolerance %.6f)", e[i].column, d->method,
				 d->score, e[i].score, tol);
		assert_true(d->threshold == 0.1);
		if (d->detected != (e[i].score >= 0.1))
			fail_msg("%s: detected %d, exact score %.4f", e[i].column, d->detected,
				 e[i].score);
		exact_drifted += e[i].score >= 0.1;
	}
	assert_true(fabs(r->drift_share - (double)exact_drifted / (double)n) < 1e-12);
}

static double f1_of(const struct pairs *p)
{
	double tp = 0, fp = 0, fn = 0;

	for (size_t i = 0; i < p->n; i++) {
		tp += p->pred[i] && p->truth[i];
		fp += p->pred[i] && !p->truth[i];
		fn += !p->pred[i] && p->truth[i];
	}
	return 2 * tp / (2 * tp + fp + fn);
}

static double accuracy_of(const struct pairs *p)
{
	double ok = 0;

	for (size_t i = 0; i < p->n; i++)
		ok += p->pred[i] == p->truth[i];
	return ok / (double)p->n;
}

/* ROC AUC by counting pairs (a different algorithm from the monitor's rank sum). */
static double auc_of(const struct pairs *p)
{
	double good = 0, total = 0;

	for (size_t i = 0; i < p->n; i++)
		for (size_t j = 0; j < p->n; j++)
			if (p->truth[i] && !p->truth[j]) {
				total++;
				good += p->score[i] > p->score[j]    ? 1
					: p->score[i] == p->score[j] ? 0.5
								     : 0;
			}
	return good / total;
}

static double metric(const struct live_report *r, const char *name)
{
	for (size_t i = 0; i < r->nquality; i++)
		if (!strcmp(r->quality[i].metric, name))
			return r->quality[i].value;
	fail_msg("no quality metric %s", name);
	return NAN;
}

static void test_drift_and_quality(void **state)
{
	struct fixture *fx = *state;
	struct live_options o = LIVE_OPTIONS_INIT;
	struct live_monitor *mon = NULL;
	struct live_report r;
	struct error err = ERROR_INIT;
	static struct pairs p1, p2;
	double f1_b1, f1_b2, pred_b1;

	o.window = 1000;
	o.blocks = 10;
	o.labelled = 1000;
	assert_int_equal(live_monitor_new(&mon, &fx->sm.m, fx->ref, &o, &err), 0);
	assert_true(live_monitor_has_reference(mon));
	assert_non_null(strstr(live_monitor_note(mon), "training rows (3000 rows)"));

	/* the reference itself: the window ends with its last 1000 rows */
	replay(fx, mon, "reference.csv", "ref", false, NULL);
	live_report(mon, &r);
	assert_int_equal(r.window_rows, 1000);
	assert_int_equal(r.observed_rows, 3000);
	check_drift(fx, &r, tail, ARRAY_SIZE(tail), "reference.csv");
	assert_int_equal(r.labelled, 0);
	assert_int_equal(r.nquality, 0);
	live_report_release(&r);

	replay(fx, mon, "batch_01_nodrift.csv", "b1", true, &p1);
	live_report(mon, &r);
	assert_int_equal(r.window_rows, 1000);
	check_drift(fx, &r, b1, ARRAY_SIZE(b1), "batch_01_nodrift.csv");
	assert_true(r.drift_share == 0);
	assert_false(r.dataset_drift);
	assert_int_equal(r.labelled, 1000);
	f1_b1 = metric(&r, "f1");
	assert_true(fabs(f1_b1 - f1_of(&p1)) < 1e-12);
	assert_true(fabs(metric(&r, "accuracy") - accuracy_of(&p1)) < 1e-12);
	assert_true(fabs(metric(&r, "roc_auc") - auc_of(&p1)) < 1e-12);
	assert_true(r.prediction_drift);
	assert_string_equal(r.prediction.method, "wasserstein");
	pred_b1 = r.prediction.score;
	assert_int_equal(r.feedback_matched, 1000);
	live_report_release(&r);

	replay(fx, mon, "batch_02_drift.csv", "b2", true, &p2);
	live_report(mon, &r);
	check_drift(fx, &r, b2, ARRAY_SIZE(b2), "batch_02_drift.csv");
	/* the manifest's drifted columns are among those flagged */
	assert_true(find(&r, "total_day_minutes")->detected);
	assert_true(find(&r, "total_day_charge")->detected);
	assert_true(find(&r, "international_plan")->detected);
	f1_b2 = metric(&r, "f1");
	assert_true(fabs(f1_b2 - f1_of(&p2)) < 1e-12);
	assert_true(fabs(metric(&r, "accuracy") - accuracy_of(&p2)) < 1e-12);
	assert_true(f1_b2 < f1_b1);
	/* the drifted minutes push the churn probabilities up */
	assert_true(r.prediction.score > pred_b1);
	live_report_release(&r);
	live_monitor_free(mon);
}

/* Without the rows: the stored profile's histogram still sees batch_02's day minutes. */
static void test_profile_fallback(void **state)
{
	struct fixture *fx = *state;
	struct live_options o = LIVE_OPTIONS_INIT;
	struct live_monitor *mon = NULL;
	struct live_report r;
	struct error err = ERROR_INIT;

	o.window = 1000;
	assert_int_equal(live_monitor_new(&mon, &fx->sm.m, NULL, &o, &err), 0);
	assert_true(live_monitor_has_reference(mon));
	assert_non_null(strstr(live_monitor_note(mon), "profile"));
	replay(fx, mon, "batch_02_drift.csv", "b2", false, NULL);
	live_report(mon, &r);
	assert_true(find(&r, "total_day_minutes")->detected);
	assert_true(find(&r, "international_plan")->detected);
	assert_false(find(&r, "total_eve_minutes")->detected);
	assert_false(r.prediction_drift); /* no reference predictions */
	live_report_release(&r);
	live_monitor_free(mon);
}

/*
 * The request's column order does not matter: the same rows with their columns reversed give
 * the same scores, to the bit, as in the file's order.
 */
static void test_column_order(void **state)
{
	struct fixture *fx = *state;
	struct live_options o = LIVE_OPTIONS_INIT;
	struct live_monitor *mon[2] = { NULL, NULL };
	struct live_report r[2];
	struct error err = ERROR_INIT;

	o.window = 1000;
	for (int i = 0; i < 2; i++) {
		assert_int_equal(live_monitor_new(&mon[i], &fx->sm.m, NULL, &o, &err), 0);
		replay_reversed = i == 1;
		replay(fx, mon[i], "batch_02_drift.csv", "b2", false, NULL);
		live_report(mon[i], &r[i]);
	}
	replay_reversed = false;
	assert_int_equal(r[0].nfeatures, fx->sm.m.pre.nfeatures);
	assert_int_equal(r[1].nfeatures, r[0].nfeatures);
	for (size_t i = 0; i < r[0].nfeatures; i++) {
		const struct live_drift *d = find(&r[1], r[0].features[i].name);

		assert_memory_equal(&d->score, &r[0].features[i].score, sizeof(d->score));
	}
	assert_true(find(&r[1], "total_day_minutes")->detected);
	for (int i = 0; i < 2; i++) {
		live_report_release(&r[i]);
		live_monitor_free(mon[i]);
	}
}

/* Multi-row requests, unknown ids, bad labels, reused ids and eviction, counted. */
static void test_feedback_bookkeeping(void **state)
{
	struct fixture *fx = *state;
	struct live_options o = LIVE_OPTIONS_INIT;
	struct live_monitor *mon = NULL;
	struct live_report r;
	struct error err = ERROR_INIT;
	const char *names[] = { "x" };
	struct csv_field fld[3] = { { .str = "", .line = 1, .col = 1 },
				    { .str = "", .line = 2, .col = 1 },
				    { .str = "", .line = 3, .col = 1 } };
	double out[6] = { 0.9, 0.1, 0.2, 0.8, 0.4, 0.6 };
	size_t labels[3] = { 0, 1, 1 };
	const char *three[] = { "no", "yes", "no" }, *bad[] = { "maybe" };

	o.window = 100;
	o.pending = 4;
	assert_int_equal(live_monitor_new(&mon, &fx->sm.m, fx->ref, &o, &err), 0);
	/* the rows lack the model's columns: their features count as missing, outputs count */
	live_observe(mon, names, 1, 3, fld, out, labels, "multi");
	assert_int_equal(live_feedback(mon, "multi", three, 2), LIVE_FEEDBACK_INVALID);
	assert_int_equal(live_feedback(mon, "multi", bad, 1), LIVE_FEEDBACK_INVALID);
	assert_int_equal(live_feedback(mon, "nobody", three, 1), LIVE_FEEDBACK_UNKNOWN);
	assert_int_equal(live_feedback(mon, "multi", three, 3), LIVE_FEEDBACK_MATCHED);
	assert_int_equal(live_feedback(mon, "multi", three, 3), LIVE_FEEDBACK_UNKNOWN);
	live_report(mon, &r);
	/* pairs (0,no) (1,yes) (1,no): accuracy 2/3, precision 1/2, recall 1, f1 2/3 */
	assert_int_equal(r.labelled, 3);
	assert_true(fabs(metric(&r, "accuracy") - 2.0 / 3) < 1e-12);
	assert_true(fabs(metric(&r, "precision") - 0.5) < 1e-12);
	assert_true(fabs(metric(&r, "recall") - 1) < 1e-12);
	assert_true(fabs(metric(&r, "f1") - 2.0 / 3) < 1e-12);
	/* scores 0.1 (no), 0.8 (yes), 0.6 (no): the positive outranks both negatives */
	assert_true(fabs(metric(&r, "roc_auc") - 1) < 1e-12);
	assert_int_equal(r.feedback_matched, 1);
	assert_int_equal(r.feedback_unknown, 2);
	assert_int_equal(r.feedback_invalid, 2);
	live_report_release(&r);

	/*
	 * 4 pending rows at most: a, b, c (one row each, at rows 3, 4, 5 of the ring), then d's 2
	 * rows (6, 7) overwrite row 3: a is evicted, b and c are still there
	 */
	live_observe(mon, names, 1, 1, fld, out, labels, "a");
	live_observe(mon, names, 1, 1, fld, out, labels, "b");
	live_observe(mon, names, 1, 1, fld, out, labels, "c");
	live_observe(mon, names, 1, 2, fld, out, labels, "d");
	assert_int_equal(live_feedback(mon, "a", three, 1), LIVE_FEEDBACK_UNKNOWN);
	assert_int_equal(live_feedback(mon, "b", three, 1), LIVE_FEEDBACK_MATCHED);
	assert_int_equal(live_feedback(mon, "c", three, 1), LIVE_FEEDBACK_MATCHED);
	/* a reused id replaces the older request (2 rows), which counts as evicted */
	live_observe(mon, names, 1, 1, fld, out, labels, "d");
	assert_int_equal(live_feedback(mon, "d", three, 2), LIVE_FEEDBACK_INVALID);
	assert_int_equal(live_feedback(mon, "d", three + 1, 1), LIVE_FEEDBACK_MATCHED);
	live_report(mon, &r);
	assert_int_equal(r.evicted, 1 + 2);
	assert_int_equal(r.labelled, 3 + 3);
	live_report_release(&r);
	live_monitor_free(mon);
}

/*
 * A reference of 800 rows (reference.csv's first): Evidently's small-sample tests. scipy 1.10 on
 * the same rows vs batch_02: chisquare / z p-values, which exact counts reproduce; for ks,
 * lo = kstwo.sf(D, n) and hi = kstwo.sf(max(D - 2 eps, 0), n) with D = ks_2samp's statistic,
 * n = round(800 * 1000 / 1800) and eps = 0.0165: the monitor's p = kstwo.sf(max(D' - eps, 0), n)
 * for its sketch's D' within eps of D must lie in [lo, hi].
 */
static const struct {
	const char *column, *method;
	double p, lo, hi;
} small[] = {
	{ "state", "chisquare", 2.5560555692503807e-08, 0, 0 },
	{ "area_code", "chisquare", 0.14409685267913155, 0, 0 },
	/* z: 2 * norm.sf(|z|) (Evidently's 2 * (1 - norm.cdf(|z|)) rounds the first to 0) */
	{ "international_plan", "z", 4.7089569662103225e-23, 0, 0 },
	{ "voice_mail_plan", "z", 0.00044406603726532457, 0, 0 },
	{ "account_length", "ks", 0, 0.73231523420843925, 1 },
	{ "number_vmail_messages", "ks", 0, 0.0051674377412717996, 0.23936862403683945 },
	{ "total_day_minutes", "ks", 0, 9.4200233755006618e-54, 2.5447997858114331e-44 },
	{ "total_day_calls", "ks", 0, 0.16691484248648103, 0.99478255421306105 },
	{ "total_day_charge", "ks", 0, 9.4200233755006618e-54, 2.5447997858114331e-44 },
	{ "total_eve_minutes", "ks", 0, 0.4176739100003507, 0.99999999999999523 },
	{ "total_eve_calls", "ks", 0, 0.88735565341377654, 1 },
	{ "total_eve_charge", "ks", 0, 0.47237237310985303, 1 },
	{ "total_night_minutes", "ks", 0, 0.16691484248648103, 0.99478255421306105 },
	{ "total_night_calls", "ks", 0, 0.72362084299758966, 1 },
	{ "total_night_charge", "ks", 0, 0.17489087896006461, 0.99629933891967482 },
	{ "total_intl_minutes", "ks", 0, 0.99478255421306105, 1 },
	{ "total_intl_calls", "ks", 0, 0.66184960074833321, 1 },
	{ "total_intl_charge", "ks", 0, 0.99478255421306105, 1 },
	{ "number_customer_service_calls", "ks", 0, 0.99913547838583472, 1 },
};

static void test_small_reference(void **state)
{
	struct fixture *fx = *state;
	struct live_options o = LIVE_OPTIONS_INIT;
	struct live_monitor *mon = NULL;
	struct table *ref = NULL;
	struct live_report r;
	struct error err = ERROR_INIT;
	char *path = drift_file(fx, "reference.csv"), *text = NULL, *at;
	size_t len = 0;
	FILE *f = fopen(path, "r");

	assert_non_null(f);
	assert_true(getdelim(&text, &len, '\0', f) > 0);
	fclose(f);
	at = text;
	for (int line = 0; line < 801; line++) /* the header and 800 rows */
		at = strchr(at, '\n') + 1;
	assert_int_equal(
	    table_load_buffer(&ref, "ref800.csv", text, (size_t)(at - text), NULL, &err), 0);
	assert_int_equal(ref->nrows, 800);
	o.window = 1000;
	assert_int_equal(live_monitor_new(&mon, &fx->sm.m, ref, &o, &err), 0);
	replay(fx, mon, "batch_02_drift.csv", "s", false, NULL);
	live_report(mon, &r);
	assert_int_equal(r.nfeatures, ARRAY_SIZE(small));
	for (size_t i = 0; i < ARRAY_SIZE(small); i++) {
		const struct live_drift *d = find(&r, small[i].column);

		assert_string_equal(d->method, small[i].method);
		assert_true(d->threshold == 0.05);
		if (strcmp(small[i].method, "ks")) {
			/*
			 * Evidently's z p-value is 2 (1 - Phi(|z|)), which is 0 in doubles far in
			 * the tail where scipy's 2 sf(|z|) is 4.7e-23: agree to 1e-12 absolute.
			 */
			if (fabs(d->score - small[i].p) > 1e-9 * small[i].p + 1e-12)
				fail_msg("%s: p %.17g, scipy %.17g", small[i].column, d->score,
					 small[i].p);
			assert_int_equal(d->detected, small[i].p < 0.05);
			continue;
		}
		if (d->score < small[i].lo * (1 - 1e-6) || d->score > small[i].hi * (1 + 1e-6))
			fail_msg("%s: ks p %.6g outside [%.6g, %.6g]", small[i].column, d->score,
				 small[i].lo, small[i].hi);
		/* where the whole bracket is on one side of 0.05, the decision is scipy's */
		if (small[i].hi <= 0.05)
			assert_true(d->detected);
		if (small[i].lo > 0.05)
			assert_false(d->detected);
	}
	live_report_release(&r);
	live_monitor_free(mon);
	table_free(ref);
	free(text);
	free(path);
}

struct worker {
	struct live_monitor *mon;
	const char *const *names;
	size_t ncols, nrows;
	const struct csv_field *fields; /* nrows x ncols */
	const double *out;		/* nrows x 2 */
	const size_t *labels;
	int id;
};

/* 2,000 one-row requests and 100 three-row ones, each id labelled right after. */
static void *observe_many(void *arg)
{
	struct worker *w = arg;

	for (int i = 0; i < 2100; i++) {
		size_t r = (size_t)i % (w->nrows - 3), n = i < 2000 ? 1 : 3;
		const char *truth[3] = { "no", "yes", "no" };
		char id[64];

		snprintf(id, sizeof(id), "w%d-%d", w->id, i);
		live_observe(w->mon, w->names, w->ncols, n, w->fields + r * w->ncols,
			     w->out + 2 * r, w->labels + r, id);
		enum live_feedback_result res = live_feedback(w->mon, id, truth, n);

		if (res != LIVE_FEEDBACK_MATCHED)
			fail_msg("feedback for %s: %d", id, (int)res);
	}
	return NULL;
}

static void *report_many(void *arg)
{
	for (int i = 0; i < 50; i++) {
		struct live_report r;

		live_report(arg, &r);
		live_report_release(&r);
	}
	return NULL;
}

/* Four request threads and a scraping one: every row and label is counted once. */
static void test_concurrent(void **state)
{
	struct fixture *fx = *state;
	struct live_options o = LIVE_OPTIONS_INIT;
	struct live_monitor *mon = NULL;
	struct error err = ERROR_INIT;
	char *path = drift_file(fx, "batch_01_nodrift.csv");
	struct csv_reader *r = NULL;
	const struct csv_field *f;
	size_t ncols, n = 0, cap = 64;
	struct csv_field *fields;
	char **texts;
	double out[2 * 64];
	size_t labels[64];
	struct worker w[4];
	pthread_t th[5];
	struct live_report rep;

	assert_int_equal(csv_open(&r, path, &err), 0);
	ncols = csv_ncols(r);
	fields = xcalloc(cap * ncols, sizeof(*fields));
	texts = xcalloc(cap * ncols, sizeof(*texts));
	while (n < cap && csv_next(&f, r, &err) == 1) {
		for (size_t c = 0; c < ncols; c++) {
			/* the NUL and CSV_FIELD_PADDING readable bytes after it, as csv_next's */
			texts[n * ncols + c] = xcalloc(f[c].len + 1 + CSV_FIELD_PADDING, 1);
			memcpy(texts[n * ncols + c], f[c].str, f[c].len);
			fields[n * ncols + c] = f[c];
			fields[n * ncols + c].str = texts[n * ncols + c];
		}
		assert_int_equal(serve_score(&fx->sm, csv_column_names(r), ncols, 1,
					     fields + n * ncols, out + 2 * n, labels + n, &err),
				 0);
		n++;
	}
	o.window = 3000;
	o.pending = 20000; /* more than all rows: a preempted thread's request is never evicted */
	assert_int_equal(live_monitor_new(&mon, &fx->sm.m, fx->ref, &o, &err), 0);
	for (int i = 0; i < 4; i++) {
		w[i] =
		    (struct worker){ mon, csv_column_names(r), ncols, n, fields, out, labels, i };
		assert_int_equal(pthread_create(&th[i], NULL, observe_many, &w[i]), 0);
	}
	assert_int_equal(pthread_create(&th[4], NULL, report_many, mon), 0);
	for (int i = 0; i < 5; i++)
		pthread_join(th[i], NULL);
	live_report(mon, &rep);
	assert_int_equal(rep.observed_rows, 4 * (2000 + 100 * 3));
	/* 9200 rows in blocks of 300: 9 full blocks and the newest with 200 */
	assert_int_equal(rep.window_rows, 2900);
	assert_int_equal(rep.feedback_matched, 4 * 2100);
	assert_int_equal(rep.evicted, 0);
	assert_int_equal(rep.labelled, 3000);
	assert_true(rep.drift && rep.nfeatures == 19);
	live_report_release(&rep);
	live_monitor_free(mon);
	for (size_t i = 0; i < n * ncols; i++)
		free(texts[i]);
	free(texts);
	free(fields);
	csv_free(r);
	free(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_drift_and_quality),    cmocka_unit_test(test_small_reference),
		cmocka_unit_test(test_profile_fallback),     cmocka_unit_test(test_column_order),
		cmocka_unit_test(test_feedback_bookkeeping), cmocka_unit_test(test_concurrent),
	};

	setenv("OMP_WAIT_POLICY", "passive", 0); /* before libxgboost loads OpenMP */
	return cmocka_run_group_tests(tests, setup, teardown);
}
