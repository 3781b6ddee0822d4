/* Fuzzes the manifest parser: a clean error, or a manifest that serialises back to the input. */
#include "util/common.h"
#include "data/manifest.h"
#include "util/strbuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct manifest m = MANIFEST_INIT;
	struct error err = ERROR_INIT;
	struct strbuf out = STRBUF_INIT;

	if (manifest_parse(&m, "fuzz", (const char *)data, size, &err) == 0) {
		manifest_serialize(&m, &out);
		if (out.len != size || memcmp(out.buf, data, size))
			BUG("manifest round trip changed the bytes");
		for (size_t i = 0; i < m.nr; i++)
			if (manifest_find(&m, m.items[i].path) != &m.items[i])
				BUG("manifest_find missed entry %zu", i);
	} else if (!err.msg[0]) {
		BUG("manifest_parse failed without a message");
	}
	strbuf_release(&out);
	manifest_release(&m);
	return 0;
}
