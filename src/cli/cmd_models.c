/*
 * `ferry models`: the model registry. Register trained models as versions, name versions with
 * aliases, promote through a gate, roll back, and trace a version back to its data.
 */
#include "util/common.h"
#include "cli/artifact_common.h"
#include "cli/cli.h"
#include "cli/models_common.h"
#include "cli/options.h"
#include "cli/output.h"
#include "data/cas.h"
#include "project/project.h"
#include "registry/registry.h"
#include "cli/track_common.h"
#include "track/tracking.h"
#include "util/id.h"
#include "util/parse.h"

static const char *const register_usage[] = {
	"ferry models register NAME (--run RUN | --artifact DIR) [options]",
	"",
	"Registers a trained model as the next version of NAME (created when missing): the model",
	"a run logged (ferry train records one in a project), or a model directory, whose files",
	"are then stored in a run of their own. The version keeps the artifact digest, the",
	"evaluation metrics, the signature and the training data of the model.",
	NULL,
};

static const char *const list_usage[] = {
	"ferry models list",
	"",
	"Registered models with their latest version and aliases.",
	NULL,
};

static const char *const show_usage[] = {
	"ferry models show NAME[/VERSION | @ALIAS | /STAGE]",
	"",
	"A registered model (its versions and aliases), or one version in detail.",
	NULL,
};

static const char *const alias_usage[] = {
	"ferry models alias NAME ALIAS VERSION [--reason TEXT]",
	"ferry models alias NAME ALIAS --delete",
	"",
	"Points ALIAS at VERSION (a plain move, no evaluation; see 'ferry models promote'), or",
	"removes it. Every move is recorded in the history.",
	NULL,
};

static const char *const rollback_usage[] = {
	"ferry models rollback NAME [--alias ALIAS] [--reason TEXT]",
	"",
	"Moves ALIAS (default: production) back to the version it pointed to before its latest",
	"move, atomically; rolling back again goes one more step back.",
	NULL,
};

static const char *const history_usage[] = {
	"ferry models history NAME",
	"",
	"The audit trail of a model: every alias move, rollback and stage transition, oldest",
	"first, with who, when and why.",
	NULL,
};

static const char *const lineage_usage[] = {
	"ferry models lineage NAME[/VERSION | @ALIAS]",
	"",
	"Where a version comes from: its run (params, metrics, git commit, command, environment)",
	"and the data it was trained on (path, digest, and the commits of its pointer file).",
	NULL,
};

static const char *const stage_usage[] = {
	"ferry models stage NAME VERSION STAGE [--archive-existing]",
	"",
	"Moves VERSION to an MLflow stage (None, Staging, Production, Archived), for tools that",
	"still use stages; --archive-existing archives the other versions in that stage.",
	NULL,
};

static const char *const delete_usage[] = {
	"ferry models delete NAME[/VERSION]",
	"",
	"Deletes one version (refused while an alias points to it), or the whole model with its",
	"versions, aliases and history.",
	NULL,
};

static const char *const path_usage[] = {
	"ferry models path MODEL",
	"",
	"Prints the directory holding the files of a registered version (models:/NAME/3,",
	"NAME@ALIAS, ...), checked out from the object cache and verified.",
	NULL,
};

static int parse_version(int64_t *out, const char *s, struct error *err)
{
	if (parse_int64(s, out) || *out < 1)
		return error_set(err, ERR_USAGE, "'%s' is not a version number (1, 2, ...)", s);
	return 0;
}

static int parse_tags(struct store_kv **out, const struct option_list *list, struct error *err)
{
	struct store_kv *kv = xcalloc(list->nr ? list->nr : 1, sizeof(*kv));

	for (size_t i = 0; i < list->nr; i++) {
		const char *eq = strchr(list->v[i], '=');

		if (!eq || eq == list->v[i]) {
			free(kv);
			return error_set(err, ERR_USAGE, "--tag expects KEY=VALUE, got '%s'",
					 list->v[i]);
		}
		kv[i].key = xstrndup(list->v[i], (size_t)(eq - list->v[i]));
		kv[i].value = eq + 1;
	}
	*out = kv;
	return 0;
}

