/*
 * The metadata store through its public API (SQLite backend): opening and migrating, URIs,
 * experiments, runs, params, metrics, tags, datasets, integrity checks and damaged databases.
 * Database state is cross-checked through a separate raw SQLite connection where it matters.
 */
#include "util/common.h"
#include "store/migrations.h"
#include "store/store.h"
#include "helpers.h"

#include <math.h>
#include <sqlite3.h>

struct fixture {
	char *dir;
	char *db;  /* the database file */
	char *uri; /* "sqlite:" + db */
	struct store *st;
};

#define assert_contains(haystack, needle)                                                          \
	do {                                                                                       \
		if (!strstr((haystack), (needle)))                                                 \
			fail_msg("'%s' does not contain '%s'", (haystack), (needle));              \
	} while (0)

static const char digest_a[] = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
static const char digest_b[] = "60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752";

static char *make_uri(const char *path)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_addf(&sb, "sqlite:%s", path);
	return strbuf_detach(&sb, NULL);
}

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	struct error err = ERROR_INIT;

	f->dir = test_tmpdir();
	f->db = test_path(f->dir, "ferry.db");
	f->uri = make_uri(f->db);
	assert_ok(store_open(&f->st, f->uri, &err));
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	store_close(f->st);
	test_tmpdir_remove(f->dir);
	free(f->db);
	free(f->uri);
	free(f);
	return 0;
}

static char *read_whole(const char *path)
{
	struct strbuf sb = STRBUF_INIT;
	char buf[4096];
	FILE *fp = fopen(path, "rb");
	size_t n;

	assert_non_null(fp);
	while ((n = fread(buf, 1, sizeof(buf), fp)) > 0)
		strbuf_add(&sb, buf, n);
	fclose(fp);
	return strbuf_detach(&sb, NULL);
}

static void new_run(struct store *st, char id[ID_HEX_LEN + 1])
{
	struct store_new_run r = { .name = "r", .user = "tester" };
	struct error err = ERROR_INIT;

	assert_ok(store_run_create(st, id, &r, &err));
}

/* Opening ------------------------------------------------------------------------------------- */

static void test_open_creates_schema(void **state)
{
	struct fixture *f = *state;
	struct store_info info = STORE_INFO_INIT;
	struct error err = ERROR_INIT;
	struct stat sb;

	assert_int_equal(stat(f->db, &sb), 0);
	assert_string_equal(store_backend_name(f->st), "sqlite");
	assert_ok(store_info(f->st, &info, &err));
	assert_string_equal(info.backend, "sqlite");
	assert_string_equal(info.location, f->db);
	assert_true(migration_count >= 1);
	assert_int_equal(info.latest_schema_version, migrations[migration_count - 1].version);
	assert_int_equal(info.schema_version, info.latest_schema_version);
	assert_int_equal(info.experiments, 1);
	assert_int_equal(info.runs, 0);
	assert_int_equal(info.metrics, 0);
	assert_int_equal(info.datasets, 0);
	assert_int_equal(info.registered_models, 0);
	assert_int_equal(info.model_versions, 0);
	store_info_release(&info);
	store_info_release(&info);

	assert_int_equal(test_db_int(f->db, "SELECT count(*) FROM schema_version"),
			 migration_count);
	assert_int_equal(test_db_int(f->db, "SELECT max(version) FROM schema_version"),
			 migrations[migration_count - 1].version);
	assert_int_equal(test_db_int(f->db, "SELECT count(*) FROM pragma_journal_mode "
					    "WHERE journal_mode = 'wal'"),
			 1);
	/* Every table the lifecycle needs is there. */
	assert_int_equal(test_db_int(f->db,
				     "SELECT count(*) FROM sqlite_master WHERE type = 'table' "
				     "AND name IN ('experiments', 'experiment_tags', 'runs', "
				     "'params', 'metrics', 'latest_metrics', 'run_tags', "
				     "'artifacts', 'datasets', 'run_inputs', 'registered_models', "
				     "'registered_model_tags', 'model_versions', "
				     "'model_version_tags', 'model_version_datasets', "
				     "'model_aliases', 'model_events', "
				     "'inference_feedback')"),
			 18);
}

static void test_reopen_is_idempotent(void **state)
{
	struct fixture *f = *state;
	struct store_info info = STORE_INFO_INIT;
	struct error err = ERROR_INIT;
	struct store *st = NULL;
	char *id = NULL;

	assert_ok(store_experiment_create(f->st, &id, "kept", NULL, &err));
	store_close(f->st);
	f->st = NULL;
	for (int i = 0; i < 3; i++) {
		assert_ok(store_open(&st, f->uri, &err));
		store_close(st);
	}
	/* A bare path names the same database. */
	assert_ok(store_open(&f->st, f->db, &err));
	assert_ok(store_info(f->st, &info, &err));
	assert_int_equal(info.experiments, 2);
	assert_int_equal(info.schema_version, migrations[migration_count - 1].version);
	assert_int_equal(test_db_int(f->db, "SELECT count(*) FROM schema_version"),
			 migration_count);
	store_info_release(&info);
	free(id);
}

