package server_test

import (
	"context"
	"maps"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"aisle/api/server"
	"aisle/sync/client"
	"aisle/sync/replica"
	"aisle/sync/wire"
)

type pairingCreated struct {
	ID        string     `json:"id"`
	Store     string     `json:"store"`
	Name      string     `json:"name"`
	CreatedAt time.Time  `json:"created_at"`
	ExpiresAt *time.Time `json:"expires_at"`
	Code      string     `json:"code"`
	Link      string     `json:"link"`
	QRSVG     string     `json:"qr_svg"`
}

type pairResult struct {
	Token     string     `json:"token"`
	Store     string     `json:"store"`
	ExpiresAt *time.Time `json:"expires_at"`
}

type pairingItem struct {
	ID         string     `json:"id"`
	State      string     `json:"state"`
	TokenID    string     `json:"token_id"`
	LastSyncAt *time.Time `json:"last_sync_at"`
	Code       string     `json:"code"`
}

func (e *env) createPairing(t *testing.T, body map[string]any) pairingCreated {
	t.Helper()
	var p pairingCreated
	e.do("POST", "/v1/admin/stores/demo/pairings", e.Admin, body).want(t, http.StatusCreated).JSON(t, &p)
	return p
}

func (e *env) pairings(t *testing.T) map[string]pairingItem {
	t.Helper()
	var l struct{ Items []pairingItem }
	r := e.do("GET", "/v1/admin/stores/demo/pairings", e.Admin, nil).want(t, 200)
	r.JSON(t, &l)
	out := map[string]pairingItem{}
	for _, it := range l.Items {
		out[it.ID] = it
	}
	return out
}

func (e *env) pair(t *testing.T, code string) response {
	t.Helper()
	return e.do("POST", "/v1/pair", "", map[string]string{"code": code})
}

// staffKinds counts the staff kinds a token receives of the demo store.
func staffKinds(t *testing.T, e *env, token string) int {
	n := 0
	for _, c := range allChanges(t, e, token) {
		if c.Kind == wire.KindProductStaff || c.Kind == wire.KindStockStaff {
			n++
		}
	}
	return n
}

// TestPairingSingleUse: a pairing's code is shown once (with its link and
// QR code), listed never, exchanged once for a staff token of the store;
// a used code and an unknown code get the same answer, on both databases.
func TestPairingSingleUse(t *testing.T) {
	for _, kind := range []dbKind{sqliteDB, postgresDB} {
		t.Run(string(kind), func(t *testing.T) {
			e := newEnv(t, kind, server.Config{PublicURL: "https://shop.example"})
			e.do("POST", "/v1/admin/stores/demo/pairings", e.Admin, map[string]any{}).want(t, 400)
			e.do("POST", "/v1/admin/stores/nowhere/pairings", e.Admin, map[string]any{"name": "x"}).want(t, 404)
			p := e.createPairing(t, map[string]any{"name": "Till 1"})
			if !strings.HasPrefix(p.ID, "pair_") || p.Store != "demo" || p.Name != "Till 1" || p.ExpiresAt != nil || len(p.Code) < 32 {
				t.Fatalf("pairing: %+v", p)
			}
			if want := "https://shop.example/?store=demo#pair=" + p.Code; p.Link != want {
				t.Fatalf("link %q, want %q", p.Link, want)
			}
			if !strings.HasPrefix(p.QRSVG, "<svg") || !strings.Contains(p.QRSVG, "<path") {
				t.Fatalf("qr_svg: %.80s", p.QRSVG)
			}
			list := e.do("GET", "/v1/admin/stores/demo/pairings", e.Admin, nil).want(t, 200)
			if strings.Contains(string(list.Body), p.Code) {
				t.Fatal("the pairing list shows the code")
			}
			if st := e.pairings(t)[p.ID].State; st != server.PairingWaiting {
				t.Fatalf("state %q before pairing", st)
			}

			var pr pairResult
			e.pair(t, p.Code).want(t, http.StatusCreated).JSON(t, &pr)
			if !strings.HasPrefix(pr.Token, server.TokenPrefix) || pr.Store != "demo" || pr.ExpiresAt != nil {
				t.Fatalf("pair: %+v", pr)
			}
			if n := staffKinds(t, e, pr.Token); n != 50 {
				t.Fatalf("the paired tablet received %d staff changes, want 50", n)
			}
			it := e.pairings(t)[p.ID]
			if it.State != server.PairingPaired || it.TokenID == "" || it.LastSyncAt == nil {
				t.Fatalf("after pairing and a sync: %+v", it)
			}

			used := e.pair(t, p.Code)
			unknown := e.pair(t, "no-such-code-"+strings.Repeat("x", 20))
			if used.Status != 401 || unknown.Status != 401 || string(used.Body) != string(unknown.Body) {
				t.Fatalf("used code: %d %s; unknown code: %d %s; want the same 401", used.Status, used.Body, unknown.Status, unknown.Body)
			}
			e.do("POST", "/v1/pair", "", map[string]string{"code": ""}).want(t, 400)
			e.do("POST", "/v1/pair", "", `{"code": "x", "extra": 1}`).want(t, 400)
		})
	}
}

