package edge

import (
	"context"
	"encoding/json"
	"fmt"

	"aisle/sync/catalog"
	"aisle/sync/wire"
)

// Ingest bounds: a batch larger than this is refused (the Feeder stays
// well below: MaxBatchRows rows, about MaxBatchBytes of JSON).
const (
	MaxBatchRows  = 500
	MaxBatchBytes = 1 << 20
	// MaxIngestBody bounds an ingest request's body.
	MaxIngestBody = 4 << 20
)

// LogRow is one row of the origin's change log, as fed to the edge. Data
// is the change's JSON document as a string, so that it arrives byte for
// byte (a JSON value would be re-encoded by SQLite's JSON functions).
type LogRow struct {
	Version int64     `json:"v"`
	Scope   string    `json:"scope"`
	Kind    wire.Kind `json:"k"`
	ID      string    `json:"id"`
	Deleted bool      `json:"del,omitempty"`
	Data    string    `json:"d,omitempty"`
}

// Batch is the body of POST /_edge/ingest. The edge applies, in order:
// the log rows, which must be every row of the origin's log in
// (After, Through] (compacted rows excepted) and After must not be above
// the edge's high-water mark (else Conflict: a gap; ask State again);
// then the checkpoints, none above Through; then the horizon
// (compacting the edge's log when it moves); then the credentials.
// Applying a batch twice changes nothing.
type Batch struct {
	After       int64             `json:"after"`
	Through     int64             `json:"through"`
	Changes     []LogRow          `json:"changes,omitempty"`
	Checkpoints []wire.Checkpoint `json:"checkpoints,omitempty"`
	Horizon     int64             `json:"horizon,omitempty"`
	Credentials []Credential      `json:"credentials,omitempty"`
}

// State is the body of GET /_edge/state: what the edge holds, for the
// Feeder to send what is missing.
type State struct {
	Log         int64            `json:"log"`         // every log row up to this version is here
	Horizon     int64            `json:"horizon"`     // the origin's horizon as last fed
	Checkpoints map[string]int64 `json:"checkpoints"` // latest checkpoint Seq per store
}

// State reports the edge's high-water marks.
func (e *Edge) State(ctx context.Context) (State, error) {
	st := State{Checkpoints: map[string]int64{}}
	var err error
	if st.Log, err = e.meta(ctx, "log"); err != nil {
		return st, dbErr(err, "state")
	}
	if st.Horizon, err = e.meta(ctx, "horizon"); err != nil {
		return st, dbErr(err, "state")
	}
	rows, err := e.DB.QueryContext(ctx, `SELECT store, MAX(seq) FROM checkpoints GROUP BY store`)
	if isNoTable(err) {
		return st, nil
	} else if err != nil {
		return st, dbErr(err, "state")
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var seq int64
		if err := rows.Scan(&id, &seq); err != nil {
			return st, dbErr(err, "state")
		}
		st.Checkpoints[id] = seq
	}
	return st, dbErr(rows.Err(), "state")
}

// validate checks a batch before anything of it is applied.
func (b *Batch) validate() error {
	if len(b.Changes) > MaxBatchRows || len(b.Credentials) > MaxBatchRows || len(b.Checkpoints) > MaxBatchRows {
		return catalog.Errorf(catalog.TooLarge, "at most %d rows of each kind per batch", MaxBatchRows)
	}
	if b.After < 0 || b.Through < b.After || b.Through > wire.MaxVersion || b.Horizon < 0 || b.Horizon > b.Through && b.Through > 0 {
		return catalog.Errorf(catalog.Invalid, "need 0 <= after <= through, horizon <= through")
	}
	for _, r := range b.Changes {
		if r.Version <= b.After || r.Version > b.Through || !r.Kind.Valid() || r.ID == "" || (r.Deleted && r.Data != "") || (!r.Deleted && !json.Valid([]byte(r.Data))) {
			return catalog.Errorf(catalog.Invalid, "bad log row %d", r.Version)
		}
	}
	for _, cp := range b.Checkpoints {
		if !catalog.ValidID(cp.Store) || cp.Seq <= 0 || cp.Version < 0 || cp.Version > b.Through {
			return catalog.Errorf(catalog.Invalid, "bad checkpoint %s/%d (version %d, batch through %d)", cp.Store, cp.Seq, cp.Version, b.Through)
		}
	}
	for _, c := range b.Credentials {
		if len(c.Hash) != 64 || c.ID == "" || (c.Role != "staff" && c.Role != "manager") || !catalog.ValidID(c.Store) {
			return catalog.Errorf(catalog.Invalid, "bad credential %q", c.ID)
		}
	}
	return nil
}

