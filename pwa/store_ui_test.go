package pwa_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// bundledModel is the app's default model, as `make run` publishes it.
const bundledModel, bundledModelID = "../worker/assistant/model/aisle-assistant.gguf", "aisle-assistant"

// openDemoStore opens the app on the seeded demo store with the GGUF at path published as model
// id, and waits until the catalog is synced, the model loaded and the store's conversation start
// evaluated (or restored).
func openDemoStore(t testing.TB, path, id string) (*server, context.Context) {
	t.Helper()
	return openDemoStoreWithHours(t, path, id, "")
}

// openDemoStoreWithHours is openDemoStore with the store's opening hours (which its conversation
// start, the system prompt, quotes) replaced by hours when it is not empty.
func openDemoStoreWithHours(t testing.TB, path, id, hours string) (*server, context.Context) {
	t.Helper()
	appDir := app(t)
	modelsDir, _ := publishModel(t, path, id, 0)
	srv, _, admin := newStoreServerSeeded(t, appDir, modelsDir, true)
	if hours != "" {
		adminDo(t, srv.URL(), admin, "PUT", "/v1/admin/faqs/hours", map[string]any{"store": "demo",
			"question": "What are the opening hours?", "answer": hours, "tags": []string{"hours"}}, 200)
		adminDo(t, srv.URL(), admin, "POST", "/v1/admin/stores/demo/publish", nil, 201)
	}
	ctx := startBrowser(t)
	navigate(t, ctx, srv.URL()+"/")
	waitFor(t, ctx, 60*time.Second, `document.body.dataset.catalog === 'synced' && !!navigator.serviceWorker.controller`)
	waitReady(t, ctx, true)
	waitFor(t, ctx, 120*time.Second, `window.aisleMetrics.warmMS !== undefined`)
	return srv, ctx
}

// openDemoStoreQuick opens the app on the seeded demo store in quick mode (the catalog's own
// answers: no model needed) and waits until the catalog is synced and the chat is ready.
func openDemoStoreQuick(t testing.TB) (*server, context.Context) {
	t.Helper()
	appDir := app(t)
	modelsDir, _ := models(t, 128<<10)
	srv, _, _ := newStoreServerSeeded(t, appDir, modelsDir, true)
	ctx := startBrowser(t)
	navigate(t, ctx, srv.URL()+"/?store=demo")
	eval[bool](t, ctx, 5*time.Second, `(localStorage.setItem('aisle.quick', '1'), true)`)
	reload(t, ctx)
	waitFor(t, ctx, 60*time.Second, `document.body.dataset.catalog === 'synced' && document.body.dataset.state === 'ready' && document.querySelectorAll('#suggestions button').length > 0`)
	return srv, ctx
}

