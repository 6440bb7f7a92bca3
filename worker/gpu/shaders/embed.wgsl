// embed.wgsl: token embeddings. For each token of the batch whose id falls in this part's rows
// [p.row0, p.row0 + p.rows), x[token] = that row of the embedding matrix, dequantized.
//
// Bindings (group 0):
//   0 p    uniform EmbedParams
//   1 s    uniform State: s.n tokens
//   2 w    storage read       array<u32>: the part's rows, row r at byte p.row_bytes*r
//   3 tok  storage read       array<u32>: (s.n) token ids
//   4 x    storage read_write array<vec4<f32>>: (s.n, p.cols) embeddings
// Indexing: workgroup (i, t), invocation l handles the vec4 c4 = 64*i + l of token t.

struct EmbedParams {
  rows: u32,
  cols: u32,
  row_bytes: u32,
  row0: u32,
}

@group(0) @binding(0) var<uniform> p: EmbedParams;
@group(0) @binding(1) var<uniform> s: State;
@group(0) @binding(2) var<storage, read> w: array<u32>;
@group(0) @binding(3) var<storage, read> tok: array<u32>;
@group(0) @binding(4) var<storage, read_write> x: array<vec4<f32>>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let t = wid.y;
  let c4 = wid.x * 64u + lid;
  let cols4 = p.cols / 4u;
  if (t >= s.n || c4 >= cols4) {
    return;
  }
  let id = tok[t];
  if (id < p.row0 || id >= p.row0 + p.rows) {
    return;
  }
  let per = UNIT_w / 4u;
  x[t * cols4 + c4] = deq4_w((id - p.row0) * p.row_bytes, c4 / per, c4 % per);
}
