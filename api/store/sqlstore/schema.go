package sqlstore

// migrations are applied in order, each in its own transaction, and
// recorded in schema_migrations. Never edit one that has shipped: append.
// The two dialects share every statement except where noted.
func migrations(d dialect) []string {
	serial := "INTEGER PRIMARY KEY AUTOINCREMENT"
	if d == postgres {
		serial = "BIGSERIAL PRIMARY KEY"
	}
	return []string{
		// 1 (2026-11-24): catalog records, change log, checkpoints, tokens, audit.
		`CREATE TABLE meta (name TEXT PRIMARY KEY, value BIGINT NOT NULL);
INSERT INTO meta (name, value) VALUES ('version', 0), ('horizon', 0);
CREATE TABLE entities (
  entity TEXT NOT NULL, ekey TEXT NOT NULL, scope TEXT NOT NULL, ref TEXT NOT NULL,
  data TEXT NOT NULL, version BIGINT NOT NULL, updated_at BIGINT NOT NULL,
  PRIMARY KEY (entity, ekey));
CREATE INDEX entities_scope ON entities (entity, scope, ekey);
CREATE INDEX entities_ref ON entities (entity, ref);
CREATE TABLE changes (
  version BIGINT PRIMARY KEY, scope TEXT NOT NULL, kind TEXT NOT NULL, id TEXT NOT NULL,
  deleted SMALLINT NOT NULL, data TEXT, at BIGINT NOT NULL);
CREATE INDEX changes_scope ON changes (scope, version);
CREATE INDEX changes_entity ON changes (kind, id, version);
CREATE TABLE checkpoints (
  store TEXT NOT NULL, seq BIGINT NOT NULL, version BIGINT NOT NULL,
  published_at BIGINT NOT NULL, reason TEXT NOT NULL, day TEXT NOT NULL,
  PRIMARY KEY (store, seq));
CREATE UNIQUE INDEX checkpoints_day ON checkpoints (store, day) WHERE day <> '';
CREATE TABLE tokens (
  id TEXT PRIMARY KEY, name TEXT NOT NULL, role TEXT NOT NULL, store TEXT NOT NULL,
  hash TEXT NOT NULL UNIQUE, created_at BIGINT NOT NULL, revoked SMALLINT NOT NULL);
CREATE TABLE audit (
  id ` + serial + `, at BIGINT NOT NULL, actor TEXT NOT NULL, token_id TEXT NOT NULL,
  role TEXT NOT NULL, ip TEXT NOT NULL, action TEXT NOT NULL, entity TEXT NOT NULL,
  ekey TEXT NOT NULL, version BIGINT NOT NULL);
CREATE TABLE nightly_runs (store TEXT NOT NULL, day TEXT NOT NULL, at BIGINT NOT NULL, PRIMARY KEY (store, day));`,
		// 2 (2026-12-07): token expiry (0: none); staff-tablet pairings.
		`ALTER TABLE tokens ADD COLUMN expires_at BIGINT NOT NULL DEFAULT 0;
CREATE TABLE pairings (
  id TEXT PRIMARY KEY, store TEXT NOT NULL, name TEXT NOT NULL, code_hash TEXT NOT NULL UNIQUE,
  created_at BIGINT NOT NULL, expires_at BIGINT NOT NULL, token_id TEXT NOT NULL,
  paired_at BIGINT NOT NULL, revoked SMALLINT NOT NULL);
CREATE INDEX pairings_store ON pairings (store, created_at);`,
		// 3 (2026-12-07): a pairing's last sync (0: never), written by
		// NotePairingSync at most once a minute per token.
		`ALTER TABLE pairings ADD COLUMN last_sync_at BIGINT NOT NULL DEFAULT 0;
CREATE INDEX pairings_token ON pairings (token_id);`,
		// 4 (2026-12-07): devices seen syncing a store, by the SHA-256 of
		// their anonymous installation ID (never the ID), written by
		// NoteDeviceSync at most once a minute per device and store, pruned
		// after 90 days unseen (PruneDevices).
		`CREATE TABLE devices (
  store TEXT NOT NULL, hash TEXT NOT NULL, audience TEXT NOT NULL,
  first_seen BIGINT NOT NULL, last_sync_at BIGINT NOT NULL,
  PRIMARY KEY (store, hash));
CREATE INDEX devices_recent ON devices (store, last_sync_at);
CREATE INDEX devices_last_sync ON devices (last_sync_at);`,
		// 5 (2026-12-07): each change records the version of the next change
		// of the same (scope, kind, id), 0 while it is the latest, so that a
		// page is one ordered range of an index per scope with no probe per
		// row. changes_page covers the page filter; changes_latest finds the
		// latest change of a record for writes.
		`ALTER TABLE changes ADD COLUMN superseded BIGINT NOT NULL DEFAULT 0;
CREATE INDEX changes_latest ON changes (kind, id, scope, version);
DROP INDEX changes_entity;
UPDATE changes SET superseded = COALESCE((SELECT MIN(d.version) FROM changes d
  WHERE d.kind = changes.kind AND d.id = changes.id AND d.scope = changes.scope AND d.version > changes.version), 0);
CREATE INDEX changes_page ON changes (scope, version, superseded, deleted, kind);
DROP INDEX changes_scope;`,
	}
}