static void free_tags(struct store_kv *kv, size_t nr)
{
	for (size_t i = 0; kv && i < nr; i++)
		free((char *)kv[i].key);
	free(kv);
}

static int models_register(int argc, const char **argv, struct ctx *ctx)
{
	const char *run = NULL, *dir = NULL, *description = NULL;
	struct option_list tags = OPTION_LIST_INIT;
	struct option opts[] = {
		OPT_STRING(0, "run", &run, "RUN", "the run whose model to register (id or name)"),
		OPT_STRING(0, "artifact", &dir, "DIR", "a model directory to register"),
		OPT_STRING(0, "description", &description, "TEXT", "the version's description"),
		OPT_LIST(0, "tag", &tags, "KEY=VALUE", "a tag of the version (repeatable)"),
		OPT_END(),
	};
	struct registry_register_options o = { 0 };
	struct store_kv *kv = NULL;
	char run_id[ID_HEX_LEN + 1] = "";
	struct cas *cas = NULL;
	int64_t version = 0;
	int nargs, rc;

	rc = parse_options(&nargs, argc, argv, opts, register_usage, ctx);
	if (rc)
		goto out;
	if (nargs != 1 || !run == !dir) {
		rc = error_set(&ctx->err, ERR_USAGE,
			       "'ferry models register' takes NAME and one of --run RUN or "
			       "--artifact DIR");
		goto out;
	}
	if ((rc = parse_tags(&kv, &tags, &ctx->err)) || (rc = cli_artifact_cas(&cas, ctx)))
		goto out;
	o.name = argv[0];
	o.description = description;
	o.user = track_user_name();
	o.tags = kv;
	o.nr_tags = tags.nr;
	if (run) {
		struct store_run r = STORE_RUN_INIT;

		rc = cli_resolve_run(ctx, ctx->store, &r, run);
		memcpy(run_id, r.id, sizeof(run_id));
		store_run_release(&r);
		if (rc)
			goto out;
		o.run_id = run_id;
		rc = registry_register_run(ctx->store, cas, &version, &o, &ctx->err);
	} else {
		rc = registry_register_dir(ctx->store, cas, &version, run_id, dir, &o, &ctx->err);
	}
	if (rc)
		goto out;
	if (ctx->json) {
		json_t *j = json_pack("{s:s, s:I, s:s}", "name", argv[0], "version",
				      (json_int_t)version, "run_id", run_id);

		json_object_set_new(j, "uri",
				    json_sprintf("models:/%s/%" PRId64, argv[0], version));
		output_json(j);
		json_decref(j);
	} else {
		printf("model=%s\nversion=%" PRId64 "\nrun_id=%s\nuri=models:/%s/%" PRId64 "\n",
		       argv[0], version, run_id, argv[0], version);
	}
out:
	cas_free(cas);
	free_tags(kv, tags.nr);
	free(tags.v);
	return rc;
}

