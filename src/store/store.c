/*
 * The store front end: parses store URIs, checks the arguments every backend would check the
 * same way, dispatches through struct store_ops, and releases what the store hands out.
 */
#include "util/common.h"
#include "store/store_internal.h"
#include "store/search.h"
#include "util/fs.h"

#include <ctype.h>

/* For ops a backend leaves NULL: the http store has no stat cache and no dataset profiles. */
static int op_unsupported(const struct store *st, const char *what, struct error *err)
{
	return error_set(err, ERR_UNSUPPORTED, "%s: not available on a remote tracking server (%s)",
			 what, st->location);
}

static const char *const run_status_names[] = {
	[STORE_RUN_RUNNING] = "RUNNING",   [STORE_RUN_SCHEDULED] = "SCHEDULED",
	[STORE_RUN_FINISHED] = "FINISHED", [STORE_RUN_FAILED] = "FAILED",
	[STORE_RUN_KILLED] = "KILLED",
};

/* A "scheme:" prefix as RFC 3986 spells it; two letters at least, so "C:" stays a path. */
static bool has_scheme(const char *uri)
{
	const char *p = uri;

	if (!isalpha((unsigned char)*p))
		return false;
	while (isalnum((unsigned char)*p) || *p == '+' || *p == '-' || *p == '.')
		p++;
	return *p == ':' && p - uri >= 2;
}

/* Splits uri into a backend and its location (a suffix of uri, hence borrowed). */
static int parse_uri(const struct store_ops **be, const char **location, const char *uri,
		     struct error *err)
{
	static const char expected[] =
	    "expected sqlite:PATH, a file path, http(s)://HOST:PORT or postgresql://...";
	const char *rest;

	if (!*uri)
		return error_set(err, ERR_INVALID, "empty store uri: %s", expected);
	if (skip_prefix(uri, "http://", NULL) || skip_prefix(uri, "https://", NULL)) {
		/* a tracking server: the http backend keeps the whole uri */
		*be = &store_http_ops;
		*location = uri;
		return 0;
	}
	if (skip_prefix(uri, "postgresql://", NULL) || skip_prefix(uri, "postgres://", NULL))
		return error_set(err, ERR_UNSUPPORTED, "postgresql store is not built yet");
	if (skip_prefix(uri, "sqlite:", &rest)) {
		/*
		 * SQLAlchemy's (and so MLflow's) "sqlite:///x.db" means the relative x.db, while
		 * read as sqlite:PATH it is /x.db: refuse to guess.
		 */
		if (skip_prefix(rest, "//", NULL))
			return error_set(err, ERR_INVALID,
					 "invalid store uri '%s': expected sqlite:PATH, e.g. "
					 "sqlite:ferry.db or sqlite:/abs/ferry.db",
					 uri);
		if (!*rest)
			return error_set(err, ERR_INVALID,
					 "invalid store uri '%s': the path is missing; %s", uri,
					 expected);
	} else if (has_scheme(uri)) {
		return error_set(err, ERR_INVALID, "unsupported store uri '%s': %s", uri, expected);
	} else {
		rest = uri;
	}
	*be = &store_sqlite_ops;
	*location = rest;
	return 0;
}

int store_open(struct store **out, const char *uri, struct error *err)
{
	const struct store_ops *be = NULL;
	const char *location = NULL;
	int rc;

	if ((rc = parse_uri(&be, &location, uri, err)) < 0)
		return rc;
	return be->open(out, location, err);
}

void store_close(struct store *st)
{
	if (st)
		st->ops->close(st);
}

const char *store_backend_name(const struct store *st)
{
	return st->ops->name;
}

int store_info(struct store *st, struct store_info *out, struct error *err)
{
	return st->ops->info(st, out, err);
}

void store_info_release(struct store_info *info)
{
	if (!info)
		return;
	free(info->location);
	memset(info, 0, sizeof(*info));
}

int store_check(struct store *st, struct strbuf *report, struct error *err)
{
	return st->ops->check(st, report, err);
}

/* Experiments --------------------------------------------------------------------------------- */

char *store_experiment_id_str(int64_t id)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%" PRId64, id);
	return xstrdup(buf);
}

