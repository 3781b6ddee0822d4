/* Fuzzes the alert rule parser and evaluator: any bytes (up to the first NUL) as a rule's text.
 * It must not crash; a parsed rule must have conditions in ascending groups, and evaluating it
 * over metrics that are all unavailable must give "unknown", never "true". */
#include "util/common.h"
#include "monitor/alerts.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int none(void *data, const char *metric, double *value)
{
	(void)data;
	(void)metric;
	(void)value;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = xstrndup((const char *)data, size);
	struct alert_rule r = ALERT_RULE_INIT;
	struct alert_source src = { none, NULL };
	struct alert_state s = { false, 0 };
	struct alert_eval e;
	struct error err = ERROR_INIT;

	if (!alert_rule_parse(&r, "fuzz", text, &err)) {
		for (size_t i = 1; i < r.n_conds; i++)
			if (r.conds[i].group < r.conds[i - 1].group ||
			    r.conds[i].group >= r.n_groups)
				BUG("conditions out of group order");
		alert_rule_eval(&e, &r, &src);
		if (e.truth != ALERT_UNKNOWN || alert_step(&s, &r, e.truth) != ALERT_STAY)
			BUG("a rule without data decided something");
	} else if (err.code != ERR_INVALID || !err.msg[0]) {
		BUG("parse failed without a message");
	}
	alert_rule_release(&r);
	free(text);
	return 0;
}
