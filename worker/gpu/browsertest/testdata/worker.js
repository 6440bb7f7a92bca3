// The GPU backend's browser test worker: runs test.wasm (worker/gpu/browsertest/wasm) with the
// model shards named in the query string (?shards=N&n=TOKENS, shards at /shard/0..N-1).
// globalThis.wasm must hold the instantiation result: the WebGPU library's Queue.WriteBuffer
// reads the Go program's memory through globalThis.wasm.instance.exports.mem.
importScripts('wasm_exec.js');
const q = new URLSearchParams(location.search);
const shards = [];
for (let i = 0; i < Number(q.get('shards')); i++) shards.push('/shard/' + i);
globalThis.aisleTest = { shards, n: Number(q.get('n')) };
const go = new Go();
WebAssembly.instantiateStreaming(fetch('test.wasm'), go.importObject)
  .then((r) => { globalThis.wasm = r; return go.run(r.instance); })
  .catch((e) => postMessage({ error: 'start: ' + e }));
