// Command build writes the installable web app to a folder that the server serves at /:
//
//	go run ./pwa/cmd/build -out .build/pwa
package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"aisle/pwa"
)

func main() {
	out := flag.String("out", ".build/pwa", "output folder")
	flag.Parse()
	pc, err := pwa.Build(context.Background(), pwa.Options{Out: *out})
	if err != nil {
		fmt.Fprintln(os.Stderr, "build:", err)
		os.Exit(1)
	}
	var size int64
	for _, f := range pc.Files {
		size += f.Size
	}
	fmt.Printf("app version %s: %d files, %d bytes precached, in %s\n", pc.Version, len(pc.Files), size, *out)
}
