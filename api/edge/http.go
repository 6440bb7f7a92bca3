package edge

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"aisle/sync/catalog"
	"aisle/sync/wire"
)

// Handler serves the edge's routes:
//
//	GET/HEAD /v1/stores/{id}/checkpoint   as the origin
//	GET/HEAD /v1/stores/{id}/changes      as the origin
//	GET/HEAD /_edge/health                {"status":"ok","version":<log high-water mark>}
//	GET      /_edge/state                 State (Secret)
//	POST     /_edge/ingest                Batch (Secret)
//
// Everything else is 404 with the origin's error body. Status codes, error
// bodies, ETags, Cache-Control and protocol negotiation are the origin's
// (aisle/api/server); a page's body is byte for byte the origin's. The
// origin's page cache, rate limiter and gzip are left to Cloudflare.
type Handler struct {
	Edge *Edge
	// Secret authenticates the origin's feed ("Authorization: Bearer
	// <Secret>"); empty turns the /_edge routes off (404).
	Secret string
	// Log (nil: slog.Default()).
	Log *slog.Logger
}

func (h *Handler) log() *slog.Logger {
	if h.Log != nil {
		return h.Log
	}
	return slog.Default()
}

// HeaderEdge marks every answer of the edge itself (not one the Worker
// forwarded to the origin).
const HeaderEdge = "X-Aisle-Edge"

// apiCSP is the origin's policy for API responses.
const apiCSP = "default-src 'none'; frame-ancestors 'none'"

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
	hd.Set("Content-Security-Policy", apiCSP)
	hd.Set("Cross-Origin-Resource-Policy", "same-origin")
	id := r.Header.Get("X-Request-Id")
	if !validRequestID(id) {
		id = rand.Text()
	}
	hd.Set("X-Request-Id", id)
	hd.Set(HeaderEdge, "1")
	if p := strings.TrimSuffix(r.URL.Path, "/"); strings.HasPrefix(p, "/v1/") && !strings.HasSuffix(p, "/changes") && !strings.HasSuffix(p, "/checkpoint") &&
		!strings.HasSuffix(p, "/events") && !strings.HasSuffix(p, ".png") {
		// The origin's gzip middleware says so of every API response it
		// does not skip (pages vary by Accept-Encoding on their own).
		hd.Add("Vary", "Accept-Encoding")
	}
	defer func() {
		// A panic would end the Worker's Go instance without an answer:
		// answer 500 instead (which the Worker's entry module forwards to
		// the origin when it has one).
		if v := recover(); v != nil {
			h.writeError(w, r, fmt.Errorf("panic: %v", v))
		}
	}()
	if err := h.serve(w, r); err != nil {
		h.writeError(w, r, err)
	}
}

// route splits /v1/stores/{id}/{what}; ok is false for any other path.
func route(p string) (storeID, what string, ok bool) {
	rest, found := strings.CutPrefix(strings.TrimSuffix(p, "/"), "/v1/stores/")
	if !found {
		return "", "", false
	}
	storeID, what, found = strings.Cut(rest, "/")
	if !found || storeID == "" || (what != "checkpoint" && what != "changes") {
		return "", "", false
	}
	return storeID, what, true
}

func (h *Handler) serve(w http.ResponseWriter, r *http.Request) error {
	get := r.Method == http.MethodGet || r.Method == http.MethodHead
	switch p := r.URL.Path; {
	case p == "/_edge/state" && r.Method == http.MethodGet && h.Secret != "":
		if err := h.feedAuth(r); err != nil {
			return err
		}
		st, err := h.Edge.State(r.Context())
		if err != nil {
			return err
		}
		return writeJSON(w, r, http.StatusOK, st)
	case p == "/_edge/ingest" && r.Method == http.MethodPost && h.Secret != "":
		if err := h.feedAuth(r); err != nil {
			return err
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxIngestBody))
		if err != nil {
			return catalog.Wrap(err, catalog.TooLarge, "ingest body over %d bytes", MaxIngestBody)
		}
		var b Batch
		if err := json.Unmarshal(body, &b); err != nil {
			return catalog.Wrap(err, catalog.Invalid, "malformed batch")
		}
		if err := h.Edge.Ingest(r.Context(), b); err != nil {
			return err
		}
		h.log().Debug("edge ingest", "batch", b.String())
		return writeJSON(w, r, http.StatusOK, map[string]any{"ok": true})
	case p == "/_edge/health" && get:
		v, err := h.Edge.meta(r.Context(), "log")
		if err != nil {
			return dbErr(err, "health")
		}
		return writeJSON(w, r, http.StatusOK, map[string]any{"status": "ok", "version": v})
	}
	storeID, what, ok := route(r.URL.Path)
	if !ok || !get {
		return catalog.Errorf(catalog.NotFound, "no such endpoint: %s %s", r.Method, r.URL.Path)
	}
	// As the origin: authenticate, then negotiate, then the handler.
	cred, err := h.authenticate(r)
	if err != nil {
		return err
	}
	protocol, err := negotiate(r)
	if err != nil {
		return err
	}
	w.Header().Set(wire.HeaderProtocol, strconv.Itoa(protocol))
	w.Header().Add("Vary", wire.HeaderProtocol)
	if !catalog.ValidID(storeID) {
		return catalog.Errorf(catalog.Invalid, "bad store id")
	}
	aud := audience(cred, storeID)
	if what == "checkpoint" {
		return h.checkpoint(w, r, storeID, aud)
	}
	return h.changes(w, r, storeID, aud, protocol)
}

