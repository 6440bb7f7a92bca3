package server

import (
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"aisle/sync/catalog"
)

// The console's Staff tablets page (/admin/stores/:store/tablets): a
// store's pairings, a form to pair a tablet (its QR code and link shown
// once, in the response to the form), and a revoke button per pairing.
// It calls what the JSON API calls (newPairing, pairingViews, endPairing),
// and admits whom consoleStoreParam admits: admins for every store, a
// manager for its own (the API's requireManager rule).

// tabletsView is what tablets.html shows.
type tabletsView struct {
	Store    catalog.Store
	Rows     []tabletRow
	Name     string // the form's values, shown again after an error
	Expires  string
	MinLocal string // now, as the expiry input's min
	Errors   map[string]string
	Created  *createdPairing // the pairing just created: its code, shown once
}

// tabletRow is one listed pairing, its times in the store's time zone.
type tabletRow struct {
	ID, Name, State                      string
	Created, Expires, PairedAt, LastSync string // "" for none
}

// createdPairing is a new pairing's link and QR code (inline SVG markup
// made by qrSVG: no script, allowed by consoleCSP).
type createdPairing struct {
	store string // the store it pairs a tablet of
	Name  string
	Link  string
	QR    template.HTML
}

// tabletTimeLayout is the expiry input's format (datetime-local).
const tabletTimeLayout = "2006-01-02T15:04"

// consoleTablets lists the store's pairings (GET).
func (s *Server) consoleTablets(c echo.Context) error {
	st, err := s.consoleStoreParam(c)
	if err != nil {
		return err
	}
	var v tabletsView
	if c.Request().Method == http.MethodGet {
		v.Created = s.console.sessions.takeCreated(consoleSessionOf(c), st.ID)
	}
	return s.renderTablets(c, http.StatusOK, st, v, "")
}

// renderTablets fills v's list and renders the page.
func (s *Server) renderTablets(c echo.Context, status int, st catalog.Store, v tabletsView, pageErr string) error {
	loc, err := time.LoadLocation(st.TimeZone)
	if err != nil {
		loc = time.UTC
	}
	views, err := s.pairingViews(c.Request().Context(), st.ID)
	if err != nil {
		return err
	}
	local := func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.In(loc).Format("2006-01-02 15:04")
	}
	v.Store = st
	v.MinLocal = s.now().In(loc).Format(tabletTimeLayout)
	// Newest first: the one just created leads.
	for i := len(views) - 1; i >= 0; i-- {
		p := views[i]
		v.Rows = append(v.Rows, tabletRow{ID: p.ID, Name: p.Name, State: p.State, Created: local(&p.CreatedAt),
			Expires: local(p.ExpiresAt), PairedAt: local(p.PairedAt), LastSync: local(p.LastSyncAt)})
	}
	return s.render(c, status, "tablets", page{Title: "Staff tablets of " + st.Name, Store: st.ID, Section: "tablets", Error: pageErr, Data: v})
}

// consoleTabletCreate creates a pairing (POST) and redirects to the list,
// whose next GET shows its QR code and link this once (the page is never
// cached, and a reload neither shows the code again nor pairs again).
func (s *Server) consoleTabletCreate(c echo.Context) error {
	st, err := s.consoleStoreParam(c)
	if err != nil {
		return err
	}
	v := tabletsView{Name: c.FormValue("name"), Expires: strings.TrimSpace(c.FormValue("expires_at"))}
	req := pairingRequest{Name: v.Name}
	if v.Expires != "" {
		loc, err := time.LoadLocation(st.TimeZone)
		if err != nil {
			loc = time.UTC
		}
		t, err := time.ParseInLocation(tabletTimeLayout, v.Expires, loc)
		if err != nil {
			v.Errors = map[string]string{"expires_at": "must be a date and a time"}
			return s.renderTablets(c, http.StatusUnprocessableEntity, st, v, "No tablet was paired: fix the fields marked below.")
		}
		req.ExpiresAt = &t
	}
	p, err := s.newPairing(c.Request().Context(), s.actor(c), s.publicURL(c.Request()), st.ID, req)
	if catalog.IsCode(err, catalog.Invalid) {
		v.Errors = fieldErrors(err)
		return s.renderTablets(c, http.StatusUnprocessableEntity, st, v, "No tablet was paired: fix the fields marked below.")
	} else if err != nil {
		return err
	}
	s.console.sessions.setCreated(consoleSessionOf(c), &createdPairing{store: st.ID, Name: p.Name, Link: p.Link, QR: template.HTML(p.QRSVG)})
	return c.Redirect(http.StatusSeeOther, "/admin/stores/"+st.ID+"/tablets")
}

// consoleTabletRevoke revokes a pairing of the store in the path (POST):
// its tablet is signed out at its next request.
func (s *Server) consoleTabletRevoke(c echo.Context) error {
	st, err := s.consoleStoreParam(c)
	if err != nil {
		return err
	}
	if err := s.endPairing(c.Request().Context(), s.actor(c), c.Param("id"), st.ID); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/admin/stores/"+st.ID+"/tablets?done=revoked")
}
