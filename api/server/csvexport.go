package server

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/labstack/echo/v4"

	"aisle/api/store"
)

// A list of records can be exported as CSV (?format=csv, or Accept: text/csv) with the import's
// columns (csvColumns), so that an admin can edit it in a spreadsheet and import it again. A cell
// that a spreadsheet would run as a formula (it starts with = + - @, a tab or a carriage return:
// "=HYPERLINK(...)", "+cmd|' /C calc'!A0") is written with a leading apostrophe, which
// spreadsheets show as text (OWASP's CSV injection rule); the import removes that apostrophe, so
// an export imports back unchanged.

// wantsCSV reports whether a list request asks for CSV.
func wantsCSV(c echo.Context) bool {
	if f := c.QueryParam("format"); f != "" {
		return f == "csv"
	}
	for _, part := range strings.Split(c.Request().Header.Get(echo.HeaderAccept), ",") {
		if mt, _, err := mime.ParseMediaType(strings.TrimSpace(part)); err == nil {
			return mt == "text/csv" // the first type named decides
		}
	}
	return false
}

// formulaStart lists the first characters that make a spreadsheet read a cell as a formula.
const formulaStart = "=+-@\t\r"

// neutralize makes a cell read as text in a spreadsheet.
func neutralize(cell string) string {
	if cell != "" && strings.IndexByte(formulaStart, cell[0]) >= 0 {
		return "'" + cell
	}
	return cell
}

// unneutralize undoes neutralize on an imported cell.
func unneutralize(cell string) string {
	if len(cell) > 1 && cell[0] == '\'' && strings.IndexByte(formulaStart, cell[1]) >= 0 {
		return cell[1:]
	}
	return cell
}

// writeCSV answers one page of a list as CSV; a further page is linked in a Link header
// (rel="next").
func writeCSV(c echo.Context, ent store.Entity, items []json.RawMessage, next string) error {
	records := make([]map[string]any, len(items))
	attrs := map[string]bool{}
	for i, raw := range items {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if err := dec.Decode(&records[i]); err != nil {
			return err
		}
		if a, ok := records[i]["attributes"].(map[string]any); ok {
			for k := range a {
				attrs[k] = true
			}
		}
	}
	var header []string
	for _, col := range csvColumns[ent] {
		header = append(header, strings.TrimPrefix(col, "*"))
	}
	var attrCols []string
	for k := range attrs {
		attrCols = append(attrCols, k)
	}
	sort.Strings(attrCols)
	for _, k := range attrCols {
		header = append(header, "attr:"+k)
	}
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Write(header)
	for _, r := range records {
		row := make([]string, len(header))
		for i, col := range header {
			row[i] = neutralize(csvCell(r, col))
		}
		w.Write(row)
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return err
	}
	if next != "" {
		q := c.QueryParams()
		q.Set("after", next)
		q.Set("format", "csv")
		c.Response().Header().Set("Link", fmt.Sprintf(`<%s?%s>; rel="next"`, c.Request().URL.Path, q.Encode()))
	}
	c.Response().Header().Set(echo.HeaderContentDisposition, fmt.Sprintf(`attachment; filename=%q`, url.PathEscape(string(ent))+".csv"))
	return c.Blob(http.StatusOK, "text/csv; charset=utf-8", b.Bytes())
}

// csvCell is the cell of column col for record r, as csvObject reads it back.
func csvCell(r map[string]any, col string) string {
	var v any
	switch staff, _ := r["staff"].(map[string]any); {
	case strings.HasPrefix(col, "attr:"):
		a, _ := r["attributes"].(map[string]any)
		v = a[col[5:]]
	case col == "cost" || col == "backroom" || col == "supplier" || col == "notes":
		v = staff[col]
	default:
		v = r[col]
	}
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case []any:
		parts := make([]string, len(x))
		for i, p := range x {
			parts[i] = fmt.Sprint(p)
		}
		return strings.Join(parts, "|")
	default:
		return fmt.Sprint(x)
	}
}
