/* `ferry data ...`: version data with pointer files, the object cache and remotes. */
#include "util/common.h"
#include "cli/cli.h"
#include "cli/cmd_profile.h"
#include "cli/data_common.h"
#include "cli/options.h"
#include "cli/output.h"
#include "data/git.h"
#include "data/maintenance.h"
#include "data/workspace.h"
#include "pipeline/runcache.h"
#include "project/project.h"
#include "util/strbuf.h"

static const char *const add_usage[] = {
	"ferry data add [-j N] PATH...",
	"",
	"Puts each file or directory into the object cache, writes PATH.ferry (commit it) and",
	"lists PATH in the .gitignore beside it. Prints each version's digest.",
	NULL,
};

static int data_add(int argc, const char **argv, struct ctx *ctx)
{
	int64_t jobs = 0;
	struct option opts[] = {
		OPT_INT('j', "jobs", &jobs, "N", "files hashed in parallel (default: CPU count)"),
		OPT_END(),
	};
	struct workspace *ws = NULL;
	json_t *list = json_array();
	char commit[41];
	int nargs, rc = parse_options(&nargs, argc, argv, opts, add_usage, ctx);

	if (rc)
		goto out;
	if (!nargs) {
		rc = error_set(&ctx->err, ERR_USAGE, "'ferry data add' needs at least one PATH");
		goto out;
	}
	rc = data_workspace_open(&ws, ctx, (int)jobs);
	if (rc)
		goto out;
	if (git_head(commit, ws->root, &ctx->err))
		commit[0] = '\0';
	for (int i = 0; !rc && i < nargs; i++) {
		struct add_result res = { 0 };

		rc = workspace_add(ws, data_cwd(), argv[i], commit[0] ? commit : NULL, &res,
				   &ctx->err);
		if (rc)
			break;
		json_array_append_new(list, data_pointer_json(res.path, &res.ptr));
		json_object_set_new(json_array_get(list, json_array_size(list) - 1), "hashed",
				    json_integer((json_int_t)res.hashed));
		if (!ctx->json && !ctx->quiet)
			data_print_version(res.path, &res.ptr, res.changed ? "added" : "unchanged");
		add_result_release(&res);
	}
	if (!rc && ctx->json)
		output_json(list);
out:
	json_decref(list);
	workspace_free(ws);
	return rc;
}

static const char *const status_usage[] = {
	"ferry data status [PATH...]",
	"",
	"For each tracked path (default: all): up to date, modified, missing, or not in cache.",
	"Unchanged files are not re-read: their digests come from the stat cache.",
	NULL,
};

static int data_status(int argc, const char **argv, struct ctx *ctx)
{
	struct tracked_list list = TRACKED_LIST_INIT;
	struct workspace *ws = NULL;
	json_t *out = json_array();
	size_t changed = 0;
	int nargs, rc = parse_options(&nargs, argc, argv, NULL, status_usage, ctx);

	if (!rc)
		rc = data_workspace_open(&ws, ctx, 0);
	if (!rc)
		rc = workspace_tracked(&list, ws, data_cwd(), argv, (size_t)nargs, &ctx->err);
	for (size_t i = 0; !rc && i < list.nr; i++) {
		struct status_result st = { 0 };
		const struct tracked *t = &list.items[i];
		json_t *j;

		rc = workspace_status(ws, t, &st, &ctx->err);
		if (rc)
			break;
		j = data_pointer_json(t->path, &t->ptr);
		json_object_set_new(j, "state", json_string(data_state_name(st.state)));
		if (st.state == DATA_MODIFIED)
			json_object_set_new(j, "workspace_digest", data_digest_json(st.hex));
		json_object_set_new(j, "missing_objects",
				    json_integer((json_int_t)st.missing_objects));
		json_array_append_new(out, j);
		changed += st.state != DATA_UP_TO_DATE;
		if (!ctx->json)
			data_print_status(t, &st);
		status_result_release(&st);
	}
	if (!rc && ctx->json)
		output_json(out);
	else if (!rc && !ctx->quiet && !list.nr)
		printf("no data is tracked yet; add some with 'ferry data add PATH'\n");
	else if (!rc && !ctx->quiet && !changed)
		printf("all %zu tracked path%s up to date\n", list.nr,
		       list.nr == 1 ? " is" : "s are");
	json_decref(out);
	tracked_list_release(&list);
	workspace_free(ws);
	return rc;
}

static const char *const checkout_usage[] = {
	"ferry data checkout [--force] [-j N] [PATH...]",
	"",
	"Makes the workspace match the pointer files (e.g. after 'git checkout'). Refuses to",
	"overwrite or delete workspace content that is not in the cache unless --force.",
	NULL,
};

