/*
 * Unit tests for http/prom: exact exposition text (written by hand from the 0.0.4 spec), number
 * formatting, escaping, child removal and info swaps, exact sums under concurrent updates, and
 * the real `promtool check metrics` on a registry with every metric kind.
 */
#include "util/common.h"
#include "helpers.h"
#include "http/prom.h"

#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/wait.h>

#define L(...) ((const char *const[]){ __VA_ARGS__ })

static char *render(const struct prom_registry *r)
{
	struct strbuf sb = STRBUF_INIT;

	prom_render(r, &sb);
	return strbuf_detach(&sb, NULL);
}

static void assert_format(double v, const char *want)
{
	char buf[PROM_NUM_SIZE];

	prom_format_value(buf, v);
	assert_string_equal(buf, want);
}

/* Non-integers: the shortest text that reads back, as Python's repr writes them. */
static void test_format_value(void **state)
{
	(void)state;
	assert_format(0, "0");
	assert_format(-0.0, "0");
	assert_format(1, "1");
	assert_format(-12, "-12");
	assert_format(1e6, "1000000");
	assert_format(1e15, "1000000000000000");
	assert_format(9007199254740993.0, "9007199254740992"); /* 2^53 + 1 rounds to 2^53 */
	assert_format(0.1, "0.1");
	assert_format(0.00005, "5e-05");
	assert_format(2.5, "2.5");
	assert_format(-1.5e-300, "-1.5e-300");
	assert_format(1e300, "1e+300");
	assert_format(0x1p63, "9.223372036854776e+18");
	assert_format(0.1 + 0.2, "0.30000000000000004");
	assert_format(1.0 / 3, "0.3333333333333333");
	assert_format(123456.789, "123456.789");
	assert_format(NAN, "NaN");
	assert_format(INFINITY, "+Inf");
	assert_format(-INFINITY, "-Inf");
}

static const char expected_text[] =
    "# HELP ferry_http_requests_total HTTP requests answered.\n"
    "# TYPE ferry_http_requests_total counter\n"
    "ferry_http_requests_total{method=\"GET\",code=\"200\"} 0.5\n"
    "ferry_http_requests_total{method=\"GET\",code=\"404\"} 1\n"
    "ferry_http_requests_total{method=\"POST\",code=\"200\"} 3\n"
    "# HELP ferry_up Whether ferry is up.\n"
    "# TYPE ferry_up gauge\n"
    "ferry_up 1\n"
    "# HELP ferry_queue_ratio Help with \\\\ a backslash and\\na newline, \"quotes\" kept.\n"
    "# TYPE ferry_queue_ratio gauge\n"
    "ferry_queue_ratio{path=\"a\\\"b\\\\c\\nd\"} -2.5\n"
    "ferry_queue_ratio{path=\"plain\"} NaN\n"
    "# HELP ferry_request_duration_seconds Request latency.\n"
    "# TYPE ferry_request_duration_seconds histogram\n"
    "ferry_request_duration_seconds_bucket{model=\"churn\",le=\"0.1\"} 1\n"
    "ferry_request_duration_seconds_bucket{model=\"churn\",le=\"1\"} 3\n"
    "ferry_request_duration_seconds_bucket{model=\"churn\",le=\"10\"} 3\n"
    "ferry_request_duration_seconds_bucket{model=\"churn\",le=\"+Inf\"} 4\n"
    "ferry_request_duration_seconds_sum{model=\"churn\"} 16.8125\n"
    "ferry_request_duration_seconds_count{model=\"churn\"} 4\n"
    "# HELP ferry_payload_bytes Request body sizes.\n"
    "# TYPE ferry_payload_bytes histogram\n"
    "ferry_payload_bytes_bucket{le=\"100\"} 0\n"
    "ferry_payload_bytes_bucket{le=\"1000\"} 1\n"
    "ferry_payload_bytes_bucket{le=\"+Inf\"} 1\n"
    "ferry_payload_bytes_sum 1000\n"
    "ferry_payload_bytes_count 1\n"
    "# HELP ferry_model_info The model being served.\n"
    "# TYPE ferry_model_info gauge\n"
    "ferry_model_info{name=\"churn\",version=\"3\",digest=\"sha256:ab12\"} 1\n";

