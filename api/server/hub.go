package server

import (
	"context"
	"log/slog"
	gosync "sync"

	"aisle/api/store"
	"aisle/sync/wire"
)

// Hub fans checkpoint notifications out to push streams. Publishes in this
// process arrive through Broadcast at once; checkpoints that other server
// processes (or their schedulers) published arrive through Notified when
// the store is a store.Notifier (PostgreSQL), and through Poll otherwise,
// or while the notifier's connection is down.
type Hub struct {
	store store.Store
	log   *slog.Logger

	mu     gosync.Mutex // guards everything below
	subs   map[string]map[*Subscription]struct{}
	seen   map[string]int64 // latest Seq broadcast per store
	closed bool

	// gate, when set (an edge replica is fed: edgefeed.go), may hold a
	// checkpoint back from the streams until the channel it returns is
	// closed; nil lets it through at once. Set before any Broadcast.
	gate func(wire.Checkpoint) <-chan struct{}
}

// Subscription receives a store's checkpoints on C (buffered; a slow reader
// misses intermediate checkpoints but always gets the newest). C is closed
// when the stream must end: the hub closed, or its token was revoked.
type Subscription struct {
	C     chan wire.Checkpoint
	hub   *Hub
	store string
	token string // ID of the token that opened the stream; "" if none
}

// NewHub returns an empty hub.
func NewHub(st store.Store, log *slog.Logger) *Hub {
	return &Hub{store: st, log: log, subs: map[string]map[*Subscription]struct{}{}, seen: map[string]int64{}}
}

// Subscribe registers a stream for store, opened with the token whose ID
// is tokenID ("" for none).
func (h *Hub) Subscribe(storeID, tokenID string) *Subscription {
	sub := &Subscription{C: make(chan wire.Checkpoint, 1), hub: h, store: storeID, token: tokenID}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		close(sub.C)
		return sub
	}
	if h.subs[storeID] == nil {
		h.subs[storeID] = map[*Subscription]struct{}{}
	}
	h.subs[storeID][sub] = struct{}{}
	return sub
}

// Cancel unregisters the subscription.
func (s *Subscription) Cancel() {
	h := s.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.subs[s.store][s]; ok {
		delete(h.subs[s.store], s)
		if len(h.subs[s.store]) == 0 {
			delete(h.subs, s.store)
		}
	}
}

// EndToken ends every stream of this process opened with the token whose
// ID is tokenID (called once its revocation is committed) and returns how
// many it ended.
func (h *Hub) EndToken(tokenID string) int {
	if tokenID == "" {
		return 0
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for storeID, subs := range h.subs {
		for sub := range subs {
			if sub.token == tokenID {
				delete(subs, sub)
				close(sub.C)
				n++
			}
		}
		if len(subs) == 0 {
			delete(h.subs, storeID)
		}
	}
	return n
}

// Subscribers counts the streams of a store.
func (h *Hub) Subscribers(storeID string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs[storeID])
}

// Streams counts every stream.
func (h *Hub) Streams() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, subs := range h.subs {
		n += len(subs)
	}
	return n
}

// Broadcast sends cp to the store's streams unless a checkpoint at least as
// new was already sent (with a gate, once the gate lets it through).
func (h *Hub) Broadcast(cp wire.Checkpoint) {
	if h.gate != nil {
		if open := h.gate(cp); open != nil {
			go func() {
				<-open
				h.deliver(cp)
			}()
			return
		}
	}
	h.deliver(cp)
}

func (h *Hub) deliver(cp wire.Checkpoint) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed || cp.Seq <= h.seen[cp.Store] {
		return
	}
	h.seen[cp.Store] = cp.Seq
	for sub := range h.subs[cp.Store] {
		select {
		case <-sub.C: // drop the stale one: only the newest matters
		default:
		}
		sub.C <- cp
	}
}

// Poll checks the latest checkpoint of every store that has streams.
func (h *Hub) Poll(ctx context.Context) {
	h.mu.Lock()
	var stores []string
	for id := range h.subs {
		stores = append(stores, id)
	}
	h.mu.Unlock()
	for _, id := range stores {
		cp, err := h.store.Checkpoint(ctx, id)
		if err != nil {
			h.log.Warn("push poll", "store", id, "err", err)
			continue
		}
		h.mu.Lock()
		if _, ok := h.seen[id]; !ok {
			h.seen[id] = cp.Seq // first look: streams got it in their hello
			h.mu.Unlock()
			continue
		}
		h.mu.Unlock()
		h.Broadcast(cp)
	}
}

// Notified broadcasts the newest checkpoint of storeID, which another
// process (or this one) has just published (store.Notifier). Unlike Poll
// it has no first look: the notification says a checkpoint was committed
// after the listener started, so it is news (a stream whose hello already
// carried it skips it).
func (h *Hub) Notified(ctx context.Context, storeID string) {
	if h.Subscribers(storeID) == 0 {
		return
	}
	cp, err := h.store.Checkpoint(ctx, storeID)
	if err != nil {
		h.log.Warn("push notify", "store", storeID, "err", err)
		return
	}
	h.Broadcast(cp)
}

// Seen records that a stream of storeID was sent the checkpoint seq in its
// hello, so that Poll's first look at the store does not take a newer
// checkpoint for the one the streams already have.
func (h *Hub) Seen(storeID string, seq int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if cur, ok := h.seen[storeID]; !ok || seq > cur {
		h.seen[storeID] = seq
	}
}

// Close ends every stream.
func (h *Hub) Close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return
	}
	h.closed = true
	for _, subs := range h.subs {
		for sub := range subs {
			close(sub.C)
		}
	}
	h.subs = map[string]map[*Subscription]struct{}{}
}
