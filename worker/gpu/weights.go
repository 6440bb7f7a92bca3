//go:build cgo || js

package gpu

import (
	"encoding/binary"
	"fmt"
	"math"

	"aisle/worker/model"
	"aisle/worker/quant"
)

// gpart is a range of rows of a matrix held in one buffer (one storage binding).
type gpart struct {
	buf        *Buffer
	row0, rows int
}

// gmat is a weight matrix in GPU memory in its stored type, split by rows into parts that each
// fit one storage-buffer binding.
type gmat struct {
	typ                  quant.Type
	rows, cols, rowBytes int
	parts                []gpart
}

// maxPartRows is the most rows of rowBytes bytes one part may hold: within the binding limit,
// and few enough that a dispatch's workgroup count stays under WebGPU's 65535 per dimension.
func (d *Device) maxPartRows(rowBytes int) int {
	return min(int(d.MaxBinding)/rowBytes, 65535*matRows)
}

// uploadMatrix copies matrices that share type and column count into GPU memory as one matrix
// (their rows one after the other), split into parts of at most maxRows rows (0: as many as fit).
func (a *Arena) uploadMatrix(label string, maxRows int, ms ...*model.Matrix) (*gmat, error) {
	m0 := ms[0]
	g := &gmat{typ: m0.Type, cols: m0.Cols, rowBytes: m0.RowBytes}
	for _, m := range ms {
		if m.Type != m0.Type || m.Cols != m0.Cols {
			return nil, fmt.Errorf("gpu: %s: cannot join %s (%s, %d cols) with %s (%s, %d cols)", label, m.Name, m.Type, m.Cols, m0.Name, m0.Type, m0.Cols)
		}
		if len(m.Data) < m.Rows*m.RowBytes {
			return nil, fmt.Errorf("gpu: %s: tensor %s holds %d bytes, want %d", label, m.Name, len(m.Data), m.Rows*m.RowBytes)
		}
		g.rows += m.Rows
	}
	if _, ok := decoderFile[g.typ]; !ok {
		return nil, fmt.Errorf("gpu: %s: no kernel reads tensor type %s", label, g.typ)
	}
	if g.cols%unitOf(g.typ) != 0 {
		return nil, fmt.Errorf("gpu: %s: %d columns is not a multiple of %d", label, g.cols, unitOf(g.typ))
	}
	per := a.d.maxPartRows(g.rowBytes)
	if maxRows > 0 {
		per = min(per, maxRows)
	}
	if per < 1 {
		return nil, fmt.Errorf("gpu: %s: one row of %d bytes exceeds the binding limit %d", label, g.rowBytes, a.d.MaxBinding)
	}
	// rows of the joined matrix as one byte slice, sliced per part without copying when possible
	var all []byte
	if len(ms) == 1 {
		all = m0.Data[:m0.Rows*m0.RowBytes]
	} else {
		all = make([]byte, 0, g.rows*g.rowBytes)
		for _, m := range ms {
			all = append(all, m.Data[:m.Rows*m.RowBytes]...)
		}
	}
	for r := 0; r < g.rows; r += per {
		n := min(per, g.rows-r)
		buf, err := a.Storage(fmt.Sprintf("%s[%d:%d]", label, r, r+n), all[r*g.rowBytes:(r+n)*g.rowBytes])
		if err != nil {
			return nil, err
		}
		g.parts = append(g.parts, gpart{buf: buf, row0: r, rows: n})
		a.weightBytes += int64(n * g.rowBytes)
	}
	return g, nil
}

// f32Bytes returns the little-endian bytes of v.
func f32Bytes(v ...[]float32) []byte {
	n := 0
	for _, s := range v {
		n += len(s)
	}
	out := make([]byte, 0, 4*n)
	for _, s := range v {
		for _, f := range s {
			out = binary.LittleEndian.AppendUint32(out, math.Float32bits(f))
		}
	}
	return out
}

// ropeTable is the (ctxLen, RopeDims) table of cos/sin pairs per position, computed exactly as
// the CPU path does (ggml's order: the angle starts at pos and is multiplied by
// base^(-2/dims) once per pair, in float32; rope_freqs divide it), so both paths rotate by the
// same float32 values.
func ropeTable(c model.Config, ctxLen int, freqFactors []float32) []float32 {
	rd := c.RopeDims
	out := make([]float32, ctxLen*rd)
	thetaScale := float32(math.Pow(float64(c.RopeBase), -2.0/float64(rd)))
	for pos := 0; pos < ctxLen; pos++ {
		dst := out[pos*rd : (pos+1)*rd]
		theta := float32(pos)
		for i := 0; i < rd/2; i++ {
			t := theta
			if freqFactors != nil {
				t /= freqFactors[i]
			}
			t *= c.RopeScale
			dst[2*i] = float32(math.Cos(float64(t)))
			dst[2*i+1] = float32(math.Sin(float64(t)))
			theta *= thetaScale
		}
	}
	return out
}
