// Package replica is the client side of the sync protocol: a state machine
// that brings a local copy of one store's catalog to the server's latest
// checkpoint, staging pages as they arrive and applying the whole
// checkpoint or nothing.
//
// The replica is pure Go. Persistence is a [Storage] (an in-memory one here,
// IndexedDB in aisle/sync/replica/idb); the network is a [Source] (HTTP in
// aisle/sync/client). Its guarantees, checked by property tests under
// random interleavings, page sizes, failures and replays:
//
//   - Atomic: the visible data is always exactly some checkpoint's state
//     (or empty); a failure at any step leaves the last applied checkpoint.
//   - Resumable: staged pages survive failures; the next Sync continues
//     from the first page not staged.
//   - Idempotent: replaying a page or a commit changes nothing.
package replica

import (
	"context"
	"errors"
	"fmt"

	"aisle/sync/catalog"
	"aisle/sync/wire"
)

// Source serves the protocol: the latest checkpoint of a store and pages of
// changes. Implementations return *catalog.Error values for protocol
// failures (Gone when the target or cursor expired, Unsupported for a
// protocol mismatch).
type Source interface {
	Checkpoint(ctx context.Context, store string) (wire.Checkpoint, error)
	Changes(ctx context.Context, req wire.ChangesRequest) (wire.Page, error)
}

// Meta is the persisted state of a replica besides its entities.
type Meta struct {
	Store      string          `json:"store"`
	Audience   wire.Audience   `json:"audience"`
	Checkpoint wire.Checkpoint `json:"checkpoint"` // the applied checkpoint; Version is the cursor
	// Protocol is the protocol version of the pages the applied data came
	// in (0 when written by a client older than this field: version 1).
	Protocol int      `json:"protocol,omitempty"`
	Staging  *Staging `json:"staging,omitempty"`
}

// Cursor is the version of the applied checkpoint (0: nothing applied).
func (m Meta) Cursor() int64 { return m.Checkpoint.Version }

// AppliedProtocol is the protocol version the applied data was served in
// (0 when nothing is applied).
func (m Meta) AppliedProtocol() int {
	if m.Checkpoint.Seq == 0 {
		return 0
	}
	return max(m.Protocol, 1)
}

// Staging describes a sync in progress: pages of changes toward Target are
// stored aside, invisible to queries, until Done and committed.
type Staging struct {
	Store    string          `json:"store"`
	Audience wire.Audience   `json:"audience"`
	Target   wire.Checkpoint `json:"target"`
	Since    int64           `json:"since"`   // the cursor the delta starts from (0 for a snapshot)
	Started  bool            `json:"started"` // at least one page staged; Reset is then known
	Reset    bool            `json:"reset"`   // snapshot: drop all entities before applying
	Next     int64           `json:"next"`    // After of the next page to fetch
	Done     bool            `json:"done"`    // the last page is staged
	Changes  int             `json:"changes"` // changes staged so far
	// Protocol is the protocol version of the staged pages (every page of
	// one sync has the same; 0 from a client older than this field: 1).
	Protocol int `json:"protocol,omitempty"`
}

// Storage persists a replica. Each method is atomic: it happens entirely
// or not at all. One replica (one goroutine) uses a Storage at a time.
type Storage interface {
	// Load returns the meta state (zero Meta for a fresh storage).
	Load(ctx context.Context) (Meta, error)
	// Stage appends changes to the staging area and records next as the
	// staging state, provided the stored staging state has Next == prevNext
	// (nil staging counts as prevNext 0 with next.Started false). If the
	// stored state already equals next the call is a harmless replay and
	// does nothing. Any other state is a Conflict.
	Stage(ctx context.Context, prevNext int64, next Staging, changes []wire.Change) error
	// Commit applies the staged changes of st (which must equal the stored,
	// Done staging state) in version order: when st.Reset every entity is
	// dropped first; a change with data replaces its entity, a tombstone
	// removes it. It then records the store, audience, st.Target and
	// st.Protocol as the applied checkpoint and clears staging. If staging
	// is already cleared and the applied checkpoint equals st.Target the
	// call is a harmless replay.
	Commit(ctx context.Context, st Staging) error
	// Discard drops the staging area; the applied data is untouched.
	Discard(ctx context.Context) error
}

// StaffDropper is a Storage that can turn a staff device's replica into a
// customer's (a paired tablet whose token was revoked or expired).
type StaffDropper interface {
	// DropStaff removes, in one atomic step, every record of a staff kind,
	// the staging area and any staff credential kept with the replica,
	// and records the audience as public. The public records and the
	// applied checkpoint stay: a staff replica's public records are the
	// customer's at the same checkpoint, so the next public sync goes on
	// from there.
	DropStaff(ctx context.Context) error
}