static void test_default_experiment(void **state)
{
	struct fixture *f = *state;
	struct store_experiment exp = STORE_EXPERIMENT_INIT;
	struct error err = ERROR_INIT;

	assert_ok(store_experiment_get(f->st, &exp, STORE_DEFAULT_EXPERIMENT_ID, &err));
	assert_string_equal(exp.id, "0");
	assert_string_equal(exp.name, "Default");
	assert_false(exp.deleted);
	assert_true(exp.creation_time > 1600000000000);
	store_experiment_release(&exp);
	assert_ok(store_experiment_get_by_name(f->st, &exp, "Default", &err));
	assert_string_equal(exp.id, "0");
	store_experiment_release(&exp);
}

/* Experiments --------------------------------------------------------------------------------- */

static void test_experiments(void **state)
{
	struct fixture *f = *state;
	struct store_experiment exp = STORE_EXPERIMENT_INIT;
	struct store_experiments list = STORE_EXPERIMENTS_INIT;
	struct error err = ERROR_INIT;
	char *a = NULL, *b = NULL, *dup = NULL;

	assert_ok(store_experiment_create(f->st, &a, "alpha", "/artifacts/alpha", &err));
	assert_ok(store_experiment_create(f->st, &b, "beta", NULL, &err));
	assert_string_equal(a, "1");
	assert_string_equal(b, "2");

	assert_ok(store_experiment_get(f->st, &exp, "1", &err));
	assert_string_equal(exp.name, "alpha");
	assert_string_equal(exp.artifact_location, "/artifacts/alpha");
	assert_int_equal(exp.creation_time, exp.last_update_time);
	store_experiment_release(&exp);
	assert_ok(store_experiment_get_by_name(f->st, &exp, "beta", &err));
	assert_string_equal(exp.id, "2");
	assert_null(exp.artifact_location);
	store_experiment_release(&exp);

	assert_int_equal(store_experiment_create(f->st, &dup, "alpha", NULL, &err), ERR_EXISTS);
	assert_int_equal(err.code, ERR_EXISTS);
	assert_contains(err.msg, "'alpha'");
	assert_null(dup);
	assert_int_equal(store_experiment_create(f->st, &dup, "", NULL, &err), ERR_INVALID);

	assert_int_equal(store_experiment_get(f->st, &exp, "99", &err), ERR_NOTFOUND);
	assert_contains(err.msg, "99");
	assert_null(exp.name);
	assert_int_equal(store_experiment_get(f->st, &exp, "1x", &err), ERR_INVALID);
	assert_int_equal(store_experiment_get(f->st, &exp, "-1", &err), ERR_INVALID);
	assert_int_equal(store_experiment_get_by_name(f->st, &exp, "gamma", &err), ERR_NOTFOUND);
	assert_contains(err.msg, "'gamma'");

	assert_ok(store_experiment_list(f->st, &list, STORE_VIEW_ALL, &err));
	assert_int_equal(list.nr, 3);
	assert_string_equal(list.items[0].name, "Default");
	assert_string_equal(list.items[1].name, "alpha");
	assert_string_equal(list.items[2].name, "beta");
	store_experiments_release(&list);
	assert_ok(store_experiment_list(f->st, &list, STORE_VIEW_DELETED, &err));
	assert_int_equal(list.nr, 0);
	store_experiments_release(&list);
	free(a);
	free(b);
}

/* Runs ---------------------------------------------------------------------------------------- */

