package tokenizer

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"unicode/utf8"

	"aisle/worker/gguf"
	"aisle/worker/internal/llamacpp"
)

// TestAgainstLlamaCpp compares Encode and Decode with llama.cpp itself (node-llama-cpp, the
// vocabulary-only GGUF files) on a corpus of several hundred strings per vocabulary: fixed
// corner cases, generated mixtures of scripts, white space, digits, code and emoji, and texts
// with the vocabulary's special tokens, with and without special-token parsing.
func TestAgainstLlamaCpp(t *testing.T) {
	llamacpp.Require(t)
	if testing.Short() {
		t.Skip("skipping the llama.cpp comparison in -short mode")
	}
	corpus := diffCorpus(300)
	for _, name := range append(slices.Clone(vocabNames), "stories260K") {
		t.Run(name, func(t *testing.T) {
			t.Parallel() // at most GOMAXPROCS peers at a time; they mostly wait on each other
			// stories260K is a real model's vocabulary: 512 tokens, mostly byte fallback.
			tok := loadVocab(t, name)
			p := llamacpp.StartT(t, vocabPath(name), llamacpp.Options{VocabOnly: true})
			info := p.Info()
			if info.BOS != tok.BOS() || info.EOS != tok.EOS() || info.EOT != tok.EOT() && !(info.EOT >= 0 && tok.IsEOG(info.EOT)) {
				t.Errorf("special ids: llama.cpp bos %d eos %d eot %d; ours %d %d %d",
					info.BOS, info.EOS, info.EOT, tok.BOS(), tok.EOS(), tok.EOT())
			}
			if info.AddBOS != tok.AddBOS() || info.AddEOS != tok.AddEOS() {
				t.Errorf("add_bos/add_eos: llama.cpp %v/%v, ours %v/%v", info.AddBOS, info.AddEOS, tok.AddBOS(), tok.AddEOS())
			}
			texts := append(slices.Clone(corpus), specialCorpus(tok, 60)...)
			fails := 0
			check := func(text string, parseSpecial bool) {
				want, err := p.Tokenize(text, false, parseSpecial)
				if err != nil {
					t.Fatalf("llama.cpp tokenize %q: %v", text, err)
				}
				got := tok.Encode(text, false, parseSpecial)
				if !slices.Equal(got, want) {
					fails++
					if fails <= 8 {
						t.Errorf("Encode(%q, parseSpecial=%v)\n got %v\nwant %v", text, parseSpecial, got, want)
					}
					return
				}
				wantText, err := p.Detokenize(got)
				if err != nil {
					t.Fatalf("llama.cpp detokenize: %v", err)
				}
				// node turns invalid UTF-8 into U+FFFD its own way; compare valid text only.
				if gotText := tok.Decode(got); utf8.ValidString(gotText) && gotText != wantText {
					fails++
					if fails <= 8 {
						t.Errorf("Decode(%v) = %q, llama.cpp %q", got, gotText, wantText)
					}
				}
			}
			for _, text := range texts {
				check(text, false)
				check(text, true)
			}
			// Random token sequences (any type, splitting characters anywhere): Decode, made
			// valid UTF-8 as JavaScript does, equals llama.cpp's detokenizer.
			r := rand.New(rand.NewPCG(5, uint64(len(name))))
			for range 150 {
				ids := make([]int, 1+r.IntN(12))
				for i := range ids {
					ids[i] = r.IntN(tok.VocabSize())
				}
				want, err := p.Detokenize(ids)
				if err != nil {
					t.Fatalf("llama.cpp detokenize %v: %v", ids, err)
				}
				if got := ValidUTF8(tok.Decode(ids)); got != want {
					fails++
					if fails <= 8 {
						t.Errorf("Decode(%v) = %q, llama.cpp %q", ids, got, want)
					}
				}
			}
			if fails > 0 {
				t.Fatalf("%d comparisons differ", fails)
			}
			t.Logf("%d strings agree with llama.cpp %s", len(texts), info.LlamaCppRelease)
		})
	}
}

// TestPreTokenizerNamesAgainstLlamaCpp covers pre-tokenizer names that no bundled vocabulary
// uses: it rewrites the GPT-2 vocabulary with another tokenizer.ggml.pre (or none) and compares
// with llama.cpp loading the same file. This checks the name's splitter and its flag defaults
// (BOS, space clean-up).
func TestPreTokenizerNamesAgainstLlamaCpp(t *testing.T) {
	llamacpp.Require(t)
	if testing.Short() {
		t.Skip("skipping the llama.cpp comparison in -short mode")
	}
	src, err := gguf.Open(vocabPath("gpt-2"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	corpus := diffCorpus(40)
	for _, pre := range []string{"", "default", "smollm", "stablelm2", "qwen35", "chatglm-bpe", "dbrx", "megrez",
		"minerva-7b", "trillion"} {
		t.Run("pre="+pre, func(t *testing.T) {
			t.Parallel()
			w := gguf.NewWriter()
			w.CopyMetadata(src.Metadata, func(k string) bool { return k != "tokenizer.ggml.pre" })
			if pre != "" {
				w.SetString("tokenizer.ggml.pre", pre)
			}
			path := filepath.Join(t.TempDir(), "vocab.gguf")
			f, err := os.Create(path)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := w.WriteTo(f); err != nil {
				t.Fatal(err)
			}
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}
			file, err := gguf.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer file.Close()
			tok, err := FromGGUF(file.Metadata)
			if err != nil {
				t.Fatal(err)
			}
			p := llamacpp.StartT(t, path, llamacpp.Options{VocabOnly: true})
			if info := p.Info(); info.BOS != tok.BOS() || info.AddBOS != tok.AddBOS() {
				t.Errorf("bos %d add %v; llama.cpp %d add %v", tok.BOS(), tok.AddBOS(), info.BOS, info.AddBOS)
			}
			fails := 0
			for _, text := range corpus {
				want, err := p.Tokenize(text, false, false)
				if err != nil {
					t.Fatal(err)
				}
				got := tok.Encode(text, false, false)
				if !slices.Equal(got, want) {
					fails++
					if fails <= 5 {
						t.Errorf("Encode(%q)\n got %v\nwant %v", text, got, want)
					}
					continue
				}
				wantText, err := p.Detokenize(got)
				if err != nil {
					t.Fatal(err)
				}
				if gotText := ValidUTF8(tok.Decode(got)); gotText != wantText {
					fails++
					if fails <= 5 {
						t.Errorf("Decode(%v) = %q, llama.cpp %q", got, gotText, wantText)
					}
				}
			}
			if fails > 0 {
				t.Errorf("%d of %d strings differ", fails, len(corpus))
			}
		})
	}
}
