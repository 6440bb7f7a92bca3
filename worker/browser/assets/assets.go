// Package assets holds the inference worker's JavaScript shim (engine.js), which starts
// engine.wasm in a dedicated Worker, rows.js, which starts the same module as one of its row
// workers (package rowsplit), and simd.js, which tells whether the browser runs
// WebAssembly SIMD (engine.wasm) or needs engine-nosimd.wasm.
package assets

import _ "embed"

// EngineJS is engine.js.
//
//go:embed engine.js
var EngineJS string

// SIMDJS is simd.js: it sets self.aisleWasmSIMD. The service worker imports it too, to precache
// only the engine build the browser can run.
//
//go:embed simd.js
var SIMDJS string

// RowsJS is rows.js, the shim of a row worker.
//
//go:embed rows.js
var RowsJS string
