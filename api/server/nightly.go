package server

import (
	"context"
	"encoding/json"
	"time"

	"aisle/api/store"
	"aisle/sync/catalog"
	"aisle/sync/wire"
)

// NightlyDue reports whether st's nightly checkpoint is due at now: the
// store's local wall clock has reached NightlyAt. day is the local date,
// which makes the nightly publish idempotent (once per local day, whatever
// the number of servers, restarts or DST shifts: on a spring-forward day a
// skipped 02:30 fires at 03:00; on a fall-back day the repeated hour does
// not fire twice).
func NightlyDue(st catalog.Store, now time.Time) (day string, due bool, err error) {
	loc, err := time.LoadLocation(st.TimeZone)
	if err != nil {
		return "", false, catalog.Wrap(err, catalog.Invalid, "store %q: time zone %q", st.ID, st.TimeZone)
	}
	at := st.NightlyAt
	if at == "" {
		at = catalog.DefaultNightlyAt
	}
	h, m, ok := catalog.ParseClock(at)
	if !ok {
		return "", false, catalog.Errorf(catalog.Invalid, "store %q: nightly_at %q", st.ID, at)
	}
	local := now.In(loc)
	return local.Format(time.DateOnly), local.Hour()*60+local.Minute() >= h*60+m, nil
}

// RunNightly publishes the nightly checkpoint of every store whose time has
// come and that has not had one for its local day, and notifies its
// streams; then it applies the retention policy (see Config.Retention)
// and forgets the devices unseen for store.DeviceRetention.
// Errors are logged; the next run retries.
func (s *Server) RunNightly(ctx context.Context) {
	now := s.now()
	var stores []string
	defer func() {
		s.applyRetention(ctx, now, stores)
		s.pruneDevices(ctx, now)
	}()
	after := ""
	for {
		items, next, err := s.store.List(ctx, store.Stores, store.ListQuery{After: after, Limit: store.MaxListLimit})
		if err != nil {
			s.log.Warn("nightly: list stores", "err", err)
			return
		}
		for _, it := range items {
			stores = append(stores, it.Key)
			var st catalog.Store
			if err := json.Unmarshal(it.Data, &st); err != nil {
				s.log.Error("nightly: decode store", "store", it.Key, "err", err)
				continue
			}
			day, due, err := NightlyDue(st, now)
			if err != nil {
				s.log.Error("nightly", "err", err)
				continue
			}
			if !due {
				continue
			}
			cp, created, err := s.store.Publish(ctx, store.Actor{Name: "scheduler", Role: store.RoleAdmin}, st.ID, wire.ReasonNightly, day)
			if err != nil {
				s.log.Warn("nightly: publish", "store", st.ID, "err", err)
				continue
			}
			if created {
				s.log.Info("nightly checkpoint", "store", st.ID, "day", day, "seq", cp.Seq, "version", cp.Version)
				s.hub.Broadcast(cp)
			}
		}
		if next == "" {
			return
		}
		after = next
	}
}

// applyRetention raises the log's horizon to the newest version that every
// store had sealed in a checkpoint at least Retention ago, so that the log
// stops growing with history. Devices whose cursor is older then get a
// snapshot. Without a checkpoint that old in some store, nothing happens.
func (s *Server) applyRetention(ctx context.Context, now time.Time, stores []string) {
	if s.cfg.Retention <= 0 || len(stores) == 0 {
		return
	}
	var horizon int64 = -1
	for _, id := range stores {
		cp, err := s.store.CheckpointAt(ctx, id, now.Add(-s.cfg.Retention))
		if err != nil {
			s.log.Warn("retention: read checkpoint", "store", id, "err", err)
			return
		}
		if cp.Seq == 0 {
			return
		}
		if horizon < 0 || cp.Version < horizon {
			horizon = cp.Version
		}
	}
	st, err := s.store.Stats(ctx)
	if err != nil || horizon <= st.Horizon {
		return
	}
	if err := s.store.Compact(ctx, horizon); err != nil {
		s.log.Warn("retention: compact", "horizon", horizon, "err", err)
		return
	}
	s.pages.clear()
	s.log.Info("retention: log compacted", "horizon", horizon)
}
