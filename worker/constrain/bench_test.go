package constrain

import (
	"testing"
	"time"
)

// benchRules is a store answer's rule set at the size the assistant uses: 40 figures, 200
// forbidden phrases.
var benchRules = func() Rules {
	r := Rules{Figures: []string{
		"6.95", "12.49", "3.99", "24.90", "149.00", "0.99", "1.29", "7.50", "19.99", "4.25",
		"14", "3", "0", "120", "25", "2A", "3B", "12C", "7", "5D",
		"PH-0101", "PH-0102", "HW-2210", "GR-0042", "EL-1001", "8:00-19:00", "9:00-18:00", "10:00", "20", "400 mg",
		"500 ml", "1.5", "2 kg", "75 cm", "15", "30", "2024-12-01", "1,299.00", "EUR-6", "x2",
	}}
	adj := []string{"free", "best", "lowest", "guaranteed", "cheapest", "unbeatable", "exclusive", "miracle", "instant", "risk-free"}
	noun := []string{"shipping", "price", "deal", "offer", "cure", "results", "quality", "delivery", "refund", "discount",
		"savings", "protection", "relief", "treatment", "warranty", "bargain", "sale", "bonus", "gift", "trial"}
	for _, a := range adj {
		for _, n := range noun {
			r.Forbidden = append(r.Forbidden, []string{a, n})
		}
	}
	return r
}()

const benchAnswer = "Ibuprofen 400 mg, 20 tablets (PH-0101) costs 6.95 EUR and we have 14 on the shelf in aisle 2A. " +
	"We are open 8:00-19:00 on weekdays and from 10:00 on Sundays. The 500 ml bottle is 3.99 EUR; the 2 kg bag " +
	"costs 12.49 EUR. For the EL-1001 kettle (1,299.00 EUR?) ask the staff in aisle 12C: 3 are left, 75 cm wide."

// BenchmarkMask: one generation step (Mask, then Accept of the next token) along a store answer,
// per vocabulary; ns/op is the mean cost of a step.
func BenchmarkMask(b *testing.B) {
	for _, path := range vocabFiles[1:] {
		b.Run(shortName(path), func(b *testing.B) {
			tok := mustTokenizer(b, path)
			v := Prepare(tok)
			if vs := Check(benchRules, benchAnswer); len(vs) > 0 {
				b.Fatalf("the answer breaks its rules: %v", vs)
			}
			ids := tok.Encode(benchAnswer, false, false)
			allowed := make([]uint32, v.words)
			s := NewState(v, benchRules)
			// every token of the answer must be allowed where it comes
			for _, id := range ids {
				s.Mask(allowed)
				if allowed[id/32]>>(id%32)&1 == 0 {
					b.Fatalf("token %d %q of the answer is masked", id, tok.Piece(id))
				}
				s.Accept(id)
			}
			b.ResetTimer()
			for i := 0; i < b.N; {
				b.StopTimer()
				s = NewState(v, benchRules)
				b.StartTimer()
				for _, id := range ids {
					s.Mask(allowed)
					s.Accept(id)
					if i++; i == b.N {
						break
					}
				}
			}
		})
	}
}

// TestMaskCostPerState logs the cost of Mask at every step of the store answer (go test -v -run
// MaskCost): the worst step, not only the mean.
func TestMaskCostPerState(t *testing.T) {
	if testing.Short() {
		t.Skip("timing log")
	}
	for _, path := range vocabFiles[2:] {
		tok := mustTokenizer(t, path)
		v := Prepare(tok)
		ids := tok.Encode(benchAnswer, false, false)
		allowed := make([]uint32, v.words)
		s := NewState(v, benchRules)
		type step struct {
			d    time.Duration
			text string
		}
		var worst step
		var total time.Duration
		for i, id := range ids {
			const reps = 20
			start := time.Now()
			for range reps {
				s.Mask(allowed)
			}
			d := time.Since(start) / reps
			total += d
			if d > worst.d {
				worst = step{d, tok.Decode(ids[:i])}
			}
			s.Accept(id)
		}
		t.Logf("%s: %d steps, mean %v, worst %v after %q", shortName(path), len(ids), total/time.Duration(len(ids)), worst.d, worst.text)
	}
}

func BenchmarkPrepare(b *testing.B) {
	for _, path := range vocabFiles[1:] {
		b.Run(shortName(path), func(b *testing.B) {
			tok := mustTokenizer(b, path)
			completions([]byte{0xC3}) // the process-wide table, built once
			for range b.N {
				prepare(tok)
			}
		})
	}
}

func BenchmarkNewState(b *testing.B) {
	for _, path := range vocabFiles[2:] {
		b.Run(shortName(path), func(b *testing.B) {
			v := Prepare(mustTokenizer(b, path))
			for range b.N {
				NewState(v, benchRules)
			}
		})
	}
}
