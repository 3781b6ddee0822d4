/*
 * Unit tests for table/csv (the RFC 4180 reader: every quoting case, positions, every error
 * message) and table/number (exact agreement with strtod).
 */
#include "util/common.h"
#include "helpers.h"
#include "table/csv.h"
#include "table/number.h"
#include "table/table_internal.h"
#include "util/strbuf.h"

#include <fcntl.h>
#include <locale.h>
#include <math.h>

/* "[a][b]\n[1][2]\n..." for the header and every record, or "ERR:<message>". */
static char *dump_buffer(const char *data, size_t len, int positions)
{
	struct strbuf sb = STRBUF_INIT;
	struct csv_reader *r = NULL;
	struct error err = ERROR_INIT;
	const struct csv_field *f;
	int rc = csv_open_buffer(&r, "t.csv", data, len, &err);

	if (!rc) {
		for (size_t j = 0; j < csv_ncols(r); j++)
			strbuf_addf(&sb, "[%s]", csv_column_names(r)[j]);
		strbuf_addch(&sb, '\n');
	}
	while (rc >= 0 && (rc = csv_next(&f, r, &err)) == 1) {
		for (size_t j = 0; j < csv_ncols(r); j++) {
			assert_int_equal(strlen(f[j].str), f[j].len);
			strbuf_addf(&sb, "[%s]", f[j].str);
			if (positions)
				strbuf_addf(&sb, "@%" PRIu64 ":%" PRIu32 "%s", f[j].line, f[j].col,
					    f[j].quoted ? "q" : "");
		}
		strbuf_addch(&sb, '\n');
	}
	if (rc < 0) {
		strbuf_reset(&sb);
		strbuf_addf(&sb, "ERR:%s", err.msg);
		assert_int_equal(err.code, rc);
	}
	csv_free(r);
	return strbuf_detach(&sb, NULL);
}

/*
 * The same result with the normal read buffer and with tiny ones, where every record is cut by
 * refills at every possible byte (a CRLF split between reads, a quote pair, a UTF-8 sequence).
 */
static void check_len_pos(const char *data, size_t len, int positions, const char *expected)
{
	static const size_t sizes[] = { CSV_BUFFER_SIZE, 1, 2, 3, 4, 5, 7, 16 };

	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		char *got;

		csv_buffer_size = sizes[i];
		got = dump_buffer(data, len, positions);
		csv_buffer_size = CSV_BUFFER_SIZE;
		if (strcmp(got, expected))
			fail_msg("with a %zu-byte buffer:\n%s\ninstead of\n%s", sizes[i], got,
				 expected);
		free(got);
	}
}

static void check(const char *data, const char *expected)
{
	check_len_pos(data, strlen(data), 0, expected);
}

static void check_pos(const char *data, const char *expected)
{
	check_len_pos(data, strlen(data), 1, expected);
}

static void check_len(const char *data, size_t len, const char *expected)
{
	check_len_pos(data, len, 0, expected);
}

static void test_line_endings(void **state)
{
	(void)state;
	check("a,b\n1,2\n3,4\n", "[a][b]\n[1][2]\n[3][4]\n");
	check("a,b\r\n1,2\r\n3,4\r\n", "[a][b]\n[1][2]\n[3][4]\n");
	check("a,b\n1,2\r\n3,4", "[a][b]\n[1][2]\n[3][4]\n");
	check("a,b\n1,", "[a][b]\n[1][]\n");
	check("a,b\n1,\r\n", "[a][b]\n[1][]\n");
	check("a", "[a]\n");
}

static void test_quoting(void **state)
{
	(void)state;
	check("\"a\",\"b\"\n\"x,y\",\"he said \"\"hi\"\"\"\n", "[a][b]\n[x,y][he said \"hi\"]\n");
	check("a,b\n\"\"\"\",\"\"\"\"\"\"\n", "[a][b]\n[\"][\"\"]\n");
	check("a,b\n\"\",\"\"\n", "[a][b]\n[][]\n");
	check("a,b\n\"1\",2\r\n\"3\",\"4\"", "[a][b]\n[1][2]\n[3][4]\n");
	check("a,b\n\" x \", y \n", "[a][b]\n[ x ][ y ]\n");
	check("a,b,c\n,,\n", "[a][b][c]\n[][][]\n");
	check("a\n\"\"\n", "[a]\n[]\n");
}

