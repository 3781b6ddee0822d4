/*
 * Migrating an existing database: one built with the schema before 0006 (metrics with a foreign
 * key to runs), holding runs and metrics written with plain SQL, is opened by the store; every
 * point must survive unchanged and the store must behave as on a fresh database.
 */
#include "util/common.h"
#include "store/migrations.h"
#include "store/store.h"
#include "helpers.h"

#include <math.h>
#include <sqlite3.h>

#define RUN_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define RUN_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

/* The points written before the migration, in (run, key, step, timestamp, value) order. */
static const char old_points[] =
    "INSERT INTO metrics VALUES "
    "('" RUN_A "', 'loss', 0, 100, 0.9, 0), ('" RUN_A "', 'loss', 1, 110, 0.5, 0), "
    "('" RUN_A "', 'loss', 1, 120, 0.4, 0), ('" RUN_A "', 'acc', 0, 100, 0.0, 1), "
    "('" RUN_B "', 'loss', 7, 100, -2.5, 0);"
    "INSERT INTO latest_metrics VALUES "
    "('" RUN_A "', 'loss', 1, 120, 0.4, 0), ('" RUN_A "', 'acc', 0, 100, 0.0, 1), "
    "('" RUN_B "', 'loss', 7, 100, -2.5, 0);";

struct fixture {
	char *dir, *db, *uri;
};

static void raw_exec(sqlite3 *db, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("%.200s: %s", sql, msg);
}

/* A database at schema 5, as a ferry from before 0006 left it, with two runs and their points. */
static void make_old_database(const char *path)
{
	sqlite3 *db = NULL;
	char sql[256];

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	raw_exec(db, "PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; BEGIN");
	raw_exec(db, "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, "
		     "name TEXT NOT NULL, applied_at INTEGER NOT NULL)");
	for (int i = 0; i < migration_count && migrations[i].version <= 5; i++) {
		raw_exec(db, migrations[i].sql);
		snprintf(sql, sizeof(sql), "INSERT INTO schema_version VALUES (%d, '%s', 0)",
			 migrations[i].version, migrations[i].name);
		raw_exec(db, sql);
	}
	raw_exec(db, "INSERT INTO experiments VALUES (1, 'e', NULL, 'active', 0, 0);"
		     "INSERT INTO runs (run_id, experiment_id, start_time) VALUES "
		     "('" RUN_A "', 1, 0), ('" RUN_B "', 0, 0)");
	raw_exec(db, old_points);
	raw_exec(db, "COMMIT");
	sqlite3_close(db);
}

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));

	f->dir = test_tmpdir();
	f->db = test_path(f->dir, "ferry.db");
	f->uri = xstrfmt("sqlite:%s", f->db);
	make_old_database(f->db);
	/* The fixture is what it claims: schema 5, metrics referring to runs. */
	assert_int_equal(test_db_int(f->db, "SELECT max(version) FROM schema_version"), 5);
	assert_int_equal(
	    test_db_int(f->db, "SELECT count(*) FROM pragma_foreign_key_list('metrics')"), 1);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	test_tmpdir_remove(f->dir);
	free(f->db);
	free(f->uri);
	free(f);
	return 0;
}

static void assert_point(const struct store_metric_point *p, int64_t step, int64_t ts, double value)
{
	assert_int_equal(p->step, step);
	assert_int_equal(p->timestamp, ts);
	if (isnan(value))
		assert_true(isnan(p->value));
	else
		assert_true(p->value == value);
}

static void test_points_survive(void **state)
{
	struct fixture *f = *state;
	struct store_metric_points pts = STORE_METRIC_POINTS_INIT;
	struct store_info info;
	struct strbuf report = STRBUF_INIT;
	struct error err = ERROR_INIT;
	struct store *st = NULL;

	assert_ok(store_open(&st, f->uri, &err));
	assert_ok(store_info(st, &info, &err));
	assert_int_equal(info.schema_version, migrations[migration_count - 1].version);
	assert_true(info.schema_version >= 6);
	assert_int_equal(info.metrics, 5);
	store_info_release(&info);
	assert_int_equal(
	    test_db_int(f->db, "SELECT count(*) FROM pragma_foreign_key_list('metrics')"), 0);

	assert_ok(store_metric_history(st, &pts, RUN_A, "loss", &err));
	assert_int_equal(pts.nr, 3);
	assert_point(&pts.items[0], 0, 100, 0.9);
	assert_point(&pts.items[1], 1, 110, 0.5);
	assert_point(&pts.items[2], 1, 120, 0.4);
	store_metric_points_release(&pts);
	assert_ok(store_metric_history(st, &pts, RUN_A, "acc", &err));
	assert_int_equal(pts.nr, 1);
	assert_point(&pts.items[0], 0, 100, NAN);
	store_metric_points_release(&pts);
	assert_ok(store_run_latest_metrics(st, &pts, RUN_B, &err));
	assert_int_equal(pts.nr, 1);
	assert_point(&pts.items[0], 7, 100, -2.5);
	store_metric_points_release(&pts);

	assert_ok(store_check(st, &report, &err));
	assert_int_equal(report.len, 0);
	strbuf_release(&report);
	store_close(st);
}

static void test_writes_after_migration(void **state)
{
	struct fixture *f = *state;
	const struct store_metric again = { "loss", 0.4, 120, 1 };
	const struct store_metric next = { "loss", 0.3, 130, 2 };
	const char *ghost = "0123456789abcdef0123456789abcdef";
	struct store_metric_points pts = STORE_METRIC_POINTS_INIT;
	struct error err = ERROR_INIT;
	struct store *st = NULL;

	assert_ok(store_open(&st, f->uri, &err));
	/* A point already stored before the migration is stored once; a new one lands. */
	const struct store_batch b = { .metrics = (struct store_metric[]){ again, next },
				       .nr_metrics = 2 };
	assert_ok(store_run_log_batch(st, RUN_A, &b, &err));
	assert_int_equal(test_db_int(f->db, "SELECT count(*) FROM metrics WHERE run_id = '" RUN_A
					    "' AND key = 'loss'"),
			 4);
	assert_ok(store_run_latest_metrics(st, &pts, RUN_A, &err));
	assert_int_equal(pts.nr, 2);
	assert_string_equal(pts.items[1].key, "loss");
	assert_point(&pts.items[1], 2, 130, 0.3);
	store_metric_points_release(&pts);

	/* Without the foreign key, a missing run is still refused and leaves nothing. */
	assert_int_equal(store_run_log_metrics(st, ghost, &next, 1, &err), ERR_NOTFOUND);
	assert_int_equal(store_run_log_batch(st, ghost, &b, &err), ERR_NOTFOUND);
	assert_int_equal(test_db_int(f->db, "SELECT count(*) FROM metrics WHERE run_id = "
					    "'0123456789abcdef0123456789abcdef'"),
			 0);
	store_close(st);

	/* Deleting runs (here through their experiment) still takes their points along. */
	sqlite3 *db = NULL;
	assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
	raw_exec(db, "PRAGMA foreign_keys = ON; DELETE FROM experiments WHERE experiment_id = 1");
	sqlite3_close(db);
	assert_int_equal(
	    test_db_int(f->db, "SELECT count(*) FROM metrics WHERE run_id = '" RUN_A "'"), 0);
	assert_int_equal(test_db_int(f->db, "SELECT count(*) FROM metrics"), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_points_survive, setup, teardown),
		cmocka_unit_test_setup_teardown(test_writes_after_migration, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
