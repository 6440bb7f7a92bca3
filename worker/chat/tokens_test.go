package chat_test

import (
	"slices"
	"testing"

	"aisle/worker/chat"
	"aisle/worker/internal/llamacpp"
)

// TestPromptsTokenizeWithOneBOS renders a conversation for each family, tokenizes it as the BOS
// contract says (special tokens parsed; BOS added by the tokenizer only when the template did
// not write it) with llama.cpp and a real vocabulary of that family, and checks that the
// prompt holds exactly one BOS, first, and that the turn markers and the first stop string are
// single control tokens there.
func TestPromptsTokenizeWithOneBOS(t *testing.T) {
	llamacpp.Require(t)
	tests := []struct {
		vocab    string
		families []chat.Family
		markers  []string // texts that must each be one token
	}{
		{"ggml-vocab-qwen2.gguf", []chat.Family{chat.ChatML, chat.Qwen2, chat.Qwen3, chat.SmolLM3},
			[]string{"<|im_start|>", "<|im_end|>", "<|endoftext|>"}},
		{"ggml-vocab-llama-bpe.gguf", []chat.Family{chat.Llama3, chat.Llama31, chat.Llama32},
			[]string{"<|begin_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>", "<|end_of_text|>"}},
		{"ggml-vocab-llama-spm.gguf", []chat.Family{chat.Llama2, chat.Zephyr}, []string{"<s>", "</s>"}},
		{"ggml-vocab-phi-3.gguf", []chat.Family{chat.Phi3}, []string{"<|user|>", "<|assistant|>", "<|end|>", "<|endoftext|>"}},
	}
	conv := []chat.Message{{"system", "You help shoppers."}, {"user", "Hi"}, {"assistant", "Hello!"}, {"user", "Milk?"}}
	for _, tt := range tests {
		t.Run(tt.vocab, func(t *testing.T) {
			t.Parallel()
			p := llamacpp.StartT(t, "../testdata/vocab/"+tt.vocab, llamacpp.Options{VocabOnly: true})
			info := p.Info()
			for _, m := range tt.markers {
				ids, err := p.Tokenize(m, false, true)
				if err != nil {
					t.Fatal(err)
				}
				if len(ids) != 1 {
					t.Errorf("%q is %d tokens %v, want one control token", m, len(ids), ids)
				}
			}
			for _, f := range tt.families {
				tmpl := chat.For(f)
				text, err := tmpl.Render(conv, true)
				if err != nil {
					t.Fatal(err)
				}
				ids, err := p.Tokenize(text, !tmpl.EmitsBOS() && info.AddBOS, true)
				if err != nil {
					t.Fatal(err)
				}
				nBOS := 0
				for _, id := range ids {
					if id == info.BOS {
						nBOS++
					}
				}
				wantBOS := 0
				if info.AddBOS || tmpl.EmitsBOS() {
					wantBOS = 1
				}
				if f == chat.Llama2 {
					wantBOS = 2 // Llama 2 opens every user turn with BOS
				}
				if nBOS != wantBOS || (wantBOS > 0 && ids[0] != info.BOS) {
					t.Errorf("%s: %d BOS tokens (first token %d), want %d first: %v", f, nBOS, ids[0], wantBOS, ids)
				}
				stop, err := p.Tokenize(tmpl.Stops()[0], false, true)
				if err != nil {
					t.Fatal(err)
				}
				if len(stop) != 1 || !slices.Contains(ids, stop[0]) {
					t.Errorf("%s: stop %q is %v, want one token that the prompt uses", f, tmpl.Stops()[0], stop)
				}
			}
		})
	}
}
