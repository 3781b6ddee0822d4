/*
 * MLflow search filters and order_by (track/filter.c) and page tokens (store/search.c): valid
 * filters from MLflow's documentation and the recorded client traffic, and every error message.
 * Expected page tokens are Python's base64.b64encode(json.dumps({"offset": N})).
 */
#include "util/common.h"
#include "track/filter.h"
#include "helpers.h"

#include <math.h>

/* Parses a runs filter that must be valid. */
static struct search_filter runs(const char *filter)
{
	struct search_filter f = SEARCH_FILTER_INIT;
	struct error err = ERROR_INIT;

	if (filter_parse_runs(&f, filter, &err))
		fail_msg("'%s': %s", filter, err.msg);
	return f;
}

/* A runs filter that must fail with exactly msg. */
static void runs_error(const char *filter, const char *msg)
{
	struct search_filter f = SEARCH_FILTER_INIT;
	struct error err = ERROR_INIT;

	if (filter_parse_runs(&f, filter, &err) != ERR_INVALID)
		fail_msg("'%s' was accepted", filter);
	if (strcmp(err.msg, msg))
		fail_msg("'%s':\n got      %s\n expected %s", filter, err.msg, msg);
	assert_int_equal(f.nr, 0);
}

static void experiments_error(const char *filter, const char *msg)
{
	struct search_filter f = SEARCH_FILTER_INIT;
	struct error err = ERROR_INIT;

	if (filter_parse_experiments(&f, filter, &err) != ERR_INVALID)
		fail_msg("'%s' was accepted", filter);
	if (strcmp(err.msg, msg))
		fail_msg("'%s':\n got      %s\n expected %s", filter, err.msg, msg);
}

static void assert_cond(const struct search_cond *c, enum search_entity entity, const char *key,
			enum search_op op)
{
	assert_int_equal(c->entity, entity);
	assert_string_equal(c->key, key);
	assert_int_equal(c->op, op);
}

static void test_empty(void **state)
{
	struct search_filter f;

	(void)state;
	f = runs(NULL);
	assert_int_equal(f.nr, 0);
	f = runs("");
	assert_int_equal(f.nr, 0);
	f = runs("  \t\n ");
	assert_int_equal(f.nr, 0);
	search_filter_release(&f);
	search_filter_release(&f); /* a second release is a no-op */
}

/* The filter the MLflow client sent in reference/mlflow/exchanges_pretty.txt. */
static void test_recorded(void **state)
{
	struct search_filter f;

	(void)state;
	f = runs("metrics.acc > 0.2 and params.model = 'lr' and attributes.status = 'FINISHED'");
	assert_int_equal(f.nr, 3);
	assert_cond(&f.items[0], SEARCH_METRIC, "acc", SEARCH_OP_GT);
	assert_int_equal(f.items[0].type, SEARCH_VALUE_NUMBER);
	assert_true(f.items[0].num == 0.2);
	assert_cond(&f.items[1], SEARCH_PARAM, "model", SEARCH_OP_EQ);
	assert_int_equal(f.items[1].type, SEARCH_VALUE_STRING);
	assert_string_equal(f.items[1].str, "lr");
	assert_cond(&f.items[2], SEARCH_ATTRIBUTE, "status", SEARCH_OP_EQ);
	assert_int_equal(f.items[2].attr, SEARCH_ATTR_STATUS);
	assert_string_equal(f.items[2].str, "FINISHED");
	search_filter_release(&f);

	f = runs("metrics.loss < 1"); /* fluent_trace.jsonl */
	assert_int_equal(f.nr, 1);
	assert_cond(&f.items[0], SEARCH_METRIC, "loss", SEARCH_OP_LT);
	assert_true(f.items[0].num == 1.0);
	search_filter_release(&f);
}

/* Examples from MLflow's search-runs documentation. */
static void test_documented(void **state)
{
	static const char *const ok[] = {
		"metrics.rmse < 1 and params.model = 'tree'",
		"params.model = \"CNN\"",
		"params.model LIKE 'CNN%'",
		"params.model ILIKE '%cnn%'",
		"tags.mlflow.source.type = 'LOCAL'",
		"tags.\"mlflow.source.type\" = 'LOCAL'",
		"tags.`mlflow.source.git.commit` != 'abc'",
		"attributes.artifact_uri = 'mlflow-artifacts:/1/x/artifacts'",
		"attributes.start_time >= 1664067852747",
		"attributes.run_name = 'my-run'",
		"attributes.`Run name` = 'my-run'",
		"attributes.run_id IN ('a1b2c3', 'd4e5f6')",
		"attributes.run_id NOT IN ('a1b2c3')",
		"attributes.user_id = 'root'",
		"attributes.end_time < 1664067852747",
		"datasets.name = 'iris' and datasets.digest = 'abc' and datasets.context = "
		"'training'",
		"datasets.name IN ('a', 'b')",
		"metrics.`f1 score` > .9 AND metrics.loss <= 1e-3",
		"status = 'FINISHED' and run_name LIKE 'train-%'",
		"created > 0 and Created < 9e99",
		"metric.a != 0 AND param.b = 'x' AND parameter.c = 'y' AND parameters.d = 'z'",
		"tag.t = 'x' and attr.status = 'RUNNING' and run.user_id = 'u' and dataset.name = "
		"'n'",
		"`metrics`.a = 1",
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
		struct search_filter f = runs(ok[i]);

		assert_true(f.nr >= 1);
		search_filter_release(&f);
	}
}

