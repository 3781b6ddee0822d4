/*
 * Unit tests for api/serve_*: every request form of the MLflow scoring protocol, OIP v2 and
 * KServe v1 with the cells it gives, every error with its status, body and message, and the
 * exact response bodies. The MLflow examples are verbatim from docs/protocols.md.
 */
#include "util/common.h"
#include "helpers.h"
#include "api/serve_input.h"
#include "util/strbuf.h"

#include <math.h>

enum proto {
	MLFLOW,
	CSV,
	OIP,
	KSERVE
};

static const char *const json_ct = "application/json";

/* "a,b\n1.0,'x'\n" (names, or "#2" when positional), one line per row. */
static char *dump(const struct serve_input *in)
{
	struct strbuf sb = STRBUF_INIT;
	char num[SERVE_DOUBLE_SIZE];

	if (in->names)
		for (size_t j = 0; j < in->ncols; j++)
			strbuf_addf(&sb, "%s%s", j ? "," : "", in->names[j]);
	else
		strbuf_addf(&sb, "#%zu", in->ncols);
	strbuf_addch(&sb, '\n');
	for (size_t r = 0; r < in->nrows; r++) {
		for (size_t j = 0; j < in->ncols; j++) {
			const struct serve_cell *c = &in->cells[r * in->ncols + j];

			if (j)
				strbuf_addch(&sb, ',');
			switch (c->type) {
			case SERVE_CELL_NULL:
				strbuf_addstr(&sb, "null");
				break;
			case SERVE_CELL_NUMBER:
				serve_format_double(num, c->num);
				strbuf_addstr(&sb, num);
				break;
			case SERVE_CELL_STRING:
				assert_int_equal(strlen(c->str), c->len);
				strbuf_addf(&sb, "'%s'", c->str);
				break;
			case SERVE_CELL_BOOL:
				assert_true(c->num == c->b);
				strbuf_addstr(&sb, c->b ? "True" : "False");
				break;
			}
		}
		strbuf_addch(&sb, '\n');
	}
	return strbuf_detach(&sb, NULL);
}

static int parse(struct serve_input *in, enum proto p, const char *ct, const char *body, size_t len,
		 struct serve_error *e)
{
	switch (p) {
	case MLFLOW:
		return serve_parse_mlflow(in, ct ? ct : json_ct, body, len, e);
	case CSV:
		return serve_parse_mlflow(in, ct ? ct : "text/csv", body, len, e);
	case OIP:
		return serve_parse_oip(in, body, len, e);
	case KSERVE:
		return serve_parse_kserve_v1(in, body, len, e);
	}
	return -1;
}

/* Parsed twice into one input (the second reuses the first's memory): the same cells. */
static void expect_rows_ct(enum proto p, const char *ct, const char *body, const char *want)
{
	struct serve_input in = SERVE_INPUT_INIT;
	struct serve_error e = SERVE_ERROR_INIT;

	for (int i = 0; i < 2; i++) {
		int rc = parse(&in, p, ct, body, strlen(body), &e);
		char *got;

		if (rc)
			fail_msg("unexpected error %d: %s", rc, e.msg);
		got = dump(&in);
		assert_string_equal(got, want);
		free(got);
	}
	serve_input_release(&in);
	assert_null(in.mem);
}

#define expect_rows(p, body, want) expect_rows_ct((p), NULL, (body), (want))

static void expect_fail_ct(enum proto p, const char *ct, const char *body, size_t len, int status,
			   const char *msg)
{
	struct serve_input in = SERVE_INPUT_INIT;
	struct serve_error e = SERVE_ERROR_INIT;
	int rc = parse(&in, p, ct, body, len, &e);

	assert_true(rc < 0);
	assert_int_equal(e.code, rc);
	assert_int_equal(e.status, status);
	assert_string_equal(e.msg, msg);
	assert_int_equal(in.nrows, 0);
	assert_int_equal(in.ncols, 0);
	assert_null(in.cells);
	assert_null(in.names);
	serve_input_release(&in);
}

#define expect_fail(p, body, status, msg)                                                          \
	expect_fail_ct((p), NULL, (body), strlen(body), (status), (msg))

#define REQUIRED                                                                                   \
	"The input must be a JSON dictionary with exactly one of the input fields {'instances', "  \
	"'inputs', 'dataframe_records', 'dataframe_split'}"
#define CHANGE_INFO                                                                                \
	"IMPORTANT: The MLflow Model scoring protocol has changed in MLflow version 2.0. If you "  \
	"are seeing this error, you are likely using an outdated scoring request format. To "      \
	"resolve the error, either update your request format or adjust your MLflow Model's "      \
	"requirements file to specify an older version of MLflow (for example, change the "        \
	"'mlflow' requirement specifier to 'mlflow==1.30.0'). If you are making a request using "  \
	"the MLflow client (e.g. via `mlflow.pyfunc.spark_udf()`), upgrade your MLflow client to " \
	"a version >= 2.0 in order to use the new request format. For more information about "     \
	"the updated MLflow Model scoring protocol in MLflow 2.0, see "                            \
	"https://mlflow.org/docs/latest/models.html#deploy-mlflow-models."
#define SPLIT_ERR                                                                                  \
	"Invalid input. Provided dataframe_split field is not a valid dataframe representation "   \
	"in 'split' format. Error: '"
#define RECORDS_ERR                                                                                \
	"Invalid input. Provided dataframe_records field is not a valid dataframe representation " \
	"in 'records' format. Error: '"
#define TF_ERR                                                                                     \
	"Failed to parse data as TF serving input. Ensure that the input is a valid "              \
	"JSON-formatted string that conforms to the request body for TF serving's Predict API "    \
	"as documented at https://www.tensorflow.org/tfx/serving/api_rest#request_format_2. "      \
	"Error: '"
#define JSON_ERR "Invalid input. Ensure that input is a valid JSON formatted string. Error: '"
#define CSV_ERR                                                                                    \
	"Failed to parse input as a Pandas DataFrame. Ensure that the input is a valid "           \
	"CSV-formatted Pandas DataFrame produced using the `pandas.DataFrame.to_csv()` method. "   \
	"Error: '"

/* docs/protocols.md, "Scoring server protocol" and "MLflow scoring server", verbatim. */
static void test_mlflow_documented(void **state)
{
	(void)state;
	expect_rows(MLFLOW,
		    "{\"dataframe_split\":{\"columns\":[\"a\",\"b\"],\"data\":[[1,2],[3,5]]}}",
		    "a,b\n1.0,2.0\n3.0,5.0\n");
	expect_rows(MLFLOW, "{\"dataframe_records\":[{\"a\":1,\"b\":2},{\"a\":3,\"b\":5}]}",
		    "a,b\n1.0,2.0\n3.0,5.0\n");
	expect_rows(MLFLOW, "{\"instances\":[[1,2],[3,5]]}", "#2\n1.0,2.0\n3.0,5.0\n");
	expect_rows(MLFLOW, "{\"inputs\":[[1,2],[3,5]]}", "#2\n1.0,2.0\n3.0,5.0\n");
	expect_rows(MLFLOW, "{\"dataframe_split\":{\"columns\":[\"a\",\"b\"],\"data\":[[1,2]]}}",
		    "a,b\n1.0,2.0\n");
}

