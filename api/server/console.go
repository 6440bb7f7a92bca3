package server

// The admin console: server-rendered HTML pages at /admin for running a
// store from a tablet or a laptop. It lives in this package because every
// page is a thin form over what the JSON API already does (the same store
// writes, the same catalog validation, the same import and publish code):
// the console and the API cannot disagree on a rule.
//
// Contracts:
//
//   - Sign-in takes an API token posted in a form (never in a URL) and
//     checks it with Store.TokenByHash, as the API does. Admin tokens see
//     everything; manager tokens (store.RoleManager) see their own store
//     only, and there only what is the store's own: stock and aisles,
//     store-scoped FAQs, stock imports, publishing, pairing its staff
//     tablets (as in the API). Chain-wide records
//     (product prices and flags, chain-wide FAQs, store files) are
//     read-only or absent for them.
//   - The session cookie (consoleCookie) holds a random session ID, never
//     the token: the token's hash is kept server-side, in memory, beside
//     the session's CSRF token. A stolen cookie is worth one console
//     session on one server (ended by sign-out or by revoking the token),
//     not an API credential. The price: sessions live in this process, so
//     a restart signs everyone out, and several server processes behind a
//     load balancer need sticky sessions for the console.
//   - Every request re-reads the token by its hash: a revoked token signs
//     the session out at its next request.
//   - GET never changes state. Every POST carries the session's CSRF token
//     (compared in constant time) and must not come from another origin
//     (Origin, else Sec-Fetch-Site); the sign-in form, which has no session
//     yet, carries a pre-session token bound to a cookie instead.
//   - Pages send a strict CSP (consoleCSP): no scripts at all, styles from
//     /admin/static only.

import (
	"crypto/rand"
	"crypto/subtle"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"aisle/api/store"
	"aisle/sync/catalog"
)

//go:embed console
var consoleFiles embed.FS

// consoleCSP is the Content-Security-Policy of every console response.
const consoleCSP = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; " +
	"frame-ancestors 'none'; base-uri 'none'"

const (
	// consoleCookie names the session cookie (Path=/admin).
	consoleCookie = "aisle_console"
	// consolePreCookie names the sign-in form's pre-session CSRF cookie.
	consolePreCookie = "aisle_console_pre"
	// consoleIdle ends a session unused this long.
	consoleIdle = 12 * time.Hour
	// consoleMaxSessions bounds the sessions held in memory; beyond it
	// the least recently used one is dropped.
	consoleMaxSessions = 10000
)

// consoleSession is one signed-in browser.
type consoleSession struct {
	tokenHash []byte // the token's hash (never the token)
	csrf      string // per-session CSRF token, in every form
	lastSeen  time.Time
	// pending is an uploaded import awaiting confirmation (nil: none).
	// Requests of one session may run concurrently: read and write it
	// with the session table's lock held (consoleSessions.pendingOf, setPending).
	pending *pendingImport
	// created is the pairing just created, kept for the one page view
	// that shows its code (Post/Redirect/Get: a reload never pairs
	// again); guarded like pending (consoleSessions.setCreated, takeCreated).
	created *createdPairing
}

// consoleSessions is the in-memory session table, guarded by mu.
type consoleSessions struct {
	mu sync.Mutex
	m  map[string]*consoleSession
}

// console is the admin console's state.
type console struct {
	sessions consoleSessions
	pages    map[string]*template.Template // by page name
}

func newConsole() *console {
	c := &console{sessions: consoleSessions{m: map[string]*consoleSession{}}, pages: map[string]*template.Template{}}
	funcs := template.FuncMap{
		"money": formatMinor,
		"fieldErr": func(errs map[string]string, f string) string {
			return errs[f]
		},
		"join": strings.Join,
	}
	layout := template.Must(template.New("layout.html").Funcs(funcs).ParseFS(consoleFiles, "console/layout.html"))
	pages, err := fs.Glob(consoleFiles, "console/*.html")
	if err != nil {
		panic(err)
	}
	for _, p := range pages {
		name := strings.TrimSuffix(strings.TrimPrefix(p, "console/"), ".html")
		if name == "layout" {
			continue
		}
		c.pages[name] = template.Must(template.Must(layout.Clone()).ParseFS(consoleFiles, p))
	}
	return c
}

// randomToken returns 256 random bits, URL-safe.
func randomToken() string { return rand.Text() + rand.Text() }