static void test_keys_and_aliases(void **state)
{
	struct search_filter f;

	(void)state;
	f = runs("tags.`my tag` = 'x' AnD metrics.\"val loss\" <= -1.5e3 and "
		 "tags.mlflow.runName = 'r1' and `Run name` = 'r' and created > 5 and "
		 "metric.a.b = 2");
	assert_int_equal(f.nr, 6);
	assert_cond(&f.items[0], SEARCH_TAG, "my tag", SEARCH_OP_EQ);
	assert_cond(&f.items[1], SEARCH_METRIC, "val loss", SEARCH_OP_LE);
	assert_true(f.items[1].num == -1500.0);
	assert_cond(&f.items[2], SEARCH_TAG, "mlflow.runName", SEARCH_OP_EQ);
	assert_cond(&f.items[3], SEARCH_ATTRIBUTE, "run_name", SEARCH_OP_EQ);
	assert_int_equal(f.items[3].attr, SEARCH_ATTR_RUN_NAME);
	assert_cond(&f.items[4], SEARCH_ATTRIBUTE, "start_time", SEARCH_OP_GT);
	assert_int_equal(f.items[4].attr, SEARCH_ATTR_START_TIME);
	assert_int_equal(f.items[4].type, SEARCH_VALUE_NUMBER);
	assert_cond(&f.items[5], SEARCH_METRIC, "a.b", SEARCH_OP_EQ);
	search_filter_release(&f);
}

static void test_values(void **state)
{
	static const struct {
		const char *text;
		double v;
	} nums[] = {
		{ "1", 1 },	    { "-1", -1 },    { ".5", 0.5 },
		{ "1.", 1 },	    { "1e5", 1e5 },  { "1.5E-3", 1.5e-3 },
		{ "-0.25", -0.25 }, { "-.5", -0.5 }, { "1e999", INFINITY },
	};
	struct search_filter f;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(nums); i++) {
		char buf[64];

		snprintf(buf, sizeof(buf), "metrics.m = %s", nums[i].text);
		f = runs(buf);
		if (f.items[0].num != nums[i].v)
			fail_msg("%s: got %g", buf, f.items[0].num);
		search_filter_release(&f);
	}
	/* '' is one quote; backslashes stay as MLflow passes them; "..." is a string too. */
	f = runs("tags.a = 'it''s' and tags.b = 'a\\'b' and params.c = \"x y\" and tags.d = ''");
	assert_string_equal(f.items[0].str, "it's");
	assert_string_equal(f.items[1].str, "a\\'b");
	assert_string_equal(f.items[2].str, "x y");
	assert_string_equal(f.items[3].str, "");
	search_filter_release(&f);
	/* Comparators in any case; AND anywhere, as sqlparse leaves it. */
	f = runs("params.a like 'x%' and tags.b ilike '%Y' and run_id not in ('ab')");
	assert_int_equal(f.items[0].op, SEARCH_OP_LIKE);
	assert_int_equal(f.items[1].op, SEARCH_OP_ILIKE);
	assert_int_equal(f.items[2].op, SEARCH_OP_NOT_IN);
	search_filter_release(&f);
	f = runs("and metrics.a=1 and metrics.b>=2 AND");
	assert_int_equal(f.nr, 2);
	search_filter_release(&f);
}

static void test_lists(void **state)
{
	struct search_filter f;

	(void)state;
	/* MLflow drops ids with upper-case letters: run ids are lower-case hex. */
	f = runs("run_id IN ('abc', 'ABC', 'd''e' , 'f')");
	assert_int_equal(f.items[0].type, SEARCH_VALUE_LIST);
	assert_int_equal(f.items[0].nr_list, 3);
	assert_string_equal(f.items[0].list[0], "abc");
	assert_string_equal(f.items[0].list[1], "d'e");
	assert_string_equal(f.items[0].list[2], "f");
	search_filter_release(&f);
	f = runs("datasets.digest IN ('ABC')");
	assert_int_equal(f.items[0].nr_list, 1);
	assert_string_equal(f.items[0].list[0], "ABC");
	search_filter_release(&f);
}

