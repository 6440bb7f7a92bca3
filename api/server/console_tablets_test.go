package server_test

import (
	"context"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"aisle/api/server"
	"aisle/api/store"
)

var pairLinkRe = regexp.MustCompile(`id="pair-link">([^<]+)<`)

// listedPairing is a pairing as GET .../pairings lists it.
type listedPairing struct {
	ID, Name, State, TokenID string
	ExpiresAt                *time.Time `json:"expires_at"`
	LastSyncAt               *time.Time `json:"last_sync_at"`
}

// storePairings lists storeID's pairings through the API, as admin.
func (e *env) storePairings(t *testing.T, storeID string) []listedPairing {
	t.Helper()
	var l struct{ Items []listedPairing }
	e.do("GET", "/v1/admin/stores/"+storeID+"/pairings", e.Admin, nil).want(t, 200).JSON(t, &l)
	return l.Items
}

// TestConsoleTablets: the Staff tablets page pairs a tablet (a name and an
// optional expiry in the store's time zone), shows its QR code and link
// once, lists it, and revokes it; invalid forms write nothing.
func TestConsoleTablets(t *testing.T) {
	e := newEnv(t, sqliteDB, server.Config{})
	cc := newConsoleClient(t, e)
	csrf := cc.signIn(e.Admin)
	if _, body := cc.do("GET", "/admin/stores/demo", nil); !strings.Contains(body, `href="/admin/stores/demo/tablets"`) || strings.Contains(body, "PAIRING:") {
		t.Fatalf("the store page does not link the tablets page:\n%s", body)
	}
	const path = "/admin/stores/demo/tablets"
	var st struct {
		TimeZone string `json:"time_zone"`
	}
	e.do("GET", "/v1/admin/stores/demo", e.Admin, nil).want(t, 200).JSON(t, &st)
	loc, err := time.LoadLocation(st.TimeZone)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, form, expires, want string }{
		{"no name", "  ", "", `id="name-error"`},
		{"not a time", "Till", "tomorrow", `id="expires_at-error"`},
		{"past", "Till", time.Now().Add(-time.Hour).In(loc).Format("2006-01-02T15:04"), "must be in the future"},
	} {
		status, body := cc.do("POST", path, url.Values{"csrf": {csrf}, "name": {tc.form}, "expires_at": {tc.expires}})
		if status != http.StatusUnprocessableEntity || !strings.Contains(body, tc.want) || !strings.Contains(body, `aria-invalid="true"`) {
			t.Errorf("%s: status %d, want 422 with %s:\n%s", tc.name, status, tc.want, body)
		}
	}
	if ps := e.storePairings(t, "demo"); len(ps) != 0 {
		t.Fatalf("invalid forms created pairings: %+v", ps)
	}

	exp := time.Now().Add(48 * time.Hour).In(loc).Truncate(time.Minute)
	// Post/Redirect/Get: the POST answers 303, the list page then shows the code once.
	cc.seen = nil
	status, body := cc.do("POST", path, url.Values{"csrf": {csrf}, "name": {"Till 1"}, "expires_at": {exp.Format("2006-01-02T15:04")}})
	// seen: the POST's URL, the URL it redirected to, the final body
	if status != http.StatusOK || len(cc.seen) != 3 || cc.seen[1] != e.URL+path ||
		!strings.Contains(body, `id="shown-once"`) || !strings.Contains(body, "<svg") || !strings.Contains(body, "<path") {
		t.Fatalf("create: status %d after redirects %v:\n%s", status, cc.seen, body)
	}
	checkAccessible(t, "created pairing", body)
	m := pairLinkRe.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no link on the page:\n%s", body)
	}
	link := html.UnescapeString(m[1])
	_, code, ok := strings.Cut(link, "#pair=")
	if !ok || !strings.HasPrefix(link, e.URL) {
		t.Fatalf("link %q", link)
	}
	ps := e.storePairings(t, "demo")
	if len(ps) != 1 || ps[0].Name != "Till 1" || ps[0].State != server.PairingWaiting || ps[0].ExpiresAt == nil || !ps[0].ExpiresAt.Equal(exp) {
		t.Fatalf("after the form: %+v (want expiry %v)", ps, exp)
	}
	// Listed, never shown again.
	_, body = cc.do("GET", path, nil)
	if strings.Contains(body, code) || !strings.Contains(body, `id="pairing-`+ps[0].ID+`"`) || !strings.Contains(body, "waiting") {
		t.Fatalf("the list page:\n%s", body)
	}
	checkAccessible(t, "listed pairing", body)

	// Revoke: through another store's path it is not found.
	e.do("POST", "/v1/admin/stores", e.Admin, map[string]string{"id": "other", "name": "Other Store", "time_zone": "UTC"}).want(t, 201)
	if status, _ := cc.do("POST", "/admin/stores/other/tablets/"+ps[0].ID+"/revoke", url.Values{"csrf": {csrf}}); status != http.StatusNotFound {
		t.Fatalf("revoke through another store: %d, want 404", status)
	}
	status, body = cc.do("POST", path+"/"+ps[0].ID+"/revoke", url.Values{"csrf": {csrf}})
	if status != 200 || !strings.Contains(body, "Pairing revoked") {
		t.Fatalf("revoke: %d\n%s", status, body)
	}
	if ps := e.storePairings(t, "demo"); ps[0].State != server.PairingRevoked {
		t.Fatalf("after revoking: %+v", ps)
	}
	if r := e.pair(t, code); r.Status != http.StatusGone {
		t.Fatalf("the code of a revoked pairing: %d %s", r.Status, r.Body)
	}
}

