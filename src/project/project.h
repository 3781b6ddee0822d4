/*
 * A ferry project: a directory holding .ferry/ (config.yaml, the store, the object cache),
 * normally the top of a git repository. Found by walking up from the working directory, as git
 * finds .git.
 */
#ifndef FERRY_PROJECT_PROJECT_H
#define FERRY_PROJECT_PROJECT_H

#include "project/config.h"

#define PROJECT_DIR ".ferry"

struct error;

struct project {
	char *root;	   /* absolute path of the directory holding .ferry/ */
	char *dir;	   /* root + "/.ferry" */
	char *config_path; /* dir + "/config.yaml" */
	struct config config;
};

/*
 * Walks up from start (an absolute path) to the nearest directory that holds .ferry/ and returns
 * it in *out (caller frees). ERR_NOTFOUND when there is none, with a message telling the user to
 * run 'ferry init'.
 */
int project_find_root(char **out, const char *start, struct error *err);

/* Finds the project above start and loads its config; *out is freed with project_free. */
int project_open(struct project **out, const char *start, struct error *err);
void project_free(struct project *p);

/*
 * The store URI to open: $FERRY_STORE if set, else the config's; a relative sqlite path is
 * resolved against .ferry/. Caller frees *out.
 */
int project_store_uri(char **out, const struct project *p, struct error *err);

/* Absolute path of the object cache; caller frees. */
char *project_cache_dir(const struct project *p);

struct project_init_result {
	char *root; /* the new project's root; caller frees */
	int in_git; /* 1 if root is inside a git work tree */
	int schema_version;
};

/*
 * Makes dir (absolute) a project: builds .ferry/ in a temporary sibling directory (config.yaml,
 * .gitignore, cache/, the store with its schema) and renames it into place, so an interrupted
 * init leaves nothing behind. Refuses (ERR_EXISTS) when dir or a parent is already a project.
 */
int project_init(struct project_init_result *out, const char *dir, struct error *err);
void project_init_result_release(struct project_init_result *r);

#endif