/* Registers the families of expected_text; errors is registered but never used. */
static struct prom_registry *example_registry(void)
{
	struct prom_registry *r = prom_registry_new();
	struct prom_family *req, *up, *queue, *lat, *payload, *info;

	req = prom_counter_new(r, "ferry_http_requests_total", "HTTP requests answered.",
			       L("method", "code", NULL));
	up = prom_gauge_new(r, "ferry_up", "Whether ferry is up.", NULL);
	queue = prom_gauge_new(r, "ferry_queue_ratio",
			       "Help with \\ a backslash and\na newline, \"quotes\" kept.",
			       L("path", NULL));
	lat = prom_histogram_new(r, "ferry_request_duration_seconds", "Request latency.",
				 L("model", NULL), (const double[]){ 0.1, 1, 10 }, 3);
	payload = prom_histogram_new(r, "ferry_payload_bytes", "Request body sizes.", NULL,
				     (const double[]){ 100, 1000 }, 2);
	prom_counter_new(r, "ferry_errors_total", "Errors by kind.", L("kind", NULL));
	info = prom_info_new(r, "ferry_model_info", "The model being served.",
			     L("name", "version", "digest", NULL));

	/* created out of order: children render sorted by label values */
	prom_counter_add_labels(req, L("POST", "200"), 3);
	prom_counter_add_labels(req, L("GET", "404"), 1);
	prom_counter_add_labels(req, L("GET", "200"), 0.5);
	prom_gauge_set(prom_child(up, NULL), 1);
	prom_gauge_set_labels(queue, L("plain"), NAN);
	prom_gauge_set_labels(queue, L("a\"b\\c\nd"), -2.5);
	/* 0.1 is inclusive ("le"); 16 is above every bound */
	prom_histogram_observe_labels(lat, L("churn"), 0.0625);
	prom_histogram_observe_labels(lat, L("churn"), 0.25);
	prom_histogram_observe_labels(lat, L("churn"), 0.5);
	prom_histogram_observe_labels(lat, L("churn"), 16);
	prom_histogram_observe(prom_child(payload, NULL), 1000);
	prom_info_set(info, L("churn", "3", "sha256:ab12"));
	return r;
}

static void test_render_exact(void **state)
{
	struct prom_registry *r = example_registry();
	char *a = render(r), *b = render(r);

	(void)state;
	assert_string_equal(a, expected_text);
	/* rendering changes nothing */
	assert_string_equal(b, a);
	free(a);
	free(b);
	prom_registry_free(r);
}

static void test_unlabelled_start_at_zero(void **state)
{
	struct prom_registry *r = prom_registry_new();
	char *text;

	(void)state;
	prom_counter_new(r, "ferry_jobs_total", "Jobs.", NULL);
	prom_histogram_new(r, "ferry_job_seconds", "Job time.", NULL, (const double[]){ 1 }, 1);
	text = render(r);
	assert_string_equal(text, "# HELP ferry_jobs_total Jobs.\n"
				  "# TYPE ferry_jobs_total counter\n"
				  "ferry_jobs_total 0\n"
				  "# HELP ferry_job_seconds Job time.\n"
				  "# TYPE ferry_job_seconds histogram\n"
				  "ferry_job_seconds_bucket{le=\"1\"} 0\n"
				  "ferry_job_seconds_bucket{le=\"+Inf\"} 0\n"
				  "ferry_job_seconds_sum 0\n"
				  "ferry_job_seconds_count 0\n");
	free(text);
	prom_registry_free(r);
}

