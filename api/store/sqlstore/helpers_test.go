package sqlstore_test

import "aisle/sync/catalog"

func storeRec(id string) catalog.Store { return catalog.Store{ID: id, Name: "Store " + id} }
