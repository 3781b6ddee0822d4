/* `ferry data push|pull|fetch`: move a version's objects between the cache and a remote. */
#include "util/common.h"
#include "cli/cli.h"
#include "cli/data_common.h"
#include "cli/options.h"
#include "cli/output.h"
#include "data/remote.h"
#include "data/transfer.h"
#include "data/workspace.h"
#include "project/project.h"
#include "util/strbuf.h"

struct hex_list {
	char **items;
	size_t nr, alloc;
};

static void hex_list_release(struct hex_list *l)
{
	for (size_t i = 0; i < l->nr; i++)
		free(l->items[i]);
	free(l->items);
	memset(l, 0, sizeof(*l));
}

static int open_remote(struct remote **out, struct ctx *ctx, const char *name)
{
	const struct config *cfg = &ctx->project->config;
	const struct config_remote *r;

	if (!name)
		name = cfg->default_remote;
	if (!name)
		return error_set(
		    &ctx->err, ERR_NOTFOUND,
		    "no remote is configured; add one with 'ferry remote add NAME URL'");
	r = config_remote_find(cfg, name);
	if (!r)
		return error_set(&ctx->err, ERR_NOTFOUND,
				 "no remote named '%s'; see 'ferry remote list'", name);
	return remote_open(out, r->name, r->url, &ctx->err);
}

/* The objects the tracked paths need; *incomplete when a directory's manifest is not local. */
static int wanted_objects(struct hex_list *out, int *incomplete, struct workspace *ws,
			  const struct tracked_list *list, struct error *err)
{
	int rc = 0;

	hex_list_release(out);
	*incomplete = 0;
	for (size_t i = 0; !rc && i < list->nr; i++)
		rc = workspace_objects(ws, &list->items[i].ptr, &out->items, &out->nr, &out->alloc,
				       incomplete, err);
	return rc;
}

static void add_stats(struct transfer_stats *sum, const struct transfer_stats *s)
{
	sum->wanted += s->wanted;
	sum->present += s->present;
	sum->transferred += s->transferred;
	sum->bytes += s->bytes;
	sum->failed += s->failed;
	sum->missing = s->missing; /* the last round's view is the final one */
}

static void report_transfer(struct ctx *ctx, const char *verb, const char *remote,
			    const struct transfer_stats *st, const struct strbuf *report)
{
	if (ctx->json) {
		json_t *j = json_pack("{s:s,s:I,s:I,s:I,s:I,s:I,s:I}", "remote", remote, "wanted",
				      (json_int_t)st->wanted, "present", (json_int_t)st->present,
				      "transferred", (json_int_t)st->transferred, "bytes",
				      (json_int_t)st->bytes, "failed", (json_int_t)st->failed,
				      "missing", (json_int_t)st->missing);

		json_object_set_new(j, "problems", json_string(report->buf));
		output_json(j);
		json_decref(j);
		return;
	}
	fputs(report->buf, stderr);
	if (!ctx->quiet)
		printf("%s %" PRIu64 " object%s (%s) %s '%s'; %" PRIu64 " already there\n", verb,
		       st->transferred, st->transferred == 1 ? "" : "s",
		       data_human_bytes(st->bytes), strcmp(verb, "pushed") ? "from" : "to", remote,
		       st->present);
}

struct transfer_args {
	const char *remote;
	int64_t jobs;
	int force;
	int nargs;
};

static int parse_transfer(struct transfer_args *a, int argc, const char **argv,
			  const char *const *usage, int with_force, struct ctx *ctx)
{
	struct option opts[] = {
		OPT_STRING('r', "remote", &a->remote, "NAME",
			   "remote to use (default: default_remote)"),
		OPT_INT('j', "jobs", &a->jobs, "N", "parallel transfers (default: 4 x CPUs)"),
		OPT_BOOL('f', "force", &a->force,
			 "checkout over changes that are not in the cache"),
		OPT_END(),
	};

	if (!with_force)
		opts[2] = (struct option)OPT_END();
	return parse_options(&a->nargs, argc, argv, opts, usage, ctx);
}

