/* One retraining pass: triggers -> challenger -> gate -> promote or keep -> history. */
#include "util/common.h"
#include "retrain/retrain.h"
#include "ml/model.h"
#include "ml/score.h"
#include "pipeline/pipeline.h"
#include "registry/gate.h"
#include "registry/registry.h"
#include "store/store_monitor.h"
#include "store/store_registry.h"
#include "util/error.h"
#include "util/fs.h"
#include "util/sha256.h"
#include "util/subprocess.h"
#include "util/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <sys/file.h>
#include <unistd.h>

/* what a training child may print; ferry train --json prints a few KB */
#define TRAIN_OUTPUT_MAX (16u << 20)
/* monitoring results looked at: far more windows than any "for N windows" needs */
#define RESULTS_LIMIT 1000

const char *retrain_decision_name(enum retrain_decision d)
{
	switch (d) {
	case RETRAIN_NOTHING:
		return "nothing";
	case RETRAIN_COOLDOWN:
		return "cooldown";
	case RETRAIN_WOULD_RUN:
		return "would_run";
	case RETRAIN_PROMOTED:
		return "promoted";
	case RETRAIN_REJECTED:
		return "rejected";
	}
	BUG("unknown decision %d", (int)d);
}

void retrain_outcome_release(struct retrain_outcome *o)
{
	if (!o)
		return;
	retrain_check_release(&o->check);
	free(o->data_path);
	free(o->data_digest);
	free(o->model_dir);
	free(o->command);
	json_decref(o->challenger_metrics);
	json_decref(o->champion_metrics);
	strbuf_release(&o->gate_report);
	json_decref(o->evidence);
	*o = (struct retrain_outcome)RETRAIN_OUTCOME_INIT;
}

/* The lock --------------------------------------------------------------------------------- */

/* flock(2) dies with the process: a crashed pass never leaves a stale lock behind. */
static int lock_take(int *out, const struct retrain_options *o, struct error *err)
{
	char hex[SHA256_HEX_SIZE], *dir = fs_path_join(o->ferry_dir, "locks"), *name, *path;
	int fd = -1, rc;

	sha256_buffer(o->policy->model, strlen(o->policy->model), hex);
	name = xstrfmt("retrain-%.16s.lock", hex);
	path = fs_path_join(dir, name);
	if ((rc = fs_mkdir_p(dir, 0755, err)))
		goto out;
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644)) < 0) {
		rc = error_errno(err, ERR_IO, errno, "cannot open lock '%s'", path);
		goto out;
	}
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		if (errno != EWOULDBLOCK) {
			rc = error_errno(err, ERR_IO, errno, "cannot lock '%s'", path);
			goto out;
		}
		if (o->no_wait) {
			rc = error_set(err, ERR_CONFLICT,
				       "another 'ferry retrain' of model '%s' is running",
				       o->policy->model);
			goto out;
		}
		if (o->waiting)
			o->waiting(o->policy->model, o->data);
		while (flock(fd, LOCK_EX))
			if (errno != EINTR) {
				rc = error_errno(err, ERR_IO, errno, "cannot lock '%s'", path);
				goto out;
			}
	}
	*out = fd;
	fd = -1;
out:
	if (fd >= 0)
		close(fd);
	free(path);
	free(name);
	free(dir);
	return rc;
}

/* The state the triggers are checked against ------------------------------------------------- */

static bool is_decision(const struct store_registry_event *e)
{
	return e->reason &&
	       !strncmp(e->reason, RETRAIN_REASON_PREFIX, strlen(RETRAIN_REASON_PREFIX)) &&
	       strstr(e->reason, RETRAIN_EVIDENCE_MARK);
}

/* Champion, its promotion time and the last decision, from the alias and the history. */
static int load_history(struct retrain_outcome *out, struct store *st,
			const struct retrain_policy *p, struct error *err)
{
	struct store_registry_events ev = STORE_REGISTRY_EVENTS_INIT;
	int rc = store_alias_get(st, &out->champion, p->model, p->alias, err);

	if (rc == ERR_NOTFOUND) {
		out->champion = 0;
		error_clear(err);
		rc = 0;
	}
	if (!rc)
		rc = store_model_history(st, &ev, p->model, err);
	if (rc == ERR_NOTFOUND && !out->champion) {
		/* not registered yet: the first challenger creates it */
		error_clear(err);
		rc = 0;
	}
	for (size_t i = 0; !rc && i < ev.nr; i++) {
		const struct store_registry_event *e = &ev.items[i];

		if (e->kind != STORE_EVENT_STAGE && e->alias && !strcmp(e->alias, p->alias) &&
		    e->to_version == out->champion)
			out->champion_since_ms = e->time;
		if (is_decision(e))
			out->last_decision_ms = e->time;
	}
	store_registry_events_release(&ev);
	return rc;
}

