-- ferry's metadata schema: experiment tracking, artifacts, data lineage, the model registry and
-- an inference feedback placeholder, modelled on MLflow 2.x's SQL store so its REST API maps
-- onto it table by table. store_sqlite.c applies this file in one transaction and records it
-- in schema_version: no BEGIN, COMMIT or PRAGMA here. Times are ms since the Unix epoch, UTC.

-- Tracking ---------------------------------------------------------------------------------------

-- Ids are MLflow's strings "0", "1", ...; AUTOINCREMENT never reuses one.
CREATE TABLE experiments (
	experiment_id INTEGER PRIMARY KEY AUTOINCREMENT,
	name TEXT NOT NULL UNIQUE CHECK (name <> ''),
	artifact_location TEXT,
	lifecycle_stage TEXT NOT NULL DEFAULT 'active'
		CHECK (lifecycle_stage IN ('active', 'deleted')),
	creation_time INTEGER NOT NULL,
	last_update_time INTEGER NOT NULL
);

INSERT INTO experiments VALUES (0, 'Default', NULL, 'active',
	CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER),
	CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));

CREATE TABLE experiment_tags (
	experiment_id INTEGER NOT NULL REFERENCES experiments ON DELETE CASCADE,
	key TEXT NOT NULL CHECK (key <> ''),
	value TEXT,
	PRIMARY KEY (experiment_id, key)
) WITHOUT ROWID;

CREATE TABLE runs (
	run_id TEXT PRIMARY KEY CHECK (length(run_id) = 32 AND run_id NOT GLOB '*[^0-9a-f]*'),
	experiment_id INTEGER NOT NULL REFERENCES experiments ON DELETE CASCADE,
	name TEXT,
	user_id TEXT,
	status TEXT NOT NULL DEFAULT 'RUNNING'
		CHECK (status IN ('RUNNING', 'SCHEDULED', 'FINISHED', 'FAILED', 'KILLED')),
	start_time INTEGER NOT NULL,
	end_time INTEGER,
	deleted_time INTEGER,
	lifecycle_stage TEXT NOT NULL DEFAULT 'active'
		CHECK (lifecycle_stage IN ('active', 'deleted')),
	artifact_uri TEXT,
	source_git_commit TEXT,
	source_dirty INTEGER NOT NULL DEFAULT 0 CHECK (source_dirty IN (0, 1)),
	command TEXT
);
-- runs/search's default order within experiments.
CREATE INDEX runs_experiment_start ON runs (experiment_id, start_time DESC, run_id);

CREATE TABLE params (
	run_id TEXT NOT NULL REFERENCES runs ON DELETE CASCADE,
	key TEXT NOT NULL CHECK (key <> ''),
	value TEXT NOT NULL,
	PRIMARY KEY (run_id, key)
) WITHOUT ROWID;

-- Full history. The whole point is the key, as in MLflow, so a retried request stores an
-- identical point once. SQLite turns a NaN REAL into NULL: NaN is value 0 with is_nan 1.
CREATE TABLE metrics (
	run_id TEXT NOT NULL REFERENCES runs ON DELETE CASCADE,
	key TEXT NOT NULL CHECK (key <> ''),
	step INTEGER NOT NULL DEFAULT 0,
	timestamp INTEGER NOT NULL,
	value REAL NOT NULL,
	is_nan INTEGER NOT NULL DEFAULT 0 CHECK (is_nan IN (0, 1)),
	PRIMARY KEY (run_id, key, step, timestamp, value, is_nan)
) WITHOUT ROWID;

-- Per (run, key), the point with the greatest (step, timestamp, value); kept on write.
CREATE TABLE latest_metrics (
	run_id TEXT NOT NULL REFERENCES runs ON DELETE CASCADE,
	key TEXT NOT NULL CHECK (key <> ''),
	step INTEGER NOT NULL,
	timestamp INTEGER NOT NULL,
	value REAL NOT NULL,
	is_nan INTEGER NOT NULL DEFAULT 0 CHECK (is_nan IN (0, 1)),
	PRIMARY KEY (run_id, key)
) WITHOUT ROWID;

CREATE TABLE run_tags (
	run_id TEXT NOT NULL REFERENCES runs ON DELETE CASCADE,
	key TEXT NOT NULL CHECK (key <> ''),
	value TEXT,
	PRIMARY KEY (run_id, key)
) WITHOUT ROWID;

-- Artifacts and data lineage ---------------------------------------------------------------------

-- Files a run produced, by path relative to the run's artifact root.
CREATE TABLE artifacts (
	run_id TEXT NOT NULL REFERENCES runs ON DELETE CASCADE,
	path TEXT NOT NULL CHECK (path <> ''),
	digest TEXT,
	size INTEGER CHECK (size >= 0),
	created_time INTEGER,
	PRIMARY KEY (run_id, path)
) WITHOUT ROWID;

-- A dataset version: the same name (the path, for ferry's own data; MLflow's dataset name
-- otherwise) with the same content digest is one row however often it is recorded. The
-- source/schema/profile columns carry MLflow's runs/log-inputs fields.
CREATE TABLE datasets (
	dataset_id INTEGER PRIMARY KEY,
	name TEXT NOT NULL CHECK (name <> ''),
	digest TEXT NOT NULL CHECK (digest <> ''),
	path TEXT,
	size INTEGER CHECK (size >= 0),
	created_time INTEGER,
	git_commit TEXT,
	source_type TEXT,
	source TEXT,
	schema_json TEXT,
	profile_json TEXT,
	UNIQUE (name, digest)
);
CREATE INDEX datasets_digest ON datasets (digest);

