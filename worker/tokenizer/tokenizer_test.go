package tokenizer

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"aisle/worker/gguf"
)

const storiesPath = "../testdata/models/stories260K.gguf"

func loadStories(tb testing.TB) *Tokenizer {
	tb.Helper()
	return loadVocab(tb, "stories260K")
}

// TestSpecialIDs checks BOS/EOS/EOT, the add-BOS flags and the end-of-generation sets against
// what llama.cpp (node-llama-cpp 3.22.1) reports for the same files.
func TestSpecialIDs(t *testing.T) {
	tests := []struct {
		vocab          string
		bos, eos, eot  int
		addBOS, addEOS bool
		eog            []int
	}{
		{"llama-spm", 1, 2, -1, true, false, []int{2}},
		{"phi-3", 1, 32000, 32007, true, false, []int{2, 32000, 32007}},
		{"llama-bpe", 128000, 128001, 128009, true, false, []int{128001, 128009}},
		{"qwen2", 151643, 151643, 151645, false, false, []int{128247, 151643, 151645}},
		{"gpt-2", 50256, 50256, 50256, false, false, []int{50256}},
		{"starcoder", 0, 0, 0, false, false, []int{0, 4}},
		{"falcon", 11, 11, 11, false, false, []int{11}},
		{"deepseek-llm", 100000, 100001, 100001, true, false, []int{100001}},
		{"deepseek-coder", 32013, 32014, 32014, true, false, []int{32014}},
	}
	for _, tc := range tests {
		t.Run(tc.vocab, func(t *testing.T) {
			tok := loadVocab(t, tc.vocab)
			if tok.BOS() != tc.bos || tok.EOS() != tc.eos || tok.EOT() != tc.eot {
				t.Errorf("bos/eos/eot = %d/%d/%d, want %d/%d/%d", tok.BOS(), tok.EOS(), tok.EOT(), tc.bos, tc.eos, tc.eot)
			}
			if tok.AddBOS() != tc.addBOS || tok.AddEOS() != tc.addEOS {
				t.Errorf("addBOS/addEOS = %v/%v, want %v/%v", tok.AddBOS(), tok.AddEOS(), tc.addBOS, tc.addEOS)
			}
			if got := tok.EOG(); !slices.Equal(got, tc.eog) {
				t.Errorf("EOG = %v, want %v", got, tc.eog)
			}
			for _, id := range tc.eog {
				if !tok.IsEOG(id) {
					t.Errorf("IsEOG(%d) = false", id)
				}
			}
			if tok.IsEOG(-1) || tok.IsEOG(tok.VocabSize()) {
				t.Error("IsEOG true outside the vocabulary")
			}
		})
	}
}

func TestEncodeSpecial(t *testing.T) {
	tests := []struct {
		vocab             string
		text              string
		addSpecial, parse bool
		want              []int
	}{
		{"llama-spm", "Hello", true, false, []int{1, 15043}},
		{"llama-spm", "Hello", false, false, []int{15043}},
		{"llama-spm", "", true, false, []int{1}},
		{"llama-bpe", "Hello", true, false, []int{128000, 9906}},
		{"qwen2", "Hello", true, false, []int{9707}},
		{"qwen2", "<|im_start|>user\nHi<|im_end|>", false, true, []int{151644, 872, 198, 13048, 151645}},
		{"llama-bpe", "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>", true, true,
			[]int{128000, 128006, 882, 128007, 271, 13347, 128009}},
		// Phi-3's special tokens swallow the white space after them (rstrip), and its
		// SentencePiece fragments each get a space prefix.
		{"phi-3", "<|user|>\nHello<|end|>\n<|assistant|>", true, true, []int{1, 32010, 15043, 32007, 32001}},
	}
	for _, tc := range tests {
		tok := loadVocab(t, tc.vocab)
		got := tok.Encode(tc.text, tc.addSpecial, tc.parse)
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: Encode(%q, %v, %v) = %v, want %v", tc.vocab, tc.text, tc.addSpecial, tc.parse, got, tc.want)
		}
	}
	// Without parsing, control tokens in text are plain text.
	tok := loadVocab(t, "qwen2")
	if ids := tok.Encode("<|im_end|>", false, false); len(ids) < 2 || slices.Contains(ids, 151645) {
		t.Errorf("unparsed <|im_end|> = %v", ids)
	}
	// User-defined tokens are recognised even without parsing (deepseek-coder's "<|EOT|>").
	dc := loadVocab(t, "deepseek-coder")
	if ids := dc.Encode("a<|EOT|>", false, false); !slices.Contains(ids, 32021) {
		t.Errorf("user-defined token not recognised: %v", ids)
	}
}

