package pwa_test

import (
	"strings"
	"testing"
	"time"

	"aisle/worker/browser/wire"
)

// TestBrowserStopRegenerate stops an answer mid-stream and regenerates it.
func TestBrowserStopRegenerate(t *testing.T) {
	needBrowser(t)
	appDir := app(t)
	modelsDir, _ := models(t, 128<<10)
	srv := newServer(t, appDir, modelsDir)
	ctx := startBrowser(t)
	navigate(t, ctx, srv.URL()+"/")
	waitReady(t, ctx, true)
	const maxTokens = 400
	want := nativeGreedy(t, []wire.Message{{Role: "user", Content: prompt}}, maxTokens)

	partial := eval[string](t, ctx, 30*time.Second, `new Promise((resolve, reject) => {
		const $ = (s) => document.querySelector(s);
		$('#temperature').value = '0';
		$('#max-tokens').value = '400';
		ui.mode = 'raw';
		$('#prompt').value = 'Once upon a time';
		$('#composer').requestSubmit();
		const t0 = Date.now();
		const tick = () => {
			const b = document.querySelectorAll('#log .msg.assistant');
			const last = b[b.length - 1];
			if (last && last.textContent.length > 0) {
				$('#stop').click();
				const waitIdle = () => document.body.dataset.state === 'ready' ? resolve(last.textContent) : setTimeout(waitIdle, 5);
				return waitIdle();
			}
			if (Date.now() - t0 > 20000) return reject(new Error('no token'));
			setTimeout(tick, 1);
		};
		tick();
	})`)
	if partial == "" || len(partial) >= len(want) || !strings.HasPrefix(want, partial) {
		t.Errorf("stopped answer %q is not a strict prefix of the full answer %q", partial, want)
	}
	// Regenerate replaces the (partial) last answer with a new one.
	got := eval[string](t, ctx, 60*time.Second, `new Promise((resolve, reject) => {
		const before = window.aisleMetrics.lastChat;
		document.querySelector('#regen').click();
		const tick = () => {
			const c = window.aisleMetrics.lastChat;
			if (c !== before && document.body.dataset.state === 'ready') return resolve(c.text);
			if (!document.querySelector('#chat-error').hidden) return reject(new Error(document.querySelector('#chat-error').textContent));
			setTimeout(tick, 10);
		};
		tick();
	})`)
	if got != want {
		t.Errorf("regenerated %q, want %q", got, want)
	}
	if n := eval[int](t, ctx, 5*time.Second, `document.querySelectorAll('#log .msg.assistant').length`); n != 1 {
		t.Errorf("%d answers shown after regenerating, want 1", n)
	}
}
