package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"aisle/api/store"
	"aisle/sync/catalog"
	"aisle/sync/wire"
)

// negotiate settles the protocol version from the Aisle-Protocol request
// header (absent: the newest) and echoes it on the response.
func (s *Server) negotiate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		v := wire.ProtocolVersion
		if h := c.Request().Header.Get(wire.HeaderProtocol); h != "" {
			peer, err := strconv.Atoi(h)
			if err != nil {
				return catalog.Errorf(catalog.Invalid, "%s must be an integer", wire.HeaderProtocol)
			}
			var ok bool
			if v, ok = wire.Negotiate(peer); !ok {
				return catalog.Errorf(catalog.Unsupported, "protocol %d is not supported; this server speaks %d..%d", peer, wire.MinProtocolVersion, wire.ProtocolVersion)
			}
		}
		c.Set(protocolKey, v)
		c.Response().Header().Set(wire.HeaderProtocol, strconv.Itoa(v))
		c.Response().Header().Add(echo.HeaderVary, wire.HeaderProtocol)
		return next(c)
	}
}

const protocolKey = "aisle.protocol"

// protocolOf is the protocol version negotiated for the request.
func protocolOf(c echo.Context) int {
	if v, ok := c.Get(protocolKey).(int); ok {
		return v
	}
	return wire.ProtocolVersion
}

// listPublicStores lists every store's public record (for a device choosing
// its store).
func (s *Server) listPublicStores(c echo.Context) error {
	after := c.QueryParam("after")
	limit, err := queryInt(c, "limit", store.DefaultListLimit, 1, store.MaxListLimit)
	if err != nil {
		return err
	}
	items, next, err := s.store.List(c.Request().Context(), store.Stores, store.ListQuery{After: after, Limit: int(limit)})
	if err != nil {
		return err
	}
	out := listBody{Items: make([]json.RawMessage, 0, len(items)), Next: next}
	for _, it := range items {
		out.Items = append(out.Items, it.Data) // catalog.Store has no staff fields
	}
	return s.jsonCached(c, out)
}

func (s *Server) storeParam(c echo.Context) (string, error) {
	id := c.Param("store")
	if !catalog.ValidID(id) {
		return "", catalog.Errorf(catalog.Invalid, "bad store id")
	}
	return id, nil
}

// getCheckpoint returns the latest checkpoint; a store with none is 404
// only if the store itself does not exist.
func (s *Server) getCheckpoint(c echo.Context) error {
	id, err := s.storeParam(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	cp, err := s.store.Checkpoint(ctx, id)
	if err != nil {
		return err
	}
	if cp.Seq == 0 {
		if _, err := s.store.Get(ctx, store.Stores, id); err != nil {
			return err
		}
	}
	body, err := json.Marshal(cp)
	if err != nil {
		return catalog.Wrap(err, catalog.Internal, "encode checkpoint")
	}
	c.Response().Header().Set("Cache-Control", "no-cache")
	return s.writeTagged(c, fmt.Sprintf(`"cp-%s-%d-%d"`, principalOf(c).audience(id), cp.Seq, cp.Version), body)
}

// getChanges serves one page. Pages are immutable for their parameters
// (see wire.Page), so the ETag is computed from the parameters alone and a
// matching If-None-Match is answered without touching the database. The
// negotiated protocol version is one of them: pages of two versions never
// share a cache entry or an ETag.
func (s *Server) getChanges(c echo.Context) error {
	id, err := s.storeParam(c)
	if err != nil {
		return err
	}
	req := wire.ChangesRequest{Store: id}
	if req.Since, err = queryInt(c, "since", 0, 0, wire.MaxVersion); err != nil {
		return err
	}
	if req.Target, err = queryInt(c, "target", -1, 0, wire.MaxVersion); err != nil {
		return err
	}
	if req.Target < 0 {
		return catalog.Errorf(catalog.Invalid, "target (a checkpoint version) is required")
	}
	if req.After, err = queryInt(c, "after", 0, 0, wire.MaxVersion); err != nil {
		return err
	}
	limit, err := queryInt(c, "limit", wire.DefaultPageLimit, 1, wire.MaxPageLimit)
	if err != nil {
		return err
	}
	req.Limit = int(limit)
	aud := principalOf(c).audience(id)
	protocol := protocolOf(c)
	key := fmt.Sprintf("%d|%s|%s|%d|%d|%d|%d", protocol, aud, id, req.Since, req.Target, req.After, req.Limit)
	sum := sha256.Sum256([]byte(key))
	etag := `"p-` + hex.EncodeToString(sum[:12]) + `"`
	h := c.Response().Header()
	h.Set("Cache-Control", "private, max-age=86400, immutable")
	if wire.ETagMatch(c.Request().Header.Get("If-None-Match"), etag) {
		h.Set("ETag", etag)
		h.Add(echo.HeaderVary, echo.HeaderAuthorization)
		return c.NoContent(http.StatusNotModified)
	}
	cp, ok := s.pages.get(key)
	if ok {
		cp.reused()
	} else {
		// When a checkpoint is pushed, every device of the store asks for
		// the same pages at once: one query answers them all.
		v, err, _ := s.flight.Do(key, func() (any, error) {
			// Not canceled with the first requester: others may wait on it.
			ctx, cancel := context.WithTimeout(context.WithoutCancel(c.Request().Context()), s.cfg.RequestTimeout)
			defer cancel()
			page, err := s.store.Changes(ctx, req, aud, protocol)
			if err != nil {
				return nil, err
			}
			p := encodePage(key, wire.AppendPageJSON(nil, page))
			s.pages.put(p)
			return p, nil
		})
		if err != nil {
			h.Del("Cache-Control")
			return err
		}
		cp = v.(*cachedPage)
	}
	h.Set("ETag", etag)
	h.Add(echo.HeaderVary, echo.HeaderAuthorization)
	h.Add(echo.HeaderVary, echo.HeaderAcceptEncoding)
	if gz := cp.gzipped(); gz != nil && acceptsGzip(c.Request().Header.Get(echo.HeaderAcceptEncoding)) {
		h.Set(echo.HeaderContentEncoding, "gzip")
		return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, gz)
	}
	return c.JSONBlob(http.StatusOK, cp.json)
}

