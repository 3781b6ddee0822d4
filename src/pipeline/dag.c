/* The stage graph: edges from outs to deps, duplicate outputs, cycles, topological order. */
#include "util/common.h"
#include "pipeline/dag.h"
#include "util/strbuf.h"
#include "util/suggest.h"

int dag_paths_overlap(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), n = la < lb ? la : lb;

	if (strncmp(a, b, n))
		return 0;
	return la == lb || (la < lb ? b[la] == '/' : a[lb] == '/');
}

void dag_release(struct dag *d)
{
	for (size_t i = 0; i < d->n; i++) {
		if (d->up)
			free(d->up[i]);
		if (d->down)
			free(d->down[i]);
	}
	free(d->up);
	free(d->nup);
	free(d->down);
	free(d->ndown);
	free(d->order);
	memset(d, 0, sizeof(*d));
}

static void add_edge(struct dag *d, size_t from, size_t to)
{
	for (size_t k = 0; k < d->nup[to]; k++)
		if (d->up[to][k] == from)
			return;
	d->up[to] = xreallocarray(d->up[to], d->nup[to] + 1, sizeof(size_t));
	d->up[to][d->nup[to]++] = from;
	d->down[from] = xreallocarray(d->down[from], d->ndown[from] + 1, sizeof(size_t));
	d->down[from][d->ndown[from]++] = to;
}

static int check_outs(const struct pipeline *p, struct error *err)
{
	for (size_t i = 0; i < p->nr; i++)
		for (size_t a = 0; a < p->stages[i].outs.nr; a++)
			for (size_t j = i + 1; j < p->nr; j++)
				for (size_t b = 0; b < p->stages[j].outs.nr; b++) {
					const char *x = p->stages[i].outs.v[a];
					const char *y = p->stages[j].outs.v[b];

					if (dag_paths_overlap(x, y))
						return error_set(
						    err, ERR_INVALID,
						    "%s: '%s' is an output of both stage '%s' and "
						    "stage '%s'%s%s%s",
						    p->file, strlen(x) <= strlen(y) ? x : y,
						    p->stages[i].name, p->stages[j].name,
						    strcmp(x, y) ? " (as '" : "",
						    strcmp(x, y) ? (strlen(x) <= strlen(y) ? y : x)
								 : "",
						    strcmp(x, y) ? "')" : "");
				}
	return 0;
}

/* Depth-first search; colour 0 unvisited, 1 on the stack, 2 done. */
static int visit(struct dag *d, const struct pipeline *p, size_t i, int *colour, size_t *stack,
		 size_t depth, size_t *norder, struct error *err)
{
	int rc;

	colour[i] = 1;
	stack[depth] = i;
	for (size_t k = 0; k < d->nup[i]; k++) {
		size_t u = d->up[i][k];

		if (colour[u] == 1) {
			struct strbuf sb = STRBUF_INIT;
			size_t start = depth;

			while (stack[start] != u)
				start--;
			/* the cycle in data-flow order: u's outs feed ... feed u */
			strbuf_addstr(&sb, p->stages[u].name);
			for (size_t s = depth + 1; s-- > start;)
				strbuf_addf(&sb, " -> %s", p->stages[stack[s]].name);
			rc = error_set(err, ERR_INVALID,
				       "%s: the stages form a cycle: %s (each one's outs are the "
				       "next one's deps)",
				       p->file, sb.buf);
			strbuf_release(&sb);
			return rc;
		}
		if (!colour[u] && (rc = visit(d, p, u, colour, stack, depth + 1, norder, err)))
			return rc;
	}
	colour[i] = 2;
	d->order[(*norder)++] = i;
	return 0;
}

int dag_build(struct dag *out, const struct pipeline *p, struct error *err)
{
	struct dag d = DAG_INIT;
	int *colour = NULL;
	size_t *stack = NULL, norder = 0;
	int rc = check_outs(p, err);

	if (rc)
		return rc;
	d.n = p->nr;
	d.order = xcalloc(p->nr + 1, sizeof(size_t));
	d.up = xcalloc(p->nr + 1, sizeof(size_t *));
	d.nup = xcalloc(p->nr + 1, sizeof(size_t));
	d.down = xcalloc(p->nr + 1, sizeof(size_t *));
	d.ndown = xcalloc(p->nr + 1, sizeof(size_t));
	for (size_t j = 0; j < p->nr; j++)
		for (size_t a = 0; a < p->stages[j].deps.nr; a++)
			for (size_t i = 0; i < p->nr; i++)
				for (size_t b = 0; b < p->stages[i].outs.nr; b++)
					if (dag_paths_overlap(p->stages[j].deps.v[a],
							      p->stages[i].outs.v[b])) {
						if (i == j) {
							rc = error_set(
							    err, ERR_INVALID,
							    "%s: the stages form a cycle: %s -> %s "
							    "('%s' is its own dep)",
							    p->file, p->stages[i].name,
							    p->stages[i].name,
							    p->stages[j].deps.v[a]);
							goto out;
						}
						add_edge(&d, i, j);
					}
	colour = xcalloc(p->nr + 1, sizeof(int));
	stack = xcalloc(p->nr + 1, sizeof(size_t));
	for (size_t i = 0; !rc && i < p->nr; i++)
		if (!colour[i])
			rc = visit(&d, p, i, colour, stack, 0, &norder, err);
out:
	free(colour);
	free(stack);
	if (rc) {
		dag_release(&d);
		return rc;
	}
	*out = d;
	return 0;
}

static void mark(int *sel, const struct dag *d, size_t i)
{
	if (sel[i])
		return;
	sel[i] = 1;
	for (size_t k = 0; k < d->nup[i]; k++)
		mark(sel, d, d->up[i][k]);
}

int dag_select(int *sel, const struct dag *d, const struct pipeline *p, const char *const *targets,
	       size_t ntargets, struct error *err)
{
	memset(sel, 0, d->n * sizeof(*sel));
	for (size_t t = 0; t < ntargets; t++) {
		size_t i;

		for (i = 0; i < p->nr; i++)
			if (!strcmp(p->stages[i].name, targets[t]))
				break;
		if (i == p->nr) {
			const char **names = xcalloc(p->nr + 1, sizeof(char *));
			const char *s;
			int rc;

			for (size_t k = 0; k < p->nr; k++)
				names[k] = p->stages[k].name;
			s = suggest_closest(targets[t], names, p->nr);
			rc = s ? error_set(err, ERR_NOTFOUND,
					   "no stage '%s' in %s; did you mean '%s'?", targets[t],
					   p->file, s)
			       : error_set(err, ERR_NOTFOUND, "no stage '%s' in %s", targets[t],
					   p->file);
			free(names);
			return rc;
		}
		mark(sel, d, i);
	}
	for (size_t i = 0; !ntargets && i < d->n; i++)
		sel[i] = 1;
	return 0;
}
