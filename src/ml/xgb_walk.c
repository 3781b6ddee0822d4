/*
 * Native xgboost tree walking: the booster's JSON document flattened into one node array, and
 * libxgboost 1.7's CPU predictor arithmetic (float sums, Sigmoid, Softmax) mirrored operation by
 * operation so that the results equal xgb_predict's bit for bit.
 */
#include "util/common.h"
#include "ml/xgb_walk.h"
#include "util/json.h"
#include "util/parse.h"

#include <math.h>
#include <xgboost/c_api.h>

/*
 * Splits compare order keys, not floats: a float's bits turned into an unsigned integer that
 * sorts as the float does (both zeros made +0, which they equal), so `x < threshold` in float is
 * `key(x) < key(threshold)` for every finite x. A row is laid out as 2 * n_features + 2 keys:
 * the features with NaN as 0 (below every key: goes left), the features again with NaN as
 * UINT32_MAX (above every key: goes right), then 0 and UINT32_MAX for the leaves. A split's
 * slot picks the copy of its feature that sends NaN to its default side, so a step is one load
 * of the node, one of the row key, one integer compare: right = key(row) >= key(threshold).
 *
 * A leaf is a node that leads to itself: its key is its value's float bits and its slot the 0
 * at the row's end, so it goes "left" to itself (a leaf of +0.0, bits 0, uses the UINT32_MAX
 * slot and goes "right" from left = itself - 1). So every walk through a tree takes exactly
 * its depth in steps with no data-dependent branch, and the walks of several trees or rows are
 * interleaved to keep the CPU's loads in flight.
 */
struct walk_node {
	uint32_t key;  /* split: the threshold's order key; leaf: the value's float bits */
	uint32_t slot; /* index of the row key it compares */
	uint32_t left; /* index of the left child in xgb_walk.nodes; right is left + 1 */
};

#define WALK_MAX_FEATURES (((size_t)UINT32_MAX - 2) / 2) /* so that slots fit a uint32_t */
#define WALK_NAN_LEFT 0u
#define WALK_NAN_RIGHT UINT32_MAX
#define WALK_LANES 8 /* walks interleaved */

/*
 * Rows are predicted in blocks, tree by tree, so that a tree's nodes are read once per block
 * (as libxgboost's kBlockOfRowsSize); each row still adds its trees in tree order. The block's
 * keys and sums live on the stack up to WALK_STACK_KEYS and WALK_STACK_SUMS.
 */
#define WALK_BLOCK 32
#define WALK_STACK_KEYS 4096
#define WALK_STACK_SUMS 1024

struct walk_tree {
	uint32_t root;	/* index in xgb_walk.nodes */
	uint32_t depth; /* steps from the root to its deepest leaf */
	uint32_t group; /* output group (class) the tree adds to */
};

struct xgb_walk {
	enum xgb_task task;
	size_t n_features;
	size_t n_groups; /* sums per row: k for multiclass, else 1 */
	size_t n_trees, n_nodes;
	int n_rounds;
	float base_margin; /* base_score through the objective's ProbToMargin */
	struct walk_node *nodes;
	struct walk_tree *trees;
};

void xgb_walk_free(struct xgb_walk *w)
{
	if (!w)
		return;
	free(w->nodes);
	free(w->trees);
	free(w);
}

void xgb_walk_info(const struct xgb_walk *w, struct xgb_walk_info *out)
{
	out->task = w->task;
	out->n_features = w->n_features;
	out->n_classes = w->task == XGB_REGRESSION ? 0 : w->task == XGB_BINARY ? 2 : w->n_groups;
	out->n_trees = w->n_trees;
	out->n_nodes = w->n_nodes;
	out->n_rounds = w->n_rounds;
}

/* --- reading the document --- */

static const char *type_name(json_type type)
{
	switch (type) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	default:
		return "a number";
	}
}

/* obj[key] of the given type; path names obj in messages. */
static int member(const json_t **out, const json_t *obj, const char *path, const char *key,
		  json_type type, struct error *err)
{
	const json_t *v = json_object_get(obj, key);

	if (!v)
		return error_set(err, ERR_INVALID, "xgboost model: %s lacks '%s'", path, key);
	if (json_typeof(v) != type)
		return error_set(err, ERR_INVALID, "xgboost model: %s.%s is %s, expected %s", path,
				 key, json_type_name(v), type_name(type));
	*out = v;
	return 0;
}

