package server

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"aisle/api/store"
	"aisle/sync/catalog"
	"aisle/sync/wire"
)

// TokenPrefix starts every API token, so leaked tokens are recognisable.
const TokenPrefix = "ask_"

// NewToken returns a fresh secret token (shown once) and its hash (stored).
func NewToken() (secret string, hash []byte) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("crypto/rand failed: " + err.Error()) // never on supported platforms
	}
	secret = TokenPrefix + base64.RawURLEncoding.EncodeToString(b[:])
	return secret, HashToken(secret)
}

// newTokenID returns a random public token ID ("tok_" + 16 hex digits).
func newTokenID() string {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	return "tok_" + hex.EncodeToString(b[:])
}

// HashToken is how tokens are stored: SHA-256 of the secret. Tokens carry
// 256 random bits, so a fast hash is enough (nothing to brute-force).
func HashToken(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// principal is who is calling: a token's holder or an anonymous customer.
type principal struct {
	token *store.Token // nil: anonymous customer
	hash  []byte       // the token's hash, to look it up again
}

// tokenID is the caller's token ID ("" for a customer).
func (p principal) tokenID() string {
	if p.token == nil {
		return ""
	}
	return p.token.ID
}

const principalKey = "aisle.principal"

func principalOf(c echo.Context) principal {
	p, _ := c.Get(principalKey).(principal)
	return p
}

func (p principal) role() store.Role {
	if p.token == nil {
		return ""
	}
	return p.token.Role
}

// storeRole reports whether the caller's token belongs to one store
// (staff or manager).
func (p principal) storeRole() bool {
	return p.role() == store.RoleStaff || p.role() == store.RoleManager
}

// audience is what the caller may read of storeID's sync log.
func (p principal) audience(storeID string) wire.Audience {
	switch {
	case p.role() == store.RoleAdmin:
		return wire.AudienceStaff
	case p.storeRole() && p.token.Store == storeID:
		return wire.AudienceStaff
	}
	return wire.AudiencePublic
}

func (s *Server) actor(c echo.Context) store.Actor {
	p := principalOf(c)
	a := store.Actor{IP: c.RealIP(), Name: "anonymous"}
	if p.token != nil {
		a.TokenID, a.Name, a.Role = p.token.ID, p.token.Name, p.token.Role
	}
	return a
}

// authenticate resolves an "Authorization: Bearer <token>" header. No
// header means an anonymous customer; a bad token is an error (never
// silently anonymous, so a client learns its token was revoked).
func (s *Server) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Request().Header.Get(echo.HeaderAuthorization)
		if h == "" || !isAPI(c.Request().URL.Path) {
			c.Set(principalKey, principal{})
			return next(c)
		}
		scheme, secret, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || !strings.HasPrefix(secret, TokenPrefix) || len(secret) > 200 {
			return catalog.Errorf(catalog.Unauthorized, "expected Authorization: Bearer %s...", TokenPrefix)
		}
		hash := HashToken(secret)
		t, err := s.checkToken(c.Request().Context(), hash)
		if err != nil {
			return err
		}
		if t.Role == store.RoleStaff && strings.HasPrefix(c.Request().URL.Path, "/v1/stores/") {
			s.noteSync(c.Request().Context(), t.ID, s.now().UTC())
		}
		c.Set(principalKey, principal{token: &t, hash: hash})
		return next(c)
	}
}

// requireRole admits callers holding one of roles.
func (s *Server) requireRole(roles ...store.Role) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			p := principalOf(c)
			if p.token == nil {
				return catalog.Errorf(catalog.Unauthorized, "this endpoint needs an API token")
			}
			for _, r := range roles {
				if p.token.Role == r {
					return next(c)
				}
			}
			return catalog.Errorf(catalog.Forbidden, "role %q may not do this", p.token.Role)
		}
	}
}

// requireStore admits admins, and staff and managers of the :store in the
// path.
func (s *Server) requireStore(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		p := principalOf(c)
		if p.role() == store.RoleAdmin || (p.storeRole() && p.token.Store == c.Param("store")) {
			return next(c)
		}
		return catalog.Errorf(catalog.Forbidden, "this token may not manage store %q", c.Param("store"))
	}
}

