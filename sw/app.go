package sw

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"aisle/sync/published"
	"aisle/worker/browser/modelstore"
	"aisle/worker/browser/wire"
)

// InternalHost is the host of the lifecycle requests that the service worker's JavaScript sends
// to Go (https://aisle.internal/install and /activate). Fetch events from pages never reach Go
// with this host: the shim forwards only same-origin requests.
const InternalHost = "aisle.internal"

// App routes every request the service worker hands to Go:
//
//	POST https://aisle.internal/install    precache the shell (install event)
//	POST https://aisle.internal/activate   delete outdated caches (activate event)
//	/v1/chat/completions, /v1/models        the OpenAI-compatible API (API); the shim sends no other
//	                                       /v1/ path here: those belong to the server's sync API
//	GET  /aisle/download?model=ID          download a model; server-sent Progress events
//	GET  /aisle/status                     models on the device and storage use (Status)
//	POST /aisle/clear[?model=ID]           delete stored models
//	/aisle/conversations[/ID]?store=ID     the customer's conversations on the device (Conversations)
//	GET  anything else                     the app shell (Shell)
type App struct {
	API        *API
	Shell      *Shell
	Downloader *Downloader
	Store      *modelstore.Store
	// Conversations keeps the conversations on the device; nil answers 404.
	Conversations *Conversations
	// Estimate reports the origin's storage use and quota in bytes (navigator.storage.estimate);
	// nil leaves them out of Status.
	Estimate func(ctx context.Context) (usage, quota int64, err error)
	// Lock, when set, serialises downloads of one model across tabs (navigator.locks): a second
	// download waits, then finds the shards stored.
	Lock func(ctx context.Context, name string) (release func(), err error)
	// ClientGone, when set, reports whether the page with the given client ID has gone away; a
	// request whose page is gone is cancelled (ClientHeader names the page).
	ClientGone func(ctx context.Context, clientID string) bool
}

// ClientHeader carries the ID of the page (service worker client) that asked for a download.
const ClientHeader = "X-Aisle-Client"

// StoreModels lists the complete models of a Store as ready for the API.
type StoreModels struct{ Store *modelstore.Store }

// ReadyModels implements ModelLister.
func (s StoreModels) ReadyModels(ctx context.Context) ([]ReadyModel, error) {
	list, err := s.Store.List(ctx)
	if err != nil {
		return nil, err
	}
	var out []ReadyModel
	for _, st := range list {
		if st.Complete {
			out = append(out, ReadyModel{ID: st.Manifest.ID, Revision: st.Manifest.Revision, Created: st.CompletedAt})
		}
	}
	return out, nil
}

// ReadyModel implements ModelLister with the store's index of complete models (one read).
func (s StoreModels) ReadyModel(ctx context.Context, id string) (*ReadyModel, error) {
	e, err := s.Store.ReadyEntry(ctx, id)
	if err != nil || e == nil {
		return nil, err
	}
	return &ReadyModel{ID: e.ID, Revision: e.Revision, Created: e.CompletedAt}, nil
}

func (a *App) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if id := r.Header.Get(ClientHeader); id != "" && a.ClientGone != nil {
		ctx, cancel := context.WithCancel(r.Context())
		defer cancel()
		go a.watchClient(ctx, cancel, id)
		r = r.WithContext(ctx)
	}
	p := r.URL.Path
	switch {
	case r.URL.Host == InternalHost:
		a.lifecycle(w, r)
	case strings.HasPrefix(p, "/v1/"):
		a.API.ServeHTTP(w, r)
	case p == "/aisle/download":
		a.download(w, r)
	case p == "/aisle/status":
		a.status(w, r)
	case p == "/aisle/clear":
		a.clear(w, r)
	case (p == "/aisle/conversations" || strings.HasPrefix(p, "/aisle/conversations/")) && a.Conversations != nil:
		a.Conversations.ServeHTTP(w, r)
	case r.Method == http.MethodGet || r.Method == http.MethodHead:
		a.Shell.ServeHTTP(w, r)
	default:
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

// watchClient cancels a request once its page is gone: a browser may leave the response stream
// of a vanished page open, and a download or a generation would go on for nobody.
func (a *App) watchClient(ctx context.Context, cancel context.CancelFunc, id string) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if a.ClientGone(ctx, id) {
				cancel()
				return
			}
		}
	}
}

