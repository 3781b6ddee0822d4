/*
 * Monitoring windows (monitor/window.h) over an inference log written here with infer_log_*:
 * the last N predictions and a time window, feedback joined by request id however late (a
 * correction wins, an array labels a multi-row request in order, a scalar for several rows is
 * not guessed), other models and damaged lines skipped and counted, values typed by feature,
 * and durations.
 */
#include "util/common.h"
#include "monitor/infer_log.h"
#include "monitor/window.h"
#include "helpers.h"

#include <math.h>

static const char *const classes[] = { "no", "yes" };

static void predict(struct infer_log *log, const char *id, int64_t t, const char *model,
		    json_t *inputs, const char *label, double p_yes)
{
	struct error err = ERROR_INIT;
	double probs[2] = { 1 - p_yes, p_yes };
	struct infer_record r = { .request_id = id,
				  .time_ms = t,
				  .model = model,
				  .version = 3,
				  .digest = "sha256:d1",
				  .inputs = inputs,
				  .label = label,
				  .classes = classes,
				  .probabilities = probs,
				  .n_classes = 2 };

	assert_ok(infer_log_append_prediction(log, &r, &err));
	json_decref(inputs);
}

static void feedback(struct infer_log *log, const char *id, int64_t t, json_t *label)
{
	struct error err = ERROR_INIT;

	assert_ok(infer_log_append_feedback(log, id, label, t, &err));
	json_decref(label);
}

struct fixture {
	char *dir;
	struct feature feats[2];
	struct preprocess pre;
	struct target target;
};

/*
 * The log: r1..r5 (one row each, a = 10, 20, ...), "multi" (3 rows), "pair" (2 rows), one
 * prediction of another model, then feedback, some of it long after.
 */
static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	struct error err = ERROR_INIT;
	struct infer_log *log = NULL;
	char id[8];

	f->dir = test_tmpdir();
	assert_ok(infer_log_open(&log, f->dir, NULL, &err));
	for (int i = 1; i <= 5; i++) {
		snprintf(id, sizeof(id), "r%d", i);
		predict(log, id, 1000 * i, "churn",
			json_pack("{s:f, s:s}", "a", 10.0 * i, "c", "x"), i % 2 ? "yes" : "no",
			i % 2 ? 0.75 : 0.25);
	}
	predict(log, "other", 5500, "fraud", json_pack("{s:f}", "a", 1.0), "no", 0.1);
	predict(log, "multi", 6000, "churn", json_pack("{s:s, s:s}", "a", "12.5", "c", "y"), "no",
		0.2);
	predict(log, "multi", 6000, "churn", json_pack("{s:s, s:i}", "a", "abc", "c", 7), "no",
		0.3);
	predict(log, "multi", 6000, "churn", json_pack("{s:n}", "a"), "yes", 0.9);
	predict(log, "pair", 7000, "churn", json_pack("{s:b, s:s}", "a", 1, "c", "x"), "no", 0.4);
	predict(log, "pair", 7000, "churn", json_pack("{s:f, s:s}", "a", 2.0, "c", "x"), "no", 0.4);
	feedback(log, "r2", 8000, json_string("yes"));
	feedback(log, "r1", 9000, json_string("no"));
	feedback(log, "multi", 9500, json_pack("[s, s, s]", "yes", "no", "yes"));
	feedback(log, "pair", 9600, json_string("yes"));  /* two rows: not guessed */
	feedback(log, "ghost", 9700, json_string("yes")); /* no such request */
	feedback(log, "r2", 90000000, json_string("no")); /* a correction, a day later */
	feedback(log, "r4", 90000001, json_integer(1));
	assert_ok(infer_log_close(log, &err));

	f->feats[0] = (struct feature){ .name = (char *)"a", .type = COLUMN_NUMERIC };
	f->feats[1] = (struct feature){ .name = (char *)"c", .type = COLUMN_CATEGORICAL };
	f->pre.nfeatures = 2;
	f->pre.features = f->feats;
	f->target.task = TASK_BINARY;
	f->target.classes = (char **)classes;
	f->target.nclasses = 2;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	test_tmpdir_remove(f->dir);
	free(f);
	return 0;
}

static const struct column *col(const struct monitor_window *w, const char *name)
{
	size_t i;
	struct error err = ERROR_INIT;

	assert_ok(table_find(&i, w->inputs, name, &err));
	return w->inputs->cols[i];
}

