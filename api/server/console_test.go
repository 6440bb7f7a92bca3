package server_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"aisle/api/server"
	"aisle/api/store"
)

// consoleClient is a browser-like HTTP client of the admin console: a
// cookie jar, and every request and response recorded so tests can check
// that the token never shows in a URL or a body.
type consoleClient struct {
	t    testing.TB
	e    *env
	http *http.Client
	seen []string // every URL requested or redirected to, and every body
}

func newConsoleClient(t testing.TB, e *env) *consoleClient {
	jar, _ := cookiejar.New(nil)
	cc := &consoleClient{t: t, e: e}
	cc.http = &http.Client{Jar: jar, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		cc.seen = append(cc.seen, req.URL.String())
		return nil
	}}
	return cc
}

// do sends a request; form (if not nil) is posted url-encoded; headers in
// pairs.
func (cc *consoleClient) do(method, path string, form url.Values, headers ...string) (int, string) {
	cc.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, cc.e.URL+path, body)
	if err != nil {
		cc.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	cc.seen = append(cc.seen, req.URL.String())
	resp, err := cc.http.Do(req)
	if err != nil {
		cc.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	cc.seen = append(cc.seen, string(b))
	return resp.StatusCode, string(b)
}

var (
	preRe  = regexp.MustCompile(`name="pre" value="([^"]+)"`)
	csrfRe = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
)

// signIn signs in with token and returns the session's CSRF token.
func (cc *consoleClient) signIn(token string) string {
	cc.t.Helper()
	_, body := cc.do("GET", "/admin/signin", nil)
	m := preRe.FindStringSubmatch(body)
	if m == nil {
		cc.t.Fatalf("no pre-session token in sign-in page:\n%s", body)
	}
	status, body := cc.do("POST", "/admin/signin", url.Values{"pre": {m[1]}, "token": {token}})
	if status != http.StatusOK || !strings.Contains(body, `id="stores"`) {
		cc.t.Fatalf("sign in: status %d:\n%s", status, body)
	}
	c := csrfRe.FindStringSubmatch(body)
	if c == nil {
		cc.t.Fatal("no CSRF token after sign-in")
	}
	return c[1]
}

func TestConsoleSignInErrors(t *testing.T) {
	e := newEnv(t, sqliteDB, server.Config{})
	cc := newConsoleClient(t, e)
	_, body := cc.do("GET", "/admin/signin", nil)
	pre := preRe.FindStringSubmatch(body)[1]
	for _, tc := range []struct {
		name, token string
		want        int
	}{
		{"unknown", "ask_" + strings.Repeat("x", 43), http.StatusUnauthorized},
		{"not a token", "hello", http.StatusUnauthorized},
		{"staff", e.token(store.RoleStaff, server.DemoStoreID), http.StatusForbidden},
	} {
		status, body := cc.do("POST", "/admin/signin", url.Values{"pre": {pre}, "token": {tc.token}})
		if status != tc.want || !strings.Contains(body, `id="page-error"`) {
			t.Errorf("%s: status %d, want %d with an error:\n%s", tc.name, status, tc.want, body)
		}
		if tc.token != "hello" && strings.Contains(body, tc.token) {
			t.Errorf("%s: the page shows the token back", tc.name)
		}
		pre = preRe.FindStringSubmatch(body)[1]
	}
	// The token or the form token in the URL: refused (form bodies only).
	if status, _ := cc.do("POST", "/admin/signin?token="+e.Admin+"&pre="+pre, url.Values{}); status != http.StatusForbidden {
		t.Errorf("sign-in through the URL: status %d, want 403", status)
	}
	// Without the pre-session token: refused.
	if status, _ := cc.do("POST", "/admin/signin", url.Values{"token": {e.Admin}}); status != http.StatusForbidden {
		t.Errorf("sign-in without the form token: status %d, want 403", status)
	}
	// Cross-origin sign-in (login CSRF): refused.
	if status, _ := cc.do("POST", "/admin/signin", url.Values{"pre": {pre}, "token": {e.Admin}}, "Origin", "https://evil.example"); status != http.StatusForbidden {
		t.Errorf("cross-origin sign-in: status %d, want 403", status)
	}
}

// TestConsoleCSRF: a POST without the session's CSRF token, with a wrong
// one, or from another origin is refused with 403 and changes nothing.
func TestConsoleCSRF(t *testing.T) {
	e := newEnv(t, sqliteDB, server.Config{})
	cc := newConsoleClient(t, e)
	csrf := cc.signIn(e.Admin)
	before := e.do("GET", "/v1/admin/products/MILK-1L", e.Admin, nil).want(t, 200).Body
	path := "/admin/stores/demo/products/MILK-1L"
	_, form := cc.do("GET", path, nil)
	version := regexp.MustCompile(`name="version" value="(\d+)"`).FindStringSubmatch(form)[1]
	stockVersion := regexp.MustCompile(`name="stock_version" value="(\d+)"`).FindStringSubmatch(form)[1]
	vals := func(csrf string) url.Values {
		return url.Values{"csrf": {csrf}, "version": {version}, "stock_version": {stockVersion}, "price": {"1"}, "quantity": {"3"}, "aisle": {"9Z"}, "active": {"on"}}
	}
	for _, tc := range []struct {
		name    string
		form    url.Values
		headers []string
	}{
		{"missing token", vals(""), nil},
		{"wrong token", vals(strings.Repeat("A", len(csrf))), nil},
		{"cross-origin", vals(csrf), []string{"Origin", "https://evil.example"}},
		{"cross-site fetch", vals(csrf), []string{"Sec-Fetch-Site", "cross-site"}},
		{"null origin", vals(csrf), []string{"Origin", "null"}},
		{"null origin, cross-site", vals(csrf), []string{"Origin", "null", "Sec-Fetch-Site", "cross-site"}},
		{"same origin, wrong token", vals("x"), []string{"Origin", "", "Sec-Fetch-Site", "same-origin"}},
	} {
		if status, _ := cc.do("POST", path, tc.form, tc.headers...); status != http.StatusForbidden {
			t.Errorf("%s: status %d, want 403", tc.name, status)
		}
	}
	if after := e.do("GET", "/v1/admin/products/MILK-1L", e.Admin, nil).Body; string(after) != string(before) {
		t.Fatalf("a refused POST changed the product:\n%s\n%s", before, after)
	}
	// Same origin with the token: accepted.
	if status, body := cc.do("POST", path, vals(csrf), "Origin", e.URL, "Sec-Fetch-Site", "same-origin"); status != http.StatusOK || !strings.Contains(body, "Saved.") {
		t.Fatalf("same-origin POST: status %d:\n%s", status, body)
	}
	// The CSRF token in the URL instead of the body: refused.
	if status, _ := cc.do("POST", path+"?csrf="+csrf, url.Values{"version": {version}, "stock_version": {stockVersion}, "price": {"2"}, "quantity": {"3"}}); status != http.StatusForbidden {
		t.Errorf("CSRF token in the URL: status %d, want 403", status)
	}
	if status, _ := cc.do("GET", "/admin/no-such-page", nil); status != http.StatusNotFound {
		t.Errorf("unknown console page: status %d, want 404", status)
	}
	// GET never changes state: the sign-out URL fetched by GET signs nothing out.
	cc.do("GET", "/admin/signout", nil)
	if status, body := cc.do("GET", "/admin/stores", nil); status != 200 || !strings.Contains(body, `id="stores"`) {
		t.Fatalf("GET /admin/signout signed out: %d", status)
	}
	// POST does.
	cc.do("POST", "/admin/signout", url.Values{"csrf": {csrf}})
	if _, body := cc.do("GET", "/admin/stores", nil); !strings.Contains(body, `id="token"`) {
		t.Fatal("still signed in after signing out")
	}
}

// consolePages are the pages of the seeded demo store a signed-in admin
// sees.
var consolePages = []string{
	"/admin/stores", "/admin/stores/demo", "/admin/stores/demo/products", "/admin/stores/demo/products?q=milk",
	"/admin/stores/demo/products/MILK-1L", "/admin/stores/demo/faqs", "/admin/stores/demo/faqs/new",
	"/admin/stores/demo/faqs/hours", "/admin/stores/demo/import", "/admin/import", "/admin/stores/demo/tablets",
}

// TestConsoleTokenNeverShown: after signing in and visiting every page,
// the token appears in no URL, no body and no cookie; the session cookie
// is HttpOnly, SameSite=Strict, Path=/admin.
func TestConsoleTokenNeverShown(t *testing.T) {
	e := newEnv(t, sqliteDB, server.Config{})
	cc := newConsoleClient(t, e)
	cc.signIn(e.Admin)
	for _, p := range consolePages {
		if status, body := cc.do("GET", p, nil); status != http.StatusOK {
			t.Errorf("GET %s: %d\n%s", p, status, body)
		}
	}
	for _, s := range cc.seen {
		if strings.Contains(s, e.Admin) || strings.Contains(s, strings.TrimPrefix(e.Admin, server.TokenPrefix)) {
			t.Fatalf("the token shows in %.200q", s)
		}
	}
	u, _ := url.Parse(e.URL + "/admin/")
	for _, ck := range cc.http.Jar.Cookies(u) {
		if strings.Contains(ck.Value, strings.TrimPrefix(e.Admin, server.TokenPrefix)) {
			t.Fatalf("cookie %s carries the token", ck.Name)
		}
	}
	// The Set-Cookie attributes, read raw.
	_, body := cc.do("GET", "/admin/signin", nil)
	pre := preRe.FindStringSubmatch(body)[1]
	req, _ := http.NewRequest("POST", e.URL+"/admin/signin", strings.NewReader(url.Values{"pre": {pre}, "token": {e.Admin}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for _, ck := range cc.http.Jar.Cookies(u) {
		req.AddCookie(ck)
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var session string
	for _, sc := range resp.Header.Values("Set-Cookie") {
		if strings.HasPrefix(sc, "aisle_console=") {
			session = sc
		}
	}
	for _, want := range []string{"Path=/admin", "HttpOnly", "SameSite=Strict"} {
		if !strings.Contains(session, want) {
			t.Errorf("session cookie %q lacks %s", session, want)
		}
	}
	if loc := resp.Header.Get("Location"); strings.Contains(loc, "ask_") {
		t.Errorf("redirect %q carries the token", loc)
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "unsafe-inline") {
		t.Errorf("console CSP %q", csp)
	}
}

// TestConsoleAccessibleNames parses every console page: every input
// (but hidden ones), select, textarea and button has an accessible name (a
// label for it, aria-label, aria-labelledby, or text), every page has a
// viewport meta tag, and no page has a script.
func TestConsoleAccessibleNames(t *testing.T) {
	e := newEnv(t, sqliteDB, server.Config{})
	cc := newConsoleClient(t, e)
	_, signin := cc.do("GET", "/admin/signin", nil)
	checkAccessible(t, "/admin/signin", signin)
	cc.signIn(e.Admin)
	for _, p := range consolePages {
		_, body := cc.do("GET", p, nil)
		checkAccessible(t, p, body)
	}
}

func checkAccessible(t *testing.T, name, body string) {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	attr := func(n *html.Node, k string) string {
		for _, a := range n.Attr {
			if a.Key == k {
				return a.Val
			}
		}
		return ""
	}
	var text func(n *html.Node) string
	text = func(n *html.Node) string {
		if n.Type == html.TextNode {
			return n.Data
		}
		var b strings.Builder
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			b.WriteString(text(c))
		}
		return b.String()
	}
	labels := map[string]bool{}
	var controls []*html.Node
	viewport := false
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			switch n.Data {
			case "label":
				if strings.TrimSpace(text(n)) != "" {
					labels[attr(n, "for")] = true
				}
			case "input", "select", "textarea", "button":
				if attr(n, "type") != "hidden" {
					controls = append(controls, n)
				}
			case "meta":
				viewport = viewport || attr(n, "name") == "viewport"
			case "script":
				t.Errorf("%s: a script element", name)
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	if !viewport {
		t.Errorf("%s: no viewport meta tag", name)
	}
	if len(controls) == 0 {
		t.Errorf("%s: no controls found", name)
	}
	for _, n := range controls {
		named := attr(n, "aria-label") != "" || attr(n, "aria-labelledby") != "" ||
			(attr(n, "id") != "" && labels[attr(n, "id")]) ||
			(n.Data == "button" && strings.TrimSpace(text(n)) != "")
		if !named {
			t.Errorf("%s: <%s id=%q name=%q> has no accessible name", name, n.Data, attr(n, "id"), attr(n, "name"))
		}
	}
}

// TestImportDryRun: ?dry_run=true answers what an import would do, with
// the same per-row errors, and writes nothing (the console's preview).
func TestImportDryRun(t *testing.T) {
	e := newEnv(t, sqliteDB, server.Config{})
	before := e.do("GET", "/v1/admin/stats", e.Admin, nil).want(t, 200).Body
	good := "sku,name,price,currency\nDRY-1,Dry run one,100,EUR\n"
	var res struct {
		Rows   int  `json:"rows"`
		DryRun bool `json:"dry_run"`
	}
	e.do("POST", "/v1/admin/import?entity=products&dry_run=true", e.Admin, good, "Content-Type", "text/csv").want(t, 200).JSON(t, &res)
	if res.Rows != 1 || !res.DryRun {
		t.Fatalf("dry run result %+v", res)
	}
	bad := good + "DRY-2,Dry run two,-5,EUR\n"
	r := e.do("POST", "/v1/admin/import?entity=products&dry_run=true", e.Admin, bad, "Content-Type", "text/csv").want(t, 400)
	if !strings.Contains(string(r.Body), `"row":2`) || !strings.Contains(string(r.Body), `"field":"price"`) {
		t.Fatalf("dry run errors: %s", r.Body)
	}
	// A store file: planned, not written.
	sf, err := os.ReadFile(filepath.Join("testdata", "corner-pharmacy.json"))
	if err != nil {
		t.Fatal(err)
	}
	var sres struct {
		Store  string `json:"store"`
		DryRun bool   `json:"dry_run"`
	}
	e.do("POST", "/v1/admin/import/store?dry_run=true", e.Admin, sf).want(t, 200).JSON(t, &sres)
	if !sres.DryRun {
		t.Fatalf("store dry run: %+v", sres)
	}
	e.do("GET", "/v1/admin/stores/"+sres.Store, e.Admin, nil).want(t, 404)
	e.do("GET", "/v1/admin/products/DRY-1", e.Admin, nil).want(t, 404)
	if after := e.do("GET", "/v1/admin/stats", e.Admin, nil).want(t, 200).Body; string(after) != string(before) {
		t.Fatalf("a dry run wrote:\n%s\n%s", before, after)
	}
	e.do("POST", "/v1/admin/import?entity=products", e.Admin, good, "Content-Type", "text/csv").want(t, 200)
	e.do("GET", "/v1/admin/products/DRY-1", e.Admin, nil).want(t, 200)
}

// TestConsoleManager: a manager token signs in to its own store only, and
// there changes only the store's own records: stock and aisles, its FAQs,
// stock imports. Chain-wide records are read-only; the API treats it as
// staff of its store.
func TestConsoleManager(t *testing.T) {
	e := newEnv(t, sqliteDB, server.Config{})
	e.do("POST", "/v1/admin/stores", e.Admin, map[string]string{"id": "other", "name": "Other Store", "time_zone": "UTC"}).want(t, 201)
	manager := e.token(store.RoleManager, server.DemoStoreID)
	// The API: stock of its store yes, products and other stores no.
	e.do("PUT", "/v1/admin/stores/demo/stock/MILK-1L", manager, map[string]any{"sku": "MILK-1L", "quantity": 11}).want(t, 200)
	e.do("PUT", "/v1/admin/stores/other/stock/MILK-1L", manager, map[string]any{"sku": "MILK-1L", "quantity": 11}).want(t, 403)
	e.do("GET", "/v1/admin/products/MILK-1L", manager, nil).want(t, 403)
	e.do("POST", "/v1/admin/stores/demo/publish", manager, nil).want(t, 201)
	e.do("POST", "/v1/admin/stores/other/publish", manager, nil).want(t, 403)
	e.do("POST", "/v1/admin/stores/demo/publish", e.token(store.RoleStaff, server.DemoStoreID), nil).want(t, 403)

	cc := newConsoleClient(t, e)
	_, body := cc.do("GET", "/admin/signin", nil)
	status, body := cc.do("POST", "/admin/signin", url.Values{"pre": {preRe.FindStringSubmatch(body)[1]}, "token": {manager}})
	if status != 200 || !strings.Contains(body, "<h1>Aisle Demo Market</h1>") {
		t.Fatalf("manager sign-in: %d\n%s", status, body)
	}
	csrf := csrfRe.FindStringSubmatch(body)[1]
	if _, body := cc.do("GET", "/admin/stores", nil); strings.Contains(body, "Other Store") || strings.Contains(body, `id="import-store"`) {
		t.Errorf("a manager sees other stores or the store import:\n%s", body)
	}
	for _, p := range []string{"/admin/stores/other", "/admin/stores/other/products", "/admin/import", "/admin/stores/demo/faqs/returns"} {
		if status, _ := cc.do("GET", p, nil); status != http.StatusForbidden {
			t.Errorf("manager GET %s: %d, want 403", p, status)
		}
	}
	for _, p := range consolePages {
		if status, body := cc.do("GET", p, nil); status == http.StatusOK {
			checkAccessible(t, "manager "+p, body)
		}
	}
	// The product form: no price or active control; a posted price is ignored.
	_, form := cc.do("GET", "/admin/stores/demo/products/MILK-1L", nil)
	if strings.Contains(form, `id="price"`) || strings.Contains(form, `id="active"`) || strings.Contains(form, `id="deactivate"`) {
		t.Fatalf("a manager's product form has chain-wide controls:\n%s", form)
	}
	var before struct {
		Price int64 `json:"price"`
	}
	e.do("GET", "/v1/admin/products/MILK-1L", e.Admin, nil).want(t, 200).JSON(t, &before)
	version := regexp.MustCompile(`name="version" value="(\d+)"`).FindStringSubmatch(form)[1]
	stockVersion := regexp.MustCompile(`name="stock_version" value="(\d+)"`).FindStringSubmatch(form)[1]
	status, body = cc.do("POST", "/admin/stores/demo/products/MILK-1L", url.Values{"csrf": {csrf}, "version": {version}, "stock_version": {stockVersion},
		"price": {"1"}, "quantity": {"12"}, "aisle": {"4D"}})
	if status != 200 || !strings.Contains(body, "Saved.") {
		t.Fatalf("manager save: %d\n%s", status, body)
	}
	var after struct {
		Price int64 `json:"price"`
	}
	var stock struct {
		Quantity int64  `json:"quantity"`
		Aisle    string `json:"aisle"`
	}
	e.do("GET", "/v1/admin/products/MILK-1L", e.Admin, nil).want(t, 200).JSON(t, &after)
	e.do("GET", "/v1/admin/stores/demo/stock/MILK-1L", e.Admin, nil).want(t, 200).JSON(t, &stock)
	if after.Price != before.Price || stock.Quantity != 12 || stock.Aisle != "4D" {
		t.Fatalf("after a manager's save: price %d (was %d), stock %+v", after.Price, before.Price, stock)
	}
	if status, _ := cc.do("POST", "/admin/stores/demo/products/MILK-1L/deactivate", url.Values{"csrf": {csrf}, "version": {version}}); status != http.StatusForbidden {
		t.Errorf("manager deactivate: %d, want 403", status)
	}
	if status, _ := cc.do("POST", "/admin/stores/demo/faqs/returns/delete", url.Values{"csrf": {csrf}, "version": {"1"}}); status != http.StatusForbidden {
		t.Errorf("manager deletes a chain-wide FAQ: %d, want 403", status)
	}
	e.do("GET", "/v1/admin/faqs/returns", e.Admin, nil).want(t, 200)
	// A new FAQ is the store's, whatever the form says.
	cc.do("POST", "/admin/stores/demo/faqs", url.Values{"csrf": {csrf}, "question": {"Manager question?"}, "answer": {"Yes."}, "all_stores": {"on"}})
	var list struct {
		Items []struct{ Question, Store string }
	}
	e.do("GET", "/v1/admin/faqs?store=demo", e.Admin, nil).want(t, 200).JSON(t, &list)
	found := false
	for _, f := range list.Items {
		found = found || (f.Question == "Manager question?" && f.Store == "demo")
	}
	if !found {
		t.Fatalf("the manager's FAQ is not the store's: %+v", list.Items)
	}
	// Import: stock only.
	if _, body := cc.do("GET", "/admin/stores/demo/import", nil); strings.Contains(body, `value="store"`) || strings.Contains(body, `value="products"`) {
		t.Fatalf("a manager may import chain-wide files:\n%s", body)
	}
}
