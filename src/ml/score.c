/* Streaming evaluation and batch prediction of CSV files. */
#include "util/common.h"
#include "ml/score.h"
#include "ml/metrics.h"
#include "table/csv.h"
#include "util/fs.h"
#include "util/parse.h"
#include "util/progress.h"
#include "util/strbuf.h"
#include "util/workpool.h"

#define OUTPUT_FLUSH (1u << 20)
/* Rows a worker encodes or formats at a time: a batch is split into chunks run in parallel. */
#define SCORE_CHUNK 512
#define SCORE_NCHUNKS ((SCORE_BATCH + SCORE_CHUNK - 1) / SCORE_CHUNK)

/* One input being scored: its reader, column mapping and batch buffers. */
struct scorer {
	const struct model *m;
	const struct score_options *o;
	struct csv_reader *r;
	size_t *colmap;
	size_t id_col, target_col; /* SIZE_MAX: none */
	size_t width, outw;
	double *X, *P;
	int jobs; /* threads for encoding and formatting */
	/* the batch being worked on, for the chunk workers */
	const struct csv_field *fields;
	size_t n;
	struct strbuf text[SCORE_NCHUNKS]; /* formatted output of each chunk */
};

static void scorer_release(struct scorer *s)
{
	csv_free(s->r);
	for (size_t c = 0; c < SCORE_NCHUNKS; c++)
		strbuf_release(&s->text[c]);
	free(s->colmap);
	free(s->X);
	free(s->P);
}

static int find_column(size_t *out, const struct scorer *s, const char *name, const char *what,
		       struct error *err)
{
	const char *const *names = csv_column_names(s->r);

	for (size_t i = 0; i < csv_ncols(s->r); i++)
		if (!strcmp(names[i], name)) {
			*out = i;
			return 0;
		}
	return error_set(err, ERR_INVALID, "%s: no column '%s' (%s)", csv_name(s->r), name, what);
}

static int scorer_open(struct scorer *s, const struct model *m, const struct score_options *o,
		       int need_target, struct error *err)
{
	int ret;

	memset(s, 0, sizeof(*s));
	for (size_t c = 0; c < SCORE_NCHUNKS; c++)
		strbuf_init(&s->text[c], 0);
	s->jobs = workpool_cpus();
	s->m = m;
	s->o = o;
	s->id_col = s->target_col = SIZE_MAX;
	s->width = m->pre.width;
	s->outw = model_output_width(m);
	ret = csv_open(&s->r, o->input, err);
	if (ret)
		return ret;
	s->colmap = xmalloc(m->pre.nfeatures * sizeof(*s->colmap));
	ret = preprocess_map_columns(s->colmap, &m->pre, csv_column_names(s->r), csv_ncols(s->r),
				     csv_name(s->r), err);
	if (!ret && o->id_column)
		ret = find_column(&s->id_col, s, o->id_column, "--id", err);
	if (!ret && need_target)
		ret = find_column(&s->target_col, s, m->target.name,
				  "the target: evaluation needs labelled rows", err);
	if (ret)
		return ret;
	s->X = xmalloc(SCORE_BATCH * (s->width ? s->width : 1) * sizeof(*s->X));
	s->P = xmalloc(SCORE_BATCH * s->outw * sizeof(*s->P));
	return 0;
}

static size_t chunk_end(const struct scorer *s, size_t c)
{
	size_t end = (c + 1) * SCORE_CHUNK;

	return end < s->n ? end : s->n;
}

static int encode_chunk(size_t c, void *data, struct error *err)
{
	struct scorer *s = data;
	size_t ncols = csv_ncols(s->r);

	for (size_t i = c * SCORE_CHUNK; i < chunk_end(s, c); i++) {
		int ret = preprocess_encode_fields(&s->m->pre, s->colmap, s->fields + i * ncols,
						   csv_name(s->r), s->o->na_tokens, s->o->n_na,
						   s->o->unseen, s->X + i * s->width, err);
		if (ret)
			return ret;
	}
	return 0;
}