static void test_embedded_newlines(void **state)
{
	(void)state;
	check_pos("a,b\n\"line1\nline2\",\"x\r\ny\"\n3,4\n",
		  "[a][b]\n[line1\nline2]@2:1q[x\r\ny]@3:8q\n[3]@5:1[4]@5:3\n");
	check("a\n\"\n\n\"\n", "[a]\n[\n\n]\n");
}

static void test_bom_and_blank_lines(void **state)
{
	(void)state;
	check_pos("\xEF\xBB\xBF"
		  "a,b\n1,2\n",
		  "[a][b]\n[1]@2:1[2]@2:3\n");
	check_pos("\n\na,b\n\n1,2\r\n\r\n\n3,4\n\n\n", "[a][b]\n[1]@5:1[2]@5:3\n[3]@8:1[4]@8:3\n");
	check("\xEF\xBB\xBF\n\na\n1\n", "[a]\n[1]\n");
	/* the BOM only counts at the very start */
	check("a\n\xEF\xBB\xBF\n", "[a]\n[\xEF\xBB\xBF]\n");
}

static void test_utf8(void **state)
{
	(void)state;
	check_pos("名前,çà\n\"日本\",é\n", "[名前][çà]\n[日本]@2:1q[é]@2:6\n");
	check("mean radius,od280/od315_of_diluted_wines,sepal length (cm)\n1,2,3\n",
	      "[mean radius][od280/od315_of_diluted_wines][sepal length (cm)]\n[1][2][3]\n");
	/* columns count characters, not bytes */
	check("é,b\n日本,\"y\"z\n", "ERR:t.csv:2:7: expected a comma or a line end after a closing "
				    "quote, got 'z' in column 'b'");
}

static void test_header_errors(void **state)
{
	(void)state;
	check("", "ERR:t.csv: empty file, expected a header row");
	check("\n\r\n\n", "ERR:t.csv: empty file, expected a header row");
	check("\xEF\xBB\xBF", "ERR:t.csv: empty file, expected a header row");
	check("a,b\n", "[a][b]\n");
	check("a,b,a\n1,2,3\n", "ERR:t.csv:1:5: duplicate column name 'a' (also column 1)");
	check("x,a,b,a,b\n", "ERR:t.csv:1:7: duplicate column name 'a' (also column 2)");
	check("\"a\",a\n", "ERR:t.csv:1:5: duplicate column name 'a' (also column 1)");
	check("a,,b\n", "ERR:t.csv:1:3: empty column name (column 2)");
	check("a,\"\"\n", "ERR:t.csv:1:3: empty column name (column 2)");
	check(",a\n", "ERR:t.csv:1:1: empty column name (column 1)");
	check("a,\"b\n", "ERR:t.csv:1:3: unterminated quoted field");
	check("a\xc3,b\n", "ERR:t.csv:1:2: invalid UTF-8");
}

static void test_ragged(void **state)
{
	(void)state;
	check("a,b\n1,2\n3,4,5\n",
	      "ERR:t.csv:3:5: expected 2 fields, got 3 (an extra field after column 'b')");
	check("a,b\n3,4,5,6\n",
	      "ERR:t.csv:2:5: expected 2 fields, got 4 (an extra field after column 'b')");
	check("a,b,c\n1,2\n",
	      "ERR:t.csv:2:4: expected 3 fields, got 2 (the row ends before column 'c')");
	check("a,b,c\n1,2",
	      "ERR:t.csv:2:4: expected 3 fields, got 2 (the row ends before column 'c')");
	check("a,b,c\n\"x\ny\",2\r\n",
	      "ERR:t.csv:3:5: expected 3 fields, got 2 (the row ends before column 'c')");
	check("a\n1,2\n",
	      "ERR:t.csv:2:3: expected 1 fields, got 2 (an extra field after column 'a')");
}

