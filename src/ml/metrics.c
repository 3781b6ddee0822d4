/*
 * Classification and regression metrics, replicating scikit-learn 1.2.1's definitions. Sums use
 * Neumaier compensation and AUCs exact integer areas, so results do not depend on data order.
 */
#include "util/common.h"
#include "ml/metrics.h"

#include <float.h>
#include <math.h>

/* Neumaier's compensated sum: error independent of n, deterministic on every IEEE platform. */
struct ksum {
	double s;
	double c;
};

static void ksum_add(struct ksum *k, double x)
{
	double t = k->s + x;

	if (fabs(k->s) >= fabs(x))
		k->c += (k->s - t) + x;
	else
		k->c += (x - t) + k->s;
	k->s = t;
}

static double ksum_value(const struct ksum *k)
{
	return k->s + k->c;
}

static int check_common(size_t n, size_t k, struct error *err)
{
	if (n == 0)
		return error_set(err, ERR_INVALID, "no rows to evaluate");
	if (k < 2)
		return error_set(err, ERR_INVALID, "need at least 2 classes, got %zu", k);
	if (k > INT_MAX)
		return error_set(err, ERR_INVALID, "too many classes: %zu", k);
	return 0;
}

static int check_labels(const int *y, const char *what, size_t n, size_t k, struct error *err)
{
	for (size_t i = 0; i < n; i++) {
		if (y[i] < 0 || (size_t)y[i] >= k)
			return error_set(err, ERR_INVALID,
					 "%s[%zu] = %d is not a class index in 0..%zu", what, i,
					 y[i], k - 1);
	}
	return 0;
}

static int check_finite(const double *v, const char *what, size_t n, struct error *err)
{
	for (size_t i = 0; i < n; i++) {
		if (!isfinite(v[i]))
			return error_set(err, ERR_INVALID, "%s[%zu] is not a finite number", what,
					 i);
	}
	return 0;
}

static int check_classes(const int *y_true, const int *y_pred, size_t n, size_t k,
			 struct error *err)
{
	int ret = check_common(n, k, err);

	if (!ret)
		ret = check_labels(y_true, "y_true", n, k, err);
	if (!ret)
		ret = check_labels(y_pred, "y_pred", n, k, err);
	return ret;
}

int metrics_predict_classes(int *out, const double *proba, size_t n, size_t k, double threshold,
			    struct error *err)
{
	int ret = check_common(n, k, err);

	if (!ret)
		ret = check_finite(proba, "proba", n * k, err);
	if (ret)
		return ret;
	for (size_t i = 0; i < n; i++) {
		const double *row = proba + i * k;
		size_t best = 0;

		if (k == 2) {
			out[i] = row[1] >= threshold;
			continue;
		}
		for (size_t j = 1; j < k; j++) {
			if (row[j] > row[best])
				best = j;
		}
		out[i] = (int)best;
	}
	return 0;
}

int metrics_confusion_matrix(uint64_t *out, const int *y_true, const int *y_pred, size_t n,
			     size_t k, struct error *err)
{
	int ret = check_classes(y_true, y_pred, n, k, err);

	if (ret)
		return ret;
	memset(out, 0, k * k * sizeof(*out));
	for (size_t i = 0; i < n; i++)
		out[(size_t)y_true[i] * k + (size_t)y_pred[i]]++;
	return 0;
}

int metrics_accuracy(double *out, const int *y_true, const int *y_pred, size_t n, size_t k,
		     struct error *err)
{
	size_t correct = 0;
	int ret = check_classes(y_true, y_pred, n, k, err);

	if (ret)
		return ret;
	for (size_t i = 0; i < n; i++)
		correct += y_true[i] == y_pred[i];
	*out = (double)correct / (double)n;
	return 0;
}

/* sklearn's _prf_divide with zero_division="warn": 0 where the denominator is 0. */
static double ratio_or_zero(uint64_t num, uint64_t den)
{
	return den ? (double)num / (double)den : 0.0;
}

