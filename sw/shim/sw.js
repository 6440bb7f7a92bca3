// aisle service worker: the JavaScript half. It registers every listener synchronously, keeps the
// inference worker's port (the only state that must live in memory), and hands each request to
// Go (sw.wasm) -- one fresh Go instance per request, as github.com/syumai/workers is built for.
// All routing and logic is in Go (package aisle/sw).
importScripts('/wasm_exec.js'); // the Go toolchain's own, unpatched
importScripts('/simd.js'); // self.aisleWasmSIMD: which build of the inference worker to precache

const VERSION = '__AISLE_VERSION__'; // replaced by the build with the precache version
const WASM = '/sw.wasm';

// syumai/workers calls this helper.
globalThis.tryCatch = (fn) => { try { return { result: fn() }; } catch (e) { return { error: e }; } };

// syumai/workers' response streams call close() or enqueue() on a stream that the browser has
// already errored when the page went away, and the thrown error would crash that Go instance
// (and with it whatever it held). A stream whose reader is gone needs neither call.
for (const m of ['close', 'enqueue']) {
  const orig = ReadableStreamDefaultController.prototype[m];
  ReadableStreamDefaultController.prototype[m] = function (...args) {
    try { return orig.apply(this, args); } catch (e) { if (e instanceof TypeError) return undefined; throw e; }
  };
}

let modulePromise = null;
function wasmModule() {
  if (!modulePromise) {
    modulePromise = caches.match(WASM, { cacheName: 'aisle-shell-' + VERSION })
      .then((r) => r || fetch(WASM))
      .then((r) => WebAssembly.compileStreaming(r))
      .catch((e) => { modulePromise = null; throw e; });
  }
  return modulePromise;
}

// startInstance starts one Go instance and resolves to its binding once Go is ready to serve.
function startInstance() {
  return wasmModule().then(async (mod) => {
    const go = new Go();
    const binding = {};
    let ready;
    const started = new Promise((resolve) => { ready = resolve; });
    const instance = await WebAssembly.instantiate(mod, { ...go.importObject, workers: { ready: () => ready() } });
    // syumai/workers reads globalThis.context.binding once, in its package initialisers, which run
    // synchronously inside go.run before it first yields: setting the global right before is
    // enough, even with several instances alive, and needs no patched wasm_exec.js (whose Proxy
    // around globalThis breaks calls such as fetch() with "Illegal invocation").
    globalThis.context = { binding };
    const run = go.run(instance);
    // Whatever the instance still holds (a Web Lock) is let go when it exits, even by a panic.
    run.finally(() => (binding.onExit || []).forEach((f) => { try { f(); } catch (e) { /* already released */ } }));
    const exited = run.then(() => { throw new Error('sw.wasm exited before serving'); });
    await Promise.race([started, exited]);
    return binding;
  });
}

async function handle(request) {
  const binding = await startInstance();
  return binding.handleRequest(request);
}

// The inference worker's control port, handed over by the page that runs the worker.
let port = null;
let busySince = 0;
let waiters = [];
function askClients() {
  self.clients.matchAll({ type: 'window', includeUncontrolled: true })
    .then((cs) => cs.forEach((c) => c.postMessage({ type: 'aisle-need-port' })));
}
self.aisle = {
  version: VERSION,
  enginePort: () => port,
  busyFor: () => (busySince ? Date.now() - busySince : 0), // ms the worker has been busy, 0 if not
  dropPort: (p) => { if (port === p) port = null; },
  waitPort: (ms) => port ? Promise.resolve(port) : new Promise((resolve) => {
    const t = setTimeout(() => { waiters = waiters.filter((w) => w !== done); resolve(null); }, ms);
    const done = (p) => { clearTimeout(t); resolve(p); };
    waiters.push(done);
    askClients();
  }),
};

async function lifecycle(name) {
  const r = await handle(new Request('https://aisle.internal/' + name, { method: 'POST' }));
  if (!r.ok) throw new Error(name + ' failed: ' + (await r.text()));
}

self.addEventListener('install', (e) => e.waitUntil(lifecycle('install')));
self.addEventListener('activate', (e) => e.waitUntil(lifecycle('activate').then(() => self.clients.claim())));
// The offline API: only these /v1/ paths are answered on the device; the rest of /v1/ is the
// catalog sync API of the server and goes to the network untouched.
const OFFLINE_API = new Set(['/v1/chat/completions', '/v1/models']);
self.addEventListener('fetch', (e) => {
  const url = new URL(e.request.url);
  if (url.origin !== self.location.origin) return;
  const p = url.pathname;
  if (p.startsWith('/v1/') && !OFFLINE_API.has(p)) return;
  if (p.startsWith('/models/') || p === '/healthz') return; // straight to the network
  const m = e.request.method;
  if (m !== 'GET' && m !== 'HEAD' && !OFFLINE_API.has(p) && !p.startsWith('/aisle/')) return;
  let req = e.request;
  if ((p === '/aisle/download' || p === '/v1/chat/completions') && e.clientId) {
    // Go stops a download or generation whose page is gone (the browser may never cancel the
    // response stream).
    const h = new Headers(req.headers);
    h.set('X-Aisle-Client', e.clientId);
    req = new Request(req, { headers: h });
  }
  e.respondWith(handle(req));
});
self.addEventListener('message', (e) => {
  const d = e.data || {};
  if (d.type === 'aisle-engine-port' && e.ports[0]) {
    port = e.ports[0];
    busySince = 0;
    // The worker says when it cannot answer for a while (loading, long prefill).
    port.onmessage = (m) => {
      if (m.data === 'busy') busySince = Date.now();
      else if (m.data === 'idle') busySince = 0;
    };
    waiters.splice(0).forEach((w) => w(port));
  } else if (d.type === 'aisle-skip-waiting') {
    self.skipWaiting();
  }
});
// Periodic Background Sync (registered by the page as 'aisle-catalog', about every 12 hours,
// where the browser grants it): the catalog replica lives in the inference worker, so ask the
// open pages to have it sync now. With no page open there is nothing to do: the worker syncs
// when it next starts.
self.addEventListener('periodicsync', (e) => {
  if (e.tag !== 'aisle-catalog') return;
  e.waitUntil(self.clients.matchAll({ type: 'window', includeUncontrolled: true })
    .then((cs) => cs.forEach((c) => c.postMessage({ type: 'aisle-catalog-sync' }))));
});
// After a restart the port is gone: ask the pages for a fresh one right away.
askClients();
