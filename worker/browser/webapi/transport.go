//go:build js && wasm

package webapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"syscall/js"
)

// Transport is an http.RoundTripper on the browser's fetch() that sets the request's cache mode,
// which Go's own js transport cannot. The downloader uses "no-store": model shards go to Cache
// Storage only, not a second time into the HTTP cache. Request bodies are not supported (the
// service worker only GETs).
type Transport struct {
	Cache string // fetch cache mode: "default", "no-store", "reload", "no-cache", ...
}

var _ http.RoundTripper = (*Transport)(nil)

// RoundTrip implements http.RoundTripper. Cancelling the request's context aborts the fetch.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil && req.Body != http.NoBody {
		req.Body.Close()
		return nil, errors.New("webapi: Transport does not send request bodies")
	}
	headers := global.Get("Headers").New()
	for k, vs := range req.Header {
		for _, v := range vs {
			headers.Call("append", k, v)
		}
	}
	ac := global.Get("AbortController").New()
	init := js.ValueOf(map[string]any{"method": req.Method, "headers": headers, "cache": t.Cache,
		"signal": ac.Get("signal"), "credentials": "same-origin", "redirect": "follow"})
	ctx := req.Context()
	resp, err := Await(ctx, global.Call("fetch", req.URL.String(), init))
	if err != nil {
		ac.Call("abort")
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("fetch %s: %w", req.URL, err)
	}
	out := &http.Response{
		Status:     strconv.Itoa(resp.Get("status").Int()) + " " + resp.Get("statusText").String(),
		StatusCode: resp.Get("status").Int(),
		Header:     http.Header{},
		Proto:      "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Request: req,
	}
	it := resp.Get("headers").Call("entries")
	for {
		n := it.Call("next")
		if n.Get("done").Bool() {
			break
		}
		kv := n.Get("value")
		out.Header.Add(kv.Index(0).String(), kv.Index(1).String())
	}
	out.ContentLength = -1
	if cl, err := strconv.ParseInt(out.Header.Get("Content-Length"), 10, 64); err == nil {
		out.ContentLength = cl
	}
	body := resp.Get("body")
	if !body.Truthy() {
		out.Body = http.NoBody
		return out, nil
	}
	out.Body = &streamBody{ctx: ctx, reader: body.Call("getReader"), abort: ac}
	return out, nil
}

// streamBody reads a ReadableStream chunk by chunk.
type streamBody struct {
	ctx    context.Context
	reader js.Value
	abort  js.Value
	buf    []byte
	err    error
}

func (b *streamBody) Read(p []byte) (int, error) {
	for len(b.buf) == 0 {
		if b.err != nil {
			return 0, b.err
		}
		r, err := Await(b.ctx, b.reader.Call("read"))
		if err != nil {
			b.abort.Call("abort")
			b.err = err
			if b.ctx.Err() != nil {
				b.err = b.ctx.Err()
			}
			return 0, b.err
		}
		if r.Get("done").Bool() {
			b.err = io.EOF
			return 0, io.EOF
		}
		b.buf = Bytes(r.Get("value"))
	}
	n := copy(p, b.buf)
	b.buf = b.buf[n:]
	return n, nil
}

func (b *streamBody) Close() error {
	if b.err == nil {
		b.err = errors.New("webapi: body closed")
		b.reader.Call("cancel")
	}
	return nil
}