static void test_filter_errors(void **state)
{
	(void)state;
	runs_error("metrics.a > 1 OR metrics.b < 2", "Invalid clause(s) in filter string: 'OR'");
	runs_error("metrics.a > 1 or metrics.b < 2 or x", "Invalid clause(s) in filter string: "
							  "'or', 'or', 'x'");
	runs_error("(metrics.a > 1)", "Invalid clause(s) in filter string: '(metrics.a > 1)'");
	runs_error("metrics.a > 1 AND (params.b = 'x' OR params.c = 'y')",
		   "Invalid clause(s) in filter string: '(params.b = 'x' OR params.c = 'y')'");
	runs_error("metrics.a", "Invalid clause(s) in filter string: 'metrics.a'");
	runs_error("metrics.a >", "Invalid clause(s) in filter string: 'metrics.a >'");
	runs_error("params.a = 'open", "Invalid clause(s) in filter string: 'params.a = 'open'");
	runs_error("metrics.a >> 1",
		   "Invalid comparator '>>' not one of '{'>', '<', '<=', '=', '>=', '!='}");
	runs_error("metrics.a LIKE 1",
		   "Invalid comparator 'LIKE' not one of '{'>', '<', '<=', '=', '>=', '!='}");
	runs_error("metrics.a = 'x'", "Expected numeric value type for metric. Found 'x'");
	runs_error("metrics.a = x", "Expected numeric value type for metric. Found x");
	runs_error("foo.a = 1", "Invalid entity type 'foo'. Valid values are ['metric', "
				"'parameter', 'tag', 'attribute', 'dataset']");
	runs_error("Metrics.a = 1", "Invalid entity type 'Metrics'. Valid values are ['metric', "
				    "'parameter', 'tag', 'attribute', 'dataset']");
	runs_error("params.a = 1",
		   "Expected a quoted string value for parameter (e.g. 'my-value'). Got value 1");
	runs_error("tags.a = 1",
		   "Expected a quoted string value for tag (e.g. 'my-value'). Got value 1");
	runs_error("tags.a = x",
		   "Parameter value is either not quoted or unidentified quote types used for "
		   "string value x. Use either single or double quotes.");
	runs_error("params.a > 'x'",
		   "Invalid comparator '>' not one of '{'!=', '=', 'LIKE', 'ILIKE'}'");
	runs_error("tags.a < 'x'",
		   "Invalid comparator '<' not one of '{'!=', '=', 'LIKE', 'ILIKE'}");
	runs_error("params.a IN ('x')", "Expected a quoted string value for parameter (e.g. "
					"'my-value'). Got value ('x')");
	runs_error(
	    "attributes.foo = 'x'",
	    "Invalid attribute key 'foo' specified. Valid keys are '{'artifact_uri', "
	    "'created', 'Created', 'end_time', 'run_id', 'run_name', 'run name', 'Run name', "
	    "'Run Name', 'start_time', 'status', 'user_id'}'");
	runs_error("experiment_id = '1'",
		   "Invalid attribute key 'experiment_id' specified. Valid keys are "
		   "'{'artifact_uri', 'created', 'Created', 'end_time', 'run_id', 'run_name', 'run "
		   "name', 'Run name', 'Run Name', 'start_time', 'status', 'user_id'}'");
	runs_error("start_time = 'x'",
		   "Expected numeric value type for numeric attribute: start_time. Found 'x'");
	runs_error("created = 'x'",
		   "Expected numeric value type for numeric attribute: start_time. Found 'x'");
	runs_error("start_time LIKE 1",
		   "Invalid comparator 'LIKE' not one of '{'>', '<', '<=', '=', '>=', '!='}");
	runs_error("status > 'x'", "Invalid comparator '>' not one of '{'!=', '=', 'LIKE', "
				   "'ILIKE', 'IN', 'NOT IN'}'");
	runs_error("status = 1", "Expected a quoted string value for attributes. Got value 1");
	runs_error("status IN ('a')", "Only the 'run_id' attribute supports comparison with a "
				      "list of quoted string values.");
	runs_error("run_id IN ()", "While parsing a list in the query, expected a non-empty list "
				   "of string values, but got empty list");
	runs_error("run_id IN ('a', 1)",
		   "While parsing a list in the query, expected string value, punctuation, or "
		   "whitespace, but got different type in list: ('a', 1)");
	runs_error("run_id IN ('a',)",
		   "While parsing a list in the query, expected string value, punctuation, or "
		   "whitespace, but got different type in list: ('a',)");
	runs_error("run_id IN 'a'", "Comparator 'IN' expects a list of quoted strings such as "
				    "('a', 'b'). Got value 'a'");
	runs_error("run_id = ('a')", "Comparator '=' cannot compare with a list of values ('a'); "
				     "use IN or NOT IN");
	runs_error("run_id NOT LIKE 'a'", "Invalid comparator 'NOT LIKE' not one of '{'!=', '=', "
					  "'LIKE', 'ILIKE', 'IN', 'NOT IN'}'");
	runs_error("datasets.name > 'x'", "Invalid comparator '>' not one of '{'!=', '=', "
					  "'LIKE', 'ILIKE', 'IN', 'NOT IN'}");
	runs_error("datasets.foo = 'x'", "Invalid dataset key 'foo' specified. Valid keys are "
					 "'{'name', 'digest', 'context'}'");
	runs_error("datasets.name = 1",
		   "Expected a quoted string value for dataset attributes. Got value 1");
	/* Clauses are checked before values: the bad clause wins. */
	runs_error("metrics.a = 'x' OR b", "Invalid clause(s) in filter string: 'OR', 'b'");
}