static size_t nchunks(const struct scorer *s)
{
	return (s->n + SCORE_CHUNK - 1) / SCORE_CHUNK;
}

/*
 * Reads, encodes and predicts the next batch: *n records in *fields, predictions in s->P.
 * Records are encoded in chunks on several threads; the first bad record is reported as a
 * serial pass would (the failing chunk with the lowest index wins).
 */
static int scorer_next(struct scorer *s, const struct csv_field **fields, size_t *n,
		       struct error *err)
{
	int ret = csv_next_batch(fields, n, s->r, SCORE_BATCH, err);

	if (ret || !*n)
		return ret;
	s->fields = *fields;
	s->n = *n;
	ret = workpool_run(nchunks(s), s->jobs, 1, encode_chunk, s, err);
	if (ret)
		return ret;
	if (s->o->progress)
		progress_update(s->o->progress, csv_bytes_read(s->r));
	return model_predict(s->m, s->X, *n, s->P, err);
}

/* Appends a CSV field, quoted when it must be. */
static void add_field(struct strbuf *sb, const char *s, size_t len)
{
	if (!memchr(s, ',', len) && !memchr(s, '"', len) && !memchr(s, '\n', len) &&
	    !memchr(s, '\r', len)) {
		strbuf_add(sb, s, len);
		return;
	}
	strbuf_addch(sb, '"');
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '"')
			strbuf_addch(sb, '"');
		strbuf_addch(sb, s[i]);
	}
	strbuf_addch(sb, '"');
}

/*
 * Numbers are written with 17 significant digits (9 for xgboost's float32 outputs), which
 * always read back exactly; the shortest such text would cost several conversions per number,
 * and formatting is most of the cost of scoring.
 */
static void add_number(struct strbuf *sb, double x, int as_float)
{
	char buf[FORMAT_DOUBLE_SIZE];
	int len = as_float ? snprintf(buf, sizeof(buf), "%.9g", (double)(float)x)
			   : snprintf(buf, sizeof(buf), "%.17g", x);

	strbuf_add(sb, buf, (size_t)len);
}

static void write_header(struct strbuf *sb, const struct model *m, const char *id)
{
	if (id) {
		add_field(sb, id, strlen(id));
		strbuf_addch(sb, ',');
	}
	strbuf_addstr(sb, "prediction");
	if (m->target.task != TASK_REGRESSION)
		for (size_t j = 0; j < m->target.nclasses; j++) {
			char *name = xstrfmt("probability_%s", m->target.classes[j]);

			strbuf_addch(sb, ',');
			add_field(sb, name, strlen(name));
			free(name);
		}
	strbuf_addch(sb, '\n');
}

static void write_row(struct strbuf *sb, const struct scorer *s, const struct csv_field *rec,
		      const double *p)
{
	const struct model *m = s->m;

	if (s->id_col != SIZE_MAX) {
		add_field(sb, rec[s->id_col].str, rec[s->id_col].len);
		strbuf_addch(sb, ',');
	}
	if (m->target.task == TASK_REGRESSION) {
		add_number(sb, p[0], m->kind == MODEL_XGBOOST);
	} else {
		const char *label = m->target.classes[model_decide(m, p)];

		add_field(sb, label, strlen(label));
		for (size_t j = 0; j < s->outw; j++) {
			strbuf_addch(sb, ',');
			add_number(sb, p[j], m->kind == MODEL_XGBOOST);
		}
	}
	strbuf_addch(sb, '\n');
}

static int format_chunk(size_t c, void *data, struct error *err)
{
	struct scorer *s = data;
	size_t ncols = csv_ncols(s->r);

	(void)err;
	strbuf_reset(&s->text[c]);
	for (size_t i = c * SCORE_CHUNK; i < chunk_end(s, c); i++)
		write_row(&s->text[c], s, s->fields + i * ncols, s->P + i * s->outw);
	return 0;
}

static int flush(struct strbuf *sb, const struct fs_atomic *out, struct error *err)
{
	if (fs_write_all(out->fd, sb->buf, sb->len))
		return error_errno(err, ERR_IO, errno, "cannot write '%s'", out->path);
	strbuf_reset(sb);
	return 0;
}

