//go:build js && wasm

package idb

import (
	"context"
	"syscall/js"

	"github.com/hack-pad/go-indexeddb/idb"

	"aisle/sync/wire"
)

// deviceKey is the meta store's key of the installation's anonymous
// device ID (wire.NewDeviceID), sent with sync requests as
// wire.HeaderDevice. It survives DropStaff (a tablet that is unpaired is
// still the same installation) and lives only as long as this database.
const deviceKey = "device-id"

// DeviceID returns the installation's device ID, creating it on first
// use. The read and the write are one read-write transaction, so two tabs
// opening at once agree on one ID.
func (s *Storage) DeviceID(ctx context.Context) (string, error) {
	if err := live(ctx); err != nil {
		return "", err
	}
	tx, err := s.db.Transaction(idb.TransactionReadWrite, metaStore)
	if err != nil {
		return "", storageErr(err, "read device ID")
	}
	ms, err := tx.ObjectStore(metaStore)
	if err != nil {
		return "", storageErr(err, "read device ID")
	}
	req, err := ms.Get(js.ValueOf(deviceKey))
	if err != nil {
		return "", storageErr(err, "read device ID")
	}
	var id string
	var cbErr error
	err = req.ListenSuccess(context.Background(), func() {
		if v, err := req.Result(); err == nil && v.Type() == js.TypeString && wire.ValidDeviceID(v.String()) {
			id = v.String()
			return
		}
		id = wire.NewDeviceID()
		if _, err := ms.PutKey(js.ValueOf(deviceKey), js.ValueOf(id)); err != nil {
			cbErr = err
			_ = tx.Abort()
		}
	})
	if err != nil {
		return "", storageErr(err, "read device ID")
	}
	txErr := <-awaitTx(tx)
	if cbErr != nil {
		return "", storageErr(cbErr, "store device ID")
	}
	if txErr != nil {
		return "", storageErr(txErr, "store device ID")
	}
	return id, nil
}