static int data_checkout(int argc, const char **argv, struct ctx *ctx)
{
	int force = 0;
	int64_t jobs = 0;
	struct option opts[] = {
		OPT_BOOL('f', "force", &force, "overwrite changes that are not in the cache"),
		OPT_INT('j', "jobs", &jobs, "N", "files written in parallel"),
		OPT_END(),
	};
	int nargs, rc = parse_options(&nargs, argc, argv, opts, checkout_usage, ctx);

	if (rc)
		return rc;
	return data_checkout_paths(ctx, argv, (size_t)nargs, force, (int)jobs);
}

static const char *const diff_usage[] = {
	"ferry data diff [PATH...]",
	"",
	"Lists what changed in the workspace since the pointer files' versions, file by file:",
	"A added, D deleted, M modified.",
	NULL,
};

static int data_diff(int argc, const char **argv, struct ctx *ctx)
{
	struct tracked_list list = TRACKED_LIST_INIT;
	struct workspace *ws = NULL;
	json_t *out = json_array();
	int nargs, rc = parse_options(&nargs, argc, argv, NULL, diff_usage, ctx);

	if (!rc)
		rc = data_workspace_open(&ws, ctx, 0);
	if (!rc)
		rc = workspace_tracked(&list, ws, data_cwd(), argv, (size_t)nargs, &ctx->err);
	for (size_t i = 0; !rc && i < list.nr; i++) {
		struct diff_list d = { 0 };

		rc = workspace_diff(ws, &list.items[i], &d, &ctx->err);
		for (size_t k = 0; !rc && k < d.nr; k++) {
			const struct diff_entry *e = &d.items[k];
			char op[2] = { e->op, 0 };

			json_array_append_new(
			    out, json_pack("{s:s,s:s,s:o,s:o}", "op", op, "path", e->path,
					   "old_digest", data_digest_json(e->old_hex), "new_digest",
					   data_digest_json(e->new_hex)));
			if (!ctx->json)
				printf("%c\t%s\n", e->op, e->path);
		}
		diff_list_release(&d);
	}
	if (!rc && ctx->json)
		output_json(out);
	json_decref(out);
	tracked_list_release(&list);
	workspace_free(ws);
	return rc;
}

static const char *const log_usage[] = {
	"ferry data log PATH",
	"",
	"The versions of PATH in git history: commit, date, digest, size, message.",
	NULL,
};

static int data_log(int argc, const char **argv, struct ctx *ctx)
{
	int nargs, rc = parse_options(&nargs, argc, argv, NULL, log_usage, ctx);

	if (rc)
		return rc;
	if (nargs != 1)
		return error_set(&ctx->err, ERR_USAGE, "'ferry data log' takes exactly one PATH");
	return data_log_path(ctx, argv[0]);
}

static const char *const gc_usage[] = {
	"ferry data gc [--dry-run] [--all-commits] [--no-run-cache]",
	"",
	"Removes cache objects that no pointer file in the workspace references",
	"(--all-commits: nor any pointer file in any git commit), no run artifact names",
	"and no entry of the pipelines' run cache needs (--no-run-cache: the run cache",
	"keeps nothing; its entries whose objects go then miss, and their stages run again).",
	NULL,
};

struct run_cache_outs {
	struct pointer *items;
	size_t nr, alloc;
};

/* The run cache's outputs as pointers, for data_gc to keep. */
static int add_run_cache_out(const struct lock_entry *out, void *data)
{
	struct run_cache_outs *list = data;
	struct pointer *p;

	ALLOC_GROW(list->items, list->nr + 1, list->alloc);
	p = &list->items[list->nr++];
	*p = (struct pointer)POINTER_INIT;
	memcpy(p->hex, out->hex, SHA256_HEX_SIZE);
	p->size = out->size;
	p->is_dir = out->is_dir;
	p->nfiles = out->nfiles;
	return 0;
}

