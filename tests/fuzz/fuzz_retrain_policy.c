/*
 * Fuzzes the `retrain:` section reader of ferry.yaml: any bytes give policies or a clean error
 * with a message, and every policy read holds what the checks promise (triggers, exactly one of
 * train/stage, a gate, a holdout, positive durations, rules with at least one window).
 */
#include "util/common.h"
#include "retrain/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct retrain_policies ps = RETRAIN_POLICIES_INIT;
	struct error err = ERROR_INIT;

	if (retrain_policies_parse(&ps, "fuzz.yaml", (const char *)data, size, &err)) {
		if (!err.msg[0] || ps.nr)
			BUG("retrain_policies_parse failed without a message or touched its "
			    "output");
		return 0;
	}
	for (size_t i = 0; i < ps.nr; i++) {
		const struct retrain_policy *p = &ps.items[i];

		if (!p->model || !p->alias || !p->gate || !p->holdout || !p->experiment ||
		    !p->n_triggers || p->has_train == !!p->stage || p->cooldown_ms < 0 ||
		    p->interval_ms <= 0 || (p->has_train && (!p->train.data || !p->train.target)))
			BUG("policy %zu is incomplete", i);
		for (size_t t = 0; t < p->n_triggers; t++)
			if (!p->triggers[t].name ||
			    (p->triggers[t].kind == RETRAIN_WHEN && !p->triggers[t].rule.windows) ||
			    (p->triggers[t].kind == RETRAIN_SCHEDULE &&
			     p->triggers[t].every_ms <= 0))
				BUG("trigger %zu of policy %zu is incomplete", t, i);
	}
	retrain_policies_release(&ps);
	return 0;
}
