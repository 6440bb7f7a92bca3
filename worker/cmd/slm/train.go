package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	"aisle/worker/gguf"
	"aisle/worker/modelgen"
	"aisle/worker/tokenizer"
)

// chatSpecials are the special tokens of the vocabularies train-tokenizer writes, in id
// order: <|endoftext|> is BOS and padding, <|im_end|> is EOS (ChatML turns end with it).
var chatSpecials = []string{"<|endoftext|>", "<|im_start|>", "<|im_end|>"}

// cmdTrainTokenizer: slm train-tokenizer -in FILE.jsonl [-in ...] -vocab-size N
// [-chat-template FILE] -o vocab.gguf. It learns a byte-level BPE from the "text" field of
// every JSON line and writes a vocabulary-only GGUF.
func cmdTrainTokenizer(args []string, stdout io.Writer) error {
	fs := newFlags("train-tokenizer")
	var inputs multiFlag
	fs.Var(&inputs, "in", "JSONL file whose lines hold a \"text\" string (repeatable)")
	size := fs.Int("vocab-size", 4096, "tokens in the vocabulary, special and byte tokens included")
	templateFile := fs.String("chat-template", "", "file with a chat template to store as tokenizer.chat_template")
	out := fs.String("o", "", "output vocabulary GGUF")
	if err := parse(fs, args); err != nil {
		return err
	}
	if len(inputs) == 0 || *out == "" {
		return fmt.Errorf("%w: -in and -o are required", errUsage)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	template, err := readOptional(*templateFile)
	if err != nil {
		return err
	}
	start := time.Now()
	var texts []string
	bytesIn := 0
	for _, path := range inputs {
		if texts, err = readJSONLTexts(path, texts); err != nil {
			return err
		}
	}
	for _, t := range texts {
		bytesIn += len(t)
	}
	v, err := tokenizer.TrainBPE(texts, tokenizer.BPEOptions{VocabSize: *size, Special: chatSpecials})
	if err != nil {
		return err
	}
	v.Special.BOS, v.Special.EOS, v.Special.PAD = tokenizer.Int(0), tokenizer.Int(2), tokenizer.Int(0)
	w := gguf.NewWriter()
	v.SetGGUF(w)
	if template != "" {
		w.SetString("tokenizer.chat_template", template)
	}
	if err := writeAtomically(*out, func(f io.Writer) error { _, err := w.WriteTo(f); return err }); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "wrote %s: %d tokens, %d merges from %d texts (%d bytes) in %s\n", *out, len(v.Tokens),
		len(v.Merges), len(texts), bytesIn, time.Since(start).Round(time.Millisecond))
	return nil
}

// readJSONLTexts appends the "text" string of every non-blank line of a JSONL file.
func readJSONLTexts(path string, texts []string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 256<<20)
	for line := 1; sc.Scan(); line++ {
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		var rec struct {
			Text *string `json:"text"`
		}
		if err := json.Unmarshal(b, &rec); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, line, err)
		}
		if rec.Text == nil {
			return nil, fmt.Errorf("%s:%d: no \"text\" string", path, line)
		}
		texts = append(texts, *rec.Text)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return texts, nil
}

// cmdExport: slm export -weights W.safetensors -vocab vocab.gguf [-type Q8_0] [-name NAME]
// [-chat-template FILE] -o model.gguf. It writes trained weights as a GGUF model.
func cmdExport(args []string, stdout io.Writer) error {
	fs := newFlags("export")
	weights := fs.String("weights", "", "safetensors file written by the training script")
	vocab := fs.String("vocab", "", "vocabulary GGUF (tokenizer and chat template)")
	typName := fs.String("type", "Q8_0", "weight type: F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q5_K, Q6_K")
	name := fs.String("name", "", "general.name (default: the weights' name metadata)")
	templateFile := fs.String("chat-template", "", "file with a chat template overriding the vocabulary's")
	out := fs.String("o", "", "output model GGUF")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *weights == "" || *vocab == "" || *out == "" {
		return fmt.Errorf("%w: -weights, -vocab and -o are required", errUsage)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	typ, ok := parseType(*typName)
	if !ok {
		return fmt.Errorf("%w: unknown tensor type %q", errUsage, *typName)
	}
	template, err := readOptional(*templateFile)
	if err != nil {
		return err
	}
	start := time.Now()
	data, err := os.ReadFile(*weights)
	if err != nil {
		return err
	}
	st, err := modelgen.ParseSafetensors(data)
	if err != nil {
		return fmt.Errorf("%s: %w", *weights, err)
	}
	vf, err := gguf.Open(*vocab)
	if err != nil {
		return err
	}
	defer vf.Close()
	spec, err := modelgen.ExportSpec(st, modelgen.ExportOptions{Type: typ, Name: *name, Vocab: vf, ChatTemplate: template})
	if err != nil {
		return fmt.Errorf("%s: %w", *weights, err)
	}
	if err := writeAtomically(*out, func(f io.Writer) error { return modelgen.Write(f, spec) }); err != nil {
		return err
	}
	s := spec.Shape
	fmt.Fprintf(os.Stderr, "wrote %s: %s %s, dim %d, %d layers, %d/%d heads of %d, ffn %d, tied output %v, in %s\n",
		*out, spec.Arch, typ, s.Dim, s.Layers, s.Heads, s.KVHeads, s.HeadDim, s.FFNDim, s.TiedOutput,
		time.Since(start).Round(time.Millisecond))
	return nil
}

// readOptional returns the contents of the file at path, or "" when path is "".
func readOptional(path string) (string, error) {
	if path == "" {
		return "", nil
	}
	b, err := os.ReadFile(path)
	return string(b), err
}

// writeAtomically writes path through write into path.partial, then renames it into place;
// on failure nothing is left at either name.
func writeAtomically(path string, write func(io.Writer) error) error {
	tmp := path + ".partial"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	if err := write(bw); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, path)
}
