/*
 * store_run_search and store_experiment_search on a temporary SQLite store: runs with metrics
 * (several points, some NaN, some missing), params, tags, datasets and deleted runs are created
 * through the store API, and every search is compared with the answer computed here from the
 * data as it was inserted (latest metric = greatest (step, timestamp, value); runs without the
 * sort key last, NaN after numbers; then start_time DESC, run_id).
 */
#include "util/common.h"
#include "store/search.h"
#include "store/store.h"
#include "track/filter.h"
#include "helpers.h"

#include <math.h>
#include <sqlite3.h>

#define NR_RUNS 90
#define BASE_TIME 1700000000000LL

static const char *const notes[] = { "Hello world", "hello there", "HELLO",
				     "a*b[c]",	    "x_y%z",	   "it's" };

/* What the test inserted, and what it expects the store to know about a run. */
struct mrun {
	char id[ID_HEX_LEN + 1];
	int exp; /* 0, 1 or 2 */
	char name[16], user[8];
	enum store_run_status status;
	int64_t start, end; /* end 0: unset */
	bool deleted;
	bool has_acc, acc_nan, has_loss, loss_nan;
	double acc, loss;
	const char *model; /* NULL: not logged */
	char lr[16];
	const char *team, *note;
	const char *ds_name, *ds_context;
};

struct world {
	char *dir, *db;
	struct store *st;
	char *exp_ids[3];
	struct mrun runs[NR_RUNS];
};

static uint64_t rng_state = 88172645463325252ULL;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* Logs 1-3 points of key and records in (has, nan, v) the latest one. */
static void log_metric(struct world *w, struct mrun *r, const char *key, bool nan_last, bool *nan,
		       double *v)
{
	struct error err = ERROR_INIT;
	struct store_metric pts[3];
	int n = 1 + (int)(rnd() % 3);
	int best = 0;

	for (int i = 0; i < n; i++) {
		pts[i].key = key;
		pts[i].step = (int64_t)(rnd() % 3);
		pts[i].timestamp = BASE_TIME + (int64_t)(rnd() % 4);
		pts[i].value = (double)(rnd() % 1000) / 1000.0;
	}
	for (int i = 1; i < n; i++) {
		const struct store_metric *a = &pts[i], *b = &pts[best];

		if (a->step > b->step || (a->step == b->step && a->timestamp > b->timestamp) ||
		    (a->step == b->step && a->timestamp == b->timestamp && a->value > b->value))
			best = i;
	}
	if (nan_last) {
		/* A later step than any other: NaN becomes the latest value. */
		pts[best].step = 10;
		pts[best].value = NAN;
	}
	assert_ok(store_run_log_metrics(w->st, r->id, pts, (size_t)n, &err));
	*nan = nan_last;
	*v = pts[best].value;
}

