// Sets self.aisleWasmSIMD: whether this browser runs WebAssembly SIMD128. engine.wasm (the
// inference worker) is built with it; engine-nosimd.wasm is the same program without it, for
// browsers that lack it. The module below is the smallest that uses SIMD: one function that
// returns v128.const 0.
self.aisleWasmSIMD = WebAssembly.validate(new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version 1
  0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, // types: () -> v128
  0x03, 0x02, 0x01, 0x00, // functions: one of type 0
  0x0a, 0x16, 0x01, 0x14, 0x00, 0xfd, 0x0c, // code: no locals, v128.const
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0b, // 16 zero bytes, end
]));
