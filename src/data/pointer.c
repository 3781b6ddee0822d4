/* Pointer files (PATH.ferry): strict YAML reading and canonical writing. */
#include "util/common.h"
#include "data/pointer.h"
#include "util/fs.h"
#include "util/strbuf.h"
#include "util/suggest.h"
#include "util/yaml.h"

#include <libfyaml.h>

static const char *const pointer_keys[] = { "digest", "size", "files", "desc" };

int digest_parse(char out_hex[SHA256_HEX_SIZE], const char *s)
{
	const char *hex;

	if (!skip_prefix(s, "sha256:", &hex) || strlen(hex) != 64)
		return ERR_INVALID;
	for (int i = 0; i < 64; i++)
		if (!((hex[i] >= '0' && hex[i] <= '9') || (hex[i] >= 'a' && hex[i] <= 'f')))
			return ERR_INVALID;
	memcpy(out_hex, hex, SHA256_HEX_SIZE);
	return 0;
}

/* The scalar text of node as a new string, or NULL if node is not a non-null scalar. */
static char *scalar_dup(struct fy_node *node)
{
	const char *text;
	size_t len;

	if (!node || !fy_node_is_scalar(node) || fy_node_is_null(node))
		return NULL;
	text = fy_node_get_scalar(node, &len);
	if (memchr(text, '\0', len))
		return NULL;
	return xstrndup(text, len);
}

static int parse_count(uint64_t *out, struct fy_node *node, struct fy_node *key, const char *field,
		       const char *name, struct error *err)
{
	char *text = scalar_dup(node), *end;
	unsigned long long v;
	int rc = 0;

	if (!text || !*text || text[0] == '-' || text[0] == '+') {
		rc = yaml_error_at(err, name, node ? node : key,
				   "'%s' must be a non-negative integer, got %s", field,
				   text ? text : (node ? yaml_node_kind_name(node) : "nothing"));
		goto out;
	}
	errno = 0;
	v = strtoull(text, &end, 10);
	if (errno || *end)
		rc = yaml_error_at(err, name, node, "'%s' must be a non-negative integer, got '%s'",
				   field, text);
	else
		*out = v;
out:
	free(text);
	return rc;
}

static int unknown_key(struct error *err, const char *name, struct fy_node *key, const char *k)
{
	const char *best = suggest_closest(k, pointer_keys, ARRAY_SIZE(pointer_keys));

	if (best)
		return yaml_error_at(err, name, key, "unknown key '%s'; did you mean '%s'?", k,
				     best);
	return yaml_error_at(err, name, key,
			     "unknown key '%s' (expected digest, size, files, desc)", k);
}

static int parse_pair(struct pointer *p, unsigned *seen, struct fy_node_pair *pair,
		      const char *name, struct error *err)
{
	struct fy_node *key = fy_node_pair_key(pair), *value = fy_node_pair_value(pair);
	char *k = scalar_dup(key), *v = NULL;
	int rc = 0;

	if (!k) {
		rc = yaml_error_at(err, name, key, "keys must be plain strings");
	} else if (!strcmp(k, "digest")) {
		v = scalar_dup(value);
		if (!v || digest_parse(p->hex, v))
			rc = yaml_error_at(
			    err, name, value ? value : key,
			    "'digest' must be sha256: followed by 64 lowercase hex digits, "
			    "got '%s'",
			    v ? v : "");
		*seen |= 1;
	} else if (!strcmp(k, "size")) {
		rc = parse_count(&p->size, value, key, "size", name, err);
		*seen |= 2;
	} else if (!strcmp(k, "files")) {
		rc = parse_count(&p->nfiles, value, key, "files", name, err);
		p->is_dir = 1;
	} else if (!strcmp(k, "desc")) {
		v = scalar_dup(value);
		if (!v)
			rc = yaml_error_at(err, name, value ? value : key,
					   "'desc' must be a string");
		free(p->desc);
		p->desc = v;
		v = NULL;
	} else {
		rc = unknown_key(err, name, key, k);
	}
	free(k);
	free(v);
	return rc;
}

int pointer_parse(struct pointer *out, const char *name, const char *buf, size_t len,
		  struct error *err)
{
	struct fy_document *doc = NULL;
	struct pointer p = POINTER_INIT;
	struct fy_node *root;
	struct fy_node_pair *pair;
	void *iter = NULL;
	unsigned seen = 0;
	int rc;

	rc = yaml_load_buffer(&doc, name, buf, len, err);
	if (rc)
		return rc;
	root = fy_document_root(doc);
	if (!root || !fy_node_is_mapping(root)) {
		rc = error_set(err, ERR_INVALID,
			       "%s: not a ferry pointer file: expected a mapping with 'digest' and "
			       "'size'",
			       name);
		goto out;
	}
	while (!rc && (pair = fy_node_mapping_iterate(root, &iter)))
		rc = parse_pair(&p, &seen, pair, name, err);
	if (!rc && !(seen & 1))
		rc = error_set(err, ERR_INVALID, "%s: missing 'digest'", name);
	if (!rc && !(seen & 2))
		rc = error_set(err, ERR_INVALID, "%s: missing 'size'", name);
	if (!rc) {
		pointer_release(out);
		*out = p;
		memset(&p, 0, sizeof(p));
	}
out:
	pointer_release(&p);
	fy_document_destroy(doc);
	return rc;
}

int pointer_load(struct pointer *out, const char *pointer_path, struct error *err)
{
	struct strbuf buf = STRBUF_INIT;
	int rc = fs_read_file(&buf, pointer_path, POINTER_MAX_SIZE, err);

	if (!rc)
		rc = pointer_parse(out, pointer_path, buf.buf, buf.len, err);
	strbuf_release(&buf);
	return rc;
}

void pointer_format(const struct pointer *p, struct strbuf *out)
{
	strbuf_addstr(out, "# ferry data pointer: commit this file; 'ferry data checkout' "
			   "restores the data\n");
	strbuf_addf(out, "digest: sha256:%s\n", p->hex);
	strbuf_addf(out, "size: %" PRIu64 "\n", p->size);
	if (p->is_dir)
		strbuf_addf(out, "files: %" PRIu64 "\n", p->nfiles);
	if (p->desc) {
		strbuf_addstr(out, "desc: ");
		yaml_add_quoted(out, p->desc);
		strbuf_addch(out, '\n');
	}
}

int pointer_write(const struct pointer *p, const char *pointer_path, struct error *err)
{
	struct strbuf buf = STRBUF_INIT;
	int rc;

	pointer_format(p, &buf);
	rc = fs_write_atomic(pointer_path, buf.buf, buf.len, 0644, err);
	strbuf_release(&buf);
	return rc;
}

void pointer_release(struct pointer *p)
{
	if (!p)
		return;
	free(p->desc);
	memset(p, 0, sizeof(*p));
}
