//go:build js && wasm

// Command aisle-edge is the edge read replica (aisle/api/edge) as a
// Cloudflare Worker: Go compiled to WebAssembly (GOOS=js GOARCH=wasm), run
// by github.com/syumai/workers, one Go instance per request, its data in the
// D1 database bound as DB. The Worker's entry module (edge.mjs) hands it
// the sync reads and the feed routes and forwards the rest to the origin.
//
// Build and deploy: deploy/edge.md (make edge).
//
// Bindings: DB (D1), EDGE_SECRET (secret: the origin's feed), ORIGIN_URL
// (var, used by edge.mjs).
package main

import (
	"database/sql"
	"net/http"

	"github.com/syumai/workers"
	"github.com/syumai/workers/cloudflare"
	"github.com/syumai/workers/cloudflare/d1"

	"aisle/api/edge"
	"aisle/sync/catalog"
)

func main() {
	var h http.Handler
	c, err := d1.OpenConnector("DB")
	if err != nil {
		// No database bound: every request is Unavailable (edge.mjs then
		// forwards sync reads to the origin).
		h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			(&edge.Handler{}).Fail(w, r, catalog.Wrap(err, catalog.Unavailable, "no D1 database bound as DB"))
		})
	} else {
		h = &edge.Handler{Edge: &edge.Edge{DB: sql.OpenDB(c)}, Secret: cloudflare.Getenv("EDGE_SECRET")}
	}
	workers.Serve(h)
}
