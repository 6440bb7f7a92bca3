package server_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"aisle/api/delivery"
	"aisle/api/internal/testkit"
	"aisle/api/server"
)

// TestInvalidPathsAreQuiet: paths with a NUL or other control character or
// invalid UTF-8, in the app served from disk or in the API, answer 400 or
// 404 and log nothing at WARN or above (app paths are not rate-limited).
func TestInvalidPathsAreQuiet(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "index.html"), []byte("<!doctype html>"), 0o644); err != nil {
		t.Fatal(err)
	}
	logs := &testkit.LogBuffer{}
	log := logs.Logger(slog.LevelWarn)
	e := newEnv(t, sqliteDB, server.Config{Logger: log, Fallback: delivery.New(delivery.Options{App: os.DirFS(dir), Logger: log})})
	for _, p := range []string{"/index.html%00.png", "/%00", "/%01", "/a%0Ab", "/%7F", "/%FF", "/%C3%28.js", "/index.html/x",
		"/v1/stores/%00/checkpoint", "/v1/stores/demo%FF/changes", "/v1/%00"} {
		r := e.do("GET", p, "", nil)
		if r.Status != http.StatusNotFound && r.Status != http.StatusBadRequest {
			t.Errorf("GET %s: status %d, want 400 or 404", p, r.Status)
		}
	}
	e.do("GET", "/", "", nil).want(t, http.StatusOK)
	if s := logs.String(); s != "" {
		t.Errorf("logged:\n%s", s)
	}
}

// TestSlowBodyIsCutOff: a client that trickles a request body is cut off
// after Config.BodyTimeout, whether or not the handler reads the body.
func TestSlowBodyIsCutOff(t *testing.T) {
	e := newEnv(t, sqliteDB, server.Config{BodyTimeout: 300 * time.Millisecond})
	for _, tc := range []struct {
		name, auth string
		want       int
	}{
		{"unauthenticated", "", http.StatusUnauthorized}, // body never read by a handler
		{"admin", "Authorization: Bearer " + e.Admin + "\r\n", http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn, err := net.Dial("tcp", e.HTTP.Listener.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			// Far below the server's other limits, far above BodyTimeout.
			conn.SetReadDeadline(time.Now().Add(20 * time.Second))
			fmt.Fprintf(conn, "POST /v1/admin/stores HTTP/1.1\r\nHost: x\r\n%sContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{", tc.auth)
			stop := make(chan struct{})
			defer close(stop)
			go func() { // one byte every 20ms: the body would take 20s
				tick := time.NewTicker(20 * time.Millisecond)
				defer tick.Stop()
				for {
					select {
					case <-stop:
						return
					case <-tick.C:
						if _, err := conn.Write([]byte(" ")); err != nil {
							return
						}
					}
				}
			}()
			br := bufio.NewReader(conn)
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Fatalf("no response: %v", err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Errorf("status %d, want %d", resp.StatusCode, tc.want)
			}
			// The server closes the connection rather than wait for the rest.
			_, err = io.Copy(io.Discard, br)
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatalf("connection still open: %v", err)
			}
		})
	}
}

// TestRequestID: a well-formed X-Request-Id is echoed and logged; any other
// (too long, odd characters) is replaced by a fresh one and never logged.
func TestRequestID(t *testing.T) {
	logs := &testkit.LogBuffer{}
	e := newEnv(t, sqliteDB, server.Config{Logger: logs.Logger(slog.LevelDebug)})
	good := "req-42.a_b:C"
	if got := e.do("GET", "/healthz", "", nil, "X-Request-Id", good).want(t, 200).Header.Get("X-Request-Id"); got != good {
		t.Errorf("well-formed ID came back as %q", got)
	}
	if !strings.Contains(logs.String(), good) {
		t.Errorf("well-formed ID not logged:\n%s", logs)
	}
	wellFormed := regexp.MustCompile(`^[A-Za-z0-9._:-]{1,128}$`)
	for _, bad := range []string{strings.Repeat("a", 129), strings.Repeat("x", 5000), "a b", "a\"b", "<script>", "é"} {
		got := e.do("GET", "/healthz", "", nil, "X-Request-Id", bad).want(t, 200).Header.Get("X-Request-Id")
		if got == bad || !wellFormed.MatchString(got) {
			t.Errorf("X-Request-Id %.20q came back as %.40q", bad, got)
		}
		if strings.Contains(logs.String(), bad) {
			t.Errorf("X-Request-Id %.20q was logged", bad)
		}
	}
	if a, b := e.do("GET", "/healthz", "", nil).Header.Get("X-Request-Id"), e.do("GET", "/healthz", "", nil).Header.Get("X-Request-Id"); a == b || !wellFormed.MatchString(a) {
		t.Errorf("made-up IDs %q and %q", a, b)
	}
}

