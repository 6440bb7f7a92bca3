// aisle page script: the view. It renders state and forwards the user's actions; downloading,
// verifying, the chat protocol and inference are done in Go (service worker and inference worker).
'use strict';
const $ = (s) => document.querySelector(s);
const metrics = (window.aisleMetrics = { start: performance.now() });
const ui = { model: localStorage.getItem('aisle.model') || '', messages: [], abort: null, worker: null, owner: false, ready: false, loaded: false,
  quick: localStorage.getItem('aisle.quick') === '1', mode: '', conversation: newID() };
// A staff tablet's pairing link (?store=ID#pair=CODE): the code leaves the address bar at once
// (never bookmarked, shared or kept in history) and goes to the inference worker, which exchanges
// it for a staff token kept in IndexedDB (worker/browser/cmd/engine catalog.go).
ui.pairCode = takePairCode();
function takePairCode() {
  if (!location.hash.startsWith('#pair=')) return null;
  const code = location.hash.slice(6);
  history.replaceState(history.state, '', location.pathname + location.search);
  return /^[A-Za-z0-9_-]{1,200}$/.test(code) ? code : null;
}
function newID() { return crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random().toString(36).slice(2); }

function setEngine(text) { $('#engine').textContent = text; }
function setState(s) { document.body.dataset.state = s; }
function fmtBytes(n) {
  if (n >= 1 << 30) return (n / (1 << 30)).toFixed(1) + ' GB';
  if (n >= 1 << 20) return (n / (1 << 20)).toFixed(1) + ' MB';
  return Math.ceil(n / 1024) + ' KB';
}
function fmtTime(s) {
  if (!(s >= 0)) return 'estimating…';
  if (s < 60) return Math.ceil(s) + ' s left';
  return Math.floor(s / 60) + ' min ' + Math.ceil(s % 60) + ' s left';
}

// ---- network indicator: the browser's view, corrected by whether the store's server answered
let serverReachable = true;
function showNet() {
  const on = navigator.onLine && serverReachable;
  $('#net').textContent = on ? 'Online' : 'Offline';
  $('#net').title = on ? 'Connected to the store' : 'No connection to the store: the assistant keeps working on this device';
  $('#net').className = 'pill ' + (on ? 'online' : 'offline');
}
function setReachable(r) { serverReachable = r; showNet(); }
// While the store is out of reach, check again now and then (this also fetches model updates).
setInterval(() => { if (!serverReachable && navigator.onLine && ui.model && !ui.downloading) download(); }, 30000);
addEventListener('online', () => { showNet(); if (!ui.ready) download(); });
addEventListener('offline', showNet);

// ---- service worker, engine worker and the port between them
async function boot() {
  showNet();
  if (!('serviceWorker' in navigator)) { fatal('This browser cannot run the assistant offline (no service workers).'); return; }
  const reg = await navigator.serviceWorker.register('/sw.js', { scope: '/' });
  watchUpdates(reg);
  navigator.serviceWorker.addEventListener('message', (e) => {
    if (!e.data) return;
    if (e.data.type === 'aisle-need-port') handPort();
    // periodicsync (sw.js): the tab that runs the worker syncs the catalog now.
    else if (e.data.type === 'aisle-catalog-sync' && ui.worker) ui.worker.postMessage({ type: 'catalog-sync' });
  });
  navigator.serviceWorker.addEventListener('controllerchange', () => { if (ui.reloading) location.reload(); else handPort(); });
  await navigator.serviceWorker.ready;
  if (!navigator.serviceWorker.controller) {
    await new Promise((r) => navigator.serviceWorker.addEventListener('controllerchange', r, { once: true }));
  }
  // One tab runs the model for all tabs; the others wait for the lock and take over if it closes
  // (meanwhile, a pairing link opened in one of them is handed to the tab that runs the model).
  if (navigator.locks) {
    navigator.locks.request('aisle-engine', { ifAvailable: true }, (lock) => {
      if (lock) return new Promise(() => startWorker());
      if (ui.pairCode) askOwnerToPair();
      navigator.locks.request('aisle-engine', () => new Promise(() => startWorker()));
    });
  } else startWorker(); // no Web Locks: every tab runs its own model
  registerPeriodicSync(reg);
  enable(); // quick answers work before any model is downloaded
  listConversations();
  await pickModel();
  await download();
}

