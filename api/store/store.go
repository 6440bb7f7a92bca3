// Package store defines the server's persistence contract: the catalog as
// administrators write it, the chain-wide change log that every write
// appends to in the same transaction, checkpoints, API tokens and the audit
// log. aisle/api/store/sqlstore implements it on SQLite (the default) and on
// PostgreSQL; aisle/api/store/storetest is the suite both must pass.
//
// Entities are stored as their catalog admin records (JSON); the typed
// constructors in ops.go turn catalog values into [Op]s, splitting each
// record into the per-audience documents the sync log carries, and adding
// the documents derived from it: the vector (aisle/worker/assistant/embed)
// of every product and FAQ, so that every write path logs an entity and its
// vector in the same transaction.
package store

import (
	"context"
	"encoding/json"
	"time"

	"aisle/sync/wire"
)

// Entity names a table of the catalog.
type Entity string

// Entities.
const (
	Stores     Entity = "stores"
	Products   Entity = "products"
	Stock      Entity = "stock"
	FAQs       Entity = "faqs"
	Promotions Entity = "promotions"
)

// EntityKinds lists, per entity, the sync kinds one record produces.
var EntityKinds = map[Entity][]wire.Kind{
	Stores:     {wire.KindStore},
	Products:   {wire.KindProduct, wire.KindProductStaff, wire.KindVector},
	Stock:      {wire.KindStock, wire.KindStockStaff},
	FAQs:       {wire.KindFAQ, wire.KindVector},
	Promotions: {wire.KindPromotion},
}

// ChangeID is the ID that the change of kind k of a record whose changes
// carry ref has: ref itself, or for a vector the owner's vector ID
// ("product:<SKU>", "faq:<ID>"; wire.VectorID).
func ChangeID(e Entity, k wire.Kind, ref string) string {
	if k != wire.KindVector {
		return ref
	}
	if e == FAQs {
		return wire.VectorID(wire.KindFAQ, ref)
	}
	return wire.VectorID(wire.KindProduct, ref)
}

// Item is one stored record (for a prune op: what it removed).
type Item struct {
	Entity    Entity          `json:"-"`
	Key       string          `json:"-"` // primary key: ID, SKU, or "store/sku" for stock
	Scope     string          `json:"-"` // store ID, or "" for chain-wide records
	Ref       string          `json:"-"` // the ID its sync changes carry (the SKU for stock)
	Data      json.RawMessage `json:"-"` // the catalog admin record
	Version   int64           `json:"-"` // log version of its last write
	UpdatedAt time.Time       `json:"-"`
	Pruned    []string        `json:"-"` // prune ops only: the keys deleted
	Changed   bool            `json:"-"` // from Write: this op wrote the record (a new version)
}

// Doc is one per-audience document of a record, as the log carries it.
type Doc struct {
	Kind wire.Kind
	Data json.RawMessage
	// Derived marks a document computed from the record (a vector). It is
	// logged only when it differs from the latest one logged for its ID in
	// the record's scope: a change that leaves the embedded text alone
	// logs no new vector, and a put of an unchanged record logs the
	// derived documents that differ (a new embedding model) without
	// changing the record or its version.
	Derived bool
}

// Ref names a record that must exist for an Op to be valid.
type Ref struct {
	Entity Entity
	Key    string
	Field  string // the field that names it, for the error
}

// Op is one write of a batch. Build them with the constructors in ops.go.
type Op struct {
	Entity Entity
	Key    string
	Scope  string
	Ref    string
	Delete bool
	Record json.RawMessage // admin record (puts only)
	Docs   []Doc           // one per kind of EntityKinds[Entity] (puts only)
	// Requires lists records that must exist (checked inside the
	// transaction, so records created earlier in the same batch count).
	Requires []Ref
	// Create fails the write with Conflict when the record exists.
	Create bool
	// IfVersion > 0 fails the write with Precondition unless the stored
	// version equals it (HTTP If-Match).
	IfVersion int64
	// Prune deletes, instead of the record Key, every record of Entity in
	// Scope whose key is not in Keep (what a full import of a store no
	// longer lists), in the same transaction as the other ops.
	Prune bool
	Keep  []string
}

