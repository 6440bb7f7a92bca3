package server

import (
	"errors"
	"io"
	"net/http"

	"github.com/labstack/echo/v4"

	"aisle/api/store"
	"aisle/sync/catalog"
)

// Import in the console is two steps, so that nothing is written before
// the person has seen what will be:
//
//  1. upload (POST /admin/stores/:store/import): the file is parsed and
//     validated by the API's own dry run (bulkOps, or runStoreImport with
//     DryRun); errors are shown per row and nothing is kept; a valid file
//     is kept in the session (one pending import per session) and
//     summarised;
//  2. confirm (POST .../import/confirm): the kept file is imported for
//     real, by the same code, which validates it again (the data may have
//     changed meanwhile); cancel (POST .../import/cancel) drops it.

// importKinds are the files the console imports, by form value.
var importKinds = map[string]string{
	"store":    "STORE.json (the whole store)",
	"products": "CSV of products (chain-wide)",
	"stock":    "CSV of this store's stock",
	"faqs":     "CSV of FAQs",
}

// managerImportKinds are the files a manager imports: only the store's
// own records (a store file or a product or FAQ CSV may change chain-wide
// records or other stores).
var managerImportKinds = map[string]string{"stock": importKinds["stock"]}

// newStoreKinds are the files the chain-level import page (/admin/import)
// takes: a STORE.json of any store, typically a new one.
var newStoreKinds = map[string]string{"store": "STORE.json (a whole store, new or not)"}

// importTarget is where an import page imports into: one store
// (/admin/stores/:store/import) or the chain (/admin/import, Store "").
type importTarget struct {
	Store string // "" for the chain-level page
	Title string
	Base  string // the import page's path
	Kinds map[string]string
}

// importTargetOf reads the import page's target from the path.
func (s *Server) importTargetOf(c echo.Context) (importTarget, error) {
	manager := managedStore(c) != ""
	if c.Param("store") == "" {
		if manager {
			return importTarget{}, catalog.Errorf(catalog.Forbidden, "only an admin may import a store file")
		}
		return importTarget{Title: "Import a store", Base: "/admin/import", Kinds: newStoreKinds}, nil
	}
	st, err := s.consoleStoreParam(c)
	if err != nil {
		return importTarget{}, err
	}
	kinds := importKinds
	if manager {
		kinds = managerImportKinds
	}
	return importTarget{Store: st.ID, Title: "Import into " + st.Name, Base: "/admin/stores/" + st.ID + "/import", Kinds: kinds}, nil
}

// pendingImport is an uploaded, validated file awaiting confirmation.
type pendingImport struct {
	Store string // the store page it was uploaded on ("" for /admin/import)
	Kind  string // a key of importKinds
	Name  string // the file's name, as uploaded
	Body  []byte
}

// importData is the import page's data.
type importData struct {
	Base    string // the import page's path; forms post under it
	Kinds   map[string]string
	Kind    string
	Name    string
	Errors  []catalog.FieldError // per-row errors of a rejected file
	Summary *importSummary       // a valid file, awaiting confirmation
}

// importSummary is what a valid file will write.
type importSummary struct {
	Rows     int      // records (CSV rows, or the store file's records)
	Keys     []string // the first maxPreviewKeys records' keys
	More     int      // records not listed
	Products int      // store file only
	Stock    int
	FAQs     int
}

const maxPreviewKeys = 20

// consoleImportPage shows the upload form, or the pending import.
func (s *Server) consoleImportPage(c echo.Context) error {
	tg, err := s.importTargetOf(c)
	if err != nil {
		return err
	}
	d := importData{Base: tg.Base, Kinds: tg.Kinds, Kind: "store"}
	if _, ok := tg.Kinds["store"]; !ok {
		d.Kind = "stock"
	}
	if p := s.console.sessions.pendingOf(consoleSessionOf(c)); p != nil && p.Store == tg.Store {
		d.Kind, d.Name = p.Kind, p.Name
		d.Summary, err = s.checkImport(c, p)
		if err != nil {
			d.Errors = importErrors(err)
		}
	}
	return s.render(c, http.StatusOK, "import", page{Title: tg.Title, Store: tg.Store, Section: "import", Data: d})
}

