/*
 * Helpers the model commands (train, eval, predict) and `data profile` share: comma-separated
 * token lists and metric lines.
 */
#ifndef FERRY_CLI_ML_COMMON_H
#define FERRY_CLI_ML_COMMON_H

#include <jansson.h>
#include <stddef.h>

/* Tokens split from comma-separated option values; owns copies of the strings. */
struct ml_tokens {
	const char **v;
	size_t nr, alloc;
	char **copies;
	size_t ncopies, copies_alloc;
};

#define ML_TOKENS_INIT                                                                             \
	{                                                                                          \
		NULL, 0, 0, NULL, 0, 0                                                             \
	}

/* Appends the tokens of "a,b,c" (empty tokens kept: ",," means an empty NA token too). */
void ml_tokens_split(struct ml_tokens *t, const char *list);
void ml_tokens_release(struct ml_tokens *t);

/*
 * Prints "metric.NAME=VALUE" for each number in metrics (%.6g), followed by
 * "metric.NAME.sd=VALUE" when sd (cross-validation) has it. Other values (the confusion matrix,
 * per-class scores) are left to --json.
 */
void ml_print_metrics(const json_t *metrics, const json_t *sd);

struct ctx;

/*
 * When run inside a project, stores profile (a dataset profile) in the metadata store with the
 * recorded data versions of digest ("sha256:..."), the reference for drift checks; *updated is
 * how many versions took it (0 outside a project or for data not added with `ferry data add`).
 */
int ml_store_profile(struct ctx *ctx, const char *digest, const json_t *profile, int64_t *updated);

#endif
