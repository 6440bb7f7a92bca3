// Package server is aisle's HTTP API on Echo v4: the sync endpoints read by
// every device (/v1/stores/...), the admin API (/v1/admin/...), the admin
// console's HTML pages (/admin, console.go), the push stream, the nightly
// scheduler, and the mount points for the app and model delivery handlers.
//
// Handlers return errors; one error handler (errors.go) maps catalog codes
// to statuses and writes wire.ErrorBody. Persistence is a store.Store.
package server

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	gosync "sync"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"golang.org/x/sync/singleflight"
	"golang.org/x/time/rate"

	"aisle/api/edge"
	"aisle/api/store"
	"aisle/sync/catalog"
)

// Config configures a Server. The zero value of each field has a safe
// default noted on it.
type Config struct {
	// TrustedProxies lists CIDRs of reverse proxies whose X-Forwarded-For
	// is believed, and whose X-Forwarded-Proto sets the scheme of a public
	// URL derived from the request (see PublicURL). Empty: the client IP is
	// the TCP peer's address, and both headers are ignored (so they cannot
	// dodge the rate limit or change a QR code).
	TrustedProxies []string
	// Rate is the sustained API requests per second allowed per client IP
	// (0: 50); Burst the bucket size (0: 2*Rate). Negative Rate disables
	// rate limiting (load tests on loopback). The app and models served by
	// Fallback are not limited.
	Rate  float64
	Burst int
	// BodyLimit bounds request bodies (0: 1 MiB); ImportLimit bounds bulk
	// and store-file imports (0: 32 MiB).
	BodyLimit   int64
	ImportLimit int64
	// AppCSP is the Content-Security-Policy of everything outside /v1
	// (empty: a policy for a PWA running Go WebAssembly, see defaultAppCSP).
	AppCSP string
	// CrossOriginIsolated adds COOP/COEP headers to app responses, which
	// browsers require for SharedArrayBuffer (multi-threaded WebAssembly).
	CrossOriginIsolated bool
	// PublicURL is the app's address as customers and staff reach it
	// (e.g. https://shop.example.com), used by QR codes, posters and
	// pairing links. Empty: derived from each request's scheme and Host.
	PublicURL string
	// Fallback serves every path outside /v1 and /healthz (the app and the
	// models: aisle/api/delivery). Nil answers 404.
	Fallback http.Handler
	// Mounts serves extra handlers under path prefixes ending in "/"
	// (e.g. "/debug/"), matched before Fallback.
	Mounts map[string]http.Handler
	// PollInterval is how often the push hub polls the store for
	// checkpoints published by other server processes (0: 5s; negative:
	// never, for a single server). When the store is a store.Notifier
	// (PostgreSQL), other processes' checkpoints are pushed to this one
	// through LISTEN/NOTIFY instead: while it listens, the hub polls only
	// every ListenSafetyPoll (or PollInterval if longer), and it polls at
	// PollInterval while the listener's connection is down and being
	// re-established. A negative PollInterval turns the listener off too.
	PollInterval time.Duration
	// NightlyInterval is how often the scheduler checks whether a store's
	// nightly time has come (0: 30s; negative: no scheduler).
	NightlyInterval time.Duration
	// MaxStreams caps concurrent push streams (0: 10000); beyond it a new
	// stream gets 503 and the device falls back to polling on reconnect.
	MaxStreams int
	// RequestTimeout bounds every API request but push streams (0: 30s;
	// imports get four times as long).
	RequestTimeout time.Duration
	// BodyTimeout bounds the time to receive a request's body, counted
	// from when its handling starts (0: 30s; imports get four times as
	// long), so a client trickling a body cannot hold a connection.
	// Requests without a body (push streams) are not affected. The
	// http.Server's ReadHeaderTimeout should bound the headers.
	BodyTimeout time.Duration
	// Retention is how long the change log keeps history: nightly, the
	// horizon moves to the newest checkpoint older than Retention in every
	// store, and older entries the protocol no longer needs are pruned
	// (0: 30 days; negative: keep everything).
	Retention time.Duration
	// PageCacheBytes bounds the in-memory cache of encoded sync pages
	// (0: 64 MiB; negative: no cache).
	PageCacheBytes int
	// Edge, when its URL is set, feeds an edge read replica
	// (aisle/api/edge; deploy/edge.md) after each publish and every
	// Edge.Interval (edgefeed.go).
	Edge edge.FeedConfig
	// Logger (nil: slog.Default()).
	Logger *slog.Logger
	// Now is the clock (nil: time.Now).
	Now func() time.Time
}

