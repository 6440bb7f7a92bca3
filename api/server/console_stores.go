package server

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"aisle/api/store"
	"aisle/sync/catalog"
	"aisle/sync/wire"
)

// consoleStores lists the stores (GET /admin/stores).
func (s *Server) consoleStores(c echo.Context) error {
	var stores []catalog.Store
	err := s.eachItem(c.Request().Context(), store.Stores, store.ListQuery{}, func(it store.Item) error {
		var st catalog.Store
		if err := json.Unmarshal(it.Data, &st); err != nil {
			return err
		}
		if m := managedStore(c); m == "" || m == st.ID {
			stores = append(stores, st)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "stores", page{Title: "Stores", Section: "stores", Data: stores})
}

// consoleMaxScan bounds the records a console page reads per entity (10
// pages of the store's largest list).
const consoleMaxScan = 10 * store.MaxListLimit

// eachItem calls f on every record of e matching q, in key order, up to
// consoleMaxScan records.
func (s *Server) eachItem(ctx context.Context, e store.Entity, q store.ListQuery, f func(store.Item) error) error {
	q.Limit = store.MaxListLimit
	for n := 0; n < consoleMaxScan; n += store.MaxListLimit {
		items, next, err := s.store.List(ctx, e, q)
		if err != nil {
			return err
		}
		for _, it := range items {
			if err := f(it); err != nil {
				return err
			}
		}
		if next == "" {
			return nil
		}
		q.After = next
	}
	return nil
}

// consoleStoreParam returns the :store of the path, which must exist and
// be the session's to see (every store for an admin, its own for a
// manager). Every store page reads its store through it.
func (s *Server) consoleStoreParam(c echo.Context) (catalog.Store, error) {
	id, err := s.storeParam(c)
	if err != nil {
		return catalog.Store{}, err
	}
	if m := managedStore(c); m != "" && m != id {
		return catalog.Store{}, catalog.Errorf(catalog.Forbidden, "this token may not manage store %q", id)
	}
	it, err := s.store.Get(c.Request().Context(), store.Stores, id)
	if err != nil {
		return catalog.Store{}, err
	}
	var st catalog.Store
	return st, json.Unmarshal(it.Data, &st)
}

// publishView is what the store page says about publishing: the last
// checkpoint, the nightly run, and the records written since the last
// checkpoint (what a publish, nightly or manual, would seal now).
type publishView struct {
	Store      catalog.Store
	Last       wire.Checkpoint
	LastLocal  string // Last.PublishedAt in the store's time zone
	NightlyAt  string // "HH:MM" local
	NightlyDay string // the local date of the next nightly run
	Pending    []pendingRecord
	// More: more records changed than Pending lists.
	More bool
	// Streams is the number of push streams of this store open on this
	// server process now (Hub.Subscribers): devices online and listening.
	// (Staff tablets' last syncs are on the Staff tablets page.)
	Streams int
	// Devices: the devices seen syncing the store (see devices.go).
	Devices devicesView
}

// devicesView is what the store page says about the devices seen syncing
// the store: how many in recent windows, and the most recent ones.
type devicesView struct {
	Windows []deviceWindow
	Recent  []deviceRow
	// More: more devices were seen than Recent lists.
	More bool
}

// deviceWindow counts the devices whose last sync is within Label.
type deviceWindow struct {
	Label           string // "24 hours"
	Customer, Staff int
}

// deviceRow is one device seen, with times in the store's time zone.
type deviceRow struct {
	Name      string // a short prefix of its ID's hash
	Audience  string
	FirstSeen string
	LastSync  string
}

// maxDevicesShown bounds the devices the store page lists.
const maxDevicesShown = 50

// deviceWindows are the store page's counting windows.
var deviceWindows = []struct {
	label string
	d     time.Duration
}{{"24 hours", 24 * time.Hour}, {"7 days", 7 * 24 * time.Hour}, {"30 days", 30 * 24 * time.Hour}}

// devicesOf reads the store page's devicesView of store id at now.
func (s *Server) devicesOf(ctx context.Context, id string, loc *time.Location, now time.Time) (devicesView, error) {
	var v devicesView
	for _, w := range deviceWindows {
		n, err := s.store.CountDevices(ctx, id, now.Add(-w.d))
		if err != nil {
			return v, err
		}
		v.Windows = append(v.Windows, deviceWindow{Label: w.label, Customer: n.Customer, Staff: n.Staff})
	}
	ds, err := s.store.ListDevices(ctx, id, maxDevicesShown+1)
	if err != nil {
		return v, err
	}
	if len(ds) > maxDevicesShown {
		ds, v.More = ds[:maxDevicesShown], true
	}
	const layout = "2006-01-02 15:04"
	for _, d := range ds {
		name := d.Hash
		if len(name) > 8 {
			name = name[:8]
		}
		v.Recent = append(v.Recent, deviceRow{Name: name, Audience: d.Audience,
			FirstSeen: d.FirstSeen.In(loc).Format(layout), LastSync: d.LastSync.In(loc).Format(layout)})
	}
	return v, nil
}

// pendingRecord is one record written since the last checkpoint.
type pendingRecord struct {
	Entity  store.Entity
	Ref     string
	Version int64
}

// maxPendingShown bounds the pending records the store page lists.
const maxPendingShown = 50

// consoleStore shows one store: publishing (now and nightly), links to its
// pages, its QR posters, and its Staff tablets page.
func (s *Server) consoleStore(c echo.Context) error {
	st, err := s.consoleStoreParam(c)
	if err != nil {
		return err
	}
	v, err := s.publishView(c.Request().Context(), st)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "store", page{Title: st.Name, Store: st.ID, Section: "store", Data: v})
}

// publishView reads what consoleStore shows about publishing. The nightly
// run (RunNightly) publishes at the store's NightlyAt, once per local day,
// and only if the store's log changed since its last checkpoint: the
// records listed here (deletions are sealed too but not listed, since
// deleted records cannot be read back).
func (s *Server) publishView(ctx context.Context, st catalog.Store) (publishView, error) {
	v := publishView{Store: st, NightlyAt: st.NightlyAt, Streams: s.hub.Subscribers(st.ID)}
	if v.NightlyAt == "" {
		v.NightlyAt = catalog.DefaultNightlyAt
	}
	cp, err := s.store.Checkpoint(ctx, st.ID)
	if err != nil {
		return v, err
	}
	v.Last = cp
	now := s.now()
	day, due, err := NightlyDue(st, now)
	if err != nil {
		return v, err
	}
	loc, _ := time.LoadLocation(st.TimeZone) // NightlyDue checked it
	v.NightlyDay = day
	if due {
		v.NightlyDay = now.In(loc).AddDate(0, 0, 1).Format(time.DateOnly)
	}
	if cp.Seq > 0 {
		v.LastLocal = cp.PublishedAt.In(loc).Format("2006-01-02 15:04")
	}
	if v.Devices, err = s.devicesOf(ctx, st.ID, loc, now); err != nil {
		return v, err
	}
	scopes := []*string{&st.ID, new(string)} // the store's records and chain-wide ones
	scan := func(e store.Entity, q store.ListQuery) error {
		return s.eachItem(ctx, e, q, func(it store.Item) error {
			if it.Version <= cp.Version || (e == store.Stores && it.Key != st.ID) {
				return nil
			}
			if len(v.Pending) == maxPendingShown {
				v.More = true
				return nil
			}
			v.Pending = append(v.Pending, pendingRecord{Entity: e, Ref: it.Ref, Version: it.Version})
			return nil
		})
	}
	if err := scan(store.Stores, store.ListQuery{}); err != nil {
		return v, err
	}
	if err := scan(store.Products, store.ListQuery{}); err != nil {
		return v, err
	}
	if err := scan(store.Stock, store.ListQuery{Scope: &st.ID}); err != nil {
		return v, err
	}
	for _, e := range []store.Entity{store.FAQs, store.Promotions} {
		for _, sc := range scopes {
			if err := scan(e, store.ListQuery{Scope: sc}); err != nil {
				return v, err
			}
		}
	}
	return v, nil
}

// consolePublish publishes the store now (POST /admin/stores/:store/publish).
func (s *Server) consolePublish(c echo.Context) error {
	st, err := s.consoleStoreParam(c)
	if err != nil {
		return err
	}
	if _, err := s.publishStore(c.Request().Context(), s.actor(c), st.ID); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/admin/stores/"+st.ID+"?done=published")
}