// consoleRoutes adds the console's routes under /admin.
func (s *Server) consoleRoutes() {
	e := s.echo
	s.console = newConsole()
	g := e.Group("/admin", s.consoleHeaders)
	static, _ := fs.Sub(consoleFiles, "console/static")
	getAndHead(g, "/static/*", echo.WrapHandler(http.StripPrefix("/admin/static/", http.FileServer(http.FS(static)))))
	getAndHead(g, "", s.consoleHome)
	getAndHead(g, "/", s.consoleHome)
	getAndHead(g, "/signin", s.consoleSignInPage)
	g.POST("/signin", s.consoleSignIn)

	a := e.Group("/admin", s.consoleHeaders, s.consoleAuth)
	a.POST("/signout", s.consoleSignOut)
	getAndHead(a, "/stores", s.consoleStores)
	getAndHead(a, "/stores/:store", s.consoleStore)
	a.POST("/stores/:store/publish", s.consolePublish)
	getAndHead(a, "/stores/:store/products", s.consoleProducts)
	getAndHead(a, "/stores/:store/products/:sku", s.consoleProductForm)
	a.POST("/stores/:store/products/:sku", s.consoleProductSave)
	a.POST("/stores/:store/products/:sku/deactivate", s.consoleProductDeactivate)
	getAndHead(a, "/stores/:store/faqs", s.consoleFAQs)
	getAndHead(a, "/stores/:store/faqs/new", s.consoleFAQForm)
	a.POST("/stores/:store/faqs", s.consoleFAQSave)
	getAndHead(a, "/stores/:store/faqs/:id", s.consoleFAQForm)
	a.POST("/stores/:store/faqs/:id", s.consoleFAQSave)
	a.POST("/stores/:store/faqs/:id/delete", s.consoleFAQDelete)
	getAndHead(a, "/stores/:store/tablets", s.consoleTablets)
	a.POST("/stores/:store/tablets", s.consoleTabletCreate)
	a.POST("/stores/:store/tablets/:id/revoke", s.consoleTabletRevoke)
	getAndHead(a, "/stores/:store/import", s.consoleImportPage)
	a.POST("/stores/:store/import", s.consoleImportPreview, middleware.BodyLimit(fmt.Sprint(s.cfg.ImportLimit)+"B"))
	a.POST("/stores/:store/import/confirm", s.consoleImportConfirm)
	a.POST("/stores/:store/import/cancel", s.consoleImportCancel)
	getAndHead(a, "/import", s.consoleImportPage)
	a.POST("/import", s.consoleImportPreview, middleware.BodyLimit(fmt.Sprint(s.cfg.ImportLimit)+"B"))
	a.POST("/import/confirm", s.consoleImportConfirm)
	a.POST("/import/cancel", s.consoleImportCancel)
	// Any other /admin path is the console's 404 (not the app's fallback).
	a.Any("/*", func(c echo.Context) error { return catalog.Errorf(catalog.NotFound, "no such page") })
}

// isConsoleUpload reports whether path (a route) takes an import upload
// (the import limit applies, not the body limit).
func isConsoleUpload(path string) bool {
	return path == "/admin/stores/:store/import" || path == "/admin/import"
}

// consoleHeaders sets the console's CSP, forbids caching its pages, and
// shows errors as an HTML page (internal ones are logged, not shown).
func (s *Server) consoleHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("Content-Security-Policy", consoleCSP)
		// Browsers send "Origin: null" on form posts from a no-referrer
		// page; same-origin keeps the Origin checkOrigin reads (console
		// URLs carry no secrets, and no referrer leaves this origin).
		h.Set("Referrer-Policy", "same-origin")
		if !strings.HasPrefix(c.Request().URL.Path, "/admin/static/") {
			h.Set("Cache-Control", "no-store")
		}
		err := next(c)
		if err == nil || c.Response().Committed {
			return err
		}
		status, msg := http.StatusInternalServerError, "Something went wrong; try again."
		var ce *catalog.Error
		var he *echo.HTTPError
		switch {
		case errors.As(err, &ce) && ce.Code != catalog.Internal && ce.Code != catalog.Unavailable:
			status, msg = ce.Code.HTTPStatus(), ce.Message
		case errors.As(err, &he) && he.Code < 500:
			status, msg = he.Code, http.StatusText(he.Code)
			if m, ok := he.Message.(string); ok {
				msg = m
			}
		default:
			s.log.Error("console request failed", "path", c.Request().URL.Path, "err", err,
				"id", c.Response().Header().Get(echo.HeaderXRequestID))
		}
		return s.render(c, status, "error", page{Title: http.StatusText(status), Error: msg})
	}
}