/* Parses an order_by list that must be valid. */
static struct search_orders order(const char *const *terms, size_t n)
{
	struct search_orders o = SEARCH_ORDERS_INIT;
	struct error err = ERROR_INIT;

	if (filter_parse_run_order(&o, terms, n, &err))
		fail_msg("'%s'...: %s", terms[0], err.msg);
	return o;
}

static void order_error(const char *const *terms, size_t n, const char *msg)
{
	struct search_orders o = SEARCH_ORDERS_INIT;
	struct error err = ERROR_INIT;

	if (filter_parse_run_order(&o, terms, n, &err) != ERR_INVALID)
		fail_msg("'%s' was accepted", terms[0]);
	if (strcmp(err.msg, msg))
		fail_msg("'%s':\n got      %s\n expected %s", terms[0], err.msg, msg);
	assert_int_equal(o.nr, 0);
}

static void test_order(void **state)
{
	static const char *const recorded[] = { "metrics.acc DESC", "start_time ASC" };
	static const char *const more[] = {
		"params.`a b` asc",    "`Run name` DESC",    "created",
		"tags.\"x.y\"  desc ", "attributes.user_id", "metric.m"
	};
	struct search_orders o;

	(void)state;
	o = order(recorded, 2);
	assert_int_equal(o.nr, 2);
	assert_int_equal(o.items[0].entity, SEARCH_METRIC);
	assert_string_equal(o.items[0].key, "acc");
	assert_false(o.items[0].ascending);
	assert_int_equal(o.items[1].entity, SEARCH_ATTRIBUTE);
	assert_int_equal(o.items[1].attr, SEARCH_ATTR_START_TIME);
	assert_true(o.items[1].ascending);
	search_orders_release(&o);

	o = order(more, ARRAY_SIZE(more));
	assert_int_equal(o.items[0].entity, SEARCH_PARAM);
	assert_string_equal(o.items[0].key, "a b");
	assert_true(o.items[0].ascending);
	assert_int_equal(o.items[1].attr, SEARCH_ATTR_RUN_NAME);
	assert_false(o.items[1].ascending);
	assert_int_equal(o.items[2].attr, SEARCH_ATTR_START_TIME);
	assert_int_equal(o.items[3].entity, SEARCH_TAG);
	assert_string_equal(o.items[3].key, "x.y");
	assert_false(o.items[3].ascending);
	assert_int_equal(o.items[4].attr, SEARCH_ATTR_USER_ID);
	assert_int_equal(o.items[5].entity, SEARCH_METRIC);
	search_orders_release(&o);

	o = order(NULL, 0);
	assert_int_equal(o.nr, 0);
}

static void test_order_errors(void **state)
{
	static const char *const dup[] = { "metrics.a", "metrics.a DESC" };
	static const char *const dup_alias[] = { "created", "start_time" };
	const char *one[1];

	(void)state;
	one[0] = "foo.a";
	order_error(one, 1,
		    "Invalid entity type 'foo'. Valid values are ['metric', 'parameter', "
		    "'tag', 'attribute', 'dataset']");
	one[0] = "metrics.a DESC, metrics.b";
	order_error(one, 1,
		    "Invalid order_by clause 'metrics.a DESC, metrics.b'. Could not be "
		    "parsed.");
	one[0] = "metrics.a > 1";
	order_error(one, 1, "Invalid order_by clause 'metrics.a > 1'. Could not be parsed.");
	one[0] = "";
	order_error(one, 1, "Invalid order_by clause ''. Could not be parsed.");
	one[0] = "metrics.`open";
	order_error(one, 1, "Invalid order_by clause 'metrics.`open'. Could not be parsed.");
	one[0] = "metrics.a up";
	order_error(one, 1, "Invalid ordering key in order_by clause 'metrics.a up'.");
	one[0] = "datasets.name";
	order_error(one, 1, "Invalid identifier type 'dataset'");
	one[0] = "foo";
	order_error(one, 1,
		    "Invalid attribute key 'foo' specified. Valid keys are "
		    "'{'artifact_uri', 'created', 'Created', 'end_time', 'run_id', "
		    "'run_name', 'run name', 'Run name', 'Run Name', 'start_time', "
		    "'status', 'user_id'}'");
	order_error(dup, 2,
		    "`order_by` contains duplicate fields: ['metrics.a', 'metrics.a DESC']");
	order_error(dup_alias, 2,
		    "`order_by` contains duplicate fields: ['created', 'start_time']");
}

