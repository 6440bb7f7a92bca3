package llamacpp

import (
	"slices"
	"strings"
	"testing"
)

func TestParseVocabCases(t *testing.T) {
	tests := []struct {
		name     string
		inp, out string
		want     []VocabCase
		wantErr  string
	}{
		{name: "empty", want: nil},
		{
			name: "llama.cpp layout",
			inp:  "Hello\n__ggml_vocab_test__\n\n__ggml_vocab_test__\n \n\n__ggml_vocab_test__\n",
			out:  " 15043\n\n 29871 13\n",
			want: []VocabCase{{"Hello", []int{15043}}, {"", []int{}}, {" \n", []int{29871, 13}}},
		},
		{
			name: "no trailing separator",
			inp:  "a\n__ggml_vocab_test__\nb",
			out:  "1\n2\n",
			want: []VocabCase{{"a", []int{1}}, {"b", []int{2}}},
		},
		{name: "count mismatch", inp: "a\n__ggml_vocab_test__\n", out: "1\n2\n", wantErr: "1 strings but 2 id lines"},
		{name: "bad id", inp: "a\n__ggml_vocab_test__\n", out: "1 x\n", wantErr: `bad token id "x"`},
		{name: "negative id", inp: "a\n__ggml_vocab_test__\n", out: "-3\n", wantErr: `bad token id "-3"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseVocabCases([]byte(tt.inp), []byte(tt.out))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.EqualFunc(got, tt.want, func(a, b VocabCase) bool { return a.Text == b.Text && slices.Equal(a.IDs, b.IDs) }) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func FuzzParseVocabCases(f *testing.F) {
	f.Add([]byte("Hello\n__ggml_vocab_test__\n"), []byte(" 1 2\n"))
	f.Add([]byte("\n__ggml_vocab_test__\n\n__ggml_vocab_test__\n"), []byte("\n\n"))
	f.Fuzz(func(t *testing.T, inp, out []byte) {
		cases, err := ParseVocabCases(inp, out)
		if err != nil {
			return
		}
		for _, c := range cases {
			for _, id := range c.IDs {
				if id < 0 {
					t.Fatalf("negative id %d accepted", id)
				}
			}
		}
	})
}