/* Experiment ids are MLflow's decimal strings; anything else names no experiment. */
static int parse_experiment_id(int64_t *out, const char *id, struct error *err)
{
	char *end;
	long long v;

	if (!isdigit((unsigned char)*id))
		goto invalid;
	errno = 0;
	v = strtoll(id, &end, 10);
	if (errno || *end)
		goto invalid;
	*out = (int64_t)v;
	return 0;
invalid:
	return error_set(err, ERR_INVALID, "invalid experiment id '%s': expected a number", id);
}

int store_experiment_create(struct store *st, char **out_id, const char *name,
			    const char *artifact_location, struct error *err)
{
	if (!*name)
		return error_set(err, ERR_INVALID, "an experiment name must not be empty");
	return st->ops->experiment_create(st, out_id, name, artifact_location, err);
}

int store_experiment_get(struct store *st, struct store_experiment *out, const char *id,
			 struct error *err)
{
	int64_t num = 0;
	int rc;

	if ((rc = parse_experiment_id(&num, id, err)) < 0)
		return rc;
	return st->ops->experiment_get(st, out, num, err);
}

int store_experiment_get_by_name(struct store *st, struct store_experiment *out, const char *name,
				 struct error *err)
{
	return st->ops->experiment_get_by_name(st, out, name, err);
}

int store_experiment_list(struct store *st, struct store_experiments *out, enum store_view view,
			  struct error *err)
{
	return st->ops->experiment_list(st, out, view, err);
}

void store_experiment_release(struct store_experiment *exp)
{
	if (!exp)
		return;
	free(exp->id);
	free(exp->name);
	free(exp->artifact_location);
	memset(exp, 0, sizeof(*exp));
}

void store_experiments_release(struct store_experiments *list)
{
	if (!list)
		return;
	for (size_t i = 0; i < list->nr; i++)
		store_experiment_release(&list->items[i]);
	free(list->items);
	memset(list, 0, sizeof(*list));
}

/* Runs ---------------------------------------------------------------------------------------- */

const char *store_run_status_name(enum store_run_status status)
{
	if ((size_t)status >= ARRAY_SIZE(run_status_names))
		BUG("unknown run status %d", (int)status);
	return run_status_names[status];
}

int store_run_status_parse(enum store_run_status *out, const char *name, struct error *err)
{
	for (size_t i = 0; i < ARRAY_SIZE(run_status_names); i++) {
		if (!strcasecmp(name, run_status_names[i])) {
			*out = (enum store_run_status)i;
			return 0;
		}
	}
	return error_set(err, ERR_INVALID,
			 "unknown run status '%s': expected RUNNING, SCHEDULED, FINISHED, FAILED "
			 "or KILLED",
			 name);
}

static int check_keys(const struct store_kv *kvs, size_t nr, const char *what, bool need_value,
		      struct error *err)
{
	for (size_t i = 0; i < nr; i++) {
		if (!kvs[i].key || !*kvs[i].key)
			return error_set(err, ERR_INVALID, "%s key must not be empty", what);
		if (need_value && !kvs[i].value)
			return error_set(err, ERR_INVALID, "%s '%s' has no value", what,
					 kvs[i].key);
	}
	return 0;
}

int store_run_create(struct store *st, char out_id[ID_HEX_LEN + 1], const struct store_new_run *run,
		     struct error *err)
{
	struct store_new_run r = *run;
	char id[ID_HEX_LEN + 1];
	int64_t exp = 0;
	int rc;

	if (!r.experiment_id)
		r.experiment_id = STORE_DEFAULT_EXPERIMENT_ID;
	if ((rc = parse_experiment_id(&exp, r.experiment_id, err)) < 0)
		return rc;
	if (r.id && !id_is_valid(r.id))
		return error_set(err, ERR_INVALID,
				 "invalid run id '%s': expected 32 lowercase hex digits", r.id);
	if (!r.id) {
		if ((rc = id_new(id, err)) < 0)
			return rc;
		r.id = id;
	}
	if (!r.start_time)
		r.start_time = time_now_ms();
	if ((size_t)r.status >= ARRAY_SIZE(run_status_names))
		BUG("unknown run status %d", (int)r.status);
	if ((rc = check_keys(r.tags, r.nr_tags, "tag", false, err)) < 0)
		return rc;
	if (run->id && st->ops->server_run_ids)
		return error_set(err, ERR_UNSUPPORTED,
				 "cannot create run '%s' on %s: the tracking server picks run ids",
				 run->id, st->location);
	return st->ops->run_create(st, out_id, &r, exp, err);
}

