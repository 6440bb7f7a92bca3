// decode_q6_k.wgsl: Q6_K super-blocks of 210 bytes {u8 ql[128]; u8 qh[64]; i8 scales[16]; f16 d}
// holding 256 values in 16 sub-blocks of 16, x = d*scales[i/16]*(q-32) with q a 6-bit value.
// Value i = 128h + 32k + l (l < 32) has its low 4 bits in ql[64h + 32(k&1) + l] (low nibble for
// k < 2, high for k >= 2) and its top 2 bits at bit 2k of qh[32h + l]. A unit is 32 values
// (u/8 the super-block, s = u%8 = 4h+k); j selects l = 4j..4j+3. Super-blocks start at even byte
// offsets (ld32 handles 2 mod 4).
const UNIT_WBUF: u32 = 32u;

fn ld32_WBUF(o: u32) -> u32 {
  let i = o >> 2u;
  if ((o & 2u) == 0u) {
    return WBUF[i];
  }
  return (WBUF[i] >> 16u) | (WBUF[i + 1u] << 16u);
}

fn deq4_WBUF(rb: u32, u: u32, j: u32) -> vec4<f32> {
  let s = u & 7u;
  let bo = rb + 210u * (u >> 3u);
  let h = s >> 2u;
  let k = s & 3u;
  let lo = ld32_WBUF(bo + 64u * h + 32u * (k & 1u) + 4u * j) >> (4u * (k >> 1u));
  let hi = ld32_WBUF(bo + 128u + 32u * h + 4u * j) >> (2u * k);
  let q = vec4<f32>(f32((lo & 15u) | ((hi & 3u) << 4u)), f32(((lo >> 8u) & 15u) | (((hi >> 8u) & 3u) << 4u)),
                    f32(((lo >> 16u) & 15u) | (((hi >> 16u) & 3u) << 4u)), f32(((lo >> 24u) & 15u) | (((hi >> 24u) & 3u) << 4u)));
  // scales[2s + (j >= 4)] as int8, and d at byte 208
  let so = bo + 192u + 2u * s + (j >> 2u);
  let sc = extractBits(bitcast<i32>(WBUF[so >> 2u]), (so & 3u) * 8u, 8u);
  let d = unpack2x16float(WBUF[(bo + 208u) >> 2u] >> (((bo + 208u) & 2u) * 8u)).x;
  return (d * f32(sc)) * (q - 32.0);
}