// TestConsoleTabletsCSRF: the tablets page's POSTs without the session's
// CSRF token, with a wrong one, or from another origin are refused and
// change nothing.
func TestConsoleTabletsCSRF(t *testing.T) {
	e := newEnv(t, sqliteDB, server.Config{})
	p := e.createPairing(t, map[string]any{"name": "Till 9"})
	cc := newConsoleClient(t, e)
	csrf := cc.signIn(e.Admin)
	for _, path := range []string{"/admin/stores/demo/tablets", "/admin/stores/demo/tablets/" + p.ID + "/revoke"} {
		for _, tc := range []struct {
			name    string
			csrf    string
			headers []string
		}{
			{"missing token", "", nil},
			{"wrong token", strings.Repeat("A", len(csrf)), nil},
			{"cross-origin", csrf, []string{"Origin", "https://evil.example"}},
			{"cross-site fetch", csrf, []string{"Sec-Fetch-Site", "cross-site"}},
		} {
			if status, _ := cc.do("POST", path, url.Values{"csrf": {tc.csrf}, "name": {"Forged"}}, tc.headers...); status != http.StatusForbidden {
				t.Errorf("POST %s, %s: status %d, want 403", path, tc.name, status)
			}
		}
		if status, _ := cc.do("POST", path+"?csrf="+csrf, url.Values{"name": {"Forged"}}); status != http.StatusForbidden {
			t.Errorf("POST %s with the CSRF token in the URL: %d, want 403", path, status)
		}
	}
	if ps := e.storePairings(t, "demo"); len(ps) != 1 || ps[0].State != server.PairingWaiting {
		t.Fatalf("refused POSTs changed the pairings: %+v", ps)
	}
}