// defaultAppCSP lets the PWA run Go WebAssembly and workers from its own
// origin, show product images from https origins, and nothing else.
const defaultAppCSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; connect-src 'self'; " +
	"img-src 'self' data: blob: https:; style-src 'self' 'unsafe-inline'; manifest-src 'self'; " +
	"object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"

// apiCSP: API responses are data, never documents.
const apiCSP = "default-src 'none'; frame-ancestors 'none'"

// Server is the HTTP API. Create with New; serve with Handler or
// ListenAndServe; stop with Shutdown.
type Server struct {
	store store.Store
	cfg   Config
	log   *slog.Logger
	now   func() time.Time
	echo  *echo.Echo
	hub   *Hub
	pages *pageCache
	// console is the admin console's state (console.go).
	console *console
	// proxies are Config.TrustedProxies, parsed: their X-Forwarded-Proto
	// is believed (publicURL).
	proxies []*net.IPNet
	// seen throttles the writes of pairings' last sync.
	seen syncNotes
	// devices throttles the writes of devices seen syncing (noteDevice).
	devices syncNotes
	// feeder feeds the edge replica (nil without Config.Edge.URL).
	feeder *edge.Feeder
	// flight collapses concurrent identical page queries.
	flight singleflight.Group
	// base is canceled by Shutdown: long-lived requests (push streams) and
	// background loops end with it.
	base   context.Context
	cancel context.CancelFunc
	done   chan struct{}
}

// New returns a Server on st. It starts the push hub's poller and the
// nightly scheduler; Shutdown stops them.
func New(st store.Store, cfg Config) (*Server, error) {
	if cfg.Rate == 0 {
		cfg.Rate = 50
	}
	if cfg.Burst == 0 {
		cfg.Burst = int(2 * cfg.Rate)
	}
	if cfg.BodyLimit == 0 {
		cfg.BodyLimit = 1 << 20
	}
	if cfg.ImportLimit == 0 {
		cfg.ImportLimit = 32 << 20
	}
	if cfg.AppCSP == "" {
		cfg.AppCSP = defaultAppCSP
	}
	if cfg.PollInterval == 0 {
		cfg.PollInterval = 5 * time.Second
	}
	if cfg.MaxStreams == 0 {
		cfg.MaxStreams = 10000
	}
	if cfg.RequestTimeout == 0 {
		cfg.RequestTimeout = 30 * time.Second
	}
	if cfg.BodyTimeout == 0 {
		cfg.BodyTimeout = 30 * time.Second
	}
	if cfg.Retention == 0 {
		cfg.Retention = 30 * 24 * time.Hour
	}
	if cfg.NightlyInterval == 0 {
		cfg.NightlyInterval = 30 * time.Second
	}
	s := &Server{store: st, cfg: cfg, log: cfg.Logger, now: cfg.Now, done: make(chan struct{})}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.base, s.cancel = context.WithCancel(context.Background())
	s.devices.every = store.DeviceSyncEvery
	s.hub = NewHub(st, s.log)
	if err := s.startEdgeFeed(); err != nil {
		s.cancel()
		return nil, err
	}
	if cfg.PageCacheBytes == 0 {
		cfg.PageCacheBytes = 64 << 20
	}
	s.pages = newPageCache(cfg.PageCacheBytes)
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.errorHandler
	ipx, err := ipExtractor(cfg.TrustedProxies)
	if err != nil {
		return nil, err
	}
	e.IPExtractor = ipx
	if s.proxies, err = parseCIDRs(cfg.TrustedProxies); err != nil {
		return nil, err
	}
	s.echo = e
	s.routes()
	go s.background()
	return s, nil
}