/* The digest the champion's training data had ("sha256:..."); NULL when unknown. */
static char *champion_digest(struct store *st, const struct retrain_policy *p, int64_t champion)
{
	struct store_datasets ds = { 0 };
	struct error ignored = ERROR_INIT;
	char *digest = NULL;

	if (champion > 0 && !store_model_version_datasets(st, &ds, p->model, champion, &ignored))
		for (size_t i = 0; i < ds.nr && !digest; i++)
			if (ds.items[i].digest &&
			    (!ds.items[i].context || !strcmp(ds.items[i].context, "training")))
				digest = xstrdup(ds.items[i].digest);
	store_datasets_release(&ds);
	return digest;
}

static char *data_digest(const struct retrain_options *o, const char *data)
{
	char hex[SHA256_HEX_SIZE], *path;
	struct error ignored = ERROR_INIT;
	int rc;

	if (!data)
		return NULL;
	path = fs_path_join(o->root, data);
	rc = sha256_file(hex, path, &ignored);
	free(path);
	return rc ? NULL : xstrfmt("sha256:%s", hex);
}

/*
 * What produces the challenger: the training data (for new_data and the evidence) and, for a
 * stage policy, the model directory; a train step of ferry.yaml says both itself.
 */
static int resolve_producer(struct retrain_outcome *out, const struct retrain_options *o,
			    struct error *err)
{
	const struct retrain_policy *p = o->policy;
	struct pipeline pl = PIPELINE_INIT;
	const struct stage *s;
	int rc;

	if (p->has_train) {
		out->data_path = xstrdup(p->train.data);
		return 0;
	}
	if ((rc = pipeline_load(&pl, o->root, err))) {
		error_prefix(err, "retrain.%s.stage: ", p->model);
		return rc;
	}
	if (!(s = pipeline_find(&pl, p->stage))) {
		rc = error_set(err, ERR_NOTFOUND, "retrain.%s.stage: %s has no stage '%s'",
			       p->model, pl.file, p->stage);
		goto out;
	}
	if (s->kind == STAGE_TRAIN) {
		const char *data = json_string_value(json_object_get(s->step, "data"));
		const char *dir = json_string_value(json_object_get(s->step, "out"));

		out->data_path = data ? xstrdup(data) : NULL;
		out->model_dir = dir ? xstrdup(dir) : NULL;
	}
	if (p->stage_model) {
		free(out->model_dir);
		out->model_dir = xstrdup(p->stage_model);
	}
	if (!out->model_dir)
		rc = error_set(err, ERR_INVALID,
			       "retrain.%s.stage: stage '%s' is not a train step: name the model "
			       "directory it writes (stage: {name: %s, model: DIR})",
			       p->model, p->stage, p->stage);
out:
	pipeline_release(&pl);
	return rc;
}

static int check_triggers(struct retrain_outcome *out, struct store *st,
			  const struct retrain_options *o, int64_t now, struct error *err)
{
	struct store_monitor_results res = STORE_MONITOR_RESULTS_INIT;
	struct retrain_state s = { 0 };
	char *champ_digest = NULL;
	int rc = load_history(out, st, o->policy, err);

	if (rc)
		goto out;
	rc = store_monitor_results(st, &res, o->policy->model, RESULTS_LIMIT,
				   retrain_policy_reads_reports(o->policy), err);
	if (rc == ERR_UNSUPPORTED) { /* a backend without monitoring: only the other triggers */
		error_clear(err);
		rc = 0;
	}
	if (rc)
		goto out;
	out->data_digest = data_digest(o, out->data_path);
	champ_digest = champion_digest(st, o->policy, out->champion);
	s.now_ms = now;
	s.champion = out->champion;
	s.champion_since_ms = out->champion_since_ms;
	s.last_decision_ms = out->last_decision_ms;
	s.champion_data_digest = champ_digest;
	s.data_digest = out->data_digest;
	retrain_triggers_check(&out->check, o->policy, &s, res.items, res.nr);
out:
	free(champ_digest);
	store_monitor_results_release(&res);
	return rc;
}

/* Training the challenger --------------------------------------------------------------------- */