static void test_quote_errors(void **state)
{
	(void)state;
	check("a,b\n1,\"abc\n", "ERR:t.csv:2:3: unterminated quoted field in column 'b'");
	check("a,b\n1,2\n\"x\n\ny,\n", "ERR:t.csv:3:1: unterminated quoted field in column 'a'");
	check("a,b\n\"x\"y,2\n", "ERR:t.csv:2:4: expected a comma or a line end after a closing "
				 "quote, got 'y' in column 'a'");
	check("a,b\n\"x\" ,2\n", "ERR:t.csv:2:4: expected a comma or a line end after a closing "
				 "quote, got ' ' in column 'a'");
	check("a,b\n1,x\"y\n", "ERR:t.csv:2:4: quote in an unquoted field in column 'b' (quote "
			       "the whole field and double the quotes inside)");
	check("a,b\n1, \"y\"\n", "ERR:t.csv:2:4: quote in an unquoted field in column 'b' (quote "
				 "the whole field and double the quotes inside)");
}

static void test_byte_errors(void **state)
{
	(void)state;
	check("a,b\n1\r,2\n", "ERR:t.csv:2:2: carriage return not followed by a line feed in "
			      "column 'a'");
	check("a,b\n1,\"2\"\r3\n", "ERR:t.csv:2:6: carriage return not followed by a line feed "
				   "in column 'b'");
	check("a,b\r\r\n", "ERR:t.csv:1:4: carriage return not followed by a line feed");
	check_len("a,b\n1,x\0y\n", 10, "ERR:t.csv:2:4: NUL byte in column 'b'");
	check_len("a,b\n1,\"\0\"\n", 10, "ERR:t.csv:2:4: NUL byte in column 'b'");
	check("a,b\n1,\xff\n", "ERR:t.csv:2:3: invalid UTF-8 in column 'b'");
	check("a,b\n\xc0\x80,1\n", "ERR:t.csv:2:1: invalid UTF-8 in column 'a'"); /* overlong */
	check("a,b\n1,\xed\xa0\x80\n",
	      "ERR:t.csv:2:3: invalid UTF-8 in column 'b'"); /* surrogate */
	check("a,b\n1,\xf4\x90\x80\x80\n", "ERR:t.csv:2:3: invalid UTF-8 in column 'b'");
	check("a\n\"é\xff\"\n", "ERR:t.csv:2:3: invalid UTF-8 in column 'a'");
	check("a\nx\xe2\x82", "ERR:t.csv:2:2: invalid UTF-8 in column 'a'"); /* cut at EOF */
	check("a\n\xf0\x9f\x98\x80,\n",
	      "ERR:t.csv:2:3: expected 1 fields, got 2 (an extra field after column 'a')");
}

static void test_sticky_error(void **state)
{
	struct csv_reader *r = NULL;
	struct error err = ERROR_INIT;
	const struct csv_field *f;
	const char *data = "a,b\n1,2\n3\n4,5\n";

	(void)state;
	assert_int_equal(csv_open_buffer(&r, "t.csv", data, strlen(data), &err), 0);
	assert_int_equal(csv_next(&f, r, &err), 1);
	assert_int_equal(csv_next(&f, r, &err), ERR_INVALID);
	error_clear(&err);
	assert_int_equal(csv_next(&f, r, &err), ERR_INVALID);
	assert_string_equal(err.msg,
			    "t.csv:3:2: expected 2 fields, got 1 (the row ends before column 'b')");
	assert_int_equal(csv_rows_read(r), 1);
	csv_free(r);
}