static void test_experiments(void **state)
{
	static const char *const terms[] = { "name", "creation_time DESC",
					     "attribute.experiment_id", "last_update_time" };
	static const char *const tag[] = { "tags.a" };
	static const char *const bad[] = { "foo" };
	struct search_filter f = SEARCH_FILTER_INIT;
	struct search_orders o = SEARCH_ORDERS_INIT;
	struct error err = ERROR_INIT;

	(void)state;
	/* The filter the MLflow client sent (exchanges_pretty.txt). */
	assert_ok(filter_parse_experiments(&f, "name LIKE 'exp-%'", &err));
	assert_int_equal(f.nr, 1);
	assert_cond(&f.items[0], SEARCH_ATTRIBUTE, "name", SEARCH_OP_LIKE);
	assert_int_equal(f.items[0].attr, SEARCH_ATTR_EXPERIMENT_NAME);
	search_filter_release(&f);
	assert_ok(filter_parse_experiments(
	    &f,
	    "tags.team = 'a' and tag.`k 2` != 'v' and creation_time > 5 and "
	    "attribute.last_update_time <= 7 and name = \"x\"",
	    &err));
	assert_int_equal(f.nr, 5);
	assert_cond(&f.items[0], SEARCH_TAG, "team", SEARCH_OP_EQ);
	assert_cond(&f.items[1], SEARCH_TAG, "k 2", SEARCH_OP_NE);
	assert_cond(&f.items[2], SEARCH_ATTRIBUTE, "creation_time", SEARCH_OP_GT);
	assert_true(f.items[2].num == 5);
	assert_cond(&f.items[3], SEARCH_ATTRIBUTE, "last_update_time", SEARCH_OP_LE);
	search_filter_release(&f);

	experiments_error("metrics.a > 1", "Invalid entity type 'metrics'. Valid entity types "
					   "are ('attribute', 'tag', 'tags')");
	experiments_error("name > 'x'", "Invalid comparator for string attribute: >");
	experiments_error("creation_time LIKE 1", "Invalid comparator for numeric attribute: LIKE");
	experiments_error("tags.a > 'x'", "Invalid comparator for tag: >");
	experiments_error("foo = 'x'", "Invalid attribute key 'foo' specified. Valid keys are "
				       "'{'name', 'creation_time', 'last_update_time'}'");
	experiments_error("creation_time = 'x'", "Expected numeric value type for numeric "
						 "attribute: creation_time. Found 'x'");
	experiments_error("name = 1 OR name = 2", "Invalid clause(s) in filter string: 'OR'");

	assert_ok(filter_parse_experiment_order(&o, terms, ARRAY_SIZE(terms), &err));
	assert_int_equal(o.nr, 4);
	assert_int_equal(o.items[0].attr, SEARCH_ATTR_EXPERIMENT_NAME);
	assert_int_equal(o.items[1].attr, SEARCH_ATTR_CREATION_TIME);
	assert_false(o.items[1].ascending);
	assert_int_equal(o.items[2].attr, SEARCH_ATTR_EXPERIMENT_ID);
	assert_int_equal(o.items[3].attr, SEARCH_ATTR_LAST_UPDATE_TIME);
	search_orders_release(&o);
	assert_int_equal(filter_parse_experiment_order(&o, tag, 1, &err), ERR_INVALID);
	assert_string_equal(err.msg, "Invalid order_by entity: tag");
	assert_int_equal(filter_parse_experiment_order(&o, bad, 1, &err), ERR_INVALID);
	assert_string_equal(err.msg, "Invalid attribute key 'foo' specified. Valid keys are "
				     "'{'name', 'experiment_id', 'creation_time', "
				     "'last_update_time'}'");
}

static void token_error(const char *token, const char *msg)
{
	struct error err = ERROR_INIT;
	int64_t off = 42;

	if (search_page_token_decode(&off, token, &err) != ERR_INVALID)
		fail_msg("token '%s' was accepted", token);
	if (strcmp(err.msg, msg))
		fail_msg("token '%s':\n got      %s\n expected %s", token, err.msg, msg);
	assert_int_equal(off, 42);
}

