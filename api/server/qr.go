package server

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html/template"
	"image"
	"image/color"
	"image/png"
	"net"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
	qr "github.com/piglig/go-qr"

	"aisle/api/store"
	"aisle/sync/catalog"
	"aisle/sync/wire"
)

// The store's QR code and printable poster: what a shop puts up at its
// door so that customers open the app on their store.
//
//	GET /v1/stores/{store}/qr.svg           the code as SVG
//	GET /v1/stores/{store}/qr.png?size=N    the code as an N×N PNG
//	GET /v1/stores/{store}/poster?paper=P   a printable page (a4 or letter)
//
// The code encodes StoreURL: Config.PublicURL (or the request's own
// origin) + "/?store=ID", the address the app reads its store from
// (pwa/web/app.js storeID). Public like the store's other read routes,
// and rate limited like all of /v1.

// qrQuietZone is the white border around the code, in modules (ISO/IEC
// 18004 asks for 4).
const qrQuietZone = 4

// PNG size bounds, in pixels (the image is size×size).
const (
	qrMinSize     = 64
	qrMaxSize     = 2048
	qrDefaultSize = 512
)

// Cache lifetimes: the code changes only with the server's public URL; the
// poster also shows the store's name, which staff may edit.
const (
	qrCacheControl     = "public, max-age=86400"
	posterCacheControl = "public, max-age=300"
)

// publicURL is the app's address without a trailing slash: Config.PublicURL,
// or, when that is empty, the request's scheme and Host. The scheme is
// https under TLS, or what X-Forwarded-Proto says when the request comes
// straight from a trusted proxy; otherwise http.
func (s *Server) publicURL(r *http.Request) string {
	if s.cfg.PublicURL != "" {
		return strings.TrimRight(s.cfg.PublicURL, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	} else if s.fromTrustedProxy(r) {
		p, _, _ := strings.Cut(r.Header.Get("X-Forwarded-Proto"), ",")
		if p = strings.ToLower(strings.TrimSpace(p)); p == "https" || p == "http" {
			scheme = p
		}
	}
	return scheme + "://" + r.Host
}

// fromTrustedProxy reports whether the request's TCP peer is one of
// Config.TrustedProxies.
func (s *Server) fromTrustedProxy(r *http.Request) bool {
	if len(s.proxies) == 0 {
		return false
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return false
	}
	for _, n := range s.proxies {
		if n.Contains(ip) {
			return true
		}
	}
	return false
}

// StoreURL is the address that opens the app on store id: base (a public
// URL without its trailing slash) + "/?store=" + the escaped ID.
func StoreURL(base, id string) string {
	return strings.TrimRight(base, "/") + "/?store=" + url.QueryEscape(id)
}

// storeForQR resolves the :store of a QR or poster route: its public
// record and the URL its code encodes. An unknown store is NotFound.
func (s *Server) storeForQR(c echo.Context) (catalog.Store, string, error) {
	id, err := s.storeParam(c)
	if err != nil {
		return catalog.Store{}, "", err
	}
	it, err := s.store.Get(c.Request().Context(), store.Stores, id)
	if err != nil {
		return catalog.Store{}, "", err
	}
	var st catalog.Store
	if err := json.Unmarshal(it.Data, &st); err != nil {
		return catalog.Store{}, "", catalog.Wrap(err, catalog.Internal, "decode store")
	}
	if s.cfg.PublicURL == "" {
		// The code depends on the request's scheme; Host is part of
		// every cache's key already.
		c.Response().Header().Add(echo.HeaderVary, "X-Forwarded-Proto")
	}
	return st, StoreURL(s.publicURL(c.Request()), id), nil
}

// encodeQR encodes text at error correction level Q (a quarter of the code
// may be scuffed or covered), never boosted, so scanners see what the
// contract says.
func encodeQR(text string) (*qr.QrCode, error) {
	segs, err := qr.MakeSegments(text)
	if err != nil {
		return nil, catalog.Wrap(err, catalog.Internal, "encode QR code")
	}
	code, err := qr.EncodeSegments(segs, qr.Quartile, qr.MinVersion, qr.MaxVersion, -1, false)
	if err != nil {
		return nil, catalog.Wrap(err, catalog.Internal, "encode QR code")
	}
	return code, nil
}

// qrSVG renders code as a standalone SVG document whose viewBox is in
// modules, quiet zone included: a white square and one black <path> in
// which each horizontal run of dark modules is a 1-module-high rectangle,
// drawn with crisp edges. title (the encoded text) is its accessible name.
func qrSVG(code *qr.QrCode, title string) []byte {
	n := code.Size()
	w := n + 2*qrQuietZone
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" shape-rendering="crispEdges" role="img" aria-label="%s">`,
		w, w, template.HTMLEscapeString("QR code: "+title))
	fmt.Fprintf(&b, `<title>%s</title><rect width="%d" height="%d" fill="#fff"/><path fill="#000" d="`, template.HTMLEscapeString(title), w, w)
	for y := 0; y < n; y++ {
		for x := 0; x < n; {
			if !code.Module(x, y) {
				x++
				continue
			}
			run := 1
			for x+run < n && code.Module(x+run, y) {
				run++
			}
			fmt.Fprintf(&b, "M%d %dh%dv1h-%dz", x+qrQuietZone, y+qrQuietZone, run, run)
			x += run
		}
	}
	b.WriteString(`"/></svg>`)
	return b.Bytes()
}

