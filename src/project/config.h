/*
 * The project configuration, .ferry/config.yaml: read strictly (unknown keys and wrong types are
 * errors naming file:line:col, with a suggestion for misspelt keys) into struct config.
 */
#ifndef FERRY_PROJECT_CONFIG_H
#define FERRY_PROJECT_CONFIG_H

#include <stddef.h>

struct error;
struct strbuf;

#define CONFIG_VERSION 1
#define CONFIG_MAX_SIZE (1024 * 1024)

struct config_remote {
	char *name; /* [A-Za-z0-9._-]+ */
	char *url;
};

struct config {
	long version;	      /* format version; only CONFIG_VERSION is understood */
	char *store;	      /* store URI, e.g. "sqlite:ferry.db" (relative to .ferry/) */
	char *cache_dir;      /* object cache directory, relative to .ferry/ */
	char *cache_link;     /* link order for workspace files, e.g. "reflink,copy" */
	char *default_remote; /* name of the remote push/pull use without -r; NULL if unset */
	struct config_remote *remotes;
	size_t nr_remotes, alloc_remotes;
};

/* Zeroed with the defaults a key left out of the file takes. */
void config_init_defaults(struct config *cfg);

/*
 * Parses YAML text into cfg (which must have been initialised with config_init_defaults);
 * name is used in messages ("NAME:LINE:COL: ..."). On error cfg keeps its prior values.
 */
int config_parse(struct config *cfg, const char *name, const char *buf, size_t len,
		 struct error *err);

/* Reads and parses path; ERR_NOTFOUND if it does not exist. */
int config_load(struct config *cfg, const char *path, struct error *err);

/* Frees the strings cfg owns and resets it to zeroes. */
void config_release(struct config *cfg);

/* The commented config.yaml that `ferry init` writes; a static string. */
const char *config_default_text(void);

/* Known keys in dotted form, NULL-terminated: for `ferry config` and suggestions. */
extern const char *const config_keys[];

/* The value of a dotted key as a string (caller frees), or NULL for an unknown or unset key. */
char *config_get(const struct config *cfg, const char *key);

/* The remote named name, or NULL. */
const struct config_remote *config_remote_find(const struct config *cfg, const char *name);
/* 0 if name is a valid remote name, ERR_INVALID with a message otherwise. */
int config_remote_name_check(const char *name, struct error *err);
/* Adds a remote (ERR_EXISTS if the name is taken); the first remote becomes the default. */
int config_remote_add(struct config *cfg, const char *name, const char *url, struct error *err);
/* Removes a remote (ERR_NOTFOUND if absent); clears the default if it was that remote. */
int config_remote_remove(struct config *cfg, const char *name, struct error *err);

/* Renders cfg as commented YAML (what config_save writes); appends to out. */
void config_format(const struct config *cfg, struct strbuf *out);
/* Writes cfg to path atomically. Comments a user added to the file are not kept. */
int config_save(const struct config *cfg, const char *path, struct error *err);

#endif
