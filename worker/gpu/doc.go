// Package gpu is the engine's WebGPU backend: the transformer forward pass of package model
// (llama, qwen2, qwen3) as WGSL compute kernels, driven through github.com/cogentcore/webgpu
// natively (wgpu over Vulkan, Metal or D3D12; cgo) and in the browser (GOOS=js, navigator.gpu in
// a dedicated Worker), from the same Go code.
//
// # Design
//
//   - Weights stay in their stored GGUF form (F32, F16, BF16, Q8_0, Q4_0, Q5_0, Q4_K, Q5_K, Q6_K) in
//     GPU memory, read by the kernels as little-endian u32 words and decoded in the shader
//     (unpack2x16float for halves, so no shader-f16 is needed). Activations, norms, attention
//     and the KV cache are float32.
//   - A matrix larger than the device's storage-buffer binding limit is split by rows across
//     several buffers, one dispatch each, so models run at WebGPU's default limits (128 MiB per
//     binding, 256 MiB per buffer) as on phones.
//   - One command buffer per Eval: every layer's kernels are encoded into one compute pass.
//     Fusions cut dispatches to five per layer in decode: RMSNorm into the following matrix
//     product, biases and residual adds into the product, gate and up projections with SwiGLU
//     into one kernel, and QK-norm, RoPE and the KV-cache write into attention. Single tokens use
//     matvec.wgsl, batches matmul.wgsl (8 tokens per workgroup). Greedy decoding takes the
//     argmax on the GPU (two dispatches: candidates over many workgroups, then one) and reads
//     back one token id; Runner.Decode keeps the next steps queued (DefaultDecodeAhead) before
//     reading token k, so the GPU never waits for the host.
//   - A per-token mask (the engine's TokenFilter, e.g. constrained decoding) is one bit per
//     token, uploaded each step; argmax.wgsl skips the tokens it clears. The mask of step k+1
//     depends on token k, so Runner.StartDecode with masks queues step k+1's forward pass first
//     (its input token stays in GPU memory), then reads token k; the host computes and uploads
//     mask k+1 while the GPU runs that forward pass, then queues step k+1's sampling.
//   - Numerics: float32 everywhere. The CPU path (package model) quantizes activations to the
//     weight's dot-product type as llama.cpp does (Q8_0, Q8_K, F16, BF16); the GPU multiplies
//     float32 activations by the dequantized weights, which is more precise. For F32 weights both
//     paths compute the same function up to summation order, so greedy tokens agree exactly; for
//     other types logits agree within the tolerance stated in the tests (GPUTolerance).
//
// Each kernel is one .wgsl file under shaders/, embedded with go:embed; a comment at its top
// states its bindings and indexing. Weight decoders (shaders/decode_*.wgsl) are pasted into the
// matrix kernels for each tensor type.
//
// # Using it
//
// Importing this package registers the backend with package engine:
//
//	import _ "aisle/worker/gpu"
//	e, err := engine.Load(f, engine.Options{Backend: "auto"}) // or "gpu", "cpu"
//	// e.Backend is "gpu" or "cpu"; e.BackendReason says why (adapter, limits, fallback cause)
//
// "auto" uses a hardware adapter when the model fits it, and the CPU otherwise: with no adapter,
// with a software adapter (Mesa lavapipe, Chromium's SwiftShader: far slower than the CPU path),
// or when an allocation fails. "gpu" uses any adapter and fails when there is none. Decoding can
// sample on the GPU through Runner.Greedy, the pipelined Runner.Decode, or Runner.StartDecode
// (one token per Next call, optionally under a mask), which read back one token id per step
// instead of the logits: greedily, or at a temperature (Runner.SetSampling, Gumbel-max sampling
// from softmax(logits/T), over the allowed tokens only when masked); top-k, top-p and min-p need
// the logits (Eval) and the CPU sampler.
//
// # In the browser
//
// The same package builds with GOOS=js GOARCH=wasm (no cgo) and runs in a dedicated Worker
// (navigator.gpu; a service worker cannot hold a long-lived device). The Worker script must call
// into Go from a goroutine, never block inside a js.FuncOf: device requests and buffer mapping
// await promises. Writes to GPU buffers go through a JS-owned copy (js.CopyBytesToJS), never a JS
// view of Go's memory, which an allocation that grows the memory would detach.
//
// Browser devices stay at WebGPU's default limits (the library does not pass RequiredLimits), so
// large matrices are split across 128 MiB bindings; no shader-f16 is needed. See
// worker/gpu/browsertest for a complete Worker (testdata/worker.js) and its test.
package gpu
