/*
 * Fuzzes the monitor.yaml reader: any bytes give a config or a clean error with a message, and a
 * config that was read holds only values its checks allow.
 */
#include "util/common.h"
#include "monitor/monitor_config.h"

#include <math.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct monitor_config c;
	struct error err = ERROR_INIT;

	if (monitor_config_parse(&c, "fuzz.yaml", (const char *)data, size, &err)) {
		if (!err.msg[0])
			BUG("monitor_config_parse failed without a message");
		return 0;
	}
	if (!(c.drift.drift_share > 0 && c.drift.drift_share <= 1) || !c.drift.min_rows)
		BUG("drift share %g or min_rows out of range", c.drift.drift_share);
	for (size_t i = 0; i < c.drift.n_columns; i++)
		if (!c.drift.columns[i].column || c.drift.columns[i].threshold <= 0)
			BUG("column override %zu is incomplete", i);
	for (size_t i = 0; i < c.n_alerts; i++)
		if (!c.alerts[i].name || !c.alerts[i].when)
			BUG("alert %zu lacks a name or a rule", i);
	monitor_config_free(&c);
	return 0;
}
