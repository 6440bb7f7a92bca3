// aisle inference worker: the JavaScript half. It queues messages until Go (engine.wasm) takes
// over self.onmessage; everything else is in Go (package aisle/worker/browser). The compiled
// module is kept as self.aisleModule for the row workers (rows.js) the engine may start.
importScripts('/wasm_exec.js', '/simd.js');
self.aisleEarly = [];
self.onmessage = (e) => self.aisleEarly.push(e);
const go = new Go();
WebAssembly.compileStreaming(fetch(self.aisleWasmSIMD ? '/engine.wasm' : '/engine-nosimd.wasm'))
  .then((module) => { self.aisleModule = module; return WebAssembly.instantiate(module, go.importObject); })
  .then((instance) => go.run(instance))
  .catch((e) => self.postMessage({ type: 'engine-failed', message: String(e) }));
