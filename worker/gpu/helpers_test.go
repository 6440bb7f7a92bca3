//go:build cgo && !js

package gpu

import (
	"errors"
	"os"
	"sync"
	"testing"

	"aisle/worker/gguf"
	"aisle/worker/model"
)

var (
	devOnce sync.Once
	testDev *Device
	devErr  error
)

// mustDevice returns the shared test device. Without an adapter the test fails when CI=true
// (the test command installs Mesa's software Vulkan driver) and is skipped otherwise.
func mustDevice(t testing.TB) *Device {
	t.Helper()
	devOnce.Do(func() { testDev, devErr = Open(Options{}) })
	if devErr != nil {
		if errors.Is(devErr, ErrNoAdapter) && os.Getenv("CI") != "true" {
			t.Skipf("no WebGPU adapter (install mesa-vulkan-drivers and libvulkan1): %v", devErr)
		}
		t.Fatalf("open GPU device: %v", devErr)
	}
	return testDev
}

const stories = "../testdata/models/stories260K.gguf"

func loadModel(t testing.TB, path string) *model.Model {
	t.Helper()
	f, err := gguf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	m, err := model.Load(f, 2)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	return m
}

// newRunner uploads m to the shared test device, with the model's context length; the runner is
// closed when the test ends.
func newRunner(t testing.TB, m *model.Model) *Runner {
	t.Helper()
	r, err := NewRunner(mustDevice(t), m, 0, RunnerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	return r
}
