package edge

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"aisle/sync/catalog"
	"aisle/sync/wire"
)

// Source is what the origin's store gives the Feeder
// (aisle/api/store/sqlstore implements it).
type Source interface {
	// EdgeHead returns the log's version and horizon, read together.
	EdgeHead(ctx context.Context) (version, horizon int64, err error)
	// EdgeLog returns up to limit rows of the log in (after, through], in
	// version order.
	EdgeLog(ctx context.Context, after, through int64, limit int) ([]LogRow, error)
	// EdgeCheckpoints returns every store's checkpoints with a Seq above
	// have[store] (0 when absent) whose version is at least horizon, and
	// every store's latest checkpoint if have lacks it, in store and Seq
	// order.
	EdgeCheckpoints(ctx context.Context, have map[string]int64, horizon int64) ([]wire.Checkpoint, error)
	// EdgeCredentials returns every staff and manager token (revoked ones
	// too), by hash.
	EdgeCredentials(ctx context.Context) ([]Credential, error)
}

// FeedConfig says where the Feeder sends.
type FeedConfig struct {
	// URL is the edge's base URL (e.g. https://aisle-edge.example.workers.dev).
	URL string
	// Secret is the shared secret of the edge's /_edge routes.
	Secret string
	// Interval is how often the Feeder runs without being kicked (0: 30s),
	// so revocations and other processes' publishes reach the edge.
	Interval time.Duration
	// HTTP is the client (nil: one with a 30 s timeout).
	HTTP *http.Client
	// BatchRows bounds the log rows of one ingest request (0 or more than
	// MaxBatchRows: MaxBatchRows).
	BatchRows int
}

// Feeder sends the origin's log, checkpoints, horizon and staff
// credentials to the edge: at start, whenever Kick is called (after each
// publish), and every Interval. A failed round is retried with backoff
// (1 s doubling to Interval); it never blocks the caller of Kick.
type Feeder struct {
	src  Source
	cfg  FeedConfig
	log  *slog.Logger
	kick chan struct{}

	mu       sync.Mutex       // guards below
	credSent [32]byte         // digest of the credentials last sent
	fed      chan struct{}    // closed and replaced each time a round has fed the checkpoints
	acked    map[string]int64 // latest checkpoint Seq the edge holds, per store
}

// NewFeeder returns a Feeder; Run starts it.
func NewFeeder(src Source, cfg FeedConfig, log *slog.Logger) *Feeder {
	if cfg.Interval <= 0 {
		cfg.Interval = 30 * time.Second
	}
	if cfg.HTTP == nil {
		cfg.HTTP = &http.Client{Timeout: 30 * time.Second}
	}
	if log == nil {
		log = slog.Default()
	}
	if cfg.BatchRows <= 0 || cfg.BatchRows > MaxBatchRows {
		cfg.BatchRows = MaxBatchRows
	}
	cfg.URL = strings.TrimSuffix(cfg.URL, "/")
	return &Feeder{src: src, cfg: cfg, log: log, kick: make(chan struct{}, 1), fed: make(chan struct{}), acked: map[string]int64{}}
}

// Kick asks for a round soon (coalesced; never blocks).
func (f *Feeder) Kick() {
	select {
	case f.kick <- struct{}{}:
	default:
	}
}

// MaxPushDelay bounds how long Held holds a checkpoint back.
var MaxPushDelay = 2 * time.Second

// Held returns nil when the edge holds cp (or a newer checkpoint of its
// store), else kicks a round and returns a channel closed once a round has
// brought cp to the edge, or after MaxPushDelay. The origin's push hub
// waits on it before telling devices of cp: a device told of a checkpoint
// then finds it at the edge, rather than the older one it has.
func (f *Feeder) Held(cp wire.Checkpoint) <-chan struct{} {
	f.mu.Lock()
	ok := f.acked[cp.Store] >= cp.Seq
	f.mu.Unlock()
	if ok {
		return nil
	}
	f.Kick()
	open := make(chan struct{})
	go func() {
		defer close(open)
		t := time.NewTimer(MaxPushDelay)
		defer t.Stop()
		for {
			f.mu.Lock()
			ok, fed := f.acked[cp.Store] >= cp.Seq, f.fed
			f.mu.Unlock()
			if ok {
				return
			}
			select {
			case <-fed:
			case <-t.C:
				f.log.Warn("edge feed late: pushing a checkpoint the edge may not hold yet", "store", cp.Store, "seq", cp.Seq, "waited", MaxPushDelay)
				return
			}
		}
	}()
	return open
}