/* xgboost writes its model parameters as strings of decimal integers: "num_feature": "30". */
static int count_member(int64_t *out, const json_t *obj, const char *path, const char *key,
			int64_t max, struct error *err)
{
	const json_t *v = NULL;
	int64_t n;
	int ret = member(&v, obj, path, key, JSON_STRING, err);

	if (ret)
		return ret;
	if (parse_int64(json_string_value(v), &n) || n < 0 || n > max)
		return error_set(err, ERR_INVALID,
				 "xgboost model: %s.%s is '%s', expected 0 to %" PRId64, path, key,
				 json_string_value(v), max);
	*out = n;
	return 0;
}

/*
 * xgboost writes each float32 as the shortest decimal that reads back as it. Read as a double
 * (jansson, parse_double), that rounds to the same float unless the double lies exactly halfway
 * between two floats (then the decimal might have been on either side): refused, not guessed.
 * Infinities are refused too.
 */
static int float_of(float *out, double d)
{
	float f = (float)d, g;

	if (!isfinite(d) || isinf(f))
		return ERR_INVALID;
	if ((double)f != d) {
		g = nextafterf(f, d > (double)f ? INFINITY : -INFINITY);
		if (!isinf(g) && ((double)f + (double)g) / 2 == d)
			return ERR_UNSUPPORTED;
	}
	*out = f;
	return 0;
}

static int json_float(float *out, const json_t *v)
{
	if (json_is_integer(v)) {
		json_int_t i = json_integer_value(v);

		/* exact as a double, and as a float */
		if (i < -(1 << 24) || i > (1 << 24))
			return ERR_INVALID;
		*out = (float)i;
		return 0;
	}
	return json_is_real(v) ? float_of(out, json_real_value(v)) : ERR_INVALID;
}

/* The objective's task and its base margin, as LearnerConfiguration computes it. */
static int read_objective(struct xgb_walk *w, const json_t *learner, struct error *err)
{
	const json_t *obj = NULL, *name = NULL, *mp = NULL, *bs = NULL;
	const char *s;
	int64_t num_class = 0, num_target = 1, num_feature = 0;
	double base_text = 0;
	float base = 0;
	int ret;

	if ((ret = member(&obj, learner, "learner", "objective", JSON_OBJECT, err)) ||
	    (ret = member(&name, obj, "learner.objective", "name", JSON_STRING, err)) ||
	    (ret = member(&mp, learner, "learner", "learner_model_param", JSON_OBJECT, err)) ||
	    (ret = count_member(&num_class, mp, "learner.learner_model_param", "num_class",
				INT32_MAX, err)) ||
	    (ret = count_member(&num_feature, mp, "learner.learner_model_param", "num_feature",
				(int64_t)WALK_MAX_FEATURES, err)) ||
	    (ret = member(&bs, mp, "learner.learner_model_param", "base_score", JSON_STRING, err)))
		return ret;
	if (json_object_get(mp, "num_target") &&
	    (ret = count_member(&num_target, mp, "learner.learner_model_param", "num_target",
				INT32_MAX, err)))
		return ret;
	if (num_target != 1)
		return error_set(err, ERR_UNSUPPORTED,
				 "xgboost model with %" PRId64
				 " targets: the tree walker covers one",
				 num_target);
	s = json_string_value(name);
	if (!strcmp(s, "binary:logistic")) {
		w->task = XGB_BINARY;
	} else if (!strcmp(s, "multi:softprob")) {
		w->task = XGB_MULTICLASS;
	} else if (!strcmp(s, "reg:squarederror")) {
		w->task = XGB_REGRESSION;
	} else {
		return error_set(err, ERR_UNSUPPORTED,
				 "xgboost objective '%s' is not covered by the tree walker (it "
				 "covers binary:logistic, multi:softprob and reg:squarederror)",
				 s);
	}
	if (w->task == XGB_MULTICLASS && num_class < 1)
		return error_set(err, ERR_INVALID,
				 "xgboost model: multi:softprob with %" PRId64 " classes",
				 num_class);
	if (w->task != XGB_MULTICLASS && num_class > 1)
		return error_set(err, ERR_UNSUPPORTED,
				 "xgboost model: %s with num_class %" PRId64
				 " is not covered by the tree walker",
				 s, num_class);
	w->n_groups = w->task == XGB_MULTICLASS ? (size_t)num_class : 1;
	w->n_features = (size_t)num_feature;

	/* a float written by to_chars as a string ("5E-1") */
	s = json_string_value(bs);
	if (parse_double(s, &base_text) || float_of(&base, base_text) ||
	    (w->task == XGB_BINARY && !(base > 0.0f && base < 1.0f)))
		return error_set(err, ERR_INVALID,
				 "xgboost model: base_score '%s' is not usable for %s", s,
				 json_string_value(name));
	/* ProbToMargin: LogisticRegression's -logf(1/x - 1) in float; identity for the others */
	w->base_margin = w->task == XGB_BINARY ? -logf(1.0f / base - 1.0f) : base;
	return 0;
}

