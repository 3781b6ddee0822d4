/*
 * The pipeline's graph: stage B depends on stage A when one of B's deps is one of A's outs or
 * lies inside (or contains) one. Built once per command: duplicate outputs and cycles are
 * errors naming the stages, and stages come out in a deterministic topological order (file
 * order among independent stages).
 */
#ifndef FERRY_PIPELINE_DAG_H
#define FERRY_PIPELINE_DAG_H

#include <stddef.h>

#include "pipeline/pipeline.h"

struct error;

struct dag {
	size_t n;      /* the pipeline's stage count */
	size_t *order; /* stage indexes, dependencies first; owned */
	size_t **up;   /* up[i]: the stages stage i depends on directly; owned */
	size_t *nup;
	size_t **down; /* down[i]: the stages that depend on stage i directly; owned */
	size_t *ndown;
};
#define DAG_INIT                                                                                   \
	{                                                                                          \
		0, NULL, NULL, NULL, NULL, NULL                                                    \
	}

/*
 * Builds the graph of p. ERR_INVALID for an output declared by two stages (or one inside
 * another's: "'data/x' is an output of both 'a' and 'b'") and for a cycle, naming it in order
 * ("a -> b -> a"). *out untouched on failure.
 */
int dag_build(struct dag *out, const struct pipeline *p, struct error *err);
void dag_release(struct dag *d);

/* 1 if path a is b or lies under it, or b under a ("data" and "data/x.csv"). */
int dag_paths_overlap(const char *a, const char *b);

/*
 * Marks in sel (n flags) the stages named by targets and everything they depend on,
 * transitively; all stages when ntargets is 0. ERR_NOTFOUND for an unknown stage name, with a
 * suggestion.
 */
int dag_select(int *sel, const struct dag *d, const struct pipeline *p, const char *const *targets,
	       size_t ntargets, struct error *err);

#endif