var _ StaffDropper = (*Mem)(nil)

// Replica syncs one store for one audience into a Storage.
type Replica struct {
	Store    string
	Audience wire.Audience
	Storage  Storage
	// PageLimit is the page size asked for (0: wire.DefaultPageLimit).
	PageLimit int
}

// Result describes what a Sync did.
type Result struct {
	Checkpoint wire.Checkpoint `json:"checkpoint"` // the applied checkpoint after the sync
	Applied    bool            `json:"applied"`    // a checkpoint was applied by this call
	Reset      bool            `json:"reset"`      // it was a snapshot
	Changes    int             `json:"changes"`    // changes applied
	Pages      int             `json:"pages"`      // pages fetched by this call
}

// Sync brings the storage to the source's latest checkpoint. On error the
// applied data is the last good checkpoint; pages already staged are kept
// (unless the source reports them Gone) and the next Sync resumes.
func (r *Replica) Sync(ctx context.Context, src Source) (Result, error) {
	var total Result
	// A resumed sync finishes its older target first; then the latest
	// checkpoint is fetched again. Bounded in case checkpoints keep coming.
	for attempt := range 8 {
		res, resumed, err := r.syncOnce(ctx, src)
		total.Checkpoint, total.Pages = res.Checkpoint, total.Pages+res.Pages
		if res.Applied {
			total.Applied, total.Changes = true, total.Changes+res.Changes
			total.Reset = total.Reset || res.Reset
		}
		if catalog.IsCode(err, catalog.Gone) && attempt < 7 {
			continue // staging was discarded: start over from the latest checkpoint
		}
		if err != nil || !resumed {
			return total, err
		}
	}
	return total, nil
}

// syncOnce applies one checkpoint; resumed says it was a staging state
// found in storage rather than the latest checkpoint.
func (r *Replica) syncOnce(ctx context.Context, src Source) (res Result, resumed bool, err error) {
	if r.Store == "" || (r.Audience != wire.AudiencePublic && r.Audience != wire.AudienceStaff) {
		return Result{}, false, catalog.Errorf(catalog.Invalid, "replica needs a store and an audience")
	}
	meta, err := r.Storage.Load(ctx)
	if err != nil {
		return Result{}, false, fmt.Errorf("load replica state: %w", err)
	}
	res = Result{Checkpoint: meta.Checkpoint}
	applied := meta.AppliedProtocol()
	probe := false // re-taking the applied checkpoint to find out whether the server speaks a newer protocol
	st := meta.Staging
	if st != nil && (st.Store != r.Store || st.Audience != r.Audience) {
		if err := r.Storage.Discard(ctx); err != nil {
			return res, resumed, fmt.Errorf("discard foreign staging: %w", err)
		}
		st = nil
	}
	resumed = st != nil
	if st == nil {
		cp, err := src.Checkpoint(ctx, r.Store)
		if err != nil {
			return res, resumed, fmt.Errorf("get checkpoint: %w", err)
		}
		if cp.Store != r.Store || cp.Version < 0 || cp.Version > wire.MaxVersion || cp.Seq < 0 {
			return res, resumed, catalog.Errorf(catalog.Invalid, "server sent a malformed checkpoint")
		}
		same := meta.Store == r.Store && meta.Audience == r.Audience
		since := meta.Cursor()
		if !same || cp.Version < since {
			// A different store or audience, or a server restored to an
			// older state: start over from a snapshot.
			since = 0
		}
		upToDate := same && cp.Version == since && cp.Seq == meta.Checkpoint.Seq
		if cp.Seq == 0 || (upToDate && applied >= wire.ProtocolVersion) {
			return res, false, nil // nothing published, or up to date
		}
		if upToDate {
			// The data came in an older protocol than this client speaks
			// (an app update): if the server now speaks a newer one, take
			// the checkpoint again as a snapshot, with the kinds the data
			// lacks. The first page tells.
			probe, since = true, 0
		}
		st = &Staging{Store: r.Store, Audience: r.Audience, Target: cp, Since: since}
	}
	limit := r.PageLimit
	if limit <= 0 {
		limit = wire.DefaultPageLimit
	}
	for !st.Done {
		page, err := src.Changes(ctx, wire.ChangesRequest{
			Store: r.Store, Since: st.Since, Target: st.Target.Version, After: st.Next, Limit: limit,
		})
		if err == nil {
			res.Pages++
			err = CheckPage(page, *st, r.Audience)
		}
		if err != nil {
			if catalog.IsCode(err, catalog.Gone) {
				// The target or the delta expired on the server: the staged
				// pages can never be completed.
				if derr := r.Storage.Discard(ctx); derr != nil {
					return res, resumed, errors.Join(err, derr)
				}
			}
			return res, resumed, fmt.Errorf("get changes after %d: %w", st.Next, err)
		}
		if !st.Started {
			switch {
			case probe && page.Protocol <= applied:
				return res, false, nil // no newer protocol: up to date
			case !page.Reset && page.Protocol != applied:
				// A delta on top of data of another protocol version would
				// lack the kinds that data lacks (or keep kinds the server
				// no longer sends): take a snapshot instead.
				st.Since = 0
				continue
			}
		}
		next := *st
		next.Started, next.Reset, next.Next, next.Done = true, page.Reset, page.Next, page.Done
		next.Protocol = page.Protocol
		next.Changes += len(page.Changes)
		if err := r.Storage.Stage(ctx, st.Next, next, page.Changes); err != nil {
			return res, resumed, fmt.Errorf("stage page after %d: %w", st.Next, err)
		}
		st = &next
	}
	if err := r.Storage.Commit(ctx, *st); err != nil {
		return res, resumed, fmt.Errorf("commit checkpoint %d: %w", st.Target.Seq, err)
	}
	return Result{Checkpoint: st.Target, Applied: true, Reset: st.Reset, Changes: st.Changes, Pages: res.Pages}, resumed, nil
}

