/*
 * Retraining policies (retrain/policy.h): a full policy read back field by field, defaults, the
 * section's absence, durations worked out by hand, and every kind of mistake with the
 * file:line:col and field its message must name.
 */
#include "util/common.h"
#include "retrain/policy.h"
#include "util/strbuf.h"
#include "helpers.h"

static int parse(struct retrain_policies *ps, const char *text, struct error *err)
{
	return retrain_policies_parse(ps, "ferry.yaml", text, strlen(text), err);
}

static void test_full(void **state)
{
	const char *text = "stages:\n"
			   "  train: {cmd: x}\n"
			   "retrain:\n"
			   "  churn:\n"
			   "    alias: champion\n"
			   "    triggers:\n"
			   "      - name: drift\n"
			   "        when: drift_share >= 0.3 or dataset_drift == 1\n"
			   "      - when: f1 < 0.7 for 3 windows\n"
			   "      - schedule: 7d\n"
			   "      - new_data: yes\n"
			   "    train:\n"
			   "      data: data/train.csv\n"
			   "      target: churn\n"
			   "      model: xgboost\n"
			   "      params: {n_estimators: 50, eta: 0.1}\n"
			   "      seed: 7\n"
			   "      test_size: 0.25\n"
			   "    gate: f1 >= champion - 0.01 and auc >= 0.8\n"
			   "    holdout: data/holdout.csv\n"
			   "    cooldown: 90m\n"
			   "    interval: 30s\n"
			   "    experiment: loop\n"
			   "  other:\n"
			   "    triggers: [{schedule: 1h}]\n"
			   "    stage: train\n"
			   "    gate: accuracy > 0.5\n"
			   "    holdout: h.csv\n";
	struct retrain_policies ps = RETRAIN_POLICIES_INIT;
	struct error err = ERROR_INIT;
	const struct retrain_policy *p, *q;

	(void)state;
	assert_ok(parse(&ps, text, &err));
	assert_int_equal(ps.nr, 2);
	p = retrain_policies_find(&ps, "churn");
	assert_non_null(p);
	assert_string_equal(p->alias, "champion");
	assert_int_equal(p->line, 5);
	assert_int_equal(p->n_triggers, 4);
	assert_string_equal(p->triggers[0].name, "drift");
	assert_int_equal(p->triggers[0].kind, RETRAIN_WHEN);
	assert_int_equal(p->triggers[0].rule.n_conds, 2);
	assert_int_equal(p->triggers[0].rule.n_groups, 2);
	assert_int_equal(p->triggers[0].rule.windows, 1); /* not the alerts' default of 2 */
	assert_string_equal(p->triggers[1].name, "when");
	assert_int_equal(p->triggers[1].rule.windows, 3);
	assert_string_equal(p->triggers[2].name, "schedule");
	assert_int_equal(p->triggers[2].every_ms, 7LL * 24 * 3600 * 1000);
	assert_string_equal(p->triggers[3].name, "new_data");
	assert_int_equal(p->triggers[3].kind, RETRAIN_NEW_DATA);
	assert_true(p->has_train);
	assert_null(p->stage);
	assert_string_equal(p->train.data, "data/train.csv");
	assert_string_equal(p->train.target, "churn");
	assert_string_equal(p->train.model, "xgboost");
	assert_int_equal(p->train.n_params, 2);
	assert_string_equal(p->train.params[0].key, "n_estimators");
	assert_string_equal(p->train.params[0].value, "50");
	assert_string_equal(p->train.params[1].key, "eta");
	assert_string_equal(p->train.params[1].value, "0.1");
	assert_int_equal(p->train.seed, 7);
	assert_string_equal(p->train.test_size, "0.25");
	assert_string_equal(p->gate, "f1 >= champion - 0.01 and auc >= 0.8");
	assert_string_equal(p->holdout, "data/holdout.csv");
	assert_int_equal(p->cooldown_ms, 90LL * 60 * 1000);
	assert_int_equal(p->interval_ms, 30000);
	assert_string_equal(p->experiment, "loop");

	q = retrain_policies_find(&ps, "other");
	assert_non_null(q);
	assert_false(q->has_train);
	assert_string_equal(q->stage, "train");
	assert_string_equal(q->alias, RETRAIN_DEFAULT_ALIAS);
	assert_string_equal(q->experiment, RETRAIN_DEFAULT_EXPERIMENT);
	assert_int_equal(q->cooldown_ms, RETRAIN_DEFAULT_COOLDOWN_MS);
	assert_int_equal(q->interval_ms, RETRAIN_DEFAULT_INTERVAL_MS);
	assert_int_equal(q->train.seed, -1);
	assert_null(retrain_policies_find(&ps, "nope"));
	retrain_policies_release(&ps);
	retrain_policies_release(&ps); /* released twice: a no-op */
}

static void test_absent(void **state)
{
	static const char *const texts[] = { "", "# nothing\n", "stages: {}\n", "retrain:\n" };
	struct error err = ERROR_INIT;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(texts); i++) {
		struct retrain_policies ps = RETRAIN_POLICIES_INIT;

		assert_ok(parse(&ps, texts[i], &err));
		assert_int_equal(ps.nr, 0);
		retrain_policies_release(&ps);
	}
}

