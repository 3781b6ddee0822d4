/* Model arguments and the registry's JSON views and printing (cli/models_common.h). */
#include "util/common.h"
#include "cli/models_common.h"
#include "cli/artifact_common.h"
#include "cli/cli.h"
#include "data/cas.h"
#include "project/project.h"
#include "registry/registry.h"
#include "store/search.h"
#include "util/fs.h"
#include "util/id.h"
#include "util/strbuf.h"

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *time_json(int64_t ms)
{
	char buf[40];

	if (!ms)
		return json_null();
	time_format_iso8601(ms, buf, sizeof(buf));
	return json_string(buf);
}

int models_resolve_arg(struct ctx *ctx, struct store_model_version *out, const char *arg)
{
	struct model_ref ref = MODEL_REF_INIT;
	int rc;

	rc = model_ref_parse_short(&ref, arg, false, &ctx->err);
	if (!rc)
		rc = registry_resolve(ctx->store, out, &ref, &ctx->err);
	model_ref_release(&ref);
	return rc;
}

int cli_model_dir(struct ctx *ctx, struct strbuf *dir, const char *arg,
		  struct store_model_version *v)
{
	struct store_model_version local = STORE_MODEL_VERSION_INIT;
	struct model_ref ref = MODEL_REF_INIT;
	struct cas *cas = NULL;
	char *models_dir = NULL;
	int rc;

	if ((rc = model_uri_parse(&ref, arg, &ctx->err)))
		goto out;
	if (ref.kind == MODEL_REF_PATH) {
		strbuf_addstr(dir, arg);
		goto out;
	}
	if ((rc = cli_open(ctx, NEED_STORE)) ||
	    (rc = registry_resolve(ctx->store, &local, &ref, &ctx->err)) ||
	    (rc = cli_artifact_cas(&cas, ctx)))
		goto out;
	models_dir = fs_path_join(ctx->project->dir, "models");
	rc = registry_materialize(ctx->store, cas, &local, models_dir, dir, &ctx->err);
	if (!rc && v) {
		*v = local;
		memset(&local, 0, sizeof(local));
	}
out:
	free(models_dir);
	cas_free(cas);
	store_model_version_release(&local);
	model_ref_release(&ref);
	return rc;
}

/* "champion=3, production=2" */
static char *aliases_text(const struct store_pairs *aliases)
{
	struct strbuf sb = STRBUF_INIT;

	for (size_t i = 0; i < aliases->nr; i++)
		strbuf_addf(&sb, "%s%s=%s", i ? ", " : "", aliases->items[i].key,
			    aliases->items[i].value);
	return strbuf_detach(&sb, NULL);
}

int models_summary_json(struct ctx *ctx, json_t **out, const struct store_model *m)
{
	struct store_model_versions latest = STORE_MODEL_VERSIONS_INIT;
	struct store_pairs aliases = STORE_PAIRS_INIT;
	int64_t newest = 0;
	char *text;
	int rc;

	if ((rc = store_model_latest_versions(ctx->store, &latest, m->name, NULL, 0, &ctx->err)) ||
	    (rc = store_model_aliases(ctx->store, &aliases, m->name, &ctx->err)))
		goto out;
	for (size_t i = 0; i < latest.nr; i++)
		if (latest.items[i].version > newest)
			newest = latest.items[i].version;
	text = aliases_text(&aliases);
	*out = json_pack("{s:s, s:o, s:s, s:o, s:o}", "name", m->name, "latest_version",
			 newest ? json_integer(newest) : json_null(), "aliases_text", text,
			 "description", str_or_null(m->description), "updated",
			 time_json(m->last_updated_time));
	free(text);
out:
	store_model_versions_release(&latest);
	store_pairs_release(&aliases);
	return rc;
}

static json_t *pairs_object(const struct store_pairs *p)
{
	json_t *j = json_object();

	for (size_t i = 0; i < p->nr; i++)
		json_object_set_new(j, p->items[i].key, str_or_null(p->items[i].value));
	return j;
}

