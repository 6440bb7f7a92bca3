package training

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"aisle/worker/assistant/synth"
	"aisle/worker/gguf"
	"aisle/worker/tokenizer"
)

// Options say what training data WriteData writes.
type Options struct {
	Stores          int    // training stores (SplitTrain)
	ValStores       int    // validation stores (SplitEval: held-out product families, brands, store names)
	Seed            uint64 // of every store and question
	VocabSize       int    // tokens of the learned vocabulary
	TokenizerStores int    // the first stores, whose conversations the vocabulary is learned from
	Ctx             int    // context length: longer conversations are left out
	Invent          int    // percentage of training stores with invented names (Spec.Invent)
}

// SplitInfo counts what one split holds.
type SplitInfo struct {
	Stores        int    `json:"stores"`
	Split         string `json:"split"`
	Conversations int    `json:"conversations"`
	Tokens        uint64 `json:"tokens"`
	TargetTokens  uint64 `json:"target_tokens"`
	LeftOut       int    `json:"left_out_over_ctx"`
}

// Info is data.json: the settings and counts of written training data.
type Info struct {
	Seed         uint64    `json:"seed"`
	VocabSize    int       `json:"vocab_size"`
	Ctx          int       `json:"ctx"`
	Invent       int       `json:"invent_percent"`
	ChatTemplate string    `json:"chat_template"`
	Train        SplitInfo `json:"train"`
	Val          SplitInfo `json:"val"`
}

// WriteData writes the training data into dir: vocab.gguf (the learned tokenizer with
// ChatTemplate, for `slm export -vocab`), train.{tokens,mask,docs}, val.{tokens,mask,docs},
// data.json (Info) and samples.txt (the first conversations as the model reads them). The
// same options give the same files on every machine.
func WriteData(dir string, o Options) (Info, error) {
	if o.Stores <= 0 || o.ValStores <= 0 || o.VocabSize <= 0 || o.Ctx <= 0 {
		return Info{}, fmt.Errorf("training: stores, validation stores, vocabulary size and context must be positive")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Info{}, err
	}
	var texts []string
	err := eachStore(Spec{Stores: max(1, min(o.TokenizerStores, o.Stores)), Seed: o.Seed, Split: synth.SplitTrain, Invent: o.Invent},
		func(cs []Conversation) ([]Conversation, error) { return cs, nil },
		func(cs []Conversation) error {
			for _, c := range cs {
				s, err := Template.Render(c.Messages, false)
				if err != nil {
					return err
				}
				texts = append(texts, s)
			}
			return nil
		})
	if err != nil {
		return Info{}, err
	}
	v, err := LearnVocab(texts, o.VocabSize)
	if err != nil {
		return Info{}, err
	}
	tok, err := tokenizer.New(v)
	if err != nil {
		return Info{}, err
	}
	if err := WriteVocab(filepath.Join(dir, "vocab.gguf"), v); err != nil {
		return Info{}, err
	}
	if err := os.WriteFile(filepath.Join(dir, "samples.txt"), []byte(strings.Join(texts[:min(len(texts), 40)], "\n\n")), 0o644); err != nil {
		return Info{}, err
	}
	info := Info{Seed: o.Seed, VocabSize: tok.VocabSize(), Ctx: o.Ctx, Invent: o.Invent, ChatTemplate: ChatTemplate}
	info.Train, err = writeSplit(filepath.Join(dir, "train"), Spec{Stores: o.Stores, Seed: o.Seed, Split: synth.SplitTrain, Invent: o.Invent}, tok, o.Ctx)
	if err != nil {
		return Info{}, err
	}
	info.Val, err = writeSplit(filepath.Join(dir, "val"), Spec{Stores: o.ValStores, Seed: o.Seed ^ 0x5ea1, Split: synth.SplitEval}, tok, o.Ctx)
	if err != nil {
		return Info{}, err
	}
	b, err := json.MarshalIndent(info, "", "  ")
	if err != nil {
		return Info{}, err
	}
	return info, os.WriteFile(filepath.Join(dir, "data.json"), append(b, '\n'), 0o644)
}

// WriteVocab writes v with ChatTemplate as a vocabulary GGUF at path (`slm export -vocab`).
func WriteVocab(path string, v *tokenizer.Vocab) error {
	g := gguf.NewWriter()
	v.SetGGUF(g)
	g.SetString("tokenizer.chat_template", ChatTemplate)
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := g.WriteTo(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// writeSplit writes one split's token files at prefix.{tokens,mask,docs}.
func writeSplit(prefix string, spec Spec, tok *tokenizer.Tokenizer, ctx int) (SplitInfo, error) {
	info := SplitInfo{Stores: spec.Stores, Split: spec.Split.String()}
	var files []*os.File
	for _, ext := range []string{".tokens", ".mask", ".docs"} {
		f, err := os.Create(prefix + ext)
		if err != nil {
			return info, err
		}
		defer f.Close()
		files = append(files, f)
	}
	w := NewTokenWriter(files[0], files[1], files[2])
	type encoded struct {
		ids  []int
		mask []byte
	}
	err := eachStore(spec, func(cs []Conversation) ([]encoded, error) {
		var out []encoded
		for _, c := range cs {
			ids, mask, err := Encode(tok, c.Messages)
			if err != nil {
				return nil, err
			}
			out = append(out, encoded{ids, mask})
		}
		return out, nil
	}, func(es []encoded) error {
		for _, e := range es {
			if len(e.ids) > ctx {
				info.LeftOut++
				continue
			}
			if err := w.Add(e.ids, e.mask); err != nil {
				return err
			}
			for _, m := range e.mask {
				info.TargetTokens += uint64(m)
			}
		}
		return nil
	})
	if err == nil {
		err = w.Close()
	}
	for _, f := range files {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	info.Conversations, info.Tokens = w.Docs, w.Tokens()
	return info, err
}

// eachStore generates the stores of spec on every CPU, turns each store's conversations into a
// T there (work), and passes the results to fn in store order.
func eachStore[T any](spec Spec, work func([]Conversation) (T, error), fn func(T) error) error {
	const chunk = 64
	for lo := 0; lo < spec.Stores; lo += chunk {
		hi := min(lo+chunk, spec.Stores)
		res := make([]T, hi-lo)
		errs := make([]error, hi-lo)
		var wg sync.WaitGroup
		next := make(chan int)
		for range runtime.GOMAXPROCS(0) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range next {
					cs, err := StoreConversations(spec, i)
					if err == nil {
						res[i-lo], err = work(cs)
					}
					errs[i-lo] = err
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
			if err := fn(res[i]); err != nil {
				return err
			}
		}
	}
	return nil
}
