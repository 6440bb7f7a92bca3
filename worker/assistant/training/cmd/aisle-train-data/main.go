// Command aisle-train-data writes the training data of the bundled model (see package
// aisle/worker/assistant/training, WriteData):
//
//	aisle-train-data -stores 3000 -val-stores 60 -seed 1 -vocab-size 4096 -out DIR
//
// DIR gets vocab.gguf, train.{tokens,mask,docs}, val.{tokens,mask,docs}, data.json and
// samples.txt. The same flags give the same files on every machine.
package main

import (
	"flag"
	"fmt"
	"os"

	"aisle/worker/assistant/training"
)

func main() {
	var o training.Options
	flag.IntVar(&o.Stores, "stores", 3000, "training stores (held-out vocabulary never used)")
	flag.IntVar(&o.ValStores, "val-stores", 60, "validation stores (held-out vocabulary only)")
	flag.Uint64Var(&o.Seed, "seed", 1, "seed of every store and question")
	flag.IntVar(&o.VocabSize, "vocab-size", 4096, "tokens in the learned vocabulary")
	flag.IntVar(&o.TokenizerStores, "tokenizer-stores", 300, "stores whose conversations the vocabulary is learned from")
	flag.IntVar(&o.Ctx, "ctx", 1024, "context length: longer conversations are left out")
	flag.IntVar(&o.Invent, "invent", 0, "percentage of training stores whose brands, some product families and name are invented words")
	out := flag.String("out", "", "output directory")
	flag.Parse()
	if *out == "" || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: aisle-train-data -out DIR [-stores N] [-val-stores N] [-seed S] [-vocab-size N] [-tokenizer-stores N] [-ctx N]")
		os.Exit(2)
	}
	info, err := training.WriteData(*out, o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "aisle-train-data:", err)
		os.Exit(1)
	}
	for _, s := range []struct {
		name string
		training.SplitInfo
	}{{"train", info.Train}, {"val", info.Val}} {
		fmt.Printf("%s (%s vocabulary): %d stores, %d conversations, %d tokens (%d targets); %d longer than %d tokens left out\n",
			s.name, s.Split, s.Stores, s.Conversations, s.Tokens, s.TargetTokens, s.LeftOut, info.Ctx)
	}
}