static void test_mlflow_split(void **state)
{
	(void)state;
	/* index is checked against the rows and otherwise ignored; cells of every type */
	expect_rows(MLFLOW,
		    "{\"dataframe_split\": {\"index\": [7, 8], \"columns\": [\"x\", \"s\", \"b\"],"
		    " \"data\": [[1.5, \"h\\u00e9\", true], [null, \"\", false]]}}",
		    "x,s,b\n1.5,'h\xc3\xa9',True\nnull,'',False\n");
	/* without columns, and with the [0, 1] pandas writes for unnamed frames: positional */
	expect_rows(MLFLOW, "{\"dataframe_split\": {\"data\": [[1, 2]]}}", "#2\n1.0,2.0\n");
	expect_rows(MLFLOW, "{\"dataframe_split\": {\"columns\": [0, 1], \"data\": [[1, 2]]}}",
		    "#2\n1.0,2.0\n");
	expect_rows(MLFLOW, "{\"dataframe_split\": {\"columns\": null, \"data\": [[1, 2]]}}",
		    "#2\n1.0,2.0\n");
	/* one column of values, as pandas takes a flat list */
	expect_rows(MLFLOW, "{\"dataframe_split\": {\"columns\": [\"a\"], \"data\": [1, 2]}}",
		    "a\n1.0\n2.0\n");
	/* Python's NaN is a missing value */
	expect_rows(MLFLOW, "{\"dataframe_split\": {\"data\": [[NaN, -0.0, 1e-7]]}}",
		    "#3\nnull,-0.0,1e-07\n");

	expect_fail(MLFLOW, "{\"dataframe_split\": [[1, 2]]}", 400,
		    "Invalid input. Dataframe split format must be a dictionary. Got list.");
	expect_fail(MLFLOW, "{\"dataframe_split\": \"x\"}", 400,
		    "Invalid input. Dataframe split format must be a dictionary. Got type "
		    "<class 'str'>.");
	expect_fail(MLFLOW, "{\"dataframe_split\": {\"columns\": [\"a\"], \"rows\": [[1]]}}", 400,
		    "Invalid input. Dataframe split format must have 'data' field and optionally "
		    "'columns' and 'index' fields. Got {'columns', 'rows'}.'");
	expect_fail(MLFLOW, "{\"dataframe_split\": {\"data\": [[1]], \"data\": [[2]]}}", 400,
		    "Invalid input. The key 'data' appears twice.");
	expect_fail(MLFLOW, "{\"dataframe_split\": {}}", 400,
		    "Invalid input. Dataframe split format must have 'data' field and optionally "
		    "'columns' and 'index' fields. Got set().'");
	expect_fail(MLFLOW,
		    "{\"dataframe_split\": {\"columns\": [\"a\", \"b\"], \"data\": [[1, 2, 3]]}}",
		    400, SPLIT_ERR "2 columns passed, passed data had 3 columns'");
	expect_fail(MLFLOW, "{\"dataframe_split\": {\"columns\": [0, 1], \"data\": [[1]]}}", 400,
		    SPLIT_ERR "2 columns passed, passed data had 1 columns'");
	expect_fail(MLFLOW, "{\"dataframe_split\": {\"data\": [[1, 2], [3]]}}", 400,
		    SPLIT_ERR "dataframe_split.data[1] has 1 values, expected 2'");
	expect_fail(MLFLOW, "{\"dataframe_split\": {\"index\": [0], \"data\": [[1], [2]]}}", 400,
		    SPLIT_ERR "Shape of passed values is (2, 1), indices imply (1, 1)'");
	expect_fail(MLFLOW, "{\"dataframe_split\": {\"columns\": [\"a\", 1], \"data\": [[1, 2]]}}",
		    400,
		    SPLIT_ERR "dataframe_split.columns[1] is a number: column names must be "
			      "strings'");
	expect_fail(MLFLOW,
		    "{\"dataframe_split\": {\"columns\": [\"a\", \"a\"], \"data\": [[1, 2]]}}", 400,
		    SPLIT_ERR "dataframe_split.columns has 'a' twice'");
	expect_fail(MLFLOW, "{\"dataframe_split\": {\"data\": {\"a\": [1]}}}", 400,
		    SPLIT_ERR "dataframe_split.data is an object: it must be a list of rows'");
	expect_fail(MLFLOW, "{\"dataframe_split\": {\"data\": []}}", 400,
		    SPLIT_ERR "dataframe_split.data is empty: there are no rows to predict'");
	expect_fail(MLFLOW, "{\"dataframe_split\": {\"data\": [[]]}}", 400,
		    SPLIT_ERR "dataframe_split.data[0] is empty: a row needs values'");
	expect_fail(MLFLOW, "{\"dataframe_split\": {\"data\": [[1, [2]]]}}", 400,
		    SPLIT_ERR "dataframe_split.data[0][1] is a list: a value must be a number, a "
			      "string, a boolean or null'");
	expect_fail(MLFLOW, "{\"dataframe_split\": {\"data\": [[1, Infinity]]}}", 400,
		    SPLIT_ERR "dataframe_split.data[0][1]: infinite numbers and numbers beyond the "
			      "double range are not supported'");
	expect_fail(MLFLOW, "{\"dataframe_split\": {\"data\": [[-1e400]]}}", 400,
		    SPLIT_ERR "dataframe_split.data[0][0]: infinite numbers and numbers beyond the "
			      "double range are not supported'");
	expect_fail(MLFLOW, "{\"dataframe_split\": {\"data\": [[1], {\"a\": 1}]}}", 400,
		    SPLIT_ERR
		    "dataframe_split.data[1] is an object but dataframe_split.data[0] is a "
		    "list: rows must be all lists, all objects or all single values'");
	expect_fail(MLFLOW, "{\"dataframe_split\": {\"columns\": [\"a\"], \"data\": [{\"a\": 1}]}}",
		    400,
		    SPLIT_ERR "dataframe_split.data[0] is an object: with 'columns', rows must "
			      "be lists'");
}

static void test_mlflow_records(void **state)
{
	(void)state;
	/* the union of the keys in order of appearance; missing values are null, as pandas has */
	expect_rows(MLFLOW,
		    "{\"dataframe_records\": [{\"b\": 1, \"a\": \"x\"}, {\"c\": true}, {}]}",
		    "b,a,c\n1.0,'x',null\nnull,null,True\nnull,null,null\n");
	/* rows in another key order */
	expect_rows(MLFLOW, "{\"dataframe_records\": [{\"a\": 1, \"b\": 2}, {\"b\": 4, \"a\": 3}]}",
		    "a,b\n1.0,2.0\n3.0,4.0\n");
	expect_rows(MLFLOW, "{\"dataframe_records\": [[1, 2], [3, 4]]}", "#2\n1.0,2.0\n3.0,4.0\n");
	expect_rows(MLFLOW, "{\"dataframe_records\": [1, \"a\", null]}", "#1\n1.0\n'a'\nnull\n");

	expect_fail(MLFLOW, "{\"dataframe_records\": {\"a\": [1]}}", 400,
		    "Invalid input. Dataframe records format must be a list of records. Got "
		    "dictionary.");
	expect_fail(MLFLOW, "{\"dataframe_records\": 5}", 400,
		    "Invalid input. Dataframe records format must be a list of records. Got type "
		    "<class 'int'>.");
	expect_fail(MLFLOW, "{\"dataframe_records\": 5.5}", 400,
		    "Invalid input. Dataframe records format must be a list of records. Got type "
		    "<class 'float'>.");
	expect_fail(MLFLOW, "{\"dataframe_records\": [{\"a\": 1}, [1]]}", 400,
		    RECORDS_ERR
		    "dataframe_records[1] is a list but dataframe_records[0] is an "
		    "object: rows must be all lists, all objects or all single values'");
	expect_fail(MLFLOW, "{\"dataframe_records\": [{\"a\": 1}, {\"b\": 1, \"b\": 2}]}", 400,
		    RECORDS_ERR "dataframe_records[1] has the key 'b' twice'");
	expect_fail(MLFLOW, "{\"dataframe_records\": [{\"a\": {\"x\": 1}}]}", 400,
		    RECORDS_ERR "dataframe_records[0].a is an object: a value must be a number, a "
				"string, a boolean or null'");
	expect_fail(MLFLOW, "{\"dataframe_records\": [{}]}", 400,
		    RECORDS_ERR "dataframe_records[0] is empty: a row needs values'");
	expect_fail(MLFLOW, "{\"dataframe_records\": [1, [2]]}", 400,
		    RECORDS_ERR
		    "dataframe_records[1] is a list but dataframe_records[0] is a single "
		    "value: rows must be all lists, all objects or all single values'");
}

