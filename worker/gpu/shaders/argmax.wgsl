// argmax.wgsl: sampling on the GPU, in two dispatches: {{if .Final}}this one (final) reduces the
// candidates of the first{{else}}this one (candidates) leaves each workgroup's best token in
// part{{end}}. With p.temp == 0, greedy: the index of the largest of p.n logits (the lowest index
// among equals, as the CPU sampler). With p.temp > 0, a sample of softmax(logits / temp) by the
// Gumbel-max trick: the argmax of logits/temp + G_i, G_i = -log(-log(U_i)) with U_i uniform in
// (0, 1) from a hash of (s.seed, i). With p.masked != 0 only the tokens whose bit is set in mask
// take part (bit i: mask[i / 32] >> (i % 32) & 1), which samples from the distribution
// renormalised over them. The token is written to res[0] (read back by the host) and to tok[0]
// (the next decode step's input token); 0xffffffff when no token takes part.
//
// Bindings (group 0), candidates:
//   0 p       uniform ArgmaxParams
//   1 logits  storage read       array<f32>: (p.n)
//   2 part    storage read_write array<u32>: (2 * workgroups) score bits and token of each
//   3 s       uniform State: s.seed
//   4 mask    storage read       array<u32>: (ceil(p.n / 32)) allowed tokens, one bit each
// final:
//   0 p       uniform ArgmaxParams
//   1 part    storage read       array<u32>: as above, p.parts of them
//   2 res     storage read_write array<u32>: (4) res[0] = token id
//   3 tok     storage read_write array<u32>: the token-id buffer; tok[0] = token id
// Indexing: candidates: invocation l of workgroup w scans w*256 + l, then every 256*workgroups
// further; final: one workgroup, invocation l scans candidates l, l+256, ...; each then a tree
// reduction in workgroup memory.

struct ArgmaxParams {
  n: u32,
  temp: f32,
  masked: u32,
  parts: u32,
}

@group(0) @binding(0) var<uniform> p: ArgmaxParams;
{{- if .Final}}
@group(0) @binding(1) var<storage, read> part: array<u32>;
@group(0) @binding(2) var<storage, read_write> res: array<u32>;
@group(0) @binding(3) var<storage, read_write> tok: array<u32>;
{{- else}}
@group(0) @binding(1) var<storage, read> logits: array<f32>;
@group(0) @binding(2) var<storage, read_write> part: array<u32>;
@group(0) @binding(3) var<uniform> s: State;
@group(0) @binding(4) var<storage, read> mask: array<u32>;

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
{{- end}}

const WG: u32 = 256u;
var<workgroup> bv: array<f32, WG>;
var<workgroup> bi: array<u32, WG>;

// better says whether token oi with score ov beats token bi_ with score bv_ (no token:
// 0xffffffff): a higher score, or the lower index among equals.
fn better(ov: f32, oi: u32, bv_: f32, bi_: u32) -> bool {
  return oi != 0xffffffffu && (bi_ == 0xffffffffu || ov > bv_ || (ov == bv_ && oi < bi_));
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  var best = NEG_BIG;
  var idx = 0xffffffffu;
{{- if .Final}}
  for (var j = lid; j < p.parts; j += WG) {
    let v = bitcast<f32>(part[2u * j]);
    let i = part[2u * j + 1u];
    if (better(v, i, best, idx)) {
      best = v;
      idx = i;
    }
  }
{{- else}}
  for (var i = wid.x * WG + lid; i < p.n; i += WG * nwg.x) {
    if (p.masked != 0u && ((mask[i >> 5u] >> (i & 31u)) & 1u) == 0u) {
      continue;
    }
    let v = score(i);
    if (better(v, i, best, idx)) {
      best = v;
      idx = i;
    }
  }
{{- end}}
  bv[lid] = best;
  bi[lid] = idx;
  workgroupBarrier();
  for (var st = WG / 2u; st > 0u; st >>= 1u) {
    if (lid < st && better(bv[lid + st], bi[lid + st], bv[lid], bi[lid])) {
      bv[lid] = bv[lid + st];
      bi[lid] = bi[lid + st];
    }
    workgroupBarrier();
  }
  if (lid == 0u) {
{{- if .Final}}
    res[0] = bi[0];
    tok[0] = bi[0];
{{- else}}
    part[2u * wid.x] = bitcast<u32>(bv[0]);
    part[2u * wid.x + 1u] = bi[0];
{{- end}}
  }
}