-- Which datasets a run read and how ("training", ...: MLflow's mlflow.data.context tag).
-- A dataset cannot be deleted while a run still names it.
CREATE TABLE run_inputs (
	run_id TEXT NOT NULL REFERENCES runs ON DELETE CASCADE,
	dataset_id INTEGER NOT NULL REFERENCES datasets ON DELETE RESTRICT,
	context TEXT,
	PRIMARY KEY (run_id, dataset_id)
) WITHOUT ROWID;
-- Lineage backwards: which runs used this dataset?
CREATE INDEX run_inputs_dataset ON run_inputs (dataset_id);

-- Model registry --------------------------------------------------------------------------------

-- Models are keyed by name as in MLflow: a rename cascades to every table that refers to one.
CREATE TABLE registered_models (
	name TEXT PRIMARY KEY CHECK (name <> ''),
	creation_time INTEGER NOT NULL,
	last_updated_time INTEGER NOT NULL,
	description TEXT
);

CREATE TABLE registered_model_tags (
	name TEXT NOT NULL REFERENCES registered_models ON DELETE CASCADE ON UPDATE CASCADE,
	key TEXT NOT NULL CHECK (key <> ''),
	value TEXT,
	PRIMARY KEY (name, key)
) WITHOUT ROWID;

-- Versions are 1, 2, ... per model. source is the artifact URI registered; source_digest pins
-- its content so a server can verify what it loads.
CREATE TABLE model_versions (
	name TEXT NOT NULL REFERENCES registered_models ON DELETE CASCADE ON UPDATE CASCADE,
	version INTEGER NOT NULL CHECK (version >= 1),
	creation_time INTEGER NOT NULL,
	last_updated_time INTEGER NOT NULL,
	description TEXT,
	user_id TEXT,
	current_stage TEXT NOT NULL DEFAULT 'None'
		CHECK (current_stage IN ('None', 'Staging', 'Production', 'Archived')),
	source TEXT NOT NULL,
	source_digest TEXT,
	run_id TEXT REFERENCES runs ON DELETE SET NULL,
	run_link TEXT,
	status TEXT NOT NULL DEFAULT 'READY'
		CHECK (status IN ('PENDING_REGISTRATION', 'FAILED_REGISTRATION', 'READY')),
	status_message TEXT,
	PRIMARY KEY (name, version)
);
CREATE INDEX model_versions_run ON model_versions (run_id);
-- get-latest-versions: the newest version per stage.
CREATE INDEX model_versions_stage ON model_versions (name, current_stage, version);

CREATE TABLE model_version_tags (
	name TEXT NOT NULL,
	version INTEGER NOT NULL,
	key TEXT NOT NULL CHECK (key <> ''),
	value TEXT,
	PRIMARY KEY (name, version, key),
	FOREIGN KEY (name, version) REFERENCES model_versions
		ON DELETE CASCADE ON UPDATE CASCADE
) WITHOUT ROWID;

-- The data a version was trained on (digests via datasets), kept if the run is deleted.
CREATE TABLE model_version_datasets (
	name TEXT NOT NULL,
	version INTEGER NOT NULL,
	dataset_id INTEGER NOT NULL REFERENCES datasets ON DELETE RESTRICT,
	context TEXT,
	PRIMARY KEY (name, version, dataset_id),
	FOREIGN KEY (name, version) REFERENCES model_versions
		ON DELETE CASCADE ON UPDATE CASCADE
) WITHOUT ROWID;
CREATE INDEX model_version_datasets_dataset ON model_version_datasets (dataset_id);

-- Aliases and monitoring ------------------------------------------------------------------------

-- An alias names one version; deleting that version deletes the alias, as in MLflow.
CREATE TABLE model_aliases (
	name TEXT NOT NULL,
	alias TEXT NOT NULL CHECK (alias <> ''),
	version INTEGER NOT NULL,
	PRIMARY KEY (name, alias),
	FOREIGN KEY (name, version) REFERENCES model_versions
		ON DELETE CASCADE ON UPDATE CASCADE
) WITHOUT ROWID;

-- Every alias move, for audit and rollback: from_version is NULL when the alias was created,
-- to_version NULL when it was removed. Plain numbers, not foreign keys, so the history
-- outlives deleted versions.
CREATE TABLE model_alias_history (
	id INTEGER PRIMARY KEY,
	name TEXT NOT NULL REFERENCES registered_models ON DELETE CASCADE ON UPDATE CASCADE,
	alias TEXT NOT NULL,
	from_version INTEGER,
	to_version INTEGER,
	user_id TEXT,
	changed_time INTEGER NOT NULL,
	reason TEXT,
	CHECK (from_version IS NOT NULL OR to_version IS NOT NULL)
);
CREATE INDEX model_alias_history_alias ON model_alias_history (name, alias, changed_time);

-- Served predictions and the labels that arrive later. No foreign key to model_versions:
-- feedback must survive a version's deletion, and a server may score an unregistered model.
CREATE TABLE inference_feedback (
	id INTEGER PRIMARY KEY,
	request_id TEXT NOT NULL CHECK (request_id <> ''),
	model_name TEXT,
	model_version INTEGER,
	prediction_json TEXT,
	label_json TEXT,
	predicted_time INTEGER NOT NULL,
	labeled_time INTEGER
);
CREATE INDEX inference_feedback_request ON inference_feedback (request_id);
CREATE INDEX inference_feedback_model ON inference_feedback (model_name, model_version,
	predicted_time);
