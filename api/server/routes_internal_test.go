package server

import (
	"context"
	"net/http"
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
