/*
 * The model registry part of the metadata store: registered models, their versions 1, 2, 3...,
 * tags, MLflow stages, aliases with their full history, and rollback. MLflow's registry REST API
 * (src/api/mlflow_registry*.c) and `ferry models` (src/cli/cmd_models*.c) are built on it.
 *
 * The contract of store.h holds here too: 0 or a negative ERR_* with err filled; out-parameters
 * untouched on failure; strings borrowed for the call; results released with *_release (no-op
 * on a zero-initialised value); times in ms since the epoch. Every write is one transaction, so
 * a crash leaves either the old or the new state, never a mix.
 *
 * Messages for missing things are MLflow's, so the REST API can pass them on unchanged:
 *   "Registered Model with name=NAME not found"
 *   "Model Version (name=NAME, version=N) not found"
 *   "Registered model alias ALIAS not found."
 * Backends without a registry (http, for now) answer ERR_UNSUPPORTED.
 */
#ifndef FERRY_STORE_STORE_REGISTRY_H
#define FERRY_STORE_STORE_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

struct search_filter;
struct search_orders;

/* Stages ----------------------------------------------------------------------------------- */

enum store_stage {
	STORE_STAGE_NONE,
	STORE_STAGE_STAGING,
	STORE_STAGE_PRODUCTION,
	STORE_STAGE_ARCHIVED,
};
/* "None", "Staging", "Production", "Archived": MLflow's names. */
const char *store_stage_name(enum store_stage stage);
/* Case-insensitive; ERR_INVALID with MLflow's message listing the valid stages otherwise. */
int store_stage_parse(enum store_stage *out, const char *name, struct error *err);

/*
 * MLflow's alias rules: [A-Za-z0-9_-]+, at most 255 characters, not "latest" (any case) and not
 * shaped like a version ("v3", "V12"). ERR_INVALID with a message naming the alias otherwise.
 */
int store_alias_check(const char *alias, struct error *err);
/* MLflow's rule for model names: not empty ("Registered model name cannot be empty."). */
int store_model_name_check(const char *name, struct error *err);

/* Registered models ------------------------------------------------------------------------ */

struct store_model {
	char *name;
	char *description; /* NULL when unset */
	int64_t creation_time;
	int64_t last_updated_time;
};
#define STORE_MODEL_INIT                                                                           \
	{                                                                                          \
		.name = NULL                                                                       \
	}
void store_model_release(struct store_model *m);

struct store_models {
	struct store_model *items;
	size_t nr, alloc;
};
#define STORE_MODELS_INIT                                                                          \
	{                                                                                          \
		NULL, 0, 0                                                                         \
	}
void store_models_release(struct store_models *list);

/* ERR_EXISTS ("Registered Model (name=NAME) already exists.") when the name is taken. */
int store_model_create(struct store *st, const char *name, const char *description,
		       const struct store_kv *tags, size_t nr_tags, struct error *err);
int store_model_get(struct store *st, struct store_model *out, const char *name, struct error *err);
/*
 * Renames a model; its versions, tags, aliases and history follow. ERR_EXISTS if taken. Touches
 * the model's and every version's last_updated_time, as MLflow does.
 */
int store_model_rename(struct store *st, const char *name, const char *new_name, struct error *err);
/* Sets the description (NULL clears it) and touches last_updated_time. */
int store_model_update(struct store *st, const char *name, const char *description,
		       struct error *err);
/* Deletes a model with all its versions, tags, aliases and history (MLflow's semantics). */
int store_model_delete(struct store *st, const char *name, struct error *err);
/*
 * Tags may be overwritten; deleting a missing tag is ERR_NOTFOUND (MLflow ignores it: the REST
 * layer may want to as well). Tags of models and versions leave last_updated_time alone, as in
 * MLflow (the recorded set-tag exchange).
 */
int store_model_set_tag(struct store *st, const char *name, const char *key, const char *value,
			struct error *err);
int store_model_delete_tag(struct store *st, const char *name, const char *key, struct error *err);
/* A model's tags, by key. */
int store_model_tags(struct store *st, struct store_pairs *out, const char *name,
		     struct error *err);
/* A model's aliases, by alias: key the alias, value the version as decimal text. */
int store_model_aliases(struct store *st, struct store_pairs *out, const char *name,
			struct error *err);

/*
 * registered-models/search. filter: attributes name (=, !=, LIKE, ILIKE) and tags.<key> (=, !=,
 * LIKE, ILIKE), as src/track/filter.c parses them (SEARCH_ATTR_MODEL_NAME and SEARCH_TAG).
 * order: name, creation_timestamp, last_updated_timestamp (SEARCH_ATTR_MODEL_NAME,
 * SEARCH_ATTR_CREATION_TIME, SEARCH_ATTR_LAST_UPDATE_TIME); default name ASC, and name ASC
 * always breaks ties. max_results 0 means 100, at most 1000 (ERR_INVALID above).
 */
