/* libFuzzer target: yaml_load_buffer on arbitrary bytes, then every node's mark and kind. */
#include "util/common.h"
#include "util/yaml.h"

static void walk(struct fy_node *node)
{
	struct fy_node_pair *pair;
	void *it = NULL;
	int line, col;

	yaml_node_mark(node, &line, &col);
	if (line < 0 || col < 0 || !yaml_node_kind_name(node))
		abort();
	for (struct fy_node *item; (item = fy_node_sequence_iterate(node, &it));)
		walk(item);
	while ((pair = fy_node_mapping_iterate(node, &it)))
		walk(fy_node_pair_key(pair)), walk(fy_node_pair_value(pair));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct error err = ERROR_INIT;
	struct fy_document *doc = NULL;

	if (yaml_load_buffer(&doc, "fuzz", (const char *)data, size, &err))
		return strncmp(err.msg, "fuzz:", 5) ? (abort(), 0) : 0; /* errors name the input */
	walk(fy_document_root(doc));
	fy_document_destroy(doc);
	return 0;
}