// TestPairingConcurrentRedeem: of concurrent exchanges of one code exactly
// one gets a token.
func TestPairingConcurrentRedeem(t *testing.T) {
	e := newEnv(t, sqliteDB, server.Config{})
	p := e.createPairing(t, map[string]any{"name": "Race"})
	var ok atomic.Int32
	var wg sync.WaitGroup
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if e.pair(t, p.Code).Status == http.StatusCreated {
				ok.Add(1)
			}
		}()
	}
	wg.Wait()
	if ok.Load() != 1 {
		t.Fatalf("%d exchanges succeeded, want 1", ok.Load())
	}
}

// TestPairingExpiry: the pairing's expiry ends its code and the staff
// token it issued (401 token_expired, which clients read as "credential no
// longer valid"), and the list says expired.
func TestPairingExpiry(t *testing.T) {
	var now atomic.Pointer[time.Time]
	set := func(t time.Time) { now.Store(&t) }
	start := time.Now().UTC()
	set(start)
	e := newEnv(t, sqliteDB, server.Config{Now: func() time.Time { return *now.Load() }})
	exp := start.Add(time.Hour).Truncate(time.Second)
	e.do("POST", "/v1/admin/stores/demo/pairings", e.Admin, map[string]any{"name": "past", "expires_at": start.Add(-time.Minute)}).want(t, 400)
	paired := e.createPairing(t, map[string]any{"name": "Till 2", "expires_at": exp})
	waiting := e.createPairing(t, map[string]any{"name": "Till 3", "expires_at": exp})
	if paired.ExpiresAt == nil || !paired.ExpiresAt.Equal(exp) {
		t.Fatalf("expires_at %v, want %v", paired.ExpiresAt, exp)
	}
	var pr pairResult
	e.pair(t, paired.Code).want(t, 201).JSON(t, &pr)
	if pr.ExpiresAt == nil || !pr.ExpiresAt.Equal(exp) {
		t.Fatalf("token expires_at %v, want %v", pr.ExpiresAt, exp)
	}
	e.do("GET", "/v1/stores/demo/checkpoint", pr.Token, nil).want(t, 200)

	set(exp)
	r := e.do("GET", "/v1/stores/demo/checkpoint", pr.Token, nil).want(t, 401)
	if r.ErrCode() != "token_expired" || r.Header.Get("WWW-Authenticate") == "" {
		t.Fatalf("expired token: %s %v", r.Body, r.Header)
	}
	e.do("GET", "/v1/stores/demo/events", pr.Token, nil).want(t, 401)
	if r := e.pair(t, waiting.Code).want(t, 410); !strings.Contains(string(r.Body), "expired") {
		t.Fatalf("expired code: %s", r.Body)
	}
	ps := e.pairings(t)
	if ps[paired.ID].State != server.PairingExpired || ps[waiting.ID].State != server.PairingExpired {
		t.Fatalf("states after expiry: %+v", ps)
	}
}

// TestPairingExpiryEndsStream: a push stream opened with a paired token
// ends when the token expires.
func TestPairingExpiryEndsStream(t *testing.T) {
	e := newEnv(t, sqliteDB, server.Config{PollInterval: -1})
	p := e.createPairing(t, map[string]any{"name": "Short", "expires_at": time.Now().Add(2 * time.Second)})
	var pr pairResult
	e.pair(t, p.Code).want(t, 201).JSON(t, &pr)
	ended := openStream(t, e, pr.Token)
	select {
	case <-ended:
	case <-time.After(10 * time.Second):
		t.Fatal("the stream outlived its token's expiry by 8 s")
	}
}

// TestPairingRevoke: revoking a pairing revokes its token (401 at once,
// push streams ended at once) and a code not yet used (410).
func TestPairingRevoke(t *testing.T) {
	for _, kind := range []dbKind{sqliteDB, postgresDB} {
		t.Run(string(kind), func(t *testing.T) {
			e := newEnv(t, kind, server.Config{PollInterval: -1})
			p := e.createPairing(t, map[string]any{"name": "Till 4"})
			var pr pairResult
			e.pair(t, p.Code).want(t, 201).JSON(t, &pr)
			ended := openStream(t, e, pr.Token)
			other := e.token("staff", "demo")
			kept := openStream(t, e, other)

			e.do("DELETE", "/v1/admin/pairings/"+p.ID, e.Admin, nil).want(t, 204)
			select {
			case <-ended:
			case <-time.After(5 * time.Second):
				t.Fatal("the paired token's stream still open 5 s after the revocation")
			}
			select {
			case <-kept:
				t.Fatal("another token's stream ended")
			default:
			}
			r := e.do("GET", "/v1/stores/demo/checkpoint", pr.Token, nil).want(t, 401)
			if r.ErrCode() != "unauthorized" {
				t.Fatalf("revoked token: %s", r.Body)
			}
			e.do("GET", "/v1/stores/demo/events", pr.Token, nil).want(t, 401)
			if st := e.pairings(t)[p.ID].State; st != server.PairingRevoked {
				t.Fatalf("state %q after revocation", st)
			}
			e.do("DELETE", "/v1/admin/pairings/"+p.ID, e.Admin, nil).want(t, 204)
			e.do("DELETE", "/v1/admin/pairings/pair_none", e.Admin, nil).want(t, 404)

			unused := e.createPairing(t, map[string]any{"name": "Till 5"})
			e.do("DELETE", "/v1/admin/pairings/"+unused.ID, e.Admin, nil).want(t, 204)
			if r := e.pair(t, unused.Code).want(t, 410); !strings.Contains(string(r.Body), "revoked") {
				t.Fatalf("revoked code: %s", r.Body)
			}
		})
	}
}