int metrics_class_scores(struct class_scores *out, const int *y_true, const int *y_pred, size_t n,
			 size_t k, struct error *err)
{
	uint64_t *tp = NULL, *pred = NULL, *truth = NULL;
	int ret = check_classes(y_true, y_pred, n, k, err);

	if (ret)
		return ret;
	tp = xcalloc(k, sizeof(*tp));
	pred = xcalloc(k, sizeof(*pred));
	truth = xcalloc(k, sizeof(*truth));
	for (size_t i = 0; i < n; i++) {
		pred[y_pred[i]]++;
		truth[y_true[i]]++;
		tp[y_true[i]] += y_true[i] == y_pred[i];
	}
	for (size_t c = 0; c < k; c++) {
		double p = ratio_or_zero(tp[c], pred[c]);
		double r = ratio_or_zero(tp[c], truth[c]);
		double denom = p + r;

		/* the exact expression of sklearn's fbeta with beta = 1 */
		out[c].precision = p;
		out[c].recall = r;
		out[c].f1 = 2.0 * p * r / (denom == 0.0 ? 1.0 : denom);
		out[c].support = (size_t)truth[c];
	}
	free(tp);
	free(pred);
	free(truth);
	return 0;
}

/* One row for ranking: its score and whether it belongs to the positive class. */
struct scored {
	double score;
	int pos;
};

static int cmp_score_desc(const void *a, const void *b)
{
	double x = ((const struct scored *)a)->score, y = ((const struct scored *)b)->score;

	return (x < y) - (x > y);
}

/*
 * ROC AUC and average precision of rows sorted by descending score. Rows with equal scores form
 * one threshold (sklearn's _binary_clf_curve), so the order among ties does not matter. The ROC
 * area is summed exactly in integers: twice the trapezoids over (fp, tp) steps, which fits in 64
 * bits for n < 2^32, then divided once by 2 * P * N.
 */
static void ranking_areas(double *roc, double *ap, const struct scored *s, size_t n,
			  uint64_t *n_pos, uint64_t *n_neg)
{
	uint64_t tp = 0, fp = 0, tp_prev = 0, fp_prev = 0, twice_area = 0;
	struct ksum prec = { 0, 0 };

	for (size_t i = 0; i < n; i++) {
		if (s[i].pos)
			tp++;
		else
			fp++;
		if (i + 1 < n && s[i + 1].score == s[i].score)
			continue;
		twice_area += (fp - fp_prev) * (tp + tp_prev);
		if (tp != tp_prev)
			ksum_add(&prec, (double)(tp - tp_prev) * ((double)tp / (double)(tp + fp)));
		tp_prev = tp;
		fp_prev = fp;
	}
	*n_pos = tp;
	*n_neg = fp;
	if (roc && tp && fp)
		*roc =
		    (double)((long double)twice_area / (2.0L * (long double)tp * (long double)fp));
	if (ap && tp)
		*ap = ksum_value(&prec) / (double)tp;
}

/*
 * Sorts rows of one class against the rest: positive when cls(i) == target, score from
 * score[i * stride]. Returns a malloc'ed array the caller frees.
 */
static struct scored *rank_rows(const int *y_true, int target, const double *score, size_t stride,
				size_t n)
{
	struct scored *s = xmalloc(n * sizeof(*s));

	for (size_t i = 0; i < n; i++) {
		s[i].score = score[i * stride];
		s[i].pos = y_true[i] == target;
	}
	qsort(s, n, sizeof(*s), cmp_score_desc);
	return s;
}

static int check_ranking(const int *y_true, const double *score, size_t nscores, size_t n, size_t k,
			 struct error *err)
{
	int ret = check_common(n, k, err);

	if (!ret && n > UINT32_MAX)
		ret = error_set(err, ERR_TOOBIG, "too many rows for a ranking metric: %zu", n);
	if (!ret)
		ret = check_labels(y_true, "y_true", n, k, err);
	if (!ret)
		ret = check_finite(score, "scores", nscores, err);
	return ret;
}

/*
 * One-vs-rest areas of class target with scores score[i * stride]. Which areas are wanted is
 * given by roc and ap being non-NULL.
 */