static void test_page_tokens(void **state)
{
	struct error err = ERROR_INIT;
	int64_t off = -1;
	char *t;

	(void)state;
	t = search_page_token_encode(2);
	assert_string_equal(t, "eyJvZmZzZXQiOiAyfQ==");
	free(t);
	t = search_page_token_encode(1000);
	assert_string_equal(t, "eyJvZmZzZXQiOiAxMDAwfQ==");
	free(t);
	t = search_page_token_encode(123456789);
	assert_string_equal(t, "eyJvZmZzZXQiOiAxMjM0NTY3ODl9");
	free(t);
	for (int64_t v = 1; v < 5000; v += 37) {
		t = search_page_token_encode(v);
		assert_ok(search_page_token_decode(&off, t, &err));
		assert_int_equal(off, v);
		free(t);
	}
	assert_ok(search_page_token_decode(&off, NULL, &err));
	assert_int_equal(off, 0);
	off = 9;
	assert_ok(search_page_token_decode(&off, "", &err));
	assert_int_equal(off, 0);
	assert_ok(search_page_token_decode(&off, "eyJvZmZzZXQiOiAiNyJ9", &err)); /* "7" */
	assert_int_equal(off, 7);

	token_error("!!!!", "Invalid page token, could not base64-decode");
	token_error("eyJvZmZzZXQiOiAyfQ", "Invalid page token, could not base64-decode");
	token_error("eyJvZmZzZXQiOiAyfQ=a", "Invalid page token, could not base64-decode");
	token_error("bm90IGpzb24=", "Invalid page token, decoded value=not json");
	token_error("eyJvZmZzZXQiOiAwfQ==", "Invalid page token, parsed value={\"offset\":0}");
	token_error("eyJvZmZzZXQiOiAtM30=", "Invalid page token, parsed value={\"offset\":-3}");
	token_error("eyJ4IjogMX0=", "Invalid page token, parsed value={\"x\":1}");
	token_error("WzFd", "Invalid page token, parsed value=[1]");
	token_error("eyJvZmZzZXQiOiAiYWJjIn0=", "Invalid page token, not stringable abc");
}

static void test_limits_and_globs(void **state)
{
	struct error err = ERROR_INIT;
	int64_t n = 0;
	char *g;

	(void)state;
	assert_ok(search_max_results(&n, 0, &err));
	assert_int_equal(n, 1000);
	assert_ok(search_max_results(&n, 50000, &err));
	assert_int_equal(n, 50000);
	assert_int_equal(search_max_results(&n, 50001, &err), ERR_INVALID);
	assert_string_equal(err.msg, "Invalid value for request parameter max_results. It must be "
				     "at most 50000, but got value 50001");
	assert_int_equal(search_max_results(&n, -1, &err), ERR_INVALID);
	assert_string_equal(
	    err.msg, "Invalid value for max_results. It must be a positive integer, but got -1");

	g = search_like_to_glob("a%b_c*?[]%");
	assert_string_equal(g, "a*b?c[*][?][[]]*");
	free(g);
}

/* Registry ------------------------------------------------------------------------------------ */

typedef int (*filter_fn)(struct search_filter *, const char *, struct error *);
typedef int (*order_fn)(struct search_orders *, const char *const *, size_t, struct error *);

static struct search_filter parse_ok(filter_fn fn, const char *filter)
{
	struct search_filter f = SEARCH_FILTER_INIT;
	struct error err = ERROR_INIT;

	if (fn(&f, filter, &err))
		fail_msg("'%s': %s", filter, err.msg);
	return f;
}

static void parse_error(filter_fn fn, const char *filter, const char *msg)
{
	struct search_filter f = SEARCH_FILTER_INIT;
	struct error err = ERROR_INIT;

	if (fn(&f, filter, &err) != ERR_INVALID)
		fail_msg("'%s' was accepted", filter);
	if (strcmp(err.msg, msg))
		fail_msg("'%s':\n got      %s\n expected %s", filter, err.msg, msg);
	assert_int_equal(f.nr, 0);
}

static void registry_order_error(order_fn fn, const char *order_by, int code, const char *msg)
{
	struct search_orders o = SEARCH_ORDERS_INIT;
	struct error err = ERROR_INIT;
	const char *list[] = { order_by };

	if (fn(&o, list, 1, &err) != code)
		fail_msg("'%s': expected %d, got: %s", order_by, code, err.msg);
	if (strcmp(err.msg, msg))
		fail_msg("'%s':\n got      %s\n expected %s", order_by, err.msg, msg);
}