// TestStoriesByteFallback: the 512-token stories260K vocabulary spells most characters with
// byte tokens; decoding gives the text back, even invalid UTF-8 (as long as no space follows
// a bad byte closely: llama.cpp cuts symbols by lead byte after turning spaces into "▁", so a
// bad lead byte can swallow part of a "▁", which then comes back as bytes of "▁").
func TestStoriesByteFallback(t *testing.T) {
	tok := loadStories(t)
	for _, s := range []string{"Once upon a time", "日本 🙂 ü", "a\x00b", "\xff\xfe", "broken\xe2\x82"} {
		ids := tok.Encode(s, true, false)
		if ids[0] != 1 {
			t.Errorf("%q: no BOS: %v", s, ids)
		}
		if got := tok.Decode(ids); got != " "+s && got != s {
			t.Errorf("Decode(Encode(%q)) = %q", s, got)
		}
		if got := tok.Decode(ids[1:]); got != s {
			t.Errorf("Decode(Encode(%q) without BOS) = %q", s, got)
		}
	}
	ids := tok.Encode("🙂", false, false)
	for _, id := range ids[1:] { // after "▁"
		if !strings.HasPrefix(tok.Token(id), "<0x") {
			t.Errorf("🙂 → %v: want byte tokens", ids)
		}
	}
}

// TestRoundTrip checks Decode(Encode(s)) == s where llama.cpp guarantees it: SentencePiece
// (byte fallback keeps every byte, even invalid UTF-8), byte-level BPE without space clean-up
// on valid UTF-8, and with clean-up on texts that contain none of its patterns.
func TestRoundTrip(t *testing.T) {
	corpus := append(diffCorpus(300), "\xff\xfeinvalid\xc3", "\xe2\x82")
	for _, name := range vocabNames {
		tok := loadVocab(t, name)
		n := 0
		for _, s := range corpus {
			if !roundTrips(tok, s) {
				continue
			}
			n++
			if got := tok.Decode(tok.Encode(s, false, false)); got != s {
				t.Errorf("%s: Decode(Encode(%q)) = %q", name, s, got)
			}
		}
		if n < 100 {
			t.Errorf("%s: only %d round-trip cases", name, n)
		}
	}
}

// roundTrips reports whether llama.cpp's design promises Decode(Encode(s, false, false)) == s:
// byte-level BPE reads invalid UTF-8 as U+FFFD; SentencePiece turns spaces into "▁" before
// cutting symbols (a bad lead byte can swallow part of one) and "▁" back into spaces, and puts
// a space prefix after every user-defined token; special tokens with lstrip/rstrip swallow
// white space; the clean-up passes remove spaces; bytes without a byte token are dropped.
func roundTrips(tok *Tokenizer, s string) bool {
	if !utf8.ValidString(s) && (!tok.spm || strings.Contains(s, " ")) {
		return false
	}
	if tok.spm && strings.Contains(s, "▁") {
		return false
	}
	for i := 0; i < len(s); i++ {
		if tok.byteTokens[s[i]] < 0 {
			return false // a byte the vocabulary cannot spell (StarCoder lacks some)
		}
	}
	for _, id := range tok.specials {
		a := tok.attrs[id]
		if a&attrUserDefined != 0 && a&(attrControl|attrUnknown) == 0 &&
			(tok.spm || a&(attrRStrip|attrLStrip) != 0) && strings.Contains(s, tok.tokens[id]) {
			return false
		}
	}
	if tok.cleanSpaces {
		for _, p := range []string{" ?", " !", " .", " ,", " '"} {
			if strings.Contains(s, p) {
				return false
			}
		}
	}
	return true
}

