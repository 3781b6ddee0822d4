/*
 * Alert rules over the numbers of one monitoring window: the rule grammar, three-valued
 * evaluation (a metric that is not available never fires: "unknown"), and the per-(model, rule)
 * state machine with hysteresis that decides when to notify.
 *
 * Grammar (keywords in any case; whitespace between tokens):
 *
 *     rule   := any [ "for" INT ( "window" | "windows" ) ]
 *     any    := all { "or" all }
 *     all    := cond { "and" cond }
 *     cond   := METRIC OP NUMBER
 *     OP     := "<" | "<=" | ">" | ">=" | "==" | "!="
 *     METRIC := drift_share | n_drifted | dataset_drift | prediction_drift | rows | labelled
 *             | accuracy | precision | recall | f1 | roc_auc | drift.<column>
 *
 * dataset_drift and prediction_drift are 0 or 1; drift.<column> is that column's drift score (a
 * p-value or a distance, as the drift report gives it); the column name runs to the next space
 * or operator character. NUMBER is a finite decimal number. "and" binds tighter than "or".
 *
 * Hysteresis (docs/monitoring.md: do not fire on a single window unless the rule says so): a
 * rule fires after its condition held on `for N` consecutive windows (default
 * ALERT_DEFAULT_WINDOWS) and resolves after it failed on N consecutive windows. A window where
 * the condition is unknown is no evidence either way: it neither breaks nor extends a streak.
 *
 * Ownership: a parsed rule is the caller's (alert_rule_release); strings inside are owned by it.
 */
#ifndef FERRY_MONITOR_ALERTS_H
#define FERRY_MONITOR_ALERTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct error;

#define ALERT_DEFAULT_WINDOWS 2
#define ALERT_MAX_WINDOWS 1000
#define ALERT_MAX_CONDS 64
#define ALERT_MAX_TEXT 4096

enum alert_op {
	ALERT_LT,
	ALERT_LE,
	ALERT_GT,
	ALERT_GE,
	ALERT_EQ,
	ALERT_NE
};

/* "<", "<=", ... */
const char *alert_op_name(enum alert_op op);

struct alert_cond {
	char *metric; /* "f1", "drift.total_day_minutes" */
	enum alert_op op;
	double threshold;
	size_t group; /* conditions of one group are and-ed, groups or-ed */
};

struct alert_rule {
	char *name;
	char *text;
	struct alert_cond *conds;
	size_t n_conds;
	size_t n_groups;
	unsigned windows; /* consecutive windows to fire / resolve */
	bool windows_given;
};

#define ALERT_RULE_INIT                                                                            \
	{                                                                                          \
		NULL, NULL, NULL, 0, 0, ALERT_DEFAULT_WINDOWS, false                               \
	}

/*
 * Parses text (the rule named name, both copied) into *out (ALERT_RULE_INIT'ed or released).
 * ERR_INVALID "alert rule 'NAME': column C: expected ..., got '...'" naming the 1-based column
 * of text; *out untouched on failure.
 */
int alert_rule_parse(struct alert_rule *out, const char *name, const char *text, struct error *err);
void alert_rule_release(struct alert_rule *r);

/*
 * Where the numbers come from: get returns 1 with *value set, 0 when the metric is not
 * available in this window (no labelled rows for f1, a column the report does not have...).
 */
struct alert_source {
	int (*get)(void *data, const char *metric, double *value);
	void *data;
};

enum alert_truth {
	ALERT_FALSE,
	ALERT_TRUE,
	ALERT_UNKNOWN
};

/* "false", "true", "unknown". */
const char *alert_truth_name(enum alert_truth t);

/*
 * What deciding a rule found: truth by Kleene's three-valued logic (and: false if any is
 * false; or: true if any is true; else unknown if any is unknown). cond is the condition that
 * decided (the first true one of the first true group when true; the first false one when
 * false; the first unknown one when unknown), value its metric's value (NaN when unknown).
 */
struct alert_eval {
	enum alert_truth truth;
	const struct alert_cond *cond; /* borrowed from the rule */
	double value;
};

void alert_rule_eval(struct alert_eval *out, const struct alert_rule *r,
		     const struct alert_source *src);

/* A rule's state between windows (stored per model and rule). */
struct alert_state {
	bool firing;
	int64_t streak; /* consecutive windows arguing for the other state */
};

enum alert_transition {
	ALERT_STAY,
	ALERT_FIRED,
	ALERT_RESOLVED
};

/* Steps s by one window's truth under r's hysteresis; returns the transition it made. */
enum alert_transition alert_step(struct alert_state *s, const struct alert_rule *r,
				 enum alert_truth t);

#endif
