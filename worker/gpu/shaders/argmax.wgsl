// argmax.wgsl: sampling on the GPU. With p.temp == 0, greedy: the index of the largest of p.n
// logits (the lowest index among equals, as the CPU sampler). With p.temp > 0, a sample of
// softmax(logits / temp) by the Gumbel-max trick: the argmax of logits/temp + G_i, G_i =
// -log(-log(U_i)) with U_i uniform in (0, 1) from a hash of (s.seed, i). With p.masked != 0 only
// the tokens whose bit is set in mask take part (bit i: mask[i / 32] >> (i % 32) & 1), which
// samples from the distribution renormalised over them. The token is written to res[0] (read
// back by the host) and to tok[0] (the next decode step's input token); 0xffffffff when no token
// takes part.
//
// Bindings (group 0):
//   0 p       uniform ArgmaxParams
//   1 logits  storage read       array<f32>: (p.n)
//   2 res     storage read_write array<u32>: (4) res[0] = token id
//   3 tok     storage read_write array<u32>: the token-id buffer; tok[0] = token id
//   4 s       uniform State: s.seed
//   5 mask    storage read       array<u32>: (ceil(p.n / 32)) allowed tokens, one bit each
// Indexing: one workgroup; invocation l scans l, l+256, ...; then a tree reduction.

struct ArgmaxParams {
  n: u32,
  temp: f32,
  masked: u32,
  _pad2: u32,
}

@group(0) @binding(0) var<uniform> p: ArgmaxParams;
@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read_write> res: array<u32>;
@group(0) @binding(3) var<storage, read_write> tok: array<u32>;
@group(0) @binding(4) var<uniform> s: State;
@group(0) @binding(5) var<storage, read> mask: array<u32>;

// pcg is the PCG-RXS-M-XS hash of v.
fn pcg(v: u32) -> u32 {
  let state = v * 747796405u + 2891336453u;
  let word = ((state >> ((state >> 28u) + 4u)) ^ state) * 277803737u;
  return (word >> 22u) ^ word;
}

// score is logit i, scaled and perturbed when sampling.
fn score(i: u32) -> f32 {
  if (p.temp <= 0.0) {
    return logits[i];
  }
  let u = (f32(pcg(s.seed ^ pcg(i)) >> 8u) + 0.5) / 16777216.0;
  return logits[i] / p.temp - log(-log(u));
}

const WG: u32 = 256u;
var<workgroup> bv: array<f32, WG>;
var<workgroup> bi: array<u32, WG>;

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) lid: u32) {
  var best = NEG_BIG;
  var idx = 0xffffffffu;
  for (var i = lid; i < p.n; i += WG) {
    if (p.masked != 0u && ((mask[i >> 5u] >> (i & 31u)) & 1u) == 0u) {
      continue;
    }
    let v = score(i);
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
