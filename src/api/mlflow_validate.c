/*
 * MLflow's validation rules (mlflow/utils/validation.py at v2.10.2) with its messages: key names,
 * lengths, log-batch limits and duplicate params, all checked before anything is written.
 */
#include "util/common.h"
#include "api/mlflow_internal.h"
#include "util/strbuf.h"

#include <ctype.h>
#include <float.h>
#include <math.h>

#define BAD_CHARACTERS                                                                             \
	"Names may only contain alphanumerics, underscores (_), dashes (-), periods (.), spaces "  \
	"( "                                                                                       \
	"), and slashes (/)."

/* Python's len() of a str: code points, not bytes. */
static size_t utf8_len(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

/* ^[/\w.\- ]*$ (\w is Unicode-aware in Python: any non-ASCII byte is taken as a letter). */
static bool valid_chars(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (!(isalnum(*p) || *p == '_' || *p == '/' || *p == '.' || *p == '-' ||
		      *p == ' ' || *p >= 0x80))
			return false;
	return true;
}

struct comp {
	const char *p;
	size_t len;
};

static bool is_dotdot(const struct comp *c)
{
	return c->len == 2 && c->p[0] == '.' && c->p[1] == '.';
}

/* posixpath.normpath(s) into out. */
static void normpath(struct strbuf *out, const char *s)
{
	size_t lead = strspn(s, "/"), n = 0, alloc = 0;
	struct comp *comps = NULL;
	const char *p = s + lead;

	while (*p) {
		struct comp c = { p, strcspn(p, "/") };

		if (!(c.len == 1 && *p == '.')) {
			if (is_dotdot(&c) && (lead || (n && !is_dotdot(&comps[n - 1])))) {
				if (n)
					n--;
			} else {
				ALLOC_GROW(comps, n + 1, alloc);
				comps[n++] = c;
			}
		}
		p += c.len;
		p += strspn(p, "/");
	}
	strbuf_reset(out);
	if (lead)
		strbuf_addstr(out, lead == 2 ? "//" : "/");
	for (size_t i = 0; i < n; i++) {
		if (i)
			strbuf_addch(out, '/');
		strbuf_add(out, comps[i].p, comps[i].len);
	}
	if (!out->len)
		strbuf_addch(out, '.');
	free(comps);
}

int mlflow_validate_key(const char *kind, const char *key, struct error *err)
{
	struct strbuf norm = STRBUF_INIT;
	int rc = 0;

	if (!valid_chars(key))
		return error_set(err, ERR_INVALID, "Invalid %s name: '%s'. " BAD_CHARACTERS, kind,
				 key);
	normpath(&norm, key);
	if (strcmp(norm.buf, key) || !strcmp(norm.buf, ".") || !strncmp(norm.buf, "..", 2) ||
	    norm.buf[0] == '/')
		rc = error_set(err, ERR_INVALID,
			       "Invalid %s name: '%s'. Names may be treated as files in certain "
			       "cases, and must not resolve to other names when treated as such. "
			       "This name would resolve to '%s'",
			       kind, key, norm.buf);
	strbuf_release(&norm);
	return rc;
}

static int length_limit(const char *entity, size_t limit, const char *value, struct error *err)
{
	size_t len;

	if (!value || (len = utf8_len(value)) <= limit)
		return 0;
	return error_set(err, ERR_INVALID,
			 "%s '%.250s' had length %zu, which exceeded length limit of %zu", entity,
			 value, len, limit);
}

int mlflow_validate_param(const char *key, const char *value, struct error *err)
{
	int rc;

	if ((rc = mlflow_validate_key("parameter", key, err)) < 0 ||
	    (rc = length_limit("Param key", MLFLOW_MAX_KEY_LENGTH, key, err)) < 0)
		return rc;
	return length_limit("Param value", MLFLOW_MAX_PARAM_VALUE, value, err);
}

int mlflow_validate_tag(const char *key, const char *value, struct error *err)
{
	int rc;

	if ((rc = mlflow_validate_key("tag", key, err)) < 0 ||
	    (rc = length_limit("Tag key", MLFLOW_MAX_KEY_LENGTH, key, err)) < 0)
		return rc;
	return length_limit("Tag value", MLFLOW_MAX_TAG_VALUE, value, err);
}

int mlflow_validate_metric(const char *key, struct error *err)
{
	int rc;

	if ((rc = mlflow_validate_key("metric", key, err)) < 0)
		return rc;
	return length_limit("Metric name", MLFLOW_MAX_KEY_LENGTH, key, err);
}

static int batch_limit(const char *entity, size_t limit, size_t n, struct error *err)
{
	if (n <= limit)
		return 0;
	return error_set(err, ERR_INVALID,
			 "A batch logging request can contain at most %zu %s. Got %zu %s. Please "
			 "split up %s across multiple requests and try again.",
			 limit, entity, n, entity, entity);
}

int mlflow_validate_batch_limits(size_t metrics, size_t params, size_t tags, struct error *err)
{
	int rc;

	if ((rc = batch_limit("metrics", MLFLOW_MAX_BATCH_METRICS, metrics, err)) < 0 ||
	    (rc = batch_limit("params", MLFLOW_MAX_BATCH_PARAMS_TAGS, params, err)) < 0 ||
	    (rc = batch_limit("tags", MLFLOW_MAX_BATCH_PARAMS_TAGS, tags, err)) < 0)
		return rc;
	return batch_limit("metrics, params, and tags", MLFLOW_MAX_BATCH_ENTITIES,
			   metrics + params + tags, err);
}

int mlflow_validate_unique_params(const struct store_kv *params, size_t nr, struct error *err)
{
	struct strbuf dupes = STRBUF_INIT;
	int rc = 0;

	/* Batches hold at most 100 params: quadratic is fine. */
	for (size_t i = 0; i < nr; i++) {
		bool seen_before = false, dup = false;

		for (size_t j = 0; j < nr && !seen_before; j++)
			if (j != i && !strcmp(params[i].key, params[j].key)) {
				seen_before = j < i;
				dup = true;
			}
		if (dup && !seen_before)
			strbuf_addf(&dupes, "%s'%s'", dupes.len ? ", " : "", params[i].key);
	}
	if (dupes.len)
		rc = error_set(err, ERR_INVALID,
			       "Duplicate parameter keys have been submitted: [%s]. Please ensure "
			       "the request contains only one param value per param key.",
			       dupes.buf);
	strbuf_release(&dupes);
	return rc;
}

double mlflow_metric_value(double v)
{
	if (isinf(v))
		return v > 0 ? DBL_MAX : -DBL_MAX;
	return v;
}
