/*
 * KServe v1 (TF Serving style) :predict requests: {"instances": [...]} or {"inputs": [...]}.
 * Messages follow KServe's model server where it has one ('Expected "instances" to be a list').
 */
#include "util/common.h"
#include "api/serve_internal.h"

int serve_parse_kserve_v1(struct serve_input *out, const char *body, size_t len,
			  struct serve_error *e)
{
	static const char *const keys[] = { "instances", "inputs" };
	uint32_t m[ARRAY_SIZE(keys)], v;
	const char *key;
	struct sj_doc d;
	int dup, rc;

	serve_input_reset(out);
	rc = sj_parse(&d, out, body, len, 0, e);
	if (rc) {
		rc = serve_fail_wrap(e, SERVE_KSERVE_V1, rc,
				     rc == ERR_TOOBIG ? "%s" : "Unrecognized request format: %s");
		goto out;
	}
	if (d.nodes[0].type != SJ_OBJECT) {
		rc = serve_fail(e, SERVE_KSERVE_V1, ERR_INVALID,
				"Unrecognized request format: the body is %s, not an object",
				sj_type_name(&d, 0));
		goto out;
	}
	dup = sj_members(&d, 0, keys, ARRAY_SIZE(keys), m);
	if (dup >= 0) {
		rc = serve_fail(e, SERVE_KSERVE_V1, ERR_INVALID,
				"Unrecognized request format: the key '%s' appears twice",
				keys[dup]);
		goto out;
	}
	/* KServe reads "inputs" when present, else "instances" */
	key = m[1] != SJ_NONE ? "inputs" : "instances";
	v = m[1] != SJ_NONE ? m[1] : m[0];
	if (v == SJ_NONE) {
		rc = serve_fail(e, SERVE_KSERVE_V1, ERR_INVALID,
				"Expected key \"instances\" in request body");
		goto out;
	}
	if (d.nodes[v].type != SJ_ARRAY) {
		rc = serve_fail(e, SERVE_KSERVE_V1, ERR_INVALID, "Expected \"%s\" to be a list",
				key);
		goto out;
	}
	rc = serve_rows(out, &d, v, key, 0, e);
	if (rc)
		rc = serve_fail_wrap(e, SERVE_KSERVE_V1, rc, "%s");
out:
	if (rc)
		serve_input_empty(out);
	return rc;
}
