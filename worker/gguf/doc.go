// Package gguf reads and writes GGUF model files (versions 2 and 3).
//
// A file is a header (magic "GGUF", version, tensor count, metadata count), typed key/value
// metadata, tensor descriptors (name, shape, ggml type, offset), padding to the alignment
// (general.alignment, default 32), and the tensor data section.
//
// Readers never trust the file: every count, length, shape, offset and alignment is checked
// against the bytes actually present before anything is allocated, and every failure is an
// error naming what was wrong and where. A file can be opened memory-mapped (Open), from a byte
// slice (Parse), or from a list of byte shards as a browser holds it (OpenShards); tensor data
// is handed out without copying whenever it lies in one contiguous piece.
package gguf
