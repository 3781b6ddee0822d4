/*
 * Unit tests for pipeline/pipeline and pipeline/dag: ferry.yaml parsing (paths normalised
 * against wdir, params forms, built-in steps, errors with line:col and the stage's name) and
 * the graph (edges through overlapping paths, order, cycles and duplicate outputs named).
 */
#include "util/common.h"
#include "helpers.h"
#include "pipeline/dag.h"
#include "pipeline/pipeline.h"

static void parse_ok(struct pipeline *p, const char *text)
{
	struct error err = ERROR_INIT;

	if (pipeline_parse(p, "ferry.yaml", text, strlen(text), &err))
		fail_msg("%s", err.msg);
}

static void parse_err(const char *text, const char *msg)
{
	struct pipeline p = PIPELINE_INIT;
	struct error err = ERROR_INIT;

	assert_int_equal(pipeline_parse(&p, "ferry.yaml", text, strlen(text), &err), ERR_INVALID);
	if (!strstr(err.msg, msg))
		fail_msg("expected '%s' in '%s'", msg, err.msg);
	assert_null(p.stages);
}

static void test_stages(void **state)
{
	struct pipeline p = PIPELINE_INIT;

	(void)state;
	parse_ok(&p, "stages:\n"
		     "  prepare:\n"
		     "    cmd: python prep.py\n"
		     "    deps: [data/raw.csv, ./prep.py]\n"
		     "    outs: [data/clean/]\n"
		     "  features:\n"
		     "    wdir: sub\n"
		     "    cmd:\n"
		     "      - echo a\n"
		     "      - echo b\n"
		     "    deps: ../data/clean/x.csv\n"
		     "    params: [alpha, {conf/p.yaml: [a.b, c]}]\n"
		     "    outs: [feat.csv]\n"
		     "    metrics: [m.json]\n"
		     "retrain:\n"
		     "  churn: {every: 1d}\n");
	assert_int_equal(p.nr, 2);
	assert_string_equal(p.stages[0].name, "prepare");
	assert_int_equal(p.stages[0].line, 2);
	assert_int_equal(p.stages[0].col, 3);
	assert_string_equal(p.stages[0].deps.v[0], "data/raw.csv");
	assert_string_equal(p.stages[0].deps.v[1], "prep.py");
	assert_string_equal(p.stages[0].outs.v[0], "data/clean");
	assert_string_equal(p.stages[0].cmd_text, "python prep.py");
	assert_string_equal(p.stages[1].wdir, "sub");
	assert_int_equal(p.stages[1].ncmd, 2);
	assert_string_equal(p.stages[1].cmd_text, "echo a\necho b");
	assert_string_equal(p.stages[1].deps.v[0], "data/clean/x.csv");
	assert_int_equal(p.stages[1].nparams, 3);
	assert_string_equal(p.stages[1].params[0].file, "sub/params.yaml");
	assert_string_equal(p.stages[1].params[0].key, "alpha");
	assert_string_equal(p.stages[1].params[1].file, "sub/conf/p.yaml");
	assert_string_equal(p.stages[1].params[1].key, "a.b");
	assert_string_equal(p.stages[1].params[2].key, "c");
	/* metrics are outputs too */
	assert_int_equal(p.stages[1].outs.nr, 2);
	assert_string_equal(p.stages[1].outs.v[0], "sub/feat.csv");
	assert_string_equal(p.stages[1].outs.v[1], "sub/m.json");
	assert_string_equal(p.stages[1].metrics.v[0], "sub/m.json");
	/* retrain: kept as a node for the retraining module */
	assert_non_null(p.retrain);
	assert_true(fy_node_is_mapping(p.retrain));
	assert_non_null(fy_node_mapping_lookup_by_string(p.retrain, "churn", FY_NT));
	pipeline_release(&p);
}