/* The filters of the recorded traffic and of MLflow's registry docs. */
static void test_models(void **state)
{
	struct search_filter f;

	(void)state;
	f = parse_ok(filter_parse_models, "name = 'lab-model'");
	assert_int_equal(f.nr, 1);
	assert_cond(&f.items[0], SEARCH_ATTRIBUTE, "name", SEARCH_OP_EQ);
	assert_int_equal(f.items[0].attr, SEARCH_ATTR_MODEL_NAME);
	assert_string_equal(f.items[0].str, "lab-model");
	search_filter_release(&f);
	f = parse_ok(
	    filter_parse_models,
	    "attribute.name ilike '%Lab%' and tags.`team name` != \"a\" AND tag.k like 'v%'");
	assert_int_equal(f.nr, 3);
	assert_cond(&f.items[0], SEARCH_ATTRIBUTE, "name", SEARCH_OP_ILIKE);
	assert_cond(&f.items[1], SEARCH_TAG, "team name", SEARCH_OP_NE);
	assert_string_equal(f.items[1].str, "a");
	assert_cond(&f.items[2], SEARCH_TAG, "k", SEARCH_OP_LIKE);
	search_filter_release(&f);
	f = parse_ok(filter_parse_models, NULL);
	assert_int_equal(f.nr, 0);

	parse_error(filter_parse_models, "creation_timestamp > 5",
		    "Invalid attribute key 'creation_timestamp' specified. Valid keys are "
		    "'{'name'}'");
	parse_error(filter_parse_models, "metrics.a = 1",
		    "Invalid entity type 'metrics'. Valid entity types are ('attribute', 'tag', "
		    "'tags')");
	parse_error(filter_parse_models, "name = 5",
		    "Expected a quoted string value or a list of quoted string values for "
		    "attributes. Got value 5");
	parse_error(filter_parse_models, "name IN ('a', 'b')",
		    "Only the 'run_id' attribute supports comparison with a list of quoted string "
		    "values.");
	parse_error(filter_parse_models, "tags.k = 5",
		    "Expected a quoted string value for tag (e.g. 'my-value'). Got value 5");
	parse_error(filter_parse_models, "name = abc",
		    "Parameter value is either not quoted or unidentified quote types used for "
		    "string value abc. Use either single or double quotes.");
	parse_error(filter_parse_models, "name > 'a'", "Invalid comparator for attribute: >");
	parse_error(filter_parse_models, "tags.k >= 'a'", "Invalid comparator for tag: >=");
	/* values are checked for every condition before any comparator */
	parse_error(filter_parse_models, "name > 'a' and tags.k = 1",
		    "Expected a quoted string value for tag (e.g. 'my-value'). Got value 1");
	parse_error(filter_parse_models, "name = 'a' OR name = 'b'",
		    "Invalid clause(s) in filter string: 'OR'");
}

static void test_model_versions(void **state)
{
	struct search_filter f;

	(void)state;
	/* the client's filter (exchanges_pretty.txt), no blanks around '=' */
	f = parse_ok(filter_parse_model_versions, "name='lab-model'");
	assert_int_equal(f.nr, 1);
	assert_int_equal(f.items[0].attr, SEARCH_ATTR_MODEL_NAME);
	search_filter_release(&f);
	f = parse_ok(filter_parse_model_versions,
		     "run_id IN ('abc', 'DEF', 'de01') and source_path LIKE 'runs:/%' and "
		     "version_number >= 2 and version_number != '3' and tags.stage = 'ok'");
	assert_int_equal(f.nr, 5);
	assert_cond(&f.items[0], SEARCH_ATTRIBUTE, "run_id", SEARCH_OP_IN);
	assert_int_equal(f.items[0].type, SEARCH_VALUE_LIST);
	assert_int_equal(f.items[0].nr_list, 2); /* MLflow drops ids with capitals */
	assert_string_equal(f.items[0].list[1], "de01");
	assert_cond(&f.items[1], SEARCH_ATTRIBUTE, "source_path", SEARCH_OP_LIKE);
	assert_int_equal(f.items[1].attr, SEARCH_ATTR_SOURCE_PATH);
	assert_cond(&f.items[2], SEARCH_ATTRIBUTE, "version_number", SEARCH_OP_GE);
	assert_int_equal(f.items[2].type, SEARCH_VALUE_NUMBER);
	assert_true(f.items[2].num == 2);
	/* a quoted number is the number, as SQL's column affinity makes it in MLflow */
	assert_int_equal(f.items[3].type, SEARCH_VALUE_NUMBER);
	assert_true(f.items[3].num == 3);
	assert_cond(&f.items[4], SEARCH_TAG, "stage", SEARCH_OP_EQ);
	search_filter_release(&f);

	parse_error(filter_parse_model_versions, "creation_timestamp > 1",
		    "Invalid attribute key 'creation_timestamp' specified. Valid keys are "
		    "'{'name', 'version_number', 'run_id', 'source_path'}'");
	parse_error(filter_parse_model_versions, "name = 1",
		    "Only the '{'version_number', 'creation_timestamp', 'last_updated_timestamp'}' "
		    "attributes support comparison with numeric values.");
	parse_error(filter_parse_model_versions, "source_path IN ('a')",
		    "Only the 'run_id' attribute supports comparison with a list of quoted string "
		    "values.");
	parse_error(filter_parse_model_versions, "run_id NOT IN ('a')",
		    "Invalid comparator for attribute: NOT IN");
	parse_error(filter_parse_model_versions, "name in 'a'",
		    "Invalid comparator for attribute: IN");
	parse_error(filter_parse_model_versions, "version_number LIKE '1%'",
		    "Expected a numeric value for attribute version_number. Found '1%'");
	parse_error(filter_parse_model_versions, "version_number like 1",
		    "Invalid comparator for attribute version_number: LIKE");
	parse_error(filter_parse_model_versions, "run_id = ('a', 'b')",
		    "Comparator '=' cannot compare with a list of values ('a', 'b'); use IN or NOT "
		    "IN");
	parse_error(
	    filter_parse_model_versions, "run_id IN ()",
	    "While parsing a list in the query, expected a non-empty list of string values, "
	    "but got empty list");
	parse_error(filter_parse_model_versions, "tags.k IN ('a')",
		    "Expected a quoted string value for tag (e.g. 'my-value'). Got value ('a')");
	parse_error(filter_parse_model_versions, "params.k = 'a'",
		    "Invalid entity type 'params'. Valid entity types are ('attribute', 'tag', "
		    "'tags')");
}

