package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"time"

	"aisle/worker/gguf"
	"aisle/worker/modelgen"
)

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
