/*
 * Gated promotion (`ferry models promote`): the challenger and the current holder of an alias
 * (the champion) are scored on the same labelled data, the gate is checked on both sets of
 * metrics, and only then is the alias moved, with a compare-and-swap on the champion that was
 * evaluated: if someone moved the alias meanwhile, the promotion fails and nothing changes.
 */
#ifndef FERRY_REGISTRY_PROMOTE_H
#define FERRY_REGISTRY_PROMOTE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "util/strbuf.h"

struct cas;
struct error;
struct store;

struct registry_promote_options {
	const char *name;
	int64_t version; /* the challenger */
	const char *alias;
	const char *gate;	/* NULL: no gate, a plain (but still compare-and-swap) move */
	const char *data;	/* labelled CSV both versions are scored on; needed by a gate */
	const char *models_dir; /* where versions are checked out (registry_materialize) */
	const char *const *na_tokens;
	size_t n_na;
	const char *user;
	const char *reason; /* NULL: the gate and its outcome */
};

struct registry_promotion {
	int64_t champion;	    /* the version the alias pointed to (0: none) */
	bool evaluated;		    /* both were scored on the data */
	json_t *challenger_metrics; /* metrics on the data (NULL unless evaluated) */
	json_t *champion_metrics;   /* NULL without a champion */
	struct strbuf report;	    /* the gate's conditions with their numbers, one per line */
	bool passed;		    /* the gate held (true without a gate) */
	bool moved;		    /* the alias now points to the challenger */
};
#define REGISTRY_PROMOTION_INIT                                                                    \
	{                                                                                          \
		.report = STRBUF_INIT                                                              \
	}
void registry_promotion_release(struct registry_promotion *p);

/*
 * Promotes o->version to o->alias. Conditions against the champion hold vacuously when there
 * is none (the first promotion); conditions against constants are always checked. Fills res
 * as far as it got (print it even on failure). ERR_CONFLICT when the gate fails ("gate
 * refused ...") or the alias moved during the evaluation; ERR_INVALID for a malformed gate or
 * a metric the models do not have; nothing is changed on any error.
 */
int registry_promote(struct store *st, struct cas *cas, const struct registry_promote_options *o,
		     struct registry_promotion *res, struct error *err);

#endif