static int models_list(int argc, const char **argv, struct ctx *ctx)
{
	struct option opts[] = { OPT_END() };
	struct store_models models = STORE_MODELS_INIT;
	struct store_model_search q = { 0 };
	json_t *arr = json_array();
	char *token = NULL;
	int nargs, rc = parse_options(&nargs, argc, argv, opts, list_usage, ctx);

	if (!rc && nargs)
		rc = error_set(&ctx->err, ERR_USAGE, "unexpected argument '%s'", argv[0]);
	q.max_results = 1000;
	while (!rc) {
		free(token);
		token = NULL;
		store_models_release(&models);
		if ((rc = store_model_search(ctx->store, &models, &token, &q, &ctx->err)))
			break;
		for (size_t i = 0; !rc && i < models.nr; i++) {
			json_t *m = NULL;

			rc = models_summary_json(ctx, &m, &models.items[i]);
			if (!rc)
				json_array_append_new(arr, m);
		}
		if (!token)
			break;
		q.offset += (int64_t)models.nr;
	}
	if (!rc && ctx->json) {
		output_json(arr);
	} else if (!rc) {
		size_t i;
		json_t *m;

		if (!json_array_size(arr) && !ctx->quiet)
			printf("no registered models (ferry models register NAME --run RUN)\n");
		else
			printf("%-24s %-8s %s\n", "NAME", "LATEST", "ALIASES");
		json_array_foreach(arr, i, m) {
			printf("%-24s %-8" JSON_INTEGER_FORMAT " %s\n",
			       json_string_value(json_object_get(m, "name")),
			       json_integer_value(json_object_get(m, "latest_version")),
			       json_string_value(json_object_get(m, "aliases_text")));
		}
	}
	free(token);
	store_models_release(&models);
	json_decref(arr);
	return rc;
}

static int models_show(int argc, const char **argv, struct ctx *ctx)
{
	struct option opts[] = { OPT_END() };
	struct model_ref ref = MODEL_REF_INIT;
	json_t *j = NULL;
	int nargs, rc = parse_options(&nargs, argc, argv, opts, show_usage, ctx);

	if (!rc && nargs != 1)
		rc = error_set(&ctx->err, ERR_USAGE, "'ferry models show' takes one model");
	if (!rc)
		rc = model_ref_parse_short(&ref, argv[0], true, &ctx->err);
	if (rc)
		goto out;
	if (ref.kind == MODEL_REF_NAME_ONLY)
		rc = models_model_json(ctx, &j, ref.name);
	else
		rc = models_version_json_ref(ctx, &j, &ref);
	if (rc)
		goto out;
	if (ctx->json)
		output_json(j);
	else
		models_print(j);
out:
	json_decref(j);
	model_ref_release(&ref);
	return rc;
}

static void print_move(const char *name, const char *alias, int64_t from, int64_t to)
{
	if (from)
		printf("%s@%s: version %" PRId64 " -> %" PRId64 "\n", name, alias, from, to);
	else
		printf("%s@%s: version %" PRId64 "\n", name, alias, to);
}

static int models_alias(int argc, const char **argv, struct ctx *ctx)
{
	const char *reason = NULL;
	int del = 0;
	struct option opts[] = {
		OPT_STRING(0, "reason", &reason, "TEXT", "why, for the history"),
		OPT_BOOL(0, "delete", &del, "remove the alias"),
		OPT_END(),
	};
	struct store_alias_move m = { 0 };
	int64_t from = 0;
	int nargs, rc = parse_options(&nargs, argc, argv, opts, alias_usage, ctx);

	if (rc)
		return rc;
	if (nargs != (del ? 2 : 3))
		return error_set(&ctx->err, ERR_USAGE,
				 del ? "'ferry models alias --delete' takes NAME ALIAS"
				     : "'ferry models alias' takes NAME ALIAS VERSION");
	m.name = argv[0];
	m.alias = argv[1];
	m.expect = STORE_ALIAS_ANY;
	m.user = track_user_name();
	m.reason = reason;
	if (!del && (rc = parse_version(&m.version, argv[2], &ctx->err)))
		return rc;
	if ((rc = store_alias_set(ctx->store, &from, &m, &ctx->err)))
		return rc;
	if (ctx->json) {
		json_t *j = json_pack("{s:s, s:s, s:o, s:o}", "name", m.name, "alias", m.alias,
				      "from", from ? json_integer(from) : json_null(), "to",
				      m.version ? json_integer(m.version) : json_null());

		output_json(j);
		json_decref(j);
	} else if (del) {
		printf("%s@%s: removed (was version %" PRId64 ")\n", m.name, m.alias, from);
	} else {
		print_move(m.name, m.alias, from, m.version);
	}
	return 0;
}

