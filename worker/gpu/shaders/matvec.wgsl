// matvec.wgsl: y = W x for one part of a weight matrix and ONE token (the decode step), W in its
// stored GGML type. A Go text/template with matmul.wgsl's fusions (.Norm, .Bias, .Acc, .GLU) and
// .RPW, the row groups per workgroup (larger for large matrices, so that the RMSNorm prologue
// is computed by fewer workgroups), and .Lanes, the invocations sharing a row (more for longer
// rows, so that each takes about 4 vec4s, two per iteration).
//
// Bindings (group 0): as matmul.wgsl
//   0 p   uniform MatParams
//   1 s   uniform State: the token is row s.n - 1 of x when p.last_only != 0, else row 0
//   2 w   storage read       array<u32>: p.rows rows, row r at byte p.row_bytes*r
//   3 x   storage read       array<vec4<f32>>: activations, row-major, p.cols per row
//   4 y   storage read_write array<f32>: row r of the part is y[p.row0 + r]
//   5 g   storage read       array<vec4<f32>> (Norm): RMSNorm weights (p.cols)
//   6 b   storage read       array<f32> (Bias): bias of column p.row0 + r
//   7 w2  storage read       array<u32> (GLU): the up projection's rows, laid out as w
// Indexing: workgroup i computes rows (RPW*i + k)*ROWS + l/LANES for k < RPW. The LANES
// invocations of a row take its vec4s l, l+LANES, ... (consecutive invocations read consecutive
// words of a block), two per iteration, and their partial sums are added in workgroup memory
// once, at the end.

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
@group(0) @binding(5) var<storage, read> g: array<vec4<f32>>;
{{- end}}
{{- if .Bias}}
@group(0) @binding(6) var<storage, read> b: array<f32>;
{{- end}}
{{- if .GLU}}
@group(0) @binding(7) var<storage, read> w2: array<u32>;
{{- end}}

const WG: u32 = 256u;
const LANES: u32 = {{.Lanes}}u;
const ROWS: u32 = WG / LANES;
const RPW: u32 = {{.RPW}}u;
const SETS: u32 = {{if .GLU}}2u * {{end}}RPW;

var<workgroup> red: array<f32, {{.RedSize}}>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let lane = lid % LANES;
  let cols4 = p.cols / 4u;
  var xo = 0u;
  if (p.last_only != 0u) {
    xo = (s.n - 1u) * cols4;
  }
  let per = UNIT_w / 4u;
{{- if .Norm}}
  // RMSNorm scale of the token: 1/sqrt(mean(x^2) + eps)
  var ss = 0.0;
  for (var c = lid; c < cols4; c += WG) {
    let v = x[xo + c];
    ss += dot(v, v);
  }
  red[lid] = ss;
  workgroupBarrier();
  for (var st = WG / 2u; st > 0u; st >>= 1u) {
    if (lid < st) {
      red[lid] += red[lid + st];
    }
    workgroupBarrier();
  }
  let rinv = 1.0 / sqrt(red[0] / f32(p.cols) + p.eps);
  workgroupBarrier();
{{- end}}
  for (var k = 0u; k < RPW; k++) {
    let r = (wid.x * RPW + k) * ROWS + lid / LANES;
    var acc = 0.0;
{{- if .GLU}}
    var acc2 = 0.0;
{{- end}}
    if (r < p.rows) {
      let rb = r * p.row_bytes;
      // two vec4s per iteration, into separate sums, so that twice the loads are in flight
      var accB = 0.0;
{{- if .GLU}}
      var acc2B = 0.0;
{{- end}}
      var c4 = lane;
      for (; c4 + LANES < cols4; c4 += 2u * LANES) {
        let cB = c4 + LANES;
        var xv = x[xo + c4];
        var xvB = x[xo + cB];
{{- if .Norm}}
        xv = xv * rinv * g[c4];
        xvB = xvB * rinv * g[cB];
{{- end}}
        acc += dot(deq4_w(rb, c4 / per, c4 % per), xv);
        accB += dot(deq4_w(rb, cB / per, cB % per), xvB);
{{- if .GLU}}
        acc2 += dot(deq4_w2(rb, c4 / per, c4 % per), xv);
        acc2B += dot(deq4_w2(rb, cB / per, cB % per), xvB);
{{- end}}
      }
      if (c4 < cols4) {
        var xv = x[xo + c4];
{{- if .Norm}}
        xv = xv * rinv * g[c4];
{{- end}}
        acc += dot(deq4_w(rb, c4 / per, c4 % per), xv);
{{- if .GLU}}
        acc2 += dot(deq4_w2(rb, c4 / per, c4 % per), xv);
{{- end}}
      }
      acc += accB;
{{- if .GLU}}
      acc2 += acc2B;
{{- end}}
    }
    red[k * WG + lid] = acc;
{{- if .GLU}}
    red[(RPW + k) * WG + lid] = acc2;
{{- end}}
  }
  workgroupBarrier();
  for (var st = LANES / 2u; st > 0u; st >>= 1u) {
    if (lane < st) {
      for (var k = 0u; k < SETS; k++) {
        red[k * WG + lid] += red[k * WG + lid + st];
      }
    }
    workgroupBarrier();
  }
  if (lane == 0u) {
    for (var k = 0u; k < RPW; k++) {
      let r = (wid.x * RPW + k) * ROWS + lid / LANES;
      if (r < p.rows) {
        var v = red[k * WG + lid];
{{- if .Bias}}
        v += b[p.row0 + r];
{{- end}}
{{- if .GLU}}
        let up = red[(RPW + k) * WG + lid];
        v = v / (1.0 + exp(-v)) * up;
{{- end}}
{{- if .Acc}}
        y[p.row0 + r] += v;
{{- else}}
        y[p.row0 + r] = v;
{{- end}}
      }
    }
  }
}