// Role of an API token.
type Role string

// Roles. Customers have no token.
const (
	RoleAdmin Role = "admin" // everything
	RoleStaff Role = "staff" // staff sync data and stock writes of its store
	// RoleManager runs one store: in the API, what staff of its store
	// may do, and publishing it; in the admin console, its store's
	// stock, store-scoped FAQs, stock imports and publishing (not
	// chain-wide products, chain-wide FAQs, other stores or tokens).
	RoleManager Role = "manager"
)

// Actor is who performs a write, for the audit log.
type Actor struct {
	TokenID string
	Name    string
	Role    Role
	IP      string
}

// Token is an API token's stored form; the secret is only ever shown once.
type Token struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Role      Role      `json:"role"`
	Store     string    `json:"store,omitempty"` // staff tokens: the one store they serve
	CreatedAt time.Time `json:"created_at"`
	Revoked   bool      `json:"revoked"`
	// ExpiresAt, when set, is when the token stops authenticating (a
	// paired staff tablet's token carries its pairing's expiry).
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

// Expired reports whether the token has expired at now.
func (t Token) Expired(now time.Time) bool { return t.ExpiresAt != nil && !now.Before(*t.ExpiresAt) }

// PairingSyncEvery is how often, at most, a pairing's last sync is written.
const PairingSyncEvery = time.Minute

// Pairing is a staff-tablet pairing: a single-use code (stored hashed)
// that a tablet exchanges once for a staff token of Store.
type Pairing struct {
	ID        string     `json:"id"`
	Store     string     `json:"store"`
	Name      string     `json:"name"`
	CreatedAt time.Time  `json:"created_at"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"` // of the code and of the token it issues
	TokenID   string     `json:"token_id,omitempty"`   // the staff token issued ("" while waiting)
	PairedAt  *time.Time `json:"paired_at,omitempty"`
	// LastSyncAt is when the tablet last read its store's sync routes,
	// to within a minute (see NotePairingSync); nil: never.
	LastSyncAt *time.Time `json:"last_sync_at,omitempty"`
	// Revoked: the pairing, or the token it issued, was revoked.
	Revoked bool `json:"revoked"`
}

// DeviceSyncEvery is how often, at most, a device's last sync is written.
const DeviceSyncEvery = time.Minute

// DeviceRetention is how long a device unseen is kept (see PruneDevices).
const DeviceRetention = 90 * 24 * time.Hour

// Device audiences (Device.Audience): what the device last synced as.
const (
	DeviceCustomer = "customer" // anonymous (the public audience)
	DeviceStaff    = "staff"    // with a token that reads the store's staff audience
)

// Device is an installation of the app seen syncing a store, known only
// by the SHA-256 of its anonymous installation ID (wire.HeaderDevice).
type Device struct {
	Store     string    `json:"store"`
	Hash      string    `json:"hash"` // hex SHA-256 of the device ID
	Audience  string    `json:"audience"`
	FirstSeen time.Time `json:"first_seen"`
	// LastSync is to within DeviceSyncEvery (see NoteDeviceSync).
	LastSync time.Time `json:"last_sync"`
}

// DeviceCounts is how many devices synced a store since some time.
type DeviceCounts struct {
	Customer, Staff int
}

// AuditEntry is one line of the audit log.
type AuditEntry struct {
	ID      int64     `json:"id"`
	At      time.Time `json:"at"`
	Actor   string    `json:"actor"` // token name
	TokenID string    `json:"token_id"`
	Role    Role      `json:"role"`
	IP      string    `json:"ip"`
	Action  string    `json:"action"` // e.g. "put", "delete", "publish", "token.create"
	Entity  string    `json:"entity"`
	Key     string    `json:"key"`
	Version int64     `json:"version,omitempty"`
}

