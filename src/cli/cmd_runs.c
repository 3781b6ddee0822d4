/* `ferry runs list|search|show|compare|artifacts|get` and `ferry log`: reading and writing recorded runs. */
#include "util/common.h"
#include "cli/artifact_common.h"
#include "cli/cli.h"
#include "cli/track_common.h"
#include "cli/options.h"
#include "cli/output.h"
#include "store/search.h"
#include "store/store.h"
#include "data/cas.h"
#include "track/artifacts.h"
#include "track/filter.h"
#include "util/fs.h"
#include "util/id.h"
#include "util/parse.h"

#include <math.h>

static const char *const list_usage[] = {
	"ferry runs list [--experiment NAME] [--all] [--limit N]",
	"",
	"Lists runs, newest first: id, name, status, start time and their metrics.",
	NULL,
};

static const char *const search_usage[] = {
	"ferry runs search [FILTER] [--experiment NAME] [--order-by KEY]... [--limit N] [--all]",
	"",
	"Runs matching an MLflow filter, e.g. \"metrics.f1 > 0.8 and params.model = 'xgboost'",
	"and tags.`team` LIKE 'ml%'\"; --order-by \"metrics.f1 DESC\" (repeatable).",
	NULL,
};

static const char *const show_usage[] = {
	"ferry runs show RUN",
	"",
	"Everything recorded about one run (RUN: its id or a unique id prefix, or its name).",
	NULL,
};

static const char *const compare_usage[] = {
	"ferry runs compare RUN RUN...",
	"",
	"Puts the runs' params and metrics side by side; rows where they differ are marked '*'.",
	NULL,
};

static const char *const log_usage[] = {
	"ferry log metric KEY VALUE [--step N] | param KEY VALUE | tag KEY VALUE [--run RUN]",
	"",
	"Logs into the run in $FERRY_RUN_ID (set by 'ferry run'), or --run.",
	NULL,
};

/* Finds a run by id, unique id prefix (at least 6 hex digits) or name. */
static json_t *pairs_json(const struct store_pairs *p)
{
	json_t *j = json_object();

	for (size_t i = 0; i < p->nr; i++)
		json_object_set_new(j, p->items[i].key,
				    p->items[i].value ? json_string(p->items[i].value)
						      : json_null());
	return j;
}

static json_t *metrics_json(const struct store_metric_points *m)
{
	json_t *j = json_object();

	for (size_t i = 0; i < m->nr; i++)
		json_object_set_new(j, m->items[i].key, json_real(m->items[i].value));
	return j;
}

/* The run as one JSON object: info, params, metrics (latest), tags, inputs. */
static int run_json(struct ctx *ctx, const struct store_run *r, json_t **out)
{
	struct store_pairs params = { 0 }, tags = { 0 };
	struct store_metric_points metrics = STORE_METRIC_POINTS_INIT;
	struct store_datasets inputs = STORE_DATASETS_INIT;
	char start[40] = "", end[40] = "";
	json_t *in;
	int rc;

	if ((rc = store_run_params(ctx->tracking, &params, r->id, &ctx->err)) ||
	    (rc = store_run_tags(ctx->tracking, &tags, r->id, &ctx->err)) ||
	    (rc = store_run_latest_metrics(ctx->tracking, &metrics, r->id, &ctx->err)) ||
	    (rc = store_run_inputs(ctx->tracking, &inputs, r->id, &ctx->err)))
		goto out;
	time_format_iso8601(r->start_time, start, sizeof(start));
	if (r->end_time)
		time_format_iso8601(r->end_time, end, sizeof(end));
	in = json_array();
	for (size_t i = 0; i < inputs.nr; i++)
		json_array_append_new(
		    in, json_pack("{s:s?, s:s, s:s?}", "name", inputs.items[i].name, "digest",
				  inputs.items[i].digest, "context", inputs.items[i].context));
	*out = json_pack("{s:s, s:s?, s:s, s:s, s:s, s:s?, s:s?, s:s?, s:b, s:s?, s:o, s:o, s:o, "
			 "s:o}",
			 "run_id", r->id, "name", r->name, "experiment_id", r->experiment_id,
			 "status", store_run_status_name(r->status), "start_time", start,
			 "end_time", end[0] ? end : NULL, "user", r->user, "git_commit",
			 r->source_git_commit, "git_dirty", r->source_dirty, "command", r->command,
			 "params", pairs_json(&params), "metrics", metrics_json(&metrics), "tags",
			 pairs_json(&tags), "inputs", in);
out:
	store_pairs_release(&params);
	store_pairs_release(&tags);
	store_metric_points_release(&metrics);
	store_datasets_release(&inputs);
	return rc;
}

