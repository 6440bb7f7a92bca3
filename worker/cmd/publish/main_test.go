package main

import (
	"os"
	"path/filepath"
	"testing"
)

func TestRun(t *testing.T) {
	root := t.TempDir()
	if err := run([]string{"-root", root, "-id", "stories260k", "../../testdata/models/stories260K.gguf"}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "stories260k", "manifest.json")); err != nil {
		t.Error(err)
	}
	if err := run([]string{"-id", "x"}); err == nil {
		t.Error("run without a file succeeded")
	}
}
