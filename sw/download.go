package sw

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"aisle/sync/published"
	"aisle/worker/browser/modelstore"
	"aisle/worker/browser/wire"
)

// Downloader fetches a published model into a modelstore.Store: shards in parallel, each with
// retries and exponential backoff, resuming a broken transfer with a Range request, and checked
// against its SHA-256 before it is stored. Shards already stored are not fetched again, so a
// download interrupted by a reload or a lost connection resumes where it stopped.
type Downloader struct {
	Client   *http.Client // default http.DefaultClient (fetch in the browser)
	Store    *modelstore.Store
	Base     string        // URL of the models root, ending in "/", e.g. "https://shop.example/models/"
	Parallel int           // shards in flight; default 3
	Attempts int           // tries per shard and for the manifest; default 6
	Backoff  time.Duration // first retry delay, doubled each time up to 8 s; default 300 ms
	// Free reports the bytes the browser will still let the app store; nil means unknown.
	Free func(ctx context.Context) (int64, error)
	Now  func() time.Time
	// StallTimeout aborts a shard transfer that received nothing for this long, then retries
	// it from where it stopped; default 20 s.
	StallTimeout time.Duration
}

// Progress is a snapshot of a download, sent to the page as it changes.
type Progress struct {
	Model       string  `json:"model"`
	Revision    string  `json:"revision,omitempty"`
	State       string  `json:"state"` // "waiting" (another tab downloads), "manifest", "downloading", "ready" or "error"
	TotalBytes  int64   `json:"total_bytes"`
	DoneBytes   int64   `json:"done_bytes"` // stored plus received of shards in flight
	Shards      int     `json:"shards"`
	ShardsDone  int     `json:"shards_done"`
	BytesPerSec float64 `json:"bytes_per_sec"` // over the last few seconds
	ETASeconds  float64 `json:"eta_seconds"`   // -1 when unknown
	Fetched     int64   `json:"fetched_bytes"` // received from the network in this run
	// Offline is set on "ready" when the server could not be reached and the stored revision
	// is used as is.
	Offline bool        `json:"offline,omitempty"`
	Error   *wire.Error `json:"error,omitempty"`
}

func (d *Downloader) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

func (d *Downloader) client() *http.Client {
	if d.Client != nil {
		return d.Client
	}
	return http.DefaultClient
}

// Download makes model id ready on the device and returns its manifest. report receives progress
// snapshots (from one goroutine at a time). When the server cannot be reached but a complete
// revision is stored, that revision is returned: the app keeps working offline.
func (d *Downloader) Download(ctx context.Context, id string, report func(Progress)) (*published.Manifest, error) {
	if !published.ValidID(id) {
		return nil, wire.Errorf(wire.CodeInvalid, "invalid model id %q", id)
	}
	if report == nil {
		report = func(Progress) {}
	}
	report(Progress{Model: id, State: "manifest", ETASeconds: -1})
	// With a complete revision stored, the manifest is only an update check: one try, so that
	// an offline start is not held up by retries.
	ready, err := d.Store.Ready(ctx, id)
	if err != nil {
		return nil, err
	}
	attempts := d.attempts()
	if ready != nil {
		attempts = 1
	}
	m, err := d.fetchManifest(ctx, id, attempts)
	if err != nil {
		if ready != nil {
			m := ready.Manifest
			report(Progress{Model: id, Revision: m.Revision, State: "ready", TotalBytes: m.Size, DoneBytes: m.Size,
				Shards: len(m.Shards), ShardsDone: len(m.Shards), Offline: true})
			return m, nil
		}
		return nil, err
	}
	if err := d.Store.SaveManifest(ctx, m); err != nil {
		return nil, err
	}
	list, err := d.Store.List(ctx)
	if err != nil {
		return nil, err
	}
	var stored []bool
	complete := false
	for _, st := range list {
		if st.Manifest.ID == id && st.Manifest.Revision == m.Revision {
			stored, complete = st.ShardsStored, st.Complete
		}
	}
	if stored == nil {
		stored = make([]bool, len(m.Shards))
	}
	t := newTracker(id, m, stored, d.now)
	var missing []int
	var need int64
	for i, ok := range stored {
		if !ok {
			missing = append(missing, i)
			need += m.Shards[i].Size
		}
	}
	if len(missing) > 0 && d.Free != nil {
		if free, err := d.Free(ctx); err == nil && free >= 0 && free < need {
			return nil, quotaError(need - free)
		}
	}
	report(t.snapshot("downloading"))
	if err := d.fetchShards(ctx, m, missing, t, report); err != nil {
		return nil, err
	}
	if !complete || len(missing) > 0 {
		if err := d.Store.MarkComplete(ctx, m, d.now()); err != nil {
			return nil, err
		}
	}
	if _, err := d.Store.Prune(ctx, id, m.Revision); err != nil {
		return nil, err
	}
	report(t.snapshot("ready"))
	return m, nil
}

