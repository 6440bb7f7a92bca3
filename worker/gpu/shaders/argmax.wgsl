// argmax.wgsl: greedy sampling on the GPU. The index of the largest of p.n logits (the lowest
// index among equals, as the CPU sampler) is written to res[0] (read back by the host) and to
// tok[0] (the next decode step's input token).
//
// Bindings (group 0):
//   0 p       uniform ArgmaxParams
//   1 logits  storage read       array<f32>: (p.n)
//   2 res     storage read_write array<u32>: (4) res[0] = token id
//   3 tok     storage read_write array<u32>: the token-id buffer; tok[0] = token id
// Indexing: one workgroup; invocation l scans l, l+256, ...; then a tree reduction.

struct ArgmaxParams {
  n: u32,
  _pad0: u32,
  _pad1: u32,
  _pad2: u32,
}

@group(0) @binding(0) var<uniform> p: ArgmaxParams;
@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read_write> res: array<u32>;
@group(0) @binding(3) var<storage, read_write> tok: array<u32>;

const WG: u32 = 256u;
var<workgroup> bv: array<f32, WG>;
var<workgroup> bi: array<u32, WG>;

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) lid: u32) {
  var best = NEG_BIG;
  var idx = 0xffffffffu;
  for (var i = lid; i < p.n; i += WG) {
    let v = logits[i];
    if (v > best || idx == 0xffffffffu) {
      best = v;
      idx = i;
    }
  }
  bv[lid] = best;
  bi[lid] = idx;
  workgroupBarrier();
  for (var st = WG / 2u; st > 0u; st >>= 1u) {
    if (lid < st) {
      let ov = bv[lid + st];
      let oi = bi[lid + st];
      if (oi != 0xffffffffu && (bi[lid] == 0xffffffffu || ov > bv[lid] || (ov == bv[lid] && oi < bi[lid]))) {
        bv[lid] = ov;
        bi[lid] = oi;
      }
    }
    workgroupBarrier();
  }
  if (lid == 0u) {
    res[0] = bi[0];
    tok[0] = bi[0];
  }
}
