/*
 * Training parameters: collected as key=value text from `--param k=v` and from a params file
 * (`--params params.yaml:train`, DVC's convention), then checked and applied to the chosen
 * trainer's settings. Later entries override earlier ones, so the command line beats the file.
 */
#ifndef FERRY_ML_PARAMS_H
#define FERRY_ML_PARAMS_H

#include <jansson.h>
#include <stddef.h>

#include "ml/linear.h"
#include "ml/logreg.h"
#include "ml/xgb.h"

struct error;

struct param {
	char *key;
	char *value;
	char *origin; /* "--param" or "params.yaml:4:3", for messages */
};

struct param_list {
	struct param *v;
	size_t nr, alloc;
};

#define PARAM_LIST_INIT                                                                            \
	{                                                                                          \
		NULL, 0, 0                                                                         \
	}

void param_list_release(struct param_list *l);

/* Adds "key=value"; ERR_USAGE "--param 'C': expected KEY=VALUE" without '=' or key. */
int param_list_add_arg(struct param_list *l, const char *arg, struct error *err);

/*
 * Adds every scalar of a YAML mapping: spec is "FILE" (the top-level mapping) or
 * "FILE:SECTION" (the mapping under key SECTION; dots descend: "train.xgb"). Values must be
 * scalars; errors name FILE:LINE:COL.
 */
int param_list_load(struct param_list *l, const char *spec, struct error *err);

enum model_kind {
	MODEL_LOGREG,
	MODEL_LINEAR,
	MODEL_XGBOOST,
};

/* "logreg", "linear", "xgboost"; and back (ERR_USAGE with a suggestion). */
const char *model_kind_name(enum model_kind kind);
int model_kind_parse(enum model_kind *out, const char *s, struct error *err);

/* Every setting of a training run, with the defaults a user gets without parameters. */
struct trainer_config {
	enum model_kind kind;
	struct logreg_params logreg;
	struct linear_params linear;
	struct xgb_params xgb;
	double threshold;	    /* binary: class 1 when its probability >= threshold (0.5) */
	double validation_fraction; /* xgboost early stopping: share of training rows (0.1) */
	char *tree_method;	    /* owned copy behind xgb.tree_method */
};

/* Defaults for kind. */
void trainer_config_init(struct trainer_config *c, enum model_kind kind);
void trainer_config_release(struct trainer_config *c);

/*
 * Applies l to c. ERR_USAGE for a key the model does not take ("unknown parameter 'Cc' for
 * logreg (from --param); did you mean 'C'?") or a bad value ("parameter 'max_depth' (from
 * params.yaml:3:14): expected an integer from 0 to 64, got 'deep'").
 */
int trainer_config_apply(struct trainer_config *c, const struct param_list *l, struct error *err);

/* The effective parameters of c's model, every one (defaults included), for the artifact. */
json_t *trainer_config_to_json(const struct trainer_config *c);

#endif
