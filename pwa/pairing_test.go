package pwa_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// replicaState is what a device's IndexedDB replica of the demo store holds (staffReplica).
type replicaState struct {
	Product      int    `json:"product"`
	ProductStaff int    `json:"product_staff"`
	StockStaff   int    `json:"stock_staff"`
	Credential   bool   `json:"credential"`
	Audience     string `json:"audience"`
}

// replicaJS reads the replica of the demo store in IndexedDB (the database the inference worker
// keeps: sync/replica/idb), never creating it.
const replicaJS = `new Promise((resolve, reject) => {
	const r = indexedDB.open('aisle-catalog-demo');
	r.onupgradeneeded = () => r.transaction.abort(); // not created yet: leave it to the worker
	r.onerror = () => resolve('{}');
	r.onsuccess = () => {
		const db = r.result, out = {};
		const tx = db.transaction(['product', 'product_staff', 'stock_staff', 'meta'], 'readonly');
		for (const s of ['product', 'product_staff', 'stock_staff']) { const q = tx.objectStore(s).count(); q.onsuccess = () => { out[s] = q.result; }; }
		const c = tx.objectStore('meta').get('staff-credential'); c.onsuccess = () => { out.credential = typeof c.result === 'string' && c.result !== ''; };
		const m = tx.objectStore('meta').get('meta'); m.onsuccess = () => { out.audience = m.result ? JSON.parse(m.result).audience : ''; };
		tx.oncomplete = () => { db.close(); resolve(JSON.stringify(out)); };
		tx.onerror = () => { db.close(); reject(tx.error); };
	};
})`

