package tokenizer

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"aisle/worker/gguf"
	"aisle/worker/internal/llamacpp"
	"aisle/worker/modelgen"
	"aisle/worker/quant"
)

// chatSpecials are the special tokens of our chat models, in id order.
var chatSpecials = []string{"<|endoftext|>", "<|im_start|>", "<|im_end|>"}

// shopCorpus returns deterministic ChatML conversations about products and prices, the
// package's fixed test strings and the repository README's paragraphs: a small training set
// with prose, numbers, currency signs, several scripts and emoji.
func shopCorpus(tb testing.TB, n int) []string {
	tb.Helper()
	products := []string{"apples", "organic bananas", "Greek yoghurt", "café crème", "Äpfel", "olive oil 500ml",
		"running shoes", "USB-C cable", "rice 5kg", "日本茶", "sourdough bread", "dark chocolate 70%", "🍕 pizza"}
	questions := []string{"How much is %s?", "do u have %s in stock?", "Where can I find %s?", "price of %s pls",
		"Is %s on sale?", "What's the cheapest %s?"}
	r := rand.New(rand.NewPCG(11, 12))
	var out []string
	for range n {
		p := products[r.IntN(len(products))]
		q := fmt.Sprintf(questions[r.IntN(len(questions))], p)
		price := fmt.Sprintf("%d.%02d", r.IntN(300), r.IntN(100))
		cur := []string{"€", "$", "£", "CHF "}[r.IntN(4)]
		a := fmt.Sprintf("%s costs %s%s and we have %d in aisle %d. 👍", p, cur, price, r.IntN(40), 1+r.IntN(12))
		out = append(out, "<|im_start|>user\n"+q+"<|im_end|>\n<|im_start|>assistant\n"+a+"<|im_end|>\n")
	}
	out = append(out, corpusFixed...)
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		tb.Fatal(err)
	}
	out = append(out, strings.Split(string(readme), "\n\n")...)
	return out
}

// trainShop trains a chat vocabulary of the given size on shopCorpus, with BOS, EOS and PAD
// set as our models use them.
func trainShop(tb testing.TB, size int) *Vocab {
	tb.Helper()
	v, err := TrainBPE(shopCorpus(tb, 2000), BPEOptions{VocabSize: size, Special: chatSpecials})
	if err != nil {
		tb.Fatal(err)
	}
	v.Special.BOS, v.Special.EOS, v.Special.PAD = Int(0), Int(2), Int(0)
	return v
}

func TestTrainBPEMergeOrder(t *testing.T) {
	for _, tc := range []struct {
		name  string
		texts []string
		size  int
		want  []string
	}{
		// Counts: "x y" 3, "Ġ x" 2 then "Ġ xy" 2.
		{"by count", []string{"xy xy xy ab"}, 258, []string{"x y", "Ġ xy"}},
		// All pairs once: the lowest left text wins ("a" < "c" < "Ġ" in byte order).
		{"ties by text", []string{"ab cd"}, 258, []string{"a b", "c d"}},
		// Digits never merge, whatever their count; "Ġ 1" involves a digit too.
		{"digits", []string{"12 12 12 12 ok"}, 300, []string{"o k", "Ġ ok"}},
		// Left to right within a word: "aaa" becomes "aa a", then "aa a" merges.
		{"overlap", []string{"aaa"}, 258, []string{"a a", "aa a"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := TrainBPE(tc.texts, BPEOptions{VocabSize: tc.size})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(v.Merges, tc.want) {
				t.Errorf("merges = %q, want %q", v.Merges, tc.want)
			}
		})
	}
}