func quotaError(short int64) *wire.Error {
	return wire.Errorf(wire.CodeQuota,
		"There is not enough free storage on this device for the assistant's model (about %s more is needed). Free up some space, or remove other websites' data in the browser settings, then try again.",
		humanBytes(short))
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.0f MB", math.Ceil(float64(n)/(1<<20)))
	default:
		return fmt.Sprintf("%.0f KB", math.Ceil(float64(n)/(1<<10)))
	}
}

func (d *Downloader) attempts() int {
	if d.Attempts > 0 {
		return d.Attempts
	}
	return 6
}

// retry runs f until it succeeds, returns a permanent error, or runs out of attempts.
func (d *Downloader) retry(ctx context.Context, attempts int, f func() error) error {
	delay := d.Backoff
	if delay <= 0 {
		delay = 300 * time.Millisecond
	}
	var err error
	for try := 0; try < attempts; try++ {
		if try > 0 {
			select {
			case <-ctx.Done():
				return wire.Errorf(wire.CodeCancelled, "download cancelled")
			case <-time.After(delay):
			}
			delay = min(2*delay, 8*time.Second)
		}
		if err = f(); err == nil || permanent(err) {
			return err
		}
	}
	return err
}

// permanent reports errors that another try cannot fix.
func permanent(err error) bool {
	var e *wire.Error
	if errors.As(err, &e) {
		switch e.Code {
		case wire.CodeQuota, wire.CodeInvalid, wire.CodeModelMissing, wire.CodeCancelled:
			return true
		}
	}
	return false
}

func (d *Downloader) fetchManifest(ctx context.Context, id string, attempts int) (*published.Manifest, error) {
	var m published.Manifest
	url := d.Base + id + "/manifest.json"
	err := d.retry(ctx, attempts, func() error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := d.client().Do(req)
		if err != nil {
			return wire.Errorf(wire.CodeNetwork, "cannot reach the model server: %v", err)
		}
		defer resp.Body.Close()
		switch {
		case resp.StatusCode == http.StatusNotFound:
			return wire.Errorf(wire.CodeModelMissing, "model %q is not published", id)
		case resp.StatusCode != http.StatusOK:
			return wire.Errorf(wire.CodeNetwork, "manifest of %q: HTTP %d", id, resp.StatusCode)
		}
		b, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
		if err != nil {
			return wire.Errorf(wire.CodeNetwork, "manifest of %q: %v", id, err)
		}
		m = published.Manifest{}
		if err := json.Unmarshal(b, &m); err != nil {
			return wire.Errorf(wire.CodeNetwork, "manifest of %q is not JSON: %v", id, err)
		}
		if err := m.Validate(); err != nil {
			return wire.Errorf(wire.CodeNetwork, "%v", err)
		}
		if m.ID != id {
			return wire.Errorf(wire.CodeNetwork, "manifest at %s is for model %q", url, m.ID)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &m, nil
}

func (d *Downloader) fetchShards(ctx context.Context, m *published.Manifest, missing []int, t *tracker, report func(Progress)) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	par := d.Parallel
	if par <= 0 {
		par = 3
	}
	jobs := make(chan int)
	errc := make(chan error, par)
	var wg sync.WaitGroup
	for range min(par, max(len(missing), 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				if err := d.fetchShard(ctx, m, i, t); err != nil {
					errc <- err
					cancel()
					return
				}
			}
		}()
	}
	// Report from this goroutine only, a few times a second, while the workers run.
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(250 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				report(t.snapshot("downloading"))
			}
		}
	}()
