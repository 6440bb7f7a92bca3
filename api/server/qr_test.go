package server_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"aisle/api/server"
	"aisle/sync/catalog"
)

// needZbar skips without zbarimg (Debian's zbar-tools), or fails when
// CI=true: deploy/setup/test-deps.sh installs it there.
func needZbar(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("zbarimg"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("zbarimg is required in CI: %v (Debian package zbar-tools, installed by deploy/setup/test-deps.sh)", err)
		}
		t.Skipf("skipping QR decoding test: %v (install Debian's zbar-tools; required when CI=true)", err)
	}
}

// zbarDecode decodes the one QR code in a PNG with zbarimg and returns its
// text.
func zbarDecode(t testing.TB, pngData []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "code.png")
	if err := os.WriteFile(path, pngData, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "zbarimg", "-q", "--raw", "-Sdisable", "-Sqrcode.enable", path)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("zbarimg found no QR code: %v\n%s", err, stderr.Bytes())
	}
	out := strings.TrimSuffix(stdout.String(), "\n")
	if strings.Contains(out, "\n") {
		t.Fatalf("zbarimg found several codes: %q", out)
	}
	return out
}

var (
	viewBoxRE = regexp.MustCompile(`^<svg [^>]*viewBox="0 0 (\d+) (\d+)"`)
	pathRE    = regexp.MustCompile(`<path fill="#000" d="([^"]*)"/>`)
	runRE     = regexp.MustCompile(`M(\d+) (\d+)h(\d+)v1h-(\d+)z`)
)