struct argv_list {
	const char **v;
	size_t nr;
	char **owned;
	size_t n_owned;
};

static void push(struct argv_list *a, const char *s)
{
	a->v = xreallocarray(a->v, a->nr + 2, sizeof(*a->v));
	a->v[a->nr++] = s;
	a->v[a->nr] = NULL;
}

static void push_owned(struct argv_list *a, char *s)
{
	a->owned = xreallocarray(a->owned, a->n_owned + 1, sizeof(*a->owned));
	a->owned[a->n_owned++] = s;
	push(a, s);
}

static void argv_release(struct argv_list *a)
{
	for (size_t i = 0; i < a->n_owned; i++)
		free(a->owned[i]);
	free(a->owned);
	free(a->v);
}

static void train_argv(struct argv_list *a, const struct retrain_options *o, const char *outdir)
{
	const struct retrain_train *t = &o->policy->train;

	push(a, o->exe);
	if (!o->policy->has_train) {
		/* the stage and what it depends on, stale ones only, recorded as runs */
		push(a, "repro");
		push(a, o->policy->stage);
		push(a, "--experiment");
		push(a, o->policy->experiment);
		return;
	}
	push(a, "train");
	push(a, "--json");
	push(a, "-q");
	push(a, "--data");
	push(a, t->data);
	push(a, "--target");
	push(a, t->target);
	if (t->model) {
		push(a, "--model");
		push(a, t->model);
	}
	for (size_t i = 0; i < t->n_params; i++) {
		push(a, "--param");
		push_owned(a, xstrfmt("%s=%s", t->params[i].key, t->params[i].value));
	}
	if (t->seed >= 0) {
		push(a, "--seed");
		push_owned(a, xstrfmt("%" PRId64, t->seed));
	}
	if (t->test_size) {
		push(a, "--test-size");
		push(a, t->test_size);
	}
	push(a, "--experiment");
	push(a, o->policy->experiment);
	push(a, "--run-name");
	push_owned(a, xstrfmt("retrain %s", o->policy->model));
	push(a, "--out");
	push(a, outdir);
	push(a, "--register");
	push(a, o->policy->model);
}

/* "ferry train --data ..." for people (arguments with spaces quoted). */
static char *format_command(const struct argv_list *a)
{
	struct strbuf sb = STRBUF_INIT;

	for (size_t i = 0; i < a->nr; i++) {
		const char *s = i ? a->v[i] : "ferry";
		bool q = !*s || strpbrk(s, " \t'\"$\\");

		strbuf_addf(&sb, "%s%s%s%s", i ? " " : "", q ? "'" : "", s, q ? "'" : "");
	}
	return strbuf_detach(&sb, NULL);
}

/* The last non-empty line of a child's stderr, for the error message. */
static void last_line(char *out, size_t size, const struct strbuf *sb)
{
	size_t end = sb->len, start;

	while (end && (sb->buf[end - 1] == '\n' || sb->buf[end - 1] == '\r'))
		end--;
	start = end;
	while (start && sb->buf[start - 1] != '\n')
		start--;
	snprintf(out, size, "%.*s", (int)(end - start), sb->buf + start);
}

/* The version `ferry train --json --register` says it registered, and its run. */
static int read_registered(struct retrain_outcome *out, const struct strbuf *stdout_text,
			   struct error *err)
{
	json_t *j = json_loadb(stdout_text->buf, stdout_text->len, 0, NULL);
	const char *run_id = json_string_value(json_object_get(j, "run_id"));
	json_int_t v =
	    json_integer_value(json_object_get(json_object_get(j, "registered"), "version"));
	int rc = 0;

	if (v <= 0 || !run_id || strlen(run_id) > ID_HEX_LEN)
		rc = error_set(err, ERR_INTERNAL,
			       "training the challenger: 'ferry train --json' did not say which "
			       "version it registered");
	else {
		out->challenger = v;
		memcpy(out->run_id, run_id, strlen(run_id) + 1);
	}
	json_decref(j);
	return rc;
}

/* A stage policy: the directory the stage wrote becomes the next version. */
static int register_stage_output(struct retrain_outcome *out, struct store *st, struct cas *cas,
				 const struct retrain_options *o, struct error *err)
{
	struct registry_register_options ro = { 0 };
	char *dir = fs_path_join(o->root, out->model_dir);
	int rc;

	ro.name = o->policy->model;
	ro.user = o->user;
	rc = registry_register_dir(st, cas, &out->challenger, out->run_id, dir, &ro, err);
	if (rc)
		error_prefix(err, "registering what stage '%s' wrote to '%s': ", o->policy->stage,
			     out->model_dir);
	free(dir);
	return rc;
}