/* The JSON arrays of one tree, each num_nodes long. */
struct tree_json {
	const json_t *left, *right, *feature, *cond, *default_left, *split_type;
	size_t n;
	char path[96];
};

static int tree_arrays(struct tree_json *a, const json_t *tree, size_t t, struct error *err)
{
	static const char *const names[] = { "left_children",	 "right_children", "split_indices",
					     "split_conditions", "default_left",   "split_type" };
	const json_t **slots[] = { &a->left, &a->right,	       &a->feature,
				   &a->cond, &a->default_left, &a->split_type };
	const json_t *param = NULL, *cats = NULL;
	int64_t n = 0, leaf_vector = 0;
	char ppath[128];
	int ret;

	snprintf(a->path, sizeof(a->path), "trees[%zu]", t);
	snprintf(ppath, sizeof(ppath), "%s.tree_param", a->path);
	if (!json_is_object(tree))
		return error_set(err, ERR_INVALID, "xgboost model: %s is %s, expected an object",
				 a->path, json_type_name(tree));
	if ((ret = member(&param, tree, a->path, "tree_param", JSON_OBJECT, err)) ||
	    (ret = count_member(&n, param, ppath, "num_nodes", INT32_MAX, err)))
		return ret;
	if (json_object_get(param, "size_leaf_vector") &&
	    (ret = count_member(&leaf_vector, param, ppath, "size_leaf_vector", INT32_MAX, err)))
		return ret;
	if (leaf_vector != 0)
		return error_set(err, ERR_UNSUPPORTED,
				 "xgboost model: %s has vector leaves (size_leaf_vector %" PRId64
				 "), which the tree walker does not cover",
				 a->path, leaf_vector);
	if (n < 1)
		return error_set(err, ERR_INVALID, "xgboost model: %s has no nodes", a->path);
	a->n = (size_t)n;
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		if ((ret = member(slots[i], tree, a->path, names[i], JSON_ARRAY, err)))
			return ret;
		if (json_array_size(*slots[i]) != a->n)
			return error_set(err, ERR_INVALID,
					 "xgboost model: %s.%s has %zu entries for %zu nodes",
					 a->path, names[i], json_array_size(*slots[i]), a->n);
	}
	cats = json_object_get(tree, "categories");
	if (cats && (!json_is_array(cats) || json_array_size(cats) != 0))
		return error_set(err, ERR_UNSUPPORTED,
				 "xgboost model: %s has categorical splits, which the tree walker "
				 "does not cover",
				 a->path);
	return 0;
}

/* a[i] as an integer in lo..hi, or ERR_INVALID naming it. */
static int int_at(int64_t *out, const json_t *arr, size_t i, int64_t lo, int64_t hi,
		  const struct tree_json *a, const char *name, struct error *err)
{
	const json_t *v = json_array_get(arr, i);
	json_int_t x;

	if (!json_is_integer(v) || (x = json_integer_value(v)) < lo || x > hi)
		return error_set(err, ERR_INVALID,
				 "xgboost model: %s.%s[%zu] is not an integer in %" PRId64
				 "..%" PRId64,
				 a->path, name, i, lo, hi);
	*out = x;
	return 0;
}

/* An unsigned integer that sorts as f does among non-NaN floats (zeros as +0). */
static inline uint32_t order_key(float f)
{
	uint32_t u;

	if (f == 0.0f)
		f = 0.0f;
	memcpy(&u, &f, sizeof(u));
	return u & 0x80000000u ? ~u : u | 0x80000000u;
}

/* A tree's nodes in the order they are laid out: the JSON node and depth of each. */
struct walk_queue {
	uint32_t *origin, *depth;
	unsigned char *seen; /* by JSON node */
	size_t count;
};

/* Queued node p of the tree as nodes[base + p]; its children are queued. */
static int add_node(struct xgb_walk *w, size_t base, size_t p, const struct tree_json *a,
		    struct walk_queue *q, struct error *err)
{
	int64_t left = 0, right = 0, feature = 0, dl = 0, type = 0;
	size_t i = q->origin[p], at = base + p;
	struct walk_node *nd = &w->nodes[at];
	float value = 0;
	int ret = json_float(&value, json_array_get(a->cond, i));