static void test_runs(void **state)
{
	struct fixture *f = *state;
	const struct store_kv tags[] = { { "mlflow.runName", "first" }, { "team", "ml" } };
	struct store_new_run in = {
		.name = "first",
		.user = "alice",
		.start_time = 1700000000000,
		.artifact_uri = "file:///tmp/artifacts",
		.source_git_commit = "0123456789abcdef0123456789abcdef01234567",
		.source_dirty = true,
		.command = "ferry train --config train.yaml",
		.tags = tags,
		.nr_tags = ARRAY_SIZE(tags),
	};
	struct store_run run = STORE_RUN_INIT;
	struct store_runs runs = STORE_RUNS_INIT;
	struct store_pairs got = STORE_PAIRS_INIT;
	struct error err = ERROR_INIT;
	char id[ID_HEX_LEN + 1], id2[ID_HEX_LEN + 1], same[ID_HEX_LEN + 1];

	assert_ok(store_run_create(f->st, id, &in, &err));
	assert_true(id_is_valid(id));
	assert_ok(store_run_get(f->st, &run, id, &err));
	assert_string_equal(run.id, id);
	assert_string_equal(run.experiment_id, "0");
	assert_string_equal(run.name, "first");
	assert_string_equal(run.user, "alice");
	assert_int_equal(run.status, STORE_RUN_RUNNING);
	assert_int_equal(run.start_time, 1700000000000);
	assert_int_equal(run.end_time, 0);
	assert_false(run.deleted);
	assert_string_equal(run.artifact_uri, "file:///tmp/artifacts");
	assert_string_equal(run.source_git_commit, in.source_git_commit);
	assert_true(run.source_dirty);
	assert_string_equal(run.command, in.command);
	store_run_release(&run);

	assert_ok(store_run_tags(f->st, &got, id, &err));
	assert_int_equal(got.nr, 2);
	assert_string_equal(got.items[0].key, "mlflow.runName");
	assert_string_equal(got.items[1].value, "ml");
	store_pairs_release(&got);

	assert_ok(store_run_set_status(f->st, id, STORE_RUN_FINISHED, 1700000005000, &err));
	assert_ok(store_run_get(f->st, &run, id, &err));
	assert_int_equal(run.status, STORE_RUN_FINISHED);
	assert_int_equal(run.end_time, 1700000005000);
	store_run_release(&run);
	/* end_time 0 keeps the one recorded. */
	assert_ok(store_run_set_status(f->st, id, STORE_RUN_FAILED, 0, &err));
	assert_ok(store_run_get(f->st, &run, id, &err));
	assert_int_equal(run.status, STORE_RUN_FAILED);
	assert_int_equal(run.end_time, 1700000005000);
	store_run_release(&run);

	/* A second, later run in a named experiment, with an id chosen by the caller. */
	in = (struct store_new_run){ .id = "00000000000000000000000000000abc",
				     .experiment_id = "0",
				     .start_time = 1700000009000 };
	assert_ok(store_run_create(f->st, id2, &in, &err));
	assert_string_equal(id2, "00000000000000000000000000000abc");
	assert_int_equal(store_run_create(f->st, same, &in, &err), ERR_EXISTS);
	in.id = "ABC";
	assert_int_equal(store_run_create(f->st, same, &in, &err), ERR_INVALID);
	in = (struct store_new_run){ .experiment_id = "42" };
	assert_int_equal(store_run_create(f->st, same, &in, &err), ERR_NOTFOUND);
	assert_contains(err.msg, "42");

	assert_ok(store_run_list(f->st, &runs, "0", STORE_VIEW_ACTIVE, &err));
	assert_int_equal(runs.nr, 2);
	assert_string_equal(runs.items[0].id, id2); /* newest first */
	assert_string_equal(runs.items[1].id, id);
	assert_null(runs.items[0].name);
	store_runs_release(&runs);
	assert_ok(store_run_list(f->st, &runs, NULL, STORE_VIEW_ALL, &err));
	assert_int_equal(runs.nr, 2);
	store_runs_release(&runs);

	assert_int_equal(store_run_get(f->st, &run, "ffffffffffffffffffffffffffffffff", &err),
			 ERR_NOTFOUND);
	assert_contains(err.msg, "ffffffffffffffffffffffffffffffff");
	assert_int_equal(store_run_set_status(f->st, "nope", STORE_RUN_KILLED, 1, &err),
			 ERR_NOTFOUND);
}

static void test_run_status_names(void **state)
{
	struct error err = ERROR_INIT;
	enum store_run_status s;

	(void)state;
	assert_string_equal(store_run_status_name(STORE_RUN_SCHEDULED), "SCHEDULED");
	assert_ok(store_run_status_parse(&s, "killed", &err));
	assert_int_equal(s, STORE_RUN_KILLED);
	assert_int_equal(store_run_status_parse(&s, "DONE", &err), ERR_INVALID);
	assert_contains(err.msg, "'DONE'");
}

/* Params -------------------------------------------------------------------------------------- */

static void test_params_write_once(void **state)
{
	struct fixture *f = *state;
	const struct store_kv batch[] = { { "a", "1" }, { "lr", "0.3" } };
	struct store_pairs got = STORE_PAIRS_INIT;
	struct error err = ERROR_INIT;
	char id[ID_HEX_LEN + 1];

	new_run(f->st, id);
	assert_ok(store_run_log_param(f->st, id, "lr", "0.1", &err));
	assert_ok(store_run_log_param(f->st, id, "lr", "0.1", &err));
	assert_int_equal(store_run_log_param(f->st, id, "lr", "0.2", &err), ERR_CONFLICT);
	assert_contains(err.msg, "'lr'");
	assert_contains(err.msg, "'0.1'");
	assert_contains(err.msg, "'0.2'");

	/* A batch is all or nothing: 'a' must not survive the conflict on 'lr'. */
	assert_int_equal(store_run_log_params(f->st, id, batch, ARRAY_SIZE(batch), &err),
			 ERR_CONFLICT);
	assert_ok(store_run_params(f->st, &got, id, &err));
	assert_int_equal(got.nr, 1);
	assert_string_equal(got.items[0].key, "lr");
	assert_string_equal(got.items[0].value, "0.1");
	store_pairs_release(&got);

	assert_int_equal(store_run_log_param(f->st, id, "", "x", &err), ERR_INVALID);
	assert_int_equal(store_run_log_param(f->st, id, "k", NULL, &err), ERR_INVALID);
}