int models_version_json(struct ctx *ctx, json_t **out, const struct store_model_version *v)
{
	struct store_pairs aliases = STORE_PAIRS_INIT, tags = STORE_PAIRS_INIT;
	json_t *list, *metrics;
	int rc;

	if ((rc = store_model_version_aliases(ctx->store, &aliases, v->name, v->version,
					      &ctx->err)) ||
	    (rc = store_model_version_tags(ctx->store, &tags, v->name, v->version, &ctx->err)))
		goto out;
	list = json_array();
	for (size_t i = 0; i < aliases.nr; i++)
		json_array_append_new(list, json_string(aliases.items[i].key));
	metrics = v->metrics_json ? json_loads(v->metrics_json, 0, NULL) : NULL;
	*out = json_pack("{s:s, s:I, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "name",
			 v->name, "version", (json_int_t)v->version, "stage",
			 store_stage_name(v->stage), "aliases", list, "source",
			 str_or_null(v->source), "digest", str_or_null(v->source_digest), "run_id",
			 str_or_null(v->run_id), "created", time_json(v->creation_time), "user",
			 str_or_null(v->user), "description", str_or_null(v->description),
			 "metrics", metrics ? metrics : json_null(), "tags", pairs_object(&tags));
out:
	store_pairs_release(&aliases);
	store_pairs_release(&tags);
	return rc;
}

int models_version_json_ref(struct ctx *ctx, json_t **out, const struct model_ref *ref)
{
	struct store_model_version v = STORE_MODEL_VERSION_INIT;
	int rc = registry_resolve(ctx->store, &v, ref, &ctx->err);

	if (!rc)
		rc = models_version_json(ctx, out, &v);
	store_model_version_release(&v);
	return rc;
}

/* Every version of model name, newest first. */
static int models_versions_of(struct ctx *ctx, struct store_model_versions *out, const char *name)
{
	struct search_cond cond = { 0 };
	struct search_filter filter = SEARCH_FILTER_INIT;
	struct store_model_search q = { 0 };
	char *token = NULL;
	int rc;

	cond.entity = SEARCH_ATTRIBUTE;
	cond.attr = SEARCH_ATTR_MODEL_NAME;
	cond.key = (char *)"name";
	cond.op = SEARCH_OP_EQ;
	cond.type = SEARCH_VALUE_STRING;
	cond.str = (char *)name;
	filter.items = &cond;
	filter.nr = 1;
	q.filter = &filter;
	q.max_results = 200000;
	rc = store_model_version_search(ctx->store, out, &token, &q, &ctx->err);
	free(token);
	return rc;
}

int models_model_json(struct ctx *ctx, json_t **out, const char *name)
{
	struct store_model m = STORE_MODEL_INIT;
	struct store_pairs aliases = STORE_PAIRS_INIT, tags = STORE_PAIRS_INIT;
	struct store_model_versions versions = STORE_MODEL_VERSIONS_INIT;
	json_t *list = NULL, *amap;
	int rc;

	if ((rc = store_model_get(ctx->store, &m, name, &ctx->err)) ||
	    (rc = store_model_aliases(ctx->store, &aliases, name, &ctx->err)) ||
	    (rc = store_model_tags(ctx->store, &tags, name, &ctx->err)) ||
	    (rc = models_versions_of(ctx, &versions, name)))
		goto out;
	list = json_array();
	for (size_t i = 0; !rc && i < versions.nr; i++) {
		json_t *v = NULL;

		rc = models_version_json(ctx, &v, &versions.items[i]);
		if (!rc)
			json_array_append_new(list, v);
	}
	if (rc)
		goto out;
	amap = json_object();
	for (size_t i = 0; i < aliases.nr; i++)
		json_object_set_new(amap, aliases.items[i].key,
				    json_integer(strtoll(aliases.items[i].value, NULL, 10)));
	*out = json_pack("{s:s, s:o, s:o, s:o, s:o, s:o, s:O}", "name", m.name, "description",
			 str_or_null(m.description), "created", time_json(m.creation_time),
			 "updated", time_json(m.last_updated_time), "aliases", amap, "tags",
			 pairs_object(&tags), "versions", list);
out:
	json_decref(list);
	store_model_release(&m);
	store_pairs_release(&aliases);
	store_pairs_release(&tags);
	store_model_versions_release(&versions);
	return rc;
}

