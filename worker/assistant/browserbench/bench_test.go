//go:build !js

// Package browserbench measures the store assistant in headless Chromium, compiled to
// WebAssembly as the app's inference worker is: indexing a 5,000-product store, a question to its
// structured answer, and a question's embedding.
//
//	go test -run '^$' -bench Browser ./worker/assistant/browserbench
package browserbench

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"aisle/worker/internal/wasmsite"
)

const chromiumPath = "/usr/bin/chromium"

func BenchmarkBrowserAssistant(b *testing.B) {
	if _, err := os.Stat(chromiumPath); err != nil {
		b.Skipf("%s not found (make test-deps installs it)", chromiumPath)
	}
	dir := wasmsite.Build(b)
	srv := httptest.NewServer(http.FileServer(http.Dir(dir)))
	defer srv.Close()
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromiumPath), chromedp.Flag("headless", "new"),
		chromedp.NoSandbox, chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true), chromedp.UserDataDir(b.TempDir()))
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelA()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancelT := context.WithTimeout(ctx, 5*time.Minute)
	defer cancelT()
	if _, err := chromedp.Run(ctx, chromedp.Navigate(srv.URL+"/index.html")); err != nil {
		b.Fatal(err)
	}
	res, err := chromedp.Run(ctx, chromedp.Poll[map[string]any](`window.result`, chromedp.WithPollingTimeout(4*time.Minute)))
	if err != nil {
		b.Fatal(err)
	}
	if e, ok := res["error"]; ok {
		b.Fatal(e)
	}
	b.ReportMetric(0, "ns/op")
	for _, k := range []string{"index_ms", "index_no_vectors_ms", "ask_median_ms", "ask_p95_ms", "embed_median_ms", "embed_p95_ms"} {
		if _, ok := res[k].(float64); !ok {
			b.Fatalf("no %s in %v", k, res)
		}
		b.ReportMetric(res[k].(float64), k)
	}
	b.Logf("5,000-product store in Chromium (Go-WASM, one worker): %v", res)
}
