package server_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"aisle/api/server"
	"aisle/api/store"
)

// The admin console driven by headless Chromium on a tablet viewport
// (820x1180, an iPad Air in portrait). Every wait is a condition with a
// deadline, never a fixed sleep.

// consoleTab is a browser tab on a fresh server.
type consoleTab struct {
	t   *testing.T
	e   *env
	ctx context.Context
}

func newConsoleTab(t *testing.T) *consoleTab {
	t.Helper()
	needChromium(t)
	e := newEnv(t, sqliteDB, server.Config{})
	ctx := browser(t)
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(820, 1180)); err != nil {
		t.Fatal(err)
	}
	return &consoleTab{t: t, e: e, ctx: ctx}
}

// run runs steps with a deadline.
func (b *consoleTab) run(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.t.Fatalf("browser: %v", err)
	}
}

// open navigates to path and waits for the page's heading.
func (b *consoleTab) open(path string) {
	b.t.Helper()
	b.run(chromedp.Navigate(b.e.URL+path), chromedp.WaitVisible(chromedp.CSS("h1")))
}

// waitJS waits until the JavaScript expression is true in the current
// page, across the navigations a form post causes (an evaluation that
// fails because the page is being replaced is retried).
func (b *consoleTab) waitJS(expr string) {
	b.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var last error
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(b.ctx, time.Until(deadline))
		_, err := chromedp.Run(ctx, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(time.Until(deadline))))
		cancel()
		if err == nil {
			return
		}
		last = err
	}
	html, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
	b.t.Fatalf("waiting for %s: %v\npage:\n%s", expr, last, html)
}

// text returns the trimmed text of the element sel matches ("" if none).
func (b *consoleTab) text(sel string) string {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](fmt.Sprintf(`(document.querySelector(%q) || {innerText: ""}).innerText.trim()`, sel)))
	if err != nil {
		b.t.Fatal(err)
	}
	return v
}

// signIn signs in through the form with token and waits for the stores.
func (b *consoleTab) signIn(token string) {
	b.t.Helper()
	b.open("/admin/signin")
	b.run(chromedp.SetValue(chromedp.CSS("#token"), token), chromedp.Click(chromedp.CSS(`#signin button[type=submit]`)))
	b.waitJS(`!!document.querySelector("#stores")`)
}

// apiJSON GETs path from the JSON API as admin into v.
func (b *consoleTab) apiJSON(path string, v any) {
	b.t.Helper()
	b.e.do("GET", path, b.e.Admin, nil).want(b.t, 200).JSON(b.t, v)
}

func TestConsoleBrowserSignInOut(t *testing.T) {
	b := newConsoleTab(t)
	// /admin without a session lands on the sign-in form.
	b.open("/admin")
	b.waitJS(`!!document.querySelector("#token") && location.pathname === "/admin/signin"`)
	// A wrong token: an error, no session.
	b.run(chromedp.SetValue(chromedp.CSS("#token"), "ask_"+strings.Repeat("w", 43)), chromedp.Click(chromedp.CSS(`#signin button[type=submit]`)))
	b.waitJS(`(document.querySelector("#page-error") || {}).innerText === "Unknown or revoked token."`)
	// The right one: the stores; the session cookie is out of JavaScript's reach.
	b.signIn(b.e.Admin)
	if got := b.text("#stores"); !strings.Contains(got, "Aisle Demo Market") {
		t.Fatalf("stores list: %q", got)
	}
	if c := eval[string](t, b.ctx, `document.cookie`); strings.Contains(c, "aisle_console") {
		t.Fatalf("the session cookie is readable by scripts: %q", c)
	}
	if u := eval[string](t, b.ctx, `location.href`); strings.Contains(u, "ask_") {
		t.Fatalf("the token is in the URL %q", u)
	}
	// Sign out: back to the form, and the pages are closed.
	b.run(chromedp.Click(chromedp.CSS(`form.signout button`)))
	b.waitJS(`!!document.querySelector("#token")`)
	b.open("/admin/stores")
	b.waitJS(`!!document.querySelector("#token")`)

	// A token revoked while signed in: signed out at the next request.
	id, secret := b.e.tokenWithID(store.RoleAdmin, "")
	b.signIn(secret)
	b.e.do("DELETE", "/v1/admin/tokens/"+id, b.e.Admin, nil).want(t, 204)
	b.open("/admin/stores/demo")
	b.waitJS(`!!document.querySelector("#token") && (document.querySelector("#page-error") || {}).innerText.includes("revoked")`)
}

