/*
 * The monitoring configuration: a YAML file (monitor.yaml at the project root by default, or
 * --config FILE) with per-column drift overrides, alert rules and where alerts go:
 *
 *     drift:
 *       share: 0.5            # dataset drift when the share of drifted columns is >= this
 *       test: default         # every column: default | ks | chisquare | z | wasserstein | ...
 *       threshold: 0.1        # every column (default: the test's own)
 *       min_rows: 30          # fewer values on a side: "insufficient data"
 *       columns:
 *         total_day_minutes: {test: ks, threshold: 0.01}
 *         state: {skip: true}
 *     window: 1000            # ferry monitor run: rows per window (or since: 1h)
 *     alerts:
 *       - name: data-drift
 *         when: drift_share >= 0.5
 *       - name: quality
 *         when: f1 < 0.7
 *     webhook:
 *       url: http://127.0.0.1:9000/hook
 *       timeout: 5s
 *
 * Every key is optional; unknown keys are errors naming file:line:column and the keys allowed.
 * Ownership: a config is the caller's (monitor_config_free); all strings are owned by it, and
 * drift.columns points into it.
 */
#ifndef FERRY_MONITOR_MONITOR_CONFIG_H
#define FERRY_MONITOR_MONITOR_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "monitor/drift_report.h"

struct error;

struct monitor_alert_rule {
	char *name; /* unique within the file */
	char *when; /* the rule text, parsed by alerts.h */
};

struct monitor_config {
	struct drift_options drift; /* drift.columns/n_columns point into this config */
	uint64_t window_rows;	    /* 0: not set */
	int64_t since_ms;	    /* window as a duration; 0: not set */
	struct monitor_alert_rule *alerts;
	size_t n_alerts;
	char *webhook_url; /* NULL: none */
	unsigned webhook_timeout_ms;
};

/* The defaults (no file): Evidently's drift options, no alerts, no webhook. */
void monitor_config_init(struct monitor_config *c);

/*
 * Parses the YAML file at path into *c (initialised first). ERR_NOTFOUND when the file does not
 * exist (callers decide whether that matters), ERR_INVALID "FILE:LINE:COL: ..." for bad content.
 */
int monitor_config_load(struct monitor_config *c, const char *path, struct error *err);

/* Same over len bytes at text; name is used in messages (for the fuzz target and tests). */
int monitor_config_parse(struct monitor_config *c, const char *name, const char *text, size_t len,
			 struct error *err);

void monitor_config_free(struct monitor_config *c);

#endif
