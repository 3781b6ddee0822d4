/*
 * What the registry commands share (cmd_models*.c), and model arguments for every command that
 * takes one (eval, predict, promote...): a plain artifact directory or a registered version
 * (models:/NAME/3, models:/NAME@champion, models:/NAME/Production).
 */
#ifndef FERRY_CLI_MODELS_COMMON_H
#define FERRY_CLI_MODELS_COMMON_H

#include <jansson.h>

#include "registry/model_uri.h"
#include "store/store_registry.h"

struct ctx;
struct strbuf;

/*
 * The directory of the model arg names: arg itself when it is a path; for a models:/ URI (or,
 * with short, NAME/3 / NAME@alias), the registered version's files, checked out from the
 * object cache into .ferry/models/ and verified (opens the project's store when needed).
 * v (may be NULL) gets the version; it stays zeroed for a plain path.
 */
int cli_model_dir(struct ctx *ctx, struct strbuf *dir, const char *arg,
		  struct store_model_version *v);

/* The version a models:/ URI or a short reference (NAME/3, NAME@alias, NAME) names. */
int models_resolve_arg(struct ctx *ctx, struct store_model_version *out, const char *arg);

/* One line of `ferry models list`: name, latest_version, aliases (text), description. */
int models_summary_json(struct ctx *ctx, json_t **out, const struct store_model *m);
/* A model with its tags, aliases and every version (`ferry models show NAME`). */
int models_model_json(struct ctx *ctx, json_t **out, const char *name);
/* One version in detail, with its aliases and tags. */
int models_version_json(struct ctx *ctx, json_t **out, const struct store_model_version *v);
int models_version_json_ref(struct ctx *ctx, json_t **out, const struct model_ref *ref);
/* Prints what the *_json functions above build, for people. */
void models_print(const json_t *j);

json_t *models_events_json(const struct store_registry_events *events);
void models_print_event(const json_t *e);
void models_print_lineage(const json_t *j);

/* In cmd_models_promote.c, for cmd_models.c's table. */
int models_promote(int argc, const char **argv, struct ctx *ctx);
int models_reproduce(int argc, const char **argv, struct ctx *ctx);

#endif