func TestTrainBPEVocabulary(t *testing.T) {
	v := trainShop(t, 1000)
	if len(v.Tokens) != 1000 || len(v.Types) != 1000 {
		t.Fatalf("%d tokens, %d types, want 1000", len(v.Tokens), len(v.Types))
	}
	for i, s := range chatSpecials {
		if v.Tokens[i] != s || v.Types[i] != TypeControl {
			t.Errorf("token %d = %q type %d, want %q CONTROL", i, v.Tokens[i], v.Types[i], s)
		}
	}
	seen := map[string]bool{}
	for i, s := range v.Tokens {
		if seen[s] {
			t.Errorf("token %q repeated", s)
		}
		seen[s] = true
		if i >= len(chatSpecials) && (strings.Contains(s, "<|") || strings.Contains(s, "im_")) {
			t.Errorf("token %d %q learned from a special token's text", i, s)
		}
		if strings.ContainsAny(s, "0123456789") && len(s) != 1 {
			t.Errorf("token %d %q has a digit and more", i, s)
		}
	}
	for b := 0; b < 256; b++ {
		if !seen[string(byteToRune[b])] {
			t.Errorf("byte %#x has no token", b)
		}
	}
	for _, m := range v.Merges {
		l, r, _ := strings.Cut(m, " ")
		if !seen[l] || !seen[r] || !seen[l+r] {
			t.Errorf("merge %q is not made of tokens", m)
		}
	}
}