struct store_model_search {
	const struct search_filter *filter; /* NULL: all */
	const struct search_orders *order;  /* NULL: name ASC */
	int64_t max_results;
	int64_t offset;
};
int store_model_search(struct store *st, struct store_models *out, char **next_page_token,
		       const struct store_model_search *q, struct error *err);

/* Model versions --------------------------------------------------------------------------- */

struct store_model_version {
	char *name;
	int64_t version;
	int64_t creation_time;
	int64_t last_updated_time;
	char *description; /* NULL when unset */
	char *user;
	enum store_stage stage;
	char *source; /* the artifact URI registered: runs:/ID/model, mlflow-artifacts:/... */
	char *source_digest; /* the model artifact digest, "sha256:<hex>"; NULL if unknown */
	char *run_id;	     /* NULL when not registered from a run (or the run was deleted) */
	char *run_link;
	char *status; /* "READY" (the only status a local store gives) */
	char *status_message;
	char *metrics_json;   /* the metrics snapshot at registration: a JSON object, or NULL */
	char *signature_json; /* the model's input/output signature as JSON, or NULL */
};
#define STORE_MODEL_VERSION_INIT                                                                   \
	{                                                                                          \
		.name = NULL                                                                       \
	}
void store_model_version_release(struct store_model_version *v);

struct store_model_versions {
	struct store_model_version *items;
	size_t nr, alloc;
};
#define STORE_MODEL_VERSIONS_INIT                                                                  \
	{                                                                                          \
		NULL, 0, 0                                                                         \
	}
void store_model_versions_release(struct store_model_versions *list);

/* A dataset a version was trained on (a row of the store's datasets). */
struct store_version_dataset {
	int64_t dataset_id;
	const char *context; /* "training", ... or NULL */
};

/* What store_model_version_create needs; NULL strings are stored as absent. */
struct store_new_model_version {
	const char *name;
	bool create_model; /* create the registered model if it does not exist (ferry's commands) */
	const char *source; /* required */
	const char *source_digest;
	const char *run_id; /* must be a run of the store (ERR_NOTFOUND) when given */
	const char *run_link;
	const char *description;
	const char *user;
	const char *metrics_json;
	const char *signature_json;
	const struct store_kv *tags;
	size_t nr_tags;
	const struct store_version_dataset *datasets;
	size_t nr_datasets;
};

/*
 * Creates the next version (the greatest version ever given + 1, so a deleted number is never
 * reused; SQLite keeps it in registered_models.last_version) in stage None and status READY,
 * with its tags and datasets, in one transaction; *out_version gets the number. Without
 * create_model, a missing model is ERR_NOTFOUND; a missing run ("Run with id=ID not found") or
 * dataset is ERR_NOTFOUND and writes nothing. Sets the model's last_updated_time to the
 * version's creation time, as MLflow does.
 */
int store_model_version_create(struct store *st, int64_t *out_version,
			       const struct store_new_model_version *nv, struct error *err);
int store_model_version_get(struct store *st, struct store_model_version *out, const char *name,
			    int64_t version, struct error *err);
/* Sets the description (NULL clears it) and touches the version's last_updated_time only. */
int store_model_version_update(struct store *st, const char *name, int64_t version,
			       const char *description, struct error *err);
/*
 * Deletes a version. Refused with ERR_CONFLICT when an alias points to it, naming the alias(es)
 * ("version 2 of model 'churn' is the target of alias 'production': move or delete the alias
 * first"); MLflow would delete the alias silently, and a serving alias must not vanish.
 * Touches the model's last_updated_time. The version's history rows stay.
 */
int store_model_version_delete(struct store *st, const char *name, int64_t version,
			       struct error *err);
int store_model_version_set_tag(struct store *st, const char *name, int64_t version,
				const char *key, const char *value, struct error *err);
int store_model_version_delete_tag(struct store *st, const char *name, int64_t version,
				   const char *key, struct error *err);
int store_model_version_tags(struct store *st, struct store_pairs *out, const char *name,
			     int64_t version, struct error *err);
/* The aliases pointing at one version, by alias (value NULL). */
int store_model_version_aliases(struct store *st, struct store_pairs *out, const char *name,
				int64_t version, struct error *err);
/* The datasets a version was trained on, by dataset id, with their context. */
int store_model_version_datasets(struct store *st, struct store_datasets *out, const char *name,
				 int64_t version, struct error *err);

/*
 * The newest version in each of the given stages (nr 0: every stage), in stage order None,
 * Staging, Production, Archived, as get-latest-versions answers. A missing model is
 * ERR_NOTFOUND.
 */
int store_model_latest_versions(struct store *st, struct store_model_versions *out,
				const char *name, const enum store_stage *stages, size_t nr,
				struct error *err);