static void test_values_and_buckets(void **state)
{
	struct prom_registry *r = prom_registry_new();
	struct prom_family *c, *g, *h, *wide;
	struct prom_child *cc, *gc, *hc, *wc;
	double bounds[40];

	(void)state;
	c = prom_counter_new(r, "ferry_a_total", "A.", NULL);
	g = prom_gauge_new(r, "ferry_b", "B.", NULL);
	h = prom_histogram_new(r, "ferry_c_seconds", "C.", NULL, prom_latency_buckets,
			       PROM_LATENCY_NBUCKETS);
	for (size_t i = 0; i < ARRAY_SIZE(bounds); i++)
		bounds[i] = (double)i;
	wide = prom_histogram_new(r, "ferry_d", "D.", NULL, bounds, ARRAY_SIZE(bounds));
	cc = prom_child(c, NULL);
	gc = prom_child(g, NULL);
	hc = prom_child(h, NULL);
	wc = prom_child(wide, NULL);
	assert_ptr_equal(cc, prom_child(c, NULL));

	prom_counter_inc(cc);
	prom_counter_add(cc, 2);
	prom_counter_add(cc, 0.25);
	prom_counter_add(cc, 1e300); /* above 2^53: the double path */
	assert_true(prom_value(cc) == 1e300);
	prom_gauge_set(gc, 5);
	prom_gauge_add(gc, -7.5);
	assert_true(prom_value(gc) == -2.5);

	assert_true(prom_latency_buckets[0] == 0.00005);
	assert_true(prom_latency_buckets[PROM_LATENCY_NBUCKETS - 1] == 10);
	prom_histogram_observe(hc, 0.00005); /* on the first bound: counted in it */
	prom_histogram_observe(hc, 11);
	assert_int_equal(prom_histogram_count(hc), 2);
	assert_true(prom_histogram_sum(hc) == 0.00005 + 11.0);

	/* 40 bounds: the binary search must agree with "first bound >= v" */
	for (int i = -1; i <= 41; i++) {
		prom_histogram_observe(wc, i);
		prom_histogram_observe(wc, i + 0.5);
	}
	prom_histogram_observe(wc, NAN);
	assert_int_equal(prom_histogram_count(wc), 87);
	{
		char *text = render(r);

		/* -1, -0.5, 0 */
		assert_non_null(strstr(text, "ferry_d_bucket{le=\"0\"} 3\n"));
		/* ... 38.5, 39 */
		assert_non_null(strstr(text, "ferry_d_bucket{le=\"39\"} 81\n"));
		/* 39.5 ... 41.5 and NaN */
		assert_non_null(strstr(text, "ferry_d_bucket{le=\"+Inf\"} 87\n"));
		assert_non_null(strstr(text, "ferry_d_sum NaN\n"));
		assert_non_null(strstr(text, "ferry_c_seconds_bucket{le=\"5e-05\"} 1\n"));
		assert_non_null(strstr(text, "ferry_c_seconds_bucket{le=\"10\"} 1\n"));
		assert_non_null(strstr(text, "ferry_c_seconds_bucket{le=\"+Inf\"} 2\n"));
		free(text);
	}
	prom_registry_free(r);
}

static void test_remove_and_info(void **state)
{
	struct prom_registry *r = prom_registry_new();
	struct prom_family *f, *info;
	struct prom_child *gone, *again;
	char *text;

	(void)state;
	f = prom_counter_new(r, "ferry_loads_total", "Loads.", L("model", NULL));
	info = prom_info_new(r, "ferry_model_info", "Model.", L("name", "version", NULL));
	gone = prom_child(f, L("old"));
	prom_counter_add(gone, 5);
	prom_counter_inc(prom_child(f, L("new")));
	assert_true(prom_child_remove(f, L("old")));
	assert_false(prom_child_remove(f, L("old")));
	assert_false(prom_child_remove(f, L("never")));
	/* a handle held elsewhere stays usable; its updates are no longer rendered */
	prom_counter_inc(gone);
	assert_true(prom_value(gone) == 6);
	again = prom_child(f, L("old"));
	assert_ptr_not_equal(again, gone);
	assert_true(prom_value(again) == 0);

	prom_info_set(info, L("churn", "2"));
	prom_info_set(info, L("churn", "3"));
	text = render(r);
	assert_string_equal(text, "# HELP ferry_loads_total Loads.\n"
				  "# TYPE ferry_loads_total counter\n"
				  "ferry_loads_total{model=\"new\"} 1\n"
				  "ferry_loads_total{model=\"old\"} 0\n"
				  "# HELP ferry_model_info Model.\n"
				  "# TYPE ferry_model_info gauge\n"
				  "ferry_model_info{name=\"churn\",version=\"3\"} 1\n");
	free(text);

	prom_family_clear(f);
	text = render(r);
	assert_string_equal(text, "# HELP ferry_model_info Model.\n"
				  "# TYPE ferry_model_info gauge\n"
				  "ferry_model_info{name=\"churn\",version=\"3\"} 1\n");
	free(text);
	prom_registry_free(r);
}