// Run feeds until ctx ends.
func (f *Feeder) Run(ctx context.Context) {
	backoff := time.Second
	for {
		err := f.Round(ctx)
		if ctx.Err() != nil {
			return
		}
		wait := f.cfg.Interval
		if err != nil {
			f.log.Warn("edge feed failed; retrying", "edge", f.cfg.URL, "err", err, "retry", backoff)
			wait, backoff = backoff, min(2*backoff, f.cfg.Interval)
		} else {
			backoff = time.Second
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-f.kick:
			t.Stop()
		case <-t.C:
		}
	}
}

// Round brings the edge up to the origin's current state once.
func (f *Feeder) Round(ctx context.Context) error {
	var st State
	if err := f.call(ctx, http.MethodGet, "/_edge/state", nil, &st); err != nil {
		return err
	}
	// Checkpoints first, then the head: every checkpoint read has a
	// version at or below the head read after it.
	head, horizon, err := f.src.EdgeHead(ctx)
	if err != nil {
		return err
	}
	cps, err := f.src.EdgeCheckpoints(ctx, st.Checkpoints, horizon)
	if err != nil {
		return err
	}
	if head, horizon, err = f.src.EdgeHead(ctx); err != nil {
		return err
	}
	after := min(st.Log, head)
	for after < head {
		rows, err := f.src.EdgeLog(ctx, after, head, f.cfg.BatchRows)
		if err != nil {
			return err
		}
		b := Batch{After: after, Through: head}
		more := len(rows) == f.cfg.BatchRows // rows above the last may follow
		size := 0
		for i, r := range rows {
			size += len(r.Data) + len(r.ID) + 64
			if size > MaxBatchBytes/2 && i > 0 {
				rows, more = rows[:i], true
				break
			}
		}
		b.Changes = rows
		if more {
			b.Through = rows[len(rows)-1].Version
		}
		if err := f.call(ctx, http.MethodPost, "/_edge/ingest", b, nil); err != nil {
			return err
		}
		after = b.Through
	}
	sent := cps
	for len(cps) > 0 || horizon > st.Horizon {
		n := min(len(cps), f.cfg.BatchRows)
		b := Batch{After: head, Through: head, Checkpoints: cps[:n], Horizon: horizon}
		if err := f.call(ctx, http.MethodPost, "/_edge/ingest", b, nil); err != nil {
			return err
		}
		cps, st.Horizon = cps[n:], horizon
	}
	// The edge holds these checkpoints now: release the pushes held for
	// them (Held).
	f.mu.Lock()
	for id, seq := range st.Checkpoints {
		f.acked[id] = max(f.acked[id], seq)
	}
	for _, cp := range sent {
		f.acked[cp.Store] = max(f.acked[cp.Store], cp.Seq)
	}
	close(f.fed)
	f.fed = make(chan struct{})
	f.mu.Unlock()
	creds, err := f.src.EdgeCredentials(ctx)
	if err != nil {
		return err
	}
	j, _ := json.Marshal(creds)
	digest := sha256.Sum256(j)
	f.mu.Lock()
	same := digest == f.credSent
	f.mu.Unlock()
	if !same {
		for len(creds) > 0 {
			n := min(len(creds), f.cfg.BatchRows)
			if err := f.call(ctx, http.MethodPost, "/_edge/ingest", Batch{After: head, Through: head, Credentials: creds[:n]}, nil); err != nil {
				return err
			}
			creds = creds[n:]
		}
	}
	f.mu.Lock()
	f.credSent = digest
	f.mu.Unlock()
	return nil
}

// call sends one request to the edge; a non-2xx answer is an error (the
// edge's own code when it sent one).
func (f *Feeder) call(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		j, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(j)
	}
	req, err := http.NewRequestWithContext(ctx, method, f.cfg.URL+path, body)
	if err != nil {
		return catalog.Wrap(err, catalog.Invalid, "bad edge URL")
	}
	req.Header.Set("Authorization", "Bearer "+f.cfg.Secret)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := f.cfg.HTTP.Do(req)
	if err != nil {
		return catalog.Wrap(err, catalog.Unavailable, "cannot reach the edge")
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, MaxIngestBody))
	if err != nil {
		return catalog.Wrap(err, catalog.Unavailable, "edge answer cut short")
	}
	if resp.StatusCode/100 != 2 {
		var eb wire.ErrorBody
		if json.Unmarshal(b, &eb) == nil && eb.Error.Code != "" {
			return catalog.Errorf(catalog.Code(eb.Error.Code), "edge %s %s: %s", method, path, eb.Error.Message)
		}
		return catalog.Errorf(catalog.Unavailable, "edge %s %s answered %s", method, path, resp.Status)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return catalog.Wrap(err, catalog.Invalid, "malformed edge answer to %s", path)
		}
	}
	return nil
}
