package tokenizer

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
)

// attr is llama.cpp's per-token attribute set (llama_token_attr).
type attr uint16

const (
	attrUnknown     attr = 1 << 0
	attrUnused      attr = 1 << 1
	attrNormal      attr = 1 << 2
	attrControl     attr = 1 << 3
	attrUserDefined attr = 1 << 4
	attrByte        attr = 1 << 5
	attrLStrip      attr = 1 << 7
	attrRStrip      attr = 1 << 8
)

// noToken marks an absent special token (llama.cpp's LLAMA_TOKEN_NULL).
const noToken = -1

// Tokenizer encodes and decodes text for one vocabulary. It is immutable after New and safe for
// concurrent use.
type Tokenizer struct {
	spm    bool             // SentencePiece-style ("llama") rather than byte-level BPE ("gpt2")
	tokens []string         // token texts by id
	scores []float32        // SentencePiece merge scores by id
	attrs  []attr           // llama.cpp token attributes by id
	toID   map[string]int32 // token text -> id (the last id of a repeated text)
	pieces []string         // token_to_piece with special=true, by id

	// byte-level BPE
	pre          *preTokenizer
	ranks        bpeRanks
	ignoreMerges bool      // a whole word that is a token is not merged (Llama 3)
	words        wordCache // tokens of recent words

	// special tokens (noToken when absent)
	bos, eos, eot, eom, unk, sep, pad int
	fimPre, fimSuf, fimMid            int
	fimPad, fimRep, fimSep            int
	eog                               map[int]bool
	specials                          []int32   // control, user-defined and unknown tokens, longest text first
	specialTrie                       *trieNode // the texts of specials
	byteTokens                        [256]int32

	addBOS, addEOS bool // add BOS/EOS when encoding with addSpecial
	addSpacePrefix bool // SentencePiece: prefix a space to text fragments; strip it when decoding
	cleanSpaces    bool // clean_up_tokenization_spaces when decoding
}

// New builds a tokenizer from a vocabulary, applying llama.cpp's defaults for everything the
// vocabulary leaves unset. It fails on an unsupported model or pre-tokenizer and on
// inconsistent arrays.
func New(v *Vocab) (*Tokenizer, error) {
	if v == nil {
		return nil, errors.New("tokenizer: nil vocabulary")
	}
	n := len(v.Tokens)
	if n == 0 {
		return nil, errors.New("tokenizer: empty vocabulary")
	}
	if n > math.MaxInt32 {
		return nil, fmt.Errorf("tokenizer: %d tokens is too many", n)
	}
	if v.Scores != nil && len(v.Scores) < n {
		return nil, fmt.Errorf("tokenizer: %d scores for %d tokens", len(v.Scores), n)
	}
	if v.Types != nil && len(v.Types) < n {
		return nil, fmt.Errorf("tokenizer: %d token types for %d tokens", len(v.Types), n)
	}
	t := &Tokenizer{
		eot: noToken, eom: noToken, sep: noToken, pad: noToken,
		fimPre: noToken, fimSuf: noToken, fimMid: noToken, fimPad: noToken, fimRep: noToken, fimSep: noToken,
	}
	switch v.Model {
	case "llama":
		t.spm = true
		t.bos, t.eos, t.unk = 1, 2, 0
		t.addSpacePrefix, t.addBOS = true, true
	case "gpt2":
		if v.Merges == nil {
			return nil, errors.New("tokenizer: byte-level BPE vocabulary without " + keyMerges)
		}
		pre, d, err := preTokenizerFor(v.Pre)
		if err != nil {
			return nil, err
		}
		t.pre = pre
		t.bos, t.eos, t.unk = 11, 11, noToken
		t.cleanSpaces, t.ignoreMerges, t.addBOS = d.cleanSpaces, d.ignoreMerges, d.addBOS
		if d.noBOS {
			t.bos = noToken
		}
	default:
		return nil, fmt.Errorf("tokenizer: unsupported tokenizer model %q", v.Model)
	}
	if v.AddSpacePrefix != nil {
		t.addSpacePrefix = *v.AddSpacePrefix
	}

	// Tokens, scores, attributes. An empty token text is replaced as llama.cpp does; a
	// duplicate text maps to its last id.
	t.tokens = make([]string, n)
	t.scores = make([]float32, n)
	t.attrs = make([]attr, n)
	t.toID = make(map[string]int32, n)
	for i, s := range v.Tokens {
		if s == "" {
			s = fmt.Sprintf("[EMPTY_%d]", i)
		}
		t.tokens[i] = s
		t.toID[s] = int32(i)
		if v.Scores != nil {
			t.scores[i] = v.Scores[i]
		}
		t.attrs[i] = attrNormal
		if v.Types != nil {
			t.attrs[i] = typeAttr(v.Types[i])
		}
	}

	// Special token ids: model defaults (dropped when outside the vocabulary), then metadata.
	for _, p := range []*int{&t.bos, &t.eos, &t.unk} {
		if *p >= n {
			*p = noToken
		}
	}
	s := v.Special
	for _, o := range []struct {
		dst *int
		src *int
	}{
		{&t.bos, s.BOS}, {&t.eos, s.EOS}, {&t.eot, s.EOT}, {&t.eom, s.EOM}, {&t.unk, s.UNK},
		{&t.sep, s.SEP}, {&t.pad, s.PAD}, {&t.fimPre, s.FIMPre}, {&t.fimSuf, s.FIMSuf},
		{&t.fimMid, s.FIMMid}, {&t.fimPad, s.FIMPad}, {&t.fimRep, s.FIMRep}, {&t.fimSep, s.FIMSep},
	} {
		if o.src != nil && *o.src >= 0 && *o.src < n {
			*o.dst = *o.src
		}
	}
	if v.AddBOS != nil {
		t.addBOS = *v.AddBOS
	}
	if v.AddEOS != nil {
		t.addEOS = *v.AddEOS
	}

	t.detectSpecialTokens()

	if !t.spm {
		t.ranks = newBPERanks(v.Merges)
	}
	for b := 0; b < 256; b++ {
		t.byteTokens[b] = t.lookupByteToken(byte(b))
	}

	// Special tokens, longest first (ties by id, for a deterministic order).
	for id, a := range t.attrs {
		if a&(attrControl|attrUserDefined|attrUnknown) != 0 {
			t.specials = append(t.specials, int32(id))
		}
	}
	sort.SliceStable(t.specials, func(i, j int) bool {
		return len(t.tokens[t.specials[i]]) > len(t.tokens[t.specials[j]])
	})

	t.specialTrie = &trieNode{}
	for _, id := range t.specials {
		t.specialTrie.insert(t.tokens[id], id)
	}

	t.pieces = make([]string, n)
	for id := range t.pieces {
		t.pieces[id] = t.computePiece(id)
	}

	// Per-model token attributes that llama.cpp derives from the model name.
	if name := strings.ToLower(v.Name); strings.Contains(name, "phi-3") || strings.Contains(name, "phi3") {
		for _, id := range t.specials {
			t.attrs[id] |= attrRStrip
		}
		if id, ok := t.toID["</s>"]; ok {
			t.attrs[id] |= attrRStrip
		}
		for _, s := range []string{"<unk>", "<s>", "<|endoftext|>"} {
			if id, ok := t.toID[s]; ok {
				t.attrs[id] &^= attrRStrip
			}
		}
	}
	return t, nil
}

