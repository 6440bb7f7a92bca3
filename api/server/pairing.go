package server

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"aisle/api/store"
	"aisle/sync/catalog"
)

// Staff-tablet pairing: an admin (or the store's manager) creates a
// pairing for a store and shows its link as a QR code; the tablet opens
// the link, and the app exchanges the code in its fragment, once, for a
// staff token of the store.
//
//	POST   /v1/admin/stores/{store}/pairings  create: the code, shown once
//	GET    /v1/admin/stores/{store}/pairings  list, without codes
//	DELETE /v1/admin/pairings/{id}            revoke the pairing and its token
//	POST   /v1/pair                           exchange a code for a token (no token)
//
// Admins pair tablets of every store; a store's manager pairs, lists and
// revokes its own store's (as it publishes it and runs its stock): the
// store routes take requireManager, and DELETE limits a manager to its
// store's pairings. The console's Staff tablets page calls the same
// functions (newPairing, pairingViews, endPairing).
//
// The code travels in the link's fragment (#pair=CODE), which browsers
// send neither to the server nor in Referer, so it never reaches logs.

// Pairing states, as listed.
const (
	PairingWaiting = "waiting" // the code has not been used
	PairingPaired  = "paired"  // a tablet holds the staff token
	PairingExpired = "expired" // the code or the token has expired
	PairingRevoked = "revoked" // revoked (the pairing or its token)
)

// newPairingCode returns a fresh pairing code (192 random bits, URL-safe,
// short enough for a small QR code).
func newPairingCode() string {
	var b [24]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func newPairingID() string {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	return "pair_" + hex.EncodeToString(b[:])
}

// PairingLink is the address a tablet opens to pair with store id.
func PairingLink(base, id, code string) string { return StoreURL(base, id) + "#pair=" + code }

type pairingRequest struct {
	Name      string     `json:"name"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

// pairingView is a listed pairing.
type pairingView struct {
	store.Pairing
	State string `json:"state"`
}

type pairingCreated struct {
	ID        string     `json:"id"`
	Store     string     `json:"store"`
	Name      string     `json:"name"`
	CreatedAt time.Time  `json:"created_at"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
	Code      string     `json:"code"`
	Link      string     `json:"link"`
	QRSVG     string     `json:"qr_svg"`
}

func (s *Server) createPairing(c echo.Context) error {
	id, err := s.storeParam(c)
	if err != nil {
		return err
	}
	var req pairingRequest
	if err := decodeStrict(c, &req); err != nil {
		return err
	}
	p, err := s.newPairing(c.Request().Context(), s.actor(c), s.publicURL(c.Request()), id, req)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusCreated, p)
}

// newPairing creates a pairing of store id, linked from base: the one
// copy of the rules of the API's POST .../pairings and the console's form
// (the store exists; a name; an expiry, if any, in the future).
func (s *Server) newPairing(ctx context.Context, a store.Actor, base, id string, req pairingRequest) (pairingCreated, error) {
	if _, err := s.store.Get(ctx, store.Stores, id); err != nil {
		return pairingCreated{}, err
	}
	now := s.now().UTC()
	var fe []catalog.FieldError
	req.Name = strings.TrimSpace(req.Name)
	if req.Name == "" || len(req.Name) > catalog.MaxNameLen {
		fe = append(fe, catalog.FieldError{Field: "name", Message: "is required (at most 200 characters)"})
	}
	if req.ExpiresAt != nil {
		if !req.ExpiresAt.After(now) {
			fe = append(fe, catalog.FieldError{Field: "expires_at", Message: "must be in the future"})
		}
		t := req.ExpiresAt.UTC().Truncate(time.Millisecond)
		req.ExpiresAt = &t
	}
	if len(fe) > 0 {
		return pairingCreated{}, &catalog.Error{Code: catalog.Invalid, Message: "invalid pairing", Fields: fe}
	}
	code := newPairingCode()
	p := store.Pairing{ID: newPairingID(), Store: id, Name: req.Name, CreatedAt: now.Truncate(time.Millisecond), ExpiresAt: req.ExpiresAt}
	if err := s.store.CreatePairing(ctx, a, p, HashToken(code)); err != nil {
		return pairingCreated{}, err
	}
	link := PairingLink(base, id, code)
	qc, err := encodeQR(link)
	if err != nil {
		return pairingCreated{}, err
	}
	return pairingCreated{ID: p.ID, Store: p.Store, Name: p.Name, CreatedAt: p.CreatedAt,
		ExpiresAt: p.ExpiresAt, Code: code, Link: link, QRSVG: string(qrSVG(qc, link))}, nil
}

// pairingState is what a listed pairing is at now.
func pairingState(p store.Pairing, now time.Time) string {
	switch {
	case p.Revoked:
		return PairingRevoked
	case p.ExpiresAt != nil && !now.Before(*p.ExpiresAt):
		return PairingExpired
	case p.TokenID != "":
		return PairingPaired
	}
	return PairingWaiting
}