// The store whose catalog this app keeps (?store=ID, default "demo"); the inference worker syncs
// it into IndexedDB and grounds the assistant on it.
function storeID() { return new URLSearchParams(location.search).get('store') || 'demo'; }

// Periodic Background Sync, where the browser has it (installed app, permission granted): the
// service worker then asks this tab to sync the catalog about twice a day. Refusal is fine: the
// worker also syncs on start and on every push while online.
async function registerPeriodicSync(reg) {
  if (!reg.periodicSync) return;
  try { await reg.periodicSync.register('aisle-catalog', { minInterval: 12 * 60 * 60 * 1000 }); } catch (e) { /* not granted */ }
}

// Pairing across tabs: a tab that does not run the inference worker sends its pairing code to
// the one that does ({type:'pair-request', id, code, store}); that tab hands it to its worker
// when the link is for the store it syncs (else it refuses without using the code) and sends the
// worker's answer back ({type:'pair-result', id, ...the worker's pair message}).
const pairChannel = typeof BroadcastChannel === 'function' ? new BroadcastChannel('aisle-pair') : null;
if (pairChannel) pairChannel.onmessage = (e) => {
  const m = e.data || {};
  if (m.type === 'pair-request' && ui.owner && ui.worker) {
    if (m.store !== storeID()) {
      pairChannel.postMessage({ type: 'pair-result', id: m.id, ok: false, code: 'invalid',
        error: 'this link pairs store "' + m.store + '", and the app is open on store "' + storeID() + '" in another tab: close that tab and open the link again' });
      return;
    }
    if (ui.pairCode || ui.pairFor) {
      pairChannel.postMessage({ type: 'pair-result', id: m.id, ok: false, code: 'unavailable', error: 'another pairing is under way: open the link again in a minute' });
      return;
    }
    ui.pairFor = m.id;
    ui.worker.postMessage({ type: 'pair', code: m.code });
  } else if (m.type === 'pair-result' && m.id === ui.pairID) {
    showPair(Object.assign({}, m, { type: 'pair' }));
  }
};
function askOwnerToPair() {
  if (!pairChannel) return;
  ui.pairID = newID();
  pairChannel.postMessage({ type: 'pair-request', id: ui.pairID, code: ui.pairCode, store: storeID() });
}

// showPair reports a pairing's outcome ({type:'pair', ok, store, error, code}).
function showPair(d) {
  ui.pairCode = null;
  window.aislePair = d;
  if (!d.ok) { $('#store-status').textContent = 'This tablet could not be paired: ' + d.error; $('#store-status').classList.add('error'); }
}

function startWorker() {
  ui.owner = true;
  ui.worker = new Worker('/engine.js?backend=' + encodeURIComponent(localStorage.getItem('aisle.backend') || 'auto') +
    '&store=' + encodeURIComponent(storeID()) + '&workers=' + encodeURIComponent(localStorage.getItem('aisle.workers') || 'auto'));
  ui.worker.onmessage = (e) => onWorker(e.data || {});
  ui.worker.onerror = (e) => { setEngine('Model stopped: ' + (e.message || 'error') + ' · restarting'); restartWorker(); };
  if (ui.pairCode) ui.worker.postMessage({ type: 'pair', code: ui.pairCode });
  handPort();
  if (ui.ready) preload();
}

// restartWorker replaces an inference worker that stopped answering (crashed or killed), at
// most three times in two minutes: a worker that cannot start at all is reported, not retried.
function restartWorker() {
  if (ui.worker) ui.worker.terminate();
  ui.worker = null;
  ui.loaded = false;
  const now = Date.now();
  ui.restartTimes = (ui.restartTimes || []).filter((t) => now - t < 120000);
  if (ui.restartTimes.length >= 3) {
    setEngine('The model cannot start on this device. Reload the app to try again.');
    return;
  }
  ui.restartTimes.push(now);
  metrics.restarts = (metrics.restarts || 0) + 1;
  startWorker();
}

function handPort() {
  const sw = navigator.serviceWorker.controller;
  if (!ui.worker || !sw) return;
  const ch = new MessageChannel();
  metrics.ports = (metrics.ports || 0) + 1;
  ui.worker.postMessage({ type: 'port' }, [ch.port1]);
  sw.postMessage({ type: 'aisle-engine-port' }, [ch.port2]);
}