static void test_durations(void **state)
{
	static const struct {
		const char *text;
		bool zero;
		int rc;
		int64_t ms;
	} cases[] = {
		{ "500ms", false, 0, 500 },
		{ "30s", false, 0, 30000 },
		{ "10m", false, 0, 600000 },
		{ "2h", false, 0, 7200000 },
		{ "7d", false, 0, 604800000 },
		{ "2w", false, 0, 1209600000 },
		{ "0s", true, 0, 0 },
		{ "0s", false, ERR_INVALID, 0 },
		{ "1", false, ERR_INVALID, 0 },
		{ "s", false, ERR_INVALID, 0 },
		{ "-1s", false, ERR_INVALID, 0 },
		{ "1.5h", false, ERR_INVALID, 0 },
		{ "1 h", false, ERR_INVALID, 0 },
		{ "1y", false, ERR_INVALID, 0 },
		{ "99999999999999999999s", false, ERR_INVALID, 0 },
		{ "9223372036854775807w", false, ERR_INVALID, 0 },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		int64_t ms = -7;
		int rc = retrain_parse_duration(&ms, cases[i].text, cases[i].zero);

		if (rc != cases[i].rc)
			fail_msg("'%s': got %d, want %d", cases[i].text, rc, cases[i].rc);
		if (!rc)
			assert_int_equal(ms, cases[i].ms);
		else
			assert_int_equal(ms, -7); /* untouched */
	}
}

#define POLICY_HEAD "retrain:\n  m:\n"
#define GOOD_REST                                                                                  \
	"    train: {data: d.csv, target: y}\n    gate: f1 >= champion\n    holdout: h.csv\n"

static void test_errors(void **state)
{
	static const struct {
		const char *text;
		const char *msg; /* the whole message must contain this */
	} cases[] = {
		{ "- a\n", "ferry.yaml:1:1: expected a mapping at the top, got a sequence" },
		{ "retrain: [1]\n",
		  "ferry.yaml:1:10: retrain: expected a mapping of registered model names" },
		{ "retrain:\n  m: 3\n", "ferry.yaml:2:6: retrain.m: expected a mapping" },
		{ POLICY_HEAD "    triggers: []\n" GOOD_REST,
		  "ferry.yaml:3:15: retrain.m.triggers: expected a non-empty list of triggers" },
		{ POLICY_HEAD GOOD_REST, "ferry.yaml:3:5: retrain.m: needs triggers" },
		{ POLICY_HEAD "    triggers:\n      - when: f1 <\n" GOOD_REST,
		  "ferry.yaml:4:15: retrain.m.triggers.when: alert rule 'when': column 5" },
		{ POLICY_HEAD
		  "    triggers:\n      - when: f1 < 1\n        schedule: 1h\n" GOOD_REST,
		  "ferry.yaml:5:9: retrain.m.triggers: a trigger has one of when, schedule or "
		  "new_data" },
		{ POLICY_HEAD "    triggers:\n      - name: x\n" GOOD_REST,
		  "ferry.yaml:4:9: retrain.m.triggers: expected one of when, schedule or "
		  "new_data" },
		{ POLICY_HEAD "    triggers:\n      - schedule: 0s\n" GOOD_REST,
		  "ferry.yaml:4:19: retrain.m.triggers.schedule: expected a duration such as 30s, "
		  "10m, "
		  "1h or 7d, got '0s'" },
		{ POLICY_HEAD "    triggers:\n      - new_data: false\n" GOOD_REST,
		  "ferry.yaml:4:19: retrain.m.triggers.new_data: expected true" },
		{ POLICY_HEAD
		  "    triggers:\n      - schedule: 1h\n      - schedule: 2h\n" GOOD_REST,
		  "retrain.m.triggers: two triggers are named 'schedule': give them names" },
		{ POLICY_HEAD "    triggers:\n      - wen: f1 < 1\n" GOOD_REST,
		  "ferry.yaml:4:9: retrain.m.triggers: unknown key 'wen': expected one of name, "
		  "when, "
		  "schedule, new_data" },
		{ POLICY_HEAD "    triggers: [{schedule: 1h}]\n    gate: f1 >= champion\n"
			      "    holdout: h.csv\n",
		  "ferry.yaml:3:5: retrain.m: needs exactly one of train" },
		{ POLICY_HEAD "    triggers: [{schedule: 1h}]\n    stage: s\n" GOOD_REST,
		  "ferry.yaml:3:5: retrain.m: needs exactly one of train" },
		{ POLICY_HEAD
		  "    triggers: [{schedule: 1h}]\n    train: {data: d.csv, target: y}\n",
		  "retrain.m: needs gate" },
		{ POLICY_HEAD "    triggers: [{schedule: 1h}]\n    train: {data: d.csv}\n"
			      "    gate: f1 > 0\n    holdout: h\n",
		  "ferry.yaml:4:12: retrain.m.train: needs data and target" },
		{ POLICY_HEAD "    triggers: [{schedule: 1h}]\n    train: {data: d, target: y, "
			      "seed: -1}\n    gate: f1 > 0\n    holdout: h\n",
		  "ferry.yaml:4:39: retrain.m.train.seed: expected a non-negative integer" },
		{ POLICY_HEAD "    triggers: [{schedule: 1h}]\n    train: {data: d, target: y, "
			      "test_size: 1}\n    gate: f1 > 0\n    holdout: h\n",
		  "retrain.m.train.test_size: expected a number between 0 and 1" },
		{ POLICY_HEAD "    triggers: [{schedule: 1h}]\n    train: {data: d, target: y, "
			      "params: {a: [1]}}\n    gate: f1 > 0\n    holdout: h\n",
		  "retrain.m.train.params: expected NAME: VALUE with a scalar value, got a "
		  "sequence" },
		{ POLICY_HEAD "    triggers: [{schedule: 1h}]\n    train: {data: d, target: y, "
			      "epochs: 3}\n    gate: f1 > 0\n    holdout: h\n",
		  "retrain.m.train: unknown key 'epochs'" },
		{ POLICY_HEAD "    triggers: [{schedule: 1h}]\n    train: {data: d, target: y}\n"
			      "    gate: f1 => champion\n    holdout: h\n",
		  "ferry.yaml:5:11: retrain.m.gate: gate 'f1 => champion': column 4: unknown "
		  "operator '=>'" },
		{ POLICY_HEAD "    alias: latest\n    triggers: [{schedule: 1h}]\n" GOOD_REST,
		  "ferry.yaml:3:12: retrain.m.alias:" },
		{ POLICY_HEAD "    triggers: [{schedule: 1h}]\n    cooldown: soon\n" GOOD_REST,
		  "ferry.yaml:4:15: retrain.m.cooldown: expected a duration such as 30s, 10m, 1h "
		  "or "
		  "7d, got 'soon'" },
		{ POLICY_HEAD "    triggers: [{schedule: 1h}]\n    interval: 0s\n" GOOD_REST,
		  "retrain.m.interval: expected a duration" },
		{ POLICY_HEAD "    triggers: [{schedule: 1h}]\n    holdout: {a: 1}\n"
			      "    train: {data: d, target: y}\n    gate: f1 > 0\n",
		  "ferry.yaml:4:14: retrain.m.holdout: expected a non-empty string, got a "
		  "mapping" },
		{ POLICY_HEAD "    triggers: [{schedule: 1h}]\n    gates: x\n" GOOD_REST,
		  "ferry.yaml:4:5: retrain.m: unknown key 'gates': expected one of alias, "
		  "triggers, "
		  "train, stage, gate, holdout, cooldown, interval, experiment" },
		{ "retrain:\n  m: {}\n  m: {}\n", "ferry.yaml:3:" }, /* duplicate keys: yaml.h */
		{ "retrain: {m: [\n", "ferry.yaml:" },		     /* a syntax error */
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct retrain_policies ps = RETRAIN_POLICIES_INIT;
		struct error err = ERROR_INIT;
		int rc = parse(&ps, cases[i].text, &err);

		if (rc != ERR_INVALID || !strstr(err.msg, cases[i].msg))
			fail_msg("case %zu: got %d '%s', want '%s'", i, rc, err.msg, cases[i].msg);
		assert_int_equal(ps.nr, 0); /* untouched */
	}
}

