package llamacpp

import (
	"encoding/binary"
	"fmt"
	"io"
	"os"
)

// checkHeader refuses files that are not GGUF v2/v3 or whose tensor and metadata counts
// cannot fit the file (each tensor info and each key-value pair takes at least 8 bytes).
func checkHeader(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("llamacpp: model: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("llamacpp: model: %w", err)
	}
	var h struct {
		Magic   [4]byte
		Version uint32
		Tensors uint64
		KVs     uint64
	}
	if err := binary.Read(f, binary.LittleEndian, &h); err != nil {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return fmt.Errorf("llamacpp: %s: too short for a GGUF header", path)
		}
		return fmt.Errorf("llamacpp: %s: read header: %w", path, err)
	}
	size := uint64(st.Size())
	switch {
	case string(h.Magic[:]) != "GGUF":
		return fmt.Errorf("llamacpp: %s: not a GGUF file (magic %q)", path, h.Magic[:])
	case h.Version != 2 && h.Version != 3:
		return fmt.Errorf("llamacpp: %s: GGUF version %d not supported", path, h.Version)
	case h.Tensors > size/8 || h.KVs > size/8:
		return fmt.Errorf("llamacpp: %s: %d tensors and %d metadata pairs cannot fit %d bytes", path, h.Tensors, h.KVs, size)
	}
	return nil
}
