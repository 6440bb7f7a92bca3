// Command aisle-synth writes synthetic stores (STORE.json) and questions with expectations.
//
//	aisle-synth evalset -out DIR
//	    rewrites the committed evaluation set (synth.EvalSet); `go generate ./worker/assistant/synth`
//	    runs it for worker/assistant/testdata/eval
//	aisle-synth stores -out DIR [-kind all|grocery,pet,...] [-n 100] [-split train|eval|all]
//	    [-seed 1] [-products 0] [-questions=true] [-conversations 16]
//	    writes N stores per kind: <store-id>.json and, unless -questions=false,
//	    <store-id>.questions.jsonl (training data: use -split train, which never uses the
//	    held-out vocabulary of the evaluation stores)
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"
	_ "time/tzdata" // store time zones validate without the system's zoneinfo

	"aisle/worker/assistant/synth"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "evalset":
		err = evalset(os.Args[2:])
	case "stores":
		err = stores(os.Args[2:])
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "aisle-synth:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: aisle-synth evalset -out DIR | aisle-synth stores -out DIR [-kind K] [-n N] [-split train|eval|all] [-seed S]")
	os.Exit(2)
}

func evalset(args []string) error {
	fs := flag.NewFlagSet("evalset", flag.ExitOnError)
	out := fs.String("out", "", "directory to write")
	fs.Parse(args)
	if *out == "" {
		return fmt.Errorf("evalset: -out is required")
	}
	files, err := synth.EvalSetFiles()
	if err != nil {
		return err
	}
	return synth.WriteFiles(*out, files)
}

func stores(args []string) error {
	fs := flag.NewFlagSet("stores", flag.ExitOnError)
	out := fs.String("out", "", "directory to write")
	kind := fs.String("kind", "all", "store kinds, comma-separated, or all ("+strings.Join(synth.Kinds(), ", ")+")")
	n := fs.Int("n", 10, "stores per kind")
	splitName := fs.String("split", "train", "vocabulary split: train, eval or all")
	seed := fs.Uint64("seed", 1, "first seed; store i of a kind uses seed+i")
	products := fs.Int("products", 0, "products per store (0: 40 to 90)")
	questions := fs.Bool("questions", true, "also write the questions")
	convs := fs.Int("conversations", 16, "conversations per store")
	fs.Parse(args)
	if *out == "" {
		return fmt.Errorf("stores: -out is required")
	}
	split, ok := synth.ParseSplit(*splitName)
	if !ok {
		return fmt.Errorf("stores: unknown split %q", *splitName)
	}
	ks := synth.Kinds()
	if *kind != "all" {
		ks = strings.Split(*kind, ",")
	}
	var set []synth.SetStore
	for _, k := range ks {
		for i := 0; i < *n; i++ {
			s := *seed + uint64(i)
			spec := synth.StoreSpec{Kind: strings.TrimSpace(k), Seed: s, Split: split, Products: *products}
			probe, err := synth.NewStore(spec)
			if err != nil {
				return err
			}
			spec.ID = fmt.Sprintf("%s-%d", probe.ID, s)
			qs := synth.DefaultQuestionSpec(s)
			qs.Conversations = *convs
			set = append(set, synth.SetStore{Store: spec, Questions: qs})
		}
	}
	gen, err := synth.Generate(set)
	if err != nil {
		return err
	}
	if !*questions {
		for i := range gen {
			gen[i].Questions = nil
		}
	}
	files, err := synth.Files(gen)
	if err != nil {
		return err
	}
	if !*questions {
		for name := range files {
			if strings.HasSuffix(name, ".questions.jsonl") {
				delete(files, name)
			}
		}
	}
	return synth.WriteFiles(*out, files)
}