/* Record i of the generated file: plain, quoted with commas, quotes and newlines, UTF-8. */
static void gen_record(struct strbuf *csv, struct strbuf *expect, size_t i)
{
	switch (i % 5) {
	case 0:
		strbuf_addf(csv, "%zu,plain %zu,%zu.5\n", i, i, i);
		strbuf_addf(expect, "[%zu][plain %zu][%zu.5]\n", i, i, i);
		break;
	case 1:
		strbuf_addf(csv, "%zu,\"a,b \"\"%zu\"\"\",\"x\r\ny\"\r\n", i, i);
		strbuf_addf(expect, "[%zu][a,b \"%zu\"][x\r\ny]\n", i, i);
		break;
	case 2:
		strbuf_addf(csv, "%zu,,\"\"\n", i);
		strbuf_addf(expect, "[%zu][][]\n", i);
		break;
	case 3:
		strbuf_addf(csv, "\n%zu,\"日本%zu\",é\r\n", i, i);
		strbuf_addf(expect, "[%zu][日本%zu][é]\n", i, i);
		break;
	default:
		strbuf_addf(csv, "%zu,%.*s,end\n", i, (int)(i % 97),
			    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
			    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
		strbuf_addf(expect, "[%zu][%.*s][end]\n", i, (int)(i % 97),
			    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
			    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
	}
}

static char *dump_file(const char *path, size_t batch)
{
	struct strbuf sb = STRBUF_INIT;
	struct csv_reader *r = NULL;
	struct error err = ERROR_INIT;
	const struct csv_field *f;
	size_t n;

	assert_int_equal(csv_open(&r, path, &err), 0);
	strbuf_addstr(&sb, "[a][b][c]\n");
	while (!csv_next_batch(&f, &n, r, batch, &err) && n) {
		assert_true(n <= batch);
		for (size_t k = 0; k < n * 3; k++)
			strbuf_addf(&sb, "[%s]%s", f[k].str, k % 3 == 2 ? "\n" : "");
	}
	assert_string_equal(err.msg, "");
	assert_true(csv_bytes_read(r) > CSV_BUFFER_SIZE);
	csv_free(r);
	return strbuf_detach(&sb, NULL);
}

/* Enough records to cross the 1 MiB read buffer many times, at every kind of byte. */
static void test_buffer_boundaries(void **state)
{
	struct strbuf csv = STRBUF_INIT, expect = STRBUF_INIT;
	char *dir = test_tmpdir(), *path = test_path(dir, "big.csv"), *got;

	(void)state;
	strbuf_addstr(&csv, "a,b,c\n");
	strbuf_addstr(&expect, "[a][b][c]\n");
	for (size_t i = 0; csv.len < 5 * CSV_BUFFER_SIZE; i++)
		gen_record(&csv, &expect, i);
	test_write_file(path, csv.buf);
	got = dump_file(path, 1);
	assert_true(!strcmp(got, expect.buf));
	free(got);
	got = dump_file(path, 1000);
	assert_true(!strcmp(got, expect.buf));
	free(got);
	got = dump_buffer(csv.buf, csv.len, 0);
	assert_true(!strcmp(got, expect.buf));
	free(got);
	csv_buffer_size = 61;
	got = dump_buffer(csv.buf, csv.len, 0);
	csv_buffer_size = CSV_BUFFER_SIZE;
	assert_true(!strcmp(got, expect.buf));
	free(got);
	strbuf_release(&csv);
	strbuf_release(&expect);
	free(path);
	test_tmpdir_remove(dir);
}

static void test_long_records(void **state)
{
	struct strbuf csv = STRBUF_INIT;
	struct csv_reader *r = NULL;
	struct error err = ERROR_INIT;
	const struct csv_field *f;

	(void)state;
	strbuf_addstr(&csv, "a,b\n1,\"");
	strbuf_addchars(&csv, 'x', 3 * CSV_BUFFER_SIZE);
	strbuf_addstr(&csv, "\"\n2,3\n");
	assert_int_equal(csv_open_buffer(&r, "t.csv", csv.buf, csv.len, &err), 0);
	assert_int_equal(csv_next(&f, r, &err), 1);
	assert_int_equal(f[1].len, 3 * CSV_BUFFER_SIZE);
	assert_int_equal(csv_next(&f, r, &err), 1);
	assert_string_equal(f[1].str, "3");
	csv_free(r);

	strbuf_reset(&csv);
	strbuf_addstr(&csv, "a,b\n1,2\n3,");
	strbuf_addchars(&csv, 'x', CSV_MAX_RECORD);
	assert_int_equal(csv_open_buffer(&r, "t.csv", csv.buf, csv.len, &err), 0);
	assert_int_equal(csv_next(&f, r, &err), 1);
	assert_int_equal(csv_next(&f, r, &err), ERR_TOOBIG);
	assert_string_equal(err.msg, "t.csv:3: a record longer than 64 MiB");
	csv_free(r);
	strbuf_release(&csv);
}

static void test_open_errors(void **state)
{
	struct csv_reader *r = NULL;
	struct error err = ERROR_INIT;
	char *dir = test_tmpdir(), *path = test_path(dir, "missing.csv");
	char expect[4096];

	(void)state;
	assert_int_equal(csv_open(&r, path, &err), ERR_NOTFOUND);
	snprintf(expect, sizeof(expect), "cannot open '%s': No such file or directory", path);
	assert_string_equal(err.msg, expect);
	assert_null(r);
	assert_int_equal(csv_open(&r, dir, &err), ERR_IO);
	snprintf(expect, sizeof(expect), "cannot read '%s': it is a directory", dir);
	assert_string_equal(err.msg, expect);
	free(path);
	test_tmpdir_remove(dir);
}

static void test_rewind(void **state)
{
	char *dir = test_tmpdir(), *path = test_path(dir, "t.csv");
	struct csv_reader *r = NULL;
	struct error err = ERROR_INIT;
	const struct csv_field *f;
	int fds[2];
	char pipe_path[64];

	(void)state;
	test_write_file(path, "\xEF\xBB\xBF"
			      "a,b\n1,2\n3,4\n");
	assert_int_equal(csv_open(&r, path, &err), 0);
	for (int pass = 0; pass < 2; pass++) {
		assert_int_equal(csv_next(&f, r, &err), 1);
		assert_string_equal(f[0].str, "1");
		assert_int_equal(csv_next(&f, r, &err), 1);
		assert_int_equal(f[1].line, 3);
		assert_int_equal(csv_next(&f, r, &err), 0);
		assert_int_equal(csv_rows_read(r), 2);
		assert_int_equal(csv_rewind(r, &err), 0);
	}
	test_write_file(path, "a,c\n1,2\n");
	assert_int_equal(csv_rewind(r, &err), ERR_INVALID);
	assert_true(strstr(err.msg, ": the header changed while reading") != NULL);
	csv_free(r);

	assert_int_equal(pipe(fds), 0);
	assert_int_equal(write(fds[1], "a\n1\n", 4), 4);
	close(fds[1]);
	snprintf(pipe_path, sizeof(pipe_path), "/proc/self/fd/%d", fds[0]);
	assert_int_equal(csv_open(&r, pipe_path, &err), 0);
	assert_int_equal(csv_next(&f, r, &err), 1);
	assert_int_equal(csv_rewind(r, &err), ERR_UNSUPPORTED);
	csv_free(r);
	close(fds[0]);
	free(path);
	test_tmpdir_remove(dir);
}

static void test_real_headers(void **state)
{
	static const struct {
		const char *file;
		size_t cols;
		const char *first, *last;
	} files[] = {
		{ "mlc_churn.csv", 20, "state", "churn" },
		{ "PimaIndiansDiabetes2.csv", 9, "pregnant", "diabetes" },
		{ "breast_cancer.csv", 31, "mean radius", "target" },
		{ "wine.csv", 14, "alcohol", "target" },
		{ "iris.csv", 5, "sepal length (cm)", "target" },
		{ "diabetes.csv", 11, "age", "target" },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		char name[256];
		char *path;
		struct csv_reader *r = NULL;
		struct error err = ERROR_INIT;
		const struct csv_field *f;
		int rc;

		snprintf(name, sizeof(name), "../../examples/data/%s", files[i].file);
		path = test_data_path(name);
		assert_int_equal(csv_open(&r, path, &err), 0);
		assert_int_equal(csv_ncols(r), files[i].cols);
		assert_string_equal(csv_column_names(r)[0], files[i].first);
		assert_string_equal(csv_column_names(r)[files[i].cols - 1], files[i].last);
		while ((rc = csv_next(&f, r, &err)) == 1)
			;
		assert_int_equal(rc, 0);
		csv_free(r);
		free(path);
	}
}

/* Numbers ---------------------------------------------------------------------------------- */

/* num_parse_field's verdict on a copy of s padded as CSV fields are. */
static int field_kind(const char *s)
{
	size_t len = strlen(s);
	char *padded = xcalloc(len + 1 + CSV_FIELD_PADDING, 1);
	double v = 42;
	int kind;

	memcpy(padded, s, len);
	kind = num_parse_field(padded, len, &v);
	free(padded);
	if (kind != NUM_FINITE)
		assert_true(v == 42);
	return kind;
}

/* num_parse, and num_parse_field on a padded copy, agree bit for bit with strtod. */
static void expect_same_as_strtod(const char *s)
{
	size_t len = strlen(s);
	char *padded = xcalloc(len + 1 + CSV_FIELD_PADDING, 1);
	double want = strtod(s, NULL), got = -12345.678, got_field = -12345.678;
	int kind = num_parse(s, len, &got), kind_field;

	memcpy(padded, s, len);
	memset(padded + len + 1, '7', CSV_FIELD_PADDING); /* digits after the NUL must not count */
	kind_field = num_parse_field(padded, len, &got_field);
	free(padded);
	if (kind_field != kind || memcmp(&got, &got_field, sizeof(got)))
		fail_msg("'%s': num_parse gave %d %.17g, num_parse_field %d %.17g", s, kind, got,
			 kind_field, got_field);
	if (!isfinite(want)) {
		if (kind != NUM_NONFINITE)
			fail_msg("'%s': expected NUM_NONFINITE, got %d", s, kind);
		return;
	}
	if (kind != NUM_FINITE || memcmp(&got, &want, sizeof(got)))
		fail_msg("'%s': num_parse gave %d %.17g, strtod %.17g", s, kind, got, want);
}

static void test_number_cases(void **state)
{
	static const char *const same[] = {
		"0",
		"-0",
		"+0",
		"0.0",
		"-0.000",
		"0e999999999",
		"-0e-5",
		"1",
		"-3",
		"+2.5",
		".5",
		"5.",
		"-.5e+3",
		"1e-04",
		"1E4",
		"000123.4500",
		"0.1",
		"0.3",
		"2.2250738585072014e-308", /* smallest normal */
		"4.9e-324",		   /* smallest subnormal */
		"2.4703282292062327e-324", /* below half of it: 0 */
		"2.4703282292062328e-324", /* above half: rounds up */
		"1e-400",
		"1.7976931348623157e308",
		"9007199254740992",
		"9007199254740993", /* halfway between two doubles: ties to even */
		"9007199254740995",
		"9007199254740993.0000000001",
		"123456789012345678",
		"1234567890123456789",
		"12345678901234567890",
		"1.00000000000000011102230246251565404236316680908203125", /* exact halfway */
		"1.00000000000000011102230246251565404236316680908203124",
		"1.00000000000000011102230246251565404236316680908203126",
		"0.000000000000000000000000000000000000000000001",
		"100000000000000000000000",
		"1e22",
		"1e23",
		"8.98846567431158e307",
		"3.4028234663852886e+38",
		"7.2549999999999981",
		"0.82806612797786305",
		"1797693134862315700000000000000000000000000000000000000000000000000000000000000000"
		"00"
		"0000000000000000000000000000000000000000000000000000000000000000000000000000000000"
		"00"
		"0000000000000000000000000000000000000000000000000000000000000000000000000000000000"
		"00"
		"0000000000000000000000000000000000000000000000000000000000000000000000000000000000"
		"00",
	};
	static const char *const not_numbers[] = {
		"",	"+",	     "-",   ".",     "e5",    "1e",  "1e+",   "1.2.3",	"0x10",
		" 1",	"1 ",	     "1,5", "1_000", "--1",   "+-1", "1e5.5", "nan(1)", "infinit",
		"in",	"nana",	     "1d5", "1f",    "0x1p3", ".e5", "-.",    "1..",	"١",
		"TRUE", "Infinity1", "e",   "+e1",   "1.5e-", "\t5",
	};
	static const char *const nonfinite[] = {
		"nan",	     "NaN",	 "NAN",	  "-nan",     "+nan",
		"inf",	     "-inf",	 "+Inf",  "INF",      "infinity",
		"-Infinity", "INFINITY", "1e309", "-1.8e308", "1e999999999999",
	};
	double v = 42;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(same); i++)
		expect_same_as_strtod(same[i]);
	for (size_t i = 0; i < ARRAY_SIZE(not_numbers); i++) {
		if (num_parse(not_numbers[i], strlen(not_numbers[i]), &v) != NUM_NONE)
			fail_msg("'%s' parsed as a number", not_numbers[i]);
		assert_int_equal(field_kind(not_numbers[i]), NUM_NONE);
		assert_true(v == 42);
	}
	for (size_t i = 0; i < ARRAY_SIZE(nonfinite); i++) {
		assert_int_equal(num_parse(nonfinite[i], strlen(nonfinite[i]), &v), NUM_NONFINITE);
		assert_int_equal(field_kind(nonfinite[i]), NUM_NONFINITE);
	}
	assert_true(v == 42);
	/* the length bounds the number: what follows is not read */
	assert_int_equal(num_parse("12,34", 2, &v), NUM_FINITE);
	assert_true(v == 12);
	assert_true(num_parse("-0", 2, &v) == NUM_FINITE && signbit(v));
}

/* xorshift64*: a fixed, portable sequence. */
static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * UINT64_C(2685821657736338717);
}