// TestPairingManager: a store's manager pairs, lists and revokes its own
// store's tablets, in the API and the console, and no other store's;
// staff may not.
func TestPairingManager(t *testing.T) {
	e := newEnv(t, sqliteDB, server.Config{})
	e.do("POST", "/v1/admin/stores", e.Admin, map[string]string{"id": "other", "name": "Other Store", "time_zone": "UTC"}).want(t, 201)
	manager := e.token(store.RoleManager, server.DemoStoreID)
	staff := e.token(store.RoleStaff, server.DemoStoreID)
	var own, theirs pairingCreated
	e.do("POST", "/v1/admin/stores/demo/pairings", manager, map[string]any{"name": "Till M"}).want(t, 201).JSON(t, &own)
	e.do("POST", "/v1/admin/stores/other/pairings", manager, map[string]any{"name": "Till X"}).want(t, 403)
	e.do("POST", "/v1/admin/stores/demo/pairings", staff, map[string]any{"name": "Till S"}).want(t, 403)
	e.do("GET", "/v1/admin/stores/demo/pairings", manager, nil).want(t, 200)
	e.do("GET", "/v1/admin/stores/other/pairings", manager, nil).want(t, 403)
	e.do("GET", "/v1/admin/stores/demo/pairings", staff, nil).want(t, 403)
	e.do("POST", "/v1/admin/stores/other/pairings", e.Admin, map[string]any{"name": "Till O"}).want(t, 201).JSON(t, &theirs)
	// Another store's pairing: not found for the manager, left alone.
	e.do("DELETE", "/v1/admin/pairings/"+theirs.ID, manager, nil).want(t, 404)
	if ps := e.storePairings(t, "other"); ps[0].State != server.PairingWaiting {
		t.Fatalf("a manager revoked another store's pairing: %+v", ps)
	}
	e.do("DELETE", "/v1/admin/pairings/"+own.ID, staff, nil).want(t, 403)
	e.do("DELETE", "/v1/admin/pairings/"+own.ID, manager, nil).want(t, 204)
	if ps := e.storePairings(t, "demo"); ps[0].State != server.PairingRevoked {
		t.Fatalf("the manager's revocation: %+v", ps)
	}

	// The console: the same rule.
	cc := newConsoleClient(t, e)
	_, body := cc.do("GET", "/admin/signin", nil)
	_, body = cc.do("POST", "/admin/signin", url.Values{"pre": {preRe.FindStringSubmatch(body)[1]}, "token": {manager}})
	csrf := csrfRe.FindStringSubmatch(body)[1]
	if status, _ := cc.do("GET", "/admin/stores/other/tablets", nil); status != http.StatusForbidden {
		t.Errorf("manager GET another store's tablets: %d, want 403", status)
	}
	if status, _ := cc.do("POST", "/admin/stores/other/tablets", url.Values{"csrf": {csrf}, "name": {"Till X"}}); status != http.StatusForbidden {
		t.Errorf("manager pairs another store's tablet: %d, want 403", status)
	}
	if status, _ := cc.do("POST", "/admin/stores/other/tablets/"+theirs.ID+"/revoke", url.Values{"csrf": {csrf}}); status != http.StatusForbidden {
		t.Errorf("manager revokes another store's pairing: %d, want 403", status)
	}
	status, body := cc.do("POST", "/admin/stores/demo/tablets", url.Values{"csrf": {csrf}, "name": {"Till C"}})
	if status != http.StatusOK || !strings.Contains(body, `id="pair-qr"`) {
		t.Fatalf("manager pairs its store's tablet: %d\n%s", status, body)
	}
	checkAccessible(t, "manager's created pairing", body)
	if ps := e.storePairings(t, "other"); len(ps) != 1 || ps[0].State != server.PairingWaiting {
		t.Fatalf("the other store's pairings: %+v", ps)
	}
}

