package gguf

import "aisle/worker/quant"

// otherTypes are the block layouts of ggml tensor types the engine does not compute with. The
// reader still needs their sizes to validate a file; the model loader then names the tensor and
// its type in a clear "unsupported" error.
var otherTypes = map[quant.Type]struct {
	name                  string
	blockSize, blockBytes int
}{
	3: {"Q4_1", 32, 20}, 6: {"Q5_0", 32, 22}, 7: {"Q5_1", 32, 24}, 9: {"Q8_1", 32, 36},
	10: {"Q2_K", 256, 84}, 11: {"Q3_K", 256, 110}, 16: {"IQ2_XXS", 256, 66}, 17: {"IQ2_XS", 256, 74},
	18: {"IQ3_XXS", 256, 98}, 19: {"IQ1_S", 256, 50}, 20: {"IQ4_NL", 32, 18}, 21: {"IQ3_S", 256, 110},
	22: {"IQ2_S", 256, 82}, 23: {"IQ4_XS", 256, 136}, 24: {"I8", 1, 1}, 25: {"I16", 1, 2},
	26: {"I32", 1, 4}, 27: {"I64", 1, 8}, 28: {"F64", 1, 8}, 29: {"IQ1_M", 256, 56},
	34: {"TQ1_0", 256, 54}, 35: {"TQ2_0", 256, 66},
}

// layout returns the block size and bytes per block of t, or zeros for an unknown type.
func layout(t quant.Type) (blockSize, blockBytes int) {
	if t.Supported() {
		return t.BlockSize(), t.BlockBytes()
	}
	o := otherTypes[t]
	return o.blockSize, o.blockBytes
}

// TypeName is the ggml name of t (Q5_0, IQ4_XS, …), also for types the engine cannot compute with.
func TypeName(t quant.Type) string {
	if t.Supported() {
		return t.String()
	}
	if o, ok := otherTypes[t]; ok {
		return o.name
	}
	return t.String()
}
