/* Checking a retraining policy's triggers against monitoring results (retrain/trigger.h). */
#include "util/common.h"
#include "retrain/trigger.h"
#include "util/parse.h"
#include "util/xalloc.h"

#include <jansson.h>
#include <math.h>

void retrain_check_release(struct retrain_check *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->nr; i++)
		free(c->items[i].detail);
	free(c->items);
	*c = (struct retrain_check)RETRAIN_CHECK_INIT;
}

static bool is_report_metric(const char *metric)
{
	return !strncmp(metric, "drift.", 6) || !strcmp(metric, "prediction_drift");
}

/* Whether a drift verdict in a stored report says the column was tested. */
static bool tested(const json_t *verdict)
{
	const char *v = json_string_value(verdict);

	return v && (!strcmp(v, "drift") || !strcmp(v, "no_drift"));
}

/* drift.<column> and prediction_drift from a stored report (monitor_run.c's report_json). */
static int report_metric(const char *report, const char *metric, double *value)
{
	json_t *j = report ? json_loads(report, 0, NULL) : NULL;
	json_t *cols, *c, *score;
	size_t i;
	int found = 0;

	if (!j)
		return 0;
	if (!strncmp(metric, "drift.", 6)) {
		cols = json_object_get(json_object_get(j, "drift"), "columns");
		json_array_foreach(cols, i, c) {
			const char *name = json_string_value(json_object_get(c, "name"));

			if (!name || strcmp(name, metric + 6))
				continue;
			score = json_object_get(c, "score");
			if (tested(json_object_get(c, "verdict")) && json_is_number(score)) {
				*value = json_number_value(score);
				found = 1;
			}
			break;
		}
	} else {
		c = json_object_get(json_object_get(j, "prediction_drift"), "verdict");
		if (tested(c)) {
			*value = !strcmp(json_string_value(c), "drift");
			found = 1;
		}
	}
	json_decref(j);
	return found;
}

bool retrain_policy_reads_reports(const struct retrain_policy *p)
{
	for (size_t i = 0; i < p->n_triggers; i++) {
		const struct alert_rule *rule = &p->triggers[i].rule;

		if (p->triggers[i].kind != RETRAIN_WHEN)
			continue;
		for (size_t k = 0; k < rule->n_conds; k++)
			if (is_report_metric(rule->conds[k].metric))
				return true;
	}
	return false;
}

int retrain_result_metric(const struct store_monitor_result *r, const char *metric, double *value)
{
	json_t *q, *v;
	int found = 0;

	if (is_report_metric(metric))
		return report_metric(r->report_json, metric, value);
	if (!strcmp(metric, "rows"))
		return *value = (double)r->rows, 1;
	if (!strcmp(metric, "labelled"))
		return *value = (double)r->labelled, 1;
	if (r->n_tested > 0 && !isnan(r->drift_share)) {
		if (!strcmp(metric, "drift_share"))
			return *value = r->drift_share, 1;
		if (!strcmp(metric, "n_drifted"))
			return *value = (double)r->n_drifted, 1;
		if (!strcmp(metric, "dataset_drift"))
			return *value = r->verdict && !strcmp(r->verdict, "drift"), 1;
	}
	if (!r->quality_json || !(q = json_loads(r->quality_json, 0, NULL)))
		return 0;
	v = json_object_get(q, metric);
	if (json_is_number(v)) {
		*value = json_number_value(v);
		found = 1;
	}
	json_decref(q);
	return found;
}

static int source_get(void *data, const char *metric, double *value)
{
	return retrain_result_metric(data, metric, value);
}

static int64_t max64(int64_t a, int64_t b)
{
	return a > b ? a : b;
}

/* Whether result r counts for the triggers (see trigger.h). */
static bool counts(const struct store_monitor_result *r, const struct retrain_policy *p,
		   const struct retrain_state *s, int64_t since)
{
	return r->model && !strcmp(r->model, p->model) && s->champion > 0 &&
	       r->version == s->champion && r->created_time > since;
}

