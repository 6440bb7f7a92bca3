// The GPU backend's browser test worker: runs test.wasm (worker/gpu/browsertest/wasm) with the
// model shards named in the query string (?shards=N&n=TOKENS&p=PROMPT&cpu=0|1, shards at
// /shard/0..N-1).
// globalThis.wasm is deliberately not set: the WebGPU library's Queue.WriteBuffer reads Go's memory
// through it, with a view that an allocation can detach; the engine must never go that way.
importScripts('wasm_exec.js');
const q = new URLSearchParams(location.search);
const shards = [];
for (let i = 0; i < Number(q.get('shards')); i++) shards.push('/shard/' + i);
globalThis.aisleTest = { shards, n: Number(q.get('n')), p: Number(q.get('p') || 128), cpu: q.get('cpu') !== '0' };
const go = new Go();
WebAssembly.instantiateStreaming(fetch('test.wasm'), go.importObject)
  .then((r) => go.run(r.instance))
  .catch((e) => postMessage({ error: 'start: ' + e }));