// qrPNG renders code as a size×size two-colour PNG: every module is the
// same whole number of pixels, and what is left over widens the quiet zone.
func qrPNG(code *qr.QrCode, size int) ([]byte, error) {
	n := code.Size()
	scale := size / (n + 2*qrQuietZone)
	if scale < 1 {
		return nil, &catalog.Error{Code: catalog.Invalid, Message: "bad query parameter",
			Fields: []catalog.FieldError{{Field: "size", Message: fmt.Sprintf("must be at least %d for this code", n+2*qrQuietZone)}}}
	}
	off := (size - n*scale) / 2
	img := image.NewPaletted(image.Rect(0, 0, size, size), color.Palette{color.White, color.Black})
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			if !code.Module(x, y) {
				continue
			}
			for py := off + y*scale; py < off+(y+1)*scale; py++ {
				row := img.Pix[py*img.Stride:]
				for px := off + x*scale; px < off+(x+1)*scale; px++ {
					row[px] = 1
				}
			}
		}
	}
	var b bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(&b, img); err != nil {
		return nil, catalog.Wrap(err, catalog.Internal, "encode PNG")
	}
	return b.Bytes(), nil
}

// publicImage lets pages of other origins embed a code (a store's own web
// site, a print shop's tool): it is public, like the store it names.
func publicImage(c echo.Context) {
	c.Response().Header().Set("Cross-Origin-Resource-Policy", "cross-origin")
}

// writeContent answers body with a strong ETag over its bytes and
// cacheControl, or 304 to a matching If-None-Match.
func writeContent(c echo.Context, contentType, cacheControl string, body []byte) error {
	sum := sha256.Sum256(body)
	etag := `"` + hex.EncodeToString(sum[:12]) + `"`
	h := c.Response().Header()
	h.Set("ETag", etag)
	h.Set("Cache-Control", cacheControl)
	if wire.ETagMatch(c.Request().Header.Get("If-None-Match"), etag) {
		return c.NoContent(http.StatusNotModified)
	}
	return c.Blob(http.StatusOK, contentType, body)
}

func (s *Server) storeQRSVG(c echo.Context) error {
	_, u, err := s.storeForQR(c)
	if err != nil {
		return err
	}
	code, err := encodeQR(u)
	if err != nil {
		return err
	}
	publicImage(c)
	return writeContent(c, "image/svg+xml", qrCacheControl, qrSVG(code, u))
}

func (s *Server) storeQRPNG(c echo.Context) error {
	size, err := queryInt(c, "size", qrDefaultSize, qrMinSize, qrMaxSize)
	if err != nil {
		return err
	}
	_, u, err := s.storeForQR(c)
	if err != nil {
		return err
	}
	code, err := encodeQR(u)
	if err != nil {
		return err
	}
	body, err := qrPNG(code, int(size))
	if err != nil {
		return err
	}
	publicImage(c)
	return writeContent(c, "image/png", qrCacheControl, body)
}