/* Metrics ------------------------------------------------------------------------------------- */

static void assert_point(const struct store_metric_point *p, const char *key, int64_t step,
			 int64_t ts, double value)
{
	assert_string_equal(p->key, key);
	assert_int_equal(p->step, step);
	assert_int_equal(p->timestamp, ts);
	assert_true(p->value == value);
}

static void test_metrics_history_and_latest(void **state)
{
	struct fixture *f = *state;
	const struct store_metric m0 = { "loss", 1.0, 100, 0 };
	const struct store_metric m2 = { "loss", 5.0, 100, 2 };
	const struct store_metric m1 = { "loss", 9.0, 100, 1 };
	struct store_metric_points pts = STORE_METRIC_POINTS_INIT;
	struct error err = ERROR_INIT;
	char id[ID_HEX_LEN + 1];
	char sql[256];

	new_run(f->st, id);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM metrics WHERE run_id = '%s'", id);
	assert_ok(store_run_log_metrics(f->st, id, &m0, 1, &err));
	assert_ok(store_run_log_metrics(f->st, id, &m2, 1, &err));
	assert_ok(store_run_log_metrics(f->st, id, &m1, 1, &err));

	/* The latest point is the greatest step, not the last one logged. */
	assert_ok(store_run_latest_metrics(f->st, &pts, id, &err));
	assert_int_equal(pts.nr, 1);
	assert_point(&pts.items[0], "loss", 2, 100, 5.0);
	store_metric_points_release(&pts);

	assert_ok(store_metric_history(f->st, &pts, id, "loss", &err));
	assert_int_equal(pts.nr, 3);
	assert_point(&pts.items[0], "loss", 0, 100, 1.0);
	assert_point(&pts.items[1], "loss", 1, 100, 9.0);
	assert_point(&pts.items[2], "loss", 2, 100, 5.0);
	store_metric_points_release(&pts);

	/* An identical point is stored once. */
	assert_ok(store_run_log_metrics(f->st, id, &m2, 1, &err));
	assert_int_equal(test_db_int(f->db, sql), 3);

	/*
	 * Same step: a later timestamp beats a larger value, an earlier one changes nothing, and
	 * at the same step and timestamp the larger value wins. Checked after each point, as
	 * only the order in between tells the rule apart from "largest value".
	 */
	const struct store_metric steps[] = {
		{ "loss", 4.0, 200, 2 },
		{ "loss", 3.0, 150, 2 },
		{ "loss", 7.0, 200, 2 },
		{ "loss", 6.0, 200, 2 },
	};
	const int64_t want_ts[] = { 200, 200, 200, 200 };
	const double want_value[] = { 4.0, 4.0, 7.0, 7.0 };
	for (size_t i = 0; i < ARRAY_SIZE(steps); i++) {
		assert_ok(store_run_log_metrics(f->st, id, &steps[i], 1, &err));
		assert_ok(store_run_latest_metrics(f->st, &pts, id, &err));
		assert_int_equal(pts.nr, 1);
		assert_point(&pts.items[0], "loss", 2, want_ts[i], want_value[i]);
		store_metric_points_release(&pts);
	}
	assert_int_equal(test_db_int(f->db, sql), 7);

	/* NaN and infinity survive the round trip (SQLite alone turns NaN into NULL). */
	const struct store_metric odd[] = { { "acc", NAN, 100, 0 }, { "grad", -INFINITY, 100, 0 } };
	assert_ok(store_run_log_metrics(f->st, id, odd, ARRAY_SIZE(odd), &err));
	assert_ok(store_run_latest_metrics(f->st, &pts, id, &err));
	assert_int_equal(pts.nr, 3);
	assert_string_equal(pts.items[0].key, "acc");
	assert_true(isnan(pts.items[0].value));
	assert_point(&pts.items[1], "grad", 0, 100, -INFINITY);
	assert_point(&pts.items[2], "loss", 2, 200, 7.0);
	store_metric_points_release(&pts);

	/* A batch with a bad point stores nothing. */
	const struct store_metric bad[] = { { "ok", 1.0, 1, 0 }, { "", 2.0, 1, 0 } };
	assert_int_equal(store_run_log_metrics(f->st, id, bad, ARRAY_SIZE(bad), &err), ERR_INVALID);
	assert_ok(store_metric_history(f->st, &pts, id, "ok", &err));
	assert_int_equal(pts.nr, 0);
	store_metric_points_release(&pts);

	assert_int_equal(store_metric_history(f->st, &pts, "f00", "loss", &err), ERR_NOTFOUND);
}

