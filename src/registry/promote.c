/* Gated promotion of a version to an alias (registry/promote.h). */
#include "util/common.h"
#include "registry/promote.h"

#include "ml/model.h"
#include "ml/score.h"
#include "registry/gate.h"
#include "registry/registry.h"

void registry_promotion_release(struct registry_promotion *p)
{
	json_decref(p->challenger_metrics);
	json_decref(p->champion_metrics);
	strbuf_release(&p->report);
	*p = (struct registry_promotion)REGISTRY_PROMOTION_INIT;
}

/* The metrics of version v on the data. */
static int evaluate(json_t **out, struct store *st, struct cas *cas,
		    const struct registry_promote_options *o, int64_t version, struct error *err)
{
	struct store_model_version v = STORE_MODEL_VERSION_INIT;
	struct score_options so = SCORE_OPTIONS_INIT;
	struct strbuf dir = STRBUF_INIT;
	struct model m;
	int rc;

	model_init(&m);
	if ((rc = store_model_version_get(st, &v, o->name, version, err)) ||
	    (rc = registry_materialize(st, cas, &v, o->models_dir, &dir, err)) ||
	    (rc = model_load(&m, dir.buf, err)))
		goto out;
	so.input = o->data;
	so.na_tokens = o->na_tokens;
	so.n_na = o->n_na;
	rc = score_evaluate(&m, &so, out, err);
	if (rc)
		error_prefix(err, "version %" PRId64 ": ", version);
out:
	model_release(&m);
	strbuf_release(&dir);
	store_model_version_release(&v);
	return rc;
}

struct lookup {
	const struct registry_promotion *res;
};

/* "auc" is what people write for ROC AUC. */
static const char *metric_key(const char *name)
{
	return !strcmp(name, "auc") ? "roc_auc" : name;
}

static int lookup_metric(void *data, bool champion, const char *name, double *out,
			 struct error *err)
{
	const struct lookup *l = data;
	const json_t *metrics = champion ? l->res->champion_metrics : l->res->challenger_metrics;
	const json_t *v = json_object_get(metrics, metric_key(name));
	struct strbuf known = STRBUF_INIT;
	const char *key;
	json_t *x;
	int rc;

	if (json_is_number(v) && strcmp(name, "rows")) {
		*out = json_number_value(v);
		return 0;
	}
	json_object_foreach((json_t *)metrics, key, x)
		if (json_is_number(x) && strcmp(key, "rows"))
			strbuf_addf(&known, "%s%s", known.len ? ", " : "", key);
	rc = error_set(err, ERR_INVALID, "gate: metric '%s' is not one of the model's: %s", name,
		       known.buf);
	strbuf_release(&known);
	return rc;
}

/*
 * Checks the gate. Without a champion (the alias is new) the conditions against it hold, as
 * there is nothing to be worse than; the constant ones are checked all the same.
 */
static int check_gate(const struct registry_promote_options *o, struct registry_promotion *res,
		      struct error *err)
{
	struct gate g = GATE_INIT, checked = GATE_INIT;
	struct gate_result gr = GATE_RESULT_INIT;
	struct lookup l = { res };
	int rc;

	if ((rc = gate_parse(&g, o->gate, err)))
		return rc;
	/* borrowed conditions: checked owns nothing and is not released */
	checked.conds = xcalloc(g.nr, sizeof(*checked.conds));
	for (size_t i = 0; i < g.nr; i++)
		if (res->champion || !g.conds[i].champion)
			checked.conds[checked.nr++] = g.conds[i];
	res->passed = true;
	if (checked.nr && !(rc = gate_eval(&checked, lookup_metric, &l, &gr, err))) {
		gate_format_result(&checked, &gr, &res->report);
		res->passed = gr.pass;
	}
	if (!rc && checked.nr < g.nr)
		strbuf_addf(&res->report,
			    "conditions against the champion hold: '%s' points to no "
			    "version yet\n",
			    o->alias);
	gate_result_release(&gr);
	free(checked.conds);
	gate_release(&g);
	return rc;
}

int registry_promote(struct store *st, struct cas *cas, const struct registry_promote_options *o,
		     struct registry_promotion *res, struct error *err)
{
	struct store_model_version challenger = STORE_MODEL_VERSION_INIT;
	struct store_alias_move move = { 0 };
	char *reason = NULL;
	int rc;

	if ((rc = store_model_version_get(st, &challenger, o->name, o->version, err)) ||
	    (rc = store_alias_check(o->alias, err)))
		goto out;
	rc = store_alias_get(st, &res->champion, o->name, o->alias, err);
	if (rc == ERR_NOTFOUND) {
		res->champion = 0;
		rc = 0;
	}
	if (rc)
		goto out;
	if (res->champion == o->version) {
		res->passed = true;
		goto out;
	}
	if (o->gate && !o->data) {
		rc =
		    error_set(err, ERR_INVALID,
			      "a gate needs labelled data to score both versions on (--data FILE)");
		goto out;
	}
	if (o->data) {
		if ((rc = evaluate(&res->challenger_metrics, st, cas, o, o->version, err)) ||
		    (res->champion &&
		     (rc = evaluate(&res->champion_metrics, st, cas, o, res->champion, err))))
			goto out;
		res->evaluated = true;
	}
	res->passed = true;
	if (o->gate && (rc = check_gate(o, res, err)))
		goto out;
	if (!res->passed) {
		rc = error_set(err, ERR_CONFLICT,
			       "gate refused: version %" PRId64
			       " of '%s' does not pass '%s' against "
			       "%s; '%s' stays where it was",
			       o->version, o->name, o->gate,
			       res->champion ? "the champion" : "its thresholds", o->alias);
		goto out;
	}
	if (!o->reason && o->gate)
		reason = xstrfmt("promote: gate '%s' passed", o->gate);
	move.name = o->name;
	move.alias = o->alias;
	move.version = o->version;
	move.expect = res->champion; /* the champion we evaluated, or "none yet" */
	move.user = o->user;
	move.reason = o->reason ? o->reason : reason ? reason : "promote";
	if ((rc = store_alias_set(st, NULL, &move, err)))
		goto out;
	res->moved = true;
out:
	free(reason);
	store_model_version_release(&challenger);
	return rc;
}