// TestBrowserStoreIdentityAndCards: the page shows the store's name, the catalog's state, a
// greeting and suggested questions from its catalog; an answer's facts are drawn as cards (name,
// price, stock badge, aisle; an FAQ's answer); "New conversation" starts over; an unknown store
// says so, and the assistant says it has no catalog. Screenshots at a phone's and a tablet's size
// are written to $AISLE_SCREENSHOTS when set (to look at them).
func TestBrowserStoreIdentityAndCards(t *testing.T) {
	needBrowser(t)
	srv, ctx := openDemoStoreQuick(t)

	if name := eval[string](t, ctx, 5*time.Second, `document.querySelector('#store-name').textContent`); name != "Aisle Demo Market" {
		t.Errorf("store name %q", name)
	}
	// The push stream may start another sync at any time ("Updating · ..."): wait for it to settle.
	waitFor(t, ctx, 30*time.Second, `document.querySelector('#store-status').textContent.startsWith('Up to date · catalog of ')`)
	if welcome := eval[string](t, ctx, 5*time.Second, `document.querySelector('#welcome-text').textContent`); !strings.Contains(welcome, "Aisle Demo Market") {
		t.Errorf("greeting %q", welcome)
	}
	suggestions := eval[[]string](t, ctx, 5*time.Second, `[...document.querySelectorAll('#suggestions button')].map((b) => b.textContent)`)
	if len(suggestions) < 3 {
		t.Errorf("suggestions %q, want 3 or 4", suggestions)
	}
	screenshot(t, ctx, "store-welcome-phone")

	// A suggestion asks itself; its answer comes with cards.
	eval[bool](t, ctx, 5*time.Second, `(document.querySelector('#suggestions button').click(), true)`)
	waitFor(t, ctx, 30*time.Second, `document.querySelectorAll('#log .msg.assistant .card').length > 0 && document.body.dataset.state === 'ready'`)
	if hidden := eval[bool](t, ctx, 5*time.Second, `document.querySelector('#welcome').hidden`); !hidden {
		t.Error("the greeting stays above a conversation")
	}
	got := askUI(t, ctx, "how much is the baguette?")
	card := eval[string](t, ctx, 5*time.Second, `[...document.querySelectorAll('#log .msg.assistant')].pop().querySelector('.card').textContent`)
	if got.Answer == nil || len(got.Answer.Facts) == 0 || got.Answer.Facts[0].Price == nil {
		t.Fatalf("no product fact: %q %+v", got.Text, got.Answer)
	}
	f := got.Answer.Facts[0]
	price := fmt.Sprintf("%.2f", *f.Price) // as the answer writes it, and the card (Intl) too
	if !strings.Contains(card, "Baguette") || !strings.Contains(card, "Aisle "+f.Aisle) || !strings.Contains(card, price) ||
		!strings.Contains(got.Text, price) || !strings.Contains(card, "In stock") && !strings.Contains(card, "Few left") && !strings.Contains(card, "Out of stock") {
		t.Errorf("card %q for the answer %q (fact %+v)", card, got.Text, f)
	}
	askUI(t, ctx, "when are you open on sunday?")
	faq := eval[string](t, ctx, 5*time.Second, `[...document.querySelectorAll('#log .msg.assistant')].pop().querySelector('.card').textContent`)
	if !strings.Contains(strings.ToLower(faq), "sunday") && !strings.Contains(strings.ToLower(faq), "open") {
		t.Errorf("FAQ card %q", faq)
	}
	screenshot(t, ctx, "store-cards-phone")
	if overflow := eval[bool](t, ctx, 5*time.Second, `document.documentElement.scrollWidth > window.innerWidth`); overflow {
		t.Error("cards make the page scroll sideways on a phone")
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(800, 1280)); err != nil {
		t.Fatal(err)
	}
	screenshot(t, ctx, "store-cards-tablet")
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(412, 915)); err != nil {
		t.Fatal(err)
	}

	// New conversation: an empty log, the greeting back, no earlier turn sent.
	eval[bool](t, ctx, 5*time.Second, `(document.querySelector('#new-chat').click(), true)`)
	if n := eval[int](t, ctx, 5*time.Second, `document.querySelectorAll('#log .msg').length + ui.messages.length + (document.querySelector('#welcome').hidden ? 1 : 0)`); n != 0 {
		t.Errorf("after New conversation: %d messages or a hidden greeting", n)
	}
	if got := askUI(t, ctx, "where is it?"); got.Answer != nil && len(got.Answer.Facts) > 0 && got.Answer.Facts[0].Type == "product" {
		t.Errorf("a new conversation remembered the last product: %q", got.Text)
	}

	// An unknown store: said plainly, and the assistant has no catalog to answer from.
	navigate(t, ctx, srv.URL()+"/?store=no-such-store")
	waitFor(t, ctx, 60*time.Second, `/not found/.test(document.querySelector('#store-status').textContent) && document.body.dataset.state === 'ready'`)
	if got := askUI(t, ctx, "how much is the baguette?"); got.Answer == nil || got.Answer.Intent != "unavailable" {
		t.Errorf("unknown store: %q (%+v)", got.Text, got.Answer)
	}
	screenshot(t, ctx, "store-unknown-phone")
}

