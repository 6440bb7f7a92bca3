package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"aisle/api/edge"
	"aisle/api/store"
	"aisle/sync/wire"
)

// The edge read replica's feed (aisle/api/edge.Source): raw log rows,
// checkpoints and staff credentials, read-only.

var _ edge.Source = (*DB)(nil)

// EdgeHead implements edge.Source.
func (s *DB) EdgeHead(ctx context.Context) (version, horizon int64, err error) {
	err = s.db.QueryRowContext(ctx, `SELECT (SELECT value FROM meta WHERE name = 'version'), (SELECT value FROM meta WHERE name = 'horizon')`).
		Scan(&version, &horizon)
	return version, horizon, s.dbErr(err, "edge head")
}

// EdgeLog implements edge.Source.
func (s *DB) EdgeLog(ctx context.Context, after, through int64, limit int) ([]edge.LogRow, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT version, scope, kind, id, deleted, data FROM changes WHERE version > $1 AND version <= $2 ORDER BY version LIMIT $3`,
		after, through, limit)
	if err != nil {
		return nil, s.dbErr(err, "edge log")
	}
	defer rows.Close()
	var out []edge.LogRow
	for rows.Next() {
		var r edge.LogRow
		var kind string
		var del int
		var data sql.NullString
		if err := rows.Scan(&r.Version, &r.Scope, &kind, &r.ID, &del, &data); err != nil {
			return nil, s.dbErr(err, "edge log")
		}
		r.Kind, r.Deleted = wire.Kind(kind), del != 0
		if data.Valid && !r.Deleted {
			r.Data = data.String
		}
		out = append(out, r)
	}
	return out, s.dbErr(rows.Err(), "edge log")
}

// EdgeCheckpoints implements edge.Source.
func (s *DB) EdgeCheckpoints(ctx context.Context, have map[string]int64, horizon int64) ([]wire.Checkpoint, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT c.store, c.seq, c.version, c.published_at, c.reason,
  c.seq = (SELECT MAX(l.seq) FROM checkpoints l WHERE l.store = c.store)
FROM checkpoints c ORDER BY c.store, c.seq`)
	if err != nil {
		return nil, s.dbErr(err, "edge checkpoints")
	}
	defer rows.Close()
	var out []wire.Checkpoint
	for rows.Next() {
		var cp wire.Checkpoint
		var at int64
		var latest bool
		if err := rows.Scan(&cp.Store, &cp.Seq, &cp.Version, &at, &cp.Reason, &latest); err != nil {
			return nil, s.dbErr(err, "edge checkpoints")
		}
		if cp.Seq <= have[cp.Store] || (cp.Version < horizon && !latest) {
			continue
		}
		cp.PublishedAt = time.UnixMilli(at).UTC()
		out = append(out, cp)
	}
	return out, s.dbErr(rows.Err(), "edge checkpoints")
}

// EdgeCredentials implements edge.Source: staff and manager tokens only.
func (s *DB) EdgeCredentials(ctx context.Context) ([]edge.Credential, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT hash, id, role, store, expires_at, revoked FROM tokens WHERE role IN ($1, $2) ORDER BY id`,
		string(store.RoleStaff), string(store.RoleManager))
	if err != nil {
		return nil, s.dbErr(err, "edge credentials")
	}
	defer rows.Close()
	var out []edge.Credential
	for rows.Next() {
		var c edge.Credential
		var rev int
		if err := rows.Scan(&c.Hash, &c.ID, &c.Role, &c.Store, &c.ExpiresAt, &rev); err != nil {
			return nil, s.dbErr(err, "edge credentials")
		}
		c.Revoked = rev != 0
		out = append(out, c)
	}
	return out, s.dbErr(rows.Err(), "edge credentials")
}