static void test_stable_order_and_utf8(void **state)
{
	static const char *const names[] = { "b", "a", "ab", "", "B", "é", "a\n" };
	struct prom_registry *r = prom_registry_new();
	struct prom_family *f = prom_gauge_new(r, "ferry_g", "G.", L("x", "y", NULL));
	struct prom_child *bad;
	char *text, *again;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		prom_gauge_set_labels(f, L(names[i], "1"), (double)i);
	prom_gauge_set_labels(f, L("a", "0"), 9);
	/* invalid UTF-8 (a lone continuation byte, an overlong '/') becomes U+FFFD */
	bad = prom_child(f, L("\x80", "\xc0\xaf"));
	prom_gauge_set(bad, 7);
	assert_ptr_equal(prom_child(f, L("\x80", "\xc0\xaf")), bad);
	text = render(r);
	assert_string_equal(text, "# HELP ferry_g G.\n"
				  "# TYPE ferry_g gauge\n"
				  "ferry_g{x=\"\",y=\"1\"} 3\n"
				  "ferry_g{x=\"B\",y=\"1\"} 4\n"
				  "ferry_g{x=\"a\",y=\"0\"} 9\n"
				  "ferry_g{x=\"a\",y=\"1\"} 1\n"
				  "ferry_g{x=\"a\\n\",y=\"1\"} 6\n"
				  "ferry_g{x=\"ab\",y=\"1\"} 2\n"
				  "ferry_g{x=\"b\",y=\"1\"} 0\n"
				  "ferry_g{x=\"é\",y=\"1\"} 5\n"
				  "ferry_g{x=\"\xef\xbf\xbd\",y=\"\xef\xbf\xbd\xef\xbf\xbd\"} 7\n");
	again = render(r);
	assert_string_equal(again, text);
	free(text);
	free(again);
	prom_registry_free(r);
}

/*
 * What promtool does not check (shared/docs/monitoring.md 5.1): each histogram's buckets are
 * cumulative and its +Inf bucket equals its _count.
 */
static void check_histograms(const char *text)
{
	const char *line = text;
	char series[512] = "";
	uint64_t prev = 0, inf = 0;
	bool have_inf = false;

	while (*line) {
		const char *end = strchr(line, '\n');
		const char *sp, *le;
		uint64_t v;

		assert_non_null(end);
		sp = memrchr(line, ' ', (size_t)(end - line));
		le = strstr(line, ",le=\"");
		if (!le || le > end)
			le = strstr(line, "{le=\"");
		if (*line != '#' && strstr(line, "_bucket{") && strstr(line, "_bucket{") < end) {
			size_t n;

			assert_true(le && le < end);
			n = (size_t)(le - line);
			assert_true(n < sizeof(series));
			v = strtoull(sp + 1, NULL, 10);
			if (strncmp(series, line, n) || series[n]) {
				memcpy(series, line, n);
				series[n] = 0;
				prev = 0;
				have_inf = false;
			}
			assert_true(v >= prev);
			prev = v;
			if (!strncmp(le + 5, "+Inf\"", 5)) {
				inf = v;
				have_inf = true;
			}
		} else if (*line != '#' && have_inf && strstr(line, "_count") &&
			   strstr(line, "_count") < end) {
			assert_int_equal(strtoull(sp + 1, NULL, 10), inf);
			have_inf = false;
		}
		line = end + 1;
	}
}

#define THREADS 8
#define ITERS 100000

struct shared {
	struct prom_registry *r;
	struct prom_family *counter, *gauge, *hist, *per_thread;
	atomic_int running;
	int renders;
};

struct worker {
	struct shared *s;
	int id;
};