// screenshot writes the page to $AISLE_SCREENSHOTS/name.png when that is set.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("AISLE_SCREENSHOTS")
	if dir == "" {
		return
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestBrowserConversationsStayOnTheDevice: a conversation survives a reload (listed, reopened with
// its turns and cards, its follow-up understood), conversations are listed newest first, one or
// all can be deleted, and none of it reaches the server.
func TestBrowserConversationsStayOnTheDevice(t *testing.T) {
	needBrowser(t)
	srv, ctx := openDemoStoreQuick(t)
	ready := `document.body.dataset.catalog === 'synced' && document.body.dataset.state === 'ready'`
	mark := srv.mark()

	askUI(t, ctx, "how much is the baguette?")
	askUI(t, ctx, "where is the organic whole milk?")
	waitFor(t, ctx, 10*time.Second, `document.querySelectorAll('#conversations li').length === 1`)
	reload(t, ctx) // a new page starts a new conversation; the last one reopens from the list
	waitFor(t, ctx, 60*time.Second, ready+` && document.querySelectorAll('#conversations li').length === 1`)
	if n := eval[int](t, ctx, 5*time.Second, `document.querySelectorAll('#log .msg').length`); n != 0 {
		t.Errorf("a reloaded page shows %d messages, want a new conversation", n)
	}
	eval[bool](t, ctx, 5*time.Second, `(document.querySelector('#conversations .open').click(), true)`)
	waitFor(t, ctx, 10*time.Second, `document.querySelectorAll('#log .msg').length === 4`)
	if n := eval[int](t, ctx, 5*time.Second, `document.querySelectorAll('#log .msg.assistant .card').length`); n < 2 {
		t.Errorf("after a reload: %d cards, want the two answers' cards", n)
	}
	if got := askUI(t, ctx, "and how much is it?"); got.Answer == nil || got.Answer.Intent != "price" || len(got.Answer.Facts) == 0 ||
		!strings.Contains(strings.ToLower(got.Text), "milk") {
		t.Errorf("the follow-up after a reload: %q (%+v)", got.Text, got.Answer)
	}

	// A second conversation; both are listed, newest first; the first reopens.
	eval[bool](t, ctx, 5*time.Second, `(document.querySelector('#new-chat').click(), true)`)
	askUI(t, ctx, "when are you open?")
	waitFor(t, ctx, 10*time.Second, `document.querySelectorAll('#conversations li').length === 2`)
	titles := eval[[]string](t, ctx, 5*time.Second, `[...document.querySelectorAll('#conversations .open')].map((b) => b.textContent)`)
	if !strings.HasPrefix(titles[0], "when are you open?") || !strings.HasPrefix(titles[1], "how much is the baguette?") {
		t.Errorf("listed %q", titles)
	}
	eval[bool](t, ctx, 5*time.Second, `(document.querySelectorAll('#conversations .open')[1].click(), true)`)
	if n := eval[int](t, ctx, 5*time.Second, `document.querySelectorAll('#log .msg').length`); n != 6 {
		t.Errorf("the reopened conversation shows %d messages, want 6", n)
	}
	screenshot(t, ctx, "conversations-phone")

	// Delete one, then all.
	eval[bool](t, ctx, 5*time.Second, `(document.querySelectorAll('#conversations li button:not(.open)')[0].click(), true)`)
	waitFor(t, ctx, 10*time.Second, `document.querySelectorAll('#conversations li').length === 1`)
	eval[bool](t, ctx, 5*time.Second, `(window.confirm = () => true, document.querySelector('#delete-all').click(), true)`)
	waitFor(t, ctx, 10*time.Second, `document.querySelectorAll('#conversations li').length === 0 && document.querySelectorAll('#log .msg').length === 0`)
	reload(t, ctx)
	waitFor(t, ctx, 60*time.Second, ready)
	if n := eval[int](t, ctx, 5*time.Second, `document.querySelectorAll('#log .msg').length + document.querySelectorAll('#conversations li').length`); n != 0 {
		t.Errorf("after deleting all and a reload: %d messages or conversations", n)
	}
	if reqs := srv.since(mark, "/aisle/"); len(reqs) != 0 {
		t.Errorf("conversation requests reached the server: %q", reqs)
	}
	for _, q := range []string{"baguette", "whole milk", "open?"} {
		if reqs := srv.carrying(mark, q); len(reqs) != 0 {
			t.Errorf("requests carried %q to the server: %q", q, reqs)
		}
	}
}

// waitSnapshotKept waits until the inference worker's prompt snapshot (written in the background
// after a start was evaluated) is in IndexedDB, so that a reload can find it.
func waitSnapshotKept(t testing.TB, ctx context.Context) {
	t.Helper()
	waitSnapshotKeys(t, ctx, `keys.length > 0`)
}

// waitSnapshotKeys waits until cond, a JavaScript expression over keys (the keys of the prompt
// snapshots in IndexedDB), holds.
func waitSnapshotKeys(t testing.TB, ctx context.Context, cond string) {
	t.Helper()
	eval[bool](t, ctx, 65*time.Second, fmt.Sprintf(`new Promise((ok, fail) => {
		const t0 = Date.now();
		const poll = () => {
			const r = indexedDB.open('aisle-prompt-cache', 1);
			r.onupgradeneeded = () => r.result.createObjectStore('snapshots');
			r.onerror = () => fail(r.error);
			r.onsuccess = () => {
				const db = r.result, c = db.transaction('snapshots').objectStore('snapshots').getAllKeys();
				c.onsuccess = () => {
					db.close();
					const keys = c.result;
					if (%s) ok(true);
					else if (Date.now() - t0 > 60000) fail(new Error('prompt snapshots ' + JSON.stringify(keys) + ' after 60 s, want %s'));
					else setTimeout(poll, 20);
				};
			};
		};
		poll();
	})`, cond, strings.ReplaceAll(cond, "'", "")))
}

// TestBrowserPromptSnapshotSurvivesReload: the bundled model's first start evaluates the store's
// conversation start and keeps its snapshot in IndexedDB; after a reload (a new inference worker)
// it is restored instead, and the answers are the same word for word. A snapshot kept for a model
// drops the store's snapshots of the model's other revisions, and no other store's.
func TestBrowserPromptSnapshotSurvivesReload(t *testing.T) {
	needBrowser(t)
	_, ctx := openDemoStore(t, bundledModel, bundledModelID)
	if eval[bool](t, ctx, 5*time.Second, `window.aisleMetrics.warmRestored`) {
		t.Error("the first start restored a snapshot it never kept")
	}
	eval[bool](t, ctx, 5*time.Second, `(document.querySelector('#temperature').value = '0', true)`)
	before := askUI(t, ctx, "how much is the baguette?")
	waitSnapshotKept(t, ctx)
	reload(t, ctx)
	waitReady(t, ctx, true)
	waitFor(t, ctx, 60*time.Second, `window.aisleMetrics.warmMS !== undefined`)
	if !eval[bool](t, ctx, 5*time.Second, `window.aisleMetrics.warmRestored`) {
		t.Error("after a reload the conversation start was evaluated again, not restored")
	}
	eval[bool](t, ctx, 5*time.Second, `(document.querySelector('#temperature').value = '0', true)`)
	after := askUI(t, ctx, "how much is the baguette?")
	if after.Text != before.Text {
		t.Errorf("after the restore: %q, before: %q", after.Text, before.Text)
	}
	if after.Usage.PromptTokensDetails.CachedTokens < 100 {
		t.Errorf("the first question reused %d prompt tokens, want the store's conversation start", after.Usage.PromptTokensDetails.CachedTokens)
	}
	// A later turn evaluates only its own tokens: the earlier turns' keys and values are reused.
	next := askUI(t, ctx, "and where is it?")
	if cached := next.Usage.PromptTokensDetails.CachedTokens; cached < after.Usage.PromptTokens || next.Usage.PromptTokens-cached > 80 {
		t.Errorf("the follow-up reused %d of %d prompt tokens; the first turn's prompt was %d", cached, next.Usage.PromptTokens, after.Usage.PromptTokens)
	}

	// A model update: snapshots of an older revision (planted here) are dropped when the next
	// snapshot for the store is kept; another store's stay.
	stale, other := bundledModelID+"@0000000000000000|demo", bundledModelID+"@0000000000000000|other"
	eval[bool](t, ctx, 10*time.Second, fmt.Sprintf(`new Promise((ok, fail) => {
		const r = indexedDB.open('aisle-prompt-cache', 1);
		r.onsuccess = () => {
			const tx = r.result.transaction('snapshots', 'readwrite'), s = tx.objectStore('snapshots');
			s.clear(); s.put(new Uint8Array(8), %q); s.put(new Uint8Array(8), %q);
			tx.oncomplete = () => { r.result.close(); ok(true); };
			tx.onabort = () => fail(tx.error);
		};
		r.onerror = () => fail(r.error);
	})`, stale, other))
	reload(t, ctx)
	waitReady(t, ctx, true)
	waitSnapshotKeys(t, ctx, fmt.Sprintf(`keys.length === 2 && keys.includes(%q) && !keys.includes(%q)`, other, stale))
}
