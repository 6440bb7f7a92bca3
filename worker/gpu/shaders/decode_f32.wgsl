// decode_f32.wgsl: F32 weights. A unit is 4 values (16 bytes); rows start at multiples of 16
// bytes because Cols % 4 == 0. WBUF is replaced by the binding's name.
const UNIT_WBUF: u32 = 4u;

fn deq4_WBUF(rb: u32, u: u32, j: u32) -> vec4<f32> {
  let o = (rb + 16u * u) >> 2u;
  return vec4<f32>(bitcast<f32>(WBUF[o]), bitcast<f32>(WBUF[o + 1u]), bitcast<f32>(WBUF[o + 2u]), bitcast<f32>(WBUF[o + 3u]));
}