function preload() {
  if (!ui.worker || !ui.model) return;
  setEngine('Loading model…');
  metrics.loadStart = performance.now();
  ui.worker.postMessage({ type: 'load', model: ui.model });
}

function onWorker(d) {
  if (d.type === 'loaded') {
    metrics.loadMS = d.load_ms; metrics.loaded = performance.now();
    ui.loaded = true; setEngine('Ready · on this device' + (d.backend ? ' (' + d.backend.toUpperCase() + ')' : '')); enable();
  } else if (d.type === 'load-error') {
    ui.loaded = false;
    if (d.code === 'model_corrupt' || d.code === 'model_not_found') {
      ui.ready = false; setEngine('Repairing model…');
      if (d.code === 'model_corrupt') showDownloadError('Part of the stored model was damaged. It is downloaded again as soon as the network is available.');
      download();
    } else setEngine('Model error: ' + d.message);
    enable();
  } else if (d.type === 'catalog') {
    // {store, state: opening|syncing|synced|offline|error, version, seq, changes, error, code,
    //  name, published_at, suggestions}
    window.aisleCatalog = d;
    document.body.dataset.catalog = d.state;
    if (d.version > 0) document.body.dataset.catalogVersion = String(d.version);
    showStore(d);
  } else if (d.type === 'pair' || d.type === 'unpaired') {
    // pair: {ok, store, error, code}; unpaired: the staff token was revoked or expired.
    if (d.type === 'unpaired') window.aisleUnpaired = d;
    else if (ui.pairFor) { pairChannel.postMessage(Object.assign({}, d, { type: 'pair-result', id: ui.pairFor })); ui.pairFor = null; }
    else showPair(d);
  } else if (d.type === 'warmed') { metrics.warmMS = d.ms; metrics.warmRestored = d.restored; } // the store's prompt start is ready
  else if (d.type === 'engine-failed') setEngine('The model cannot start: ' + d.message);
}

function watchUpdates(reg) {
  const offer = () => { if (reg.waiting && navigator.serviceWorker.controller) $('#update').hidden = false; };
  offer();
  reg.addEventListener('updatefound', () => {
    const w = reg.installing;
    if (w) w.addEventListener('statechange', offer);
  });
  $('#update-now').addEventListener('click', () => {
    if (ui.abort) { $('#update-now').textContent = 'Update after this answer'; ui.updateAfter = true; return; }
    applyUpdate(reg);
  });
  ui.reg = reg;
}
function applyUpdate(reg) {
  if (!reg.waiting) return;
  ui.reloading = true;
  reg.waiting.postMessage({ type: 'aisle-skip-waiting' });
}

// ---- models and download
async function getJSON(url) { const r = await fetch(url); if (!r.ok) throw new Error(url + ': HTTP ' + r.status); return r.json(); }

async function pickModel() {
  const options = new Map();
  try { for (const m of (await getJSON('/aisle/status')).models) options.set(m.id, m.name || m.id); } catch (e) { /* first start */ }
  try { for (const m of (await getJSON('/models/index.json')).models) options.set(m.id, m.name || m.id); } catch (e) { /* offline */ }
  const sel = $('#model');
  sel.replaceChildren(...[...options].map(([id, name]) => new Option(name === id ? id : name + ' (' + id + ')', id)));
  if (!options.has(ui.model)) ui.model = options.keys().next().value || '';
  sel.value = ui.model;
  await showStorage();
}

async function showStorage() {
  try {
    const st = await getJSON('/aisle/status');
    const m = st.models.find((x) => x.id === ui.model);
    let text = 'Storage: ' + (st.usage_bytes >= 0 ? fmtBytes(st.usage_bytes) + ' used of ' + fmtBytes(st.quota_bytes) + ' available to this app' : 'unknown');
    if (m) text += ' · model ' + fmtBytes(m.stored_bytes) + ' of ' + fmtBytes(m.total_bytes) + (m.ready ? ' (ready offline)' : '');
    $('#storage').textContent = text;
    return m;
  } catch (e) { $('#storage').textContent = 'Storage: unknown'; return null; }
}

