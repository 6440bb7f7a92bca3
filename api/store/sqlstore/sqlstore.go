// Package sqlstore implements store.Store on database/sql, for SQLite
// (modernc.org/sqlite, pure Go, WAL; the default) and PostgreSQL (pgx).
// Both dialects share their SQL; only the schema's serial column, row
// locking and error classification differ.
//
// Concurrency: every write transaction first locks the log's version
// counter (SQLite: BEGIN IMMEDIATE; PostgreSQL: SELECT ... FOR UPDATE), so
// writers are serialised, versions are assigned in commit order, and a
// reader that sees version v sees every change up to v.
package sqlstore

import (
	"context"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers "pgx"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"aisle/api/store"
	"aisle/api/store/pageread"
	"aisle/sync/catalog"
	"aisle/sync/wire"
)

type dialect int

const (
	sqliteDialect dialect = iota
	postgres
)

// DB is a store.Store on a SQL database.
type DB struct {
	db      *sql.DB
	dialect dialect
	// writeTurn (SQLite only) queues this process's write transactions in
	// arrival order; see tx.
	writeTurn chan struct{}
	// dsn (PostgreSQL only) opens Listen's own connection.
	dsn string
	// Now is the clock for timestamps (tests replace it).
	Now func() time.Time
	// ListenPing is how long Listen's connection may stay quiet before a
	// ping, and how long the ping may take (0: DefaultListenPing).
	ListenPing time.Duration
	// changes and visibles cache what pages are made of; reads holds the
	// page path's statements, prepared at open.
	changes  *changeCache
	visibles *visibleCache
	reads    map[string]*sql.Stmt
}

var _ store.Store = (*DB)(nil)

// OpenSQLite opens (creating if needed) the SQLite database at path, in WAL
// mode, and migrates it. Extra pragmas (e.g. "max_page_count(1000)", which
// tests use to simulate a full disk) apply to every connection.
//
// A database file it creates is readable by its owner only (0600, as the
// admin token file): it holds token hashes and staff data. SQLite gives the
// -wal and -shm files it creates the database file's mode. An existing
// file keeps its mode.
func OpenSQLite(ctx context.Context, path string, pragmas ...string) (*DB, error) {
	if f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600); err == nil {
		f.Close() // SQLite takes an empty file for a new database
	} else if !errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("create sqlite %s: %w", path, err)
	}
	q := url.Values{}
	for _, p := range append([]string{"journal_mode(WAL)", "busy_timeout(10000)", "synchronous(NORMAL)", "foreign_keys(1)"}, pragmas...) {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	// Idle connections stay open: each keeps its prepared statements.
	db.SetMaxOpenConns(8)
	db.SetMaxIdleConns(8)
	s, err := open(ctx, db, sqliteDialect)
	if err != nil {
		return nil, err
	}
	s.writeTurn = make(chan struct{}, 1)
	return s, nil
}

// OpenPostgres connects to PostgreSQL (a pgx DSN or URL) and migrates.
func OpenPostgres(ctx context.Context, dsn string) (*DB, error) {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	db.SetMaxOpenConns(32)
	db.SetMaxIdleConns(32)
	s, err := open(ctx, db, postgres)
	if err != nil {
		return nil, err
	}
	s.dsn = dsn
	return s, nil
}

func open(ctx context.Context, db *sql.DB, d dialect) (*DB, error) {
	s := &DB{db: db, dialect: d, Now: time.Now, reads: map[string]*sql.Stmt{},
		changes: newChangeCache(ChangeCacheBytes), visibles: newVisibleCache(VisibleCacheBytes)}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	for _, q := range append([]string{servedQuery, latestCheckpointQuery}, slices.Collect(maps.Values(visibleQueries))...) {
		st, err := db.PrepareContext(ctx, q)
		if err != nil {
			db.Close()
			return nil, s.dbErr(err, "prepare")
		}
		s.reads[q] = st
	}
	return s, nil
}

// The bounds of a store's caches for pages: log entries (see changeCache)
// and visible sets (see visibleSet; ~120 KB for a store of 5,000 products
// with stock and vectors).
const (
	ChangeCacheBytes  = 64 << 20
	VisibleCacheBytes = 32 << 20
)

// prepared returns the read statement of q, prepared at open on the
// database (and by database/sql on each connection once).
func (s *DB) prepared(q string) *sql.Stmt { return s.reads[q] }

func (s *DB) migrate(ctx context.Context) error {
	if _, err := s.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)`); err != nil {
		return s.dbErr(err, "create schema_migrations")
	}
	var have int64
	if err := s.db.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&have); err != nil {
		return s.dbErr(err, "read schema version")
	}
	ms := migrations(s.dialect)
	if have > int64(len(ms)) {
		return catalog.Errorf(catalog.Unsupported, "database schema version %d is newer than this server's %d", have, len(ms))
	}
	for i := have; i < int64(len(ms)); i++ {
		err := s.tx(ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, ms[i]); err != nil {
				return fmt.Errorf("migration %d: %w", i+1, err)
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)`, i+1, s.Now().UnixMilli())
			return err
		})
		if err != nil {
			return s.dbErr(err, "migrate")
		}
	}
	return nil
}

