/* Fuzzes the .ferry/config.yaml reader: any bytes must give a config or a clean error. */
#include "util/common.h"
#include "project/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config cfg;
	struct error err = ERROR_INIT;
	char *v;

	config_init_defaults(&cfg);
	if (config_parse(&cfg, "fuzz.yaml", (const char *)data, size, &err) == 0) {
		for (int i = 0; config_keys[i]; i++) {
			v = config_get(&cfg, config_keys[i]);
			if (!v)
				BUG("known key '%s' has no value", config_keys[i]);
			free(v);
		}
	} else if (!err.msg[0]) {
		BUG("config_parse failed without a message");
	}
	config_release(&cfg);
	return 0;
}