// ListQuery selects a page of records ordered by key.
type ListQuery struct {
	Scope *string // only records of this scope
	Ref   string  // only records with this ref ("" = any)
	After string  // keys strictly after this one
	Limit int     // 1..MaxListLimit; 0 means DefaultListLimit
}

// List page sizes.
const (
	DefaultListLimit = 100
	MaxListLimit     = 1000
)

// Store is the persistence contract. All methods are safe for concurrent
// use and return *catalog.Error values for expected failures (NotFound,
// Conflict, Precondition, Invalid, Gone); anything else is Internal or
// Unavailable (a database or disk failure).
type Store interface {
	// Get returns one record (NotFound if absent).
	Get(ctx context.Context, e Entity, key string) (Item, error)
	// List returns records ordered by key and the key to pass as After for
	// the next page ("" at the end).
	List(ctx context.Context, e Entity, q ListQuery) ([]Item, string, error)
	// Write applies ops in order in one transaction: all or nothing. Each
	// change to the log gets the next version, in the same transaction.
	// A put whose record and scope equal the stored ones changes nothing
	// but the derived documents that differ from the log (see Doc.Derived).
	// On failure the error names the first failing op by its index as
	// FieldError.Row (1-based).
	Write(ctx context.Context, a Actor, ops []Op) ([]Item, error)

	// Checkpoint returns the latest checkpoint of store (Seq 0 if none).
	Checkpoint(ctx context.Context, store string) (wire.Checkpoint, error)
	// CheckpointAt returns the latest checkpoint of store published at or
	// before t (Seq 0 if none).
	CheckpointAt(ctx context.Context, store string, t time.Time) (wire.Checkpoint, error)
	// Publish seals store's log at the current version. For reason
	// ReasonNightly, day ("YYYY-MM-DD", the store's local date) makes it
	// idempotent, and nothing is published when the store's log has not
	// changed since its last checkpoint; created is false then.
	Publish(ctx context.Context, a Actor, store, reason, day string) (cp wire.Checkpoint, created bool, err error)
	// Changes returns one page of the protocol (see wire.Page) as served in
	// protocol version protocol (kinds newer than it are left out): Gone
	// when req.Target is not a checkpoint of the store at or above the
	// horizon.
	Changes(ctx context.Context, req wire.ChangesRequest, aud wire.Audience, protocol int) (wire.Page, error)
	// Compact raises the retention horizon to h and prunes log entries the
	// protocol no longer needs (tombstones and superseded changes at or
	// below h). Clients with older cursors then get snapshots. h must not
	// exceed the oldest checkpoint still wanted as a target.
	Compact(ctx context.Context, h int64) error
	// Stats reports the log's size.
	Stats(ctx context.Context) (Stats, error)

	// CreateToken stores a token whose secret hashes to hash.
	CreateToken(ctx context.Context, a Actor, t Token, hash []byte) error
	// TokenByHash returns the token with that hash (Unauthorized if none
	// or revoked).
	TokenByHash(ctx context.Context, hash []byte) (Token, error)
	ListTokens(ctx context.Context) ([]Token, error)
	// RevokeToken revokes a token (NotFound if none; revoking a revoked
	// one changes nothing). It refuses with Conflict to revoke the last
	// active admin token, atomically: of concurrent revocations of the
	// last two, one fails.
	RevokeToken(ctx context.Context, a Actor, id string) error

	// CreatePairing stores a pairing whose code hashes to codeHash.
	CreatePairing(ctx context.Context, a Actor, p Pairing, codeHash []byte) error
	// ListPairings returns a store's pairings, oldest first.
	ListPairings(ctx context.Context, store string) ([]Pairing, error)
	// RedeemPairing exchanges the code whose hash is codeHash, once: in one
	// transaction it stores t (a staff token of the pairing's store with
	// the pairing's expiry, which RedeemPairing fills in) under tokenHash
	// and marks the pairing paired. An unknown or already used code is
	// Unauthorized with one message for both; a revoked or expired
	// (at now) one is Gone. Of concurrent redemptions one succeeds.
	RedeemPairing(ctx context.Context, a Actor, codeHash []byte, now time.Time, t Token, tokenHash []byte) (Pairing, Token, error)
	// RevokePairing revokes a pairing and the token it issued, if any, and
	// returns it (NotFound if none, or if storeID is not "" and the
	// pairing is another store's; revoking twice changes nothing).
	RevokePairing(ctx context.Context, a Actor, id, storeID string) (Pairing, error)
	// NotePairingSync records at as the last sync of the pairing that
	// issued token tokenID, unless the one recorded is less than
	// PairingSyncEvery before at: whichever server processes a tablet's
	// requests reach, its pairing is written at most once a minute (and
	// never moved back). A token no pairing issued: nothing, no error.
	NotePairingSync(ctx context.Context, tokenID string, at time.Time) error

	// NoteDeviceSync records that the device whose ID hashes to hash
	// synced store at as audience: first seen at at if new; else its last
	// sync and audience are written unless the recorded last sync is less
	// than DeviceSyncEvery before at (never moved back), so that whichever
	// server processes a device reaches, it is written at most once a
	// minute per store.
	NoteDeviceSync(ctx context.Context, store string, hash []byte, audience string, at time.Time) error
	// CountDevices counts store's devices whose last sync is at or after
	// since, by audience.
	CountDevices(ctx context.Context, store string, since time.Time) (DeviceCounts, error)
	// ListDevices returns store's limit most recently synced devices,
	// newest first.
	ListDevices(ctx context.Context, store string, limit int) ([]Device, error)
	// PruneDevices deletes devices (of every store) whose last sync is
	// before cutoff, and returns how many.
	PruneDevices(ctx context.Context, cutoff time.Time) (int64, error)

	// Audit returns entries with ID below before (0: newest first) and the
	// value of before for the next page (0 at the end).
	Audit(ctx context.Context, before int64, limit int) ([]AuditEntry, int64, error)

	// Marker returns a server marker (0 when unset); SetMarker stores one.
	// Markers are the server's own bookkeeping (e.g. MarkerVectorModel),
	// kept beside the log's version counter, so that they need no schema
	// change an older server would refuse.
	Marker(ctx context.Context, name string) (int64, error)
	SetMarker(ctx context.Context, name string, value int64) error

	Close() error
}

