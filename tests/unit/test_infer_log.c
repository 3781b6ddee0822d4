/*
 * Unit tests for monitor/infer_log: records round-trip from many threads, segments rotate under
 * both caps, torn tails and corrupt lines are skipped and counted, the buffer cap drops rather
 * than blocks, a SIGKILLed writer leaves a readable prefix, and the time / last-N seeks.
 */
#include "util/common.h"
#include "helpers.h"
#include "monitor/infer_log.h"
#include "util/strbuf.h"

#include <dirent.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#define DIGEST "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

static json_t *inputs_doc(void)
{
	json_t *j = json_loads("{\"age\":42,\"city\":\"Paris\",\"income\":52000.5,\"tenure\":7,"
			       "\"plan\":\"pro\",\"tags\":[\"a\",\"b\"]}",
			       0, NULL);

	assert_non_null(j);
	return j;
}

/* A ~330-byte classification record, as the server would log it. */
static int append_pred(struct infer_log *log, const json_t *inputs, const char *id, int64_t t)
{
	static const char *const classes[] = { "no", "yes" };
	static const double proba[] = { 0.25, 0.75 };
	struct infer_record r = { 0 };
	struct error err = ERROR_INIT;

	r.request_id = id;
	r.time_ms = t;
	r.model = "churn";
	r.version = 3;
	r.digest = DIGEST;
	r.latency_us = 412;
	r.inputs = inputs;
	r.label = "yes";
	r.classes = classes;
	r.probabilities = proba;
	r.n_classes = 2;
	return infer_log_append_prediction(log, &r, &err);
}

static struct infer_log *open_log(const char *dir, const struct infer_log_options *o)
{
	struct infer_log *log = NULL;
	struct error err = ERROR_INIT;
	int rc = infer_log_open(&log, dir, o, &err);

	if (rc)
		fail_msg("infer_log_open: %s", err.msg);
	return log;
}

static void close_log(struct infer_log *log)
{
	struct error err = ERROR_INIT;

	if (infer_log_close(log, &err))
		fail_msg("infer_log_close: %s", err.msg);
}

struct got {
	char **ids;
	int64_t *times;
	int *kinds;
	size_t nr, alloc;
	struct infer_read_stats st;
};

static void got_release(struct got *g)
{
	for (size_t i = 0; i < g->nr; i++)
		free(g->ids[i]);
	free(g->ids);
	free(g->times);
	free(g->kinds);
	memset(g, 0, sizeof(*g));
}

static void read_log(struct got *g, const char *dir, int64_t since, uint64_t last_n)
{
	struct infer_reader_options o = INFER_READER_OPTIONS_INIT;
	struct infer_reader *r = NULL;
	struct infer_entry e;
	struct error err = ERROR_INIT;
	size_t alloc_t = 0, alloc_k = 0;
	int rc;

	memset(g, 0, sizeof(*g));
	o.since_ms = since;
	o.last_n = last_n;
	if (infer_reader_open(&r, dir, &o, &err))
		fail_msg("infer_reader_open: %s", err.msg);
	while ((rc = infer_reader_next(r, &e, &err)) > 0) {
		assert_non_null(e.request_id);
		assert_non_null(e.doc);
		ALLOC_GROW(g->ids, g->nr + 1, g->alloc);
		ALLOC_GROW(g->times, g->nr + 1, alloc_t);
		ALLOC_GROW(g->kinds, g->nr + 1, alloc_k);
		g->ids[g->nr] = xstrdup(e.request_id);
		g->times[g->nr] = e.time_ms;
		g->kinds[g->nr] = e.kind;
		g->nr++;
	}
	if (rc)
		fail_msg("infer_reader_next: %s", err.msg);
	infer_reader_stats(r, &g->st);
	assert_int_equal(g->st.records, g->nr);
	infer_reader_free(r);
}

/* Sizes of the segments in dir, oldest first; returns how many. */
static size_t segment_sizes(const char *dir, uint64_t *sizes, size_t max, char names[][16])
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t n = 0;

	assert_non_null(d);
	while ((de = readdir(d))) {
		struct stat st;
		char *p;

		if (strlen(de->d_name) != 12 || !ends_with(de->d_name, ".log"))
			continue;
		assert_true(n < max);
		p = test_path(dir, de->d_name);
		assert_int_equal(stat(p, &st), 0);
		free(p);
		sizes[n] = (uint64_t)st.st_size;
		memcpy(names[n], de->d_name, 13); /* 12 characters, checked above */
		n++;
	}
	closedir(d);
	/* insertion sort by name, which is by number */
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
			char tmp[16];
			uint64_t s = sizes[j];

			memcpy(tmp, names[j], 16);
			memcpy(names[j], names[j - 1], 16);
			memcpy(names[j - 1], tmp, 16);
			sizes[j] = sizes[j - 1];
			sizes[j - 1] = s;
		}
	return n;
}

static void read_file(struct strbuf *sb, const char *path)
{
	FILE *fp = fopen(path, "rb");
	char buf[65536];
	size_t n;

	assert_non_null(fp);
	strbuf_reset(sb);
	while ((n = fread(buf, 1, sizeof(buf), fp)) > 0)
		strbuf_add(sb, buf, n);
	fclose(fp);
}

/* Inserts len bytes at pos of sb. */
static void strbuf_insert_at(struct strbuf *sb, size_t pos, const char *data, size_t len)
{
	size_t tail = sb->len - pos;

	strbuf_grow(sb, len);
	memmove(sb->buf + pos + len, sb->buf + pos, tail);
	memcpy(sb->buf + pos, data, len);
	strbuf_setlen(sb, sb->len + len);
}

