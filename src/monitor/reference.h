/*
 * The reference data of a model: the rows it was trained on, found through the training data's
 * digest recorded in model.json ("data": {"path", "digest", ...}), so that monitoring compares
 * production with exactly the data version the model learned from.
 *
 * Lookup order: the object cache (cache_dir/objects/sha256/<2>/<62>, read-only, verified),
 * then the recorded path (relative paths against root), accepted only when its SHA-256 equals
 * the recorded digest. Neither: ERR_NOTFOUND naming the digest, the path and what to do ("ferry
 * data pull", or pass --reference FILE).
 *
 * Ownership: *out is the caller's (table_free). Loading uses the model's NA tokens when it
 * recorded them.
 */
#ifndef FERRY_MONITOR_REFERENCE_H
#define FERRY_MONITOR_REFERENCE_H

#include "ml/model.h"
#include "table/table.h"

struct error;

/* cache_dir: the project's object cache (project_cache_dir), or NULL to skip it; root: NULL
 * means the current directory. */
int monitor_reference_load(struct table **out, const struct model *m, const char *cache_dir,
			   const char *root, struct error *err);

/*
 * The file monitor_reference_load reads (a new string, the caller's), found and verified the
 * same way: for callers that stream it (quality metrics). Same errors.
 */
int monitor_reference_locate(char **out, const struct model *m, const char *cache_dir,
			     const char *root, struct error *err);

/* Loads the file at path (a located reference) with the NA tokens the model recorded. */
int monitor_reference_read(struct table **out, const struct model *m, const char *path,
			   struct error *err);

/*
 * Checks that t (read from name) can be scored by m: every feature column is present, and a
 * feature the model reads as numbers is not text. ERR_INVALID naming the file, the column and
 * the model's features otherwise ("ref.csv: column 'age' is missing (the model reads age,
 * plan, ...)").
 */
int monitor_reference_check(const struct model *m, const struct table *t, const char *name,
			    struct error *err);

#endif