static void print_runs_table(const json_t *list)
{
	printf("%-8s  %-24s  %-8s  %-20s  %s\n", "RUN", "NAME", "STATUS", "STARTED", "METRICS");
	for (size_t i = 0; i < json_array_size(list); i++) {
		const json_t *r = json_array_get(list, i);
		const char *key, *name = json_string_value(json_object_get(r, "name"));
		json_t *v;
		int n = 0;

		printf("%.8s  %-24.24s  %-8s  %-20.19s  ",
		       json_string_value(json_object_get(r, "run_id")), name ? name : "-",
		       json_string_value(json_object_get(r, "status")),
		       json_string_value(json_object_get(r, "start_time")));
		json_object_foreach(json_object_get(r, "metrics"), key, v) {
			if (strstr(key, "_sd") || n++ >= 4)
				continue;
			printf("%s%s=%.4g", n > 1 ? " " : "", key, json_number_value(v));
		}
		putchar('\n');
	}
}

static int runs_list(int argc, const char **argv, struct ctx *ctx)
{
	const char *experiment = NULL;
	int all = 0;
	int64_t limit = 50;
	struct option opts[] = {
		OPT_STRING(0, "experiment", &experiment, "NAME", "only this experiment's runs"),
		OPT_BOOL(0, "all", &all, "deleted runs too"),
		OPT_INT(0, "limit", &limit, "N", "at most N runs (default 50; 0: all)"),
		OPT_END(),
	};
	struct store_experiment exp = STORE_EXPERIMENT_INIT;
	struct store_runs runs = STORE_RUNS_INIT;
	json_t *list = json_array();
	int nargs, rc = parse_options(&nargs, argc, argv, opts, list_usage, ctx);

	if (rc)
		goto out;
	if (nargs) {
		rc = error_set(&ctx->err, ERR_USAGE, "unexpected argument '%s'", argv[0]);
		goto out;
	}
	if (experiment &&
	    (rc = store_experiment_get_by_name(ctx->tracking, &exp, experiment, &ctx->err)))
		goto out;
	rc = store_run_list(ctx->tracking, &runs, experiment ? exp.id : NULL,
			    all ? STORE_VIEW_ALL : STORE_VIEW_ACTIVE, &ctx->err);
	for (size_t i = 0; !rc && i < runs.nr && (!limit || i < (size_t)limit); i++) {
		json_t *j;

		rc = run_json(ctx, &runs.items[i], &j);
		if (!rc)
			json_array_append_new(list, j);
	}
	if (rc)
		goto out;
	if (ctx->json) {
		output_json(list);
		goto out;
	}
	print_runs_table(list);
out:
	json_decref(list);
	store_experiment_release(&exp);
	store_runs_release(&runs);
	return rc;
}