static void test_mlflow_tf_serving(void **state)
{
	(void)state;
	expect_rows(MLFLOW, "{\"instances\": [{\"a\": 1, \"b\": \"x\"}, {\"b\": \"y\", \"a\": 2}]}",
		    "a,b\n1.0,'x'\n2.0,'y'\n");
	expect_rows(MLFLOW, "{\"instances\": [1, 2]}", "#1\n1.0\n2.0\n");
	expect_rows(MLFLOW, "{\"instances\": {\"a\": [1, 2], \"b\": [false, null]}}",
		    "a,b\n1.0,False\n2.0,null\n");
	expect_rows(MLFLOW, "{\"inputs\": {\"a\": [1, 2], \"b\": [3, 4]}}",
		    "a,b\n1.0,3.0\n2.0,4.0\n");
	expect_rows(MLFLOW, "{\"inputs\": [{\"a\": 1}]}", "a\n1.0\n");

	expect_fail(MLFLOW, "{\"instances\": [{\"a\": 1, \"b\": 2}, {\"a\": 3}]}", 400,
		    "Failed to parse data as TF serving input. The length of values for each "
		    "input/column name are not the same (instances[1] has 1 of the 2 keys of all "
		    "rows)");
	expect_fail(MLFLOW, "{\"inputs\": {\"a\": [1, 2], \"b\": [3]}}", 400,
		    "Failed to parse data as TF serving input. The length of values for each "
		    "input/column name are not the same (inputs.b has 1 values, inputs.a has 2)");
	expect_fail(MLFLOW, "{\"inputs\": {\"a\": 1}}", 400,
		    TF_ERR "inputs.a is a number: a column must be a list of values'");
	expect_fail(MLFLOW, "{\"inputs\": {}}", 400,
		    TF_ERR "inputs is empty: there are no columns'");
	expect_fail(MLFLOW, "{\"inputs\": {\"a\": []}}", 400,
		    TF_ERR "inputs.a is empty: there are no rows to predict'");
	expect_fail(MLFLOW, "{\"inputs\": {\"a\": [[1]]}}", 400,
		    TF_ERR
		    "inputs.a[0] is a list: a value must be a number, a string, a boolean or "
		    "null'");
	expect_fail(MLFLOW, "{\"inputs\": \"abc\"}", 400,
		    TF_ERR
		    "inputs is a string: it must be a list of rows or an object of columns'");
	expect_fail(MLFLOW, "{\"instances\": []}", 400,
		    TF_ERR "instances is empty: there are no rows to predict'");
	expect_fail(MLFLOW, "{\"instances\": [[1, 2], [3]]}", 400,
		    TF_ERR "instances[1] has 1 values, expected 2'");
}

static void test_mlflow_keys_and_params(void **state)
{
	struct serve_input in = SERVE_INPUT_INIT;
	struct serve_error e = SERVE_ERROR_INIT;
	static const char proba[] = "{\"inputs\": [[1]], \"params\": {\"predict_proba\": true}}";

	(void)state;
	assert_int_equal(serve_parse_mlflow(&in, json_ct, proba, strlen(proba), &e), 0);
	assert_true(in.want_probabilities);
	assert_int_equal(serve_parse_mlflow(&in, json_ct, "{\"inputs\": [[1]]}", 17, &e), 0);
	assert_false(in.want_probabilities);
	serve_input_release(&in);
	/* keys MLflow does not know, and params it does not use, are ignored */
	expect_rows(MLFLOW, "{\"x\": 1, \"inputs\": [[1]], \"params\": {\"temperature\": 0.5}}",
		    "#1\n1.0\n");
	expect_rows(MLFLOW, "{\"params\": null, \"inputs\": [[1]]}", "#1\n1.0\n");

	expect_fail(
	    MLFLOW, "{\"inputs\": [[1]], \"instances\": [[1]]}", 400,
	    REQUIRED
	    ". Received dictionary with input fields: ['inputs', 'instances']. " CHANGE_INFO);
	expect_fail(MLFLOW, "{\"data\": [[1]]}", 400,
		    REQUIRED ". Received dictionary with input fields: []. " CHANGE_INFO);
	expect_fail(MLFLOW, "[[1, 2]]", 400, "Invalid input. " REQUIRED ". Received a list.");
	expect_fail(MLFLOW, "\"abc\"", 400,
		    "Invalid input. " REQUIRED ". Received unexpected input type '<class 'str'>.");
	expect_fail(MLFLOW, "null", 400,
		    "Invalid input. " REQUIRED ". Received unexpected input type "
		    "'<class 'NoneType'>.");
	expect_fail(MLFLOW, "{\"inputs\": [[1]], \"inputs\": [[2]]}", 400,
		    "Invalid input. The key 'inputs' appears twice.");
	expect_fail(
	    MLFLOW,
	    "{\"inputs\": [[1]], \"params\": {\"predict_proba\": true, \"predict_proba\": 1}}", 400,
	    "Invalid input. The key 'predict_proba' appears twice.");
	expect_fail(MLFLOW, "{\"inputs\": [[1]], \"params\": [1]}", 400,
		    "Invalid input. 'params' must be a dictionary. Got type <class 'list'>.");
	expect_fail(MLFLOW, "{\"inputs\": [[1]], \"params\": {\"predict_proba\": \"yes\"}}", 400,
		    "Invalid input. Param 'predict_proba' must be a boolean. Got type "
		    "<class 'str'>.");
}

