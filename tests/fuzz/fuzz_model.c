/*
 * libFuzzer target: a model.json document through target_from_json and preprocess_from_json; what
 * they accept must serialise back to itself, and encode CSV records whose header it names.
 */
#include "util/common.h"
#include "ml/preprocess.h"
#include "ml/target.h"
#include "util/json.h"
#include "util/strbuf.h"

/* Appends s as one CSV field, quoted (names may hold commas, quotes and newlines). */
static void add_field(struct strbuf *sb, const char *s, char sep)
{
	strbuf_addch(sb, '"');
	for (; *s; s++) {
		if (*s == '"')
			strbuf_addch(sb, '"');
		strbuf_addch(sb, *s);
	}
	strbuf_addch(sb, '"');
	strbuf_addch(sb, sep);
}

/* A value for feature f in record r: a valid one, missing, NA, unseen or not a number. */
static const char *value_of(const struct feature *f, size_t r)
{
	static const char *const numbers[] = { "1.5", "", "NA", "abc", "-1e308", "true" };
	static const char *const others[] = { "", "NA", "zz unseen", "false" };

	if (f->type == COLUMN_CATEGORICAL)
		return r < 3 ? f->categories[(r * 7) % f->ncategories] : others[(r - 3) % 4];
	return numbers[r % ARRAY_SIZE(numbers)];
}

/* Records of the features (in reverse order) and the target, encoded under both policies. */
static void encode(const struct preprocess *p, const struct target *t)
{
	struct strbuf csv = STRBUF_INIT;
	struct error err = ERROR_INIT;
	struct csv_reader *r = NULL;
	const struct csv_field *f;
	size_t *colmap = xcalloc(p->nfeatures, sizeof(*colmap));
	double *row = xmalloc(p->width * sizeof(*row)); /* exactly width: ASan sees overruns */
	double value;
	int cls;

	for (size_t i = p->nfeatures; i-- > 0;)
		add_field(&csv, p->features[i].name, ',');
	add_field(&csv, t->name, '\n');
	for (size_t rec = 0; rec < 8; rec++) {
		for (size_t i = p->nfeatures; i-- > 0;)
			add_field(&csv, value_of(&p->features[i], rec + i), ',');
		add_field(&csv, rec % 2 && t->nclasses ? t->classes[rec % t->nclasses] : "2", '\n');
	}
	/* a feature named like the target is a duplicate column: a clean error, nothing more */
	if (csv_open_buffer(&r, "fuzz.csv", csv.buf, csv.len, &err))
		goto out;
	if (preprocess_map_columns(colmap, p, csv_column_names(r), csv_ncols(r), "fuzz.csv", &err))
		BUG("a header of the feature names misses one: %s", err.msg);
	while (csv_next(&f, r, &err) == 1) {
		for (int unseen = UNSEEN_ERROR; unseen <= UNSEEN_IGNORE; unseen++)
			if (preprocess_encode_fields(p, colmap, f, "fuzz.csv",
						     (const char *const[]){ "NA" }, 1, unseen, row,
						     &err) &&
			    strncmp(err.msg, "fuzz.csv:", 9))
				BUG("an encoding error without its place: %s", err.msg);
		if (target_encode_field(t, &f[p->nfeatures], "fuzz.csv", &cls, &value, &err) == 0 &&
		    t->task != TASK_REGRESSION && (cls < 0 || (size_t)cls >= t->nclasses))
			BUG("class index %d of %zu", cls, t->nclasses);
	}
out:
	csv_free(r);
	strbuf_release(&csv);
	free(colmap);
	free(row);
}

/* What from_json accepted, written and read back, gives the same document. */
static void round_trip(const struct preprocess *p, const struct target *t)
{
	struct preprocess p2 = PREPROCESS_INIT;
	struct target t2 = TARGET_INIT;
	struct error err = ERROR_INIT;
	json_t *pj = preprocess_to_json(p), *tj = target_to_json(t), *pj2 = NULL, *tj2 = NULL;

	if (preprocess_from_json(&p2, pj, &err) || target_from_json(&t2, tj, &err))
		BUG("a written model part does not load: %s", err.msg);
	pj2 = preprocess_to_json(&p2);
	tj2 = target_to_json(&t2);
	if (!json_equal(pj, pj2) || !json_equal(tj, tj2) || p2.width != p->width)
		BUG("a model part changed in a round trip");
	json_decref(pj);
	json_decref(pj2);
	json_decref(tj);
	json_decref(tj2);
	preprocess_release(&p2);
	target_release(&t2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct error err = ERROR_INIT;
	struct preprocess p = PREPROCESS_INIT;
	struct target t = TARGET_INIT;
	json_t *doc = NULL;

	if (json_load_buffer(&doc, "model.json", (const char *)data, size, &err))
		return 0;
	if (!target_from_json(&t, json_object_get(doc, "target"), &err) &&
	    !preprocess_from_json(&p, json_object_get(doc, "preprocessing"), &err)) {
		round_trip(&p, &t);
		encode(&p, &t);
	} else if (!err.msg[0]) {
		BUG("a model part was refused without a message");
	}
	preprocess_release(&p);
	target_release(&t);
	json_decref(doc);
	return 0;
}