static int runs_search(int argc, const char **argv, struct ctx *ctx)
{
	const char *experiment = NULL;
	struct option_list order = OPTION_LIST_INIT;
	int all = 0;
	int64_t limit = 100;
	struct option opts[] = {
		OPT_STRING(0, "experiment", &experiment, "NAME", "only this experiment's runs"),
		OPT_LIST(0, "order-by", &order, "KEY", "e.g. 'metrics.f1 DESC' (repeatable)"),
		OPT_INT(0, "limit", &limit, "N", "at most N runs (default 100)"),
		OPT_BOOL(0, "all", &all, "deleted runs too"),
		OPT_END(),
	};
	struct search_filter filter = SEARCH_FILTER_INIT;
	struct search_orders orders = SEARCH_ORDERS_INIT;
	struct store_run_search q = { 0 };
	struct store_experiment exp = STORE_EXPERIMENT_INIT;
	struct store_runs runs = STORE_RUNS_INIT;
	const char *ids[1];
	char *token = NULL;
	json_t *list = json_array();
	int nargs, rc = parse_options(&nargs, argc, argv, opts, search_usage, ctx);

	if (rc)
		goto out;
	if (nargs > 1) {
		rc = error_set(&ctx->err, ERR_USAGE, "give the filter as one argument (quote it)");
		goto out;
	}
	if ((nargs && (rc = filter_parse_runs(&filter, argv[0], &ctx->err))) ||
	    (rc = filter_parse_run_order(&orders, order.v, order.nr, &ctx->err)))
		goto out;
	if (experiment) {
		rc = store_experiment_get_by_name(ctx->tracking, &exp, experiment, &ctx->err);
		if (rc)
			goto out;
		ids[0] = exp.id;
		q.experiment_ids = ids;
		q.nr_experiment_ids = 1;
	}
	q.view = all ? STORE_VIEW_ALL : STORE_VIEW_ACTIVE;
	q.filter = nargs ? &filter : NULL;
	q.order = order.nr ? &orders : NULL;
	q.max_results = limit;
	q.filter_text = nargs ? argv[0] : NULL;
	q.order_by_text = order.v;
	q.nr_order_by_text = order.nr;
	rc = store_run_search(ctx->tracking, &runs, &token, &q, &ctx->err);
	for (size_t i = 0; !rc && i < runs.nr; i++) {
		json_t *j;

		rc = run_json(ctx, &runs.items[i], &j);
		if (!rc)
			json_array_append_new(list, j);
	}
	if (rc)
		goto out;
	if (ctx->json)
		output_json(list);
	else
		print_runs_table(list);
out:
	json_decref(list);
	free(token);
	free(order.v);
	search_filter_release(&filter);
	search_orders_release(&orders);
	store_experiment_release(&exp);
	store_runs_release(&runs);
	return rc;
}

static void print_section(const char *title, const json_t *obj)
{
	if (!json_object_size(obj))
		return;
	printf("\n%s:\n", title);
	output_fields(obj);
}

static int runs_show(int argc, const char **argv, struct ctx *ctx)
{
	struct store_run r = STORE_RUN_INIT;
	json_t *j = NULL, *head;
	int nargs, rc = parse_options(&nargs, argc, argv, NULL, show_usage, ctx);

	if (rc)
		return rc;
	if (nargs != 1)
		return error_set(&ctx->err, ERR_USAGE, "'ferry runs show' takes one RUN");
	rc = cli_resolve_run(ctx, ctx->tracking, &r, argv[0]);
	if (!rc)
		rc = run_json(ctx, &r, &j);
	if (rc)
		goto out;
	if (ctx->json) {
		output_json(j);
		goto out;
	}
	head = json_deep_copy(j);
	json_object_del(head, "params");
	json_object_del(head, "metrics");
	json_object_del(head, "tags");
	json_object_del(head, "inputs");
	output_fields(head);
	json_decref(head);
	print_section("params", json_object_get(j, "params"));
	print_section("metrics", json_object_get(j, "metrics"));
	print_section("tags", json_object_get(j, "tags"));
	if (json_array_size(json_object_get(j, "inputs"))) {
		printf("\ninputs:\n");
		for (size_t i = 0; i < json_array_size(json_object_get(j, "inputs")); i++) {
			const json_t *in = json_array_get(json_object_get(j, "inputs"), i);

			printf("%s  %s  (%s)\n", json_string_value(json_object_get(in, "digest")),
			       json_string_value(json_object_get(in, "name")),
			       json_string_value(json_object_get(in, "context"))
				   ? json_string_value(json_object_get(in, "context"))
				   : "-");
		}
	}
out:
	json_decref(j);
	store_run_release(&r);
	return rc;
}

/* Every key of field (params or metrics) over the runs, in first-seen order. */
static json_t *union_keys(json_t *const *runs, size_t n, const char *field)
{
	json_t *keys = json_object();

	for (size_t i = 0; i < n; i++) {
		const char *key;
		json_t *v;

		json_object_foreach(json_object_get(runs[i], field), key, v)
			json_object_set_new(keys, key, json_true());
	}
	return keys;
}

static void value_text(char *buf, size_t size, const json_t *v)
{
	if (!v)
		snprintf(buf, size, "-");
	else if (json_is_string(v))
		snprintf(buf, size, "%s", json_string_value(v));
	else
		snprintf(buf, size, "%.6g", json_number_value(v));
}

