/*
 * One monitoring pass (monitor/monitor_run.h): load the model, its reference data and the
 * window; drift, prediction drift and live quality into one JSON report; then the store, the
 * alert rules and their webhooks. The alert half is in the second part of this file.
 */
#include "util/common.h"
#include "monitor/monitor_run.h"
#include "ml/metrics.h"
#include "ml/model.h"
#include "ml/score.h"
#include "monitor/drift_report.h"
#include "monitor/reference.h"
#include "monitor/webhook.h"
#include "monitor/window.h"
#include "util/id.h"
#include "util/parse.h"

#include <math.h>

struct pass {
	const struct monitor_run_options *o;
	struct model m;
	struct table *ref;
	struct monitor_window *w;
	struct drift_report *drift;	 /* NULL when the window is too small */
	struct drift_report *pred_drift; /* NULL when not computed */
	json_t *quality;		 /* NULL without enough labelled rows */
	json_t *notes;			 /* array of strings */
	struct alert_rule *rules;
	size_t n_rules;
	uint64_t min_rows, min_labelled, usable_labels;
	int64_t now;
	const char *verdict;
};

static void note(struct pass *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void note(struct pass *p, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	json_array_append_new(p->notes, json_string(sb.buf));
	strbuf_release(&sb);
}

static json_t *num_json(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

/* Setup ---------------------------------------------------------------------------------------- */

static int parse_rules(struct pass *p, struct error *err)
{
	const struct monitor_config *c = p->o->config;
	int rc;

	p->rules = xcalloc(c->n_alerts ? c->n_alerts : 1, sizeof(*p->rules));
	for (size_t i = 0; i < c->n_alerts; i++) {
		p->rules[i] = (struct alert_rule)ALERT_RULE_INIT;
		p->n_rules++;
		if ((rc =
			 alert_rule_parse(&p->rules[i], c->alerts[i].name, c->alerts[i].when, err)))
			return rc;
	}
	return 0;
}

static int load_reference(struct pass *p, struct error *err)
{
	const struct monitor_run_options *o = p->o;
	int rc;

	if (o->reference_path) {
		if ((rc = table_load(&p->ref, o->reference_path, NULL, err)) < 0)
			return rc;
		return monitor_reference_check(&p->m, p->ref, o->reference_path, err);
	}
	if ((rc = monitor_reference_load(&p->ref, &p->m, o->cache_dir, o->root, err)) < 0)
		return rc;
	return monitor_reference_check(&p->m, p->ref, "the reference data", err);
}

static int read_window(struct pass *p, struct error *err)
{
	const struct monitor_run_options *o = p->o;
	struct window_options wo = {
		o->log_dir, o->model_name, o->window_rows, o->since_ms, &p->m.pre, &p->m.target, 0
	};
	struct monitor_window *w;
	int rc;

	if ((rc = monitor_window_read(&p->w, &wo, err)) < 0)
		return rc;
	w = p->w;
	if (w->damaged)
		note(p, "%" PRIu64 " damaged log line(s) skipped", w->damaged);
	if (w->bad_values)
		note(p, "%" PRIu64 " input value(s) of the wrong type taken as missing",
		     w->bad_values);
	if (w->feedback_ambiguous)
		note(p,
		     "%" PRIu64 " feedback record(s) left out: one label for a request of several "
		     "rows, or a list of labels of another length (send one label per row)",
		     w->feedback_ambiguous);
	if (!w->n && w->other_models)
		note(p, "the log holds %" PRIu64 " prediction(s) of other models, none of '%s'",
		     w->other_models, o->model_name);
	if (w->n && w->digest && strcmp(w->digest, p->m.digest))
		note(p, "the window's newest predictions come from model %s, not the monitored %s",
		     w->digest, p->m.digest);
	if (w->versions_seen > 1)
		note(p, "the window mixes %" PRIu64 " model versions", w->versions_seen);
	return 0;
}

/* Drift ---------------------------------------------------------------------------------------- */

/* The model's predictions on its reference rows, as a one-column table "prediction". */
static int reference_predictions(struct table **out, struct pass *p, struct error *err)
{
	const struct model *m = &p->m;
	size_t n = p->ref->nrows, k = model_output_width(m), nf = m->pre.nfeatures;
	size_t *cols = xcalloc(nf ? nf : 1, sizeof(*cols)), *rows = NULL;
	double *X = NULL, *y = NULL, *values = NULL;
	const char **labels = NULL;
	struct table *t = table_new("reference predictions");
	int rc = 0;

	for (size_t f = 0; f < nf; f++)
		if ((rc = table_find(&cols[f], p->ref, m->pre.features[f].name, err)) < 0)
			goto out;
	rows = xcalloc(SCORE_BATCH, sizeof(*rows));
	X = xcalloc(SCORE_BATCH * (m->pre.width ? m->pre.width : 1), sizeof(*X));
	y = xcalloc(SCORE_BATCH * k, sizeof(*y));
	if (m->target.task == TASK_REGRESSION)
		values = xcalloc(n, sizeof(*values));
	else
		labels = xcalloc(n, sizeof(*labels));
	for (size_t start = 0; start < n; start += SCORE_BATCH) {
		size_t nb = n - start < SCORE_BATCH ? n - start : SCORE_BATCH;

		for (size_t i = 0; i < nb; i++)
			rows[i] = start + i;
		preprocess_transform(&m->pre, p->ref, cols, rows, nb, X);
		if ((rc = model_predict(m, X, nb, y, err)) < 0)
			goto out;
		for (size_t i = 0; i < nb; i++) {
			if (values)
				values[start + i] = y[i];
			else
				labels[start + i] = m->target.classes[model_decide(m, y + i * k)];
		}
	}
	rc = values ? table_add_numeric(t, "prediction", values, n, err)
		    : table_add_categorical(t, "prediction", (const char *const *)labels, n, err);
out:
	if (rc < 0)
		table_free(t);
	else
		*out = t;
	free(cols);
	free(rows);
	free(X);
	free(y);
	free(values);
	free(labels);
	return rc;
}

static int window_predictions(struct table **out, const struct monitor_window *w, struct error *err)
{
	struct table *t = table_new("window predictions");
	int rc;

	if (w->pred_values)
		rc = table_add_numeric(t, "prediction", w->pred_values, w->n, err);
	else
		rc = table_add_categorical(t, "prediction", (const char *const *)w->pred_labels,
					   w->n, err);
	if (rc < 0) {
		table_free(t);
		return rc;
	}
	*out = t;
	return 0;
}

static int prediction_drift(struct pass *p, struct error *err)
{
	struct drift_options d = p->o->config->drift;
	struct table *ref = NULL, *cur = NULL;
	int rc;

	/* per-column overrides name input columns, not "prediction" */
	d.columns = NULL;
	d.n_columns = 0;
	if ((rc = reference_predictions(&ref, p, err)) < 0 ||
	    (rc = window_predictions(&cur, p->w, err)) < 0 ||
	    (rc = drift_report_tables(&p->pred_drift, ref, cur, &d, err)) < 0)
		error_prefix(err, "prediction drift: ");
	table_free(ref);
	table_free(cur);
	return rc;
}

static int drift(struct pass *p, struct error *err)
{
	struct drift_options d = p->o->config->drift;
	int rc;

	if (p->w->n < p->min_rows) {
		note(p,
		     "insufficient data: %zu prediction(s) in the window, at least %" PRIu64
		     " needed for drift",
		     p->w->n, p->min_rows);
		p->verdict = "insufficient_data";
		return 0;
	}
	if ((rc = drift_report_tables(&p->drift, p->ref, p->w->inputs, &d, err)) < 0)
		return rc;
	p->verdict = p->drift->verdict == DRIFT_VERDICT_DRIFT  ? "drift"
		     : p->drift->verdict == DRIFT_VERDICT_NONE ? "no_drift"
							       : "insufficient_data";
	return prediction_drift(p, err);
}

/* Quality -------------------------------------------------------------------------------------- */

/* The class index of label text: exact, then as a number or boolean for such targets; or -1. */
static int class_of(const struct target *t, const char *label)
{
	double v;
	int b;

	if (!label)
		return -1;
	for (size_t c = 0; c < t->nclasses; c++)
		if (!strcmp(t->classes[c], label))
			return (int)c;
	if (t->class_values && !parse_double(label, &v)) {
		for (size_t c = 0; c < t->nclasses; c++)
			if (t->class_values[c] == v)
				return (int)c;
	}
	if (t->type == COLUMN_BOOLEAN && (b = table_parse_bool(label, strlen(label))) >= 0) {
		for (size_t c = 0; c < t->nclasses; c++)
			if (table_parse_bool(t->classes[c], strlen(t->classes[c])) == b)
				return (int)c;
	}
	return -1;
}

static void put_auc(struct pass *p, json_t *q, const int *y, const double *proba, size_t n,
		    size_t k)
{
	struct error e = ERROR_INIT;
	double auc = NAN;
	double *score = NULL;

	for (size_t i = 0; i < n * k; i++) {
		if (!isfinite(proba[i])) {
			note(p, "roc_auc: the log has no probabilities for some labelled rows");
			return;
		}
	}
	if (k == 2) {
		score = xcalloc(n, sizeof(*score));
		for (size_t i = 0; i < n; i++)
			score[i] = proba[i * 2 + 1];
		if (metrics_roc_auc_binary(&auc, y, score, n, &e) < 0)
			auc = NAN;
		free(score);
	} else if (metrics_roc_auc_ovr(&auc, y, proba, n, k, &e) < 0) {
		auc = NAN;
	}
	if (isnan(auc))
		note(p, "roc_auc is undefined on these labels: %s", e.msg);
	json_object_set_new(q, "roc_auc", num_json(auc));
}

static int classification_quality(struct pass *p, struct error *err)
{
	const struct monitor_window *w = p->w;
	const struct target *t = &p->m.target;
	size_t k = t->nclasses, n = 0, unknown = 0;
	int *y = xcalloc(w->n ? w->n : 1, sizeof(*y)), *yp = xcalloc(w->n ? w->n : 1, sizeof(*yp));
	double *proba = xcalloc((w->n ? w->n : 1) * k, sizeof(*proba)), acc = NAN;
	struct class_scores *per = xcalloc(k, sizeof(*per));
	uint64_t *conf = xcalloc(k * k, sizeof(*conf));
	json_t *q = NULL, *cm;
	double prec = 0, rec = 0, f1 = 0;
	int rc = 0;

	for (size_t i = 0; i < w->n; i++) {
		int a, b;

		if (!w->labels[i])
			continue;
		a = class_of(t, w->labels[i]);
		b = class_of(t, w->pred_labels[i]);
		if (a < 0 || b < 0) {
			unknown++;
			continue;
		}
		y[n] = a;
		yp[n] = b;
		memcpy(proba + n * k, w->proba + i * k, k * sizeof(*proba));
		n++;
	}
	p->usable_labels = n;
	if (unknown)
		note(p, "%zu label(s) are not classes of the model and were left out", unknown);
	if (n < p->min_labelled) {
		note(p,
		     "insufficient labels: %zu labelled prediction(s), at least %" PRIu64
		     " needed for quality",
		     n, p->min_labelled);
		goto out;
	}
	if ((rc = metrics_accuracy(&acc, y, yp, n, k, err)) < 0 ||
	    (rc = metrics_class_scores(per, y, yp, n, k, err)) < 0 ||
	    (rc = metrics_confusion_matrix(conf, y, yp, n, k, err)) < 0)
		goto out;
	if (k == 2) {
		prec = per[1].precision;
		rec = per[1].recall;
		f1 = per[1].f1;
	} else {
		for (size_t c = 0; c < k; c++) {
			prec += per[c].precision / (double)k;
			rec += per[c].recall / (double)k;
			f1 += per[c].f1 / (double)k;
		}
	}
	q = json_pack("{s:I, s:f, s:f, s:f, s:f}", "rows", (json_int_t)n, "accuracy", acc,
		      "precision", prec, "recall", rec, "f1", f1);
	put_auc(p, q, y, proba, n, k);
	cm = json_array();
	for (size_t r = 0; r < k; r++) {
		json_t *row = json_array();

		for (size_t c = 0; c < k; c++)
			json_array_append_new(row, json_integer((json_int_t)conf[r * k + c]));
		json_array_append_new(cm, row);
	}
	json_object_set_new(q, "confusion_matrix", cm);
	p->quality = q;
out:
	free(y);
	free(yp);
	free(proba);
	free(per);
	free(conf);
	return rc;
}

static int regression_quality(struct pass *p, struct error *err)
{
	const struct monitor_window *w = p->w;
	double *y = xcalloc(w->n ? w->n : 1, sizeof(*y)),
	       *yp = xcalloc(w->n ? w->n : 1, sizeof(*yp));
	struct regression_metrics rm;
	size_t n = 0, unknown = 0;
	int rc = 0;

	for (size_t i = 0; i < w->n; i++) {
		if (!w->labels[i])
			continue;
		if (parse_double(w->labels[i], &y[n]) || !isfinite(y[n]) ||
		    !isfinite(w->pred_values[i])) {
			unknown++;
			continue;
		}
		yp[n++] = w->pred_values[i];
	}
	p->usable_labels = n;
	if (unknown)
		note(p, "%zu label(s) or prediction(s) are not numbers and were left out", unknown);
	if (n < p->min_labelled || n < 2) {
		note(p,
		     "insufficient labels: %zu labelled prediction(s), at least %" PRIu64
		     " needed for quality",
		     n, p->min_labelled > 2 ? p->min_labelled : 2);
		goto out;
	}
	if ((rc = metrics_regression(&rm, y, yp, n, err)) < 0)
		goto out;
	p->quality = json_pack("{s:I, s:o, s:o, s:o}", "rows", (json_int_t)n, "rmse",
			       num_json(rm.rmse), "mae", num_json(rm.mae), "r2", num_json(rm.r2));
out:
	free(y);
	free(yp);
	return rc;
}

static int quality(struct pass *p, struct error *err)
{
	if (!p->w->n)
		return 0;
	if (p->m.target.task == TASK_REGRESSION)
		return regression_quality(p, err);
	return classification_quality(p, err);
}

/* What `ferry train` measured (model.json "evaluation"."metrics"), the same keys only. */
static json_t *reference_quality(const struct model *m)
{
	static const char *const keys[] = { "accuracy", "precision", "recall", "f1",
					    "roc_auc",	"rmse",	     "mae",    "r2" };
	const json_t *src = json_object_get(json_object_get(m->meta, "evaluation"), "metrics");
	json_t *q;

	if (!json_is_object(src))
		return json_null();
	q = json_object();
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		const json_t *v = json_object_get(src, keys[i]);

		if (json_is_number(v))
			json_object_set_new(q, keys[i], json_real(json_number_value(v)));
	}
	return q;
}

/* The report ----------------------------------------------------------------------------------- */

static json_t *time_json(int64_t ms)
{
	char buf[40];

	if (ms <= 0)
		return json_null();
	time_format_iso8601(ms, buf, sizeof(buf));
	return json_string(buf);
}

static json_t *drifted_columns(const struct drift_report *r)
{
	json_t *a = json_array();

	for (size_t i = 0; r && i < r->n_columns; i++)
		if (r->columns[i].verdict == DRIFT_VERDICT_DRIFT)
			json_array_append_new(a, json_string(r->columns[i].name));
	return a;
}

static json_t *prediction_drift_json(const struct drift_report *r)
{
	const struct drift_column_result *c;

	if (!r || !r->n_columns)
		return json_null();
	c = &r->columns[0];
	return json_pack("{s:s, s:b, s:s, s:o, s:o}", "verdict", drift_verdict_name(c->verdict),
			 "drift", c->verdict == DRIFT_VERDICT_DRIFT, "test",
			 drift_test_name(c->test), "score", num_json(c->score), "threshold",
			 num_json(c->threshold));
}

static int64_t version_of(const struct pass *p)
{
	return p->o->model_version > 0 ? p->o->model_version : p->w->version;
}

static json_t *report_json(const struct pass *p)
{
	const struct monitor_window *w = p->w;
	json_t *j = json_object();

	json_object_set_new(j, "model", json_string(p->o->model_name));
	json_object_set_new(j, "version",
			    version_of(p) > 0 ? json_integer(version_of(p)) : json_null());
	json_object_set_new(j, "digest", json_string(p->m.digest));
	json_object_set_new(j, "time", time_json(p->now));
	json_object_set_new(
	    j, "window",
	    json_pack("{s:I, s:I, s:I, s:o, s:o, s:I, s:I, s:I, s:I, s:I, s:I}", "rows",
		      (json_int_t)w->n, "labelled", (json_int_t)w->labelled, "min_rows",
		      (json_int_t)p->min_rows, "start", time_json(w->start_ms), "end",
		      time_json(w->end_ms), "damaged", (json_int_t)w->damaged, "other_models",
		      (json_int_t)w->other_models, "bad_values", (json_int_t)w->bad_values,
		      "feedback_records", (json_int_t)w->feedback_records, "feedback_unmatched",
		      (json_int_t)w->feedback_unmatched, "feedback_ambiguous",
		      (json_int_t)w->feedback_ambiguous));
	json_object_set_new(j, "verdict", json_string(p->verdict));
	json_object_set_new(j, "drifted_columns", drifted_columns(p->drift));
	json_object_set_new(j, "drift", p->drift ? drift_report_to_json(p->drift) : json_null());
	json_object_set_new(j, "prediction_drift", prediction_drift_json(p->pred_drift));
	json_object_set_new(j, "quality", p->quality ? json_incref(p->quality) : json_null());
	json_object_set_new(j, "reference_quality", reference_quality(&p->m));
	json_object_set_new(j, "notes", json_incref(p->notes));
	return j;
}

/* Alerts --------------------------------------------------------------------------------------- */

static int metric_get(void *data, const char *metric, double *value)
{
	const struct pass *p = data;
	const struct drift_report *d = p->drift;
	const json_t *q;

	if (!strcmp(metric, "rows"))
		return *value = (double)p->w->n, 1;
	if (!strcmp(metric, "labelled"))
		return *value = (double)p->usable_labels, 1;
	if (!strncmp(metric, "drift.", 6)) {
		for (size_t i = 0; d && i < d->n_columns; i++) {
			const struct drift_column_result *c = &d->columns[i];

			if (!strcmp(c->name, metric + 6) &&
			    (c->verdict == DRIFT_VERDICT_DRIFT || c->verdict == DRIFT_VERDICT_NONE))
				return *value = c->score, 1;
		}
		return 0;
	}
	if (!strcmp(metric, "prediction_drift")) {
		const struct drift_column_result *c =
		    p->pred_drift && p->pred_drift->n_columns ? &p->pred_drift->columns[0] : NULL;

		if (!c || (c->verdict != DRIFT_VERDICT_DRIFT && c->verdict != DRIFT_VERDICT_NONE))
			return 0;
		return *value = c->verdict == DRIFT_VERDICT_DRIFT, 1;
	}
	if (d && d->n_tested) {
		if (!strcmp(metric, "drift_share"))
			return *value = d->share, 1;
		if (!strcmp(metric, "n_drifted"))
			return *value = (double)d->n_drifted, 1;
		if (!strcmp(metric, "dataset_drift"))
			return *value = d->dataset_drift, 1;
	}
	q = p->quality ? json_object_get(p->quality, metric) : NULL;
	if (json_is_number(q))
		return *value = json_number_value(q), 1;
	return 0;
}

static char *model_label(const struct pass *p)
{
	if (version_of(p) > 0)
		return xstrfmt("model %s v%" PRId64, p->o->model_name, version_of(p));
	return xstrfmt("model %s", p->o->model_name);
}

/* A value for people: counts as integers, the rest to 3 significant digits. */
static void value_text(char *out, size_t size, double v)
{
	if (isfinite(v) && v == floor(v) && fabs(v) < 1e15)
		snprintf(out, size, "%.0f", v);
	else
		snprintf(out, size, "%.3g", v);
}

static char *summary(const struct pass *p, const struct monitor_alert *a)
{
	char t[FORMAT_DOUBLE_SIZE], v[32], *who = model_label(p), *s;

	/* the threshold as written */
	format_double(t, a->threshold);
	value_text(v, sizeof(v), a->value);
	if (a->firing && a->metric)
		s = xstrfmt("ALERT %s: %s %s %s %s (%s)", a->name, a->metric, v,
			    alert_op_name(a->op), t, who);
	else if (a->metric)
		s = xstrfmt("RESOLVED %s: %s %s, no longer %s %s (%s)", a->name, a->metric, v,
			    alert_op_name(a->op), t, who);
	else
		s = xstrfmt("%s %s (%s)", a->firing ? "ALERT" : "RESOLVED", a->name, who);
	free(who);
	return s;
}

/* Steps one rule from its stored state; fills a and, on a transition, ev. */
static int step_rule(struct pass *p, const struct alert_rule *r, struct monitor_alert *a,
		     struct store_alert_state_put *put, struct error *err)
{
	struct alert_source src = { metric_get, p };
	struct alert_state st = { false, 0 };
	struct store_alert_state old = { 0 };
	struct alert_eval e;
	int64_t since = p->now;
	int rc;

	alert_rule_eval(&e, r, &src);
	if (p->o->store) {
		rc = store_alert_state_get(p->o->store, &old, p->o->model_name, r->name, err);
		if (rc < 0 && rc != ERR_NOTFOUND)
			return rc;
		/* a changed rule starts again from "ok" */
		if (!rc && old.when && !strcmp(old.when, r->text)) {
			st.firing = old.firing;
			st.streak = old.streak;
			since = old.since_time;
		}
		store_alert_state_release(&old);
		error_clear(err);
	}
	a->name = xstrdup(r->name);
	a->when = xstrdup(r->text);
	a->truth = e.truth;
	a->metric = e.cond ? xstrdup(e.cond->metric) : NULL;
	a->op = e.cond ? e.cond->op : ALERT_LT;
	a->threshold = e.cond ? e.cond->threshold : NAN;
	a->value = e.value;
	a->transition = alert_step(&st, r, e.truth);
	a->firing = st.firing;
	a->streak = st.streak;
	a->windows = r->windows;
	if (a->transition != ALERT_STAY) {
		since = p->now;
		a->summary = summary(p, a);
	}
	*put = (struct store_alert_state_put){ a->name,	  a->when, st.firing,
					       st.streak, e.value, since };
	return 0;
}

static json_t *alert_json(const struct monitor_alert *a)
{
	static const char *const transitions[] = { "none", "fired", "resolved" };

	return json_pack("{s:s, s:s, s:s, s:b, s:s, s:s?, s:s?, s:o, s:o, s:I, s:i, s:s, s:s?, "
			 "s:s?}",
			 "name", a->name, "when", a->when, "truth", alert_truth_name(a->truth),
			 "firing", a->firing, "transition", transitions[a->transition], "metric",
			 a->metric, "op", a->metric ? alert_op_name(a->op) : NULL, "value",
			 num_json(a->value), "threshold", num_json(a->threshold), "streak",
			 (json_int_t)a->streak, "windows", (int)a->windows, "webhook",
			 store_webhook_status_name(a->webhook), "webhook_detail", a->webhook_detail,
			 "summary", a->summary);
}

static void notify(struct pass *p, struct monitor_run_result *res, const int64_t *event_ids,
		   const size_t *event_alert, size_t n_events)
{
	const struct monitor_config *c = p->o->config;
	const char *url = p->o->webhook_url ? p->o->webhook_url : c->webhook_url;
	struct webhook_options wo = { c->webhook_timeout_ms, 3, 500 };

	for (size_t i = 0; url && i < n_events; i++) {
		struct monitor_alert *a = &res->alerts[event_alert[i]];
		struct webhook_alert wa = {
			p->o->model_name, version_of(p),    a->name,
			a->when,	  a->firing,	    a->metric,
			a->value,	  a->threshold,	    p->w->start_ms,
			p->w->end_ms,	  (int64_t)p->w->n, (int64_t)p->usable_labels,
			p->now,		  a->summary,
		};
		json_t *payload = webhook_payload(&wa);
		struct webhook_result wr;
		struct error e = ERROR_INIT;

		a->webhook = webhook_post(&wr, url, payload, &wo, &e) ? STORE_WEBHOOK_FAILED
								      : STORE_WEBHOOK_DELIVERED;
		a->webhook_detail = xstrdup(wr.detail);
		res->webhook_failures += a->webhook == STORE_WEBHOOK_FAILED;
		json_decref(payload);
		/* the pass is recorded already: a store error here leaves the event "pending" */
		if (p->o->store && event_ids)
			store_alert_event_set_webhook(p->o->store, event_ids[i], a->webhook,
						      a->webhook_detail, &e);
	}
}

static int record(struct pass *p, struct monitor_run_result *res, struct error *err)
{
	const struct monitor_run_options *o = p->o;
	const char *url = o->webhook_url ? o->webhook_url : o->config->webhook_url;
	struct store_alert_state_put *puts = xcalloc(p->n_rules + 1, sizeof(*puts));
	struct store_new_alert_event *events = xcalloc(p->n_rules + 1, sizeof(*events));
	int64_t *event_ids = xcalloc(p->n_rules + 1, sizeof(*event_ids));
	size_t *event_alert = xcalloc(p->n_rules + 1, sizeof(*event_alert)), n_events = 0;
	char *dc = NULL, *qj = NULL, *rj = NULL;
	json_t *alerts = json_array();
	int rc = 0;

	res->alerts = xcalloc(p->n_rules + 1, sizeof(*res->alerts));
	for (size_t i = 0; i < p->n_rules; i++) {
		struct monitor_alert *a = &res->alerts[i];

		res->n_alerts++;
		if ((rc = step_rule(p, &p->rules[i], a, &puts[i], err)) < 0)
			goto out;
		res->firing += a->firing;
		a->webhook = STORE_WEBHOOK_NONE;
		if (a->transition == ALERT_STAY)
			continue;
		a->webhook = url ? STORE_WEBHOOK_PENDING : STORE_WEBHOOK_NONE;
		events[n_events] = (struct store_new_alert_event){
			version_of(p), a->name,	     a->when, a->firing,  a->metric,
			a->value,      a->threshold, p->now,  a->webhook,
		};
		event_alert[n_events++] = i;
	}
	if (o->store) {
		struct store_new_monitor_result r = {
			.model = o->model_name,
			.version = version_of(p),
			.digest = p->m.digest,
			.window_start = p->w->start_ms,
			.window_end = p->w->end_ms,
			.rows = (int64_t)p->w->n,
			.labelled = (int64_t)p->w->labelled,
			.skipped = (int64_t)(p->w->damaged + p->w->bad_values),
			.drift_share = p->drift && p->drift->n_tested ? p->drift->share : NAN,
			.n_tested = p->drift ? (int64_t)p->drift->n_tested : 0,
			.n_drifted = p->drift ? (int64_t)p->drift->n_drifted : 0,
			.verdict = p->verdict,
			.created_time = p->now,
		};

		dc = json_dumps(json_object_get(res->json, "drifted_columns"), JSON_COMPACT);
		qj = p->quality ? json_dumps(p->quality, JSON_COMPACT) : NULL;
		rj = json_dumps(res->json, JSON_COMPACT);
		r.drifted_columns = dc;
		r.quality_json = qj;
		r.report_json = rj;
		if ((rc = store_monitor_record(o->store, &res->result_id, event_ids, &r, puts,
					       p->n_rules, events, n_events, err)) < 0)
			goto out;
	}
	notify(p, res, o->store ? event_ids : NULL, event_alert, n_events);
	for (size_t i = 0; i < res->n_alerts; i++)
		json_array_append_new(alerts, alert_json(&res->alerts[i]));
	json_object_set(res->json, "alerts", alerts);
	json_object_set_new(res->json, "result_id",
			    res->result_id ? json_integer(res->result_id) : json_null());
out:
	json_decref(alerts);
	free(puts);
	free(events);
	free(event_ids);
	free(event_alert);
	free(dc);
	free(qj);
	free(rj);
	return rc;
}

/* The pass ------------------------------------------------------------------------------------- */

static void pass_release(struct pass *p)
{
	model_release(&p->m);
	table_free(p->ref);
	monitor_window_free(p->w);
	drift_report_free(p->drift);
	drift_report_free(p->pred_drift);
	json_decref(p->quality);
	json_decref(p->notes);
	for (size_t i = 0; i < p->n_rules; i++)
		alert_rule_release(&p->rules[i]);
	free(p->rules);
}

int monitor_run(struct monitor_run_result **out, const struct monitor_run_options *o,
		struct error *err)
{
	struct pass p = { .o = o };
	struct monitor_run_result *res = xcalloc(1, sizeof(*res));
	uint64_t cfg_min = o->config->drift.min_rows;
	int rc;

	model_init(&p.m);
	p.notes = json_array();
	p.now = o->now_ms ? o->now_ms : time_now_ms();
	p.min_rows = o->min_rows ? o->min_rows : cfg_min > 1 ? cfg_min : MONITOR_MIN_ROWS;
	p.min_labelled = o->min_labelled ? o->min_labelled : p.min_rows;
	if ((rc = parse_rules(&p, err)) < 0 || (rc = model_load(&p.m, o->model_dir, err)) < 0 ||
	    (rc = load_reference(&p, err)) < 0 || (rc = read_window(&p, err)) < 0 ||
	    (rc = drift(&p, err)) < 0 || (rc = quality(&p, err)) < 0)
		goto out;
	res->verdict = p.verdict;
	res->json = report_json(&p);
	if ((rc = record(&p, res, err)) < 0)
		goto out;
	*out = res;
	res = NULL;
out:
	monitor_run_result_free(res);
	pass_release(&p);
	return rc;
}

void monitor_run_result_free(struct monitor_run_result *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n_alerts; i++) {
		free(r->alerts[i].name);
		free(r->alerts[i].when);
		free(r->alerts[i].metric);
		free(r->alerts[i].webhook_detail);
		free(r->alerts[i].summary);
	}
	free(r->alerts);
	json_decref(r->json);
	free(r);
}