/*
 * A log-batch large enough to go in several multi-row inserts plus single ones (123 points):
 * repeated points inside one insert, across two, and between the last single ones and an
 * earlier insert are stored once, a point already stored before the batch is not stored again,
 * NaN repeated is one row, and the latest point per key is MLflow's greatest (step, timestamp,
 * value) wherever in the batch it sits. Expected counts are worked out by hand below.
 */
static void test_log_batch_many_points(void **state)
{
	struct fixture *f = *state;
	struct store_metric pts[123];
	struct store_metric_points got = STORE_METRIC_POINTS_INIT;
	struct error err = ERROR_INIT;
	char id[ID_HEX_LEN + 1];
	char sql[256];

	new_run(f->st, id);
	for (size_t i = 0; i < ARRAY_SIZE(pts); i++)
		pts[i] =
		    (struct store_metric){ i % 2 ? "b" : "a", (double)i * 0.5, 1000, (int64_t)i };
	pts[0] = (struct store_metric){ "a", 2.0, 900, 500 }; /* a's latest, first of all */
	pts[2] = (struct store_metric){ "a", 1.0, 900, 500 }; /* same step and time, smaller */
	pts[10] = pts[4];				      /* repeated in one insert */
	pts[71] = pts[21];				      /* across two inserts */
	pts[111] = pts[61];				      /* a single insert repeats one */
	pts[30] = (struct store_metric){ "a", NAN, 1000, 30 };
	pts[32] = pts[30];
	assert_ok(store_run_log_metrics(f->st, id, &pts[90], 1, &err));

	const struct store_batch b = { .metrics = pts, .nr_metrics = ARRAY_SIZE(pts) };
	assert_ok(store_run_log_batch(f->st, id, &b, &err));
	/* a: 62 even places less the repeats at 10 and 32; b: 61 odd less 71 and 111. */
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM metrics WHERE run_id = '%s' AND key = 'a'",
		 id);
	assert_int_equal(test_db_int(f->db, sql), 60);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM metrics WHERE run_id = '%s' AND key = 'b'",
		 id);
	assert_int_equal(test_db_int(f->db, sql), 59);
	snprintf(sql, sizeof(sql),
		 "SELECT count(*) FROM metrics WHERE run_id = '%s' AND is_nan = 1", id);
	assert_int_equal(test_db_int(f->db, sql), 1);
	snprintf(sql, sizeof(sql),
		 "SELECT count(*) FROM metrics WHERE run_id = '%s' AND step IN (71, 111)", id);
	assert_int_equal(test_db_int(f->db, sql), 0);

	assert_ok(store_run_latest_metrics(f->st, &got, id, &err));
	assert_int_equal(got.nr, 2);
	assert_point(&got.items[0], "a", 500, 900, 2.0);
	assert_point(&got.items[1], "b", 121, 1000, 60.5);
	store_metric_points_release(&got);

	/* Again: every point is already stored, nothing is added. */
	assert_ok(store_run_log_batch(f->st, id, &b, &err));
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM metrics WHERE run_id = '%s'", id);
	assert_int_equal(test_db_int(f->db, sql), 119);

	/* A bad point in the middle of a multi-row insert stores nothing of the batch. */
	for (size_t i = 0; i < 60; i++)
		pts[i] = (struct store_metric){ i == 25 ? "" : "c", 1.0, 1000, (int64_t)i };
	const struct store_batch bad = { .metrics = pts, .nr_metrics = 60 };
	assert_true(store_run_log_batch(f->st, id, &bad, &err) < 0);
	assert_int_equal(test_db_int(f->db, sql), 119);
}

/* Tags ---------------------------------------------------------------------------------------- */

static void test_tags(void **state)
{
	struct fixture *f = *state;
	struct store_pairs got = STORE_PAIRS_INIT;
	struct error err = ERROR_INIT;
	char id[ID_HEX_LEN + 1];

	new_run(f->st, id);
	assert_ok(store_run_set_tag(f->st, id, "stage", "dev", &err));
	assert_ok(store_run_set_tag(f->st, id, "stage", "prod", &err));
	assert_ok(store_run_set_tag(f->st, id, "empty", NULL, &err));
	assert_ok(store_run_tags(f->st, &got, id, &err));
	assert_int_equal(got.nr, 2);
	assert_string_equal(got.items[0].key, "empty");
	assert_null(got.items[0].value);
	assert_string_equal(got.items[1].key, "stage");
	assert_string_equal(got.items[1].value, "prod");
	store_pairs_release(&got);
	assert_int_equal(
	    store_run_set_tag(f->st, "0123456789abcdef0123456789abcdef", "k", "v", &err),
	    ERR_NOTFOUND);
}

