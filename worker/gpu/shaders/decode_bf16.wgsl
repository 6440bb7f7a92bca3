// decode_bf16.wgsl: BF16 weights (the top halves of float32), two per u32 word. A unit is 4
// values (8 bytes).
const UNIT_WBUF: u32 = 4u;

fn bf2_WBUF(v: u32) -> vec2<f32> {
  return vec2<f32>(bitcast<f32>(v << 16u), bitcast<f32>(v & 0xffff0000u));
}

fn deq4_WBUF(rb: u32, u: u32, j: u32) -> vec4<f32> {
  let o = (rb + 8u * u) >> 2u;
  return vec4<f32>(bf2_WBUF(WBUF[o]), bf2_WBUF(WBUF[o + 1u]));
}