int score_predict(const struct model *m, const struct score_options *o, uint64_t *rows,
		  struct error *err)
{
	struct fs_atomic out = FS_ATOMIC_INIT;
	struct strbuf sb = STRBUF_INIT;
	struct scorer s;
	uint64_t total = 0;
	int ret;

	ret = scorer_open(&s, m, o, 0, err);
	if (ret)
		goto out;
	if (fs_is_dir(o->output)) {
		ret = error_set(err, ERR_INVALID, "--out '%s' is a directory; name a file",
				o->output);
		goto out;
	}
	ret = fs_atomic_begin(&out, o->output, err);
	if (ret)
		goto out;
	strbuf_grow(&sb, OUTPUT_FLUSH + 4096);
	write_header(&sb, m, o->id_column);
	for (;;) {
		const struct csv_field *fields;
		size_t n;

		ret = scorer_next(&s, &fields, &n, err);
		if (ret || !n)
			break;
		ret = workpool_run(nchunks(&s), s.jobs, 0, format_chunk, &s, err);
		if (ret)
			goto out;
		for (size_t c = 0; c < nchunks(&s); c++)
			strbuf_addbuf(&sb, &s.text[c]);
		if (sb.len >= OUTPUT_FLUSH && (ret = flush(&sb, &out, err)))
			goto out;
		total += n;
	}
	if (!ret)
		ret = flush(&sb, &out, err);
	if (!ret)
		ret = fs_atomic_commit(&out, 0644, err);
	if (!ret)
		*rows = total;
out:
	fs_atomic_abort(&out);
	scorer_release(&s);
	strbuf_release(&sb);
	return ret;
}

static int evaluate_collected(const struct model *m, const int *yc, const double *yv,
			      const double *P, size_t n, json_t **metrics, struct error *err)
{
	json_t *j = json_object();
	int ret;

	if (m->target.task == TASK_REGRESSION) {
		struct regression_metrics r;

		ret = metrics_regression(&r, yv, P, n, err);
		if (!ret)
			ret = metrics_regression_json(j, &r, err);
	} else {
		struct classification_metrics c = CLASSIFICATION_METRICS_INIT;

		ret = metrics_classification(&c, yc, P, n, m->target.nclasses, m->threshold, err);
		if (!ret)
			ret = metrics_classification_json(j, &c, err);
		classification_metrics_release(&c);
	}
	if (ret) {
		json_decref(j);
		return error_prefix(err, "cannot evaluate: ");
	}
	json_object_set_new(j, "rows", json_integer((json_int_t)n));
	*metrics = j;
	return 0;
}

int score_evaluate(const struct model *m, const struct score_options *o, json_t **metrics,
		   struct error *err)
{
	struct scorer s;
	size_t n = 0, alloc = 0, palloc = 0;
	int *yc = NULL;
	double *yv = NULL, *P = NULL;
	int ret;

	ret = scorer_open(&s, m, o, 1, err);
	if (ret)
		goto out;
	for (;;) {
		const struct csv_field *fields;
		size_t got;

		ret = scorer_next(&s, &fields, &got, err);
		if (ret || !got)
			break;
		ALLOC_GROW(yc, n + got, alloc);
		yv = xreallocarray(yv, alloc, sizeof(*yv));
		ALLOC_GROW(P, (n + got) * s.outw, palloc);
		for (size_t i = 0; i < got; i++) {
			ret = target_encode_field(&m->target,
						  &fields[i * csv_ncols(s.r) + s.target_col],
						  csv_name(s.r), &yc[n + i], &yv[n + i], err);
			if (ret)
				goto out;
		}
		memcpy(P + n * s.outw, s.P, got * s.outw * sizeof(*P));
		n += got;
	}
	if (!ret && !n)
		ret = error_set(err, ERR_INVALID, "%s: no data rows", o->input);
	if (!ret)
		ret = evaluate_collected(m, yc, yv, P, n, metrics, err);
out:
	scorer_release(&s);
	free(yc);
	free(yv);
	free(P);
	return ret;
}