static void check_when(struct retrain_trigger_check *c, const struct retrain_policy *p,
		       const struct retrain_state *s, const struct store_monitor_result *results,
		       size_t n, int64_t since)
{
	const struct alert_rule *rule = &c->trigger->rule;
	bool decided = false;

	for (size_t i = 0; i < n && !decided; i++) {
		struct alert_source src = { source_get, (void *)&results[i] };
		struct alert_eval ev;

		if (!counts(&results[i], p, s, since))
			continue;
		alert_rule_eval(&ev, rule, &src);
		if (ev.truth == ALERT_UNKNOWN)
			continue; /* no evidence either way, as for alerts */
		if (!c->result_id) {
			/* the newest window with an answer is the one reported */
			c->result_id = results[i].id;
			c->metric = ev.cond ? ev.cond->metric : NULL;
			c->op = ev.cond ? ev.cond->op : ALERT_GE;
			c->value = ev.value;
			c->threshold = ev.cond ? ev.cond->threshold : NAN;
		}
		if (ev.truth == ALERT_TRUE)
			c->windows_held++;
		decided = ev.truth == ALERT_FALSE || c->windows_held >= rule->windows;
	}
	if (!c->result_id)
		c->truth = ALERT_UNKNOWN;
	else
		c->truth = c->windows_held >= rule->windows ? ALERT_TRUE : ALERT_FALSE;
	if (c->metric) {
		char t[FORMAT_DOUBLE_SIZE];

		format_double(t, c->threshold);
		if (c->truth == ALERT_TRUE && rule->windows == 1)
			c->detail =
			    xstrfmt("%s %.4g %s %s", c->metric, c->value, alert_op_name(c->op), t);
		else if (c->truth == ALERT_TRUE)
			c->detail = xstrfmt("%s %.4g %s %s for %u windows", c->metric, c->value,
					    alert_op_name(c->op), t, rule->windows);
		else if (c->windows_held)
			c->detail =
			    xstrfmt("%s %.4g %s %s for %u of %u windows", c->metric, c->value,
				    alert_op_name(c->op), t, c->windows_held, rule->windows);
		else
			c->detail = xstrfmt("%s %.4g, not %s %s", c->metric, c->value,
					    alert_op_name(c->op), t);
	} else
		c->detail = xstrdup("no monitoring result of the champion since its promotion "
				    "has the numbers");
}

static void check_schedule(struct retrain_trigger_check *c, const struct retrain_state *s,
			   int64_t since)
{
	int64_t age = s->now_ms - since;

	if (!since) {
		c->truth = ALERT_UNKNOWN;
		c->detail = xstrdup("the champion's promotion time is unknown");
		return;
	}
	c->value = (double)age / 1000.0;
	c->threshold = (double)c->trigger->every_ms / 1000.0;
	c->op = ALERT_GE;
	c->truth = age >= c->trigger->every_ms ? ALERT_TRUE : ALERT_FALSE;
	c->detail = xstrfmt("age %.4gs %s period %.4gs", c->value,
			    c->truth == ALERT_TRUE ? ">=" : "<", c->threshold);
}

static void check_new_data(struct retrain_trigger_check *c, const struct retrain_state *s)
{
	if (!s->data_digest || !s->champion_data_digest) {
		c->truth = ALERT_UNKNOWN;
		c->detail = xstrdup(!s->data_digest ? "the training data's digest is unknown"
						    : "the champion's training data is unknown");
		return;
	}
	c->truth = strcmp(s->data_digest, s->champion_data_digest) ? ALERT_TRUE : ALERT_FALSE;
	c->detail = xstrfmt("data %.19s%s champion's %.19s", s->data_digest,
			    c->truth == ALERT_TRUE ? " is not" : " is", s->champion_data_digest);
}

void retrain_triggers_check(struct retrain_check *out, const struct retrain_policy *p,
			    const struct retrain_state *s,
			    const struct store_monitor_result *results, size_t n_results)
{
	struct retrain_check c = RETRAIN_CHECK_INIT;

	c.since_ms = max64(s->champion_since_ms, s->last_decision_ms);
	for (size_t i = 0; i < n_results; i++)
		c.counted += counts(&results[i], p, s, c.since_ms);
	c.items = xcalloc(p->n_triggers ? p->n_triggers : 1, sizeof(*c.items));
	c.nr = p->n_triggers;
	for (size_t i = 0; i < p->n_triggers; i++) {
		struct retrain_trigger_check *t = &c.items[i];

		t->trigger = &p->triggers[i];
		t->value = t->threshold = NAN;
		switch (t->trigger->kind) {
		case RETRAIN_WHEN:
			check_when(t, p, s, results, n_results, c.since_ms);
			break;
		case RETRAIN_SCHEDULE:
			check_schedule(t, s, c.since_ms);
			break;
		case RETRAIN_NEW_DATA:
			check_new_data(t, s);
			break;
		}
		c.fired += t->truth == ALERT_TRUE;
	}
	if (s->last_decision_ms && s->now_ms - s->last_decision_ms < p->cooldown_ms)
		c.cooldown_left_ms = p->cooldown_ms - (s->now_ms - s->last_decision_ms);
	*out = c;
}

bool retrain_check_should_run(const struct retrain_check *c)
{
	return c->fired > 0 && c->cooldown_left_ms <= 0;
}