function showProgress(p) {
  const pct = p.total_bytes ? (100 * p.done_bytes) / p.total_bytes : 0;
  const bar = $('#download-bar');
  bar.max = 1; bar.value = pct / 100;
  let text = fmtBytes(p.done_bytes) + ' of ' + fmtBytes(p.total_bytes) + ' (' + pct.toFixed(0) + '%)';
  if (p.state === 'downloading') text += ' · ' + (p.bytes_per_sec > 0 ? fmtBytes(p.bytes_per_sec) + '/s · ' : '') + fmtTime(p.eta_seconds);
  if (p.state === 'ready') text = 'Downloaded ' + fmtBytes(p.total_bytes) + '. The assistant now works offline.';
  $('#download-text').textContent = text;
}
function showDownloadError(msg) { const e = $('#download-error'); e.textContent = msg; e.hidden = !msg; }

let retryTimer = null, retryDelay = 2000;
async function download() {
  if (!ui.model) return;
  if (ui.downloading) { ui.downloadAgain = true; return; }
  clearTimeout(retryTimer);
  ui.downloading = true; ui.downloadAgain = false;
  const stored = await showStorage();
  if (stored && !stored.ready) showProgress({ state: 'resuming', done_bytes: stored.stored_bytes, total_bytes: stored.total_bytes });
  if (!stored || !stored.ready) $('#download').hidden = false;
  if (stored && stored.ready && !ui.ready) modelReady(); // usable now; the download below only checks for an update
  let last = null;
  try {
    const r = await fetch('/aisle/download?model=' + encodeURIComponent(ui.model));
    for await (const ev of sse(r)) {
      last = JSON.parse(ev);
      if (!metrics.firstProgress && last.state === 'downloading') metrics.firstProgress = last;
      if (last.state === 'waiting') $('#download-text').textContent = 'Another tab is downloading the model…';
      else if (last.state !== 'manifest') showProgress(last);
      if (last.state === 'downloading') $('#download').hidden = false;
    }
  } catch (e) { last = { state: 'error', error: { code: 'network_error', message: String(e) } }; }
  ui.downloading = false;
  if (ui.downloadAgain) { download(); return; }
  // The download checks the server first: a network error means the store is not reachable.
  setReachable(!(last && (last.offline || (last.error && last.error.code === 'network_error'))));
  if (last && last.state === 'ready') {
    retryDelay = 2000; showDownloadError('');
    setTimeout(() => { $('#download').hidden = true; }, stored && stored.ready ? 0 : 1500);
    showStorage();
    if (!ui.ready) modelReady();
    return;
  }
  if (stored && stored.ready && last && last.error && last.error.code === 'network_error') return; // offline with a ready model
  const err = (last && last.error) || { code: 'network_error', message: 'The download stopped.' };
  if (err.code === 'quota_exceeded') { showDownloadError(err.message); $('#download-retry').hidden = false; return; }
  showDownloadError(err.code === 'network_error' ? 'No connection to the store. The download continues by itself when the network is back.' : err.message);
  retryTimer = setTimeout(download, retryDelay);
  retryDelay = Math.min(retryDelay * 2, 30000);
}

function modelReady() {
  ui.ready = true; metrics.ready = performance.now();
  if (ui.owner && !ui.loaded) preload();
  enable();
}

// sse yields the data of each server-sent event of a fetch response.
async function* sse(resp) {
  if (!resp.ok) {
    let msg = 'HTTP ' + resp.status;
    let code = '';
    try { const j = await resp.json(); msg = j.error.message; code = j.error.code || ''; } catch (e) { /* not JSON */ }
    throw Object.assign(new Error(msg), { code });
  }
  const reader = resp.body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buf += value;
    let i;
    while ((i = buf.indexOf('\n\n')) >= 0) {
      const block = buf.slice(0, i); buf = buf.slice(i + 2);
      const data = block.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trimStart()).join('\n');
      if (data) yield data;
    }
  }
}

