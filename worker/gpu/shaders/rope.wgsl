// rope.wgsl: the per-head step between the QKV projection and attention, for batches of several
// tokens (a single token's is fused into attention.wgsl). For token t of the
// batch (position s.pos + t) and head slot h: query heads (h < heads) get QK-norm (qwen3) and RoPE
// in place in qkv; key heads (heads <= h < heads+kv_heads) get QK-norm and RoPE and are written
// into the key cache; value heads are copied into the value cache.
//
// Bindings (group 0):
//   0 p    uniform RopeParams
//   1 s    uniform State
//   2 qkv  storage read_write array<f32>: (s.n, q_stride) rows [q (heads*head_dim) | k | v]
//   3 kc   storage read_write array<f32>: (context, kv_heads*head_dim) key cache
//   4 vc   storage read_write array<f32>: (context, kv_heads*head_dim) value cache
//   5 cs   storage read       array<f32>: (context, rope_dims) cos/sin pairs per position
//   6 qn   storage read       array<f32>: (head_dim) query-norm weights (read when qk_norm)
//   7 kn   storage read       array<f32>: (head_dim) key-norm weights (read when qk_norm)
// Indexing: workgroup (h, t); invocation l handles elements l, l+64, ... of the head.
// neox != 0 rotates pairs (i, i + rope_dims/2), else (2i, 2i+1).

struct RopeParams {
  heads: u32,
  kv_heads: u32,
  head_dim: u32,
  rope_dims: u32,
  neox: u32,
  qk_norm: u32,
  eps: f32,
  q_stride: u32,
}

@group(0) @binding(0) var<uniform> p: RopeParams;
@group(0) @binding(1) var<uniform> s: State;
@group(0) @binding(2) var<storage, read_write> qkv: array<f32>;
@group(0) @binding(3) var<storage, read_write> kc: array<f32>;
@group(0) @binding(4) var<storage, read_write> vc: array<f32>;
@group(0) @binding(5) var<storage, read> cs: array<f32>;
@group(0) @binding(6) var<storage, read> qn: array<f32>;
@group(0) @binding(7) var<storage, read> kn: array<f32>;

const WG: u32 = 64u;
var<workgroup> hv: array<f32, 1024>;
var<workgroup> red: array<f32, WG>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let h = wid.x;
  let t = wid.y;
  let hd = p.head_dim;
  let kvdim = p.kv_heads * hd;
  let pos = s.pos + t;
  let row = t * p.q_stride;
  if (h >= p.heads + p.kv_heads) {
    // value head: copy into the cache
    let vh = h - p.heads - p.kv_heads;
    for (var d = lid; d < hd; d += WG) {
      vc[pos * kvdim + vh * hd + d] = qkv[row + p.heads * hd + kvdim + vh * hd + d];
    }
    return;
  }
  let is_q = h < p.heads;
  let src = row + h * hd; // q heads, then k heads right after them
  for (var d = lid; d < hd; d += WG) {
    hv[d] = qkv[src + d];
  }
  if (p.qk_norm != 0u) {
    var ss = 0.0;
    for (var d = lid; d < hd; d += WG) {
      ss += hv[d] * hv[d];
    }
    red[lid] = ss;
    workgroupBarrier();
    for (var st = WG / 2u; st > 0u; st >>= 1u) {
      if (lid < st) {
        red[lid] += red[lid + st];
      }
      workgroupBarrier();
    }
    let scale = 1.0 / sqrt(red[0] / f32(hd) + p.eps);
    for (var d = lid; d < hd; d += WG) {
      var nw = kn[d];
      if (is_q) {
        nw = qn[d];
      }
      hv[d] = hv[d] * scale * nw;
    }
  }
  workgroupBarrier();
  var dst = pos * kvdim + (h - p.heads) * hd;
  let half = p.rope_dims / 2u;
  for (var d = lid; d < hd; d += WG) {
    var v = hv[d];
    if (d < p.rope_dims) {
      var i: u32;
      var partner: u32;
      var first: bool;
      if (p.neox != 0u) {
        i = d % half;
        first = d < half;
        partner = select(d - half, d + half, first);
      } else {
        i = d / 2u;
        first = (d & 1u) == 0u;
        partner = select(d - 1u, d + 1u, first);
      }
      let c = cs[pos * p.rope_dims + 2u * i];
      let sn = cs[pos * p.rope_dims + 2u * i + 1u];
      let o = hv[partner];
      if (first) {
        v = v * c - o * sn;
      } else {
        v = o * sn + v * c;
      }
    }
    if (is_q) {
      qkv[src + d] = v;
    } else {
      kc[dst + d] = v;
    }
  }
}
