package tokenizer

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"aisle/worker/gguf"
)

const vocabDir = "../testdata/vocab"

var (
	vocabMu    sync.Mutex
	vocabCache = map[string]*Tokenizer{}
)

// vocabPath is the GGUF file of a vocabulary name: testdata/vocab/ggml-vocab-NAME.gguf, or the
// stories260K model.
func vocabPath(name string) string {
	if name == "stories260K" {
		return storiesPath
	}
	return filepath.Join(vocabDir, "ggml-vocab-"+name+".gguf")
}

// loadVocab builds (once per test binary) the tokenizer of testdata/vocab/ggml-vocab-NAME.gguf.
func loadVocab(tb testing.TB, name string) *Tokenizer {
	tb.Helper()
	vocabMu.Lock()
	defer vocabMu.Unlock()
	if t, ok := vocabCache[name]; ok {
		return t
	}
	f, err := gguf.Open(vocabPath(name))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	t, err := FromGGUF(f.Metadata)
	if err != nil {
		tb.Fatalf("%s: %v", name, err)
	}
	vocabCache[name] = t
	return t
}

// vectorCase is one test string of a .inp file with the ids of the matching .out line.
type vectorCase struct {
	text string
	ids  []int
}

// readVectors reads X.gguf.inp/.out as llama.cpp's test-tokenizer-0 does: the input is split
// on "\n__ggml_vocab_test__\n" (the file ends with that separator), each output line holds the
// space-separated ids of one input.
func readVectors(tb testing.TB, name string) []vectorCase {
	tb.Helper()
	base := filepath.Join(vocabDir, "ggml-vocab-"+name+".gguf")
	inp, err := os.ReadFile(base + ".inp")
	if err != nil {
		tb.Fatal(err)
	}
	outb, err := os.ReadFile(base + ".out")
	if err != nil {
		tb.Fatal(err)
	}
	const sep = "\n__ggml_vocab_test__\n"
	var texts []string
	for s := string(inp); s != ""; {
		i := strings.Index(s, sep)
		if i < 0 {
			texts = append(texts, s)
			break
		}
		texts = append(texts, s[:i])
		s = s[i+len(sep):]
	}
	lines := strings.Split(strings.TrimSuffix(string(outb), "\n"), "\n")
	if len(lines) != len(texts) {
		tb.Fatalf("%s: %d inputs, %d outputs", name, len(texts), len(lines))
	}
	cases := make([]vectorCase, len(texts))
	for i, text := range texts {
		cases[i].text = text
		for _, f := range strings.Fields(lines[i]) {
			id, err := strconv.Atoi(f)
			if err != nil {
				tb.Fatalf("%s.out line %d: %v", name, i+1, err)
			}
			cases[i].ids = append(cases[i].ids, id)
		}
	}
	return cases
}

// vocabNames are the vocabularies of testdata/vocab, all of whose model types this package
// supports.
var vocabNames = []string{"llama-spm", "phi-3", "llama-bpe", "qwen2", "gpt-2", "starcoder", "falcon",
	"deepseek-llm", "deepseek-coder"}

// TestVectors checks every test vector that ships with the vocabularies (tokenized as
// test-tokenizer-0 does: no BOS/EOS, no special-token parsing).
func TestVectors(t *testing.T) {
	for _, name := range vocabNames {
		t.Run(name, func(t *testing.T) {
			tok := loadVocab(t, name)
			cases := readVectors(t, name)
			if len(cases) < 10 {
				t.Fatalf("only %d vectors", len(cases))
			}
			fails := 0
			for _, c := range cases {
				got := tok.Encode(c.text, false, false)
				if !equalIDs(got, c.ids) {
					fails++
					if fails <= 10 {
						t.Errorf("Encode(%q)\n got %v\nwant %v", c.text, got, c.ids)
					}
				}
			}
			if fails > 0 {
				t.Errorf("%d of %d vectors differ", fails, len(cases))
			}
		})
	}
}

func equalIDs(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
