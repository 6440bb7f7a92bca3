package server

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"aisle/api/store"
	"aisle/sync/catalog"
)

// signInData is the sign-in page's data. Pre is the pre-session CSRF token
// (also in the consolePreCookie cookie). The token field is never filled
// back in.
type signInData struct {
	Pre string
}

// consoleSignInPage shows the sign-in form with a fresh pre-session token.
func (s *Server) consoleSignInPage(c echo.Context) error {
	return s.signInForm(c, http.StatusOK, "")
}

func (s *Server) signInForm(c echo.Context, status int, msg string) error {
	pre := randomToken()
	s.setConsoleCookie(c, consolePreCookie, pre, 3600)
	return s.render(c, status, "signin", page{Title: "Sign in", Error: msg, Data: signInData{Pre: pre}})
}

// consoleSignedOut shows the sign-in form with msg and clears the session
// cookie (the session is gone or its token revoked).
func (s *Server) consoleSignedOut(c echo.Context, msg string) error {
	s.setConsoleCookie(c, consoleCookie, "", -1)
	if c.Request().Method != http.MethodGet {
		return s.signInForm(c, http.StatusUnauthorized, msg)
	}
	return s.signInForm(c, http.StatusOK, msg)
}

// consoleSignIn checks a posted token (form field "token") exactly as the
// API does (HashToken, Store.TokenByHash), and starts a session for an
// admin token. The form must carry the pre-session token of its cookie and
// come from this origin. A manager's session opens on its store.
func (s *Server) consoleSignIn(c echo.Context) error {
	if err := s.checkOrigin(c); err != nil {
		return err
	}
	pre, err := c.Cookie(consolePreCookie)
	// Both from the body only (PostFormValue): never from a URL.
	if err != nil || !sameSecret(c.Request().PostFormValue("pre"), pre.Value) {
		return echo.NewHTTPError(http.StatusForbidden, "missing or wrong sign-in form token; reload the page")
	}
	secret := strings.TrimSpace(c.Request().PostFormValue("token"))
	if !strings.HasPrefix(secret, TokenPrefix) || len(secret) > 200 {
		return s.signInForm(c, http.StatusUnauthorized, "That is not an API token (they start with "+TokenPrefix+").")
	}
	hash := HashToken(secret)
	t, err := s.store.TokenByHash(c.Request().Context(), hash)
	switch {
	case catalog.IsCode(err, catalog.Unauthorized):
		return s.signInForm(c, http.StatusUnauthorized, "Unknown or revoked token.")
	case err != nil:
		return err
	case !consoleRole(t):
		return s.signInForm(c, http.StatusForbidden, "The console needs an admin or a store manager token.")
	}
	if old, err := c.Cookie(consoleCookie); err == nil {
		s.console.sessions.drop(old.Value) // a sign-in replaces the browser's session
	}
	id := s.console.sessions.add(hash, s.now())
	s.setConsoleCookie(c, consolePreCookie, "", -1)
	s.setConsoleCookie(c, consoleCookie, id, 0)
	if t.Role == store.RoleManager {
		return c.Redirect(http.StatusSeeOther, "/admin/stores/"+t.Store)
	}
	return c.Redirect(http.StatusSeeOther, "/admin/stores")
}

// consoleSignOut ends the session (server-side) and clears its cookie.
func (s *Server) consoleSignOut(c echo.Context) error {
	if ck, err := c.Cookie(consoleCookie); err == nil {
		s.console.sessions.drop(ck.Value)
	}
	s.setConsoleCookie(c, consoleCookie, "", -1)
	return c.Redirect(http.StatusSeeOther, "/admin/signin")
}
