// Package pageread holds the rules of reading one page of a store's change
// log (Store.Changes in aisle/api/store), apart from the query that
// selects the rows. It imports only the protocol's packages, so the edge
// replica's WebAssembly build (aisle/api/cmd/aisle-edge) carries it
// without the server's dependencies.
package pageread

import (
	"aisle/sync/catalog"
	"aisle/sync/wire"
)

// Read is one page of Store.Changes being read: the rules every reader
// of the log shares, apart from the query that selects the rows (the
// latest change of each (scope, kind, id) of the store's scope or
// chain-wide at or below Target, above Lower, in version order, without
// tombstones when Reset, at most Rows). The origin's store
// (aisle/api/store/sqlstore) and the edge replica (aisle/api/edge) build
// their pages with it, and the edge's tests hold the two to the same
// bytes.
//
// Use: New (before touching the database), Settle (with the
// horizon and whether the target is a served checkpoint), the query with
// Lower, Target, Reset and Rows, Add for each row until it returns false,
// then Page.
type Read struct {
	// Lower: only changes above it (After, or Since on a delta if higher).
	Lower int64
	// Reset: a snapshot page (Since is 0 or below the horizon): no
	// tombstones.
	Reset bool
	// Rows is how many rows to read: the page's limit and one more, which
	// tells whether another page follows.
	Rows int

	page  wire.Page
	limit int
	more  bool
}

// New checks req for a reader of audience aud speaking protocol.
func New(req wire.ChangesRequest, aud wire.Audience, protocol int) (*Read, error) {
	limit := req.Limit
	if limit == 0 {
		limit = wire.DefaultPageLimit
	}
	switch {
	case limit < 0 || limit > wire.MaxPageLimit:
		return nil, catalog.Errorf(catalog.Invalid, "limit must be between 1 and %d", wire.MaxPageLimit)
	case req.Since < 0 || req.After < 0 || req.Target < 0 || req.Since > req.Target || req.After > req.Target || req.Target > wire.MaxVersion:
		return nil, catalog.Errorf(catalog.Invalid, "need 0 <= since <= target, 0 <= after <= target")
	case aud != wire.AudiencePublic && aud != wire.AudienceStaff, protocol < wire.MinProtocolVersion || protocol > wire.ProtocolVersion:
		return nil, catalog.Errorf(catalog.Invalid, "unknown audience %q or protocol %d", aud, protocol)
	}
	return &Read{Rows: limit + 1, limit: limit, page: wire.Page{Protocol: protocol, Store: req.Store, Audience: aud,
		Since: req.Since, Target: req.Target, After: req.After, Next: req.After, Changes: []wire.Change{}}}, nil
}

// Settle decides the page's kind from the log's horizon: Gone when the
// target is below the horizon or no served checkpoint of the store (served
// false), a snapshot when Since is 0 or below the horizon.
func (p *Read) Settle(horizon int64, served bool) error {
	if !served || p.page.Target < horizon {
		return catalog.Errorf(catalog.Gone, "no checkpoint of store %q at version %d is served; fetch the latest checkpoint", p.page.Store, p.page.Target)
	}
	p.Reset = p.page.Since == 0 || p.page.Since < horizon
	p.page.Reset = p.Reset
	p.Lower = p.page.After
	if !p.Reset {
		p.Lower = max(p.Lower, p.page.Since)
	}
	return nil
}

// Add takes the query's next row and reports whether to read on (false
// once the page is full and the extra row said more follow).
func (p *Read) Add(c wire.Change) bool {
	if len(p.page.Changes) == p.limit {
		p.more = true
		return false
	}
	if c.Deleted {
		c.Data = nil
	}
	p.page.Changes = append(p.page.Changes, c)
	p.page.Next = c.Version
	return true
}

// AddAll is Add for each of cs in turn (the query's rows, at most Rows of
// them), taking cs over as the page's changes when the page holds none
// yet.
func (p *Read) AddAll(cs []wire.Change) {
	if len(cs) == 0 {
		return
	}
	if len(p.page.Changes) == 0 {
		if len(cs) > p.limit {
			cs, p.more = cs[:p.limit], true
		}
		for i := range cs {
			if cs[i].Deleted {
				cs[i].Data = nil
			}
		}
		p.page.Changes, p.page.Next = cs, cs[len(cs)-1].Version
		return
	}
	for _, c := range cs {
		if !p.Add(c) {
			return
		}
	}
}

// Page is the page read: Done unless Add saw a row past the limit.
func (p *Read) Page() wire.Page {
	pg := p.page
	pg.Done = !p.more
	return pg
}

// Partial is the page as far as it was built, for an error return.
func (p *Read) Partial() wire.Page { return p.page }