static int models_rollback(int argc, const char **argv, struct ctx *ctx)
{
	const char *alias = "production", *reason = NULL;
	struct option opts[] = {
		OPT_STRING(0, "alias", &alias, "ALIAS", "the alias to move back (production)"),
		OPT_STRING(0, "reason", &reason, "TEXT", "why, for the history"),
		OPT_END(),
	};
	int64_t from = 0, to = 0;
	int nargs, rc = parse_options(&nargs, argc, argv, opts, rollback_usage, ctx);

	if (rc)
		return rc;
	if (nargs != 1)
		return error_set(&ctx->err, ERR_USAGE, "'ferry models rollback' takes NAME");
	rc = store_alias_rollback(ctx->store, &from, &to, argv[0], alias, track_user_name(), reason,
				  &ctx->err);
	if (rc)
		return rc;
	if (ctx->json) {
		json_t *j = json_pack("{s:s, s:s, s:I, s:I}", "name", argv[0], "alias", alias,
				      "from", (json_int_t)from, "to", (json_int_t)to);

		output_json(j);
		json_decref(j);
	} else {
		printf("rolled back ");
		print_move(argv[0], alias, from, to);
	}
	return 0;
}

static int models_history(int argc, const char **argv, struct ctx *ctx)
{
	struct option opts[] = { OPT_END() };
	struct store_registry_events events = STORE_REGISTRY_EVENTS_INIT;
	json_t *arr = NULL;
	size_t i;
	json_t *e;
	int nargs, rc = parse_options(&nargs, argc, argv, opts, history_usage, ctx);

	if (!rc && nargs != 1)
		rc = error_set(&ctx->err, ERR_USAGE, "'ferry models history' takes NAME");
	if (!rc)
		rc = store_model_history(ctx->store, &events, argv[0], &ctx->err);
	if (rc)
		goto out;
	arr = models_events_json(&events);
	if (ctx->json) {
		output_json(arr);
		goto out;
	}
	if (!json_array_size(arr) && !ctx->quiet)
		printf("no alias moves or stage transitions for model '%s'\n", argv[0]);
	json_array_foreach(arr, i, e)
		models_print_event(e);
out:
	json_decref(arr);
	store_registry_events_release(&events);
	return rc;
}

static int models_lineage(int argc, const char **argv, struct ctx *ctx)
{
	struct option opts[] = { OPT_END() };
	struct store_model_version v = STORE_MODEL_VERSION_INIT;
	json_t *j = NULL;
	int nargs, rc = parse_options(&nargs, argc, argv, opts, lineage_usage, ctx);

	if (!rc && nargs != 1)
		rc = error_set(&ctx->err, ERR_USAGE, "'ferry models lineage' takes one model");
	if (!rc)
		rc = models_resolve_arg(ctx, &v, argv[0]);
	if (!rc)
		rc = registry_lineage(ctx->store, ctx->project->root, &v, &j, &ctx->err);
	if (rc)
		goto out;
	if (ctx->json)
		output_json(j);
	else
		models_print_lineage(j);
out:
	json_decref(j);
	store_model_version_release(&v);
	return rc;
}

static int models_stage(int argc, const char **argv, struct ctx *ctx)
{
	const char *reason = NULL;
	int archive = 0;
	struct option opts[] = {
		OPT_BOOL(0, "archive-existing", &archive,
			 "archive the other versions in that stage (Staging, Production)"),
		OPT_STRING(0, "reason", &reason, "TEXT", "why, for the history"),
		OPT_END(),
	};
	struct store_model_version v = STORE_MODEL_VERSION_INIT;
	enum store_stage stage;
	int64_t version;
	int nargs, rc = parse_options(&nargs, argc, argv, opts, stage_usage, ctx);

	if (rc)
		return rc;
	if (nargs != 3)
		return error_set(&ctx->err, ERR_USAGE,
				 "'ferry models stage' takes NAME VERSION STAGE");
	if ((rc = parse_version(&version, argv[1], &ctx->err)) ||
	    (rc = store_stage_parse(&stage, argv[2], &ctx->err)))
		return rc;
	rc = store_model_version_transition(ctx->store, &v, argv[0], version, stage, archive,
					    track_user_name(), reason, &ctx->err);
	if (rc)
		return rc;
	if (ctx->json) {
		json_t *j = json_pack("{s:s, s:I, s:s}", "name", v.name, "version",
				      (json_int_t)v.version, "stage", store_stage_name(v.stage));

		output_json(j);
		json_decref(j);
	} else {
		printf("%s/%" PRId64 ": stage %s\n", v.name, v.version, store_stage_name(v.stage));
	}
	store_model_version_release(&v);
	return 0;
}