static void make_run(struct world *w, int i)
{
	static const char *const models[] = { "lr", "xgboost", "tree" };
	static const char *const teams[] = { "a", "b", NULL };
	struct mrun *r = &w->runs[i];
	struct error err = ERROR_INIT;
	struct store_new_run nr;

	memset(&nr, 0, sizeof(nr));
	r->exp = i % 4 == 3 ? 1 : i % 10 == 9 ? 2 : 0;
	snprintf(r->name, sizeof(r->name), "run-%d", i);
	snprintf(r->user, sizeof(r->user), "u%d", i % 3);
	r->start = BASE_TIME + (i * 37) % 20; /* ties on purpose */
	nr.experiment_id = w->exp_ids[r->exp];
	nr.name = r->name;
	nr.user = r->user;
	nr.start_time = r->start;
	assert_ok(store_run_create(w->st, r->id, &nr, &err));

	r->status = i % 9 == 0 ? STORE_RUN_FAILED : i % 2 ? STORE_RUN_RUNNING : STORE_RUN_FINISHED;
	if (r->status != STORE_RUN_RUNNING) {
		r->end = BASE_TIME + 100 + i;
		assert_ok(store_run_set_status(w->st, r->id, r->status, r->end, &err));
	}
	if ((r->has_acc = i % 7 != 3))
		log_metric(w, r, "acc", i % 11 == 5, &r->acc_nan, &r->acc);
	if ((r->has_loss = i % 5 != 0))
		log_metric(w, r, "val loss", i % 8 == 6, &r->loss_nan, &r->loss);
	if (i % 13) {
		r->model = models[i % 3];
		assert_ok(store_run_log_param(w->st, r->id, "model", r->model, &err));
	}
	snprintf(r->lr, sizeof(r->lr), "0.%03d", (int)(rnd() % 50));
	assert_ok(store_run_log_param(w->st, r->id, "lr", r->lr, &err));
	if ((r->team = teams[i % 3]))
		assert_ok(store_run_set_tag(w->st, r->id, "team", r->team, &err));
	if (i % 7 != 6) {
		r->note = notes[i % ARRAY_SIZE(notes)];
		assert_ok(store_run_set_tag(w->st, r->id, "note", r->note, &err));
	}
	if (i % 6 < 2) {
		struct store_new_dataset ds = { .size = -1 };
		int64_t id = 0;

		r->ds_name = i % 6 ? "wine" : "iris-v1";
		r->ds_context = i % 6 ? "eval" : "training";
		ds.name = r->ds_name;
		ds.digest = i % 6 ? "d2" : "d1";
		assert_ok(store_dataset_record(w->st, &id, &ds, &err));
		assert_ok(store_run_add_input(w->st, r->id, id, r->ds_context, &err));
	}
}

static int setup(void **state)
{
	struct world *w = xcalloc(1, sizeof(*w));
	struct error err = ERROR_INIT;
	struct strbuf sql = STRBUF_INIT;

	w->dir = test_tmpdir();
	w->db = test_path(w->dir, "ferry.db");
	{
		char *uri = xstrfmt("sqlite:%s", w->db);

		assert_ok(store_open(&w->st, uri, &err));
		free(uri);
	}
	assert_ok(store_experiment_create(w->st, &w->exp_ids[0], "exp-one", NULL, &err));
	assert_ok(store_experiment_create(w->st, &w->exp_ids[1], "exp-two", NULL, &err));
	assert_ok(store_experiment_create(w->st, &w->exp_ids[2], "other", NULL, &err));
	for (int i = 0; i < NR_RUNS; i++)
		make_run(w, i);
	/* Soft-delete some runs behind the store's back, as runs/delete would. */
	strbuf_addstr(&sql, "UPDATE runs SET lifecycle_stage = 'deleted' WHERE run_id IN (''");
	for (int i = 0; i < NR_RUNS; i++) {
		if (i % 10 == 4) {
			w->runs[i].deleted = true;
			strbuf_addf(&sql, ", '%s'", w->runs[i].id);
		}
	}
	strbuf_addch(&sql, ')');
	test_db_exec(w->db, sql.buf);
	strbuf_release(&sql);
	*state = w;
	return 0;
}

static int teardown(void **state)
{
	struct world *w = *state;

	store_close(w->st);
	test_tmpdir_remove(w->dir);
	free(w->db);
	for (size_t i = 0; i < ARRAY_SIZE(w->exp_ids); i++)
		free(w->exp_ids[i]);
	free(w);
	return 0;
}

/* The expected side -------------------------------------------------------------------------- */

enum skey_field {
	F_ACC,
	F_LOSS,
	F_MODEL,
	F_LR,
	F_TEAM,
	F_START,
	F_END,
	F_NAME,
	F_STATUS
};

struct skey {
	enum skey_field field;
	bool asc;
};

/* A sort value: missing, NaN, a number or a string. */
struct sval {
	bool missing, nan;
	double num;
	const char *str;
};

static struct sval value_of(const struct mrun *r, enum skey_field f)
{
	struct sval v = { 0 };

