// Package pwa builds the installable web app: the page (web/), the service worker (sw.js +
// sw.wasm), the inference worker (engine.js + engine.wasm, built with WebAssembly SIMD, and
// engine-nosimd.wasm for browsers without it), icons, and the precache manifest whose version
// is compiled into sw.js.
//
// Build it with `go run ./pwa/cmd/build -out DIR`; the server serves DIR at / (api/delivery).
package pwa

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"aisle/sw"
	"aisle/sw/shim"
	"aisle/worker/browser/assets"
)

//go:embed web
var web embed.FS

// Web is the page's source files (index.html, app.js, ...).
func Web() fs.FS { s, _ := fs.Sub(web, "web"); return s }

// Options configures Build.
type Options struct {
	Out        string // output folder; created if missing, existing files are overwritten
	ModuleRoot string // folder of go.mod; default: found with `go env GOMOD`
	Go         string // go command; default "go"
}

// SIMDBuild is the environment that builds Go for WebAssembly with SIMD128 instructions
// (package simd/archsimd): Go 1.27's GOEXPERIMENT=simd. The go command fetches this toolchain
// from the module proxy the first time (about 10 s); the rest of the module builds with the
// toolchain go.mod names.
var SIMDBuild = []string{"GOTOOLCHAIN=go1.27.3", "GOEXPERIMENT=simd"}

// wasmProgram is one Go program of the app, built for js/wasm.
type wasmProgram struct {
	out, pkg string
	env      []string // added to GOOS=js GOARCH=wasm
	feature  string   // sw.PrecacheFile.Feature: the browsers that precache it
}

var wasmPrograms = []wasmProgram{
	{out: "sw.wasm", pkg: "./sw/cmd/sw"},
	{out: "engine.wasm", pkg: "./worker/browser/cmd/engine", env: SIMDBuild, feature: sw.FeatureWasmSIMD},
	{out: "engine-nosimd.wasm", pkg: "./worker/browser/cmd/engine", feature: "!" + sw.FeatureWasmSIMD},
}

// Build writes the app to opts.Out and returns its precache manifest. It compiles the wasm
// programs with GOOS=js GOARCH=wasm (the Go build cache makes a rebuild take seconds).
func Build(ctx context.Context, opts Options) (*sw.Precache, error) {
	goCmd := opts.Go
	if goCmd == "" {
		goCmd = "go"
	}
	root := opts.ModuleRoot
	if root == "" {
		out, err := exec.CommandContext(ctx, goCmd, "env", "GOMOD").Output()
		if err != nil {
			return nil, fmt.Errorf("pwa: go env GOMOD: %w", err)
		}
		root = filepath.Dir(strings.TrimSpace(string(out)))
	}
	if err := os.MkdirAll(opts.Out, 0o755); err != nil {
		return nil, fmt.Errorf("pwa: %w", err)
	}
	write := func(name string, data []byte) error {
		return os.WriteFile(filepath.Join(opts.Out, name), data, 0o644)
	}
	// Page sources.
	err := fs.WalkDir(Web(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(Web(), p)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Join(opts.Out, filepath.Dir(p)), 0o755); err != nil {
			return err
		}
		return write(p, b)
	})
	if err != nil {
		return nil, fmt.Errorf("pwa: %w", err)
	}
	// The Go toolchain's wasm_exec.js, for both Go programs.
	goroot, err := exec.CommandContext(ctx, goCmd, "env", "GOROOT").Output()
	if err != nil {
		return nil, fmt.Errorf("pwa: go env GOROOT: %w", err)
	}
	wasmExec, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(goroot)), "lib", "wasm", "wasm_exec.js"))
	if err != nil {
		return nil, fmt.Errorf("pwa: %w", err)
	}
	for name, data := range map[string][]byte{
		"wasm_exec.js": wasmExec,
		"engine.js":    []byte(assets.EngineJS),
		"rows.js":      []byte(assets.RowsJS),
		"simd.js":      []byte(assets.SIMDJS),
		"icon-192.png": icon(192),
		"icon-512.png": icon(512),
	} {
		if err := write(name, data); err != nil {
			return nil, fmt.Errorf("pwa: %w", err)
		}
	}
	// The Go programs.
	features := map[string]string{}
	for _, p := range wasmPrograms {
		cmd := exec.CommandContext(ctx, goCmd, "build", "-trimpath", "-ldflags=-s -w", "-o", filepath.Join(opts.Out, p.out), p.pkg)
		cmd.Dir = root
		cmd.Env = append(append(os.Environ(), "GOOS=js", "GOARCH=wasm"), p.env...)
		if b, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("pwa: build %s (%s): %v\n%s", p.out, strings.Join(p.env, " "), err, b)
		}
		features["/"+p.out] = p.feature
	}
	// Precache manifest: every file except the service worker script (the browser keeps it and
	// its importScripts itself), the manifest and the compressed copies.
	var files []sw.PrecacheFile
	err = filepath.WalkDir(opts.Out, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(opts.Out, p)
		rel = filepath.ToSlash(rel)
		if rel == "sw.js" || rel == "precache.json" || strings.HasSuffix(rel, ".gz") {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		files = append(files, sw.PrecacheFile{URL: "/" + rel, Revision: hex.EncodeToString(sum[:])[:16], Size: int64(len(b)), Feature: features["/"+rel]})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("pwa: %w", err)
	}
	sort.Slice(files, func(i, j int) bool { return files[i].URL < files[j].URL })
	pc := &sw.Precache{Version: sw.PrecacheVersion(files), Files: files}
	b, _ := json.MarshalIndent(pc, "", "  ")
	if err := write("precache.json", append(b, '\n')); err != nil {
		return nil, fmt.Errorf("pwa: %w", err)
	}
	if err := write("sw.js", []byte(shim.ServiceWorker(pc.Version))); err != nil {
		return nil, fmt.Errorf("pwa: %w", err)
	}
	// Precompressed copies, last, so none is stale: the server sends them to clients that
	// accept gzip.
	if err := compressAll(opts.Out); err != nil {
		return nil, fmt.Errorf("pwa: %w", err)
	}
	return pc, nil
}