const consoleSessionKey = "aisle.console"

// consoleAuth admits requests of a live session whose token is still an
// admin token, sets the principal (so writes are audited under the
// token), and checks CSRF on POST. Anything else is sent to sign-in (a
// revoked token ends the session).
func (s *Server) consoleAuth(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		ck, err := c.Cookie(consoleCookie)
		if err != nil {
			return c.Redirect(http.StatusSeeOther, "/admin/signin")
		}
		sess := s.console.sessions.get(ck.Value, s.now())
		if sess == nil {
			return s.consoleSignedOut(c, "Your session ended; sign in again.")
		}
		t, err := s.store.TokenByHash(c.Request().Context(), sess.tokenHash)
		if err != nil || !consoleRole(t) {
			if err != nil && !catalog.IsCode(err, catalog.Unauthorized) {
				return err
			}
			s.console.sessions.drop(ck.Value)
			return s.consoleSignedOut(c, "Your token was revoked; sign in again.")
		}
		c.Set(principalKey, principal{token: &t, hash: sess.tokenHash})
		c.Set(consoleSessionKey, sess)
		if c.Request().Method == http.MethodPost {
			if err := s.checkOrigin(c); err != nil {
				return err
			}
			// From the body only: a token in a URL would leak.
			if !sameSecret(c.Request().PostFormValue("csrf"), sess.csrf) {
				return echo.NewHTTPError(http.StatusForbidden, "missing or wrong CSRF token; reload the page")
			}
		}
		return next(c)
	}
}

// consoleRole reports whether t may use the console: admins, and managers
// of a store.
func consoleRole(t store.Token) bool {
	return t.Role == store.RoleAdmin || (t.Role == store.RoleManager && t.Store != "")
}

// managedStore is the one store a manager's session may see, "" for an
// admin's (every store).
func managedStore(c echo.Context) string {
	if p := principalOf(c); p.role() == store.RoleManager {
		return p.token.Store
	}
	return ""
}

// sameSecret compares two secrets in constant time; empty never matches.
func sameSecret(got, want string) bool {
	return want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// checkOrigin refuses a POST sent by another origin: its Origin header,
// when present, must name this host (or Config.PublicURL's); without one
// (or with "null", which a privacy setting may cause), Sec-Fetch-Site must
// be same-origin, and may be absent only when Origin is too. (A client
// that sends neither is not a browser a forged page could drive.)
func (s *Server) checkOrigin(c echo.Context) error {
	r := c.Request()
	forbidden := echo.NewHTTPError(http.StatusForbidden, "cross-origin request refused")
	sfs := r.Header.Get("Sec-Fetch-Site")
	if o := r.Header.Get("Origin"); o == "null" {
		if sfs != "same-origin" {
			return forbidden
		}
		return nil
	} else if o != "" {
		u, err := url.Parse(o)
		if err != nil || u.Host == "" {
			return forbidden
		}
		if strings.EqualFold(u.Host, r.Host) {
			return nil
		}
		if pu, err := url.Parse(s.cfg.PublicURL); err == nil && s.cfg.PublicURL != "" && strings.EqualFold(u.Host, pu.Host) {
			return nil
		}
		return forbidden
	}
	if sfs != "" && sfs != "same-origin" {
		return forbidden
	}
	return nil
}

// session returns the request's console session (set by consoleAuth).
func consoleSessionOf(c echo.Context) *consoleSession {
	sess, _ := c.Get(consoleSessionKey).(*consoleSession)
	return sess
}

// get returns the live session id names (nil if none or idle too long),
// marking it used at now.
func (t *consoleSessions) get(id string, now time.Time) *consoleSession {
	t.mu.Lock()
	defer t.mu.Unlock()
	sess := t.m[id]
	if sess == nil {
		return nil
	}
	if now.Sub(sess.lastSeen) > consoleIdle {
		delete(t.m, id)
		return nil
	}
	sess.lastSeen = now
	return sess
}

// add stores a new session for tokenHash and returns its ID.
func (t *consoleSessions) add(tokenHash []byte, now time.Time) string {
	id := randomToken()
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.m) >= consoleMaxSessions {
		var oldest string
		for k, v := range t.m {
			if oldest == "" || v.lastSeen.Before(t.m[oldest].lastSeen) {
				oldest = k
			}
		}
		delete(t.m, oldest)
	}
	t.m[id] = &consoleSession{tokenHash: tokenHash, csrf: randomToken(), lastSeen: now}
	return id
}

