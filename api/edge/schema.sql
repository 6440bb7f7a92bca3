-- The edge read replica's tables (Cloudflare D1, which is SQLite; the
-- native tests run the same statements on modernc.org/sqlite). Every
-- statement is idempotent: the edge applies this file on an ingest that finds
-- it missing or older, so a fresh D1 database needs no migration step. Statements are separated
-- by ";" at the end of a line (D1 prepares one statement at a time).

-- meta: 'log' is the origin's log version through which every change is
-- here (the high-water mark the origin feeds from); 'horizon' the origin's
-- retention horizon; 'schema' the version of this file applied (written
-- last, below; edge.go's schemaVersion).
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT OR IGNORE INTO meta (name, value) VALUES ('log', 0), ('horizon', 0);

-- changes: the origin's change log, row for row (chain-wide scope '' or a
-- store's ID), compacted here as the origin compacts it.
CREATE TABLE IF NOT EXISTS changes (
  version INTEGER PRIMARY KEY, scope TEXT NOT NULL, kind TEXT NOT NULL, id TEXT NOT NULL,
  deleted INTEGER NOT NULL, data TEXT);
CREATE INDEX IF NOT EXISTS changes_scope ON changes (scope, version);
CREATE INDEX IF NOT EXISTS changes_entity ON changes (kind, id, scope, version);

-- checkpoints: the origin's checkpoints at or above its horizon.
CREATE TABLE IF NOT EXISTS checkpoints (
  store TEXT NOT NULL, seq INTEGER NOT NULL, version INTEGER NOT NULL,
  published_at INTEGER NOT NULL, reason TEXT NOT NULL,
  PRIMARY KEY (store, seq));
CREATE INDEX IF NOT EXISTS checkpoints_version ON checkpoints (store, version);

-- credentials: staff and manager tokens by the hex SHA-256 of their secret
-- (never the secret); admin tokens never leave the origin.
CREATE TABLE IF NOT EXISTS credentials (
  hash TEXT PRIMARY KEY, id TEXT NOT NULL, role TEXT NOT NULL, store TEXT NOT NULL,
  expires_at INTEGER NOT NULL, revoked INTEGER NOT NULL);

INSERT INTO meta (name, value) VALUES ('schema', 1) ON CONFLICT (name) DO UPDATE SET value = excluded.value;
