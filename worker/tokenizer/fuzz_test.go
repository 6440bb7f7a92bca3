package tokenizer

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"
	"unicode/utf8"

	"aisle/worker/gguf"
)

// fuzzVocabs are the vocabularies the fuzzers run: both model families, every splitter kind,
// and both settings of the space clean-up.
var fuzzVocabs = []string{"llama-spm", "phi-3", "qwen2", "llama-bpe", "gpt-2", "starcoder", "deepseek-llm", "stories260K"}

// FuzzEncode: Encode never panics, returns ids inside the vocabulary, round-trips where
// llama.cpp's design promises it, and the stream decoder agrees with Decode.
func FuzzEncode(f *testing.F) {
	for _, s := range corpusFixed {
		f.Add(s, false)
	}
	f.Add("<|im_start|>user\nHi<|im_end|>", true)
	f.Add("\xff\xfe\xc3", false)
	f.Add("\xed\xa0\x80\xc0\x80\xf4\x90\x80\x80", false)
	toks := make([]*Tokenizer, len(fuzzVocabs))
	for i, name := range fuzzVocabs {
		toks[i] = loadVocab(f, name)
	}
	f.Fuzz(func(t *testing.T, text string, parseSpecial bool) {
		if len(text) > 4096 {
			return
		}
		for i, tok := range toks {
			ids := tok.Encode(text, true, parseSpecial)
			for _, id := range ids {
				if id < 0 || id >= tok.VocabSize() {
					t.Fatalf("%s: id %d out of range for %q", fuzzVocabs[i], id, text)
				}
			}
			plain := tok.Encode(text, false, false)
			if roundTrips(tok, text) {
				if got := tok.Decode(plain); got != text {
					t.Fatalf("%s: Decode(Encode(%q)) = %q", fuzzVocabs[i], text, got)
				}
			}
			checkStream(t, tok, ids)
		}
	})
}

// FuzzDecode: Decode and the stream decoder never panic on arbitrary ids (in range or not)
// and always agree, with and without special tokens rendered.
func FuzzDecode(f *testing.F) {
	f.Add([]byte{0, 0, 1, 0, 2, 0})
	gpt2 := loadVocab(f, "gpt-2")
	seed := func(s string) []byte {
		var b []byte
		for _, id := range gpt2.Encode(s, false, false) {
			b = binary.LittleEndian.AppendUint32(b, uint32(id))
		}
		return b
	}
	f.Add(seed("It 's a ' test ' , isn 't it ? Yes ! 're 've 'm 'll . ,"))
	f.Add(seed("🙂🚀 日本 a 'r e"))
	toks := make([]*Tokenizer, len(fuzzVocabs))
	for i, name := range fuzzVocabs {
		toks[i] = loadVocab(f, name)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var raw []uint32
		for len(data) >= 4 {
			raw = append(raw, binary.LittleEndian.Uint32(data))
			data = data[4:]
		}
		for _, tok := range toks {
			ids := make([]int, len(raw))
			for i, r := range raw {
				// mostly valid ids, some far outside the vocabulary
				if r&0x80000000 != 0 {
					ids[i] = int(int32(r))
				} else {
					ids[i] = int(r % uint32(tok.VocabSize()+2))
				}
			}
			checkStream(t, tok, ids)
			_ = tok.Detokenize(ids, true, true)
			for _, id := range ids {
				_ = tok.Piece(id)
			}
		}
	})
}

// checkStream feeds ids to both stream decoders and compares with Detokenize.
func checkStream(t *testing.T, tok *Tokenizer, ids []int) {
	t.Helper()
	for _, special := range []bool{false, true} {
		d := tok.NewStreamDecoder()
		if special {
			d = tok.NewStreamDecoderSpecial()
		}
		want := tok.Detokenize(ids, false, special)
		valid := utf8.ValidString(want)
		var sb, vb strings.Builder
		for _, id := range ids {
			chunk := d.Add(id)
			if valid && !utf8.ValidString(chunk) {
				t.Fatalf("stream chunk %q splits a character (ids %v)", chunk, ids)
			}
			sb.WriteString(chunk)
			vb.WriteString(ValidUTF8(chunk))
		}
		rest := d.Flush()
		sb.WriteString(rest)
		vb.WriteString(ValidUTF8(rest))
		if vb.String() != ValidUTF8(want) {
			t.Fatalf("stream chunks made valid one by one = %q, whole = %q (ids %v)", vb.String(), ValidUTF8(want), ids)
		}
		if sb.String() != want {
			t.Fatalf("stream (special=%v) of %v = %q, Detokenize = %q", special, ids, sb.String(), want)
		}
	}
}

// FuzzValidUTF8: the result is valid UTF-8, leaves valid text alone, and agrees with Go's
// decoder on where replacements go for everything Go decodes as one rune.
func FuzzValidUTF8(f *testing.F) {
	for _, s := range []string{"", "abc", "\xff", "\xf0\x9f\x98", "\xe0\x80\x80", "\xed\xa0\x80", "é\xc3", "\xf4\x90\x80\x80"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v := ValidUTF8(s)
		if !utf8.ValidString(v) {
			t.Fatalf("ValidUTF8(%q) = %q is not valid", s, v)
		}
		if utf8.ValidString(s) && v != s {
			t.Fatalf("ValidUTF8 changed valid %q to %q", s, v)
		}
		if ValidUTF8(v) != v {
			t.Fatalf("not idempotent on %q", s)
		}
	})
}

// FuzzFromGGUF: building a tokenizer from arbitrary (parsable) metadata never panics, and a
// tokenizer that builds encodes and decodes without panicking.
func FuzzFromGGUF(f *testing.F) {
	tiny := func(model, pre string, merges bool) []byte {
		w := gguf.NewWriter()
		w.SetString("tokenizer.ggml.model", model)
		if pre != "" {
			w.SetString("tokenizer.ggml.pre", pre)
		}
		w.SetStrings("tokenizer.ggml.tokens", []string{"<unk>", "<s>", "</s>", "<0x41>", "▁a", "Ġ", "a", "b", "ab", "<|im_end|>", ""})
		w.SetFloat32s("tokenizer.ggml.scores", []float32{0, 0, 0, 0, -1, 0, 0, 0, -2, 0, 0})
		w.SetInt32s("tokenizer.ggml.token_type", []int32{2, 3, 3, 6, 1, 1, 1, 1, 1, 3, 4})
		if merges {
			w.SetStrings("tokenizer.ggml.merges", []string{"a b", "Ġ a", "x", " y"})
		}
		w.SetUint32("tokenizer.ggml.bos_token_id", 1)
		w.SetBool("tokenizer.ggml.add_bos_token", true)
		var buf bytes.Buffer
		if _, err := w.WriteTo(&buf); err != nil {
			f.Fatal(err)
		}
		return buf.Bytes()
	}
	f.Add(tiny("llama", "", false))
	f.Add(tiny("gpt2", "qwen2", true))
	f.Add(tiny("gpt2", "llama-bpe", true))
	f.Add(tiny("gpt2", "deepseek-llm", true))
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := gguf.Parse(data)
		if err != nil {
			return
		}
		tok, err := FromGGUF(file.Metadata)
		if err != nil {
			return
		}
		ids := tok.Encode("ab <|im_end|> Ġa\xff 12", true, true)
		_ = tok.Decode(ids)
		d := tok.NewStreamDecoder()
		for _, id := range ids {
			d.Add(id)
		}
		d.Flush()
	})
}