// rasterizeSVG draws the QR SVG the server writes from its own path data:
// the viewBox gives the size in modules, and each "Mx yhNv1h-Nz" of the
// one path a dark run of N modules. Anything else in the path fails, so
// the decoded image is exactly what the SVG says. scale is pixels per
// module.
func rasterizeSVG(t testing.TB, svg []byte, scale int) []byte {
	t.Helper()
	s := string(svg)
	vb := viewBoxRE.FindStringSubmatch(s)
	if vb == nil || vb[1] != vb[2] {
		t.Fatalf("SVG without a square viewBox: %.200s", s)
	}
	if !strings.Contains(s, `shape-rendering="crispEdges"`) || strings.Count(s, "<path") != 1 {
		t.Fatalf("SVG is not one crisp path: %.200s", s)
	}
	w, _ := strconv.Atoi(vb[1])
	m := pathRE.FindStringSubmatch(s)
	if m == nil {
		t.Fatalf("SVG without a black path: %.200s", s)
	}
	img := image.NewGray(image.Rect(0, 0, w*scale, w*scale))
	for i := range img.Pix {
		img.Pix[i] = 0xff
	}
	runs := runRE.FindAllStringSubmatch(m[1], -1)
	var rebuilt strings.Builder
	for _, r := range runs {
		rebuilt.WriteString(r[0])
		x, _ := strconv.Atoi(r[1])
		y, _ := strconv.Atoi(r[2])
		n, _ := strconv.Atoi(r[3])
		if r[3] != r[4] || x < 4 || y < 4 || x+n > w-4 || y+1 > w-4 {
			t.Fatalf("run %q is not a closed rectangle inside the 4-module quiet zone of a %d-module viewBox", r[0], w)
		}
		for py := y * scale; py < (y+1)*scale; py++ {
			for px := x * scale; px < (x+n)*scale; px++ {
				img.SetGray(px, py, color.Gray{})
			}
		}
	}
	if rebuilt.String() != m[1] || len(runs) == 0 {
		t.Fatalf("path data has commands other than module runs: %.200s", m[1])
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// decodeStoreQR fetches both codes of a store (with extra request headers
// in pairs) and returns what zbarimg reads in each; they must agree.
func decodeStoreQR(t *testing.T, e *env, id string, headers ...string) string {
	t.Helper()
	pngResp := e.do("GET", "/v1/stores/"+id+"/qr.png", "", nil, headers...).want(t, 200)
	if ct := pngResp.Header.Get("Content-Type"); ct != "image/png" {
		t.Fatalf("qr.png Content-Type %q", ct)
	}
	fromPNG := zbarDecode(t, pngResp.Body)
	svgResp := e.do("GET", "/v1/stores/"+id+"/qr.svg", "", nil, headers...).want(t, 200)
	if ct := svgResp.Header.Get("Content-Type"); ct != "image/svg+xml" {
		t.Fatalf("qr.svg Content-Type %q", ct)
	}
	fromSVG := zbarDecode(t, rasterizeSVG(t, svgResp.Body, 6))
	if fromPNG != fromSVG {
		t.Fatalf("qr.png reads %q, qr.svg %q", fromPNG, fromSVG)
	}
	return fromPNG
}

// TestStoreQRDecodes: a real decoder (zbarimg) reads <public URL>/?store=ID
// from both the PNG and the SVG, with the public URL configured, derived
// from the request, and from a trusted proxy's X-Forwarded-Proto.
func TestStoreQRDecodes(t *testing.T) {
	needZbar(t)
	t.Run("configured", func(t *testing.T) {
		e := newEnv(t, sqliteDB, server.Config{PublicURL: "https://shop.example.com/"})
		if got, want := decodeStoreQR(t, e, "demo"), "https://shop.example.com/?store=demo"; got != want {
			t.Errorf("decoded %q, want %q", got, want)
		}
		// IDs are [A-Za-z0-9._-]: none of it is escaped in a query, and
		// the app reads the ID back unchanged.
		id := "rue-de.la_Paix-2"
		e.do("PUT", "/v1/admin/stores/"+id, e.Admin, map[string]any{"name": "Rue de la Paix", "time_zone": "Europe/Paris"}).want(t, 200)
		got := decodeStoreQR(t, e, id)
		if want := "https://shop.example.com/?store=" + id; got != want {
			t.Errorf("decoded %q, want %q", got, want)
		}
		u, err := url.Parse(got)
		if err != nil || u.Query().Get("store") != id {
			t.Errorf("%q does not carry store=%s", got, id)
		}
	})
	t.Run("configured with a path", func(t *testing.T) {
		e := newEnv(t, sqliteDB, server.Config{PublicURL: "https://example.com/aisle"})
		if got, want := decodeStoreQR(t, e, "demo"), "https://example.com/aisle/?store=demo"; got != want {
			t.Errorf("decoded %q, want %q", got, want)
		}
	})
	t.Run("from the request", func(t *testing.T) {
		e := newEnv(t, sqliteDB, server.Config{})
		want := e.URL + "/?store=demo" // http://127.0.0.1:port
		if got := decodeStoreQR(t, e, "demo"); got != want {
			t.Errorf("decoded %q, want %q", got, want)
		}
		// Without trusted proxies, X-Forwarded-Proto is anyone's word.
		if got := decodeStoreQR(t, e, "demo", "X-Forwarded-Proto", "https"); got != want {
			t.Errorf("with an untrusted X-Forwarded-Proto: decoded %q, want %q", got, want)
		}
	})
	t.Run("behind a trusted proxy", func(t *testing.T) {
		e := newEnv(t, sqliteDB, server.Config{TrustedProxies: []string{"127.0.0.0/8", "::1/128"}})
		host := strings.TrimPrefix(e.URL, "http://")
		if got, want := decodeStoreQR(t, e, "demo", "X-Forwarded-Proto", "https"), "https://"+host+"/?store=demo"; got != want {
			t.Errorf("decoded %q, want %q", got, want)
		}
		if got, want := decodeStoreQR(t, e, "demo"), "http://"+host+"/?store=demo"; got != want {
			t.Errorf("without X-Forwarded-Proto: decoded %q, want %q", got, want)
		}
	})
	t.Run("png sizes", func(t *testing.T) {
		e := newEnv(t, sqliteDB, server.Config{PublicURL: "https://shop.example.com"})
		for _, size := range []int{100, 512, 1000} {
			r := e.do("GET", fmt.Sprintf("/v1/stores/demo/qr.png?size=%d", size), "", nil).want(t, 200)
			cfg, err := png.DecodeConfig(bytes.NewReader(r.Body))
			if err != nil || cfg.Width != size || cfg.Height != size {
				t.Fatalf("size=%d: %dx%d, %v", size, cfg.Width, cfg.Height, err)
			}
			if got := zbarDecode(t, r.Body); got != "https://shop.example.com/?store=demo" {
				t.Errorf("size=%d: decoded %q", size, got)
			}
		}
	})
}

// TestStoreURLEscapes: the store ID is query-escaped, should IDs ever allow
// more than [A-Za-z0-9._-].
func TestStoreURLEscapes(t *testing.T) {
	for _, tc := range []struct{ base, id, want string }{
		{"https://shop.example.com/", "demo", "https://shop.example.com/?store=demo"},
		{"https://shop.example.com", "a b&c=d#e", "https://shop.example.com/?store=a+b%26c%3Dd%23e"},
		{"http://10.0.0.2:8080", "rue-de.la_paix", "http://10.0.0.2:8080/?store=rue-de.la_paix"},
	} {
		got := server.StoreURL(tc.base, tc.id)
		if got != tc.want {
			t.Errorf("StoreURL(%q, %q) = %q, want %q", tc.base, tc.id, got, tc.want)
		}
		// What the app's URLSearchParams reads back.
		u, _ := url.Parse(got)
		if u.Query().Get("store") != tc.id {
			t.Errorf("%q reads back as store=%q", got, u.Query().Get("store"))
		}
	}
}

// TestStoreQRHeaders: types, caching, 304, errors like the other store
// routes, no token needed, and the rate limit of all of /v1.
func TestStoreQRHeaders(t *testing.T) {
	e := newEnv(t, sqliteDB, server.Config{PublicURL: "https://shop.example.com"})
	for _, tc := range []struct{ path, ctype, cache string }{
		{"/v1/stores/demo/qr.svg", "image/svg+xml", "public, max-age=86400"},
		{"/v1/stores/demo/qr.png", "image/png", "public, max-age=86400"},
		{"/v1/stores/demo/poster", "text/html; charset=UTF-8", "public, max-age=300"},
	} {
		r := e.do("GET", tc.path, "", nil).want(t, 200)
		etag := r.Header.Get("ETag")
		if r.Header.Get("Content-Type") != tc.ctype || r.Header.Get("Cache-Control") != tc.cache || !strings.HasPrefix(etag, `"`) {
			t.Errorf("%s: Content-Type %q, Cache-Control %q, ETag %q", tc.path, r.Header.Get("Content-Type"), r.Header.Get("Cache-Control"), etag)
		}
		sum := sha256.Sum256(r.Body)
		if !strings.Contains(etag, fmt.Sprintf("%x", sum[:12])) {
			t.Errorf("%s: ETag %s is not from the content", tc.path, etag)
		}
		e.do("GET", tc.path, "", nil, "If-None-Match", etag).want(t, 304)
		if again := e.do("GET", tc.path, "", nil); again.Header.Get("ETag") != etag || !bytes.Equal(again.Body, r.Body) {
			t.Errorf("%s: not deterministic", tc.path)
		}
		// A staff token changes nothing.
		staff := e.do("GET", tc.path, e.Admin, nil).want(t, 200)
		if staff.Header.Get("ETag") != etag {
			t.Errorf("%s: different with a token", tc.path)
		}
		// Unknown store: 404 with the API's error body, as for the
		// checkpoint; a malformed ID: 400.
		unknown := strings.Replace(tc.path, "/demo/", "/nope/", 1)
		if r := e.do("GET", unknown, "", nil).want(t, 404); r.ErrCode() != "not_found" {
			t.Errorf("%s: %s", unknown, r.Body)
		}
		if cp := e.do("GET", "/v1/stores/nope/checkpoint", "", nil); cp.Status != 404 {
			t.Errorf("checkpoint of an unknown store: %d", cp.Status)
		}
		bad := strings.Replace(tc.path, "/demo/", "/%2Fetc/", 1)
		if r := e.do("GET", bad, "", nil); r.Status != 400 && r.Status != 404 {
			t.Errorf("%s: %d %s", bad, r.Status, r.Body)
		}
	}
	for _, p := range []string{"/v1/stores/demo/qr.png?size=10", "/v1/stores/demo/qr.png?size=99999", "/v1/stores/demo/qr.png?size=x", "/v1/stores/demo/poster?paper=a3"} {
		if r := e.do("GET", p, "", nil).want(t, 400); r.ErrCode() != "invalid" {
			t.Errorf("%s: %s", p, r.Body)
		}
	}
	// The SVG as a document runs nothing: the API's policy stays.
	if csp := e.do("GET", "/v1/stores/demo/qr.svg", "", nil).Header.Get("Content-Security-Policy"); csp != "default-src 'none'; frame-ancestors 'none'" {
		t.Errorf("qr.svg CSP %q", csp)
	}

	limited := newEnv(t, sqliteDB, server.Config{Rate: 0.01, Burst: 2}) // no refill within the test
	statuses := []int{}
	for range 4 {
		statuses = append(statuses, limited.do("GET", "/v1/stores/demo/qr.png", "", nil).Status)
	}
	if fmt.Sprint(statuses) != "[200 200 429 429]" {
		t.Errorf("rate limit: statuses %v", statuses)
	}
}

var styleRE = regexp.MustCompile(`(?s)<style>(.*?)</style>`)
var svgRE = regexp.MustCompile(`(?s)<svg .*?</svg>`)

// TestStorePoster: the page names the store (escaped), carries the code
// inline, fits one page of either paper, and its CSP admits its style.
func TestStorePoster(t *testing.T) {
	e := newEnv(t, sqliteDB, server.Config{PublicURL: "https://shop.example.com"})
	for _, tc := range []struct{ query, size string }{{"", "size: A4"}, {"?paper=a4", "size: A4"}, {"?paper=letter", "size: letter"}, {"?paper=Letter", "size: letter"}} {
		r := e.do("GET", "/v1/stores/demo/poster"+tc.query, "", nil).want(t, 200)
		body := string(r.Body)
		for _, want := range []string{"<!doctype html>", "<h1>Aisle Demo Market</h1>", "@page { " + tc.size, "<svg ", "Scan to ask about products, prices and opening hours", "https://shop.example.com/?store=demo"} {
			if !strings.Contains(body, want) {
				t.Errorf("poster%s lacks %q", tc.query, want)
			}
		}
		for _, ext := range []string{"src=", "href=", "url(", "@import", "<script", "<link"} {
			if strings.Contains(body, ext) {
				t.Errorf("poster%s loads something: %q", tc.query, ext)
			}
		}
		// The CSP names the hash of the page's one style sheet.
		m := styleRE.FindAllStringSubmatch(body, -1)
		if len(m) != 1 {
			t.Fatalf("poster%s has %d style sheets", tc.query, len(m))
		}
		sum := sha256.Sum256([]byte(m[0][1]))
		csp := r.Header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "style-src 'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'") || !strings.HasPrefix(csp, "default-src 'none'") {
			t.Errorf("poster%s: CSP %q does not admit its style sheet (and only it)", tc.query, csp)
		}
	}
	if t.Failed() {
		return
	}

	// Names are text, never markup.
	e.do("PUT", "/v1/admin/stores/evil", e.Admin, map[string]any{"name": `<script>alert(1)</script> & "Sons"`, "time_zone": "Europe/Paris"}).want(t, 200)
	body := string(e.do("GET", "/v1/stores/evil/poster", "", nil).want(t, 200).Body)
	if strings.Contains(body, "<script") || !strings.Contains(body, "<h1>&lt;script&gt;alert(1)&lt;/script&gt; &amp; &#34;Sons&#34;</h1>") {
		t.Errorf("store name not escaped:\n%s", body)
	}

	// The inline code reads as the store's URL.
	if _, err := exec.LookPath("zbarimg"); err == nil || os.Getenv("CI") == "true" {
		needZbar(t)
		svg := svgRE.FindString(body)
		if got := zbarDecode(t, rasterizeSVG(t, []byte(svg), 6)); got != "https://shop.example.com/?store=evil" {
			t.Errorf("poster's code reads %q", got)
		}
	}
}

var (
	pdfPageRE    = regexp.MustCompile(`/Type\s*/Page\b[^s]`)
	pdfMediaBox  = regexp.MustCompile(`/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]`)
	pdfPageSizes = map[string][2]float64{"a4": {595.28, 841.89}, "letter": {612, 792}}
)

// TestStorePosterInChromium: headless Chromium renders the poster under
// its CSP (the style sheet applies), prints it on exactly one page of the
// paper asked for, and the code on screen reads as the store's URL.
func TestStorePosterInChromium(t *testing.T) {
	needChromium(t)
	needZbar(t)
	e := newEnv(t, sqliteDB, server.Config{PublicURL: "https://shop.example.com"})
	// The longest name a store may have still leaves the page one page.
	long := strings.TrimSpace(strings.Repeat("Supermarché du Centre ", 10))[:catalog.MaxNameLen]
	e.do("PUT", "/v1/admin/stores/long", e.Admin, map[string]any{"name": long, "time_zone": "Europe/Paris"}).want(t, 200)
	ctx := browser(t)
	for _, tc := range []struct{ store, paper string }{{"long", "a4"}, {"long", "letter"}, {"demo", "a4"}, {"demo", "letter"}} {
		paper := tc.paper
		tctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		if err := chromedp.Do(tctx, chromedp.Navigate(e.URL+"/v1/stores/"+tc.store+"/poster?paper="+paper)); err != nil {
			cancel()
			t.Fatal(err)
		}
		cancel()
		paper = tc.store + "/" + paper
		// The page's style sheet ran despite default-src 'none' (without
		// it, h1 is 32px).
		wantFS := map[string]string{"demo": "40px", "long": "21.3333px"}[tc.store] // 30pt, 16pt
		if fs := eval[string](t, ctx, `getComputedStyle(document.querySelector('h1')).fontSize`); fs != wantFS {
			t.Errorf("%s: h1 font-size %s: the style sheet was blocked", paper, fs)
		}
		if w := eval[float64](t, ctx, `document.querySelector('.qr svg').getBoundingClientRect().width`); w < 400 || w > 500 {
			t.Errorf("%s: code %.0fpx wide, want 120mm (454px)", paper, w)
		}
		res, err := chromedp.Call(ctx, page.PrintToPDF, page.PrintToPDFParams{PreferCSSPageSize: ptr(true), PrintBackground: ptr(true)})
		if err != nil {
			t.Fatal(err)
		}
		if n := len(pdfPageRE.FindAll(res.Data, -1)); n != 1 {
			t.Errorf("%s: printed on %d pages", paper, n)
		}
		if m := pdfMediaBox.FindSubmatch(res.Data); m == nil {
			t.Errorf("%s: no MediaBox in the PDF", paper)
		} else {
			w, _ := strconv.ParseFloat(string(m[1]), 64)
			h, _ := strconv.ParseFloat(string(m[2]), 64)
			want := pdfPageSizes[tc.paper]
			if abs(w-want[0]) > 3 || abs(h-want[1]) > 3 {
				t.Errorf("%s: page %.1fx%.1f pt, want %.1fx%.1f", paper, w, h, want[0], want[1])
			}
		}
	}
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	if got := zbarDecode(t, shot); got != "https://shop.example.com/?store=demo" {
		t.Errorf("the poster on screen reads %q", got)
	}
}

func ptr[T any](v T) *T { return &v }

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}