static void compare_rows(json_t *const *runs, size_t n, const char *field, json_t *out)
{
	json_t *keys = union_keys(runs, n, field);
	const char *key;
	json_t *v;

	json_object_foreach(keys, key, v) {
		json_t *values = json_array();
		int differ = 0;
		char first[64], text[64];

		for (size_t i = 0; i < n; i++) {
			const json_t *x = json_object_get(json_object_get(runs[i], field), key);

			json_array_append_new(values, x ? json_deep_copy(x) : json_null());
			value_text(text, sizeof(text), x);
			if (!i)
				memcpy(first, text, sizeof(first));
			else if (strcmp(first, text))
				differ = 1;
		}
		json_array_append_new(out, json_pack("{s:s, s:s, s:o, s:b}", "kind", field, "key",
						     key, "values", values, "differ", differ));
	}
	json_decref(keys);
}

static int runs_compare(int argc, const char **argv, struct ctx *ctx)
{
	json_t **runs = NULL, *rows = json_array();
	int nargs, rc = parse_options(&nargs, argc, argv, NULL, compare_usage, ctx);
	size_t n = 0;

	if (rc)
		goto out;
	if (nargs < 2) {
		rc = error_set(&ctx->err, ERR_USAGE, "'ferry runs compare' needs two or more runs");
		goto out;
	}
	runs = xcalloc((size_t)nargs, sizeof(*runs));
	for (; n < (size_t)nargs; n++) {
		struct store_run r = STORE_RUN_INIT;

		rc = cli_resolve_run(ctx, ctx->tracking, &r, argv[n]);
		if (!rc)
			rc = run_json(ctx, &r, &runs[n]);
		store_run_release(&r);
		if (rc)
			goto out;
	}
	compare_rows(runs, n, "params", rows);
	compare_rows(runs, n, "metrics", rows);
	if (ctx->json) {
		json_t *ids = json_array(), *doc;

		for (size_t i = 0; i < n; i++)
			json_array_append(ids, json_object_get(runs[i], "run_id"));
		doc = json_pack("{s:o, s:O}", "runs", ids, "rows", rows);

		output_json(doc);
		json_decref(doc);
		goto out;
	}
	printf("  %-28s", "");
	for (size_t i = 0; i < n; i++)
		printf("  %-20.20s", json_string_value(json_object_get(runs[i], "name"))
					 ? json_string_value(json_object_get(runs[i], "name"))
					 : json_string_value(json_object_get(runs[i], "run_id")));
	putchar('\n');
	for (size_t r = 0; r < json_array_size(rows); r++) {
		const json_t *row = json_array_get(rows, r);
		const json_t *values = json_object_get(row, "values");
		char label[256], text[64];

		snprintf(label, sizeof(label), "%s.%s",
			 strcmp(json_string_value(json_object_get(row, "kind")), "params")
			     ? "metrics"
			     : "params",
			 json_string_value(json_object_get(row, "key")));
		printf("%c %-28.28s", json_is_true(json_object_get(row, "differ")) ? '*' : ' ',
		       label);
		for (size_t i = 0; i < json_array_size(values); i++) {
			const json_t *v = json_array_get(values, i);

			value_text(text, sizeof(text), json_is_null(v) ? NULL : v);
			printf("  %-20.20s", text);
		}
		putchar('\n');
	}
out:
	for (size_t i = 0; i < n; i++)
		json_decref(runs[i]);
	free(runs);
	json_decref(rows);
	return rc;
}

/* Artifacts ------------------------------------------------------------------------------------ */

static const char *const artifacts_usage[] = {
	"ferry runs artifacts RUN [PATH] [-r]",
	"",
	"The run's artifacts in directory PATH (default: the root): files with their size and",
	"digest, and sub-directories; -r lists every file below PATH instead.",
	NULL,
};

static const char *const get_usage[] = {
	"ferry runs get RUN PATH [-o FILE]",
	"",
	"Writes artifact PATH of the run to FILE (default: its name in the current directory;",
	"'-': standard output), verified against its digest. A directory PATH is written with",
	"everything below it into directory FILE (default: its name).",
	NULL,
};

static json_t *artifact_json(const struct store_artifact *a)
{
	if (a->is_dir)
		return json_pack("{s:s,s:b}", "path", a->path, "is_dir", 1);
	return json_pack("{s:s,s:b,s:I,s:s+}", "path", a->path, "is_dir", 0, "size",
			 (json_int_t)a->size, "digest", "sha256:", a->digest);
}