static void print_metrics(const json_t *metrics, const char *indent)
{
	const char *key;
	json_t *v;

	json_object_foreach((json_t *)metrics, key, v)
		printf("%s%s=%.6g\n", indent, key, json_number_value(v));
}

static void print_version(const json_t *v, const char *indent)
{
	const json_t *aliases = json_object_get(v, "aliases");
	size_t i;
	json_t *a;

	printf("%sversion %" JSON_INTEGER_FORMAT, indent,
	       json_integer_value(json_object_get(v, "version")));
	json_array_foreach(aliases, i, a)
		printf("%s@%s", i ? ", " : "  ", json_string_value(a));
	printf("\n%s  stage: %s\n", indent, json_string_value(json_object_get(v, "stage")));
	printf("%s  digest: %s\n", indent,
	       json_string_value(json_object_get(v, "digest"))
		   ? json_string_value(json_object_get(v, "digest"))
		   : "-");
	printf("%s  source: %s\n", indent, json_string_value(json_object_get(v, "source")));
	if (json_string_value(json_object_get(v, "created")))
		printf("%s  created: %s by %s\n", indent,
		       json_string_value(json_object_get(v, "created")),
		       json_string_value(json_object_get(v, "user"))
			   ? json_string_value(json_object_get(v, "user"))
			   : "?");
	if (json_string_value(json_object_get(v, "description")))
		printf("%s  description: %s\n", indent,
		       json_string_value(json_object_get(v, "description")));
	if (json_is_object(json_object_get(v, "metrics"))) {
		char *sub = xstrfmt("%s  metric.", indent);

		print_metrics(json_object_get(v, "metrics"), sub);
		free(sub);
	}
}

void models_print(const json_t *j)
{
	const json_t *versions = json_object_get(j, "versions");
	const char *key;
	size_t i;
	json_t *v;

	if (!versions) {
		printf("model %s\n", json_string_value(json_object_get(j, "name")));
		print_version(j, "");
		return;
	}
	printf("model %s\n", json_string_value(json_object_get(j, "name")));
	if (json_string_value(json_object_get(j, "description")))
		printf("  description: %s\n", json_string_value(json_object_get(j, "description")));
	json_object_foreach((json_t *)json_object_get(j, "aliases"), key, v)
		printf("  @%s -> version %" JSON_INTEGER_FORMAT "\n", key, json_integer_value(v));
	json_object_foreach((json_t *)json_object_get(j, "tags"), key, v)
		printf("  tag %s=%s\n", key, json_string_value(v) ? json_string_value(v) : "");
	json_array_foreach(versions, i, v)
		print_version(v, "  ");
}

json_t *models_events_json(const struct store_registry_events *events)
{
	json_t *arr = json_array();

	for (size_t i = 0; i < events->nr; i++) {
		const struct store_registry_event *e = &events->items[i];
		json_t *j;

		if (e->kind == STORE_EVENT_STAGE)
			j = json_pack("{s:s, s:I, s:s, s:s}", "kind", "stage", "version",
				      (json_int_t)e->version, "from_stage",
				      store_stage_name(e->from_stage), "to_stage",
				      store_stage_name(e->to_stage));
		else
			j = json_pack("{s:s, s:s, s:o, s:o, s:b}", "kind",
				      e->kind == STORE_EVENT_ALIAS_ROLLBACK ? "rollback" : "alias",
				      "alias", e->alias, "from_version",
				      e->from_version ? json_integer(e->from_version) : json_null(),
				      "to_version",
				      e->to_version ? json_integer(e->to_version) : json_null(),
				      "undone", e->undone);
		json_object_set_new(j, "time", time_json(e->time));
		json_object_set_new(j, "user", str_or_null(e->user));
		json_object_set_new(j, "reason", str_or_null(e->reason));
		json_array_append_new(arr, j);
	}
	return arr;
}

static void print_version_or_none(const json_t *v)
{
	if (json_is_integer(v))
		printf("v%" JSON_INTEGER_FORMAT, json_integer_value(v));
	else
		printf("(none)");
}

