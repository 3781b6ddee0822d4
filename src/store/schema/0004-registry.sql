-- The model registry as ferry's commands and MLflow's REST API use it (store/store_registry.h).
-- Versions keep a snapshot of the metrics they were registered with and their signature, so a
-- deleted run does not take them along. model_alias_history (0001, never written by a release)
-- becomes model_events: alias moves, rollbacks and stage transitions in one ordered history, so
-- `ferry models history` is one query and rollback can find the move it undoes.

ALTER TABLE model_versions ADD COLUMN metrics_json TEXT;
ALTER TABLE model_versions ADD COLUMN signature_json TEXT;

-- The greatest version number a model has ever given, so that a deleted version's number is
-- never given again (MLflow keeps deleted versions as hidden rows for the same reason). The
-- history cannot tell: a version deleted before any alias or stage change left no event.
ALTER TABLE registered_models ADD COLUMN last_version INTEGER NOT NULL DEFAULT 0
	CHECK (last_version >= 0);
UPDATE registered_models SET last_version = (SELECT coalesce(max(version), 0)
	FROM model_versions v WHERE v.name = registered_models.name);

DROP TABLE model_alias_history;

-- Plain version numbers, not foreign keys to model_versions: the history outlives deleted
-- versions. Alias events: from_version NULL when the alias was created, to_version NULL when it
-- was removed; undone_by is the rollback event that undid a move. Stage events: version,
-- from_stage, to_stage.
CREATE TABLE model_events (
	id INTEGER PRIMARY KEY,
	name TEXT NOT NULL REFERENCES registered_models ON DELETE CASCADE ON UPDATE CASCADE,
	kind TEXT NOT NULL CHECK (kind IN ('alias_move', 'alias_rollback', 'stage')),
	alias TEXT,
	from_version INTEGER,
	to_version INTEGER,
	undone_by INTEGER REFERENCES model_events ON DELETE SET NULL,
	version INTEGER,
	from_stage TEXT CHECK (from_stage IN ('None', 'Staging', 'Production', 'Archived')),
	to_stage TEXT CHECK (to_stage IN ('None', 'Staging', 'Production', 'Archived')),
	user_id TEXT,
	changed_time INTEGER NOT NULL,
	reason TEXT,
	CHECK (kind = 'stage' OR (alias IS NOT NULL AND
		(from_version IS NOT NULL OR to_version IS NOT NULL))),
	CHECK (kind <> 'stage' OR (version IS NOT NULL AND from_stage IS NOT NULL AND
		to_stage IS NOT NULL))
);
CREATE INDEX model_events_name ON model_events (name, id);
CREATE INDEX model_events_alias ON model_events (name, alias, id);