static int train_challenger(struct retrain_outcome *out, struct store *st, struct cas *cas,
			    const struct retrain_options *o, const struct argv_list *a,
			    struct error *err)
{
	struct subprocess_result r = SUBPROCESS_RESULT_INIT;
	char line[160];
	int rc = subprocess_run(&r, a->v, o->root, NULL, TRAIN_OUTPUT_MAX, err);

	if (rc) {
		error_prefix(err, "training the challenger: ");
		goto out;
	}
	if (r.exit_code) {
		last_line(line, sizeof(line), &r.err);
		if (!line[0])
			last_line(line, sizeof(line), &r.out);
		rc = error_set(err, ERR_INVALID, "training the challenger failed (%s %d): %s",
			       r.signal ? "signal" : "exit", r.signal ? r.signal : r.exit_code,
			       line[0] ? line : "no message");
		goto out;
	}
	rc = o->policy->has_train ? read_registered(out, &r.out, err)
				  : register_stage_output(out, st, cas, o, err);
out:
	subprocess_result_release(&r);
	return rc;
}

/* Scoring and the gate -------------------------------------------------------------------- */

/* The numeric metrics of version on the holdout. */
static int evaluate(json_t **out, struct store *st, struct cas *cas,
		    const struct retrain_options *o, int64_t version, struct error *err)
{
	struct store_model_version v = STORE_MODEL_VERSION_INIT;
	struct score_options so = SCORE_OPTIONS_INIT;
	struct strbuf dir = STRBUF_INIT;
	char *holdout = fs_path_join(o->root, o->policy->holdout);
	json_t *all = NULL, *nums;
	struct model m;
	const char *key;
	json_t *x;
	int rc;

	model_init(&m);
	if ((rc = store_model_version_get(st, &v, o->policy->model, version, err)) ||
	    (rc = registry_materialize(st, cas, &v, o->models_dir, &dir, err)) ||
	    (rc = model_load(&m, dir.buf, err)))
		goto out;
	so.input = holdout;
	if ((rc = score_evaluate(&m, &so, &all, err))) {
		error_prefix(err, "version %" PRId64 " on the holdout: ", version);
		goto out;
	}
	nums = json_object();
	json_object_foreach(all, key, x)
		if (json_is_number(x))
			json_object_set(nums, key, x);
	*out = nums;
out:
	json_decref(all);
	model_release(&m);
	strbuf_release(&dir);
	store_model_version_release(&v);
	free(holdout);
	return rc;
}

static int lookup_metric(void *data, bool champion, const char *name, double *out,
			 struct error *err)
{
	const struct retrain_outcome *r = data;
	const json_t *m = champion ? r->champion_metrics : r->challenger_metrics;
	const json_t *v = json_object_get(m, !strcmp(name, "auc") ? "roc_auc" : name);

	if (!json_is_number(v) || !strcmp(name, "rows"))
		return error_set(err, ERR_INVALID, "gate: metric '%s' is not one the models have",
				 name);
	*out = json_number_value(v);
	return 0;
}

/* Without a champion the conditions against it hold (as `ferry models promote` does). */
static int check_gate(struct retrain_outcome *out, const struct retrain_policy *p,
		      struct error *err)
{
	struct gate g = GATE_INIT, checked = GATE_INIT;
	struct gate_result gr = GATE_RESULT_INIT;
	int rc;

	if ((rc = gate_parse(&g, p->gate, err)))
		return rc;
	/* borrowed conditions: checked owns nothing and is not released */
	checked.conds = xcalloc(g.nr, sizeof(*checked.conds));
	for (size_t i = 0; i < g.nr; i++)
		if (out->champion || !g.conds[i].champion)
			checked.conds[checked.nr++] = g.conds[i];
	out->gate_passed = true;
	if (checked.nr && !(rc = gate_eval(&checked, lookup_metric, out, &gr, err))) {
		gate_format_result(&checked, &gr, &out->gate_report);
		out->gate_passed = gr.pass;
	}
	if (!rc && checked.nr < g.nr)
		strbuf_addf(&out->gate_report,
			    "conditions against the champion hold: '%s' points to no version\n",
			    p->alias);
	gate_result_release(&gr);
	free(checked.conds);
	gate_release(&g);
	return rc;
}

/* Recording ------------------------------------------------------------------------------------ */