// feedAuth checks the origin's shared secret.
func (h *Handler) feedAuth(r *http.Request) error {
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(h.Secret)) != 1 {
		return catalog.Errorf(catalog.Unauthorized, "the edge feed needs its shared secret")
	}
	return nil
}

// tokenPrefix starts every API token (aisle/api/server.TokenPrefix).
const tokenPrefix = "ask_"

// authenticate resolves "Authorization: Bearer <token>" as the origin
// does: none is a customer (nil), a malformed, unknown, revoked or expired
// token is an error. Only staff and manager tokens are known here (their
// hashes, fed by the origin); an admin token is unknown at the edge.
func (h *Handler) authenticate(r *http.Request) (*Credential, error) {
	v := r.Header.Get("Authorization")
	if v == "" {
		return nil, nil
	}
	scheme, secret, ok := strings.Cut(v, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || !strings.HasPrefix(secret, tokenPrefix) || len(secret) > 200 {
		return nil, catalog.Errorf(catalog.Unauthorized, "expected Authorization: Bearer %s...", tokenPrefix)
	}
	sum := sha256.Sum256([]byte(secret))
	c, err := h.Edge.credential(r.Context(), hex.EncodeToString(sum[:]))
	if err != nil {
		return nil, err
	}
	return &c, nil
}

// negotiate settles the protocol version from the Aisle-Protocol header.
func negotiate(r *http.Request) (int, error) {
	v := wire.ProtocolVersion
	if s := r.Header.Get(wire.HeaderProtocol); s != "" {
		peer, err := strconv.Atoi(s)
		if err != nil {
			return 0, catalog.Errorf(catalog.Invalid, "%s must be an integer", wire.HeaderProtocol)
		}
		var ok bool
		if v, ok = wire.Negotiate(peer); !ok {
			return 0, catalog.Errorf(catalog.Unsupported, "protocol %d is not supported; this server speaks %d..%d", peer, wire.MinProtocolVersion, wire.ProtocolVersion)
		}
	}
	return v, nil
}

func (h *Handler) checkpoint(w http.ResponseWriter, r *http.Request, storeID string, aud wire.Audience) error {
	cp, err := h.Edge.Checkpoint(r.Context(), storeID)
	if err != nil {
		return err
	}
	body, err := json.Marshal(cp)
	if err != nil {
		return catalog.Wrap(err, catalog.Internal, "encode checkpoint")
	}
	w.Header().Set("Cache-Control", "no-cache")
	etag := checkpointETag(aud, cp)
	w.Header().Set("ETag", etag)
	w.Header().Add("Vary", "Authorization")
	if wire.ETagMatch(r.Header.Get("If-None-Match"), etag) {
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	return writeBody(w, r, http.StatusOK, body)
}

// PageETag is the origin's ETag of a page: a hash of its parameters
// (pages are immutable for them).
func PageETag(protocol int, aud wire.Audience, req wire.ChangesRequest) string {
	key := fmt.Sprintf("%d|%s|%s|%d|%d|%d|%d", protocol, aud, req.Store, req.Since, req.Target, req.After, req.Limit)
	sum := sha256.Sum256([]byte(key))
	return `"p-` + hex.EncodeToString(sum[:12]) + `"`
}

func (h *Handler) changes(w http.ResponseWriter, r *http.Request, storeID string, aud wire.Audience, protocol int) error {
	req := wire.ChangesRequest{Store: storeID}
	var err error
	if req.Since, err = queryInt(r, "since", 0, 0, wire.MaxVersion); err != nil {
		return err
	}
	if req.Target, err = queryInt(r, "target", -1, 0, wire.MaxVersion); err != nil {
		return err
	}
	if req.Target < 0 {
		return catalog.Errorf(catalog.Invalid, "target (a checkpoint version) is required")
	}
	if req.After, err = queryInt(r, "after", 0, 0, wire.MaxVersion); err != nil {
		return err
	}
	limit, err := queryInt(r, "limit", wire.DefaultPageLimit, 1, wire.MaxPageLimit)
	if err != nil {
		return err
	}
	req.Limit = int(limit)
	etag := PageETag(protocol, aud, req)
	hd := w.Header()
	hd.Set("Cache-Control", "private, max-age=86400, immutable")
	if wire.ETagMatch(r.Header.Get("If-None-Match"), etag) {
		hd.Set("ETag", etag)
		hd.Add("Vary", "Authorization")
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	page, err := h.Edge.Changes(r.Context(), req, aud, protocol)
	if err != nil {
		hd.Del("Cache-Control")
		return err
	}
	body, err := json.Marshal(page)
	if err != nil {
		hd.Del("Cache-Control")
		return catalog.Wrap(err, catalog.Internal, "encode page")
	}
	hd.Set("ETag", etag)
	hd.Add("Vary", "Authorization")
	hd.Add("Vary", "Accept-Encoding")
	return writeBody(w, r, http.StatusOK, body)
}

// queryInt reads an integer query parameter in [lo, hi] (def if absent),
// with the origin's error.
func queryInt(r *http.Request, name string, def, lo, hi int64) (int64, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < lo || n > hi {
		return 0, &catalog.Error{Code: catalog.Invalid, Message: "bad query parameter",
			Fields: []catalog.FieldError{{Field: name, Message: fmt.Sprintf("must be an integer between %d and %d", lo, hi)}}}
	}
	return n, nil
}

func validRequestID(id string) bool {
	if id == "" || len(id) > 128 {
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

// writeBody writes a JSON body (none for HEAD).
func writeBody(w http.ResponseWriter, r *http.Request, status int, body []byte) error {
	w.Header().Set("Content-Type", "application/json")
	if r.Method == http.MethodHead {
		// No Content-Length: a Worker's response that declares one must
		// carry that many bytes, and a HEAD's carries none.
		w.WriteHeader(status)
		return nil
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
	return nil
}

// writeJSON writes v as the origin's Echo does (json.Encoder: a trailing
// newline).
func writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) error {
	var b strings.Builder
	if err := json.NewEncoder(&b).Encode(v); err != nil {
		return catalog.Wrap(err, catalog.Internal, "encode response")
	}
	return writeBody(w, r, status, []byte(b.String()))
}

// Fail answers a request with err as ServeHTTP would (the Worker uses it
// when it cannot even open its database).
func (h *Handler) Fail(w http.ResponseWriter, r *http.Request, err error) {
	w.Header().Set("Content-Security-Policy", apiCSP)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	h.writeError(w, r, err)
}

// writeError writes err as the origin's wire.ErrorBody; internal details
// are logged, never sent.
func (h *Handler) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var body wire.ErrorBody
	status := http.StatusInternalServerError
	var ce *catalog.Error
	if errors.As(err, &ce) {
		status = ce.Code.HTTPStatus()
		body.Error = wire.ErrorDetail{Code: string(ce.Code), Message: ce.Message}
		for _, f := range ce.Fields {
			body.Error.Fields = append(body.Error.Fields, wire.FieldDetail(f))
		}
	}
	if status >= 500 {
		code := catalog.Internal
		if ce != nil {
			code = ce.Code
		}
		if errors.Is(err, context.DeadlineExceeded) {
			code = catalog.Unavailable
			status = http.StatusServiceUnavailable
		}
		h.log().Error("edge request failed", "id", w.Header().Get("X-Request-Id"), "method", r.Method, "path", r.URL.Path, "code", code, "err", err)
		msg := "internal error"
		if code == catalog.Unavailable {
			msg = "service temporarily unavailable; retry later"
			w.Header().Set("Retry-After", "5")
		}
		body.Error = wire.ErrorDetail{Code: string(code), Message: msg}
	}
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="aisle"`)
	}
	_ = writeJSON(w, r, status, body)
}
