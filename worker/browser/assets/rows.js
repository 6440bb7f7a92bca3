// aisle row worker: computes its rows of the model's matrix products for the inference worker
// that started it (Go package aisle/worker/browser/rowsplit). Its first message carries the
// compiled engine module and the shared memory; the same engine.wasm then runs as a row worker.
importScripts('/wasm_exec.js');
self.onmessage = (e) => {
  self.onmessage = null;
  self.aisleRows = e.data;
  const go = new Go();
  WebAssembly.instantiate(e.data.module, go.importObject)
    .then((instance) => go.run(instance))
    .catch((err) => self.postMessage({ type: 'rows-failed', message: String(err) }));
};