	switch (f) {
	case F_ACC:
		v.missing = !r->has_acc;
		v.nan = r->acc_nan;
		v.num = r->acc;
		break;
	case F_LOSS:
		v.missing = !r->has_loss;
		v.nan = r->loss_nan;
		v.num = r->loss;
		break;
	case F_START:
		v.num = (double)r->start;
		break;
	case F_END:
		v.missing = !r->end;
		v.num = (double)r->end;
		break;
	case F_MODEL:
		v.str = r->model;
		break;
	case F_LR:
		v.str = r->lr;
		break;
	case F_TEAM:
		v.str = r->team;
		break;
	case F_NAME:
		v.str = r->name;
		break;
	case F_STATUS:
		v.str = store_run_status_name(r->status);
		break;
	}
	if (f >= F_MODEL && f != F_START && f != F_END)
		v.missing = !v.str;
	return v;
}

static const struct skey *sort_keys;
static size_t nr_sort_keys;

static int cmp_expected(const void *pa, const void *pb)
{
	const struct mrun *a = *(const struct mrun *const *)pa,
			  *b = *(const struct mrun *const *)pb;
	bool start_seen = false;

	for (size_t i = 0; i < nr_sort_keys; i++) {
		struct sval x = value_of(a, sort_keys[i].field),
			    y = value_of(b, sort_keys[i].field);
		int c;

		start_seen |= sort_keys[i].field == F_START;
		if (x.missing != y.missing)
			return x.missing ? 1 : -1;
		if (x.missing)
			continue;
		if (x.nan != y.nan)
			return x.nan ? 1 : -1;
		if (x.nan)
			continue;
		if (x.str)
			c = strcmp(x.str, y.str);
		else
			c = x.num < y.num ? -1 : x.num > y.num;
		if (c)
			return sort_keys[i].asc ? c : -c;
	}
	if (!start_seen && a->start != b->start)
		return a->start > b->start ? -1 : 1;
	return strcmp(a->id, b->id);
}

/* What a search must return */
struct expect {
	bool (*match)(const struct mrun *r);
	const struct skey *keys;
	size_t nr_keys;
	enum store_view view; /* 0: active */
	bool all_experiments; /* else experiments 0 and 1 */
};

static size_t expected(struct world *w, const struct expect *e, const struct mrun **out)
{
	enum store_view view = e->view ? e->view : STORE_VIEW_ACTIVE;
	size_t n = 0;

	for (int i = 0; i < NR_RUNS; i++) {
		const struct mrun *r = &w->runs[i];

		if (!e->all_experiments && r->exp == 2)
			continue;
		if (!(view & (r->deleted ? STORE_VIEW_DELETED : STORE_VIEW_ACTIVE)))
			continue;
		if (e->match && !e->match(r))
			continue;
		out[n++] = r;
	}
	sort_keys = e->keys;
	nr_sort_keys = e->nr_keys;
	qsort(out, n, sizeof(*out), cmp_expected);
	return n;
}

/* Runs the search (all pages of page_size) and compares ids with the expected order. */
static void check_search(struct world *w, const char *filter, const char *const *order,
			 size_t nr_order, const struct expect *e, int64_t page_size)
{
	const char *exps[2] = { w->exp_ids[0], w->exp_ids[1] };
	struct search_filter f = SEARCH_FILTER_INIT;
	struct search_orders o = SEARCH_ORDERS_INIT;
	const struct mrun *want[NR_RUNS];
	struct error err = ERROR_INIT;
	struct store_run_search q;
	size_t n = expected(w, e, want), got = 0;
	int64_t offset = 0;
	char *token = NULL;

	assert_ok(filter_parse_runs(&f, filter, &err));
	assert_ok(filter_parse_run_order(&o, order, nr_order, &err));
	memset(&q, 0, sizeof(q));
	q.experiment_ids = e->all_experiments ? NULL : exps;
	q.nr_experiment_ids = 2;
	q.view = e->view;
	q.filter = &f;
	q.order = &o;
	q.max_results = page_size;
	do {
		struct store_runs runs = STORE_RUNS_INIT;

		q.offset = offset;
		free(token);
		token = NULL;
		assert_ok(store_run_search(w->st, &runs, &token, &q, &err));
		for (size_t i = 0; i < runs.nr; i++, got++) {
			if (got >= n)
				fail_msg("'%s': more than the %zu runs expected", filter, n);
			if (strcmp(runs.items[i].id, want[got]->id))
				fail_msg("'%s': run %zu is %s (%s), expected %s (%s)", filter, got,
					 runs.items[i].id, runs.items[i].name, want[got]->id,
					 want[got]->name);
			assert_string_equal(runs.items[i].name, want[got]->name);
			assert_int_equal(runs.items[i].deleted, want[got]->deleted);
		}
		if (token) {
			assert_int_equal(runs.nr, page_size);
			assert_ok(search_page_token_decode(&offset, token, &err));
			assert_int_equal(offset, (int64_t)got);
		}
		store_runs_release(&runs);
	} while (token);
	if (got != n)
		fail_msg("'%s': %zu runs, expected %zu", filter, got, n);
	search_filter_release(&f);
	search_orders_release(&o);
}

