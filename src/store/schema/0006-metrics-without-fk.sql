-- metrics without its foreign key to runs: the key was checked once per point (a seek into
-- runs by the 32-character id), a fifth of a log-batch insert, while every writer of metrics
-- has already checked the run inside the same transaction (log-batch: active; log-metric and
-- ferry's own logging also write latest_metrics, whose key stays and refuses a missing run).
-- A trigger does the ON DELETE CASCADE the key did; store check looks for orphans itself.
CREATE TABLE metrics_new (
	run_id TEXT NOT NULL,
	key TEXT NOT NULL CHECK (key <> ''),
	step INTEGER NOT NULL DEFAULT 0,
	timestamp INTEGER NOT NULL,
	value REAL NOT NULL,
	is_nan INTEGER NOT NULL DEFAULT 0 CHECK (is_nan IN (0, 1)),
	PRIMARY KEY (run_id, key, step, timestamp, value, is_nan)
) WITHOUT ROWID;
INSERT INTO metrics_new SELECT run_id, key, step, timestamp, value, is_nan FROM metrics;
DROP TABLE metrics;
ALTER TABLE metrics_new RENAME TO metrics;

CREATE TRIGGER runs_delete_metrics AFTER DELETE ON runs BEGIN
	DELETE FROM metrics WHERE run_id = old.run_id;
END;