static int ovr_areas(double *roc, double *ap, const int *y_true, int target, const double *score,
		     size_t stride, size_t n, struct error *err)
{
	struct scored *s = rank_rows(y_true, target, score, stride, n);
	uint64_t npos, nneg;
	double r = 0, a = 0;

	ranking_areas(roc ? &r : NULL, ap ? &a : NULL, s, n, &npos, &nneg);
	free(s);
	if (roc && (!npos || !nneg))
		return error_set(err, ERR_INVALID,
				 "roc auc is undefined: y_true has no rows %s class %d",
				 npos ? "outside" : "of", target);
	if (ap && !npos)
		return error_set(err, ERR_INVALID,
				 "pr auc is undefined: y_true has no rows of class %d", target);
	if (roc)
		*roc = r;
	if (ap)
		*ap = a;
	return 0;
}

int metrics_roc_auc_binary(double *out, const int *y_true, const double *score, size_t n,
			   struct error *err)
{
	int ret = check_ranking(y_true, score, n, n, 2, err);

	if (!ret)
		ret = ovr_areas(out, NULL, y_true, 1, score, 1, n, err);
	return ret;
}

int metrics_pr_auc_binary(double *out, const int *y_true, const double *score, size_t n,
			  struct error *err)
{
	int ret = check_ranking(y_true, score, n, n, 2, err);

	if (!ret)
		ret = ovr_areas(NULL, out, y_true, 1, score, 1, n, err);
	return ret;
}

static int check_all_present(const int *y_true, size_t n, size_t k, struct error *err)
{
	unsigned char *seen = xcalloc(k, 1);
	size_t missing = k;

	for (size_t i = 0; i < n; i++)
		seen[y_true[i]] = 1;
	for (size_t c = 0; c < k; c++) {
		if (!seen[c]) {
			missing = c;
			break;
		}
	}
	free(seen);
	if (missing < k)
		return error_set(err, ERR_INVALID,
				 "one-vs-rest auc is undefined: class %zu does not occur in y_true",
				 missing);
	return 0;
}

/* sklearn refuses multiclass ROC AUC on rows that are not probabilities (np.allclose). */
static int check_rows_sum_to_one(const double *proba, size_t n, size_t k, struct error *err)
{
	for (size_t i = 0; i < n; i++) {
		double sum = 0;

		for (size_t j = 0; j < k; j++)
			sum += proba[i * k + j];
		if (!(fabs(1.0 - sum) <= 1e-8 + 1e-5 * fabs(sum)))
			return error_set(err, ERR_INVALID,
					 "multiclass roc auc needs probabilities: row %zu sums to "
					 "%.17g, not 1",
					 i, sum);
	}
	return 0;
}

static int ovr_macro(double *roc, double *ap, const int *y_true, const double *proba, size_t n,
		     size_t k, struct error *err)
{
	struct ksum roc_sum = { 0, 0 }, ap_sum = { 0, 0 };
	int ret = check_ranking(y_true, proba, n * k, n, k, err);

	if (!ret)
		ret = check_all_present(y_true, n, k, err);
	if (!ret && roc)
		ret = check_rows_sum_to_one(proba, n, k, err);
	for (size_t c = 0; !ret && c < k; c++) {
		double r = 0, a = 0;

		ret = ovr_areas(roc ? &r : NULL, ap ? &a : NULL, y_true, (int)c, proba + c, k, n,
				err);
		ksum_add(&roc_sum, r);
		ksum_add(&ap_sum, a);
	}
	if (ret)
		return ret;
	if (roc)
		*roc = ksum_value(&roc_sum) / (double)k;
	if (ap)
		*ap = ksum_value(&ap_sum) / (double)k;
	return 0;
}

int metrics_roc_auc_ovr(double *out, const int *y_true, const double *proba, size_t n, size_t k,
			struct error *err)
{
	return ovr_macro(out, NULL, y_true, proba, n, k, err);
}

int metrics_pr_auc_ovr(double *out, const int *y_true, const double *proba, size_t n, size_t k,
		       struct error *err)
{
	return ovr_macro(NULL, out, y_true, proba, n, k, err);
}

static double clip_prob(double p)
{
	const double eps = DBL_EPSILON;

	return p < eps ? eps : p > 1.0 - eps ? 1.0 - eps : p;
}

int metrics_log_loss(double *out, const int *y_true, const double *proba, size_t n, size_t k,
		     struct error *err)
{
	struct ksum loss = { 0, 0 };
	int ret = check_common(n, k, err);