	if (ret == ERR_UNSUPPORTED)
		return error_set(err, ret,
				 "xgboost model: %s.split_conditions[%zu] cannot be read back as a "
				 "float exactly",
				 a->path, i);
	if (ret)
		return error_set(err, ret, "xgboost model: %s.split_conditions[%zu] is not a float",
				 a->path, i);
	if ((ret = int_at(&left, a->left, i, -1, (int64_t)a->n - 1, a, "left_children", err)))
		return ret;
	if (left == -1) {
		/* IsLeaf() looks at the left child only; the leaf value shares split_cond's slot */
		memcpy(&nd->key, &value, sizeof(nd->key));
		nd->slot = (uint32_t)(2 * w->n_features + (nd->key == 0));
		nd->left = (uint32_t)at - (nd->key == 0);
		return 0;
	}
	if ((ret = int_at(&right, a->right, i, 0, (int64_t)a->n - 1, a, "right_children", err)) ||
	    (ret = int_at(&feature, a->feature, i, 0, (int64_t)w->n_features - 1, a,
			  "split_indices", err)) ||
	    (ret = int_at(&dl, a->default_left, i, 0, 1, a, "default_left", err)) ||
	    (ret = int_at(&type, a->split_type, i, 0, 1, a, "split_type", err)))
		return ret;
	if (type != 0)
		return error_set(err, ERR_UNSUPPORTED,
				 "xgboost model: %s node %zu is a categorical split, which the "
				 "tree walker does not cover",
				 a->path, i);
	if (right != left + 1)
		return error_set(err, ERR_UNSUPPORTED,
				 "xgboost model: %s node %zu has children %" PRId64 " and %" PRId64
				 ", not adjacent as libxgboost's predictor expects",
				 a->path, i, left, right);
	if (q->seen[left] || q->seen[right])
		return error_set(err, ERR_INVALID,
				 "xgboost model: %s node %" PRId64 " has two parents", a->path,
				 q->seen[left] ? left : right);
	q->seen[left] = q->seen[right] = 1;
	nd->key = order_key(value);
	nd->slot = (uint32_t)(dl ? feature : (int64_t)w->n_features + feature);
	nd->left = (uint32_t)(base + q->count);
	for (int c = 0; c < 2; c++) {
		q->origin[q->count] = (uint32_t)(left + c);
		q->depth[q->count++] = q->depth[p] + 1;
	}
	return 0;
}

/*
 * Appends the nodes reachable from the root of tree t, breadth first, so that the top levels of
 * a tree share cache lines; nodes the pruner deleted are left out.
 */
static int add_tree(struct xgb_walk *w, size_t *alloc, const json_t *tree, size_t t,
		    struct error *err)
{
	struct tree_json a;
	struct walk_queue q = { NULL, NULL, NULL, 1 };
	int ret = tree_arrays(&a, tree, t, err);

	if (ret)
		return ret;
	if (a.n > UINT32_MAX - 1 - w->n_nodes)
		return error_set(err, ERR_UNSUPPORTED, "xgboost model: too many tree nodes");
	q.seen = xcalloc(a.n, 1);
	q.origin = xmalloc(a.n * sizeof(*q.origin));
	q.depth = xmalloc(a.n * sizeof(*q.depth));
	ALLOC_GROW(w->nodes, w->n_nodes + a.n, *alloc);
	q.origin[0] = 0;
	q.depth[0] = 0;
	q.seen[0] = 1;
	/* each JSON node is queued at most once (seen), so at most a.n of them */
	for (size_t p = 0; p < q.count; p++) {
		if ((ret = add_node(w, w->n_nodes, p, &a, &q, err)))
			goto out;
	}
	w->trees[t].root = (uint32_t)w->n_nodes;
	w->trees[t].depth = q.depth[q.count - 1]; /* breadth first: the last is the deepest */
	w->n_nodes += q.count;
out:
	free(q.seen);
	free(q.origin);
	free(q.depth);
	return ret;
}