// TestPairedTabletAndCustomer: while a paired tablet syncs the store's
// staff data, a customer device of the same store still receives no staff
// kind and no staff field.
func TestPairedTabletAndCustomer(t *testing.T) {
	e := newEnv(t, sqliteDB, server.Config{})
	p := e.createPairing(t, map[string]any{"name": "Till 6"})
	var pr pairResult
	e.pair(t, p.Code).want(t, 201).JSON(t, &pr)
	if n := staffKinds(t, e, pr.Token); n != 50 {
		t.Fatalf("tablet: %d staff changes", n)
	}
	checkCustomerChanges(t, allChanges(t, e, ""))
}

// TestPairRateLimited: /v1/pair is rate limited like the rest of /v1.
func TestPairRateLimited(t *testing.T) {
	e := newEnv(t, sqliteDB, server.Config{Rate: 1, Burst: 3})
	for i := 0; ; i++ {
		r := e.pair(t, "guess")
		if r.Status == http.StatusTooManyRequests {
			break
		}
		if r.Status != 401 || i > 10 {
			t.Fatalf("attempt %d: %d %s", i+1, r.Status, r.Body)
		}
	}
}

// TestPairedDeviceNative runs the device's side natively, as the app's
// inference worker does: pair with the code (client.Pair), sync the staff
// audience with the token; once the pairing is revoked the next sync is
// rejected (client.CredentialRejected), DropStaff leaves exactly what a
// customer device holds, and public syncs go on from the same checkpoint.
func TestPairedDeviceNative(t *testing.T) {
	e := newEnv(t, sqliteDB, server.Config{})
	ctx := context.Background()
	p := e.createPairing(t, map[string]any{"name": "Till 7"})
	cred, err := (&client.Client{BaseURL: e.URL}).Pair(ctx, p.Code)
	if err != nil || cred.Store != "demo" || !strings.HasPrefix(cred.Token, server.TokenPrefix) {
		t.Fatalf("pair: %+v %v", cred, err)
	}
	if _, err := (&client.Client{BaseURL: e.URL}).Pair(ctx, p.Code); !client.CredentialRejected(err) {
		t.Fatalf("pairing twice: %v", err)
	}
	tablet := replica.NewMem()
	rep := &replica.Replica{Store: "demo", Audience: wire.AudienceStaff, Storage: tablet}
	if _, err := rep.Sync(ctx, &client.Client{BaseURL: e.URL, Token: cred.Token}); err != nil {
		t.Fatal(err)
	}
	staff := 0
	for k := range tablet.Entities() {
		if k.Kind.Audience() == wire.AudienceStaff {
			staff++
		}
	}
	if staff != 50 {
		t.Fatalf("the tablet holds %d staff records, want 50", staff)
	}
	customer := replica.NewMem()
	if _, err := (&replica.Replica{Store: "demo", Audience: wire.AudiencePublic, Storage: customer}).Sync(ctx, &client.Client{BaseURL: e.URL}); err != nil {
		t.Fatal(err)
	}

	e.do("DELETE", "/v1/admin/pairings/"+p.ID, e.Admin, nil).want(t, 204)
	_, err = rep.Sync(ctx, &client.Client{BaseURL: e.URL, Token: cred.Token})
	if !client.CredentialRejected(err) {
		t.Fatalf("sync after revocation: %v, want the credential rejected", err)
	}
	if err := tablet.DropStaff(ctx); err != nil {
		t.Fatal(err)
	}
	if !maps.EqualFunc(tablet.Entities(), customer.Entities(), func(a, b replica.Record) bool { return string(a.Data) == string(b.Data) && a.Version == b.Version }) {
		t.Fatal("after DropStaff the tablet does not hold what a customer device holds")
	}
	rep.Audience = wire.AudiencePublic
	res, err := rep.Sync(ctx, &client.Client{BaseURL: e.URL})
	if err != nil || res.Applied || res.Pages != 0 {
		t.Fatalf("public sync after DropStaff: %+v %v, want up to date without a page", res, err)
	}
	if meta, _ := tablet.Load(ctx); meta.Audience != wire.AudiencePublic {
		t.Fatalf("audience %q after DropStaff", meta.Audience)
	}
}