	if (!ret)
		ret = check_labels(y_true, "y_true", n, k, err);
	if (!ret)
		ret = check_finite(proba, "proba", n * k, err);
	if (ret)
		return ret;
	for (size_t i = 0; i < n; i++) {
		const double *row = proba + i * k;
		double sum = 0;

		/* numpy sums short rows left to right, as here */
		for (size_t j = 0; j < k; j++)
			sum += clip_prob(row[j]);
		ksum_add(&loss, -log(clip_prob(row[y_true[i]]) / sum));
	}
	*out = ksum_value(&loss) / (double)n;
	return 0;
}

int metrics_log_loss_binary(double *out, const int *y_true, const double *p_pos, size_t n,
			    struct error *err)
{
	struct ksum loss = { 0, 0 };
	int ret = check_common(n, 2, err);

	if (!ret)
		ret = check_labels(y_true, "y_true", n, 2, err);
	if (!ret)
		ret = check_finite(p_pos, "proba", n, err);
	if (ret)
		return ret;
	for (size_t i = 0; i < n; i++) {
		/* sklearn clips the one column first, then builds [1 - p, p] and renormalises */
		double p = clip_prob(p_pos[i]);
		double q = 1.0 - p;

		ksum_add(&loss, -log((y_true[i] ? p : q) / (q + p)));
	}
	*out = ksum_value(&loss) / (double)n;
	return 0;
}

void classification_metrics_release(struct classification_metrics *m)
{
	if (!m)
		return;
	free(m->per_class);
	free(m->confusion);
	memset(m, 0, sizeof(*m));
}

static void macro_average(struct classification_metrics *m)
{
	struct ksum p = { 0, 0 }, r = { 0, 0 }, f = { 0, 0 };
	size_t k = m->n_classes;

	if (k == 2) {
		m->precision = m->per_class[1].precision;
		m->recall = m->per_class[1].recall;
		m->f1 = m->per_class[1].f1;
		return;
	}
	for (size_t c = 0; c < k; c++) {
		ksum_add(&p, m->per_class[c].precision);
		ksum_add(&r, m->per_class[c].recall);
		ksum_add(&f, m->per_class[c].f1);
	}
	m->precision = ksum_value(&p) / (double)k;
	m->recall = ksum_value(&r) / (double)k;
	m->f1 = ksum_value(&f) / (double)k;
}

static int ranking_metrics(struct classification_metrics *m, const int *y_true, const double *proba,
			   size_t n, size_t k, struct error *err)
{
	int ret;

	if (k > 2)
		return ovr_macro(&m->roc_auc, &m->pr_auc, y_true, proba, n, k, err);
	ret = check_ranking(y_true, proba, n * k, n, k, err);
	if (!ret)
		ret = ovr_areas(&m->roc_auc, &m->pr_auc, y_true, 1, proba + 1, 2, n, err);
	return ret;
}

int metrics_classification(struct classification_metrics *out, const int *y_true,
			   const double *proba, size_t n, size_t k, double threshold,
			   struct error *err)
{
	struct classification_metrics m = CLASSIFICATION_METRICS_INIT;
	int *pred = NULL;
	int ret = check_common(n, k, err);

	if (ret)
		return ret;
	m.n_classes = k;
	m.per_class = xcalloc(k, sizeof(*m.per_class));
	m.confusion = xcalloc(k * k, sizeof(*m.confusion));
	pred = xmalloc(n * sizeof(*pred));
	ret = metrics_predict_classes(pred, proba, n, k, threshold, err);
	if (!ret)
		ret = metrics_confusion_matrix(m.confusion, y_true, pred, n, k, err);
	if (!ret)
		ret = metrics_accuracy(&m.accuracy, y_true, pred, n, k, err);
	if (!ret)
		ret = metrics_class_scores(m.per_class, y_true, pred, n, k, err);
	if (!ret)
		ret = ranking_metrics(&m, y_true, proba, n, k, err);
	if (!ret)
		ret = metrics_log_loss(&m.log_loss, y_true, proba, n, k, err);
	if (ret)
		goto out;
	macro_average(&m);
	classification_metrics_release(out);
	*out = m;
	m.per_class = NULL;
	m.confusion = NULL;
out:
	classification_metrics_release(&m);
	free(pred);
	return ret;
}

