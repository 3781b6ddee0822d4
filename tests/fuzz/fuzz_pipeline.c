/* Fuzzes the ferry.yaml parser and the graph built on it: any bytes must give a pipeline or an
 * error with a message, never a crash; a parsed pipeline's paths stay inside the project, and
 * an accepted graph orders every stage exactly once. */
#include "util/common.h"
#include "pipeline/dag.h"
#include "pipeline/pipeline.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Relative, no control characters, no empty, "." or ".." segment. */
static int normalised(const char *path)
{
	const char *seg = path;

	if (!*path || *path == '/')
		return 0;
	for (const char *p = path;; p++) {
		if (*p && (unsigned char)*p < 0x20)
			return 0;
		if (*p == '/' || !*p) {
			size_t n = (size_t)(p - seg);

			if (!n || (n == 1 && seg[0] == '.') || (n == 2 && !strncmp(seg, "..", 2)))
				return 0;
			if (!*p)
				return 1;
			seg = p + 1;
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pipeline p = PIPELINE_INIT;
	struct dag d = DAG_INIT;
	struct error err = ERROR_INIT;

	if (pipeline_parse(&p, "f", (const char *)data, size, &err)) {
		if (!err.msg[0])
			BUG("error without a message");
		return 0;
	}
	for (size_t i = 0; i < p.nr; i++)
		for (size_t k = 0; k < p.stages[i].outs.nr; k++)
			if (!normalised(p.stages[i].outs.v[k]))
				BUG("out '%s' is not a normalised path inside the project",
				    p.stages[i].outs.v[k]);
	if (!dag_build(&d, &p, &err)) {
		char *seen = xcalloc(p.nr + 1, 1);

		for (size_t k = 0; k < p.nr; k++)
			if (d.order[k] >= p.nr || seen[d.order[k]]++)
				BUG("stage order is not a permutation");
		free(seen);
	}
	dag_release(&d);
	pipeline_release(&p);
	return 0;
}
