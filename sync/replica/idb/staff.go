//go:build js && wasm

package idb

import (
	"context"
	"syscall/js"

	"github.com/hack-pad/go-indexeddb/idb"

	"aisle/sync/replica"
	"aisle/sync/wire"
)

// credentialKey is the meta store's key of a paired staff device's
// credential (the JSON of client.Credential). It lives beside the replica
// it unlocks, in IndexedDB (never localStorage), so that DropStaff deletes
// both in one transaction.
const credentialKey = "staff-credential"

var _ replica.StaffDropper = (*Storage)(nil)

// Credential returns the stored staff credential's JSON ("" when none).
func (s *Storage) Credential(ctx context.Context) (string, error) {
	if err := live(ctx); err != nil {
		return "", err
	}
	tx, err := s.db.Transaction(idb.TransactionReadOnly, metaStore)
	if err != nil {
		return "", storageErr(err, "read credential")
	}
	st, err := tx.ObjectStore(metaStore)
	if err != nil {
		return "", storageErr(err, "read credential")
	}
	req, err := st.Get(js.ValueOf(credentialKey))
	if err != nil {
		return "", storageErr(err, "read credential")
	}
	if err := <-awaitTx(tx); err != nil {
		return "", storageErr(err, "read credential")
	}
	v, err := req.Result()
	if err != nil || v.Type() != js.TypeString {
		return "", storageErr(err, "read credential")
	}
	return v.String(), nil
}

// SetCredential stores a staff credential's JSON.
func (s *Storage) SetCredential(ctx context.Context, raw string) error {
	meta, err := s.readMeta(ctx)
	if err != nil {
		return storageErr(err, "store credential")
	}
	err = s.casWrite(ctx, meta, nil, func(tx *idb.Transaction) error {
		ms, err := tx.ObjectStore(metaStore)
		if err != nil {
			return err
		}
		_, err = ms.PutKey(js.ValueOf(credentialKey), js.ValueOf(raw))
		return err
	})
	return storageErr(err, "store credential")
}

// DropStaff implements replica.StaffDropper: the staff kinds' stores, the
// staging area and the credential are cleared, and the meta record says
// public, in one transaction.
func (s *Storage) DropStaff(ctx context.Context) error {
	raw, err := s.readMeta(ctx)
	if err != nil {
		return storageErr(err, "drop staff data")
	}
	meta, err := decodeMeta(raw)
	if err != nil {
		return err
	}
	meta.Staging = nil
	if meta.Audience == wire.AudienceStaff {
		meta.Audience = wire.AudiencePublic
	}
	stores := []string{stagedStore}
	for _, k := range wire.Kinds {
		if k.Audience() != wire.AudiencePublic {
			stores = append(stores, string(k))
		}
	}
	err = s.casWrite(ctx, raw, stores, func(tx *idb.Transaction) error {
		for _, name := range stores {
			o, err := tx.ObjectStore(name)
			if err != nil {
				return err
			}
			if _, err := o.Clear(); err != nil {
				return err
			}
		}
		ms, err := tx.ObjectStore(metaStore)
		if err != nil {
			return err
		}
		if _, err := ms.Delete(js.ValueOf(credentialKey)); err != nil {
			return err
		}
		return putMeta(tx, meta)
	})
	return storageErr(err, "drop staff data")
}
