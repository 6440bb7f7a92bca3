// copy.wgsl: dst = src, one vec4 per invocation; used to measure the device's copy bandwidth
// (bytes read plus bytes written per second), the bound for the memory-bound decode step.
//
// Bindings (group 0):
//   0 src  storage read       array<vec4<u32>>
//   1 dst  storage read_write array<vec4<u32>>
// Indexing: invocation (x, y) of a 256-wide workgroup copies element (y * 65535 * 256 + x); the
// grid covers arrayLength(&dst).

@group(0) @binding(0) var<storage, read> src: array<vec4<u32>>;
@group(0) @binding(1) var<storage, read_write> dst: array<vec4<u32>>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.y * 65535u * 256u + gid.x;
  if (i < arrayLength(&dst)) {
    dst[i] = src[i];
  }
}
