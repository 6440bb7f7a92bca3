package server

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"aisle/api/store"
	"aisle/sync/catalog"
)

// faqRow is an FAQ as the console shows and edits it.
type faqRow struct {
	catalog.FAQ
	Version     int64  // 0: a new FAQ
	TagsInput   string // tags, comma-separated
	AllStores   bool   // Store == "": every store's devices get it
	FieldErrors map[string]string
}

// consoleFAQs lists the store's FAQs and the chain-wide ones.
func (s *Server) consoleFAQs(c echo.Context) error {
	st, err := s.consoleStoreParam(c)
	if err != nil {
		return err
	}
	var rows []faqRow
	for _, sc := range []string{st.ID, ""} {
		err := s.eachItem(c.Request().Context(), store.FAQs, store.ListQuery{Scope: &sc}, func(it store.Item) error {
			var f catalog.FAQ
			if err := json.Unmarshal(it.Data, &f); err != nil {
				return err
			}
			rows = append(rows, faqRow{FAQ: f, Version: it.Version, AllStores: f.Store == ""})
			return nil
		})
		if err != nil {
			return err
		}
	}
	return s.render(c, http.StatusOK, "faqs", page{Title: "FAQs of " + st.Name, Store: st.ID, Section: "faqs", Data: rows})
}

// loadFAQ reads the FAQ of :id to change it: it must be this store's, or
// chain-wide for an admin.
func (s *Server) loadFAQ(c echo.Context, st catalog.Store) (faqRow, error) {
	id := c.Param("id")
	if !catalog.ValidID(id) {
		return faqRow{}, catalog.Errorf(catalog.Invalid, "bad FAQ id %q", id)
	}
	it, err := s.store.Get(c.Request().Context(), store.FAQs, id)
	if err != nil {
		return faqRow{}, err
	}
	var f catalog.FAQ
	if err := json.Unmarshal(it.Data, &f); err != nil {
		return faqRow{}, err
	}
	if f.Store != "" && f.Store != st.ID {
		return faqRow{}, catalog.Errorf(catalog.NotFound, "FAQ %q belongs to another store", id)
	}
	if f.Store == "" && managedStore(c) != "" {
		return faqRow{}, catalog.Errorf(catalog.Forbidden, "FAQ %q is chain-wide: only an admin may change it", id)
	}
	return faqRow{FAQ: f, Version: it.Version, TagsInput: strings.Join(f.Tags, ", "), AllStores: f.Store == ""}, nil
}

// consoleFAQForm shows the form of a new FAQ (/faqs/new) or of :id.
func (s *Server) consoleFAQForm(c echo.Context) error {
	st, err := s.consoleStoreParam(c)
	if err != nil {
		return err
	}
	row := faqRow{FAQ: catalog.FAQ{Store: st.ID}}
	if c.Param("id") != "" {
		if row, err = s.loadFAQ(c, st); err != nil {
			return err
		}
	}
	return s.render(c, http.StatusOK, "faq", page{Title: "FAQ", Store: st.ID, Section: "faqs", Data: row})
}

// consoleFAQSave creates (POST /faqs) or replaces (POST /faqs/:id) an FAQ
// through store.PutFAQ (the API's validation), guarded by the version the
// form was loaded with. Invalid input changes nothing and comes back with
// messages next to the fields.
func (s *Server) consoleFAQSave(c echo.Context) error {
	st, err := s.consoleStoreParam(c)
	if err != nil {
		return err
	}
	row := faqRow{FAQ: catalog.FAQ{ID: newID("faq")}}
	if c.Param("id") != "" {
		if row, err = s.loadFAQ(c, st); err != nil {
			return err
		}
		if c.FormValue("version") != strconv.FormatInt(row.Version, 10) {
			row.FieldErrors = map[string]string{"": "This FAQ changed since the form was loaded: the form now shows the stored FAQ; make your change again."}
			return s.faqFormError(c, st, row)
		}
	}
	row.Question, row.Answer = c.FormValue("question"), c.FormValue("answer")
	row.TagsInput = c.FormValue("tags")
	row.AllStores = c.FormValue("all_stores") == "on" && managedStore(c) == ""
	row.Store = st.ID
	if row.AllStores {
		row.Store = ""
	}
	row.Tags = nil
	for _, t := range strings.Split(row.TagsInput, ",") {
		if t = strings.TrimSpace(t); t != "" {
			row.Tags = append(row.Tags, t)
		}
	}
	op, err := store.PutFAQ(row.FAQ)
	if err == nil {
		_, err = s.store.Write(c.Request().Context(), s.actor(c), []store.Op{guard(op, row.Version)})
	}
	if err != nil {
		row.FieldErrors = fieldErrors(err)
		return s.faqFormError(c, st, row)
	}
	return c.Redirect(http.StatusSeeOther, "/admin/stores/"+st.ID+"/faqs?done=saved")
}

func (s *Server) faqFormError(c echo.Context, st catalog.Store, row faqRow) error {
	msg := row.FieldErrors[""]
	if msg == "" {
		msg = "Nothing was saved: fix the fields marked below."
	}
	return s.render(c, http.StatusUnprocessableEntity, "faq", page{Title: "FAQ", Store: st.ID, Section: "faqs", Error: msg, Data: row})
}

// consoleFAQDelete deletes an FAQ, guarded by the version shown.
func (s *Server) consoleFAQDelete(c echo.Context) error {
	st, err := s.consoleStoreParam(c)
	if err != nil {
		return err
	}
	row, err := s.loadFAQ(c, st)
	if err != nil {
		return err
	}
	op := store.Delete(store.FAQs, row.ID)
	v, _ := strconv.ParseInt(c.FormValue("version"), 10, 64)
	op.IfVersion = max(v, 1)
	if _, err := s.store.Write(c.Request().Context(), s.actor(c), []store.Op{op}); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/admin/stores/"+st.ID+"/faqs?done=deleted")
}