// TestPairingLastSyncShared: a tablet's last sync is stored, so a second
// server process on the same database lists what the first one saw; it
// is written at most once a minute per token.
func TestPairingLastSyncShared(t *testing.T) {
	e := newEnv(t, sqliteDB, server.Config{})
	p := e.createPairing(t, map[string]any{"name": "Till L"})
	var pr pairResult
	e.pair(t, p.Code).want(t, 201).JSON(t, &pr)
	// Server B: the same database, its own clock.
	t0 := time.Now().Add(time.Hour).UTC().Truncate(time.Millisecond)
	var clock atomic.Int64
	clock.Store(t0.UnixMilli())
	srv, err := server.New(e.Store, server.Config{Rate: -1, Logger: quietLogger(), NightlyInterval: -1, PollInterval: -1,
		Now: func() time.Time { return time.UnixMilli(clock.Load()) }})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() { srv.Shutdown(context.Background()); hs.Close() })
	b := *e
	b.URL = hs.URL
	for _, tc := range []struct {
		after time.Duration
		want  time.Duration
	}{
		{0, 0},
		{30 * time.Second, 0},
		{61 * time.Second, 61 * time.Second},
	} {
		clock.Store(t0.Add(tc.after).UnixMilli())
		b.do("GET", "/v1/stores/demo/checkpoint", pr.Token, nil).want(t, 200)
		// Listed by server A (the request above returned after the write).
		ps := e.storePairings(t, "demo")
		if len(ps) != 1 || ps[0].LastSyncAt == nil || !ps[0].LastSyncAt.Equal(t0.Add(tc.want)) {
			t.Fatalf("a sync at +%v: listed %+v, want last sync +%v", tc.after, ps, tc.want)
		}
	}
}

// TestConsoleBrowserTablets: in the browser, pair a tablet from the store
// page (its QR code rendered inline under the console's CSP, its link
// shown), exchange its code as the tablet would, see it paired with a
// last sync, and revoke it: the tablet's token is refused.
func TestConsoleBrowserTablets(t *testing.T) {
	b := newConsoleTab(t)
	b.signIn(b.e.Admin)
	b.open("/admin/stores/demo")
	b.run(chromedp.Click(chromedp.CSS("#tablets-link")))
	b.waitJS(`!!document.querySelector("#pair-form") && location.pathname === "/admin/stores/demo/tablets"`)
	b.run(chromedp.SetValue(chromedp.CSS("#name"), "Till 1"), chromedp.Click(chromedp.CSS("#pair")))
	// The QR code is drawn (a sized, visible SVG with its modules), the
	// link is shown as text, and the page says it is shown once.
	b.waitJS(`(() => { const s = document.querySelector("#pair-qr svg"); if (!s || !s.querySelector("path")) return false;
		const r = s.getBoundingClientRect(); return r.width >= 200 && r.height >= 200 && s.checkVisibility() &&
		document.querySelector("#pair-link").innerText.includes("#pair=") &&
		document.querySelector("#shown-once").innerText.includes("Shown once"); })()`)
	if over := eval[bool](t, b.ctx, `document.documentElement.scrollWidth > window.innerWidth`); over {
		t.Errorf("the tablets page overflows an 820px-wide tablet")
	}
	link := b.text("#pair-link")
	_, code, _ := strings.Cut(link, "#pair=")
	if !strings.HasPrefix(link, b.e.URL) || code == "" {
		t.Fatalf("link %q", link)
	}
	if st := b.text("#pairings tbody tr .state"); st != server.PairingWaiting {
		t.Fatalf("listed as %q, want waiting", st)
	}

	// The tablet exchanges the code and syncs.
	var pr pairResult
	b.e.pair(t, code).want(t, 201).JSON(t, &pr)
	b.e.do("GET", "/v1/stores/demo/checkpoint", pr.Token, nil).want(t, 200)
	b.open("/admin/stores/demo/tablets")
	b.waitJS(`document.querySelector("#pairings tbody tr .state").innerText === "paired" &&
		/^\d{4}-\d\d-\d\d \d\d:\d\d$/.test(document.querySelector("#pairings tbody tr .last-sync").innerText.trim())`)
	if strings.Contains(eval[string](t, b.ctx, `document.body.innerHTML`), code) {
		t.Fatal("the code is shown again")
	}

	// Revoke: the tablet's token is refused.
	b.run(chromedp.Click(chromedp.CSS(`#pairings tbody tr button.danger`)))
	b.waitJS(`(document.querySelector("#flash") || {innerText: ""}).innerText.startsWith("Pairing revoked") &&
		document.querySelector("#pairings tbody tr .state").innerText === "revoked"`)
	b.e.do("GET", "/v1/stores/demo/checkpoint", pr.Token, nil).want(t, 401)
}
