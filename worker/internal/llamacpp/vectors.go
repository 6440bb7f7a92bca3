package llamacpp

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// VocabCase is one tokenizer test vector of llama.cpp's format: Text tokenized with
// add_special=false and parse_special=false gives IDs.
type VocabCase struct {
	Text string
	IDs  []int
}

// vocabSep separates the strings of a .inp file (llama.cpp's test-tokenizer-0 format).
const vocabSep = "\n__ggml_vocab_test__\n"

// ReadVocabCases reads a pair X.inp / X.out of llama.cpp tokenizer test vectors: .inp holds the
// strings, each followed by a line "__ggml_vocab_test__"; .out holds one line of
// space-separated token ids per string, in the same order.
func ReadVocabCases(inpPath, outPath string) ([]VocabCase, error) {
	inp, err := os.ReadFile(inpPath)
	if err != nil {
		return nil, err
	}
	out, err := os.ReadFile(outPath)
	if err != nil {
		return nil, err
	}
	return ParseVocabCases(inp, out)
}

// ParseVocabCases parses the contents of a .inp / .out pair (see ReadVocabCases).
func ParseVocabCases(inp, out []byte) ([]VocabCase, error) {
	var texts []string
	for rest := string(inp); rest != ""; {
		i := strings.Index(rest, vocabSep)
		if i < 0 {
			// llama.cpp takes what follows the last separator as one more string.
			texts = append(texts, rest)
			break
		}
		texts = append(texts, rest[:i])
		rest = rest[i+len(vocabSep):]
	}
	var ids [][]int
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	for line := 1; sc.Scan(); line++ {
		fields := strings.Fields(sc.Text())
		row := make([]int, len(fields))
		for j, f := range fields {
			v, err := strconv.Atoi(f)
			if err != nil || v < 0 {
				return nil, fmt.Errorf("llamacpp: vocab vectors: .out line %d: bad token id %q", line, f)
			}
			row[j] = v
		}
		ids = append(ids, row)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("llamacpp: vocab vectors: .out: %w", err)
	}
	if len(texts) != len(ids) {
		return nil, fmt.Errorf("llamacpp: vocab vectors: %d strings but %d id lines", len(texts), len(ids))
	}
	cases := make([]VocabCase, len(texts))
	for i := range texts {
		cases[i] = VocabCase{Text: texts[i], IDs: ids[i]}
	}
	return cases, nil
}