// ---- the store: its name, the catalog's state, a greeting and suggested questions
function showStore(d) {
  if (d.name) { $('#store-name').textContent = d.name; document.title = d.name + ' · assistant'; }
  const asOf = d.published_at ? 'catalog of ' + new Date(d.published_at).toLocaleString([], { dateStyle: 'medium', timeStyle: 'short' }) : '';
  let text = '', bad = false;
  if (d.code === 'not_found') { text = 'This store (' + d.store + ') was not found. Scan the QR code in the store again.'; bad = true; }
  else if (d.state === 'error') { text = 'The store refused to send its catalog: ' + d.error; bad = true; }
  else if (d.state === 'offline') text = asOf ? 'Offline · ' + asOf : 'Offline · the catalog is downloaded when the store can be reached';
  else if (d.state === 'synced') text = 'Up to date · ' + asOf;
  else text = asOf ? 'Updating · ' + asOf : 'Loading the store\'s catalog…';
  document.body.dataset.staff = d.staff ? 'true' : 'false';
  if (d.staff) text += ' · staff tablet';
  $('#store-status').textContent = text;
  $('#store-status').classList.toggle('error', bad);
  if (d.name) $('#welcome-text').textContent = 'Hello! I am the assistant of ' + d.name + '. Ask me about prices, what is in stock, where to find things and opening hours.';
  const list = $('#suggestions');
  list.replaceChildren(...(d.suggestions || []).map((q) => {
    const li = document.createElement('li'), b = document.createElement('button');
    b.type = 'button'; b.textContent = q;
    b.addEventListener('click', () => { if ($('#send').disabled) return; $('#prompt').value = q; $('#composer').requestSubmit(); });
    li.append(b); return li;
  }));
}

// ---- chat
// The store assistant answers from the catalog from the first second: quick answers (the
// catalog's facts in plain sentences) until the model is ready or when the user prefers them,
// then in the model's words held to the same facts. ui.mode, when set ('raw'), overrides this
// (engine tests and benchmarks).
function answerMode() {
  if (ui.mode) return ui.mode;
  return ui.quick || !ui.ready ? 'quick' : 'assistant';
}

function enable() {
  const busy = !!ui.abort;
  const can = ui.ready || (!!navigator.serviceWorker.controller && answerMode() === 'quick');
  $('#prompt').disabled = !can;
  $('#send').disabled = !can || busy;
  $('#stop').disabled = !busy;
  $('#regen').disabled = !can || busy || !ui.messages.some((m) => m.role === 'assistant');
  if (!ui.owner && ui.ready) setEngine('Ready · shared with another tab');
  $('#welcome-note').hidden = ui.ready || ui.quick; // the model is still on its way
  if (can && !busy) {
    setState('ready');
    if (!metrics.interactive) metrics.interactive = performance.now();
  } else setState(busy ? 'busy' : 'starting');
}

function bubble(role, text) {
  const div = document.createElement('div'), p = document.createElement('span');
  div.className = 'msg ' + role;
  p.className = 'text'; p.textContent = text;
  div.append(p);
  $('#log').append(div);
  $('#welcome').hidden = true;
  div.scrollIntoView({ block: 'end' });
  return div;
}

// cards draws the facts of an answer ({intent, facts}: see worker/assistant.Fact) under its text:
// a product's name, price, stock and aisle; an FAQ's answer; a category's aisles.
const stockText = { in_stock: 'In stock', few_left: 'Few left', out_of_stock: 'Out of stock' };
function cards(answer) {
  const box = document.createElement('div');
  box.className = 'cards';
  const el = (tag, cls, text) => { const e = document.createElement(tag); if (cls) e.className = cls; if (text) e.textContent = text; return e; };
  const money = (v, cur) => { try { return new Intl.NumberFormat('en', { style: 'currency', currency: cur }).format(v); } catch (e) { return v + ' ' + cur; } };
  for (const f of answer.facts || []) {
    const card = el('article', 'card');
    if (f.type === 'product') {
      card.append(el('h3', '', f.name + (f.brand && !f.name.toLowerCase().includes(f.brand.toLowerCase()) ? ' · ' + f.brand : '')));
      const line = el('p');
      const price = el('span', 'price', money(f.promotion ? f.promotion.price : f.price, f.currency));
      if (f.promotion) price.append(el('span', 'was', money(f.price, f.currency)));
      line.append(price);
      if (f.stock) line.append(el('span', 'badge ' + f.stock, stockText[f.stock] || f.stock));
      card.append(line);
      if (f.aisle) card.append(el('p', '', 'Aisle ' + f.aisle));
      if (f.promotion) card.append(el('p', '', f.promotion.title + ' · ' + f.promotion.percent + '% off'));
    } else if (f.type === 'faq') {
      card.append(el('h3', '', f.question), el('p', '', f.answer));
    } else if (f.type === 'category') {
      card.append(el('h3', '', f.name), el('p', '', (f.aisles && f.aisles.length ? 'Aisle ' + f.aisles.join(', ') + ' · ' : '') + f.products + ' products'));
    } else if (f.type === 'store' && f.hours) {
      card.append(el('h3', '', 'Opening hours'), el('p', '', f.hours));
    } else continue;
    box.append(card);
  }
  return box.children.length ? box : null;
}