static json_t *number_or_null(double x)
{
	return isfinite(x) ? json_real(x) : json_null();
}

static json_t *triggers_json(const struct retrain_check *c)
{
	json_t *arr = json_array();

	for (size_t i = 0; i < c->nr; i++) {
		const struct retrain_trigger_check *t = &c->items[i];
		json_t *j = json_pack("{s:s, s:s, s:b, s:s, s:s}", "name", t->trigger->name, "kind",
				      retrain_trigger_kind_name(t->trigger->kind), "fired",
				      t->truth == ALERT_TRUE, "truth", alert_truth_name(t->truth),
				      "detail", t->detail ? t->detail : "");

		if (t->trigger->kind == RETRAIN_WHEN)
			json_object_set_new(j, "when", json_string(t->trigger->rule.text));
		json_object_set_new(j, "metric", t->metric ? json_string(t->metric) : json_null());
		json_object_set_new(j, "op",
				    t->metric ? json_string(alert_op_name(t->op)) : json_null());
		json_object_set_new(j, "value", number_or_null(t->value));
		json_object_set_new(j, "threshold", number_or_null(t->threshold));
		json_object_set_new(j, "result_id",
				    t->result_id ? json_integer(t->result_id) : json_null());
		json_array_append_new(arr, j);
	}
	return arr;
}

static json_t *evidence_json(const struct retrain_options *o, const struct retrain_outcome *r)
{
	const struct retrain_policy *p = o->policy;
	json_t *j = json_object();

	json_object_set_new(j, "decision", json_string(retrain_decision_name(r->decision)));
	json_object_set_new(j, "model", json_string(p->model));
	json_object_set_new(j, "alias", json_string(p->alias));
	json_object_set_new(j, "champion", r->champion ? json_integer(r->champion) : json_null());
	json_object_set_new(j, "challenger",
			    r->challenger ? json_integer(r->challenger) : json_null());
	json_object_set_new(j, "run_id", r->run_id[0] ? json_string(r->run_id) : json_null());
	json_object_set_new(
	    j, "data", json_pack("{s:s?, s:s?}", "path", r->data_path, "digest", r->data_digest));
	json_object_set_new(j, "forced", json_boolean(o->force && !r->check.fired));
	json_object_set_new(j, "triggers", triggers_json(&r->check));
	json_object_set_new(j, "gate", json_string(p->gate));
	json_object_set_new(j, "gate_passed", json_boolean(r->gate_passed));
	json_object_set_new(j, "gate_report", json_string(r->gate_report.buf));
	json_object_set_new(j, "holdout", json_string(p->holdout));
	json_object_set_new(j, "challenger_metrics",
			    r->challenger_metrics ? json_incref(r->challenger_metrics)
						  : json_null());
	json_object_set_new(j, "champion_metrics",
			    r->champion_metrics ? json_incref(r->champion_metrics) : json_null());
	return j;
}

/* "retrain: promoted v3 over v2 (fired: drift, quality; gate 'f1 >= ...' passed) evidence={}" */
static char *reason_text(const struct retrain_options *o, const struct retrain_outcome *r)
{
	struct strbuf sb = STRBUF_INIT;
	char *ev = json_dumps(r->evidence, JSON_COMPACT | JSON_REAL_PRECISION(17));
	size_t named = 0;

	strbuf_addstr(&sb, RETRAIN_REASON_PREFIX);
	if (r->decision == RETRAIN_PROMOTED)
		strbuf_addf(&sb, "promoted v%" PRId64, r->challenger);
	else
		strbuf_addf(&sb, "rejected v%" PRId64, r->challenger);
	if (r->champion)
		strbuf_addf(
		    &sb, r->decision == RETRAIN_PROMOTED ? " over v%" PRId64 : ", kept v%" PRId64,
		    r->champion);
	strbuf_addstr(&sb, " (fired: ");
	for (size_t i = 0; i < r->check.nr; i++)
		if (r->check.items[i].truth == ALERT_TRUE)
			strbuf_addf(&sb, "%s%s", named++ ? ", " : "",
				    r->check.items[i].trigger->name);
	if (!named)
		strbuf_addstr(&sb, "none, forced");
	strbuf_addf(&sb, "; gate '%s' %s)" RETRAIN_EVIDENCE_MARK "%s", o->policy->gate,
		    r->gate_passed ? "passed" : "failed", ev ? ev : "{}");
	free(ev);
	return strbuf_detach(&sb, NULL);
}