static void *worker_main(void *arg)
{
	static const double obs[] = { 0.25, 0.5, 2, 20 };
	struct worker *w = arg;
	struct shared *s = w->s;
	struct prom_child *c = prom_child(s->counter, L("shared"));
	struct prom_child *g = prom_child(s->gauge, NULL);
	struct prom_child *h = prom_child(s->hist, L("m"));
	char id[16], slot[16];

	snprintf(id, sizeof(id), "t%d", w->id);
	for (int i = 0; i < ITERS; i++) {
		prom_counter_inc(c);
		prom_counter_add(c, 0.25);
		prom_gauge_add(g, i % 2 ? -1.0 : 2.0);
		prom_histogram_observe(h, obs[i % 4]);
		if (i % 1000 == 0) {
			/* children created while others update and render */
			snprintf(slot, sizeof(slot), "%d", (i / 1000) % 10);
			prom_counter_add_labels(s->per_thread, L(id, slot), 1);
		}
	}
	return NULL;
}

static void *render_main(void *arg)
{
	struct shared *s = arg;
	struct strbuf sb = STRBUF_INIT;

	while (atomic_load(&s->running)) {
		strbuf_reset(&sb);
		prom_render(s->r, &sb);
		check_histograms(sb.buf);
		s->renders++;
	}
	strbuf_release(&sb);
	return NULL;
}

static void test_concurrent_updates(void **state)
{
	struct shared s = { 0 };
	struct worker w[THREADS];
	pthread_t t[THREADS], renderer;
	struct prom_child *h;
	char *text;

	(void)state;
	s.r = prom_registry_new();
	s.counter = prom_counter_new(s.r, "ferry_ops_total", "Ops.", L("kind", NULL));
	s.gauge = prom_gauge_new(s.r, "ferry_level", "Level.", NULL);
	s.hist = prom_histogram_new(s.r, "ferry_op_seconds", "Op time.", L("model", NULL),
				    (const double[]){ 0.5, 1, 10 }, 3);
	s.per_thread =
	    prom_counter_new(s.r, "ferry_slots_total", "Slots.", L("thread", "slot", NULL));
	atomic_store(&s.running, 1);
	assert_int_equal(pthread_create(&renderer, NULL, render_main, &s), 0);
	for (int i = 0; i < THREADS; i++) {
		w[i].s = &s;
		w[i].id = i;
		assert_int_equal(pthread_create(&t[i], NULL, worker_main, &w[i]), 0);
	}
	for (int i = 0; i < THREADS; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
	atomic_store(&s.running, 0);
	assert_int_equal(pthread_join(renderer, NULL), 0);
	assert_true(s.renders > 0);

	/* every sum below is exact in binary floating point */
	assert_true(prom_value(prom_child(s.counter, L("shared"))) == THREADS * ITERS * 1.25);
	assert_true(prom_value(prom_child(s.gauge, NULL)) == THREADS * ITERS / 2 * 1.0);
	h = prom_child(s.hist, L("m"));
	assert_int_equal(prom_histogram_count(h), THREADS * ITERS);
	assert_true(prom_histogram_sum(h) == THREADS * ITERS / 4 * 22.75);
	for (int i = 0; i < THREADS; i++) {
		char id[16];

		snprintf(id, sizeof(id), "t%d", i);
		for (int k = 0; k < 10; k++) {
			char slot[16];

			snprintf(slot, sizeof(slot), "%d", k);
			assert_true(prom_value(prom_child(s.per_thread, L(id, slot))) == 10);
		}
	}
	text = render(s.r);
	check_histograms(text);
	assert_non_null(strstr(text, "ferry_ops_total{kind=\"shared\"} 1000000\n"));
	assert_non_null(strstr(text, "ferry_level 400000\n"));
	assert_non_null(strstr(text, "ferry_op_seconds_bucket{model=\"m\",le=\"0.5\"} 400000\n"
				     "ferry_op_seconds_bucket{model=\"m\",le=\"1\"} 400000\n"
				     "ferry_op_seconds_bucket{model=\"m\",le=\"10\"} 600000\n"
				     "ferry_op_seconds_bucket{model=\"m\",le=\"+Inf\"} 800000\n"
				     "ferry_op_seconds_sum{model=\"m\"} 4550000\n"
				     "ferry_op_seconds_count{model=\"m\"} 800000\n"));
	free(text);
	prom_registry_free(s.r);
}

/* Runs fn in a child process and expects it to BUG() (abort). */
static void expect_bug(void (*fn)(struct prom_registry *r))
{
	pid_t pid;
	int status = 0;

	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		struct prom_registry *r = prom_registry_new();

		if (!freopen("/dev/null", "w", stderr))
			_exit(2);
		prom_counter_new(r, "ferry_taken_total", "Taken.", NULL);
		prom_histogram_new(r, "ferry_hist", "Hist.", NULL, (const double[]){ 1 }, 1);
		fn(r);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGABRT);
}

