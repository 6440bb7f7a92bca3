// Package wire is aisle's sync protocol: the types that travel between the
// Echo server (aisle/api) and every client (the Go-WASM replica in the
// browser, native tools, the load generator). Both ends import this package
// and nothing else defines these shapes.
//
// # Model
//
// Every committed write to the catalog appends one [Change] per affected
// entity and audience to a chain-wide log, with a version that increases
// strictly in commit order (the version is assigned in the same database
// transaction as the write). Deletes are tombstones (Deleted true, no Data).
//
// Clients do not follow the log live. A [Checkpoint] seals the log of one
// store up to a version: nightly at the store's local time, or at once when
// an administrator publishes (price correction, recall). A client syncs from
// its cursor (the version of the last checkpoint it applied, 0 if empty) to
// a target checkpoint, in pages, and applies the whole checkpoint or
// nothing.
//
// Pages are compacted: within (Since, Target] only the latest change of each
// entity is sent, so a client offline for a week downloads each changed
// entity once. (An FAQ that moved between the chain-wide scope and a
// store's comes as its tombstone in the old scope followed by its state in
// the new one; applied in order, that is the same.) A client whose cursor is older than the server's retention
// horizon, or 0, gets a snapshot instead: Reset is true, there are no
// tombstones, and the client must drop all its data before applying.
//
// Audience partitions the log: the customer audience receives only public
// kinds; staff kinds ([KindProductStaff], [KindStockStaff]) go only to
// signed-in staff devices.
//
// The protocol version partitions it too: a kind exists from the version
// that introduced it ([Kind.Protocol]); a reader that negotiated an older
// version never receives it, and the server's pages (and their caches) are
// distinct per version. [KindVector] (version 2) carries the embedding of a
// product or an FAQ, computed by the server whenever the entity's text
// changes, under the entity's own scope: a product's vector goes to every
// store, an FAQ's to the stores that see the FAQ.
//
// IDs are strings and versions are integers below 2^53, so JavaScript can
// hold every value exactly.
package wire

import (
	"encoding/json"
	"strings"
	"time"
)

// ProtocolVersion is the newest protocol version this code speaks;
// MinProtocolVersion the oldest it still accepts.
//
// History:
//   - 1 (2026-11-24): checkpoints, compacted paged deltas bounded by a
//     target checkpoint, snapshots (Reset), audiences public/staff, SSE
//     checkpoint events.
//   - 2 (2026-12-06): kind "vector" (catalog.Vector of a product or an FAQ,
//     ID "product:<SKU>" or "faq:<ID>", public). Version-1 readers never
//     receive it. A client whose data was applied under another version
//     than the page it receives takes a snapshot instead of a delta (a
//     delta would miss the kinds its data lacks).
const (
	ProtocolVersion    = 2
	MinProtocolVersion = 1
)

// HeaderProtocol carries the protocol version. A client sends the newest
// version it speaks; the server answers with the version it used (the
// highest both speak) or fails with code "unsupported".
const HeaderProtocol = "Aisle-Protocol"

// MaxVersion bounds versions and cursors: JavaScript holds integers exactly
// up to 2^53.
const MaxVersion = 1<<53 - 1

// Page size limits for [ChangesRequest.Limit].
const (
	DefaultPageLimit = 500
	MaxPageLimit     = 5000
)

// Kind names an entity type of the sync log.
type Kind string

// Kinds. The ID of a change is the entity's key: store ID, SKU (product,
// product_staff, stock, stock_staff; stock keys are per store), FAQ ID or
// promotion ID; for a vector, the kind and key of the entity it embeds
// (see [VectorID]).
const (
	KindStore        Kind = "store"         // catalog.Store
	KindProduct      Kind = "product"       // catalog.Product
	KindProductStaff Kind = "product_staff" // catalog.ProductStaff, staff audience only
	KindStock        Kind = "stock"         // catalog.Stock
	KindStockStaff   Kind = "stock_staff"   // catalog.StockStaff, staff audience only
	KindFAQ          Kind = "faq"           // catalog.FAQ
	KindPromotion    Kind = "promotion"     // catalog.Promotion
	KindVector       Kind = "vector"        // catalog.Vector of a product or an FAQ; protocol 2
)

// Kinds lists every kind, in a fixed order.
var Kinds = []Kind{KindStore, KindProduct, KindProductStaff, KindStock, KindStockStaff, KindFAQ, KindPromotion, KindVector}

// Protocol is the protocol version that introduced k: a reader speaking
// an older version never receives changes of k.
func (k Kind) Protocol() int {
	if k == KindVector {
		return 2
	}
	return 1
}

// VectorID is the ID of the vector change of an entity: "product:<SKU>" or
// "faq:<ID>" (owner is KindProduct or KindFAQ).
func VectorID(owner Kind, id string) string { return string(owner) + ":" + id }

// VectorOwner splits a vector change ID into the kind and ID of the entity
// it embeds; ok is false for an ID that names no product or FAQ.
func VectorOwner(vectorID string) (owner Kind, id string, ok bool) {
	k, id, found := strings.Cut(vectorID, ":")
	if !found || id == "" || (Kind(k) != KindProduct && Kind(k) != KindFAQ) {
		return "", "", false
	}
	return Kind(k), id, true
}