static int run_transfer(struct ctx *ctx, const struct transfer_args *a, const char **paths,
			int push)
{
	struct tracked_list list = TRACKED_LIST_INIT;
	struct workspace *ws = NULL;
	struct remote *r = NULL;
	struct hex_list hexes = { 0 };
	struct strbuf report = STRBUF_INIT;
	struct transfer_stats sum = { 0 };
	struct transfer_opts opts = { (int)a->jobs, ctx->quiet || ctx->json };
	int incomplete = 0, rounds = 0;
	int rc = data_workspace_open(&ws, ctx, 0);

	if (!rc)
		rc = workspace_tracked(&list, ws, data_cwd(), paths, (size_t)a->nargs, &ctx->err);
	if (!rc)
		rc = open_remote(&r, ctx, a->remote);
	if (!rc)
		rc = wanted_objects(&hexes, &incomplete, ws, &list, &ctx->err);
	/* A fetch learns a directory's files from its manifest: fetch that, then ask again. */
	while (!rc && rounds++ < 2) {
		struct transfer_stats st = { 0 };

		strbuf_reset(&report);
		if (push)
			rc = transfer_push(ws->cas, r, (const char *const *)hexes.items, hexes.nr,
					   &opts, &st, &report, &ctx->err);
		else
			rc = transfer_fetch(ws->cas, r, (const char *const *)hexes.items, hexes.nr,
					    &opts, &st, &report, &ctx->err);
		add_stats(&sum, &st);
		if (rc || push || !incomplete)
			break;
		rc = wanted_objects(&hexes, &incomplete, ws, &list, &ctx->err);
	}
	if (!rc || sum.transferred || sum.failed)
		report_transfer(ctx, push ? "pushed" : "fetched", r ? r->name : "?", &sum, &report);
	strbuf_release(&report);
	hex_list_release(&hexes);
	remote_close(r);
	tracked_list_release(&list);
	workspace_free(ws);
	return rc;
}

static const char *const push_usage[] = {
	"ferry data push [-r NAME] [-j N] [PATH...]",
	"",
	"Sends the objects the pointer files name (default: all) to a remote: only missing ones,",
	"in parallel, each re-hashed as it is read so a damaged object is never published.",
	NULL,
};

int data_push(int argc, const char **argv, struct ctx *ctx)
{
	struct transfer_args a = { 0 };
	int rc = parse_transfer(&a, argc, argv, push_usage, 0, ctx);

	return rc ? rc : run_transfer(ctx, &a, argv, 1);
}

static const char *const fetch_usage[] = {
	"ferry data fetch [-r NAME] [-j N] [PATH...]",
	"",
	"Brings the objects the pointer files name into the cache; each is verified before it",
	"enters. The workspace is not touched (see 'ferry data pull').",
	NULL,
};

int data_fetch(int argc, const char **argv, struct ctx *ctx)
{
	struct transfer_args a = { 0 };
	int rc = parse_transfer(&a, argc, argv, fetch_usage, 0, ctx);

	return rc ? rc : run_transfer(ctx, &a, argv, 0);
}

static const char *const pull_usage[] = {
	"ferry data pull [-r NAME] [-j N] [--force] [PATH...]",
	"",
	"fetch, then checkout: the workspace ends up matching the pointer files.",
	NULL,
};

int data_pull(int argc, const char **argv, struct ctx *ctx)
{
	struct transfer_args a = { 0 };
	int rc = parse_transfer(&a, argc, argv, pull_usage, 1, ctx);

	if (!rc)
		rc = run_transfer(ctx, &a, argv, 0);
	if (!rc)
		rc = data_checkout_paths(ctx, argv, (size_t)a.nargs, a.force, (int)a.jobs);
	return rc;
}