/* Every search in one page, then in pages of 7 (and of the exact size when it divides). */
static void check(struct world *w, const char *filter, const char *const *order, size_t nr_order,
		  const struct expect *e)
{
	const struct mrun *want[NR_RUNS];
	size_t n = expected(w, e, want);

	check_search(w, filter, order, nr_order, e, 1000);
	check_search(w, filter, order, nr_order, e, 7);
	if (n)
		check_search(w, filter, order, nr_order, e, (int64_t)n);
	if (n > 1 && n % 2 == 0)
		check_search(w, filter, order, nr_order, e, (int64_t)n / 2);
}

/* Tests -------------------------------------------------------------------------------------- */

static void test_default(void **state)
{
	struct world *w = *state;
	struct expect all = { 0 }, every = { .all_experiments = true };
	struct expect deleted = { .view = STORE_VIEW_DELETED }, both = { .view = STORE_VIEW_ALL };

	check(w, NULL, NULL, 0, &all);
	check(w, "", NULL, 0, &every);
	check(w, NULL, NULL, 0, &deleted);
	check(w, NULL, NULL, 0, &both);
}

static bool acc_gt_half(const struct mrun *r)
{
	return r->has_acc && !r->acc_nan && r->acc > 0.5;
}

static bool acc_ne_half(const struct mrun *r)
{
	return r->has_acc && (r->acc_nan || r->acc != 0.5);
}

static bool xgb_low_loss(const struct mrun *r)
{
	return r->model && !strcmp(r->model, "xgboost") && r->has_loss && !r->loss_nan &&
	       r->loss <= 0.3;
}

static void test_metrics(void **state)
{
	static const char *const by_acc_desc[] = { "metrics.acc DESC" };
	static const char *const by_lr_acc[] = { "params.lr", "metrics.acc" };
	static const char *const by_loss[] = { "metrics.`val loss`" };
	static const char *const by_loss_desc[] = { "metrics.\"val loss\" DESC" };
	static const struct skey k_acc_desc[] = { { F_ACC, false } };
	static const struct skey k_lr_acc[] = { { F_LR, true }, { F_ACC, true } };
	static const struct skey k_loss[] = { { F_LOSS, true } };
	static const struct skey k_loss_desc[] = { { F_LOSS, false } };
	struct world *w = *state;
	struct expect e;

	e = (struct expect){ .match = acc_gt_half, .keys = k_acc_desc, .nr_keys = 1 };
	check(w, "metrics.acc > 0.5", by_acc_desc, 1, &e);
	e = (struct expect){ .match = acc_ne_half, .keys = k_acc_desc, .nr_keys = 1 };
	check(w, "metrics.acc != 0.5", by_acc_desc, 1, &e);
	e = (struct expect){ .match = xgb_low_loss, .keys = k_lr_acc, .nr_keys = 2 };
	check(w, "params.model = 'xgboost' and metrics.`val loss` <= 0.3", by_lr_acc, 2, &e);
	/* Without a filter on the key: missing last, NaN after numbers, both directions. */
	e = (struct expect){ .keys = k_loss, .nr_keys = 1 };
	check(w, NULL, by_loss, 1, &e);
	e = (struct expect){ .keys = k_loss_desc, .nr_keys = 1 };
	check(w, NULL, by_loss_desc, 1, &e);
	e = (struct expect){ .keys = k_acc_desc, .nr_keys = 1, .view = STORE_VIEW_ALL };
	check(w, NULL, by_acc_desc, 1, &e);
}