// CheckPage verifies a page against the staging state it continues and the
// invariants documented on wire.Page. A page that fails is never staged.
func CheckPage(p wire.Page, st Staging, aud wire.Audience) error {
	bad := func(format string, args ...any) error {
		return &catalog.Error{Code: catalog.Invalid, Message: "server sent a malformed page: " + fmt.Sprintf(format, args...)}
	}
	if p.Protocol < wire.MinProtocolVersion || p.Protocol > wire.ProtocolVersion {
		return catalog.Errorf(catalog.Unsupported, "server speaks protocol %d; this client speaks %d..%d", p.Protocol, wire.MinProtocolVersion, wire.ProtocolVersion)
	}
	switch {
	case p.Store != st.Store:
		return bad("store %q, asked %q", p.Store, st.Store)
	case p.Audience != aud:
		return bad("audience %q, asked %q", p.Audience, aud)
	case p.Since != st.Since || p.Target != st.Target.Version || p.After != st.Next:
		return bad("window (%d,%d] after %d, asked (%d,%d] after %d", p.Since, p.Target, p.After, st.Since, st.Target.Version, st.Next)
	case st.Started && p.Reset != st.Reset:
		// The server's horizon passed our cursor mid-sync: the staged
		// delta pages cannot be completed; start over with a snapshot.
		return catalog.Errorf(catalog.Gone, "the server switched to a snapshot mid-sync")
	case st.Started && p.Protocol != max(st.Protocol, 1):
		// A server of another version took over mid-sync (a rolling
		// deploy): pages of two versions must not be mixed.
		return catalog.Errorf(catalog.Gone, "the server switched from protocol %d to %d mid-sync", max(st.Protocol, 1), p.Protocol)
	case !p.Reset && st.Since == 0:
		return bad("a sync from cursor 0 must be a snapshot")
	}
	last := p.After
	for i, c := range p.Changes {
		switch {
		case c.Version <= last || c.Version > p.Target:
			return bad("change %d has version %d outside (%d,%d]", i, c.Version, last, p.Target)
		case !p.Reset && c.Version <= p.Since:
			return bad("change %d has version %d not after the cursor %d", i, c.Version, p.Since)
		case !c.Kind.Valid():
			return bad("change %d has unknown kind %q", i, c.Kind)
		case !aud.Sees(c.Kind):
			return bad("change %d has kind %q not visible to audience %q", i, c.Kind, aud)
		case c.Kind.Protocol() > p.Protocol:
			return bad("change %d has kind %q, which protocol %d does not have", i, c.Kind, p.Protocol)
		case c.ID == "":
			return bad("change %d has no id", i)
		case c.Deleted && len(c.Data) != 0:
			return bad("change %d is a tombstone with data", i)
		case !c.Deleted && len(c.Data) == 0:
			return bad("change %d has no data", i)
		case c.Deleted && p.Reset:
			return bad("change %d is a tombstone in a snapshot", i)
		}
		last = c.Version
	}
	if p.Next != last {
		return bad("next %d, last version %d", p.Next, last)
	}
	if !p.Done && len(p.Changes) == 0 {
		return bad("empty page that is not the last")
	}
	return nil
}
