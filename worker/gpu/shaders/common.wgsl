// common.wgsl: declarations shared by every kernel (pasted at the top of each).
//
// State is the per-Eval uniform (binding 1 of every kernel that reads it): pos is the position of
// the batch's first token, n the number of tokens in the batch, seed the sampling noise's seed
// for this step.
struct State {
  pos: u32,
  n: u32,
  seed: u32,
  _pad1: u32,
}

// A large negative number standing in for -infinity (WGSL has no infinity literal).
const NEG_BIG: f32 = -3.0e38;