// pendingOf returns sess's pending import.
func (t *consoleSessions) pendingOf(sess *consoleSession) *pendingImport {
	t.mu.Lock()
	defer t.mu.Unlock()
	return sess.pending
}

// setPending replaces sess's pending import (nil: none) and returns the
// one it replaced.
func (t *consoleSessions) setPending(sess *consoleSession, p *pendingImport) *pendingImport {
	t.mu.Lock()
	defer t.mu.Unlock()
	old := sess.pending
	sess.pending = p
	return old
}

// setCreated keeps p, the pairing sess just created, for its one showing.
func (t *consoleSessions) setCreated(sess *consoleSession, p *createdPairing) {
	t.mu.Lock()
	defer t.mu.Unlock()
	sess.created = p
}

// takeCreated returns the pairing sess created in store (nil: none) and
// forgets it: its code is shown once.
func (t *consoleSessions) takeCreated(sess *consoleSession, store string) *createdPairing {
	t.mu.Lock()
	defer t.mu.Unlock()
	p := sess.created
	if p == nil || p.store != store {
		return nil
	}
	sess.created = nil
	return p
}

func (t *consoleSessions) drop(id string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.m, id)
}

// setCookie sets a console cookie: HttpOnly, SameSite=Strict, Path=/admin,
// Secure when the request came over TLS (directly or via a trusted proxy).
// maxAge < 0 deletes it.
func (s *Server) setConsoleCookie(c echo.Context, name, value string, maxAge int) {
	c.SetCookie(&http.Cookie{Name: name, Value: value, Path: "/admin", MaxAge: maxAge, HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: strings.HasPrefix(s.publicURL(c.Request()), "https:")})
}

// page is what every console template gets.
type page struct {
	Manager bool // a manager's session: chain-wide controls are hidden
	Title   string
	CSRF    string // "" when signed out
	Store   string // the store in view ("" for none)
	Flash   string // a success message
	Error   string // a page-level error
	Data    any
	Section string // the nav entry to mark current
}

// render writes page name with status.
func (s *Server) render(c echo.Context, status int, name string, p page) error {
	if sess := consoleSessionOf(c); sess != nil {
		p.CSRF = sess.csrf
		p.Manager = managedStore(c) != ""
	}
	if p.Flash == "" {
		p.Flash = flashMessages[c.QueryParam("done")]
	}
	t := s.console.pages[name]
	var b strings.Builder
	if err := t.ExecuteTemplate(&b, "layout.html", p); err != nil {
		return err
	}
	return c.HTML(status, b.String())
}

// flashMessages are the confirmations a redirect after a POST may show
// (?done=<key>: a fixed set, so a link cannot make the page say anything).
var flashMessages = map[string]string{
	"saved":       "Saved.",
	"deactivated": "Product deactivated.",
	"deleted":     "Deleted.",
	"published":   "Published: devices will pick up the new checkpoint.",
	"imported":    "Import written.",
	"canceled":    "Import canceled; nothing was written.",
	"revoked":     "Pairing revoked: its tablet is signed out at its next request.",
}

// consoleHome sends / to the stores list (or sign-in).
func (s *Server) consoleHome(c echo.Context) error {
	return c.Redirect(http.StatusSeeOther, "/admin/stores")
}

// fieldErrors maps a catalog error's fields to messages by field name;
// other errors land under "".
func fieldErrors(err error) map[string]string {
	out := map[string]string{}
	if ce, ok := err.(*catalog.Error); ok && len(ce.Fields) > 0 {
		for _, f := range ce.Fields {
			if out[f.Field] == "" {
				out[f.Field] = f.Message
			}
		}
		return out
	}
	out[""] = errorText(err)
	return out
}

// errorText is an error's message as a page shows it (internal errors are
// logged by the caller, not shown).
func errorText(err error) string {
	if ce, ok := err.(*catalog.Error); ok && ce.Code != catalog.Internal {
		return ce.Message
	}
	return "something went wrong; try again"
}
