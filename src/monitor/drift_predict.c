/*
 * Scoring CSV batches for prediction drift: encode with the model's preprocessing, predict,
 * keep the one number (or label) per row that the drift test compares.
 */
#include "util/common.h"
#include "monitor/drift_predict.h"
#include "ml/score.h"

#include <math.h>

int drift_pred_init(struct drift_pred *p, const struct model *m, const char *const *names,
		    size_t ncols, const char *source, const char *const *na, size_t n_na,
		    struct error *err)
{
	size_t *colmap = xcalloc(m->pre.nfeatures + 1, sizeof(size_t));
	int rc = preprocess_map_columns(colmap, &m->pre, names, ncols, source, err);

	if (rc) {
		free(colmap);
		return rc;
	}
	memset(p, 0, sizeof(*p));
	p->m = m;
	p->source = source;
	p->na = na;
	p->n_na = n_na;
	p->ncols = ncols;
	p->colmap = colmap;
	p->batch = SCORE_BATCH;
	p->X = xmalloc(p->batch * (m->pre.width ? m->pre.width : 1) * sizeof(double));
	p->P = xmalloc(p->batch * model_output_width(m) * sizeof(double));
	return 0;
}

static void collect(struct drift_pred *p, size_t n)
{
	const struct model *m = p->m;
	size_t w = model_output_width(m);

	if (p->n + n > p->alloc) {
		p->alloc = (p->n + n) * 2;
		if (m->target.task != TASK_REGRESSION)
			p->labels = xrealloc(p->labels, p->alloc * sizeof(*p->labels));
		else
			p->values = xrealloc(p->values, p->alloc * sizeof(*p->values));
	}
	for (size_t i = 0; i < n; i++) {
		const double *o = p->P + i * w;

		if (m->target.task != TASK_REGRESSION)
			p->labels[p->n++] = m->target.classes[model_decide(m, o)];
		else
			/* a non-finite output counts as missing, as NaN in Evidently */
			p->values[p->n++] = isfinite(o[0]) ? o[0] : NAN;
	}
}

int drift_pred_add(struct drift_pred *p, const struct csv_field *fields, size_t nrows,
		   struct error *err)
{
	size_t width = p->m->pre.width;
	int rc = 0;

	for (size_t done = 0; done < nrows && !rc;) {
		size_t n = nrows - done < p->batch ? nrows - done : p->batch;

		for (size_t i = 0; i < n && !rc; i++)
			rc = preprocess_encode_fields(
			    &p->m->pre, p->colmap, fields + (done + i) * p->ncols, p->source, p->na,
			    p->n_na, UNSEEN_IGNORE, p->X + i * width, err);
		if (!rc)
			rc = model_predict(p->m, p->X, n, p->P, err);
		if (!rc)
			collect(p, n);
		done += n;
	}
	return rc;
}

struct table *drift_pred_take(struct drift_pred *p)
{
	struct table *t = table_new(p->source);
	struct error err = ERROR_INIT;
	int rc;

	if (!p->n)
		return t;
	if (p->m->target.task != TASK_REGRESSION)
		rc = table_add_categorical(t, DRIFT_PREDICTION_COLUMN, p->labels, p->n, &err);
	else
		rc = table_add_numeric(t, DRIFT_PREDICTION_COLUMN, p->values, p->n, &err);
	if (rc)
		BUG("prediction column: %s", err.msg); /* finite values and UTF-8 labels only */
	p->n = 0;
	return t;
}

void drift_pred_release(struct drift_pred *p)
{
	free(p->colmap);
	free(p->X);
	free(p->P);
	free(p->values);
	free(p->labels);
	memset(p, 0, sizeof(*p));
}