async function ask() {
  const out = bubble('assistant', '');
  out.setAttribute('aria-busy', 'true');
  $('#chat-error').hidden = true;
  ui.abort = new AbortController();
  enable();
  const t0 = performance.now();
  let text = '', usage = null, timings = null, first = 0, answer = null;
  try {
    const r = await fetch('/v1/chat/completions', {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, signal: ui.abort.signal,
      body: JSON.stringify({ model: ui.model || 'quick', messages: chatMessages(), stream: true, stream_options: { include_usage: true },
        temperature: Number($('#temperature').value), max_tokens: Number($('#max-tokens').value) || 256,
        aisle: { mode: answerMode() } }),
    });
    for await (const data of sse(r)) {
      if (data === '[DONE]') break;
      const c = JSON.parse(data);
      if (c.error) throw Object.assign(new Error(c.error.message), { code: c.error.code || '' });
      if (c.usage) { usage = c.usage; timings = c.timings || null; }
      if (c.choices && c.choices[0] && c.choices[0].delta.aisle) {
        answer = c.choices[0].delta.aisle;
        const box = cards(answer);
        if (box) out.append(box);
      }
      const piece = c.choices && c.choices[0] && c.choices[0].delta.content;
      if (piece) { if (!first) first = performance.now(); text += piece; out.firstChild.textContent = text; }
    }
    ui.messages.push({ role: 'assistant', content: text, answer });
    const end = performance.now();
    await saveConversation(); // before an update's reload can come
    metrics.lastChat = { ttft: first ? first - t0 : null, total: end - t0, usage, timings, text, answer };
    if (usage && usage.completion_tokens > 0) { const m = document.createElement('span'); m.className = 'meta'; m.textContent = usage.completion_tokens + ' tokens'; out.append(m); }
  } catch (e) {
    if (e.name === 'AbortError') { if (text) { ui.messages.push({ role: 'assistant', content: text, answer }); await saveConversation(); } }
    else {
      $('#chat-error').textContent = e.message; $('#chat-error').hidden = false; if (!text) out.remove();
      if (ui.owner && /engine_unavailable|worker_timeout/.test(e.code || '')) restartWorker();
    }
  } finally {
    out.removeAttribute('aria-busy');
    ui.abort = null;
    enable();
    if (ui.updateAfter) applyUpdate(ui.reg);
  }
}

$('#composer').addEventListener('submit', (e) => {
  e.preventDefault();
  const text = $('#prompt').value.trim();
  if (!text || ui.abort) return;
  $('#prompt').value = '';
  ui.messages.push({ role: 'user', content: text });
  bubble('user', text);
  ask();
});
$('#prompt').addEventListener('keydown', (e) => {
  if (e.key === 'Enter' && !e.shiftKey) { e.preventDefault(); $('#composer').requestSubmit(); }
  if (e.key === 'Escape' && ui.abort) ui.abort.abort();
});
$('#download-retry').addEventListener('click', () => { $('#download-retry').hidden = true; showDownloadError(''); download(); });
$('#stop').addEventListener('click', () => ui.abort && ui.abort.abort());
$('#new-chat').addEventListener('click', () => { showConversation({ id: newID(), messages: [] }); $('#prompt').focus(); });
$('#delete-all').addEventListener('click', async () => {
  if (!confirm('Delete all conversations with this store from this device?')) return;
  await fetch(conversationsURL(''), { method: 'DELETE' });
  showConversation({ id: newID(), messages: [] });
  listConversations();
});

// ---- conversations, kept on this device by the service worker (IndexedDB; sw/conversations.go)
function conversationsURL(id) { return '/aisle/conversations' + (id ? '/' + id : '') + '?store=' + encodeURIComponent(storeID()); }
// the chat endpoint gets the turns only (role, content); the stored ones keep the answers' facts
function chatMessages() { return ui.messages.map((m) => ({ role: m.role, content: m.content })); }