// paper is a page size the poster is laid out for.
type paper struct {
	name   string // as in ?paper=
	size   string // CSS @page size
	margin string // CSS @page margin
}

var papers = []paper{{"a4", "A4", "15mm"}, {"letter", "letter", "0.6in"}}

// posterStyle is the poster's only style sheet: one page, the code 120 mm
// wide, which both papers' printable areas hold with room for a long
// store name.
func posterStyle(p paper) string {
	return `
@page { size: ` + p.size + `; margin: ` + p.margin + ` }
* { box-sizing: border-box }
html, body { margin: 0; background: #fff; color: #111; font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif }
main { max-width: 180mm; margin: 0 auto; padding: 12mm 0; text-align: center; break-inside: avoid }
h1 { font-size: 30pt; line-height: 1.15; margin: 0 0 10mm; overflow-wrap: anywhere }
h1.long { font-size: 22pt }
h1.longer { font-size: 16pt }
.qr svg { display: block; width: 120mm; height: 120mm; max-width: 100%; margin: 0 auto }
.lead { font-size: 18pt; line-height: 1.3; margin: 10mm auto 4mm; max-width: 160mm }
.url { font-size: 11pt; color: #444; margin: 0; font-family: ui-monospace, "DejaVu Sans Mono", monospace; overflow-wrap: anywhere }
@media print { main { padding: 0 } }
`
}

const posterLead = "Scan to ask about products, prices and opening hours — works offline after the first visit."

// posterPage is a parsed poster template for one paper and the CSP that
// admits its style sheet (by hash) and nothing else.
type posterPage struct {
	tmpl *template.Template
	csp  string
}

var posterPages = func() map[string]posterPage {
	m := map[string]posterPage{}
	for _, p := range papers {
		style := posterStyle(p)
		sum := sha256.Sum256([]byte(style))
		// The style sheet is literal template text, so the page carries
		// exactly the bytes hashed here.
		t := template.Must(template.New("poster-" + p.name).Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Name}} · QR poster</title>
<style>` + style + `</style>
</head>
<body>
<main>
<h1{{with .NameClass}} class="{{.}}"{{end}}>{{.Name}}</h1>
<div class="qr">{{.QR}}</div>
<p class="lead">{{.Lead}}</p>
<p class="url">{{.URL}}</p>
</main>
</body>
</html>
`))
		m[p.name] = posterPage{tmpl: t, csp: "default-src 'none'; style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) +
			"'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"}
	}
	return m
}()

// storePoster serves the printable poster: the store's name, its code
// (inline SVG), one line of instructions and the URL in text.
func (s *Server) storePoster(c echo.Context) error {
	name := strings.ToLower(c.QueryParam("paper"))
	if name == "" {
		name = "a4"
	}
	page, ok := posterPages[name]
	if !ok {
		return &catalog.Error{Code: catalog.Invalid, Message: "bad query parameter",
			Fields: []catalog.FieldError{{Field: "paper", Message: `must be "a4" or "letter"`}}}
	}
	st, u, err := s.storeForQR(c)
	if err != nil {
		return err
	}
	code, err := encodeQR(u)
	if err != nil {
		return err
	}
	title := st.Name
	if strings.TrimSpace(title) == "" {
		title = st.ID
	}
	// Long names get smaller type, so that the page stays one page.
	nameClass := ""
	switch n := utf8.RuneCountInString(title); {
	case n > 100:
		nameClass = "longer"
	case n > 40:
		nameClass = "long"
	}
	var b bytes.Buffer
	err = page.tmpl.Execute(&b, map[string]any{
		"Name":      title,
		"NameClass": nameClass,
		"QR":        template.HTML(qrSVG(code, u)), // built here, its text escaped
		"Lead":      posterLead,
		"URL":       u,
	})
	if err != nil {
		return catalog.Wrap(err, catalog.Internal, "render poster")
	}
	// This page is a document, unlike the rest of /v1: its own policy
	// admits its style sheet and nothing else.
	c.Response().Header().Set("Content-Security-Policy", page.csp)
	return writeContent(c, echo.MIMETextHTMLCharsetUTF8, posterCacheControl, b.Bytes())
}
