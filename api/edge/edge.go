// Package edge is aisle's edge read replica: the read side of sync
// (GET/HEAD /v1/stores/{id}/checkpoint and /v1/stores/{id}/changes, which
// serve deltas and snapshots) answered from a copy of the origin's change
// log, checkpoints and staff credentials, for Cloudflare Workers (D1) near
// the stores. The origin (aisle/api/server) feeds it after each publish
// through POST /_edge/ingest (Feeder); nothing else is served: no admin
// routes, no push stream, no writes.
//
// The package is plain Go on database/sql and net/http: the Worker
// (aisle/api/cmd/aisle-edge, GOOS=js GOARCH=wasm, github.com/syumai/workers)
// opens D1 through syumai's "d1" driver, and the native tests open SQLite.
// D1 has no transactions, so every write here is one statement or an
// idempotent sequence the Feeder can replay.
//
// Pages must be byte for byte the origin's for the same request: the
// page's rules (validation, Gone, snapshot or delta, limit and Done) are
// aisle/api/store/pageread's, and the edge's page query (pageQuery) selects
// the rows the origin's page holds, held to the origin's pages by the
// SameAnswers tests.
package edge

import (
	"context"
	"database/sql"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"aisle/api/store/pageread"
	"aisle/sync/catalog"
	"aisle/sync/wire"
)

//go:embed schema.sql
var schemaSQL string

// schemaStatements are schema.sql's statements, comments dropped.
var schemaStatements = func() []string {
	var b strings.Builder
	for _, line := range strings.Split(schemaSQL, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "--") {
			continue
		}
		b.WriteString(line + "\n")
	}
	var out []string
	for _, st := range strings.Split(b.String(), ";\n") {
		if st = strings.TrimSpace(st); st != "" {
			out = append(out, st)
		}
	}
	return out
}()

// Edge is the replica's data: the log, checkpoints and credentials in DB.
type Edge struct {
	DB *sql.DB
	// Now is the clock credentials expire by (nil: time.Now).
	Now func() time.Time
}

func (e *Edge) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

// schemaVersion is the 'schema' meta row schema.sql writes: raise both
// when the file changes.
const schemaVersion = 1

// migrate applies schema.sql unless the database has it already (one
// query when it has).
func (e *Edge) migrate(ctx context.Context) error {
	if v, err := e.meta(ctx, "schema"); err == nil && v >= schemaVersion {
		return nil
	}
	return e.Migrate(ctx)
}

// Migrate creates the tables (idempotent).
func (e *Edge) Migrate(ctx context.Context) error {
	for _, st := range schemaStatements {
		if _, err := e.DB.ExecContext(ctx, st); err != nil {
			return catalog.Wrap(err, catalog.Unavailable, "edge schema")
		}
	}
	return nil
}

// dbErr classifies a database error: catalog errors pass through, the rest
// is Unavailable (the Worker's fallback to the origin takes over).
func dbErr(err error, what string) error {
	if err == nil {
		return nil
	}
	var ce *catalog.Error
	if errors.As(err, &ce) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return catalog.Wrap(err, catalog.Unavailable, "edge database error during %s", what)
}

// meta reads a meta row (0 when absent, e.g. before the first ingest).
func (e *Edge) meta(ctx context.Context, name string) (int64, error) {
	var v int64
	err := e.DB.QueryRowContext(ctx, `SELECT value FROM meta WHERE name = ?`, name).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) || isNoTable(err) {
		return 0, nil
	}
	return v, err
}

// isNoTable reports an error of a query on a database never fed (no
// tables yet).
func isNoTable(err error) bool { return err != nil && strings.Contains(err.Error(), "no such table") }

// Checkpoint returns the latest checkpoint of storeID the edge holds; a
// store with none is NotFound unless the store is in the log (then
// Seq 0, as the origin answers for a store never published).
func (e *Edge) Checkpoint(ctx context.Context, storeID string) (wire.Checkpoint, error) {
	cp := wire.Checkpoint{Store: storeID}
	var at int64
	err := e.DB.QueryRowContext(ctx, `SELECT seq, version, published_at, reason FROM checkpoints WHERE store = ? ORDER BY seq DESC LIMIT 1`, storeID).
		Scan(&cp.Seq, &cp.Version, &at, &cp.Reason)
	switch {
	case err == nil:
		cp.PublishedAt = time.UnixMilli(at).UTC()
		return cp, nil
	case !errors.Is(err, sql.ErrNoRows) && !isNoTable(err):
		return cp, dbErr(err, "read checkpoint")
	}
	// The store record's latest change, as the origin's entities table
	// would say (up to the edge's high-water mark).
	var del int64
	err = e.DB.QueryRowContext(ctx, `SELECT deleted FROM changes WHERE scope = ? AND kind = 'store' AND id = ? ORDER BY version DESC LIMIT 1`, storeID, storeID).Scan(&del)
	if errors.Is(err, sql.ErrNoRows) || isNoTable(err) || (err == nil && del != 0) {
		return cp, catalog.Errorf(catalog.NotFound, "store %q not found", storeID)
	}
	return cp, dbErr(err, "read store")
}

// kindList renders the kinds a reader of audience aud speaking protocol
// sees as an SQL list of literals (kinds are fixed identifiers).
func kindList(aud wire.Audience, protocol int) string {
	var ks []string
	for _, k := range wire.Kinds {
		if aud.SeesAt(k, protocol) {
			ks = append(ks, "'"+string(k)+"'")
		}
	}
	return strings.Join(ks, ", ")
}

