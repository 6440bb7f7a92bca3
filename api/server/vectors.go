package server

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"

	"aisle/api/store"
	"aisle/sync/catalog"
	"aisle/worker/assistant/embed"
)

// RefreshVectors brings the vector of every product and FAQ to the current
// embedding model (embed.Model), in one write, unless the store records
// that its log already holds this model's vectors
// (store.MarkerVectorModel). Only the vectors that differ are logged (a
// deploy that changes the embedding, or a database filled before vectors
// existed); the records and their versions stay, and the next checkpoint
// of each store carries the new vectors. Records that no longer validate
// are skipped with a warning. It returns the number of vectors logged.
//
// Run it at start, before serving: every write after it computes vectors
// with the same model. ForceRefreshVectors does the same whatever the
// marker says (after a rolling deploy during which processes of an older
// build wrote).
func RefreshVectors(ctx context.Context, st store.Store, log *slog.Logger) (int, error) {
	return refreshVectors(ctx, st, log, false)
}

// ForceRefreshVectors is RefreshVectors without the marker check.
func ForceRefreshVectors(ctx context.Context, st store.Store, log *slog.Logger) (int, error) {
	return refreshVectors(ctx, st, log, true)
}

func refreshVectors(ctx context.Context, st store.Store, log *slog.Logger, force bool) (int, error) {
	if log == nil {
		log = slog.Default()
	}
	want := store.ModelMarker(embed.Model)
	have, err := st.Marker(ctx, store.MarkerVectorModel)
	if err != nil || (have == want && !force) {
		return 0, err
	}
	// Another server process may write meanwhile: each op is bound to the
	// version read (a refresh never reverts a record), and a write that
	// lost the race is planned again.
	for attempt := 1; ; attempt++ {
		n, records, err := refreshOnce(ctx, st, log)
		if catalog.IsCode(err, catalog.Precondition) && attempt < 5 {
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("vector refresh: %w", err)
		}
		if err := st.SetMarker(ctx, store.MarkerVectorModel, want); err != nil {
			return 0, err
		}
		log.Info("vectors refreshed", "model", embed.Model, "records", records, "logged", n)
		return n, nil
	}
}

// refreshOnce puts every product and FAQ record as it is, bound to its
// version, and returns the number of changes logged and of records put.
func refreshOnce(ctx context.Context, st store.Store, log *slog.Logger) (int, int, error) {
	var ops []store.Op
	for _, ent := range []store.Entity{store.Products, store.FAQs} {
		for after := ""; ; {
			items, next, err := st.List(ctx, ent, store.ListQuery{After: after, Limit: store.MaxListLimit})
			if err != nil {
				return 0, 0, err
			}
			for _, it := range items {
				op, err := refreshOp(ent, it.Data)
				if err != nil {
					log.Warn("vector refresh: record skipped", "entity", ent, "key", it.Key, "err", err)
					continue
				}
				op.IfVersion = it.Version
				ops = append(ops, op)
			}
			if next == "" {
				break
			}
			after = next
		}
	}
	before, err := st.Stats(ctx)
	if err != nil {
		return 0, 0, err
	}
	if _, err := st.Write(ctx, store.Actor{Name: "server (vector refresh)", Role: store.RoleAdmin}, ops); err != nil {
		return 0, 0, err
	}
	after, err := st.Stats(ctx)
	if err != nil {
		return 0, 0, err
	}
	return int(after.Version - before.Version), len(ops), nil
}

// refreshOp is the put of a stored product or FAQ record as it is.
func refreshOp(ent store.Entity, data json.RawMessage) (store.Op, error) {
	if ent == store.Products {
		var p catalog.ProductRecord
		if err := json.Unmarshal(data, &p); err != nil {
			return store.Op{}, err
		}
		return store.PutProduct(p)
	}
	var f catalog.FAQ
	if err := json.Unmarshal(data, &f); err != nil {
		return store.Op{}, err
	}
	return store.PutFAQ(f)
}