/* Datasets ------------------------------------------------------------------------------------ */

static void test_datasets_and_inputs(void **state)
{
	struct fixture *f = *state;
	struct store_new_dataset in = {
		.path = "data/train.csv",
		.digest = digest_a,
		.size = 1234,
		.created_time = 1700000000000,
		.git_commit = "abc123",
	};
	struct store_dataset ds = STORE_DATASET_INIT;
	struct store_datasets inputs = STORE_DATASETS_INIT;
	struct error err = ERROR_INIT;
	char id[ID_HEX_LEN + 1];
	int64_t a, again, b;

	assert_ok(store_dataset_record(f->st, &a, &in, &err));
	assert_ok(store_dataset_record(f->st, &again, &in, &err));
	assert_int_equal(a, again);
	in.digest = digest_b;
	assert_ok(store_dataset_record(f->st, &b, &in, &err));
	assert_int_not_equal(a, b);

	assert_ok(store_dataset_get(f->st, &ds, a, &err));
	assert_string_equal(ds.name, "data/train.csv");
	assert_string_equal(ds.path, "data/train.csv");
	assert_string_equal(ds.digest, digest_a);
	assert_int_equal(ds.size, 1234);
	assert_int_equal(ds.created_time, 1700000000000);
	assert_string_equal(ds.git_commit, "abc123");
	store_dataset_release(&ds);
	assert_int_equal(store_dataset_get(f->st, &ds, 999, &err), ERR_NOTFOUND);

	new_run(f->st, id);
	assert_ok(store_run_add_input(f->st, id, a, "training", &err));
	assert_ok(store_run_add_input(f->st, id, a, NULL, &err)); /* keeps the context */
	assert_ok(store_run_inputs(f->st, &inputs, id, &err));
	assert_int_equal(inputs.nr, 1);
	assert_int_equal(inputs.items[0].id, a);
	assert_string_equal(inputs.items[0].digest, digest_a);
	assert_string_equal(inputs.items[0].context, "training");
	store_datasets_release(&inputs);

	assert_int_equal(store_run_add_input(f->st, id, 999, NULL, &err), ERR_NOTFOUND);
	assert_contains(err.msg, "dataset");
	assert_int_equal(
	    store_run_add_input(f->st, "0123456789abcdef0123456789abcdef", a, NULL, &err),
	    ERR_NOTFOUND);
	assert_contains(err.msg, "run");

	in.digest = "";
	assert_int_equal(store_dataset_record(f->st, &b, &in, &err), ERR_INVALID);
}

/* Integrity ----------------------------------------------------------------------------------- */

static void test_foreign_keys_enforced(void **state)
{
	struct fixture *f = *state;
	const struct store_metric m = { "loss", 1.0, 1, 0 };
	const char *ghost = "0123456789abcdef0123456789abcdef";
	struct error err = ERROR_INIT;

	/* Nothing but the foreign key stops these writes. */
	assert_int_equal(store_run_log_param(f->st, ghost, "lr", "0.1", &err), ERR_NOTFOUND);
	assert_contains(err.msg, ghost);
	assert_int_equal(store_run_log_metrics(f->st, ghost, &m, 1, &err), ERR_NOTFOUND);
	assert_int_equal(test_db_int(f->db, "SELECT count(*) FROM params"), 0);
	assert_int_equal(test_db_int(f->db, "SELECT count(*) FROM metrics"), 0);
	assert_int_equal(test_db_int(f->db, "SELECT count(*) FROM latest_metrics"), 0);
}

/* The run is checked in the write's transaction: nothing lands in a missing or deleted run. */
static void test_log_metrics_active(void **state)
{
	struct fixture *f = *state;
	const struct store_metric m = { "loss", 1.0, 1, 0 };
	const char *ghost = "0123456789abcdef0123456789abcdef";
	struct error err = ERROR_INIT;
	char id[ID_HEX_LEN + 1];

	new_run(f->st, id);
	assert_ok(store_run_log_metrics_active(f->st, id, &m, 1, &err));
	assert_int_equal(store_run_log_metrics_active(f->st, ghost, &m, 1, &err), ERR_NOTFOUND);
	assert_contains(err.msg, ghost);
	assert_ok(store_run_set_deleted(f->st, id, true, &err));
	assert_int_equal(store_run_log_metrics_active(f->st, id, &m, 1, &err), ERR_INVALID);
	assert_contains(err.msg, "deleted");
	assert_int_equal(test_db_int(f->db, "SELECT count(*) FROM metrics"), 1);
	/* A refused write left no transaction open: the next one goes through. */
	assert_ok(store_run_set_deleted(f->st, id, false, &err));
	assert_ok(store_run_log_metrics_active(f->st, id, &m, 1, &err));
	assert_int_equal(test_db_int(f->db, "SELECT count(*) FROM latest_metrics"), 1);
}

