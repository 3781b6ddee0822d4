/*
 * A model's reference data: the training file by its recorded digest, from the object cache or
 * the recorded path when its bytes still match, and the check that a reference fits a model.
 */
#include "util/common.h"
#include "monitor/reference.h"
#include "util/fs.h"
#include "util/sha256.h"

#define DIGEST_PREFIX "sha256:"

static int recorded(const char **path, const char **hex, const struct model *m, struct error *err)
{
	const json_t *data = json_object_get(m->meta, "data");
	const char *digest = json_string_value(json_object_get(data, "digest"));

	*path = json_string_value(json_object_get(data, "path"));
	if (!digest || strncmp(digest, DIGEST_PREFIX, strlen(DIGEST_PREFIX)) ||
	    strlen(digest) != strlen(DIGEST_PREFIX) + SHA256_HEX_SIZE - 1)
		return error_set(err, ERR_NOTFOUND,
				 "the model records no training data digest: pass the reference "
				 "data with --reference FILE");
	*hex = digest + strlen(DIGEST_PREFIX);
	return 0;
}

/* 1 when path's bytes have the digest hex, 0 when not or unreadable. */
static int matches(const char *path, const char *hex)
{
	char got[SHA256_HEX_SIZE];
	struct error e = ERROR_INIT;

	return !access(path, R_OK) && !sha256_file(got, path, &e) && !strcmp(got, hex);
}

int monitor_reference_locate(char **out, const struct model *m, const char *cache_dir,
			     const char *root, struct error *err)
{
	const char *path = NULL, *hex = NULL;
	char *candidate = NULL;
	int rc;

	if ((rc = recorded(&path, &hex, m, err)))
		return rc;
	if (cache_dir) {
		char sub[128];

		snprintf(sub, sizeof(sub), "objects/sha256/%.2s/%s", hex, hex + 2);
		candidate = fs_path_join(cache_dir, sub);
		if (matches(candidate, hex))
			goto found;
		free(candidate);
	}
	if (path) {
		candidate = path[0] == '/' || !root ? xstrdup(path) : fs_path_join(root, path);
		if (matches(candidate, hex))
			goto found;
		free(candidate);
	}
	return error_set(err, ERR_NOTFOUND,
			 "the model's training data (sha256:%.12s..., recorded as '%s') is neither "
			 "in the object cache nor unchanged at its path: run 'ferry data pull' or "
			 "pass --reference FILE",
			 hex, path ? path : "(no path)");
found:
	*out = candidate;
	return 0;
}

int monitor_reference_read(struct table **out, const struct model *m, const char *path,
			   struct error *err)
{
	const json_t *na = json_object_get(json_object_get(m->meta, "data"), "na_tokens");
	struct table_options o = TABLE_OPTIONS_INIT;
	const char **tokens = NULL;
	int rc;

	if (json_is_array(na) && json_array_size(na)) {
		tokens = xcalloc(json_array_size(na), sizeof(*tokens));
		for (size_t i = 0; i < json_array_size(na); i++) {
			const char *t = json_string_value(json_array_get(na, i));

			tokens[o.n_na_tokens++] = t ? t : "";
		}
		o.na_tokens = tokens;
	}
	rc = table_load(out, path, &o, err);
	free(tokens);
	return rc;
}

int monitor_reference_load(struct table **out, const struct model *m, const char *cache_dir,
			   const char *root, struct error *err)
{
	char *path = NULL;
	int rc = monitor_reference_locate(&path, m, cache_dir, root, err);

	if (!rc)
		rc = monitor_reference_read(out, m, path, err);
	free(path);
	return rc;
}

int monitor_reference_check(const struct model *m, const struct table *t, const char *name,
			    struct error *err)
{
	const struct preprocess *p = &m->pre;

	for (size_t i = 0; i < p->nfeatures; i++) {
		const struct feature *f = &p->features[i];
		size_t col;
		struct error e = ERROR_INIT;

		if (table_find(&col, t, f->name, &e)) {
			char list[200] = "";

			for (size_t j = 0; j < p->nfeatures && strlen(list) < 150; j++)
				snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s",
					 j ? ", " : "", p->features[j].name);
			return error_set(err, ERR_INVALID,
					 "%s: column '%s' is missing: it does not match the model "
					 "(features: %s%s)",
					 name, f->name, list, strlen(list) >= 150 ? ", ..." : "");
		}
		if (f->type != COLUMN_CATEGORICAL && t->cols[col]->type == COLUMN_CATEGORICAL &&
		    t->cols[col]->n_missing < t->nrows)
			return error_set(err, ERR_INVALID,
					 "%s: column '%s' holds text, but the model reads it as %s",
					 name, f->name, column_type_name(f->type));
	}
	return 0;
}