/* gradient_booster.model: trees, tree_info and the layer size. */
static int read_trees(struct xgb_walk *w, const json_t *booster, struct error *err)
{
	static const char path[] = "learner.gradient_booster.model";
	const json_t *model = NULL, *param = NULL, *trees = NULL, *info = NULL;
	int64_t parallel = 0, num_trees = 0;
	size_t alloc = 0, layer;
	int ret;

	if ((ret =
		 member(&model, booster, "learner.gradient_booster", "model", JSON_OBJECT, err)) ||
	    (ret = member(&param, model, path, "gbtree_model_param", JSON_OBJECT, err)) ||
	    (ret = count_member(&parallel, param, path, "num_parallel_tree", INT32_MAX, err)) ||
	    (ret = count_member(&num_trees, param, path, "num_trees", INT32_MAX, err)) ||
	    (ret = member(&trees, model, path, "trees", JSON_ARRAY, err)) ||
	    (ret = member(&info, model, path, "tree_info", JSON_ARRAY, err)))
		return ret;
	w->n_trees = json_array_size(trees);
	if ((size_t)num_trees != w->n_trees || json_array_size(info) != w->n_trees)
		return error_set(err, ERR_INVALID,
				 "xgboost model: num_trees %" PRId64
				 ", %zu trees and %zu tree_info entries",
				 num_trees, w->n_trees, json_array_size(info));
	layer = (size_t)(parallel < 1 ? 1 : parallel) * w->n_groups;
	if (w->n_trees % layer)
		return error_set(err, ERR_INVALID,
				 "xgboost model: %zu trees are not whole rounds of %zu", w->n_trees,
				 layer);
	w->n_rounds = (int)(w->n_trees / layer);
	w->trees = xcalloc(w->n_trees ? w->n_trees : 1, sizeof(*w->trees));
	for (size_t t = 0; t < w->n_trees; t++) {
		const json_t *g = json_array_get(info, t);

		if (!json_is_integer(g) || json_integer_value(g) < 0 ||
		    (uint64_t)json_integer_value(g) >= w->n_groups)
			return error_set(err, ERR_INVALID,
					 "xgboost model: tree_info[%zu] is not a group below %zu",
					 t, w->n_groups);
		w->trees[t].group = (uint32_t)json_integer_value(g);
		if ((ret = add_tree(w, &alloc, json_array_get(trees, t), t, err)))
			return ret;
	}
	return 0;
}

/* What wrote the document: the arithmetic mirrored here is libxgboost 1.7's. */
static int check_version(const json_t *doc, struct error *err)
{
	const json_t *v = json_object_get(doc, "version");
	json_int_t major, minor;

	if (!json_is_array(v) || json_array_size(v) != 3 ||
	    !json_is_integer(json_array_get(v, 0)) || !json_is_integer(json_array_get(v, 1)) ||
	    !json_is_integer(json_array_get(v, 2)))
		return error_set(err, ERR_INVALID,
				 "xgboost model: no [major, minor, patch] version");
	major = json_integer_value(json_array_get(v, 0));
	minor = json_integer_value(json_array_get(v, 1));
	if (major != 1 || minor != 7)
		return error_set(err, ERR_UNSUPPORTED,
				 "xgboost model written by xgboost %" JSON_INTEGER_FORMAT
				 ".%" JSON_INTEGER_FORMAT
				 ": the tree walker mirrors 1.7's predictor",
				 major, minor);
	return 0;
}

static int parse_doc(struct xgb_walk *w, const json_t *doc, struct error *err)
{
	const json_t *learner = NULL, *booster = NULL, *name = NULL;
	int ret;

	if (!json_is_object(doc))
		return error_set(err, ERR_INVALID, "xgboost model: the document is not an object");
	if ((ret = check_version(doc, err)) ||
	    (ret = member(&learner, doc, "the document", "learner", JSON_OBJECT, err)) ||
	    (ret = member(&booster, learner, "learner", "gradient_booster", JSON_OBJECT, err)) ||
	    (ret = member(&name, booster, "learner.gradient_booster", "name", JSON_STRING, err)))
		return ret;
	if (strcmp(json_string_value(name), "gbtree") != 0)
		return error_set(err, ERR_UNSUPPORTED,
				 "xgboost booster '%s' is not covered by the tree walker (it "
				 "covers gbtree)",
				 json_string_value(name));
	if ((ret = read_objective(w, learner, err)))
		return ret;
	return read_trees(w, booster, err);
}

int xgb_walk_load_json(struct xgb_walk **out, const char *json, size_t len, struct error *err)
{
	struct xgb_walk *w = xcalloc(1, sizeof(*w));
	json_t *doc = NULL;
	int ret = json_load_buffer(&doc, "xgboost model", json, len, err);

	if (ret)
		goto out;
	if ((ret = parse_doc(w, doc, err)))
		goto out;
	*out = w;
	w = NULL;
out:
	json_decref(doc);
	xgb_walk_free(w);
	return ret;
}

/* libxgboost's last error without its "[12:34:56] ../src/x.cc:12: " prefix and stack trace. */
static int booster_error(struct error *err, const char *what)
{
	const char *p = XGBGetLastError(), *q;

	p = p ? p : "";
	q = strchr(p, ']');
	if (*p == '[' && q)
		p = q + 1;
	while (*p == ' ')
		p++;
	q = strstr(p, ": ");
	if (q && !memchr(p, ' ', (size_t)(q - p)))
		p = q + 2;
	return error_set(err, ERR_INTERNAL, "%s: %.*s", what, (int)strcspn(p, "\n"), p);
}

