/*
 * One retraining pass for one policy (`ferry retrain NAME`): check the triggers against the
 * latest monitoring results -> train a challenger on the current data (a tracked run,
 * registered as the next version) -> score challenger and champion on the same held-out rows
 * -> check the gate -> move the alias (compare-and-swap on the champion that was evaluated) or
 * keep the champion -> record the decision with its evidence in the model's history.
 *
 * Where the decision is recorded (no schema change needed): a promotion is the alias move
 * itself, whose reason carries the evidence; a rejected challenger is moved to stage Archived
 * with the same kind of reason. Both reasons start with RETRAIN_REASON_PREFIX and end with
 * " evidence=" and one compact JSON object: {"decision", "challenger", "champion", "alias",
 * "run_id", "data": {"path", "digest"}, "triggers": [{"name", "kind", "fired", "metric", "op",
 * "value", "threshold", "result_id", "detail"}], "gate", "gate_passed", "gate_report",
 * "holdout", "challenger_metrics", "champion_metrics"}. The time of the newest such event is
 * the last decision (trigger.h: cooldown, counted results). The challenger's run gets the tags
 * ferry.retrain.decision (promoted/rejected) and ferry.retrain.triggers.
 *
 * The challenger is trained by running this same ferry binary in a child process, whose
 * failure cannot take the pass down with it: `ferry train ... --register` for a `train:`
 * policy, so it is exactly what `ferry train` does (run, data digest, profile for drift); or
 * `ferry repro STAGE` for a `stage:` policy, after which the directory the stage wrote is
 * registered (registry_register_dir). A stage that is a train step of ferry.yaml gives its
 * `out` (the model) and `data` (for the new_data trigger) itself.
 *
 * Contract: 0 or a negative ERR_* with err filled, nothing printed; *out is filled as far as
 * the pass got, also on failure (release it).
 */
#ifndef FERRY_RETRAIN_RETRAIN_H
#define FERRY_RETRAIN_RETRAIN_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "retrain/policy.h"
#include "retrain/trigger.h"
#include "util/id.h"
#include "util/strbuf.h"

struct cas;
struct error;
struct store;

#define RETRAIN_REASON_PREFIX "retrain: "
#define RETRAIN_EVIDENCE_MARK " evidence="

struct retrain_options {
	const struct retrain_policy *policy;
	const char *root;      /* the project root: training runs there, paths are relative to it */
	const char *ferry_dir; /* .ferry: the lock, the challenger's artifact directory */
	const char *models_dir; /* where versions are checked out to be scored */
	const char *exe;	/* the ferry binary that trains the challenger */
	const char *user;
	bool dry_run; /* check and say what would run; change nothing */
	bool force;   /* retrain even if no trigger fires or during the cooldown */
	bool no_wait; /* another pass for the model holds the lock: ERR_CONFLICT, not wait */
	/* called once before waiting for another pass's lock (may be NULL) */
	void (*waiting)(const char *model, void *data);
	void *data;
	int64_t now_ms; /* 0: now */
};

enum retrain_decision {
	RETRAIN_NOTHING,   /* no trigger fires */
	RETRAIN_COOLDOWN,  /* triggers fire but the last decision is too recent */
	RETRAIN_WOULD_RUN, /* dry run: a challenger would be trained */
	RETRAIN_PROMOTED,  /* the challenger passed the gate and holds the alias */
	RETRAIN_REJECTED,  /* the challenger failed the gate; the champion stays */
};

/* "nothing", "cooldown", "would_run", "promoted", "rejected". */
const char *retrain_decision_name(enum retrain_decision d);

struct retrain_outcome {
	enum retrain_decision decision;
	struct retrain_check check;
	int64_t champion;	   /* 0: none */
	int64_t champion_since_ms; /* when it got the alias */
	int64_t last_decision_ms;
	int64_t challenger; /* 0: none trained */
	char run_id[ID_HEX_LEN + 1];
	char *data_path;   /* the training data (root-relative), NULL when unknown */
	char *data_digest; /* its digest now */
	char *model_dir;   /* stage policies: the directory the stage writes */
	char *command;	   /* the training command, for people */
	json_t *challenger_metrics, *champion_metrics; /* on the holdout */
	bool gate_passed;
	struct strbuf gate_report; /* gate_format_result's lines */
	json_t *evidence;	   /* what was recorded (see above) */
};
#define RETRAIN_OUTCOME_INIT                                                                       \
	{                                                                                          \
		.check = RETRAIN_CHECK_INIT, .gate_report = STRBUF_INIT                            \
	}
void retrain_outcome_release(struct retrain_outcome *o);

/* The outcome as JSON for --json (a new object, the caller's). */
json_t *retrain_outcome_json(const struct retrain_options *o, const struct retrain_outcome *r);

/*
 * Runs one pass (see above). Holds an exclusive lock on ferry_dir/locks/retrain-<hash of the
 * model name>.lock for the whole pass, waiting for another pass of the same model to end
 * unless no_wait. Errors: ERR_NOTFOUND for a model that is not registered; ERR_INVALID when the
 * challenger's training fails (its message); ERR_CONFLICT when the alias moved while the
 * challenger was evaluated (nothing is promoted; the challenger stays registered) or the lock
 * is held with no_wait; ERR_NOTFOUND / ERR_INVALID for a stage that ferry.yaml does not have
 * or whose model directory is unknown; store and scoring errors as they come.
 */
int retrain_run(struct store *st, struct cas *cas, const struct retrain_options *o,
		struct retrain_outcome *out, struct error *err);

#endif