// compressAll writes name.gz beside each compressible file of dir larger than 1 KiB
// (deterministically: no name or time in the header), and removes stale .gz files.
func compressAll(dir string) error {
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if strings.HasSuffix(p, ".gz") {
			if _, err := os.Stat(strings.TrimSuffix(p, ".gz")); err != nil {
				return os.Remove(p)
			}
			return nil
		}
		switch filepath.Ext(p) {
		case ".wasm", ".js", ".css", ".html", ".json", ".svg", ".webmanifest":
		default:
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil || len(b) < 1024 {
			return err
		}
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		zw.Write(b)
		if err := zw.Close(); err != nil {
			return err
		}
		return os.WriteFile(p+".gz", buf.Bytes(), 0o644)
	})
}

// icon draws the app icon (a cart on the brand colour) as a PNG of size x size pixels.
func icon(size int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, size, size))
	bg := color.RGBA{0x0f, 0x51, 0x32, 0xff}
	fg := color.RGBA{0xff, 0xff, 0xff, 0xff}
	u := float64(size) / 64 // the SVG's 64-unit grid
	for y := 0; y < size; y++ {
		for x := 0; x < size; x++ {
			fx, fy := float64(x)/u, float64(y)/u
			c := bg
			// Basket: an outline trapezoid from (14,20)-(50,20) to (18,44)-(46,44), 4 units thick.
			inTrap := func(inset float64) bool {
				if fy < 20+inset || fy > 44-inset {
					return false
				}
				t := (fy - 20) / 24
				left, right := 14+4*t+inset, 50-4*t-inset
				return fx >= left && fx <= right
			}
			if inTrap(-2) && !inTrap(2) {
				c = fg
			}
			for _, cx := range []float64{24, 42} { // wheels
				if (fx-cx)*(fx-cx)+(fy-50)*(fy-50) <= 9 {
					c = fg
				}
			}
			img.Set(x, y, c)
		}
	}
	var buf bytes.Buffer
	png.Encode(&buf, img)
	return buf.Bytes()
}
