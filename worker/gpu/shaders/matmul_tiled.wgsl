// matmul_tiled.wgsl: Y = W X for one part of a weight matrix and a batch of up to 64 tokens
// (prefill), W in its stored GGML type, with matmul.wgsl's bindings, parameters and fusions
// (.Norm, .Bias, .Acc, .GLU; not last_only). Tiles of TR=64 rows x TT=64 tokens per workgroup:
// the columns are walked in chunks of KC=16; each chunk's weights are dequantized once into
// workgroup memory (one vec4 per invocation) next to the tokens' activations, and each
// invocation accumulates a 4x4 block of outputs from there.
//
// Bindings (group 0): as matmul.wgsl (0 p, 1 s, 2 w, 3 x, 4 y, 5 g (Norm), 6 b (Bias), 7 w2 (GLU)).
// Indexing: workgroup (i, k) computes rows 64i .. 64i+63 for tokens 64k .. 64k+63; invocation l
// owns rows 64i + 4(l % 16) .. +3 and tokens 64k + 4(l / 16) .. +3. Loads: invocation l
// dequantizes vec4 (l % 4) of the chunk for row l / 4, and loads the same of token l / 4.

struct MatParams {
  rows: u32,
  cols: u32,
  row_bytes: u32,
  row0: u32,
  y_stride: u32,
  last_only: u32,
  eps: f32,
  _pad: u32,
}

@group(0) @binding(0) var<uniform> p: MatParams;
@group(0) @binding(1) var<uniform> s: State;
@group(0) @binding(2) var<storage, read> w: array<u32>;
@group(0) @binding(3) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;
{{- if .Norm}}
@group(0) @binding(5) var<storage, read> g: array<f32>;
{{- end}}
{{- if .Bias}}
@group(0) @binding(6) var<storage, read> b: array<f32>;
{{- end}}
{{- if .GLU}}
@group(0) @binding(7) var<storage, read> w2: array<u32>;
{{- end}}

const WG: u32 = 256u;
const TR: u32 = 64u;
const TT: u32 = 64u;
const KC4: u32 = 4u; // vec4s per chunk (16 columns)

var<workgroup> wt: array<vec4<f32>, 256>;  // [row][k4]: TR x KC4
{{- if .GLU}}
var<workgroup> wt2: array<vec4<f32>, 256>;
{{- end}}
var<workgroup> xt: array<vec4<f32>, 256>;  // [token][k4]: TT x KC4
{{- if .Norm}}
var<workgroup> rinv: array<f32, 64>;
var<workgroup> red: array<f32, 256>;
{{- end}}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let nt = s.n;
  let cols4 = p.cols / 4u;
  let r0 = wid.x * TR;
  let t0 = wid.y * TT;
  let per = UNIT_w / 4u;
{{- if .Norm}}
  // RMSNorm scales of the tile's tokens: 4 invocations per token
  {
    let tk = lid / 4u;
    var ss = 0.0;
    if (t0 + tk < nt) {
      let xo = (t0 + tk) * cols4;
      for (var c = lid % 4u; c < cols4; c += 4u) {
        let v = x[xo + c];
        ss += dot(v, v);
      }
    }
    red[lid] = ss;
    workgroupBarrier();
    if (lid < 64u) {
      let sum = red[4u * lid] + red[4u * lid + 1u] + red[4u * lid + 2u] + red[4u * lid + 3u];
      rinv[lid] = 1.0 / sqrt(sum / f32(p.cols) + p.eps);
    }
    workgroupBarrier();
  }
{{- end}}
  // loader roles
  let lr = lid / 4u;   // row (weights) and token (activations) this invocation loads
  let lk = lid % 4u;   // vec4 within the chunk
  let wr = r0 + lr;
  let xt_tok = min(t0 + lr, nt - 1u);
  // compute roles
  let cr = 4u * (lid % 16u);  // first of 4 rows
  let ct = 4u * (lid / 16u);  // first of 4 tokens
  var acc: array<vec4<f32>, 4>;   // acc[i][j]: row cr+i, token ct+j
{{- if .GLU}}
  var acc2: array<vec4<f32>, 4>;
{{- end}}
  for (var k0 = 0u; k0 < cols4; k0 += KC4) {
    let c4 = k0 + lk;
    var wv = vec4<f32>(0.0);
{{- if .GLU}}
    var wv2 = vec4<f32>(0.0);
{{- end}}
    if (wr < p.rows && c4 < cols4) {
      wv = deq4_w(wr * p.row_bytes, c4 / per, c4 % per);
{{- if .GLU}}
      wv2 = deq4_w2(wr * p.row_bytes, c4 / per, c4 % per);
{{- end}}
    }
    wt[lr * KC4 + lk] = wv;
{{- if .GLU}}
    wt2[lr * KC4 + lk] = wv2;
{{- end}}
    var xv = vec4<f32>(0.0);
    if (c4 < cols4) {
      xv = x[xt_tok * cols4 + c4];
{{- if .Norm}}
      xv = xv * rinv[lr] * vec4<f32>(g[4u * c4], g[4u * c4 + 1u], g[4u * c4 + 2u], g[4u * c4 + 3u]);
{{- end}}
    }
    xt[lr * KC4 + lk] = xv;
    workgroupBarrier();
    for (var k = 0u; k < KC4; k++) {
      let x0 = xt[(ct + 0u) * KC4 + k];
      let x1 = xt[(ct + 1u) * KC4 + k];
      let x2 = xt[(ct + 2u) * KC4 + k];
      let x3 = xt[(ct + 3u) * KC4 + k];
      for (var i = 0u; i < 4u; i++) {
        let wk = wt[(cr + i) * KC4 + k];
        acc[i] += vec4<f32>(dot(wk, x0), dot(wk, x1), dot(wk, x2), dot(wk, x3));
{{- if .GLU}}
        let wk2 = wt2[(cr + i) * KC4 + k];
        acc2[i] += vec4<f32>(dot(wk2, x0), dot(wk2, x1), dot(wk2, x2), dot(wk2, x3));
{{- end}}
      }
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < 4u; i++) {
    let r = r0 + cr + i;
    if (r >= p.rows) {
      continue;
    }
    for (var j = 0u; j < 4u; j++) {
      let t = t0 + ct + j;
      if (t >= nt) {
        continue;
      }
      var v = acc[i][j];
{{- if .Bias}}
      v += b[p.row0 + r];
{{- end}}
{{- if .GLU}}
      let up = acc2[i][j];
      v = v / (1.0 + exp(-v)) * up;
{{- end}}
      let o = t * p.y_stride + p.row0 + r;
{{- if .Acc}}
      y[o] += v;
{{- else}}
      y[o] = v;
{{- end}}
    }
  }
}