static int models_delete(int argc, const char **argv, struct ctx *ctx)
{
	struct option opts[] = { OPT_END() };
	struct model_ref ref = MODEL_REF_INIT;
	int nargs, rc = parse_options(&nargs, argc, argv, opts, delete_usage, ctx);

	if (!rc && nargs != 1)
		rc = error_set(&ctx->err, ERR_USAGE, "'ferry models delete' takes NAME[/VERSION]");
	if (!rc)
		rc = model_ref_parse_short(&ref, argv[0], true, &ctx->err);
	if (!rc && ref.kind != MODEL_REF_NAME_ONLY && ref.kind != MODEL_REF_VERSION)
		rc = error_set(&ctx->err, ERR_USAGE,
			       "'ferry models delete' takes NAME or NAME/VERSION, not '%s'",
			       argv[0]);
	if (rc)
		goto out;
	if (ref.kind == MODEL_REF_VERSION)
		rc = store_model_version_delete(ctx->store, ref.name, ref.version, &ctx->err);
	else
		rc = store_model_delete(ctx->store, ref.name, &ctx->err);
	if (!rc && !ctx->quiet && !ctx->json) {
		if (ref.kind == MODEL_REF_VERSION)
			printf("deleted %s/%" PRId64 "\n", ref.name, ref.version);
		else
			printf("deleted model %s\n", ref.name);
	}
out:
	model_ref_release(&ref);
	return rc;
}

static int models_path(int argc, const char **argv, struct ctx *ctx)
{
	struct option opts[] = { OPT_END() };
	struct strbuf dir = STRBUF_INIT;
	int nargs, rc = parse_options(&nargs, argc, argv, opts, path_usage, ctx);

	if (!rc && nargs != 1)
		rc = error_set(&ctx->err, ERR_USAGE, "'ferry models path' takes one model");
	if (!rc)
		rc = cli_model_dir(ctx, &dir, argv[0], NULL);
	if (!rc)
		printf("%s\n", dir.buf);
	strbuf_release(&dir);
	return rc;
}

static const struct subcommand models_subcommands[] = {
	{ "register", models_register, NEED_STORE, "register a trained model as a new version" },
	{ "list", models_list, NEED_STORE, "registered models" },
	{ "show", models_show, NEED_STORE, "a model, or one version in detail" },
	{ "alias", models_alias, NEED_STORE, "point an alias at a version (or remove it)" },
	{ "promote", models_promote, NEED_STORE,
	  "move an alias to a version if it passes a gate against the current holder" },
	{ "rollback", models_rollback, NEED_STORE, "move an alias back to its previous version" },
	{ "history", models_history, NEED_STORE, "alias moves and stage transitions" },
	{ "lineage", models_lineage, NEED_STORE, "a version's run, params, code and data" },
	{ "reproduce", models_reproduce, NEED_STORE,
	  "retrain a version from its recorded data and params and compare" },
	{ "stage", models_stage, NEED_STORE, "move a version to an MLflow stage" },
	{ "delete", models_delete, NEED_STORE, "delete a version or a model" },
	{ "path", models_path, NEED_STORE, "the local directory of a registered version" },
	{ NULL, NULL, 0, NULL },
};

int cmd_models(int argc, const char **argv, struct ctx *ctx)
{
	return subcommand_dispatch(argc, argv, models_subcommands, "models", ctx);
}
