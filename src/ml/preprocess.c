/*
 * Preprocessing: fitting imputation, scaling and one-hot encoding on training rows, applying them
 * to the training table and to CSV records, and storing them in the model as JSON.
 */
#include "util/common.h"
#include "ml/preprocess.h"
#include "table/number.h"
#include "util/json.h"

#include <float.h>
#include <math.h>

static void feature_release(struct feature *f)
{
	free(f->name);
	for (size_t i = 0; i < f->ncategories; i++)
		free(f->categories[i]);
	free(f->categories);
}

void preprocess_release(struct preprocess *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->nfeatures; i++)
		feature_release(&p->features[i]);
	free(p->features);
	for (size_t i = 0; i < p->width; i++)
		free(p->output_names[i]);
	free(p->output_names);
	*p = (struct preprocess)PREPROCESS_INIT;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static int cmp_string(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* numpy.median of v[0..n) (n > 0); sorts v. */
static double median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	if (n % 2)
		return v[n / 2];
	/* numpy's mean of the middle two: (a + b) / 2 computed as a + (b - a) / 2 overflows less,
	 * but numpy sums then divides; keep its rounding */
	return (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int fit_number(struct feature *f, enum preprocess_mode mode, const struct column *c,
		      const size_t *rows, size_t nrows, const char *source, struct error *err)
{
	double *v = xmalloc((nrows ? nrows : 1) * sizeof(*v));
	double sum = 0, ss = 0;
	size_t n = 0;
	int ret = 0;

	f->impute = NAN;
	f->mean = 0;
	f->scale = 1;
	if (mode == PREPROCESS_TREE)
		goto out;
	for (size_t i = 0; i < nrows; i++)
		if (!column_is_missing(c, rows[i]))
			v[n++] = c->values[rows[i]];
	if (!n) {
		ret = error_set(
		    err, ERR_INVALID,
		    "%s: column '%s' has no value in the training rows (nothing to impute "
		    "a median from); drop it with --drop",
		    source, c->name);
		goto out;
	}
	f->impute = median(v, n);
	/* StandardScaler sees the imputed column: missing rows count as the median */
	for (size_t i = 0; i < nrows; i++)
		sum += column_is_missing(c, rows[i]) ? f->impute : c->values[rows[i]];
	f->mean = sum / (double)nrows;
	for (size_t i = 0; i < nrows; i++) {
		double x = column_is_missing(c, rows[i]) ? f->impute : c->values[rows[i]];

		ss += (x - f->mean) * (x - f->mean);
	}
	f->scale = sqrt(ss / (double)nrows);
	/* a constant column (up to rounding) is left unscaled, as sklearn's _handle_zeros_in_scale */
	if (f->scale == 0 || f->scale < 10 * DBL_EPSILON * fabs(f->mean))
		f->scale = 1;
out:
	free(v);
	return ret;
}

static int fit_categories(struct feature *f, enum preprocess_mode mode, const struct column *c,
			  const size_t *rows, size_t nrows, const char *source, struct error *err)
{
	size_t ncodes = column_ncategories(c);
	uint64_t *count = xcalloc(ncodes ? ncodes : 1, sizeof(*count));
	uint64_t best = 0;
	int ret = 0;

	for (size_t i = 0; i < nrows; i++) {
		uint32_t code = c->codes[rows[i]];

		if (code != TABLE_NO_CODE)
			count[code]++;
	}
	f->categories = xcalloc(ncodes ? ncodes : 1, sizeof(*f->categories));
	for (uint32_t code = 0; code < ncodes; code++)
		if (count[code])
			f->categories[f->ncategories++] = xstrdup(column_category(c, code));
	if (!f->ncategories) {
		ret = error_set(err, ERR_INVALID,
				"%s: column '%s' has no value in the training rows; drop it with "
				"--drop",
				source, c->name);
		goto out;
	}
	qsort(f->categories, f->ncategories, sizeof(*f->categories), cmp_string);
	/* the most frequent, the first in sorted order among ties (SimpleImputer's choice) */
	f->impute_category = 0;
	for (size_t i = 0; i < f->ncategories; i++) {
		uint32_t code;

		if (column_category_code(&code, c, f->categories[i]))
			BUG("category '%s' vanished from column '%s'", f->categories[i], c->name);
		if (count[code] > best) {
			best = count[code];
			f->impute_category = i;
		}
	}
	(void)mode;
out:
	free(count);
	return ret;
}

/* Output column names and offsets once every feature is fitted. */
static void lay_out(struct preprocess *p)
{
	size_t w = 0, k = 0;

	for (size_t i = 0; i < p->nfeatures; i++) {
		p->features[i].offset = w;
		w += p->features[i].type == COLUMN_CATEGORICAL ? p->features[i].ncategories : 1;
	}
	p->width = w;
	p->output_names = xcalloc(w ? w : 1, sizeof(*p->output_names));
	for (size_t i = 0; i < p->nfeatures; i++) {
		const struct feature *f = &p->features[i];

		if (f->type != COLUMN_CATEGORICAL) {
			p->output_names[k++] = xstrdup(f->name);
			continue;
		}
		for (size_t j = 0; j < f->ncategories; j++)
			p->output_names[k++] = xstrfmt("%s=%s", f->name, f->categories[j]);
	}
}

int preprocess_fit(struct preprocess *out, enum preprocess_mode mode, const struct table *t,
		   const size_t *cols, size_t ncols, const size_t *rows, size_t nrows,
		   struct error *err)
{
	struct preprocess p = PREPROCESS_INIT;
	int ret = 0;

	if (!ncols)
		return error_set(err, ERR_INVALID, "%s: no feature columns to train on", t->name);
	if (!nrows)
		return error_set(err, ERR_INVALID, "%s: no training rows", t->name);
	p.mode = mode;
	p.features = xcalloc(ncols, sizeof(*p.features));
	for (size_t i = 0; i < ncols; i++) {
		const struct column *c = t->cols[cols[i]];
		struct feature *f = &p.features[p.nfeatures++];

		f->name = xstrdup(c->name);
		f->type = c->type;
		if (c->type == COLUMN_CATEGORICAL)
			ret = fit_categories(f, mode, c, rows, nrows, t->name, err);
		else
			ret = fit_number(f, mode, c, rows, nrows, t->name, err);
		if (ret)
			goto out;
	}
	lay_out(&p);
	preprocess_release(out);
	*out = p;
	return 0;
out:
	preprocess_release(&p);
	return ret;
}

/* Index of s among f's sorted categories, or -1. */
static long find_category(const struct feature *f, const char *s)
{
	size_t lo = 0, hi = f->ncategories;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(f->categories[mid], s);

		if (!c)
			return (long)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

static void put_number(const struct preprocess *p, const struct feature *f, double x, int missing,
		       double *row)
{
	if (p->mode == PREPROCESS_TREE)
		row[f->offset] = missing ? NAN : x;
	else
		row[f->offset] = ((missing ? f->impute : x) - f->mean) / f->scale;
}

/* One-hot for category index cat (-1: unseen, all zeros; -2: missing). */
static void put_category(const struct preprocess *p, const struct feature *f, long cat, double *row)
{
	double *dst = row + f->offset;

	if (cat == -2 && p->mode == PREPROCESS_LINEAR)
		cat = (long)f->impute_category;
	for (size_t j = 0; j < f->ncategories; j++)
		dst[j] = cat == -2 ? NAN : (long)j == cat;
}

void preprocess_transform(const struct preprocess *p, const struct table *t, const size_t *cols,
			  const size_t *rows, size_t nrows, double *X)
{
	for (size_t i = 0; i < p->nfeatures; i++) {
		const struct feature *f = &p->features[i];
		const struct column *c = t->cols[cols[i]];
		long *map = NULL;

		if (f->type == COLUMN_CATEGORICAL) {
			size_t ncodes = column_ncategories(c);

			map = xmalloc((ncodes ? ncodes : 1) * sizeof(*map));
			for (uint32_t code = 0; code < ncodes; code++)
				map[code] = find_category(f, column_category(c, code));
		}
		for (size_t r = 0; r < nrows; r++) {
			double *row = X + r * p->width;
			size_t src = rows[r];

			if (f->type != COLUMN_CATEGORICAL)
				put_number(p, f, c->values[src], column_is_missing(c, src), row);
			else
				put_category(
				    p, f, c->codes[src] == TABLE_NO_CODE ? -2 : map[c->codes[src]],
				    row);
		}
		free(map);
	}
}

int preprocess_map_columns(size_t *colmap, const struct preprocess *p, const char *const *names,
			   size_t nnames, const char *source, struct error *err)
{
	size_t next = 0;

	/* from after the previous match, wrapping: columns in the model's order cost one compare */
	for (size_t i = 0; i < p->nfeatures; i++) {
		size_t k;

		for (k = 0; k < nnames; k++) {
			size_t j = (next + k) % nnames;

			if (!strcmp(names[j], p->features[i].name)) {
				colmap[i] = j;
				next = j + 1;
				break;
			}
		}
		if (k == nnames)
			return error_set(err, ERR_INVALID,
					 "%s: column '%s' is missing (the model needs it)", source,
					 p->features[i].name);
	}
	return 0;
}

static int is_na(const struct csv_field *fld, const char *const *na_tokens, size_t n_na)
{
	if (fld->quoted & CSV_FIELD_NUMBER)
		return 0;
	if (!fld->len)
		return 1;
	/* the first byte first: most fields are not NA, and this runs for every field */
	for (size_t i = 0; i < n_na; i++)
		if (fld->str[0] == na_tokens[i][0] && !strcmp(fld->str, na_tokens[i]))
			return 1;
	return 0;
}

static int encode_number(const struct preprocess *p, const struct feature *f,
			 const struct csv_field *fld, const char *source, double *row,
			 struct error *err)
{
	double x = 0;

	if (fld->quoted & CSV_FIELD_NUMBER) {
		x = fld->num; /* finite, and given for numeric columns only */
	} else if (f->type == COLUMN_BOOLEAN) {
		int b = table_parse_bool(fld->str, fld->len);

		if (b < 0)
			return error_set(err, ERR_INVALID,
					 "%s:%" PRIu64
					 ":%u: expected true or false in column '%s', "
					 "got '%.40s'",
					 source, fld->line, fld->col, f->name, fld->str);
		x = b;
	} else {
		int kind = num_parse_field(fld->str, fld->len, &x);

		if (kind != NUM_FINITE)
			return error_set(err, ERR_INVALID,
					 "%s:%" PRIu64 ":%u: expected a %snumber in column '%s', "
					 "got '%.40s'",
					 source, fld->line, fld->col,
					 kind == NUM_NONFINITE ? "finite " : "", f->name, fld->str);
	}
	put_number(p, f, x, 0, row);
	return 0;
}

int preprocess_encode_fields(const struct preprocess *p, const size_t *colmap,
			     const struct csv_field *fields, const char *source,
			     const char *const *na_tokens, size_t n_na, enum unseen_policy unseen,
			     double *row, struct error *err)
{
	for (size_t i = 0; i < p->nfeatures; i++) {
		const struct feature *f = &p->features[i];
		const struct csv_field *fld = &fields[colmap[i]];
		long cat;
		int ret;

		if (is_na(fld, na_tokens, n_na)) {
			if (f->type == COLUMN_CATEGORICAL)
				put_category(p, f, -2, row);
			else
				put_number(p, f, 0, 1, row);
			continue;
		}
		if (f->type != COLUMN_CATEGORICAL) {
			ret = encode_number(p, f, fld, source, row, err);
			if (ret)
				return ret;
			continue;
		}
		cat = find_category(f, fld->str);
		if (cat < 0 && unseen == UNSEEN_ERROR)
			return error_set(
			    err, ERR_INVALID,
			    "%s:%" PRIu64 ":%u: column '%s' holds '%.40s', a category "
			    "the model never saw in training (--unseen ignore encodes it "
			    "as all zeros)",
			    source, fld->line, fld->col, f->name, fld->str);
		put_category(p, f, cat, row);
	}
	return 0;
}

static const char *mode_name(enum preprocess_mode mode)
{
	return mode == PREPROCESS_TREE ? "tree" : "linear";
}

json_t *preprocess_to_json(const struct preprocess *p)
{
	json_t *features = json_array();

	for (size_t i = 0; i < p->nfeatures; i++) {
		const struct feature *f = &p->features[i];
		json_t *jf =
		    json_pack("{s:s, s:s}", "name", f->name, "type", column_type_name(f->type));

		if (f->type == COLUMN_CATEGORICAL) {
			json_t *cats = json_array();

			for (size_t j = 0; j < f->ncategories; j++)
				json_array_append_new(cats, json_string(f->categories[j]));
			json_object_set_new(jf, "categories", cats);
			if (p->mode == PREPROCESS_LINEAR)
				json_object_set_new(jf, "impute",
						    json_string(f->categories[f->impute_category]));
		} else if (p->mode == PREPROCESS_LINEAR) {
			json_object_set_new(jf, "impute", json_real(f->impute));
			json_object_set_new(jf, "mean", json_real(f->mean));
			json_object_set_new(jf, "scale", json_real(f->scale));
		}
		json_array_append_new(features, jf);
	}
	return json_pack("{s:s, s:o}", "mode", mode_name(p->mode), "features", features);
}

static int feature_from_json(struct feature *f, enum preprocess_mode mode, const json_t *jf,
			     size_t index, struct error *err)
{
	const char *name = NULL, *type = NULL, *impute_cat = NULL;
	const json_t *cats;
	int ret;

	if ((ret = json_get_string(jf, "name", &name, 1, err)) ||
	    (ret = json_get_string(jf, "type", &type, 1, err)))
		goto bad;
	f->name = xstrdup(name);
	f->impute = NAN;
	f->mean = 0;
	f->scale = 1;
	if (!strcmp(type, "numeric") || !strcmp(type, "boolean")) {
		f->type = strcmp(type, "numeric") ? COLUMN_BOOLEAN : COLUMN_NUMERIC;
		if (mode == PREPROCESS_TREE)
			return 0;
		if ((ret = json_get_double(jf, "impute", &f->impute, 1, err)) ||
		    (ret = json_get_double(jf, "mean", &f->mean, 1, err)) ||
		    (ret = json_get_double(jf, "scale", &f->scale, 1, err)))
			goto bad;
		if (!(f->scale > 0) || !isfinite(f->scale) || !isfinite(f->mean) ||
		    !isfinite(f->impute)) {
			ret = error_set(err, ERR_INVALID,
					"impute, mean and scale must be finite "
					"and scale positive");
			goto bad;
		}
		return 0;
	}
	if (strcmp(type, "categorical")) {
		ret = error_set(err, ERR_INVALID,
				"field 'type': expected numeric, boolean or categorical, got '%s'",
				type);
		goto bad;
	}
	f->type = COLUMN_CATEGORICAL;
	cats = json_object_get(jf, "categories");
	if (!json_is_array(cats) || !json_array_size(cats)) {
		ret = error_set(err, ERR_INVALID, "field 'categories': expected a non-empty array");
		goto bad;
	}
	f->categories = xcalloc(json_array_size(cats), sizeof(*f->categories));
	for (size_t j = 0; j < json_array_size(cats); j++) {
		const char *s = json_string_value(json_array_get(cats, j));

		if (!s || (j && strcmp(f->categories[j - 1], s) >= 0)) {
			ret = error_set(err, ERR_INVALID,
					"field 'categories': expected distinct strings in sorted "
					"order (entry %zu)",
					j);
			goto bad;
		}
		f->categories[f->ncategories++] = xstrdup(s);
	}
	if (mode == PREPROCESS_TREE)
		return 0;
	if ((ret = json_get_string(jf, "impute", &impute_cat, 1, err)))
		goto bad;
	if (find_category(f, impute_cat) < 0) {
		ret = error_set(err, ERR_INVALID,
				"field 'impute': '%s' is not one of the categories", impute_cat);
		goto bad;
	}
	f->impute_category = (size_t)find_category(f, impute_cat);
	return 0;
bad:
	error_prefix(err, "preprocessing feature %zu: ", index);
	return ret;
}

int preprocess_from_json(struct preprocess *out, const json_t *j, struct error *err)
{
	struct preprocess p = PREPROCESS_INIT;
	const char *mode = NULL;
	const json_t *features;
	int ret;

	if ((ret = json_get_string(j, "mode", &mode, 1, err)))
		return ret;
	if (!strcmp(mode, "tree"))
		p.mode = PREPROCESS_TREE;
	else if (strcmp(mode, "linear"))
		return error_set(err, ERR_INVALID,
				 "field 'mode': expected 'linear' or 'tree', got '%s'", mode);
	features = json_object_get(j, "features");
	if (!json_is_array(features) || !json_array_size(features))
		return error_set(err, ERR_INVALID, "field 'features': expected a non-empty array");
	p.features = xcalloc(json_array_size(features), sizeof(*p.features));
	for (size_t i = 0; i < json_array_size(features); i++) {
		ret = feature_from_json(&p.features[p.nfeatures++], p.mode,
					json_array_get(features, i), i, err);
		if (ret)
			goto out;
		for (size_t prev = 0; prev < i; prev++)
			if (!strcmp(p.features[prev].name, p.features[i].name)) {
				ret = error_set(err, ERR_INVALID,
						"preprocessing feature %zu: duplicate name '%s'", i,
						p.features[i].name);
				goto out;
			}
	}
	lay_out(&p);
	preprocess_release(out);
	*out = p;
	return 0;
out:
	preprocess_release(&p);
	return ret;
}
