// aisle inference worker: the JavaScript half. It queues messages until Go (engine.wasm) takes
// over self.onmessage; everything else is in Go (package aisle/worker/browser).
importScripts('/wasm_exec.js', '/simd.js');
self.aisleEarly = [];
self.onmessage = (e) => self.aisleEarly.push(e);
const go = new Go();
WebAssembly.instantiateStreaming(fetch(self.aisleWasmSIMD ? '/engine.wasm' : '/engine-nosimd.wasm'), go.importObject)
  .then((r) => go.run(r.instance))
  .catch((e) => self.postMessage({ type: 'engine-failed', message: String(e) }));
