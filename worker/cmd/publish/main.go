// Command publish splits a GGUF model into the form that the app downloads: a manifest with the
// model's summary and a list of shards (16-64 MiB, SHA-256 each), written under a root folder that
// the server's delivery handler serves at /models/.
//
//	publish -root data/models -id stories260k worker/testdata/models/stories260K.gguf
//
// It prints the manifest. Publishing again replaces the model's entry in the index; the shards of
// older revisions stay until removed by hand.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"

	"aisle/api/delivery"
	"aisle/api/delivery/publish"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "publish:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fl := flag.NewFlagSet("publish", flag.ContinueOnError)
	root := fl.String("root", "data/models", "folder to publish into (served at /models/)")
	id := fl.String("id", "", "model id: 1-64 of a-z 0-9 . _ - (required)")
	name := fl.String("name", "", "display name (default: general.name from the GGUF)")
	shard := fl.Int64("shard-size", delivery.DefaultShardSize, "target shard size in bytes (16-64 MiB in production)")
	fl.Usage = func() {
		fmt.Fprintln(fl.Output(), "usage: publish -root DIR -id ID [-name NAME] [-shard-size BYTES] MODEL.gguf")
		fl.PrintDefaults()
	}
	if err := fl.Parse(args); err != nil {
		return err
	}
	if fl.NArg() != 1 {
		fl.Usage()
		return fmt.Errorf("want exactly one GGUF file, got %d arguments", fl.NArg())
	}
	m, err := publish.Publish(*root, fl.Arg(0), publish.PublishOptions{ID: *id, Name: *name, ShardSize: *shard})
	if err != nil {
		return err
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(m)
}
