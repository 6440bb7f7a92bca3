package pwa_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/storage"
	"github.com/chromedp/chromedp"
)

// TestBrowserQuotaError gives the origin too little storage for the model: the download must
// stop before it fills the disk and the page must explain it in plain words.
func TestBrowserQuotaError(t *testing.T) {
	needBrowser(t)
	appDir := app(t)
	modelsDir, _ := models(t, 128<<10)
	srv := newServer(t, appDir, t.TempDir()) // no model published yet
	ctx := startBrowser(t)
	navigate(t, ctx, srv.URL()+"/")
	waitFor(t, ctx, 30*time.Second, `navigator.serviceWorker.controller && document.querySelector('#model').options.length === 0`)
	usage := eval[float64](t, ctx, 10*time.Second, `navigator.storage.estimate().then((e) => e.usage)`)
	quota := usage + 200<<10 // 200 KiB left: the model needs about 1 MiB
	if _, err := chromedp.Call(ctx, storage.OverrideQuotaForOrigin, storage.OverrideQuotaForOriginParams{
		Origin: srv.URL(), QuotaSize: &quota}); err != nil {
		t.Fatal(err)
	}
	srv.SetApp(appDir, modelsDir) // the model is published
	reload(t, ctx)
	waitFor(t, ctx, 30*time.Second, `!document.querySelector('#download-error').hidden`)
	msg := eval[string](t, ctx, 5*time.Second, `document.querySelector('#download-error').textContent`)
	if !strings.Contains(msg, "not enough free storage") || !strings.Contains(msg, "more is needed") {
		t.Errorf("quota message %q does not explain the problem", msg)
	}
	// quick answers from the catalog still work; the model is not claimed ready
	if eval[bool](t, ctx, 5*time.Second, `ui.ready || document.querySelector('#engine').textContent.startsWith('Ready')`) {
		t.Error("the app claims the model is ready without a model")
	}
	if !eval[bool](t, ctx, 5*time.Second, `!document.querySelector('#download-retry').hidden`) {
		t.Error("no way to try again after freeing space")
	}
	if st := eval[string](t, ctx, 5*time.Second, `document.querySelector('#storage').textContent`); !strings.Contains(st, "used of") {
		t.Errorf("storage use not shown: %q", st)
	}
	t.Logf("quota message: %s", msg)
	// Space is freed: Try again completes the download.
	if _, err := chromedp.Call(ctx, storage.OverrideQuotaForOrigin, storage.OverrideQuotaForOriginParams{Origin: srv.URL()}); err != nil {
		t.Fatal(err)
	}
	eval[bool](t, ctx, 5*time.Second, `(document.querySelector('#download-retry').click(), true)`)
	waitReady(t, ctx, true)
}