func TestPieceAndDecode(t *testing.T) {
	spm := loadVocab(t, "llama-spm")
	if got := spm.Piece(1); got != "<s>" {
		t.Errorf("Piece(BOS) = %q", got)
	}
	if got := spm.Piece(13); got != "\n" { // <0x0A>
		t.Errorf("Piece(<0x0A>) = %q", got)
	}
	if got := spm.Piece(15043); got != " Hello" {
		t.Errorf("Piece(▁Hello) = %q", got)
	}
	if got := spm.Decode([]int{15043}); got != "Hello" {
		t.Errorf("Decode(▁Hello) = %q (leading space of the first piece is removed)", got)
	}
	if got := spm.Decode([]int{1, 15043}); got != " Hello" {
		t.Errorf("Decode(BOS ▁Hello) = %q (BOS uses up the space removal, as in llama.cpp)", got)
	}
	// Removing BOS also cancels the leading-space removal (llama.cpp).
	if got := spm.Detokenize([]int{1, 15043, 2}, true, false); got != " Hello" {
		t.Errorf("Detokenize(remove special) = %q", got)
	}
	if got := spm.Detokenize([]int{1, 15043, 2}, false, true); got != "<s> Hello</s>" {
		t.Errorf("Detokenize(unparse special) = %q", got)
	}
	if got := spm.Decode([]int{15043, -5, 1 << 30, 15043}); got != "Hello Hello" {
		t.Errorf("Decode with invalid ids = %q", got)
	}
	gpt2 := loadVocab(t, "gpt-2")
	ids := gpt2.Encode("Hello , world ! It 's", false, false)
	if got := gpt2.Decode(ids); got != "Hello, world! It's" {
		t.Errorf("gpt-2 clean-up: %q", got)
	}
}

// streamAll feeds ids one by one and returns the emitted chunks and the flushed rest.
func streamAll(d *StreamDecoder, ids []int) (chunks []string, rest string) {
	for _, id := range ids {
		chunks = append(chunks, d.Add(id))
	}
	return chunks, d.Flush()
}

func TestStreamDecoder(t *testing.T) {
	for _, name := range []string{"llama-spm", "qwen2", "gpt-2", "llama-bpe"} {
		tok := loadVocab(t, name)
		for _, s := range append(diffCorpus(100), "🙂🚀👍🏽 日本語 a ' b 's ?", "x 're 've 'm . , !") {
			ids := tok.Encode(s, false, false)
			chunks, rest := streamAll(tok.NewStreamDecoder(), ids)
			got := strings.Join(chunks, "") + rest
			if want := tok.Decode(ids); got != want {
				t.Fatalf("%s: stream of %q = %q, Decode = %q", name, s, got, want)
			}
			for _, c := range chunks {
				if !utf8.ValidString(c) && utf8.ValidString(tok.Decode(ids)) {
					t.Fatalf("%s: chunk %q of %q splits a character", name, c, s)
				}
			}
		}
	}
}

// TestStreamHoldsPartialUTF8: an emoji spelled as four byte tokens comes out whole with the
// fourth token, never in pieces.
func TestStreamHoldsPartialUTF8(t *testing.T) {
	spm := loadVocab(t, "llama-spm")
	emoji := "🦙" // F0 9F A6 99
	var ids []int
	for _, b := range []byte(emoji) {
		ids = append(ids, int(spm.byteTokens[b]))
	}
	d := spm.NewStreamDecoder()
	for i, id := range ids[:3] {
		if got := d.Add(id); got != "" {
			t.Fatalf("byte %d: emitted %q before the character was complete", i, got)
		}
	}
	if got := d.Add(ids[3]); got != emoji {
		t.Fatalf("last byte: got %q, want %q", got, emoji)
	}
	// An incomplete sequence at the end comes out with Flush.
	d.Reset()
	d.Add(ids[0])
	d.Add(ids[1])
	if got := d.Flush(); got != "\xf0\x9f" {
		t.Fatalf("Flush = %q", got)
	}
	// Byte-level BPE: Qwen2 splits a rare emoji across tokens.
	q := loadVocab(t, "qwen2")
	qids := q.Encode("🦩", false, false)
	if len(qids) < 2 {
		t.Fatalf("want 🦩 split across tokens, got %v", qids)
	}
	qd := q.NewStreamDecoder()
	for _, id := range qids[:len(qids)-1] {
		if got := qd.Add(id); got != "" {
			t.Fatalf("partial emoji emitted: %q", got)
		}
	}
	if got := qd.Add(qids[len(qids)-1]) + qd.Flush(); got != "🦩" {
		t.Fatalf("got %q", got)
	}
}

