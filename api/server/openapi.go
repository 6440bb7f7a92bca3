package server

import (
	"encoding/json"
	"fmt"
	"strings"
	gosync "sync"

	"github.com/labstack/echo/v4"

	"aisle/sync/wire"
)

// apiRoute documents one operation for the OpenAPI document.
type apiRoute struct {
	method, path, summary string
	auth                  string // "", "staff", "admin"
	body                  string // request schema name
	resp                  string // 2xx response schema name ("" = no content), or a media type (with a "/") for a non-JSON body
	status                string // 2xx status (default "200")
	query                 []string
}

var apiRoutes = []apiRoute{
	{"get", "/healthz", "Liveness and log version", "", "", "Health", "", nil},
	{"get", "/v1/openapi.json", "This document", "", "", "", "", nil},
	{"get", "/v1/stores", "List stores (public records)", "", "", "StoreList", "", []string{"after", "limit"}},
	{"get", "/v1/stores/{store}/checkpoint", "Latest published checkpoint (ETag, no-cache)", "", "", "Checkpoint", "", nil},
	{"get", "/v1/stores/{store}/changes", "One page of changes in (since, target]; a snapshot (reset) when since is 0 or too old. Immutable, cacheable. Staff fields only for staff tokens of the store.", "", "", "Page", "", []string{"since", "target", "after", "limit"}},
	{"get", "/v1/stores/{store}/events", "Server-sent events: hello, then checkpoint events (text/event-stream)", "", "", "", "", nil},
	{"get", "/v1/stores/{store}/qr.svg", "The store's QR code as SVG (viewBox in modules, 4-module quiet zone, error correction level Q). It encodes <public URL>/?store=<id>: the server's -public-url, or this request's scheme (TLS, or a trusted proxy's X-Forwarded-Proto) and Host. ETag; cacheable for a day.", "", "", "image/svg+xml", "", nil},
	{"get", "/v1/stores/{store}/qr.png", "The store's QR code as a size×size PNG (size: 64..2048 pixels, default 512; whole pixels per module, the remainder widens the quiet zone). Same text as qr.svg. ETag; cacheable for a day.", "", "", "image/png", "", []string{"size"}},
	{"get", "/v1/stores/{store}/poster", "A printable one-page HTML poster for the store's door: its name, its QR code (inline SVG), one line of instructions and the URL. paper: a4 (default) or letter. Standalone: no external resources; its Content-Security-Policy admits only its own style sheet.", "", "", "text/html", "", []string{"paper"}},
	{"get", "/v1/admin/stores", "List stores", "admin", "", "StoreList", "", []string{"after", "limit"}},
	{"post", "/v1/admin/stores", "Create a store", "admin", "Store", "Store", "201", nil},
	{"get", "/v1/admin/stores/{key}", "Get a store (ETag v<version>)", "admin", "", "Store", "", nil},
	{"put", "/v1/admin/stores/{key}", "Create or replace a store (If-Match optional)", "admin", "Store", "Store", "", nil},
	{"delete", "/v1/admin/stores/{key}", "Delete a store without records", "admin", "", "", "204", nil},
	{"post", "/v1/admin/stores/{store}/publish", "Publish a checkpoint now and notify devices (admin, or the store's manager)", "manager", "", "Checkpoint", "201", nil},
	{"get", "/v1/admin/stores/{store}/stock", "List the store's stock (admin, or staff of the store)", "staff", "", "StockList", "", []string{"after", "limit"}},
	{"get", "/v1/admin/stores/{store}/stock/{key}", "Get a stock line", "staff", "", "StockRecord", "", nil},
	{"put", "/v1/admin/stores/{store}/stock/{key}", "Set a stock line", "staff", "StockRecord", "StockRecord", "", nil},
	{"delete", "/v1/admin/stores/{store}/stock/{key}", "Delete a stock line", "staff", "", "", "204", nil},
	{"get", "/v1/admin/products", "List products", "admin", "", "ProductList", "", []string{"after", "limit"}},
	{"post", "/v1/admin/products", "Create a product", "admin", "ProductRecord", "ProductRecord", "201", nil},
	{"get", "/v1/admin/products/{key}", "Get a product", "admin", "", "ProductRecord", "", nil},
	{"put", "/v1/admin/products/{key}", "Create or replace a product", "admin", "ProductRecord", "ProductRecord", "", nil},
	{"delete", "/v1/admin/products/{key}", "Delete a product without stock lines", "admin", "", "", "204", nil},
	{"get", "/v1/admin/faqs", "List FAQs (store= filters by store, empty for global)", "admin", "", "FAQList", "", []string{"after", "limit", "store"}},
	{"post", "/v1/admin/faqs", "Create an FAQ (ID generated when absent)", "admin", "FAQ", "FAQ", "201", nil},
	{"get", "/v1/admin/faqs/{key}", "Get an FAQ", "admin", "", "FAQ", "", nil},
	{"put", "/v1/admin/faqs/{key}", "Create or replace an FAQ", "admin", "FAQ", "FAQ", "", nil},
	{"delete", "/v1/admin/faqs/{key}", "Delete an FAQ", "admin", "", "", "204", nil},
	{"get", "/v1/admin/promotions", "List promotions", "admin", "", "PromotionList", "", []string{"after", "limit", "store"}},
	{"post", "/v1/admin/promotions", "Create a promotion", "admin", "Promotion", "Promotion", "201", nil},
	{"get", "/v1/admin/promotions/{key}", "Get a promotion", "admin", "", "Promotion", "", nil},
	{"put", "/v1/admin/promotions/{key}", "Create or replace a promotion", "admin", "Promotion", "Promotion", "", nil},
	{"delete", "/v1/admin/promotions/{key}", "Delete a promotion", "admin", "", "", "204", nil},
	{"post", "/v1/admin/import", fmt.Sprintf("Bulk import (text/csv or application/json array), errors per row. Every row is validated first: an invalid row writes nothing. Rows are written in batches of %d, each all or nothing: an import of up to %[1]d rows is all or nothing; a larger one that fails while writing keeps the batches before the failing row (the error says how many rows were written). Sending the same import again is safe. dry_run=true validates every row the same way and writes nothing (the result has dry_run: true).", ImportBatchRows), "admin", "", "ImportResult", "", []string{"entity", "store", "dry_run"}},
	{"post", "/v1/admin/import/store", "Import one whole store from a STORE.json file, written in batches as the bulk import is: the store, its products (staff fields included; what the file leaves empty keeps its stored value), its stock lines and its FAQs, with their vectors. A bad file answers 400 with every problem (row: the file's line, field: the JSON path, e.g. products[3].price) and writes nothing. replace=true also removes the store's stock lines and store-scoped FAQs the file does not list (products stay: they are chain-wide); publish=true then publishes a checkpoint and notifies devices; dry_run=true checks and plans the whole import and writes nothing (the result has dry_run: true). Body limit: the import limit.", "admin", "StoreFile", "StoreImportResult", "", []string{"replace", "publish", "dry_run"}},
	{"post", "/v1/admin/stores/{store}/pairings", "Pair a staff tablet: creates a single-use pairing code for the store (shown once, stored hashed), the link that carries it in its fragment (<public URL>/?store=<id>#pair=<code>, so it never reaches server logs or Referer) and that link as an SVG QR code. expires_at (optional) ends the code and the staff token it issues. Admin, or the store's manager.", "manager", "PairingRequest", "PairingCreated", "201", nil},
	{"get", "/v1/admin/stores/{store}/pairings", "List the store's pairings, without codes: state waiting, paired, expired or revoked; last_sync_at when the tablet last synced (stored, to within a minute). Admin, or the store's manager.", "manager", "", "PairingList", "", nil},
	{"delete", "/v1/admin/pairings/{id}", "Revoke a pairing and the staff token it issued; that token's push streams on this server end at once and its next request gets 401, after which the tablet deletes its staff data. Admin, or the manager of the pairing's store (another store's pairing: 404).", "manager", "", "", "204", nil},
	{"post", "/v1/pair", "Exchange a pairing code, once, for a staff token of its store (no token needed; rate limited like all of /v1). An unknown or already used code: 401 with one message for both; a revoked or expired pairing: 410.", "", "PairRequest", "PairResult", "201", nil},
	{"get", "/v1/admin/tokens", "List API tokens", "admin", "", "TokenList", "", nil},
	{"post", "/v1/admin/tokens", "Create an API token (secret shown once)", "admin", "TokenRequest", "TokenCreated", "201", nil},
	{"delete", "/v1/admin/tokens/{id}", "Revoke a token; its push streams on this server end at once. The last active admin token cannot be revoked (409): create another admin token first.", "admin", "", "", "204", nil},
	{"get", "/v1/admin/audit", "Audit log, newest first", "admin", "", "AuditList", "", []string{"before", "limit"}},
	{"get", "/v1/admin/stats", "Change log statistics", "admin", "", "Stats", "", nil},
	{"post", "/v1/admin/compact", "Raise the retention horizon and prune the log", "admin", "CompactRequest", "Stats", "", nil},
	{"post", "/v1/admin/vectors/refresh", "Recompute every product's and FAQ's vector with the server's embedding model and log those that differ (the server does it at start when the model changed; call it after a rolling deploy during which older processes wrote)", "admin", "", "RefreshResult", "", nil},
}