// MarkerVectorModel holds the ModelMarker of the embedding model whose
// vectors the log holds for every product and FAQ (see
// aisle/api/server.RefreshVectors).
const MarkerVectorModel = "vector_model"

// ModelMarker is the marker value of a model name: a non-zero hash below
// 2^53 (FNV-1a).
func ModelMarker(model string) int64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(model); i++ {
		h ^= uint64(model[i])
		h *= 1099511628211
	}
	return int64(h&(1<<53-1)) | 1
}

// Stats describes the change log.
type Stats struct {
	Version int64 `json:"version"` // latest version assigned
	Horizon int64 `json:"horizon"`
	Changes int64 `json:"changes"` // entries kept in the log
}

// Notifier is implemented by stores that several server processes share
// and that can tell them when any of them publishes a checkpoint
// (sqlstore on PostgreSQL: LISTEN/NOTIFY). Push hubs use it to hear
// other processes' checkpoints at once rather than at the next poll.
type Notifier interface {
	// Listen starts listening on a connection of its own, calls ready
	// once it listens (anything committed later is notified), then calls
	// notify with the store ID of every checkpoint committed, by any
	// process, until ctx ends or the connection fails. It returns
	// ctx.Err() or the connection's error; errors.ErrUnsupported at once
	// if this store cannot notify (SQLite: one process). A notification is
	// sent at commit, so the store's newest checkpoint, read after notify,
	// is at least the one notified. Calls to ready and notify are made
	// one at a time, from Listen's goroutine.
	Listen(ctx context.Context, ready func(), notify func(storeID string)) error
}
