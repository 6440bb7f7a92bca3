// matmul.wgsl: y = W x for one part (a range of rows) of a weight matrix W kept in its stored
// GGML type, for the batch's tokens. A Go text/template: .NB tokens per workgroup, and the
// optional fusions .Norm (RMSNorm of x on load), .Bias, .Acc (y += W x, the residual add) and
// .GLU (y = silu(W x) * (W2 x), SwiGLU's gate and up projections).
//
// Bindings (group 0):
//   0 p   uniform MatParams
//   1 s   uniform State: s.n tokens in the batch
//   2 w   storage read       array<u32>: p.rows rows of p.cols values, row r at byte p.row_bytes*r
//   3 x   storage read       array<vec4<f32>>: (s.n, p.cols) activations, row-major
//   4 y   storage read_write array<f32>: (s.n, p.y_stride); row r of the part is column p.row0 + r
//   5 g   storage read       array<f32> (Norm): RMSNorm weights (p.cols)
//   6 b   storage read       array<f32> (Bias): bias of column p.row0 + r
//   7 w2  storage read       array<u32> (GLU): the up projection's rows, laid out as w
// With p.last_only != 0 only the batch's last token is computed, into y row 0 (the classifier).
//
// Indexing: workgroup (i, k) computes rows ROWS*i .. ROWS*i+ROWS-1 of the part for tokens
// NB*k .. NB*k+NB-1. LANES invocations share a row; lane l takes units l, l+LANES, ... of UNIT
// values each (decode_*.wgsl), dots them with every token's activations, and the lanes' partial
// sums are added in workgroup memory.

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

const WG: u32 = 128u;
const LANES: u32 = 32u;
const ROWS: u32 = WG / LANES;
const NB: u32 = {{.NB}}u;

var<workgroup> red: array<f32, {{.RedSize}}>;
{{- if .Norm}}
var<workgroup> rinv: array<f32, NB>;
{{- end}}

// xrow is the activation row of the t-th token computed.
fn xrow(t: u32) -> u32 {
  if (p.last_only != 0u) {
    return s.n - 1u;
  }
  return t;
}

@compute @workgroup_size(128)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  var nt = s.n;
  if (p.last_only != 0u) {
    nt = 1u;
  }
  let t0 = wid.y * NB;
  let lane = lid % LANES;
  let r = wid.x * ROWS + lid / LANES;
  let cols4 = p.cols / 4u;
{{- if .Norm}}
  // RMSNorm scale of each token: 1/sqrt(mean(x^2) + eps), all tokens reduced together (one
  // barrier per step: Mesa lavapipe 22.3 corrupted memory on large grids of workgroups that
  // each ran a reduction per token, ~70 barriers)
  for (var t = 0u; t < NB; t++) {
    var ss = 0.0;
    if (t0 + t < nt) {
      let xo = xrow(t0 + t) * cols4;
      for (var c = lid; c < cols4; c += WG) {
        let v = x[xo + c];
        ss += dot(v, v);
      }
    }
    red[t * WG + lid] = ss;
  }
  workgroupBarrier();
  for (var st = WG / 2u; st > 0u; st >>= 1u) {
    if (lid < st) {
      for (var t = 0u; t < NB; t++) {
        red[t * WG + lid] += red[t * WG + lid + st];
      }
    }
    workgroupBarrier();
  }
  if (lid < NB) {
    rinv[lid] = 1.0 / sqrt(red[lid * WG] / f32(p.cols) + p.eps);
  }
  workgroupBarrier();
{{- end}}

  // one accumulator per token, unrolled by the template so they stay in registers; tokens past
  // the batch read its last row and are not written
  let last_t = nt - 1u;
{{- range .Toks}}
  let xr{{.}} = xrow(min(t0 + {{.}}u, last_t)) * cols4;
  var acc{{.}} = 0.0;
{{- if $.GLU}}
  var up{{.}} = 0.0;
{{- end}}
{{- end}}
  if (r < p.rows) {
    let rb = r * p.row_bytes;
    let units = p.cols / UNIT_w;
    for (var u = lane; u < units; u += LANES) {
      for (var j = 0u; j < UNIT_w / 4u; j++) {
        let wv = deq4_w(rb, u, j);
{{- if .GLU}}
        let wv2 = deq4_w2(rb, u, j);
{{- end}}
        let c4 = u * (UNIT_w / 4u) + j;
{{- if .Norm}}
        let gv = vec4<f32>(g[4u * c4], g[4u * c4 + 1u], g[4u * c4 + 2u], g[4u * c4 + 3u]);
{{- end}}
{{- range .Toks}}
        {
          var xv = x[xr{{.}} + c4];
{{- if $.Norm}}
          xv = xv * rinv[{{.}}] * gv;
{{- end}}
          acc{{.}} += dot(wv, xv);
{{- if $.GLU}}
          up{{.}} += dot(wv2, xv);
{{- end}}
        }
{{- end}}
      }
    }
  }

  // add the lanes' partial sums: red[(t*WG + lid)] (and the up projection's at + NB*WG)
{{- range .Toks}}
  red[{{.}}u * WG + lid] = acc{{.}};
{{- if $.GLU}}
  red[(NB + {{.}}u) * WG + lid] = up{{.}};
{{- end}}
{{- end}}
  workgroupBarrier();
  for (var st = LANES / 2u; st > 0u; st >>= 1u) {
    if (lane < st) {
      for (var t = 0u; t < {{if .GLU}}2u * {{end}}NB; t++) {
        red[t * WG + lid] += red[t * WG + lid + st];
      }
    }
    workgroupBarrier();
  }
  if (lane == 0u && r < p.rows) {
    for (var t = 0u; t < NB; t++) {
      if (t0 + t < nt) {
        let o = (t0 + t) * p.y_stride + p.row0 + r;
        var v = red[t * WG + lid];
{{- if .Bias}}
        v += b[p.row0 + r];
{{- end}}
{{- if .GLU}}
        let up = red[(NB + t) * WG + lid];
        v = v / (1.0 + exp(-v)) * up;
{{- end}}
{{- if .Acc}}
        y[o] += v;
{{- else}}
        y[o] = v;
{{- end}}
      }
    }
  }
}
