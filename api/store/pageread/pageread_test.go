package pageread_test

import (
	"reflect"
	"slices"
	"testing"

	"aisle/api/store/pageread"
	"aisle/sync/catalog"
	"aisle/sync/wire"
)

func TestSettle(t *testing.T) {
	for _, tc := range []struct {
		name      string
		given     wire.ChangesRequest
		horizon   int64
		served    bool
		wantCode  catalog.Code
		wantReset bool
		wantLower int64
	}{
		{name: "snapshot from 0", given: wire.ChangesRequest{Target: 50, After: 10}, served: true, wantReset: true, wantLower: 10},
		{name: "delta", given: wire.ChangesRequest{Since: 20, Target: 50, After: 10}, served: true, wantLower: 20},
		{name: "delta, later page", given: wire.ChangesRequest{Since: 20, Target: 50, After: 30}, served: true, wantLower: 30},
		{name: "cursor below the horizon", given: wire.ChangesRequest{Since: 20, Target: 50}, horizon: 25, served: true, wantReset: true},
		{name: "target below the horizon", given: wire.ChangesRequest{Since: 20, Target: 24}, horizon: 25, served: true, wantCode: catalog.Gone},
		{name: "no such checkpoint", given: wire.ChangesRequest{Target: 50}, wantCode: catalog.Gone},
	} {
		p, err := pageread.New(tc.given, wire.AudiencePublic, wire.ProtocolVersion)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		err = p.Settle(tc.horizon, tc.served)
		if catalog.ErrorCode(err) != tc.wantCode && !(err == nil && tc.wantCode == "") {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.wantCode)
			continue
		}
		if err == nil && (p.Reset != tc.wantReset || p.Lower != tc.wantLower || p.Rows != wire.DefaultPageLimit+1) {
			t.Errorf("%s: got reset %v lower %d rows %d", tc.name, p.Reset, p.Lower, p.Rows)
		}
	}
	for _, req := range []wire.ChangesRequest{{Target: 5, Limit: wire.MaxPageLimit + 1}, {Since: 6, Target: 5}, {Target: 5, After: 6}, {Target: wire.MaxVersion + 1}} {
		if _, err := pageread.New(req, wire.AudiencePublic, 1); !catalog.IsCode(err, catalog.Invalid) {
			t.Errorf("%+v: %v", req, err)
		}
	}
	if _, err := pageread.New(wire.ChangesRequest{Target: 5}, wire.AudiencePublic, wire.ProtocolVersion+1); !catalog.IsCode(err, catalog.Invalid) {
		t.Errorf("unknown protocol: %v", err)
	}
}

func TestAdd(t *testing.T) {
	p, _ := pageread.New(wire.ChangesRequest{Store: "s", Target: 9, After: 1, Limit: 2}, wire.AudienceStaff, 1)
	if err := p.Settle(0, true); err != nil {
		t.Fatal(err)
	}
	if got := p.Page(); !got.Done || got.Next != 1 || len(got.Changes) != 0 || got.Changes == nil {
		t.Fatalf("empty page: %+v", got)
	}
	if !p.Add(wire.Change{Version: 3, Kind: wire.KindStock, ID: "a", Data: []byte(`{}`)}) ||
		!p.Add(wire.Change{Version: 5, Kind: wire.KindStock, ID: "b", Deleted: true, Data: []byte(`{}`)}) {
		t.Fatal("page full too early")
	}
	if p.Add(wire.Change{Version: 7, Kind: wire.KindStock, ID: "c"}) {
		t.Fatal("a third change on a page of two")
	}
	got := p.Page()
	if got.Done || got.Next != 5 || len(got.Changes) != 2 || got.Changes[1].Data != nil || !got.Reset || got.Audience != wire.AudienceStaff || got.Protocol != 1 {
		t.Fatalf("full page: %+v", got)
	}
}

// TestAddAllIsAdd: AddAll gives the page that Add, row by row, gives.
func TestAddAllIsAdd(t *testing.T) {
	rows := []wire.Change{{Version: 3, Kind: wire.KindStock, ID: "a", Data: []byte(`{}`)},
		{Version: 5, Kind: wire.KindStock, ID: "b", Deleted: true, Data: []byte(`{}`)}, {Version: 7, Kind: wire.KindStock, ID: "c"}}
	for limit := 1; limit <= 4; limit++ {
		for n := 0; n <= len(rows); n++ {
			read := func() *pageread.Read {
				p, _ := pageread.New(wire.ChangesRequest{Store: "s", Target: 9, After: 1, Limit: limit}, wire.AudienceStaff, 1)
				if err := p.Settle(0, true); err != nil {
					t.Fatal(err)
				}
				return p
			}
			one, all := read(), read()
			for _, c := range rows[:n] {
				if !one.Add(c) {
					break
				}
			}
			all.AddAll(slices.Clone(rows[:n]))
			if got, want := all.Page(), one.Page(); !reflect.DeepEqual(got, want) {
				t.Errorf("limit %d, %d rows: AddAll %+v, Add %+v", limit, n, got, want)
			}
		}
	}
}