func typeAttr(tt TokenType) attr {
	switch tt {
	case TypeNormal:
		return attrNormal
	case TypeUnknown:
		return attrUnknown
	case TypeControl:
		return attrControl
	case TypeUserDefined:
		return attrUserDefined
	case TypeUnused:
		return attrUnused
	case TypeByte:
		return attrByte
	}
	return 0
}

// Texts by which llama.cpp recognises end-of-turn and end-of-generation tokens, in the order
// this package prefers them when it must pick one EOT id.
var (
	eotTexts = []string{"<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>",
		"<|end_of_text|>", "<EOT>", "_<EOT>", "[EOT]", "<｜end▁of▁sentence｜>", "<end_of_utterance>"}
	eogTexts = []string{"<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<|flush|>",
		"<|calls|>", "<end_of_turn>", "<|endoftext|>", "</s>", "<|eom_id|>", "<EOT>", "_<EOT>", "[EOT]",
		"[EOS]", "<|end_of_text|>", "<end_of_utterance>", "<eos>", "<turn|>", "<|tool_response>",
		"<｜end▁of▁sentence｜>", "[e~["}
	fimTexts = map[string][]string{
		"pre": {"<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>", "<｜fim▁begin｜>", "<PRE>", "▁<PRE>", "<|code_prefix|>", "<|prefix|>"},
		"suf": {"<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>", "<｜fim▁hole｜>", "<SUF>", "▁<SUF>", "<|code_suffix|>", "<|suffix|>"},
		"mid": {"<|fim_middle|>", "<fim-middle>", "<fim_middle>", "<｜fim▁end｜>", "<MID>", "▁<MID>", "<|code_middle|>", "<|middle|>"},
		"pad": {"<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]"},
		"rep": {"<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>"},
		"sep": {"<|file_sep|>"},
	}
)