// Close closes the database.
func (s *DB) Close() error { return s.db.Close() }

// SQL exposes the handle (benchmarks and tests only).
func (s *DB) SQL() *sql.DB { return s.db }

// dbErr classifies a database error: catalog errors pass through,
// cancellations stay themselves, a full disk or a lost connection is
// Unavailable, the rest Internal. The cause is kept for logs.
func (s *DB) dbErr(err error, what string) error {
	if err == nil {
		return nil
	}
	var ce *catalog.Error
	if errors.As(err, &ce) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CANTOPEN:
			return catalog.Wrap(err, catalog.Unavailable, "storage unavailable during %s", what)
		case sqlite3.SQLITE_CONSTRAINT:
			return catalog.Wrap(err, catalog.Conflict, "conflicting write during %s", what)
		}
		return catalog.Wrap(err, catalog.Internal, "database error during %s", what)
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case pe.Code == "23505":
			return catalog.Wrap(err, catalog.Conflict, "conflicting write during %s", what)
		case strings.HasPrefix(pe.Code, "53"), strings.HasPrefix(pe.Code, "08"), strings.HasPrefix(pe.Code, "57"), pe.Code == "40001", pe.Code == "40P01":
			return catalog.Wrap(err, catalog.Unavailable, "database unavailable during %s", what)
		}
		return catalog.Wrap(err, catalog.Internal, "database error during %s", what)
	}
	if errors.Is(err, sql.ErrConnDone) || errors.Is(err, driverBadConn) || isNetErr(err) {
		return catalog.Wrap(err, catalog.Unavailable, "database unavailable during %s", what)
	}
	return catalog.Wrap(err, catalog.Internal, "database error during %s", what)
}

// tx runs fn in a write transaction, committing if it returns nil.
//
// On SQLite the process's write transactions first wait their turn, in
// arrival order (a channel's senders queue first in, first out): SQLite's
// own busy handler merely retries now and then, so a write waiting behind
// a long import's batches would find the lock taken by the next batch
// again and again; in the queue it waits for the current batch only.
func (s *DB) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	if s.writeTurn != nil {
		select {
		case s.writeTurn <- struct{}{}:
			defer func() { <-s.writeTurn }()
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// lockLog takes the write lock of the log and returns the current version.
func (s *DB) lockLog(ctx context.Context, tx querier) (int64, error) {
	q := `SELECT value FROM meta WHERE name = 'version'`
	if s.dialect == postgres {
		q += ` FOR UPDATE`
	}
	var v int64
	err := tx.QueryRowContext(ctx, q).Scan(&v)
	return v, err
}

func scanItem(e store.Entity, sc interface{ Scan(...any) error }) (store.Item, error) {
	it := store.Item{Entity: e}
	var data string
	var upd int64
	if err := sc.Scan(&it.Key, &it.Scope, &it.Ref, &data, &it.Version, &upd); err != nil {
		return it, err
	}
	it.Data, it.UpdatedAt = []byte(data), time.UnixMilli(upd).UTC()
	return it, nil
}

const itemCols = `ekey, scope, ref, data, version, updated_at`

func getItem(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, e store.Entity, key string) (store.Item, bool, error) {
	it, err := scanItem(e, q.QueryRowContext(ctx, `SELECT `+itemCols+` FROM entities WHERE entity = $1 AND ekey = $2`, string(e), key))
	if errors.Is(err, sql.ErrNoRows) {
		return it, false, nil
	}
	return it, err == nil, err
}

// Get implements store.Store.
func (s *DB) Get(ctx context.Context, e store.Entity, key string) (store.Item, error) {
	it, ok, err := getItem(ctx, s.db, e, key)
	if err != nil {
		return it, s.dbErr(err, "get")
	}
	if !ok {
		return it, catalog.Errorf(catalog.NotFound, "%s %q not found", strings.TrimSuffix(string(e), "s"), key)
	}
	return it, nil
}

// List implements store.Store.
func (s *DB) List(ctx context.Context, e store.Entity, q store.ListQuery) ([]store.Item, string, error) {
	limit := q.Limit
	if limit == 0 {
		limit = store.DefaultListLimit
	}
	if limit < 0 || limit > store.MaxListLimit {
		return nil, "", catalog.Errorf(catalog.Invalid, "limit must be between 1 and %d", store.MaxListLimit)
	}
	where, args := `entity = $1 AND ekey > $2`, []any{string(e), q.After}
	if q.Scope != nil {
		args = append(args, *q.Scope)
		where += fmt.Sprintf(` AND scope = $%d`, len(args))
	}
	if q.Ref != "" {
		args = append(args, q.Ref)
		where += fmt.Sprintf(` AND ref = $%d`, len(args))
	}
	args = append(args, limit+1)
	rows, err := s.db.QueryContext(ctx, `SELECT `+itemCols+` FROM entities WHERE `+where+fmt.Sprintf(` ORDER BY ekey LIMIT $%d`, len(args)), args...)
	if err != nil {
		return nil, "", s.dbErr(err, "list")
	}
	defer rows.Close()
	var out []store.Item
	for rows.Next() {
		it, err := scanItem(e, rows)
		if err != nil {
			return nil, "", s.dbErr(err, "list")
		}
		out = append(out, it)
	}
	if err := rows.Err(); err != nil {
		return nil, "", s.dbErr(err, "list")
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = out[limit-1].Key
	}
	return out, next, nil
}

type change struct {
	scope   string
	kind    wire.Kind
	id      string
	deleted bool
	data    []byte
}

func opErr(i int, err error) error {
	var ce *catalog.Error
	if errors.As(err, &ce) {
		out := *ce
		out.Fields = append([]catalog.FieldError(nil), ce.Fields...)
		if len(out.Fields) == 0 {
			out.Fields = []catalog.FieldError{{Message: ce.Message}}
		}
		for j := range out.Fields {
			out.Fields[j].Row = i + 1
		}
		return &out
	}
	return err
}

// querier is a transaction: *sql.Tx, or a stmtTx.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// stmtTx runs a transaction's statements each prepared once: a batch of
// thousands of ops repeats a handful of statements, which SQLite would
// otherwise parse every time (pgx caches prepared statements itself).
// Statements prepared in a transaction close with it.
type stmtTx struct {
	*sql.Tx
	stmts map[string]*sql.Stmt
}

func (t *stmtTx) prepared(ctx context.Context, q string) (*sql.Stmt, error) {
	if st, ok := t.stmts[q]; ok {
		return st, nil
	}
	st, err := t.Tx.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	t.stmts[q] = st
	return st, nil
}

func (t *stmtTx) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	st, err := t.prepared(ctx, q)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(ctx, args...)
}

func (t *stmtTx) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	st, err := t.prepared(ctx, q)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

func (t *stmtTx) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	st, err := t.prepared(ctx, q)
	if err != nil {
		return t.Tx.QueryRowContext(ctx, q, args...) // reports the error
	}
	return st.QueryRowContext(ctx, args...)
}