static const char *task_name(enum xgb_task task)
{
	return task == XGB_BINARY ? "binary" : task == XGB_MULTICLASS ? "multiclass" : "regression";
}

/* The walker must describe the model xgb_predict scores, or callers would mix two models. */
static int check_same(const struct xgb_walk *w, const struct xgb_model *m, struct error *err)
{
	size_t k = m->task == XGB_MULTICLASS ? m->n_classes : 1;

	if (w->task != m->task || w->n_features != m->n_features || w->n_groups != k)
		return error_set(err, ERR_INTERNAL,
				 "the xgboost booster (%s, %zu features, %zu outputs) does not "
				 "match the model (%s, %zu features, %zu outputs)",
				 task_name(w->task), w->n_features, w->n_groups, task_name(m->task),
				 m->n_features, k);
	if (w->n_rounds != m->n_rounds)
		return error_set(err, ERR_INTERNAL,
				 "the xgboost booster holds %d rounds, the model keeps %d",
				 w->n_rounds, m->n_rounds);
	return 0;
}

/*
 * Categorical splits are written with a NaN split_conditions entry, which is not JSON: say what
 * is not covered before the parser trips over it.
 */
static int check_feature_types(BoosterHandle b, struct error *err)
{
	const char **types = NULL;
	bst_ulong n = 0;

	if (XGBoosterGetStrFeatureInfo(b, "feature_type", &n, &types))
		return booster_error(err, "cannot read the xgboost feature types");
	for (bst_ulong i = 0; i < n; i++) {
		if (types[i] && !strcmp(types[i], "c"))
			return error_set(err, ERR_UNSUPPORTED,
					 "xgboost model: feature %" PRIu64
					 " is categorical, which the tree walker does not cover",
					 (uint64_t)i);
	}
	return 0;
}

int xgb_walk_load(struct xgb_walk **out, const struct xgb_model *m, struct error *err)
{
	struct xgb_walk *w = NULL;
	const char *buf = NULL;
	bst_ulong len = 0;
	int ret;

	if (!m->booster)
		return error_set(err, ERR_INVALID, "the xgboost model is empty");
	if ((ret = check_feature_types(m->booster, err)))
		return ret;
	if (XGBoosterSaveModelToBuffer(m->booster, "{\"format\":\"json\"}", &len, &buf))
		return booster_error(err, "cannot read the xgboost trees");
	/* buf is libxgboost's until its next call on this thread: parsed before anything else */
	ret = xgb_walk_load_json(&w, buf, (size_t)len, err);
	if (ret == ERR_INVALID) {
		/*
		 * libxgboost wrote something this parser does not read (NaN or infinite values
		 * are not JSON, for one): the booster itself is fine, so its C API scores it
		 */
		ret = ERR_UNSUPPORTED;
		if (err)
			err->code = ret;
		error_prefix(err, "the tree walker cannot read the booster: ");
	}
	if (!ret)
		ret = check_same(w, m, err);
	if (ret) {
		xgb_walk_free(w);
		return ret;
	}
	*out = w;
	return 0;
}

/* --- predicting --- */

static inline float leaf_value(const struct walk_node *nd)
{
	float v;

	memcpy(&v, &nd->key, sizeof(v));
	return v;
}

/*
 * The leaf a row reaches in tree t (GetLeafIndex with missing values), from the row's keys;
 * past the leaf the steps stay on it.
 */
static inline float tree_leaf(const struct walk_node *nodes, const struct walk_tree *t,
			      const uint32_t *keys)
{
	uint32_t at = t->root;

	for (uint32_t k = 0; k < t->depth; k++) {
		const struct walk_node *nd = nodes + at;

		at = nd->left + (keys[nd->slot] >= nd->key);
	}
	return leaf_value(nodes + at);
}

/* The leaves of one row in WALK_LANES consecutive trees, walked side by side. */
static inline void trees_leaves(const struct walk_node *nodes, const struct walk_tree *t,
				const uint32_t *keys, float *v)
{
	uint32_t at[WALK_LANES], depth = 0;

	for (int i = 0; i < WALK_LANES; i++) {
		at[i] = t[i].root;
		depth = t[i].depth > depth ? t[i].depth : depth;
	}
	for (uint32_t k = 0; k < depth; k++) {
		/* unrolled, so that the lanes' positions stay in registers */
#pragma GCC unroll 8
		for (int i = 0; i < WALK_LANES; i++) {
			const struct walk_node *nd = nodes + at[i];

			at[i] = nd->left + (keys[nd->slot] >= nd->key);
		}
	}
	for (int i = 0; i < WALK_LANES; i++)
		v[i] = leaf_value(nodes + at[i]);
}

