package tokenizer

import (
	"strings"
	"testing"

	"aisle/worker/gguf"
)

// benchText is a prompt of a few thousand tokens mixing prose, code, numbers and other
// scripts.
func benchText() string {
	var sb strings.Builder
	for sb.Len() < 12000 {
		for _, s := range diffCorpus(200) {
			sb.WriteString(s)
			sb.WriteByte(' ')
		}
	}
	return sb.String()
}

// BenchmarkEncode tokenizes the prompt with a warm word cache (the steady state of a chat) and
// with a cold one.
func BenchmarkEncode(b *testing.B) {
	text := benchText()
	for _, name := range []string{"llama-spm", "llama-bpe", "qwen2", "starcoder"} {
		tok := loadVocab(b, name)
		n := len(tok.Encode(text, true, false))
		b.Run(name+"/warm", func(b *testing.B) {
			b.SetBytes(int64(len(text)))
			for b.Loop() {
				tok.Encode(text, true, false)
			}
			b.ReportMetric(float64(n), "tokens")
		})
		b.Run(name+"/cold", func(b *testing.B) {
			b.SetBytes(int64(len(text)))
			for b.Loop() {
				b.StopTimer()
				tok.words.mu.Lock()
				tok.words.m = nil
				tok.words.mu.Unlock()
				b.StartTimer()
				tok.Encode(text, true, false)
			}
		})
	}
}

// BenchmarkFromGGUF measures building a tokenizer from already-parsed metadata.
func BenchmarkFromGGUF(b *testing.B) {
	for _, name := range []string{"llama-spm", "llama-bpe", "qwen2"} {
		f, err := gguf.Open(vocabPath(name))
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if _, err := FromGGUF(f.Metadata); err != nil {
					b.Fatal(err)
				}
			}
		})
		f.Close()
	}
}

// BenchmarkDecodeStream decodes a long generation token by token.
func BenchmarkDecodeStream(b *testing.B) {
	text := benchText()
	for _, name := range []string{"llama-spm", "gpt-2"} {
		tok := loadVocab(b, name)
		ids := tok.Encode(text, false, false)
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(text)))
			for b.Loop() {
				d := tok.NewStreamDecoder()
				for _, id := range ids {
					d.Add(id)
				}
				d.Flush()
			}
		})
	}
}