static bool match_none(const struct mrun *r)
{
	(void)r;
	return false;
}

static bool note_hello_cs(const struct mrun *r)
{
	return r->note && !strncmp(r->note, "Hello", 5);
}

static bool note_hello_ci(const struct mrun *r)
{
	return r->note && !strncasecmp(r->note, "hello", 5);
}

static bool note_star(const struct mrun *r)
{
	return r->note && strchr(r->note, '*');
}

static bool note_underscore(const struct mrun *r)
{
	return r->note && strlen(r->note) == 5;
}

static bool note_quote(const struct mrun *r)
{
	return r->note && !strcmp(r->note, "it's");
}

static bool team_not_a(const struct mrun *r)
{
	return r->team && strcmp(r->team, "a");
}

static bool model_lr_like(const struct mrun *r)
{
	return r->model && strstr(r->model, "r");
}

static void test_strings(void **state)
{
	static const char *const by_team_desc[] = { "tags.team DESC", "params.model" };
	static const char *const by_model[] = { "params.model" };
	static const struct skey k_team_desc[] = { { F_TEAM, false }, { F_MODEL, true } };
	static const struct skey k_model[] = { { F_MODEL, true } };
	struct world *w = *state;
	struct expect e = { 0 };

	e.match = note_hello_cs;
	check(w, "tags.note LIKE 'Hello%'", NULL, 0, &e);
	e.match = note_hello_ci;
	check(w, "tags.note ILIKE 'hello%'", NULL, 0, &e);
	/* GLOB's own wildcards are plain characters in LIKE. */
	e.match = note_star;
	check(w, "tags.note LIKE '%*%'", NULL, 0, &e);
	check(w, "tags.note LIKE '%[c]'", NULL, 0, &e);
	e.match = note_underscore;
	check(w, "tags.note like '_____' and tags.note LIKE '%_%'", NULL, 0, &e);
	e.match = note_quote;
	check(w, "tags.note = 'it''s'", NULL, 0, &e);
	e = (struct expect){ .match = team_not_a, .keys = k_team_desc, .nr_keys = 2 };
	check(w, "tags.team != 'a'", by_team_desc, 2, &e);
	e = (struct expect){ .keys = k_team_desc, .nr_keys = 2 };
	check(w, NULL, by_team_desc, 2, &e);
	e = (struct expect){ .match = model_lr_like, .keys = k_model, .nr_keys = 1 };
	check(w, "params.model LIKE '%r%'", by_model, 1, &e);
	/* Text that would be SQL if it were pasted in matches nothing. */
	e = (struct expect){ .match = match_none, .view = STORE_VIEW_ALL };
	check(w, "params.model = 'x'' OR 1=1 --' and tags.`a' OR '1'='1` = 'x'", NULL, 0, &e);
	check(w, "params.model = 'lr\\' OR 1=1 --'", NULL, 0, &e);
}

static int64_t start_cut;

static bool finished_late(const struct mrun *r)
{
	return r->status == STORE_RUN_FINISHED && r->start >= start_cut;
}

static bool ended_early(const struct mrun *r)
{
	return r->end && r->end < BASE_TIME + 140;
}

static const struct mrun *picked[3];

static bool is_picked(const struct mrun *r)
{
	return r == picked[0] || r == picked[1] || r == picked[2];
}

static bool not_picked(const struct mrun *r)
{
	return !is_picked(r);
}

static bool name_run1(const struct mrun *r)
{
	return !strncmp(r->name, "run-1", 5) && !strcmp(r->user, "u1");
}