/*
 * model-versions/search. filter: name (=, !=, LIKE, ILIKE), run_id (=, !=, IN, NOT IN),
 * source_path (=, !=, LIKE, ILIKE), version_number (=, !=, <, <=, >, >=) and tags.<key> as
 * src/track/filter.c parses them (SEARCH_ATTR_MODEL_NAME, SEARCH_ATTR_RUN_ID,
 * SEARCH_ATTR_SOURCE_PATH, SEARCH_ATTR_VERSION_NUMBER, SEARCH_TAG). order: name,
 * version_number, creation_timestamp, last_updated_timestamp; default name ASC then
 * version_number DESC. max_results 0 means 10000, at most 200000 (ERR_INVALID above).
 */
int store_model_version_search(struct store *st, struct store_model_versions *out,
			       char **next_page_token, const struct store_model_search *q,
			       struct error *err);

/*
 * Moves a version to stage, recorded in the stage history with user and reason (both may be
 * NULL). archive_existing: every other version of the model in the same stage (Staging or
 * Production only; ERR_INVALID with MLflow's message otherwise) goes to Archived, each recorded
 * too, before the version's own row and with the same user and reason. A version already in
 * stage records nothing (its and the model's last_updated_time are touched all the same, as
 * MLflow does on every transition). out (may be NULL) gets the version as it is afterwards.
 */
int store_model_version_transition(struct store *st, struct store_model_version *out,
				   const char *name, int64_t version, enum store_stage stage,
				   bool archive_existing, const char *user, const char *reason,
				   struct error *err);

/* Aliases ------------------------------------------------------------------------------------ */

/*
 * Every alias function checks alias with store_alias_check first (MLflow does for get, set and
 * delete alike).
 */

/* The version alias points to; ERR_NOTFOUND (MLflow's message) without the alias. */
int store_alias_get(struct store *st, int64_t *out_version, const char *name, const char *alias,
		    struct error *err);

/* expect: the alias may point anywhere (or nowhere) before the move. */
#define STORE_ALIAS_ANY (-1)

/* One alias move, for store_alias_set. */
struct store_alias_move {
	const char *name;
	const char *alias;
	int64_t version; /* the version to point at; 0 removes the alias */
	/*
	 * Compare-and-swap: STORE_ALIAS_ANY, 0 (the alias must not exist yet) or the version the
	 * alias must point to now. Otherwise nothing changes and the result is ERR_CONFLICT naming
	 * where the alias points ("alias 'production' of model 'churn' points to version 3, not 2:
	 * someone moved it meanwhile"). This is how two promotions at once end: one wins. The
	 * check runs inside the write transaction of the move.
	 */
	int64_t expect;
	const char *user;
	const char *reason;
};

/*
 * Points alias at version (which must exist: ERR_NOTFOUND) or removes it (version 0; removing a
 * missing alias is ERR_NOTFOUND), and appends the move to the history, in one transaction.
 * Moving an alias to the version it already points to changes nothing and records nothing.
 * *out_from (may be NULL) gets the version it pointed to before (0: none).
 */
int store_alias_set(struct store *st, int64_t *out_from, const struct store_alias_move *m,
		    struct error *err);

/*
 * Moves alias back to the version it pointed to before its latest move that has not been rolled
 * back already, so rolling back twice after v1 -> v2 -> v3 gives v2, then v1. The rollback is
 * recorded in the history (kind rollback) and marks the move it undoes, in one transaction;
 * rollbacks themselves are never undone. ERR_NOTFOUND without the model or the alias;
 * ERR_CONFLICT ("nothing to roll back to") when no earlier version exists, when the version to
 * go back to has been deleted (naming it), or when the alias does not point where its last
 * recorded move left it (it was changed outside the history).
 * *out_from and *out_to (may be NULL) get the versions before and after.
 */
int store_alias_rollback(struct store *st, int64_t *out_from, int64_t *out_to, const char *name,
			 const char *alias, const char *user, const char *reason,
			 struct error *err);

/* History ------------------------------------------------------------------------------------ */

enum store_event_kind {
	STORE_EVENT_ALIAS_MOVE,	    /* alias, from_version -> to_version (0: none) */
	STORE_EVENT_ALIAS_ROLLBACK, /* the same, made by store_alias_rollback */
	STORE_EVENT_STAGE,	    /* version, from_stage -> to_stage */
};

struct store_registry_event {
	int64_t id; /* increasing: the order events happened in, alias and stage events alike */
	enum store_event_kind kind;
	char *alias; /* alias events */
	int64_t from_version, to_version;
	bool undone;	 /* an alias move a later rollback undid */
	int64_t version; /* stage events */
	enum store_stage from_stage, to_stage;
	char *user;
	int64_t time;
	char *reason;
};

struct store_registry_events {
	struct store_registry_event *items;
	size_t nr, alloc;
};
#define STORE_REGISTRY_EVENTS_INIT                                                                 \
	{                                                                                          \
		NULL, 0, 0                                                                         \
	}
void store_registry_events_release(struct store_registry_events *list);

/*
 * Every alias move and stage transition of a model, oldest first (by id); ERR_NOTFOUND without
 * the model.
 */
int store_model_history(struct store *st, struct store_registry_events *out, const char *name,
			struct error *err);

#endif