void models_print_event(const json_t *e)
{
	const char *kind = json_string_value(json_object_get(e, "kind"));
	const char *reason = json_string_value(json_object_get(e, "reason"));

	printf("%s  %-8s  ", json_string_value(json_object_get(e, "time")),
	       json_string_value(json_object_get(e, "user"))
		   ? json_string_value(json_object_get(e, "user"))
		   : "?");
	if (!strcmp(kind, "stage")) {
		printf("stage     v%" JSON_INTEGER_FORMAT ": %s -> %s",
		       json_integer_value(json_object_get(e, "version")),
		       json_string_value(json_object_get(e, "from_stage")),
		       json_string_value(json_object_get(e, "to_stage")));
	} else {
		printf("%-8s  @%s: ", kind, json_string_value(json_object_get(e, "alias")));
		print_version_or_none(json_object_get(e, "from_version"));
		printf(" -> ");
		print_version_or_none(json_object_get(e, "to_version"));
		if (json_is_true(json_object_get(e, "undone")))
			printf(" (rolled back)");
	}
	if (reason) {
		/* ferry retrain appends its evidence as JSON: too long for a terminal line */
		const char *evidence = strstr(reason, " evidence={");

		if (evidence)
			printf("  \"%.*s\" (evidence: --json)", (int)(evidence - reason), reason);
		else
			printf("  \"%s\"", reason);
	}
	printf("\n");
}

void models_print_lineage(const json_t *j)
{
	const json_t *v = json_object_get(j, "version");
	const json_t *run = json_object_get(j, "run");
	const json_t *datasets = json_object_get(j, "datasets");
	const char *key;
	size_t i, k;
	json_t *x, *h;

	printf("model %s version %" JSON_INTEGER_FORMAT "\n",
	       json_string_value(json_object_get(v, "name")),
	       json_integer_value(json_object_get(v, "version")));
	printf("  digest: %s\n", json_string_value(json_object_get(v, "digest"))
				     ? json_string_value(json_object_get(v, "digest"))
				     : "-");
	printf("  source: %s\n", json_string_value(json_object_get(v, "source")));
	if (json_is_object(json_object_get(v, "metrics")))
		print_metrics(json_object_get(v, "metrics"), "  metric.");
	if (!json_is_object(run)) {
		printf("run: (deleted)\n");
	} else {
		printf("run %s (%s, %s)\n", json_string_value(json_object_get(run, "id")),
		       json_string_value(json_object_get(run, "name"))
			   ? json_string_value(json_object_get(run, "name"))
			   : "-",
		       json_string_value(json_object_get(run, "status")));
		if (json_string_value(json_object_get(run, "command")))
			printf("  command: %s\n",
			       json_string_value(json_object_get(run, "command")));
		if (json_string_value(json_object_get(run, "git_commit")))
			printf("  git commit: %s%s\n",
			       json_string_value(json_object_get(run, "git_commit")),
			       json_is_true(json_object_get(run, "git_dirty"))
				   ? " (with uncommitted changes)"
				   : "");
		json_object_foreach((json_t *)json_object_get(run, "params"), key, x)
			printf("  param.%s=%s\n", key, json_string_value(x));
		json_object_foreach((json_t *)json_object_get(run, "environment"), key, x)
			printf("  env.%s=%s\n", key, json_string_value(x));
	}
	if (!json_array_size(datasets))
		printf("data: (none recorded)\n");
	json_array_foreach(datasets, i, x) {
		printf("data %s\n", json_string_value(json_object_get(x, "path")));
		printf("  digest: %s\n", json_string_value(json_object_get(x, "digest")));
		if (json_string_value(json_object_get(x, "context")))
			printf("  used for: %s\n",
			       json_string_value(json_object_get(x, "context")));
		json_array_foreach(json_object_get(x, "history"), k, h) {
			printf("  %s %.12s %s  %s\n",
			       json_is_true(json_object_get(h, "matches")) ? "*" : " ",
			       json_string_value(json_object_get(h, "commit")),
			       json_string_value(json_object_get(h, "date")),
			       json_string_value(json_object_get(h, "subject")));
		}
		if (json_array_size(json_object_get(x, "history")))
			printf("  (* the commits whose pointer file has this digest)\n");
	}
}