static void test_attributes(void **state)
{
	static const char *const by_start[] = { "start_time ASC" };
	static const char *const by_name_desc[] = { "`Run name` DESC" };
	static const char *const by_end[] = { "attributes.end_time", "status DESC" };
	static const struct skey k_start[] = { { F_START, true } };
	static const struct skey k_name_desc[] = { { F_NAME, false } };
	static const struct skey k_end[] = { { F_END, true }, { F_STATUS, false } };
	struct world *w = *state;
	struct strbuf sb = STRBUF_INIT;
	struct expect e;

	start_cut = BASE_TIME + 8;
	e = (struct expect){ .match = finished_late, .keys = k_start, .nr_keys = 1 };
	check(w, "attributes.status = 'FINISHED' and start_time >= 1700000000008", by_start, 1, &e);
	check(w, "attr.status = 'FINISHED' and created >= 1700000000008", by_start, 1, &e);
	e = (struct expect){ .match = ended_early, .keys = k_end, .nr_keys = 2 };
	check(w, "end_time < 1700000000140", by_end, 2, &e);
	e = (struct expect){ .keys = k_end, .nr_keys = 2 };
	check(w, NULL, by_end, 2, &e);
	e = (struct expect){ .match = name_run1, .keys = k_name_desc, .nr_keys = 1 };
	check(w, "`Run name` LIKE 'run-1%' and run.user_id = 'u1'", by_name_desc, 1, &e);

	picked[0] = &w->runs[2];
	picked[1] = &w->runs[3];
	picked[2] = &w->runs[40];
	strbuf_addf(&sb, "run_id IN ('%s', '%s', '%s', 'ffff')", picked[0]->id, picked[1]->id,
		    picked[2]->id);
	e = (struct expect){ .match = is_picked };
	check(w, sb.buf, NULL, 0, &e);
	strbuf_reset(&sb);
	strbuf_addf(&sb, "attributes.run_id NOT IN ('%s', '%s', '%s')", picked[0]->id,
		    picked[1]->id, picked[2]->id);
	e = (struct expect){ .match = not_picked };
	check(w, sb.buf, NULL, 0, &e);
	strbuf_release(&sb);
}

static bool ds_training(const struct mrun *r)
{
	return r->ds_context && !strcmp(r->ds_context, "training");
}

static bool ds_not_iris(const struct mrun *r)
{
	return r->ds_name && strncmp(r->ds_name, "iris", 4);
}

static void test_datasets(void **state)
{
	struct world *w = *state;
	struct expect e = { 0 };

	e.match = ds_training;
	check(w, "datasets.context = 'training'", NULL, 0, &e);
	check(w, "dataset.name LIKE 'iris%' and datasets.digest IN ('d1', 'd3')", NULL, 0, &e);
	e.match = ds_not_iris;
	check(w, "datasets.name NOT IN ('iris-v1')", NULL, 0, &e);
	e.view = STORE_VIEW_ALL;
	check(w, "datasets.name ILIKE 'WINE'", NULL, 0, &e);
}

static void test_errors(void **state)
{
	struct world *w = *state;
	const char *bad_ids[] = { "1", "x" };
	struct store_runs runs = STORE_RUNS_INIT;
	struct error err = ERROR_INIT;
	struct store_run_search q;
	char *token = NULL;

	memset(&q, 0, sizeof(q));
	q.max_results = 50001;
	assert_int_equal(store_run_search(w->st, &runs, &token, &q, &err), ERR_INVALID);
	assert_string_equal(err.msg, "Invalid value for request parameter max_results. It must be "
				     "at most 50000, but got value 50001");
	q.max_results = 0;
	q.offset = -1;
	assert_int_equal(store_run_search(w->st, &runs, &token, &q, &err), ERR_INVALID);
	q.offset = 0;
	q.experiment_ids = bad_ids;
	q.nr_experiment_ids = 2;
	assert_int_equal(store_run_search(w->st, &runs, &token, &q, &err), ERR_INVALID);
	/* No experiments: no runs. A missing experiment: no runs either, as in MLflow. */
	q.nr_experiment_ids = 0;
	assert_ok(store_run_search(w->st, &runs, &token, &q, &err));
	assert_int_equal(runs.nr, 0);
	bad_ids[1] = "999";
	q.nr_experiment_ids = 2;
	q.experiment_ids = bad_ids + 1;
	q.nr_experiment_ids = 1;
	assert_ok(store_run_search(w->st, &runs, &token, &q, &err));
	assert_int_equal(runs.nr, 0);
	assert_null(token);
	/* An offset past the end: an empty page without a token. */
	q.experiment_ids = NULL;
	q.offset = 100000;
	assert_ok(store_run_search(w->st, &runs, &token, &q, &err));
	assert_int_equal(runs.nr, 0);
	assert_null(token);
	store_runs_release(&runs);
}