int store_run_get(struct store *st, struct store_run *out, const char *run_id, struct error *err)
{
	return st->ops->run_get(st, out, run_id, err);
}

int store_run_list(struct store *st, struct store_runs *out, const char *experiment_id,
		   enum store_view view, struct error *err)
{
	int64_t exp = -1;
	int rc;

	if (experiment_id && (rc = parse_experiment_id(&exp, experiment_id, err)) < 0)
		return rc;
	return st->ops->run_list(st, out, exp, view, err);
}

int store_run_set_status(struct store *st, const char *run_id, enum store_run_status status,
			 int64_t end_time, struct error *err)
{
	if ((size_t)status >= ARRAY_SIZE(run_status_names))
		BUG("unknown run status %d", (int)status);
	return st->ops->run_set_status(st, run_id, status, end_time, err);
}

int store_run_log_params(struct store *st, const char *run_id, const struct store_kv *params,
			 size_t nr, struct error *err)
{
	int rc;

	if ((rc = check_keys(params, nr, "param", true, err)) < 0)
		return rc;
	return st->ops->run_log_params(st, run_id, params, nr, err);
}

int store_run_log_param(struct store *st, const char *run_id, const char *key, const char *value,
			struct error *err)
{
	struct store_kv kv = { key, value };

	return store_run_log_params(st, run_id, &kv, 1, err);
}

int store_run_params(struct store *st, struct store_pairs *out, const char *run_id,
		     struct error *err)
{
	return st->ops->run_params(st, out, run_id, err);
}

int store_run_set_tags(struct store *st, const char *run_id, const struct store_kv *tags, size_t nr,
		       struct error *err)
{
	int rc;

	if ((rc = check_keys(tags, nr, "tag", false, err)) < 0)
		return rc;
	return st->ops->run_set_tags(st, run_id, tags, nr, err);
}

int store_run_set_tag(struct store *st, const char *run_id, const char *key, const char *value,
		      struct error *err)
{
	struct store_kv kv = { key, value };

	return store_run_set_tags(st, run_id, &kv, 1, err);
}

int store_run_tags(struct store *st, struct store_pairs *out, const char *run_id, struct error *err)
{
	return st->ops->run_tags(st, out, run_id, err);
}

int store_run_log_metrics(struct store *st, const char *run_id, const struct store_metric *metrics,
			  size_t nr, struct error *err)
{
	for (size_t i = 0; i < nr; i++)
		if (!metrics[i].key || !*metrics[i].key)
			return error_set(err, ERR_INVALID, "metric key must not be empty");
	return st->ops->run_log_metrics(st, run_id, metrics, nr, err);
}

int store_run_log_metrics_active(struct store *st, const char *run_id,
				 const struct store_metric *metrics, size_t nr, struct error *err)
{
	struct store_run run = STORE_RUN_INIT;
	int rc;

	for (size_t i = 0; i < nr; i++)
		if (!metrics[i].key || !*metrics[i].key)
			return error_set(err, ERR_INVALID, "metric key must not be empty");
	if (st->ops->run_log_metrics_active)
		return st->ops->run_log_metrics_active(st, run_id, metrics, nr, err);
	if ((rc = store_run_get(st, &run, run_id, err)) < 0)
		goto out;
	if (run.deleted) {
		rc = error_set(err, ERR_INVALID, "run '%s' is deleted", run_id);
		goto out;
	}
	rc = st->ops->run_log_metrics(st, run_id, metrics, nr, err);
out:
	store_run_release(&run);
	return rc;
}

int store_metric_history(struct store *st, struct store_metric_points *out, const char *run_id,
			 const char *key, struct error *err)
{
	return st->ops->metric_history(st, out, run_id, key, err);
}

int store_run_latest_metrics(struct store *st, struct store_metric_points *out, const char *run_id,
			     struct error *err)
{
	return st->ops->run_latest_metrics(st, out, run_id, err);
}

void store_run_release(struct store_run *run)
{
	if (!run)
		return;
	free(run->experiment_id);
	free(run->name);
	free(run->user);
	free(run->artifact_uri);
	free(run->source_git_commit);
	free(run->command);
	memset(run, 0, sizeof(*run));
}