func TestTrainBPEDeterministic(t *testing.T) {
	texts := shopCorpus(t, 500)
	a, err := TrainBPE(texts, BPEOptions{VocabSize: 700, Special: chatSpecials, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	b, err := TrainBPE(texts, BPEOptions{VocabSize: 700, Special: chatSpecials, Threads: 5})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, b) {
		t.Fatal("training with 1 and 5 threads gives different vocabularies")
	}
}

func TestTrainBPEBadOptions(t *testing.T) {
	for _, o := range []BPEOptions{
		{VocabSize: 258, Special: chatSpecials},           // below 3 + 256
		{VocabSize: 400, Special: []string{"<a>", "<a>"}}, // repeated
		{VocabSize: 400, Special: []string{""}},
		{VocabSize: 400, Special: []string{"x"}}, // the byte token "x"
	} {
		if _, err := TrainBPE([]string{"hello"}, o); err == nil {
			t.Errorf("TrainBPE(%+v) succeeded", o)
		}
	}
}

// TestTrainedTokenizer: the trained vocabulary, written as GGUF and read back, encodes text
// so that the pieces spell it again; digits are single tokens; special tokens are one id.
func TestTrainedTokenizer(t *testing.T) {
	tok := writeAndLoad(t, trainShop(t, 1000), filepath.Join(t.TempDir(), "vocab.gguf"))
	if tok.BOS() != 0 || tok.EOS() != 2 || tok.PAD() != 0 || tok.AddBOS() || !tok.IsEOG(2) || !tok.IsEOG(0) {
		t.Errorf("bos %d eos %d pad %d addBOS %v eog %v", tok.BOS(), tok.EOS(), tok.PAD(), tok.AddBOS(), tok.EOG())
	}
	texts := append(diffCorpus(300), "Total: €1234.50 (was £999.99) — 20% off 🎉", "日本茶 costs ¥1200", "a\u00a0b\tc\r\n")
	for _, text := range texts {
		ids := tok.Encode(text, false, false)
		var sb strings.Builder
		for _, id := range ids {
			sb.WriteString(tok.Piece(id))
		}
		if want := strings.ToValidUTF8(text, "\uFFFD"); sb.String() != want && utf8.ValidString(text) {
			t.Errorf("pieces of %q spell %q", text, sb.String())
		}
	}
	ids := tok.Encode(" €1234.50", false, false)
	var digits []string
	for _, id := range ids {
		if p := tok.Piece(id); strings.ContainsAny(p, "0123456789") {
			digits = append(digits, p)
		}
	}
	if want := []string{"1", "2", "3", "4", "5", "0"}; !slices.Equal(digits, want) {
		t.Errorf("digit tokens of %q = %q, want %q", " €1234.50", digits, want)
	}
	ids = tok.Encode("<|im_start|>user\nhi<|im_end|>\n<|endoftext|>", false, true)
	if ids[0] != 1 || !slices.Contains(ids, 2) || ids[len(ids)-1] != 0 {
		t.Errorf("special tokens not parsed: %v", ids)
	}
	if plain := tok.Encode("<|im_start|>", false, false); len(plain) < 2 || slices.Contains(plain, 1) {
		t.Errorf("<|im_start|> without special parsing = %v, want text tokens", plain)
	}
}

// writeAndLoad writes v (with a chat template) as a vocabulary GGUF at path and loads it back
// as the engine does.
func writeAndLoad(t *testing.T, v *Vocab, path string) *Tokenizer {
	t.Helper()
	w := gguf.NewWriter()
	v.SetGGUF(w)
	w.SetString("tokenizer.chat_template", "{{ messages }}")
	var buf bytes.Buffer
	if _, err := w.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := gguf.Parse(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	back, err := VocabFromGGUF(f.Metadata)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, v) {
		t.Errorf("vocabulary read back differs:\n got %+v\nwant %+v", back.Special, v.Special)
	}
	tok, err := New(back)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// TestTrainedVocabAgainstLlamaCpp loads a tiny random model carrying the trained vocabulary
// into llama.cpp and compares its tokenization with ours, with and without special tokens.
func TestTrainedVocabAgainstLlamaCpp(t *testing.T) {
	llamacpp.Require(t)
	dir := t.TempDir()
	vocabPath := filepath.Join(dir, "vocab.gguf")
	tok := writeAndLoad(t, trainShop(t, 1200), vocabPath)
	vf, err := gguf.Open(vocabPath)
	if err != nil {
		t.Fatal(err)
	}
	defer vf.Close()
	modelPath := filepath.Join(dir, "model.gguf")
	out, err := os.Create(modelPath)
	if err != nil {
		t.Fatal(err)
	}
	shape := modelgen.Shapes["tiny"]
	shape.Layers = 1
	if err := modelgen.Write(out, modelgen.Spec{Arch: "llama", Shape: shape, Type: quant.Q8_0, Vocab: vf, Seed: 1}); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	p := llamacpp.StartT(t, modelPath, llamacpp.Options{})
	info := p.Info()
	if info.VocabSize != tok.VocabSize() || info.BOS != 0 || info.EOS != 2 || info.AddBOS || info.AddEOS {
		t.Errorf("llama.cpp sees vocab %d bos %d eos %d add %v/%v", info.VocabSize, info.BOS, info.EOS, info.AddBOS, info.AddEOS)
	}
	texts := append(diffCorpus(40), specialCorpus(tok, 20)...)
	texts = append(texts, shopCorpus(t, 10)[:10]...)
	fails := 0
	for _, text := range texts {
		for _, special := range []bool{false, true} {
			want, err := p.Tokenize(text, false, special)
			if err != nil {
				t.Fatal(err)
			}
			if got := tok.Encode(text, false, special); !slices.Equal(got, want) {
				if fails++; fails <= 5 {
					t.Errorf("Encode(%q, special=%v)\n got %v\nwant %v", text, special, got, want)
				}
			}
		}
	}
	if fails > 0 {
		t.Fatalf("%d of %d tokenizations differ", fails, 2*len(texts))
	}
	t.Logf("%d texts tokenize as llama.cpp %s does", len(texts), info.LlamaCppRelease)
}

// BenchmarkTrainBPE trains a 4096-token vocabulary on about 5 MB of generated chat text.
func BenchmarkTrainBPE(b *testing.B) {
	texts := shopCorpus(b, 30000)
	size := 0
	for _, s := range texts {
		size += len(s)
	}
	b.SetBytes(int64(size))
	for b.Loop() {
		if _, err := TrainBPE(texts, BPEOptions{VocabSize: 4096, Special: chatSpecials}); err != nil {
			b.Fatal(err)
		}
	}
}
