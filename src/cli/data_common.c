/* Helpers shared by the data commands: workspace setup, printing versions and states. */
#include "util/common.h"
#include "cli/data_common.h"
#include "cli/cli.h"
#include "cli/output.h"
#include "data/git.h"
#include "data/pointer.h"
#include "data/workspace.h"
#include "project/project.h"
#include "util/strbuf.h"

const char *data_cwd(void)
{
	static char cwd[PATH_MAX];

	if (!cwd[0] && !getcwd(cwd, sizeof(cwd)))
		BUG("getcwd failed: %s", strerror(errno));
	return cwd;
}

int data_workspace_open(struct workspace **out, struct ctx *ctx, int jobs)
{
	char *cache = project_cache_dir(ctx->project);
	int rc = workspace_open(out, ctx->project->root, cache, ctx->project->config.cache_link,
				ctx->store, &ctx->err);

	free(cache);
	if (rc)
		return rc;
	(*out)->jobs = jobs;
	(*out)->quiet = ctx->quiet || ctx->json;
	return 0;
}

json_t *data_digest_json(const char *hex)
{
	struct strbuf sb = STRBUF_INIT;
	json_t *j;

	if (!hex || !*hex)
		return json_null();
	strbuf_addf(&sb, "sha256:%s", hex);
	j = json_string(sb.buf);
	strbuf_release(&sb);
	return j;
}

json_t *data_pointer_json(const char *path, const struct pointer *p)
{
	json_t *j = json_pack("{s:s,s:o,s:I}", "path", path, "digest", data_digest_json(p->hex),
			      "size", (json_int_t)p->size);

	if (p->is_dir)
		json_object_set_new(j, "files", json_integer((json_int_t)p->nfiles));
	return j;
}

const char *data_human_bytes(uint64_t n)
{
	static char bufs[4][32];
	static unsigned next;
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB" };
	char *buf = bufs[next++ % 4];
	double v = (double)n;
	int u = -1;

	if (n < 1024) {
		snprintf(buf, 32, "%" PRIu64 " B", n);
		return buf;
	}
	while (v >= 1024 && u < 3) {
		v /= 1024;
		u++;
	}
	snprintf(buf, 32, "%.1f %s", v, units[u]);
	return buf;
}

void data_print_version(const char *path, const struct pointer *p, const char *verb)
{
	printf("%-9s %s  sha256:%s  %s", verb, path, p->hex, data_human_bytes(p->size));
	if (p->is_dir)
		printf(", %" PRIu64 " file%s", p->nfiles, p->nfiles == 1 ? "" : "s");
	printf("\n");
}

void data_print_status(const struct tracked *t, const struct status_result *st)
{
	switch (st->state) {
	case DATA_UP_TO_DATE:
		printf("up to date    %s\n", t->path);
		break;
	case DATA_MODIFIED:
		printf("modified      %s  (add it to keep the change, checkout to drop it)\n",
		       t->path);
		break;
	case DATA_MISSING:
		if (st->missing_objects)
			printf(
			    "missing       %s  (not in the cache either: run 'ferry data pull')\n",
			    t->path);
		else
			printf("missing       %s  (restore it with 'ferry data checkout')\n",
			       t->path);
		break;
	case DATA_NOT_IN_CACHE:
		printf("not in cache  %s  (%" PRIu64 " object%s missing: run 'ferry data add' to "
		       "re-cache it)\n",
		       t->path, st->missing_objects, st->missing_objects == 1 ? "" : "s");
		break;
	}
}

int data_checkout_paths(struct ctx *ctx, const char *const *args, size_t nargs, int force, int jobs)
{
	struct tracked_list list = TRACKED_LIST_INIT;
	struct workspace *ws = NULL;
	json_t *out = json_array();
	int rc = data_workspace_open(&ws, ctx, jobs);

	if (!rc)
		rc = workspace_tracked(&list, ws, data_cwd(), args, nargs, &ctx->err);
	for (size_t i = 0; !rc && i < list.nr; i++) {
		struct checkout_result res;

		rc = workspace_checkout(ws, &list.items[i], force, &res, &ctx->err);
		if (rc)
			break;
		json_array_append_new(
		    out, json_pack("{s:s,s:I,s:I,s:I}", "path", list.items[i].path, "written",
				   (json_int_t)res.written, "removed", (json_int_t)res.removed,
				   "kept", (json_int_t)res.kept));
		if (ctx->json || ctx->quiet)
			continue;
		if (!res.written && !res.removed)
			printf("up to date    %s\n", list.items[i].path);
		else
			printf("checked out   %s  (%zu written, %zu removed, %zu already right)\n",
			       list.items[i].path, res.written, res.removed, res.kept);
	}
	if (!rc && ctx->json)
		output_json(out);
	json_decref(out);
	tracked_list_release(&list);
	workspace_free(ws);
	return rc;
}

int data_log_path(struct ctx *ctx, const char *arg)
{
	struct git_pointer_log log = { 0 };
	struct workspace *ws = NULL;
	json_t *out = json_array();
	char *rel = NULL;
	int rc = data_workspace_open(&ws, ctx, 0);

	if (!rc)
		rc = workspace_relpath(&rel, ws, data_cwd(), arg, &ctx->err);
	if (!rc && ends_with(rel, POINTER_SUFFIX))
		rel[strlen(rel) - strlen(POINTER_SUFFIX)] = '\0';
	if (!rc) {
		struct strbuf pp = STRBUF_INIT;

		strbuf_addf(&pp, "%s" POINTER_SUFFIX, rel);
		rc = git_pointer_log(&log, ws->root, pp.buf, &ctx->err);
		strbuf_release(&pp);
	}
	if (!rc && !log.nr)
		rc =
		    error_set(&ctx->err, ERR_NOTFOUND,
			      "'%s" POINTER_SUFFIX "' has no history in git; commit it first", rel);
	for (size_t i = 0; !rc && i < log.nr; i++) {
		const struct git_pointer_version *v = &log.items[i];
		struct pointer p = POINTER_INIT;
		struct error perr = ERROR_INIT;
		json_t *j;

		if (!v->content ||
		    pointer_parse(&p, "pointer", v->content, strlen(v->content), &perr))
			j = json_pack("{s:s,s:n,s:n}", "path", rel, "digest", "size");
		else
			j = data_pointer_json(rel, &p);
		json_object_set_new(j, "commit", json_string(v->commit));
		json_object_set_new(j, "date", json_string(v->date));
		json_object_set_new(j, "message", json_string(v->subject));
		json_array_append_new(out, j);
		if (!ctx->json && !v->content)
			printf("%.10s  %s  (deleted)  %s\n", v->commit, v->date, v->subject);
		else if (!ctx->json)
			printf("%.10s  %s  sha256:%.16s  %10s  %s\n", v->commit, v->date, p.hex,
			       data_human_bytes(p.size), v->subject);
		pointer_release(&p);
	}
	if (!rc && ctx->json)
		output_json(out);
	json_decref(out);
	git_pointer_log_release(&log);
	free(rel);
	workspace_free(ws);
	return rc;
}
