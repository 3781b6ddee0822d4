/*
 * Model artifacts: predicting with a loaded model, and writing and reading the MODEL/ directory
 * with its digests, atomically.
 */
#include "util/common.h"
#include "ml/model.h"
#include "util/fs.h"
#include "util/json.h"
#include "util/sha256.h"
#include "util/strbuf.h"

#include <dirent.h>
#include <fcntl.h>
#include <libgen.h>
#include <math.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <time.h>

#define MODEL_JSON "model.json"
#define LINEAR_FILE "linear.bin"
#define XGB_FILE "model.ubj"
#define MODEL_JSON_MAX (256u << 20)
#define WEIGHTS_MAX (2ull << 30)

void model_init(struct model *m)
{
	static const struct target t = TARGET_INIT;
	static const struct preprocess p = PREPROCESS_INIT;
	static const struct logreg_model lr = LOGREG_MODEL_INIT;
	static const struct linear_model lin = LINEAR_MODEL_INIT;
	static const struct xgb_model xgb = XGB_MODEL_INIT;

	memset(m, 0, sizeof(*m));
	m->target = t;
	m->pre = p;
	m->logreg = lr;
	m->linear = lin;
	m->xgb = xgb;
	m->threshold = 0.5;
}

void model_release(struct model *m)
{
	if (!m)
		return;
	target_release(&m->target);
	preprocess_release(&m->pre);
	logreg_model_release(&m->logreg);
	linear_model_release(&m->linear);
	xgb_model_release(&m->xgb);
	json_decref(m->meta);
	model_init(m);
}

size_t model_output_width(const struct model *m)
{
	return m->target.task == TASK_REGRESSION ? 1 : m->target.nclasses;
}

int model_predict(const struct model *m, const double *X, size_t n, double *out, struct error *err)
{
	switch (m->kind) {
	case MODEL_LOGREG:
		logreg_predict_proba(&m->logreg, X, n, out);
		return 0;
	case MODEL_LINEAR:
		linear_predict(&m->linear, X, n, out);
		return 0;
	case MODEL_XGBOOST:
		return xgb_predict(&m->xgb, X, n, out, err);
	}
	BUG("model kind %d", m->kind);
}

int model_decide(const struct model *m, const double *proba)
{
	size_t k = m->target.nclasses;
	int best = 0;

	if (k == 2)
		return proba[1] >= m->threshold;
	for (size_t j = 1; j < k; j++)
		if (proba[j] > proba[best])
			best = (int)j;
	return best;
}

/* Doubles as little-endian IEEE 754 bytes, whatever the host's byte order. */
static void put_le64(struct strbuf *sb, double x)
{
	unsigned char b[8];
	uint64_t u;

	memcpy(&u, &x, sizeof(u));
	for (int i = 0; i < 8; i++)
		b[i] = (unsigned char)(u >> (8 * i));
	strbuf_add(sb, b, sizeof(b));
}

static double get_le64(const unsigned char *p)
{
	uint64_t u = 0;
	double x;

	for (int i = 7; i >= 0; i--)
		u = (u << 8) | p[i];
	memcpy(&x, &u, sizeof(x));
	return x;
}

/* The weights file's bytes and its shape. */
static void encode_linear(const struct model *m, struct strbuf *out, size_t *rows, size_t *cols)
{
	size_t d = m->pre.width;

	*cols = d + 1;
	if (m->kind == MODEL_LINEAR) {
		*rows = 1;
		for (size_t j = 0; j < d; j++)
			put_le64(out, m->linear.coef[j]);
		put_le64(out, m->linear.intercept);
		return;
	}
	*rows = m->logreg.rows;
	for (size_t r = 0; r < m->logreg.rows; r++) {
		for (size_t j = 0; j < d; j++)
			put_le64(out, m->logreg.coef[r * d + j]);
		put_le64(out, m->logreg.intercept[r]);
	}
}

