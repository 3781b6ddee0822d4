/* Token lists and metric lines for the model commands. */
#include "util/common.h"
#include "cli/ml_common.h"
#include "cli/cli.h"
#include "store/store.h"

void ml_tokens_split(struct ml_tokens *t, const char *list)
{
	char *copy = xstrdup(list);

	ALLOC_GROW(t->copies, t->ncopies + 1, t->copies_alloc);
	t->copies[t->ncopies++] = copy;
	for (char *p = copy;;) {
		char *comma = strchr(p, ',');

		ALLOC_GROW(t->v, t->nr + 1, t->alloc);
		t->v[t->nr++] = p;
		if (!comma)
			break;
		*comma = '\0';
		p = comma + 1;
	}
}

void ml_tokens_release(struct ml_tokens *t)
{
	for (size_t i = 0; i < t->ncopies; i++)
		free(t->copies[i]);
	free(t->copies);
	free(t->v);
	*t = (struct ml_tokens)ML_TOKENS_INIT;
}

void ml_print_metrics(const json_t *metrics, const json_t *sd)
{
	const char *key;
	const json_t *v;

	json_object_foreach((json_t *)metrics, key, v) {
		const json_t *s = sd ? json_object_get(sd, key) : NULL;

		if (!json_is_number(v))
			continue;
		printf("metric.%s=%.6g\n", key, json_number_value(v));
		if (s)
			printf("metric.%s.sd=%.6g\n", key, json_number_value(s));
	}
}

int ml_store_profile(struct ctx *ctx, const char *digest, const json_t *profile, int64_t *updated)
{
	char *text;
	int rc;

	*updated = 0;
	rc = cli_open_if_project(ctx);
	if (rc || !ctx->store)
		return rc;
	text = json_dumps(profile, JSON_COMPACT);
	rc = store_dataset_set_profile(ctx->store, updated, digest, text, &ctx->err);
	free(text);
	return rc;
}