static void test_mlflow_json_errors(void **state)
{
	char deep[400];

	(void)state;
	expect_fail(MLFLOW, "", 400, JSON_ERR "expected a value: line 1 column 1 (char 0)'");
	expect_fail(MLFLOW, "{\"inputs\": [1,]}", 400,
		    JSON_ERR "expected a value: line 1 column 15 (char 14)'");
	expect_fail(MLFLOW, "{\"inputs\":\n [1 2]}", 400,
		    JSON_ERR "expected ',' or ']': line 2 column 5 (char 15)'");
	expect_fail(MLFLOW, "{\"inputs\" [1]}", 400,
		    JSON_ERR "expected ':' after a key: line 1 column 11 (char 10)'");
	expect_fail(MLFLOW, "{inputs: [1]}", 400,
		    JSON_ERR "expected a key in double quotes: line 1 column 2 (char 1)'");
	expect_fail(MLFLOW, "{\"inputs\": [1]} x", 400,
		    JSON_ERR "extra data: line 1 column 17 (char 16)'");
	expect_fail(MLFLOW, "{\"inputs\": [\"abc]}", 400,
		    JSON_ERR "unterminated string starting at: line 1 column 13 (char 12)'");
	expect_fail(MLFLOW, "{\"inputs\": [\"a\tb\"]}", 400,
		    JSON_ERR "invalid control character at: line 1 column 15 (char 14)'");
	expect_fail(MLFLOW, "{\"inputs\": [\"a\\xb\"]}", 400,
		    JSON_ERR "invalid \\escape: line 1 column 15 (char 14)'");
	expect_fail(MLFLOW, "{\"inputs\": [\"\\u12\"]}", 400,
		    JSON_ERR "invalid \\uXXXX escape: line 1 column 14 (char 13)'");
	expect_fail(MLFLOW, "{\"inputs\": [\"\\ud800x\"]}", 400,
		    JSON_ERR "lone surrogate in \\uXXXX escape: line 1 column 14 (char 13)'");
	expect_fail(MLFLOW, "{\"inputs\": [\"\\udc00\"]}", 400,
		    JSON_ERR "lone surrogate in \\uXXXX escape: line 1 column 14 (char 13)'");
	expect_fail(MLFLOW, "{\"inputs\": [\"\\u0000\"]}", 400,
		    JSON_ERR "\\u0000 is not allowed in strings: line 1 column 14 (char 13)'");
	/* the é counts as one character */
	expect_fail(MLFLOW, "{\"\xc3\xa9\": [\"\xff\"]}", 400,
		    JSON_ERR "invalid UTF-8 at: line 1 column 9 (char 8)'");
	expect_fail(MLFLOW, "{\"a\": \"\xed\xa0\x80\"}", 400,
		    JSON_ERR "invalid UTF-8 at: line 1 column 8 (char 7)'");
	expect_fail(MLFLOW, "\xef\xbb\xbf{\"inputs\": [[1]]}", 400,
		    JSON_ERR "expected a value: line 1 column 1 (char 0)'");
	expect_fail(MLFLOW, "{\"inputs\": [01]}", 400,
		    JSON_ERR "expected ',' or ']': line 1 column 14 (char 13)'");
	expect_fail(MLFLOW, "{\"inputs\": [1.]}", 400,
		    JSON_ERR
		    "expected a digit after the decimal point: line 1 column 15 (char 14)'");
	expect_fail(MLFLOW, "{\"inputs\": [1e+]}", 400,
		    JSON_ERR "expected a digit in the exponent: line 1 column 16 (char 15)'");
	expect_fail(MLFLOW, "{\"inputs\": [tru]}", 400,
		    JSON_ERR "expected a value: line 1 column 13 (char 12)'");
	expect_fail_ct(MLFLOW, NULL, "{\"inputs\": [1]}\0", 16, 400,
		       JSON_ERR "extra data: line 1 column 16 (char 15)'");

	/* 65 levels: the cap is checked while reading, whatever comes after */
	memset(deep, '[', 65);
	memcpy(deep + 65, "1", 2);
	expect_fail(MLFLOW, deep, 400,
		    JSON_ERR "JSON nested deeper than 64 levels at: line 1 column 65 (char 64)'");
	/* escapes decode: a pair of surrogates is one 4-byte character */
	expect_rows(MLFLOW, "{\"inputs\": [\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u20ac\\ud83d\\ude00\"]}",
		    "#1\n'\"\\/\b\f\n\r\t\xe2\x82\xac\xf0\x9f\x98\x80'\n");
}

static void test_mlflow_content_types(void **state)
{
	static const char body[] = "{\"inputs\": [[1]]}";

	(void)state;
	expect_rows_ct(MLFLOW, "application/json; charset=UTF-8", body, "#1\n1.0\n");
	expect_rows_ct(MLFLOW, " application/json ;charset=utf-8", body, "#1\n1.0\n");
	expect_fail_ct(MLFLOW, "text/plain", body, strlen(body), 415,
		       "This predictor only supports the following content types: Types: "
		       "['text/csv', 'application/json']. Got 'text/plain'.");
	expect_fail_ct(MLFLOW, "Application/JSON", body, strlen(body), 415,
		       "This predictor only supports the following content types: Types: "
		       "['text/csv', 'application/json']. Got 'Application/JSON'.");
	expect_fail_ct(MLFLOW, "application/json; charset=latin-1", body, strlen(body), 415,
		       "The scoring server only supports UTF-8");
	expect_fail_ct(MLFLOW, "application/json; format=pandas-split", body, strlen(body), 415,
		       "Unrecognized content type parameters: format. " CHANGE_INFO);
	expect_fail_ct(MLFLOW, "application/json;", body, strlen(body), 415,
		       "Unrecognized content type parameters: . " CHANGE_INFO);
}

static void test_mlflow_missing_content_type(void **state)
{
	struct serve_input in = SERVE_INPUT_INIT;
	struct serve_error e = SERVE_ERROR_INIT;
	struct strbuf body = STRBUF_INIT;

	(void)state;
	assert_int_equal(serve_parse_mlflow(&in, NULL, "{}", 2, &e), ERR_UNSUPPORTED);
	assert_int_equal(e.status, 415);
	assert_string_equal(e.content_type, "text/plain");
	serve_error_write(&body, &e);
	assert_string_equal(body.buf, "This predictor only supports the following content types: "
				      "Types: ['text/csv', 'application/json']. Got 'None'.");
	strbuf_release(&body);
	serve_input_release(&in);
}

static void test_mlflow_csv(void **state)
{
	(void)state;
	/* pandas types whole columns: b has a word, so its numbers stay text */
	expect_rows(CSV, "a,b,c,d\n1,x,True,NA\n2.5,3,false,\n-1e-3,,TRUE,4\n",
		    "a,b,c,d\n1.0,'x',True,null\n2.5,'3',False,null\n-0.001,null,True,4.0\n");
	/* numbers and booleans in one column make it text too; quotes do not change types */
	expect_rows(CSV, "a,b\r\n1,\"2\"\r\ntrue,\"x,y\"\r\n", "a,b\n'1','2'\n'true','x,y'\n");
	expect_rows(CSV, "a\nnan\nNULL\n#N/A\n\"\"\n7\n", "a\nnull\nnull\nnull\nnull\n7.0\n");
	/* DataFrame.to_csv() with its index */
	expect_rows(CSV, ",a\n0,1\n1,2\n", "Unnamed: 0,a\n0.0,1.0\n1.0,2.0\n");
	expect_rows(CSV, "\xef\xbb\xbf,a\n0,1\n", "Unnamed: 0,a\n0.0,1.0\n");
	expect_rows_ct(CSV, "text/csv; charset=utf-8", "a\n1\n", "a\n1.0\n");

	expect_fail(CSV, "a,b\n", 400,
		    CSV_ERR "request body has a header but no rows: there are no rows to predict'");
	expect_fail(CSV, "", 400, CSV_ERR "request body: empty file, expected a header row'");
	expect_fail(CSV, "a,b\n1,2\n3\n", 400,
		    CSV_ERR
		    "request body:3:2: expected 2 fields, got 1 (the row ends before column 'b')'");
	expect_fail(CSV, "a,a\n1,2\n", 400,
		    CSV_ERR "request body:1:3: duplicate column name 'a' (also column 1)'");
	expect_fail(CSV, "a,b\n1,inf\n", 400,
		    CSV_ERR "request body:2:3: 'inf' in column 'b': infinite numbers and numbers "
			    "beyond the double range are not supported'");
}