func (a *App) lifecycle(w http.ResponseWriter, r *http.Request) {
	var err error
	switch r.URL.Path {
	case "/install":
		err = a.Shell.Install(r.Context())
	case "/activate":
		err = a.Shell.Activate(r.Context())
	default:
		http.NotFound(w, r)
		return
	}
	if err != nil {
		writeWireError(w, wire.AsError(err))
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// download streams Progress as server-sent events (`data: {...}`), the last one in state "ready"
// or "error". Closing the stream cancels the download; what was stored stays stored.
func (a *App) download(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("model")
	if !published.ValidID(id) {
		writeError(w, http.StatusBadRequest, "invalid_request_error", "model", wire.CodeInvalid,
			fmt.Sprintf("invalid model id %q", id))
		return
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	events := newEventWriter(w, cancel) // a failed write means the page went away: stop downloading
	defer events.Close(ctx)
	send := func(p Progress) {
		b, _ := json.Marshal(p)
		events.Data(b)
	}
	if a.Lock != nil {
		type locked struct {
			release func()
			err     error
		}
		got := make(chan locked, 1)
		go func() {
			release, err := a.Lock(ctx, "aisle-download-"+id)
			got <- locked{release, err}
		}()
		var l locked
		select {
		case l = <-got:
		case <-time.After(100 * time.Millisecond): // another tab holds it
			send(Progress{Model: id, State: "waiting", ETASeconds: -1})
			l = <-got
		}
		if l.err != nil {
			send(Progress{Model: id, State: "error", Error: wire.Errorf(wire.CodeCancelled, "download cancelled"), ETASeconds: -1})
			return
		}
		defer l.release()
	}
	_, err := a.Downloader.Download(ctx, id, send)
	if err != nil {
		send(Progress{Model: id, State: "error", Error: wire.AsError(err), ETASeconds: -1})
	}
}

// Status is the answer of GET /aisle/status.
type Status struct {
	Models  []ModelStatus `json:"models"`
	Usage   int64         `json:"usage_bytes"` // -1 when unknown
	Quota   int64         `json:"quota_bytes"` // -1 when unknown
	Version string        `json:"version"`     // app shell version of the active service worker
}

// ModelStatus is one stored model revision.
type ModelStatus struct {
	ID           string            `json:"id"`
	Revision     string            `json:"revision"`
	Name         string            `json:"name,omitempty"`
	Ready        bool              `json:"ready"`
	TotalBytes   int64             `json:"total_bytes"`
	StoredBytes  int64             `json:"stored_bytes"`
	Shards       int               `json:"shards"`
	ShardsStored int               `json:"shards_stored"`
	Summary      published.Summary `json:"summary"`
}

func (a *App) status(w http.ResponseWriter, r *http.Request) {
	list, err := a.Store.List(r.Context())
	if err != nil {
		writeWireError(w, wire.AsError(err))
		return
	}
	st := Status{Models: []ModelStatus{}, Usage: -1, Quota: -1, Version: a.Shell.Version}
	for _, m := range list {
		ms := ModelStatus{ID: m.Manifest.ID, Revision: m.Manifest.Revision, Name: m.Manifest.Name, Ready: m.Complete,
			TotalBytes: m.Manifest.Size, StoredBytes: m.BytesStored, Shards: len(m.Manifest.Shards), Summary: m.Manifest.Summary}
		for _, ok := range m.ShardsStored {
			if ok {
				ms.ShardsStored++
			}
		}
		st.Models = append(st.Models, ms)
	}
	if a.Estimate != nil {
		if u, q, err := a.Estimate(r.Context()); err == nil {
			st.Usage, st.Quota = u, q
		}
	}
	writeJSON(w, http.StatusOK, st)
}

func (a *App) clear(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	id := r.URL.Query().Get("model")
	if id != "" && !published.ValidID(id) {
		writeError(w, http.StatusBadRequest, "invalid_request_error", "model", wire.CodeInvalid, fmt.Sprintf("invalid model id %q", id))
		return
	}
	n, err := a.Store.Clear(r.Context(), id)
	if err != nil {
		writeWireError(w, wire.AsError(err))
		return
	}
	writeJSON(w, http.StatusOK, map[string]int{"deleted": n})
}