static void test_whole_log(void **state)
{
	struct fixture *f = *state;
	struct error err = ERROR_INIT;
	struct window_options o = { f->dir, "churn", 0, 0, &f->pre, &f->target, 0 };
	struct monitor_window *w = NULL;
	const struct column *a, *c;

	assert_ok(monitor_window_read(&w, &o, &err));
	assert_int_equal(w->n, 10);
	assert_int_equal(w->other_models, 1);
	assert_int_equal(w->feedback_records, 7);
	assert_int_equal(w->feedback_unmatched, 1); /* ghost */
	assert_int_equal(w->feedback_ambiguous, 1); /* pair: one label for 2 rows */
	assert_int_equal(w->damaged, 0);
	assert_int_equal(w->start_ms, 1000);
	assert_int_equal(w->end_ms, 7000);
	assert_int_equal(w->version, 3);
	assert_string_equal(w->digest, "sha256:d1");
	/* labels: r1 no, r2 corrected to no, r4 1 (as text), multi yes/no/yes */
	assert_int_equal(w->labelled, 6);
	assert_string_equal(w->labels[0], "no");
	assert_string_equal(w->labels[1], "no");
	assert_null(w->labels[2]);
	assert_string_equal(w->labels[3], "1");
	assert_null(w->labels[4]);
	assert_string_equal(w->labels[5], "yes");
	assert_string_equal(w->labels[6], "no");
	assert_string_equal(w->labels[7], "yes");
	assert_null(w->labels[8]);
	/* predictions and probabilities in class order */
	assert_string_equal(w->pred_labels[0], "yes");
	assert_string_equal(w->pred_labels[1], "no");
	assert_int_equal(w->k, 2);
	assert_true(w->proba[0 * 2 + 1] == 0.75 && w->proba[0 * 2 + 0] == 0.25);
	assert_true(w->proba[7 * 2 + 1] == 0.9);
	/* inputs typed by feature: "12.5" is a number, "abc" bad, null and absent missing */
	a = col(w, "a");
	c = col(w, "c");
	assert_int_equal(a->type, COLUMN_NUMERIC);
	assert_true(a->values[0] == 10.0 && a->values[4] == 50.0);
	assert_true(a->values[5] == 12.5);
	assert_true(column_is_missing(a, 6));
	assert_true(column_is_missing(a, 7));
	assert_true(a->values[8] == 1.0); /* true */
	assert_int_equal(a->n_missing, 2);
	assert_int_equal(w->bad_values, 1);
	assert_int_equal(c->type, COLUMN_CATEGORICAL);
	assert_string_equal(column_category(c, c->codes[5]), "y");
	assert_string_equal(column_category(c, c->codes[6]), "7");
	assert_true(column_is_missing(c, 7));
	monitor_window_free(w);
}

static void test_last_n_and_since(void **state)
{
	struct fixture *f = *state;
	struct error err = ERROR_INIT;
	struct window_options o = { f->dir, "churn", 4, 0, &f->pre, &f->target, 0 };
	struct monitor_window *w = NULL;

	/* the last 4: the last two rows of multi and both rows of pair */
	assert_ok(monitor_window_read(&w, &o, &err));
	assert_int_equal(w->n, 4);
	assert_int_equal(w->start_ms, 6000);
	/* multi lost its first row to the cut, not the labels of the other two */
	assert_int_equal(w->labelled, 2);
	assert_string_equal(w->labels[0], "no");
	assert_string_equal(w->labels[1], "yes");
	assert_null(w->labels[2]);
	assert_int_equal(w->feedback_unmatched, 1); /* ghost */
	monitor_window_free(w);

	o.last_n = 0;
	o.since_ms = 4000;
	assert_ok(monitor_window_read(&w, &o, &err));
	assert_int_equal(w->n, 7); /* r4, r5, multi x3, pair x2 */
	assert_int_equal(w->start_ms, 4000);
	assert_int_equal(w->labelled, 4); /* r4 and multi's three */
	monitor_window_free(w);

	o.since_ms = 100000000; /* after everything: an empty window, not an error */
	assert_ok(monitor_window_read(&w, &o, &err));
	assert_int_equal(w->n, 0);
	assert_null(w->inputs);
	monitor_window_free(w);

	o.since_ms = 0;
	o.max_rows = 3;
	assert_int_equal(monitor_window_read(&w, &o, &err), ERR_TOOBIG);
	assert_non_null(strstr(err.msg, "more than 3 predictions"));
}

/* A flipped byte fails a line's checksum, a garbage line has none: both skipped and counted. */
static void test_damaged(void **state)
{
	struct fixture *f = *state;
	struct error err = ERROR_INIT;
	struct window_options o = { f->dir, "churn", 0, 0, &f->pre, &f->target, 0 };
	struct monitor_window *w = NULL;
	char *seg = test_path(f->dir, "00000001.log"), *p;
	FILE *fp = fopen(seg, "r+b");
	char buf[1 << 16];
	size_t len;

	assert_non_null(fp);
	len = fread(buf, 1, sizeof(buf) - 1, fp);
	buf[len] = '\0';
	p = strstr(buf, "\"request_id\":\"r3\"");
	assert_non_null(p);
	p[15] = '4'; /* r3 -> r4 without fixing the checksum */
	assert_int_equal(fseek(fp, 0, SEEK_SET), 0);
	assert_int_equal(fwrite(buf, 1, len, fp), len);
	assert_int_equal(fputs("this is not a record\n", fp) >= 0, 1);
	fclose(fp);
	free(seg);
	assert_ok(monitor_window_read(&w, &o, &err));
	assert_int_equal(w->n, 9);
	assert_int_equal(w->damaged, 2);
	monitor_window_free(w);
}

