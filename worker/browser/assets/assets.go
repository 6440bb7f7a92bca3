// Package assets holds the inference worker's JavaScript shim (engine.js), which starts
// engine.wasm in a dedicated Worker.
package assets

import _ "embed"

// EngineJS is engine.js.
//
//go:embed engine.js
var EngineJS string
