-- Monitoring (store/store_monitor.h): one row per `ferry monitor run` pass over a window of
-- production traffic, the alert rules' state per model, and the alert events (firing,
-- resolved) with how their webhook delivery went. Model names are plain text, not foreign keys
-- to registered_models: a model served from a directory is not registered, and the monitoring
-- history outlives a deleted model.

CREATE TABLE monitor_results (
	id INTEGER PRIMARY KEY,
	model TEXT NOT NULL,
	version INTEGER,			-- NULL when unknown
	digest TEXT,
	window_start INTEGER,			-- time_ms of the window's first and last prediction;
	window_end INTEGER,			-- NULL for an empty window
	rows INTEGER NOT NULL CHECK (rows >= 0),
	labelled INTEGER NOT NULL CHECK (labelled >= 0 AND labelled <= rows),
	skipped INTEGER NOT NULL DEFAULT 0 CHECK (skipped >= 0),
	drift_share REAL,			-- NULL when no column was tested
	n_tested INTEGER NOT NULL DEFAULT 0 CHECK (n_tested >= 0),
	n_drifted INTEGER NOT NULL DEFAULT 0 CHECK (n_drifted >= 0 AND n_drifted <= n_tested),
	verdict TEXT NOT NULL CHECK (verdict IN ('drift', 'no_drift', 'insufficient_data')),
	drifted_columns TEXT NOT NULL DEFAULT '[]',	-- JSON array of column names
	quality_json TEXT,			-- live quality on the labelled rows, JSON object
	report_json TEXT,			-- the whole report, JSON object
	created_time INTEGER NOT NULL
);
CREATE INDEX monitor_results_model ON monitor_results (model, created_time, id);

-- Where each (model, rule) stands, so that a run notifies on transitions only. streak counts
-- the consecutive windows that argued for the other state (see monitor/alerts.h); when_text is
-- the rule as last evaluated: a changed rule starts again from 'ok'.
CREATE TABLE monitor_alert_state (
	model TEXT NOT NULL,
	rule TEXT NOT NULL,
	when_text TEXT NOT NULL,
	firing INTEGER NOT NULL CHECK (firing IN (0, 1)),
	streak INTEGER NOT NULL DEFAULT 0 CHECK (streak >= 0),
	last_value REAL,
	since_time INTEGER NOT NULL,		-- when the current state began
	updated_time INTEGER NOT NULL,
	PRIMARY KEY (model, rule)
);

CREATE TABLE monitor_alert_events (
	id INTEGER PRIMARY KEY,
	model TEXT NOT NULL,
	version INTEGER,
	rule TEXT NOT NULL,
	when_text TEXT NOT NULL,
	state TEXT NOT NULL CHECK (state IN ('firing', 'resolved')),
	metric TEXT,				-- the condition that decided, and its value
	value REAL,
	threshold REAL,
	result_id INTEGER REFERENCES monitor_results ON DELETE SET NULL,
	event_time INTEGER NOT NULL,
	webhook_status TEXT NOT NULL DEFAULT 'none'
		CHECK (webhook_status IN ('none', 'pending', 'delivered', 'failed')),
	webhook_detail TEXT			-- the HTTP status or the error
);
CREATE INDEX monitor_alert_events_model ON monitor_alert_events (model, event_time, id);
