// decode_q8_0.wgsl: Q8_0 blocks of 34 bytes {f16 d; i8 qs[32]}, x = d*qs. A unit is one block.
// Blocks start at even byte offsets, so 32-bit reads go through ld32 (two words when the offset
// is 2 mod 4). j selects values 4j..4j+3 of the block.
const UNIT_WBUF: u32 = 32u;

fn ld32_WBUF(o: u32) -> u32 {
  let i = o >> 2u;
  if ((o & 2u) == 0u) {
    return WBUF[i];
  }
  return (WBUF[i] >> 16u) | (WBUF[i + 1u] << 16u);
}

fn ldf16_WBUF(o: u32) -> f32 {
  return unpack2x16float(WBUF[o >> 2u] >> ((o & 2u) * 8u)).x;
}

fn i8x4_WBUF(v: u32) -> vec4<f32> {
  let s = bitcast<i32>(v);
  return vec4<f32>(f32(extractBits(s, 0u, 8u)), f32(extractBits(s, 8u, 8u)), f32(extractBits(s, 16u, 8u)), f32(extractBits(s, 24u, 8u)));
}

fn deq4_WBUF(rb: u32, u: u32, j: u32) -> vec4<f32> {
  let bo = rb + 34u * u;
  return ldf16_WBUF(bo) * i8x4_WBUF(ld32_WBUF(bo + 2u + 4u * j));
}