// waitReplica polls the device's replica until ok holds (the inference worker writes it in the
// background), failing with the last state after timeout.
func waitReplica(t *testing.T, ctx context.Context, timeout time.Duration, what string, ok func(replicaState) bool) replicaState {
	t.Helper()
	var st replicaState
	for deadline := time.Now().Add(timeout); ; {
		if s, err := tryEval[string](ctx, 5*time.Second, replicaJS); err == nil {
			st = replicaState{}
			if json.Unmarshal([]byte(s), &st) == nil && ok(st) {
				return st
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting for the replica to hold %s: %+v; page: %s", what, st, pageState(ctx))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// lastChatJSON is everything the page received for its last answer (text and facts).
func lastChatJSON(t *testing.T, ctx context.Context) string {
	return eval[string](t, ctx, 5*time.Second, `JSON.stringify(window.aisleMetrics.lastChat)`)
}

// staffWords are what a staff answer or record carries and a customer must never see
// (seed.go: supplier "<brand> wholesale", notes "reorder at 10").
var staffWords = []string{"wholesale", "reorder at", "backroom", `"staff":`, `"cost":`}

// newConversation starts a new conversation in the page (no follow-up context).
func newConversation(t *testing.T, ctx context.Context) {
	eval[bool](t, ctx, 5*time.Second, `(ui.messages = [], ui.conversation = newID(), true)`)
}

// TestBrowserStaffTabletPairing: an admin creates a pairing through the API; a tablet opens its
// link, the app exchanges the code (which leaves the address bar at once and reaches the server
// only in the exchange's body), keeps the credential in IndexedDB and syncs the staff audience,
// across a reload; the assistant answers a staff question from it. A customer device of the same
// store at the same time (one that opened the used link too) holds no staff record and is told
// no staff field. Once the admin
// revokes the pairing, the tablet's next sync deletes its credential and every staff record and
// it goes on as a customer device, following new checkpoints.
func TestBrowserStaffTabletPairing(t *testing.T) {
	needBrowser(t)
	appDir := app(t)
	modelsDir, _ := models(t, 128<<10)
	srv, _, admin := newStoreServer(t, appDir, modelsDir)
	var p struct{ ID, Code, Link string }
	if err := json.Unmarshal(adminDo(t, srv.URL(), admin, "POST", "/v1/admin/stores/demo/pairings", map[string]any{"name": "Till 1"}, 201), &p); err != nil {
		t.Fatal(err)
	}
	if want := srv.URL() + "/?store=demo#pair=" + p.Code; p.Link != want {
		t.Fatalf("link %q, want %q", p.Link, want)
	}

	mark := srv.mark()
	tablet := startBrowser(t)
	navigate(t, tablet, p.Link)
	if href := eval[string](t, tablet, 5*time.Second, `location.href`); strings.Contains(href, p.Code) || strings.Contains(href, "#") {
		t.Errorf("the pairing code stays in the address bar: %s", href)
	}
	waitFor(t, tablet, 60*time.Second, `window.aislePair && window.aislePair.ok`)
	waitReplica(t, tablet, 60*time.Second, "the staff audience", func(s replicaState) bool {
		return s.Audience == "staff" && s.ProductStaff == 25 && s.StockStaff == 25 && s.Credential
	})
	if got := srv.carrying(mark, p.Code); len(got) != 1 || got[0] != "POST /v1/pair" {
		t.Errorf("requests carrying the pairing code: %q, want only the exchange", got)
	}
	if ls := eval[string](t, tablet, 5*time.Second, `JSON.stringify(Object.assign({}, localStorage))`); strings.Contains(ls, "ask_") {
		t.Errorf("the staff token is in localStorage: %s", ls)
	}

	// Quick answers (no model needed), after a reload: the credential stays on the device.
	eval[bool](t, tablet, 5*time.Second, `(localStorage.setItem('aisle.quick', '1'), true)`)
	reload(t, tablet)
	waitFor(t, tablet, 60*time.Second, `document.body.dataset.catalog === 'synced' && document.body.dataset.staff === 'true' && document.body.dataset.state === 'ready'`)
	if got := askUI(t, tablet, "who supplies the baguette?"); !strings.Contains(got.Text, "Maison wholesale") || got.Answer == nil || got.Answer.Intent != "staff" {
		t.Errorf("staff question on the paired tablet: %q (%+v)", got.Text, got.Answer)
	}

	t.Run("a customer device at the same time", func(t *testing.T) {
		customer := startBrowser(t)
		// The link again, its code used: this device pairs nothing and stays a customer's.
		navigate(t, customer, p.Link)
		waitFor(t, customer, 60*time.Second, `window.aislePair && !window.aislePair.ok && window.aislePair.code === 'unauthorized'`)
		eval[bool](t, customer, 5*time.Second, `(localStorage.setItem('aisle.quick', '1'), true)`)
		reload(t, customer)
		waitFor(t, customer, 60*time.Second, `document.body.dataset.catalog === 'synced' && document.body.dataset.state === 'ready' && document.body.dataset.staff === 'false'`)
		st := waitReplica(t, customer, 30*time.Second, "the store's public records", func(s replicaState) bool { return s.Product == 25 })
		if st.ProductStaff != 0 || st.StockStaff != 0 || st.Credential || st.Audience != "public" {
			t.Fatalf("customer replica: %+v", st)
		}
		got := askUI(t, customer, "who supplies the baguette?")
		all := lastChatJSON(t, customer)
		for _, w := range staffWords {
			if strings.Contains(all, w) {
				t.Errorf("the customer device was told %q: %s", w, all)
			}
		}
		if !strings.Contains(got.Text, "staff devices") {
			t.Errorf("customer's staff question: %q", got.Text)
		}
	})

	// Revoke; the tablet's next sync is refused and it becomes a customer device.
	adminDo(t, srv.URL(), admin, "DELETE", "/v1/admin/pairings/"+p.ID, nil, 204)
	eval[bool](t, tablet, 5*time.Second, `(ui.worker.postMessage({ type: 'catalog-sync' }), true)`)
	st := waitReplica(t, tablet, 60*time.Second, "no staff data", func(s replicaState) bool {
		return s.ProductStaff == 0 && s.StockStaff == 0 && !s.Credential && s.Audience == "public"
	})
	if st.Product != 25 {
		t.Errorf("public records after the revocation: %+v", st)
	}
	waitFor(t, tablet, 30*time.Second, `document.body.dataset.staff === 'false' && window.aisleUnpaired && window.aisleUnpaired.code === 'unauthorized'`)
	newConversation(t, tablet)
	got := askUI(t, tablet, "who supplies the baguette?")
	all := lastChatJSON(t, tablet)
	for _, w := range staffWords {
		if strings.Contains(all, w) {
			t.Errorf("after the revocation the tablet still says %q: %s", w, all)
		}
	}
	if !strings.Contains(got.Text, "staff devices") {
		t.Errorf("staff question after the revocation: %q", got.Text)
	}
	if got := askUI(t, tablet, "where is the baguette?"); !strings.Contains(got.Text, "1A") {
		t.Errorf("customer question after the revocation: %q", got.Text)
	}

	// It follows the store as a customer device: a new checkpoint arrives, still without staff data.
	before := eval[float64](t, tablet, 5*time.Second, `window.aisleCatalog.version`)
	adminDo(t, srv.URL(), admin, "PUT", "/v1/admin/faqs/pairing-test", map[string]any{"store": "demo", "question": "Do you have a staff tablet?", "answer": "Yes."}, 200)
	adminDo(t, srv.URL(), admin, "POST", "/v1/admin/stores/demo/publish", nil, 201)
	eval[bool](t, tablet, 5*time.Second, `(ui.worker.postMessage({ type: 'catalog-sync' }), true)`)
	waitFor(t, tablet, 30*time.Second, fmt.Sprintf(`document.body.dataset.catalog === 'synced' && window.aisleCatalog.version > %v`, before))
	if st := waitReplica(t, tablet, 5*time.Second, "public records", func(s replicaState) bool { return s.Product == 25 }); st.ProductStaff != 0 || st.StockStaff != 0 || st.Audience != "public" {
		t.Errorf("after a new checkpoint: %+v", st)
	}
}

// TestBrowserPairingFromSecondTab: with the app open in one tab (which runs the inference worker
// for every tab), a pairing link opened in a second tab is handed to the first tab's worker:
// the device pairs, and the second tab hears the outcome. A link for another store is refused
// without using its code.
func TestBrowserPairingFromSecondTab(t *testing.T) {
	needBrowser(t)
	appDir := app(t)
	modelsDir, _ := models(t, 128<<10)
	srv, _, admin := newStoreServer(t, appDir, modelsDir)
	pairing := func(store string) (p struct{ ID, Code, Link string }) {
		t.Helper()
		if err := json.Unmarshal(adminDo(t, srv.URL(), admin, "POST", "/v1/admin/stores/"+store+"/pairings", map[string]any{"name": "Till 2"}, 201), &p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	first := startBrowser(t)
	navigate(t, first, srv.URL()+"/?store=demo")
	waitFor(t, first, 60*time.Second, `ui.owner && document.body.dataset.catalog === 'synced'`)

	// A link for another store: refused by the first tab, its code unused.
	adminDo(t, srv.URL(), admin, "POST", "/v1/admin/stores", map[string]any{"id": "other", "name": "Other Store", "time_zone": "UTC"}, 201)
	other := pairing("other")
	tab := newTab(t, first)
	navigate(t, tab, other.Link)
	waitFor(t, tab, 30*time.Second, `!ui.owner && window.aislePair && !window.aislePair.ok && window.aislePair.code === 'invalid'`)
	var listed struct{ Items []struct{ ID, State string } }
	if err := json.Unmarshal(adminDo(t, srv.URL(), admin, "GET", "/v1/admin/stores/other/pairings", nil, 200), &listed); err != nil {
		t.Fatal(err)
	}
	if len(listed.Items) != 1 || listed.Items[0].State != "waiting" {
		t.Errorf("the other store's pairing after a refused hand-over: %+v, want waiting", listed.Items)
	}

	p := pairing("demo")
	tab2 := newTab(t, first)
	navigate(t, tab2, p.Link)
	waitFor(t, tab2, 60*time.Second, `!ui.owner && window.aislePair && window.aislePair.ok`)
	waitReplica(t, tab2, 60*time.Second, "the staff audience", func(s replicaState) bool {
		return s.Audience == "staff" && s.ProductStaff == 25 && s.Credential
	})
	if err := json.Unmarshal(adminDo(t, srv.URL(), admin, "GET", "/v1/admin/stores/demo/pairings", nil, 200), &listed); err != nil {
		t.Fatal(err)
	}
	if len(listed.Items) != 1 || listed.Items[0].State != "paired" {
		t.Errorf("the demo store's pairing: %+v, want paired", listed.Items)
	}
}