// acceptsGzip reports whether an Accept-Encoding header allows gzip
// (listed, and not with q=0).
func acceptsGzip(h string) bool {
	for _, part := range strings.Split(h, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(name), "gzip") {
			continue
		}
		for _, p := range strings.Split(params, ";") {
			k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
			if strings.EqualFold(k, "q") {
				if q, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil && q == 0 {
					return false
				}
			}
		}
		return true
	}
	return false
}

// events is the push stream: text/event-stream with a "hello" event
// carrying the current checkpoint, then a "checkpoint" event whenever one
// is published for the store, and a comment line every HeartbeatInterval.
// A stream opened with a token ends as soon as this server revokes the
// token; reconnecting with it then gets 401.
func (s *Server) events(c echo.Context) error {
	id, err := s.storeParam(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	if _, err := s.store.Get(ctx, store.Stores, id); err != nil {
		return err
	}
	if s.hub.Streams() >= s.cfg.MaxStreams {
		return catalog.Errorf(catalog.Unavailable, "too many push streams; poll the checkpoint instead")
	}
	s.noteDevice(c, id)
	p := principalOf(c)
	sub := s.hub.Subscribe(id, p.tokenID())
	defer sub.Cancel()
	if p.token != nil {
		// A revocation committed since authenticate read the token found
		// no stream to end: look again. One committed after this look
		// finds the subscription (revokeToken).
		if _, err := s.checkToken(ctx, p.hash); err != nil {
			return err
		}
	}
	// A token that expires ends its streams then.
	var expiry <-chan time.Time
	if p.token != nil && p.token.ExpiresAt != nil {
		tm := time.NewTimer(p.token.ExpiresAt.Sub(s.now()))
		defer tm.Stop()
		expiry = tm.C
	}
	cp, err := s.store.Checkpoint(ctx, id)
	if err != nil {
		return err
	}
	w := c.Response()
	h := w.Header()
	h.Set(echo.HeaderContentType, "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	if c.Request().Method == http.MethodHead {
		return nil // the stream's headers, not a stream
	}
	send := func(typ string, cp wire.Checkpoint) error {
		b, _ := json.Marshal(wire.Event{Type: typ, Checkpoint: cp})
		if _, err := fmt.Fprintf(w, "id: %d\nevent: %s\ndata: %s\n\n", cp.Seq, typ, b); err != nil {
			return err
		}
		w.Flush()
		return nil
	}
	if _, err := fmt.Fprint(w, "retry: 5000\n\n"); err != nil {
		return nil
	}
	if err := send(wire.EventHello, cp); err != nil {
		return nil
	}
	s.hub.Seen(id, cp.Seq)
	last := cp.Seq
	beat := time.NewTicker(HeartbeatInterval)
	defer beat.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-s.base.Done():
			return nil
		case <-expiry:
			return nil
		case cp, ok := <-sub.C:
			if !ok {
				return nil
			}
			if cp.Seq <= last {
				continue // published before the hello was read
			}
			last = cp.Seq
			if err := send(wire.EventCheckpoint, cp); err != nil {
				return nil
			}
		case <-beat.C:
			if _, err := fmt.Fprint(w, ": ping\n\n"); err != nil {
				return nil
			}
			w.Flush()
		}
	}
}

// HeartbeatInterval keeps idle push streams alive through proxies.
var HeartbeatInterval = 25 * time.Second

// publish seals a store's changes now (price correction, recall).
func (s *Server) publish(c echo.Context) error {
	id, err := s.storeParam(c)
	if err != nil {
		return err
	}
	cp, err := s.publishStore(c.Request().Context(), s.actor(c), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, cp)
}

// publishStore publishes a manual checkpoint of store id now and tells its
// devices (the API's publish, the store import's ?publish=true and the
// admin console's "Publish now").
func (s *Server) publishStore(ctx context.Context, a store.Actor, id string) (wire.Checkpoint, error) {
	cp, _, err := s.store.Publish(ctx, a, id, wire.ReasonManual, "")
	if err != nil {
		return wire.Checkpoint{}, err
	}
	s.hub.Broadcast(cp)
	return cp, nil
}