func (s *Server) listPairings(c echo.Context) error {
	id, err := s.storeParam(c)
	if err != nil {
		return err
	}
	items, err := s.pairingViews(c.Request().Context(), id)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, map[string]any{"items": items})
}

// pairingViews lists store id's pairings with their states (the API's
// list and the console's).
func (s *Server) pairingViews(ctx context.Context, id string) ([]pairingView, error) {
	if _, err := s.store.Get(ctx, store.Stores, id); err != nil {
		return nil, err
	}
	ps, err := s.store.ListPairings(ctx, id)
	if err != nil {
		return nil, err
	}
	now := s.now()
	items := make([]pairingView, 0, len(ps))
	for _, p := range ps {
		items = append(items, pairingView{Pairing: p, State: pairingState(p, now)})
	}
	return items, nil
}

// revokePairing revokes a pairing and the staff token it issued. A
// manager may revoke its own store's pairings only (another store's is
// not found).
func (s *Server) revokePairing(c echo.Context) error {
	if err := s.endPairing(c.Request().Context(), s.actor(c), c.Param("id"), managedStore(c)); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// endPairing revokes pairing id (of storeID only, unless "") and the
// token it issued, and ends that token's push streams on this server at
// once (as revokeToken does): the API's DELETE and the console's button.
func (s *Server) endPairing(ctx context.Context, a store.Actor, id, storeID string) error {
	p, err := s.store.RevokePairing(ctx, a, id, storeID)
	if err != nil {
		return err
	}
	s.hub.EndToken(p.TokenID)
	return nil
}

type pairRequest struct {
	Code string `json:"code"`
}

type pairResponse struct {
	Token     string     `json:"token"`
	Store     string     `json:"store"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

// pair exchanges a pairing code, once, for a staff token of its store.
func (s *Server) pair(c echo.Context) error {
	var req pairRequest
	if err := decodeStrict(c, &req); err != nil {
		return err
	}
	if req.Code == "" || len(req.Code) > 200 {
		return catalog.Errorf(catalog.Invalid, "expected {\"code\": \"...\"}, the code of a pairing link")
	}
	secret, hash := NewToken()
	t := store.Token{ID: newTokenID(), CreatedAt: s.now().UTC()}
	_, t, err := s.store.RedeemPairing(c.Request().Context(), s.actor(c), HashToken(req.Code), s.now().UTC(), t, hash)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusCreated, pairResponse{Token: secret, Store: t.Store, ExpiresAt: t.ExpiresAt})
}

// checkToken reads the token whose secret hashes to hash: Unauthorized if
// unknown or revoked, Expired once past its expiry.
func (s *Server) checkToken(ctx context.Context, hash []byte) (store.Token, error) {
	t, err := s.store.TokenByHash(ctx, hash)
	if err != nil {
		return t, err
	}
	if t.Expired(s.now()) {
		return store.Token{}, catalog.Errorf(catalog.Expired, "this token expired at %s", t.ExpiresAt.Format(time.RFC3339))
	}
	return t, nil
}

// syncNotes throttles, in this process, the writes of pairings' last sync
// (Store.NotePairingSync): a staff token's requests write it at most once
// per store.PairingSyncEvery from here (the store's own condition holds
// across processes), not on every request.
//
// The devices seen syncing (noteDevice) use another one, keyed by store
// and device hash, with every set to store.DeviceSyncEvery.
type syncNotes struct {
	mu    sync.Mutex
	at    map[string]time.Time // token ID -> when this process last wrote it
	every time.Duration        // 0: store.PairingSyncEvery
}

func (l *syncNotes) period() time.Duration {
	if l.every > 0 {
		return l.every
	}
	return store.PairingSyncEvery
}

// due reports whether token id's sync at now should be written, and if so
// counts it as written.
func (l *syncNotes) due(id string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.at == nil {
		l.at = map[string]time.Time{}
	}
	if last, ok := l.at[id]; ok && now.Sub(last) < l.period() && !now.Before(last) {
		return false
	}
	if len(l.at) >= 100000 { // bound the table: entries older than the period are spent
		for k, v := range l.at {
			if now.Sub(v) >= l.period() {
				delete(l.at, k)
			}
		}
	}
	l.at[id] = now
	return true
}

// forget makes token id's next sync due (after a failed write).
func (l *syncNotes) forget(id string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.at, id)
}

// noteSync records that staff token id synced at now: in the store, at
// most once per store.PairingSyncEvery. A failed write is logged, never
// fails the request.
func (s *Server) noteSync(ctx context.Context, id string, now time.Time) {
	if !s.seen.due(id, now) {
		return
	}
	if err := s.store.NotePairingSync(ctx, id, now); err != nil {
		s.seen.forget(id)
		s.log.Warn("noting a pairing's last sync failed", "token", id, "err", err)
	}
}
