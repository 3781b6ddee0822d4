/* THE command table: every top-level ferry command, in the order `ferry help` lists them. */
#include "util/common.h"
#include "cli/cli.h"

const struct command commands[] = {
	{ "init", cmd_init, 0, "make the current directory a ferry project" },
	{ "data", cmd_data, 0, "version data: add, status, checkout, push, pull, ..." },
	{ "remote", cmd_remote, 0, "manage data remotes" },
	{ "train", cmd_train, 0, "train a model on a CSV file, evaluate it, write the artifact" },
	{ "eval", cmd_eval, 0, "print a saved model's metrics on labelled data" },
	{ "predict", cmd_predict, 0, "score a CSV file with a saved model (batch predictions)" },
	{ "models", cmd_models, 0,
	  "the model registry: register, alias, promote, rollback, lineage, ..." },
	{ "runs", cmd_runs, 0, "list, show and compare recorded runs" },
	{ "run", cmd_run, NEED_PROJECT | NEED_TRACKING,
	  "run a command as a tracked run (ferry run -- CMD ...)" },
	{ "log", cmd_log, 0, "log a metric, param or tag into the current run" },
	{ "server", cmd_server, 0, "serve the MLflow tracking API on the project's store" },
	{ "serve", cmd_serve, 0,
	  "serve a model's predictions over HTTP (MLflow, OIP v2, KServe v1), hot-swapped" },
	{ "monitor", cmd_monitor, 0,
	  "data and prediction drift, live quality, reports and alerts" },
	{ "repro", cmd_repro, 0, "run the stale stages of the pipeline in ferry.yaml" },
	{ "status", cmd_status, 0, "which pipeline stages are stale, and why" },
	{ "metrics", cmd_metrics, 0, "show and diff the pipeline's metrics files" },
	{ "params", cmd_params, 0, "diff the pipeline's parameters against a git revision" },
	{ "retrain", cmd_retrain, 0,
	  "close the loop: on drift or a quality drop retrain, gate, promote or keep" },
	{ "config", cmd_config, 0, "show or check the project configuration" },
	{ "store", cmd_store, 0, "inspect and check the metadata store" },
	{ "version", cmd_version, 0, "show ferry's version and the libraries it uses" },
	{ "help", cmd_help, 0, "show help for ferry or one of its commands" },
	{ NULL, NULL, 0, NULL },
};

const struct command *command_find(const char *name)
{
	for (const struct command *c = commands; c->name; c++)
		if (!strcmp(c->name, name))
			return c;
	return NULL;
}