static int runs_artifacts(int argc, const char **argv, struct ctx *ctx)
{
	struct store_run r = STORE_RUN_INIT;
	struct store_artifacts list = STORE_ARTIFACTS_INIT;
	int recursive = 0;
	struct option opts[] = {
		OPT_BOOL('r', "recursive", &recursive, "every file below PATH"),
		OPT_END(),
	};
	int nargs, rc = parse_options(&nargs, argc, argv, opts, artifacts_usage, ctx);
	json_t *j = NULL;

	if (rc)
		return rc;
	if (nargs < 1 || nargs > 2)
		return error_set(&ctx->err, ERR_USAGE, "'ferry runs artifacts' takes RUN [PATH]");
	if ((rc = cli_resolve_run(ctx, ctx->tracking, &r, argv[0])))
		goto out;
	rc = recursive ? store_artifact_list_all(ctx->tracking, &list, r.id,
						 nargs > 1 ? argv[1] : NULL, &ctx->err)
		       : store_artifact_list(ctx->tracking, &list, r.id, nargs > 1 ? argv[1] : NULL,
					     &ctx->err);
	if (rc)
		goto out;
	if (ctx->json) {
		j = json_array();
		for (size_t i = 0; i < list.nr; i++)
			json_array_append_new(j, artifact_json(&list.items[i]));
		output_json(j);
		goto out;
	}
	for (size_t i = 0; i < list.nr; i++) {
		const struct store_artifact *a = &list.items[i];

		if (a->is_dir)
			printf("%-12s %-71s %s/\n", "-", "-", a->path);
		else
			printf("%-12" PRId64 " sha256:%s %s\n", a->size, a->digest, a->path);
	}
out:
	json_decref(j);
	store_artifacts_release(&list);
	store_run_release(&r);
	return rc;
}

/* Copies artifact path of run to standard output, verified. */
static int artifact_to_stdout(struct ctx *ctx, struct cas *cas, const char *run, const char *path)
{
	char buf[65536];
	ssize_t n;
	int fd = -1, rc = track_artifact_open(&fd, NULL, ctx->store, cas, run, path, &ctx->err);

	if (rc)
		return rc;
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || fwrite(buf, 1, (size_t)n, stdout) != (size_t)n) {
			rc = error_errno(&ctx->err, ERR_IO, errno, "cannot copy artifact '%s'",
					 path);
			break;
		}
	}
	close(fd);
	if (!rc && fflush(stdout))
		rc = error_errno(&ctx->err, ERR_IO, errno, "cannot write standard output");
	return rc;
}

/* Writes directory path of run (every file below it) into directory dest. */
static int artifact_dir_out(struct ctx *ctx, struct cas *cas, const char *run, const char *path,
			    const char *dest, size_t *nfiles)
{
	struct store_artifacts list = STORE_ARTIFACTS_INIT;
	size_t skip = strlen(path) + 1;
	int rc = store_artifact_list_all(ctx->store, &list, run, path, &ctx->err);

	if (!rc && !list.nr)
		rc = error_set(&ctx->err, ERR_NOTFOUND, "run '%s' has no artifact '%s'", run, path);
	for (size_t i = 0; !rc && i < list.nr; i++) {
		char *file = fs_path_join(dest, list.items[i].path + skip);

		rc = track_artifact_checkout(ctx->store, cas, run, list.items[i].path, file,
					     &ctx->err);
		free(file);
	}
	if (!rc)
		*nfiles = list.nr;
	store_artifacts_release(&list);
	return rc;
}