void store_runs_release(struct store_runs *list)
{
	if (!list)
		return;
	for (size_t i = 0; i < list->nr; i++)
		store_run_release(&list->items[i]);
	free(list->items);
	memset(list, 0, sizeof(*list));
}

void store_pairs_release(struct store_pairs *pairs)
{
	if (!pairs)
		return;
	for (size_t i = 0; i < pairs->nr; i++) {
		free(pairs->items[i].key);
		free(pairs->items[i].value);
	}
	free(pairs->items);
	memset(pairs, 0, sizeof(*pairs));
}

void store_metric_points_release(struct store_metric_points *list)
{
	if (!list)
		return;
	for (size_t i = 0; i < list->nr; i++)
		free(list->items[i].key);
	free(list->items);
	memset(list, 0, sizeof(*list));
}

/* Datasets ------------------------------------------------------------------------------------ */

int store_dataset_record(struct store *st, int64_t *out_id, const struct store_new_dataset *ds,
			 struct error *err)
{
	struct store_new_dataset d = *ds;

	if (!d.name)
		d.name = d.path;
	if (!d.name || !*d.name)
		return error_set(err, ERR_INVALID, "a dataset needs a name or a path");
	if (!d.digest || !*d.digest)
		return error_set(err, ERR_INVALID, "dataset '%s' has no digest", d.name);
	if (!d.created_time)
		d.created_time = time_now_ms();
	return st->ops->dataset_record(st, out_id, &d, err);
}

int store_dataset_set_profile(struct store *st, int64_t *updated, const char *digest,
			      const char *profile_json, struct error *err)
{
	if (!st->ops->dataset_set_profile)
		return op_unsupported(st, "storing dataset profiles", err);
	return st->ops->dataset_set_profile(st, updated, digest, profile_json, err);
}

int store_dataset_get(struct store *st, struct store_dataset *out, int64_t id, struct error *err)
{
	return st->ops->dataset_get(st, out, id, err);
}

int store_run_add_input(struct store *st, const char *run_id, int64_t dataset_id,
			const char *context, struct error *err)
{
	return st->ops->run_add_input(st, run_id, dataset_id, context, err);
}

int store_run_inputs(struct store *st, struct store_datasets *out, const char *run_id,
		     struct error *err)
{
	return st->ops->run_inputs(st, out, run_id, err);
}

void store_dataset_release(struct store_dataset *ds)
{
	if (!ds)
		return;
	free(ds->name);
	free(ds->path);
	free(ds->digest);
	free(ds->git_commit);
	free(ds->source_type);
	free(ds->source);
	free(ds->context);
	memset(ds, 0, sizeof(*ds));
}

void store_datasets_release(struct store_datasets *list)
{
	if (!list)
		return;
	for (size_t i = 0; i < list->nr; i++)
		store_dataset_release(&list->items[i]);
	free(list->items);
	memset(list, 0, sizeof(*list));
}

int store_statcache_load(struct store *st, const char *prefix,
			 int (*fn)(const struct store_stat_entry *e, void *data), void *data,
			 struct error *err)
{
	if (!st->ops->statcache_load)
		return op_unsupported(st, "the stat cache", err);
	return st->ops->statcache_load(st, prefix ? prefix : "", fn, data, err);
}

int store_statcache_put(struct store *st, const struct store_stat_entry *entries, size_t n,
			struct error *err)
{
	for (size_t i = 0; i < n; i++)
		if (!entries[i].path || !*entries[i].path || strlen(entries[i].hex) != 64)
			return error_set(err, ERR_INVALID, "stat cache entry %zu is incomplete", i);
	if (!n)
		return 0;
	if (!st->ops->statcache_put)
		return op_unsupported(st, "the stat cache", err);
	return st->ops->statcache_put(st, entries, n, err);
}

/* MLflow tracking server operations ------------------------------------------------------------ */

int store_experiment_rename(struct store *st, const char *id, const char *new_name,
			    struct error *err)
{
	int64_t num = 0;
	int rc;

	if (!new_name || !*new_name)
		return error_set(err, ERR_INVALID, "an experiment name must not be empty");
	if ((rc = parse_experiment_id(&num, id, err)) < 0)
		return rc;
	return st->ops->experiment_rename(st, num, new_name, err);
}