func TestConsoleBrowserEditProduct(t *testing.T) {
	b := newConsoleTab(t)
	b.signIn(b.e.Admin)
	b.open("/admin/stores/demo/products")
	// The stylesheet loads under the console's CSP, and the tablet
	// viewport does not scroll sideways.
	b.waitJS(`getComputedStyle(document.body).backgroundColor === "rgb(246, 247, 249)"`)
	if over := eval[bool](t, b.ctx, `document.documentElement.scrollWidth > window.innerWidth`); over {
		t.Errorf("the products page overflows an 820px-wide tablet")
	}
	if small := eval[int](t, b.ctx, `[...document.querySelectorAll("button, a.button, input:not([type=hidden])")].filter(e => e.getBoundingClientRect().height < 28).length`); small > 0 {
		t.Errorf("%d controls are smaller than a fingertip", small)
	}
	// Search, then edit.
	b.run(chromedp.SetValue(chromedp.CSS("#q"), "milk"), chromedp.Click(chromedp.CSS(`form.search button`)))
	b.waitJS(`location.search.includes("q=milk") && !!document.querySelector("#row-MILK-1L") && !document.querySelector("#row-BUTTER-250")`)
	b.run(chromedp.Click(chromedp.CSS(`#row-MILK-1L a.button`)))
	b.waitJS(`!!document.querySelector("#product-form")`)
	b.run(chromedp.SetValue(chromedp.CSS("#price"), "149"), chromedp.SetValue(chromedp.CSS("#quantity"), "7"),
		chromedp.SetValue(chromedp.CSS("#aisle"), "3C"), chromedp.Click(chromedp.CSS("#save")))
	b.waitJS(`(document.querySelector("#flash") || {}).innerText === "Saved." && document.querySelector("#row-MILK-1L .price").innerText === "1.49 EUR"`)
	var p struct {
		Price  int64 `json:"price"`
		Active bool  `json:"active"`
	}
	var s struct {
		Quantity int64  `json:"quantity"`
		Aisle    string `json:"aisle"`
	}
	b.apiJSON("/v1/admin/products/MILK-1L", &p)
	b.apiJSON("/v1/admin/stores/demo/stock/MILK-1L", &s)
	if p.Price != 149 || s.Quantity != 7 || s.Aisle != "3C" {
		t.Fatalf("the API shows price %d, quantity %d, aisle %q; want 149, 7, 3C", p.Price, s.Quantity, s.Aisle)
	}

	// A negative price: the catalog's message next to the field, nothing
	// written (not the valid quantity typed beside it either).
	before := b.e.do("GET", "/v1/admin/stats", b.e.Admin, nil).want(t, 200).Body
	b.open("/admin/stores/demo/products/MILK-1L")
	b.run(chromedp.SetValue(chromedp.CSS("#price"), "-5"), chromedp.SetValue(chromedp.CSS("#quantity"), "9"), chromedp.Click(chromedp.CSS("#save")))
	b.waitJS(`(document.querySelector("#price-error") || {innerText: ""}).innerText.includes("must be between 0 and") && document.querySelector("#price").getAttribute("aria-invalid") === "true"`)
	if after := b.e.do("GET", "/v1/admin/stats", b.e.Admin, nil).want(t, 200).Body; string(after) != string(before) {
		t.Fatalf("an invalid form wrote something:\n%s\n%s", before, after)
	}
	b.apiJSON("/v1/admin/products/MILK-1L", &p)
	b.apiJSON("/v1/admin/stores/demo/stock/MILK-1L", &s)
	if p.Price != 149 || s.Quantity != 7 {
		t.Fatalf("after a rejected form: price %d, quantity %d; want 149, 7", p.Price, s.Quantity)
	}

	// Deactivate.
	b.open("/admin/stores/demo/products/MILK-1L")
	b.run(chromedp.Click(chromedp.CSS("#deactivate")))
	b.waitJS(`(document.querySelector("#flash") || {}).innerText === "Product deactivated."`)
	b.apiJSON("/v1/admin/products/MILK-1L", &p)
	if p.Active {
		t.Fatal("the product is still active")
	}
}

// faqByQuestion returns the ID of the demo store's FAQ asking q ("" if none).
func (b *consoleTab) faqByQuestion(q string) (id, answer string) {
	b.t.Helper()
	var list struct {
		Items []struct{ ID, Question, Answer string }
	}
	b.apiJSON("/v1/admin/faqs?store=demo", &list)
	for _, f := range list.Items {
		if f.Question == q {
			return f.ID, f.Answer
		}
	}
	return "", ""
}