function showConversation(c) {
  if (ui.abort) ui.abort.abort();
  ui.conversation = c.id;
  ui.messages = c.messages.map((m) => ({ role: m.role, content: m.content, answer: m.answer }));
  $('#log').replaceChildren();
  for (const m of ui.messages) {
    const b = bubble(m.role, m.content);
    const box = m.answer && cards(m.answer);
    if (box) b.append(box);
  }
  $('#welcome').hidden = ui.messages.length > 0;
  $('#chat-error').hidden = true;
  enable();
}

async function saveConversation() {
  const first = ui.messages.find((m) => m.role === 'user');
  const body = JSON.stringify({ title: first ? first.content.slice(0, 120) : '', messages: ui.messages });
  try {
    const r = await fetch(conversationsURL(ui.conversation), { method: 'PUT', headers: { 'Content-Type': 'application/json' }, body });
    if (!r.ok) throw new Error((await r.json()).error.message);
  } catch (e) { $('#chat-error').textContent = 'This conversation could not be saved on the device: ' + e.message; $('#chat-error').hidden = false; }
  await listConversations();
}

// listConversations shows the store's conversations on this device, newest first. A page load
// starts a new one (two tabs never write into one conversation); earlier ones reopen from here.
async function listConversations() {
  let list = [];
  try {
    const r = await fetch(conversationsURL(''));
    if (r.ok) list = (await r.json()).conversations || [];
  } catch (e) { return; }
  $('#history-empty').hidden = list.length > 0;
  $('#delete-all').hidden = list.length === 0;
  $('#conversations').replaceChildren(...list.map((c) => {
    const li = document.createElement('li'), open = document.createElement('button'), del = document.createElement('button');
    open.type = del.type = 'button'; open.className = 'open';
    open.textContent = (c.title || 'Conversation') + ' · ' + new Date(c.updated).toLocaleString([], { dateStyle: 'short', timeStyle: 'short' });
    open.addEventListener('click', () => { showConversation(c); $('#history').open = false; });
    del.textContent = 'Delete'; del.setAttribute('aria-label', 'Delete the conversation "' + (c.title || 'Conversation') + '"');
    del.addEventListener('click', async () => {
      await fetch(conversationsURL(c.id), { method: 'DELETE' });
      if (c.id === ui.conversation) showConversation({ id: newID(), messages: [] });
      listConversations();
    });
    li.append(open, del); return li;
  }));
}
$('#regen').addEventListener('click', () => {
  if (ui.abort) return;
  const i = ui.messages.map((m) => m.role).lastIndexOf('assistant');
  if (i < 0) return;
  ui.messages.splice(i, 1);
  const bubbles = document.querySelectorAll('#log .msg.assistant');
  bubbles[bubbles.length - 1].remove();
  ask();
});
$('#model').addEventListener('change', (e) => {
  ui.model = e.target.value; localStorage.setItem('aisle.model', ui.model);
  ui.ready = false; ui.loaded = false; enable(); download();
});
$('#backend').value = localStorage.getItem('aisle.backend') || 'auto';
$('#backend').addEventListener('change', (e) => {
  localStorage.setItem('aisle.backend', e.target.value);
  if (ui.owner && ui.worker && !ui.abort) restartWorker(); // run the model on the chosen hardware
});
$('#temperature').addEventListener('input', (e) => { $('#temperature-out').value = e.target.value; });
$('#quick').checked = ui.quick;
$('#quick').addEventListener('change', (e) => {
  ui.quick = e.target.checked; localStorage.setItem('aisle.quick', ui.quick ? '1' : '0'); enable();
});
$('#clear').addEventListener('click', async () => {
  if (!confirm('Delete the downloaded model from this device? You will need a network to download it again.')) return;
  await fetch('/aisle/clear', { method: 'POST' });
  ui.ready = false; ui.loaded = false; enable(); showStorage();
  setEngine('Model deleted'); $('#download').hidden = false; showProgress({ state: 'none', done_bytes: 0, total_bytes: 0 });
});

function fatal(msg) { setEngine('Unavailable'); $('#chat-error').textContent = msg; $('#chat-error').hidden = false; }
boot().catch((e) => fatal('The app could not start: ' + e.message));