feed:
	for _, i := range missing {
		select {
		case jobs <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	cancel()
	<-done
	select {
	case err := <-errc:
		return err
	default:
	}
	if ctx.Err() != nil && t.shardsDone() < len(m.Shards) {
		return wire.Errorf(wire.CodeCancelled, "download cancelled")
	}
	return nil
}

// fetchShard downloads shard i, resuming with Range after a broken transfer, checks and stores it.
func (d *Downloader) fetchShard(ctx context.Context, m *published.Manifest, i int, t *tracker) error {
	sh := m.Shards[i]
	url := d.Base + m.ID + "/" + sh.Path
	buf := make([]byte, 0, sh.Size)
	stall := d.StallTimeout
	if stall <= 0 {
		stall = 20 * time.Second
	}
	err := d.retry(ctx, d.attempts(), func() error {
		if int64(len(buf)) == sh.Size {
			return nil
		}
		// A watchdog cancels this attempt when the connection stalls.
		actx, abort := context.WithCancel(ctx)
		defer abort()
		watchdog := time.AfterFunc(stall, abort)
		defer watchdog.Stop()
		req, err := http.NewRequestWithContext(actx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		if len(buf) > 0 {
			req.Header.Set("Range", "bytes="+strconv.Itoa(len(buf))+"-")
		}
		req.Header.Set(RunHeader, t.run)
		resp, err := d.client().Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return wire.Errorf(wire.CodeCancelled, "download cancelled")
			}
			if actx.Err() != nil {
				return wire.Errorf(wire.CodeNetwork, "shard %d: no answer for %v", i, stall)
			}
			return wire.Errorf(wire.CodeNetwork, "shard %d: %v", i, err)
		}
		defer resp.Body.Close()
		switch resp.StatusCode {
		case http.StatusOK:
			t.add(i, -int64(len(buf))) // the server sent the whole shard: start over
			buf = buf[:0]
		case http.StatusPartialContent:
			if !rangeStartsAt(resp.Header.Get("Content-Range"), int64(len(buf))) {
				t.add(i, -int64(len(buf)))
				buf = buf[:0]
				return wire.Errorf(wire.CodeNetwork, "shard %d: unexpected Content-Range %q", i, resp.Header.Get("Content-Range"))
			}
		case http.StatusNotFound:
			return wire.Errorf(wire.CodeModelMissing, "shard %d of %s is no longer published", i, m.ID)
		default:
			return wire.Errorf(wire.CodeNetwork, "shard %d: HTTP %d", i, resp.StatusCode)
		}
		chunk := make([]byte, 256<<10)
		for int64(len(buf)) < sh.Size {
			n, rerr := resp.Body.Read(chunk[:min(int64(len(chunk)), sh.Size-int64(len(buf)))])
			if n > 0 {
				watchdog.Reset(stall)
			}
			buf = append(buf, chunk[:n]...)
			t.add(i, int64(n))
			if rerr == io.EOF {
				break
			}
			if rerr != nil {
				if ctx.Err() != nil {
					return wire.Errorf(wire.CodeCancelled, "download cancelled")
				}
				return wire.Errorf(wire.CodeNetwork, "shard %d: connection lost after %d of %d bytes: %v", i, len(buf), sh.Size, rerr)
			}
		}
		if int64(len(buf)) != sh.Size {
			return wire.Errorf(wire.CodeNetwork, "shard %d: got %d of %d bytes", i, len(buf), sh.Size)
		}
		if err := d.Store.PutShard(ctx, m, i, buf); err != nil {
			if wire.AsError(err).Code == wire.CodeQuota { // say it in words a customer understands
				return quotaError(t.remaining())
			}
			if wire.AsError(err).Code == wire.CodeModelCorrupt { // damaged in transit: fetch it whole again
				t.add(i, -int64(len(buf)))
				buf = buf[:0]
				return wire.Errorf(wire.CodeNetwork, "%v", err)
			}
			return err
		}
		t.finish(i)
		return nil
	})
	return err
}