// Valid reports whether k is a known kind.
func (k Kind) Valid() bool {
	for _, x := range Kinds {
		if x == k {
			return true
		}
	}
	return false
}

// Audience says who may receive a kind.
func (k Kind) Audience() Audience {
	if k == KindProductStaff || k == KindStockStaff {
		return AudienceStaff
	}
	return AudiencePublic
}

// Audience partitions the log by reader.
type Audience string

// Audiences. Staff sees everything public plus the staff kinds.
const (
	AudiencePublic Audience = "public"
	AudienceStaff  Audience = "staff"
)

// Sees reports whether a reader of audience a may receive kind k.
func (a Audience) Sees(k Kind) bool {
	return k.Audience() == AudiencePublic || a == AudienceStaff
}

// SeesAt reports whether a reader of audience a that negotiated protocol
// version protocol may receive kind k.
func (a Audience) SeesAt(k Kind, protocol int) bool {
	return a.Sees(k) && k.Protocol() <= protocol
}

// Change is one entry of the log as a client receives it.
type Change struct {
	Version int64           `json:"v"`             // > 0, strictly increasing within a page
	Kind    Kind            `json:"k"`             // entity type
	ID      string          `json:"id"`            // entity key
	Deleted bool            `json:"del,omitempty"` // a tombstone: remove ID; Data is absent
	Data    json.RawMessage `json:"d,omitempty"`   // the entity's full state (JSON of its catalog type)
}

// Checkpoint is a sealed point of one store's log. Clients sync to
// checkpoints, never to the live log.
type Checkpoint struct {
	Store       string    `json:"store"`
	Seq         int64     `json:"seq"`     // 1, 2, 3... per store; 0 means none published yet
	Version     int64     `json:"version"` // the log version sealed (inclusive)
	PublishedAt time.Time `json:"published_at"`
	Reason      string    `json:"reason"` // "nightly", "manual" or "initial"
}

// Checkpoint reasons.
const (
	ReasonNightly = "nightly"
	ReasonManual  = "manual"
	ReasonInitial = "initial"
)

// ChangesRequest asks for one page of the changes of Store in
// (Since, Target], after the version After (0 for the first page). Target
// must be the version of a published checkpoint. The server may answer with
// a snapshot (Reset) when Since is 0 or older than its horizon; the client
// then keeps Since but reads every page as a snapshot page.
type ChangesRequest struct {
	Store  string `json:"store"`
	Since  int64  `json:"since"`
	Target int64  `json:"target"`
	After  int64  `json:"after"`
	Limit  int    `json:"limit"`
}

// Page is one page of a delta or snapshot.
//
// Invariants a client must check (the replica does): Protocol is one it
// speaks and the same on every page of one sync, and no change has a kind
// newer than Protocol; Store, Since, Target, After echo the request; Reset does not
// change between pages of one sync; every change has After < Version <=
// Target, versions strictly increase, kinds are known and visible to the
// audience, and tombstones carry no data; Next is the last version of
// the page (or After if it is empty) and Done says no further page exists.
// Pages are immutable: the same request always returns the same page, so
// replaying one is harmless and they can be cached.
type Page struct {
	Protocol int      `json:"protocol"`
	Store    string   `json:"store"`
	Audience Audience `json:"audience"`
	Since    int64    `json:"since"`
	Target   int64    `json:"target"`
	Reset    bool     `json:"reset"`
	After    int64    `json:"after"`
	Changes  []Change `json:"changes"`
	Next     int64    `json:"next"`
	Done     bool     `json:"done"`
}

// Event is one server-sent event of the push stream
// (GET /v1/stores/{id}/events). Type "checkpoint" tells the client to pull;
// type "hello" is sent on connect with the current checkpoint.
type Event struct {
	Type       string     `json:"type"`
	Checkpoint Checkpoint `json:"checkpoint"`
}

// Event types.
const (
	EventHello      = "hello"
	EventCheckpoint = "checkpoint"
)

// ErrorBody is the JSON body of every error response.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail mirrors catalog.Error without its internal cause.
type ErrorDetail struct {
	Code    string        `json:"code"`
	Message string        `json:"message"`
	Fields  []FieldDetail `json:"fields,omitempty"`
}

// FieldDetail mirrors catalog.FieldError.
type FieldDetail struct {
	Row     int    `json:"row,omitempty"`
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

// Negotiate returns the protocol version to use with a peer that speaks
// up to peer, and false when there is none.
func Negotiate(peer int) (int, bool) {
	v := min(peer, ProtocolVersion)
	return v, v >= MinProtocolVersion
}

// ETagMatch reports whether an If-None-Match header matches etag, weak or
// strong (a proxy that compresses a response weakens its ETag).
func ETagMatch(header, etag string) bool {
	if header == "" {
		return false
	}
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimSpace(t)
		if t == "*" || strings.TrimPrefix(t, "W/") == strings.TrimPrefix(etag, "W/") {
			return true
		}
	}
	return false
}