static void test_mlflow_error_body(void **state)
{
	struct serve_error e = SERVE_ERROR_INIT;
	struct serve_input in = SERVE_INPUT_INIT;
	struct strbuf body = STRBUF_INIT;

	(void)state;
	static const char req[] = "{\"inputs\": [\"a\\\"b\", [1]]}";

	assert_int_equal(serve_parse_mlflow(&in, json_ct, req, strlen(req), &e), ERR_INVALID);
	assert_string_equal(e.content_type, "application/json");
	serve_error_write(&body, &e);
	assert_string_equal(body.buf,
			    "{\"error_code\": \"BAD_REQUEST\", \"message\": \"" TF_ERR
			    "inputs[1] is a list but inputs[0] is a single value: rows must be all "
			    "lists, all objects or all single values'\"}");
	strbuf_release(&body);
	serve_input_release(&in);
}

/* 30 features, as the breast-cancer example of docs/protocols.md. */
static void test_oip_documented(void **state)
{
	struct strbuf body = STRBUF_INIT, want = STRBUF_INIT;

	(void)state;
	strbuf_addstr(&body, "{\"inputs\":[{\"name\":\"input-0\",\"shape\":[1,30],\"datatype\":"
			     "\"FP64\",\"data\":[17.99");
	strbuf_addstr(&want, "#30\n17.99");
	for (int i = 1; i < 30; i++) {
		strbuf_addf(&body, ",%d.5", i);
		strbuf_addf(&want, ",%d.5", i);
	}
	strbuf_addstr(&body, "]}]}");
	strbuf_addch(&want, '\n');
	expect_rows(OIP, body.buf, want.buf);
	strbuf_release(&body);
	strbuf_release(&want);
}

static void test_oip_forms(void **state)
{
	struct serve_input in = SERVE_INPUT_INIT;
	struct serve_error e = SERVE_ERROR_INIT;
	static const char req[] =
	    "{\"id\": \"42\", \"parameters\": {\"content_type\": \"pd\", \"x\": 1, \"y\": true},"
	    " \"inputs\": [{\"name\": \"age\", \"shape\": [2], \"datatype\": \"INT32\","
	    " \"data\": [30, 41], \"parameters\": {}},"
	    " {\"name\": \"city\", \"shape\": [2, 1], \"datatype\": \"BYTES\", \"data\": [[\"a\"], "
	    "[\"b\"]]}],"
	    " \"outputs\": [{\"name\": \"predict_proba\", \"parameters\": {\"k\": \"v\"}}]}";
	static const char req2[] = "{\"inputs\": [{\"name\": \"a\", \"shape\": [1], \"datatype\": "
				   "\"BOOL\", \"data\": [true]}], \"outputs\": [{\"name\": "
				   "\"predict\"}]}";

	(void)state;
	expect_rows(OIP, req, "age,city\n30.0,'a'\n41.0,'b'\n");
	assert_int_equal(serve_parse_oip(&in, req, strlen(req), &e), 0);
	assert_string_equal(in.id, "42");
	assert_int_equal(in.outputs, SERVE_OUT_PROBA);
	assert_true(in.want_probabilities);
	/* without "outputs" every output comes back, probabilities included */
	assert_int_equal(serve_parse_oip(&in, req2, strlen(req2), &e), 0);
	assert_null(in.id);
	assert_int_equal(in.outputs, SERVE_OUT_PREDICT);
	assert_false(in.want_probabilities);
	serve_input_release(&in);

	/* nested or flat [n, k]; one [n] tensor is a named column */
	expect_rows(OIP,
		    "{\"inputs\": [{\"name\": \"x\", \"shape\": [2, 2], \"datatype\": \"FP32\","
		    " \"data\": [[1, 2.5], [null, -4]]}]}",
		    "#2\n1.0,2.5\nnull,-4.0\n");
	expect_rows(OIP,
		    "{\"inputs\": [{\"name\": \"x\", \"shape\": [2, 2], \"datatype\": \"UINT8\","
		    " \"data\": [1, 2, 3, 255]}]}",
		    "#2\n1.0,2.0\n3.0,255.0\n");
	expect_rows(OIP,
		    "{\"inputs\": [{\"name\": \"x\", \"shape\": [3], \"datatype\": \"INT64\","
		    " \"data\": [-9223372036854775808, 0, 2e3]}]}",
		    "x\n-9.223372036854776e+18\n0.0\n2000.0\n");
	expect_rows(OIP,
		    "{\"inputs\": [{\"name\": \"x\", \"shape\": [1, 1], \"datatype\": \"BYTES\","
		    " \"data\": [\"s\"]}], \"outputs\": []}",
		    "#1\n's'\n");
}