static void test_limits(void **state)
{
	struct retrain_policies ps = RETRAIN_POLICIES_INIT;
	struct error err = ERROR_INIT;
	struct strbuf sb = STRBUF_INIT;
	int rc;

	(void)state;
	strbuf_addstr(&sb, POLICY_HEAD "    triggers:\n");
	for (int i = 0; i <= RETRAIN_MAX_TRIGGERS; i++)
		strbuf_addf(&sb, "      - {name: t%d, schedule: 1h}\n", i);
	strbuf_addstr(&sb, GOOD_REST);
	rc = parse(&ps, sb.buf, &err);
	assert_int_equal(rc, ERR_TOOBIG);
	assert_non_null(strstr(err.msg, "retrain.m.triggers: more than 64 triggers"));
	assert_int_equal(ps.nr, 0);
	strbuf_release(&sb);
}

static void test_load(void **state)
{
	char *dir = test_tmpdir(), *path = test_path(dir, "ferry.yaml");
	struct retrain_policies ps = RETRAIN_POLICIES_INIT;
	struct error err = ERROR_INIT;

	(void)state;
	assert_int_equal(retrain_policies_load(&ps, path, &err), ERR_NOTFOUND);
	test_write_file(path, POLICY_HEAD "    triggers: [{new_data: true}]\n" GOOD_REST);
	assert_ok(retrain_policies_load(&ps, path, &err));
	assert_int_equal(ps.nr, 1);
	assert_string_equal(ps.items[0].model, "m");
	retrain_policies_release(&ps);
	free(path);
	test_tmpdir_remove(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full),	  cmocka_unit_test(test_absent),
		cmocka_unit_test(test_durations), cmocka_unit_test(test_errors),
		cmocka_unit_test(test_limits),	  cmocka_unit_test(test_load),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
