/* Command lines and run starts for the commands that record runs. */
#include "util/common.h"
#include "cli/track_common.h"
#include "cli/cli.h"
#include "data/git.h"
#include "project/project.h"
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