static void test_oip_errors(void **state)
{
#define IN(shape, dt, data)                                                                        \
	"{\"inputs\": [{\"name\": \"x\", \"shape\": " shape ", \"datatype\": \"" dt                \
	"\", \"data\": " data "}]}"
	(void)state;
	expect_fail(OIP, "[1]", 400, "the request body is a list: it must be an object");
	expect_fail(OIP, "{\"inputs\": [NaN]}", 400,
		    "the request body is not valid JSON: expected a value: line 1 column 13 "
		    "(char 12)");
	expect_fail(OIP, "{}", 400, "missing 'inputs'");
	expect_fail(OIP, "{\"inputs\": {}}", 400,
		    "'inputs' is an object: it must be a list of tensors");
	expect_fail(OIP, "{\"inputs\": []}", 400,
		    "'inputs' is empty: there are no rows to predict");
	expect_fail(OIP, "{\"inputs\": [1]}", 400,
		    "inputs[0] is a number: an input must be an object");
	expect_fail(OIP, "{\"inputs\": [{\"shape\": [1]}]}", 400, "inputs[0]: 'name' is missing");
	expect_fail(OIP, "{\"inputs\": [{\"name\": 1}]}", 400,
		    "inputs[0]: 'name' must be a string");
	expect_fail(OIP, "{\"inputs\": [{\"name\": \"x\", \"name\": \"y\"}]}", 400,
		    "inputs[0] has the key 'name' twice");
	expect_fail(OIP, "{\"inputs\": [{\"name\": \"x\"}]}", 400, "input 'x': missing 'shape'");
	expect_fail(OIP, IN("[2, 2, 2]", "FP64", "[]"), 400,
		    "input 'x': a shape of 3 dimensions is not supported: inputs are [n] or [n, k] "
		    "tensors");
	expect_fail(OIP, IN("[]", "FP64", "[1]"), 400,
		    "input 'x': a shape of 0 dimensions is not supported: inputs are [n] or [n, k] "
		    "tensors");
	expect_fail(OIP, IN("[-1]", "FP64", "[1]"), 400,
		    "input 'x': shape[0] is not a non-negative integer");
	expect_fail(OIP, IN("[1.5]", "FP64", "[1]"), 400,
		    "input 'x': shape[0] is not a non-negative integer");
	expect_fail(OIP, IN("[1]", "FP8", "[1]"), 400,
		    "input 'x': unknown datatype 'FP8' (BOOL, UINT8, UINT16, UINT32, UINT64, INT8, "
		    "INT16, INT32, INT64, FP16, FP32, FP64 or BYTES)");
	expect_fail(OIP,
		    "{\"inputs\": [{\"name\": \"x\", \"shape\": [1], \"datatype\": \"FP64\"}]}",
		    400, "input 'x': 'data' is missing");
	expect_fail(OIP, IN("[2, 3]", "FP64", "[1, 2, 3, 4, 5]"), 400,
		    "input 'x': shape [2, 3] needs 6 values, 'data' has 5");
	expect_fail(OIP, IN("[2, 3]", "FP64", "[[1, 2, 3]]"), 400,
		    "input 'x': shape [2, 3] needs 2 rows, 'data' has 1");
	expect_fail(OIP, IN("[2, 3]", "FP64", "[[1, 2, 3], [4, 5]]"), 400,
		    "input 'x': data[1] has 2 values, shape [2, 3] needs 3");
	expect_fail(
	    OIP, IN("[2, 1]", "FP64", "[[1], 2]"), 400,
	    "input 'x': data[1] is a number: 'data' must be a flat list of values or nested "
	    "as the shape");
	expect_fail(OIP, IN("[2]", "FP64", "[[1], [2]]"), 400,
		    "input 'x': data[0] is a list but shape [2] has one dimension");
	expect_fail(OIP, IN("[1, 1]", "FP64", "[[[1]]]"), 400,
		    "input 'x': data[0][0] is a list: 'data' is nested deeper than its shape");
	expect_fail(OIP, IN("[0]", "FP64", "[]"), 400,
		    "input 'x' has shape [0]: there are no rows to predict");
	expect_fail(OIP, IN("[2, 0]", "FP64", "[]"), 400,
		    "input 'x' has shape [2, 0]: there are no values in a row");
	expect_fail(OIP, IN("[1]", "BOOL", "[1]"), 400,
		    "input 'x': data[0] is a number: datatype BOOL takes true or false");
	expect_fail(OIP, IN("[1]", "INT8", "[128]"), 400,
		    "input 'x': data[0] is out of range for datatype INT8");
	expect_fail(OIP, IN("[1]", "UINT16", "[-1]"), 400,
		    "input 'x': data[0] is out of range for datatype UINT16");
	expect_fail(OIP, IN("[1, 2]", "INT32", "[[1, 1.5]]"), 400,
		    "input 'x': data[0][1] is not an integer for datatype INT32");
	expect_fail(OIP, IN("[1]", "INT64", "[null]"), 400,
		    "input 'x': data[0] is null: datatype INT64 takes integers");
	expect_fail(OIP, IN("[1]", "FP32", "[1e39]"), 400,
		    "input 'x': data[0] is out of range for datatype FP32");
	expect_fail(OIP, IN("[1]", "FP16", "[65520]"), 400,
		    "input 'x': data[0] is out of range for datatype FP16");
	expect_fail(OIP, IN("[1]", "FP64", "[1e309]"), 400,
		    "input 'x': data[0] is out of range for datatype FP64");
	expect_fail(OIP, IN("[1]", "FP64", "[\"1\"]"), 400,
		    "input 'x': data[0] is a string: datatype FP64 takes numbers or null");
	expect_fail(OIP, IN("[1]", "BYTES", "[1]"), 400,
		    "input 'x': data[0] is a number: datatype BYTES takes strings");
	expect_fail(OIP,
		    "{\"inputs\": [{\"name\": \"a\", \"shape\": [2], \"datatype\": \"FP64\", "
		    "\"data\": [1, 2]},"
		    " {\"name\": \"b\", \"shape\": [2, 2], \"datatype\": \"FP64\", \"data\": [1, "
		    "2, 3, 4]}]}",
		    400,
		    "input 'b' has shape [2, 2]: with several inputs, each must be one column, [n] "
		    "or [n, 1]");
	expect_fail(OIP,
		    "{\"inputs\": [{\"name\": \"a\", \"shape\": [2], \"datatype\": \"FP64\", "
		    "\"data\": [1, 2]},"
		    " {\"name\": \"b\", \"shape\": [1], \"datatype\": \"FP64\", \"data\": [1]}]}",
		    400, "input 'b' has 1 rows, input 'a' has 2");
	expect_fail(OIP,
		    "{\"inputs\": [{\"name\": \"a\", \"shape\": [1], \"datatype\": \"FP64\", "
		    "\"data\": [1]},"
		    " {\"name\": \"a\", \"shape\": [1], \"datatype\": \"FP64\", \"data\": [1]}]}",
		    400, "there are two inputs named 'a'");
	expect_fail(OIP, "{\"id\": 7, \"inputs\": []}", 400,
		    "'id' is a number: it must be a string");
	expect_fail(OIP, "{\"parameters\": {\"a\": [1]}, \"inputs\": []}", 400,
		    "parameter 'a' is a list: parameters must be strings, numbers or booleans");
	expect_fail(OIP, "{\"parameters\": 1, \"inputs\": []}", 400,
		    "'parameters' is a number: it must be an object");
	expect_fail(OIP,
		    "{\"inputs\": [{\"name\": \"x\", \"shape\": [1], \"datatype\": \"FP64\", "
		    "\"data\": [1], \"parameters\": {\"p\": null}}]}",
		    400,
		    "input 'x': parameter 'p' is null: parameters must be strings, numbers "
		    "or booleans");
	expect_fail(OIP,
		    "{\"inputs\": [{\"name\": \"x\", \"shape\": [1], \"datatype\": \"FP64\", "
		    "\"data\": [1]}], \"outputs\": [{\"name\": \"classes\"}]}",
		    400,
		    "unknown output 'classes': the model's outputs are 'predict' and "
		    "'predict_proba'");
	expect_fail(OIP,
		    "{\"inputs\": [{\"name\": \"x\", \"shape\": [1], \"datatype\": \"FP64\", "
		    "\"data\": [1]}], \"outputs\": {}}",
		    400, "'outputs' is an object: it must be a list");
	expect_fail(OIP, "{\"inputs\": [], \"inputs\": []}", 400,
		    "the request has the key 'inputs' twice");
	expect_fail(OIP, IN("[5000000]", "FP64", "[]"), 413,
		    "input 'x': the request has more than 4194304 cells");
#undef IN
}

static void test_oip_error_body(void **state)
{
	struct serve_error e = SERVE_ERROR_INIT;
	struct serve_input in = SERVE_INPUT_INIT;
	struct strbuf body = STRBUF_INIT;

	(void)state;
	assert_int_equal(serve_parse_oip(&in, "{}", 2, &e), ERR_INVALID);
	serve_error_write(&body, &e);
	assert_string_equal(body.buf, "{\"error\":\"missing 'inputs'\"}");
	assert_string_equal(e.content_type, "application/json");
	strbuf_release(&body);
	serve_input_release(&in);
}

static void test_kserve(void **state)
{
	struct serve_error e = SERVE_ERROR_INIT;
	struct serve_input in = SERVE_INPUT_INIT;
	struct strbuf body = STRBUF_INIT;

	(void)state;
	expect_rows(KSERVE, "{\"instances\": [[6.8, 2.8, 4.8, 1.4], [6.0, 3.4, 4.5, 1.6]]}",
		    "#4\n6.8,2.8,4.8,1.4\n6.0,3.4,4.5,1.6\n");
	expect_rows(KSERVE, "{\"instances\": [{\"a\": 1}, {\"b\": \"x\"}]}",
		    "a,b\n1.0,null\nnull,'x'\n");
	expect_rows(KSERVE, "{\"instances\": [true, false]}", "#1\nTrue\nFalse\n");
	expect_rows(KSERVE, "{\"instances\": [[1]], \"inputs\": [[2]], \"signature_name\": \"x\"}",
		    "#1\n2.0\n");

	expect_fail(KSERVE, "{\"instance\": [[1]]}", 400,
		    "Expected key \"instances\" in request body");
	expect_fail(KSERVE, "{\"instances\": {\"a\": [1]}}", 400,
		    "Expected \"instances\" to be a list");
	expect_fail(KSERVE, "{\"inputs\": 1}", 400, "Expected \"inputs\" to be a list");
	expect_fail(KSERVE, "{\"instances\": []}", 400,
		    "instances is empty: there are no rows to predict");
	expect_fail(KSERVE, "{\"instances\": [[1], 2]}", 400,
		    "instances[1] is a single value but instances[0] is a list: rows must be all "
		    "lists, all objects or all single values");
	expect_fail(KSERVE, "[]", 400,
		    "Unrecognized request format: the body is a list, not an object");
	expect_fail(KSERVE, "{\"instances\": [Infinity]}", 400,
		    "Unrecognized request format: expected a value: line 1 column 16 (char 15)");
	expect_fail(KSERVE, "{\"instances\": [1], \"instances\": [2]}", 400,
		    "Unrecognized request format: the key 'instances' appears twice");

	assert_int_equal(serve_parse_kserve_v1(&in, "{}", 2, &e), ERR_INVALID);
	serve_error_write(&body, &e);
	assert_string_equal(body.buf,
			    "{\"error\":\"Expected key \\\"instances\\\" in request body\"}");
	strbuf_release(&body);
	serve_input_release(&in);
}