// Write implements store.Store.
func (s *DB) Write(ctx context.Context, a store.Actor, ops []store.Op) ([]store.Item, error) {
	out := make([]store.Item, 0, len(ops))
	err := s.tx(ctx, func(sqlTx *sql.Tx) error {
		out = out[:0]
		var tx querier = sqlTx
		if s.dialect == sqliteDialect {
			tx = &stmtTx{Tx: sqlTx, stmts: map[string]*sql.Stmt{}}
		}
		version, err := s.lockLog(ctx, tx)
		if err != nil {
			return err
		}
		now := s.Now().UnixMilli()
		for i, op := range ops {
			var it store.Item
			var err error
			if op.Prune {
				it, err = s.prune(ctx, tx, a, op, &version, now)
			} else {
				it, err = s.writeOne(ctx, tx, a, op, &version, now)
			}
			if err != nil {
				return opErr(i, err)
			}
			out = append(out, it)
		}
		_, err = tx.ExecContext(ctx, `UPDATE meta SET value = $1 WHERE name = 'version'`, version)
		return err
	})
	if err != nil {
		return nil, s.dbErr(err, "write")
	}
	return out, nil
}

func (s *DB) writeOne(ctx context.Context, tx querier, a store.Actor, op store.Op, version *int64, now int64) (store.Item, error) {
	kinds, ok := store.EntityKinds[op.Entity]
	if !ok || op.Key == "" {
		return store.Item{}, catalog.Errorf(catalog.Invalid, "bad write op %q/%q", op.Entity, op.Key)
	}
	cur, exists, err := getItem(ctx, tx, op.Entity, op.Key)
	if err != nil {
		return cur, err
	}
	name := strings.TrimSuffix(string(op.Entity), "s")
	switch {
	case op.Create && exists:
		return cur, catalog.Errorf(catalog.Conflict, "%s %q already exists", name, op.Key)
	case op.IfVersion > 0 && (!exists || cur.Version != op.IfVersion):
		return cur, catalog.Errorf(catalog.Precondition, "%s %q has changed (version %d, expected %d)", name, op.Key, cur.Version, op.IfVersion)
	case op.Delete && !exists:
		return cur, catalog.Errorf(catalog.NotFound, "%s %q not found", name, op.Key)
	case !op.Delete && exists && cur.Scope == op.Scope && string(cur.Data) == string(op.Record):
		// Unchanged: no new version; only derived documents that differ
		// from the log (a new embedding model) are logged again.
		chs, err := s.derivedChanges(ctx, tx, op, op.Docs)
		if err != nil || len(chs) == 0 {
			return cur, err
		}
		if err := s.logChanges(ctx, tx, chs, version, now); err != nil {
			return cur, err
		}
		return cur, s.audit(ctx, tx, a, "refresh", string(op.Entity), op.Key, *version, now)
	}
	for _, r := range op.Requires {
		var one int
		err := tx.QueryRowContext(ctx, `SELECT 1 FROM entities WHERE entity = $1 AND ekey = $2`, string(r.Entity), r.Key).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return cur, &catalog.Error{Code: catalog.Invalid, Message: "reference to a missing record",
				Fields: []catalog.FieldError{{Field: r.Field, Message: fmt.Sprintf("%s %q does not exist", strings.TrimSuffix(string(r.Entity), "s"), r.Key)}}}
		} else if err != nil {
			return cur, err
		}
	}
	if op.Delete {
		if err := s.checkDependents(ctx, tx, op.Entity, op.Key); err != nil {
			return cur, err
		}
	} else if len(op.Docs) != len(kinds) {
		return cur, catalog.Errorf(catalog.Invalid, "write op for %s needs %d documents", op.Entity, len(kinds))
	}

	var chs []change
	moved := exists && (op.Delete || cur.Scope != op.Scope)
	if moved {
		for _, k := range kinds {
			chs = append(chs, change{scope: cur.Scope, kind: k, id: store.ChangeID(op.Entity, k, cur.Ref), deleted: true})
		}
	}
	if !op.Delete {
		var derived []store.Doc
		for _, d := range op.Docs {
			if d.Derived && exists && !moved {
				derived = append(derived, d) // logged below if it differs
				continue
			}
			chs = append(chs, change{scope: op.Scope, kind: d.Kind, id: store.ChangeID(op.Entity, d.Kind, op.Ref), data: d.Data})
		}
		dchs, err := s.derivedChanges(ctx, tx, op, derived)
		if err != nil {
			return cur, err
		}
		chs = append(chs, dchs...)
	}
	if err := s.logChanges(ctx, tx, chs, version, now); err != nil {
		return cur, err
	}
	action := "put"
	if op.Delete {
		action = "delete"
		if _, err := tx.ExecContext(ctx, `DELETE FROM entities WHERE entity = $1 AND ekey = $2`, string(op.Entity), op.Key); err != nil {
			return cur, err
		}
	} else {
		if _, err := tx.ExecContext(ctx, `INSERT INTO entities (entity, ekey, scope, ref, data, version, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (entity, ekey) DO UPDATE SET scope = excluded.scope, ref = excluded.ref, data = excluded.data, version = excluded.version, updated_at = excluded.updated_at`,
			string(op.Entity), op.Key, op.Scope, op.Ref, string(op.Record), *version, now); err != nil {
			return cur, err
		}
	}
	if err := s.audit(ctx, tx, a, action, string(op.Entity), op.Key, *version, now); err != nil {
		return cur, err
	}
	return store.Item{Entity: op.Entity, Key: op.Key, Scope: op.Scope, Ref: op.Ref, Data: op.Record, Version: *version, UpdatedAt: time.UnixMilli(now).UTC(), Changed: true}, nil
}