type obj = map[string]any

func str() obj            { return obj{"type": "string"} }
func integer() obj        { return obj{"type": "integer", "format": "int64"} }
func boolean() obj        { return obj{"type": "boolean"} }
func arr(items obj) obj   { return obj{"type": "array", "items": items} }
func ref(name string) obj { return obj{"$ref": "#/components/schemas/" + name} }
func dateTime() obj       { return obj{"type": "string", "format": "date-time"} }
func object(props obj, req ...string) obj {
	o := obj{"type": "object", "properties": props, "additionalProperties": false}
	if len(req) > 0 {
		o["required"] = req
	}
	return o
}
func listOf(item string) obj { return object(obj{"items": arr(ref(item)), "next": str()}, "items") }

func schemas() obj {
	product := obj{"sku": str(), "name": str(), "description": str(), "category": str(), "brand": str(),
		"price": obj{"type": "integer", "description": "minor units (cents)"}, "currency": str(),
		"attributes": obj{"type": "object", "additionalProperties": str()}, "image_url": str(), "active": boolean()}
	productStaff := object(obj{"cost": integer(), "supplier": str(), "notes": str()})
	productRecord := object(product, "sku", "name", "price")
	productRecord["properties"].(obj)["staff"] = productStaff
	stock := obj{"sku": str(), "quantity": integer(), "aisle": str(), "updated_at": dateTime()}
	stockRecord := object(stock, "quantity")
	stockRecord["properties"].(obj)["staff"] = object(obj{"backroom": integer(), "notes": str()})
	return obj{
		"Error": object(obj{"error": object(obj{"code": obj{"type": "string", "enum": []string{"invalid", "not_found", "unauthorized", "token_expired", "forbidden", "conflict", "precondition_failed", "gone", "too_large", "rate_limited", "unsupported", "unavailable", "internal"}},
			"message": str(), "fields": arr(object(obj{"row": integer(), "field": str(), "message": str()}))}, "code", "message")}, "error"),
		"Health":        object(obj{"status": str(), "version": integer()}),
		"Store":         object(obj{"id": str(), "name": str(), "time_zone": str(), "address": str(), "nightly_at": obj{"type": "string", "pattern": "^[0-2][0-9]:[0-5][0-9]$"}}, "id", "name"),
		"ProductRecord": productRecord,
		"StockRecord":   stockRecord,
		"FAQ":           object(obj{"id": str(), "store": str(), "question": str(), "answer": str(), "tags": arr(str())}, "question", "answer"),
		"Promotion": object(obj{"id": str(), "store": str(), "title": str(), "description": str(), "skus": arr(str()),
			"discount_percent": integer(), "starts": dateTime(), "ends": dateTime()}, "title", "skus", "discount_percent", "starts", "ends"),
		"StoreList": listOf("Store"), "ProductList": listOf("ProductRecord"), "StockList": listOf("StockRecord"),
		"FAQList": listOf("FAQ"), "PromotionList": listOf("Promotion"),
		"Checkpoint": object(obj{"store": str(), "seq": integer(), "version": integer(), "published_at": dateTime(), "reason": str()}),
		"Change": object(obj{"v": integer(), "k": obj{"type": "string", "enum": wire.Kinds, "description": "vector: protocol 2 and later, id product:<SKU> or faq:<ID>"}, "id": str(), "del": boolean(),
			"d": obj{"description": "the entity's JSON (a Vector for kind vector); absent for tombstones"}}, "v", "k", "id"),
		"Vector": object(obj{"model": obj{"type": "string", "description": "the embedding function; a device ignores vectors of a model it does not compute"},
			"v": obj{"type": "string", "description": "base64 of the int8 components"}}, "model", "v"),
		"Page": object(obj{"protocol": integer(), "store": str(), "audience": str(), "since": integer(), "target": integer(),
			"reset": boolean(), "after": integer(), "changes": arr(ref("Change")), "next": integer(), "done": boolean()}),
		"ImportResult": object(obj{"entity": str(), "rows": integer(), "changed": integer(), "version": integer(), "dry_run": boolean()}),
		"StoreFile": obj{"type": "object", "required": []string{"store"}, "description": "STORE.json (catalog.ParseStoreFile): prices and costs in major units (17.49); every product listed gets a stock line; an FAQ without an id gets <store>.faq-<n>. Unknown keys are ignored.",
			"properties": obj{
				"store": obj{"type": "object", "required": []string{"id", "name"}, "properties": obj{"id": str(), "name": str(), "timezone": str(), "address": str(), "nightly_at": str()}},
				"products": arr(obj{"type": "object", "required": []string{"sku", "name", "price", "currency", "stock"}, "properties": obj{
					"sku": str(), "name": str(), "category": str(), "brand": str(), "description": str(), "barcode": str(), "image_url": str(),
					"price": obj{"type": "number"}, "currency": str(), "stock": integer(), "aisle": str(),
					"staff": obj{"type": "object", "properties": obj{"backroom": integer(), "supplier": str(), "cost": obj{"type": "number"}, "notes": str()}}}}),
				"faqs": arr(obj{"type": "object", "required": []string{"question", "answer"}, "properties": obj{"id": str(), "question": str(), "answer": str(), "tags": arr(str())}}),
			}},
		"StoreImportResult": object(obj{"store": str(), "products": integer(), "stock": integer(), "faqs": integer(), "changed": integer(),
			"removed_stock": arr(str()), "removed_faqs": arr(str()), "version": integer(), "checkpoint": ref("Checkpoint"), "dry_run": boolean()}),
		"TokenRequest":   object(obj{"name": str(), "role": obj{"type": "string", "enum": []string{"admin", "staff", "manager"}}, "store": str()}, "name", "role"),
		"Token":          object(obj{"id": str(), "name": str(), "role": str(), "store": str(), "created_at": dateTime(), "revoked": boolean(), "expires_at": dateTime()}),
		"TokenCreated":   object(obj{"id": str(), "name": str(), "role": str(), "store": str(), "created_at": dateTime(), "revoked": boolean(), "expires_at": dateTime(), "secret": str()}),
		"PairingRequest": object(obj{"name": str(), "expires_at": dateTime()}, "name"),
		"PairingCreated": object(obj{"id": str(), "store": str(), "name": str(), "created_at": dateTime(), "expires_at": dateTime(),
			"code": str(), "link": str(), "qr_svg": obj{"type": "string", "description": "the link as an SVG QR code"}}, "id", "store", "name", "created_at", "code", "link", "qr_svg"),
		"Pairing": object(obj{"id": str(), "store": str(), "name": str(), "created_at": dateTime(), "expires_at": dateTime(),
			"token_id": str(), "paired_at": dateTime(), "revoked": boolean(),
			"state": obj{"type": "string", "enum": []string{"waiting", "paired", "expired", "revoked"}}, "last_sync_at": dateTime()}, "id", "store", "name", "created_at", "state"),
		"PairingList": object(obj{"items": arr(ref("Pairing"))}, "items"),
		"PairRequest": object(obj{"code": str()}, "code"),
		"PairResult":  object(obj{"token": str(), "store": str(), "expires_at": dateTime()}, "token", "store"),
		"TokenList":   listOf("Token"),
		"AuditList": object(obj{"items": arr(object(obj{"id": integer(), "at": dateTime(), "actor": str(), "token_id": str(), "role": str(),
			"ip": str(), "action": str(), "entity": str(), "key": str(), "version": integer()})), "next": integer()}),
		"Stats":          object(obj{"version": integer(), "horizon": integer(), "changes": integer()}),
		"CompactRequest": object(obj{"horizon": integer()}, "horizon"),
		"RefreshResult":  object(obj{"logged": integer()}, "logged"),
	}
}

