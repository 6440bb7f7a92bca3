package sw

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"math/rand"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"aisle/api/delivery"
	"aisle/sync/published"
	"aisle/worker/browser/modelstore"
	"aisle/worker/browser/wire"
)

// fixture publishes a random "model" of size bytes in shards of shard bytes.
func fixture(t *testing.T, id string, size, shard int, seed int64) (*published.Manifest, fstest.MapFS) {
	t.Helper()
	data := make([]byte, size)
	rand.New(rand.NewSource(seed)).Read(data)
	sum := sha256.Sum256(data)
	m := &published.Manifest{Format: published.ManifestFormat, ID: id, Architecture: "llama", Size: int64(size),
		SHA256: hex.EncodeToString(sum[:])}
	m.Revision = m.SHA256[:16]
	fsys := fstest.MapFS{}
	for i, off := 0, 0; off < size; i++ {
		end := min(off+shard, size)
		s := sha256.Sum256(data[off:end])
		sh := published.Shard{Path: published.ShardPath(m.Revision, i), Offset: int64(off), Size: int64(end - off), SHA256: hex.EncodeToString(s[:])}
		m.Shards = append(m.Shards, sh)
		fsys[id+"/"+sh.Path] = &fstest.MapFile{Data: data[off:end]}
		off = end
	}
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(m)
	fsys[id+"/manifest.json"] = &fstest.MapFile{Data: b}
	return m, fsys
}

// server serves fsys at /models/ through hook, which may break requests.
type server struct {
	*httptest.Server
	mu    sync.Mutex
	log   []string                                          // "GET path range"
	hook  func(w http.ResponseWriter, r *http.Request) bool // true: handled (broken)
	inner http.Handler
}

func newServer(t *testing.T, fsys fstest.MapFS) *server {
	s := &server{inner: delivery.New(delivery.Options{Models: fsys})}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.log = append(s.log, strings.TrimSpace(r.URL.Path+" "+r.Header.Get("Range")))
		hook, inner := s.hook, s.inner
		s.mu.Unlock()
		if hook != nil && hook(w, r) {
			return
		}
		inner.ServeHTTP(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *server) set(hook func(w http.ResponseWriter, r *http.Request) bool, inner http.Handler) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hook = hook
	if inner != nil {
		s.inner = inner
	}
}