static void write_bytes(const char *path, const char *data, size_t len)
{
	FILE *fp = fopen(path, "wb");

	assert_non_null(fp);
	assert_int_equal(fwrite(data, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
}

/* ---- tests -------------------------------------------------------------------------------- */

static uint32_t crc32c_bitwise(const unsigned char *p, size_t n)
{
	uint32_t c = 0xffffffffu;

	while (n--) {
		c ^= *p++;
		for (int k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ 0x82f63b78u : c >> 1;
	}
	return ~c;
}

static void test_crc32c(void **state)
{
	unsigned char buf[300];

	(void)state;
	/* the standard check value of CRC-32C, by the dispatched and the portable versions */
	assert_int_equal(infer_log_crc32c("123456789", 9), 0xe3069283u);
	assert_int_equal(infer_log_crc32c_portable("123456789", 9), 0xe3069283u);
	assert_int_equal(infer_log_crc32c("", 0), 0);
	assert_int_equal(infer_log_crc32c_portable("", 0), 0);
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (unsigned char)(i * 131 + 7);
	for (size_t off = 0; off < 8; off++)
		for (size_t n = 0; n + off <= sizeof(buf); n += 13) {
			assert_int_equal(infer_log_crc32c(buf + off, n),
					 crc32c_bitwise(buf + off, n));
			assert_int_equal(infer_log_crc32c_portable(buf + off, n),
					 crc32c_bitwise(buf + off, n));
		}
}

/* Every finite double reads back bit for bit, short decimals or not. */
static void check_random_numbers(const char *dir)
{
	json_t *in = json_array();
	struct infer_log *log = open_log(dir, NULL);
	struct infer_reader_options o = { 0, 1 };
	struct infer_reader *rd = NULL;
	struct infer_entry e;
	struct error err = ERROR_INIT;
	uint64_t x = 88172645463325252ull;
	size_t i;
	json_t *v;

	for (int k = 0; k < 3000; k++) {
		double d;

		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		if (k % 3 == 0) {
			memcpy(&d, &x, sizeof(d)); /* any bits */
			if (!isfinite(d))
				d = (double)x;
		} else {
			/* a short decimal, as people type them: m / 10^j */
			d = (double)(int64_t)(x % 2000000001) / pow(10, (double)((x >> 40) % 12));
			d = k % 2 ? -d : d;
		}
		json_array_append_new(in, json_real(d));
	}
	assert_int_equal(append_pred(log, in, "random-numbers", 1), 0);
	close_log(log);
	assert_int_equal(infer_reader_open(&rd, dir, &o, &err), 0);
	assert_int_equal(infer_reader_next(rd, &e, &err), 1);
	assert_string_equal(e.request_id, "random-numbers");
	assert_int_equal(json_array_size(e.inputs), 3000);
	json_array_foreach(e.inputs, i, v) {
		double want = json_real_value(json_array_get(in, i));

		assert_true(json_is_real(v) || (json_is_integer(v) && !want));
		assert_memory_equal(&(double){ json_number_value(v) }, &want, sizeof(want));
	}
	infer_reader_free(rd);
	json_decref(in);
}

/* Numbers are written as given when they are short decimals, exactly otherwise. */
static void check_numbers(const char *dir)
{
	static const char text[] =
	    "{\"a\":78.61,\"b\":5.0,\"c\":-0.001,\"d\":1e+20,\"e\":0.1,\"f\":123456789.123,"
	    "\"g\":0.30000000000000004,\"h\":-0.0,\"i\":1e-300,\"j\":-17,\"k\":\"nul\\u0000in\"}";
	json_t *in = json_loads(text, JSON_ALLOW_NUL, NULL);
	struct infer_log *log = open_log(dir, NULL);
	struct infer_reader *rd = NULL;
	struct infer_entry e;
	struct error err = ERROR_INIT;
	struct strbuf sb = STRBUF_INIT;
	char *seg = test_path(dir, "00000001.log");

	assert_non_null(in);
	assert_int_equal(append_pred(log, in, "numbers", 1), 0);
	close_log(log);
	read_file(&sb, seg);
	assert_non_null(strstr(sb.buf, "\"inputs\":{\"a\":78.61,\"b\":5.0,\"c\":-0.001,\"d\":1e+20,"
				       "\"e\":0.1,\"f\":123456789.123,\"g\":0.30000000000000004,"
				       "\"h\":-0.0,\"i\":1e-300,\"j\":-17,"));
	assert_int_equal(infer_reader_open(&rd, dir, NULL, &err), 0);
	do
		assert_int_equal(infer_reader_next(rd, &e, &err), 1);
	while (strcmp(e.request_id, "numbers"));
	assert_true(json_equal(e.inputs, in));
	assert_true(json_is_real(json_object_get(e.inputs, "b")));
	infer_reader_free(rd);
	check_random_numbers(dir);
	strbuf_release(&sb);
	free(seg);
	json_decref(in);
}

static void test_fields_round_trip(void **state)
{
	char *dir = test_tmpdir();
	struct infer_log *log = open_log(dir, NULL);
	static const char *const cols[] = { "x1", "name\twith\ttabs", "x3" };
	static const char *const classes[] = { "1", "2", "10" };
	const double proba[] = { 0.1, 0.2, 0.7 };
	json_t *arr = json_loads("[1.5,\"line\\nbreak\",null]", 0, NULL);
	json_t *obj = inputs_doc();
	json_t *label = json_integer(10);
	struct infer_record r = { 0 };
	struct infer_reader *rd = NULL;
	struct infer_entry e;
	struct error err = ERROR_INIT;

	(void)state;
	assert_int_equal(append_pred(log, obj, "req-1", 1700000000123), 0);
	/* regression from an array with column names, an id with invalid UTF-8, NaN */
	r.request_id = "bad\xff\xfeid\"\n";
	r.time_ms = 1700000000456;
	r.model = "price";
	r.inputs = arr;
	r.columns = cols;
	r.n_columns = 3;
	r.value = NAN;
	r.latency_us = 9;
	assert_int_equal(infer_log_append_prediction(log, &r, &err), 0);
	/* numeric labels */
	memset(&r, 0, sizeof(r));
	r.request_id = "req-3";
	r.time_ms = 1700000000789;
	r.model = "digits";
	r.label = "10";
	r.label_is_number = true;
	r.classes = classes;
	r.probabilities = proba;
	r.n_classes = 3;
	assert_int_equal(infer_log_append_prediction(log, &r, &err), 0);
	assert_int_equal(infer_log_append_feedback(log, "req-3", label, 1700000001000, &err), 0);
	/* invalid records */
	r.request_id = "";
	assert_int_equal(infer_log_append_prediction(log, &r, &err), ERR_INVALID);
	r.request_id = "x";
	r.model = NULL;
	assert_int_equal(infer_log_append_prediction(log, &r, &err), ERR_INVALID);
	r.model = "m";
	r.inputs = arr;
	r.columns = cols;
	r.n_columns = 2;
	assert_int_equal(infer_log_append_prediction(log, &r, &err), ERR_INVALID);
	assert_int_equal(infer_log_append_feedback(log, NULL, label, 0, &err), ERR_INVALID);
	close_log(log);

	assert_int_equal(infer_reader_open(&rd, dir, NULL, &err), 0);
	assert_int_equal(infer_reader_next(rd, &e, &err), 1);
	assert_int_equal(e.kind, INFER_PREDICTION);
	assert_string_equal(e.request_id, "req-1");
	assert_int_equal(e.time_ms, 1700000000123);
	assert_string_equal(e.model, "churn");
	assert_int_equal(e.version, 3);
	assert_string_equal(e.digest, DIGEST);
	assert_int_equal(e.latency_us, 412);
	assert_true(json_equal(e.inputs, obj));
	assert_string_equal(json_string_value(json_object_get(e.output, "label")), "yes");
	assert_true(json_real_value(json_object_get(json_object_get(e.output, "probabilities"),
						    "yes")) == 0.75);
	assert_int_equal(e.segment, 1);

	assert_int_equal(infer_reader_next(rd, &e, &err), 1);
	assert_string_equal(e.request_id, "bad\xef\xbf\xbd\xef\xbf\xbdid\"\n");
	assert_string_equal(e.model, "price");
	assert_int_equal(e.version, 0);
	assert_null(e.digest);
	assert_true(json_is_null(json_object_get(e.output, "value")));
	assert_true(json_real_value(json_object_get(e.inputs, "x1")) == 1.5);
	assert_string_equal(json_string_value(json_object_get(e.inputs, "name\twith\ttabs")),
			    "line\nbreak");
	assert_true(json_is_null(json_object_get(e.inputs, "x3")));

	assert_int_equal(infer_reader_next(rd, &e, &err), 1);
	assert_int_equal(json_integer_value(json_object_get(e.output, "label")), 10);
	assert_true(json_real_value(
			json_object_get(json_object_get(e.output, "probabilities"), "10")) == 0.7);
	assert_true(json_real_value(
			json_object_get(json_object_get(e.output, "probabilities"), "1")) == 0.1);

	assert_int_equal(infer_reader_next(rd, &e, &err), 1);
	assert_int_equal(e.kind, INFER_FEEDBACK);
	assert_string_equal(e.request_id, "req-3");
	assert_int_equal(e.time_ms, 1700000001000);
	assert_true(json_equal(e.label, label));
	assert_null(e.model);

	assert_int_equal(infer_reader_next(rd, &e, &err), 0);
	infer_reader_free(rd);
	check_numbers(dir);
	json_decref(arr);
	json_decref(obj);
	json_decref(label);
	test_tmpdir_remove(dir);
}

/*
 * Typed cells (the server's path) are written by hand-checked rules, and byte for byte as the
 * same values in a jansson object are: a reader cannot tell which path wrote a record.
 */
static void test_cells(void **state)
{
	static const char *const cols[] = { "a", "b", "c", "d", "e", "f", "g", "h", "i", "j" };
	const struct infer_cell cells[] = {
		{ INFER_CELL_NUMBER, false, 78.61, NULL, 0 },
		{ INFER_CELL_NUMBER, false, 5, NULL, 0 },
		{ INFER_CELL_STRING, false, 0, "line\nbreak \"q\"", 14 },
		{ INFER_CELL_BOOL, true, 1, NULL, 0 },
		{ INFER_CELL_BOOL, false, 0, NULL, 0 },
		{ INFER_CELL_NULL, false, 0, NULL, 0 },
		{ INFER_CELL_NUMBER, false, -0.0, NULL, 0 },
		{ INFER_CELL_NUMBER, false, 0.30000000000000004, NULL, 0 },
		{ INFER_CELL_NUMBER, false, 1e20, NULL, 0 },
		{ INFER_CELL_STRING, false, 0, "bad\xff", 4 },
	};
	char *dir = test_tmpdir();
	char *seg = test_path(dir, "00000001.log");
	struct infer_log *log = open_log(dir, NULL);
	json_t *obj =
	    json_loads("{\"a\":78.61,\"b\":5.0,\"c\":\"line\\nbreak \\\"q\\\"\",\"d\":true,"
		       "\"e\":false,\"f\":null,\"g\":-0.0,\"h\":0.30000000000000004,"
		       "\"i\":1e20}",
		       0, NULL);
	struct infer_record r = { 0 };
	struct error err = ERROR_INIT;
	struct strbuf sb = STRBUF_INIT;
	const char *nl;

	(void)state;
	assert_non_null(obj);
	r.request_id = "req-cells";
	r.time_ms = 1700000000123;
	r.model = "churn";
	r.label = "yes";
	r.cells = cells;
	r.columns = cols;
	r.n_columns = 9; /* without "j", whose invalid UTF-8 jansson would refuse */
	assert_int_equal(infer_log_append_prediction(log, &r, &err), 0);
	r.cells = NULL;
	r.inputs = obj;
	assert_int_equal(infer_log_append_prediction(log, &r, &err), 0);
	r.inputs = NULL;
	r.cells = cells;
	r.n_columns = 10;
	r.request_id = "req-j";
	assert_int_equal(infer_log_append_prediction(log, &r, &err), 0);
	r.columns = NULL; /* cells need their names */
	assert_int_equal(infer_log_append_prediction(log, &r, &err), ERR_INVALID);
	close_log(log);
	read_file(&sb, seg);
	nl = strchr(sb.buf, '\n'); /* past the segment header */
	assert_non_null(nl);
	assert_non_null(
	    strstr(nl, "{\"type\":\"prediction\",\"time_ms\":1700000000123,"
		       "\"request_id\":\"req-cells\",\"model\":\"churn\",\"version\":null,"
		       "\"digest\":null,\"latency_us\":0,\"inputs\":{\"a\":78.61,\"b\":5.0,"
		       "\"c\":\"line\\u000abreak \\\"q\\\"\",\"d\":true,\"e\":false,\"f\":null,"
		       "\"g\":-0.0,\"h\":0.30000000000000004,\"i\":1e+20},"
		       "\"output\":{\"label\":\"yes\"}}\t"));
	/* the cells' line and the jansson object's line are the same bytes, checksum included */
	{
		const char *l1 = nl + 1, *l2 = strchr(l1, '\n') + 1, *l3 = strchr(l2, '\n') + 1;

		assert_int_equal(l2 - l1, l3 - l2);
		assert_memory_equal(l1, l2, (size_t)(l2 - l1));
		assert_non_null(strstr(l3, ",\"j\":\"bad\\ufffd\"},\"output\""));
	}
	strbuf_release(&sb);
	json_decref(obj);
	free(seg);
	test_tmpdir_remove(dir);
}

#define THREADS 8
#define PER_THREAD 5000

struct writer_arg {
	struct infer_log *log;
	const json_t *inputs;
	int thread;
};

static void *writer_thread(void *p)
{
	struct writer_arg *a = p;
	char id[32];

	for (int i = 0; i < PER_THREAD; i++) {
		snprintf(id, sizeof(id), "t%d-%d", a->thread, i);
		if (append_pred(a->log, a->inputs, id, 1700000000000 + i))
			return (void *)1;
	}
	return NULL;
}

/* "t<thread>-<seq>" */
static void parse_id(const char *id, int *thread, int *seq)
{
	assert_int_equal(sscanf(id, "t%d-%d", thread, seq), 2);
}

static void test_threads_round_trip(void **state)
{
	char *dir = test_tmpdir();
	struct infer_log_options o = INFER_LOG_OPTIONS_INIT;
	struct infer_log *log;
	struct writer_arg args[THREADS];
	pthread_t th[THREADS];
	int next[THREADS] = { 0 };
	json_t *inputs = inputs_doc();
	struct infer_log_stats st;
	struct got g;

	(void)state;
	o.segment_bytes = 1 << 20;
	o.flush_ms = 5;
	log = open_log(dir, &o);
	for (int t = 0; t < THREADS; t++) {
		args[t] = (struct writer_arg){ log, inputs, t };
		assert_int_equal(pthread_create(&th[t], NULL, writer_thread, &args[t]), 0);
	}
	for (int t = 0; t < THREADS; t++) {
		void *ret;

		assert_int_equal(pthread_join(th[t], &ret), 0);
		assert_null(ret);
	}
	close_log(log);

	read_log(&g, dir, 0, 0);
	assert_int_equal(g.nr, THREADS * PER_THREAD);
	for (size_t i = 0; i < g.nr; i++) {
		int t, seq;

		parse_id(g.ids[i], &t, &seq);
		assert_true(t >= 0 && t < THREADS);
		/* exactly once and in the thread's order */
		assert_int_equal(seq, next[t]);
		next[t]++;
	}
	assert_int_equal(g.st.bad_lines, 0);
	assert_int_equal(g.st.torn_bytes, 0);
	assert_true(g.st.segments > 1);
	got_release(&g);

	/* stats after reopening describe the new session only */
	log = open_log(dir, &o);
	infer_log_stats(log, &st);
	assert_int_equal(st.appended, 0);
	assert_int_equal(st.recovered_torn_bytes, 0);
	close_log(log);
	json_decref(inputs);
	test_tmpdir_remove(dir);
}

static void check_caps(const char *dir, uint64_t segment_bytes, uint64_t max_bytes)
{
	uint64_t sizes[64], total = 0;
	char names[64][16];
	size_t n = segment_sizes(dir, sizes, 64, names);

	for (size_t i = 0; i < n; i++) {
		assert_true(sizes[i] <= segment_bytes);
		total += sizes[i];
	}
	assert_true(total <= max_bytes);
}

static void test_rotation_and_cap(void **state)
{
	char *dir = test_tmpdir();
	struct infer_log_options o = INFER_LOG_OPTIONS_INIT;
	struct infer_log *log;
	json_t *inputs = inputs_doc();
	struct infer_log_stats st;
	struct error err = ERROR_INIT;
	struct got g;
	char id[32];
	int first = -1;

	(void)state;
	o.segment_bytes = 4096;
	o.max_bytes = 16384;
	log = open_log(dir, &o);
	for (int i = 0; i < 2000; i++) {
		snprintf(id, sizeof(id), "t0-%d", i);
		assert_int_equal(append_pred(log, inputs, id, 1000 + i), 0);
		if (i % 100 == 99) {
			assert_int_equal(infer_log_flush(log, &err), 0);
			check_caps(dir, o.segment_bytes, o.max_bytes);
		}
	}
	infer_log_stats(log, &st);
	close_log(log);
	assert_int_equal(st.appended, 2000);
	assert_int_equal(st.written, 2000);
	assert_true(st.segments_created > 100);
	assert_true(st.segments_deleted > 90);
	assert_true(st.segments_created - st.segments_deleted <= 5);
	check_caps(dir, o.segment_bytes, o.max_bytes);

	/* what is left is the newest records, contiguous */
	read_log(&g, dir, 0, 0);
	assert_true(g.nr > 30 && g.nr < 2000);
	parse_id(g.ids[0], &(int){ 0 }, &first);
	for (size_t i = 0; i < g.nr; i++) {
		int t, seq;

		parse_id(g.ids[i], &t, &seq);
		assert_int_equal(seq, first + (int)i);
	}
	assert_int_equal(first + (int)g.nr, 2000);
	assert_int_equal(g.st.bad_lines, 0);
	got_release(&g);

	/* all at once: one batch cut into segments */
	log = open_log(dir, &o);
	for (int i = 0; i < 500; i++)
		assert_int_equal(append_pred(log, inputs, "t1-0", 5000 + i), 0);
	close_log(log);
	check_caps(dir, o.segment_bytes, o.max_bytes);

	/* a smaller cap at reopen applies at once */
	o.max_bytes = 8192;
	log = open_log(dir, &o);
	check_caps(dir, o.segment_bytes, o.max_bytes);
	close_log(log);
	json_decref(inputs);
	test_tmpdir_remove(dir);
}

/* The one segment of dir. */
static char *only_segment(const char *dir)
{
	uint64_t sizes[4];
	char names[4][16];

	assert_int_equal(segment_sizes(dir, sizes, 4, names), 1);
	return test_path(dir, names[0]);
}

static void test_torn_tail(void **state)
{
	char *dir = test_tmpdir();
	struct infer_log_options o = INFER_LOG_OPTIONS_INIT;
	struct infer_log *log;
	json_t *inputs = inputs_doc();
	struct strbuf orig = STRBUF_INIT, now = STRBUF_INIT;
	struct infer_log_stats st;
	struct got g;
	char *seg;
	char id[32];
	size_t last;

	(void)state;
	o.flush_ms = 1;
	log = open_log(dir, &o);
	for (int i = 0; i < 20; i++) {
		snprintf(id, sizeof(id), "t0-%d", i);
		assert_int_equal(append_pred(log, inputs, id, 1000 + i), 0);
	}
	close_log(log);
	seg = only_segment(dir);
	read_file(&orig, seg);
	assert_true(orig.len > 20 * 300);
	for (last = orig.len - 1; orig.buf[last - 1] != '\n'; last--)
		;

	for (size_t cut = last; cut < orig.len; cut++) {
		write_bytes(seg, orig.buf, cut);
		read_log(&g, dir, 0, 0);
		assert_int_equal(g.nr, 19);
		assert_string_equal(g.ids[18], "t0-18");
		assert_int_equal(g.st.torn_bytes, cut - last);
		assert_int_equal(g.st.bad_lines, 0);
		got_release(&g);

		/* the writer cuts the torn line and appends after the last whole one */
		log = open_log(dir, &o);
		infer_log_stats(log, &st);
		assert_int_equal(st.recovered_torn_bytes, cut - last);
		assert_int_equal(append_pred(log, inputs, "t0-19", 2000), 0);
		close_log(log);
		read_file(&now, seg);
		assert_int_equal(now.len, orig.len);
		assert_memory_equal(now.buf, orig.buf, last);
		read_log(&g, dir, 0, 0);
		assert_int_equal(g.nr, 20);
		assert_string_equal(g.ids[19], "t0-19");
		assert_int_equal(g.st.torn_bytes, 0);
		got_release(&g);
	}
	free(seg);
	strbuf_release(&orig);
	strbuf_release(&now);
	json_decref(inputs);
	test_tmpdir_remove(dir);
}

/* Offset of the start of line k (0 = the header) of buf. */
static size_t line_start(const struct strbuf *sb, int k)
{
	size_t off = 0;

	while (k-- > 0) {
		const char *nl = memchr(sb->buf + off, '\n', sb->len - off);

		assert_non_null(nl);
		off = (size_t)(nl - sb->buf) + 1;
	}
	return off;
}

static void test_corrupt_middle(void **state)
{
	char *dir = test_tmpdir();
	struct infer_log *log = open_log(dir, NULL);
	json_t *inputs = inputs_doc();
	struct strbuf sb = STRBUF_INIT;
	static const int expect[] = { 0, 1, 4, 6, 8, 9 };
	struct got g;
	size_t ls[10], bad_bytes;
	char *seg;
	char id[32];

	(void)state;
	for (int i = 0; i < 10; i++) {
		snprintf(id, sizeof(id), "t0-%d", i);
		assert_int_equal(append_pred(log, inputs, id, 1000 + i), 0);
	}
	close_log(log);
	seg = only_segment(dir);
	read_file(&sb, seg);
	/* record i is line i + 1 */
	for (int k = 0; k < 10; k++)
		ls[k] = line_start(&sb, k);
	sb.buf[ls[6] + 40] ^= 0x01; /* a flipped bit in record 5 */
	sb.buf[ls[9] - 3] = 'g';    /* a checksum of record 7 that is not hex */
	sb.buf[ls[4] - 1] = ' ';    /* records 2 and 3 run together */
	bad_bytes = (ls[5] - ls[3]) + (ls[7] - ls[6]) + (ls[9] - ls[8]);
	write_bytes(seg, sb.buf, sb.len);

	read_log(&g, dir, 0, 0);
	assert_int_equal(g.nr, ARRAY_SIZE(expect));
	for (size_t i = 0; i < g.nr; i++) {
		int t, seq;

		parse_id(g.ids[i], &t, &seq);
		assert_int_equal(seq, expect[i]);
	}
	assert_int_equal(g.st.bad_lines, 3);
	assert_int_equal(g.st.bad_bytes, bad_bytes);
	assert_int_equal(g.st.torn_bytes, 0);
	got_release(&g);
	free(seg);
	strbuf_release(&sb);
	json_decref(inputs);
	test_tmpdir_remove(dir);
}

/* A line longer than INFER_LOG_MAX_LINE is skipped as bad, terminated or not. */
static void test_overlong_line(void **state)
{
	char *dir = test_tmpdir();
	struct infer_log *log = open_log(dir, NULL);
	json_t *inputs = inputs_doc();
	struct strbuf sb = STRBUF_INIT, junk = STRBUF_INIT, rec = STRBUF_INIT;
	char *seg, *seg2;
	size_t junk_len = INFER_LOG_MAX_LINE + 12345;
	struct got g;

	(void)state;
	assert_int_equal(append_pred(log, inputs, "t0-0", 1), 0);
	close_log(log);
	seg = only_segment(dir);
	read_file(&sb, seg);
	strbuf_addchars(&junk, 'x', junk_len);
	strbuf_addch(&junk, '\n');
	/* header, record, junk line, the record again, junk without an end */
	strbuf_add(&rec, sb.buf + line_start(&sb, 1), line_start(&sb, 2) - line_start(&sb, 1));
	strbuf_insert_at(&sb, line_start(&sb, 2), junk.buf, junk.len);
	strbuf_addbuf(&sb, &rec);
	strbuf_add(&sb, junk.buf, junk_len);
	write_bytes(seg, sb.buf, sb.len);
	read_log(&g, dir, 0, 0);
	assert_int_equal(g.nr, 2);
	assert_int_equal(g.st.bad_lines, 1);
	assert_int_equal(g.st.bad_bytes, junk_len + 1);
	assert_int_equal(g.st.torn_bytes, junk_len);
	got_release(&g);
	/* the same at the end of the newest segment: the writer cuts it */
	seg2 = test_path(dir, "00000002.log");
	write_bytes(seg2, junk.buf, junk_len);
	log = open_log(dir, NULL);
	close_log(log);
	assert_int_not_equal(access(seg2, F_OK), 0);
	free(seg2);
	free(seg);
	strbuf_release(&sb);
	strbuf_release(&junk);
	strbuf_release(&rec);
	json_decref(inputs);
	test_tmpdir_remove(dir);
}

static void test_buffer_cap_drops(void **state)
{
	char *dir = test_tmpdir();
	struct infer_log_options o = INFER_LOG_OPTIONS_INIT;
	struct infer_log *log;
	json_t *inputs = inputs_doc();
	struct infer_log_stats st;
	struct got g;
	int ok = 0, dropped = 0;
	char id[32];

	(void)state;
	/* a writer that never wakes by itself: the disk "does not keep up" */
	o.flush_ms = 3600 * 1000;
	o.flush_bytes = 1ull << 40;
	o.buffer_bytes = 64 << 10;
	log = open_log(dir, &o);
	for (int i = 0; i < 1000; i++) {
		int rc;

		snprintf(id, sizeof(id), "t0-%d", i);
		rc = append_pred(log, inputs, id, 1000 + i);
		assert_true(rc == 0 || rc == ERR_TOOBIG);
		if (rc == 0) {
			assert_int_equal(dropped, 0); /* once full, it stays full */
			ok++;
		} else {
			dropped++;
		}
	}
	infer_log_stats(log, &st);
	assert_true(ok > 100 && dropped > 0);
	assert_int_equal(st.appended, ok);
	assert_int_equal(st.dropped_full, dropped);
	assert_int_equal(st.written, 0);
	assert_true(st.buffered_bytes <= o.buffer_bytes);
	assert_true(st.buffered_bytes > o.buffer_bytes - 1000);

	/* nothing is on disk until the close, which writes everything taken */
	read_log(&g, dir, 0, 0);
	assert_int_equal(g.nr, 0);
	got_release(&g);
	close_log(log);
	read_log(&g, dir, 0, 0);
	assert_int_equal(g.nr, ok);
	snprintf(id, sizeof(id), "t0-%d", ok - 1);
	assert_string_equal(g.ids[ok - 1], id);
	got_release(&g);
	json_decref(inputs);
	test_tmpdir_remove(dir);
}

static void test_flush_and_close(void **state)
{
	char *dir = test_tmpdir();
	struct infer_log_options o = INFER_LOG_OPTIONS_INIT;
	struct infer_log *log;
	json_t *inputs = inputs_doc();
	struct error err = ERROR_INIT;
	struct infer_log_stats st;
	struct got g;

	(void)state;
	o.flush_ms = 3600 * 1000;
	log = open_log(dir, &o);
	for (int i = 0; i < 50; i++)
		assert_int_equal(append_pred(log, inputs, "t0-0", 1000 + i), 0);
	assert_int_equal(infer_log_flush(log, &err), 0);
	read_log(&g, dir, 0, 0);
	assert_int_equal(g.nr, 50);
	got_release(&g);
	for (int i = 0; i < 70; i++)
		assert_int_equal(append_pred(log, inputs, "t0-0", 2000 + i), 0);
	infer_log_stats(log, &st);
	assert_int_equal(st.written, 50);
	close_log(log);
	read_log(&g, dir, 0, 0);
	assert_int_equal(g.nr, 120);
	assert_int_equal(g.times[119], 2069);
	got_release(&g);
	assert_int_equal(infer_log_close(NULL, &err), 0);
	json_decref(inputs);
	test_tmpdir_remove(dir);
}

static void test_too_big_and_options(void **state)
{
	char *dir = test_tmpdir();
	struct infer_log_options o = INFER_LOG_OPTIONS_INIT;
	struct infer_log *log = NULL;
	struct infer_log_stats st;
	struct error err = ERROR_INIT;
	struct strbuf big = STRBUF_INIT;
	json_t *inputs;

	(void)state;
	o.segment_bytes = 1000;
	assert_int_equal(infer_log_open(&log, dir, &o, &err), ERR_INVALID);
	o.segment_bytes = 8192;
	o.max_bytes = 4096;
	assert_int_equal(infer_log_open(&log, dir, &o, &err), ERR_INVALID);
	assert_null(log);
	o.max_bytes = 0;
	log = open_log(dir, &o);
	strbuf_addchars(&big, 'x', 9000);
	inputs = json_pack("{ss}", "text", big.buf);
	assert_int_equal(append_pred(log, inputs, "t0-0", 1), ERR_TOOBIG);
	infer_log_stats(log, &st);
	assert_int_equal(st.dropped_toobig, 1);
	assert_int_equal(st.appended, 0);
	close_log(log);
	json_decref(inputs);
	strbuf_release(&big);
	test_tmpdir_remove(dir);
}

static void test_lock_conflict(void **state)
{
	char *dir = test_tmpdir();
	struct infer_log *log = open_log(dir, NULL), *other = NULL;
	struct error err = ERROR_INIT;

	(void)state;
	assert_int_equal(infer_log_open(&other, dir, NULL, &err), ERR_CONFLICT);
	assert_null(other);
	assert_non_null(strstr(err.msg, "another process"));
	close_log(log);
	log = open_log(dir, NULL);
	close_log(log);
	test_tmpdir_remove(dir);
}

static void test_since_and_last_n(void **state)
{
	char *dir = test_tmpdir();
	struct infer_log_options o = INFER_LOG_OPTIONS_INIT;
	struct infer_log *log;
	json_t *inputs = inputs_doc();
	struct error err = ERROR_INIT;
	static const uint64_t ns[] = { 1, 2, 7, 100, 999, 1000, 1001, 5000 };
	int64_t times[1000];
	struct got g;
	char id[32];
	uint64_t all_segments;
	size_t want;

	(void)state;
	o.segment_bytes = 4096;
	o.max_bytes = 1 << 30;
	log = open_log(dir, &o);
	for (int i = 0; i < 1000; i++) {
		/* roughly in time order: every 7th record started 50 ms before its neighbours */
		times[i] = 100000 + i * 10 - (i % 7 == 3 ? 50 : 0);
		snprintf(id, sizeof(id), "t0-%d", i);
		if (i == 500)
			assert_int_equal(
			    infer_log_append_feedback(log, "t0-1", NULL, times[i], &err), 0);
		else
			assert_int_equal(append_pred(log, inputs, id, times[i]), 0);
		if (i % 10 == 9)
			assert_int_equal(infer_log_flush(log, &err), 0);
	}
	close_log(log);
	read_log(&g, dir, 0, 0);
	all_segments = g.st.segments;
	assert_true(all_segments > 50);
	got_release(&g);

	for (int64_t since = 100000; since <= 110100; since += 1235) {
		size_t k = 0;

		read_log(&g, dir, since, 0);
		for (int i = 0; i < 1000; i++) {
			if (times[i] < since)
				continue;
			assert_true(k < g.nr);
			assert_int_equal(g.times[k], times[i]);
			assert_int_equal(g.kinds[k], i == 500 ? INFER_FEEDBACK : INFER_PREDICTION);
			k++;
		}
		assert_int_equal(k, g.nr);
		/* whole segments before the time were skipped */
		if (since > 105000)
			assert_true(g.st.segments < all_segments * 6 / 10);
		got_release(&g);
	}

	for (size_t j = 0; j < ARRAY_SIZE(ns); j++) {
		uint64_t n = ns[j] < 1000 ? ns[j] : 1000;

		read_log(&g, dir, 0, ns[j]);
		assert_int_equal(g.nr, n);
		for (size_t k = 0; k < g.nr; k++)
			assert_int_equal(g.times[k], times[1000 - n + k]);
		if (ns[j] <= 7)
			assert_true(g.st.segments <= 2);
		got_release(&g);
	}
	/* both: the last 100, of which those from a time */
	want = 0;
	for (int i = 900; i < 1000; i++)
		want += times[i] >= times[950];
	read_log(&g, dir, times[950], 100);
	assert_int_equal(g.nr, want);
	got_release(&g);
	json_decref(inputs);
	test_tmpdir_remove(dir);
}

/* A segment left empty or torn by a crash just after its creation is dropped at open. */
static void test_crash_leftovers(void **state)
{
	char *dir = test_tmpdir();
	struct infer_log *log = open_log(dir, NULL);
	json_t *inputs = inputs_doc();
	struct infer_reader *rd = NULL;
	struct error err = ERROR_INIT;
	char *p2, *p3;
	struct got g;

	(void)state;
	assert_int_equal(infer_reader_open(&rd, "/nonexistent/ferry-infer", NULL, &err),
			 ERR_NOTFOUND);
	read_log(&g, dir, 0, 5); /* an empty log */
	assert_int_equal(g.nr, 0);
	got_release(&g);
	assert_int_equal(append_pred(log, inputs, "t0-0", 1000), 0);
	close_log(log);
	p2 = test_path(dir, "00000002.log");
	p3 = test_path(dir, "00000003.log");
	test_write_file(p2, "");
	test_write_file(p3, "{\"type\":\"segm");
	read_log(&g, dir, 0, 0);
	assert_int_equal(g.nr, 1);
	assert_int_equal(g.st.torn_bytes, 13);
	got_release(&g);

	log = open_log(dir, NULL);
	assert_int_equal(append_pred(log, inputs, "t0-1", 2000), 0);
	close_log(log);
	assert_int_not_equal(access(p2, F_OK), 0);
	assert_int_not_equal(access(p3, F_OK), 0);
	read_log(&g, dir, 0, 0);
	assert_int_equal(g.nr, 2);
	assert_string_equal(g.ids[1], "t0-1");
	assert_int_equal(g.st.torn_bytes, 0);
	assert_int_equal(g.st.segments, 1);
	got_release(&g);
	free(p2);
	free(p3);
	json_decref(inputs);
	test_tmpdir_remove(dir);
}

/* ---- concurrency and crashes -------------------------------------------------------------- */

struct bg_writer {
	struct infer_log *log;
	const json_t *inputs;
	int n;
};

static void *bg_write(void *p)
{
	struct bg_writer *w = p;
	char id[32];

	for (int i = 0; i < w->n; i++) {
		snprintf(id, sizeof(id), "t0-%d", i);
		if (append_pred(w->log, w->inputs, id, 1000 + i))
			return (void *)1;
		if (i % 200 == 0)
			usleep(1000); /* a request rate the readers can watch grow */
	}
	return NULL;
}

static void assert_prefix(const struct got *g)
{
	for (size_t i = 0; i < g->nr; i++) {
		int t, seq;

		parse_id(g->ids[i], &t, &seq);
		assert_int_equal(seq, (int)i);
	}
	assert_int_equal(g->st.bad_lines, 0);
}

static void test_reader_while_writing(void **state)
{
	char *dir = test_tmpdir();
	struct infer_log_options o = INFER_LOG_OPTIONS_INIT;
	json_t *inputs = inputs_doc();
	struct bg_writer w;
	pthread_t th;
	struct got g;
	void *ret;
	int reads = 0;
	size_t seen = 0;

	(void)state;
	o.segment_bytes = 64 << 10; /* ~140 rotations under the readers' feet */
	o.flush_ms = 1;
	w = (struct bg_writer){ open_log(dir, &o), inputs, 20000 };
	assert_int_equal(pthread_create(&th, NULL, bg_write, &w), 0);
	while (seen < 20000 && reads < 100000) {
		read_log(&g, dir, 0, 0);
		assert_true(g.nr >= seen);
		assert_prefix(&g);
		seen = g.nr;
		reads++;
		got_release(&g);
	}
	assert_int_equal(pthread_join(th, &ret), 0);
	assert_null(ret);
	close_log(w.log);
	read_log(&g, dir, 0, 0);
	assert_int_equal(g.nr, 20000);
	assert_prefix(&g);
	assert_true(g.st.segments > 100);
	got_release(&g);
	print_message("%d reads while writing\n", reads);
	json_decref(inputs);
	test_tmpdir_remove(dir);
}

static _Noreturn void crash_child(const char *dir)
{
	struct infer_log_options o = INFER_LOG_OPTIONS_INIT;
	struct infer_log *log = NULL;
	struct error err = ERROR_INIT;
	json_t *inputs = inputs_doc();
	char id[32];

	/* cmocka's handlers would carry on with the next test in this process */
	signal(SIGSEGV, SIG_DFL);
	signal(SIGBUS, SIG_DFL);
	signal(SIGILL, SIG_DFL);
	signal(SIGFPE, SIG_DFL);
	signal(SIGABRT, SIG_DFL);
	o.segment_bytes = 256 << 10;
	o.flush_ms = 2;
	if (infer_log_open(&log, dir, &o, &err))
		_exit(2);
	for (long i = 0;; i++) {
		snprintf(id, sizeof(id), "t0-%ld", i);
		/* a full buffer drops: retry, so that the records taken have no gaps */
		while (append_pred(log, inputs, id, 1000 + i) == ERR_TOOBIG)
			usleep(100);
	}
}

/*
 * What a power loss can add to a kill: the newest segment cut at any byte (pages not yet
 * written back). Returns how many records are still read, which must be a prefix.
 */
static size_t power_loss(const char *dir, size_t before)
{
	uint64_t sizes[1024];
	char names[1024][16];
	size_t n = segment_sizes(dir, sizes, 1024, names);
	char *path = test_path(dir, names[n - 1]);
	off_t cut = (off_t)((uint64_t)rand() % (sizes[n - 1] + 1));
	struct got g;

	assert_int_equal(truncate(path, cut), 0);
	read_log(&g, dir, 0, 0);
	assert_true(g.nr <= before);
	assert_prefix(&g);
	print_message("cut %s at %jd of %" PRIu64 ": %zu records, %" PRIu64 " torn bytes\n",
		      names[n - 1], (intmax_t)cut, sizes[n - 1], g.nr, g.st.torn_bytes);
	before = g.nr;
	got_release(&g);
	free(path);
	return before;
}

/* Waits (up to 60 s: sanitizer builds start slowly) until the child's first records are on disk. */
static void wait_for_records(const char *dir)
{
	char *seg = test_path(dir, "00000001.log");
	struct stat st;

	for (int i = 0; i < 60000; i++) {
		if (!stat(seg, &st) && st.st_size > INFER_LOG_HEADER_MAX)
			break;
		usleep(1000);
	}
	free(seg);
}

static void test_crash_sigkill(void **state)
{
	unsigned seed = (unsigned)time(NULL) ^ (unsigned)getpid();

	(void)state;
	print_message("crash test seed %u\n", seed);
	srand(seed);
	for (int round = 0; round < 6; round++) {
		char *dir = test_tmpdir();
		json_t *inputs = inputs_doc();
		struct infer_log *log;
		struct infer_log_stats st;
		struct got g;
		int status;
		size_t before;
		pid_t pid = fork();

		assert_true(pid >= 0);
		if (pid == 0)
			crash_child(dir);
		wait_for_records(dir);
		usleep((useconds_t)(rand() % 250000));
		assert_int_equal(kill(pid, SIGKILL), 0);
		assert_int_equal(waitpid(pid, &status, 0), pid);
		if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL)
			fail_msg("the writer child ended by itself: status %#x", status);

		read_log(&g, dir, 0, 0);
		assert_true(g.nr > 0);
		assert_prefix(&g);
		before = g.nr;
		print_message("killed after %zu records in %" PRIu64 " segments, %" PRIu64
			      " torn bytes\n",
			      g.nr, g.st.segments, g.st.torn_bytes);
		got_release(&g);
		if (round % 2)
			before = power_loss(dir, before);

		log = open_log(dir, NULL);
		assert_int_equal(append_pred(log, inputs, "after", 1), 0);
		infer_log_stats(log, &st);
		assert_int_equal(st.written + st.lost_io, 0);
		close_log(log);
		read_log(&g, dir, 0, 0);
		assert_int_equal(g.nr, before + 1);
		assert_string_equal(g.ids[before], "after");
		assert_int_equal(g.st.torn_bytes, 0);
		assert_int_equal(g.st.bad_lines, 0);
		got_release(&g);
		json_decref(inputs);
		test_tmpdir_remove(dir);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crc32c),
		cmocka_unit_test(test_fields_round_trip),
		cmocka_unit_test(test_cells),
		cmocka_unit_test(test_threads_round_trip),
		cmocka_unit_test(test_rotation_and_cap),
		cmocka_unit_test(test_torn_tail),
		cmocka_unit_test(test_corrupt_middle),
		cmocka_unit_test(test_overlong_line),
		cmocka_unit_test(test_buffer_cap_drops),
		cmocka_unit_test(test_flush_and_close),
		cmocka_unit_test(test_too_big_and_options),
		cmocka_unit_test(test_lock_conflict),
		cmocka_unit_test(test_since_and_last_n),
		cmocka_unit_test(test_crash_leftovers),
		cmocka_unit_test(test_reader_while_writing),
		cmocka_unit_test(test_crash_sigkill),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