/* The leaves of WALK_LANES consecutive rows (stride keys apart) in tree t, side by side. */
static inline void rows_leaves(const struct walk_node *nodes, const struct walk_tree *t,
			       const uint32_t *keys, size_t stride, float *v)
{
	uint32_t at[WALK_LANES];

	for (int i = 0; i < WALK_LANES; i++)
		at[i] = t->root;
	for (uint32_t k = 0; k < t->depth; k++) {
#pragma GCC unroll 8
		for (int i = 0; i < WALK_LANES; i++) {
			const struct walk_node *nd = nodes + at[i];

			at[i] = nd->left + (keys[i * stride + nd->slot] >= nd->key);
		}
	}
	for (int i = 0; i < WALK_LANES; i++)
		v[i] = leaf_value(nodes + at[i]);
}

/*
 * common::Sigmoid: the float operations in its order. std::min(-x, 88.7f) keeps -x unless
 * 88.7f < -x; the 1e-16 guard is a double constant rounded to float, added last.
 */
static float sigmoid(float x)
{
	const float eps = (float)1e-16;
	float nx = -x, denom;

	nx = 88.7f < nx ? 88.7f : nx;
	denom = expf(nx) + 1.0f + eps;
	return 1.0f / denom;
}

/* common::Softmax: max in float, exponentials in float summed in double, divided in float. */
static void softmax(float *s, size_t k)
{
	float wmax = s[0];
	double wsum = 0.0;

	for (size_t j = 1; j < k; j++)
		wmax = fmaxf(s[j], wmax);
	for (size_t j = 0; j < k; j++) {
		s[j] = expf(s[j] - wmax);
		wsum += s[j];
	}
	for (size_t j = 0; j < k; j++)
		s[j] /= (float)wsum;
}

/* The objective's transform and xgb_predict's copy-out of one row's margins. */
static void finish_row(const struct xgb_walk *w, float *s, double *out)
{
	float p;

	switch (w->task) {
	case XGB_BINARY:
		p = sigmoid(s[0]);
		/* xgb_predict's 1 - p, computed in float as numpy does */
		out[0] = (float)(1.0f - p);
		out[1] = p;
		return;
	case XGB_REGRESSION:
		out[0] = s[0];
		return;
	case XGB_MULTICLASS:
		softmax(s, w->n_groups);
		for (size_t j = 0; j < w->n_groups; j++)
			out[j] = s[j];
		return;
	}
}

/* xgb_predict refuses these before predicting anything: so does the walker. */
static int check_finite(const double *X, size_t n, size_t d, struct error *err)
{
	for (size_t i = 0; i < n * d; i++) {
		if (isinf((float)X[i]))
			return error_set(err, ERR_INVALID,
					 "prediction row %zu, column %zu: %g is infinite or too "
					 "large for a float",
					 i / d, i % d, X[i]);
	}
	return 0;
}

/* A row's keys (see struct walk_node), its features rounded to float as xgb_predict does. */
static void row_keys(uint32_t *keys, const double *x, size_t d)
{
	for (size_t j = 0; j < d; j++) {
		float f = (float)x[j];
		uint32_t key = order_key(f);

		keys[j] = isnan(f) ? WALK_NAN_LEFT : key;
		keys[d + j] = isnan(f) ? WALK_NAN_RIGHT : key;
	}
	keys[2 * d] = WALK_NAN_LEFT;
	keys[2 * d + 1] = WALK_NAN_RIGHT;
}

/* One row through every tree, WALK_LANES trees at a time: the single-row latency case. */
static void predict_row(const struct xgb_walk *w, const uint32_t *keys, float *sums)
{
	const struct walk_tree *trees = w->trees;
	size_t t = 0;
	float v[WALK_LANES];

	if (w->n_groups == 1) {
		/* the sum in a register, not through memory */
		float s = sums[0];

		for (; t + WALK_LANES <= w->n_trees; t += WALK_LANES) {
			trees_leaves(w->nodes, trees + t, keys, v);
			for (int i = 0; i < WALK_LANES; i++)
				s += v[i];
		}
		for (; t < w->n_trees; t++)
			s += tree_leaf(w->nodes, &trees[t], keys);
		sums[0] = s;
		return;
	}
	for (; t + WALK_LANES <= w->n_trees; t += WALK_LANES) {
		trees_leaves(w->nodes, trees + t, keys, v);
		for (int i = 0; i < WALK_LANES; i++)
			sums[trees[t + i].group] += v[i];
	}
	for (; t < w->n_trees; t++)
		sums[trees[t].group] += tree_leaf(w->nodes, &trees[t], keys);
}