int metrics_regression(struct regression_metrics *out, const double *y_true, const double *y_pred,
		       size_t n, struct error *err)
{
	struct ksum mean = { 0, 0 }, sq = { 0, 0 }, abs_err = { 0, 0 }, tot = { 0, 0 };
	double ym, ss_res, ss_tot;
	int ret = 0;

	if (n < 2)
		return error_set(err, ERR_INVALID,
				 "need at least 2 rows for regression metrics, got %zu", n);
	ret = check_finite(y_true, "y_true", n, err);
	if (!ret)
		ret = check_finite(y_pred, "y_pred", n, err);
	if (ret)
		return ret;
	for (size_t i = 0; i < n; i++) {
		double d = y_true[i] - y_pred[i];

		ksum_add(&mean, y_true[i]);
		ksum_add(&sq, d * d);
		ksum_add(&abs_err, fabs(d));
	}
	ym = ksum_value(&mean) / (double)n;
	for (size_t i = 0; i < n; i++)
		ksum_add(&tot, (y_true[i] - ym) * (y_true[i] - ym));
	ss_res = ksum_value(&sq);
	ss_tot = ksum_value(&tot);
	out->rmse = sqrt(ss_res / (double)n);
	out->mae = ksum_value(&abs_err) / (double)n;
	/* r2_score's force_finite: constant y_true scores 1 when predicted exactly, else 0 */
	if (ss_tot == 0.0)
		out->r2 = ss_res == 0.0 ? 1.0 : 0.0;
	else
		out->r2 = 1.0 - ss_res / ss_tot;
	return 0;
}

static int set_real(json_t *obj, const char *key, double v, struct error *err)
{
	json_t *j = json_real(v);

	if (!j || json_object_set_new(obj, key, j))
		return error_set(err, ERR_INVALID, "cannot store metric '%s' = %g in json", key, v);
	return 0;
}

static json_t *confusion_json(const struct classification_metrics *m)
{
	json_t *rows = json_array();
	size_t k = m->n_classes;

	for (size_t t = 0; t < k; t++) {
		json_t *row = json_array();

		for (size_t p = 0; p < k; p++)
			json_array_append_new(row,
					      json_integer((json_int_t)m->confusion[t * k + p]));
		json_array_append_new(rows, row);
	}
	return rows;
}

static json_t *per_class_json(const struct classification_metrics *m)
{
	json_t *arr = json_array();

	for (size_t c = 0; c < m->n_classes; c++) {
		const struct class_scores *s = &m->per_class[c];

		json_array_append_new(arr, json_pack("{s:f, s:f, s:f, s:I}", "precision",
						     s->precision, "recall", s->recall, "f1", s->f1,
						     "support", (json_int_t)s->support));
	}
	return arr;
}

int metrics_classification_json(json_t *obj, const struct classification_metrics *m,
				struct error *err)
{
	int ret = 0;

	if (!json_is_object(obj))
		return error_set(err, ERR_INVALID, "metrics need a json object");
	ret = set_real(obj, "accuracy", m->accuracy, err);
	if (!ret)
		ret = set_real(obj, "precision", m->precision, err);
	if (!ret)
		ret = set_real(obj, "recall", m->recall, err);
	if (!ret)
		ret = set_real(obj, "f1", m->f1, err);
	if (!ret)
		ret = set_real(obj, "roc_auc", m->roc_auc, err);
	if (!ret)
		ret = set_real(obj, "pr_auc", m->pr_auc, err);
	if (!ret)
		ret = set_real(obj, "log_loss", m->log_loss, err);
	if (ret)
		return ret;
	json_object_set_new(obj, "confusion_matrix", confusion_json(m));
	json_object_set_new(obj, "per_class", per_class_json(m));
	return 0;
}

int metrics_regression_json(json_t *obj, const struct regression_metrics *m, struct error *err)
{
	int ret = 0;

	if (!json_is_object(obj))
		return error_set(err, ERR_INVALID, "metrics need a json object");
	ret = set_real(obj, "rmse", m->rmse, err);
	if (!ret)
		ret = set_real(obj, "mae", m->mae, err);
	if (!ret)
		ret = set_real(obj, "r2", m->r2, err);
	return ret;
}