// Ingest applies a batch (see Batch).
func (e *Edge) Ingest(ctx context.Context, b Batch) error {
	if err := b.validate(); err != nil {
		return err
	}
	if err := e.migrate(ctx); err != nil {
		return err
	}
	hw, err := e.meta(ctx, "log")
	if err != nil {
		return dbErr(err, "ingest")
	}
	if b.After > hw {
		return catalog.Errorf(catalog.Conflict, "batch starts after version %d but the edge holds the log up to %d only", b.After, hw)
	}
	if len(b.Changes) > 0 {
		rows, _ := json.Marshal(b.Changes)
		// One statement: atomic without a transaction, and one bound
		// parameter whatever the batch size (D1 binds at most 100).
		if _, err := e.DB.ExecContext(ctx, `INSERT OR REPLACE INTO changes (version, scope, kind, id, deleted, data)
SELECT json_extract(value, '$.v'), json_extract(value, '$.scope'), json_extract(value, '$.k'), json_extract(value, '$.id'),
       COALESCE(json_extract(value, '$.del'), 0), json_extract(value, '$.d')
FROM json_each(?)`, string(rows)); err != nil {
			return dbErr(err, "ingest changes")
		}
	}
	if b.Through > hw {
		if _, err := e.DB.ExecContext(ctx, `UPDATE meta SET value = MAX(value, ?) WHERE name = 'log'`, b.Through); err != nil {
			return dbErr(err, "ingest")
		}
	}
	if len(b.Checkpoints) > 0 {
		type cpRow struct {
			Store   string `json:"store"`
			Seq     int64  `json:"seq"`
			Version int64  `json:"version"`
			At      int64  `json:"at"`
			Reason  string `json:"reason"`
		}
		cps := make([]cpRow, len(b.Checkpoints))
		for i, cp := range b.Checkpoints {
			cps[i] = cpRow{cp.Store, cp.Seq, cp.Version, cp.PublishedAt.UnixMilli(), cp.Reason}
		}
		j, _ := json.Marshal(cps)
		if _, err := e.DB.ExecContext(ctx, `INSERT OR IGNORE INTO checkpoints (store, seq, version, published_at, reason)
SELECT json_extract(value, '$.store'), json_extract(value, '$.seq'), json_extract(value, '$.version'), json_extract(value, '$.at'), json_extract(value, '$.reason')
FROM json_each(?)`, string(j)); err != nil {
			return dbErr(err, "ingest checkpoints")
		}
	}
	if b.Horizon > 0 {
		if err := e.compact(ctx, b.Horizon); err != nil {
			return err
		}
	}
	if len(b.Credentials) > 0 {
		j, _ := json.Marshal(b.Credentials)
		if _, err := e.DB.ExecContext(ctx, `INSERT OR REPLACE INTO credentials (hash, id, role, store, expires_at, revoked)
SELECT json_extract(value, '$.hash'), json_extract(value, '$.id'), json_extract(value, '$.role'), json_extract(value, '$.store'),
       COALESCE(json_extract(value, '$.expires_at'), 0), COALESCE(json_extract(value, '$.revoked'), 0)
FROM json_each(?)`, string(j)); err != nil {
			return dbErr(err, "ingest credentials")
		}
	}
	return nil
}

// compact moves the horizon up to h and drops what the origin's Compact
// drops: rows at or below h that are tombstones or superseded at or below
// h. Pages at or above the horizon are the same with or without them, so
// the order of the two statements does not matter to readers.
func (e *Edge) compact(ctx context.Context, h int64) error {
	cur, err := e.meta(ctx, "horizon")
	if err != nil {
		return dbErr(err, "compact")
	}
	if h <= cur {
		return nil
	}
	if _, err := e.DB.ExecContext(ctx, `UPDATE meta SET value = MAX(value, ?) WHERE name = 'horizon'`, h); err != nil {
		return dbErr(err, "compact")
	}
	if _, err := e.DB.ExecContext(ctx, `DELETE FROM changes WHERE version <= ?1 AND (deleted = 1 OR EXISTS (
  SELECT 1 FROM changes d WHERE d.scope = changes.scope AND d.kind = changes.kind AND d.id = changes.id
  AND d.version > changes.version AND d.version <= ?1))`, h); err != nil {
		return dbErr(err, "compact")
	}
	return nil
}

// String describes a batch for logs.
func (b Batch) String() string {
	return fmt.Sprintf("(%d, %d]: %d changes, %d checkpoints, horizon %d, %d credentials",
		b.After, b.Through, len(b.Changes), len(b.Checkpoints), b.Horizon, len(b.Credentials))
}