static int record(struct retrain_outcome *out, struct store *st, const struct retrain_options *o,
		  struct error *err)
{
	const struct retrain_policy *p = o->policy;
	char *reason, *fired;
	struct strbuf names = STRBUF_INIT;
	int rc;

	out->decision = out->gate_passed ? RETRAIN_PROMOTED : RETRAIN_REJECTED;
	out->evidence = evidence_json(o, out);
	reason = reason_text(o, out);
	if (out->gate_passed) {
		struct store_alias_move move = {
			.name = p->model,
			.alias = p->alias,
			.version = out->challenger,
			/* the champion that was evaluated, or "no alias yet" */
			.expect = out->champion,
			.user = o->user,
			.reason = reason,
		};

		rc = store_alias_set(st, NULL, &move, err);
	} else {
		rc = store_model_version_transition(st, NULL, p->model, out->challenger,
						    STORE_STAGE_ARCHIVED, false, o->user, reason,
						    err);
	}
	for (size_t i = 0; i < out->check.nr; i++)
		if (out->check.items[i].truth == ALERT_TRUE)
			strbuf_addf(&names, "%s%s", names.len ? "," : "",
				    out->check.items[i].trigger->name);
	fired = strbuf_detach(&names, NULL);
	if (!rc) {
		struct store_kv tags[] = {
			{ "ferry.retrain.decision", retrain_decision_name(out->decision) },
			{ "ferry.retrain.triggers", fired },
		};
		struct error ignored = ERROR_INIT;

		/* the run is finished: a store that refuses tags then loses only the tags */
		store_run_set_tags(st, out->run_id, tags, ARRAY_SIZE(tags), &ignored);
	}
	free(fired);
	free(reason);
	return rc;
}

/* The pass ------------------------------------------------------------------------------------ */

static int train_and_decide(struct retrain_outcome *out, struct store *st, struct cas *cas,
			    const struct retrain_options *o, const struct argv_list *a,
			    struct error *err)
{
	int rc;

	if ((rc = train_challenger(out, st, cas, o, a, err)))
		return rc;
	if ((rc = evaluate(&out->challenger_metrics, st, cas, o, out->challenger, err)) ||
	    (out->champion &&
	     (rc = evaluate(&out->champion_metrics, st, cas, o, out->champion, err))) ||
	    (rc = check_gate(out, o->policy, err)))
		return rc;
	return record(out, st, o, err);
}

int retrain_run(struct store *st, struct cas *cas, const struct retrain_options *o,
		struct retrain_outcome *out, struct error *err)
{
	int64_t now = o->now_ms ? o->now_ms : time_now_ms();
	struct argv_list a = { 0 };
	char *outdir = NULL;
	int lock = -1, rc;

	if (!o->dry_run && (rc = lock_take(&lock, o, err)))
		return rc;
	if ((rc = resolve_producer(out, o, err)) || (rc = check_triggers(out, st, o, now, err)))
		goto out;
	out->decision = RETRAIN_NOTHING;
	if (!out->check.fired && !o->force)
		goto out;
	if (!retrain_check_should_run(&out->check) && !o->force) {
		out->decision = RETRAIN_COOLDOWN;
		goto out;
	}
	outdir = xstrfmt("%s/retrain/%" PRId64 "-%ld", o->ferry_dir, now, (long)getpid());
	train_argv(&a, o, outdir);
	out->command = format_command(&a);
	if (o->dry_run) {
		out->decision = RETRAIN_WOULD_RUN;
		goto out;
	}
	rc = train_and_decide(out, st, cas, o, &a, err);
out:
	argv_release(&a);
	free(outdir);
	if (lock >= 0)
		close(lock);
	return rc;
}

json_t *retrain_outcome_json(const struct retrain_options *o, const struct retrain_outcome *r)
{
	json_t *j = r->evidence ? json_deep_copy(r->evidence) : evidence_json(o, r);

	json_object_set_new(j, "decision", json_string(retrain_decision_name(r->decision)));
	json_object_set_new(j, "results_counted", json_integer((json_int_t)r->check.counted));
	json_object_set_new(j, "since_ms", json_integer(r->check.since_ms));
	json_object_set_new(j, "cooldown_left_ms", json_integer(r->check.cooldown_left_ms));
	json_object_set_new(j, "command", r->command ? json_string(r->command) : json_null());
	if (!r->evidence && r->decision != RETRAIN_PROMOTED && r->decision != RETRAIN_REJECTED) {
		json_object_del(j, "gate_passed");
		json_object_del(j, "gate_report");
	}
	return j;
}