static void bad_counter_suffix(struct prom_registry *r)
{
	prom_counter_new(r, "ferry_requests", "No _total.", NULL);
}

static void bad_gauge_suffix(struct prom_registry *r)
{
	prom_gauge_new(r, "ferry_things_count", "A gauge named like a histogram part.", NULL);
}

static void bad_metric_name(struct prom_registry *r)
{
	prom_gauge_new(r, "9lives", "Starts with a digit.", NULL);
}

static void bad_colon_name(struct prom_registry *r)
{
	prom_gauge_new(r, "ferry:rule", "Colons are for recording rules.", NULL);
}

static void bad_label_name(struct prom_registry *r)
{
	prom_gauge_new(r, "ferry_g", "G.", L("feature-name", NULL));
}

static void reserved_label(struct prom_registry *r)
{
	prom_gauge_new(r, "ferry_g", "G.", L("__name", NULL));
}

static void duplicate_label(struct prom_registry *r)
{
	prom_gauge_new(r, "ferry_g", "G.", L("a", "a", NULL));
}

static void histogram_le(struct prom_registry *r)
{
	prom_histogram_new(r, "ferry_h", "H.", L("le", NULL), (const double[]){ 1 }, 1);
}

static void unsorted_bounds(struct prom_registry *r)
{
	prom_histogram_new(r, "ferry_h", "H.", NULL, (const double[]){ 1, 1 }, 2);
}

static void infinite_bound(struct prom_registry *r)
{
	prom_histogram_new(r, "ferry_h", "H.", NULL, (const double[]){ 1, INFINITY }, 2);
}

static void duplicate_name(struct prom_registry *r)
{
	prom_counter_new(r, "ferry_taken_total", "Again.", NULL);
}

static void histogram_collision(struct prom_registry *r)
{
	/* ferry_hist renders ferry_hist_bucket */
	prom_gauge_new(r, "ferry_hist_bucket", "Collides.", NULL);
}

static void collector_collision(struct prom_registry *r)
{
	prom_process_metrics(r);
	prom_gauge_new(r, "process_open_fds", "Collides with the process collector.", NULL);
}

static void no_help(struct prom_registry *r)
{
	prom_gauge_new(r, "ferry_g", "", NULL);
}

static void negative_counter(struct prom_registry *r)
{
	struct prom_family *f = prom_counter_new(r, "ferry_x_total", "X.", NULL);

	prom_counter_add(prom_child(f, NULL), -1);
}

static void wrong_type(struct prom_registry *r)
{
	struct prom_family *f = prom_counter_new(r, "ferry_x_total", "X.", NULL);

	prom_gauge_set(prom_child(f, NULL), 1);
}

static void null_value(struct prom_registry *r)
{
	struct prom_family *f = prom_gauge_new(r, "ferry_g", "G.", L("a", "b", NULL));

	prom_child(f, L("x", NULL));
}

static void remove_unlabelled(struct prom_registry *r)
{
	struct prom_family *f = prom_gauge_new(r, "ferry_g", "G.", NULL);

	prom_child_remove(f, NULL);
}

static void test_program_errors(void **state)
{
	(void)state;
	expect_bug(bad_counter_suffix);
	expect_bug(bad_gauge_suffix);
	expect_bug(bad_metric_name);
	expect_bug(bad_colon_name);
	expect_bug(bad_label_name);
	expect_bug(reserved_label);
	expect_bug(duplicate_label);
	expect_bug(histogram_le);
	expect_bug(unsorted_bounds);
	expect_bug(infinite_bound);
	expect_bug(duplicate_name);
	expect_bug(histogram_collision);
	expect_bug(collector_collision);
	expect_bug(no_help);
	expect_bug(negative_counter);
	expect_bug(wrong_type);
	expect_bug(null_value);
	expect_bug(remove_unlabelled);
}

