// Starts the benchmark's Go program (test.wasm) in this dedicated Worker.
importScripts('wasm_exec.js');
const go = new Go();
WebAssembly.instantiateStreaming(fetch('test.wasm'), go.importObject)
  .then((r) => go.run(r.instance))
  .catch((e) => postMessage({ error: String(e) }));
