package server

import (
	"context"
	"time"

	"aisle/api/edge"
	"aisle/api/store"
	"aisle/sync/catalog"
	"aisle/sync/wire"
)

// The origin's side of the edge read replica (aisle/api/edge): with
// Config.Edge.URL set, New starts an edge.Feeder and wraps the store so that
// every publish, token change, pairing and compaction of this process kicks
// it. The Feeder also runs every Config.Edge.Interval, which carries other
// server processes' publishes and anything a kick missed. Kicks never block
// or fail the write that caused them; the push hub holds a checkpoint back
// from devices until the edge has it, for at most edge.MaxPushDelay.

// startEdgeFeed starts the Feeder when Config.Edge.URL is set, wraps
// s.store to kick it, and gates the push hub on it.
func (s *Server) startEdgeFeed() error {
	if s.cfg.Edge.URL == "" {
		return nil
	}
	src, ok := s.store.(edge.Source)
	if !ok {
		return catalog.Errorf(catalog.Unsupported, "this store cannot feed an edge replica")
	}
	s.feeder = edge.NewFeeder(src, s.cfg.Edge, s.log.With("component", "edge-feed"))
	go s.feeder.Run(s.base)
	// Devices told of a checkpoint read it at the edge: hold the push
	// until the edge has it (at most edge.MaxPushDelay).
	s.hub.gate = s.feeder.Held
	f := feedingStore{Store: s.store, kick: s.feeder.Kick}
	if n, ok := s.store.(store.Notifier); ok {
		s.store = feedingNotifier{feedingStore: f, Notifier: n}
	} else {
		s.store = f
	}
	return nil
}

// EdgeFeeder is the edge Feeder (nil without Config.Edge.URL).
func (s *Server) EdgeFeeder() *edge.Feeder { return s.feeder }

// feedingStore kicks the edge Feeder after each successful write the edge
// must hear of: a publish, and any change to tokens.
type feedingStore struct {
	store.Store
	kick func()
}

// feedingNotifier keeps the store's Notifier (PostgreSQL) visible.
type feedingNotifier struct {
	feedingStore
	store.Notifier
}

func (f feedingStore) Publish(ctx context.Context, a store.Actor, storeID, reason, day string) (wire.Checkpoint, bool, error) {
	cp, created, err := f.Store.Publish(ctx, a, storeID, reason, day)
	if err == nil && created {
		f.kick()
	}
	return cp, created, err
}

func (f feedingStore) CreateToken(ctx context.Context, a store.Actor, t store.Token, hash []byte) error {
	err := f.Store.CreateToken(ctx, a, t, hash)
	if err == nil {
		f.kick()
	}
	return err
}

func (f feedingStore) RevokeToken(ctx context.Context, a store.Actor, id string) error {
	err := f.Store.RevokeToken(ctx, a, id)
	if err == nil {
		f.kick()
	}
	return err
}

func (f feedingStore) RedeemPairing(ctx context.Context, a store.Actor, codeHash []byte, now time.Time, t store.Token, tokenHash []byte) (store.Pairing, store.Token, error) {
	p, tok, err := f.Store.RedeemPairing(ctx, a, codeHash, now, t, tokenHash)
	if err == nil {
		f.kick()
	}
	return p, tok, err
}

func (f feedingStore) RevokePairing(ctx context.Context, a store.Actor, id, storeID string) (store.Pairing, error) {
	p, err := f.Store.RevokePairing(ctx, a, id, storeID)
	if err == nil {
		f.kick()
	}
	return p, err
}

func (f feedingStore) Compact(ctx context.Context, h int64) error {
	err := f.Store.Compact(ctx, h)
	if err == nil {
		f.kick()
	}
	return err
}
