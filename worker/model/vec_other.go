//go:build !amd64

package model

func dot(a, b []float32) float32   { return dotGo(a, b) }
func dot16(a, b []float32) float32 { return dot16Go(a, b) }

func dotRows(out, a []float32, stride int, b []float32, n int) { dotRowsGo(out, a, stride, b, n) }

func dot16x4(out *[4]float32, a []float32, stride int, b []float32, n int) {
	for r := range out {
		out[r] = dot16Go(a[r*stride:r*stride+n], b[:n])
	}
}

func expSub(y, x []float32, m float32) { expSubGo(y, x, m) }
func swiglu(gate, up []float32)        { swigluGo(gate, up) }