// pageQuery selects, for scope ?1 and the chain-wide scope (""), the latest
// change of each (scope, kind, id) at or below ?3, keeping those above ?2,
// without tombstones when ?4 = 1, in version order, at most ?5: the rows of
// the origin's page (sqlstore's visible set of the checkpoint, the changes
// not superseded in their own scope by then; see sqlstore/visible.go), as
// one query, held to the origin's pages by the SameAnswers tests. The
// correlated probe walks changes_entity, the outer scan changes' primary
// key in version order, stopping at the limit.
func pageQuery(aud wire.Audience, protocol int) string {
	return `SELECT c.version, c.kind, c.id, c.deleted, c.data FROM changes c
WHERE c.version > ?2 AND c.version <= ?3 AND c.scope IN (?1, '') AND c.kind IN (` + kindList(aud, protocol) + `)
  AND (?4 = 0 OR c.deleted = 0)
  AND c.version = (SELECT MAX(d.version) FROM changes d
                   WHERE d.kind = c.kind AND d.id = c.id AND d.scope = c.scope AND d.version <= ?3)
ORDER BY c.version LIMIT ?5`
}

// Changes returns one page of storeID's log for a reader of audience aud
// that negotiated protocol: the same page, field for field, as the
// origin's store.Store.Changes for the same request. The page's rules are
// pageread's; the rows are pageQuery's.
func (e *Edge) Changes(ctx context.Context, req wire.ChangesRequest, aud wire.Audience, protocol int) (wire.Page, error) {
	p, err := pageread.New(req, aud, protocol)
	if err != nil {
		return wire.Page{}, err
	}
	// No read transaction on D1: the horizon is read first, and only moves
	// up, so a page is never served below it; rows the edge compacts
	// meanwhile never change a page at or above the horizon.
	horizon, err := e.meta(ctx, "horizon")
	if err != nil {
		return p.Partial(), dbErr(err, "changes")
	}
	var one int
	err = e.DB.QueryRowContext(ctx, `SELECT 1 FROM checkpoints WHERE store = ? AND version = ? LIMIT 1`, req.Store, req.Target).Scan(&one)
	if err != nil && !errors.Is(err, sql.ErrNoRows) && !isNoTable(err) {
		return p.Partial(), dbErr(err, "changes")
	}
	if err := p.Settle(horizon, err == nil); err != nil {
		return p.Partial(), err
	}
	reset := 0
	if p.Reset {
		reset = 1
	}
	rows, err := e.DB.QueryContext(ctx, pageQuery(aud, protocol), req.Store, p.Lower, req.Target, reset, p.Rows)
	if err != nil {
		return p.Partial(), dbErr(err, "changes")
	}
	defer rows.Close()
	for rows.Next() {
		var c wire.Change
		var kind string
		var del int64
		var data sql.NullString
		if err := rows.Scan(&c.Version, &kind, &c.ID, &del, &data); err != nil {
			return p.Partial(), dbErr(err, "changes")
		}
		c.Kind, c.Deleted = wire.Kind(kind), del != 0
		if data.Valid {
			c.Data = json.RawMessage(data.String)
		}
		if !p.Add(c) {
			return p.Page(), nil
		}
	}
	if err := rows.Err(); err != nil {
		return p.Partial(), dbErr(err, "changes")
	}
	return p.Page(), nil
}

// Credential is a staff or manager token as the edge knows it: the hex
// SHA-256 of its secret, never the secret.
type Credential struct {
	Hash      string `json:"hash"`
	ID        string `json:"id"`
	Role      string `json:"role"` // "staff" or "manager"
	Store     string `json:"store"`
	ExpiresAt int64  `json:"expires_at,omitempty"` // Unix milliseconds; 0: never
	Revoked   bool   `json:"revoked,omitempty"`
}

// credential looks a token's hash up: Unauthorized when unknown or
// revoked, Expired when expired (the origin's answers).
func (e *Edge) credential(ctx context.Context, hash string) (Credential, error) {
	c := Credential{Hash: hash}
	var rev int64
	err := e.DB.QueryRowContext(ctx, `SELECT id, role, store, expires_at, revoked FROM credentials WHERE hash = ?`, hash).
		Scan(&c.ID, &c.Role, &c.Store, &c.ExpiresAt, &rev)
	if errors.Is(err, sql.ErrNoRows) || isNoTable(err) || (err == nil && rev != 0) {
		return Credential{}, catalog.Errorf(catalog.Unauthorized, "unknown or revoked token")
	} else if err != nil {
		return c, dbErr(err, "read token")
	}
	if c.ExpiresAt != 0 && !e.now().Before(time.UnixMilli(c.ExpiresAt)) {
		return Credential{}, catalog.Errorf(catalog.Expired, "this token expired at %s", time.UnixMilli(c.ExpiresAt).UTC().Format(time.RFC3339))
	}
	return c, nil
}

// audience is what a credential may read of storeID (nil: a customer).
func audience(c *Credential, storeID string) wire.Audience {
	if c != nil && (c.Role == "staff" || c.Role == "manager") && c.Store == storeID {
		return wire.AudienceStaff
	}
	return wire.AudiencePublic
}

// checkpointETag is the origin's checkpoint ETag.
func checkpointETag(aud wire.Audience, cp wire.Checkpoint) string {
	return fmt.Sprintf(`"cp-%s-%d-%d"`, aud, cp.Seq, cp.Version)
}