static void test_check(void **state)
{
	struct fixture *f = *state;
	struct strbuf report = STRBUF_INIT;
	struct error err = ERROR_INIT;
	char id[ID_HEX_LEN + 1];

	new_run(f->st, id);
	assert_ok(store_run_log_param(f->st, id, "lr", "0.1", &err));
	assert_ok(store_check(f->st, &report, &err));
	assert_int_equal(report.len, 0);

	/* A connection without foreign keys can orphan a row; check must notice. */
	test_db_exec(f->db, "PRAGMA foreign_keys = OFF; INSERT INTO params VALUES "
			    "('ffffffffffffffffffffffffffffffff', 'k', 'v')");
	assert_int_equal(store_check(f->st, &report, &err), ERR_STORE);
	assert_contains(report.buf, "params");
	assert_contains(report.buf, "runs");
	assert_contains(err.msg, "1 problem");
	strbuf_release(&report);

	/* metrics has no foreign key (the writers check the run): check looks for orphans. */
	test_db_exec(f->db, "INSERT INTO metrics VALUES "
			    "('eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee', 'k', 0, 1, 1.0, 0)");
	assert_int_equal(store_check(f->st, &report, &err), ERR_STORE);
	assert_contains(report.buf, "a row of 'metrics' refers to a missing row of 'runs'");
	assert_contains(err.msg, "2 problems");
	strbuf_release(&report);
}

/* URIs and damaged databases ------------------------------------------------------------------ */

static void test_uri_postgres_unsupported(void **state)
{
	struct error err = ERROR_INIT;
	struct store *st = NULL;

	(void)state;
	assert_int_equal(store_open(&st, "postgresql://ferry@localhost/ferry", &err),
			 ERR_UNSUPPORTED);
	assert_string_equal(err.msg, "postgresql store is not built yet");
	assert_null(st);
	assert_int_equal(store_open(&st, "postgres://localhost/ferry", &err), ERR_UNSUPPORTED);
	assert_null(st);
}

static void test_uri_invalid(void **state)
{
	static const char *const bad[] = { "mysql://localhost/db", "file:ferry.db",
					   "sqlite:", "sqlite:///ferry.db", "" };
	struct error err = ERROR_INIT;
	struct store *st = NULL;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		error_clear(&err);
		assert_int_equal(store_open(&st, bad[i], &err), ERR_INVALID);
		assert_null(st);
		if (*bad[i])
			assert_contains(err.msg, bad[i]);
		assert_contains(err.msg, "expected");
	}
}

static void test_uri_relative_paths(void **state)
{
	struct fixture *f = *state;
	struct error err = ERROR_INIT;
	struct store *st = NULL;
	char cwd[4096];
	char *rel = test_path(f->dir, "rel.db");
	char *bare = test_path(f->dir, "bare.db");
	struct stat sb;

	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(f->dir), 0);
	assert_ok(store_open(&st, "sqlite:rel.db", &err));
	store_close(st);
	st = NULL;
	assert_ok(store_open(&st, "bare.db", &err));
	store_close(st);
	assert_int_equal(chdir(cwd), 0);
	assert_int_equal(stat(rel, &sb), 0);
	assert_int_equal(stat(bare, &sb), 0);
	free(rel);
	free(bare);
}

static void test_missing_directory(void **state)
{
	struct fixture *f = *state;
	struct error err = ERROR_INIT;
	struct store *st = NULL;
	char *path = test_path(f->dir, "no/such/dir/ferry.db");
	char *uri = make_uri(path);

	assert_int_equal(store_open(&st, uri, &err), ERR_STORE);
	assert_null(st);
	assert_contains(err.msg, "does not exist");
	free(path);
	free(uri);
}

static void test_not_a_database(void **state)
{
	static const char garbage[] = "this is a CSV file, not a database\nx,y\n1,2\n"
				      "padding padding padding padding padding padding padding\n";
	struct fixture *f = *state;
	struct error err = ERROR_INIT;
	struct store *st = NULL;
	char *path = test_path(f->dir, "garbage.db");
	char *uri = make_uri(path);
	char *after;

	test_write_file(path, garbage);
	assert_int_equal(store_open(&st, uri, &err), ERR_STORE);
	assert_null(st);
	assert_contains(err.msg, path);
	assert_contains(err.msg, "not a database");
	after = read_whole(path);
	assert_string_equal(after, garbage); /* left alone */
	free(after);
	free(path);
	free(uri);
}

static void test_foreign_sqlite_database(void **state)
{
	struct fixture *f = *state;
	struct error err = ERROR_INIT;
	struct store *st = NULL;
	char *path = test_path(f->dir, "other.db");

	test_db_exec(path, "CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('hi')");
	assert_int_equal(store_open(&st, path, &err), ERR_STORE);
	assert_null(st);
	assert_contains(err.msg, "not a ferry store");
	assert_int_equal(test_db_int(path, "SELECT count(*) FROM sqlite_master "
					   "WHERE name IN ('experiments', 'schema_version')"),
			 0);
	/* Not even switched to WAL. */
	assert_int_equal(test_db_int(path, "SELECT count(*) FROM pragma_journal_mode "
					   "WHERE journal_mode = 'delete'"),
			 1);
	free(path);
}

