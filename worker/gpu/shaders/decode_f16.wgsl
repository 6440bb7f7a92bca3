// decode_f16.wgsl: F16 weights, IEEE binary16 little-endian pairs per u32 word. A unit is 4
// values (8 bytes); rows start at multiples of 8 bytes because Cols % 4 == 0.
const UNIT_WBUF: u32 = 4u;

fn deq4_WBUF(rb: u32, u: u32, j: u32) -> vec4<f32> {
  let o = (rb + 8u * u) >> 2u;
  return vec4<f32>(unpack2x16float(WBUF[o]), unpack2x16float(WBUF[o + 1u]));
}
