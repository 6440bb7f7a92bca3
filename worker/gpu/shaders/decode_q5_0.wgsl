// decode_q5_0.wgsl: Q5_0 blocks of 22 bytes {f16 d; u32 qh; u8 qs[16]}: value i < 16 is the low
// nibble of qs[i], value i+16 the high nibble, each with its fifth bit at bit i (i+16) of qh;
// x = d*(q-16). A unit is one block; j selects values 4j..4j+3. Blocks start at even byte
// offsets (ld32 handles 2 mod 4).
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

fn deq4_WBUF(rb: u32, u: u32, j: u32) -> vec4<f32> {
  let bo = rb + 22u * u;
  let v = ld32_WBUF(bo + 6u + 4u * (j & 3u)) >> (4u * (j >> 2u));
  let h = ld32_WBUF(bo + 2u) >> (4u * j);
  let q = vec4<f32>(f32((v & 15u) | ((h & 1u) << 4u)), f32(((v >> 8u) & 15u) | (((h >> 1u) & 1u) << 4u)),
                    f32(((v >> 16u) & 15u) | (((h >> 2u) & 1u) << 4u)), f32(((v >> 24u) & 15u) | (((h >> 3u) & 1u) << 4u)));
  return ldf16_WBUF(bo) * (q - 16.0);
}