// requireManager admits admins, and managers of the :store in the path.
func (s *Server) requireManager(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		p := principalOf(c)
		if p.role() == store.RoleAdmin || (p.role() == store.RoleManager && p.token.Store == c.Param("store")) {
			return next(c)
		}
		return catalog.Errorf(catalog.Forbidden, "only an admin or the manager of store %q may do this", c.Param("store"))
	}
}

// tokenRequest is the body of POST /v1/admin/tokens.
type tokenRequest struct {
	Name  string     `json:"name"`
	Role  store.Role `json:"role"`
	Store string     `json:"store,omitempty"`
}

// tokenResponse returns the secret, once.
type tokenResponse struct {
	store.Token
	Secret string `json:"secret"`
}

func (s *Server) createToken(c echo.Context) error {
	var req tokenRequest
	if err := decodeStrict(c, &req); err != nil {
		return err
	}
	var fe []catalog.FieldError
	req.Name = strings.TrimSpace(req.Name)
	if req.Name == "" || len(req.Name) > catalog.MaxNameLen {
		fe = append(fe, catalog.FieldError{Field: "name", Message: "is required (at most 200 characters)"})
	}
	switch req.Role {
	case store.RoleAdmin:
		if req.Store != "" {
			fe = append(fe, catalog.FieldError{Field: "store", Message: "admin tokens serve every store"})
		}
	case store.RoleStaff, store.RoleManager:
		if _, err := s.store.Get(c.Request().Context(), store.Stores, req.Store); err != nil {
			fe = append(fe, catalog.FieldError{Field: "store", Message: string(req.Role) + " tokens need an existing store"})
		}
	default:
		fe = append(fe, catalog.FieldError{Field: "role", Message: `must be "admin", "staff" or "manager"`})
	}
	if len(fe) > 0 {
		return &catalog.Error{Code: catalog.Invalid, Message: "invalid token", Fields: fe}
	}
	secret, hash := NewToken()
	t := store.Token{ID: newTokenID(), Name: req.Name, Role: req.Role, Store: req.Store, CreatedAt: s.now().UTC()}
	if err := s.store.CreateToken(c.Request().Context(), s.actor(c), t, hash); err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusCreated, tokenResponse{Token: t, Secret: secret})
}

func (s *Server) listTokens(c echo.Context) error {
	ts, err := s.store.ListTokens(c.Request().Context())
	if err != nil {
		return err
	}
	if ts == nil {
		ts = []store.Token{}
	}
	return s.jsonCached(c, map[string]any{"items": ts})
}

// revokeToken revokes a token and ends its push streams on this server at
// once. Streams of it held by other server processes stay open until they
// reconnect (and then get 401).
func (s *Server) revokeToken(c echo.Context) error {
	id := c.Param("id")
	if err := s.store.RevokeToken(c.Request().Context(), s.actor(c), id); err != nil {
		return err
	}
	s.hub.EndToken(id)
	return c.NoContent(http.StatusNoContent)
}

// EnsureAdminToken makes secret a valid admin token (creating it, named
// name, if its hash is unknown). Used for the bootstrap token.
func EnsureAdminToken(ctx context.Context, st store.Store, name, secret string) error {
	if !strings.HasPrefix(secret, TokenPrefix) || len(secret) < len(TokenPrefix)+32 {
		return catalog.Errorf(catalog.Invalid, "admin token must start with %q and carry at least 32 more characters", TokenPrefix)
	}
	if t, err := st.TokenByHash(ctx, HashToken(secret)); err == nil && t.Role == store.RoleAdmin {
		return nil
	} else if err != nil && !catalog.IsCode(err, catalog.Unauthorized) {
		return err
	}
	t := store.Token{ID: newTokenID(), Name: name, Role: store.RoleAdmin}
	return st.CreateToken(ctx, store.Actor{Name: "bootstrap", Role: store.RoleAdmin}, t, HashToken(secret))
}
