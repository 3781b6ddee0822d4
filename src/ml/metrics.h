/*
 * Evaluation metrics computed as scikit-learn 1.2.1 computes them: accuracy, precision, recall,
 * F1, ROC AUC, PR AUC (average precision), log loss and the confusion matrix for classification;
 * RMSE, MAE and R² for regression. Values agree with sklearn's to about 1e-15 relative.
 */
#ifndef FERRY_ML_METRICS_H
#define FERRY_ML_METRICS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct error;

/*
 * Conventions shared by every function below.
 *
 * Classes are indices 0..k-1 (k >= 2): y_true[i] is the index of the true class. The caller maps
 * its labels to indices in sorted order, as sklearn's LabelEncoder does, so for a binary task the
 * POSITIVE class is index 1, the greater label ("1" over "0", "yes" over "no", "true" over
 * "false"): this is sklearn's pos_label=1 on {0, 1} labels.
 *
 * proba is row-major n x k: proba[i * k + j] is the probability (or score) of class j for row i.
 * A binary score vector (score) holds one value per row: higher means more likely positive.
 *
 * All functions fail with ERR_INVALID and a message naming the problem on: n == 0, k < 2, a class
 * index outside 0..k-1, a NaN or infinite score, and the metric-specific cases documented below.
 * Out-parameters are written only on success. Ranking metrics need n < 2^32 (ERR_TOOBIG).
 */

/* One class's precision, recall and F1 (0 where undefined, sklearn's zero_division default). */
struct class_scores {
	double precision;
	double recall;
	double f1;
	size_t support; /* rows whose true class is this one */
};

/*
 * Everything metrics_classification() computes. precision, recall and f1 are those of class 1
 * when k == 2 and the unweighted mean over classes (sklearn's average='macro') when k > 2.
 * per_class (k entries) and confusion (k * k, row-major, rows = true class, columns = predicted
 * class, like sklearn's confusion_matrix) are owned by the struct.
 */
struct classification_metrics {
	size_t n_classes;
	double accuracy;
	double precision;
	double recall;
	double f1;
	double roc_auc;
	double pr_auc;
	double log_loss;
	struct class_scores *per_class;
	uint64_t *confusion;
};

#define CLASSIFICATION_METRICS_INIT                                                                \
	{                                                                                          \
		0, 0, 0, 0, 0, 0, 0, 0, NULL, NULL                                                 \
	}

/* Frees per_class and confusion and reinitialises m; a no-op on NULL. */
void classification_metrics_release(struct classification_metrics *m);

struct regression_metrics {
	double rmse; /* sqrt(mean((y - yhat)²)): mean_squared_error(squared=False) */
	double mae;  /* mean(|y - yhat|): mean_absolute_error */
	double r2;   /* r2_score: 1 - SS_res / SS_tot; for constant y 1.0 if perfect, else 0.0 */
};

/*
 * Predicted classes from probabilities: for k == 2, class 1 when proba[i*2+1] >= threshold, else
 * class 0; for k > 2, the first column holding the row's maximum (numpy's argmax; threshold is
 * ignored). out has n entries.
 */
int metrics_predict_classes(int *out, const double *proba, size_t n, size_t k, double threshold,
			    struct error *err);

/* out (k * k entries) becomes the confusion matrix: rows true class, columns predicted class. */
int metrics_confusion_matrix(uint64_t *out, const int *y_true, const int *y_pred, size_t n,
			     size_t k, struct error *err);

/* Fraction of rows with y_pred == y_true (accuracy_score). */
int metrics_accuracy(double *out, const int *y_true, const int *y_pred, size_t n, size_t k,
		     struct error *err);

/*
 * Per-class precision, recall and F1 into out (k entries), as precision_recall_fscore_support
 * with average=None: F1 = 2PR / (P + R), and 0 for a class never predicted or never true.
 */
int metrics_class_scores(struct class_scores *out, const int *y_true, const int *y_pred, size_t n,
			 size_t k, struct error *err);

/*
 * Binary ROC AUC (roc_auc_score): the exact area under the ROC curve, tied scores forming one
 * diagonal step. y_true holds 0 and 1; ERR_INVALID when it holds only one of them.
 */
int metrics_roc_auc_binary(double *out, const int *y_true, const double *score, size_t n,
			   struct error *err);

/*
 * Binary PR AUC as average_precision_score: sum over thresholds of (R_i - R_{i-1}) * P_i, the
 * step-wise area, not the trapezoidal auc(recall, precision). ERR_INVALID without positives.
 */
int metrics_pr_auc_binary(double *out, const int *y_true, const double *score, size_t n,
			  struct error *err);

/*
 * Multiclass ROC AUC, one-vs-rest, macro-averaged (roc_auc_score(multi_class='ovr',
 * average='macro')): the mean of the binary AUCs of each class against the rest. Like sklearn,
 * every class must occur in y_true and each row of proba must sum to 1 (within 1e-8 + 1e-5).
 */
int metrics_roc_auc_ovr(double *out, const int *y_true, const double *proba, size_t n, size_t k,
			struct error *err);

/*
 * Multiclass PR AUC: the mean over classes of the one-vs-rest average precision (sklearn 1.2.1's
 * average_precision_score(label_binarize(y_true), proba, average='macro')). Every class must occur
 * in y_true.
 */
int metrics_pr_auc_ovr(double *out, const int *y_true, const double *proba, size_t n, size_t k,
		       struct error *err);

/*
 * Mean negative log-likelihood (log_loss of sklearn 1.2.1, eps='auto'): each probability is
 * clipped to [eps, 1 - eps] with eps = DBL_EPSILON (2.22e-16; 1e-15 was the default before 1.2),
 * each row divided by its sum, and the loss is mean(-ln proba[i, y_true[i]]).
 */
int metrics_log_loss(double *out, const int *y_true, const double *proba, size_t n, size_t k,
		     struct error *err);

/* Binary log loss from the positive-class probability p: clipped, then rows [1 - p, p]. */
int metrics_log_loss_binary(double *out, const int *y_true, const double *p_pos, size_t n,
			    struct error *err);

/*
 * All classification metrics from proba (n x k), predictions as metrics_predict_classes() makes
 * them with threshold. k == 2 uses column 1 as the positive score; k > 2 uses one-vs-rest macro
 * AUCs. Fails (nothing written) whenever one of the metrics is undefined, e.g. when y_true holds
 * one class only. *out (initialised) is released and overwritten on success.
 */
int metrics_classification(struct classification_metrics *out, const int *y_true,
			   const double *proba, size_t n, size_t k, double threshold,
			   struct error *err);

/*
 * RMSE, MAE and R². ERR_INVALID on n < 2 (R² is undefined) or a non-finite value.
 */
int metrics_regression(struct regression_metrics *out, const double *y_true, const double *y_pred,
		       size_t n, struct error *err);

/*
 * Add the metrics to obj with stable keys: "accuracy", "precision", "recall", "f1", "roc_auc",
 * "pr_auc", "log_loss", "confusion_matrix" (array of rows, true class first) and "per_class"
 * (array of {"precision", "recall", "f1", "support"}, indexed by class); or "rmse", "mae", "r2".
 * Existing keys are replaced. ERR_INVALID if obj is not an object.
 */
int metrics_classification_json(json_t *obj, const struct classification_metrics *m,
				struct error *err);
int metrics_regression_json(json_t *obj, const struct regression_metrics *m, struct error *err);

#endif