// rangeStartsAt reports whether a Content-Range header ("bytes 100-199/200") starts at off.
func rangeStartsAt(h string, off int64) bool {
	var a, b, n int64
	if _, err := fmt.Sscanf(h, "bytes %d-%d/%d", &a, &b, &n); err != nil {
		return false
	}
	return a == off
}

// RunHeader names the request header that carries a random ID per download run, so server logs
// can tell concurrent or resumed runs apart.
const RunHeader = "X-Aisle-Download"

// tracker sums the progress of the shards of one download.
type tracker struct {
	run     string // random ID of this run
	mu      sync.Mutex
	model   string
	m       *published.Manifest
	got     []int64 // bytes per shard: full size when stored
	stored  []bool
	fetched int64
	now     func() time.Time
	samples []sample // recent (time, fetched) for the speed
}

type sample struct {
	at time.Time
	n  int64
}

func newTracker(model string, m *published.Manifest, stored []bool, now func() time.Time) *tracker {
	t := &tracker{run: randomID()[:8], model: model, m: m, got: make([]int64, len(m.Shards)), stored: append([]bool(nil), stored...), now: now}
	for i, ok := range stored {
		if ok {
			t.got[i] = m.Shards[i].Size
		}
	}
	t.samples = []sample{{now(), 0}}
	return t
}

func (t *tracker) add(i int, n int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.got[i] += n
	if n > 0 {
		t.fetched += n
	}
}

func (t *tracker) finish(i int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.stored[i] = true
	t.got[i] = t.m.Shards[i].Size
}

// remaining is the number of bytes of shards not stored yet.
func (t *tracker) remaining() int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	var n int64
	for i, ok := range t.stored {
		if !ok {
			n += t.m.Shards[i].Size
		}
	}
	return n
}

func (t *tracker) shardsDone() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for _, ok := range t.stored {
		if ok {
			n++
		}
	}
	return n
}

func (t *tracker) snapshot(state string) Progress {
	t.mu.Lock()
	defer t.mu.Unlock()
	p := Progress{Model: t.model, Revision: t.m.Revision, State: state, TotalBytes: t.m.Size,
		Shards: len(t.m.Shards), Fetched: t.fetched, ETASeconds: -1}
	for i, g := range t.got {
		p.DoneBytes += g
		if t.stored[i] {
			p.ShardsDone++
		}
	}
	// Speed over a sliding window of about five seconds.
	now := t.now()
	t.samples = append(t.samples, sample{now, t.fetched})
	for len(t.samples) > 2 && now.Sub(t.samples[1].at) > 5*time.Second {
		t.samples = t.samples[1:]
	}
	first := t.samples[0]
	if dt := now.Sub(first.at).Seconds(); dt > 0.2 {
		p.BytesPerSec = float64(t.fetched-first.n) / dt
	}
	if p.BytesPerSec > 0 {
		p.ETASeconds = math.Round(float64(p.TotalBytes-p.DoneBytes)/p.BytesPerSec*10) / 10
	}
	if state == "ready" {
		p.ETASeconds = 0
	}
	return p
}