/* Experiments ------------------------------------------------------------------------------- */

static void exp_search(struct world *w, const char *filter, const char *const *order, size_t nr,
		       enum store_view view, const char *const *want, size_t nr_want)
{
	struct search_filter f = SEARCH_FILTER_INIT;
	struct search_orders o = SEARCH_ORDERS_INIT;
	struct store_experiments list = STORE_EXPERIMENTS_INIT;
	struct store_experiment_search q;
	struct error err = ERROR_INIT;
	char *token = NULL;

	assert_ok(filter_parse_experiments(&f, filter, &err));
	assert_ok(filter_parse_experiment_order(&o, order, nr, &err));
	memset(&q, 0, sizeof(q));
	q.view = view;
	q.filter = &f;
	q.order = &o;
	assert_ok(store_experiment_search(w->st, &list, &token, &q, &err));
	if (list.nr != nr_want)
		fail_msg("'%s': %zu experiments, expected %zu", filter, list.nr, nr_want);
	for (size_t i = 0; i < nr_want; i++)
		assert_string_equal(list.items[i].name, want[i]);
	assert_null(token);
	store_experiments_release(&list);
	/* Paged one by one. */
	q.max_results = 1;
	for (size_t i = 0; i < nr_want; i++) {
		assert_ok(store_experiment_search(w->st, &list, &token, &q, &err));
		assert_int_equal(list.nr, 1);
		assert_string_equal(list.items[0].name, want[i]);
		store_experiments_release(&list);
		if (i + 1 < nr_want) {
			assert_non_null(token);
			assert_ok(search_page_token_decode(&q.offset, token, &err));
		} else {
			assert_null(token);
		}
		free(token);
		token = NULL;
	}
	search_filter_release(&f);
	search_orders_release(&o);
}

static void test_experiments(void **state)
{
	static const char *const by_name[] = { "name" };
	static const char *const by_name_desc[] = { "name DESC" };
	static const char *const by_id_desc[] = { "experiment_id DESC" };
	static const char *const by_created[] = { "creation_time" };
	static const char *const exp_names[] = { "exp-one", "exp-two" };
	static const char *const exp_desc[] = { "exp-two", "exp-one" };
	static const char *const all_desc[] = { "other", "exp-two", "exp-one", "Default" };
	static const char *const all_name[] = { "Default", "exp-one", "exp-two", "other" };
	static const char *const team_a[] = { "exp-one" };
	static const char *const none[] = { NULL };
	struct world *w = *state;
	struct error err = ERROR_INIT;

	assert_ok(store_experiment_set_tag(w->st, w->exp_ids[0], "team", "a", &err));
	assert_ok(store_experiment_set_tag(w->st, w->exp_ids[1], "team", "b", &err));
	/* The filter the MLflow client sent (exchanges_pretty.txt). */
	exp_search(w, "name LIKE 'exp-%'", by_name, 1, 0, exp_names, 2);
	exp_search(w, "name LIKE 'exp-%'", by_name_desc, 1, 0, exp_desc, 2);
	exp_search(w, "name LIKE 'EXP-%'", by_name, 1, 0, none, 0);
	exp_search(w, "name ILIKE 'EXP-%'", by_id_desc, 1, 0, exp_desc, 2);
	exp_search(w, NULL, by_id_desc, 1, STORE_VIEW_ALL, all_desc, 4);
	exp_search(w, "", by_name, 1, 0, all_name, 4);
	exp_search(w, "tags.team = 'a'", NULL, 0, 0, team_a, 1);
	exp_search(w, "tags.team != 'c' and creation_time > 0", by_name, 1, 0, exp_names, 2);
	exp_search(w, "tags.team LIKE '%'", by_created, 1, STORE_VIEW_DELETED, none, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default),	    cmocka_unit_test(test_metrics),
		cmocka_unit_test(test_strings),	    cmocka_unit_test(test_attributes),
		cmocka_unit_test(test_datasets),    cmocka_unit_test(test_errors),
		cmocka_unit_test(test_experiments),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