int store_experiment_set_deleted(struct store *st, const char *id, bool deleted, struct error *err)
{
	int64_t num = 0;
	int rc;

	if ((rc = parse_experiment_id(&num, id, err)) < 0)
		return rc;
	return st->ops->experiment_set_deleted(st, num, deleted, err);
}

int store_experiment_set_tag(struct store *st, const char *id, const char *key, const char *value,
			     struct error *err)
{
	int64_t num = 0;
	int rc;

	if (!key || !*key)
		return error_set(err, ERR_INVALID, "tag key must not be empty");
	if ((rc = parse_experiment_id(&num, id, err)) < 0)
		return rc;
	return st->ops->experiment_set_tag(st, num, key, value, err);
}

int store_experiment_tags(struct store *st, struct store_pairs *out, const char *id,
			  struct error *err)
{
	int64_t num = 0;
	int rc;

	if ((rc = parse_experiment_id(&num, id, err)) < 0)
		return rc;
	return st->ops->experiment_tags(st, out, num, err);
}

int store_run_update(struct store *st, const char *run_id, const struct store_run_changes *c,
		     struct error *err)
{
	if (c->set_status && (size_t)c->status >= ARRAY_SIZE(run_status_names))
		BUG("unknown run status %d", (int)c->status);
	return st->ops->run_update(st, run_id, c, err);
}

int store_run_set_deleted(struct store *st, const char *run_id, bool deleted, struct error *err)
{
	return st->ops->run_set_deleted(st, run_id, deleted, err);
}

int store_run_delete_tag(struct store *st, const char *run_id, const char *key, struct error *err)
{
	if (!key || !*key)
		return error_set(err, ERR_INVALID, "tag key must not be empty");
	return st->ops->run_delete_tag(st, run_id, key, err);
}

int store_metric_history_page(struct store *st, struct store_metric_points *out, const char *run_id,
			      const char *key, int64_t offset, int64_t limit, struct error *err)
{
	if (offset < 0)
		return error_set(err, ERR_INVALID, "negative offset %" PRId64, offset);
	return st->ops->metric_history_page(st, out, run_id, key, offset, limit, err);
}

int store_run_log_batch(struct store *st, const char *run_id, const struct store_batch *b,
			struct error *err)
{
	int rc;

	if ((rc = check_keys(b->params, b->nr_params, "param", true, err)) < 0 ||
	    (rc = check_keys(b->tags, b->nr_tags, "tag", false, err)) < 0)
		return rc;
	for (size_t i = 0; i < b->nr_metrics; i++)
		if (!b->metrics[i].key || !*b->metrics[i].key)
			return error_set(err, ERR_INVALID, "metric key must not be empty");
	return st->ops->run_log_batch(st, run_id, b, err);
}

/* Search -------------------------------------------------------------------------------------- */

/* What every backend would check the same way; *max_results becomes the effective limit. */
static int check_search(int64_t *max_results, int64_t offset, struct error *err)
{
	int rc;

	if ((rc = search_max_results(max_results, *max_results, err)) < 0)
		return rc;
	if (offset < 0)
		return error_set(err, ERR_INVALID, "negative search offset %" PRId64, offset);
	return 0;
}

int store_run_search(struct store *st, struct store_runs *out, char **next_page_token,
		     const struct store_run_search *q, struct error *err)
{
	struct store_run_search s = *q;
	int64_t id;
	int rc;

	if ((rc = check_search(&s.max_results, s.offset, err)) < 0)
		return rc;
	for (size_t i = 0; s.experiment_ids && i < s.nr_experiment_ids; i++)
		if ((rc = parse_experiment_id(&id, s.experiment_ids[i], err)) < 0)
			return rc;
	return st->ops->run_search(st, out, next_page_token, &s, err);
}

int store_experiment_search(struct store *st, struct store_experiments *out, char **next_page_token,
			    const struct store_experiment_search *q, struct error *err)
{
	struct store_experiment_search s = *q;
	int rc;

	if ((rc = check_search(&s.max_results, s.offset, err)) < 0)
		return rc;
	return st->ops->experiment_search(st, out, next_page_token, &s, err);
}

/* Run artifacts ------------------------------------------------------------------------------- */