/* b rows through every tree, tree by tree, WALK_LANES rows at a time. */
static void predict_rows(const struct xgb_walk *w, const uint32_t *keys, size_t stride, size_t b,
			 float *sums)
{
	size_t k = w->n_groups;
	float v[WALK_LANES];

	for (size_t t = 0; t < w->n_trees; t++) {
		const struct walk_tree *tree = &w->trees[t];
		float *col = sums + tree->group;
		size_t r = 0;

		for (; r + WALK_LANES <= b; r += WALK_LANES) {
			rows_leaves(w->nodes, tree, keys + r * stride, stride, v);
			for (int i = 0; i < WALK_LANES; i++)
				col[(r + i) * k] += v[i];
		}
		for (; r < b; r++)
			col[r * k] += tree_leaf(w->nodes, tree, keys + r * stride);
	}
}

/*
 * Each row starts from the base margin and adds the trees' leaves in tree order in float, as
 * PredictByAllTrees adds them to InitOutPredictions' base_score. b rows of X; keys holds
 * b * (2 * n_features + 2) words, sums b * n_groups floats.
 */
static void predict_block(const struct xgb_walk *w, const double *X, size_t b, double *out,
			  uint32_t *keys, float *sums)
{
	size_t d = w->n_features, stride = 2 * d + 2, k = w->n_groups;
	size_t width = w->task == XGB_BINARY ? 2 : k;

	for (size_t r = 0; r < b; r++)
		row_keys(keys + r * stride, X + r * d, d);
	for (size_t i = 0; i < b * k; i++)
		sums[i] = w->base_margin;
	if (b == 1)
		predict_row(w, keys, sums);
	else
		predict_rows(w, keys, stride, b, sums);
	for (size_t r = 0; r < b; r++)
		finish_row(w, sums + r * k, out + r * width);
}

int xgb_walk_predict(const struct xgb_walk *w, const double *X, size_t n, double *out,
		     struct error *err)
{
	uint32_t keys_stack[WALK_STACK_KEYS], *keys = keys_stack;
	float sums_stack[WALK_STACK_SUMS], *sums = sums_stack;
	size_t stride = 2 * w->n_features + 2, block = WALK_BLOCK;
	size_t width = w->task == XGB_BINARY ? 2 : w->n_groups;
	int ret = check_finite(X, n, w->n_features, err);

	if (ret || n == 0)
		return ret;
	if (block > n)
		block = n;
	if (block > WALK_STACK_KEYS / stride)
		block = WALK_STACK_KEYS / stride;
	if (block > WALK_STACK_SUMS / w->n_groups)
		block = WALK_STACK_SUMS / w->n_groups;
	if (!block) {
		/* a row of that many features or classes costs more than the allocations */
		block = 1;
		keys = xmalloc(stride * sizeof(*keys));
		sums = xmalloc(w->n_groups * sizeof(*sums));
	}
	for (size_t i = 0; i < n; i += block) {
		size_t b = n - i < block ? n - i : block;

		predict_block(w, X + i * w->n_features, b, out + i * width, keys, sums);
	}
	if (keys != keys_stack) {
		free(keys);
		free(sums);
	}
	return 0;
}

int xgb_walk_verify(const struct xgb_walk *w, const struct xgb_model *m, const double *X, size_t n,
		    struct error *err)
{
	size_t width = w->task == XGB_BINARY ? 2 : w->n_groups;
	double *want = NULL, *got = NULL;
	int ret;

	if ((ret = check_same(w, m, err)) || n == 0)
		return ret;
	want = xmalloc(n * width * sizeof(*want));
	got = xmalloc(n * width * sizeof(*got));
	if ((ret = xgb_predict(m, X, n, want, err)) || (ret = xgb_walk_predict(w, X, n, got, err)))
		goto out;
	for (size_t i = 0; i < n * width; i++) {
		if (memcmp(&want[i], &got[i], sizeof(*got)) != 0) {
			ret = error_set(err, ERR_INTERNAL,
					"the xgboost tree walker disagrees with libxgboost at row "
					"%zu, column %zu: %.17g (walker) vs %.17g (libxgboost)",
					i / width, i % width, got[i], want[i]);
			goto out;
		}
	}
out:
	free(want);
	free(got);
	return ret;
}