static int data_gc_cmd(int argc, const char **argv, struct ctx *ctx)
{
	int dry_run = 0, all_commits = 0, no_run_cache = 0;
	struct option opts[] = {
		OPT_BOOL('n', "dry-run", &dry_run, "list what would be removed; remove nothing"),
		OPT_BOOL(0, "all-commits", &all_commits, "keep what any git commit references"),
		OPT_BOOL(0, "no-run-cache", &no_run_cache,
			 "do not keep what only the run cache needs"),
		OPT_END(),
	};
	struct workspace *ws = NULL;
	struct strbuf report = STRBUF_INIT;
	struct run_cache_outs runs = { 0 };
	size_t skipped = 0;
	struct gc_stats st;
	int nargs, rc = parse_options(&nargs, argc, argv, opts, gc_usage, ctx);

	if (!rc && nargs)
		rc = error_set(&ctx->err, ERR_USAGE, "'ferry data gc' takes no paths");
	if (!rc)
		rc = data_workspace_open(&ws, ctx, 0);
	if (!rc && !no_run_cache)
		rc = runcache_foreach_out(ws->cas, add_run_cache_out, &runs, &skipped, &ctx->err);
	if (!rc && skipped && !ctx->quiet)
		fprintf(stderr, "warning: %zu run cache entr%s did not parse and keep%s nothing\n",
			skipped, skipped == 1 ? "y" : "ies", skipped == 1 ? "s" : "");
	if (!rc)
		rc =
		    data_gc(ws, all_commits, runs.items, runs.nr, dry_run, &st, &report, &ctx->err);
	if (!rc && ctx->json) {
		json_t *j =
		    json_pack("{s:b,s:I,s:I,s:I,s:I,s:I}", "dry_run", dry_run, "referenced",
			      (json_int_t)st.referenced, "kept", (json_int_t)st.kept, "removed",
			      (json_int_t)st.removed, "removed_bytes", (json_int_t)st.removed_bytes,
			      "run_cache_outputs", (json_int_t)runs.nr);

		output_json(j);
		json_decref(j);
	} else if (!rc && !ctx->quiet) {
		fputs(report.buf, stdout);
		printf("%s %" PRIu64 " object%s (%s); kept %" PRIu64 "\n",
		       dry_run ? "would remove" : "removed", st.removed, st.removed == 1 ? "" : "s",
		       data_human_bytes(st.removed_bytes), st.kept);
	}
	strbuf_release(&report);
	free(runs.items);
	workspace_free(ws);
	return rc;
}

static const char *const verify_usage[] = {
	"ferry data verify [-j N]",
	"",
	"Re-hashes every cache object and checks that every object the pointer files need is",
	"there. Exits 1 and lists the problems if anything is corrupted or missing.",
	NULL,
};

static int data_verify_cmd(int argc, const char **argv, struct ctx *ctx)
{
	int64_t jobs = 0;
	struct option opts[] = {
		OPT_INT('j', "jobs", &jobs, "N", "objects hashed in parallel"),
		OPT_END(),
	};
	struct workspace *ws = NULL;
	struct strbuf report = STRBUF_INIT;
	struct verify_stats st = { 0 };
	int nargs, rc = parse_options(&nargs, argc, argv, opts, verify_usage, ctx);

	if (!rc && nargs)
		rc = error_set(&ctx->err, ERR_USAGE, "'ferry data verify' takes no paths");
	if (!rc)
		rc = data_workspace_open(&ws, ctx, (int)jobs);
	if (rc)
		goto out;
	rc = data_verify(ws, &st, &report, &ctx->err);
	if (ctx->json) {
		json_t *j = json_pack("{s:b,s:I,s:I,s:I,s:s}", "ok", rc == 0, "checked",
				      (json_int_t)st.checked, "corrupted", (json_int_t)st.corrupted,
				      "missing", (json_int_t)st.missing, "problems", report.buf);

		output_json(j);
		json_decref(j);
	} else {
		fputs(report.buf, stdout);
		if (!rc && !ctx->quiet)
			printf("verified %" PRIu64 " object%s: all intact\n", st.checked,
			       st.checked == 1 ? "" : "s");
	}
out:
	strbuf_release(&report);
	workspace_free(ws);
	return rc;
}

static const struct subcommand data_subcommands[] = {
	{ "add", data_add, NEED_STORE, "version files or directories" },
	{ "status", data_status, NEED_STORE, "compare the workspace with the pointer files" },
	{ "checkout", data_checkout, NEED_STORE, "make the workspace match the pointer files" },
	{ "diff", data_diff, NEED_STORE, "list changed files" },
	{ "log", data_log, NEED_STORE, "versions of a path in git history" },
	{ "push", data_push, NEED_STORE, "send objects to a remote" },
	{ "pull", data_pull, NEED_STORE, "fetch objects from a remote and check them out" },
	{ "fetch", data_fetch, NEED_STORE, "fetch objects from a remote into the cache" },
	{ "profile", data_profile, 0, "column types and statistics of a CSV file" },
	{ "gc", data_gc_cmd, NEED_STORE, "remove unreferenced cache objects" },
	{ "verify", data_verify_cmd, NEED_STORE, "re-hash the cache and report damage" },
	{ NULL, NULL, 0, NULL },
};

int cmd_data(int argc, const char **argv, struct ctx *ctx)
{
	return subcommand_dispatch(argc, argv, data_subcommands, "data", ctx);
}
