package server_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net/http"
	gosync "sync"
	"testing"

	"aisle/api/server"
	"aisle/sync/client"
	"aisle/sync/replica"
	"aisle/sync/wire"
)

// flakyTransport fails requests, or cuts response bodies short, at random.
type flakyTransport struct {
	mu   gosync.Mutex
	rng  *rand.Rand
	rate float64
}

func (f *flakyTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	f.mu.Lock()
	roll, cut := f.rng.Float64(), f.rng.Float64()
	f.mu.Unlock()
	if roll < f.rate/2 {
		return nil, errors.New("injected: connection refused")
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil || roll >= f.rate {
		return resp, err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body[:int(cut*float64(len(body)))]), errReader{}))
	return resp, nil
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, io.ErrUnexpectedEOF }

// TestHTTPConvergesUnderFaults: random admin writes, publishes and
// compactions through the HTTP API, while customer and staff replicas sync
// over a network that drops requests and cuts bodies. After the faults
// stop, each replica equals a fresh snapshot of the server.
func TestHTTPConvergesUnderFaults(t *testing.T) {
	bothDBs(t, func(t *testing.T, kind dbKind) {
		ctx := context.Background()
		e := newEnv(t, kind, server.Config{})
		staff := e.token("staff", "demo")
		rng := rand.New(rand.NewPCG(42, uint64(len(kind))))
		ft := &flakyTransport{rng: rand.New(rand.NewPCG(7, 7)), rate: 0.3}
		type rep struct {
			r   *replica.Replica
			mem *replica.Mem
			c   *client.Client
		}
		var reps []rep
		for _, a := range []struct {
			aud   wire.Audience
			token string
		}{{wire.AudiencePublic, ""}, {wire.AudienceStaff, staff}} {
			mem := replica.NewMem()
			reps = append(reps, rep{&replica.Replica{Store: "demo", Audience: a.aud, Storage: mem, PageLimit: 1 + rng.IntN(20)}, mem,
				&client.Client{BaseURL: e.URL, Token: a.token, HTTP: &http.Client{Transport: ft}}})
		}
		skus := []string{"MILK-1L", "BUTTER-250", "BAGUETTE", "PASTA-500", "RICE-1K", "COFFEE-250"}
		for step := range 80 {
			sku := skus[rng.IntN(len(skus))]
			switch op := rng.IntN(10); {
			case op < 3:
				e.do("PUT", "/v1/admin/stores/demo/stock/"+sku, e.Admin, map[string]any{"quantity": rng.IntN(100), "staff": map[string]any{"backroom": rng.IntN(9)}}).want(t, 200)
			case op < 5:
				e.do("PUT", "/v1/admin/products/"+sku, e.Admin, map[string]any{"name": fmt.Sprintf("Item %d", rng.IntN(50)), "price": 50 + rng.IntN(500), "active": true,
					"staff": map[string]any{"cost": rng.IntN(40)}}).want(t, 200)
			case op == 5:
				id := fmt.Sprintf("faq-%d", rng.IntN(4))
				if rng.IntN(3) == 0 {
					e.do("DELETE", "/v1/admin/faqs/"+id, e.Admin, nil) // 204 or 404
				} else {
					store := []string{"", "demo"}[rng.IntN(2)]
					e.do("PUT", "/v1/admin/faqs/"+id, e.Admin, map[string]any{"store": store, "question": "Q?", "answer": fmt.Sprint(step)}).want(t, 200)
				}
			case op == 6:
				e.do("POST", "/v1/admin/stores/demo/publish", e.Admin, nil).want(t, 201)
			case op == 7 && rng.IntN(3) == 0:
				var cp wire.Checkpoint
				e.do("GET", "/v1/stores/demo/checkpoint", "", nil).want(t, 200).JSON(t, &cp)
				e.do("POST", "/v1/admin/compact", e.Admin, map[string]any{"horizon": cp.Version})
			default:
				for _, r := range reps {
					_, _ = r.r.Sync(ctx, r.c) // failures are expected
				}
			}
		}
		e.do("POST", "/v1/admin/stores/demo/publish", e.Admin, nil).want(t, 201)
		ft.rate = 0
		for _, r := range reps {
			if _, err := r.r.Sync(ctx, r.c); err != nil {
				t.Fatalf("%s final sync: %v", r.r.Audience, err)
			}
			fresh := replica.NewMem()
			if _, err := (&replica.Replica{Store: "demo", Audience: r.r.Audience, Storage: fresh}).Sync(ctx, &client.Client{BaseURL: e.URL, Token: r.c.Token}); err != nil {
				t.Fatal(err)
			}
			got, want := r.mem.Entities(), fresh.Entities()
			if !maps.EqualFunc(got, want, func(a, b replica.Record) bool { return a.Version == b.Version && bytes.Equal(a.Data, b.Data) }) {
				t.Fatalf("%s replica (%d entities) differs from a fresh snapshot (%d)", r.r.Audience, len(got), len(want))
			}
		}
	})
}
