// Entry module of the aisle edge Worker (deploy/edge.md).
//
// The Go handler (main.go, compiled to build/app.wasm; build/worker.mjs is
// github.com/syumai/workers' loader, one Go instance per request) answers
// the sync reads (GET/HEAD /v1/stores/{id}/checkpoint and .../changes) and
// the origin's feed (/_edge/...). With ORIGIN_URL set, everything else
// (the app, the push stream, admin routes) is forwarded to the origin, and
// so is a sync read the edge cannot answer: it failed (5xx), or the token
// is unknown here (401: an admin token, which never leaves the origin, or
// one newer than the last feed; a revoked one gets the origin's 401), or
// the store is (404: created since the last feed). A Worker placed on the
// app's own hostname in front of the origin is then invisible to devices
// but for the reads it takes off the origin.
import goWorker from "./build/worker.mjs";

const SYNC_READ = /^\/v1\/stores\/[^/]+\/(checkpoint|changes)\/?$/;

function toOrigin(request, env) {
  const url = new URL(request.url);
  const origin = new URL(env.ORIGIN_URL);
  url.protocol = origin.protocol;
  url.host = origin.host;
  return fetch(new Request(url, request), { redirect: "manual" });
}

export default {
  async fetch(request, env, ctx) {
    const path = new URL(request.url).pathname;
    const read = SYNC_READ.test(path) && (request.method === "GET" || request.method === "HEAD");
    if (!read && !path.startsWith("/_edge/")) {
      return env.ORIGIN_URL ? toOrigin(request, env) : goWorker.fetch(request, env, ctx);
    }
    if (!read || !env.ORIGIN_URL) {
      return goWorker.fetch(request, env, ctx);
    }
    let resp;
    try {
      resp = await goWorker.fetch(request.clone(), env, ctx);
    } catch (e) {
      console.error("aisle edge failed; forwarding to the origin", e);
      return toOrigin(request, env);
    }
    const forward = resp.status >= 500 || resp.status === 401 || resp.status === 404;
    return forward ? toOrigin(request, env) : resp;
  },
};