static json_t *model_signature(const struct model *m)
{
	json_t *inputs = json_array(), *outputs = json_array();

	for (size_t i = 0; i < m->pre.nfeatures; i++) {
		const struct feature *f = &m->pre.features[i];
		const char *type = f->type == COLUMN_CATEGORICAL ? "string"
				   : f->type == COLUMN_BOOLEAN	 ? "boolean"
								 : "double";

		json_array_append_new(inputs,
				      json_pack("{s:s, s:s}", "name", f->name, "type", type));
	}
	if (m->target.task == TASK_REGRESSION) {
		json_array_append_new(
		    outputs, json_pack("{s:s, s:s}", "name", "prediction", "type", "double"));
	} else {
		json_array_append_new(
		    outputs, json_pack("{s:s, s:s}", "name", "prediction", "type", "string"));
		for (size_t j = 0; j < m->target.nclasses; j++) {
			char *name = xstrfmt("probability_%s", m->target.classes[j]);

			json_array_append_new(
			    outputs, json_pack("{s:s, s:s}", "name", name, "type", "double"));
			free(name);
		}
	}
	return json_pack("{s:o, s:o}", "inputs", inputs, "outputs", outputs);
}

void model_digest_of(const json_t *doc, char out[MODEL_DIGEST_SIZE])
{
	json_t *copy = json_deep_copy(doc);
	char hex[SHA256_HEX_SIZE] = "";
	char *text;

	json_object_del(copy, "digest");
	json_object_del(copy, "created");
	text = json_dumps(copy, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
	if (text)
		sha256_buffer(text, strlen(text), hex);
	else
		BUG("cannot serialise a model document");
	snprintf(out, MODEL_DIGEST_SIZE, "sha256:%s", hex);
	free(text);
	json_decref(copy);
}

static void utc_now(char out[32])
{
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Writes data to dir/name (new file, fsynced); its digest and size go into files. */
static int write_weight_file(json_t *files, const char *dir, const char *name, const void *data,
			     size_t len, struct error *err)
{
	char *path = fs_path_join(dir, name);
	char hex[SHA256_HEX_SIZE];
	int ret = fs_write_atomic(path, data, len, 0444, err);

	if (!ret) {
		sha256_buffer(data, len, hex);
		json_object_set_new(
		    files, name,
		    json_pack("{s:s+, s:I}", "digest", "sha256:", hex, "size", (json_int_t)len));
	}
	free(path);
	return ret;
}

/* model.json's content for m, with files already filled in. */
static json_t *build_document(const struct model *m, json_t *files)
{
	json_t *doc = m->meta ? json_deep_copy(m->meta) : json_object();
	char created[32];

	utc_now(created);
	json_object_set_new(doc, "format", json_string(MODEL_FORMAT));
	json_object_set_new(doc, "format_version", json_integer(MODEL_FORMAT_VERSION));
	json_object_set_new(doc, "model", json_string(model_kind_name(m->kind)));
	json_object_set_new(doc, "task", json_string(task_name(m->target.task)));
	json_object_set_new(doc, "target", target_to_json(&m->target));
	json_object_set_new(doc, "preprocessing", preprocess_to_json(&m->pre));
	json_object_set_new(doc, "signature", model_signature(m));
	if (m->target.task == TASK_BINARY)
		json_object_set_new(doc, "threshold", json_real(m->threshold));
	else
		json_object_del(doc, "threshold");
	json_object_set_new(doc, "files", files);
	json_object_set_new(doc, "created", json_string(created));
	return doc;
}

static int is_empty_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int empty = 1;

	if (!d)
		return 0;
	while (empty && (e = readdir(d)))
		empty = !strcmp(e->d_name, ".") || !strcmp(e->d_name, "..");
	closedir(d);
	return empty;
}

/*
 * 0 if dir may be replaced by a model (absent, empty, or a ferry model), else ERR_EXISTS.
 * *exists: dir is there and must be swapped out (an empty directory is simply renamed over).
 */
static int check_replaceable(const char *dir, int *exists, struct error *err)
{
	struct stat st;
	char *mj;
	json_t *doc = NULL;
	struct error ignored = ERROR_INIT;
	const char *format = NULL;
	int ret;

	*exists = 0;
	if (lstat(dir, &st)) {
		if (errno == ENOENT)
			return 0;
		return error_errno(err, ERR_IO, errno, "cannot stat '%s'", dir);
	}
	if (!S_ISDIR(st.st_mode))
		return error_set(err, ERR_EXISTS,
				 "'%s' exists and is not a ferry model: refusing to replace it",
				 dir);
	if (is_empty_dir(dir))
		return 0;
	*exists = 1;
	mj = fs_path_join(dir, MODEL_JSON);
	ret = json_load_path(&doc, mj, MODEL_JSON_MAX, &ignored);
	if (!ret)
		ret = json_get_string(doc, "format", &format, 1, &ignored);
	if (ret || strcmp(format, MODEL_FORMAT))
		ret =
		    error_set(err, ERR_EXISTS,
			      "'%s' exists and is not a ferry model: refusing to replace it", dir);
	json_decref(doc);
	free(mj);
	return ret;
}

int model_check_destination(const char *dir, struct error *err)
{
	int exists;

	return check_replaceable(dir, &exists, err);
}

/* The first missing directory on the way to dir (which fs_mkdir_p would create), or NULL. */
static char *first_missing_dir(const char *dir)
{
	char *path = xstrdup(dir), *missing = NULL;

	for (;;) {
		char *copy, *parent;

		if (fs_exists(path))
			break;
		free(missing);
		missing = xstrdup(path);
		copy = xstrdup(path);
		parent = xstrdup(dirname(copy));
		free(copy);
		if (!strcmp(parent, path)) {
			free(parent);
			break;
		}
		free(path);
		path = parent;
	}
	free(path);
	return missing;
}

/* Puts the finished tmp directory in place of dir, atomically when dir exists. */
static int install(const char *tmp, const char *dir, int exists, struct error *err)
{
	struct error ignored = ERROR_INIT;

	if (!exists) {
		if (rename(tmp, dir))
			return error_errno(err, ERR_IO, errno, "cannot rename '%s' to '%s'", tmp,
					   dir);
		return 0;
	}
	/* swap the two directories in one step, then delete the old one (now at tmp) */
	if (syscall(SYS_renameat2, AT_FDCWD, tmp, AT_FDCWD, dir, 2 /* RENAME_EXCHANGE */))
		return error_errno(err, ERR_IO, errno, "cannot replace '%s'", dir);
	fs_remove_tree(tmp, &ignored);
	return 0;
}

int model_save(struct model *m, const char *dir, struct error *err)
{
	struct strbuf tmp = STRBUF_INIT, weights = STRBUF_INIT;
	char *dircopy = xstrdup(dir), *parent, *base_copy = xstrdup(dir);
	json_t *files = json_object(), *doc = NULL;
	char digest[MODEL_DIGEST_SIZE];
	char *created = NULL; /* a parent directory this call made, removed again on failure */
	int ret, exists = 0, made = 0, created_or_made = 0;

	parent = dirname(dircopy);
	ret = check_replaceable(dir, &exists, err);
	if (ret)
		goto out;
	created_or_made = 1;
	created = first_missing_dir(parent);
	ret = fs_mkdir_p(parent, 0777, err);
	if (ret)
		goto out;
	strbuf_addf(&tmp, "%s/.%s.tmp-XXXXXX", parent, basename(base_copy));
	if (!mkdtemp(tmp.buf)) {
		ret = error_errno(err, ERR_IO, errno, "cannot create a directory in '%s'", parent);
		goto out;
	}
	made = 1;
	if (m->kind == MODEL_XGBOOST) {
		void *buf = NULL;
		size_t len = 0;

		ret = xgb_save(&m->xgb, &buf, &len, err);
		if (!ret)
			ret = write_weight_file(files, tmp.buf, XGB_FILE, buf, len, err);
		free(buf);
	} else {
		size_t rows, cols;

		encode_linear(m, &weights, &rows, &cols);
		ret = write_weight_file(files, tmp.buf, LINEAR_FILE, weights.buf, weights.len, err);
		if (!ret)
			json_object_set_new(
			    json_object_get(files, LINEAR_FILE), "shape",
			    json_pack("[I, I]", (json_int_t)rows, (json_int_t)cols));
	}
	if (ret)
		goto out;
	doc = build_document(m, files);
	files = NULL;
	model_digest_of(doc, digest);
	json_object_set_new(doc, "digest", json_string(digest));
	{
		char *path = fs_path_join(tmp.buf, MODEL_JSON);

		ret = json_dump_file_atomic(doc, path, err);
		free(path);
	}
	if (!ret && chmod(tmp.buf, 0755))
		ret = error_errno(err, ERR_IO, errno, "cannot set permissions on '%s'", tmp.buf);
	if (!ret)
		ret = install(tmp.buf, dir, exists, err);
	if (!ret) {
		made = 0;
		ret = fs_fsync_dir(parent, err);
	}
	if (!ret)
		memcpy(m->digest, digest, sizeof(digest));
out:
	if (ret && created_or_made)
		error_prefix(err, "cannot save the model to '%s': ", dir);
	if (made) {
		struct error ignored = ERROR_INIT;

		fs_remove_tree(tmp.buf, &ignored);
	}
	if (ret && created) {
		struct error ignored = ERROR_INIT;

		fs_remove_tree(created, &ignored);
	}
	free(created);
	json_decref(files);
	json_decref(doc);
	strbuf_release(&tmp);
	strbuf_release(&weights);
	free(dircopy);
	free(base_copy);
	return ret;
}

/* Reads dir/name, checking it against the digest and size recorded in files. */
static int read_verified(struct strbuf *out, const char *dir, const json_t *files, const char *name,
			 struct error *err)
{
	const json_t *entry = json_object_get(files, name);
	char *path = fs_path_join(dir, name);
	char hex[SHA256_HEX_SIZE];
	const char *want = NULL;
	int ret;

	if (!json_is_object(entry)) {
		ret = error_set(err, ERR_INVALID, "%s/%s: field 'files' does not list '%s'", dir,
				MODEL_JSON, name);
		goto out;
	}
	ret = json_get_string(entry, "digest", &want, 1, err);
	if (ret) {
		error_prefix(err, "%s/%s: files.%s: ", dir, MODEL_JSON, name);
		goto out;
	}
	ret = fs_read_file(out, path, WEIGHTS_MAX, err);
	if (ret)
		goto out;
	sha256_buffer(out->buf, out->len, hex);
	if (strncmp(want, "sha256:", 7) || strcmp(want + 7, hex))
		ret = error_set(err, ERR_INVALID,
				"%s: content digest sha256:%s does not match %.80s recorded in "
				"model.json (the file was modified or is corrupt)",
				path, hex, want);
out:
	free(path);
	return ret;
}

static int load_linear(struct model *m, const char *dir, const json_t *files, struct error *err)
{
	struct strbuf buf = STRBUF_INIT;
	size_t d = m->pre.width, rows, expect_rows;
	const unsigned char *p;
	int ret;

	ret = read_verified(&buf, dir, files, LINEAR_FILE, err);
	if (ret)
		goto out;
	if (m->kind == MODEL_LINEAR)
		expect_rows = 1;
	else
		expect_rows = m->target.nclasses == 2 ? 1 : m->target.nclasses;
	rows = buf.len / ((d + 1) * 8);
	if (buf.len % ((d + 1) * 8) || rows != expect_rows) {
		ret = error_set(err, ERR_INVALID,
				"%s/%s: %zu bytes, expected %zu x %zu float64 values", dir,
				LINEAR_FILE, buf.len, expect_rows, d + 1);
		goto out;
	}
	p = (const unsigned char *)buf.buf;
	if (m->kind == MODEL_LINEAR) {
		m->linear.n_features = d;
		m->linear.coef = xmalloc((d ? d : 1) * sizeof(double));
		for (size_t j = 0; j < d; j++)
			m->linear.coef[j] = get_le64(p + 8 * j);
		m->linear.intercept = get_le64(p + 8 * d);
		goto out;
	}
	m->logreg.n_features = d;
	m->logreg.n_classes = m->target.nclasses;
	m->logreg.rows = rows;
	m->logreg.coef = xmalloc(rows * (d ? d : 1) * sizeof(double));
	m->logreg.intercept = xmalloc(rows * sizeof(double));
	for (size_t r = 0; r < rows; r++) {
		for (size_t j = 0; j < d; j++)
			m->logreg.coef[r * d + j] = get_le64(p + 8 * (r * (d + 1) + j));
		m->logreg.intercept[r] = get_le64(p + 8 * (r * (d + 1) + d));
	}
out:
	strbuf_release(&buf);
	return ret;
}

static int load_xgb(struct model *m, const char *dir, const json_t *files, struct error *err)
{
	struct strbuf buf = STRBUF_INIT;
	enum xgb_task task = m->target.task == TASK_REGRESSION ? XGB_REGRESSION
			     : m->target.task == TASK_BINARY   ? XGB_BINARY
							       : XGB_MULTICLASS;
	int ret = read_verified(&buf, dir, files, XGB_FILE, err);

	if (!ret) {
		ret = xgb_load(&m->xgb, buf.buf, buf.len, task, m->pre.width, m->target.nclasses,
			       err);
		if (ret)
			error_prefix(err, "%s/%s: ", dir, XGB_FILE);
	}
	strbuf_release(&buf);
	return ret;
}

/* The format checks, before anything else is trusted. */
static int check_format(const json_t *doc, const char *path, struct error *err)
{
	const char *format = NULL;
	int64_t version = 0;
	int ret;

	if ((ret = json_get_string(doc, "format", &format, 1, err)) ||
	    (ret = json_get_int(doc, "format_version", &version, 1, err)))
		return error_prefix(err, "%s: not a ferry model: ", path);
	if (strcmp(format, MODEL_FORMAT))
		return error_set(err, ERR_INVALID, "%s: not a ferry model (format '%s')", path,
				 format);
	if (version > MODEL_FORMAT_VERSION)
		return error_set(err, ERR_UNSUPPORTED,
				 "%s was written by a newer ferry (model format %" PRId64
				 "; this ferry reads %d): upgrade ferry to load it",
				 path, version, MODEL_FORMAT_VERSION);
	if (version < 1)
		return error_set(err, ERR_INVALID, "%s: bad format_version %" PRId64, path,
				 version);
	return 0;
}

int model_load(struct model *out, const char *dir, struct error *err)
{
	char *path = fs_path_join(dir, MODEL_JSON);
	char digest[MODEL_DIGEST_SIZE];
	const char *recorded = NULL, *kind = NULL;
	struct model m;
	json_t *doc = NULL;
	int ret;

	model_init(&m);
	if (!fs_is_dir(dir)) {
		ret = error_set(err, fs_exists(dir) ? ERR_INVALID : ERR_NOTFOUND,
				"'%s' is not a model directory", dir);
		goto out;
	}
	ret = json_load_path(&doc, path, MODEL_JSON_MAX, err);
	if (ret == ERR_NOTFOUND)
		ret = error_set(err, ERR_NOTFOUND, "'%s' is not a ferry model (no %s)", dir,
				MODEL_JSON);
	if (ret)
		goto out;
	ret = check_format(doc, dir, err);
	if (ret)
		goto out;
	ret = json_get_string(doc, "digest", &recorded, 1, err);
	if (ret) {
		error_prefix(err, "%s: ", path);
		goto out;
	}
	model_digest_of(doc, digest);
	if (strcmp(digest, recorded)) {
		ret = error_set(err, ERR_INVALID,
				"%s: content digest %s does not match %s recorded in it (the file "
				"was edited or is corrupt)",
				path, digest, recorded);
		goto out;
	}
	if ((ret = json_get_string(doc, "model", &kind, 1, err)) ||
	    (ret = model_kind_parse(&m.kind, kind, err)) ||
	    (ret = target_from_json(&m.target, json_object_get(doc, "target"), err)) ||
	    (ret = preprocess_from_json(&m.pre, json_object_get(doc, "preprocessing"), err))) {
		if (ret == ERR_USAGE)
			ret = ERR_INVALID;
		error_prefix(err, "%s: ", path);
		goto out;
	}
	if ((m.kind == MODEL_LOGREG && m.target.task == TASK_REGRESSION) ||
	    (m.kind == MODEL_LINEAR && m.target.task != TASK_REGRESSION)) {
		ret = error_set(err, ERR_INVALID, "%s: a %s model cannot do %s", path, kind,
				task_name(m.target.task));
		goto out;
	}
	if (m.target.task == TASK_BINARY) {
		ret = json_get_double(doc, "threshold", &m.threshold, 1, err);
		if (!ret && !(m.threshold >= 0 && m.threshold <= 1))
			ret = error_set(err, ERR_INVALID,
					"field 'threshold': expected 0 to 1, got %g", m.threshold);
		if (ret) {
			error_prefix(err, "%s: ", path);
			goto out;
		}
	}
	if (m.kind == MODEL_XGBOOST)
		ret = load_xgb(&m, dir, json_object_get(doc, "files"), err);
	else
		ret = load_linear(&m, dir, json_object_get(doc, "files"), err);
	if (ret)
		goto out;
	memcpy(m.digest, digest, sizeof(digest));
	m.meta = doc;
	doc = NULL;
	model_release(out);
	*out = m;
	model_init(&m);
out:
	model_release(&m);
	json_decref(doc);
	free(path);
	return ret;
}