static void test_steps(void **state)
{
	struct pipeline p = PIPELINE_INIT;
	const struct stage *st;

	(void)state;
	parse_ok(&p, "stages:\n"
		     "  train:\n"
		     "    train:\n"
		     "      data: data/train.csv\n"
		     "      target: churn\n"
		     "      out: model\n"
		     "      model: xgboost\n"
		     "      params: params.yaml:train\n"
		     "      param: {max_depth: 3}\n"
		     "      drop: [id, state]\n"
		     "      metrics: train.json\n"
		     "  eval:\n"
		     "    eval: {model: model, data: data/test.csv, metrics: eval.json}\n"
		     "  register:\n"
		     "    register: {model: model, name: churn}\n");
	st = pipeline_find(&p, "train");
	assert_int_equal(st->kind, STAGE_TRAIN);
	assert_int_equal(st->deps.nr, 1);
	assert_string_equal(st->deps.v[0], "data/train.csv");
	assert_int_equal(st->outs.nr, 2);
	assert_string_equal(st->outs.v[0], "model");
	assert_string_equal(st->outs.v[1], "train.json");
	assert_string_equal(st->metrics.v[0], "train.json");
	assert_int_equal(st->nparams, 1);
	assert_string_equal(st->params[0].file, "params.yaml");
	assert_string_equal(st->params[0].key, "train");
	assert_string_equal(json_string_value(json_object_get(st->step, "params")),
			    "params.yaml:train");
	assert_int_equal(json_array_size(json_object_get(st->step, "drop")), 2);
	/* the lock's cmd: the step's options, sorted, so reordering them changes nothing */
	assert_string_equal(st->cmd_text,
			    "ferry train {\"data\":\"data/train.csv\",\"drop\":[\"id\",\"state\"],"
			    "\"metrics\":\"train.json\",\"model\":\"xgboost\",\"out\":\"model\","
			    "\"param\":{\"max_depth\":\"3\"},\"params\":\"params.yaml:train\","
			    "\"target\":\"churn\"}");
	st = pipeline_find(&p, "eval");
	assert_int_equal(st->kind, STAGE_EVAL);
	assert_int_equal(st->deps.nr, 2);
	assert_string_equal(st->metrics.v[0], "eval.json");
	st = pipeline_find(&p, "register");
	assert_int_equal(st->kind, STAGE_REGISTER);
	assert_int_equal(st->outs.nr, 0);
	assert_null(pipeline_find(&p, "nope"));
	pipeline_release(&p);
}

static void test_errors(void **state)
{
	(void)state;
	parse_err("stages:\n  a:\n    cmd: x\n    dep: [y]\n",
		  "ferry.yaml:4:5: stage 'a': unknown key 'dep' in a stage; did you mean 'deps'?");
	parse_err("stages:\n  a:\n    deps: [y]\n", "ferry.yaml:2:3: stage 'a': needs 'cmd'");
	parse_err("stages:\n  a:\n    cmd: x\n    train: {data: d, target: t, out: o}\n",
		  "ferry.yaml:2:3: stage 'a': has more than one");
	parse_err("stages:\n  a:\n    cmd: x\n    outs: [/etc/passwd]\n",
		  "ferry.yaml:4:12: stage 'a': outs: '/etc/passwd' is absolute");
	parse_err("stages:\n  a:\n    cmd: x\n    wdir: sub\n    outs: [../../x]\n",
		  "stage 'a': outs: '../../x' leaves the project");
	parse_err("stages:\n  a:\n    cmd: x\n    outs: [.ferry/cache]\n", "is inside .ferry/");
	parse_err("stages:\n  a:\n    cmd: []\n", "ferry.yaml:3:10: stage 'a': key 'cmd': "
						  "expected at least one command");
	parse_err("stages:\n  a:\n    cmd: ''\n", "key 'cmd': expected a non-empty string");
	parse_err("stages:\n  a:\n    train: {data: d, out: o}\n",
		  "stage 'a': train: missing key 'target'");
	parse_err("stages:\n  a:\n    train: {data: d, out: o, target: t, tst_size: 1}\n",
		  "unknown key 'tst_size' in 'train'; did you mean 'test_size'?");
	parse_err("stages:\n  a:\n    train: {data: d, out: o, target: t, cv: many}\n",
		  "train: key 'cv': expected a number, got 'many'");
	parse_err("stages:\n  a:\n    cmd: x\n    deps: [f]\n    outs: [f]\n",
		  "'f' is both a dep and an out");
	parse_err("stages:\n  a b:\n    cmd: x\n",
		  "ferry.yaml:2:3: stage 'a b': invalid stage name");
	parse_err("stage:\n  a: {cmd: x}\n",
		  "ferry.yaml:1:1: unknown key 'stage' in ferry.yaml; did you mean 'stages'?");
	parse_err("stages: [a]\n",
		  "key 'stages': expected a mapping of stage names, got a sequence");
	parse_err("", "ferry.yaml: empty");
	parse_err("stages:\n  a: {cmd: x}\n  a: {cmd: y}\n", "ferry.yaml:3:3");
	parse_err("stages:\n  a:\n    cmd: x\n    params: [{p.yaml: k}]\n",
		  "key 'params': file 'p.yaml': expected a sequence of keys");
	/* A params file is one path: a sequence as its key (empty or not) is an error. */
	parse_err("stages:\n  a:\n    cmd: x\n    params: [k, {[]: [k]}]\n",
		  "ferry.yaml:4:18: stage 'a': key 'params': expected a non-empty string, got a "
		  "sequence");
	parse_err("stages:\n  a:\n    cmd: x\n    params: [{[p.yaml, q.yaml]: [k]}]\n",
		  "key 'params': expected a non-empty string, got a sequence");
}