static void test_process_metrics(void **state)
{
	struct prom_registry *r = prom_registry_new();
	char *text, *p;
	double start;

	(void)state;
	prom_process_metrics(r);
	text = render(r);
	assert_non_null(strstr(text, "# TYPE process_cpu_seconds_total counter\n"));
	assert_non_null(strstr(text, "\nprocess_open_fds "));
	assert_non_null(strstr(text, "\nprocess_max_fds "));
	assert_non_null(strstr(text, "\nprocess_virtual_memory_bytes "));
	assert_non_null(strstr(text, "\nprocess_resident_memory_bytes "));
	p = strstr(text, "\nprocess_start_time_seconds ");
	assert_non_null(p);
	start = strtod(p + strlen("\nprocess_start_time_seconds "), NULL);
	/* started within the last day, not in the future */
	assert_true(start > (double)time(NULL) - 86400 && start <= (double)time(NULL) + 1);
	free(text);
	prom_registry_free(r);
}

/* Runs `promtool check metrics` on text; returns its exit status, its output in *out. */
static int promtool_check(const char *dir, const char *text, char **out)
{
	char *path = test_path(dir, "metrics.prom");
	char *cmd = xstrfmt("promtool check metrics < '%s' 2>&1", path);
	struct strbuf sb = STRBUF_INIT;
	char buf[4096];
	size_t n;
	FILE *p;
	int status;

	test_write_file(path, text);
	p = popen(cmd, "r");
	assert_non_null(p);
	while ((n = fread(buf, 1, sizeof(buf), p)) > 0)
		strbuf_add(&sb, buf, n);
	status = pclose(p);
	assert_true(WIFEXITED(status));
	*out = strbuf_detach(&sb, NULL);
	free(cmd);
	free(path);
	return WEXITSTATUS(status);
}

static void test_promtool(void **state)
{
	struct prom_registry *r = example_registry();
	struct prom_family *lat;
	char *dir = test_tmpdir(), *text, *out = NULL;
	int code;

	(void)state;
	/* a missing promtool fails the test: scripts/deps.sh installs Debian's prometheus */
	code = promtool_check(dir, "# HELP ferry_x X.\n# TYPE ferry_x gauge\nferry_x 1\n", &out);
	if (code == 127)
		fail_msg("promtool not found: install Debian's 'prometheus' (scripts/deps.sh)");
	assert_int_equal(code, 0);
	free(out);
	/* and it does reject what it should, or this test would prove nothing */
	code = promtool_check(dir, "# HELP ferry_x X.\n# TYPE ferry_x counter\nferry_x 1\n", &out);
	assert_int_not_equal(code, 0);
	free(out);

	lat = prom_histogram_new(r, "ferry_inference_seconds", "Inference latency.",
				 L("model", "version", NULL), prom_latency_buckets,
				 PROM_LATENCY_NBUCKETS);
	for (int i = 0; i < 1000; i++)
		prom_histogram_observe_labels(lat, L("churn", i % 2 ? "3" : "4"), i * 1.7e-5);
	prom_gauge_set_labels(
	    prom_gauge_new(r, "ferry_edge_values", "Edge values.", L("case", NULL)), L("inf"),
	    INFINITY);
	prom_process_metrics(r);
	text = render(r);
	code = promtool_check(dir, text, &out);
	if (code || *out)
		fail_msg("promtool check metrics: exit %d:\n%s\non:\n%s", code, out, text);
	free(out);
	free(text);
	prom_registry_free(r);
	test_tmpdir_remove(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_value),
		cmocka_unit_test(test_render_exact),
		cmocka_unit_test(test_unlabelled_start_at_zero),
		cmocka_unit_test(test_values_and_buckets),
		cmocka_unit_test(test_remove_and_info),
		cmocka_unit_test(test_stable_order_and_utf8),
		cmocka_unit_test(test_concurrent_updates),
		cmocka_unit_test(test_program_errors),
		cmocka_unit_test(test_process_metrics),
		cmocka_unit_test(test_promtool),
	};

	return cmocka_run_group_tests_name("prom", tests, NULL, NULL);
}
