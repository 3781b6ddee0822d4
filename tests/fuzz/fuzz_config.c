/*
 * Fuzzes the .ferry/config.yaml reader: any bytes give a config or a clean error, and a config
 * that was read survives being written (config_format) and read again unchanged.
 */
#include "util/common.h"
#include "project/config.h"
#include "util/strbuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_same(const struct config *a, const struct config *b)
{
	for (int i = 0; config_keys[i]; i++) {
		char *va = config_get(a, config_keys[i]), *vb = config_get(b, config_keys[i]);

		if ((!va) != (!vb) || (va && strcmp(va, vb)))
			BUG("key '%s' changed in a round trip", config_keys[i]);
		free(va);
		free(vb);
	}
	if (a->nr_remotes != b->nr_remotes)
		BUG("remotes changed in a round trip");
	for (size_t i = 0; i < a->nr_remotes; i++)
		if (strcmp(a->remotes[i].name, b->remotes[i].name) ||
		    strcmp(a->remotes[i].url, b->remotes[i].url))
			BUG("remote '%s' changed in a round trip", a->remotes[i].name);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config cfg, again;
	struct error err = ERROR_INIT;
	struct strbuf text = STRBUF_INIT;

	config_init_defaults(&cfg);
	config_init_defaults(&again);
	if (config_parse(&cfg, "fuzz.yaml", (const char *)data, size, &err) == 0) {
		config_format(&cfg, &text);
		if (config_parse(&again, "again.yaml", text.buf, text.len, &err))
			BUG("a config ferry wrote does not read back: %s", err.msg);
		check_same(&cfg, &again);
	} else if (!err.msg[0]) {
		BUG("config_parse failed without a message");
	}
	strbuf_release(&text);
	config_release(&cfg);
	config_release(&again);
	return 0;
}
