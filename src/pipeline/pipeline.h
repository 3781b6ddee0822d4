/*
 * ferry.yaml: the pipeline's stages (a shell command or one of ferry's own steps, with deps,
 * params, outs and metrics), parsed with "ferry.yaml:LINE:COL: ..." errors naming the stage and
 * key. Paths are kept relative to the project root, lexically normalised, so stages in different
 * wdirs can be matched by the DAG. Top-level keys other than `stages` that belong to later
 * modules (`retrain`) are kept untouched as YAML nodes.
 */
#ifndef FERRY_PIPELINE_PIPELINE_H
#define FERRY_PIPELINE_PIPELINE_H

#include <jansson.h>
#include <libfyaml.h>
#include <stddef.h>

struct error;

#define PIPELINE_FILE "ferry.yaml"
#define PIPELINE_MAX_SIZE (4u << 20)

enum stage_kind {
	STAGE_CMD,	/* cmd: one or more shell commands, run by /bin/sh -c in wdir */
	STAGE_TRAIN,	/* train: ferry's training (ml/train.h), options as `ferry train` */
	STAGE_EVAL,	/* eval: ferry's evaluation of a model on a CSV (ml/score.h) */
	STAGE_REGISTER, /* register: a model directory as the next version of a name */
};
const char *stage_kind_name(enum stage_kind kind);

/* A params dependency: key (dotted, e.g. "train.C") of a YAML file (relative to the root). */
struct stage_param {
	char *file;
	char *key;
};

struct path_list {
	char **v; /* root-relative, normalised; owned */
	size_t nr, alloc;
};

struct stage {
	char *name;
	enum stage_kind kind;
	char **cmd; /* STAGE_CMD: the commands, in order; owned */
	size_t ncmd;
	char *wdir;		  /* root-relative working directory, "" for the root */
	struct path_list deps;	  /* for built-in steps, the step's inputs are added here */
	struct path_list outs;	  /* outs and metrics: every file the stage produces */
	struct path_list metrics; /* subset of outs: JSON metrics files */
	struct stage_param *params;
	size_t nparams;
	/*
	 * Built-in steps: the step's options, as a JSON object of strings, numbers and string
	 * arrays, paths already root-relative. NULL for STAGE_CMD. Owned.
	 */
	json_t *step;
	/* What the stage does, as canonical text: its commands or its step's options (the lock's cmd). */
	char *cmd_text;
	int line, col; /* where the stage's name is in ferry.yaml */
};

struct pipeline {
	char *file;	      /* the name used in messages, e.g. "ferry.yaml"; owned */
	struct stage *stages; /* in file order; owned */
	size_t nr;
	struct fy_document *doc; /* the parsed file; owned */
	/* The top-level `retrain:` node, untouched (borrowed from doc); NULL if absent. */
	struct fy_node *retrain;
};
#define PIPELINE_INIT                                                                              \
	{                                                                                          \
		NULL, NULL, 0, NULL, NULL                                                          \
	}

/*
 * Parses ferry.yaml bytes; name is used in messages ("NAME:LINE:COL: stage 'x': ..."). Rejects
 * unknown keys (with a suggestion), a stage with neither or both of cmd and a step, empty
 * commands, absolute paths or paths leaving the project, outs listed twice in one stage, and
 * step options of the wrong type. On success *out (PIPELINE_INIT) is filled; on failure it is
 * untouched. ERR_INVALID for bad content.
 */
int pipeline_parse(struct pipeline *out, const char *name, const char *buf, size_t len,
		   struct error *err);

/* Reads and parses root/ferry.yaml; ERR_NOTFOUND when there is none. */
int pipeline_load(struct pipeline *out, const char *root, struct error *err);

void pipeline_release(struct pipeline *p);

/* The stage called name, or NULL. */
const struct stage *pipeline_find(const struct pipeline *p, const char *name);

/*
 * Normalises rel (relative to the root-relative directory wdir) to a root-relative path:
 * "." and ".." resolved, "//" collapsed. ERR_INVALID (naming what) for an absolute path, one
 * that leaves the project, or one inside .ferry/ or .git/. Caller frees *out.
 */
int pipeline_path(char **out, const char *wdir, const char *rel, const char *what,
		  struct error *err);

#endif
