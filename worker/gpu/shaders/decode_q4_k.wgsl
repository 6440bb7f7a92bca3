// decode_q4_k.wgsl: Q4_K super-blocks of 144 bytes {f16 d; f16 dmin; u8 scales[12]; u8 qs[128]}
// holding 256 values in 8 sub-blocks of 32; sub-block s has a 6-bit scale sc and min m packed in
// scales, and its values are the low (s even) or high (s odd) nibbles of qs[32(s/2) ..+32];
// x = d*sc*q - dmin*m. A unit is one sub-block (u/8 the super-block, u%8 the sub-block); j selects
// values 4j..4j+3. Super-blocks are 4-byte aligned.
const UNIT_WBUF: u32 = 32u;

fn kbyte_WBUF(o: u32) -> u32 {
  return (WBUF[o >> 2u] >> ((o & 3u) * 8u)) & 255u;
}

// scaleMin_WBUF returns (d*sc, dmin*m) of sub-block s of the super-block at byte bo.
fn scaleMin_WBUF(bo: u32, s: u32) -> vec2<f32> {
  let dd = unpack2x16float(WBUF[bo >> 2u]);
  let q = bo + 4u;
  var sc: u32;
  var m: u32;
  if (s < 4u) {
    sc = kbyte_WBUF(q + s) & 63u;
    m = kbyte_WBUF(q + s + 4u) & 63u;
  } else {
    sc = (kbyte_WBUF(q + s + 4u) & 15u) | ((kbyte_WBUF(q + s - 4u) >> 6u) << 4u);
    m = (kbyte_WBUF(q + s + 4u) >> 4u) | ((kbyte_WBUF(q + s) >> 6u) << 4u);
  }
  return vec2<f32>(dd.x * f32(sc), dd.y * f32(m));
}

fn deq4_WBUF(rb: u32, u: u32, j: u32) -> vec4<f32> {
  let s = u & 7u;
  let bo = rb + 144u * (u >> 3u);
  let dm = scaleMin_WBUF(bo, s);
  let v = WBUF[(bo + 16u + 32u * (s >> 1u) + 4u * j) >> 2u] >> (4u * (s & 1u));
  let q = vec4<f32>(f32(v & 15u), f32((v >> 8u) & 15u), f32((v >> 16u) & 15u), f32((v >> 24u) & 15u));
  return dm.x * q - dm.y;
}
