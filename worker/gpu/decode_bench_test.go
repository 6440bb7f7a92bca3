//go:build cgo && !js

package gpu

import (
	"encoding/binary"
	"sort"
	"testing"
	"time"

	"aisle/worker/constrain"
	"aisle/worker/gguf"
	"aisle/worker/quant"
	"aisle/worker/tokenizer"
)

// BenchmarkMaskedDecode: ms per generated token (64 greedy tokens after a 5-token prompt) on the
// GPU, without a mask (Decode's pipeline), with a mask per step pipelined as StartDecode does it
// (step k+1's forward pass queued before token k is read), and with the same mask one step at a
// time (the forward pass queued only once the token is read and the next mask computed), for an
// all-allowing mask and for a constrain.State computed on the host from each token. The five
// variants run in turn in each of b.N rounds (machines here are shared and noisy); the metrics
// are the medians. Models: the tiny random F32 llama (32000-token vocabulary) of the tests, and
// stories260K.
//
//	go test -run '^$' -bench MaskedDecode -benchtime 5x ./worker/gpu
func BenchmarkMaskedDecode(b *testing.B) {
	d := mustDevice(b)
	for _, c := range []struct{ name, path, vocab string }{
		{"tiny-f32", writeRandomModel(b, "llama", "tiny", quant.F32, "ggml-vocab-llama-spm.gguf"), "../testdata/vocab/ggml-vocab-llama-spm.gguf"},
		{"stories260K", stories, stories},
	} {
		m := loadModel(b, c.path)
		vf, err := gguf.Open(c.vocab)
		if err != nil {
			b.Fatal(err)
		}
		tok, err := tokenizer.FromGGUF(vf.Metadata)
		vf.Close()
		if err != nil {
			b.Fatal(err)
		}
		v := constrain.Prepare(tok)
		r, err := NewRunner(d, m, 512, RunnerOptions{})
		if err != nil {
			b.Fatal(err)
		}
		const n = 64
		prompt := []int{1, 450, 17, 3002, 99}
		if m.Vocab < 32000 {
			prompt = []int{1, 45, 17, 302, 99}
		}
		allOnes := make([]uint32, (m.Vocab+31)/32)
		for i := range allOnes {
			allOnes[i] = ^uint32(0)
		}
		rules := constrain.Rules{Figures: []string{"6.95", "14", "2A"}, Forbidden: [][]string{{"the"}, {"free", "shipping"}}}
		// mask returns the mask of the next step: all ones, or the constraint's after accepting prev
		type masker func(prev int) []uint32
		ones := func() masker { return func(int) []uint32 { return allOnes } }
		constrained := func() masker {
			s := constrain.NewState(v, rules)
			buf := make([]uint32, len(allOnes))
			return func(prev int) []uint32 {
				if prev >= 0 {
					s.Accept(prev)
				}
				s.Mask(buf)
				return buf
			}
		}
		pipelined := func(b *testing.B, mk func() masker) {
			for range b.N {
				r.Truncate(0)
				var mask masker
				if mk != nil {
					mask = mk()
				}
				dec, err := r.StartDecode(prompt, n, mask != nil)
				if err != nil {
					b.Fatal(err)
				}
				prev := -1
				for range n {
					var allowed []uint32
					if mask != nil {
						allowed = mask(prev)
					}
					if prev, err = dec.Next(allowed); err != nil {
						b.Fatal(err)
					}
				}
				dec.Stop()
			}
		}
		serial := func(b *testing.B, mk func() masker) {
			if err := r.setMasked(true); err != nil {
				b.Fatal(err)
			}
			stage, err := r.arena.New("serial staging", 16, usageRead)
			if err != nil {
				b.Fatal(err)
			}
			for range b.N {
				r.Truncate(0)
				mask := mk()
				if err := r.writeTokens(prompt); err != nil {
					b.Fatal(err)
				}
				if _, err := r.queue(len(prompt), false, nil); err != nil {
					b.Fatal(err)
				}
				prev := -1
				for k := range n {
					if k > 0 {
						if _, err := r.queue(1, false, nil); err != nil { // the forward pass of the token read
							b.Fatal(err)
						}
					}
					if err := r.writeMask(mask(prev)); err != nil {
						b.Fatal(err)
					}
					idx, err := r.queueSample(stage)
					if err != nil {
						b.Fatal(err)
					}
					raw, err := r.d.mapReadAfter(stage, 4, idx)
					if err != nil {
						b.Fatal(err)
					}
					prev = int(binary.LittleEndian.Uint32(raw))
				}
			}
		}
		b.Run(c.name, func(b *testing.B) {
			variants := []struct {
				name string
				run  func(b *testing.B)
			}{
				{"no-mask", func(b *testing.B) { pipelined(b, nil) }},
				{"all-ones-pipelined", func(b *testing.B) { pipelined(b, ones) }},
				{"all-ones-one-step-at-a-time", func(b *testing.B) { serial(b, ones) }},
				{"constrain-pipelined", func(b *testing.B) { pipelined(b, constrained) }},
				{"constrain-one-step-at-a-time", func(b *testing.B) { serial(b, constrained) }},
			}
			times := make([][]float64, len(variants))
			rounds := b.N
			b.N = 1 // each variant runs one generation per round
			for range rounds {
				for i, v := range variants {
					start := time.Now()
					v.run(b)
					times[i] = append(times[i], float64(time.Since(start).Microseconds())/1000/n)
				}
			}
			b.N = rounds
			for i, v := range variants {
				sort.Float64s(times[i])
				b.ReportMetric(times[i][len(times[i])/2], v.name+"-ms/token")
			}
		})
		r.Close()
	}
}
