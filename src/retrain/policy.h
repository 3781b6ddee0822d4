/*
 * Retraining policies: the `retrain:` section of ferry.yaml, one policy per registered model
 * (docs/retraining.md). What fires a retraining, how the challenger is trained, the gate it must
 * pass against the champion on held-out data, and the alias that moves when it does.
 *
 *     retrain:
 *       churn:                              # a registered model
 *         alias: production                 # default production
 *         triggers:                         # at least one; any firing trigger retrains
 *           - name: drift                   # optional (default: the kind)
 *             when: drift_share >= 0.3      # monitor/alerts.h grammar, default "for 1 window"
 *           - schedule: 7d                  # the champion is older than this
 *           - new_data: true                # train.data differs from the champion's data
 *         train:                            # what `ferry train` takes
 *           data: data/train.csv
 *           target: churn
 *           model: xgboost                  # default logreg
 *           params: {n_estimators: 50}
 *           seed: 42
 *           test_size: 0.2
 *         stage: train                      # or, instead of train: a stage of ferry.yaml, run
 *                                           # by `ferry repro`; {name: S, model: DIR} when S
 *                                           # is not a train step (DIR: what it writes)
 *         gate: f1 >= champion - 0.01       # registry/gate.h grammar
 *         holdout: data/holdout.csv         # labelled rows both models are scored on
 *         cooldown: 1h                      # no two retrainings closer than this (default 1h)
 *         interval: 10m                     # how often `ferry retrain --watch` checks (5m)
 *         experiment: retrain               # where the challenger's run is recorded
 *
 * Durations: a positive integer and a unit ms, s, m, h, d or w ("0s" is allowed for cooldown).
 * Ownership: a parsed policy set owns all its strings (retrain_policies_release).
 */
#ifndef FERRY_RETRAIN_POLICY_H
#define FERRY_RETRAIN_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "monitor/alerts.h"

struct error;

#define RETRAIN_MAX_POLICIES 1000
#define RETRAIN_MAX_TRIGGERS 64
#define RETRAIN_MAX_PARAMS 256
#define RETRAIN_DEFAULT_ALIAS "production"
#define RETRAIN_DEFAULT_COOLDOWN_MS (3600 * 1000LL)
#define RETRAIN_DEFAULT_INTERVAL_MS (300 * 1000LL)
#define RETRAIN_DEFAULT_EXPERIMENT "retrain"

enum retrain_trigger_kind {
	RETRAIN_WHEN,	  /* a condition over the latest monitoring results */
	RETRAIN_SCHEDULE, /* the champion (or the last retraining) is older than every_ms */
	RETRAIN_NEW_DATA, /* the training data is not the version the champion was trained on */
};

/* "when", "schedule", "new_data". */
const char *retrain_trigger_kind_name(enum retrain_trigger_kind k);

struct retrain_trigger {
	char *name;
	enum retrain_trigger_kind kind;
	struct alert_rule rule; /* RETRAIN_WHEN; windows is 1 unless "for N windows" is given */
	int64_t every_ms;	/* RETRAIN_SCHEDULE */
};

/* A training parameter as `--param KEY=VALUE` gives it. */
struct retrain_param {
	char *key, *value;
};

struct retrain_train {
	char *data, *target, *model; /* model: NULL means ferry train's default */
	struct retrain_param *params;
	size_t n_params;
	int64_t seed;	 /* -1: not given */
	char *test_size; /* NULL: not given; checked to be a number in (0, 1) */
};

struct retrain_policy {
	char *model;
	char *alias;
	struct retrain_trigger *triggers;
	size_t n_triggers;
	bool has_train;
	struct retrain_train train;
	char *stage;	   /* a pipeline stage instead of train (exactly one of the two) */
	char *stage_model; /* the model directory the stage writes; NULL: its train step's out */
	char *gate;	   /* checked with gate_parse */
	char *holdout;
	int64_t cooldown_ms;
	int64_t interval_ms;
	char *experiment;
	int line; /* where the policy starts in its file, for messages */
};

struct retrain_policies {
	struct retrain_policy *items;
	size_t nr;
};
#define RETRAIN_POLICIES_INIT                                                                      \
	{                                                                                          \
		NULL, 0                                                                            \
	}

/*
 * Parses the `retrain:` section of a whole ferry.yaml held in buf (len bytes; name for
 * messages) into *out, untouched on failure. A file without the section (or an empty file)
 * gives no policies. Other top-level keys are the pipeline's and are not looked at. Errors are
 * ERR_INVALID "NAME:LINE:COL: retrain.MODEL.FIELD: what was expected, got what" (YAML syntax
 * errors as util/yaml.h gives them); ERR_TOOBIG above the RETRAIN_MAX_* limits.
 */
int retrain_policies_parse(struct retrain_policies *out, const char *name, const char *buf,
			   size_t len, struct error *err);

/* Reads and parses path (ERR_NOTFOUND when it does not exist). */
int retrain_policies_load(struct retrain_policies *out, const char *path, struct error *err);

/* The policy of model; NULL when there is none (borrowed). */
const struct retrain_policy *retrain_policies_find(const struct retrain_policies *ps,
						   const char *model);

void retrain_policies_release(struct retrain_policies *ps);

/* Parses "30s", "10m", "1h", "7d", "2w", "500ms" (zero allowed with allow_zero) into ms. */
int retrain_parse_duration(int64_t *out, const char *text, bool allow_zero);

#endif
