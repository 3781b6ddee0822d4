/* Command lines and run starts for the commands that record runs. */
#include "util/common.h"
#include "cli/track_common.h"
#include "cli/cli.h"
#include "data/git.h"
#include "project/project.h"
#include "store/store.h"
#include "track/tracking.h"
#include "util/strbuf.h"

static void add_quoted(struct strbuf *sb, const char *arg)
{
	if (*arg && !arg[strcspn(arg, " \t\n'\"\\$`!*?[]{}()<>|&;#~")]) {
		strbuf_addstr(sb, arg);
		return;
	}
	strbuf_addch(sb, '\'');
	for (; *arg; arg++) {
		if (*arg == '\'')
			strbuf_addstr(sb, "'\\''");
		else
			strbuf_addch(sb, *arg);
	}
	strbuf_addch(sb, '\'');
}

char *cli_command_line(const char *prefix, int argc, const char **argv)
{
	struct strbuf sb = STRBUF_INIT;

	strbuf_addstr(&sb, prefix);
	for (int i = 0; i < argc; i++) {
		if (sb.len)
			strbuf_addch(&sb, ' ');
		add_quoted(&sb, argv[i]);
	}
	return strbuf_detach(&sb, NULL);
}

int cli_run_start(struct ctx *ctx, char run_id[ID_HEX_LEN + 1], const char *experiment,
		  const char *name, const char *command, const char *source)
{
	struct track_run_options o = { 0 };
	struct error ignored = ERROR_INIT;
	/* outside a project (tracking on a server), the git state of the current directory */
	const char *root = ctx->project ? ctx->project->root : ".";
	char commit[41];

	o.experiment = experiment;
	o.name = name;
	o.command = command;
	o.source_name = source;
	if (!git_head(commit, root, &ignored)) {
		o.git_commit = commit;
		o.git_dirty = git_dirty(root);
	}
	return track_run_start(ctx->tracking, run_id, &o, &ctx->err);
}

int cli_resolve_run(struct ctx *ctx, struct store *st, struct store_run *out, const char *what)
{
	struct store_runs all = STORE_RUNS_INIT;
	size_t found = 0, at = 0;
	int rc;

	if (id_is_valid(what))
		return store_run_get(st, out, what, &ctx->err);
	rc = store_run_list(st, &all, NULL, STORE_VIEW_ALL, &ctx->err);
	if (rc)
		return rc;
	for (size_t i = 0; i < all.nr; i++) {
		const struct store_run *r = &all.items[i];

		if ((strlen(what) >= 6 && !strncmp(r->id, what, strlen(what))) ||
		    (r->name && !strcmp(r->name, what))) {
			found++;
			at = i;
		}
	}
	if (found == 1)
		rc = store_run_get(st, out, all.items[at].id, &ctx->err);
	else if (!found)
		rc = error_set(&ctx->err, ERR_NOTFOUND, "no run with id, id prefix or name '%s'",
			       what);
	else
		rc = error_set(&ctx->err, ERR_INVALID, "'%s' matches %zu runs; give more of the id",
			       what, found);
	store_runs_release(&all);
	return rc;
}