static void test_registry_order(void **state)
{
	const char *models[] = { "name DESC", "timestamp" };
	const char *versions[] = { "version_number", "tags.creation_timestamp DESC", "`name`" };
	struct search_orders o = SEARCH_ORDERS_INIT;
	struct error err = ERROR_INIT;

	(void)state;
	assert_ok(filter_parse_model_order(&o, models, 2, &err));
	assert_int_equal(o.nr, 2);
	assert_int_equal(o.items[0].attr, SEARCH_ATTR_MODEL_NAME);
	assert_false(o.items[0].ascending);
	/* "timestamp" is the last update time to MLflow's SQL store */
	assert_int_equal(o.items[1].attr, SEARCH_ATTR_LAST_UPDATE_TIME);
	assert_true(o.items[1].ascending);
	search_orders_release(&o);
	assert_ok(filter_parse_model_version_order(&o, versions, 3, &err));
	assert_int_equal(o.nr, 3);
	assert_int_equal(o.items[0].attr, SEARCH_ATTR_VERSION_NUMBER);
	assert_int_equal(o.items[1].attr, SEARCH_ATTR_CREATION_TIME);
	assert_false(o.items[1].ascending);
	assert_int_equal(o.items[2].attr, SEARCH_ATTR_MODEL_NAME);
	search_orders_release(&o);

	registry_order_error(
	    filter_parse_model_order, "creation_timestamp", ERR_INVALID,
	    "Invalid order by key 'creation_timestamp' specified. Valid keys are '{'name', "
	    "'timestamp'}'");
	registry_order_error(filter_parse_model_order, "name sideways", ERR_INVALID,
			     "Invalid ordering key in order_by clause 'name sideways'.");
	registry_order_error(filter_parse_model_version_order, "run_id", ERR_INVALID,
			     "Invalid attribute key 'run_id' specified. Valid keys are '{'name', "
			     "'version_number', 'creation_timestamp', 'last_updated_timestamp'}'");
	registry_order_error(
	    filter_parse_model_version_order, "tags.k", ERR_INVALID,
	    "Invalid order by key 'k' specified. Valid keys are {'name', 'version_number', "
	    "'creation_timestamp', 'last_updated_timestamp'}");
	registry_order_error(
	    filter_parse_model_version_order, "metrics.k", ERR_INVALID,
	    "Invalid entity type 'metrics'. Valid entity types are ('attribute', 'tag', "
	    "'tags')");
	{
		/* a field twice is ERR_CONFLICT: MLflow answers it with a 500 */
		const char *twice[] = { "timestamp", "last_updated_timestamp DESC" };

		assert_int_equal(filter_parse_model_order(&o, twice, 2, &err), ERR_CONFLICT);
		assert_string_equal(err.msg, "`order_by` contains duplicate fields: ['timestamp', "
					     "'last_updated_timestamp DESC']");
		assert_int_equal(o.nr, 0);
		twice[0] = "name";
		twice[1] = "attribute.name DESC";
		assert_int_equal(filter_parse_model_version_order(&o, twice, 2, &err),
				 ERR_CONFLICT);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),	       cmocka_unit_test(test_recorded),
		cmocka_unit_test(test_documented),     cmocka_unit_test(test_keys_and_aliases),
		cmocka_unit_test(test_values),	       cmocka_unit_test(test_lists),
		cmocka_unit_test(test_filter_errors),  cmocka_unit_test(test_order),
		cmocka_unit_test(test_order_errors),   cmocka_unit_test(test_experiments),
		cmocka_unit_test(test_page_tokens),    cmocka_unit_test(test_limits_and_globs),
		cmocka_unit_test(test_models),	       cmocka_unit_test(test_model_versions),
		cmocka_unit_test(test_registry_order),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
