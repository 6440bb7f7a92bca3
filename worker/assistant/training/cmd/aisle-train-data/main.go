// Command aisle-train-data writes the training data of the bundled model: it generates the
// conversations of package training, learns the byte-level BPE vocabulary from a sample of
// them, and writes the token files the recipe's train.py reads.
//
//	aisle-train-data -stores 3000 -val-stores 60 -seed 1 -vocab-size 4096 -out DIR
//
// DIR gets vocab.gguf (the tokenizer with the chat template: `slm export -vocab`),
// train.{tokens,mask,docs} (SplitTrain stores), val.{tokens,mask,docs} (SplitEval stores: held-out
// product families, brands and store names), data.json (counts and settings) and
// samples.txt (a few conversations as the model reads them). The same flags give the same
// files on every machine.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"aisle/worker/assistant/synth"
	"aisle/worker/assistant/training"
	"aisle/worker/gguf"
	"aisle/worker/tokenizer"
)

func main() {
	stores := flag.Int("stores", 3000, "training stores (SplitTrain)")
	valStores := flag.Int("val-stores", 60, "validation stores (SplitEval: held-out vocabulary)")
	seed := flag.Uint64("seed", 1, "seed of every store and question")
	vocabSize := flag.Int("vocab-size", 4096, "tokens in the learned vocabulary")
	tokSample := flag.Int("tokenizer-stores", 300, "stores whose conversations the vocabulary is learned from")
	ctx := flag.Int("ctx", 1024, "context length: longer conversations are left out")
	out := flag.String("out", "", "output directory")
	flag.Parse()
	if *out == "" || *stores <= 0 || *valStores <= 0 {
		fmt.Fprintln(os.Stderr, "usage: aisle-train-data -out DIR [-stores N] [-val-stores N] [-seed S] [-vocab-size N]")
		os.Exit(2)
	}
	if err := run(*out, *stores, *valStores, *seed, *vocabSize, *tokSample, *ctx); err != nil {
		fmt.Fprintln(os.Stderr, "aisle-train-data:", err)
		os.Exit(1)
	}
}

func run(out string, stores, valStores int, seed uint64, vocabSize, tokSample, ctx int) error {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	train := training.Spec{Stores: stores, Seed: seed, Split: synth.SplitTrain}
	val := training.Spec{Stores: valStores, Seed: seed ^ 0x5ea1, Split: synth.SplitEval}

	// the vocabulary, from the conversations of the first stores
	var texts []string
	err := each(training.Spec{Stores: min(tokSample, stores), Seed: seed, Split: synth.SplitTrain}, func(c training.Conversation) error {
		texts = append(texts, render(c))
		return nil
	})
	if err != nil {
		return err
	}
	tok, err := learnVocab(texts, vocabSize, filepath.Join(out, "vocab.gguf"))
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(out, "samples.txt"), []byte(strings.Join(texts[:min(len(texts), 40)], "\n\n")), 0o644); err != nil {
		return err
	}

	info := map[string]any{"seed": seed, "vocab_size": tok.VocabSize(), "ctx": ctx, "chat_template": training.ChatTemplate}
	for _, sp := range []struct {
		name string
		spec training.Spec
	}{{"train", train}, {"val", val}} {
		n, docs, dropped, err := writeSplit(filepath.Join(out, sp.name), sp.spec, tok, ctx)
		if err != nil {
			return err
		}
		info[sp.name] = map[string]any{"stores": sp.spec.Stores, "split": sp.spec.Split.String(), "conversations": docs,
			"tokens": n, "left_out_over_ctx": dropped}
		fmt.Printf("%s: %d stores, %d conversations, %d tokens (%d over %d tokens left out)\n", sp.name, sp.spec.Stores, docs, n, dropped, ctx)
	}
	b, _ := json.MarshalIndent(info, "", "  ")
	return os.WriteFile(filepath.Join(out, "data.json"), append(b, '\n'), 0o644)
}

func render(c training.Conversation) string {
	var b strings.Builder
	for _, s := range training.Segments(c.Messages) {
		b.WriteString(s.Text)
	}
	return b.String()
}

// learnVocab learns the vocabulary, writes it with the chat template as a vocabulary GGUF at
// path and returns its tokenizer.
func learnVocab(texts []string, size int, path string) (*tokenizer.Tokenizer, error) {
	v, err := training.LearnVocab(texts, size)
	if err != nil {
		return nil, err
	}
	g := gguf.NewWriter()
	v.SetGGUF(g)
	g.SetString("tokenizer.chat_template", training.ChatTemplate)
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if _, err := g.WriteTo(f); err != nil {
		f.Close()
		return nil, err
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	return tokenizer.New(v)
}

// writeSplit writes one split's token files at prefix.{tokens,mask,docs}.
func writeSplit(prefix string, spec training.Spec, tok *tokenizer.Tokenizer, ctx int) (tokens uint64, docs, dropped int, err error) {
	var files []*os.File
	for _, ext := range []string{".tokens", ".mask", ".docs"} {
		f, err := os.Create(prefix + ext)
		if err != nil {
			return 0, 0, 0, err
		}
		defer f.Close()
		files = append(files, f)
	}
	w := training.NewTokenWriter(files[0], files[1], files[2])
	err = each(spec, func(c training.Conversation) error {
		ids, mask, err := training.Encode(tok, c.Messages)
		if err != nil {
			return err
		}
		if len(ids) > ctx {
			dropped++
			return nil
		}
		return w.Add(ids, mask)
	})
	if err == nil {
		err = w.Close()
	}
	for _, f := range files {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	return w.Tokens(), w.Docs, dropped, err
}

// each generates the stores of spec on every CPU and passes their conversations to fn in store
// order.
func each(spec training.Spec, fn func(training.Conversation) error) error {
	const chunk = 64
	for lo := 0; lo < spec.Stores; lo += chunk {
		hi := min(lo+chunk, spec.Stores)
		res := make([][]training.Conversation, hi-lo)
		errs := make([]error, hi-lo)
		var wg sync.WaitGroup
		next := make(chan int)
		for range runtime.GOMAXPROCS(0) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range next {
					res[i-lo], errs[i-lo] = training.StoreConversations(spec, i)
				}
			}()
		}
		for i := lo; i < hi; i++ {
			next <- i
		}
		close(next)
		wg.Wait()
		for i := range res {
			if errs[i] != nil {
				return errs[i]
			}
			for _, c := range res[i] {
				if err := fn(c); err != nil {
					return err
				}
			}
		}
	}
	return nil
}
