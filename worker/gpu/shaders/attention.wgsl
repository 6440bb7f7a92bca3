// attention.wgsl: causal grouped-query attention of the batch's queries over the KV cache:
// out = softmax(q k^T * scale) v over positions 0 .. s.pos + t, with the softmax taken in blocks
// of BLOCK positions (online rescaling between blocks). A Go text/template: with .Fused (decode,
// one token) the kernel also does rope.wgsl's work for its token first: QK-norm and RoPE of its
// query head, and of its KV head, which it writes into the caches with the value head (every
// query head of a group writes the same values).
//
// Bindings (group 0):
//   0 p    uniform AttnParams
//   1 s    uniform State
//   2 qkv  storage read array<f32>: (s.n, q_stride) rows [q | k | v]
//   3 kc   storage (read, or read_write when Fused) array<vec4<f32>>: (context, kv_heads*head_dim)
//   4 vc   storage (read, or read_write when Fused) array<vec4<f32>>: (context, kv_heads*head_dim)
//   5 out  storage read_write array<f32>: (s.n, heads*head_dim)
//   6 cs   storage read array<f32> (Fused): (context, rope_dims) cos/sin pairs per position
//   7 nw   storage read array<f32> (Fused): (2, head_dim) query- then key-norm weights (qk_norm)
// Indexing: workgroup (h, t). Query head h reads KV head h / (heads/kv_heads). Invocation l
// scores positions l, l+WG, ... of a block; for the weighted sum of values, invocation l handles
// elements 4(l % (head_dim/4)) .. +3 for the positions congruent to l / (head_dim/4) modulo
// WG / (head_dim/4), and the groups' partial sums are added at the end. head_dim <= 256 and
// head_dim % 4 == 0.

struct AttnParams {
  heads: u32,
  kv_heads: u32,
  head_dim: u32,
  q_stride: u32,
  scale: f32,
  rope_dims: u32,
  neox: u32,
  qk_norm: u32,
  eps: f32,
  _pad0: u32,
  _pad1: u32,
  _pad2: u32,
}

@group(0) @binding(0) var<uniform> p: AttnParams;
@group(0) @binding(1) var<uniform> s: State;
@group(0) @binding(2) var<storage, read> qkv: array<f32>;
{{- if .Fused}}
@group(0) @binding(3) var<storage, read_write> kc: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> vc: array<vec4<f32>>;
{{- else}}
@group(0) @binding(3) var<storage, read> kc: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> vc: array<vec4<f32>>;
{{- end}}
@group(0) @binding(5) var<storage, read_write> out: array<f32>;
{{- if .Fused}}
@group(0) @binding(6) var<storage, read> cs: array<f32>;
@group(0) @binding(7) var<storage, read> nw: array<f32>;
{{- end}}

const WG: u32 = 256u;
const BLOCK: u32 = 2048u;
var<workgroup> qs: array<f32, 256>;
var<workgroup> sc: array<f32, BLOCK>;
var<workgroup> red: array<f32, WG>;
var<workgroup> red16: array<f32, 16>;
var<workgroup> part: array<vec4<f32>, WG>;
// workgroup memory: 8 KiB scores + 4 KiB partial sums + 3-4 KiB more, within WebGPU's default 16 KiB

// max_wg returns the maximum of v over the workgroup in two barrier steps (all invocations call it).
fn max_wg(lid: u32, v: f32) -> f32 {
  red[lid] = v;
  workgroupBarrier();
  if (lid < 16u) {
    var m = red[16u * lid];
    for (var i = 1u; i < 16u; i++) {
      m = max(m, red[16u * lid + i]);
    }
    red16[lid] = m;
  }
  workgroupBarrier();
  var m = red16[0];
  for (var i = 1u; i < 16u; i++) {
    m = max(m, red16[i]);
  }
  workgroupBarrier();
  return m;
}
{{- if .Fused}}
var<workgroup> ks: array<f32, 256>;

// sum_wg returns the sum of v over the workgroup (all invocations must call it).
fn sum_wg(lid: u32, v: f32) -> f32 {
  red[lid] = v;
  workgroupBarrier();
  for (var st = WG / 2u; st > 0u; st >>= 1u) {
    if (lid < st) {
      red[lid] += red[lid + st];
    }
    workgroupBarrier();
  }
  let r = red[0];
  workgroupBarrier();
  return r;
}

// rotate returns element d of the head held in buf (already normed), rotated for position pos.
fn rotate(d: u32, pos: u32, v: f32, partner: f32) -> f32 {
  if (d >= p.rope_dims) {
    return v;
  }
  let half = p.rope_dims / 2u;
  var i: u32;
  var first: bool;
  if (p.neox != 0u) {
    i = d % half;
    first = d < half;
  } else {
    i = d / 2u;
    first = (d & 1u) == 0u;
  }
  let c = cs[pos * p.rope_dims + 2u * i];
  let sn = cs[pos * p.rope_dims + 2u * i + 1u];
  if (first) {
    return v * c - partner * sn;
  }
  return partner * sn + v * c;
}