func TestConsoleBrowserFAQs(t *testing.T) {
	b := newConsoleTab(t)
	b.signIn(b.e.Admin)
	b.open("/admin/stores/demo/faqs")
	// Add.
	b.run(chromedp.Click(chromedp.CSS("#add-faq")))
	b.waitJS(`!!document.querySelector("#faq-form")`)
	const q = "Do you have a pharmacy counter?"
	b.run(chromedp.SetValue(chromedp.CSS("#question"), q), chromedp.SetValue(chromedp.CSS("#answer"), "No, the nearest pharmacy is across the street."),
		chromedp.SetValue(chromedp.CSS("#tags"), "Health, pharmacy"), chromedp.Click(chromedp.CSS("#save")))
	b.waitJS(`(document.querySelector("#flash") || {}).innerText === "Saved."`)
	id, _ := b.faqByQuestion(q)
	if id == "" {
		t.Fatal("the new FAQ is not in the API")
	}
	// Edit; an empty answer first: refused next to the field, unchanged.
	b.run(chromedp.Click(chromedp.CSS("#faq-" + id + " a.button")))
	b.waitJS(`!!document.querySelector("#faq-form")`)
	b.run(chromedp.SetValue(chromedp.CSS("#answer"), " "), chromedp.Click(chromedp.CSS("#save")))
	b.waitJS(`!!document.querySelector("#answer-error")`)
	if _, a := b.faqByQuestion(q); a != "No, the nearest pharmacy is across the street." {
		t.Fatalf("a rejected edit changed the answer to %q", a)
	}
	b.run(chromedp.SetValue(chromedp.CSS("#answer"), "Yes, at the back of the store."), chromedp.Click(chromedp.CSS("#save")))
	b.waitJS(`(document.querySelector("#flash") || {}).innerText === "Saved."`)
	if _, a := b.faqByQuestion(q); a != "Yes, at the back of the store." {
		t.Fatalf("after the edit the API answers %q", a)
	}
	// Delete.
	b.run(chromedp.Click(chromedp.CSS("#faq-" + id + " button.danger")))
	b.waitJS(`(document.querySelector("#flash") || {}).innerText === "Deleted." && !document.querySelector("#faq-` + id + `")`)
	b.e.do("GET", "/v1/admin/faqs/"+id, b.e.Admin, nil).want(t, 404)
}

func TestConsoleBrowserImport(t *testing.T) {
	b := newConsoleTab(t)
	b.signIn(b.e.Admin)
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	bad := write("bad.csv", "sku,quantity,aisle\nMILK-1L,50,1A\nBUTTER-250,-3,1B\n")
	good := write("good.csv", "sku,quantity,aisle\nMILK-1L,50,1A\nBUTTER-250,30,1B\n")
	quantity := func(sku string) int64 {
		var s struct {
			Quantity int64 `json:"quantity"`
		}
		b.apiJSON("/v1/admin/stores/demo/stock/"+sku, &s)
		return s.Quantity
	}
	milk, butter := quantity("MILK-1L"), quantity("BUTTER-250")
	stats := func() string { return string(b.e.do("GET", "/v1/admin/stats", b.e.Admin, nil).want(t, 200).Body) }
	before := stats()

	// A bad row: every problem shown by row, nothing written, nothing to confirm.
	b.open("/admin/stores/demo/import")
	b.run(chromedp.SetValue(chromedp.CSS("#kind"), "stock"), chromedp.SetUploadFiles(chromedp.CSS("#file"), []string{bad}), chromedp.Click(chromedp.CSS("#check")))
	b.waitJS(`!!document.querySelector("#import-errors")`)
	if got := b.text("#import-errors tbody"); !strings.Contains(got, "2") || !strings.Contains(got, "quantity") {
		t.Fatalf("row errors: %q", got)
	}
	if eval[bool](t, b.ctx, `!!document.querySelector("#confirm")`) {
		t.Fatal("a bad file can be confirmed")
	}
	if stats() != before || quantity("MILK-1L") != milk {
		t.Fatal("a bad file wrote something")
	}

	// A good file: a preview first (still nothing written), then confirm.
	b.run(chromedp.SetValue(chromedp.CSS("#kind"), "stock"), chromedp.SetUploadFiles(chromedp.CSS("#file"), []string{good}), chromedp.Click(chromedp.CSS("#check")))
	b.waitJS(`(document.querySelector("#preview-summary") || {innerText: ""}).innerText.startsWith("2 records are valid")`)
	if stats() != before || quantity("MILK-1L") != milk || quantity("BUTTER-250") != butter {
		t.Fatal("the preview wrote something")
	}
	b.run(chromedp.Click(chromedp.CSS("#confirm")))
	b.waitJS(`(document.querySelector("#flash") || {}).innerText === "Import written."`)
	if m, bu := quantity("MILK-1L"), quantity("BUTTER-250"); m != 50 || bu != 30 {
		t.Fatalf("after confirming: quantities %d, %d; want 50, 30", m, bu)
	}

	// A STORE.json of another store, on the demo store's page: refused.
	pharmacy, err := filepath.Abs(filepath.Join("testdata", "corner-pharmacy.json"))
	if err != nil {
		t.Fatal(err)
	}
	b.open("/admin/stores/demo/import")
	b.run(chromedp.SetValue(chromedp.CSS("#kind"), "store"), chromedp.SetUploadFiles(chromedp.CSS("#file"), []string{pharmacy}), chromedp.Click(chromedp.CSS("#check")))
	b.waitJS(`(document.querySelector("#import-errors") || {innerText: ""}).innerText.includes("store.id")`)
	// The same file from the stores list: a new store, previewed, then written.
	b.open("/admin/stores")
	b.run(chromedp.Click(chromedp.CSS("#import-store")))
	b.waitJS(`location.pathname === "/admin/import" && !!document.querySelector("#file")`)
	b.run(chromedp.SetUploadFiles(chromedp.CSS("#file"), []string{pharmacy}), chromedp.Click(chromedp.CSS("#check")))
	b.waitJS(`(document.querySelector("#preview-summary") || {innerText: ""}).innerText.includes("are valid")`)
	b.e.do("GET", "/v1/admin/stores/corner-pharmacy", b.e.Admin, nil).want(t, 404)
	b.run(chromedp.Click(chromedp.CSS("#confirm")))
	b.waitJS(`location.pathname === "/admin/stores/corner-pharmacy" && (document.querySelector("#flash") || {}).innerText === "Import written."`)
	b.e.do("GET", "/v1/admin/stores/corner-pharmacy", b.e.Admin, nil).want(t, 200)
}

