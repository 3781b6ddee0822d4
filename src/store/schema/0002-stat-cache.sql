-- The stat cache of data versioning: what a workspace file looked like when ferry last hashed it.
-- When size, mtime, ctime and inode all still match (and the file was not modified in the same
-- instant it was hashed), its digest is reused without reading the file.
CREATE TABLE stat_cache (
    path        TEXT PRIMARY KEY,   -- relative to the project root, '/'-separated
    size        INTEGER NOT NULL CHECK (size >= 0),
    mtime_ns    INTEGER NOT NULL,
    ctime_ns    INTEGER NOT NULL,
    inode       INTEGER NOT NULL,
    digest      TEXT NOT NULL CHECK (length(digest) = 64),
    recorded_ns INTEGER NOT NULL    -- when the file was stat'ed for this entry
) WITHOUT ROWID;