/* A big request, then small ones into the same input, then a failure: no stale state. */
static void test_reuse(void **state)
{
	static const char small[] = "{\"instances\": [{\"q\": 1}]}";
	static const char bad[] = "{\"id\": \"a\", \"inputs\": 5}";
	struct serve_input in = SERVE_INPUT_INIT;
	struct serve_error e = SERVE_ERROR_INIT;
	struct strbuf big = STRBUF_INIT;

	(void)state;
	strbuf_addstr(&big, "{\"dataframe_records\": [");
	for (int i = 0; i < 5000; i++)
		strbuf_addf(&big, "%s{\"c%d\": %d, \"s\": \"v%d\"}", i ? "," : "", i % 300, i, i);
	strbuf_addstr(&big, "]}");
	assert_int_equal(serve_parse_mlflow(&in, json_ct, big.buf, big.len, &e), 0);
	assert_int_equal(in.nrows, 5000);
	assert_int_equal(in.ncols, 301);
	assert_string_equal(in.names[1], "s");
	assert_int_equal(in.cells[4999 * 301 + 1].type, SERVE_CELL_STRING);
	assert_string_equal(in.cells[4999 * 301 + 1].str, "v4999");
	assert_int_equal(in.cells[4999 * 301 + 2].type, SERVE_CELL_NULL);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(serve_parse_kserve_v1(&in, small, strlen(small), &e), 0);
		assert_int_equal(in.ncols, 1);
		assert_string_equal(in.names[0], "q");
	}
	assert_int_equal(serve_parse_oip(&in, bad, strlen(bad), &e), ERR_INVALID);
	assert_null(in.id);
	assert_int_equal(in.nrows, 0);
	serve_input_release(&in);
	serve_input_release(&in);
	serve_input_release(NULL);
	strbuf_release(&big);
}

static void test_limits(void **state)
{
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	/* 4M + 1 values */
	strbuf_addstr(&sb, "{\"instances\": [");
	for (unsigned i = 0; i < SERVE_MAX_VALUES; i++)
		strbuf_addstr(&sb, i ? ",0" : "0");
	strbuf_addstr(&sb, "]}");
	expect_fail(KSERVE, sb.buf, 413, "the request has more than 4194304 JSON values");
	expect_fail(MLFLOW, sb.buf, 400,
		    "Invalid input. the request has more than 4194304 JSON values");
	strbuf_release(&sb);
}

static void check_double(double x, const char *want)
{
	char buf[SERVE_DOUBLE_SIZE];

	assert_int_equal(serve_format_double(buf, x), strlen(want));
	assert_string_equal(buf, want);
}

static void check_against_printf(double x)
{
	char got[SERVE_DOUBLE_SIZE], want[SERVE_DOUBLE_SIZE];
	double back;
	int n = 0;

	for (int prec = 15; prec <= 17; prec++) {
		n = snprintf(want, sizeof(want), "%.*g", prec, x);
		if (strtod(want, NULL) == x)
			break;
	}
	if (!strpbrk(want, ".eni"))
		memcpy(want + n, ".0", 3);
	serve_format_double(got, x);
	if (strcmp(got, want))
		fail_msg("%a: got %s, want %s", x, got, want);
	back = strtod(got, NULL);
	assert_memory_equal(&back, &x, sizeof(x));
}

static void test_format_double(void **state)
{
	uint64_t s = 88172645463325252ull;

	(void)state;
	check_double(0.1, "0.1");
	check_double(3, "3.0");
	check_double(-0.0, "-0.0");
	check_double(1e-5, "1e-05");
	check_double(1e16, "1e+16");
	check_double(123456789012345.0, "123456789012345.0");
	check_double(1.0000000000000002, "1.0000000000000002");
	check_double(0.1 + 0.2, "0.30000000000000004");
	check_double(2.0 / 3, "0.6666666666666666");
	check_double(1.7976931348623157e308, "1.7976931348623157e+308");
	check_double(5e-324, "4.94065645841247e-324");
	check_double(1e-8, "1e-08");
	check_double(9.999999999999999e13, "99999999999999.98");
	check_double(0.00012345, "0.00012345");
	check_double(1.5e-5, "1.5e-05");
	check_double(0x1p-20, "9.5367431640625e-07");
	check_double(123456.789, "123456.789");
	check_double(-2.5, "-2.5");
	/*
	 * Random bit patterns, random values in the range served by integer arithmetic (1e-8 to
	 * 1e14) and values next to powers of two and ten: the text is what the shortest of %.15g,
	 * %.16g and %.17g gives, and reads back to the same bits.
	 */
	for (int i = 0; i < 600000; i++) {
		double x;

		s ^= s << 13;
		s ^= s >> 7;
		s ^= s << 17;
		switch (i % 3) {
		case 0:
			memcpy(&x, &s, sizeof(x));
			break;
		case 1:
			x = ldexp((double)(s >> 11), -53) * pow(10, (double)(s % 23) - 8);
			break;
		default:
			x = ldexp(1, (int)(s % 80) - 30) * (s & 1 ? 10 : 1);
			x = nextafter(x, s & 2 ? 0 : INFINITY);
			if (s & 4)
				x = pow(10, (double)(s % 23) - 8);
		}
		if (isfinite(x))
			check_against_printf(x);
	}
}

static const char *const yes_no[] = { "no", "yes" };
static const char *const zero_one[] = { "0", "1" };
static const size_t labels[] = { 1, 0 };
static const double probas[] = { 0.1, 0.9, 0.75, 0.25 };
static const double values[] = { 1.0000000000000002, 3.0 };

static struct serve_output classifier(const char *const *classes, int numeric)
{
	struct serve_output o = { 0 };

	o.nrows = 2;
	o.nclasses = 2;
	o.classes = classes;
	o.numeric_labels = numeric;
	o.label = labels;
	o.proba = probas;
	o.model_name = "bc";
	o.model_version = "3";
	return o;
}

static struct serve_output regressor(void)
{
	struct serve_output o = { 0 };

	o.nrows = 2;
	o.regression = 1;
	o.value = values;
	o.model_name = "reg";
	return o;
}

typedef int (*writer)(struct strbuf *, const struct serve_output *, const struct serve_input *,
		      struct serve_error *);