// detectSpecialTokens finds EOT, EOM and FIM tokens by their text when the metadata does not
// name them, marks them as control tokens, marks control tokens named "unused" as unused, and
// builds the end-of-generation set, following llama.cpp's rules.
func (t *Tokenizer) detectSpecialTokens() {
	find := func(dst *int, texts []string) {
		if *dst != noToken {
			return
		}
		for _, s := range texts {
			if id, ok := t.toID[s]; ok {
				*dst = int(id)
				t.attrs[id] |= attrControl
				return
			}
		}
	}
	find(&t.eot, eotTexts)
	find(&t.eom, []string{"<|eom_id|>"})
	find(&t.fimPre, fimTexts["pre"])
	find(&t.fimSuf, fimTexts["suf"])
	find(&t.fimMid, fimTexts["mid"])
	find(&t.fimPad, fimTexts["pad"])
	find(&t.fimRep, fimTexts["rep"])
	find(&t.fimSep, fimTexts["sep"])

	for id, a := range t.attrs {
		if a&attrControl != 0 && strings.Contains(t.tokens[id], "unused") {
			t.attrs[id] |= attrUnused
		}
	}

	t.eog = map[int]bool{}
	for _, id := range []int{t.fimPad, t.fimRep, t.fimSep} {
		if id != noToken {
			t.eog[id] = true
		}
	}
	for _, s := range eogTexts {
		if id, ok := t.toID[s]; ok {
			t.eog[int(id)] = true
			t.attrs[id] |= attrControl
		}
	}
	for _, s := range []string{"<|channel|>", "<|message|>", "<|start|>", "<|constrain|>"} {
		if id, ok := t.toID[s]; ok {
			t.attrs[id] = attrUserDefined
		}
	}
	for _, id := range []int{t.eos, t.eot, t.eom} {
		if id != noToken {
			t.eog[id] = true
		}
	}
	// "<|end|>" is not an end of generation where "<|return|>" and "<|call|>" (or "<|calls|>"
	// and "<|flush|>") exist; "</s>" is not where "<|tool_response>" exists.
	has := func(s string) (int, bool) {
		id, ok := t.toID[s]
		return int(id), ok && t.eog[int(id)]
	}
	_, ret := has("<|return|>")
	_, call := has("<|call|>")
	_, calls := has("<|calls|>")
	_, flush := has("<|flush|>")
	if end, ok := has("<|end|>"); ok && ((ret && (call || calls)) || ((call || calls) && flush)) {
		delete(t.eog, end)
		t.attrs[end] = attrUserDefined
	}
	if _, ok := has("<|tool_response>"); ok {
		if s, ok := has("</s>"); ok {
			delete(t.eog, s)
			t.attrs[s] = attrNormal
		}
	}
}

// lookupByteToken is the token that stands for one raw byte: "<0xXX>" (or the byte itself) in
// SentencePiece vocabularies, the byte's code point in byte-level BPE ones; -1 if none.
func (t *Tokenizer) lookupByteToken(b byte) int32 {
	if t.spm {
		if id, ok := t.toID[fmt.Sprintf("<0x%02X>", b)]; ok {
			return id
		}
		if id, ok := t.toID[string([]byte{b})]; ok {
			return id
		}
		return noToken
	}
	if id, ok := t.toID[string(byteToRune[b])]; ok {
		return id
	}
	return noToken
}

// VocabSize is the number of tokens.
func (t *Tokenizer) VocabSize() int { return len(t.tokens) }

// BOS is the beginning-of-sequence token id, or -1 if the vocabulary has none.
func (t *Tokenizer) BOS() int { return t.bos }

// EOS is the end-of-sequence token id, or -1 if the vocabulary has none.
func (t *Tokenizer) EOS() int { return t.eos }

// EOT is the end-of-turn token id (from the metadata, else recognised by its text), or -1.
func (t *Tokenizer) EOT() int { return t.eot }

// UNK is the unknown token id, or -1.
func (t *Tokenizer) UNK() int { return t.unk }

// PAD is the padding token id, or -1.
func (t *Tokenizer) PAD() int { return t.pad }

// AddBOS reports whether the vocabulary asks for a BOS token in front of a prompt.
func (t *Tokenizer) AddBOS() bool { return t.addBOS && t.bos != noToken }

// AddEOS reports whether the vocabulary asks for an EOS token after a prompt.
func (t *Tokenizer) AddEOS() bool { return t.addEOS && t.eos != noToken }

// IsEOG reports whether id ends generation (EOS, EOT, EOM, im_end-style tokens, FIM
// pad/repo/separator tokens), as llama.cpp's llama_vocab_is_eog decides.
func (t *Tokenizer) IsEOG(id int) bool { return t.eog[id] }

// EOG returns the end-of-generation token ids in increasing order.
func (t *Tokenizer) EOG() []int {
	ids := make([]int, 0, len(t.eog))
	for id := range t.eog {
		ids = append(ids, id)
	}
	sort.Ints(ids)
	return ids
}

// Token returns the stored text of a token ("" for an id outside the vocabulary).
func (t *Tokenizer) Token(id int) string {
	if id < 0 || id >= len(t.tokens) {
		return ""
	}
	return t.tokens[id]
}

// IsControl reports whether id is a control token (rendered only when special tokens are
// decoded).
func (t *Tokenizer) IsControl(id int) bool {
	return id >= 0 && id < len(t.attrs) && t.attrs[id]&attrControl != 0
}

// ID returns the id of the token whose stored text is exactly s.
func (t *Tokenizer) ID(s string) (int, bool) {
	id, ok := t.toID[s]
	return int(id), ok
}
