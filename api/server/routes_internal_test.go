package server

import (
	"context"
	"net/http"
	"strings"
	"testing"
)

// TestEveryGETRouteAnswersHEAD: each GET route of the API has a HEAD route
// on the same path (answered by the same handler, see getAndHead).
func TestEveryGETRouteAnswersHEAD(t *testing.T) {
	s, err := New(nil, Config{PollInterval: -1, NightlyInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown(context.Background())
	head := map[string]bool{}
	for _, r := range s.echo.Routes() {
		if r.Method == http.MethodHead {
			head[r.Path] = true
		}
	}
	n := 0
	for _, r := range s.echo.Routes() {
		if r.Method == http.MethodGet {
			n++
			if !head[r.Path] {
				t.Errorf("GET %s has no HEAD route", r.Path)
			}
		}
	}
	if n < 10 {
		t.Fatalf("only %d GET routes", n)
	}
}

// TestDocumentedRoutesAreRouted: every operation of the OpenAPI document
// has a route with its method and path (the store's QR codes and poster
// included).
func TestDocumentedRoutesAreRouted(t *testing.T) {
	s, err := New(nil, Config{PollInterval: -1, NightlyInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown(context.Background())
	routed := map[string]bool{}
	for _, r := range s.echo.Routes() {
		routed[r.Method+" "+r.Path] = true
	}
	documented := map[string]bool{}
	for _, r := range apiRoutes {
		p := r.path
		for _, seg := range strings.Split(p, "/") {
			if strings.HasPrefix(seg, "{") {
				p = strings.Replace(p, seg, ":"+strings.Trim(seg, "{}"), 1)
			}
		}
		key := strings.ToUpper(r.method) + " " + p
		documented[key] = true
		if !routed[key] {
			t.Errorf("%s is documented but not routed", key)
		}
	}
	for _, key := range []string{"GET /v1/stores/:store/qr.svg", "GET /v1/stores/:store/qr.png", "GET /v1/stores/:store/poster"} {
		if !documented[key] {
			t.Errorf("%s is not documented", key)
		}
	}
}