static void test_paths(void **state)
{
	struct error err = ERROR_INIT;
	char *out = NULL;

	(void)state;
	assert_int_equal(pipeline_path(&out, "a/b", "../c//./d/", "x", &err), 0);
	assert_string_equal(out, "a/c/d");
	free(out);
	assert_int_equal(pipeline_path(&out, "", "a/..", "x", &err), ERR_INVALID);
	assert_int_equal(pipeline_path(&out, "", ".git/config", "x", &err), ERR_INVALID);
	assert_int_equal(pipeline_path(&out, "", ".gitignore", "x", &err), 0);
	assert_string_equal(out, ".gitignore");
	free(out);
}

static void build(struct dag *d, struct pipeline *p, const char *text)
{
	struct error err = ERROR_INIT;

	parse_ok(p, text);
	if (dag_build(d, p, &err))
		fail_msg("%s", err.msg);
}

static const char *name_at(const struct pipeline *p, const struct dag *d, size_t k)
{
	return p->stages[d->order[k]].name;
}

static void test_dag_order(void **state)
{
	struct pipeline p = PIPELINE_INIT;
	struct dag d = DAG_INIT;
	struct error err = ERROR_INIT;
	int sel[4];
	const char *t[] = { "b" };

	(void)state;
	/* listed downstream first: the order comes from the data flow, not the file */
	build(&d, &p,
	      "stages:\n"
	      "  c: {cmd: x, deps: [out/b.csv, out/a], outs: [final]}\n"
	      "  b: {cmd: x, deps: [out/a/part.csv], outs: [out/b.csv]}\n"
	      "  a: {cmd: x, deps: [raw], outs: [out/a]}\n"
	      "  z: {cmd: x, deps: [raw], outs: [other]}\n");
	assert_string_equal(name_at(&p, &d, 0), "a");
	assert_string_equal(name_at(&p, &d, 1), "b");
	assert_string_equal(name_at(&p, &d, 2), "c");
	assert_string_equal(name_at(&p, &d, 3), "z");
	assert_int_equal(d.nup[0], 2); /* c <- b, a */
	assert_int_equal(d.nup[1], 1); /* b <- a (a file inside a's output directory) */
	assert_int_equal(d.ndown[2], 2);
	assert_int_equal(d.nup[3], 0);
	assert_int_equal(dag_select(sel, &d, &p, t, 1, &err), 0);
	assert_int_equal(sel[0], 0);
	assert_int_equal(sel[1], 1);
	assert_int_equal(sel[2], 1);
	assert_int_equal(sel[3], 0);
	t[0] = "bb";
	assert_int_equal(dag_select(sel, &d, &p, t, 1, &err), ERR_NOTFOUND);
	assert_string_equal(err.msg, "no stage 'bb' in ferry.yaml; did you mean 'b'?");
	dag_release(&d);
	pipeline_release(&p);
}

static void dag_err(const char *text, const char *msg)
{
	struct pipeline p = PIPELINE_INIT;
	struct dag d = DAG_INIT;
	struct error err = ERROR_INIT;

	parse_ok(&p, text);
	assert_int_equal(dag_build(&d, &p, &err), ERR_INVALID);
	assert_string_equal(err.msg, msg);
	assert_null(d.order);
	pipeline_release(&p);
}

static void test_dag_errors(void **state)
{
	(void)state;
	dag_err("stages:\n"
		"  a: {cmd: x, deps: [c.out], outs: [a.out]}\n"
		"  b: {cmd: x, deps: [a.out], outs: [b.out]}\n"
		"  c: {cmd: x, deps: [b.out], outs: [c.out]}\n",
		"ferry.yaml: the stages form a cycle: a -> b -> c -> a (each one's outs are the "
		"next one's deps)");
	dag_err("stages:\n"
		"  a: {cmd: x, outs: [data/x]}\n"
		"  b: {cmd: x, outs: [data]}\n",
		"ferry.yaml: 'data' is an output of both stage 'a' and stage 'b' (as 'data/x')");
	dag_err("stages:\n"
		"  a: {cmd: x, outs: [m.json]}\n"
		"  b: {cmd: x, metrics: [m.json]}\n",
		"ferry.yaml: 'm.json' is an output of both stage 'a' and stage 'b'");
	dag_err("stages:\n  a: {cmd: x, deps: [d/f], outs: [d]}\n",
		"ferry.yaml: the stages form a cycle: a -> a ('d/f' is its own dep)");
}

static void test_overlap(void **state)
{
	(void)state;
	assert_true(dag_paths_overlap("a", "a"));
	assert_true(dag_paths_overlap("a", "a/b"));
	assert_true(dag_paths_overlap("a/b", "a"));
	assert_false(dag_paths_overlap("a", "ab"));
	assert_false(dag_paths_overlap("ab/c", "a"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stages),	  cmocka_unit_test(test_steps),
		cmocka_unit_test(test_errors),	  cmocka_unit_test(test_paths),
		cmocka_unit_test(test_dag_order), cmocka_unit_test(test_dag_errors),
		cmocka_unit_test(test_overlap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