static int runs_get(int argc, const char **argv, struct ctx *ctx)
{
	struct store_run r = STORE_RUN_INIT;
	struct store_artifact a = STORE_ARTIFACT_INIT;
	const char *dest = NULL, *path, *name;
	struct option opts[] = {
		OPT_STRING('o', "output", &dest, "FILE",
			   "where to write it ('-': standard output)"),
		OPT_END(),
	};
	int nargs, rc = parse_options(&nargs, argc, argv, opts, get_usage, ctx);
	struct cas *cas = NULL;
	size_t nfiles = 1;

	if (rc)
		return rc;
	if (nargs != 2)
		return error_set(&ctx->err, ERR_USAGE, "'ferry runs get' takes RUN PATH");
	path = argv[1];
	name = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	if (!dest)
		dest = name;
	if (!cli_artifacts_local(ctx)) {
		rc = error_set(&ctx->err, ERR_UNSUPPORTED,
			       "run artifacts are kept in a project's store, not on a tracking "
			       "server yet");
		goto out;
	}
	if ((rc = cli_resolve_run(ctx, ctx->tracking, &r, argv[0])) ||
	    (rc = cli_artifact_cas(&cas, ctx)))
		goto out;
	rc = store_artifact_get(ctx->store, &a, r.id, path, &ctx->err);
	if (rc == ERR_NOTFOUND && strcmp(dest, "-"))
		rc = artifact_dir_out(ctx, cas, r.id, path, dest, &nfiles);
	else if (!rc && !strcmp(dest, "-"))
		rc = artifact_to_stdout(ctx, cas, r.id, path);
	else if (!rc)
		rc = track_artifact_checkout(ctx->store, cas, r.id, path, dest, &ctx->err);
	if (rc || !strcmp(dest, "-"))
		goto out;
	if (ctx->json) {
		json_t *j = json_pack("{s:s,s:s,s:s,s:I}", "run_id", r.id, "path", path, "output",
				      dest, "files", (json_int_t)nfiles);

		output_json(j);
		json_decref(j);
	} else if (!ctx->quiet) {
		printf("%s -> %s (%zu file%s)\n", path, dest, nfiles, nfiles == 1 ? "" : "s");
	}
out:
	cas_free(cas);
	store_artifact_release(&a);
	store_run_release(&r);
	return rc;
}

static const struct subcommand runs_subcommands[] = {
	{ "list", runs_list, NEED_TRACKING, "recorded runs, newest first" },
	{ "search", runs_search, NEED_TRACKING, "runs matching an MLflow filter, ordered" },
	{ "show", runs_show, NEED_TRACKING, "everything recorded about one run" },
	{ "compare", runs_compare, NEED_TRACKING, "runs' params and metrics side by side" },
	{ "artifacts", runs_artifacts, NEED_TRACKING, "a run's artifacts in a directory" },
	{ "get", runs_get, NEED_TRACKING, "write a run's artifact to a file" },
	{ NULL, NULL, 0, NULL },
};

int cmd_runs(int argc, const char **argv, struct ctx *ctx)
{
	return subcommand_dispatch(argc, argv, runs_subcommands, "runs", ctx);
}

int cmd_log(int argc, const char **argv, struct ctx *ctx)
{
	const char *run = getenv("FERRY_RUN_ID");
	int64_t step = 0;
	struct option opts[] = {
		OPT_INT(0, "step", &step, "N", "the metric's step (default 0)"),
		OPT_STRING(0, "run", &run, "RUN", "the run (default: $FERRY_RUN_ID)"),
		OPT_END(),
	};
	struct store_run r = STORE_RUN_INIT;
	int nargs, rc = parse_options(&nargs, argc, argv, opts, log_usage, ctx);

	if (rc)
		return rc;
	if (nargs != 3 ||
	    (strcmp(argv[0], "metric") && strcmp(argv[0], "param") && strcmp(argv[0], "tag")))
		return error_set(&ctx->err, ERR_USAGE,
				 "usage: ferry log metric|param|tag KEY VALUE [--step N]");
	if (!run || !*run)
		return error_set(&ctx->err, ERR_USAGE,
				 "no run: use --run RUN, or run inside 'ferry run' (FERRY_RUN_ID)");
	rc = cli_open(ctx, NEED_TRACKING);
	if (!rc)
		rc = cli_resolve_run(ctx, ctx->tracking, &r, run);
	if (rc)
		goto out;
	if (!strcmp(argv[0], "metric")) {
		struct store_metric m = { argv[1], 0, time_now_ms(), step };

		if (parse_double(argv[2], &m.value) && strcmp(argv[2], "nan") &&
		    strcmp(argv[2], "NaN")) {
			rc = error_set(&ctx->err, ERR_USAGE, "metric '%s': '%s' is not a number",
				       argv[1], argv[2]);
			goto out;
		}
		if (!strcmp(argv[2], "nan") || !strcmp(argv[2], "NaN"))
			m.value = NAN;
		rc = store_run_log_metrics(ctx->tracking, r.id, &m, 1, &ctx->err);
	} else if (!strcmp(argv[0], "param")) {
		rc = store_run_log_param(ctx->tracking, r.id, argv[1], argv[2], &ctx->err);
	} else {
		rc = store_run_set_tag(ctx->tracking, r.id, argv[1], argv[2], &ctx->err);
	}
out:
	store_run_release(&r);
	return rc;
}
