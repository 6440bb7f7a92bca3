package assistant

import (
	"testing"
	"time"

	"aisle/worker/assistant/internal/benchstore"
)

var benchQuestions = benchstore.Questions

// BenchmarkAsk measures question to structured answer (deterministic text included) on a
// 5,000-product store: `go test -run '^$' -bench Ask ./worker/assistant`.
func BenchmarkAsk(b *testing.B) {
	s := NewStore(benchstore.Data(5000), time.Now())
	conv := s.NewConversation()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		conv.Ask(benchQuestions[i%len(benchQuestions)])
	}
}

// BenchmarkIndex measures indexing a 5,000-product store (once per checkpoint), with the
// vectors computed on the device (as when the server sent none).
func BenchmarkIndex(b *testing.B) {
	d := benchstore.Data(5000)
	for i := 0; i < b.N; i++ {
		NewStore(d, time.Now())
	}
}