// derivedChanges returns the changes logging the derived documents among
// docs whose data differs from the latest change of the same kind and ID
// in op's scope (a tombstone, or none, differs from everything).
func (s *DB) derivedChanges(ctx context.Context, tx querier, op store.Op, docs []store.Doc) ([]change, error) {
	var out []change
	for _, d := range docs {
		if !d.Derived {
			continue
		}
		id := store.ChangeID(op.Entity, d.Kind, op.Ref)
		var del int
		var data sql.NullString
		// Ordered as the changes_latest index (kind, id, scope, version), so
		// that no planner walks the whole log by version instead
		// (PostgreSQL's generic plans of prepared statements may).
		err := tx.QueryRowContext(ctx, `SELECT deleted, data FROM changes WHERE kind = $1 AND id = $2 AND scope = $3 ORDER BY kind DESC, id DESC, scope DESC, version DESC LIMIT 1`,
			string(d.Kind), id, op.Scope).Scan(&del, &data)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return nil, err
		}
		if err == nil && del == 0 && data.Valid && data.String == string(d.Data) {
			continue
		}
		out = append(out, change{scope: op.Scope, kind: d.Kind, id: id, data: d.Data})
	}
	return out, nil
}

// logChanges appends chs to the log, each with the next version, and marks
// the change each one follows (the latest of its scope, kind and ID) as
// superseded by it.
func (s *DB) logChanges(ctx context.Context, tx querier, chs []change, version *int64, now int64) error {
	if *version+int64(len(chs)) > wire.MaxVersion {
		return catalog.Errorf(catalog.Internal, "the change log is out of JavaScript-safe versions")
	}
	for _, c := range chs {
		*version++
		var data any
		if !c.deleted {
			data = string(c.data)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE changes SET superseded = $1 WHERE kind = $2 AND id = $3 AND scope = $4
  AND version = (SELECT MAX(version) FROM changes WHERE kind = $2 AND id = $3 AND scope = $4)`,
			*version, string(c.kind), c.id, c.scope); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO changes (version, scope, kind, id, deleted, data, at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			*version, c.scope, string(c.kind), c.id, boolInt(c.deleted), data, now); err != nil {
			return err
		}
	}
	return nil
}

// prune deletes the records of op.Entity in op.Scope that op.Keep does not
// list, each as a delete op would (tombstones, dependents, audit).
func (s *DB) prune(ctx context.Context, tx querier, a store.Actor, op store.Op, version *int64, now int64) (store.Item, error) {
	it := store.Item{Entity: op.Entity, Scope: op.Scope, Version: *version, UpdatedAt: time.UnixMilli(now).UTC()}
	if _, ok := store.EntityKinds[op.Entity]; !ok {
		return it, catalog.Errorf(catalog.Invalid, "bad prune op %q", op.Entity)
	}
	keep := make(map[string]bool, len(op.Keep))
	for _, k := range op.Keep {
		keep[k] = true
	}
	rows, err := tx.QueryContext(ctx, `SELECT ekey FROM entities WHERE entity = $1 AND scope = $2 ORDER BY ekey`, string(op.Entity), op.Scope)
	if err != nil {
		return it, err
	}
	var gone []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			rows.Close()
			return it, err
		}
		if !keep[k] {
			gone = append(gone, k)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return it, err
	}
	for _, k := range gone {
		if _, err := s.writeOne(ctx, tx, a, store.Delete(op.Entity, k), version, now); err != nil {
			return it, err
		}
	}
	it.Pruned, it.Version = gone, *version
	return it, nil
}

func (s *DB) checkDependents(ctx context.Context, tx querier, e store.Entity, key string) error {
	var q string
	switch e {
	case store.Products:
		q = `SELECT COUNT(*) FROM entities WHERE entity = 'stock' AND ref = $1`
	case store.Stores:
		q = `SELECT COUNT(*) FROM entities WHERE entity <> 'stores' AND scope = $1`
	default:
		return nil
	}
	var n int64
	if err := tx.QueryRowContext(ctx, q, key).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return catalog.Errorf(catalog.Conflict, "%d records still refer to %s %q; delete them first", n, strings.TrimSuffix(string(e), "s"), key)
	}
	if e == store.Products {
		return s.checkPromotionsName(ctx, tx, key)
	}
	return nil
}

// checkPromotionsName refuses to delete a product that a promotion names (a promotion's SKUs
// live in its JSON: the LIKE finds candidates, the decoded list decides).
func (s *DB) checkPromotionsName(ctx context.Context, tx querier, sku string) error {
	rows, err := tx.QueryContext(ctx, `SELECT ekey, data FROM entities WHERE entity = 'promotions' AND data LIKE $1`, "%"+strconv.Quote(sku)+"%")
	if err != nil {
		return err
	}
	defer rows.Close()
	var naming []string
	for rows.Next() {
		var id, data string
		if err := rows.Scan(&id, &data); err != nil {
			return err
		}
		var p catalog.Promotion
		if err := json.Unmarshal([]byte(data), &p); err == nil && slices.Contains(p.SKUs, sku) {
			naming = append(naming, id)
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(naming) > 0 {
		return catalog.Errorf(catalog.Conflict, "promotion %s still names product %q; change or delete it first", strings.Join(naming, ", "), sku)
	}
	return nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (s *DB) audit(ctx context.Context, tx querier, a store.Actor, action, entity, key string, version, now int64) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO audit (at, actor, token_id, role, ip, action, entity, ekey, version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		now, a.Name, a.TokenID, string(a.Role), a.IP, action, entity, key, version)
	return err
}

// Checkpoint implements store.Store.
func (s *DB) Checkpoint(ctx context.Context, storeID string) (wire.Checkpoint, error) {
	cp, _, err := scanCheckpoint(s.prepared(latestCheckpointQuery).QueryRowContext(ctx, storeID), storeID)
	return cp, s.dbErr(err, "read checkpoint")
}

// CheckpointAt implements store.Store.
func (s *DB) CheckpointAt(ctx context.Context, storeID string, t time.Time) (wire.Checkpoint, error) {
	cp := wire.Checkpoint{Store: storeID}
	var at int64
	err := s.db.QueryRowContext(ctx, `SELECT seq, version, published_at, reason FROM checkpoints WHERE store = $1 AND published_at <= $2 ORDER BY seq DESC LIMIT 1`, storeID, t.UnixMilli()).
		Scan(&cp.Seq, &cp.Version, &at, &cp.Reason)
	if errors.Is(err, sql.ErrNoRows) {
		return cp, nil
	}
	cp.PublishedAt = time.UnixMilli(at).UTC()
	return cp, s.dbErr(err, "read checkpoint")
}

// latestCheckpointQuery reads the latest checkpoint of store $1 (see
// scanCheckpoint).
const latestCheckpointQuery = `SELECT seq, version, published_at, reason, day FROM checkpoints WHERE store = $1 ORDER BY seq DESC LIMIT 1`

func latestCheckpoint(ctx context.Context, q querier, storeID string) (wire.Checkpoint, string, error) {
	return scanCheckpoint(q.QueryRowContext(ctx, latestCheckpointQuery, storeID), storeID)
}

// scanCheckpoint reads a row of latestCheckpointQuery: the checkpoint and
// its local day ("" unless nightly); Seq 0 if the store has none.
func scanCheckpoint(row *sql.Row, storeID string) (wire.Checkpoint, string, error) {
	cp := wire.Checkpoint{Store: storeID}
	var at int64
	var day string
	err := row.Scan(&cp.Seq, &cp.Version, &at, &cp.Reason, &day)
	if errors.Is(err, sql.ErrNoRows) {
		return cp, "", nil
	}
	cp.PublishedAt = time.UnixMilli(at).UTC()
	return cp, day, err
}

// Publish implements store.Store.
func (s *DB) Publish(ctx context.Context, a store.Actor, storeID, reason, day string) (wire.Checkpoint, bool, error) {
	var cp wire.Checkpoint
	created := false
	err := s.tx(ctx, func(tx *sql.Tx) error {
		head, err := s.lockLog(ctx, tx)
		if err != nil {
			return err
		}
		if _, ok, err := getItem(ctx, tx, store.Stores, storeID); err != nil {
			return err
		} else if !ok {
			return catalog.Errorf(catalog.NotFound, "store %q not found", storeID)
		}
		last, _, err := latestCheckpoint(ctx, tx, storeID)
		if err != nil {
			return err
		}
		cp = last
		if reason == wire.ReasonNightly {
			// One nightly run per store and local day, published or not.
			var n int64
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM nightly_runs WHERE store = $1 AND day = $2`, storeID, day).Scan(&n); err != nil || n > 0 {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO nightly_runs (store, day, at) VALUES ($1, $2, $3)`, storeID, day, s.Now().UnixMilli()); err != nil {
				return err
			}
			var changed int
			err := tx.QueryRowContext(ctx, `SELECT 1 FROM changes WHERE scope IN ($1, '') AND version > $2 LIMIT 1`, storeID, last.Version).Scan(&changed)
			if errors.Is(err, sql.ErrNoRows) && last.Seq > 0 {
				return nil
			} else if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return err
			}
		} else {
			day = ""
		}
		now := s.Now()
		cp = wire.Checkpoint{Store: storeID, Seq: last.Seq + 1, Version: head, PublishedAt: time.UnixMilli(now.UnixMilli()).UTC(), Reason: reason}
		if _, err := tx.ExecContext(ctx, `INSERT INTO checkpoints (store, seq, version, published_at, reason, day) VALUES ($1, $2, $3, $4, $5, $6)`,
			storeID, cp.Seq, cp.Version, now.UnixMilli(), reason, day); err != nil {
			return err
		}
		created = true
		if s.dialect == postgres {
			// Delivered to every listener when this transaction commits
			// (never before, never if it rolls back): see Listen.
			if _, err := tx.ExecContext(ctx, `SELECT pg_notify($1, $2)`, NotifyChannel, storeID); err != nil {
				return err
			}
		}
		return s.audit(ctx, tx, a, "publish", string(store.Stores), storeID, head, now.UnixMilli())
	})
	return cp, created, s.dbErr(err, "publish")
}

// kindFilter renders, as SQL conditions each starting with AND, the
// exclusion of the kinds an audience speaking protocol does not see (none
// for staff at the newest protocol). Comparisons, not an IN list: SQLite
// probes a temporary table per row for a list.
func kindFilter(aud wire.Audience, protocol int) string {
	var b strings.Builder
	for _, k := range wire.Kinds {
		if !aud.SeesAt(k, protocol) {
			b.WriteString(" AND kind <> '" + string(k) + "'")
		}
	}
	return b.String()
}

// reader is what selects the kinds of a page: audience and protocol.
type reader struct {
	aud      wire.Audience
	protocol int
}

// visibleQueries holds the visible-set query per reader.
var visibleQueries = func() map[reader]string {
	out := map[reader]string{}
	for _, aud := range []wire.Audience{wire.AudiencePublic, wire.AudienceStaff} {
		for p := wire.MinProtocolVersion; p <= wire.ProtocolVersion; p++ {
			out[reader{aud, p}] = visibleQuery(reader{aud, p})
		}
	}
	return out
}()

// servedQuery reads, for store $1 and target $2, the horizon and whether
// $2 is a checkpoint of the store.
const servedQuery = `SELECT (SELECT value FROM meta WHERE name = 'horizon'),
  (SELECT COUNT(*) FROM (SELECT 1 FROM checkpoints WHERE store = $1 AND version = $2 LIMIT 1) AS c)`

// Changes implements store.Store: the page's rules are pageread's; its
// rows are a range of the target's visible set (see visibleSet).
func (s *DB) Changes(ctx context.Context, req wire.ChangesRequest, aud wire.Audience, protocol int) (wire.Page, error) {
	r := reader{aud, protocol}
	// A page whose visible set and entries are all in memory costs one
	// statement, the horizon and checkpoint check. Otherwise it is read in
	// one read-only transaction, so that the horizon and the log agree
	// (read-only: SQLite then uses a deferred BEGIN, a WAL snapshot, not
	// the write lock that _txlock=immediate takes for writes).
	if page, inMemory, err := s.page(ctx, nil, req, r); inMemory || err != nil {
		return page, err
	}
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return wire.Page{}, s.dbErr(err, "changes")
	}
	defer tx.Rollback()
	page, _, err := s.page(ctx, tx, req, r)
	return page, err
}

// page builds the page of req (a valid request) for r, reading in tx what
// memory lacks; with tx nil it reads only the horizon and checkpoint
// check, and complete is false if memory lacks something.
func (s *DB) page(ctx context.Context, tx *sql.Tx, req wire.ChangesRequest, r reader) (page wire.Page, complete bool, err error) {
	rd, err := pageread.New(req, r.aud, r.protocol)
	if err != nil {
		return wire.Page{}, false, err
	}
	served := s.prepared(servedQuery)
	if tx != nil {
		served = tx.StmtContext(ctx, served)
	}
	var horizon, isCheckpoint int64
	if err := served.QueryRowContext(ctx, req.Store, req.Target).Scan(&horizon, &isCheckpoint); err != nil {
		return rd.Partial(), false, s.dbErr(err, "changes")
	}
	if err := rd.Settle(horizon, isCheckpoint != 0); err != nil {
		return rd.Partial(), false, err
	}
	k := visibleKey{req.Store, req.Target, r}
	vis, ok := s.visibles.get(k)
	if !ok {
		if tx == nil {
			return rd.Partial(), false, nil
		}
		if vis, err = s.readVisible(ctx, tx, k); err != nil {
			return rd.Partial(), false, s.dbErr(err, "changes")
		}
	}
	versions := vis.page(rd.Lower, rd.Reset, rd.Rows)
	entries := make([]wire.Change, len(versions))
	if missing := s.changes.fill(versions, entries); len(missing) > 0 {
		if tx == nil {
			return rd.Partial(), false, nil
		}
		if err := s.readEntries(ctx, tx, versions, missing, entries); err != nil {
			return rd.Partial(), false, s.dbErr(err, "changes")
		}
	}
	rd.AddAll(entries)
	return rd.Page(), true, nil
}

// readEntries reads in tx the log entries of versions[i] for each i of
// missing into out[i], and keeps them in the change cache.
func (s *DB) readEntries(ctx context.Context, tx *sql.Tx, versions []int64, missing []int, out []wire.Change) error {
	var q strings.Builder
	q.WriteString(`SELECT version, kind, id, deleted, data FROM changes WHERE version IN (`)
	args := make([]any, len(missing))
	at := make(map[int64]int, len(missing))
	for j, i := range missing {
		if j > 0 {
			q.WriteString(", ")
		}
		q.WriteString("$" + strconv.Itoa(j+1))
		args[j], at[versions[i]] = versions[i], i
	}
	q.WriteString(")")
	rows, err := tx.QueryContext(ctx, q.String(), args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	read := make([]wire.Change, 0, len(missing))
	for rows.Next() {
		var c wire.Change
		var kind string
		var del int
		var data sql.NullString
		if err := rows.Scan(&c.Version, &kind, &c.ID, &del, &data); err != nil {
			return err
		}
		c.Kind, c.Deleted = wire.Kind(kind), del != 0
		if data.Valid && !c.Deleted {
			c.Data = []byte(data.String)
		}
		out[at[c.Version]] = c
		read = append(read, c)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(read) != len(missing) {
		return fmt.Errorf("%d of %d log entries not found in the transaction that listed them", len(missing)-len(read), len(missing))
	}
	s.changes.add(read)
	return nil
}

// Compact implements store.Store.
func (s *DB) Compact(ctx context.Context, h int64) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		head, err := s.lockLog(ctx, tx)
		if err != nil {
			return err
		}
		var cur int64
		if err := tx.QueryRowContext(ctx, `SELECT value FROM meta WHERE name = 'horizon'`).Scan(&cur); err != nil {
			return err
		}
		if h <= cur {
			return nil
		}
		if h > head {
			return catalog.Errorf(catalog.Invalid, "horizon %d beyond the log's version %d", h, head)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM changes WHERE version <= $1 AND (deleted = 1 OR (superseded <> 0 AND superseded <= $1))`, h); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE meta SET value = $1 WHERE name = 'horizon'`, h)
		return err
	})
	return s.dbErr(err, "compact")
}

// Stats implements store.Store.
func (s *DB) Stats(ctx context.Context) (store.Stats, error) {
	var st store.Stats
	err := s.db.QueryRowContext(ctx, `SELECT (SELECT value FROM meta WHERE name = 'version'), (SELECT value FROM meta WHERE name = 'horizon'), (SELECT COUNT(*) FROM changes)`).
		Scan(&st.Version, &st.Horizon, &st.Changes)
	return st, s.dbErr(err, "stats")
}

// CreateToken implements store.Store.
func (s *DB) CreateToken(ctx context.Context, a store.Actor, t store.Token, hash []byte) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		now := s.Now().UnixMilli()
		return s.insertToken(ctx, tx, a, t, hash, now)
	})
	return s.dbErr(err, "create token")
}

func (s *DB) insertToken(ctx context.Context, tx querier, a store.Actor, t store.Token, hash []byte, now int64) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO tokens (id, name, role, store, hash, created_at, revoked, expires_at) VALUES ($1, $2, $3, $4, $5, $6, 0, $7)`,
		t.ID, t.Name, string(t.Role), t.Store, hex.EncodeToString(hash), now, millis(t.ExpiresAt)); err != nil {
		return err
	}
	return s.audit(ctx, tx, a, "token.create", "tokens", t.ID, 0, now)
}

// millis stores an optional time: Unix milliseconds, 0 for none.
func millis(t *time.Time) int64 {
	if t == nil {
		return 0
	}
	return t.UnixMilli()
}

// optTime reads what millis stored.
func optTime(ms int64) *time.Time {
	if ms == 0 {
		return nil
	}
	t := time.UnixMilli(ms).UTC()
	return &t
}

func scanToken(sc interface{ Scan(...any) error }) (store.Token, error) {
	var t store.Token
	var role string
	var at int64
	var rev int
	var exp int64
	err := sc.Scan(&t.ID, &t.Name, &role, &t.Store, &at, &rev, &exp)
	t.Role, t.CreatedAt, t.Revoked, t.ExpiresAt = store.Role(role), time.UnixMilli(at).UTC(), rev != 0, optTime(exp)
	return t, err
}

// TokenByHash implements store.Store.
func (s *DB) TokenByHash(ctx context.Context, hash []byte) (store.Token, error) {
	t, err := scanToken(s.db.QueryRowContext(ctx, `SELECT id, name, role, store, created_at, revoked, expires_at FROM tokens WHERE hash = $1`, hex.EncodeToString(hash)))
	if errors.Is(err, sql.ErrNoRows) || (err == nil && t.Revoked) {
		return store.Token{}, catalog.Errorf(catalog.Unauthorized, "unknown or revoked token")
	}
	return t, s.dbErr(err, "read token")
}

// ListTokens implements store.Store.
func (s *DB) ListTokens(ctx context.Context) ([]store.Token, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, name, role, store, created_at, revoked, expires_at FROM tokens ORDER BY created_at, id`)
	if err != nil {
		return nil, s.dbErr(err, "list tokens")
	}
	defer rows.Close()
	var out []store.Token
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, s.dbErr(err, "list tokens")
		}
		out = append(out, t)
	}
	return out, s.dbErr(rows.Err(), "list tokens")
}

// RevokeToken implements store.Store. It holds the log's write lock, so
// that of two concurrent revocations of the last two admin tokens the
// second sees the first.
func (s *DB) RevokeToken(ctx context.Context, a store.Actor, id string) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := s.lockLog(ctx, tx); err != nil {
			return err
		}
		var role string
		var revoked int
		err := tx.QueryRowContext(ctx, `SELECT role, revoked FROM tokens WHERE id = $1`, id).Scan(&role, &revoked)
		if errors.Is(err, sql.ErrNoRows) {
			return catalog.Errorf(catalog.NotFound, "token %q not found", id)
		} else if err != nil {
			return err
		}
		if store.Role(role) == store.RoleAdmin && revoked == 0 {
			var active int64
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM tokens WHERE role = $1 AND revoked = 0`, string(store.RoleAdmin)).Scan(&active); err != nil {
				return err
			}
			if active <= 1 {
				return catalog.Errorf(catalog.Conflict, "token %q is the last active admin token: revoking it would lock every admin out until a restart creates a bootstrap token; create another admin token first", id)
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE tokens SET revoked = 1 WHERE id = $1`, id); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "token.revoke", "tokens", id, 0, s.Now().UnixMilli())
	})
	return s.dbErr(err, "revoke token")
}

// Audit implements store.Store.
func (s *DB) Audit(ctx context.Context, before int64, limit int) ([]store.AuditEntry, int64, error) {
	if limit <= 0 || limit > store.MaxListLimit {
		limit = store.DefaultListLimit
	}
	if before <= 0 {
		before = wire.MaxVersion
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id, at, actor, token_id, role, ip, action, entity, ekey, version FROM audit WHERE id < $1 ORDER BY id DESC LIMIT $2`, before, limit+1)
	if err != nil {
		return nil, 0, s.dbErr(err, "audit")
	}
	defer rows.Close()
	var out []store.AuditEntry
	for rows.Next() {
		var e store.AuditEntry
		var at int64
		var role string
		if err := rows.Scan(&e.ID, &at, &e.Actor, &e.TokenID, &role, &e.IP, &e.Action, &e.Entity, &e.Key, &e.Version); err != nil {
			return nil, 0, s.dbErr(err, "audit")
		}
		e.At, e.Role = time.UnixMilli(at).UTC(), store.Role(role)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, s.dbErr(err, "audit")
	}
	var next int64
	if len(out) > limit {
		out = out[:limit]
		next = out[limit-1].ID
	}
	return out, next, nil
}

// reservedMeta are the meta rows that are not markers.
func reservedMeta(name string) bool { return name == "version" || name == "horizon" }

// Marker implements store.Store: a row of the meta table.
func (s *DB) Marker(ctx context.Context, name string) (int64, error) {
	if reservedMeta(name) {
		return 0, catalog.Errorf(catalog.Invalid, "%q is not a marker", name)
	}
	var v int64
	err := s.db.QueryRowContext(ctx, `SELECT value FROM meta WHERE name = $1`, name).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return v, s.dbErr(err, "read marker")
}

// SetMarker implements store.Store.
func (s *DB) SetMarker(ctx context.Context, name string, value int64) error {
	if reservedMeta(name) {
		return catalog.Errorf(catalog.Invalid, "%q is not a marker", name)
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO meta (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = excluded.value`, name, value)
	return s.dbErr(err, "write marker")
}
