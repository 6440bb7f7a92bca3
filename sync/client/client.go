// Package client speaks the sync protocol over HTTP: it is the
// replica.Source of native tools, tests and the Go-WASM replica in the
// browser (where net/http runs on fetch), and it reads the push stream.
package client

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"aisle/sync/catalog"
	"aisle/sync/replica"
	"aisle/sync/wire"
)

// DefaultMaxBody bounds a response body read into memory.
const DefaultMaxBody = 64 << 20

// Client talks to one aisle server.
type Client struct {
	// BaseURL is the server's origin, e.g. "http://127.0.0.1:8080" (in a
	// browser, "" means the page's own origin).
	BaseURL string
	// Token is an API token ("" for an anonymous customer device).
	Token string
	// Device is the installation's anonymous device ID (wire.NewDeviceID),
	// sent as wire.HeaderDevice on sync requests; "" sends none.
	Device string
	// HTTP is the client to use (nil: http.DefaultClient).
	HTTP *http.Client
	// MaxBody bounds response bodies (0: DefaultMaxBody).
	MaxBody int64
}

var _ replica.Source = (*Client)(nil)

func (c *Client) http() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return http.DefaultClient
}

func (c *Client) newRequest(ctx context.Context, path string, q url.Values) (*http.Request, error) {
	return c.newRequestBody(ctx, http.MethodGet, path, q, nil)
}

func (c *Client) newRequestBody(ctx context.Context, method, path string, q url.Values, body io.Reader) (*http.Request, error) {
	u := strings.TrimSuffix(c.BaseURL, "/") + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, catalog.Wrap(err, catalog.Invalid, "bad server URL")
	}
	req.Header.Set(wire.HeaderProtocol, strconv.Itoa(wire.ProtocolVersion))
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	if c.Device != "" && strings.HasPrefix(path, "/v1/stores/") {
		req.Header.Set(wire.HeaderDevice, c.Device)
	}
	return req, nil
}

// do sends req and returns the response of a 2xx status; errors are
// *catalog.Error: the server's own for error bodies, Unavailable for
// network failures and 5xx without a body.
func (c *Client) do(req *http.Request) (*http.Response, error) {
	resp, err := c.http().Do(req)
	if err != nil {
		if ctxErr := req.Context().Err(); ctxErr != nil {
			return nil, ctxErr
		}
		return nil, catalog.Wrap(err, catalog.Unavailable, "cannot reach the server")
	}
	if resp.StatusCode/100 == 2 {
		if v := resp.Header.Get(wire.HeaderProtocol); v != "" {
			if n, err := strconv.Atoi(v); err != nil || n < wire.MinProtocolVersion || n > wire.ProtocolVersion {
				resp.Body.Close()
				return nil, catalog.Errorf(catalog.Unsupported, "server answered with protocol %q; this client speaks %d..%d", v, wire.MinProtocolVersion, wire.ProtocolVersion)
			}
		}
		return resp, nil
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	var eb wire.ErrorBody
	if json.Unmarshal(body, &eb) == nil && eb.Error.Code != "" {
		ce := &catalog.Error{Code: catalog.Code(eb.Error.Code), Message: eb.Error.Message}
		for _, f := range eb.Error.Fields {
			ce.Fields = append(ce.Fields, catalog.FieldError(f))
		}
		return nil, ce
	}
	code := catalog.Unavailable
	if resp.StatusCode/100 == 4 {
		code = catalog.Invalid
	}
	return nil, catalog.Errorf(code, "server answered %s", resp.Status)
}

func (c *Client) getJSON(ctx context.Context, path string, q url.Values, v any) error {
	req, err := c.newRequest(ctx, path, q)
	if err != nil {
		return err
	}
	resp, err := c.do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	max := c.MaxBody
	if max <= 0 {
		max = DefaultMaxBody
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, max+1))
	if err != nil {
		// The connection broke mid-body.
		return catalog.Wrap(err, catalog.Unavailable, "response from %s cut short", path)
	}
	if int64(len(body)) > max {
		return catalog.Errorf(catalog.TooLarge, "response from %s exceeds %d bytes", path, max)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return catalog.Wrap(err, catalog.Invalid, "malformed or truncated response from %s", path)
	}
	return nil
}

func storePath(store, rest string) string { return "/v1/stores/" + url.PathEscape(store) + rest }

// Checkpoint implements replica.Source.
func (c *Client) Checkpoint(ctx context.Context, store string) (wire.Checkpoint, error) {
	var cp wire.Checkpoint
	err := c.getJSON(ctx, storePath(store, "/checkpoint"), nil, &cp)
	return cp, err
}

// Changes implements replica.Source.
func (c *Client) Changes(ctx context.Context, r wire.ChangesRequest) (wire.Page, error) {
	q := url.Values{}
	q.Set("since", strconv.FormatInt(r.Since, 10))
	q.Set("target", strconv.FormatInt(r.Target, 10))
	q.Set("after", strconv.FormatInt(r.After, 10))
	if r.Limit > 0 {
		q.Set("limit", strconv.Itoa(r.Limit))
	}
	var p wire.Page
	err := c.getJSON(ctx, storePath(r.Store, "/changes"), q, &p)
	return p, err
}

// Watch reads the store's push stream and calls fn for each event, until
// ctx ends (returns ctx.Err()) or the stream breaks (returns an
// Unavailable error; call Watch again, after a pause, to reconnect).
func (c *Client) Watch(ctx context.Context, store string, fn func(wire.Event)) error {
	req, err := c.newRequest(ctx, storePath(store, "/events"), nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "text/event-stream")
	resp, err := c.do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	err = ReadEvents(resp.Body, func(typ string, data []byte) error {
		// In the browser a canceled fetch may still deliver what was
		// buffered: nothing reaches fn once ctx is done.
		if err := ctx.Err(); err != nil {
			return err
		}
		var ev wire.Event
		if err := json.Unmarshal(data, &ev); err != nil {
			return catalog.Wrap(err, catalog.Invalid, "malformed %s event", typ)
		}
		fn(ev)
		return nil
	})
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err == nil || errors.Is(err, io.ErrUnexpectedEOF) {
		err = catalog.Errorf(catalog.Unavailable, "push stream ended")
	}
	return err
}

// MaxEventSize bounds one server-sent event.
const MaxEventSize = 64 << 10

// ReadEvents parses a text/event-stream body and calls fn for every event
// with data (comments and retry lines are skipped). It returns fn's first
// error, a parse error for over-long events, or nil at end of stream.
func ReadEvents(r io.Reader, fn func(typ string, data []byte) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 4096), MaxEventSize)
	typ, data, has := "message", []byte(nil), false
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			if has {
				if err := fn(typ, data); err != nil {
					return err
				}
			}
			typ, data, has = "message", nil, false
			continue
		}
		if strings.HasPrefix(line, ":") {
			continue
		}
		field, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch field {
		case "event":
			typ = value
		case "data":
			if has {
				data = append(data, '\n')
			}
			data, has = append(data, value...), true
			if len(data) > MaxEventSize {
				return catalog.Errorf(catalog.Invalid, "event larger than %d bytes", MaxEventSize)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read event stream: %w", err)
	}
	return nil
}
