package pwa_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/serviceworker"
	"github.com/chromedp/chromedp"

	"aisle/sync/catalog"
	"aisle/worker/assistant"
	evalset "aisle/worker/assistant/eval"
)

// TestBrowserIndependentEvaluation runs the independent evaluation sets through the app: each
// store imported through the admin API (STORE.json) and published, the app installed for that
// store, and every customer question asked through the offline chat endpoint in quick mode, a
// conversation's earlier turns sent as its messages, as the page sends them. The answers are
// scored as `slm ask`'s are and must be the native assistant's, question for question; any
// wrong figure fails. (Staff questions need a signed-in staff device: the native tests cover
// them.)
func TestBrowserIndependentEvaluation(t *testing.T) {
	needBrowser(t)
	if testing.Short() {
		t.Skip("asks a few hundred questions in a browser")
	}
	sets, err := evalset.LoadDir("../worker/assistant/testdata/eval-independent")
	if err != nil {
		t.Fatal(err)
	}
	appDir := app(t)
	modelsDir, _ := models(t, 128<<10)
	srv, _, admin := newStoreServerSeeded(t, appDir, modelsDir, false)
	ctx := startBrowser(t)

	var reps []evalset.Report
	for _, set := range sets {
		var file bytes.Buffer
		if err := evalset.WriteStoreFile(&file, set.Store); err != nil {
			t.Fatal(err)
		}
		adminDo(t, srv.URL(), admin, "POST", "/v1/admin/import/store?publish=true", json.RawMessage(file.Bytes()), 200)

		restartServiceWorker(t, ctx) // each store starts with a fresh service worker (see restartEvery)
		navigate(t, ctx, srv.URL()+"/?store="+set.Store.Store.ID)
		waitFor(t, ctx, 60*time.Second, `document.body.dataset.catalog === 'synced' && window.aisleCatalog.version > 0 && !!navigator.serviceWorker.controller && document.body.dataset.state === 'ready'`)

		inApp := func(sf *catalog.StoreFile, rows []evalset.Question, staff bool) ([]evalset.Output, error) {
			if staff {
				return nil, fmt.Errorf("staff rows are not asked in the app")
			}
			return askApp(t, ctx, rows), nil
		}
		customer := set
		customer.Questions = nil
		for _, q := range set.Questions {
			if !q.Staff {
				customer.Questions = append(customer.Questions, q)
			}
		}
		app, err := evalset.Ask(customer, inApp)
		if err != nil {
			t.Fatal(err)
		}
		native, err := evalset.Ask(customer, askNative)
		if err != nil {
			t.Fatal(err)
		}
		for i := range app {
			if a, n := app[i], native[i]; a.Answer != n.Answer || a.Intent != n.Intent {
				t.Errorf("%s %q: the app answered %s %q, the native assistant %s %q",
					customer.Questions[i].ID, customer.Questions[i].Q, a.Intent, a.Answer, n.Intent, n.Answer)
			}
		}
		reps = append(reps, evalset.Score(customer.Store, customer.Questions, app))
	}
	rep := evalset.Merge(reps...)
	t.Logf("the independent sets through the app (customer questions):\n%s", rep.Markdown(0))
	for _, r := range rep.Dangerous() {
		t.Errorf("%s", r.Line())
	}
}

// askNative answers rows with the native assistant's deterministic path from the STORE.json.
func askNative(sf *catalog.StoreFile, rows []evalset.Question, staff bool) ([]evalset.Output, error) {
	convs := assistant.NewStore(assistant.FromStoreFile(sf, staff), time.Now()).Conversations()
	var out []evalset.Output
	for _, r := range rows {
		a := convs.Get(r.Conversation).Ask(r.Q)
		o := evalset.Output{Q: r.Q, Intent: a.Intent, Answer: a.Text}
		b, err := json.Marshal(a.Facts)
		if err == nil {
			err = json.Unmarshal(b, &o.Facts)
		}
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, nil
}

// restartEvery is how many chat requests one service worker serves here before it is stopped
// (the next request starts a fresh one, which asks the page for the engine's port). One Go
// instance per request, as the bridge works, leaves memory the service worker does not get back
// fast enough: a burst of about 120 chat requests in one service worker's life kills it
// (measured in this Chromium; 400 requests for /v1/models do not), far beyond a customer's pace
// but not this test's.
const restartEvery = 100

// restartServiceWorker stops the service workers, as the browser does when they are idle.
func restartServiceWorker(t *testing.T, ctx context.Context) {
	t.Helper()
	if _, err := chromedp.Call(ctx, serviceworker.Enable, cdp.Empty{}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(ctx, serviceworker.StopAllWorkers, cdp.Empty{}); err != nil {
		t.Fatal(err)
	}
}

// askApp asks rows through the page's offline chat endpoint in quick mode, in order; a row of a
// conversation sends that conversation's earlier questions and answers as its messages.
func askApp(t *testing.T, ctx context.Context, rows []evalset.Question) []evalset.Output {
	t.Helper()
	type message struct {
		Role    string `json:"role"`
		Content string `json:"content"`
	}
	history := map[string][]message{}
	var out []evalset.Output
	for i, r := range rows {
		if i > 0 && i%restartEvery == 0 {
			restartServiceWorker(t, ctx)
		}
		msgs := append(append([]message(nil), history[r.Conversation]...), message{"user", r.Q})
		if r.Conversation == "" {
			msgs = msgs[len(msgs)-1:]
		}
		body, _ := json.Marshal(map[string]any{"model": "quick", "messages": msgs, "aisle": map[string]string{"mode": "quick"}})
		js := fmt.Sprintf(`fetch('/v1/chat/completions', {method: 'POST', headers: {'Content-Type': 'application/json'}, body: %q})
			.then(r => r.text()).catch(e => 'fetch failed: ' + e)`, body)
		raw := eval[string](t, ctx, 30*time.Second, js)
		var resp struct {
			Choices []struct {
				Message struct {
					Content string `json:"content"`
					Aisle   *struct {
						Intent string         `json:"intent"`
						Facts  []evalset.Fact `json:"facts"`
					} `json:"aisle"`
				} `json:"message"`
			} `json:"choices"`
		}
		if err := json.Unmarshal([]byte(raw), &resp); err != nil || len(resp.Choices) == 0 || resp.Choices[0].Message.Aisle == nil {
			t.Fatalf("%s %q: the chat endpoint answered %.300s (%v)", r.ID, r.Q, raw, err)
		}
		m := resp.Choices[0].Message
		out = append(out, evalset.Output{Q: r.Q, Intent: m.Aisle.Intent, Answer: m.Content, Facts: m.Aisle.Facts})
		if r.Conversation != "" {
			history[r.Conversation] = append(msgs, message{"assistant", m.Content})
		}
	}
	return out
}