static void test_missing_log(void **state)
{
	struct fixture *f = *state;
	struct error err = ERROR_INIT;
	char *none = test_path(f->dir, "nope");
	struct window_options o = { none, "churn", 0, 0, &f->pre, &f->target, 0 };
	struct monitor_window *w = NULL;

	assert_int_equal(monitor_window_read(&w, &o, &err), ERR_NOTFOUND);
	assert_non_null(strstr(err.msg, "no inference log in"));
	assert_non_null(strstr(err.msg, "--log-dir"));
	free(none);
}

/* Regression: the logged value is the prediction; numeric labels keep their shortest text. */
static void test_regression(void **state)
{
	struct fixture *f = *state;
	struct error err = ERROR_INIT;
	char *dir = test_path(f->dir, "reg");
	struct infer_log *log = NULL;
	struct target t = TARGET_INIT;
	struct window_options o = { dir, "diab", 0, 0, &f->pre, &t, 0 };
	struct monitor_window *w = NULL;
	json_t *in = json_pack("{s:f, s:s}", "a", 1.5, "c", "x");
	struct infer_record r = {
		.request_id = "q1", .time_ms = 10, .model = "diab", .inputs = in, .value = 151.25
	};

	t.task = TASK_REGRESSION;
	assert_ok(infer_log_open(&log, dir, NULL, &err));
	assert_ok(infer_log_append_prediction(log, &r, &err));
	r.request_id = "q2";
	r.value = NAN; /* written as null */
	assert_ok(infer_log_append_prediction(log, &r, &err));
	feedback(log, "q1", 20, json_real(150.5));
	feedback(log, "q2", 21, json_integer(75));
	assert_ok(infer_log_close(log, &err));
	json_decref(in);
	assert_ok(monitor_window_read(&w, &o, &err));
	assert_int_equal(w->n, 2);
	assert_null(w->pred_labels);
	assert_null(w->proba);
	assert_int_equal(w->k, 0);
	assert_true(w->pred_values[0] == 151.25);
	assert_true(isnan(w->pred_values[1]));
	assert_string_equal(w->labels[0], "150.5");
	assert_string_equal(w->labels[1], "75");
	assert_int_equal(w->labelled, 2);
	assert_int_equal(w->versions_seen, 1);
	monitor_window_free(w);
	free(dir);
}

static void test_durations(void **state)
{
	struct error err = ERROR_INIT;
	int64_t ms = 0;

	(void)state;
	assert_ok(window_parse_duration(&ms, "1h", &err));
	assert_int_equal(ms, 3600000);
	assert_ok(window_parse_duration(&ms, "30m", &err));
	assert_int_equal(ms, 1800000);
	assert_ok(window_parse_duration(&ms, "2d", &err));
	assert_int_equal(ms, 172800000);
	assert_ok(window_parse_duration(&ms, "250ms", &err));
	assert_int_equal(ms, 250);
	assert_ok(window_parse_duration(&ms, "1w", &err));
	assert_int_equal(ms, 604800000);
	assert_ok(window_parse_duration(&ms, "45s", &err));
	assert_int_equal(ms, 45000);
	assert_int_equal(window_parse_duration(&ms, "0h", &err), ERR_INVALID);
	assert_int_equal(window_parse_duration(&ms, "1.5h", &err), ERR_INVALID);
	assert_int_equal(window_parse_duration(&ms, "h", &err), ERR_INVALID);
	assert_int_equal(window_parse_duration(&ms, "10", &err), ERR_INVALID);
	assert_int_equal(window_parse_duration(&ms, "99999999999999999d", &err), ERR_INVALID);
	assert_int_equal(window_parse_duration(&ms, "1 h", &err), ERR_INVALID);
	assert_non_null(strstr(err.msg, "invalid duration '1 h'"));
	assert_int_equal(ms, 45000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_whole_log, setup, teardown),
		cmocka_unit_test_setup_teardown(test_last_n_and_since, setup, teardown),
		cmocka_unit_test_setup_teardown(test_damaged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_log, setup, teardown),
		cmocka_unit_test_setup_teardown(test_regression, setup, teardown),
		cmocka_unit_test(test_durations),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
