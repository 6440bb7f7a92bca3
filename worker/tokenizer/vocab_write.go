package tokenizer

import "aisle/worker/gguf"

// SetGGUF stores the vocabulary in w's metadata under the keys VocabFromGGUF reads (the
// inverse of VocabFromGGUF): tokenizer.ggml.model, pre, tokens, scores, token_type, merges,
// the special token ids and flags that are set, and general.name when Name is set. Together
// they make a vocabulary-only GGUF like llama.cpp's ggml-vocab-*.gguf files (which also hold
// a model's hyper-parameters; these do not), or the tokenizer part of a model.
func (v *Vocab) SetGGUF(w *gguf.Writer) {
	if v.Name != "" {
		w.SetString(keyName, v.Name)
	}
	w.SetString(keyModel, v.Model)
	if v.Pre != "" {
		w.SetString(keyPre, v.Pre)
	}
	w.SetStrings(keyTokens, v.Tokens)
	if v.Scores != nil {
		w.SetFloat32s(keyScores, v.Scores)
	}
	if v.Types != nil {
		types := make([]int32, len(v.Types))
		for i, t := range v.Types {
			types[i] = int32(t)
		}
		w.SetInt32s(keyTypes, types)
	}
	if v.Merges != nil {
		w.SetStrings(keyMerges, v.Merges)
	}
	s := v.Special
	for _, id := range []struct {
		key string
		id  *int
	}{
		{"bos_token_id", s.BOS}, {"eos_token_id", s.EOS}, {"eot_token_id", s.EOT}, {"eom_token_id", s.EOM},
		{"unknown_token_id", s.UNK}, {"seperator_token_id", s.SEP}, {"padding_token_id", s.PAD},
		{"mask_token_id", s.Mask}, {"fim_pre_token_id", s.FIMPre}, {"fim_suf_token_id", s.FIMSuf},
		{"fim_mid_token_id", s.FIMMid}, {"fim_pad_token_id", s.FIMPad}, {"fim_rep_token_id", s.FIMRep},
		{"fim_sep_token_id", s.FIMSep},
	} {
		if id.id != nil && *id.id >= 0 {
			w.SetUint32("tokenizer.ggml."+id.key, uint32(*id.id))
		}
	}
	for _, f := range []struct {
		key string
		v   *bool
	}{
		{"tokenizer.ggml.add_bos_token", v.AddBOS},
		{"tokenizer.ggml.add_eos_token", v.AddEOS},
		{"tokenizer.ggml.add_space_prefix", v.AddSpacePrefix},
	} {
		if f.v != nil {
			w.SetBool(f.key, *f.v)
		}
	}
}
