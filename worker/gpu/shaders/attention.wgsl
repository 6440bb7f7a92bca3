// attention.wgsl: causal grouped-query attention of the batch's queries over the KV cache, with
// an online (chunked) softmax: out = softmax(q k^T * scale) v over positions 0 .. s.pos + t.
//
// Bindings (group 0):
//   0 p    uniform AttnParams
//   1 s    uniform State
//   2 qkv  storage read       array<f32>: (s.n, q_stride); query head h of token t at t*q_stride + h*head_dim
//   3 kc   storage read       array<f32>: (context, kv_heads*head_dim) key cache
//   4 vc   storage read       array<f32>: (context, kv_heads*head_dim) value cache
//   5 out  storage read_write array<f32>: (s.n, heads*head_dim)
// Indexing: workgroup (h, t). Query head h reads KV head h / (heads/kv_heads). Positions are
// taken in chunks of 64, invocation l scoring position chunk+l; invocation l accumulates output
// elements l, l+64, l+128, l+192 (head_dim <= 256).

struct AttnParams {
  heads: u32,
  kv_heads: u32,
  head_dim: u32,
  q_stride: u32,
  scale: f32,
  _pad0: u32,
  _pad1: u32,
  _pad2: u32,
}

@group(0) @binding(0) var<uniform> p: AttnParams;
@group(0) @binding(1) var<uniform> s: State;
@group(0) @binding(2) var<storage, read> qkv: array<f32>;
@group(0) @binding(3) var<storage, read> kc: array<f32>;
@group(0) @binding(4) var<storage, read> vc: array<f32>;
@group(0) @binding(5) var<storage, read_write> out: array<f32>;

const WG: u32 = 64u;
var<workgroup> qs: array<f32, 256>;
var<workgroup> e: array<f32, WG>;
var<workgroup> red: array<f32, WG>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let h = wid.x;
  let t = wid.y;
  let hd = p.head_dim;
  let kvdim = p.kv_heads * hd;
  let last = s.pos + t; // attends to positions 0..last
  let kvo = (h / (p.heads / p.kv_heads)) * hd;
  for (var d = lid; d < hd; d += WG) {
    qs[d] = qkv[t * p.q_stride + h * hd + d];
  }
  workgroupBarrier();
  var o = vec4<f32>(0.0);
  var m = NEG_BIG;
  var l = 0.0;
  for (var c0 = 0u; c0 <= last; c0 += WG) {
    let pos = c0 + lid;
    var sc = NEG_BIG;
    if (pos <= last) {
      let ko = pos * kvdim + kvo;
      var a = 0.0;
      for (var d = 0u; d < hd; d++) {
        a += qs[d] * kc[ko + d];
      }
      sc = a * p.scale;
    }
    // chunk maximum
    red[lid] = sc;
    workgroupBarrier();
    for (var st = WG / 2u; st > 0u; st >>= 1u) {
      if (lid < st) {
        red[lid] = max(red[lid], red[lid + st]);
      }
      workgroupBarrier();
    }
    let mn = max(m, red[0]);
    let f = exp(m - mn);
    workgroupBarrier();
    var ev = 0.0;
    if (pos <= last) {
      ev = exp(sc - mn);
    }
    e[lid] = ev;
    red[lid] = ev;
    workgroupBarrier();
    for (var st = WG / 2u; st > 0u; st >>= 1u) {
      if (lid < st) {
        red[lid] += red[lid + st];
      }
      workgroupBarrier();
    }
    l = l * f + red[0];
    let cnt = min(WG, last + 1u - c0);
    var acc = o * f;
    for (var i = 0u; i < cnt; i++) {
      let vo = (c0 + i) * kvdim + kvo;
      let ei = e[i];
      if (lid < hd) {
        acc.x += ei * vc[vo + lid];
      }
      if (lid + 64u < hd) {
        acc.y += ei * vc[vo + lid + 64u];
      }
      if (lid + 128u < hd) {
        acc.z += ei * vc[vo + lid + 128u];
      }
      if (lid + 192u < hd) {
        acc.w += ei * vc[vo + lid + 192u];
      }
    }
    o = acc;
    m = mn;
    workgroupBarrier();
  }
  let ob = t * p.heads * hd + h * hd;
  let inv = 1.0 / l;
  if (lid < hd) {
    out[ob + lid] = o.x * inv;
  }
  if (lid + 64u < hd) {
    out[ob + lid + 64u] = o.y * inv;
  }
  if (lid + 128u < hd) {
    out[ob + lid + 128u] = o.z * inv;
  }
  if (lid + 192u < hd) {
    out[ob + lid + 192u] = o.w * inv;
  }
}
