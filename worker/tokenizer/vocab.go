package tokenizer

import (
	"errors"
	"fmt"

	"aisle/worker/gguf"
)

// TokenType is the per-token type stored in tokenizer.ggml.token_type.
type TokenType int32

// Token types (GGUF / llama.cpp numbering).
const (
	TypeUndefined   TokenType = 0
	TypeNormal      TokenType = 1
	TypeUnknown     TokenType = 2
	TypeControl     TokenType = 3
	TypeUserDefined TokenType = 4
	TypeUnused      TokenType = 5
	TypeByte        TokenType = 6
)

// Vocab is everything a tokenizer is built from, in the shape the GGUF metadata stores it.
// Optional values are pointers: nil means the key is absent and the model family's default
// applies (as llama.cpp decides it).
type Vocab struct {
	Model  string      // tokenizer.ggml.model: "llama" (SentencePiece) or "gpt2" (byte-level BPE)
	Pre    string      // tokenizer.ggml.pre; "" means "default"
	Name   string      // general.name; llama.cpp derives token attributes from it for Phi-3
	Tokens []string    // tokenizer.ggml.tokens, indexed by id
	Scores []float32   // tokenizer.ggml.scores; nil means all 0; else at least len(Tokens)
	Types  []TokenType // tokenizer.ggml.token_type; nil means all normal; else at least len(Tokens)
	Merges []string    // tokenizer.ggml.merges, "left right", rank = index (BPE only)

	Special SpecialIDs

	AddBOS         *bool // tokenizer.ggml.add_bos_token
	AddEOS         *bool // tokenizer.ggml.add_eos_token
	AddSpacePrefix *bool // tokenizer.ggml.add_space_prefix
}

// SpecialIDs are the special token ids given by the metadata (tokenizer.ggml.*_token_id). An
// id outside the vocabulary is ignored, as llama.cpp ignores it.
type SpecialIDs struct {
	BOS, EOS, EOT, EOM, UNK, SEP, PAD, Mask        *int
	FIMPre, FIMSuf, FIMMid, FIMPad, FIMRep, FIMSep *int
}

// Int returns a pointer to v, for filling the optional fields of a Vocab.
func Int(v int) *int { return &v }

// Bool returns a pointer to v, for filling the optional fields of a Vocab.
func Bool(v bool) *bool { return &v }

// Metadata keys read by FromGGUF.
const (
	keyModel  = "tokenizer.ggml.model"
	keyPre    = "tokenizer.ggml.pre"
	keyTokens = "tokenizer.ggml.tokens"
	keyScores = "tokenizer.ggml.scores"
	keyTypes  = "tokenizer.ggml.token_type"
	keyMerges = "tokenizer.ggml.merges"
	keyName   = "general.name"
)

// FromGGUF builds the tokenizer described by a GGUF file's metadata.
func FromGGUF(md gguf.Metadata) (*Tokenizer, error) {
	v, err := VocabFromGGUF(md)
	if err != nil {
		return nil, err
	}
	return New(v)
}

// VocabFromGGUF reads the tokenizer keys of a GGUF file's metadata. Keys of the wrong type are
// errors; absent optional keys stay nil.
func VocabFromGGUF(md gguf.Metadata) (*Vocab, error) {
	v := &Vocab{}
	var ok bool
	if v.Model, ok = md.String(keyModel); !ok {
		if md.Has(keyModel) {
			return nil, fmt.Errorf("tokenizer: %s is not a string", keyModel)
		}
		return nil, errors.New("tokenizer: the model file has no tokenizer (" + keyModel + " is missing)")
	}
	if md.Has(keyPre) {
		if v.Pre, ok = md.String(keyPre); !ok {
			return nil, fmt.Errorf("tokenizer: %s is not a string", keyPre)
		}
	}
	v.Name, _ = md.String(keyName)
	if v.Tokens, ok = md.Strings(keyTokens); !ok {
		if md.Has(keyTokens) {
			return nil, fmt.Errorf("tokenizer: %s is not an array of strings", keyTokens)
		}
		return nil, fmt.Errorf("tokenizer: %s is missing", keyTokens)
	}
	if md.Has(keyScores) {
		if v.Scores, ok = md.Float32s(keyScores); !ok {
			ints, iok := md.Int32s(keyScores)
			if !iok {
				return nil, fmt.Errorf("tokenizer: %s is not an array of float32 or int32", keyScores)
			}
			v.Scores = make([]float32, len(ints))
			for i, x := range ints {
				v.Scores[i] = float32(x)
			}
		}
	}
	if md.Has(keyTypes) {
		types, tok := md.Int32s(keyTypes)
		if !tok {
			return nil, fmt.Errorf("tokenizer: %s is not an array of int32", keyTypes)
		}
		v.Types = make([]TokenType, len(types))
		for i, t := range types {
			v.Types[i] = TokenType(t)
		}
	}
	if md.Has(keyMerges) {
		if v.Merges, ok = md.Strings(keyMerges); !ok {
			return nil, fmt.Errorf("tokenizer: %s is not an array of strings", keyMerges)
		}
	}
	ids := []struct {
		key string
		dst **int
	}{
		{"bos_token_id", &v.Special.BOS},
		{"eos_token_id", &v.Special.EOS},
		{"eot_token_id", &v.Special.EOT},
		{"eom_token_id", &v.Special.EOM},
		{"unknown_token_id", &v.Special.UNK},
		{"seperator_token_id", &v.Special.SEP}, // sic: the key as llama.cpp spells it
		{"padding_token_id", &v.Special.PAD},
		{"mask_token_id", &v.Special.Mask},
		{"fim_pre_token_id", &v.Special.FIMPre},
		{"fim_suf_token_id", &v.Special.FIMSuf},
		{"fim_mid_token_id", &v.Special.FIMMid},
		{"fim_pad_token_id", &v.Special.FIMPad},
		{"fim_rep_token_id", &v.Special.FIMRep},
		{"fim_sep_token_id", &v.Special.FIMSep},
		// deprecated names, read after the current ones (they win, as in llama.cpp)
		{"prefix_token_id", &v.Special.FIMPre},
		{"suffix_token_id", &v.Special.FIMSuf},
		{"middle_token_id", &v.Special.FIMMid},
	}
	for _, id := range ids {
		key := "tokenizer.ggml." + id.key
		if !md.Has(key) {
			continue
		}
		n, ok := md.Uint32(key)
		if !ok {
			return nil, fmt.Errorf("tokenizer: %s is not a non-negative integer", key)
		}
		if int(n) < len(v.Tokens) { // out-of-range ids are ignored, as llama.cpp does
			*id.dst = Int(int(n))
		}
	}
	flags := []struct {
		key string
		dst **bool
	}{
		{"tokenizer.ggml.add_bos_token", &v.AddBOS},
		{"tokenizer.ggml.add_eos_token", &v.AddEOS},
		{"tokenizer.ggml.add_space_prefix", &v.AddSpacePrefix},
	}
	for _, f := range flags {
		if !md.Has(f.key) {
			continue
		}
		b, ok := md.Bool(f.key)
		if !ok {
			return nil, fmt.Errorf("tokenizer: %s is not a bool", f.key)
		}
		*f.dst = Bool(b)
	}
	return v, nil
}