func TestCompleteUTF8(t *testing.T) {
	tests := []struct {
		in   string
		want int
	}{
		{"", 0}, {"a", 1}, {"é", 2}, {"\xc3", 0}, {"a\xe2\x82", 1}, {"\xf0\x9f\xa6", 0}, {"\xf0\x9f\xa6\x99", 4},
		{"\x80\x80", 2}, {"a\xff", 2}, {"\x80\x80\x80\x80\x80", 5},
	}
	for _, tc := range tests {
		if got := completeUTF8([]byte(tc.in)); got != tc.want {
			t.Errorf("completeUTF8(%q) = %d, want %d", tc.in, got, tc.want)
		}
	}
}

func TestNewErrors(t *testing.T) {
	tests := []struct {
		name string
		v    *Vocab
	}{
		{"nil", nil},
		{"empty", &Vocab{Model: "llama"}},
		{"unknown model", &Vocab{Model: "bert", Tokens: []string{"a"}}},
		{"unknown pre", &Vocab{Model: "gpt2", Pre: "nonesuch", Tokens: []string{"a"}, Merges: []string{}}},
		{"no merges", &Vocab{Model: "gpt2", Tokens: []string{"a"}}},
		{"short scores", &Vocab{Model: "llama", Tokens: []string{"a", "b"}, Scores: []float32{1}}},
		{"short types", &Vocab{Model: "llama", Tokens: []string{"a", "b"}, Types: []TokenType{1}}},
	}
	for _, tc := range tests {
		if _, err := New(tc.v); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
}

// TestTinyVocab builds vocabularies by hand to pin down the rules that the bundled ones do not
// reach: missing byte tokens, out-of-range special ids, empty token texts, lstrip.
func TestTinyVocab(t *testing.T) {
	v := &Vocab{
		Model:   "llama",
		Tokens:  []string{"<unk>", "<s>", "</s>", "▁a", "b", "", "<x>"},
		Types:   []TokenType{TypeUnknown, TypeControl, TypeControl, TypeNormal, TypeNormal, TypeNormal, TypeUserDefined},
		Scores:  []float32{0, 0, 0, -1, -2, 0, 0},
		Special: SpecialIDs{BOS: Int(1), EOS: Int(99)},
	}
	tok, err := New(v)
	if err != nil {
		t.Fatal(err)
	}
	if tok.EOS() != 2 {
		t.Errorf("out-of-range EOS id: EOS() = %d, want the default 2", tok.EOS())
	}
	if tok.Token(5) != "[EMPTY_5]" {
		t.Errorf("empty token text = %q", tok.Token(5))
	}
	// "▁" and "c" have no token and the vocabulary no byte tokens: each byte becomes <unk>;
	// the user-defined "<x>" is cut out and the text after it gets a space prefix again.
	if got, want := tok.Encode("ab c<x>b", false, false), []int{3, 4, 0, 0, 0, 0, 6, 0, 0, 0, 4}; !slices.Equal(got, want) {
		t.Errorf("Encode = %v, want %v", got, want)
	}
	v.AddSpacePrefix = Bool(false)
	v.AddEOS = Bool(true)
	tok, err = New(v)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := tok.Encode("b", true, false), []int{1, 4, 2}; !slices.Equal(got, want) {
		t.Errorf("Encode without space prefix, with EOS = %v, want %v", got, want)
	}
}

// TestFromGGUFErrors writes metadata with wrong or missing keys and expects clear errors.
func TestFromGGUFErrors(t *testing.T) {
	base := func(w *gguf.Writer) {
		w.SetString("tokenizer.ggml.model", "llama")
		w.SetStrings("tokenizer.ggml.tokens", []string{"<unk>", "<s>", "</s>", "a"})
	}
	tests := []struct {
		name string
		edit func(w *gguf.Writer)
		ok   bool
	}{
		{"valid", func(w *gguf.Writer) {}, true},
		{"no model", func(w *gguf.Writer) { w.SetStrings("tokenizer.ggml.model", nil) }, false},
		{"scores as strings", func(w *gguf.Writer) { w.SetStrings("tokenizer.ggml.scores", []string{"x"}) }, false},
		{"int scores", func(w *gguf.Writer) { w.SetInt32s("tokenizer.ggml.scores", []int32{0, 0, 0, 1}) }, true},
		{"types as floats", func(w *gguf.Writer) { w.SetFloat32s("tokenizer.ggml.token_type", []float32{1}) }, false},
		{"short types", func(w *gguf.Writer) { w.SetInt32s("tokenizer.ggml.token_type", []int32{1}) }, false},
		{"bos as string", func(w *gguf.Writer) { w.SetString("tokenizer.ggml.bos_token_id", "1") }, false},
		{"add_bos as int", func(w *gguf.Writer) { w.SetUint32("tokenizer.ggml.add_bos_token", 1) }, false},
		{"tokens as ints", func(w *gguf.Writer) { w.SetInt32s("tokenizer.ggml.tokens", []int32{1}) }, false},
		{"gpt2 without merges", func(w *gguf.Writer) { w.SetString("tokenizer.ggml.model", "gpt2") }, false},
	}
	for _, tc := range tests {
		w := gguf.NewWriter()
		base(w)
		tc.edit(w)
		var buf bytes.Buffer
		if _, err := w.WriteTo(&buf); err != nil {
			t.Fatal(err)
		}
		f, err := gguf.Parse(buf.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		_, err = FromGGUF(f.Metadata)
		if (err == nil) != tc.ok {
			t.Errorf("%s: err = %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
}

// TestConcurrentEncode runs encoders and decoders of one tokenizer in parallel (run with -race).
func TestConcurrentEncode(t *testing.T) {
	tok := loadVocab(t, "qwen2")
	corpus := diffCorpus(50)
	want := make([][]int, len(corpus))
	for i, s := range corpus {
		want[i] = tok.Encode(s, false, false)
	}
	done := make(chan error, 4)
	for g := range 4 {
		go func() {
			for i := range corpus {
				k := (i + g*13) % len(corpus)
				if got := tok.Encode(corpus[k], false, false); !slices.Equal(got, want[k]) {
					done <- fmt.Errorf("goroutine %d: Encode(%q) = %v, want %v", g, corpus[k], got, want[k])
					return
				}
				_ = tok.Decode(want[k])
			}
			done <- nil
		}()
	}
	for range 4 {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}

func TestValidUTF8(t *testing.T) {
	tests := []struct{ in, want string }{
		{"abc", "abc"},
		{"\xff", "\ufffd"},
		{"\xf0\x9f\x98a", "\ufffda"},           // a truncated 4-byte sequence is one maximal subpart
		{"\xe0\x80\x80", "\ufffd\ufffd\ufffd"}, // overlong: E0 needs A0..BF next
		{"\xed\xa0\x80", "\ufffd\ufffd\ufffd"}, // surrogate
		{"\xf4\x90\x80\x80", "\ufffd\ufffd\ufffd\ufffd"},
		{"é\xc3", "é\ufffd"},
		{"\xc3\xa9\x80", "é\ufffd"},
		{"\xf0\x9f\xa6\x99", "🦙"},
	}
	for _, tc := range tests {
		if got := ValidUTF8(tc.in); got != tc.want {
			t.Errorf("ValidUTF8(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