// TestHEADAnswersLikeGET: HEAD on a GET route of the API has the GET's
// status and headers and no body.
func TestHEADAnswersLikeGET(t *testing.T) {
	e := newEnv(t, sqliteDB, server.Config{})
	for _, tc := range []struct{ path, token string }{
		{"/healthz", ""},
		{"/v1/openapi.json", ""},
		{"/v1/stores", ""},
		{"/v1/stores/demo/checkpoint", ""},
		{"/v1/stores/demo/changes", ""},
		{"/v1/stores/nope/checkpoint", ""},
		{"/v1/stores/demo/events", ""},
		{"/v1/stores/demo/qr.svg", ""},
		{"/v1/stores/demo/qr.png", ""},
		{"/v1/stores/demo/poster", ""},
		{"/v1/stores/nope/poster", ""},
		{"/v1/admin/stores", e.Admin},
		{"/v1/admin/products/MILK-1L", e.Admin},
		{"/v1/admin/products", ""},
	} {
		get := e.headers("GET", tc.path, tc.token)
		head := e.headers("HEAD", tc.path, tc.token)
		if head.status != get.status || head.body != 0 {
			t.Errorf("HEAD %s: status %d with %d body bytes; GET: %d", tc.path, head.status, head.body, get.status)
		}
		for _, h := range []string{"Content-Type", "ETag", "Cache-Control", "Content-Security-Policy", "WWW-Authenticate"} {
			if head.header.Get(h) != get.header.Get(h) {
				t.Errorf("HEAD %s: %s %q; GET: %q", tc.path, h, head.header.Get(h), get.header.Get(h))
			}
		}
	}
	// A HEAD of the push stream ends at once: it holds no subscription.
	deadline := time.Now().Add(5 * time.Second)
	for e.Srv.Hub().Subscribers("demo") != 0 {
		if time.Now().After(deadline) {
			t.Fatal("a push stream outlived its request")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

type headResult struct {
	status int
	header http.Header
	body   int
}

// headers sends a request and reads the body, up to 64 KiB, unless it is a
// push stream (which never ends); then it hangs up.
func (e *env) headers(method, path, token string) headResult {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, method, e.URL+path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	var n int
	if method == "HEAD" || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		n = len(b)
	}
	return headResult{resp.StatusCode, resp.Header, n}
}

// TestBodyDeadlineEndsWithTheBody: once a handler has read the whole body,
// the body deadline no longer applies: work after it, ten times longer
// than BodyTimeout, keeps its request context.
func TestBodyDeadlineEndsWithTheBody(t *testing.T) {
	const bodyTimeout = 100 * time.Millisecond
	slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.ReadAll(r.Body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		select {
		case <-r.Context().Done():
			http.Error(w, "request context canceled", http.StatusServiceUnavailable)
		case <-time.After(10 * bodyTimeout):
			w.WriteHeader(http.StatusNoContent)
		}
	})
	e := newEnv(t, sqliteDB, server.Config{BodyTimeout: bodyTimeout, Mounts: map[string]http.Handler{"/slow/": slow}})
	e.do("POST", "/slow/work", "", "payload").want(t, http.StatusNoContent)
}
