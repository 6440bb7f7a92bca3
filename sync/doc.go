// Package sync is the root of aisle's catalog synchronisation.
//
// The code is split by concern, Ben Johnson style: the domain is defined
// once and everything else is an adapter around it.
//
//   - [aisle/sync/catalog]: the domain (stores, products, stock, FAQs,
//     promotions, their staff-only halves), validation, and the one coded
//     error type shared by every layer.
//   - [aisle/sync/wire]: the sync protocol, shared by the Echo server and the
//     Go-WASM client (as tailscale's tailcfg is): changes, checkpoints,
//     pages, events, the protocol version and its history.
//   - [aisle/sync/replica]: the client-side replica state machine that
//     stages pages and applies a whole checkpoint or nothing, behind a
//     storage interface (memory here, IndexedDB in aisle/sync/replica/idb),
//     with replicatest, a reference server for client tests.
//   - [aisle/sync/client]: the HTTP source of pages and events used by the
//     replica, in native Go and in the browser alike.
//   - [aisle/sync/published]: the model delivery protocol (index, manifests,
//     shards and their checks), shared by the server and the service worker.
//   - [aisle/sync/jsapi] (js/wasm): globalThis.aisleSync, the replica and
//     its local queries as Promises for a page or a worker;
//     sync/cmd/aisle-sync-wasm is that as a standalone module.
//
// Nothing in this tree imports the server (aisle/api/...).
package sync