// consoleImportPreview validates an uploaded file and shows the result.
func (s *Server) consoleImportPreview(c echo.Context) error {
	tg, err := s.importTargetOf(c)
	if err != nil {
		return err
	}
	sess := consoleSessionOf(c)
	s.console.sessions.setPending(sess, nil)
	d := importData{Base: tg.Base, Kinds: tg.Kinds, Kind: c.FormValue("kind")}
	if _, ok := tg.Kinds[d.Kind]; !ok {
		d.Kind = ""
		return s.importPageError(c, tg, d, "Choose what the file is.")
	}
	fh, err := c.FormFile("file")
	if err != nil {
		return s.importPageError(c, tg, d, "Choose a file to upload.")
	}
	d.Name = fh.Filename
	f, err := fh.Open()
	if err != nil {
		return err
	}
	defer f.Close()
	body, err := io.ReadAll(io.LimitReader(f, s.cfg.ImportLimit+1))
	if err != nil {
		return err
	}
	if int64(len(body)) > s.cfg.ImportLimit {
		return s.importPageError(c, tg, d, "The file is larger than the import limit.")
	}
	p := &pendingImport{Store: tg.Store, Kind: d.Kind, Name: d.Name, Body: body}
	d.Summary, err = s.checkImport(c, p)
	if err != nil {
		d.Errors = importErrors(err)
		return s.importPageError(c, tg, d, errorText(err))
	}
	s.console.sessions.setPending(sess, p)
	return s.render(c, http.StatusOK, "import", page{Title: tg.Title, Store: tg.Store, Section: "import", Data: d})
}

// checkImport is the dry run of p: the API's validation, nothing written.
func (s *Server) checkImport(c echo.Context, p *pendingImport) (*importSummary, error) {
	if p.Kind == "store" {
		res, err := s.runStoreImport(c, p.Body, storeImportOptions{DryRun: true, Store: p.Store})
		if err != nil {
			return nil, err
		}
		return &importSummary{Rows: 1 + res.Products + res.Stock + res.FAQs, Products: res.Products, Stock: res.Stock, FAQs: res.FAQs}, nil
	}
	ops, err := s.bulkOps(store.Entity(p.Kind), p.Store, true, p.Body)
	if err != nil {
		return nil, err
	}
	sum := &importSummary{Rows: len(ops)}
	for _, op := range ops[:min(len(ops), maxPreviewKeys)] {
		sum.Keys = append(sum.Keys, op.Ref)
	}
	sum.More = len(ops) - len(sum.Keys)
	return sum, nil
}

// consoleImportConfirm writes the session's pending import of this page,
// then shows the store imported into.
func (s *Server) consoleImportConfirm(c echo.Context) error {
	tg, err := s.importTargetOf(c)
	if err != nil {
		return err
	}
	p := s.console.sessions.setPending(consoleSessionOf(c), nil)
	if p == nil || p.Store != tg.Store {
		return s.importPageError(c, tg, importData{Base: tg.Base, Kinds: tg.Kinds, Kind: "store"}, "There is no import to confirm: upload the file again.")
	}
	storeID := tg.Store
	if p.Kind == "store" {
		var res storeImportResult
		if res, err = s.runStoreImport(c, p.Body, storeImportOptions{Store: tg.Store}); err == nil {
			storeID = res.Store
		}
	} else {
		var ops []store.Op
		if ops, err = s.bulkOps(store.Entity(p.Kind), tg.Store, true, p.Body); err == nil {
			_, err = s.writeBulk(c.Request().Context(), s.actor(c), store.Entity(p.Kind), ops, false)
		}
	}
	if err != nil {
		d := importData{Base: tg.Base, Kinds: tg.Kinds, Kind: p.Kind, Name: p.Name, Errors: importErrors(err)}
		return s.importPageError(c, tg, d, errorText(err))
	}
	return c.Redirect(http.StatusSeeOther, "/admin/stores/"+storeID+"?done=imported")
}

// consoleImportCancel drops the session's pending import.
func (s *Server) consoleImportCancel(c echo.Context) error {
	tg, err := s.importTargetOf(c)
	if err != nil {
		return err
	}
	s.console.sessions.setPending(consoleSessionOf(c), nil)
	return c.Redirect(http.StatusSeeOther, tg.Base+"?done=canceled")
}

// importErrors lists an import error's problems (one without fields is
// one problem).
func importErrors(err error) []catalog.FieldError {
	var ce *catalog.Error
	if errors.As(err, &ce) && len(ce.Fields) > 0 {
		return ce.Fields
	}
	return []catalog.FieldError{{Message: errorText(err)}}
}

func (s *Server) importPageError(c echo.Context, tg importTarget, d importData, msg string) error {
	return s.render(c, http.StatusUnprocessableEntity, "import", page{Title: tg.Title, Store: tg.Store, Section: "import", Error: msg, Data: d})
}