var openAPIDoc = gosync.OnceValue(func() []byte {
	paths := obj{}
	for _, r := range apiRoutes {
		op := obj{"summary": r.summary, "operationId": r.method + strings.NewReplacer("/", "_", "{", "", "}", "").Replace(r.path)}
		var params []obj
		for _, seg := range strings.Split(r.path, "/") {
			if strings.HasPrefix(seg, "{") {
				params = append(params, obj{"name": strings.Trim(seg, "{}"), "in": "path", "required": true, "schema": str()})
			}
		}
		for _, q := range r.query {
			params = append(params, obj{"name": q, "in": "query", "schema": str()})
		}
		if strings.HasPrefix(r.path, "/v1/stores") {
			params = append(params, obj{"name": wire.HeaderProtocol, "in": "header", "schema": integer(),
				"description": "newest protocol version the client speaks; the response echoes the one used"})
			if strings.HasSuffix(r.path, "/checkpoint") || strings.HasSuffix(r.path, "/changes") || strings.HasSuffix(r.path, "/events") {
				params = append(params, obj{"name": wire.HeaderDevice, "in": "header",
					"schema":      obj{"type": "string", "pattern": "^[A-Za-z0-9_-]{22}$"},
					"description": "the app installation's anonymous ID (128 random bits, base64url), counted per store by its SHA-256 only; anything else is ignored"})
			}
		}
		if params != nil {
			op["parameters"] = params
		}
		if r.body != "" {
			op["requestBody"] = obj{"required": true, "content": obj{"application/json": obj{"schema": ref(r.body)}}}
		}
		status := r.status
		if status == "" {
			status = "200"
		}
		resp := obj{"description": "success"}
		switch {
		case strings.Contains(r.resp, "/"): // a media type
			schema := str()
			if !strings.HasPrefix(r.resp, "text/") && r.resp != "image/svg+xml" {
				schema = obj{"type": "string", "format": "binary"}
			}
			resp["content"] = obj{r.resp: obj{"schema": schema}}
		case r.resp != "":
			resp["content"] = obj{"application/json": obj{"schema": ref(r.resp)}}
		}
		errResp := obj{"description": "error", "content": obj{"application/json": obj{"schema": ref("Error")}}}
		op["responses"] = obj{status: resp, "default": errResp}
		if r.auth != "" {
			op["security"] = []obj{{"bearer": []string{}}}
			op["description"] = "Requires an API token with role " + r.auth + " (admin tokens may do everything)."
		}
		if paths[r.path] == nil {
			paths[r.path] = obj{}
		}
		paths[r.path].(obj)[r.method] = op
	}
	doc := obj{
		"openapi": "3.1.0",
		"info": obj{"title": "aisle catalog sync API", "version": "1",
			"description": "Admin API and sync protocol (version " + itoa(wire.ProtocolVersion) + "). Errors share one shape (Error)."},
		"paths":      paths,
		"components": obj{"schemas": schemas(), "securitySchemes": obj{"bearer": obj{"type": "http", "scheme": "bearer"}}},
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		panic(err)
	}
	return b
})

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func (s *Server) openAPI(c echo.Context) error {
	c.Response().Header().Set("Cache-Control", "public, max-age=300")
	return s.writeTagged(c, `"openapi-`+itoa(wire.ProtocolVersion)+`-`+itoa(len(apiRoutes))+`"`, openAPIDoc())
}