// ipExtractor trusts X-Forwarded-For only from the configured proxies.
func ipExtractor(cidrs []string) (echo.IPExtractor, error) {
	if len(cidrs) == 0 {
		return echo.ExtractIPDirect(), nil
	}
	nets, err := parseCIDRs(cidrs)
	if err != nil {
		return nil, err
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, n := range nets {
		opts = append(opts, echo.TrustIPRange(n))
	}
	return echo.ExtractIPFromXFFHeader(opts...), nil
}

// parseCIDRs parses Config.TrustedProxies.
func parseCIDRs(cidrs []string) ([]*net.IPNet, error) {
	var nets []*net.IPNet
	for _, c := range cidrs {
		_, n, err := net.ParseCIDR(strings.TrimSpace(c))
		if err != nil {
			return nil, fmt.Errorf("trusted proxy %q: %w", c, err)
		}
		nets = append(nets, n)
	}
	return nets, nil
}

// Handler returns the server's http.Handler.
func (s *Server) Handler() http.Handler { return s.echo }

// Hub returns the push hub (tests, and publishers in the same process).
func (s *Server) Hub() *Hub { return s.hub }

// Shutdown ends push streams and background loops, then waits for them.
func (s *Server) Shutdown(ctx context.Context) error {
	s.cancel()
	s.hub.Close()
	select {
	case <-s.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// ListenSafetyPoll is how often the hub still polls while it hears other
// processes' checkpoints through store.Notifier: a safety net, should a
// notification be lost without the connection failing (say, a connection
// dead without a reset, until TCP keepalive notices). A minute keeps the
// worst case bounded at a query per store with streams per minute.
var ListenSafetyPoll = time.Minute

// Listener reconnect backoff: from listenBackoffMin, doubling up to
// listenBackoffMax.
var (
	listenBackoffMin = 100 * time.Millisecond
	listenBackoffMax = 30 * time.Second
)

// listen runs the store's Notifier until Shutdown: each notification
// broadcasts the store's newest checkpoint. On a lost connection it logs,
// clears listening (so background polls at PollInterval), and reconnects
// with backoff; once LISTEN is back it polls once, so a checkpoint
// published while it was down is not missed.
func (s *Server) listen(n store.Notifier, listening *atomic.Bool) {
	backoff := listenBackoffMin
	for {
		err := n.Listen(s.base, func() {
			listening.Store(true)
			backoff = listenBackoffMin
			s.hub.Poll(s.base)
		}, func(storeID string) {
			s.hub.Notified(s.base, storeID)
		})
		listening.Store(false)
		if s.base.Err() != nil {
			return
		}
		if errors.Is(err, errors.ErrUnsupported) {
			return // a single-process store: polling it is
		}
		s.log.Warn("push listener lost; polling until it is back", "err", err, "retry", backoff)
		t := time.NewTimer(backoff)
		select {
		case <-s.base.Done():
			t.Stop()
			return
		case <-t.C:
		}
		backoff = min(2*backoff, listenBackoffMax)
	}
}

func (s *Server) background() {
	defer close(s.done)
	ctxDone := s.base.Done()
	var poll, nightly <-chan time.Time
	var listening atomic.Bool
	if s.cfg.PollInterval > 0 {
		t := time.NewTicker(s.cfg.PollInterval)
		defer t.Stop()
		poll = t.C
		if n, ok := s.store.(store.Notifier); ok {
			var wg gosync.WaitGroup
			wg.Go(func() { s.listen(n, &listening) })
			defer wg.Wait()
		}
	}
	lastPoll := time.Now()
	if s.cfg.NightlyInterval > 0 {
		t := time.NewTicker(s.cfg.NightlyInterval)
		defer t.Stop()
		nightly = t.C
		s.RunNightly(s.base)
	}
	for {
		select {
		case <-ctxDone:
			return
		case <-poll:
			if listening.Load() && time.Since(lastPoll) < ListenSafetyPoll-s.cfg.PollInterval/2 {
				continue
			}
			lastPoll = time.Now()
			s.hub.Poll(s.base)
		case <-nightly:
			s.RunNightly(s.base)
		}
	}
}

// isAPI reports whether p belongs to this server's API. The service worker
// answers /v1/chat/completions and /v1/models on the device and lets every
// other /v1/ path through to here (sw/shim/sw.js).
func isAPI(p string) bool { return strings.HasPrefix(p, "/v1/") || p == "/v1" || p == "/healthz" }

// isImport reports whether p is an import endpoint (larger bodies, longer
// deadline).
func isImport(p string) bool { return p == "/v1/admin/import" || p == "/v1/admin/import/store" }

func (s *Server) routes() {
	e := s.echo
	e.Pre(middleware.RemoveTrailingSlashWithConfig(middleware.TrailingSlashConfig{
		Skipper: func(c echo.Context) bool { return !isAPI(strings.TrimSuffix(c.Request().URL.Path, "/")) },
	}))
	e.Use(s.bodyDeadline)
	e.Use(requestID)
	e.Use(middleware.RequestLoggerWithConfig(middleware.RequestLoggerConfig{
		LogStatus: true, LogURIPath: true, LogMethod: true, LogLatency: true, LogRemoteIP: true, LogError: true,
		HandleError: true,
		LogValuesFunc: func(c echo.Context, v middleware.RequestLoggerValues) error {
			lvl := slog.LevelDebug
			if v.Status >= 500 {
				lvl = slog.LevelWarn
			}
			s.log.Log(c.Request().Context(), lvl, "http", "method", v.Method, "path", v.URIPath, "status", v.Status,
				"latency", v.Latency, "ip", v.RemoteIP, "id", c.Response().Header().Get(echo.HeaderXRequestID))
			return nil
		},
	}))
	e.Use(middleware.Recover())
	e.Use(s.securityHeaders)
	if s.cfg.Rate > 0 {
		e.Use(middleware.RateLimiterWithConfig(middleware.RateLimiterConfig{
			// The API and the console's sign-in only: app files and
			// model shards are static and loaded in bursts by the
			// service worker's precache.
			Skipper: func(c echo.Context) bool {
				p := c.Request().URL.Path
				return !isAPI(p) && p != "/admin/signin"
			},
			Store: middleware.NewRateLimiterMemoryStoreWithConfig(middleware.RateLimiterMemoryStoreConfig{
				Rate: rate.Limit(s.cfg.Rate), Burst: s.cfg.Burst, ExpiresIn: 3 * time.Minute}),
			IdentifierExtractor: func(c echo.Context) (string, error) { return c.RealIP(), nil },
			ErrorHandler: func(c echo.Context, err error) error {
				return catalog.Errorf(catalog.Invalid, "cannot identify the client")
			},
			DenyHandler: func(c echo.Context, id string, err error) error {
				c.Response().Header().Set("Retry-After", "1")
				return catalog.Errorf(catalog.RateLimited, "too many requests; slow down")
			},
		}))
	}
	e.Use(middleware.BodyLimitWithConfig(middleware.BodyLimitConfig{
		Limit:   fmt.Sprint(s.cfg.BodyLimit) + "B",
		Skipper: func(c echo.Context) bool { return isImport(c.Path()) || isConsoleUpload(c.Path()) }, // ImportLimit instead, on the route
	}))
	e.Use(middleware.GzipWithConfig(middleware.GzipConfig{
		MinLength: 512,
		Skipper: func(c echo.Context) bool {
			// Push streams flush event by event; sync pages come
			// precompressed from the page cache; a checkpoint is below
			// MinLength (the middleware would still set up a writer for
			// it, a tenth of a device's sync loop); PNGs are compressed
			// already; the app and models are the fallback handler's
			// business.
			p := c.Request().URL.Path
			return !isAPI(p) || strings.HasSuffix(p, "/events") || strings.HasSuffix(p, "/changes") || strings.HasSuffix(p, "/checkpoint") || strings.HasSuffix(p, ".png")
		},
	}))
	e.Use(s.requestTimeout)
	e.Use(s.authenticate)

	getAndHead(e, "/healthz", s.health)
	getAndHead(e, "/v1/openapi.json", s.openAPI)

	v1 := e.Group("/v1", s.negotiate)
	getAndHead(v1, "/stores", s.listPublicStores)
	getAndHead(v1, "/stores/:store/checkpoint", s.deviceSeen(s.getCheckpoint))
	getAndHead(v1, "/stores/:store/changes", s.deviceSeen(s.getChanges))
	getAndHead(v1, "/stores/:store/events", s.events)
	getAndHead(v1, "/stores/:store/qr.svg", s.storeQRSVG)
	getAndHead(v1, "/stores/:store/qr.png", s.storeQRPNG)
	getAndHead(v1, "/stores/:store/poster", s.storePoster)
	v1.POST("/pair", s.pair)

	a := e.Group("/v1/admin", s.requireRole(store.RoleAdmin, store.RoleStaff, store.RoleManager))
	adminOnly := s.requireRole(store.RoleAdmin)
	getAndHead(a, "/stores", s.list(store.Stores), adminOnly)
	a.POST("/stores", s.create(store.Stores), adminOnly)
	getAndHead(a, "/stores/:key", s.get(store.Stores), adminOnly)
	a.PUT("/stores/:key", s.put(store.Stores), adminOnly)
	a.DELETE("/stores/:key", s.del(store.Stores), adminOnly)
	a.POST("/stores/:store/publish", s.publish, s.requireManager)
	for _, ent := range []store.Entity{store.Products, store.FAQs, store.Promotions} {
		p := "/" + string(ent)
		getAndHead(a, p, s.list(ent), adminOnly)
		a.POST(p, s.create(ent), adminOnly)
		getAndHead(a, p+"/:key", s.get(ent), adminOnly)
		a.PUT(p+"/:key", s.put(ent), adminOnly)
		a.DELETE(p+"/:key", s.del(ent), adminOnly)
	}
	// Stock: staff may read and write the stock of their own store.
	getAndHead(a, "/stores/:store/stock", s.list(store.Stock), s.requireStore)
	getAndHead(a, "/stores/:store/stock/:key", s.get(store.Stock), s.requireStore)
	a.PUT("/stores/:store/stock/:key", s.put(store.Stock), s.requireStore)
	a.DELETE("/stores/:store/stock/:key", s.del(store.Stock), s.requireStore)
	a.POST("/import", s.importBulk, adminOnly, middleware.BodyLimit(fmt.Sprint(s.cfg.ImportLimit)+"B"))
	a.POST("/import/store", s.importStore, adminOnly, middleware.BodyLimit(fmt.Sprint(s.cfg.ImportLimit)+"B"))
	// Pairings: admins, and a store's manager for its own store.
	a.POST("/stores/:store/pairings", s.createPairing, s.requireManager)
	getAndHead(a, "/stores/:store/pairings", s.listPairings, s.requireManager)
	a.DELETE("/pairings/:id", s.revokePairing, s.requireRole(store.RoleAdmin, store.RoleManager))
	getAndHead(a, "/tokens", s.listTokens, adminOnly)
	a.POST("/tokens", s.createToken, adminOnly)
	a.DELETE("/tokens/:id", s.revokeToken, adminOnly)
	getAndHead(a, "/audit", s.audit, adminOnly)
	getAndHead(a, "/stats", s.stats, adminOnly)
	a.POST("/compact", s.compact, adminOnly)
	a.POST("/vectors/refresh", s.refreshVectors, adminOnly)
	// Everything else under /v1 is an unknown route (JSON 404), not the app.
	e.Any("/v1/*", func(c echo.Context) error {
		return catalog.Errorf(catalog.NotFound, "no such endpoint: %s %s", c.Request().Method, c.Request().URL.Path)
	})

	s.consoleRoutes()

	for prefix, h := range s.cfg.Mounts {
		e.Any(strings.TrimSuffix(prefix, "/")+"/*", echo.WrapHandler(h))
	}
	if s.cfg.Fallback != nil {
		e.Any("/*", echo.WrapHandler(s.cfg.Fallback))
		e.Any("/", echo.WrapHandler(s.cfg.Fallback))
	}
}

// router is where routes are added: *echo.Echo or *echo.Group.
type router interface {
	Add(method, path string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route
}

// getAndHead routes GET and HEAD of path to h: HEAD is answered like GET, and
// net/http drops the body.
func getAndHead(r router, path string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) {
	r.Add(http.MethodGet, path, h, m...)
	r.Add(http.MethodHead, path, h, m...)
}

// maxRequestIDLen bounds a client's X-Request-Id.
const maxRequestIDLen = 128

// requestID gives every request an ID, sent back in X-Request-Id and
// logged with the request: the client's X-Request-Id if it is 1 to 128
// characters of [A-Za-z0-9._:-], else a new random one, so a client cannot
// make the server echo or log arbitrary text.
func requestID(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := c.Request().Header.Get(echo.HeaderXRequestID)
		if !validRequestID(id) {
			id = rand.Text()
		}
		c.Response().Header().Set(echo.HeaderXRequestID, id)
		return next(c)
	}
}

func validRequestID(id string) bool {
	if id == "" || len(id) > maxRequestIDLen {
		return false
	}
	for _, r := range []byte(id) {
		ok := 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || strings.IndexByte("._:-", r) >= 0
		if !ok {
			return false
		}
	}
	return true
}

// bodyDeadline gives a request with a body Config.BodyTimeout to deliver
// it (imports four times as long); past that, reading the body fails and
// the connection is closed. The deadline also covers the rest of the body
// that net/http reads after a handler that left it unread. net/http lifts
// it once the body has been read to its end, so handling after that is
// bounded by RequestTimeout only.
func (s *Server) bodyDeadline(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		if req.ContentLength == 0 { // no body
			return next(c)
		}
		d := s.cfg.BodyTimeout
		if isImport(req.URL.Path) {
			d *= 4
		}
		// Fails only where there is no connection (a test recorder).
		_ = http.NewResponseController(c.Response()).SetReadDeadline(time.Now().Add(d))
		return next(c)
	}
}

// requestTimeout gives API requests a deadline (push streams excepted), so a
// stuck database cannot pile requests up.
func (s *Server) requestTimeout(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		p := c.Request().URL.Path
		if !isAPI(p) || strings.HasSuffix(p, "/events") {
			return next(c)
		}
		d := s.cfg.RequestTimeout
		if isImport(p) {
			d *= 4
		}
		ctx, cancel := context.WithTimeout(c.Request().Context(), d)
		defer cancel()
		c.SetRequest(c.Request().WithContext(ctx))
		err := next(c)
		if err != nil && ctx.Err() == context.DeadlineExceeded {
			return catalog.Wrap(err, catalog.Unavailable, "request timed out")
		}
		return err
	}
}

// securityHeaders sets the headers every response carries.
func (s *Server) securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
		if isAPI(c.Request().URL.Path) {
			h.Set("Content-Security-Policy", apiCSP)
			h.Set("Cross-Origin-Resource-Policy", "same-origin")
		} else {
			h.Set("Content-Security-Policy", s.cfg.AppCSP)
			if s.cfg.CrossOriginIsolated {
				h.Set("Cross-Origin-Opener-Policy", "same-origin")
				h.Set("Cross-Origin-Embedder-Policy", "require-corp")
			}
		}
		// Strict-Transport-Security is sent by the HTTPS listener
		// (aisle/api/tlsserve), the one place that knows HTTPS is on.
		return next(c)
	}
}

func (s *Server) health(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
	defer cancel()
	st, err := s.store.Stats(ctx)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"status": "ok", "version": st.Version})
}