func TestConsoleBrowserPublish(t *testing.T) {
	b := newConsoleTab(t)
	b.signIn(b.e.Admin)
	var cp struct {
		Seq int64 `json:"seq"`
	}
	b.apiJSON("/v1/stores/demo/checkpoint", &cp)
	seq := cp.Seq
	// A change made through the API shows as pending.
	b.e.do("PUT", "/v1/admin/products/TEA-GREEN-20", b.e.Admin,
		`{"sku":"TEA-GREEN-20","name":"Green tea 20 bags","price":299,"currency":"EUR","active":true}`).want(t, 200)
	b.open("/admin/stores/demo")
	b.waitJS(`(document.querySelector("#pending") || {innerText: ""}).innerText.includes("TEA-GREEN-20")`)
	if got := b.text("#staff-tablets"); !strings.Contains(got, "Staff tablets") {
		t.Fatalf("staff tablets placeholder: %q", got)
	}
	if href := eval[string](t, b.ctx, `document.querySelector("#poster-a4").getAttribute("href")`); href != "/v1/stores/demo/poster?paper=a4" {
		t.Fatalf("poster link %q", href)
	}
	b.run(chromedp.Click(chromedp.CSS("#publish")))
	b.waitJS(`(document.querySelector("#flash") || {}).innerText.startsWith("Published") && document.querySelector("#pending-summary").innerText.startsWith("Nothing written")`)
	b.apiJSON("/v1/stores/demo/checkpoint", &cp)
	if cp.Seq != seq+1 {
		t.Fatalf("checkpoint seq %d, want %d", cp.Seq, seq+1)
	}
	if got := b.text("#last-checkpoint"); !strings.Contains(got, "#"+strconv.FormatInt(cp.Seq, 10)+" (manual)") {
		t.Fatalf("last checkpoint: %q", got)
	}
}

// TestConsoleBrowserManager: a store manager signs in to its store and
// changes its stock; the price is shown, not editable.
func TestConsoleBrowserManager(t *testing.T) {
	b := newConsoleTab(t)
	manager := b.e.token(store.RoleManager, server.DemoStoreID)
	b.open("/admin/signin")
	b.run(chromedp.SetValue(chromedp.CSS("#token"), manager), chromedp.Click(chromedp.CSS(`#signin button[type=submit]`)))
	b.waitJS(`location.pathname === "/admin/stores/demo" && !!document.querySelector("#publish")`)
	b.open("/admin/stores/demo/products/COMTE-200")
	b.waitJS(`!!document.querySelector("#price-readonly") && !document.querySelector("#price") && !document.querySelector("#deactivate")`)
	b.run(chromedp.SetValue(chromedp.CSS("#quantity"), "33"), chromedp.Click(chromedp.CSS("#save")))
	b.waitJS(`(document.querySelector("#flash") || {}).innerText === "Saved." && document.querySelector("#row-COMTE-200 .qty").innerText === "33"`)
	var s struct {
		Quantity int64 `json:"quantity"`
	}
	b.apiJSON("/v1/admin/stores/demo/stock/COMTE-200", &s)
	if s.Quantity != 33 {
		t.Fatalf("quantity %d, want 33", s.Quantity)
	}
}