static void test_schema_from_the_future(void **state)
{
	struct fixture *f = *state;
	struct error err = ERROR_INIT;
	struct store *st = NULL;
	char expected[ERROR_MSG_SIZE];
	int latest = migrations[migration_count - 1].version;

	store_close(f->st);
	f->st = NULL;
	test_db_exec(f->db, "INSERT INTO schema_version VALUES (9999, '9999-future', 0)");
	assert_int_equal(store_open(&st, f->uri, &err), ERR_STORE);
	assert_null(st);
	snprintf(expected, sizeof(expected),
		 "store schema version 9999 is newer than this ferry (%d); upgrade ferry", latest);
	assert_string_equal(err.msg, expected);
}

static int collect_paths(const struct store_stat_entry *e, void *data)
{
	struct strbuf *sb = data;

	strbuf_addf(sb, "%s=%s/%" PRIu64 ";", e->path, e->hex[0] == 'a' ? "a" : "b", e->size);
	return 0;
}

static void test_statcache_prefix_and_replace(void **state)
{
	struct fixture *f = *state;
	struct error err = ERROR_INIT;
	struct strbuf got = STRBUF_INIT;
	char a[65], b[65];
	struct store_stat_entry e[] = {
		{ "data", 1, 10, 10, 7, "", 11 },
		{ "data/x", 2, 10, 10, 8, "", 11 },
		{ "data/y/z", 3, 10, 10, 9, "", 11 },
		{ "data2", 4, 10, 10, 10, "", 11 },
		{ "database", 5, 10, 10, 11, "", 11 },
		{ "dat", 6, 10, 10, 12, "", 11 },
		/* between "data" and "data/" in byte order: in the searched range, not below "data" */
		{ "data.csv", 7, 10, 10, 13, "", 11 },
		{ "data-1/x", 8, 10, 10, 14, "", 11 },
	};

	memset(a, 'a', 64);
	a[64] = '\0';
	memset(b, 'b', 64);
	b[64] = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(e); i++)
		memcpy(e[i].hex, a, sizeof(a));
	assert_int_equal(store_statcache_put(f->st, e, ARRAY_SIZE(e), &err), 0);
	assert_int_equal(store_statcache_load(f->st, "data", collect_paths, &got, &err), 0);
	assert_string_equal(got.buf, "data=a/1;data/x=a/2;data/y/z=a/3;");

	/* Replacing an entry keeps one row per path. */
	memcpy(e[1].hex, b, sizeof(b));
	e[1].size = 20;
	assert_int_equal(store_statcache_put(f->st, &e[1], 1, &err), 0);
	strbuf_reset(&got);
	assert_int_equal(store_statcache_load(f->st, "", collect_paths, &got, &err), 0);
	assert_string_equal(got.buf, "dat=a/6;data=a/1;data-1/x=a/8;data.csv=a/7;data/x=b/20;"
				     "data/y/z=a/3;data2=a/4;database=a/5;");
	strbuf_reset(&got);
	assert_int_equal(store_statcache_load(f->st, "data/y", collect_paths, &got, &err), 0);
	assert_string_equal(got.buf, "data/y/z=a/3;");
	strbuf_release(&got);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open_creates_schema, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reopen_is_idempotent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_default_experiment, setup, teardown),
		cmocka_unit_test_setup_teardown(test_experiments, setup, teardown),
		cmocka_unit_test_setup_teardown(test_runs, setup, teardown),
		cmocka_unit_test(test_run_status_names),
		cmocka_unit_test_setup_teardown(test_params_write_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_metrics_history_and_latest, setup, teardown),
		cmocka_unit_test_setup_teardown(test_log_batch_many_points, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tags, setup, teardown),
		cmocka_unit_test_setup_teardown(test_datasets_and_inputs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_foreign_keys_enforced, setup, teardown),
		cmocka_unit_test_setup_teardown(test_log_metrics_active, setup, teardown),
		cmocka_unit_test_setup_teardown(test_check, setup, teardown),
		cmocka_unit_test(test_uri_postgres_unsupported),
		cmocka_unit_test(test_uri_invalid),
		cmocka_unit_test_setup_teardown(test_uri_relative_paths, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_directory, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_a_database, setup, teardown),
		cmocka_unit_test_setup_teardown(test_foreign_sqlite_database, setup, teardown),
		cmocka_unit_test_setup_teardown(test_schema_from_the_future, setup, teardown),
		cmocka_unit_test_setup_teardown(test_statcache_prefix_and_replace, setup, teardown),
	};

	return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