void store_artifact_release(struct store_artifact *a)
{
	if (!a)
		return;
	free(a->path);
	free(a->digest);
	memset(a, 0, sizeof(*a));
}

void store_artifacts_release(struct store_artifacts *list)
{
	if (!list)
		return;
	for (size_t i = 0; i < list->nr; i++)
		store_artifact_release(&list->items[i]);
	free(list->items);
	memset(list, 0, sizeof(*list));
}

static int artifacts_unsupported(const struct store *st, struct error *err)
{
	return error_set(err, ERR_UNSUPPORTED, "run artifacts are not supported by this store (%s)",
			 st->ops->name);
}

static int check_artifact_path(const char *path, bool dir, struct error *err)
{
	if (dir && (!path || !*path))
		return 0;
	if (!path || !fs_relpath_is_safe(path))
		return error_set(err, ERR_INVALID,
				 "invalid artifact path '%s': expected a relative path without "
				 "empty, '.' or '..' segments",
				 path ? path : "");
	return 0;
}

static bool is_sha256_hex(const char *hex)
{
	if (!hex || strlen(hex) != SHA256_HEX_SIZE - 1)
		return false;
	for (const char *p = hex; *p; p++)
		if (!isdigit((unsigned char)*p) && !(*p >= 'a' && *p <= 'f'))
			return false;
	return true;
}

int store_artifact_record(struct store *st, const char *run_id,
			  const struct store_new_artifact *artifacts, size_t nr, struct error *err)
{
	int rc;

	if (!st->ops->artifact_record)
		return artifacts_unsupported(st, err);
	for (size_t i = 0; i < nr; i++) {
		const struct store_new_artifact *a = &artifacts[i];

		if ((rc = check_artifact_path(a->path, false, err)) < 0)
			return rc;
		if (!is_sha256_hex(a->digest))
			return error_set(err, ERR_INVALID,
					 "artifact '%s': digest '%s' is not a sha256 hex digest",
					 a->path, a->digest ? a->digest : "");
		if (a->size < 0)
			return error_set(err, ERR_INVALID, "artifact '%s': negative size %" PRId64,
					 a->path, a->size);
	}
	if (!nr)
		return 0;
	return st->ops->artifact_record(st, run_id, artifacts, nr, err);
}

static int artifact_list(struct store *st, struct store_artifacts *out, const char *run_id,
			 const char *dir, bool recursive, struct error *err)
{
	int rc;

	if (!st->ops->artifact_list)
		return artifacts_unsupported(st, err);
	if ((rc = check_artifact_path(dir, true, err)) < 0)
		return rc;
	return st->ops->artifact_list(st, out, run_id, dir ? dir : "", recursive, err);
}

int store_artifact_list(struct store *st, struct store_artifacts *out, const char *run_id,
			const char *dir, struct error *err)
{
	return artifact_list(st, out, run_id, dir, false, err);
}

int store_artifact_list_all(struct store *st, struct store_artifacts *out, const char *run_id,
			    const char *dir, struct error *err)
{
	return artifact_list(st, out, run_id, dir, true, err);
}

int store_artifact_get(struct store *st, struct store_artifact *out, const char *run_id,
		       const char *path, struct error *err)
{
	int rc;

	if (!st->ops->artifact_get)
		return artifacts_unsupported(st, err);
	if ((rc = check_artifact_path(path, false, err)) < 0)
		return rc;
	return st->ops->artifact_get(st, out, run_id, path, err);
}

int store_artifact_delete(struct store *st, int64_t *deleted, const char *run_id, const char *path,
			  struct error *err)
{
	int64_t n = 0;
	int rc;

	if (!st->ops->artifact_delete)
		return artifacts_unsupported(st, err);
	if ((rc = check_artifact_path(path, true, err)) < 0)
		return rc;
	if ((rc = st->ops->artifact_delete(st, &n, run_id, path ? path : "", err)) < 0)
		return rc;
	if (deleted)
		*deleted = n;
	return 0;
}

int store_artifact_digests(struct store *st, int (*fn)(const char *hex, void *data), void *data,
			   struct error *err)
{
	if (!st->ops->artifact_digests)
		return artifacts_unsupported(st, err);
	return st->ops->artifact_digests(st, fn, data, err);
}
