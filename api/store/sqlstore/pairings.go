package sqlstore

import (
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"time"

	"aisle/api/store"
	"aisle/sync/catalog"
)

// CreatePairing implements store.Store.
func (s *DB) CreatePairing(ctx context.Context, a store.Actor, p store.Pairing, codeHash []byte) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		now := s.Now().UnixMilli()
		if _, err := tx.ExecContext(ctx, `INSERT INTO pairings (id, store, name, code_hash, created_at, expires_at, token_id, paired_at, revoked) VALUES ($1, $2, $3, $4, $5, $6, '', 0, 0)`,
			p.ID, p.Store, p.Name, hex.EncodeToString(codeHash), p.CreatedAt.UnixMilli(), millis(p.ExpiresAt)); err != nil {
			return err
		}
		return s.audit(ctx, tx, a, "pairing.create", "pairings", p.ID, 0, now)
	})
	return s.dbErr(err, "create pairing")
}

// pairingColumns are what scanPairing reads: a pairing revoked itself or
// through its token counts as revoked.
const pairingColumns = `p.id, p.store, p.name, p.created_at, p.expires_at, p.token_id, p.paired_at, p.last_sync_at,
  CASE WHEN p.revoked <> 0 OR COALESCE(t.revoked, 0) <> 0 THEN 1 ELSE 0 END
  FROM pairings p LEFT JOIN tokens t ON t.id = p.token_id AND p.token_id <> ''`

func scanPairing(sc interface{ Scan(...any) error }) (store.Pairing, error) {
	var p store.Pairing
	var created, expires, paired, synced int64
	var rev int
	err := sc.Scan(&p.ID, &p.Store, &p.Name, &created, &expires, &p.TokenID, &paired, &synced, &rev)
	p.CreatedAt, p.ExpiresAt, p.PairedAt, p.Revoked = time.UnixMilli(created).UTC(), optTime(expires), optTime(paired), rev != 0
	p.LastSyncAt = optTime(synced)
	return p, err
}

// ListPairings implements store.Store.
func (s *DB) ListPairings(ctx context.Context, storeID string) ([]store.Pairing, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+pairingColumns+` WHERE p.store = $1 ORDER BY p.created_at, p.id`, storeID)
	if err != nil {
		return nil, s.dbErr(err, "list pairings")
	}
	defer rows.Close()
	var out []store.Pairing
	for rows.Next() {
		p, err := scanPairing(rows)
		if err != nil {
			return nil, s.dbErr(err, "list pairings")
		}
		out = append(out, p)
	}
	return out, s.dbErr(rows.Err(), "list pairings")
}

// ErrPairingCode is the one answer for an unknown and a used pairing code,
// so that codes cannot be probed.
const ErrPairingCode = "unknown or already used pairing code"

// RedeemPairing implements store.Store. The pairing is claimed by an
// UPDATE conditioned on its still being unpaired, so of two concurrent
// redemptions exactly one claims it (the other sees no row updated).
func (s *DB) RedeemPairing(ctx context.Context, a store.Actor, codeHash []byte, now time.Time, t store.Token, tokenHash []byte) (store.Pairing, store.Token, error) {
	var p store.Pairing
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var err error
		p, err = scanPairing(tx.QueryRowContext(ctx, `SELECT `+pairingColumns+` WHERE p.code_hash = $1`, hex.EncodeToString(codeHash)))
		switch {
		case errors.Is(err, sql.ErrNoRows) || (err == nil && p.TokenID != ""):
			return catalog.Errorf(catalog.Unauthorized, ErrPairingCode)
		case err != nil:
			return err
		case p.Revoked:
			return catalog.Errorf(catalog.Gone, "this pairing was revoked; ask an admin for a new pairing code")
		case p.ExpiresAt != nil && !now.Before(*p.ExpiresAt):
			return catalog.Errorf(catalog.Gone, "this pairing code has expired; ask an admin for a new one")
		}
		t.Role, t.Store, t.ExpiresAt = store.RoleStaff, p.Store, p.ExpiresAt
		res, err := tx.ExecContext(ctx, `UPDATE pairings SET token_id = $1, paired_at = $2 WHERE id = $3 AND token_id = ''`, t.ID, now.UnixMilli(), p.ID)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n != 1 {
			return catalog.Errorf(catalog.Unauthorized, ErrPairingCode)
		}
		if err := s.insertToken(ctx, tx, a, t, tokenHash, now.UnixMilli()); err != nil {
			return err
		}
		p.TokenID, p.PairedAt = t.ID, &now
		return s.audit(ctx, tx, a, "pairing.redeem", "pairings", p.ID, 0, now.UnixMilli())
	})
	if err != nil {
		return store.Pairing{}, store.Token{}, s.dbErr(err, "redeem pairing")
	}
	t.CreatedAt = time.UnixMilli(now.UnixMilli()).UTC()
	return p, t, nil
}

// RevokePairing implements store.Store.
func (s *DB) RevokePairing(ctx context.Context, a store.Actor, id, storeID string) (store.Pairing, error) {
	var p store.Pairing
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var err error
		p, err = scanPairing(tx.QueryRowContext(ctx, `SELECT `+pairingColumns+` WHERE p.id = $1`, id))
		if errors.Is(err, sql.ErrNoRows) || (err == nil && storeID != "" && p.Store != storeID) {
			return catalog.Errorf(catalog.NotFound, "pairing %q not found", id)
		} else if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE pairings SET revoked = 1 WHERE id = $1`, id); err != nil {
			return err
		}
		if p.TokenID != "" {
			if _, err := tx.ExecContext(ctx, `UPDATE tokens SET revoked = 1 WHERE id = $1`, p.TokenID); err != nil {
				return err
			}
		}
		p.Revoked = true
		return s.audit(ctx, tx, a, "pairing.revoke", "pairings", id, 0, s.Now().UnixMilli())
	})
	return p, s.dbErr(err, "revoke pairing")
}

// NotePairingSync implements store.Store: one conditional UPDATE, so
// concurrent callers (several server processes) write at most once per
// PairingSyncEvery.
func (s *DB) NotePairingSync(ctx context.Context, tokenID string, at time.Time) error {
	if tokenID == "" {
		return nil
	}
	ms := at.UnixMilli()
	_, err := s.db.ExecContext(ctx, `UPDATE pairings SET last_sync_at = $1 WHERE token_id = $2 AND last_sync_at <= $3`,
		ms, tokenID, ms-store.PairingSyncEvery.Milliseconds())
	return s.dbErr(err, "note pairing sync")
}
