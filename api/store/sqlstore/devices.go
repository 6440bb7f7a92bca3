package sqlstore

import (
	"context"
	"encoding/hex"
	"time"

	"aisle/api/store"
)

// NoteDeviceSync implements store.Store: one upsert whose update is
// conditioned on the recorded last sync being at least DeviceSyncEvery
// older, so concurrent callers (several server processes) write at most
// once per DeviceSyncEvery, and a late request never moves it back.
func (s *DB) NoteDeviceSync(ctx context.Context, storeID string, hash []byte, audience string, at time.Time) error {
	ms := at.UnixMilli()
	_, err := s.db.ExecContext(ctx, `INSERT INTO devices (store, hash, audience, first_seen, last_sync_at) VALUES ($1, $2, $3, $4, $4)
ON CONFLICT (store, hash) DO UPDATE SET last_sync_at = excluded.last_sync_at, audience = excluded.audience
WHERE devices.last_sync_at <= $5`,
		storeID, hex.EncodeToString(hash), audience, ms, ms-store.DeviceSyncEvery.Milliseconds())
	return s.dbErr(err, "note device sync")
}

// CountDevices implements store.Store.
func (s *DB) CountDevices(ctx context.Context, storeID string, since time.Time) (store.DeviceCounts, error) {
	var c store.DeviceCounts
	rows, err := s.db.QueryContext(ctx, `SELECT audience, COUNT(*) FROM devices WHERE store = $1 AND last_sync_at >= $2 GROUP BY audience`,
		storeID, since.UnixMilli())
	if err != nil {
		return c, s.dbErr(err, "count devices")
	}
	defer rows.Close()
	for rows.Next() {
		var aud string
		var n int
		if err := rows.Scan(&aud, &n); err != nil {
			return c, s.dbErr(err, "count devices")
		}
		switch aud {
		case store.DeviceStaff:
			c.Staff += n
		default:
			c.Customer += n
		}
	}
	return c, s.dbErr(rows.Err(), "count devices")
}

// ListDevices implements store.Store.
func (s *DB) ListDevices(ctx context.Context, storeID string, limit int) ([]store.Device, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT hash, audience, first_seen, last_sync_at FROM devices WHERE store = $1
ORDER BY last_sync_at DESC, hash LIMIT $2`, storeID, limit)
	if err != nil {
		return nil, s.dbErr(err, "list devices")
	}
	defer rows.Close()
	var out []store.Device
	for rows.Next() {
		d := store.Device{Store: storeID}
		var first, last int64
		if err := rows.Scan(&d.Hash, &d.Audience, &first, &last); err != nil {
			return nil, s.dbErr(err, "list devices")
		}
		d.FirstSeen, d.LastSync = time.UnixMilli(first).UTC(), time.UnixMilli(last).UTC()
		out = append(out, d)
	}
	return out, s.dbErr(rows.Err(), "list devices")
}

// PruneDevices implements store.Store.
func (s *DB) PruneDevices(ctx context.Context, cutoff time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM devices WHERE last_sync_at < $1`, cutoff.UnixMilli())
	if err != nil {
		return 0, s.dbErr(err, "prune devices")
	}
	n, err := res.RowsAffected()
	return n, s.dbErr(err, "prune devices")
}