static void random_decimal(char *buf, size_t size, uint64_t *rng)
{
	size_t ndigits = 1 + rng_next(rng) % 24, dot = rng_next(rng) % (ndigits + 1), n = 0;
	int exp_kind = (int)(rng_next(rng) % 4);

	if (rng_next(rng) % 3 == 0)
		buf[n++] = rng_next(rng) % 2 ? '-' : '+';
	for (size_t i = 0; i < ndigits; i++) {
		if (i == dot && i > 0)
			buf[n++] = '.';
		buf[n++] = (char)('0' + rng_next(rng) % 10);
	}
	if (exp_kind == 1)
		n += (size_t)snprintf(buf + n, size - n, "e%d", (int)(rng_next(rng) % 61) - 30);
	else if (exp_kind == 2)
		n += (size_t)snprintf(buf + n, size - n, "E%+d", (int)(rng_next(rng) % 651) - 340);
	buf[n] = '\0';
}

/* A million values in the shapes CSV files hold them, each parsed exactly as strtod does. */
static void test_number_random(void **state)
{
	static const char *const formats[] = { "%.17g", "%.16g", "%.15g", "%.6g", "%.3e",
					       "%.10f", "%.2f",	 "%.1f",  "%.0f", "%g" };
	uint64_t rng = 20240601;
	char buf[512];

	(void)state;
	setlocale(LC_NUMERIC, "C");
	for (int i = 0; i < 1000000; i++) {
		uint64_t bits = rng_next(&rng);
		double d;

		switch (i % 4) {
		case 0: /* any double */
			memcpy(&d, &bits, sizeof(d));
			if (!isfinite(d))
				continue;
			snprintf(buf, sizeof(buf), formats[i / 4 % 3], d);
			break;
		case 1: /* CSV-like magnitudes in every common format */
			d = (double)(int64_t)(bits >> 11) / (double)(UINT64_C(1) << 52) *
			    pow(10, (double)(rng_next(&rng) % 13) - 6);
			snprintf(buf, sizeof(buf), formats[rng_next(&rng) % ARRAY_SIZE(formats)],
				 d);
			break;
		case 2:
			random_decimal(buf, sizeof(buf), &rng);
			break;
		default: /* near halfway points: the cases fast paths get wrong */
			d = (double)(bits >> 11);
			snprintf(buf, sizeof(buf), "%.0f.5e%d", d, -(int)(rng_next(&rng) % 40));
		}
		expect_same_as_strtod(buf);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_line_endings),
		cmocka_unit_test(test_quoting),
		cmocka_unit_test(test_embedded_newlines),
		cmocka_unit_test(test_bom_and_blank_lines),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_header_errors),
		cmocka_unit_test(test_ragged),
		cmocka_unit_test(test_quote_errors),
		cmocka_unit_test(test_byte_errors),
		cmocka_unit_test(test_sticky_error),
		cmocka_unit_test(test_buffer_boundaries),
		cmocka_unit_test(test_long_records),
		cmocka_unit_test(test_open_errors),
		cmocka_unit_test(test_rewind),
		cmocka_unit_test(test_real_headers),
		cmocka_unit_test(test_number_cases),
		cmocka_unit_test(test_number_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
