package sqlstore_test

import (
	"context"
	"testing"
	"time"

	"aisle/api/edge"
	"aisle/api/store"
	"aisle/api/store/storetest"
	"aisle/sync/catalog"
	"aisle/sync/wire"
)

// TestEdgeSource: what the origin feeds an edge replica, on both
// databases: the log in order and in bounds, checkpoints past what the
// edge has (and each store's latest even below the horizon), and staff and
// manager credentials only.
func TestEdgeSource(t *testing.T) {
	for _, kind := range []string{"sqlite", "postgres"} {
		t.Run(kind, func(t *testing.T) { testEdgeSource(t, openStore(t, kind).(edge.Source)) })
	}
}

func testEdgeSource(t *testing.T, src edge.Source) {
	ctx := context.Background()
	s := src.(store.Store)
	op := storetest.MustOp(t)
	a := store.Actor{Name: "test", Role: store.RoleAdmin}
	storetest.MustWrite(t, s, op(store.PutStore(catalog.Store{ID: "s1", Name: "One"})), op(store.PutStore(catalog.Store{ID: "s2", Name: "Two"})))
	cp1, _, err := s.Publish(ctx, a, "s1", wire.ReasonManual, "")
	if err != nil {
		t.Fatal(err)
	}
	storetest.MustWrite(t, s, op(store.PutStore(catalog.Store{ID: "s1", Name: "One, renamed"})))
	cp2, _, err := s.Publish(ctx, a, "s1", wire.ReasonManual, "")
	if err != nil {
		t.Fatal(err)
	}
	cpS2, _, err := s.Publish(ctx, a, "s2", wire.ReasonManual, "")
	if err != nil {
		t.Fatal(err)
	}
	head, horizon, err := src.EdgeHead(ctx)
	if err != nil || head != cpS2.Version || horizon != 0 {
		t.Fatalf("head %d horizon %d (%v), want %d 0", head, horizon, err, cpS2.Version)
	}
	rows, err := src.EdgeLog(ctx, 0, head, 2)
	if err != nil || len(rows) != 2 || rows[0].Version != 1 || rows[1].Version != 2 || rows[0].Kind != wire.KindStore || rows[0].Data == "" {
		t.Fatalf("first two rows: %+v %v", rows, err)
	}
	rows, err = src.EdgeLog(ctx, 2, head, 100)
	if err != nil || len(rows) != 1 || rows[0].Version != 3 || rows[0].Data != `{"id":"s1","name":"One, renamed","time_zone":"UTC","nightly_at":"02:00"}` {
		t.Fatalf("rows after 2: %+v %v", rows, err)
	}
	cps, err := src.EdgeCheckpoints(ctx, map[string]int64{"s1": 1}, 0)
	if err != nil || len(cps) != 2 || cps[0] != cp2 || cps[1] != cpS2 {
		t.Fatalf("checkpoints past s1/1: %+v %v, want %+v %+v", cps, err, cp2, cpS2)
	}
	// Compaction: below the horizon only each store's latest checkpoint.
	if err := s.Compact(ctx, cp2.Version); err != nil {
		t.Fatal(err)
	}
	if _, horizon, _ = src.EdgeHead(ctx); horizon != cp2.Version {
		t.Fatalf("horizon %d", horizon)
	}
	cps, err = src.EdgeCheckpoints(ctx, nil, cp2.Version)
	if err != nil || len(cps) != 2 || cps[0] != cp2 || cps[1] != cpS2 {
		t.Fatalf("checkpoints after compaction: %+v %v (cp1 %+v must be left out)", cps, err, cp1)
	}
	// Credentials: staff and managers, revoked ones flagged; no admins.
	exp := time.Now().Add(time.Hour).Truncate(time.Millisecond).UTC()
	for _, tk := range []store.Token{
		{ID: "tok_admin", Name: "admin", Role: store.RoleAdmin},
		{ID: "tok_staff", Name: "staff", Role: store.RoleStaff, Store: "s1", ExpiresAt: &exp},
		{ID: "tok_manager", Name: "manager", Role: store.RoleManager, Store: "s2"},
	} {
		if err := s.CreateToken(ctx, a, tk, []byte(tk.ID)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.RevokeToken(ctx, a, "tok_manager"); err != nil {
		t.Fatal(err)
	}
	creds, err := src.EdgeCredentials(ctx)
	want := []edge.Credential{
		{Hash: "746f6b5f6d616e61676572", ID: "tok_manager", Role: "manager", Store: "s2", Revoked: true},
		{Hash: "746f6b5f7374616666", ID: "tok_staff", Role: "staff", Store: "s1", ExpiresAt: exp.UnixMilli()},
	}
	if err != nil || len(creds) != 2 || creds[0] != want[0] || creds[1] != want[1] {
		t.Fatalf("credentials: %+v %v, want %+v", creds, err, want)
	}
}