static void expect_body(writer w, const struct serve_output *o, const struct serve_input *in,
			const char *want)
{
	struct serve_error e = SERVE_ERROR_INIT;
	struct strbuf sb = STRBUF_INIT;

	assert_int_equal(w(&sb, o, in, &e), 0);
	assert_string_equal(sb.buf, want);
	strbuf_release(&sb);
}

static void expect_write_fail(writer w, const struct serve_output *o, const struct serve_input *in,
			      const char *want_body)
{
	struct serve_error e = SERVE_ERROR_INIT;
	struct strbuf sb = STRBUF_INIT;

	assert_int_equal(w(&sb, o, in, &e), ERR_INVALID);
	assert_int_equal(e.status, 400);
	strbuf_reset(&sb);
	serve_error_write(&sb, &e);
	assert_string_equal(sb.buf, want_body);
	strbuf_release(&sb);
}

static void test_write_mlflow(void **state)
{
	struct serve_output text = classifier(yes_no, 0), num = classifier(zero_one, 1);
	struct serve_output reg = regressor();
	struct serve_input in = SERVE_INPUT_INIT;
	static const char *const floats[] = { "1.0", "2.5" };
	struct serve_output fl = classifier(floats, 1);

	(void)state;
	/* docs/protocols.md's response */
	expect_body(serve_write_mlflow, &reg, &in, "{\"predictions\": [1.0000000000000002, 3.0]}");
	expect_body(serve_write_mlflow, &text, &in, "{\"predictions\": [\"yes\", \"no\"]}");
	expect_body(serve_write_mlflow, &num, NULL, "{\"predictions\": [1, 0]}");
	expect_body(serve_write_mlflow, &fl, NULL, "{\"predictions\": [2.5, 1.0]}");
	in.want_probabilities = 1;
	expect_body(serve_write_mlflow, &text, &in,
		    "{\"predictions\": [{\"prediction\": \"yes\", \"probability_no\": 0.1, "
		    "\"probability_yes\": 0.9}, {\"prediction\": \"no\", \"probability_no\": 0.75, "
		    "\"probability_yes\": 0.25}]}");
	expect_body(serve_write_mlflow, &num, &in,
		    "{\"predictions\": [{\"prediction\": 1, \"probability_0\": 0.1, "
		    "\"probability_1\": 0.9}, {\"prediction\": 0, \"probability_0\": 0.75, "
		    "\"probability_1\": 0.25}]}");
	expect_write_fail(serve_write_mlflow, &reg, &in,
			  "{\"error_code\": \"BAD_REQUEST\", \"message\": \"Invalid input. The "
			  "request asks for class probabilities, but model 'reg' is a regression "
			  "model\"}");
	text.proba = NULL;
	expect_write_fail(serve_write_mlflow, &text, &in,
			  "{\"error_code\": \"BAD_REQUEST\", \"message\": \"Invalid input. The "
			  "request asks for class probabilities, but model 'bc' does not give "
			  "them\"}");
}

static void test_write_oip(void **state)
{
	struct serve_output text = classifier(yes_no, 0), num = classifier(zero_one, 1);
	struct serve_output reg = regressor();
	static const char *const floats[] = { "1.0", "2.5" };
	struct serve_output fl = classifier(floats, 1);
	struct serve_input in = SERVE_INPUT_INIT;
	static const double odd[] = { NAN, 1e300 };
	char id[] = "42";

	(void)state;
	in.want_probabilities = 1; /* as parsed without "outputs" */
	in.id = id;
	expect_body(serve_write_oip, &text, &in,
		    "{\"model_name\":\"bc\",\"model_version\":\"3\",\"id\":\"42\",\"outputs\":["
		    "{\"name\":\"predict\",\"datatype\":\"BYTES\",\"shape\":[2],\"data\":[\"yes\","
		    "\"no\"]},{\"name\":\"predict_proba\",\"datatype\":\"FP64\",\"shape\":[2,2],"
		    "\"data\":[0.1,0.9,0.75,0.25]}]}");
	/* regression has no probabilities: left out when not named */
	expect_body(serve_write_oip, &reg, &in,
		    "{\"model_name\":\"reg\",\"id\":\"42\",\"outputs\":[{\"name\":\"predict\","
		    "\"datatype\":\"FP64\",\"shape\":[2],\"data\":[1.0000000000000002,3.0]}]}");
	in.id = NULL;
	in.outputs = SERVE_OUT_PREDICT;
	in.want_probabilities = 0;
	expect_body(serve_write_oip, &num, &in,
		    "{\"model_name\":\"bc\",\"model_version\":\"3\",\"outputs\":[{\"name\":"
		    "\"predict\",\"datatype\":\"INT64\",\"shape\":[2],\"data\":[1,0]}]}");
	expect_body(serve_write_oip, &fl, &in,
		    "{\"model_name\":\"bc\",\"model_version\":\"3\",\"outputs\":[{\"name\":"
		    "\"predict\",\"datatype\":\"FP64\",\"shape\":[2],\"data\":[2.5,1.0]}]}");
	in.outputs = SERVE_OUT_PROBA;
	in.want_probabilities = 1;
	num.proba = odd;
	num.nrows = 1;
	expect_body(serve_write_oip, &num, &in,
		    "{\"model_name\":\"bc\",\"model_version\":\"3\",\"outputs\":[{\"name\":"
		    "\"predict_proba\",\"datatype\":\"FP64\",\"shape\":[1,2],\"data\":[null,"
		    "1e+300]}]}");
	expect_write_fail(serve_write_oip, &reg, &in,
			  "{\"error\":\"unknown output 'predict_proba': model 'reg' is a "
			  "regression model\"}");
}

static void test_write_kserve(void **state)
{
	struct serve_output text = classifier(yes_no, 0), reg = regressor();
	static const char *const odd[] = { "a\"b", "c\n" };
	struct serve_output esc = classifier(odd, 0);
	struct serve_input in = SERVE_INPUT_INIT;

	(void)state;
	expect_body(serve_write_kserve_v1, &text, &in, "{\"predictions\":[\"yes\",\"no\"]}");
	expect_body(serve_write_kserve_v1, &reg, &in, "{\"predictions\":[1.0000000000000002,3.0]}");
	expect_body(serve_write_kserve_v1, &esc, &in, "{\"predictions\":[\"c\\n\",\"a\\\"b\"]}");
	in.want_probabilities = 1;
	expect_body(serve_write_kserve_v1, &text, &in, "{\"predictions\":[[0.1,0.9],[0.75,0.25]]}");
	expect_write_fail(serve_write_kserve_v1, &reg, &in,
			  "{\"error\":\"the request asks for class probabilities, but model 'reg' "
			  "is a regression model\"}");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mlflow_documented),
		cmocka_unit_test(test_mlflow_split),
		cmocka_unit_test(test_mlflow_records),
		cmocka_unit_test(test_mlflow_tf_serving),
		cmocka_unit_test(test_mlflow_keys_and_params),
		cmocka_unit_test(test_mlflow_json_errors),
		cmocka_unit_test(test_mlflow_content_types),
		cmocka_unit_test(test_mlflow_missing_content_type),
		cmocka_unit_test(test_mlflow_csv),
		cmocka_unit_test(test_mlflow_error_body),
		cmocka_unit_test(test_oip_documented),
		cmocka_unit_test(test_oip_forms),
		cmocka_unit_test(test_oip_errors),
		cmocka_unit_test(test_oip_error_body),
		cmocka_unit_test(test_kserve),
		cmocka_unit_test(test_reuse),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_format_double),
		cmocka_unit_test(test_write_mlflow),
		cmocka_unit_test(test_write_oip),
		cmocka_unit_test(test_write_kserve),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
