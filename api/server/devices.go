package server

import (
	"context"
	"crypto/sha256"
	"time"

	"github.com/labstack/echo/v4"

	"aisle/api/store"
	"aisle/sync/wire"
)

// Devices seen: the app sends its anonymous installation ID
// (wire.HeaderDevice: 128 random bits, made once per installation and
// kept beside its replica) with its sync requests. The server keeps, per
// store, only the ID's SHA-256, the audience it synced as (customer, or
// staff for a token that reads the store's staff audience), when it was
// first seen and its last sync, written at most once per
// store.DeviceSyncEvery (an in-process throttle, then the store's own
// conditional upsert), and forgotten after store.DeviceRetention unseen
// (RunNightly). The console's store page counts and lists them. A missing
// or malformed header is ignored, and a failed write is logged: neither
// ever fails a sync request.

// deviceSeen wraps a sync route (checkpoint, changes): once it has
// answered without an error, the calling device, if it sent an ID, is
// noted as seen syncing the store.
func (s *Server) deviceSeen(h echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if err := h(c); err != nil {
			return err
		}
		if c.Response().Status < 400 {
			if id, err := s.storeParam(c); err == nil {
				s.noteDevice(c, id)
			}
		}
		return nil
	}
}

// noteDevice records that the device whose ID the request carries synced
// storeID now (see the package comment above).
func (s *Server) noteDevice(c echo.Context, storeID string) {
	dev := c.Request().Header.Get(wire.HeaderDevice)
	if !wire.ValidDeviceID(dev) {
		return
	}
	sum := sha256.Sum256([]byte(dev))
	aud := store.DeviceCustomer
	if principalOf(c).audience(storeID) == wire.AudienceStaff {
		aud = store.DeviceStaff
	}
	now := s.now().UTC()
	key := storeID + "\x00" + string(sum[:])
	if !s.devices.due(key, now) {
		return
	}
	if err := s.store.NoteDeviceSync(c.Request().Context(), storeID, sum[:], aud, now); err != nil {
		s.devices.forget(key)
		s.log.Warn("noting a device's sync failed", "store", storeID, "err", err)
	}
}

// pruneDevices forgets the devices unseen for store.DeviceRetention.
func (s *Server) pruneDevices(ctx context.Context, now time.Time) {
	n, err := s.store.PruneDevices(ctx, now.Add(-store.DeviceRetention))
	if err != nil {
		s.log.Warn("devices: prune", "err", err)
		return
	}
	if n > 0 {
		s.log.Info("devices: pruned", "count", n)
	}
}