fn partner_of(d: u32) -> u32 {
  if (p.neox != 0u) {
    let half = p.rope_dims / 2u;
    return select(d - half, d + half, d < half);
  }
  return d ^ 1u;
}
{{- end}}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let h = wid.x;
  let t = wid.y;
  let hd = p.head_dim;
  let kvdim = p.kv_heads * hd;
  let last = s.pos + t; // attends to positions 0..last
  let g = h / (p.heads / p.kv_heads);
  let kvo = g * hd;
{{- if .Fused}}
  // QK-norm and RoPE of this token's query head and of its KV head; K and V into the caches
  let row = t * p.q_stride;
  let qd = p.heads * hd;
  var qv = 0.0;
  var kv = 0.0;
  if (lid < hd) {
    qv = qkv[row + h * hd + lid];
    kv = qkv[row + qd + kvo + lid];
  }
  if (p.qk_norm != 0u) {
    let qss = sum_wg(lid, qv * qv);
    let kss = sum_wg(lid, kv * kv);
    if (lid < hd) {
      qv = qv / sqrt(qss / f32(hd) + p.eps) * nw[lid];
      kv = kv / sqrt(kss / f32(hd) + p.eps) * nw[hd + lid];
    }
  }
  if (lid < hd) {
    qs[lid] = qv;
    ks[lid] = kv;
  }
  workgroupBarrier();
  var q2 = 0.0;
  var k2 = 0.0;
  if (lid < hd) {
    let pt = partner_of(lid);
    q2 = rotate(lid, last, qs[lid], qs[pt]);
    k2 = rotate(lid, last, ks[lid], ks[pt]);
  }
  workgroupBarrier();
  if (lid < hd) {
    qs[lid] = q2;
    ks[lid] = k2;
  }
  workgroupBarrier();
  if (lid < hd / 4u) {
    let d = 4u * lid;
    let o4 = (last * kvdim + kvo + d) / 4u;
    kc[o4] = vec4<f32>(ks[d], ks[d + 1u], ks[d + 2u], ks[d + 3u]);
    let vo = row + qd + kvdim + kvo + d;
    vc[o4] = vec4<f32>(qkv[vo], qkv[vo + 1u], qkv[vo + 2u], qkv[vo + 3u]);
  }
  // this workgroup's cache writes must be visible to its own invocations below
  storageBarrier();
  workgroupBarrier();
{{- else}}
  for (var d = lid; d < hd; d += WG) {
    qs[d] = qkv[t * p.q_stride + h * hd + d];
  }
  workgroupBarrier();
{{- end}}

  let hd4 = hd / 4u;
  let groups = WG / hd4;      // partial sums of the values
  let gi = lid / hd4;         // this invocation's group (groups and beyond: idle)
  let di = 4u * (lid % hd4);  // its first element
  var o = vec4<f32>(0.0);
  var m = NEG_BIG;
  var l = 0.0;
  for (var b0 = 0u; b0 <= last; b0 += BLOCK) {
    let cnt = min(BLOCK, last + 1u - b0);
    // scores of the block, and their maximum
    var mx = NEG_BIG;
    for (var i = lid; i < cnt; i += WG) {
      let ko = ((b0 + i) * kvdim + kvo) / 4u;
      var a = 0.0;
      for (var d = 0u; d < hd4; d++) {
        a += dot(vec4<f32>(qs[4u * d], qs[4u * d + 1u], qs[4u * d + 2u], qs[4u * d + 3u]), kc[ko + d]);
      }
      a *= p.scale;
      sc[i] = a;
      mx = max(mx, a);
    }
    let mn = max(m, max_wg(lid, mx));
    let f = exp(m - mn);
    // exponentials; each invocation keeps its own sum (added up once, at the end)
    var sum = 0.0;
    for (var i = lid; i < cnt; i += WG) {
      let e = exp(sc[i] - mn);
      sc[i] = e;
      sum += e;
    }
    l = l * f + sum;
    workgroupBarrier();
    // weighted values: group gi takes positions gi, gi+groups, ...
    var acc = vec4<f32>(0.0);
    if (gi < groups) {
      // four positions per iteration, so that four loads are in flight
      let vb = (b0 * kvdim + kvo + di) / 4u;
      let vs = kvdim / 4u;
      var a1 = vec4<f32>(0.0);
      var a2 = vec4<f32>(0.0);
      var a3 = vec4<f32>(0.0);
      var i = gi;
      for (; i + 3u * groups < cnt; i += 4u * groups) {
        acc += sc[i] * vc[vb + i * vs];
        a1 += sc[i + groups] * vc[vb + (i + groups) * vs];
        a2 += sc[i + 2u * groups] * vc[vb + (i + 2u * groups) * vs];
        a3 += sc[i + 3u * groups] * vc[vb + (i + 3u * groups) * vs];
      }
      for (; i < cnt; i += groups) {
        acc += sc[i] * vc[vb + i * vs];
      }
      acc += (a1 + a2) + a3;
    }
    o = o * f + acc;
    m = mn;
    workgroupBarrier();
  }
  // add the groups' partial sums, and the invocations' exponential sums
  part[lid] = o;
  red[lid] = l;
  workgroupBarrier();
  if (lid < 16u) {
    var t16 = 0.0;
    for (var i = 0u; i < 16u; i++) {
      t16 += red[16u * lid + i];
    }
    red16[lid] = t16;
  }
  workgroupBarrier();
  l = 0.0;
  for (var i = 0u; i < 16u; i++) {
    l += red16[i];
  }
  if (lid < hd4) {
    var v = vec4<f32>(0.0);
    for (var k = 0u; k < groups; k++) {
      v += part[k * hd4 + lid];
    }
    let ob = t * p.heads * hd + h * hd + 4u * lid;
    out[ob] = v.x / l;
    out[ob + 1u] = v.y / l;
    out[ob + 2u] = v.z / l;
    out[ob + 3u] = v.w / l;
  }
}