func (s *server) requests(substr string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, l := range s.log {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return out
}

func newDownloader(s *server, store *modelstore.Store) *Downloader {
	return &Downloader{Store: store, Base: s.URL + "/models/", Backoff: time.Millisecond, Parallel: 3}
}

func newStore() *modelstore.Store {
	return &modelstore.Store{Cache: &modelstore.Memory{}, Hash: modelstore.SHA256}
}

func TestDownloadFresh(t *testing.T) {
	m, fsys := fixture(t, "tiny", 10000, 1000, 1)
	s := newServer(t, fsys)
	store := newStore()
	var last Progress
	got, err := newDownloader(s, store).Download(context.Background(), "tiny", func(p Progress) { last = p })
	if err != nil {
		t.Fatal(err)
	}
	if got.Revision != m.Revision || last.State != "ready" || last.DoneBytes != 10000 || last.ShardsDone != 10 {
		t.Errorf("revision %s, last progress %+v", got.Revision, last)
	}
	_, shards, err := store.Load(context.Background(), "tiny")
	if err != nil || len(shards) != 10 {
		t.Fatalf("Load: %d shards, %v", len(shards), err)
	}
	// A second run fetches only the manifest.
	before := len(s.requests(""))
	if _, err := newDownloader(s, store).Download(context.Background(), "tiny", nil); err != nil {
		t.Fatal(err)
	}
	if after := s.requests(""); len(after)-before != 1 {
		t.Errorf("second download made requests %q", after[before:])
	}
}

func TestDownloadRetriesAndResumesWithRange(t *testing.T) {
	_, fsys := fixture(t, "tiny", 6000, 3000, 2)
	s := newServer(t, fsys)
	var broken atomic.Int32
	s.set(func(w http.ResponseWriter, r *http.Request) bool {
		switch {
		case strings.HasSuffix(r.URL.Path, "manifest.json") && broken.Add(1) == 1:
			http.Error(w, "busy", http.StatusServiceUnavailable) // first manifest try fails
			return true
		case strings.HasSuffix(r.URL.Path, "0001.bin") && r.Header.Get("Range") == "":
			// Send half of the shard, then cut the connection.
			w.Header().Set("Content-Length", "3000")
			w.WriteHeader(200)
			b := fsys["tiny/"+strings.TrimPrefix(r.URL.Path, "/models/tiny/")].Data
			w.Write(b[:1500])
			w.(http.Flusher).Flush()
			hj, _, _ := w.(http.Hijacker).Hijack()
			hj.Close()
			return true
		}
		return false
	}, nil)
	store := newStore()
	if _, err := newDownloader(s, store).Download(context.Background(), "tiny", nil); err != nil {
		t.Fatal(err)
	}
	if got := s.requests("0001.bin"); len(got) != 2 || !strings.HasSuffix(got[1], "bytes=1500-") {
		t.Errorf("shard 1 requests %q, want a full GET then a Range from 1500", got)
	}
	if _, _, err := store.Load(context.Background(), "tiny"); err != nil {
		t.Fatal(err)
	}
}

func TestDownloadResumesAfterInterruption(t *testing.T) {
	_, fsys := fixture(t, "tiny", 8000, 1000, 3)
	s := newServer(t, fsys)
	store := newStore()
	// The first run loses the network after 3 shards.
	var served atomic.Int32
	s.set(func(w http.ResponseWriter, r *http.Request) bool {
		if strings.HasSuffix(r.URL.Path, ".bin") && served.Add(1) > 3 {
			hj, _, _ := w.(http.Hijacker).Hijack()
			hj.Close()
			return true
		}
		return false
	}, nil)
	d := newDownloader(s, store)
	d.Parallel, d.Attempts = 1, 2
	_, err := d.Download(context.Background(), "tiny", nil)
	if wire.AsError(err).Code != wire.CodeNetwork {
		t.Fatalf("first run: %v, want a network error", err)
	}
	st, _ := store.List(context.Background())
	if len(st) != 1 || st[0].Complete || st[0].BytesStored != 3000 {
		t.Fatalf("after the interruption: %+v", st)
	}
	// The network is back: only the 5 missing shards are fetched.
	s.set(nil, nil)
	before := len(s.requests(".bin"))
	var first Progress
	if _, err := newDownloader(s, store).Download(context.Background(), "tiny", func(p Progress) {
		if first.State == "" && p.State == "downloading" {
			first = p
		}
	}); err != nil {
		t.Fatal(err)
	}
	if n := len(s.requests(".bin")) - before; n != 5 {
		t.Errorf("fetched %d shards on resume, want 5", n)
	}
	if first.DoneBytes != 3000 || first.ShardsDone != 3 {
		t.Errorf("resumed progress starts at %+v, want 3000 bytes / 3 shards", first)
	}
}

func TestDownloadCorruptInTransitIsRefetched(t *testing.T) {
	_, fsys := fixture(t, "tiny", 4000, 2000, 4)
	s := newServer(t, fsys)
	var once atomic.Bool
	s.set(func(w http.ResponseWriter, r *http.Request) bool {
		if strings.HasSuffix(r.URL.Path, "0000.bin") && !once.Swap(true) {
			b := append([]byte(nil), fsys["tiny/"+strings.TrimPrefix(r.URL.Path, "/models/tiny/")].Data...)
			b[10] ^= 0xff
			w.Write(b)
			return true
		}
		return false
	}, nil)
	store := newStore()
	if _, err := newDownloader(s, store).Download(context.Background(), "tiny", nil); err != nil {
		t.Fatal(err)
	}
	if got := s.requests("0000.bin"); len(got) != 2 {
		t.Errorf("shard 0 fetched %d times, want 2", len(got))
	}
}

func TestStoredCorruptionDetectedAndRepaired(t *testing.T) {
	m, fsys := fixture(t, "tiny", 4000, 1000, 5)
	s := newServer(t, fsys)
	mem := &modelstore.Memory{}
	store := &modelstore.Store{Cache: mem, Hash: modelstore.SHA256}
	ctx := context.Background()
	if _, err := newDownloader(s, store).Download(ctx, "tiny", nil); err != nil {
		t.Fatal(err)
	}
	// Damage shard 2 in storage.
	key := modelstore.ShardKey(m, 2)
	b, _ := mem.Get(ctx, key)
	b[0] ^= 1
	mem.Put(ctx, key, b, "")
	_, _, err := store.Load(ctx, "tiny")
	if wire.AsError(err).Code != wire.CodeModelCorrupt {
		t.Fatalf("Load of a damaged model: %v, want model_corrupt", err)
	}
	if ready, _ := (StoreModels{store}).ReadyModels(ctx); len(ready) != 0 {
		t.Errorf("damaged model still listed as ready")
	}
	before := len(s.requests(".bin"))
	if _, err := newDownloader(s, store).Download(ctx, "tiny", nil); err != nil {
		t.Fatal(err)
	}
	if got := s.requests(".bin")[before:]; len(got) != 1 || !strings.HasSuffix(got[0], "0002.bin") {
		t.Errorf("repair fetched %q, want only shard 2", got)
	}
	if _, _, err := store.Load(ctx, "tiny"); err != nil {
		t.Fatal(err)
	}
}

func TestDownloadQuota(t *testing.T) {
	_, fsys := fixture(t, "tiny", 4000, 1000, 6)
	s := newServer(t, fsys)
	t.Run("estimate says too little", func(t *testing.T) {
		d := newDownloader(s, newStore())
		d.Free = func(context.Context) (int64, error) { return 1000, nil }
		_, err := d.Download(context.Background(), "tiny", nil)
		if e := wire.AsError(err); e.Code != wire.CodeQuota || !strings.Contains(e.Message, "not enough free storage") {
			t.Errorf("got %v, want quota_exceeded in plain words", err)
		}
	})
	t.Run("store refuses", func(t *testing.T) {
		store := &modelstore.Store{Cache: &modelstore.Memory{Limit: 2500}, Hash: modelstore.SHA256}
		_, err := newDownloader(s, store).Download(context.Background(), "tiny", nil)
		if e := wire.AsError(err); e.Code != wire.CodeQuota || !strings.Contains(e.Message, "not enough free storage") {
			t.Errorf("got %v, want quota_exceeded in plain words", err)
		}
	})
}

func TestDownloadOfflineUsesStoredModel(t *testing.T) {
	_, fsys := fixture(t, "tiny", 3000, 1000, 7)
	s := newServer(t, fsys)
	store := newStore()
	if _, err := newDownloader(s, store).Download(context.Background(), "tiny", nil); err != nil {
		t.Fatal(err)
	}
	d := newDownloader(s, store)
	s.Close()
	var last Progress
	if _, err := d.Download(context.Background(), "tiny", func(p Progress) { last = p }); err != nil || last.State != "ready" || !last.Offline {
		t.Errorf("offline: %v, last %+v", err, last)
	}
	if _, err := newDownloader(s, newStore()).Download(context.Background(), "tiny", nil); wire.AsError(err).Code != wire.CodeNetwork {
		t.Errorf("offline with nothing stored: %v, want network_error", err)
	}
}

func TestDownloadNewRevisionPrunesOld(t *testing.T) {
	_, fsys1 := fixture(t, "tiny", 3000, 1000, 8)
	m2, fsys2 := fixture(t, "tiny", 2000, 1000, 9)
	s := newServer(t, fsys1)
	mem := &modelstore.Memory{}
	store := &modelstore.Store{Cache: mem, Hash: modelstore.SHA256}
	if _, err := newDownloader(s, store).Download(context.Background(), "tiny", nil); err != nil {
		t.Fatal(err)
	}
	s.set(nil, delivery.New(delivery.Options{Models: fsys2}))
	if _, err := newDownloader(s, store).Download(context.Background(), "tiny", nil); err != nil {
		t.Fatal(err)
	}
	keys, _ := mem.Keys(context.Background())
	for _, k := range keys {
		if !strings.Contains(k, m2.Revision) && k != modelstore.IndexKey {
			t.Errorf("old revision entry %s kept", k)
		}
	}
	if e, err := store.ReadyEntry(context.Background(), "tiny"); err != nil || e == nil || e.Revision != m2.Revision {
		t.Errorf("the index after the update: %+v (%v), want %s", e, err, m2.Revision)
	}
	if mem.Used() > 2000+4096 {
		t.Errorf("store holds %d bytes after pruning", mem.Used())
	}
}

func TestDownloadUnknownModel(t *testing.T) {
	_, fsys := fixture(t, "tiny", 1000, 1000, 10)
	s := newServer(t, fsys)
	_, err := newDownloader(s, newStore()).Download(context.Background(), "other", nil)
	if wire.AsError(err).Code != wire.CodeModelMissing {
		t.Errorf("got %v, want model_not_found", err)
	}
	if len(s.requests("other")) != 1 {
		t.Errorf("a 404 was retried: %q", s.requests("other"))
	}
}

func TestDownloadStalledTransferIsRetried(t *testing.T) {
	_, fsys := fixture(t, "tiny", 4000, 2000, 12)
	s := newServer(t, fsys)
	var once atomic.Bool
	s.set(func(w http.ResponseWriter, r *http.Request) bool {
		if strings.HasSuffix(r.URL.Path, "0001.bin") && !once.Swap(true) {
			// Half the shard, then silence: the connection stays open.
			b := fsys["tiny/"+strings.TrimPrefix(r.URL.Path, "/models/tiny/")].Data
			w.Header().Set("Content-Length", "2000")
			w.Write(b[:700])
			w.(http.Flusher).Flush()
			<-r.Context().Done()
			return true
		}
		return false
	}, nil)
	d := newDownloader(s, newStore())
	d.StallTimeout = 200 * time.Millisecond
	if _, err := d.Download(context.Background(), "tiny", nil); err != nil {
		t.Fatal(err)
	}
	if got := s.requests("0001.bin"); len(got) != 2 || !strings.HasSuffix(got[1], "bytes=700-") {
		t.Errorf("shard 1 requests %q, want a resumed Range request after the stall", got)
	}
}
